//! The worker protocol: the simulation lives on a named background thread; the window talks to it only through
//! typed [`Command`]s (bounded channel in) and owned [`Update`]s (bounded channel out).
//!
//! Contract:
//! - The UI never blocks: [`WorkerHandle::send`] fails fast when the command queue is full, and
//!   [`WorkerHandle::try_next`] takes one update if one has arrived and returns (the window applies them within a
//!   time budget per frame, so a full update channel holds the worker back, never the window).
//! - The worker owns every simulation; frames carry copies. After each frame it calls the waker (the window's
//!   `request_repaint`).
//! - Errors travel as [`Update::Error`]; a failed command leaves the current run as it was.
//! - Pacing lives here, not in the simulator: at a speed factor `f` the worker advances `f` simulated seconds per
//!   wall second (in 5 s ticks); at [`Speed::Max`] it runs flat out in ~15 ms slices.
//! - Side by side: two runs of the same scenario and seed stepped in lockstep; every injected event goes to both.
//! - Dropping the handle sends `Quit` and joins the thread.

mod frame;
mod replay;
mod session;
mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

pub use frame::{DomainPoint, Forecast, Frame, PoolPoint, RunFrame, RunItems, SeriesPoint, Speed, Update};
pub use replay::{ReplayReport, check_policies, check_recording, missing_agents, model_stamps, open_recording, verify};
pub use session::{Session, SessionConfig};

use crate::agents::forecast::ForecasterModel;
use crate::agents::hirl::HirlNets;
use crate::scenario::{EventSpec, Scenario};

/// What to step to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// One 5 s tick.
    Tick,
    /// To the next Soldier decision time (multiple of 10 s).
    SoldierTick,
    /// To the next Commander decision time (multiple of 60 s).
    CommanderTick,
}

impl StepKind {
    pub fn period_secs(self) -> u64 {
        match self {
            StepKind::Tick => crate::sim::TICK_SECS,
            StepKind::SoldierTick => 10,
            StepKind::CommanderTick => 60,
        }
    }
}

/// A request to the worker.
#[derive(Clone, Debug)]
pub enum Command {
    Play,
    Pause,
    TogglePlay,
    Step(StepKind),
    SetSpeed(Speed),
    /// Inject an event into every run (it fires at the next tick, or at its own start if later).
    Inject(EventSpec),
    /// Replace the scenario and restart from t = 0. `origin` names it in messages. A size floor naming domains, or a
    /// reserve naming pools, the new scenario lacks keeps the rest and drops those, with an [`Update::Notice`].
    Load {
        scenario: Box<Scenario>,
        origin: String,
    },
    /// Restart with another policy (the first run's, in side-by-side mode).
    SetPolicy(String),
    /// `Some(policy)`: restart as two runs, HPA against `policy`, on identical traffic (the injected events so far
    /// replay in both). `None`: back to one run.
    SideBySide(Option<String>),
    /// Restart the current scenario from t = 0 (the injected events so far replay).
    Restart,
    /// Restart (the injected events so far replay) with this warm reserve, or none, held under the runs of the
    /// policies `held_by` names (empty: every run; side by side, `["hirl"]` leaves HPA as shipped). A reserve naming
    /// a pool the scenario lacks is an error and the run goes on as it was.
    SetWarmReserve {
        spec: Option<crate::policy::WarmReserveSpec>,
        held_by: Vec<String>,
    },
    /// Restart (the injected events so far replay) with this size floor for HiRL's Soldiers (the other policies have
    /// none to set; the floor waits in the session for a HiRL run).
    SetSizeFloor(crate::agents::hirl::SizeFloor),
    /// Restart (the injected events so far replay) with these real-world limits lifted, every run alike (none: the
    /// scenario's own limits). The scenario's name says which are lifted. A scenario that came lifted (a recording,
    /// a file) does not say what its limits were, so it cannot be put back: an error, and the run goes on as it was.
    SetWhatIf(Vec<crate::scenario::WhatIf>),
    /// Write the session as a scenario: the scenario plus every event injected so far. A what-if session's file keeps
    /// the limits it lifted ([`crate::scenario::Scenario::unlifted`]).
    Export(PathBuf),
    /// Write the scenario the runs use, without the injections (what-if limits kept as for [`Command::Export`]).
    SaveScenario(PathBuf),
    /// Move every run to exactly this simulated time (pauses): back from a snapshot, or forward.
    Seek(u64),
    /// Write the session as a recording (scenario, seed, policies, injections, models, checkpoints).
    SaveRecording(PathBuf),
    /// Replace the session by the replay of a recording (checked against the loaded models first; a refused one
    /// leaves the current run as it was). `origin` names it in messages.
    OpenRecording {
        recording: Box<crate::replay::Recording>,
        origin: String,
    },
    Quit,
}

