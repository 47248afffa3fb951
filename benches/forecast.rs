//! `cargo bench --bench forecast`: one forecast of every domain of the reference cluster (features from 24 h of
//! minute history, the calendar's announced lifts, the network, conformal offsets), through the same live path the
//! simulation worker uses, single-threaded. Needs the shipped `models/forecaster.safetensors`.

use hirl_scale::agents::forecast::ForecastModel;
use hirl_scale::agents::forecast::eval::latency;

fn main() -> anyhow::Result<()> {
    // As the product runs (see `hirl_scale::malloc_tuning`).
    hirl_scale::malloc_tuning::keep_freed_memory();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = hirl_scale::scenario::load_file(&root.join("scenarios/reference-day.ron"))?;
    let model = ForecastModel::load(&root.join(hirl_scale::agents::forecast::DEFAULT_MODEL_PATH))?;
    let iterations: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let stats = latency(&model, &scenario, iterations);
    println!(
        "one forecast of all {} domains, {iterations} times: median {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        scenario.domains.len(),
        stats.median_us,
        stats.p99_us,
        stats.max_us
    );
    Ok(())
}
