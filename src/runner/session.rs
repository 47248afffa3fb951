//! A session: one scenario and seed, one run (or two side by side) stepped in lockstep, and what it takes to move
//! back and forth in time. The worker thread drives one; benchmarks and tests drive one directly.
//!
//! Contract:
//! - **Deterministic.** Same scenario + seed + policies + injections (each at its recorded time) ⇒ bit-identical
//!   runs, whichever way the session got there (played, stepped, sought, replayed from a recording).
//! - **Snapshots.** Every `snapshot_every_secs` of simulated time the session keeps a deep copy of every run
//!   (simulation, policy, forecaster), taken right after the tick that lands there and before any injection made at
//!   that time.
//! - **Seeking** to `t` restores the latest snapshot at or before `t` (or keeps going from now, when that is
//!   closer) and re-simulates, re-applying each injection just before the tick that follows its injection time. It
//!   lands exactly on `t`.
//! - **Branching.** Injecting at a time before the furthest point recorded starts a new branch: the snapshots after
//!   now and the injections not yet re-applied are dropped, and the outbox tells the window to drop its future too.
//! - **Publishing.** Points, timeline entries, decision records, forecasts and ground truth are published once per
//!   tick of the recorded run: re-simulating a stretch the window already has publishes nothing (it would be the
//!   same, bit for bit), so seeking costs no frame traffic.

use std::sync::Arc;

use super::frame::{DomainPoint, Forecast, PoolPoint, RunFrame, RunItems, SeriesPoint};
use crate::agents::forecast::LiveForecaster;
use crate::agents::hirl::reward::TruthRecorder;
use crate::agents::hirl::{HirlPolicy, SizeFloor};
use crate::agents::policies::{self, PolicyAssets};
use crate::policy::{Autoscaler, WarmReserveSpec};
use crate::replay::{Checkpoint, FORMAT, ModelStamp, Recording};
use crate::scenario::{self, EventSpec, Scenario};
use crate::sim::breach_cause::BreachCause;
use crate::sim::{Actions, DomainId, InjectedEvent, PoolId, SIM_VERSION, Scorecard, Simulation};

/// How a session keeps its past. A full-scale snapshot (one run: simulation ≈ 1.4 MB, HiRL policy ≈ 0.9 MB) is
/// small, but a day of them is not: recent snapshots are dense (scrubbing around "now" is the common case) and older
/// ones are thinned to a coarse grid, which bounds a seek anywhere to `coarse_every_secs` of re-simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Simulated seconds between snapshots near the frontier. Default 600 (10 min).
    pub snapshot_every_secs: u64,
    /// How far behind the frontier snapshots stay dense. Default 3,600 (1 h).
    pub dense_window_secs: u64,
    /// Older snapshots are kept only at multiples of this. Default 3,600: a full-scale day keeps 30, and a seek
    /// re-simulates at most an hour (≈ 0.3 s per run at full scale).
    pub coarse_every_secs: u64,
}

impl SessionConfig {
    /// One snapshot every `secs`, none thinned (tools that only move forward, tests).
    pub fn every(secs: u64) -> Self {
        Self { snapshot_every_secs: secs, dense_window_secs: u64::MAX, coarse_every_secs: secs }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { snapshot_every_secs: 600, dense_window_secs: 3_600, coarse_every_secs: 3_600 }
    }
}

/// What a run is at one instant: everything a snapshot copies.
#[derive(Clone)]
struct RunState {
    sim: Simulation,
    policy: Box<dyn Autoscaler>,
    forecaster: LiveForecaster,
    forecasts: Vec<Forecast>,
    truth: TruthRecorder,
}

/// What a run has produced that the window has not taken yet. Not part of snapshots.
#[derive(Default)]
struct Outbox {
    /// Everything up to this time has been published (points and truth ≤ it, decisions before it).
    published_until_secs: Option<u64>,
    items: RunItems,
    /// Timeline entries before this index have been looked at.
    events_seen: usize,
    /// Tells the window to drop what it holds after this time (a branch).
    branch_from_secs: Option<u64>,
}

