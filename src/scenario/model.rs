//! The scenario data model. Every struct rejects unknown fields; defaults are documented on the field.

use serde::{Deserialize, Serialize};

pub use super::hpa_spec::*;

/// A whole scenario: the cluster, its traffic, and what happens to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Format version; must equal [`super::SCENARIO_VERSION`].
    pub version: u32,
    /// Display name: not blank, no control characters, at most 200 characters (plus the `+…` of lifted what-ifs).
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Simulated length of a run, in seconds (a multiple of the 5 s base tick).
    pub duration_secs: u64,
    /// Wall-clock position of t = 0 in the week (drives the daily and weekly traffic shape).
    #[serde(default)]
    pub start: StartTime,
    /// Seed used when the user gives none.
    #[serde(default)]
    pub seed: u64,
    pub domains: Vec<DomainSpec>,
    pub pools: Vec<PoolSpec>,
    #[serde(default)]
    pub provisioner: ProvisionerSpec,
    #[serde(default)]
    pub telemetry: TelemetrySpec,
    #[serde(default)]
    pub cluster: ClusterSpec,
    /// Scripted events, in any order; they fire at their own times.
    #[serde(default)]
    pub events: Vec<EventSpec>,
    /// In a scenario whose name says limits were lifted (a what-if, `fraud-cascade+unbounded-provisioner`), the
    /// limits it had before, so the window's what-if menu can put them back: written by the window's "Save…" and
    /// "Export session…" of a what-if run. Absent otherwise (default). Checked against the lifted limits when the file loads
    /// ([`super::what_if::Limits::problems_with`]); the simulator never reads it, and the window's worker takes it
    /// out of the scenario it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlifted: Option<super::what_if::Limits>,
}

impl Scenario {
    /// The id of domain `index` (scenario order), or "?" for an index the scenario does not have.
    pub fn domain_id(&self, index: usize) -> &str {
        self.domains.get(index).map_or("?", |d| d.id.as_str())
    }
}

/// Day of week (0 = Monday), hour (0–23) and day of the month (1–30) at t = 0.
///
/// The simulated calendar has 30-day months; paydays are the 1st and the 15th (see [`StartTime::is_payday`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartTime {
    pub weekday: u8,
    pub hour: u8,
    /// Default 2 (the day after a payday), so scenarios written before paydays existed are unchanged.
    #[serde(default = "default_day_of_month")]
    pub day_of_month: u8,
}

fn default_day_of_month() -> u8 {
    2
}

impl Default for StartTime {
    fn default() -> Self {
        Self { weekday: 0, hour: 0, day_of_month: default_day_of_month() }
    }
}

/// Days in a simulated month.
pub const DAYS_PER_MONTH: u64 = 30;

impl StartTime {
    /// Hours into the week at t = 0.
    pub fn hour_of_week(&self) -> u64 {
        u64::from(self.weekday) * 24 + u64::from(self.hour)
    }

    /// Day of the month (1–30) at `t_secs` after the start.
    pub fn day_of_month_at(&self, t_secs: u64) -> u64 {
        let days = (u64::from(self.hour) * 3600 + t_secs) / 86_400;
        (u64::from(self.day_of_month.max(1)) - 1 + days) % DAYS_PER_MONTH + 1
    }

    /// The same wall-clock hour `days` days earlier.
    pub fn days_earlier(&self, days: u64) -> StartTime {
        StartTime {
            weekday: ((u64::from(self.weekday) + 7 - days % 7) % 7) as u8,
            hour: self.hour,
            day_of_month: ((u64::from(self.day_of_month.max(1)) - 1 + DAYS_PER_MONTH - days % DAYS_PER_MONTH)
                % DAYS_PER_MONTH
                + 1) as u8,
        }
    }

    /// Whether `t_secs` after the start falls on a payday (the 1st or the 15th).
    pub fn is_payday(&self, t_secs: u64) -> bool {
        matches!(self.day_of_month_at(t_secs), 1 | 15)
    }
}

