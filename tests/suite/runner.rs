//! The worker protocol, without a window: commands in, frames out, never blocking the caller.

use std::time::{Duration, Instant};

use hirl_scale::replay::Recording;
use hirl_scale::runner::{Command, Frame, Speed, StepKind, Update, WorkerConfig, WorkerHandle};
use hirl_scale::scenario::{EventSpec, Scenario};

use crate::common::{load, temp_path};

fn worker(speed: Speed) -> WorkerHandle {
    worker_on(load("small"), speed)
}

/// A worker on `scenario` (a variant of small.ron, under its name), under HPA.
fn worker_on(scenario: Scenario, speed: Speed) -> WorkerHandle {
    let mut cfg = WorkerConfig::new(scenario, "small.ron", "hpa");
    cfg.speed = speed;
    WorkerHandle::spawn(cfg, || {}).expect("worker starts")
}

/// Waits for frames until `done` holds for one, or fails after `secs`.
fn frame_where(w: &WorkerHandle, secs: u64, mut done: impl FnMut(&Frame) -> bool) -> Frame {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        match w.recv_timeout(Duration::from_millis(200)) {
            Some(Update::Frame(f)) if done(&f) => return *f,
            Some(Update::Error(e)) => panic!("worker error: {e}"),
            _ => {}
        }
    }
    panic!("no matching frame within {secs} s");
}

/// Waits up to `secs` for an update that `pick` takes (frames and the rest pass by), or `None`.
fn update_where<T>(w: &WorkerHandle, secs: u64, mut pick: impl FnMut(Update) -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Some(found) = w.recv_timeout(Duration::from_millis(100)).and_then(&mut pick) {
            return Some(found);
        }
    }
    None
}

/// A 3× Payment spike 10 minutes in: an injection the restart tests check is kept.
fn payment_spike_at_600() -> EventSpec {
    EventSpec::Spike {
        domain: "payment".to_string(),
        start_secs: 600,
        ramp_secs: 30,
        multiplier: 3.0,
        duration_secs: 1200,
    }
}

/// The next error message the worker sends, within `secs`.
fn next_error(w: &WorkerHandle, secs: u64) -> String {
    let error = |u| if let Update::Error(e) = u { Some(e) } else { None };
    update_where(w, secs, error).expect("an error comes back")
}

#[test]
fn starts_paused_and_steps_exactly() {
    let w = worker(Speed::X60);
    let first = frame_where(&w, 10, |_| true);
    assert_eq!((first.now_secs, first.playing), (0, false));
    assert_eq!(first.runs.len(), 1);
    assert_eq!(first.runs[0].new.points.len(), 1, "the t = 0 state");
    w.send(Command::Step(StepKind::Tick)).expect("queued");
    assert_eq!(frame_where(&w, 10, |f| f.now_secs > 0).now_secs, 5);
    w.send(Command::Step(StepKind::SoldierTick)).expect("queued");
    assert_eq!(frame_where(&w, 10, |f| f.now_secs > 5).now_secs, 10);
    w.send(Command::Step(StepKind::CommanderTick)).expect("queued");
    assert_eq!(frame_where(&w, 10, |f| f.now_secs > 10).now_secs, 60);
}

#[test]
fn plays_fast_and_delivers_every_tick_once() {
    let w = worker(Speed::Max);
    w.send(Command::Play).expect("queued");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(Update::Frame(f)) = w.recv_timeout(Duration::from_millis(100)) {
            seen.extend(f.runs[0].new.points.iter().map(|p| p.t_secs));
            if f.now_secs >= 1800 {
                break;
            }
        }
    }
    assert!(seen.len() > 300, "ran: {} points", seen.len());
    // No point lost or repeated, even when the receiver fell behind.
    assert!(seen.windows(2).all(|w| w[1] == w[0] + 5), "points are consecutive ticks");
}