struct Run {
    /// The policy as asked for (`hirl`), and as it runs and is shown (`hirl (HPA fallback)` without agents).
    policy: String,
    name: String,
    state: RunState,
    actions: Actions,
    out: Outbox,
}

impl RunState {
    fn new(scenario: &Scenario, seed: u64, policy_name: &str, assets: &PolicyAssets) -> Result<RunState, String> {
        let sim = Simulation::new(scenario, seed);
        let policy = policies::build(policy_name, scenario, sim.layout(), seed, assets).map_err(|e| e.to_string())?;
        let forecaster = LiveForecaster::new(scenario, sim.layout(), seed, assets.forecaster.clone());
        Ok(RunState { sim, policy, forecaster, forecasts: Vec::new(), truth: TruthRecorder::default() })
    }
}

impl RunState {
    /// One tick: the controller decides on what it observes, the actions apply, the cluster advances.
    fn step(&mut self, actions: &mut Actions) {
        actions.clear();
        self.policy.decide(&self.sim.observe(), actions);
        self.sim.apply(actions);
        self.sim.step();
    }

    /// Injects now; returns the event as it will fire. The forecaster and the policy hear of it as it happens.
    fn inject(&mut self, event: &EventSpec) -> EventSpec {
        let now = self.sim.now_secs();
        let fired = self.sim.inject(event.clone());
        self.forecaster.announce(&fired, self.sim.layout(), now);
        self.policy.announce(&fired, self.sim.layout(), now);
        fired
    }
}

/// The injections due at `now` (made at or before it and not applied yet): `injections[*next..]` up to the first
/// later one. Advances `next` past them.
fn due<'a>(injections: &'a [InjectedEvent], next: &mut usize, now: u64) -> &'a [InjectedEvent] {
    let from = (*next).min(injections.len());
    let to = from + injections[from..].partition_point(|i| i.injected_at_secs <= now);
    *next = to;
    &injections[from..to]
}

/// Steps `states` to `target`, applying each of `injections[*next..]` just before the tick after its injection time.
fn advance(
    states: &mut [&mut RunState],
    injections: &[InjectedEvent],
    next: &mut usize,
    target: u64,
    actions: &mut Actions,
) {
    while states.first().is_some_and(|s| s.sim.now_secs() < target) {
        let now = states[0].sim.now_secs();
        for i in due(injections, next, now) {
            for s in states.iter_mut() {
                s.inject(&i.event);
            }
        }
        for s in states.iter_mut() {
            s.step(actions);
        }
    }
}

impl Run {
    fn new(scenario: &Scenario, seed: u64, policy_name: &str, assets: &PolicyAssets) -> Result<Run, String> {
        let state = RunState::new(scenario, seed, policy_name, assets)?;
        let name = state.policy.name().to_string();
        let mut run =
            Run { policy: policy_name.to_string(), name, state, actions: Actions::default(), out: Outbox::default() };
        run.after_tick();
        Ok(run)
    }

    fn step(&mut self) {
        self.state.step(&mut self.actions);
        self.after_tick();
    }

