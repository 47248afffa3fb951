//! The shipped forecaster, as the simulation uses it, and its command line.

use std::sync::Arc;

use hirl_scale::agents::forecast::{DEFAULT_MODEL_PATH, Forecast, ForecastModel, ForecasterModel, LiveForecaster};
use hirl_scale::policy;
use hirl_scale::scenario::{EventSpec, Scenario};
use hirl_scale::sim::{DomainId, Simulation};

use crate::common::{failed, hirl, load, root, scenario_path, succeeded, temp_path};

fn shipped_model() -> ForecasterModel {
    match ForecastModel::load(&root().join(DEFAULT_MODEL_PATH)) {
        Ok(m) => ForecasterModel::Learned(Arc::new(m)),
        Err(e) => panic!("the shipped forecaster does not load: {e}"),
    }
}

/// Runs `s` under HPA, feeding the forecaster what telemetry shows, and returns the forecasts made at `at_secs`.
fn forecasts_at(s: &Scenario, model: &ForecasterModel, at_secs: &[u64]) -> Vec<Vec<Forecast>> {
    let mut sim = Simulation::new(s, s.seed);
    let mut hpa = policy::baseline("hpa", sim.layout()).expect("hpa");
    let mut live = LiveForecaster::new(s, sim.layout(), s.seed, model.clone());
    let n = sim.layout().domains.len();
    let mut out = Vec::new();
    let end = at_secs.iter().copied().max().unwrap_or(0);
    while sim.now_secs() < end {
        let next = sim.now_secs() + 5;
        policy::run_until(&mut sim, hpa.as_mut(), next, |_| {});
        let obs = sim.observe();
        live.observe(sim.now_secs(), (0..n).map(|d| obs.domain(DomainId(d as u8)).rps));
        if at_secs.contains(&sim.now_secs()) {
            out.push(live.forecast(sim.now_secs()));
        }
    }
    out
}

fn quantiles(f: &Forecast, horizon_secs: u64) -> [f32; 4] {
    f.horizons.iter().find(|(h, _)| *h == horizon_secs).map(|(_, q)| *q).expect("horizon present")
}

fn with_sale(announced: bool) -> Scenario {
    let mut s = load("small");
    s.duration_secs = 4 * 3600;
    s.events = vec![EventSpec::FlashSale {
        domain: "merchant".into(),
        announced_start_secs: announced.then_some(7200),
        announced_at_secs: None,
        start_secs: 7200,
        ramp_secs: 120,
        multiplier: 2.5,
        duration_secs: 3600,
    }];
    s
}

#[test]
fn an_announced_promotion_is_seen_coming_an_unannounced_one_is_not_and_the_band_widens_after_it() {
    let model = shipped_model();
    let merchant = 2;
    assert_eq!(load("small").domains[merchant].id, "merchant");
    // 20 minutes before the sale, the 30-minute forecast is for 10 minutes into it.
    let times = [4800, 6000, 7200 + 300];
    let announced = forecasts_at(&with_sale(true), &model, &times);
    let unannounced = forecasts_at(&with_sale(false), &model, &times);
    let ahead_announced = quantiles(&announced[1][merchant], 1800)[1];
    let ahead_unannounced = quantiles(&unannounced[1][merchant], 1800)[1];
    assert!(
        ahead_announced > 1.6 * ahead_unannounced,
        "the announced ×2.5 sale is in the 30-min p50: {ahead_announced:.0} vs {ahead_unannounced:.0} req/s"
    );
    // Unannounced: the forecast before it is about flat.
    let now_rps = quantiles(&unannounced[0][merchant], 300)[1];
    assert!(ahead_unannounced < 1.25 * now_rps, "no sale foreseen: {ahead_unannounced:.0} vs {now_rps:.0} req/s");
    // Five minutes into the unannounced sale the 15-min band (p90/p10) is wider than before it.
    let width = |f: &Forecast| {
        let q = quantiles(f, 900);
        q[3] / q[0]
    };
    let (before, after) = (width(&unannounced[0][merchant]), width(&unannounced[2][merchant]));
    assert!(after > before, "band p90/p10 widens after the sale starts: {before:.3} → {after:.3}");
}

#[test]
fn the_learned_forecaster_is_causal_on_a_real_run() {
    // Forecasts made at or before 60 min are the same whether or not a spike comes at 61 min.
    let model = shipped_model();
    let mut quiet = load("small");
    quiet.duration_secs = 2 * 3600;
    quiet.events.clear();
    let mut spiky = quiet.clone();
    spiky.events.push(EventSpec::Spike {
        domain: "payment".into(),
        start_secs: 3660,
        ramp_secs: 30,
        multiplier: 3.0,
        duration_secs: 1200,
    });
    let times: Vec<u64> = (1..=80).map(|m| m * 60).collect();
    let (a, b) = (forecasts_at(&quiet, &model, &times), forecasts_at(&spiky, &model, &times));
    assert_eq!(a[..60], b[..60], "forecasts up to the spike");
    assert_ne!(a[60..], b[60..], "forecasts after it see it");
}

