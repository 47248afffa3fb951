//! Node pools and the node provisioner. For the latest tick, one row per pool: nodes ready, booting (created, not
//! Ready yet) and queued (waiting for the provisioner's cloud API), the pods waiting for room that the pool's nodes
//! are bought for (and the whole nodes their CPU fills), the ready nodes' CPU capacity in cores, and that
//! capacity's occupancy in cores requested per domain and held by the reserve. Then, over time in nodes: nodes per
//! pool, total booting and queued nodes, and the provisioner's queued API calls (a count of requests).

use egui::{Sense, Vec2};
use egui_plot::{Line, LineStyle};

use super::budgets::stacked_bar;
use super::styled_line::{DASH_PTS, SHORT_DASH_PTS, StyledLine};
use super::{PanelCtx, SharedY, annotations, time_plot};
use crate::agents::hirl::explain::thousands;
use crate::app::plot_lines::LineKey;
use crate::app::theme;
use crate::runner::{PoolPoint, SeriesPoint};

/// The occupancy bar's width, points, where the column has room; narrower down to [`MIN_BAR_WIDTH`] where it has not
/// (side by side, after a wide waiting cell).
const BAR_WIDTH: f32 = 260.0;
const MIN_BAR_WIDTH: f32 = 80.0;
/// Room left between the bar and the column's edge, where the window's scroll bar floats.
const BAR_EDGE_MARGIN: f32 = 12.0;

#[derive(Default)]
pub struct PoolsPanel {}

impl PoolsPanel {
    pub fn pools_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let Some(series) = ctx.series() else {
            ui.weak("waiting for data");
            return;
        };
        let Some(now) = ctx.readout() else {
            ui.weak("waiting for data");
            return;
        };
        pools_table(ui, ctx, now);
        ui.label(format!("Provisioner: {} API calls queued", thousands(now.provisioner_queued_requests.into())))
            .on_hover_text("Node-creation calls waiting for the cloud API's rate limit");
        if ctx.time_plot_out_of_view(ui, "pools") {
            return;
        }

        let line = |key: LineKey, value: &dyn Fn(&SeriesPoint) -> u32| -> Vec<[f64; 2]> {
            series.line(key, ctx.max_points, |p| Some(f64::from(value(p))))
        };
        let total = |now: &SeriesPoint, f: fn(&PoolPoint) -> u32| now.pools.iter().map(f).sum::<u32>();
        let mut lines = Vec::with_capacity(now.pools.len() + 3);
        let dark_mode = ui.visuals().dark_mode;
        for (p, pool) in now.pools.iter().enumerate() {
            let name = format!("{} {} nodes", pool_name(ctx, p), thousands(pool.nodes.into()));
            let nodes = line(("pool-nodes", p), &|s| s.pools.get(p).map_or(0, |q| q.nodes));
            let pool_line =
                Line::new(name, nodes).id(("pools-pool", p)).width(2.0).color(theme::pool_colour(p, dark_mode));
            // A fourth pool on takes an earlier pool's colour, dashed.
            lines.push(if p >= theme::POOL_COLOURS {
                StyledLine::dashed(pool_line, DASH_PTS)
            } else {
                pool_line.into()
            });
        }
        let booting = format!("booting {} nodes (all pools)", thousands(total(now, |q| q.booting_nodes).into()));
        let queued = format!("queued {} nodes (all pools)", thousands(total(now, |q| q.queued_nodes).into()));
        let calls = format!("API calls queued {}", thousands(now.provisioner_queued_requests.into()));
        let booting = Line::new(booting, line(("booting", 0), &|s| total(s, |q| q.booting_nodes)))
            .id("pools-booting")
            .color(theme::PROVISIONER)
            .width(1.5);
        lines.push(StyledLine::dashed(booting, SHORT_DASH_PTS));
        lines.push(
            Line::new(queued, line(("queued", 0), &|s| total(s, |q| q.queued_nodes)))
                .id("pools-queued")
                .color(theme::PROVISIONER)
                .width(1.5)
                .style(LineStyle::dotted_dense())
                .into(),
        );
        lines.push(
            Line::new(calls, line(("calls", 0), &|s| s.provisioner_queued_requests))
                .id("pools-calls")
                .width(1.0)
                .color(theme::PROVISIONER)
                .into(),
        );
        let mut shared = SharedY::new(ui, "pools", ctx);
        time_plot(ui, "pools", ctx, "nodes").show(ui, |plot_ui| {
            for l in lines {
                shared.line(plot_ui, l);
            }
            annotations(plot_ui, ctx);
        });
        shared.record(ui.ctx());
    }
}

