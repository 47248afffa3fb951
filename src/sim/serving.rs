//! Serving traffic: per-app queueing latency, backlog and timeouts; per-domain aggregation, inline-call propagation,
//! SLO degradation and the scorecard's running sums.
//!
//! Each app is an M/M/c queue: c = ready pods × concurrency, μ = 1000/service_time_ms per worker. Below saturation the
//! app's p99 is its low-load p99 plus the M/M/c p99 waiting time (Erlang C, table-driven); requests whose wait would
//! exceed the timeout fail. At or above saturation the excess accumulates as a backlog carried across ticks; its
//! drain time adds to latency, and whatever would wait past the timeout errors out. An app with no ready pod fails
//! every request. A domain's own p99 is the request-weighted 99th percentile over its apps (log histogram, 1/8-octave
//! buckets); its end-to-end p99 adds the end-to-end p99 of every domain it calls inline, and so do its errors.

use super::breach_cause::{BreachCause, BreachMinutesByCause, DomainPods, OverSloRates, add_split};
use super::scorecard::ScaleOutTimer;
use super::telemetry::{AppSample, DomainSample};
use super::{Simulation, TICK_SECS, TimelineEvent, TimelineKind};

const BUCKETS_PER_OCTAVE: f32 = 8.0;
const BUCKETS: usize = 160; // 1 ms .. 2^20 ms

/// Fast log2 (Mitchell's approximation, |error| < 0.09): enough for 1/8-octave buckets.
fn fast_log2(x: f32) -> f32 {
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xFF) as f32 - 127.0;
    let mantissa = f32::from_bits((bits & 0x007F_FFFF) | 0x3F80_0000) - 1.0;
    exponent + mantissa
}

fn bucket_of(ms: f32) -> usize {
    if ms <= 1.0 || ms.is_nan() {
        return 0;
    }
    ((fast_log2(ms) * BUCKETS_PER_OCTAVE) as usize).min(BUCKETS - 1)
}

/// Value of the weighted quantile `q` over a bucket histogram; interpolates inside the bucket in log space.
fn histogram_quantile(hist: &[f64], q: f64) -> f32 {
    let total: f64 = hist.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    let target = q * total;
    let mut acc = 0.0;
    for (b, &w) in hist.iter().enumerate() {
        if w > 0.0 && acc + w >= target {
            let frac = ((target - acc) / w).clamp(0.0, 1.0) as f32;
            return ((b as f32 + frac) / BUCKETS_PER_OCTAVE).exp2();
        }
        acc += w;
    }
    ((BUCKETS as f32) / BUCKETS_PER_OCTAVE).exp2()
}

/// Per domain, where this tick's breach came from (see [`super::breach_cause`]).
struct BreachSources {
    /// The domain's own apps, before its callees are added, were over its SLO or its error budget.
    own_degraded: Vec<bool>,
    /// Request rate at its apps over the SLO, by cause.
    over_slo: Vec<OverSloRates>,
}

