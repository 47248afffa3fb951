//! One file per panel. Every time-series panel uses [`time_plot`], so all plots share one time axis and one cursor
//! (hover one, see the same instant on all), draw the run's events as annotations and show "now"; side by side, the
//! panels that draw their values through [`SharedY`] share one value scale across the two halves too.

mod agents;
mod breaches;
mod budgets;
mod forecast;
pub mod inspector;
mod latency;
mod pending;
mod pools;
mod scorecard;
mod shared_y;
mod styled_line;
#[cfg(test)]
pub(crate) mod test_support;
mod timeline;

pub use agents::AgentsPanel;
pub use breaches::BreachesPanel;
pub use budgets::BudgetsPanel;
pub use forecast::ForecastPanel;
pub use inspector::InspectorPanel;
pub use latency::LatencyPanel;
pub use pending::PendingPanel;
pub use pools::PoolsPanel;
pub use scorecard::ScorecardPanel;
pub use timeline::TimelinePanel;

use egui_plot::{Corner, GridInput, GridMark, HoverPosition, Legend, LineStyle, Plot, PlotUi, VLine};

pub use shared_y::SharedY;

use super::store::{RunSeries, Store, clock_label, start_secs_of_week};
use super::theme;
use crate::runner::SeriesPoint;
use crate::sim::{TimelineEvent, TimelineKind};

/// What every panel reads: the store, which run (0, or 1 in side-by-side mode), and the plot height to use.
pub struct PanelCtx<'a> {
    pub store: &'a Store,
    pub run: usize,
    pub plot_height: f32,
    /// Most points to draw per line (long runs are thinned, each stretch's extremes kept: [`RunSeries::line`]).
    pub max_points: usize,
    /// Screen x of the right edge of the run's column as the window shows it; `None`: plots fill their ui.
    pub column_right: Option<f32>,
}

impl<'a> PanelCtx<'a> {
    pub fn series(&self) -> Option<&'a RunSeries> {
        self.store.runs.get(self.run)
    }

    /// The point whose values the panel's numbers show (tables, summaries, legends): now's, or while a run plays the
    /// one they are held at ([`crate::app::readout`]). Plots draw every point up to now.
    pub fn readout(&self) -> Option<&'a SeriesPoint> {
        self.series()?.readout(self.store.readout_secs)
    }

    /// Points from `ui`'s cursor to the column's visible right edge (`ui`'s available width without a column).
    /// Side by side, a table wider than its column widens the column's (horizontally scrolled) content, so the
    /// available width can run past what the window shows.
    pub fn visible_width(&self, ui: &egui::Ui) -> f32 {
        self.column_right.map_or_else(|| ui.available_width(), |right| right - ui.cursor().min.x)
    }

    /// `plot`, as wide as [`Self::visible_width`]: filling a widened column's content would hide its newest ticks
    /// past the edge and give it a different time scale from its linked neighbour.
    pub fn fit_width<'p>(&self, plot: Plot<'p>, ui: &egui::Ui) -> Plot<'p> {
        match self.fitted_plot_width(ui) {
            Some(width) => plot.width(width),
            None => plot,
        }
    }

    /// The width [`Self::fit_width`] gives a plot; `None`: the plot fills its ui.
    fn fitted_plot_width(&self, ui: &egui::Ui) -> Option<f32> {
        self.column_right.map(|_| self.visible_width(ui).max(MIN_PLOT_WIDTH))
    }

    /// Whether time plot `id`, placed at `ui`'s cursor, would lie wholly out of view (scrolled past, or below the
    /// window's edge); if so, takes the space it would fill without building it, so the scroll area keeps its
    /// length. A panel asks before gathering the plot's lines: built for nothing, the plots below the fold cost a
    /// tenth of a frame. A half of side by side not drawn records no value extent (see [`SharedY`]), so the other
    /// half scales to its own data meanwhile.
    pub fn time_plot_out_of_view(&self, ui: &mut egui::Ui, id: &'static str) -> bool {
        // The size egui_plot gives the plot: `fit_width`'s width, or all that is available, by `plot_height`.
        let width = self.fitted_plot_width(ui).unwrap_or_else(|| ui.available_size_before_wrap().x);
        let size = egui::vec2(width, self.plot_height);
        if ui.is_rect_visible(egui::Rect::from_min_size(ui.cursor().min, size)) {
            return false;
        }
        ui.allocate_space(size);
        SharedY::new(ui, id, self).record(ui.ctx());
        true
    }
}