fn pool_name<'a>(ctx: &PanelCtx<'a>, p: usize) -> &'a str {
    ctx.store.scenario.pools.get(p).map_or("?", |s| s.name.as_str())
}

fn pools_table(ui: &mut egui::Ui, ctx: &PanelCtx<'_>, now: &SeriesPoint) {
    egui::Grid::new(("pools-table", ctx.run)).striped(true).num_columns(7).show(ui, |ui| {
        ui.strong("pool");
        ui.strong("ready").on_hover_text("Nodes Ready to run pods");
        ui.strong("booting").on_hover_text("Nodes created at the cloud API and booting, not Ready yet");
        ui.strong("queued").on_hover_text("Nodes the provisioner wants, still waiting for the cloud API");
        ui.strong("waiting").on_hover_text(
            "Pods waiting for room, counted in their domain's first pool (where the cluster autoscaler buys their \
             nodes), and the whole nodes of this pool their CPU fills. Pods waiting with nothing booting or queued \
             here: the pool's nodes are not being asked for, or wait behind other pools' at the provisioner",
        );
        ui.strong("capacity").on_hover_text("Allocatable CPU of the ready nodes");
        ui.strong("occupancy")
            .on_hover_text("Capacity requested per domain (domain colours) and held by the reserve (grey)");
        ui.end_row();
        for (p, pool) in now.pools.iter().enumerate() {
            ui.label(pool_name(ctx, p));
            ui.label(thousands(pool.nodes.into()));
            ui.label(thousands(pool.booting_nodes.into()));
            ui.label(thousands(pool.queued_nodes.into()));
            waiting_cell(ui, ctx, p, pool);
            ui.label(format!("{} cores", thousands(pool.cpu_capacity_cores.max(0.0).round() as u64)));
            occupancy_bar(ui, ctx, pool);
            ui.end_row();
        }
    });
}

/// "1,250 pods ≈ 10 nodes" (the CPU they request in this pool's whole nodes), with their cores on hover; "—" when
/// none wait.
fn waiting_cell(ui: &mut egui::Ui, ctx: &PanelCtx<'_>, p: usize, pool: &PoolPoint) {
    if pool.waiting_pods == 0 {
        ui.weak("—");
        return;
    }
    let node_cores = ctx.store.scenario.pools.get(p).map_or(0.0, |s| s.node_cpu_millicores as f32 / 1000.0);
    let text = if node_cores > 0.0 {
        let nodes = (pool.waiting_cores / node_cores).ceil() as u64;
        format!("{} pods ≈ {} nodes", thousands(pool.waiting_pods.into()), thousands(nodes))
    } else {
        format!("{} pods", thousands(pool.waiting_pods.into()))
    };
    ui.label(text).on_hover_text(format!("{:.1} cores requested", pool.waiting_cores));
}

