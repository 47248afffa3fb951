//! A run's plotted lines, thinned for drawing without losing their peaks.
//!
//! A day has a point per 5 s tick, 17,280 of them, and a plot draws a few hundred. Keeping every k-th point (what the
//! window did before) drops whatever falls between kept points: a breach of one or two ticks could show as a red
//! marker with no spike on the latency line. Here each line keeps, per bucket of consecutive points, its lowest and
//! its highest value (min/max decimation), each at its own time, so every peak and trough of the run is drawn.
//!
//! Contract:
//! - Buckets hold `bucket_len` points, a power of two, and start at point indices that are multiples of it: a bucket
//!   never moves as points arrive, so the line does not shimmer while a run plays.
//! - A line has at most `max_points + 3` points (two per bucket, at most `max_points / 2` buckets, plus the bucket
//!   in progress and the latest point), in time order, each one a point of the run. Its highest and lowest values
//!   are the run's. The latest point with a value is always its end ("now").
//! - Absent (`None`) and non-finite values are skipped, as the plots skipped them before.
//! - The line is the same whether it is built at once or as points arrive, through seeks back and forward (a
//!   property test checks this against a fresh build). A branch changes the points themselves: the owner calls
//!   [`PlotLines::clear`].
//!
//! Cost: each line's complete buckets are cached and extended as points arrive, O(new points) a frame. The bucket
//! in progress (fewer than `bucket_len` points) is read afresh each frame. When the run outgrows its buckets, pairs
//! merge, O(buckets); when the wanted buckets get finer (a seek far back, a wider window) the line is read again
//! from its points, O(points), once.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::runner::SeriesPoint;

/// Names one plotted value of a run, such as `("p99", domain)`: one key, one value function, wherever it is drawn
/// (panels that draw the same value share its cache by using the same key).
pub type LineKey = (&'static str, usize);

/// The cached lines of one run. Filled lazily by the panels, through a shared reference (the UI thread only).
#[derive(Clone, Debug, Default)]
pub struct PlotLines {
    lines: RefCell<BTreeMap<LineKey, Envelope>>,
}

impl PlotLines {
    /// Forgets every line: the points they were read from changed (a branch).
    pub fn clear(&mut self) {
        self.lines.get_mut().clear();
    }

    /// The line of `value` over `points` as plot points `[t_secs, value]`, thinned to about `max_points` (see the
    /// module's contract). `points` must be the run's points up to now, the same run every call.
    pub fn line(
        &self,
        points: &[SeriesPoint],
        key: LineKey,
        max_points: usize,
        value: impl Fn(&SeriesPoint) -> Option<f64>,
    ) -> Vec<[f64; 2]> {
        let bucket_len = bucket_len_for(points.len(), max_points);
        // A re-entrant call (a value function that draws a line) cannot take the cache: it builds afresh instead.
        let Ok(mut lines) = self.lines.try_borrow_mut() else {
            let mut envelope = Envelope::default();
            envelope.follow(points, bucket_len, &value);
            return envelope.line(points, &value);
        };
        let envelope = lines.entry(key).or_default();
        envelope.follow(points, bucket_len, &value);
        envelope.line(points, &value)
    }
}

/// The bucket length for `n` points drawn in at most `max_points`: the smallest power of two that leaves at most
/// `max_points / 2` complete buckets, each drawn as two points.
fn bucket_len_for(n: usize, max_points: usize) -> usize {
    n.saturating_mul(2).div_ceil(max_points.max(2)).next_power_of_two()
}

/// A bucket's lowest and highest points `[t_secs, value]`, the earliest one on a tie (a bucket read from its points
/// and one merged from two are both built by [`merge`], so they agree).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Extremes {
    lo: [f64; 2],
    hi: [f64; 2],
}

impl Extremes {
    fn of(points: &[SeriesPoint], value: &impl Fn(&SeriesPoint) -> Option<f64>) -> Option<Self> {
        points.iter().filter_map(|p| sample(p, value)).fold(None, |acc, x| merge(acc, Some(Self { lo: x, hi: x })))
    }

