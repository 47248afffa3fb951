//! Bad scenario files: every problem is reported with file:line:col and a clear message, never a panic.

use hirl_scale::scenario::{self, Diagnostic, ScenarioError};

use crate::common::scenario_path;

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

#[test]
fn save_is_atomic_and_round_trips() {
    let s = crate::common::load("small");
    let dir = std::env::temp_dir().join(format!("hirl-scale-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
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
    let _ = std::fs::remove_dir_all(&dir);
}
