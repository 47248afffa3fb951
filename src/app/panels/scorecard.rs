//! The run's scorecard so far: one row per domain (SLO-breach minutes, cascades, priority-inversion minutes, pending
//! pod-minutes, peak p99 against SLO in ms, error %, slowest scale-out in s, scaling actions per app-hour) and a
//! cluster line (P0+P1 breach minutes, peak provisioner queue in nodes, slowest node wait in s, churn, node-hours,
//! cost in $, over-provisioning ×). Side by side, the second run shows its change against the first, and in a
//! column narrower than [`NARROW_BELOW_PTS`] the titles go over two lines and pending pod-minutes into k and M, so
//! that side by side (half the window each) the last columns and the cluster line are not past the column's edge.

use egui::{Color32, RichText};

use super::{NARROW_BELOW_PTS, PanelCtx};
use crate::agents::hirl::explain::grouped;
use crate::app::{format_duration, theme};
use crate::sim::Scorecard;
use crate::sim::breach_cause::BreachMinutesByCause;
use crate::sim::cascades::{CascadeCounts, CascadeLengths};

/// Below this visible width (points) the table's gaps shrink to 4 points: side by side in a 1280-point window.
const TIGHT_BELOW_PTS: f32 = 700.0;

/// Lower is better for every compared metric: green when it fell, red when it rose.
const BETTER: Color32 = Color32::from_rgb(0, 158, 115);

/// Per column: its title, the same over two lines for a narrow column, and what it means.
const COLUMNS: [(&str, &str, &str); 10] = [
    ("domain", "domain", "Business domain (scenario id); colour as in every plot"),
    ("prio", "prio", "PriorityClass tier of the domain's pods; P0 is the most important"),
    (
        "breach min",
        "breach\nmin",
        "Minutes in which end-to-end p99 exceeded the SLO or the error ratio exceeded the error budget",
    ),
    (
        "cascades",
        "cas-\ncades",
        "Breach episodes that began while a linked domain (shared node pool or inline call) was in breach; hover a \
         count for the links that carried them",
    ),
    (
        "inversion min",
        "inversion\nmin",
        "Minutes with unschedulable pods while a lower-priority domain held capacity in a usable pool",
    ),
    ("pending pod·min", "pending\npod·min", "Sum over time of unschedulable pods × minutes"),
    (
        "peak p99 / SLO ms",
        "peak p99 /\nSLO ms",
        "Highest end-to-end p99 latency seen, against the domain's p99 objective, milliseconds",
    ),
    ("errors %", "errors\n%", "Failed requests (errors and timeouts) as a share of all requests"),
    (
        "max scale-out s",
        "max scale-\nout s",
        "Slowest flash sale or spike: seconds from its start until out of breach, no unschedulable pods and ≤ 90% CPU, \
         after the ramp; — when none happened",
    ),
    (
        "actions / app·h",
        "actions /\napp·h",
        "Changes of spec.replicas per app per simulated hour (high values mean oscillation)",
    ),
];

/// What "copy as text" copies: side by side, every run's scorecard against the first's, as `compare` prints them;
/// alone, this run's, as `run` prints it; then what happened, as `replay` lists it: the scenario's events and those
/// injected from the window.
fn text_of(ctx: &PanelCtx<'_>, card: &Scorecard) -> String {
    let cards: Vec<Scorecard> =
        (0..ctx.store.runs.len()).filter_map(|r| ctx.store.readout_scorecard(r).cloned()).collect();
    let mut text = if cards.len() > 1 && cards.len() == ctx.store.runs.len() {
        crate::report::comparison_table(&cards)
    } else {
        crate::report::scorecard_table(card)
    };
    let scenario = &ctx.store.scenario;
    text.push_str(&crate::report::event_list(scenario));
    text.push_str(&crate::report::injection_list(scenario, &ctx.store.injections));
    text
}

#[derive(Default)]
pub struct ScorecardPanel {}

impl ScorecardPanel {
    pub fn scorecard_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let Some(card) = ctx.store.readout_scorecard(ctx.run) else {
            ui.weak("waiting for data");
            return;
        };
        // The first run is the reference in side-by-side mode; only the second shows deltas.
        let base = (ctx.store.runs.len() == 2 && ctx.run == 1)
            .then(|| ctx.store.runs.first())
            .flatten()
            .and_then(|r| ctx.store.readout_scorecard(0).map(|c| (r.policy.as_str(), c)));
        let domains = &ctx.store.scenario.domains;
        let width_pts = ctx.visible_width(ui);
        let narrow = width_pts < NARROW_BELOW_PTS;

