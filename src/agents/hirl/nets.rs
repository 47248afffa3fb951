//! The Commander's and the Soldiers' networks as shipped: `models/hirl.safetensors` (weights, log standard
//! deviations, observation standardisation) and `models/hirl.json` (schema with feature names, layer sizes, how they
//! were trained, held-out results).
//!
//! Each level is an actor (observation → action mean) and a critic (observation → value), both MLPs with ReLU, on
//! standardised inputs; the Soldiers' network is one, shared by all five domains (the domain is an input). A file
//! whose schema, feature names or shapes differ from this build's is refused with a message naming the file and the
//! place; the policy then hands every domain to HPA (see [`super::policy`]).

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::brain::ActionDist;
use super::features::{COMMANDER_ACT, COMMANDER_OBS, SOLDIER_ACT, SOLDIER_OBS, commander_names, soldier_names};
use super::reward::RewardWeights;
use crate::agents::model_file::{LoadedPair, ModelError, PairedMetadata, load_pair, save_pair};
use crate::agents::nn::{Mlp, ShapeError, read, refuse_unexpected};
use crate::sim::SuiteTotals;

/// Version of the agent files; bump when an observation or an action changes meaning.
pub const SCHEMA: &str = "hirl-scale-agents/1";
/// Where the window and the CLI look for the shipped agents.
pub const DEFAULT_AGENTS_PATH: &str = "models/hirl.safetensors";

/// What `hirl-scale train hirl` clips standardised inputs to, in standard deviations. An input almost constant in the
/// training data (Fraud's error-budget burn is ~0 in most teacher episodes) otherwise reaches thousands of σ when it
/// moves, and a single optimiser step then swings the whole action (measured: the Commander's KL to its pre-update
/// policy was 570–820 after one Adam step at 3e-4). The clip is part of the model file (`<level>.norm.clip`), so
/// a network runs with the preprocessing it was trained with; files without it (trained before the clip) run
/// unclipped.
pub const OBS_CLIP_SIGMAS: f32 = 5.0;

/// One input, standardised and, when `clip` is set, clipped to ±`clip` standard deviations.
#[inline]
pub fn standardise(x: f32, mean: f32, std: f32, clip: Option<f32>) -> f32 {
    let z = (x - mean) / std;
    match clip {
        Some(c) => z.clamp(-c, c),
        None => z,
    }
}

/// One level's networks and input standardisation.
#[derive(Clone, Debug, PartialEq)]
pub struct LevelNets {
    pub actor: Mlp,
    pub critic: Mlp,
    pub log_std: Vec<f32>,
    pub norm_mean: Vec<f32>,
    pub norm_std: Vec<f32>,
    /// Standardised inputs are clipped to ± this many σ (`None` in files written before the clip).
    pub obs_clip_sigmas: Option<f32>,
    /// The critic predicts returns divided by this (the training return scale); values are reported unscaled.
    pub value_scale: f32,
}

impl LevelNets {
    fn digest_into(&self, d: &mut crate::digest::Digest) {
        self.actor.digest_into(d);
        self.critic.digest_into(d);
        d.f32s(&self.log_std).f32s(&self.norm_mean).f32s(&self.norm_std).f32s(&[self.value_scale]);
        if let Some(c) = self.obs_clip_sigmas {
            d.f32s(&[c]);
        }
    }

    /// The action distribution; the critic's value too when `with_value` (it does not change the action).
    fn act(&self, obs: &[f32], with_value: bool, out: &mut ActionDist) {
        let clip = self.obs_clip_sigmas;
        let x: Vec<f32> = obs
            .iter()
            .zip(self.norm_mean.iter().zip(&self.norm_std))
            .map(|(x, (m, s))| standardise(*x, *m, *s, clip))
            .collect();
        let mut scratch = [Vec::new(), Vec::new()];
        self.actor.forward_into(&x, &mut scratch, &mut out.mean);
        out.value = None;
        if with_value {
            let mut v = Vec::with_capacity(1);
            self.critic.forward_into(&x, &mut scratch, &mut v);
            out.value = v.first().map(|v| v * self.value_scale);
        }
        out.log_std.clear();
        out.log_std.extend_from_slice(&self.log_std);
    }
}

/// One "Done when" target and whether it was met, as `hirl-scale eval` prints it and stores it in the metadata's
/// `eval.targets` (`--record-in-model`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub target: String,
    pub measured: String,
    pub met: bool,
}

