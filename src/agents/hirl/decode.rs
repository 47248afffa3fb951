//! How a pre-activation action vector becomes the numbers the executor acts on (DESIGN §6). One place for it, so the
//! executor ([`super::policy`]) and the decision inspector's attribution ([`super::attribution`]) decode identically.
//!
//! Layouts: the Commander's action is `[share logits (n domains + reserve), urgency logits (n), headroom logits (n)]`
//! ([`super::features::COMMANDER_ACT`] for the five-domain build); a Soldier's is `[group logits (N_GROUPS), top-app
//! deltas (TOP_APPS), level]` ([`super::features::SOLDIER_ACT`]). Pure functions: same input, same output, bit for
//! bit.

use super::directive;
use super::features::{N_GROUPS, TOP_APPS};

/// Logistic function, in f64 (the executor's precision).
pub fn sigmoid(x: f32) -> f64 {
    1.0 / (1.0 + f64::from(-x).exp())
}

/// The Commander's action before the dead zone.
#[derive(Clone, Debug, PartialEq)]
pub struct CommanderDecoded {
    /// Softmax of the share logits with the domain floors (domains, then the reserve; sum 1).
    pub raw_shares: Vec<f64>,
    /// Per domain, in [0, 1].
    pub urgency: Vec<f64>,
    /// Per domain: extra capacity requested ahead of the forecast, fraction in [0, 0.5].
    pub headroom: Vec<f64>,
}

/// Decodes a Commander action for `n_domains` domains with the given floor share.
pub fn commander(action: &[f32], n_domains: usize, floor_share: f64) -> CommanderDecoded {
    let n = n_domains;
    let logits = &action[..(n + 1).min(action.len())];
    let at = |i: usize| action.get(i).copied().unwrap_or(0.0);
    CommanderDecoded {
        raw_shares: directive::with_floors(&directive::softmax(logits), n, floor_share),
        urgency: (0..n).map(|d| sigmoid(at(n + 1 + d))).collect(),
        headroom: (0..n).map(|d| 0.5 * sigmoid(at(2 * n + 1 + d))).collect(),
    }
}

/// Index of the domain level in a Soldier's action.
pub const LEVEL_INDEX: usize = N_GROUPS + TOP_APPS;

/// The domain level: × the HPA-sized need, from ×e^`min_level_ln` (a guard rail) to ×e^1.2 (a forecast surge).
pub fn level_multiplier(action: &[f32], min_level_ln: f32) -> f64 {
    f64::from(action[LEVEL_INDEX].clamp(min_level_ln, 1.2)).exp()
}

/// Softmax over the tier groups present (absent groups get 0).
pub fn group_softmax(action: &[f32], present: &[bool; N_GROUPS]) -> Vec<f64> {
    let logits: Vec<f32> = (0..N_GROUPS).map(|k| if present[k] { action[k] } else { f32::NEG_INFINITY }).collect();
    directive::softmax(&logits)
}

/// Group factors: the group softmax relative to an even split over the groups present, boost-only (×1–×2).
pub fn group_factors(softmax: &[f64], present: &[bool; N_GROUPS]) -> Vec<f64> {
    let n_present = present.iter().filter(|p| **p).count().max(1) as f64;
    softmax.iter().map(|&x| (x * n_present).clamp(1.0, 2.0)).collect()
}

/// A top app's own factor from its delta, boost-only (×1–×1.65).
pub fn app_factor(action: &[f32], top_rank: usize) -> f64 {
    f64::from(0.5 * action[N_GROUPS + top_rank].clamp(0.0, 1.0)).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commander_shares_sum_to_one_and_squash_into_their_ranges() {
        let mut a = vec![0.0f32; 16];
        a[0] = 3.0;
        a[6] = 50.0;
        a[11] = -50.0;
        let d = commander(&a, 5, 0.05);
        assert!((d.raw_shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(d.raw_shares[0] > d.raw_shares[1]);
        assert!((d.urgency[0] - 1.0).abs() < 1e-9 && (d.urgency[1] - 0.5).abs() < 1e-12);
        assert!(d.headroom[0] < 1e-9 && d.headroom.iter().all(|h| (0.0..=0.5).contains(h)));
    }

    #[test]
    fn soldier_factors_are_boost_only_and_skip_absent_groups() {
        let mut a = vec![0.0f32; N_GROUPS + TOP_APPS + 1];
        a[0] = 2.0;
        a[LEVEL_INDEX] = -5.0;
        let mut present = [false; N_GROUPS];
        present[0] = true;
        present[1] = true;
        let p = group_softmax(&a, &present);
        assert_eq!(p[2], 0.0);
        let f = group_factors(&p, &present);
        assert!(f[0] > 1.0 && f[1] == 1.0, "{f:?}");
        assert!((level_multiplier(&a, -0.1) - (-0.1f64).exp()).abs() < 1e-6);
        a[N_GROUPS] = 9.0;
        assert!((app_factor(&a, 0) - 0.5f64.exp()).abs() < 1e-12);
    }
}
