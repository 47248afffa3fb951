//! Survival first: when a domain's pods wait for nodes, every one of its apps is seated to the pods that carry its
//! load before any app gets the rest of its target.
//!
//! Why: a domain's p99 is the request-weighted 99th percentile over its apps (DESIGN §4), so it stays at the timeout
//! while more than 1% of its requests reach apps that are still saturated, however many pods its other apps hold. The
//! scheduler seats a priority's pending pods oldest first, and a surge's scale-ups are hundreds of apps each asking for
//! its whole HPA target (60–70% CPU): when nodes come slower than the surge, some apps are seated to that target while
//! others wait at 100%. Measured on fraud-cascade (seed 1001, before this rule): Payment ran at 80% CPU with 113,000
//! pods ready and its p99 still at the timeout, because the pods were in the wrong apps.
//!
//! The rule, per domain, at every tick: an app's *survival size* is the pods that run its observed (lagged) request
//! rate at [`SurvivalConfig::utilisation`]; it is re-sized only when the load would run the standing size above
//! [`SurvivalConfig::resize_utilisation`] (so a staged app's replicas do not follow every wobble of its rate, which
//! would count as scaling actions). Staging starts when the survival pods not yet seated are worth
//! [`SurvivalConfig::min_share`] of the domain's allocated CPU and some of its pods wait; it ends when every app is
//! seated to its survival size. While it lasts, each app is kept at `max(survival, min(target, seated))`: apps below
//! survival ask for their survival pods (and only those), apps above it keep the pods already seated (or their
//! target, if lower). What that holds back is declared to the cluster autoscaler as deferred demand, so every node
//! the full targets need is still bought at once.
//!
//! An app is raised to its survival size even when this tick's decision asks for less
//! ([`SurvivalConfig::raise_to_survival`]): in a breach the safety layer hands the domain to its stock HPAs, whose
//! CPU metric stops at 100% and counts new pods at 0%, so an app can sit saturated for minutes without its HPA
//! asking for a pod. Traced on fraud-cascade (seed 1001): Payment's app 13 ran at 104% of its capacity for 11
//! minutes, its `spec.replicas` unchanged, while the staging it held open kept the rest of Payment at its seated pods.
//!
//! Staging climbs two rungs ([`SurvivalConfig::first_rung_utilisation`]): first every app is raised to the pods that
//! run its load at 84% CPU, and an app above that asks for nothing beyond its `spec.replicas` (pods it already asked
//! for stay in the queue); once every app is seated to that rung, to the survival size. Why: measured on
//! fraud-cascade (seed 1001, one rung), 25 minutes into the spike Payment had 106,000 pods ready against a load that
//! 95,000 would carry at 95% CPU, yet 108 apps with 16% of its requests were saturated, 7,900 pods short, while the
//! apps already at their survival size held 18,800 pods more than 95% CPU needs: the survival pods of the first apps
//! seated were the nodes the last ones waited for.
//!
//! Units: pods, millicores, MiB. Deterministic: apps in index order, no clocks.

