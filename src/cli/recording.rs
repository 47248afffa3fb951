//! `record` and `replay`: incident recordings from the command line.
//!
//! `record` runs a scenario headless (one policy, or two side by side), injecting events live at given times, and
//! writes a recording. `replay` re-runs a recording and checks it bit for bit against its checkpoints and
//! scorecards; `--rerecord` writes it again with the models loaded now (after a retrain).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;

use super::stdout::{out, outln};
use super::{assets_for, report};
use crate::replay::Recording;
use crate::runner::{Session, SessionConfig, model_stamps, verify};
use crate::scenario::EventSpec;

#[derive(Args, Debug)]
pub struct RecordArgs {
    pub scenario: PathBuf,
    /// One policy, or two comma-separated to record side by side (e.g. `hpa,hirl`).
    #[arg(long, value_delimiter = ',', default_value = "hirl")]
    pub policies: Vec<String>,
    /// Run seed; defaults to the scenario's own.
    #[arg(long)]
    pub seed: Option<u64>,
    /// HiRL agents (default: models/hirl.safetensors).
    #[arg(long)]
    pub agents: Option<PathBuf>,
    /// An event injected live: `SECS=EVENT`, EVENT in the scenario file's RON form, e.g.
    /// `3600=Spike(domain: "payment", start_secs: 0, ramp_secs: 60, multiplier: 2.0, duration_secs: 1800)` (a start
    /// before the injection time means "at the next tick"). Repeatable.
    #[arg(long = "inject")]
    pub injections: Vec<String>,
    /// Record until this simulated second (default: the scenario's end).
    #[arg(long)]
    pub until: Option<u64>,
    /// A warm reserve held under every run, stored in the recording so that it replays (see `eval --warm-reserve`).
    #[arg(long, value_name = "SHARE|POOL=SHARE,…", value_parser = crate::policy::WarmReserveSpec::parse)]
    pub warm_reserve: Option<crate::policy::WarmReserveSpec>,
    /// Hold `--warm-reserve` under these of `--policies` only (e.g. `hirl`, HPA as shipped); stored too.
    #[arg(long, value_delimiter = ',', requires = "warm_reserve")]
    pub warm_reserve_for: Vec<String>,
    /// HiRL's Soldiers' size floor (see `eval --size-floor`), stored in the recording so that it replays.
    #[command(flatten)]
    pub size_floor: super::SizeFloorArg,
    /// The recording to write (RON; refused if it is the scenario or a model file).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    pub recording: PathBuf,
    /// HiRL agents (default: models/hirl.safetensors).
    #[arg(long)]
    pub agents: Option<PathBuf>,
    /// Re-run with the models loaded now and write the recording again (after a retrain or a simulator change).
    #[arg(long)]
    pub rerecord: bool,
}

/// `SECS=EVENT` → (seconds, event).
fn parse_injection(text: &str) -> Result<(u64, EventSpec)> {
    let (secs, event) =
        text.split_once('=').ok_or_else(|| anyhow!("--inject {text:?}: expected SECS=EVENT, e.g. 3600=Spike(…)"))?;
    let secs: u64 = secs.trim().parse().with_context(|| format!("--inject {text:?}: {secs:?} is not whole seconds"))?;
    let event: EventSpec = ron::from_str(event.trim()).map_err(|e| anyhow!("--inject {text:?}: {e}"))?;
    Ok((secs, event))
}

/// `--until` (default: the scenario's end): a tick after 0, within the scenario. Rounding or clamping it would write
/// a recording of another length than asked, without a word.
fn recording_end(until: Option<u64>, duration_secs: u64) -> Result<u64> {
    let Some(until) = until else { return Ok(duration_secs) };
    let tick = crate::sim::TICK_SECS;
    if until == 0 || !until.is_multiple_of(tick) || until > duration_secs {
        bail!(
            "--until {until}: give a multiple of the {tick} s tick from {tick} to the scenario's end ({duration_secs} s)"
        );
    }
    Ok(until)
}