#[test]
fn injection_and_side_by_side_reach_both_runs() {
    let w = worker(Speed::Max);
    w.send(Command::SideBySide(Some("heuristic".to_string()))).expect("queued");
    let f = frame_where(&w, 10, |f| f.runs.len() == 2);
    assert_eq!(f.runs[0].policy, "hpa");
    assert_eq!(f.runs[1].policy, "heuristic");
    w.send(Command::Inject(EventSpec::FlashSale {
        domain: "payment".to_string(),
        announced_start_secs: None,
        announced_at_secs: None,
        start_secs: 0,
        ramp_secs: 30,
        multiplier: 3.0,
        duration_secs: 1800,
    }))
    .expect("queued");
    w.send(Command::Play).expect("queued");
    let f = frame_where(&w, 60, |f| f.now_secs >= 600);
    for run in &f.runs {
        assert_eq!(run.scorecard.domains[0].scale_out_events, 1, "{}: the sale reached this run", run.policy);
        assert_eq!(run.scorecard.simulated_secs, f.now_secs, "both runs advance together");
    }
    // Back to one run: the policy under test stays.
    w.send(Command::SideBySide(None)).expect("queued");
    let f = frame_where(&w, 10, |f| f.runs.len() == 1);
    assert_eq!(f.policies, ["heuristic"]);
}

#[test]
fn restart_keeps_the_injected_events_as_every_other_restart_does() {
    let w = worker(Speed::X60);
    let _ = frame_where(&w, 10, |_| true);
    let spike = payment_spike_at_600();
    w.send(Command::Inject(spike.clone())).expect("queued");
    w.send(Command::Step(StepKind::CommanderTick)).expect("queued");
    let _ = frame_where(&w, 10, |f| f.now_secs == 60);
    w.send(Command::Restart).expect("queued");
    // Before the fix the restarted scenario had no spike, and this waited in vain.
    let f = frame_where(&w, 10, |f| f.now_secs == 0 && f.scenario.events.contains(&spike));
    assert_eq!(f.policies, ["hpa"], "the same run, from the start");
}

#[test]
fn a_bad_injection_is_an_error_message_and_the_run_goes_on() {
    let w = worker(Speed::X60);
    let _ = frame_where(&w, 10, |_| true);
    w.send(Command::Inject(EventSpec::Spike {
        domain: "nope".to_string(),
        start_secs: 0,
        ramp_secs: 10,
        multiplier: 2.0,
        duration_secs: 100,
    }))
    .expect("queued");
    let message = next_error(&w, 10);
    assert!(message.contains("unknown domain \"nope\""), "{message}");
    w.send(Command::Step(StepKind::Tick)).expect("queued");
    assert_eq!(frame_where(&w, 10, |f| f.now_secs > 0).now_secs, 5);
}

#[test]
fn export_writes_a_scenario_that_replays_the_session() {
    let path = temp_path("export.ron");
    let w = worker(Speed::Max);
    w.send(Command::Step(StepKind::CommanderTick)).expect("queued");
    w.send(Command::Inject(EventSpec::Spike {
        domain: "fraud".to_string(),
        start_secs: 0,
        ramp_secs: 20,
        multiplier: 2.0,
        duration_secs: 600,
    }))
    .expect("queued");
    w.send(Command::Export(path.clone())).expect("queued");
    assert!(
        update_where(&w, 10, |u| matches!(u, Update::ScenarioWritten(_)).then_some(())).is_some(),
        "export confirmed"
    );
    let s = hirl_scale::scenario::load_file(&path).expect("exported file loads");
    let _ = std::fs::remove_file(&path);
    let spike = s.events.last().expect("the injected spike is in the file");
    assert_eq!(spike.start_secs(), 65, "it fires at the next tick after t = 60");
}

#[test]
fn dropping_the_handle_stops_the_thread() {
    let w = worker(Speed::Max);
    w.send(Command::Play).expect("queued");
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    drop(w);
    assert!(start.elapsed() < Duration::from_secs(5), "joined promptly");
}

