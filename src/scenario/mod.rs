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
use std::path::{Path, PathBuf};

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
    Io { path: String, error: crate::text_file::ReadTextError },
    #[error(transparent)]
    Invalid(#[from] ScenarioError),
}

/// Parses and validates scenario text. `origin` names the source in messages. A leading UTF-8 byte-order mark (some
/// Windows editors write one) is skipped; the RON parser would stop at it ("Expected opening `(`" at 1:1).
pub fn load_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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

/// Largest scenario file read: the shipped ones are about 12 KB, and a scenario at every bound of the validator
/// (64 domains, eight pools, a hundred thousand events) is a few tens of MB. A wrong file (or `/dev/zero`) is
/// refused instead of read until the memory runs out.
pub const MAX_SCENARIO_BYTES: u64 = 64 << 20;

/// Reads, parses and validates a scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, LoadError> {
    let origin = path.display().to_string();
    let text = crate::text_file::read_text(path, MAX_SCENARIO_BYTES)
        .map_err(|error| LoadError::Io { path: origin.clone(), error })?;
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

/// The file a write to `path` lands in: every symlink followed, a dangling one to the file it names (created there,
/// the link kept), and the result made absolute where its directory exists. Refuses a link loop and a path ending
/// in `/` (it names a directory, and `Path` would drop the slash and write a file of that name).
pub fn final_target(path: &Path) -> std::io::Result<PathBuf> {
    use std::io::{Error, ErrorKind};
    if path.as_os_str().as_encoded_bytes().ends_with(b"/") {
        return Err(Error::new(ErrorKind::InvalidInput, "ends with '/': give a file name"));
    }
    // Linux follows at most 40 links in a path; a longer chain is a loop for every practical purpose.
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(meta) if meta.file_type().is_symlink() => p = link_target(&p, std::fs::read_link(&p)?),
            Ok(_) => return std::fs::canonicalize(&p),
            Err(_) => {
                let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                return Ok(match (std::fs::canonicalize(dir), p.file_name()) {
                    (Ok(dir), Some(name)) => dir.join(name),
                    _ => p,
                });
            }
        }
    }
    Err(Error::other("too many levels of symbolic links (a loop?)"))
}

/// Whether `path` reaches, through its links, an open file descriptor's entry: `/dev/stdout` is a link to
/// `/proc/self/fd/1`, `/dev/fd` one to `/proc/self/fd`. Such a path names the stream, whatever file it may be
/// redirected to. The writer asks it before [`final_target`], which would walk on to the file behind (or, on a pipe,
/// to a `pipe:[…]` that is no path).
fn names_open_descriptor(path: &Path) -> bool {
    let is_descriptor_dir = |dir: &Path| {
        dir == Path::new("/dev/fd") || (dir.starts_with("/proc") && dir.file_name().is_some_and(|n| n == "fd"))
    };
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        if p.parent().is_some_and(is_descriptor_dir) {
            return true;
        }
        let Ok(link) = std::fs::read_link(&p) else { return false };
        p = link_target(&p, link);
    }
    false
}

/// Where the link at `link_path`, whose text is `link`, points: a relative link is read from the link's directory.
fn link_target(link_path: &Path, link: PathBuf) -> PathBuf {
    match link_path.parent() {
        Some(dir) if link.is_relative() => dir.join(link),
        _ => link,
    }
}

/// What is at `target` (links followed), refusing what a write must not replace: a directory, or a file made
/// read-only (a rename needs only the directory's permission, so the file's own mode is what says "keep it").
/// `None` when nothing is there yet. The writer asks it, and so do the checks commands make before they run.
pub fn replaceable(target: &Path) -> std::io::Result<Option<std::fs::Metadata>> {
    use std::io::{Error, ErrorKind};
    let Ok(meta) = std::fs::metadata(target) else { return Ok(None) };
    if meta.is_dir() {
        return Err(Error::new(ErrorKind::IsADirectory, "is a directory; give a file name"));
    }
    if meta.is_file() && meta.permissions().readonly() {
        return Err(Error::new(ErrorKind::PermissionDenied, "the file is read-only"));
    }
    Ok(Some(meta))
}