#[test]
fn train_then_eval_from_the_command_line_and_a_missing_model_is_a_clear_error() {
    let dir = temp_path("forecaster-cli");
    let out_path = dir.join("f.safetensors");
    let out = hirl()
        .args(["train", "forecaster", "--months", "1", "--days", "2", "--epochs", "1", "--eval-months", "1"])
        .arg("--scenario")
        .arg(scenario_path("small"))
        .arg("--out")
        .arg(&out_path)
        .output()
        .expect("runs");
    let text = succeeded(&out);
    assert!(text.contains("pinball 15 min") && text.contains("MAPE p50 15 min, steady"), "{text}");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("f.json")).expect("metadata written")).expect("json");
    assert_eq!(meta["schema"], "hirl-scale-forecaster/1");
    assert!(meta["training"]["command"].as_str().is_some_and(|c| c.starts_with("hirl-scale train forecaster")));
    assert!(meta["metrics"]["horizons"].is_array());
    assert!(dir.join("f.checkpoint.safetensors").exists(), "a checkpoint was written");

    let json = dir.join("metrics.json");
    let out = hirl()
        .args(["eval", "forecaster", "--months", "1", "--days", "2", "--model"])
        .arg(&out_path)
        .arg("--scenario")
        .arg(scenario_path("small"))
        .arg("--json")
        .arg(&json)
        .output()
        .expect("runs");
    succeeded(&out);
    let metrics: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("json");
    assert_eq!(metrics["coverage_by_domain"].as_array().map(Vec::len), Some(5));

    std::fs::write(&out_path, b"garbage").expect("write");
    let out = hirl().args(["eval", "forecaster", "--model"]).arg(&out_path).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("f.safetensors: not a valid safetensors file"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `train forecaster` with the small run's options, `extra` replacing one of them, writing to `out`: its output.
fn small_training(out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut options = vec![
        ["--months", "1"],
        ["--calibration-months", "1"],
        ["--days", "1"],
        ["--epochs", "1"],
        ["--eval-months", "0"],
        ["--hidden", ""],
    ];
    if let [flag, value] = extra {
        options.retain(|[f, _]| f != flag);
        options.push([flag, value]);
    }
    hirl()
        .args(["train", "forecaster"])
        .args(options.concat())
        .arg("--scenario")
        .arg(scenario_path("small"))
        .arg("--out")
        .arg(out)
        .output()
        .expect("runs")
}

#[test]
fn unusable_outputs_and_counts_out_of_range_are_refused_before_any_training() {
    let dir = temp_path("forecaster-refusals");
    std::fs::create_dir_all(dir.join("isdir.safetensors")).expect("temp dir");
    let started = std::time::Instant::now();
    // Weights and metadata on one path; an output that is a directory; a directory that is a file.
    std::fs::write(dir.join("file"), "").expect("write");
    for (out, message) in [
        (dir.join("f.json"), "cannot be a .json file"),
        (dir.join("isdir.safetensors"), "is a directory"),
        (dir.join("file").join("f.safetensors"), "is not a directory"),
    ] {
        let stderr = failed(&small_training(&out, &[]));
        assert!(stderr.contains("--out") && stderr.contains(message), "{}: {stderr}", out.display());
        assert!(!stderr.contains("trained in"), "{stderr}");
    }
    // Counts that panicked, aborted on an allocation, or ran to a meaningless result: refused by the parser.
    let out = dir.join("f.safetensors");
    let huge = u64::MAX.to_string();
    for (flag, value) in [
        ("--months", huge.as_str()),
        ("--months", "0"),
        ("--eval-months", huge.as_str()),
        ("--days", "1000000000000"),
        ("--days", "0"),
        ("--epochs", "0"),
        ("--calibration-months", "0"),
    ] {
        let result = small_training(&out, &[flag, value]);
        assert_eq!(result.status.code(), Some(2), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(stderr.contains(flag) && stderr.contains("not in"), "{flag} {value}: {stderr}");
    }
    for (flag, value) in [("--months", huge.as_str()), ("--months", "0"), ("--days", "0")] {
        let result = hirl().args(["eval", "forecaster", flag, value]).output().expect("runs");
        assert_eq!(result.status.code(), Some(2), "eval {flag} {value}");
    }
    // An empty entry among the widths is a typo (it was skipped, so `128,,128` trained two layers, not three).
    for widths in ["128,,128", ",16", "16,0", "wide"] {
        let stderr = failed(&small_training(&out, &["--hidden", widths]));
        assert!(stderr.contains("--hidden: widths must be whole numbers"), "{widths}: {stderr}");
    }
    let mut left: Vec<String> =
        std::fs::read_dir(&dir).expect("dir").map(|e| e.expect("entry").file_name().to_string_lossy().into()).collect();
    left.sort();
    assert_eq!(left, ["file", "isdir.safetensors"], "nothing written, no temporary left");
    assert!(started.elapsed().as_secs() < 60, "refused without simulating months");
    let _ = std::fs::remove_dir_all(&dir);
}
