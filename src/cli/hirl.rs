//! `hirl-scale train hirl` and `hirl-scale eval` (the scorecard of every policy on a scenario suite).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::stdout::{out, outln};
use crate::agents::hirl::DEFAULT_AGENTS_PATH;
use crate::agents::hirl::nets::{HirlNets, Target};
use crate::agents::hirl::reward::RewardWeights;
use crate::agents::hirl::safety::FallbackTime;
use crate::agents::hirl::train::{self, CurveRow, Progress, ResumeState, TrainConfig, Trainer};
use crate::policy::WarmReserveSpec;
use crate::replay::names_run_of;
use crate::scenario::{self, Scenario, WhatIf};
use crate::sim::cascades::{CascadeCounts, CascadeLengths};
use crate::sim::{Scorecard, SuiteTotals};

/// The shipped scenarios the agents train on (scaled down) and are evaluated on (full scale).
pub const SUITE: &[&str] = &[
    "scenarios/reference-day.ron",
    "scenarios/flash-sale-early.ron",
    "scenarios/fraud-cascade.ron",
    "scenarios/provisioner-stampede.ron",
    "scenarios/priority-inversion.ron",
];

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Seeds initial weights, episodes and exploration.
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
    /// App-count factor of the training episodes.
    #[arg(long, default_value_t = 0.1, value_parser = super::bench::parse_app_scale)]
    pub scale: f64,
    /// PPO iterations per curriculum stage (6 stages).
    #[arg(long, default_value_t = 5)]
    pub iterations: usize,
    /// Episodes per PPO iteration.
    #[arg(long, default_value_t = 6)]
    pub episodes: usize,
    /// Validation episodes that score the networks after every iteration (the best scoring are kept).
    #[arg(long, default_value_t = 4)]
    pub validation_episodes: usize,
    /// Output weights; metadata beside it as .json, curves as .curves.csv, the checkpoint as .checkpoint.safetensors.
    #[arg(long, default_value = DEFAULT_AGENTS_PATH)]
    pub out: PathBuf,
    /// Continue from the checkpoint beside `--out` (current and kept networks, RNG positions, curves): ends with the
    /// weights an uninterrupted run would have; refused when the options, scenarios or forecaster differ.
    #[arg(long)]
    pub resume: bool,
    /// Training scenarios (default: the shipped suite).
    #[arg(long, value_delimiter = ',')]
    pub scenarios: Vec<PathBuf>,
    /// Weight of the cost term (cluster cost relative to the episode's start) in both levels' reward.
    #[arg(long, default_value_t = RewardWeights::default().cost, value_parser = parse_weight)]
    pub cost_weight: f64,
    /// Seeds of full-scale validation: each runs every training scenario at full scale (jittered) under the
    /// candidate networks and HPA, and the fewest P0+P1 breach minutes within HPA's node-hours and scaling actions
    /// are kept; 0 selects on the small validation episodes' reward instead.
    #[arg(long, default_value_t = 2)]
    pub full_scale_validation_seeds: usize,
    /// Cost margin of selection: kept networks run at most (1 + this) × the reference's node-hours (HPA's at full
    /// scale, behaviour cloning's on the small validation episodes). Negative demands a saving, e.g. -0.01 for 1%
    /// below HPA, to allow for validation runs being only a sample of the held-out ones.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = parse_tolerance)]
    pub selection_cost_tolerance: f64,
    /// Hold each Soldier's exploration noise this many simulated seconds instead of drawing it at every decision
    /// (0: a fresh draw). Fresh draws make the sampled replicas jitter, and the oscillation penalty then scores the
    /// noise rather than the policy.
    #[arg(long, default_value_t = 0)]
    pub soldier_noise_hold_secs: u64,
    /// The executor's idle-node rule in training and selection runs: remove a node after this many seconds unneeded
    /// (default: the executor's own, 450). The shipped networks were trained under 600, the stock rule of the time;
    /// with `--node-unneeded-secs 600` this tree writes them again.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub node_unneeded_secs: Option<u64>,
}

fn parse_tolerance(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(t) if t.is_finite() && t > -1.0 => Ok(t),
        Ok(t) => Err(format!("{t} is not a cost margin: give a finite number above -1")),
        Err(e) => Err(format!("{text:?} is not a number: {e}")),
    }
}

fn parse_weight(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(w) if w.is_finite() && w >= 0.0 => Ok(w),
        Ok(w) => Err(format!("{w} is not a weight: give a finite number ≥ 0")),
        Err(e) => Err(format!("{text:?} is not a number: {e}")),
    }
}

/// The runs an evaluation judges: shared by `eval` and `eval frontier`, so both run the same scenarios and seeds.
#[derive(Args, Debug)]
pub struct SuiteArgs {
    /// Scenarios (default: the shipped suite).
    #[arg(long, value_delimiter = ',')]
    pub scenarios: Vec<PathBuf>,
    /// Run seeds (below 10⁶: never used in training).
    #[arg(long, value_delimiter = ',', default_value = "1001,1002")]
    pub seeds: Vec<u64>,
    /// HiRL agents (default: models/hirl.safetensors).
    #[arg(long)]
    pub agents: Option<PathBuf>,
}

impl SuiteArgs {
    /// The files the suite's runs read (see [`super::outputs::inputs`]).
    pub fn inputs(&self) -> Vec<super::outputs::Input> {
        let paths = suite_paths(&self.scenarios);
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        super::outputs::inputs(&refs, self.agents.as_deref())
    }

    /// The agents file: `--agents`, or the shipped one.
    pub fn agents_path(&self) -> PathBuf {
        super::agents_path(self.agents.as_deref())
    }