/// Atomic file write: temp file in the same directory, fsync, rename; a failure at any step leaves the old file as
/// it was and no temporary behind.
///
/// - A symlink is written through ([`final_target`]): its target is replaced or created, and the link stays a link.
/// - A replaced file keeps its permissions (the temporary is created with the process's defaults); a read-only one
///   is refused, as `cp` would refuse it, even where the directory would allow the rename.
/// - Something that exists and is neither a file nor a directory (a terminal, a FIFO) is written to directly: there
///   is nothing to replace atomically, and a rename would put a file in place of the device.
/// - A path to an open file descriptor (`/dev/stdout`, `/dev/fd/3`, `/proc/self/fd/1`) is the stream, whatever it is
///   redirected to: written into, after what the command printed there (appended, stdout flushed first). With
///   stdout redirected to a file, a rename replaced that file, and the table printed before the JSON was lost.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    stage_atomic(path, bytes)?.commit()
}

/// The first half of [`write_atomic`]: the bytes written in full to a temporary beside `path` (or, for a device or
/// FIFO, held until the commit), with every check `write_atomic` makes. Nothing at `path` changes until
/// [`StagedWrite::commit`]; dropped uncommitted, the temporary is removed. Lets a caller write several files in full
/// (a model's weights and metadata) before replacing any, so that running out of space or a size limit on the
/// second leaves the old pair as it was.
pub fn stage_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<StagedWrite> {
    use std::io::Write;
    if names_open_descriptor(path) {
        let pending = Pending::Direct { target: path.to_path_buf(), bytes: bytes.to_vec(), stream: true };
        return Ok(StagedWrite { pending });
    }
    let target = final_target(path)?;
    let existing = replaceable(&target)?;
    if existing.as_ref().is_some_and(|meta| !meta.is_file()) {
        return Ok(StagedWrite { pending: Pending::Direct { target, bytes: bytes.to_vec(), stream: false } });
    }
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".to_string());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    // From here on the value owns the temporary: any early return below drops it, which removes the file.
    let staged = StagedWrite { pending: Pending::Rename { tmp: tmp.clone(), target } };
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    if let Some(meta) = &existing {
        f.set_permissions(meta.permissions())?;
    }
    f.sync_all()?;
    Ok(staged)
}

/// A file [`stage_atomic`] wrote and has not put in place yet.
#[must_use = "nothing is written until `commit`; dropped, the temporary is removed"]
pub struct StagedWrite {
    pending: Pending,
}

enum Pending {
    /// A complete temporary, renamed over `target` on commit.
    Rename {
        tmp: std::path::PathBuf,
        target: std::path::PathBuf,
    },
    /// A device or FIFO, or an open descriptor's stream: nothing to replace, the bytes are written into it on commit
    /// (a stream's appended, after this process's buffered stdout).
    Direct {
        target: std::path::PathBuf,
        bytes: Vec<u8>,
        stream: bool,
    },
    Done,
}

impl StagedWrite {
    /// Puts the file in place (a rename, or the write into a device); a failure removes the temporary.
    pub fn commit(mut self) -> std::io::Result<()> {
        use std::io::Write;
        match std::mem::replace(&mut self.pending, Pending::Done) {
            Pending::Rename { tmp, target } => {
                let renamed = std::fs::rename(&tmp, &target);
                if renamed.is_err() {
                    // Best effort: the rename failed, so do not leave the temporary behind.
                    let _ = std::fs::remove_file(&tmp);
                }
                renamed
            }
            Pending::Direct { target, bytes, stream } => {
                if stream {
                    // What was printed first goes first when the stream is stdout.
                    std::io::stdout().flush()?;
                }
                let mut f = std::fs::OpenOptions::new().write(true).append(stream).open(&target)?;
                f.write_all(&bytes).and_then(|()| f.flush())
            }
            Pending::Done => Ok(()),
        }
    }
}

