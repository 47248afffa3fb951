//! The command line: the window (default), and headless run, compare, validate, bench, train, eval.
//!
//! Exit codes: 0 success; 1 the scenario file is invalid (every problem printed with `file:line:col`); 2 any other
//! error (unreadable file, unknown policy, I/O).

mod bench;
mod forecaster;
mod frontier;
mod frontier_plot;
mod hirl;
mod outputs;
mod recording;
mod stdout;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand};

use crate::agents::hirl::SizeFloor;
use crate::agents::hirl::safety::{FallbackTime, fallback_time};
use crate::agents::hirl::seating_time::{RuleTime, SeatingTime};
use crate::agents::policies::{self, PolicyAssets};
use crate::policy::{self, WarmReserveSpec};
use crate::report;
use crate::scenario::{self, DomainSpec, LoadError, Scenario};
use crate::sim::breach_cause::BreachCause;
use crate::sim::cascades::{self, Cascade};
use crate::sim::{Scorecard, Simulation};
use stdout::{out, outln};

pub use bench::{BenchConfig, BenchResult, measure as bench_measure, scale_scenario};

#[derive(Parser, Debug)]
#[command(
    name = "hirl-scale",
    version,
    about = "Hierarchical-RL autoscaling of large Kubernetes clusters: simulate, compare, benchmark."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the window on a scenario (the default without arguments: scenarios/reference-day.ron).
    Gui {
        scenario: Option<PathBuf>,
        #[arg(long, default_value = "hpa")]
        policy: String,
        /// Forecaster weights (default: models/forecaster.safetensors); without a usable file the window shows
        /// exponential-smoothing forecasts, labelled as the fallback.
        #[arg(long)]
        forecaster: Option<PathBuf>,
        /// HiRL agents (default: models/hirl.safetensors); without a usable file `hirl` is run by HPA.
        #[arg(long)]
        agents: Option<PathBuf>,
        /// Open a recording and replay it (instead of starting the scenario).
        #[arg(long)]
        recording: Option<PathBuf>,
        /// A warm reserve held under every run the window starts (see `eval --warm-reserve`); shown in the toolbar's
        /// warm-reserve menu and stored in recordings saved from the window. A replayed recording brings its own.
        #[arg(long, value_name = "SHARE|POOL=SHARE,…", value_parser = WarmReserveSpec::parse)]
        warm_reserve: Option<WarmReserveSpec>,
        /// Hold `--warm-reserve` under these policies only (e.g. `hirl`: side by side, HPA runs as shipped); the
        /// toolbar's "only under" box sets the same.
        #[arg(long, value_delimiter = ',', requires = "warm_reserve")]
        warm_reserve_for: Vec<String>,
        /// HiRL's Soldiers' size floor for the runs the window starts (see `eval --size-floor`); shown in the
        /// toolbar's size-floor menu and stored in recordings saved from the window. A replayed recording brings its
        /// own.
        #[arg(long, value_name = "MULT|P0=MULT|DOMAIN=MULT,…", value_parser = SizeFloor::parse)]
        size_floor: Option<SizeFloor>,
        /// Lift real-world limits in every run the window starts (see `eval --what-if`): no-telemetry-lag,
        /// unbounded-provisioner; shown in the toolbar's what-if menu, which puts them back. Not with `--recording`:
        /// a recording replays under the limits it was recorded with.
        #[arg(long, value_delimiter = ',', conflicts_with = "recording")]
        what_if: Vec<crate::scenario::WhatIf>,
    },
    /// Run a scenario headless with events injected live at given times and write an incident recording.
    Record(recording::RecordArgs),
    /// Replay a recording and check it bit for bit (exit 3 when it differs); `--rerecord` writes it again.
    Replay(recording::ReplayArgs),
    /// Run one policy on a scenario and print its scorecard.
    Run {
        /// The scenario file (RON).
        scenario: PathBuf,
        /// hpa, threshold, pid, heuristic, hirl or hirl-teacher.
        #[arg(long, default_value = "hpa")]
        policy: String,
        /// HiRL agents (default: models/hirl.safetensors).
        #[arg(long)]
        agents: Option<PathBuf>,
        /// Run seed; defaults to the scenario's own.
        #[arg(long)]
        seed: Option<u64>,
        /// Also write the scorecard as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write a CSV of every domain (ground truth) and the cluster to this file, one row per trace interval.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Simulated seconds between trace rows: a multiple of the 5 s simulation tick (5 shows every tick).
        #[arg(long, default_value_t = 60, value_parser = parse_trace_interval, requires = "trace")]
        trace_interval_secs: u64,
        /// Lift real-world limits before the run (see `eval --what-if`): no-telemetry-lag, unbounded-provisioner.
        #[arg(long, value_delimiter = ',')]
        what_if: Vec<crate::scenario::WhatIf>,
        /// Every policy holds at least this share of the CPU requested in a pool warm, as placeholder pods: `0.3`
        /// in every pool, or `shared-general=0.4,merchant-general=0.1` (see `eval --warm-reserve`).
        #[arg(long, value_name = "SHARE|POOL=SHARE,…", value_parser = WarmReserveSpec::parse)]
        warm_reserve: Option<WarmReserveSpec>,
        #[command(flatten)]
        size_floor: SizeFloorArg,
    },
    /// Run several policies on identical traffic and print their scorecards side by side.
    Compare {
        /// The scenario file (RON).
        scenario: PathBuf,
        /// Comma-separated; the first is the reference for differences.
        #[arg(long, value_delimiter = ',', default_value = "hpa,heuristic")]
        policies: Vec<String>,
        /// Run seed (every policy runs on the same traffic); defaults to the scenario's own.
        #[arg(long)]
        seed: Option<u64>,
        /// HiRL agents (default: models/hirl.safetensors).
        #[arg(long)]
        agents: Option<PathBuf>,
        /// Write all scorecards as a JSON array to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Lift real-world limits before the run (see `eval --what-if`): no-telemetry-lag, unbounded-provisioner.
        #[arg(long, value_delimiter = ',')]
        what_if: Vec<crate::scenario::WhatIf>,
        /// Every policy holds at least this share of the CPU requested in a pool warm, as placeholder pods: `0.3`
        /// in every pool, or `shared-general=0.4,merchant-general=0.1` (see `eval --warm-reserve`).
        #[arg(long, value_name = "SHARE|POOL=SHARE,…", value_parser = WarmReserveSpec::parse)]
        warm_reserve: Option<WarmReserveSpec>,
        /// Hold `--warm-reserve` under these policies only (e.g. `hirl`); the others run as shipped.
        #[arg(long, value_delimiter = ',', requires = "warm_reserve")]
        warm_reserve_for: Vec<String>,
        #[command(flatten)]
        size_floor: SizeFloorArg,
    },
    /// Train a learned component.
    Train {
        #[command(subcommand)]
        what: TrainCommand,
    },
    /// The scorecard of every policy on a scenario suite (default: the shipped scenarios, held-out seeds), with the
    /// HiRL targets; or `eval forecaster`.
    #[command(args_conflicts_with_subcommands = true)]
    Eval {
        #[command(subcommand)]
        what: Option<EvalCommand>,
        #[command(flatten)]
        suite: hirl::EvalArgs,
    },
    /// Check a scenario file and report every problem with its location.
    Validate {
        /// The scenario file (RON).
        scenario: PathBuf,
    },
    /// Measure wall seconds per simulated day and peak memory at several cluster sizes.
    Bench {
        #[arg(long, default_value = "scenarios/reference-day.ron")]
        scenario: PathBuf,
        #[arg(long, default_value = "hpa")]
        policy: String,
        /// App-count multipliers to measure (1 = the scenario as written; each tier keeps at least one app).
        #[arg(long, value_delimiter = ',', default_value = "0.1,1,10", value_parser = bench::parse_app_scale)]
        scales: Vec<f64>,
        /// Simulated seconds per measurement: a multiple of the 5 s tick, at most four weeks (default: one day).
        #[arg(long, default_value_t = 86_400, value_parser = parse_bench_secs)]
        secs: u64,
        /// Internal: measure one scale in this process and print a JSON line.
        #[arg(long, hide = true)]
        child: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TrainCommand {
    /// The traffic forecaster: simulated months → quantile network → conformal calibration → models/.
    Forecaster(forecaster::TrainArgs),
    /// The Commander and Soldiers: behaviour cloning, then PPO through the curriculum → models/hirl.*.
    Hirl(hirl::TrainArgs),
}

#[derive(Subcommand, Debug)]
pub enum EvalCommand {
    /// The forecaster against seasonal naive and exponential smoothing on held-out months.
    Forecaster(forecaster::EvalArgs),
    /// What capacity held ahead of unannounced spikes buys and costs: HiRL as shipped and under size floors and
    /// warm reserves, each against HPA (P0+P1 breach, node-hours, the targets missed, the frontier); table, JSON, SVG.
    Frontier(frontier::FrontierArgs),
}

/// Parses arguments and runs. Invalid scenarios exit with 1 after printing their problems.
pub fn main() -> Result<ExitCode> {
    let result = match run_command() {
        // Exit code 1, as the commands that stop at their own scenario check return it (the problems are on stderr).
        Err(e) if e.downcast_ref::<ScenarioRefused>().is_some() => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::from(1))
        }
        other => other,
    };
    // The work is done and its files written, but what it printed is not all there.
    match (result, stdout::failure()) {
        (Ok(_), Some(why)) => Err(anyhow!("cannot print to stdout: {why}; what was printed is incomplete")),
        (result, _) => result,
    }
}

