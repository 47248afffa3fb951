//! Occlusion attribution for one decision (the decision inspector's "moved most by"): which observed numbers moved
//! the action and the critic's value estimate, measured against a typical observation.
//!
//! Contract:
//! - For each feature `i` whose observed value differs from the reference, `obs[i]` alone is replaced by
//!   `reference[i]` and the [`Brain`] is run again (one forward pass per such feature: 147 for the Commander, 191 for
//!   a Soldier at most; a few milliseconds in all).
//! - **Action effect** (≥ 0): the sum of absolute changes of the action *as the executor decodes it* (see
//!   [`super::decode`]), before the dead zone and the projection. Commander: the six shares after softmax and floors
//!   (fractions of the cluster), the five urgencies (0–1) and the five headrooms (0–0.5). Soldier: the level
//!   multiplier (×), the softmax over the tier groups present (fractions) and the factors of the top apps present (×).
//! - **Value contribution** (signed, in return units): the estimate with the feature as observed minus the estimate
//!   with it at the reference. Positive: the feature, as observed, raised the expected return. `None` for the teacher
//!   rule, which has no critic.
//! - Ranking is by |effect|, largest first, ties by feature index; features with zero or non-finite effect are left
//!   out. Deterministic: same brain and inputs, same result, bit for bit.
//!
//! [`Typical`] gives the reference: the per-feature median over a run's decisions of the same stream, with a robust
//! spread (interquartile range) so the inspector can say how unusual each number is.

use std::sync::OnceLock;

use thiserror::Error;

use super::brain::{ActionDist, Brain};
use super::decode;
use super::features::{COMMANDER_ACT, N_DOMAINS, N_GROUPS, SOLDIER_ACT, TOP_APPS, commander_names, soldier_names};
use super::policy::{HirlConfig, Level};
use super::size_floor::SizeFloor;

/// Why an attribution could not be computed.
#[derive(Debug, Error, PartialEq)]
pub enum AttributionError {
    #[error("the observation has {found} numbers where the {level} has {expected} named features")]
    ObservationLength { level: &'static str, found: usize, expected: usize },
    #[error("the reference has {found} numbers where the observation has {expected}")]
    ReferenceLength { found: usize, expected: usize },
    #[error("the brain gave {found} action numbers where the {level} needs {expected}")]
    ActionLength { level: &'static str, found: usize, expected: usize },
}

/// The executor settings the decoding depends on. Default: [`HirlConfig::default`]'s.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoding {
    /// Every domain's minimum share (fraction).
    pub floor_share: f64,
    /// The Soldiers' lowest domain level, per priority or domain.
    pub size_floor: SizeFloor,
    /// The scenario's domain ids, by index: how a Soldier record's domain finds its own floor. Empty: every domain
    /// gets its priority's.
    pub domain_ids: Vec<String>,
}

impl From<&HirlConfig> for Decoding {
    fn from(cfg: &HirlConfig) -> Self {
        Self { floor_share: cfg.directive.floor_share, size_floor: cfg.size_floor.clone(), domain_ids: Vec::new() }
    }
}

impl Default for Decoding {
    fn default() -> Self {
        Self::from(&HirlConfig::default())
    }
}

/// One feature occluded: what it was, what replaced it, and what changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Occlusion {
    pub index: usize,
    pub observed: f32,
    pub reference: f32,
    /// Sum of absolute changes of the decoded action (see the module docs); NaN if the brain's output was not finite.
    pub action_change: f64,
    /// Value as observed minus value at the reference; `None` without a critic.
    pub value_contribution: Option<f64>,
}

/// A ranked feature.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureEffect {
    pub index: usize,
    pub name: String,
    pub observed: f32,
    pub reference: f32,
    /// Action effect (≥ 0) or value contribution (signed), as ranked.
    pub effect: f64,
}

/// A decision's attribution: the top features by action effect and, with a critic, by value contribution.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribution {
    pub action: Vec<FeatureEffect>,
    pub value: Option<Vec<FeatureEffect>>,
    /// Forward passes run (features that differed from the reference, plus one for the observation itself).
    pub forward_passes: usize,
}

