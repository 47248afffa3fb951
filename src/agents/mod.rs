//! The learned components, built on candle: the traffic forecaster (and, next, the Commander and Soldiers).
//!
//! Everything here is deterministic for a given seed: weights are initialised and data drawn from our own seeded
//! [`crate::sim::rng::SimRng`] streams, never from candle's unseedable CPU RNG.

pub mod forecast;
pub mod hirl;
pub mod nn;
