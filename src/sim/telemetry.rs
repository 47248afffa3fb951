//! What controllers see: telemetry as it would really arrive, aggregated and late.
//!
//! Every tick the simulator records per-app and per-domain samples into a ring; an [`Observation`] reads them back
//! `lag` seconds late (lags from `TelemetrySpec`). Object state that the API server serves at once (replica counts
//! in `spec`, pod phases for the HPA's grouping, nodes, the provisioner's queue) is current. Nothing here exposes
//! ground truth that a real controller could not query.

use serde::{Deserialize, Serialize};

use super::layout::{AppId, DomainId, Layout, PoolId};
use super::pods::{PodGroup, RECENT_READY_SECS};
use super::{Simulation, TICK_SECS};
use crate::scenario::TelemetrySpec;

/// One app at one tick (ground truth when recorded; seen later through the lag).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AppSample {
    pub ready_pods: u32,
    pub starting_pods: u32,
    pub pending_pods: u32,
    /// CPU usage over CPU requests of ready pods (0–1); `None` when no pod is ready.
    pub cpu_utilization: Option<f32>,
    pub rps: f32,
    pub p99_latency_ms: f32,
    pub error_ratio: f32,
}

/// One domain at one tick.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DomainSample {
    /// Total request rate including inline calls from other domains.
    pub rps: f32,
    /// End-to-end p99 including inline callees.
    pub p99_latency_ms: f32,
    pub error_ratio: f32,
    pub ready_pods: u32,
    pub starting_pods: u32,
    pub pending_pods: u32,
    /// Domain CPU usage over the CPU requests of its ready pods; `None` when no pod is ready.
    pub cpu_utilization: Option<f32>,
    /// CPU requests of the domain's scheduled pods, millicores.
    pub cpu_allocated_millicores: u64,
    /// CPU the domain's ready pods actually use, millicores.
    pub cpu_used_millicores: f32,
}

/// Fixed-length history of samples, one row per tick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct History {
    rows: usize,
    apps_per_row: usize,
    domains_per_row: usize,
    apps: Vec<AppSample>,
    domains: Vec<DomainSample>,
    /// Tick index of the newest row.
    newest: u64,
    /// The lags read back, seconds, and the row each one reads now (refreshed on every write).
    lags_secs: [u32; LAGS],
    lag_rows: [usize; LAGS],
}

/// Which signal's lag to read through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lag {
    Pods = 0,
    Cpu = 1,
    Latency = 2,
    Rps = 3,
}
const LAGS: usize = 4;

impl History {
    pub fn new(spec: &TelemetrySpec, n_apps: usize, n_domains: usize) -> Self {
        let max_lag = spec.pods_lag_secs.max(spec.cpu_lag_secs).max(spec.latency_lag_secs).max(spec.rps_lag_secs);
        let rows = (u64::from(max_lag) / TICK_SECS) as usize + 1;
        Self {
            rows,
            apps_per_row: n_apps,
            domains_per_row: n_domains,
            apps: vec![AppSample::default(); rows * n_apps],
            domains: vec![DomainSample::default(); rows * n_domains],
            newest: 0,
            lags_secs: [spec.pods_lag_secs, spec.cpu_lag_secs, spec.latency_lag_secs, spec.rps_lag_secs],
            lag_rows: [0; LAGS],
        }
    }

    /// Row to write for tick `tick`; before the first write every row is pre-filled with tick 0's values.
    pub fn write(&mut self, tick: u64, apps: &[AppSample], domains: &[DomainSample]) {
        let fill_all = tick == 0;
        self.newest = tick;
        let slots: Vec<usize> =
            if fill_all { (0..self.rows).collect() } else { vec![(tick % self.rows as u64) as usize] };
        for slot in slots {
            let a = slot * self.apps_per_row;
            self.apps[a..a + self.apps_per_row].copy_from_slice(apps);
            let d = slot * self.domains_per_row;
            self.domains[d..d + self.domains_per_row].copy_from_slice(domains);
        }
        for k in 0..LAGS {
            let lag_ticks = (u64::from(self.lags_secs[k]) / TICK_SECS).min(self.rows as u64 - 1);
            let tick = self.newest.saturating_sub(lag_ticks);
            self.lag_rows[k] = (tick % self.rows as u64) as usize;
        }
    }