#[test]
fn a_long_seek_forward_shows_progress_and_can_be_interrupted() {
    // Ten simulated days, so the seek spans hundreds of the worker's 15 ms slices on any machine: small.ron's own six
    // hours take a few tens of milliseconds in a fast hour, and a seek that ends within one slice sends no frame on
    // the way.
    let mut long = load("small");
    long.duration_secs = 10 * 86_400;
    let target_secs = long.duration_secs - 600;
    let w = worker_on(long, Speed::X60);
    frame_where(&w, 10, |_| true);
    w.send(Command::Seek(target_secs)).expect("queued");
    // Frames come while the seek runs (it is stepped in slices), with time moving towards the target …
    let during = frame_where(&w, 30, |f| f.now_secs > 0 && f.now_secs < target_secs);
    assert!(!during.playing);
    // … and a new seek takes over from wherever it got to.
    w.send(Command::Seek(600)).expect("queued");
    let landed = frame_where(&w, 30, |f| f.now_secs == 600);
    assert_eq!(landed.now_secs, 600);
    w.send(Command::Step(StepKind::Tick)).expect("queued");
    assert_eq!(frame_where(&w, 10, |f| f.now_secs != 600).now_secs, 605, "the run is at rest on 600 s");
}

#[test]
fn opening_a_scenario_keeps_the_floor_and_reserve_it_has_room_for_and_says_what_it_dropped() {
    use hirl_scale::agents::hirl::SizeFloor;
    use hirl_scale::policy::WarmReserveSpec;
    let mut cfg = WorkerConfig::new(load("small"), "small.ron", "hpa");
    cfg.size_floor = SizeFloor::parse("P0=1.05,data=1.2").expect("parses");
    cfg.warm_reserve = Some(WarmReserveSpec::parse("shared-general=0.2,merchant-general=0.1").expect("parses"));
    let w = WorkerHandle::spawn(cfg, || {}).expect("worker starts");
    let _ = frame_where(&w, 10, |_| true);
    // The same cluster with its data domain and merchant pool named otherwise.
    let mut other = load("small");
    other.name = "renamed".into();
    other.domains[3].id = "analytics".into();
    for pool in &mut other.pools {
        for d in &mut pool.domains {
            if d == "data" {
                *d = "analytics".into();
            }
        }
        if pool.name == "merchant-general" {
            pool.name = "merchant-pool".into();
        }
    }
    w.send(Command::Load { scenario: Box::new(other), origin: "renamed.ron".into() }).expect("queued");
    let notice = update_where(&w, 10, |u| match u {
        Update::Notice(n) => Some(n),
        Update::Error(e) => panic!("the scenario was refused: {e}"),
        _ => None,
    })
    .expect("a notice comes back");
    assert!(notice.contains("size floor data=1.2") && notice.contains("now P0=1.05"), "{notice}");
    assert!(notice.contains("warm reserve merchant-general=0.1"), "{notice}");
    let f = frame_where(&w, 10, |f| f.scenario.name == "renamed");
    assert_eq!(f.warm_reserve, Some(WarmReserveSpec::Pools(vec![("shared-general".into(), 0.2)])));
}

