//! Every shipped scenario: loads, round-trips, matches its golden scorecards under HPA and the tuned heuristic, runs
//! identically twice, and shows the failure it is named after.

use hirl_scale::scenario;
use hirl_scale::sim::cascades::breach_began_secs;
use hirl_scale::sim::{Scorecard, TimelineKind};

use crate::common::{SHIPPED, check_golden, load, root, run, run_explained};

fn domain<'a>(card: &'a Scorecard, id: &str) -> &'a hirl_scale::sim::scorecard::DomainScore {
    card.domains.iter().find(|d| d.domain == id).expect("domain present")
}

/// Runs HPA twice and the heuristic once; checks both against golden files and the two HPA runs against each other,
/// that the cascades explained from the timeline are the scorecard's, each lasting no longer than its breach, and
/// that what held each domain's breach minutes adds up to them.
fn golden_and_deterministic(name: &str) -> (Scorecard, Scorecard) {
    let s = load(name);
    let hpa = run(&s, "hpa");
    let (again, explained, timeline) = run_explained(&s, "hpa", s.seed, s.duration_secs);
    assert_eq!(hpa, again, "{name}: two runs with the same seed differ");
    for (i, d) in hpa.domains.iter().enumerate() {
        let mine: Vec<_> = explained.iter().filter(|c| usize::from(c.domain) == i).collect();
        assert_eq!(mine.len() as u32, d.cascade_events, "{name}: {}'s cascades explained: {mine:?}", d.domain);
        assert!(
            mine.iter().all(|c| !c.upstream.is_empty() && c.upstream.iter().all(|u| u.breaching_since_secs < c.t_secs))
        );
        // Each ended cascade lasted whole ticks, within the run and within the domain's breach time.
        let ended_secs: u64 = mine.iter().filter_map(|c| c.lasted_secs).sum();
        assert!(ended_secs as f64 <= d.slo_breach_minutes * 60.0 + 1e-6, "{name}: {}: {mine:?}", d.domain);
        assert!(mine.iter().all(|c| c.lasted_secs.is_none_or(|l| l > 0 && c.t_secs + l <= s.duration_secs)));
        // Each ended cascade carries what held its minutes, minute for minute of its length; an open one none.
        for c in &mine {
            let held = c.held_by.map(|h| h.total() * 60.0);
            let lasted = c.lasted_secs.map(|l| l as f64);
            assert!(held.zip(lasted).is_none_or(|(h, l)| (h - l).abs() < 1e-6), "{name}: {c:?}");
            assert_eq!(held.is_some(), lasted.is_some(), "{name}: {c:?}");
        }
        // What held the breach minutes adds up to them, and no cause is negative.
        let by_cause = &d.slo_breach_minutes_by_cause;
        assert!((by_cause.total() - d.slo_breach_minutes).abs() < 1e-6, "{name}: {}: {by_cause:?}", d.domain);
        assert!(by_cause.iter().all(|(_, m)| m >= 0.0), "{name}: {}: {by_cause:?}", d.domain);
    }
    // Each breach that ended says what held it, minute for minute of its length.
    for e in &timeline {
        if let TimelineKind::BreachEnd { domain, held_by } = &e.kind {
            let began = breach_began_secs(&timeline, *domain, e.t_secs).expect("a breach ends after it began");
            let lasted_minutes = (e.t_secs - began) as f64 / 60.0;
            assert!((held_by.total() - lasted_minutes).abs() < 1e-6, "{name}: {e:?} began at {began}");
        }
    }
    let p0_p1 = &hpa.cluster.p0_p1_slo_breach_minutes_by_cause;
    assert!((p0_p1.total() - hpa.cluster.p0_p1_slo_breach_minutes).abs() < 1e-6, "{name}: {p0_p1:?}");
    let heuristic = run(&s, "heuristic");
    let dir = root().join("tests/golden");
    check_golden(&hpa, &dir.join(format!("{name}.hpa.json")));
    check_golden(&heuristic, &dir.join(format!("{name}.heuristic.json")));
    (hpa, heuristic)
}

#[test]
fn every_shipped_scenario_round_trips_exactly() {
    for name in SHIPPED {
        let s = load(name);
        let text = scenario::to_ron_string(&s).expect("serialises");
        let back = scenario::load_str(&text, name).unwrap_or_else(|e| panic!("{name}: re-load failed: {e}"));
        assert_eq!(s, back, "{name}: save → load changed the scenario");
    }
}

