//! Semantic checks of a parsed scenario. Each problem names the value path it is about, so the loader can point at
//! `file:line:col`. All problems are collected; none stops the search for the others.

use super::*;

/// One semantic problem: the value path (`domains[1].tiers[0].hpa.minReplicas`) and what is wrong there.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// Most domains a scenario may have. The simulator keeps state per pair of domains (call and shared-pool links,
/// cascade bookkeeping), so memory grows with the square of the count: unbounded, 8,000 one-app domains took 4.5 GB
/// (some 70 bytes a pair). It also indexes domains in 8 bits (`sim::DomainId`), so past 256 they would alias. HiRL
/// needs exactly the reference cluster's 5 (every shipped scenario has 5); HPA and the other baselines run any count,
/// and 64 leaves them over ten times that for a few hundred KB of pair state.
pub const MAX_DOMAINS: usize = 64;
/// Longest id (a domain id, a pool or tier name), characters. Ids are written into the trace CSV's header, the
/// terminal tables and app names (`payment-checkout-api-000`), and are typed in command-line options
/// (`--size-floor payment=1.03`, `--warm-reserve shared-general=0.3`), so they are also restricted to ASCII letters,
/// digits, `-`, `_` and `.`, starting with a letter: a `,` or `=` broke the CSV's columns and cannot be named in an
/// option, and a newline or escape code went to the terminal as it was. The shipped ids have up to 16 characters.
pub const MAX_ID_CHARS: usize = 64;
/// Longest display name (the scenario's, a domain's), characters; a scenario's name may be longer by the `+…` of the
/// what-ifs lifted in it. Display names may hold any text but control characters, which would reach the terminal.
pub const MAX_NAME_CHARS: usize = 200;
/// Most pools a scenario may have (the simulator keeps per-pool counters per app in a fixed array).
pub const MAX_POOLS: usize = 8;
/// Longest scenario: four weeks. Also the longest event, and the latest announced start.
pub const MAX_DURATION_SECS: u64 = 28 * 86_400;
/// Most apps a scenario may have in all: the simulator keeps state and every telemetry tick per app, about 3 KB an
/// app (44 MiB for the 15,500 apps `hirl-scale bench` runs), so 100,000 is some 300 MB. Unbounded, a typo of
/// `apps: 1000000000` exhausted the memory and killed the window with everything in it.
pub const MAX_APPS: u64 = 100_000;
/// Most pods a scenario's apps may run in all at their `maxReplicas`: pod counts add up per domain in 32 bits, with
/// batch jobs' on top.
pub const MAX_REPLICAS_IN_ALL: u64 = 1_000_000_000;
/// Largest node, millicores: 4,096 cores (the largest cloud machines have under 2,000).
pub const MAX_NODE_CPU_MILLICORES: u32 = 4_096_000;
/// Largest node, MiB: 32 TiB.
pub const MAX_NODE_MEMORY_MIB: u32 = 32 * 1024 * 1024;
/// Most nodes one pool may hold (Kubernetes supports 5,000 nodes a cluster).
pub const MAX_POOL_NODES: u32 = 100_000;
/// Longest service time of one request, ms: ten minutes.
pub const MAX_SERVICE_TIME_MS: f64 = 600_000.0;
/// Shortest service time of one request, ms: a microsecond, about one in-memory lookup. A pod serves
/// concurrency × 1000 / service_time_ms requests a second; at 5e-324 that was infinite.
pub const MIN_SERVICE_TIME_MS: f64 = 0.001;
/// Shortest latency a scenario may state (a domain's p99 SLO and timeout, a tier's base p99), ms: a tenth of a
/// millisecond, about one network round trip inside a zone, which no request served over the network beats. The
/// scorecard divides the p99 by the SLO: an SLO of 1e-306 ms made the degradation infinite, written `null` in JSON.
pub const MIN_LATENCY_MS: f64 = 0.1;
/// Longest latency a scenario may state (p99 SLO, timeout, base p99), ms: an hour. A tier's p99 is its base p99 plus
/// up to its timeout, kept in 32 bits for the telemetry and the window: at 1e308 it was infinite there.
pub const MAX_LATENCY_MS: f64 = 3_600_000.0;
/// Most pods one batch job may start: ten times the reference cluster's busiest hour. Pod counts add up per domain
/// in 32 bits.
pub const MAX_BATCH_PODS: u32 = 1_000_000;
/// Longest pod cold start (image pull and boot until Ready), seconds: an hour. Large images from a slow registry take
/// minutes; the shipped tiers take 20 to 240 s. Unbounded, u32::MAX seconds (136 years) loaded and ran.
pub const MAX_COLD_START_SECS: u32 = 3_600;
/// Longest node boot with an empty queue, seconds: an hour. Cloud nodes boot in one to three minutes, GPU nodes in
/// some ten; the shipped scenarios draw 60 to 150 s.
pub const MAX_NODE_BOOT_SECS: u32 = 3_600;
/// Most boot latency each queued or booting node adds, ms: a minute (the default is 250 ms, so 1,000 queued nodes
/// add four minutes; at the bound they add 17 hours). At u32::MAX each node added 50 days.
pub const MAX_BACKLOG_LATENCY_MS_PER_NODE: u32 = 60_000;
/// Longest an idle node stays before removal, seconds: a day (cluster-autoscaler's default is ten minutes).
pub const MAX_SCALE_DOWN_UNNEEDED_SECS: u32 = 86_400;
/// Longest a deleted pod keeps its resources (terminationGracePeriodSeconds), seconds: an hour (Kubernetes' default
/// is 30 s; draining long connections takes minutes).
pub const MAX_TERMINATION_GRACE_SECS: u32 = 3_600;
/// Longest window in which a removed node counts as churn, seconds: a day (the default is 900 s, the idle timer and
/// five minutes of use).
pub const MAX_CHURN_WINDOW_SECS: u32 = 86_400;
/// Longest telemetry lag, seconds: the simulator keeps a row of samples per tick for the longest lag, for every app.
pub const MAX_TELEMETRY_LAG_SECS: u32 = 600;

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn fail(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem { path: path.into(), message: message.into() });
    }

    fn finite_in(&mut self, path: String, value: f64, lo: f64, hi: f64, what: &str) {
        if !value.is_finite() || value < lo || value > hi {
            self.fail(path, format!("{what} must be in [{lo}, {hi}], got {}", shown(value)));
        }
    }

    /// A whole number within `lo..=hi`.
    fn count_in<T: PartialOrd + Copy + std::fmt::Display>(&mut self, path: String, value: T, lo: T, hi: T) {
        if !(lo..=hi).contains(&value) {
            self.fail(path, format!("must be {lo} to {hi}, got {value}"));
        }
    }

    fn positive(&mut self, path: String, value: f64, what: &str) {
        if !value.is_finite() || value <= 0.0 {
            self.fail(path, format!("{what} must be a positive number, got {}", shown(value)));
        }
    }
}

