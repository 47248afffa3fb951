//! Forecast intervals for one domain, in requests per second: the actual traffic, and each past forecast's p10–p90
//! band and p80 line drawn at the time it predicted (made at m for horizon h → placed at m + h), so the band sits over
//! the traffic it was about; past a plot's width in forecasts, each drawn point stands for a few consecutive ones and
//! keeps their widest band. The latest forecast's fan over every horizon reaches beyond "now". The forecaster's
//! source is named in the heading (in the warning colour when it is the fallback) and the legend; announced promotion
//! starts of the domain are dotted lines.

use egui::RichText;
use egui_plot::{FilledArea, Line, LineStyle, PlotPoints};

use super::latency::{RPS_LINE, format_rps};
use super::styled_line::{DASH_PTS, StyledLine};
use super::{PanelCtx, annotations, time_plot};
use crate::app::store::{RunSeries, clock_label};
use crate::app::theme;
use crate::runner::Forecast;

const HORIZONS_SECS: [u64; 3] = [300, 900, 1800];

pub struct ForecastPanel {
    /// Scenario index of the domain shown.
    domain: usize,
    horizon_secs: u64,
}

impl Default for ForecastPanel {
    fn default() -> Self {
        Self { domain: 0, horizon_secs: 900 }
    }
}

impl ForecastPanel {
    pub fn forecast_ui(&mut self, ui: &mut egui::Ui, ctx: &PanelCtx<'_>) {
        let domains = &ctx.store.scenario.domains;
        if self.domain >= domains.len() {
            self.domain = 0;
        }
        let d = self.domain;
        let Some(spec) = domains.get(d) else {
            ui.weak("the scenario has no domains");
            return;
        };
        let colour = theme::domain_colour(d, ui.visuals().dark_mode);
        let series = ctx.series().filter(|s| !s.points.is_empty());
        let latest = series.and_then(|s| s.forecasts.last()).and_then(|set| set.get(d));
        let source: &str = latest.map_or("no forecast yet", |f| &f.source);
        let fallback = latest.is_some_and(|f| !f.learned);
        let short_source = if fallback { "fallback" } else { "learned" };

        ui.horizontal_wrapped(|ui| {
            egui::ComboBox::new(("forecast-domain", ctx.run), "domain")
                .selected_text(RichText::new(&spec.id).color(colour))
                .show_ui(ui, |ui| {
                    for (i, dom) in domains.iter().enumerate() {
                        let text = RichText::new(&dom.id).color(theme::domain_colour(i, ui.visuals().dark_mode));
                        ui.selectable_value(&mut self.domain, i, text).on_hover_text(&dom.name);
                    }
                });
            ui.separator();
            ui.label("horizon:");
            for h in HORIZONS_SECS {
                ui.selectable_value(&mut self.horizon_secs, h, format!("{} min", h / 60))
                    .on_hover_text("How far ahead the plotted band was forecast");
            }
        });
        // On a line of its own: at the end of the row above, egui would lay the long source out unwrapped past a
        // half-width column's edge, and widen the column for every section below it.
        let text = RichText::new(format!("source: {source}")).strong();
        ui.label(if fallback { text.color(ui.visuals().warn_fg_color) } else { text }).on_hover_text(
            "The forecaster that produced these intervals. The learned model reads the last 24 h, the calendar and \
             announced promotions; the exponential-smoothing fallback is used when the model is missing, refused \
             or gives a non-finite output, and says why.",
        );

        let Some(series) = series else {
            ui.weak("waiting for data");
            return;
        };
        let h = self.horizon_secs;
        let n = series.forecasts.len();
        let PastBand { xs, lo, p80, hi } = past_band(&series.forecasts, d, h, ctx.max_points);
        if n > 0 && xs.is_empty() {
            ui.weak(format!("these forecasts have no {} min horizon", h / 60));
        }

        if ctx.time_plot_out_of_view(ui, "forecast") {
            return;
        }
        let actual: PlotPoints<'_> =
            series.line((RPS_LINE, d), ctx.max_points, |p| p.domains.get(d).map(|x| f64::from(x.rps))).into();
        let now_rps = ctx.readout().and_then(|p| p.domains.get(d)).map(|x| x.rps);
        let fan = latest.map(|f| fan_of(f, rps_at(series, d, f.made_at_secs))).filter(|f| f.0.len() >= 2);

        time_plot(ui, "forecast", ctx, "req/s").show(ui, |plot_ui| {
            let now = now_rps.map_or_else(|| "—".to_owned(), |v| format!("{} req/s", format_rps(v)));
            plot_ui.line(Line::new(format!("{} actual {now}", spec.id), actual).color(colour).id("actual").width(1.5));
            if xs.len() >= 2 {
                let name = format!("p10–p90, {} min ahead ({short_source})", h / 60);
                plot_ui.add(FilledArea::new(name, &xs, &lo, &hi).fill_color(colour.gamma_multiply(0.25)).id("band"));
                let line = Line::new(format!("p80, {} min ahead", h / 60), p80);
                plot_ui.add(StyledLine::dashed(line.color(colour.gamma_multiply(0.8)).id("p80"), DASH_PTS));
            }
            if let Some((xs, lo, hi)) = &fan {
                let name = format!("latest forecast p10–p90 ({short_source})");
                plot_ui.add(FilledArea::new(name, xs, lo, hi).fill_color(theme::NOW.gamma_multiply(0.25)).id("fan"));
            }
            for at in announced_starts(ctx.store, &spec.id) {
                let line = egui_plot::VLine::new(
                    format!("announced start {}", clock_label(&ctx.store.scenario, at)),
                    at as f64,
                );
                plot_ui.vline(line.color(colour).style(LineStyle::dotted_loose()).id(("announced", at)));
            }
            annotations(plot_ui, ctx);
        });
    }
}

