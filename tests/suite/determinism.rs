//! Determinism beyond "run twice": checkpoints restore exactly, seeds matter, policies clone with their state.

use hirl_scale::policy;
use hirl_scale::scenario::EventSpec;
use hirl_scale::sim::{Actions, SimState, Simulation};

use crate::common::load;

#[test]
fn a_checkpoint_taken_mid_run_continues_identically() {
    let s = load("flash-sale-early");
    let mut sim = Simulation::new(&s, 42);
    let mut pol = policy::baseline("hpa", sim.layout()).expect("hpa");
    // Stop inside the flash sale, with pods pending and nodes booting.
    policy::run_until(&mut sim, pol.as_mut(), 6_300, |_| {});
    let state = sim.save_state();
    // Through serde too: a checkpoint must survive being written down.
    let json = serde_json::to_string(&state).expect("state serialises");
    let restored_state: SimState = serde_json::from_str(&json).expect("state deserialises");
    if state != restored_state {
        let again = serde_json::to_string(&restored_state).expect("serialises");
        let at = json.bytes().zip(again.bytes()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "checkpoint changed through JSON near byte {at}: {} vs {}",
            &json[at.saturating_sub(120)..(at + 60).min(json.len())],
            &again[at.saturating_sub(120)..(at + 60).min(again.len())]
        );
    }
    let mut pol_copy = pol.clone();

    policy::run_until(&mut sim, pol.as_mut(), 9_000, |_| {});
    let mut twin = Simulation::new(&s, 42);
    twin.restore_state(restored_state);
    policy::run_until(&mut twin, pol_copy.as_mut(), 9_000, |_| {});

    assert_eq!(sim.save_state(), twin.save_state());
    assert_eq!(sim.scorecard("hpa"), twin.scorecard("hpa"));
}

#[test]
fn different_seeds_give_different_runs() {
    let s = load("small");
    let a = crate::common::run_for(&s, "hpa", 1, 3_600);
    let b = crate::common::run_for(&s, "hpa", 2, 3_600);
    assert_ne!(a, b);
}

#[test]
fn injected_events_replay_exactly_from_the_exported_scenario() {
    let s = load("small");
    let flash = EventSpec::FlashSale {
        domain: "payment".to_string(),
        announced_start_secs: None,
        announced_at_secs: None,
        start_secs: 0,
        ramp_secs: 30,
        multiplier: 2.5,
        duration_secs: 1_200,
    };
    let batch = EventSpec::BatchJob {
        domain: "internal".to_string(),
        start_secs: 0,
        duration_secs: 900,
        pods: 40,
        cpu_request_millicores: 1_000,
        memory_request_mib: 2_048,
    };
    // Live: inject mid-run, at times that are not tick-aligned for the event's own start.
    let mut live = Simulation::new(&s, 9);
    let mut pol = policy::baseline("hpa", live.layout()).expect("hpa");
    policy::run_until(&mut live, pol.as_mut(), 1_800, |_| {});
    let fired = live.inject(flash.clone());
    assert_eq!(fired.start_secs(), 1_805, "fires at the next tick");
    policy::run_until(&mut live, pol.as_mut(), 2_400, |_| {});
    live.inject(batch);
    policy::run_until(&mut live, pol.as_mut(), 5_400, |_| {});
    let recorded = live.injected_events();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].injected_at_secs, 1_800);

    // Replay: the exported scenario, with no injection at all.
    let exported = live.export_scenario(&s);
    let text = hirl_scale::scenario::to_ron_string(&exported).expect("serialises");
    let reloaded = hirl_scale::scenario::load_str(&text, "exported.ron").expect("exported scenario is valid");
    let mut replay = Simulation::new(&reloaded, reloaded.seed);
    let mut pol2 = policy::baseline("hpa", replay.layout()).expect("hpa");
    policy::run_until(&mut replay, pol2.as_mut(), 5_400, |_| {});

    assert_eq!(live.scorecard("hpa"), replay.scorecard("hpa"));
    let payment = &live.scorecard("hpa").domains[0];
    assert_eq!(payment.scale_out_events, 1, "the injected sale is timed");
}

#[test]
fn actions_are_applied_in_order_and_idempotent() {
    let s = load("small");
    let mut sim = Simulation::new(&s, 3);
    let mut actions = Actions::default();
    let app = hirl_scale::sim::AppId(0);
    actions.replicas.push((app, 7));
    actions.replicas.push((app, 9));
    sim.apply(&actions);
    sim.apply(&actions);
    assert_eq!(sim.observe().app_desired_replicas(app), 9);
    sim.step();
    sim.check_invariants().expect("consistent after apply");
}
