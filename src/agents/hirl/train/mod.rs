//! Training the Commander and the Soldiers (DESIGN §6): behaviour cloning of the teacher rule, then PPO at both
//! levels through a staged curriculum, on the shipped scenarios at a reduced app count (same observation shapes).
//!
//! - **Episodes** are the training scenarios scaled to `scale` × their apps, each with its events jittered (start
//!   ±10 min, multiplier ×0.8–1.25) and its own run seed, all drawn from the training seed; at most
//!   `episode_secs` long. Episodes of one iteration run on two threads; results are combined in episode order, so
//!   the outcome does not depend on scheduling.
//! - **Rewards** are computed from ground truth after each tick and summed over each decision's period. Every term
//!   is logged separately ([`RewardTerms`]).
//! - **PPO**: clipped surrogate, GAE (λ = 0.95; γ = 0.995 for the Commander, 0.99 for the Soldiers), an entropy
//!   bonus and a KL penalty to the pre-update policy, with the Commander's coefficient 3× the Soldiers'; a KL
//!   target (Commander 3× tighter) stops an update moving the actor, the critic trains on. Inputs are standardised
//!   and clipped at ±[`super::nets::OBS_CLIP_SIGMAS`], as the shipped networks will see them.
//! - **Selection**: after every iteration both levels are scored on fixed validation episodes (their own seed
//!   stream, never the evaluation seeds of `hirl-scale eval`) and, by default, at full scale next to HPA
//!   ([`super::selection`]); the best are kept, not the last: the fewest P0+P1 breach minutes at full scale among
//!   networks within HPA's node-hours (± `selection_cost_tolerance`), scaling actions and zero P0 inversion there.
//!   With `full_scale_validation_seeds = 0` the best small-scale score among networks no costlier on those
//!   episodes than the behaviour-cloned ones is kept instead.
//!
//! Determinism: weights are initialised and actions sampled from [`SimRng`] streams of the training seed; candle runs
//! one thread. Same config ⇒ same weights.
//!
//! Here: episodes, rewards, the PPO iteration and selection. Beside it: `config.rs` (settings and stages), `level.rs`
//! (a level's trainable networks), `ppo.rs` (the loss arithmetic and GAE) and `curves.rs` (the CSV rows).

use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use serde::{Deserialize, Serialize};

use super::brain::Brain;
use super::features::{COMMANDER_ACT, COMMANDER_OBS, SOLDIER_ACT, SOLDIER_OBS, commander_names, soldier_names};
use super::nets::{AgentsMetadata, AgentsTraining, HirlNets, SCHEMA};
use super::policy::{Exploration, HirlConfig, HirlPolicy, Level, Transition};
use super::reward::{self, RewardTerms, RewardWeights, TickTruth, TruthRecorder, tick_commander_terms};
use super::selection::FullScaleSuite;
use crate::agents::forecast::ForecasterModel;
use crate::policy::Autoscaler;
use crate::scenario::{EventSpec, Scenario, scale_scenario};
use crate::sim::rng::SimRng;
use crate::sim::{Actions, Simulation, SuiteTotals, TICK_SECS};

mod config;
mod curves;
mod level;
mod ppo;

use config::config_difference;
pub use config::{Stage, TrainConfig};
pub use curves::{CurveRow, curves_path};
use level::TrainLevel;
use ppo::{PpoUpdate, gae, gaussian_kl, log_prob, standardisation};

/// RNG streams of the training seed.
mod stream {
    pub const INIT: u64 = 101;
    pub const EPISODES: u64 = 102;
    pub const VALIDATION: u64 = 103;
    pub const SHUFFLE: u64 = 104;
    pub const FULL_SCALE: u64 = 105;
}

/// One finished episode.
struct Episode {
    transitions: Vec<Transition>,
    truth: Vec<TickTruth>,
    /// Per Commander decision: shares (for thrash and floors); per Soldier decision: budget.
    shares_at: Vec<(u64, Vec<f64>)>,
    budgets_at: Vec<(u64, Vec<f64>)>,
    /// Validation score (higher is better): mean weighted reward per minute.
    score: f64,
    /// Fraction of ticks with a P0/P1 domain degraded.
    breach_rate: f64,
    node_hours: f64,
}

/// What an episode runs.
#[derive(Clone)]
struct EpisodeSpec {
    scenario: Scenario,
    seed: u64,
    explore_commander: bool,
    explore_soldiers: bool,
    commander: Brain,
    soldiers: Brain,
    forecast_noise_sigma: f32,
    explore_seed: u64,
    soldier_noise_hold_secs: u64,
    secs: u64,
    reward: RewardWeights,
    /// The executor's settings (records are kept whatever they say).
    executor: HirlConfig,
}

fn run_episode(spec: &EpisodeSpec, forecaster: &ForecasterModel) -> Episode {
    let s = &spec.scenario;
    let mut sim = Simulation::new(s, spec.seed);
    let cfg = HirlConfig { keep_records: true, ..spec.executor.clone() };
    let mut policy =
        HirlPolicy::with_config(s, sim.layout(), spec.seed, spec.soldiers.clone(), forecaster.clone(), cfg);
    policy.set_commander_brain(spec.commander.clone());
    policy.explore = Some(Box::new(Exploration::new(
        SimRng::new(spec.explore_seed, 7),
        spec.explore_commander,
        spec.explore_soldiers,
        spec.forecast_noise_sigma,
        spec.soldier_noise_hold_secs,
    )));
    let layout = sim.shared_layout();
    let mut actions = Actions::default();
    let mut truth = Vec::new();
    let mut recorder = TruthRecorder::default();
    let end = spec.secs.min(s.duration_secs);
    while sim.now_secs() < end {
        actions.clear();
        policy.decide(&sim.observe(), &mut actions);
        sim.apply(&actions);
        sim.step();
        let tick = recorder.record(&sim);
        truth.push(tick);
    }
    let node_hours = sim.scorecard(policy.name()).cluster.node_hours;
    let log = policy.decisions().cloned().unwrap_or_default();
    let shares_at = log.commander.iter().map(|r| (r.t_secs, r.shares.clone())).collect();
    let budgets_at = log.commander.iter().map(|r| (r.t_secs, r.budget_millicores.clone())).collect();
    let transitions = policy.explore.take().map(|e| e.transitions).unwrap_or_default();
    let p01: Vec<bool> = layout.domains.iter().map(|d| (d.priority as usize) <= 1).collect();
    let breach_ticks = truth.iter().filter(|t| t.weighted_deg.iter().zip(&p01).any(|(g, p)| *p && *g > 0.0)).count();
    let mut ep = Episode { transitions, truth, shares_at, budgets_at, score: 0.0, breach_rate: 0.0, node_hours };
    let ticks = ep.truth.len().max(1) as f64;
    ep.breach_rate = breach_ticks as f64 / ticks;
    // Score: the Commander's weighted reward per minute, over the whole episode.
    let mut total = RewardTerms::default();
    for t in &ep.truth {
        total.add(&tick_commander_terms(t));
    }
    ep.score = total.total(&spec.reward) / (ticks * TICK_SECS as f64 / 60.0);
    ep
}