    pub fn app(&self, app: usize, lag: Lag) -> &AppSample {
        &self.apps[self.lag_rows[lag as usize] * self.apps_per_row + app]
    }

    pub fn domain(&self, domain: usize, lag: Lag) -> &DomainSample {
        &self.domains[self.lag_rows[lag as usize] * self.domains_per_row + domain]
    }
}

/// What a controller sees of one app.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AppView {
    /// `spec.replicas` (current).
    pub desired_replicas: u32,
    pub ready_pods: u32,
    pub starting_pods: u32,
    pub pending_pods: u32,
    /// Lagged by `cpu_lag_secs`; `None` when no pod was ready.
    pub cpu_utilization: Option<f32>,
    pub rps: f32,
    pub p99_latency_ms: f32,
    pub error_ratio: f32,
}

/// Pod phase as the API server reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CohortPhase {
    /// Unscheduled or booting (image pull, start-up).
    Pending,
    /// Running and Ready.
    Ready,
    /// Being deleted.
    Terminating,
}

/// A group of identical pods as the API server sees them (for the HPA's pod grouping).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CohortView {
    pub phase: CohortPhase,
    pub count: u32,
    /// When the pod started running; `None` for pods that have been running since before tracking began.
    pub start_secs: Option<u64>,
    pub ready_secs: Option<u64>,
}

/// A node pool as the API server and the cloud provider report it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolView {
    pub nodes: u32,
    pub booting_nodes: u32,
    pub queued_nodes: u32,
    pub node_cpu_millicores: u64,
    pub node_memory_mib: u64,
    pub cpu_capacity_millicores: u64,
    pub memory_capacity_mib: u64,
    /// Requested by pods (not counting reserve placeholders).
    pub cpu_requested_millicores: u64,
    pub memory_requested_mib: u64,
    pub reserve_target_millicores: u64,
    pub reserve_placed_millicores: u64,
    /// Whole nodes that hold nothing (pods or reserve) and could be removed now.
    pub removable_nodes: u32,
    pub min_nodes: u32,
    pub max_nodes: u32,
}

/// Pods that exist but could not be scheduled (what the cluster autoscaler reacts to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnschedulableView {
    /// Index of the workload: apps first (`AppId`), then batch jobs.
    pub workload: u32,
    pub domain: DomainId,
    pub pods: u32,
    pub cpu_request_millicores: u32,
    pub memory_request_mib: u32,
}

/// A read-only, lagged view of the cluster handed to controllers.
pub struct Observation<'a> {
    pub(super) sim: &'a Simulation,
}

impl<'a> Observation<'a> {
    pub fn now_secs(&self) -> u64 {
        self.sim.state.now_secs
    }

