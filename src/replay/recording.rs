//! The recording file (RON) and its checks.
//!
//! Contract:
//! - [`Recording::load_file`] refuses, with a message naming the file and the place (`file:line:col` for syntax,
//!   the field path otherwise): another format or simulator version, a scenario that fails validation or does not
//!   match its digest (edited, damaged, or another version of the scenario), injections out of order or outside the
//!   run, and checkpoints or scorecards that do not fit the policies. It reports every problem it finds.
//! - [`Recording::save_file`] writes atomically (a temporary file renamed over the target).
//! - `save → load` gives back an equal recording (floats round-trip exactly).
//! - Times are integer seconds of simulated time, on tick boundaries.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::agents::hirl::SizeFloor;
use crate::digest::Digest;
use crate::policy::WarmReserveSpec;
use crate::scenario::locate::{Location, SourceMap};
use crate::scenario::what_if::Limits;
use crate::scenario::{self, Scenario};
use crate::sim::scorecard::SCORECARD_FORMAT;
use crate::sim::{InjectedEvent, SIM_VERSION, Scorecard, TICK_SECS};

/// The format this build reads and writes.
pub const FORMAT: &str = "hirl-scale-recording/1";

/// Largest recording file read. A recording keeps the scenario, the injections and a digest per run and hour, not
/// the run itself: the shipped ones are 35–38 KB, and a four-week run side by side adds about 70 KB of checkpoints.
/// 64 MiB leaves room for hundreds of thousands of injections and stops a wrong file (or `/dev/zero`) from being
/// read until the memory runs out.
pub const MAX_RECORDING_BYTES: u64 = 64 << 20;

/// How many runs a recording holds: one, or two side by side (as the window shows them).
pub const RUN_COUNTS: std::ops::RangeInclusive<usize> = 1..=2;

/// A model a recorded policy used, by role (`agents`, `forecaster`) and digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelStamp {
    pub role: String,
    /// See `HirlNets::digest` and `ForecasterModel::digest`.
    pub digest: String,
    /// Where the model was loaded from, for messages.
    pub source: String,
}

/// Digests of every run's simulation state at one time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub t_secs: u64,
    /// One per run, in the order of `policies`.
    pub state_digests: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    pub format: String,
    /// The simulator's [`SIM_VERSION`] when recorded.
    pub sim_version: u32,
    /// The scenario file the run started from (for titles and messages).
    pub origin: String,
    /// Digest of `scenario` (its JSON form): a recording whose scenario was changed is refused.
    pub scenario_digest: String,
    pub scenario: Scenario,
    pub seed: u64,
    /// One run, or two side by side (HPA first).
    pub policies: Vec<String>,
    /// The warm reserve the runs held (`--warm-reserve`); absent when none (and in recordings made before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_reserve: Option<WarmReserveSpec>,
    /// The runs (of `policies`) that held it, the others as shipped (`--warm-reserve-for`); absent: every run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warm_reserve_for: Vec<String>,
    /// The HiRL Soldiers' size floor the hirl runs used (`--size-floor`, the window's size-floor menu), in its text
    /// form (`P0=1.08`); absent: the shipped floor (and in recordings made before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_floor: Option<SizeFloor>,
    /// The limits the scenario had before the window's what-if menu (or `gui --what-if`) lifted them, so that a
    /// replay can put them back; absent when nothing was lifted, when the scenario came lifted, and in recordings
    /// made before it. Checked against the scenario's name and limits (see `Limits::problems_with`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlifted: Option<Limits>,
    /// The models the policies used; a replay needs the same ones.
    pub models: Vec<ModelStamp>,
    /// Events injected live, in injection order.
    pub injections: Vec<InjectedEvent>,
    /// How far the run was recorded.
    pub end_secs: u64,
    /// State digests along the run (every hour and at the end), to check a replay and to say where one diverged.
    pub checkpoints: Vec<Checkpoint>,
    /// The scorecard of every run at `end_secs`.
    pub scorecards: Vec<Scorecard>,
}

/// Why a recording file was refused.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    // The I/O error is in the message, not a `source`: `{:#}` at the CLI edge would print it twice.
    #[error("cannot read recording {path}: {error}")]
    Read { path: String, error: crate::text_file::ReadTextError },
    #[error("{0}")]
    Invalid(InvalidRecording),
    #[error("cannot write recording {path}: {message}")]
    Write { path: String, message: String },
}

/// Every problem found in a recording, each with its place.
#[derive(Debug)]
pub struct InvalidRecording {
    pub origin: String,
    /// (where: `line:col`, path) and message.
    pub problems: Vec<(Option<Location>, String, String)>,
}

