//! Ramp lead: on a gentle, sustained climb in a domain's load, its Soldier sizes for the load a little ahead.
//!
//! Telemetry shows a domain's request rate 30 s late, and a new pod takes a cold start (plus a node boot when none
//! has room) before it serves. On a ramp of a few percent a minute that lag keeps a domain a step behind its load for
//! the whole climb: traced on priority-inversion (Payment ×1.6 over five minutes), Payment ran at 84–88% CPU and its
//! end-to-end p99, which adds Fraud's, crossed the 200 ms SLO and fell back four times, and every return counted as a
//! cascade. Here a domain whose observed rate grows faster than `min_growth_per_min` on `streak` Soldier ticks in a
//! row is sized for `exp(growth × lead_secs)` times its observed load, and its level is raised to at least
//! `min_level` (×1: no hotter than its HPAs would run it) while the lead lasts.
//!
//! A steep surge (faster than `max_growth_per_min`, now or over the span before, or `max_tick_growth_per_min` over
//! the last tick alone, which catches its first tick) gets no lead: it is over before a lead could act, the
//! provisioner is the wall, and pods asked for on top of it only queue ahead of the ones the survival rules seat
//! first (measured: any lead at the onset of fraud-cascade's 3× surge lengthened Payment's breach by 2–3 minutes).
//!
//! The lead is a factor on the Soldier's targets, so what it adds above the apps' HPA-sized need is slack: created
//! only where the pools have free room, the rest declared to the cluster autoscaler (see [`super::slack`]).
//!
//! Contract: rates in requests per second as observed (lagged); [`RampLead::observe`] is called once per domain at
//! every Soldier tick, in tick order; no clocks, no randomness, so the same observations give the same multipliers.

use std::collections::VecDeque;

/// When and how far a Soldier sizes ahead of a ramp, with the shipped defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RampLeadConfig {
    /// Default true.
    pub enabled: bool,
    /// Growth is measured over this span of observed rates. Default 30 s (three Soldier ticks): short enough that a
    /// steep surge shows as steep within a tick or two of reaching the telemetry.
    pub span_secs: u64,
    /// Growth (ln of the rate, per minute) above which the lead starts. Default 0.06: about three standard
    /// deviations of the traffic noise over a 30 s span, so an ordinary day gets no lead (measured at 0.045: the
    /// reference day's all-domain breach minutes 7.9 → 49.7 from leads on noise).
    pub min_growth_per_min: f64,
    /// Growth above which there is no lead, now or over the span before. Default 0.25 (the shipped surges climb at
    /// 55–90% a minute, priority-inversion's ramp at 9%).
    pub max_growth_per_min: f64,
    /// Growth over the last Soldier tick alone above which there is no lead. Default 0.3: the first tick of a steep
    /// surge still looks gentle over the span, but not over its last 10 s. At 0.5 the first tick of Fraud's tripling
    /// in fraud-cascade was still led (its rate climbs behind Payment's); priority-inversion's ramp is led at 0.3.
    pub max_tick_growth_per_min: f64,
    /// Soldier ticks in a row above `min_growth_per_min` before the lead applies. Default 1. Measured on six seed
    /// pairs (1001–1012) against 2, which waited a tick in case it was a steep surge's first: cascades 141 → 119 and
    /// P0+P1 breach minutes 1,152.7 → 1,154.5 (the one-tick check and the level floor not yet in either).
    pub streak: u32,
    /// How far ahead the load is extrapolated. Default 120 s: the rate's 30 s telemetry lag plus about a cold start
    /// (measured at 180 s: the same P0+P1 breach minutes, more all-domain breach).
    pub lead_secs: f64,
    /// The most the lead may add, ln of the multiplier. Default 0.5 (×1.65).
    pub max_ln: f64,
    /// While the lead applies, the domain level is at least this multiple of the HPA-sized need. Default 1.0: the
    /// size floor lets a Soldier run a domain up to about 10% hotter than its HPAs would, and that margin is what a
    /// climb eats first (measured on six seed pairs against no such floor, one-tick check at 0.5: P0+P1 breach
    /// minutes 1,158.4 → 1,145.4, cascades 126 → 120, all-domain 2,677.0 → 2,621.1, node-hours +0.07%).
    pub min_level: f64,
}

impl Default for RampLeadConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            span_secs: 30,
            min_growth_per_min: 0.06,
            max_growth_per_min: 0.25,
            max_tick_growth_per_min: 0.3,
            streak: 1,
            lead_secs: 120.0,
            max_ln: 0.5,
            min_level: 1.0,
        }
    }
}

/// Per domain: the observed rates of the last two spans, the ticks in a row on a ramp, and the multiplier now.
#[derive(Clone, Debug)]
pub struct RampLead {
    cfg: RampLeadConfig,
    /// Soldier ticks per span.
    span_ticks: usize,
    period_secs: f64,
    rates: Vec<VecDeque<f32>>,
    streak: Vec<u32>,
    multiplier: Vec<f64>,
}

impl RampLead {
    pub fn new(cfg: RampLeadConfig, n_domains: usize, soldier_period_secs: u64) -> Self {
        let period = soldier_period_secs.max(1);
        let span_ticks = (cfg.span_secs / period).max(1) as usize;
        Self {
            cfg,
            span_ticks,
            period_secs: period as f64,
            rates: vec![VecDeque::with_capacity(2 * span_ticks + 1); n_domains],
            streak: vec![0; n_domains],
            multiplier: vec![1.0; n_domains],
        }
    }

