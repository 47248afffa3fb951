//! Decisions in plain language (DESIGN §6, "Explainability"), generated from the records' own numbers: what the
//! Commander or a Soldier did, what its critic expected, what the period that followed was worth, and which inputs
//! moved it most. Also the outcome of a decision from the run's ground truth, and names for apps, tier groups and
//! features as a reader of the scenario knows them.
//!
//! Conventions: shares and fractions are shown in % with one decimal; CPU in cores (millicores / 1000); returns and
//! rewards in the critic's units (weighted reward per minute, discounted); negative numbers with a true minus sign.
//! Domain `d` is `scenario.domains[d]` (its `id`). Pure: same inputs, same text.

use super::attribution::FeatureEffect;
use super::features::{DOMAIN_FEATURES, N_DOMAIN_FEATURES, N_GROUPS};
use super::record::{CommanderRecord, SoldierRecord};
use super::reward::{self, COMMANDER_GAMMA, DecisionOutcome, RewardWeights, SOLDIER_GAMMA, TickTruth};
use super::safety::SafetyLevel;
use crate::scenario::Scenario;

/// The period a Commander decision is judged over (as [`reward::commander_decision_terms`]), seconds.
pub const COMMANDER_PERIOD_SECS: u64 = 60;
/// The period a Soldier decision is judged over (as [`reward::soldier_decision_terms`]), seconds.
pub const SOLDIER_PERIOD_SECS: u64 = 10;

/// "−3.2": fixed decimals with a true minus sign.
pub fn signed(v: f64, decimals: usize) -> String {
    let text = format!("{v:.decimals$}");
    // "-0.0" reads as a negative number: show zero unsigned.
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().any(|c| c.is_ascii_digit() && c != '0') => format!("−{rest}"),
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// "1,204": pod and node counts reach the tens of thousands in full-scale runs.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "426,571.2": [`thousands`] with `decimals` places, for figures that run to six and more (pod-minutes,
/// node-hours); "−" for a negative figure that does not round to zero.
pub fn grouped(v: f64, decimals: usize) -> String {
    let text = format!("{:.decimals$}", v.abs());
    let (int, frac) = text.split_once('.').map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let int = int.parse::<u64>().map_or_else(|_| int.to_owned(), thousands);
    let sign = if v < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "−" } else { "" };
    match frac {
        Some(frac) => format!("{sign}{int}.{frac}"),
        None => format!("{sign}{int}"),
    }
}

/// CPU in cores from millicores: one decimal below 100 cores ("12.5 cores"), whole and grouped above ("8,328
/// cores"), where a tenth of a core is noise.
pub fn cores(millicores: f64) -> String {
    let cores = millicores / 1000.0;
    if cores.abs() < 100.0 { format!("{cores:.1} cores") } else { format!("{} cores", thousands(cores.round() as u64)) }
}

/// `1 app`, `2 apps`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// A fraction in % with one decimal: 0.2314 → "23.1%".
pub fn pct(fraction: f64) -> String {
    format!("{}%", signed(fraction * 100.0, 1))
}

/// The domain's id, or "domain d" past the scenario's domains.
pub fn domain_name(scenario: &Scenario, d: usize) -> String {
    scenario.domains.get(d).map_or_else(|| format!("domain {d}"), |x| x.id.clone())
}

/// Share `i` of a Commander directive: a domain, or the reserve after the domains.
fn share_name(scenario: &Scenario, i: usize, n_domains: usize) -> String {
    if i == n_domains { "the reserve".to_string() } else { domain_name(scenario, i) }
}

/// An app by index, as the simulator names it (`payment-checkout-api-007`): apps are numbered through the domains'
/// tiers in scenario order.
pub fn app_name(scenario: &Scenario, app: u32) -> String {
    let mut first = 0u32;
    for d in &scenario.domains {
        for t in &d.tiers {
            if app < first + t.apps {
                return format!("{}-{}-{:03}", d.id, t.name, app - first);
            }
            first += t.apps;
        }
    }
    format!("app {app}")
}

/// A Soldier's tier group `g` of domain `d`: its tier's name (the last group also holds any later tiers).
pub fn group_name(scenario: &Scenario, d: usize, g: usize) -> String {
    let tiers = scenario.domains.get(d).map(|x| &x.tiers[..]).unwrap_or_default();
    match tiers.get(g) {
        Some(t) if g + 1 == N_GROUPS && tiers.len() > N_GROUPS => format!("{} and later tiers", t.name),
        Some(t) => t.name.clone(),
        None => format!("group {g}"),
    }
}