/// Narrowest plot drawn, in points.
const MIN_PLOT_WIDTH: f32 = 120.0;

/// A column narrower than this (points) is a half of side by side: the scorecard takes its narrow form and the time
/// plots' legends let the lines show through.
pub const NARROW_BELOW_PTS: f32 = 900.0;

/// Id shared by every time plot: linked x axes and a linked cursor.
pub fn time_group() -> egui::Id {
    egui::Id::unique("hirl-time-axis")
}

/// A plot with the shared time axis (x in simulated seconds, labelled with the scenario's clock), linked cursor and
/// a legend. `id` must be unique per panel and per run.
pub fn time_plot<'a>(ui: &egui::Ui, id: &'static str, ctx: &PanelCtx<'a>, y_unit: &'static str) -> Plot<'a> {
    // Side by side a plot is half as wide and the legend covers a quarter of it: there the lines show through it.
    let legend_alpha = if ctx.visible_width(ui) < NARROW_BELOW_PTS { 0.5 } else { 0.75 };
    // Top left and small: in a live run the newest ticks are at the right edge, which is what the user watches.
    // Entries in the order drawn, so domains read in the scenario's order as in every table, not alphabetically.
    time_plot_without_legend(ui, id, ctx, y_unit).legend(
        Legend::default()
            .position(Corner::LeftTop)
            .text_style(egui::TextStyle::Small)
            .background_alpha(legend_alpha)
            .follow_insertion_order(true),
    )
}

/// [`time_plot`] without a legend, for a panel that says what its colours mean above the plot.
pub fn time_plot_without_legend<'a>(
    ui: &egui::Ui,
    id: &'static str,
    ctx: &PanelCtx<'a>,
    y_unit: &'static str,
) -> Plot<'a> {
    let scenario = std::sync::Arc::clone(&ctx.store.scenario);
    let label_scenario = std::sync::Arc::clone(&ctx.store.scenario);
    let start_secs = start_secs_of_week(&ctx.store.scenario);
    let plot = ctx.fit_width(Plot::new((id, ctx.run)).id(shared_y::plot_id(id, ctx.run)), ui);
    shared_y::include_other_halves(plot, ui, id, ctx)
        .height(ctx.plot_height)
        .link_axis(time_group(), [true, false])
        .link_cursor(time_group(), [true, false])
        .x_grid_spacer(move |input| clock_grid_marks(input, start_secs))
        .x_axis_formatter(move |mark, _| axis_clock_label(&scenario, mark.value))
        .y_axis_label(y_unit)
        .y_grid_spacer(value_grid_marks)
        .y_axis_formatter(|mark, _| value_axis_label(mark))
        .label_formatter(move |hover| {
            let (name, position) = match hover {
                HoverPosition::NearDataPoint { plot_name, position, .. } => (*plot_name, position),
                HoverPosition::Elsewhere { position } => ("", position),
            };
            let when = clock_label(&label_scenario, position.x.max(0.0) as u64);
            Some(hover_label(name, &when, position.y, y_unit))
        })
        .allow_scroll(false)
}

/// What a time plot's hover says: the line's name (near one), the time, and the value at the cursor's height. Every
/// time plot's values are zero or more (latencies, shares, rates, counts), so below zero, in the margin egui_plot
/// leaves under the axis, the cursor's height is no value and only the time is shown ("−61,438 req/s" was).
fn hover_label(name: &str, when: &str, y: f64, y_unit: &str) -> String {
    let value = if y >= 0.0 {
        format!("\n{} {y_unit}", crate::agents::hirl::explain::grouped(y, hover_decimals(y_unit)))
    } else {
        String::new()
    };
    if name.is_empty() { format!("{when}{value}") } else { format!("{name}\n{when}{value}") }
}

