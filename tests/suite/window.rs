//! The real window, driven headless with egui_kittest. The worker runs live on its thread, so these tests step the
//! harness (never `Harness::run`, which waits for repaints to stop) until a condition holds.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{Queryable, by};
use hirl_scale::agents::forecast::{DEFAULT_MODEL_PATH, ForecasterModel, LEARNED_SOURCE};
use hirl_scale::app::HirlApp;
use hirl_scale::runner::{Speed, WorkerConfig};

use crate::common::{load, scenario_path, temp_path};

fn window(scenario: &str, speed: Speed) -> Harness<'static, HirlApp> {
    let mut cfg = WorkerConfig::new(load(scenario), format!("{scenario}.ron"), "hpa");
    cfg.speed = speed;
    window_with(cfg)
}

pub fn window_with(cfg: WorkerConfig) -> Harness<'static, HirlApp> {
    window_sized(cfg, [1500.0, 1000.0])
}

fn window_sized(cfg: WorkerConfig, size_pts: [f32; 2]) -> Harness<'static, HirlApp> {
    let app = HirlApp::new(cfg, || {}).expect("worker starts");
    Harness::builder().with_size(size_pts).build_ui_state(|ui, app: &mut HirlApp| app.ui_root(ui), app)
}

#[test]
fn a_frame_applies_worker_updates_within_its_budget_and_leaves_the_rest_queued() {
    let mut cfg = WorkerConfig::new(load("small"), "small.ron", "hpa");
    // Paced, not as fast as the machine goes: at Max a fast hour finished small.ron's six hours in two 15 ms slices,
    // two frames in all, and the queue never reached three. At 600× the run lasts 36 s of wall time and the worker
    // sends a frame every few milliseconds throughout, however fast the machine.
    cfg.speed = Speed::X600;
    cfg.start_playing = true;
    let mut app = HirlApp::new(cfg, || {}).expect("worker starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.queued_updates() < 3 {
        assert!(Instant::now() < deadline, "the worker queued {} updates", app.queued_updates());
        std::thread::sleep(Duration::from_millis(5));
    }
    // A spent budget still applies one update, so the window moves on; the others stay queued for later frames.
    assert_eq!(app.drain_updates_within(Duration::ZERO), 1);
    assert!(app.queued_updates() >= 2, "{} left", app.queued_updates());
    assert_eq!(app.drain_updates_within(Duration::ZERO), 1);
    assert!(!app.store.runs.is_empty(), "the first frame is in");
    // A budget to spare takes everything there.
    let queued = app.queued_updates();
    assert!(app.drain_updates_within(Duration::from_secs(1)) >= queued.max(1));
}

