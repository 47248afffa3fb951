//! The decision inspector in the real window (egui_kittest, live worker): a HiRL run of `flash-sale-early` with the
//! shipped agents and forecaster, stepped Commander decision by Commander decision with the toolbar. The panel must
//! show the records' own numbers, step between decisions, and say when a run keeps no records.

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use hirl_scale::agents::hirl::explain::signed;
use hirl_scale::agents::policies::PolicyAssets;
use hirl_scale::app::HirlApp;
use hirl_scale::app::panels::inspector::{NO_RECORDS, reserve_share_label, value_estimate_label};
use hirl_scale::runner::WorkerConfig;

use crate::common::{load, root};
use crate::window::{step_until, window_with};

/// A paused window running `hirl` on flash-sale-early with the shipped models, after its first frame.
fn flash_sale_window() -> Harness<'static, HirlApp> {
    let mut cfg = WorkerConfig::new(load("flash-sale-early"), "flash-sale-early.ron", "hirl");
    let assets = PolicyAssets::shipped(&root());
    (cfg.forecaster, cfg.agents) = (assets.forecaster, assets.agents);
    assert!(cfg.agents.is_ok(), "the shipped agents load: {:?}", cfg.agents.as_ref().err());
    let mut h = window_with(cfg);
    step_until(&mut h, 30, "first frame", |a| !a.store.runs.is_empty());
    h
}

/// Steps to the next Commander time `n` times with the toolbar's button; a decision at `t` is visible once the run
/// has left `t`.
fn step_commander(h: &mut Harness<'_, HirlApp>, n: usize) {
    for k in 1..=n {
        h.get_by_label("Step: Commander").click();
        step_until(h, 60, "the next Commander decision", move |a| a.store.runs[0].commander.len() >= k);
    }
    h.run_steps(2);
}

/// Clicks a widget wherever the scroll area has put it (the inspector is the column's last section).
fn click(h: &mut Harness<'_, HirlApp>, label: &str) {
    h.get_by_label(label).click_accesskit();
    h.run_steps(2);
}

/// The one label that starts with `prefix`.
fn label_starting(h: &Harness<'_, HirlApp>, prefix: &str) -> String {
    let labels: Vec<String> = h
        .query_all_by_label_contains(prefix)
        // AccessKit keeps a plain label's text in its value.
        .filter_map(|n| n.accesskit_node().value().or_else(|| n.accesskit_node().label()))
        .filter(|l| l.starts_with(prefix))
        .collect();
    assert_eq!(labels.len(), 1, "one label starting with `{prefix}`: {labels:?}");
    labels[0].clone()
}

/// The number a label ends with: "value estimate −3.214" → −3.214, "reserve share 4.02%" → 4.02.
fn number(label: &str) -> f64 {
    label
        .rsplit(' ')
        .next()
        .map(|w| w.trim_end_matches('%').replace('−', "-"))
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no number at the end of `{label}`"))
}

#[test]
fn the_third_commander_decision_shows_its_recorded_value_and_reserve() {
    let mut h = flash_sale_window();
    step_commander(&mut h, 3);
    let records = h.state().store.runs[0].commander.clone();
    assert_eq!(records.len(), 3, "decisions at 0, 60 and 120 s");
    // The inspector follows the newest decision; step away and back to land on the third by navigation.
    click(&mut h, "« previous decision");
    h.get_by_label("decision 2 of 3");
    click(&mut h, "next decision »");
    h.get_by_label("decision 3 of 3");

    let third = &records[2];
    let value = third.value.expect("the networks' critic gives a value estimate");
    let label = label_starting(&h, "value estimate");
    assert_eq!(label, value_estimate_label(Some(value)));
    assert!((number(&label) - f64::from(value)).abs() <= 5e-4, "{label} vs {value}");
    let reserve = third.shares[5];
    let label = label_starting(&h, "reserve share");
    assert_eq!(label, reserve_share_label(reserve));
    assert!((number(&label) - reserve * 100.0).abs() <= 5e-3, "{label} vs {reserve}");
    // Its minute is simulated, but the decision after it (at 180 s) is not visible yet.
    h.get_by_label("value after the outcome: waiting for the outcome");
    // The summary quotes the same estimate, and the attribution ran against the typical observation.
    let summary = label_starting(&h, "Tue 11:02 — the Commander");
    assert!(summary.contains(&format!("It expected a return of {};", signed(f64::from(value), 1))), "{summary}");
    assert!(h.query_by_label_contains("forward passes in").is_some(), "the attribution was computed");
}

#[test]
fn previous_and_next_move_between_decisions_and_streams_keep_the_moment() {
    let mut h = flash_sale_window();
    step_commander(&mut h, 3);
    let records = h.state().store.runs[0].commander.clone();
    h.get_by_label("decision 3 of 3");
    for (button, k) in [("« previous decision", 2), ("« previous decision", 1), ("next decision »", 2)] {
        click(&mut h, button);
        h.get_by_label(&format!("decision {k} of 3"));
        let record = &records[k - 1];
        assert_eq!(label_starting(&h, "value estimate"), value_estimate_label(record.value), "decision {k}");
        assert_eq!(label_starting(&h, "reserve share"), reserve_share_label(record.shares[5]), "decision {k}");
    }
    // The second decision's minute and the decision after it are both in: its outcome is shown.
    let after = label_starting(&h, "value after the outcome");
    assert!(!after.contains("waiting"), "{after}");
    number(&after);

    // The payment Soldier's stream opens at its last decision at or before the selected Commander one (60 s).
    let soldiers: Vec<u64> =
        h.state().store.runs[0].soldiers.iter().filter(|r| r.domain == 0).map(|r| r.t_secs).collect();
    let at = soldiers.partition_point(|&t| t <= records[1].t_secs);
    assert!(at > 0, "the payment Soldier decided by 60 s");
    // Domain ids label other panels too; the inspector's stream picker comes last.
    h.query_all_by_label("payment").last().expect("the payment stream").click_accesskit();
    h.run_steps(2);
    h.get_by_label(&format!("decision {at} of {}", soldiers.len()));
    assert!(h.query_by_label_contains("the payment Soldier sized its domain").is_some());
}

#[test]
fn a_baseline_run_says_it_keeps_no_decision_records() {
    let mut h = window_with(WorkerConfig::new(load("small"), "small.ron", "hpa"));
    step_until(&mut h, 30, "first frame", |a| !a.store.runs.is_empty());
    h.run_steps(2);
    assert!(h.query_by_label(NO_RECORDS).is_none(), "the section starts folded for a run without records");
    click(&mut h, "Decision inspector");
    h.get_by_label(NO_RECORDS);
}
