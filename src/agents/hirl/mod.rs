//! HiRL-Scale's Commander and Soldiers (issue 5, in progress). What is here so far is the arithmetic between a
//! network's output and an executable action, with its invariants property-tested:
//! - [`directive`]: the Commander's shares (floors, dead zone, exact sum);
//! - [`projection`]: the Soldier's 110%-of-budget cap on scale-ups (scale-downs never capped);
//! - [`safety`]: the graduated, priority-aware triggers that alert, freeze or hand a domain back to HPA, recorded.
//!
//! Not yet here: observations, networks, PPO, decision records, the executor that applies the safety levels,
//! `--policy hirl`.

pub mod directive;
pub mod projection;
pub mod safety;