/// Clicks "Side by side" once the first frame is in, and steps until both runs are.
fn side_by_side(h: &mut Harness<'_, HirlApp>) {
    step_until(h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.get_by_label("Side by side").click();
    step_until(h, 20, "two runs", |a| a.store.runs.len() == 2);
}

/// Steps frames until `done` holds, failing after `secs` of wall time.
pub fn step_until(h: &mut Harness<'_, HirlApp>, secs: u64, what: &str, done: impl Fn(&HirlApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        h.step();
        if done(h.state()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("timed out waiting for: {what} (t = {} s)", h.state().store.now_secs);
}

/// Opens the toolbar menu showing `menu` (a combo box carries its selected text as its value) and picks `choice`.
fn pick(h: &mut Harness<'_, HirlApp>, menu: &str, choice: &str) {
    h.get(by().value(menu).role(Role::ComboBox)).click();
    h.run_steps(3); // the popup opens over the next frames
    h.get_by_label(choice).click();
}

/// Largest value of `f` over the first run's points in `[from, to)`.
/// The cascades the window explains, per run: as many per domain as its scorecard counts. Returns their total.
fn cascades_agree_with_the_scorecards(app: &HirlApp) -> usize {
    let mut total = 0;
    for run in &app.store.runs {
        let card = run.scorecard.as_ref().expect("scorecard");
        for (i, d) in card.domains.iter().enumerate() {
            let n = run.cascades.iter().filter(|c| usize::from(c.domain) == i).count();
            assert_eq!(n as u32, d.cascade_events, "{}: {}'s cascades explained", run.policy, d.domain);
            total += n;
        }
    }
    total
}

fn peak(app: &HirlApp, from: u64, to: u64, f: impl Fn(&hirl_scale::runner::DomainPoint) -> f32) -> f32 {
    app.store.runs[0]
        .points
        .iter()
        .filter(|p| (from..to).contains(&p.t_secs))
        .filter_map(|p| p.domains.first().map(&f))
        .fold(0.0, f32::max)
}

#[test]
fn play_then_a_flash_sale_on_payment_shows_pending_pods_and_latency() {
    // 600×, not flat out: a slow frame (unoptimised egui in test builds) must not let the run overshoot to its end
    // before the Pause click lands.
    let mut h = window("small", Speed::X600);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.get_by_label("Play").click();
    step_until(&mut h, 60, "30 simulated minutes", |a| a.store.now_secs >= 1_800);
    h.get_by_label("Pause").click();
    step_until(&mut h, 20, "paused", |a| !a.store.playing);
    let injected_at = h.state().store.now_secs;

    h.get_by_label("Inject…").click();
    h.run_steps(3); // a new egui window is sized on its first frames before it is shown
    h.get_by_label("Inject").click();
    h.run_steps(2);
    h.get_by_label("Play").click();
    step_until(&mut h, 60, "20 minutes into the sale", |a| a.store.now_secs >= injected_at + 1_200);

    let app = h.state();
    // Baseline: the ten minutes before the injection (the start-up transient at t = 0 is not "before the sale").
    let pending_before = peak(app, injected_at - 600, injected_at, |d| d.pending_pods as f32);
    let pending_after = peak(app, injected_at, injected_at + 1_200, |d| d.pending_pods as f32);
    let p99_before = peak(app, injected_at - 600, injected_at, |d| d.p99_latency_ms);
    let p99_after = peak(app, injected_at, injected_at + 1_200, |d| d.p99_latency_ms);
    assert!(pending_after > pending_before, "payment pending pods respond: {pending_before} → {pending_after}");
    assert!(p99_after > p99_before, "payment p99 responds: {p99_before} → {p99_after} ms");
    let events = &app.store.runs[0].events;
    assert!(
        events.iter().any(|e| matches!(&e.kind, hirl_scale::sim::TimelineKind::Event { injected: true, .. })),
        "the injection is on the timeline"
    );
    assert!(cascades_agree_with_the_scorecards(app) > 0, "the flash sale cascades");
}

#[test]
fn playing_numbers_are_held_a_moment_and_paused_ones_are_now() {
    let mut h = window("small", Speed::X600);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.get_by_label("Play").click();
    step_until(&mut h, 60, "playing, numbers held", |a| a.store.playing && a.store.readout_secs.is_some());
    step_until(&mut h, 60, "ten simulated minutes", |a| a.store.now_secs >= 600);
    let held = h.state().store.readout_secs.expect("held while playing");
    assert!(held <= h.state().store.now_secs, "held at a time already reached");
    h.get_by_label("Pause").click();
    step_until(&mut h, 20, "paused", |a| !a.store.playing);
    h.step();
    let app = h.state();
    assert_eq!(app.store.readout_secs, None, "paused: the numbers follow now");
    let now = app.store.now_secs;
    let shown = format!("after {} simulated", hirl_scale::app::format_duration(now));
    assert!(h.query_all_by_label(&shown).count() >= 1, "the scorecard shows now's figures: {shown}");
}

#[test]
fn side_by_side_runs_advance_together() {
    let mut h = window("small", Speed::Max);
    side_by_side(&mut h);
    h.get_by_label("Play").click();
    step_until(&mut h, 60, "ten simulated minutes", |a| a.store.now_secs >= 600);
    h.get_by_label("Pause").click();
    step_until(&mut h, 20, "paused", |a| !a.store.playing);
    h.step();
    let app = h.state();
    let (a, b) = (&app.store.runs[0], &app.store.runs[1]);
    assert_eq!((a.policy.as_str(), b.policy.as_str()), ("hpa", "heuristic"));
    assert_eq!(a.points.len(), b.points.len(), "same number of ticks on both sides");
    assert_eq!(a.points.last().map(|p| p.t_secs), b.points.last().map(|p| p.t_secs));
    // Identical traffic on both sides (different autoscalers, same requests).
    let rps = |r: &hirl_scale::app::store::RunSeries| r.points.iter().map(|p| p.domains[2].rps).collect::<Vec<_>>();
    assert_eq!(rps(a), rps(b));
    assert!(h.query_all_by_label("policy: heuristic").count() >= 1, "the right-hand run is labelled");
    assert_eq!(app.window_title(), "HiRL-Scale — small — hpa vs heuristic", "the title says what is compared");
}

#[test]
fn side_by_side_from_hpa_puts_hirl_on_the_right_when_the_agents_load() {
    let mut cfg = WorkerConfig::new(load("small"), "small.ron", "hpa");
    let assets = hirl_scale::agents::policies::PolicyAssets::shipped(&crate::common::root());
    (cfg.forecaster, cfg.agents) = (assets.forecaster, assets.agents);
    let mut h = window_with(cfg);
    side_by_side(&mut h);
    h.step();
    let app = h.state();
    let policies: Vec<&str> = app.store.runs.iter().map(|r| r.policy.as_str()).collect();
    assert_eq!(policies, ["hpa", "hirl"], "the product's comparison, not the heuristic's");
    assert_eq!(app.window_title(), "HiRL-Scale — small — hpa vs hirl");
}

#[test]
fn on_a_scenario_hirl_is_not_built_for_side_by_side_puts_the_heuristic_on_the_right_and_hirl_is_named_a_fallback() {
    let shipped = hirl_scale::agents::policies::PolicyAssets::shipped(&crate::common::root());
    let with_agents = |policy: &str| {
        let mut cfg = WorkerConfig::new(crate::common::four_domains(), "four.ron", policy);
        (cfg.forecaster, cfg.agents) = (shipped.forecaster.clone(), shipped.agents.clone());
        window_with(cfg)
    };
    let mut h = with_agents("hpa");
    side_by_side(&mut h);
    assert_eq!(h.state().store.policies, ["hpa", "heuristic"], "hirl would be HPA again on four domains");
    // Asked for by name, hirl runs as the fallback and is called so.
    let mut h = with_agents("hirl");
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    assert_eq!(h.state().store.runs[0].policy, "hirl (HPA fallback)");
}

#[test]
fn side_by_side_on_a_1280_projector_every_scorecard_column_is_inside_its_half() {
    let mut cfg = WorkerConfig::new(load("small"), "small.ron", "hpa");
    let assets = hirl_scale::agents::policies::PolicyAssets::shipped(&crate::common::root());
    (cfg.forecaster, cfg.agents) = (assets.forecaster, assets.agents);
    cfg.speed = Speed::Max;
    let mut h = window_sized(cfg, [1280.0, 720.0]);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.get_by_label("Side by side").click();
    step_until(&mut h, 20, "two runs with scorecards", |a| {
        a.store.runs.len() == 2 && a.store.runs.iter().all(|r| r.scorecard.is_some())
    });
    h.run_steps(2);
    let columns = [h.get_by_label("policy: hpa").rect(), h.get_by_label("policy: hirl").rect()];
    // The last column's title, over two lines in a narrow column; the right-hand table also has "Δ vs hpa".
    let last: Vec<_> = h.query_all_by_label("actions /\napp·h").map(|n| n.rect()).collect();
    assert_eq!(last.len(), 2, "both tables, titles over two lines");
    for (title, column) in last.iter().zip(&columns) {
        assert!(
            title.right() <= column.right() + 0.5,
            "the last title ends at {} past {}",
            title.right(),
            column.right()
        );
    }
}

#[test]
fn the_what_if_menu_lifts_a_limit_in_both_runs_and_every_scorecard_says_so() {
    let mut h = window("small", Speed::Max);
    side_by_side(&mut h);
    h.step();
    assert!(h.query_by_label_contains("what if:").is_none(), "the scenario's own limits: no note");
    pick(&mut h, "what if: none", "unbounded provisioner (lifted)");
    step_until(&mut h, 20, "the lifted runs' scorecards", |a| {
        a.store.scenario.name == "small+unbounded-provisioner"
            && a.store.runs.iter().all(|r| r.scorecard.as_ref().is_some_and(|c| c.scenario.ends_with("provisioner")))
    });
    h.step();
    assert!(h.query_by_value("what if: unbounded provisioner").is_some(), "the menu shows it");
    assert_eq!(h.query_all_by_label("· what if: unbounded-provisioner lifted").count(), 2, "on both scorecards");
    assert_eq!(h.state().window_title(), "HiRL-Scale — small+unbounded-provisioner — hpa vs heuristic");
    pick(&mut h, "what if: unbounded provisioner", "none: the scenario's own limits");
    step_until(&mut h, 20, "the scenario's own limits", |a| a.store.scenario.name == "small");
}

/// Replaces the text of the focused field (the file prompt focuses its path on opening) and steps a frame.
fn type_into_focused(h: &mut Harness<'_, HirlApp>, text: &str) {
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.event(egui::Event::Text(text.to_string()));
    h.step();
}

#[test]
fn a_broken_scenario_from_the_file_prompt_is_reported_there_and_the_run_goes_on() {
    // 600×: flat out, the six-hour run could end during one slow frame, and then it would not "go on".
    let mut h = window("small", Speed::X600);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.get_by_label("Play").click();
    step_until(&mut h, 60, "running", |a| a.store.now_secs >= 300);

    let bad = temp_path("window-bad.ron");
    let text = std::fs::read_to_string(scenario_path("small")).expect("read");
    std::fs::write(&bad, text.replacen("maxReplicas: 3000", "maxReplicas: 1", 1)).expect("write");
    h.get_by_label("Open…").click();
    h.run_steps(3);
    assert_eq!(h.state().file_prompt.action(), Some(hirl_scale::app::FileAction::OpenScenario));
    // A path with no file: refused in the prompt, before anything is read.
    type_into_focused(&mut h, "/no/such/scenario.ron");
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    assert!(h.query_by_label("no file at /no/such/scenario.ron").is_some(), "the prompt says why");
    // The broken file: its loader's reason (file, line, field), in the prompt, which stays open to correct it.
    h.get(by().role(Role::TextInput)).focus();
    type_into_focused(&mut h, &bad.display().to_string());
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    let _ = std::fs::remove_file(&bad);
    assert!(h.state().file_prompt.action().is_some(), "a refused file keeps the prompt open");
    let reason = h.query_by_label_contains("maxReplicas").expect("the reason is shown in the window");
    let reason = reason.value().unwrap_or_default();
    assert!(reason.contains(":21:") && reason.contains("maxReplicas"), "{reason}");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert_eq!(h.state().file_prompt.action(), None, "Esc closes the prompt");

    let t = h.state().store.now_secs;
    step_until(&mut h, 60, "the current run goes on", |a| a.store.now_secs > t + 300);
    assert_eq!(h.state().store.scenario.name, "small");
}

#[test]
fn an_open_file_prompt_keeps_the_shortcut_keys_when_its_field_is_not_focused() {
    let mut h = window("small", Speed::X1);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.key_press(egui::Key::S);
    h.run_steps(3);
    assert_eq!(h.state().file_prompt.action(), Some(hirl_scale::app::FileAction::SaveScenario));
    // Focus leaves the path field (as a click elsewhere in the prompt takes it), then a name is "typed": these keys
    // were shortcuts.
    h.ctx.memory_mut(|m| m.stop_text_input());
    h.run_steps(2);
    assert!(!h.ctx.egui_wants_keyboard_input(), "the field has lost focus");
    for key in [egui::Key::Num4, egui::Key::O, egui::Key::Space] {
        h.key_press(key);
        h.run_steps(2);
    }
    h.run_steps(5);
    assert_eq!(h.state().store.speed, Speed::X1, "the speed is as it was");
    assert!(!h.state().store.playing, "still paused");
    assert_eq!(h.state().file_prompt.action(), Some(hirl_scale::app::FileAction::SaveScenario), "the same prompt");
    // Closed, the keys are shortcuts again.
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    h.key_press(egui::Key::Num4);
    step_until(&mut h, 20, "600×", |a| a.store.speed == Speed::X600);
}

#[test]
fn the_scenario_saved_through_the_file_prompt_loads_back_the_same() {
    let mut h = window("small", Speed::X1);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    let dir = temp_path("window-save");
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("saved.ron");
    std::fs::write(&path, "not a scenario").expect("write");
    h.key_press(egui::Key::S);
    h.run_steps(3);
    assert_eq!(h.state().file_prompt.action(), Some(hirl_scale::app::FileAction::SaveScenario));
    type_into_focused(&mut h, &path.display().to_string());
    h.run_steps(1);
    assert!(h.query_by_label_contains("Save replaces it").is_some(), "an existing file is named before it is replaced");
    h.get_by_label("Save").click();
    h.run_steps(2);
    assert_eq!(h.state().file_prompt.action(), None, "a saved file closes the prompt");
    // The worker writes it and says so in the status bar.
    step_until(&mut h, 20, "the file saved", |a| a.notice.as_ref().is_some_and(|n| n.text.starts_with("saved ")));
    let saved = hirl_scale::scenario::load_file(&path).expect("the saved file loads");
    assert_eq!(saved, *h.state().store.scenario, "what was saved is the scenario loaded");
    // The next prompt starts in the folder last used.
    h.key_press(egui::Key::E);
    h.run_steps(3);
    let field = h.get(by().role(Role::TextInput));
    let offered = field.value().unwrap_or_default();
    assert_eq!(offered, dir.join("small-session.ron").display().to_string(), "named for the scenario");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_recording_chosen_with_open_scenario_is_replayed_and_the_status_bar_says_so() {
    let mut h = hirl_window();
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.key_press(egui::Key::O);
    h.run_steps(3);
    let path = crate::common::root().join("scenarios/recordings/small.rec.ron");
    type_into_focused(&mut h, &path.display().to_string());
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    assert_eq!(h.state().file_prompt.action(), None, "the prompt closed: the file was opened");
    let notice = h.state().notice.clone().expect("a notice");
    assert!(!notice.is_error && notice.text.contains("the file is a recording"), "{}", notice.text);
    step_until(&mut h, 20, "the replay", |a| a.store.runs.len() == 2 && a.store.origin.ends_with("small.rec.ron"));
}

#[test]
fn a_recording_that_cannot_be_replayed_is_refused_in_the_file_prompt_and_the_run_goes_on() {
    let mut h = hirl_window();
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.get_by_label("600×").click();
    h.get_by_label("Play").click();
    step_until(&mut h, 60, "running", |a| a.store.now_secs >= 300);
    h.key_press(egui::Key::Space);
    step_until(&mut h, 20, "paused", |a| !a.store.playing);
    let shown_before = (h.state().store.now_secs, h.state().store.runs.len(), h.state().store.origin.clone());

    let dir = crate::common::scratch_dir("window-bad-recordings");
    let shipped = std::fs::read_to_string(crate::common::root().join("scenarios/recordings/small.rec.ron"))
        .expect("the shipped recording");
    let agents = hirl_scale::agents::policies::PolicyAssets::shipped(&crate::common::root())
        .agents
        .expect("the shipped agents")
        .digest();
    assert!(shipped.contains(&agents), "the shipped recording names the shipped agents");
    let other_agents = dir.join("other-agents.rec.ron");
    std::fs::write(&other_agents, shipped.replacen(&agents, "0123456789abcdef", 1)).expect("write");
    let not_utf8 = dir.join("not-utf8.rec.ron");
    let mut bytes = shipped.clone().into_bytes();
    bytes.insert(shipped.find('\n').expect("a line") + 1, 0xff);
    std::fs::write(&not_utf8, bytes).expect("write");
    // Sparse: 65 MiB on paper, nothing on the disk; refused before it is read.
    let too_large = dir.join("too-large.rec.ron");
    std::fs::File::create(&too_large).and_then(|f| f.set_len(65 << 20)).expect("sparse file");

    h.get_by_label("Open recording…").click();
    h.run_steps(3);
    assert_eq!(h.state().file_prompt.action(), Some(hirl_scale::app::FileAction::OpenRecording));
    // It starts in the shipped recordings' folder (the scenario, small.ron, names none).
    let mut typed = "scenarios/recordings/".to_string();
    for (path, reason) in [
        (&other_agents, "models[0]: recorded with agents 0123456789abcdef, but the loaded agents is".to_string()),
        (&not_utf8, "2:1: not UTF-8 text".to_string()),
        (&too_large, "larger than 64 MiB".to_string()),
    ] {
        // The field holds the path last typed (the inspector has a text field too).
        h.get(by().value(&typed).role(Role::TextInput)).focus();
        typed = path.display().to_string();
        type_into_focused(&mut h, &typed);
        h.key_press(egui::Key::Enter);
        h.run_steps(2);
        assert!(h.state().file_prompt.action().is_some(), "{}: a refused file keeps the prompt open", path.display());
        let shown = h.query_by_label_contains(&reason).map(|n| n.value().unwrap_or_default());
        let shown = shown.unwrap_or_else(|| panic!("{}: the prompt says why ({reason})", path.display()));
        assert!(shown.contains(&path.display().to_string()), "the reason names the file: {shown}");
    }
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    // Chosen with Open…, a recording is tried as one; the prompt gives the recording's reason, not "found Recording".
    h.key_press(egui::Key::O);
    h.run_steps(3);
    assert_eq!(h.state().file_prompt.action(), Some(hirl_scale::app::FileAction::OpenScenario));
    type_into_focused(&mut h, &other_agents.display().to_string());
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    assert!(h.state().file_prompt.action().is_some(), "a refused file keeps the prompt open");
    assert!(h.query_by_label_contains("models[0]: recorded with agents 0123456789abcdef").is_some(), "the reason");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    // Nothing was sent: a refusal from the worker would land in the status bar, after the prompt had closed.
    h.run_steps(20);
    assert!(!h.state().notice.as_ref().is_some_and(|n| n.is_error), "{:?}", h.state().notice);
    let shown_after = (h.state().store.now_secs, h.state().store.runs.len(), h.state().store.origin.clone());
    assert_eq!(shown_after, shown_before, "the paused run is as it was");
    h.get_by_label("Play").click();
    step_until(&mut h, 60, "the current run goes on", |a| a.store.now_secs > shown_before.0 + 300);
}

#[test]
fn a_long_notice_is_cut_at_the_window_s_edge_and_can_still_be_dismissed() {
    let mut cfg = WorkerConfig::new(load("small"), "small.ron", "hpa");
    cfg.speed = Speed::X1;
    let width = 1280.0;
    let mut h = window_sized(cfg, [width, 800.0]);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    // As a refused drop of a recording made with other agents says it.
    let text = format!(
        "{}/other-agents.rec.ron: models[0]: recorded with agents 0123456789abcdef, but the loaded agents is \
         fedcba9876543210: the run would not replay as it happened (load the model it was recorded with)",
        std::env::temp_dir().join("a-folder-with-a-long-name/and-another-one").display()
    );
    h.state_mut().notice = Some(hirl_scale::app::Notice { text: text.clone(), is_error: true });
    h.run_steps(2);
    let dismiss = h.get_by_label("×");
    assert!(dismiss.rect().max.x <= width, "the dismiss button is in the window: {:?}", dismiss.rect());
    let shown = h.query_by_label_contains("models[0]").expect("the notice is shown");
    assert!(shown.rect().max.x <= width, "the notice stops at the window's edge: {:?}", shown.rect());
    h.get_by_label("×").click();
    h.run_steps(2);
    assert!(h.state().notice.is_none(), "dismissed");
}

/// A file dropped onto the window, as the windowing backend hands it over.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn a_recording_dropped_onto_the_window_replays_and_a_broken_drop_is_reported() {
    // The shipped recordings were made with the shipped agents, which a replay must have loaded.
    let mut h = hirl_window();
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    let junk = temp_path("window-drop.ron");
    std::fs::write(&junk, "(name: ").expect("write");
    h.input_mut().dropped_files.push(std::sync::Arc::new(Dropped(junk.clone())));
    h.run_steps(2);
    let _ = std::fs::remove_file(&junk);
    let notice = h.state().notice.clone().expect("a notice");
    assert!(notice.is_error && notice.text.contains(&junk.display().to_string()), "{}", notice.text);
    assert_eq!(h.state().store.scenario.name, "small", "a refused drop loses nothing");

    let path = crate::common::root().join("scenarios/recordings/small.rec.ron");
    h.input_mut().dropped_files.push(std::sync::Arc::new(Dropped(path)));
    h.step();
    assert!(!h.state().notice.as_ref().is_some_and(|n| n.is_error), "{:?}", h.state().notice);
    step_until(&mut h, 20, "the replay", |a| a.store.runs.len() == 2 && a.store.origin.ends_with("small.rec.ron"));
}

#[test]
fn keyboard_shortcuts_play_step_and_open_the_flash_sale_dialog() {
    let mut h = window("small", Speed::X600);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.key_press(egui::Key::ArrowRight);
    step_until(&mut h, 20, "one tick", |a| a.store.now_secs == 5);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::ArrowRight);
    step_until(&mut h, 20, "the next Commander time", |a| a.store.now_secs == 60);
    h.key_press(egui::Key::Space);
    step_until(&mut h, 20, "playing", |a| a.store.playing);
    h.key_press(egui::Key::Space);
    step_until(&mut h, 20, "paused", |a| !a.store.playing);
    h.key_press(egui::Key::F);
    h.run_steps(3);
    assert!(h.query_by_label("Inject").is_some(), "F opens the flash-sale dialog");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(h.query_by_label("Inject").is_none(), "Esc closes it");
    // "?" lists every shortcut, and again hides the list.
    h.event(egui::Event::Text("?".into()));
    h.run_steps(3);
    for (key, action) in hirl_scale::app::SHORTCUTS {
        assert!(h.query_by_label(key).is_some() && h.query_by_label(action).is_some(), "{key}: {action}");
    }
    h.event(egui::Event::Text("?".into()));
    h.run_steps(2);
    assert!(h.query_by_label(hirl_scale::app::SHORTCUTS[4].1).is_none(), "? again closes the list");
}

#[test]
fn keyboard_shortcuts_move_along_the_timeline() {
    use hirl_scale::app::timeline_bar::{MarkerKind, markers};
    let mut h = window("small", Speed::Max);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.key_press(egui::Key::Space);
    // Past small.ron's spike at 3 h 30 min, so there are markers both sides of "now" after a step back.
    step_until(&mut h, 60, "past the spike", |a| a.store.now_secs >= 14_400);
    h.key_press(egui::Key::Space);
    step_until(&mut h, 20, "paused", |a| !a.store.playing);
    let recorded = h.state().store.recorded_until_secs;
    let landmarks: Vec<u64> =
        markers(&h.state().store).into_iter().filter(|m| m.kind != MarkerKind::Decision).map(|m| m.t_secs).collect();
    assert!(landmarks.contains(&12_600), "the spike is a marker: {landmarks:?}");

    h.key_press(egui::Key::Home);
    step_until(&mut h, 20, "Home: the start", |a| a.store.now_secs == 0);
    h.key_press(egui::Key::Period);
    let first = landmarks.iter().copied().find(|t| *t > 0).expect("a marker after the start");
    step_until(&mut h, 20, ". : the first marker", |a| a.store.now_secs == first);
    h.key_press(egui::Key::CloseBracket);
    step_until(&mut h, 20, "] : ten minutes on", |a| a.store.now_secs == first + 600);
    h.key_press(egui::Key::OpenBracket);
    step_until(&mut h, 20, "[ : ten minutes back", |a| a.store.now_secs == first);
    h.key_press(egui::Key::End);
    step_until(&mut h, 20, "End: the latest moment recorded", |a| a.store.now_secs == recorded);
    h.key_press(egui::Key::Comma);
    let last = landmarks.iter().copied().filter(|t| *t < recorded).max().expect("a marker before the end");
    step_until(&mut h, 20, ", : the last marker before it", |a| a.store.now_secs == last);
    assert!(!h.state().store.playing, "moving along the timeline keeps the run paused");
}

#[test]
fn an_event_that_would_fire_after_the_run_ends_is_refused_in_the_dialog_which_says_why() {
    let mut h = window("small", Speed::Max);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    let last_tick = h.state().store.duration_secs - 5;
    h.state_mut().seek(last_tick);
    step_until(&mut h, 120, "the run's last tick", |a| a.store.now_secs == last_tick);
    // Starting "now", it would fire at the next tick: when the run has ended.
    h.key_press(egui::Key::F);
    h.run_steps(3);
    h.get_by_label("Inject").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("not injected:").is_some(), "the dialog says why");
    assert!(h.query_by_label("Inject").is_some(), "and stays open");
    h.run_steps(5);
    assert!(h.state().notice.is_none(), "nothing was sent to be refused: {:?}", h.state().notice);
}

