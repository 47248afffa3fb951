//! `cargo bench --bench frame_time`: how long the UI thread takes to build one frame of the full reference cluster
//! while the worker simulates at 600×, and how long it ever spent taking updates from the worker.
//!
//! Frames are built headless with egui_kittest (layout and tessellation, no GPU), one every ~16 ms, for a number of
//! frames; the worker runs on its own thread meanwhile. `cargo bench --bench frame_time -- 900 side-by-side` builds
//! the side-by-side window instead (HPA against the tuned heuristic: twice the plots, on one value scale per panel).

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use hirl_scale::app::HirlApp;
use hirl_scale::runner::{Command, Speed, WorkerConfig};

fn main() -> anyhow::Result<()> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/reference-day.ron");
    let scenario = hirl_scale::scenario::load_file(&path)?;
    let frames: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(900);
    let mut cfg = WorkerConfig::new(scenario, "reference-day.ron", "hpa");
    cfg.speed = Speed::X600;
    let app = HirlApp::new(cfg, || {})?;
    let mut harness =
        Harness::builder().with_size([1500.0, 950.0]).build_ui_state(|ui, app: &mut HirlApp| app.ui_root(ui), app);
    harness.step();
    let side_by_side = std::env::args().nth(2).is_some_and(|a| a == "side-by-side");
    if side_by_side {
        harness.state_mut().send(Command::SideBySide(Some("heuristic".to_string())));
        for _ in 0..500 {
            if harness.state().store.runs.len() == 2 {
                break;
            }
            harness.step();
            std::thread::sleep(Duration::from_millis(10));
        }
        anyhow::ensure!(harness.state().store.runs.len() == 2, "side by side did not start");
    }
    harness.state_mut().send(Command::Play);
    let mut times = Vec::with_capacity(frames);
    for _ in 0..frames {
        let t = Instant::now();
        harness.step();
        times.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(16).saturating_sub(t.elapsed()));
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = times.iter().map(|d| ms(*d)).sum::<f64>() / times.len() as f64;
    let p = |q: f64| ms(times[((times.len() - 1) as f64 * q) as usize]);
    let app = harness.state();
    println!(
        "frame build at full scale{}, worker at 600×: {} frames over {} simulated s; mean {:.2} ms, p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms; longest update drain {:.3} ms",
        if side_by_side { ", side by side" } else { "" },
        times.len(),
        app.store.now_secs,
        mean,
        p(0.5),
        p(0.95),
        p(1.0),
        ms(app.longest_drain)
    );
    Ok(())
}
