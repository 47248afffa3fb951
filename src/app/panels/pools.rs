//! Placeholder until the panel is written.

use super::PanelCtx;

#[derive(Default)]
pub struct PoolsPanel {}

impl PoolsPanel {
    pub fn pools_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let _ = ctx;
        ui.label("pools");
    }
}
