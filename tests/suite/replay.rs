//! Sessions, seeking and incident recordings, without a window: seeking lands on exactly the state a straight run
//! has; injecting after a seek back branches; every shipped recording replays bit for bit; damaged recordings and
//! recordings made with other models or another scenario version are refused, naming the place, and a running
//! session is kept.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hirl_scale::agents::policies::PolicyAssets;
use hirl_scale::policy::WarmReserveSpec;
use hirl_scale::replay::Recording;
use hirl_scale::runner::{
    Command, Session, SessionConfig, Update, WorkerConfig, WorkerHandle, check_recording, verify,
};
use hirl_scale::scenario::EventSpec;

use crate::common::{SHIPPED, load, root, scratch_dir};

fn assets() -> PolicyAssets {
    PolicyAssets::shipped(&root())
}

fn spike(domain: &str) -> EventSpec {
    EventSpec::Spike { domain: domain.into(), start_secs: 0, ramp_secs: 60, multiplier: 2.0, duration_secs: 1200 }
}

fn session(policies: &[&str], every_secs: u64) -> Session {
    let s = load("small");
    let seed = s.seed;
    let policies: Vec<String> = policies.iter().map(|p| p.to_string()).collect();
    Session::new(Arc::new(s), seed, &policies, &assets(), SessionConfig::every(every_secs)).expect("session starts")
}

fn recording_path(name: &str) -> std::path::PathBuf {
    root().join("scenarios/recordings").join(format!("{name}.rec.ron"))
}

#[test]
fn seeking_lands_exactly_on_the_state_of_a_straight_run() {
    // Reference: one straight run, with an injection at 1,200 s; digests every 5 minutes.
    let mut straight = session(&["hpa", "hirl"], 600);
    let mut reference = Vec::new();
    while straight.now_secs() < 3_600 {
        if straight.now_secs() == 1_200 {
            straight.inject(spike("payment")).expect("valid event");
        }
        straight.step();
        if straight.now_secs().is_multiple_of(300) {
            reference.push((straight.now_secs(), straight.state_digests()));
        }
    }
    let at_end = straight.state_digests();
    // Back ten minutes and forward again; then to arbitrary ticks in both directions, across the injection.
    straight.seek(3_000);
    assert_eq!(straight.now_secs(), 3_000);
    assert_eq!(straight.state_digests(), reference.iter().find(|(t, _)| *t == 3_000).expect("3000").1);
    straight.seek(3_600);
    assert_eq!(straight.state_digests(), at_end, "back ten minutes and forward again");
    for t in [900, 2_100, 300, 3_300, 1_500, 1_200, 600] {
        straight.seek(t);
        let want = &reference.iter().find(|(r, _)| *r == t).expect("reference point").1;
        assert_eq!(&straight.state_digests(), want, "seek to {t} s");
    }
    assert_eq!(straight.injections().len(), 1, "seeking keeps the recorded injection");
}

#[test]
fn injecting_after_seeking_back_starts_a_new_branch() {
    let mut s = session(&["hpa"], 600);
    s.seek(1_200);
    s.inject(spike("payment")).expect("valid");
    s.seek(2_400);
    s.seek(600);
    s.inject(spike("merchant")).expect("valid");
    assert_eq!(s.injections().len(), 1, "the later injection belonged to the abandoned branch");
    assert_eq!(s.recorded_until_secs(), 600, "the branch is known up to now");
    s.seek(2_400);
    // The same as a session that only ever had the merchant spike at 600 s.
    let mut fresh = session(&["hpa"], 600);
    fresh.seek(600);
    fresh.inject(spike("merchant")).expect("valid");
    fresh.seek(2_400);
    assert_eq!(s.state_digests(), fresh.state_digests());
}

