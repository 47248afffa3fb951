//! Placeholder until the panel is written.

use super::PanelCtx;

#[derive(Default)]
pub struct PendingPanel {}

impl PendingPanel {
    pub fn pending_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let _ = ctx;
        ui.label("pending");
    }
}