impl fmt::Display for InvalidRecording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "{}: {n} problem{} in recording", self.origin, if n == 1 { "" } else { "s" })?;
        for (loc, path, message) in &self.problems {
            write!(f, "\n{}", self.origin)?;
            if let Some(l) = loc {
                write!(f, ":{l}")?;
            }
            if path.is_empty() {
                write!(f, ": {message}")?;
            } else {
                write!(f, ": {path}: {message}")?;
            }
        }
        Ok(())
    }
}

fn off_tick(t_secs: u64) -> String {
    format!("{t_secs} s is not on the {TICK_SECS} s tick")
}

/// Whether a run's name (its scorecard's `policy`) is that of `policy`: the policy itself, or a fallback it ran as
/// (`hirl (HPA fallback)`).
pub fn names_run_of(run_name: &str, policy: &str) -> bool {
    run_name == policy || run_name.strip_prefix(policy).is_some_and(|rest| rest.starts_with(" ("))
}

impl Recording {
    /// Digest of a scenario as recordings name it.
    pub fn scenario_digest_of(scenario: &Scenario) -> String {
        Digest::of_json(scenario)
    }

    /// Parses and checks recording text; `origin` names the source in messages.
    pub fn load_str(text: &str, origin: &str) -> Result<Recording, RecordingError> {
        let invalid = |problems| RecordingError::Invalid(InvalidRecording { origin: origin.to_string(), problems });
        // As a scenario's: an editor's byte order mark is not part of the text.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let rec: Recording = match ron::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                return Err(invalid(vec![(Some(Location::of_ron_error(&e)), String::new(), e.code.to_string())]));
            }
        };
        let problems = rec.problems();
        if problems.is_empty() {
            return Ok(rec);
        }
        let map = SourceMap::parse(text);
        Err(invalid(
            problems.into_iter().map(|(path, message)| (Some(map.locate_nearest(&path)), path, message)).collect(),
        ))
    }

    pub fn load_file(path: &Path) -> Result<Recording, RecordingError> {
        let origin = path.display().to_string();
        let text = crate::text_file::read_text(path, MAX_RECORDING_BYTES)
            .map_err(|error| RecordingError::Read { path: origin.clone(), error })?;
        Recording::load_str(&text, &origin)
    }

    pub fn to_ron_string(&self) -> Result<String, ron::Error> {
        let config = ron::ser::PrettyConfig::new().depth_limit(4).struct_names(true);
        ron::ser::to_string_pretty(self, config)
    }

    /// Writes the recording atomically.
    pub fn save_file(&self, path: &Path) -> Result<(), RecordingError> {
        let write = |message: String| RecordingError::Write { path: path.display().to_string(), message };
        let text = self.to_ron_string().map_err(|e| write(e.to_string()))?;
        scenario::write_atomic(path, text.as_bytes()).map_err(|e| write(e.to_string()))
    }

    /// Everything wrong with a parsed recording: (field path, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut fail = |path: String, message: String| out.push((path, message));
        if self.format != FORMAT {
            fail("format".into(), format!("expected \"{FORMAT}\", found \"{}\"", self.format));
            return out; // another format: nothing else is comparable
        }
        if self.sim_version != SIM_VERSION {
            fail(
                "sim_version".into(),
                format!(
                    "recorded with simulator version {}, this build is version {SIM_VERSION}: the run would not replay \
                     as it happened",
                    self.sim_version
                ),
            );
        }
        let scenario_problems = scenario::validate(&self.scenario);
        for p in &scenario_problems {
            fail(format!("scenario.{}", p.path), p.message.clone());
        }
        if scenario_problems.is_empty() && Recording::scenario_digest_of(&self.scenario) != self.scenario_digest {
            fail(
                "scenario".into(),
                format!(
                    "does not match scenario_digest {} (digest of this scenario: {}): the scenario was changed after \
                     recording, or the recording is damaged",
                    self.scenario_digest,
                    Recording::scenario_digest_of(&self.scenario)
                ),
            );
        }
        if scenario_problems.is_empty()
            && let Some(Err(e)) = self.warm_reserve.as_ref().map(|w| w.check(&self.scenario))
        {
            fail("warm_reserve".into(), e.to_string());
        }
        if scenario_problems.is_empty()
            && let Some(limits) = &self.unlifted
        {
            for (path, message) in limits.problems_with(&self.scenario) {
                fail(if path.is_empty() { "unlifted".into() } else { format!("unlifted.{path}") }, message);
            }
        }
        if !RUN_COUNTS.contains(&self.policies.len()) {
            fail("policies".into(), format!("expected one or two policies, found {}", self.policies.len()));
        }
        if self.warm_reserve.is_none() && !self.warm_reserve_for.is_empty() {
            fail(
                "warm_reserve_for".into(),
                "names the runs that held a warm reserve, but warm_reserve is absent".into(),
            );
        }
        for (i, p) in self.warm_reserve_for.iter().enumerate() {
            if !self.policies.contains(p) {
                fail(
                    format!("warm_reserve_for[{i}]"),
                    format!("{p} is not one of the recorded policies ({})", self.policies.join(", ")),
                );
            }
        }
        if self.size_floor.as_ref().is_some_and(|f| !f.is_shipped())
            && !self.policies.iter().any(|p| p.starts_with("hirl"))
        {
            fail(
                "size_floor".into(),
                format!(
                    "sets how low HiRL's Soldiers size a domain, but no recorded policy is hirl ({})",
                    self.policies.join(", ")
                ),
            );
        }
        if let Some(Err(e)) = self.size_floor.as_ref().map(|f| f.check(&self.scenario)) {
            fail("size_floor".into(), e);
        }
        let duration = self.scenario.duration_secs;
        if self.end_secs > duration || !self.end_secs.is_multiple_of(TICK_SECS) {
            fail(
                "end_secs".into(),
                format!(
                    "{} is not a tick (multiple of {TICK_SECS} s) within the scenario's {duration} s",
                    self.end_secs
                ),
            );
        }
        let mut last = 0;
        for (i, inj) in self.injections.iter().enumerate() {
            if inj.injected_at_secs < last || inj.injected_at_secs > self.end_secs {
                fail(
                    format!("injections[{i}].injected_at_secs"),
                    format!(
                        "{} s is out of order or after the end of the recording ({} s)",
                        inj.injected_at_secs, self.end_secs
                    ),
                );
            } else if !inj.injected_at_secs.is_multiple_of(TICK_SECS) {
                fail(format!("injections[{i}].injected_at_secs"), off_tick(inj.injected_at_secs));
            }
            last = inj.injected_at_secs;
            if scenario_problems.is_empty() {
                for p in scenario::validate_event(&self.scenario, &inj.event) {
                    fail(format!("injections[{i}].event{}", p.path), p.message);
                }
            }
        }
        let runs = self.policies.len();
        let mut last_t = None;
        for (i, c) in self.checkpoints.iter().enumerate() {
            if c.state_digests.len() != runs {
                fail(
                    format!("checkpoints[{i}].state_digests"),
                    format!("{} digests for {runs} run(s)", c.state_digests.len()),
                );
            }
            if c.t_secs > self.end_secs || last_t.is_some_and(|l| c.t_secs <= l) {
                fail(format!("checkpoints[{i}].t_secs"), format!("{} s is out of order or after the end", c.t_secs));
            } else if !c.t_secs.is_multiple_of(TICK_SECS) {
                // A replay seeks to ticks: an off-tick checkpoint would be checked at another time than it names.
                fail(format!("checkpoints[{i}].t_secs"), off_tick(c.t_secs));
            }
            last_t = Some(c.t_secs);
        }
        if self.scorecards.len() != runs {
            fail("scorecards".into(), format!("{} scorecards for {runs} run(s)", self.scorecards.len()));
        }
        // What a scorecard says it is must be what the recording ran: an edit here would otherwise read as a replay
        // whose scorecards differ (exit 3), not as a damaged file.
        for (i, (card, policy)) in self.scorecards.iter().zip(&self.policies).enumerate() {
            let at = |field: &str| format!("scorecards[{i}].{field}");
            if card.format != SCORECARD_FORMAT {
                fail(at("format"), format!("expected \"{SCORECARD_FORMAT}\", found \"{}\"", card.format));
            }
            if !names_run_of(&card.policy, policy) {
                fail(at("policy"), format!("\"{}\" is not the recorded policy {policy}", card.policy));
            }
            if card.scenario != self.scenario.name {
                fail(
                    at("scenario"),
                    format!("\"{}\" is not the recorded scenario {}", card.scenario, self.scenario.name),
                );
            }
            if card.seed != self.seed {
                fail(at("seed"), format!("{} is not the recorded seed {}", card.seed, self.seed));
            }
            if card.simulated_secs != self.end_secs {
                fail(
                    at("simulated_secs"),
                    format!("{} s, but the recording ends at {} s", card.simulated_secs, self.end_secs),
                );
            }
        }
        for (i, m) in self.models.iter().enumerate() {
            if !matches!(m.role.as_str(), "agents" | "forecaster") {
                fail(format!("models[{i}].role"), format!("unknown model role \"{}\" (agents, forecaster)", m.role));
            }
        }
        out
    }
}
