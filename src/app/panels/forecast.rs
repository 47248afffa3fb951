//! Placeholder until the panel is written.

use super::PanelCtx;

#[derive(Default)]
pub struct ForecastPanel {}

impl ForecastPanel {
    pub fn forecast_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let _ = ctx;
        ui.label("forecast");
    }
}
