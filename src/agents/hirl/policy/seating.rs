//! The executor's seating rules when pods wait for nodes: callees first, survival first, pacing of node requests,
//! and slack that waits for room. Each runs after the Soldiers' replica decisions of a tick and may only hold
//! targets lower (or node requests fewer); see [`super::HirlConfig`] for the settings and `docs/hirl-measurements.md`
//! for what each was measured to buy.

use super::super::record::{CalleeHold, Staging};
use super::super::safety::SafetyLevel;
use super::super::slack::{self, SlackApp};
use super::super::survival::StagedApp;
use super::HirlPolicy;
use crate::policy::cluster_autoscaler::DeferredDemand;
use crate::sim::{Actions, AppId, DomainId, Layout, Observation, PoolId};

impl HirlPolicy {
    /// Callees first (see [`super::HirlConfig::callees_first`]). A hold starts when a callee sharing a pool with its caller
    /// is seen in breach (lagged p99 or errors) with unschedulable pods worth `callee_hold_min_share` of the CPU it
    /// holds, and ends when none of its pods is left waiting. While it lasts, each of the caller's apps is kept at its
    /// seated pods (ready and starting), never below its minimum, and what that holds back is declared to the cluster
    /// autoscaler. Runs after every other replica decision of the tick, so nothing overrides it.
    pub(super) fn seat_callees_first(
        &mut self,
        obs: &Observation<'_>,
        out: &mut Actions,
        deferred: &mut Vec<DeferredDemand>,
    ) {
        let layout = obs.layout();
        let n = layout.domains.len();
        let n_apps = layout.apps.len();
        let mut waiting_cpu = vec![0u64; n];
        for u in &self.ca_pending {
            waiting_cpu[u.domain.0 as usize] += u64::from(u.pods) * u64::from(u.cpu_request_millicores);
        }
        let t = obs.now_secs();
        for c in 0..n {
            let caller = &layout.domains[c];
            let holding = self.callee_hold[c];
            let hold = caller.calls.iter().map(|&(callee, _)| callee).find(|&callee| {
                let e = callee.0 as usize;
                let shared = layout.domains[e].pools.iter().any(|p| caller.pools.contains(p));
                let seen = obs.domain(callee);
                let info = &layout.domains[e];
                let failing = f64::from(seen.p99_latency_ms) > info.slo_p99_latency_ms
                    || f64::from(seen.error_ratio) > info.error_budget_ratio;
                shared
                    && if holding == Some(e) {
                        waiting_cpu[e] > 0
                    } else {
                        failing
                            && waiting_cpu[e] as f64
                                >= self.cfg.callee_hold_min_share * seen.cpu_allocated_millicores as f64
                    }
            });
            let hold = hold.map(|callee| callee.0 as usize);
            if hold != holding {
                for (callee, started) in [(holding, false), (hold, true)] {
                    if let (Some(callee), Some(log)) = (callee, self.log_mut()) {
                        log.holds.push(CalleeHold { t_secs: t, caller: c, callee, started });
                    }
                }
            }
            self.callee_hold[c] = hold;
            let Some(callee) = hold else {
                continue;
            };
            // Each app's seated pods: spec.replicas less its unschedulable pods (current, not lagged).
            let apps = caller.apps.clone();
            let mut cap: Vec<u32> = apps.clone().map(|a| obs.app_desired_replicas(AppId(a))).collect();
            for u in self.ca_pending.iter().filter(|u| (u.workload as usize) < n_apps && apps.contains(&u.workload)) {
                let k = (u.workload - apps.start) as usize;
                cap[k] = cap[k].saturating_sub(u.pods);
            }
            for (k, a) in apps.clone().enumerate() {
                cap[k] = cap[k].max(self.bounds[a as usize].0);
            }
            // This tick's decision for each app (a Soldier's or a fallback HPA's), else its current count; each is
            // kept within the cap, and what the cap takes off is held back.
            let mut target: Vec<u32> = apps.clone().map(|a| obs.app_desired_replicas(AppId(a))).collect();
            let current = target.clone();
            out.replicas.retain(|&(a, r)| {
                let mine = apps.contains(&a.0);
                if mine {
                    target[(a.0 - apps.start) as usize] = r;
                }
                !mine
            });
            let (mut held_cpu, mut held_mem) = (0u64, 0u64);
            let mut made = Vec::new();
            for (k, a) in apps.clone().enumerate() {
                let kept = target[k].min(cap[k]);
                let info = &layout.apps[a as usize];
                held_cpu += u64::from(target[k] - kept) * u64::from(info.cpu_request_millicores);
                held_mem += u64::from(target[k] - kept) * u64::from(info.memory_request_mib);
                if kept != current[k] {
                    out.replicas.push((AppId(a), kept));
                    made.push((a, current[k], kept));
                }
            }
            // The Soldier record of this tick, if the Soldier decided now, shows the changes actually made.
            let decided_now = self
                .log_mut()
                .and_then(|log| log.soldiers.iter_mut().rev().take_while(|r| r.t_secs == t).find(|r| r.domain == c));
            if let Some(rec) = decided_now {
                rec.held_for_callee = Some(callee);
                rec.replica_changes = made;
            }
            if held_cpu > 0 {
                deferred.push(DeferredDemand {
                    domain: DomainId(c as u8),
                    cpu_millicores: held_cpu,
                    memory_mib: held_mem,
                });
            }
        }
    }

