//! The deterministic cluster core.
//!
//! # Contract
//! - **Pure and synchronous.** [`Simulation::new`] builds a run from a validated scenario and a seed; [`Simulation::step`]
//!   advances exactly one base tick of [`TICK_SECS`] seconds; [`Simulation::run_until`] steps to a time. No threads,
//!   no wall clock: pacing belongs to the caller.
//! - **Integer time.** `now_secs` is whole seconds since the scenario's t = 0; every controller period (HPA 15 s,
//!   cluster autoscaler 10 s, Soldiers 10 s, Commander 60 s) is a multiple of the 5 s tick.
//! - **Deterministic.** Same scenario + seed + sequence of [`Actions`] and injected events ⇒ bit-identical state and
//!   scorecard. Each component draws from its own seeded stream ([`rng`]); nothing iterates a hash map.
//! - **Checkpointable.** [`Simulation::save_state`] returns the whole mutable state (serde-serialisable); restoring
//!   it into a simulation of the same scenario and seed continues bit-identically.
//! - **Honest telemetry.** Controllers get an [`Observation`]: lagged, aggregated telemetry and API-server state.
//!   Scoring uses ground truth.
//!
//! # One tick, in order
//! scripted events fire → nodes finish booting → pods finish starting / terminating → traffic advances →
//! the scheduler places pending pods (priority order and preemption when PriorityClasses are on) and reserve
//! placeholders → every app serves its traffic (M/M/c queueing with backlog and timeouts) → domains aggregate,
//! inline calls add their latency and errors → scores accumulate → telemetry is recorded.
//! Actions applied between ticks (via [`Simulation::apply`]) take effect at the next tick's scheduling pass.

pub mod actions;
pub mod breach_cause;
pub mod cascades;
pub mod layout;
pub mod nodes;
pub mod pods;
pub mod queueing;
pub mod rng;
mod scheduler;
pub mod scorecard;
mod serving;
pub mod telemetry;
pub mod traffic;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use actions::Actions;
pub use layout::{AppId, DomainId, Layout, PoolId};
pub use scorecard::{Scorecard, SuiteTotals};
pub use telemetry::{AppView, CohortPhase, CohortView, DomainSample, Observation, PoolView, UnschedulableView};

use crate::scenario::{ClusterSpec, EventSpec, MetricTarget, Scenario, TelemetrySpec};
use breach_cause::{BreachCause, CauseSplit};
use nodes::{Arrival, NodeCohort, PoolState, Provisioner, Slowdown};
use pods::PodGroup;
use queueing::ErlangCTable;
use scorecard::{ClusterAcc, DomainAcc, ScaleOutTimer};
use telemetry::{AppSample, History};
use traffic::{Traffic, TrafficEvent};

/// The base tick, seconds: the scenario format's ([`crate::scenario::TICK_SECS`]), so scenario times and simulator
/// steps cannot disagree.
pub const TICK_SECS: u64 = crate::scenario::TICK_SECS;

/// Version of the simulator's dynamics. Bump it whenever a change alters runs (the golden scorecards move): a
/// recording made with another version is refused rather than replayed into a different incident.
/// History: 2 — a priority inversion needs lower-priority room a pending pod could take (scorecard and state).
/// 3 — breach minutes by cause, per run and per breach (the dynamics are unchanged, but the state, the timeline and
/// the scorecard gain them, so a recording's checkpoints no longer match).
/// 4 — pods a controller declares held back on purpose ([`Actions::held_back`]) and the breach cause they give
/// (dynamics unchanged; the state gains them).
pub const SIM_VERSION: u32 = 4;

/// Day of week (0 = Monday) and fractional hour at `t` seconds after a start `start_hour_of_week` hours into the week.
pub fn calendar(start_hour_of_week: u64, t: u64) -> (u64, f64) {
    let secs_of_week = (start_hour_of_week * 3600 + t) % (7 * 86_400);
    (secs_of_week / 86_400, (secs_of_week % 86_400) as f64 / 3600.0)
}

/// Resource shape of a workload (an app, or a batch job injected by an event).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    pub domain: u8,
    pub cpu_request_millicores: u32,
    pub memory_request_mib: u32,
    pub cold_start_secs: u32,
    /// For batch jobs: when the job finishes and its pods are deleted.
    pub batch_end_secs: Option<u64>,
}

/// An event injected during a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectedEvent {
    /// Simulated time of the injection.
    pub injected_at_secs: u64,
    /// The event as it fires: its start is no earlier than the next tick and falls on a tick boundary, so appending
    /// it to the scenario's events replays the run exactly.
    pub event: EventSpec,
}

