//! What held each breach, moment by moment: one lane per domain on the shared time axis, a bar wherever the domain
//! was over its SLO, coloured by where the requests over the SLO were at that tick — at apps not scaled up, at apps
//! whose controllers held pods back on purpose, at apps with pods waiting for room, at apps with pods starting, or
//! only a callee's latency (see
//! [`crate::sim::breach_cause`]). An incident reads left to right as the life of the capacity it lacked.
//!
//! Every recorded tick is drawn (not the plots' sample), so a single 5 s breach shows: each run of ticks with the same
//! cause is one segment, which the store keeps as the run grows ([`crate::app::breach_segments`]). Above the plot,
//! each cause's colour and the run's minutes of it so far, over every domain.

use egui_plot::{HoverPosition, Line, PlotPoints};

use super::{PanelCtx, annotations, time_plot_without_legend};
use crate::app::theme;
use crate::sim::TICK_SECS;
use crate::sim::breach_cause::{BreachCause, BreachMinutesByCause};

#[derive(Default)]
pub struct BreachesPanel;

/// What held `domain`'s breach at `t_secs` (the tick drawn there), shares largest first: "waiting for room 70% ·
/// pods starting 30%"; "within its SLO" between breaches; empty past the last tick recorded.
pub fn held_at(points: &[crate::runner::SeriesPoint], domain: usize, t_secs: f64) -> String {
    let k = points.partition_point(|p| p.t_secs as f64 <= t_secs);
    let Some(point) = k.checked_sub(1).and_then(|k| points.get(k)) else { return String::new() };
    if t_secs >= (point.t_secs + TICK_SECS) as f64 {
        return String::new();
    }
    let Some(split) = point.domains.get(domain).map(|d| d.breach_split) else { return String::new() };
    let mut shares: Vec<(BreachCause, f32)> =
        BreachCause::ALL.iter().copied().zip(split).filter(|(_, s)| *s > 0.0).collect();
    if shares.is_empty() {
        return "within its SLO".to_string();
    }
    shares.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    shares.iter().map(|(c, s)| format!("{} {:.0}%", c.label(), s * 100.0)).collect::<Vec<_>>().join(" · ")
}

impl BreachesPanel {
    pub fn breaches_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let domains = &ctx.store.scenario.domains;
        let Some(series) = ctx.series().filter(|s| !s.points.is_empty()) else {
            ui.weak("waiting for data");
            return;
        };
        let mut held = BreachMinutesByCause::default();
        if let Some(card) = ctx.store.readout_scorecard(ctx.run) {
            for d in &card.domains {
                held.add(&d.slo_breach_minutes_by_cause);
            }
        }
        let n = domains.len();
        // Lanes top to bottom in scenario order; a bar fills most of its lane.
        let lane_y = move |d: usize| (n - 1 - d) as f64;
        let bar_width = (ctx.plot_height / (n as f32 + 1.0) * 0.6).max(3.0);
        let lane_names: Vec<String> = domains.iter().map(|d| d.id.clone()).collect();
        let hover_names = lane_names.clone();
        let scenario = std::sync::Arc::clone(&ctx.store.scenario);
        // What the colours mean, with each cause's minutes so far (a plot legend would cover the lanes' start).
        ui.horizontal_wrapped(|ui| {
            for cause in BreachCause::ALL {
                // A swatch painted, not a glyph: not every font the window may use has "■".
                let (swatch, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                ui.painter().rect_filled(swatch, 2.0, theme::cause_colour(cause));
                ui.label(format!("{} {:.1} min", cause.label(), held.get(cause)))
                    .on_hover_text(format!("Where the requests over the SLO were: {}.", cause.explanation()));
                ui.add_space(8.0);
            }
        });
        if ctx.time_plot_out_of_view(ui, "breaches") {
            breaches_help_ui(ui);
            return;
        }
        // From t = 0 to "now", as the other plots' lines run, so the linked time axis starts where theirs does.
        let plot = time_plot_without_legend(ui, "breaches", ctx, "")
            .include_x(0.0)
            .include_x(ctx.store.now_secs as f64)
            .y_axis_label("")
            .include_y(-0.6)
            .include_y(n as f64 - 0.4)
            .show_grid([true, false])
            // Lanes sit at whole numbers: egui_plot's own spacer, whose finest step at this height is 1, marks each.
            .y_grid_spacer(egui_plot::log_grid_spacer(10))
            .y_axis_formatter(move |mark, _| {
                let lane = mark.value.round();
                if (mark.value - lane).abs() > 1e-6 || lane < 0.0 {
                    return String::new();
                }
                n.checked_sub(1 + lane as usize).and_then(|d| lane_names.get(d)).cloned().unwrap_or_default()
            })
            .label_formatter(move |hover| {
                let position = match hover {
                    HoverPosition::NearDataPoint { position, .. } | HoverPosition::Elsewhere { position } => position,
                };
                let when = crate::app::store::clock_label(&scenario, position.x.max(0.0) as u64);
                let lane = position.y.round();
                let domain = (lane >= 0.0).then(|| n.checked_sub(1 + lane as usize)).flatten();
                let name = domain.and_then(|d| hover_names.get(d)).map_or("", String::as_str);
                let held = domain.map(|d| held_at(&series.points, d, position.x)).unwrap_or_default();
                Some(format!("{name}\n{when}\n{held}"))
            });
        plot.show(ui, |plot_ui| {
            for s in series.breach_segments.iter() {
                let y = lane_y(s.domain);
                let line =
                    Line::new(s.cause.label(), PlotPoints::from(vec![[s.from_secs as f64, y], [s.to_secs as f64, y]]));
                plot_ui.line(line.color(theme::cause_colour(s.cause)).width(bar_width).id(("held", s.cause as usize)));
            }
            annotations(plot_ui, ctx);
        });
        breaches_help_ui(ui);
    }
}

