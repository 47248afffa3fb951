//! The safety layer's trigger logic (DESIGN §6, seed 002 step 4: detect and fall back), per domain and graduated by
//! priority. It sees only what a controller sees (lagged p99 over the SLO, telemetry age, whether the network's
//! output was finite) and decides how much the learned policy may still do for that domain:
//!
//! - **Normal**: the Soldier acts.
//! - **Alert**: p99 ≥ `alert_ratio` × SLO held for `hold_secs` (P0: 1.2× for 15 s). Recorded; the Soldier acts.
//! - **Freeze**: p99 ≥ `freeze_ratio` × SLO (P0: 1.5×): no scale-downs for the domain.
//! - **HPA**: p99 ≥ `fallback_ratio` × SLO (P0: 2×), telemetry older than `stale_after_secs`, or a non-finite network
//!   output: the domain goes back to stock HPA.
//!
//! Escalation is immediate (after the alert hold); recovery steps all the way back to Normal only after p99 has stayed
//! under the SLO for `recover_secs`, so a domain does not flap between controllers. Every change of level is an
//! [`Intervention`], in time order. Time is integer seconds.

use crate::scenario::Priority;

/// How far the learned policy is trusted with a domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SafetyLevel {
    Normal,
    Alert,
    Freeze,
    HpaFallback,
}

/// Thresholds for one priority, as multiples of the p99 SLO.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    pub alert_ratio: f32,
    pub hold_secs: u64,
    pub freeze_ratio: f32,
    pub fallback_ratio: f32,
}

/// Defaults: P0 as DESIGN §6 states it; lower priorities tolerate more before the learned policy loses them (our
/// choice: their SLOs are looser promises, and handing them to HPA costs the cluster plan more than it saves).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SafetyConfig {
    /// Indexed by priority (P0 first). Default: P0 1.2/15 s/1.5/2, P1 1.3/30 s/1.75/2.5, P2 1.5/60 s/2/3, P3 2/60 s/3/4.
    pub by_priority: [Thresholds; 4],
    /// Telemetry older than this hands the domain to HPA. Default: 300 s.
    pub stale_after_secs: u64,
    /// p99 under the SLO this long returns the domain to Normal. Default: 120 s.
    pub recover_secs: u64,
}

impl Default for SafetyConfig {
    fn default() -> Self {
        let t = |alert_ratio, hold_secs, freeze_ratio, fallback_ratio| Thresholds {
            alert_ratio,
            hold_secs,
            freeze_ratio,
            fallback_ratio,
        };
        Self {
            by_priority: [t(1.2, 15, 1.5, 2.0), t(1.3, 30, 1.75, 2.5), t(1.5, 60, 2.0, 3.0), t(2.0, 60, 3.0, 4.0)],
            stale_after_secs: 300,
            recover_secs: 120,
        }
    }
}

/// One change of a domain's level, with the numbers that caused it.
#[derive(Clone, Debug, PartialEq)]
pub struct Intervention {
    pub t_secs: u64,
    pub domain: usize,
    pub from: SafetyLevel,
    pub to: SafetyLevel,
    pub reason: String,
}

/// How long a domain was run by its stock HPAs (the fallback) over a run, and how many times it was handed over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FallbackTime {
    pub secs: u64,
    pub handovers: u32,
}

/// Per domain, the time on the HPA fallback from t = 0 to `end_secs`, from the interventions in time order.
pub fn fallback_time(interventions: &[Intervention], n_domains: usize, end_secs: u64) -> Vec<FallbackTime> {
    let mut out = vec![FallbackTime::default(); n_domains];
    let mut since: Vec<Option<u64>> = vec![None; n_domains];
    for i in interventions.iter().filter(|i| i.domain < n_domains && i.t_secs <= end_secs) {
        let on = i.to == SafetyLevel::HpaFallback;
        match (since[i.domain], on) {
            (None, true) => {
                since[i.domain] = Some(i.t_secs);
                out[i.domain].handovers += 1;
            }
            (Some(start), false) => {
                out[i.domain].secs += i.t_secs - start;
                since[i.domain] = None;
            }
            _ => {}
        }
    }
    for (d, start) in since.iter().enumerate() {
        if let Some(start) = start {
            out[d].secs += end_secs - start;
        }
    }
    out
}