/// How the agents were trained.
///
/// The metadata structs refuse unknown fields: a misspelt or hand-added field would otherwise be accepted on load and
/// silently dropped by the next save.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsTraining {
    pub command: String,
    pub seed: u64,
    /// The training configuration, as written by `hirl-scale train hirl`.
    pub config: serde_json::Value,
    /// Per curriculum stage: name, iterations, wall seconds, best held-out score.
    pub stages: Vec<serde_json::Value>,
    pub wall_secs: f64,
    /// Where the training curves were written.
    pub curves_csv: String,
    /// Selection's cost ceiling: behaviour cloning's mean node-hours per validation episode (absent in files
    /// written before selection had one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_node_hours_ceiling: Option<f64>,
    /// HPA's totals on the full-scale validation runs that selection judged against (absent when selection did
    /// not run at full scale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_full_scale_hpa: Option<SuiteTotals>,
    /// The source tree that trained them: `git <commit>`, with `+ uncommitted changes` when the checkout had any
    /// (absent when unknown: no git, or files written before this field). With `command` it says how to train
    /// the same weights again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_tree: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsMetadata {
    pub schema: String,
    pub commander_features: Vec<String>,
    pub soldier_features: Vec<String>,
    pub commander_actor_sizes: Vec<usize>,
    pub commander_critic_sizes: Vec<usize>,
    pub soldier_actor_sizes: Vec<usize>,
    pub soldier_critic_sizes: Vec<usize>,
    pub training: AgentsTraining,
    /// Held-out evaluation (`hirl-scale eval`), when measured.
    #[serde(default)]
    pub eval: Option<serde_json::Value>,
    /// What capacity held ahead buys and costs against HPA (`hirl-scale eval frontier --record-in-model`): the
    /// command, seeds, scenarios, HPA's totals and one row per setting. The window's "About the agents" draws it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontier: Option<serde_json::Value>,
    /// The digest of the weights file written with this metadata ([`PairedMetadata`]): in the file only, never in
    /// loaded metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_digest: Option<String>,
}

impl PairedMetadata for AgentsMetadata {
    const SCHEMA: &'static str = SCHEMA;
    fn weights_digest_mut(&mut self) -> &mut Option<String> {
        &mut self.weights_digest
    }
}

/// The loaded agents.
#[derive(Clone, Debug, PartialEq)]
pub struct HirlNets {
    pub commander: LevelNets,
    pub soldier: LevelNets,
    pub meta: AgentsMetadata,
}

fn reward_weights(meta: &AgentsMetadata) -> Result<RewardWeights, String> {
    let Some(value) = meta.training.config.get("reward") else { return Ok(RewardWeights::default()) };
    let w: RewardWeights = serde_json::from_value(value.clone()).map_err(|e| format!("training.config.reward: {e}"))?;
    let json = serde_json::to_value(&w).map_err(|e| format!("training.config.reward: {e}"))?;
    for (name, v) in json.as_object().into_iter().flatten() {
        if !v.as_f64().is_some_and(|v| v.is_finite() && v >= 0.0) {
            return Err(format!("training.config.reward.{name}: {v} is not a weight (a finite number ≥ 0)"));
        }
    }
    Ok(w)
}

fn check_sizes(name: &str, sizes: &[usize], input: usize, output: usize) -> Result<(), String> {
    if sizes.len() < 2
        || sizes[0] != input
        || sizes[sizes.len() - 1] != output
        || sizes.iter().any(|&s| s == 0 || s > 4096)
    {
        return Err(format!(
            "{name} {sizes:?}: must start with {input} inputs and end with {output} outputs, each layer 1–4096 wide"
        ));
    }
    Ok(())
}

fn names_differ(found: &[String], expected: &[String]) -> Option<String> {
    (found != expected).then(|| {
        found.iter().zip(expected).position(|(a, b)| a != b).map_or_else(
            || format!("{} names where this build has {}", found.len(), expected.len()),
            |i| format!("first difference at index {i}: `{}` where this build has `{}`", found[i], expected[i]),
        )
    })
}

impl HirlNets {
    /// Digest of everything that shapes a decision (weights, spreads, standardisation), not of how the file was
    /// written: recordings name the agents they were made with by it.
    pub fn digest(&self) -> String {
        let mut d = crate::digest::Digest::new();
        d.bytes(SCHEMA.as_bytes());
        self.commander.digest_into(&mut d);
        self.soldier.digest_into(&mut d);
        d.hex()
    }

