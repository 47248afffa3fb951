//! Domain budgets and the reserve pool, all in % of the cluster's allocatable CPU: per domain the CPU its scheduled
//! pods request (allotted), the CPU it really uses, and its budget when the policy sets one; plus the reserve
//! placeholders. A stacked bar and a table for the latest tick, then the same shares over time.

use egui::{Color32, Rect, Sense, StrokeKind, Vec2, pos2};
use egui_plot::{Line, LineStyle};

use super::styled_line::{DASH_PTS, StyledLine};
use super::{PanelCtx, SharedY, annotations, time_plot};
use crate::app::theme;
use crate::runner::{DomainPoint, SeriesPoint};

const ALLOTTED_HELP: &str = "CPU requested by the domain's scheduled pods, in % of the cluster's allocatable CPU";
const USED_HELP: &str = "CPU the domain's pods actually use, in % of the cluster's allocatable CPU";
const BUDGET_HELP: &str = "The domain's CPU budget, in % of allocatable CPU: a quota when one is set, and under HiRL the \
                           Commander's budget (its Soldiers may scale up to 110% of it). HiRL's budgets are shares of \
                           the larger of the cluster and 1.2× the demand at the HPAs' targets, and as shipped none is \
                           below its domain's demand, so they usually add up to more than 100%: room to grow that \
                           the cluster may still have to buy. \"—\": none is set; under HPA the allotment is what HPA \
                           happened to take.";
const RESERVE_HELP: &str = "Reserve placeholders: capacity held so new pods start without waiting for nodes";
const FREE_HELP: &str = "Allocatable CPU neither requested by pods nor held by the reserve";

#[derive(Default)]
pub struct BudgetsPanel {}

impl BudgetsPanel {
    pub fn budgets_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let Some(now) = ctx.readout() else {
            ui.weak("waiting for data");
            return;
        };
        ui.small("Now, in % of the cluster's allocatable CPU (solid: used; faded: requested but idle)");
        now_bar(ui, ctx, now);
        now_table(ui, ctx, now);
        history_plot(ui, ctx);
    }
}

/// Paints `segments` (share of the bar's width, colour) left to right over an outlined bar; what they leave is free.
/// Returns the bar's id and rect and each segment's rect, for tooltips.
pub(super) fn stacked_bar(ui: &mut egui::Ui, size: Vec2, segments: &[(f32, Color32)]) -> (egui::Id, Rect, Vec<Rect>) {
    let (id, bar) = ui.allocate_space(size);
    let painter = ui.painter();
    let mut x = bar.left();
    let rects = segments
        .iter()
        .map(|&(share, colour)| {
            // NaN or negative shares (an empty cluster) must not push later segments backwards.
            let width = if share.is_finite() { bar.width() * share.max(0.0) } else { 0.0 };
            let right = (x + width).min(bar.right());
            let rect = Rect::from_min_max(pos2(x, bar.top()), pos2(right, bar.bottom()));
            painter.rect_filled(rect, 0.0, colour);
            x = right;
            rect
        })
        .collect();
    painter.rect_stroke(bar, 2.0, ui.visuals().widgets.noninteractive.fg_stroke, StrokeKind::Inside);
    (id, bar, rects)
}

fn pct(share: f32) -> String {
    format!("{:.1}%", share * 100.0)
}