/// Kubernetes PriorityClass tier of a domain's pods; P0 is the most important.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    P0,
    P1,
    P2,
    P3,
}

impl Priority {
    /// Lower rank = more important; used for scheduling order and preemption.
    pub fn rank(self) -> u8 {
        self as u8
    }
}

/// One business domain: its apps (as tiers of similar services), traffic, SLO and inline calls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSpec {
    /// Short identifier used by references elsewhere in the file and on the command line (`"payment"`): 1–64 ASCII
    /// letters, digits, `-`, `_` and `.`, starting with a letter, and not a priority (`P0`).
    pub id: String,
    /// Display name: not blank, no control characters, at most 200 characters.
    pub name: String,
    pub priority: Priority,
    /// Weight of this domain's degradation in priority-weighted scores (DESIGN: 1.0, 0.9, 0.8, 0.5, 0.3).
    pub priority_weight: f64,
    pub slo: SloSpec,
    pub traffic: TrafficSpec,
    /// Inline calls made while serving each request: their latency and errors add to this domain's.
    #[serde(default)]
    pub calls: Vec<CallSpec>,
    /// The domain's services, grouped into tiers of similar apps (5–8 per domain in the reference cluster).
    pub tiers: Vec<TierSpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloSpec {
    /// End-to-end p99 latency objective, milliseconds: 0.1 to 3,600,000 (an hour).
    pub p99_latency_ms: f64,
    /// Error budget as a fraction of requests (0.001 = 99.9% success).
    pub error_budget_ratio: f64,
    /// A request waiting longer than this in a queue times out and counts as an error, milliseconds: 0.1 to 3,600,000.
    pub timeout_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficSpec {
    /// Daily-mean external request rate of the domain (requests per second), before inline calls from other domains.
    pub base_rps: f64,
    /// Relative swing of the daily cycle: rate ∝ 1 + amplitude·cos(2π(h − peak_hour)/24). In [0, 0.95].
    pub daily_amplitude: f64,
    /// Hour of the daily peak, 0–24.
    pub peak_hour: f64,
    /// Multiplier on Saturdays and Sundays.
    pub weekend_factor: f64,
    /// Standard deviation of the autocorrelated (AR(1)) relative noise on the domain rate.
    pub noise_sigma: f64,
    /// Correlation time of that noise, seconds.
    pub noise_corr_secs: f64,
    /// Standard deviation of the per-app relative noise (independent AR(1) per app, same correlation time).
    #[serde(default = "default_app_noise_sigma")]
    pub app_noise_sigma: f64,
    /// Spread of the heavy-tailed split of tier traffic across apps: log-normal σ of app weights.
    #[serde(default = "default_app_share_sigma")]
    pub app_share_sigma: f64,
    /// Multiplier on paydays (the 1st and 15th of the month). Default 1 (no payday effect).
    #[serde(default = "default_payday_factor")]
    pub payday_factor: f64,
}

fn default_payday_factor() -> f64 {
    1.0
}

fn default_app_noise_sigma() -> f64 {
    0.05
}
fn default_app_share_sigma() -> f64 {
    1.0
}

/// Every request of the calling domain makes `ratio` synchronous requests to domain `to`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSpec {
    pub to: String,
    pub ratio: f64,
}