        ui.horizontal_wrapped(|ui| {
            ui.weak(format!("after {} simulated", format_duration(card.simulated_secs)));
            // Figures bought with capacity held ahead are never shown as the policy's own.
            if let Some(reserve) = &card.warm_reserve {
                ui.weak(format!("· warm reserve {reserve}"))
                    .on_hover_text("This run held placeholder pods warm ahead of spikes, paid for in node-hours");
            }
            let lifted = crate::scenario::what_if::lifted_in_name(&card.scenario);
            if !lifted.is_empty() {
                let names: Vec<&str> = lifted.iter().map(|w| w.name()).collect();
                ui.label(
                    RichText::new(format!("· what if: {} lifted", names.join(", "))).color(ui.visuals().warn_fg_color),
                )
                .on_hover_text(
                    "A real-world limit was lifted in this run (toolbar: what if): its figures say how much of \
                     the breach that limit causes, not how the scenario itself goes",
                );
            }
            if let Some(floor) = &card.size_floor {
                ui.weak(format!("· size floor {floor}")).on_hover_text(
                    "HiRL's Soldiers ran under a raised size floor (toolbar): slack held in the domains, paid for in \
                     node-hours",
                );
            }
            let copy = ui.small_button("copy as text").on_hover_text(
                "Copy the scorecard as plain text, as `hirl-scale run` prints it — side by side, both runs with the \
                 change, as `compare` prints them — then the scenario's events and those injected, for a postmortem \
                 or a chat",
            );
            if copy.clicked() {
                ui.ctx().copy_text(text_of(ctx, card));
            }
        });
        // Narrower still, the columns sit closer: side by side on a 1280-point projector the last column would be past
        // the column's edge with the default 8-point gaps.
        let gap_pts = if width_pts < TIGHT_BELOW_PTS { 4.0 } else { ui.spacing().item_spacing.x };
        let grid = egui::Grid::new(("scorecard", ctx.run)).striped(true);
        grid.spacing([gap_pts, ui.spacing().item_spacing.y]).show(ui, |ui| {
            for (i, (title, two_lines, tip)) in COLUMNS.iter().enumerate() {
                ui.strong(if narrow { *two_lines } else { *title }).on_hover_text(*tip);
                if let (2, Some((policy, _))) = (i, base) {
                    ui.strong(format!("Δ vs {policy}"))
                        .on_hover_text(format!("Change in breach minutes against {policy}"));
                }
            }
            ui.end_row();
            for (i, ds) in card.domains.iter().enumerate() {
                let index = domains.iter().position(|d| d.id == ds.domain).unwrap_or(i);
                let name = domains.get(index).map_or(ds.domain.as_str(), |d| d.name.as_str());
                ui.label(RichText::new(&ds.domain).color(theme::domain_colour(index, ui.visuals().dark_mode)))
                    .on_hover_text(name);
                ui.label(&ds.priority);
                let breach = ui.label(format!("{:.1}", ds.slo_breach_minutes));
                if ds.slo_breach_minutes > 0.0 {
                    breach.on_hover_text(held_by_text(&ds.slo_breach_minutes_by_cause));
                }
                if let Some((_, b)) = base {
                    let before = b.domains.iter().find(|x| x.domain == ds.domain).map(|x| x.slo_breach_minutes);
                    delta_label(ui, ds.slo_breach_minutes, before, "min");
                }
                let cascades = ctx.series().map(|series| {
                    let own = || series.cascades.iter().filter(|c| usize::from(c.domain) == index);
                    (CascadeCounts::of(own()), CascadeLengths::of(own()))
                });
                let cell = ui.label(ds.cascade_events.to_string());
                if let Some((counts, lengths)) = cascades.filter(|(c, _)| c.total() > 0) {
                    cell.on_hover_text(format!(
                        "{}; by length: {}. Each is listed in the timeline.",
                        counts.describe(),
                        lengths.describe()
                    ));
                }
                ui.label(format!("{:.1}", ds.priority_inversion_minutes));
                let pending = ds.pending_pod_minutes;
                if narrow {
                    ui.label(compact_count(pending)).on_hover_text(format!("{} pod·min", grouped(pending, 1)));
                } else {
                    ui.label(grouped(pending, 1));
                }
                let peak = RichText::new(format!("{:.0} / {:.0}", ds.peak_p99_latency_ms, ds.slo_p99_latency_ms));
                ui.label(if ds.peak_p99_latency_ms > ds.slo_p99_latency_ms { peak.color(theme::SLO) } else { peak });
                ui.label(format!("{:.3}", ds.error_ratio * 100.0));
                ui.label(ds.max_time_to_scale_out_secs.map_or_else(|| "—".to_owned(), |s| format!("{s:.0}")));
                ui.label(format!("{:.2}", ds.scaling_actions_per_app_hour));
                ui.end_row();
            }
        });
        cluster_ui(ui, card, base);
    }
}