    /// Appends the bucket to a line: its two extremes in time order, one point when they are the same.
    fn push_to(self, line: &mut Vec<[f64; 2]>) {
        let (first, second) = if self.hi[0] < self.lo[0] { (self.hi, self.lo) } else { (self.lo, self.hi) };
        line.push(first);
        if second[0] != first[0] {
            line.push(second);
        }
    }
}

/// Two consecutive buckets as one; `a` comes first in time.
fn merge(a: Option<Extremes>, b: Option<Extremes>) -> Option<Extremes> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Extremes {
            lo: if b.lo[1] < a.lo[1] { b.lo } else { a.lo },
            hi: if b.hi[1] > a.hi[1] { b.hi } else { a.hi },
        }),
        (a, b) => a.or(b),
    }
}

fn sample(p: &SeriesPoint, value: &impl Fn(&SeriesPoint) -> Option<f64>) -> Option<[f64; 2]> {
    value(p).filter(|v| v.is_finite()).map(|v| [p.t_secs as f64, v])
}

/// One line's complete buckets.
#[derive(Clone, Debug, Default)]
struct Envelope {
    /// Points per bucket, a power of two; 0 before the first build.
    bucket_len: usize,
    /// Bucket `k` covers points `k·bucket_len .. (k+1)·bucket_len`; `None` where none of them has a value.
    buckets: Vec<Option<Extremes>>,
}

impl Envelope {
    /// Brings the complete buckets up to `points`, in buckets of `bucket_len`.
    fn follow(&mut self, points: &[SeriesPoint], bucket_len: usize, value: &impl Fn(&SeriesPoint) -> Option<f64>) {
        if self.bucket_len == 0 || self.bucket_len > bucket_len {
            self.bucket_len = bucket_len;
            self.buckets.clear();
        }
        while self.bucket_len < bucket_len {
            // An odd last bucket is dropped: its points are read again below.
            self.buckets = self.buckets.chunks_exact(2).map(|pair| merge(pair[0], pair[1])).collect();
            self.bucket_len *= 2;
        }
        // After a seek back, buckets past now go; the points are the same when time comes back to them.
        self.buckets.truncate(points.len() / self.bucket_len);
        let new = points.chunks_exact(self.bucket_len).skip(self.buckets.len());
        self.buckets.extend(new.map(|bucket| Extremes::of(bucket, value)));
    }

    /// The line: each complete bucket's extremes, the bucket in progress's, then the latest point.
    fn line(&self, points: &[SeriesPoint], value: &impl Fn(&SeriesPoint) -> Option<f64>) -> Vec<[f64; 2]> {
        let mut line = Vec::with_capacity(2 * self.buckets.len() + 3);
        for bucket in self.buckets.iter().flatten() {
            bucket.push_to(&mut line);
        }
        let in_progress = points.get(self.buckets.len() * self.bucket_len..).unwrap_or_default();
        if let Some(bucket) = Extremes::of(in_progress, value) {
            bucket.push_to(&mut line);
        }
        let latest = points.last().and_then(|p| sample(p, value));
        if let Some(latest) = latest.filter(|l| line.last().is_none_or(|end| end[0] < l[0])) {
            line.push(latest);
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn points(values: &[Option<f64>]) -> Vec<SeriesPoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| SeriesPoint {
                t_secs: i as u64 * 5,
                reserve_share: v.map_or(f32::NAN, |v| v as f32),
                // Absent values ride in another field, so the value function can return `None`.
                provisioner_queued_requests: u32::from(v.is_none()),
                ..SeriesPoint::default()
            })
            .collect()
    }

    fn value(p: &SeriesPoint) -> Option<f64> {
        (p.provisioner_queued_requests == 0).then_some(f64::from(p.reserve_share))
    }

    fn fresh(points: &[SeriesPoint], max_points: usize) -> Vec<[f64; 2]> {
        PlotLines::default().line(points, ("test", 0), max_points, value)
    }

