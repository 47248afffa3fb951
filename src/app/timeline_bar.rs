//! The replay timeline: the whole recorded run as a track under the toolbar, with "now" as a handle. Drag or click
//! to seek to any tick (back or forward; the worker restores the nearest snapshot and re-simulates, so it lands
//! exactly), jump ±10 minutes, or click a marker to jump to it.
//!
//! Markers (both runs in side-by-side mode): events firing (injected or scripted), SLO breaches starting, HiRL
//! domains handed to HPA by the safety layer, and Commander decisions (a fine comb along the bottom). They come from
//! everything the window holds, after "now" too, so a replay shows what is coming.

use egui::{Color32, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2};

use super::store::Store;
use super::{HirlApp, format_duration, theme};
use crate::agents::hirl::safety::SafetyLevel;
use crate::sim::{TICK_SECS, TimelineKind};

/// What a marker stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkerKind {
    Event,
    Breach,
    Fallback,
    Decision,
}

impl MarkerKind {
    fn colour(self) -> Color32 {
        match self {
            MarkerKind::Event => Color32::from_rgb(255, 140, 0),
            MarkerKind::Breach => theme::SLO,
            MarkerKind::Fallback => Color32::from_rgb(170, 80, 220),
            MarkerKind::Decision => Color32::from_gray(150),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub t_secs: u64,
    pub kind: MarkerKind,
    /// Which run it belongs to (side by side: 0 or 1).
    pub run: usize,
    /// What the tooltip says; empty for Commander decisions (thousands a day), described on hover by
    /// [`Marker::describe`].
    pub label: String,
}

impl Marker {
    /// The tooltip text.
    pub fn describe(&self, store: &Store) -> String {
        let when = store.clock_label(self.t_secs);
        if self.kind != MarkerKind::Decision {
            return format!("{when} — {}", self.label);
        }
        let who = if store.runs.len() > 1 { store.runs.get(self.run).map_or("", |r| r.policy.as_str()) } else { "" };
        let reserve = store.runs.get(self.run).and_then(|r| {
            let find = |list: &[std::sync::Arc<crate::agents::hirl::record::CommanderRecord>]| {
                list.iter().find(|c| c.t_secs == self.t_secs).and_then(|c| c.shares.last().copied())
            };
            find(&r.past.commander).or_else(|| find(&r.future.commander))
        });
        let sep = if who.is_empty() { "" } else { ": " };
        match reserve {
            Some(share) => format!("{when} — {who}{sep}Commander decision (reserve {:.1}%)", 100.0 * share),
            None => format!("{when} — {who}{sep}Commander decision"),
        }
    }
}

/// Every marker of the runs the store holds (past and future), time-ordered; Commander decisions last.
pub fn markers(store: &Store) -> Vec<Marker> {
    let mut out = Vec::new();
    let side_by_side = store.runs.len() > 1;
    for (run, series) in store.runs.iter().enumerate() {
        let who = if side_by_side { format!("{}: ", series.policy) } else { String::new() };
        let domain_name =
            |d: usize| store.scenario.domains.get(d).map_or_else(|| format!("domain {d}"), |x| x.id.clone());
        // Cascades are read from the events up to now, so a breach after now is marked without one.
        let past = series.past.events.iter().map(|e| (e, true));
        for (e, is_past) in past.chain(series.future.events.iter().rev().map(|e| (e, false))) {
            match &e.kind {
                TimelineKind::Event { label, injected } => out.push(Marker {
                    t_secs: e.t_secs,
                    kind: MarkerKind::Event,
                    run,
                    label: format!(
                        "{who}{label}{}{}",
                        if *injected { " (injected)" } else { "" },
                        store.event_detail(label, e.t_secs, *injected)
                    ),
                }),
                TimelineKind::BreachStart { domain } => {
                    let cascade = is_past
                        .then(|| series.cascade_of(e))
                        .flatten()
                        .map(|c| format!(" — a cascade {}", c.describe(&store.scenario)));
                    out.push(Marker {
                        t_secs: e.t_secs,
                        kind: MarkerKind::Breach,
                        run,
                        label: format!(
                            "{who}SLO breach starts: {}{}",
                            domain_name(*domain as usize),
                            cascade.unwrap_or_default()
                        ),
                    });
                }
                _ => {}
            }
        }
        // A fallback marker where the safety layer hands a domain to HPA (its Soldier makes no decisions then).
        for i in series.past.interventions.iter().chain(series.future.interventions.iter().rev()) {
            if i.to == SafetyLevel::HpaFallback && i.from != SafetyLevel::HpaFallback {
                out.push(Marker {
                    t_secs: i.t_secs,
                    kind: MarkerKind::Fallback,
                    run,
                    label: format!("{who}safety: {} handed to HPA ({})", domain_name(i.domain), i.reason),
                });
            }
        }
        for r in series.past.commander.iter().chain(series.future.commander.iter().rev()) {
            out.push(Marker { t_secs: r.t_secs, kind: MarkerKind::Decision, run, label: String::new() });
        }
    }
    out.sort_by_key(|m| (m.kind == MarkerKind::Decision, m.t_secs, m.kind));
    out
}

/// How far "−10 min" and "+10 min" go, seconds.
const JUMP_SECS: u64 = 600;

/// The bar's state: cached markers (rebuilt when the store changes generation or what they are built from changes).
#[derive(Default)]
pub struct TimelineBar {
    cache_key: (u64, Vec<[usize; 6]>),
    cache: Vec<Marker>,
    /// The time being dragged to (sent on release, so a drag is one seek).
    dragging_to: Option<u64>,
}

/// What the markers are built from, per run: how many events, interventions and Commander records the store holds,
/// before and after now apart (a seek moves them across, and a breach is told as a cascade only up to now). Soldier
/// records, five for every Commander decision and one a frame at 600×, make no marker.
fn marker_sources(store: &Store) -> Vec<[usize; 6]> {
    let counts = |r: &crate::app::store::RunSeries| {
        [
            r.past.events.len(),
            r.future.events.len(),
            r.past.interventions.len(),
            r.future.interventions.len(),
            r.past.commander.len(),
            r.future.commander.len(),
        ]
    };
    store.runs.iter().map(counts).collect()
}

impl TimelineBar {
    pub fn markers(&mut self, store: &Store) -> &[Marker] {
        let key = (store.generation, marker_sources(store));
        if key != self.cache_key {
            self.cache = markers(store);
            self.cache_key = key;
        }
        &self.cache
    }

    /// The times of the nearest markers strictly before and strictly after `now_secs`, Commander decisions left out
    /// (the "previous marker" and "next marker" buttons, and their keys).
    pub fn neighbours(&mut self, store: &Store, now_secs: u64) -> (Option<u64>, Option<u64>) {
        // Markers are time-ordered, Commander decisions after all the others.
        let landmarks = self.markers(store).iter().filter(|m| m.kind != MarkerKind::Decision).map(|m| m.t_secs);
        let mut previous = None;
        for t in landmarks {
            if t > now_secs {
                return (previous, Some(t));
            }
            if t < now_secs {
                previous = Some(t);
            }
        }
        (previous, None)
    }

    /// Where "−10 min" and "+10 min" (and their keys) go from `now_secs`: ten simulated minutes, kept inside the
    /// scenario.
    pub fn jump_secs(store: &Store, now_secs: u64, forward: bool) -> u64 {
        if forward { (now_secs + JUMP_SECS).min(store.duration_secs) } else { now_secs.saturating_sub(JUMP_SECS) }
    }

    pub fn timeline_bar_ui(app: &mut HirlApp, ui: &mut egui::Ui) {
        let store = &app.store;
        let now = store.now_secs;
        let end = store.recorded_until_secs.max(now).max(TICK_SECS);
        let mut seek: Option<u64> = None;
        ui.horizontal(|ui| {
            ui.label("Timeline").on_hover_text(
                "The recorded run: click or drag to go to any moment (exact to the tick), click a marker to jump to it",
            );
            if ui
                .button("−10 min")
                .on_hover_text("Go back ten simulated minutes (exact state, from a snapshot) ([)")
                .clicked()
            {
                seek = Some(Self::jump_secs(store, now, false));
            }
            if ui.button("+10 min").on_hover_text("Go forward ten simulated minutes (])").clicked() {
                seek = Some(Self::jump_secs(store, now, true));
            }
            let (previous, next) = app.timeline_bar.neighbours(&app.store, now);
            if ui
                .add_enabled(previous.is_some(), egui::Button::new("previous marker"))
                .on_hover_text("Jump to the previous event, breach or fallback (,)")
                .clicked()
            {
                seek = previous;
            }
            if ui
                .add_enabled(next.is_some(), egui::Button::new("next marker"))
                .on_hover_text("Jump to the next event, breach or fallback (.)")
                .clicked()
            {
                seek = next;
            }
            let store = &app.store;
            ui.monospace(format!(
                "{} / {} recorded ({})",
                format_duration(now),
                format_duration(store.recorded_until_secs.max(now)),
                store.clock_label(now)
            ));
            if store.recorded_until_secs > now {
                ui.weak("replaying: the run continues as recorded");
            }
        });

        let width = ui.available_width().max(100.0);
        let (rect, response) = ui.allocate_exact_size(Vec2::new(width, 40.0), Sense::click_and_drag());
        let to_x = |t: u64| rect.left() + rect.width() * (t as f32 / end as f32).clamp(0.0, 1.0);
        let to_t = |x: f32| {
            let f = ((x - rect.left()) / rect.width()).clamp(0.0, 1.0);
            ((f64::from(f) * end as f64) as u64 / TICK_SECS) * TICK_SECS
        };
        let painter = ui.painter_at(rect);
        let visuals = ui.visuals();
        painter.rect_filled(rect, 3.0, visuals.extreme_bg_color);
        // Up to now (the lanes of events and breaches; the decision comb stays on the plain background).
        let comb_top = rect.bottom() - 8.0;
        painter.rect_filled(
            Rect::from_min_max(rect.min, Pos2::new(to_x(now), comb_top)),
            3.0,
            visuals.selection.bg_fill.gamma_multiply(0.35),
        );
        // Clock labels at a step that keeps them ≥ 90 px apart, on whole multiples of it.
        const STEPS_MIN: [u64; 10] = [5, 10, 15, 30, 60, 120, 240, 360, 720, 1440];
        let px_per_sec = rect.width() / end as f32;
        let step = STEPS_MIN.iter().map(|m| m * 60).find(|s| *s as f32 * px_per_sec >= 90.0).unwrap_or(86_400);
        let font = egui::FontId::monospace(10.0);
        let text_colour = visuals.weak_text_color();
        for k in 1..=end / step {
            let t = k * step;
            let x = to_x(t);
            painter.line_segment([Pos2::new(x, comb_top - 4.0), Pos2::new(x, comb_top)], Stroke::new(1.0, text_colour));
            painter.text(
                Pos2::new(x + 2.0, comb_top - 1.0),
                egui::Align2::LEFT_BOTTOM,
                app.store.clock_label(t),
                font.clone(),
                text_colour,
            );
        }
        let x_now = to_x(app.timeline_bar.dragging_to.unwrap_or(now));
        // Borrowed, not copied: this runs every frame.
        let markers = app.timeline_bar.markers(&app.store);
        let lane = |kind: MarkerKind| match kind {
            MarkerKind::Event => (rect.top() + 2.0, rect.top() + 13.0),
            MarkerKind::Breach | MarkerKind::Fallback => (rect.top() + 13.0, rect.top() + 24.0),
            MarkerKind::Decision => (comb_top + 1.0, rect.bottom() - 1.0),
        };
        // A day's Commander decisions are about one a pixel (both runs' at the same times): one comb tooth a pixel.
        let mut last_tooth_px = None;
        for m in markers {
            let (y0, y1) = lane(m.kind);
            let x = to_x(m.t_secs);
            if m.kind == MarkerKind::Decision {
                let px = x.round();
                if last_tooth_px == Some(px) {
                    continue;
                }
                last_tooth_px = Some(px);
            }
            let w = if m.kind == MarkerKind::Decision { 1.0 } else { 2.0 };
            painter.line_segment([Pos2::new(x, y0), Pos2::new(x, y1)], Stroke::new(w, m.kind.colour()));
        }
        painter.line_segment(
            [Pos2::new(x_now, rect.top()), Pos2::new(x_now, rect.bottom())],
            Stroke::new(2.5, theme::NOW),
        );
        painter.rect_stroke(
            rect,
            3.0,
            Stroke::new(1.0, visuals.widgets.noninteractive.bg_stroke.color),
            StrokeKind::Inside,
        );

        // The marker under the pointer (within 4 px), for the tooltip and for clicks.
        let hovered = response.hover_pos().and_then(|p| {
            markers
                .iter()
                .filter(|m| {
                    let (y0, y1) = lane(m.kind);
                    p.y >= y0 - 2.0 && p.y <= y1 + 2.0
                })
                .min_by(|a, b| (to_x(a.t_secs) - p.x).abs().total_cmp(&(to_x(b.t_secs) - p.x).abs()))
                .filter(|m| (to_x(m.t_secs) - p.x).abs() <= 4.0)
                .cloned()
        });
        let response = match (&hovered, response.hover_pos()) {
            (Some(m), _) => response.on_hover_text(m.describe(&app.store)),
            (None, Some(p)) => response.on_hover_text(format!("go to {}", app.store.clock_label(to_t(p.x)))),
            _ => response,
        };
        if response.dragged()
            && let Some(p) = response.interact_pointer_pos()
        {
            app.timeline_bar.dragging_to = Some(to_t(p.x));
        }
        if response.drag_stopped() {
            seek = app.timeline_bar.dragging_to.take();
        } else if response.clicked() {
            seek = match hovered {
                Some(m) => Some(m.t_secs),
                None => response.interact_pointer_pos().map(|p| to_t(p.x)),
            };
        }
        if let Some(t) = seek {
            app.seek(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::hirl::safety::Intervention;
    use crate::app::panels::test_support::{empty_store, soldier_record};
    use crate::app::store::{Items, RunSeries};

    #[test]
    fn a_domain_handed_to_hpa_gets_one_fallback_marker_with_the_reason() {
        let mut store = empty_store();
        let change =
            |t_secs, from, to| Intervention { t_secs, domain: 0, from, to, reason: "p99 at 2.10× SLO".into() };
        use SafetyLevel::*;
        let past = Items {
            interventions: vec![
                change(100, Normal, Freeze),
                change(110, Freeze, HpaFallback),
                change(900, HpaFallback, Normal),
            ],
            ..Items::default()
        };
        // One more fallback after "now", held newest first.
        let future = Items { interventions: vec![change(2000, Normal, HpaFallback)], ..Items::default() };
        store.runs.push(RunSeries { policy: "hirl".into(), past, future, ..RunSeries::default() });
        let fallbacks: Vec<(u64, String)> = markers(&store)
            .into_iter()
            .filter(|m| m.kind == MarkerKind::Fallback)
            .map(|m| (m.t_secs, m.label))
            .collect();
        let name = &store.scenario.domains[0].id;
        assert_eq!(
            fallbacks,
            vec![
                (110, format!("safety: {name} handed to HPA (p99 at 2.10× SLO)")),
                (2000, format!("safety: {name} handed to HPA (p99 at 2.10× SLO)")),
            ]
        );
    }

    #[test]
    fn markers_are_rebuilt_for_what_makes_one_and_not_for_soldier_records() {
        use crate::sim::TimelineEvent;
        let mut store = empty_store();
        let breach = TimelineEvent { t_secs: 100, kind: TimelineKind::BreachStart { domain: 0 } };
        let future = Items { events: vec![breach.clone()], ..Items::default() };
        store.runs.push(RunSeries { policy: "hirl".into(), future, ..RunSeries::default() });
        let before = marker_sources(&store);

        store.runs[0].past.soldiers.push(soldier_record(100, 0));
        assert_eq!(marker_sources(&store), before, "a Soldier record makes no marker");

        let mut moved = store.clone();
        moved.runs[0].future.events.clear();
        moved.runs[0].past.events.push(breach);
        assert_ne!(marker_sources(&moved), before, "a breach now before now may be told as a cascade");

        let fallback = Intervention {
            t_secs: 200,
            domain: 0,
            from: SafetyLevel::Normal,
            to: SafetyLevel::HpaFallback,
            reason: "stale telemetry".into(),
        };
        store.runs[0].past.interventions.push(fallback);
        assert_ne!(marker_sources(&store), before, "a domain handed to HPA is marked");
    }

    #[test]
    fn an_event_marker_says_what_its_short_label_leaves_out() {
        use crate::sim::TimelineEvent;
        let mut store = empty_store();
        // small.ron's one scripted event: a payment spike.
        let spike = store.scenario.events[0].clone();
        let (label, t_secs) = (spike.label(), spike.start_secs());
        let past = Items {
            events: vec![TimelineEvent { t_secs, kind: TimelineKind::Event { label: label.clone(), injected: false } }],
            ..Items::default()
        };
        store.runs.push(RunSeries { policy: "hpa".into(), past, ..RunSeries::default() });
        let events: Vec<String> =
            markers(&store).into_iter().filter(|m| m.kind == MarkerKind::Event).map(|m| m.label).collect();
        let detail = crate::scenario::describe::event_detail(&store.scenario, &spike, None);
        assert!(detail.contains("; lasts "), "{detail}");
        assert_eq!(events, vec![format!("{label}{detail}")]);
    }

    #[test]
    fn a_breach_marker_up_to_now_says_when_it_is_a_cascade() {
        use crate::sim::TimelineEvent;
        let mut store = empty_store();
        let at = |t_secs, kind| TimelineEvent { t_secs, kind };
        // small.ron: Payment (0) calls Fraud (1) inline, so Payment's surge is Fraud's load.
        let past = Items {
            events: vec![
                at(100, TimelineKind::BreachStart { domain: 0 }),
                at(130, TimelineKind::BreachStart { domain: 1 }),
            ],
            ..Items::default()
        };
        let future = Items { events: vec![at(200, TimelineKind::BreachStart { domain: 2 })], ..Items::default() };
        let mut series = RunSeries { policy: "hpa".into(), past, future, ..RunSeries::default() };
        series.explain_cascades(&crate::scenario::DomainLinks::of(&store.scenario));
        store.runs.push(series);
        let breaches: Vec<String> =
            markers(&store).into_iter().filter(|m| m.kind == MarkerKind::Breach).map(|m| m.label).collect();
        assert_eq!(
            breaches,
            vec![
                "SLO breach starts: payment".to_string(),
                "SLO breach starts: fraud — a cascade after payment (caller's load, 30 s into its breach); not over yet"
                    .to_string(),
                // After now: not yet explained.
                "SLO breach starts: merchant".to_string(),
            ]
        );
    }
}
