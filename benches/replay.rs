//! `cargo bench --bench replay`: what a recorded full-scale day costs and how fast one can move through it.
//!
//! A session of `reference-day.ron` under `hirl` (the shipped agents; the teacher rule when they are missing), with
//! the window's default snapshots (every 10 simulated minutes), is played to the end of the day while a window store
//! takes every frame, as the window would. Memory is the live heap of the session and the store together, counted by
//! a global allocator; the breakdown separates the store (points, events, forecasts, decision records, ground truth)
//! from the session (the runs and their 144 snapshots). Then 60 seeks to seeded random ticks, each timed from the
//! command to the store holding the new state.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use hirl_scale::agents::policies::PolicyAssets;
use hirl_scale::app::store::Store;
use hirl_scale::runner::{Frame, Session, SessionConfig, Speed};

struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout as given to us.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_mb() -> f64 {
    LIVE_BYTES.load(Ordering::Relaxed) as f64 / 1e6
}

fn deliver(session: &mut Session, store: &mut Store, generation: u64) {
    let frame = Frame {
        now_secs: session.now_secs(),
        duration_secs: session.duration_secs(),
        playing: false,
        speed: Speed::Max,
        generation,
        recorded_until_secs: session.recorded_until_secs(),
        origin: "reference-day.ron".into(),
        warm_reserve: None,
        warm_reserve_for: Vec::new(),
        size_floor: session.size_floor().clone(),
        scenario: Arc::clone(session.scenario()),
        injections: session.injections().to_vec(),
        policies: session.policies(),
        runs: session.take_frames(),
    };
    store.apply(frame);
}

fn main() -> anyhow::Result<()> {
    // As the product runs (see `hirl_scale::malloc_tuning`).
    hirl_scale::malloc_tuning::keep_freed_memory();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let s = hirl_scale::scenario::load_file(&root.join("scenarios/reference-day.ron"))?;
    let assets = PolicyAssets::shipped(root);
    let name = if assets.agents.is_ok() { "hirl" } else { "hirl-teacher" };
    let base = live_mb();
    let scenario = Arc::new(s);
    let mut store = Store::new(Arc::clone(&scenario));
    let seed = scenario.seed;
    let mut session = Session::new(scenario, seed, &[name.to_string()], &assets, SessionConfig::default())
        .map_err(anyhow::Error::msg)?;
    let t0 = Instant::now();
    while !session.finished() {
        session.step();
        if session.now_secs().is_multiple_of(300) {
            deliver(&mut session, &mut store, 0);
        }
    }
    deliver(&mut session, &mut store, 0);
    let record_secs = t0.elapsed().as_secs_f64();
    let total = live_mb() - base;
    let r = &store.runs[0];
    println!(
        "{name}: recorded a full-scale day ({} apps) in {record_secs:.1} s: {} points, {} Commander and {} Soldier \
         records, {} snapshots",
        session.simulation(0).map_or(0, |s| s.layout().apps.len()),
        r.points.len(),
        r.commander.len(),
        r.soldiers.len(),
        session.snapshot_count()
    );
    // The store, part by part (each dropped in turn).
    let before_store = live_mb();
    let mut parts = Vec::new();
    {
        let r = &mut store.runs[0].past;
        let mut measure = |what: &str, drop_part: &mut dyn FnMut()| {
            let before = live_mb();
            drop_part();
            parts.push(format!("{what} {:.0} MB", before - live_mb()));
        };
        measure("Soldier records", &mut || drop(std::mem::take(&mut r.soldiers)));
        measure("Commander records", &mut || drop(std::mem::take(&mut r.commander)));
        measure("points", &mut || drop(std::mem::take(&mut r.points)));
        measure("ground truth", &mut || drop(std::mem::take(&mut r.truth)));
        measure("forecasts", &mut || drop(std::mem::take(&mut r.forecasts)));
    }
    let store_copy_free = {
        drop(std::mem::replace(&mut store, Store::new(Arc::clone(session.scenario()))));
        before_store - live_mb()
    };
    println!("window store: {}", parts.join(", "));
    println!(
        "memory of the recorded day: {total:.0} MB in all (target ≤ 200 MB) — window store {store_copy_free:.0} MB, \
         session with snapshots {:.0} MB",
        total - store_copy_free
    );

    // Refill the store, then seek.
    let mut store = Store::new(Arc::clone(session.scenario()));
    session.seek(0);
    deliver(&mut session, &mut store, 1);
    let mut rng = hirl_scale::sim::rng::SimRng::new(17, 1);
    let mut times_ms = Vec::new();
    for _ in 0..60 {
        let t = u64::from(rng.range_u32(0, 86_400 / 5)) * 5;
        let t0 = Instant::now();
        session.seek(t);
        deliver(&mut session, &mut store, 1);
        times_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        assert_eq!(store.now_secs, t);
    }
    times_ms.sort_by(f64::total_cmp);
    let q = |p: f64| times_ms[((times_ms.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "seek to a random tick ({} seeks): median {:.0} ms, p99 {:.0} ms, max {:.0} ms (target ≤ 1,000 ms)",
        times_ms.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
    Ok(())
}
