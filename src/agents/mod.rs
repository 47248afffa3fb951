//! The learned components, built on candle: the traffic forecaster, the Commander and the Soldiers, and the factory
//! that builds any policy by name ([`policies`]).
//!
//! Everything here is deterministic for a given seed: weights are initialised and data drawn from our own seeded
//! [`crate::sim::rng::SimRng`] streams, never from candle's unseedable CPU RNG.

pub mod forecast;
pub mod hirl;
pub mod model_file;
pub mod nn;
pub mod policies;
