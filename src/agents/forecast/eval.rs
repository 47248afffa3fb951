//! Held-out evaluation of a forecaster against seasonal-naive and exponential smoothing.
//!
//! Evaluation months come from their own seed stream ([`MonthRole::Eval`]), never from the training seed. Metrics:
//! - **pinball loss** per horizon, averaged over p10/p50/p80/p90, in linear space and as a percentage of the level
//!   (the mean of the last five minutes), so domains of every size weigh alike;
//! - **MAPE of p50** at 15 minutes, split into *steady* forecasts and forecasts *around spikes* (a traffic event that
//!   reaches the domain, its own or a caller's, active within [t − 30 min, t + 45 min]);
//! - **coverage** of p80 (share of outcomes at or below it) per domain and horizon, and of the p10–p90 band.
//!
//! Seasonal naive forecasts "the same minute yesterday"; its quantiles add the empirical quantiles of its log error
//! measured on the model's validation month (not on evaluation data). Exponential smoothing is the shipped fallback.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::dataset::{self, MonthConfig, MonthRole, Samples, month_seed};
use super::features::{HORIZONS_MINUTES, N_HORIZONS, N_OUTPUTS, N_QUANTILES, QUANTILES};
use super::live::{ForecasterModel, LiveForecaster};
use super::model::{ForecastModel, Scratch};
use super::train::{empirical_quantile, months};
use crate::scenario::Scenario;
use crate::sim::{Layout, TICK_SECS};

/// Evaluation settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    /// Held-out months. Default: 2.
    pub months: usize,
    pub month: MonthConfig,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self { months: 2, month: MonthConfig::default() }
    }
}

