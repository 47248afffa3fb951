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

/// The same hues, darker, for the light theme: yellow, sky blue and orange are at 1.3–2.2:1 against a white panel,
/// unreadable as the domain names in every table. Each of these is at least 4.5:1 there (the unit test checks).
const DOMAIN_COLOURS_LIGHT: [Color32; 8] = [
    Color32::from_rgb(168, 92, 0),    // orange
    Color32::from_rgb(0, 112, 170),   // sky blue
    Color32::from_rgb(0, 122, 88),    // green
    Color32::from_rgb(166, 68, 128),  // purple
    Color32::from_rgb(122, 112, 0),   // yellow (olive, the darkest yellow that still reads as one)
    Color32::from_rgb(60, 70, 160),   // blue (indigo, apart from the sky blue)
    Color32::from_rgb(180, 66, 0),    // vermillion
    Color32::from_rgb(100, 100, 100), // grey
];

/// A domain's colour in the window's theme (`ui.visuals().dark_mode`).
pub fn domain_colour(domain: usize, dark_mode: bool) -> Color32 {
    let palette = if dark_mode { &DOMAIN_COLOURS } else { &DOMAIN_COLOURS_LIGHT };
    palette[domain % palette.len()]
}

/// How many domains a scenario has: the Commander's six-way split is five domains and the reserve.
const SCENARIO_DOMAINS: usize = 5;

/// A node pool's line, in the theme: the palette's hues that no domain of a five-domain scenario takes (blue,
/// vermillion), then the text's neutral. Left to egui_plot, pools took its own hues in order, and two of them were
/// the green and blue that mean merchant and fraud everywhere else. A fourth pool repeats the first's colour; the
/// pools panel dashes it.
pub fn pool_colour(pool: usize, dark_mode: bool) -> Color32 {
    let palette = if dark_mode { &DOMAIN_COLOURS } else { &DOMAIN_COLOURS_LIGHT };
    let neutral = if dark_mode { Color32::from_gray(215) } else { Color32::from_gray(40) };
    match pool % POOL_COLOURS {
        0 => palette[SCENARIO_DOMAINS],
        1 => palette[SCENARIO_DOMAINS + 1],
        _ => neutral,
    }
}

/// How many pools have a colour of their own before [`pool_colour`] repeats.
pub const POOL_COLOURS: usize = 3;

/// The reserve pool.
pub const RESERVE: Color32 = Color32::from_rgb(160, 160, 160);
/// The provisioner's nodes booting and queued and its API calls, told apart by their dashes: the reserve's grey, as
/// the pools plot has no reserve line.
pub const PROVISIONER: Color32 = RESERVE;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG contrast ratio of two colours.
    fn contrast(a: Color32, b: Color32) -> f64 {
        let luminance = |c: Color32| {
            let channel = |v: u8| {
                let v = f64::from(v) / 255.0;
                if v <= 0.039_28 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
            };
            0.2126 * channel(c.r()) + 0.7152 * channel(c.g()) + 0.0722 * channel(c.b())
        };
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn domain_names_read_on_either_theme() {
        let light = egui::Visuals::light();
        let dark = egui::Visuals::dark();
        for d in 0..5 {
            // Text contrast (WCAG AA) on the light theme's panels, for the five domains a scenario has.
            let on_light = contrast(domain_colour(d, false), light.panel_fill);
            assert!(on_light >= 4.5, "domain {d} on the light theme: {on_light:.2}:1");
            let on_dark = contrast(domain_colour(d, true), dark.panel_fill);
            assert!(on_dark >= 4.5, "domain {d} on the dark theme: {on_dark:.2}:1");
        }
        // The light palette was needed: the dark theme's yellow on a light panel is unreadable.
        assert!(contrast(domain_colour(4, true), light.panel_fill) < 1.5);
    }

    #[test]
    fn pools_take_no_domains_colour() {
        for dark_mode in [false, true] {
            let pools: Vec<Color32> = (0..POOL_COLOURS).map(|p| pool_colour(p, dark_mode)).collect();
            for (p, colour) in pools.iter().enumerate() {
                for d in 0..SCENARIO_DOMAINS {
                    assert_ne!(*colour, domain_colour(d, dark_mode), "pool {p} has domain {d}'s colour");
                }
                assert!(!pools[..p].contains(colour), "pool {p} repeats an earlier pool's colour");
                assert_ne!(*colour, RESERVE, "pool {p} looks like the reserve");
            }
            assert_eq!(pool_colour(POOL_COLOURS, dark_mode), pools[0], "the fourth pool repeats the first's colour");
        }
    }
}
