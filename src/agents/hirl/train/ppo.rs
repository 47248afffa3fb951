//! The arithmetic of PPO: Gaussian log-densities and KL as candle tensors (so they differentiate), GAE over one
//! decision stream, and the input standardisation fitted on behaviour cloning's observations. Pure functions.

use candle_core::{D, Tensor};

/// Log-density of each row of `a` under the diagonal Gaussian with that row's `mean` and the shared `log_std`.
pub(super) fn log_prob(a: &Tensor, mean: &Tensor, log_std: &Tensor) -> candle_core::Result<Tensor> {
    let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    let z = a.sub(mean)?.broadcast_div(&log_std.exp()?)?;
    let per = (z.sqr()? * -0.5)?.broadcast_sub(log_std)?;
    (per - half_ln_2pi)?.sum(D::Minus1)
}

/// KL(old ‖ new) of diagonal Gaussians, averaged over the rows.
pub(super) fn gaussian_kl(
    old_mean: &Tensor,
    old_log_std: &Tensor,
    mean: &Tensor,
    log_std: &Tensor,
) -> candle_core::Result<Tensor> {
    let var_new = (log_std * 2.0)?.exp()?;
    let var_old = (old_log_std * 2.0)?.exp()?;
    log_std
        .sub(old_log_std)?
        .broadcast_add(&old_mean.sub(mean)?.sqr()?.broadcast_add(&var_old)?.broadcast_div(&(var_new * 2.0)?)?)?
        .affine(1.0, -0.5)?
        .sum(D::Minus1)?
        .mean_all()
}

/// What one PPO update did.
pub(super) struct PpoUpdate {
    /// KL(pre-update ‖ updated) over the whole batch.
    pub(super) kl: f64,
    pub(super) value_loss: f64,
    /// Minibatch steps that moved the actor (the rest were stopped by the KL target).
    pub(super) actor_steps: usize,
}

/// Mean and std of each input over the rows (std floored at 1e-2; constant inputs get 1).
pub(super) fn standardisation(rows: &[&[f32]], dim: usize) -> (Vec<f32>, Vec<f32>) {
    let n = rows.len().max(1) as f64;
    let mut mean = vec![0.0f64; dim];
    for r in rows {
        for (m, &x) in mean.iter_mut().zip(r.iter()) {
            *m += f64::from(x) / n;
        }
    }
    let mut var = vec![0.0f64; dim];
    for r in rows {
        for ((v, &x), m) in var.iter_mut().zip(r.iter()).zip(&mean) {
            *v += (f64::from(x) - m).powi(2) / n;
        }
    }
    let std = var.iter().map(|v| if v.sqrt() < 1e-6 { 1.0 } else { v.sqrt().max(1e-2) as f32 }).collect();
    (mean.into_iter().map(|m| m as f32).collect(), std)
}

/// Discounted returns and GAE advantages of one decision stream (time-ordered).
pub(super) fn gae(rewards: &[f64], values: &[f64], gamma: f64, lambda: f64) -> (Vec<f64>, Vec<f64>) {
    let n = rewards.len();
    let mut adv = vec![0.0; n];
    let mut last = 0.0;
    for i in (0..n).rev() {
        let next_v = if i + 1 < n { values[i + 1] } else { values[i] };
        let delta = rewards[i] + gamma * next_v - values[i];
        last = delta + gamma * lambda * last;
        adv[i] = last;
    }
    let ret = adv.iter().zip(values).map(|(a, v)| a + v).collect();
    (adv, ret)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn gae_matches_discounted_returns_with_lambda_one_and_zero_values() {
        let (adv, ret) = gae(&[1.0, 1.0, 1.0], &[0.0, 0.0, 0.0], 0.5, 1.0);
        assert_eq!(ret, vec![1.75, 1.5, 1.0]);
        assert_eq!(adv, ret);
    }

    #[test]
    fn gaussian_log_prob_agrees_with_the_policy_side() {
        let a = Tensor::from_vec(vec![0.3f32, -1.0], (1, 2), &Device::Cpu).expect("t");
        let m = Tensor::from_vec(vec![0.0f32, 0.5], (1, 2), &Device::Cpu).expect("t");
        let ls = Tensor::from_vec(vec![-1.0f32, 0.2], 2, &Device::Cpu).expect("t");
        let lp: Vec<f32> = log_prob(&a, &m, &ls).and_then(|t| t.to_vec1()).expect("lp");
        let expected = super::super::super::policy::gaussian_log_prob(&[0.3, -1.0], &[0.0, 0.5], &[-1.0, 0.2]);
        assert!((lp[0] - expected).abs() < 1e-5);
    }
}