/// What held a domain's (or the P0+P1 domains') breach minutes, a line per cause with any, largest first.
fn held_by_text(by_cause: &BreachMinutesByCause) -> String {
    let mut text = String::from("What held these minutes (where the requests over the SLO were):");
    for (cause, minutes) in by_cause.largest_first() {
        text.push_str(&format!("\n• {} {minutes:.1} min: {}", cause.label(), cause.explanation()));
    }
    text
}

fn cluster_ui(ui: &mut egui::Ui, card: &Scorecard, base: Option<(&str, &Scorecard)>) {
    let c = &card.cluster;
    let b = base.map(|(_, b)| &b.cluster);
    ui.horizontal_wrapped(|ui| {
        // Each figure moves to the next line whole ("9300.0 node-hours" split over two lines reads as two figures).
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        ui.strong("cluster:");
        let p0_p1 = ui.label(format!("P0+P1 breach {:.1} min", c.p0_p1_slo_breach_minutes));
        if c.p0_p1_slo_breach_minutes > 0.0 {
            p0_p1.on_hover_text(format!(
                "SLO-breach minutes of P0 and P1 domains only, summed over domains.\n{}",
                held_by_text(&c.p0_p1_slo_breach_minutes_by_cause)
            ));
        } else {
            p0_p1.on_hover_text("SLO-breach minutes of P0 and P1 domains only, summed over domains");
        }
        if let Some(b) = b {
            delta_label(ui, c.p0_p1_slo_breach_minutes, Some(b.p0_p1_slo_breach_minutes), "min");
        }
        ui.separator();
        ui.label(format!("peak queue {} nodes", c.peak_provisioner_queue_nodes)).on_hover_text(
            "Most nodes requested and not yet running (queued at the cloud API or booting) at any moment",
        );
        if let Some(b) = b {
            let (now, before) = (f64::from(c.peak_provisioner_queue_nodes), f64::from(b.peak_provisioner_queue_nodes));
            delta_label(ui, now, Some(before), "nodes");
        }
        ui.separator();
        let wait = c.max_node_provision_secs.map_or_else(|| "—".to_owned(), |s| format!("{s:.0} s"));
        ui.label(format!("max node wait {wait}")).on_hover_text("Longest wait from requesting a node to it running");
        ui.separator();
        ui.label(format!("churn {} nodes", c.node_churn_nodes))
            .on_hover_text("Nodes removed within the churn window of arriving (paid for, barely used)");
        ui.separator();
        ui.label(format!("{} node-hours", grouped(c.node_hours, 1)))
            .on_hover_text("Node-hours billed, booting nodes included");
        ui.separator();
        ui.label(format!("cost {}", dollars(c.cost_dollars)))
            .on_hover_text("Node-hours × price per node-hour; clouds bill from launch, so booting nodes count");
        if let Some(b) = b {
            delta_label(ui, c.cost_dollars, Some(b.cost_dollars), "$");
        }
        ui.separator();
        ui.label(format!("over-provisioning {:.2}×", c.over_provisioning_ratio))
            .on_hover_text("Mean CPU requested by scheduled pods over mean CPU actually used (1× = no waste)");
    });
}

/// "−35%" in green, "+12%" in red; an absolute change when the reference was zero.
fn delta_label(ui: &mut egui::Ui, now: f64, before: Option<f64>, unit: &str) {
    let Some(before) = before else {
        ui.weak("—");
        return;
    };
    let diff = now - before;
    let sign = if diff < 0.0 { "−" } else { "+" };
    let text = if before.abs() > f64::EPSILON {
        let pct = diff / before * 100.0;
        if pct.abs() < 0.5 { "±0%".to_owned() } else { format!("{sign}{:.0}%", pct.abs()) }
    } else if diff.abs() < 1e-9 {
        "±0%".to_owned()
    } else {
        format!("{sign}{:.1} {unit}", diff.abs())
    };
    let colour = if diff < -1e-9 {
        BETTER
    } else if diff > 1e-9 {
        theme::SLO
    } else {
        ui.visuals().weak_text_color()
    };
    ui.label(RichText::new(text).color(colour)).on_hover_text(format!("{before:.2} before, {now:.2} now"));
}

