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
fn injected_events_are_recorded_and_replay_identically() {
    let s = load("small");
    let flash = EventSpec::FlashSale {
        domain: "payment".to_string(),
        announced_start_secs: None,
        start_secs: 1_800,
        ramp_secs: 30,
        multiplier: 2.5,
        duration_secs: 1_200,
    };
    let run = |inject_at: u64| {
        let mut sim = Simulation::new(&s, 9);
        let mut pol = policy::baseline("hpa", sim.layout()).expect("hpa");
        policy::run_until(&mut sim, pol.as_mut(), inject_at, |_| {});
        sim.inject(flash.clone());
        policy::run_until(&mut sim, pol.as_mut(), 5_400, |_| {});
        (sim.scorecard("hpa"), sim.injected_events().to_vec())
    };
    let (a, recorded) = run(1_800);
    let (b, _) = run(1_800);
    assert_eq!(a, b);
    assert_eq!(recorded, vec![(1_800, flash)]);
    let payment = &a.domains[0];
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
