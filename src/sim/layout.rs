//! The static shape of a cluster, expanded from a scenario: domains, pools, tiers and every app.
//!
//! Apps are generated per tier from the layout RNG stream, so the same scenario and seed always give the same apps
//! (names, traffic shares, cold starts). Indices are dense and stable: `AppId(i)` is the i-th app in scenario order.

use serde::{Deserialize, Serialize};

use super::rng::{SimRng, stream};
use crate::scenario::{DomainLinks, HpaSpec, Priority, Scenario};

/// Dense index of an app (a Deployment with its HPA).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AppId(pub u32);

/// Dense index of a domain, in scenario order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DomainId(pub u8);

/// Dense index of a node pool, in scenario order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PoolId(pub u8);

#[derive(Clone, Debug)]
pub struct DomainInfo {
    pub id: String,
    pub name: String,
    pub priority: Priority,
    pub priority_weight: f64,
    pub slo_p99_latency_ms: f64,
    pub error_budget_ratio: f64,
    pub timeout_ms: f64,
    /// Inline calls: (callee, requests per request).
    pub calls: Vec<(DomainId, f64)>,
    /// Pools this domain may use, in order of preference.
    pub pools: Vec<PoolId>,
    /// Apps of this domain are `apps.start..apps.end`.
    pub apps: std::ops::Range<u32>,
    pub tiers: std::ops::Range<u32>,
}

#[derive(Clone, Debug)]
pub struct PoolInfo {
    pub name: String,
    /// Usable by pods (node size × allocatable fraction).
    pub node_alloc_cpu_millicores: u64,
    pub node_alloc_memory_mib: u64,
    pub price_per_node_hour: f64,
    pub min_nodes: u32,
    pub max_nodes: u32,
    pub initial_nodes: Option<u32>,
    /// Domains allowed here.
    pub domains: Vec<DomainId>,
}

#[derive(Clone, Debug)]
pub struct TierInfo {
    pub name: String,
    pub domain: DomainId,
    pub apps: std::ops::Range<u32>,
    pub hpa: HpaSpec,
}

#[derive(Clone, Debug)]
pub struct AppInfo {
    pub name: String,
    pub domain: DomainId,
    pub tier: u32,
    /// Fraction of the domain's total request rate this app serves.
    pub share_of_domain: f64,
    pub concurrency_per_pod: u32,
    /// Service rate of one worker, requests per second.
    pub worker_rps: f64,
    /// Capacity of one pod at its CPU request, requests per second.
    pub pod_rps: f64,
    pub cpu_request_millicores: u32,
    pub memory_request_mib: u32,
    pub base_p99_latency_ms: f64,
    pub cold_start_secs: u32,
}

/// What serving reads of an app every tick, packed for the hot loop (copied from [`AppInfo`] and its domain).
#[derive(Clone, Copy, Debug)]
pub struct AppHot {
    pub worker_rps: f64,
    pub pod_rps: f64,
    pub base_p99_latency_ms: f64,
    pub timeout_ms: f64,
    pub concurrency_per_pod: u32,
    pub cpu_request_millicores: u32,
    pub domain: u8,
}

/// The whole static layout.
#[derive(Clone, Debug)]
pub struct Layout {
    pub domains: Vec<DomainInfo>,
    pub pools: Vec<PoolInfo>,
    pub tiers: Vec<TierInfo>,
    pub apps: Vec<AppInfo>,
    /// `apps`, packed for the serving loop.
    pub hot: Vec<AppHot>,
    /// Domains ordered so that every caller comes before its callees.
    pub call_order: Vec<DomainId>,
    /// Inline calls and shared pools between domains: what tells a cascade from a coincidence.
    pub links: DomainLinks,
}

