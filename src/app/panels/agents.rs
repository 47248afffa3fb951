//! "About the agents": what drives a HiRL run — which networks (shape, training command, seed, source tree, the
//! iteration selection kept, reward weights), how they scored held out (the targets `hirl-scale eval
//! --record-in-model` stored in the model file) and what the P0+P1 target would cost in node-hours (the frontier
//! `hirl-scale eval frontier --record-in-model` stored: each setting of capacity held ahead against HPA, drawn with
//! the box both targets leave) — or, when the agents were refused, why every domain runs on HPA.
//!
//! Read from the model's metadata only: nothing here runs the networks. Shown for `hirl` and `hirl-teacher` runs.

use std::sync::Arc;

use egui::{Align2, Color32, RichText, Stroke};
use egui_plot::{HLine, Legend, Line, LineStyle, MarkerShape, Plot, PlotPoint, Points, Polygon, Text, VLine};
use serde::Deserialize;

use super::PanelCtx;
use crate::agents::hirl::HirlNets;
use crate::agents::hirl::frontier::{FrontierRow, Lever, P0_P1_TARGET_PCT, StoredFrontier, cheapest_reaching_p0_p1};
use crate::agents::hirl::nets::Target;
use crate::app::theme;
use crate::scenario::Scenario;
use crate::sim::breach_cause::{BreachCause, BreachMinutesByCause};

/// What the section says about a run's agents.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct About {
    /// Plain lines, in order.
    pub lines: Vec<String>,
    /// The command that evaluated the model held out, when it was.
    pub eval_command: Option<String>,
    pub targets: Vec<Target>,
    /// Each evaluated policy's cascades by the link that carried them, when the evaluation stored them:
    /// "hpa 8 / 11 / 0 · hirl 2 / 5 / 9" (callee's latency / caller's load / shared pool).
    pub cascades_by_link: Option<String>,
    /// The same cascades by how long each lasted, in the same form (evaluations recorded before it lack it).
    pub cascades_by_length: Option<String>,
    /// Each evaluated policy's P0+P1 breach minutes by what held them, in the same form: "hpa 25.1 / 0.0 / 372.3 /
    /// 62.4 / 235.0 · …" (not scaled up / held back / waiting for room / pods starting / callee's latency, as in
    /// [`BreachCause::ALL`]; evaluations recorded before it lack it, and those before held back read it as zero).
    pub breach_held_by: Option<String>,
    /// The frontier stored with the agents, when it was measured.
    pub price: Option<StoredFrontier>,
}

/// The stored frontier's one-line verdict: which settings meet both the P0+P1 and the cost target, and the
/// cheapest that reaches −75%.
pub fn price_summary(price: &StoredFrontier) -> String {
    let in_box: Vec<&str> = price.rows.iter().filter(|r| r.in_target_box()).map(|r| r.setting.as_str()).collect();
    let both = if in_box.is_empty() {
        "no setting meets P0+P1 ≤ −75% at no more node-hours than HPA".to_string()
    } else {
        format!("P0+P1 ≤ −75% at no more node-hours than HPA: {}", in_box.join("; "))
    };
    match cheapest_reaching_p0_p1(&price.rows) {
        Some(r) => format!(
            "{both}; the cheapest that reaches −75%: {} ({:+.1}% P0+P1 at {:+.1}% node-hours{})",
            r.setting,
            r.p0_p1_change * 100.0,
            r.node_hours_change * 100.0,
            r.seeds_reaching_p0_p1()
                .map_or_else(String::new, |k| format!("; −75% on {k} of {} seeds alone", r.p0_p1_change_by_seed.len()))
        ),
        None => format!("{both}; no setting reaches −75%"),
    }
}

