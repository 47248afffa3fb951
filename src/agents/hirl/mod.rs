//! HiRL-Scale's Commander and Soldiers (DESIGN §6).
//!
//! - [`features`]: the observations, fixed-shape and named;
//! - [`brain`]: what turns an observation into an action distribution — the trained networks ([`nets`]) or the
//!   teacher rule they were warm-started from;
//! - [`policy`]: the [`HirlPolicy`] autoscaler — the executor that turns decisions into cluster actions, with the
//!   Commander's [`directive`] (floors, dead zone), the Soldiers' budget [`projection`], the [`safety`] layer and
//!   [`survival`] first (under scarcity every app is seated to the pods that carry its load before any gets more)
//!   and the Soldiers' [`size_floor`] and [`ramp_lead`] (sizing ahead of a gentle climb in load); how long its
//!   seating rules held each domain is kept in [`seating_time`];
//! - [`record`]: a record of every decision, for the window's inspector, which explains it with [`explain`] (plain
//!   language, the outcome against the critic) and [`attribution`] (what moved the action and the value);
//! - [`decode`]: how an action vector becomes shares, urgencies, levels and factors (the executor's and the
//!   inspector's one decoding);
//! - [`train`]: behaviour cloning and PPO, with the staged curriculum;
//! - [`frontier`]: the price of the P0+P1 target in node-hours, as `eval frontier` measures it and the window shows it;
//! - [`pod_count`]: the executor's float-to-count roundings, without a libm call.

pub mod attribution;
pub mod brain;
pub mod decode;
pub mod directive;
pub mod explain;
pub mod features;
pub mod frontier;
pub mod nets;
pub mod pod_count;
pub mod policy;
pub mod projection;
pub mod ramp_lead;
pub mod record;
pub mod reward;
pub mod safety;
pub mod seating_time;
pub mod selection;
pub mod size_floor;
pub mod slack;
pub mod survival;
pub mod train;

pub use brain::Brain;
pub use nets::{DEFAULT_AGENTS_PATH, HirlNets};
pub use policy::{HirlConfig, HirlPolicy};
pub use size_floor::SizeFloor;