fn breaches_help_ui(ui: &mut egui::Ui) {
    ui.weak(
        "A bar wherever a domain was over its SLO, coloured by where the requests over it were at that moment. \
         Minutes above: every domain, so far; hover one for what it means.",
    );
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    use super::super::test_support::empty_store as store;
    use super::*;
    use crate::app::breach_segments::BreachSegments;
    use crate::app::breach_segments::tests::points;
    use crate::app::store::{Items, RunSeries, Store};

    #[test]
    fn the_hover_says_what_held_the_tick_under_the_pointer() {
        let points = points(5);
        assert_eq!(held_at(&points, 0, 12.0), "waiting for room 70% · pods starting 20% · not scaled up 10%");
        assert_eq!(held_at(&points, 1, 22.5), "callee's latency 100%");
        assert_eq!(held_at(&points, 1, 30.0), "within its SLO");
        assert_eq!(held_at(&points, 0, 50.0), "", "past the last tick recorded");
        assert_eq!(held_at(&points, 0, -3.0), "", "before the start");
    }

    fn render(store: &Store) -> Harness<'_> {
        let ctx = PanelCtx { store, run: 0, plot_height: 120.0, max_points: 100, column_right: None };
        let mut harness = Harness::new_ui(move |ui| BreachesPanel.breaches_ui(ui, &ctx));
        harness.run();
        harness
    }

    #[test]
    fn each_cause_is_named_above_the_plot_with_its_minutes() {
        let mut store = store();
        let n = store.scenario.domains.len();
        let mut card = crate::sim::Simulation::new(&store.scenario, 1).scorecard("hpa");
        card.domains[0].slo_breach_minutes_by_cause.waiting_for_room_minutes = 12.25;
        card.domains[1].slo_breach_minutes_by_cause.waiting_for_room_minutes = 1.0;
        card.domains[1].slo_breach_minutes_by_cause.held_back_minutes = 6.5;
        let points = points(n);
        store.runs.push(RunSeries {
            policy: "hpa".into(),
            breach_segments: BreachSegments::of(&points),
            past: Items { points, ..Items::default() },
            scorecard: Some(card),
            ..Default::default()
        });
        let harness = render(&store);
        harness.get_by_label("waiting for room 13.2 min");
        harness.get_by_label("held back 6.5 min");
        harness.get_by_label("pods starting 0.0 min");
        harness.get_by_label("callee's latency 0.0 min");
        assert!(harness.query_by_label_contains("A bar wherever a domain was over its SLO").is_some());
    }

    #[test]
    fn empty_store_renders() {
        render(&store()).get_by_label("waiting for data");
    }
}