    /// Forecasts, truth and publishing, after every tick (and once at t = 0).
    fn after_tick(&mut self) {
        let s = &mut self.state;
        let now = s.sim.now_secs();
        let n_domains = s.sim.layout().domains.len();
        // The forecaster sees what a controller would: the lagged domain rate, every tick; it forecasts each minute.
        {
            let obs = s.sim.observe();
            s.forecaster.observe(now, (0..n_domains).map(|d| obs.domain(DomainId(d as u8)).rps));
        }
        let new_forecasts = now.is_multiple_of(60);
        if new_forecasts {
            s.forecasts = s.forecaster.forecast(now);
        }
        let truth = s.truth.record(&s.sim);
        // HiRL's decision records go out with the frames (so snapshots of the policy stay small), and its budgets
        // are the Commander's directive: its executor enforces them and no quota is set in the cluster.
        let hirl = s.policy.inspect_mut().and_then(|p| p.downcast_mut::<HirlPolicy>());
        let (decisions, budgets) = match hirl {
            Some(p) => {
                let budgets = Some(p.directive().budget_millicores.clone()).filter(|b| b.iter().any(|x| *x > 0.0));
                (p.take_decisions(), budgets)
            }
            None => Default::default(),
        };

        let fresh = self.out.published_until_secs.is_none_or(|p| now > p);
        let timeline = self.state.sim.timeline();
        let seen = self.out.events_seen.min(timeline.len());
        if fresh {
            let items = &mut self.out.items;
            items.events.extend_from_slice(&timeline[seen..]);
            items.points.push(series_point(&self.state.sim, budgets.as_deref()));
            if new_forecasts && !self.state.forecasts.is_empty() {
                items.forecasts.push(self.state.forecasts.clone());
            }
            items.commander.extend(decisions.commander.into_iter().map(Arc::new));
            items.soldiers.extend(decisions.soldiers.into_iter().map(Arc::new));
            items.holds.extend(decisions.holds);
            items.stagings.extend(decisions.stagings);
            items.interventions.extend(decisions.interventions);
            items.truth.push(truth);
            self.out.published_until_secs = Some(now);
        }
        self.out.events_seen = timeline.len();
    }

    /// The frame of what the run produced since the last one; its scorecard says the reserve the run holds and the
    /// size floor it runs under.
    fn take_frame(&mut self, warm_reserve: Option<&WarmReserveSpec>, size_floor: Option<&SizeFloor>) -> RunFrame {
        let o = &mut self.out;
        RunFrame {
            policy: self.name.clone(),
            new: std::mem::take(&mut o.items),
            scorecard: self.state.sim.scorecard(&self.name).held_under(warm_reserve).sized_under(size_floor),
            branch_from_secs: o.branch_from_secs.take(),
        }
    }

