//! Every policy by command-line name: the baselines of [`crate::policy`] and HiRL-Scale.
//!
//! `hirl` runs the trained Commander and Soldiers; `hirl-teacher` runs the same executor with the hand-written rule
//! the networks were warm-started from (for comparison). When the agents file is missing or refused, `hirl` is run by
//! stock HPA and the run is named `hirl (HPA fallback)`; the reason is in [`PolicyAssets::agents`] for the caller to
//! show. So is a scenario HiRL is not built for (another number of domains than five,
//! [`crate::agents::hirl::features::check_scenario`]): both `hirl` and `hirl-teacher` then run as stock HPA, named
//! `hirl (HPA fallback)` and `hirl-teacher (HPA fallback)`, and the caller says why.

use std::sync::Arc;

use super::forecast::ForecasterModel;
use super::hirl::policy::HirlConfig;
use super::hirl::{Brain, HirlNets, HirlPolicy, SizeFloor};
use crate::policy::{self, Autoscaler, BASELINES, UnknownPolicy, WarmReserve, WarmReserveConfig, WarmReserveSpec};
use crate::scenario::Scenario;
use crate::sim::Layout;

/// The learned policies, by command-line name.
pub const LEARNED: &[(&str, &str)] = &[
    ("hirl", "HiRL-Scale: trained Commander (60 s) over five Soldiers (10 s), forecaster-guided, with safety layer"),
    ("hirl-teacher", "the HiRL executor driven by the hand-written rule the networks were warm-started from"),
];

/// Every policy name, baselines first.
pub fn all_names() -> Vec<&'static str> {
    BASELINES.iter().chain(LEARNED).map(|(n, _)| *n).collect()
}

/// The models a run's policies may need.
#[derive(Clone, Debug)]
pub struct PolicyAssets {
    pub forecaster: ForecasterModel,
    /// The trained agents, or why they could not be used.
    pub agents: Result<Arc<HirlNets>, String>,
    /// Whether HiRL keeps a record of every decision (the window's inspector reads them). Headless runs that print
    /// only scorecards switch this off: no memory for the records, and no critic pass, whose value only the records
    /// show (decisions are the same either way).
    pub keep_decision_records: bool,
    /// Every policy holds at least this warm reserve (see [`crate::policy::warm_reserve`]), its pool names checked
    /// against the scenario beforehand; `None` (the default) leaves reserves to the policy.
    pub warm_reserve: Option<WarmReserveSpec>,
    /// The policies (command-line names) that hold `warm_reserve`, the others running as shipped — so a comparison
    /// prices the reserve against the stock baselines (`--warm-reserve-for`). Empty (the default): every policy.
    pub warm_reserve_for: Vec<String>,
    /// The HiRL Soldiers' size floor (`--size-floor`); the shipped one by default. Only `hirl*` policies have one.
    pub size_floor: SizeFloor,
}

impl PolicyAssets {
    /// No models: forecasts from the fallback, `hirl` handed to HPA.
    pub fn none() -> Self {
        Self {
            forecaster: ForecasterModel::fallback("no model loaded"),
            agents: Err("no agents loaded".into()),
            keep_decision_records: true,
            warm_reserve: None,
            warm_reserve_for: Vec::new(),
            size_floor: SizeFloor::default(),
        }
    }

    /// The shipped forecaster and agents from a checkout's `models/` (benchmarks and tests); problems are kept as the
    /// reasons for the fallbacks.
    pub fn shipped(root: &std::path::Path) -> Self {
        Self {
            forecaster: ForecasterModel::load(&root.join(super::forecast::DEFAULT_MODEL_PATH)),
            agents: Self::load_agents(&root.join(super::hirl::DEFAULT_AGENTS_PATH)),
            keep_decision_records: true,
            warm_reserve: None,
            warm_reserve_for: Vec::new(),
            size_floor: SizeFloor::default(),
        }
    }

    /// The warm reserve `policy` (a command-line name) runs under, if any.
    pub fn warm_reserve_of(&self, policy: &str) -> Option<&WarmReserveSpec> {
        policy::reserve_of(self.warm_reserve.as_ref(), &self.warm_reserve_for, policy)
    }

    /// The size floor `policy` (a command-line name) runs under when it is not the shipped one: `hirl*` only.
    pub fn size_floor_of(&self, policy: &str) -> Option<&SizeFloor> {
        size_floor_of(&self.size_floor, policy)
    }

