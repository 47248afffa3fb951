//! Request rates: the daily and weekly shape, autocorrelated noise, event multipliers, and inline calls.
//!
//! Per domain, the *external* rate is `base · daily(t) · weekly(t) · (1 + noise) · Π events(t)`. Inline calls then
//! add load: a domain's total rate is its external rate plus `ratio ×` the total rate of every caller (evaluated
//! callers first). Each app serves `share_of_domain × total × (1 + app noise)`.
//! Noise is AR(1) per domain and per app with correlation time `noise_corr_secs`; all draws come from the traffic
//! stream, in a fixed order (domains, then apps), once per tick.

use serde::{Deserialize, Serialize};

use super::layout::Layout;
use super::rng::{SimRng, stream};
use super::{TICK_SECS, calendar};
use crate::scenario::{Scenario, TrafficSpec};

/// A multiplicative traffic event on one domain: ramps up linearly, holds, ramps down.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrafficEvent {
    pub domain: u8,
    pub start_secs: u64,
    pub ramp_secs: u64,
    pub duration_secs: u64,
    pub multiplier: f64,
}

impl TrafficEvent {
    /// Multiplier at time `t` (1 outside the event).
    pub fn factor_at(&self, t: u64) -> f64 {
        if t < self.start_secs || t >= self.start_secs + self.duration_secs {
            return 1.0;
        }
        let into = (t - self.start_secs) as f64;
        let left = (self.start_secs + self.duration_secs - t) as f64;
        let ramp = self.ramp_secs.max(1) as f64;
        let level = (into / ramp).min(left / ramp).min(1.0);
        1.0 + (self.multiplier - 1.0) * level
    }

    pub fn end_secs(&self) -> u64 {
        self.start_secs + self.duration_secs
    }
}

/// Traffic state carried across ticks.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Traffic {
    specs: Vec<TrafficSpec>,
    start_hour_of_week: u64,
    domain_noise: Vec<f64>,
    app_noise: Vec<f32>,
    pub events: Vec<TrafficEvent>,
    rng: SimRng,
    /// Outputs of the last tick.
    pub external_rps: Vec<f64>,
    pub total_rps: Vec<f64>,
    pub app_rps: Vec<f64>,
}

impl Traffic {
    pub fn new(s: &Scenario, layout: &Layout, seed: u64) -> Self {
        let n_domains = layout.domains.len();
        let mut t = Traffic {
            specs: s.domains.iter().map(|d| d.traffic.clone()).collect(),
            start_hour_of_week: u64::from(s.start.weekday) * 24 + u64::from(s.start.hour),
            domain_noise: vec![0.0; n_domains],
            app_noise: vec![0.0; layout.apps.len()],
            events: Vec::new(),
            rng: SimRng::new(seed, stream::TRAFFIC),
            external_rps: vec![0.0; n_domains],
            total_rps: vec![0.0; n_domains],
            app_rps: vec![0.0; layout.apps.len()],
        };
        t.compute(layout, 0, false);
        t
    }

    /// The noiseless, event-free external rate of a domain at time `t` (the "expected" traffic).
    pub fn baseline_rps(&self, domain: usize, t: u64) -> f64 {
        let spec = &self.specs[domain];
        let (weekday, hour) = calendar(self.start_hour_of_week, t);
        let phase = (hour - spec.peak_hour) / 24.0 * std::f64::consts::TAU;
        let daily = 1.0 + spec.daily_amplitude * phase.cos();
        let weekly = if weekday >= 5 { spec.weekend_factor } else { 1.0 };
        spec.base_rps * daily * weekly
    }

    /// Advances the noise and recomputes every rate for time `t`.
    pub fn advance(&mut self, layout: &Layout, t: u64) {
        self.compute(layout, t, true);
    }

    fn compute(&mut self, layout: &Layout, t: u64, step_noise: bool) {
        for d in 0..layout.domains.len() {
            let spec = &self.specs[d];
            if step_noise {
                let phi = (-(TICK_SECS as f64) / spec.noise_corr_secs).exp();
                let innovation = spec.noise_sigma * (1.0 - phi * phi).sqrt();
                self.domain_noise[d] = phi * self.domain_noise[d] + innovation * self.rng.normal();
            }
            let mut rate = self.baseline_rps(d, t) * (1.0 + self.domain_noise[d]).max(0.0);
            for e in &self.events {
                if e.domain as usize == d {
                    rate *= e.factor_at(t);
                }
            }
            self.external_rps[d] = rate;
        }
        self.total_rps.copy_from_slice(&self.external_rps);
        for &d in &layout.call_order {
            let caller_rps = self.total_rps[d.0 as usize];
            for &(to, ratio) in &layout.domain(d).calls {
                self.total_rps[to.0 as usize] += ratio * caller_rps;
            }
        }
        for (d, dom) in layout.domains.iter().enumerate() {
            let spec = &self.specs[d];
            let phi = (-(TICK_SECS as f64) / spec.noise_corr_secs).exp() as f32;
            let innovation = (spec.app_noise_sigma as f32) * (1.0 - phi * phi).sqrt();
            let total = self.total_rps[d];
            for i in dom.apps.clone() {
                let i = i as usize;
                if step_noise {
                    self.app_noise[i] = phi * self.app_noise[i] + innovation * self.rng.fast_normal();
                }
                self.app_rps[i] =
                    total * layout.apps[i].share_of_domain * f64::from((1.0 + self.app_noise[i]).max(0.0));
            }
        }
    }

    /// Drops events that ended before `t` so the list stays short over long runs.
    pub fn prune_events(&mut self, t: u64) {
        self.events.retain(|e| e.end_secs() > t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_shape_ramps_holds_and_returns() {
        let e = TrafficEvent { domain: 0, start_secs: 100, ramp_secs: 50, duration_secs: 300, multiplier: 3.0 };
        assert_eq!(e.factor_at(99), 1.0);
        assert_eq!(e.factor_at(100), 1.0);
        assert!((e.factor_at(125) - 2.0).abs() < 1e-9);
        assert_eq!(e.factor_at(150), 3.0);
        assert_eq!(e.factor_at(300), 3.0);
        assert!((e.factor_at(375) - 2.0).abs() < 1e-9);
        assert_eq!(e.factor_at(400), 1.0);
    }
}
