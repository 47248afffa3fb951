//! `cargo bench --bench frame_time -- [FRAMES] [side-by-side] [hirl] [scrolled] [harness]`: how long the UI thread takes to build
//! one frame of the full reference cluster while the worker simulates at 600×, and how long it ever spent taking
//! updates from the worker.
//!
//! By default a frame is built as eframe builds it, short of the GPU: `Context::run_ui` lays the window out and
//! `Context::tessellate` turns its shapes into meshes; the two are timed apart. One frame every ~16 ms, for FRAMES
//! frames (900 by default); the worker runs on its own thread meanwhile. `side-by-side` builds the side-by-side
//! window instead (HPA against the tuned heuristic: twice the plots, on one value scale per panel). `hirl` runs the
//! shipped agents instead of HPA (side by side: HPA against them), with their decision records, as `gui --policy
//! hirl` does: the timeline bar then marks every Commander decision, and the inspector has records to show.
//!
//! `scrolled` scrolls the panels to their foot first (the event timeline and, with `hirl`, the decision inspector in
//! view, the plots above): by default the bench measures the window as it opens, at the top.
//!
//! `harness` builds frames through egui_kittest, as this bench did until 2026-12-06: layout, plus the AccessKit
//! tree kittest keeps up for its queries, and no tessellation. eframe builds that tree only while an assistive
//! technology asks for it, so those figures are the window's cost with a screen reader attached, not without one.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use hirl_scale::app::HirlApp;
use hirl_scale::runner::{Command, Speed, WorkerConfig};

/// The window's size in points (the size `gui` opens at).
const WINDOW_PTS: [f32; 2] = [1500.0, 950.0];

/// Where the bench scrolls from: the panels' left margin, clear of the plots (which would take the wheel to zoom).
const WHEEL_AT: egui::Pos2 = egui::pos2(8.0, WINDOW_PTS[1] / 2.0);

/// A hundred pages down: to the foot, over a few animated frames.
fn wheel_down() -> egui::Event {
    egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Page,
        delta: egui::vec2(0.0, -100.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Unknown,
        modifiers: egui::Modifiers::NONE,
    }
}

/// How one frame is built.
trait FrameBuilder {
    /// Builds one frame; returns the time spent laying it out and tessellating it (zero where it is not).
    fn frame(&mut self) -> (Duration, Duration);
    fn app(&mut self) -> &mut HirlApp;
    /// Scrolls the panels to their foot with the next frame's input (the decision inspector, where a run has one).
    fn scroll_down(&mut self);
    /// Whether the next frame paints a text containing `wanted` (unchecked through the harness).
    fn shows_text(&mut self, _wanted: &str) -> Option<bool> {
        None
    }
}

/// As eframe does, without the GPU: a plain context, layout then tessellation.
struct Plain {
    ctx: egui::Context,
    app: HirlApp,
    started: Instant,
    /// Input for the next frame only.
    events: Vec<egui::Event>,
}

impl Plain {
    /// The next frame's input: the window's size, the time, and the events queued for it.
    fn input(&mut self) -> egui::RawInput {
        egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, WINDOW_PTS.into())),
            time: Some(self.started.elapsed().as_secs_f64()),
            predicted_dt: 1.0 / 60.0,
            events: std::mem::take(&mut self.events),
            ..Default::default()
        }
    }
}

impl FrameBuilder for Plain {
    fn frame(&mut self) -> (Duration, Duration) {
        let input = self.input();
        let app = &mut self.app;
        let t = Instant::now();
        let output = self.ctx.run_ui(input, |ui| app.ui_root(ui));
        let layout = t.elapsed();
        let t = Instant::now();
        let meshes = self.ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(meshes);
        (layout, t.elapsed())
    }

    fn scroll_down(&mut self) {
        self.events.push(egui::Event::PointerMoved(WHEEL_AT));
        self.events.push(wheel_down());
    }

    fn shows_text(&mut self, wanted: &str) -> Option<bool> {
        let input = self.input();
        let app = &mut self.app;
        let output = self.ctx.run_ui(input, |ui| app.ui_root(ui));
        Some(output.shapes.iter().any(|clipped| match &clipped.shape {
            egui::Shape::Text(text) => text.galley.text().contains(wanted),
            _ => false,
        }))
    }

    fn app(&mut self) -> &mut HirlApp {
        &mut self.app
    }
}