    /// Takes `earlier`'s held-out evaluation and frontier when these networks decide exactly as `earlier`'s (same
    /// [`HirlNets::digest`]): those figures measured these very decisions. Returns whether it did; networks that
    /// differ keep their own (none, fresh from training).
    pub fn inherit_evaluation(&mut self, earlier: HirlNets) -> bool {
        if self.digest() != earlier.digest() {
            return false;
        }
        self.meta.eval = earlier.meta.eval;
        self.meta.frontier = earlier.meta.frontier;
        true
    }

    pub fn commander(&self, obs: &[f32], with_value: bool, out: &mut ActionDist) {
        self.commander.act(obs, with_value, out);
    }

    pub fn soldier(&self, obs: &[f32], with_value: bool, out: &mut ActionDist) {
        self.soldier.act(obs, with_value, out);
    }

    /// The reward weights these networks were trained under (`training.config.reward`; files written before the
    /// weights were configurable were trained under the defaults). Checked by [`HirlNets::load`].
    pub fn reward_weights(&self) -> RewardWeights {
        reward_weights(&self.meta).unwrap_or_default()
    }

    /// Loads `weights` and its metadata file, checking schema, names, shapes and values.
    pub fn load(weights: &Path) -> Result<HirlNets, ModelError> {
        Self::from_pair(weights, load_pair(weights)?)
    }

    /// [`HirlNets::load`], with the digest of the bytes of both files as loaded
    /// ([`crate::agents::model_file::pair_bytes_digest`] of the pair then), to tell later whether either changed.
    pub(crate) fn load_with_bytes_digest(weights: &Path) -> Result<(HirlNets, String), ModelError> {
        let pair = load_pair(weights)?;
        let digest = pair.bytes_digest();
        Ok((Self::from_pair(weights, pair)?, digest))
    }

    fn from_pair(weights: &Path, pair: LoadedPair<AgentsMetadata>) -> Result<HirlNets, ModelError> {
        let (meta_path, meta, bytes) = (pair.meta_path, pair.meta, pair.weights_bytes);
        let bad = |message: String| ModelError::Metadata { path: meta_path.clone(), message };
        if let Some(m) = names_differ(&meta.commander_features, &commander_names()) {
            return Err(bad(format!("commander_features: {m}")));
        }
        if let Some(m) = names_differ(&meta.soldier_features, &soldier_names()) {
            return Err(bad(format!("soldier_features: {m}")));
        }
        check_sizes("commander_actor_sizes", &meta.commander_actor_sizes, COMMANDER_OBS, COMMANDER_ACT).map_err(bad)?;
        check_sizes("commander_critic_sizes", &meta.commander_critic_sizes, COMMANDER_OBS, 1).map_err(bad)?;
        check_sizes("soldier_actor_sizes", &meta.soldier_actor_sizes, SOLDIER_OBS, SOLDIER_ACT).map_err(bad)?;
        check_sizes("soldier_critic_sizes", &meta.soldier_critic_sizes, SOLDIER_OBS, 1).map_err(bad)?;
        reward_weights(&meta).map_err(bad)?;

        let tensors: BTreeMap<String, Tensor> = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
            .map_err(|e| ModelError::Tensors { path: weights.to_path_buf(), message: e.to_string() })?
            .into_iter()
            .collect();
        let shape = |error| ModelError::Shape { path: weights.to_path_buf(), error };
        let level = |prefix: &str, obs: usize, act: usize, actor: &[usize], critic: &[usize]| {
            let norm_std = read(&tensors, &format!("{prefix}.norm.std"), &[obs]).map_err(shape)?;
            if let Some(i) = norm_std.iter().position(|&s| s <= 0.0) {
                return Err(shape(ShapeError::Read {
                    name: format!("{prefix}.norm.std"),
                    message: format!("entry {i} is not positive"),
                }));
            }
            let clip_name = format!("{prefix}.norm.clip");
            // Optional: files written before the clip have none and run unclipped.
            let obs_clip_sigmas = if tensors.contains_key(&clip_name) {
                let c = read(&tensors, &clip_name, &[1]).map_err(shape)?[0];
                if c <= 0.0 {
                    let message = format!("{c} is not positive");
                    return Err(shape(ShapeError::Read { name: clip_name, message }));
                }
                Some(c)
            } else {
                None
            };
            let scale_name = format!("{prefix}.value_scale");
            let value_scale = read(&tensors, &scale_name, &[1]).map_err(shape)?[0];
            // The critic's targets are divided by it in training and its output multiplied by it in a run: zero or
            // a negative scale would fail later, naming another tensor, or flip every value.
            if value_scale <= 0.0 {
                let message = format!("{value_scale} is not a return scale (a number above 0)");
                return Err(shape(ShapeError::Read { name: scale_name, message }));
            }
            Ok(LevelNets {
                obs_clip_sigmas,
                actor: Mlp::from_tensors(&tensors, &format!("{prefix}.actor"), actor).map_err(shape)?,
                critic: Mlp::from_tensors(&tensors, &format!("{prefix}.critic"), critic).map_err(shape)?,
                log_std: read(&tensors, &format!("{prefix}.log_std"), &[act]).map_err(shape)?,
                norm_mean: read(&tensors, &format!("{prefix}.norm.mean"), &[obs]).map_err(shape)?,
                norm_std,
                value_scale,
            })
        };
        let commander = level(
            "commander",
            COMMANDER_OBS,
            COMMANDER_ACT,
            &meta.commander_actor_sizes,
            &meta.commander_critic_sizes,
        )?;
        let soldier =
            level("soldier", SOLDIER_OBS, SOLDIER_ACT, &meta.soldier_actor_sizes, &meta.soldier_critic_sizes)?;
        let mut expected = Vec::new();
        for (prefix, actor, critic, clipped) in [
            ("commander", &meta.commander_actor_sizes, &meta.commander_critic_sizes, commander.obs_clip_sigmas),
            ("soldier", &meta.soldier_actor_sizes, &meta.soldier_critic_sizes, soldier.obs_clip_sigmas),
        ] {
            expected.extend(Mlp::tensor_names(&format!("{prefix}.actor"), actor));
            expected.extend(Mlp::tensor_names(&format!("{prefix}.critic"), critic));
            expected.extend(["log_std", "norm.mean", "norm.std", "value_scale"].map(|n| format!("{prefix}.{n}")));
            if clipped.is_some() {
                expected.push(format!("{prefix}.norm.clip"));
            }
        }
        refuse_unexpected(&tensors, expected.iter().map(String::as_str)).map_err(shape)?;
        Ok(HirlNets { commander, soldier, meta })
    }