/// What a per-domain (or shared) feature measures, in words.
fn phrase(feature: &str) -> String {
    let p = match feature {
        "ln_rps" => "traffic",
        "rps_p95_15m_over_now" => "15-min p95 traffic vs now",
        "rps_change_1m_rel" => "traffic change",
        "rps_accel_1m_rel" => "traffic acceleration",
        "ln_pods" => "pods",
        "pending_pods_frac" | "pending_frac" => "pending pods",
        "starting_pods_frac" => "starting pods",
        "cpu_util" => "CPU utilisation",
        "cpu_saturation_over_85pct" => "CPU saturation",
        "p99_over_slo" => "p99 vs SLO",
        "slo_headroom" => "SLO headroom",
        "errors_over_budget" => "errors vs budget",
        "latency_exposure" => "latency exposure",
        "alloc_cpu_share_of_cluster" => "CPU share of the cluster",
        "forecast_p80_5m_ln_ratio" => "forecast p80 at 5 min",
        "forecast_p80_15m_ln_ratio" => "forecast p80 at 15 min",
        "forecast_p80_30m_ln_ratio" => "forecast p80 at 30 min",
        "forecast_width_15m_rel" => "forecast spread at 15 min",
        "previous_share" => "previous share",
        "budget_use" => "budget use",
        "recent_thrash" => "recent thrash",
        "priority_rank" => "priority",
        "free_cpu_frac" => "free CPU",
        "ln_nodes" => "nodes",
        "incoming_nodes_frac" => "nodes on the way",
        "cost_per_min_rel" => "cost rate",
        "previous_reserve_share" => "previous reserve share",
        "reserve_placed_frac" => "reserve placed",
        // A clock is two features (its sine and cosine); one name for both listed "hour of day" twice, with
        // different values, in the attribution.
        "hour_sin" => "hour of day (sine)",
        "hour_cos" => "hour of day (cosine)",
        "weekday_sin" => "day of week (sine)",
        "weekday_cos" => "day of week (cosine)",
        "announced_event_ahead" => "announced event ahead",
        "ln_budget_over_alloc" => "budget vs allocation",
        "traffic_share" => "traffic share",
        "max_at_risk" => "most at-risk app",
        "ln_at_risk" => "at-risk score",
        "ln_replicas" => "replicas",
        other => return other.replace('_', " "),
    };
    p.to_string()
}

/// A feature name in words: `d2.forecast_p80_15m_ln_ratio` → "merchant forecast p80 at 15 min". `soldier_domain`
/// names the groups of a Soldier's observation.
pub fn feature_phrase(name: &str, scenario: &Scenario, soldier_domain: Option<usize>) -> String {
    let Some((head, tail)) = name.split_once('.') else { return name.to_string() };
    let number = |prefix: &str| head.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok());
    if head == "calls" {
        let mut ends = tail.split("_to_").map(|d| d.trim_start_matches('d').parse::<usize>().ok());
        if let (Some(Some(from)), Some(Some(to))) = (ends.next(), ends.next()) {
            return format!("calls from {} to {}", domain_name(scenario, from), domain_name(scenario, to));
        }
    }
    if head == "embedding" {
        return format!("domain flag {}", tail.trim_start_matches('d'));
    }
    match head {
        "cluster" => format!("cluster {}", phrase(tail)),
        "domain" => phrase(tail),
        "directive" => format!("Commander's {}", phrase(tail)),
        _ => {
            if let Some(d) = number("d") {
                format!("{} {}", domain_name(scenario, d), phrase(tail))
            } else if let Some(g) = number("group") {
                let group = soldier_domain.map_or_else(|| format!("group {g}"), |d| group_name(scenario, d, g));
                format!("{group} {}", phrase(tail))
            } else if let Some(k) = number("top") {
                format!("at-risk app #{} {}", k + 1, phrase(tail))
            } else {
                name.to_string()
            }
        }
    }
}

/// Whether the period after `t_secs` has been simulated, judged by the newest tick of truth.
fn period_over(truth: &[TickTruth], t_secs: u64, period_secs: u64) -> bool {
    truth.last().is_some_and(|t| t.t_secs >= t_secs + period_secs)
}