/// Default: on, survival at 80% CPU, re-sized above 85%, staging from 5% of the domain's CPU, apps raised to it,
/// every app seated to 84% CPU first.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SurvivalConfig {
    /// Default true.
    pub enabled: bool,
    /// CPU utilisation a survival size runs its app at. Default 0.8: measured on the shipped suite (held-out seeds,
    /// P0+P1 breach minutes with the 0.85 re-size): 0.75 → 256, 0.8 → 242, 0.85 (re-sized at 0.92) → 238 but
    /// cascades 37 → 47, since apps staged that hot flicker over their SLO. Sizing each app from its M/M/c queue
    /// instead (99th-percentile wait within 10% of the tightest SLO it counts in) was worse at every cap measured
    /// (95% → 310, 90% → 254, 80% → 243): a hotter size is outgrown sooner, and a re-sized app's new pods are the
    /// newest pending ones, which the scheduler seats last.
    pub utilisation: f64,
    /// A staged app is re-sized when its load would run its survival size above this. Default 0.85. Re-sizing at
    /// every tick doubled the scaling actions (2.1 → 4.3 per app-hour); with a 10% band and no margin (re-size at
    /// 0.9 × 1.1) apps ran at 99% and the gain was gone.
    pub resize_utilisation: f64,
    /// Staging starts when the unseated survival pods are worth this share of the domain's allocated CPU. Default
    /// 0.05: a surge, not the few pods waiting for the next node in ordinary growth (0.02 and 0.1 measured the same).
    pub min_share: f64,
    /// A staged app below its survival size asks for it whatever this tick's decision is. Default true. Measured on
    /// the shipped suite (`eval --policies hirl`, P0+P1 breach minutes / all-domain / cascades / actions per app-hour,
    /// seed pairs 1001/1002 · 1003/1004 · 1005/1006), off → on: 225.6 → 220.1, 227.0 → 221.5, 228.3 → 208.2
    /// P0+P1; cascades 37 → 29, 35 → 30, 35 → 28; all-domain 426.5 → 454.9, 456.1 → 469.6, 465.2 → 455.8 (P0's
    /// survival pods preempt Internal sooner); actions 2.10 → 2.23, 2.14 → 2.27, 2.17 → 2.28; node-hours +0.1–0.2%.
    /// With it, survival at 0.75 (re-sized at 0.8) gave 239.8 / 240.2 / 229.3 and 0.85 (0.9) 209.1 / 212.8 / 206.0
    /// but cascades 34 / 30 / 46, so 0.8 stays.
    pub raise_to_survival: bool,
    /// Staging first seats every app to the pods that run its load at this utilisation (its *first rung*, derived
    /// from the standing survival size, so it moves only when that does), and asks for the rest of the survival
    /// sizes once every first rung is seated. On the first rung an app is raised to it but no pod already asked for
    /// is withdrawn: only asks beyond `spec.replicas` wait. Default 0.84; at or below [`Self::utilisation`] there
    /// is one rung. Measured on the shipped suite (`eval --policies hirl`, P0+P1 breach minutes / cascades / all-
    /// domain / actions per app-hour, seed pairs 1001/1002 · 1003/1004 · 1005/1006), one rung → 0.84: 220.1 → 198.2,
    /// 221.5 → 207.8, 208.2 → 192.8 P0+P1; cascades 29 → 31, 30 → 32, 28 → 31; all-domain 454.9 → 430.5, 469.6 →
    /// 441.2, 455.8 → 455.9; actions 2.23 → 2.20, 2.27 → 2.24, 2.28 → 2.28; node-hours within 0.1%. A hotter rung
    /// took no more breach off and flickered more (0.85: 36 cascades on 1001/1002; 0.9: 43–51); 0.825 gave 203.2 /
    /// 211.4 / 193.6. Withdrawing the pods asked for beyond the first rung (so arriving nodes seat only first
    /// rungs) was worse: 0.85 gave 205.9 / 204.7 / 188.3 at 2.37 / 2.45 / 2.41 actions per app-hour, above HPA's
    /// 2.34 on 1003/1004, and 0.95 gave 261.1 — withdrawn pods are asked for again later, behind every pod then
    /// waiting.
    pub first_rung_utilisation: f64,
}

impl Default for SurvivalConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            utilisation: 0.8,
            resize_utilisation: 0.85,
            min_share: 0.05,
            raise_to_survival: true,
            first_rung_utilisation: 0.84,
        }
    }
}

/// One app as staging sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StagedApp {
    /// `spec.replicas` now.
    pub current: u32,
    /// Its unschedulable pods now.
    pub pending: u32,
    /// What this tick's decision (a Soldier's, a fallback HPA's, or none: `current`) asks for.
    pub target: u32,
    /// Pods at [`SurvivalConfig::utilisation`] and at [`SurvivalConfig::resize_utilisation`] for its load, within
    /// the app's min/max replicas.
    pub survival_pods: u32,
    pub resize_pods: u32,
    pub cpu_request_millicores: u32,
    pub memory_request_mib: u32,
    /// Its HPA's `minReplicas`: no rung goes below it.
    pub min_pods: u32,
}

