//! Forecasts for a running simulation: fed the observed (lagged) domain rates tick by tick, asked for forecasts at
//! minute boundaries.
//!
//! Contract:
//! - Causal: a forecast made at `t` depends only on observations fed at or before `t` and on announcements known by
//!   `t` (tested below by changing the future and comparing).
//! - Deterministic: same scenario, seed and model ⇒ the same forecasts. The day of history before t = 0 (a real
//!   cluster has one) is the scenario's own traffic model run over the two days before the start, on its own seeded
//!   stream ([`stream::FORECAST_HISTORY`]), so it shifts no simulator number.
//! - Never fails: without a usable model, or when the network's output is not finite, forecasts come from
//!   exponential smoothing and their `source` says so and why.

use std::sync::Arc;

use super::calendar::{Announcement, PromotionCalendar};
use super::dataset::minute_series;
use super::fallback::{FallbackConfig, HoltForecaster};
use super::features::{self, Context, HISTORY_MINUTES, HORIZONS_MINUTES, N_FEATURES, N_STATIC};
use super::model::{ForecastModel, Scratch};
use crate::scenario::{EventSpec, Scenario, StartTime};
use crate::sim::rng::{SimRng, stream};
use crate::sim::traffic::DomainTraffic;
use crate::sim::{Layout, TICK_SECS};

/// A traffic forecast for one domain, made at `made_at_secs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    pub made_at_secs: u64,
    /// Horizons in seconds (300, 900, 1800), each with p10, p50, p80, p90 in requests per second.
    pub horizons: Vec<(u64, [f32; 4])>,
    /// Where it came from, for labels ("learned …" or "exponential smoothing (fallback: …)").
    pub source: Arc<str>,
    /// Whether the learned model made it (false: the exponential-smoothing fallback).
    pub learned: bool,
}

/// The forecaster a run uses: the learned model, or the fallback and why.
#[derive(Clone, Debug)]
pub enum ForecasterModel {
    Learned(Arc<ForecastModel>),
    Fallback { reason: String },
}

impl ForecasterModel {
    /// Digest of the model (see [`ForecastModel::digest`]); the fallback has a fixed one.
    pub fn digest(&self) -> String {
        match self {
            ForecasterModel::Learned(m) => m.digest(),
            ForecasterModel::Fallback { .. } => "exponential-smoothing".to_string(),
        }
    }

    /// Loads a model file; any problem becomes the fallback with the loader's message.
    pub fn load(path: &std::path::Path) -> ForecasterModel {
        match ForecastModel::load(path) {
            Ok(m) => ForecasterModel::Learned(Arc::new(m)),
            Err(e) => ForecasterModel::Fallback { reason: e.to_string() },
        }
    }

    pub fn fallback(reason: impl Into<String>) -> ForecasterModel {
        ForecasterModel::Fallback { reason: reason.into() }
    }

    /// The label forecasts carry.
    pub fn source_label(&self) -> String {
        match self {
            ForecasterModel::Learned(_) => LEARNED_SOURCE.to_string(),
            ForecasterModel::Fallback { reason } => format!("exponential smoothing (fallback: {reason})"),
        }
    }

    pub fn is_learned(&self) -> bool {
        matches!(self, ForecasterModel::Learned(_))
    }
}

/// Label of forecasts from the learned model.
pub const LEARNED_SOURCE: &str = "learned quantile network, conformally calibrated";

/// Forecasts for every domain of one run.
#[derive(Clone)]
pub struct LiveForecaster {
    model: ForecasterModel,
    source: Arc<str>,
    start: StartTime,
    statics: Vec<[f32; N_STATIC]>,
    calibration_rows: Vec<Option<usize>>,
    /// Per domain: observed minute means, newest last (at least [`HISTORY_MINUTES`] of them).
    minutes: Vec<Vec<f32>>,
    /// Per domain: sum and count of observations in the current minute.
    acc: Vec<(f64, u32)>,
    holt: Vec<HoltForecaster>,
    calendar: PromotionCalendar,
    scratch: Scratch,
    features: Box<[f32; N_FEATURES]>,
}

