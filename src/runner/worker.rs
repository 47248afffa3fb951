//! The worker loop: owns the runs, paces them, answers commands, emits frames.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};

use super::frame::{DomainPoint, Forecast, Frame, PoolPoint, RunFrame, SeriesPoint, Speed, Update};
use super::{Command, WorkerConfig};
use crate::agents::forecast::LiveForecaster;
use crate::agents::policies::{self, PolicyAssets};
use crate::policy::Autoscaler;
use crate::scenario::{self, Scenario};
use crate::sim::{Actions, DomainId, PoolId, Simulation, TICK_SECS};

/// Longest stretch of simulation between two looks at the command queue and two frames.
const SLICE: Duration = Duration::from_millis(15);
/// Wait for commands while paused (also the keep-alive of the loop).
const IDLE_WAIT: Duration = Duration::from_millis(50);

/// One simulation with its controller and what the window has not seen yet.
struct Run {
    sim: Simulation,
    policy: Box<dyn Autoscaler>,
    policy_name: String,
    actions: Actions,
    unsent_points: Vec<SeriesPoint>,
    /// Timeline entries before this index have been sent.
    events_sent: usize,
    forecaster: LiveForecaster,
    forecasts: Vec<Forecast>,
}

impl Run {
    fn new(scenario: &Scenario, seed: u64, policy_name: &str, assets: &PolicyAssets) -> Result<Run, String> {
        let sim = Simulation::new(scenario, seed);
        let policy = policies::build(policy_name, scenario, sim.layout(), seed, assets).map_err(|e| e.to_string())?;
        let forecaster = LiveForecaster::new(scenario, sim.layout(), seed, assets.forecaster.clone());
        let mut run = Run {
            sim,
            policy,
            policy_name: policy_name.to_string(),
            actions: Actions::default(),
            unsent_points: Vec::new(),
            events_sent: 0,
            forecaster,
            forecasts: Vec::new(),
        };
        run.record();
        Ok(run)
    }

    /// One tick: the controller decides on what it observes, the actions apply, the cluster advances.
    fn step(&mut self) {
        self.actions.clear();
        self.policy.decide(&self.sim.observe(), &mut self.actions);
        self.sim.apply(&self.actions);
        self.sim.step();
        self.record();
    }

    fn record(&mut self) {
        let sim = &self.sim;
        let layout = sim.layout();
        let obs = sim.observe();
        let pools: Vec<_> = (0..layout.pools.len()).map(|p| obs.pool(PoolId(p as u8))).collect();
        let allocatable: f64 = pools.iter().map(|p| p.cpu_capacity_millicores as f64).sum::<f64>().max(1.0);
        let share = |m: f64| (m / allocatable) as f32;
        let domains = sim
            .domain_truth()
            .iter()
            .enumerate()
            .map(|(d, s)| DomainPoint {
                rps: s.rps,
                p99_latency_ms: s.p99_latency_ms,
                error_ratio: s.error_ratio,
                ready_pods: s.ready_pods,
                starting_pods: s.starting_pods,
                pending_pods: s.pending_pods,
                allotted_share: share(s.cpu_allocated_millicores as f64),
                used_share: share(f64::from(s.cpu_used_millicores)),
                budget_share: sim.domain_quota_millicores(DomainId(d as u8)).map(|q| share(q as f64)),
            })
            .collect();
        let n_domains = layout.domains.len();
        let point = SeriesPoint {
            t_secs: sim.now_secs(),
            domains,
            pools: pools
                .iter()
                .enumerate()
                .map(|(p, v)| PoolPoint {
                    nodes: v.nodes,
                    booting_nodes: v.booting_nodes,
                    queued_nodes: v.queued_nodes,
                    cpu_capacity_cores: v.cpu_capacity_millicores as f32 / 1000.0,
                    cpu_by_domain_cores: (0..n_domains)
                        .map(|d| sim.pool_domain_cpu_millicores(p, d) as f32 / 1000.0)
                        .collect(),
                    reserve_cores: v.reserve_placed_millicores as f32 / 1000.0,
                })
                .collect(),
            reserve_share: share(pools.iter().map(|p| p.reserve_placed_millicores as f64).sum()),
            provisioner_queued_requests: sim.provisioner_queued_requests(),
        };
        self.unsent_points.push(point);

        // The forecaster sees what a controller would: the lagged domain rate, every tick; it forecasts each minute.
        let now = sim.now_secs();
        self.forecaster.observe(now, (0..n_domains).map(|d| obs.domain(DomainId(d as u8)).rps));
        if now.is_multiple_of(60) {
            self.forecasts = self.forecaster.forecast(now);
        }
    }

    fn take_frame(&mut self) -> RunFrame {
        let timeline = self.sim.timeline();
        let new_events = timeline[self.events_sent.min(timeline.len())..].to_vec();
        self.events_sent = timeline.len();
        RunFrame {
            policy: self.policy_name.clone(),
            new_points: std::mem::take(&mut self.unsent_points),
            new_events,
            scorecard: self.sim.scorecard(&self.policy_name),
            forecasts: self.forecasts.clone(),
        }
    }

    /// Puts a frame's points and events back when the window could not take it (they go out with the next one).
    fn untake(&mut self, frame: RunFrame) {
        let mut points = frame.new_points;
        points.append(&mut self.unsent_points);
        self.unsent_points = points;
        self.events_sent -= frame.new_events.len();
    }
}

struct Worker {
    scenario: Arc<Scenario>,
    assets: PolicyAssets,
    origin: String,
    seed: u64,
    runs: Vec<Run>,
    playing: bool,
    speed: Speed,
    generation: u64,
    /// Simulated seconds owed to the pacing clock.
    debt_secs: f64,
    last_pace: Instant,
    updates: Sender<Update>,
    waker: Box<dyn Fn() + Send>,
    dirty: bool,
}