    /// Writes the weights and the metadata file as a pair: both in full to temporaries, then renamed (a failed write
    /// leaves the old pair as it was).
    pub fn save(&self, weights: &Path) -> Result<(), ModelError> {
        let write_err = |path: &Path, message: String| ModelError::Write { path: path.to_path_buf(), message };
        let dev = &Device::Cpu;
        let mut map: std::collections::HashMap<String, Tensor> = std::collections::HashMap::new();
        let mut put = |name: String, values: &[f32], shape: &[usize]| -> Result<(), ModelError> {
            let t = Tensor::from_vec(values.to_vec(), shape, dev).map_err(|e| write_err(weights, e.to_string()))?;
            map.insert(name, t);
            Ok(())
        };
        for (prefix, l) in [("commander", &self.commander), ("soldier", &self.soldier)] {
            for (part, mlp) in [("actor", &l.actor), ("critic", &l.critic)] {
                for (i, layer) in mlp.layers.iter().enumerate() {
                    put(format!("{prefix}.{part}.l{i}.weight"), &layer.weight, &[layer.out_dim, layer.in_dim])?;
                    put(format!("{prefix}.{part}.l{i}.bias"), &layer.bias, &[layer.out_dim])?;
                }
            }
            put(format!("{prefix}.log_std"), &l.log_std, &[l.log_std.len()])?;
            put(format!("{prefix}.norm.mean"), &l.norm_mean, &[l.norm_mean.len()])?;
            put(format!("{prefix}.norm.std"), &l.norm_std, &[l.norm_std.len()])?;
            put(format!("{prefix}.value_scale"), &[l.value_scale], &[1])?;
            if let Some(c) = l.obs_clip_sigmas {
                put(format!("{prefix}.norm.clip"), &[c], &[1])?;
            }
        }
        save_pair(weights, &map, &self.meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::hirl::Brain;

    fn shipped() -> HirlNets {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_AGENTS_PATH);
        HirlNets::load(&path).expect("the shipped agents load")
    }

    #[test]
    fn saving_the_shipped_agents_writes_the_shipped_files_byte_for_byte() {
        // The metadata's training command reproduces models/hirl.* byte for byte (README, Reproducing); that holds
        // only while saving what was loaded gives back the same bytes, whichever serialiser writes them.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_AGENTS_PATH);
        let dir = crate::test_dirs::temp_dir("nets-bytes");
        let path = dir.join("hirl.safetensors");
        shipped().save(&path).expect("saves");
        let read = |p: &Path| std::fs::read(p).expect("readable");
        assert!(read(&path) == read(&root), "the weights");
        let meta = |p: &Path| read(&crate::agents::model_file::metadata_path(p));
        assert!(meta(&path) == meta(&root), "the metadata");
    }

    #[test]
    fn a_retrain_to_the_same_networks_keeps_their_evaluation_and_no_other_does() {
        let earlier = shipped();
        assert!(earlier.meta.eval.is_some() && earlier.meta.frontier.is_some(), "the shipped file is evaluated");
        let fresh = |nets: &HirlNets| {
            let mut n = nets.clone();
            n.meta.eval = None;
            n.meta.frontier = None;
            n.meta.training.wall_secs += 1.0;
            n
        };
        let mut same = fresh(&earlier);
        assert!(same.inherit_evaluation(earlier.clone()), "how the file was written does not matter");
        assert_eq!((&same.meta.eval, &same.meta.frontier), (&earlier.meta.eval, &earlier.meta.frontier));
        let mut other = fresh(&earlier);
        other.soldier.log_std[0] += 1e-3;
        assert!(!other.inherit_evaluation(earlier), "one spread differs: the figures are not its own");
        assert!(other.meta.eval.is_none() && other.meta.frontier.is_none());
    }

    #[test]
    fn standardise_clips_only_when_the_model_says_so() {
        assert_eq!(standardise(1000.0, 0.0, 1.0, None), 1000.0);
        assert_eq!(standardise(1000.0, 0.0, 1.0, Some(5.0)), 5.0);
        assert_eq!(standardise(-1000.0, 0.0, 1.0, Some(5.0)), -5.0);
        assert_eq!(standardise(3.0, 1.0, 2.0, Some(5.0)), 1.0);
    }

    #[test]
    fn the_clip_travels_with_the_file_and_files_without_it_run_unclipped() {
        let mut nets = shipped();
        // The shipped agents were trained with the clip, and their file says so.
        assert_eq!(nets.commander.obs_clip_sigmas, Some(OBS_CLIP_SIGMAS));
        assert_eq!(nets.soldier.obs_clip_sigmas, Some(OBS_CLIP_SIGMAS));

        let dir = std::env::temp_dir().join(format!("hirl-nets-clip-{}", std::process::id()));
        let path = dir.join("agents.safetensors");
        nets.save(&path).expect("saves");
        assert_eq!(HirlNets::load(&path).expect("reloads"), nets);
        // A file written before the clip (none stored) runs unclipped, exactly as it was trained.
        nets.commander.obs_clip_sigmas = None;
        nets.soldier.obs_clip_sigmas = None;
        nets.save(&path).expect("saves");
        let unclipped = HirlNets::load(&path).expect("reloads");
        assert_eq!((unclipped.commander.obs_clip_sigmas, unclipped.soldier.obs_clip_sigmas), (None, None));

        nets.soldier.obs_clip_sigmas = Some(0.0);
        nets.save(&path).expect("saves");
        let err = HirlNets::load(&path).expect_err("a zero clip is refused").to_string();
        assert!(err.contains("soldier.norm.clip") && err.contains("agents.safetensors"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_clipped_network_ignores_how_far_past_the_clip_an_input_is() {
        let mut nets = shipped();
        nets.commander.obs_clip_sigmas = Some(OBS_CLIP_SIGMAS);
        // Push every input to 10σ and to 1,000σ above its training mean: clipped, both are 5σ.
        let c = &nets.commander;
        let at = |k: f32| -> Vec<f32> { c.norm_mean.iter().zip(&c.norm_std).map(|(m, s)| m + k * s).collect() };
        let (far, very_far) = (at(10.0), at(1000.0));
        let (mut a, mut b) = (ActionDist::default(), ActionDist::default());
        c.act(&far, false, &mut a);
        c.act(&very_far, false, &mut b);
        assert_eq!(a.mean, b.mean);
        nets.commander.obs_clip_sigmas = None;
        nets.commander.act(&very_far, false, &mut b);
        assert_ne!(a.mean, b.mean);
    }

    #[test]
    fn the_reward_weights_travel_with_the_file_and_bad_ones_are_refused() {
        let mut nets = shipped();
        // Trained before the weights were configurable: judged by the defaults it was trained under.
        assert_eq!(nets.reward_weights(), RewardWeights::default());

        let dir = std::env::temp_dir().join(format!("hirl-nets-reward-{}", std::process::id()));
        let path = dir.join("agents.safetensors");
        let heavier = RewardWeights { cost: 0.1, ..RewardWeights::default() };
        nets.meta.training.config["reward"] = serde_json::to_value(&heavier).expect("serialises");
        nets.save(&path).expect("saves");
        assert_eq!(HirlNets::load(&path).expect("reloads").reward_weights(), heavier);
        assert_eq!(Brain::Learned(std::sync::Arc::new(nets.clone())).reward_weights(), heavier);

        nets.meta.training.config["reward"]["cost"] = serde_json::json!(-0.1);
        nets.save(&path).expect("saves");
        let err = HirlNets::load(&path).expect_err("a negative weight is refused").to_string();
        assert!(err.contains("training.config.reward.cost") && err.contains("agents.json"), "{err}");
        nets.meta.training.config["reward"]["cost"] = serde_json::json!("heavy");
        nets.save(&path).expect("saves");
        let err = HirlNets::load(&path).expect_err("a weight that is not a number is refused").to_string();
        assert!(err.contains("training.config.reward"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A scratch copy of the shipped agents, rewritten through candle with `edit` applied to its tensors (in a
    /// directory removed when the first value is dropped).
    fn edited_copy(
        name: &str,
        edit: impl FnOnce(&mut std::collections::HashMap<String, Tensor>),
    ) -> (crate::test_dirs::TempDir, std::path::PathBuf) {
        let dir = crate::test_dirs::temp_dir(&format!("nets-{name}"));
        let path = dir.join("agents.safetensors");
        shipped().save(&path).expect("saves");
        let mut tensors = candle_core::safetensors::load(&path, &Device::Cpu).expect("loads");
        edit(&mut tensors);
        candle_core::safetensors::save(&tensors, &path).expect("writes");
        crate::agents::model_file::rebind_for_test(&path);
        (dir, path)
    }

    fn scalar(v: f32) -> Tensor {
        Tensor::from_vec(vec![v], 1, &Device::Cpu).expect("tensor")
    }

    #[test]
    fn a_return_scale_of_zero_or_below_is_refused_by_name() {
        for bad in [0.0, -1.0] {
            let (_dir, path) = edited_copy("value-scale", |t| {
                t.insert("soldier.value_scale".into(), scalar(bad));
            });
            let err = HirlNets::load(&path).expect_err("refused").to_string();
            assert!(err.contains("agents.safetensors") && err.contains("`soldier.value_scale`"), "{bad}: {err}");
        }
    }

    #[test]
    fn tensors_beyond_what_the_metadata_describes_are_refused_by_name() {
        let (_dir, path) = edited_copy("extra", |t| {
            let l2 = t.get("commander.actor.l2.weight").expect("shipped layer").clone();
            t.insert("commander.actor.l3.weight".into(), l2);
            t.insert("junk".into(), scalar(1.0));
        });
        let err = HirlNets::load(&path).expect_err("refused").to_string();
        assert!(err.contains("tensors `commander.actor.l3.weight`, `junk` are not part of"), "{err}");
        // An integer tensor where a float one belongs is named with its type.
        let (_dir, path) = edited_copy("ints", |t| {
            t.insert("commander.value_scale".into(), Tensor::from_vec(vec![3u32], 1, &Device::Cpu).expect("tensor"));
        });
        let err = HirlNets::load(&path).expect_err("refused").to_string();
        assert!(err.contains("`commander.value_scale` holds U32"), "{err}");
    }

    #[test]
    fn the_forecasters_metadata_is_named_by_its_schema_and_unknown_fields_are_refused() {
        let (_dir, path) = edited_copy("schema", |_| {});
        let forecaster = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/forecaster.json");
        std::fs::copy(forecaster, path.with_extension("json")).expect("copy");
        let err = HirlNets::load(&path).expect_err("refused").to_string();
        assert!(err.contains("schema `hirl-scale-forecaster/1`, but this build reads `hirl-scale-agents/1`"), "{err}");

        let mut meta = serde_json::to_value(&shipped().meta).expect("json");
        meta["training"]["notes"] = serde_json::json!("hand-added");
        std::fs::write(path.with_extension("json"), meta.to_string()).expect("write");
        let err = HirlNets::load(&path).expect_err("refused").to_string();
        assert!(err.contains("agents.json") && err.contains("unknown field `notes`"), "{err}");
    }
}