    /// The suite's scenarios, refused when a seed or a scenario's name is given twice: the totals would count its runs
    /// twice, and the tables tell scenarios apart by name.
    pub fn load(&self) -> Result<Vec<Scenario>> {
        if let Some(seed) = first_repeat(&self.seeds) {
            anyhow::bail!("--seeds: {seed} is given twice (its runs would count twice in every total)");
        }
        let paths = suite_paths(&self.scenarios);
        let scenarios = load_all(&paths)?;
        let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
        if let Some(name) = first_repeat(&names) {
            let files: Vec<String> =
                paths.iter().zip(&names).filter(|(_, n)| **n == name).map(|(p, _)| p.display().to_string()).collect();
            anyhow::bail!(
                "--scenarios: scenario {name:?} is given twice ({}); the tables tell scenarios apart by name",
                files.join(" and ")
            );
        }
        Ok(scenarios)
    }
}

/// The first item of `items` that an earlier one equals.
pub(super) fn first_repeat<T: PartialEq + Clone>(items: &[T]) -> Option<T> {
    items.iter().enumerate().find(|&(i, x)| items[..i].contains(x)).map(|(_, x)| x.clone())
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub suite: SuiteArgs,
    #[arg(long, value_delimiter = ',', default_value = "hpa,heuristic,threshold,pid,hirl")]
    pub policies: Vec<String>,
    /// Also write every scorecard and the target table as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Store the suite totals and targets in the agents' metadata file (`eval` field).
    #[arg(long, conflicts_with_all = ["what_if", "size_floor"])]
    pub record_in_model: bool,
    /// Lift real-world limits in every scenario to see how much of the breach they cause: no-telemetry-lag,
    /// unbounded-provisioner (comma-separated; scenario names get `+name`).
    #[arg(long, value_delimiter = ',')]
    pub what_if: Vec<WhatIf>,
    /// Every policy holds at least this share of the CPU requested in a pool warm, as lowest-priority placeholder
    /// pods (HiRL: the larger of this and its Commander's reserve), to price capacity held ahead of unannounced
    /// spikes: `0.3` in every pool, or `shared-general=0.4,merchant-general=0.1` (pools not named hold none).
    #[arg(
        long,
        value_name = "SHARE|POOL=SHARE,…",
        value_parser = WarmReserveSpec::parse,
        conflicts_with = "record_in_model"
    )]
    pub warm_reserve: Option<WarmReserveSpec>,
    /// Hold `--warm-reserve` under these policies only (e.g. `hirl`), the others as shipped: the targets then say
    /// whether HiRL with the reserve beats the stock baselines, and what it costs.
    #[arg(long, value_delimiter = ',', requires = "warm_reserve")]
    pub warm_reserve_for: Vec<String>,
    #[command(flatten)]
    pub size_floor: super::SizeFloorArg,
}

pub(super) fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>> {
    suite_paths(paths).iter().map(|p| super::load_or_refuse(p)).collect()
}

/// The scenario files `paths` names: the shipped suite when it names none.
fn suite_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() { SUITE.iter().map(|p| super::shipped_file(p)).collect() } else { paths.to_vec() }
}

struct Bars {
    bar: Option<ProgressBar>,
}

impl Progress for Bars {
    fn phase(&mut self, name: &str, steps: usize) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        let bar = ProgressBar::new(steps as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg:<48} [{bar:30}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(name.to_string());
        self.bar = Some(bar);
    }
    fn step(&mut self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }
    fn row(&mut self, r: &CurveRow) {
        let line = format!(
            "{:<34} it {:>2}: commander r {:+.3}  soldier r {:+.4}  KL c {:.4} s {:.4} (actor steps c {} s {})  value loss c {:.3} s {:.3}  breach {:.3}  validation {:+.4} at {:.1} node-h{}{}  ({:.0} s)",
            r.stage,
            r.iteration + 1,
            r.commander_reward,
            r.soldier_reward,
            r.commander_kl,
            r.soldier_kl,
            r.commander_actor_steps,
            r.soldier_actor_steps,
            r.commander_value_loss,
            r.soldier_value_loss,
            r.breach_rate,
            r.validation_score,
            r.validation_node_hours,
            r.full_scale
                .as_ref()
                .map(|f| format!(
                    "; full scale {:.1} P0+P1 breach min, {} cascades, {:.0} node-h, {:.2} actions/app-h",
                    f.p0_p1_breach_minutes, f.cascade_events, f.node_hours, f.scaling_actions_per_app_hour
                ))
                .unwrap_or_default(),
            if r.selected { ", kept" } else { "" },
            r.wall_secs
        );
        super::progress_line(self.bar.as_ref(), line);
    }
}