/// Which decoded numbers are compared, per level: the mask of groups and top apps present is the observation's (a
/// fact of the cluster, not of the occluded copy).
#[derive(Clone, Debug)]
enum Decoder {
    Commander,
    Soldier { groups: [bool; N_GROUPS], apps: [bool; TOP_APPS], rank: u8, domain: usize },
}

/// The priority rank (0 = P0) of the domain a Soldier observation is of, from its own block's `priority_rank`
/// (encoded rank / 3).
fn soldier_rank(obs: &[f32]) -> u8 {
    static AT: OnceLock<usize> = OnceLock::new();
    let at = *AT.get_or_init(|| soldier_names().iter().position(|n| n == "domain.priority_rank").unwrap_or(usize::MAX));
    obs.get(at).map_or(0, |v| (v * 3.0).round().clamp(0.0, 3.0) as u8)
}

/// Which tier groups and top apps a Soldier observation marks present (its `group{g}.present` and `top{k}.present`
/// flags); none for a shorter vector.
pub fn soldier_present(obs: &[f32]) -> ([bool; N_GROUPS], [bool; TOP_APPS]) {
    // Positions found by name once: the names are the schema, their offsets an implementation detail of `features`.
    static AT: OnceLock<([usize; N_GROUPS], [usize; TOP_APPS])> = OnceLock::new();
    let (groups, apps) = AT.get_or_init(|| {
        let names = soldier_names();
        let at = |name: String| names.iter().position(|n| *n == name).unwrap_or(usize::MAX);
        (
            std::array::from_fn(|g| at(format!("group{g}.present"))),
            std::array::from_fn(|k| at(format!("top{k}.present"))),
        )
    });
    let flag = |i: usize| obs.get(i).is_some_and(|v| *v > 0.5);
    (groups.map(flag), apps.map(flag))
}

impl Decoder {
    fn new(level: Level, obs: &[f32]) -> Self {
        match level {
            Level::Commander => Decoder::Commander,
            Level::Soldier(domain) => {
                let (groups, apps) = soldier_present(obs);
                Decoder::Soldier { groups, apps, rank: soldier_rank(obs), domain }
            }
        }
    }

    fn decode(&self, action: &[f32], decoding: &Decoding, out: &mut Vec<f64>) {
        out.clear();
        match self {
            Decoder::Commander => {
                let d = decode::commander(action, N_DOMAINS, decoding.floor_share);
                out.extend(d.raw_shares);
                out.extend(d.urgency);
                out.extend(d.headroom);
            }
            Decoder::Soldier { groups, apps, rank, domain } => {
                let id = decoding.domain_ids.get(*domain).map_or("", String::as_str);
                out.push(decode::level_multiplier(action, decoding.size_floor.min_level_ln(*rank, id)));
                // Without a group present the softmax is undefined (NaN); a real domain always has one.
                if groups.contains(&true) {
                    out.extend(decode::group_softmax(action, groups));
                }
                out.extend((0..TOP_APPS).map(|k| if apps[k] { decode::app_factor(action, k) } else { 1.0 }));
            }
        }
    }
}

