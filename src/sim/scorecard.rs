//! The scorecard of a run (DESIGN §4), from ground truth, per domain and for the cluster.
//!
//! The JSON form is a stable, documented format (`format: "hirl-scale-scorecard/1"`): every metric is a named field
//! with its unit in the name. Definitions:
//! - `slo_breach_minutes`: minutes in which the domain's end-to-end p99 exceeded its SLO or its error ratio exceeded
//!   its error budget (degradation = max(p99/SLO − 1, errors/budget − 1, 0) > 0).
//! - `slo_breach_minutes_by_cause` (and the cluster's `p0_p1_slo_breach_minutes_by_cause`): those minutes split by
//!   what held them — the requests over the SLO at apps not scaled up, at apps whose controllers held pods back on
//!   purpose, at apps with pods waiting for room, at apps with pods starting, or the domain's own apps within it and
//!   an inline callee over ([`super::breach_cause`]). Added within format 1; files without it (or without
//!   `held_back_minutes`, added later) read it as zero.
//! - `cascade_events`: breach episodes that *began* while another domain linked to this one (sharing a node pool, or
//!   an inline call either way) was already in breach ([`super::cascades`] says which link carried each).
//! - `priority_inversion_minutes`: minutes in which the domain had unschedulable pods while pods of a lower-priority
//!   domain held capacity in a pool it may use — starting or ready pods holding at least one pending pod's CPU
//!   request there (a smaller fragment could not have seated it, and terminating pods are already leaving).
//! - `pending_pod_minutes`: Σ over time of unschedulable pods × minutes.
//! - `time_to_scale_out_secs`: for each flash sale or spike, seconds from its start until the domain was out of
//!   breach, had no unschedulable pods and ran at ≤ 90% CPU, at or after the end of the ramp.
//! - `scaling_actions_per_app_hour`: changes of `spec.replicas` per app per simulated hour (oscillation).
//! - `node_churn_nodes`: nodes removed within `churn_window_secs` of arriving.
//! - `cost_dollars`: node-hours × price, booting nodes included (clouds bill from launch).
//! - `over_provisioning_ratio`: mean CPU requested by scheduled pods over mean CPU actually used.

use serde::{Deserialize, Serialize};

use super::breach_cause::{BreachMinutesByCause, CauseSplit};

pub const SCORECARD_FORMAT: &str = "hirl-scale-scorecard/1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scorecard {
    pub format: String,
    pub scenario: String,
    pub policy: String,
    pub seed: u64,
    /// The warm reserve held under the policy (`--warm-reserve`, e.g. "30% in every pool"); absent when none, so a
    /// scorecard bought with capacity held ahead never passes for the policy's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_reserve: Option<String>,
    /// The HiRL Soldiers' size floor the run used (`--size-floor`, e.g. "×1.030 for P0, P1 (others ×0.905)"); absent
    /// for the shipped floor and for other policies, for the same reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_floor: Option<String>,
    pub simulated_secs: u64,
    pub cluster: ClusterScore,
    pub domains: Vec<DomainScore>,
}

impl Scorecard {
    /// The same scorecard, saying the warm reserve its run held (`None`: none).
    pub fn held_under(self, warm_reserve: Option<&impl std::fmt::Display>) -> Self {
        Self { warm_reserve: warm_reserve.map(ToString::to_string), ..self }
    }