fn write_curves(path: &Path, rows: &[CurveRow]) -> Result<()> {
    let mut text = String::from(CurveRow::HEADER);
    text.push('\n');
    for r in rows {
        text.push_str(&r.csv());
        text.push('\n');
    }
    scenario::write_atomic(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

pub fn train_command(args: TrainArgs) -> Result<()> {
    // Read before training writes anything: checkpoints and curves may be tracked files (`models/`), and the tree
    // that trained the networks is the one as it was at the start.
    let source_tree = super::source_tree();
    let paths = suite_paths(&args.scenarios);
    let scenarios = load_all(&paths)?;
    // The trainer refuses these too; here the refusal can name the file.
    for (path, s) in paths.iter().zip(&scenarios) {
        crate::agents::hirl::features::check_scenario(s)
            .map_err(|e| anyhow::anyhow!("{}: cannot train on it: {e}", path.display()))?;
    }
    // Before the training, not after it: an output that cannot be written (a directory, a .json, a read-only file)
    // is refused while nothing has been spent on it.
    let curves = train::curves_path(&args.out);
    let mut inputs: Vec<super::outputs::Input> =
        paths.iter().map(|p| super::outputs::Input::new("a training scenario", p)).collect();
    inputs.extend(super::outputs::forecaster_pair());
    super::outputs::check_model_out(&args.out, &[("--out's curves", &curves)], &inputs)?;
    let mut cfg = TrainConfig {
        seed: args.seed,
        scale: args.scale,
        episodes_per_iteration: args.episodes,
        validation_episodes: args.validation_episodes,
        reward: RewardWeights { cost: args.cost_weight, ..RewardWeights::default() },
        full_scale_validation_seeds: args.full_scale_validation_seeds,
        selection_cost_tolerance: Some(args.selection_cost_tolerance),
        soldier_noise_hold_secs: args.soldier_noise_hold_secs,
        node_unneeded_secs: args.node_unneeded_secs,
        ..TrainConfig::default()
    };
    for s in &mut cfg.stages {
        s.iterations = args.iterations;
    }
    let forecaster = super::forecaster::load_for_run(&super::forecaster::default_model_path());
    let checkpoint = args.out.with_extension("checkpoint.safetensors");
    let curves = train::curves_path(&args.out);
    let mut command = format!(
        "hirl-scale train hirl --seed {} --scale {} --iterations {} --episodes {} --validation-episodes {} \
         --cost-weight {} --full-scale-validation-seeds {} --selection-cost-tolerance {}",
        args.seed,
        args.scale,
        args.iterations,
        args.episodes,
        args.validation_episodes,
        args.cost_weight,
        args.full_scale_validation_seeds,
        args.selection_cost_tolerance
    );
    // Named only when set, so the default command reads as it did before the option existed.
    if args.soldier_noise_hold_secs > 0 {
        command.push_str(&format!(" --soldier-noise-hold-secs {}", args.soldier_noise_hold_secs));
    }
    if let Some(secs) = args.node_unneeded_secs {
        command.push_str(&format!(" --node-unneeded-secs {secs}"));
    }
    let mut bars = Bars { bar: None };
    let mut on_iteration =
        |t: &Trainer| save_checkpoint(t, &checkpoint, &command).map_err(|e| train::TrainError::Other(format!("{e:#}")));
    let (best, trainer) = if args.resume {
        let (current, best, state) = load_checkpoint(&checkpoint)?;
        train::resume(cfg, &scenarios, forecaster, &current, best, state, &mut bars, &mut on_iteration)
            .with_context(|| format!("--resume from {}", checkpoint.display()))?
    } else {
        train::train(cfg, &scenarios, forecaster, &mut bars, &mut on_iteration)?
    };
    if let Some(b) = bars.bar.take() {
        b.finish_and_clear();
    }
    write_curves(&curves, &trainer.curves)?;
    let mut nets = best;
    nets.meta.training.command = command;
    // Training time in all, before a resume included.
    nets.meta.training.wall_secs = trainer.wall_secs();
    nets.meta.training.source_tree = source_tree;
    nets.meta.training.curves_csv = curves.display().to_string();
    nets.meta.training.stages = stage_summaries(&trainer.curves);
    // Networks that decide exactly as the ones already at `--out` keep those ones' evaluation and frontier; any
    // others start unevaluated.
    if let Ok(before) = HirlNets::load(&args.out)
        && nets.inherit_evaluation(before)
    {
        outln!(
            "the networks are the ones {} already held (same digest): its evaluation and frontier still apply and \
             are kept",
            args.out.display()
        );
    }
    nets.save(&args.out)?;
    let kept = trainer.curves.iter().rev().find(|r| r.selected);
    if let (Some(hpa), Some(f)) = (trainer.full_scale_hpa(), kept.and_then(|r| r.full_scale.as_ref())) {
        outln!(
            "full-scale validation ({} runs): kept networks P0+P1 breach {:.1} min, cascades {}, {:.0} node-hours, \
             {:.2} actions/app-h; HPA {:.1} min, {}, {:.0}, {:.2}",
            hpa.runs,
            f.p0_p1_breach_minutes,
            f.cascade_events,
            f.node_hours,
            f.scaling_actions_per_app_hour,
            hpa.p0_p1_breach_minutes,
            hpa.cascade_events,
            hpa.node_hours,
            hpa.scaling_actions_per_app_hour
        );
    }
    outln!(
        "wrote {} (+ .json, curves {}) after {:.0} s of training; evaluate with `hirl-scale eval`",
        args.out.display(),
        curves.display(),
        trainer.wall_secs()
    );
    Ok(())
}

fn stage_summaries(rows: &[CurveRow]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|r| {
            serde_json::json!({
                "stage": r.stage, "iteration": r.iteration, "validation_score": r.validation_score,
                "breach_rate": r.breach_rate, "wall_secs": r.wall_secs,
                "validation_node_hours": r.validation_node_hours, "selected": r.selected,
                "full_scale": r.full_scale,
            })
        })
        .collect()
}

/// Beside a checkpoint `X.checkpoint.safetensors` (the current weights): `X.checkpoint.best.safetensors`, the
/// networks selection keeps so far, and `X.checkpoint.state.json`, the rest of the trainer's state.
fn checkpoint_files(path: &Path) -> (PathBuf, PathBuf) {
    (path.with_extension("best.safetensors"), path.with_extension("state.json"))
}

/// Writes the best networks, the current ones and then the state (each atomically); the state names how many
/// iterations are done, and resuming checks the weights beside it agree.
fn save_checkpoint(t: &Trainer, path: &Path, command: &str) -> Result<()> {
    let (best_path, state_path) = checkpoint_files(path);
    let Some((state, best)) = t.resume_state() else { return Ok(()) };
    let mut best = best.clone();
    best.meta.training.command = command.to_string();
    best.save(&best_path)?;
    let mut nets = t.nets(serde_json::Value::Null)?;
    nets.meta.training.command = command.to_string();
    // Every curve row after behaviour cloning is one completed iteration.
    nets.meta.training.stages = stage_summaries(&t.curves[1.min(t.curves.len())..]);
    nets.save(path)?;
    write_curves(&train::curves_path(path), &t.curves)?;
    let json = serde_json::to_vec(&state).context("cannot encode the training state")?;
    scenario::write_atomic(&state_path, &json).with_context(|| format!("cannot write {}", state_path.display()))
}

/// The largest training state `--resume` reads, bytes: the state holds the training scenarios and one curve row per
/// iteration (the shipped training's is under 1 MiB); a larger file is not one, and is not read into memory whole.
const MAX_STATE_BYTES: u64 = 256 << 20;

/// A checkpoint's current weights, kept networks and training state, checked to belong together.
fn load_checkpoint(path: &Path) -> Result<(HirlNets, HirlNets, ResumeState)> {
    let (best_path, state_path) = checkpoint_files(path);
    // The model loader's messages begin with the file ("…checkpoint.safetensors: no such file"): named again here,
    // it was said twice.
    let current = HirlNets::load(path).context("--resume")?;
    let best = HirlNets::load(&best_path).context("--resume")?;
    let text = crate::text_file::read_bytes(&state_path, MAX_STATE_BYTES)
        .with_context(|| format!("--resume: cannot read {}", state_path.display()))?;
    let state = ResumeState::from_json(&text)
        .map_err(|e| anyhow::anyhow!("--resume: {}: not a usable training state: {e}", state_path.display()))?;
    let done = current.meta.training.stages.len();
    if done != state.iterations_done() {
        anyhow::bail!(
            "--resume: {} holds {done} completed iterations but {} holds {}: training stopped while writing them; \
             start again without --resume",
            path.display(),
            state_path.display(),
            state.iterations_done()
        );
    }
    Ok((current, best, state))
}

pub(super) fn change(new: f64, old: f64) -> f64 {
    if old == 0.0 { if new == 0.0 { 0.0 } else { f64::INFINITY } } else { (new - old) / old }
}

fn pct(x: f64) -> String {
    if x.is_infinite() { "+∞ (from 0)".to_string() } else { format!("{:+.0}%", x * 100.0) }
}

/// The targets for `hirl` against `hpa` and `heuristic`.
pub fn targets(all: &[SuiteTotals]) -> Vec<Target> {
    let find = |n: &str| all.iter().find(|t| t.policy == n);
    let (Some(h), Some(hpa)) = (find("hirl"), find("hpa")) else { return Vec::new() };
    let mut out = Vec::new();
    // Both at zero meets a reduction: nothing is left to take off (it read "+0% MISSED").
    let add = |out: &mut Vec<Target>, target: &str, new: f64, old: f64, limit: f64| {
        let (measured, met) = if new == 0.0 && old == 0.0 {
            ("0 (both 0)".to_string(), true)
        } else {
            let value = change(new, old);
            (pct(value), value <= limit)
        };
        out.push(Target { target: target.to_string(), measured, met });
    };
    add(&mut out, "P0+P1 SLO-breach minutes vs HPA ≤ −75%", h.p0_p1_breach_minutes, hpa.p0_p1_breach_minutes, -0.75);
    add(&mut out, "cascade events vs HPA ≤ −90%", f64::from(h.cascade_events), f64::from(hpa.cascade_events), -0.90);
    add(&mut out, "provisioner churn vs HPA ≤ −60%", f64::from(h.node_churn), f64::from(hpa.node_churn), -0.60);
    add(&mut out, "cost (node-hours) vs HPA no higher", h.node_hours, hpa.node_hours, 0.0);
    add(
        &mut out,
        "scaling actions per app-hour vs HPA no higher",
        h.scaling_actions_per_app_hour,
        hpa.scaling_actions_per_app_hour,
        0.0,
    );
    out.push(Target {
        target: "P0 priority-inversion minutes = 0".into(),
        measured: format!("{:.1} min", h.p0_priority_inversion_minutes),
        met: h.p0_priority_inversion_minutes == 0.0,
    });
    if let Some(heu) = find("heuristic") {
        add(&mut out, "SLO-breach minutes vs heuristic ≤ −30%", h.breach_minutes, heu.breach_minutes, -0.30);
        add(&mut out, "… at no higher cost than the heuristic", h.node_hours, heu.node_hours, 0.0);
    }
    out
}

#[derive(Serialize)]
struct EvalJson<'a> {
    format: &'static str,
    seeds: &'a [u64],
    scenarios: Vec<String>,
    totals: &'a [SuiteTotals],
    targets: &'a [Target],
    /// Limits lifted in every scenario (absent for the shipped suite as written).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    what_if: Vec<String>,
    /// The warm reserve held (`--warm-reserve`), as shares of the CPU requested in each pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    warm_reserve: Option<String>,
    /// The policies that held it (`--warm-reserve-for`); absent when every policy did.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warm_reserve_for: &'a [String],
    /// HiRL's size floor (`--size-floor`); absent for the shipped one.
    #[serde(skip_serializing_if = "Option::is_none")]
    size_floor: Option<String>,
    /// HiRL runs: each domain's time on the safety layer's HPA fallback.
    #[serde(skip_serializing_if = "<[FallbackRun]>::is_empty")]
    fallback: &'a [FallbackRun],
    /// Each seed's totals over the suite, per policy (they add up to `totals`).
    per_seed: &'a [SeedTotals],
    /// Per policy, its cascades over the suite by the link that carried each (they add up to its cascade events).
    cascades_by_link: Vec<PolicyRow<'a, CascadeCounts>>,
    /// Per policy, the same cascades by how long each breach lasted.
    cascades_by_length: Vec<PolicyRow<'a, CascadeLengths>>,
    scorecards: &'a [Scorecard],
}