#[test]
fn a_recording_saves_loads_and_replays_to_the_same_scorecards() {
    let mut s = session(&["hpa", "hirl"], 600);
    s.seek(1_800);
    s.inject(spike("fraud")).expect("valid");
    s.seek(5_400);
    s.seek(2_000); // the recording covers the whole branch, wherever the cursor is
    let rec = s.recording("small.ron", hirl_scale::runner::model_stamps(&s.policies(), s.scenario(), &assets()));
    assert_eq!(rec.end_secs, 5_400);
    assert!(rec.models.iter().any(|m| m.role == "agents"), "hirl depends on the agents: {:?}", rec.models);
    let dir = scratch_dir("rec");
    let path = dir.join("small.rec.ron");
    rec.save_file(&path).expect("saves");
    let back = Recording::load_file(&path).expect("loads");
    assert_eq!(back, rec, "save → load is exact");
    let report = verify(&back, "small.rec.ron", &assets()).expect("replays");
    assert!(report.identical(), "{report:?}");
    s.seek(5_400);
    assert_eq!(report.scorecards, s.scorecards());
}

#[test]
fn a_recording_that_ends_where_an_event_was_injected_replays_bit_for_bit() {
    // Injected at the frontier and saved at once, as the window lets one do: the live runs took the event at once
    // and the replay at the next step, so the last checkpoint differed (exit 3 from `replay`).
    let mut s = session(&["hpa", "hirl"], 600);
    s.seek(1_800);
    s.inject(spike("payment")).expect("valid");
    s.inject(spike("merchant")).expect("a second event at the same time keeps the first");
    assert_eq!(s.injections().len(), 2);
    let rec = s.recording("small.ron", hirl_scale::runner::model_stamps(&s.policies(), s.scenario(), &assets()));
    assert_eq!(rec.end_secs, 1_800);
    let report = verify(&rec, "small.rec.ron", &assets()).expect("replays");
    assert!(report.identical(), "{report:?}");
    // And both events act once the run goes on, in the live session as in a replay of a longer recording.
    s.seek(3_600);
    let longer = s.recording("small.ron", hirl_scale::runner::model_stamps(&s.policies(), s.scenario(), &assets()));
    assert!(verify(&longer, "small.rec.ron", &assets()).expect("replays").identical());
    let mut plain = session(&["hpa", "hirl"], 600);
    plain.seek(3_600);
    assert_ne!(s.state_digests(), plain.state_digests(), "the injected events acted");
}

#[test]
fn an_announced_sale_injected_mid_run_replays_from_the_exported_scenario() {
    // Announced live at 3,600 s for 4,200 s, so HiRL and the forecasters hear of it 10 minutes ahead. Exported
    // without that moment, the file had it on the calendar from the start and HiRL held the lift warm from 45 minutes
    // before it: another run (222 node-hours to 6,000 s against the live run's 180).
    let sale = EventSpec::FlashSale {
        domain: "payment".into(),
        announced_start_secs: Some(4_200),
        announced_at_secs: None,
        start_secs: 4_200,
        ramp_secs: 60,
        multiplier: 2.5,
        duration_secs: 1_200,
    };
    let mut live = session(&["hirl"], 600);
    live.seek(3_600);
    live.inject(sale).expect("valid event");
    live.seek(6_000);
    let exported = live.export_scenario();
    assert!(
        matches!(exported.events.last(), Some(EventSpec::FlashSale { announced_at_secs: Some(3_600), .. })),
        "the file says when it went on the calendar: {:?}",
        exported.events.last()
    );
    let text = hirl_scale::scenario::to_ron_string(&exported).expect("serialises");
    let reloaded = hirl_scale::scenario::load_str(&text, "exported.ron").expect("the exported scenario is valid");
    let seed = reloaded.seed;
    let mut replayed =
        Session::new(Arc::new(reloaded), seed, &["hirl".to_string()], &assets(), SessionConfig::every(600))
            .expect("session starts");
    replayed.seek(6_000);
    assert_eq!(live.scorecards(), replayed.scorecards(), "the export replays the live run");
}

#[test]
fn an_event_that_would_fire_after_the_run_is_refused_when_injected() {
    let mut s = session(&["hpa"], 3_600);
    let end = s.scenario().duration_secs;
    s.seek(end - 5);
    let e = s.inject(spike("payment")).expect_err("fires at the end");
    assert!(e.contains(&format!("would fire at {end} s, when the run has ended")), "{e}");
    assert!(s.injections().is_empty());
}

