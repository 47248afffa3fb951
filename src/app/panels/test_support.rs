//! Shared scaffolding for the panels' egui_kittest tests.

use std::sync::Arc;

use egui_kittest::Harness;

use super::PanelCtx;
use crate::agents::hirl::features::{N_GROUPS, SOLDIER_OBS};
use crate::agents::hirl::record::SoldierRecord;
use crate::agents::hirl::safety::SafetyLevel;
use crate::app::store::Store;

/// `scenarios/small.ron` (5 domains, 3 pools) with no run yet.
pub fn empty_store() -> Store {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
    Store::new(Arc::new(crate::scenario::load_file(&path).expect("small.ron loads")))
}

/// A harness of `size` drawing one panel of run 0 with 150 px plots, run until it settles.
pub fn harness<'a>(
    store: &'a Store,
    size: egui::Vec2,
    mut draw: impl FnMut(&mut egui::Ui, &PanelCtx<'_>) + 'a,
) -> Harness<'a> {
    let mut harness = Harness::builder().with_size(size).build_ui(move |ui| {
        let ctx = PanelCtx { store, run: 0, plot_height: 150.0, max_points: 1500, column_right: None };
        draw(ui, &ctx);
    });
    harness.run();
    harness
}

/// Clicks the widget labelled `label` and runs the harness until it settles (a panel's buttons act on the next frame).
pub fn press(harness: &mut Harness<'_>, label: &str) {
    use egui_kittest::kittest::Queryable as _;
    harness.get_by_label(label).click();
    harness.run();
}

/// A Soldier's decision record at `t_secs` for `domain`, every field plausible.
pub fn soldier_record(t_secs: u64, domain: usize) -> Arc<SoldierRecord> {
    Arc::new(SoldierRecord {
        t_secs,
        domain,
        obs: vec![0.5; SOLDIER_OBS],
        mean: vec![0.0; 29],
        log_std: vec![-1.0; 29],
        action: vec![0.0; 29],
        value: Some(-1.5),
        level_multiplier: 1.1,
        network_level_multiplier: 1.1,
        ramp_lead: 1.0,
        announced_lift: 1.0,
        group_factors: vec![1.0; N_GROUPS],
        top_apps: vec![(3, 1.2)],
        up_scale: 1.0,
        clipped_millicores: 0.0,
        slack_held_millicores: 0,
        safety: SafetyLevel::Normal,
        held_for_callee: None,
        replica_changes: (0..14).map(|a| (a, 2, 3 + a)).collect(),
    })
}