/// What followed a Commander decision: `previous` and `next` are its neighbours in the Commander's stream.
pub fn commander_outcome(
    record: &CommanderRecord,
    previous: Option<&CommanderRecord>,
    next: Option<&CommanderRecord>,
    truth: &[TickTruth],
    weights: &RewardWeights,
) -> DecisionOutcome {
    let terms =
        reward::commander_decision_terms(truth, record.t_secs, Some(&record.shares), previous.map(|p| &p.shares[..]));
    let complete = period_over(truth, record.t_secs, COMMANDER_PERIOD_SECS);
    DecisionOutcome::new(terms, weights, record.value, next.and_then(|n| n.value), COMMANDER_GAMMA, complete)
}

/// What followed a Soldier decision: `next` is the same domain's next decision; `budget_millicores` the domain's
/// budget from the Commander decision in force (`None` before the first).
pub fn soldier_outcome(
    record: &SoldierRecord,
    next: Option<&SoldierRecord>,
    budget_millicores: Option<f64>,
    truth: &[TickTruth],
    weights: &RewardWeights,
) -> DecisionOutcome {
    let terms = reward::soldier_decision_terms(truth, record.t_secs, record.domain, budget_millicores);
    let complete = period_over(truth, record.t_secs, SOLDIER_PERIOD_SECS);
    DecisionOutcome::new(terms, weights, record.value, next.and_then(|n| n.value), SOLDIER_GAMMA, complete)
}

/// What a summary needs besides the record.
#[derive(Clone, Copy, Debug)]
pub struct SummaryContext<'a> {
    pub scenario: &'a Scenario,
    /// The decision's time as the reader sees it ("Tue 13:02").
    pub when: &'a str,
    pub outcome: Option<&'a DecisionOutcome>,
    /// The features that moved the action most, largest first (the first three are named).
    pub moved_by: &'a [FeatureEffect],
}

/// "It expected a return of −3.2; the minute that followed was worth −4.0 (0.8 worse than expected)."
fn value_sentence(value: Option<f32>, outcome: Option<&DecisionOutcome>, period: &str) -> String {
    let after = outcome.and_then(|o| o.value_after);
    match (value, after) {
        (Some(v), Some(a)) => {
            let diff = a - f64::from(v);
            let verdict = if diff.abs() < 0.05 {
                "as expected".to_string()
            } else {
                format!("{} {} than expected", signed(diff.abs(), 1), if diff > 0.0 { "better" } else { "worse" })
            };
            format!(
                " It expected a return of {}; {period} that followed was worth {} ({verdict}).",
                signed(f64::from(v), 1),
                signed(a, 1)
            )
        }
        (Some(v), None) => {
            format!(" It expected a return of {}; the outcome is not in yet.", signed(f64::from(v), 1))
        }
        (None, _) => match outcome.filter(|o| o.complete) {
            Some(o) => {
                format!(" The teacher rule has no critic; {period} that followed earned {}.", signed(o.reward, 2))
            }
            None => " The teacher rule has no critic.".to_string(),
        },
    }
}

fn moved_by_sentence(ctx: &SummaryContext<'_>, soldier_domain: Option<usize>) -> String {
    if ctx.moved_by.is_empty() {
        return String::new();
    }
    let names: Vec<String> =
        ctx.moved_by.iter().take(3).map(|f| feature_phrase(&f.name, ctx.scenario, soldier_domain)).collect();
    format!(" Moved most by: {}.", names.join(", "))
}

