//! One HPA per app, fed by lagged telemetry: the stock pod autoscaler of the cluster.
//!
//! Every 15 s (the controller's `--horizontal-pod-autoscaler-sync-period`) each app's pods are grouped as the API
//! server reports them, with the metrics pipeline's latest sample (`cpu_lag_secs` old, 30 s window), and the
//! faithful controller in [`super::hpa`] decides. Metric values per pod:
//! - CPU: lagged utilisation × CPU request;
//! - memory: the simulator does not model memory use; the working set is taken as 50% of the request plus 30% of
//!   the request × CPU utilisation (so memory targets behave, but do not rely on them);
//! - `requests_per_second`: lagged app rate / ready pods.
//!
//! HPA time runs one hour ahead of simulation time, so pods present at t = 0 can have started "before" it (the
//! controller's algorithm only looks at differences of times).

use crate::sim::{Actions, AppId, CohortPhase, CohortView, Layout, Observation};

use super::Autoscaler;
use super::held_back::{HeldBack, hpa_held_back};
use super::hpa::{
    GroupedPods, HpaController, HpaControllerConfig, MetricInput, MetricOutcome, MetricSample, MetricTarget, PodCohort,
    PodPhase, SyncOutcome,
};

/// Offset between simulation time and HPA time, seconds.
const HPA_EPOCH_SECS: u64 = 3600;
/// metrics-server's collection window.
const METRIC_WINDOW_SECS: u64 = 30;

/// The grouping of `n` pods that have all been ready for longer than the CPU initialisation period, each with a
/// sample: every one counts as ready with its sample (what `group_cohorts` gives for such a cohort; tested below).
fn settled_grouping(n: u32, value_per_pod: f64, request_per_pod: f64) -> GroupedPods {
    GroupedPods {
        ready_count: n,
        ready_usage_sum: f64::from(n) * value_per_pod,
        ready_request_sum: f64::from(n) * request_per_pod,
        ..GroupedPods::default()
    }
}

/// `minReplicas`/`maxReplicas` of every app's HPA, in app order.
pub(super) fn replica_bounds(layout: &Layout) -> Vec<(u32, u32)> {
    layout
        .apps
        .iter()
        .map(|a| {
            let h = &layout.tiers[a.tier as usize].hpa;
            (h.min_replicas, h.max_replicas.max(h.min_replicas))
        })
        .collect()
}

#[derive(Clone)]
pub struct HpaFleet {
    controllers: Vec<HpaController>,
    cfg: HpaControllerConfig,
    period_secs: u64,
    views: Vec<CohortView>,
    cohorts: Vec<PodCohort>,
    inputs: Vec<MetricInput>,
    outcomes: Vec<MetricOutcome>,
    /// What [`Autoscaler::decide`] last declared held back per app (its rate limits and `maxReplicas`).
    held_back: HeldBack,
}

impl HpaFleet {
    pub fn new(layout: &Layout) -> Self {
        let cfg = HpaControllerConfig::default();
        Self {
            controllers: layout
                .apps
                .iter()
                .map(|a| HpaController::new(layout.tiers[a.tier as usize].hpa.clone(), cfg))
                .collect(),
            cfg,
            period_secs: 15,
            views: Vec::new(),
            cohorts: Vec::new(),
            inputs: Vec::new(),
            outcomes: Vec::new(),
            held_back: HeldBack::new(layout.apps.len()),
        }
    }

    /// The controller of one app (for policies that patch HPA bounds, and for inspection).
    pub fn controller_mut(&mut self, app: AppId) -> Option<&mut HpaController> {
        self.controllers.get_mut(app.0 as usize)
    }

    /// One sync of one app's HPA, as the controller acts on it: a changed replica count goes into `out`. Returns the
    /// pods its rate limits and `maxReplicas` held back ([`hpa_held_back`]), for the caller to declare.
    pub fn sync_into(&mut self, obs: &Observation<'_>, app: AppId, out: &mut Actions) -> u32 {
        let current = obs.app_desired_replicas(app);
        let sync = self.sync_app(obs, app);
        if sync.desired_replicas != current {
            out.replicas.push((app, sync.desired_replicas));
        }
        hpa_held_back(&sync)
    }