/// A number as a message quotes it: as written for everyday magnitudes, in exponent form for the tiny and the huge
/// (`5e-324` printed as 324 digits, `1e308` as 309).
fn shown(value: f64) -> String {
    let magnitude = value.abs();
    if value != 0.0 && value.is_finite() && !(1e-4..1e15).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// Checks everything the type system cannot. Returns an empty list for a valid scenario.
/// The problems of one event added to a scenario (an injection), with paths relative to the event (`.domain`,
/// `.multiplier`, …; empty for the event as a whole).
pub fn validate_event(s: &Scenario, event: &EventSpec) -> Vec<Problem> {
    let mut probe = s.clone();
    probe.events.push(event.clone());
    let prefix = format!("events[{}]", probe.events.len() - 1);
    validate(&probe)
        .into_iter()
        .filter_map(|p| {
            // A path of the event itself, not of a sibling whose index merely starts the same way.
            let rest = p.path.strip_prefix(&prefix).filter(|r| r.is_empty() || r.starts_with('.'))?;
            Some(Problem { path: rest.to_string(), message: p.message.clone() })
        })
        .collect()
}

pub fn validate(s: &Scenario) -> Vec<Problem> {
    let mut c = Checker { problems: Vec::new() };
    if s.version != SCENARIO_VERSION {
        c.fail(
            "version",
            format!("unsupported scenario version {}; this build reads version {SCENARIO_VERSION}", s.version),
        );
    }
    // Counted before anything else: the checks below compare domains with each other (ids, calls, pools), which for
    // an unbounded count takes quadratic time before the count is refused; so do the pools' (and each admits domains).
    let (too_many_domains, too_many_pools) = (s.domains.len() > MAX_DOMAINS, s.pools.len() > MAX_POOLS);
    if too_many_domains {
        c.fail("domains", format!("at most {MAX_DOMAINS} domains are supported, got {}", s.domains.len()));
    }
    if too_many_pools {
        c.fail("pools", format!("at most {MAX_POOLS} node pools are supported, got {}", s.pools.len()));
    }
    if too_many_domains || too_many_pools {
        return c.problems;
    }
    if s.duration_secs == 0 || !s.duration_secs.is_multiple_of(super::TICK_SECS) || s.duration_secs > MAX_DURATION_SECS
    {
        c.fail(
            "duration_secs",
            format!(
                "must be a positive multiple of the {} s tick, at most {MAX_DURATION_SECS}; got {}",
                super::TICK_SECS,
                s.duration_secs
            ),
        );
    }
    if s.start.weekday > 6 {
        c.fail("start.weekday", "weekday must be 0 (Monday) to 6 (Sunday)");
    }
    if s.start.hour > 23 {
        c.fail("start.hour", "hour must be 0 to 23");
    }
    if !(1..=30).contains(&s.start.day_of_month) {
        c.fail("start.day_of_month", "day of the month must be 1 to 30 (simulated months have 30 days)");
    }

    // A scenario's name carries the what-ifs lifted in it (`+no-telemetry-lag`) on top of its own.
    let lifts: usize = super::what_if::WhatIf::ALL.iter().map(|w| 1 + w.name().len()).sum();
    check_display_name(&mut c, "name", &s.name, MAX_NAME_CHARS + lifts);
    let domain_ids: Vec<&str> = s.domains.iter().map(|d| d.id.as_str()).collect();
    let pool_names: Vec<&str> = s.pools.iter().map(|p| p.name.as_str()).collect();
    if s.domains.is_empty() {
        c.fail("domains", "a scenario needs at least one domain");
    }
    if s.pools.is_empty() {
        c.fail("pools", "a scenario needs at least one node pool");
    }
    check_unique(&mut c, "domains", "id", &domain_ids);
    for (i, id) in domain_ids.iter().enumerate() {
        // `--size-floor` reads `P0=1.03` (any case, any digits) as a priority, so such a domain could not be named.
        if id.len() > 1 && id.starts_with(['P', 'p']) && id[1..].chars().all(|ch| ch.is_ascii_digit()) {
            c.fail(
                format!("domains[{i}].id"),
                format!(
                    "\"{id}\" reads as a priority in --size-floor (P0=1.03 is every P0 domain): give the domain a word"
                ),
            );
        }
    }
    check_unique(&mut c, "pools", "name", &pool_names);

    for (i, d) in s.domains.iter().enumerate() {
        check_domain(&mut c, &format!("domains[{i}]"), d, &domain_ids);
        if !s.pools.iter().any(|p| p.domains.iter().any(|x| x == &d.id)) {
            c.fail(format!("domains[{i}].id"), format!("domain \"{}\" may not use any node pool", d.id));
        }
    }
    check_call_cycles(&mut c, s);

    for (i, p) in s.pools.iter().enumerate() {
        let path = format!("pools[{i}]");
        c.count_in(format!("{path}.node_cpu_millicores"), p.node_cpu_millicores, 1, MAX_NODE_CPU_MILLICORES);
        c.count_in(format!("{path}.node_memory_mib"), p.node_memory_mib, 1, MAX_NODE_MEMORY_MIB);
        c.finite_in(format!("{path}.price_per_node_hour"), p.price_per_node_hour, 0.0, 1000.0, "price");
        if p.min_nodes > p.max_nodes {
            c.fail(
                format!("{path}.min_nodes"),
                format!("min_nodes ({}) is greater than max_nodes ({})", p.min_nodes, p.max_nodes),
            );
        }
        c.count_in(format!("{path}.max_nodes"), p.max_nodes, 1, MAX_POOL_NODES);
        if let Some(n) = p.initial_nodes
            && (n < p.min_nodes || n > p.max_nodes)
        {
            c.fail(
                format!("{path}.initial_nodes"),
                format!("{n} is outside [min_nodes {}, max_nodes {}]", p.min_nodes, p.max_nodes),
            );
        }
        if p.domains.is_empty() {
            c.fail(format!("{path}.domains"), "a pool must admit at least one domain");
        }
        // A set, not a look back along the list: a pool may list one domain any number of times.
        let mut admitted = std::collections::HashSet::new();
        for (j, d) in p.domains.iter().enumerate() {
            if !domain_ids.contains(&d.as_str()) {
                c.fail(format!("{path}.domains[{j}]"), unknown("domain", d, &domain_ids));
            } else if !admitted.insert(d.as_str()) {
                c.fail(format!("{path}.domains[{j}]"), format!("duplicate domain \"{d}\" (a pool admits it once)"));
            }
        }
    }

    check_pods_fit(&mut c, s);
    check_app_count(&mut c, s);
    let lags = &s.telemetry;
    for (field, lag_secs) in [
        ("pods_lag_secs", lags.pods_lag_secs),
        ("cpu_lag_secs", lags.cpu_lag_secs),
        ("latency_lag_secs", lags.latency_lag_secs),
        ("rps_lag_secs", lags.rps_lag_secs),
    ] {
        c.count_in(format!("telemetry.{field}"), lag_secs, 0, MAX_TELEMETRY_LAG_SECS);
    }

    let pr = &s.provisioner;
    if pr.api_calls_per_min == 0 {
        c.fail("provisioner.api_calls_per_min", "must be at least 1");
    }
    if pr.max_concurrent_nodes == 0 {
        c.fail("provisioner.max_concurrent_nodes", "must be at least 1");
    }
    if pr.node_boot_secs.0 > pr.node_boot_secs.1 {
        c.fail("provisioner.node_boot_secs", "range is inverted (first value above the second)");
    } else {
        c.count_in("provisioner.node_boot_secs".into(), pr.node_boot_secs.1, 0, MAX_NODE_BOOT_SECS);
    }
    let backlog = pr.backlog_latency_ms_per_node;
    c.count_in("provisioner.backlog_latency_ms_per_node".into(), backlog, 0, MAX_BACKLOG_LATENCY_MS_PER_NODE);
    let unneeded = pr.scale_down_unneeded_secs;
    c.count_in("provisioner.scale_down_unneeded_secs".into(), unneeded, 0, MAX_SCALE_DOWN_UNNEEDED_SECS);
    let cl = &s.cluster;
    c.count_in("cluster.termination_grace_secs".into(), cl.termination_grace_secs, 0, MAX_TERMINATION_GRACE_SECS);
    c.count_in("cluster.churn_window_secs".into(), cl.churn_window_secs, 0, MAX_CHURN_WINDOW_SECS);
    c.finite_in("provisioner.allocatable_fraction".into(), pr.allocatable_fraction, 0.1, 1.0, "allocatable fraction");

    for (i, e) in s.events.iter().enumerate() {
        check_event(&mut c, &format!("events[{i}]"), e, s, &domain_ids, &pool_names);
    }
    // The name says which limits a what-if lifted (scorecards, the window's what-if menu read it there): it must not
    // say so of a limit the values keep. `small+no-telemetry-lag` with the lags in place once made `--what-if
    // no-telemetry-lag` a silent no-op, since applying it went by the name.
    for w in super::what_if::lifted(s) {
        let kept = w.unlifted_values(s);
        if !kept.is_empty() {
            let fields: Vec<String> =
                kept.iter().map(|(field, now, lifted)| format!("{field} is {now}, not {lifted}")).collect();
            c.fail(
                "name",
                format!(
                    "says {w} is lifted (\"+{w}\"), but {}: rename the scenario, or lift the limit on the scenario it \
                     came from (--what-if {w})",
                    fields.join(", ")
                ),
            );
        }
    }
    if let Some(limits) = &s.unlifted {
        // Limits that would put back something else, or put back an invalid scenario, are refused in place.
        for (path, message) in limits.problems_with(s) {
            c.fail(if path.is_empty() { "unlifted".to_owned() } else { format!("unlifted.{path}") }, message);
        }
    }
    c.problems
}

/// Ids that are well formed ([`id_problem`]) and unique within their list.
fn check_unique(c: &mut Checker, list: &str, field: &str, names: &[&str]) {
    for (i, n) in names.iter().enumerate() {
        if let Some(problem) = id_problem(n) {
            c.fail(format!("{list}[{i}].{field}"), problem);
        } else if names[..i].contains(n) {
            c.fail(format!("{list}[{i}].{field}"), format!("duplicate {field} \"{n}\""));
        }
    }
}

/// Why `id` cannot be a domain id, a pool or a tier name ([`MAX_ID_CHARS`]); `None` when it can.
fn id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("must not be empty".into());
    }
    let chars = id.chars().count();
    if chars > MAX_ID_CHARS {
        return Some(format!("at most {MAX_ID_CHARS} characters, got {chars} ({})", quoted(id)));
    }
    let allowed = |ch: char| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.');
    if !id.starts_with(|ch: char| ch.is_ascii_alphabetic()) || !id.chars().all(allowed) {
        return Some(format!(
            "{} must be ASCII letters, digits, '-', '_' and '.', starting with a letter (ids go into the trace CSV, the \
             terminal tables and options such as --size-floor payment=1.03)",
            quoted(id)
        ));
    }
    None
}

