//! `hirl-scale train forecaster` and `hirl-scale eval forecaster`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::stdout::{out, outln};
use crate::agents::forecast::dataset::MonthConfig;
use crate::agents::forecast::eval::{self, EvalConfig, ForecastMetrics, Trio};
use crate::agents::forecast::train::{self, Progress, TrainConfig};
use crate::agents::forecast::{DEFAULT_MODEL_PATH, ForecastModel};
use crate::scenario::Scenario;

/// The most days a simulated month may have: a calendar month. Training holds every month's samples in memory at
/// once, about 1.3 MB per simulated day (a sample every 5 minutes for each of 5 domains, 215 inputs of 4 bytes),
/// and simulates each day minute by minute (the shipped model's 300 days took 24 s).
const MAX_DAYS: u64 = 31;
/// The most training months: with a validation month, [`MAX_CALIBRATION_MONTHS`] and [`MAX_DAYS`] that is
/// (24 + 1 + 12) × 31 days, about 1.5 GB of samples and some minutes of simulation (the shipped model used 6).
const MAX_TRAIN_MONTHS: usize = 24;
/// The most calibration months (the shipped model used 3).
const MAX_CALIBRATION_MONTHS: usize = 12;
/// The most held-out months an evaluation simulates (two by default): each is simulated and held in memory like a
/// training month.
const MAX_EVAL_MONTHS: usize = 12;
/// The most epochs: each is one pass over the training samples (the shipped model kept epoch 10 of 12); the bound
/// stops a typo from running for days, not a real training.
const MAX_EPOCHS: usize = 1000;

fn count_in(range: std::ops::RangeInclusive<usize>) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(*range.start() as u64..=*range.end() as u64)
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Base scenario whose traffic model (domains, calls, shapes) the months vary.
    #[arg(long, default_value = "scenarios/reference-day.ron")]
    pub scenario: PathBuf,
    /// Seeds months, initial weights and batch order.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Training months (plus one validation month and the calibration months), 1 to 24.
    #[arg(long, default_value_t = 6, value_parser = count_in(1..=MAX_TRAIN_MONTHS))]
    pub months: usize,
    /// Months for the conformal recalibration, 1 to 12.
    #[arg(long, default_value_t = 3, value_parser = count_in(1..=MAX_CALIBRATION_MONTHS))]
    pub calibration_months: usize,
    /// Days in each simulated month, 1 to 31.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=MAX_DAYS))]
    pub days: u64,
    /// Passes over the training samples, 1 to 1000 (the weights of the best validation epoch are kept).
    #[arg(long, default_value_t = 12, value_parser = count_in(1..=MAX_EPOCHS))]
    pub epochs: usize,
    /// Hidden layer widths, comma-separated ("" for a linear quantile model).
    #[arg(long, value_delimiter = ',', default_value = "128,128")]
    pub hidden: Vec<String>,
    /// Held-out evaluation months measured after training, 0 (skip) to 12.
    #[arg(long, default_value_t = 2, value_parser = count_in(0..=MAX_EVAL_MONTHS))]
    pub eval_months: usize,
    /// Output weights; the metadata goes beside it as .json, the per-epoch checkpoint as .checkpoint.safetensors.
    #[arg(long, default_value = DEFAULT_MODEL_PATH)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[arg(long, default_value = DEFAULT_MODEL_PATH)]
    pub model: PathBuf,
    #[arg(long, default_value = "scenarios/reference-day.ron")]
    pub scenario: PathBuf,
    /// Held-out months, 1 to 12.
    #[arg(long, default_value_t = 2, value_parser = count_in(1..=MAX_EVAL_MONTHS))]
    pub months: usize,
    /// Days in each held-out month, 1 to 31.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=MAX_DAYS))]
    pub days: u64,
    /// Also write the metrics as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

fn bar(len: u64, prefix: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix.to_string());
    bar
}

pub fn train_command(args: TrainArgs, base: &Scenario) -> Result<()> {
    // Read before training writes anything (see `hirl::train_command`).
    let source_tree = super::source_tree();
    // Before the training, not after it: an output that cannot be written (a directory, a .json, a read-only file)
    // is refused while nothing has been spent on it.
    super::outputs::check_model_out(
        &args.out,
        &[],
        &[super::outputs::Input::new("the scenario file", &args.scenario)],
    )?;
    let checkpoint = args.out.with_extension("checkpoint.safetensors");
    // `--hidden ''` is a linear model (no hidden layer); an empty entry among widths (`128,,128`) is a typo, not
    // a layer to skip.
    let hidden: Vec<usize> = if args.hidden.iter().all(|h| h.trim().is_empty()) {
        Vec::new()
    } else {
        args.hidden
            .iter()
            .map(|h| h.trim().parse::<usize>().ok().filter(|&w| (1..=4096).contains(&w)))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| anyhow::anyhow!("--hidden: widths must be whole numbers from 1 to 4096, e.g. 128,128"))?
    };
    let cfg = TrainConfig {
        seed: args.seed,
        train_months: args.months,
        calibration_months: args.calibration_months,
        month: MonthConfig { days: args.days, ..MonthConfig::default() },
        epochs: args.epochs,
        hidden: hidden.clone(),
        checkpoint: Some(checkpoint.clone()),
        ..TrainConfig::default()
    };
    let command = format!(
        "hirl-scale train forecaster --scenario {} --seed {} --months {} --calibration-months {} --days {} --epochs {} \
         --hidden {}",
        args.scenario.display(),
        args.seed,
        args.months,
        args.calibration_months,
        args.days,
        args.epochs,
        hidden.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
    );
    let data_bar = bar((args.months + 1 + args.calibration_months.max(1)) as u64, "months");
    let mut step_bar: Option<ProgressBar> = None;
    let started = Instant::now();
    let mut model = train::train(base, &args.scenario.display().to_string(), &command, &cfg, &mut |p| match p {
        Progress::Data { done, .. } => data_bar.set_position(done as u64),
        Progress::Step { done, total } => {
            data_bar.finish_and_clear();
            step_bar.get_or_insert_with(|| bar(total as u64, "steps")).set_position(done as u64);
        }
        Progress::Epoch { epoch, train_pinball, validation_pinball } => {
            let line =
                format!("epoch {epoch:>2}: train pinball {train_pinball:.5}, validation {validation_pinball:.5}");
            super::progress_line(step_bar.as_ref(), line);
        }
    })?;
    if let Some(b) = step_bar {
        b.finish_and_clear();
    }
    let t = &model.meta.training;
    outln!(
        "trained in {:.0} s on {} samples; kept epoch {} of {} (checkpoints: {})",
        started.elapsed().as_secs_f64(),
        t.train_samples,
        t.best_epoch,
        t.epochs,
        checkpoint.display()
    );
    if args.eval_months > 0 {
        let metrics = run_eval(&model, base, args.eval_months, args.days)?;
        out!("{}", table(&metrics));
        model.meta.metrics = Some(serde_json::to_value(&metrics)?);
    }
    model.meta.training.source_tree = source_tree;
    model.save(&args.out)?;
    outln!("wrote {} and {}", args.out.display(), crate::agents::model_file::metadata_path(&args.out).display());
    Ok(())
}