/// What the layer is told about a domain at a decision time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DomainSignal {
    /// Observed p99 / SLO; `None` when there is no sample.
    pub p99_ratio: Option<f32>,
    /// Seconds since the newest telemetry sample was taken.
    pub telemetry_age_secs: u64,
    /// Whether the network's output for this domain was finite.
    pub output_finite: bool,
}

#[derive(Clone, Debug, Default)]
struct DomainState {
    level: Option<SafetyLevel>,
    above_alert_since: Option<u64>,
    below_slo_since: Option<u64>,
}

/// Per-domain safety state for one run.
#[derive(Clone, Debug)]
pub struct SafetyLayer {
    cfg: SafetyConfig,
    priorities: Vec<Priority>,
    state: Vec<DomainState>,
    interventions: Vec<Intervention>,
}

impl SafetyLayer {
    pub fn new(cfg: SafetyConfig, priorities: Vec<Priority>) -> Self {
        let n = priorities.len();
        Self { cfg, priorities, state: vec![DomainState::default(); n], interventions: Vec::new() }
    }

    pub fn level(&self, domain: usize) -> SafetyLevel {
        self.state[domain].level.unwrap_or(SafetyLevel::Normal)
    }

    pub fn interventions(&self) -> &[Intervention] {
        &self.interventions
    }

