//! The Commander's and the Soldiers' observations (DESIGN §6): fixed-length vectors with a name per number, built
//! only from what a controller sees (the lagged [`Observation`]) plus the forecaster's intervals.
//!
//! Contract:
//! - Fixed shapes for any cluster of [`N_DOMAINS`] domains, whatever its app count: tier groups are padded to
//!   [`N_GROUPS`] and the at-risk list to [`TOP_APPS`], with a "present" flag. So networks trained at reduced app
//!   counts run unchanged at full scale.
//! - Every value is finite and roughly unit-scaled (ratios, logs, flags); the networks also standardise them.
//! - Deterministic: ties in the at-risk ranking are broken by app index.
//!
//! The names ([`commander_names`], [`soldier_names`]) are part of the model schema: a model trained on other names is
//! refused.

use crate::agents::forecast::Forecast;
use crate::scenario::{MetricTarget, Priority, Scenario};
use crate::sim::{AppId, AppView, DomainId, Layout, Observation, PoolId};

/// Domains the networks are built for (the reference cluster's five).
pub const N_DOMAINS: usize = 5;
/// Tier groups per Soldier (a domain's tiers, padded; extra tiers share the last group).
pub const N_GROUPS: usize = 8;
/// At-risk apps each Soldier sees and steers individually.
pub const TOP_APPS: usize = 20;

/// A scenario HiRL cannot run: its networks and executor are shaped for exactly [`N_DOMAINS`] domains (a Commander
/// share, urgency and headroom, and a Soldier embedding for each), and padding absent domains or dropping extra ones
/// would feed the networks what they never saw in training. `hirl` and `hirl-teacher` run such a scenario as stock
/// HPA under their fallback names, and `train hirl` refuses it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "scenario {scenario:?} has {domains} domain{s}; the HiRL agents are built for exactly {N_DOMAINS} (one Soldier \
     each)",
    s = if .domains == &1 { "" } else { "s" }
)]
pub struct UnsupportedScenario {
    pub scenario: String,
    pub domains: usize,
}

/// Whether HiRL can run `scenario` (see [`UnsupportedScenario`]).
pub fn check_scenario(scenario: &Scenario) -> Result<(), UnsupportedScenario> {
    match scenario.domains.len() {
        N_DOMAINS => Ok(()),
        domains => Err(UnsupportedScenario { scenario: scenario.name.clone(), domains }),
    }
}

/// Per-domain features, in order (units in the names).
pub const DOMAIN_FEATURES: &[&str] = &[
    "ln_rps",
    "rps_p95_15m_over_now",
    "rps_change_1m_rel",
    "rps_accel_1m_rel",
    "ln_pods",
    "pending_pods_frac",
    "starting_pods_frac",
    "cpu_util",
    "cpu_saturation_over_85pct",
    "p99_over_slo",
    "slo_headroom",
    "errors_over_budget",
    "latency_exposure",
    "alloc_cpu_share_of_cluster",
    "forecast_p80_5m_ln_ratio",
    "forecast_p80_15m_ln_ratio",
    "forecast_p80_30m_ln_ratio",
    "forecast_width_15m_rel",
    "previous_share",
    "budget_use",
    "recent_thrash",
    "priority_rank",
];
pub const N_DOMAIN_FEATURES: usize = DOMAIN_FEATURES.len();

const CLUSTER_FEATURES: &[&str] = &[
    "free_cpu_frac",
    "ln_nodes",
    "incoming_nodes_frac",
    "cost_per_min_rel",
    "previous_reserve_share",
    "reserve_placed_frac",
    "hour_sin",
    "hour_cos",
    "weekday_sin",
    "weekday_cos",
    "weekend",
    "announced_event_ahead",
];

pub const COMMANDER_OBS: usize = N_DOMAINS * N_DOMAIN_FEATURES + N_DOMAINS * N_DOMAINS + CLUSTER_FEATURES.len();
/// Share logits (5 domains + reserve), urgency logits (5), headroom logits (5).
pub const COMMANDER_ACT: usize = N_DOMAINS + 1 + 2 * N_DOMAINS;

