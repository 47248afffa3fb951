//! Training and evaluation data: simulated months of domain traffic from the simulator's own traffic model.
//!
//! A month is one variant of a base scenario (each domain's daily amplitude, peak hour, weekend and payday factors and
//! noise perturbed; its own start weekday and day of the month), with random flash sales (announced or not, and when
//! announced often starting early or late) and unannounced spikes. It runs [`DomainTraffic`] alone — no apps, no
//! pods — on the simulator's 5 s tick, so a month costs about a second. One extra day runs first, as history.
//!
//! Each month has a seed; the seed fixes everything. Training, validation, calibration and evaluation months draw
//! their seeds from disjoint streams (see [`MonthRole`]), so evaluation never sees a month or seed used in training.
//!
//! Samples are built with [`features::build`] on the observed series *sliced at the forecast time*, so no later value
//! can enter an input.

use super::calendar::{Announcement, PromotionCalendar};
use super::fallback::{FallbackConfig, HoltForecaster};
use super::features::{self, Context, HISTORY_MINUTES, HORIZONS_MINUTES, N_FEATURES, N_HORIZONS, N_OUTPUTS, N_STATIC};
use crate::scenario::{Scenario, StartTime};
use crate::sim::rng::SimRng;
use crate::sim::traffic::{DomainTraffic, TrafficEvent};
use crate::sim::{Layout, TICK_SECS};

/// Which kind of month a seed is for; each role has its own seed stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonthRole {
    Train(usize),
    /// Early stopping: the epoch with the best pinball loss here is kept.
    Validation,
    /// Conformal recalibration.
    Calibration(usize),
    /// Held-out evaluation; independent of the training seed.
    Eval(usize),
}

/// Seed stream of evaluation months (never derived from a training seed).
const EVAL_SEED_BASE: u64 = 0x00E7_A10F_0CA5_7000;

/// The seed of a month.
pub fn month_seed(training_seed: u64, role: MonthRole) -> u64 {
    let (base, stream) = match role {
        MonthRole::Train(i) => (training_seed, 100 + i as u64),
        MonthRole::Validation => (training_seed, 90),
        MonthRole::Calibration(i) => (training_seed, 200 + i as u64),
        MonthRole::Eval(i) => (EVAL_SEED_BASE, 1_000 + i as u64),
    };
    let mut rng = SimRng::new(base, stream);
    (rng.uniform() * (1u64 << 53) as f64) as u64
}

/// How months are made.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MonthConfig {
    /// Days of forecasts per month, after one day of history. Default: 30.
    pub days: u64,
    /// Expected flash sales per domain per month. Default: 8, busier than a real calendar, so that the rare minutes
    /// before an announced start are not drowned by ordinary ones.
    pub flash_sales_per_domain: f64,
    /// Expected unannounced spikes per domain per month. Default: 3.
    pub spikes_per_domain: f64,
    /// Share of flash sales that are announced. Default: 0.7.
    pub announced_share: f64,
    /// Minutes between forecast origins. Default: 5.
    pub stride_minutes: usize,
}

impl Default for MonthConfig {
    fn default() -> Self {
        Self { days: 30, flash_sales_per_domain: 8.0, spikes_per_domain: 3.0, announced_share: 0.7, stride_minutes: 5 }
    }
}

/// One simulated month of every domain's traffic.
#[derive(Clone, Debug)]
pub struct Month {
    pub seed: u64,
    pub start: StartTime,
    pub domain_ids: Vec<String>,
    pub statics: Vec<[f32; N_STATIC]>,
    /// `[domain][k]`: mean observed rate (lagged like telemetry) over the minute ending at `60·k` s.
    pub observed: Vec<Vec<f32>>,
    /// `[domain][k]`: mean true rate over the minute ending at `60·k` s (what forecasts are scored against).
    pub truth: Vec<Vec<f32>>,
    /// Every traffic event as it really happened.
    pub events: Vec<TrafficEvent>,
    /// For each domain, the domains whose events reach it (itself and its callers).
    pub sources: Vec<Vec<usize>>,
    pub calendar: PromotionCalendar,
    /// Forecast origins run over minutes `first_origin ..= last_origin`.
    pub first_origin: usize,
    pub last_origin: usize,
}

