//! Training the forecaster: simulated months → samples → a quantile MLP fitted with pinball loss (candle, AdamW) →
//! conformal offsets from a separate calibration month.
//!
//! Determinism: months come from seeded streams, the network is initialised from our own [`SimRng`] and batches are
//! shuffled by it; candle's CPU kernels are deterministic for a fixed thread count (the CLI pins one thread). Same
//! seed and config, same machine ⇒ the same weights, bit for bit (tested at a small size).
//!
//! Model selection: the epoch with the lowest pinball loss on the validation month is kept, not the last one.

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{D, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use serde::{Deserialize, Serialize};

use super::dataset::{self, Month, MonthConfig, MonthRole, Samples, month_seed};
use super::features::{
    HORIZONS_MINUTES, N_BUCKETS, N_FEATURES, N_HORIZONS, N_OUTPUTS, N_QUANTILES, QUANTILES, feature_names,
};
use super::model::{Calibration, DomainOffsets, ForecastModel, Metadata, SCHEMA, Scratch, TrainingInfo};
use crate::agents::model_file::ModelError;
use crate::agents::nn::{ShapeError, TrainableMlp};
use crate::scenario::Scenario;
use crate::sim::rng::SimRng;

/// Training settings. Defaults are what the shipped model used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Seeds the months, the initial weights and the batch order. Default: 7.
    pub seed: u64,
    /// Simulated training months. Default: 6.
    pub train_months: usize,
    /// Months for the conformal offsets. Several, because each month draws its own noise level and events, and
    /// offsets fitted to one month's luck under-cover the next. Default: 3.
    pub calibration_months: usize,
    pub month: MonthConfig,
    /// Hidden layer widths. Default: 128, 128.
    pub hidden: Vec<usize>,
    /// Passes over the training samples. Default: 12.
    pub epochs: usize,
    /// Samples per optimiser step. Default: 512.
    pub batch_size: usize,
    /// Peak learning rate, decayed to 5% by a cosine schedule. Default: 2e-3.
    pub learning_rate: f64,
    /// AdamW weight decay. Default: 1e-4.
    pub weight_decay: f64,
    /// Where to write the weights after every epoch (uncalibrated), if anywhere.
    pub checkpoint: Option<PathBuf>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 7,
            train_months: 6,
            calibration_months: 3,
            month: MonthConfig::default(),
            hidden: vec![128, 128],
            epochs: 12,
            batch_size: 512,
            learning_rate: 2e-3,
            weight_decay: 1e-4,
            checkpoint: None,
        }
    }
}

/// What training reports as it goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// Months simulated so far (training months, then validation and calibration).
    Data {
        done: usize,
        total: usize,
    },
    /// Optimiser steps so far.
    Step {
        done: usize,
        total: usize,
    },
    Epoch {
        epoch: usize,
        train_pinball: f64,
        validation_pinball: f64,
    },
}

/// Causes are in the messages, not `source`s: `{:#}` at the CLI edge would print them twice.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("tensor computation failed: {0}")]
    Candle(candle_core::Error),
    #[error(transparent)]
    Shape(#[from] ShapeError),
    #[error("checkpoint: {0}")]
    Checkpoint(ModelError),
    #[error("no training samples: the months are too short for a day of history plus the horizons")]
    NoSamples,
}

impl From<candle_core::Error> for TrainError {
    fn from(e: candle_core::Error) -> Self {
        Self::Candle(e)
    }
}

impl From<ModelError> for TrainError {
    fn from(e: ModelError) -> Self {
        Self::Checkpoint(e)
    }
}