impl Simulation {
    pub(super) fn serve_and_score(&mut self, score: bool) {
        let layout = std::sync::Arc::clone(&self.layout);
        let now = self.state.now_secs;
        let dt = TICK_SECS as f64;
        let n_domains = layout.domains.len();
        let mut hist = vec![0.0f64; n_domains * BUCKETS];
        let mut requests = vec![0.0f64; n_domains];
        let mut errors = vec![0.0f64; n_domains];
        let mut used_cpu = vec![0.0f64; n_domains];
        let mut ready_cpu = vec![0.0f64; n_domains];
        let mut pods = vec![(0u32, 0u32, 0u32); n_domains];
        let mut over_slo = vec![OverSloRates::default(); n_domains];

        for (i, info) in layout.hot.iter().enumerate() {
            let d = info.domain as usize;
            let g = &self.state.groups[i];
            let lambda = self.state.traffic.app_rps[i];
            let timeout_ms = info.timeout_ms;
            let ready = g.ready_total;
            let mut app_errors = 0.0;
            let p99_ms;
            let utilisation;
            if ready == 0 {
                self.state.backlog[i] = 0.0;
                app_errors = lambda * dt;
                p99_ms = info.base_p99_latency_ms + timeout_ms;
                utilisation = None;
            } else {
                let cap = f64::from(ready) * info.pod_rps;
                let servers = ready.saturating_mul(info.concurrency_per_pod);
                let mut backlog = self.state.backlog[i];
                let net = (lambda - cap) * dt;
                if backlog > 0.0 || net > 0.0 {
                    backlog = (backlog + net).max(0.0);
                    let max_backlog = cap * timeout_ms / 1000.0;
                    if backlog > max_backlog {
                        app_errors = backlog - max_backlog;
                        backlog = max_backlog;
                    }
                }
                self.state.backlog[i] = backlog;
                if backlog > 0.0 {
                    let drain_ms = backlog / cap * 1000.0 + 1000.0 / info.worker_rps;
                    p99_ms = info.base_p99_latency_ms + drain_ms.min(timeout_ms);
                    utilisation = Some(1.0);
                } else {
                    let rho = lambda / cap;
                    // Halfin–Whitt β = (1−ρ)√c ≥ 4 means Erlang C < 4e-5: no queueing worth a lookup (the table
                    // returns 0 there too), and the test needs no square root.
                    let slack = 1.0 - rho;
                    let wait_ms = if slack * slack * f64::from(servers) >= 16.0 {
                        0.0
                    } else {
                        self.erlang.wait_quantile_secs(servers, lambda, info.worker_rps, 0.99) * 1000.0
                    };
                    if wait_ms > timeout_ms {
                        // The tail past the timeout fails: P(W > T) = C·e^{−(cμ−λ)T}.
                        let c = self.erlang.wait_probability(servers, rho);
                        let slack = f64::from(servers) * info.worker_rps - lambda;
                        app_errors = lambda * dt * c * (-slack * timeout_ms / 1000.0).exp();
                    }
                    p99_ms = info.base_p99_latency_ms + wait_ms.min(timeout_ms);
                    utilisation = Some(rho.min(1.0) as f32);
                }
                let cpu_req = f64::from(ready) * f64::from(info.cpu_request_millicores);
                used_cpu[d] += f64::from(utilisation.unwrap_or(0.0)) * cpu_req;
                ready_cpu[d] += cpu_req;
            }
            let arrivals = lambda * dt;
            requests[d] += arrivals;
            errors[d] += app_errors;
            hist[d * BUCKETS + bucket_of(p99_ms as f32)] += lambda;
            let pending = g.pending;
            let starting = g.starting_total;
            let dom = &layout.domains[d];
            if p99_ms > dom.slo_p99_latency_ms || app_errors > arrivals * dom.error_budget_ratio {
                let held_back = self.state.held_back_pods.get(i).copied().unwrap_or(0);
                over_slo[d].add_app(lambda, pending, starting, held_back);
            }
            pods[d].0 += ready;
            pods[d].1 += starting;
            pods[d].2 += pending;
            self.state.app_now[i] = AppSample {
                ready_pods: ready,
                starting_pods: starting,
                pending_pods: pending,
                cpu_utilization: utilisation,
                rps: lambda as f32,
                p99_latency_ms: p99_ms as f32,
                error_ratio: if arrivals > 0.0 { (app_errors / arrivals).min(1.0) as f32 } else { 0.0 },
            };
        }
        // Batch jobs serve no traffic but their pods count in their domain.
        for j in layout.apps.len()..self.state.groups.len() {
            let d = self.state.workloads[j].domain as usize;
            let g = &self.state.groups[j];
            pods[d].0 += g.ready_total;
            pods[d].1 += g.starting_total;
            pods[d].2 += g.pending;
        }

        // Own latency and errors, then inline callees, callees first.
        let mut e2e_p99 = vec![0.0f64; n_domains];
        let mut e2e_err = vec![0.0f64; n_domains];
        let mut own_degraded = vec![false; n_domains];
        for d in 0..n_domains {
            e2e_p99[d] = f64::from(histogram_quantile(&hist[d * BUCKETS..(d + 1) * BUCKETS], 0.99));
            e2e_err[d] = if requests[d] > 0.0 { (errors[d] / requests[d]).min(1.0) } else { 0.0 };
            let dom = &layout.domains[d];
            own_degraded[d] = e2e_p99[d] > dom.slo_p99_latency_ms || e2e_err[d] > dom.error_budget_ratio;
        }
        for &d in layout.call_order.iter().rev() {
            let d = d.0 as usize;
            for &(to, ratio) in &layout.domains[d].calls {
                let to = to.0 as usize;
                if ratio >= 0.01 {
                    e2e_p99[d] += e2e_p99[to];
                }
                e2e_err[d] = (e2e_err[d] + ratio.min(1.0) * e2e_err[to]).min(1.0);
            }
        }

        for d in 0..n_domains {
            let cpu_alloc: u64 = self.state.pools.iter().map(|p| p.cpu_by_domain_millicores[d]).sum();
            self.state.domain_now[d] = DomainSample {
                rps: self.state.traffic.domains.total_rps[d] as f32,
                p99_latency_ms: e2e_p99[d] as f32,
                error_ratio: e2e_err[d] as f32,
                ready_pods: pods[d].0,
                starting_pods: pods[d].1,
                pending_pods: pods[d].2,
                cpu_utilization: (ready_cpu[d] > 0.0).then(|| (used_cpu[d] / ready_cpu[d]) as f32),
                cpu_allocated_millicores: cpu_alloc,
                cpu_used_millicores: used_cpu[d] as f32,
            };
            let dom = &layout.domains[d];
            self.state.domain_degradation[d] =
                (e2e_p99[d] / dom.slo_p99_latency_ms - 1.0).max(e2e_err[d] / dom.error_budget_ratio - 1.0).max(0.0);
        }
        if !score {
            return;
        }
        self.accumulate_scores(now, &requests, &used_cpu, &BreachSources { own_degraded, over_slo });
    }