/// `text` quoted with its control characters escaped, cut to 40 characters.
fn quoted(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    if cut.len() < text.len() { format!("{cut:?}…") } else { format!("{cut:?}") }
}

/// A name for people: not blank, no control characters, at most `max` characters.
fn check_display_name(c: &mut Checker, path: &str, name: &str, max: usize) {
    if name.trim().is_empty() {
        c.fail(path, "must not be empty");
    } else if name.chars().any(char::is_control) {
        c.fail(
            path,
            format!(
                "{} must not hold control characters (a newline, a tab, an escape code): the name goes to the \
                 terminal as it is",
                quoted(name)
            ),
        );
    } else if name.chars().count() > max {
        c.fail(path, format!("at most {max} characters, got {}", name.chars().count()));
    }
}

fn unknown(kind: &str, name: &str, known: &[&str]) -> String {
    format!("unknown {kind} \"{name}\" (known: {})", known.join(", "))
}

fn check_domain(c: &mut Checker, path: &str, d: &DomainSpec, domain_ids: &[&str]) {
    check_display_name(c, &format!("{path}.name"), &d.name, MAX_NAME_CHARS);
    c.finite_in(format!("{path}.priority_weight"), d.priority_weight, 0.0, 10.0, "priority weight");
    c.finite_in(format!("{path}.slo.p99_latency_ms"), d.slo.p99_latency_ms, MIN_LATENCY_MS, MAX_LATENCY_MS, "p99 SLO");
    c.finite_in(format!("{path}.slo.error_budget_ratio"), d.slo.error_budget_ratio, 1e-6, 0.5, "error budget");
    c.finite_in(format!("{path}.slo.timeout_ms"), d.slo.timeout_ms, MIN_LATENCY_MS, MAX_LATENCY_MS, "timeout");
    let t = &d.traffic;
    c.finite_in(format!("{path}.traffic.base_rps"), t.base_rps, 0.0, 1e9, "base rate");
    c.finite_in(format!("{path}.traffic.daily_amplitude"), t.daily_amplitude, 0.0, 0.95, "daily amplitude");
    c.finite_in(format!("{path}.traffic.peak_hour"), t.peak_hour, 0.0, 24.0, "peak hour");
    c.finite_in(format!("{path}.traffic.weekend_factor"), t.weekend_factor, 0.0, 10.0, "weekend factor");
    c.finite_in(format!("{path}.traffic.noise_sigma"), t.noise_sigma, 0.0, 0.5, "noise σ");
    c.finite_in(format!("{path}.traffic.payday_factor"), t.payday_factor, 0.1, 10.0, "payday factor");
    c.finite_in(format!("{path}.traffic.app_noise_sigma"), t.app_noise_sigma, 0.0, 0.5, "app noise σ");
    c.finite_in(format!("{path}.traffic.app_share_sigma"), t.app_share_sigma, 0.0, 3.0, "app share σ");
    c.positive(format!("{path}.traffic.noise_corr_secs"), t.noise_corr_secs, "noise correlation time");

    // A set, not a look back along the list: a domain may list any number of calls.
    let mut callees = std::collections::HashSet::new();
    for (j, call) in d.calls.iter().enumerate() {
        if !domain_ids.contains(&call.to.as_str()) {
            c.fail(format!("{path}.calls[{j}].to"), unknown("domain", &call.to, domain_ids));
        } else if call.to == d.id {
            c.fail(format!("{path}.calls[{j}].to"), "a domain cannot call itself inline");
        } else if !callees.insert(call.to.as_str()) {
            // The latency model adds a callee's p99 once per call, so a second entry would count it twice.
            c.fail(
                format!("{path}.calls[{j}].to"),
                format!(
                    "duplicate call to \"{}\" (one entry per callee: its ratio is the share of requests that call it)",
                    call.to
                ),
            );
        }
        c.finite_in(format!("{path}.calls[{j}].ratio"), call.ratio, 0.0, 100.0, "call ratio");
    }

    if d.tiers.is_empty() {
        c.fail(format!("{path}.tiers"), "a domain needs at least one tier");
    }
    let share_sum: f64 = d.tiers.iter().map(|t| t.traffic_share).sum();
    if !d.tiers.is_empty() && (share_sum - 1.0).abs() > 1e-6 {
        c.fail(format!("{path}.tiers"), format!("tier traffic_share values must sum to 1, they sum to {share_sum:.6}"));
    }
    // Tier names make the app names (`payment-checkout-api-000`): one per tier of a domain.
    let mut tier_names = std::collections::HashSet::new();
    for (j, t) in d.tiers.iter().enumerate() {
        if let Some(problem) = id_problem(&t.name) {
            c.fail(format!("{path}.tiers[{j}].name"), problem);
        } else if !tier_names.insert(t.name.as_str()) {
            c.fail(format!("{path}.tiers[{j}].name"), format!("duplicate tier name \"{}\" in this domain", t.name));
        }
        check_tier(c, &format!("{path}.tiers[{j}]"), t);
    }
}

