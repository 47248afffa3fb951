//! The worker loop: owns the [`Session`], paces it, answers commands, emits frames.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};

use super::frame::{Frame, Speed, Update};
use super::replay::{model_stamps, open_recording};
use super::session::{Session, SessionConfig};
use super::{Command, WorkerConfig};
use crate::agents::policies::PolicyAssets;
use crate::replay::Recording;
use crate::scenario::what_if::{Limits, lifted};
use crate::scenario::{Scenario, WhatIf};
use crate::sim::TICK_SECS;

/// Longest stretch of simulation between two looks at the command queue and two frames.
const SLICE: Duration = Duration::from_millis(15);
/// Wait for commands while paused (also the keep-alive of the loop).
const IDLE_WAIT: Duration = Duration::from_millis(50);

/// Runs started after a replay (a restart, another policy) hold what the recording held: its warm reserve and size
/// floor.
fn hold_as_recorded(assets: &mut PolicyAssets, recording: &crate::replay::Recording) {
    assets.warm_reserve = recording.warm_reserve.clone();
    assets.warm_reserve_for = recording.warm_reserve_for.clone();
    assets.size_floor = recording.size_floor.clone().unwrap_or_default();
}

struct Worker {
    session: Session,
    assets: PolicyAssets,
    session_cfg: SessionConfig,
    origin: String,
    playing: bool,
    /// A seek in progress: the tick being stepped to (in slices, between looks at the command queue).
    seeking_to: Option<u64>,
    speed: Speed,
    generation: u64,
    /// Simulated seconds owed to the pacing clock.
    debt_secs: f64,
    last_pace: Instant,
    updates: Sender<Update>,
    waker: Box<dyn Fn() + Send>,
    dirty: bool,
    /// The limits the session's scenario had before the what-ifs its name shows were lifted (here, or where a replayed
    /// recording was made); `None` when none are, or when it came lifted without them (then they cannot be put
    /// back).
    unlifted: Option<Limits>,
}

/// `scenario` with `what_if` lifted, and the limits it had before anything was lifted: its own if this lifts the first,
/// or those it came with (an exported what-if session carries them, [`Scenario::unlifted`]), which are taken out of
/// it, so the scenario a session runs never carries them.
fn lift(mut scenario: Scenario, what_if: &[WhatIf]) -> (Scenario, Option<Limits>) {
    let came_with = scenario.unlifted.take();
    let before =
        if lifted(&scenario).is_empty() { (!what_if.is_empty()).then(|| Limits::of(&scenario)) } else { came_with };
    what_if.iter().for_each(|w| w.apply(&mut scenario));
    (scenario, before)
}

