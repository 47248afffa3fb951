//! What the business calendar tells the forecaster: announced promotions, as the expected lift they give each
//! domain's rate (inline calls included), known only from the moment they are announced.
//!
//! The lift is `ln(expected rate with the known announcements / expected rate without)`, both from the noiseless
//! traffic model ([`DomainTraffic::expected_total_rps`]). An announcement carries the *announced* start; when the
//! promotion really starts (early, in the postmortem) is exactly what the calendar does not know.

use super::features::{HORIZONS_MINUTES, N_ANNOUNCED};
use crate::scenario::EventSpec;
use crate::sim::Layout;
use crate::sim::traffic::{DomainTraffic, TrafficEvent};

/// A promotion as announced.
#[derive(Clone, Debug, PartialEq)]
pub struct Announcement {
    /// From when forecasts may use it (0 for scripted scenario events: they were on the calendar before the run).
    pub known_from_secs: u64,
    /// The promotion at its announced start.
    pub event: TrafficEvent,
}

impl Announcement {
    /// The announcement an event makes, if it is an announced flash sale on a known domain.
    pub fn of(event: &EventSpec, layout: &Layout, known_from_secs: u64) -> Option<Announcement> {
        let EventSpec::FlashSale {
            domain,
            announced_start_secs: Some(announced),
            ramp_secs,
            multiplier,
            duration_secs,
            ..
        } = event
        else {
            return None;
        };
        let d = layout.domain_index(domain)?;
        Some(Announcement {
            known_from_secs,
            event: TrafficEvent {
                domain: d.0,
                start_secs: *announced,
                ramp_secs: *ramp_secs,
                duration_secs: *duration_secs,
                multiplier: *multiplier,
            },
        })
    }
}

/// The announcements of a run and the model that turns them into lifts.
#[derive(Clone, Debug)]
pub struct PromotionCalendar {
    traffic: DomainTraffic,
    announced: Vec<Announcement>,
}

impl PromotionCalendar {
    /// `traffic` supplies the daily shape and the call graph; its own events and noise are ignored.
    pub fn new(traffic: DomainTraffic) -> Self {
        Self { traffic, announced: Vec::new() }
    }

    pub fn announce(&mut self, a: Announcement) {
        self.announced.push(a);
    }

    pub fn announcements(&self) -> &[Announcement] {
        &self.announced
    }

    /// Per domain: the full lift (ln, at the end of the ramp) of the known promotions announced to start within
    /// `lead_secs` after `t_secs` or whose ramp ended less than `after_secs` ago (the largest, 0 without any), and the
    /// rate expected now without any promotion (to tell how much of the lift has already come).
    pub fn lift_ahead(&self, t_secs: u64, lead_secs: u64, after_secs: u64) -> (Vec<f32>, Vec<f64>) {
        let n = self.traffic.len();
        let mut lift = vec![0.0f32; n];
        let (mut scratch, mut with, mut without) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for a in &self.announced {
            let peak = a.event.start_secs + a.event.ramp_secs;
            if a.known_from_secs > t_secs || a.event.start_secs > t_secs + lead_secs || peak + after_secs < t_secs {
                continue;
            }
            self.traffic.expected_total_rps(peak, std::slice::from_ref(&a.event), &mut scratch, &mut with);
            self.traffic.expected_total_rps(peak, &[], &mut scratch, &mut without);
            for d in 0..n {
                if without[d] > 0.0 {
                    lift[d] = lift[d].max((with[d] / without[d]).ln() as f32);
                }
            }
        }
        self.traffic.expected_total_rps(t_secs, &[], &mut scratch, &mut without);
        (lift, without)
    }

