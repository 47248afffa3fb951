//! Slack waits for room: a Soldier's scale-ups above its apps' HPA-sized need are created only as far as its pools
//! have free CPU; the rest is held back and declared to the cluster autoscaler, which buys the nodes for it.
//!
//! Why: the scheduler seats a pending pod of a higher priority by preempting lower-priority pods at once, so slack
//! created where there is no room evicts (say) Internal's pods for capacity no one needs yet, and they wait for nodes
//! in breach. Growth up to the need is never held back here: that is what the load asks for now.
//!
//! Contract: an app's *base* is the larger of its replicas now and its need rounded up; what a Soldier asks above
//! the base is slack. The need's growth (from now up to the base) takes the room first; slack gets what is left,
//! shared in proportion to each app's slack and rounded down, so the room is never overrun. Scale-downs are
//! untouched. Units: pods, millicores, MiB. Deterministic: apps in the order given, no clocks.

use super::pod_count::ceil_to_u32;

/// One app of the domain at a Soldier tick.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlackApp {
    /// Replicas now.
    pub current: u32,
    /// Pods its HPA's CPU target calls for at the observed load (unrounded).
    pub need_pods: f64,
    pub cpu_request_millicores: u32,
    pub memory_request_mib: u32,
}

impl SlackApp {
    fn base(&self) -> u32 {
        self.current.max(ceil_to_u32(self.need_pods))
    }
}

/// What [`trim_to_room`] held back and took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Trimmed {
    /// Slack held back for want of room: deferred demand for the cluster autoscaler.
    pub held_cpu_millicores: u64,
    pub held_memory_mib: u64,
    /// Room the domain's scale-ups take (need growth plus the slack allowed).
    pub taken_millicores: u64,
}

/// Trims `targets` (one per app, the Soldier's replicas after projection and hysteresis) so that the slack in them
/// fits in `room_millicores` after the need's growth.
pub fn trim_to_room(apps: &[SlackApp], room_millicores: u64, targets: &mut [u32]) -> Trimmed {
    let (mut need_up, mut slack, mut slack_mem) = (0u64, 0u64, 0u64);
    for (app, &target) in apps.iter().zip(targets.iter()) {
        let base = app.base();
        need_up += u64::from(target.min(base).saturating_sub(app.current)) * u64::from(app.cpu_request_millicores);
        let extra = u64::from(target.saturating_sub(base));
        slack += extra * u64::from(app.cpu_request_millicores);
        slack_mem += extra * u64::from(app.memory_request_mib);
    }
    let allowed = room_millicores.saturating_sub(need_up).min(slack);
    if allowed == slack {
        return Trimmed { taken_millicores: need_up + slack, ..Trimmed::default() };
    }
    let share = allowed as f64 / slack as f64;
    let mut kept = 0u64;
    let mut kept_mem = 0u64;
    for (app, target) in apps.iter().zip(targets.iter_mut()) {
        let base = app.base();
        if *target > base {
            let extra = (f64::from(*target - base) * share).floor() as u32;
            *target = base + extra;
            kept += u64::from(extra) * u64::from(app.cpu_request_millicores);
            kept_mem += u64::from(extra) * u64::from(app.memory_request_mib);
        }
    }
    Trimmed {
        held_cpu_millicores: slack - kept,
        held_memory_mib: slack_mem - kept_mem,
        taken_millicores: need_up + kept,
    }
}

/// Takes `millicores` of room from `room` (per pool, may be negative: overcommitted) in the order of `pools`.
pub fn take_room(room: &mut [i64], pools: impl IntoIterator<Item = usize>, millicores: u64) {
    let mut left = i64::try_from(millicores).unwrap_or(i64::MAX);
    for p in pools {
        let used = left.min(room[p].max(0));
        room[p] -= used;
        left -= used;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(current: u32, need_pods: f64) -> SlackApp {
        SlackApp { current, need_pods, cpu_request_millicores: 500, memory_request_mib: 1024 }
    }

    #[test]
    fn without_room_slack_waits_and_is_declared_but_the_need_grows() {
        // Two apps: one growing from 10 to its need of 12 plus 3 slack; one at its need of 5 asking 2 slack.
        let apps = [app(10, 11.2), app(5, 5.0)];
        let mut targets = [15, 7];
        let t = trim_to_room(&apps, 0, &mut targets);
        assert_eq!(targets, [12, 5], "the need's growth goes through, the slack waits");
        assert_eq!(t, Trimmed { held_cpu_millicores: 5 * 500, held_memory_mib: 5 * 1024, taken_millicores: 2 * 500 });
    }

    #[test]
    fn with_room_nothing_changes_and_partial_room_is_shared_by_slack_rounded_down() {
        let apps = [app(10, 11.2), app(5, 5.0)];
        let mut targets = [15, 7];
        let t = trim_to_room(&apps, 10_000, &mut targets);
        assert_eq!((targets, t.held_cpu_millicores, t.taken_millicores), ([15, 7], 0, 7 * 500));
        // Room for the growth (2 pods) and 2.5 pods of slack: 3 and 2 slack pods asked, shared 0.5 each, floored.
        let mut targets = [15, 7];
        let t = trim_to_room(&apps, 4 * 500 + 250, &mut targets);
        assert_eq!(targets, [13, 6]);
        assert_eq!(t.taken_millicores, 4 * 500, "never more than the room");
        assert_eq!(t.held_cpu_millicores, 3 * 500);
    }

    #[test]
    fn scale_downs_and_targets_at_the_need_are_untouched() {
        let apps = [app(20, 12.0), app(8, 9.5)];
        let mut targets = [14, 10];
        let t = trim_to_room(&apps, 0, &mut targets);
        assert_eq!(targets, [14, 10]);
        assert_eq!(t, Trimmed { held_cpu_millicores: 0, held_memory_mib: 0, taken_millicores: 2 * 500 });
    }

    #[test]
    fn room_is_taken_from_pools_in_order_and_an_overcommitted_pool_gives_none() {
        let mut room = [-300, 1_000, 2_000];
        take_room(&mut room, [0, 1, 2], 1_500);
        assert_eq!(room, [-300, 0, 1_500]);
    }
}