/// What [`Trainer::select`] measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Validation {
    /// Mean reward per minute over the validation episodes.
    pub score: f64,
    /// Mean node-hours of a validation episode.
    pub node_hours: f64,
    /// Totals over the full-scale validation runs, when configured.
    pub full_scale: Option<SuiteTotals>,
    /// Whether these networks became the best so far.
    pub kept: bool,
}

/// The format tag of [`ResumeState`] files.
pub const RESUME_FORMAT: &str = "hirl-scale-train-state/1";

/// What `--resume` needs besides the current and the best weights, so that a resumed run ends with exactly the
/// weights, curves and selection an uninterrupted one would (every PPO update starts a fresh AdamW, so no optimiser
/// moments are lost): the RNG positions, the curve rows so far, and what selection compares against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeState {
    pub format: String,
    /// The training configuration it belongs to (a resumed run must use the same).
    pub config: TrainConfig,
    /// Behaviour cloning's row, then one per completed PPO iteration.
    pub curves: Vec<CurveRow>,
    /// The training scenarios (full scale, as given) and the forecaster's digest: a resume with other scenario
    /// files or another forecaster model would diverge silently, so it is refused.
    scenarios: Vec<Scenario>,
    forecaster_digest: String,
    episodes_rng: SimRng,
    shuffle_rng: SimRng,
    /// The kept networks' validation score and full-scale totals.
    best_score: f64,
    best_full_scale: Option<SuiteTotals>,
    cost_ceiling: Option<f64>,
    bc_mse: [f64; 2],
    wall_secs: f64,
}

/// The most training time a state may claim, seconds (about 31 years): far beyond any run, and far inside what
/// `Duration` and `Instant` arithmetic hold.
const MAX_WALL_SECS: f64 = 1e9;
/// The largest validation score a state may claim in magnitude: a score is reward per simulated minute (the shipped
/// training's are within ±1), so ±1e9 is no bound on a real one, only on a damaged file.
const MAX_SCORE: f64 = 1e9;

impl ResumeState {
    /// PPO iterations completed.
    pub fn iterations_done(&self) -> usize {
        self.curves.len().saturating_sub(1)
    }

    /// Reads a state file: its `format` first, so that another kind of file is named as such rather than by the first
    /// field it lacks, then the rest, then [`ResumeState::check`]. The message names the field at fault.
    pub fn from_json(text: &[u8]) -> Result<ResumeState, String> {
        let tag = crate::tagged_json::Tag { field: "format", expected: RESUME_FORMAT, kind: "a training state" };
        let state: ResumeState = crate::tagged_json::parse(text, tag).map_err(|e| e.to_string())?;
        state.check()?;
        Ok(state)
    }

    /// The numbers a resume trusts, each finite and in range: the elapsed time becomes a `Duration` (which panics
    /// on 1e20 s), and the score and cost ceiling decide which networks selection keeps.
    pub fn check(&self) -> Result<(), String> {
        if !(self.wall_secs.is_finite() && (0.0..=MAX_WALL_SECS).contains(&self.wall_secs)) {
            return Err(format!(
                "wall_secs: {} is not a number of seconds from 0 to {MAX_WALL_SECS:e}",
                self.wall_secs
            ));
        }
        if !(self.best_score.is_finite() && self.best_score.abs() <= MAX_SCORE) {
            return Err(format!("best_score: {} is not a validation score within ±{MAX_SCORE:e}", self.best_score));
        }
        if let Some(c) = self.cost_ceiling
            && !(c.is_finite() && c >= 0.0)
        {
            return Err(format!("cost_ceiling: {c} is not a number of node-hours (finite, 0 or more)"));
        }
        if let Some(i) = self.bc_mse.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(format!("bc_mse[{i}]: {} is not a mean squared error (finite, 0 or more)", self.bc_mse[i]));
        }
        Ok(())
    }
}

/// A level's training batch: per decision, its reward terms (attached after the episode).
struct Sample<'a> {
    tr: &'a Transition,
    terms: RewardTerms,
}

/// Attaches reward terms to every transition of an episode.
fn attach_rewards(ep: &Episode) -> Vec<Sample<'_>> {
    let mut out = Vec::with_capacity(ep.transitions.len());
    for tr in &ep.transitions {
        let terms = match tr.level {
            Level::Commander => {
                // Thrash and floors from the executed shares.
                let i = ep.shares_at.partition_point(|(t, _)| *t < tr.t_secs);
                let now = ep.shares_at.get(i).map(|(_, s)| &s[..]);
                let prev = now.and(i.checked_sub(1)).map(|j| &ep.shares_at[j].1[..]);
                reward::commander_decision_terms(&ep.truth, tr.t_secs, now, prev)
            }
            Level::Soldier(d) => {
                let budget =
                    ep.budgets_at.iter().rev().find(|(bt, _)| *bt <= tr.t_secs).and_then(|(_, b)| b.get(d).copied());
                reward::soldier_decision_terms(&ep.truth, tr.t_secs, d, budget)
            }
        };
        out.push(Sample { tr, terms });
    }
    out
}

/// Decisions grouped into time-ordered streams: one per Soldier domain (keyed by domain), the Commander's last
/// (keyed `usize::MAX`).
fn streams<'a, 'b>(samples: &'b [Sample<'a>]) -> std::collections::BTreeMap<usize, Vec<&'b Sample<'a>>> {
    let mut out: std::collections::BTreeMap<usize, Vec<&Sample>> = Default::default();
    for s in samples {
        let key = match s.tr.level {
            Level::Commander => usize::MAX,
            Level::Soldier(d) => d,
        };
        out.entry(key).or_default().push(s);
    }
    out
}

