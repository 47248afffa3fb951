//! Placeholder until the panel is written.

use super::PanelCtx;

#[derive(Default)]
pub struct BudgetsPanel {}

impl BudgetsPanel {
    pub fn budgets_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let _ = ctx;
        ui.label("budgets");
    }
}
