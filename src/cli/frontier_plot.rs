//! The SVG chart of `eval frontier`: each setting's P0+P1 breach minutes against its node-hours, both as a change
//! against HPA, with the box the issue's two targets leave (P0+P1 ≤ −75%, node-hours ≤ HPA's) shaded and the
//! frontier drawn through the settings no other beats on both. Plain SVG 1.1 text, no fonts or scripts; the same
//! rows give the same bytes.

use std::fmt::Write as _;

use crate::agents::hirl::frontier::{FrontierRow, Lever, P0_P1_TARGET_PCT};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 520.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 46.0;
const BOTTOM: f64 = 92.0;
/// Rough advance of one character at the labels' 11 px (for keeping labels apart).
const CHAR_PX: f64 = 6.3;

const FLOOR_COLOUR: &str = "#1f6fb4";
const RESERVE_COLOUR: &str = "#d9660b";
const SHIPPED_COLOUR: &str = "#111111";

/// A "nice" tick step (1, 2 or 5 × 10ᵏ) giving about `count` ticks over `span`.
fn tick_step(span: f64, count: f64) -> f64 {
    let raw = (span / count).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The axis range `[lo, hi]` holding every value and `must` (a target line), padded, on tick boundaries.
fn range(values: impl Iterator<Item = f64>, must: f64) -> (f64, f64, f64) {
    let (mut lo, mut hi) = values.filter(|v| v.is_finite()).fold((must, must), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((hi - lo) * 0.08).max(1.0);
    lo -= pad;
    hi += pad;
    let step = tick_step(hi - lo, 6.0);
    ((lo / step).floor() * step, (hi / step).ceil() * step, step)
}

struct Axes {
    x: (f64, f64),
    y: (f64, f64),
}

impl Axes {
    fn px(&self, x_pct: f64) -> f64 {
        LEFT + (x_pct - self.x.0) / (self.x.1 - self.x.0) * (WIDTH - LEFT - RIGHT)
    }

    fn py(&self, y_pct: f64) -> f64 {
        TOP + (self.y.1 - y_pct) / (self.y.1 - self.y.0) * (HEIGHT - TOP - BOTTOM)
    }
}

fn marker(svg: &mut String, lever: &Lever, x: f64, y: f64) {
    let _ = match lever {
        Lever::Shipped => writeln!(
            svg,
            r#"<path d="M{x:.1} {:.1} L{:.1} {y:.1} L{x:.1} {:.1} L{:.1} {y:.1} Z" fill="{SHIPPED_COLOUR}"/>"#,
            y - 7.0,
            x + 7.0,
            y + 7.0,
            x - 7.0
        ),
        Lever::SizeFloor(_) => writeln!(svg, r#"<circle cx="{x:.1}" cy="{y:.1}" r="5" fill="{FLOOR_COLOUR}"/>"#),
        Lever::WarmReserve(_) => writeln!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{RESERVE_COLOUR}"/>"#,
            x - 5.0,
            y - 5.0
        ),
    };
}

/// The chart of `rows` (non-finite changes are left out), titled `title`.
pub fn svg(rows: &[FrontierRow], title: &str) -> String {
    let pts: Vec<(&FrontierRow, f64, f64)> = rows
        .iter()
        .map(|r| (r, r.node_hours_change * 100.0, r.p0_p1_change * 100.0))
        .filter(|(_, x, y)| x.is_finite() && y.is_finite())
        .collect();
    let (x_lo, x_hi, x_step) = range(pts.iter().map(|p| p.1), 0.0);
    let (y_lo, y_hi, y_step) = range(pts.iter().map(|p| p.2), P0_P1_TARGET_PCT);
    let axes = Axes { x: (x_lo, x_hi), y: (y_lo, y_hi) };
    let (plot_left, plot_right, plot_top, plot_bottom) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="22" font-size="13" font-weight="bold">{}</text>"#, escape(title));
    // The target box: left of HPA's node-hours, below −75% P0+P1.
    let (bx0, bx1) = (axes.px(x_lo), axes.px(0.0));
    let (by0, by1) = (axes.py(P0_P1_TARGET_PCT), axes.py(y_lo));
    let _ = writeln!(
        svg,
        r##"<rect x="{bx0:.1}" y="{by0:.1}" width="{:.1}" height="{:.1}" fill="#dff2dc"/>"##,
        (bx1 - bx0).max(0.0),
        (by1 - by0).max(0.0)
    );
    let _ =
        writeln!(svg, r##"<text x="{:.1}" y="{:.1}" fill="#2e7d32">both targets met</text>"##, bx0 + 6.0, by1 - 6.0);
    // Grid and ticks.
    let mut x = x_lo;
    while x <= x_hi + x_step * 1e-6 {
        let px = axes.px(x);
        let _ = writeln!(
            svg,
            r##"<line x1="{px:.1}" y1="{plot_top}" x2="{px:.1}" y2="{plot_bottom}" stroke="#eeeeee"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            plot_bottom + 16.0,
            tick_label(x)
        );
        x += x_step;
    }
    let mut y = y_lo;
    while y <= y_hi + y_step * 1e-6 {
        let py = axes.py(y);
        let _ = writeln!(
            svg,
            r##"<line x1="{plot_left}" y1="{py:.1}" x2="{plot_right}" y2="{py:.1}" stroke="#eeeeee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            plot_left - 6.0,
            py + 4.0,
            tick_label(y)
        );
        y += y_step;
    }
    // The target lines.
    let (zx, ty) = (axes.px(0.0), axes.py(P0_P1_TARGET_PCT));
    let _ = writeln!(
        svg,
        r##"<line x1="{zx:.1}" y1="{plot_top}" x2="{zx:.1}" y2="{plot_bottom}" stroke="#555555" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" fill="#555555">HPA's node-hours</text>"##,
        zx + 4.0,
        plot_top + 12.0
    );
    let _ = writeln!(
        svg,
        r##"<line x1="{plot_left}" y1="{ty:.1}" x2="{plot_right}" y2="{ty:.1}" stroke="#555555" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#555555">P0+P1 target −75%</text>"##,
        plot_right - 4.0,
        ty - 5.0
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{plot_left}" y="{plot_top}" width="{:.1}" height="{:.1}" fill="none" stroke="#999999"/>"##,
        plot_right - plot_left,
        plot_bottom - plot_top
    );
    // The frontier, left to right.
    let mut frontier: Vec<(f64, f64)> =
        pts.iter().filter(|p| p.0.on_frontier).map(|p| (axes.px(p.1), axes.py(p.2))).collect();
    frontier.sort_by(|a, b| a.0.total_cmp(&b.0));
    if frontier.len() > 1 {
        let path: Vec<String> = frontier.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let _ = writeln!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#777777" stroke-width="1.5" stroke-dasharray="6 4"/>"##,
            path.join(" ")
        );
    }
    // Points and their labels, each label placed where it overlaps no earlier one.
    let mut placed: Vec<(f64, f64, f64, f64)> = Vec::new();
    for (row, x, y) in &pts {
        let (px, py) = (axes.px(*x), axes.py(*y));
        marker(&mut svg, &row.lever, px, py);
        let text = row.lever.point_label();
        let w = text.chars().count() as f64 * CHAR_PX;
        let candidates = [(9.0, 4.0), (9.0, -9.0), (9.0, 17.0), (-9.0 - w, 4.0), (-9.0 - w, -9.0), (-9.0 - w, 17.0)];
        let fits = |(dx, dy): (f64, f64)| {
            let (x0, y0) = (px + dx, py + dy - 10.0);
            let inside = x0 >= plot_left && x0 + w <= plot_right && y0 >= plot_top && y0 + 12.0 <= plot_bottom;
            inside && !placed.iter().any(|&(a, b, c, d)| x0 < c && x0 + w > a && y0 < d && y0 + 12.0 > b)
        };
        let (dx, dy) = candidates.iter().copied().find(|&c| fits(c)).unwrap_or(candidates[0]);
        placed.push((px + dx, py + dy - 10.0, px + dx + w, py + dy + 2.0));
        // A white halo keeps the label readable where the frontier line crosses it.
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" stroke="white" stroke-width="3" paint-order="stroke">{}</text>"#,
            px + dx,
            py + dy,
            escape(text)
        );
    }
    // Axis titles and the legend.
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">node-hours against HPA (cost target: no higher)</text>"#,
        (plot_left + plot_right) / 2.0,
        plot_bottom + 34.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">P0+P1 SLO-breach minutes against HPA</text>"#,
        (plot_top + plot_bottom) / 2.0
    );
    let ly = HEIGHT - 22.0;
    let mut lx = LEFT;
    for lever in [Lever::Shipped, Lever::SizeFloor(String::new()), Lever::WarmReserve(String::new())] {
        let text = lever.kind_name();
        marker(&mut svg, &lever, lx + 5.0, ly - 4.0);
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{ly:.1}">{text}</text>"#, lx + 16.0);
        lx += 28.0 + text.chars().count() as f64 * CHAR_PX;
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#777777" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{:.1}" y="{ly:.1}">frontier</text>"##,
        ly - 4.0,
        lx + 24.0,
        ly - 4.0,
        lx + 30.0
    );
    svg.push_str("</svg>\n");
    svg
}

