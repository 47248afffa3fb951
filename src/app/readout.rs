//! When the panels' numbers, and the decision inspector's "latest", follow a playing run: a few times a second, not
//! every frame.
//!
//! At 600× a frame moves the run on by ten simulated seconds, so numbers redrawn every frame change faster than
//! anyone can read them, and every string that changes is shaped and laid out again (`harfrust`), the largest part of
//! a frame's layout that depends on the run moving (`cargo bench --bench frame_time`). While the run plays, the
//! numbers are held ([`Store::hold_readout`]) and refreshed every [`READOUT_REFRESH`] of wall time; the plots still
//! move every frame. Paused, stepping or seeking, the numbers are exact at every frame: the run only moves then by
//! the user's hand, and what they read must be the instant they chose.
//!
//! The decision inspector's "latest" is held the same way, once every [`DECISION_REFRESH`] ([`Store::hold_decisions`]):
//! each move re-runs its attribution (a forward pass per feature, a few ms), and at 600× the Commander alone decides
//! ten times a second, faster than anyone reads a decision. Every column and stream shows the same held instant.
//!
//! Only what is shown waits; the simulation, the store and everything written or copied from a run are unaffected.

use std::time::{Duration, Instant};

use super::store::Store;

/// Wall time between two refreshes of the panels' numbers while a run plays: four a second.
pub const READOUT_REFRESH: Duration = Duration::from_millis(250);

/// Wall time between two moves of the decision inspector's "latest" while a run plays: once a second.
pub const DECISION_REFRESH: Duration = Duration::from_secs(1);

/// Decides, frame by frame, whether the panels' numbers and the inspector's "latest" are refreshed.
#[derive(Debug, Default)]
pub struct ReadoutClock {
    /// When the numbers were last held, and the run (generation) they were held on.
    held: Option<(Instant, u64)>,
    /// The same for the inspector's "latest".
    decisions_held: Option<(Instant, u64)>,
}

/// Whether a hold made at `held` is due for a refresh at `now`: none yet, a new run, or `period` since.
fn due(held: Option<(Instant, u64)>, now: Instant, generation: u64, period: Duration) -> bool {
    held.is_none_or(|(at, held_generation)| held_generation != generation || now.duration_since(at) >= period)
}