    /// Records domain `d`'s observed rate at this Soldier tick and returns its multiplier (1 = no lead).
    pub fn observe(&mut self, d: usize, rps: f32) -> f64 {
        let span = self.span_ticks;
        let rates = &mut self.rates[d];
        if rates.len() == 2 * span + 1 {
            rates.pop_front();
        }
        rates.push_back(rps);
        let per_min = 60.0 / (span as f64 * self.period_secs);
        let growth = |from: f32, to: f32| -> f64 {
            if from > 0.0 && to > 0.0 { f64::from(to / from).ln() * per_min } else { 0.0 }
        };
        let n = rates.len();
        let now = if n > span { growth(rates[n - 1 - span], rates[n - 1]) } else { 0.0 };
        let before = if n == 2 * span + 1 { growth(rates[0], rates[span]) } else { 0.0 };
        let last_tick = if n > 1 { growth(rates[n - 2], rates[n - 1]) * span as f64 } else { 0.0 };
        let on_ramp = self.cfg.enabled
            && now > self.cfg.min_growth_per_min
            && now.max(before) < self.cfg.max_growth_per_min
            && last_tick < self.cfg.max_tick_growth_per_min;
        self.streak[d] = if on_ramp { self.streak[d] + 1 } else { 0 };
        self.multiplier[d] = if on_ramp && self.streak[d] >= self.cfg.streak {
            (now / 60.0 * self.cfg.lead_secs).min(self.cfg.max_ln).exp()
        } else {
            1.0
        };
        self.multiplier[d]
    }

    /// Domain `d`'s multiplier from its last observation.
    pub fn multiplier(&self, d: usize) -> f64 {
        self.multiplier[d]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Multipliers for a rate that follows `rate(t)` at every 10 s tick from t = 0 to `end`.
    fn run(cfg: RampLeadConfig, end: u64, rate: impl Fn(f64) -> f64) -> Vec<(u64, f64)> {
        let mut lead = RampLead::new(cfg, 1, 10);
        (0..=end / 10).map(|k| (k * 10, lead.observe(0, rate((k * 10) as f64) as f32))).collect()
    }

    #[test]
    fn a_gentle_ramp_is_led_from_its_first_tick_by_its_growth_over_the_lead() {
        // ×1.6 over 300 s from t = 100: 9.4% a minute.
        let g = 1.6f64.ln() / 300.0;
        let out = run(RampLeadConfig::default(), 500, |t| 1000.0 * (g * (t - 100.0).clamp(0.0, 300.0)).exp());
        let first = out.iter().find(|(_, m)| *m > 1.0).expect("the ramp is led");
        // Growth over the span exceeds 6%/min from t = 120.
        assert_eq!(first.0, 120, "{out:?}");
        // Waiting for a second tick in a row starts it a tick later.
        let two = run(RampLeadConfig { streak: 2, ..RampLeadConfig::default() }, 500, |t| {
            1000.0 * (g * (t - 100.0).clamp(0.0, 300.0)).exp()
        });
        assert_eq!(two.iter().find(|(_, m)| *m > 1.0).map(|f| f.0), Some(130), "{two:?}");
        let steady = out.iter().find(|(t, _)| *t == 200).expect("tick").1;
        assert!((steady - (g * 120.0).exp()).abs() < 1e-3, "×{steady} vs ×{}", (g * 120.0).exp());
        // Once the ramp ends, the lead goes within a span.
        assert!(out.iter().filter(|(t, _)| *t >= 430).all(|(_, m)| *m == 1.0), "{out:?}");
    }

    #[test]
    fn a_steep_surge_flat_load_and_a_fall_get_no_lead() {
        let cfg = RampLeadConfig::default();
        // ×3 over 120 s (55% a minute): its first tick looks gentle over the span, but not over the tick alone.
        let surge = |t: f64| 1000.0 * (3f64.ln() / 120.0 * (t - 100.0).clamp(0.0, 120.0)).exp();
        assert!(run(cfg, 600, surge).iter().all(|(_, m)| *m == 1.0), "{:?}", run(cfg, 600, surge));
        // Without the one-tick check that first tick is led.
        let unchecked = RampLeadConfig { max_tick_growth_per_min: f64::INFINITY, ..cfg };
        assert_eq!(run(unchecked, 600, surge).iter().filter(|(_, m)| *m > 1.0).count(), 1);
        assert!(run(cfg, 600, |_| 1000.0).iter().all(|(_, m)| *m == 1.0));
        let fall = run(cfg, 600, |t| 1000.0 * (-0.002 * t).exp());
        assert!(fall.iter().all(|(_, m)| *m == 1.0));
        // Turned off, a gentle ramp is not led either.
        let off = RampLeadConfig { enabled: false, ..cfg };
        assert!(run(off, 600, |t| 1000.0 * (0.0015 * t).exp()).iter().all(|(_, m)| *m == 1.0));
    }

    #[test]
    fn the_lead_never_exceeds_its_cap_and_a_zero_rate_is_not_a_ramp() {
        let cfg =
            RampLeadConfig { max_growth_per_min: 10.0, max_tick_growth_per_min: 10.0, ..RampLeadConfig::default() };
        let out = run(cfg, 600, |t| 1000.0 * (0.01 * t).exp());
        assert!(out.iter().all(|(_, m)| *m <= cfg.max_ln.exp() + 1e-9), "{out:?}");
        assert!(out.iter().any(|(_, m)| (*m - cfg.max_ln.exp()).abs() < 1e-9));
        let from_zero = run(cfg, 200, |t| if t < 50.0 { 0.0 } else { 1000.0 });
        assert!(from_zero.iter().all(|(_, m)| *m == 1.0), "{from_zero:?}");
    }
}
