//! A time plot's line, solid or dashed, where a dashed line costs about what a solid one does.
//!
//! egui_plot's own dashed style emits one line segment for every polyline vertex a dash spans. Time series are
//! plotted with a point every 2.5 screen points, so a 10-point dash was four shapes to tessellate, and the budgets
//! plot's five "used" lines alone made ~1,800 of them a frame. [`StyledLine::dashed`] draws the same dashes as one
//! path per dash, joined at its vertices as a solid line is.
//!
//! Contract: everything but the stroke's pattern — legend entry, id, bounds, hover, highlight, the value extent
//! [`super::SharedY`] records — is the wrapped [`Line`]'s. Dash and gap lengths are in screen points; the gap is
//! egui_plot's, 0.618 of the dash.

use std::ops::RangeInclusive;

use egui::epaint::PathShape;
use egui::{Color32, Pos2, Shape, Ui};
use egui_plot::{
    ClosestElem, Cursor, LabelFormatterFn, Line, LineStyle, PlotBounds, PlotConfig, PlotGeometry, PlotItem,
    PlotItemBase, PlotTransform,
};

/// egui_plot's gap between dashes, as a share of the dash (the golden ratio's).
const GAP_PER_DASH: f32 = std::f32::consts::GOLDEN_RATIO - 1.0;

/// Dashes of the time plots' secondary lines ("used", "starting", a forecast's p80), in screen points.
pub const DASH_PTS: f32 = 10.0;

/// Shorter dashes, where a plot tells two dashed patterns apart (the pools plot's booting nodes).
pub const SHORT_DASH_PTS: f32 = 5.0;

/// A [`Line`] drawn solid, or dashed with one path per dash.
pub struct StyledLine<'a> {
    line: Line<'a>,
    /// `None`: solid.
    dash_pts: Option<f32>,
}

impl<'a> StyledLine<'a> {
    /// `line` dashed, `dash_pts` long dashes (a style set on `line` is replaced).
    pub fn dashed(line: Line<'a>, dash_pts: f32) -> Self {
        // Solid and without egui_plot's bands, so that its shapes are the polylines this cuts into dashes.
        Self { line: line.style(LineStyle::Solid).allow_band(false), dash_pts: Some(dash_pts) }
    }
}

impl<'a> From<Line<'a>> for StyledLine<'a> {
    fn from(line: Line<'a>) -> Self {
        Self { line, dash_pts: None }
    }
}

impl PlotItem for StyledLine<'_> {
    fn shapes(&self, ui: &Ui, transform: &PlotTransform, shapes: &mut Vec<Shape>) {
        let Some(dash_pts) = self.dash_pts else {
            PlotItem::shapes(&self.line, ui, transform, shapes);
            return;
        };
        let mut solid = Vec::new();
        PlotItem::shapes(&self.line, ui, transform, &mut solid);
        for shape in solid {
            match shape {
                Shape::Path(path) if !path.closed && path.fill == Color32::TRANSPARENT => {
                    for dash in dashes(&path.points, dash_pts, dash_pts * GAP_PER_DASH) {
                        shapes.push(Shape::Path(PathShape::line(dash, path.stroke.clone())));
                    }
                }
                // A run of one point is a dot; anything else is drawn as the line drew it.
                other => shapes.push(other),
            }
        }
    }

    fn initialize(&mut self, x_range: RangeInclusive<f64>) {
        PlotItem::initialize(&mut self.line, x_range);
    }

    fn color(&self) -> Color32 {
        PlotItem::color(&self.line)
    }

    fn geometry(&self) -> PlotGeometry<'_> {
        PlotItem::geometry(&self.line)
    }

    fn bounds(&self) -> PlotBounds {
        PlotItem::bounds(&self.line)
    }

    fn base(&self) -> &PlotItemBase {
        PlotItem::base(&self.line)
    }

    fn base_mut(&mut self) -> &mut PlotItemBase {
        PlotItem::base_mut(&mut self.line)
    }

    fn find_closest(&self, point: Pos2, transform: &PlotTransform) -> Option<ClosestElem> {
        PlotItem::find_closest(&self.line, point, transform)
    }

    fn on_hover(
        &self,
        plot_area_response: &egui::Response,
        elem: ClosestElem,
        shapes: &mut Vec<Shape>,
        cursors: &mut Vec<Cursor>,
        plot: &PlotConfig<'_>,
        label_formatter: Option<&LabelFormatterFn<'_>>,
    ) {
        PlotItem::on_hover(&self.line, plot_area_response, elem, shapes, cursors, plot, label_formatter);
    }
}

