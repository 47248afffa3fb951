//! The flash-sale dialog: domain, multiplier, ramp, duration, start (now or later), announced or not.

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
    /// Announce it this many minutes before it really starts (0 = unannounced).
    announced_lead_mins: u64,
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
            announced_lead_mins: 0,
        }
    }
}

impl FlashSaleDialog {
    /// The event the dialog describes, at simulated time `now_secs`.
    pub fn event(&self, domain_id: &str, now_secs: u64) -> EventSpec {
        let start = now_secs + self.starts_in_mins * 60;
        EventSpec::FlashSale {
            domain: domain_id.to_string(),
            announced_start_secs: (self.announced_lead_mins > 0).then_some(start + self.announced_lead_mins * 60),
            start_secs: start,
            ramp_secs: self.ramp_secs,
            multiplier: self.multiplier,
            duration_secs: (self.duration_mins * 60).max(2 * self.ramp_secs),
        }
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
                    ui.label("Announced for").on_hover_text(
                        "How much later the calendar said it would start (0 = unannounced); forecasters may know it",
                    );
                    ui.add(egui::Slider::new(&mut d.announced_lead_mins, 0..=120).prefix("+").suffix(" min"));
                    ui.end_row();
                });
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