#[test]
fn every_shipped_scenario_has_a_recording_that_replays_bit_for_bit() {
    for name in SHIPPED {
        let path = recording_path(name);
        let rec = Recording::load_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(rec.scenario, load(name), "{name}: the recording's scenario is the shipped one (re-record it)");
        assert!(!rec.injections.is_empty(), "{name}: an incident with a live injection");
        let report = verify(&rec, &path.display().to_string(), &assets()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(report.identical(), "{name}: {report:?}");
        assert_eq!(report.checkpoints_matched, rec.checkpoints.len(), "{name}");
    }
}

fn shipped_text() -> String {
    std::fs::read_to_string(recording_path("small")).expect("shipped recording")
}

fn refusal(text: &str) -> String {
    match Recording::load_str(text, "small.rec.ron") {
        Ok(rec) => match check_recording(&rec, "small.rec.ron", &assets()) {
            Ok(()) => panic!("accepted a bad recording"),
            Err(e) => e,
        },
        Err(e) => e.to_string(),
    }
}

#[test]
fn damaged_recordings_are_refused_naming_the_place() {
    let text = shipped_text();
    // Cut short: a syntax error with line and column.
    let cut = refusal(&text[..text.len() / 2]);
    assert!(cut.starts_with("small.rec.ron: 1 problem in recording\nsmall.rec.ron:"), "{cut}");
    // Another format.
    let other = refusal(&text.replacen("hirl-scale-recording/1", "hirl-scale-recording/9", 1));
    assert!(other.contains("format: expected \"hirl-scale-recording/1\""), "{other}");
    // Another simulator version.
    let recorded = format!("sim_version: {},", hirl_scale::sim::SIM_VERSION);
    assert!(text.contains(&recorded), "the shipped recording is of this simulator version");
    let sim = refusal(&text.replacen(&recorded, "sim_version: 7,", 1));
    assert!(sim.contains("sim_version: recorded with simulator version 7"), "{sim}");
    // Injections out of order.
    let late = refusal(&text.replacen("injected_at_secs: 7200", "injected_at_secs: 99999", 1));
    assert!(late.contains("injections[0].injected_at_secs"), "{late}");
    // An editor's byte order mark is no damage.
    assert!(Recording::load_str(&format!("\u{feff}{text}"), "small.rec.ron").is_ok());
    // Times off the tick: a replay seeks to ticks, so an off-tick checkpoint passed unchecked ("bit-identical").
    let off = refusal(&text.replacen("t_secs: 3600,", "t_secs: 3603,", 1));
    assert!(off.contains("checkpoints[0].t_secs: 3603 s is not on the 5 s tick"), "{off}");
    let off = refusal(&text.replacen("injected_at_secs: 7200", "injected_at_secs: 7203", 1));
    assert!(off.contains("injections[0].injected_at_secs: 7203 s is not on the 5 s tick"), "{off}");
    // A misspelt field anywhere is refused where it is, not read as a default (it read as "the scorecards differ").
    let typo = refusal(&text.replacen("pods_starting_minutes:", "pods_startin_minutes:", 1));
    assert!(typo.contains("small.rec.ron:") && typo.contains("pods_startin_minutes"), "{typo}");
    let extra = refusal(&text.replacen("t_secs: 3600,", "t_secs: 3600, bogus: 1,", 1));
    assert!(extra.contains("bogus"), "{extra}");
    // What a scorecard says it is must be what was recorded.
    let other = refusal(&text.replacen("policy: \"hpa\"", "policy: \"pid\"", 1));
    assert!(other.contains("scorecards[0].policy: \"pid\" is not the recorded policy hpa"), "{other}");
    let other = refusal(&text.replacen("\"hirl-scale-scorecard/1\"", "\"whatever/9\"", 1));
    assert!(other.contains("scorecards[0].format: expected"), "{other}");
}

#[test]
fn recordings_of_another_scenario_version_or_model_are_refused() {
    let text = shipped_text();
    // The scenario edited after recording (its digest no longer matches).
    let edited = refusal(&text.replacen("multiplier: 2.0,", "multiplier: 2.2,", 1));
    assert!(edited.contains(": scenario: does not match scenario_digest"), "{edited}");
    // Made with other agents.
    let rec = Recording::load_str(&text, "small.rec.ron").expect("valid");
    let i = rec.models.iter().position(|m| m.role == "agents").expect("agents stamped");
    let mut other = rec.clone();
    other.models[i].digest = "0123456789abcdef".into();
    let e = check_recording(&other, "small.rec.ron", &assets()).expect_err("other agents");
    assert!(e.starts_with(&format!("small.rec.ron: models[{i}]: recorded with agents 0123456789abcdef")), "{e}");
    // Without agents at all, a hirl recording cannot replay.
    let none = PolicyAssets { agents: Err("missing".into()), ..assets() };
    let e = check_recording(&rec, "small.rec.ron", &none).expect_err("no agents");
    assert!(e.contains("policies: the recording runs hirl, but no agents are loaded"), "{e}");
}

#[test]
fn a_refused_recording_keeps_the_current_run() {
    let mut cfg = WorkerConfig::new(load("small"), "small.ron", "hpa");
    cfg.forecaster = assets().forecaster;
    let w = WorkerHandle::spawn(cfg, || {}).expect("worker");
    w.send(Command::Seek(600)).expect("queued");
    let wait = |want: &dyn Fn(&Update) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(u) = w.recv_timeout(Duration::from_millis(200))
                && want(&u)
            {
                return u;
            }
        }
        panic!("no such update");
    };
    let before = match wait(&|u| matches!(u, Update::Frame(f) if f.now_secs == 600)) {
        Update::Frame(f) => f,
        _ => unreachable!(),
    };
    let mut rec = Recording::load_file(&recording_path("small")).expect("valid");
    rec.models.iter_mut().for_each(|m| m.digest = "0000000000000000".into());
    w.send(Command::OpenRecording { recording: Box::new(rec), origin: "bad.rec.ron".into() }).expect("queued");
    match wait(&|u| matches!(u, Update::Error(_))) {
        Update::Error(e) => assert!(e.starts_with("bad.rec.ron: "), "{e}"),
        _ => unreachable!(),
    }
    w.send(Command::Step(hirl_scale::runner::StepKind::Tick)).expect("queued");
    match wait(&|u| matches!(u, Update::Frame(_))) {
        Update::Frame(f) => {
            assert_eq!((f.generation, f.now_secs), (before.generation, 605), "the same run went on");
            assert_eq!(f.origin, "small.ron");
        }
        _ => unreachable!(),
    }
}

