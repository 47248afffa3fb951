//! Placeholder until the panel is written.

use super::PanelCtx;

#[derive(Default)]
pub struct TimelinePanel {}

impl TimelinePanel {
    pub fn timeline_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let _ = ctx;
        ui.label("timeline");
    }
}