/// The cause is in the message, not a `source`: `{:#}` at the CLI edge would print it twice.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("candle: {0}")]
    Candle(candle_core::Error),
    #[error("{0}")]
    Other(String),
    #[error("no training scenario named {0:?}")]
    UnknownScenario(String),
    #[error(
        "the curriculum's stage {stage:?} trains on {scenario:?}, which is not among the training scenarios \
         ({given}); the stages train on the shipped suite, so give its scenarios (other files of the same names will do)"
    )]
    StageScenarioMissing { stage: String, scenario: String, given: String },
    #[error("cannot train on it: {0}")]
    Unsupported(super::features::UnsupportedScenario),
    #[error("--scale: {0}")]
    Scale(crate::scenario::ScaleError),
}

impl From<candle_core::Error> for TrainError {
    fn from(e: candle_core::Error) -> Self {
        Self::Candle(e)
    }
}

// By hand, not `#[from]`, which would make the cause a `source` as well: `train hirl --scale 1e9` printed the
// validator's problems twice ("--scale: scenario … out of bounds: …: scenario … out of bounds: …").
impl From<super::features::UnsupportedScenario> for TrainError {
    fn from(e: super::features::UnsupportedScenario) -> Self {
        Self::Unsupported(e)
    }
}

impl From<crate::scenario::ScaleError> for TrainError {
    fn from(e: crate::scenario::ScaleError) -> Self {
        Self::Scale(e)
    }
}

/// Progress callbacks for the CLI.
pub trait Progress {
    fn phase(&mut self, name: &str, steps: usize);
    fn step(&mut self);
    fn row(&mut self, row: &CurveRow);
}

/// The trainer's state.
pub struct Trainer {
    pub cfg: TrainConfig,
    scenarios: Vec<Scenario>,
    /// The training scenarios as given (full scale), for full-scale validation.
    full_scale_scenarios: Vec<Scenario>,
    /// Built at the first selection (it runs HPA on every run once).
    full_scale: Option<FullScaleSuite>,
    /// The best networks' full-scale totals.
    best_full_scale: Option<SuiteTotals>,
    forecaster: ForecasterModel,
    commander: TrainLevel,
    soldier: TrainLevel,
    episodes_rng: SimRng,
    shuffle_rng: SimRng,
    started: Instant,
    pub curves: Vec<CurveRow>,
    best: Option<(f64, HirlNets)>,
    /// Node-hours of a validation episode that selection may not exceed (behaviour cloning's, see
    /// [`TrainConfig::selection_cost_tolerance`]); set by the first selection.
    cost_ceiling: Option<f64>,
    /// Final behaviour-cloning error (mean squared, pre-activation action) of the Commander and the Soldiers.
    pub bc_mse: [f64; 2],
}

impl Trainer {
    /// `scenarios` are the training scenarios at full scale (they are scaled to `cfg.scale` here).
    pub fn new(cfg: TrainConfig, scenarios: &[Scenario], forecaster: ForecasterModel) -> Result<Self, TrainError> {
        // Checked before any work: a scenario of another shape would train on no decision at all (the executor runs
        // it as HPA), and a stage without its scenario would fail only when it is reached.
        for s in scenarios {
            super::features::check_scenario(s)?;
        }
        for stage in &cfg.stages {
            if let Some(missing) = stage.scenarios.iter().find(|n| !scenarios.iter().any(|s| &s.name == *n)) {
                let given: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
                return Err(TrainError::StageScenarioMissing {
                    stage: stage.name.clone(),
                    scenario: missing.clone(),
                    given: given.join(", "),
                });
            }
        }
        let scaled = scenarios.iter().map(|s| scale_scenario(s, cfg.scale)).collect::<Result<_, _>>()?;
        let mut init = SimRng::new(cfg.seed, stream::INIT);
        let mut commander =
            TrainLevel::new("commander", COMMANDER_OBS, COMMANDER_ACT, &cfg.hidden, &mut init, cfg.initial_log_std)?;
        commander.gamma = 0.995;
        commander.kl_coef = cfg.kl_commander;
        let mut soldier =
            TrainLevel::new("soldier", SOLDIER_OBS, SOLDIER_ACT, &cfg.hidden, &mut init, cfg.initial_log_std)?;
        soldier.gamma = 0.99;
        soldier.kl_coef = cfg.kl_soldier;
        Ok(Self {
            scenarios: scaled,
            full_scale_scenarios: scenarios.to_vec(),
            full_scale: None,
            best_full_scale: None,
            forecaster,
            commander,
            soldier,
            episodes_rng: SimRng::new(cfg.seed, stream::EPISODES),
            shuffle_rng: SimRng::new(cfg.seed, stream::SHUFFLE),
            started: Instant::now(),
            curves: Vec::new(),
            best: None,
            cost_ceiling: None,
            bc_mse: [0.0; 2],
            cfg,
        })
    }

    fn scenario(&self, name: &str) -> Result<&Scenario, TrainError> {
        self.scenarios.iter().find(|s| s.name == name).ok_or_else(|| TrainError::UnknownScenario(name.into()))
    }

    /// A jittered copy of a training scenario: event starts ±10 min, multipliers ×0.8–1.25.
    fn jittered(base: &Scenario, rng: &mut SimRng, episode_secs: u64) -> Scenario {
        let mut s = base.clone();
        // A long scenario without events (the reference day) starts at a random hour, so 4-hour episodes see the
        // whole day — not only the first four hours after midnight.
        if s.events.is_empty() && s.duration_secs > episode_secs {
            s.start.hour = rng.range_u32(0, 23) as u8;
        }
        for e in &mut s.events {
            let shift = (rng.uniform() * 1200.0) as i64 - 600;
            let move_t = |t: &mut u64| *t = (*t as i64 + shift).max(600) as u64;
            match e {
                EventSpec::FlashSale { start_secs, announced_start_secs, multiplier, .. } => {
                    move_t(start_secs);
                    if let Some(a) = announced_start_secs {
                        move_t(a);
                    }
                    *multiplier = 1.0 + (*multiplier - 1.0) * (0.8 + 0.45 * rng.uniform());
                }
                EventSpec::Spike { start_secs, multiplier, .. } => {
                    move_t(start_secs);
                    *multiplier = 1.0 + (*multiplier - 1.0) * (0.8 + 0.45 * rng.uniform());
                }
                EventSpec::BatchJob { start_secs, .. } | EventSpec::ProvisionerSlowdown { start_secs, .. } => {
                    move_t(start_secs)
                }
                EventSpec::NodePoolLoss { at_secs, .. } => move_t(at_secs),
            }
        }
        s
    }