/// The three forecasters side by side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trio {
    pub model: f64,
    pub seasonal_naive: f64,
    pub exp_smoothing: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HorizonRow {
    pub horizon_minutes: usize,
    /// Mean pinball loss, % of level.
    pub pinball_pct: Trio,
    /// MAPE of p50, %, all forecasts.
    pub mape_p50_pct: Trio,
    /// Share of outcomes ≤ p80, % (model).
    pub coverage_p80_pct: f64,
    /// Share of outcomes within p10–p90, % (model).
    pub coverage_p10_p90_pct: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DomainCoverage {
    pub domain: String,
    /// p80 coverage at each horizon, %.
    pub p80_pct: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastMetrics {
    pub eval_seeds: Vec<u64>,
    pub days: u64,
    pub samples: usize,
    pub steady_samples: usize,
    pub spike_samples: usize,
    pub horizons: Vec<HorizonRow>,
    /// MAPE of p50 at 15 minutes in steady traffic, %.
    pub mape_15min_steady_pct: Trio,
    /// MAPE of p50 at 15 minutes around spikes, %.
    pub mape_15min_spikes_pct: Trio,
    pub coverage_by_domain: Vec<DomainCoverage>,
    /// One forecast for every domain of the base scenario (features + network), microseconds.
    pub latency_us: LatencyStats,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyStats {
    pub median_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

/// Model quantiles (log space, calibrated) for every sample: `n × N_OUTPUTS`.
pub fn predict_all(model: &ForecastModel, s: &Samples) -> Vec<f32> {
    let rows: Vec<Option<usize>> = s.domain_ids.iter().map(|id| model.calibration_index(id)).collect();
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(s.len() * N_OUTPUTS);
    for i in 0..s.len() {
        let q = model.quantiles(s.features_of(i), rows[s.domain[i] as usize], s.bucket[i] as usize, &mut scratch);
        out.extend(q.iter().flatten());
    }
    out
}

/// Empirical quantiles of seasonal naive's log error per horizon: `[horizon][quantile]`.
fn naive_error_quantiles(s: &Samples) -> [[f32; N_QUANTILES]; N_HORIZONS] {
    let mut out = [[0.0; N_QUANTILES]; N_HORIZONS];
    for (h, row) in out.iter_mut().enumerate() {
        let mut errors: Vec<f32> =
            (0..s.len()).map(|i| s.targets[i * N_HORIZONS + h] - s.naive[i * N_HORIZONS + h]).collect();
        for (v, tau) in row.iter_mut().zip(QUANTILES) {
            *v = empirical_quantile(&mut errors, tau);
        }
    }
    out
}

fn pinball_lin(y: f32, q: &[f32]) -> f64 {
    let y = f64::from(y.exp());
    q.iter()
        .zip(QUANTILES)
        .map(|(&q, tau)| {
            let r = y - f64::from(q.exp());
            if r >= 0.0 { f64::from(tau) * r } else { (f64::from(tau) - 1.0) * r }
        })
        .sum::<f64>()
        / N_QUANTILES as f64
}

fn ape(y: f32, p50: f32) -> f64 {
    let (y, p) = (f64::from(y.exp()), f64::from(p50.exp()));
    (p - y).abs() / y.max(1e-9)
}

#[derive(Clone, Default)]
struct Acc {
    sum: Trio,
    n: usize,
}

impl Acc {
    fn add(&mut self, m: f64, n: f64, h: f64) {
        self.sum.model += m;
        self.sum.seasonal_naive += n;
        self.sum.exp_smoothing += h;
        self.n += 1;
    }
    fn pct(&self) -> Trio {
        let d = self.n.max(1) as f64 / 100.0;
        Trio {
            model: self.sum.model / d,
            seasonal_naive: self.sum.seasonal_naive / d,
            exp_smoothing: self.sum.exp_smoothing / d,
        }
    }
}

/// Scores `model` on held-out months of `base`'s traffic. `on_month` is called as each month is simulated.
pub fn evaluate(
    model: &ForecastModel,
    base: &Scenario,
    cfg: &EvalConfig,
    on_month: &mut dyn FnMut(),
) -> ForecastMetrics {
    let eval_seeds: Vec<u64> = (0..cfg.months).map(|i| month_seed(0, MonthRole::Eval(i))).collect();
    let mut seeds = eval_seeds.clone();
    seeds.push(month_seed(model.meta.training.seed, MonthRole::Validation));
    let all = months(base, &seeds, &cfg.month, on_month);
    let naive_q = naive_error_quantiles(&dataset::samples(&all[cfg.months], cfg.month.stride_minutes));
    let mut s = Samples::default();
    for m in &all[..cfg.months] {
        s.extend(dataset::samples(m, cfg.month.stride_minutes));
    }
    let pred = predict_all(model, &s);

    let n_domains = s.domain_ids.len();
    let mut pin = vec![Acc::default(); N_HORIZONS];
    let mut mape = vec![Acc::default(); N_HORIZONS];
    let (mut steady, mut spikes) = (Acc::default(), Acc::default());
    let mut cov80 = vec![[0usize; N_HORIZONS]; n_domains];
    let mut cov_band = [0usize; N_HORIZONS];
    let mut per_domain = vec![0usize; n_domains];
    for i in 0..s.len() {
        let d = s.domain[i] as usize;
        per_domain[d] += 1;
        for h in 0..N_HORIZONS {
            let y = s.targets[i * N_HORIZONS + h];
            let q = &pred[i * N_OUTPUTS + h * N_QUANTILES..i * N_OUTPUTS + (h + 1) * N_QUANTILES];
            let naive: Vec<f32> = naive_q[h].iter().map(|e| s.naive[i * N_HORIZONS + h] + e).collect();
            let holt = &s.holt[i * N_OUTPUTS + h * N_QUANTILES..i * N_OUTPUTS + (h + 1) * N_QUANTILES];
            pin[h].add(pinball_lin(y, q), pinball_lin(y, &naive), pinball_lin(y, holt));
            let errors = (ape(y, q[1]), ape(y, s.naive[i * N_HORIZONS + h]), ape(y, holt[1]));
            mape[h].add(errors.0, errors.1, errors.2);
            if HORIZONS_MINUTES[h] == 15 {
                let acc = if s.around_event[i] { &mut spikes } else { &mut steady };
                acc.add(errors.0, errors.1, errors.2);
            }
            cov80[d][h] += usize::from(y <= q[2]);
            cov_band[h] += usize::from(y >= q[0] && y <= q[3]);
        }
    }
    let pct = |k: usize, n: usize| 100.0 * k as f64 / n.max(1) as f64;
    let horizons = (0..N_HORIZONS)
        .map(|h| HorizonRow {
            horizon_minutes: HORIZONS_MINUTES[h],
            pinball_pct: pin[h].pct(),
            mape_p50_pct: mape[h].pct(),
            coverage_p80_pct: pct(cov80.iter().map(|c| c[h]).sum(), s.len()),
            coverage_p10_p90_pct: pct(cov_band[h], s.len()),
        })
        .collect();
    ForecastMetrics {
        eval_seeds,
        days: cfg.month.days,
        samples: s.len(),
        steady_samples: steady.n,
        spike_samples: spikes.n,
        horizons,
        mape_15min_steady_pct: steady.pct(),
        mape_15min_spikes_pct: spikes.pct(),
        coverage_by_domain: (0..n_domains)
            .map(|d| DomainCoverage {
                domain: s.domain_ids[d].clone(),
                p80_pct: (0..N_HORIZONS).map(|h| pct(cov80[d][h], per_domain[d])).collect(),
            })
            .collect(),
        latency_us: latency(model, base, 300),
    }
}

/// Times `iterations` forecasts of every domain through the live path (features, network, calibration).
pub fn latency(model: &ForecastModel, base: &Scenario, iterations: usize) -> LatencyStats {
    let layout = Layout::build(base, base.seed);
    let mut live = LiveForecaster::new(base, &layout, base.seed, ForecasterModel::Learned(model.clone().into()));
    let mut times = Vec::with_capacity(iterations);
    let n = layout.domains.len();
    let mut t = 0;
    for _ in 0..iterations {
        for _ in 0..60 / TICK_SECS {
            t += TICK_SECS;
            live.observe(t, (0..n).map(|d| 1000.0 + d as f32));
        }
        let started = Instant::now();
        let f = live.forecast(t);
        times.push(started.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(f);
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| {
        times.get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1))).copied().unwrap_or(0.0)
    };
    LatencyStats { median_us: at(0.5), p99_us: at(0.99), max_us: times.last().copied().unwrap_or(0.0) }
}
