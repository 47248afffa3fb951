//! HiRL-Scale agents: determinism, NaN fallback, the model file contract, and a short training run on `small.ron`.

use std::sync::Arc;

use hirl_scale::agents::forecast::{DEFAULT_MODEL_PATH, ForecasterModel};
use hirl_scale::agents::hirl::features::SOLDIER_OBS;
use hirl_scale::agents::hirl::nets::HirlNets;
use hirl_scale::agents::hirl::policy::HirlPolicy;
use hirl_scale::agents::hirl::safety::SafetyLevel;
use hirl_scale::agents::hirl::train::{self, CurveRow, Progress, Stage, TrainConfig};
use hirl_scale::agents::hirl::{
    Brain,
    record::{self, DecisionLog},
};
use hirl_scale::policy::{self, Autoscaler};
use hirl_scale::sim::Simulation;

use crate::common::{hirl, load, scratch_dir, succeeded, temp_path};

struct Quiet;
impl Progress for Quiet {
    fn phase(&mut self, _: &str, _: usize) {}
    fn step(&mut self) {}
    fn row(&mut self, _: &CurveRow) {}
}

/// The teacher-driven executor with `cfg`, run on `s` (its own seed) until `until_secs`; the forecaster falls back.
fn teacher_until(
    s: &hirl_scale::scenario::Scenario,
    cfg: hirl_scale::agents::hirl::policy::HirlConfig,
    until_secs: u64,
) -> (Simulation, HirlPolicy) {
    let mut sim = Simulation::new(s, s.seed);
    let fallback = ForecasterModel::fallback("test");
    let mut p = HirlPolicy::with_config(s, sim.layout(), s.seed, Brain::Teacher, fallback, cfg);
    policy::run_until(&mut sim, &mut p, until_secs, |_| {});
    (sim, p)
}

/// A tiny training configuration on `small.ron` (a few PPO iterations).
fn tiny(seed: u64) -> TrainConfig {
    let stage = |name: &str, c: bool, s: bool, iterations| Stage {
        name: name.into(),
        scenarios: vec!["small".into()],
        train_commander: c,
        train_soldiers: s,
        teacher_commander: !c,
        forecast_noise_sigma: if c && s { 0.1 } else { 0.0 },
        iterations,
    };
    TrainConfig {
        seed,
        scale: 1.0,
        episode_secs: 1800,
        episodes_per_iteration: 2,
        bc_episodes: 2,
        bc_epochs: 2,
        validation_episodes: 1,
        // Every candidate also runs small.ron once at full length, next to HPA, and is judged on the figures.
        full_scale_validation_seeds: 1,
        hidden: vec![16],
        minibatch: 256,
        max_soldier_samples: 512,
        // The Commander's update stops as soon as it has moved at all (checked before each minibatch step), so
        // it takes exactly one step per iteration; the Soldiers keep the default target.
        target_kl_commander: 0.0,
        stages: vec![
            stage("soldiers", false, true, 1),
            stage("commander", true, false, 1),
            stage("joint", true, true, 1),
        ],
        ..TrainConfig::default()
    }
}

fn tiny_training(seed: u64) -> (HirlNets, train::Trainer) {
    let s = load("small");
    let fallback = ForecasterModel::fallback("test");
    train::train(tiny(seed), &[s], fallback, &mut Quiet, &mut |_| Ok(())).expect("trains")
}

fn tiny_nets(seed: u64) -> (HirlNets, Vec<CurveRow>) {
    let (nets, trainer) = tiny_training(seed);
    (nets, trainer.curves)
}

fn run_hirl(brain: Brain, secs: u64) -> (DecisionLog, hirl_scale::sim::Scorecard, Vec<SafetyLevel>) {
    let s = load("small");
    let mut sim = Simulation::new(&s, s.seed);
    let mut p = HirlPolicy::new(&s, sim.layout(), s.seed, brain, ForecasterModel::fallback("test"));
    policy::run_until(&mut sim, &mut p, secs, |_| {});
    let levels = (0..5).map(|d| p.safety().level(d)).collect();
    (p.decisions().cloned().unwrap_or_default(), sim.scorecard(p.name()), levels)
}

#[test]
fn the_trainer_refuses_a_scenario_of_another_number_of_domains_before_any_work() {
    let four = crate::common::four_domains();
    let e = train::Trainer::new(tiny(3), &[four], ForecasterModel::fallback("test")).err().expect("refused");
    assert!(matches!(e, train::TrainError::Unsupported(_)), "{e}");
    assert_eq!(
        e.to_string(),
        "cannot train on it: scenario \"small\" has 4 domains; the HiRL agents are built for exactly 5 (one Soldier \
         each)"
    );
}