#[test]
fn an_announced_flash_sale_from_the_dialog_goes_on_the_forecasts_calendar() {
    // Tall enough that the forecast panel is in view: plots below the fold are not built.
    let mut cfg = WorkerConfig::new(load("small"), "small.ron", "hpa");
    cfg.speed = Speed::X1;
    let mut h = window_sized(cfg, [1500.0, 3000.0]);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.step();
    assert!(h.query_by_label_contains("announced start").is_none(), "small.ron announces nothing");
    h.key_press(egui::Key::F);
    h.run_steps(3);
    assert!(h.query_by_label_contains("Unannounced: nothing knows").is_some(), "unannounced by default, and said so");
    h.get_by_label("on the calendar").click();
    h.run_steps(2);
    let sliders: Vec<_> = h.query_all(by().role(Role::Slider)).collect();
    assert_eq!(sliders.len(), 5, "multiplier, ramp, duration, starts in, calendar says");
    sliders[3].set_value_accesskit(60.0); // starts in an hour
    h.run_steps(2);
    assert!(h.query_by_label_contains("(on time). HiRL holds the lift warm").is_some(), "an announced sale, on time");
    h.get_by_label("Inject").click();
    step_until(&mut h, 20, "the injection", |a| a.store.injections.len() == 1);
    h.step();
    let expected = format!("announced start {}", h.state().store.clock_label(3_600));
    assert!(h.query_by_label_contains(&expected).is_some(), "the forecast panel marks the calendar's start");
}