impl InjectedEvent {
    /// The event as a scenario's scripted event that replays it: an announced sale keeps the moment it went on the
    /// calendar (its injection), which a scripted one would otherwise have from the scenario's start.
    pub fn as_scripted(&self) -> EventSpec {
        let mut event = self.event.clone();
        if let EventSpec::FlashSale { announced_start_secs: Some(_), announced_at_secs, .. } = &mut event
            && self.injected_at_secs > 0
        {
            *announced_at_secs = Some(self.injected_at_secs);
        }
        event
    }
}

/// The event with its start moved to `at_or_after` or later, rounded up to a tick boundary.
pub(crate) fn schedule_from(event: &EventSpec, at_or_after: u64) -> EventSpec {
    let start = event.start_secs().max(at_or_after).div_ceil(TICK_SECS) * TICK_SECS;
    let mut e = event.clone();
    match &mut e {
        EventSpec::FlashSale { start_secs, .. }
        | EventSpec::Spike { start_secs, .. }
        | EventSpec::BatchJob { start_secs, .. }
        | EventSpec::ProvisionerSlowdown { start_secs, .. } => *start_secs = start,
        EventSpec::NodePoolLoss { at_secs, .. } => *at_secs = start,
    }
    e
}

/// Something that happened, for timelines and logs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub t_secs: u64,
    pub kind: TimelineKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TimelineKind {
    /// A scripted or injected event fired.
    Event {
        label: String,
        injected: bool,
    },
    BreachStart {
        domain: u8,
    },
    BreachEnd {
        domain: u8,
        /// What held the breach that ended, minute by minute (see [`breach_cause`]); zero in files written before
        /// it was measured.
        #[serde(default)]
        held_by: breach_cause::BreachMinutesByCause,
    },
    NodesArrived {
        pool: u8,
        count: u32,
        wait_secs: u64,
    },
    NodesRemoved {
        pool: u8,
        count: u32,
    },
}

/// Every mutable part of a run. Cloning it is a checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimState {
    pub now_secs: u64,
    traffic: Traffic,
    workloads: Vec<Workload>,
    groups: Vec<PodGroup>,
    pools: Vec<PoolState>,
    provisioner: Provisioner,
    /// Requests queued beyond the steady-state M/M/c queue, per app.
    backlog: Vec<f64>,
    /// Index of the next scripted event to fire (events sorted by start).
    next_event: usize,
    /// Events injected live, in order: when, and the event as it will fire (start moved to a tick boundary).
    injected: Vec<InjectedEvent>,
    /// How many of `injected` have fired.
    next_injected: usize,
    priority_classes: bool,
    domain_quota_millicores: Vec<Option<u64>>,
    /// Pods each app's controller declared held back ([`Actions::held_back`]), in app order.
    #[serde(default)]
    held_back_pods: Vec<u32>,
    /// Results of the last tick.
    app_now: Vec<AppSample>,
    domain_now: Vec<DomainSample>,
    domain_degradation: Vec<f64>,
    /// The last scored tick's breach split by cause, per domain (see [`Simulation::domain_breach_split`]).
    #[serde(default)]
    domain_breach_split: Vec<CauseSplit>,
    history: History,
    domain_acc: Vec<DomainAcc>,
    cluster_acc: ClusterAcc,
    timeline: Vec<TimelineEvent>,
}

/// A running simulation.
#[derive(Clone)]
pub struct Simulation {
    layout: Arc<Layout>,
    scenario_name: String,
    seed: u64,
    /// Scripted events, sorted by start time (stable).
    scripted: Arc<Vec<EventSpec>>,
    telemetry_spec: TelemetrySpec,
    cluster_spec: ClusterSpec,
    erlang: Arc<ErlangCTable>,
    state: SimState,
    arrivals: Vec<Arrival>,
}

/// Initial replicas of an app: enough pods for its t = 0 load at its HPA CPU target, within the HPA's bounds.
fn initial_replicas(layout: &Layout, app: usize, rps: f64) -> u32 {
    let info = &layout.apps[app];
    let hpa = &layout.tiers[info.tier as usize].hpa;
    let target = hpa
        .metrics
        .iter()
        .find_map(|m| match m {
            MetricTarget::CpuUtilization { average_utilization } => Some(f64::from(*average_utilization) / 100.0),
            _ => None,
        })
        .unwrap_or(0.7);
    let pods = (rps / (info.pod_rps * target)).ceil();
    (pods.clamp(0.0, f64::from(u32::MAX)) as u32).clamp(hpa.min_replicas, hpa.max_replicas.max(hpa.min_replicas))
}