    fn brains(&self) -> Result<Brain, TrainError> {
        Ok(Brain::Learned(std::sync::Arc::new(self.nets(serde_json::Value::Null)?)))
    }

    /// The current networks as shippable agents.
    pub fn nets(&self, eval: serde_json::Value) -> Result<HirlNets, TrainError> {
        let sizes = |obs: usize, out: usize| [&[obs][..], &self.cfg.hidden, &[out]].concat();
        Ok(HirlNets {
            commander: self.commander.frozen().map_err(TrainError::Other)?,
            soldier: self.soldier.frozen().map_err(TrainError::Other)?,
            meta: AgentsMetadata {
                schema: SCHEMA.to_string(),
                commander_features: commander_names(),
                soldier_features: soldier_names(),
                commander_actor_sizes: sizes(COMMANDER_OBS, COMMANDER_ACT),
                commander_critic_sizes: sizes(COMMANDER_OBS, 1),
                soldier_actor_sizes: sizes(SOLDIER_OBS, SOLDIER_ACT),
                soldier_critic_sizes: sizes(SOLDIER_OBS, 1),
                training: AgentsTraining {
                    command: String::new(),
                    seed: self.cfg.seed,
                    config: serde_json::to_value(&self.cfg).unwrap_or_default(),
                    stages: Vec::new(),
                    wall_secs: self.started.elapsed().as_secs_f64(),
                    curves_csv: String::new(),
                    selection_node_hours_ceiling: self.cost_ceiling,
                    selection_full_scale_hpa: self.full_scale_hpa().cloned(),
                    source_tree: None,
                },
                eval: (!eval.is_null()).then_some(eval),
                frontier: None,
                weights_digest: None,
            },
        })
    }

    /// Restores a checkpoint's weights.
    pub fn load(&mut self, nets: &HirlNets) -> Result<(), TrainError> {
        self.commander.load(&nets.commander)?;
        self.soldier.load(&nets.soldier)?;
        Ok(())
    }

    /// The state a checkpoint keeps for `--resume`, and the networks kept so far; `None` before the first selection.
    pub fn resume_state(&self) -> Option<(ResumeState, &HirlNets)> {
        let (best_score, best) = self.best.as_ref()?;
        let state = ResumeState {
            format: RESUME_FORMAT.to_string(),
            config: self.cfg.clone(),
            curves: self.curves.clone(),
            scenarios: self.full_scale_scenarios.clone(),
            forecaster_digest: self.forecaster.digest(),
            episodes_rng: self.episodes_rng.clone(),
            shuffle_rng: self.shuffle_rng.clone(),
            best_score: *best_score,
            best_full_scale: self.best_full_scale.clone(),
            cost_ceiling: self.cost_ceiling,
            bc_mse: self.bc_mse,
            wall_secs: self.wall_secs(),
        };
        Some((state, best))
    }

    /// Continues from a checkpoint: its current weights, the networks kept so far and its [`ResumeState`].
    pub fn restore(&mut self, current: &HirlNets, best: HirlNets, state: ResumeState) -> Result<(), TrainError> {
        if state.format != RESUME_FORMAT {
            return Err(TrainError::Other(format!(
                "training state format {:?}, expected {RESUME_FORMAT:?}",
                state.format
            )));
        }
        state.check().map_err(|e| TrainError::Other(format!("training state: {e}")))?;
        if state.config != self.cfg {
            return Err(TrainError::Other(format!(
                "the checkpoint was trained with another configuration ({}); resume with the options it was \
                 started with",
                config_difference(&state.config, &self.cfg)
            )));
        }
        if state.scenarios.len() != self.full_scale_scenarios.len() {
            return Err(TrainError::Other(format!(
                "the checkpoint was trained on {} scenarios, this run has {}",
                state.scenarios.len(),
                self.full_scale_scenarios.len()
            )));
        }
        if let Some((was, now)) = state.scenarios.iter().zip(&self.full_scale_scenarios).find(|(a, b)| a != b) {
            return Err(TrainError::Other(format!(
                "training scenario {:?} is not the one the checkpoint was trained on (now {:?}): resume with the \
                 same scenario files",
                was.name, now.name
            )));
        }
        let digest = self.forecaster.digest();
        if state.forecaster_digest != digest {
            return Err(TrainError::Other(format!(
                "the forecaster is not the one the checkpoint was trained with (digest {}, now {digest}): resume \
                 with the same forecaster model",
                state.forecaster_digest
            )));
        }
        self.load(current)?;
        self.episodes_rng = state.episodes_rng;
        self.shuffle_rng = state.shuffle_rng;
        self.best = Some((state.best_score, best));
        self.best_full_scale = state.best_full_scale;
        self.cost_ceiling = state.cost_ceiling;
        self.bc_mse = state.bc_mse;
        self.curves = state.curves;
        // `check` bounds the seconds; the conversion still cannot panic, whatever a caller skipped.
        let elapsed = std::time::Duration::try_from_secs_f64(state.wall_secs).unwrap_or_default();
        self.started = Instant::now().checked_sub(elapsed).unwrap_or_else(Instant::now);
        Ok(())
    }

