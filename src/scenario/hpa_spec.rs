//! The HorizontalPodAutoscaler spec, in `autoscaling/v2` field names so a user's HPA maps onto it 1:1.
//!
//! Only the data and its API-server validation live here (scenario files carry it); the controller that acts on it
//! is `policy::hpa`. Omitted `behavior` — a whole direction or single fields of it — gets Kubernetes' defaults, field
//! by field, as autoscaling/v2 defaulting does.

use serde::{Deserialize, Serialize};

/// autoscaling/v2 `MaxStabilizationWindowSeconds`.
pub const MAX_STABILIZATION_WINDOW_SECONDS: u32 = 3600;
/// autoscaling/v2 `MaxPeriodSeconds` for a scaling policy.
pub const MAX_POLICY_PERIOD_SECONDS: u32 = 1800;

// ---------------------------------------------------------------------------------------------
// Spec
// ---------------------------------------------------------------------------------------------

/// autoscaling/v2 `HorizontalPodAutoscalerSpec` of one HPA, less the scale target reference.
///
/// Serde names are autoscaling/v2's camelCase names, so a user's HPA maps one to one, e.g. in RON:
/// `(minReplicas: 2, maxReplicas: 10, metrics: [CpuUtilization(averageUtilization: 70)])`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaSpec {
    /// Lower bound for the replica count; 1 when omitted, as in autoscaling/v2.
    #[serde(default = "default_min_replicas")]
    pub min_replicas: u32,
    /// Upper bound for the replica count.
    pub max_replicas: u32,
    /// Metrics to scale on; the largest proposal wins.
    pub metrics: Vec<MetricTarget>,
    /// Scaling behaviour; Kubernetes defaults when omitted (also per direction and per field).
    #[serde(default)]
    pub behavior: HpaBehavior,
}

fn default_min_replicas() -> u32 {
    1
}

/// One autoscaling/v2 `MetricSpec` with its target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum MetricTarget {
    /// `type: Resource`, `name: cpu`, `target.type: Utilization`; percent of the CPU request.
    CpuUtilization {
        /// Target average utilisation, percent of request.
        average_utilization: u32,
    },
    /// `type: Resource`, `name: memory`, `target.type: Utilization`; percent of the memory request.
    MemoryUtilization {
        /// Target average utilisation, percent of request.
        average_utilization: u32,
    },
    /// `type: Pods`, `target.type: AverageValue`: a per-pod metric such as requests per second.
    PodsAverageValue {
        /// The metric's name (`metric.name`).
        metric: String,
        /// Target average value per pod, in the metric's unit.
        average_value: f64,
    },
}

impl MetricTarget {
    /// Whether upstream's CPU-only readiness rules apply when grouping pods for this metric.
    pub fn is_cpu(&self) -> bool {
        matches!(self, MetricTarget::CpuUtilization { .. })
    }

    /// Whether the target is a percentage of the pods' requests (so grouping needs the request).
    pub fn uses_requests(&self) -> bool {
        !matches!(self, MetricTarget::PodsAverageValue { .. })
    }

    /// The metric's description as upstream writes it in events and conditions.
    pub fn describe(&self) -> String {
        match self {
            MetricTarget::CpuUtilization { .. } => "cpu resource utilization (percentage of request)".to_string(),
            MetricTarget::MemoryUtilization { .. } => "memory resource utilization (percentage of request)".to_string(),
            MetricTarget::PodsAverageValue { metric, .. } => format!("pods metric {metric}"),
        }
    }
}

/// autoscaling/v2 `HorizontalPodAutoscalerBehavior`. [`Default`] is Kubernetes' default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, from = "HpaBehaviorDe")]
pub struct HpaBehavior {
    /// Rules applied when the recommendation is above the current replica count.
    pub scale_up: HpaScalingRules,
    /// Rules applied when the recommendation is below the current replica count.
    pub scale_down: HpaScalingRules,
}

impl Default for HpaBehavior {
    fn default() -> Self {
        Self { scale_up: HpaScalingRules::default_scale_up(), scale_down: HpaScalingRules::default_scale_down() }
    }
}

/// autoscaling/v2 `HPAScalingRules`.
///
/// Standalone deserialisation requires every field; inside [`HpaBehavior`] omitted fields take
/// the direction's Kubernetes default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaScalingRules {
    /// Window (seconds) over which past recommendations hold back scaling in this direction.
    pub stabilization_window_seconds: u32,
    /// How to combine the policies.
    pub select_policy: SelectPolicy,
    /// Rate limits; at least one is required.
    pub policies: Vec<HpaScalingPolicy>,
}

impl HpaScalingRules {
    /// Kubernetes' scale-up default: no stabilisation, the faster of +4 pods or +100 % per 15 s.
    pub fn default_scale_up() -> Self {
        Self {
            stabilization_window_seconds: 0,
            select_policy: SelectPolicy::Max,
            policies: vec![
                HpaScalingPolicy { kind: PolicyKind::Pods, value: 4, period_seconds: 15 },
                HpaScalingPolicy { kind: PolicyKind::Percent, value: 100, period_seconds: 15 },
            ],
        }
    }

    /// Kubernetes' scale-down default: 300 s stabilisation, up to 100 % per 15 s.
    pub fn default_scale_down() -> Self {
        Self {
            stabilization_window_seconds: 300,
            select_policy: SelectPolicy::Max,
            policies: vec![HpaScalingPolicy { kind: PolicyKind::Percent, value: 100, period_seconds: 15 }],
        }
    }

    pub(crate) fn longest_policy_period(&self) -> u32 {
        self.policies.iter().map(|p| p.period_seconds).max().unwrap_or(0)
    }
}