/// An injection must be on a tick, and fire before the recording ends: it fires at the next tick at the earliest,
/// so one at the recording's end would be stored and never act in it.
fn check_injection_time(t_secs: u64, event: &EventSpec, until: u64) -> Result<()> {
    let tick = crate::sim::TICK_SECS;
    if !t_secs.is_multiple_of(tick) {
        bail!(
            "{t_secs} s is not on the {tick} s tick (the simulation injects between ticks): give a multiple of {tick}"
        );
    }
    let fires = crate::sim::schedule_from(event, t_secs.saturating_add(tick)).start_secs();
    if fires >= until {
        bail!("injected at {t_secs} s, it would fire at {fires} s, when the recording has ended ({until} s)");
    }
    Ok(())
}

pub fn record_command(args: RecordArgs) -> Result<()> {
    super::outputs::check(
        &[("--out", Some(&args.out))],
        &super::outputs::inputs(&[&args.scenario], args.agents.as_deref()),
    )?;
    super::check_policy_names(&args.policies, "a side-by-side of a policy against itself shows nothing")?;
    // Refused before the run: a recording of another count would be written and then refused by every loader.
    if !crate::replay::RUN_COUNTS.contains(&args.policies.len()) {
        bail!(
            "--policies: a recording holds one run, or two side by side; got {} ({})",
            args.policies.len(),
            args.policies.join(", ")
        );
    }
    let mut s = super::load_or_refuse(&args.scenario)?;
    // An exported what-if scenario's own limits go where a recording keeps them, as the window's recordings do.
    let unlifted = s.unlifted.take();
    let until = recording_end(args.until, s.duration_secs)?;
    let mut injections = args.injections.iter().map(|t| parse_injection(t)).collect::<Result<Vec<_>>>()?;
    // Every injection is checked before the run, each named as given (a refusal after minutes of simulation, or
    // naming the event by the index it would take among the scenario's, helps no one).
    for ((t, event), text) in injections.iter().zip(&args.injections) {
        if let Some(p) = crate::scenario::validate_event(&s, event).first() {
            let place = if p.path.is_empty() { String::new() } else { format!("{}: ", p.path.trim_start_matches('.')) };
            bail!("--inject {text:?}: {place}{}", p.message);
        }
        check_injection_time(*t, event, until).with_context(|| format!("--inject {text:?}"))?;
    }
    injections.sort_by_key(|(t, _)| *t);
    let seed = args.seed.unwrap_or(s.seed);
    let assets = super::with_warm_reserve(
        assets_for(&args.policies, args.agents.as_deref()),
        args.warm_reserve,
        args.warm_reserve_for,
        &args.policies,
        std::slice::from_ref(&s),
    )?;
    let assets = super::with_size_floor(assets, args.size_floor, &args.policies, std::slice::from_ref(&s))?;
    if let Some(why) = crate::runner::missing_agents(&args.policies, &s, &assets) {
        bail!("--policies: the recording {why}; it would run as HPA under HiRL's name and never replay as hirl");
    }
    super::warn_unsupported(&args.policies, std::slice::from_ref(&s));
    // No snapshots needed: the session only goes forward (checkpoints are probed at the end, from here).
    let cfg = SessionConfig::every(3600);
    let mut session = Session::new(Arc::new(s), seed, &args.policies, &assets, cfg).map_err(|e| anyhow!(e))?;
    for (t, event) in injections {
        session.seek(t);
        let fired = session.inject(event).map_err(|e| anyhow!(e))?;
        let s = session.scenario();
        outln!(
            "injected at {} ({t} s): {}{} (fires at {}, {} s)",
            crate::scenario::clock::clock_label_secs(s, t),
            fired.label(),
            crate::scenario::describe::event_detail(s, &fired, None),
            crate::scenario::clock::clock_label_secs(s, fired.start_secs()),
            fired.start_secs()
        );
    }
    session.seek(until);
    let origin = args.scenario.display().to_string();
    let rec = Recording {
        unlifted,
        ..session.recording(&origin, model_stamps(&session.policies(), session.scenario(), &assets))
    };
    rec.save_file(&args.out)?;
    out!("{}", report::comparison_table(&rec.scorecards));
    outln!(
        "recorded {} s of {} ({}), seed {}, {} injection(s), {} checkpoint(s) → {}",
        rec.end_secs,
        rec.scenario.name,
        rec.policies.join(" vs "),
        rec.seed,
        rec.injections.len(),
        rec.checkpoints.len(),
        args.out.display()
    );
    Ok(())
}