impl LiveForecaster {
    pub fn new(scenario: &Scenario, layout: &Layout, seed: u64, model: ForecasterModel) -> LiveForecaster {
        let n = layout.domains.len();
        let traffic = DomainTraffic::new(scenario, layout);
        // History: run the traffic model over the two days before t = 0 and keep the last day (+ the minute at 0).
        let mut before = scenario.clone();
        before.start = scenario.start.days_earlier(2);
        let mut history_traffic = DomainTraffic::new(&before, layout);
        let (observed, _) = minute_series(
            &mut history_traffic,
            &mut SimRng::new(seed, stream::FORECAST_HISTORY),
            2 * 86_400,
            u64::from(scenario.telemetry.rps_lag_secs),
        );
        let mut holt = vec![HoltForecaster::new(FallbackConfig::default()); n];
        for (h, series) in holt.iter_mut().zip(&observed) {
            for &v in &series[1..] {
                h.observe(f64::from(v));
            }
        }
        let minutes = observed.into_iter().map(|s| s[s.len() - HISTORY_MINUTES..].to_vec()).collect();

        let mut calendar = PromotionCalendar::new(traffic);
        for e in &scenario.events {
            if let Some((known_from_secs, _)) = e.calendar_entry()
                && let Some(a) = Announcement::of(e, layout, known_from_secs)
            {
                calendar.announce(a);
            }
        }
        let calibration_rows = match &model {
            ForecasterModel::Learned(m) => layout.domains.iter().map(|d| m.calibration_index(&d.id)).collect(),
            ForecasterModel::Fallback { .. } => vec![None; n],
        };
        LiveForecaster {
            source: model.source_label().into(),
            model,
            start: scenario.start,
            statics: scenario.domains.iter().map(|d| features::statics(&d.traffic)).collect(),
            calibration_rows,
            minutes,
            acc: vec![(0.0, 0); n],
            holt,
            calendar,
            scratch: Scratch::default(),
            features: Box::new([0.0; N_FEATURES]),
        }
    }

    /// The announced promotions known so far.
    pub fn calendar(&self) -> &PromotionCalendar {
        &self.calendar
    }

    pub fn model(&self) -> &ForecasterModel {
        &self.model
    }

    /// An event injected at `now_secs`: if it is an announced promotion, the calendar knows it from now on.
    pub fn announce(&mut self, event: &EventSpec, layout: &Layout, now_secs: u64) {
        if let Some(a) = Announcement::of(event, layout, now_secs) {
            self.calendar.announce(a);
        }
    }

    /// One tick's observed request rate per domain, at `t_secs` (a multiple of the tick). Completes a minute at each
    /// multiple of 60 s.
    pub fn observe(&mut self, t_secs: u64, observed_rps: impl IntoIterator<Item = f32>) {
        // The history already holds the minute that ends at t = 0.
        if t_secs == 0 {
            return;
        }
        for (acc, v) in self.acc.iter_mut().zip(observed_rps) {
            acc.0 += f64::from(v);
            acc.1 += 1;
        }
        if t_secs > 0 && t_secs.is_multiple_of(60) {
            for d in 0..self.acc.len() {
                let (sum, count) = std::mem::take(&mut self.acc[d]);
                let mean =
                    if count > 0 { (sum / f64::from(count)) as f32 } else { *self.minutes[d].last().unwrap_or(&0.0) };
                self.holt[d].observe(f64::from(mean));
                let series = &mut self.minutes[d];
                series.push(mean);
                if series.len() > 2 * HISTORY_MINUTES {
                    series.drain(..series.len() - HISTORY_MINUTES);
                }
            }
        }
        debug_assert!(t_secs.is_multiple_of(TICK_SECS));
    }