    /// Puts a frame's contents back when the window could not take it (they go out with the next one).
    fn untake(&mut self, frame: RunFrame) {
        let o = &mut self.out;
        o.items.prepend(frame.new);
        // A branch still pending keeps the earliest cut.
        o.branch_from_secs = match (frame.branch_from_secs, o.branch_from_secs) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Back (or forward) to a snapshot; what was published stays published.
    fn restore(&mut self, state: &RunState) {
        self.state = state.clone();
        self.out.events_seen = self.state.sim.timeline().len();
    }

    /// Forget what was published after `t`: the run is branching there.
    fn branch(&mut self, t: u64) {
        if self.out.published_until_secs.is_some_and(|p| p > t) {
            let o = &mut self.out;
            o.published_until_secs = Some(t);
            o.items.cut_after(t);
            o.branch_from_secs = Some(o.branch_from_secs.map_or(t, |b| b.min(t)));
        }
    }
}

/// The plotted state of a simulation at its current tick (ground truth: the window shows what really happens).
/// A domain's budget is its quota in the cluster when one is set, else the policy's own budget (millicores) if it has
/// one.
fn series_point(sim: &Simulation, policy_budgets_millicores: Option<&[f64]>) -> SeriesPoint {
    let layout = sim.layout();
    let obs = sim.observe();
    let pools: Vec<_> = (0..layout.pools.len()).map(|p| obs.pool(PoolId(p as u8))).collect();
    let allocatable: f64 = pools.iter().map(|p| p.cpu_capacity_millicores as f64).sum::<f64>().max(1.0);
    let share = |m: f64| (m / allocatable) as f32;
    let domains = sim
        .domain_truth()
        .iter()
        .enumerate()
        .map(|(d, s)| DomainPoint {
            rps: s.rps,
            p99_latency_ms: s.p99_latency_ms,
            error_ratio: s.error_ratio,
            ready_pods: s.ready_pods,
            starting_pods: s.starting_pods,
            pending_pods: s.pending_pods,
            allotted_share: share(s.cpu_allocated_millicores as f64),
            used_share: share(f64::from(s.cpu_used_millicores)),
            budget_share: sim
                .domain_quota_millicores(DomainId(d as u8))
                .map(|q| q as f64)
                .or_else(|| policy_budgets_millicores.and_then(|b| b.get(d).copied()))
                .map(share),
            breach_split: sim
                .domain_breach_split()
                .get(d)
                .map_or([0.0; BreachCause::COUNT], |split| split.map(|x| x as f32)),
        })
        .collect();
    let n_domains = layout.domains.len();
    let mut waiting = vec![(0u32, 0u64); layout.pools.len()];
    let mut unschedulable = Vec::new();
    obs.unschedulable(&mut unschedulable);
    for u in &unschedulable {
        if let Some(w) = layout.domains[u.domain.0 as usize].pools.first().and_then(|p| waiting.get_mut(p.0 as usize)) {
            w.0 += u.pods;
            w.1 += u64::from(u.pods) * u64::from(u.cpu_request_millicores);
        }
    }
    SeriesPoint {
        t_secs: sim.now_secs(),
        domains,
        pools: pools
            .iter()
            .enumerate()
            .map(|(p, v)| PoolPoint {
                nodes: v.nodes,
                booting_nodes: v.booting_nodes,
                queued_nodes: v.queued_nodes,
                cpu_capacity_cores: v.cpu_capacity_millicores as f32 / 1000.0,
                cpu_by_domain_cores: (0..n_domains)
                    .map(|d| sim.pool_domain_cpu_millicores(p, d) as f32 / 1000.0)
                    .collect(),
                reserve_cores: v.reserve_placed_millicores as f32 / 1000.0,
                waiting_pods: waiting[p].0,
                waiting_cores: waiting[p].1 as f32 / 1000.0,
            })
            .collect(),
        reserve_share: share(pools.iter().map(|p| p.reserve_placed_millicores as f64).sum()),
        provisioner_queued_requests: sim.provisioner_queued_requests(),
    }
}

struct Snapshot {
    t_secs: u64,
    runs: Vec<RunState>,
}

/// The runs of one scenario and seed, with their past.
pub struct Session {
    scenario: Arc<Scenario>,
    seed: u64,
    /// The warm reserve (from the assets it started with, or the recording it replays) and the runs that hold it
    /// (policy names; empty: every run).
    warm_reserve: Option<WarmReserveSpec>,
    warm_reserve_for: Vec<String>,
    /// The HiRL Soldiers' size floor (from the assets, or the recording); the other policies ignore it.
    size_floor: SizeFloor,
    cfg: SessionConfig,
    runs: Vec<Run>,
    /// Every event injected in this branch, in injection order (the recorded future included, after a seek back).
    injections: Vec<InjectedEvent>,
    /// `injections[..next_injection]` have been applied to the runs.
    next_injection: usize,
    /// Time-ordered.
    snapshots: Vec<Snapshot>,
    /// How far this branch's run is known: simulated so far, or the length of the recording it replays.
    recorded_until_secs: u64,
}

impl Session {
    /// Starts `policies` (one, or two side by side) on a scenario at t = 0.
    pub fn new(
        scenario: Arc<Scenario>,
        seed: u64,
        policies: &[String],
        assets: &PolicyAssets,
        cfg: SessionConfig,
    ) -> Result<Session, String> {
        if let Some(Err(e)) = assets.warm_reserve.as_ref().map(|w| w.check(&scenario)) {
            return Err(e.to_string());
        }
        // As a reserve on a pool the scenario lacks: a floor on a domain it lacks would floor nothing, unseen.
        assets.size_floor.check(&scenario)?;
        let runs = policies.iter().map(|p| Run::new(&scenario, seed, p, assets)).collect::<Result<Vec<_>, _>>()?;
        if runs.is_empty() {
            return Err("a session needs at least one policy".into());
        }
        let mut session = Session {
            scenario,
            seed,
            warm_reserve: assets.warm_reserve.clone(),
            warm_reserve_for: assets.warm_reserve_for.clone(),
            size_floor: assets.size_floor.clone(),
            cfg: SessionConfig { snapshot_every_secs: cfg.snapshot_every_secs.max(crate::sim::TICK_SECS), ..cfg },
            runs,
            injections: Vec::new(),
            next_injection: 0,
            snapshots: Vec::new(),
            recorded_until_secs: 0,
        };
        session.snapshot();
        Ok(session)
    }