#[test]
fn the_commanders_budgets_reach_the_window_and_hpa_has_none() {
    // Budgets are re-evaluated from the shares every Soldier tick; the point at 125 s shows those of the decision at
    // 120 s, a Commander tick, so they are the Commander record's own.
    let mut s = session(&["hpa", "hirl"], 600);
    s.seek(125);
    let frames = s.take_frames();
    let last = |run: usize| frames[run].new.points.last().expect("points").domains.clone();
    assert!(last(0).iter().all(|d| d.budget_share.is_none()), "HPA sets no budgets");
    let hirl = last(1);
    assert!(hirl.iter().all(|d| d.budget_share.is_some_and(|b| b > 0.0 && b < 1.5)), "{hirl:?}");
    let commander = frames[1].new.commander.last().expect("a Commander decision");
    let allocatable_share = commander.budget_millicores[0] / commander.budget_millicores.iter().sum::<f64>();
    let shown = hirl[0].budget_share.expect("set") / hirl.iter().filter_map(|d| d.budget_share).sum::<f32>();
    assert!((f64::from(shown) - allocatable_share).abs() < 1e-4, "the budgets shown are the Commander's");
}

#[test]
fn a_warm_reserve_is_recorded_replays_under_any_assets_and_a_bad_one_is_refused() {
    let s = load("small");
    let spec = WarmReserveSpec::parse("shared-general=0.3").expect("parses");
    let with = PolicyAssets { warm_reserve: Some(spec.clone()), ..assets() };
    let policies = ["hpa".to_string()];
    let mut held = Session::new(Arc::new(s.clone()), s.seed, &policies, &with, SessionConfig::every(3_600))
        .expect("session starts");
    let mut plain = session(&["hpa"], 3_600);
    held.seek(3_600);
    plain.seek(3_600);
    assert_ne!(held.state_digests(), plain.state_digests(), "the reserve changes the run");
    assert_eq!(held.warm_reserve(), Some(&spec));

    let rec = held.recording("small.ron", hirl_scale::runner::model_stamps(&held.policies(), held.scenario(), &with));
    assert_eq!(rec.warm_reserve.as_ref(), Some(&spec));
    assert_eq!(rec.scorecards[0].warm_reserve.as_deref(), Some("30% in shared-general"));
    let back = Recording::load_str(&rec.to_ron_string().expect("serialises"), "held.rec.ron").expect("loads");
    assert_eq!(back, rec, "save → load is exact");
    // Replayed with assets that hold no reserve: the recording's own is held.
    let report = verify(&back, "held.rec.ron", &assets()).expect("replays");
    assert!(report.identical(), "{report:?}");

    // A reserve read from a file is checked like one from the command line, naming the field.
    for (bad, says) in [
        (WarmReserveSpec::Pools(vec![("gpu".into(), 0.3)]), "names pool \"gpu\", which scenario \"small\""),
        (WarmReserveSpec::Every(1.5), "share 1.5 is not a fraction"),
    ] {
        let damaged = Recording { warm_reserve: Some(bad), ..rec.clone() };
        let problems = damaged.problems();
        assert!(problems.iter().any(|(path, m)| path == "warm_reserve" && m.contains(says)), "{problems:?}");
    }
    // A session asked to hold a reserve in a pool its scenario lacks does not start.
    let gpu = PolicyAssets { warm_reserve: Some(WarmReserveSpec::parse("gpu=0.1").expect("parses")), ..assets() };
    let err = Session::new(Arc::new(s), 1, &policies, &gpu, SessionConfig::every(3_600)).err().expect("refused");
    assert!(err.contains("\"gpu\""), "{err}");
}