/// One policy's row of a per-policy table in the JSON: `{"policy": …, …the row's own fields}`.
#[derive(Serialize)]
struct PolicyRow<'a, T: Serialize> {
    policy: &'a str,
    #[serde(flatten)]
    row: T,
}

/// `rows[i]` filed under `policies[i]`.
fn policy_rows<'a, T: Serialize + Copy>(policies: &'a [String], rows: &[T]) -> Vec<PolicyRow<'a, T>> {
    policies.iter().zip(rows).map(|(policy, &row)| PolicyRow { policy, row }).collect()
}

/// One HiRL run's time on the HPA fallback, per domain (in scenario order).
#[derive(Clone, Debug, Serialize)]
pub struct FallbackRun {
    pub scenario: String,
    pub seed: u64,
    pub policy: String,
    pub domains: Vec<DomainFallback>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DomainFallback {
    pub domain: String,
    /// P0 = 0.
    pub priority_rank: u8,
    pub minutes: f64,
    pub handovers: u32,
}

impl FallbackRun {
    fn new(s: &Scenario, seed: u64, policy: &str, times: &[FallbackTime]) -> Self {
        let domains = s
            .domains
            .iter()
            .zip(times)
            .map(|(d, t)| DomainFallback {
                domain: d.id.clone(),
                priority_rank: d.priority.rank(),
                minutes: t.secs as f64 / 60.0,
                handovers: t.handovers,
            })
            .collect();
        Self { scenario: s.name.clone(), seed, policy: policy.to_string(), domains }
    }