pub(super) fn run(
    config: WorkerConfig,
    commands: Receiver<Command>,
    updates: Sender<Update>,
    waker: Box<dyn Fn() + Send>,
) {
    let seed = config.seed.unwrap_or(config.scenario.seed);
    let mut assets = PolicyAssets {
        forecaster: config.forecaster,
        agents: config.agents,
        keep_decision_records: true,
        warm_reserve: config.warm_reserve,
        warm_reserve_for: config.warm_reserve_for,
        size_floor: config.size_floor,
    };
    let mut origin = config.origin;
    let (scenario, mut unlifted) = lift(config.scenario, &config.what_if);
    let replay = config.recording.map(|(rec, file)| (open_recording(&rec, &file, &assets, config.session), file, rec));
    let session = match replay {
        Some((Ok(s), o, rec)) => {
            origin = o;
            hold_as_recorded(&mut assets, &rec);
            unlifted = rec.unlifted.clone();
            Ok(s)
        }
        Some((Err(e), _, _)) => {
            let _ = updates.try_send(Update::Error(e));
            Session::new(Arc::new(scenario), seed, &[config.policy], &assets, config.session)
        }
        None => Session::new(Arc::new(scenario), seed, &[config.policy], &assets, config.session),
    };
    let session = match session {
        Ok(s) => s,
        Err(e) => {
            let _ = updates.try_send(Update::Error(e));
            waker();
            return;
        }
    };
    let mut w = Worker {
        session,
        assets,
        session_cfg: config.session,
        origin,
        playing: config.start_playing,
        seeking_to: None,
        speed: config.speed,
        generation: 0,
        debt_secs: 0.0,
        last_pace: Instant::now(),
        updates,
        waker,
        dirty: true,
        unlifted,
    };
    loop {
        let next = if w.playing || w.seeking_to.is_some() {
            match commands.try_recv() {
                Ok(c) => Some(c),
                Err(crossbeam_channel::TryRecvError::Empty) => None,
                Err(crossbeam_channel::TryRecvError::Disconnected) => return,
            }
        } else {
            match commands.recv_timeout(IDLE_WAIT) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        if let Some(cmd) = next {
            if matches!(cmd, Command::Quit) {
                return;
            }
            w.handle(cmd);
            continue; // take every queued command before simulating
        }
        if w.seeking_to.is_some() {
            w.advance_seek();
        } else if w.playing {
            w.advance_paced();
        }
        w.emit();
        if w.playing && w.speed.factor().is_some() {
            std::thread::sleep(Duration::from_millis(4));
        }
    }
}

impl Worker {
    fn step(&mut self) {
        self.session.step();
        self.dirty = true;
    }

    fn advance_paced(&mut self) {
        let start = Instant::now();
        match self.speed.factor() {
            Some(f) => {
                let elapsed = self.last_pace.elapsed().as_secs_f64();
                self.last_pace = Instant::now();
                // Do not bank more than a second of lag (a slow machine runs slower, it does not lurch).
                self.debt_secs = (self.debt_secs + elapsed * f).min(f + TICK_SECS as f64);
                while self.debt_secs >= TICK_SECS as f64 && !self.session.finished() && start.elapsed() < SLICE {
                    self.step();
                    self.debt_secs -= TICK_SECS as f64;
                }
            }
            None => {
                while !self.session.finished() && start.elapsed() < SLICE {
                    self.step();
                }
            }
        }
        if self.session.finished() {
            self.playing = false;
            self.dirty = true;
        }
    }

    /// Steps toward the seek target for one slice.
    fn advance_seek(&mut self) {
        let start = Instant::now();
        while let Some(target) = self.seeking_to {
            if self.session.now_secs() >= target || self.session.finished() {
                self.seeking_to = None;
            } else if start.elapsed() >= SLICE {
                break;
            } else {
                self.step();
            }
        }
        self.dirty = true;
    }

    fn error(&self, message: String) {
        let _ = self.updates.try_send(Update::Error(message));
        (self.waker)();
    }

    fn notify(&self, update: Update) {
        let _ = self.updates.try_send(update);
        (self.waker)();
    }

    /// Replaces the session (a failed start keeps the current one and says why).
    fn replace(&mut self, session: Result<Session, String>, origin: Option<String>) {
        match session {
            Ok(s) => {
                self.session = s;
                self.seeking_to = None;
                if let Some(o) = origin {
                    self.origin = o;
                }
                self.generation += 1;
                self.debt_secs = 0.0;
                self.dirty = true;
            }
            Err(e) => self.error(e),
        }
    }

    /// Starts the policies afresh under the current assets; returns whether it did (see [`Worker::replace`]).
    fn restart(&mut self, scenario: Arc<Scenario>, seed: u64, policies: Vec<String>, origin: Option<String>) -> bool {
        let session = Session::new(scenario, seed, &policies, &self.assets, self.session_cfg);
        let started = session.is_ok();
        self.replace(session, origin);
        started
    }

    /// Restarts the scenario, injected events kept, under other policies. A warm reserve held under the run under
    /// test alone (the last run: the single one, or the right-hand one side by side) follows it to its new policy,
    /// so "the challenger with a reserve against HPA as shipped" stays that when the challenger changes.
    fn switch_policies(&mut self, policies: Vec<String>) {
        let previous = (self.assets.warm_reserve.clone(), self.assets.warm_reserve_for.clone());
        let old = self.session.policies();
        if let ([held], Some(old_test), Some(new_test)) = (previous.1.as_slice(), old.last(), policies.last())
            && held == old_test
            && !policies.contains(held)
        {
            self.assets.warm_reserve_for = vec![new_test.clone()];
        }
        self.restart_or_restore(policies, |a| (a.warm_reserve, a.warm_reserve_for) = previous);
    }

    /// Restarts the scenario, injected events kept, under `policies` and the assets as they are now; if the new
    /// session is refused, `restore` puts back what the command changed in them.
    fn restart_or_restore(&mut self, policies: Vec<String>, restore: impl FnOnce(&mut PolicyAssets)) {
        let scenario = Arc::new(self.session.export_scenario());
        if !self.restart(scenario, self.session.seed(), policies, None) {
            restore(&mut self.assets);
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Play => self.set_playing(true),
            Command::Pause => self.set_playing(false),
            Command::TogglePlay => self.set_playing(!self.playing),
            Command::SetSpeed(s) => {
                self.speed = s;
                self.dirty = true;
            }
            Command::Step(kind) => {
                self.set_playing(false);
                let period = kind.period_secs();
                let target = (self.session.now_secs() / period + 1) * period;
                while self.session.now_secs() < target && !self.session.finished() {
                    self.step();
                }
            }
            Command::Inject(event) => {
                // An injection lands where the run is now: a seek in progress stops there.
                self.seeking_to = None;
                match self.session.inject(event) {
                    Ok(_) => self.dirty = true,
                    Err(e) => self.error(e),
                }
            }
            Command::Load { scenario, origin } => {
                let seed = scenario.seed;
                let before = self.assets.clone();
                let dropped = keep_what_applies(&mut self.assets, &scenario);
                let name = scenario.name.clone();
                // The limits lifted now stay lifted, as the toolbar shows them (like the floor and the reserve).
                let (scenario, unlifted) = lift(*scenario, &lifted(self.session.scenario()));
                if self.restart(Arc::new(scenario), seed, self.session.policies(), Some(origin)) {
                    self.unlifted = unlifted;
                    if !dropped.is_empty() {
                        self.notify(Update::Notice(format!(
                            "opened \"{name}\" without what it has no place for: {}",
                            dropped.join("; ")
                        )));
                    }
                } else {
                    self.assets = before;
                }
            }
            Command::SetPolicy(name) => {
                let mut policies = self.session.policies();
                policies[0] = name;
                self.switch_policies(policies);
            }
            Command::SideBySide(other) => {
                // Back to one run: the policy under test (the right-hand one), as the toolbar shows it.
                let policies = match other {
                    Some(p) => vec!["hpa".to_string(), p],
                    None => self.session.policies().into_iter().last().into_iter().collect(),
                };
                self.switch_policies(policies);
            }
            Command::SetWarmReserve { spec, held_by } => {
                let previous = (
                    std::mem::replace(&mut self.assets.warm_reserve, spec),
                    std::mem::replace(&mut self.assets.warm_reserve_for, held_by),
                );
                self.restart_or_restore(self.session.policies(), |a| {
                    (a.warm_reserve, a.warm_reserve_for) = previous;
                });
            }
            Command::SetSizeFloor(floor) => {
                let previous = std::mem::replace(&mut self.assets.size_floor, floor);
                self.restart_or_restore(self.session.policies(), |a| a.size_floor = previous);
            }
            Command::SetWhatIf(what_if) => self.set_what_if(&what_if),
            // The events injected so far are kept, as by every other restart: R restarted the scenario without those
            // injected since the last restart from a menu (which had folded the earlier ones in), where the Keys
            // list says they are kept.
            Command::Restart => self.restart_or_restore(self.session.policies(), |_| {}),
            Command::Export(path) => self.write_scenario(&path, true),
            Command::SaveScenario(path) => self.write_scenario(&path, false),
            Command::Seek(t) => {
                self.set_playing(false);
                self.seeking_to = Some(self.session.begin_seek(t));
                self.dirty = true;
            }
            Command::SaveRecording(path) => {
                let models = model_stamps(&self.session.policies(), self.session.scenario(), &self.assets);
                let rec = Recording { unlifted: self.unlifted.clone(), ..self.session.recording(&self.origin, models) };
                match rec.save_file(&path) {
                    Ok(()) => self.notify(Update::RecordingSaved(path.display().to_string())),
                    Err(e) => self.error(e.to_string()),
                }
            }
            Command::OpenRecording { recording, origin } => {
                let session = open_recording(&recording, &origin, &self.assets, self.session_cfg);
                if session.is_ok() {
                    self.playing = false;
                    // Runs started after this replay hold what it held; its scenario's limits are as recorded, and
                    // the what-if menu can put back those the recording kept.
                    hold_as_recorded(&mut self.assets, &recording);
                    self.unlifted = recording.unlifted.clone();
                }
                self.replace(session, Some(origin));
            }
            Command::Quit => {}
        }
    }

    /// Writes the scenario the runs use, with the injections so far as scripted events or without them. A what-if
    /// session's file keeps the limits it lifted, so opened again it can be put back.
    fn write_scenario(&mut self, path: &std::path::Path, with_injections: bool) {
        let scenario =
            if with_injections { self.session.export_scenario() } else { (**self.session.scenario()).clone() };
        let scenario = Scenario { unlifted: self.unlifted.clone(), ..scenario };
        let names: Vec<&str> = lifted(&scenario).iter().map(|w| w.name()).collect();
        let what_if = match (names.is_empty(), &scenario.unlifted) {
            (true, _) => String::new(),
            // Short: the status bar has one line.
            (false, Some(_)) => format!(" ({} lifted; its own limits kept, to put back)", names.join(" and ")),
            (false, None) => format!(" ({} lifted, as it came)", names.join(" and ")),
        };
        let (done, failed) = if with_injections { ("session exported", "export") } else { ("saved", "save") };
        match crate::scenario::save_file(&scenario, path) {
            Ok(()) => self.notify(Update::ScenarioWritten(format!("{done} to {}{what_if}", path.display()))),
            Err(e) => self.error(format!("cannot {failed} to {}: {e}", path.display())),
        }
    }

    /// Restarts with `what_if` lifted instead of what is lifted now (see [`Command::SetWhatIf`]).
    fn set_what_if(&mut self, what_if: &[WhatIf]) {
        let mut scenario = self.session.export_scenario();
        let now = lifted(&scenario);
        if now == what_if {
            return;
        }
        if !now.is_empty() {
            let Some(limits) = &self.unlifted else {
                let names: Vec<&str> = now.iter().map(|w| w.name()).collect();
                return self.error(format!(
                    "this run's scenario came with {} lifted and does not say what its limits were; open the \
                     scenario itself to run it under its own",
                    names.join(" and ")
                ));
            };
            limits.restore(&mut scenario);
        }
        let (scenario, unlifted) = lift(scenario, what_if);
        if self.restart(Arc::new(scenario), self.session.seed(), self.session.policies(), None) {
            self.unlifted = unlifted;
        }
    }

    fn set_playing(&mut self, on: bool) {
        // Playing (or pausing) takes over from a seek in progress, wherever it got to.
        self.seeking_to = None;
        let on = on && !self.session.finished();
        if on && !self.playing {
            self.last_pace = Instant::now();
            self.debt_secs = 0.0;
        }
        self.playing = on;
        self.dirty = true;
    }

    /// Sends a frame if something changed; keeps the data for the next one if the window is behind.
    fn emit(&mut self) {
        if !self.dirty {
            return;
        }
        let frame = Frame {
            now_secs: self.session.now_secs(),
            duration_secs: self.session.duration_secs(),
            playing: self.playing,
            speed: self.speed,
            generation: self.generation,
            recorded_until_secs: self.session.recorded_until_secs(),
            origin: self.origin.clone(),
            warm_reserve: self.session.warm_reserve().cloned(),
            warm_reserve_for: self.session.warm_reserve_for().to_vec(),
            size_floor: self.session.size_floor().clone(),
            scenario: Arc::clone(self.session.scenario()),
            injections: self.session.injections().to_vec(),
            policies: self.session.policies(),
            runs: self.session.take_frames(),
        };
        match self.updates.try_send(Update::Frame(Box::new(frame))) {
            Ok(()) => {
                self.dirty = false;
                (self.waker)();
            }
            Err(TrySendError::Full(Update::Frame(frame))) | Err(TrySendError::Disconnected(Update::Frame(frame))) => {
                self.session.untake_frames(frame.runs);
            }
            Err(_) => {}
        }
    }
}

/// Narrows the size floor and the warm reserve to what `scenario` has (its domains, its pools) and says what was left
/// out: a floor or reserve chosen for one scenario still applies where it can on the next one opened, and the rest
/// is dropped with a notice rather than refusing the scenario.
fn keep_what_applies(assets: &mut PolicyAssets, scenario: &Scenario) -> Vec<String> {
    let mut dropped = Vec::new();
    let (floor, lost) = assets.size_floor.kept_for(scenario);
    if !lost.is_empty() {
        dropped.push(format!("size floor {} (no such domain; now {})", lost.join(", "), floor.spec()));
        assets.size_floor = floor;
    }
    if let Some(spec) = assets.warm_reserve.take() {
        let (kept, lost) = spec.kept_for(scenario);
        if !lost.is_empty() {
            let now = kept.as_ref().map_or_else(|| "none".to_string(), ToString::to_string);
            dropped.push(format!("warm reserve {} (no such pool; now {now})", lost.join(", ")));
        }
        assets.warm_reserve = kept;
        if assets.warm_reserve.is_none() {
            assets.warm_reserve_for.clear();
        }
    }
    dropped
}
