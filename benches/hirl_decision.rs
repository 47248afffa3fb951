//! `cargo bench --bench hirl_decision`: HiRL decision latency at full scale — one Commander decision plus the five
//! Soldier decisions of the same tick (observations, networks, executor), measured as the policy's `decide` at every
//! minute boundary of a full simulated day of `reference-day.ron` (1,440 decisions, so p99 is the 15th slowest and
//! one scheduling hiccup of a shared machine does not decide it; two simulated hours gave 120, where it did), on the
//! shipped agents (the teacher rule if the agents file is missing), with decision records kept (as the window runs
//! it: the critic runs too). That day's wall time is the "with records" figure; then a full simulated day under
//! `hirl` headless (no records, as `hirl-scale run` and `eval` run it).

use std::time::Instant;

use hirl_scale::agents::policies::{self, PolicyAssets};
use hirl_scale::sim::{Actions, Simulation};

const DAY_SECS: u64 = 86_400;

fn main() -> anyhow::Result<()> {
    // As the product runs (see `hirl_scale::malloc_tuning`).
    hirl_scale::malloc_tuning::keep_freed_memory();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let s = hirl_scale::scenario::load_file(&root.join("scenarios/reference-day.ron"))?;
    let assets = PolicyAssets { keep_decision_records: true, ..PolicyAssets::shipped(root) };
    let name = if assets.agents.is_ok() { "hirl" } else { "hirl-teacher" };
    let mut sim = Simulation::new(&s, s.seed);
    let mut policy = policies::build(name, &s, sim.layout(), s.seed, &assets)?;
    let mut actions = Actions::default();
    let mut minute_us = Vec::new();
    let day = Instant::now();
    while sim.now_secs() < DAY_SECS {
        actions.clear();
        let t0 = Instant::now();
        policy.decide(&sim.observe(), &mut actions);
        if sim.now_secs().is_multiple_of(60) {
            minute_us.push(t0.elapsed().as_secs_f64() * 1e6);
        }
        sim.apply(&actions);
        sim.step();
    }
    let with_records_secs = day.elapsed().as_secs_f64();
    minute_us.sort_by(f64::total_cmp);
    let q = |p: f64| minute_us[((minute_us.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{name}: Commander + 5 Soldiers at full scale ({} apps), {} decisions: median {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        sim.layout().apps.len(),
        minute_us.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
    let assets = PolicyAssets { keep_decision_records: false, ..PolicyAssets::shipped(root) };
    let mut headless = Simulation::new(&s, s.seed);
    let mut policy = policies::build(name, &s, headless.layout(), s.seed, &assets)?;
    let t0 = Instant::now();
    hirl_scale::policy::run_until(&mut headless, policy.as_mut(), DAY_SECS, |_| {});
    println!("{name}: one full-scale simulated day, headless (the CLI), in {:.2} s", t0.elapsed().as_secs_f64());
    println!("{name}: one full-scale simulated day, with decision records (the window), in {with_records_secs:.2} s");
    Ok(())
}