const GROUP_FEATURES: &[&str] = &["present", "traffic_share", "cpu_util", "pending_frac", "max_at_risk"];
const APP_FEATURES: &[&str] = &["present", "ln_at_risk", "cpu_util", "p99_over_slo", "pending_frac", "ln_replicas"];
const DIRECTIVE_FEATURES: &[&str] = &["share", "ln_budget_over_alloc", "urgency", "headroom"];

pub const SOLDIER_OBS: usize = N_DOMAIN_FEATURES
    + N_DOMAINS
    + DIRECTIVE_FEATURES.len()
    + N_GROUPS * GROUP_FEATURES.len()
    + TOP_APPS * APP_FEATURES.len();
/// Group logits (8), per-app deltas for the top 20, and the domain level.
pub const SOLDIER_ACT: usize = N_GROUPS + TOP_APPS + 1;

pub fn commander_names() -> Vec<String> {
    let mut out = Vec::with_capacity(COMMANDER_OBS);
    for d in 0..N_DOMAINS {
        out.extend(DOMAIN_FEATURES.iter().map(|f| format!("d{d}.{f}")));
    }
    for from in 0..N_DOMAINS {
        out.extend((0..N_DOMAINS).map(|to| format!("calls.d{from}_to_d{to}")));
    }
    out.extend(CLUSTER_FEATURES.iter().map(|f| format!("cluster.{f}")));
    out
}

pub fn soldier_names() -> Vec<String> {
    let mut out: Vec<String> = DOMAIN_FEATURES.iter().map(|f| format!("domain.{f}")).collect();
    out.extend((0..N_DOMAINS).map(|d| format!("embedding.d{d}")));
    out.extend(DIRECTIVE_FEATURES.iter().map(|f| format!("directive.{f}")));
    for g in 0..N_GROUPS {
        out.extend(GROUP_FEATURES.iter().map(|f| format!("group{g}.{f}")));
    }
    for a in 0..TOP_APPS {
        out.extend(APP_FEATURES.iter().map(|f| format!("top{a}.{f}")));
    }
    out
}

/// The unit (or, for unitless numbers, what they measure) of a feature named by [`commander_names`] or
/// [`soldier_names`], for tables: `d2.ln_rps` → "ln(1 + req/s)". Empty for a name this build does not know.
pub fn feature_unit(name: &str) -> &'static str {
    if name.starts_with("calls.") {
        return "calls per request";
    }
    if name.starts_with("embedding.") {
        return "flag: this domain";
    }
    let last = name.rsplit('.').next().unwrap_or(name);
    match last {
        "ln_rps" => "ln(1 + req/s)",
        "rps_p95_15m_over_now" => "× now",
        "rps_change_1m_rel" => "change per min, × now",
        "rps_accel_1m_rel" => "change of change per min, × now",
        "ln_pods" => "ln(1 + pods)",
        "pending_pods_frac" | "starting_pods_frac" => "fraction of pods",
        "cpu_util" => "fraction of CPU request",
        "cpu_saturation_over_85pct" => "10 × (util − 0.85), ≥ 0",
        "p99_over_slo" => "× SLO",
        "slo_headroom" => "1 − p99/SLO",
        "errors_over_budget" => "× error budget",
        "latency_exposure" => "Σ call share × SLO excess",
        "alloc_cpu_share_of_cluster" | "free_cpu_frac" => "fraction of cluster CPU",
        "forecast_p80_5m_ln_ratio" | "forecast_p80_15m_ln_ratio" | "forecast_p80_30m_ln_ratio" => "ln(p80 / now)",
        "forecast_width_15m_rel" => "(p90 − p10) / p50",
        "previous_share" | "previous_reserve_share" | "share" => "fraction of cluster",
        "budget_use" => "× budget",
        "recent_thrash" => "reversals in 10 min ÷ 10",
        "priority_rank" => "0 = P0 … 1 = P3",
        "ln_nodes" => "ln(1 + nodes)",
        "incoming_nodes_frac" => "× nodes running",
        "cost_per_min_rel" => "ln(cost / minimum cost)",
        "reserve_placed_frac" => "fraction of reserve target",
        "hour_sin" | "hour_cos" | "weekday_sin" | "weekday_cos" => "cyclic, −1…1",
        "weekend" | "announced_event_ahead" | "present" => "flag (0/1)",
        "ln_budget_over_alloc" => "ln(budget / allocated)",
        "urgency" => "0…1",
        "headroom" => "fraction, 0…0.5",
        "traffic_share" => "fraction of domain req/s",
        "pending_frac" => "pending / desired pods",
        "max_at_risk" => "× (max of CPU/target, p99/SLO, pending/desired)",
        "ln_at_risk" => "ln(× at risk)",
        "ln_replicas" => "ln(1 + replicas)",
        _ => "",
    }
}