impl ReadoutClock {
    /// Call once a frame, after the worker's updates are applied: holds the numbers (and the inspector's "latest") at
    /// now when a refresh is due (the first frame of a playing run, a new run, or [`READOUT_REFRESH`]
    /// ([`DECISION_REFRESH`]) since the last), and lets them follow now when the run is not playing.
    pub fn follow(&mut self, store: &mut Store, now: Instant) {
        if !store.playing {
            store.follow_readout();
            (self.held, self.decisions_held) = (None, None);
            return;
        }
        if due(self.held, now, store.generation, READOUT_REFRESH) {
            store.hold_readout();
            self.held = Some((now, store.generation));
        }
        if due(self.decisions_held, now, store.generation, DECISION_REFRESH) {
            store.hold_decisions();
            self.decisions_held = Some((now, store.generation));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::panels::test_support::empty_store;
    use crate::app::store::RunSeries;
    use crate::runner::SeriesPoint;

    /// A store with one run whose points reach `now_secs`, every 5 s.
    fn playing_until(store: &mut Store, now_secs: u64) {
        store.playing = true;
        store.now_secs = now_secs;
        let run = &mut store.runs[0];
        let from = run.points.last().map_or(0, |p| p.t_secs + 5);
        run.past.points.extend((from..=now_secs).step_by(5).map(|t_secs| SeriesPoint { t_secs, ..Default::default() }));
        run.scorecard = Some(crate::sim::Simulation::new(&store.scenario, 1).scorecard("hpa"));
        if let Some(card) = run.scorecard.as_mut() {
            card.simulated_secs = now_secs;
        }
    }

    fn shown(store: &Store) -> (Option<u64>, Option<u64>) {
        let point = store.runs[0].readout(store.readout_secs).map(|p| p.t_secs);
        (point, store.readout_scorecard(0).map(|c| c.simulated_secs))
    }

    #[test]
    fn playing_numbers_refresh_four_times_a_second_and_pausing_makes_them_exact() {
        let mut store = empty_store();
        store.runs.push(RunSeries { policy: "hpa".into(), ..RunSeries::default() });
        let mut clock = ReadoutClock::default();
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);

        playing_until(&mut store, 100);
        clock.follow(&mut store, at(0));
        assert_eq!(shown(&store), (Some(100), Some(100)), "the first frame of a playing run shows it");
        playing_until(&mut store, 110);
        clock.follow(&mut store, at(16));
        assert_eq!(shown(&store), (Some(100), Some(100)), "held between refreshes");
        assert_eq!(store.runs[0].latest().map(|p| p.t_secs), Some(110), "the plots' points still reach now");
        playing_until(&mut store, 250);
        clock.follow(&mut store, at(249));
        assert_eq!(shown(&store), (Some(100), Some(100)));
        clock.follow(&mut store, at(250));
        assert_eq!(shown(&store), (Some(250), Some(250)), "refreshed after 250 ms");

        playing_until(&mut store, 260);
        store.playing = false;
        clock.follow(&mut store, at(260));
        assert_eq!(shown(&store), (Some(260), Some(260)), "paused: exact at once");
        assert_eq!(store.readout_secs, None);

        // A new run while playing (a recording opened, a policy switched) is shown at once.
        playing_until(&mut store, 270);
        clock.follow(&mut store, at(270));
        playing_until(&mut store, 280);
        store.generation = store.generation.wrapping_add(1);
        clock.follow(&mut store, at(280));
        assert_eq!(shown(&store), (Some(280), Some(280)), "a new run refreshes the numbers");
    }

    #[test]
    fn the_inspector_s_latest_moves_on_once_a_second_and_at_once_when_paused() {
        let mut store = empty_store();
        store.runs.push(RunSeries { policy: "hirl".into(), ..RunSeries::default() });
        let mut clock = ReadoutClock::default();
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);

        playing_until(&mut store, 100);
        clock.follow(&mut store, at(0));
        assert_eq!(store.decisions_secs, Some(100), "the first frame of a playing run holds now");
        playing_until(&mut store, 400);
        clock.follow(&mut store, at(500));
        assert_eq!(store.readout_secs, Some(400), "the numbers moved on");
        assert_eq!(store.decisions_secs, Some(100), "the inspector's latest did not");
        playing_until(&mut store, 500);
        clock.follow(&mut store, at(999));
        assert_eq!(store.decisions_secs, Some(100));
        clock.follow(&mut store, at(1000));
        assert_eq!(store.decisions_secs, Some(500), "moved on after a second");

        playing_until(&mut store, 510);
        store.generation = store.generation.wrapping_add(1);
        clock.follow(&mut store, at(1100));
        assert_eq!(store.decisions_secs, Some(510), "a new run: at once");
        store.playing = false;
        clock.follow(&mut store, at(1116));
        assert_eq!(store.decisions_secs, None, "paused: the newest decision");
    }

    #[test]
    fn a_held_time_before_the_first_point_shows_the_first() {
        let mut store = empty_store();
        store.runs.push(RunSeries { policy: "hpa".into(), ..RunSeries::default() });
        playing_until(&mut store, 20);
        store.readout_secs = Some(12);
        assert_eq!(store.runs[0].readout(store.readout_secs).map(|p| p.t_secs), Some(10), "the last at or before");
        store.runs[0].past.points.drain(..3);
        assert_eq!(store.runs[0].readout(store.readout_secs).map(|p| p.t_secs), Some(15), "none before: the first");
        assert_eq!(store.readout_scorecard(0).map(|c| c.simulated_secs), Some(20), "nothing held: now's scorecard");
    }
}
