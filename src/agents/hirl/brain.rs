//! What turns an observation into an action distribution: the trained networks, or the teacher rule they were
//! warm-started from (DESIGN §6, "warm-start both levels by imitating the tuned heuristic").
//!
//! Both levels use a diagonal Gaussian over a pre-activation action vector (the executor decodes it: softmax shares,
//! sigmoid urgency, …). A [`Brain`] gives the mean, the log standard deviation and, for the networks, the value
//! estimate. Sampling is the caller's, from its own seeded RNG (candle's CPU RNG cannot be seeded).

use std::sync::Arc;

use super::features::{COMMANDER_ACT, DOMAIN_FEATURES, N_DOMAIN_FEATURES, N_DOMAINS, N_GROUPS, SOLDIER_ACT, TOP_APPS};
use super::nets::HirlNets;
use super::reward::RewardWeights;

/// A distribution over one level's pre-activation action.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActionDist {
    pub mean: Vec<f32>,
    pub log_std: Vec<f32>,
    /// The critic's estimate of the discounted return from here (networks only).
    pub value: Option<f32>,
}

/// The decision makers.
#[derive(Clone, Debug)]
pub enum Brain {
    /// The hand-written rule the networks imitate first (and the reference the README compares against).
    Teacher,
    Learned(Arc<HirlNets>),
}

/// Log std of the teacher's (nominal) distribution: only used when exploring around it.
const TEACHER_LOG_STD: f32 = -1.6;

fn feature(name: &str) -> usize {
    DOMAIN_FEATURES.iter().position(|f| *f == name).unwrap_or(0)
}

impl Brain {
    pub fn name(&self) -> &'static str {
        match self {
            Brain::Teacher => "teacher rule",
            Brain::Learned(_) => "learned networks",
        }
    }

    /// The reward weights this brain's decisions are judged by: the networks' training weights, the defaults for
    /// the teacher rule.
    pub fn reward_weights(&self) -> RewardWeights {
        match self {
            Brain::Teacher => RewardWeights::default(),
            Brain::Learned(n) => n.reward_weights(),
        }
    }

    /// The Commander's action distribution; `with_value` also runs the critic (networks only).
    pub fn commander(&self, obs: &[f32], with_value: bool, out: &mut ActionDist) {
        match self {
            Brain::Teacher => {
                out.mean.clear();
                out.mean.extend_from_slice(&teacher_commander(obs));
                out.log_std.clear();
                out.log_std.resize(COMMANDER_ACT, TEACHER_LOG_STD);
                out.value = None;
            }
            Brain::Learned(n) => n.commander(obs, with_value, out),
        }
    }

    /// A Soldier's action distribution; `with_value` also runs the critic (networks only).
    pub fn soldier(&self, obs: &[f32], with_value: bool, out: &mut ActionDist) {
        match self {
            Brain::Teacher => {
                out.mean.clear();
                out.mean.extend_from_slice(&teacher_soldier(obs));
                out.log_std.clear();
                out.log_std.resize(SOLDIER_ACT, TEACHER_LOG_STD);
                out.value = None;
            }
            Brain::Learned(n) => n.soldier(obs, with_value, out),
        }
    }
}

/// Capacity a domain is expected to hold at the forecast horizon, as a fraction of the cluster: what it holds now,
/// scaled up (never down) by how busy it is against a 70% target, times the forecast growth. `fc_ln` is
/// ln(p80 / now). Never below what it holds: a budget under the current allocation freezes the domain's scale-ups
/// (measured: apps resting at `minReplicas` run cold, and a utilisation-scaled budget then sat below what they held).
fn expected_share(block: &[f32], fc_ln: f32) -> f32 {
    let alloc = block[feature("alloc_cpu_share_of_cluster")];
    let cpu = block[feature("cpu_util")];
    alloc * (cpu / 0.7).max(1.0) * fc_ln.clamp(0.0, 1.2).exp()
}

/// Room the teacher Commander gives each domain over its expected need. Generous on purpose: the Soldiers'
/// projection caps them at 110% of budget, and a budget that is a few percent short throttles a surge (measured: a
/// learned Commander that imitated 30% room to within 0.1 in logit breached where the teacher did not).
const BUDGET_ROOM: f32 = 1.6;

