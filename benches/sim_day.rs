//! `cargo bench`: the simulator benchmark (same measurement as `hirl-scale bench`, in-process, full scale only).

fn main() -> anyhow::Result<()> {
    // As the product runs (see `hirl_scale::malloc_tuning`).
    hirl_scale::malloc_tuning::keep_freed_memory();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/reference-day.ron");
    let scenario = hirl_scale::scenario::load_file(&path)?;
    let cfg = hirl_scale::cli::BenchConfig { policy: "hpa".to_string(), secs: 86_400 };
    let r = hirl_scale::cli::bench_measure(&scenario, 1.0, &cfg)?;
    println!(
        "reference-day under hpa: {} apps, peak {} pods, {:.2} wall s per simulated day, peak RSS {:?} MiB",
        r.apps, r.peak_pods, r.wall_secs_per_simulated_day, r.peak_rss_mib
    );
    Ok(())
}
