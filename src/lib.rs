//! HiRL-Scale: a deterministic full-scale simulator of a shared Kubernetes cluster, Kubernetes-faithful autoscaling
//! baselines, and (in later layers) the hierarchical RL autoscaler that competes with them.
//!
//! Layers, each depending only on those below it (DESIGN §3):
//! - [`app`]: the egui/eframe window. [`cli`]: the command line (opens the window by default).
//! - [`runner`]: the simulation worker thread — typed commands in, owned frames out.
//! - [`agents`]: the learned components (candle): the traffic forecaster with its exponential-smoothing fallback.
//! - [`policy`]: the `Autoscaler` trait and the baselines (HPA v2, cluster autoscaler, threshold, PID, tuned heuristic).
//! - [`sim`]: the deterministic cluster core. [`scenario`]: RON scenario files, validation, save/load.
//! - [`parallel`]: independent runs on a few threads, results in job order (used by training's selection and `eval`).
//! - [`report`]: scorecards and events as plain-text tables — what the CLI prints and the window's "copy as text"
//!   copies.
//!
//! `sim` and `scenario` know nothing of any UI or neural-network crate.

pub mod agents;
pub mod app;
pub mod cli;
pub mod digest;
pub mod malloc_tuning;
pub mod parallel;
pub mod policy;
pub mod replay;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod tagged_json;
#[cfg(test)]
pub(crate) mod test_dirs;
pub mod text_file;
