//! What the window keeps of a run: every frame's points, events, forecasts, decision records and ground truth
//! appended, so plots can show the whole run and the inspector can step through every decision. Owned by the UI
//! thread; filled only from worker frames.
//!
//! Time travel: the store holds the run up to the furthest point recorded. What lies after the current time (after a
//! seek back) waits in [`RunSeries::future`], newest first, and moves back as time moves forward again, so panels only
//! ever see the run up to "now": points, truth and events at or before it, forecasts made at or before it, decisions
//! made before it (a decision at `t` is taken in the tick that leaves `t`).

use std::sync::Arc;

use super::breach_segments::BreachSegments;
use super::plot_lines::{LineKey, PlotLines};
use crate::runner::{Frame, SeriesPoint, Speed};
/// The scenario's wall clock, where the panels have always found it.
pub use crate::scenario::clock::{clock_label, clock_label_secs, start_secs_of_week};
use crate::scenario::{DomainLinks, Scenario};
use crate::sim::cascades::{Cascade, cascades};
use crate::sim::{Scorecard, TimelineEvent, TimelineKind};

/// A run's items up to some time (or, for the future, after it).
pub use crate::runner::RunItems as Items;

/// One run's history as the window knows it. Derefs to the items up to now.
#[derive(Clone, Debug, Default)]
pub struct RunSeries {
    pub policy: String,
    pub past: Items,
    /// What was recorded after now, newest first (after a seek back).
    pub future: Items,
    /// The scorecard at now.
    pub scorecard: Option<Scorecard>,
    /// The scorecard as of [`Store::readout_secs`] while the panels' numbers are held ([`Store::hold_readout`]).
    pub(crate) held_scorecard: Option<Scorecard>,
    /// The cascades among the events up to now, with what carried each (as many per domain as the scorecard counts).
    pub cascades: Vec<Cascade>,
    /// How many events `cascades` was read from: the past's events are a prefix of the run's timeline, so the same
    /// count is the same events (a branch starts the run's history afresh).
    pub(crate) cascades_from_events: usize,
    /// What held each breach among the points up to now, tick by tick (read as the points arrive).
    pub breach_segments: BreachSegments,
    /// The plotted lines, thinned with their peaks kept, cached as the points arrive (see [`RunSeries::line`]).
    pub(crate) lines: PlotLines,
}

impl std::ops::Deref for RunSeries {
    type Target = Items;
    fn deref(&self) -> &Items {
        &self.past
    }
}

impl RunSeries {
    pub fn latest(&self) -> Option<&SeriesPoint> {
        self.points.last()
    }

    /// The point the panels' numbers show: the last one at or before `readout_secs` ([`Store::readout_secs`]), or
    /// the latest when that is `None`. Before the first point, the first (a run just started or branched).
    pub fn readout(&self, readout_secs: Option<u64>) -> Option<&SeriesPoint> {
        let Some(t) = readout_secs else { return self.latest() };
        let after = self.points.partition_point(|p| p.t_secs <= t);
        self.points.get(after.saturating_sub(1))
    }

    /// The cascade an entry of the timeline began, if it is a breach start that was one.
    pub fn cascade_of(&self, e: &TimelineEvent) -> Option<&Cascade> {
        let TimelineKind::BreachStart { domain } = e.kind else { return None };
        let k = self.cascades.binary_search_by_key(&(e.t_secs, domain), |c| (c.t_secs, c.domain)).ok()?;
        self.cascades.get(k)
    }

    /// Re-reads the cascades when the events up to now changed (the store does this with every frame).
    pub fn explain_cascades(&mut self, links: &DomainLinks) {
        if self.cascades_from_events != self.past.events.len() {
            self.cascades = cascades(&self.past.events, links);
            self.cascades_from_events = self.past.events.len();
        }
    }

    /// The line of `value` over the points up to now, as plot points `[t_secs, value]`: about `max_points` of them
    /// whatever the run's length, with every bucket's lowest and highest value kept, so a one-tick spike is drawn
    /// ([`crate::app::plot_lines`]). `key` names the value; the same key must always mean the same value.
    pub fn line(&self, key: LineKey, max_points: usize, value: impl Fn(&SeriesPoint) -> Option<f64>) -> Vec<[f64; 2]> {
        self.lines.line(&self.past.points, key, max_points, value)
    }
}

