//! The command line, as a user runs it.

use crate::common::{failed, hirl, root, scenario_path, scratch_dir, succeeded, temp_path};

#[test]
fn run_prints_a_table_and_writes_the_documented_json() {
    let json = temp_path("run.json");
    let out = hirl()
        .args(["run", "--policy", "hpa", "--seed", "5", "--json"])
        .arg(&json)
        .arg(scenario_path("small"))
        .output()
        .expect("runs");
    let table = succeeded(&out);
    assert!(table.contains("payment") && table.contains("breach"), "{table}");
    assert!(!table.contains("safety:"), "only HiRL has a safety layer: {table}");
    assert!(!table.contains("seating:"), "nor seating rules: {table}");
    assert!(table.contains("events: 1\n  Tue 13:30  spike payment ×2; ramps up in"), "the scenario's spike: {table}");
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("json");
    let _ = std::fs::remove_file(&json);
    assert_eq!(card["format"], "hirl-scale-scorecard/1");
    assert_eq!(card["seed"], 5);
    assert_eq!(card["policy"], "hpa");
    for field in [
        "slo_breach_minutes",
        "cascade_events",
        "priority_inversion_minutes",
        "pending_pod_minutes",
        "peak_provisioner_queue_nodes",
        "node_churn_nodes",
        "max_time_to_scale_out_secs",
        "scaling_actions_per_app_hour",
        "cost_dollars",
        "node_hours",
        "over_provisioning_ratio",
    ] {
        assert!(card["cluster"].get(field).is_some(), "cluster.{field} missing");
    }
    assert_eq!(card["domains"].as_array().map(Vec::len), Some(5));
    assert!(card["domains"][0].get("slo_breach_minutes").is_some());
    // What held the breach minutes: in the JSON by cause, adding up, and in the table for each domain that breached.
    let causes = cause_fields();
    let mut breached = 0;
    for d in card["domains"].as_array().expect("domains") {
        let by_cause = &d["slo_breach_minutes_by_cause"];
        let sum: f64 = causes.iter().map(|k| by_cause[k.as_str()].as_f64().unwrap_or(f64::NAN)).sum();
        let minutes = d["slo_breach_minutes"].as_f64().unwrap_or(f64::NAN);
        assert!((sum - minutes).abs() < 1e-6, "{d}");
        if minutes > 0.0 {
            breached += 1;
            let id = d["domain"].as_str().unwrap_or("?");
            assert!(table.lines().any(|l| l.starts_with(&format!("  {id} ")) && l.contains(" min: ")), "{id}: {table}");
        }
    }
    assert!(breached > 0, "small.ron's spike breaches some domain under HPA: {table}");
    assert!(table.contains("what held the breach minutes"), "{table}");
}

#[test]
fn compare_shows_policies_side_by_side() {
    let out =
        hirl().args(["compare", "--policies", "hpa,threshold,pid"]).arg(scenario_path("small")).output().expect("runs");
    let text = succeeded(&out);
    for p in ["hpa", "threshold", "pid", "Δ", "cost $"] {
        assert!(text.contains(p), "missing {p}: {text}");
    }
}