    /// Domain-minutes on the fallback of the domains of priority rank up to `max_rank`.
    fn minutes_up_to(&self, max_rank: u8) -> f64 {
        // From +0.0: an empty float sum is −0.0, printed "-0.0" for a suite without a P0 or P1 domain.
        self.domains.iter().filter(|d| d.priority_rank <= max_rank).fold(0.0, |sum, d| sum + d.minutes)
    }
}

/// Per policy with a safety layer: domain-minutes on the HPA fallback, P0+P1 per scenario and in total (the
/// networks make no Soldier decisions for a domain then). Empty when no run had a safety layer.
pub fn fallback_table(scenarios: &[Scenario], policies: &[String], runs: &[FallbackRun]) -> String {
    let mut s = String::new();
    for p in policies {
        let mine: Vec<&FallbackRun> = runs.iter().filter(|r| &r.policy == p).collect();
        if mine.is_empty() {
            continue;
        }
        let sum = |rank: u8, scenario: Option<&str>| -> f64 {
            mine.iter().filter(|r| scenario.is_none_or(|n| r.scenario == n)).map(|r| r.minutes_up_to(rank)).sum()
        };
        let per: Vec<String> =
            scenarios.iter().map(|sc| format!("{} {:.1}", sc.name, sum(1, Some(&sc.name)))).collect();
        let _ = writeln!(
            s,
            "{p} on the HPA fallback (domain-minutes, no Soldier decisions): P0+P1 {:.1}, all {:.1}; P0+P1 by scenario: {}",
            sum(1, None),
            sum(u8::MAX, None),
            per.join(", ")
        );
    }
    s
}

pub fn eval_command(args: EvalArgs) -> Result<()> {
    super::check_policy_names(&args.policies, "its runs would count twice in its totals")?;
    super::outputs::check(&[("--json", args.json.as_deref())], &args.suite.inputs())?;
    // The agents to record into load before the minutes of evaluation, not after (they would otherwise run as HPA
    // throughout and the recording then fail), and the runs use these very networks.
    let record_into = if args.record_in_model {
        Some(RecordTarget::load(&args.suite.agents_path(), "the evaluation")?)
    } else {
        None
    };
    let mut scenarios = args.suite.load()?;
    for s in &mut scenarios {
        for w in &args.what_if {
            w.apply(s);
        }
    }
    if !args.what_if.is_empty() {
        let lifted: Vec<&str> = args.what_if.iter().map(|w| w.name()).collect();
        outln!(
            "what-if: {} lifted in every scenario; the targets below compare policies under the same lifted limits, \
             not on the shipped scenarios",
            lifted.join(" and ")
        );
    }
    let base = super::assets_with(&args.policies, || match &record_into {
        Some(target) => Ok(target.agents()),
        None => super::agents_at(args.suite.agents.as_deref()),
    });
    let assets = super::with_warm_reserve(
        base,
        args.warm_reserve.clone(),
        args.warm_reserve_for.clone(),
        &args.policies,
        &scenarios,
    )?;
    let assets = super::with_size_floor(assets, args.size_floor.clone(), &args.policies, &scenarios)?;
    super::warn_unsupported(&args.policies, &scenarios);
    // The targets judge the agents: with none loaded, `hirl`'s rows would be HPA's under HiRL's name (exit 0).
    if let Some(why) = scenarios.iter().find_map(|s| crate::runner::missing_agents(&args.policies, s, &assets)) {
        anyhow::bail!("--policies: the evaluation {why}; its hirl rows would be HPA's under HiRL's name");
    }
    if assets.warm_reserve.is_some() {
        if assets.warm_reserve_for.is_empty() {
            outln!("  the targets below compare policies under the same reserve, not against the stock HPA");
        } else {
            outln!("  the targets below compare the policies that hold it against the others as shipped");
        }
    }
    // Every run is independent: spread over the cores, gathered in scenario, seed, policy order.
    let mut jobs: Vec<(&Scenario, u64, &String)> = Vec::new();
    for s in &scenarios {
        for &seed in &args.suite.seeds {
            jobs.extend(args.policies.iter().map(|p| (s, seed, p)));
        }
    }
    let runs = crate::parallel::map_in_order(&jobs, crate::parallel::suite_threads(), |&(s, seed, p)| {
        super::run_policy(s, p, seed, &assets, false)
    });
    let mut cards = Vec::new();
    let mut fallback = Vec::new();
    let mut cascades_by_link = vec![CascadeCounts::default(); args.policies.len()];
    let mut cascades_by_length = vec![CascadeLengths::default(); args.policies.len()];
    for (&(s, seed, p), run) in jobs.iter().zip(runs) {
        let run = run?;
        if let Some(times) = &run.fallback {
            fallback.push(FallbackRun::new(s, seed, p, times));
        }
        if let Some(k) = args.policies.iter().position(|q| q == p) {
            for c in &run.cascades {
                cascades_by_link[k].add(c.link());
                cascades_by_length[k].add(c);
            }
        }
        cards.push(run.scorecard);
    }
    let names: Vec<String> = args.policies.clone();
    let all: Vec<SuiteTotals> = names
        .iter()
        .zip(args.policies.iter().map(|p| cards.iter().filter(|c| names_run_of(&c.policy, p)).collect::<Vec<_>>()))
        .map(|(n, cs)| SuiteTotals::of(n, &cs))
        .collect();
    let tg = targets(&all);
    let per_seed = per_seed_totals(&args.suite.seeds, &args.policies, &cards);
    out!("{}", eval_table(&scenarios, &args.policies, &cards, &all, &tg));
    out!("{}", by_domain_table(&args.policies, &cards));
    out!("{}", super::report::breach_cause_table(&all));
    out!("{}", super::report::cascade_link_table(&args.policies, &cascades_by_link));
    out!("{}", super::report::cascade_length_table(&args.policies, &cascades_by_length));
    out!("{}", per_seed_table(&per_seed));
    out!("{}", fallback_table(&scenarios, &args.policies, &fallback));
    if let Some(path) = &args.json {
        let json = EvalJson {
            format: "hirl-scale-eval/1",
            seeds: &args.suite.seeds,
            scenarios: scenarios.iter().map(|s| s.name.clone()).collect(),
            totals: &all,
            targets: &tg,
            what_if: args.what_if.iter().map(|w| w.name().to_string()).collect(),
            warm_reserve: args.warm_reserve.as_ref().map(|w| w.to_string()),
            warm_reserve_for: &args.warm_reserve_for,
            size_floor: args.size_floor.size_floor.as_ref().map(ToString::to_string),
            fallback: &fallback,
            per_seed: &per_seed,
            cascades_by_link: policy_rows(&args.policies, &cascades_by_link),
            cascades_by_length: policy_rows(&args.policies, &cascades_by_length),
            scorecards: &cards,
        };
        super::write_json(path, &json)?;
    }
    if let Some(target) = record_into {
        let eval = serde_json::json!({
            "command": format!("hirl-scale eval --seeds {} --record-in-model", args.suite.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(",")),
            "seeds": args.suite.seeds,
            "scenarios": scenarios.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            "totals": all,
            "targets": tg,
            "cascades_by_link": policy_rows(&args.policies, &cascades_by_link),
            "cascades_by_length": policy_rows(&args.policies, &cascades_by_length),
        });
        target.record(|meta| meta.eval = Some(eval))?;
    }
    Ok(())
}

/// The agents' file an evaluation is recorded in (`eval --record-in-model`, `eval frontier --record-in-model`): loaded
/// once, before the runs, which use these very networks; the figures are recorded only if neither file of the pair
/// changed in the meantime (checked on their bytes, metadata included), since they would then describe other agents
/// than the file's.
pub(super) struct RecordTarget {
    path: PathBuf,
    nets: std::sync::Arc<HirlNets>,
    pair_digest: String,
    what: &'static str,
}

impl RecordTarget {
    /// `what` names what will be recorded ("the evaluation"), for the messages.
    pub(super) fn load(path: &Path, what: &'static str) -> Result<RecordTarget> {
        super::stdout::will_write_files();
        let (nets, pair_digest) = HirlNets::load_with_bytes_digest(path)
            .with_context(|| format!("--record-in-model: the agents to record {what} in"))?;
        Ok(RecordTarget { path: path.to_path_buf(), nets: std::sync::Arc::new(nets), pair_digest, what })
    }

