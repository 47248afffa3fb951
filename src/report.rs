//! Plain-text tables for scorecards, events and cascades: what the CLI prints, and what the window's scorecard
//! copies as text, so a table pasted from either reads the same.

use std::fmt::Write;

use crate::agents::hirl::explain::grouped;
use crate::scenario::Scenario;
use crate::scenario::clock::clock_label_secs;
use crate::sim::breach_cause::BreachCause;
use crate::sim::cascades::{Cascade, CascadeCounts, CascadeLengths, CascadeLink};
use crate::sim::scorecard::{ClusterScore, DomainScore};
use crate::sim::{Scorecard, SuiteTotals};

/// How many cascades `run` lists one by one (a week under HPA can have hundreds).
pub const CASCADES_LISTED: usize = 12;

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |x| format!("{x:.0}"))
}

/// One run: a row per domain, then the cluster summary.
pub fn scorecard_table(card: &Scorecard) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "scenario: {}   policy: {}   seed: {}   simulated: {:.1} h",
        card.scenario,
        card.policy,
        card.seed,
        card.simulated_secs as f64 / 3600.0
    );
    // As wide as the longest domain id (up to 64 characters), so a long one does not push its row out of line.
    let w = card.domains.iter().map(|d| d.domain.chars().count()).max().unwrap_or(0).max(10);
    let _ = writeln!(
        s,
        "{:<w$} {:>3} {:>9} {:>8} {:>7} {:>8} {:>11} {:>9} {:>9} {:>9} {:>10} {:>8}",
        "domain",
        "pri",
        "breach_m",
        "cascade",
        "inv_m",
        "pend_pm",
        "peak_pend",
        "p99pk_ms",
        "SLO_ms",
        "err_%",
        "scaleout_s",
        "act/apph"
    );
    for d in &card.domains {
        let _ = writeln!(
            s,
            "{:<w$} {:>3} {:>9.1} {:>8} {:>7.1} {:>8.0} {:>11} {:>9.0} {:>9.0} {:>9.3} {:>10} {:>8.2}",
            d.domain,
            d.priority,
            d.slo_breach_minutes,
            d.cascade_events,
            d.priority_inversion_minutes,
            d.pending_pod_minutes,
            d.peak_pending_pods,
            d.peak_p99_latency_ms,
            d.slo_p99_latency_ms,
            d.error_ratio * 100.0,
            opt(d.max_time_to_scale_out_secs),
            d.scaling_actions_per_app_hour
        );
    }
    let c = &card.cluster;
    let _ = writeln!(
        s,
        "cluster: breach {:.1} min (P0+P1 {:.1}), cascades {}, inversion {:.1} min (P0 {:.1}), pending {:.0} pod-min (peak {})",
        c.slo_breach_minutes,
        c.p0_p1_slo_breach_minutes,
        c.cascade_events,
        c.priority_inversion_minutes,
        c.p0_priority_inversion_minutes,
        c.pending_pod_minutes,
        c.peak_pending_pods
    );
    let _ = writeln!(
        s,
        "nodes: peak {} (pods peak {}), provisioned {}, removed {}, churn {}, provisioner queue peak {} nodes / {} calls, node wait mean {} s max {} s",
        c.peak_nodes,
        c.peak_pods,
        c.nodes_provisioned,
        c.nodes_removed,
        c.node_churn_nodes,
        c.peak_provisioner_queue_nodes,
        c.peak_provisioner_queue_requests,
        opt(c.mean_node_provision_secs),
        opt(c.max_node_provision_secs)
    );
    let _ = writeln!(
        s,
        "cost: {:.0} node-h = ${:.0}; CPU allocated {:.0} cores vs used {:.0} (over-provisioning ×{:.2}); scale-out after spikes mean {} s max {} s; {:.2} scaling actions per app-hour",
        c.node_hours,
        c.cost_dollars,
        c.mean_allocated_cpu_cores,
        c.mean_used_cpu_cores,
        c.over_provisioning_ratio,
        opt(c.mean_time_to_scale_out_secs),
        opt(c.max_time_to_scale_out_secs),
        c.scaling_actions_per_app_hour
    );
    s.push_str(&held_by_lines(card));
    s
}

/// What held each domain's breach minutes (only domains that breached): "  payment  26.2 min: waiting for room
/// 13.6 · not scaled up 9.1 · …", headed by a line that says what the words mean.
pub fn held_by_lines(card: &Scorecard) -> String {
    let mut s = String::new();
    let breached: Vec<&DomainScore> = card.domains.iter().filter(|d| d.slo_breach_minutes > 0.0).collect();
    if breached.is_empty() {
        return s;
    }
    let _ = writeln!(
        s,
        "what held the breach minutes (where the requests over the SLO were: apps not scaled up, apps whose \
         controllers held pods back, apps with pods waiting for room or starting, or an inline callee):"
    );
    for d in breached {
        let _ = writeln!(
            s,
            "  {:<10} {:>6.1} min: {}",
            d.domain,
            d.slo_breach_minutes,
            d.slo_breach_minutes_by_cause.summary()
        );
    }
    s
}

