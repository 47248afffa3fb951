//! HiRL-Scale's Commander and Soldiers (issue 5, in progress). What is here so far is the arithmetic between a
//! network's output and an executable action, with its invariants property-tested:
//! - [`directive`]: the Commander's shares (floors, dead zone, exact sum);
//! - [`projection`]: the Soldier's 110%-of-budget cap on scale-ups (scale-downs never capped).
//!
//! Not yet here: observations, networks, PPO, the safety layer, decision records, `--policy hirl`.

pub mod directive;
pub mod projection;