fn l1(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

/// Occludes every feature of `obs` in turn with `reference`, running `eval` (a brain's level) on each copy. The
/// result has one entry per feature, in feature order.
pub fn occlude(
    level: Level,
    obs: &[f32],
    reference: &[f32],
    decoding: &Decoding,
    mut eval: impl FnMut(&[f32], &mut ActionDist),
) -> Result<(Vec<Occlusion>, usize), AttributionError> {
    if reference.len() != obs.len() {
        return Err(AttributionError::ReferenceLength { found: reference.len(), expected: obs.len() });
    }
    let (name, act) = match level {
        Level::Commander => ("Commander", COMMANDER_ACT),
        Level::Soldier(_) => ("Soldier", SOLDIER_ACT),
    };
    let mut dist = ActionDist::default();
    eval(obs, &mut dist);
    if dist.mean.len() < act {
        return Err(AttributionError::ActionLength { level: name, found: dist.mean.len(), expected: act });
    }
    let decoder = Decoder::new(level, obs);
    let mut base = Vec::new();
    decoder.decode(&dist.mean, decoding, &mut base);
    let base_value = dist.value.map(f64::from);
    let mut passes = 1;
    let mut x = obs.to_vec();
    let mut moved = Vec::with_capacity(base.len());
    let out = (0..obs.len())
        .map(|i| {
            let (observed, reference) = (obs[i], reference[i]);
            let zero = Occlusion {
                index: i,
                observed,
                reference,
                action_change: 0.0,
                value_contribution: base_value.map(|_| 0.0),
            };
            // An unchanged input cannot change a deterministic brain's output: no pass needed.
            if observed.to_bits() == reference.to_bits() {
                return zero;
            }
            passes += 1;
            x[i] = reference;
            eval(&x, &mut dist);
            x[i] = observed;
            let action_change = if dist.mean.len() >= act && dist.mean.iter().all(|v| v.is_finite()) {
                decoder.decode(&dist.mean, decoding, &mut moved);
                l1(&base, &moved)
            } else {
                f64::NAN
            };
            let value_contribution = base_value.map(|v| v - dist.value.map_or(f64::NAN, f64::from));
            Occlusion { action_change, value_contribution, ..zero }
        })
        .collect();
    Ok((out, passes))
}

/// The `k` features with the largest |effect|, largest first (ties by index); zero and non-finite effects left out.
pub fn rank(
    occlusions: &[Occlusion],
    names: &[String],
    k: usize,
    effect: impl Fn(&Occlusion) -> Option<f64>,
) -> Vec<FeatureEffect> {
    let mut ranked: Vec<FeatureEffect> = occlusions
        .iter()
        .filter_map(|o| {
            let e = effect(o).filter(|e| e.is_finite() && *e != 0.0)?;
            Some(FeatureEffect {
                index: o.index,
                name: names.get(o.index).cloned().unwrap_or_else(|| format!("feature {}", o.index)),
                observed: o.observed,
                reference: o.reference,
                effect: e,
            })
        })
        .collect();
    ranked.sort_by(|a, b| b.effect.abs().total_cmp(&a.effect.abs()).then(a.index.cmp(&b.index)));
    ranked.truncate(k);
    ranked
}

/// Attribution of one decision made by `brain` at `level` on `obs`, against `reference`, keeping the top `k` of each
/// list.
pub fn attribute(
    level: Level,
    obs: &[f32],
    reference: &[f32],
    brain: &Brain,
    decoding: &Decoding,
    k: usize,
) -> Result<Attribution, AttributionError> {
    let (names, name) = match level {
        Level::Commander => (commander_names(), "Commander"),
        Level::Soldier(_) => (soldier_names(), "Soldier"),
    };
    // The brain indexes the observation by position: a wrong length is refused before it runs.
    if obs.len() != names.len() {
        return Err(AttributionError::ObservationLength { level: name, found: obs.len(), expected: names.len() });
    }
    let (occlusions, forward_passes) = occlude(level, obs, reference, decoding, |x, out| match level {
        Level::Commander => brain.commander(x, true, out),
        Level::Soldier(_) => brain.soldier(x, true, out),
    })?;
    let has_critic = occlusions.first().is_some_and(|o| o.value_contribution.is_some());
    Ok(Attribution {
        action: rank(&occlusions, &names, k, |o| Some(o.action_change)),
        value: has_critic.then(|| rank(&occlusions, &names, k, |o| o.value_contribution)),
        forward_passes,
    })
}

/// Per-feature median and interquartile range over a set of observations of one stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Typical {
    pub median: Vec<f32>,
    /// p75 − p25, per feature (same unit as the feature).
    pub iqr: Vec<f32>,
    /// Observations it was computed from.
    pub count: usize,
}

/// The most observations a [`Typical`] is computed from; longer streams are sampled evenly
/// ([`systematic_sample`]), so its cost does not grow with the run.
pub const MAX_TYPICAL_SAMPLES: usize = 256;

/// `min(n, max)` indices spread evenly over `0..n`, always including the last, in increasing order.
pub fn systematic_sample(n: usize, max: usize) -> Vec<usize> {
    let m = n.min(max);
    if m == 0 {
        return Vec::new();
    }
    // Counted back from the last so the newest decision is always in.
    let mut out: Vec<usize> = (0..m).map(|j| n - 1 - j * n / m).collect();
    out.reverse();
    out
}