    /// Forecasts for every domain from what has been observed up to now (call at minute boundaries, after
    /// `observe`).
    pub fn forecast(&mut self, t_secs: u64) -> Vec<Forecast> {
        let lifts = match self.model {
            ForecasterModel::Learned(_) => self.calendar.lifts(t_secs),
            ForecasterModel::Fallback { .. } => Vec::new(),
        };
        (0..self.minutes.len())
            .map(|d| {
                let learned = match &self.model {
                    ForecasterModel::Learned(m) => {
                        let ctx =
                            Context { start: self.start, t_secs, statics: self.statics[d], announced_lift: lifts[d] };
                        let level = features::build(&self.minutes[d], &ctx, &mut self.features);
                        let bucket = features::time_of_day_bucket(self.start, t_secs);
                        let q = m.quantiles(&self.features[..], self.calibration_rows[d], bucket, &mut self.scratch);
                        let horizons: Vec<(u64, [f32; 4])> = HORIZONS_MINUTES
                            .iter()
                            .zip(q)
                            .map(|(&h, row)| (60 * h as u64, row.map(|v| level * v.exp())))
                            .collect();
                        horizons.iter().all(|(_, q)| q.iter().all(|v| v.is_finite())).then_some(horizons)
                    }
                    ForecasterModel::Fallback { .. } => None,
                };
                match learned {
                    Some(horizons) => {
                        Forecast { made_at_secs: t_secs, horizons, source: self.source.clone(), learned: true }
                    }
                    None => {
                        let source: Arc<str> = if self.model.is_learned() {
                            "exponential smoothing (fallback: the network gave a non-finite forecast)".into()
                        } else {
                            self.source.clone()
                        };
                        let horizons = HORIZONS_MINUTES
                            .iter()
                            .filter_map(|&h| {
                                let secs = 60 * h as u64;
                                self.holt[d].quantiles(secs).map(|q| (secs, q.map(|v| v as f32)))
                            })
                            .collect();
                        Forecast { made_at_secs: t_secs, horizons, source, learned: false }
                    }
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::forecast::model::tests::{temp_dir, tiny_model};
    use crate::scenario;

    fn small() -> (Scenario, Layout) {
        let s = scenario::load_file(std::path::Path::new("scenarios/small.ron")).expect("shipped scenario");
        let layout = Layout::build(&s, s.seed);
        (s, layout)
    }

    /// Feeds `series(t, d)` tick by tick and returns the forecasts made at every minute up to `end_secs`.
    fn run(model: ForecasterModel, series: impl Fn(u64, usize) -> f32, end_secs: u64) -> Vec<Vec<Forecast>> {
        let (s, layout) = small();
        let mut f = LiveForecaster::new(&s, &layout, 11, model);
        let mut out = Vec::new();
        let mut t = TICK_SECS;
        while t <= end_secs {
            f.observe(t, (0..layout.domains.len()).map(|d| series(t, d)));
            if t.is_multiple_of(60) {
                out.push(f.forecast(t));
            }
            t += TICK_SECS;
        }
        out
    }

    fn wave(t: u64, d: usize) -> f32 {
        1000.0 * (d + 1) as f32 * (1.0 + 0.3 * ((t as f32) / 3000.0).sin())
    }

    #[test]
    fn changing_traffic_after_t_leaves_every_forecast_up_to_t_unchanged() {
        for model in [ForecasterModel::Learned(Arc::new(tiny_model())), ForecasterModel::fallback("test")] {
            let cut = 3600;
            let base = run(model.clone(), wave, 7200);
            let changed = run(model, |t, d| if t > cut { 5.0 * wave(t, d) } else { wave(t, d) }, 7200);
            let upto = (cut / 60) as usize;
            assert_eq!(base[..upto], changed[..upto], "forecasts made at or before {cut} s");
            assert_ne!(base[upto..], changed[upto..], "later forecasts do see the change");
        }
    }

    #[test]
    fn same_inputs_same_forecasts_and_a_labelled_fallback() {
        let a = run(ForecasterModel::Learned(Arc::new(tiny_model())), wave, 1800);
        let b = run(ForecasterModel::Learned(Arc::new(tiny_model())), wave, 1800);
        assert_eq!(a, b);
        assert_eq!(&*a[0][0].source, LEARNED_SOURCE);
        assert!(a[0][0].learned);
        assert_eq!(a[0][0].horizons.len(), 3);
        let fb = run(ForecasterModel::fallback("no model"), wave, 120);
        assert_eq!(&*fb[0][0].source, "exponential smoothing (fallback: no model)");
        assert!(!fb[0][0].learned);
        assert_eq!(fb[0][0].horizons.len(), 3, "the history day warms the fallback up");
    }

    #[test]
    fn a_missing_or_corrupt_file_falls_back_with_its_message() {
        let missing = ForecasterModel::load(std::path::Path::new("no/such/model.safetensors"));
        assert!(
            matches!(&missing, ForecasterModel::Fallback { reason } if reason.contains("no/such/model.safetensors: no such file"))
        );
        let dir = temp_dir("live-corrupt");
        let path = dir.join("m.safetensors");
        tiny_model().save(&path).expect("saves");
        std::fs::write(&path, b"not safetensors at all").expect("write");
        let corrupt = ForecasterModel::load(&path);
        let label = corrupt.source_label();
        assert!(label.starts_with("exponential smoothing (fallback: ") && label.contains("m.safetensors"), "{label}");
        let f = run(corrupt, wave, 60);
        assert_eq!(f[0].len(), 5);
    }

    #[test]
    fn a_non_finite_network_output_falls_back_for_that_forecast() {
        let mut m = tiny_model();
        m.mlp.layers[0].bias[0] = f32::INFINITY;
        let f = run(ForecasterModel::Learned(Arc::new(m)), wave, 60);
        assert!(f[0][0].source.contains("non-finite"), "{}", f[0][0].source);
        assert!(!f[0][0].learned);
        assert!(f[0][0].horizons.iter().all(|(_, q)| q.iter().all(|v| v.is_finite())));
    }
}
