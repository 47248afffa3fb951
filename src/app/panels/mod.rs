//! One file per panel. Every time-series panel uses [`time_plot`], so all plots share one time axis and one cursor
//! (hover one, see the same instant on all), draw the run's events as annotations and show "now".

mod agents;
mod budgets;
mod forecast;
pub mod inspector;
mod latency;
mod pending;
mod pools;
mod scorecard;
#[cfg(test)]
pub(crate) mod test_support;
mod timeline;

pub use agents::AgentsPanel;
pub use budgets::BudgetsPanel;
pub use forecast::ForecastPanel;
pub use inspector::InspectorPanel;
pub use latency::LatencyPanel;
pub use pending::PendingPanel;
pub use pools::PoolsPanel;
pub use scorecard::ScorecardPanel;
pub use timeline::TimelinePanel;

use egui_plot::{Corner, HoverPosition, Legend, Plot, PlotUi, VLine};

use super::store::{RunSeries, Store, clock_label};
use super::theme;
use crate::sim::{TimelineEvent, TimelineKind};

/// What every panel reads: the store, which run (0, or 1 in side-by-side mode), and the plot height to use.
pub struct PanelCtx<'a> {
    pub store: &'a Store,
    pub run: usize,
    pub plot_height: f32,
    /// Most points to draw per line (long runs are sampled).
    pub max_points: usize,
}

impl<'a> PanelCtx<'a> {
    pub fn series(&self) -> Option<&'a RunSeries> {
        self.store.runs.get(self.run)
    }
}

/// Id shared by every time plot: linked x axes and a linked cursor.
pub fn time_group() -> egui::Id {
    egui::Id::unique("hirl-time-axis")
}

/// A plot with the shared time axis (x in simulated seconds, labelled with the scenario's clock), linked cursor and
/// a legend. `id` must be unique per panel and per run.
pub fn time_plot<'a>(id: &'static str, ctx: &PanelCtx<'a>, y_unit: &'static str) -> Plot<'a> {
    let scenario = std::sync::Arc::clone(&ctx.store.scenario);
    let label_scenario = std::sync::Arc::clone(&ctx.store.scenario);
    Plot::new((id, ctx.run))
        .height(ctx.plot_height)
        // Top left and small: in a live run the newest ticks are at the right edge, which is what the user watches,
        // and side by side a plot is half as wide.
        .legend(Legend::default().position(Corner::LeftTop).text_style(egui::TextStyle::Small))
        .link_axis(time_group(), [true, false])
        .link_cursor(time_group(), [true, false])
        .x_axis_formatter(move |mark, _| clock_label(&scenario, mark.value.max(0.0) as u64))
        .y_axis_label(y_unit)
        .label_formatter(move |hover| {
            let (name, position) = match hover {
                HoverPosition::NearDataPoint { plot_name, position, .. } => (*plot_name, position),
                HoverPosition::Elsewhere { position } => ("", position),
            };
            let when = clock_label(&label_scenario, position.x.max(0.0) as u64);
            Some(if name.is_empty() {
                format!("{when}\n{:.1} {y_unit}", position.y)
            } else {
                format!("{name}\n{when}\n{:.1} {y_unit}", position.y)
            })
        })
        .allow_scroll(false)
}

/// Vertical annotations for injected/scripted events, breaches starting, node arrivals, plus the "now" line.
pub fn annotations(plot_ui: &mut PlotUi<'_>, ctx: &PanelCtx<'_>) {
    if let Some(series) = ctx.series() {
        for e in &series.events {
            if let Some((label, colour)) = annotation(e, ctx.store) {
                plot_ui.vline(VLine::new(label, e.t_secs as f64).color(colour).width(1.0));
            }
        }
    }
    plot_ui.vline(VLine::new("now", ctx.store.now_secs as f64).color(theme::NOW).width(1.5));
}

/// The legend group and colour of a timeline entry worth drawing on plots. Lines share one legend entry per kind
/// (a legend of every breach would bury the data); the event timeline panel names each one.
pub fn annotation(e: &TimelineEvent, _store: &Store) -> Option<(String, egui::Color32)> {
    match &e.kind {
        TimelineKind::Event { .. } => Some(("events (see timeline)".to_string(), egui::Color32::from_rgb(255, 140, 0))),
        TimelineKind::BreachStart { .. } => Some(("SLO breach starts".to_string(), theme::SLO)),
        _ => None,
    }
}