#[test]
fn a_zone_outage_from_the_inject_dialog_takes_the_nodes_away_in_every_run() {
    let mut h = window("small", Speed::X1);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.get_by_label("Side by side").click();
    step_until(&mut h, 20, "two runs", |a| {
        a.store.runs.len() == 2 && a.store.runs.iter().all(|r| r.latest().is_some())
    });
    let nodes = |a: &HirlApp| -> Vec<u32> {
        a.store.runs.iter().map(|r| r.latest().expect("a point").pools[0].nodes).collect()
    };
    let before = nodes(h.state());
    h.key_press(egui::Key::F);
    h.run_steps(3);
    pick(&mut h, "flash sale", "zone outage (nodes lost)");
    h.run_steps(2);
    let pool = h.state().store.scenario.pools[0].name.clone();
    let summary = format!("{pool} loses 40 of its {} nodes now", before[0]);
    assert!(h.query_by_label_contains(&summary).is_some(), "the dialog says what it will do: {summary}");
    h.get_by_label("Inject").click();
    h.run_steps(2);
    h.get_by_label("Step: tick").click();
    step_until(&mut h, 20, "the loss", |a| {
        a.store.now_secs >= 5 && a.store.runs.iter().all(|r| r.latest().is_some_and(|p| p.t_secs >= 5))
    });
    let after = nodes(h.state());
    for (run, (b, a)) in before.iter().zip(&after).enumerate() {
        assert_eq!(*a, b - 40, "run {run}: {b} ready nodes, 40 lost");
        let logged = h.state().store.runs[run].events.iter().any(|e| {
            matches!(&e.kind, hirl_scale::sim::TimelineKind::Event { label, injected: true } if *label == format!("node loss {pool} −40"))
        });
        assert!(logged, "run {run}: the injection is on the timeline");
    }
}

