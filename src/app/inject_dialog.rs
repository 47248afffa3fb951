//! The inject dialog: every incident the scenario format knows, injected into the running simulation — a flash sale
//! (unannounced, or on the calendar on time, early or late), an unannounced traffic spike, a zone outage (a pool
//! loses nodes at once), a degraded cloud API (node boots slow down) and a batch job (pods that hold capacity and
//! are not autoscaled) — with the event in words, clock times included, before it is injected.
//!
//! An event is checked by the scenario's own rules (`scenario::validate_event`) before it is sent: a refused one
//! says why in the dialog, which stays open. Injected events fire at the next tick or at their own start, in every
//! run alike (side by side included), and are kept in recordings and session exports.

use crate::agents::hirl::explain::{cores, thousands};
use crate::runner::Command;
use crate::scenario::describe::short_duration;
use crate::scenario::{EventSpec, Scenario, validate_event};

use super::HirlApp;

/// What the dialog injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InjectKind {
    FlashSale,
    Spike,
    NodePoolLoss,
    ProvisionerSlowdown,
    BatchJob,
}

impl InjectKind {
    pub const ALL: [InjectKind; 5] = [
        InjectKind::FlashSale,
        InjectKind::Spike,
        InjectKind::NodePoolLoss,
        InjectKind::ProvisionerSlowdown,
        InjectKind::BatchJob,
    ];

    pub fn name(self) -> &'static str {
        match self {
            InjectKind::FlashSale => "flash sale",
            InjectKind::Spike => "traffic spike",
            InjectKind::NodePoolLoss => "zone outage (nodes lost)",
            InjectKind::ProvisionerSlowdown => "cloud API slowdown",
            InjectKind::BatchJob => "batch job",
        }
    }

    fn about(self) -> &'static str {
        match self {
            InjectKind::FlashSale => {
                "A promotion: a domain's traffic ramps up, holds and ramps back; it may be announced"
            }
            InjectKind::Spike => "An unannounced surge of a domain's traffic, shaped like a flash sale",
            InjectKind::NodePoolLoss => {
                "A pool loses nodes at once (a zone outage, a spot reclaim); their pods go back to Pending"
            }
            InjectKind::ProvisionerSlowdown => "Node boots take longer while it lasts (a degraded cloud API)",
            InjectKind::BatchJob => {
                "Pods of a domain that need scheduling, hold their capacity for a while and finish; no autoscaler \
                 scales them"
            }
        }
    }

    fn uses_domain(self) -> bool {
        matches!(self, InjectKind::FlashSale | InjectKind::Spike | InjectKind::BatchJob)
    }

    fn is_surge(self) -> bool {
        matches!(self, InjectKind::FlashSale | InjectKind::Spike)
    }
}

pub struct InjectDialog {
    pub open: bool,
    kind: InjectKind,
    domain: usize,
    multiplier: f64,
    ramp_secs: u64,
    duration_mins: u64,
    /// Minutes from now until it starts.
    starts_in_mins: u64,
    /// On the business calendar from the moment it is injected (forecasters and HiRL may use it).
    announced: bool,
    /// When the calendar says it starts, in minutes after it really starts: 0 on time, > 0 it comes early (the
    /// flash-sale-early postmortem), < 0 it comes late. Clamped so the calendar's start is not before now.
    calendar_offset_mins: i64,
    pool: usize,
    nodes_lost: u32,
    slowdown_factor: f64,
    batch_pods: u32,
    batch_cpu_millicores: u32,
    batch_memory_mib: u32,
    /// Why the scenario's checks refused the last Inject, until the event the settings make changes.
    refused: Option<String>,
}

impl Default for InjectDialog {
    /// A 2× flash sale on the first domain, now, for an hour; 40 nodes lost; boots 3× slower; a 2,000-pod job of
    /// 1 core and 2 GiB each.
    fn default() -> Self {
        Self {
            open: false,
            kind: InjectKind::FlashSale,
            domain: 0,
            multiplier: 2.0,
            ramp_secs: 45,
            duration_mins: 60,
            starts_in_mins: 0,
            announced: false,
            calendar_offset_mins: 0,
            pool: 0,
            nodes_lost: 40,
            slowdown_factor: 3.0,
            batch_pods: 2_000,
            batch_cpu_millicores: 1_000,
            batch_memory_mib: 2_048,
            refused: None,
        }
    }
}