    fn run_many(&self, specs: Vec<EpisodeSpec>, progress: &mut dyn Progress) -> Vec<Episode> {
        let forecaster = &self.forecaster;
        let mut out: Vec<Option<Episode>> = (0..specs.len()).map(|_| None).collect();
        for pair in specs.chunks(2).zip(out.chunks_mut(2)) {
            let (specs, slots) = pair;
            std::thread::scope(|scope| {
                let handles: Vec<_> =
                    specs.iter().map(|spec| scope.spawn(move || run_episode(spec, forecaster))).collect();
                for (slot, h) in slots.iter_mut().zip(handles) {
                    *slot = h.join().ok();
                }
            });
            for _ in specs {
                progress.step();
            }
        }
        out.into_iter().flatten().collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn episode_specs(
        &mut self,
        names: &[String],
        count: usize,
        commander: Brain,
        soldiers: Brain,
        explore: (bool, bool),
        noise: f32,
        validation: bool,
    ) -> Result<Vec<EpisodeSpec>, TrainError> {
        let mut rng =
            if validation { SimRng::new(self.cfg.seed, stream::VALIDATION) } else { self.episodes_rng.clone() };
        let mut specs = Vec::new();
        for i in 0..count {
            let base = self.scenario(&names[i % names.len()])?.clone();
            let scenario = Self::jittered(&base, &mut rng, self.cfg.episode_secs);
            // Training and validation run seeds are ≥ 10⁶; `hirl-scale eval` uses seeds below that, so they never meet.
            let seed = u64::from(rng.range_u32(1_000_000, u32::MAX - 1));
            let explore_seed = u64::from(rng.range_u32(1, u32::MAX - 1));
            specs.push(EpisodeSpec {
                scenario,
                seed,
                explore_commander: explore.0,
                explore_soldiers: explore.1,
                commander: commander.clone(),
                soldiers: soldiers.clone(),
                forecast_noise_sigma: noise,
                explore_seed,
                soldier_noise_hold_secs: self.cfg.soldier_noise_hold_secs,
                secs: self.cfg.episode_secs,
                reward: self.cfg.reward.clone(),
                executor: self.cfg.executor(),
            });
        }
        if !validation {
            self.episodes_rng = rng;
        }
        Ok(specs)
    }

    /// Behaviour cloning of the teacher at both levels, with critics fitted to the teacher's returns.
    pub fn behaviour_cloning(&mut self, progress: &mut dyn Progress) -> Result<(), TrainError> {
        let names: Vec<String> = self.scenarios.iter().map(|s| s.name.clone()).collect();
        progress.phase("behaviour cloning: teacher episodes", self.cfg.bc_episodes);
        let specs =
            self.episode_specs(&names, self.cfg.bc_episodes, Brain::Teacher, Brain::Teacher, (true, true), 0.0, false)?;
        let episodes = self.run_many(specs, progress);
        let mut c_rows = Vec::new();
        let mut s_rows = Vec::new();
        for ep in &episodes {
            let samples = attach_rewards(ep);
            let (c, s): (Vec<_>, Vec<_>) = samples.into_iter().partition(|x| x.tr.level == Level::Commander);
            c_rows.push(c);
            s_rows.push(s);
        }
        let epochs = self.cfg.bc_epochs;
        progress.phase("behaviour cloning: fitting", 2 * epochs);
        let epochs = epochs.max(1);
        let lr = self.cfg.bc_learning_rate;
        let minibatch = self.cfg.minibatch;
        let mut mse = [0.0f64; 2];
        // The Commander decides 6× less often than a Soldier, so it gets 6× the epochs over its smaller data set.
        for (li, (level, rows, gamma, epochs)) in
            [(&mut self.commander, &c_rows, 0.995, epochs * 6), (&mut self.soldier, &s_rows, 0.99, epochs)]
                .into_iter()
                .enumerate()
        {
            let mut obs: Vec<&[f32]> = Vec::new();
            let mut targets: Vec<&[f32]> = Vec::new();
            let mut returns: Vec<f64> = Vec::new();
            for ep_rows in rows.iter() {
                // Monte-Carlo returns per stream (Commander, or one Soldier domain), time-ordered.
                let streams = streams(ep_rows);
                for stream in streams.values() {
                    let mut g = 0.0;
                    let mut rets = vec![0.0; stream.len()];
                    for i in (0..stream.len()).rev() {
                        g = stream[i].terms.total(&self.cfg.reward) + gamma * g;
                        rets[i] = g;
                    }
                    for (s, r) in stream.iter().zip(rets) {
                        obs.push(&s.tr.obs);
                        targets.push(&s.tr.teacher);
                        returns.push(r);
                    }
                }
            }
            if obs.is_empty() {
                continue;
            }
            let (mean, std) = standardisation(&obs, level.norm_mean.len());
            level.norm_mean = mean;
            level.norm_std = std;
            let scale = (returns.iter().map(|r| r * r).sum::<f64>() / returns.len() as f64).sqrt().max(1e-3);
            level.value_scale = scale as f32;
            let mut vars = level.actor.vars();
            vars.extend(level.critic.vars());
            let mut opt = AdamW::new(vars, ParamsAdamW { lr, weight_decay: 1e-4, ..ParamsAdamW::default() })?;
            let mut order: Vec<usize> = (0..obs.len()).collect();
            for epoch in 0..epochs {
                let (mut sum, mut batches) = (0.0, 0usize);
                shuffle(&mut order, &mut self.shuffle_rng);
                for chunk in order.chunks(minibatch) {
                    let x = level.normalise(&chunk.iter().map(|&i| obs[i]).collect::<Vec<_>>())?;
                    let act_dim = targets[chunk[0]].len();
                    let y: Vec<f32> = chunk.iter().flat_map(|&i| targets[i].iter().copied()).collect();
                    let y = Tensor::from_vec(y, (chunk.len(), act_dim), &Device::Cpu)?;
                    let r: Vec<f32> = chunk.iter().map(|&i| (returns[i] / scale) as f32).collect();
                    let r = Tensor::from_vec(r, chunk.len(), &Device::Cpu)?;
                    let actor_loss = level.actor.forward(&x)?.sub(&y)?.sqr()?.mean_all()?;
                    let v = level.critic.forward(&x)?.squeeze(1)?;
                    let value_loss = v.sub(&r)?.sqr()?.mean_all()?;
                    sum += f64::from(actor_loss.to_scalar::<f32>()?);
                    batches += 1;
                    let loss = (actor_loss + (value_loss * 0.5)?)?;
                    opt.backward_step(&loss)?;
                }
                mse[li] = sum / batches.max(1) as f64;
                if li == 1 || epoch % 6 == 5 {
                    progress.step();
                }
            }
        }
        self.best = None;
        self.bc_mse = mse;
        Ok(())
    }

    /// Scores the current networks on the validation episodes: mean score and mean node-hours.
    fn validate(&mut self, progress: &mut dyn Progress) -> Result<(f64, f64), TrainError> {
        let names: Vec<String> = self.scenarios.iter().map(|s| s.name.clone()).collect();
        let brain = self.brains()?;
        let specs =
            self.episode_specs(&names, self.cfg.validation_episodes, brain.clone(), brain, (false, false), 0.0, true)?;
        let eps = self.run_many(specs, progress);
        let n = eps.len().max(1) as f64;
        Ok((eps.iter().map(|e| e.score).sum::<f64>() / n, eps.iter().map(|e| e.node_hours).sum::<f64>() / n))
    }

    /// The full-scale validation runs (built, running HPA on them, on first use); `None` when not configured.
    fn full_scale_suite(&mut self, progress: &mut dyn Progress) -> Option<&FullScaleSuite> {
        if self.cfg.full_scale_validation_seeds == 0 {
            return None;
        }
        if self.full_scale.is_none() {
            let mut rng = SimRng::new(self.cfg.seed, stream::FULL_SCALE);
            let mut runs = Vec::new();
            for _ in 0..self.cfg.full_scale_validation_seeds {
                for base in &self.full_scale_scenarios {
                    let scenario = Self::jittered(base, &mut rng, base.duration_secs);
                    // ≥ 10⁶, like every training seed: never one of `hirl-scale eval`'s.
                    runs.push((scenario, u64::from(rng.range_u32(1_000_000, u32::MAX - 1))));
                }
            }
            progress.phase("full-scale validation: HPA reference", 1);
            self.full_scale = Some(FullScaleSuite::new(runs, self.cfg.executor()));
            progress.step();
        }
        self.full_scale.as_ref()
    }

    /// Scores the current networks on the validation episodes and, when configured, at full scale; keeps them if
    /// they are the best so far by the configured rule (the first networks scored are always kept and set the
    /// small-scale cost ceiling).
    pub fn select(&mut self, progress: &mut dyn Progress) -> Result<Validation, TrainError> {
        let (score, node_hours) = self.validate(progress)?;
        let nets = std::sync::Arc::new(self.nets(serde_json::Value::Null)?);
        let ceiling = *self.cost_ceiling.get_or_insert(node_hours);
        let tolerance = self.cfg.selection_cost_tolerance;
        let forecaster = self.forecaster.clone();
        let best_full_scale = self.best_full_scale.clone();
        let full_scale = self.full_scale_suite(progress).map(|suite| {
            progress.phase("full-scale validation", 1);
            let t = suite.measure(&nets, &forecaster);
            progress.step();
            let kept = suite.better(&t, best_full_scale.as_ref(), tolerance);
            (t, kept)
        });
        let kept = match &full_scale {
            Some((_, kept)) => *kept,
            None => better_within_cost(score, node_hours, ceiling, tolerance, self.best.as_ref().map(|(b, _)| *b)),
        };
        if kept {
            self.best = Some((score, std::sync::Arc::unwrap_or_clone(nets)));
            self.best_full_scale = full_scale.as_ref().map(|(t, _)| t.clone());
        }
        Ok(Validation { score, node_hours, full_scale: full_scale.map(|(t, _)| t), kept })
    }

    /// HPA's totals on the full-scale validation runs, once they have been built.
    pub fn full_scale_hpa(&self) -> Option<&SuiteTotals> {
        self.full_scale.as_ref().map(|s| &s.hpa)
    }

    /// The best networks seen by [`Self::select`] (the current ones if none).
    pub fn best(&self) -> Result<HirlNets, TrainError> {
        match &self.best {
            Some((_, n)) => Ok(n.clone()),
            None => self.nets(serde_json::Value::Null),
        }
    }

    /// One PPO iteration of a stage.
    pub fn iteration(
        &mut self,
        stage: &Stage,
        iteration: usize,
        progress: &mut dyn Progress,
    ) -> Result<CurveRow, TrainError> {
        let learned = self.brains()?;
        let commander = if stage.teacher_commander { Brain::Teacher } else { learned.clone() };
        progress.phase(
            &format!("{} · iteration {}", stage.name, iteration + 1),
            self.cfg.episodes_per_iteration + self.cfg.validation_episodes,
        );
        let specs = self.episode_specs(
            &stage.scenarios,
            self.cfg.episodes_per_iteration,
            commander,
            learned,
            (stage.train_commander, stage.train_soldiers),
            stage.forecast_noise_sigma,
            false,
        )?;
        let episodes = self.run_many(specs, progress);
        let mut row = CurveRow {
            stage: stage.name.clone(),
            iteration,
            breach_rate: episodes.iter().map(|e| e.breach_rate).sum::<f64>() / episodes.len().max(1) as f64,
            ..CurveRow::default()
        };
        // Per level: samples with advantages and returns.
        let mut batches: [(Vec<&Transition>, Vec<f64>, Vec<f64>); 2] = Default::default();
        let mut terms = [RewardTerms::default(), RewardTerms::default()];
        let mut counts = [0usize; 2];
        let attached: Vec<Vec<Sample>> = episodes.iter().map(attach_rewards).collect();
        for samples in &attached {
            for (key, stream) in streams(samples) {
                let (li, level) = if key == usize::MAX { (0, &self.commander) } else { (1, &self.soldier) };
                let rewards: Vec<f64> = stream.iter().map(|s| s.terms.total(&self.cfg.reward)).collect();
                let values: Vec<f64> = stream.iter().map(|s| f64::from(s.tr.value)).collect();
                let (adv, ret) = gae(&rewards, &values, level.gamma, 0.95);
                for ((s, a), r) in stream.iter().zip(adv).zip(ret) {
                    terms[li].add(&s.terms);
                    counts[li] += 1;
                    batches[li].0.push(s.tr);
                    batches[li].1.push(a);
                    batches[li].2.push(r);
                }
            }
        }
        row.commander_terms = terms[0].scaled(1.0 / counts[0].max(1) as f64);
        row.soldier_terms = terms[1].scaled(1.0 / counts[1].max(1) as f64);
        row.commander_reward = row.commander_terms.total(&self.cfg.reward);
        row.soldier_reward = row.soldier_terms.total(&self.cfg.reward);
        let train = [stage.train_commander, stage.train_soldiers];
        for li in 0..2 {
            if !train[li] || batches[li].0.is_empty() {
                continue;
            }
            let (trs, adv, ret) = std::mem::take(&mut batches[li]);
            let mut idx: Vec<usize> = (0..trs.len()).collect();
            if li == 1 && idx.len() > self.cfg.max_soldier_samples {
                shuffle(&mut idx, &mut self.shuffle_rng);
                idx.truncate(self.cfg.max_soldier_samples);
                idx.sort_unstable();
            }
            let update = self.ppo_update(li, &trs, &adv, &ret, &idx)?;
            if li == 0 {
                row.commander_kl = update.kl;
                row.commander_value_loss = update.value_loss;
                row.commander_actor_steps = update.actor_steps;
            } else {
                row.soldier_kl = update.kl;
                row.soldier_value_loss = update.value_loss;
                row.soldier_actor_steps = update.actor_steps;
            }
        }
        let validation = self.select(progress)?;
        row.set_validation(validation);
        row.wall_secs = self.started.elapsed().as_secs_f64();
        self.curves.push(row.clone());
        progress.row(&row);
        Ok(row)
    }

    /// One PPO update of a level. Returns the KL of the updated policy to the pre-update one (over the whole batch),
    /// the mean value loss and how many minibatch steps moved the actor.
    fn ppo_update(
        &mut self,
        li: usize,
        trs: &[&Transition],
        adv: &[f64],
        ret: &[f64],
        idx: &[usize],
    ) -> Result<PpoUpdate, TrainError> {
        let cfg = self.cfg.clone();
        let level = if li == 0 { &mut self.commander } else { &mut self.soldier };
        let target_kl = f64::from(if li == 0 { cfg.target_kl_commander } else { cfg.target_kl_soldier });
        // Advantages normalised over the batch.
        let sel_adv: Vec<f64> = idx.iter().map(|&i| adv[i]).collect();
        let m = sel_adv.iter().sum::<f64>() / sel_adv.len().max(1) as f64;
        let sd = (sel_adv.iter().map(|a| (a - m).powi(2)).sum::<f64>() / sel_adv.len().max(1) as f64).sqrt().max(1e-8);
        // Separate optimisers, so the critic can keep learning after the actor has moved as far as it may.
        let mut actor_vars = level.actor.vars();
        actor_vars.push(level.log_std.clone());
        let lr = if li == 0 { cfg.commander_learning_rate } else { cfg.learning_rate };
        let params = ParamsAdamW { lr, weight_decay: 0.0, ..ParamsAdamW::default() };
        let mut actor_opt = AdamW::new(actor_vars, params.clone())?;
        let mut critic_opt = AdamW::new(level.critic.vars(), params)?;
        let old_log_std = level.log_std.as_tensor().detach();
        // The pre-update means, for the KL penalty and the stopping rule.
        let all_obs: Vec<&[f32]> = idx.iter().map(|&i| trs[i].obs.as_slice()).collect();
        let all_x = level.normalise(&all_obs)?;
        let old_mean = level.actor.forward(&all_x)?.detach();
        let mut order: Vec<usize> = (0..idx.len()).collect();
        let (mut v_sum, mut n_batches, mut actor_steps) = (0.0, 0usize, 0usize);
        let mut actor_moving = true;
        for _ in 0..cfg.ppo_epochs {
            shuffle(&mut order, &mut self.shuffle_rng);
            for chunk in order.chunks(cfg.minibatch) {
                let rows: Vec<&[f32]> = chunk.iter().map(|&k| trs[idx[k]].obs.as_slice()).collect();
                let x = level.normalise(&rows)?;
                let v = level.critic.forward(&x)?.squeeze(1)?;
                let r: Vec<f32> = chunk.iter().map(|&k| (ret[idx[k]] / f64::from(level.value_scale)) as f32).collect();
                let r = Tensor::from_vec(r, chunk.len(), &Device::Cpu)?;
                let value_loss = v.sub(&r)?.sqr()?.mean_all()?;
                v_sum += f64::from(value_loss.to_scalar::<f32>()?);
                n_batches += 1;
                critic_opt.backward_step(&(value_loss * 0.5)?)?;
                if !actor_moving {
                    continue;
                }
                let act_dim = trs[idx[chunk[0]]].action.len();
                let a: Vec<f32> = chunk.iter().flat_map(|&k| trs[idx[k]].action.iter().copied()).collect();
                let a = Tensor::from_vec(a, (chunk.len(), act_dim), &Device::Cpu)?;
                let old_lp: Vec<f32> = chunk.iter().map(|&k| trs[idx[k]].log_prob).collect();
                let old_lp = Tensor::from_vec(old_lp, chunk.len(), &Device::Cpu)?;
                let ad: Vec<f32> = chunk.iter().map(|&k| ((adv[idx[k]] - m) / sd) as f32).collect();
                let ad = Tensor::from_vec(ad, chunk.len(), &Device::Cpu)?;
                let chunk_idx: Vec<u32> = chunk.iter().map(|&k| k as u32).collect();
                let om = old_mean.index_select(&Tensor::from_vec(chunk_idx, chunk.len(), &Device::Cpu)?, 0)?;

                let mean = level.actor.forward(&x)?;
                let ls = level.log_std.as_tensor();
                let kl = gaussian_kl(&om, &old_log_std, &mean, ls)?;
                // Checked before the step: this minibatch's KL says how far the actor has already moved.
                if f64::from(kl.to_scalar::<f32>()?) > 1.5 * target_kl {
                    actor_moving = false;
                    continue;
                }
                let lp = log_prob(&a, &mean, ls)?;
                let ratio = lp.sub(&old_lp)?.exp()?;
                let s1 = ratio.mul(&ad)?;
                let s2 = ratio.clamp(1.0 - cfg.clip, 1.0 + cfg.clip)?.mul(&ad)?;
                let policy_loss = s1.minimum(&s2)?.mean_all()?.neg()?;
                let entropy = ls.sum_all()?;
                let loss = (policy_loss + (&kl * f64::from(level.kl_coef))?)?;
                let loss = (loss - (entropy * f64::from(cfg.entropy_coef))?)?;
                actor_opt.backward_step(&loss)?;
                actor_steps += 1;
            }
        }
        // Keep exploration bounded.
        let clamped = level.log_std.as_tensor().clamp(-4.0f32, -0.5f32)?;
        level.log_std.set(&clamped)?;
        let new_mean = level.actor.forward(&all_x)?;
        let kl = gaussian_kl(&old_mean, &old_log_std, &new_mean, level.log_std.as_tensor())?;
        Ok(PpoUpdate {
            kl: f64::from(kl.to_scalar::<f32>()?),
            value_loss: v_sum / n_batches.max(1) as f64,
            actor_steps,
        })
    }

    pub fn wall_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// Selection's rule: no costlier on validation than `ceiling` allows, and a better score than the best so far. The
/// first networks scored are always kept (behaviour cloning's set the ceiling, so they are within it).
fn better_within_cost(score: f64, node_hours: f64, ceiling: f64, tolerance: Option<f64>, best: Option<f64>) -> bool {
    let affordable = tolerance.is_none_or(|t| node_hours <= ceiling * (1.0 + t));
    best.is_none_or(|b| affordable && score > b)
}

fn shuffle(v: &mut [usize], rng: &mut SimRng) {
    for i in (1..v.len()).rev() {
        let j = rng.range_u32(0, i as u32) as usize;
        v.swap(i, j);
    }
}

/// Runs a whole training (behaviour cloning, then every stage) and returns the best networks.
pub fn train(
    cfg: TrainConfig,
    scenarios: &[Scenario],
    forecaster: ForecasterModel,
    progress: &mut dyn Progress,
    on_iteration: &mut dyn FnMut(&Trainer) -> Result<(), TrainError>,
) -> Result<(HirlNets, Trainer), TrainError> {
    let mut t = Trainer::new(cfg, scenarios, forecaster)?;
    t.behaviour_cloning(progress)?;
    progress.phase("behaviour cloning: validation", t.cfg.validation_episodes);
    let validation = t.select(progress)?;
    let mut row = CurveRow {
        stage: "behaviour cloning".into(),
        commander_bc_mse: t.bc_mse[0],
        soldier_bc_mse: t.bc_mse[1],
        ..CurveRow::default()
    };
    row.set_validation(validation);
    row.wall_secs = t.wall_secs();
    t.curves.push(row);
    on_iteration(&t)?;
    run_stages(t, progress, on_iteration)
}

/// Continues training from a checkpoint (see [`Trainer::restore`]): ends with the same networks, curves and
/// selection as the uninterrupted run.
#[allow(clippy::too_many_arguments)]
pub fn resume(
    cfg: TrainConfig,
    scenarios: &[Scenario],
    forecaster: ForecasterModel,
    current: &HirlNets,
    best: HirlNets,
    state: ResumeState,
    progress: &mut dyn Progress,
    on_iteration: &mut dyn FnMut(&Trainer) -> Result<(), TrainError>,
) -> Result<(HirlNets, Trainer), TrainError> {
    let mut t = Trainer::new(cfg, scenarios, forecaster)?;
    t.restore(current, best, state)?;
    run_stages(t, progress, on_iteration)
}

/// The PPO iterations of every stage not yet in `t.curves` (its first row is behaviour cloning's).
fn run_stages(
    mut t: Trainer,
    progress: &mut dyn Progress,
    on_iteration: &mut dyn FnMut(&Trainer) -> Result<(), TrainError>,
) -> Result<(HirlNets, Trainer), TrainError> {
    let done = t.curves.len().saturating_sub(1);
    let mut k = 0;
    for stage in t.cfg.stages.clone() {
        for i in 0..stage.iterations {
            k += 1;
            if k > done {
                t.iteration(&stage, i, progress)?;
                on_iteration(&t)?;
            }
        }
    }
    Ok((t.best()?, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_keeps_a_better_score_only_within_the_cost_ceiling() {
        let ceiling = 100.0;
        // The first networks are always kept (they set the ceiling).
        assert!(better_within_cost(-1.0, 100.0, ceiling, Some(0.0), None));
        assert!(better_within_cost(-1.0, 120.0, ceiling, Some(0.0), None));
        // Better but costlier: refused under the default, kept when cost is not a criterion or within tolerance.
        assert!(!better_within_cost(-0.5, 100.5, ceiling, Some(0.0), Some(-1.0)));
        assert!(better_within_cost(-0.5, 100.5, ceiling, None, Some(-1.0)));
        assert!(better_within_cost(-0.5, 100.5, ceiling, Some(0.01), Some(-1.0)));
        // Cheaper but not better: refused; better and no costlier: kept.
        assert!(!better_within_cost(-1.5, 90.0, ceiling, Some(0.0), Some(-1.0)));
        assert!(better_within_cost(-0.5, 100.0, ceiling, Some(0.0), Some(-1.0)));
    }

    fn state() -> ResumeState {
        ResumeState {
            format: RESUME_FORMAT.into(),
            config: TrainConfig::default(),
            curves: Vec::new(),
            scenarios: Vec::new(),
            forecaster_digest: String::new(),
            episodes_rng: SimRng::new(1, 1),
            shuffle_rng: SimRng::new(1, 2),
            best_score: -0.5,
            best_full_scale: None,
            cost_ceiling: Some(120.0),
            bc_mse: [0.1, 0.2],
            wall_secs: 60.0,
        }
    }

    #[test]
    fn a_state_file_is_checked_for_its_format_first_and_every_trusted_number_named() {
        // Edited as text: the RNG states are 128-bit numbers, which a `serde_json::Value` cannot hold.
        let json = serde_json::to_string(&state()).expect("encodes");
        assert_eq!(ResumeState::from_json(json.as_bytes()), Ok(state()));
        // Another kind of file is named by its format, not by a field it lacks.
        let err = ResumeState::from_json(br#"{"schema": "hirl-scale-agents/1", "training": {}}"#).expect_err("agents");
        assert!(err.contains("no `format` field"), "{err}");
        let err = ResumeState::from_json(br#"{"format": "hirl-scale-train-state/0"}"#).expect_err("old format");
        assert_eq!(err, format!("format `hirl-scale-train-state/0`, but this build reads `{RESUME_FORMAT}`"));
        // A field this build does not know (misspelt, or hand-added) is refused, not dropped.
        let err = ResumeState::from_json(json.replacen('{', "{\"best_scor\":1,", 1).as_bytes()).expect_err("unknown");
        assert!(err.contains("unknown field `best_scor`"), "{err}");
        for (field, was, value) in [
            ("wall_secs", "60.0", "1e20"),
            ("wall_secs", "60.0", "-1.0"),
            ("best_score", "-0.5", "1e308"),
            ("best_score", "-0.5", "-1e308"),
            ("cost_ceiling", "120.0", "-5.0"),
            ("bc_mse", "[0.1,0.2]", "[0.1,-1.0]"),
        ] {
            let (from, to) = (format!("\"{field}\":{was}"), format!("\"{field}\":{value}"));
            assert!(json.contains(&from), "{json}");
            let err = ResumeState::from_json(json.replace(&from, &to).as_bytes()).expect_err("refused");
            assert!(err.starts_with(field), "{field} = {value}: {err}");
        }
    }
}