/// The dashes along the polyline `points`, each the polyline's own points between its two ends: `dash_pts` drawn,
/// `gap_pts` left out, from the first point on. A dash cut short by the polyline's end is kept if it has length.
fn dashes(points: &[Pos2], dash_pts: f32, gap_pts: f32) -> Vec<Vec<Pos2>> {
    let mut out = Vec::new();
    // Every length below is then finite, so each step of the walk moves on.
    let finite = |v: f32| v.is_finite();
    if !(dash_pts > 0.0 && gap_pts >= 0.0 && finite(dash_pts) && finite(gap_pts))
        || points.len() < 2
        || points.iter().any(|p| !(finite(p.x) && finite(p.y)))
    {
        return out;
    }
    let mut current: Vec<Pos2> = vec![points[0]];
    let mut drawing = true;
    // What is left of the dash or gap under way, in points.
    let mut left = dash_pts;
    for pair in points.windows(2) {
        let (mut from, to) = (pair[0], pair[1]);
        loop {
            let length = from.distance(to);
            if length <= left {
                left -= length;
                if drawing && current.last() != Some(&to) {
                    current.push(to);
                }
                break;
            }
            // The dash under way ends here, or the next one starts here.
            let at = from + (to - from) * (left / length);
            current.push(at);
            if drawing {
                out.push(std::mem::take(&mut current));
                left = gap_pts;
            } else {
                left = dash_pts;
            }
            drawing = !drawing;
            from = at;
        }
    }
    if drawing && current.len() >= 2 {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use egui::pos2;

    use super::*;

    fn length(dash: &[Pos2]) -> f32 {
        dash.windows(2).map(|w| w[0].distance(w[1])).sum()
    }

    #[test]
    fn a_straight_line_is_cut_into_dashes_and_gaps_of_the_lengths_asked() {
        let dashes = dashes(&[pos2(0.0, 0.0), pos2(100.0, 0.0)], 10.0, 5.0);
        // 0–10, 15–25, … 90–100: seven dashes, the last ending with the line.
        assert_eq!(dashes.len(), 7);
        assert!(dashes.iter().all(|d| d.len() == 2 && (length(d) - 10.0).abs() < 1e-4), "{dashes:?}");
        assert!((dashes[1][0].x - 15.0).abs() < 1e-4 && (dashes[6][1].x - 100.0).abs() < 1e-4, "{dashes:?}");
    }

    #[test]
    fn a_dash_over_several_vertices_is_one_path_through_them() {
        // A vertex every 2.5 points, as time series are plotted: a 10-point dash spans four of them.
        let points: Vec<Pos2> = (0..=40).map(|i| pos2(i as f32 * 2.5, if i % 2 == 0 { 0.0 } else { 1.0 })).collect();
        let dashes = dashes(&points, 10.0, 6.18);
        let polyline = length(&points);
        let drawn: f32 = dashes.iter().map(|d| length(d)).sum();
        // Every dash but a last one cut short is 10 points along the polyline, through its vertices.
        assert!(dashes[..dashes.len() - 1].iter().all(|d| (length(d) - 10.0).abs() < 1e-3), "{dashes:?}");
        assert!(dashes[0].len() > 4, "the first dash keeps the vertices it passes: {:?}", dashes[0]);
        let period = 10.0 + 6.18;
        let expected = (polyline / period).floor() * 10.0 + (polyline % period).min(10.0);
        assert!((drawn - expected).abs() < 1e-2, "{drawn} drawn of {polyline}, expected {expected}");
    }

    #[test]
    fn nothing_to_dash_gives_no_dashes() {
        assert!(dashes(&[pos2(1.0, 1.0)], 10.0, 5.0).is_empty());
        assert!(dashes(&[pos2(0.0, 0.0), pos2(50.0, 0.0)], 0.0, 5.0).is_empty(), "a zero dash draws nothing");
        assert!(dashes(&[pos2(0.0, 0.0), pos2(50.0, 0.0)], f32::NAN, 5.0).is_empty());
        assert!(dashes(&[pos2(0.0, 0.0), pos2(f32::INFINITY, 0.0)], 10.0, 5.0).is_empty(), "no endless walk");
        // Repeated points add no zero-length pieces.
        let d = dashes(&[pos2(0.0, 0.0), pos2(3.0, 0.0), pos2(3.0, 0.0), pos2(6.0, 0.0)], 10.0, 5.0);
        assert_eq!(d, vec![vec![pos2(0.0, 0.0), pos2(3.0, 0.0), pos2(6.0, 0.0)]]);
    }
}