fn poisson(rng: &mut SimRng, mean: f64) -> u32 {
    let (limit, mut product, mut k) = ((-mean).exp(), rng.uniform(), 0);
    while product > limit && k < 1000 {
        product *= rng.uniform();
        k += 1;
    }
    k
}

fn between(rng: &mut SimRng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.uniform()
}

/// The base scenario with its traffic perturbed for one month.
fn vary(base: &Scenario, rng: &mut SimRng, days: u64) -> Scenario {
    let mut s = base.clone();
    s.events.clear();
    s.duration_secs = (days + 1) * 86_400;
    s.start = StartTime {
        weekday: rng.range_u32(0, 6) as u8,
        hour: 0,
        day_of_month: rng.range_u32(1, crate::scenario::DAYS_PER_MONTH as u32) as u8,
    };
    for d in &mut s.domains {
        let t = &mut d.traffic;
        t.daily_amplitude = (t.daily_amplitude * between(rng, 0.7, 1.3)).clamp(0.05, 0.9);
        t.peak_hour = (t.peak_hour + between(rng, -2.0, 2.0)).rem_euclid(24.0);
        t.weekend_factor = (t.weekend_factor * between(rng, 0.85, 1.15)).clamp(0.2, 2.0);
        t.noise_sigma = (t.noise_sigma * between(rng, 0.5, 2.0)).clamp(0.005, 0.2);
        t.payday_factor = if rng.uniform() < 0.7 { between(rng, 1.0, 1.3) } else { 1.0 };
    }
    s
}

/// Simulates one month of a variant of `base`.
pub fn simulate_month(base: &Scenario, seed: u64, cfg: &MonthConfig) -> Month {
    let mut rng = SimRng::new(seed, 1);
    let s = vary(base, &mut rng, cfg.days);
    let layout = Layout::build(&s, seed);
    let mut traffic = DomainTraffic::new(&s, &layout);
    let n = traffic.len();
    let mut calendar = PromotionCalendar::new(traffic.clone());

    let day = 86_400.0;
    let horizon_secs = 60 * HORIZONS_MINUTES[N_HORIZONS - 1] as u64;
    for d in 0..n {
        for _ in 0..poisson(&mut rng, cfg.flash_sales_per_domain) {
            let start = (between(&mut rng, 1.0, (cfg.days + 1) as f64).floor() * day
                + between(&mut rng, 8.0, 22.0) * 3600.0) as u64;
            let event = TrafficEvent {
                domain: d as u8,
                start_secs: start / TICK_SECS * TICK_SECS,
                ramp_secs: between(&mut rng, 30.0, 900.0) as u64,
                duration_secs: between(&mut rng, 1800.0, 4.0 * 3600.0) as u64,
                multiplier: between(&mut rng, 1.3, 3.0),
            };
            if rng.uniform() < cfg.announced_share {
                // As in the postmortem, promotions often start before (or after) the announced time.
                let announced = (event.start_secs as f64 + between(&mut rng, -600.0, 1200.0)).max(0.0) as u64;
                calendar.announce(Announcement {
                    known_from_secs: 0,
                    event: TrafficEvent { start_secs: announced, ..event.clone() },
                });
            }
            traffic.events.push(event);
        }
        for _ in 0..poisson(&mut rng, cfg.spikes_per_domain) {
            let start = (between(&mut rng, 1.0, (cfg.days + 1) as f64) * day) as u64;
            traffic.events.push(TrafficEvent {
                domain: d as u8,
                start_secs: start / TICK_SECS * TICK_SECS,
                ramp_secs: between(&mut rng, 30.0, 300.0) as u64,
                duration_secs: between(&mut rng, 600.0, 5400.0) as u64,
                multiplier: between(&mut rng, 1.3, 2.5),
            });
        }
    }

    let total_secs = (cfg.days + 1) * 86_400 + horizon_secs + 60;
    let (observed, truth) =
        minute_series(&mut traffic, &mut SimRng::new(seed, 2), total_secs, u64::from(s.telemetry.rps_lag_secs));

    Month {
        seed,
        start: s.start,
        domain_ids: s.domains.iter().map(|d| d.id.clone()).collect(),
        statics: s.domains.iter().map(|d| features::statics(&d.traffic)).collect(),
        observed,
        truth,
        events: traffic.events.clone(),
        sources: (0..n).map(|d| traffic.sources_of(d)).collect(),
        calendar,
        first_origin: HISTORY_MINUTES,
        last_origin: ((cfg.days + 1) * 1440) as usize,
    }
}