    /// Survival first (see [`super::super::survival`]): stages every domain whose pods wait for nodes, after this tick's
    /// replica decisions and before callees first (which may hold a caller's apps lower still).
    pub(super) fn seat_survival_first(
        &mut self,
        obs: &Observation<'_>,
        out: &mut Actions,
        deferred: &mut Vec<DeferredDemand>,
    ) {
        let layout = obs.layout();
        let n_apps = layout.apps.len();
        let cfg = *self.survival.config();
        self.app_pending.clear();
        self.app_pending.resize(n_apps, 0);
        let mut waiting = vec![false; layout.domains.len()];
        for u in self.ca_pending.iter().filter(|u| (u.workload as usize) < n_apps) {
            self.app_pending[u.workload as usize] += u.pods;
            waiting[u.domain.0 as usize] = true;
        }
        let t = obs.now_secs();
        for (d, &waits) in waiting.iter().enumerate() {
            // Staging starts only with pods waiting; this runs every tick, so a calm domain costs nothing.
            if !waits && !self.survival.is_engaged(d) {
                continue;
            }
            let apps = layout.domains[d].apps.clone();
            let first = apps.start as usize;
            let mut staged: Vec<StagedApp> = apps
                .clone()
                .map(|a| {
                    let i = a as usize;
                    let info = &layout.apps[i];
                    let (lo, hi) = self.bounds[i];
                    let rps = f64::from(obs.app_rps(AppId(a)));
                    let pods_at = |u: f64| ((rps / (info.pod_rps * u).max(1e-9)).ceil() as u32).clamp(lo, hi);
                    let current = obs.app_desired_replicas(AppId(a));
                    StagedApp {
                        current,
                        pending: self.app_pending[i],
                        target: current,
                        survival_pods: pods_at(cfg.utilisation),
                        resize_pods: pods_at(cfg.resize_utilisation),
                        cpu_request_millicores: info.cpu_request_millicores,
                        memory_request_mib: info.memory_request_mib,
                        min_pods: lo,
                    }
                })
                .collect();
            for &(a, r) in out.replicas.iter().filter(|(a, _)| apps.contains(&a.0)) {
                staged[a.0 as usize - first].target = r;
            }
            let allocated = obs.domain(DomainId(d as u8)).cpu_allocated_millicores;
            let result = self.survival.stage(d, first, &staged, allocated);
            if let (Some(started), Some(log)) = (result.changed, self.log_mut()) {
                log.stagings.push(Staging { t_secs: t, domain: d, started });
            }
            if !result.engaged {
                continue;
            }
            out.replicas.retain(|(a, _)| !apps.contains(&a.0));
            for ((a, app), &kept) in apps.clone().zip(&staged).zip(&result.kept) {
                if kept != app.current {
                    out.replicas.push((AppId(a), kept));
                }
            }
            if result.held_cpu_millicores > 0 {
                deferred.push(DeferredDemand {
                    domain: DomainId(d as u8),
                    cpu_millicores: result.held_cpu_millicores,
                    memory_mib: result.held_memory_mib,
                });
            }
        }
    }

