//! Traffic forecasts: per-domain p10/p50/p80/p90 of the request rate 5, 15 and 30 minutes ahead.
//!
//! - [`features`]: the input vector (last 24 h, calendar, static domain features, announced promotions), causal by
//!   construction.
//! - [`calendar`]: what announced promotions imply for each domain's expected rate.
//! - [`dataset`]: simulated months of traffic from the simulator's own model, cut into samples.
//! - [`train`]: the quantile network (candle, pinball loss) and its conformal recalibration.
//! - [`model`]: the shipped files (`models/forecaster.safetensors` + `.json`), loaded with full validation.
//! - [`eval`]: held-out metrics against seasonal naive and exponential smoothing.
//! - [`live`]: forecasts for a running simulation, with the exponential-smoothing [`fallback`] when the model is
//!   missing, refused or gives a non-finite output; every forecast says where it came from.

pub mod calendar;
pub mod dataset;
pub mod eval;
pub mod fallback;
pub mod features;
pub mod live;
pub mod model;
pub mod train;

pub use crate::agents::model_file::ModelError;
pub use live::{Forecast, ForecasterModel, LEARNED_SOURCE, LiveForecaster};
pub use model::{DEFAULT_MODEL_PATH, ForecastModel};