#[test]
fn invalid_scenario_exits_nonzero_with_locations() {
    let bad = temp_path("bad.ron");
    let text = std::fs::read_to_string(scenario_path("small")).expect("read");
    std::fs::write(&bad, text.replacen("maxReplicas: 3000", "maxReplicas: 1", 1)).expect("write");
    for args in [vec!["validate"], vec!["run", "--policy", "hpa"]] {
        let out = hirl().args(&args).arg(&bad).output().expect("runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(".ron:21:"), "{err}");
        assert!(err.contains("maxReplicas"), "{err}");
    }
    let _ = std::fs::remove_file(&bad);
}

#[test]
fn unknown_policy_and_missing_file_fail_cleanly() {
    let out = hirl().args(["run", "--policy", "magic"]).arg(scenario_path("small")).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown policy \"magic\""));
    // Each missing file is named once, with its cause once (the cause is in the message, not repeated as a source).
    for args in [
        &["validate", "/nonexistent.ron"][..],
        &["replay", "/nonexistent.rec.ron"],
        &["bench", "--scenario", "/nonexistent.ron"],
    ] {
        let out = hirl().args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cannot read scenario file") || stderr.contains("cannot read recording"), "{stderr}");
        assert_eq!(stderr.matches("nonexistent").count(), 1, "{args:?}: {stderr}");
        assert_eq!(stderr.matches("No such file").count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn validate_accepts_every_shipped_scenario() {
    for entry in std::fs::read_dir(root().join("scenarios")).expect("scenarios dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "ron") {
            let out = hirl().arg("validate").arg(&path).output().expect("runs");
            assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
            // The summary, then a line for each scripted event at its clock time.
            let said = String::from_utf8_lossy(&out.stdout);
            let s = hirl_scale::scenario::load_file(&path).expect("loads");
            assert_eq!(said.lines().count(), 1 + s.events.len(), "{said}");
            assert!(said.lines().skip(1).all(|l| l.starts_with("  Tue ") && l.contains("; lasts ")), "{said}");
        }
    }
}

#[test]
fn validate_says_how_far_a_run_of_weeks_ends_and_counts_in_the_singular() {
    // Four weeks from Tue 10:00 end at Tue 10:00: the weekday alone said the run was empty.
    let path = temp_path("four-weeks.ron");
    let text = std::fs::read_to_string(scenario_path("small")).expect("shipped");
    std::fs::write(&path, text.replacen("duration_secs: 21600", "duration_secs: 2419200", 1)).expect("write");
    let said = succeeded(&hirl().arg("validate").arg(&path).output().expect("runs"));
    let _ = std::fs::remove_file(&path);
    assert!(said.contains("(Tue 10:00 – Tue 10:00, 28 days on)") && said.contains(" 3 pools, 1 event, "), "{said}");
}

#[test]
fn help_lists_every_command() {
    let out = hirl().arg("--help").output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for c in ["gui", "run", "compare", "validate", "bench"] {
        assert!(text.contains(c), "{c} missing: {text}");
    }
}

#[test]
fn a_what_if_run_is_named_for_the_lifted_limit_and_traces_every_tick_on_request() {
    let (json, trace) = (temp_path("whatif.json"), temp_path("whatif.csv"));
    let out = hirl()
        .args(["run", "--policy", "hpa", "--what-if", "unbounded-provisioner", "--trace-interval-secs", "5", "--json"])
        .arg(&json)
        .arg("--trace")
        .arg(&trace)
        .arg(scenario_path("small"))
        .output()
        .expect("runs");
    succeeded(&out);
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("json");
    let csv = std::fs::read_to_string(&trace).expect("trace written");
    let _ = (std::fs::remove_file(&json), std::fs::remove_file(&trace));
    assert_eq!(card["scenario"], "small+unbounded-provisioner");
    assert_eq!(csv.lines().count(), 1 + 21_600 / 5, "a header and one row per 5 s tick of the 6 h run");
    // Traced every tick, each domain's rows that name what held a breach are its breach minutes.
    let header: Vec<&str> = csv.lines().next().unwrap_or_default().split(',').collect();
    for d in card["domains"].as_array().expect("domains") {
        let id = d["domain"].as_str().unwrap_or("?");
        let col = header.iter().position(|h| *h == format!("{id}_held_by")).expect("a held_by column per domain");
        let held: Vec<&str> = csv.lines().skip(1).filter_map(|l| l.split(',').nth(col)).collect();
        assert!(
            held.iter()
                .all(|h| ["", "not_scaled", "held_back", "waiting_for_room", "pods_starting", "callee"].contains(h))
        );
        let breached_minutes = held.iter().filter(|h| !h.is_empty()).count() as f64 * 5.0 / 60.0;
        let scored = d["slo_breach_minutes"].as_f64().unwrap_or(f64::NAN);
        assert!((breached_minutes - scored).abs() < 1e-6, "{id}: {breached_minutes} vs {scored}");
    }

    let out = hirl().args(["run", "--what-if", "faster-nodes"]).arg(scenario_path("small")).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-telemetry-lag, unbounded-provisioner"), "{err}");
    let out = hirl().args(["run", "--trace-interval-secs", "7"]).arg(scenario_path("small")).output().expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_hirl_run_says_how_long_each_domain_was_on_the_hpa_fallback() {
    let out = hirl().args(["run", "--policy", "hirl-teacher"]).arg(scenario_path("small")).output().expect("runs");
    let text = succeeded(&out);
    let line = text.lines().find(|l| l.starts_with("safety: ")).unwrap_or_else(|| panic!("no safety line: {text}"));
    assert!(
        line == "safety: no domain was handed to its HPAs" || line.contains(" min (once)") || line.contains(" times)"),
        "{line}"
    );
    // And how long its seating rules held each domain, which is where its "held back" breach minutes come from.
    let line = text.lines().find(|l| l.starts_with("seating: ")).unwrap_or_else(|| panic!("no seating line: {text}"));
    let (callees, survival) = line.split_once("; survival first staged ").unwrap_or_else(|| panic!("{line}"));
    assert!(callees.starts_with("seating: callees first held back "), "{line}");
    assert!(survival == "no domain" || survival.contains(" min ("), "{line}");
}

/// `eval --policies hpa,hirl-teacher` on `small.ron` with `seeds`: its printout and its JSON (`tag` keeps concurrent
/// tests' files apart: two tests asking for the same seeds would otherwise write, read and delete one file).
fn eval_small(seeds: &str, tag: &str) -> (String, serde_json::Value) {
    let json = temp_path(format!("eval-{tag}.json"));
    let out = hirl()
        .args(["eval", "--policies", "hpa,hirl-teacher", "--seeds", seeds, "--json"])
        .arg(&json)
        .arg("--scenarios")
        .arg(scenario_path("small"))
        .output()
        .expect("runs");
    let text = succeeded(&out);
    let eval = serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("json");
    let _ = std::fs::remove_file(&json);
    (text, eval)
}

#[test]
fn eval_reports_the_time_hirl_spent_on_the_hpa_fallback() {
    let (text, eval) = eval_small("1001", "fallback");
    let runs = eval["fallback"].as_array().expect("a fallback array");
    assert_eq!(runs.len(), 1, "only the HiRL run has a safety layer: {runs:?}");
    assert_eq!(runs[0]["policy"], "hirl-teacher");
    let domains = runs[0]["domains"].as_array().expect("domains");
    assert_eq!(domains.len(), 5);
    let p0_p1: f64 = domains
        .iter()
        .filter(|d| d["priority_rank"].as_u64().is_some_and(|r| r <= 1))
        .map(|d| d["minutes"].as_f64().unwrap_or(f64::NAN))
        .sum();
    let line = text.lines().find(|l| l.starts_with("hirl-teacher on the HPA fallback")).expect("a fallback line");
    assert!(line.contains(&format!("P0+P1 {p0_p1:.1}, all ")), "{line} vs {p0_p1}");
    assert!(!text.lines().any(|l| l.starts_with("hpa on the HPA fallback")), "{text}");
    assert!(!text.contains("per seed"), "one seed: its line would repeat the totals: {text}");
}

#[test]
fn eval_splits_cascades_by_link_and_length_and_breach_minutes_by_cause_and_all_add_up() {
    let (text, eval) = eval_small("1001", "cascade-splits");
    assert!(text.contains("cascades by how long they lasted"), "{text}");
    for (i, total) in eval["totals"].as_array().expect("totals").iter().enumerate() {
        let events = total["cascade_events"].as_u64().expect("cascade events");
        let by_link = &eval["cascades_by_link"][i];
        let by_length = &eval["cascades_by_length"][i];
        assert_eq!(by_link["policy"], total["policy"]);
        assert_eq!(by_length["policy"], total["policy"]);
        let sum = |row: &serde_json::Value, keys: &[&str]| -> u64 {
            keys.iter().map(|k| row[*k].as_u64().unwrap_or(999)).sum()
        };
        assert_eq!(sum(by_link, &["latency", "load", "pool"]), events, "{by_link}");
        assert_eq!(sum(by_length, &["one_tick", "up_to_1_min", "up_to_10_min", "longer"]), events, "{by_length}");
        assert!(by_length["total_secs"].as_u64().is_some(), "{by_length}");
        // The P0+P1 breach minutes by what held them add up to the P0+P1 breach minutes.
        let held = &total["p0_p1_breach_minutes_by_cause"];
        let sum: f64 = cause_fields().iter().map(|k| held[k.as_str()].as_f64().unwrap_or(f64::NAN)).sum();
        let p0_p1 = total["p0_p1_breach_minutes"].as_f64().unwrap_or(f64::NAN);
        assert!((sum - p0_p1).abs() < 1e-6, "{held} vs {p0_p1}");
    }
    assert!(text.contains("breach minutes by what held them"), "{text}");
}

/// `train hirl --scenarios SCENARIO`, which must be refused before it writes anything; its stderr.
fn refused_training(scenario: &std::path::Path, name: &str) -> String {
    let dir = temp_path(name);
    let out = hirl()
        .args(["train", "hirl", "--scenarios"])
        .arg(scenario)
        .arg("--out")
        .arg(dir.join("hirl.safetensors"))
        .output()
        .expect("runs");
    assert!(!dir.exists(), "nothing written");
    failed(&out)
}

#[test]
fn training_on_scenarios_its_stages_lack_is_refused_before_any_work() {
    let stderr = refused_training(&scenario_path("small"), "train-refused");
    assert!(stderr.contains("stage \"soldiers: steady and diurnal\" trains on \"reference-day\""), "{stderr}");
}

#[test]
fn train_hirl_refuses_a_scale_out_of_bounds_before_any_work_saying_why_once() {
    // It printed the validator's problems twice: "--scale: scenario … out of bounds: …: scenario … out of bounds: …".
    let dir = scratch_dir("train-scale");
    let out = hirl().args(["train", "hirl", "--scale", "1e9", "--out"]).arg(dir.join("hirl.safetensors")).output();
    let e = failed(&out.expect("runs"));
    assert!(e.starts_with("error: --scale: scenario \"reference-day\" scaled ×1000000000 is out of bounds: "), "{e}");
    assert_eq!(e.matches("is out of bounds").count(), 1, "{e}");
    assert_eq!(std::fs::read_dir(&dir).expect("the scratch directory").count(), 0, "nothing written");
}

#[test]
fn train_hirl_resume_without_a_checkpoint_names_the_missing_file_once() {
    // "--resume: …/h.checkpoint.safetensors: …/h.checkpoint.safetensors: no such file".
    let dir = scratch_dir("resume-missing");
    let out = hirl().args(["train", "hirl", "--resume", "--out"]).arg(dir.join("h.safetensors")).output();
    let e = failed(&out.expect("runs"));
    let checkpoint = dir.join("h.checkpoint.safetensors").display().to_string();
    assert_eq!(e.trim_end(), format!("error: --resume: {checkpoint}: no such file"));
}

/// `small.ron` without its Internal domain, written to a temporary file: a valid scenario of four domains.
fn four_domain_file(name: &str) -> std::path::PathBuf {
    let path = temp_path(name);
    hirl_scale::scenario::save_file(&crate::common::four_domains(), &path).expect("written");
    path
}

#[test]
fn hirl_on_a_scenario_of_four_domains_runs_as_hpa_under_its_fallback_name_and_says_why() {
    let path = four_domain_file("four-domains.ron");
    let run = |policies: &[&str]| {
        let (command, flag) = if policies.len() == 1 { ("run", "--policy") } else { ("compare", "--policies") };
        hirl().args([command, flag, &policies.join(",")]).arg(&path).output().expect("runs")
    };
    let out = run(&["hirl"]);
    let table = succeeded(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(table.starts_with("scenario: small   policy: hirl (HPA fallback)"), "{table}");
    assert!(!table.contains("safety:"), "no safety layer ran, so none is reported: {table}");
    assert_eq!(
        stderr.trim(),
        "scenario \"small\" has 4 domains; the HiRL agents are built for exactly 5 (one Soldier each); `hirl` is run \
         by HPA"
    );
    // The teacher too, and a comparison names both fallbacks; HPA's figures are theirs to the digit.
    let out = run(&["hpa", "hirl", "hirl-teacher"]);
    let table = succeeded(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("; `hirl` and `hirl-teacher` are run by HPA"), "{stderr}");
    let header = table.lines().find(|l| l.starts_with("metric")).expect("a header row");
    assert!(header.contains("hirl (HPA fallback)") && header.contains("hirl-teacher (HPA fallback)"), "{header}");
    let breach = table.lines().find(|l| l.starts_with("SLO breach minutes")).expect("a breach row");
    let figures: Vec<&str> = breach.split_whitespace().skip(3).collect();
    assert_eq!(figures.iter().filter(|f| **f == "=").count(), 2, "both fallbacks breach as HPA does: {breach}");
    // Training refuses it, naming the file, before writing anything.
    let stderr = refused_training(&path, "train-four-domains");
    let _ = std::fs::remove_file(&path);
    assert!(
        stderr.contains(&format!("{}: cannot train on it: scenario \"small\" has 4 domains", path.display())),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn a_headless_command_whose_reader_has_gone_ends_quietly_by_sigpipe_not_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    // `hirl-scale validate … | head -0`: the reading end is closed before the command writes a byte.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = hirl().arg("validate").arg(scenario_path("small")).stdout(writer).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}

#[cfg(unix)]
#[test]
fn a_command_with_files_to_write_writes_them_when_its_reader_has_gone() {
    // `hirl-scale run … --json F --trace T | head -0`: the command died by SIGPIPE at its first line, before the
    // files it was run for were written (minutes of runs lost, for `eval --json`).
    let dir = scratch_dir("reader-gone");
    let (json, trace) = (dir.join("card.json"), dir.join("trace.csv"));
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = hirl()
        .args(["run", "--json"])
        .arg(&json)
        .arg("--trace")
        .arg(&trace)
        .arg(scenario_path("small"))
        .stdout(writer)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !stderr.contains("panicked"), "{:?}: {stderr}", out.status);
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("the JSON")).expect("whole");
    assert_eq!(card["format"], "hirl-scale-scorecard/1");
    assert!(std::fs::read_to_string(&trace).expect("the trace").lines().count() > 1, "the trace has rows");
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_behind_stdout_is_an_error_after_the_files_are_written_not_a_panic() {
    // `hirl-scale run … --json F > /dev/full`: println! panicked ("failed printing to stdout", exit 101, a backtrace
    // under RUST_BACKTRACE) before F was written.
    let dir = scratch_dir("stdout-full");
    let json = dir.join("card.json");
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let out =
        hirl().args(["run", "--json"]).arg(&json).arg(scenario_path("small")).stdout(full).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot print to stdout") && !stderr.contains("panicked"), "{stderr}");
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("the JSON")).expect("whole");
    assert_eq!(card["format"], "hirl-scale-scorecard/1");
}

#[test]
fn a_scenario_without_p0_or_p1_domains_reports_zero_p0_p1_minutes_not_minus_zero() {
    // Rust's empty float sum is −0.0: the scorecard printed "(P0+P1 -0.0)" and wrote -0.0 in its JSON.
    let mut s = crate::common::load("small");
    s.domains.iter_mut().for_each(|d| d.priority = hirl_scale::scenario::Priority::P3);
    let (path, json) = (temp_path("all-p3.ron"), temp_path("all-p3.json"));
    hirl_scale::scenario::save_file(&s, &path).expect("written");
    let out = hirl().args(["run", "--policy", "hpa", "--json"]).arg(&json).arg(&path).output().expect("runs");
    let table = succeeded(&out);
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("json");
    let _ = (std::fs::remove_file(&path), std::fs::remove_file(&json));
    assert!(table.contains("(P0+P1 0.0)"), "{table}");
    let p0_p1 = card["cluster"]["p0_p1_slo_breach_minutes"].as_f64().expect("a number");
    assert!(p0_p1 == 0.0 && p0_p1.is_sign_positive(), "{p0_p1}");
}

#[test]
fn record_refuses_three_policies_before_running_since_no_loader_would_open_the_file() {
    let out_file = temp_path("three.rec.ron");
    let out = hirl()
        .args(["record", "--policies", "hpa,heuristic,pid", "--out"])
        .arg(&out_file)
        .arg(scenario_path("small"))
        .output()
        .expect("runs");
    let stderr = failed(&out);
    assert!(stderr.contains("--policies: a recording holds one run, or two side by side; got 3"), "{stderr}");
    assert!(!out_file.exists(), "nothing written");
}

#[test]
fn record_refuses_what_it_could_not_record_as_asked_before_running() {
    let dir = scratch_dir("record-refusals");
    let scenario = dir.join("mine.ron");
    std::fs::copy(scenario_path("small"), &scenario).expect("copy");
    let out_file = dir.join("out.rec.ron");
    let spike = "Spike(domain: \"payment\", start_secs: 0, ramp_secs: 60, multiplier: 2.0, duration_secs: 600)";
    let refusal = |extra: &[&str], out: &std::path::Path| {
        failed(
            &hirl()
                .args(["record", "--policies", "hpa"])
                .args(extra)
                .arg("--out")
                .arg(out)
                .arg(&scenario)
                .output()
                .expect("runs"),
        )
    };
    // At the recording's end, an injection would be stored and never act (its replay diverged at the end).
    let e = refusal(&["--until", "1800", "--inject", &format!("1800={spike}")], &out_file);
    assert!(e.contains("it would fire at 1805 s, when the recording has ended (1800 s)"), "{e}");
    let e = refusal(&["--until", "1800", "--inject", &format!("603={spike}")], &out_file);
    assert!(e.contains("603 s is not on the 5 s tick"), "{e}");
    let e = refusal(&["--inject", &format!("600={}", spike.replace("payment", "nosuch"))], &out_file);
    assert!(e.contains("domain: unknown domain \"nosuch\""), "{e}");
    for until in ["0", "1803", "99999"] {
        let e = refusal(&["--until", until], &out_file);
        assert!(e.contains(&format!("--until {until}: give a multiple of the 5 s tick")), "{e}");
    }
    // The scenario itself as --out would be lost to the recording.
    let e = refusal(&["--until", "600"], &scenario);
    assert!(e.contains("that is the scenario file"), "{e}");
    assert_eq!(std::fs::read(&scenario).expect("kept"), std::fs::read(scenario_path("small")).expect("shipped"));
    // hirl without agents would be recorded as HPA under HiRL's name.
    let e = failed(
        &hirl()
            .args(["record", "--policies", "hirl", "--until", "600", "--agents"])
            .arg(dir.join("none.safetensors"))
            .arg("--out")
            .arg(&out_file)
            .arg(&scenario)
            .output()
            .expect("runs"),
    );
    assert!(e.contains("the recording runs hirl, but no agents are loaded"), "{e}");
    assert!(!e.contains("is run by HPA"), "a refusal, not a fallback it then contradicts: {e}");
    assert!(!out_file.exists(), "nothing written");
}

#[test]
fn no_output_may_replace_a_file_the_command_reads_and_nothing_runs_first() {
    // `run small.ron --json small.ron` replaced the scenario with a scorecard; `eval --json models/hirl.json` broke
    // the agents' metadata, exit 0.
    let dir = scratch_dir("outputs-over-inputs");
    let scenario = dir.join("mine.ron");
    std::fs::copy(scenario_path("small"), &scenario).expect("copy");
    let agents = dir.join("hirl.safetensors");
    std::fs::copy(root().join("models/hirl.safetensors"), &agents).expect("copy");
    std::fs::copy(root().join("models/hirl.json"), dir.join("hirl.json")).expect("copy");
    let on_scenario = |command: &str, flags: &[&std::path::Path]| {
        let mut cmd = hirl();
        cmd.arg(command).arg(&scenario);
        for (flag, path) in ["--json", "--trace"].iter().zip(flags) {
            cmd.arg(flag).arg(path);
        }
        failed(&cmd.output().expect("runs"))
    };
    let eval = |agents: &std::path::Path, json: Option<&std::path::Path>| {
        let mut cmd = hirl();
        cmd.args(["eval", "--seeds", "1", "--policies", "hpa,hirl", "--scenarios"]).arg(&scenario);
        cmd.arg("--agents").arg(agents);
        if let Some(json) = json {
            cmd.arg("--json").arg(json);
        }
        failed(&cmd.output().expect("runs"))
    };
    let e = on_scenario("run", &[&scenario]);
    assert!(e.contains("that is the scenario file"), "{e}");
    let e = eval(&agents, Some(&dir.join("hirl.json")));
    assert!(e.contains("that is the agents' metadata"), "{e}");
    // Two outputs on one file, and a file where a directory should be: before the run, not after it.
    let card = dir.join("card.json");
    let e = on_scenario("run", &[&card, &card]);
    assert!(e.contains("--json names the same file"), "{e}");
    let e = on_scenario("compare", &[&scenario.join("card.json")]);
    assert!(e.contains("is not a directory"), "{e}");
    assert_eq!(std::fs::read(&scenario).expect("kept"), std::fs::read(scenario_path("small")).expect("shipped"));
    let shipped_meta = std::fs::read(root().join("models/hirl.json")).expect("shipped");
    assert_eq!(std::fs::read(dir.join("hirl.json")).expect("kept"), shipped_meta);
    // eval judges the agents: without them it refuses instead of scoring HPA as hirl.
    let e = eval(&dir.join("none.safetensors"), None);
    assert!(e.contains("the evaluation runs hirl, but no agents are loaded"), "{e}");
}

#[cfg(unix)]
#[test]
fn json_to_dev_stdout_on_a_pipe_prints_the_scorecard() {
    // `run … --json /dev/stdout | jq`: on a pipe /dev/stdout is /proc/self/fd/1 → `pipe:[…]`, which the writer walked
    // as a path, then failed in after the run ("cannot write /dev/stdout: No such file or directory", exit 2).
    // `output()` gives the command a pipe for its stdout, as a shell pipeline does.
    let out = hirl().args(["run", "--json", "/dev/stdout"]).arg(scenario_path("small")).output().expect("runs");
    let text = succeeded(&out);
    assert!(text.contains("cluster: breach"), "the table: {text}");
    let json = &text[text.find("{\n").expect("the JSON after the table")..];
    let card: serde_json::Value = serde_json::from_str(json).expect("the scorecard, whole");
    assert_eq!(card["format"], "hirl-scale-scorecard/1");
}

#[cfg(unix)]
#[test]
fn json_to_dev_stdout_redirected_to_a_file_follows_the_table() {
    // `run … --json /dev/stdout > out.txt`: /dev/stdout is then /proc/self/fd/1 → out.txt, and the writer renamed a
    // temporary over out.txt, so the table printed before it was lost (and the rest went to the unlinked file).
    let dir = scratch_dir("stdout-file");
    let out_path = dir.join("out.txt");
    let file = std::fs::File::create(&out_path).expect("create");
    let status =
        hirl().args(["run", "--json", "/dev/stdout"]).arg(scenario_path("small")).stdout(file).status().expect("runs");
    assert!(status.success());
    let text = std::fs::read_to_string(&out_path).expect("read");
    let table_at = text.find("cluster: breach").expect("the table is kept");
    let json_at = text.find("{\n").expect("the JSON follows");
    assert!(table_at < json_at, "{text}");
    let card: serde_json::Value = serde_json::from_str(&text[json_at..]).expect("the scorecard, whole");
    assert_eq!(card["format"], "hirl-scale-scorecard/1");
    let mut left: Vec<String> =
        std::fs::read_dir(&dir).expect("dir").map(|e| e.expect("entry").file_name().to_string_lossy().into()).collect();
    left.sort();
    assert_eq!(left, ["out.txt"], "no temporary beside it");
}

#[test]
fn eval_forecaster_refuses_a_json_over_its_model_or_scenario_before_it_runs() {
    // `eval forecaster --json models/forecaster.json` replaced the model's metadata with the metrics after the
    // held-out months had run, exit 0; the model then no longer loaded.
    let dir = scratch_dir("forecaster-json");
    let weights = dir.join("f.safetensors");
    std::fs::copy(root().join("models/forecaster.safetensors"), &weights).expect("copy");
    std::fs::copy(root().join("models/forecaster.json"), dir.join("f.json")).expect("copy");
    let eval = |json: &std::path::Path| {
        let mut cmd = hirl();
        cmd.args(["eval", "forecaster", "--months", "1", "--days", "1", "--model"]).arg(&weights);
        let out = cmd.arg("--json").arg(json).output().expect("runs");
        assert!(out.stdout.is_empty(), "refused before the months ran: {}", String::from_utf8_lossy(&out.stdout));
        failed(&out)
    };
    let e = eval(&dir.join("f.json"));
    assert!(e.contains("that is the forecaster's metadata"), "{e}");
    let e = eval(&root().join("scenarios/reference-day.ron"));
    assert!(e.contains("that is the scenario file"), "{e}");
    let e = eval(&dir);
    assert!(e.contains("is a directory"), "{e}");
    let shipped = std::fs::read(root().join("models/forecaster.json")).expect("shipped");
    assert_eq!(std::fs::read(dir.join("f.json")).expect("kept"), shipped);
}

#[test]
fn an_invalid_scenario_exits_with_1_from_every_command_that_reads_one() {
    let dir = scratch_dir("invalid-exit-code");
    let bad = dir.join("bad.ron");
    let text = std::fs::read_to_string(scenario_path("small")).expect("shipped");
    std::fs::write(&bad, text.replacen("duration_secs: 21600", "duration_secs: 21603", 1)).expect("write");
    let out_file = dir.join("x.rec.ron");
    for args in [
        vec!["validate".as_ref(), bad.as_os_str()],
        vec![
            "record".as_ref(),
            "--policies".as_ref(),
            "hpa".as_ref(),
            "--out".as_ref(),
            out_file.as_os_str(),
            bad.as_os_str(),
        ],
        vec![
            "eval".as_ref(),
            "--scenarios".as_ref(),
            bad.as_os_str(),
            "--seeds".as_ref(),
            "1".as_ref(),
            "--policies".as_ref(),
            "hpa".as_ref(),
        ],
    ] {
        let out = hirl().args(&args).output().expect("runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn rerecording_without_the_agents_refuses_and_keeps_the_recording() {
    // It re-ran hirl as HPA and wrote that over a good recording, exit 0.
    let dir = scratch_dir("rerecord-no-agents");
    let rec = dir.join("small.rec.ron");
    let shipped = root().join("scenarios/recordings/small.rec.ron");
    std::fs::copy(&shipped, &rec).expect("copy");
    let out = hirl().args(["replay", "--rerecord", "--agents"]).arg(dir.join("none.safetensors")).arg(&rec).output();
    let e = failed(&out.expect("runs"));
    assert!(e.contains("policies: the recording runs hirl, but no agents are loaded"), "{e}");
    assert_eq!(std::fs::read(&rec).expect("kept"), std::fs::read(&shipped).expect("shipped"));
}

#[test]
fn eval_and_compare_refuse_a_seed_a_policy_or_a_scenario_given_twice_before_any_run() {
    let small = scenario_path("small").display().to_string();
    let refusal = |args: &[&str]| failed(&hirl().args(args).output().expect("runs"));
    let e = refusal(&["eval", "--scenarios", &small, "--seeds", "1001,1001", "--policies", "hpa"]);
    assert!(e.contains("--seeds: 1001 is given twice"), "{e}");
    let e = refusal(&["eval", "--scenarios", &small, "--seeds", "1001", "--policies", "hpa,heuristic,hpa"]);
    assert!(e.contains("--policies: hpa is given twice"), "{e}");
    let e = refusal(&["eval", "--scenarios", &format!("{small},{small}"), "--seeds", "1001", "--policies", "hpa"]);
    assert!(e.contains(&format!("--scenarios: scenario \"small\" is given twice ({small} and {small})")), "{e}");
    let e = refusal(&["eval", "frontier", "--scenarios", &small, "--seeds", "7,7"]);
    assert!(e.contains("--seeds: 7 is given twice"), "{e}");
    // compare as well, and an unknown name before the names before it run.
    let e = refusal(&["compare", &small, "--policies", "hpa,hpa"]);
    assert!(e.contains("--policies: hpa is given twice"), "{e}");
    let reference = scenario_path("reference-day").display().to_string();
    let e = refusal(&["compare", &reference, "--policies", "hpa,heuristic,nope"]);
    assert!(e.contains("unknown policy \"nope\""), "{e}");
}

#[test]
fn eval_splits_its_totals_by_seed_and_the_seeds_add_up_to_them() {
    let (text, eval) = eval_small("1001,1002", "per-seed");
    let per_seed = eval["per_seed"].as_array().expect("a per_seed array");
    assert_eq!(per_seed.iter().map(|s| s["seed"].as_u64()).collect::<Vec<_>>(), [Some(1001), Some(1002)]);
    for (i, total) in eval["totals"].as_array().expect("totals").iter().enumerate() {
        for field in ["p0_p1_breach_minutes", "node_hours", "cascade_events"] {
            let sum: f64 = per_seed.iter().map(|s| s["totals"][i][field].as_f64().unwrap_or(f64::NAN)).sum();
            let whole = total[field].as_f64().unwrap_or(f64::NAN);
            assert!(
                (sum - whole).abs() <= 1e-6 * whole.abs().max(1.0),
                "{field} of {}: {sum} vs {whole}",
                total["policy"]
            );
        }
    }
    let rows: Vec<&str> =
        text.lines().skip_while(|l| !l.starts_with("per seed")).skip(2).take_while(|l| l.starts_with("  1")).collect();
    assert_eq!(rows.len(), 4, "a row per seed and policy: {text}");
    assert!(rows[0].starts_with("  1001     hpa "), "{}", rows[0]);
    // HiRL's row gives its change against HPA on the same seed; HPA's row has none.
    assert!(rows[1].starts_with("  1001     hirl-teacher") && rows[1].contains('%'), "{}", rows[1]);
    assert!(!rows[0].contains('%'), "{}", rows[0]);
}

#[test]
fn eval_frontier_prices_each_setting_against_hpa_and_its_shipped_row_is_evals() {
    let dir = scratch_dir("frontier");
    let (json, svg) = (dir.join("frontier.json"), dir.join("frontier.svg"));
    let small = scenario_path("small");
    let out = hirl()
        .args(["eval", "frontier", "--policy", "hirl-teacher", "--seeds", "1001,1002"])
        .args(["--size-floor", "1.3", "--warm-reserve", "shared-general=0.2", "--json"])
        .arg(&json)
        .arg("--svg")
        .arg(&svg)
        .arg("--scenarios")
        .arg(&small)
        .output()
        .expect("runs");
    let text = succeeded(&out);
    assert!(text.contains("hirl-teacher --size-floor 1.3") && text.contains("--warm-reserve shared-general=0.2"));
    assert!(text.contains("P0+P1 ≤ −75% at no more node-hours than HPA:"), "{text}");
    let frontier: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("json");
    let rows = frontier["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 3, "shipped, one floor, one reserve");
    assert_eq!(rows[0]["lever"], "shipped");
    assert_eq!(rows[1]["lever"]["size-floor"], "1.3");
    assert!(rows.iter().any(|r| r["on_frontier"] == true), "some setting is on the frontier");
    let svg_text = std::fs::read_to_string(&svg).expect("svg written");
    assert!(svg_text.starts_with("<svg ") && svg_text.contains(">shared-general=0.2<"));
    // The same runs through `eval`: the shipped row and the reference are its totals, digit for digit.
    let (_, eval) = eval_small("1001,1002", "frontier");
    assert_eq!(frontier["hpa"], eval["totals"][0]);
    assert_eq!(rows[0]["totals"], eval["totals"][1]);
    // Seed by seed, the shipped row's P0+P1 change is eval's per-seed figure against HPA on the same seed.
    for (i, seed) in eval["per_seed"].as_array().expect("per_seed").iter().enumerate() {
        let p0_p1 = |k: usize| seed["totals"][k]["p0_p1_breach_minutes"].as_f64().unwrap_or(f64::NAN);
        let by_seed = &rows[0]["p0_p1_change_by_seed"][i];
        if p0_p1(0) > 0.0 {
            let want = (p0_p1(1) - p0_p1(0)) / p0_p1(0);
            assert!((by_seed.as_f64().unwrap_or(f64::NAN) - want).abs() < 1e-9, "seed {i}: {by_seed} vs {want}");
        } else {
            assert!(by_seed.is_null() || by_seed.as_f64() == Some(0.0), "no breach under HPA: {by_seed}");
        }
    }
    // A larger floor holds more: it costs node-hours on the same runs.
    let node_hours = |r: &serde_json::Value| r["totals"]["node_hours"].as_f64().unwrap_or(f64::NAN);
    assert!(node_hours(&rows[1]) > node_hours(&rows[0]), "{rows:?}");
}

#[test]
fn eval_frontier_records_its_rows_in_the_agents_metadata_and_leaves_the_weights_alone() {
    let dir = scratch_dir("frontier-record");
    let agents = dir.join("hirl.safetensors");
    std::fs::copy(root().join("models/hirl.safetensors"), &agents).expect("copy weights");
    std::fs::copy(root().join("models/hirl.json"), dir.join("hirl.json")).expect("copy metadata");
    let out = hirl()
        .args(["eval", "frontier", "--seeds", "1001", "--size-floor", "1.3", "--record-in-model", "--agents"])
        .arg(&agents)
        .arg("--scenarios")
        .arg(scenario_path("small"))
        .output()
        .expect("runs");
    succeeded(&out);
    let weights_same = std::fs::read(&agents).ok() == std::fs::read(root().join("models/hirl.safetensors")).ok();
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("hirl.json")).expect("metadata")).expect("json");
    assert!(weights_same, "only the metadata changes");
    let frontier = &meta["frontier"];
    assert!(frontier["command"].as_str().is_some_and(|c| c.contains("--seeds 1001") && c.contains("--size-floor 1.3")));
    assert_eq!(frontier["rows"].as_array().map(Vec::len), Some(2), "shipped and the one floor");
    assert!(meta["eval"].is_object(), "the held-out evaluation is kept");
    let out =
        hirl().args(["eval", "frontier", "--policy", "hirl-teacher", "--record-in-model"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--policy hirl-teacher has none"));
}

#[test]
fn eval_frontier_refuses_what_it_cannot_price_with_a_clear_error() {
    let small = scenario_path("small");
    let cases: [(&[&str], &str); 3] = [
        (
            &["--warm-reserve", "nopool=0.2"],
            "warm reserve names pool \"nopool\", which scenario \"small\" does not have",
        ),
        (&["--policy", "hpa"], "--policy must be hirl or hirl-teacher"),
        (&["--agents", "/nonexistent/hirl.safetensors"], "eval frontier needs the HiRL agents"),
    ];
    for (extra, message) in cases {
        let out = hirl()
            .args(["eval", "frontier", "--seeds", "1001", "--scenarios"])
            .arg(&small)
            .args(extra)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one clear message: {stderr}");
    }
}

/// `compare --policies POLICIES --json FILE EXTRA… small.ron`, which must succeed: its stdout and its JSON scorecards
/// (`tag` keeps concurrent tests' files apart).
fn compare_on_small(policies: &str, extra: &[&str], tag: &str) -> (String, serde_json::Value) {
    let json = temp_path(format!("compare-{tag}.json"));
    let out = hirl()
        .args(["compare", "--policies", policies, "--json"])
        .arg(&json)
        .args(extra)
        .arg(scenario_path("small"))
        .output()
        .expect("runs");
    let text = succeeded(&out);
    let cards: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("json");
    let _ = std::fs::remove_file(&json);
    (text, cards)
}

#[test]
fn a_size_floor_raises_hirl_alone_and_its_scorecards_name_it() {
    let compare = |extra: &[&str], tag: &str| compare_on_small("hpa,hirl-teacher", extra, &format!("floor-{tag}"));
    let node_hours =
        |cards: &serde_json::Value, i: usize| cards[i]["cluster"]["node_hours"].as_f64().unwrap_or(f64::NAN);
    let (plain_text, plain) = compare(&[], "none");
    let (p0_text, p0) = compare(&["--size-floor", "P0=1.3"], "p0");
    let (all_text, all) = compare(&["--size-floor", "1.3"], "all");
    let (payment_text, payment) = compare(&["--size-floor", "payment=1.3"], "payment");
    assert!(!plain_text.contains("size floor:"), "{plain_text}");
    assert!(plain[1].get("size_floor").is_none(), "the shipped floor is not named: {}", plain[1]);
    assert!(
        p0_text
            .contains("size floor: ×1.300 for P0 (others ×0.905) of each domain's HPA-sized need under hirl-teacher")
    );
    assert!(all_text.contains("size floor: ×1.300 for every priority"), "{all_text}");
    assert!(payment_text.contains("size floor: ×1.300 for payment (others ×0.905)"), "{payment_text}");
    assert_eq!(payment[1]["size_floor"], "×1.300 for payment (others ×0.905)");
    assert_eq!(p0[1]["size_floor"], "×1.300 for P0 (others ×0.905)");
    assert_eq!(all[1]["size_floor"], "×1.300 for every priority");
    // HPA has no Soldiers: it runs as shipped, to the node-hour, and its scorecard names no floor.
    for cards in [&p0, &all] {
        assert!(cards[0].get("size_floor").is_none(), "{}", cards[0]);
        assert_eq!(node_hours(cards, 0), node_hours(&plain, 0));
    }
    // Slack held ahead costs node-hours, more of it in more domains.
    let (plain_h, p0_h, all_h) = (node_hours(&plain, 1), node_hours(&p0, 1), node_hours(&all, 1));
    assert!(plain_h < p0_h && p0_h < all_h, "{plain_h} {p0_h} {all_h}");
    // Payment alone holds less of it than Payment and Fraud (both P0).
    let payment_h = node_hours(&payment, 1);
    assert!(plain_h < payment_h && payment_h < p0_h, "{plain_h} {payment_h} {p0_h}");

    let out = hirl()
        .args(["compare", "--policies", "hpa,threshold", "--size-floor", "1.1"])
        .arg(scenario_path("small"))
        .output()
        .expect("runs");
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("none of the policies run (hpa, threshold)"));
    // A floor on a domain the scenario lacks would hold nothing: refused before anything runs, naming it.
    let unknown = "no domain \"paymnt\" (its domains: payment, fraud, merchant, data, internal)";
    for (bad, says) in [
        ("P9=1.0", "P9 is not a priority"),
        ("5", "between"),
        ("P0=1.0,P0=1.1", "given twice"),
        ("paymnt=1.1", unknown),
    ] {
        let out = hirl()
            .args(["run", "--policy", "hirl-teacher", "--size-floor", bad])
            .arg(scenario_path("small"))
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says) && err.contains("--size-floor"), "{bad}: {err}");
    }
}

#[test]
fn a_warm_reserve_is_held_under_every_policy_and_named_pools_are_checked() {
    let compare = |extra: &[&str], tag: &str| {
        let (text, cards) = compare_on_small("hpa,threshold", extra, &format!("reserve-{tag}"));
        assert_eq!(cards[0]["policy"], "hpa", "the wrapper keeps the policy's name");
        (text, cards)
    };
    let node_hours = |cards: &serde_json::Value| -> Vec<f64> {
        (0..2).map(|i| cards[i]["cluster"]["node_hours"].as_f64().unwrap_or(f64::NAN)).collect()
    };
    // … and the scorecard says what was held under it.
    let said = |cards: &serde_json::Value| cards[1]["warm_reserve"].as_str().map(str::to_string);
    let (plain_text, plain_cards) = compare(&[], "none");
    let (text, held_cards) = compare(&["--warm-reserve", "0.3"], "all");
    let (one_text, one_cards) = compare(&["--warm-reserve", "shared-general=0.3"], "one");
    let (plain, held, one_pool) = (node_hours(&plain_cards), node_hours(&held_cards), node_hours(&one_cards));
    assert_eq!(said(&plain_cards), None);
    assert_eq!(said(&held_cards).as_deref(), Some("30% in every pool"));
    assert_eq!(said(&one_cards).as_deref(), Some("30% in shared-general"));
    assert!(!plain_text.contains("warm reserve:"), "{plain_text}");
    assert!(text.contains("warm reserve: 30% in every pool — every policy holds"), "{text}");
    assert!(one_text.contains("warm reserve: 30% in shared-general — "), "{one_text}");
    for i in 0..2 {
        // Capacity held ahead costs node-hours; one pool's reserve costs less than every pool's.
        assert!(held[i] > one_pool[i] && one_pool[i] > plain[i], "policy {i}: {plain:?} {one_pool:?} {held:?}");
    }

    // Held under one policy only: the other runs as shipped, so the comparison prices the reserve.
    let (text, cards) = compare(&["--warm-reserve", "0.3", "--warm-reserve-for", "threshold"], "for");
    assert!(text.contains("— threshold only (the other policies run as shipped) holds at least"), "{text}");
    assert!(cards[0].get("warm_reserve").is_none(), "hpa ran as shipped: {}", cards[0]);
    assert_eq!(cards[1]["warm_reserve"], "30% in every pool");
    assert_eq!(cards[0]["cluster"]["node_hours"].as_f64(), Some(plain[0]), "hpa as in the plain comparison");
    assert_eq!(cards[1]["cluster"]["node_hours"].as_f64(), Some(held[1]), "threshold as under the reserve");
    for args in [&["--warm-reserve", "0.3", "--warm-reserve-for", "pid"][..], &["--warm-reserve-for", "hpa"][..]] {
        let mut cmd = hirl();
        let out = cmd.args(["compare", "--policies", "hpa,threshold"]).args(args).arg(scenario_path("small")).output();
        let out = out.expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }

    let out =
        hirl().args(["run", "--warm-reserve", "gpu-pool=0.2"]).arg(scenario_path("small")).output().expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"gpu-pool\"")
            && err.contains("\"small\"")
            && err.contains("shared-general, merchant-general, data-batch"),
        "{err}"
    );
    for bad in ["1.5", "shared-general=0.2,shared-general=0.1", "15%"] {
        let out = hirl().args(["run", "--warm-reserve", bad]).arg(scenario_path("small")).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("warm reserve"), "{bad}");
    }
}