#[test]
fn reference_day_is_full_scale_and_calm() {
    let (hpa, _) = golden_and_deterministic("reference-day");
    let s = load("reference-day");
    let apps: u32 = s.domains.iter().flat_map(|d| &d.tiers).map(|t| t.apps).sum();
    assert!((1500..=1600).contains(&apps), "{apps} apps");
    assert_eq!(s.domains.len(), 5);
    assert!(hpa.cluster.peak_pods >= 100_000, "peak pods {}", hpa.cluster.peak_pods);
    assert!(
        hpa.cluster.p0_p1_slo_breach_minutes <= 5.0,
        "an ordinary day should not breach P0/P1 SLOs: {}",
        hpa.cluster.p0_p1_slo_breach_minutes
    );
}

#[test]
fn flash_sale_early_tells_the_postmortem() {
    let (hpa, heuristic) = golden_and_deterministic("flash-sale-early");
    assert!(domain(&hpa, "payment").slo_breach_minutes > 5.0, "payment breaches");
    assert!(domain(&hpa, "fraud").slo_breach_minutes > 5.0, "fraud breaches");
    assert!(hpa.cluster.peak_pending_pods > 5_000, "pending pods pile up: {}", hpa.cluster.peak_pending_pods);
    assert!(
        hpa.cluster.peak_provisioner_queue_nodes > 300,
        "the provisioner queue peaks: {}",
        hpa.cluster.peak_provisioner_queue_nodes
    );
    let late = hpa.cluster.max_node_provision_secs.unwrap_or(0.0);
    assert!(late >= 240.0, "capacity lands minutes late: {late} s");
    assert!(
        heuristic.cluster.p0_p1_slo_breach_minutes < 0.9 * hpa.cluster.p0_p1_slo_breach_minutes,
        "the tuned heuristic does measurably better on P0/P1: {} vs {}",
        heuristic.cluster.p0_p1_slo_breach_minutes,
        hpa.cluster.p0_p1_slo_breach_minutes
    );
}

#[test]
fn fraud_cascade_spreads_from_payment_to_fraud() {
    let (hpa, _) = golden_and_deterministic("fraud-cascade");
    let fraud = domain(&hpa, "fraud");
    assert_eq!(fraud.slo_p99_latency_ms, 500.0);
    assert!(fraud.slo_breach_minutes > 5.0, "fraud breaches: {}", fraud.slo_breach_minutes);
    assert!(fraud.cascade_events >= 1, "fraud's breach begins while payment is already in breach");
    assert!(fraud.peak_p99_latency_ms > 500.0);
    // Payment's and Fraud's minutes are held mostly by pods waiting for room (the nodes the spike needs); Merchant
    // breaches only through its inline call to Payment: its own apps stay within the SLO.
    for id in ["payment", "fraud"] {
        let d = domain(&hpa, id);
        let waiting = d.slo_breach_minutes_by_cause.waiting_for_room_minutes;
        assert!(waiting > 0.6 * d.slo_breach_minutes, "{id}: {:?}", d.slo_breach_minutes_by_cause);
    }
    let merchant = domain(&hpa, "merchant");
    assert_eq!(merchant.slo_breach_minutes_by_cause.callee_minutes, merchant.slo_breach_minutes);
}

#[test]
fn provisioner_stampede_backs_up_the_provisioner() {
    let (hpa, heuristic) = golden_and_deterministic("provisioner-stampede");
    assert!(hpa.cluster.peak_provisioner_queue_requests >= 300, "API calls queue up");
    assert!(hpa.cluster.peak_provisioner_queue_nodes >= 500);
    let worst = hpa.cluster.max_node_provision_secs.unwrap_or(0.0);
    assert!(worst >= 900.0, "scale-ups take over 15 minutes: {worst} s");
    assert!(heuristic.cluster.max_node_provision_secs.unwrap_or(0.0) < worst, "batching shortens the wait");
}

#[test]
fn priority_inversion_starves_p0_without_priority_classes() {
    let (hpa, heuristic) = golden_and_deterministic("priority-inversion");
    assert!(
        hpa.cluster.p0_priority_inversion_minutes >= 10.0,
        "P0 pods wait while P3 pods hold capacity: {}",
        hpa.cluster.p0_priority_inversion_minutes
    );
    // With PriorityClasses on, preemption seats P0 at once wherever lower-priority pods hold room it could take;
    // what is left (a fragment smaller than a P0 pod, pods already terminating) is not an inversion.
    assert_eq!(
        heuristic.cluster.p0_priority_inversion_minutes, 0.0,
        "PriorityClasses end it: {}",
        heuristic.cluster.p0_priority_inversion_minutes
    );
}

#[test]
fn small_is_small_and_spiky() {
    let (hpa, _) = golden_and_deterministic("small");
    let s = load("small");
    let apps: u32 = s.domains.iter().flat_map(|d| &d.tiers).map(|t| t.apps).sum();
    assert!((40..=60).contains(&apps), "{apps} apps");
    assert!(domain(&hpa, "payment").scale_out_events == 1);
}