/// The section's content for a run of `policy` (its command-line name) on `scenario`; `None` for policies without
/// agents.
pub fn about(policy: &str, scenario: &Scenario, agents: &Result<Arc<HirlNets>, String>) -> Option<About> {
    if let Err(unsupported) = crate::agents::hirl::features::check_scenario(scenario)
        && matches!(policy, "hirl" | "hirl-teacher")
    {
        return Some(About {
            lines: vec![format!("Every domain runs on its stock HPA: {unsupported}.")],
            ..About::default()
        });
    }
    match (policy, agents) {
        ("hirl-teacher", _) => Some(About {
            lines: vec![
                "The hand-written teacher rule drives the executor: no networks, no critic. The shipped networks \
                 were warm-started by cloning it."
                    .into(),
            ],
            ..About::default()
        }),
        ("hirl", Err(reason)) => Some(About {
            lines: vec![format!("The agents were refused, so every domain runs on its stock HPA: {reason}")],
            ..About::default()
        }),
        ("hirl", Ok(nets)) => Some(about_nets(nets)),
        _ => None,
    }
}

fn about_nets(nets: &HirlNets) -> About {
    let meta = &nets.meta;
    let t = &meta.training;
    // Layer widths, inputs first ("→" is not in egui's default font).
    let layers = |sizes: &[usize]| sizes.iter().map(usize::to_string).collect::<Vec<_>>().join("-");
    let mut lines = vec![
        format!(
            "{}: Commander {}, Soldiers {} (layer widths; one Soldier network for the five domains)",
            meta.schema,
            layers(&meta.commander_actor_sizes),
            layers(&meta.soldier_actor_sizes)
        ),
        format!("trained by `{}` (seed {}) in {:.0} s", t.command, t.seed, t.wall_secs),
        format!("source tree: {}", t.source_tree.as_deref().unwrap_or("not recorded")),
    ];
    if let Some(kept) = kept_networks(&t.stages) {
        lines.push(kept);
    }
    let weights = serde_json::to_value(nets.reward_weights()).unwrap_or_default();
    if let Some(map) = weights.as_object() {
        let terms: Vec<String> = map.iter().map(|(k, v)| format!("{} {v}", k.replace('_', " "))).collect();
        lines.push(format!("reward weights: {}", terms.join(", ")));
    }
    let eval = meta.eval.as_ref();
    let eval_command = eval.and_then(|e| e.get("command")).and_then(|c| c.as_str()).map(str::to_string);
    let targets = eval
        .and_then(|e| e.get("targets"))
        .and_then(|t| t.as_array())
        // Row by row, so one malformed row does not hide the others.
        .map(|rows| rows.iter().filter_map(|r| Target::deserialize(r).ok()).collect())
        .unwrap_or_default();
    if eval_command.is_none() {
        lines.push("not evaluated held out (run `hirl-scale eval --record-in-model`)".into());
    }
    let cascades_by_link = eval.and_then(|e| policy_counts(e, "cascades_by_link", &["latency", "load", "pool"]));
    let cascades_by_length = eval
        .and_then(|e| policy_counts(e, "cascades_by_length", &["one_tick", "up_to_1_min", "up_to_10_min", "longer"]));
    let breach_held_by = eval.and_then(p0_p1_held_by);
    let price = meta.frontier.as_ref().and_then(StoredFrontier::from_metadata);
    About { lines, eval_command, targets, cascades_by_link, cascades_by_length, breach_held_by, price }
}

/// "hpa 25.1 / 0.0 / 372.3 / 62.4 / 235.0 · hirl …": each stored total's P0+P1 breach minutes by cause, in
/// [`BreachCause::ALL`] order; `None` when no total has them (an evaluation recorded before they were measured).
fn p0_p1_held_by(eval: &serde_json::Value) -> Option<String> {
    let rows = eval.get("totals")?.as_array()?;
    let each: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let policy = r.get("policy")?.as_str()?;
            let by_cause = BreachMinutesByCause::deserialize(r.get("p0_p1_breach_minutes_by_cause")?).ok()?;
            let minutes: Vec<String> = by_cause.iter().map(|(_, m)| format!("{m:.1}")).collect();
            Some(format!("{policy} {}", minutes.join(" / ")))
        })
        .collect();
    (!each.is_empty()).then(|| each.join(" · "))
}

