//! The flash-sale dialog: domain, multiplier, ramp, duration, start (now or later), announced or not (and, if
//! announced, whether it comes on time, early or late against the calendar), and the event in words before it is
//! injected.

use crate::runner::Command;
use crate::scenario::EventSpec;

use super::HirlApp;

pub struct FlashSaleDialog {
    pub open: bool,
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
}

impl Default for FlashSaleDialog {
    fn default() -> Self {
        Self {
            open: false,
            domain: 0,
            multiplier: 2.0,
            ramp_secs: 45,
            duration_mins: 60,
            starts_in_mins: 0,
            announced: false,
            calendar_offset_mins: 0,
        }
    }
}

impl FlashSaleDialog {
    /// The event the dialog describes, at simulated time `now_secs`.
    pub fn event(&self, domain_id: &str, now_secs: u64) -> EventSpec {
        let start = now_secs + self.starts_in_mins * 60;
        EventSpec::FlashSale {
            domain: domain_id.to_string(),
            announced_start_secs: self
                .announced
                .then(|| start.saturating_add_signed(self.calendar_offset_mins * 60).max(now_secs)),
            start_secs: start,
            ramp_secs: self.ramp_secs,
            multiplier: self.multiplier,
            duration_secs: (self.duration_mins * 60).max(2 * self.ramp_secs),
        }
    }

    /// The event in words, with the wall-clock times the scenario's clock gives: what the user is about to inject.
    pub fn summary(&self, domain_name: &str, now_secs: u64, clock: impl Fn(u64) -> String) -> String {
        let EventSpec::FlashSale { announced_start_secs, start_secs, duration_secs, .. } = self.event("", now_secs)
        else {
            unreachable!("the dialog makes flash sales");
        };
        let when = if self.starts_in_mins == 0 {
            "now".to_string()
        } else {
            format!("{} (in {} min)", clock(start_secs), self.starts_in_mins)
        };
        let mut text = format!(
            "{domain_name}: traffic ×{:.2} from {when}, reaching it over {} s, for {} min. ",
            self.multiplier,
            self.ramp_secs,
            duration_secs / 60
        );
        match announced_start_secs {
            None => text.push_str("Unannounced: nothing knows it is coming until it lands."),
            Some(a) => {
                let lead_secs = crate::agents::hirl::HirlConfig::default().announced_lead_secs;
                text.push_str(&format!("On the calendar from now for {}", clock(a)));
                text.push_str(&match a.cmp(&start_secs) {
                    std::cmp::Ordering::Equal => " (on time)".to_string(),
                    std::cmp::Ordering::Greater => format!(", but it comes {} min early", (a - start_secs) / 60),
                    std::cmp::Ordering::Less => format!(", but it comes {} min late", (start_secs - a) / 60),
                });
                text.push_str(&format!(
                    ". HiRL holds the lift warm from {} min before the calendar's start",
                    lead_secs / 60
                ));
                if a < now_secs + lead_secs {
                    text.push_str(": this one is announced with less notice than that, so expect less of its lead");
                }
                text.push('.');
            }
        }
        text
    }