impl InjectDialog {
    /// The event the dialog describes in `scenario` at simulated time `now_secs` (`None` when its domain or pool
    /// is not in the scenario).
    pub fn event(&self, scenario: &Scenario, now_secs: u64) -> Option<EventSpec> {
        let start = now_secs + self.starts_in_mins * 60;
        let duration_secs = self.duration_mins * 60;
        let domain = || scenario.domains.get(self.domain).map(|d| d.id.clone());
        Some(match self.kind {
            InjectKind::FlashSale => EventSpec::FlashSale {
                domain: domain()?,
                announced_start_secs: self
                    .announced
                    .then(|| start.saturating_add_signed(self.calendar_offset_mins * 60).max(now_secs)),
                // Injected, it goes on the calendar now; the session records when (`InjectedEvent::as_scripted`).
                announced_at_secs: None,
                start_secs: start,
                ramp_secs: self.ramp_secs,
                multiplier: self.multiplier,
                duration_secs: duration_secs.max(2 * self.ramp_secs),
            },
            InjectKind::Spike => EventSpec::Spike {
                domain: domain()?,
                start_secs: start,
                ramp_secs: self.ramp_secs,
                multiplier: self.multiplier,
                duration_secs: duration_secs.max(2 * self.ramp_secs),
            },
            InjectKind::NodePoolLoss => EventSpec::NodePoolLoss {
                pool: scenario.pools.get(self.pool)?.name.clone(),
                at_secs: start,
                nodes: self.nodes_lost,
            },
            InjectKind::ProvisionerSlowdown => {
                EventSpec::ProvisionerSlowdown { start_secs: start, duration_secs, factor: self.slowdown_factor }
            }
            InjectKind::BatchJob => EventSpec::BatchJob {
                domain: domain()?,
                start_secs: start,
                duration_secs,
                pods: self.batch_pods,
                cpu_request_millicores: self.batch_cpu_millicores,
                memory_request_mib: self.batch_memory_mib,
            },
        })
    }

    /// The event in words, with the wall-clock times `clock` gives: what the user is about to inject.
    /// `pool_nodes` is the chosen pool's node count now in each run, with the run's policy (empty if not known).
    pub fn summary(
        &self,
        scenario: &Scenario,
        now_secs: u64,
        clock: impl Fn(u64) -> String,
        pool_nodes: &[(String, u32)],
    ) -> String {
        let Some(event) = self.event(scenario, now_secs) else {
            return "Pick a domain or pool of this scenario.".to_string();
        };
        let when = if self.starts_in_mins == 0 {
            "now".to_string()
        } else {
            format!("{} (in {} min)", clock(event.start_secs()), self.starts_in_mins)
        };
        let domain_name = scenario.domains.get(self.domain).map_or("—", |d| d.name.as_str());
        match &event {
            EventSpec::FlashSale { announced_start_secs, start_secs, duration_secs, .. } => {
                let mut text = format!(
                    "{domain_name}: traffic ×{:.2} from {when}, reaching it over {} s, for {} min. ",
                    self.multiplier,
                    self.ramp_secs,
                    duration_secs / 60
                );
                match *announced_start_secs {
                    None => text.push_str("Unannounced: nothing knows it is coming until it lands."),
                    Some(a) => text.push_str(&announcement(a, *start_secs, now_secs, &clock)),
                }
                text
            }
            EventSpec::Spike { duration_secs, .. } => format!(
                "{domain_name}: traffic ×{:.2} from {when}, reaching it over {} s, for {} min. Unannounced, like \
                 every spike: nothing knows it is coming until it lands.",
                self.multiplier,
                self.ramp_secs,
                duration_secs / 60
            ),
            EventSpec::NodePoolLoss { pool, nodes, .. } => {
                // One count ("40 of its 916 nodes"), or each run's where the autoscalers bought different numbers.
                let counts: Vec<u32> = pool_nodes.iter().map(|(_, n)| *n).collect();
                let (of, each) = match counts.first() {
                    None => (String::new(), String::new()),
                    Some(&n) if counts.iter().all(|&c| c == n) => {
                        (format!(" of its {}", thousands(u64::from(n))), String::new())
                    }
                    Some(_) => {
                        let each: Vec<String> =
                            pool_nodes.iter().map(|(p, n)| format!("{} under {p}", thousands(u64::from(*n)))).collect();
                        (" of its".to_string(), format!(" ({})", each.join(", ")))
                    }
                };
                let verb = if self.starts_in_mins == 0 { "loses" } else { "will lose" };
                let at = if self.starts_in_mins == 0 { "now".to_string() } else { format!("at {when}") };
                format!(
                    "{pool} {verb} {}{of} nodes {at}{each}, all at once; the pods on them go back to Pending and \
                     wait for room like any other. The cluster autoscaler may buy the nodes back.",
                    thousands(u64::from(*nodes))
                )
            }
            EventSpec::ProvisionerSlowdown { factor, duration_secs, .. } => format!(
                "From {when}, for {} min, every node boot takes {factor:.1}× as long: nodes asked for in a surge \
                 come that much later.",
                duration_secs / 60
            ),
            EventSpec::BatchJob { pods, cpu_request_millicores, memory_request_mib, duration_secs, .. } => {
                let priority =
                    scenario.domains.get(self.domain).map_or("?".to_string(), |d| format!("{:?}", d.priority));
                format!(
                    "{domain_name} runs a batch job from {when}: {} pods of {} m CPU and {} MiB each ({} in \
                     all) at {domain_name}'s priority ({priority}), deleted {} min after its start. No autoscaler \
                     scales them; while they run they hold their room.",
                    thousands(u64::from(*pods)),
                    thousands(u64::from(*cpu_request_millicores)),
                    thousands(u64::from(*memory_request_mib)),
                    cores(f64::from(*pods) * f64::from(*cpu_request_millicores)),
                    duration_secs / 60
                )
            }
        }
    }

