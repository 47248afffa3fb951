//! The cluster autoscaler: adds nodes for unschedulable pods and removes nodes that stayed empty.
//!
//! Every `scan_interval_secs` it lists unschedulable pods, subtracts what nodes already queued or booting will hold
//! (it assumes they arrive empty), and asks the provisioner for the rest, in the first pool of the pod's domain that
//! can still grow. Two ways of asking:
//! - [`ScaleUpMode::PerWorkload`] (stock): one cloud-API call per pending workload, each rounded up to whole nodes
//!   on its own — the uncoordinated burst that hundreds of HPAs firing together turn into a provisioner stampede;
//! - [`ScaleUpMode::Batched`]: one call per pool per scan, sized for the pool's whole shortfall plus headroom.
//!
//! A controller that holds pods back on purpose (HiRL seats an inline callee before its caller) declares them as
//! deferred demand; the autoscaler buys nodes for them after the pending pods, so holding back costs no lead time.
//!
//! Scale-down: a pool whose removable (empty) node count stayed above zero for `scale_down_unneeded_secs` loses the
//! smallest count seen over that window; never while pods that could use the pool are unschedulable, and never
//! within `scale_down_delay_after_arrival_secs` of nodes last landing in the pool (removal takes the newest nodes
//! first, so a delay as long as the churn window means no node leaves within the window of arriving).

use crate::sim::{Actions, DomainId, Layout, Observation, PoolId, UnschedulableView};

