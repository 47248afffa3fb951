//! The Commander's budget action made safe to execute (DESIGN §6): a 6-way softmax over the five domains and the
//! reserve pool becomes shares that
//! - sum to 1 (to within 1e-12: the last free share is `1 − Σ others`),
//! - give every domain at least its floor (default 5%; the reserve has none),
//! - keep a share unchanged when it moved less than the dead zone (default 2% relative) from the previous
//!   directive, so the cluster is not re-planned for noise.
//!
//! Layout: `shares[0..n_domains]` are the domains in scenario order, `shares[n_domains]` the reserve.

/// Floors and dead zone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DirectiveConfig {
    /// Minimum share of every domain. Default: 0.05.
    pub floor_share: f64,
    /// A share that changed by less than this fraction of its previous value keeps the previous value. Default: 0.02.
    pub dead_zone_rel: f64,
}

impl Default for DirectiveConfig {
    fn default() -> Self {
        Self { floor_share: 0.05, dead_zone_rel: 0.02 }
    }
}

/// Numerically stable softmax (f64 out). Non-finite logits are the caller's to refuse (the safety layer does).
pub fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = logits.iter().map(|&l| f64::from(l - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / total).collect()
}

/// Lifts every domain to the floor: domain `i` gets `floor + (1 − n·floor)·p_i`, the reserve `(1 − n·floor)·p_r`.
/// `p` sums to 1; so does the result. A floor too large for the domain count is reduced to `1 / n_domains`.
pub fn with_floors(p: &[f64], n_domains: usize, floor: f64) -> Vec<f64> {
    let floor = floor.clamp(0.0, 1.0 / n_domains.max(1) as f64);
    let free = 1.0 - n_domains as f64 * floor;
    p.iter().enumerate().map(|(i, &x)| if i < n_domains { floor + free * x } else { free * x }).collect()
}

/// Applies the dead zone against `previous` and restores the sum and the floors.
pub fn apply_dead_zone(new: &[f64], previous: &[f64], n_domains: usize, cfg: &DirectiveConfig) -> Vec<f64> {
    let floor = cfg.floor_share.clamp(0.0, 1.0 / n_domains.max(1) as f64);
    let snapped: Vec<bool> =
        new.iter().zip(previous).map(|(&n, &p)| (n - p).abs() < cfg.dead_zone_rel * p.abs()).collect();
    if snapped.iter().all(|&s| s) {
        return previous.to_vec();
    }
    let mut out: Vec<f64> =
        new.iter().zip(previous).zip(&snapped).map(|((&n, &p), &s)| if s { p } else { n }).collect();
    // The free shares absorb what the snapped ones kept, in proportion; a domain pushed under its floor is pinned
    // there and the rest re-absorb (at most one pass per share).
    let floor_of = |i: usize| if i < n_domains { floor } else { 0.0 };
    let mut pinned = snapped.clone();
    for _ in 0..out.len() {
        let fixed: f64 = out.iter().zip(&pinned).filter(|(_, p)| **p).map(|(v, _)| v).sum();
        let free_total: f64 = out.iter().zip(&pinned).filter(|(_, p)| !**p).map(|(v, _)| v).sum();
        let target = 1.0 - fixed;
        if free_total <= 0.0 {
            break;
        }
        let k = target / free_total;
        let mut changed = false;
        for i in 0..out.len() {
            if !pinned[i] {
                out[i] *= k;
                if out[i] < floor_of(i) {
                    out[i] = floor_of(i);
                    pinned[i] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // Exact total: the largest free share takes the rounding.
    if let Some(last) = (0..out.len()).filter(|&i| !pinned[i]).max_by(|&a, &b| out[a].total_cmp(&out[b])) {
        let others: f64 = out.iter().enumerate().filter(|(i, _)| *i != last).map(|(_, v)| v).sum();
        out[last] = 1.0 - others;
    }
    out
}

/// Logits → executable shares: softmax, floors, then the dead zone against the previous directive (if any).
pub fn shares(logits: &[f32], previous: Option<&[f64]>, n_domains: usize, cfg: &DirectiveConfig) -> Vec<f64> {
    let floored = with_floors(&softmax(logits), n_domains, cfg.floor_share);
    match previous {
        Some(prev) if prev.len() == floored.len() => apply_dead_zone(&floored, prev, n_domains, cfg),
        _ => floored,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn check(s: &[f64], n_domains: usize, floor: f64) -> Result<(), TestCaseError> {
        let total: f64 = s.iter().sum();
        prop_assert!((total - 1.0).abs() < 1e-12, "sum {total}: {s:?}");
        for (i, &v) in s.iter().enumerate() {
            prop_assert!(v.is_finite() && v >= -1e-15, "share {i} = {v}");
            if i < n_domains {
                prop_assert!(v >= floor - 1e-12, "domain {i} under its floor: {v}");
            }
        }
        Ok(())
    }

    #[test]
    fn small_moves_snap_back_large_ones_go_through() {
        let cfg = DirectiveConfig::default();
        let prev = vec![0.3, 0.2, 0.2, 0.1, 0.1, 0.1];
        let nudged = vec![0.301, 0.199, 0.2, 0.1, 0.1, 0.1];
        assert_eq!(apply_dead_zone(&nudged, &prev, 5, &cfg), prev);
        let moved = vec![0.37, 0.13, 0.2, 0.1, 0.1, 0.1];
        let out = apply_dead_zone(&moved, &prev, 5, &cfg);
        assert!((out[0] - 0.37).abs() < 1e-12 && (out[1] - 0.13).abs() < 1e-12, "{out:?}");
        assert_eq!(&out[2..], &prev[2..]);
    }

    #[test]
    fn floors_hold_even_for_a_one_hot_softmax() {
        let s = shares(&[-50.0, -50.0, -50.0, -50.0, -50.0, 50.0], None, 5, &DirectiveConfig::default());
        for &v in &s[..5] {
            assert!((v - 0.05).abs() < 1e-12);
        }
        assert!((s[5] - 0.75).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn shares_sum_to_one_and_respect_floors(
            logits in prop::collection::vec(-20.0f32..20.0, 6),
            prev_logits in prop::collection::vec(-20.0f32..20.0, 6),
            floor in 0.0f64..0.2,
            dead_zone in 0.0f64..0.2,
        ) {
            let cfg = DirectiveConfig { floor_share: floor, dead_zone_rel: dead_zone };
            let prev = shares(&prev_logits, None, 5, &cfg);
            check(&prev, 5, floor)?;
            let next = shares(&logits, Some(&prev), 5, &cfg);
            check(&next, 5, floor)?;
        }
    }
}
