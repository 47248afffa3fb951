//! Colours that mean the same thing in every panel.

use egui::Color32;

/// One colour per domain, in scenario order (colour-blind-safe Okabe–Ito hues).
const DOMAIN_COLOURS: [Color32; 8] = [
    Color32::from_rgb(230, 159, 0),   // orange
    Color32::from_rgb(86, 180, 233),  // sky blue
    Color32::from_rgb(0, 158, 115),   // green
    Color32::from_rgb(204, 121, 167), // purple
    Color32::from_rgb(240, 228, 66),  // yellow
    Color32::from_rgb(0, 114, 178),   // blue
    Color32::from_rgb(213, 94, 0),    // vermillion
    Color32::from_rgb(150, 150, 150), // grey
];

pub fn domain_colour(domain: usize) -> Color32 {
    DOMAIN_COLOURS[domain % DOMAIN_COLOURS.len()]
}

/// The reserve pool.
pub const RESERVE: Color32 = Color32::from_rgb(160, 160, 160);
/// SLO lines and breaches.
pub const SLO: Color32 = Color32::from_rgb(220, 50, 47);
/// The "now" line.
pub const NOW: Color32 = Color32::from_rgb(120, 120, 255);

/// What held a breach (the "what held the breaches" panel and its legend).
pub fn cause_colour(cause: crate::sim::breach_cause::BreachCause) -> Color32 {
    use crate::sim::breach_cause::BreachCause;
    match cause {
        BreachCause::NotScaled => Color32::from_rgb(170, 170, 170),
        BreachCause::HeldBack => Color32::from_rgb(0, 158, 115),
        BreachCause::WaitingForRoom => Color32::from_rgb(213, 94, 0),
        BreachCause::PodsStarting => Color32::from_rgb(0, 114, 178),
        BreachCause::Callee => Color32::from_rgb(148, 103, 189),
    }
}