/// The CPU utilisation target of an app's HPA (fraction), 0.7 when it has no CPU metric.
pub fn cpu_target(layout: &Layout, app: usize) -> f32 {
    let tier = &layout.tiers[layout.apps[app].tier as usize];
    tier.hpa
        .metrics
        .iter()
        .find_map(|m| match m {
            MetricTarget::CpuUtilization { average_utilization } => Some(*average_utilization as f32 / 100.0),
            _ => None,
        })
        .unwrap_or(0.7)
        .clamp(0.1, 1.0)
}

/// How much an app is at risk: max(CPU / target, p99 / SLO, pending / current), from what the controller sees of it.
pub fn at_risk(v: &AppView, cpu_target: f32, slo_ms: f32) -> f32 {
    let cpu = v.cpu_utilization.unwrap_or(0.0) / cpu_target;
    let lat = v.p99_latency_ms / slo_ms.max(1.0);
    let pend = v.pending_pods as f32 / v.desired_replicas.max(1) as f32;
    cpu.max(lat).max(pend)
}

/// What the policy remembers between decisions to build the time-derived features.
#[derive(Clone, Debug)]
pub struct Tracker {
    /// Per domain: observed rps at each minute, newest last (at most 16).
    minute_rps: Vec<Vec<f32>>,
    /// Per domain: times (s) at which the direction of the domain's total replica target changed, last 10 minutes.
    reversals: Vec<Vec<u64>>,
    last_direction: Vec<i8>,
}

impl Tracker {
    pub fn new(n_domains: usize) -> Self {
        Self {
            minute_rps: vec![Vec::new(); n_domains],
            reversals: vec![Vec::new(); n_domains],
            last_direction: vec![0; n_domains],
        }
    }

    /// Called at every minute boundary with the observed domain rates.
    pub fn observe_minute(&mut self, rps: &[f32]) {
        for (h, &r) in self.minute_rps.iter_mut().zip(rps) {
            h.push(r);
            if h.len() > 16 {
                h.remove(0);
            }
        }
    }

    /// Records the direction (+1 up, −1 down) of a domain's scaling at `t_secs`; a change of direction is thrash.
    pub fn record_direction(&mut self, domain: usize, t_secs: u64, direction: i8) {
        if direction == 0 {
            return;
        }
        if self.last_direction[domain] != 0 && self.last_direction[domain] != direction {
            self.reversals[domain].push(t_secs);
        }
        self.last_direction[domain] = direction;
        self.reversals[domain].retain(|&t| t + 600 > t_secs);
    }

    fn thrash(&self, domain: usize) -> f32 {
        self.reversals[domain].len() as f32 / 10.0
    }

    fn rps_stats(&self, domain: usize, now_rps: f32) -> (f32, f32, f32) {
        let h = &self.minute_rps[domain];
        let base = now_rps.max(1e-3);
        let mut sorted: Vec<f32> = h.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f32::total_cmp);
        let p95 = sorted.get(((sorted.len() as f32 * 0.95) as usize).min(sorted.len().saturating_sub(1))).copied();
        let n = h.len();
        let change = |a: usize, b: usize| (h[a] - h[b]) / base;
        let delta = if n >= 2 { change(n - 1, n - 2) } else { 0.0 };
        let prev_delta = if n >= 3 { change(n - 2, n - 3) } else { 0.0 };
        (p95.map_or(1.0, |p| p / base), delta, delta - prev_delta)
    }
}

/// The Commander's standing directive as the Soldiers and the features see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Directive {
    /// Shares of the five domains and the reserve (sum 1).
    pub shares: Vec<f64>,
    /// Per domain, in [0, 1].
    pub urgency: Vec<f64>,
    /// Per domain: extra capacity to request ahead of the forecast, fraction (0–0.5).
    pub headroom: Vec<f64>,
    /// Per domain: the CPU budget, millicores.
    pub budget_millicores: Vec<f64>,
}