#[test]
fn enter_in_an_inject_dialog_field_commits_the_field_and_only_a_second_enter_injects() {
    let mut h = window("small", Speed::X1);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.key_press(egui::Key::F);
    h.run_steps(3);
    // "Starts in": clicking its value opens it for typing.
    h.get(by().value("0 min").role(Role::SpinButton)).click();
    h.run_steps(2);
    assert!(h.ctx.text_edit_focused(), "the field takes the keyboard");
    h.event(egui::Event::Key {
        key: egui::Key::A,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: egui::Modifiers::COMMAND,
    });
    h.event(egui::Event::Text("30".into()));
    h.run_steps(2);
    h.key_press(egui::Key::Enter);
    h.run_steps(3);
    assert!(h.query_by_label("Inject an event").is_some(), "Enter committed the field; the dialog stays open");
    assert!(h.query_by_label_contains("in 30 min").is_some(), "the summary reads the typed value");
    assert!(h.state().store.injections.is_empty(), "nothing sent yet");
    h.key_press(egui::Key::Enter);
    step_until(&mut h, 10, "the injection", |a| !a.store.injections.is_empty());
    assert_eq!(h.state().store.injections[0].event.start_secs(), 1_800, "30 minutes from t = 0");
}

#[test]
fn the_forecast_panel_names_its_source_learned_or_fallback() {
    let mut h = window("small", Speed::Max);
    step_until(&mut h, 20, "a forecast", |a| a.store.runs.first().is_some_and(|r| !r.forecasts.is_empty()));
    h.step();
    assert!(h.query_by_label_contains("source: exponential smoothing (fallback: no model loaded)").is_some());

    let mut cfg = WorkerConfig::new(load("small"), "small.ron", "hpa");
    cfg.forecaster = ForecasterModel::load(&crate::common::root().join(DEFAULT_MODEL_PATH));
    assert!(cfg.forecaster.is_learned(), "the shipped model loads");
    let mut h = window_with(cfg);
    step_until(&mut h, 20, "a forecast", |a| a.store.runs.first().is_some_and(|r| !r.forecasts.is_empty()));
    h.step();
    assert!(h.query_by_label_contains(&format!("source: {LEARNED_SOURCE}")).is_some());
}