#[test]
fn a_reserve_held_under_one_run_only_leaves_the_other_as_shipped_and_replays_so() {
    let s = load("small");
    let spec = WarmReserveSpec::Every(0.3);
    let policies = ["hpa".to_string(), "heuristic".to_string()];
    let only =
        PolicyAssets { warm_reserve: Some(spec.clone()), warm_reserve_for: vec!["heuristic".into()], ..assets() };
    let start = |assets: &PolicyAssets| {
        let mut session = Session::new(Arc::new(s.clone()), s.seed, &policies, assets, SessionConfig::every(3_600))
            .expect("session starts");
        session.seek(3_600);
        session
    };
    let held = start(&only);
    let plain = start(&assets());
    let every = start(&PolicyAssets { warm_reserve: Some(spec.clone()), ..assets() });
    let (h, p, e) = (held.state_digests(), plain.state_digests(), every.state_digests());
    assert_eq!(h[0], p[0], "HPA runs as shipped");
    assert_eq!(h[1], e[1], "the heuristic runs under the reserve");
    assert_ne!(h[1], p[1]);
    let cards = held.scorecards();
    assert_eq!((cards[0].warm_reserve.as_deref(), cards[1].warm_reserve.as_deref()), (None, Some("30% in every pool")));

    let rec = held.recording("small.ron", hirl_scale::runner::model_stamps(&held.policies(), held.scenario(), &only));
    assert_eq!(
        (rec.warm_reserve.as_ref(), rec.warm_reserve_for.as_slice()),
        (Some(&spec), &["heuristic".to_string()][..])
    );
    let back = Recording::load_str(&rec.to_ron_string().expect("serialises"), "only.rec.ron").expect("loads");
    assert_eq!(back, rec, "save → load is exact");
    let report = verify(&back, "only.rec.ron", &assets()).expect("replays");
    assert!(report.identical(), "replayed under assets holding no reserve: {report:?}");
    // Held by every run, a recording names none.
    let all =
        every.recording("small.ron", hirl_scale::runner::model_stamps(&every.policies(), every.scenario(), &only));
    assert!(all.warm_reserve_for.is_empty());

    // The runs named must be recorded ones, and there must be a reserve to hold.
    let problems = Recording { warm_reserve_for: vec!["pid".into()], ..rec.clone() }.problems();
    assert!(
        problems.iter().any(|(path, m)| path == "warm_reserve_for[0]" && m.contains("pid is not one of the recorded")),
        "{problems:?}"
    );
    let problems = Recording { warm_reserve: None, ..rec }.problems();
    assert!(problems.iter().any(|(path, m)| path == "warm_reserve_for" && m.contains("absent")), "{problems:?}");
}