/// Runs `traffic` from 0 to `total_secs` on the simulator's tick and returns, per domain, the observed minute means
/// (the truth read `lag_secs` late, as telemetry does) and the true minute means. Entry `k` is the minute ending at
/// `60·k` s; entry 0 is the value at t = 0.
pub fn minute_series(
    traffic: &mut DomainTraffic,
    rng: &mut SimRng,
    total_secs: u64,
    lag_secs: u64,
) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let n = traffic.len();
    let ticks = (total_secs / TICK_SECS) as usize + 1;
    let mut per_tick = vec![vec![0f32; ticks]; n];
    traffic.compute(rng, 0, false);
    for i in 0..ticks {
        if i > 0 {
            traffic.compute(rng, i as u64 * TICK_SECS, true);
        }
        for (series, &rps) in per_tick.iter_mut().zip(&traffic.total_rps) {
            series[i] = rps as f32;
        }
    }
    let lag_ticks = (lag_secs / TICK_SECS) as usize;
    let per_minute = (60 / TICK_SECS) as usize;
    let minutes = (total_secs / 60) as usize;
    let minute_means = |series: &[f32], lag: usize| -> Vec<f32> {
        (0..=minutes)
            .map(|k| {
                if k == 0 {
                    return series[0];
                }
                let last = k * per_minute;
                let sum: f32 = (last + 1 - per_minute..=last).map(|i| series[i.saturating_sub(lag)]).sum();
                sum / per_minute as f32
            })
            .collect()
    };
    let observed = per_tick.iter().map(|s| minute_means(s, lag_ticks)).collect();
    let truth = per_tick.iter().map(|s| minute_means(s, 0)).collect();
    (observed, truth)
}

/// Forecast problems cut from months: inputs, targets, and what the baselines said.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    /// `n × N_FEATURES`.
    pub features: Vec<f32>,
    /// `n × N_HORIZONS`: `ln(true minute mean at the horizon / level)`.
    pub targets: Vec<f32>,
    /// The level each sample is relative to (requests per second).
    pub level: Vec<f32>,
    /// Index into `domain_ids`.
    pub domain: Vec<u8>,
    pub domain_ids: Vec<String>,
    /// Time-of-day bucket of the forecast time.
    pub bucket: Vec<u8>,
    /// Whether a traffic event reaching the domain is active within [t − 30 min, t + 45 min].
    pub around_event: Vec<bool>,
    /// `n × N_HORIZONS`: seasonal naive, `ln(observed 24 h before the target / level)`.
    pub naive: Vec<f32>,
    /// `n × N_OUTPUTS`: exponential smoothing's quantiles, `ln(q / level)` (horizon-major).
    pub holt: Vec<f32>,
}

impl Samples {
    pub fn len(&self) -> usize {
        self.level.len()
    }

    pub fn is_empty(&self) -> bool {
        self.level.is_empty()
    }

    pub fn features_of(&self, i: usize) -> &[f32] {
        &self.features[i * N_FEATURES..(i + 1) * N_FEATURES]
    }

    /// Appends another set (same domain ids).
    pub fn extend(&mut self, other: Samples) {
        if self.domain_ids.is_empty() {
            self.domain_ids = other.domain_ids.clone();
        }
        self.features.extend(other.features);
        self.targets.extend(other.targets);
        self.level.extend(other.level);
        self.domain.extend(other.domain);
        self.bucket.extend(other.bucket);
        self.around_event.extend(other.around_event);
        self.naive.extend(other.naive);
        self.holt.extend(other.holt);
    }
}

