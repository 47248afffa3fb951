//! Pods of one workload (an app's ReplicaSet or a batch job), kept as cohorts of identical pods.
//!
//! Lifecycle: Pending (created, not scheduled) → Starting (scheduled; image pull + boot, holds its node resources)
//! → Ready (serves traffic) → Terminating (grace period, still holds resources) → gone.
//! Cohorts are ordered oldest first. Scale-down follows the ReplicaSet's preference: unscheduled pods first, then
//! not-ready (newest first), then ready (newest first), from the least preferred pool.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::scenario::MAX_POOLS;

/// Pods that became ready together (same start and ready time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyCohort {
    pub start_secs: u64,
    pub ready_secs: u64,
    pub count: u32,
}

/// Pods scheduled together onto one pool, booting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartingCohort {
    pub start_secs: u64,
    pub ready_secs: u64,
    pub pool: u8,
    pub count: u32,
}

/// Pods being deleted, still holding their resources until `done_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminatingCohort {
    pub done_secs: u64,
    pub pool: u8,
    pub count: u32,
}

/// How long freshly ready pods stay individually tracked (the HPA's CPU initialisation period).
pub const RECENT_READY_SECS: u64 = 300;

/// Pod state of one workload.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PodGroup {
    /// Replicas the controller wants (the Deployment's `spec.replicas`).
    pub desired: u32,
    /// Created but not yet placed on a node.
    pub pending: u32,
    /// When the oldest currently pending pod was created (scheduling is FIFO within a priority).
    pub pending_since_secs: u64,
    pub starting: VecDeque<StartingCohort>,
    pub starting_total: u32,
    /// Ready pods per pool.
    pub ready_by_pool: [u32; MAX_POOLS],
    pub ready_total: u32,
    /// Ready pods that became ready within the last [`RECENT_READY_SECS`], oldest first (for the HPA's rules).
    pub recent_ready: VecDeque<ReadyCohort>,
    pub terminating: VecDeque<TerminatingCohort>,
    pub terminating_total: u32,
}

impl PodGroup {
    /// Pods that exist and are not being deleted (what `spec.replicas` is compared to).
    pub fn live(&self) -> u32 {
        self.pending + self.starting_total + self.ready_total
    }

    /// Pods holding node resources in `pool` (starting, ready or terminating).
    pub fn placed_in(&self, pool: usize) -> u32 {
        let starting: u32 = self.starting.iter().filter(|c| c.pool as usize == pool).map(|c| c.count).sum();
        let terminating: u32 = self.terminating.iter().filter(|c| c.pool as usize == pool).map(|c| c.count).sum();
        self.ready_by_pool[pool] + starting + terminating
    }

    /// Pods running or starting in `pool`: what eviction can take from it.
    pub fn running_in(&self, pool: usize) -> u32 {
        self.ready_by_pool[pool]
            + self.starting.iter().filter(|c| c.pool as usize == pool).map(|c| c.count).sum::<u32>()
    }

    /// Creates `n` pods in Pending.
    pub fn create(&mut self, n: u32, now: u64) {
        if n == 0 {
            return;
        }
        if self.pending == 0 {
            self.pending_since_secs = now;
        }
        self.pending += n;
    }

    /// Places `n` pending pods on `pool`; they become ready after `cold_start_secs`.
    pub fn place(&mut self, n: u32, pool: usize, now: u64, cold_start_secs: u64) {
        let n = n.min(self.pending);
        if n == 0 {
            return;
        }
        self.pending -= n;
        if self.pending == 0 {
            self.pending_since_secs = now;
        }
        let ready_secs = now + cold_start_secs;
        match self.starting.back_mut() {
            Some(c) if c.start_secs == now && c.pool as usize == pool && c.ready_secs == ready_secs => c.count += n,
            _ => self.starting.push_back(StartingCohort { start_secs: now, ready_secs, pool: pool as u8, count: n }),
        }
        self.starting_total += n;
    }

    /// Moves pods whose boot finished by `now` to Ready, and finished terminations out.
    /// Returns the resources freed by terminations as (pool, pod count) pairs through `freed`.
    #[inline]
    pub fn advance(&mut self, now: u64, freed: &mut impl FnMut(usize, u32)) {
        // Most apps, most ticks, have no pod starting, recently ready or terminating: nothing to move, and no call
        // (left out of line, the call alone cost 3% of a simulated day; callgrind).
        if self.starting.is_empty() && self.recent_ready.is_empty() && self.terminating.is_empty() {
            return;
        }
        self.advance_cohorts(now, freed);
    }

    fn advance_cohorts(&mut self, now: u64, freed: &mut impl FnMut(usize, u32)) {
        // Cold starts are per app, so starting cohorts finish in order.
        while let Some(c) = self.starting.front().copied() {
            if c.ready_secs > now {
                break;
            }
            self.starting.pop_front();
            self.starting_total -= c.count;
            self.ready_by_pool[c.pool as usize] += c.count;
            self.ready_total += c.count;
            match self.recent_ready.back_mut() {
                Some(r) if r.ready_secs == c.ready_secs && r.start_secs == c.start_secs => r.count += c.count,
                _ => self.recent_ready.push_back(ReadyCohort {
                    start_secs: c.start_secs,
                    ready_secs: c.ready_secs,
                    count: c.count,
                }),
            }
        }
        while let Some(r) = self.recent_ready.front() {
            if r.ready_secs + RECENT_READY_SECS > now {
                break;
            }
            self.recent_ready.pop_front();
        }
        while let Some(t) = self.terminating.front().copied() {
            if t.done_secs > now {
                break;
            }
            self.terminating.pop_front();
            self.terminating_total -= t.count;
            freed(t.pool as usize, t.count);
        }
    }

