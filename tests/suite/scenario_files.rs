//! Bad scenario files: every problem is reported with file:line:col and a clear message, never a panic.

use hirl_scale::scenario::{self, Diagnostic, ScenarioError};

use crate::common::{scenario_path, scratch_dir};

fn small_text() -> String {
    std::fs::read_to_string(scenario_path("small")).expect("small.ron readable")
}

/// Replaces exactly one occurrence of `from` (the first) and loads the result, which must fail.
fn broken(from: &str, to: &str) -> ScenarioError {
    let text = small_text();
    assert!(text.contains(from), "fixture text `{from}` not in small.ron");
    let bad = text.replacen(from, to, 1);
    match scenario::load_str(&bad, "small-broken.ron") {
        Ok(_) => panic!("`{from}` → `{to}` was accepted"),
        Err(e) => e,
    }
}

fn line_of(needle: &str) -> u32 {
    let text = small_text();
    let idx = text.find(needle).expect("needle present");
    text[..idx].matches('\n').count() as u32 + 1
}

fn only(e: &ScenarioError) -> &Diagnostic {
    assert_eq!(e.diagnostics.len(), 1, "expected one problem, got: {e}");
    &e.diagnostics[0]
}

#[test]
fn syntax_error_has_a_location() {
    let e = broken("calls: [(to: \"fraud\", ratio: 0.25)],", "calls: [(to: \"fraud\", ratio: 0.25),");
    let d = only(&e);
    assert!(d.location.line > 1, "{e}");
    let shown = e.to_string();
    assert!(shown.starts_with("small-broken.ron: 1 problem"), "{shown}");
    assert!(shown.contains(&format!("small-broken.ron:{}", d.location)), "{shown}");
}

#[test]
fn unknown_field_is_rejected_with_its_name_and_line() {
    let e = broken("priority_weight: 1.0,", "priority_weight: 1.0, colour: \"red\",");
    let d = only(&e);
    assert!(d.message.contains("colour"), "{}", d.message);
    assert_eq!(d.location.line, line_of("priority_weight: 1.0,"));
}

#[test]
fn negative_replica_bound_is_a_located_type_error() {
    let e = broken("hpa: (minReplicas: 3,", "hpa: (minReplicas: -3,");
    let d = only(&e);
    assert_eq!(d.location.line, line_of("hpa: (minReplicas: 3,"));
}

#[test]
fn inverted_replica_bounds_point_at_max_replicas() {
    let e = broken("hpa: (minReplicas: 3, maxReplicas: 3000,", "hpa: (minReplicas: 30, maxReplicas: 10,");
    let d = only(&e);
    assert_eq!(d.path, "domains[0].tiers[0].hpa.maxReplicas");
    assert!(d.message.contains("minReplicas"), "{}", d.message);
    assert_eq!(d.location.line, line_of("hpa: (minReplicas: 3, maxReplicas: 3000,"));
}

#[test]
fn unknown_domain_and_pool_are_named() {
    let e = broken("Spike(domain: \"payment\"", "Spike(domain: \"paymnt\"");
    let d = only(&e);
    assert_eq!(d.path, "events[0].domain");
    assert!(d.message.contains("unknown domain \"paymnt\""), "{}", d.message);
    assert!(d.message.contains("payment"), "lists the known ones: {}", d.message);
    assert_eq!(d.location.line, line_of("Spike(domain: \"payment\""));

    let e = broken(
        "Spike(domain: \"payment\", start_secs: 12600, ramp_secs: 60, multiplier: 2.0, duration_secs: 2400)",
        "NodePoolLoss(pool: \"gpu\", at_secs: 100, nodes: 3)",
    );
    let d = only(&e);
    assert_eq!(d.path, "events[0].pool");
    assert!(d.message.contains("unknown pool \"gpu\""), "{}", d.message);
}

#[test]
fn pool_naming_an_unknown_domain_is_located() {
    let e =
        broken("domains: [\"payment\", \"fraud\", \"internal\"]", "domains: [\"payment\", \"fraude\", \"internal\"]");
    // Two consequences, both reported: the unknown name, and "fraud" left without any pool.
    assert_eq!(e.diagnostics.len(), 2, "{e}");
    let d = e.diagnostics.iter().find(|d| d.path == "pools[0].domains[1]").expect("unknown domain reported");
    assert!(d.message.contains("unknown domain \"fraude\""), "{}", d.message);
    assert_eq!(d.location.line, line_of("domains: [\"payment\", \"fraud\", \"internal\"]"));
    let orphan = e.diagnostics.iter().find(|d| d.path == "domains[1].id").expect("orphaned domain reported");
    assert!(orphan.message.contains("may not use any node pool"), "{}", orphan.message);
}