/// Decimals of the value a plot's hover shows: counts of pods, nodes and requests are whole ("40,967 pods", not
/// "40,966.9": the cursor's height between two marks is no count); latencies and shares keep one.
fn hover_decimals(y_unit: &str) -> usize {
    if matches!(y_unit, "pods" | "nodes" | "req/s") { 0 } else { 1 }
}

/// A value axis's label: "2M" and "1.5M" for request rates, "20k" for pods, rather than seven-digit numbers. The
/// unit follows the grid step, so every mark on an axis shares it; steps under 10,000 keep egui_plot's own form
/// (as many decimals as the step needs), which covers latencies in ms and shares in %.
fn value_axis_label(mark: GridMark) -> String {
    // As many decimals as the step needs: 0.5M needs one (the margin keeps 0.1's log from rounding up to two).
    let decimals = |step: f64| (-step.log10() - 1e-9).ceil().max(0.0) as usize;
    let (scaled, step, suffix) = match mark.step_size {
        s if s >= 1e5 => (mark.value / 1e6, s / 1e6, "M"),
        s if s >= 1e4 => (mark.value / 1e3, s / 1e3, "k"),
        s => (mark.value, s, ""),
    };
    let text = egui::emath::format_with_decimals_in_range(scaled, decimals(step)..=decimals(step));
    if scaled == 0.0 { "0".to_owned() } else { format!("{text}{suffix}") }
}

/// The time axis's label at `t_secs`. Before the start there is no clock: a fresh run's plot spans both sides of
/// t = 0, and every mark left of it would read as the start time.
fn axis_clock_label(scenario: &crate::scenario::Scenario, t_secs: f64) -> String {
    if t_secs < 0.0 || !t_secs.is_finite() { String::new() } else { clock_label(scenario, t_secs as u64) }
}

/// Grid steps of a clock axis, seconds: each divides the next, so a coarser line always falls on a finer one.
const CLOCK_STEPS_SECS: [u64; 10] = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400];

/// Grid marks of a time axis at round clock times — 13:00, 13:30, 14:00 rather than egui_plot's powers of ten of
/// seconds (13:16, 13:33). The axis is simulated seconds since a start `start_secs` into the week (Monday 00:00 = 0);
/// every clock step divides a week, so days count from midnight and weeks from Monday. Three levels, as egui_plot's
/// own spacers, each about ten times the last (the clock steps are closer than that): the finest clock step at least
/// `input.base_step_size`, then the first at least 10× and 100× it, where the labels fit.
fn clock_grid_marks(input: GridInput, start_secs: u64) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    if !(lo.is_finite() && hi.is_finite() && input.base_step_size > 0.0) || hi < lo {
        return Vec::new();
    }
    let largest = CLOCK_STEPS_SECS[CLOCK_STEPS_SECS.len() - 1] as f64;
    let level = |factor: f64| CLOCK_STEPS_SECS.iter().map(|&s| s as f64).find(|&s| s >= factor * input.base_step_size);
    let Some(finest) = level(1.0) else {
        return Vec::new();
    };
    let steps = [level(100.0).unwrap_or(largest), level(10.0).unwrap_or(largest), finest];
    let offset = start_secs as f64;
    let mut marks = Vec::new();
    // Every multiple of the finest step in view, sized by the coarsest level it falls on (each step divides the
    // next, so a coarse mark is always a fine one too).
    let mut k = ((lo + offset) / finest).ceil();
    while k * finest - offset <= hi && marks.len() < 10_000 {
        let clock = k * finest;
        let step_size = steps.iter().copied().find(|s| clock % s == 0.0).unwrap_or(finest);
        marks.push(GridMark { value: clock - offset, step_size });
        k += 1.0;
    }
    marks
}

/// Points between labelled marks of a value axis: egui_plot paints a label only past 20 points, fully past 30.
const VALUE_LABEL_SPACING_PTS: f64 = 32.0;