impl StagedApp {
    /// Its pods on a node (starting or ready): `spec.replicas` less the unschedulable ones.
    pub fn seated(&self) -> u32 {
        self.current.saturating_sub(self.pending)
    }

    /// The pods that run this app's load at `utilisation`, from its standing survival size `size` (which runs it
    /// at `survival_utilisation`): never above `size` nor below `min_pods`.
    fn rung(&self, size: u32, survival_utilisation: f64, utilisation: f64) -> u32 {
        if utilisation <= survival_utilisation {
            return size;
        }
        let pods = (f64::from(size) * survival_utilisation / utilisation).ceil() as u32;
        pods.max(self.min_pods).min(size)
    }
}

/// What staging a domain decided this tick.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Staged {
    /// The domain is staged after this tick.
    pub engaged: bool,
    /// Staging started (`Some(true)`) or ended (`Some(false)`) at this tick.
    pub changed: Option<bool>,
    /// Per app, the replicas to keep (empty when not staged).
    pub kept: Vec<u32>,
    /// What the kept replicas hold back from the targets (declared to the cluster autoscaler).
    pub held_cpu_millicores: u64,
    pub held_memory_mib: u64,
}

/// Per domain whether it is staged, per app its standing survival size.
#[derive(Clone, Debug)]
pub struct SurvivalFirst {
    cfg: SurvivalConfig,
    engaged: Vec<bool>,
    /// Per domain: its staging has seated every first rung and now asks for the survival sizes (until it ends).
    second_rung: Vec<bool>,
    survival: Vec<u32>,
}

impl SurvivalFirst {
    pub fn new(cfg: SurvivalConfig, n_domains: usize, n_apps: usize) -> Self {
        Self { cfg, engaged: vec![false; n_domains], second_rung: vec![false; n_domains], survival: vec![0; n_apps] }
    }

    pub fn config(&self) -> &SurvivalConfig {
        &self.cfg
    }

    /// Whether domain `d` is staged.
    pub fn is_engaged(&self, d: usize) -> bool {
        self.engaged[d]
    }

