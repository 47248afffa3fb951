//! M/M/c queueing model of an app: exact Erlang B / Erlang C formulas, waiting- and response-time quantiles, and a
//! small table that evaluates Erlang C in a few nanoseconds for the simulator's hot loop.
//!
//! # Model
//!
//! An app is a pool of `c` identical ready pods (servers). Each pod serves exponentially distributed requests at
//! `mu` requests/s (mean service time `1/mu` seconds); requests arrive as a Poisson stream of `lambda` requests/s
//! and queue first-come-first-served in one unbounded queue: an M/M/c queue. Units: rates are per second, times are
//! seconds, the offered load `A = lambda / mu` is in Erlangs and the utilisation is `rho = A / c = lambda / (c mu)`.
//! The queue is stable iff `lambda < c mu` (strictly).
//!
//! * Erlang B (blocking probability of M/M/c/c), stable recurrence `B(0) = 1`,
//!   `B(k) = A B(k-1) / (k + A B(k-1))`.
//! * Erlang C (probability that an arrival waits): `C = c B / (c - A + A B)` (equivalently
//!   `C = (A^c/c!)(c/(c-A)) / (sum_{k<c} A^k/k! + (A^c/c!)(c/(c-A)))`); `C = 1` when `A >= c`.
//! * Waiting time `W`: `P(W > t) = C exp(-(c mu - lambda) t)`, so the mean is `C / (c mu - lambda)` and the
//!   `q`-quantile is `ln(C / (1 - q)) / (c mu - lambda)` when `C > 1 - q`, else 0.
//! * Response (sojourn) time `T = W + S` with service `S ~ Exp(mu)` independent of `W`. With `g = c mu - lambda`,
//!   `P(T > t) = e^{-mu t} + C mu (e^{-mu t} - e^{-g t}) / (g - mu)`, whose limit at `g = mu` is
//!   `e^{-mu t} (1 + C mu t)`. It is evaluated as `e^{-mu t} + C mu e^{-min(mu,g) t} (1 - e^{-|g-mu| t}) / |g-mu|`
//!   (with `expm1`, so there is no cancellation near `g = mu`) and inverted by safeguarded Newton steps on
//!   `ln P(T > t)` inside a bracket that provably contains the quantile.
//!
//! # Saturating conventions (no function here panics or returns NaN)
//!
//! * `servers = 0` means no capacity: Erlang B and C are 1, every time is `+inf`.
//! * A NaN load or arrival rate counts as infinite (saturated: probabilities 1, times `+inf`); a negative one counts
//!   as 0. A service rate that is NaN, zero or negative gives no capacity (`+inf`). An infinite service rate with a
//!   finite arrival rate gives zero waits and zero response times.
//! * Unstable queues (`lambda >= c mu`, including `lambda = 0 = c mu`) give `C = 1` and `+inf` for all times.
//! * Quantile level `q`: `q <= 0` gives 0, `q >= 1` gives the supremum (`+inf` unless the time is identically 0),
//!   NaN counts as `q = 1` (the pessimistic choice).
//!
//! # Exactness and cost of the exact functions
//!
//! [`erlang_b`] and [`erlang_c`] are exact up to rounding (relative error about 1e-16 per recurrence step; the tests
//! agree with the direct sum in log space to 1e-10 and better). The recurrence
//! is a contraction (the map `b -> A b / (k + A b)` has slope below `k / A`), so for large loads it is started from
//! `B = 1` at `k0 ~ A - 12 sqrt(A)` instead of at 0: the start error is damped by more than `e^{-72}` before `k`
//! reaches `A`, which changes the result by a relative `< 1e-20`, and the cost drops from `O(c)` to
//! `O(sqrt(A) + c - A)`. The loop also stops once `B` drops below `f64::MIN_POSITIVE` (about 2.2e-308), returning 0.
//! Even `u32::MAX` servers cost at most a few milliseconds.
//!
//! # Why a fast path
//!
//! The simulator evaluates ~1,550 apps every 5-second tick for 17,280 ticks (~27 million evaluations per simulated
//! day) and must finish a day in well under 2 s, so one evaluation may cost only ~10-20 ns; the exact recurrence
//! costs `O(c)` divisions. [`ErlangCTable`] stores Erlang C on a grid of the Halfin–Whitt parameter
//! `beta = (1 - rho) sqrt(c)` (step 1/16 on `[0, 4]`) for 178 server counts: every `c < 32`; for `32 <= c <= 16384`
//! the counts `c = (16 + k) 2^e` (16 per octave); and the Halfin–Whitt limit `c -> inf`,
//! `C = [1 + beta Phi(beta) / phi(beta)]^{-1}`. A lookup interpolates bilinearly: linearly in `beta` and linearly in
//! `c` between neighbouring rows (linearly in `1/sqrt(c)` above 16384). For `beta >= 4` it returns 0
//! (`C < 4e-5` there). The table is 46,280 bytes of `f32`, so it stays in L1/L2 cache.
//!
//! Accuracy of the table: absolute error at most `2e-3` versus [`erlang_c`] for every `c >= 1` and `rho` in
//! `[0, 1)`. The tests check all `c <= 512` on a 1,000-point `rho` grid plus the grid, quarter and midpoints of every
//! `beta` cell, then the midpoint of every row interval above 512, 100 random `c` up to 10,000 and spot checks up to
//! 10^6 (10^7 was checked during development); points with `beta >= 4` are covered because C increases with `rho`.
//! The measured maximum is `8.5e-4` (at `c = 2`, `rho ~ 0.05`, from the curvature of `2 rho^2 / (1 + rho)`); it is
//! below `5.5e-4` for `c >= 32`. Rounding errors of the exact functions are negligible next to this.

use std::f64::consts::{FRAC_1_SQRT_2, LN_2, PI};
use std::fmt;

// ---------------------------------------------------------------------------------------------------------------
// Exact formulas
// ---------------------------------------------------------------------------------------------------------------

/// How many standard deviations below the load the Erlang B recurrence may start (see the module docs).
const SKIP_SIGMAS: f64 = 12.0;

