//! Per-domain end-to-end p99 latency (milliseconds) against each domain's SLO (dashed line in the domain's colour),
//! and per-domain traffic (requests per second). Legends carry the latest value; a row of toggles hides domains in
//! both plots at once.

use egui::RichText;
use egui_plot::{HLine, Line, LineStyle, PlotPoints};

use super::{PanelCtx, SharedY, annotations, time_plot};
use crate::app::theme;
use crate::runner::DomainPoint;

#[derive(Default)]
pub struct LatencyPanel {
    /// Domains hidden by the toggles, by scenario index. Stored as "hidden" so new domains start visible.
    hidden: Vec<bool>,
}

impl LatencyPanel {
    pub fn latency_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let domains = &ctx.store.scenario.domains;
        self.hidden.resize(domains.len(), false);
        let Some(series) = ctx.series().filter(|s| !s.points.is_empty()) else {
            ui.weak("waiting for data");
            return;
        };

        ui.horizontal_wrapped(|ui| {
            ui.label("show:");
            for (i, d) in domains.iter().enumerate() {
                if let Some(hidden) = self.hidden.get_mut(i) {
                    let mut shown = !*hidden;
                    let text = RichText::new(&d.id).color(theme::domain_colour(i, ui.visuals().dark_mode));
                    if ui.checkbox(&mut shown, text).on_hover_text(&d.name).changed() {
                        *hidden = !shown;
                    }
                }
            }
        });

        let latest = ctx.readout();
        let current = |i: usize| latest.and_then(|p| p.domains.get(i));
        // Thinned with every bucket's peak kept, and cached as points arrive: the work per frame is bounded by the
        // width, whatever the run's length, and a one-tick breach still shows.
        let line_of = |key: &'static str, i: usize, value: fn(&DomainPoint) -> f32| -> PlotPoints<'static> {
            series.line((key, i), ctx.max_points, |p| p.domains.get(i).map(|d| f64::from(value(d)))).into()
        };
        let visible = |i: usize| !self.hidden.get(i).copied().unwrap_or(false);

        let dark = ui.visuals().dark_mode;
        if !ctx.time_plot_out_of_view(ui, "latency") {
            let mut shared = SharedY::new(ui, "latency", ctx);
            time_plot(ui, "latency", ctx, "ms").show(ui, |plot_ui| {
                for (i, d) in domains.iter().enumerate().filter(|(i, _)| visible(*i)) {
                    let colour = theme::domain_colour(i, dark);
                    let now = current(i).map_or_else(|| "—".to_owned(), |p| format!("{:.0} ms", p.p99_latency_ms));
                    let name = format!("{} {now} / SLO {:.0}", d.id, d.slo.p99_latency_ms);
                    // Same name and id as the latency line: one legend entry shows and hides both.
                    let p99 =
                        Line::new(name.clone(), line_of("p99", i, |p| p.p99_latency_ms)).color(colour).id(("p99", i));
                    shared.line(plot_ui, p99);
                    shared.hline(
                        plot_ui,
                        HLine::new(name, d.slo.p99_latency_ms)
                            .color(colour)
                            .style(LineStyle::dashed_loose())
                            .width(1.0)
                            .id(("p99", i)),
                    );
                }
                annotations(plot_ui, ctx);
            });
            shared.record(ui.ctx());
        }
        if !ctx.time_plot_out_of_view(ui, "traffic") {
            let mut shared = SharedY::new(ui, "traffic", ctx);
            time_plot(ui, "traffic", ctx, "req/s").show(ui, |plot_ui| {
                for (i, d) in domains.iter().enumerate().filter(|(i, _)| visible(*i)) {
                    let now = current(i).map_or_else(|| "—".to_owned(), |p| format!("{} req/s", format_rps(p.rps)));
                    let line = Line::new(format!("{} {now}", d.id), line_of(RPS_LINE, i, |p| p.rps));
                    shared.line(plot_ui, line.color(theme::domain_colour(i, dark)).id(("rps", i)));
                }
                annotations(plot_ui, ctx);
            });
            shared.record(ui.ctx());
        }
    }
}

/// The key of a domain's request-rate line, shared with the forecast panel's "actual" line.
pub(super) const RPS_LINE: &str = "rps";

/// A request rate for legends: "850", "30.4k", "1.25M" (exact values are in the hover label).
pub(super) fn format_rps(rps: f32) -> String {
    let v = f64::from(rps);
    if !v.is_finite() {
        "—".to_owned()
    } else if v.abs() >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v.abs() >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {

    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    use super::*;
    use crate::app::store::{Items, RunSeries, Store};
    use crate::runner::SeriesPoint;

    use super::super::test_support::empty_store as store;

    fn render(store: &Store, panel: &mut LatencyPanel) -> bool {
        let ctx = PanelCtx { store, run: 0, plot_height: 120.0, max_points: 100, column_right: None };
        let mut harness = Harness::new_ui(|ui| panel.latency_ui(ui, &ctx));
        harness.run();
        harness.query_by_label_contains("payment 183 ms / SLO 200").is_some()
    }

    #[test]
    fn legend_shows_current_p99_and_slo() {
        let mut store = store();
        let n = store.scenario.domains.len();
        let points = (0..50u64)
            .map(|k| SeriesPoint {
                t_secs: k * 5,
                domains: (0..n)
                    .map(|_| DomainPoint { rps: 30_400.0, p99_latency_ms: 183.0, ..Default::default() })
                    .collect(),
                ..Default::default()
            })
            .collect();
        store.runs.push(RunSeries {
            policy: "hpa".into(),
            past: Items { points, ..Items::default() },
            ..Default::default()
        });
        store.now_secs = 245;
        assert!(render(&store, &mut LatencyPanel::default()));
        assert_eq!(format_rps(30_400.0), "30.4k");
        assert_eq!(format_rps(1_250_000.0), "1.25M");
    }

    #[test]
    fn empty_store_renders() {
        assert!(!render(&store(), &mut LatencyPanel::default()));
    }
}