    /// Declares to the scorer the pods held back on purpose this tick ([`crate::policy::held_back`]), after every
    /// seating rule. While survival first stages a domain or callees first holds it, each of its apps is sized at the
    /// last decision made for it (a Soldier's or a fallback HPA's) since the rule engaged, else at its count when it
    /// engaged; what stands below that is held back. A domain run by its HPAs holds back what their rate limits and
    /// `maxReplicas` took off. Slack trimmed for want of room is not declared: it is beyond the need.
    pub(super) fn declare_held_back(&mut self, obs: &Observation<'_>, levels: &[SafetyLevel], out: &mut Actions) {
        let layout = obs.layout();
        // Each app's count after this tick, needed only while a rule holds some domain (most ticks none does).
        let any_held = (0..layout.domains.len()).any(|d| self.callee_hold[d].is_some() || self.survival.is_engaged(d));
        let mut final_replicas: Vec<u32> = Vec::new();
        if any_held {
            final_replicas.extend((0..layout.apps.len()).map(|a| obs.app_desired_replicas(AppId(a as u32))));
            for &(a, r) in &out.replicas {
                if let Some(f) = final_replicas.get_mut(a.0 as usize) {
                    *f = r;
                }
            }
        }
        for (d, domain) in layout.domains.iter().enumerate() {
            let (held, staged) = (self.callee_hold[d].is_some(), self.survival.is_engaged(d));
            if let Some(time) = self.seating_time.get_mut(d) {
                time.tick(crate::sim::TICK_SECS, held, staged);
            }
            let seated_by_rule = held || staged;
            let on_hpa = levels.get(d) == Some(&SafetyLevel::HpaFallback);
            for a in domain.apps.clone() {
                let i = a as usize;
                let by_rule = if seated_by_rule {
                    let sized = self.decided[i].or(self.hold_sized[i]).unwrap_or(obs.app_desired_replicas(AppId(a)));
                    self.hold_sized[i] = Some(sized);
                    sized.saturating_sub(final_replicas[i])
                } else {
                    self.hold_sized[i] = None;
                    0
                };
                // A domain handed back to the Soldiers forgets its HPAs' last holds, so a later hand-over starts clean.
                let by_hpa = if on_hpa {
                    self.hpa_held[i]
                } else {
                    self.hpa_held[i] = 0;
                    0
                };
                self.held_back.declare(AppId(a), by_rule.max(by_hpa), out);
            }
        }
    }

    /// Keeps the nodes booting or queued at the cloud API within `max_inflight_nodes`: boot latency grows with the
    /// queue, so a huge batch lands later than the same nodes asked for as earlier ones arrive (the stampede).
    pub(super) fn pace_node_requests(&self, obs: &Observation<'_>, out: &mut Actions) {
        let layout = obs.layout();
        let mut inflight: u32 = (0..layout.pools.len())
            .map(|p| {
                let v = obs.pool(PoolId(p as u8));
                v.booting_nodes + v.queued_nodes
            })
            .sum();
        for (_, k) in &mut out.node_requests {
            let room = self.max_inflight_nodes.saturating_sub(inflight);
            *k = (*k).min(room);
            inflight += *k;
        }
        out.node_requests.retain(|(_, k)| *k > 0);
    }

    /// At a Soldier tick: the free CPU per pool that slack may take (see [`super::super::slack`]):
    /// capacity less what pods request (reserve placeholders give way to any pod, so their room counts as free),
    /// less the CPU of every pod waiting (`ca_pending`, read at the start of the tick), counted in its domain's first
    /// pool. Counting it there alone is enough: a pod waits because none of its domain's pools has its request free,
    /// so the others hold less than one request's room each.
    pub(super) fn measure_slack_room(&mut self, obs: &Observation<'_>) {
        self.slack_deferred.clear();
        self.slack_room.clear();
        if !self.cfg.slack_waits_for_room {
            return;
        }
        let layout = obs.layout();
        self.slack_room.extend((0..layout.pools.len()).map(|p| {
            let v = obs.pool(PoolId(p as u8));
            v.cpu_capacity_millicores as i64 - v.cpu_requested_millicores as i64
        }));
        for u in &self.ca_pending {
            let Some(app) = layout.apps.get(u.workload as usize) else { continue };
            if let Some(&p) = layout.domains[u.domain.0 as usize].pools.first() {
                self.slack_room[p.0 as usize] -= i64::from(u.pods) * i64::from(app.cpu_request_millicores);
            }
        }
    }

    /// Slack waits for room (see [`super::super::slack`]): trims the domain's targets to the room its pools have left at
    /// this Soldier tick, takes that room from the next Soldier's, and declares what waits as deferred demand.
    /// Returns the CPU held back, millicores.
    pub(super) fn seat_slack_in_room(
        &mut self,
        layout: &Layout,
        d: usize,
        current: &[u32],
        needs: &[f64],
        targets: &mut [u32],
    ) -> u64 {
        let apps: Vec<SlackApp> = layout.domains[d]
            .apps
            .clone()
            .zip(current.iter().zip(needs))
            .map(|(a, (&current, &need_pods))| {
                let info = &layout.apps[a as usize];
                SlackApp {
                    current,
                    need_pods,
                    cpu_request_millicores: info.cpu_request_millicores,
                    memory_request_mib: info.memory_request_mib,
                }
            })
            .collect();
        let pools = || layout.domains[d].pools.iter().map(|p| p.0 as usize);
        let room: i64 = pools().map(|p| self.slack_room[p].max(0)).sum();
        let trimmed = slack::trim_to_room(&apps, room.max(0) as u64, targets);
        slack::take_room(&mut self.slack_room, pools(), trimmed.taken_millicores);
        if trimmed.held_cpu_millicores > 0 {
            self.slack_deferred.push(DeferredDemand {
                domain: DomainId(d as u8),
                cpu_millicores: trimmed.held_cpu_millicores,
                memory_mib: trimmed.held_memory_mib,
            });
        }
        trimmed.held_cpu_millicores
    }
}
