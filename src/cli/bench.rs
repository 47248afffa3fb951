//! `hirl-scale bench`: wall time per simulated day and peak memory, at several cluster sizes.
//!
//! Each size runs in a fresh child process so that its peak RSS (`VmHWM`) is its own. Sizes are made by scaling
//! every tier's app count and every domain's traffic by the same factor, so per-app load stays as written and the
//! pod count scales with the app count.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::policy;
use crate::scenario::Scenario;
use crate::sim::Simulation;

#[derive(Clone, Debug)]
pub struct BenchConfig {
    pub policy: String,
    /// Simulated seconds per measurement.
    pub secs: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchResult {
    pub scale: f64,
    pub apps: usize,
    pub peak_pods: u32,
    pub simulated_secs: u64,
    pub wall_secs: f64,
    pub wall_secs_per_simulated_day: f64,
    pub build_secs: f64,
    pub peak_rss_mib: Option<f64>,
}

/// Peak resident set of this process, MiB (Linux `VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub use crate::scenario::scale_scenario;

/// `--scales` and `train hirl --scale`: an app-count factor, finite and above 0. Whether the scaled scenario is within
/// the simulator's bounds is checked once it is built ([`scale_scenario`]).
pub(crate) fn parse_app_scale(text: &str) -> Result<f64, String> {
    let factor: f64 = text.parse().map_err(|e| format!("{text:?} is not a number: {e}"))?;
    crate::scenario::check_scale_factor(factor).map_err(|e| e.to_string())?;
    Ok(factor)
}

/// Measures one size in this process.
pub fn measure(s: &Scenario, scale: f64, cfg: &BenchConfig) -> Result<BenchResult> {
    let scaled = scale_scenario(s, scale)?;
    let t0 = Instant::now();
    let mut sim = Simulation::new(&scaled, scaled.seed);
    let assets = super::assets_for(std::slice::from_ref(&cfg.policy), None);
    super::warn_agents_fallback(std::slice::from_ref(&cfg.policy), &assets);
    let mut pol = crate::agents::policies::build(&cfg.policy, &scaled, sim.layout(), scaled.seed, &assets)?;
    let build_secs = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    policy::run_until(&mut sim, pol.as_mut(), cfg.secs, |_| {});
    let wall_secs = t1.elapsed().as_secs_f64();
    let card = sim.scorecard(&cfg.policy);
    Ok(BenchResult {
        scale,
        apps: sim.layout().apps.len(),
        peak_pods: card.cluster.peak_pods,
        simulated_secs: cfg.secs,
        wall_secs,
        wall_secs_per_simulated_day: wall_secs * 86_400.0 / cfg.secs as f64,
        build_secs,
        peak_rss_mib: peak_rss_mib(),
    })
}

/// Runs each scale in a child process of this same binary.
pub fn run_in_children(scenario: &Path, scales: &[f64], cfg: &BenchConfig) -> Result<Vec<BenchResult>> {
    let exe = std::env::current_exe().context("cannot find this executable")?;
    let mut results = Vec::new();
    for &scale in scales {
        eprintln!("measuring ×{scale} …");
        let out = std::process::Command::new(&exe)
            .arg("bench")
            .arg("--child")
            .arg("--scenario")
            .arg(scenario)
            .arg("--policy")
            .arg(&cfg.policy)
            .arg("--scales")
            .arg(scale.to_string())
            .arg("--secs")
            .arg(cfg.secs.to_string())
            .output()
            .context("cannot start the benchmark child process")?;
        if !out.status.success() {
            bail!("benchmark at scale {scale} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let line = String::from_utf8_lossy(&out.stdout);
        results.push(serde_json::from_str(line.trim()).context("benchmark child printed no result")?);
    }
    Ok(results)
}

pub fn table(results: &[BenchResult]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>6} {:>7} {:>10} {:>12} {:>14} {:>10} {:>12}",
        "scale", "apps", "peak pods", "wall s", "s / sim day", "build s", "peak RSS MiB"
    );
    for r in results {
        let _ = writeln!(
            s,
            "{:>6} {:>7} {:>10} {:>12.2} {:>14.2} {:>10.2} {:>12}",
            r.scale,
            r.apps,
            r.peak_pods,
            r.wall_secs,
            r.wall_secs_per_simulated_day,
            r.build_secs,
            r.peak_rss_mib.map_or_else(|| "—".to_string(), |m| format!("{m:.0}"))
        );
    }
    s
}