impl Drop for StagedWrite {
    fn drop(&mut self) {
        if let Pending::Rename { tmp, .. } = &self.pending {
            // Best effort: never committed (a later write of the same batch failed, or this one did).
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Why a scenario cannot be scaled by a factor (`bench --scales`, `train hirl --scale`).
#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    #[error("{0} is not an app-count factor: give a finite number above 0")]
    Factor(f64),
    /// The scaled scenario breaks a bound of the validator (most apps, pods or nodes the simulator supports).
    #[error("scenario {name:?} scaled ×{factor} is out of bounds: {problems}")]
    OutOfBounds { name: String, factor: f64, problems: String },
}

/// A factor [`scale_scenario`] takes: finite and above 0 (the command line checks it as it parses).
pub fn check_scale_factor(factor: f64) -> Result<(), ScaleError> {
    if factor.is_finite() && factor > 0.0 { Ok(()) } else { Err(ScaleError::Factor(factor)) }
}

/// Multiplies app counts and traffic by `factor` (app counts rounded, at least 1 per tier), and checks the result
/// against the validator's bounds: a factor of 1e9 would otherwise ask for billions of apps and exhaust the memory.
///
/// The provisioner is left as it is, so at `factor` 0.1 it is ten times too big for the demand and a surge's nodes
/// arrive without the queueing a full-scale run shows. Scaling its boot concurrency (× `factor`) and backlog latency
/// (÷ `factor`) in HiRL's training episodes was measured and gave worse networks (docs/hirl-measurements.md,
/// "Three training changes").
pub fn scale_scenario(s: &Scenario, factor: f64) -> Result<Scenario, ScaleError> {
    check_scale_factor(factor)?;
    // Counts saturate at u32::MAX (far over every bound), so the validator below refuses them instead of them wrapping.
    let times = |n: u32, round: fn(f64) -> f64| round(f64::from(n) * factor).min(f64::from(u32::MAX)) as u32;
    let mut out = s.clone();
    for d in &mut out.domains {
        let before: u64 = d.tiers.iter().map(|t| u64::from(t.apps)).sum();
        for t in &mut d.tiers {
            t.apps = times(t.apps, f64::round).max(1);
        }
        let after: u64 = d.tiers.iter().map(|t| u64::from(t.apps)).sum();
        d.traffic.base_rps *= after as f64 / before.max(1) as f64;
    }
    for p in &mut out.pools {
        p.max_nodes = times(p.max_nodes, f64::ceil).max(p.min_nodes.max(1));
        p.initial_nodes = None;
    }
    for e in &mut out.events {
        if let EventSpec::BatchJob { pods, .. } = e {
            *pods = times(*pods, f64::round).max(1);
        }
    }
    let problems = validate(&out);
    if problems.is_empty() {
        Ok(out)
    } else {
        // The first few say what is out of bounds; a factor far too big breaks every count at once.
        const SHOWN: usize = 3;
        let mut shown = problems.iter().take(SHOWN).map(|p| format!("{}: {}", p.path, p.message)).collect::<Vec<_>>();
        if problems.len() > SHOWN {
            shown.push(format!("and {} more", problems.len() - SHOWN));
        }
        let problems = shown.join("; ");
        Err(ScaleError::OutOfBounds { name: s.name.clone(), factor, problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> Scenario {
        load_file(&Path::new("scenarios").join(name)).expect("shipped scenario")
    }

    fn apps(s: &Scenario) -> u64 {
        s.domains.iter().flat_map(|d| &d.tiers).map(|t| u64::from(t.apps)).sum()
    }

    /// Once refused with "Expected opening `(`" at 1:1.
    #[test]
    fn a_leading_byte_order_mark_is_skipped() {
        let text = std::fs::read_to_string("scenarios/small.ron").expect("shipped scenario");
        let with_bom = format!("\u{feff}{text}");
        assert_eq!(load_str(&with_bom, "bom.ron").expect("loads"), load_str(&text, "small.ron").expect("loads"));
        // Only at the start: one further on is the parser's to refuse, with where it is.
        let err = load_str(&format!("\u{feff}\u{feff}{text}"), "two.ron").expect_err("refused").to_string();
        assert!(err.contains("two.ron:1:"), "{err}");
        // A problem found later is located in the text without the mark, as an editor shows it.
        let broken = with_bom.replacen("version: 1,", "version: 7,", 1);
        let err = load_str(&broken, "bom.ron").expect_err("refused").to_string();
        let line = text.lines().position(|l| l.contains("version: 1,")).expect("written") + 1;
        assert!(err.contains(&format!("bom.ron:{line}:5: version: unsupported")), "{err}");
    }

    #[test]
    fn scaling_keeps_a_valid_scenario_within_the_bounds() {
        let s = shipped("reference-day.ron");
        for factor in [0.1, 1.0, 10.0] {
            let scaled = scale_scenario(&s, factor).expect("within bounds");
            assert!(validate(&scaled).is_empty());
            let want = (apps(&s) as f64 * factor).round();
            assert!((apps(&scaled) as f64 - want).abs() <= want * 0.01 + 22.0, "×{factor}: {}", apps(&scaled));
        }
        // Each tier keeps an app, however small the factor.
        let tiers = s.domains.iter().map(|d| d.tiers.len() as u64).sum::<u64>();
        assert_eq!(apps(&scale_scenario(&s, 1e-9).expect("one app a tier")), tiers);
    }

    #[test]
    fn scaling_refuses_a_factor_that_is_not_one_or_breaks_a_bound() {
        let s = shipped("small.ron");
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(scale_scenario(&s, bad), Err(ScaleError::Factor(_))), "{bad}");
        }
        // Billions of apps, once a saturated count that then overflowed its domain's sum, are refused by name.
        let Err(ScaleError::OutOfBounds { problems, .. }) = scale_scenario(&s, 1e12) else {
            panic!("×1e12 accepted");
        };
        assert!(problems.contains(".apps: brings the scenario to") || problems.contains("and "), "{problems}");
        assert!(problems.matches("; ").count() <= 3, "at most three problems and a count: {problems}");
    }

    use crate::test_dirs::{entries, temp_dir};

    #[cfg(unix)]
    #[test]
    fn atomic_writes_go_through_links_keep_permissions_and_leave_nothing_on_failure() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = temp_dir("links");
        let target = dir.join("target.json");
        std::fs::write(&target, "old").expect("write");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let link = dir.join("link.json");
        symlink(&target, &link).expect("symlink");

        write_atomic(&link, b"new").expect("write through the link");
        assert!(std::fs::symlink_metadata(&link).expect("link").file_type().is_symlink(), "the link stays a link");
        assert_eq!(std::fs::read_to_string(&target).expect("target"), "new");
        assert_eq!(std::fs::metadata(&target).expect("target").permissions().mode() & 0o777, 0o640);

        // A dangling link: the file it names is created, and the link kept.
        let dangling = dir.join("dangling.json");
        symlink(dir.join("created.json"), &dangling).expect("symlink");
        write_atomic(&dangling, b"made").expect("write through a dangling link");
        assert!(std::fs::symlink_metadata(&dangling).expect("link").file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(dir.join("created.json")).expect("created"), "made");
        std::fs::remove_file(&dangling).expect("rm");
        std::fs::remove_file(dir.join("created.json")).expect("rm");

        // A read-only file is refused and left as it was.
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o444)).expect("chmod");
        let err = write_atomic(&link, b"newer").expect_err("read-only");
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
        assert_eq!(std::fs::read_to_string(&target).expect("target"), "new");

        // A directory is refused, and nothing is left beside it.
        std::fs::create_dir(dir.join("sub")).expect("mkdir");
        let err = write_atomic(&dir.join("sub"), b"x").expect_err("a directory");
        assert_eq!(err.kind(), std::io::ErrorKind::IsADirectory);
        assert_eq!(entries(&dir), ["link.json", "sub", "target.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn atomic_writes_to_a_fifo_write_into_it_instead_of_replacing_it() {
        use std::io::Read;
        let dir = temp_dir("fifo");
        let fifo = dir.join("pipe");
        let c_path = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut text = String::new();
                std::fs::File::open(fifo).expect("open").read_to_string(&mut text).expect("read");
                text
            })
        };
        write_atomic(&fifo, b"through the pipe").expect("write");
        assert_eq!(reader.join().expect("reader"), "through the pipe");
        use std::os::unix::fs::FileTypeExt;
        assert!(
            std::fs::metadata(&fifo).expect("fifo").file_type().is_fifo(),
            "still a FIFO, as /dev/stdout stays a device"
        );
    }
}
