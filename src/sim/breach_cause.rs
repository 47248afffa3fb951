//! What held each breach minute: where the requests over a domain's SLO were, at every breached tick.
//!
//! A domain's p99 is the request-weighted 99th percentile over its apps plus its inline callees' p99 (DESIGN §4), so
//! a breached tick has one of two sources. Either the domain's own apps were within its SLO and error budget and its
//! callees' latency or errors put it over ([`BreachCause::Callee`]), or at least 1% of its requests reached apps
//! over the SLO. Those apps are sorted by where their missing capacity was, following a pod's life:
//! - [`BreachCause::NotScaled`]: no pod of the app was waiting or starting, and its controller had declared none
//!   held back — it had not seen the need yet (telemetry lag, HPA's tolerance);
//! - [`BreachCause::HeldBack`]: no pod was waiting or starting, and the controller had declared pods it sized the app
//!   at but held back on purpose ([`super::Actions::held_back`]: HPA's scale-up rate limit or `maxReplicas`, HiRL's
//!   callees first or survival staging);
//! - [`BreachCause::WaitingForRoom`]: some of its pods were pending — no node had room for them (nodes still being
//!   bought or booting, or room held by higher priorities);
//! - [`BreachCause::PodsStarting`]: its pods were seated but still starting (image pull and boot), none waiting.
//!
//! The tick is split between these four in proportion to the request rate of the apps over the SLO in each, so a
//! domain's minutes by cause add up to its breach minutes.
//!
//! Contract: ground truth (scoring never sees telemetry); fractions of a tick, exact in `f64` up to rounding; the
//! causes in [`BreachCause::ALL`] order, which is a pod's life from not asked to seated, then the callee.

use serde::{Deserialize, Serialize};

/// Where a breached tick's requests over the SLO were (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BreachCause {
    /// At apps whose controllers had asked for no more pods and held none back.
    NotScaled,
    /// At apps whose controllers had asked for fewer pods than they sized them at, on purpose.
    HeldBack,
    /// At apps with pods waiting for room on a node.
    WaitingForRoom,
    /// At apps with pods starting, none waiting.
    PodsStarting,
    /// The domain's own apps were within the SLO; an inline callee put it over.
    Callee,
}

impl BreachCause {
    /// How many causes there are (the length of a [`CauseSplit`]).
    pub const COUNT: usize = 5;

    pub const ALL: [BreachCause; Self::COUNT] = [
        BreachCause::NotScaled,
        BreachCause::HeldBack,
        BreachCause::WaitingForRoom,
        BreachCause::PodsStarting,
        BreachCause::Callee,
    ];

    /// The cause of an app over the SLO, from its pods waiting for room and starting, and the pods its controller
    /// declared held back. Capacity on its way decides first: pods held back beyond pods still waiting or starting
    /// would not have served sooner.
    pub fn of_app(pending_pods: u32, starting_pods: u32, held_back_pods: u32) -> Self {
        if pending_pods > 0 {
            Self::WaitingForRoom
        } else if starting_pods > 0 {
            Self::PodsStarting
        } else if held_back_pods > 0 {
            Self::HeldBack
        } else {
            Self::NotScaled
        }
    }

    /// The cause that held most of a tick's `split` (shares in [`Self::ALL`] order; the first on a tie); `None`
    /// when every share is zero (within the SLO).
    pub fn dominant(split: CauseSplit) -> Option<Self> {
        let (best, share) = Self::ALL
            .iter()
            .zip(split)
            .fold((Self::NotScaled, 0.0), |best, (&c, s)| if s > best.1 { (c, s) } else { best });
        (share > 0.0).then_some(best)
    }