/// The window on `small.ron` under HiRL with the shipped models.
fn hirl_window() -> Harness<'static, HirlApp> {
    let mut cfg = WorkerConfig::new(load("small"), "small.ron", "hirl");
    let assets = hirl_scale::agents::policies::PolicyAssets::shipped(&crate::common::root());
    (cfg.forecaster, cfg.agents) = (assets.forecaster, assets.agents);
    window_with(cfg)
}

/// What the window shows of a run at the current time (for "identical state" comparisons).
fn shown(app: &HirlApp) -> (u64, String) {
    let r = &app.store.runs[0];
    let state = format!(
        "{:?}|{:?}|{}|{}|{}|{}|{:?}",
        r.points.last(),
        r.scorecard,
        r.points.len(),
        r.events.len(),
        r.commander.len(),
        r.soldiers.len(),
        r.commander.last()
    );
    (app.store.now_secs, state)
}

#[test]
fn the_timeline_scrubs_back_ten_minutes_and_forward_to_the_identical_state() {
    let mut h = hirl_window();
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    for want in [600, 1_200, 1_800] {
        h.get_by_label("+10 min").click();
        step_until(&mut h, 60, "ten minutes on", |a| a.store.now_secs == want);
    }
    h.step();
    let before = shown(h.state());
    assert!(h.state().store.runs[0].commander.len() >= 30, "HiRL decisions are in the store");

    h.get_by_label("−10 min").click();
    step_until(&mut h, 60, "ten minutes back", |a| a.store.now_secs == 1_200);
    h.step();
    let back = shown(h.state());
    assert_eq!(h.state().store.runs[0].points.last().map(|p| p.t_secs), Some(1_200), "the plots end at now");
    assert_eq!(h.state().store.recorded_until_secs, 1_800, "the timeline still spans the recorded run");
    assert_ne!(back, before);

    h.get_by_label("+10 min").click();
    step_until(&mut h, 60, "forward again", |a| a.store.now_secs == 1_800);
    h.step();
    assert_eq!(shown(h.state()), before, "scrubbing back and forward again gives the identical state");
    cascades_agree_with_the_scorecards(h.state());
}

#[test]
fn an_opened_recording_replays_to_its_scorecards() {
    let mut h = hirl_window();
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    let path = crate::common::root().join("scenarios/recordings/small.rec.ron");
    let rec = hirl_scale::replay::Recording::load_file(&path).expect("shipped recording");
    h.state_mut().open_recording_path(&path);
    step_until(&mut h, 20, "the replay", |a| a.store.runs.len() == 2 && a.store.origin.ends_with("small.rec.ron"));
    assert_eq!(h.state().store.recorded_until_secs, rec.end_secs, "the timeline spans the recording");
    h.step();
    assert!(h.query_by_label("Single run").is_some(), "the toolbar follows the side-by-side recording");
    h.get_by_label("max").click();
    h.get_by_label("Play").click();
    step_until(&mut h, 120, "the end of the recording", |a| a.store.now_secs == rec.end_secs && !a.store.playing);
    h.step();
    let cards: Vec<_> = h.state().store.runs.iter().map(|r| r.scorecard.clone().expect("scorecard")).collect();
    assert_eq!(cards, rec.scorecards, "the replay ends on the recorded scorecards, bit for bit");
    let injected = h.state().store.runs[1]
        .events
        .iter()
        .any(|e| matches!(&e.kind, hirl_scale::sim::TimelineKind::Event { injected: true, .. }));
    assert!(injected, "the recorded injection fired in the replay");
    assert!(cascades_agree_with_the_scorecards(h.state()) > 0, "the recorded flash sale cascades");
}