/// The domain with the steepest forecast rise (ln of p80 over now, 15 or 30 minutes out) in a Commander observation.
fn steepest_rise(obs: &[f32], n_domains: usize) -> Option<usize> {
    let at = |f: &str| DOMAIN_FEATURES.iter().position(|x| *x == f);
    let (i15, i30) = (at("forecast_p80_15m_ln_ratio")?, at("forecast_p80_30m_ln_ratio")?);
    (0..n_domains)
        .filter_map(|d| {
            let block = obs.get(d * N_DOMAIN_FEATURES..(d + 1) * N_DOMAIN_FEATURES)?;
            Some((d, block[i15].max(block[i30])))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .filter(|(_, growth)| *growth > 0.0)
        .map(|(d, _)| d)
}

/// The Commander's decision in a few sentences. `previous` is the Commander's decision before it.
pub fn commander_summary(
    record: &CommanderRecord,
    previous: Option<&CommanderRecord>,
    ctx: &SummaryContext<'_>,
) -> String {
    let n = record.shares.len().saturating_sub(1);
    let mut text = format!("{} — the Commander ", ctx.when);
    let deltas: Option<Vec<f64>> = previous
        .filter(|p| p.shares.len() == record.shares.len())
        .map(|p| record.shares.iter().zip(&p.shares).map(|(a, b)| a - b).collect());
    match &deltas {
        None => {
            let plan: Vec<String> =
                (0..n).map(|d| format!("{} {}", domain_name(ctx.scenario, d), pct(record.shares[d]))).collect();
            text += &format!("set its first plan ({})", plan.join(", "));
        }
        Some(deltas) => {
            let moved: f64 = deltas.iter().map(|d| d.max(0.0)).sum();
            let by = |pick: fn(f64, f64) -> bool| {
                (0..deltas.len()).reduce(|best, i| if pick(deltas[i], deltas[best]) { i } else { best })
            };
            match (by(|a, b| a > b), by(|a, b| a < b)) {
                (Some(to), Some(from)) if moved >= 0.0005 => {
                    let before = record.shares[to] - deltas[to];
                    let to_name = share_name(ctx.scenario, to, n);
                    text += &format!(
                        "moved {} of the cluster from {} to {to_name} ({to_name} from {} to {})",
                        pct(moved),
                        share_name(ctx.scenario, from, n),
                        pct(before),
                        pct(record.shares[to])
                    );
                }
                _ if record.dead_zone_kept > 0 => text += "left the shares as they were (the dead zone held them)",
                _ => text += "left the shares as they were",
            }
        }
    }
    text += &format!(", kept {} in reserve", pct(record.shares.get(n).copied().unwrap_or(0.0)));
    let nodes: u32 = record.node_requests.iter().map(|(_, k)| k).sum();
    if nodes == 0 {
        text += " and asked for no nodes ahead of demand.";
    } else {
        let plural = if nodes == 1 { "node" } else { "nodes" };
        text += &format!(" and asked for {nodes} {plural} ahead of ");
        text += &match steepest_rise(&record.obs, n) {
            Some(d) => format!("a forecast rise in {}.", domain_name(ctx.scenario, d)),
            None => "demand.".to_string(),
        };
    }
    text += &value_sentence(record.value, ctx.outcome, "the minute");
    text += &moved_by_sentence(ctx, None);
    text
}

/// (apps scaled up, pods added, apps scaled down, pods removed).
pub fn replica_totals(changes: &[(u32, u32, u32)]) -> (usize, u64, usize, u64) {
    let mut t = (0, 0, 0, 0);
    for &(_, before, after) in changes {
        if after > before {
            t.0 += 1;
            t.1 += u64::from(after - before);
        } else if after < before {
            t.2 += 1;
            t.3 += u64::from(before - after);
        }
    }
    t
}

/// `14 apps up (+105 pods), none down`, `1 app down (−5 pods), none up`, or `No replica changes`; pod counts
/// grouped by thousands (`+1,061 pods`).
pub fn replica_changes_phrase(changes: &[(u32, u32, u32)]) -> String {
    let (up, added, down, removed) = replica_totals(changes);
    let (added, removed) = (thousands(added), thousands(removed));
    match (up, down) {
        (0, 0) => "No replica changes".to_string(),
        (_, 0) => format!("{} up (+{added} pods), none down", count(up, "app")),
        (0, _) => format!("{} down (−{removed} pods), none up", count(down, "app")),
        _ => format!("{} up (+{added} pods), {down} down (−{removed} pods)", count(up, "app")),
    }
}

/// The ramp lead's rule in a few words, from the shipped settings (see [`super::ramp_lead`]).
pub fn ramp_lead_rule() -> String {
    let cfg = super::ramp_lead::RampLeadConfig::default();
    format!(
        "on a climb of {:.0}–{:.0}% a minute in the domain's observed load, every target is sized for the load {:.0} \
         s ahead and the domain level is at least ×{:.1}",
        cfg.min_growth_per_min * 100.0,
        cfg.max_growth_per_min * 100.0,
        cfg.lead_secs,
        cfg.min_level
    )
}

/// Survival first's two rungs in a few words, from the shipped settings (see [`super::survival`]).
pub fn survival_first_rule() -> String {
    let cfg = super::survival::SurvivalConfig::default();
    format!(
        "each of its apps asks only for the pods that run its load at {:.0}% CPU until every app has them, then for \
         those at {:.0}%",
        cfg.first_rung_utilisation * 100.0,
        cfg.utilisation * 100.0
    )
}

/// What the safety level meant for the decision.
pub fn safety_phrase(level: SafetyLevel) -> &'static str {
    match level {
        SafetyLevel::Normal => "normal",
        SafetyLevel::Alert => "alert (p99 high; recorded, the Soldier still acts)",
        SafetyLevel::Freeze => "frozen (p99 far over the SLO): no scale-downs",
        SafetyLevel::HpaFallback => "handed back to HPA",
    }
}

/// A Soldier's decision in a few sentences.
pub fn soldier_summary(record: &SoldierRecord, ctx: &SummaryContext<'_>) -> String {
    let d = record.domain;
    let mut text = format!(
        "{} — the {} Soldier sized its domain at ×{:.2} the HPA-sized need",
        ctx.when,
        domain_name(ctx.scenario, d),
        record.level_multiplier
    );
    if record.level_raised_for_climb() {
        text += &format!(" (the network's ×{:.2}, raised for the climb)", record.network_level_multiplier);
    }
    let boosted: Vec<String> = record
        .group_factors
        .iter()
        .enumerate()
        .filter(|(_, f)| **f > 1.005)
        .map(|(g, f)| format!("{} ×{f:.2}", group_name(ctx.scenario, d, g)))
        .collect();
    if !boosted.is_empty() {
        text += &format!(", boosting {}", boosted.join(", "));
    }
    let apps = record.top_apps.iter().filter(|(_, f)| *f > 1.005).count();
    if apps > 0 {
        text += &format!(" and {}", count(apps, "at-risk app"));
    }
    text += ".";
    if record.ramp_lead > 1.0 {
        text += &format!(
            " Its load was climbing, so every target was sized ×{:.2} ahead ({:.0} s of the climb).",
            record.ramp_lead,
            super::ramp_lead::RampLeadConfig::default().lead_secs
        );
    }
    if record.held_for_announced_lift() {
        text += &format!(
            " An announced promotion is due: every target was held at least ×{:.2} the HPA-sized need (the lift still to \
             come), as the domain's own pods so none cold-starts when it begins.",
            record.announced_lift
        );
    }
    if record.up_scale < 1.0 {
        text += &format!(
            " The budget projection cut its scale-ups to {:.0}% ({} over 110% of the budget).",
            record.up_scale * 100.0,
            cores(record.clipped_millicores)
        );
    } else {
        text += " The budget projection clipped nothing.";
    }
    if record.slack_held_millicores > 0 {
        text += &format!(
            " {} of slack wait for room (nodes are bought for them).",
            cores(record.slack_held_millicores as f64)
        );
    }
    if record.safety != SafetyLevel::Normal {
        text += &format!(" Safety: {}.", safety_phrase(record.safety));
    }
    if let Some(callee) = record.held_for_callee {
        let callee = domain_name(ctx.scenario, callee);
        text += &format!(
            " Callees first: its scale-ups waited while {callee}, which it calls inline, had pods waiting for room."
        );
    }
    text += &format!(" {}.", replica_changes_phrase(&record.replica_changes));
    text += &value_sentence(record.value, ctx.outcome, "the 10 s");
    text += &moved_by_sentence(ctx, Some(d));
    text
}

#[cfg(test)]
mod tests {
    use super::super::features::COMMANDER_OBS;
    use super::*;
    use crate::agents::hirl::reward::RewardTerms;

    fn scenario() -> Scenario {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        crate::scenario::load_file(&path).expect("small.ron loads")
    }

    fn commander(shares: Vec<f64>, value: Option<f32>) -> CommanderRecord {
        CommanderRecord {
            t_secs: 120,
            obs: vec![0.0; COMMANDER_OBS],
            mean: vec![0.0; 16],
            log_std: vec![-1.0; 16],
            action: vec![0.0; 16],
            value,
            raw_shares: shares.clone(),
            shares,
            dead_zone_kept: 0,
            urgency: vec![0.5; 5],
            headroom: vec![0.1; 5],
            budget_millicores: vec![1000.0; 5],
            reserve_millicores: vec![0, 0, 0],
            announced_reserve_millicores: vec![0, 0, 0],
            node_requests: vec![],
        }
    }

    fn outcome(value: Option<f32>, value_after: Option<f64>) -> DecisionOutcome {
        DecisionOutcome {
            terms: RewardTerms::default(),
            reward: -0.9,
            next_value: None,
            value_after,
            surprise: value_after.zip(value).map(|(a, v)| a - f64::from(v)),
            complete: value_after.is_some(),
        }
    }

    fn effect(name: &str) -> FeatureEffect {
        FeatureEffect { index: 0, name: name.into(), observed: 0.4, reference: 0.1, effect: 0.2 }
    }

    #[test]
    fn the_two_halves_of_a_clock_feature_read_apart() {
        let s = scenario();
        let sin = feature_phrase("cluster.hour_sin", &s, None);
        let cos = feature_phrase("cluster.hour_cos", &s, None);
        assert_eq!((sin.as_str(), cos.as_str()), ("cluster hour of day (sine)", "cluster hour of day (cosine)"));
        assert_ne!(feature_phrase("cluster.weekday_sin", &s, None), feature_phrase("cluster.weekday_cos", &s, None));
    }

    #[test]
    fn counts_group_digits_and_large_cpu_drops_its_decimal() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1204), "1,204");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(grouped(426_571.24, 1), "426,571.2");
        assert_eq!(grouped(999.96, 1), "1,000.0");
        assert_eq!(grouped(-2.5, 1), "−2.5");
        assert_eq!(grouped(-0.01, 1), "0.0");
        assert_eq!(grouped(1_234_567.0, 0), "1,234,567");
        assert_eq!(cores(1500.0), "1.5 cores");
        assert_eq!(cores(99_940.0), "99.9 cores");
        assert_eq!(cores(8_328_000.0), "8,328 cores");
    }

    #[test]
    fn the_commander_summary_names_the_move_reserve_nodes_and_outcome() {
        let s = scenario();
        let previous = commander(vec![0.23, 0.2, 0.2, 0.2, 0.12, 0.05], Some(-3.0));
        let mut rec = commander(vec![0.30, 0.2, 0.2, 0.13, 0.12, 0.05], Some(-3.2));
        rec.node_requests = vec![(0, 8), (2, 4)];
        // The merchant domain's 15-minute forecast rises the most.
        rec.obs[2 * N_DOMAIN_FEATURES + 15] = 0.4;
        rec.obs[N_DOMAIN_FEATURES + 16] = 0.1;
        let o = outcome(Some(-3.2), Some(-4.0));
        let moved_by = [effect("d2.forecast_p80_15m_ln_ratio"), effect("cluster.free_cpu_frac")];
        let ctx = SummaryContext { scenario: &s, when: "Tue 13:02", outcome: Some(&o), moved_by: &moved_by };
        let text = commander_summary(&rec, Some(&previous), &ctx);
        let expected = "Tue 13:02 — the Commander moved 7.0% of the cluster from data to payment (payment from \
                        23.0% to 30.0%), kept 5.0% in reserve and asked for 12 nodes ahead of a forecast rise in merchant. It \
                        expected a return of −3.2; the minute that followed was worth −4.0 (0.8 worse than expected). \
                        Moved most by: merchant forecast p80 at 15 min, cluster free CPU.";
        assert_eq!(text, expected);
    }

    #[test]
    fn first_plans_waiting_outcomes_and_the_teacher_read_differently() {
        let s = scenario();
        let rec = commander(vec![0.2, 0.2, 0.2, 0.2, 0.1, 0.1], Some(1.3));
        let ctx = SummaryContext { scenario: &s, when: "Tue 11:00", outcome: None, moved_by: &[] };
        let text = commander_summary(&rec, None, &ctx);
        assert!(text.contains("set its first plan (payment 20.0%, fraud 20.0%"), "{text}");
        assert!(text.contains("asked for no nodes"), "{text}");
        assert!(text.ends_with("It expected a return of 1.3; the outcome is not in yet."), "{text}");
        let mut same = rec.clone();
        same.value = None;
        same.dead_zone_kept = 6;
        let o = outcome(None, None);
        let done = DecisionOutcome { complete: true, ..o };
        let ctx = SummaryContext { outcome: Some(&done), ..ctx };
        let text = commander_summary(&same, Some(&rec), &ctx);
        assert!(text.contains("left the shares as they were (the dead zone held them)"), "{text}");
        assert!(text.contains("The teacher rule has no critic; the minute that followed earned −0.90."), "{text}");
    }

    #[test]
    fn the_soldier_summary_counts_replica_changes_and_what_was_clipped() {
        let s = scenario();
        let mut group_factors = vec![1.0; N_GROUPS];
        group_factors[1] = 1.4;
        let rec = SoldierRecord {
            t_secs: 130,
            domain: 1,
            obs: vec![],
            mean: vec![],
            log_std: vec![],
            action: vec![],
            value: Some(-0.5),
            level_multiplier: 1.25,
            network_level_multiplier: 1.25,
            ramp_lead: 1.18,
            announced_lift: 1.0,
            group_factors,
            top_apps: vec![(40, 1.3), (41, 1.0)],
            up_scale: 0.6,
            clipped_millicores: 2400.0,
            slack_held_millicores: 1500,
            safety: SafetyLevel::Freeze,
            held_for_callee: None,
            replica_changes: vec![(40, 4, 9), (41, 3, 4), (42, 10, 8), (43, 5, 5)],
        };
        let o = outcome(Some(-0.5), Some(0.3));
        let moved_by = [effect("group1.max_at_risk"), effect("top0.p99_over_slo")];
        let ctx = SummaryContext { scenario: &s, when: "Tue 11:02:10", outcome: Some(&o), moved_by: &moved_by };
        let text = soldier_summary(&rec, &ctx);
        let tier1 = &s.domains[1].tiers[1].name;
        assert!(!text.contains("raised for the climb"), "the network's own level: {text}");
        // A level the ramp lead raised names the network's.
        let raised = soldier_summary(
            &SoldierRecord { level_multiplier: 1.0, network_level_multiplier: 0.93, ..rec.clone() },
            &ctx,
        );
        assert!(
            raised.contains("at ×1.00 the HPA-sized need (the network's ×0.93, raised for the climb), boosting"),
            "{raised}"
        );
        assert!(!text.contains("announced promotion"), "no lift ahead: {text}");
        // A lift larger than level × lead set the targets, and the summary says so; a smaller one did not.
        let held = soldier_summary(&SoldierRecord { announced_lift: 1.9, ..rec.clone() }, &ctx);
        assert!(
            held.contains("An announced promotion is due: every target was held at least ×1.90 the HPA-sized need"),
            "{held}"
        );
        let below = soldier_summary(&SoldierRecord { announced_lift: 1.4, ..rec.clone() }, &ctx);
        assert!(!below.contains("announced promotion"), "×1.4 < ×1.25 × 1.18: {below}");
        // No promotion due (×1) under a level below ×1, as the size floor allows: the executor floors nothing, so
        // the summary must not claim a promotion held the targets at ×1.00.
        let none_due =
            SoldierRecord { level_multiplier: 0.93, network_level_multiplier: 0.93, ramp_lead: 1.0, ..rec.clone() };
        assert!(!none_due.held_for_announced_lift());
        let low = soldier_summary(&none_due, &ctx);
        assert!(!low.contains("announced promotion"), "no lift ahead at ×0.93: {low}");
        for part in [
            "Tue 11:02:10 — the fraud Soldier sized its domain at ×1.25 the HPA-sized need".to_string(),
            format!("boosting {tier1} ×1.40 and 1 at-risk app."),
            "Its load was climbing, so every target was sized ×1.18 ahead (120 s of the climb).".to_string(),
            "cut its scale-ups to 60% (2.4 cores over 110% of the budget)".to_string(),
            "1.5 cores of slack wait for room (nodes are bought for them).".to_string(),
            "Safety: frozen".to_string(),
            "2 apps up (+6 pods), 1 down (−2 pods).".to_string(),
            "the 10 s that followed was worth 0.3 (0.8 better than expected)".to_string(),
            format!("Moved most by: {tier1} most at-risk app, at-risk app #1 p99 vs SLO."),
        ] {
            assert!(text.contains(&part), "missing `{part}` in: {text}");
        }
    }

    #[test]
    fn a_soldier_summary_names_only_the_directions_that_moved() {
        let s = scenario();
        let rec = |changes: Vec<(u32, u32, u32)>| SoldierRecord {
            t_secs: 130,
            domain: 0,
            obs: vec![],
            mean: vec![],
            log_std: vec![],
            action: vec![],
            value: None,
            level_multiplier: 1.0,
            network_level_multiplier: 1.0,
            ramp_lead: 1.0,
            announced_lift: 1.0,
            group_factors: vec![1.0; N_GROUPS],
            top_apps: vec![],
            up_scale: 1.0,
            clipped_millicores: 0.0,
            slack_held_millicores: 0,
            safety: SafetyLevel::Normal,
            held_for_callee: None,
            replica_changes: changes,
        };
        let ctx = SummaryContext { scenario: &s, when: "Tue 11:02:10", outcome: None, moved_by: &[] };
        let up = soldier_summary(&rec(vec![(1, 4, 9), (2, 3, 4)]), &ctx);
        assert!(up.contains("2 apps up (+6 pods), none down."), "{up}");
        let down = soldier_summary(&rec(vec![(1, 9, 4)]), &ctx);
        assert!(down.contains("1 app down (−5 pods), none up."), "{down}");
        assert!(!up.contains("ahead"), "no ramp lead named without one: {up}");
        let many = soldier_summary(&rec(vec![(1, 10, 1071), (2, 2000, 500)]), &ctx);
        assert!(many.contains("1 app up (+1,061 pods), 1 down (−1,500 pods)."), "{many}");
        let none = soldier_summary(&rec(vec![]), &ctx);
        assert!(none.contains("No replica changes."), "{none}");
    }

    #[test]
    fn the_rules_are_worded_from_the_shipped_settings() {
        assert!(survival_first_rule().contains("at 84% CPU until every app has them, then for those at 80%"));
        assert!(ramp_lead_rule().contains("climb of 6–25% a minute"), "{}", ramp_lead_rule());
        assert!(
            ramp_lead_rule().ends_with("sized for the load 120 s ahead and the domain level is at least ×1.0"),
            "{}",
            ramp_lead_rule()
        );
    }

    #[test]
    fn names_come_from_the_scenario() {
        let s = scenario();
        let first = &s.domains[0].tiers[0];
        assert_eq!(app_name(&s, 0), format!("payment-{}-000", first.name));
        assert_eq!(app_name(&s, first.apps), format!("payment-{}-000", s.domains[0].tiers[1].name));
        assert_eq!(app_name(&s, 1_000_000), "app 1000000");
        assert_eq!(feature_phrase("calls.d0_to_d1", &s, None), "calls from payment to fraud");
        assert_eq!(feature_phrase("directive.urgency", &s, Some(0)), "Commander's urgency");
        assert_eq!(signed(-0.04, 1), "0.0");
        assert_eq!(signed(-2.25, 2), "−2.25");
    }

    #[test]
    fn outcomes_wait_for_the_period_and_the_next_decision() {
        let truth: Vec<TickTruth> = (1..=30)
            .map(|i| TickTruth {
                t_secs: i * 5,
                weighted_deg: vec![0.0; 5],
                pending_frac: vec![0.0; 5],
                alloc_millicores: vec![1000.0; 5],
                started_pods: vec![0.0; 5],
                pods: vec![10.0; 5],
                actions_per_app: vec![0.0; 5],
                cost_rel: 1.0,
            })
            .collect();
        let mut rec = commander(vec![0.2, 0.2, 0.2, 0.2, 0.1, 0.1], Some(-3.0));
        rec.t_secs = 60;
        let mut next = rec.clone();
        next.t_secs = 120;
        next.value = Some(-2.0);
        let o = commander_outcome(&rec, None, Some(&next), &truth, &RewardWeights::default());
        assert!(o.complete);
        let expected = o.reward + COMMANDER_GAMMA * -2.0;
        assert_eq!(o.value_after, Some(expected));
        assert_eq!(o.surprise, Some(expected + 3.0));
        assert!(
            commander_outcome(&rec, None, Some(&next), &truth[..20], &RewardWeights::default()).value_after.is_none(),
            "period not over"
        );
        assert!(
            commander_outcome(&rec, None, None, &truth, &RewardWeights::default()).value_after.is_none(),
            "no next decision yet"
        );
    }
}
