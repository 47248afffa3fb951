//! What held each domain's breaches, as stretches of ticks with one cause: what the "What held the breaches" panel
//! draws, kept up to date with the run as it grows.
//!
//! Contract: built from a run's points up to now (one per tick, in time order); a segment covers its ticks
//! `[from_secs, to_secs)`, simulated seconds. Extending is incremental: each point is read once as the run advances
//! (a week's run would cost several milliseconds a frame to read again), and a run that got shorter (a seek back, a
//! branch) is read again from its start.

use crate::runner::SeriesPoint;
use crate::sim::TICK_SECS;
use crate::sim::breach_cause::BreachCause;

/// A stretch of one domain's breach held by one cause: lane, cause, first tick's time and the time after its last.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    pub domain: usize,
    pub cause: BreachCause,
    pub from_secs: u64,
    pub to_secs: u64,
}

/// The segments of a run's points so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BreachSegments {
    /// Segments that ended, in the order they ended.
    done: Vec<Segment>,
    /// Per domain, the segment still growing at the last point read.
    open: Vec<Option<Segment>>,
    /// How many points have been read: the points up to now are a prefix of the run's (a branch resets).
    read: usize,
}

impl BreachSegments {
    /// The segments of `points` from scratch.
    pub fn of(points: &[SeriesPoint]) -> Self {
        let mut s = Self::default();
        s.follow(points);
        s
    }

    /// Reads the points not read yet; starts again when there are fewer than were read.
    pub fn follow(&mut self, points: &[SeriesPoint]) {
        if points.len() < self.read {
            *self = Self::default();
        }
        for p in &points[self.read..] {
            self.push(p);
        }
        self.read = points.len();
    }

    fn push(&mut self, p: &SeriesPoint) {
        if self.open.len() < p.domains.len() {
            self.open.resize(p.domains.len(), None);
        }
        let end = p.t_secs + TICK_SECS;
        for (d, (point, open)) in p.domains.iter().zip(&mut self.open).enumerate() {
            match (open.as_mut(), point.breach_cause()) {
                (Some(s), Some(c)) if s.cause == c && s.to_secs == p.t_secs => s.to_secs = end,
                (_, Some(c)) => {
                    self.done.extend(open.replace(Segment { domain: d, cause: c, from_secs: p.t_secs, to_secs: end }))
                }
                (_, None) => self.done.extend(open.take()),
            }
        }
    }

    /// Every segment so far, ended ones first.
    pub fn iter(&self) -> impl Iterator<Item = &Segment> {
        self.done.iter().chain(self.open.iter().flatten())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::runner::DomainPoint;

    /// Domain 0 in breach at ticks 2–5 (waiting for room, then starting), domain 1 at tick 4 (its callee), and
    /// domain 0 again at tick 8.
    pub(crate) fn points(n: usize) -> Vec<SeriesPoint> {
        let split = |t: u64, d: usize| -> [f32; BreachCause::COUNT] {
            match (d, t) {
                (0, 2..=3) => [0.1, 0.0, 0.7, 0.2, 0.0],
                (0, 4..=5) => [0.0, 0.0, 0.3, 0.7, 0.0],
                (1, 4) => [0.0, 0.0, 0.0, 0.0, 1.0],
                (0, 8) => [1.0, 0.0, 0.0, 0.0, 0.0],
                _ => [0.0; BreachCause::COUNT],
            }
        };
        (0..10u64)
            .map(|t| SeriesPoint {
                t_secs: t * 5,
                domains: (0..n).map(|d| DomainPoint { breach_split: split(t, d), ..Default::default() }).collect(),
                ..Default::default()
            })
            .collect()
    }

    fn sorted(s: &BreachSegments) -> Vec<Segment> {
        let mut v: Vec<Segment> = s.iter().copied().collect();
        v.sort_by_key(|s| (s.domain, s.from_secs));
        v
    }

    #[test]
    fn a_breach_is_cut_where_what_held_it_changes() {
        let seg = |domain, cause, from_secs, to_secs| Segment { domain, cause, from_secs, to_secs };
        assert_eq!(
            sorted(&BreachSegments::of(&points(5))),
            vec![
                seg(0, BreachCause::WaitingForRoom, 10, 20),
                seg(0, BreachCause::PodsStarting, 20, 30),
                seg(0, BreachCause::NotScaled, 40, 45),
                seg(1, BreachCause::Callee, 20, 25),
            ]
        );
    }

    #[test]
    fn followed_point_by_point_or_after_a_seek_back_the_segments_are_those_read_at_once() {
        let points = points(5);
        let mut followed = BreachSegments::default();
        for k in 0..=points.len() {
            followed.follow(&points[..k]);
            assert_eq!(sorted(&followed), sorted(&BreachSegments::of(&points[..k])), "after {k} points");
        }
        // Back to before the first breach ended, then forward again.
        followed.follow(&points[..3]);
        assert_eq!(sorted(&followed), sorted(&BreachSegments::of(&points[..3])));
        followed.follow(&points);
        assert_eq!(sorted(&followed), sorted(&BreachSegments::of(&points)));
    }
}