    /// Loads the agents file; a problem is kept as the reason `hirl` falls back.
    pub fn load_agents(path: &std::path::Path) -> Result<Arc<HirlNets>, String> {
        HirlNets::load(path).map(Arc::new).map_err(|e| e.to_string())
    }
}

/// The size floor `policy` (a command-line name) runs under when `floor` is not the shipped one: `hirl*` only (the
/// other policies have no Soldiers to floor).
pub fn size_floor_of<'a>(floor: &'a SizeFloor, policy: &str) -> Option<&'a SizeFloor> {
    (policy.starts_with("hirl") && !floor.is_shipped()).then_some(floor)
}

/// Name a run under `hirl` carries when the agents could not be used.
pub const HIRL_FALLBACK_NAME: &str = "hirl (HPA fallback)";
/// Name a run under `hirl-teacher` carries on a scenario HiRL is not built for.
pub const HIRL_TEACHER_FALLBACK_NAME: &str = "hirl-teacher (HPA fallback)";

/// Builds a policy by name for a scenario.
pub fn build(
    name: &str,
    scenario: &Scenario,
    layout: &Layout,
    seed: u64,
    assets: &PolicyAssets,
) -> Result<Box<dyn Autoscaler>, UnknownPolicy> {
    let policy = build_plain(name, scenario, layout, seed, assets)?;
    Ok(match assets.warm_reserve_of(name) {
        Some(spec) => Box::new(WarmReserve::new(policy, layout, &WarmReserveConfig::new(spec.clone()))),
        None => policy,
    })
}

fn build_plain(
    name: &str,
    scenario: &Scenario,
    layout: &Layout,
    seed: u64,
    assets: &PolicyAssets,
) -> Result<Box<dyn Autoscaler>, UnknownPolicy> {
    let fallback = |fallback_name: &str| -> Result<Box<dyn Autoscaler>, UnknownPolicy> {
        Ok(Box::new(policy::Stack::new(fallback_name, vec![policy::baseline("hpa", layout)?])))
    };
    let supported = super::hirl::features::check_scenario(scenario).is_ok();
    match name {
        "hirl" => match &assets.agents {
            Ok(nets) if supported => {
                Ok(Box::new(hirl_policy(scenario, layout, seed, Brain::Learned(nets.clone()), assets)))
            }
            _ => fallback(HIRL_FALLBACK_NAME),
        },
        "hirl-teacher" if supported => Ok(Box::new(hirl_policy(scenario, layout, seed, Brain::Teacher, assets))),
        "hirl-teacher" => fallback(HIRL_TEACHER_FALLBACK_NAME),
        other => policy::baseline(other, layout).map_err(|_| UnknownPolicy(other.to_string())),
    }
}

fn hirl_policy(scenario: &Scenario, layout: &Layout, seed: u64, brain: Brain, assets: &PolicyAssets) -> HirlPolicy {
    let cfg = HirlConfig {
        keep_records: assets.keep_decision_records,
        size_floor: assets.size_floor.clone(),
        ..HirlConfig::default()
    };
    HirlPolicy::with_config(scenario, layout, seed, brain, assets.forecaster.clone(), cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::hirl::features::{four_domain_scenario, small_scenario};

    fn name_of(policy: &str, scenario: &Scenario, assets: &PolicyAssets) -> String {
        let layout = Layout::build(scenario, scenario.seed);
        build(policy, scenario, &layout, 1, assets).expect("known policy").name().to_string()
    }

    #[test]
    fn hirl_runs_as_itself_only_with_agents_on_a_scenario_it_is_built_for() {
        let shipped = PolicyAssets::shipped(std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
        let (small, four) = (small_scenario(), four_domain_scenario());
        assert_eq!(name_of("hirl", &small, &shipped), "hirl");
        assert_eq!(name_of("hirl-teacher", &small, &shipped), "hirl-teacher");
        // Without agents only `hirl` falls back; the teacher needs none.
        let none = PolicyAssets::none();
        assert_eq!(name_of("hirl", &small, &none), HIRL_FALLBACK_NAME);
        assert_eq!(name_of("hirl-teacher", &small, &none), "hirl-teacher");
        // Four domains: both fall back, whatever the agents; the baselines are untouched.
        assert_eq!(name_of("hirl", &four, &shipped), HIRL_FALLBACK_NAME);
        assert_eq!(name_of("hirl-teacher", &four, &shipped), HIRL_TEACHER_FALLBACK_NAME);
        assert_eq!(name_of("hpa", &four, &shipped), "hpa");
    }
}