/// Linear-interpolation quantile of sorted values.
fn quantile(sorted: &[f32], q: f64) -> f32 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let w = (pos - lo as f64) as f32;
    sorted[lo] + (sorted[hi] - sorted[lo]) * w
}

impl Typical {
    /// From observations of equal length (others are skipped); `None` when there are none.
    pub fn of(observations: &[&[f32]]) -> Option<Typical> {
        let len = observations.first()?.len();
        let rows: Vec<&[f32]> = observations.iter().copied().filter(|o| o.len() == len).collect();
        let mut column = Vec::with_capacity(rows.len());
        let (mut median, mut iqr) = (Vec::with_capacity(len), Vec::with_capacity(len));
        for i in 0..len {
            column.clear();
            column.extend(rows.iter().map(|r| r[i]).filter(|v| v.is_finite()));
            if column.is_empty() {
                median.push(0.0);
                iqr.push(0.0);
                continue;
            }
            column.sort_by(f32::total_cmp);
            median.push(quantile(&column, 0.5));
            iqr.push(quantile(&column, 0.75) - quantile(&column, 0.25));
        }
        Some(Typical { median, iqr, count: rows.len() })
    }

    /// How unusual `value` is for feature `i`: (value − median) / robust σ, where σ = IQR / 1.349 (a normal's), at
    /// least 0.05 × (1 + |median|): features that are nearly constant over the run (a thrash counter that is
    /// usually 0) would otherwise read as hundreds of σ away for an ordinary change.
    pub fn deviation(&self, i: usize, value: f32) -> f64 {
        let (Some(&m), Some(&iqr)) = (self.median.get(i), self.iqr.get(i)) else { return 0.0 };
        let sigma = (f64::from(iqr) / 1.349).max(0.05 * (1.0 + f64::from(m).abs()));
        (f64::from(value) - f64::from(m)) / sigma
    }
}

#[cfg(test)]
mod tests {
    use super::super::features::{COMMANDER_OBS, N_DOMAIN_FEATURES, SOLDIER_OBS};
    use super::*;

    fn commander_obs(seed: f32) -> Vec<f32> {
        (0..COMMANDER_OBS).map(|i| 0.05 + 0.3 * ((i as f32 * 0.37 + seed).sin().abs())).collect()
    }

    fn index(names: &[String], name: &str) -> usize {
        names.iter().position(|n| n == name).expect("known feature")
    }

    #[test]
    fn a_feature_the_teacher_ignores_has_no_effect() {
        let names = commander_names();
        let (obs, reference) = (commander_obs(0.0), commander_obs(1.0));
        let (occ, passes) = occlude(Level::Commander, &obs, &reference, &Decoding::default(), |x, out| {
            Brain::Teacher.commander(x, true, out)
        })
        .expect("shapes match");
        assert_eq!(occ.len(), COMMANDER_OBS);
        assert!(passes > 1);
        // The teacher reads neither the call matrix nor the hour.
        for name in ["calls.d0_to_d1", "calls.d3_to_d2", "cluster.hour_sin"] {
            let o = &occ[index(&names, name)];
            assert_ne!(o.observed, o.reference, "{name} differs, so it was occluded");
            assert_eq!(o.action_change, 0.0, "{name}");
            assert_eq!(o.value_contribution, None, "no critic");
        }
        // It does read each domain's forecast and allocation.
        assert!(occ[index(&names, "d2.forecast_p80_15m_ln_ratio")].action_change > 0.0);
        assert!(occ[index(&names, "d0.alloc_cpu_share_of_cluster")].action_change > 0.0);
        let a = attribute(Level::Commander, &obs, &reference, &Brain::Teacher, &Decoding::default(), 10)
            .expect("attributes");
        assert!(a.value.is_none());
        assert!(a.action.iter().all(|f| !f.name.starts_with("calls.")));
    }

