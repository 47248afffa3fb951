//! What the window keeps of a run: every frame's points appended, so plots can show the whole run and the cursor can
//! move back through it. Owned by the UI thread; filled only from worker frames.

use std::sync::Arc;

use crate::runner::{Forecast, Frame, SeriesPoint, Speed};
use crate::scenario::Scenario;
use crate::sim::{Scorecard, TimelineEvent};

/// One run's history as the window knows it.
#[derive(Clone, Debug, Default)]
pub struct RunSeries {
    pub policy: String,
    /// One point per simulated tick, oldest first.
    pub points: Vec<SeriesPoint>,
    pub events: Vec<TimelineEvent>,
    pub scorecard: Option<Scorecard>,
    /// Forecasts in the order they were made (one set per simulated minute): per domain.
    pub forecasts: Vec<Vec<Forecast>>,
}

impl RunSeries {
    pub fn latest(&self) -> Option<&SeriesPoint> {
        self.points.last()
    }

    /// Every `stride`-th point (and the last), so a plot of a long run stays cheap to draw: O(`max_points`), whatever
    /// the run's length.
    pub fn sampled(&self, max_points: usize) -> impl Iterator<Item = &SeriesPoint> {
        let n = self.points.len();
        let stride = n.div_ceil(max_points.max(1)).max(1);
        // The last point is always included so "now" is drawn; skip it in the strided part if it falls there.
        let last = n.checked_sub(1).filter(|l| l % stride != 0);
        self.points.iter().step_by(stride).chain(last.and_then(|l| self.points.get(l)))
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
    pub runs: Vec<RunSeries>,
}

impl Store {
    pub fn new(scenario: Arc<Scenario>) -> Self {
        Self {
            generation: u64::MAX,
            now_secs: 0,
            duration_secs: scenario.duration_secs,
            playing: false,
            speed: Speed::default(),
            scenario,
            runs: Vec::new(),
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
        self.scenario = frame.scenario;
        for (series, run) in self.runs.iter_mut().zip(frame.runs) {
            series.policy = run.policy;
            series.points.extend(run.new_points);
            series.events.extend(run.new_events);
            series.scorecard = Some(run.scorecard);
            let is_new = |f: &Vec<Forecast>| {
                series.forecasts.last().and_then(|l| l.first()).map(|x| x.made_at_secs)
                    != f.first().map(|x| x.made_at_secs)
            };
            if !run.forecasts.is_empty() && is_new(&run.forecasts) {
                series.forecasts.push(run.forecasts);
            }
        }
    }

    /// Simulated time as the wall clock of the scenario: "Tue 12:40".
    pub fn clock_label(&self, t_secs: u64) -> String {
        clock_label(&self.scenario, t_secs)
    }
}

/// "Tue 12:40" for `t_secs` after the scenario's start.
pub fn clock_label(scenario: &Scenario, t_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let start = u64::from(scenario.start.weekday) * 86_400 + u64::from(scenario.start.hour) * 3600;
    let t = (start + t_secs) % (7 * 86_400);
    format!("{} {:02}:{:02}", DAYS[(t / 86_400) as usize], (t % 86_400) / 3600, (t % 3600) / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: u64) -> RunSeries {
        RunSeries {
            points: (0..n).map(|i| SeriesPoint { t_secs: i * 5, ..SeriesPoint::default() }).collect(),
            ..RunSeries::default()
        }
    }

    #[test]
    fn sampling_is_bounded_evenly_spaced_and_keeps_the_last_point() {
        for (n, max) in [(0, 10), (1, 10), (10, 10), (11, 10), (17_280, 600), (1_000, 1)] {
            let s = series(n);
            let ts: Vec<u64> = s.sampled(max).map(|p| p.t_secs).collect();
            assert!(ts.len() <= max + 1, "n={n} max={max}: {} points", ts.len());
            assert_eq!(ts.last().copied(), s.points.last().map(|p| p.t_secs), "n={n}: last point kept");
            assert!(ts.windows(2).all(|w| w[0] < w[1]), "n={n}: in order, no repeats");
            if n > 0 {
                assert_eq!(ts[0], 0);
            }
        }
    }

    #[test]
    fn clock_labels_follow_the_scenario_start() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/flash-sale-early.ron");
        let s = crate::scenario::load_file(&path).expect("shipped scenario");
        assert_eq!(clock_label(&s, 0), "Tue 11:00");
        assert_eq!(clock_label(&s, 6_000), "Tue 12:40");
    }
}