/// First index `k0 < servers` from which the Erlang B recurrence is run with `B(k0) := 1`. 0 means the exact start.
/// `load` must be finite and positive.
fn recurrence_start(servers: u32, load: f64) -> u32 {
    let c = f64::from(servers);
    let below_load = load - SKIP_SIGMAS * load.sqrt();
    let k0 = if c >= below_load {
        // Steps from `below_load` up to `load` damp the start error by `exp(-SKIP_SIGMAS^2 / 2)`, and the steps
        // above `load` cannot grow it relative to `B(c)`.
        below_load
    } else {
        // `c` far below the load: every step damps by at most `r = c / load`, and the relative error is at most
        // `r^n / (1 - r)`; pick `n` so that this is below `e^{-80}`.
        let r = c / load;
        let steps = ((80.0 - (-r).ln_1p()) / -r.ln()).ceil();
        c - steps
    };
    if k0 > 0.0 {
        // `as` saturates; `k0 < c` keeps at least one recurrence step.
        (k0 as u32).min(servers.saturating_sub(1))
    } else {
        0
    }
}

/// Erlang B blocking probability, exact (stable recurrence `B(0) = 1`, `B(k) = A B(k-1) / (k + A B(k-1))`).
///
/// Saturating: `servers = 0` ⇒ 1; load NaN or `+inf` ⇒ 1; load ≤ 0 ⇒ 0 (for `servers ≥ 1`). Results below
/// `f64::MIN_POSITIVE` are returned as 0.
pub fn erlang_b(servers: u32, offered_load_erlangs: f64) -> f64 {
    let a = offered_load_erlangs;
    if servers == 0 || a.is_nan() || a == f64::INFINITY {
        return 1.0;
    }
    if a <= 0.0 {
        return 0.0;
    }
    let start = recurrence_start(servers, a);
    let mut b = 1.0_f64;
    for k in (start + 1)..=servers {
        let ab = a * b;
        b = ab / (f64::from(k) + ab);
        if b < f64::MIN_POSITIVE {
            // Only reachable past k > A, where B keeps decreasing: flush to 0 (in the subnormal range the rounded
            // recurrence can get stuck at a constant instead of reaching 0).
            return 0.0;
        }
    }
    b
}

/// Erlang C: probability an arrival waits, exact. 1.0 when offered load ≥ servers (unstable queue); 0 servers ⇒ 1.0.
///
/// Saturating: load NaN ⇒ 1; load ≤ 0 ⇒ 0 (for `servers ≥ 1`).
pub fn erlang_c(servers: u32, offered_load_erlangs: f64) -> f64 {
    let a = offered_load_erlangs;
    let c = f64::from(servers);
    if servers == 0 || a.is_nan() || a >= c {
        return 1.0;
    }
    if a <= 0.0 {
        return 0.0;
    }
    let b = erlang_b(servers, a);
    // `c - a > 0` and `a b >= 0`: no cancellation, result in [0, 1].
    (c * b / ((c - a) + a * b)).clamp(0.0, 1.0)
}

/// A stable M/M/c queue with sanitised parameters.
#[derive(Clone, Copy, Debug)]
struct Stable {
    /// Service rate per server, `> 0` (may be `+inf`).
    mu: f64,
    /// `c mu - lambda > 0` (may be `+inf`).
    gamma: f64,
    /// Offered load `lambda / mu` in Erlangs.
    load: f64,
}

/// `Some` iff the queue is stable (`lambda < c mu`) after the saturating conventions of the module docs.
fn stable(servers: u32, arrival_rate_per_sec: f64, service_rate_per_sec: f64) -> Option<Stable> {
    let mu = service_rate_per_sec;
    if servers == 0 || arrival_rate_per_sec.is_nan() || mu.is_nan() || mu <= 0.0 {
        return None;
    }
    let lambda = arrival_rate_per_sec.max(0.0);
    let capacity = f64::from(servers) * mu;
    if lambda >= capacity {
        return None;
    }
    Some(Stable { mu, gamma: capacity - lambda, load: lambda / mu })
}

/// Sanitised quantile level: NaN counts as 1.
fn quantile_level(q: f64) -> f64 {
    if q.is_nan() { 1.0 } else { q }
}

/// The `q`-quantile of `W` with `P(W > t) = wait_probability e^{-gamma t}`.
fn wait_quantile(wait_probability: f64, gamma: f64, q: f64) -> f64 {
    let q = quantile_level(q);
    if q <= 0.0 || wait_probability <= 0.0 {
        return 0.0;
    }
    if q >= 1.0 {
        return f64::INFINITY;
    }
    let tail = 1.0 - q;
    if wait_probability <= tail {
        return 0.0;
    }
    // ratio > 1 and finite, gamma > 0: the result is in (0, +inf], never NaN.
    (wait_probability / tail).ln() / gamma
}

/// M/M/c mean waiting time in queue (seconds): C/(cμ−λ); +inf when unstable.
#[allow(dead_code, reason = "exact-model API (tests, analysis); the hot loop uses `ErlangCTable`")]
pub fn mmc_mean_wait_secs(servers: u32, arrival_rate_per_sec: f64, service_rate_per_sec: f64) -> f64 {
    match stable(servers, arrival_rate_per_sec, service_rate_per_sec) {
        Some(s) => erlang_c(servers, s.load) / s.gamma,
        None => f64::INFINITY,
    }
}

/// Quantile q of the waiting time (seconds): P(W>t)=C·e^{−(cμ−λ)t} ⇒ t = ln(C/(1−q))/(cμ−λ) when C > 1−q, else 0;
/// +inf when unstable.
#[allow(dead_code, reason = "exact-model API (tests, analysis); the hot loop uses `ErlangCTable`")]
pub fn mmc_wait_quantile_secs(servers: u32, arrival_rate_per_sec: f64, service_rate_per_sec: f64, q: f64) -> f64 {
    match stable(servers, arrival_rate_per_sec, service_rate_per_sec) {
        Some(s) => wait_quantile(erlang_c(servers, s.load), s.gamma, q),
        None => f64::INFINITY,
    }
}

/// `(P(T > t), density of T at t)` for the sojourn time `T = W + S` (see the module docs); `t > 0`, `mu` and
/// `gamma` finite and positive.
fn sojourn_tail_and_density(t: f64, mu: f64, gamma: f64, wait_probability: f64) -> (f64, f64) {
    let e_mu = (-mu * t).exp();
    let gap = (gamma - mu).abs();
    let slow = gamma.min(mu);
    // h = (e^{-mu t} - e^{-gamma t}) / (gamma - mu) >= 0, evaluated without cancellation.
    let h = if gap == 0.0 { t * (-slow * t).exp() } else { (-slow * t).exp() * -(-gap * t).exp_m1() / gap };
    let tail = e_mu + wait_probability * mu * h;
    let density = (1.0 - wait_probability) * mu * e_mu + wait_probability * mu * gamma * h;
    (tail, density)
}