/// A count in at most five characters or so: "950.5", "42.3k", "1.07M".
fn compact_count(v: f64) -> String {
    match v.abs() {
        a if a < 10_000.0 => format!("{v:.1}"),
        a if a < 999_950.0 => format!("{:.1}k", v / 1e3),
        _ => format!("{:.2}M", v / 1e6),
    }
}

/// "$12,345.67".
fn dollars(v: f64) -> String {
    let sign = if v < 0.0 { "−" } else { "" };
    format!("{sign}${}", grouped(v.abs(), 2))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    use super::*;
    use crate::app::store::{RunSeries, Store};

    fn store(runs: usize) -> Store {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        let s = crate::scenario::load_file(&path).expect("small scenario loads");
        let mut store = Store::new(Arc::new(s.clone()));
        if runs > 0 {
            let mut sim = crate::sim::Simulation::new(&s, 1);
            for _ in 0..24 {
                sim.step();
            }
            for policy in ["hpa", "hirl"].into_iter().take(runs) {
                let scorecard = Some(sim.scorecard(policy));
                store.runs.push(RunSeries { policy: policy.into(), scorecard, ..Default::default() });
            }
        }
        store
    }

    fn render(store: &Store, run: usize) -> Harness<'_> {
        let ctx = PanelCtx { store, run, plot_height: 120.0, max_points: 100, column_right: None };
        let mut panel = ScorecardPanel::default();
        // As wide as the single-run window's column, where the table keeps its one-line form.
        let mut harness =
            Harness::builder().with_size(egui::vec2(1400.0, 400.0)).build_ui(move |ui| panel.scorecard_ui(ui, &ctx));
        harness.run();
        harness
    }

    /// The text the last frame put on the clipboard, if any.
    fn copied(harness: &Harness<'_>) -> Option<String> {
        harness.output().platform_output.commands.iter().find_map(|c| match c {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
    }

    #[test]
    fn copy_as_text_copies_what_the_cli_prints() {
        let alone = store(1);
        let mut harness = render(&alone, 0);
        harness.get_by_label("copy as text").click();
        harness.step();
        let card = alone.runs[0].scorecard.as_ref().expect("scored");
        let events = crate::report::event_list(&alone.scenario);
        assert!(events.contains("spike payment"), "small.ron's spike: {events}");
        assert_eq!(copied(&harness), Some(crate::report::scorecard_table(card) + &events), "as `run` prints it");

        // Side by side, either half copies both runs, the second against the first, as `compare` prints them, and
        // what was injected, as `replay` lists it.
        let mut both = store(2);
        let spike = crate::scenario::EventSpec::Spike {
            domain: "fraud".into(),
            start_secs: 600,
            ramp_secs: 0,
            multiplier: 2.0,
            duration_secs: 300,
        };
        both.injections.push(crate::sim::InjectedEvent { injected_at_secs: 120, event: spike });
        let mut harness = render(&both, 1);
        harness.get_by_label("copy as text").click();
        harness.step();
        let cards: Vec<Scorecard> = both.runs.iter().filter_map(|r| r.scorecard.clone()).collect();
        let text = copied(&harness).expect("copied");
        let injected = crate::report::injection_list(&both.scenario, &both.injections);
        assert!(injected.starts_with("injected: 1\n") && injected.contains("spike fraud"), "{injected}");
        assert_eq!(text, crate::report::comparison_table(&cards) + &events + &injected);
        assert!(text.contains("hpa") && text.contains("hirl") && text.contains("Δ"), "{text}");
    }

    #[test]
    fn one_row_per_domain_and_cluster_line() {
        let store = store(1);
        let harness = render(&store, 0);
        harness.get_by_label("payment");
        harness.get_by_label("breach min");
        assert!(harness.query_by_label_contains("node-hours").is_some());
        assert!(harness.query_by_label_contains("Δ vs").is_none());
    }

    #[test]
    fn side_by_side_shows_deltas_against_first_run() {
        let store = store(2);
        let harness = render(&store, 1);
        harness.get_by_label("Δ vs hpa");
        // Both runs share one scorecard here, so every delta is zero.
        assert_eq!(harness.query_all_by_label("±0%").count(), 4 + store.scenario.domains.len() - 1);
        assert_eq!(dollars(12_345.678), "$12,345.68");
        assert_eq!(dollars(5.0), "$5.00");
        assert_eq!(dollars(-1234.5), "−$1,234.50");
    }

    #[test]
    fn a_narrow_column_gets_titles_over_two_lines_and_compact_counts() {
        let store = store(1);
        let narrow = PanelCtx { store: &store, run: 0, plot_height: 120.0, max_points: 100, column_right: Some(600.0) };
        let mut panel = ScorecardPanel::default();
        let mut harness = Harness::new_ui(move |ui| panel.scorecard_ui(ui, &narrow));
        harness.run();
        harness.get_by_label("breach\nmin");
        harness.get_by_label("peak p99 /\nSLO ms");
        assert!(harness.query_by_label("breach min").is_none());
        // The full window keeps one-line titles.
        render(&store, 0).get_by_label("breach min");
        assert_eq!(compact_count(950.54), "950.5");
        assert_eq!(compact_count(42_345.0), "42.3k");
        assert_eq!(compact_count(999_949.0), "999.9k");
        assert_eq!(compact_count(1_069_295.2), "1.07M");
    }

    #[test]
    fn a_domains_cascade_count_shows_on_hover_what_carried_them() {
        use crate::sim::cascades::{Cascade, CascadeLink, Upstream};
        let mut store = store(1);
        let cascade = |t_secs, link| Cascade {
            t_secs,
            domain: 1,
            upstream: vec![Upstream { domain: 0, link, breaching_since_secs: t_secs - 5 }],
            lasted_secs: (t_secs < 500).then_some(5),
            held_by: None,
        };
        let run = &mut store.runs[0];
        run.cascades = (1..=5).map(|k| cascade(k * 100, CascadeLink::Load)).collect();
        run.cascades.extend([cascade(700, CascadeLink::Pool), cascade(800, CascadeLink::Pool)]);
        if let Some(card) = run.scorecard.as_mut() {
            card.domains[1].cascade_events = 7;
        }
        let mut harness = render(&store, 0);
        harness.get_by_label("7").hover();
        harness.run_steps(60);
        assert!(
            harness
                .query_by_label_contains(
                    "5 through a caller's load, 2 through a shared pool; by length: 4 one tick, 3 longer (0.3 min in \
                     all). Each is listed in the timeline."
                )
                .is_some(),
            "the hover names the links"
        );
    }

    #[test]
    fn breach_minutes_show_on_hover_what_held_them() {
        use crate::sim::breach_cause::BreachMinutesByCause;
        let mut store = store(1);
        let by_cause = BreachMinutesByCause {
            not_scaled_minutes: 0.5,
            held_back_minutes: 0.0,
            waiting_for_room_minutes: 9.75,
            pods_starting_minutes: 2.25,
            callee_minutes: 0.0,
        };
        if let Some(card) = store.runs[0].scorecard.as_mut() {
            card.domains[0].slo_breach_minutes = 12.5;
            card.domains[0].slo_breach_minutes_by_cause = by_cause;
            card.cluster.p0_p1_slo_breach_minutes = 12.5;
            card.cluster.p0_p1_slo_breach_minutes_by_cause = by_cause;
        }
        let mut harness = render(&store, 0);
        harness.get_by_label("12.5").hover();
        harness.run_steps(60);
        let tip = "What held these minutes (where the requests over the SLO were):\n• waiting for room 9.8 min: ";
        assert!(harness.query_by_label_contains(tip).is_some(), "the hover names the largest cause first");
        assert!(harness.query_by_label_contains("• pods starting 2.2 min: ").is_some());
        assert!(harness.query_by_label_contains("callee's latency").is_none(), "a cause with no minutes is left out");
        let mut harness = render(&store, 0);
        harness.get_by_label("P0+P1 breach 12.5 min").hover();
        harness.run_steps(60);
        assert!(harness.query_by_label_contains("summed over domains.\nWhat held these minutes").is_some());
    }

    #[test]
    fn empty_store_renders() {
        let store = store(0);
        render(&store, 0).get_by_label("waiting for data");
    }
}