    /// The same scorecard, saying the size floor its run used (`None`: the shipped one, or not a HiRL run).
    pub fn sized_under(self, size_floor: Option<&impl std::fmt::Display>) -> Self {
        Self { size_floor: size_floor.map(ToString::to_string), ..self }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainScore {
    pub domain: String,
    pub priority: String,
    pub slo_p99_latency_ms: f64,
    pub slo_breach_minutes: f64,
    /// The breach minutes by what held them (see [`super::breach_cause`]); they add up to `slo_breach_minutes`.
    #[serde(default)]
    pub slo_breach_minutes_by_cause: BreachMinutesByCause,
    pub cascade_events: u32,
    pub priority_inversion_minutes: f64,
    pub pending_pod_minutes: f64,
    pub peak_pending_pods: u32,
    pub peak_p99_latency_ms: f64,
    pub mean_p99_latency_ms: f64,
    pub error_ratio: f64,
    /// Mean over time of the priority-weighted degradation.
    pub mean_weighted_degradation: f64,
    pub scale_out_events: u32,
    pub mean_time_to_scale_out_secs: Option<f64>,
    pub max_time_to_scale_out_secs: Option<f64>,
    pub scaling_actions: u64,
    pub scaling_actions_per_app_hour: f64,
    pub peak_pods: u32,
    pub mean_allocated_cpu_cores: f64,
    pub mean_used_cpu_cores: f64,
    pub over_provisioning_ratio: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterScore {
    pub slo_breach_minutes: f64,
    /// Breach minutes of P0 and P1 domains only.
    pub p0_p1_slo_breach_minutes: f64,
    /// The P0 and P1 breach minutes by what held them.
    #[serde(default)]
    pub p0_p1_slo_breach_minutes_by_cause: BreachMinutesByCause,
    pub cascade_events: u32,
    pub priority_inversion_minutes: f64,
    /// Inversion minutes of P0 domains only.
    pub p0_priority_inversion_minutes: f64,
    pub pending_pod_minutes: f64,
    pub peak_pending_pods: u32,
    /// Most nodes requested and not yet running (queued at the API or booting) at any moment.
    pub peak_provisioner_queue_nodes: u32,
    pub peak_provisioner_queue_requests: u32,
    pub nodes_provisioned: u32,
    pub nodes_removed: u32,
    pub node_churn_nodes: u32,
    pub mean_node_provision_secs: Option<f64>,
    pub max_node_provision_secs: Option<f64>,
    pub scale_out_events: u32,
    pub mean_time_to_scale_out_secs: Option<f64>,
    pub max_time_to_scale_out_secs: Option<f64>,
    pub scaling_actions: u64,
    pub scaling_actions_per_app_hour: f64,
    pub node_hours: f64,
    pub cost_dollars: f64,
    pub peak_nodes: u32,
    pub peak_pods: u32,
    pub mean_allocated_cpu_cores: f64,
    pub mean_used_cpu_cores: f64,
    pub over_provisioning_ratio: f64,
}

/// A flash sale or spike being timed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScaleOutTimer {
    pub domain: u8,
    pub start_secs: u64,
    pub ramp_end_secs: u64,
    pub done_secs: Option<u64>,
}

/// Running sums, per domain.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DomainAcc {
    pub breach_ticks: u64,
    /// Breached ticks split by cause, in [`super::breach_cause::BreachCause::ALL`] order (fractions of a tick: see
    /// [`super::breach_cause`]).
    #[serde(default)]
    pub breach_ticks_by_cause: CauseSplit,
    /// The same for the breach under way (or the last one), reset when a breach begins.
    #[serde(default)]
    pub episode_ticks_by_cause: CauseSplit,
    pub in_breach: bool,
    pub cascade_events: u32,
    pub inversion_ticks: u64,
    pub pending_pod_ticks: u64,
    pub peak_pending: u32,
    pub peak_p99_ms: f64,
    pub p99_sum_ms: f64,
    pub requests: f64,
    pub errors: f64,
    pub weighted_degradation_sum: f64,
    pub scaling_actions: u64,
    pub peak_pods: u32,
    pub allocated_cpu_sum: f64,
    pub used_cpu_sum: f64,
}

/// Running sums for the cluster.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterAcc {
    pub ticks: u64,
    pub inversion_ticks_p0: u64,
    pub peak_queue_nodes: u32,
    pub peak_queue_requests: u32,
    pub nodes_provisioned: u32,
    pub nodes_removed: u32,
    pub churn_nodes: u32,
    pub provision_wait_sum_secs: f64,
    pub provision_wait_max_secs: u64,
    pub provision_wait_count: u64,
    pub node_seconds: f64,
    pub cost_dollars: f64,
    pub peak_nodes: u32,
    pub peak_pods: u32,
    pub peak_pending: u32,
    pub timers: Vec<ScaleOutTimer>,
}

/// Arithmetic mean, `None` for an empty set.
fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn max(values: &[f64]) -> Option<f64> {
    values.iter().copied().reduce(f64::max)
}

