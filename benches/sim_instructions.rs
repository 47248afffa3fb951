//! `cargo bench --bench sim_instructions`: the instructions the simulator executes for two simulated hours of
//! `reference-day.ron` under HPA at full scale (`hirl-scale bench --child`), counted by valgrind's callgrind.
//!
//! Why a count as well as wall time: on this shared 2-core machine wall time moves by about ±5% between runs, while
//! the count repeats to within a few dozen instructions in 1.9 billion. A change of 1% — the release build's code
//! generation moving a hot path out of line, say — shows here and hides in wall time. Each run writes its count
//! beside the build (`CARGO_TARGET_TMPDIR`) and prints the change against the previous run, so an A/B comparison is
//! this bench on the base, then on the change. Without valgrind it says so and succeeds: it is a tool, not a gate.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, ensure};
use hirl_scale::agents::hirl::explain::thousands;

/// Simulated seconds counted: two hours, about 9 s under callgrind.
const SIMULATED_SECS: &str = "7200";

fn main() -> anyhow::Result<()> {
    let exe = env!("CARGO_BIN_EXE_hirl-scale");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/reference-day.ron");
    let run = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null", exe, "bench", "--child", "--policy", "hpa"])
        .args(["--scales", "1", "--secs", SIMULATED_SECS, "--scenario"])
        .arg(&scenario)
        .output();
    let output = match run {
        Ok(output) => output,
        Err(e) => {
            println!(
                "sim_instructions: valgrind cannot be run ({e}); `apt-get install valgrind` to count instructions"
            );
            return Ok(());
        }
    };
    let log = String::from_utf8_lossy(&output.stderr);
    ensure!(output.status.success(), "callgrind run failed ({}):\n{log}", output.status);
    let count: u64 = log
        .lines()
        .find_map(|line| line.split_once("Collected :").map(|(_, n)| n.trim().to_owned()))
        .and_then(|n| n.parse().ok())
        .context("valgrind printed no instruction count")?;

    let last_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sim_instructions.last");
    let last: Option<u64> = std::fs::read_to_string(&last_path).ok().and_then(|s| s.trim().parse().ok());
    let change = last.map_or_else(
        || "no earlier run to compare with".to_owned(),
        |last| {
            let pct = (count as f64 / last as f64 - 1.0) * 100.0;
            format!("{pct:+.3}% against the previous run's {}", thousands(last))
        },
    );
    println!(
        "reference-day under hpa, full scale, {SIMULATED_SECS} simulated s: {} instructions ({change})",
        thousands(count)
    );
    std::fs::write(&last_path, format!("{count}\n")).with_context(|| format!("cannot write {}", last_path.display()))
}