    pub fn dialog_ui(app: &mut HirlApp, ui: &mut egui::Ui) {
        if !app.flash_sale.open {
            return;
        }
        let mut open = true;
        let mut inject = None;
        let domains: Vec<(String, String)> =
            app.store.scenario.domains.iter().map(|d| (d.id.clone(), d.name.clone())).collect();
        let now = app.store.now_secs;
        egui::Window::new("Inject a flash sale").open(&mut open).collapsible(false).resizable(false).show(
            ui.ctx(),
            |ui| {
                let d = &mut app.flash_sale;
                egui::Grid::new("flash-sale-grid").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                    ui.label("Domain");
                    egui::ComboBox::from_id_salt("flash-domain")
                        .selected_text(domains.get(d.domain).map_or("—", |x| x.1.as_str()))
                        .show_ui(ui, |ui| {
                            for (i, (_, name)) in domains.iter().enumerate() {
                                ui.selectable_value(&mut d.domain, i, name);
                            }
                        });
                    ui.end_row();
                    ui.label("Multiplier")
                        .on_hover_text("Traffic at the peak, as a multiple of what it would have been");
                    ui.add(egui::Slider::new(&mut d.multiplier, 1.1..=6.0).suffix("×"));
                    ui.end_row();
                    ui.label("Ramp").on_hover_text("Seconds from normal to the peak (and back at the end)");
                    ui.add(egui::Slider::new(&mut d.ramp_secs, 5..=1800).suffix(" s"));
                    ui.end_row();
                    ui.label("Duration");
                    ui.add(egui::Slider::new(&mut d.duration_mins, 5..=480).suffix(" min"));
                    ui.end_row();
                    ui.label("Starts in").on_hover_text("Minutes of simulated time from now (0 = at the next tick)");
                    ui.add(egui::Slider::new(&mut d.starts_in_mins, 0..=240).suffix(" min"));
                    ui.end_row();
                    ui.label("Announced").on_hover_text(
                        "On the business calendar from the moment you inject it: the forecasters and HiRL may use \
                         it. Unannounced, nothing knows it is coming until it lands",
                    );
                    ui.checkbox(&mut d.announced, "on the calendar");
                    ui.end_row();
                    if d.announced {
                        ui.label("Calendar says").on_hover_text(
                            "When the calendar says it starts, against when it really does: 0 on time; +N it comes \
                             N minutes before the calendar says (the flash-sale-early postmortem); −N it comes late",
                        );
                        ui.add(egui::Slider::new(&mut d.calendar_offset_mins, -60..=120).suffix(" min"));
                        ui.end_row();
                    }
                });
                ui.add_space(4.0);
                let name = domains.get(d.domain).map_or("—", |x| x.1.as_str());
                let summary = d.summary(name, now, |t| app.store.clock_label(t));
                ui.add(egui::Label::new(egui::RichText::new(summary).weak()).wrap());
                ui.separator();
                let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
                if (ui.button("Inject").on_hover_text("Inject it now (Enter); Esc closes").clicked() || enter)
                    && let Some((id, _)) = domains.get(d.domain)
                {
                    inject = Some(d.event(id, now));
                }
            },
        );
        if ui.input(|i| i.key_pressed(egui::Key::Escape)) {
            open = false;
        }
        if let Some(event) = inject {
            app.send(Command::Inject(event));
            open = false;
        }
        app.flash_sale.open = open;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(t: u64) -> String {
        format!("{:02}:{:02}", t / 3600, (t % 3600) / 60)
    }

    fn announced_start(d: &FlashSaleDialog, now_secs: u64) -> (u64, Option<u64>) {
        match d.event("payment", now_secs) {
            EventSpec::FlashSale { start_secs, announced_start_secs, .. } => (start_secs, announced_start_secs),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_sale_can_be_unannounced_on_time_early_or_late() {
        let mut d = FlashSaleDialog { starts_in_mins: 90, ..FlashSaleDialog::default() };
        assert_eq!(announced_start(&d, 600), (6_000, None));
        assert!(d.summary("Payment", 600, clock).contains("Unannounced"));

        d.announced = true;
        assert_eq!(announced_start(&d, 600), (6_000, Some(6_000)), "on time");
        let on_time = d.summary("Payment", 600, clock);
        assert!(on_time.contains("for 01:40 (on time)") && on_time.contains("from 01:40 (in 90 min)"), "{on_time}");
        assert!(!on_time.contains("less notice"), "90 minutes' notice is more than HiRL's lead: {on_time}");

        d.calendar_offset_mins = 20;
        assert_eq!(announced_start(&d, 600), (6_000, Some(7_200)), "the calendar says 20 minutes later");
        assert!(d.summary("Payment", 600, clock).contains("comes 20 min early"));

        d.calendar_offset_mins = -30;
        assert_eq!(announced_start(&d, 600), (6_000, Some(4_200)));
        let late = d.summary("Payment", 600, clock);
        assert!(late.contains("comes 30 min late") && !late.contains("less notice"), "an hour's notice: {late}");
        d.calendar_offset_mins = -60;
        let short = d.summary("Payment", 600, clock);
        assert!(short.contains("for 00:40") && short.contains("less notice"), "30 minutes' notice: {short}");

        // The calendar cannot have announced a start before the announcement.
        d.starts_in_mins = 0;
        assert_eq!(announced_start(&d, 600), (600, Some(600)));
    }
}
