//! `hirl-scale eval frontier`: what capacity held ahead of unannounced spikes buys, and what it costs.
//!
//! HiRL misses the P0+P1 target against HPA because the provisioner cannot bring nodes fast enough inside an
//! unannounced spike (README, "why the two misses"); the only measured ways past it hold capacity ahead — slack in the
//! apps (`--size-floor`) or placeholder pods (`--warm-reserve`) — and both cost node-hours, which the cost target
//! forbids. This command measures the whole trade in one go: HPA once, then HiRL as shipped and under every setting
//! given, over the same scenarios and seeds as `eval`, and reports for each setting the P0+P1 breach minutes and
//! node-hours against HPA, the other targets it misses, and whether it is on the frontier (no other setting has both
//! fewer P0+P1 minutes and fewer node-hours). The reserve is held under HiRL only, so every row prices it against
//! the stock HPA.
//!
//! Determinism: every run is fixed by its scenario, seed and setting; runs are spread over the cores and gathered in
//! order, so the shipped row equals `eval --policies hpa,hirl` on the same seeds to the last digit.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use super::frontier_plot;
use super::hirl::{SuiteArgs, change, per_seed_totals, targets};
use super::stdout::{out, outln};
use crate::agents::hirl::SizeFloor;
use crate::agents::hirl::frontier::{FrontierRow, Lever, cheapest_reaching_p0_p1, on_frontier};
use crate::agents::policies::PolicyAssets;
use crate::policy::WarmReserveSpec;
use crate::scenario::{self, Scenario};
use crate::sim::SuiteTotals;

/// The settings tried when none is given: the floors and reserves the README's price tables measure, from the
/// cheapest that moves the figures to well past the target.
/// `payment=1.03` is slack where the unannounced spikes land, without Fraud's (the other P0 domain).
const DEFAULT_SIZE_FLOORS: &[&str] = &["P0=1.0", "payment=1.03", "P0=1.03", "P0=1.08", "P0=1.15", "P0=1.25"];
const DEFAULT_WARM_RESERVES: &[&str] = &["shared-general=0.1", "shared-general=0.3", "shared-general=0.5"];

#[derive(Args, Debug)]
pub struct FrontierArgs {
    #[command(flatten)]
    pub suite: SuiteArgs,
    /// The HiRL policy the settings apply to: `hirl` (the trained agents) or `hirl-teacher`.
    #[arg(long, default_value = "hirl")]
    pub policy: String,
    /// A size floor to try (repeat the flag for more; same form as `eval --size-floor`). Without any
    /// `--size-floor` or `--warm-reserve`: P0=1.0, payment=1.03, P0=1.03, 1.08, 1.15 and 1.25, and shared-general
    /// reserves of 10%, 30% and 50%.
    #[arg(long = "size-floor", value_name = "MULT|P0=MULT|DOMAIN=MULT,…", value_parser = SizeFloor::parse)]
    pub size_floors: Vec<SizeFloor>,
    /// A warm reserve to try under HiRL only (repeat the flag for more; same form as `eval --warm-reserve`).
    #[arg(long = "warm-reserve", value_name = "SHARE|POOL=SHARE,…", value_parser = WarmReserveSpec::parse)]
    pub warm_reserves: Vec<WarmReserveSpec>,
    /// Also write the rows (with HPA's totals) as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also draw the rows as an SVG chart: P0+P1 breach against node-hours, both against HPA, with the target box.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Store the rows in the agents' metadata file (`frontier` field), where the window's "About the agents" draws
    /// them. `--policy hirl` only.
    #[arg(long)]
    pub record_in_model: bool,
}

#[derive(Serialize)]
struct FrontierJson<'a> {
    format: &'static str,
    /// The command that measured it (as stored in the agents' metadata).
    command: String,
    policy: &'a str,
    seeds: &'a [u64],
    scenarios: Vec<String>,
    hpa: &'a SuiteTotals,
    rows: &'a [FrontierRow],
}