#[test]
fn a_recording_keeps_which_run_held_the_reserve_and_replay_says_so() {
    let out_path = temp_path("only.rec.ron");
    let record = |extra: &[&str]| {
        hirl()
            .args(["record", "--policies", "hpa,heuristic", "--until", "1800", "--warm-reserve", "0.3"])
            .args(extra)
            .arg("--out")
            .arg(&out_path)
            .arg(scenario_path("small"))
            .output()
            .expect("runs")
    };
    let out = record(&["--warm-reserve-for", "heuristic"]);
    let text = succeeded(&out);
    assert!(
        text.contains("warm reserve: 30% in every pool — heuristic only (the other policies run as shipped)"),
        "{text}"
    );
    let rec = hirl_scale::replay::Recording::load_file(&out_path).expect("a valid recording");
    assert_eq!(rec.warm_reserve_for, ["heuristic"]);

    let out = hirl().arg("replay").arg(&out_path).output().expect("runs");
    let _ = std::fs::remove_file(&out_path);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("warm reserve (recorded): 30% in every pool, under heuristic only"), "{text}");
    assert!(text.contains("bit-identical"), "{text}");

    let out = record(&["--warm-reserve-for", "pid"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--warm-reserve-for names pid"));
}

#[test]
fn a_recording_keeps_the_size_floor_and_replay_runs_under_it() {
    let out_path = temp_path("floor.rec.ron");
    let out = hirl()
        .args(["record", "--policies", "hpa,hirl-teacher", "--until", "1800", "--size-floor", "P0=1.3"])
        .arg("--out")
        .arg(&out_path)
        .arg(scenario_path("small"))
        .output()
        .expect("runs");
    let text = succeeded(&out);
    assert!(text.contains("size floor: ×1.300 for P0 (others ×0.905) of each domain's HPA-sized need"), "{text}");
    let rec = hirl_scale::replay::Recording::load_file(&out_path).expect("a valid recording");
    assert_eq!(rec.size_floor.map(|f| f.spec()).as_deref(), Some("P0=1.3"));

    let out = hirl().arg("replay").arg(&out_path).output().expect("runs");
    let _ = std::fs::remove_file(&out_path);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("size floor (recorded): ×1.300 for P0 (others ×0.905)"), "{text}");
    assert!(text.contains("bit-identical"), "{text}");
}