/// HPA on small with `share` of every pool held warm from the start, once the first frame shows the reserve.
fn window_holding(share: f64) -> Harness<'static, HirlApp> {
    let mut cfg = WorkerConfig::new(load("small"), "small.ron", "hpa");
    cfg.warm_reserve = Some(hirl_scale::policy::WarmReserveSpec::Every(share));
    let mut h = window_with(cfg);
    step_until(&mut h, 20, "the reserve in a frame", |a| a.store.warm_reserve.is_some());
    h.step();
    h
}

#[test]
fn the_warm_reserve_menu_shows_the_reserve_and_restarts_the_run_under_another() {
    let mut h = window_holding(0.2);
    // A combo box carries its selected text as its value.
    assert!(h.query_by_value("warm reserve: 20% in every pool").is_some(), "the reserve from the command line");
    let generation = h.state().store.generation;

    pick(&mut h, "warm reserve: 20% in every pool", "40% in shared-general");
    step_until(&mut h, 20, "a restart under the new reserve", |a| {
        a.store.generation != generation
            && a.store.warm_reserve.as_ref().map(ToString::to_string).as_deref() == Some("40% in shared-general")
    });
    h.step();
    pick(&mut h, "warm reserve: 40% in shared-general", "none");
    step_until(&mut h, 20, "no reserve", |a| a.store.warm_reserve.is_none());
    h.step();
    assert!(h.query_by_value("warm reserve: none").is_some());
}

#[test]
fn side_by_side_the_reserve_can_be_held_under_the_challenger_only() {
    let mut h = window_holding(0.3);
    assert!(h.query_by_label("heuristic only").is_none(), "one run: nobody to leave out");
    side_by_side(&mut h);
    h.step();
    let generation = h.state().store.generation;
    h.get_by_label("heuristic only").click();
    step_until(&mut h, 20, "a restart with the reserve under the heuristic only", |a| {
        a.store.generation != generation && a.store.warm_reserve_for == ["heuristic"]
    });
    step_until(&mut h, 20, "scorecards", |a| a.store.runs.iter().all(|r| r.scorecard.is_some()));
    h.step();
    assert!(h.query_by_value("warm reserve: 30% in every pool, under heuristic only").is_some());
    let said: Vec<Option<String>> =
        h.state().store.runs.iter().map(|r| r.scorecard.as_ref().and_then(|c| c.warm_reserve.clone())).collect();
    assert_eq!(said, [None, Some("30% in every pool".to_string())], "HPA runs as shipped");

    // Another reserve keeps the scope; "none" clears both.
    pick(&mut h, "warm reserve: 30% in every pool, under heuristic only", "10% in every pool");
    step_until(&mut h, 20, "10% under the heuristic only", |a| {
        a.store.warm_reserve == Some(hirl_scale::policy::WarmReserveSpec::Every(0.1))
            && a.store.warm_reserve_for == ["heuristic"]
    });
    h.step();
    // Another challenger takes the reserve with it: still "the challenger with a reserve against HPA as shipped".
    // The run's heading carries the same text; the menu is the combo box.
    pick(&mut h, "policy: heuristic", "threshold");
    step_until(&mut h, 20, "the reserve under the threshold only", |a| {
        a.store.policies == ["hpa", "threshold"] && a.store.warm_reserve_for == ["threshold"]
    });
    h.step();
    assert!(h.query_by_value("warm reserve: 10% in every pool, under threshold only").is_some());
    h.get_by_label("threshold only").click();
    step_until(&mut h, 20, "held under both runs again", |a| a.store.warm_reserve_for.is_empty());
}

#[test]
fn about_the_agents_shows_how_the_model_was_made_and_its_held_out_misses_or_why_it_was_refused() {
    let mut h = hirl_window();
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.step();
    // Below the fold of the column's scroll area: clicked through AccessKit.
    h.get_by_label("About the agents").click_accesskit();
    h.run_steps(2);
    assert!(h.query_by_label_contains("trained by `hirl-scale train hirl --seed 11").is_some());
    assert!(h.query_by_label_contains("source tree: git 6b6697d").is_some());
    assert_eq!(h.query_all_by_label("MISSED").count(), 2, "the two held-out misses are shown as such");
    // The frontier `eval frontier --record-in-model` stored: what the P0+P1 target would cost.
    assert!(
        h.query_by_label_contains("the price of the P0+P1 target in node-hours, by `hirl-scale eval frontier")
            .is_some()
    );
    assert!(
        h.query_by_label_contains(
            "no setting meets P0+P1 ≤ −75% at no more node-hours than HPA; the cheapest that reaches −75%: \
             --size-floor payment=1.03"
        )
        .is_some()
    );

    let mut h = window_with(WorkerConfig::new(load("small"), "small.ron", "hirl"));
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.step();
    // Below the fold of the column's scroll area: clicked through AccessKit.
    h.get_by_label("About the agents").click_accesskit();
    h.run_steps(2);
    assert!(h.query_by_label_contains("The agents were refused, so every domain runs on its stock HPA").is_some());
}

#[test]
fn without_agents_hirl_runs_on_hpa_and_the_toolbar_still_compares_it() {
    // No agents loaded: `hirl` runs on the HPA fallback and its run is named so, but the toolbar and its commands
    // keep the policy's own name (side by side used to ask for a policy called "hirl (HPA fallback)").
    let mut h = window_with(WorkerConfig::new(load("small"), "small.ron", "hirl"));
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.step();
    assert_eq!(h.state().store.runs[0].policy, "hirl (HPA fallback)");
    assert!(h.query_by_value("policy: hirl").is_some(), "the menu names the policy");
    side_by_side(&mut h);
    assert_eq!(h.state().store.policies, ["hpa", "hirl"]);
    h.step();
    assert!(h.state().notice.as_ref().is_none_or(|n| !n.is_error), "no error: {:?}", h.state().notice);
    // Back to one run: the policy under test, not the reference.
    h.get_by_label("Single run").click();
    step_until(&mut h, 20, "one run", |a| a.store.runs.len() == 1);
    assert_eq!(h.state().store.policies, ["hirl"]);
}