    #[test]
    fn a_one_tick_spike_in_a_day_is_drawn() {
        // Internal's p99 over a calm day, with one 5 s tick at four times its level (05:16 on reference-day).
        let mut values = vec![Some(100.0); 17_280];
        values[3_836] = Some(400.0);
        values[9_001] = Some(20.0);
        let pts = points(&values);
        let line = fresh(&pts, 600);
        assert!(line.len() <= 603, "{} points", line.len());
        assert!(line.contains(&[3_836.0 * 5.0, 400.0]), "the spike is drawn at its own time");
        assert!(line.contains(&[9_001.0 * 5.0, 20.0]), "so is the trough");
        // Every 40th point, the old sampler's stride for this run, misses both.
        assert!(pts.iter().step_by(17_280usize.div_ceil(600)).all(|p| p.reserve_share == 100.0));
    }

    #[test]
    fn short_runs_are_drawn_point_for_point() {
        let values: Vec<Option<f64>> = (0..50).map(|i| Some(f64::from(i % 7))).collect();
        let line = fresh(&points(&values), 100);
        assert_eq!(line.len(), 50);
        assert_eq!(line[49], [245.0, 0.0]);
    }

    #[test]
    fn absent_and_non_finite_values_are_skipped_and_an_empty_line_is_empty() {
        let line = fresh(&points(&[Some(1.0), None, Some(f64::INFINITY), Some(2.0)]), 100);
        assert_eq!(line, vec![[0.0, 1.0], [15.0, 2.0]]);
        assert!(fresh(&points(&[None, None]), 100).is_empty());
        assert!(fresh(&[], 100).is_empty());
    }

    /// What a run's points look like to the store: the whole run, of which the first `len` are "now".
    #[derive(Clone, Debug)]
    enum Step {
        /// Time moves to `len` points (forward as they arrive, or back by a seek).
        To(usize),
        /// The window's width changes.
        Width(usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (0usize..1_500).prop_map(Step::To),
            1 => (2usize..700).prop_map(Step::Width),
        ]
    }

    fn run() -> impl Strategy<Value = Vec<Option<f64>>> {
        // Mostly calm, with spikes, troughs, repeated values (ties) and gaps.
        let value = prop_oneof![
            6 => Just(Some(100.0)),
            2 => (0.0..1_000.0f64).prop_map(Some),
            1 => Just(Some(-3.0)),
            1 => Just(None),
        ];
        proptest::collection::vec(value, 0..1_500)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn a_line_followed_through_arrivals_and_seeks_is_the_line_built_at_once(
            values in run(),
            steps in proptest::collection::vec(step(), 1..40),
        ) {
            let all = points(&values);
            let cached = PlotLines::default();
            let (mut len, mut max_points) = (0, 300);
            for s in steps {
                match s {
                    Step::To(to) => len = to.min(all.len()),
                    Step::Width(w) => max_points = w,
                }
                let now = &all[..len];
                let line = cached.line(now, ("test", 0), max_points, value);
                prop_assert_eq!(&line, &fresh(now, max_points));

                prop_assert!(line.len() <= max_points + 3, "{} points for {max_points}", line.len());
                prop_assert!(line.windows(2).all(|w| w[0][0] < w[1][0]), "time order, no repeats");
                let sampled: Vec<[f64; 2]> = now.iter().filter_map(|p| sample(p, &value)).collect();
                let mut run_points = sampled.iter();
                prop_assert!(line.iter().all(|x| run_points.any(|p| p == x)), "every point is a point of the run, in order");
                let extreme = |f: fn(f64, f64) -> f64, xs: &[[f64; 2]]| xs.iter().map(|x| x[1]).reduce(f);
                prop_assert_eq!(extreme(f64::max, &line), extreme(f64::max, &sampled), "the highest value is drawn");
                prop_assert_eq!(extreme(f64::min, &line), extreme(f64::min, &sampled), "the lowest value is drawn");
                if let Some(latest) = now.last().and_then(|p| sample(p, &value)) {
                    prop_assert_eq!(line.last(), Some(&latest), "the line ends at now");
                }
            }
        }
    }
}