    /// A session that will replay `injections` (each at its `injected_at_secs`), known to run until
    /// `recorded_until_secs`.
    pub fn replaying(
        scenario: Arc<Scenario>,
        seed: u64,
        policies: &[String],
        injections: Vec<InjectedEvent>,
        recorded_until_secs: u64,
        assets: &PolicyAssets,
        cfg: SessionConfig,
    ) -> Result<Session, String> {
        let mut s = Session::new(scenario, seed, policies, assets, cfg)?;
        s.injections = injections;
        s.recorded_until_secs = recorded_until_secs.min(s.scenario.duration_secs);
        Ok(s)
    }

    /// A session that replays a recording from t = 0 (its policies and models are not checked here: see
    /// `runner::check_recording`), under the recording's warm reserve, held by the runs it names, and its size floor
    /// (shipped when it names none), whatever `assets` hold.
    pub fn from_recording(rec: &Recording, assets: &PolicyAssets, cfg: SessionConfig) -> Result<Session, String> {
        Session::replaying(
            Arc::new(rec.scenario.clone()),
            rec.seed,
            &rec.policies,
            rec.injections.clone(),
            rec.end_secs,
            &PolicyAssets {
                warm_reserve: rec.warm_reserve.clone(),
                warm_reserve_for: rec.warm_reserve_for.clone(),
                size_floor: rec.size_floor.clone().unwrap_or_default(),
                ..assets.clone()
            },
            cfg,
        )
    }

    /// The warm reserve, if any (see [`Session::warm_reserve_for`] for the runs that hold it).
    pub fn warm_reserve(&self) -> Option<&WarmReserveSpec> {
        self.warm_reserve.as_ref()
    }

    /// The policies that hold the warm reserve; empty: every run.
    pub fn warm_reserve_for(&self) -> &[String] {
        &self.warm_reserve_for
    }

    /// The HiRL Soldiers' size floor (the shipped one unless the session was started or recorded with another).
    pub fn size_floor(&self) -> &SizeFloor {
        &self.size_floor
    }

    /// The size floor `policy` runs under, when it is HiRL and the floor is not the shipped one.
    fn size_floor_of(&self, policy: &str) -> Option<&SizeFloor> {
        policies::size_floor_of(&self.size_floor, policy)
    }

    /// The warm reserve `policy` runs under, if any.
    fn warm_reserve_of(&self, policy: &str) -> Option<&WarmReserveSpec> {
        crate::policy::reserve_of(self.warm_reserve.as_ref(), &self.warm_reserve_for, policy)
    }

    /// A run's scorecard (`policy` its command-line name, `name` the policy's own), saying the warm reserve and size
    /// floor it ran under.
    fn scorecard_of(&self, sim: &Simulation, policy: &str, name: &str) -> Scorecard {
        sim.scorecard(name).held_under(self.warm_reserve_of(policy)).sized_under(self.size_floor_of(policy))
    }

