//! `cargo bench --bench sim_instructions`: the instructions executed for two simulated hours of `reference-day.ron`
//! at full scale (`hirl-scale bench --child`), under HPA (the simulator and the stock controllers) and under HiRL
//! (the simulator and the agents), counted by valgrind's callgrind.
//!
//! Why a count as well as wall time: on this shared 2-core machine wall time moves by about ±5% between runs, while
//! the count repeats to within a few dozen instructions in 1.9 billion (HPA). A change of 1% — the release build's code
//! generation moving a hot path out of line, say — shows here and hides in wall time. Each run writes its counts
//! beside the build (`CARGO_TARGET_TMPDIR`) and prints the change against the previous run, so an A/B comparison is
//! this bench on the base, then on the change. Without valgrind it says so and succeeds: it is a tool, not a gate.
//!
//! A pair of counts also carries the release build's code generation: with four codegen units and thin LTO, a change
//! anywhere in the crate can move how the simulator is partitioned and inlined, by up to about 2% with the simulator
//! untouched (the README's *Performance*). So each run keeps callgrind's profile beside the count and, when
//! `callgrind_annotate` (valgrind's) is there, lists the functions whose own instructions moved most against the
//! previous run's profile: a change that moved only its own functions reads differently from a reshuffle of inlining.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, ensure};
use hirl_scale::agents::hirl::explain::thousands;

/// Simulated seconds counted: two hours, about 9 s under callgrind for HPA and 25 s for HiRL.
const SIMULATED_SECS: &str = "7200";

/// The policies counted: the stock baseline, and HiRL (its networks, forecaster and executor on top of the same
/// simulator).
const POLICIES: [&str; 2] = ["hpa", "hirl"];

/// Functions listed per policy, the largest moves against the previous profile first.
const MOVES_LISTED: usize = 6;

/// Where a policy's file of `kind` ("last", "callgrind", "callgrind.prev") lives: beside the build.
fn kept(policy: &str, kind: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sim_instructions.{policy}.{kind}"))
}

fn main() -> anyhow::Result<()> {
    for policy in POLICIES {
        let (profile, previous_profile) = (kept(policy, "callgrind"), kept(policy, "callgrind.prev"));
        // The previous run's profile becomes the one compared with; a failed rename only means no comparison.
        let had_previous = std::fs::rename(&profile, &previous_profile).is_ok();
        let Some(count) = count_instructions(policy, &profile)? else {
            return Ok(());
        };
        let last_path = kept(policy, "last");
        let last: Option<u64> = std::fs::read_to_string(&last_path).ok().and_then(|s| s.trim().parse().ok());
        let change = last.map_or_else(
            || "no earlier run to compare with".to_owned(),
            |last| {
                let pct = (count as f64 / last as f64 - 1.0) * 100.0;
                format!("{pct:+.3}% against the previous run's {}", thousands(last))
            },
        );
        println!(
            "reference-day under {policy}, full scale, {SIMULATED_SECS} simulated s: {} instructions ({change})",
            thousands(count)
        );
        std::fs::write(&last_path, format!("{count}\n"))
            .with_context(|| format!("cannot write {}", last_path.display()))?;
        if had_previous {
            print_moves(&previous_profile, &profile);
        }
    }
    Ok(())
}

/// Lists the functions whose own instructions moved most between two callgrind profiles, or says why it cannot.
fn print_moves(before: &Path, after: &Path) {
    let (before, after) = match (self_counts(before), self_counts(after)) {
        (Ok(b), Ok(a)) => (b, a),
        (Err(e), _) | (_, Err(e)) => {
            println!("  (no per-function comparison: {e:#})");
            return;
        }
    };
    let functions: BTreeSet<&str> = before.keys().chain(after.keys()).map(String::as_str).collect();
    let mut moves: Vec<(i128, &str)> = functions
        .into_iter()
        .map(|f| {
            let count = |m: &BTreeMap<String, u64>| i128::from(m.get(f).copied().unwrap_or(0));
            (count(&after) - count(&before), f)
        })
        .filter(|&(delta, _)| delta != 0)
        .collect();
    // Largest first, ties by name.
    moves.sort_by(|a, b| b.0.abs().cmp(&a.0.abs()).then(a.1.cmp(b.1)));
    if moves.is_empty() {
        println!("  every function's own instructions as in the previous run");
    }
    for (delta, function) in moves.into_iter().take(MOVES_LISTED) {
        let sign = if delta < 0 { "−" } else { "+" };
        println!("  {:>14}  {function}", format!("{sign}{}", thousands(delta.unsigned_abs() as u64)));
    }
}

/// Each function's own instructions (inlined code included, callees excluded) in a callgrind profile, by the
/// demangled name `callgrind_annotate` prints; the per-source-file rows of one function are summed.
fn self_counts(profile: &Path) -> anyhow::Result<BTreeMap<String, u64>> {
    let output = Command::new("callgrind_annotate")
        .args(["--threshold=100", "--auto=no", "--inclusive=no", "--show-percs=no"])
        .arg(profile)
        .output()
        .context("callgrind_annotate cannot be run")?;
    ensure!(output.status.success(), "callgrind_annotate failed ({})", output.status);
    let mut counts = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        // "  1,234,567  src/sim/serving.rs:hirl_scale::…::serve_and_score [/path/to/hirl-scale]"
        let Some((count, rest)) = line.trim_start().split_once(' ') else { continue };
        let Ok(count) = count.replace(',', "").parse::<u64>() else { continue };
        let Some((_file, function)) = rest.trim().split_once(':') else { continue };
        // The object's path, when shown, is a last " [/…]" (a name may hold " [" itself: `impl X for [T]`).
        let function = function.rsplit_once(" [/").map_or(function, |(name, _object)| name);
        *counts.entry(function.to_owned()).or_insert(0) += count;
    }
    ensure!(!counts.is_empty(), "callgrind_annotate listed no function in {}", profile.display());
    Ok(counts)
}

/// The instructions of one headless run under `policy`, its profile written to `profile`; `None` (said once) when
/// valgrind cannot be run.
fn count_instructions(policy: &str, profile: &Path) -> anyhow::Result<Option<u64>> {
    let exe = env!("CARGO_BIN_EXE_hirl-scale");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = Command::new("valgrind")
        .current_dir(root)
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", profile.display()))
        .args([exe, "bench", "--child", "--policy", policy])
        .args(["--scales", "1", "--secs", SIMULATED_SECS, "--scenario"])
        .arg(root.join("scenarios/reference-day.ron"))
        .output();
    let output = match run {
        Ok(output) => output,
        Err(e) => {
            println!(
                "sim_instructions: valgrind cannot be run ({e}); `apt-get install valgrind` to count instructions"
            );
            return Ok(None);
        }
    };
    let log = String::from_utf8_lossy(&output.stderr);
    ensure!(output.status.success(), "callgrind run under {policy} failed ({}):\n{log}", output.status);
    log.lines()
        .find_map(|line| line.split_once("Collected :").map(|(_, n)| n.trim().to_owned()))
        .and_then(|n| n.parse().ok())
        .context("valgrind printed no instruction count")
        .map(Some)
}