    /// The networks to run.
    pub(super) fn agents(&self) -> std::sync::Arc<HirlNets> {
        self.nets.clone()
    }

    /// Refuses a pair that is no longer the bytes loaded.
    fn unchanged(&self) -> Result<()> {
        let now = crate::agents::model_file::pair_bytes_digest(&self.path)
            .context("--record-in-model: the agents to record in")?;
        if now != self.pair_digest {
            anyhow::bail!(
                "--record-in-model: {} or its metadata changed while it was evaluated: the figures measured the \
                 agents as they were, so nothing was recorded",
                self.path.display()
            );
        }
        Ok(())
    }

    /// Sets the figures in the metadata with `set` and saves the pair, if it is still as it was loaded.
    pub(super) fn record(self, set: impl FnOnce(&mut crate::agents::hirl::nets::AgentsMetadata)) -> Result<()> {
        self.unchanged()?;
        let mut nets = std::sync::Arc::unwrap_or_clone(self.nets);
        set(&mut nets.meta);
        nets.save(&self.path)?;
        outln!("recorded {} in {}", self.what, crate::agents::model_file::metadata_path(&self.path).display());
        Ok(())
    }
}

/// One seed's totals over the suite's scenarios, per policy in the order asked.
#[derive(Clone, Debug, Serialize)]
pub struct SeedTotals {
    pub seed: u64,
    pub totals: Vec<SuiteTotals>,
}

/// Splits the suite's totals by seed: a total over two seeds is a sum of two draws, and how far apart they land says
/// how firm a difference between two totals is.
pub fn per_seed_totals(seeds: &[u64], policies: &[String], cards: &[Scorecard]) -> Vec<SeedTotals> {
    seeds
        .iter()
        .map(|&seed| SeedTotals {
            seed,
            totals: policies
                .iter()
                .map(|p| {
                    let cs: Vec<&Scorecard> =
                        cards.iter().filter(|c| c.seed == seed && names_run_of(&c.policy, p)).collect();
                    SuiteTotals::of(p, &cs)
                })
                .collect(),
        })
        .collect()
}

/// Where each policy's breach minutes sit: per domain (in the order the scenarios list them, every domain any
/// scenario has), its breach minutes and cascades summed over the suite. A P1 domain that calls a P0 one inline
/// breaches with it, so this is where "which domain is short" shows, not in the totals.
pub fn by_domain_table(policies: &[String], cards: &[Scorecard]) -> String {
    let mut domains: Vec<&str> = Vec::new();
    for d in cards.iter().flat_map(|c| &c.domains) {
        if !domains.contains(&d.domain.as_str()) {
            domains.push(&d.domain);
        }
    }
    let mut s = String::new();
    if domains.is_empty() {
        return s;
    }
    let _ = writeln!(s, "breach minutes by domain (cascades), over the suite:");
    let mut header = format!("  {:<12}", "policy");
    for d in &domains {
        let _ = write!(header, " {d:>16}");
    }
    let _ = writeln!(s, "{}", header.trim_end());
    for p in policies {
        let mut line = format!("  {p:<12}");
        for d in &domains {
            let of_domain = cards.iter().filter(|c| names_run_of(&c.policy, p)).flat_map(|c| &c.domains);
            let (minutes, cascades) = of_domain
                .filter(|x| x.domain == *d)
                .fold((0.0, 0u32), |(m, k), x| (m + x.slo_breach_minutes, k + x.cascade_events));
            let _ = write!(line, " {:>16}", format!("{minutes:.1} ({cascades})"));
        }
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s
}

/// The per-seed lines of `eval` (none for a single seed, whose line would repeat the totals): P0+P1 breach minutes,
/// cascades and node-hours of every policy, with the change against HPA's on the same seed when HPA ran.
pub fn per_seed_table(per_seed: &[SeedTotals]) -> String {
    let mut s = String::new();
    if per_seed.len() < 2 {
        return s;
    }
    let _ = writeln!(s, "per seed (each over every scenario; the spread says how firm a difference in the totals is):");
    let _ = writeln!(
        s,
        "  {:<8} {:<12} {:>9} {:>8} {:>8} {:>10} {:>8}",
        "seed", "policy", "P0+P1 bm", "vs hpa", "cascade", "node-h", "vs hpa"
    );
    let vs = |new: f64, old: Option<f64>| match old {
        Some(old) if old != 0.0 => format!("{:+.1}%", change(new, old) * 100.0),
        _ => String::new(),
    };
    for seed in per_seed {
        let hpa = seed.totals.iter().find(|t| t.policy == "hpa");
        for t in &seed.totals {
            let base = hpa.filter(|_| t.policy != "hpa");
            let line = format!(
                "  {:<8} {:<12} {:>9.1} {:>8} {:>8} {:>10.0} {:>8}",
                seed.seed,
                t.policy,
                t.p0_p1_breach_minutes,
                vs(t.p0_p1_breach_minutes, base.map(|h| h.p0_p1_breach_minutes)),
                t.cascade_events,
                t.node_hours,
                vs(t.node_hours, base.map(|h| h.node_hours)),
            );
            let _ = writeln!(s, "{}", line.trim_end());
        }
    }
    s
}

pub fn eval_table(
    scenarios: &[Scenario],
    policies: &[String],
    cards: &[Scorecard],
    all: &[SuiteTotals],
    targets: &[Target],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<22} {:<10} {:>9} {:>9} {:>8} {:>7} {:>8} {:>9} {:>10}",
        "scenario", "policy", "P0+P1 bm", "all bm", "cascade", "churn", "P0 inv", "act/apph", "node-h"
    );
    for sc in scenarios {
        for p in policies {
            let cs: Vec<&Scorecard> =
                cards.iter().filter(|c| c.scenario == sc.name && names_run_of(&c.policy, p)).collect();
            let t = SuiteTotals::of(p, &cs);
            let _ = writeln!(
                s,
                "{:<22} {:<10} {:>9.1} {:>9.1} {:>8} {:>7} {:>8.1} {:>9.2} {:>10.0}",
                sc.name,
                p,
                t.p0_p1_breach_minutes,
                t.breach_minutes,
                t.cascade_events,
                t.node_churn,
                t.p0_priority_inversion_minutes,
                t.scaling_actions_per_app_hour,
                t.node_hours
            );
        }
    }
    let _ = writeln!(s, "suite totals ({} runs per policy):", all.first().map_or(0, |t| t.runs));
    for t in all {
        let _ = writeln!(
            s,
            "  {:<10} P0+P1 breach {:>7.1} min, all {:>7.1} min, cascades {:>3}, churn {:>4}, P0 inversion {:>6.1} min, act/app-h {:.2}, node-hours {:.0}",
            t.policy,
            t.p0_p1_breach_minutes,
            t.breach_minutes,
            t.cascade_events,
            t.node_churn,
            t.p0_priority_inversion_minutes,
            t.scaling_actions_per_app_hour,
            t.node_hours
        );
    }
    if !targets.is_empty() {
        let _ = writeln!(s, "targets (hirl):");
        for t in targets {
            let _ = writeln!(s, "  {:<48} {:>14}  {}", t.target, t.measured, if t.met { "met" } else { "MISSED" });
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_refuses_agents_whose_weights_or_metadata_changed_since_they_were_loaded() {
        let dir = crate::test_dirs::temp_dir("record-target");
        let path = dir.join("hirl.safetensors");
        let nets = HirlNets::load(&super::super::shipped_file(DEFAULT_AGENTS_PATH)).expect("shipped agents");
        nets.save(&path).expect("saves");
        let stamp = serde_json::json!({ "stamp": 1 });
        let target = RecordTarget::load(&path, "the evaluation").expect("loads");
        assert_eq!(target.agents().digest(), nets.digest(), "the runs use the networks loaded");
        target.record(|meta| meta.eval = Some(stamp.clone())).expect("records");
        assert_eq!(HirlNets::load(&path).expect("loads").meta.eval, Some(stamp.clone()));
        // Another run replaced the networks meanwhile, or only the metadata (its training command, say): the
        // figures measured what was loaded, not what is there now.
        let replace_networks = |n: &mut HirlNets| n.soldier.log_std[0] += 0.5;
        let replace_metadata = |n: &mut HirlNets| n.meta.training.command.push_str(" --changed");
        for change in [&replace_networks as &dyn Fn(&mut HirlNets), &replace_metadata] {
            nets.save(&path).expect("saves");
            let target = RecordTarget::load(&path, "the evaluation").expect("loads");
            let mut other = nets.clone();
            change(&mut other);
            other.save(&path).expect("saves");
            let err = format!("{:#}", target.record(|meta| meta.eval = None).expect_err("changed"));
            assert!(err.contains("changed while it was evaluated") && err.contains("nothing was recorded"), "{err}");
            let on_disk = HirlNets::load(&path).expect("loads");
            assert_eq!(on_disk, other, "the file is left as the other run wrote it");
        }
    }

    #[test]
    fn a_reduction_target_is_met_when_both_policies_are_at_zero() {
        let totals = |policy: &str, churn: u32, cascades: u32| SuiteTotals {
            policy: policy.into(),
            node_churn: churn,
            cascade_events: cascades,
            ..SuiteTotals::default()
        };
        let t = targets(&[totals("hirl", 0, 1), totals("hpa", 0, 1)]);
        let churn = t.iter().find(|t| t.target.starts_with("provisioner churn")).expect("churn");
        assert!(churn.met && churn.measured == "0 (both 0)", "{churn:?}");
        let cascades = t.iter().find(|t| t.target.starts_with("cascade events")).expect("cascades");
        assert!(!cascades.met && cascades.measured == "+0%", "equal and above zero is no reduction: {cascades:?}");
    }

    #[test]
    fn first_repeat_finds_the_first_item_given_again() {
        assert_eq!(first_repeat(&[1001u64, 1002, 1001, 1002]), Some(1001));
        assert_eq!(first_repeat(&["hpa", "hirl", "hirl"]), Some("hirl"));
        assert_eq!(first_repeat::<u64>(&[]), None);
        assert_eq!(first_repeat(&[1u64, 2, 3]), None);
    }

    #[test]
    fn the_domain_lines_sum_each_policy_s_runs_per_domain_in_the_scenario_s_order() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        let s = crate::scenario::load_file(&path).expect("small.ron loads");
        let mut sim = crate::sim::Simulation::new(&s, 1);
        sim.step();
        let card = |policy: &str, payment_minutes: f64, fraud_cascades: u32| {
            let mut c = sim.scorecard(policy);
            c.domains[0].slo_breach_minutes = payment_minutes;
            c.domains[1].cascade_events = fraud_cascades;
            c
        };
        // Two runs of hirl (one under its HPA fallback's name), one of hpa.
        let cards = vec![card("hpa", 10.0, 1), card("hirl", 2.5, 0), card("hirl (hpa fallback)", 1.0, 2)];
        let table = by_domain_table(&["hpa".into(), "hirl".into()], &cards);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "breach minutes by domain (cascades), over the suite:");
        let header: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(header, ["policy", "payment", "fraud", "merchant", "data", "internal"]);
        let row = |i: usize| lines[i].split_whitespace().map(str::to_string).collect::<Vec<_>>().join(" ");
        assert!(row(2).starts_with("hpa 10.0 (0) 0.0 (1) 0.0 (0)"), "{table}");
        assert!(row(3).starts_with("hirl 3.5 (0) 0.0 (2)"), "{table}");
        assert_eq!(by_domain_table(&["hpa".into()], &[]), "", "no runs, no table");
    }

