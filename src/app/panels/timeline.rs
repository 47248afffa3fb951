//! The run's event timeline, newest first: scripted and injected events, SLO breaches starting and ending (per
//! domain), and nodes arriving (with their wait in seconds) or being removed, each stamped with the scenario's clock to
//! the second (a cascade is seconds behind the breach it follows).
//! A breach that began while a linked domain was in breach is tagged "cascade" and says which breach it followed and
//! through what link ([`crate::sim::cascades`]). A filter row picks which kinds are listed (or the cascades alone);
//! clicking a row's time asks the window to go to that moment ([`TimelinePanel::take_seek`]).

use egui::{Color32, RichText};

use super::PanelCtx;
use crate::app::store::{RunSeries, Store, clock_label_secs};
use crate::app::{format_duration, theme};
use crate::scenario::describe::short_duration;
use crate::sim::cascades::{breach_began_secs, breach_lasted_secs, lasted_label};
use crate::sim::{TimelineEvent, TimelineKind};

/// Same orange as the event annotations on the plots.
const EVENT: Color32 = Color32::from_rgb(255, 140, 0);
const RECOVERED: Color32 = Color32::from_rgb(0, 158, 115);

pub struct TimelinePanel {
    show_events: bool,
    show_breaches: bool,
    show_nodes: bool,
    /// Only the breaches that were cascades (the other filters aside).
    cascades_only: bool,
    /// A row's time clicked this frame: where the window should go (see [`TimelinePanel::take_seek`]).
    seek_to: Option<u64>,
}

impl Default for TimelinePanel {
    fn default() -> Self {
        Self { show_events: true, show_breaches: true, show_nodes: true, cascades_only: false, seek_to: None }
    }
}

impl TimelinePanel {
    /// The moment a row's time was clicked at, once: the window seeks there (the panel only reads the store).
    pub fn take_seek(&mut self) -> Option<u64> {
        self.seek_to.take()
    }

    pub fn timeline_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let Some(series) = ctx.series() else {
            ui.weak("waiting for data");
            return;
        };
        ui.horizontal_wrapped(|ui| {
            ui.label("show:");
            ui.checkbox(&mut self.show_events, "events").on_hover_text("Scripted and injected events");
            ui.checkbox(&mut self.show_breaches, "breaches").on_hover_text("SLO breaches starting and ending");
            ui.checkbox(&mut self.show_nodes, "nodes").on_hover_text("Nodes arriving from the provisioner or removed");
            ui.checkbox(&mut self.cascades_only, "cascades only").on_hover_text(
                "Only the breaches that began while a linked domain was in breach; click a time to go there",
            );
        });
        if series.events.is_empty() {
            ui.weak("no events yet");
            return;
        }

        let rows: Vec<&TimelineEvent> = series.events.iter().rev().filter(|e| self.shows(e, series)).collect();
        ui.weak(format!("{} of {} entries", rows.len(), series.events.len()));
        let row_height = ui.text_style_height(&egui::TextStyle::Body);
        // Only the rows in view are laid out: a week-long run has thousands of node arrivals.
        egui::ScrollArea::vertical()
            .id_salt(("timeline", ctx.run))
            // Both bounds: inside the window's scrolling column a scroll area otherwise shrinks to its 64-point
            // minimum, about three rows.
            .min_scrolled_height(200.0)
            .max_height(200.0)
            .auto_shrink([false, true])
            .show_rows(ui, row_height, rows.len(), |ui, range| {
                for e in rows.get(range).into_iter().flatten() {
                    if row_ui(ui, e, ctx.store, series) {
                        self.seek_to = Some(e.t_secs);
                    }
                }
            });
    }

    fn shows(&self, e: &TimelineEvent, series: &RunSeries) -> bool {
        if self.cascades_only {
            return series.cascade_of(e).is_some();
        }
        match &e.kind {
            TimelineKind::Event { .. } => self.show_events,
            TimelineKind::BreachStart { .. } | TimelineKind::BreachEnd { .. } => self.show_breaches,
            TimelineKind::NodesArrived { .. } | TimelineKind::NodesRemoved { .. } => self.show_nodes,
        }
    }
}

/// One entry; returns whether its time was clicked.
fn row_ui(ui: &mut egui::Ui, e: &TimelineEvent, store: &Store, series: &RunSeries) -> bool {
    let (tag, colour, text, tip) = describe(e, store, series);
    ui.horizontal(|ui| {
        let when = RichText::new(clock_label_secs(&store.scenario, e.t_secs)).monospace();
        let clicked = ui
            .add(egui::Label::new(when).sense(egui::Sense::click()))
            .on_hover_text(format!(
                "{} after the scenario's start: click to go to this moment",
                format_duration(e.t_secs)
            ))
            .clicked();
        ui.label(RichText::new(tag).color(colour).strong()).on_hover_text(tip);
        // One line a row (the list lays out only the rows in view, at a fixed height): a cascade after several
        // domains is cut at the panel's edge, its whole text on hover.
        ui.add(egui::Label::new(text).truncate());
        clicked
    })
    .inner
}