/// Each tier's pod, and each batch job's, fits on one node of a pool that admits its domain, after the allocatable
/// fraction, computed as the simulator's layout computes a node's allocatable (`sim::layout`: the node's size times
/// the fraction, truncated). The scheduler places pods into a pool's capacity in aggregate, so a pod larger than a node
/// would be placed across nodes, which Kubernetes cannot do; and the cluster autoscaler, adding nodes for it, never
/// brought it room: 64-core pods on 32-core nodes stayed Pending with every request failing.
fn check_pods_fit(c: &mut Checker, s: &Scenario) {
    let fraction = s.provisioner.allocatable_fraction;
    if !(fraction.is_finite() && (0.1..=1.0).contains(&fraction)) {
        return; // reported at provisioner.allocatable_fraction
    }
    let allocatable = |p: &PoolSpec| {
        ((f64::from(p.node_cpu_millicores) * fraction) as u64, (f64::from(p.node_memory_mib) * fraction) as u64)
    };
    let check = |c: &mut Checker, path: &str, what: &str, domain: &str, cpu: u32, memory: u32| {
        let pools: Vec<&PoolSpec> = s.pools.iter().filter(|p| p.domains.iter().any(|d| d == domain)).collect();
        let fits = |p: &&PoolSpec| {
            let (node_cpu, node_memory) = allocatable(p);
            u64::from(cpu) <= node_cpu && u64::from(memory) <= node_memory
        };
        if pools.is_empty() || pools.iter().any(fits) {
            return; // a domain without pools is reported at its id
        }
        let field = if pools.iter().any(|p| u64::from(cpu) <= allocatable(p).0) {
            "memory_request_mib"
        } else {
            "cpu_request_millicores"
        };
        let nodes: Vec<String> = pools
            .iter()
            .map(|p| {
                let (node_cpu, node_memory) = allocatable(p);
                format!("{} {node_cpu} m / {node_memory} MiB", p.name)
            })
            .collect();
        c.fail(
            format!("{path}.{field}"),
            format!(
                "a pod of {what} ({cpu} m, {memory} MiB) fits on no node of a pool that admits \"{domain}\" \
                 (allocatable per node at allocatable_fraction {fraction}: {})",
                nodes.join(", ")
            ),
        );
    };
    for (i, d) in s.domains.iter().enumerate() {
        for (j, t) in d.tiers.iter().enumerate() {
            let what = format!("tier \"{}\"", t.name);
            check(c, &format!("domains[{i}].tiers[{j}]"), &what, &d.id, t.cpu_request_millicores, t.memory_request_mib);
        }
    }
    for (i, e) in s.events.iter().enumerate() {
        if let EventSpec::BatchJob { domain, cpu_request_millicores, memory_request_mib, .. } = e {
            check(c, &format!("events[{i}]"), "the batch job", domain, *cpu_request_millicores, *memory_request_mib);
        }
    }
}

/// The app count and the pods at `maxReplicas`, each reported at the tier that takes it over its bound
/// ([`MAX_APPS`], [`MAX_REPLICAS_IN_ALL`]).
fn check_app_count(c: &mut Checker, s: &Scenario) {
    let (mut apps, mut replicas) = (0u64, 0u64);
    for (i, d) in s.domains.iter().enumerate() {
        for (j, t) in d.tiers.iter().enumerate() {
            let path = format!("domains[{i}].tiers[{j}]");
            let before = apps;
            apps = apps.saturating_add(u64::from(t.apps));
            if before <= MAX_APPS && apps > MAX_APPS {
                c.fail(
                    format!("{path}.apps"),
                    format!("brings the scenario to {apps} apps; at most {MAX_APPS} are supported"),
                );
            }
            let before = replicas;
            replicas = replicas.saturating_add(u64::from(t.apps).saturating_mul(u64::from(t.hpa.max_replicas)));
            if before <= MAX_REPLICAS_IN_ALL && replicas > MAX_REPLICAS_IN_ALL {
                c.fail(
                    format!("{path}.hpa.maxReplicas"),
                    format!(
                        "brings the scenario's apps to {replicas} pods at their maxReplicas; at most \
                         {MAX_REPLICAS_IN_ALL} are supported"
                    ),
                );
            }
        }
    }
}

fn check_tier(c: &mut Checker, path: &str, t: &TierSpec) {
    if t.apps == 0 {
        c.fail(format!("{path}.apps"), "a tier needs at least one app");
    }
    c.finite_in(format!("{path}.traffic_share"), t.traffic_share, 0.0, 1.0, "traffic share");
    let service_time = t.service_time_ms;
    c.finite_in(
        format!("{path}.service_time_ms"),
        service_time,
        MIN_SERVICE_TIME_MS,
        MAX_SERVICE_TIME_MS,
        "service time",
    );
    if t.concurrency_per_pod == 0 {
        c.fail(format!("{path}.concurrency_per_pod"), "must be at least 1");
    }
    c.count_in(format!("{path}.cpu_request_millicores"), t.cpu_request_millicores, 1, MAX_NODE_CPU_MILLICORES);
    c.count_in(format!("{path}.memory_request_mib"), t.memory_request_mib, 1, MAX_NODE_MEMORY_MIB);
    let base_p99 = t.base_p99_latency_ms;
    c.finite_in(format!("{path}.base_p99_latency_ms"), base_p99, MIN_LATENCY_MS, MAX_LATENCY_MS, "base p99 latency");
    if t.cold_start_secs.0 > t.cold_start_secs.1 {
        c.fail(format!("{path}.cold_start_secs"), "range is inverted (first value above the second)");
    } else {
        c.count_in(format!("{path}.cold_start_secs"), t.cold_start_secs.1, 0, MAX_COLD_START_SECS);
    }
    for p in t.hpa.validate() {
        c.fail(format!("{path}.hpa.{}", p.field), p.message);
    }
    for (k, m) in t.hpa.metrics.iter().enumerate() {
        if let MetricTarget::PodsAverageValue { metric, .. } = m
            && metric != "requests_per_second"
        {
            c.fail(
                format!("{path}.hpa.metrics[{k}].metric"),
                format!("unknown pods metric \"{metric}\" (the simulator provides: requests_per_second)"),
            );
        }
    }
}