/// A group of similar apps in a domain (e.g. "checkout-api": 60 apps).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// Unique within the domain; the same charset as a domain id (it makes the app names, `payment-checkout-api-000`).
    pub name: String,
    /// Number of apps (Deployments, each with its own HPA) in this tier.
    pub apps: u32,
    /// Share of the domain's traffic served by this tier; shares of a domain's tiers sum to 1.
    pub traffic_share: f64,
    /// Mean service time of one request at full CPU, milliseconds: 0.001 to 600,000 (ten minutes).
    pub service_time_ms: f64,
    /// Requests one pod serves concurrently (worker threads); a pod's capacity is concurrency·1000/service_time_ms rps.
    pub concurrency_per_pod: u32,
    /// A pod's requests: both must fit one node of a pool that admits the domain, after
    /// [`ProvisionerSpec::allocatable_fraction`] (a pod is never split across nodes).
    pub cpu_request_millicores: u32,
    pub memory_request_mib: u32,
    /// p99 latency of the tier at low load (network, downstream stores, service time), milliseconds: 0.1 to 3,600,000.
    pub base_p99_latency_ms: f64,
    /// Cold start (image pull + boot until Ready) is drawn per app uniformly in this range, seconds; at most 3,600.
    pub cold_start_secs: (u32, u32),
    /// The HPA every app of this tier carries, in autoscaling/v2 terms.
    pub hpa: HpaSpec,
}

/// A node pool: one node type, bounds, and the domains whose pods may run on it (node affinity).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    /// Unique; the same charset as a domain id (`--warm-reserve shared-general=0.3` names it).
    pub name: String,
    pub node_cpu_millicores: u32,
    pub node_memory_mib: u32,
    pub price_per_node_hour: f64,
    pub min_nodes: u32,
    pub max_nodes: u32,
    /// Nodes present at t = 0. When omitted, the simulator sizes the pool for the initial pods plus 10% headroom.
    #[serde(default)]
    pub initial_nodes: Option<u32>,
    /// Domain ids allowed on this pool, in the scheduler's and provisioner's order of preference.
    pub domains: Vec<String>,
}

/// The node provisioner (cloud API + cluster autoscaler back end).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProvisionerSpec {
    /// Node-creation API calls the provider accepts per minute (token bucket). Default 60.
    pub api_calls_per_min: u32,
    /// Nodes that may be booting at once. Default 200.
    pub max_concurrent_nodes: u32,
    /// Boot time of a node with an empty queue, drawn uniformly in this range, seconds; at most 3,600. Default (60, 150).
    pub node_boot_secs: (u32, u32),
    /// Extra boot latency per node already queued or booting, milliseconds; at most 60,000. Default 250 (1,000 queued ⇒
    /// +4 min).
    pub backlog_latency_ms_per_node: u32,
    /// An idle node is removed after this long, seconds; at most 86,400. Default 600 (cluster-autoscaler
    /// scale-down-unneeded-time).
    pub scale_down_unneeded_secs: u32,
    /// Fraction of a node's CPU and memory usable by pods (kube-reserved, daemonsets, fragmentation). Default 0.9.
    pub allocatable_fraction: f64,
}

impl Default for ProvisionerSpec {
    fn default() -> Self {
        Self {
            api_calls_per_min: 60,
            max_concurrent_nodes: 200,
            node_boot_secs: (60, 150),
            backlog_latency_ms_per_node: 250,
            scale_down_unneeded_secs: 600,
            allocatable_fraction: 0.9,
        }
    }
}

/// How late each signal reaches a controller (DESIGN §4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetrySpec {
    /// Pod counts, seconds. Default 30.
    pub pods_lag_secs: u32,
    /// CPU utilisation (metrics-server), seconds. Default 60.
    pub cpu_lag_secs: u32,
    /// p99 latency and error rate (Prometheus scrape + rule evaluation), seconds. Default 90.
    pub latency_lag_secs: u32,
    /// Request rate, seconds. Default 30.
    pub rps_lag_secs: u32,
}

impl Default for TelemetrySpec {
    fn default() -> Self {
        Self { pods_lag_secs: 30, cpu_lag_secs: 60, latency_lag_secs: 90, rps_lag_secs: 30 }
    }
}

