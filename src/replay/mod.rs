//! Incident recordings: a file that replays a run bit for bit — the scenario, the seed, the policies, every event
//! injected live (with when it was injected), which models the policies used, and digests of the run's state along
//! the way to check a replay against.
//!
//! This layer knows scenarios and the simulator's data types, nothing of the window, the networks or the worker:
//! the runner checks a recording's policies and models against what it has loaded and re-runs it.

mod recording;

pub use recording::{Checkpoint, FORMAT, ModelStamp, RUN_COUNTS, Recording, RecordingError, names_run_of};
