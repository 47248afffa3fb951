//! Shared scaffolding for the panels' egui_kittest tests.

use std::sync::Arc;

use egui_kittest::Harness;

use super::PanelCtx;
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
