//! The static threshold scaler of seed 003: add replicas when CPU ≥ 75%, remove when ≤ 25%, with a cooldown.
//! A step up is taken only once the previous one has landed (nothing pending or starting).

use crate::sim::{Actions, AppId, Layout, Observation};

use super::Autoscaler;

#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdConfig {
    /// Default 0.75.
    pub scale_up_at: f32,
    /// Default 0.25.
    pub scale_down_at: f32,
    /// Replicas added or removed per step, as a fraction of the current count (at least one). Default 0.1.
    pub step_fraction: f64,
    /// Seconds between decisions for one app. Default 15.
    pub period_secs: u64,
    /// Seconds an app waits after a change before the next. Default 60.
    pub cooldown_secs: u64,
}

impl Default for ThresholdConfig {
    fn default() -> Self {
        Self { scale_up_at: 0.75, scale_down_at: 0.25, step_fraction: 0.1, period_secs: 15, cooldown_secs: 60 }
    }
}

#[derive(Clone)]
pub struct ThresholdScaler {
    cfg: ThresholdConfig,
    bounds: Vec<(u32, u32)>,
    last_change: Vec<Option<u64>>,
    /// Steps `maxReplicas` cut short, declared held back.
    held_back: super::HeldBack,
}

impl ThresholdScaler {
    pub fn new(layout: &Layout, cfg: ThresholdConfig) -> Self {
        Self {
            cfg,
            bounds: super::hpa_fleet::replica_bounds(layout),
            last_change: vec![None; layout.apps.len()],
            held_back: super::HeldBack::new(layout.apps.len()),
        }
    }
}

impl Autoscaler for ThresholdScaler {
    fn name(&self) -> &str {
        "threshold"
    }

    fn decide(&mut self, obs: &Observation<'_>, out: &mut Actions) {
        let now = obs.now_secs();
        if !now.is_multiple_of(self.cfg.period_secs) {
            return;
        }
        for (i, &(min, max)) in self.bounds.iter().enumerate() {
            if self.last_change[i].is_some_and(|t| now < t + self.cfg.cooldown_secs) {
                continue;
            }
            let view = obs.app(AppId(i as u32));
            let current = view.desired_replicas;
            let step = ((f64::from(current) * self.cfg.step_fraction).ceil() as u32).max(1);
            // No ready pod at all reads as "needs capacity".
            let util = view.cpu_utilization.unwrap_or(1.0);
            // A step up waits until the previous one has landed (no pods pending or starting), or the scaler would
            // keep adding replicas that cannot be scheduled while CPU stays high.
            let landed = view.pending_pods + view.starting_pods == 0;
            let stepped = if util >= self.cfg.scale_up_at && landed {
                current.saturating_add(step)
            } else if util <= self.cfg.scale_down_at {
                current.saturating_sub(step)
            } else {
                current
            };
            let target = stepped.clamp(min, max);
            self.held_back.declare(AppId(i as u32), stepped.saturating_sub(target), out);
            if target != current {
                out.replicas.push((AppId(i as u32), target));
                self.last_change[i] = Some(now);
            }
        }
    }

    fn clone_box(&self) -> Box<dyn Autoscaler> {
        Box::new(self.clone())
    }
}