/// When the calendar says this domain's promotions start (what the learned forecaster is told in advance), as known
/// now: the scenario's, but a sale that goes on the calendar later (`announced_at_secs`, an exported live
/// announcement) only from then, and those injected up to now (one injected later in the recorded future is not
/// announced yet).
fn announced_starts(store: &crate::app::store::Store, domain_id: &str) -> Vec<u64> {
    let scripted = store.scenario.events.iter().map(|e| (e, 0));
    let injected = store.injections.iter().map(|i| (&i.event, i.injected_at_secs));
    scripted
        .chain(injected)
        .filter(|(e, _)| matches!(e, crate::scenario::EventSpec::FlashSale { domain, .. } if domain == domain_id))
        .filter_map(|(e, injected_at_secs)| {
            let (known_from_secs, start_secs) = e.calendar_entry()?;
            (known_from_secs.max(injected_at_secs) <= store.now_secs).then_some(start_secs)
        })
        .collect()
}

/// Past forecasts of one domain and horizon, as drawn: x is when each forecast was about (made at + horizon).
#[derive(Debug, Default, PartialEq)]
struct PastBand {
    xs: Vec<f64>,
    lo: Vec<f64>,
    p80: Vec<[f64; 2]>,
    hi: Vec<f64>,
}

/// The past band of `domain` at `horizon_secs`, in at most about `max_points` points.
///
/// Forecast sets come one per simulated minute, so a week has ~10k. Beyond `max_points` they are taken in buckets of
/// consecutive sets (aligned on the set's index, so a bucket does not move as sets arrive), each drawn at its last
/// set's time with the lowest p10 and the highest p90 of the bucket and the last set's p80: the band keeps every
/// forecast's extremes, where a stride would drop a short widening between kept sets. The last set is always last.
fn past_band(forecasts: &[Vec<Forecast>], domain: usize, horizon_secs: u64, max_points: usize) -> PastBand {
    let stride = forecasts.len().div_ceil(max_points.max(1)).max(1);
    let mut band = PastBand::default();
    for bucket in forecasts.chunks(stride) {
        let mut edges: Option<(f64, f64)> = None;
        let mut last = None;
        for f in bucket.iter().filter_map(|set| set.get(domain)) {
            let Some(q) = quantiles_at(f, horizon_secs) else { continue };
            edges = Some(edges.map_or((q[0], q[3]), |(lo, hi)| (lo.min(q[0]), hi.max(q[3]))));
            last = Some(((f.made_at_secs + horizon_secs) as f64, q[2]));
        }
        if let (Some((lo, hi)), Some((x, p80))) = (edges, last) {
            band.xs.push(x);
            band.lo.push(lo);
            band.p80.push([x, p80]);
            band.hi.push(hi);
        }
    }
    band
}