/// The scorecard's field of each breach cause, named by the cause's key: `not_scaled_minutes`, … .
fn cause_fields() -> Vec<String> {
    hirl_scale::sim::breach_cause::BreachCause::ALL.iter().map(|c| format!("{}_minutes", c.key())).collect()
}

#[test]
fn replay_lists_the_scenarios_events_and_what_was_injected_when() {
    let out_path = temp_path("injected.rec.ron");
    let spike = r#"600=Spike(domain: "fraud", start_secs: 1200, ramp_secs: 60, multiplier: 2.0, duration_secs: 600)"#;
    let out = hirl()
        .args(["record", "--policies", "hpa", "--until", "1800", "--inject", spike, "--out"])
        .arg(&out_path)
        .arg(scenario_path("small"))
        .output()
        .expect("runs");
    let said = succeeded(&out);
    assert!(
        said.contains("injected at Tue 10:10:00 (600 s): spike fraud ×2; ramps up in 1 min; lasts 10 min (fires at Tue 10:20:00, 1200 s)"),
        "{said}"
    );
    let out = hirl().arg("replay").arg(&out_path).output().expect("runs");
    let _ = std::fs::remove_file(&out_path);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("events: 1\n  Tue 13:30  spike payment ×2; ramps up in"), "the scripted spike: {text}");
    assert!(
        text.contains(
            "injected: 1\n  Tue 10:20:00  spike fraud ×2; ramps up in 1 min; lasts 10 min; injected at Tue 10:10:00\n"
        ),
        "fired at its start, injected ten minutes before: {text}"
    );
}