/// The teacher Commander: shares in proportion to each domain's expected need 15 minutes out with 60% room, the
/// rest as reserve; urgency from the forecast growth and current SLO pressure; headroom from the 30-minute growth.
pub fn teacher_commander(obs: &[f32]) -> [f32; COMMANDER_ACT] {
    let mut a = [0.0f32; COMMANDER_ACT];
    let mut total = 0.0;
    let mut shares = [0.0f32; N_DOMAINS];
    for (d, share) in shares.iter_mut().enumerate() {
        let block = &obs[d * N_DOMAIN_FEATURES..(d + 1) * N_DOMAIN_FEATURES];
        *share = (expected_share(block, block[feature("forecast_p80_15m_ln_ratio")]) * BUDGET_ROOM).max(1e-3);
        total += *share;
    }
    let reserve = (1.0 - total).max(0.03);
    for d in 0..N_DOMAINS {
        a[d] = shares[d].ln();
    }
    a[N_DOMAINS] = reserve.ln();
    for d in 0..N_DOMAINS {
        let block = &obs[d * N_DOMAIN_FEATURES..(d + 1) * N_DOMAIN_FEATURES];
        let growth = block[feature("forecast_p80_30m_ln_ratio")].max(block[feature("forecast_p80_15m_ln_ratio")]);
        let pressure = (block[feature("p99_over_slo")] - 0.8).max(0.0) + block[feature("pending_pods_frac")];
        let urgency = (growth * 4.0 + pressure * 2.0).clamp(0.02, 0.98);
        a[N_DOMAINS + 1 + d] = (urgency / (1.0 - urgency)).ln();
        let headroom = (growth.max(0.0) * 0.5).clamp(0.02, 0.48) / 0.5;
        a[N_DOMAINS + 1 + N_DOMAINS + d] = (headroom / (1.0 - headroom)).ln();
    }
    a
}

/// Forecast growth (ln) the teacher Soldier ignores: the p80 sits a few percent above the median even in flat
/// traffic, and sizing to it all day costs more than it saves.
const LEVEL_DEAD_BAND: f32 = 0.08;

/// The teacher Soldier: scale the whole domain to the forecast p80 (15 minutes out, 30 when the Commander says it is
/// urgent), never below current need; groups and individual apps left at their proportional share.
pub fn teacher_soldier(obs: &[f32]) -> [f32; SOLDIER_ACT] {
    let mut a = [0.0f32; SOLDIER_ACT];
    let urgency = obs[N_DOMAIN_FEATURES + N_DOMAINS + 2];
    let fc15 = obs[feature("forecast_p80_15m_ln_ratio")];
    let fc30 = obs[feature("forecast_p80_30m_ln_ratio")];
    let growth = if urgency > 0.5 { fc15.max(fc30) } else { fc15 };
    a[N_GROUPS + TOP_APPS] = (growth - LEVEL_DEAD_BAND).clamp(-0.1, 1.1);
    a
}

#[cfg(test)]
mod tests {
    use super::super::features::{COMMANDER_OBS, SOLDIER_OBS};
    use super::*;

    #[test]
    fn the_teacher_scales_ahead_of_forecast_growth_only() {
        let mut obs = vec![0.0f32; SOLDIER_OBS];
        assert!(teacher_soldier(&obs)[SOLDIER_ACT - 1] < 0.0);
        obs[feature("forecast_p80_15m_ln_ratio")] = 0.5;
        assert!((teacher_soldier(&obs)[SOLDIER_ACT - 1] - (0.5 - LEVEL_DEAD_BAND)).abs() < 1e-6);
        obs[feature("forecast_p80_15m_ln_ratio")] = -0.5;
        assert!(teacher_soldier(&obs)[SOLDIER_ACT - 1] < 0.0);
        let c = teacher_commander(&vec![0.1; COMMANDER_OBS]);
        assert!(c.iter().all(|v| v.is_finite()));
    }
}
