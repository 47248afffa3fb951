//! The exponential-smoothing fallback: what forecasts come from when the learned model is missing or refused, and
//! one of the two baselines the learned model is measured against.
//!
//! Holt's linear method on one-minute means of a domain's *observed* (lagged) request rate: level and trend smoothed
//! with α and β; the spread comes from an exponentially weighted variance of the one-step errors, widened with the
//! horizon as √h. Quantiles assume normal errors (z = −1.28, 0, 0.84, 1.28 for p10, p50, p80, p90). Strictly causal:
//! each update uses only what was observed up to then.

/// z-scores of p10, p50, p80, p90.
const Z: [f64; 4] = [-1.2816, 0.0, 0.8416, 1.2816];

/// Smoothing constants and the update step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FallbackConfig {
    /// Level smoothing. Default 0.3.
    pub alpha: f64,
    /// Trend smoothing. Default 0.05.
    pub beta: f64,
    /// Error-variance smoothing. Default 0.05.
    pub gamma: f64,
    /// Seconds between updates. Default 60.
    pub step_secs: u64,
}

impl Default for FallbackConfig {
    fn default() -> Self {
        Self { alpha: 0.3, beta: 0.05, gamma: 0.05, step_secs: 60 }
    }
}

/// Holt's method for one series.
#[derive(Clone, Debug, PartialEq)]
pub struct HoltForecaster {
    cfg: FallbackConfig,
    state: Option<(f64, f64)>,
    error_var: f64,
}

impl HoltForecaster {
    pub fn new(cfg: FallbackConfig) -> Self {
        Self { cfg, state: None, error_var: 0.0 }
    }

    /// Feeds the next observation (one per `step_secs`).
    pub fn observe(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        let FallbackConfig { alpha, beta, gamma, .. } = self.cfg;
        self.state = Some(match self.state {
            None => (value, 0.0),
            Some((level, trend)) => {
                let predicted = level + trend;
                let error = value - predicted;
                self.error_var = (1.0 - gamma) * self.error_var + gamma * error * error;
                let new_level = alpha * value + (1.0 - alpha) * predicted;
                let new_trend = beta * (new_level - level) + (1.0 - beta) * trend;
                (new_level, new_trend)
            }
        });
    }

    /// p10, p50, p80, p90 at `horizon_secs` ahead; `None` before the first observation. Never negative.
    pub fn quantiles(&self, horizon_secs: u64) -> Option<[f64; 4]> {
        let (level, trend) = self.state?;
        let h = horizon_secs as f64 / self.cfg.step_secs as f64;
        let mean = level + trend * h;
        let sd = self.error_var.sqrt() * h.max(1.0).sqrt();
        Some(Z.map(|z| (mean + z * sd).max(0.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_line_and_orders_its_quantiles() {
        let mut f = HoltForecaster::new(FallbackConfig::default());
        assert!(f.quantiles(300).is_none());
        for i in 0..200 {
            // A ramp with a small alternating wobble so the error variance is not zero.
            f.observe(1000.0 + 10.0 * f64::from(i) + if i % 2 == 0 { 5.0 } else { -5.0 });
        }
        let q = f.quantiles(300).expect("has data");
        // Five steps past the last point (≈ 2,990) along the 10-per-step trend: ≈ 3,040.
        assert!((q[1] - 3_040.0).abs() < 60.0, "p50 {}", q[1]);
        assert!(q[0] < q[1] && q[1] < q[2] && q[2] < q[3]);
        let wide = f.quantiles(1800).expect("has data");
        assert!(wide[3] - wide[0] > q[3] - q[0], "the band widens with the horizon");
    }

    #[test]
    fn ignores_non_finite_input() {
        let mut f = HoltForecaster::new(FallbackConfig::default());
        f.observe(f64::NAN);
        assert!(f.quantiles(300).is_none());
    }
}