#[test]
fn a_what_if_lifts_a_limit_in_every_run_keeps_the_injections_and_puts_the_limits_back() {
    use hirl_scale::scenario::WhatIf;
    let original = load("small");
    let w = worker(Speed::Max);
    w.send(Command::SideBySide(Some("heuristic".to_string()))).expect("queued");
    let _ = frame_where(&w, 10, |f| f.runs.len() == 2);
    let spike = payment_spike_at_600();
    w.send(Command::Inject(spike.clone())).expect("queued");
    w.send(Command::SetWhatIf(vec![WhatIf::UnboundedProvisioner])).expect("queued");
    let lifted = frame_where(&w, 10, |f| f.scenario.name == "small+unbounded-provisioner");
    assert_eq!(lifted.policies, ["hpa", "heuristic"], "both runs, on the same lifted scenario");
    assert_eq!(lifted.scenario.provisioner.backlog_latency_ms_per_node, 0);
    assert_eq!(lifted.scenario.telemetry, original.telemetry, "only the limit asked for");
    assert!(lifted.scenario.events.contains(&spike), "the injected spike replays in the restarted runs");

    // A recording of the lifted runs replays bit for bit, under its lifted name.
    w.send(Command::Play).expect("queued");
    let _ = frame_where(&w, 60, |f| f.now_secs >= 1_200);
    w.send(Command::Pause).expect("queued");
    let path = temp_path("what-if.rec.ron");
    w.send(Command::SaveRecording(path.clone())).expect("queued");
    let saved = update_where(&w, 20, |u| matches!(u, Update::RecordingSaved(_)).then_some(()));
    assert!(saved.is_some(), "recording saved");
    let out = crate::common::hirl().arg("replay").arg(&path).output().expect("runs");
    let recording = Recording::load_file(&path).expect("the saved recording loads");
    let _ = std::fs::remove_file(&path);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("bit-identical"), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("small+unbounded-provisioner"), "{said}");
    assert!(
        said.contains("what if (recorded): unbounded-provisioner lifted; the scenario's own limits are kept"),
        "{said}"
    );

    // The recording keeps the scenario's own limits, so its replay can be put back under them too: opened at start
    // (`gui --recording`) or later (Open recording…).
    let mut cfg = WorkerConfig::new(load("small"), "small.ron", "hpa");
    cfg.recording = Some((Box::new(recording.clone()), "lifted.rec.ron".into()));
    let at_start = WorkerHandle::spawn(cfg, || {}).expect("worker starts");
    let _ = frame_where(&at_start, 10, |f| f.scenario.name == "small+unbounded-provisioner");
    at_start.send(Command::SetWhatIf(Vec::new())).expect("queued");
    let f = frame_where(&at_start, 10, |f| f.scenario.name == "small");
    assert_eq!(f.scenario.provisioner, original.provisioner);
    w.send(Command::OpenRecording { recording: Box::new(recording), origin: "lifted.rec.ron".into() }).expect("queued");
    let _ = frame_where(&w, 10, |f| f.origin.contains("lifted.rec.ron"));
    w.send(Command::SetWhatIf(Vec::new())).expect("queued");
    let f = frame_where(&w, 10, |f| f.scenario.name == "small");
    assert_eq!((&f.scenario.provisioner, &f.scenario.telemetry), (&original.provisioner, &original.telemetry));
    assert!(f.scenario.events.contains(&spike), "the recorded injection stays");
    w.send(Command::SetWhatIf(vec![WhatIf::UnboundedProvisioner])).expect("queued");
    let _ = frame_where(&w, 10, |f| f.scenario.name == "small+unbounded-provisioner");

    // Exported, the lifted session keeps the scenario's own limits: opened again, at the start (`gui FILE`) or with
    // Open…, it runs lifted and the what-if menu puts them back.
    let path = temp_path("what-if-export.ron");
    w.send(Command::Export(path.clone())).expect("queued");
    let said = update_where(&w, 20, |u| if let Update::ScenarioWritten(text) = u { Some(text.clone()) } else { None });
    assert!(
        said.is_some_and(|t| t.contains("unbounded-provisioner lifted; its own limits kept, to put back")),
        "the notice says what it kept"
    );
    let exported = hirl_scale::scenario::load_file(&path).expect("the export loads");
    assert_eq!(exported.name, "small+unbounded-provisioner");
    assert!(exported.unlifted.is_some(), "the file keeps the limits to put back");
    // Saved rather than exported: the scenario the runs use, which holds the spike too, since lifting a limit
    // restarted the runs with the injections so far scripted.
    w.send(Command::SaveScenario(path.clone())).expect("queued");
    let said = update_where(&w, 20, |u| if let Update::ScenarioWritten(text) = u { Some(text.clone()) } else { None });
    assert!(said.is_some_and(|t| t.starts_with("saved ") && t.contains("to put back")), "the notice");
    let saved = hirl_scale::scenario::load_file(&path).expect("the saved file loads");
    let _ = std::fs::remove_file(&path);
    assert!(saved == exported, "saved as exported");
    let reopened =
        WorkerHandle::spawn(WorkerConfig::new(exported.clone(), "exported.ron", "hpa"), || {}).expect("starts");
    let f = frame_where(&reopened, 10, |f| f.scenario.name == "small+unbounded-provisioner");
    assert_eq!(f.scenario.unlifted, None, "the run's scenario does not carry them");
    assert_eq!(f.scenario.provisioner.backlog_latency_ms_per_node, 0, "it runs lifted, as exported");
    reopened.send(Command::SetWhatIf(Vec::new())).expect("queued");
    let f = frame_where(&reopened, 10, |f| f.scenario.name == "small");
    assert_eq!((&f.scenario.provisioner, &f.scenario.telemetry), (&original.provisioner, &original.telemetry));
    assert!(f.scenario.events.contains(&spike), "the injected spike is scripted in the export");
    reopened.send(Command::Load { scenario: Box::new(exported), origin: "exported.ron".into() }).expect("queued");
    let _ = frame_where(&reopened, 10, |f| f.scenario.name == "small+unbounded-provisioner");
    reopened.send(Command::SetWhatIf(Vec::new())).expect("queued");
    let f = frame_where(&reopened, 10, |f| f.scenario.name == "small");
    assert_eq!(f.scenario.provisioner, original.provisioner);

    // Another lift replaces it; none puts the scenario's own limits back.
    w.send(Command::SetWhatIf(vec![WhatIf::NoTelemetryLag])).expect("queued");
    let f = frame_where(&w, 10, |f| f.scenario.name == "small+no-telemetry-lag");
    assert_eq!(f.scenario.provisioner, original.provisioner);
    assert_eq!(f.scenario.telemetry.latency_lag_secs, 0);
    w.send(Command::SetWhatIf(Vec::new())).expect("queued");
    let f = frame_where(&w, 10, |f| f.scenario.name == "small");
    assert_eq!((&f.scenario.provisioner, &f.scenario.telemetry), (&original.provisioner, &original.telemetry));
    assert!(f.scenario.events.contains(&spike));
}