fn run_eval(model: &ForecastModel, base: &Scenario, months: usize, days: u64) -> Result<ForecastMetrics> {
    let cfg = EvalConfig { months, month: MonthConfig { days, ..MonthConfig::default() } };
    let b = bar((months + 1) as u64, "eval");
    let metrics = eval::evaluate(model, base, &cfg, &mut || b.inc(1));
    b.finish_and_clear();
    Ok(metrics)
}

pub fn eval_command(args: EvalArgs, base: &Scenario) -> Result<()> {
    // Before the evaluation, not after it: `--json` naming the model's own metadata replaced it with the metrics (the
    // model then failed to load, and the command exited 0), and a directory failed only once the months had run.
    let mut inputs = vec![super::outputs::Input::new("the scenario file", &args.scenario)];
    inputs.extend(super::outputs::model_pair("forecaster's", args.model.clone()));
    super::outputs::check(&[("--json", args.json.as_deref())], &inputs)?;
    let model = ForecastModel::load(&args.model)?;
    let metrics = run_eval(&model, base, args.months, args.days)?;
    out!("{}", table(&metrics));
    if let Some(path) = args.json {
        super::write_json(&path, &metrics)?;
    }
    Ok(())
}

fn trio(t: &Trio) -> String {
    format!("{:>8.2} {:>8.2} {:>8.2}", t.model, t.seasonal_naive, t.exp_smoothing)
}

/// The metrics as a plain-text report.
pub fn table(m: &ForecastMetrics) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "held-out: {} months × {} days (seeds {:?}), {} forecasts ({} steady, {} around spikes at 15 min)",
        m.eval_seeds.len(),
        m.days,
        m.eval_seeds,
        m.samples,
        m.steady_samples,
        m.spike_samples
    );
    let _ = writeln!(s, "\n{:<28} {:>8} {:>8} {:>8}", "", "model", "s-naive", "exp-sm");
    for h in &m.horizons {
        let _ = writeln!(s, "{:<28} {}", format!("pinball {} min (% level)", h.horizon_minutes), trio(&h.pinball_pct));
    }
    for h in &m.horizons {
        let _ = writeln!(s, "{:<28} {}", format!("MAPE p50 {} min (%)", h.horizon_minutes), trio(&h.mape_p50_pct));
    }
    let _ = writeln!(s, "{:<28} {}", "MAPE p50 15 min, steady", trio(&m.mape_15min_steady_pct));
    let _ = writeln!(s, "{:<28} {}", "MAPE p50 15 min, spikes", trio(&m.mape_15min_spikes_pct));
    let _ = writeln!(s, "\ncoverage (model), % of outcomes:");
    let _ = writeln!(s, "{:<12} {:>8} {:>8} {:>8}", "p80", "5 min", "15 min", "30 min");
    for d in &m.coverage_by_domain {
        let cols: Vec<String> = d.p80_pct.iter().map(|v| format!("{v:>8.1}")).collect();
        let _ = writeln!(s, "{:<12} {}", d.domain, cols.join(" "));
    }
    let all: Vec<String> = m.horizons.iter().map(|h| format!("{:>8.1}", h.coverage_p80_pct)).collect();
    let _ = writeln!(s, "{:<12} {}", "all", all.join(" "));
    let band: Vec<String> = m.horizons.iter().map(|h| format!("{:>8.1}", h.coverage_p10_p90_pct)).collect();
    let _ = writeln!(s, "{:<12} {}", "p10–p90", band.join(" "));
    let _ = writeln!(
        s,
        "\nlatency, one forecast of every domain: median {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        m.latency_us.median_us, m.latency_us.p99_us, m.latency_us.max_us
    );
    s
}

/// The shipped model path from the working directory, or from the source tree when run elsewhere.
pub fn default_model_path() -> PathBuf {
    super::shipped_file(DEFAULT_MODEL_PATH)
}

/// Loads a model for display, saying on stderr why the fallback is used when it cannot.
pub fn load_for_run(path: &Path) -> crate::agents::forecast::ForecasterModel {
    let m = crate::agents::forecast::ForecasterModel::load(path);
    if let crate::agents::forecast::ForecasterModel::Fallback { reason } = &m {
        eprintln!("forecaster: {reason}; using exponential smoothing");
    }
    m
}