    pub fn dialog_ui(app: &mut HirlApp, ui: &mut egui::Ui) {
        if !app.inject.open {
            return;
        }
        let mut open = true;
        let mut inject = None;
        let scenario = std::sync::Arc::clone(&app.store.scenario);
        let now = app.store.now_secs;
        // Each pool's nodes now in every run: side by side, the autoscalers have bought different numbers.
        let pool_nodes: Vec<Vec<(String, u32)>> = (0..scenario.pools.len())
            .map(|p| {
                let runs = app.store.runs.iter();
                runs.filter_map(|r| Some((r.policy.clone(), r.latest()?.pools.get(p)?.nodes))).collect()
            })
            .collect();
        // A field being typed into owns Enter (it commits the value) and Escape (it cancels the edit): neither may
        // also inject or close, or typing "20 early" and Enter would send the sale before its summary was read.
        let typing = ui.ctx().text_edit_focused();
        egui::Window::new("Inject an event").open(&mut open).collapsible(false).resizable(false).show(ui.ctx(), |ui| {
            let d = &mut app.inject;
            // The event the settings make: a change to any setting that matters changes it, and clears a refusal.
            let before = d.event(&scenario, now);
            egui::Grid::new("inject-grid").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                ui.label("Event");
                egui::ComboBox::from_id_salt("inject-kind").selected_text(d.kind.name()).show_ui(ui, |ui| {
                    for kind in InjectKind::ALL {
                        ui.selectable_value(&mut d.kind, kind, kind.name()).on_hover_text(kind.about());
                    }
                });
                ui.end_row();
                if d.kind.uses_domain() {
                    let names: Vec<&str> = scenario.domains.iter().map(|x| x.name.as_str()).collect();
                    pick_row(ui, "Domain", &mut d.domain, &names);
                }
                if d.kind.is_surge() {
                    let multiplier = egui::Slider::new(&mut d.multiplier, 1.1..=6.0).suffix("×");
                    row(ui, "Multiplier", "Traffic at the peak, as a multiple of what it would have been", multiplier);
                    let ramp = egui::Slider::new(&mut d.ramp_secs, 5..=1800).suffix(" s");
                    row(ui, "Ramp", "Seconds from normal to the peak (and back at the end)", ramp);
                }
                if d.kind == InjectKind::NodePoolLoss {
                    let names: Vec<&str> = scenario.pools.iter().map(|p| p.name.as_str()).collect();
                    pick_row(ui, "Pool", &mut d.pool, &names);
                    // Up to the pool's nodes now (losing more than it has loses them all).
                    let nodes = pool_nodes.get(d.pool).map(|runs| runs.iter().map(|(_, n)| *n));
                    let most = nodes.and_then(Iterator::max).unwrap_or(1_000).max(1);
                    let lost = egui::Slider::new(&mut d.nodes_lost, 1..=most).logarithmic(true);
                    row(ui, "Nodes lost", "At most the nodes the pool has now (side by side, in the run with more)", lost);
                }
                if d.kind == InjectKind::ProvisionerSlowdown {
                    let factor = egui::Slider::new(&mut d.slowdown_factor, 1.5..=10.0).suffix("× as long");
                    row(ui, "Boots take", "Node boot time, as a multiple of the usual", factor);
                }
                if d.kind == InjectKind::BatchJob {
                    let pods = egui::Slider::new(&mut d.batch_pods, 1..=20_000).logarithmic(true);
                    row(ui, "Pods", "Pods the job creates, all at its start", pods);
                    let cpu = egui::Slider::new(&mut d.batch_cpu_millicores, 100..=8_000).suffix(" m");
                    row(ui, "CPU per pod", "Each pod's CPU request, millicores", cpu);
                    let memory =
                        egui::Slider::new(&mut d.batch_memory_mib, 128..=32_768).logarithmic(true).suffix(" MiB");
                    row(ui, "Memory per pod", "Each pod's memory request", memory);
                }
                if d.kind != InjectKind::NodePoolLoss {
                    let duration = egui::Slider::new(&mut d.duration_mins, 5..=480).suffix(" min");
                    row(
                        ui,
                        "Duration",
                        "How long it lasts (a batch job: from its start, whether its pods are scheduled or still wait)",
                        duration,
                    );
                }
                let starts_in = egui::Slider::new(&mut d.starts_in_mins, 0..=240).suffix(" min");
                row(ui, "Starts in", "Minutes of simulated time from now (0 = at the next tick)", starts_in);
                if d.kind == InjectKind::FlashSale {
                    ui.label("Announced").on_hover_text(
                        "On the business calendar from the moment you inject it: the forecasters and HiRL may use \
                         it. Unannounced, nothing knows it is coming until it lands",
                    );
                    ui.checkbox(&mut d.announced, "on the calendar");
                    ui.end_row();
                    if d.announced {
                        ui.label("Calendar says").on_hover_text(
                            "How the sale's real start compares with the calendar's: on time; N min early (it comes N \
                             minutes before the calendar says, as in the flash-sale-early postmortem); N min late. Type \
                             \"20 early\", \"30 late\" or \"1 h 05 min early\" into the field, or drag",
                        );
                        ui.add(
                            egui::Slider::new(&mut d.calendar_offset_mins, -60..=120)
                                .custom_formatter(|v, _| calendar_offset_label(v))
                                .custom_parser(parse_calendar_offset),
                        );
                        ui.end_row();
                    }
                }
            });
            if d.event(&scenario, now) != before {
                d.refused = None;
            }
            ui.add_space(4.0);
            let nodes = pool_nodes.get(d.pool).map_or(&[][..], Vec::as_slice);
            let summary = d.summary(&scenario, now, |t| app.store.clock_label(t), nodes);
            ui.add(egui::Label::new(egui::RichText::new(summary).weak()).wrap());
            if let Some(why) = &d.refused {
                ui.colored_label(super::theme::SLO, why);
            }
            ui.separator();
            let enter = !typing && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Inject").on_hover_text("Inject it now (Enter); Esc closes").clicked() || enter {
                match d.event(&scenario, now) {
                    Some(event) => {
                        // Checked as it will fire, at the next tick at the earliest (as the session schedules it):
                        // "now" on the run's last tick fires when the run has ended, which the worker refused only
                        // after the dialog had closed.
                        let firing = crate::sim::schedule_from(&event, now + crate::sim::TICK_SECS);
                        let problems = validate_event(&scenario, &firing);
                        if problems.is_empty() {
                            inject = Some(event);
                        } else {
                            let why: Vec<String> = problems
                                .iter()
                                .map(|p| format!("{}: {}", p.path.trim_start_matches('.'), p.message))
                                .collect();
                            d.refused = Some(format!("not injected: {}", why.join("; ")));
                        }
                    }
                    None => d.refused = Some("not injected: pick a domain or pool of this scenario".to_string()),
                }
            }
        });
        if !typing && ui.input(|i| i.key_pressed(egui::Key::Escape)) {
            open = false;
        }
        if let Some(event) = inject {
            app.send(Command::Inject(event));
            open = false;
        }
        app.inject.open = open;
    }
}