/// Quantile q of the response (sojourn) time W+S where S ~ Exp(μ): exact via the closed form of the sojourn-time
/// distribution of M/M/c (see the module docs; the `cμ−λ = μ` case uses its limit), solved for `t` by safeguarded
/// Newton steps (relative accuracy ~1e-14). +inf when unstable.
#[allow(dead_code, reason = "exact-model API (tests, analysis); the hot loop uses `ErlangCTable`")]
pub fn mmc_response_quantile_secs(servers: u32, arrival_rate_per_sec: f64, service_rate_per_sec: f64, q: f64) -> f64 {
    let Some(s) = stable(servers, arrival_rate_per_sec, service_rate_per_sec) else {
        return f64::INFINITY;
    };
    let q = quantile_level(q);
    if q <= 0.0 || s.mu == f64::INFINITY {
        return 0.0; // T = 0 almost surely when service is instantaneous (then C = 0 too)
    }
    if q >= 1.0 {
        return f64::INFINITY;
    }
    let neg_ln_p = -(-q).ln_1p(); // -ln(1 - q) > 0, accurate for small q
    let ln_p = -neg_ln_p;
    let p = 1.0 - q;
    let service_only = neg_ln_p / s.mu;
    let wait_probability = erlang_c(servers, s.load);
    if wait_probability <= 0.0 || !s.gamma.is_finite() {
        return service_only;
    }
    // Bracket: P(T > t) >= e^{-mu t} gives lo; P(W + S > a + b) <= P(W > a) + P(S > b) = p/2 + p/2 gives hi.
    let mut lo = service_only;
    let wait_part = if 2.0 * wait_probability > p { (2.0 * wait_probability / p).ln() / s.gamma } else { 0.0 };
    let mut hi = (LN_2 + neg_ln_p) / s.mu + wait_part;
    let mut t = (lo + wait_part).clamp(lo, hi);
    for _ in 0..200 {
        let (tail, density) = sojourn_tail_and_density(t, s.mu, s.gamma, wait_probability);
        let g = tail.ln() - ln_p; // decreasing in t; -inf when the tail underflows
        if g > 0.0 {
            lo = t;
        } else if g < 0.0 {
            hi = t;
        } else {
            return t;
        }
        // Newton on ln P(T > t): d/dt ln P = -density / tail.
        let mut next = t + g * tail / density;
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - t).abs() <= 4.0 * f64::EPSILON * next || hi - lo <= 4.0 * f64::EPSILON * hi {
            return next;
        }
        t = next;
    }
    t
}

// ---------------------------------------------------------------------------------------------------------------
// Fast table
// ---------------------------------------------------------------------------------------------------------------

/// Rows per octave of server counts is `2^MANTISSA_BITS`.
const MANTISSA_BITS: u32 = 4;
const ROWS_PER_OCTAVE: usize = 1 << MANTISSA_BITS;
/// Every server count below this has its own row (row index = server count).
const EXACT_LIMIT: u32 = 2 << MANTISSA_BITS;
/// Above `2^LARGE_OCTAVE` servers, interpolate towards the Halfin–Whitt limit.
const LARGE_OCTAVE: u32 = 14;
const LARGE_SERVERS: u32 = 1 << LARGE_OCTAVE;
/// Row of `LARGE_SERVERS` (row = 16 shift + (c >> shift) with shift = octave - 4); the next row is the Halfin–Whitt
/// limit.
const LAST_FINITE_ROW: usize = (LARGE_OCTAVE - MANTISSA_BITS + 1) as usize * ROWS_PER_OCTAVE;
const ROWS: usize = LAST_FINITE_ROW + 2;
/// Grid points per unit of beta.
const BETA_STEPS_PER_UNIT: f64 = 16.0;
/// Points per row: beta = 0, 1/16, ..., 4.
const POINTS: usize = 65;
/// Grid cells per row; `beta * BETA_STEPS_PER_UNIT >= CELLS` is the "C is negligible" shortcut.
const CELLS: f64 = (POINTS - 1) as f64;

/// Server count of table row `row` (`row <= LAST_FINITE_ROW`).
fn row_servers(row: usize) -> u32 {
    let row = row as u32;
    if row < EXACT_LIMIT {
        row
    } else {
        let shift = (row >> MANTISSA_BITS) - 1;
        let mantissa = (1 << MANTISSA_BITS) + (row & ((1 << MANTISSA_BITS) - 1));
        mantissa << shift
    }
}

/// Lower row and interpolation weight towards the next row for `servers >= 1` (`root = sqrt(servers)`): weight
/// linear in `c` between rows, linear in `1/sqrt(c)` from the last finite row to the Halfin–Whitt row.
#[inline]
fn row_and_weight(servers: u32, root: f64) -> (usize, f64) {
    if servers < LARGE_SERVERS {
        // Rows: every c below 32 (shift 0), then 16 per octave: row = 16 shift + (c >> shift).
        let shift = (31 - MANTISSA_BITS).saturating_sub(servers.leading_zeros());
        let row = ((shift as usize) << MANTISSA_BITS) + (servers >> shift) as usize;
        let rem = servers & ((1 << shift) - 1);
        // rem * 2^-shift, the power of two built from its exponent bits.
        (row, f64::from(rem) * f64::from_bits((1023 - u64::from(shift)) << 52))
    } else {
        (LAST_FINITE_ROW, 1.0 - f64::from(LARGE_SERVERS).sqrt() / root)
    }
}