    /// Per domain: the lift now and at each horizon, from what is known at `t_secs`.
    pub fn lifts(&self, t_secs: u64) -> Vec<[f32; N_ANNOUNCED]> {
        let n = self.traffic.len();
        let mut out = vec![[0.0; N_ANNOUNCED]; n];
        let horizon_end = t_secs + 60 * HORIZONS_MINUTES[HORIZONS_MINUTES.len() - 1] as u64;
        let known: Vec<TrafficEvent> = self
            .announced
            .iter()
            .filter(|a| a.known_from_secs <= t_secs && a.event.end_secs() > t_secs && a.event.start_secs <= horizon_end)
            .map(|a| a.event.clone())
            .collect();
        if known.is_empty() {
            return out;
        }
        let (mut scratch, mut with, mut without) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let offsets = std::iter::once(0).chain(HORIZONS_MINUTES.iter().map(|&m| 60 * m as u64));
        for (j, dt) in offsets.enumerate() {
            self.traffic.expected_total_rps(t_secs + dt, &known, &mut scratch, &mut with);
            self.traffic.expected_total_rps(t_secs + dt, &[], &mut scratch, &mut without);
            for d in 0..n {
                out[d][j] = if without[d] > 0.0 { (with[d] / without[d]).ln() as f32 } else { 0.0 };
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    fn small() -> (crate::scenario::Scenario, Layout) {
        let s = scenario::load_file(std::path::Path::new("scenarios/small.ron")).expect("shipped scenario");
        let layout = Layout::build(&s, s.seed);
        (s, layout)
    }

    #[test]
    fn the_lift_ahead_covers_the_lead_window_and_the_minutes_after_the_ramp() {
        let (s, layout) = small();
        let mut cal = PromotionCalendar::new(DomainTraffic::new(&s, &layout));
        let merchant = layout.domain_index("merchant").expect("domain").0 as usize;
        let sale = EventSpec::FlashSale {
            domain: "merchant".into(),
            announced_start_secs: Some(7200),
            announced_at_secs: None,
            start_secs: 6000,
            ramp_secs: 60,
            multiplier: 2.0,
            duration_secs: 3600,
        };
        cal.announce(Announcement::of(&sale, &layout, 0).expect("announced"));
        let lift = |t| cal.lift_ahead(t, 2700, 600).0[merchant];
        assert_eq!(lift(4400), 0.0, "more than 45 min before the announced start");
        for t in [4500, 7200, 7260 + 600] {
            assert!((lift(t) - 2f32.ln()).abs() < 1e-3, "×2 at {t} s: {}", lift(t));
        }
        assert_eq!(lift(7260 + 605), 0.0, "ten minutes after the ramp it is over");
        let (_, expected) = cal.lift_ahead(5000, 2700, 600);
        assert!(expected[merchant] > 0.0, "the rate expected without the sale");
    }

    #[test]
    fn an_announced_sale_lifts_its_domain_and_its_callees_before_it_starts() {
        let (s, layout) = small();
        let mut cal = PromotionCalendar::new(DomainTraffic::new(&s, &layout));
        let id = |name: &str| layout.domain_index(name).expect("domain").0 as usize;
        let (merchant, payment, fraud) = (id("merchant"), id("payment"), id("fraud"));
        let sale = EventSpec::FlashSale {
            domain: "merchant".into(),
            announced_start_secs: Some(3600),
            announced_at_secs: None,
            start_secs: 3000,
            ramp_secs: 60,
            multiplier: 2.0,
            duration_secs: 7200,
        };
        cal.announce(Announcement::of(&sale, &layout, 600).expect("announced"));
        // Not known yet at 300 s.
        assert_eq!(cal.lifts(300)[merchant], [0.0; N_ANNOUNCED]);
        // At 50 min: nothing now, nothing in 5 min, ×2 in 15 and 30 min (the announced start is 60 min).
        let l = cal.lifts(3000);
        assert_eq!(l[merchant][..2], [0.0, 0.0]);
        assert!((l[merchant][2] - 2f32.ln()).abs() < 1e-6 && (l[merchant][3] - 2f32.ln()).abs() < 1e-6);
        // Merchant calls Payment, which calls Fraud: both see part of it.
        assert!(l[payment][2] > 0.0 && l[payment][2] < l[merchant][2], "payment {}", l[payment][2]);
        assert!(l[fraud][2] > 0.0 && l[fraud][2] < l[merchant][2], "fraud {}", l[fraud][2]);
        // An unannounced spike tells the calendar nothing.
        let spike = EventSpec::Spike {
            domain: "payment".into(),
            start_secs: 0,
            ramp_secs: 60,
            multiplier: 3.0,
            duration_secs: 600,
        };
        assert!(Announcement::of(&spike, &layout, 0).is_none());
    }
}
