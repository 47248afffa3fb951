//! Recordings meet the models this process has loaded: which models a policy depends on, refusing a recording made
//! with other ones, and replaying a recording while checking it against its checkpoints.

use super::session::{Session, SessionConfig};
use crate::agents::policies::{self, PolicyAssets};
use crate::replay::{ModelStamp, Recording};
use crate::scenario::Scenario;
use crate::sim::Scorecard;

/// The models `policies` depend on when they run `scenario`, with the digests of those loaded in `assets`. Baselines
/// use none; `hirl-teacher` the forecaster; `hirl` the agents and the forecaster. On a scenario HiRL is not built for,
/// and for `hirl` without agents, there are none: they run as HPA.
pub fn model_stamps(policies: &[String], scenario: &Scenario, assets: &PolicyAssets) -> Vec<ModelStamp> {
    if crate::agents::hirl::features::check_scenario(scenario).is_err() {
        return Vec::new();
    }
    let mut out: Vec<ModelStamp> = Vec::new();
    let mut add = |role: &str, digest: String, user: &str| {
        if !out.iter().any(|m| m.role == role) {
            out.push(ModelStamp { role: role.to_string(), digest, source: format!("used by {user}") });
        }
    };
    for p in policies {
        match (p.as_str(), &assets.agents) {
            ("hirl", Ok(nets)) => {
                add("agents", nets.digest(), p);
                add("forecaster", assets.forecaster.digest(), p);
            }
            ("hirl-teacher", _) => add("forecaster", assets.forecaster.digest(), p),
            _ => {}
        }
    }
    out.sort_by(|a, b| a.role.cmp(&b.role));
    out
}

/// Refuses to run `hirl` on a scenario it is built for without agents: it would run as HPA under HiRL's name, and a
/// recording of it could never be replayed as `hirl` (`record`, `replay --rerecord`). `None` when it can run.
pub fn missing_agents(policies: &[String], scenario: &Scenario, assets: &PolicyAssets) -> Option<String> {
    match &assets.agents {
        Err(why)
            if policies.iter().any(|p| p == "hirl")
                && crate::agents::hirl::features::check_scenario(scenario).is_ok() =>
        {
            Some(format!("runs hirl, but no agents are loaded ({why})"))
        }
        _ => None,
    }
}

/// Refuses a recording whose policies are unknown or cannot run as recorded (`hirl` without agents), naming the
/// place. What `replay --rerecord` needs; [`check_recording`] also wants the same models.
pub fn check_policies(rec: &Recording, origin: &str, assets: &PolicyAssets) -> Result<(), String> {
    let known = policies::all_names();
    for (i, p) in rec.policies.iter().enumerate() {
        if !known.contains(&p.as_str()) {
            return Err(format!("{origin}: policies[{i}]: unknown policy \"{p}\" (known: {})", known.join(", ")));
        }
    }
    if let Some(why) = missing_agents(&rec.policies, &rec.scenario, assets) {
        return Err(format!("{origin}: policies: the recording {why}; it cannot be replayed as recorded"));
    }
    Ok(())
}

/// Refuses a recording whose policies are unknown or whose models differ from the loaded ones, naming the place.
pub fn check_recording(rec: &Recording, origin: &str, assets: &PolicyAssets) -> Result<(), String> {
    check_policies(rec, origin, assets)?;
    let have = model_stamps(&rec.policies, &rec.scenario, assets);
    for (i, m) in rec.models.iter().enumerate() {
        match have.iter().find(|h| h.role == m.role) {
            Some(h) if h.digest == m.digest => {}
            Some(h) => {
                return Err(format!(
                    "{origin}: models[{i}]: recorded with {} {}, but the loaded {} is {}: the run would not replay as \
                     it happened (load the model it was recorded with)",
                    m.role, m.digest, m.role, h.digest
                ));
            }
            None => {
                return Err(format!("{origin}: models[{i}]: the recorded policies do not use a {} model", m.role));
            }
        }
    }
    if let Some(h) = have.iter().find(|h| !rec.models.iter().any(|m| m.role == h.role)) {
        return Err(format!("{origin}: models: the recording does not say which {} it was made with", h.role));
    }
    Ok(())
}

/// A session that replays `rec` from t = 0 (after [`check_recording`]).
pub fn open_recording(
    rec: &Recording,
    origin: &str,
    assets: &PolicyAssets,
    cfg: SessionConfig,
) -> Result<Session, String> {
    check_recording(rec, origin, assets)?;
    Session::from_recording(rec, assets, cfg).map_err(|e| format!("{origin}: {e}"))
}

/// How a replay compared with its recording.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayReport {
    pub checkpoints_matched: usize,
    /// The first checkpoint whose state differed: (time, run).
    pub first_divergence: Option<(u64, usize)>,
    pub scorecards: Vec<Scorecard>,
    pub scorecards_match: bool,
}

impl ReplayReport {
    pub fn identical(&self) -> bool {
        self.first_divergence.is_none() && self.scorecards_match
    }
}

/// Replays a recording to its end, comparing the state at every checkpoint and the final scorecards.
pub fn verify(rec: &Recording, origin: &str, assets: &PolicyAssets) -> Result<ReplayReport, String> {
    let mut session = open_recording(rec, origin, assets, SessionConfig::every(u64::MAX / 2))?;
    let mut report = ReplayReport {
        checkpoints_matched: 0,
        first_divergence: None,
        scorecards: Vec::new(),
        scorecards_match: false,
    };
    for c in &rec.checkpoints {
        session.seek(c.t_secs);
        let now = session.state_digests();
        match now.iter().zip(&c.state_digests).position(|(a, b)| a != b) {
            Some(run) => {
                report.first_divergence.get_or_insert((c.t_secs, run));
            }
            None if report.first_divergence.is_none() => report.checkpoints_matched += 1,
            None => {}
        }
    }
    session.seek(rec.end_secs);
    report.scorecards = session.scorecards();
    report.scorecards_match = report.scorecards == rec.scorecards;
    Ok(report)
}