/// A metric shown in comparisons: label, decimals shown, getter. Counts have none; scaling actions per app-hour
/// two, as the HiRL target compares them to the hundredth (2.29 against 2.43).
type Metric = (&'static str, usize, fn(&ClusterScore) -> f64);

/// The P0+P1 breach row, which the rows of what held those minutes follow (one per cause).
const P0_P1_ROW: &str = "  of which P0+P1";

/// Decimals of a breach-minutes row (the cluster's, the P0+P1 causes', a domain's).
const MINUTES_DECIMALS: usize = 1;

const CLUSTER_METRICS: &[Metric] = &[
    ("SLO breach minutes", MINUTES_DECIMALS, |c| c.slo_breach_minutes),
    (P0_P1_ROW, MINUTES_DECIMALS, |c| c.p0_p1_slo_breach_minutes),
    ("cascade events", 0, |c| f64::from(c.cascade_events)),
    ("priority inversion min", 1, |c| c.priority_inversion_minutes),
    ("  of which P0", 1, |c| c.p0_priority_inversion_minutes),
    ("pending pod-minutes", 0, |c| c.pending_pod_minutes),
    ("peak pending pods", 0, |c| f64::from(c.peak_pending_pods)),
    ("peak provisioner queue", 0, |c| f64::from(c.peak_provisioner_queue_nodes)),
    ("max node wait s", 0, |c| c.max_node_provision_secs.unwrap_or(0.0)),
    ("nodes provisioned", 0, |c| f64::from(c.nodes_provisioned)),
    ("node churn", 0, |c| f64::from(c.node_churn_nodes)),
    ("max scale-out s", 0, |c| c.max_time_to_scale_out_secs.unwrap_or(0.0)),
    ("actions / app-hour", 2, |c| c.scaling_actions_per_app_hour),
    ("node-hours", 1, |c| c.node_hours),
    ("cost $", 2, |c| c.cost_dollars),
    ("over-provisioning ×", 2, |c| c.over_provisioning_ratio),
];

/// The change against the reference: a percentage, or the value itself (with `decimals`) when the reference is zero.
fn change(reference: f64, value: f64, decimals: usize) -> String {
    if reference == value {
        "=".to_string()
    } else if reference.abs() < 1e-9 {
        format!("+{}", grouped(value, decimals))
    } else {
        let percent = (value / reference - 1.0) * 100.0;
        // A change under half a percent kept to one decimal: rounded whole it read "-0%" or "+0%", a change that is
        // neither none nor a sign.
        if percent.abs() < 0.5 { format!("{percent:+.1}%") } else { format!("{percent:+.0}%") }
    }
}

/// Several runs on identical traffic: cluster metrics side by side with the change against the first, then breach
/// minutes per domain.
pub fn comparison_table(cards: &[Scorecard]) -> String {
    let mut s = String::new();
    let Some(first) = cards.first() else {
        return s;
    };
    let _ = writeln!(
        s,
        "scenario: {}   seed: {}   simulated: {:.1} h   (Δ against {})",
        first.scenario,
        first.seed,
        first.simulated_secs as f64 / 3600.0,
        first.policy
    );
    let _ = write!(s, "{:<24}", "metric");
    for c in cards {
        let _ = write!(s, " {:>12}", c.policy);
        if !std::ptr::eq(c, first) {
            let _ = write!(s, " {:>7}", "Δ");
        }
    }
    s.push('\n');
    let mut row = |label: &str, decimals: usize, get: &dyn Fn(&ClusterScore) -> f64| {
        let reference = get(&first.cluster);
        let _ = write!(s, "{label:<24}");
        for c in cards {
            let v = get(&c.cluster);
            let _ = write!(s, " {:>12}", grouped(v, decimals));
            if !std::ptr::eq(c, first) {
                let _ = write!(s, " {:>7}", change(reference, v, decimals));
            }
        }
        s.push('\n');
    };
    for (label, decimals, get) in CLUSTER_METRICS {
        row(label, *decimals, get);
        if *label == P0_P1_ROW {
            for cause in BreachCause::ALL {
                let minutes = |c: &ClusterScore| c.p0_p1_slo_breach_minutes_by_cause.get(cause);
                row(&format!("    {}", cause.label()), MINUTES_DECIMALS, &minutes);
            }
        }
    }
    let _ = writeln!(s, "SLO breach minutes per domain:");
    for (i, d) in first.domains.iter().enumerate() {
        let _ = write!(s, "  {:<22}", format!("{} ({})", d.domain, d.priority));
        for c in cards {
            let v = c.domains.get(i).map_or(0.0, |x: &DomainScore| x.slo_breach_minutes);
            let _ = write!(s, " {:>12}", grouped(v, MINUTES_DECIMALS));
            if !std::ptr::eq(c, first) {
                let _ = write!(s, " {:>7}", change(d.slo_breach_minutes, v, MINUTES_DECIMALS));
            }
        }
        s.push('\n');
    }
    s
}

/// The scenario's scripted events, for reading a run's breaches against them: "events: 1" and a line each, or
/// "events: none".
pub fn event_list(s: &Scenario) -> String {
    if s.events.is_empty() {
        return "events: none\n".to_string();
    }
    format!("events: {}\n{}", s.events.len(), crate::scenario::describe::event_lines(s, "  "))
}

/// A recording's injections, each at the time it fired, with what its label leaves out (and when it was injected, if
/// earlier): "injected: 1" and a line each; nothing when there are none.
pub fn injection_list(s: &Scenario, injections: &[crate::sim::InjectedEvent]) -> String {
    if injections.is_empty() {
        return String::new();
    }
    let mut out = format!("injected: {}\n", injections.len());
    for i in injections {
        // An event injected to start later fires at its start; one due already, at the tick it was injected.
        let fired_secs = i.event.start_secs().max(i.injected_at_secs);
        let detail = crate::scenario::describe::event_detail(s, &i.event, Some(i.injected_at_secs));
        let _ = writeln!(out, "  {}  {}{detail}", clock_label_secs(s, fired_secs), i.event.label());
    }
    out
}

/// A run's cascades: how many went through each link, then the first `max_listed`, one a line:
/// "  Tue 14:00:20  merchant after payment (callee's latency, 5 s into its breach); lasted 26 min".
pub fn cascade_list(s: &Scenario, cascades: &[Cascade], max_listed: usize) -> String {
    let mut out = String::new();
    if cascades.is_empty() {
        let _ = writeln!(out, "cascades: none");
        return out;
    }
    let _ = writeln!(out, "cascades: {} ({})", cascades.len(), CascadeCounts::of(cascades).describe());
    for c in cascades.iter().take(max_listed) {
        // What held its minutes, for an ended breach that has its split (timelines written before it lack one).
        let held_by = c
            .held_by
            .filter(|h| h.total() > 0.0)
            .map(|h| format!("; its minutes held by {}", h.summary()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {}  {} {}{held_by}",
            clock_label_secs(s, c.t_secs),
            s.domain_id(usize::from(c.domain)),
            c.describe(s)
        );
    }
    if cascades.len() > max_listed {
        let _ = writeln!(out, "  … and {} more", cascades.len() - max_listed);
    }
    out
}

/// One line per run: its cascades by the link that carried them, then by how long they lasted
/// ("  hirl   4  1 through a callee's latency, …; by length: 2 one tick, 2 longer").
pub fn cascade_counts_lines(cards: &[Scorecard], cascades: &[Vec<Cascade>]) -> String {
    let mut out =
        String::from("cascades by what carried them (a breach starting while a linked domain is in breach):\n");
    for (card, run) in cards.iter().zip(cascades) {
        let c = CascadeCounts::of(run);
        let _ = write!(out, "  {:<12} {:>4}  {}", card.policy, c.total(), c.describe());
        if c.total() > 0 {
            let _ = write!(out, "; by length: {}", CascadeLengths::of(run).describe());
        }
        out.push('\n');
    }
    out
}

/// Per policy over a suite: cascades by how long the breach lasted, one column per bin. A one-tick cascade is a
/// domain over its SLO for a single 5 s sample; the scorecard counts it like any other.
pub fn cascade_length_table(policies: &[String], lengths: &[CascadeLengths]) -> String {
    let mut out = String::from("cascades by how long they lasted, over the suite (minutes: all of them together):\n");
    let _ = write!(out, "  {:<12}", "policy");
    for l in CascadeLengths::LABELS {
        let _ = write!(out, " {l:>10}");
    }
    let _ = writeln!(out, " {:>10}", "minutes");
    for (p, c) in policies.iter().zip(lengths) {
        let _ = write!(out, "  {p:<12}");
        for n in c.bins() {
            let _ = write!(out, " {n:>10}");
        }
        let _ = writeln!(out, " {:>10.1}", c.minutes());
    }
    out
}

/// Per policy over a suite: P0+P1 and all-domain breach minutes by what held them, one column per cause.
pub fn breach_cause_table(totals: &[SuiteTotals]) -> String {
    let mut out = String::from(
        "breach minutes by what held them, over the suite (where the requests over the SLO were; P0+P1, then all \
         domains):\n",
    );
    let _ = write!(out, "  {:<12} {:>6}", "policy", "");
    for c in BreachCause::ALL {
        let _ = write!(out, " {:>17}", c.label());
    }
    let _ = writeln!(out, " {:>9}", "total");
    for t in totals {
        let rows = [
            ("P0+P1", &t.p0_p1_breach_minutes_by_cause, t.p0_p1_breach_minutes),
            ("all", &t.breach_minutes_by_cause, t.breach_minutes),
        ];
        for (which, by_cause, total) in rows {
            let _ = write!(out, "  {:<12} {which:>6}", t.policy);
            for (_, minutes) in by_cause.iter() {
                let _ = write!(out, " {minutes:>17.1}");
            }
            // The breach minutes themselves (the causes add up to them but for rounding in the last digit).
            let _ = writeln!(out, " {total:>9.1}");
        }
    }
    out
}

/// Per policy over a suite: cascades by the link that carried them, one column per link.
pub fn cascade_link_table(policies: &[String], counts: &[CascadeCounts]) -> String {
    let mut out = String::from("cascades by what carried them, over the suite (the strongest link of each):\n");
    let _ = write!(out, "  {:<12}", "policy");
    for l in CascadeLink::ALL {
        let _ = write!(out, " {:>18}", l.label());
    }
    let _ = writeln!(out, " {:>8}", "total");
    for (p, c) in policies.iter().zip(counts) {
        let _ = write!(out, "  {p:<12}");
        for l in CascadeLink::ALL {
            let _ = write!(out, " {:>18}", c.get(l));
        }
        let _ = writeln!(out, " {:>8}", c.total());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(policy: &str, cluster: ClusterScore) -> Scorecard {
        Scorecard {
            format: "hirl-scale-scorecard/1".to_owned(),
            scenario: "test".to_owned(),
            policy: policy.to_owned(),
            seed: 1,
            warm_reserve: None,
            size_floor: None,
            simulated_secs: 3600,
            cluster,
            domains: Vec::new(),
        }
    }

    fn row<'a>(table: &'a str, label: &str) -> Vec<&'a str> {
        let line = table.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no row {label}"));
        line[label.len()..].split_whitespace().collect()
    }

    #[test]
    fn the_comparison_shows_counts_whole_large_figures_grouped_and_actions_to_the_hundredth() {
        let hpa = ClusterScore {
            cascade_events: 19,
            pending_pod_minutes: 1_073_598.4,
            scaling_actions_per_app_hour: 2.434,
            node_hours: 175_169.04,
            ..ClusterScore::default()
        };
        let hirl = ClusterScore {
            cascade_events: 16,
            pending_pod_minutes: 432_167.2,
            scaling_actions_per_app_hour: 2.286,
            node_hours: 173_437.0,
            node_churn_nodes: 3,
            ..ClusterScore::default()
        };
        let table = comparison_table(&[card("hpa", hpa), card("hirl", hirl)]);
        assert_eq!(row(&table, "cascade events"), ["19", "16", "-16%"]);
        assert_eq!(row(&table, "pending pod-minutes"), ["1,073,598", "432,167", "-60%"]);
        assert_eq!(row(&table, "actions / app-hour"), ["2.43", "2.29", "-6%"]);
        assert_eq!(row(&table, "node-hours"), ["175,169.0", "173,437.0", "-1%"]);
        // Under half a percent, one decimal: not "-0%".
        let small = comparison_table(&[
            card("hpa", ClusterScore { node_hours: 1000.0, ..ClusterScore::default() }),
            card("hirl", ClusterScore { node_hours: 997.0, ..ClusterScore::default() }),
        ]);
        assert_eq!(row(&small, "node-hours"), ["1,000.0", "997.0", "-0.3%"]);
        // From zero, the change is the figure itself, in the row's own precision.
        assert_eq!(row(&table, "node churn"), ["0", "3", "+3"]);
    }

    #[test]
    fn a_long_domain_id_widens_its_column_instead_of_pushing_its_row_out_of_line() {
        let mut c = card("hpa", ClusterScore::default());
        for id in ["payment", &"a".repeat(64)] {
            c.domains.push(DomainScore { domain: id.to_owned(), priority: "P0".into(), ..DomainScore::default() });
        }
        let table = scorecard_table(&c);
        // Where the right-aligned priority column ends, on the header and on both rows.
        let ends: Vec<usize> = table
            .lines()
            .filter_map(|l| l.find(" pri").map(|i| i + 4).or_else(|| l.find(" P0").map(|i| i + 3)))
            .collect();
        assert_eq!(ends.len(), 3, "{table}");
        assert!(ends.iter().all(|&i| i == ends[0]), "{table}");
    }
}