/// Cuts a month into samples every `stride_minutes`.
pub fn samples(month: &Month, stride_minutes: usize) -> Samples {
    let n_domains = month.observed.len();
    let mut out = Samples { domain_ids: month.domain_ids.clone(), ..Samples::default() };
    let origins: Vec<usize> = (month.first_origin..=month.last_origin).step_by(stride_minutes.max(1)).collect();
    let mut feats = [0f32; N_FEATURES];
    // The calendar answers for every domain at once.
    let lifts: Vec<_> = origins.iter().map(|&k| month.calendar.lifts(60 * k as u64)).collect();
    for d in 0..n_domains {
        let observed = &month.observed[d];
        // Exponential smoothing runs over every observed minute; its forecasts are read at the origins.
        let mut holt = HoltForecaster::new(FallbackConfig::default());
        let mut next_origin = origins.iter().zip(&lifts).peekable();
        for (k, &value) in observed.iter().enumerate().take(month.last_origin + 1).skip(1) {
            holt.observe(f64::from(value));
            let Some((_, lifts)) = next_origin.next_if(|(origin, _)| **origin == k) else {
                continue;
            };
            let t_secs = 60 * k as u64;
            let ctx = Context { start: month.start, t_secs, statics: month.statics[d], announced_lift: lifts[d] };
            let level = features::build(&observed[..=k], &ctx, &mut feats);
            out.features.extend_from_slice(&feats);
            out.level.push(level);
            out.domain.push(d as u8);
            out.bucket.push(features::time_of_day_bucket(month.start, t_secs) as u8);
            let window = (t_secs.saturating_sub(1800), t_secs + 2700);
            out.around_event.push(month.events.iter().any(|e| {
                month.sources[d].contains(&(e.domain as usize)) && e.start_secs < window.1 && e.end_secs() > window.0
            }));
            for &h in &HORIZONS_MINUTES {
                out.targets.push((month.truth[d][k + h].max(1e-6) / level).ln());
                out.naive.push((observed[k + h - 1440].max(1e-6) / level).ln());
                let q = holt.quantiles(60 * h as u64).unwrap_or([f64::from(level); 4]);
                out.holt.extend(q.map(|v| (v.max(1e-6) as f32 / level).ln()));
            }
        }
    }
    debug_assert_eq!(out.holt.len(), out.len() * N_OUTPUTS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    fn small_month(seed: u64) -> Month {
        let s = scenario::load_file(std::path::Path::new("scenarios/small.ron")).expect("shipped scenario");
        simulate_month(&s, seed, &MonthConfig { days: 2, ..MonthConfig::default() })
    }

    #[test]
    fn month_seeds_are_distinct_across_roles() {
        assert_eq!(
            month_seed(7, MonthRole::Eval(0)),
            month_seed(8, MonthRole::Eval(0)),
            "evaluation months do not depend on the training seed"
        );
        let mut seeds = vec![
            month_seed(7, MonthRole::Validation),
            month_seed(7, MonthRole::Calibration(0)),
            month_seed(7, MonthRole::Calibration(1)),
            month_seed(7, MonthRole::Eval(0)),
            month_seed(7, MonthRole::Eval(1)),
        ];
        seeds.extend((0..6).map(|i| month_seed(7, MonthRole::Train(i))));
        let mut sorted = seeds.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), seeds.len());
    }

    #[test]
    fn a_month_is_a_pure_function_of_its_seed() {
        let (a, b, c) = (small_month(3), small_month(3), small_month(4));
        assert_eq!(a.observed, b.observed);
        assert_eq!(a.events, b.events);
        assert_ne!(a.observed, c.observed);
    }

    #[test]
    fn observed_minutes_lag_the_truth() {
        let m = small_month(5);
        // rps lag 30 s: the observed minute ending at 60k averages the truth over (60k − 90, 60k − 30].
        let (o, t) = (&m.observed[0], &m.truth[0]);
        let corr_same: f32 = (2000..3000).map(|k| (o[k] - t[k]).abs()).sum();
        assert!(corr_same > 0.0);
        assert!(m.observed.iter().flatten().all(|v| v.is_finite() && *v >= 0.0));
    }

    #[test]
    fn sample_features_ignore_everything_after_the_forecast_time() {
        let m = small_month(6);
        let s = samples(&m, 60);
        let mut changed = m.clone();
        // Double every observed value after minute k: features at origins ≤ k must not move; targets after must.
        let k = m.first_origin + 600;
        for series in &mut changed.observed {
            for v in &mut series[k + 1..] {
                *v *= 2.0;
            }
        }
        let s2 = samples(&changed, 60);
        let per_domain = s.len() / m.observed.len();
        for i in 0..s.len() {
            let origin = m.first_origin + (i % per_domain) * 60;
            if origin <= k {
                assert_eq!(s.features_of(i), s2.features_of(i), "sample {i} at minute {origin}");
            }
        }
        assert_ne!(s.features, s2.features);
    }
}