/// Simulates months in parallel (two threads; each month is a pure function of its seed, so order is kept).
pub fn months(base: &Scenario, seeds: &[u64], cfg: &MonthConfig, on_done: &mut dyn FnMut()) -> Vec<Month> {
    let mut out: Vec<Option<Month>> = vec![None; seeds.len()];
    for (chunk_out, chunk_seeds) in out.chunks_mut(2).zip(seeds.chunks(2)) {
        std::thread::scope(|scope| {
            let handles: Vec<_> =
                chunk_seeds.iter().map(|&seed| scope.spawn(move || dataset::simulate_month(base, seed, cfg))).collect();
            for (slot, h) in chunk_out.iter_mut().zip(handles) {
                // A panic in a month is a bug; re-raise it here rather than hide it.
                *slot = Some(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
        });
        for _ in chunk_seeds {
            on_done();
        }
    }
    out.into_iter().flatten().collect()
}

/// Per-feature mean and standard deviation over a sample set (std floored so constant features pass through).
pub fn standardisation(s: &Samples) -> (Vec<f32>, Vec<f32>) {
    let n = s.len().max(1) as f64;
    let mut mean = vec![0f64; N_FEATURES];
    let mut sq = vec![0f64; N_FEATURES];
    for i in 0..s.len() {
        for (j, &v) in s.features_of(i).iter().enumerate() {
            mean[j] += f64::from(v);
            sq[j] += f64::from(v) * f64::from(v);
        }
    }
    let mean: Vec<f64> = mean.iter().map(|m| m / n).collect();
    let std = sq.iter().zip(&mean).map(|(s, m)| ((s / n - m * m).max(0.0).sqrt()).max(1e-3) as f32).collect();
    (mean.into_iter().map(|m| m as f32).collect(), std)
}

/// Pinball loss of the network's quantiles (`[batch, N_OUTPUTS]` raw outputs) against `[batch, N_HORIZONS]` targets.
fn pinball(raw: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    let b = raw.dim(0)?;
    let o = raw.reshape((b, N_HORIZONS, N_QUANTILES))?;
    let softplus = |x: &Tensor| -> candle_core::Result<Tensor> { x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()? };
    let mid = o.narrow(D::Minus1, 1, 1)?;
    let low = (&mid - softplus(&o.narrow(D::Minus1, 0, 1)?)?)?;
    let upper = (&mid + softplus(&o.narrow(D::Minus1, 2, 1)?)?)?;
    let top = (&upper + softplus(&o.narrow(D::Minus1, 3, 1)?)?)?;
    let q = Tensor::cat(&[&low, &mid, &upper, &top], D::Minus1)?;
    let r = targets.unsqueeze(D::Minus1)?.broadcast_sub(&q)?;
    let tau = Tensor::new(&QUANTILES, raw.device())?.reshape((1, 1, N_QUANTILES))?;
    let one_minus_tau = (1.0 - &tau)?;
    let loss = (r.relu()?.broadcast_mul(&tau)? + r.neg()?.relu()?.broadcast_mul(&one_minus_tau)?)?;
    loss.mean_all()
}

/// Normalised feature rows `idx` as a tensor.
fn batch(s: &Samples, idx: &[usize], mean: &[f32], std: &[f32]) -> candle_core::Result<(Tensor, Tensor)> {
    let mut x = Vec::with_capacity(idx.len() * N_FEATURES);
    let mut y = Vec::with_capacity(idx.len() * N_HORIZONS);
    for &i in idx {
        x.extend(s.features_of(i).iter().zip(mean.iter().zip(std)).map(|(v, (m, sd))| (v - m) / sd));
        y.extend_from_slice(&s.targets[i * N_HORIZONS..(i + 1) * N_HORIZONS]);
    }
    Ok((
        Tensor::from_vec(x, (idx.len(), N_FEATURES), &Device::Cpu)?,
        Tensor::from_vec(y, (idx.len(), N_HORIZONS), &Device::Cpu)?,
    ))
}

/// Mean pinball loss (log space) of `net` over a whole sample set.
fn evaluate_loss(net: &TrainableMlp, s: &Samples, mean: &[f32], std: &[f32]) -> candle_core::Result<f64> {
    let idx: Vec<usize> = (0..s.len()).collect();
    let mut total = 0.0;
    for chunk in idx.chunks(4096) {
        let (x, y) = batch(s, chunk, mean, std)?;
        total += f64::from(pinball(&net.forward(&x)?, &y)?.to_scalar::<f32>()?) * chunk.len() as f64;
    }
    Ok(total / s.len().max(1) as f64)
}

/// The `tau`-quantile of `values` (nearest rank; 0 when empty). Sorts `values`.
pub(super) fn empirical_quantile(values: &mut [f32], tau: f32) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f32::total_cmp);
    let rank = ((tau * values.len() as f32).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// Conformal offsets: for each domain, time-of-day bucket, horizon and quantile τ, the τ-quantile of
/// `target − predicted` on the calibration samples, so that adding it makes the empirical coverage τ there.
pub fn calibrate(model: &ForecastModel, cal: &Samples) -> Calibration {
    let cells = N_BUCKETS * N_HORIZONS * N_QUANTILES;
    let n_domains = cal.domain_ids.len();
    let mut residuals: Vec<Vec<Vec<f32>>> = vec![vec![Vec::new(); cells]; n_domains + 1];
    let mut scratch = Scratch::default();
    for i in 0..cal.len() {
        let q = model.raw_quantiles(cal.features_of(i), &mut scratch);
        let (d, b) = (cal.domain[i] as usize, cal.bucket[i] as usize);
        for (h, row) in q.iter().enumerate() {
            for (j, &predicted) in row.iter().enumerate() {
                let r = cal.targets[i * N_HORIZONS + h] - predicted;
                let cell = (b * N_HORIZONS + h) * N_QUANTILES + j;
                residuals[d][cell].push(r);
                residuals[n_domains][cell].push(r);
            }
        }
    }
    let offsets = |cells: &mut Vec<Vec<f32>>| -> Vec<f32> {
        cells
            .iter_mut()
            .enumerate()
            .map(|(cell, r)| empirical_quantile(r, QUANTILES[cell % N_QUANTILES]).clamp(-5.0, 5.0))
            .collect()
    };
    let pooled = offsets(&mut residuals[n_domains]);
    Calibration {
        bucket_hours: super::features::BUCKET_HOURS,
        domains: cal
            .domain_ids
            .iter()
            .enumerate()
            .map(|(d, id)| DomainOffsets { domain: id.clone(), offsets: offsets(&mut residuals[d]) })
            .collect(),
        pooled,
    }
}

/// Trains a forecaster on months of `base`'s traffic.
#[allow(clippy::type_complexity)]
pub fn train(
    base: &Scenario,
    base_name: &str,
    command: &str,
    cfg: &TrainConfig,
    on: &mut dyn FnMut(Progress),
) -> Result<ForecastModel, TrainError> {
    let started = Instant::now();
    let mut seeds: Vec<u64> = (0..cfg.train_months).map(|i| month_seed(cfg.seed, MonthRole::Train(i))).collect();
    seeds.push(month_seed(cfg.seed, MonthRole::Validation));
    seeds.extend((0..cfg.calibration_months.max(1)).map(|i| month_seed(cfg.seed, MonthRole::Calibration(i))));
    let total_months = seeds.len();
    let mut done = 0;
    on(Progress::Data { done, total: total_months });
    let all = months(base, &seeds, &cfg.month, &mut || {
        done += 1;
        on(Progress::Data { done, total: total_months });
    });
    let stride = cfg.month.stride_minutes;
    let mut train_set = Samples::default();
    for m in &all[..cfg.train_months] {
        train_set.extend(dataset::samples(m, stride));
    }
    let val_set = dataset::samples(&all[cfg.train_months], stride);
    let mut cal_set = Samples::default();
    for m in &all[cfg.train_months + 1..] {
        cal_set.extend(dataset::samples(m, stride));
    }
    if train_set.is_empty() || val_set.is_empty() || cal_set.is_empty() {
        return Err(TrainError::NoSamples);
    }
    drop(all);
    let (mean, std) = standardisation(&train_set);

    let mut rng = SimRng::new(cfg.seed, 7);
    let mut sizes = vec![N_FEATURES];
    sizes.extend(&cfg.hidden);
    sizes.push(N_OUTPUTS);
    // A small last layer starts every quantile near "same as now", the right prior for log-ratio targets.
    let net = TrainableMlp::new("net", &sizes, &mut rng, 0.1)?;
    let params = ParamsAdamW { lr: cfg.learning_rate, weight_decay: cfg.weight_decay, ..ParamsAdamW::default() };
    let mut opt = AdamW::new(net.vars(), params)?;

    let batch_size = cfg.batch_size.max(1);
    let steps_per_epoch = train_set.len().div_ceil(batch_size);
    let total_steps = steps_per_epoch * cfg.epochs;
    let mut order: Vec<usize> = (0..train_set.len()).collect();
    let mut step = 0;
    // (validation loss, epoch, weights) of the best epoch so far.
    let mut best: Option<(f64, usize, Vec<(String, Tensor)>)> = None;
    let mut validation_curve = Vec::new();
    let train_samples = train_set.len();
    let model_now = |epoch: usize, curve: &[f64], wall_secs: f64| {
        assemble(&net, &mean, &std, &sizes, base_name, command, cfg, train_samples, epoch, curve, wall_secs)
    };
    for epoch in 1..=cfg.epochs {
        // Fisher–Yates with our own RNG.
        for i in (1..order.len()).rev() {
            order.swap(i, rng.range_u32(0, i as u32) as usize);
        }
        let mut train_loss = 0.0;
        for chunk in order.chunks(batch_size) {
            let progress = step as f64 / total_steps.max(1) as f64;
            opt.set_learning_rate(
                cfg.learning_rate * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())),
            );
            let (x, y) = batch(&train_set, chunk, &mean, &std)?;
            let loss = pinball(&net.forward(&x)?, &y)?;
            opt.backward_step(&loss)?;
            train_loss += f64::from(loss.to_scalar::<f32>()?) * chunk.len() as f64;
            step += 1;
            if step % 20 == 0 || step == total_steps {
                on(Progress::Step { done: step, total: total_steps });
            }
        }
        let validation = evaluate_loss(&net, &val_set, &mean, &std)?;
        validation_curve.push(validation);
        on(Progress::Epoch {
            epoch,
            train_pinball: train_loss / train_set.len() as f64,
            validation_pinball: validation,
        });
        if best.as_ref().is_none_or(|(v, _, _)| validation < *v) {
            let snapshot =
                net.named_tensors().into_iter().map(|(n, t)| t.copy().map(|t| (n, t))).collect::<Result<_, _>>()?;
            best = Some((validation, epoch, snapshot));
        }
        if let Some(path) = &cfg.checkpoint {
            let draft = model_now(epoch, &validation_curve, 0.0)?;
            draft.save(path)?;
        }
    }
    let best_epoch = match best {
        Some((_, epoch, tensors)) => {
            net.load(&tensors.into_iter().collect())?;
            epoch
        }
        None => 0,
    };
    let wall = started.elapsed().as_secs_f64();
    let mut model = model_now(best_epoch, &validation_curve, wall)?;
    model.meta.calibration = calibrate(&model, &cal_set);
    Ok(model)
}

