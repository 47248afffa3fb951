//! Node pools and the node provisioner.
//!
//! Capacity is tracked per pool in aggregate: a pod fits when the pool's free CPU *and* memory cover its request
//! (node allocatable is already net of kube-reserved, daemonsets and a fragmentation allowance, see
//! `ProvisionerSpec::allocatable_fraction`). That keeps 100k pods cheap while preserving what matters here: how much
//! room a pool has, who holds it, and when new nodes land.
//!
//! The provisioner is a FIFO of node requests. Each request costs one cloud-API call from a token bucket
//! (`api_calls_per_min`); at most `max_concurrent_nodes` boot at once; a node's boot time is drawn from
//! `node_boot_secs`, grows by `backlog_latency_ms_per_node` for every node already queued or booting, and is
//! multiplied by any active slowdown. Many small uncoordinated requests therefore queue behind the API limit and
//! slow each other down: the provisioner stampede.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::TICK_SECS;
use super::layout::Layout;
use super::rng::{SimRng, stream};
use crate::scenario::ProvisionerSpec;

/// A group of nodes that arrived together (`None` = present at t = 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCohort {
    pub arrived_secs: Option<u64>,
    pub count: u32,
}

/// Live state of one pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolState {
    pub nodes: u32,
    pub cohorts: VecDeque<NodeCohort>,
    /// CPU and memory requested by pods placed here (starting, ready, terminating) and by reserve placeholders.
    pub cpu_alloc_millicores: u64,
    pub memory_alloc_mib: u64,
    /// CPU held here per domain (pods only).
    pub cpu_by_domain_millicores: Vec<u64>,
    /// Reserve placeholders ("balloon" pods at the lowest priority), in CPU millicores: wanted and placed.
    pub reserve_target_millicores: u64,
    pub reserve_placed_millicores: u64,
}

impl PoolState {
    pub fn new(nodes: u32, n_domains: usize) -> Self {
        Self {
            nodes,
            cohorts: VecDeque::from([NodeCohort { arrived_secs: None, count: nodes }]),
            cpu_alloc_millicores: 0,
            memory_alloc_mib: 0,
            cpu_by_domain_millicores: vec![0; n_domains],
            reserve_target_millicores: 0,
            reserve_placed_millicores: 0,
        }
    }
}

impl PoolState {
    /// Removes up to `n` nodes, newest first, and reports each cohort taken from (arrival time, count).
    pub fn remove_newest(&mut self, n: u32, mut each: impl FnMut(Option<u64>, u32)) -> u32 {
        let mut left = n.min(self.nodes);
        let removed = left;
        while left > 0 {
            let Some(c) = self.cohorts.back_mut() else { break };
            let k = left.min(c.count);
            c.count -= k;
            left -= k;
            each(c.arrived_secs, k);
            if c.count == 0 {
                self.cohorts.pop_back();
            }
        }
        self.nodes -= removed;
        removed
    }
}

/// Memory held by a reserve placeholder of `cpu` millicores: the node type's memory-to-CPU ratio.
pub fn reserve_memory_mib(cpu_millicores: u64, node_cpu: u64, node_memory_mib: u64) -> u64 {
    cpu_millicores * node_memory_mib / node_cpu.max(1)
}

/// A request for `nodes` nodes in `pool`, as one cloud-API call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRequest {
    pub pool: u8,
    pub nodes: u32,
    pub requested_secs: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Booting {
    ready_secs: u64,
    requested_secs: u64,
    pool: u8,
    count: u32,
}

/// A slowdown window: boots take `factor`× longer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Slowdown {
    pub start_secs: u64,
    pub end_secs: u64,
    pub factor: f64,
}

/// Nodes that finished booting this tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub pool: u8,
    pub count: u32,
    /// Seconds from the request to the node being Ready.
    pub wait_secs: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provisioner {
    spec: ProvisionerSpec,
    tokens: f64,
    queue: VecDeque<NodeRequest>,
    booting: Vec<Booting>,
    pub slowdowns: Vec<Slowdown>,
    /// Nodes requested and not yet admitted, per pool.
    pub queued_by_pool: Vec<u32>,
    /// Nodes booting, per pool.
    pub booting_by_pool: Vec<u32>,
    rng: SimRng,
}

impl Provisioner {
    pub fn new(spec: &ProvisionerSpec, layout: &Layout, seed: u64) -> Self {
        let burst = Self::burst(spec);
        Self {
            spec: spec.clone(),
            tokens: burst,
            queue: VecDeque::new(),
            booting: Vec::new(),
            slowdowns: Vec::new(),
            queued_by_pool: vec![0; layout.pools.len()],
            booting_by_pool: vec![0; layout.pools.len()],
            rng: SimRng::new(seed, stream::PROVISIONER),
        }
    }

    /// The bucket holds ten seconds' worth of calls (at least one).
    fn burst(spec: &ProvisionerSpec) -> f64 {
        (f64::from(spec.api_calls_per_min) / 6.0).max(1.0)
    }

    pub fn queued_nodes(&self) -> u32 {
        self.queued_by_pool.iter().sum()
    }
    pub fn booting_nodes(&self) -> u32 {
        self.booting_by_pool.iter().sum()
    }
    pub fn queued_requests(&self) -> usize {
        self.queue.len()
    }

    pub fn submit(&mut self, request: NodeRequest) {
        if request.nodes == 0 {
            return;
        }
        self.queued_by_pool[request.pool as usize] += request.nodes;
        self.queue.push_back(request);
    }