fn occupancy_bar(ui: &mut egui::Ui, ctx: &PanelCtx<'_>, pool: &PoolPoint) {
    // A pool with no ready nodes has no capacity: draw an empty bar rather than dividing by zero.
    let share = |cores: f32| if pool.cpu_capacity_cores > 0.0 { cores / pool.cpu_capacity_cores } else { 0.0 };
    let mut segments: Vec<_> = pool
        .cpu_by_domain_cores
        .iter()
        .enumerate()
        .map(|(d, c)| (share(*c), theme::domain_colour(d, ui.visuals().dark_mode)))
        .collect();
    segments.push((share(pool.reserve_cores), theme::RESERVE));
    // The bar is the table's last column: it ends before the column's visible edge rather than under it.
    let width = match ctx.column_right {
        Some(_) => (ctx.visible_width(ui) - BAR_EDGE_MARGIN).clamp(MIN_BAR_WIDTH, BAR_WIDTH),
        None => BAR_WIDTH,
    };
    let (id, bar, _) = stacked_bar(ui, Vec2::new(width, 14.0), &segments);
    ui.interact(bar, id, Sense::hover()).on_hover_ui(|ui| {
        let used = pool.cpu_by_domain_cores.iter().sum::<f32>() + pool.reserve_cores;
        ui.label(format!("CPU requested, of {:.0} cores allocatable:", pool.cpu_capacity_cores));
        for (d, cores) in pool.cpu_by_domain_cores.iter().enumerate().filter(|(_, c)| **c > 0.0) {
            let name = ctx.store.scenario.domain_id(d);
            ui.colored_label(theme::domain_colour(d, ui.visuals().dark_mode), format!("{name}: {cores:.1} cores"));
        }
        ui.colored_label(theme::RESERVE, format!("reserve: {:.1} cores", pool.reserve_cores));
        ui.label(format!("free: {:.1} cores", (pool.cpu_capacity_cores - used).max(0.0)));
    });
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::super::budgets::fixture;
    use super::*;
    use crate::app::store::{RunSeries, Store};

    fn harness(store: &Store) -> Harness<'_> {
        let mut panel = PoolsPanel::default();
        super::super::test_support::harness(store, egui::vec2(1200.0, 600.0), move |ui, ctx| panel.pools_ui(ui, ctx))
    }

    #[test]
    fn rows_and_legend_show_the_latest_pools() {
        let store = fixture::store();
        let harness = harness(&store);
        harness.get_by_label("shared-general");
        harness.get_by_label("1,280 cores");
        harness.get_by_label("Provisioner: 7 API calls queued");
        harness.get_by_label("shared-general 40 nodes");
        harness.get_by_label("queued 6 nodes (all pools)");
        // Pods waiting, in the whole nodes of their pool: 312.5 cores are 10 of merchant-general's 32-core nodes
        // and 20 of data-batch's 16-core ones; none wait for shared-general.
        harness.get_by_label("1,250 pods ≈ 10 nodes");
        harness.get_by_label("1,250 pods ≈ 20 nodes");
        harness.get_by_label("—");
    }

    #[test]
    fn in_a_narrow_column_the_occupancy_bar_ends_inside_it() {
        let store = fixture::store();
        let column_right = 600.0;
        let mut panel = PoolsPanel::default();
        let mut harness = Harness::builder().with_size(egui::vec2(1200.0, 600.0)).build_ui(|ui| {
            let ctx = PanelCtx {
                store: &store,
                run: 0,
                plot_height: 150.0,
                max_points: 1500,
                column_right: Some(column_right),
            };
            panel.pools_ui(ui, &ctx);
        });
        harness.run();
        // The bars answer hovers with their breakdown: one starts right of the capacity cell and, full width, would
        // run 260 points, far past the column's edge.
        let row = harness.get_by_label("1,280 cores").rect();
        let mut tooltip_at = |x: f32| {
            harness.hover_at(egui::pos2(x, row.center().y));
            harness.run();
            harness.query_by_label_contains("cores allocatable").is_some()
        };
        assert!(tooltip_at(row.right() + 40.0), "the bar is there, inside the column");
        assert!(!tooltip_at(column_right + 20.0), "the bar ends before the column's edge");
    }

    #[test]
    fn empty_store_waits_for_data() {
        let mut store = fixture::empty_store();
        harness(&store).get_by_label("waiting for data");
        store.runs.push(RunSeries::default());
        harness(&store).get_by_label("waiting for data");
    }
}