/// "hpa 8 / 11 / 0 · hirl 2 / 5 / 9": the stored evaluation's per-policy rows under `key`, each the counts under
/// `fields` in that order (a missing count reads 0; a row without a policy is skipped).
fn policy_counts(eval: &serde_json::Value, key: &str, fields: &[&str]) -> Option<String> {
    let rows = eval.get(key)?.as_array()?;
    let each: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let policy = r.get("policy")?.as_str()?;
            let counts: Vec<String> =
                fields.iter().map(|f| r.get(*f).and_then(serde_json::Value::as_u64).unwrap_or(0).to_string()).collect();
            Some(format!("{policy} {}", counts.join(" / ")))
        })
        .collect();
    Some(each.join(" · "))
}

/// Which networks selection kept: the last row marked `selected`, or — in files written before rows were marked —
/// the best validation score, which was the rule then.
fn kept_networks(stages: &[serde_json::Value]) -> Option<String> {
    let score = |s: &serde_json::Value| s.get("validation_score").and_then(serde_json::Value::as_f64);
    let marked = stages.iter().rev().find(|s| s.get("selected").and_then(serde_json::Value::as_bool) == Some(true));
    let (row, rule) = match marked {
        Some(row) => (row, "kept by selection"),
        None => {
            let best = stages.iter().filter(|s| score(s).is_some()).max_by(|a, b| {
                score(a).unwrap_or(f64::NEG_INFINITY).total_cmp(&score(b).unwrap_or(f64::NEG_INFINITY))
            })?;
            (best, "kept: the best validation score")
        }
    };
    let stage = row.get("stage").and_then(serde_json::Value::as_str).unwrap_or("?");
    let iteration = row.get("iteration").and_then(serde_json::Value::as_u64).unwrap_or(0);
    let place = if stage == "behaviour cloning" {
        "behaviour cloning (before PPO)".to_string()
    } else {
        format!("{stage}, PPO iteration {}", iteration + 1)
    };
    let full_scale = row
        .get("full_scale")
        .and_then(|f| f.get("p0_p1_breach_minutes"))
        .and_then(serde_json::Value::as_f64)
        .map(|m| format!(", {m:.1} P0+P1 breach minutes at full-scale validation"))
        .unwrap_or_default();
    Some(format!(
        "{rule}: the networks after {place} (validation {:+.3} reward/min{full_scale})",
        score(row).unwrap_or(f64::NAN)
    ))
}

/// The "About the agents" section.
#[derive(Default)]
pub struct AgentsPanel;

impl AgentsPanel {
    pub fn agents_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>, agents: &Result<Arc<HirlNets>, String>) {
        let Some(policy) = ctx.store.policies.get(ctx.run) else { return };
        let Some(about) = about(policy, &ctx.store.scenario, agents) else {
            ui.weak("only hirl and hirl-teacher runs have agents");
            return;
        };
        for line in &about.lines {
            ui.label(line);
        }
        if let Some(command) = &about.eval_command {
            ui.label(format!("held out, by `{command}`:"));
            egui::Grid::new(("held-out targets", ctx.run)).striped(true).show(ui, |ui| {
                for t in &about.targets {
                    ui.label(&t.target);
                    ui.label(&t.measured);
                    if t.met {
                        ui.label("met");
                    } else {
                        ui.label(RichText::new("MISSED").color(theme::SLO).strong());
                    }
                    ui.end_row();
                }
            });
            if let Some(counts) = about.cascades_by_link.as_deref().filter(|c| !c.is_empty()) {
                ui.label(format!(
                    "cascades by what carried them (callee's latency / caller's load / shared pool): {counts}"
                ))
                .on_hover_text(
                    "Callee's latency: a domain calling the breaching one inline, whose p99 is part of its own. \
                         Caller's load: a domain the breaching one calls inline, whose load is its surge. Shared \
                         pool: domains competing for one pool's nodes (a higher priority preempts a lower one).",
                );
            }
            if let Some(counts) = about.cascades_by_length.as_deref().filter(|c| !c.is_empty()) {
                ui.label(format!("… by how long they lasted (one tick / ≤ 1 min / ≤ 10 min / longer): {counts}"))
                    .on_hover_text(
                        "One tick: over the SLO for a single 5 s sample, which the scorecard counts like any other \
                         breach. Longer: over ten minutes, or not over when the run ended.",
                    );
            }
            if let Some(minutes) = &about.breach_held_by {
                let causes: Vec<&str> = BreachCause::ALL.iter().map(|c| c.label()).collect();
                let tip: Vec<String> =
                    BreachCause::ALL.iter().map(|c| format!("{}: {}.", c.label(), c.explanation())).collect();
                ui.label(format!("P0+P1 breach minutes by what held them ({}): {minutes}", causes.join(" / ")))
                    .on_hover_text(format!(
                        "Where the requests over the SLO were, at every breached 5 s tick.\n{}",
                        tip.join("\n")
                    ));
            }
        }
        if let Some(price) = &about.price {
            price_ui(ui, price, ctx);
        }
    }
}