#[test]
fn a_scenario_that_came_lifted_cannot_be_put_back_and_says_why() {
    use hirl_scale::scenario::WhatIf;
    let mut came_lifted = load("small");
    WhatIf::UnboundedProvisioner.apply(&mut came_lifted);
    let w = WorkerHandle::spawn(WorkerConfig::new(came_lifted, "exported.ron", "hpa"), || {}).expect("worker starts");
    let _ = frame_where(&w, 10, |_| true);
    w.send(Command::SetWhatIf(Vec::new())).expect("queued");
    let message = next_error(&w, 10);
    assert!(message.contains("unbounded-provisioner lifted") && message.contains("open the scenario"), "{message}");
    // Its export says so, and keeps no limits it does not know.
    let path = temp_path("came-lifted.ron");
    w.send(Command::Export(path.clone())).expect("queued");
    let said = update_where(&w, 10, |u| if let Update::ScenarioWritten(text) = u { Some(text.clone()) } else { None });
    let reloaded = hirl_scale::scenario::load_file(&path).expect("the export loads");
    let _ = std::fs::remove_file(&path);
    assert!(said.is_some_and(|t| t.contains("unbounded-provisioner lifted, as it came")));
    assert_eq!(reloaded.unlifted, None);
    // `gui --what-if` lifts at the start and can put the limits back.
    let mut cfg = WorkerConfig::new(load("small"), "small.ron", "hpa");
    cfg.what_if = vec![WhatIf::NoTelemetryLag];
    let w = WorkerHandle::spawn(cfg, || {}).expect("worker starts");
    let _ = frame_where(&w, 10, |f| f.scenario.name == "small+no-telemetry-lag");
    w.send(Command::SetWhatIf(Vec::new())).expect("queued");
    let f = frame_where(&w, 10, |f| f.scenario.name == "small");
    assert_eq!(f.scenario.telemetry, load("small").telemetry);
}