/// A scenario file failed its checks, its problems already printed: exit code 1 wherever the command found it.
#[derive(Debug, thiserror::Error)]
#[error("{0}: invalid scenario (problems above)")]
pub struct ScenarioRefused(pub String);

/// Loads a scenario file, printing its problems and refusing it ([`ScenarioRefused`]) when it fails its checks.
pub fn load_or_refuse(path: &Path) -> Result<Scenario> {
    load_or_report(path)?.ok_or_else(|| ScenarioRefused(path.display().to_string()).into())
}

fn run_command() -> Result<ExitCode> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Gui {
        scenario: None,
        policy: "hpa".to_string(),
        forecaster: None,
        agents: None,
        recording: None,
        warm_reserve: None,
        warm_reserve_for: Vec::new(),
        size_floor: None,
        what_if: Vec::new(),
    });
    match command {
        Command::Gui {
            scenario,
            policy,
            forecaster: model,
            agents,
            recording,
            warm_reserve,
            warm_reserve_for,
            size_floor,
            what_if,
        } => {
            let path = scenario.unwrap_or_else(default_scenario);
            let Some(s) = load_or_report(&path)? else {
                return Ok(ExitCode::from(1));
            };
            known_policy(&policy)?;
            // The window may switch to any policy, so any may hold the reserve.
            let names: Vec<String> = policies::all_names().into_iter().map(String::from).collect();
            let held = with_warm_reserve(
                PolicyAssets::none(),
                warm_reserve,
                warm_reserve_for,
                &names,
                std::slice::from_ref(&s),
            )?;
            if let Some(floor) = &size_floor {
                check_size_floor(floor, std::slice::from_ref(&s))?;
            }
            warn_unsupported(std::slice::from_ref(&policy), std::slice::from_ref(&s));
            let mut config = crate::runner::WorkerConfig::new(s, path.display().to_string(), policy);
            config.forecaster = forecaster::load_for_run(&model.unwrap_or_else(forecaster::default_model_path));
            config.agents = load_agents(agents.as_deref());
            config.warm_reserve = held.warm_reserve;
            config.warm_reserve_for = held.warm_reserve_for;
            // Any run may become HiRL in the window, so the floor is not refused here for want of one.
            config.size_floor = size_floor.unwrap_or_default();
            config.what_if = what_if;
            if let Some(r) = recording {
                // A refused recording is an error here: the user asked for exactly this replay.
                let rec = crate::replay::Recording::load_file(&r)?;
                config.recording = Some((Box::new(rec), r.display().to_string()));
            }
            crate::app::run_window(config)?;
        }
        Command::Record(args) => recording::record_command(args)?,
        Command::Replay(args) => return recording::replay_command(args),
        Command::Train { what: TrainCommand::Forecaster(args) } => {
            let Some(s) = load_or_report(&args.scenario)? else {
                return Ok(ExitCode::from(1));
            };
            forecaster::train_command(args, &s)?;
        }
        Command::Train { what: TrainCommand::Hirl(args) } => hirl::train_command(args)?,
        Command::Eval { what: None, suite } => hirl::eval_command(suite)?,
        Command::Eval { what: Some(EvalCommand::Frontier(args)), .. } => frontier::frontier_command(args)?,
        Command::Eval { what: Some(EvalCommand::Forecaster(args)), .. } => {
            let Some(s) = load_or_report(&args.scenario)? else {
                return Ok(ExitCode::from(1));
            };
            forecaster::eval_command(args, &s)?;
        }
        Command::Run {
            scenario,
            policy,
            seed,
            json,
            trace,
            trace_interval_secs,
            what_if,
            warm_reserve,
            size_floor,
            agents,
        } => {
            outputs::check(
                &[("--json", json.as_deref()), ("--trace", trace.as_deref())],
                &outputs::inputs(&[&scenario], agents.as_deref()),
            )?;
            let Some(mut s) = load_or_report(&scenario)? else {
                return Ok(ExitCode::from(1));
            };
            what_if.iter().for_each(|w| w.apply(&mut s));
            let seed = seed.unwrap_or(s.seed);
            let one = std::slice::from_ref(&policy);
            let assets = with_warm_reserve(
                assets_for(one, agents.as_deref()),
                warm_reserve,
                Vec::new(),
                one,
                std::slice::from_ref(&s),
            )?;
            let assets = with_size_floor(assets, size_floor, one, std::slice::from_ref(&s))?;
            warn_agents_fallback(one, &assets);
            warn_unsupported(one, std::slice::from_ref(&s));
            let run = match trace {
                Some(path) => {
                    let (run, csv) = run_traced(&s, &policy, seed, &assets, trace_interval_secs)?;
                    scenario::write_atomic(&path, csv.as_bytes())
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    run
                }
                None => run_policy(&s, &policy, seed, &assets, true)?,
            };
            out!("{}", report::scorecard_table(&run.scorecard));
            out!("{}", report::event_list(&s));
            out!("{}", report::cascade_list(&s, &run.cascades, report::CASCADES_LISTED));
            if let Some(times) = &run.fallback {
                outln!("{}", fallback_line(&s.domains, times));
            }
            if let Some(times) = &run.seating {
                outln!("{}", seating_line(&s.domains, times));
            }
            if let Some(path) = json {
                write_json(&path, &run.scorecard)?;
            }
        }
        Command::Compare {
            scenario,
            policies,
            seed,
            json,
            what_if,
            warm_reserve,
            warm_reserve_for,
            size_floor,
            agents,
        } => {
            check_policy_names(&policies, "it would run twice on the same traffic")?;
            outputs::check(&[("--json", json.as_deref())], &outputs::inputs(&[&scenario], agents.as_deref()))?;
            let Some(mut s) = load_or_report(&scenario)? else {
                return Ok(ExitCode::from(1));
            };
            what_if.iter().for_each(|w| w.apply(&mut s));
            let seed = seed.unwrap_or(s.seed);
            let base = assets_for(&policies, agents.as_deref());
            let assets = with_warm_reserve(base, warm_reserve, warm_reserve_for, &policies, std::slice::from_ref(&s))?;
            let assets = with_size_floor(assets, size_floor, &policies, std::slice::from_ref(&s))?;
            warn_agents_fallback(&policies, &assets);
            warn_unsupported(&policies, std::slice::from_ref(&s));
            let runs = policies.iter().map(|p| run_policy(&s, p, seed, &assets, true)).collect::<Result<Vec<_>>>()?;
            let (cards, explained): (Vec<_>, Vec<_>) = runs.into_iter().map(|r| (r.scorecard, r.cascades)).unzip();
            out!("{}", report::comparison_table(&cards));
            out!("{}", report::event_list(&s));
            out!("{}", report::cascade_counts_lines(&cards, &explained));
            if let Some(path) = json {
                write_json(&path, &cards)?;
            }
        }
        Command::Validate { scenario } => {
            let Some(s) = load_or_report(&scenario)? else {
                return Ok(ExitCode::from(1));
            };
            let apps: u32 = s.domains.iter().flat_map(|d| &d.tiers).map(|t| t.apps).sum();
            let events = s.events.len();
            let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
            outln!(
                "{}: ok — \"{}\", {}, {} apps, {}, {}, {} ({} – {})",
                scenario.display(),
                s.name,
                plural(s.domains.len(), "domain", "domains"),
                crate::agents::hirl::explain::grouped(f64::from(apps), 0),
                plural(s.pools.len(), "pool", "pools"),
                plural(events, "event", "events"),
                scenario::describe::short_duration(s.duration_secs),
                scenario::clock::clock_label(&s, 0),
                // From a week on the weekday alone repeats ("Tue 10:00 – Tue 10:00" for four weeks): say how far.
                match s.duration_secs / 86_400 {
                    days @ 7.. => format!("{}, {days} days on", scenario::clock::clock_label(&s, s.duration_secs)),
                    _ => scenario::clock::clock_label(&s, s.duration_secs),
                },
            );
            out!("{}", scenario::describe::event_lines(&s, "  "));
        }
        Command::Bench { scenario, policy, scales, secs, child } => {
            let Some(s) = load_or_report(&scenario)? else {
                return Ok(ExitCode::from(1));
            };
            known_policy(&policy)?;
            let cfg = BenchConfig { policy, secs };
            if child {
                let scale = scales.first().copied().unwrap_or(1.0);
                outln!("{}", serde_json::to_string(&bench::measure(&s, scale, &cfg)?)?);
            } else {
                // Every size is checked before the first is measured: a factor out of bounds fails in seconds, not
                // after the sizes before it ran for minutes.
                for &scale in &scales {
                    scale_scenario(&s, scale).with_context(|| format!("--scales {scale}"))?;
                }
                let results = bench::run_in_children(&scenario, &scales, &cfg)?;
                out!("{}", bench::table(&results));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses a policy name no policy has, listing those there are.
fn known_policy(policy: &str) -> Result<()> {
    if policies::all_names().contains(&policy) {
        Ok(())
    } else {
        Err(crate::policy::UnknownPolicy(policy.to_string()).into())
    }
}

/// `--policies` of `compare` and `eval`, checked before any run: an unknown name failed only after the policies
/// before it had run, and a repeated one ran twice (`why_not_twice` says what that would have done).
fn check_policy_names(policies: &[String], why_not_twice: &str) -> Result<()> {
    policies.iter().try_for_each(|p| known_policy(p))?;
    if let Some(p) = hirl::first_repeat(policies) {
        anyhow::bail!("--policies: {p} is given twice ({why_not_twice})");
    }
    Ok(())
}

/// `scenarios/reference-day.ron` from the working directory, or from the source tree when run elsewhere.
fn default_scenario() -> PathBuf {
    shipped_file("scenarios/reference-day.ron")
}

/// A file shipped with the project (`relative` to the repository root): from the working directory, or from the
/// source tree when run elsewhere.
fn shipped_file(relative: &str) -> PathBuf {
    let local = PathBuf::from(relative);
    if local.exists() { local } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(relative) }
}

/// `--size-floor`, as `run`, `compare` and `eval` take it.
#[derive(clap::Args, Clone, Debug)]
pub struct SizeFloorArg {
    /// HiRL's Soldiers size no domain below this multiple of its HPA-sized need (shipped: ×0.905, so up to about 10%
    /// hotter than the HPAs' CPU targets): `1.0` for every priority, `P0=1.03,P1=1.03` (the others as shipped), or a
    /// domain by its scenario id, `payment=1.03` (its own floor overrides its priority's). Prices slack held ahead of
    /// unannounced spikes in node-hours: `eval`'s targets then say what it buys and costs against the baselines as
    /// shipped. hirl and hirl-teacher only.
    #[arg(long, value_name = "MULT|P0=MULT|DOMAIN=MULT,…", value_parser = SizeFloor::parse)]
    pub size_floor: Option<SizeFloor>,
}

/// Applies a `--size-floor` to the HiRL policies among `policies` (refused when none is run, since it would change
/// nothing, or when it names a domain one of `scenarios` lacks) and says so in a header line, so a HiRL scorecard
/// under a raised floor is never mistaken for the shipped policy's (the scorecards' JSON names the floor too).
pub fn with_size_floor(
    base: PolicyAssets,
    arg: SizeFloorArg,
    policies: &[String],
    scenarios: &[Scenario],
) -> Result<PolicyAssets> {
    let Some(floor) = arg.size_floor else {
        return Ok(base);
    };
    check_size_floor(&floor, scenarios)?;
    let hirl: Vec<&str> = policies.iter().map(String::as_str).filter(|p| p.starts_with("hirl")).collect();
    if hirl.is_empty() {
        anyhow::bail!(
            "--size-floor sets how low HiRL's Soldiers may size a domain; none of the policies run ({}) is hirl or \
             hirl-teacher",
            policies.join(", ")
        );
    }
    let others = if hirl.len() < policies.len() { "; the other policies run as shipped" } else { "" };
    outln!(
        "size floor: {floor} of each domain's HPA-sized need under {} (shipped ×{:.3}){others}",
        hirl.join(", "),
        f64::from(crate::agents::hirl::size_floor::SHIPPED_LN).exp()
    );
    Ok(PolicyAssets { size_floor: floor, ..base })
}

/// Refuses a `--size-floor` naming a domain one of `scenarios` lacks (it would floor nothing there).
fn check_size_floor(floor: &SizeFloor, scenarios: &[Scenario]) -> Result<()> {
    scenarios.iter().try_for_each(|s| floor.check(s).map_err(|e| anyhow!("--size-floor: {e}")))
}

/// Checks a `--warm-reserve` against every scenario it will run on, and `--warm-reserve-for` against the policies
/// that may run (`may_hold`), and says both in a header line, so a scorecard printed under a reserve is never mistaken
/// for the policy's own (the scorecards keep the policy's name). Returns `base` holding the reserve.
pub fn with_warm_reserve(
    base: PolicyAssets,
    spec: Option<WarmReserveSpec>,
    held_by: Vec<String>,
    may_hold: &[String],
    scenarios: &[Scenario],
) -> Result<PolicyAssets> {
    if let Some(p) = held_by.iter().find(|p| !may_hold.contains(p)) {
        anyhow::bail!("--warm-reserve-for names {p}, which is not one of the policies run ({})", may_hold.join(", "));
    }
    let Some(spec) = spec else {
        return Ok(PolicyAssets { warm_reserve: None, warm_reserve_for: Vec::new(), ..base });
    };
    for s in scenarios {
        spec.check(s)?;
    }
    let who = if held_by.is_empty() {
        "every policy holds".to_string()
    } else {
        let verb = if held_by.len() == 1 { "holds" } else { "hold" };
        format!("{} only (the other policies run as shipped) {verb}", held_by.join(", "))
    };
    outln!(
        "warm reserve: {spec} — {who} at least that share of the CPU its pods request there warm, as \
         lowest-priority placeholder pods (HiRL: the larger of this and its Commander's reserve)"
    );
    Ok(PolicyAssets { warm_reserve: Some(spec), warm_reserve_for: held_by, ..base })
}

/// Loads a scenario; on invalid content prints every problem to stderr and returns `None`.
pub fn load_or_report(path: &Path) -> Result<Option<Scenario>> {
    match scenario::load_file(path) {
        Ok(s) => Ok(Some(s)),
        Err(LoadError::Invalid(e)) => {
            eprint!("{e}");
            Ok(None)
        }
        Err(e @ LoadError::Io { .. }) => Err(e.into()),
    }
}

/// Runs one baseline policy over the whole scenario and returns its scorecard. Shows a progress bar on a terminal
/// for runs longer than a simulated hour.
pub fn run_policy(
    s: &Scenario,
    policy_name: &str,
    seed: u64,
    assets: &PolicyAssets,
    show_progress: bool,
) -> Result<PolicyRun> {
    let mut sim = Simulation::new(s, seed);
    let mut policy = policies::build(policy_name, s, sim.layout(), seed, assets)?;
    let run_name = policy.name().to_string();
    let bar = (show_progress && s.duration_secs > 3600).then(|| {
        let bar = indicatif::ProgressBar::new(s.duration_secs / 3600);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} simulated h {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(run_name.clone());
        bar
    });
    policy::run_until(&mut sim, policy.as_mut(), s.duration_secs, |t| {
        if let Some(b) = &bar {
            b.set_position(t / 3600);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(PolicyRun::new(policy.as_ref(), &sim, policy_name, &run_name, assets))
}

/// A headless run's scorecard, and for HiRL how long each domain was on its safety layer's HPA fallback.
pub struct PolicyRun {
    pub scorecard: Scorecard,
    /// Per domain (`None` for policies without a safety layer).
    pub fallback: Option<Vec<FallbackTime>>,
    /// Per domain, how long HiRL's seating rules held it (`None` for other policies).
    pub seating: Option<Vec<SeatingTime>>,
    /// Every cascade of the run and what carried it (as many per domain as the scorecard counts).
    pub cascades: Vec<Cascade>,
}

impl PolicyRun {
    /// `policy_name` is the command-line name (which decides the reserve held), `run_name` the policy's own (what the
    /// scorecard is filed under: "hirl (HPA fallback)" when the agents could not be used).
    fn new(
        policy: &dyn crate::policy::Autoscaler,
        sim: &Simulation,
        policy_name: &str,
        run_name: &str,
        assets: &PolicyAssets,
    ) -> Self {
        use crate::agents::hirl::HirlPolicy;
        let hirl = policy.inspect().and_then(|p| p.downcast_ref::<HirlPolicy>());
        let fallback =
            hirl.map(|hirl| fallback_time(hirl.safety().interventions(), sim.layout().domains.len(), sim.now_secs()));
        let seating = hirl.map(|hirl| hirl.seating_time().to_vec());
        let scorecard = sim
            .scorecard(run_name)
            .held_under(assets.warm_reserve_of(policy_name))
            .sized_under(assets.size_floor_of(policy_name));
        let cascades = cascades::cascades(sim.timeline(), &sim.layout().links);
        Self { scorecard, fallback, seating, cascades }
    }
}

/// "safety: on the HPA fallback (no Soldier decisions): payment 34.8 min (once), …": how much of the run each domain
/// was run by its stock HPAs — a domain on the fallback makes no Soldier decisions, so this is how much of the run
/// the networks did not steer.
pub fn fallback_line(domains: &[DomainSpec], times: &[FallbackTime]) -> String {
    let on = domain_stretches(domains, times.iter().map(|t| (t.secs, t.handovers)));
    if on.is_empty() {
        "safety: no domain was handed to its HPAs".to_string()
    } else {
        format!("safety: on the HPA fallback (no Soldier decisions): {on}")
    }
}

/// "seating: callees first held back payment 7.0 min (once); survival first staged payment 21.3 min (2 times), …":
/// per HiRL seating rule, the domains it held and for how long — where a run's "held back" breach minutes come from.
pub fn seating_line(domains: &[DomainSpec], times: &[SeatingTime]) -> String {
    let rule = |pick: fn(&SeatingTime) -> RuleTime| {
        let held = domain_stretches(domains, times.iter().map(|t| (pick(t).secs, pick(t).starts)));
        if held.is_empty() { "no domain".to_string() } else { held }
    };
    format!(
        "seating: callees first held back {}; survival first staged {}",
        rule(|t| t.callees_first),
        rule(|t| t.survival_first)
    )
}

/// "payment 34.8 min (once), fraud 2.5 min (2 times)": each domain's time in some state over a run and how many
/// times it entered it (`stretches` in scenario order, as seconds and entries); domains never in it are left out.
fn domain_stretches(domains: &[DomainSpec], stretches: impl Iterator<Item = (u64, u32)>) -> String {
    let each: Vec<String> = domains
        .iter()
        .zip(stretches)
        .filter(|(_, (_, entries))| *entries > 0)
        .map(|(d, (secs, entries))| {
            let times = if entries == 1 { "once".to_string() } else { format!("{entries} times") };
            format!("{} {:.1} min ({times})", d.id, secs as f64 / 60.0)
        })
        .collect();
    each.join(", ")
}

/// The models the named policies need: none for the baselines (so they print no warnings); the forecaster and the
/// agents for `hirl*`, with a warning on stderr when the agents cannot be used.
pub fn assets_for(policies: &[String], agents: Option<&Path>) -> PolicyAssets {
    assets_with(policies, || agents_at(agents))
}

/// [`assets_for`] with the agents from `agents`, called only when `hirl` is among `policies`.
pub fn assets_with(
    policies: &[String],
    agents: impl FnOnce() -> Result<std::sync::Arc<crate::agents::hirl::HirlNets>, String>,
) -> PolicyAssets {
    if !policies.iter().any(|p| p.starts_with("hirl")) {
        return PolicyAssets::none();
    }
    PolicyAssets {
        forecaster: forecaster::load_for_run(&forecaster::default_model_path()),
        agents: if policies.iter().any(|p| p == "hirl") { agents() } else { Err("not needed".into()) },
        // Headless commands print scorecards, never decision records.
        keep_decision_records: false,
        warm_reserve: None,
        warm_reserve_for: Vec::new(),
        size_floor: Default::default(),
    }
}

/// Says on stderr, for each of `scenarios` that HiRL is not built for, that the HiRL policies among `policies` run it
/// as stock HPA, and why (their scorecards carry the fallback's name: `hirl (HPA fallback)`).
pub fn warn_unsupported(policies: &[String], scenarios: &[Scenario]) {
    let learned: Vec<String> = policies
        .iter()
        .filter(|p| policies::LEARNED.iter().any(|(name, _)| name == p))
        .map(|p| format!("`{p}`"))
        .collect();
    if learned.is_empty() {
        return;
    }
    let verb = if learned.len() == 1 { "is" } else { "are" };
    for s in scenarios {
        if let Err(e) = crate::agents::hirl::features::check_scenario(s) {
            eprintln!("{e}; {} {verb} run by HPA", learned.join(" and "));
        }
    }
}

/// The HiRL agents' file: the one given (`--agents`), or the shipped one.
pub(crate) fn agents_path(given: Option<&Path>) -> PathBuf {
    given.map_or_else(|| shipped_file(crate::agents::hirl::DEFAULT_AGENTS_PATH), Path::to_path_buf)
}

/// Loads the HiRL agents (default: the shipped file).
pub(super) fn agents_at(path: Option<&Path>) -> Result<std::sync::Arc<crate::agents::hirl::HirlNets>, String> {
    PolicyAssets::load_agents(&agents_path(path))
}

/// Loads the HiRL agents for the window, saying on stderr why HPA takes over when they cannot be used (any run there
/// may become HiRL).
pub fn load_agents(path: Option<&Path>) -> Result<std::sync::Arc<crate::agents::hirl::HirlNets>, String> {
    let agents = agents_at(path);
    if let Err(reason) = &agents {
        say_hpa_runs_hirl(reason);
    }
    agents
}

fn say_hpa_runs_hirl(why_no_agents: &str) {
    eprintln!("hirl agents: {why_no_agents}; `hirl` is run by HPA");
}

/// Says on stderr that `hirl` runs as HPA because its agents did not load, for the commands that run it so (`run`,
/// `compare`, `bench`). The commands whose output is about the agents (`eval`, `record`, `replay`) refuse instead,
/// and say only that: a warning that HPA takes over, then a refusal, contradicted itself.
pub fn warn_agents_fallback(policies: &[String], assets: &PolicyAssets) {
    if policies.iter().any(|p| p == "hirl")
        && let Err(reason) = &assets.agents
    {
        say_hpa_runs_hirl(reason);
    }
}

/// Runs a policy and records one CSV row every `interval_secs` simulated seconds: per domain rps, p99, error ratio,
/// ready, starting and pending pods, CPU utilisation, and what held its breach at that tick (the cause's key, empty
/// within the SLO); then cluster nodes, booting and queued nodes.
pub fn run_traced(
    s: &Scenario,
    policy_name: &str,
    seed: u64,
    assets: &PolicyAssets,
    interval_secs: u64,
) -> Result<(PolicyRun, String)> {
    use std::fmt::Write;
    let mut sim = Simulation::new(s, seed);
    let mut policy = policies::build(policy_name, s, sim.layout(), seed, assets)?;
    let run_name = policy.name().to_string();
    let mut csv = String::from("t_secs");
    for d in &sim.layout().domains {
        for col in ["rps", "p99_ms", "error_ratio", "ready", "starting", "pending", "cpu_util", "held_by"] {
            let _ = write!(csv, ",{}_{col}", d.id);
        }
    }
    csv.push_str(",nodes,booting_nodes,queued_nodes\n");
    let n_pools = sim.layout().pools.len();
    while sim.now_secs() < s.duration_secs {
        let next = (sim.now_secs() + interval_secs).min(s.duration_secs);
        policy::run_until(&mut sim, policy.as_mut(), next, |_| {});
        let _ = write!(csv, "{}", sim.now_secs());
        for (d, split) in sim.domain_truth().iter().zip(sim.domain_breach_split()) {
            let _ = write!(
                csv,
                ",{:.0},{:.1},{:.5},{},{},{},{},{}",
                d.rps,
                d.p99_latency_ms,
                d.error_ratio,
                d.ready_pods,
                d.starting_pods,
                d.pending_pods,
                d.cpu_utilization.map_or_else(String::new, |u| format!("{u:.3}")),
                BreachCause::dominant(*split).map_or("", BreachCause::key)
            );
        }
        let obs = sim.observe();
        let pools: Vec<_> = (0..n_pools).map(|p| obs.pool(crate::sim::PoolId(p as u8))).collect();
        let _ = writeln!(
            csv,
            ",{},{},{}",
            pools.iter().map(|p| p.nodes).sum::<u32>(),
            pools.iter().map(|p| p.booting_nodes).sum::<u32>(),
            pools.iter().map(|p| p.queued_nodes).sum::<u32>()
        );
    }
    Ok((PolicyRun::new(policy.as_ref(), &sim, policy_name, &run_name, assets), csv))
}

/// A benchmark's simulated span: a whole number of ticks, at most four weeks.
fn parse_bench_secs(text: &str) -> Result<u64, String> {
    let secs: u64 = text.parse().map_err(|e| format!("{e}"))?;
    let tick = crate::sim::TICK_SECS;
    if secs == 0 || !secs.is_multiple_of(tick) || secs > scenario::MAX_DURATION_SECS {
        return Err(format!(
            "give a multiple of the {tick} s tick from {tick} to {} (four weeks)",
            scenario::MAX_DURATION_SECS
        ));
    }
    Ok(secs)
}

/// A trace interval is a whole number of ticks, so every row lands on a tick boundary.
fn parse_trace_interval(text: &str) -> Result<u64, String> {
    let secs: u64 = text.parse().map_err(|e| format!("{e}"))?;
    if secs == 0 || !secs.is_multiple_of(crate::sim::TICK_SECS) {
        return Err(format!("must be a positive multiple of the {} s tick", crate::sim::TICK_SECS));
    }
    Ok(secs)
}

/// The git commit of the checkout this binary was built from, and whether it had uncommitted changes (the
/// model metadata's `source_tree`); `None` without git or outside a checkout.
pub(crate) fn source_tree() -> Option<String> {
    let git = |args: &[&str]| {
        let out =
            std::process::Command::new("git").arg("-C").arg(env!("CARGO_MANIFEST_DIR")).args(args).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(format!("git {commit}{}", if dirty { " + uncommitted changes" } else { "" }))
}

/// Prints a progress line above `bar`, or plainly when there is none or it is hidden: indicatif hides bars, and drops
/// their `println`, when the output is not a terminal (a training log), and those lines must still reach it.
fn progress_line(bar: Option<&indicatif::ProgressBar>, line: String) {
    match bar {
        Some(b) if !b.is_hidden() => b.println(line),
        _ => outln!("{line}"),
    }
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    scenario::write_atomic(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seating_line_names_each_domain_a_rule_held() {
        let s = scenario::load_file(Path::new("scenarios/small.ron")).expect("shipped scenario");
        let mut times = vec![SeatingTime::default(); s.domains.len()];
        for _ in 0..84 {
            times[0].tick(5, true, false);
        }
        assert_eq!(
            seating_line(&s.domains, &times),
            "seating: callees first held back payment 7.0 min (once); survival first staged no domain"
        );
    }

    #[test]
    fn the_source_tree_is_a_full_commit_or_unknown() {
        if let Some(tree) = super::source_tree() {
            let commit = tree.strip_prefix("git ").and_then(|t| t.split(' ').next()).unwrap_or_default();
            assert!(commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()), "{tree}");
        }
    }
}