#[test]
fn a_recording_of_an_exported_what_if_scenario_keeps_its_own_limits_where_recordings_keep_them() {
    use hirl_scale::scenario::{WhatIf, what_if::Limits};
    let (exported, out_path) = (temp_path("exported-lifted.ron"), temp_path("exported-lifted.rec.ron"));
    let original = crate::common::load("small");
    let mut lifted = original.clone();
    WhatIf::NoTelemetryLag.apply(&mut lifted);
    lifted.unlifted = Some(Limits::of(&original));
    hirl_scale::scenario::save_file(&lifted, &exported).expect("written");
    let out = hirl()
        .args(["record", "--policies", "hpa", "--until", "600", "--out"])
        .arg(&out_path)
        .arg(&exported)
        .output()
        .expect("runs");
    succeeded(&out);
    let recording = hirl_scale::replay::Recording::load_file(&out_path).expect("the recording loads");
    let out = hirl().arg("replay").arg(&out_path).output().expect("runs");
    let _ = (std::fs::remove_file(&exported), std::fs::remove_file(&out_path));
    assert_eq!(recording.unlifted, Some(Limits::of(&original)), "kept where a recording keeps them");
    assert_eq!(recording.scenario.unlifted, None, "not twice");
    let said = succeeded(&out);
    assert!(said.contains("no-telemetry-lag lifted; the scenario's own limits are kept"), "{said}");
}