pub(super) struct ScoreInputs<'a> {
    pub scenario: &'a str,
    pub policy: &'a str,
    pub seed: u64,
    pub now_secs: u64,
    pub tick_secs: u64,
    pub domain_names: Vec<(String, String, f64, u32)>, // (id, priority, slo ms, apps)
    pub domain_is_p0_p1: Vec<bool>,
    pub total_apps: u32,
}

pub(super) fn finish(inp: ScoreInputs<'_>, domains: &[DomainAcc], cluster: &ClusterAcc) -> Scorecard {
    let minutes_per_tick = inp.tick_secs as f64 / 60.0;
    let ticks = cluster.ticks.max(1) as f64;
    let hours = (cluster.ticks * inp.tick_secs) as f64 / 3600.0;
    let per_app_hour = |actions: u64, apps: u32| {
        if hours > 0.0 && apps > 0 { actions as f64 / (f64::from(apps) * hours) } else { 0.0 }
    };
    let scale_out_of = |domain: Option<usize>| -> Vec<f64> {
        cluster
            .timers
            .iter()
            .filter(|t| domain.is_none_or(|d| t.domain as usize == d))
            .map(|t| (t.done_secs.unwrap_or(inp.now_secs) - t.start_secs) as f64)
            .collect()
    };
    let ratio = |alloc: f64, used: f64| if used > 0.0 { alloc / used } else { 0.0 };

    let mut out_domains = Vec::new();
    for (i, acc) in domains.iter().enumerate() {
        let (id, priority, slo, apps) = inp.domain_names[i].clone();
        let times = scale_out_of(Some(i));
        out_domains.push(DomainScore {
            domain: id,
            priority,
            slo_p99_latency_ms: slo,
            slo_breach_minutes: acc.breach_ticks as f64 * minutes_per_tick,
            slo_breach_minutes_by_cause: BreachMinutesByCause::from_ticks(&acc.breach_ticks_by_cause, minutes_per_tick),
            cascade_events: acc.cascade_events,
            priority_inversion_minutes: acc.inversion_ticks as f64 * minutes_per_tick,
            pending_pod_minutes: acc.pending_pod_ticks as f64 * minutes_per_tick,
            peak_pending_pods: acc.peak_pending,
            peak_p99_latency_ms: acc.peak_p99_ms,
            mean_p99_latency_ms: acc.p99_sum_ms / ticks,
            error_ratio: if acc.requests > 0.0 { acc.errors / acc.requests } else { 0.0 },
            mean_weighted_degradation: acc.weighted_degradation_sum / ticks,
            scale_out_events: times.len() as u32,
            mean_time_to_scale_out_secs: mean(&times),
            max_time_to_scale_out_secs: max(&times),
            scaling_actions: acc.scaling_actions,
            scaling_actions_per_app_hour: per_app_hour(acc.scaling_actions, apps),
            peak_pods: acc.peak_pods,
            mean_allocated_cpu_cores: acc.allocated_cpu_sum / ticks / 1000.0,
            mean_used_cpu_cores: acc.used_cpu_sum / ticks / 1000.0,
            over_provisioning_ratio: ratio(acc.allocated_cpu_sum, acc.used_cpu_sum),
        });
    }

    let all_times = scale_out_of(None);
    let sum = |f: &dyn Fn(&DomainScore) -> f64| out_domains.iter().map(f).sum::<f64>();
    let alloc: f64 = domains.iter().map(|d| d.allocated_cpu_sum).sum();
    let used: f64 = domains.iter().map(|d| d.used_cpu_sum).sum();
    let actions: u64 = domains.iter().map(|d| d.scaling_actions).sum();
    let p0_p1: Vec<&DomainScore> =
        out_domains.iter().enumerate().filter(|(i, _)| inp.domain_is_p0_p1[*i]).map(|(_, d)| d).collect();
    let mut p0_p1_by_cause = BreachMinutesByCause::default();
    for d in &p0_p1 {
        p0_p1_by_cause.add(&d.slo_breach_minutes_by_cause);
    }
    let cluster_score = ClusterScore {
        slo_breach_minutes: sum(&|d| d.slo_breach_minutes),
        // From +0.0: Rust's empty float sum is −0.0, which a scenario without a P0 or P1 domain printed as "-0.0".
        p0_p1_slo_breach_minutes: p0_p1.iter().fold(0.0, |minutes, d| minutes + d.slo_breach_minutes),
        p0_p1_slo_breach_minutes_by_cause: p0_p1_by_cause,
        cascade_events: domains.iter().map(|d| d.cascade_events).sum(),
        priority_inversion_minutes: sum(&|d| d.priority_inversion_minutes),
        p0_priority_inversion_minutes: cluster.inversion_ticks_p0 as f64 * minutes_per_tick,
        pending_pod_minutes: sum(&|d| d.pending_pod_minutes),
        peak_pending_pods: cluster.peak_pending,
        peak_provisioner_queue_nodes: cluster.peak_queue_nodes,
        peak_provisioner_queue_requests: cluster.peak_queue_requests,
        nodes_provisioned: cluster.nodes_provisioned,
        nodes_removed: cluster.nodes_removed,
        node_churn_nodes: cluster.churn_nodes,
        mean_node_provision_secs: (cluster.provision_wait_count > 0)
            .then(|| cluster.provision_wait_sum_secs / cluster.provision_wait_count as f64),
        max_node_provision_secs: (cluster.provision_wait_count > 0).then_some(cluster.provision_wait_max_secs as f64),
        scale_out_events: all_times.len() as u32,
        mean_time_to_scale_out_secs: mean(&all_times),
        max_time_to_scale_out_secs: max(&all_times),
        scaling_actions: actions,
        scaling_actions_per_app_hour: per_app_hour(actions, inp.total_apps),
        node_hours: cluster.node_seconds / 3600.0,
        cost_dollars: cluster.cost_dollars,
        peak_nodes: cluster.peak_nodes,
        peak_pods: cluster.peak_pods,
        mean_allocated_cpu_cores: alloc / ticks / 1000.0,
        mean_used_cpu_cores: used / ticks / 1000.0,
        over_provisioning_ratio: ratio(alloc, used),
    };
    Scorecard {
        format: SCORECARD_FORMAT.to_string(),
        scenario: inp.scenario.to_string(),
        policy: inp.policy.to_string(),
        seed: inp.seed,
        warm_reserve: None,
        size_floor: None,
        simulated_secs: inp.now_secs,
        cluster: cluster_score,
        domains: out_domains,
    }
}