fn now_bar(ui: &mut egui::Ui, ctx: &PanelCtx<'_>, now: &SeriesPoint) {
    let mut segments: Vec<_> = now
        .domains
        .iter()
        .enumerate()
        .map(|(i, d)| (d.allotted_share, theme::domain_colour(i, ui.visuals().dark_mode).gamma_multiply(0.4)))
        .collect();
    segments.push((now.reserve_share, theme::RESERVE));
    let (id, bar, rects) = stacked_bar(ui, Vec2::new(ui.available_width(), 18.0), &segments);
    for ((i, d), rect) in now.domains.iter().enumerate().zip(&rects) {
        // Used can exceed the request (CPU limits above requests); the bar shows at most the whole request.
        let used = if d.allotted_share > 0.0 { (d.used_share / d.allotted_share).clamp(0.0, 1.0) } else { 0.0 };
        let solid = Rect::from_min_size(rect.min, Vec2::new(rect.width() * used, rect.height()));
        ui.painter().rect_filled(solid, 0.0, theme::domain_colour(i, ui.visuals().dark_mode));
        let text = format!(
            "{}\nallotted {} (requested)\nused {}",
            ctx.store.scenario.domain_id(i),
            pct(d.allotted_share),
            pct(d.used_share)
        );
        ui.interact(*rect, id.with(i), Sense::hover()).on_hover_text(text);
    }
    if let Some(rect) = rects.get(now.domains.len()) {
        ui.interact(*rect, id.with("reserve"), Sense::hover())
            .on_hover_text(format!("reserve {}\n{RESERVE_HELP}", pct(now.reserve_share)));
    }
    let free = Rect::from_min_max(pos2(rects.last().map_or(bar.left(), |r| r.right()), bar.top()), bar.max);
    ui.interact(free, id.with("free"), Sense::hover())
        .on_hover_text(format!("free {}\n{FREE_HELP}", pct(free_share(now))));
}

fn free_share(now: &SeriesPoint) -> f32 {
    (1.0 - now.domains.iter().map(|d| d.allotted_share).sum::<f32>() - now.reserve_share).max(0.0)
}

fn now_table(ui: &mut egui::Ui, ctx: &PanelCtx<'_>, now: &SeriesPoint) {
    egui::Grid::new(("budgets-table", ctx.run)).striped(true).num_columns(4).show(ui, |ui| {
        ui.strong("domain");
        ui.strong("allotted").on_hover_text(ALLOTTED_HELP);
        ui.strong("used").on_hover_text(USED_HELP);
        ui.strong("budget").on_hover_text(BUDGET_HELP);
        ui.end_row();
        for (i, d) in now.domains.iter().enumerate() {
            let full_name = ctx.store.scenario.domains.get(i).map_or("", |s| s.name.as_str());
            ui.colored_label(theme::domain_colour(i, ui.visuals().dark_mode), ctx.store.scenario.domain_id(i))
                .on_hover_text(full_name);
            ui.label(pct(d.allotted_share)).on_hover_text(ALLOTTED_HELP);
            ui.label(pct(d.used_share)).on_hover_text(USED_HELP);
            ui.label(d.budget_share.map_or_else(|| "—".to_owned(), pct)).on_hover_text(BUDGET_HELP);
            ui.end_row();
        }
        ui.colored_label(theme::RESERVE, "reserve").on_hover_text(RESERVE_HELP);
        ui.label(pct(now.reserve_share)).on_hover_text(RESERVE_HELP);
        ui.end_row();
        ui.weak("free").on_hover_text(FREE_HELP);
        ui.label(pct(free_share(now))).on_hover_text(FREE_HELP);
        ui.end_row();
    });
}

fn history_plot(ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
    let Some(series) = ctx.series() else { return };
    if ctx.time_plot_out_of_view(ui, "budgets") {
        return;
    }
    let Some(now) = ctx.readout() else { return };
    let line = |key: &'static str, i: usize, value: fn(&DomainPoint) -> Option<f32>| -> Vec<[f64; 2]> {
        series.line((key, i), ctx.max_points, |p| Some(f64::from(value(p.domains.get(i)?)?) * 100.0))
    };
    let mut lines = Vec::new();
    for (i, d) in now.domains.iter().enumerate() {
        let budget = d.budget_share.map_or_else(String::new, |b| format!(" · budget {}", pct(b)));
        // One name and one id for a domain's lines: one legend entry shows and hides them together.
        let name = format!(
            "{} allotted {} · used {}{budget}",
            ctx.store.scenario.domain_id(i),
            pct(d.allotted_share),
            pct(d.used_share)
        );
        let colour = theme::domain_colour(i, ui.visuals().dark_mode);
        let id = ("budgets-domain", i);
        lines.push(
            Line::new(&name, line("allotted", i, |d| Some(d.allotted_share))).id(id).color(colour).width(2.0).into(),
        );
        let used = Line::new(&name, line("used", i, |d| Some(d.used_share))).id(id).color(colour);
        lines.push(StyledLine::dashed(used, DASH_PTS));
        let budgets = line("budget", i, |d| d.budget_share);
        if !budgets.is_empty() {
            lines.push(
                Line::new(&name, budgets).id(id).color(colour).width(1.0).style(LineStyle::dotted_loose()).into(),
            );
        }
    }
    let reserve = series.line(("reserve", 0), ctx.max_points, |p| Some(f64::from(p.reserve_share) * 100.0));
    let reserve_name = format!("reserve {}", pct(now.reserve_share));
    lines.push(Line::new(reserve_name, reserve).id("budgets-reserve").color(theme::RESERVE).width(1.5).into());
    let mut shared = SharedY::new(ui, "budgets", ctx);
    time_plot(ui, "budgets", ctx, "% of cluster CPU").show(ui, |plot_ui| {
        for l in lines {
            shared.line(plot_ui, l);
        }
        annotations(plot_ui, ctx);
    });
    shared.record(ui.ctx());
}