impl Directive {
    /// Before the first Commander decision: shares in proportion to what each domain holds, no reserve.
    pub fn initial(obs: &Observation<'_>) -> Directive {
        let n = obs.layout().domains.len();
        let alloc: Vec<f64> =
            (0..n).map(|d| obs.domain(DomainId(d as u8)).cpu_allocated_millicores as f64 + 1.0).collect();
        let total: f64 = alloc.iter().sum();
        let capacity = cluster_capacity_millicores(obs).max(total);
        let mut shares: Vec<f64> = alloc.iter().map(|a| a / capacity).collect();
        shares.push((1.0 - shares.iter().sum::<f64>()).max(0.0));
        let budget_millicores = shares[..n].iter().map(|s| s * capacity).collect();
        Directive { shares, urgency: vec![0.0; n], headroom: vec![0.0; n], budget_millicores }
    }
}

/// Allocatable CPU of every pool, counting nodes booting and queued (millicores).
pub fn cluster_capacity_millicores(obs: &Observation<'_>) -> f64 {
    (0..obs.layout().pools.len())
        .map(|p| {
            let v = obs.pool(PoolId(p as u8));
            (u64::from(v.nodes + v.booting_nodes + v.queued_nodes) * v.node_cpu_millicores) as f64
        })
        .sum()
}

/// Forecast summary of one domain relative to its current rate: ln(p80/now) at 5, 15, 30 min and the 15-min
/// p10–p90 width over p50. Zeros when there is no forecast.
pub fn forecast_summary(forecast: Option<&Forecast>, now_rps: f32) -> [f32; 4] {
    let mut out = [0.0; 4];
    let Some(f) = forecast else { return out };
    let base = now_rps.max(1e-3);
    for (k, (_, q)) in f.horizons.iter().take(3).enumerate() {
        out[k] = (q[2].max(1e-3) / base).ln().clamp(-3.0, 3.0);
        if k == 1 {
            out[3] = ((q[3] - q[0]) / q[1].max(1e-3)).clamp(0.0, 5.0);
        }
    }
    out
}

/// Builds the per-domain feature block.
pub fn domain_block(
    obs: &Observation<'_>,
    tracker: &Tracker,
    directive: &Directive,
    forecasts: &[Forecast],
    domain: usize,
    capacity_millicores: f64,
    out: &mut Vec<f32>,
) {
    let layout = obs.layout();
    let info = &layout.domains[domain];
    let s = obs.domain(DomainId(domain as u8));
    let slo = info.slo_p99_latency_ms as f32;
    let pods = (s.ready_pods + s.starting_pods + s.pending_pods) as f32;
    let (p95, delta, accel) = tracker.rps_stats(domain, s.rps);
    let cpu = s.cpu_utilization.unwrap_or(0.0);
    let p99_ratio = s.p99_latency_ms / slo.max(1.0);
    let exposure: f32 = info
        .calls
        .iter()
        .map(|&(to, ratio)| {
            let c = obs.domain(to);
            let r = c.p99_latency_ms / (layout.domains[to.0 as usize].slo_p99_latency_ms as f32).max(1.0);
            ratio as f32 * (r - 1.0).max(0.0)
        })
        .sum();
    let fc = forecast_summary(forecasts.get(domain), s.rps);
    let alloc = s.cpu_allocated_millicores as f64;
    let budget = directive.budget_millicores.get(domain).copied().unwrap_or(alloc).max(1.0);
    out.extend_from_slice(&[
        (1.0 + s.rps).ln(),
        p95.clamp(0.0, 5.0),
        delta.clamp(-3.0, 3.0),
        accel.clamp(-3.0, 3.0),
        (1.0 + pods).ln(),
        s.pending_pods as f32 / pods.max(1.0),
        s.starting_pods as f32 / pods.max(1.0),
        cpu,
        (cpu - 0.85).max(0.0) * 10.0,
        p99_ratio.clamp(0.0, 20.0),
        (1.0 - p99_ratio).clamp(-20.0, 1.0),
        (s.error_ratio / info.error_budget_ratio.max(1e-9) as f32).clamp(0.0, 50.0),
        exposure.clamp(0.0, 20.0),
        (alloc / capacity_millicores.max(1.0)) as f32,
        fc[0],
        fc[1],
        fc[2],
        fc[3],
        directive.shares.get(domain).copied().unwrap_or(0.0) as f32,
        (alloc / budget).clamp(0.0, 5.0) as f32,
        tracker.thrash(domain),
        match info.priority {
            Priority::P0 => 0.0,
            Priority::P1 => 1.0 / 3.0,
            Priority::P2 => 2.0 / 3.0,
            Priority::P3 => 1.0,
        },
    ]);
}

