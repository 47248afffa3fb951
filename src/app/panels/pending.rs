//! Pending pods over time, in pods: per domain, the pods that exist but cannot be scheduled (no allowed node has
//! room), and as thinner dashed lines the pods scheduled but still starting. The line above totals the pods pending
//! now per priority class (P0 most important).

use egui_plot::Line;

use super::styled_line::{DASH_PTS, StyledLine};
use super::{PanelCtx, SharedY, annotations, time_plot};
use crate::agents::hirl::explain::thousands;
use crate::app::theme;
use crate::runner::{DomainPoint, SeriesPoint};
use crate::scenario::Priority;

const PRIORITIES: [Priority; 4] = [Priority::P0, Priority::P1, Priority::P2, Priority::P3];

#[derive(Default)]
pub struct PendingPanel {}

impl PendingPanel {
    pub fn pending_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let Some(series) = ctx.series() else {
            ui.weak("waiting for data");
            return;
        };
        let Some(now) = ctx.readout() else {
            ui.weak("waiting for data");
            return;
        };
        summary_ui(ui, ctx, now);
        if ctx.time_plot_out_of_view(ui, "pending") {
            return;
        }

        let line = |key: &'static str, i: usize, value: fn(&DomainPoint) -> u32| -> Vec<[f64; 2]> {
            series.line((key, i), ctx.max_points, |p| p.domains.get(i).map(|d| f64::from(value(d))))
        };
        let mut lines = Vec::with_capacity(2 * now.domains.len());
        for (i, d) in now.domains.iter().enumerate() {
            let spec = ctx.store.scenario.domains.get(i);
            let (id, priority) =
                spec.map_or(("?".to_owned(), String::new()), |s| (s.id.clone(), format!(" ({:?})", s.priority)));
            let name = format!(
                "{id}{priority} {} pending · {} starting",
                thousands(d.pending_pods.into()),
                thousands(d.starting_pods.into())
            );
            // One name and one id per domain: one legend entry shows and hides both of its lines.
            let colour = theme::domain_colour(i, ui.visuals().dark_mode);
            let key = ("pending-domain", i);
            lines
                .push(Line::new(&name, line("pending", i, |d| d.pending_pods)).id(key).color(colour).width(2.0).into());
            let starting = Line::new(&name, line("starting", i, |d| d.starting_pods)).id(key).color(colour);
            lines.push(StyledLine::dashed(starting, DASH_PTS));
        }
        let mut shared = SharedY::new(ui, "pending", ctx);
        time_plot(ui, "pending", ctx, "pods").show(ui, |plot_ui| {
            for l in lines {
                shared.line(plot_ui, l);
            }
            annotations(plot_ui, ctx);
        });
        shared.record(ui.ctx());
    }
}

fn summary_ui(ui: &mut egui::Ui, ctx: &PanelCtx<'_>, now: &SeriesPoint) {
    let mut totals = [0u64; PRIORITIES.len()];
    let mut members: [Vec<&str>; PRIORITIES.len()] = Default::default();
    for (d, spec) in now.domains.iter().zip(&ctx.store.scenario.domains) {
        let rank = usize::from(spec.priority.rank());
        if let (Some(total), Some(names)) = (totals.get_mut(rank), members.get_mut(rank)) {
            *total += u64::from(d.pending_pods);
            names.push(&spec.id);
        }
    }
    let parts: Vec<String> = PRIORITIES.iter().zip(&totals).map(|(p, t)| format!("{p:?}: {}", thousands(*t))).collect();
    let help: Vec<String> = PRIORITIES
        .iter()
        .zip(&members)
        .map(|(p, names)| {
            format!("{p:?}: {}", if names.is_empty() { "no domains".to_owned() } else { names.join(", ") })
        })
        .collect();
    ui.label(format!("Pending pods now — {}", parts.join(" · "))).on_hover_text(format!(
        "Pods that exist but cannot be scheduled, summed per priority class (P0 most important).\n{}",
        help.join("\n")
    ));
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::super::budgets::fixture;
    use super::*;
    use crate::app::store::{RunSeries, Store};

    fn harness(store: &Store) -> Harness<'_> {
        let mut panel = PendingPanel::default();
        super::super::test_support::harness(store, egui::vec2(1200.0, 600.0), move |ui, ctx| panel.pending_ui(ui, ctx))
    }

    #[test]
    fn summary_and_legend_show_pending_pods() {
        let store = fixture::store();
        let harness = harness(&store);
        // small.ron: payment and fraud are P0, merchant P1, data P2, internal P3.
        harness.get_by_label("Pending pods now — P0: 1,204 · P1: 17 · P2: 88 · P3: 5");
        harness.get_by_label("payment (P0) 1,204 pending · 30 starting");
    }

    #[test]
    fn empty_store_waits_for_data() {
        let mut store = fixture::empty_store();
        harness(&store).get_by_label("waiting for data");
        store.runs.push(RunSeries::default());
        harness(&store).get_by_label("waiting for data");
    }
}