#[cfg(test)]
pub(super) mod fixture {

    use crate::app::store::{Items, RunSeries, Store};
    use crate::runner::{DomainPoint, PoolPoint, SeriesPoint};

    pub use super::super::test_support::empty_store;

    /// Three ticks of one run; the last one's values are what the tests look for.
    pub fn store() -> Store {
        let mut store = empty_store();
        // (allotted, used, budget, pending, starting) per domain at the last tick.
        let last = [
            (0.312, 0.241, Some(0.35), 1204, 30),
            (0.153, 0.118, None, 0, 2),
            (0.127, 0.096, None, 17, 0),
            (0.084, 0.051, None, 88, 4),
            (0.043, 0.022, None, 5, 1),
        ];
        let points = (0..3u32)
            .map(|k| {
                let f = (k + 1) as f32 / 3.0;
                SeriesPoint {
                    t_secs: u64::from(k) * 10,
                    domains: last
                        .iter()
                        .map(|&(a, u, b, pending, starting)| DomainPoint {
                            allotted_share: a * f,
                            used_share: u * f,
                            budget_share: b,
                            pending_pods: pending * k / 2,
                            starting_pods: starting,
                            ..DomainPoint::default()
                        })
                        .collect(),
                    pools: [(40, 3, 2, 1280.0), (12, 0, 0, 384.0), (6, 1, 4, 96.0)]
                        .into_iter()
                        .map(|(nodes, booting_nodes, queued_nodes, cpu_capacity_cores)| PoolPoint {
                            nodes,
                            booting_nodes,
                            queued_nodes,
                            cpu_capacity_cores,
                            cpu_by_domain_cores: vec![400.0, 200.0, 0.0, 0.0, 30.0],
                            reserve_cores: 64.0,
                            waiting_pods: if nodes == 40 { 0 } else { 1_250 },
                            waiting_cores: if nodes == 40 { 0.0 } else { 312.5 },
                        })
                        .collect(),
                    reserve_share: 0.05,
                    provisioner_queued_requests: 7,
                }
            })
            .collect();
        store.runs.push(RunSeries {
            policy: "hpa".into(),
            past: Items { points, ..Items::default() },
            ..RunSeries::default()
        });
        store.now_secs = 20;
        store
    }
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::*;
    use crate::app::store::{RunSeries, Store};

    fn harness(store: &Store) -> Harness<'_> {
        let mut panel = BudgetsPanel::default();
        super::super::test_support::harness(store, Vec2::new(1200.0, 800.0), move |ui, ctx| panel.budgets_ui(ui, ctx))
    }

    #[test]
    fn table_and_legend_show_the_latest_shares() {
        let store = fixture::store();
        let harness = harness(&store);
        harness.get_by_label("payment");
        harness.get_by_label("31.2%");
        harness.get_by_label("35.0%");
        harness.get_by_label("reserve");
        assert_eq!(harness.query_all_by_label("—").count(), 4, "domains without a budget show a dash");
        harness.get_by_label("payment allotted 31.2% · used 24.1% · budget 35.0%");
    }

    #[test]
    fn empty_store_waits_for_data() {
        let mut store = fixture::empty_store();
        harness(&store).get_by_label("waiting for data");
        store.runs.push(RunSeries::default());
        harness(&store).get_by_label("waiting for data");
    }
}