fn check_event(c: &mut Checker, path: &str, e: &EventSpec, s: &Scenario, domains: &[&str], pools: &[&str]) {
    let domain_ok = |c: &mut Checker, d: &str| {
        if !domains.contains(&d) {
            c.fail(format!("{path}.domain"), unknown("domain", d, domains));
        }
    };
    if let EventSpec::FlashSale { announced_start_secs: Some(at), .. } = e {
        c.count_in(format!("{path}.announced_start_secs"), *at, 0, MAX_DURATION_SECS);
    }
    if let EventSpec::FlashSale { announced_start_secs, announced_at_secs: Some(at), .. } = e {
        c.count_in(format!("{path}.announced_at_secs"), *at, 0, MAX_DURATION_SECS);
        if announced_start_secs.is_none() {
            c.fail(
                format!("{path}.announced_at_secs"),
                "an unannounced sale has no announcement time: set announced_start_secs too, or remove this"
                    .to_string(),
            );
        }
    }
    match e {
        EventSpec::FlashSale { domain, ramp_secs, multiplier, duration_secs, .. }
        | EventSpec::Spike { domain, ramp_secs, multiplier, duration_secs, .. } => {
            domain_ok(c, domain);
            c.finite_in(format!("{path}.multiplier"), *multiplier, 0.0, 100.0, "multiplier");
            c.count_in(format!("{path}.duration_secs"), *duration_secs, 1, MAX_DURATION_SECS);
            if ramp_secs.saturating_mul(2) > *duration_secs {
                c.fail(
                    format!("{path}.ramp_secs"),
                    format!("ramp up and down (2 × {ramp_secs} s) must fit in duration_secs ({duration_secs})"),
                );
            }
        }
        EventSpec::BatchJob { domain, pods, cpu_request_millicores, memory_request_mib, duration_secs, .. } => {
            domain_ok(c, domain);
            c.count_in(format!("{path}.pods"), *pods, 1, MAX_BATCH_PODS);
            c.count_in(format!("{path}.cpu_request_millicores"), *cpu_request_millicores, 1, MAX_NODE_CPU_MILLICORES);
            c.count_in(format!("{path}.memory_request_mib"), *memory_request_mib, 1, MAX_NODE_MEMORY_MIB);
            c.count_in(format!("{path}.duration_secs"), *duration_secs, 1, MAX_DURATION_SECS);
        }
        EventSpec::ProvisionerSlowdown { factor, duration_secs, .. } => {
            c.finite_in(format!("{path}.factor"), *factor, 1.0, 100.0, "slowdown factor");
            // At least a second, as every other event: a slowdown of no time does nothing.
            c.count_in(format!("{path}.duration_secs"), *duration_secs, 1, MAX_DURATION_SECS);
        }
        EventSpec::NodePoolLoss { pool, nodes, .. } => {
            if !pools.contains(&pool.as_str()) {
                c.fail(format!("{path}.pool"), unknown("pool", pool, pools));
            }
            // At least a node (a loss of none does nothing), at most a whole pool's bound.
            c.count_in(format!("{path}.nodes"), *nodes, 1, MAX_POOL_NODES);
        }
    }
    if e.start_secs() >= s.duration_secs {
        let field = match e {
            EventSpec::NodePoolLoss { .. } => "at_secs",
            _ => "start_secs",
        };
        c.fail(
            format!("{path}.{field}"),
            format!("starts at {} s, after the run ends ({} s)", e.start_secs(), s.duration_secs),
        );
    }
}