    /// The cause as a word for file formats, as in the scorecard's field names: `not_scaled`, `held_back`,
    /// `waiting_for_room`, `pods_starting`, `callee`.
    pub fn key(self) -> &'static str {
        match self {
            Self::NotScaled => "not_scaled",
            Self::HeldBack => "held_back",
            Self::WaitingForRoom => "waiting_for_room",
            Self::PodsStarting => "pods_starting",
            Self::Callee => "callee",
        }
    }

    /// A few words for tables and tooltips.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotScaled => "not scaled up",
            Self::HeldBack => "held back",
            Self::WaitingForRoom => "waiting for room",
            Self::PodsStarting => "pods starting",
            Self::Callee => "callee's latency",
        }
    }

    /// Where the requests over the SLO were, in a phrase that follows "where the requests over the SLO were:".
    pub fn explanation(self) -> &'static str {
        match self {
            Self::NotScaled => {
                "at apps with no pod waiting or starting: their controllers had not asked for more and held none \
                 back, so had not seen the need yet (telemetry lag, HPA's tolerance)"
            }
            Self::HeldBack => {
                "at apps with no pod waiting or starting whose controllers had sized them higher and held pods back \
                 on purpose (HPA's scale-up rate limit or maxReplicas; HiRL's callees first or survival staging)"
            }
            Self::WaitingForRoom => {
                "at apps with pods waiting for room on a node: nodes still being bought or booting, or room held by \
                 higher priorities"
            }
            Self::PodsStarting => "at apps whose new pods were seated but still starting (image pull and boot)",
            Self::Callee => {
                "not at the domain's own apps, which were within its SLO and error budget: an inline callee's \
                 latency or errors put it over"
            }
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Breach minutes of a domain (or a sum of domains) by [`BreachCause`]; they add up to its breach minutes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreachMinutesByCause {
    pub not_scaled_minutes: f64,
    pub held_back_minutes: f64,
    pub waiting_for_room_minutes: f64,
    pub pods_starting_minutes: f64,
    pub callee_minutes: f64,
}

impl BreachMinutesByCause {
    pub fn get(&self, cause: BreachCause) -> f64 {
        match cause {
            BreachCause::NotScaled => self.not_scaled_minutes,
            BreachCause::HeldBack => self.held_back_minutes,
            BreachCause::WaitingForRoom => self.waiting_for_room_minutes,
            BreachCause::PodsStarting => self.pods_starting_minutes,
            BreachCause::Callee => self.callee_minutes,
        }
    }

    fn get_mut(&mut self, cause: BreachCause) -> &mut f64 {
        match cause {
            BreachCause::NotScaled => &mut self.not_scaled_minutes,
            BreachCause::HeldBack => &mut self.held_back_minutes,
            BreachCause::WaitingForRoom => &mut self.waiting_for_room_minutes,
            BreachCause::PodsStarting => &mut self.pods_starting_minutes,
            BreachCause::Callee => &mut self.callee_minutes,
        }
    }

    /// From ticks by cause (in [`BreachCause::ALL`] order) and the length of a tick in minutes.
    pub fn from_ticks(ticks: &CauseSplit, minutes_per_tick: f64) -> Self {
        let mut out = Self::default();
        for cause in BreachCause::ALL {
            *out.get_mut(cause) = ticks[cause.index()] * minutes_per_tick;
        }
        out
    }

    pub fn total(&self) -> f64 {
        BreachCause::ALL.iter().map(|&c| self.get(c)).sum()
    }

    /// Adds another domain's or run's minutes.
    pub fn add(&mut self, other: &Self) {
        for cause in BreachCause::ALL {
            *self.get_mut(cause) += other.get(cause);
        }
    }

    /// Each cause with its minutes, in [`BreachCause::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (BreachCause, f64)> + '_ {
        BreachCause::ALL.iter().map(|&c| (c, self.get(c)))
    }

    /// The causes with at least 0.05 minutes (what shows as 0.1 or more), largest first (ties in
    /// [`BreachCause::ALL`] order).
    pub fn largest_first(&self) -> Vec<(BreachCause, f64)> {
        let mut parts: Vec<(BreachCause, f64)> = self.iter().filter(|(_, m)| *m >= 0.05).collect();
        parts.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        parts
    }

    /// "waiting for room 12.5 · pods starting 3.0 · …": [`Self::largest_first`]; "—" when there are none.
    pub fn summary(&self) -> String {
        let parts = self.largest_first();
        if parts.is_empty() {
            return "—".to_string();
        }
        parts.iter().map(|(c, m)| format!("{} {m:.1}", c.label())).collect::<Vec<_>>().join(" · ")
    }
}

/// A tick (or a sum of ticks) split by cause, in [`BreachCause::ALL`] order.
pub type CauseSplit = [f64; BreachCause::COUNT];

/// Request rate of one domain's apps over its SLO at this tick, by the cause of each app (every cause but the
/// callee's, which is the domain's, not an app's).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OverSloRates {
    rps: [f64; BreachCause::COUNT - 1],
}

impl OverSloRates {
    /// Counts an app over the SLO serving `rps` (see [`BreachCause::of_app`]).
    pub fn add_app(&mut self, rps: f64, pending_pods: u32, starting_pods: u32, held_back_pods: u32) {
        self.rps[BreachCause::of_app(pending_pods, starting_pods, held_back_pods).index()] += rps;
    }