/// Everything the panels read.
#[derive(Clone, Debug)]
pub struct Store {
    pub generation: u64,
    pub now_secs: u64,
    pub duration_secs: u64,
    pub playing: bool,
    pub speed: Speed,
    pub scenario: Arc<Scenario>,
    /// Every event injected in this branch, in injection order (see [`Frame::injections`]).
    pub injections: Vec<crate::sim::InjectedEvent>,
    /// The runs' policies by command-line name, in run order (see [`Frame::policies`]).
    pub policies: Vec<String>,
    pub runs: Vec<RunSeries>,
    /// How far the run is known (the timeline's range).
    pub recorded_until_secs: u64,
    /// The scenario file or recording the run came from.
    pub origin: String,
    /// The warm reserve, if any, and the policies whose runs hold it (empty: every run).
    pub warm_reserve: Option<crate::policy::WarmReserveSpec>,
    pub warm_reserve_for: Vec<String>,
    /// HiRL's Soldiers' size floor (the `hirl*` runs only).
    pub size_floor: crate::agents::hirl::SizeFloor,
    /// The time whose values the panels' numbers show while they are held ([`Store::hold_readout`]); `None`: now.
    /// Plots always run to now.
    pub readout_secs: Option<u64>,
    /// The time up to which the decision inspector's "latest" reaches while it is held ([`Store::hold_decisions`]);
    /// `None`: the newest decision.
    pub decisions_secs: Option<u64>,
    /// How `scenario`'s domains are linked (for the cascades), built when the scenario changes, not every frame.
    links: DomainLinks,
}

impl Store {
    pub fn new(scenario: Arc<Scenario>) -> Self {
        Self {
            generation: u64::MAX,
            now_secs: 0,
            duration_secs: scenario.duration_secs,
            playing: false,
            speed: Speed::default(),
            injections: Vec::new(),
            policies: Vec::new(),
            runs: Vec::new(),
            recorded_until_secs: 0,
            origin: String::new(),
            warm_reserve: None,
            warm_reserve_for: Vec::new(),
            size_floor: Default::default(),
            readout_secs: None,
            decisions_secs: None,
            links: DomainLinks::of(&scenario),
            scenario,
        }
    }

    /// Takes a worker frame. A new generation (new scenario, policy or side-by-side) starts the history afresh.
    pub fn apply(&mut self, frame: Frame) {
        if frame.generation != self.generation || frame.runs.len() != self.runs.len() {
            self.generation = frame.generation;
            self.runs =
                frame.runs.iter().map(|r| RunSeries { policy: r.policy.clone(), ..RunSeries::default() }).collect();
        }
        self.now_secs = frame.now_secs;
        self.duration_secs = frame.duration_secs;
        self.playing = frame.playing;
        self.speed = frame.speed;
        if !Arc::ptr_eq(&self.scenario, &frame.scenario) {
            self.links = DomainLinks::of(&frame.scenario);
        }
        self.scenario = frame.scenario;
        self.injections = frame.injections;
        self.policies = frame.policies;
        self.recorded_until_secs = frame.recorded_until_secs;
        self.origin = frame.origin;
        self.warm_reserve = frame.warm_reserve;
        self.warm_reserve_for = frame.warm_reserve_for;
        self.size_floor = frame.size_floor;
        let now = self.now_secs;
        for (series, run) in self.runs.iter_mut().zip(frame.runs) {
            series.policy = run.policy;
            if let Some(t) = run.branch_from_secs {
                series.past.cut_after(t);
                series.future = Items::default();
                series.cascades_from_events = usize::MAX;
                series.breach_segments = BreachSegments::default();
                series.lines.clear();
            }
            // New items come after everything held, so the future (held newest first) goes back into the past before
            // they are appended. Items are only new beyond the furthest point recorded, where the future is empty:
            // the merge costs nothing then, and a seek (no new items) only moves what crosses "now".
            if !run.new.is_empty() {
                Items::split_at(&mut series.past, &mut series.future, u64::MAX);
                series.past.append(run.new);
            }
            Items::split_at(&mut series.past, &mut series.future, now);
            series.explain_cascades(&self.links);
            series.breach_segments.follow(&series.past.points);
            series.scorecard = Some(run.scorecard);
        }
    }

    /// Holds the panels' numbers at now: they show this instant's values until the next hold or
    /// [`Self::follow_readout`], while the plots go on to now ([`super::readout`] says when).
    pub fn hold_readout(&mut self) {
        self.readout_secs = Some(self.now_secs);
        for run in &mut self.runs {
            run.held_scorecard.clone_from(&run.scorecard);
        }
    }

