//! The collapsible sections the panels sit in, one column per run, and which of them are built each frame.
//!
//! Contract:
//! - Each section is laid out `width` wide from the column's left edge, afresh: egui lets a row too wide for its
//!   column widen the column, and the text of every section below would then wrap past the window's edge.
//! - A section wholly out of view (scrolled past, or below the window's edge) is not built: it takes the height it
//!   had when last built, at the same width, so the scroll area keeps its length and nothing in view moves. Its
//!   panel's own state (held readouts, the inspector's "latest") moves on when it next comes into view.
//! - Every section is built every frame while an assistive technology reads the window (egui then keeps an AccessKit
//!   tree, which must hold every widget, also those scrolled out of view), while a widget has keyboard focus (Tab
//!   must reach the widgets of the sections below), at a new width, and the first time it is shown.

/// Section `title` of column `run`, built with `add` unless it lies wholly out of view (see the module docs).
pub fn section_ui(
    ui: &mut egui::Ui,
    title: &str,
    run: usize,
    open: bool,
    width: f32,
    add: &mut dyn FnMut(&mut egui::Ui),
) {
    let size_id = egui::Id::unique(("section-size", title, run));
    if let Some(size) = ui.ctx().data(|d| d.get_temp::<egui::Vec2>(size_id))
        && size.x == width
        && may_skip(ui)
        && !ui.is_rect_visible(egui::Rect::from_min_size(ui.cursor().min, size))
    {
        ui.allocate_space(size);
        return;
    }
    let rect = egui::Rect::from_min_size(ui.cursor().min, egui::vec2(width, ui.available_height()));
    let built = ui.scope_builder(egui::UiBuilder::new().max_rect(rect), |ui| {
        egui::CollapsingHeader::new(title).id_salt((title, run)).default_open(open).show(ui, |ui| add(ui));
    });
    let size = egui::vec2(width, built.response.rect.height());
    ui.ctx().data_mut(|d| d.insert_temp(size_id, size));
}

/// Whether sections out of view may go unbuilt this frame: not while egui keeps an AccessKit tree, nor while a widget
/// has keyboard focus.
fn may_skip(ui: &egui::Ui) -> bool {
    let ctx = ui.ctx();
    !ctx.has_accesskit_node(egui::accesskit_root_id()) && ctx.memory(|m| m.focused().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three sections of 150 points and a button each, in a scroll area 200 points tall.
    struct Column {
        ctx: egui::Context,
        /// How many times each section was built.
        built: [usize; 3],
        width: f32,
        /// The first section's button.
        button: Option<egui::Id>,
    }

    impl Column {
        fn new() -> Self {
            Self { ctx: egui::Context::default(), built: [0; 3], width: 300.0, button: None }
        }

        /// One frame, scrolled to `offset_y`; returns the scroll area's content height.
        fn frame(&mut self, offset_y: f32) -> f32 {
            let input = egui::RawInput {
                screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(400.0, 600.0))),
                ..Default::default()
            };
            let (built, width, button) = (&mut self.built, self.width, &mut self.button);
            let mut content_height = 0.0;
            let output = self.ctx.run_ui(input, |ui| {
                let output =
                    egui::ScrollArea::vertical().max_height(200.0).vertical_scroll_offset(offset_y).show(ui, |ui| {
                        for (i, count) in built.iter_mut().enumerate() {
                            section_ui(ui, &format!("section {i}"), 0, true, width, &mut |ui| {
                                *count += 1;
                                ui.allocate_space(egui::vec2(100.0, 150.0));
                                let id = ui.button(format!("button {i}")).id;
                                if i == 0 {
                                    *button = Some(id);
                                }
                            });
                        }
                    });
                content_height = output.content_size.y;
            });
            output.drop_without_applying_deltas();
            content_height
        }
    }

    #[test]
    fn sections_out_of_view_keep_their_height_without_being_built() {
        let mut column = Column::new();
        let first = column.frame(0.0);
        assert_eq!(column.built, [1, 1, 1], "the first frame builds every section");
        let second = column.frame(0.0);
        assert_eq!(column.built, [2, 2, 1], "the third section lies below the 200-point view");
        assert_eq!(first, second, "a section not built keeps its height");
        assert!(second > 3.0 * 150.0, "{second}");

        // Scrolled to the foot: the first section is scrolled past, the third comes into view.
        column.frame(second);
        column.frame(second);
        assert_eq!(column.built[0], 2, "scrolled past, not built");
        assert_eq!(column.built[2], 3, "in view, built every frame");

        // At a new width, every section is built once more.
        column.width = 250.0;
        let before = column.built;
        column.frame(second);
        assert_eq!(column.built, [before[0] + 1, before[1] + 1, before[2] + 1]);
    }

    #[test]
    fn every_section_is_built_for_a_screen_reader_and_while_a_widget_has_focus() {
        let mut column = Column::new();
        column.ctx.enable_accesskit();
        for _ in 0..3 {
            column.frame(0.0);
        }
        assert_eq!(column.built, [3, 3, 3], "an AccessKit tree holds every widget");

        let mut column = Column::new();
        column.frame(0.0);
        let button = column.button.expect("the first section's button");
        column.ctx.memory_mut(|m| m.request_focus(button));
        column.frame(0.0);
        column.frame(0.0);
        assert!(column.ctx.memory(|m| m.has_focus(button)));
        assert_eq!(column.built, [3, 3, 3], "Tab must reach the sections below the view");
        column.ctx.memory_mut(|m| m.surrender_focus(button));
        column.frame(0.0);
        column.frame(0.0);
        assert_eq!(column.built[2], 3, "without focus, out of view again");
    }
}