    /// This breached tick's split (fractions summing to 1, in [`BreachCause::ALL`] order). `own_degraded`: the
    /// domain's own apps, before its callees are added, are over the SLO or the error budget.
    /// `domain_pods`, the domain's pods (pending, starting, held back), decide the tick when no single app is over
    /// the SLO although the domain's own p99 is (the quantile interpolates within a latency bucket).
    pub fn split(&self, own_degraded: bool, domain_pods: DomainPods) -> CauseSplit {
        let mut tick = [0.0; BreachCause::COUNT];
        if !own_degraded {
            tick[BreachCause::Callee.index()] = 1.0;
            return tick;
        }
        let total: f64 = self.rps.iter().sum();
        if total > 0.0 {
            for (share, rps) in tick.iter_mut().zip(self.rps) {
                *share = rps / total;
            }
        } else {
            let DomainPods { pending, starting, held_back } = domain_pods;
            tick[BreachCause::of_app(pending, starting, held_back).index()] = 1.0;
        }
        tick
    }
}

/// A domain's pods by where they are, for [`OverSloRates::split`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DomainPods {
    pub pending: u32,
    pub starting: u32,
    pub held_back: u32,
}

/// Adds a tick's split to running sums.
pub fn add_split(sums: &mut CauseSplit, split: &CauseSplit) {
    for (sum, share) in sums.iter_mut().zip(split) {
        *sum += share;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_s_cause_follows_a_pod_s_life() {
        assert_eq!(BreachCause::of_app(0, 0, 0), BreachCause::NotScaled);
        assert_eq!(BreachCause::of_app(0, 0, 9), BreachCause::HeldBack);
        assert_eq!(BreachCause::of_app(3, 0, 0), BreachCause::WaitingForRoom);
        assert_eq!(BreachCause::of_app(3, 5, 0), BreachCause::WaitingForRoom, "pods waiting decide before starting");
        assert_eq!(BreachCause::of_app(3, 0, 9), BreachCause::WaitingForRoom, "capacity on its way before a hold");
        assert_eq!(BreachCause::of_app(0, 5, 9), BreachCause::PodsStarting);
    }

    #[test]
    fn the_dominant_cause_is_the_largest_share_and_none_within_the_slo() {
        assert_eq!(BreachCause::dominant([0.1, 0.0, 0.6, 0.3, 0.0]), Some(BreachCause::WaitingForRoom));
        assert_eq!(
            BreachCause::dominant([0.0, 0.0, 0.5, 0.5, 0.0]),
            Some(BreachCause::WaitingForRoom),
            "first on a tie"
        );
        assert_eq!(BreachCause::dominant([0.0, 0.7, 0.0, 0.0, 0.3]), Some(BreachCause::HeldBack));
        assert_eq!(BreachCause::dominant([0.0, 0.0, 0.0, 0.0, 1.0]), Some(BreachCause::Callee));
        assert_eq!(BreachCause::dominant([0.0; BreachCause::COUNT]), None);
    }

    #[test]
    fn a_tick_splits_by_the_request_rate_over_the_slo() {
        let mut over = OverSloRates::default();
        over.add_app(300.0, 10, 0, 0);
        over.add_app(100.0, 0, 4, 0);
        over.add_app(50.0, 0, 0, 0);
        over.add_app(50.0, 0, 0, 12);
        let pods = DomainPods { pending: 10, starting: 4, held_back: 12 };
        let mut ticks = [0.0; BreachCause::COUNT];
        add_split(&mut ticks, &over.split(true, pods));
        assert_eq!(ticks, [0.1, 0.1, 0.6, 0.2, 0.0]);
        add_split(&mut ticks, &over.split(false, pods));
        assert_eq!(ticks, [0.1, 0.1, 0.6, 0.2, 1.0], "own apps within the SLO: the callee's tick");
        let minutes = BreachMinutesByCause::from_ticks(&ticks, 5.0 / 60.0);
        assert!((minutes.total() - 2.0 * 5.0 / 60.0).abs() < 1e-12, "the causes add up to the breach");
    }

    #[test]
    fn with_no_app_over_the_slo_the_domain_s_pods_decide() {
        let starting = DomainPods { starting: 7, ..DomainPods::default() };
        assert_eq!(OverSloRates::default().split(true, starting), [0.0, 0.0, 0.0, 1.0, 0.0]);
        let held = DomainPods { held_back: 7, ..DomainPods::default() };
        assert_eq!(OverSloRates::default().split(true, held), [0.0, 1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn the_summary_lists_the_largest_first() {
        let m = BreachMinutesByCause {
            not_scaled_minutes: 1.0,
            held_back_minutes: 0.0,
            waiting_for_room_minutes: 12.5,
            pods_starting_minutes: 0.0,
            callee_minutes: 3.25,
        };
        assert_eq!(m.summary(), "waiting for room 12.5 · callee's latency 3.2 · not scaled up 1.0");
        assert_eq!(BreachMinutesByCause::default().summary(), "—");
        let mut sum = m;
        sum.add(&m);
        assert_eq!(sum.total(), 2.0 * m.total());
    }
}