/// Cluster-level inputs the Commander needs besides the domains.
pub struct ClusterContext {
    /// Hour of week at "now" (0 = Monday 00:00), fractional.
    pub hour_of_week: f64,
    /// Whether an announced promotion starts within the next 60 minutes.
    pub announced_event_ahead: bool,
}

/// The Commander's observation ([`COMMANDER_OBS`] numbers, named by [`commander_names`]).
pub fn commander_obs(
    obs: &Observation<'_>,
    tracker: &Tracker,
    directive: &Directive,
    forecasts: &[Forecast],
    ctx: &ClusterContext,
    out: &mut Vec<f32>,
) {
    out.clear();
    let layout = obs.layout();
    let capacity = cluster_capacity_millicores(obs);
    for d in 0..N_DOMAINS.min(layout.domains.len()) {
        domain_block(obs, tracker, directive, forecasts, d, capacity, out);
    }
    for from in 0..N_DOMAINS {
        for to in 0..N_DOMAINS {
            let ratio = layout
                .domains
                .get(from)
                .and_then(|d| d.calls.iter().find(|(t, _)| t.0 as usize == to))
                .map_or(0.0, |(_, r)| *r as f32);
            out.push(ratio);
        }
    }
    let (mut nodes, mut incoming, mut requested, mut cost_per_hour, mut reserve_target, mut reserve_placed) =
        (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut base_cost = 0.0;
    for p in 0..layout.pools.len() {
        let v = obs.pool(PoolId(p as u8));
        nodes += f64::from(v.nodes);
        incoming += f64::from(v.booting_nodes + v.queued_nodes);
        requested += v.cpu_requested_millicores as f64;
        let price = layout.pools[p].price_per_node_hour;
        cost_per_hour += f64::from(v.nodes + v.booting_nodes) * price;
        base_cost += f64::from(v.min_nodes.max(1)) * price;
        reserve_target += v.reserve_target_millicores as f64;
        reserve_placed += v.reserve_placed_millicores as f64;
    }
    let hour = ctx.hour_of_week % 24.0;
    let day = (ctx.hour_of_week / 24.0).floor();
    let tau = std::f64::consts::TAU;
    out.extend_from_slice(&[
        (1.0 - requested / capacity.max(1.0)).clamp(-1.0, 1.0) as f32,
        (1.0 + nodes).ln() as f32,
        (incoming / nodes.max(1.0)).clamp(0.0, 5.0) as f32,
        (cost_per_hour / base_cost.max(1e-9)).ln().clamp(-5.0, 10.0) as f32,
        directive.shares.get(layout.domains.len()).copied().unwrap_or(0.0) as f32,
        if reserve_target > 0.0 { (reserve_placed / reserve_target) as f32 } else { 1.0 },
        (tau * hour / 24.0).sin() as f32,
        (tau * hour / 24.0).cos() as f32,
        (tau * day / 7.0).sin() as f32,
        (tau * day / 7.0).cos() as f32,
        if day >= 5.0 { 1.0 } else { 0.0 },
        if ctx.announced_event_ahead { 1.0 } else { 0.0 },
    ]);
    out.resize(COMMANDER_OBS, 0.0);
}

/// One tier group of a domain: apps of tiers `tier_index % N_GROUPS`.
pub fn group_of(layout: &Layout, app: usize) -> usize {
    let d = layout.apps[app].domain.0 as usize;
    let first_tier = layout.domains[d].tiers.start;
    ((layout.apps[app].tier - first_tier) as usize).min(N_GROUPS - 1)
}

/// Per-app numbers a Soldier computes once per decision and reuses for the action.
#[derive(Clone, Debug, Default)]
pub struct AppScratch {
    /// What the Soldier sees of each app of its domain, in app order (read once: a view gathers four lagged rows).
    pub views: Vec<AppView>,
    pub at_risk: Vec<f32>,
    /// The top apps of the domain, most at risk first (app indices).
    pub top: Vec<usize>,
    /// Scratch for ranking them (one integer key per app).
    pub rank_keys: Vec<u64>,
}

/// The [`TOP_APPS`] apps most at risk, most at risk first, ties by index: app `first + k` has risk `risks[k]`.
/// Each app becomes one integer key whose plain order is that total order (risk descending by
/// [`f32::total_cmp`], then index ascending), so selecting the first keys and sorting them equals sorting all, with
/// integer comparisons. `keys` is scratch.
fn top_at_risk(risks: &[f32], first: usize, keys: &mut Vec<u64>, top: &mut Vec<usize>) {
    keys.clear();
    keys.extend(risks.iter().enumerate().map(|(k, r)| {
        // `total_cmp`'s own key (negatives' magnitude bits flipped), made unsigned, then inverted for descending.
        let bits = r.to_bits() as i32;
        let ordered = (bits ^ (((bits >> 31) as u32) >> 1) as i32) as u32 ^ 0x8000_0000;
        (u64::from(!ordered) << 32) | (first + k) as u64
    }));
    if keys.len() > TOP_APPS {
        keys.select_nth_unstable(TOP_APPS - 1);
        keys.truncate(TOP_APPS);
    }
    keys.sort_unstable();
    top.clear();
    top.extend(keys.iter().map(|&key| (key & u64::from(u32::MAX)) as usize));
}

/// The Soldier's observation for one domain ([`SOLDIER_OBS`] numbers, named by [`soldier_names`]).
#[allow(clippy::too_many_arguments)]
pub fn soldier_obs(
    obs: &Observation<'_>,
    tracker: &Tracker,
    directive: &Directive,
    forecasts: &[Forecast],
    domain: usize,
    targets: &[f32],
    scratch: &mut AppScratch,
    out: &mut Vec<f32>,
) {
    out.clear();
    let layout = obs.layout();
    let capacity = cluster_capacity_millicores(obs);
    domain_block(obs, tracker, directive, forecasts, domain, capacity, out);
    out.extend((0..N_DOMAINS).map(|d| if d == domain { 1.0 } else { 0.0 }));
    let alloc = obs.domain(DomainId(domain as u8)).cpu_allocated_millicores as f64;
    out.extend_from_slice(&[
        directive.shares.get(domain).copied().unwrap_or(0.0) as f32,
        (directive.budget_millicores.get(domain).copied().unwrap_or(alloc).max(1.0) / alloc.max(1.0))
            .ln()
            .clamp(-5.0, 5.0) as f32,
        directive.urgency.get(domain).copied().unwrap_or(0.0) as f32,
        directive.headroom.get(domain).copied().unwrap_or(0.0) as f32,
    ]);
    let info = &layout.domains[domain];
    let slo = info.slo_p99_latency_ms as f32;
    let apps = info.apps.clone();
    scratch.views.clear();
    scratch.views.extend(apps.clone().map(|a| obs.app(AppId(a))));
    scratch.at_risk.clear();
    // Groups: traffic share, CPU (traffic-weighted), pending fraction, max at-risk.
    let mut g = [[0.0f32; 5]; N_GROUPS];
    let mut g_pods = [0.0f32; N_GROUPS];
    let total_rps: f32 = scratch.views.iter().map(|v| v.rps).sum::<f32>().max(1e-3);
    for (a, v) in apps.clone().zip(&scratch.views) {
        let i = a as usize;
        let risk = at_risk(v, targets[i], slo);
        scratch.at_risk.push(risk);
        let k = group_of(layout, i);
        g[k][0] = 1.0;
        g[k][1] += v.rps / total_rps;
        g[k][2] += v.cpu_utilization.unwrap_or(0.0) * v.rps / total_rps;
        g[k][3] += v.pending_pods as f32;
        g_pods[k] += v.desired_replicas.max(1) as f32;
        g[k][4] = g[k][4].max(risk);
    }
    for k in 0..N_GROUPS {
        let share = g[k][1].max(1e-6);
        out.extend_from_slice(&[
            g[k][0],
            g[k][1],
            if g[k][0] > 0.0 { g[k][2] / share } else { 0.0 },
            g[k][3] / g_pods[k].max(1.0),
            g[k][4].clamp(0.0, 20.0),
        ]);
    }
    // Top apps: highest at-risk first, ties by index.
    let first = apps.start as usize;
    top_at_risk(&scratch.at_risk, first, &mut scratch.rank_keys, &mut scratch.top);
    let risks = &scratch.at_risk;
    for k in 0..TOP_APPS {
        match scratch.top.get(k) {
            Some(&i) => {
                let v = &scratch.views[i - first];
                out.extend_from_slice(&[
                    1.0,
                    risks[i - first].max(1e-3).ln().clamp(-5.0, 5.0),
                    v.cpu_utilization.unwrap_or(0.0),
                    (v.p99_latency_ms / slo.max(1.0)).clamp(0.0, 20.0),
                    v.pending_pods as f32 / v.desired_replicas.max(1) as f32,
                    (1.0 + v.desired_replicas as f32).ln(),
                ]);
            }
            None => out.extend_from_slice(&[0.0; 6]),
        }
    }
    debug_assert_eq!(out.len(), SOLDIER_OBS);
}

/// The shipped `small.ron`, for tests.
#[cfg(test)]
pub(crate) fn small_scenario() -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
    crate::scenario::load_file(&path).expect("shipped scenario")
}