/// p10, p50, p80, p90 for `horizon`, when the forecast has that horizon and its numbers are usable.
fn quantiles_at(f: &Forecast, horizon: u64) -> Option<[f64; 4]> {
    let (_, q) = f.horizons.iter().find(|(h, _)| *h == horizon)?;
    let q = q.map(f64::from);
    // A band drawn upside down or to infinity would hide the actual traffic.
    q.iter().all(|v| v.is_finite()).then(|| [q[0].min(q[3]), q[1], q[2], q[0].max(q[3])])
}

/// The domain's actual rate at the first tick at or after `t_secs` (points are in time order).
fn rps_at(series: &RunSeries, domain: usize, t_secs: u64) -> Option<f32> {
    let i = series.points.partition_point(|p| p.t_secs < t_secs);
    series.points.get(i).or_else(|| series.points.last()).and_then(|p| p.domains.get(domain)).map(|x| x.rps)
}

/// The latest forecast over all its horizons, anchored at the traffic when it was made.
fn fan_of(f: &Forecast, anchor_rps: Option<f32>) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut horizons: Vec<u64> = f.horizons.iter().map(|(h, _)| *h).collect();
    horizons.sort_unstable();
    horizons.dedup();
    let (mut xs, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(a) = anchor_rps.map(f64::from).filter(|a| a.is_finite()) {
        xs.push(f.made_at_secs as f64);
        lo.push(a);
        hi.push(a);
    }
    for h in horizons {
        if let Some(q) = quantiles_at(f, h) {
            xs.push((f.made_at_secs + h) as f64);
            lo.push(q[0]);
            hi.push(q[3]);
        }
    }
    (xs, lo, hi)
}

#[cfg(test)]
mod tests {

    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    use super::*;
    use crate::app::store::{Items, Store};
    use crate::runner::{DomainPoint, SeriesPoint};

    const SOURCE: &str = "exponential smoothing (fallback)";

    use super::super::test_support::empty_store as store;

    fn forecast(made_at_secs: u64, horizons: &[u64]) -> Forecast {
        let horizons = horizons.iter().map(|&h| (h, [900.0, 1000.0, 1080.0, 1150.0])).collect();
        Forecast { made_at_secs, horizons, source: SOURCE.into(), learned: false }
    }