#[test]
fn a_size_floor_is_recorded_replays_under_any_assets_and_a_bad_one_is_refused() {
    let floor = hirl_scale::agents::hirl::SizeFloor::parse("P0=1.08").expect("parses");
    let s = load("small");
    let policies = vec!["hpa".to_string(), "hirl".to_string()];
    let with = PolicyAssets { size_floor: floor.clone(), ..assets() };
    let mut raised =
        Session::new(Arc::new(s.clone()), s.seed, &policies, &with, SessionConfig::every(600)).expect("starts");
    let mut plain = session(&["hpa", "hirl"], 600);
    raised.seek(1_800);
    plain.seek(1_800);
    let (r, p) = (raised.state_digests(), plain.state_digests());
    assert_eq!(r[0], p[0], "HPA has no Soldiers: the floor leaves its run alone");
    assert_ne!(r[1], p[1], "a raised P0 floor changes HiRL's run");

    // Stored where it changed a run, named on that run's scorecard only, and exact through the file.
    let rec =
        raised.recording("small.ron", hirl_scale::runner::model_stamps(&raised.policies(), raised.scenario(), &with));
    assert_eq!(rec.size_floor.as_ref(), Some(&floor));
    assert_eq!(rec.scorecards[0].size_floor, None);
    assert_eq!(rec.scorecards[1].size_floor.as_deref(), Some("×1.080 for P0 (others ×0.905)"));
    let text = rec.to_ron_string().expect("serialises");
    assert!(text.contains("size_floor: Some(\"P0=1.08\")"), "the file says the floor as typed");
    let back = Recording::load_str(&text, "raised.rec.ron").expect("loads");
    assert_eq!(back, rec, "save → load is exact");
    // Replayed with assets under the shipped floor: the recording's own is used, bit for bit.
    let report = verify(&back, "raised.rec.ron", &assets()).expect("replays");
    assert!(report.identical(), "{report:?}");
    // And a recording made under the shipped floor stores none and replays under it, whatever the assets carry.
    let rec =
        plain.recording("small.ron", hirl_scale::runner::model_stamps(&plain.policies(), plain.scenario(), &assets()));
    assert_eq!(rec.size_floor, None);
    assert!(!rec.to_ron_string().expect("serialises").contains("size_floor"));
    let report = verify(&rec, "small.rec.ron", &with).expect("replays");
    assert!(report.identical(), "{report:?}");

    // A floor read from a file is checked like one from the command line, naming the place.
    let bad = text.replace("size_floor: Some(\"P0=1.08\")", "size_floor: Some(\"P0=9\")");
    let err = Recording::load_str(&bad, "bad.rec.ron").expect_err("out of range").to_string();
    let line = bad.lines().position(|l| l.contains("P0=9")).expect("edited") + 1;
    assert!(err.contains(&format!("bad.rec.ron:{line}:")) && err.contains("between ×0.5 and ×3.3"), "{err}");
    // A floor with no HiRL run to apply to is a damaged recording.
    let hpa_only = Recording { policies: vec!["hpa".into()], size_floor: Some(floor), ..plain_single(&with) };
    let problems = hpa_only.problems();
    assert!(
        problems.iter().any(|(path, m)| path == "size_floor" && m.contains("no recorded policy is hirl (hpa)")),
        "{problems:?}"
    );
    // A floor on a domain the recorded scenario lacks would replay as a floor on nothing: refused, naming it.
    let typo = text.replace("size_floor: Some(\"P0=1.08\")", "size_floor: Some(\"paymnt=1.08\")");
    let err = Recording::load_str(&typo, "typo.rec.ron").expect_err("unknown domain").to_string();
    assert!(err.contains("size_floor") && err.contains("no domain \"paymnt\""), "{err}");
    // And a session asked for one does not start (the window keeps its run and says why, as for a reserve).
    let typo = PolicyAssets {
        size_floor: hirl_scale::agents::hirl::SizeFloor::parse("paymnt=1.08").expect("parses"),
        ..assets()
    };
    let err = Session::new(Arc::new(s), 1, &policies, &typo, SessionConfig::every(600)).err().expect("refused");
    assert!(err.contains("no domain \"paymnt\""), "{err}");
}