/// The settings to run: shipped first, then the floors, then the reserves. A default floor naming a domain one of
/// `scenarios` lacks is left out (a floor the user gives is checked, and refused, in [`setting_assets`]).
fn levers(args: &FrontierArgs, scenarios: &[Scenario]) -> Result<Vec<Lever>> {
    let (floors, reserves) = if args.size_floors.is_empty() && args.warm_reserves.is_empty() {
        let applies = |floor: &SizeFloor| scenarios.iter().all(|s| floor.check(s).is_ok());
        let floors = DEFAULT_SIZE_FLOORS
            .iter()
            .map(|t| SizeFloor::parse(t).map_err(anyhow::Error::msg))
            .filter(|f| f.as_ref().map_or(true, applies));
        let reserves = DEFAULT_WARM_RESERVES.iter().map(|t| WarmReserveSpec::parse(t).map_err(anyhow::Error::from));
        (floors.collect::<Result<Vec<_>>>()?, reserves.collect::<Result<Vec<_>>>()?)
    } else {
        (args.size_floors.clone(), args.warm_reserves.clone())
    };
    let mut out = vec![Lever::Shipped];
    out.extend(floors.iter().filter(|f| !f.is_shipped()).map(|f| Lever::SizeFloor(f.spec())));
    out.extend(reserves.iter().map(|r| Lever::WarmReserve(r.spec())));
    Ok(out)
}

/// The settings the user gave (not the defaults), for the command line.
fn levers_given(args: &FrontierArgs) -> Vec<Lever> {
    let floors = args.size_floors.iter().filter(|f| !f.is_shipped()).map(|f| Lever::SizeFloor(f.spec()));
    floors.chain(args.warm_reserves.iter().map(|r| Lever::WarmReserve(r.spec()))).collect()
}

/// The command that reproduces a frontier: `hirl-scale eval frontier --seeds …` with the settings given.
fn command_line(args: &FrontierArgs, given: &[Lever]) -> String {
    let mut words = vec!["hirl-scale eval frontier".to_string()];
    if args.policy != "hirl" {
        words.push(format!("--policy {}", args.policy));
    }
    words.push(format!("--seeds {}", args.suite.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(",")));
    if !args.suite.scenarios.is_empty() {
        let names: Vec<String> = args.suite.scenarios.iter().map(|p| p.display().to_string()).collect();
        words.push(format!("--scenarios {}", names.join(",")));
    }
    words.extend(given.iter().map(Lever::label));
    words.join(" ")
}

/// The assets one setting runs under (`base` holds the models); a reserve naming a pool some scenario lacks is
/// refused here, before anything runs.
fn setting_assets(base: &PolicyAssets, lever: &Lever, policy: &str, scenarios: &[Scenario]) -> Result<PolicyAssets> {
    let mut assets = base.clone();
    match lever {
        Lever::Shipped => {}
        Lever::SizeFloor(spec) => {
            let floor = SizeFloor::parse(spec).map_err(anyhow::Error::msg)?;
            super::check_size_floor(&floor, scenarios)?;
            assets.size_floor = floor;
        }
        Lever::WarmReserve(spec) => {
            let spec = WarmReserveSpec::parse(spec)?;
            for s in scenarios {
                spec.check(s)?;
            }
            assets.warm_reserve = Some(spec);
            assets.warm_reserve_for = vec![policy.to_string()];
        }
    }
    Ok(assets)
}

