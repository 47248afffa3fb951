//! Seeded random streams. Each component draws from its own stream, derived from the run seed and a fixed stream
//! id, so adding draws in one component never shifts another's numbers.

use rand::Rng;
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

/// Stream ids, fixed forever: changing one changes every result.
pub mod stream {
    pub const LAYOUT: u64 = 1;
    pub const TRAFFIC: u64 = 2;
    pub const PROVISIONER: u64 = 3;
    pub const PODS: u64 = 4;
    /// The day of traffic history a forecaster is given before t = 0 (agents::forecast::live).
    pub const FORECAST_HISTORY: u64 = 5;
}

/// A small, fast, serialisable generator.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SimRng(Pcg64Mcg);

impl SimRng {
    /// The stream `stream` of run `seed`. SplitMix64-style mixing keeps nearby seeds unrelated.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut next = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        let state = (u128::from(next()) << 64) | u128::from(next());
        Self(Pcg64Mcg::new(state | 1))
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [lo, hi] (inclusive); `lo` when the range is empty.
    pub fn range_u32(&mut self, lo: u32, hi: u32) -> u32 {
        if hi <= lo {
            return lo;
        }
        let span = u64::from(hi - lo) + 1;
        lo + (((self.0.next_u64() >> 32) * span) >> 32) as u32
    }

    /// Standard normal by Box–Muller (exact tails); used where draws are rare (layout).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Approximately standard normal from one draw: the Irwin–Hall sum of four 16-bit uniforms, rescaled to unit
    /// variance. Tails stop at ±3.46σ, which is fine for traffic noise and costs a fraction of Box–Muller in the
    /// per-app hot loop.
    pub fn fast_normal(&mut self) -> f32 {
        let x = self.0.next_u64();
        let sum = (x & 0xFFFF) + ((x >> 16) & 0xFFFF) + ((x >> 32) & 0xFFFF) + (x >> 48);
        // Each part is uniform on [0, 65535]: mean 4·32767.5, variance 4·(65536²−1)/12.
        const MEAN: f32 = 4.0 * 32767.5;
        const INV_SD: f32 = 1.0 / 37837.23; // sqrt(4 · (65536² − 1) / 12)
        (sum as f32 - MEAN) * INV_SD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<f64> = (0..4).map(|_| 0.0).scan(SimRng::new(7, 1), |r, _| Some(r.uniform())).collect();
        let b: Vec<f64> = (0..4).map(|_| 0.0).scan(SimRng::new(7, 1), |r, _| Some(r.uniform())).collect();
        let c: Vec<f64> = (0..4).map(|_| 0.0).scan(SimRng::new(7, 2), |r, _| Some(r.uniform())).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn fast_normal_has_unit_moments() {
        let mut r = SimRng::new(1, 9);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| f64::from(r.fast_normal())).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
    }

    #[test]
    fn range_is_inclusive_and_bounded() {
        let mut r = SimRng::new(3, 3);
        let mut seen = [false; 4];
        for _ in 0..1000 {
            let v = r.range_u32(10, 13);
            assert!((10..=13).contains(&v));
            seen[(v - 10) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(r.range_u32(5, 5), 5);
    }
}