    #[test]
    fn ranking_is_by_magnitude_signed_values_kept_and_deterministic() {
        // A hand-made brain: value = 3·x0 − 5·x1 + x2; the first two share logits read x4 (strongly) and x5.
        let eval = |x: &[f32], out: &mut ActionDist| {
            out.mean = vec![0.0; COMMANDER_ACT];
            out.mean[0] = 4.0 * x[4];
            out.mean[1] = 0.5 * x[5];
            out.log_std = vec![0.0; COMMANDER_ACT];
            out.value = Some(3.0 * x[0] - 5.0 * x[1] + x[2]);
        };
        let obs = vec![1.0f32; COMMANDER_OBS];
        let reference = vec![0.0f32; COMMANDER_OBS];
        let names = commander_names();
        let (occ, passes) = occlude(Level::Commander, &obs, &reference, &Decoding::default(), eval).expect("runs");
        assert_eq!(passes, COMMANDER_OBS + 1);
        let value = rank(&occ, &names, 10, |o| o.value_contribution);
        let order: Vec<(usize, f64)> = value.iter().map(|f| (f.index, f.effect)).collect();
        assert_eq!(order, vec![(1, -5.0), (0, 3.0), (2, 1.0)], "by |effect|, sign kept, zeros left out");
        let action = rank(&occ, &names, 10, |o| Some(o.action_change));
        let order: Vec<usize> = action.iter().map(|f| f.index).collect();
        assert_eq!(order, vec![4, 5]);
        assert_eq!(rank(&occ, &names, 1, |o| Some(o.action_change)).len(), 1, "top k");
        let (again, _) = occlude(Level::Commander, &obs, &reference, &Decoding::default(), eval).expect("runs");
        assert_eq!(occ, again);
    }

