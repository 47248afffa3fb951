//! One level's networks while training (actor, critic, exploration σ, input standardisation), and how they convert to
//! and from the frozen [`LevelNets`] the policy runs.

use candle_core::{Device, Tensor, Var};

use super::super::nets::{LevelNets, OBS_CLIP_SIGMAS, standardise};
use crate::agents::nn::TrainableMlp;
use crate::sim::rng::SimRng;

/// A level's networks while training.
pub(super) struct TrainLevel {
    pub(super) actor: TrainableMlp,
    pub(super) critic: TrainableMlp,
    pub(super) log_std: Var,
    pub(super) norm_mean: Vec<f32>,
    pub(super) norm_std: Vec<f32>,
    pub(super) obs_clip_sigmas: Option<f32>,
    pub(super) value_scale: f32,
    pub(super) gamma: f64,
    pub(super) kl_coef: f32,
}

impl TrainLevel {
    pub(super) fn new(
        prefix: &str,
        obs: usize,
        act: usize,
        hidden: &[usize],
        rng: &mut SimRng,
        log_std: f32,
    ) -> candle_core::Result<Self> {
        let dims = |out: usize| [&[obs][..], hidden, &[out]].concat();
        Ok(Self {
            actor: TrainableMlp::new(&format!("{prefix}.actor"), &dims(act), rng, 0.1)?,
            critic: TrainableMlp::new(&format!("{prefix}.critic"), &dims(1), rng, 0.1)?,
            log_std: Var::from_tensor(&Tensor::full(log_std, act, &Device::Cpu)?)?,
            norm_mean: vec![0.0; obs],
            norm_std: vec![1.0; obs],
            obs_clip_sigmas: Some(OBS_CLIP_SIGMAS),
            value_scale: 1.0,
            gamma: 0.99,
            kl_coef: 0.02,
        })
    }

    pub(super) fn frozen(&self) -> Result<LevelNets, String> {
        Ok(LevelNets {
            actor: self.actor.to_mlp().map_err(|e| e.to_string())?,
            critic: self.critic.to_mlp().map_err(|e| e.to_string())?,
            log_std: self.log_std.as_tensor().to_vec1().map_err(|e| e.to_string())?,
            norm_mean: self.norm_mean.clone(),
            norm_std: self.norm_std.clone(),
            obs_clip_sigmas: self.obs_clip_sigmas,
            value_scale: self.value_scale,
        })
    }

    pub(super) fn load(&mut self, nets: &LevelNets) -> candle_core::Result<()> {
        let mut map = std::collections::BTreeMap::new();
        for (mlp, trainable) in [(&nets.actor, &self.actor), (&nets.critic, &self.critic)] {
            for (name, _) in trainable.named_tensors() {
                let i: usize =
                    name.rsplit('.').nth(1).and_then(|l| l.trim_start_matches('l').parse().ok()).unwrap_or(0);
                let layer = &mlp.layers[i];
                let t = if name.ends_with("weight") {
                    Tensor::from_vec(layer.weight.clone(), (layer.out_dim, layer.in_dim), &Device::Cpu)?
                } else {
                    Tensor::from_vec(layer.bias.clone(), layer.out_dim, &Device::Cpu)?
                };
                map.insert(name, t);
            }
        }
        self.actor.load(&map).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        self.critic.load(&map).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        self.log_std.set(&Tensor::from_vec(nets.log_std.clone(), nets.log_std.len(), &Device::Cpu)?)?;
        self.norm_mean = nets.norm_mean.clone();
        self.norm_std = nets.norm_std.clone();
        self.obs_clip_sigmas = nets.obs_clip_sigmas;
        self.value_scale = nets.value_scale;
        Ok(())
    }

    pub(super) fn normalise(&self, rows: &[&[f32]]) -> candle_core::Result<Tensor> {
        let d = self.norm_mean.len();
        let mut flat = Vec::with_capacity(rows.len() * d);
        for r in rows {
            let clip = self.obs_clip_sigmas;
            flat.extend(
                r.iter()
                    .zip(self.norm_mean.iter().zip(&self.norm_std))
                    .map(|(x, (m, s))| standardise(*x, *m, *s, clip)),
            );
        }
        Tensor::from_vec(flat, (rows.len(), d), &Device::Cpu)
    }
}