impl Layout {
    /// Expands a *validated* scenario. References were checked by validation; anything unresolved is skipped.
    pub fn build(s: &Scenario, seed: u64) -> Layout {
        let mut rng = SimRng::new(seed, stream::LAYOUT);
        let domain_index = |id: &str| s.domains.iter().position(|d| d.id == id).map(|i| DomainId(i as u8));
        let pools: Vec<PoolInfo> = s
            .pools
            .iter()
            .map(|p| PoolInfo {
                name: p.name.clone(),
                node_alloc_cpu_millicores: (f64::from(p.node_cpu_millicores) * s.provisioner.allocatable_fraction)
                    as u64,
                node_alloc_memory_mib: (f64::from(p.node_memory_mib) * s.provisioner.allocatable_fraction) as u64,
                price_per_node_hour: p.price_per_node_hour,
                min_nodes: p.min_nodes,
                max_nodes: p.max_nodes,
                initial_nodes: p.initial_nodes,
                domains: p.domains.iter().filter_map(|d| domain_index(d)).collect(),
            })
            .collect();

        let mut domains = Vec::new();
        let mut tiers = Vec::new();
        let mut apps = Vec::new();
        for (di, d) in s.domains.iter().enumerate() {
            let domain = DomainId(di as u8);
            let first_app = apps.len() as u32;
            let first_tier = tiers.len() as u32;
            for t in &d.tiers {
                let tier_index = tiers.len() as u32;
                let tier_first = apps.len() as u32;
                // Heavy-tailed split: log-normal weights, normalised within the tier.
                let weights: Vec<f64> = (0..t.apps).map(|_| (d.traffic.app_share_sigma * rng.normal()).exp()).collect();
                let total: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
                let worker_rps = 1000.0 / t.service_time_ms;
                for (k, w) in weights.iter().enumerate() {
                    apps.push(AppInfo {
                        name: format!("{}-{}-{:03}", d.id, t.name, k),
                        domain,
                        tier: tier_index,
                        share_of_domain: t.traffic_share * w / total,
                        concurrency_per_pod: t.concurrency_per_pod,
                        worker_rps,
                        pod_rps: worker_rps * f64::from(t.concurrency_per_pod),
                        cpu_request_millicores: t.cpu_request_millicores,
                        memory_request_mib: t.memory_request_mib,
                        base_p99_latency_ms: t.base_p99_latency_ms,
                        cold_start_secs: rng.range_u32(t.cold_start_secs.0, t.cold_start_secs.1),
                    });
                }
                tiers.push(TierInfo {
                    name: t.name.clone(),
                    domain,
                    apps: tier_first..apps.len() as u32,
                    hpa: t.hpa.clone(),
                });
            }
            domains.push(DomainInfo {
                id: d.id.clone(),
                name: d.name.clone(),
                priority: d.priority,
                priority_weight: d.priority_weight,
                slo_p99_latency_ms: d.slo.p99_latency_ms,
                error_budget_ratio: d.slo.error_budget_ratio,
                timeout_ms: d.slo.timeout_ms,
                calls: d.calls.iter().filter_map(|c| domain_index(&c.to).map(|to| (to, c.ratio))).collect(),
                pools: pools
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.domains.contains(&domain))
                    .map(|(i, _)| PoolId(i as u8))
                    .collect(),
                apps: first_app..apps.len() as u32,
                tiers: first_tier..tiers.len() as u32,
            });
        }

        let call_order = call_order(&domains);
        let links = DomainLinks::of(s);
        let hot = apps
            .iter()
            .map(|a| AppHot {
                worker_rps: a.worker_rps,
                pod_rps: a.pod_rps,
                base_p99_latency_ms: a.base_p99_latency_ms,
                timeout_ms: domains[a.domain.0 as usize].timeout_ms,
                concurrency_per_pod: a.concurrency_per_pod,
                cpu_request_millicores: a.cpu_request_millicores,
                domain: a.domain.0,
            })
            .collect();
        Layout { domains, pools, tiers, apps, hot, call_order, links }
    }

    pub fn domain(&self, id: DomainId) -> &DomainInfo {
        &self.domains[id.0 as usize]
    }

    pub fn app(&self, id: AppId) -> &AppInfo {
        &self.apps[id.0 as usize]
    }

    pub fn domain_index(&self, id: &str) -> Option<DomainId> {
        self.domains.iter().position(|d| d.id == id).map(|i| DomainId(i as u8))
    }

    pub fn pool_index(&self, name: &str) -> Option<PoolId> {
        self.pools.iter().position(|p| p.name == name).map(|i| PoolId(i as u8))
    }
}

/// Topological order, callers first (validation guarantees no cycles; leftovers are appended in index order).
fn call_order(domains: &[DomainInfo]) -> Vec<DomainId> {
    let n = domains.len();
    let mut indegree = vec![0usize; n];
    for d in domains {
        for (to, _) in &d.calls {
            indegree[to.0 as usize] += 1;
        }
    }
    let mut order = Vec::with_capacity(n);
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    ready.reverse();
    while let Some(i) = ready.pop() {
        order.push(DomainId(i as u8));
        for (to, _) in &domains[i].calls {
            let j = to.0 as usize;
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(j);
            }
        }
    }
    for i in 0..n {
        if !order.contains(&DomainId(i as u8)) {
            order.push(DomainId(i as u8));
        }
    }
    order
}