use super::Autoscaler;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScaleUpMode {
    PerWorkload,
    /// Fractional headroom added to each batched request (0.1 = 10%).
    Batched {
        headroom: f64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClusterAutoscalerConfig {
    /// Default 10 s (cluster-autoscaler `--scan-interval`).
    pub scan_interval_secs: u64,
    /// Default 600 s (`--scale-down-unneeded-time`).
    pub scale_down_unneeded_secs: u64,
    /// Default [`ScaleUpMode::PerWorkload`].
    pub mode: ScaleUpMode,
    /// No scale-down in a pool until this long after nodes last arrived in it. Default 0 (off): the stock model
    /// here has no `--scale-down-delay-after-add` (the real default is 10 min after a scale-up request).
    pub scale_down_delay_after_arrival_secs: u64,
}

impl Default for ClusterAutoscalerConfig {
    fn default() -> Self {
        Self {
            scan_interval_secs: 10,
            scale_down_unneeded_secs: 600,
            mode: ScaleUpMode::PerWorkload,
            scale_down_delay_after_arrival_secs: 0,
        }
    }
}

#[derive(Clone)]
pub struct ClusterAutoscaler {
    cfg: ClusterAutoscalerConfig,
    /// Per pool: since when it has had removable nodes, and the fewest seen since.
    unneeded: Vec<Option<(u64, u32)>>,
    /// Per pool: nodes seen at the last scan, and when the count last grew.
    seen_nodes: Vec<Option<u32>>,
    last_arrival_secs: Vec<Option<u64>>,
    domain_pools: Vec<Vec<PoolId>>,
    scratch: Vec<UnschedulableView>,
    /// Demand a controller holds back on purpose, counted as if its pods were pending (see
    /// [`ClusterAutoscaler::set_deferred_demand`]).
    deferred: Vec<DeferredDemand>,
}

/// Pods a controller has not created yet but will as soon as room appears: (domain, CPU millicores, memory MiB).
/// The autoscaler buys nodes for them as for pending pods, after the pods really pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeferredDemand {
    pub domain: DomainId,
    pub cpu_millicores: u64,
    pub memory_mib: u64,
}

impl ClusterAutoscaler {
    pub fn new(layout: &Layout, cfg: ClusterAutoscalerConfig) -> Self {
        Self {
            cfg,
            unneeded: vec![None; layout.pools.len()],
            seen_nodes: vec![None; layout.pools.len()],
            last_arrival_secs: vec![None; layout.pools.len()],
            domain_pools: layout.domains.iter().map(|d| d.pools.clone()).collect(),
            scratch: Vec::new(),
            deferred: Vec::new(),
        }
    }

    /// Replaces the deferred demand; it stands until replaced (an empty list clears it).
    pub fn set_deferred_demand(&mut self, demand: &[DeferredDemand]) {
        self.deferred.clear();
        self.deferred.extend_from_slice(demand);
    }

    fn scale_up(&mut self, obs: &Observation<'_>, out: &mut Actions) {
        let layout = obs.layout();
        let n_pools = layout.pools.len();
        let views: Vec<_> = (0..n_pools).map(|p| obs.pool(PoolId(p as u8))).collect();
        // Room the nodes already on their way will offer, and how far each pool may still grow.
        let mut upcoming_cpu: Vec<u64> =
            views.iter().map(|v| u64::from(v.booting_nodes + v.queued_nodes) * v.node_cpu_millicores).collect();
        let mut upcoming_mem: Vec<u64> =
            views.iter().map(|v| u64::from(v.booting_nodes + v.queued_nodes) * v.node_memory_mib).collect();
        let mut growth: Vec<u32> =
            views.iter().map(|v| v.max_nodes.saturating_sub(v.nodes + v.booting_nodes + v.queued_nodes)).collect();
        let mut batched_cpu = vec![0u64; n_pools];
        let mut batched_mem = vec![0u64; n_pools];

        obs.unschedulable(&mut self.scratch);
        let mut demands: Vec<(usize, u64, u64)> = self
            .scratch
            .iter()
            .map(|u| {
                (
                    u.domain.0 as usize,
                    u64::from(u.pods) * u64::from(u.cpu_request_millicores),
                    u64::from(u.pods) * u64::from(u.memory_request_mib),
                )
            })
            .collect();
        // Held-back pods come after the pending ones: nodes already on their way cover those first.
        demands.extend(self.deferred.iter().map(|d| (d.domain.0 as usize, d.cpu_millicores, d.memory_mib)));
        // Reserve placeholders that found no room are pending pods too (that is how they pull nodes in).
        for (p, v) in views.iter().enumerate() {
            let cpu = obs.unplaced_reserve_millicores(PoolId(p as u8));
            if cpu > 0 {
                // In 128 bits: a large reserve on nodes with much memory per core overflows 64.
                let mem = (u128::from(cpu) * u128::from(v.node_memory_mib) / u128::from(v.node_cpu_millicores.max(1)))
                    .try_into()
                    .unwrap_or(u64::MAX);
                demands.push((usize::MAX - p, cpu, mem));
            }
        }

        for (who, cpu, mem) in demands {
            let candidates: Vec<usize> = if who > usize::MAX - n_pools {
                vec![usize::MAX - who]
            } else {
                self.domain_pools[who].iter().map(|p| p.0 as usize).collect()
            };
            let Some(&pool) = candidates.iter().find(|&&p| growth[p] > 0 || upcoming_cpu[p] > 0) else {
                continue;
            };
            let covered_cpu = cpu.min(upcoming_cpu[pool]);
            let covered_mem = mem.min(upcoming_mem[pool]);
            upcoming_cpu[pool] -= covered_cpu;
            upcoming_mem[pool] -= covered_mem;
            let rest_cpu = cpu - covered_cpu;
            let rest_mem = mem - covered_mem;
            if rest_cpu == 0 && rest_mem == 0 {
                continue;
            }
            match self.cfg.mode {
                ScaleUpMode::PerWorkload => {
                    let v = &views[pool];
                    let nodes = rest_cpu
                        .div_ceil(v.node_cpu_millicores.max(1))
                        .max(rest_mem.div_ceil(v.node_memory_mib.max(1)));
                    let nodes = (nodes.min(u64::from(u32::MAX)) as u32).min(growth[pool]);
                    if nodes > 0 {
                        growth[pool] -= nodes;
                        out.node_requests.push((PoolId(pool as u8), nodes));
                    }
                }
                ScaleUpMode::Batched { .. } => {
                    batched_cpu[pool] += rest_cpu;
                    batched_mem[pool] += rest_mem;
                }
            }
        }
        if let ScaleUpMode::Batched { headroom } = self.cfg.mode {
            for (pool, v) in views.iter().enumerate() {
                if batched_cpu[pool] == 0 && batched_mem[pool] == 0 {
                    continue;
                }
                let by_cpu = batched_cpu[pool] as f64 * (1.0 + headroom) / v.node_cpu_millicores.max(1) as f64;
                let by_mem = batched_mem[pool] as f64 * (1.0 + headroom) / v.node_memory_mib.max(1) as f64;
                let nodes = (by_cpu.max(by_mem).ceil() as u32).min(growth[pool]);
                if nodes > 0 {
                    out.node_requests.push((PoolId(pool as u8), nodes));
                }
            }
        }
    }

    fn scale_down(&mut self, obs: &Observation<'_>, out: &mut Actions) {
        let now = obs.now_secs();
        obs.unschedulable(&mut self.scratch);
        for p in 0..self.unneeded.len() {
            let pool = PoolId(p as u8);
            let nodes = obs.pool(pool).nodes;
            if self.seen_nodes[p].is_some_and(|seen| nodes > seen) {
                self.last_arrival_secs[p] = Some(now);
            }
            self.seen_nodes[p] = Some(nodes);
            let wanted = self.scratch.iter().any(|u| self.domain_pools[u.domain.0 as usize].contains(&pool))
                || self.deferred.iter().any(|d| self.domain_pools[d.domain.0 as usize].contains(&pool))
                || obs.unplaced_reserve_millicores(pool) > 0;
            let removable = obs.pool(pool).removable_nodes;
            if removable == 0 || wanted {
                self.unneeded[p] = None;
                continue;
            }
            let (since, fewest) = match self.unneeded[p] {
                Some((since, fewest)) => (since, fewest.min(removable)),
                None => (now, removable),
            };
            let settled =
                self.last_arrival_secs[p].is_none_or(|a| now - a >= self.cfg.scale_down_delay_after_arrival_secs);
            if now - since >= self.cfg.scale_down_unneeded_secs && settled {
                out.node_removals.push((pool, fewest));
                self.unneeded[p] = None;
            } else {
                self.unneeded[p] = Some((since, fewest));
            }
        }
    }
}

impl Autoscaler for ClusterAutoscaler {
    fn name(&self) -> &str {
        "cluster-autoscaler"
    }

    fn decide(&mut self, obs: &Observation<'_>, out: &mut Actions) {
        if !obs.now_secs().is_multiple_of(self.cfg.scan_interval_secs) {
            return;
        }
        self.scale_up(obs, out);
        self.scale_down(obs, out);
    }

    fn clone_box(&self) -> Box<dyn Autoscaler> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Simulation;

    #[test]
    fn deferred_demand_buys_nodes_like_pending_pods_until_cleared() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        let s = crate::scenario::load_file(&path).expect("small.ron loads");
        let sim = Simulation::new(&s, s.seed);
        let layout = sim.layout().clone();
        let cfg = ClusterAutoscalerConfig { mode: ScaleUpMode::Batched { headroom: 0.0 }, ..Default::default() };
        let mut ca = ClusterAutoscaler::new(&layout, cfg);
        let decide = |ca: &mut ClusterAutoscaler| {
            let mut out = Actions::default();
            ca.decide(&sim.observe(), &mut out);
            out.node_requests
        };
        assert_eq!(decide(&mut ca), vec![], "nothing pending at the start");
        let pool = layout.domains[0].pools[0];
        let node_cpu = sim.observe().pool(pool).node_cpu_millicores;
        let held = DeferredDemand { domain: DomainId(0), cpu_millicores: 10 * node_cpu, memory_mib: 1024 };
        ca.set_deferred_demand(&[held]);
        assert_eq!(decide(&mut ca), vec![(pool, 10)], "ten nodes' CPU held back buys ten nodes in the domain's pool");
        ca.set_deferred_demand(&[]);
        assert_eq!(decide(&mut ca), vec![], "cleared");
    }
}
