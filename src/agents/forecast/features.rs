//! The forecaster's input vector, built strictly from the past and the calendar.
//!
//! A domain's traffic arrives as one-minute means of its *observed* request rate (telemetry lag included); entry `k`
//! of a series is the minute that ends at `60·k` seconds. A forecast made at `t = 60·k` reads entries `k − 1440 ..= k`
//! and nothing later — the causality contract, tested in `live.rs` and `dataset.rs`.
//!
//! Every traffic value enters as `ln(value / level)`, where the level is the mean of the last five minutes, so one
//! network serves domains whose rates differ by orders of magnitude; the targets are `ln(future / level)` too.
//!
//! Layout (see [`feature_names`]): the last 60 minutes one by one; the last 24 h in 15-minute means; yesterday's
//! minutes from "now − 24 h" to 35 minutes after it (the seasonal-naive view of the horizons); the recent volatility;
//! calendar (hour of day now / +15 / +30 min, weekend and payday flags now / +30 min / 24 h ago); static domain
//! features from its traffic spec; and the lift that *announced* promotions give the expected rate now and at each
//! horizon. Unannounced events are, by construction, invisible until they show in the traffic.

use crate::scenario::{StartTime, TrafficSpec};
use crate::sim::calendar;

/// Forecast horizons in minutes, and the quantiles each one gets.
pub const HORIZONS_MINUTES: [usize; 3] = [5, 15, 30];
pub const QUANTILES: [f32; 4] = [0.1, 0.5, 0.8, 0.9];
pub const N_HORIZONS: usize = HORIZONS_MINUTES.len();
pub const N_QUANTILES: usize = QUANTILES.len();
pub const N_OUTPUTS: usize = N_HORIZONS * N_QUANTILES;

/// Minutes of history a forecast reads: `k − 1440 ..= k`.
pub const HISTORY_MINUTES: usize = 1441;
const DAY_MINUTES: usize = 1440;
const RECENT: usize = 60;
const BLOCK: usize = 15;
const DAY_BLOCKS: usize = DAY_MINUTES / BLOCK;
const YESTERDAY_AHEAD: usize = 36;
const LEVEL_MINUTES: usize = 5;
const N_CALENDAR: usize = 12;
pub const N_STATIC: usize = 6;
/// Announced lift now and at each horizon.
pub const N_ANNOUNCED: usize = 1 + N_HORIZONS;
pub const N_FEATURES: usize = RECENT + DAY_BLOCKS + YESTERDAY_AHEAD + 1 + N_CALENDAR + N_STATIC + N_ANNOUNCED;

/// Log ratios are clipped to this magnitude (a 20× swing) so a broken series cannot blow up the network's input.
const CLIP: f32 = 3.0;

/// Hours per time-of-day bucket of the conformal calibration.
pub const BUCKET_HOURS: u64 = 4;
pub const N_BUCKETS: usize = (24 / BUCKET_HOURS) as usize;

/// The calibration bucket of a forecast made at `t_secs`.
pub fn time_of_day_bucket(start: StartTime, t_secs: u64) -> usize {
    let (_, hour) = calendar(start.hour_of_week(), t_secs);
    ((hour as u64) / BUCKET_HOURS).min(N_BUCKETS as u64 - 1) as usize
}

/// Static features of a domain, from its traffic spec.
pub fn statics(spec: &TrafficSpec) -> [f32; N_STATIC] {
    let peak = spec.peak_hour / 24.0 * std::f64::consts::TAU;
    [
        spec.daily_amplitude as f32,
        peak.sin() as f32,
        peak.cos() as f32,
        spec.weekend_factor.max(1e-3).ln() as f32,
        spec.payday_factor.max(1e-3).ln() as f32,
        (spec.noise_sigma * 10.0) as f32,
    ]
}

/// Names of every feature, in order (stored in the model's metadata; the schema check compares them).
pub fn feature_names() -> Vec<String> {
    let mut n = Vec::with_capacity(N_FEATURES);
    n.extend((0..RECENT).map(|i| format!("recent_min_minus_{}", RECENT - 1 - i)));
    n.extend((0..DAY_BLOCKS).map(|i| format!("day_block15_minus_{}", DAY_BLOCKS - 1 - i)));
    n.extend((0..YESTERDAY_AHEAD).map(|i| format!("yesterday_min_plus_{i}")));
    n.push("volatility_60min".into());
    for h in ["now", "plus15", "plus30"] {
        n.push(format!("hour_sin_{h}"));
        n.push(format!("hour_cos_{h}"));
    }
    for w in ["now", "plus30", "minus24h"] {
        n.push(format!("weekend_{w}"));
    }
    for w in ["now", "plus30", "minus24h"] {
        n.push(format!("payday_{w}"));
    }
    n.extend(
        [
            "daily_amplitude",
            "peak_hour_sin",
            "peak_hour_cos",
            "ln_weekend_factor",
            "ln_payday_factor",
            "noise_sigma_x10",
        ]
        .map(String::from),
    );
    n.push("announced_lift_now".into());
    n.extend(HORIZONS_MINUTES.iter().map(|h| format!("announced_lift_plus{h}")));
    debug_assert_eq!(n.len(), N_FEATURES);
    n
}

/// What the calendar and the scenario say about one domain at one forecast time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Context {
    pub start: StartTime,
    pub t_secs: u64,
    pub statics: [f32; N_STATIC],
    /// `ln(expected with announced promotions / expected without)`, now and at each horizon.
    pub announced_lift: [f32; N_ANNOUNCED],
}

