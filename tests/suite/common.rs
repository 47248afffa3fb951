//! Shared helpers: paths, loading, running a policy over a scenario, golden files.

use std::path::{Path, PathBuf};

use hirl_scale::policy;
use hirl_scale::scenario::{self, DomainLinks, Scenario};
use hirl_scale::sim::cascades::{Cascade, cascades};
use hirl_scale::sim::{Scorecard, Simulation, TimelineEvent};

pub const SHIPPED: &[&str] =
    &["reference-day", "flash-sale-early", "fraud-cascade", "provisioner-stampede", "priority-inversion", "small"];

/// The command-line binary built for this test run.
pub fn hirl() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_hirl-scale"))
}

/// Asserts a finished command succeeded (its stderr is the failure message) and gives its stdout.
pub fn succeeded(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts a finished command failed and gives its stderr (the refusal to check).
pub fn failed(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "it succeeded: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A path in the system's temporary directory for this test process: `hirl-{pid}-{name}` (the pid keeps two test
/// runs at once apart; `name` keeps the tests of one run apart).
pub fn temp_path(name: impl std::fmt::Display) -> PathBuf {
    std::env::temp_dir().join(format!("hirl-{}-{name}", std::process::id()))
}

/// A fresh directory at [`temp_path`]`(name)`, removed when dropped: at the end of the test, passing or failing.
pub struct ScratchDir(PathBuf);

pub fn scratch_dir(name: impl std::fmt::Display) -> ScratchDir {
    let dir = temp_path(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    ScratchDir(dir)
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for ScratchDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn scenario_path(name: &str) -> PathBuf {
    root().join("scenarios").join(format!("{name}.ron"))
}

pub fn load(name: &str) -> Scenario {
    match scenario::load_file(&scenario_path(name)) {
        Ok(s) => s,
        Err(e) => panic!("shipped scenario {name} does not load: {e}"),
    }
}

/// `small.ron` without its Internal domain: a valid scenario of four domains, which HiRL is not built for.
pub fn four_domains() -> Scenario {
    let mut s = load("small");
    s.domains.retain(|d| d.id != "internal");
    s.pools.iter_mut().for_each(|p| p.domains.retain(|d| d != "internal"));
    s
}

/// Runs `policy_name` over the whole scenario with its own seed.
pub fn run(s: &Scenario, policy_name: &str) -> Scorecard {
    run_for(s, policy_name, s.seed, s.duration_secs)
}

pub fn run_for(s: &Scenario, policy_name: &str, seed: u64, secs: u64) -> Scorecard {
    run_explained(s, policy_name, seed, secs).0
}

/// Runs like [`run_for`] and also explains the run's cascades from its timeline, which it returns too.
pub fn run_explained(
    s: &Scenario,
    policy_name: &str,
    seed: u64,
    secs: u64,
) -> (Scorecard, Vec<Cascade>, Vec<TimelineEvent>) {
    let mut sim = Simulation::new(s, seed);
    let mut p = policy::baseline(policy_name, sim.layout()).expect("known policy");
    policy::run_until(&mut sim, p.as_mut(), secs, |_| {});
    (sim.scorecard(policy_name), cascades(sim.timeline(), &DomainLinks::of(s)), sim.timeline().to_vec())
}

/// Compares a scorecard with its golden file; `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn check_golden(card: &Scorecard, file: &Path) {
    let text = serde_json::to_string_pretty(card).expect("scorecards serialise") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(file, &text).expect("write golden file");
        return;
    }
    let golden = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("missing golden file {} ({e}); run with UPDATE_GOLDEN=1", file.display()));
    if golden != text {
        let first_diff = golden
            .lines()
            .zip(text.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("line {}: golden `{}` vs now `{}`", i + 1, a.trim(), b.trim()))
            .unwrap_or_else(|| "length differs".to_string());
        panic!(
            "scorecard differs from {} — {first_diff}. If the change is intended, rerun with UPDATE_GOLDEN=1 and review the diff.",
            file.display()
        );
    }
}

/// The byte ranges of the number literals in `text` (digits and dots, not inside a name such as `p99`).
pub fn number_literals(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let inside_name = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if bytes[i].is_ascii_digit() && !inside_name {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            out.push(start..i);
        } else {
            i += 1;
        }
    }
    out
}

/// `text` with the number literals `edits` pick (an index into [`number_literals`], a value out of `values`) replaced;
/// two edits of one literal keep the first.
pub fn with_numbers_replaced(text: &str, edits: &[(proptest::sample::Index, usize)], values: &[&str]) -> String {
    let literals = number_literals(text);
    let mut chosen: Vec<(std::ops::Range<usize>, &str)> =
        edits.iter().map(|(at, v)| (literals[at.index(literals.len())].clone(), values[*v])).collect();
    // From the end backwards, so that each replacement leaves the ranges before it where they were.
    chosen.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    chosen.dedup_by_key(|(range, _)| range.start);
    let mut edited = text.to_owned();
    for (range, value) in &chosen {
        edited.replace_range(range.clone(), value);
    }
    edited
}