#[test]
fn the_size_floor_menu_restarts_hirl_under_a_raised_floor_names_it_and_records_it() {
    let p0 = hirl_scale::agents::hirl::SizeFloor::parse("P0=1.08").expect("parses");
    let mut h = hirl_window();
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    h.get_by_label("Side by side").click();
    step_until(&mut h, 20, "HPA against HiRL", |a| a.store.policies == ["hpa", "hirl"]);
    h.step();
    assert!(h.query_by_value("size floor: shipped").is_some(), "the shipped floor to begin with");
    let generation = h.state().store.generation;

    pick(&mut h, "size floor: shipped", "×1.080 for P0 (others ×0.905)");
    step_until(&mut h, 20, "a restart under the raised floor, with scorecards", |a| {
        a.store.generation != generation
            && a.store.size_floor == p0
            && a.store.runs.iter().all(|r| r.scorecard.is_some())
    });
    h.step();
    assert!(h.query_by_value("size floor: P0=1.08").is_some());
    let named: Vec<Option<String>> =
        h.state().store.runs.iter().map(|r| r.scorecard.as_ref().and_then(|c| c.size_floor.clone())).collect();
    assert_eq!(named, [None, Some("×1.080 for P0 (others ×0.905)".to_string())], "HiRL's card alone names it");
    assert!(h.query_by_label("· size floor ×1.080 for P0 (others ×0.905)").is_some(), "the scorecard panel says so");

    // Saved from the window, the recording carries the floor, and opening it brings the floor back.
    h.get_by_label("+10 min").click();
    step_until(&mut h, 60, "ten minutes on", |a| a.store.now_secs == 600);
    let path = temp_path("window-floor.rec.ron");
    h.state_mut().save_recording_path(&path);
    step_until(&mut h, 20, "the recording saved", |a| a.notice.as_ref().is_some_and(|n| n.text.contains("saved")));
    let rec = hirl_scale::replay::Recording::load_file(&path).expect("the saved recording loads");
    assert_eq!(rec.size_floor.as_ref(), Some(&p0));
    pick(&mut h, "size floor: P0=1.08", "shipped (×0.905)");
    step_until(&mut h, 20, "back to the shipped floor", |a| a.store.size_floor.is_shipped());
    h.state_mut().open_recording_path(&path);
    step_until(&mut h, 20, "the replay, under the recorded floor", |a| {
        a.store.origin.ends_with(".rec.ron") && a.store.size_floor == p0
    });
    let _ = std::fs::remove_file(&path);

    // With no HiRL run the floor has nothing to apply to: the menu is off.
    h.get_by_label("Single run").click();
    step_until(&mut h, 20, "one run", |a| a.store.runs.len() == 1);
    h.step();
    pick(&mut h, "policy: hirl", "hpa");
    step_until(&mut h, 20, "HPA alone", |a| a.store.policies == ["hpa"]);
    h.step();
    use egui_kittest::kittest::NodeT;
    let menu = h.get_by_value("size floor: P0=1.08");
    assert!(menu.accesskit_node().is_disabled(), "no Soldiers to floor under HPA");
}

#[test]
fn clicking_a_time_in_the_event_timeline_goes_there() {
    let mut h = window("small", Speed::X600);
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    // On until some entry lies at least a minute back (small's first node arrivals and breaches come within the hour).
    let back =
        |a: &HirlApp| a.store.runs[0].events.iter().rev().map(|e| e.t_secs).find(|&t| t + 60 <= a.store.now_secs);
    for k in 1..=6 {
        if back(h.state()).is_some() {
            break;
        }
        h.get_by_label("+10 min").click();
        step_until(&mut h, 60, "ten minutes on", |a| a.store.now_secs == k * 600);
    }
    // Fold the sections above it, so the timeline is in view (only what is in view can be clicked).
    for section in [
        "Scorecard",
        "Domain budgets and reserve",
        "Latency p99 vs SLO, and traffic",
        "Pending pods",
        "Node pools and provisioner",
        "Forecast intervals",
        "Event timeline",
    ] {
        h.get_by_label(section).click();
        h.run_steps(2);
    }
    let t = back(h.state()).expect("an entry a minute back");
    let label = hirl_scale::scenario::clock::clock_label_secs(&h.state().store.scenario, t);
    let row = h.query_all_by_label(&label).next().expect("the entry's time is listed");
    row.click();
    step_until(&mut h, 60, "the entry's moment", |a| a.store.now_secs == t);
}

#[test]
fn side_by_side_prose_wraps_inside_its_column() {
    // The fraud-cascade recording (HPA against HiRL) well into its incident: the forecast panel names its source at
    // the end of a row, and the inspector's summaries and safety lines run long. egui lets a row too wide for a
    // column widen it, and every text below would then wrap past the window's edge.
    let mut h = hirl_window();
    step_until(&mut h, 20, "first frame", |a| !a.store.runs.is_empty());
    let path = crate::common::root().join("scenarios/recordings/fraud-cascade.rec.ron");
    h.state_mut().open_recording_path(&path);
    step_until(&mut h, 60, "the replay", |a| a.store.runs.len() == 2 && a.store.origin.ends_with("cascade.rec.ron"));
    h.state_mut().seek(4_200);
    step_until(&mut h, 120, "14:10", |a| a.store.now_secs == 4_200 && a.store.runs[1].commander.len() >= 60);
    // The status bar ("replaying …") spans the whole window under both columns: only the panels' texts are checked.
    h.state_mut().notice = None;
    h.run_steps(3);
    let columns = [h.get_by_label("policy: hpa").rect(), h.get_by_label("policy: hirl").rect()];
    let mut prose = 0;
    for node in h.query_all(by().role(Role::Label)) {
        let text = node.value().unwrap_or_default();
        if text.chars().count() < 50 {
            continue; // figures and names; tables wider than a column scroll inside it
        }
        let rect = node.rect();
        let Some(column) = columns.iter().find(|c| rect.left() >= c.left() && rect.left() < c.right()) else {
            continue;
        };
        prose += 1;
        assert!(
            rect.right() <= column.right() + 0.5,
            "runs to {} past its column's {}: {text}",
            rect.right(),
            column.right()
        );
    }
    assert!(prose >= 10, "long texts checked: {prose}");
    h.get_by_label_contains("the Commander");
}