/// "on time", "20 min early", "1 h 05 min late": the calendar's offset as the slider shows it, in the event
/// timeline's words ([`short_duration`]).
fn calendar_offset_label(minutes: f64) -> String {
    match minutes.round() as i64 {
        0 => "on time".to_string(),
        n => format!("{} {}", short_duration(n.unsigned_abs() * 60), if n > 0 { "early" } else { "late" }),
    }
}

/// What a user may type into the offset's field: "on time", "20 early", "1 h 05 min late", "1.5 h", or minutes
/// ("-30" is late). A number followed by "h" is hours; any other, minutes.
fn parse_calendar_offset(text: &str) -> Option<f64> {
    let text = text.trim().to_lowercase().replace('−', "-");
    if text.starts_with("on") {
        return Some(0.0);
    }
    let is_number = |c: char| c.is_ascii_digit() || c == '.';
    let (mut minutes, mut rest, mut any) = (0.0, text.as_str(), false);
    while let Some(start) = rest.find(is_number) {
        let number = &rest[start..];
        let len = number.find(|c: char| !is_number(c)).unwrap_or(number.len());
        let value: f64 = number[..len].parse().ok()?;
        rest = number[len..].trim_start();
        minutes += if rest.starts_with('h') { value * 60.0 } else { value };
        any = true;
    }
    let late = text.starts_with('-') || text.contains("late");
    any.then_some(if late { -minutes } else { minutes })
}