#[test]
fn a_short_training_run_on_small_trains_saves_and_reloads() {
    let (nets, trainer) = tiny_training(3);
    let curves = trainer.curves.clone();
    // Behaviour cloning + one row per PPO iteration, every number finite.
    assert_eq!(curves.len(), 4);
    for r in &curves[1..] {
        assert!(r.commander_kl.is_finite() && r.soldier_kl.is_finite() && r.validation_score.is_finite(), "{r:?}");
    }
    assert!(curves[1].soldier_value_loss > 0.0, "the Soldiers trained in the first stage");
    // Behaviour cloning is scored first and always kept.
    assert!(curves[0].selected && curves[0].validation_node_hours > 0.0, "{:?}", curves[0]);
    // Every candidate was run at full scale next to HPA; a later one was kept only when it is within HPA's cost
    // and scaling actions and the best so far is not, or when it is as affordable with fewer P0+P1 breach minutes.
    let hpa = trainer.full_scale_hpa().expect("HPA's reference runs").clone();
    assert!(hpa.runs == 1 && hpa.node_hours > 0.0, "{hpa:?}");
    let full: Vec<_> = curves.iter().map(|r| r.full_scale.clone().expect("full-scale totals")).collect();
    assert!(full.iter().all(|f| f.runs == 1 && f.node_hours > 0.0), "{full:?}");
    let affordable = |f: &hirl_scale::sim::SuiteTotals| {
        f.node_hours <= hpa.node_hours
            && f.scaling_actions_per_app_hour <= hpa.scaling_actions_per_app_hour
            && f.p0_priority_inversion_minutes == 0.0
    };
    let mut best = &full[0];
    for (r, f) in curves.iter().zip(&full).skip(1) {
        let better = (affordable(f) && !affordable(best))
            || (affordable(f) == affordable(best) && f.p0_p1_breach_minutes < best.p0_p1_breach_minutes);
        assert_eq!(r.selected, better, "{f:?} against {best:?}");
        if r.selected {
            best = f;
        }
    }
    assert!(curves[0].csv().split(',').count() == CurveRow::HEADER.split(',').count());
    // The KL target bounds each update: the Commander (target 0) stops after one step, and never when it is not
    // learning; the Soldiers take between one step and every step (4 epochs × 2 minibatches of 256).
    let steps: Vec<(usize, usize)> =
        curves[1..].iter().map(|r| (r.commander_actor_steps, r.soldier_actor_steps)).collect();
    assert_eq!(steps.iter().map(|s| s.0).collect::<Vec<_>>(), vec![0, 1, 1], "{steps:?}");
    assert!(steps[0].1 >= 1 && steps[0].1 <= 8 && steps[1].1 == 0, "{steps:?}");
    assert!(curves[2].commander_kl > 0.0, "the one step moved the Commander");
    // New training clips standardised inputs, and the file says so.
    assert_eq!(nets.commander.obs_clip_sigmas, Some(hirl_scale::agents::hirl::nets::OBS_CLIP_SIGMAS));
    let dir = temp_path("agents");
    let path = dir.join("hirl.safetensors");
    nets.save(&path).expect("saves");
    let back = HirlNets::load(&path).expect("reloads");
    assert_eq!(back, nets);

    // The learned networks drive a run, with a value estimate on every decision.
    let (log, _, _) = run_hirl(Brain::Learned(Arc::new(back)), 1200);
    assert_eq!(log.commander.len(), 20);
    assert!(log.commander.iter().all(|r| r.value.is_some_and(f32::is_finite)));
    assert!(log.soldiers.iter().all(|r| r.value.is_some() && r.obs.len() == SOLDIER_OBS));

    // Another schema is refused with the file and the field named; `run --policy hirl` then runs HPA.
    let meta = path.with_extension("json");
    let text = std::fs::read_to_string(&meta).expect("metadata");
    std::fs::write(&meta, text.replace("hirl-scale-agents/1", "hirl-scale-agents/0")).expect("write");
    let err = HirlNets::load(&path).expect_err("refused").to_string();
    assert!(err.contains("hirl.json") && err.contains("hirl-scale-agents/0"), "{err}");
    let out = hirl()
        .args(["run", "scenarios/small.ron", "--policy", "hirl", "--agents"])
        .arg(&path)
        .current_dir(crate::common::root())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("hirl-scale-agents/0") && stderr.contains("run by HPA"), "{stderr}");
    assert!(stdout.contains("hirl (HPA fallback)"), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Interrupted after the first PPO iteration and resumed from what a checkpoint holds (weights through their files,
/// the state through JSON), training ends with the very networks, curves and selection of the uninterrupted run.
#[test]
fn a_resumed_training_ends_exactly_where_the_uninterrupted_one_does() {
    let (whole, whole_trainer) = tiny_training(9);
    let dir = scratch_dir("resume");
    let (current_path, best_path) = (dir.join("current.safetensors"), dir.join("best.safetensors"));
    let mut saved_state = None;
    let small = load("small");
    let fallback = ForecasterModel::fallback("test");
    // The interrupted run: stop (with an error, as a killed process would) once the first PPO iteration is saved.
    let stopped = train::train(tiny(9), std::slice::from_ref(&small), fallback.clone(), &mut Quiet, &mut |t| {
        let (state, best) = t.resume_state().expect("selection ran");
        if state.iterations_done() < 1 {
            return Ok(());
        }
        best.save(&best_path).expect("best saved");
        t.nets(serde_json::Value::Null).expect("nets").save(&current_path).expect("current saved");
        saved_state = Some(serde_json::to_string(&state).expect("state encodes"));
        Err(train::TrainError::Other("interrupted".into()))
    });
    assert!(stopped.is_err(), "the run was interrupted");
    let saved_state = saved_state.expect("a state was saved");
    let state: train::ResumeState = train::ResumeState::from_json(saved_state.as_bytes()).expect("state decodes");
    let current = HirlNets::load(&current_path).expect("current loads");
    let best = HirlNets::load(&best_path).expect("best loads");

    // Resuming with anything else than what trained the checkpoint is refused, naming what differs.
    let refusal = |cfg: TrainConfig, scenarios: &[hirl_scale::scenario::Scenario], forecaster: ForecasterModel| {
        let refused =
            train::resume(cfg, scenarios, forecaster, &current, best.clone(), state.clone(), &mut Quiet, &mut |_| {
                Ok(())
            });
        refused.err().map(|e| e.to_string()).unwrap_or_default()
    };
    let message =
        refusal(TrainConfig { episodes_per_iteration: 3, ..tiny(9) }, std::slice::from_ref(&small), fallback.clone());
    assert!(message.contains("episodes_per_iteration: 2 vs 3"), "{message}");
    // Other scenario files.
    let mut edited = small.clone();
    edited.domains[0].slo.p99_latency_ms += 1.0;
    let message = refusal(tiny(9), &[edited], fallback.clone());
    assert!(message.contains("training scenario \"small\" is not the one"), "{message}");
    // Another forecaster: the shipped learned model instead of the fallback the checkpoint trained with.
    let learned = ForecasterModel::load(&crate::common::root().join(DEFAULT_MODEL_PATH));
    assert!(learned.is_learned(), "the shipped forecaster loads");
    let message = refusal(tiny(9), std::slice::from_ref(&small), learned);
    assert!(message.contains("the forecaster is not the one the checkpoint was trained with"), "{message}");
    // A state claiming 1e20 s of training (a damaged file) is refused naming the field: it panicked converting the
    // seconds. The top-level `wall_secs` is the state's last field; the curve rows have their own before it.
    let at = saved_state.rfind("\"wall_secs\":").expect("the state's time") + "\"wall_secs\":".len();
    let end = at + saved_state[at..].find([',', '}']).expect("the number's end");
    let damaged = format!("{}1e20{}", &saved_state[..at], &saved_state[end..]);
    let refused = train::ResumeState::from_json(damaged.as_bytes()).expect_err("checked on reading");
    assert!(refused.starts_with("wall_secs: 100000000000000000000 is not"), "{refused}");
    let unchecked: train::ResumeState = serde_json::from_str(&damaged).expect("decodes unchecked");
    let refused = train::resume(
        tiny(9),
        std::slice::from_ref(&small),
        fallback.clone(),
        &current,
        best.clone(),
        unchecked,
        &mut Quiet,
        &mut |_| Ok(()),
    );
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("training state: wall_secs"), "{message}");

    let (resumed, resumed_trainer) =
        train::resume(tiny(9), &[small], fallback, &current, best, state, &mut Quiet, &mut |_| Ok(()))
            .expect("resumes");
    assert_eq!(resumed.commander, whole.commander);
    assert_eq!(resumed.soldier, whole.soldier);
    let without_time = |rows: &[CurveRow]| -> Vec<CurveRow> {
        rows.iter().map(|r| CurveRow { wall_secs: 0.0, ..r.clone() }).collect()
    };
    assert_eq!(whole_trainer.curves.len(), 4, "behaviour cloning and three PPO iterations");
    assert_eq!(without_time(&resumed_trainer.curves), without_time(&whole_trainer.curves));
}

#[test]
fn same_seed_same_training_and_same_decisions() {
    let (a, _) = tiny_nets(5);
    let (b, _) = tiny_nets(5);
    assert_eq!(a.commander, b.commander);
    assert_eq!(a.soldier, b.soldier);
    let run = |n: &HirlNets| run_hirl(Brain::Learned(Arc::new(n.clone())), 1800);
    let (la, ca, _) = run(&a);
    let (lb, cb, _) = run(&b);
    assert_eq!(la, lb);
    assert_eq!(ca, cb);
    let (lt1, _, _) = run_hirl(Brain::Teacher, 1800);
    let (lt2, _, _) = run_hirl(Brain::Teacher, 1800);
    assert_eq!(lt1, lt2);
}

#[test]
fn a_non_finite_network_output_hands_every_domain_to_hpa() {
    let (mut nets, _) = tiny_nets(7);
    for b in &mut nets.soldier.actor.layers.last_mut().expect("layers").bias {
        *b = f32::NAN;
    }
    let (log, card, levels) = run_hirl(Brain::Learned(Arc::new(nets)), 600);
    assert!(levels.iter().all(|l| *l == SafetyLevel::HpaFallback), "{levels:?}");
    // Soldiers stop deciding once their domain is handed back; HPA keeps the cluster running.
    let first_tick: Vec<_> = log.soldiers.iter().filter(|r| r.t_secs == 0).collect();
    assert!(log.soldiers.len() <= first_tick.len() + 5, "{} soldier decisions", log.soldiers.len());
    assert!(card.cluster.p0_p1_slo_breach_minutes < 1.0);
}

#[test]
fn hirl_teacher_runs_from_the_command_line_and_beats_hpa_on_small() {
    let s = load("small");
    let mut sim = Simulation::new(&s, s.seed);
    let mut hpa = policy::baseline("hpa", sim.layout()).expect("hpa");
    policy::run_until(&mut sim, hpa.as_mut(), s.duration_secs, |_| {});
    let hpa_card = sim.scorecard("hpa");
    let (log, card, _) = run_hirl(Brain::Teacher, s.duration_secs);
    assert_eq!(log.commander.len() as u64, s.duration_secs / 60);
    assert!(
        card.cluster.p0_priority_inversion_minutes <= hpa_card.cluster.p0_priority_inversion_minutes,
        "{} vs {}",
        card.cluster.p0_priority_inversion_minutes,
        hpa_card.cluster.p0_priority_inversion_minutes
    );
    let out = hirl()
        .args(["run", "scenarios/small.ron", "--policy", "hirl-teacher"])
        .current_dir(crate::common::root())
        .output()
        .expect("runs");
    assert!(succeeded(&out).contains("hirl-teacher"));
}

#[test]
fn hirl_removes_nodes_but_none_within_the_churn_window_of_arriving() {
    // small.ron buys and returns nodes around its spikes; the stock cluster autoscaler churns some of them.
    let s = load("small");
    let (_, card, _) = run_hirl(Brain::Teacher, s.duration_secs);
    assert!(card.cluster.nodes_removed > 0, "the run scales nodes down: {}", card.cluster.nodes_removed);
    assert_eq!(card.cluster.node_churn_nodes, 0, "no node leaves within the churn window of arriving");
    assert!(crate::common::run(&s, "hpa").cluster.node_churn_nodes > 0, "the stock autoscaler does churn here");
}

#[test]
fn an_announced_sale_is_held_warm_ahead_as_payments_own_pods_so_an_early_start_finds_them_running() {
    // flash-sale-early: announced for 13:00, Payment doubles at 12:40. From 45 minutes before the announced start the
    // executor holds the announced lift warm: by default as Payment's own pods (running when the sale comes early),
    // or as placeholders in its pool (nodes bought, pods still to start). Without that lead the nodes come after the
    // start.
    use hirl_scale::agents::hirl::policy::HirlConfig;
    use hirl_scale::sim::{DomainId, PoolId};
    let s = load("flash-sale-early");
    struct Held {
        placeholders_millicores: u64,
        payment_ready: u32,
        max_lift: f64,
        breach_minutes: f64,
    }
    let run = |cfg: HirlConfig| {
        let (lead, as_pods) = (cfg.announced_lead_secs, cfg.announced_as_pods);
        let (mut sim, mut p) = teacher_until(&s, cfg, 5990);
        let view = sim.observe();
        let placeholders_millicores = view.pool(PoolId(0)).reserve_placed_millicores;
        let payment_ready = view.domain(DomainId(0)).ready_pods;
        let log = p.take_decisions();
        // The Commander's records say how much of the reserve is held for the promotion: none when it is held as
        // pods, and then the Soldiers' records carry the lift.
        let last = log.commander.last().expect("Commander decisions");
        assert!(last.reserve_millicores[0] >= last.announced_reserve_millicores[0], "{last:?}");
        assert_eq!(last.announced_reserve_millicores[0] > 0, lead > 0 && !as_pods);
        let lifts = log.soldiers.iter().filter(|r| r.domain == 0 && r.t_secs + lead >= 7200);
        let max_lift = lifts.map(|r| r.announced_lift).fold(1.0, f64::max);
        assert!(log.soldiers.iter().filter(|r| r.t_secs + lead < 7200).all(|r| r.announced_lift == 1.0));
        policy::run_until(&mut sim, &mut p, 7800, |_| {});
        let breach_minutes = sim.scorecard(p.name()).domains[0].slo_breach_minutes;
        Held { placeholders_millicores, payment_ready, max_lift, breach_minutes }
    };
    let pods = run(HirlConfig::default());
    let placeholders = run(HirlConfig { announced_as_pods: false, ..HirlConfig::default() });
    let none = run(HirlConfig { announced_lead_secs: 0, ..HirlConfig::default() });
    // Held as pods: Payment runs the lift before the sale, with the lift (×2 at the peak) in its records.
    assert!(pods.max_lift > 1.5, "the Soldiers held Payment for the lift: ×{:.2}", pods.max_lift);
    assert!(
        f64::from(pods.payment_ready) > 1.4 * f64::from(none.payment_ready),
        "Payment ready before the start: {} pods held as pods, {} without the lead",
        pods.payment_ready,
        none.payment_ready
    );
    // Held as placeholders: the room, not the pods.
    assert_eq!(placeholders.max_lift, 1.0, "no lift in the Soldiers' records");
    assert!(
        placeholders.placeholders_millicores > 10 * none.placeholders_millicores.max(1),
        "held warm before the start: {} m against {} m without the lead",
        placeholders.placeholders_millicores,
        none.placeholders_millicores
    );
    assert!(pods.placeholders_millicores < placeholders.placeholders_millicores / 4);
    for (how, held) in [("as pods", &pods), ("as placeholders", &placeholders)] {
        assert!(
            held.breach_minutes < 0.5 * none.breach_minutes,
            "Payment breaches {:.1} min with the lead held {how}, {:.1} without",
            held.breach_minutes,
            none.breach_minutes
        );
    }
    assert!(
        pods.breach_minutes <= placeholders.breach_minutes,
        "{} > {}",
        pods.breach_minutes,
        placeholders.breach_minutes
    );
}

#[test]
fn callees_first_seats_fraud_before_payment_and_shortens_frauds_breach() {
    // fraud-cascade: Payment triples at 14:00 and calls Fraud inline; both share a pool that can only grow as fast as
    // the provisioner boots nodes. Payment's pods seated ahead of Fraud's would serve nothing within its SLO.
    use hirl_scale::agents::hirl::policy::HirlConfig;
    let s = load("fraud-cascade");
    let run = |cfg: HirlConfig| {
        let (sim, mut p) = teacher_until(&s, cfg, 5400);
        let interventions = p.safety().interventions().to_vec();
        let log = p.take_decisions();
        assert_eq!(log.interventions, interventions, "every safety change reaches the decision log");
        (log, sim.scorecard(p.name()))
    };
    let (log, with) = run(HirlConfig::default());
    // Payment is handed to HPA during the spike: no Soldier decision of it while it is, and the inspector finds
    // the hand-over one Soldier period after Payment's last decision.
    let (start, end) = record::next_fallback(&log.interventions, 0, 3600).expect("payment handed to HPA in the spike");
    let payment: Vec<u64> = log.soldiers.iter().filter(|r| r.domain == 0).map(|r| r.t_secs).collect();
    assert!(!payment.iter().any(|&t| t >= start && end.is_none_or(|e| t < e)), "fallback {start}–{end:?}");
    let last = payment.iter().copied().filter(|&t| t < start).max().expect("decisions before the spike");
    assert_eq!(start, last + HirlConfig::default().soldier_period_secs);
    if let Some(end) = end {
        assert!(payment.contains(&end), "its Soldier decides again at {end}");
    }
    let (off, without) = run(HirlConfig { callees_first: false, ..HirlConfig::default() });
    let (holds, none) = (log.holds, off.holds);
    assert!(none.is_empty(), "no hold when switched off: {none:?}");
    let first = holds.first().expect("a hold during the spike");
    assert_eq!((first.caller, first.callee, first.started), (0, 1, true), "payment waits for fraud: {holds:?}");
    assert!(first.t_secs >= 3600, "not before the spike: {first:?}");
    assert!(holds.iter().any(|h| h.caller == 0 && !h.started), "the hold ends once fraud is seated: {holds:?}");
    let fraud = |c: &hirl_scale::sim::Scorecard| c.domains[1].slo_breach_minutes;
    assert!(
        fraud(&with) < 0.75 * fraud(&without),
        "fraud breaches {:.1} min with callees first, {:.1} without",
        fraud(&with),
        fraud(&without)
    );

    // Payment spends the worst of the spike on its HPAs (safety fallback at 2× SLO), so it makes no Soldier
    // decisions then. With the fallback off, its Soldier keeps deciding through the hold: each decision made in a
    // hold says so, and its recorded changes are those made after the hold, which never adds a Payment pod.
    let mut safety = hirl_scale::agents::hirl::safety::SafetyConfig::default();
    safety.by_priority[0].fallback_ratio = f32::INFINITY;
    let (log, _) = run(HirlConfig { safety, ..HirlConfig::default() });
    let held: Vec<_> = log.soldiers.iter().filter(|r| r.held_for_callee.is_some()).collect();
    assert!(!held.is_empty(), "Payment's Soldier decided during a hold: {:?}", log.holds);
    for r in held {
        assert_eq!((r.domain, r.held_for_callee), (0, Some(1)), "at {} s", r.t_secs);
        assert!(r.replica_changes.iter().all(|&(_, before, after)| after <= before), "at {} s", r.t_secs);
    }
}

#[test]
fn survival_first_seats_every_payment_app_before_any_gets_more_and_shortens_the_breach() {
    // fraud-cascade: Payment triples at 14:00 and the shared pool grows only as fast as the provisioner boots nodes.
    // A domain's p99 is request-weighted over its apps, so it stays at the timeout while any busy app is saturated:
    // seating every app to the pods that carry its load first ends the breach sooner than seating some apps whole.
    use hirl_scale::agents::hirl::policy::HirlConfig;
    use hirl_scale::agents::hirl::survival::SurvivalConfig;
    let s = load("fraud-cascade");
    let run = |cfg: HirlConfig| {
        let (sim, mut p) = teacher_until(&s, cfg, 7200);
        (p.take_decisions(), sim.scorecard(p.name()))
    };
    let (log, with) = run(HirlConfig::default());
    let off = SurvivalConfig { enabled: false, ..SurvivalConfig::default() };
    let (none, without) = run(HirlConfig { survival: off, ..HirlConfig::default() });
    assert!(none.stagings.is_empty(), "no staging when switched off: {:?}", none.stagings);
    let payment: Vec<_> = log.stagings.iter().filter(|st| st.domain == 0).collect();
    let first = payment.first().expect("payment staged in the spike");
    assert!(first.started && first.t_secs >= 3600, "not before the spike: {first:?}");
    assert!(payment.iter().any(|st| !st.started), "staging ends once every app is seated: {payment:?}");
    assert!(record::stagings_at(&log.stagings, 0).is_empty(), "nothing staged at the start");
    assert!(record::stagings_at(&log.stagings, first.t_secs).contains(&(0, first.t_secs)));
    // Slack waits for room (HirlConfig::slack_waits_for_room) already keeps pods above the need out of a full pool,
    // part of what staging does: without it, staging takes this breach from 47.6 to 26.0 minutes; with it, from 29.2
    // to 27.1.
    let breach = |c: &hirl_scale::sim::Scorecard| c.domains[0].slo_breach_minutes;
    assert!(
        breach(&with) < 0.95 * breach(&without),
        "payment breaches {:.1} min with survival first, {:.1} without",
        breach(&with),
        breach(&without)
    );
    // Staging holds back pods, not nodes: the cluster is no smaller at the end of the surge.
    let (peak, peak_without) = (with.cluster.peak_nodes, without.cluster.peak_nodes);
    assert!(f64::from(peak) >= 0.98 * f64::from(peak_without), "peak nodes {peak} against {peak_without} without");
}

#[test]
fn a_gentle_ramp_is_led_and_a_steep_surge_is_not() {
    // priority-inversion: Payment climbs ×1.6 over five minutes from 14:00. Its Soldier sizes ahead of the climb
    // (never before it), and Payment breaches less than without the lead (teacher, scenario seed: 0 minutes
    // against 3.0 by 14:15). fraud-cascade's 3× surge in two minutes gets no lead: pods asked for on top of it would
    // only queue ahead of the ones survival first seats.
    use hirl_scale::agents::hirl::policy::HirlConfig;
    use hirl_scale::agents::hirl::ramp_lead::RampLeadConfig;
    let run = |name: &str, cfg: HirlConfig, until: u64| {
        let s = load(name);
        let (sim, mut p) = teacher_until(&s, cfg, until);
        (p.take_decisions(), sim.scorecard(p.name()).domains[0].slo_breach_minutes)
    };
    let (log, with) = run("priority-inversion", HirlConfig::default(), 4500);
    let led: Vec<(u64, f64)> =
        log.soldiers.iter().filter(|r| r.domain == 0 && r.ramp_lead > 1.0).map(|r| (r.t_secs, r.ramp_lead)).collect();
    assert!(!led.is_empty(), "Payment's climb is led");
    let cap = RampLeadConfig::default().max_ln.exp();
    assert!(led.iter().all(|&(t, m)| t > 3600 && t < 4200 && m <= cap + 1e-9), "{led:?}");
    assert!(log.soldiers.iter().filter(|r| r.t_secs < 3600).all(|r| r.ramp_lead == 1.0), "no lead on a calm hour");
    // While led, Payment runs no hotter than its HPAs would (its level is at least ×1).
    let min_level = RampLeadConfig::default().min_level;
    assert!(
        log.soldiers.iter().filter(|r| r.domain == 0 && r.ramp_lead > 1.0).all(|r| r.level_multiplier >= min_level),
        "a led decision ran the domain below ×{min_level}"
    );
    let off = RampLeadConfig { enabled: false, ..RampLeadConfig::default() };
    let (none, without) = run("priority-inversion", HirlConfig { ramp_lead: off, ..HirlConfig::default() }, 4500);
    assert!(none.soldiers.iter().all(|r| r.ramp_lead == 1.0));
    assert!(with < without, "Payment breaches {with:.1} min with the lead, {without:.1} without");
    let (surge, _) = run("fraud-cascade", HirlConfig::default(), 3900);
    assert!(surge.soldiers.iter().filter(|r| r.domain <= 1).all(|r| r.ramp_lead == 1.0), "no lead on a steep surge");
}

#[test]
fn every_soldier_sizes_its_domain_at_or_above_its_priority_s_floor() {
    // small.ron, the teacher for an hour: P0's floor raised to ×1.3, the others at the shipped ×0.905. Every Soldier
    // decision's level honours its own domain's floor, and P0's floor binds (the teacher alone sizes lower).
    use hirl_scale::agents::hirl::SizeFloor;
    use hirl_scale::agents::hirl::policy::HirlConfig;
    let s = load("small");
    let floor = SizeFloor::parse("P0=1.3").expect("parses");
    let (sim, mut p) = teacher_until(&s, HirlConfig { size_floor: floor.clone(), ..HirlConfig::default() }, 3600);
    let log = p.take_decisions();
    let layout = sim.layout();
    assert!(!log.soldiers.is_empty());
    let mut p0_at_floor = 0;
    for r in &log.soldiers {
        let d = &layout.domains[r.domain];
        let least = f64::from(floor.min_level_ln(d.priority.rank(), &d.id)).exp();
        assert!(r.level_multiplier >= least - 1e-9, "domain {} at {} s: ×{}", r.domain, r.t_secs, r.level_multiplier);
        if layout.domains[r.domain].priority.rank() == 0 && (r.level_multiplier - 1.3).abs() < 1e-6 {
            p0_at_floor += 1;
        }
    }
    assert!(p0_at_floor > 0, "P0's floor never bound");
    assert!(
        log.soldiers.iter().any(|r| layout.domains[r.domain].priority.rank() > 0 && r.level_multiplier < 1.2),
        "the other priorities keep the shipped floor"
    );
}

#[test]
fn a_floor_on_one_domain_binds_there_and_leaves_the_rest_of_its_priority_shipped() {
    // small.ron, the teacher for an hour, Fraud (P0) floored at ×1.3 by name: Fraud's Soldier never sizes below it
    // and the floor binds, while Payment, the other P0 domain, still sizes under ×1.3 as under the shipped floor.
    use hirl_scale::agents::hirl::SizeFloor;
    use hirl_scale::agents::hirl::policy::HirlConfig;
    let s = load("small");
    let floor = SizeFloor::parse("fraud=1.3").expect("parses");
    let (sim, mut p) = teacher_until(&s, HirlConfig { size_floor: floor, ..HirlConfig::default() }, 3600);
    let log = p.take_decisions();
    let id = |r: &hirl_scale::agents::hirl::record::SoldierRecord| sim.layout().domains[r.domain].id.clone();
    let levels = |domain: &str| -> Vec<f64> {
        log.soldiers.iter().filter(|r| id(r) == domain).map(|r| r.level_multiplier).collect()
    };
    let (fraud, payment) = (levels("fraud"), levels("payment"));
    assert!(!fraud.is_empty() && !payment.is_empty());
    assert!(fraud.iter().all(|&m| m >= 1.3 - 1e-9), "fraud under its floor: {fraud:?}");
    assert!(fraud.iter().any(|&m| (m - 1.3).abs() < 1e-6), "fraud's floor never bound");
    assert!(payment.iter().any(|&m| m < 1.2), "payment keeps the shipped floor: {payment:?}");
}

#[test]
fn slack_waits_for_room_instead_of_preempting_lower_priorities_on_a_calm_afternoon() {
    // fraud-cascade's first hour, before its spike: P0's size floor raised to ×1.2 holds slack in Payment and Fraud
    // as the afternoon grows. Created without room, that slack preempts Internal (P3) from the shared pool and
    // Internal waits for nodes in breach; held back until nodes land, it costs Internal nothing, and the cluster
    // still grows for it (the autoscaler buys the deferred demand).
    use hirl_scale::agents::hirl::SizeFloor;
    use hirl_scale::agents::hirl::policy::HirlConfig;
    let s = load("fraud-cascade");
    let size_floor = SizeFloor::parse("P0=1.2").expect("parses");
    let run = |slack_waits_for_room| {
        let cfg = HirlConfig { size_floor: size_floor.clone(), slack_waits_for_room, ..HirlConfig::default() };
        let (sim, mut p) = teacher_until(&s, cfg, 3_600);
        let held = p.take_decisions().soldiers.iter().filter(|r| r.slack_held_millicores > 0).count();
        (sim.scorecard("hirl-teacher"), held)
    };
    let ((waits, held), (preempts, none)) = (run(true), run(false));
    assert!(held > 0 && none == 0, "the Soldier decisions say when slack waited: {held} with the rule, {none} without");
    let internal = |c: &hirl_scale::sim::Scorecard| c.domains[4].slo_breach_minutes;
    assert!(internal(&preempts) > 1.0, "the slack preempts Internal when it does not wait: {}", internal(&preempts));
    assert!(internal(&waits) < 0.25 * internal(&preempts), "{} against {}", internal(&waits), internal(&preempts));
    assert_eq!(waits.domains[..2].iter().map(|d| d.slo_breach_minutes).sum::<f64>(), 0.0, "P0 is calm either way");
    let nodes = |c: &hirl_scale::sim::Scorecard| c.cluster.peak_nodes;
    assert!(f64::from(nodes(&waits)) >= 0.97 * f64::from(nodes(&preempts)), "nodes are still bought for the slack");
}

/// Values a hand edit, a bad merge or a truncated copy puts in a model's metadata: zero, the edges of the integer
/// types, absurd magnitudes and a sign.
const MODEL_EDGE_VALUES: [&str; 8] = ["0", "1", "4097", "18446744073709551615", "1e308", "1e-300", "-1", "-0.5"];

/// What to do to a shipped model: numbers of its metadata to replace (where, which of [`MODEL_EDGE_VALUES`]), and
/// bytes of its weights to overwrite (in the header or not, where, the new byte).
type Damage = (Vec<(proptest::sample::Index, usize)>, Vec<(bool, proptest::sample::Index, u8)>);

fn damage() -> impl proptest::strategy::Strategy<Value = Damage> {
    use proptest::prelude::any;
    (
        proptest::collection::vec((any::<proptest::sample::Index>(), 0..MODEL_EDGE_VALUES.len()), 0..=3),
        proptest::collection::vec((any::<bool>(), any::<proptest::sample::Index>(), any::<u8>()), 0..=4),
    )
}

/// Writes a damaged copy of `models/NAME.{json,safetensors}` to a folder of its own and gives the weights' path.
/// Half the byte edits land in the safetensors header: an 8-byte little-endian length, then that many bytes of JSON
/// naming each tensor's type, shape and place.
fn damaged_copy(name: &str, (json_edits, byte_edits): &Damage) -> std::path::PathBuf {
    let models = crate::common::root().join("models");
    let meta = std::fs::read_to_string(models.join(format!("{name}.json"))).expect("shipped metadata");
    let meta = crate::common::with_numbers_replaced(&meta, json_edits, &MODEL_EDGE_VALUES);
    let mut weights = std::fs::read(models.join(format!("{name}.safetensors"))).expect("shipped weights");
    let header_len = u64::from_le_bytes(weights[..8].try_into().expect("8 bytes"));
    let header_end = 8 + usize::try_from(header_len).expect("header length");
    for (in_header, at, byte) in byte_edits {
        let i = if *in_header { at.index(header_end) } else { header_end + at.index(weights.len() - header_end) };
        weights[i] = *byte;
    }
    let n = DAMAGED_COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = temp_path(format!("damaged-{name}-{n}"));
    std::fs::create_dir_all(&dir).expect("temp folder");
    let path = dir.join(format!("{name}.safetensors"));
    std::fs::write(&path, &weights).expect("write weights");
    std::fs::write(path.with_extension("json"), &meta).expect("write metadata");
    path
}

static DAMAGED_COPIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A refusal names the file at fault, so a user knows which of the pair to replace.
fn names_a_file_of(message: &str, weights: &std::path::Path) -> bool {
    [weights.to_path_buf(), weights.with_extension("json")].iter().any(|p| message.contains(&*p.to_string_lossy()))
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

    /// A damaged copy of the shipped agents (up to three numbers of `hirl.json` replaced, up to four bytes of
    /// `hirl.safetensors` overwritten) is either refused naming its file, or loads and drives a run to its end — the
    /// safety layer hands a domain to HPA where an output is not finite. Never a panic: the window and every command
    /// load the agents a user names. (3,000 cases passed locally: about a third load, the rest are refused.)
    #[test]
    fn damaged_agents_are_refused_naming_their_file_or_drive_a_run(damage in damage()) {
        let path = damaged_copy("hirl", &damage);
        match HirlNets::load(&path) {
            Err(e) => proptest::prop_assert!(names_a_file_of(&e.to_string(), &path), "{e}"),
            Ok(nets) => {
                let (log, card, _) = run_hirl(Brain::Learned(Arc::new(nets)), 600);
                proptest::prop_assert_eq!(card.simulated_secs, 600);
                proptest::prop_assert_eq!(log.commander.len(), 10);
            }
        }
        let _ = std::fs::remove_dir_all(path.parent().expect("its folder"));
    }

    /// The same for the traffic forecaster: a damaged `forecaster.{json,safetensors}` is refused naming its file (and
    /// the run falls back to exponential smoothing), or it loads and HiRL's teacher runs on its forecasts to the end.
    #[test]
    fn a_damaged_forecaster_is_refused_naming_its_file_or_forecasts_through_a_run(damage in damage()) {
        let path = damaged_copy("forecaster", &damage);
        match hirl_scale::agents::forecast::ForecastModel::load(&path) {
            Err(e) => proptest::prop_assert!(names_a_file_of(&e.to_string(), &path), "{e}"),
            Ok(model) => {
                let s = load("small");
                let mut sim = Simulation::new(&s, s.seed);
                let forecaster = ForecasterModel::Learned(Arc::new(model));
                let mut p = HirlPolicy::new(&s, sim.layout(), s.seed, Brain::Teacher, forecaster);
                policy::run_until(&mut sim, &mut p, 600, |_| {});
                proptest::prop_assert_eq!(sim.now_secs(), 600);
            }
        }
        let _ = std::fs::remove_dir_all(path.parent().expect("its folder"));
    }
}