/// Inline calls must form a DAG: latency adds up along calls, so a cycle has no meaning.
fn check_call_cycles(c: &mut Checker, s: &Scenario) {
    let n = s.domains.len();
    let index = |id: &str| s.domains.iter().position(|d| d.id == id);
    // Kahn's algorithm over known edges; whatever is left over sits on a cycle.
    let mut indegree = vec![0usize; n];
    for d in &s.domains {
        for call in &d.calls {
            if let Some(j) = index(&call.to)
                && call.to != d.id
            {
                indegree[j] += 1;
            }
        }
    }
    let mut queue: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = queue.pop() {
        seen += 1;
        for call in &s.domains[i].calls {
            if let Some(j) = index(&call.to)
                && j != i
            {
                indegree[j] -= 1;
                if indegree[j] == 0 {
                    queue.push(j);
                }
            }
        }
    }
    if seen < n {
        for (i, d) in s.domains.iter().enumerate() {
            if indegree[i] > 0 {
                c.fail(format!("domains[{i}].calls"), format!("inline calls of \"{}\" form a cycle", d.id));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_messages_are_short_whatever_their_magnitude() {
        assert_eq!(shown(0.25), "0.25");
        assert_eq!(shown(48_962_627_163_000.0), "48962627163000");
        assert_eq!(shown(5e-324), "5e-324");
        assert_eq!(shown(-1e308), "-1e308");
        assert_eq!(shown(0.0), "0");
        assert_eq!(shown(f64::NAN), "NaN");
    }

    fn small() -> Scenario {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        crate::scenario::load_file(&path).expect("shipped scenario")
    }

    fn paths(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.path.as_str()).collect()
    }

    /// Once unbounded: memory grows with the square of the domain count (8,000 domains took 4.5 GB). The count is
    /// refused before the checks that compare domains with each other, and alone.
    #[test]
    fn more_domains_than_the_bound_are_refused_before_anything_else() {
        let with_domains = |n: usize| {
            let mut s = small();
            let mut extra = s.domains[0].clone();
            extra.calls.clear();
            for i in s.domains.len()..n {
                let id = format!("extra-{i}");
                s.pools[0].domains.push(id.clone());
                s.domains.push(DomainSpec { id, ..extra.clone() });
            }
            s
        };
        assert!(validate(&with_domains(MAX_DOMAINS)).is_empty(), "{:?}", validate(&with_domains(MAX_DOMAINS)));
        let mut s = with_domains(MAX_DOMAINS + 1);
        s.domains[1].tiers.clear(); // not reported: the count stops the checks
        let problems = validate(&s);
        assert_eq!(paths(&problems), ["domains"], "{problems:?}");
        assert_eq!(
            problems[0].message,
            format!("at most {MAX_DOMAINS} domains are supported, got {}", MAX_DOMAINS + 1)
        );
        // 100,000 domains listed in one pool: refused at once, not after 10^10 comparisons.
        let mut s = small();
        s.domains = vec![s.domains[0].clone(); 100_000];
        s.pools[0].domains = vec![s.domains[0].id.clone(); 100_000];
        assert_eq!(paths(&validate(&s)), ["domains"]);
    }

    /// Once accepted: an SLO of 1e-306 ms (an infinite degradation, `null` in the scorecard JSON), service times,
    /// timeouts and base p99s of 5e-324 ms, and latencies of 1e308 ms. Each is refused past its bound; at the bounds
    /// a run's scorecard holds only finite numbers.
    #[test]
    fn latencies_and_service_times_are_bounded_and_give_a_finite_scorecard_at_their_bounds() {
        type Edit = fn(&mut Scenario, f64);
        let fields: [(&str, Edit, f64, f64); 4] = [
            (
                "domains[1].slo.p99_latency_ms",
                |s, v| s.domains[1].slo.p99_latency_ms = v,
                MIN_LATENCY_MS,
                MAX_LATENCY_MS,
            ),
            ("domains[1].slo.timeout_ms", |s, v| s.domains[1].slo.timeout_ms = v, MIN_LATENCY_MS, MAX_LATENCY_MS),
            (
                "domains[1].tiers[0].base_p99_latency_ms",
                |s, v| s.domains[1].tiers[0].base_p99_latency_ms = v,
                MIN_LATENCY_MS,
                MAX_LATENCY_MS,
            ),
            (
                "domains[1].tiers[0].service_time_ms",
                |s, v| s.domains[1].tiers[0].service_time_ms = v,
                MIN_SERVICE_TIME_MS,
                MAX_SERVICE_TIME_MS,
            ),
        ];
        for (path, edit, lo, hi) in fields {
            for (bad, good) in [(5e-324, lo), (1e-306, lo), (lo * 0.99, lo), (hi * 1.01, hi), (1e308, hi)] {
                let mut s = small();
                edit(&mut s, bad);
                assert_eq!(paths(&validate(&s)), [path], "{bad}");
                edit(&mut s, good);
                assert!(validate(&s).is_empty(), "{path} at {good}: {:?}", validate(&s));
            }
        }
        // Every domain and tier at the lower bounds, then at the upper ones: an hour under HPA, and every number of
        // the scorecard finite.
        for at in [0, 1] {
            let mut s = small();
            s.duration_secs = 3600;
            s.events.clear();
            let (latency, service) =
                if at == 0 { (MIN_LATENCY_MS, MIN_SERVICE_TIME_MS) } else { (MAX_LATENCY_MS, MAX_SERVICE_TIME_MS) };
            for d in &mut s.domains {
                (d.slo.p99_latency_ms, d.slo.timeout_ms) = (latency, latency);
                for t in &mut d.tiers {
                    (t.base_p99_latency_ms, t.service_time_ms) = (latency, service);
                }
            }
            assert!(validate(&s).is_empty(), "{:?}", validate(&s));
            let mut sim = crate::sim::Simulation::new(&s, 1);
            let mut hpa = crate::policy::baseline("hpa", sim.layout()).expect("hpa");
            crate::policy::run_until(&mut sim, hpa.as_mut(), s.duration_secs, |_| {});
            let card = serde_json::to_value(sim.scorecard("hpa")).expect("serialises");
            fn nulls(v: &serde_json::Value, at: &str, out: &mut Vec<String>) {
                match v {
                    serde_json::Value::Null => out.push(at.to_string()),
                    serde_json::Value::Array(items) => items.iter().for_each(|x| nulls(x, at, out)),
                    serde_json::Value::Object(fields) => fields.iter().for_each(|(k, x)| nulls(x, k, out)),
                    _ => {}
                }
            }
            let mut found = Vec::new();
            nulls(&card, "", &mut found);
            // The scorecard's optional means and maxima (`Option<f64>`) are absent when nothing was measured.
            found.retain(|k| !k.ends_with("_time_to_scale_out_secs") && !k.ends_with("_node_provision_secs"));
            assert!(found.is_empty(), "non-finite at {found:?}");
        }
    }

    /// Once accepted: a domain id `fr,a=ud` (the trace CSV's header got 52 columns, its rows 44), ids holding a newline
    /// or an escape code (straight into the terminal table), `" "`, a 1 MB id, `P0` (which `--size-floor` reads as
    /// the priority), duplicate and empty tier names, and empty display names.
    #[test]
    fn an_announcement_time_needs_an_announced_sale() {
        let sale = |announced_start_secs, announced_at_secs| EventSpec::FlashSale {
            domain: small().domains[0].id.clone(),
            announced_start_secs,
            announced_at_secs,
            start_secs: 3_600,
            ramp_secs: 60,
            multiplier: 2.0,
            duration_secs: 1_200,
        };
        assert!(validate_event(&small(), &sale(Some(3_600), Some(600))).is_empty(), "announced at 600 s for 3,600 s");
        let refused = validate_event(&small(), &sale(None, Some(600)));
        assert!(
            refused.iter().any(|p| p.path.ends_with(".announced_at_secs") && p.message.contains("unannounced")),
            "{refused:?}"
        );
    }

    #[test]
    fn ids_are_words_of_a_safe_charset_and_names_are_printable() {
        let refused = |edit: &dyn Fn(&mut Scenario), path: &str, says: &str| {
            let mut s = small();
            edit(&mut s);
            let problems = validate(&s);
            let at = problems.iter().find(|p| p.path == path).unwrap_or_else(|| panic!("{path}: {problems:?}"));
            assert!(at.message.contains(says), "{path}: {at:?}");
        };
        let charset = "must be ASCII letters, digits";
        let long = "x".repeat(1 << 20);
        for (bad, says) in [
            ("fr,a=ud", charset),
            ("pay\nment", charset),
            ("\u{1b}[31mred", charset),
            (" ", charset),
            ("pay ment", charset),
            ("1payment", charset),
            ("-payment", charset),
            ("paymént", charset),
            ("", "must not be empty"),
            (long.as_str(), "at most 64 characters, got 1048576"),
        ] {
            refused(&|s| s.domains[1].id = bad.into(), "domains[1].id", says);
            refused(&|s| s.pools[2].name = bad.into(), "pools[2].name", says);
            refused(&|s| s.domains[3].tiers[1].name = bad.into(), "domains[3].tiers[1].name", says);
        }
        for priority in ["P0", "P3", "p1", "P12"] {
            refused(&|s| s.domains[1].id = priority.into(), "domains[1].id", "reads as a priority in --size-floor");
        }
        refused(
            &|s| s.domains[0].tiers[1].name = s.domains[0].tiers[0].name.clone(),
            "domains[0].tiers[1].name",
            "duplicate tier name",
        );
        for (bad, says) in [("", "must not be empty"), ("  ", "must not be empty"), ("a\nb", "control characters")] {
            refused(&|s| s.name = bad.into(), "name", says);
            refused(&|s| s.domains[2].name = bad.into(), "domains[2].name", says);
        }
        refused(&|s| s.domains[2].name = "n".repeat(MAX_NAME_CHARS + 1), "domains[2].name", "at most 200 characters");
        // Accepted: every allowed character, the longest id, a priority-like word, and a display name of any text.
        let mut s = small();
        let id = "P0-payment_v2.eu";
        for p in &mut s.pools {
            p.domains.iter_mut().filter(|d| **d == s.domains[0].id).for_each(|d| *d = id.into());
        }
        for call in s.domains.iter_mut().flat_map(|d| &mut d.calls) {
            if call.to == "payment" {
                call.to = id.into();
            }
        }
        for e in &mut s.events {
            if let EventSpec::Spike { domain, .. } = e {
                *domain = id.into();
            }
        }
        s.domains[0].id = id.into();
        s.pools[1].name = "x".repeat(MAX_ID_CHARS);
        s.domains[1].tiers[0].name = "P".into();
        s.domains[2].name = "Händler & APIs (EU) — ≤ 200 chars".into();
        s.name = format!("{}+{}+{}", "n".repeat(MAX_NAME_CHARS), WhatIf::ALL[0], WhatIf::ALL[1]);
        WhatIf::ALL.iter().for_each(|w| w.apply(&mut s));
        assert!(validate(&s).is_empty(), "{:?}", validate(&s));
    }

    /// Once accepted: `cpu_request_millicores: 64000` on 32-core nodes (360 breach minutes, every request failing).
    /// A pod must fit one node's allocatable (size × allocatable_fraction, truncated as the simulator does) in some
    /// pool that admits its domain; so must a batch job's.
    #[test]
    fn a_pod_must_fit_one_node_of_a_pool_that_admits_its_domain() {
        // Merchant (domains[2]) runs on merchant-general only: 32,000 m and 131,072 MiB, 28,800 m / 117,964 MiB at 0.9.
        let at = |cpu: u32, memory: u32| {
            let mut s = small();
            (s.domains[2].tiers[0].cpu_request_millicores, s.domains[2].tiers[0].memory_request_mib) = (cpu, memory);
            validate(&s)
        };
        assert!(at(28_800, 117_964).is_empty(), "{:?}", at(28_800, 117_964));
        let problems = at(64_000, 1024);
        assert_eq!(paths(&problems), ["domains[2].tiers[0].cpu_request_millicores"], "{problems:?}");
        assert!(problems[0].message.starts_with("a pod of tier \"merchant-api\" (64000 m, 1024 MiB)"), "{problems:?}");
        assert!(problems[0].message.contains("merchant-general 28800 m / 117964 MiB"), "{problems:?}");
        assert_eq!(paths(&at(28_801, 1024)), ["domains[2].tiers[0].cpu_request_millicores"]);
        assert_eq!(paths(&at(1000, 117_965)), ["domains[2].tiers[0].memory_request_mib"]);
        // Internal (domains[4]) may use every pool: the 32-core nodes take what the 16-core data-batch nodes cannot.
        let mut s = small();
        s.domains[4].tiers[0].cpu_request_millicores = 20_000;
        assert!(validate(&s).is_empty(), "{:?}", validate(&s));
        // At allocatable_fraction 1 the whole node is there.
        let mut s = small();
        s.domains[2].tiers[0].cpu_request_millicores = 32_000;
        assert_eq!(paths(&validate(&s)), ["domains[2].tiers[0].cpu_request_millicores"]);
        s.provisioner.allocatable_fraction = 1.0;
        assert!(validate(&s).is_empty(), "{:?}", validate(&s));
        // A batch job of data (data-batch and nothing else: 14,400 m at 0.9).
        let batch = |cpu: u32| EventSpec::BatchJob {
            domain: "data".into(),
            start_secs: 0,
            duration_secs: 600,
            pods: 10,
            cpu_request_millicores: cpu,
            memory_request_mib: 1024,
        };
        assert!(validate_event(&small(), &batch(14_400)).is_empty());
        assert_eq!(paths(&validate_event(&small(), &batch(14_401))), [".cpu_request_millicores"]);
    }

    /// Once accepted at u32::MAX: cold starts, node boots, the backlog latency, the scale-down timer, the grace period
    /// and the churn window. Each is refused past its bound and accepted at it.
    #[test]
    fn times_past_their_bounds_are_refused_where_they_are() {
        type Edit = fn(&mut Scenario, u32);
        let fields: [(&str, Edit, u32); 6] = [
            (
                "domains[3].tiers[0].cold_start_secs",
                |s, v| s.domains[3].tiers[0].cold_start_secs = (v, v),
                MAX_COLD_START_SECS,
            ),
            ("provisioner.node_boot_secs", |s, v| s.provisioner.node_boot_secs = (60, v), MAX_NODE_BOOT_SECS),
            (
                "provisioner.backlog_latency_ms_per_node",
                |s, v| s.provisioner.backlog_latency_ms_per_node = v,
                MAX_BACKLOG_LATENCY_MS_PER_NODE,
            ),
            (
                "provisioner.scale_down_unneeded_secs",
                |s, v| s.provisioner.scale_down_unneeded_secs = v,
                MAX_SCALE_DOWN_UNNEEDED_SECS,
            ),
            ("cluster.termination_grace_secs", |s, v| s.cluster.termination_grace_secs = v, MAX_TERMINATION_GRACE_SECS),
            ("cluster.churn_window_secs", |s, v| s.cluster.churn_window_secs = v, MAX_CHURN_WINDOW_SECS),
        ];
        for (path, edit, bound) in fields {
            for bad in [bound + 1, u32::MAX] {
                let mut s = small();
                edit(&mut s, bad);
                let problems = validate(&s);
                assert_eq!(paths(&problems), [path], "{bad}: {problems:?}");
                assert_eq!(problems[0].message, format!("must be 0 to {bound}, got {bad}"));
            }
            let mut s = small();
            edit(&mut s, bound);
            assert!(validate(&s).is_empty(), "{path} at {bound}: {:?}", validate(&s));
        }
    }

    /// Once accepted as no-ops: a provisioner slowdown of 0 s and a node-pool loss of 0 nodes.
    #[test]
    fn events_that_would_do_nothing_are_refused() {
        let slowdown = |duration_secs| EventSpec::ProvisionerSlowdown { start_secs: 0, duration_secs, factor: 2.0 };
        let loss = |nodes| EventSpec::NodePoolLoss { pool: "data-batch".into(), at_secs: 60, nodes };
        let s = small();
        assert_eq!(paths(&validate_event(&s, &slowdown(0))), [".duration_secs"]);
        assert_eq!(paths(&validate_event(&s, &loss(0))), [".nodes"]);
        assert_eq!(paths(&validate_event(&s, &loss(MAX_POOL_NODES + 1))), [".nodes"]);
        for fine in [slowdown(1), loss(1), loss(MAX_POOL_NODES)] {
            assert!(validate_event(&s, &fine).is_empty(), "{fine:?}");
        }
    }

    /// Once accepted: `small+no-telemetry-lag` with its lags in place, on which `--what-if no-telemetry-lag` did
    /// nothing (applying it went by the name).
    #[test]
    fn a_name_saying_a_limit_is_lifted_needs_the_values_that_show_it() {
        for w in WhatIf::ALL {
            let mut s = small();
            s.name.push_str(&format!("+{w}"));
            let problems = validate(&s);
            assert_eq!(paths(&problems), ["name"], "{w}: {problems:?}");
            assert!(problems[0].message.starts_with(&format!("says {w} is lifted")), "{problems:?}");
            // Applied, the limit is lifted whatever the name said, the name says it once, and the scenario validates.
            w.apply(&mut s);
            assert_eq!(s.name, format!("small+{w}"));
            assert!(w.unlifted_values(&s).is_empty() && validate(&s).is_empty(), "{w}: {:?}", validate(&s));
        }
    }

    #[test]
    fn an_added_event_is_checked_with_paths_relative_to_it() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        let mut s = crate::scenario::load_file(&path).expect("shipped scenario");
        let bad = EventSpec::Spike {
            domain: "nowhere".into(),
            start_secs: 0,
            ramp_secs: 60,
            multiplier: 2.0,
            duration_secs: 600,
        };
        let problems = validate_event(&s, &bad);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].path.starts_with(".domain"), "{problems:?}");
        // The problems of the scenario's own events are not the added event's.
        let good = EventSpec::Spike {
            domain: "payment".into(),
            start_secs: 0,
            ramp_secs: 60,
            multiplier: 2.0,
            duration_secs: 600,
        };
        s.events = vec![good.clone(); 10];
        s.events[1] = bad.clone();
        assert!(validate_event(&s, &good).is_empty(), "the broken events[1] is not the added one");
    }

    #[test]
    fn a_pool_admitting_a_domain_twice_or_a_second_call_to_one_callee_is_refused_where_it_is() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        let small = crate::scenario::load_file(&path).expect("shipped scenario");
        assert!(validate(&small).is_empty());
        let mut s = small.clone();
        let first = s.pools[0].domains[0].clone();
        s.pools[0].domains.push(first.clone());
        let problems = validate(&s);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let at = s.pools[0].domains.len() - 1;
        assert_eq!(problems[0].path, format!("pools[0].domains[{at}]"));
        assert!(problems[0].message.starts_with(&format!("duplicate domain \"{first}\"")), "{problems:?}");
        let mut s = small.clone();
        let call = s.domains[0].calls[0].clone();
        s.domains[0].calls.push(call.clone());
        let problems = validate(&s);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "domains[0].calls[1].to");
        assert!(problems[0].message.starts_with(&format!("duplicate call to \"{}\"", call.to)), "{problems:?}");
    }

    /// Each size past its upper bound is refused at its own path, and the bound itself is accepted.
    #[test]
    fn sizes_past_their_bounds_are_refused_where_they_are() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        let small = crate::scenario::load_file(&path).expect("shipped scenario");
        let refused = |edit: &dyn Fn(&mut Scenario), at_bound: &dyn Fn(&mut Scenario), path: &str| {
            let mut s = small.clone();
            edit(&mut s);
            let problems = validate(&s);
            assert!(problems.iter().any(|p| p.path == path), "{path}: {problems:?}");
            let mut s = small.clone();
            at_bound(&mut s);
            assert!(validate(&s).is_empty(), "{path} at its bound: {:?}", validate(&s));
        };
        refused(
            &|s| s.pools[0].node_cpu_millicores = MAX_NODE_CPU_MILLICORES + 1,
            &|s| s.pools[0].node_cpu_millicores = MAX_NODE_CPU_MILLICORES,
            "pools[0].node_cpu_millicores",
        );
        refused(
            &|s| s.pools[1].node_memory_mib = MAX_NODE_MEMORY_MIB + 1,
            &|s| s.pools[1].node_memory_mib = MAX_NODE_MEMORY_MIB,
            "pools[1].node_memory_mib",
        );
        refused(
            &|s| s.pools[2].max_nodes = MAX_POOL_NODES + 1,
            &|s| s.pools[2].max_nodes = MAX_POOL_NODES,
            "pools[2].max_nodes",
        );
        refused(
            &|s| s.telemetry.cpu_lag_secs = MAX_TELEMETRY_LAG_SECS + 1,
            &|s| s.telemetry.cpu_lag_secs = MAX_TELEMETRY_LAG_SECS,
            "telemetry.cpu_lag_secs",
        );
        refused(
            &|s| s.domains[0].tiers[0].service_time_ms = MAX_SERVICE_TIME_MS * 2.0,
            &|s| s.domains[0].tiers[0].service_time_ms = MAX_SERVICE_TIME_MS,
            "domains[0].tiers[0].service_time_ms",
        );
        refused(
            &|s| s.domains[2].tiers[1].cpu_request_millicores = MAX_NODE_CPU_MILLICORES + 1,
            &|s| {
                // A pod that large fits only the largest node, whole (merchant's only pool is pools[1]).
                s.domains[2].tiers[1].cpu_request_millicores = MAX_NODE_CPU_MILLICORES;
                s.pools[1].node_cpu_millicores = MAX_NODE_CPU_MILLICORES;
                s.provisioner.allocatable_fraction = 1.0;
            },
            "domains[2].tiers[1].cpu_request_millicores",
        );
        // The last tier takes the count over: 100,000 apps in all is the bound.
        let all: u32 = small.domains.iter().flat_map(|d| &d.tiers).map(|t| t.apps).sum();
        let at_bound = MAX_APPS as u32 - (all - small.domains[4].tiers[2].apps);
        refused(
            &|s| s.domains[4].tiers[2].apps = at_bound + 1,
            &|s| {
                s.domains[4].tiers[2].apps = at_bound;
                // At the bound in apps, and under it in pods at maxReplicas.
                s.domains[4].tiers[2].hpa.max_replicas = 100;
            },
            "domains[4].tiers[2].apps",
        );
        refused(
            &|s| {
                s.domains[3].tiers[0].hpa.max_replicas =
                    (MAX_REPLICAS_IN_ALL / u64::from(s.domains[3].tiers[0].apps)) as u32 + 1
            },
            &|s| s.domains[3].tiers[0].hpa.max_replicas = 1_000_000,
            "domains[3].tiers[0].hpa.maxReplicas",
        );
        let spike = |duration_secs: u64| EventSpec::Spike {
            domain: "payment".into(),
            start_secs: 0,
            ramp_secs: 60,
            multiplier: 2.0,
            duration_secs,
        };
        assert!(validate_event(&small, &spike(MAX_DURATION_SECS)).is_empty());
        let problems = validate_event(&small, &spike(u64::MAX));
        assert_eq!(problems.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(), [".duration_secs"], "{problems:?}");
        let batch = |pods: u32| EventSpec::BatchJob {
            domain: "data".into(),
            start_secs: 0,
            duration_secs: 600,
            pods,
            cpu_request_millicores: 1000,
            memory_request_mib: 1024,
        };
        assert!(validate_event(&small, &batch(MAX_BATCH_PODS)).is_empty());
        assert_eq!(validate_event(&small, &batch(u32::MAX))[0].path, ".pods");
    }
}