    /// CPU that preemption could free in `pool` for a pod of priority rank `rank`: what pods of lower priority hold
    /// there, starting or ready. Terminating pods are already on their way out and are not counted.
    fn preemptible_cpu_millicores(&self, pool: usize, rank: u8) -> u64 {
        self.state
            .groups
            .iter()
            .zip(&self.state.workloads)
            .filter(|(_, w)| self.layout.domains[w.domain as usize].priority.rank() > rank)
            .map(|(g, w)| u64::from(g.running_in(pool)) * u64::from(w.cpu_request_millicores))
            .sum()
    }

    /// Pods the controllers of `domain`'s apps declared held back.
    fn held_back_pods_of(&self, domain: usize) -> u32 {
        let apps = self.layout.domains[domain].apps.clone();
        let held = self.state.held_back_pods.get(apps.start as usize..apps.end as usize).unwrap_or_default();
        held.iter().fold(0u32, |sum, &h| sum.saturating_add(h))
    }

    /// The smallest CPU request among the domain's unschedulable pods (`u64::MAX` when none is pending).
    fn smallest_pending_request(&self, domain: usize) -> u64 {
        self.state
            .groups
            .iter()
            .zip(&self.state.workloads)
            .filter(|(g, w)| g.pending > 0 && w.domain as usize == domain)
            .map(|(_, w)| u64::from(w.cpu_request_millicores))
            .min()
            .unwrap_or(u64::MAX)
    }

