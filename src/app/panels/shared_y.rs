//! Side by side, both halves of a panel draw its plot on one value scale, so equal heights are equal values. Scaled
//! each to its own data, a 30k-pod peak under HPA on the left stood as tall as a 55k-pod one under HiRL on the right.
//!
//! Contract:
//! - Each half records the value (y) extent of the items it draws through [`SharedY`] — those its legend shows:
//!   hidden ones do not count, as egui_plot's own automatic bounds skip them — in egui's temporary memory, under the
//!   panel's plot id and its run. [`include_other_halves`] makes a plot include the other halves' extents, so both
//!   settle on the union, and a half whose lines are all hidden on the other side follows that side down again.
//! - Extents are data, never the bounds drawn (which would include the other half's and never shrink).
//! - The other half's extent is the one it recorded last frame: a half drawn first sees the other's one frame late.
//!   A recorded extent that changed asks for one more frame, so a paused window settles as well as a live one.
//! - A half whose plot is scrolled out of view records no extent (`PanelCtx::time_plot_out_of_view`); one whose
//!   whole section is (`app::section`) records nothing and keeps the extent it recorded when last drawn.
//! - One run alone measures, records and includes nothing: its plot is scaled to its own data, as before.

use egui_plot::{HLine, ItemIdSet, Plot, PlotItem, PlotMemory, PlotUi};

use super::PanelCtx;
use super::styled_line::StyledLine;

/// The y extents (min, max) each run's half recorded last frame for one panel, by run.
#[derive(Clone, Debug, Default, PartialEq)]
struct Extents(Vec<Option<[f64; 2]>>);

fn extents_key(id: &'static str) -> egui::Id {
    egui::Id::unique(("shared-y", id))
}

/// The plot id of panel `id`'s plot for `run` (explicit, so its legend's hidden items can be read back).
pub fn plot_id(id: &'static str, run: usize) -> egui::Id {
    egui::Id::unique(("time-plot", id, run))
}

/// `plot` (panel `id`'s, for `ctx.run`) including what the other halves' items span, side by side; as it is alone.
pub fn include_other_halves<'p>(plot: Plot<'p>, ui: &egui::Ui, id: &'static str, ctx: &PanelCtx<'_>) -> Plot<'p> {
    if ctx.store.runs.len() < 2 {
        return plot;
    }
    let extents: Extents = ui.data(|d| d.get_temp(extents_key(id))).unwrap_or_default();
    let others = extents.0.iter().enumerate().filter(|&(run, _)| run != ctx.run && run < ctx.store.runs.len());
    others.filter_map(|(_, e)| *e).fold(plot, |plot, [lo, hi]| plot.include_y(lo).include_y(hi))
}

/// Draws a half's items and records the y extent of those its legend shows (see the module docs).
pub struct SharedY {
    id: &'static str,
    run: usize,
    /// Side by side: alone, nothing is measured or recorded.
    shared: bool,
    hidden: ItemIdSet,
    extent: Option<[f64; 2]>,
}

impl SharedY {
    /// For panel `id`'s plot of `ctx.run`.
    pub fn new(ui: &egui::Ui, id: &'static str, ctx: &PanelCtx<'_>) -> Self {
        let shared = ctx.store.runs.len() > 1;
        let hidden = shared
            .then(|| PlotMemory::load(ui.ctx(), plot_id(id, ctx.run)).map(|m| m.hidden_items))
            .flatten()
            .unwrap_or_default();
        Self { id, run: ctx.run, shared, hidden, extent: None }
    }

    fn note(&mut self, item: &dyn PlotItem) {
        if !self.shared || self.hidden.contains(&item.id()) {
            return;
        }
        let bounds = item.bounds();
        let (lo, hi) = (bounds.min()[1], bounds.max()[1]);
        if lo.is_finite() && hi.is_finite() && lo <= hi {
            self.extent = Some(self.extent.map_or([lo, hi], |[a, b]| [a.min(lo), b.max(hi)]));
        }
    }

