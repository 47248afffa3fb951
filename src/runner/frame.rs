//! What the worker sends the window: owned, immutable data. Nothing here borrows the simulation.

use std::sync::Arc;

use crate::agents::hirl::record::{CalleeHold, CommanderRecord, SoldierRecord, Staging};
use crate::agents::hirl::reward::TickTruth;
use crate::agents::hirl::safety::Intervention;
use crate::scenario::Scenario;
use crate::sim::{Scorecard, TimelineEvent};

/// Simulated seconds per wall second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Speed {
    X1,
    X10,
    #[default]
    X60,
    X600,
    /// As fast as the machine goes.
    Max,
}

impl Speed {
    pub const ALL: [Speed; 5] = [Speed::X1, Speed::X10, Speed::X60, Speed::X600, Speed::Max];

    /// Simulated seconds per wall second; `None` for [`Speed::Max`].
    pub fn factor(self) -> Option<f64> {
        match self {
            Speed::X1 => Some(1.0),
            Speed::X10 => Some(10.0),
            Speed::X60 => Some(60.0),
            Speed::X600 => Some(600.0),
            Speed::Max => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Speed::X1 => "1×",
            Speed::X10 => "10×",
            Speed::X60 => "60×",
            Speed::X600 => "600×",
            Speed::Max => "max",
        }
    }
}

/// One domain at one instant (ground truth: the window shows what really happens).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DomainPoint {
    /// Total request rate, requests per second.
    pub rps: f32,
    /// End-to-end p99 latency, milliseconds.
    pub p99_latency_ms: f32,
    pub error_ratio: f32,
    pub ready_pods: u32,
    pub starting_pods: u32,
    pub pending_pods: u32,
    /// CPU requested by the domain's scheduled pods, as a share of the cluster's allocatable CPU (0–1).
    pub allotted_share: f32,
    /// CPU the domain actually uses, as a share of the cluster's allocatable CPU (0–1).
    pub used_share: f32,
    /// The domain's CPU budget (quota) as a share of allocatable CPU, when one is set (HiRL); `None` under HPA.
    pub budget_share: Option<f32>,
    /// What held this tick's breach, by cause in [`crate::sim::breach_cause::BreachCause::ALL`] order (shares
    /// summing to 1); all zero within the SLO.
    pub breach_split: [f32; crate::sim::breach_cause::BreachCause::COUNT],
}

impl DomainPoint {
    /// The cause that held most of this tick's breach (the first in order on a tie); `None` within the SLO.
    pub fn breach_cause(&self) -> Option<crate::sim::breach_cause::BreachCause> {
        crate::sim::breach_cause::BreachCause::dominant(self.breach_split.map(f64::from))
    }
}

/// One node pool at one instant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PoolPoint {
    pub nodes: u32,
    pub booting_nodes: u32,
    pub queued_nodes: u32,
    pub cpu_capacity_cores: f32,
    /// CPU requested per domain, cores.
    pub cpu_by_domain_cores: Vec<f32>,
    pub reserve_cores: f32,
    /// Pods waiting for room (unschedulable), counted in their domain's first pool — where the cluster autoscaler
    /// buys their nodes — and their CPU request in cores. Beside booting and queued nodes it shows a pool that
    /// gets no nodes while its pods wait.
    pub waiting_pods: u32,
    pub waiting_cores: f32,
}

/// Everything plotted, at one tick.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesPoint {
    pub t_secs: u64,
    pub domains: Vec<DomainPoint>,
    pub pools: Vec<PoolPoint>,
    /// Reserve placeholders as a share of allocatable CPU.
    pub reserve_share: f32,
    pub provisioner_queued_requests: u32,
}

pub use crate::agents::forecast::Forecast;

/// The time-ordered items a run produces, one lot per tick: what frames carry and what the window keeps.
///
/// Time rule (used to cut and to split past from future): points, timeline entries and ground truth belong to the
/// tick they describe, forecasts to the time they were made — all "at or before t" — while a decision taken at `t`
/// is made in the tick that leaves `t`, so it belongs to the run after `t` ("before t" holds decisions `< t`).
#[derive(Clone, Debug, Default)]
pub struct RunItems {
    /// One point per simulated tick, oldest first.
    pub points: Vec<SeriesPoint>,
    pub events: Vec<TimelineEvent>,
    /// Forecast sets in the order they were made (one per simulated minute), each per domain.
    pub forecasts: Vec<Vec<Forecast>>,
    /// HiRL decision records (empty for other policies).
    pub commander: Vec<Arc<CommanderRecord>>,
    pub soldiers: Vec<Arc<SoldierRecord>>,
    /// HiRL's "callees first" holds, starts and ends.
    pub holds: Vec<CalleeHold>,
    /// HiRL's survival-first stagings, starts and ends.
    pub stagings: Vec<Staging>,
    /// HiRL's safety-level changes (a domain handed to HPA, frozen, back to its Soldier).
    pub interventions: Vec<Intervention>,
    /// Per-tick ground truth the rewards are computed from (decision outcomes).
    pub truth: Vec<TickTruth>,
}

