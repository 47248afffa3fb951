//! The integration suite: one test binary (DESIGN §8). Modules by subject.

mod cli;
mod common;
mod determinism;
mod forecaster;
mod hirl;
mod inspector;
mod invariants;
mod replay;
mod runner;
mod scenario_files;
mod shipped;
mod window;