    /// Updates one domain at `t_secs` and returns its level.
    pub fn update(&mut self, t_secs: u64, domain: usize, signal: DomainSignal) -> SafetyLevel {
        let th = self.cfg.by_priority[self.priorities[domain] as usize];
        let current = self.level(domain);
        let s = &mut self.state[domain];
        let ratio = signal.p99_ratio.filter(|r| r.is_finite());
        match ratio {
            Some(r) if r >= th.alert_ratio => {
                s.above_alert_since.get_or_insert(t_secs);
            }
            _ => s.above_alert_since = None,
        }
        match ratio {
            Some(r) if r < 1.0 => {
                s.below_slo_since.get_or_insert(t_secs);
            }
            _ => s.below_slo_since = None,
        }

        let (wanted, reason) = if !signal.output_finite {
            (SafetyLevel::HpaFallback, "the network's output is not finite".to_string())
        } else if signal.telemetry_age_secs > self.cfg.stale_after_secs {
            (SafetyLevel::HpaFallback, format!("telemetry is {} s old", signal.telemetry_age_secs))
        } else {
            match ratio {
                Some(r) if r >= th.fallback_ratio => {
                    (SafetyLevel::HpaFallback, format!("p99 at {r:.2}× SLO (≥ {:.2}×)", th.fallback_ratio))
                }
                Some(r) if r >= th.freeze_ratio => {
                    (SafetyLevel::Freeze, format!("p99 at {r:.2}× SLO (≥ {:.2}×)", th.freeze_ratio))
                }
                Some(r) if s.above_alert_since.is_some_and(|since| t_secs >= since + th.hold_secs) => (
                    SafetyLevel::Alert,
                    format!("p99 at {r:.2}× SLO (≥ {:.2}× for {} s)", th.alert_ratio, th.hold_secs),
                ),
                _ => (SafetyLevel::Normal, String::new()),
            }
        };
        let next = if wanted >= current {
            wanted
        } else if s.below_slo_since.is_some_and(|since| t_secs >= since + self.cfg.recover_secs) {
            SafetyLevel::Normal
        } else {
            current
        };
        let reason = if next == SafetyLevel::Normal && current != SafetyLevel::Normal {
            format!("p99 under the SLO for {} s", self.cfg.recover_secs)
        } else {
            reason
        };
        s.level = Some(next);
        if next != current {
            self.interventions.push(Intervention { t_secs, domain, from: current, to: next, reason });
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(p99_ratio: f32) -> DomainSignal {
        DomainSignal { p99_ratio: Some(p99_ratio), telemetry_age_secs: 60, output_finite: true }
    }

    fn layer() -> SafetyLayer {
        SafetyLayer::new(SafetyConfig::default(), vec![Priority::P0, Priority::P3])
    }

    #[test]
    fn p0_alerts_after_15_s_at_1_2x_freezes_at_1_5x_and_falls_back_at_2x() {
        let mut s = layer();
        assert_eq!(s.update(0, 0, signal(1.25)), SafetyLevel::Normal);
        assert_eq!(s.update(10, 0, signal(1.25)), SafetyLevel::Normal, "held 10 s only");
        assert_eq!(s.update(15, 0, signal(1.25)), SafetyLevel::Alert);
        assert_eq!(s.update(20, 0, signal(1.6)), SafetyLevel::Freeze);
        assert_eq!(s.update(25, 0, signal(2.1)), SafetyLevel::HpaFallback);
        // Better, but not yet under the SLO for 120 s: stays with HPA.
        assert_eq!(s.update(30, 0, signal(0.9)), SafetyLevel::HpaFallback);
        assert_eq!(s.update(140, 0, signal(0.9)), SafetyLevel::HpaFallback);
        assert_eq!(s.update(150, 0, signal(0.9)), SafetyLevel::Normal);
        let levels: Vec<_> = s.interventions().iter().map(|i| (i.t_secs, i.to)).collect();
        assert_eq!(
            levels,
            vec![
                (15, SafetyLevel::Alert),
                (20, SafetyLevel::Freeze),
                (25, SafetyLevel::HpaFallback),
                (150, SafetyLevel::Normal)
            ]
        );
        assert!(s.interventions()[2].reason.contains("2.10× SLO"), "{}", s.interventions()[2].reason);
    }

    #[test]
    fn fallback_time_adds_each_stretch_on_hpa_and_counts_hand_overs() {
        use SafetyLevel::*;
        let change = |t_secs, domain, from, to| Intervention { t_secs, domain, from, to, reason: String::new() };
        let log = [
            change(100, 0, Normal, Freeze),
            change(110, 0, Freeze, HpaFallback),
            change(400, 0, HpaFallback, Normal),
            change(500, 1, Normal, HpaFallback),
            change(900, 0, Normal, HpaFallback),
        ];
        let t = fallback_time(&log, 3, 1000);
        assert_eq!(t[0], FallbackTime { secs: 290 + 100, handovers: 2 });
        assert_eq!(t[1], FallbackTime { secs: 500, handovers: 1 }, "still on HPA at the end");
        assert_eq!(t[2], FallbackTime::default());
    }

    #[test]
    fn lower_priorities_tolerate_more() {
        let mut s = layer();
        for t in [0, 30, 60, 90] {
            assert_eq!(s.update(t, 1, signal(1.9)), SafetyLevel::Normal, "P3 at 1.9× is not alerted");
        }
        assert_eq!(s.update(100, 1, signal(3.5)), SafetyLevel::Freeze);
    }

    #[test]
    fn stale_telemetry_and_non_finite_output_hand_the_domain_to_hpa() {
        let mut s = layer();
        let stale = DomainSignal { telemetry_age_secs: 301, ..signal(0.5) };
        assert_eq!(s.update(0, 0, stale), SafetyLevel::HpaFallback);
        assert!(s.interventions()[0].reason.contains("301 s old"));
        let mut s = layer();
        let nan = DomainSignal { output_finite: false, ..signal(0.5) };
        assert_eq!(s.update(0, 1, nan), SafetyLevel::HpaFallback);
        assert!(s.interventions()[0].reason.contains("not finite"));
        // A missing p99 sample neither alerts nor counts towards recovery.
        let mut s = layer();
        let none = DomainSignal { p99_ratio: None, ..signal(0.0) };
        assert_eq!(s.update(0, 0, none), SafetyLevel::Normal);
    }
}