/// Exact Erlang C for server count `servers >= 1` at every beta grid point, all lanes at once (reciprocal
/// recurrence `1/B(k) = 1 + (k/A) / B(k-1)`, started like [`erlang_b`]); the result matches [`erlang_c`] to ~1e-13.
fn exact_row(servers: u32) -> [f32; POINTS] {
    let c = f64::from(servers);
    let root = c.sqrt();
    let mut slack = [0.0_f64; POINTS]; // c - A = beta sqrt(c)
    let mut load = [0.0_f64; POINTS];
    let mut inv_load = [0.0_f64; POINTS]; // 0 for lanes with A <= 0: their recurrence stays at 1
    let mut start = servers.saturating_sub(1);
    for (i, ((s, a), inv)) in slack.iter_mut().zip(load.iter_mut()).zip(inv_load.iter_mut()).enumerate() {
        *s = i as f64 / BETA_STEPS_PER_UNIT * root;
        *a = c - *s;
        if *a > 0.0 {
            *inv = 1.0 / *a;
            start = start.min(recurrence_start(servers, *a));
        }
    }
    let mut recip = [1.0_f64; POINTS]; // 1 / B(k)
    for k in (start + 1)..=servers {
        let k = f64::from(k);
        for (r, inv) in recip.iter_mut().zip(inv_load.iter()) {
            *r = 1.0 + *r * (k * inv);
        }
    }
    let mut row = [0.0_f32; POINTS];
    for (out, ((r, s), a)) in row.iter_mut().zip(recip.iter().zip(slack.iter()).zip(load.iter())) {
        // C = c B / (c - A + A B) = c / ((c - A) / B + A).
        *out = if *a > 0.0 { (c / (r * s + a)).clamp(0.0, 1.0) as f32 } else { 0.0 };
    }
    row
}

/// Complementary error function (Numerical Recipes `erfcc`, fractional error below 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Halfin–Whitt limit of Erlang C at `beta >= 0`: `[1 + beta Phi(beta) / phi(beta)]^{-1}`.
fn halfin_whitt(beta: f64) -> f64 {
    let cdf = 1.0 - 0.5 * erfc(beta * FRAC_1_SQRT_2);
    let pdf = (-0.5 * beta * beta).exp() / (2.0 * PI).sqrt();
    1.0 / (1.0 + beta * cdf / pdf)
}

/// Fast, table-driven Erlang C for the hot loop. Built once (e.g. at simulation start; building takes ~3 ms in an
/// optimised build).
///
/// See the module docs for the layout; the guaranteed accuracy is `|error| <= 2e-3` versus [`erlang_c`].
#[derive(Clone)]
pub struct ErlangCTable {
    /// `ROWS` rows of `POINTS` values of C, row-major.
    values: Box<[f32]>,
}

impl fmt::Debug for ErlangCTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErlangCTable")
            .field("rows", &ROWS)
            .field("points_per_row", &POINTS)
            .field("bytes", &self.memory_bytes())
            .finish_non_exhaustive()
    }
}

impl Default for ErlangCTable {
    fn default() -> Self {
        Self::new()
    }
}

impl ErlangCTable {
    /// Builds the table (exact Erlang C at 178 × 65 grid points).
    pub fn new() -> Self {
        let mut values = vec![0.0_f32; ROWS * POINTS];
        for (row, grid) in values.chunks_exact_mut(POINTS).enumerate() {
            if row == 0 {
                grid.fill(1.0); // zero servers; never read by a lookup
            } else if row <= LAST_FINITE_ROW {
                grid.copy_from_slice(&exact_row(row_servers(row)));
            } else {
                for (i, v) in grid.iter_mut().enumerate() {
                    *v = halfin_whitt(i as f64 / BETA_STEPS_PER_UNIT) as f32;
                }
            }
        }
        Self { values: values.into_boxed_slice() }
    }