/// Through egui_kittest: layout and its AccessKit tree, timed together.
struct Kittest(Harness<'static, HirlApp>);

impl FrameBuilder for Kittest {
    fn frame(&mut self) -> (Duration, Duration) {
        let t = Instant::now();
        self.0.step();
        (t.elapsed(), Duration::ZERO)
    }

    fn app(&mut self) -> &mut HirlApp {
        self.0.state_mut()
    }

    fn scroll_down(&mut self) {
        self.0.hover_at(WHEEL_AT);
        self.0.event(wheel_down());
    }
}

fn main() -> anyhow::Result<()> {
    // As the product runs (see `hirl_scale::malloc_tuning`).
    hirl_scale::malloc_tuning::keep_freed_memory();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/reference-day.ron");
    let scenario = hirl_scale::scenario::load_file(&path)?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let frames: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(900);
    let side_by_side = args.iter().any(|a| a == "side-by-side");
    let through_harness = args.iter().any(|a| a == "harness");
    let hirl = args.iter().any(|a| a == "hirl");
    let scrolled = args.iter().any(|a| a == "scrolled");
    let mut cfg = WorkerConfig::new(scenario, "reference-day.ron", if hirl { "hirl" } else { "hpa" });
    if hirl {
        let assets =
            hirl_scale::agents::policies::PolicyAssets::shipped(std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
        let agents = assets.agents.map_err(|why| anyhow::anyhow!("the shipped agents: {why}"))?;
        cfg.forecaster = assets.forecaster;
        cfg.agents = Ok(agents);
    }
    cfg.speed = Speed::X600;
    let app = HirlApp::new(cfg, || {})?;
    let mut builder: Box<dyn FrameBuilder> = if through_harness {
        let ui = |ui: &mut egui::Ui, app: &mut HirlApp| app.ui_root(ui);
        Box::new(Kittest(Harness::builder().with_size(WINDOW_PTS).build_ui_state(ui, app)))
    } else {
        Box::new(Plain { ctx: egui::Context::default(), app, started: Instant::now(), events: Vec::new() })
    };
    builder.frame();
    if side_by_side {
        // HPA on the left, and on the right HiRL, or the tuned heuristic.
        let other = if hirl { "hirl" } else { "heuristic" };
        builder.app().send(Command::SideBySide(Some(other.to_string())));
        for _ in 0..500 {
            if builder.app().store.runs.len() == 2 {
                break;
            }
            builder.frame();
            std::thread::sleep(Duration::from_millis(10));
        }
        anyhow::ensure!(builder.app().store.runs.len() == 2, "side by side did not start");
    }
    if scrolled {
        // Scrolling is animated: a few frames to reach the foot.
        for _ in 0..60 {
            builder.scroll_down();
            builder.frame();
            std::thread::sleep(Duration::from_millis(16));
        }
        let inspector_shown = builder.shows_text("Decision inspector");
        anyhow::ensure!(!hirl || inspector_shown != Some(false), "the panels did not scroll to the inspector");
        anyhow::ensure!(
            builder.shows_text("Domain budgets and reserve") != Some(true),
            "the panels did not scroll down"
        );
    }
    builder.app().send(Command::Play);
    let mut times = Vec::with_capacity(frames);
    // Each frame's time less what it spent applying the worker's updates.
    let mut without_drain = Vec::with_capacity(frames);
    let (mut layout_total, mut tessellation_total) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..frames {
        let t = Instant::now();
        let (layout, tessellation) = builder.frame();
        let took = t.elapsed();
        times.push(took);
        without_drain.push(took.saturating_sub(builder.app().last_drain));
        layout_total += layout;
        tessellation_total += tessellation;
        std::thread::sleep(Duration::from_millis(16).saturating_sub(t.elapsed()));
    }
    times.sort();
    without_drain.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = times.iter().map(|d| ms(*d)).sum::<f64>() / times.len() as f64;
    let at = |sorted: &[Duration], q: f64| ms(sorted[((sorted.len() - 1) as f64 * q) as usize]);
    let p = |q: f64| at(&times, q);
    let parts = if through_harness {
        "layout and kittest's AccessKit tree".to_string()
    } else {
        format!(
            "layout {:.2} ms + tessellation {:.2} ms on average",
            ms(layout_total) / frames as f64,
            ms(tessellation_total) / frames as f64
        )
    };
    let app = builder.app();
    println!(
        "frame build at full scale{}{}{}, worker at 600×: {} frames over {} simulated s; mean {:.2} ms ({parts}), p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms; longest update drain {:.3} ms; without the drains p95 {:.2} ms, max {:.2} ms",
        if side_by_side { ", side by side" } else { "" },
        if hirl { ", hirl" } else { "" },
        if scrolled { ", scrolled to the foot" } else { "" },
        times.len(),
        app.store.now_secs,
        mean,
        p(0.5),
        p(0.95),
        p(1.0),
        app.longest_drain.as_secs_f64() * 1000.0,
        at(&without_drain, 0.95),
        at(&without_drain, 1.0),
    );
    Ok(())
}
