//! `cargo bench --bench sim_instructions`: the instructions executed for two simulated hours of `reference-day.ron`
//! at full scale (`hirl-scale bench --child`), under HPA (the simulator and the stock controllers) and under HiRL
//! (the simulator and the agents), counted by valgrind's callgrind.
//!
//! Why a count as well as wall time: on this shared 2-core machine wall time moves by about ±5% between runs, while
//! the count repeats to within a few dozen instructions in 1.9 billion (HPA). A change of 1% — the release build's code
//! generation moving a hot path out of line, say — shows here and hides in wall time. Each run writes its counts
//! beside the build (`CARGO_TARGET_TMPDIR`) and prints the change against the previous run, so an A/B comparison is
//! this bench on the base, then on the change. Without valgrind it says so and succeeds: it is a tool, not a gate.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, ensure};
use hirl_scale::agents::hirl::explain::thousands;

/// Simulated seconds counted: two hours, about 9 s under callgrind for HPA and 25 s for HiRL.
const SIMULATED_SECS: &str = "7200";

/// The policies counted: the stock baseline, and HiRL (its networks, forecaster and executor on top of the same
/// simulator).
const POLICIES: [&str; 2] = ["hpa", "hirl"];

fn main() -> anyhow::Result<()> {
    for policy in POLICIES {
        let Some(count) = count_instructions(policy)? else {
            return Ok(());
        };
        let last_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sim_instructions.{policy}.last"));
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
    }
    Ok(())
}

/// The instructions of one headless run under `policy`; `None` (said once) when valgrind cannot be run.
fn count_instructions(policy: &str) -> anyhow::Result<Option<u64>> {
    let exe = env!("CARGO_BIN_EXE_hirl-scale");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = Command::new("valgrind")
        .current_dir(root)
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null", exe, "bench", "--child", "--policy", policy])
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
