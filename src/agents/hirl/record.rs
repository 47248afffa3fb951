//! Decision records (DESIGN §6, "Explainability"): every Commander and Soldier decision with its observation, the
//! action distribution, the action taken, the critic's value estimate, and what the dead zone, the projection and
//! the safety layer changed. The window's decision inspector reads these; feature names come from
//! [`super::features::commander_names`] and [`super::features::soldier_names`], in the same order as `obs`.
//!
//! Records are appended in time order (Soldiers of one tick in domain order), so a time range is a binary search.

use super::safety::{Intervention, SafetyLevel};

#[derive(Clone, Debug, PartialEq)]
pub struct CommanderRecord {
    pub t_secs: u64,
    pub obs: Vec<f32>,
    /// The Gaussian over the pre-activation action.
    pub mean: Vec<f32>,
    pub log_std: Vec<f32>,
    /// The action taken (the mean unless exploring during training).
    pub action: Vec<f32>,
    /// Critic's estimate; `None` for the teacher rule.
    pub value: Option<f32>,
    /// Shares after softmax and floors (five domains, then the reserve) …
    pub raw_shares: Vec<f64>,
    /// … and after the dead zone (what was executed).
    pub shares: Vec<f64>,
    /// How many shares the dead zone (and the sum it restores) changed.
    pub dead_zone_kept: usize,
    pub urgency: Vec<f64>,
    /// Fraction of extra capacity requested ahead of the forecast, per domain.
    pub headroom: Vec<f64>,
    pub budget_millicores: Vec<f64>,
    /// Warm reserve per pool, millicores …
    pub reserve_millicores: Vec<u64>,
    /// … of which held for announced promotions about to start (see `HirlConfig::announced_lead_secs`).
    pub announced_reserve_millicores: Vec<u64>,
    /// Nodes requested ahead of demand: (pool, nodes).
    pub node_requests: Vec<(u8, u32)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SoldierRecord {
    pub t_secs: u64,
    pub domain: usize,
    pub obs: Vec<f32>,
    pub mean: Vec<f32>,
    pub log_std: Vec<f32>,
    pub action: Vec<f32>,
    pub value: Option<f32>,
    /// The domain level (× the load-based target), as executed …
    pub level_multiplier: f64,
    /// … and as the network's action decodes it (within the size floor): lower only where a ramp lead raised the
    /// level to its floor for the climb (see `RampLeadConfig::min_level`).
    pub network_level_multiplier: f64,
    /// The ramp lead on every target (see [`super::ramp_lead`]; 1 = none).
    pub ramp_lead: f64,
    /// An announced promotion's lift still to come: every target was at least this multiple of its HPA-sized need
    /// (see `HirlConfig::announced_as_pods`; 1 = none).
    pub announced_lift: f64,
    /// Per tier group (×0.5–×2).
    pub group_factors: Vec<f64>,
    /// The top at-risk apps and their own factor.
    pub top_apps: Vec<(u32, f64)>,
    /// Factor the projection applied to every scale-up (1 = nothing clipped) and the CPU it removed.
    pub up_scale: f64,
    pub clipped_millicores: f64,
    /// Slack (scale-ups above the apps' HPA-sized need) held back because its pools had no free room, declared to
    /// the cluster autoscaler instead (see [`super::slack`]); 0 when all of it fitted.
    pub slack_held_millicores: u64,
    /// The safety level the domain was at (Freeze: no scale-downs).
    pub safety: SafetyLevel,
    /// The inline callee this domain's scale-ups waited for in this tick ("callees first"), if any; the replica
    /// changes below are then the ones made after that hold.
    pub held_for_callee: Option<usize>,
    /// (app, replicas before, replicas after).
    pub replica_changes: Vec<(u32, u32, u32)>,
}

impl SoldierRecord {
    /// Whether a ramp lead raised the executed level above the network's own.
    pub fn level_raised_for_climb(&self) -> bool {
        self.level_multiplier > self.network_level_multiplier + 1e-9
    }

    /// Whether an announced promotion's lift, not the level and lead, set the targets (before group and app factors).
    /// ×1 means no promotion is due (the executor applies no floor then), so a level below ×1 is not "held" by it.
    pub fn held_for_announced_lift(&self) -> bool {
        self.announced_lift > 1.0 && self.announced_lift > self.level_multiplier * self.ramp_lead
    }
}

/// A "callees first" hold starting or ending: `caller`'s pods wait while `callee`'s are seated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CalleeHold {
    pub t_secs: u64,
    pub caller: usize,
    pub callee: usize,
    pub started: bool,
}

/// Survival-first staging of a domain starting or ending (see [`super::survival`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Staging {
    pub t_secs: u64,
    pub domain: usize,
    pub started: bool,
}

/// Every decision of a run, in time order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecisionLog {
    pub commander: Vec<CommanderRecord>,
    pub soldiers: Vec<SoldierRecord>,
    /// Every "callees first" hold's start and end.
    pub holds: Vec<CalleeHold>,
    /// Every survival-first staging's start and end.
    pub stagings: Vec<Staging>,
    /// Every change of a domain's safety level (while a domain is on the HPA fallback its Soldier makes no
    /// decisions, so these are the only record of that time).
    pub interventions: Vec<Intervention>,
}

/// A domain's safety level standing at some time, other than Normal: since when and why.
#[derive(Clone, Debug, PartialEq)]
pub struct StandingLevel {
    pub domain: usize,
    pub level: SafetyLevel,
    pub since_secs: u64,
    pub reason: String,
}