    fn accumulate_scores(&mut self, now: u64, requests: &[f64], used_cpu: &[f64], sources: &BreachSources) {
        let layout = std::sync::Arc::clone(&self.layout);
        let n_domains = layout.domains.len();
        let was_breaching: Vec<bool> = self.state.domain_acc.iter().map(|a| a.in_breach).collect();
        let mut any_p0_inversion = false;
        for d in 0..n_domains {
            let dom = &layout.domains[d];
            let sample = self.state.domain_now[d];
            let degradation = self.state.domain_degradation[d];
            let breach = degradation > 0.0;
            let my_rank = dom.priority.rank();
            let inverted = sample.pending_pods > 0
                && dom.pools.iter().any(|p| {
                    let pool = p.0 as usize;
                    // Checked in full only when the quick test says lower-priority pods are there at all.
                    self.lower_priority_holds(pool, my_rank)
                        && self.preemptible_cpu_millicores(pool, my_rank) >= self.smallest_pending_request(d)
                });
            if inverted && my_rank == 0 {
                any_p0_inversion = true;
            }
            let split = if breach {
                let pods = DomainPods {
                    pending: sample.pending_pods,
                    starting: sample.starting_pods,
                    // Summed on breached ticks only, not in the per-app loop: the split needs it only when no
                    // single app is over the SLO.
                    held_back: self.held_back_pods_of(d),
                };
                sources.over_slo[d].split(sources.own_degraded[d], pods)
            } else {
                [0.0; BreachCause::COUNT]
            };
            if let Some(slot) = self.state.domain_breach_split.get_mut(d) {
                *slot = split;
            }
            let acc = &mut self.state.domain_acc[d];
            if breach {
                if !acc.in_breach {
                    acc.episode_ticks_by_cause = [0.0; BreachCause::COUNT];
                }
                acc.breach_ticks += 1;
                add_split(&mut acc.breach_ticks_by_cause, &split);
                add_split(&mut acc.episode_ticks_by_cause, &split);
            }
            if breach && !acc.in_breach {
                let cascade = (0..n_domains).any(|o| o != d && was_breaching[o] && layout.links.linked(d, o));
                if cascade {
                    acc.cascade_events += 1;
                }
                self.state
                    .timeline
                    .push(TimelineEvent { t_secs: now, kind: TimelineKind::BreachStart { domain: d as u8 } });
            } else if !breach && acc.in_breach {
                let held_by = BreachMinutesByCause::from_ticks(&acc.episode_ticks_by_cause, TICK_SECS as f64 / 60.0);
                self.state
                    .timeline
                    .push(TimelineEvent { t_secs: now, kind: TimelineKind::BreachEnd { domain: d as u8, held_by } });
            }
            acc.in_breach = breach;
            if inverted {
                acc.inversion_ticks += 1;
            }
            acc.pending_pod_ticks += u64::from(sample.pending_pods);
            acc.peak_pending = acc.peak_pending.max(sample.pending_pods);
            let p99 = f64::from(sample.p99_latency_ms);
            acc.peak_p99_ms = acc.peak_p99_ms.max(p99);
            acc.p99_sum_ms += p99;
            acc.requests += requests[d];
            acc.errors += requests[d] * f64::from(sample.error_ratio);
            acc.weighted_degradation_sum += dom.priority_weight * degradation;
            acc.peak_pods = acc.peak_pods.max(sample.ready_pods + sample.starting_pods + sample.pending_pods);
            acc.allocated_cpu_sum += sample.cpu_allocated_millicores as f64;
            acc.used_cpu_sum += used_cpu[d];
        }

        let nodes: u32 = self.state.pools.iter().map(|p| p.nodes).sum();
        let booting = self.state.provisioner.booting_nodes();
        let queued = self.state.provisioner.queued_nodes();
        let pending: u32 = self.state.domain_now.iter().map(|s| s.pending_pods).sum();
        let live_pods: u32 =
            self.state.domain_now.iter().map(|s| s.ready_pods + s.starting_pods + s.pending_pods).sum();
        let dt_hours = TICK_SECS as f64 / 3600.0;
        let cost: f64 = self
            .state
            .pools
            .iter()
            .enumerate()
            .map(|(i, p)| {
                f64::from(p.nodes + self.state.provisioner.booting_by_pool[i]) * layout.pools[i].price_per_node_hour
            })
            .sum::<f64>()
            * dt_hours;
        let acc = &mut self.state.cluster_acc;
        acc.ticks += 1;
        if any_p0_inversion {
            acc.inversion_ticks_p0 += 1;
        }
        acc.node_seconds += f64::from(nodes + booting) * TICK_SECS as f64;
        acc.cost_dollars += cost;
        acc.peak_nodes = acc.peak_nodes.max(nodes);
        acc.peak_pods = acc.peak_pods.max(live_pods);
        acc.peak_pending = acc.peak_pending.max(pending);
        acc.peak_queue_nodes = acc.peak_queue_nodes.max(queued + booting);
        acc.peak_queue_requests = acc.peak_queue_requests.max(self.state.provisioner.queued_requests() as u32);
        let domain_now = &self.state.domain_now;
        let degradation = &self.state.domain_degradation;
        for t in acc.timers.iter_mut().filter(|t| t.done_secs.is_none()) {
            if scaled_out(t, now, &domain_now[t.domain as usize], degradation[t.domain as usize]) {
                t.done_secs = Some(now);
            }
        }
    }

    pub(super) fn record_telemetry(&mut self) {
        let tick = self.state.now_secs / TICK_SECS;
        self.state.history.write(tick, &self.state.app_now, &self.state.domain_now);
    }
}

fn scaled_out(t: &ScaleOutTimer, now: u64, sample: &DomainSample, degradation: f64) -> bool {
    now >= t.ramp_end_secs
        && degradation <= 0.0
        && sample.pending_pods == 0
        && sample.cpu_utilization.is_some_and(|u| u <= 0.9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantile_recovers_values_within_a_bucket() {
        let mut hist = vec![0.0; BUCKETS];
        hist[bucket_of(100.0)] += 99.0;
        hist[bucket_of(2000.0)] += 1.0;
        let p50 = histogram_quantile(&hist, 0.5);
        assert!((p50 / 100.0 - 1.0).abs() < 0.1, "p50 {p50}");
        let p995 = histogram_quantile(&hist, 0.995);
        assert!((p995 / 2000.0 - 1.0).abs() < 0.1, "p99.5 {p995}");
    }

    #[test]
    fn fast_log2_is_close() {
        for x in [1.0f32, 1.5, 3.0, 100.0, 12345.0] {
            assert!((fast_log2(x) - x.log2()).abs() < 0.09, "{x}");
        }
    }
}
