//! Property tests: whatever controllers ask, the books balance, capacity is never exceeded, and every cascade the
//! scorecard counts is explained.

use proptest::prelude::*;

use hirl_scale::scenario::EventSpec;
use hirl_scale::sim::breach_cause::BreachCause;
use hirl_scale::sim::cascades::{breach_began_secs, cascades};
use hirl_scale::sim::{Actions, AppId, DomainId, PoolId, Simulation, TICK_SECS, TimelineKind};

use crate::common::load;

#[derive(Clone, Debug)]
enum Move {
    Replicas(u32, u32),
    Nodes(u8, u32),
    Remove(u8, u32),
    Reserve(u8, u64),
    Quota(u8, Option<u64>),
    Priority(bool),
    Spike(u8, u32),
    Loss(u8, u32),
    Steps(u8),
}

fn moves() -> impl Strategy<Value = Move> {
    prop_oneof![
        4 => (0u32..49, 0u32..400).prop_map(|(a, r)| Move::Replicas(a, r)),
        1 => (0u8..3, 0u32..30).prop_map(|(p, n)| Move::Nodes(p, n)),
        1 => (0u8..3, 0u32..30).prop_map(|(p, n)| Move::Remove(p, n)),
        1 => (0u8..3, 0u64..200_000).prop_map(|(p, m)| Move::Reserve(p, m)),
        1 => (0u8..5, proptest::option::of(0u64..400_000)).prop_map(|(d, q)| Move::Quota(d, q)),
        1 => any::<bool>().prop_map(Move::Priority),
        1 => (0u8..5, 2u32..6).prop_map(|(d, m)| Move::Spike(d, m)),
        1 => (0u8..3, 0u32..10).prop_map(|(p, n)| Move::Loss(p, n)),
        4 => (1u8..30).prop_map(Move::Steps),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn books_balance_under_any_actions(script in proptest::collection::vec(moves(), 1..40)) {
        let s = load("small");
        let mut sim = Simulation::new(&s, 1);
        let ids: Vec<String> = sim.layout().domains.iter().map(|d| d.id.clone()).collect();
        let pools: Vec<String> = sim.layout().pools.iter().map(|p| p.name.clone()).collect();
        for m in script {
            let mut a = Actions::default();
            match m {
                Move::Replicas(app, r) => a.replicas.push((AppId(app), r)),
                Move::Nodes(p, n) => a.node_requests.push((PoolId(p), n)),
                Move::Remove(p, n) => a.node_removals.push((PoolId(p), n)),
                Move::Reserve(p, m) => a.reserves.push((PoolId(p), m)),
                Move::Quota(d, q) => a.domain_quotas.push((DomainId(d), q)),
                Move::Priority(on) => a.priority_classes = Some(on),
                Move::Spike(d, m) => drop(sim.inject(EventSpec::Spike {
                    domain: ids[d as usize].clone(),
                    start_secs: sim.now_secs(),
                    ramp_secs: 10,
                    multiplier: f64::from(m),
                    duration_secs: 600,
                })),
                Move::Loss(p, n) => drop(sim.inject(EventSpec::NodePoolLoss {
                    pool: pools[p as usize].clone(),
                    at_secs: sim.now_secs(),
                    nodes: n,
                })),
                Move::Steps(n) => for _ in 0..n { sim.step(); },
            }
            sim.apply(&a);
            prop_assert!(sim.check_invariants().is_ok(), "{:?}", sim.check_invariants());
            sim.step();
            prop_assert!(sim.check_invariants().is_ok(), "{:?}", sim.check_invariants());
            for d in sim.domain_truth() {
                prop_assert!(d.p99_latency_ms.is_finite() && d.p99_latency_ms >= 0.0);
                prop_assert!((0.0..=1.0).contains(&d.error_ratio));
            }
        }
        // Whatever happened, the cascades read back from the timeline are the scorecard's, domain by domain.
        let explained = cascades(sim.timeline(), &sim.layout().links);
        for (i, d) in sim.scorecard("script").domains.iter().enumerate() {
            let n = explained.iter().filter(|c| usize::from(c.domain) == i).count();
            prop_assert_eq!(n as u32, d.cascade_events, "{}: {:?}", d.domain, explained);
            // A cascade's length is whole ticks of that domain's breach time: together its cascades that ended
            // never last longer than the domain was in breach.
            let ended_secs: u64 =
                explained.iter().filter(|c| usize::from(c.domain) == i).filter_map(|c| c.lasted_secs).sum();
            prop_assert!(
                explained.iter().filter_map(|c| c.lasted_secs).all(|s| s > 0 && s % TICK_SECS == 0),
                "{:?}",
                explained
            );
            prop_assert!(ended_secs as f64 <= d.slo_breach_minutes * 60.0 + 1e-6, "{}: {:?}", d.domain, explained);
            // Every breached tick is split between its causes, whatever the actions did.
            let by_cause = &d.slo_breach_minutes_by_cause;
            prop_assert!((by_cause.total() - d.slo_breach_minutes).abs() < 1e-6, "{}: {:?}", d.domain, by_cause);
            prop_assert!(by_cause.iter().all(|(_, m)| m >= 0.0), "{}: {:?}", d.domain, by_cause);
            // Each ended breach's minutes by cause add up to its length.
            for e in sim.timeline() {
                if let TimelineKind::BreachEnd { domain, held_by } = &e.kind
                    && usize::from(*domain) == i
                {
                    let began = breach_began_secs(sim.timeline(), *domain, e.t_secs);
                    prop_assert!(began.is_some(), "{:?}", e);
                    let lasted_minutes = began.map_or(0.0, |b| (e.t_secs - b) as f64 / 60.0);
                    prop_assert!((held_by.total() - lasted_minutes).abs() < 1e-6, "{:?}", e);
                }
            }
        }
    }
}

/// What the window draws tick by tick is what the scorecard counts: summed over every tick, each domain's breach
/// split by cause gives its breach minutes by cause (small.ron's spike under HPA, step by step).
#[test]
fn the_tick_by_tick_breach_split_adds_up_to_the_scorecard() {
    use hirl_scale::policy;
    let s = load("small");
    let mut sim = Simulation::new(&s, s.seed);
    let mut hpa = policy::baseline("hpa", sim.layout()).expect("hpa");
    let mut sums = vec![[0.0f64; BreachCause::COUNT]; s.domains.len()];
    let mut actions = Actions::default();
    while sim.now_secs() < s.duration_secs {
        actions.clear();
        hpa.decide(&sim.observe(), &mut actions);
        sim.apply(&actions);
        sim.step();
        for (sum, split) in sums.iter_mut().zip(sim.domain_breach_split()) {
            for (total, share) in sum.iter_mut().zip(split) {
                *total += share;
            }
        }
    }
    let card = sim.scorecard("hpa");
    assert!(card.cluster.slo_breach_minutes > 0.0, "small.ron's spike breaches under HPA");
    for (d, sum) in card.domains.iter().zip(&sums) {
        let by_tick: Vec<f64> = sum.iter().map(|ticks| ticks * TICK_SECS as f64 / 60.0).collect();
        let scored: Vec<f64> = d.slo_breach_minutes_by_cause.iter().map(|(_, m)| m).collect();
        for (a, b) in by_tick.iter().zip(&scored) {
            assert!((a - b).abs() < 1e-9, "{}: {by_tick:?} vs {scored:?}", d.domain);
        }
    }
}

/// A breach at apps whose HPAs are pinned at `maxReplicas` is one their controllers chose, not one they had not
/// seen: the scorer reads it as "held back" from the HPAs' declarations, and the same run without them reads it as
/// "not scaled up" (small.ron's Payment spike, every Payment HPA patched to its count at t = 0, as `kubectl patch`
/// would).
#[test]
fn a_breach_at_hpas_pinned_at_max_replicas_is_held_back() {
    use hirl_scale::policy::{Autoscaler, ClusterAutoscaler, ClusterAutoscalerConfig, HpaFleet};
    let s = load("small");
    let run = |declare: bool| {
        let mut sim = Simulation::new(&s, s.seed);
        let layout = sim.layout().clone();
        let payment = layout.domains.iter().position(|d| d.id == "payment").expect("payment");
        let mut hpa = HpaFleet::new(&layout);
        for a in layout.domains[payment].apps.clone() {
            let app = AppId(a);
            let now = sim.observe().app_desired_replicas(app);
            let controller = hpa.controller_mut(app).expect("an HPA per app");
            let min = controller.spec().min_replicas.min(now);
            controller.set_bounds(min, now).expect("valid bounds");
        }
        let mut ca = ClusterAutoscaler::new(&layout, ClusterAutoscalerConfig::default());
        let mut actions = Actions::default();
        while sim.now_secs() < s.duration_secs {
            actions.clear();
            let obs = sim.observe();
            hpa.decide(&obs, &mut actions);
            ca.decide(&obs, &mut actions);
            if !declare {
                actions.held_back.clear();
            }
            sim.apply(&actions);
            sim.step();
        }
        sim.scorecard("hpa").domains[payment].slo_breach_minutes_by_cause
    };
    let (declared, silent) = (run(true), run(false));
    assert!(declared.held_back_minutes > 10.0, "{declared:?}");
    assert_eq!(silent.held_back_minutes, 0.0);
    assert!(
        (declared.held_back_minutes + declared.not_scaled_minutes - silent.not_scaled_minutes).abs() < 1e-9,
        "the declarations move minutes from not scaled up to held back and change nothing else: {declared:?} vs \
         {silent:?}"
    );
    assert!((declared.total() - silent.total()).abs() < 1e-9, "{declared:?} vs {silent:?}");
}
