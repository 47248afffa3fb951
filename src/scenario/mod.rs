//! Scenario files: the cluster, its traffic and its scripted events, in RON.
//!
//! Contract:
//! - A scenario is plain data (`serde`), versioned by [`SCENARIO_VERSION`]; unknown fields are rejected.
//! - [`load_str`] reports *every* problem it finds, each with `file:line:col`: syntax and type errors from the RON
//!   parser, then semantic problems from [`validate`] located through [`locate::SourceMap`].
//! - [`to_ron_string`] and [`load_str`] round-trip exactly: `load(save(s)) == s`.
//! - Units are in field names: `_secs` (integer seconds of simulated time), `_ms`, `_millicores`, `_mib`, `_rps`.
//! - Nothing here knows about the simulator's internals, the UI or the networks.

pub mod clock;
pub mod describe;
mod hpa_spec;
mod links;
pub mod locate;
mod model;
mod validate;
pub mod what_if;

use std::fmt;
use std::path::Path;

pub use links::DomainLinks;
pub use model::*;
pub use validate::{MAX_DURATION_SECS, MAX_POOLS, Problem, validate, validate_event};
pub use what_if::WhatIf;

use locate::{Location, SourceMap};

/// The base tick, seconds: a scenario's length is a whole number of ticks, and the simulator steps by it
/// (`sim::TICK_SECS` is this constant).
pub const TICK_SECS: u64 = 5;

/// The scenario format version this build reads and writes.
pub const SCENARIO_VERSION: u32 = 1;

/// One problem in a scenario file, with where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub location: Location,
    /// Value path inside the file, e.g. `domains[2].tiers[0].min_replicas`; empty for syntax errors.
    pub path: String,
    pub message: String,
}

/// Everything wrong with a scenario file; never empty.
#[derive(Debug, thiserror::Error)]
pub struct ScenarioError {
    /// The file name as given by the user, or `<input>` for in-memory text.
    pub origin: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        writeln!(f, "{}: {n} problem{} in scenario file", self.origin, if n == 1 { "" } else { "s" })?;
        for d in &self.diagnostics {
            if d.path.is_empty() {
                writeln!(f, "{}:{}: {}", self.origin, d.location, d.message)?;
            } else {
                writeln!(f, "{}:{}: {}: {}", self.origin, d.location, d.path, d.message)?;
            }
        }
        Ok(())
    }
}

/// I/O failures and content problems, kept apart so a caller can tell "could not read" from "read, but wrong".
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    // The I/O error is in the message, not a `source`: `{:#}` at the CLI edge would print it twice.
    #[error("cannot read scenario file {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error(transparent)]
    Invalid(#[from] ScenarioError),
}

/// Parses and validates scenario text. `origin` names the source in messages.
pub fn load_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    let scenario: Scenario = match ron::from_str(text) {
        Ok(s) => s,
        Err(e) => {
            let location = Location::of_ron_error(&e);
            return Err(ScenarioError {
                origin: origin.to_string(),
                diagnostics: vec![Diagnostic { location, path: String::new(), message: e.code.to_string() }],
            });
        }
    };
    let problems = validate(&scenario);
    if problems.is_empty() {
        return Ok(scenario);
    }
    let map = SourceMap::parse(text);
    Err(ScenarioError {
        origin: origin.to_string(),
        diagnostics: problems
            .into_iter()
            .map(|p| Diagnostic { location: map.locate_nearest(&p.path), path: p.path, message: p.message })
            .collect(),
    })
}

/// Reads, parses and validates a scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, LoadError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| LoadError::Io { path: origin.clone(), error })?;
    Ok(load_str(&text, &origin)?)
}

/// Serialises a scenario as pretty RON, in the same shape the shipped files use.
pub fn to_ron_string(scenario: &Scenario) -> Result<String, ron::Error> {
    let config = ron::ser::PrettyConfig::new()
        .depth_limit(6)
        .struct_names(true)
        .separate_tuple_members(false)
        .enumerate_arrays(false);
    ron::ser::to_string_pretty(scenario, config)
}

/// Writes a scenario atomically: a temporary file beside the target, then a rename, so a crash never leaves half a file.
pub fn save_file(scenario: &Scenario, path: &Path) -> Result<(), SaveError> {
    let text = to_ron_string(scenario)?;
    write_atomic(path, text.as_bytes())?;
    Ok(())
}

/// The cause is in the message, not a `source` (`{:#}` at the CLI edge would print it twice; the window shows the
/// message alone).
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("cannot serialise scenario: {0}")]
    Serialise(ron::Error),
    #[error("cannot write file: {0}")]
    Io(std::io::Error),
}

impl From<ron::Error> for SaveError {
    fn from(e: ron::Error) -> Self {
        Self::Serialise(e)
    }
}

impl From<std::io::Error> for SaveError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Atomic file write: temp file in the same directory, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".to_string());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        // Best effort: do not leave the temporary behind when the rename fails.
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Multiplies app counts and traffic by `factor` (app counts rounded, at least 1 per tier).
///
/// The provisioner is left as it is, so at `factor` 0.1 it is ten times too big for the demand and a surge's nodes
/// arrive without the queueing a full-scale run shows. Scaling its boot concurrency (× `factor`) and backlog latency
/// (÷ `factor`) in HiRL's training episodes was measured and gave worse networks (docs/hirl-measurements.md,
/// "Three training changes").
pub fn scale_scenario(s: &Scenario, factor: f64) -> Scenario {
    let mut out = s.clone();
    for d in &mut out.domains {
        let before: u32 = d.tiers.iter().map(|t| t.apps).sum();
        for t in &mut d.tiers {
            t.apps = ((f64::from(t.apps) * factor).round() as u32).max(1);
        }
        let after: u32 = d.tiers.iter().map(|t| t.apps).sum();
        d.traffic.base_rps *= f64::from(after) / f64::from(before.max(1));
    }
    for p in &mut out.pools {
        p.max_nodes = ((f64::from(p.max_nodes) * factor).ceil() as u32).max(p.min_nodes.max(1));
        p.initial_nodes = None;
    }
    for e in &mut out.events {
        if let EventSpec::BatchJob { pods, .. } = e {
            *pods = ((f64::from(*pods) * factor).round() as u32).max(1);
        }
    }
    out
}