    /// Deletes `n` live pods in ReplicaSet order. Scheduled pods go to Terminating in their pool for `grace_secs`.
    /// `pool_order` is the workload's pools, most preferred first (ready pods leave the least preferred first).
    pub fn delete(&mut self, n: u32, now: u64, grace_secs: u64, pool_order: &[usize]) {
        let mut left = n;
        let from_pending = left.min(self.pending);
        self.pending -= from_pending;
        left -= from_pending;
        while left > 0 {
            let Some(c) = self.starting.back_mut() else { break };
            let k = left.min(c.count);
            c.count -= k;
            let pool = c.pool;
            if c.count == 0 {
                self.starting.pop_back();
            }
            self.starting_total -= k;
            left -= k;
            self.terminate(k, pool, now + grace_secs);
        }
        if left > 0 {
            self.take_ready(left, pool_order, |g, pool, k| g.terminate(k, pool as u8, now + grace_secs));
        }
    }

    /// Removes `n` scheduled pods from `pool` at once (preemption or node loss); they are recreated as Pending.
    /// Returns how many were removed (starting pods first, newest first, then ready).
    pub fn evict(&mut self, n: u32, pool: usize, now: u64) -> u32 {
        let mut left = n;
        let mut i = self.starting.len();
        while left > 0 && i > 0 {
            i -= 1;
            if self.starting[i].pool as usize != pool {
                continue;
            }
            let k = left.min(self.starting[i].count);
            self.starting[i].count -= k;
            self.starting_total -= k;
            left -= k;
            if self.starting[i].count == 0 {
                let _ = self.starting.remove(i);
            }
        }
        if left > 0 {
            left -= self.take_ready(left, &[pool], |_, _, _| {});
        }
        let evicted = n - left;
        self.create(evicted, now);
        evicted
    }

    /// Drops up to `n` terminating pods in `pool` at once (their node vanished); returns how many.
    pub fn drop_terminating(&mut self, n: u32, pool: usize) -> u32 {
        let mut left = n;
        for c in self.terminating.iter_mut().rev() {
            if left == 0 {
                break;
            }
            if c.pool as usize == pool {
                let k = left.min(c.count);
                c.count -= k;
                left -= k;
            }
        }
        self.terminating.retain(|c| c.count > 0);
        let dropped = n - left;
        self.terminating_total -= dropped;
        dropped
    }

    /// Takes up to `n` ready pods from the pools in `pools` (last first), newest first for the HPA bookkeeping.
    fn take_ready(&mut self, n: u32, pools: &[usize], mut on_take: impl FnMut(&mut Self, usize, u32)) -> u32 {
        let mut left = n;
        for &pool in pools.iter().rev() {
            let k = left.min(self.ready_by_pool[pool]);
            if k == 0 {
                continue;
            }
            self.ready_by_pool[pool] -= k;
            self.ready_total -= k;
            left -= k;
            on_take(self, pool, k);
            if left == 0 {
                break;
            }
        }
        let taken = n - left;
        let mut drop = taken;
        while drop > 0 {
            let Some(r) = self.recent_ready.back_mut() else { break };
            let k = drop.min(r.count);
            r.count -= k;
            drop -= k;
            if r.count == 0 {
                self.recent_ready.pop_back();
            }
        }
        taken
    }

    fn terminate(&mut self, n: u32, pool: u8, done_secs: u64) {
        if n == 0 {
            return;
        }
        match self.terminating.back_mut() {
            Some(t) if t.done_secs == done_secs && t.pool == pool => t.count += n,
            _ => self.terminating.push_back(TerminatingCohort { done_secs, pool, count: n }),
        }
        self.terminating_total += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_pending_starting_ready_terminating() {
        let mut g = PodGroup::default();
        g.create(5, 0);
        assert_eq!((g.pending, g.live()), (5, 5));
        g.place(3, 1, 5, 30);
        assert_eq!((g.pending, g.starting_total), (2, 3));
        let mut freed = Vec::new();
        g.advance(30, &mut |p, n| freed.push((p, n)));
        assert_eq!(g.ready_total, 0, "not ready before the cold start has passed");
        g.advance(35, &mut |p, n| freed.push((p, n)));
        assert_eq!((g.ready_total, g.ready_by_pool[1]), (3, 3));
        assert_eq!(g.recent_ready.len(), 1);
        // Delete 4: the 2 pending first, then 2 ready, which terminate in pool 1 for 30 s.
        g.delete(4, 40, 30, &[0, 1]);
        assert_eq!((g.pending, g.ready_total, g.terminating_total), (0, 1, 2));
        assert_eq!(g.placed_in(1), 3);
        g.advance(70, &mut |p, n| freed.push((p, n)));
        assert_eq!(freed, vec![(1, 2)]);
        assert_eq!(g.placed_in(1), 1);
    }

    #[test]
    fn eviction_recreates_pods_as_pending() {
        let mut g = PodGroup::default();
        g.create(4, 0);
        g.place(2, 0, 0, 10);
        g.place(2, 2, 0, 10);
        g.advance(10, &mut |_, _| {});
        assert_eq!(g.evict(5, 2, 20), 2);
        assert_eq!((g.ready_total, g.pending, g.ready_by_pool[2]), (2, 2, 0));
    }
}