impl Simulation {
    /// Builds a run. The scenario must have passed validation (`scenario::validate`); the loader guarantees it.
    pub fn new(scenario: &Scenario, seed: u64) -> Simulation {
        let layout = Arc::new(Layout::build(scenario, seed));
        let n_apps = layout.apps.len();
        let n_domains = layout.domains.len();
        let traffic = Traffic::new(scenario, &layout, seed);

        let mut workloads = Vec::with_capacity(n_apps);
        let mut groups = Vec::with_capacity(n_apps);
        for (i, app) in layout.apps.iter().enumerate() {
            workloads.push(Workload {
                domain: app.domain.0,
                cpu_request_millicores: app.cpu_request_millicores,
                memory_request_mib: app.memory_request_mib,
                cold_start_secs: app.cold_start_secs,
                batch_end_secs: None,
            });
            let replicas = initial_replicas(&layout, i, traffic.app_rps[i]);
            groups.push(PodGroup { desired: replicas, pending: replicas, ..PodGroup::default() });
        }

        // Size pools without a fixed node count for the initial pods (first-preference pool) plus 10% headroom.
        let mut need_cpu = vec![0u64; layout.pools.len()];
        let mut need_mem = vec![0u64; layout.pools.len()];
        for (w, g) in workloads.iter().zip(&groups) {
            if let Some(p) = layout.domains[w.domain as usize].pools.first() {
                need_cpu[p.0 as usize] += u64::from(g.pending) * u64::from(w.cpu_request_millicores);
                need_mem[p.0 as usize] += u64::from(g.pending) * u64::from(w.memory_request_mib);
            }
        }
        let pools: Vec<PoolState> = layout
            .pools
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let nodes = p.initial_nodes.unwrap_or_else(|| {
                    let by_cpu = (need_cpu[i] as f64 * 1.1 / p.node_alloc_cpu_millicores.max(1) as f64).ceil();
                    let by_mem = (need_mem[i] as f64 * 1.1 / p.node_alloc_memory_mib.max(1) as f64).ceil();
                    (by_cpu.max(by_mem) as u32).clamp(p.min_nodes, p.max_nodes)
                });
                PoolState::new(nodes, n_domains)
            })
            .collect();

        let mut scripted = scenario.events.clone();
        scripted.sort_by_key(EventSpec::start_secs);

        let state = SimState {
            now_secs: 0,
            traffic,
            workloads,
            groups,
            pools,
            provisioner: Provisioner::new(&scenario.provisioner, &layout, seed),
            backlog: vec![0.0; n_apps],
            next_event: 0,
            injected: Vec::new(),
            next_injected: 0,
            priority_classes: scenario.cluster.priority_classes,
            domain_quota_millicores: vec![None; n_domains],
            held_back_pods: vec![0; n_apps],
            app_now: vec![AppSample::default(); n_apps],
            domain_now: vec![DomainSample::default(); n_domains],
            domain_degradation: vec![0.0; n_domains],
            domain_breach_split: vec![[0.0; BreachCause::COUNT]; n_domains],
            history: History::new(&scenario.telemetry, n_apps, n_domains),
            domain_acc: vec![DomainAcc::default(); n_domains],
            cluster_acc: ClusterAcc::default(),
            timeline: Vec::new(),
        };
        let mut sim = Simulation {
            layout,
            scenario_name: scenario.name.clone(),
            seed,
            scripted: Arc::new(scripted),
            telemetry_spec: scenario.telemetry.clone(),
            cluster_spec: scenario.cluster.clone(),
            erlang: Arc::new(ErlangCTable::new()),
            state,
            arrivals: Vec::new(),
        };
        // t = 0: fire events due now, place the initial pods as already Ready, serve and record once.
        sim.fire_scripted_events();
        sim.schedule();
        for g in &mut sim.state.groups {
            let starting = std::mem::take(&mut g.starting);
            for c in starting {
                g.ready_by_pool[c.pool as usize] += c.count;
                g.ready_total += c.count;
            }
            g.starting_total = 0;
        }
        sim.serve_and_score(false);
        sim.record_telemetry();
        sim
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn shared_layout(&self) -> Arc<Layout> {
        Arc::clone(&self.layout)
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn now_secs(&self) -> u64 {
        self.state.now_secs
    }

    pub fn scenario_name(&self) -> &str {
        &self.scenario_name
    }

    /// A lagged, read-only view for controllers.
    pub fn observe(&self) -> Observation<'_> {
        Observation { sim: self }
    }

    /// Ground truth of the last tick, per domain (for displays and scoring, not for controllers).
    pub fn domain_truth(&self) -> &[DomainSample] {
        &self.state.domain_now
    }

    /// Per domain, what held the last tick's breach: its split by cause, in [`breach_cause::BreachCause::ALL`]
    /// order, summing to 1 in breach and all zero within the SLO (ground truth, as the scorecard counts it).
    pub fn domain_breach_split(&self) -> &[CauseSplit] {
        &self.state.domain_breach_split
    }

    /// Changes of `spec.replicas` in the domain's apps since the start (the scorecard's scaling actions).
    pub fn scaling_actions(&self, domain: usize) -> u64 {
        self.state.domain_acc[domain].scaling_actions
    }

    /// Ground truth of the last tick, per app.
    pub fn app_truth(&self) -> &[AppSample] {
        &self.state.app_now
    }

    /// A domain's CPU quota (budget), millicores, if a controller set one.
    pub fn domain_quota_millicores(&self, domain: DomainId) -> Option<u64> {
        self.state.domain_quota_millicores.get(domain.0 as usize).copied().flatten()
    }

    /// CPU requested in `pool` by pods of `domain`, millicores (for displays).
    pub fn pool_domain_cpu_millicores(&self, pool: usize, domain: usize) -> u64 {
        self.state.pools.get(pool).and_then(|p| p.cpu_by_domain_millicores.get(domain)).copied().unwrap_or(0)
    }

    /// Node requests (cloud-API calls) waiting at the provisioner.
    pub fn provisioner_queued_requests(&self) -> u32 {
        self.state.provisioner.queued_requests() as u32
    }

    /// Whether PriorityClasses are in effect now.
    pub fn priority_classes(&self) -> bool {
        self.state.priority_classes
    }

    pub fn timeline(&self) -> &[TimelineEvent] {
        &self.state.timeline
    }

    /// Events injected so far, in order.
    pub fn injected_events(&self) -> &[InjectedEvent] {
        &self.state.injected
    }

    /// The scenario this run replays from: the given one, its seed set to this run's, and every injected event
    /// appended as scripted. Loading it and running the same policy gives the same run, bit for bit.
    pub fn export_scenario(&self, scenario: &Scenario) -> Scenario {
        let mut out = scenario.clone();
        out.seed = self.seed;
        out.events.extend(self.state.injected.iter().map(InjectedEvent::as_scripted));
        out
    }

    /// Digest of the whole mutable state (see [`crate::digest`]): equal digests ⇒ the same run from here on.
    pub fn state_digest(&self) -> String {
        crate::digest::Digest::of_json(&self.state)
    }

    pub fn save_state(&self) -> SimState {
        self.state.clone()
    }

    /// Restores a checkpoint taken from a simulation of the same scenario and seed.
    pub fn restore_state(&mut self, state: SimState) {
        self.state = state;
    }

    /// Advances one tick.
    pub fn step(&mut self) {
        self.state.now_secs += TICK_SECS;
        let now = self.state.now_secs;
        self.fire_scripted_events();
        self.end_batch_jobs();
        self.land_nodes();
        self.advance_pods();
        self.state.traffic.advance(&self.layout, now);
        if now.is_multiple_of(3600) {
            self.state.traffic.domains.prune_events(now);
        }
        self.schedule();
        self.serve_and_score(true);
        self.record_telemetry();
    }

    /// Steps until `now_secs >= t_secs`.
    pub fn run_until(&mut self, t_secs: u64) {
        while self.state.now_secs < t_secs {
            self.step();
        }
    }

    /// Injects an event. It fires at the next tick (or at its own start, if later, rounded up to a tick), after
    /// any scripted event due at the same tick — exactly where it sorts when appended to the scenario's events, which
    /// is what makes [`Self::export_scenario`] replay the run. Returns the event as it will fire.
    pub fn inject(&mut self, event: EventSpec) -> EventSpec {
        let now = self.state.now_secs;
        let scheduled = schedule_from(&event, now + TICK_SECS);
        let at = self.state.injected.partition_point(|i| i.event.start_secs() <= scheduled.start_secs());
        self.state.injected.insert(at, InjectedEvent { injected_at_secs: now, event: scheduled.clone() });
        scheduled
    }

    fn fire_scripted_events(&mut self) {
        let now = self.state.now_secs;
        let scripted = Arc::clone(&self.scripted);
        while let Some(e) = scripted.get(self.state.next_event) {
            if e.start_secs() > now {
                break;
            }
            self.state.next_event += 1;
            self.activate_event(e, false);
        }
        while let Some(i) = self.state.injected.get(self.state.next_injected) {
            if i.event.start_secs() > now {
                break;
            }
            let e = i.event.clone();
            self.state.next_injected += 1;
            self.activate_event(&e, true);
        }
    }

    /// Turns an event into state. Traffic events and slowdowns act over their own window; a batch job or a node loss
    /// acts now (or when due, for injected ones scheduled later, via the traffic/slowdown windows).
    fn activate_event(&mut self, e: &EventSpec, injected: bool) {
        let now = self.state.now_secs;
        let domain_of = |id: &str| self.layout.domain_index(id).map(|d| d.0);
        match e {
            EventSpec::FlashSale { domain, start_secs, ramp_secs, multiplier, duration_secs, .. }
            | EventSpec::Spike { domain, start_secs, ramp_secs, multiplier, duration_secs } => {
                let Some(d) = domain_of(domain) else { return };
                let start = (*start_secs).max(now);
                self.state.traffic.domains.events.push(TrafficEvent {
                    domain: d,
                    start_secs: start,
                    ramp_secs: *ramp_secs,
                    duration_secs: *duration_secs,
                    multiplier: *multiplier,
                });
                if *multiplier > 1.0 {
                    self.state.cluster_acc.timers.push(ScaleOutTimer {
                        domain: d,
                        start_secs: start,
                        ramp_end_secs: start + ramp_secs,
                        done_secs: None,
                    });
                }
            }
            EventSpec::BatchJob { domain, duration_secs, pods, cpu_request_millicores, memory_request_mib, .. } => {
                let Some(d) = domain_of(domain) else { return };
                self.state.workloads.push(Workload {
                    domain: d,
                    cpu_request_millicores: *cpu_request_millicores,
                    memory_request_mib: *memory_request_mib,
                    // Batch images are cached on nodes: they start quickly.
                    cold_start_secs: 10,
                    batch_end_secs: Some(now + duration_secs),
                });
                let mut g = PodGroup { desired: *pods, ..PodGroup::default() };
                g.create(*pods, now);
                self.state.groups.push(g);
            }
            EventSpec::ProvisionerSlowdown { start_secs, duration_secs, factor } => {
                let start = (*start_secs).max(now);
                self.state.provisioner.slowdowns.push(Slowdown {
                    start_secs: start,
                    end_secs: start + duration_secs,
                    factor: *factor,
                });
            }
            EventSpec::NodePoolLoss { pool, nodes, .. } => {
                if let Some(p) = self.layout.pool_index(pool) {
                    self.lose_nodes(p.0 as usize, *nodes);
                }
            }
        }
        self.state
            .timeline
            .push(TimelineEvent { t_secs: now, kind: TimelineKind::Event { label: e.label(), injected } });
    }

    fn end_batch_jobs(&mut self) {
        let now = self.state.now_secs;
        let grace = u64::from(self.cluster_spec.termination_grace_secs);
        for i in self.layout.apps.len()..self.state.workloads.len() {
            if self.state.workloads[i].batch_end_secs.is_some_and(|end| end <= now) && self.state.groups[i].desired > 0
            {
                let pools = self.pool_order(i);
                let g = &mut self.state.groups[i];
                g.desired = 0;
                let live = g.live();
                g.delete(live, now, grace, &pools);
            }
        }
    }

    fn land_nodes(&mut self) {
        let now = self.state.now_secs;
        self.state.provisioner.advance(now, &mut self.arrivals);
        for a in &self.arrivals {
            let pool = &mut self.state.pools[a.pool as usize];
            pool.nodes += a.count;
            pool.cohorts.push_back(NodeCohort { arrived_secs: Some(now), count: a.count });
            let acc = &mut self.state.cluster_acc;
            acc.nodes_provisioned += a.count;
            acc.provision_wait_sum_secs += (a.wait_secs * u64::from(a.count)) as f64;
            acc.provision_wait_count += u64::from(a.count);
            acc.provision_wait_max_secs = acc.provision_wait_max_secs.max(a.wait_secs);
            self.state.timeline.push(TimelineEvent {
                t_secs: now,
                kind: TimelineKind::NodesArrived { pool: a.pool, count: a.count, wait_secs: a.wait_secs },
            });
        }
    }

    fn advance_pods(&mut self) {
        let now = self.state.now_secs;
        let SimState { groups, workloads, pools, .. } = &mut self.state;
        for (g, w) in groups.iter_mut().zip(workloads.iter()) {
            g.advance(now, &mut |pool, n| {
                release(&mut pools[pool], w, n);
            });
        }
    }

    /// Pools a workload may use, most preferred first.
    fn pool_order(&self, workload: usize) -> Vec<usize> {
        let d = self.state.workloads[workload].domain as usize;
        self.layout.domains[d].pools.iter().map(|p| p.0 as usize).collect()
    }

    /// Applies a controller's actions. Invalid ids are ignored (controllers are code, not user input).
    pub fn apply(&mut self, actions: &Actions) {
        let now = self.state.now_secs;
        if let Some(on) = actions.priority_classes {
            self.state.priority_classes = on;
        }
        for &(d, quota) in &actions.domain_quotas {
            if let Some(q) = self.state.domain_quota_millicores.get_mut(d.0 as usize) {
                *q = quota;
            }
        }
        for &(pool, millicores) in &actions.reserves {
            if let Some(p) = self.state.pools.get_mut(pool.0 as usize) {
                p.reserve_target_millicores = millicores;
            }
        }
        for &(app, pods) in &actions.held_back {
            if let Some(held) = self.state.held_back_pods.get_mut(app.0 as usize) {
                *held = pods;
            }
        }
        let grace = u64::from(self.cluster_spec.termination_grace_secs);
        for &(app, replicas) in &actions.replicas {
            let i = app.0 as usize;
            if i >= self.layout.apps.len() {
                continue;
            }
            let domain = self.state.workloads[i].domain as usize;
            if self.state.groups[i].desired != replicas {
                self.state.domain_acc[domain].scaling_actions += 1;
            }
            self.state.groups[i].desired = replicas;
            let live = self.state.groups[i].live();
            if replicas < live {
                let pools = self.pool_order(i);
                self.state.groups[i].delete(live - replicas, now, grace, &pools);
            }
        }
        for &(pool, count) in &actions.node_requests {
            let p = pool.0 as usize;
            if p >= self.state.pools.len() {
                continue;
            }
            // The node group's maximum bounds what may be asked for, counting nodes already on their way.
            let on_the_way = self.state.pools[p].nodes
                + self.state.provisioner.booting_by_pool[p]
                + self.state.provisioner.queued_by_pool[p];
            let count = count.min(self.layout.pools[p].max_nodes.saturating_sub(on_the_way));
            if count > 0 {
                self.state.provisioner.submit(nodes::NodeRequest { pool: pool.0, nodes: count, requested_secs: now });
            }
        }
        for &(pool, count) in &actions.node_removals {
            if (pool.0 as usize) < self.state.pools.len() {
                self.remove_nodes(pool.0 as usize, count);
            }
        }
        self.create_pods();
    }

    /// Creates pods up to each app's desired count, within its domain's quota (ResourceQuota semantics: creation
    /// beyond the quota is refused and retried later).
    fn create_pods(&mut self) {
        let now = self.state.now_secs;
        let mut used: Vec<u64> = vec![0; self.layout.domains.len()];
        let limited = self.state.domain_quota_millicores.iter().any(Option::is_some);
        if limited {
            for (g, w) in self.state.groups.iter().zip(&self.state.workloads) {
                used[w.domain as usize] += u64::from(g.live()) * u64::from(w.cpu_request_millicores);
            }
        }
        for i in 0..self.layout.apps.len() {
            let g = &self.state.groups[i];
            let missing = g.desired.saturating_sub(g.live());
            if missing == 0 {
                continue;
            }
            let w = &self.state.workloads[i];
            let d = w.domain as usize;
            let n = match self.state.domain_quota_millicores[d] {
                Some(q) if limited => {
                    let room = q.saturating_sub(used[d]) / u64::from(w.cpu_request_millicores.max(1));
                    missing.min(room.min(u64::from(u32::MAX)) as u32)
                }
                _ => missing,
            };
            used[d] += u64::from(n) * u64::from(w.cpu_request_millicores);
            self.state.groups[i].create(n, now);
        }
    }

    /// Removes up to `count` empty nodes, newest first, never below `min_nodes`.
    fn remove_nodes(&mut self, pool: usize, count: u32) {
        let now = self.state.now_secs;
        let removable = self.pool_view(pool).removable_nodes;
        let churn_window = u64::from(self.cluster_spec.churn_window_secs);
        let acc = &mut self.state.cluster_acc;
        let removed = self.state.pools[pool].remove_newest(count.min(removable), |arrived, k| {
            if arrived.is_some_and(|a| now - a < churn_window) {
                acc.churn_nodes += k;
            }
        });
        self.state.cluster_acc.nodes_removed += removed;
        if removed > 0 {
            self.state.timeline.push(TimelineEvent {
                t_secs: now,
                kind: TimelineKind::NodesRemoved { pool: pool as u8, count: removed },
            });
        }
    }

    /// A node-loss event: capacity vanishes and pods beyond what is left are evicted back to Pending, spread over
    /// workloads in proportion to what they held (largest first, deterministic order).
    fn lose_nodes(&mut self, pool: usize, count: u32) {
        let now = self.state.now_secs;
        self.state.pools[pool].remove_newest(count, |_, _| {});
        let info = &self.layout.pools[pool];
        let cap_cpu = u64::from(self.state.pools[pool].nodes) * info.node_alloc_cpu_millicores;
        let cap_mem = u64::from(self.state.pools[pool].nodes) * info.node_alloc_memory_mib;
        let p = &mut self.state.pools[pool];
        p.reserve_placed_millicores = 0;
        let over_cpu = p.cpu_alloc_millicores.saturating_sub(cap_cpu);
        let over_mem = p.memory_alloc_mib.saturating_sub(cap_mem);
        if over_cpu == 0 && over_mem == 0 {
            return;
        }
        let fraction = (over_cpu as f64 / p.cpu_alloc_millicores.max(1) as f64)
            .max(over_mem as f64 / p.memory_alloc_mib.max(1) as f64)
            .min(1.0);
        for i in 0..self.state.groups.len() {
            let g = &self.state.groups[i];
            let terminating: u32 = g.terminating.iter().filter(|c| c.pool as usize == pool).map(|c| c.count).sum();
            let held = g.ready_by_pool[pool]
                + g.starting.iter().filter(|c| c.pool as usize == pool).map(|c| c.count).sum::<u32>();
            // Pods on the lost nodes are gone: terminating ones simply vanish, running ones come back as Pending.
            let dropped =
                self.state.groups[i].drop_terminating((f64::from(terminating) * fraction).ceil() as u32, pool);
            release(&mut self.state.pools[pool], &self.state.workloads[i], dropped);
            let n = (f64::from(held) * fraction).ceil() as u32;
            if n > 0 {
                let evicted = self.state.groups[i].evict(n, pool, now);
                release(&mut self.state.pools[pool], &self.state.workloads[i], evicted);
            }
        }
    }

    pub(crate) fn pool_view(&self, pool: usize) -> PoolView {
        let info = &self.layout.pools[pool];
        let p = &self.state.pools[pool];
        let cap_cpu = u64::from(p.nodes) * info.node_alloc_cpu_millicores;
        let cap_mem = u64::from(p.nodes) * info.node_alloc_memory_mib;
        let reserve_mem = nodes::reserve_memory_mib(
            p.reserve_placed_millicores,
            info.node_alloc_cpu_millicores,
            info.node_alloc_memory_mib,
        );
        let free_cpu = cap_cpu.saturating_sub(p.cpu_alloc_millicores + p.reserve_placed_millicores);
        let free_mem = cap_mem.saturating_sub(p.memory_alloc_mib + reserve_mem);
        let empty =
            (free_cpu / info.node_alloc_cpu_millicores.max(1)).min(free_mem / info.node_alloc_memory_mib.max(1));
        let removable = (empty.min(u64::from(u32::MAX)) as u32).min(p.nodes.saturating_sub(info.min_nodes));
        PoolView {
            nodes: p.nodes,
            booting_nodes: self.state.provisioner.booting_by_pool[pool],
            queued_nodes: self.state.provisioner.queued_by_pool[pool],
            node_cpu_millicores: info.node_alloc_cpu_millicores,
            node_memory_mib: info.node_alloc_memory_mib,
            cpu_capacity_millicores: cap_cpu,
            memory_capacity_mib: cap_mem,
            cpu_requested_millicores: p.cpu_alloc_millicores,
            memory_requested_mib: p.memory_alloc_mib,
            reserve_target_millicores: p.reserve_target_millicores,
            reserve_placed_millicores: p.reserve_placed_millicores,
            removable_nodes: removable,
            min_nodes: info.min_nodes,
            max_nodes: info.max_nodes,
        }
    }

    fn unschedulable(&self, out: &mut Vec<UnschedulableView>) {
        out.clear();
        for (i, (g, w)) in self.state.groups.iter().zip(&self.state.workloads).enumerate() {
            if g.pending > 0 {
                out.push(UnschedulableView {
                    workload: i as u32,
                    domain: DomainId(w.domain),
                    pods: g.pending,
                    cpu_request_millicores: w.cpu_request_millicores,
                    memory_request_mib: w.memory_request_mib,
                });
            }
        }
    }

    /// Checks the bookkeeping invariants (resources held per pool equal the pods placed there, capacity is never
    /// exceeded, pod counts add up). Cheap enough for tests and property tests; returns the first violation.
    pub fn check_invariants(&self) -> Result<(), String> {
        let st = &self.state;
        for (p, pool) in st.pools.iter().enumerate() {
            let info = &self.layout.pools[p];
            let (mut cpu, mut mem) = (0u64, 0u64);
            let mut by_domain = vec![0u64; self.layout.domains.len()];
            for (g, w) in st.groups.iter().zip(&st.workloads) {
                let n = u64::from(g.placed_in(p));
                cpu += n * u64::from(w.cpu_request_millicores);
                mem += n * u64::from(w.memory_request_mib);
                by_domain[w.domain as usize] += n * u64::from(w.cpu_request_millicores);
            }
            if cpu != pool.cpu_alloc_millicores || mem != pool.memory_alloc_mib {
                return Err(format!(
                    "pool {}: pods hold {cpu} m / {mem} MiB but the pool records {} m / {} MiB",
                    info.name, pool.cpu_alloc_millicores, pool.memory_alloc_mib
                ));
            }
            if by_domain != pool.cpu_by_domain_millicores {
                return Err(format!("pool {}: per-domain CPU does not add up", info.name));
            }
            let cap_cpu = u64::from(pool.nodes) * info.node_alloc_cpu_millicores;
            let cap_mem = u64::from(pool.nodes) * info.node_alloc_memory_mib;
            if cpu + pool.reserve_placed_millicores > cap_cpu || mem > cap_mem {
                return Err(format!(
                    "pool {}: {} m requested + {} m reserve on {cap_cpu} m of capacity",
                    info.name, cpu, pool.reserve_placed_millicores
                ));
            }
            let cohort_nodes: u32 = pool.cohorts.iter().map(|c| c.count).sum();
            if cohort_nodes != pool.nodes {
                return Err(format!("pool {}: node cohorts hold {cohort_nodes}, pool has {}", info.name, pool.nodes));
            }
        }
        for (i, g) in st.groups.iter().enumerate() {
            let starting: u32 = g.starting.iter().map(|c| c.count).sum();
            let ready: u32 = g.ready_by_pool.iter().sum();
            let terminating: u32 = g.terminating.iter().map(|c| c.count).sum();
            let recent: u32 = g.recent_ready.iter().map(|c| c.count).sum();
            if starting != g.starting_total || ready != g.ready_total || terminating != g.terminating_total {
                return Err(format!("workload {i}: cohort totals do not add up"));
            }
            if recent > g.ready_total {
                return Err(format!("workload {i}: {recent} recently ready pods but {} ready", g.ready_total));
            }
            if g.live() > g.desired {
                return Err(format!("workload {i}: {} live pods above {} desired", g.live(), g.desired));
            }
        }
        Ok(())
    }

    /// The scorecard of the run so far.
    pub fn scorecard(&self, policy: &str) -> Scorecard {
        let inputs = scorecard::ScoreInputs {
            scenario: &self.scenario_name,
            policy,
            seed: self.seed,
            now_secs: self.state.now_secs,
            tick_secs: TICK_SECS,
            domain_names: self
                .layout
                .domains
                .iter()
                .map(|d| (d.id.clone(), format!("{:?}", d.priority), d.slo_p99_latency_ms, d.apps.end - d.apps.start))
                .collect(),
            domain_is_p0_p1: self.layout.domains.iter().map(|d| d.priority.rank() <= 1).collect(),
            total_apps: self.layout.apps.len() as u32,
        };
        scorecard::finish(inputs, &self.state.domain_acc, &self.state.cluster_acc)
    }
}

/// Returns `n` pods' resources of workload `w` to a pool.
fn release(pool: &mut PoolState, w: &Workload, n: u32) {
    let cpu = u64::from(n) * u64::from(w.cpu_request_millicores);
    pool.cpu_alloc_millicores = pool.cpu_alloc_millicores.saturating_sub(cpu);
    pool.memory_alloc_mib = pool.memory_alloc_mib.saturating_sub(u64::from(n) * u64::from(w.memory_request_mib));
    let d = &mut pool.cpu_by_domain_millicores[w.domain as usize];
    *d = d.saturating_sub(cpu);
}

/// Takes `n` pods' resources of workload `w` from a pool.
fn hold(pool: &mut PoolState, w: &Workload, n: u32) {
    let cpu = u64::from(n) * u64::from(w.cpu_request_millicores);
    pool.cpu_alloc_millicores += cpu;
    pool.memory_alloc_mib += u64::from(n) * u64::from(w.memory_request_mib);
    pool.cpu_by_domain_millicores[w.domain as usize] += cpu;
}