    /// Heap bytes held by the table (46,280).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.values)
    }

    /// Erlang C at `servers` and utilisation ρ = λ/(cμ) in [0,1). Absolute error ≤ 2e-3 versus `erlang_c` for every
    /// servers in 1..=10_000 and ρ in [0, 0.999] (in fact for all ρ < 1); ρ ≥ 1 or NaN ⇒ 1.0; servers 0 ⇒ 1.0;
    /// ρ < 0 counts as 0. Returns 0 when β = (1−ρ)√c ≥ 4, where the exact value is below 4e-5.
    #[inline]
    pub fn wait_probability(&self, servers: u32, utilisation: f64) -> f64 {
        if servers == 0 || utilisation.is_nan() || utilisation >= 1.0 {
            return 1.0;
        }
        let rho = utilisation.max(0.0);
        let root = f64::from(servers).sqrt();
        let pos = (1.0 - rho) * root * BETA_STEPS_PER_UNIT;
        if pos >= CELLS {
            return 0.0;
        }
        let (row, weight) = row_and_weight(servers, root);
        let cell = pos as usize; // pos in [0, CELLS)
        let frac = pos - cell as f64;
        let base = row * POINTS + cell;
        let Some(v) = self.values.get(base..base + POINTS + 2).and_then(|s| <&[f32; POINTS + 2]>::try_from(s).ok())
        else {
            return erlang_c(servers, rho * f64::from(servers)); // unreachable: the indices are in range
        };
        let (a0, a1, b0, b1) = (f64::from(v[0]), f64::from(v[1]), f64::from(v[POINTS]), f64::from(v[POINTS + 1]));
        let lower = a0 + frac * (a1 - a0);
        let upper = b0 + frac * (b1 - b0);
        lower + weight * (upper - lower)
    }

    /// p99 (or any q) of the waiting time using the table: same contract as [`mmc_wait_quantile_secs`], within the
    /// accuracy the table gives (the wait probability C is off by at most 2e-3).
    #[inline]
    pub fn wait_quantile_secs(
        &self,
        servers: u32,
        arrival_rate_per_sec: f64,
        service_rate_per_sec: f64,
        q: f64,
    ) -> f64 {
        // The sanitisation of `stable`, without the offered-load division the table does not need.
        let mu = service_rate_per_sec;
        if servers == 0 || arrival_rate_per_sec.is_nan() || mu.is_nan() || mu <= 0.0 {
            return f64::INFINITY;
        }
        let lambda = arrival_rate_per_sec.max(0.0);
        let capacity = f64::from(servers) * mu;
        if lambda >= capacity {
            return f64::INFINITY;
        }
        wait_quantile(self.wait_probability(servers, lambda / capacity), capacity - lambda, q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented guarantee of the table.
    const TABLE_BOUND: f64 = 2e-3;

    fn assert_rel(actual: f64, expected: f64, rel: f64, what: &str) {
        let err = (actual - expected).abs() / expected.abs().max(f64::MIN_POSITIVE);
        assert!(err <= rel, "{what}: got {actual:e}, expected {expected:e} (relative error {err:e} > {rel:e})");
    }

    /// `ln(A^k / k!)` for `k = 0..=n`.
    fn log_poisson_terms(n: u32, a: f64) -> Vec<f64> {
        let mut out = Vec::with_capacity(n as usize + 1);
        let mut log_fact = 0.0;
        for k in 0..=n {
            if k > 0 {
                log_fact += f64::from(k).ln();
            }
            out.push(f64::from(k) * a.ln() - log_fact);
        }
        out
    }

    fn log_sum_exp(xs: &[f64]) -> f64 {
        let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
    }

    /// Direct Erlang C, `(A^c/c!)(c/(c-A)) / (sum_{k<c} A^k/k! + (A^c/c!)(c/(c-A)))`, in log space.
    fn direct_erlang_c(c: u32, a: f64) -> f64 {
        let terms = log_poisson_terms(c, a);
        let last = terms[c as usize] + (f64::from(c) / (f64::from(c) - a)).ln();
        let mut all = terms[..c as usize].to_vec();
        all.push(last);
        (last - log_sum_exp(&all)).exp()
    }

    /// Direct Erlang B, `(A^c/c!) / sum_{k<=c} A^k/k!`, in log space.
    fn direct_erlang_b(c: u32, a: f64) -> f64 {
        let terms = log_poisson_terms(c, a);
        (terms[c as usize] - log_sum_exp(&terms)).exp()
    }

    /// The recurrence from `B(0) = 1`, without the start shortcut.
    fn full_recurrence_erlang_b(c: u32, a: f64) -> f64 {
        let mut b = 1.0;
        for k in 1..=c {
            b = a * b / (f64::from(k) + a * b);
        }
        b
    }

    #[test]
    fn erlang_c_textbook_values() {
        for rho in [0.3, 0.7, 0.9, 0.99] {
            // M/M/1: C = rho. M/M/2: C = 2 rho^2 / (1 + rho).
            assert_rel(erlang_c(1, rho), rho, 1e-14, "M/M/1");
            assert_rel(erlang_c(2, 2.0 * rho), 2.0 * rho * rho / (1.0 + rho), 1e-13, "M/M/2");
        }
        assert_rel(erlang_c(2, 1.0), 1.0 / 3.0, 1e-14, "c=2, A=1");
        // Hand-computed with exact rational arithmetic of the direct sum.
        assert_rel(erlang_c(10, 8.0), 0.409_180_150_796_443_5, 1e-12, "c=10, A=8");
        assert_rel(erlang_c(5, 3.5), 0.377_838_226_698_439_86, 1e-12, "c=5, A=3.5");
        assert_rel(erlang_c(20, 18.0), 0.550_769_004_816_117_6, 1e-12, "c=20, A=18");
        for c in [1, 2, 3, 5, 10, 20, 50, 100, 300, 1000, 5000] {
            for rho in [0.3, 0.7, 0.9, 0.99] {
                let a = rho * f64::from(c);
                let expected = direct_erlang_c(c, a);
                assert_rel(erlang_c(c, a), expected, 1e-9, &format!("C(c={c}, rho={rho})"));
            }
        }
        // Increasing in the load, within [0, 1].
        let mut last = 0.0;
        for i in 0..=1000 {
            let v = erlang_c(37, f64::from(i) * 0.037);
            assert!((last..=1.0).contains(&v), "not monotone at i={i}: {v} after {last}");
            last = v;
        }
    }

    #[test]
    fn erlang_b_matches_direct_formula() {
        assert_rel(erlang_b(5, 3.0), 0.110_054_347_826_086_96, 1e-13, "B(5, 3)");
        assert_rel(erlang_b(10, 8.0), 0.121_661_064_252_951_49, 1e-13, "B(10, 8)");
        assert_rel(erlang_b(1, 2.0), 2.0 / 3.0, 1e-15, "B(1, A) = A/(1+A)");
        for c in [1, 2, 7, 40, 150, 600, 3000] {
            for factor in [0.05, 0.3, 0.8, 0.95, 1.0, 1.3, 4.0] {
                let a = factor * f64::from(c);
                let expected = direct_erlang_b(c, a);
                assert_rel(erlang_b(c, a), expected, 1e-10, &format!("B(c={c}, A={a})"));
            }
        }
    }

    #[test]
    fn recurrence_shortcut_matches_full_recurrence() {
        for c in [150, 1000, 5000, 20_000, 100_000] {
            let cf = f64::from(c);
            for a in [
                0.2 * cf,
                0.9 * cf,
                cf - 3.0 * cf.sqrt(),
                cf - 0.5,
                cf,
                cf + 2.0 * cf.sqrt(),
                1.2 * cf,
                7.0 * cf,
                100.0 * cf,
            ] {
                let full = full_recurrence_erlang_b(c, a);
                let fast = erlang_b(c, a);
                if full < 1e-290 {
                    assert!(fast < 1e-280, "B(c={c}, A={a}): {fast:e} vs {full:e}");
                } else {
                    assert_rel(fast, full, 1e-11, &format!("B(c={c}, A={a})"));
                }
            }
        }
        // The cost is O(sqrt(A) + c - A), so the most servers there can be is fine.
        let c = f64::from(u32::MAX);
        let b = erlang_b(u32::MAX, c - 1.0e5);
        assert!(b > 0.0 && b < 1e-3, "{b}");
        // beta = (c - A) / sqrt(c) = 1: close to the Halfin–Whitt limit.
        assert!((erlang_c(u32::MAX, c - c.sqrt()) - halfin_whitt(1.0)).abs() < 1e-4);
        assert_eq!(erlang_b(u32::MAX, 4.0e9), 0.0); // 4,500 standard deviations: below f64::MIN_POSITIVE
        assert_rel(erlang_b(u32::MAX, 1.0e300), 1.0 - f64::from(u32::MAX) / 1.0e300, 1e-15, "huge load");
    }

    #[test]
    fn exact_functions_saturate() {
        assert_eq!(erlang_b(0, 3.0), 1.0);
        assert_eq!(erlang_b(3, f64::NAN), 1.0);
        assert_eq!(erlang_b(3, f64::INFINITY), 1.0);
        assert_eq!(erlang_b(3, 0.0), 0.0);
        assert_eq!(erlang_b(3, -2.0), 0.0);
        assert_eq!(erlang_c(0, 0.0), 1.0);
        assert_eq!(erlang_c(4, 4.0), 1.0);
        assert_eq!(erlang_c(4, 9.0), 1.0);
        assert_eq!(erlang_c(4, f64::NAN), 1.0);
        assert_eq!(erlang_c(4, 0.0), 0.0);
        assert_eq!(erlang_c(4, f64::NEG_INFINITY), 0.0);
        assert_eq!(mmc_mean_wait_secs(0, 0.0, 1.0), f64::INFINITY);
        assert_eq!(mmc_mean_wait_secs(2, 2.0, 1.0), f64::INFINITY);
        assert_eq!(mmc_mean_wait_secs(2, 0.0, 0.0), f64::INFINITY);
        assert_eq!(mmc_mean_wait_secs(2, 1.0, f64::NAN), f64::INFINITY);
        assert_eq!(mmc_mean_wait_secs(2, f64::NAN, 1.0), f64::INFINITY);
        assert_eq!(mmc_mean_wait_secs(2, -5.0, 1.0), 0.0);
        assert_eq!(mmc_mean_wait_secs(2, 5.0, f64::INFINITY), 0.0);
        assert_eq!(mmc_wait_quantile_secs(2, 3.0, 1.0, 0.5), f64::INFINITY);
        assert_eq!(mmc_wait_quantile_secs(2, 1.0, 1.0, 0.0), 0.0);
        assert_eq!(mmc_wait_quantile_secs(2, 1.0, 1.0, 1.0), f64::INFINITY);
        assert_eq!(mmc_wait_quantile_secs(2, 1.0, 1.0, f64::NAN), f64::INFINITY);
        assert_eq!(mmc_wait_quantile_secs(2, 0.0, 1.0, 1.0), 0.0);
        assert_eq!(mmc_wait_quantile_secs(2, 1.0, 1.0, 0.5), 0.0); // C = 1/3 < 1/2
        assert_eq!(mmc_response_quantile_secs(2, 3.0, 1.0, 0.5), f64::INFINITY);
        assert_eq!(mmc_response_quantile_secs(2, 1.0, 1.0, 0.0), 0.0);
        assert_eq!(mmc_response_quantile_secs(2, 1.0, 1.0, 1.0), f64::INFINITY);
        assert_eq!(mmc_response_quantile_secs(2, 1.0, f64::INFINITY, 0.99), 0.0);
        // No arrivals: the response time is the service time.
        assert_rel(mmc_response_quantile_secs(3, 0.0, 2.0, 0.99), 100.0_f64.ln() / 2.0, 1e-14, "idle");
    }

    #[test]
    fn mm1_special_cases() {
        for (lambda, mu) in [(0.3, 1.0), (7.0, 10.0), (99.0, 100.0), (0.5, 0.6)] {
            let rho: f64 = lambda / mu;
            assert_rel(mmc_mean_wait_secs(1, lambda, mu), rho / (mu - lambda), 1e-13, "M/M/1 mean wait");
            for q in [0.5_f64, 0.9, 0.99, 0.999] {
                let expected = (-(1.0 - q).ln()) / (mu - lambda);
                let got = mmc_response_quantile_secs(1, lambda, mu, q);
                assert_rel(got, expected, 1e-12, &format!("M/M/1 response quantile lambda={lambda} q={q}"));
                let wait = if rho > 1.0 - q { (rho / (1.0 - q)).ln() / (mu - lambda) } else { 0.0 };
                assert_rel(mmc_wait_quantile_secs(1, lambda, mu, q), wait, 1e-13, "M/M/1 wait quantile");
            }
        }
        // M/M/2 with A = 1: C = 1/3, mean wait (1/3) / (2 - 1).
        assert_rel(mmc_mean_wait_secs(2, 1.0, 1.0), 1.0 / 3.0, 1e-14, "M/M/2 mean wait");
        assert_rel(mmc_mean_wait_secs(10, 80.0, 10.0), 0.409_180_150_796_443_5 / 20.0, 1e-12, "M/M/10 mean wait");
    }

    /// `P(T <= t)` by Simpson integration of the convolution of `W` (atom `1 - C` at 0, density `C g e^{-g w}`)
    /// with `S ~ Exp(mu)`; independent of the closed form.
    fn response_cdf_by_integration(c: u32, lambda: f64, mu: f64, t: f64) -> f64 {
        let wait = erlang_c(c, lambda / mu);
        let g = f64::from(c) * mu - lambda;
        let n = 4000;
        let h = t / f64::from(n);
        let f = |w: f64| g * (-g * w).exp() * (1.0 - (-mu * (t - w)).exp());
        let mut sum = f(0.0) + f(t);
        for i in 1..n {
            sum += if i % 2 == 1 { 4.0 } else { 2.0 } * f(f64::from(i) * h);
        }
        (1.0 - wait) * (1.0 - (-mu * t).exp()) + wait * sum * h / 3.0
    }

    #[test]
    fn response_quantile_matches_numerical_integration() {
        // (c, lambda, mu): g < mu, g = mu (degenerate), g > mu, large c.
        let cases = [(1, 0.7, 1.0), (2, 1.0, 1.0), (3, 2.85, 1.0), (10, 8.0, 1.0), (10, 9.0, 1.0), (200, 190.0, 1.0)];
        for (c, lambda, mu) in cases {
            for q in [0.5_f64, 0.9, 0.99, 0.999] {
                let t = mmc_response_quantile_secs(c, lambda, mu, q);
                let p = response_cdf_by_integration(c, lambda, mu, t);
                assert!((p - q).abs() < 1e-9, "c={c} lambda={lambda} q={q}: P(T <= {t}) = {p}");
                // The response time dominates both the service time and the waiting time.
                assert!(t >= -(1.0 - q).ln() / mu * (1.0 - 1e-12));
                assert!(t >= mmc_wait_quantile_secs(c, lambda, mu, q));
            }
        }
    }

    #[test]
    fn response_quantile_is_continuous_at_the_degenerate_rate() {
        // c mu - lambda = mu exactly at lambda = (c - 1) mu.
        for (c, mu) in [(2, 1.0), (5, 3.0), (50, 0.2)] {
            let lambda = f64::from(c - 1) * mu;
            for q in [0.5, 0.99] {
                let at = mmc_response_quantile_secs(c, lambda, mu, q);
                for eps in [1e-12, 1e-9, 1e-6] {
                    for side in [-1.0, 1.0] {
                        let near = mmc_response_quantile_secs(c, lambda * (1.0 + side * eps), mu, q);
                        assert_rel(near, at, 100.0 * eps + 1e-12, "degenerate neighbourhood");
                    }
                }
            }
        }
    }

    /// Tiny deterministic generator for the Monte-Carlo test (Knuth's MMIX LCG, top 53 bits).
    struct Lcg(u64);

    impl Lcg {
        /// Uniform in (0, 1).
        fn uniform(&mut self) -> f64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }

        fn exponential(&mut self, rate: f64) -> f64 {
            -self.uniform().ln() / rate
        }
    }

    /// FCFS M/M/c simulation: `(waits, responses)` of `n` customers after a warm-up.
    fn simulate_mmc(c: u32, lambda: f64, mu: f64, n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Lcg(seed);
        let mut free_at = vec![0.0_f64; c as usize];
        let mut now = 0.0;
        let warm_up = n / 20;
        let mut waits = Vec::with_capacity(n);
        let mut responses = Vec::with_capacity(n);
        for i in 0..n + warm_up {
            now += rng.exponential(lambda);
            let (server, &earliest) = free_at.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).unwrap_or((0, &0.0));
            let start = earliest.max(now);
            let service = rng.exponential(mu);
            free_at[server] = start + service;
            if i >= warm_up {
                waits.push(start - now);
                responses.push(start - now + service);
            }
        }
        (waits, responses)
    }

    fn fraction_at_most(xs: &[f64], t: f64) -> f64 {
        xs.iter().filter(|&&x| x <= t).count() as f64 / xs.len() as f64
    }

    #[test]
    fn quantiles_match_monte_carlo_queue() {
        for (c, lambda, mu, seed) in [(1, 0.8, 1.0, 1), (2, 1.0, 1.0, 2), (3, 2.4, 1.0, 3), (10, 9.0, 1.0, 4)] {
            let (waits, responses) = simulate_mmc(c, lambda, mu, 400_000, seed);
            let mean_wait = waits.iter().sum::<f64>() / waits.len() as f64;
            let expected_mean = mmc_mean_wait_secs(c, lambda, mu);
            assert_rel(mean_wait, expected_mean, 0.08, &format!("mean wait c={c}"));
            let empirical_wait_probability = 1.0 - fraction_at_most(&waits, 0.0);
            let wait_probability = erlang_c(c, lambda / mu);
            assert!((empirical_wait_probability - wait_probability).abs() < 0.02, "C for c={c}");
            for q in [0.5, 0.9, 0.99] {
                let t = mmc_response_quantile_secs(c, lambda, mu, q);
                let p = fraction_at_most(&responses, t);
                // Within a few percent of the tail probability, plus sampling noise.
                let tolerance = 0.05 * (1.0 - q) + 0.004;
                assert!((p - q).abs() < tolerance, "response c={c} q={q}: P(T <= {t}) = {p}");
                let tw = mmc_wait_quantile_secs(c, lambda, mu, q);
                if tw > 0.0 {
                    let pw = fraction_at_most(&waits, tw);
                    assert!((pw - q).abs() < tolerance, "wait c={c} q={q}: P(W <= {tw}) = {pw}");
                }
            }
        }
    }

    #[test]
    fn table_rows_and_weights_are_consistent() {
        assert_eq!(row_servers(LAST_FINITE_ROW), LARGE_SERVERS);
        assert_eq!(ROWS * POINTS * 4, ErlangCTable::new().memory_bytes());
        for row in 1..LAST_FINITE_ROW {
            assert!(row_servers(row) < row_servers(row + 1), "row {row}");
        }
        for c in 1..LARGE_SERVERS {
            let (row, weight) = row_and_weight(c, f64::from(c).sqrt());
            let (lo, hi) = (row_servers(row), row_servers(row + 1));
            assert!(lo <= c && c < hi, "c={c} row={row} [{lo}, {hi})");
            assert_eq!(weight, f64::from(c - lo) / f64::from(hi - lo), "c={c}");
        }
        let (row, weight) = row_and_weight(4 * LARGE_SERVERS, 2.0 * f64::from(LARGE_SERVERS).sqrt());
        assert_eq!((row, weight), (LAST_FINITE_ROW, 0.5));
    }

    #[test]
    fn table_rows_are_exact() {
        for c in [1, 2, 3, 17, 31, 32, 100, 1000, 9000, 16384] {
            let row = exact_row(c);
            for (i, &v) in row.iter().enumerate() {
                let rho = 1.0 - i as f64 / BETA_STEPS_PER_UNIT / f64::from(c).sqrt();
                let expected = if rho > 0.0 { erlang_c(c, rho * f64::from(c)) } else { 0.0 };
                assert!((f64::from(v) - expected).abs() <= 1e-7 * expected + 1e-30, "c={c} i={i}: {v} vs {expected}");
            }
        }
        // The Halfin–Whitt row: known values of the limit.
        assert_eq!(halfin_whitt(0.0), 1.0);
        // Reference values from the exact erfc.
        for (beta, alpha) in [
            (0.5, 0.504_538_640_997_945),
            (1.0, 0.223_361_274_798_260_76),
            (2.0, 0.026_881_362_429_432_27),
            (3.0, 0.001_477_094_644_614_293_3),
            (4.0, 3.345_749_667_560_628e-5),
        ] {
            assert_rel(halfin_whitt(beta), alpha, 1e-6, "Halfin–Whitt");
        }
        assert!((erlang_c(1_000_000, 1_000_000.0 - 1000.0) - halfin_whitt(1.0)).abs() < 2e-3);
    }

    /// Largest `|table - erlang_c|` over the test points of server count `c`. `dense` adds a 1,000-point rho grid
    /// to the beta-cell points (every grid point, quarter and midpoint of every cell, step 1/64).
    ///
    /// Points with `beta >= 4` are covered by monotonicity: the table returns exactly 0 there (asserted) and the exact
    /// value is increasing in rho, so its error is at most the exact value at `beta = 4`, which is checked.
    fn table_error(table: &ErlangCTable, c: u32, dense: bool) -> (f64, f64) {
        let root = f64::from(c).sqrt();
        let mut rhos: Vec<f64> = (0..4 * POINTS).map(|i| 1.0 - i as f64 / 64.0 / root).collect();
        if dense {
            rhos.extend((0..1000).map(|i| f64::from(i) / 1000.0));
        }
        rhos.extend([0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0 - 4.0 / root]);
        let mut worst = (0.0, 0.0);
        for rho in rhos {
            if !(0.0..1.0).contains(&rho) {
                continue;
            }
            let got = table.wait_probability(c, rho);
            assert!((0.0..=1.0).contains(&got), "c={c} rho={rho}: {got}");
            if (1.0 - rho) * root * BETA_STEPS_PER_UNIT >= CELLS && rho != 1.0 - 4.0 / root {
                assert_eq!(got, 0.0);
                continue;
            }
            let err = (got - erlang_c(c, rho * f64::from(c))).abs();
            if err > worst.0 {
                worst = (err, rho);
            }
        }
        worst
    }

    #[test]
    fn table_error_bound_all_small_server_counts() {
        let table = ErlangCTable::new();
        let mut worst = (0.0, 0, 0.0);
        for c in 1..=512 {
            let (err, rho) = table_error(&table, c, true);
            if err > worst.0 {
                worst = (err, c, rho);
            }
        }
        assert!(worst.0 <= TABLE_BOUND, "worst {worst:?}");
        // Documented measured maximum.
        assert!(worst.0 < 8.5e-4, "worst {worst:?}");
    }

    #[test]
    fn table_error_bound_sampled_large_server_counts() {
        let table = ErlangCTable::new();
        // Midpoints of every row interval above 512 (where the interpolation across rows errs most) ...
        let mut servers: Vec<u32> = (1..LAST_FINITE_ROW)
            .map(|r| (row_servers(r), row_servers(r + 1)))
            .filter(|&(lo, _)| lo >= 512)
            .map(|(lo, hi)| (lo + hi) / 2)
            .collect();
        // ... 100 random counts up to 10,000, and spot checks far beyond.
        let mut rng = Lcg(99);
        servers.extend((0..100).map(|_| 513 + (rng.uniform() * 9488.0) as u32));
        servers.extend([10_000, 12_345, 16_383, 16_384, 16_385, 20_000, 50_000, 100_000, 1_000_000]);
        let mut worst = (0.0, 0, 0.0);
        for c in servers {
            let (err, rho) = table_error(&table, c, false);
            if err > worst.0 {
                worst = (err, c, rho);
            }
        }
        assert!(worst.0 <= TABLE_BOUND, "worst {worst:?}");
        assert!(worst.0 < 6e-4, "worst {worst:?}");
    }

    #[test]
    fn table_saturates() {
        let table = ErlangCTable::default();
        assert!(format!("{table:?}").contains("ErlangCTable"));
        assert_eq!(table.wait_probability(0, 0.5), 1.0);
        assert_eq!(table.wait_probability(0, 0.0), 1.0);
        for c in [1, 2, 40, 5000, 100_000, u32::MAX] {
            assert_eq!(table.wait_probability(c, 1.0), 1.0);
            assert_eq!(table.wait_probability(c, 7.0), 1.0);
            assert_eq!(table.wait_probability(c, f64::INFINITY), 1.0);
            assert_eq!(table.wait_probability(c, f64::NAN), 1.0);
            // rho <= 0: C = 0, exactly so once beta = sqrt(c) >= 4, within the bound for 1 < c < 16.
            let idle = table.wait_probability(c, 0.0);
            assert!(if c == 1 || c >= 16 { idle == 0.0 } else { idle <= TABLE_BOUND }, "c={c}: {idle}");
            assert_eq!(table.wait_probability(c, -3.0), idle);
            assert_eq!(table.wait_probability(c, f64::NEG_INFINITY), idle);
            assert!(table.wait_probability(c, 1.0 - 1e-15) > 0.99);
        }
        assert_eq!(table.wait_quantile_secs(0, 1.0, 1.0, 0.99), f64::INFINITY);
        assert_eq!(table.wait_quantile_secs(3, 3.0, 1.0, 0.99), f64::INFINITY);
        assert_eq!(table.wait_quantile_secs(3, 0.0, 1.0, 0.99), 0.0);
        assert_eq!(table.wait_quantile_secs(3, 1.0, 1.0, 0.0), 0.0);
    }

    #[test]
    fn table_wait_quantile_tracks_exact() {
        let table = ErlangCTable::new();
        for c in [1, 2, 5, 20, 64, 300, 1000, 5000] {
            for rho in [0.3, 0.7, 0.9, 0.95, 0.99] {
                let mu = 20.0;
                let lambda = rho * f64::from(c) * mu;
                let exact_c = erlang_c(c, rho * f64::from(c));
                let gamma = f64::from(c) * mu - lambda;
                for q in [0.9, 0.99] {
                    let exact = mmc_wait_quantile_secs(c, lambda, mu, q);
                    let fast = table.wait_quantile_secs(c, lambda, mu, q);
                    // |d t / d C| = 1 / (C gamma): a C error of 2e-3 moves the quantile by at most that much.
                    let allowed = if exact_c > 1.0 - q + TABLE_BOUND {
                        TABLE_BOUND / ((exact_c - TABLE_BOUND) * gamma)
                    } else {
                        (2.0 * TABLE_BOUND / (1.0 - q)).ln_1p() / gamma
                    };
                    assert!((fast - exact).abs() <= allowed, "c={c} rho={rho} q={q}: {fast} vs {exact}");
                }
            }
        }
    }

    #[test]
    fn no_nan_for_weird_inputs() {
        let table = ErlangCTable::new();
        let rates = [
            f64::NEG_INFINITY,
            -1.0,
            -0.0,
            0.0,
            f64::MIN_POSITIVE / 4.0,
            1e-300,
            0.5,
            1.0,
            2.0,
            7.5,
            1e6,
            1e300,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
        ];
        let levels = [f64::NEG_INFINITY, -1.0, 0.0, 1e-18, 0.5, 0.99, 1.0 - 1e-16, 1.0, 2.0, f64::INFINITY, f64::NAN];
        for servers in [0, 1, 2, 3, 17, 100, 5000, 100_000, u32::MAX] {
            for &lambda in &rates {
                let b = erlang_b(servers, lambda);
                let c = erlang_c(servers, lambda);
                let t = table.wait_probability(servers, lambda);
                for p in [b, c, t] {
                    assert!((0.0..=1.0).contains(&p), "servers={servers} load={lambda}: {p}");
                }
                for &mu in &rates {
                    let mean = mmc_mean_wait_secs(servers, lambda, mu);
                    assert!(mean >= 0.0, "mean wait servers={servers} lambda={lambda} mu={mu}: {mean}");
                    for &q in &levels {
                        for (what, v) in [
                            ("wait", mmc_wait_quantile_secs(servers, lambda, mu, q)),
                            ("response", mmc_response_quantile_secs(servers, lambda, mu, q)),
                            ("table wait", table.wait_quantile_secs(servers, lambda, mu, q)),
                        ] {
                            assert!(v >= 0.0, "{what} servers={servers} lambda={lambda} mu={mu} q={q}: {v}");
                        }
                    }
                }
            }
        }
    }
}