/// Writes the features of a forecast made at `ctx.t_secs` into `out` and returns the level (requests per second).
/// `minutes` holds at least [`HISTORY_MINUTES`] entries and its last one is the minute ending at `ctx.t_secs`; only
/// the last [`HISTORY_MINUTES`] are read.
pub fn build(minutes: &[f32], ctx: &Context, out: &mut [f32; N_FEATURES]) -> f32 {
    let x = &minutes[minutes.len() - HISTORY_MINUTES..];
    let k = HISTORY_MINUTES - 1;
    let level = (x[k + 1 - LEVEL_MINUTES..].iter().map(|&v| f64::from(v.max(0.0))).sum::<f64>() / LEVEL_MINUTES as f64)
        .max(1e-6) as f32;
    let floor = level * 1e-3;
    let rel = |v: f32| (v.max(floor) / level).ln().clamp(-CLIP, CLIP);
    let mut i = 0;
    let mut push = |out: &mut [f32; N_FEATURES], v: f32| {
        out[i] = v;
        i += 1;
    };
    for &v in &x[k + 1 - RECENT..] {
        push(out, rel(v));
    }
    for b in (0..DAY_BLOCKS).rev() {
        let end = k + 1 - b * BLOCK;
        let mean = x[end - BLOCK..end].iter().sum::<f32>() / BLOCK as f32;
        push(out, rel(mean));
    }
    for j in 0..YESTERDAY_AHEAD {
        push(out, rel(x[k - DAY_MINUTES + j]));
    }
    let diffs: Vec<f32> = x[k + 1 - RECENT..].windows(2).map(|w| rel(w[1]) - rel(w[0])).collect();
    let mean_diff = diffs.iter().sum::<f32>() / diffs.len() as f32;
    let var = diffs.iter().map(|d| (d - mean_diff).powi(2)).sum::<f32>() / diffs.len() as f32;
    push(out, var.sqrt() * 10.0);

    let t = ctx.t_secs;
    let how = ctx.start.hour_of_week();
    for dt in [0, 900, 1800] {
        let (_, hour) = calendar(how, t + dt);
        let a = hour / 24.0 * std::f64::consts::TAU;
        push(out, a.sin() as f32);
        push(out, a.cos() as f32);
    }
    let weekend = |secs: u64| f32::from(u8::from(calendar(how + 6 * 24, secs).0 >= 5));
    let payday = |secs: u64| f32::from(u8::from(ctx.start.days_earlier(1).is_payday(secs)));
    // Both read the calendar a day late (six days on in the week, a day back in the month), so "24 h ago" needs
    // no negative time.
    for f in [&weekend as &dyn Fn(u64) -> f32, &payday] {
        push(out, f(t + 86_400));
        push(out, f(t + 86_400 + 1800));
        push(out, f(t));
    }
    for &v in &ctx.statics {
        push(out, v);
    }
    for &v in &ctx.announced_lift {
        push(out, v.clamp(-CLIP, CLIP));
    }
    debug_assert_eq!(i, N_FEATURES);
    level
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(t_secs: u64) -> Context {
        Context {
            start: StartTime { weekday: 4, hour: 22, day_of_month: 14 },
            t_secs,
            statics: [0.5, 0.0, 1.0, -0.2, 0.1, 0.3],
            announced_lift: [0.0, 0.0, 0.1, 0.3],
        }
    }

    #[test]
    fn names_match_the_vector() {
        let names = feature_names();
        assert_eq!(names.len(), N_FEATURES);
        assert_eq!(names[0], "recent_min_minus_59");
        assert_eq!(names[59], "recent_min_minus_0");
        assert_eq!(names.last().map(String::as_str), Some("announced_lift_plus30"));
    }

    #[test]
    fn a_flat_series_gives_zero_history_features_and_its_level() {
        let minutes = vec![500.0f32; HISTORY_MINUTES + 10];
        let mut out = [f32::NAN; N_FEATURES];
        let level = build(&minutes, &ctx(86_400), &mut out);
        assert_eq!(level, 500.0);
        assert!(out[..RECENT + DAY_BLOCKS + YESTERDAY_AHEAD + 1].iter().all(|&v| v == 0.0));
        assert!(out.iter().all(|v| v.is_finite()));
        assert_eq!(&out[N_FEATURES - N_ANNOUNCED..], &[0.0, 0.0, 0.1, 0.3]);
    }

    #[test]
    fn calendar_flags_follow_the_clock() {
        // Friday 22:00 on the 14th: two hours later it is Saturday the 15th (weekend and payday); a day earlier it was
        // Thursday the 13th.
        let minutes = vec![1.0f32; HISTORY_MINUTES];
        let mut out = [0.0; N_FEATURES];
        let base = RECENT + DAY_BLOCKS + YESTERDAY_AHEAD + 1 + 6;
        build(&minutes, &ctx(0), &mut out);
        assert_eq!(&out[base..base + 6], &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        build(&minutes, &ctx(2 * 3600), &mut out);
        assert_eq!(&out[base..base + 6], &[1.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
        build(&minutes, &ctx(26 * 3600), &mut out);
        assert_eq!(&out[base..base + 6], &[1.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn zero_traffic_stays_finite() {
        let minutes = vec![0.0f32; HISTORY_MINUTES];
        let mut out = [0.0; N_FEATURES];
        build(&minutes, &ctx(0), &mut out);
        assert!(out.iter().all(|v| v.is_finite()));
    }
}