#[test]
fn a_what_if_over_a_recording_is_refused_before_any_window_opens() {
    let recording = root().join("scenarios/recordings/small.rec.ron");
    let out =
        hirl().args(["gui", "--what-if", "no-telemetry-lag", "--recording"]).arg(&recording).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("cannot be used with") && said.contains("--recording"), "{said}");
}

#[test]
fn train_hirl_refuses_a_json_or_directory_output_and_eval_refuses_to_record_in_agents_that_do_not_load() {
    let dir = temp_path("hirl-out-refused");
    std::fs::create_dir_all(dir.join("o.safetensors")).expect("temp dir");
    for (out, message) in
        [(dir.join("o/f.json"), "cannot be a .json file"), (dir.join("o.safetensors"), "is a directory")]
    {
        let result = hirl().args(["train", "hirl", "--out"]).arg(&out).current_dir(root()).output().expect("runs");
        let stderr = failed(&result);
        assert!(stderr.contains("--out") && stderr.contains(message), "{stderr}");
    }
    // Broken agents to record into: refused before the evaluation, not after it ran with HPA standing in.
    let agents = dir.join("broken.safetensors");
    std::fs::write(&agents, b"garbage").expect("write");
    std::fs::copy(root().join("models/hirl.json"), dir.join("broken.json")).expect("copy metadata");
    let result = hirl()
        .args(["eval", "--seeds", "1001", "--record-in-model", "--agents"])
        .arg(&agents)
        .arg("--scenarios")
        .arg(scenario_path("small"))
        .output()
        .expect("runs");
    let stderr = failed(&result);
    assert!(stderr.contains("--record-in-model") && stderr.contains("broken.safetensors"), "{stderr}");
    assert!(String::from_utf8_lossy(&result.stdout).is_empty(), "no evaluation ran");
    let _ = std::fs::remove_dir_all(&dir);
}