/// Tag, colour, text and tooltip of one entry.
fn describe(e: &TimelineEvent, store: &Store, series: &RunSeries) -> (&'static str, Color32, String, &'static str) {
    let domain = |d: u8| store.scenario.domain_id(usize::from(d));
    let pool = |p: u8| store.scenario.pools.get(usize::from(p)).map_or("?", |x| x.name.as_str());
    match &e.kind {
        TimelineKind::Event { label, injected: true } => {
            let detail = store.event_detail(label, e.t_secs, true);
            ("injected", EVENT, format!("{label}{detail}"), "An event injected from the window during the run")
        }
        TimelineKind::Event { label, injected: false } => {
            let detail = store.event_detail(label, e.t_secs, false);
            ("event", EVENT, format!("{label}{detail}"), "An event scripted in the scenario file")
        }
        TimelineKind::BreachStart { domain: d } => match series.cascade_of(e) {
            Some(c) => {
                // How long it lasted before whom it followed: a row is cut at the column's edge, and a cascade after
                // several domains (side by side, on a projector) would lose its length first.
                let text = format!("{} over SLO; {}; {}", domain(*d), c.lasted(), c.after(&store.scenario));
                ("cascade", theme::SLO, text, CASCADE_TIP)
            }
            None => {
                let lasted = lasted_label(breach_lasted_secs(&series.events, *d, e.t_secs));
                (
                    "breach",
                    theme::SLO,
                    format!("{} over SLO; {lasted}", domain(*d)),
                    "End-to-end p99 went above the SLO, or errors above the error budget",
                )
            }
        },
        TimelineKind::BreachEnd { domain: d, held_by } => {
            let after = breach_began_secs(&series.events, *d, e.t_secs)
                .map(|start| format!(" after {}", short_duration(e.t_secs - start)))
                .unwrap_or_default();
            let held = if held_by.total() > 0.0 {
                format!("; its minutes held by {}", held_by.summary())
            } else {
                String::new()
            };
            ("recovered", RECOVERED, format!("{} back within SLO{after}{held}", domain(*d)), RECOVERED_TIP)
        }
        TimelineKind::NodesArrived { pool: p, count, wait_secs } => (
            "nodes",
            theme::NOW,
            format!("{count} {} ready in {} after {wait_secs} s", nodes(*count), pool(*p)),
            "Nodes that became ready this tick, and how long they waited since being requested",
        ),
        TimelineKind::NodesRemoved { pool: p, count } => (
            "nodes",
            theme::RESERVE,
            format!("{count} {} removed from {}", nodes(*count), pool(*p)),
            "Nodes removed by scale-down or lost",
        ),
    }
}

/// What a cascade is and what each link means (the scorecard counts these).
const CASCADE_TIP: &str = "A breach that began while a linked domain was in breach: the scorecard counts it as a \
    cascade. Callee's latency: this domain calls that one inline, so that one's p99 is part of its own. Caller's \
    load: that domain calls this one inline, so its surge is this one's load. Shared pool: they compete for one \
    pool's nodes (and a higher priority's pods preempt a lower one's).";

/// What a recovery row says, and what held the breach's minutes.
const RECOVERED_TIP: &str = "p99 latency and errors are back within the SLO. Its minutes held by: where the requests \
    over the SLO were at each 5 s tick of the breach — at apps not scaled up (no pod waiting or starting, none held \
    back), at apps whose controller held pods back on purpose (a rate limit, maxReplicas, a seating rule), at apps \
    with pods waiting for room on a node, at apps whose new pods were starting, or at none of the domain's own apps \
    (an inline callee's latency put it over).";

fn nodes(count: u32) -> &'static str {
    if count == 1 { "node" } else { "nodes" }
}

#[cfg(test)]
mod tests {

    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    use super::*;
    use crate::app::store::{Items, RunSeries};

    use super::super::test_support::empty_store as store;

