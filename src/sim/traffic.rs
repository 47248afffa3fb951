//! Request rates: the daily and weekly shape, autocorrelated noise, event multipliers, and inline calls.
//!
//! Per domain, the *external* rate is `base · daily(t) · weekly(t) · (1 + noise) · Π events(t)`. Inline calls then
//! add load: a domain's total rate is its external rate plus `ratio ×` the total rate of every caller (evaluated
//! callers first). Each app serves `share_of_domain × total × (1 + app noise)`.
//! Noise is AR(1) per domain and per app with correlation time `noise_corr_secs`; all draws come from the traffic
//! stream, in a fixed order (domains, then apps), once per tick. The base rate also carries the weekend factor and, on
//! paydays (the 1st and 15th of a 30-day simulated month), the payday factor.

use serde::{Deserialize, Serialize};

use super::layout::Layout;
use super::rng::{SimRng, stream};
use super::{TICK_SECS, calendar};
use crate::scenario::{Scenario, StartTime, TrafficSpec};

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

/// The domain-level part of the traffic: external rates (shape × noise × events) and the inline calls that add up to
/// each domain's total. It runs on its own, without apps, which is how the forecaster's training data is made cheaply
/// from exactly the model the simulator uses.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DomainTraffic {
    specs: Vec<TrafficSpec>,
    start: StartTime,
    /// Inline calls per caller: (callee, requests per caller request).
    calls: Vec<Vec<(usize, f64)>>,
    /// Callers before callees.
    call_order: Vec<usize>,
    noise: Vec<f64>,
    pub events: Vec<TrafficEvent>,
    /// Outputs of the last computation, requests per second.
    pub external_rps: Vec<f64>,
    pub total_rps: Vec<f64>,
}

impl DomainTraffic {
    pub fn new(s: &Scenario, layout: &Layout) -> Self {
        let n = layout.domains.len();
        Self {
            specs: s.domains.iter().map(|d| d.traffic.clone()).collect(),
            start: s.start,
            calls: layout.domains.iter().map(|d| d.calls.iter().map(|&(to, r)| (to.0 as usize, r)).collect()).collect(),
            call_order: layout.call_order.iter().map(|d| d.0 as usize).collect(),
            noise: vec![0.0; n],
            events: Vec::new(),
            external_rps: vec![0.0; n],
            total_rps: vec![0.0; n],
        }
    }

    pub fn len(&self) -> usize {
        self.specs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    pub fn spec(&self, domain: usize) -> &TrafficSpec {
        &self.specs[domain]
    }

    pub fn start(&self) -> StartTime {
        self.start
    }

    /// The noiseless, event-free external rate of a domain at time `t` (the "expected" traffic): daily cycle,
    /// weekend and payday factors.
    pub fn baseline_rps(&self, domain: usize, t: u64) -> f64 {
        let spec = &self.specs[domain];
        let (weekday, hour) = calendar(self.start.hour_of_week(), t);
        let phase = (hour - spec.peak_hour) / 24.0 * std::f64::consts::TAU;
        let daily = 1.0 + spec.daily_amplitude * phase.cos();
        let weekly = if weekday >= 5 { spec.weekend_factor } else { 1.0 };
        let payday = if self.start.is_payday(t) { spec.payday_factor } else { 1.0 };
        spec.base_rps * daily * weekly * payday
    }

    /// Recomputes every domain's rate for time `t`, first stepping the noise one tick when `step_noise`. Draws one
    /// normal per domain from `rng`, in domain order.
    pub fn compute(&mut self, rng: &mut SimRng, t: u64, step_noise: bool) {
        if step_noise {
            for (d, spec) in self.specs.iter().enumerate() {
                let phi = (-(TICK_SECS as f64) / spec.noise_corr_secs).exp();
                let innovation = spec.noise_sigma * (1.0 - phi * phi).sqrt();
                self.noise[d] = phi * self.noise[d] + innovation * rng.normal();
            }
        }
        let (mut external, mut total) = (std::mem::take(&mut self.external_rps), std::mem::take(&mut self.total_rps));
        self.fill_rates(t, Some(&self.noise), &self.events, &mut external, &mut total);
        (self.external_rps, self.total_rps) = (external, total);
    }

    /// Each domain's total rate at `t` with no noise and only `events`: what a calendar that knows those events
    /// expects. Writes into `total` (one entry per domain); uses `external` as scratch.
    pub fn expected_total_rps(&self, t: u64, events: &[TrafficEvent], external: &mut [f64], total: &mut [f64]) {
        self.fill_rates(t, None, events, external, total);
    }

    fn fill_rates(
        &self,
        t: u64,
        noise: Option<&[f64]>,
        events: &[TrafficEvent],
        external: &mut [f64],
        total: &mut [f64],
    ) {
        for (d, rate) in external.iter_mut().enumerate() {
            *rate = self.baseline_rps(d, t) * noise.map_or(1.0, |n| (1.0 + n[d]).max(0.0));
            for e in events {
                if e.domain as usize == d {
                    *rate *= e.factor_at(t);
                }
            }
        }
        total.copy_from_slice(external);
        for &d in &self.call_order {
            let caller_rps = total[d];
            for &(to, ratio) in &self.calls[d] {
                total[to] += ratio * caller_rps;
            }
        }
    }

    /// Domains whose traffic reaches `domain` through inline calls (directly or not), and `domain` itself.
    pub fn sources_of(&self, domain: usize) -> Vec<usize> {
        let mut reach = vec![false; self.len()];
        reach[domain] = true;
        // Callers come before callees in `call_order`, so walking it backwards settles each callee before its callers.
        for &d in self.call_order.iter().rev() {
            if self.calls[d].iter().any(|&(to, _)| reach[to]) {
                reach[d] = true;
            }
        }
        (0..self.len()).filter(|&d| reach[d]).collect()
    }

    /// Drops events that ended before `t` so the list stays short over long runs.
    pub fn prune_events(&mut self, t: u64) {
        self.events.retain(|e| e.end_secs() > t);
    }
}

/// Traffic state carried across ticks: the domain rates and each app's share of them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Traffic {
    pub domains: DomainTraffic,
    app_noise: Vec<f32>,
    rng: SimRng,
    /// Requests per second of each app at the last tick.
    pub app_rps: Vec<f64>,
}

impl Traffic {
    pub fn new(s: &Scenario, layout: &Layout, seed: u64) -> Self {
        let mut t = Traffic {
            domains: DomainTraffic::new(s, layout),
            app_noise: vec![0.0; layout.apps.len()],
            rng: SimRng::new(seed, stream::TRAFFIC),
            app_rps: vec![0.0; layout.apps.len()],
        };
        t.compute(layout, 0, false);
        t
    }

    /// Advances the noise and recomputes every rate for time `t`.
    pub fn advance(&mut self, layout: &Layout, t: u64) {
        self.compute(layout, t, true);
    }

    fn compute(&mut self, layout: &Layout, t: u64, step_noise: bool) {
        // Domain draws first, then app draws: the order every recorded result depends on.
        self.domains.compute(&mut self.rng, t, step_noise);
        for (d, dom) in layout.domains.iter().enumerate() {
            let spec = self.domains.spec(d);
            let phi = (-(TICK_SECS as f64) / spec.noise_corr_secs).exp() as f32;
            let innovation = (spec.app_noise_sigma as f32) * (1.0 - phi * phi).sqrt();
            let total = self.domains.total_rps[d];
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
