//! Float-to-count conversions for the executor's hot loops, without a libm call.
//!
//! The build targets baseline x86-64, which has no rounding instruction, so `f64::ceil` and `f64::round` are calls
//! into compiler-builtins: about 3% of a HiRL run's time (measured with `perf` on a full reference day, 2026-12-07),
//! at a few per app per Soldier decision. These give exactly what the `as u32` casts of those calls give, for every
//! `f64` (NaN, ±∞, negatives and values past `u32::MAX` included: the casts saturate), so decisions are unchanged
//! bit for bit; the tests hold them to it.

/// Exactly `x.ceil() as u32`.
#[inline]
pub fn ceil_to_u32(x: f64) -> u32 {
    // `as` truncates toward zero and saturates (NaN → 0). Below zero the ceiling is 0 or negative, which saturates
    // to 0 too; at `u32::MAX` the ceiling saturates there.
    let t = x as u32;
    if f64::from(t) < x && t < u32::MAX { t + 1 } else { t }
}

/// Exactly `x.round().max(0.0) as u32` (halves away from zero).
#[inline]
pub fn round_to_u32(x: f64) -> u32 {
    let t = x as u32;
    // `x − t` is exact for 0 ≤ x < 2^32 (t is x truncated); negatives and NaN give a fraction below one half.
    if x - f64::from(t) >= 0.5 && t < u32::MAX { t + 1 } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::SimRng;

    fn cases() -> Vec<f64> {
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            2.5,
            -1.5,
            0.49999999999999994,
            0.5000000000000001,
            1.0 - f64::EPSILON,
            1.0,
            1.0 + f64::EPSILON,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            4_294_967_294.4,
            4_294_967_294.5,
            4_294_967_294.6,
            4_294_967_295.0,
            4_294_967_295.4,
            4_294_967_295.5,
            4_294_967_296.0,
            1e300,
            -1e300,
            4_503_599_627_370_495.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        let mut rng = SimRng::new(11, 11);
        for _ in 0..20_000 {
            let magnitude = 10f64.powf(rng.uniform() * 12.0 - 3.0);
            let x = if rng.uniform() < 0.1 { -magnitude } else { magnitude };
            xs.push(x);
            xs.push(x.floor() + 0.5); // exact halves
            xs.push(x.floor());
        }
        xs
    }

    #[test]
    fn ceil_to_u32_is_the_cast_of_ceil() {
        for x in cases() {
            assert_eq!(ceil_to_u32(x), x.ceil() as u32, "x = {x:e}");
        }
    }

    #[test]
    fn round_to_u32_is_the_cast_of_round() {
        for x in cases() {
            assert_eq!(round_to_u32(x), x.round().max(0.0) as u32, "x = {x:e}");
        }
    }
}