#[test]
fn a_hirl_recording_of_a_scenario_hirl_is_not_built_for_needs_no_models_to_replay() {
    // HiRL runs four domains as HPA: the recording names no model, and replays with none loaded.
    let policies = vec!["hpa".to_string(), "hirl".to_string()];
    let cfg = SessionConfig::every(600);
    let mut s = Session::new(Arc::new(crate::common::four_domains()), 3, &policies, &assets(), cfg).expect("starts");
    s.seek(1200);
    let rec = s.recording("four.ron", hirl_scale::runner::model_stamps(&s.policies(), s.scenario(), &assets()));
    assert!(rec.models.is_empty(), "{:?}", rec.models);
    assert_eq!(rec.scorecards[1].policy, "hirl (HPA fallback)");
    let report = verify(&rec, "four.rec.ron", &PolicyAssets::none()).expect("replays without agents");
    assert!(report.identical(), "{report:?}");
}

/// A one-run HPA recording of `small` (its first 10 minutes).
fn plain_single(assets: &PolicyAssets) -> Recording {
    let mut s = session(&["hpa"], 600);
    s.seek(600);
    s.recording("small.ron", hirl_scale::runner::model_stamps(&s.policies(), s.scenario(), assets))
}

#[test]
fn a_what_if_recording_keeps_the_scenarios_own_limits_and_bad_ones_are_refused_in_place() {
    use hirl_scale::scenario::WhatIf;
    use hirl_scale::scenario::what_if::Limits;
    let original = load("small");
    let mut lifted = original.clone();
    WhatIf::UnboundedProvisioner.apply(&mut lifted);
    let mut s = Session::new(Arc::new(lifted), 1, &["hpa".to_string()], &assets(), SessionConfig::every(3_600))
        .expect("starts");
    s.seek(600);
    let rec = Recording { unlifted: Some(Limits::of(&original)), ..s.recording("small.ron", Vec::new()) };
    let text = rec.to_ron_string().expect("serialises");
    assert_eq!(Recording::load_str(&text, "lifted.rec.ron").expect("loads"), rec, "save → load is exact");

    // Kept limits that would change what was not lifted are refused, naming the field and its line.
    let at = text.find("unlifted:").expect("the kept limits are in the text");
    let tampered = format!("{}{}", &text[..at], text[at..].replacen("pods_lag_secs: 30", "pods_lag_secs: 31", 1));
    let err = Recording::load_str(&tampered, "lifted.rec.ron").expect_err("refused").to_string();
    let line = err.lines().find(|l| l.contains("unlifted.telemetry")).unwrap_or_default();
    assert!(
        line.ends_with(": unlifted.telemetry: differs from the scenario's, whose telemetry lag was not lifted"),
        "{err}"
    );
    let place: Vec<&str> = line.split(':').take(3).collect();
    assert!(place[0] == "lifted.rec.ron" && place[1].parse::<usize>().is_ok(), "file and line: {err}");
    // A recording of a scenario with nothing lifted has nothing to put back.
    let plain = Recording {
        unlifted: Some(Limits::of(&original)),
        ..session(&["hpa"], 3_600).recording("small.ron", Vec::new())
    };
    let problems = plain.problems();
    assert!(problems.iter().any(|(path, m)| path == "unlifted" && m.contains("has no limit lifted")), "{problems:?}");
}