    /// Holds the decision inspector's "latest" at the newest decision made by now, until the next hold or
    /// [`Self::follow_readout`] ([`super::readout`] says when).
    pub fn hold_decisions(&mut self) {
        self.decisions_secs = Some(self.now_secs);
    }

    /// The panels' numbers and the inspector's "latest" follow now again, every frame.
    pub fn follow_readout(&mut self) {
        self.readout_secs = None;
        self.decisions_secs = None;
    }

    /// The scorecard the panels show for run `run`: held with the numbers, or now's.
    pub fn readout_scorecard(&self, run: usize) -> Option<&Scorecard> {
        let series = self.runs.get(run)?;
        let held = self.readout_secs.and(series.held_scorecard.as_ref());
        held.or(series.scorecard.as_ref())
    }

    /// Simulated time as the wall clock of the scenario: "Tue 12:40".
    pub fn clock_label(&self, t_secs: u64) -> String {
        clock_label(&self.scenario, t_secs)
    }

    /// What the timeline's short label of an event leaves out ([`crate::scenario::describe::event_detail`]): the
    /// event is found by its label and the tick it fired at, among the injections if it was injected, else among
    /// the scenario's own events. Empty when none matches.
    pub fn event_detail(&self, label: &str, t_secs: u64, injected: bool) -> String {
        use crate::scenario::describe::event_detail;
        // Events fire at their start's tick.
        let tick = |t: u64| t.div_ceil(crate::sim::TICK_SECS);
        let fired_as =
            |event: &crate::scenario::EventSpec| event.label() == label && tick(event.start_secs()) == tick(t_secs);
        if injected {
            let injection = self.injections.iter().find(|i| fired_as(&i.event));
            injection.map(|i| event_detail(&self.scenario, &i.event, Some(i.injected_at_secs))).unwrap_or_default()
        } else {
            let scripted = self.scenario.events.iter().find(|ev| fired_as(ev));
            scripted.map(|ev| event_detail(&self.scenario, ev, None)).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Arc<Scenario> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        Arc::new(crate::scenario::load_file(&path).expect("shipped scenario"))
    }

    fn frame(now: u64, points: std::ops::Range<u64>, branch: Option<u64>) -> Frame {
        let scenario = small();
        let scorecard = crate::sim::Simulation::new(&scenario, 1).scorecard("hpa");
        Frame {
            now_secs: now,
            duration_secs: 21_600,
            playing: false,
            speed: Speed::Max,
            generation: 0,
            recorded_until_secs: now,
            origin: String::new(),
            warm_reserve: None,
            warm_reserve_for: Vec::new(),
            size_floor: Default::default(),
            scenario,
            injections: Vec::new(),
            policies: vec!["hpa".into()],
            runs: vec![crate::runner::RunFrame {
                policy: "hpa".into(),
                new: Items {
                    points: points.step_by(5).map(|t| SeriesPoint { t_secs: t, ..SeriesPoint::default() }).collect(),
                    ..Items::default()
                },
                scorecard,
                branch_from_secs: branch,
            }],
        }
    }

    #[test]
    fn domain_links_follow_the_scenario_and_are_kept_while_it_stays() {
        let mut store = Store::new(small());
        let mut first = frame(100, 0..100, None);
        let mut unlinked = (*first.scenario).clone();
        for d in &mut unlinked.domains {
            d.calls.clear();
        }
        first.scenario = Arc::new(unlinked);
        store.apply(first);
        assert_eq!(store.links, DomainLinks::of(&store.scenario), "a new scenario: its links");
        assert!(!store.links.calls(2, 0), "merchant no longer calls payment");
        let mut next = frame(200, 100..200, None);
        next.scenario = Arc::clone(&store.scenario);
        store.apply(next);
        assert!(!store.links.calls(2, 0), "the same scenario: the same links");
        store.apply(frame(300, 200..300, None));
        assert!(store.links.calls(2, 0), "small.ron again: merchant calls payment");
    }

    fn times(items: &[SeriesPoint]) -> Vec<u64> {
        items.iter().map(|p| p.t_secs).collect()
    }

    #[test]
    fn seeking_back_hides_the_future_and_moving_forward_restores_it_in_order() {
        let mut store = Store::new(small());
        store.apply(frame(50, 0..55, None));
        assert_eq!(store.runs[0].points.len(), 11);
        store.apply(frame(20, 0..0, None)); // a seek back: nothing new, time moved
        assert_eq!(times(&store.runs[0].points), vec![0, 5, 10, 15, 20]);
        assert_eq!(store.runs[0].future.points.len(), 6);
        store.apply(frame(35, 0..0, None));
        assert_eq!(times(&store.runs[0].points), (0..40).step_by(5).collect::<Vec<_>>());
        store.apply(frame(60, 55..65, None)); // past the recorded end: new points join in order
        assert_eq!(times(&store.runs[0].points), (0..65).step_by(5).collect::<Vec<_>>());
        assert!(store.runs[0].future.points.is_empty());
    }

    #[test]
    fn what_held_the_breaches_follows_the_points_up_to_now_through_seeks_and_branches() {
        use crate::app::breach_segments::Segment;
        use crate::runner::DomainPoint;
        use crate::sim::breach_cause::BreachCause;
        // Payment waits for room from 20 s to 40 s in the first history; the branch's new points breach nowhere.
        let with_breach = |mut f: Frame, breached: fn(u64) -> bool| {
            for p in &mut f.runs[0].new.points {
                let split = if breached(p.t_secs) { [0.0, 0.0, 1.0, 0.0, 0.0] } else { [0.0; BreachCause::COUNT] };
                p.domains = vec![DomainPoint { breach_split: split, ..DomainPoint::default() }];
            }
            f
        };
        let segments = |store: &Store| store.runs[0].breach_segments.iter().copied().collect::<Vec<_>>();
        let waiting =
            |from_secs, to_secs| Segment { domain: 0, cause: BreachCause::WaitingForRoom, from_secs, to_secs };
        let mut store = Store::new(small());
        store.apply(with_breach(frame(50, 0..55, None), |t| (20..=40).contains(&t)));
        assert_eq!(segments(&store), vec![waiting(20, 45)]);
        store.apply(frame(30, 0..0, None)); // a seek back: only what is up to now
        assert_eq!(segments(&store), vec![waiting(20, 35)]);
        store.apply(frame(50, 0..0, None)); // and forward again
        assert_eq!(segments(&store), vec![waiting(20, 45)]);
        // Injected at 30 s and run on past where the old history ended, in one frame: the old 35…40 are gone.
        store.apply(with_breach(frame(60, 35..65, Some(30)), |_| false));
        assert_eq!(segments(&store), vec![waiting(20, 35)]);
    }

    #[test]
    fn plotted_lines_follow_the_points_up_to_now_through_seeks_and_branches() {
        // The reserve at 1 % of the cluster, but 9 % at 40 s in the first history; 2 % after the branch at 30 s.
        let with_reserve = |mut f: Frame, share: fn(u64) -> f32| {
            for p in &mut f.runs[0].new.points {
                p.reserve_share = share(p.t_secs);
            }
            f
        };
        let line = |store: &Store| store.runs[0].line(("reserve", 0), 600, |p| Some(f64::from(p.reserve_share)));
        let peak = |store: &Store| line(store).iter().map(|p| p[1]).fold(f64::MIN, f64::max);
        let mut store = Store::new(small());
        store.apply(with_reserve(frame(50, 0..55, None), |t| if t == 40 { 0.09 } else { 0.01 }));
        assert_eq!(line(&store).len(), 11);
        assert_eq!(peak(&store), f64::from(0.09f32));
        store.apply(frame(30, 0..0, None)); // a seek back: the spike is in the future
        assert_eq!(peak(&store), f64::from(0.01f32));
        store.apply(frame(50, 0..0, None)); // and forward again
        assert_eq!(peak(&store), f64::from(0.09f32));
        store.apply(with_reserve(frame(60, 35..65, Some(30)), |_| 0.02)); // injected at 30 s: a new history
        assert_eq!(peak(&store), f64::from(0.02f32));
        assert_eq!(line(&store).last(), Some(&[60.0, f64::from(0.02f32)]));
    }

    #[test]
    fn a_branch_drops_the_recorded_future() {
        let mut store = Store::new(small());
        store.apply(frame(50, 0..55, None));
        store.apply(frame(20, 0..0, None));
        store.apply(frame(25, 25..30, Some(20))); // injected at 20 s: the old 25…50 are gone
        assert_eq!(times(&store.runs[0].points), vec![0, 5, 10, 15, 20, 25]);
        assert!(store.runs[0].future.points.is_empty());
    }
}