    fn render(store: &Store) -> Harness<'_> {
        let ctx = PanelCtx { store, run: 0, plot_height: 120.0, max_points: 100, column_right: None };
        let mut panel = TimelinePanel::default();
        let mut harness = Harness::new_ui(move |ui| panel.timeline_ui(ui, &ctx));
        harness.run();
        harness
    }

    #[test]
    fn lists_injected_event_breach_and_nodes() {
        let mut store = store();
        let held_by = crate::sim::breach_cause::BreachMinutesByCause {
            waiting_for_room_minutes: 3.5,
            pods_starting_minutes: 1.5,
            ..Default::default()
        };
        let at = |t_secs, kind| TimelineEvent { t_secs, kind };
        let events = vec![
            at(600, TimelineKind::Event { label: "flash sale on payment".into(), injected: true }),
            at(900, TimelineKind::BreachStart { domain: 0 }),
            at(915, TimelineKind::NodesArrived { pool: 0, count: 12, wait_secs: 315 }),
            at(1200, TimelineKind::BreachEnd { domain: 0, held_by }),
        ];
        store.runs.push(RunSeries {
            policy: "hpa".into(),
            past: Items { events, ..Items::default() },
            ..Default::default()
        });
        let harness = render(&store);
        harness.get_by_label("injected");
        harness.get_by_label("flash sale on payment");
        // Each breach row says how long the breach lasted, and its end how long it had lasted.
        harness.get_by_label("payment over SLO; lasted 5 min");
        // And its end, what held those minutes.
        harness.get_by_label(
            "payment back within SLO after 5 min; its minutes held by waiting for room 3.5 · pods starting 1.5",
        );
        assert!(harness.query_by_label_contains("12 nodes ready in").is_some());
        harness.get_by_label("4 of 4 entries");
    }

    #[test]
    fn an_injected_sale_says_whether_and_for_when_it_was_announced_and_when_it_was_injected() {
        use crate::scenario::EventSpec;
        let mut store = store();
        let sale = |announced_start_secs| EventSpec::FlashSale {
            domain: "payment".into(),
            announced_start_secs,
            announced_at_secs: None,
            start_secs: 3_600,
            ramp_secs: 60,
            multiplier: 2.0,
            duration_secs: 1_800,
        };
        let early = sale(Some(4_800));
        let label = early.label();
        store.injections = vec![crate::sim::InjectedEvent { injected_at_secs: 600, event: early }];
        let at = |t_secs, kind| TimelineEvent { t_secs, kind };
        let events = vec![at(3_600, TimelineKind::Event { label: label.clone(), injected: true })];
        store.runs.push(RunSeries {
            policy: "hpa".into(),
            past: Items { events, ..Items::default() },
            ..Default::default()
        });
        let expected = format!(
            "{label}; announced for {} (it came 20 min early); ramps up in 1 min; lasts 30 min; injected at {}",
            crate::app::store::clock_label(&store.scenario, 4_800),
            clock_label_secs(&store.scenario, 600)
        );
        render(&store).get_by_label(&expected);

        // Unannounced, and injected to fire at once: nothing to say about when it was injected.
        store.injections[0] = crate::sim::InjectedEvent { injected_at_secs: 3_600, event: sale(None) };
        render(&store).get_by_label(&format!("{label}; unannounced; ramps up in 1 min; lasts 30 min"));
    }

    #[test]
    fn a_cascade_says_which_breach_it_followed_and_through_what() {
        let mut store = store();
        let at = |t_secs, kind| TimelineEvent { t_secs, kind };
        // small.ron: merchant (2) calls payment (0) inline; internal (4) shares shared-general with payment.
        let events = vec![
            at(900, TimelineKind::BreachStart { domain: 0 }),
            at(905, TimelineKind::BreachStart { domain: 2 }),
            at(1000, TimelineKind::BreachEnd { domain: 0, held_by: Default::default() }),
            at(1000, TimelineKind::BreachEnd { domain: 2, held_by: Default::default() }),
            at(2000, TimelineKind::BreachStart { domain: 4 }),
        ];
        let mut series =
            RunSeries { policy: "hpa".into(), past: Items { events, ..Items::default() }, ..Default::default() };
        series.explain_cascades(&crate::scenario::DomainLinks::of(&store.scenario));
        assert_eq!(series.cascades.len(), 1);
        store.runs.push(series);
        let mut harness = render(&store);
        harness.get_by_label("cascade");
        harness.get_by_label(
            "merchant over SLO; lasted 1 min 35 s; after payment (callee's latency, 5 s into its breach)",
        );
        // Payment's own breach and Internal's later one (nothing linked in breach then) are plain breaches.
        assert_eq!(harness.query_all_by_label("breach").count(), 2);
        harness.get_by_label("internal over SLO; not over yet");
        // "cascades only" lists the one cascade and nothing else.
        harness.get_by_label("cascades only").click();
        harness.run();
        harness.get_by_label("1 of 5 entries");
        assert_eq!(harness.query_all_by_label("breach").count(), 0);
        harness.get_by_label("cascade");
    }

    #[test]
    fn clicking_a_rows_time_asks_to_go_there() {
        let mut store = store();
        let at = |t_secs, kind| TimelineEvent { t_secs, kind };
        let events = vec![
            at(900, TimelineKind::BreachStart { domain: 0 }),
            at(1205, TimelineKind::BreachEnd { domain: 0, held_by: Default::default() }),
        ];
        store.runs.push(RunSeries {
            policy: "hpa".into(),
            past: Items { events, ..Items::default() },
            ..Default::default()
        });
        let ctx = PanelCtx { store: &store, run: 0, plot_height: 120.0, max_points: 100, column_right: None };
        let mut harness = Harness::new_ui_state(
            |ui, panel: &mut TimelinePanel| panel.timeline_ui(ui, &ctx),
            TimelinePanel::default(),
        );
        harness.run();
        let when = clock_label_secs(&store.scenario, 1205);
        harness.get_by_label(&when).click();
        harness.run();
        assert_eq!(harness.state_mut().take_seek(), Some(1205));
        assert_eq!(harness.state_mut().take_seek(), None, "once");
    }

    #[test]
    fn empty_store_renders() {
        let store = store();
        render(&store).get_by_label("waiting for data");
    }
}