/// A tick's percentage without float noise (−75.00000000001 → "−75%"), signed with a true minus, 0 unsigned.
fn tick_label(v: f64) -> String {
    let r = (v * 1000.0).round() / 1000.0;
    if r == 0.0 {
        "0%".to_string()
    } else if r < 0.0 {
        format!("−{}%", -r)
    } else {
        format!("+{r}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SuiteTotals;

    fn row(lever: Lever, p0_p1_change: f64, node_hours_change: f64, on_frontier: bool) -> FrontierRow {
        FrontierRow {
            setting: lever.label(),
            lever,
            totals: SuiteTotals::default(),
            p0_p1_change,
            node_hours_change,
            on_frontier,
            missed: Vec::new(),
            p0_p1_change_by_seed: Vec::new(),
        }
    }

    #[test]
    fn tick_labels_carry_a_true_minus_and_no_float_noise() {
        assert_eq!(tick_label(-75.000000000001), "−75%");
        assert_eq!(tick_label(-0.0000001), "0%");
        assert_eq!(tick_label(2.5), "+2.5%");
    }

    #[test]
    fn ticks_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(tick_step(30.0, 6.0), 5.0);
        assert_eq!(tick_step(9.0, 6.0), 2.0);
        assert_eq!(tick_step(0.5, 6.0), 0.1);
        assert_eq!(tick_step(600.0, 6.0), 100.0);
    }

    #[test]
    fn the_chart_has_a_marker_per_setting_the_target_box_and_the_frontier() {
        let rows = vec![
            row(Lever::Shipped, -0.734, -0.010, true),
            row(Lever::SizeFloor("P0=1.03".into()), -0.763, 0.039, true),
            row(Lever::WarmReserve("shared-general=0.3".into()), -0.754, 0.143, false),
            row(Lever::SizeFloor("P0=9".into()), f64::INFINITY, 0.0, false),
        ];
        let svg = svg(&rows, "hirl <against> hpa");
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("hirl &lt;against&gt; hpa"), "the title is escaped");
        // Three plotted points plus one legend marker of each kind; the non-finite row is left out.
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
        assert_eq!(svg.matches(r#"width="10" height="10""#).count(), 2);
        assert!(svg.contains(">P0=1.03<") && svg.contains(">shared-general=0.3<") && !svg.contains(">P0=9<"), "{svg}");
        assert!(svg.contains("both targets met") && svg.contains("P0+P1 target −75%"));
        assert_eq!(svg.matches("<polyline").count(), 1, "one frontier through two points");
        assert_eq!(svg, super::svg(&rows, "hirl <against> hpa"), "same rows, same bytes");
    }
}