/// Totals of one policy over a suite of runs (the figures `hirl-scale eval` and training selection judge by).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SuiteTotals {
    pub policy: String,
    pub p0_p1_breach_minutes: f64,
    /// The P0+P1 breach minutes by what held them (see [`super::breach_cause`]).
    pub p0_p1_breach_minutes_by_cause: BreachMinutesByCause,
    pub breach_minutes: f64,
    /// Every domain's breach minutes by what held them.
    pub breach_minutes_by_cause: BreachMinutesByCause,
    pub cascade_events: u32,
    pub node_churn: u32,
    pub p0_priority_inversion_minutes: f64,
    pub node_hours: f64,
    pub cost_dollars: f64,
    /// Mean over runs.
    pub scaling_actions_per_app_hour: f64,
    pub runs: usize,
}

impl SuiteTotals {
    /// Sums `cards` (one policy's runs); scaling actions are averaged over the runs.
    pub fn of(policy: &str, cards: &[&Scorecard]) -> SuiteTotals {
        let mut t = SuiteTotals { policy: policy.to_string(), runs: cards.len(), ..Default::default() };
        for c in cards {
            t.p0_p1_breach_minutes += c.cluster.p0_p1_slo_breach_minutes;
            t.p0_p1_breach_minutes_by_cause.add(&c.cluster.p0_p1_slo_breach_minutes_by_cause);
            t.breach_minutes += c.cluster.slo_breach_minutes;
            for d in &c.domains {
                t.breach_minutes_by_cause.add(&d.slo_breach_minutes_by_cause);
            }
            t.cascade_events += c.cluster.cascade_events;
            t.node_churn += c.cluster.node_churn_nodes;
            t.p0_priority_inversion_minutes += c.cluster.p0_priority_inversion_minutes;
            t.node_hours += c.cluster.node_hours;
            t.cost_dollars += c.cluster.cost_dollars;
            t.scaling_actions_per_app_hour += c.cluster.scaling_actions_per_app_hour / cards.len().max(1) as f64;
        }
        t
    }
}