/// Grid marks of a value axis in steps of 1, 2, 2.5 or 5 × 10ⁿ. egui_plot's own spacer steps by powers of ten only, so
/// a 150-point plot of 0–57% had its tens 23 points apart, too close to label, and its hundreds out of range: the axis
/// read "0" and nothing else. Three levels, each dividing the next: the labelled one (the finest nice step at least
/// [`VALUE_LABEL_SPACING_PTS`] apart), a fifth or a quarter of it for the fine grid, and ten times it. The 2.5 step
/// only from 25 up, where it labels whole numbers (no "2.5 pods"): without it, a 100-point plot of 0–70 jumped from
/// 20s, too close, to 50s and read just "0" and "50".
fn value_grid_marks(input: GridInput) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    // egui_plot's base step is the value spanned by its minimum grid spacing, 8 points.
    let per_point = input.base_step_size / 8.0;
    if !(lo.is_finite() && hi.is_finite() && per_point > 0.0 && per_point.is_finite()) || hi < lo {
        return Vec::new();
    }
    let wanted = per_point * VALUE_LABEL_SPACING_PTS;
    let decade = 10f64.powf(wanted.log10().floor());
    // (labelled step's mantissa, fine steps in it): 1 = 5 × 0.2, 2 = 4 × 0.5, 2.5 = 5 × 0.5, 5 = 5 × 1.
    let (mantissa, fine_per_label) = [(1.0, 5.0), (2.0, 4.0), (2.5, 5.0), (5.0, 5.0), (10.0, 5.0)]
        .into_iter()
        .filter(|&(m, _)| m != 2.5 || decade >= 10.0)
        .find(|&(m, _)| m * decade >= wanted)
        .unwrap_or((10.0, 5.0));
    let labelled = mantissa * decade;
    let fine = labelled / fine_per_label;
    let per_coarse = (fine_per_label * 10.0) as i64;
    let per_label = fine_per_label as i64;
    let (first, last) = ((lo / fine).ceil() as i64, (hi / fine).floor() as i64);
    if last - first > 10_000 {
        return Vec::new();
    }
    (first..=last)
        .map(|k| {
            let step_size = if k % per_coarse == 0 {
                labelled * 10.0
            } else if k % per_label == 0 {
                labelled
            } else {
                fine
            };
            GridMark { value: k as f64 * fine, step_size }
        })
        .collect()
}

/// Vertical annotations for injected/scripted events and breaches starting (cascades dashed), plus the "now" line.
///
/// Drawn before the data, so the data lies on top; kind by kind in a fixed order, so every legend lists the kinds in
/// the same order whatever happened first in the run.
pub fn annotations(plot_ui: &mut PlotUi<'_>, ctx: &PanelCtx<'_>) {
    if let Some(series) = ctx.series() {
        let mut marked: Vec<(Annotation, u64)> =
            series.events.iter().filter_map(|e| Some((annotation(e, series)?, e.t_secs))).collect();
        // Stable: within a kind, timeline order.
        marked.sort_by_key(|(a, _)| ANNOTATION_ORDER.iter().position(|&l| l == a.legend));
        for (a, t_secs) in marked {
            let line = VLine::new(a.legend, t_secs as f64).color(a.colour).width(1.0);
            plot_ui.vline(if a.dashed { line.style(LineStyle::dashed_dense()) } else { line });
        }
    }
    plot_ui.vline(VLine::new("now", ctx.store.now_secs as f64).color(theme::NOW).width(1.5));
}

/// The annotations' legend entries, in the order the legends list them.
const ANNOTATION_ORDER: [&str; 3] = [BREACH_STARTS, CASCADES, EVENTS];
const BREACH_STARTS: &str = "SLO breach starts";
const CASCADES: &str = "cascades (see timeline)";
const EVENTS: &str = "events (see timeline)";

/// How a timeline entry is drawn on the plots.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Annotation {
    /// Lines share one legend entry per kind (a legend of every breach would bury the data); the event timeline
    /// panel names each one.
    pub legend: &'static str,
    pub colour: egui::Color32,
    pub dashed: bool,
}