/// Cluster-wide settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSpec {
    /// Whether pods carry PriorityClasses (scheduling order and preemption by domain priority). Default false: the
    /// stock setup of the postmortem, where nothing stops a P3 pod holding capacity a P0 pod needs.
    pub priority_classes: bool,
    /// Seconds a pod keeps its resources after deletion (terminationGracePeriodSeconds); at most 3,600. Default 30.
    pub termination_grace_secs: u32,
    /// Seconds within which a removed node counts as churn (provisioned too late to matter); at most 86,400. Default
    /// 900: the 600 s idle timer plus five minutes of use.
    pub churn_window_secs: u32,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        Self { priority_classes: false, termination_grace_secs: 30, churn_window_secs: 900 }
    }
}

/// Something that happens during a run, scripted in the file or injected live.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum EventSpec {
    /// A promotion: traffic ramps to `multiplier`× over `ramp_secs`, holds, and ramps back down. When announced,
    /// `announced_start_secs` is when the calendar says it starts (forecasters may know it); `start_secs` is when it
    /// really does.
    FlashSale {
        domain: String,
        #[serde(default)]
        announced_start_secs: Option<u64>,
        /// When it went on the calendar, if after the scenario's start (`None`: known from the start). A sale
        /// announced live is known only from its injection; a session exported (or restarted) with it scripted keeps
        /// that moment, or the forecasters and HiRL would hear of it from the start and the run would not replay.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        announced_at_secs: Option<u64>,
        start_secs: u64,
        ramp_secs: u64,
        multiplier: f64,
        duration_secs: u64,
    },
    /// An unannounced surge with the same shape as a flash sale.
    Spike { domain: String, start_secs: u64, ramp_secs: u64, multiplier: f64, duration_secs: u64 },
    /// A batch job: `pods` pods of a domain that need scheduling for `duration_secs`, then finish. They are not
    /// autoscaled; they hold capacity.
    BatchJob {
        domain: String,
        start_secs: u64,
        duration_secs: u64,
        pods: u32,
        cpu_request_millicores: u32,
        memory_request_mib: u32,
    },
    /// Node boots take `factor`× longer while it lasts (a degraded cloud API).
    ProvisionerSlowdown { start_secs: u64, duration_secs: u64, factor: f64 },
    /// `nodes` nodes of a pool disappear at once (zone outage, spot reclaim); their pods go back to Pending.
    NodePoolLoss { pool: String, at_secs: u64, nodes: u32 },
}

impl EventSpec {
    /// For an announced flash sale as scripted: when it went on the calendar (0: from the scenario's start, unless
    /// `announced_at_secs` says later) and the start it announced, seconds; `None` for any other event.
    pub fn calendar_entry(&self) -> Option<(u64, u64)> {
        match self {
            EventSpec::FlashSale { announced_start_secs: Some(start), announced_at_secs, .. } => {
                Some((announced_at_secs.unwrap_or(0), *start))
            }
            _ => None,
        }
    }

    /// When the event starts to act, seconds.
    pub fn start_secs(&self) -> u64 {
        match self {
            EventSpec::FlashSale { start_secs, .. }
            | EventSpec::Spike { start_secs, .. }
            | EventSpec::BatchJob { start_secs, .. }
            | EventSpec::ProvisionerSlowdown { start_secs, .. } => *start_secs,
            EventSpec::NodePoolLoss { at_secs, .. } => *at_secs,
        }
    }

    /// Short human label for timelines and logs.
    pub fn label(&self) -> String {
        match self {
            EventSpec::FlashSale { domain, multiplier, .. } => format!("flash sale {domain} ×{multiplier}"),
            EventSpec::Spike { domain, multiplier, .. } => format!("spike {domain} ×{multiplier}"),
            EventSpec::BatchJob { domain, pods, .. } => format!("batch job {domain} {pods} pods"),
            EventSpec::ProvisionerSlowdown { factor, .. } => format!("provisioner slowdown ×{factor}"),
            EventSpec::NodePoolLoss { pool, nodes, .. } => format!("node loss {pool} −{nodes}"),
        }
    }
}