/// `small.ron` without its Internal domain: a valid scenario HiRL is not built for.
#[cfg(test)]
pub(crate) fn four_domain_scenario() -> Scenario {
    let mut s = small_scenario();
    s.domains.retain(|d| d.id != "internal");
    s.pools.iter_mut().for_each(|p| p.domains.retain(|d| d != "internal"));
    let problems = crate::scenario::validate(&s);
    assert!(problems.is_empty(), "still a valid scenario: {problems:?}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_scenario_of_five_domains_is_supported() {
        assert_eq!(check_scenario(&small_scenario()), Ok(()));
        let four = four_domain_scenario();
        let e = check_scenario(&four).expect_err("four domains");
        assert_eq!(e, UnsupportedScenario { scenario: "small".into(), domains: 4 });
        assert_eq!(
            e.to_string(),
            "scenario \"small\" has 4 domains; the HiRL agents are built for exactly 5 (one Soldier each)"
        );
        let mut one = four;
        one.domains.truncate(1);
        assert!(check_scenario(&one).expect_err("one domain").to_string().contains(" has 1 domain; "));
    }

    #[test]
    fn the_top_apps_are_the_first_of_a_full_sort_by_risk_then_index() {
        let mut rng = crate::sim::rng::SimRng::new(7, 1);
        for n in [0, 1, 5, TOP_APPS, TOP_APPS + 1, 310] {
            // Few distinct values, so ties are common; NaN and infinities rank by `total_cmp` like everything else.
            let mut risks: Vec<f32> = (0..n).map(|_| (rng.uniform() * 6.0).floor() as f32 / 2.0).collect();
            if n > 4 {
                risks[1] = f32::NAN;
                risks[2] = f32::INFINITY;
                risks[3] = -0.5;
                risks[4] = -0.0;
            }
            let first = 1_000;
            let mut all: Vec<usize> = (first..first + n).collect();
            all.sort_by(|&a, &b| risks[b - first].total_cmp(&risks[a - first]).then(a.cmp(&b)));
            all.truncate(TOP_APPS);
            let (mut keys, mut top) = (vec![5], vec![99]);
            top_at_risk(&risks, first, &mut keys, &mut top);
            assert_eq!(top, all, "{n} apps");
        }
    }

    #[test]
    fn names_match_the_shapes_and_are_unique() {
        let c = commander_names();
        let s = soldier_names();
        assert_eq!(c.len(), COMMANDER_OBS);
        assert_eq!(s.len(), SOLDIER_OBS);
        for names in [c, s] {
            let mut sorted = names.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len());
        }
    }

    #[test]
    fn every_feature_has_a_unit() {
        for name in commander_names().into_iter().chain(soldier_names()) {
            assert!(!feature_unit(&name).is_empty(), "{name} has no unit");
        }
        assert_eq!(feature_unit("d3.ln_rps"), "ln(1 + req/s)");
        assert_eq!(feature_unit("top4.p99_over_slo"), "× SLO");
        assert_eq!(feature_unit("no.such_feature"), "");
    }
}