/// The annotation of a timeline entry worth drawing on plots: events, and breaches starting — a cascade (a breach
/// begun while a linked domain was in breach) dashed, so a spreading incident reads apart from its first breach.
pub fn annotation(e: &TimelineEvent, series: &RunSeries) -> Option<Annotation> {
    let plain = |legend, colour| Some(Annotation { legend, colour, dashed: false });
    match &e.kind {
        TimelineKind::Event { .. } => plain(EVENTS, egui::Color32::from_rgb(255, 140, 0)),
        TimelineKind::BreachStart { .. } if series.cascade_of(e).is_some() => {
            Some(Annotation { legend: CASCADES, colour: theme::SLO, dashed: true })
        }
        TimelineKind::BreachStart { .. } => plain(BREACH_STARTS, theme::SLO),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use egui_kittest::Harness;

    use super::{PanelCtx, test_support::empty_store, time_plot};

    /// The pending panel below `gap_pts` of empty space in a 300-point-tall scroll area: whether its plot was built,
    /// and how tall the scroll area's content is.
    fn pending_below(gap_pts: f32) -> (bool, f32) {
        let store = super::budgets::fixture::store();
        let content_height = Cell::new(0.0);
        let mut harness = Harness::builder().with_size(egui::vec2(1200.0, 300.0)).build_ui(|ui| {
            let output = egui::ScrollArea::vertical().show(ui, |ui| {
                ui.add_space(gap_pts);
                let ctx = PanelCtx { store: &store, run: 0, plot_height: 150.0, max_points: 1500, column_right: None };
                super::PendingPanel::default().pending_ui(ui, &ctx);
                ui.label("below");
            });
            content_height.set(output.content_size.y);
        });
        harness.run();
        let built = egui_plot::PlotMemory::load(&harness.ctx, super::shared_y::plot_id("pending", 0)).is_some();
        (built, content_height.get())
    }

    #[test]
    fn a_time_plot_out_of_view_takes_its_space_and_is_not_built() {
        let (built_in_view, height_in_view) = pending_below(0.0);
        assert!(built_in_view, "in view, the plot is built");
        let (built_below, height_below) = pending_below(1000.0);
        assert!(!built_below, "below the fold, it is not");
        assert!(
            (height_below - 1000.0 - height_in_view).abs() < 0.5,
            "the skipped plot takes the space it would fill: {height_below} against 1000 + {height_in_view}"
        );
    }

    #[test]
    fn value_axes_mark_millions_and_thousands_by_their_grid_step() {
        use egui_plot::GridMark;
        let label = |value, step_size| super::value_axis_label(GridMark { value, step_size });
        assert_eq!(label(4_000_000.0, 1e6), "4M");
        assert_eq!(label(1_500_000.0, 5e5), "1.5M");
        assert_eq!(label(300_000.0, 1e5), "0.3M");
        assert_eq!(label(50_000.0, 1e4), "50k");
        assert_eq!(label(0.0, 1e4), "0");
        // Latencies in ms and shares in % keep their plain form.
        assert_eq!(label(2_000.0, 1e3), "2000");
        assert_eq!(label(2.5, 0.5), "2.5");
    }

    #[test]
    fn a_hover_counts_pods_nodes_and_requests_whole_and_keeps_a_decimal_for_the_rest() {
        let shown = |v, unit| crate::agents::hirl::explain::grouped(v, super::hover_decimals(unit));
        assert_eq!(shown(40_966.9, "pods"), "40,967");
        assert_eq!(shown(1_512.4, "nodes"), "1,512");
        assert_eq!(shown(250_000.4, "req/s"), "250,000");
        assert_eq!(shown(212.46, "ms"), "212.5");
        assert_eq!(shown(34.82, "% of cluster CPU"), "34.8");
    }

    #[test]
    fn a_hover_below_zero_gives_the_time_and_no_value() {
        assert_eq!(super::hover_label("", "Tue 16:01", -61_438.2, "req/s"), "Tue 16:01");
        assert_eq!(super::hover_label("", "Tue 16:01", 1_250.4, "req/s"), "Tue 16:01\n1,250 req/s");
        assert_eq!(super::hover_label("payment 140 ms", "Tue 14:02", 0.0, "ms"), "payment 140 ms\nTue 14:02\n0.0 ms");
    }

    #[test]
    fn a_cascade_is_drawn_dashed_under_its_own_legend_entry() {
        use crate::app::store::{Items, RunSeries};
        use crate::sim::{TimelineEvent, TimelineKind};
        let store = empty_store();
        let at = |t_secs, domain| TimelineEvent { t_secs, kind: TimelineKind::BreachStart { domain } };
        // small.ron: merchant (2) calls payment (0) inline.
        let events = vec![at(100, 0), at(110, 2)];
        let mut series = RunSeries { past: Items { events: events.clone(), ..Items::default() }, ..Default::default() };
        series.explain_cascades(&crate::scenario::DomainLinks::of(&store.scenario));
        let first = super::annotation(&events[0], &series).expect("drawn");
        let cascade = super::annotation(&events[1], &series).expect("drawn");
        assert_eq!((first.legend, first.dashed), ("SLO breach starts", false));
        assert_eq!((cascade.legend, cascade.dashed), ("cascades (see timeline)", true));
        let ended =
            TimelineEvent { t_secs: 200, kind: TimelineKind::BreachEnd { domain: 0, held_by: Default::default() } };
        assert_eq!(super::annotation(&ended, &series), None, "only starts are drawn");
    }

    /// A value axis labels steps of 1, 2, 2.5 or 5 × 10ⁿ (2.5 only on whole numbers), far enough apart for egui_plot
    /// to paint every label in full, and near enough that a plot of 80 points or more shows at least two (three from
    /// 200).
    #[test]
    fn value_grid_marks_label_nice_steps_at_every_height() {
        let ranges = [
            (0.0, 57.0),
            (0.0, 1.3),
            (0.0, 3.8e6),
            (-5.0, 120.0),
            (0.0, 0.004),
            (0.0, 55_475.0),
            (0.0, 70.0),
            (0.0, 7.0),
        ];
        for height_pts in [80.0, 100.0, 150.0, 200.0, 260.0, 600.0] {
            for (lo, hi) in ranges {
                let per_point = (hi - lo) / height_pts;
                let marks =
                    super::value_grid_marks(egui_plot::GridInput { bounds: (lo, hi), base_step_size: per_point * 8.0 });
                let steps: Vec<f64> = {
                    let mut s: Vec<f64> = marks.iter().map(|m| m.step_size).collect();
                    s.sort_by(f64::total_cmp);
                    s.dedup();
                    s
                };
                // The labelled level is the finest whose marks stand 30 points apart (egui_plot's full strength).
                let labelled = *steps.iter().find(|&&s| s / per_point > 30.0).expect("a labelled level");
                let mantissa = labelled / 10f64.powf(labelled.log10().floor());
                assert!(
                    [1.0, 2.0, 2.5, 5.0].iter().any(|m| (mantissa - m).abs() < 1e-6),
                    "{labelled} at {height_pts} pt over {lo}..{hi}"
                );
                assert!(labelled < 0.99 || (labelled - labelled.round()).abs() < 1e-9, "{labelled}: a whole step");
                let shown = marks.iter().filter(|m| m.step_size >= labelled).count();
                let least = if height_pts >= 200.0 { 3 } else { 2 };
                assert!(shown >= least, "{shown} labels at {height_pts} pt over {lo}..{hi}");
                for m in marks.iter().filter(|m| m.step_size >= labelled) {
                    let k = m.value / labelled;
                    assert!((k - k.round()).abs() < 1e-6, "{} is a multiple of {labelled}", m.value);
                }
            }
        }
        // 0–70 on 100 points: 25s, where 1-2-5 steps gave 0 and 50 alone (20s would be 29 points apart).
        let marks =
            super::value_grid_marks(egui_plot::GridInput { bounds: (0.0, 70.0), base_step_size: 70.0 / 100.0 * 8.0 });
        let labelled: Vec<f64> = marks.iter().filter(|m| m.step_size >= 25.0).map(|m| m.value).collect();
        assert_eq!(labelled, vec![0.0, 25.0, 50.0]);
    }

    /// Grid lines fall on round clock times, measured from the scenario's start hour, and coarser lines on the
    /// hours.
    #[test]
    fn clock_grid_marks_fall_on_round_clock_times() {
        let marks = |lo: f64, hi: f64, base_step_size: f64, start_hour: u64| {
            super::clock_grid_marks(egui_plot::GridInput { bounds: (lo, hi), base_step_size }, start_hour * 3600)
        };
        // A 13:00 start, 3 h in view, a base step of 100 s: 5-minute lines, thicker every 30 minutes and 3 hours.
        let m = marks(0.0, 10_800.0, 100.0, 13);
        assert_eq!(m.len(), 37);
        assert!(m.iter().all(|m| m.value % 300.0 == 0.0));
        let half_hours: Vec<f64> = m.iter().filter(|m| m.step_size >= 1800.0).map(|m| m.value).collect();
        assert_eq!(half_hours, (0..=6).map(|k| f64::from(k) * 1800.0).collect::<Vec<_>>());
        // 3-hour lines count from midnight: from 13:00 the first is 15:00, t = 7,200 s.
        let three_hours: Vec<f64> = m.iter().filter(|m| m.step_size == 10_800.0).map(|m| m.value).collect();
        assert_eq!(three_hours, vec![7_200.0]);
        // A whole day in view: labelled lines every 3 hours, as at 00:00, 03:00, …
        let m = marks(0.0, 86_400.0, 415.0, 0);
        assert!(m.iter().filter(|m| m.step_size == 10_800.0).all(|m| m.value % 10_800.0 == 0.0));
        assert_eq!(m.iter().filter(|m| m.step_size >= 10_800.0).count(), 9);
        // An 11:00 start seen from 10 min in: the first line is 11:15 (t = 900 s).
        assert_eq!(marks(600.0, 4_000.0, 800.0, 11).first().map(|m| m.value), Some(900.0));
        // Degenerate input draws nothing.
        assert!(marks(0.0, f64::NAN, 1.0, 0).is_empty());
        assert!(marks(0.0, 1.0, 1e9, 0).is_empty());
        assert!(marks(0.0, 1.0, 0.0, 0).is_empty());
    }

    #[test]
    fn the_time_axis_has_no_labels_before_the_start() {
        let store = empty_store();
        assert_eq!(super::axis_clock_label(&store.scenario, -60.0), "");
        assert_eq!(super::axis_clock_label(&store.scenario, f64::NAN), "");
        assert_eq!(super::axis_clock_label(&store.scenario, 0.0), super::clock_label(&store.scenario, 0));
        assert_eq!(super::axis_clock_label(&store.scenario, 1800.0), super::clock_label(&store.scenario, 1800));
    }

    /// Side by side, a table wider than its column widens the column's scrolled content; a time plot after it still
    /// ends at the column's visible edge (where "now" is drawn), not at the widened content's.
    #[test]
    fn a_plot_after_a_wide_table_ends_at_the_column_edge() {
        let store = empty_store();
        let measured = Cell::new(None);
        let mut harness = Harness::builder().with_size(egui::vec2(600.0, 400.0)).build_ui(|ui| {
            egui::ScrollArea::horizontal().show(ui, |ui| {
                let column_right = ui.max_rect().right();
                ui.add_sized([1500.0, 20.0], egui::Label::new("a wide scorecard"));
                let filled_right = ui.cursor().min.x + ui.available_width();
                let ctx = PanelCtx {
                    store: &store,
                    run: 0,
                    plot_height: 100.0,
                    max_points: 100,
                    column_right: Some(column_right),
                };
                let plot_right = time_plot(ui, "test", &ctx, "ms").show(ui, |_| {}).response.rect.right();
                measured.set(Some((column_right, filled_right, plot_right)));
            });
        });
        harness.run();
        let (column_right, filled_right, plot_right) = measured.get().expect("drawn");
        assert!(
            filled_right > column_right + 500.0,
            "the wide table widened the content: {filled_right} vs {column_right}"
        );
        assert!(plot_right <= column_right + 0.5, "plot ends at {plot_right}, the column at {column_right}");
        assert!(plot_right >= column_right - 1.0, "the plot still fills the column: {plot_right} vs {column_right}");
    }
}