impl RunItems {
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
            && self.events.is_empty()
            && self.forecasts.is_empty()
            && self.commander.is_empty()
            && self.soldiers.is_empty()
            && self.holds.is_empty()
            && self.stagings.is_empty()
            && self.interventions.is_empty()
            && self.truth.is_empty()
    }

    /// Drops everything after `t` (see the time rule).
    pub fn cut_after(&mut self, t: u64) {
        RunItems::split_at(self, &mut RunItems::default(), t);
    }

    /// Splits a run at `now` by the time rule: `past` (oldest first) keeps what is at or before `now`, `future`
    /// (held newest first) the rest. Items move between the two from their ends, so moving "now" costs only what
    /// crosses it.
    pub fn split_at(past: &mut RunItems, future: &mut RunItems, now: u64) {
        fn split<T>(past: &mut Vec<T>, future: &mut Vec<T>, in_past: impl Fn(&T) -> bool) {
            while past.last().is_some_and(|x| !in_past(x)) {
                future.extend(past.pop());
            }
            while future.last().is_some_and(&in_past) {
                past.extend(future.pop());
            }
        }
        split(&mut past.points, &mut future.points, |p| p.t_secs <= now);
        split(&mut past.events, &mut future.events, |e| e.t_secs <= now);
        split(&mut past.forecasts, &mut future.forecasts, |f| f.first().is_none_or(|x| x.made_at_secs <= now));
        split(&mut past.commander, &mut future.commander, |r| r.t_secs < now);
        split(&mut past.soldiers, &mut future.soldiers, |r| r.t_secs < now);
        split(&mut past.holds, &mut future.holds, |h| h.t_secs < now);
        split(&mut past.stagings, &mut future.stagings, |s| s.t_secs < now);
        split(&mut past.interventions, &mut future.interventions, |i| i.t_secs < now);
        split(&mut past.truth, &mut future.truth, |x| x.t_secs <= now);
    }

    /// Puts `earlier` (all older than what is held) in front.
    pub fn prepend(&mut self, earlier: RunItems) {
        fn front<T>(mut first: Vec<T>, rest: &mut Vec<T>) {
            first.append(rest);
            *rest = first;
        }
        front(earlier.points, &mut self.points);
        front(earlier.events, &mut self.events);
        front(earlier.forecasts, &mut self.forecasts);
        front(earlier.commander, &mut self.commander);
        front(earlier.soldiers, &mut self.soldiers);
        front(earlier.holds, &mut self.holds);
        front(earlier.stagings, &mut self.stagings);
        front(earlier.interventions, &mut self.interventions);
        front(earlier.truth, &mut self.truth);
    }

    /// Appends `later` (all newer than what is held).
    pub fn append(&mut self, later: RunItems) {
        self.points.extend(later.points);
        self.events.extend(later.events);
        self.forecasts.extend(later.forecasts);
        self.commander.extend(later.commander);
        self.soldiers.extend(later.soldiers);
        self.holds.extend(later.holds);
        self.stagings.extend(later.stagings);
        self.interventions.extend(later.interventions);
        self.truth.extend(later.truth);
    }
}

/// One simulation's state for the window. Items are published once per tick of the recorded run: after a seek the
/// window already holds them, and re-simulating publishes nothing new.
#[derive(Clone, Debug)]
pub struct RunFrame {
    pub policy: String,
    /// What the run produced since the previous frame.
    pub new: RunItems,
    /// Scorecard of the run at the frame's time.
    pub scorecard: Scorecard,
    /// The run branched here (an injection after seeking back): the window drops what it holds after this time
    /// before taking this frame's contents.
    pub branch_from_secs: Option<u64>,
}

/// A worker update.
#[derive(Clone, Debug)]
pub struct Frame {
    pub now_secs: u64,
    pub duration_secs: u64,
    pub playing: bool,
    pub speed: Speed,
    /// Bumped whenever a new scenario or policy restarts the run: the window drops its stored series then.
    pub generation: u64,
    /// How far the run is known (the timeline's range): simulated so far, or the recording's length.
    pub recorded_until_secs: u64,
    /// Where the current run came from: a scenario file, or a recording being replayed.
    pub origin: String,
    /// The warm reserve, if any, and the policies whose runs hold it (empty: every run).
    pub warm_reserve: Option<crate::policy::WarmReserveSpec>,
    pub warm_reserve_for: Vec<String>,
    /// HiRL's Soldiers' size floor (it applies to the `hirl*` runs only).
    pub size_floor: crate::agents::hirl::SizeFloor,
    pub scenario: Arc<Scenario>,
    /// Every event injected in this branch, in injection order (after a seek back, the recorded future's too: each
    /// says when it was injected). A handful per session, so sent whole.
    pub injections: Vec<crate::sim::InjectedEvent>,
    /// The runs' policies by command-line name, in run order (`hirl` even while the HPA fallback runs it and the run
    /// is named so): what the toolbar's policy menu offers and what commands name.
    pub policies: Vec<String>,
    /// One run, or two in side-by-side mode (the first is the reference, HPA by default).
    pub runs: Vec<RunFrame>,
}

/// What the worker may tell the window.
#[derive(Clone, Debug)]
pub enum Update {
    Frame(Box<Frame>),
    /// A command failed; the run goes on as before.
    Error(String),
    /// A scenario saved or exported to a file: what to tell the user (where, and what a what-if's file keeps).
    ScenarioWritten(String),
    /// A recording written to a file.
    RecordingSaved(String),
    /// Something the user should know that is not a failure (e.g. settings an opened scenario has no place for).
    Notice(String),
}