/// The safety levels standing at `t_secs` (after every change at or before it), other than Normal, by domain.
pub fn safety_at(interventions: &[Intervention], t_secs: u64) -> Vec<StandingLevel> {
    let mut standing: Vec<StandingLevel> = Vec::new();
    for i in interventions.iter().take_while(|i| i.t_secs <= t_secs) {
        standing.retain(|s| s.domain != i.domain);
        if i.to != SafetyLevel::Normal {
            standing.push(StandingLevel {
                domain: i.domain,
                level: i.to,
                since_secs: i.t_secs,
                reason: i.reason.clone(),
            });
        }
    }
    standing.sort_unstable_by_key(|s| s.domain);
    standing
}

/// The first time `domain` is handed to the HPA fallback after `t_secs`, and when it next leaves it (`None`: not
/// within the interventions given).
pub fn next_fallback(interventions: &[Intervention], domain: usize, t_secs: u64) -> Option<(u64, Option<u64>)> {
    let mut mine = interventions.iter().filter(|i| i.domain == domain && i.t_secs > t_secs);
    let start = mine.find(|i| i.to == SafetyLevel::HpaFallback)?.t_secs;
    let end = mine.find(|i| i.to != SafetyLevel::HpaFallback).map(|i| i.t_secs);
    Some((start, end))
}

/// What stands at `t_secs` in a log of starts and ends (after every entry at or before it): each key whose latest
/// entry is a start, with that start's time, sorted. `entry` gives an entry's (time, key, started).
fn standing_at<T, K: Ord + Copy>(log: &[T], t_secs: u64, entry: impl Fn(&T) -> (u64, K, bool)) -> Vec<(K, u64)> {
    let mut standing: Vec<(K, u64)> = Vec::new();
    for (t, key, started) in log.iter().map(entry).take_while(|&(t, _, _)| t <= t_secs) {
        standing.retain(|&(k, _)| k != key);
        if started {
            standing.push((key, t));
        }
    }
    standing.sort_unstable();
    standing
}

/// The domains staged at `t_secs` (after every start and end at or before it): (domain, since), by domain.
pub fn stagings_at(stagings: &[Staging], t_secs: u64) -> Vec<(usize, u64)> {
    standing_at(stagings, t_secs, |s| (s.t_secs, s.domain, s.started))
}

/// The holds standing at `t_secs` (after every start and end at or before it): (caller, callee, since), by caller.
pub fn holds_at(holds: &[CalleeHold], t_secs: u64) -> Vec<(usize, usize, u64)> {
    standing_at(holds, t_secs, |h| (h.t_secs, (h.caller, h.callee), h.started))
        .into_iter()
        .map(|((caller, callee), since)| (caller, callee, since))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_stands_from_its_start_until_its_end() {
        let at = |t_secs, started| CalleeHold { t_secs, caller: 0, callee: 1, started };
        let holds = [at(100, true), at(400, false), at(900, true)];
        assert_eq!(holds_at(&holds, 99), vec![]);
        assert_eq!(holds_at(&holds, 100), vec![(0, 1, 100)]);
        assert_eq!(holds_at(&holds, 399), vec![(0, 1, 100)]);
        assert_eq!(holds_at(&holds, 400), vec![]);
        assert_eq!(holds_at(&holds, 1000), vec![(0, 1, 900)]);
    }

    #[test]
    fn a_staging_stands_per_domain_from_its_start_until_its_end() {
        let at = |t_secs, domain, started| Staging { t_secs, domain, started };
        let log = [at(100, 1, true), at(105, 0, true), at(300, 1, false), at(600, 0, false), at(700, 1, true)];
        assert_eq!(stagings_at(&log, 99), vec![]);
        assert_eq!(stagings_at(&log, 105), vec![(0, 105), (1, 100)], "by domain, each since its start");
        assert_eq!(stagings_at(&log, 300), vec![(0, 105)]);
        assert_eq!(stagings_at(&log, 650), vec![]);
        assert_eq!(stagings_at(&log, 700), vec![(1, 700)]);
    }

    #[test]
    fn a_safety_level_stands_until_the_domain_changes_level_again() {
        let change = |t_secs, domain, from, to| Intervention { t_secs, domain, from, to, reason: format!("r{t_secs}") };
        use SafetyLevel::*;
        let log = [
            change(100, 0, Normal, Alert),
            change(110, 0, Alert, HpaFallback),
            change(200, 1, Normal, Freeze),
            change(700, 0, HpaFallback, Normal),
        ];
        assert_eq!(safety_at(&log, 99), vec![]);
        let at_300 = safety_at(&log, 300);
        assert_eq!(
            at_300.iter().map(|s| (s.domain, s.level, s.since_secs)).collect::<Vec<_>>(),
            vec![(0, HpaFallback, 110), (1, Freeze, 200)]
        );
        assert_eq!(at_300[0].reason, "r110");
        assert_eq!(safety_at(&log, 700).iter().map(|s| s.domain).collect::<Vec<_>>(), vec![1]);
        // The fallback after a decision at 105 runs 110–700; none follows one at 110 or later.
        assert_eq!(next_fallback(&log, 0, 105), Some((110, Some(700))));
        assert_eq!(next_fallback(&log, 0, 110), None);
        assert_eq!(next_fallback(&log[..3], 0, 0), Some((110, None)));
        assert_eq!(next_fallback(&log, 1, 0), None, "a freeze is not a fallback");
    }
}