/// How the worker starts.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub scenario: Scenario,
    pub origin: String,
    pub policy: String,
    /// Run seed; defaults to the scenario's.
    pub seed: Option<u64>,
    pub speed: Speed,
    pub start_playing: bool,
    /// Commands the window may queue before `send` fails. Default 64.
    pub command_capacity: usize,
    /// Frames that may wait for the window. Default 8.
    pub frame_capacity: usize,
    /// The traffic forecaster every run uses. Default: the exponential-smoothing fallback ("no model loaded"); the
    /// window loads `models/forecaster.safetensors`.
    pub forecaster: ForecasterModel,
    /// The HiRL agents, or why `hirl` is run by HPA. Default: none loaded; the window loads `models/hirl.safetensors`.
    pub agents: Result<Arc<HirlNets>, String>,
    /// Snapshots for seeking. Default: every 10 simulated minutes.
    pub session: SessionConfig,
    /// Replay this recording (and the file it came from, for messages) instead of starting the scenario; checked
    /// first, and a refused one leaves the scenario to start, with the reason as an error update.
    pub recording: Option<(Box<crate::replay::Recording>, String)>,
    /// A warm reserve held under the runs started here (`gui --warm-reserve`); a replayed recording brings its own.
    /// Default: none.
    pub warm_reserve: Option<crate::policy::WarmReserveSpec>,
    /// The policies that hold `warm_reserve` (`gui --warm-reserve-for`). Default: empty, every run.
    pub warm_reserve_for: Vec<String>,
    /// HiRL's Soldiers' size floor for the runs started here (`gui --size-floor`); a replayed recording brings its
    /// own. Default: the shipped floor.
    pub size_floor: crate::agents::hirl::SizeFloor,
    /// Real-world limits lifted in `scenario` before the first run (`gui --what-if`); the window can put them back.
    /// Default: none.
    pub what_if: Vec<crate::scenario::WhatIf>,
}

impl WorkerConfig {
    pub fn new(scenario: Scenario, origin: impl Into<String>, policy: impl Into<String>) -> Self {
        Self {
            scenario,
            origin: origin.into(),
            policy: policy.into(),
            seed: None,
            speed: Speed::default(),
            start_playing: false,
            command_capacity: 64,
            frame_capacity: 8,
            forecaster: ForecasterModel::fallback("no model loaded"),
            agents: Err("no agents loaded".into()),
            session: SessionConfig::default(),
            recording: None,
            warm_reserve: None,
            warm_reserve_for: Vec::new(),
            size_floor: Default::default(),
            what_if: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the simulation is busy; try again")]
    Busy,
    #[error("the simulation thread has stopped")]
    Stopped,
}

/// The window's side of the protocol.
pub struct WorkerHandle {
    commands: Sender<Command>,
    updates: Receiver<Update>,
    thread: Option<JoinHandle<()>>,
}

impl WorkerHandle {
    /// Starts the worker thread. `waker` is called after every update (e.g. `ctx.request_repaint()`).
    pub fn spawn(config: WorkerConfig, waker: impl Fn() + Send + 'static) -> std::io::Result<WorkerHandle> {
        let (cmd_tx, cmd_rx) = bounded(config.command_capacity.max(1));
        let (upd_tx, upd_rx) = bounded(config.frame_capacity.max(1));
        let thread = std::thread::Builder::new()
            .name("hirl-sim".to_string())
            .spawn(move || worker::run(config, cmd_rx, upd_tx, Box::new(waker)))?;
        Ok(WorkerHandle { commands: cmd_tx, updates: upd_rx, thread: Some(thread) })
    }

    /// Queues a command without blocking.
    pub fn send(&self, command: Command) -> Result<(), SendError> {
        self.commands.try_send(command).map_err(|e| match e {
            TrySendError::Full(_) => SendError::Busy,
            TrySendError::Disconnected(_) => SendError::Stopped,
        })
    }

    /// The next update that has arrived, if any (never waits for one).
    pub fn try_next(&self) -> Option<Update> {
        self.updates.try_recv().ok()
    }

    /// How many updates have arrived and wait to be taken (at most the frame capacity).
    pub fn queued(&self) -> usize {
        self.updates.len()
    }

    /// Waits up to `timeout` for the next update (for tests and headless tools; the window never calls this).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Update> {
        self.updates.recv_timeout(timeout).ok()
    }

    /// Whether the worker thread is still alive.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        // A full queue must not stop the quit: make room by draining updates until the worker sees it.
        let _ = self.commands.send_timeout(Command::Quit, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            while !t.is_finished() {
                let _ = self.updates.recv_timeout(Duration::from_millis(5));
            }
            let _ = t.join();
        }
    }
}