/// Marker colours of the three kinds of setting (the shipped one takes the text colour).
const FLOOR_COLOUR: Color32 = Color32::from_rgb(0, 114, 178);
const RESERVE_COLOUR: Color32 = Color32::from_rgb(213, 94, 0);
const TARGET_BOX_FILL: Color32 = Color32::from_rgba_premultiplied(12, 40, 17, 40);
const TARGET_BOX_STROKE: Color32 = Color32::from_rgb(46, 160, 67);
const TARGET_LINE_COLOUR: Color32 = Color32::from_rgb(128, 128, 128);

/// The stored frontier as a chart: P0+P1 breach against node-hours, both against HPA in percent, with the box both
/// targets leave shaded and the frontier dashed through the settings no other beats on both.
fn price_ui(ui: &mut egui::Ui, price: &StoredFrontier, ctx: &PanelCtx<'_>) {
    ui.label(format!("the price of the P0+P1 target in node-hours, by `{}`:", price.command));
    ui.label(price_summary(price));
    // Each row in percent against HPA: [node-hours, P0+P1 breach].
    let at = |r: &FrontierRow| [r.node_hours_change * 100.0, r.p0_p1_change * 100.0];
    let (x_lo, x_hi) = price.rows.iter().map(|r| at(r)[0]).fold((0.0f64, 0.0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    // Room on the right for the last point's label.
    let (x_lo, x_hi) = (x_lo - 2.0, x_hi + (x_hi - x_lo).max(10.0) * 0.15);
    let y_lo = price.rows.iter().map(|r| at(r)[1]).fold(P0_P1_TARGET_PCT, f64::min) - 2.0;
    let text_colour = ui.visuals().text_color();
    ctx.fit_width(Plot::new(("price of the target", ctx.run)), ui)
        .height(260.0)
        // In the order drawn: the targets first, then the frontier and the levers (alphabetical put "HPA's
        // node-hours" first and split the targets apart).
        .legend(Legend::default().follow_insertion_order(true))
        .x_axis_label("node-hours against HPA, %")
        .y_axis_label("P0+P1 breach against HPA, %")
        .include_x(x_lo)
        .include_x(x_hi)
        .include_y(P0_P1_TARGET_PCT + 2.0)
        .allow_scroll(false)
        .show(ui, |plot| {
            let target_box = vec![[x_lo, y_lo], [0.0, y_lo], [0.0, P0_P1_TARGET_PCT], [x_lo, P0_P1_TARGET_PCT]];
            plot.polygon(
                Polygon::new("both targets met", target_box)
                    .fill_color(TARGET_BOX_FILL)
                    .stroke(Stroke::new(1.0, TARGET_BOX_STROKE)),
            );
            plot.hline(
                HLine::new("P0+P1 target −75%", P0_P1_TARGET_PCT)
                    .style(LineStyle::dashed_loose())
                    .color(TARGET_LINE_COLOUR),
            );
            plot.vline(VLine::new("HPA's node-hours", 0.0).style(LineStyle::dashed_loose()).color(TARGET_LINE_COLOUR));
            let mut frontier: Vec<[f64; 2]> = price.rows.iter().filter(|r| r.on_frontier).map(at).collect();
            frontier.sort_by(|a, b| a[0].total_cmp(&b[0]));
            plot.line(Line::new("frontier", frontier).style(LineStyle::dashed_dense()).color(Color32::GRAY));
            for (kind, shape, colour) in [
                (Lever::Shipped, MarkerShape::Diamond, text_colour),
                (Lever::SizeFloor(String::new()), MarkerShape::Circle, FLOOR_COLOUR),
                (Lever::WarmReserve(String::new()), MarkerShape::Square, RESERVE_COLOUR),
            ] {
                let points: Vec<[f64; 2]> = price.rows.iter().filter(|r| r.lever.same_kind(&kind)).map(at).collect();
                plot.points(Points::new(kind.kind_name(), points).shape(shape).radius(5.0).filled(true).color(colour));
            }
            for r in &price.rows {
                let [x, y] = at(r);
                let text = RichText::new(format!("   {}", r.lever.point_label())).size(12.0);
                plot.text(Text::new("", PlotPoint::new(x, y), text).anchor(Align2::LEFT_CENTER).color(text_colour));
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::hirl::features::small_scenario;

    fn shipped() -> Arc<HirlNets> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(crate::agents::hirl::DEFAULT_AGENTS_PATH);
        Arc::new(HirlNets::load(&path).expect("the shipped agents load"))
    }

    #[test]
    fn the_shipped_agents_say_how_they_were_made_and_what_they_missed() {
        let about = about("hirl", &small_scenario(), &Ok(shipped())).expect("hirl has agents");
        let text = about.lines.join("\n");
        assert!(text.contains("trained by `hirl-scale train hirl --seed 11"), "{text}");
        assert!(text.contains("source tree: git 6b6697d"), "{text}");
        assert!(!text.contains("uncommitted"), "trained from a committed tree: {text}");
        // Full-scale selection kept the third steady/diurnal iteration, and its row says what it scored there.
        assert!(
            text.contains("kept by selection: the networks after soldiers: steady and diurnal, PPO iteration 3"),
            "{text}"
        );
        assert!(text.contains("209.6 P0+P1 breach minutes at full-scale validation"), "{text}");
        assert!(text.contains("cost 0.05"), "{text}");
        assert!(about.eval_command.as_deref().is_some_and(|c| c.starts_with("hirl-scale eval")));
        let missed: Vec<&str> = about.targets.iter().filter(|t| !t.met).map(|t| t.target.as_str()).collect();
        assert_eq!(missed.len(), 2, "{missed:?}");
        assert!(missed[0].starts_with("P0+P1") && missed[1].starts_with("cascade"), "{missed:?}");
        let cascades = about.cascades_by_link.expect("the evaluation stored its cascades by link");
        assert!(cascades.starts_with("hpa ") && cascades.contains(" · hirl "), "{cascades}");
        let lengths = about.cascades_by_length.expect("the evaluation stored its cascades by length");
        assert!(lengths.starts_with("hpa ") && lengths.contains(" · hirl "), "{lengths}");
        assert!(lengths.split(" · ").all(|row| row.matches(" / ").count() == 3), "four bins a policy: {lengths}");
        // Read by field name from the JSON `eval` wrote: the shipped evaluation's own figures, not zeros.
        assert!(
            cascades.ends_with("hirl 2 / 5 / 9") && lengths.ends_with("hirl 1 / 3 / 3 / 9"),
            "{cascades} | {lengths}"
        );
        // The P0+P1 minutes by what held them, read from the stored totals: five causes a policy, HiRL's own.
        let held = about.breach_held_by.expect("the evaluation stored its breach minutes by cause");
        assert!(held.starts_with("hpa ") && held.contains(" · hirl "), "{held}");
        assert!(held.split(" · ").all(|row| row.matches(" / ").count() == 4), "{held}");
        assert!(held.ends_with("hirl 3.9 / 19.5 / 82.8 / 27.0 / 51.5"), "{held}");
    }

    #[test]
    fn a_refused_model_says_why_and_the_teacher_and_baselines_say_what_they_are() {
        let refused = about("hirl", &small_scenario(), &Err("models/hirl.json: schema x".into())).expect("shown");
        assert!(refused.lines[0].contains("runs on its stock HPA: models/hirl.json: schema x"));
        let teacher = about("hirl-teacher", &small_scenario(), &Err("whatever".into())).expect("shown");
        assert!(teacher.lines[0].contains("teacher rule"));
        assert!(about("hpa", &small_scenario(), &Ok(shipped())).is_none());
    }

    #[test]
    fn a_scenario_hirl_is_not_built_for_says_so_for_the_networks_and_the_teacher() {
        let four = crate::agents::hirl::features::four_domain_scenario();
        for policy in ["hirl", "hirl-teacher"] {
            let about = about(policy, &four, &Ok(shipped())).expect("shown");
            assert_eq!(
                about.lines,
                [
                    "Every domain runs on its stock HPA: scenario \"small\" has 4 domains; the HiRL agents are built for \
                  exactly 5 (one Soldier each)."
                ],
                "{policy}"
            );
            assert!(about.eval_command.is_none() && about.targets.is_empty(), "no held-out figures of other agents");
        }
        assert!(about("hpa", &four, &Ok(shipped())).is_none());
    }

    #[test]
    fn a_stored_frontier_is_read_row_by_row_and_summed_up() {
        let row = |setting: &str, lever: serde_json::Value, p0_p1: f64, cost: f64, missed: &[&str]| {
            serde_json::json!({"setting": setting, "lever": lever, "p0_p1_change": p0_p1, "node_hours_change": cost,
                               "on_frontier": true, "missed": missed, "totals": {}})
        };
        let frontier = serde_json::json!({"command": "hirl-scale eval frontier --seeds 1001,1002", "rows": [
            row("shipped", serde_json::json!("shipped"), -0.734, -0.01, &["P0+P1", "cascades"]),
            row("--size-floor P0=1.03", serde_json::json!({"size-floor": "P0=1.03"}), -0.763, 0.039, &["cost"]),
            row("--warm-reserve 0.3", serde_json::json!({"warm-reserve": "0.3"}), -0.78, 0.15, &["cost"]),
            serde_json::json!({"setting": "broken", "lever": "shipped"}),
        ]});
        let price = StoredFrontier::from_metadata(&frontier).expect("three usable rows");
        assert_eq!(price.rows.len(), 3, "the malformed row is left out, the others kept");
        assert_eq!(price.rows[1].lever, Lever::SizeFloor("P0=1.03".into()));
        assert!((price.rows[1].node_hours_change * 100.0 - 3.9).abs() < 1e-9);
        assert_eq!(
            price_summary(&price),
            "no setting meets P0+P1 ≤ −75% at no more node-hours than HPA; the cheapest that reaches −75%: \
             --size-floor P0=1.03 (-76.3% P0+P1 at +3.9% node-hours)"
        );
        let mut by_seed = price.clone();
        by_seed.rows[1].p0_p1_change_by_seed = vec![Some(-0.77), Some(-0.749)];
        assert!(price_summary(&by_seed).ends_with("(-76.3% P0+P1 at +3.9% node-hours; −75% on 1 of 2 seeds alone)"));
        let mut cheap = price.clone();
        cheap.rows[1].missed.clear();
        assert!(
            price_summary(&cheap).starts_with("P0+P1 ≤ −75% at no more node-hours than HPA: --size-floor P0=1.03;")
        );
        assert!(StoredFrontier::from_metadata(&serde_json::json!({"rows": []})).is_none(), "no command, no chart");
    }

    #[test]
    fn selection_marks_win_over_the_best_score() {
        let rows = vec![
            serde_json::json!({"stage": "behaviour cloning", "iteration": 0, "validation_score": -0.5,
                               "selected": true, "full_scale": {"p0_p1_breach_minutes": 268.8}}),
            serde_json::json!({"stage": "joint", "iteration": 2, "validation_score": -0.4, "selected": false}),
        ];
        let kept = kept_networks(&rows).expect("a row");
        assert!(kept.contains("behaviour cloning (before PPO)") && kept.contains("268.8 P0+P1"), "{kept}");
        let unmarked: Vec<_> = rows
            .iter()
            .map(|r| {
                serde_json::json!({"stage": r["stage"], "iteration": r["iteration"],
                                                                     "validation_score": r["validation_score"]})
            })
            .collect();
        assert!(kept_networks(&unmarked).expect("a row").contains("joint, PPO iteration 3"));
    }
}
