//! A PID controller on CPU utilisation per app (seed 003's second baseline).
//!
//! Error e = utilisation − setpoint, sampled every period; output u = Kp·e + Ki·Σe + Kd·Δe (per period, unitless);
//! the replica target becomes ceil(ready × (1 + u)), limited to ×2 / ÷2 per period and to the HPA's bounds.
//! The base is the *ready* pod count, as the measured utilisation is theirs: pods that cannot be scheduled do not
//! compound. The period defaults to 60 s, the CPU telemetry lag, so each update sees the previous one's effect;
//! the integral is clamped (anti-windup).

use crate::sim::{Actions, AppId, Layout, Observation};

use super::Autoscaler;

#[derive(Clone, Debug, PartialEq)]
pub struct PidConfig {
    /// Default 1.5.
    pub kp: f64,
    /// Default 0.1.
    pub ki: f64,
    /// Default 0.5.
    pub kd: f64,
    /// Default 0.60.
    pub setpoint: f64,
    /// Default 60 s.
    pub period_secs: u64,
    /// |Σe| limit. Default 2.
    pub integral_limit: f64,
}

impl Default for PidConfig {
    fn default() -> Self {
        Self { kp: 1.5, ki: 0.1, kd: 0.5, setpoint: 0.6, period_secs: 60, integral_limit: 2.0 }
    }
}

#[derive(Clone)]
pub struct PidScaler {
    cfg: PidConfig,
    bounds: Vec<(u32, u32)>,
    integral: Vec<f64>,
    last_error: Vec<Option<f64>>,
    /// What the ×2 step limit and `maxReplicas` took off each app's target, declared held back.
    held_back: super::HeldBack,
}

impl PidScaler {
    pub fn new(layout: &Layout, cfg: PidConfig) -> Self {
        let n = layout.apps.len();
        Self {
            cfg,
            bounds: super::hpa_fleet::replica_bounds(layout),
            integral: vec![0.0; n],
            last_error: vec![None; n],
            held_back: super::HeldBack::new(n),
        }
    }

    /// One controller update for one app from its ready pod count; returns the new replica target and the pods the
    /// step limit and the bounds held back from the controller's own target.
    fn update(&mut self, i: usize, current: u32, utilisation: f64) -> (u32, u32) {
        let e = utilisation - self.cfg.setpoint;
        let lim = self.cfg.integral_limit;
        self.integral[i] = (self.integral[i] + e).clamp(-lim, lim);
        let de = self.last_error[i].map_or(0.0, |prev| e - prev);
        self.last_error[i] = Some(e);
        let u = self.cfg.kp * e + self.cfg.ki * self.integral[i] + self.cfg.kd * de;
        let current_f = f64::from(current.max(1));
        let wanted = (current_f * (1.0 + u)).ceil();
        let (min, max) = self.bounds[i];
        // `as` saturates a huge or NaN target, as the step limit would.
        let target = (wanted.clamp(current_f / 2.0, current_f * 2.0) as u32).clamp(min, max);
        (target, (wanted as u32).saturating_sub(target))
    }
}

impl Autoscaler for PidScaler {
    fn name(&self) -> &str {
        "pid"
    }

    fn decide(&mut self, obs: &Observation<'_>, out: &mut Actions) {
        if !obs.now_secs().is_multiple_of(self.cfg.period_secs) {
            return;
        }
        for i in 0..self.bounds.len() {
            let view = obs.app(AppId(i as u32));
            // No ready pod reads as saturated.
            let util = f64::from(view.cpu_utilization.unwrap_or(1.0));
            let (target, held_back) = self.update(i, view.ready_pods.max(1), util);
            if target != view.desired_replicas {
                out.replicas.push((AppId(i as u32), target));
            }
            self.held_back.declare(AppId(i as u32), held_back, out);
        }
    }

    fn clone_box(&self) -> Box<dyn Autoscaler> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scaler() -> PidScaler {
        PidScaler {
            cfg: PidConfig::default(),
            bounds: vec![(1, 1000)],
            integral: vec![0.0],
            last_error: vec![None],
            held_back: crate::policy::HeldBack::new(1),
        }
    }

    #[test]
    fn at_setpoint_nothing_moves() {
        assert_eq!(scaler().update(0, 10, 0.6), (10, 0));
    }

    #[test]
    fn above_setpoint_scales_up_by_the_pid_law() {
        // e = 0.2: u = 1.5·0.2 + 0.1·0.2 + 0.5·0 = 0.32 ⇒ ceil(10 · 1.32) = 14.
        assert_eq!(scaler().update(0, 10, 0.8), (14, 0));
    }

    #[test]
    fn derivative_and_integral_act_on_the_second_step() {
        let mut s = scaler();
        s.update(0, 10, 0.8);
        // e = 0.3, Σe = 0.5, Δe = 0.1: u = 0.45 + 0.05 + 0.05 = 0.55 ⇒ ceil(14 · 1.55) = 22.
        assert_eq!(s.update(0, 14, 0.9), (22, 0));
    }

    #[test]
    fn change_is_limited_to_double_or_half() {
        // e = 4.4, Σe clamped to 2: u = 6.6 + 0.2 = 6.8 ⇒ ceil(10 · 7.8) = 78, limited to 20: 58 held back.
        assert_eq!(scaler().update(0, 10, 5.0), (20, 58));
        // e = −0.6: u = −0.9 − 0.06 = −0.96 ⇒ ceil(10 · 0.04) = 1, limited to half of 10 = 5.
        assert_eq!(scaler().update(0, 10, 0.0), (5, 0), "a limited scale-down holds no pod back");
    }
}