/// A model from the network's current weights, with zero calibration offsets.
#[allow(clippy::too_many_arguments)]
fn assemble(
    net: &TrainableMlp,
    mean: &[f32],
    std: &[f32],
    sizes: &[usize],
    base_name: &str,
    command: &str,
    cfg: &TrainConfig,
    train_samples: usize,
    best_epoch: usize,
    validation_curve: &[f64],
    wall_secs: f64,
) -> Result<ForecastModel, TrainError> {
    let cells = N_BUCKETS * N_HORIZONS * N_QUANTILES;
    Ok(ForecastModel {
        mlp: net.to_mlp()?,
        norm_mean: mean.to_vec(),
        norm_std: std.to_vec(),
        meta: Metadata {
            schema: SCHEMA.to_string(),
            feature_names: feature_names(),
            horizons_minutes: HORIZONS_MINUTES.to_vec(),
            quantiles: QUANTILES.to_vec(),
            layer_sizes: sizes.to_vec(),
            training: TrainingInfo {
                command: command.to_string(),
                seed: cfg.seed,
                base_scenario: base_name.to_string(),
                train_months: cfg.train_months,
                // What was simulated: calibration needs a month, so 0 ran as 1.
                calibration_months: cfg.calibration_months.max(1),
                days_per_month: cfg.month.days,
                train_samples,
                epochs: cfg.epochs,
                best_epoch,
                batch_size: cfg.batch_size,
                learning_rate: cfg.learning_rate,
                wall_secs,
                validation_pinball: validation_curve.to_vec(),
                source_tree: None,
            },
            calibration: Calibration {
                bucket_hours: super::features::BUCKET_HOURS,
                domains: Vec::new(),
                pooled: vec![0.0; cells],
            },
            metrics: None,
            weights_digest: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    fn tiny_config(seed: u64) -> TrainConfig {
        TrainConfig {
            seed,
            train_months: 1,
            calibration_months: 1,
            month: MonthConfig { days: 2, stride_minutes: 30, ..MonthConfig::default() },
            hidden: vec![16],
            epochs: 2,
            batch_size: 64,
            ..TrainConfig::default()
        }
    }

    #[test]
    fn same_seed_same_weights() {
        let s = scenario::load_file(std::path::Path::new("scenarios/small.ron")).expect("shipped scenario");
        let a = train(&s, "small", "test", &tiny_config(3), &mut |_| {}).expect("trains");
        let b = train(&s, "small", "test", &tiny_config(3), &mut |_| {}).expect("trains");
        let c = train(&s, "small", "test", &tiny_config(4), &mut |_| {}).expect("trains");
        assert_eq!(a.mlp, b.mlp);
        assert_eq!(a.meta.calibration, b.meta.calibration);
        assert_ne!(a.mlp, c.mlp);
        let curve = &a.meta.training.validation_pinball;
        assert_eq!(curve.len(), 2);
        assert!(curve.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn empirical_quantile_is_the_nearest_rank() {
        let mut v: Vec<f32> = (1..=100).map(|i| i as f32).collect();
        assert_eq!(empirical_quantile(&mut v, 0.8), 80.0);
        assert_eq!(empirical_quantile(&mut v, 0.1), 10.0);
        assert_eq!(empirical_quantile(&mut [], 0.5), 0.0);
    }
}