    fn slowdown_at(&self, t: u64) -> f64 {
        self.slowdowns.iter().filter(|s| s.start_secs <= t && t < s.end_secs).map(|s| s.factor).fold(1.0, f64::max)
    }

    /// One tick: refill the API budget, admit what the budget and concurrency allow, return the nodes that arrived.
    pub fn advance(&mut self, now: u64, arrivals: &mut Vec<Arrival>) {
        arrivals.clear();
        let mut i = 0;
        while i < self.booting.len() {
            let b = self.booting[i];
            if b.ready_secs <= now {
                self.booting.swap_remove(i);
                self.booting_by_pool[b.pool as usize] -= b.count;
                arrivals.push(Arrival { pool: b.pool, count: b.count, wait_secs: now - b.requested_secs });
            } else {
                i += 1;
            }
        }
        // swap_remove scrambles order; arrivals are applied in a canonical order for determinism.
        arrivals.sort_by_key(|a| (a.pool, a.wait_secs, a.count));

        let per_tick = f64::from(self.spec.api_calls_per_min) * TICK_SECS as f64 / 60.0;
        self.tokens = (self.tokens + per_tick).min(Self::burst(&self.spec));
        let slowdown = self.slowdown_at(now);
        while self.tokens >= 1.0 {
            let in_flight = self.booting_nodes();
            let room = self.spec.max_concurrent_nodes.saturating_sub(in_flight);
            let backlog = self.queued_nodes() + in_flight;
            let Some(head) = self.queue.front_mut() else { break };
            if room == 0 {
                break;
            }
            let admitted = head.nodes.min(room);
            let (lo, hi) = self.spec.node_boot_secs;
            let base = f64::from(self.rng.range_u32(lo, hi));
            let extra = f64::from(backlog) * f64::from(self.spec.backlog_latency_ms_per_node) / 1000.0;
            let boot = ((base + extra) * slowdown).round() as u64;
            // Boots finish on a tick boundary.
            let ready_secs = (now + boot).div_ceil(TICK_SECS) * TICK_SECS;
            let pool = head.pool;
            self.booting.push(Booting { ready_secs, requested_secs: head.requested_secs, pool, count: admitted });
            self.booting_by_pool[pool as usize] += admitted;
            self.queued_by_pool[pool as usize] -= admitted;
            head.nodes -= admitted;
            if head.nodes == 0 {
                self.queue.pop_front();
            }
            self.tokens -= 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provisioner(spec: ProvisionerSpec) -> Provisioner {
        Provisioner {
            tokens: Provisioner::burst(&spec),
            spec,
            queue: VecDeque::new(),
            booting: Vec::new(),
            slowdowns: Vec::new(),
            queued_by_pool: vec![0],
            booting_by_pool: vec![0],
            rng: SimRng::new(1, stream::PROVISIONER),
        }
    }

    fn run_until_empty(p: &mut Provisioner, start: u64) -> Vec<(u64, Arrival)> {
        let mut out = Vec::new();
        let mut arrivals = Vec::new();
        let mut t = start;
        while p.queued_nodes() + p.booting_nodes() > 0 && t < start + 10 * 3600 {
            t += TICK_SECS;
            p.advance(t, &mut arrivals);
            out.extend(arrivals.iter().map(|a| (t, *a)));
        }
        out
    }

    #[test]
    fn one_request_lands_within_boot_range() {
        let mut p = provisioner(ProvisionerSpec::default());
        p.submit(NodeRequest { pool: 0, nodes: 3, requested_secs: 0 });
        let arrivals = run_until_empty(&mut p, 0);
        assert_eq!(arrivals.len(), 1);
        let (t, a) = arrivals[0];
        assert_eq!(a.count, 3);
        // 60–150 s boot + 3 × 0.25 s backlog, rounded up to the tick.
        assert!((60..=155).contains(&t), "arrived at {t}");
    }

    #[test]
    fn many_small_requests_are_throttled_by_the_api_budget() {
        let spec = ProvisionerSpec::default();
        let mut burst = provisioner(spec.clone());
        for _ in 0..300 {
            burst.submit(NodeRequest { pool: 0, nodes: 1, requested_secs: 0 });
        }
        let mut batched = provisioner(spec);
        batched.submit(NodeRequest { pool: 0, nodes: 300, requested_secs: 0 });
        let last = |v: &[(u64, Arrival)]| v.iter().map(|(t, _)| *t).max().unwrap_or(0);
        let burst_done = last(&run_until_empty(&mut burst, 0));
        let batched_done = last(&run_until_empty(&mut batched, 0));
        // 300 calls at 60/min take ~5 minutes to get through the API alone.
        assert!(burst_done > 300, "burst finished at {burst_done}");
        assert!(batched_done < burst_done, "batched {batched_done} vs burst {burst_done}");
    }

    #[test]
    fn slowdown_multiplies_boot_time() {
        let mut slow = provisioner(ProvisionerSpec {
            node_boot_secs: (100, 100),
            backlog_latency_ms_per_node: 0,
            ..ProvisionerSpec::default()
        });
        slow.slowdowns.push(Slowdown { start_secs: 0, end_secs: 1000, factor: 3.0 });
        slow.submit(NodeRequest { pool: 0, nodes: 1, requested_secs: 0 });
        let arrivals = run_until_empty(&mut slow, 0);
        assert_eq!(arrivals[0].0, 305, "admitted at t=5, 300 s boot");
    }
}