    fn render(store: &Store) -> Harness<'_> {
        let ctx = PanelCtx { store, run: 0, plot_height: 120.0, max_points: 100, column_right: None };
        let mut panel = ForecastPanel::default();
        let mut harness = Harness::new_ui(move |ui| panel.forecast_ui(ui, &ctx));
        harness.run();
        harness
    }

    #[test]
    fn a_sale_is_marked_from_when_it_went_on_the_calendar() {
        let mut store = store();
        let domain = store.scenario.domains[0].id.clone();
        let sale = |announced_at_secs| crate::scenario::EventSpec::FlashSale {
            domain: domain.clone(),
            announced_start_secs: Some(3_600),
            announced_at_secs,
            start_secs: 3_600,
            ramp_secs: 60,
            multiplier: 2.0,
            duration_secs: 600,
        };
        let mut scenario = (*store.scenario).clone();
        scenario.events = vec![sale(None), sale(Some(1_200))];
        store.scenario = std::sync::Arc::new(scenario);
        store.now_secs = 600;
        assert_eq!(announced_starts(&store, &domain), [3_600], "the exported one is not on the calendar yet");
        store.now_secs = 1_200;
        assert_eq!(announced_starts(&store, &domain), [3_600, 3_600], "from its announcement on");
    }

    #[test]
    fn shows_source_and_band() {
        let mut store = store();
        let n = store.scenario.domains.len();
        let points = (0..120u64)
            .map(|k| SeriesPoint {
                t_secs: k * 5,
                domains: vec![DomainPoint { rps: 1000.0, ..Default::default() }; n],
                ..Default::default()
            })
            .collect();
        // The last set has fewer horizons, as a forecaster still warming up would give.
        let forecasts = vec![
            vec![forecast(60, &[300, 900, 1800]); n],
            vec![forecast(120, &[300, 900, 1800]); n],
            vec![forecast(180, &[300]); n],
        ];
        store.runs.push(RunSeries {
            policy: "hpa".into(),
            past: Items { points, forecasts, ..Items::default() },
            ..Default::default()
        });
        store.now_secs = 595;
        let harness = render(&store);
        assert!(harness.query_by_label_contains(&format!("source: {SOURCE}")).is_some());
        assert!(harness.query_by_label_contains("p10–p90, 15 min ahead").is_some());
    }

    fn sets(n: u64) -> Vec<Vec<Forecast>> {
        (0..n).map(|k| vec![forecast(60 * k, &[300, 900])]).collect()
    }

    #[test]
    fn a_short_past_band_keeps_every_forecast() {
        let band = past_band(&sets(5), 0, 900, 100);
        assert_eq!(band.xs, [900.0, 960.0, 1020.0, 1080.0, 1140.0]);
        assert_eq!(band.lo, [900.0; 5]);
        assert_eq!(band.hi, [1150.0; 5]);
        assert_eq!(band.p80, band.xs.iter().map(|&x| [x, 1080.0]).collect::<Vec<_>>());
        // A horizon the forecasts lack draws nothing; another domain index neither.
        assert_eq!(past_band(&sets(5), 0, 1800, 100), PastBand::default());
        assert_eq!(past_band(&sets(5), 1, 900, 100), PastBand::default());
    }

    #[test]
    fn a_long_past_band_keeps_a_one_minute_widening_and_ends_at_the_last_forecast() {
        let mut forecasts = sets(1001);
        // One forecast between two buckets' last sets widens both ways (the stride would be 11 here).
        forecasts[437][0].horizons[1].1 = [10.0, 1000.0, 1080.0, 5000.0];
        // A set without the horizon (a forecaster warming up) is passed over, not drawn as a gap.
        forecasts[500][0].horizons.truncate(1);
        let band = past_band(&forecasts, 0, 900, 100);
        assert!(band.xs.len() <= 100, "{} points", band.xs.len());
        assert!(band.xs.windows(2).all(|w| w[0] < w[1]), "in time order");
        assert_eq!(band.hi.iter().copied().fold(f64::MIN, f64::max), 5000.0);
        assert_eq!(band.lo.iter().copied().fold(f64::MAX, f64::min), 10.0);
        assert_eq!(band.hi.iter().filter(|&&v| v == 5000.0).count(), 1, "only the widening's bucket is wider");
        assert_eq!(band.xs.last().copied(), Some((60 * 1000 + 900) as f64));
        assert_eq!(band.lo.len(), band.xs.len());
        assert_eq!(band.p80.len(), band.xs.len());
    }

    #[test]
    fn empty_store_renders() {
        let store = store();
        let harness = render(&store);
        assert!(harness.query_by_label_contains("waiting for data").is_some());
    }
}