    #[test]
    fn a_reward_weight_is_a_finite_number_not_below_zero() {
        assert_eq!(parse_weight("0.08"), Ok(0.08));
        assert_eq!(parse_weight("0"), Ok(0.0));
        for bad in ["-0.1", "inf", "NaN", "heavy", ""] {
            assert!(parse_weight(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn a_cost_margin_may_be_negative_but_not_minus_one_or_below() {
        assert_eq!(parse_tolerance("-0.01"), Ok(-0.01));
        assert_eq!(parse_tolerance("0.02"), Ok(0.02));
        for bad in ["-1", "-2", "inf", "NaN", "cheap"] {
            assert!(parse_tolerance(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn the_per_seed_lines_compare_with_hpa_on_the_same_seed_and_never_divide_by_its_zero() {
        let totals = |policy: &str, p0_p1: f64, node_hours: f64| SuiteTotals {
            policy: policy.to_string(),
            p0_p1_breach_minutes: p0_p1,
            node_hours,
            runs: 5,
            ..SuiteTotals::default()
        };
        let seeds = [
            SeedTotals { seed: 7, totals: vec![totals("hpa", 200.0, 1000.0), totals("hirl", 50.0, 990.0)] },
            SeedTotals { seed: 8, totals: vec![totals("hpa", 0.0, 1000.0), totals("hirl", 0.0, 1010.0)] },
        ];
        let text = per_seed_table(&seeds);
        let rows: Vec<&str> = text.lines().skip(2).collect();
        assert_eq!(rows.len(), 4, "{text}");
        assert!(rows[1].contains("-75.0%") && rows[1].ends_with("-1.0%"), "{}", rows[1]);
        assert!(!rows[0].contains('%'), "HPA against itself: {}", rows[0]);
        // No breach under HPA: no percentage of nothing, but node-hours still compare.
        assert!(
            !rows[3].contains("-75") && rows[3].ends_with("+1.0%") && rows[3].matches('%').count() == 1,
            "{}",
            rows[3]
        );
        assert!(per_seed_table(&seeds[..1]).is_empty(), "one seed repeats the totals");
    }
}