    pub fn scenario(&self) -> &Arc<Scenario> {
        &self.scenario
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn now_secs(&self) -> u64 {
        self.runs[0].state.sim.now_secs()
    }

    pub fn duration_secs(&self) -> u64 {
        self.scenario.duration_secs
    }

    pub fn finished(&self) -> bool {
        self.now_secs() >= self.duration_secs()
    }

    /// How far the run is known (the timeline's scrubbable range): the furthest tick simulated in this branch, or the
    /// end of the recording being replayed.
    pub fn recorded_until_secs(&self) -> u64 {
        self.recorded_until_secs.max(self.now_secs())
    }

    /// Policy names as given (one per run).
    pub fn policies(&self) -> Vec<String> {
        self.runs.iter().map(|r| r.policy.clone()).collect()
    }

    /// Run names as shown (a policy that fell back names itself so).
    pub fn run_names(&self) -> Vec<String> {
        self.runs.iter().map(|r| r.name.clone()).collect()
    }

    /// Every event injected in this branch, in injection order.
    pub fn injections(&self) -> &[InjectedEvent] {
        &self.injections
    }

    pub fn simulation(&self, run: usize) -> Option<&Simulation> {
        self.runs.get(run).map(|r| &r.state.sim)
    }

    /// One tick of every run (injections due now first). Nothing happens once the scenario is over.
    pub fn step(&mut self) {
        if self.finished() {
            return;
        }
        let now = self.now_secs();
        for i in due(&self.injections, &mut self.next_injection, now) {
            for r in &mut self.runs {
                r.state.inject(&i.event);
            }
        }
        for r in &mut self.runs {
            r.step();
        }
        self.recorded_until_secs = self.recorded_until_secs.max(self.now_secs());
        if self.now_secs().is_multiple_of(self.cfg.snapshot_every_secs) {
            self.snapshot();
        }
    }

    /// Keeps a copy of every run at the frontier, and thins the older ones (see [`SessionConfig`]).
    fn snapshot(&mut self) {
        let t = self.now_secs();
        if self.snapshots.last().is_some_and(|s| s.t_secs >= t) {
            return;
        }
        self.snapshots.push(Snapshot { t_secs: t, runs: self.runs.iter().map(|r| r.state.clone()).collect() });
        let (dense, coarse) = (self.cfg.dense_window_secs, self.cfg.coarse_every_secs.max(1));
        self.snapshots.retain(|s| s.t_secs.saturating_add(dense) >= t || s.t_secs.is_multiple_of(coarse));
    }

    /// Injects an event into every run now: it fires at the next tick, or at its own start if later. Before the
    /// furthest point recorded this starts a new branch. Returns the event as it will fire.
    ///
    /// The runs take it at the next step, as a replay does (`due`): applied at once, the state at `now` would hold
    /// it in the live session but not in a replay seeking to `now`, so a recording ending at an injection failed its
    /// own replay at the last checkpoint.
    pub fn inject(&mut self, event: EventSpec) -> Result<EventSpec, String> {
        let index = self.scenario.events.len();
        if let Some(p) = scenario::validate_event(&self.scenario, &event).first() {
            return Err(format!("cannot inject {}: events[{index}]{}: {}", event.label(), p.path, p.message));
        }
        let now = self.now_secs();
        let scheduled = crate::sim::schedule_from(&event, now + crate::sim::TICK_SECS);
        if scheduled.start_secs() >= self.duration_secs() {
            return Err(format!(
                "cannot inject {}: it would fire at {} s, when the run has ended ({} s)",
                event.label(),
                scheduled.start_secs(),
                self.duration_secs()
            ));
        }
        if self.recorded_until_secs() > now || self.injections.iter().any(|i| i.injected_at_secs > now) {
            self.branch();
        }
        let recorded = InjectedEvent { injected_at_secs: now, event: scheduled };
        self.injections.push(recorded.clone());
        Ok(recorded.event)
    }

    /// Drops everything after now: the later snapshots, the injections not yet applied, and the window's future.
    fn branch(&mut self) {
        let now = self.now_secs();
        self.snapshots.retain(|s| s.t_secs <= now);
        // Those injected at `now` stay: the runs take them at the next step.
        self.injections.truncate(self.injections.partition_point(|i| i.injected_at_secs <= now));
        self.recorded_until_secs = now;
        for r in &mut self.runs {
            r.branch(now);
        }
    }

    /// Moves every run to exactly `t_secs` (clamped to the scenario), from the nearest snapshot or from now.
    pub fn seek(&mut self, t_secs: u64) {
        let target = self.begin_seek(t_secs);
        while self.now_secs() < target {
            self.step();
        }
    }

    /// The first half of [`Session::seek`]: restores the snapshot to start from (if any) and returns the tick to
    /// step to (`t_secs` clamped to the scenario, on a tick). The caller steps until `now_secs()` reaches it — the
    /// worker does so in slices, so a long seek forward stays interruptible and shows its progress.
    pub fn begin_seek(&mut self, t_secs: u64) -> u64 {
        let target = (t_secs.min(self.duration_secs()) / crate::sim::TICK_SECS) * crate::sim::TICK_SECS;
        let now = self.now_secs();
        if target == now {
            return target;
        }
        let i = self.snapshots.partition_point(|s| s.t_secs <= target);
        let from = i.checked_sub(1).map(|i| &self.snapshots[i]);
        // Going forward, a snapshot between now and the target saves ticks; going back, one is needed.
        if let Some(snap) = from.filter(|s| target < now || s.t_secs > now) {
            for (run, state) in self.runs.iter_mut().zip(&snap.runs) {
                run.restore(state);
            }
            let t = snap.t_secs;
            self.next_injection = self.injections.partition_point(|i| i.injected_at_secs < t);
        }
        target
    }

    /// Takes one frame per run of what was produced since the last call.
    pub fn take_frames(&mut self) -> Vec<RunFrame> {
        let (spec, held_by) = (self.warm_reserve.as_ref(), &self.warm_reserve_for);
        let size_floor = &self.size_floor;
        self.runs
            .iter_mut()
            .map(|run| {
                let held = crate::policy::reserve_of(spec, held_by, &run.policy);
                let sized = policies::size_floor_of(size_floor, &run.policy);
                run.take_frame(held, sized)
            })
            .collect()
    }

    /// Puts frames back that could not be delivered.
    pub fn untake_frames(&mut self, frames: Vec<RunFrame>) {
        for (run, frame) in self.runs.iter_mut().zip(frames) {
            run.untake(frame);
        }
    }

    /// The scenario with every injection of this branch appended as scripted (what `Export` writes).
    pub fn export_scenario(&self) -> Scenario {
        let mut out = (*self.scenario).clone();
        out.seed = self.seed;
        let mut events: Vec<&InjectedEvent> = self.injections.iter().collect();
        events.sort_by_key(|i| i.event.start_secs());
        out.events.extend(events.into_iter().map(InjectedEvent::as_scripted));
        out
    }

    /// Copies of every run at `t_secs` (within this branch), from the nearest snapshot or from now, leaving the
    /// session as it is. For recordings: the state at the end, and checkpoints.
    fn probe(&self, t_secs: u64) -> Vec<RunState> {
        let now = self.now_secs();
        let i = self.snapshots.partition_point(|s| s.t_secs <= t_secs);
        let snap = i.checked_sub(1).map(|i| &self.snapshots[i]).filter(|s| t_secs < now || s.t_secs > now);
        let (mut states, mut next) = match snap {
            Some(s) => (s.runs.clone(), self.injections.partition_point(|i| i.injected_at_secs < s.t_secs)),
            None => (self.runs.iter().map(|r| r.state.clone()).collect(), self.next_injection),
        };
        let mut refs: Vec<&mut RunState> = states.iter_mut().collect();
        advance(&mut refs, &self.injections, &mut next, t_secs, &mut Actions::default());
        states
    }

    /// This branch as a recording, from t = 0 to the furthest point recorded, with state digests every hour and at
    /// the end. `models` are the models the policies used (see `runner::model_stamps`).
    pub fn recording(&self, origin: &str, models: Vec<ModelStamp>) -> Recording {
        let end = self.recorded_until_secs();
        let mut checkpoints: Vec<Checkpoint> = (1..=end / 3600)
            .map(|h| h * 3600)
            .chain(std::iter::once(end))
            .map(|t| Checkpoint {
                t_secs: t,
                state_digests: self.probe(t).iter().map(|s| s.sim.state_digest()).collect(),
            })
            .collect();
        checkpoints.dedup_by_key(|c| c.t_secs);
        let names = self.run_names();
        let policies = self.policies();
        let last = self.probe(end);
        // The runs that held the reserve, as the recording's check wants them: none (no reserve), all (no names),
        // or those of its policies.
        let holders: Vec<String> = policies.iter().filter(|p| self.warm_reserve_of(p).is_some()).cloned().collect();
        let (warm_reserve, warm_reserve_for) = match holders.len() {
            0 => (None, Vec::new()),
            n if n == policies.len() => (self.warm_reserve.clone(), Vec::new()),
            _ => (self.warm_reserve.clone(), holders),
        };
        Recording {
            format: FORMAT.to_string(),
            sim_version: SIM_VERSION,
            origin: origin.to_string(),
            scenario_digest: Recording::scenario_digest_of(&self.scenario),
            scenario: (*self.scenario).clone(),
            seed: self.seed,
            scorecards: last
                .iter()
                .zip(policies.iter().zip(&names))
                .map(|(s, (p, n))| self.scorecard_of(&s.sim, p, n))
                .collect(),
            // Stored only where it changed a run, as the reserve is.
            size_floor: policies.iter().any(|p| self.size_floor_of(p).is_some()).then(|| self.size_floor.clone()),
            policies,
            warm_reserve,
            warm_reserve_for,
            // What a what-if replaced is known to whoever lifted it (the worker), not to the session.
            unlifted: None,
            models,
            injections: self.injections.clone(),
            end_secs: end,
            checkpoints,
        }
    }

    /// The state digests of every run now (compare with a recording's checkpoints).
    pub fn state_digests(&self) -> Vec<String> {
        self.runs.iter().map(|r| r.state.sim.state_digest()).collect()
    }

    /// The scorecards of every run now.
    pub fn scorecards(&self) -> Vec<Scorecard> {
        self.runs.iter().map(|r| self.scorecard_of(&r.state.sim, &r.policy, &r.name)).collect()
    }

    pub fn snapshot_count(&self) -> usize {
        self.snapshots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Actions, AppId};

    #[test]
    fn pods_waiting_for_room_are_counted_in_their_domains_first_pool() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        let s = crate::scenario::load_file(&path).expect("small.ron loads");
        let mut sim = Simulation::new(&s, s.seed);
        assert!(series_point(&sim, None).pools.iter().all(|p| p.waiting_pods == 0 && p.waiting_cores == 0.0));
        // Far more of one Merchant app's pods than its pools hold: the rest wait.
        let merchant = s.domains.iter().position(|d| d.id == "merchant").expect("small.ron has merchant");
        let layout = sim.layout().clone();
        let app = layout.domains[merchant].apps.start;
        sim.apply(&Actions { replicas: vec![(AppId(app), 100_000)], ..Actions::default() });
        sim.step();
        let point = series_point(&sim, None);
        let pending: u32 = sim.domain_truth().iter().map(|d| d.pending_pods).sum();
        let first = layout.domains[merchant].pools[0].0 as usize;
        assert!(pending > 0 && point.pools[first].waiting_pods == pending, "{:?}", point.pools);
        let cpu = f64::from(pending) * f64::from(layout.apps[app as usize].cpu_request_millicores) / 1000.0;
        assert!((f64::from(point.pools[first].waiting_cores) - cpu).abs() < 1e-3 * cpu, "{:?}", point.pools[first]);
        assert!(point.pools.iter().enumerate().all(|(p, x)| p == first || x.waiting_pods == 0));
    }
}