pub(super) fn run(
    config: WorkerConfig,
    commands: Receiver<Command>,
    updates: Sender<Update>,
    waker: Box<dyn Fn() + Send>,
) {
    let seed = config.seed.unwrap_or(config.scenario.seed);
    let assets = PolicyAssets { forecaster: config.forecaster, agents: config.agents };
    let first = match Run::new(&config.scenario, seed, &config.policy, &assets) {
        Ok(r) => r,
        Err(e) => {
            let _ = updates.try_send(Update::Error(e));
            waker();
            return;
        }
    };
    let mut w = Worker {
        scenario: Arc::new(config.scenario),
        assets,
        origin: config.origin,
        seed,
        runs: vec![first],
        playing: config.start_playing,
        speed: config.speed,
        generation: 0,
        debt_secs: 0.0,
        last_pace: Instant::now(),
        updates,
        waker,
        dirty: true,
    };
    loop {
        let next = if w.playing {
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
        if w.playing {
            w.advance_paced();
        }
        w.emit();
        if w.playing && w.speed.factor().is_some() {
            std::thread::sleep(Duration::from_millis(4));
        }
    }
}

impl Worker {
    fn now(&self) -> u64 {
        self.runs[0].sim.now_secs()
    }

    fn finished(&self) -> bool {
        self.now() >= self.scenario.duration_secs
    }

    fn step_all(&mut self) {
        for r in &mut self.runs {
            r.step();
        }
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
                while self.debt_secs >= TICK_SECS as f64 && !self.finished() && start.elapsed() < SLICE {
                    self.step_all();
                    self.debt_secs -= TICK_SECS as f64;
                }
            }
            None => {
                while !self.finished() && start.elapsed() < SLICE {
                    self.step_all();
                }
            }
        }
        if self.finished() {
            self.playing = false;
            self.dirty = true;
        }
    }

    fn error(&self, message: String) {
        let _ = self.updates.try_send(Update::Error(message));
        (self.waker)();
    }

    fn restart(&mut self, scenario: Arc<Scenario>, policies: Vec<String>) {
        let mut runs = Vec::new();
        for p in &policies {
            match Run::new(&scenario, self.seed, p, &self.assets) {
                Ok(r) => runs.push(r),
                Err(e) => return self.error(e),
            }
        }
        self.scenario = scenario;
        self.runs = runs;
        self.generation += 1;
        self.debt_secs = 0.0;
        self.dirty = true;
    }

    fn policies(&self) -> Vec<String> {
        self.runs.iter().map(|r| r.policy_name.clone()).collect()
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
                let target = (self.now() / period + 1) * period;
                while self.now() < target && !self.finished() {
                    self.step_all();
                }
            }
            Command::Inject(event) => {
                let mut probe = (*self.scenario).clone();
                probe.events.push(event.clone());
                let problems = scenario::validate(&probe);
                if let Some(p) =
                    problems.iter().find(|p| p.path.starts_with(&format!("events[{}]", probe.events.len() - 1)))
                {
                    return self.error(format!("cannot inject {}: {}: {}", event.label(), p.path, p.message));
                }
                for r in &mut self.runs {
                    let now = r.sim.now_secs();
                    let scheduled = r.sim.inject(event.clone());
                    r.forecaster.announce(&scheduled, r.sim.layout(), now);
                    r.policy.announce(&scheduled, r.sim.layout(), now);
                }
                self.dirty = true;
            }
            Command::Load { scenario, origin } => {
                let policies = self.policies();
                self.seed = scenario.seed;
                self.origin = origin;
                self.restart(Arc::new(*scenario), policies);
            }
            Command::SetPolicy(name) => {
                let mut policies = self.policies();
                policies[0] = name;
                let scenario = Arc::new(self.runs[0].sim.export_scenario(&self.scenario));
                self.restart(scenario, policies);
            }
            Command::SideBySide(other) => {
                let scenario = Arc::new(self.runs[0].sim.export_scenario(&self.scenario));
                let policies = match other {
                    Some(p) => vec!["hpa".to_string(), p],
                    None => vec![self.runs[0].policy_name.clone()],
                };
                self.restart(scenario, policies);
            }
            Command::Restart => {
                let policies = self.policies();
                let scenario = Arc::clone(&self.scenario);
                self.restart(scenario, policies);
            }
            Command::Export(path) => {
                let exported = self.runs[0].sim.export_scenario(&self.scenario);
                match scenario::save_file(&exported, &path) {
                    Ok(()) => {
                        let _ = self.updates.try_send(Update::Exported(path.display().to_string()));
                        (self.waker)();
                    }
                    Err(e) => self.error(format!("cannot export to {}: {e}", path.display())),
                }
            }
            Command::Quit => {}
        }
    }

    fn set_playing(&mut self, on: bool) {
        let on = on && !self.finished();
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
        let runs: Vec<RunFrame> = self.runs.iter_mut().map(Run::take_frame).collect();
        let frame = Frame {
            now_secs: self.now(),
            duration_secs: self.scenario.duration_secs,
            playing: self.playing,
            speed: self.speed,
            generation: self.generation,
            scenario: Arc::clone(&self.scenario),
            runs,
        };
        match self.updates.try_send(Update::Frame(Box::new(frame))) {
            Ok(()) => {
                self.dirty = false;
                (self.waker)();
            }
            Err(TrySendError::Full(Update::Frame(frame))) | Err(TrySendError::Disconnected(Update::Frame(frame))) => {
                for (run, rf) in self.runs.iter_mut().zip(frame.runs) {
                    run.untake(rf);
                }
            }
            Err(_) => {}
        }
    }
}