    /// One sync of one app's HPA. The per-metric outcomes stay in [`Self::last_metric_outcomes`].
    pub fn sync_app(&mut self, obs: &Observation<'_>, app: AppId) -> SyncOutcome {
        let i = app.0 as usize;
        let info = obs.layout().app(app);
        let view = obs.app(app);
        // Most apps, most of the time, have only long-ready pods: then the grouping is known without building cohorts.
        let settled = obs.settled_ready_pods(app);
        if settled.is_none() {
            obs.pod_cohorts(app, &mut self.views);
        }
        let now = obs.now_secs() + HPA_EPOCH_SECS;
        let sample_ts = obs.cpu_sample_secs() + HPA_EPOCH_SECS;
        let ready_now = view.ready_pods.max(1) as f32;
        let cpu = view.cpu_utilization.unwrap_or(0.0);
        let controller = &mut self.controllers[i];
        self.inputs.clear();
        for target in &controller.spec().metrics {
            let (value_per_pod, request) = match target {
                MetricTarget::CpuUtilization { .. } => {
                    (f64::from(cpu) * f64::from(info.cpu_request_millicores), f64::from(info.cpu_request_millicores))
                }
                MetricTarget::MemoryUtilization { .. } => (
                    f64::from(info.memory_request_mib) * (0.5 + 0.3 * f64::from(cpu)),
                    f64::from(info.memory_request_mib),
                ),
                MetricTarget::PodsAverageValue { .. } => (f64::from(view.rps / ready_now), 0.0),
            };
            let request = if target.uses_requests() { request } else { 0.0 };
            if let Some(n) = settled {
                self.inputs.push(MetricInput::new(settled_grouping(n, value_per_pod, request)));
                continue;
            }
            self.cohorts.clear();
            for v in &self.views {
                let start = v.start_secs.map_or(0, |s| s + HPA_EPOCH_SECS);
                let ready_at = v.ready_secs.map(|s| if v.start_secs.is_none() { start } else { s + HPA_EPOCH_SECS });
                let (phase, deleting, ready) = match v.phase {
                    CohortPhase::Pending => (PodPhase::Pending, false, false),
                    CohortPhase::Ready => (PodPhase::Running, false, true),
                    CohortPhase::Terminating => (PodPhase::Running, true, true),
                };
                // A pod has a sample once it was running when the metrics pipeline last scraped.
                let metric =
                    (phase == PodPhase::Running && ready_at.is_some_and(|r| r <= sample_ts)).then_some(MetricSample {
                        value_per_pod,
                        timestamp_secs: sample_ts,
                        window_secs: METRIC_WINDOW_SECS,
                    });
                self.cohorts.push(PodCohort {
                    count: v.count,
                    phase,
                    deleting,
                    ready,
                    start_secs: Some(start),
                    ready_transition_secs: ready_at,
                    metric,
                });
            }
            self.inputs.push(MetricInput::from_cohorts(target, &self.cohorts, request, now, &self.cfg));
        }
        controller.sync(now, view.desired_replicas, &self.inputs, &mut self.outcomes)
    }

    /// Per-metric outcomes of the last [`Self::sync_app`].
    pub fn last_metric_outcomes(&self) -> &[MetricOutcome] {
        &self.outcomes
    }
}

impl Autoscaler for HpaFleet {
    fn name(&self) -> &str {
        "hpa"
    }

    fn decide(&mut self, obs: &Observation<'_>, out: &mut Actions) {
        if !obs.now_secs().is_multiple_of(self.period_secs) {
            return;
        }
        for i in 0..self.controllers.len() {
            let app = AppId(i as u32);
            let held_back = self.sync_into(obs, app, out);
            self.held_back.declare(app, held_back, out);
        }
    }

    fn clone_box(&self) -> Box<dyn Autoscaler> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::hpa::group_cohorts;

    #[test]
    fn settled_grouping_matches_the_general_grouping() {
        let cfg = HpaControllerConfig::default();
        let now = HPA_EPOCH_SECS + 7_200;
        for (n, value, request, cpu) in [(1, 350.0, 500.0, true), (40, 1.5, 2.0, true), (7, 12.0, 0.0, false)] {
            let cohort = PodCohort {
                count: n,
                phase: PodPhase::Running,
                deleting: false,
                ready: true,
                start_secs: Some(0),
                ready_transition_secs: Some(0),
                metric: Some(MetricSample {
                    value_per_pod: value,
                    timestamp_secs: now - 60,
                    window_secs: METRIC_WINDOW_SECS,
                }),
            };
            assert_eq!(group_cohorts(&[cohort], request, now, cpu, &cfg), settled_grouping(n, value, request));
        }
    }
}
