//! Placeholder until the panel is written.

use super::PanelCtx;

#[derive(Default)]
pub struct ScorecardPanel {}

impl ScorecardPanel {
    pub fn scorecard_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let _ = ctx;
        ui.label("scorecard");
    }
}
