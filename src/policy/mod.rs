//! Autoscaling policies behind one trait.
//!
//! An [`Autoscaler`] is called once per base tick with the same lagged [`Observation`] every policy gets, and writes
//! [`Actions`]; each implementation keeps its own period (HPA 15 s, cluster autoscaler 10 s, …). Policies are plain
//! deterministic state machines: no clocks, no randomness of their own unless seeded from the run.
//!
//! The action type covers what the stock controllers do (replica targets, node requests and removals) and what
//! HiRL-Scale adds (per-domain CPU budgets as quotas, warm reserve as placeholder pods, nodes requested ahead of
//! demand, PriorityClasses). HPA bounds (`minReplicas`/`maxReplicas`) are patched on the HPA controller itself
//! ([`hpa::HpaController::set_bounds`]), as `kubectl patch` would, by a policy that wraps an [`HpaFleet`].

pub mod cluster_autoscaler;
pub mod held_back;
pub mod hpa;
mod hpa_fleet;
mod pid;
mod threshold;
pub mod warm_reserve;

use crate::sim::{Actions, Layout, Observation, Simulation};

pub use cluster_autoscaler::{ClusterAutoscaler, ClusterAutoscalerConfig, ScaleUpMode};
pub use held_back::HeldBack;
pub use hpa_fleet::HpaFleet;
pub use pid::{PidConfig, PidScaler};
pub use threshold::{ThresholdConfig, ThresholdScaler};
pub use warm_reserve::{BadWarmReserve, WarmReserve, WarmReserveConfig, WarmReserveSpec, describe_held, reserve_of};

/// A controller of the cluster.
pub trait Autoscaler: Send {
    /// Name used on the command line and in scorecards.
    fn name(&self) -> &str;
    /// Called every base tick; appends this tick's actions (if its period has come).
    fn decide(&mut self, obs: &Observation<'_>, out: &mut Actions);
    /// A deep copy, state included (checkpoints, side-by-side runs).
    fn clone_box(&self) -> Box<dyn Autoscaler>;
    /// An event injected live at `now_secs` (an announced promotion reaches the policy's calendar). Default: ignored.
    fn announce(&mut self, _event: &crate::scenario::EventSpec, _layout: &Layout, _now_secs: u64) {}
    /// The concrete policy, for inspection (decision records); `None` for policies that keep none.
    fn inspect(&self) -> Option<&dyn std::any::Any> {
        None
    }
    /// The concrete policy, mutably (the worker drains decision records); `None` for policies that keep none.
    fn inspect_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
}

impl Clone for Box<dyn Autoscaler> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Several controllers acting together (e.g. a pod autoscaler and a node autoscaler), called in order.
#[derive(Clone)]
pub struct Stack {
    name: String,
    parts: Vec<Box<dyn Autoscaler>>,
}

impl Stack {
    pub fn new(name: impl Into<String>, parts: Vec<Box<dyn Autoscaler>>) -> Self {
        Self { name: name.into(), parts }
    }
}

impl Autoscaler for Stack {
    fn name(&self) -> &str {
        &self.name
    }
    fn decide(&mut self, obs: &Observation<'_>, out: &mut Actions) {
        for p in &mut self.parts {
            p.decide(obs, out);
        }
    }
    fn clone_box(&self) -> Box<dyn Autoscaler> {
        Box::new(self.clone())
    }
    fn announce(&mut self, event: &crate::scenario::EventSpec, layout: &Layout, now_secs: u64) {
        for p in &mut self.parts {
            p.announce(event, layout, now_secs);
        }
    }
}

/// Sets PriorityClasses once, at the first tick (cluster configuration, not a control loop).
#[derive(Clone)]
struct EnablePriorityClasses {
    done: bool,
}

impl Autoscaler for EnablePriorityClasses {
    fn name(&self) -> &str {
        "priority-classes"
    }
    fn decide(&mut self, _obs: &Observation<'_>, out: &mut Actions) {
        if !self.done {
            out.priority_classes = Some(true);
            self.done = true;
        }
    }
    fn clone_box(&self) -> Box<dyn Autoscaler> {
        Box::new(self.clone())
    }
}

/// The baseline policies, by command-line name.
pub const BASELINES: &[(&str, &str)] = &[
    ("hpa", "Kubernetes HPA v2 per app + cluster autoscaler (one node request per pending workload)"),
    ("threshold", "scale up at CPU ≥ 75%, down at ≤ 25% + cluster autoscaler"),
    ("pid", "PID on CPU (Kp 1.5, Ki 0.1, Kd 0.5, setpoint 60%) + cluster autoscaler"),
    ("heuristic", "tuned: HPA + PriorityClasses + batched node scale-up with 10% headroom"),
];

#[derive(Debug, thiserror::Error)]
#[error("unknown policy \"{0}\" (known: {known}, hirl, hirl-teacher)", known = BASELINES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "))]
pub struct UnknownPolicy(pub String);

/// Builds a baseline policy for a cluster layout.
pub fn baseline(name: &str, layout: &Layout) -> Result<Box<dyn Autoscaler>, UnknownPolicy> {
    let stock_ca =
        || Box::new(ClusterAutoscaler::new(layout, ClusterAutoscalerConfig::default())) as Box<dyn Autoscaler>;
    Ok(match name {
        "hpa" => Box::new(Stack::new("hpa", vec![Box::new(HpaFleet::new(layout)), stock_ca()])),
        "threshold" => Box::new(Stack::new(
            "threshold",
            vec![Box::new(ThresholdScaler::new(layout, ThresholdConfig::default())), stock_ca()],
        )),
        "pid" => Box::new(Stack::new("pid", vec![Box::new(PidScaler::new(layout, PidConfig::default())), stock_ca()])),
        "heuristic" => Box::new(Stack::new(
            "heuristic",
            vec![
                Box::new(EnablePriorityClasses { done: false }),
                Box::new(HpaFleet::new(layout)),
                Box::new(ClusterAutoscaler::new(
                    layout,
                    ClusterAutoscalerConfig {
                        mode: ScaleUpMode::Batched { headroom: 0.1 },
                        ..ClusterAutoscalerConfig::default()
                    },
                )),
            ],
        )),
        other => return Err(UnknownPolicy(other.to_string())),
    })
}

/// Runs a policy against a simulation until `until_secs`: observe → decide → apply → step, once per tick.
/// `progress` is called after every simulated hour with the current time.
pub fn run_until(sim: &mut Simulation, policy: &mut dyn Autoscaler, until_secs: u64, mut progress: impl FnMut(u64)) {
    let mut actions = Actions::default();
    while sim.now_secs() < until_secs {
        actions.clear();
        policy.decide(&sim.observe(), &mut actions);
        sim.apply(&actions);
        sim.step();
        if sim.now_secs().is_multiple_of(3600) {
            progress(sim.now_secs());
        }
    }
}