pub fn frontier_command(args: FrontierArgs) -> Result<()> {
    if !args.policy.starts_with("hirl") || !crate::agents::policies::all_names().contains(&args.policy.as_str()) {
        bail!("eval frontier prices capacity held ahead under HiRL: --policy must be hirl or hirl-teacher");
    }
    if args.suite.seeds.is_empty() {
        bail!("eval frontier needs at least one seed");
    }
    if args.record_in_model && args.policy != "hirl" {
        bail!("--record-in-model stores the frontier in the agents' file: --policy hirl-teacher has none");
    }
    super::outputs::check(&[("--json", args.json.as_deref()), ("--svg", args.svg.as_deref())], &args.suite.inputs())?;
    let scenarios = args.suite.load()?;
    // On a scenario HiRL is not built for, every row would be HPA's: refused, not priced.
    for s in &scenarios {
        crate::agents::hirl::features::check_scenario(s).map_err(|e| anyhow::anyhow!("eval frontier: {e}"))?;
    }
    let levers = levers(&args, &scenarios)?;
    // Without agents `hirl` would run as HPA in every row: refused, not priced.
    let agents_path = args.suite.agents_path();
    let record_into =
        if args.record_in_model { Some(super::hirl::RecordTarget::load(&agents_path, "the frontier")?) } else { None };
    let agents = if let Some(target) = &record_into {
        Ok(target.agents())
    } else if args.policy == "hirl" {
        let agents = PolicyAssets::load_agents(&agents_path);
        if let Err(reason) = &agents {
            bail!("eval frontier needs the HiRL agents: {reason}");
        }
        agents
    } else {
        Err("not needed".into())
    };
    let base = PolicyAssets {
        forecaster: super::forecaster::load_for_run(&super::forecaster::default_model_path()),
        agents,
        keep_decision_records: false,
        ..PolicyAssets::none()
    };
    let assets: Vec<PolicyAssets> =
        levers.iter().map(|l| setting_assets(&base, l, &args.policy, &scenarios)).collect::<Result<Vec<_>>>()?;
    outln!(
        "eval frontier: {} as shipped and under {}, against hpa; {} × {} ({} per row)",
        args.policy,
        count(levers.len() - 1, "setting of capacity held ahead", "settings of capacity held ahead"),
        count(scenarios.len(), "scenario", "scenarios"),
        count(args.suite.seeds.len(), "seed", "seeds"),
        count(scenarios.len() * args.suite.seeds.len(), "run", "runs")
    );
    // Jobs scenario by scenario (the long reference day first), HPA as row `None`.
    let mut jobs: Vec<(&Scenario, u64, Option<usize>)> = Vec::new();
    for s in &scenarios {
        for &seed in &args.suite.seeds {
            jobs.push((s, seed, None));
            jobs.extend((0..levers.len()).map(|i| (s, seed, Some(i))));
        }
    }
    let runs = crate::parallel::map_in_order(&jobs, crate::parallel::suite_threads(), |&(s, seed, row)| match row {
        None => super::run_policy(s, "hpa", seed, &base, false),
        Some(i) => super::run_policy(s, &args.policy, seed, &assets[i], false),
    });
    let mut cards: Vec<Vec<crate::sim::Scorecard>> = vec![Vec::new(); levers.len() + 1];
    for (&(_, _, row), run) in jobs.iter().zip(runs) {
        cards[row.map_or(0, |i| i + 1)].push(run?.scorecard);
    }
    let totals_of = |name: &str, cs: &[crate::sim::Scorecard]| SuiteTotals::of(name, &cs.iter().collect::<Vec<_>>());
    let hpa = totals_of("hpa", &cards[0]);
    let hirl: Vec<SuiteTotals> = cards[1..].iter().map(|cs| totals_of(&args.policy, cs)).collect();
    let mut rows = frontier_rows(&hpa, levers, hirl);
    // Each seed alone, over every scenario (split as `eval` splits it): P0+P1 breach minutes against HPA's on the
    // same seed.
    let p0_p1_by_seed = |name: &str, cs: &[crate::sim::Scorecard]| -> Vec<f64> {
        per_seed_totals(&args.suite.seeds, &[name.to_string()], cs)
            .iter()
            .map(|seed| seed.totals.iter().map(|t| t.p0_p1_breach_minutes).sum())
            .collect()
    };
    let hpa_by_seed = p0_p1_by_seed("hpa", &cards[0]);
    for (row, cs) in rows.iter_mut().zip(&cards[1..]) {
        row.p0_p1_change_by_seed = p0_p1_by_seed(&args.policy, cs)
            .iter()
            .zip(&hpa_by_seed)
            .map(|(&mine, &hpa)| Some(change(mine, hpa)).filter(|c| c.is_finite()))
            .collect();
    }
    out!("{}", frontier_table(&hpa, &rows));
    let json = FrontierJson {
        format: "hirl-scale-frontier/1",
        command: command_line(&args, &levers_given(&args)),
        policy: &args.policy,
        seeds: &args.suite.seeds,
        scenarios: scenarios.iter().map(|s| s.name.clone()).collect(),
        hpa: &hpa,
        rows: &rows,
    };
    if let Some(path) = &args.json {
        super::write_json(path, &json)?;
    }
    if let Some(target) = record_into {
        let frontier = serde_json::to_value(&json)?;
        target.record(|meta| meta.frontier = Some(frontier))?;
    }
    if let Some(path) = &args.svg {
        let title = format!(
            "{} against hpa: {} scenarios × seeds {}",
            args.policy,
            scenarios.len(),
            args.suite.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        );
        scenario::write_atomic(path, frontier_plot::svg(&rows, &title).as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The rows of `levers` with HiRL's totals under each, judged against `hpa`.
pub fn frontier_rows(hpa: &SuiteTotals, levers: Vec<Lever>, hirl: Vec<SuiteTotals>) -> Vec<FrontierRow> {
    let points: Vec<(f64, f64)> = hirl.iter().map(|t| (t.p0_p1_breach_minutes, t.node_hours)).collect();
    let frontier = on_frontier(&points);
    levers
        .into_iter()
        .zip(hirl)
        .zip(frontier)
        .map(|((lever, totals), on_frontier)| {
            // `targets` judges the totals named "hirl" against those named "hpa".
            let judged = SuiteTotals { policy: "hirl".into(), ..totals.clone() };
            let missed =
                targets(&[hpa.clone(), judged]).iter().filter(|t| !t.met).map(|t| short_name(&t.target)).collect();
            FrontierRow {
                setting: lever.label(),
                lever,
                p0_p1_change: change(totals.p0_p1_breach_minutes, hpa.p0_p1_breach_minutes),
                node_hours_change: change(totals.node_hours, hpa.node_hours),
                totals,
                on_frontier,
                missed,
                p0_p1_change_by_seed: Vec::new(),
            }
        })
        .collect()
}

/// A target's short name, as rows list what they miss (the target's text when it is not one of the issue's).
fn short_name(target: &str) -> String {
    let known = [
        ("P0+P1", "P0+P1"),
        ("cascade", "cascades"),
        ("provisioner churn", "churn"),
        ("cost", "cost"),
        ("scaling actions", "actions"),
        ("P0 priority-inversion", "inversion"),
    ];
    known
        .iter()
        .find(|(prefix, _)| target.starts_with(prefix))
        .map_or_else(|| target.to_string(), |(_, s)| s.to_string())
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn signed_pct(x: f64) -> String {
    if x.is_finite() { format!("{:+.1}%", x * 100.0) } else { "n/a".to_string() }
}

pub fn frontier_table(hpa: &SuiteTotals, rows: &[FrontierRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<40} {:>9} {:>8} {:>11} {:>9} {:>7} {:>8} {:>8} {:>8}  {:<8} missed",
        "setting", "P0+P1 bm", "vs HPA", "seeds ≤−75%", "node-h", "vs HPA", "cascade", "act/apph", "all bm", "frontier"
    );
    let _ = writeln!(
        s,
        "{:<40} {:>9.1} {:>8} {:>11} {:>9.0} {:>7} {:>8} {:>8.2} {:>8.1}",
        "hpa (the reference)",
        hpa.p0_p1_breach_minutes,
        "",
        "",
        hpa.node_hours,
        "",
        hpa.cascade_events,
        hpa.scaling_actions_per_app_hour,
        hpa.breach_minutes
    );
    for r in rows {
        let t = &r.totals;
        let _ = writeln!(
            s,
            "{:<40} {:>9.1} {:>8} {:>11} {:>9.0} {:>7} {:>8} {:>8.2} {:>8.1}  {:<8} {}",
            format!("{} {}", t.policy, r.setting),
            t.p0_p1_breach_minutes,
            signed_pct(r.p0_p1_change),
            r.seeds_reaching_p0_p1().map_or_else(String::new, |k| format!("{k}/{}", r.p0_p1_change_by_seed.len())),
            t.node_hours,
            signed_pct(r.node_hours_change),
            t.cascade_events,
            t.scaling_actions_per_app_hour,
            t.breach_minutes,
            if r.on_frontier { "yes" } else { "" },
            if r.missed.is_empty() { "none".to_string() } else { r.missed.join(", ") }
        );
    }
    let in_box: Vec<String> = rows.iter().filter(|r| r.in_target_box()).map(|r| r.setting.clone()).collect();
    let _ = writeln!(
        s,
        "P0+P1 ≤ −75% at no more node-hours than HPA: {}",
        if in_box.is_empty() { "no setting".to_string() } else { in_box.join("; ") }
    );
    match cheapest_reaching_p0_p1(rows) {
        Some(r) => {
            let _ = writeln!(
                s,
                "cheapest setting with P0+P1 ≤ −75%: {} ({} P0+P1, {} node-hours against HPA{})",
                r.setting,
                signed_pct(r.p0_p1_change),
                signed_pct(r.node_hours_change),
                r.seeds_reaching_p0_p1().map_or_else(String::new, |k| format!(
                    "; −75% on {k} of its {} seeds alone",
                    r.p0_p1_change_by_seed.len()
                ))
            );
        }
        None => {
            let _ = writeln!(s, "no setting reaches P0+P1 ≤ −75%");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(policy: &str, p0_p1: f64, node_hours: f64) -> SuiteTotals {
        SuiteTotals {
            policy: policy.into(),
            p0_p1_breach_minutes: p0_p1,
            breach_minutes: p0_p1 * 2.0,
            cascade_events: 10,
            node_churn: 0,
            node_hours,
            scaling_actions_per_app_hour: 2.0,
            runs: 10,
            ..SuiteTotals::default()
        }
    }

    #[test]
    fn rows_say_which_targets_each_setting_misses_and_the_table_names_the_price() {
        let mut hpa = totals("hpa", 700.0, 1000.0);
        hpa.node_churn = 100;
        hpa.cascade_events = 20;
        let levers =
            vec![Lever::Shipped, Lever::SizeFloor("P0=1.03".into()), Lever::WarmReserve("shared-general=0.3".into())];
        let hirl = vec![totals("hirl", 190.0, 990.0), totals("hirl", 165.0, 1040.0), totals("hirl", 170.0, 1200.0)];
        let rows = frontier_rows(&hpa, levers, hirl);
        assert_eq!(rows[0].missed, vec!["P0+P1".to_string(), "cascades".to_string()]);
        assert_eq!(rows[1].missed, vec!["cascades".to_string(), "cost".to_string()]);
        assert!(!rows[0].in_target_box() && !rows[1].in_target_box());
        assert_eq!(rows.iter().map(|r| r.on_frontier).collect::<Vec<_>>(), vec![true, true, false]);
        assert!((rows[1].node_hours_change - 0.04).abs() < 1e-12);
        let table = frontier_table(&hpa, &rows);
        assert!(table.contains("hirl --size-floor P0=1.03"), "{table}");
        assert!(table.contains("P0+P1 ≤ −75% at no more node-hours than HPA: no setting"), "{table}");
        assert!(
            table.contains("cheapest setting with P0+P1 ≤ −75%: --size-floor P0=1.03 (-76.4% P0+P1, +4.0% node-hours"),
            "{table}"
        );
    }

    #[test]
    fn a_setting_within_both_targets_is_named() {
        let hpa = totals("hpa", 700.0, 1000.0);
        let rows = frontier_rows(&hpa, vec![Lever::Shipped], vec![totals("hirl", 150.0, 1000.0)]);
        assert!(rows[0].in_target_box());
        assert!(frontier_table(&hpa, &rows).contains("at no more node-hours than HPA: shipped\n"));
    }

    #[test]
    fn the_default_settings_parse_and_a_shipped_floor_is_not_tried_twice() {
        let args = |floors: Vec<SizeFloor>| FrontierArgs {
            suite: SuiteArgs { scenarios: Vec::new(), seeds: vec![1], agents: None },
            policy: "hirl".into(),
            size_floors: floors,
            warm_reserves: Vec::new(),
            json: None,
            svg: None,
            record_in_model: false,
        };
        let all = levers(&args(Vec::new()), &[]).expect("defaults parse");
        assert_eq!(all.len(), 1 + DEFAULT_SIZE_FLOORS.len() + DEFAULT_WARM_RESERVES.len());
        assert_eq!(all[1], Lever::SizeFloor("P0=1".into()));
        assert_eq!(all[2], Lever::SizeFloor("payment=1.03".into()));
        assert_eq!(all.last(), Some(&Lever::WarmReserve("shared-general=0.5".into())));
        let given_args = args(vec![SizeFloor::default(), SizeFloor::parse("1.1").expect("parses")]);
        let given = levers(&given_args, &[]).expect("given floors");
        assert_eq!(given, vec![Lever::Shipped, Lever::SizeFloor("1.1".into())]);
        // The command stored with a frontier reproduces it: the settings given, not the defaults.
        let command = command_line(&given_args, &levers_given(&given_args));
        assert_eq!(command, "hirl-scale eval frontier --seeds 1 --size-floor 1.1");
        assert_eq!(command_line(&args(Vec::new()), &[]), "hirl-scale eval frontier --seeds 1");
    }

    #[test]
    fn a_default_floor_on_a_domain_the_scenarios_lack_is_left_out_and_a_given_one_refused() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        let mut renamed = crate::scenario::load_file(&path).expect("small.ron loads");
        renamed.domains[0].id = "checkout".into();
        let args = FrontierArgs {
            suite: SuiteArgs { scenarios: Vec::new(), seeds: vec![1], agents: None },
            policy: "hirl".into(),
            size_floors: Vec::new(),
            warm_reserves: Vec::new(),
            json: None,
            svg: None,
            record_in_model: false,
        };
        let all = levers(&args, std::slice::from_ref(&renamed)).expect("defaults parse");
        assert_eq!(all.len(), DEFAULT_SIZE_FLOORS.len() + DEFAULT_WARM_RESERVES.len(), "one floor fewer");
        assert!(!all.contains(&Lever::SizeFloor("payment=1.03".into())));
        let base = PolicyAssets::none();
        let err = setting_assets(&base, &Lever::SizeFloor("payment=1.03".into()), "hirl", &[renamed])
            .expect_err("the scenario has no payment");
        assert!(err.to_string().contains("no domain \"payment\""), "{err}");
    }
}
