//! Placeholder until the panel is written.

use super::PanelCtx;

#[derive(Default)]
pub struct LatencyPanel {}

impl LatencyPanel {
    pub fn latency_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let _ = ctx;
        ui.label("latency");
    }
}