/// Exit code 0: identical; 3: the replay differs from the recording.
pub fn replay_command(args: ReplayArgs) -> Result<std::process::ExitCode> {
    let rec = Recording::load_file(&args.recording)?;
    let origin = args.recording.display().to_string();
    let assets = assets_for(&rec.policies, args.agents.as_deref());
    super::warn_unsupported(&rec.policies, std::slice::from_ref(&rec.scenario));
    if let Some(spec) = &rec.warm_reserve {
        outln!("warm reserve (recorded): {}", crate::policy::describe_held(spec, &rec.warm_reserve_for));
    }
    if let Some(floor) = &rec.size_floor {
        outln!("size floor (recorded): {floor} of each domain's HPA-sized need under HiRL");
    }
    let lifted = crate::scenario::what_if::lifted(&rec.scenario);
    if !lifted.is_empty() {
        let names: Vec<&str> = lifted.iter().map(|w| w.name()).collect();
        let back = match rec.unlifted {
            Some(_) => "the scenario's own limits are kept with it: the window's what-if menu puts them back",
            None => "the recording does not keep the scenario's own limits",
        };
        outln!("what if (recorded): {} lifted; {back}", names.join(" and "));
    }
    if args.rerecord {
        return rerecord(&rec, &args.recording, &assets);
    }
    let report = verify(&rec, &origin, &assets).map_err(|e| anyhow!(e))?;
    out!("{}", report::event_list(&rec.scenario));
    out!("{}", report::injection_list(&rec.scenario, &rec.injections));
    out!("{}", report::comparison_table(&report.scorecards));
    let checks = rec.checkpoints.len();
    match report.first_divergence {
        None if report.scorecards_match => {
            outln!(
                "{origin}: replay is bit-identical ({checks} state checkpoints, {} scorecard(s))",
                rec.policies.len()
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        None => {
            outln!("{origin}: every state checkpoint matched, but the final scorecards differ");
            Ok(std::process::ExitCode::from(3))
        }
        Some((t, run)) => {
            outln!(
                "{origin}: DIVERGED — run {} ({}) differs at the checkpoint at {t} s ({} of {checks} matched before)",
                run,
                rec.policies.get(run).map_or("?", String::as_str),
                report.checkpoints_matched
            );
            Ok(std::process::ExitCode::from(3))
        }
    }
}

fn rerecord(
    rec: &Recording,
    path: &Path,
    assets: &crate::agents::policies::PolicyAssets,
) -> Result<std::process::ExitCode> {
    // The models may differ (that is what re-recording is for), but the policies must run as recorded: `hirl`
    // without agents would be written as HPA under HiRL's name.
    crate::runner::check_policies(rec, &path.display().to_string(), assets).map_err(|e| anyhow!(e))?;
    // Before the run: a read-only recording failed only once it had been simulated again.
    super::outputs::check(&[("--rerecord", Some(path))], &[])?;
    let mut session = Session::from_recording(rec, assets, SessionConfig::every(3600)).map_err(|e| anyhow!(e))?;
    session.seek(rec.end_secs);
    // The limits a what-if lifted are the recording's, not the session's: carry them over.
    let again = Recording {
        unlifted: rec.unlifted.clone(),
        ..session.recording(&rec.origin, model_stamps(&rec.policies, &rec.scenario, assets))
    };
    again.save_file(path)?;
    out!("{}", report::comparison_table(&again.scorecards));
    outln!("{}: re-recorded with the models loaded now", path.display());
    Ok(std::process::ExitCode::SUCCESS)
}