/// autoscaling/v2 `ScalingPolicySelect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SelectPolicy {
    /// The policy allowing the largest change.
    #[default]
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// autoscaling/v2 `HPAScalingPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaScalingPolicy {
    /// `type`: absolute pods or percent of the replica count at the start of the period.
    #[serde(rename = "type")]
    pub kind: PolicyKind,
    /// Pods or percent allowed to change within one period; > 0.
    pub value: u32,
    /// Length of the sliding period, 1..=1800 s.
    pub period_seconds: u32,
}

/// autoscaling/v2 `HPAScalingPolicyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyKind {
    /// `value` is a number of pods.
    Pods,
    /// `value` is a percentage of the replica count at the start of the period.
    Percent,
}

// autoscaling/v2 defaults each omitted field of each direction separately
// (copyHPAScalingRules), so the wire form is read with per-direction defaults.
#[derive(Deserialize)]
#[serde(rename = "HpaBehavior", rename_all = "camelCase", deny_unknown_fields)]
struct HpaBehaviorDe {
    #[serde(default)]
    scale_up: ScaleUpRulesDe,
    #[serde(default)]
    scale_down: ScaleDownRulesDe,
}

macro_rules! rules_with_defaults {
    ($name:ident, $defaults:path) => {
        #[derive(Deserialize)]
        #[serde(rename = "HpaScalingRules", rename_all = "camelCase", deny_unknown_fields, default)]
        struct $name {
            stabilization_window_seconds: u32,
            select_policy: SelectPolicy,
            policies: Vec<HpaScalingPolicy>,
        }

        impl Default for $name {
            fn default() -> Self {
                let rules = $defaults();
                Self {
                    stabilization_window_seconds: rules.stabilization_window_seconds,
                    select_policy: rules.select_policy,
                    policies: rules.policies,
                }
            }
        }

        impl From<$name> for HpaScalingRules {
            fn from(de: $name) -> Self {
                Self {
                    stabilization_window_seconds: de.stabilization_window_seconds,
                    select_policy: de.select_policy,
                    policies: de.policies,
                }
            }
        }
    };
}

rules_with_defaults!(ScaleUpRulesDe, HpaScalingRules::default_scale_up);
rules_with_defaults!(ScaleDownRulesDe, HpaScalingRules::default_scale_down);

impl From<HpaBehaviorDe> for HpaBehavior {
    fn from(de: HpaBehaviorDe) -> Self {
        Self { scale_up: de.scale_up.into(), scale_down: de.scale_down.into() }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// One invalid field of an [`HpaSpec`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecProblem {
    /// Path of the field relative to the spec, in serde names, e.g.
    /// `behavior.scaleUp.policies[1].periodSeconds`.
    pub field: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl SpecProblem {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Every problem found in a spec that was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid HPA spec: {}", join_problems(.problems))]
pub struct InvalidSpec {
    /// The problems, in field order.
    pub problems: Vec<SpecProblem>,
}

fn join_problems(problems: &[SpecProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl HpaSpec {
    /// All problems the Kubernetes API server would reject for the modelled fields; empty if valid.
    pub fn validate(&self) -> Vec<SpecProblem> {
        let mut problems = Vec::new();
        problems.extend(self.validate_bounds());
        if self.metrics.is_empty() {
            problems.push(SpecProblem::new("metrics", "must specify at least one metric"));
        }
        for (i, metric) in self.metrics.iter().enumerate() {
            match metric {
                MetricTarget::CpuUtilization { average_utilization }
                | MetricTarget::MemoryUtilization { average_utilization } => {
                    if *average_utilization == 0 {
                        problems.push(SpecProblem::new(
                            format!("metrics[{i}].averageUtilization"),
                            "must be greater than 0",
                        ));
                    }
                }
                MetricTarget::PodsAverageValue { metric, average_value } => {
                    if metric.is_empty() {
                        problems.push(SpecProblem::new(format!("metrics[{i}].metric"), "must name a metric"));
                    }
                    if !(average_value.is_finite() && *average_value > 0.0) {
                        problems.push(SpecProblem::new(
                            format!("metrics[{i}].averageValue"),
                            "must be a positive finite number",
                        ));
                    }
                }
            }
        }
        validate_rules(&self.behavior.scale_up, "behavior.scaleUp", &mut problems);
        validate_rules(&self.behavior.scale_down, "behavior.scaleDown", &mut problems);
        problems
    }

    pub fn validate_bounds(&self) -> Vec<SpecProblem> {
        let mut problems = Vec::new();
        if self.min_replicas < 1 {
            problems.push(SpecProblem::new("minReplicas", "must be greater than or equal to 1"));
        }
        if self.max_replicas < self.min_replicas {
            problems.push(SpecProblem::new(
                "maxReplicas",
                format!("must be greater than or equal to minReplicas ({})", self.min_replicas),
            ));
        }
        problems
    }
}

fn validate_rules(rules: &HpaScalingRules, path: &str, problems: &mut Vec<SpecProblem>) {
    if rules.stabilization_window_seconds > MAX_STABILIZATION_WINDOW_SECONDS {
        problems.push(SpecProblem::new(
            format!("{path}.stabilizationWindowSeconds"),
            format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
        ));
    }
    if rules.policies.is_empty() {
        problems.push(SpecProblem::new(format!("{path}.policies"), "must specify at least one Policy"));
    }
    for (i, policy) in rules.policies.iter().enumerate() {
        if policy.value == 0 {
            problems.push(SpecProblem::new(format!("{path}.policies[{i}].value"), "must be greater than 0"));
        }
        if !(1..=MAX_POLICY_PERIOD_SECONDS).contains(&policy.period_seconds) {
            problems.push(SpecProblem::new(
                format!("{path}.policies[{i}].periodSeconds"),
                format!("must be between 1 and {MAX_POLICY_PERIOD_SECONDS}"),
            ));
        }
    }
}