#[test]
fn tier_shares_that_do_not_sum_to_one_are_reported() {
    let e = broken("traffic_share: 0.25,", "traffic_share: 0.35,");
    let d = only(&e);
    assert_eq!(d.path, "domains[0].tiers");
    assert!(d.message.contains("sum to 1"), "{}", d.message);
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let text = small_text()
        .replacen("hpa: (minReplicas: 3, maxReplicas: 3000,", "hpa: (minReplicas: 30, maxReplicas: 10,", 1)
        .replacen("Spike(domain: \"payment\"", "Spike(domain: \"nobody\"", 1)
        .replacen("duration_secs: 21600", "duration_secs: 21601", 1);
    let e = scenario::load_str(&text, "x.ron").expect_err("three problems");
    assert_eq!(e.diagnostics.len(), 3, "{e}");
    let mut lines: Vec<u32> = e.diagnostics.iter().map(|d| d.location.line).collect();
    lines.dedup();
    assert_eq!(lines.len(), 3, "each at its own place: {e}");
}

#[test]
fn wrong_version_and_missing_file_are_clear() {
    let e = broken("version: 1,", "version: 7,");
    assert!(only(&e).message.contains("version 7"), "{e}");
    let missing = scenario::load_file(std::path::Path::new("/nonexistent/x.ron"));
    match missing {
        Err(scenario::LoadError::Io { path, .. }) => assert!(path.contains("nonexistent")),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn garbage_never_panics() {
    let text = small_text();
    // Every prefix at a line boundary, and a few byte-level corruptions.
    for (i, _) in text.match_indices('\n').step_by(7) {
        let _ = scenario::load_str(&text[..i], "prefix.ron");
    }
    for garbage in ["", "(", "Scenario(", "[1,2", "\"unterminated", "Scenario(version: 1, name: 5)", "\u{feff}"] {
        assert!(scenario::load_str(garbage, "g.ron").is_err());
    }
}

/// small.ron with every section a scenario may have written out, and one event of every kind, so that every number
/// a scenario file can hold is in it. Its provisioner is lifted (a what-if), with the limits to put back written out
/// as an exported what-if session keeps them.
fn every_section_text() -> String {
    let extra = r#"    provisioner: (api_calls_per_min: 1000000, max_concurrent_nodes: 1000000, node_boot_secs: (90, 180), backlog_latency_ms_per_node: 0, scale_down_unneeded_secs: 600, allocatable_fraction: 0.9),
    telemetry: (pods_lag_secs: 15, cpu_lag_secs: 30, latency_lag_secs: 30, rps_lag_secs: 15),
    cluster: (priority_classes: true, termination_grace_secs: 30, churn_window_secs: 900),
    events: [
        FlashSale(domain: "merchant", announced_start_secs: Some(7200), start_secs: 7500, ramp_secs: 300, multiplier: 3.0, duration_secs: 1800),
        BatchJob(domain: "data", start_secs: 3600, duration_secs: 1800, pods: 200, cpu_request_millicores: 2000, memory_request_mib: 4096),
        ProvisionerSlowdown(start_secs: 5000, duration_secs: 1200, factor: 3.0),
        NodePoolLoss(pool: "shared-general", at_secs: 9000, nodes: 10),
"#;
    // One HPA with every field written out, so that its rule values are edited too.
    let first_hpa = "hpa: (minReplicas: 3, maxReplicas: 3000, metrics: [CpuUtilization(averageUtilization: 70)])";
    let full_hpa = "hpa: (minReplicas: 3, maxReplicas: 3000, metrics: [CpuUtilization(averageUtilization: 70), \
        MemoryUtilization(averageUtilization: 80), PodsAverageValue(metric: \"requests_per_second\", averageValue: 50.0)], \
        behavior: (scaleUp: (stabilizationWindowSeconds: 30, selectPolicy: Max, policies: [(type: Pods, value: 4, \
        periodSeconds: 15), (type: Percent, value: 100, periodSeconds: 15)]), scaleDown: (stabilizationWindowSeconds: \
        300, selectPolicy: Min, policies: [(type: Percent, value: 10, periodSeconds: 60), (type: Pods, value: 5, \
        periodSeconds: 30)])))";
    let unlifted = r#"    unlifted: Some((name: "small", telemetry: (pods_lag_secs: 15, cpu_lag_secs: 30, latency_lag_secs: 30, rps_lag_secs: 15), provisioner: (api_calls_per_min: 30, max_concurrent_nodes: 100, node_boot_secs: (90, 180), backlog_latency_ms_per_node: 250, scale_down_unneeded_secs: 600, allocatable_fraction: 0.9))),
)
"#;
    let text = small_text();
    assert_eq!(text.matches("    events: [\n").count(), 1, "small.ron's events list");
    assert!(text.contains(first_hpa), "small.ron's first HPA");
    assert!(text.ends_with("    ],\n)\n"), "small.ron ends with its events");
    let text = text.replace("    events: [\n", extra).replacen(first_hpa, full_hpa, 1);
    let text = text.replacen("    name: \"small\",", "    name: \"small+unbounded-provisioner\",", 1);
    format!("{}{unlifted}", text.strip_suffix(")\n").unwrap_or(&text))
}

#[test]
fn the_fuzz_input_loads_as_written() {
    let s = scenario::load_str(&every_section_text(), "every-section.ron").expect("every section, unedited, loads");
    let hpa = &s.domains[0].tiers[0].hpa;
    assert_eq!((hpa.metrics.len(), hpa.behavior.scale_down.policies.len()), (3, 2), "the full HPA is in place");
    let limits = s.unlifted.as_ref().expect("the limits to put back are in place");
    assert!(limits.problems_with(&s).is_empty() && s.name == "small+unbounded-provisioner");
}

/// Values a hand edit or a typo puts in a scenario: zero, the edges of the integer types, and absurd magnitudes.
const EDGE_VALUES: [&str; 11] =
    ["0", "0.0", "2", "65535", "100000", "1000000000", "4294967295", "18446744073709551615", "1e308", "1e-300", "-1"];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

    /// Any scenario the checks accept runs to its end under HPA and HiRL's teacher without a panic (this suite builds
    /// with overflow checks), and any they refuse is refused with a location. Found unbounded: a billion apps or a
    /// billion-second telemetry lag exhausted the memory, and an event lasting u64::MAX seconds, an announced start at
    /// u64::MAX or a batch job of u32::MAX pods overflowed.
    #[test]
    fn an_edited_number_is_refused_with_its_place_or_runs(
        edits in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), 0..EDGE_VALUES.len()), 1..=3)
    ) {
        let edited = crate::common::with_numbers_replaced(&every_section_text(), &edits, &EDGE_VALUES);
        match scenario::load_str(&edited, "edited.ron") {
            Err(e) => {
                for d in &e.diagnostics {
                    proptest::prop_assert!(d.location.line >= 1, "{e}");
                }
            }
            Ok(s) => {
                // Kept to what a debug build runs in a fraction of a second: an edit may make a valid run four weeks
                // long or 100,000 apps wide. Those events all start within the first four hours.
                let apps: u64 = s.domains.iter().flat_map(|d| &d.tiers).map(|t| u64::from(t.apps)).sum();
                let until_secs = if apps > 500 { 60 } else { s.duration_secs.min(8 * 3600) };
                let hpa = crate::common::run_for(&s, "hpa", s.seed, until_secs);
                proptest::prop_assert_eq!(hpa.simulated_secs, until_secs);
                let mut sim = hirl_scale::sim::Simulation::new(&s, s.seed);
                let mut teacher = hirl_scale::agents::hirl::policy::HirlPolicy::new(
                    &s,
                    sim.layout(),
                    s.seed,
                    hirl_scale::agents::hirl::Brain::Teacher,
                    hirl_scale::agents::forecast::ForecasterModel::fallback("test"),
                );
                hirl_scale::policy::run_until(&mut sim, &mut teacher, until_secs, |_| {});
                proptest::prop_assert_eq!(sim.now_secs(), until_secs);
            }
        }
    }
}

#[test]
fn a_billion_apps_is_refused_at_the_tier_not_run_out_of_memory() {
    let e = broken("TierSpec(name: \"risk-scoring\", apps: 2", "TierSpec(name: \"risk-scoring\", apps: 1000000000");
    let paths: Vec<&str> = e.diagnostics.iter().map(|d| d.path.as_str()).collect();
    // So many apps also put the pods at their maxReplicas over what the simulator counts.
    assert_eq!(paths, ["domains[1].tiers[0].apps", "domains[1].tiers[0].hpa.maxReplicas"], "{e}");
    let d = &e.diagnostics[0];
    assert_eq!(d.location.line, line_of("TierSpec(name: \"risk-scoring\""), "{e}");
    assert!(d.message.contains("at most 100000"), "{e}");
}

#[test]
fn save_is_atomic_and_round_trips() {
    let s = crate::common::load("small");
    let dir = scratch_dir("scenario-files");
    let path = dir.join("saved.ron");
    scenario::save_file(&s, &path).expect("save");
    let back = scenario::load_file(&path).expect("load saved");
    assert_eq!(s, back);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left behind");
}