    /// The static layout: apps, tiers, HPA specs, pools — public knowledge.
    pub fn layout(&self) -> &'a Layout {
        &self.sim.layout
    }

    pub fn telemetry_spec(&self) -> &'a TelemetrySpec {
        &self.sim.telemetry_spec
    }

    /// Timestamp of the newest CPU sample a controller has (now − cpu lag).
    pub fn cpu_sample_secs(&self) -> u64 {
        self.now_secs().saturating_sub(u64::from(self.sim.telemetry_spec.cpu_lag_secs))
    }

    /// `spec.replicas` of an app (API state, current).
    pub fn app_desired_replicas(&self, app: AppId) -> u32 {
        self.sim.state.groups[app.0 as usize].desired
    }

    pub fn app(&self, app: AppId) -> AppView {
        let i = app.0 as usize;
        let h = &self.sim.state.history;
        let pods = h.app(i, Lag::Pods);
        let cpu = h.app(i, Lag::Cpu);
        let lat = h.app(i, Lag::Latency);
        let rps = h.app(i, Lag::Rps);
        AppView {
            desired_replicas: self.sim.state.groups[i].desired,
            ready_pods: pods.ready_pods,
            starting_pods: pods.starting_pods,
            pending_pods: pods.pending_pods,
            cpu_utilization: cpu.cpu_utilization,
            rps: rps.rps,
            p99_latency_ms: lat.p99_latency_ms,
            error_ratio: lat.error_ratio,
        }
    }

    /// The app's lagged request rate alone (what [`Self::app`] reports as `rps`), for loops over every app that need
    /// nothing else.
    pub fn app_rps(&self, app: AppId) -> f32 {
        self.sim.state.history.app(app.0 as usize, Lag::Rps).rps
    }

    /// `Some(ready pods)` when every pod of the app has been Ready for longer than the HPA's CPU initialisation
    /// period and none is pending, starting or terminating — the common case, which needs no cohort list.
    pub fn settled_ready_pods(&self, app: AppId) -> Option<u32> {
        let g: &PodGroup = &self.sim.state.groups[app.0 as usize];
        (g.recent_ready.is_empty()
            && g.pending == 0
            && g.starting_total == 0
            && g.terminating_total == 0
            && g.ready_total > 0)
            .then_some(g.ready_total)
    }

    /// The app's pods grouped as the API server reports them now, oldest first.
    pub fn pod_cohorts(&self, app: AppId, out: &mut Vec<CohortView>) {
        out.clear();
        let g: &PodGroup = &self.sim.state.groups[app.0 as usize];
        let recent: u32 = g.recent_ready.iter().map(|r| r.count).sum();
        let old_ready = g.ready_total.saturating_sub(recent);
        if old_ready > 0 {
            let before = self.now_secs().saturating_sub(RECENT_READY_SECS);
            out.push(CohortView {
                phase: CohortPhase::Ready,
                count: old_ready,
                start_secs: None,
                ready_secs: Some(before),
            });
        }
        out.extend(g.recent_ready.iter().map(|r| CohortView {
            phase: CohortPhase::Ready,
            count: r.count,
            start_secs: Some(r.start_secs),
            ready_secs: Some(r.ready_secs),
        }));
        let pending = g.pending + g.starting_total;
        if pending > 0 {
            out.push(CohortView { phase: CohortPhase::Pending, count: pending, start_secs: None, ready_secs: None });
        }
        if g.terminating_total > 0 {
            out.push(CohortView {
                phase: CohortPhase::Terminating,
                count: g.terminating_total,
                start_secs: None,
                ready_secs: None,
            });
        }
    }

    pub fn domain(&self, domain: DomainId) -> DomainSample {
        let i = domain.0 as usize;
        let h = &self.sim.state.history;
        let pods = h.domain(i, Lag::Pods);
        let cpu = h.domain(i, Lag::Cpu);
        let lat = h.domain(i, Lag::Latency);
        let rps = h.domain(i, Lag::Rps);
        DomainSample {
            rps: rps.rps,
            p99_latency_ms: lat.p99_latency_ms,
            error_ratio: lat.error_ratio,
            ready_pods: pods.ready_pods,
            starting_pods: pods.starting_pods,
            pending_pods: pods.pending_pods,
            cpu_utilization: cpu.cpu_utilization,
            cpu_allocated_millicores: pods.cpu_allocated_millicores,
            cpu_used_millicores: cpu.cpu_used_millicores,
        }
    }

    pub fn pool(&self, pool: PoolId) -> PoolView {
        self.sim.pool_view(pool.0 as usize)
    }

    /// Pods left Pending after the last scheduling pass, per workload, in workload order.
    pub fn unschedulable(&self, out: &mut Vec<UnschedulableView>) {
        self.sim.unschedulable(out);
    }

    /// Reserve placeholders that could not be placed, per pool, millicores (they count as unschedulable demand).
    pub fn unplaced_reserve_millicores(&self, pool: PoolId) -> u64 {
        let p = &self.sim.state.pools[pool.0 as usize];
        p.reserve_target_millicores.saturating_sub(p.reserve_placed_millicores)
    }

    pub fn priority_classes(&self) -> bool {
        self.sim.state.priority_classes
    }
}