    #[test]
    fn a_feature_the_networks_cannot_see_has_no_effect_on_action_or_value() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(super::super::DEFAULT_AGENTS_PATH);
        let mut nets = super::super::HirlNets::load(&path).expect("shipped agents load");
        let names = soldier_names();
        let blind = index(&names, "top0.cpu_util");
        for mlp in [&mut nets.soldier.actor, &mut nets.soldier.critic] {
            let first = &mut mlp.layers[0];
            for o in 0..first.out_dim {
                first.weight[o * first.in_dim + blind] = 0.0;
            }
        }
        let brain = Brain::Learned(std::sync::Arc::new(nets));
        let obs: Vec<f32> = (0..SOLDIER_OBS).map(|i| 0.2 + 0.1 * (i % 7) as f32).collect();
        let mut reference = obs.clone();
        reference.iter_mut().for_each(|v| *v *= 0.5);
        let (occ, _) =
            occlude(Level::Soldier(1), &obs, &reference, &Decoding::default(), |x, out| brain.soldier(x, true, out))
                .expect("runs");
        assert_eq!(occ[blind].action_change, 0.0);
        assert_eq!(occ[blind].value_contribution, Some(0.0));
        let moved = occ.iter().filter(|o| o.action_change > 0.0).count();
        assert!(moved > N_DOMAIN_FEATURES, "the networks read most inputs: {moved}");
        let a = attribute(Level::Soldier(1), &obs, &reference, &brain, &Decoding::default(), 5).expect("runs");
        assert_eq!(a.action.len(), 5);
        assert!(a.value.as_ref().is_some_and(|v| !v.is_empty() && v.iter().all(|f| f.index != blind)));
        let b = attribute(Level::Soldier(1), &obs, &reference, &brain, &Decoding::default(), 5).expect("runs");
        assert_eq!(a, b, "deterministic");
    }

    #[test]
    fn presence_flags_are_read_by_name() {
        let names = soldier_names();
        let mut obs = vec![0.0f32; SOLDIER_OBS];
        assert_eq!(soldier_present(&obs), ([false; N_GROUPS], [false; TOP_APPS]));
        obs[index(&names, "group3.present")] = 1.0;
        obs[index(&names, "top19.present")] = 1.0;
        let (groups, apps) = soldier_present(&obs);
        assert!(groups[3] && groups.iter().filter(|g| **g).count() == 1);
        assert!(apps[19] && apps.iter().filter(|a| **a).count() == 1);
        assert_eq!(soldier_present(&[1.0; 3]), ([false; N_GROUPS], [false; TOP_APPS]), "a short vector has none");
    }

    #[test]
    fn a_soldier_level_is_decoded_at_its_own_priority_s_floor() {
        // A P1 domain (rank 1 encoded as 1/3) under a floor raised for P1 only: a level below it decodes at the floor.
        let names = soldier_names();
        let mut obs = vec![0.0f32; SOLDIER_OBS];
        obs[index(&names, "domain.priority_rank")] = 1.0 / 3.0;
        obs[index(&names, "group0.present")] = 1.0;
        assert_eq!(soldier_rank(&obs), 1);
        let decoding = Decoding { size_floor: SizeFloor::parse("P1=1.1").expect("parses"), ..Decoding::default() };
        let action = vec![-1.0f32; SOLDIER_ACT];
        let mut out = Vec::new();
        Decoder::new(Level::Soldier(1), &obs).decode(&action, &decoding, &mut out);
        assert!((out[0] - 1.1).abs() < 1e-6, "level {}", out[0]);
        obs[index(&names, "domain.priority_rank")] = 0.0;
        Decoder::new(Level::Soldier(0), &obs).decode(&action, &decoding, &mut out);
        assert!((out[0] - (-0.1f64).exp()).abs() < 1e-6, "P0 keeps the shipped floor: {}", out[0]);
    }

    #[test]
    fn a_soldier_level_is_decoded_at_its_own_domain_s_floor_found_by_index() {
        // Two P0 domains, a floor on the second alone: the record of domain 1 decodes at it, domain 0 at the shipped.
        let names = soldier_names();
        let mut obs = vec![0.0f32; SOLDIER_OBS];
        obs[index(&names, "group0.present")] = 1.0;
        let decoding = Decoding {
            size_floor: SizeFloor::parse("fraud=1.2").expect("parses"),
            domain_ids: vec!["payment".into(), "fraud".into()],
            ..Decoding::default()
        };
        let action = vec![-1.0f32; SOLDIER_ACT];
        let mut out = Vec::new();
        Decoder::new(Level::Soldier(1), &obs).decode(&action, &decoding, &mut out);
        assert!((out[0] - 1.2).abs() < 1e-6, "fraud's own floor: {}", out[0]);
        Decoder::new(Level::Soldier(0), &obs).decode(&action, &decoding, &mut out);
        assert!((out[0] - (-0.1f64).exp()).abs() < 1e-6, "payment keeps the shipped floor: {}", out[0]);
    }

    #[test]
    fn wrong_lengths_are_refused() {
        let err = attribute(Level::Commander, &[0.0; 3], &[0.0; 3], &Brain::Teacher, &Decoding::default(), 5);
        assert!(matches!(err, Err(AttributionError::ObservationLength { found: 3, .. })));
        let obs = vec![0.0; COMMANDER_OBS];
        let err = attribute(Level::Commander, &obs, &[0.0; 3], &Brain::Teacher, &Decoding::default(), 5);
        assert_eq!(err, Err(AttributionError::ReferenceLength { found: 3, expected: COMMANDER_OBS }));
    }

    #[test]
    fn typical_is_the_median_with_its_interquartile_range() {
        let rows: Vec<Vec<f32>> = (0..5).map(|i| vec![i as f32, 7.0, if i == 2 { f32::NAN } else { 1.0 }]).collect();
        let refs: Vec<&[f32]> = rows.iter().map(|r| &r[..]).collect();
        let t = Typical::of(&refs).expect("five rows");
        assert_eq!(t.median, vec![2.0, 7.0, 1.0]);
        assert_eq!(t.iqr, vec![2.0, 0.0, 0.0]);
        assert!((t.deviation(0, 4.0) - 1.349).abs() < 1e-9);
        assert!(t.deviation(0, 0.0) < 0.0);
        assert!(t.deviation(1, 9.0) > 4.0, "a constant feature that moves a lot is unusual");
        assert!(t.deviation(1, 7.1) < 1.0, "… and one that moves a little is not hundreds of σ away");
        assert!(Typical::of(&[]).is_none());
        assert_eq!(systematic_sample(3, 10), vec![0, 1, 2]);
        let s = systematic_sample(1000, 10);
        assert_eq!((s.len(), s.last().copied()), (10, Some(999)));
        assert!(s.windows(2).all(|w| w[0] < w[1]) && s[0] < 100);
    }
}
