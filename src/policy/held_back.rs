//! Declaring pods a controller holds back on purpose ([`Actions::held_back`]): the scorer then tells a breach at an
//! app its controller chose not to grow from one whose need it had not seen (see
//! [`crate::sim::breach_cause::BreachCause::HeldBack`]).
//!
//! Contract: a declaration stands until the next one for the same app, so [`HeldBack::declare`] writes one only when
//! the count changes (a fleet of 1,550 apps then writes a handful a sync, not 1,550).

use crate::sim::{Actions, AppId};

use super::hpa::SyncOutcome;

/// What each app was last declared to hold back, in app order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeldBack {
    declared: Vec<u32>,
}

impl HeldBack {
    pub fn new(n_apps: usize) -> Self {
        Self { declared: vec![0; n_apps] }
    }

    /// Declares `pods` held back at `app` beyond the `spec.replicas` set with it, if that differs from the last
    /// declaration. Apps outside the fleet are ignored.
    pub fn declare(&mut self, app: AppId, pods: u32, out: &mut Actions) {
        if let Some(last) = self.declared.get_mut(app.0 as usize)
            && *last != pods
        {
            *last = pods;
            out.held_back.push((app, pods));
        }
    }
}

/// The pods an HPA sync sized the app at beyond what it set: what its scale-up rate limit, a scale-up stabilisation
/// window or `maxReplicas` took off its metric-sized count. Zero when it set what the metrics asked, or scaled down.
pub fn hpa_held_back(sync: &SyncOutcome) -> u32 {
    sync.raw_recommendation.saturating_sub(sync.desired_replicas)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::hpa::{ReasonKind, ScalingStatus};

    #[test]
    fn a_declaration_is_written_only_when_it_changes() {
        let mut held = HeldBack::new(3);
        let mut out = Actions::default();
        held.declare(AppId(1), 0, &mut out);
        assert!(out.held_back.is_empty(), "nothing was declared yet, so zero is no change");
        held.declare(AppId(1), 12, &mut out);
        held.declare(AppId(1), 12, &mut out);
        held.declare(AppId(2), 4, &mut out);
        held.declare(AppId(9), 4, &mut out);
        assert_eq!(out.held_back, vec![(AppId(1), 12), (AppId(2), 4)]);
        out.clear();
        held.declare(AppId(1), 0, &mut out);
        assert_eq!(out.held_back, vec![(AppId(1), 0)], "a hold that ends is cleared");
    }

    #[test]
    fn an_hpa_holds_back_what_its_limits_took_off_a_scale_up() {
        let sync = |raw, desired| SyncOutcome {
            desired_replicas: desired,
            raw_recommendation: raw,
            stabilized_recommendation: raw,
            limited_by: None,
            status: ScalingStatus::Active,
            reason: ReasonKind::MatchesTarget,
        };
        assert_eq!(hpa_held_back(&sync(200, 80)), 120, "rate limit or maxReplicas");
        assert_eq!(hpa_held_back(&sync(50, 50)), 0);
        assert_eq!(hpa_held_back(&sync(40, 60)), 0, "a scale-down held by stabilisation holds no pod back");
    }
}