    /// Stages domain `d`, whose apps are `first..first + apps.len()` (the layout keeps a domain's apps contiguous).
    pub fn stage(&mut self, d: usize, first: usize, apps: &[StagedApp], allocated_cpu_millicores: u64) -> Staged {
        let was = self.engaged[d];
        let survival = &mut self.survival[first..first + apps.len()];
        let (mut unseated_cpu, mut waiting_cpu) = (0u64, 0u64);
        for (a, size) in apps.iter().zip(survival.iter_mut()) {
            if !was || *size == 0 || a.resize_pods > *size {
                *size = a.survival_pods;
            }
            let seated = a.seated();
            let cpu = u64::from(a.cpu_request_millicores);
            unseated_cpu += u64::from(size.saturating_sub(seated)) * cpu;
            waiting_cpu += u64::from(a.pending) * cpu;
        }
        let engaged = if was {
            unseated_cpu > 0
        } else {
            waiting_cpu > 0
                && unseated_cpu > 0
                && unseated_cpu as f64 >= self.cfg.min_share * allocated_cpu_millicores as f64
        };
        self.engaged[d] = engaged;
        let mut out = Staged { engaged, changed: (engaged != was).then_some(engaged), ..Staged::default() };
        if !engaged || !was {
            self.second_rung[d] = false;
        }
        if !engaged {
            return out;
        }
        let (u, u1) = (self.cfg.utilisation, self.cfg.first_rung_utilisation);
        // Once every first rung is seated the staging stays on the second, so an app re-sized mid-staging does not
        // hold every other app's survival pods back again.
        if !self.second_rung[d] {
            self.second_rung[d] =
                u1 <= u || apps.iter().zip(survival.iter()).all(|(a, &size)| a.seated() >= a.rung(size, u, u1));
        }
        let second = self.second_rung[d];
        out.kept = apps
            .iter()
            .zip(survival.iter())
            .map(|(a, &size)| {
                // On the first rung an app keeps every pod it asked for; on the second only the seated ones.
                let (size, kept_pods) = if second { (size, a.seated()) } else { (a.rung(size, u, u1), a.current) };
                let kept = if self.cfg.raise_to_survival {
                    size.max(a.target.min(kept_pods))
                } else {
                    a.target.min(kept_pods.max(size))
                };
                // A raise holds nothing back.
                let held = u64::from(a.target.saturating_sub(kept));
                out.held_cpu_millicores += held * u64::from(a.cpu_request_millicores);
                out.held_memory_mib += held * u64::from(a.memory_request_mib);
                kept
            })
            .collect();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Staging with the survival size as its only rung.
    fn one_rung() -> SurvivalConfig {
        SurvivalConfig { first_rung_utilisation: 0.8, ..SurvivalConfig::default() }
    }

    fn app(current: u32, pending: u32, target: u32, survival_pods: u32) -> StagedApp {
        StagedApp {
            current,
            pending,
            target,
            survival_pods,
            resize_pods: survival_pods,
            cpu_request_millicores: 500,
            memory_request_mib: 512,
            min_pods: 1,
        }
    }

    #[test]
    fn a_surge_seats_every_app_to_its_survival_size_before_any_gets_the_rest() {
        let mut s = SurvivalFirst::new(one_rung(), 1, 2);
        // App 0 asked first and has 80 of its 100 seated; app 1 (same surge) has none of its new pods seated.
        let apps = [app(100, 20, 130, 90), app(100, 60, 100, 95)];
        let staged = s.stage(0, 0, &apps, 100_000);
        assert_eq!(staged.changed, Some(true));
        // App 0 waits for nothing beyond its survival size (90, of which 80 seated), app 1 keeps asking for 95.
        assert_eq!(staged.kept, vec![90, 95]);
        assert_eq!(staged.held_cpu_millicores, (130 - 90 + 100 - 95) * 500);
        assert_eq!(staged.held_memory_mib, (130 - 90 + 100 - 95) * 512);
        // An app above its survival size keeps what is seated and withdraws the rest.
        let mut s = SurvivalFirst::new(one_rung(), 1, 2);
        let apps = [app(100, 20, 130, 70), app(100, 60, 100, 95)];
        assert_eq!(s.stage(0, 0, &apps, 100_000).kept, vec![80, 95]);
    }

    #[test]
    fn staging_ends_once_every_app_is_seated_to_survival_and_the_targets_return() {
        let mut s = SurvivalFirst::new(one_rung(), 1, 2);
        assert!(s.stage(0, 0, &[app(100, 20, 130, 90), app(100, 60, 100, 95)], 100_000).engaged);
        let done = s.stage(0, 0, &[app(90, 0, 130, 90), app(95, 0, 100, 95)], 100_000);
        assert_eq!((done.engaged, done.changed), (false, Some(false)));
        assert!(done.kept.is_empty(), "the targets stand: {done:?}");
    }

    #[test]
    fn ordinary_growth_is_not_staged() {
        let mut s = SurvivalFirst::new(one_rung(), 1, 1);
        // Two pods wait, 1 000 m of survival unseated: under 5% of 100 000 m.
        let staged = s.stage(0, 0, &[app(100, 2, 102, 100)], 100_000);
        assert_eq!((staged.engaged, staged.changed), (false, None));
        // No pod waits: nothing to stage, however far the rate says it should grow.
        assert!(!s.stage(0, 0, &[app(100, 0, 100, 200)], 100_000).engaged);
    }

    #[test]
    fn a_staged_app_is_resized_only_when_its_load_outgrows_the_band() {
        let mut s = SurvivalFirst::new(one_rung(), 1, 1);
        let mut a = app(100, 50, 150, 120);
        a.resize_pods = 113;
        assert_eq!(s.stage(0, 0, &[a], 100_000).kept, vec![120]);
        // The rate wobbles up: the 0.8 size says 125, the 0.85 size 118 still fits in 120, so nothing moves.
        a.survival_pods = 125;
        a.resize_pods = 118;
        assert_eq!(s.stage(0, 0, &[a], 100_000).kept, vec![120]);
        // It outgrows the band: re-sized at 0.8.
        a.survival_pods = 135;
        a.resize_pods = 127;
        assert_eq!(s.stage(0, 0, &[a], 100_000).kept, vec![135]);
    }

    #[test]
    fn a_staged_app_whose_controller_does_not_ask_is_raised_to_its_survival_size() {
        // App 0's pods all wait, so the domain is staged; app 1 is saturated and fully seated, and its stock HPA
        // (CPU capped at 100%) asks for nothing: its target is its current count.
        let apps = [app(100, 100, 100, 100), app(380, 0, 380, 496)];
        let mut s = SurvivalFirst::new(one_rung(), 1, 2);
        let staged = s.stage(0, 0, &apps, 100_000);
        assert_eq!(staged.kept, vec![100, 496]);
        assert_eq!(staged.held_cpu_millicores, 0, "a raise holds nothing back");
        // The rule before: the app stays where its controller left it.
        let before = SurvivalConfig { raise_to_survival: false, ..one_rung() };
        let mut s = SurvivalFirst::new(before, 1, 2);
        assert_eq!(s.stage(0, 0, &apps, 100_000).kept, vec![100, 380]);
        // A target above survival is still held to the seated pods or survival, whichever is more.
        let mut s = SurvivalFirst::new(one_rung(), 1, 1);
        assert_eq!(s.stage(0, 0, &[app(500, 100, 600, 450)], 100_000).kept, vec![450]);
    }

    #[test]
    fn every_app_is_seated_to_its_first_rung_before_any_asks_for_its_survival_size() {
        // Survival at 80% CPU, first rung at 84%: a survival size of 105 pods is a first rung of 100.
        let mut s = SurvivalFirst::new(SurvivalConfig::default(), 1, 3);
        let apps = [
            // Saturated and short of its first rung: raised to it.
            app(60, 0, 60, 105),
            // Past its first rung, asking for its survival size: waits at its spec.replicas, seated or not.
            app(102, 0, 105, 105),
            // Its pods already asked for beyond the first rung stay in the queue.
            app(104, 40, 104, 105),
        ];
        let staged = s.stage(0, 0, &apps, 100_000);
        assert!(staged.engaged);
        assert_eq!(staged.kept, vec![100, 102, 104]);
        assert_eq!(staged.held_cpu_millicores, 3 * 500, "app 1's three pods wait, and nodes are bought for them");
        // Every first rung is seated: the survival sizes are asked for, and pods beyond them withdrawn.
        let apps = [app(100, 0, 100, 105), app(102, 0, 105, 105), app(110, 5, 110, 105)];
        assert_eq!(s.stage(0, 0, &apps, 100_000).kept, vec![105, 105, 105]);
        // The staging stays on the second rung when an app falls back under its first.
        let apps = [app(105, 10, 105, 105), app(105, 0, 105, 105), app(105, 0, 105, 105)];
        assert_eq!(s.stage(0, 0, &apps, 100_000).kept, vec![105, 105, 105]);
        // Without the raise the first rung only holds asks back: app 0 stays where its controller left it.
        let no_raise = SurvivalConfig { raise_to_survival: false, ..SurvivalConfig::default() };
        let mut s = SurvivalFirst::new(no_raise, 1, 3);
        let apps = [app(60, 0, 60, 105), app(102, 0, 105, 105), app(104, 40, 104, 105)];
        assert_eq!(s.stage(0, 0, &apps, 100_000).kept, vec![60, 102, 104]);
    }

    #[test]
    fn a_first_rung_is_never_above_the_survival_size_nor_under_min_replicas() {
        let a = StagedApp { min_pods: 3, ..app(10, 0, 10, 4) };
        assert_eq!(a.rung(105, 0.8, 0.84), 100);
        assert_eq!(a.rung(4, 0.8, 0.84), 4, "ceil(3.8) = 4");
        assert_eq!(a.rung(3, 0.8, 0.99), 3, "min replicas");
        assert_eq!(a.rung(105, 0.8, 0.8), 105, "one rung");
        assert_eq!(a.rung(105, 0.8, 0.7), 105, "a rung cooler than survival is no rung");
    }
}