/// A grid row: `label` (with `hover`) and its widget.
fn row(ui: &mut egui::Ui, label: &str, hover: &str, widget: impl egui::Widget) {
    ui.label(label).on_hover_text(hover);
    ui.add(widget);
    ui.end_row();
}

/// A grid row: `label`, and a menu choosing one of `names` by index (its own id, from the label).
fn pick_row(ui: &mut egui::Ui, label: &str, chosen: &mut usize, names: &[&str]) {
    ui.label(label);
    egui::ComboBox::from_id_salt(("inject", label)).selected_text(names.get(*chosen).copied().unwrap_or("—")).show_ui(
        ui,
        |ui| {
            for (i, name) in names.iter().enumerate() {
                ui.selectable_value(chosen, i, *name);
            }
        },
    );
    ui.end_row();
}

/// "On the calendar from now for 13:00 (on time). HiRL holds …": an announced sale's calendar in words.
fn announcement(announced_secs: u64, start_secs: u64, now_secs: u64, clock: &impl Fn(u64) -> String) -> String {
    let lead_secs = crate::agents::hirl::HirlConfig::default().announced_lead_secs;
    let mut text = format!("On the calendar from now for {}", clock(announced_secs));
    text.push_str(&match announced_secs.cmp(&start_secs) {
        std::cmp::Ordering::Equal => " (on time)".to_string(),
        std::cmp::Ordering::Greater => format!(", but it comes {} early", short_duration(announced_secs - start_secs)),
        std::cmp::Ordering::Less => format!(", but it comes {} late", short_duration(start_secs - announced_secs)),
    });
    text.push_str(&format!(". HiRL holds the lift warm from {} min before the calendar's start", lead_secs / 60));
    if announced_secs < now_secs + lead_secs {
        text.push_str(": this one is announced with less notice than that, so expect less of its lead");
    }
    text.push('.');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(t: u64) -> String {
        format!("{:02}:{:02}", t / 3600, (t % 3600) / 60)
    }

    fn small() -> Scenario {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        crate::scenario::load_file(&path).expect("small.ron loads")
    }

    fn announced_start(d: &InjectDialog, s: &Scenario, now_secs: u64) -> (u64, Option<u64>) {
        match d.event(s, now_secs) {
            Some(EventSpec::FlashSale { start_secs, announced_start_secs, .. }) => (start_secs, announced_start_secs),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_sale_can_be_unannounced_on_time_early_or_late() {
        let s = small();
        let summary = |d: &InjectDialog| d.summary(&s, 600, clock, &[]);
        let mut d = InjectDialog { starts_in_mins: 90, ..InjectDialog::default() };
        assert_eq!(announced_start(&d, &s, 600), (6_000, None));
        assert!(summary(&d).contains("Unannounced"));

        d.announced = true;
        assert_eq!(announced_start(&d, &s, 600), (6_000, Some(6_000)), "on time");
        let on_time = summary(&d);
        assert!(on_time.contains("for 01:40 (on time)") && on_time.contains("from 01:40 (in 90 min)"), "{on_time}");
        assert!(!on_time.contains("less notice"), "90 minutes' notice is more than HiRL's lead: {on_time}");

        d.calendar_offset_mins = 20;
        assert_eq!(announced_start(&d, &s, 600), (6_000, Some(7_200)), "the calendar says 20 minutes later");
        assert!(summary(&d).contains("comes 20 min early"));

        d.calendar_offset_mins = -30;
        assert_eq!(announced_start(&d, &s, 600), (6_000, Some(4_200)));
        let late = summary(&d);
        assert!(late.contains("comes 30 min late") && !late.contains("less notice"), "an hour's notice: {late}");
        d.calendar_offset_mins = -60;
        let short = summary(&d);
        assert!(short.contains("for 00:40") && short.contains("less notice"), "30 minutes' notice: {short}");

        // The calendar cannot have announced a start before the announcement.
        d.starts_in_mins = 0;
        assert_eq!(announced_start(&d, &s, 600), (600, Some(600)));
    }

    #[test]
    fn the_calendar_offset_reads_and_parses_in_words() {
        assert_eq!(calendar_offset_label(0.0), "on time");
        assert_eq!(calendar_offset_label(20.0), "20 min early");
        assert_eq!(calendar_offset_label(-30.0), "30 min late");
        assert_eq!(calendar_offset_label(65.0), "1 h 05 min early", "as the event timeline writes it");
        for label in ["on time", "20 min early", "30 min late", "1 h 05 min early", "1 h 00 min late"] {
            let parsed = parse_calendar_offset(label).expect(label);
            assert_eq!(calendar_offset_label(parsed), label, "a shown label parses back to itself");
        }
        assert_eq!(parse_calendar_offset("-15"), Some(-15.0));
        assert_eq!(parse_calendar_offset("15 late"), Some(-15.0));
        assert_eq!(parse_calendar_offset("1.5 h early"), Some(90.0));
        assert_eq!(parse_calendar_offset("-1 h 05 min"), Some(-65.0));
        assert_eq!(parse_calendar_offset("soon"), None);
    }

    #[test]
    fn every_kind_makes_an_event_the_scenario_accepts_and_says_what_it_does() {
        let s = small();
        for kind in InjectKind::ALL {
            let d = InjectDialog { kind, starts_in_mins: 10, ..InjectDialog::default() };
            let event = d.event(&s, 600).expect("small.ron has a first domain and pool");
            assert_eq!(event.start_secs(), 1_200, "{kind:?} starts in 10 minutes");
            assert!(validate_event(&s, &event).is_empty(), "{kind:?}: {:?}", validate_event(&s, &event));
            let text = d.summary(&s, 600, clock, &[("hpa".into(), 916)]);
            assert!(text.contains("00:20 (in 10 min)"), "{kind:?}: {text}");
        }
        let loss = InjectDialog { kind: InjectKind::NodePoolLoss, ..InjectDialog::default() };
        let text = loss.summary(&s, 600, clock, &[("hpa".into(), 916)]);
        assert!(text.starts_with(&format!("{} loses 40 of its 916 nodes now", s.pools[0].name)), "{text}");
        // Side by side, each run's count when they differ.
        let text = loss.summary(&s, 600, clock, &[("hpa".into(), 1_651), ("hirl".into(), 1_598)]);
        assert!(
            text.starts_with(&format!(
                "{} loses 40 of its nodes now (1,651 under hpa, 1,598 under hirl)",
                s.pools[0].name
            )),
            "{text}"
        );
        let text = loss.summary(&s, 600, clock, &[("hpa".into(), 916), ("hirl".into(), 916)]);
        assert!(text.contains("40 of its 916 nodes now"), "{text}");
        let job = InjectDialog { kind: InjectKind::BatchJob, domain: 1, ..InjectDialog::default() };
        let text = job.summary(&s, 600, clock, &[]);
        assert!(text.contains("2,000 pods of 1,000 m CPU and 2,048 MiB each (2,000 cores in all)"), "{text}");
        assert!(text.contains(&format!("({:?})", s.domains[1].priority)), "{text}");
    }

    #[test]
    fn an_event_the_scenario_refuses_is_caught_before_it_is_sent() {
        let s = small();
        // Starting after the run ends: the scenario's own check names the field.
        let minutes_left = (s.duration_secs - 600) / 60;
        let d = InjectDialog { kind: InjectKind::Spike, starts_in_mins: minutes_left + 5, ..InjectDialog::default() };
        let event = d.event(&s, 600).expect("an event");
        let problems = validate_event(&s, &event);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].path.contains("start_secs") && problems[0].message.contains("after the run ends"));
        // A domain the scenario lacks makes no event at all.
        let none = InjectDialog { domain: 99, ..InjectDialog::default() };
        assert_eq!(none.event(&s, 600), None);
        assert!(none.summary(&s, 600, clock, &[]).starts_with("Pick a domain"));
    }
}