    pub fn line<'a>(&mut self, plot_ui: &mut PlotUi<'a>, line: impl Into<StyledLine<'a>>) {
        let line = line.into();
        self.note(&line);
        plot_ui.add(line);
    }

    pub fn hline(&mut self, plot_ui: &mut PlotUi<'_>, hline: HLine) {
        self.note(&hline);
        plot_ui.hline(hline);
    }

    /// Stores the extent for the other halves' next frame; asks for that frame if it changed. Recorded before any
    /// item is drawn, it clears the half's extent: [`PanelCtx::time_plot_out_of_view`] does so for a plot not built.
    pub fn record(self, ctx: &egui::Context) {
        if !self.shared {
            return;
        }
        let changed = ctx.data_mut(|d| {
            let extents: &mut Extents = d.get_temp_mut_or_default(extents_key(self.id));
            if extents.0.len() <= self.run {
                extents.0.resize(self.run + 1, None);
            }
            let before = std::mem::replace(&mut extents.0[self.run], self.extent);
            before != self.extent
        });
        if changed {
            ctx.request_repaint();
        }
    }
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_plot::ItemId;
    use egui_plot::Line;

    use super::super::PendingPanel;
    use super::*;
    use crate::app::store::Store;

    /// The budgets fixture's run (1,204 pending pods at most) on the left, and on the right a copy with every pending
    /// count tripled.
    fn side_by_side() -> Store {
        let mut store = super::super::budgets::fixture::store();
        let mut right = store.runs[0].clone();
        right.policy = "hirl".into();
        right.past.points.iter_mut().flat_map(|p| &mut p.domains).for_each(|d| d.pending_pods *= 3);
        store.runs.push(right);
        store
    }

    /// The pending panel of every run of `store`, in columns as the window lays side by side out.
    fn harness(store: &Store) -> Harness<'_> {
        let mut harness = Harness::builder().with_size(egui::vec2(1400.0, 500.0)).build_ui(move |ui| {
            ui.columns(store.runs.len(), |columns| {
                for (run, column) in columns.iter_mut().enumerate() {
                    let ctx = PanelCtx { store, run, plot_height: 150.0, max_points: 1500, column_right: None };
                    PendingPanel::default().pending_ui(column, &ctx);
                }
            });
        });
        harness.run();
        harness
    }

    fn top(harness: &Harness<'_>, run: usize) -> f64 {
        PlotMemory::load(&harness.ctx, plot_id("pending", run)).expect("the plot was drawn").bounds().max()[1]
    }

    #[test]
    fn side_by_side_both_halves_take_the_larger_scale_and_alone_a_run_keeps_its_own() {
        let store = side_by_side();
        let h = harness(&store);
        let (left, right) = (top(&h, 0), top(&h, 1));
        assert!(right >= 3_612.0, "the right half shows its own peak: {right}");
        assert!((left - right).abs() < 1e-9, "one scale for both halves: {left} against {right}");

        let mut alone = store.clone();
        alone.runs.truncate(1);
        let h = harness(&alone);
        let own = top(&h, 0);
        assert!((1_204.0..2_000.0).contains(&own), "alone, the left run is scaled to its own 1,204 pods: {own}");
    }

    #[test]
    fn a_line_hidden_in_the_legend_does_not_count() {
        let ctx = egui::Context::default();
        let hidden: ItemIdSet = std::iter::once(ItemId::new("big")).collect();
        let mut shared = SharedY { id: "test-hidden", run: 0, shared: true, hidden, extent: None };
        shared.note(&Line::new("big", vec![[0.0, 5_000.0]]).id("big"));
        assert_eq!(shared.extent, None);
        shared.note(&Line::new("small", vec![[0.0, 2.0], [1.0, 40.0]]));
        assert_eq!(shared.extent, Some([2.0, 40.0]));
        shared.record(&ctx);
        let stored: Extents = ctx.data(|d| d.get_temp(extents_key("test-hidden"))).expect("recorded");
        assert_eq!(stored, Extents(vec![Some([2.0, 40.0])]));
    }
}
