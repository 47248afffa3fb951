//! `cargo bench --bench hirl_decision`: HiRL decision latency at full scale — one Commander decision plus the five
//! Soldier decisions of the same tick (observations, networks, executor), measured as the policy's `decide` at every
//! minute boundary of two simulated hours of `reference-day.ron`, on the shipped agents (the teacher rule if the
//! agents file is missing), with decision records kept (as the window runs it: the critic runs too). Then a full
//! simulated day under `hirl`, headless (no records, as `hirl-scale run` and `eval` run it) and with records.

use std::time::Instant;

use hirl_scale::agents::policies::{self, PolicyAssets};
use hirl_scale::sim::{Actions, Simulation};

fn main() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let s = hirl_scale::scenario::load_file(&root.join("scenarios/reference-day.ron"))?;
    let assets = PolicyAssets::shipped(root);
    let name = if assets.agents.is_ok() { "hirl" } else { "hirl-teacher" };
    let mut sim = Simulation::new(&s, s.seed);
    let mut policy = policies::build(name, &s, sim.layout(), s.seed, &assets)?;
    let mut actions = Actions::default();
    let mut minute_us = Vec::new();
    while sim.now_secs() < 7_200 {
        actions.clear();
        let t0 = Instant::now();
        policy.decide(&sim.observe(), &mut actions);
        if sim.now_secs().is_multiple_of(60) {
            minute_us.push(t0.elapsed().as_secs_f64() * 1e6);
        }
        sim.apply(&actions);
        sim.step();
    }
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
    for keep_decision_records in [false, true] {
        let assets = PolicyAssets { keep_decision_records, ..PolicyAssets::shipped(root) };
        let mut day = Simulation::new(&s, s.seed);
        let mut policy = policies::build(name, &s, day.layout(), s.seed, &assets)?;
        let t0 = Instant::now();
        hirl_scale::policy::run_until(&mut day, policy.as_mut(), 86_400, |_| {});
        let how = if keep_decision_records { "with decision records (the window)" } else { "headless (the CLI)" };
        println!("{name}: one full-scale simulated day, {how}, in {:.2} s", t0.elapsed().as_secs_f64());
    }
    Ok(())
}
