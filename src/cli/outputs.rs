//! The files a headless command will write, checked before it runs anything: an output that cannot be written (a
//! directory, a read-only file, a directory that does not exist) failed only after the whole run, minutes into
//! `eval`; and one naming a file the command reads (`run small.ron --json small.ron`, `eval --json models/hirl.json`)
//! replaced the user's scenario or the shipped model with a scorecard.
//!
//! Paths are compared where they land ([`scenario::final_target`]): through symlinks and `..`, so a link to the
//! scenario is the scenario.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::agents::model_file::metadata_path;
use crate::scenario;

/// A file the command reads, which no output may name: what it is ("the scenario file") and where.
pub struct Input {
    pub what: String,
    pub path: PathBuf,
}

impl Input {
    pub fn new(what: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self { what: what.into(), path: path.into() }
    }
}

/// The scenario files, and the model files a HiRL run may read (the agents given or shipped, the shipped forecaster,
/// each with its metadata). Listed whatever the policies: an output over a model breaks it for every later run.
pub fn inputs(scenarios: &[&Path], agents: Option<&Path>) -> Vec<Input> {
    let mut out: Vec<Input> = scenarios.iter().map(|p| Input::new("the scenario file", *p)).collect();
    out.extend(model_pair("agents'", super::agents_path(agents)));
    out.extend(forecaster_pair());
    out
}

/// The shipped forecaster's weights and metadata: read by every HiRL run, and by `train hirl`.
pub fn forecaster_pair() -> [Input; 2] {
    model_pair("forecaster's", super::forecaster::default_model_path())
}

/// A model's weights and, beside them, its metadata (`whose`: "agents'", "forecaster's").
pub fn model_pair(whose: &str, weights: PathBuf) -> [Input; 2] {
    [
        Input::new(format!("the {whose} metadata"), metadata_path(&weights)),
        Input::new(format!("the {whose} weights"), weights),
    ]
}

/// A training's `--out`, checked before the training: the model writer's own checks of the pair
/// ([`crate::agents::model_file::check_output`]: not a `.json`, nothing there it may not replace, a directory it
/// can make), then none of the pair's files nor `also` (further outputs beside it, as flag and path) an input.
///
/// The command then has files to write: a reader of its stdout that stops early no longer ends it
/// ([`super::stdout::will_write_files`]); so for [`check`] with any output given.
pub fn check_model_out(out: &Path, also: &[(&str, &Path)], inputs: &[Input]) -> Result<()> {
    super::stdout::will_write_files();
    crate::agents::model_file::check_output(out).context("--out")?;
    let meta = metadata_path(out);
    let mut outputs = vec![("--out", Some(out)), ("--out's metadata", Some(meta.as_path()))];
    outputs.extend(also.iter().map(|&(flag, path)| (flag, Some(path))));
    not_inputs(&outputs, inputs)
}

/// Refuses, naming the flag: an output that is a directory, read-only, in a directory that does not exist, a link
/// loop, the same file as an input, or the same file as another output. `outputs` are (flag, path); absent ones are
/// skipped.
pub fn check(outputs: &[(&str, Option<&Path>)], inputs: &[Input]) -> Result<()> {
    if outputs.iter().any(|(_, path)| path.is_some()) {
        super::stdout::will_write_files();
    }
    for &(flag, path) in outputs {
        if let Some(path) = path {
            writable(path).with_context(|| format!("{flag} {}", path.display()))?;
        }
    }
    not_inputs(outputs, inputs)
}

/// Whether a file can be written at `path` without a directory being made for it.
fn writable(path: &Path) -> Result<()> {
    let target = scenario::final_target(path)?;
    if scenario::replaceable(&target)?.is_some() {
        return Ok(());
    }
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => bail!("{} is not a directory", dir.display()),
        Err(_) => bail!("directory {} does not exist", dir.display()),
    }
}

/// Refuses an output that is the same file as an input or as another output (a training's model writer makes its own
/// directories and checks the rest: [`check_model_out`] needs only this half of [`check`]).
fn not_inputs(outputs: &[(&str, Option<&Path>)], inputs: &[Input]) -> Result<()> {
    let mut seen: Vec<(&str, PathBuf)> = Vec::new();
    for &(flag, path) in outputs {
        let Some(path) = path else { continue };
        let named = || format!("{flag} {}", path.display());
        let target = scenario::final_target(path).with_context(named)?;
        if let Some(input) = inputs.iter().find(|i| scenario::final_target(&i.path).is_ok_and(|t| t == target)) {
            bail!("{}: that is {}; give the output a path of its own", named(), input.what);
        }
        if let Some((other, _)) = seen.iter().find(|(_, t)| *t == target) {
            bail!("{}: {other} names the same file; give each output a path of its own", named());
        }
        seen.push((flag, target));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dirs::temp_dir;

    #[test]
    fn an_output_over_an_input_or_another_output_is_refused_by_flag() {
        let dir = temp_dir("outputs");
        let scenario = dir.join("mine.ron");
        std::fs::write(&scenario, "(…)").expect("write");
        let inputs = vec![Input::new("the scenario file", &scenario)];
        let json = dir.join("card.json");
        assert!(check(&[("--json", Some(&json)), ("--trace", None)], &inputs).is_ok());

        let e = check(&[("--json", Some(&scenario))], &inputs).expect_err("the scenario").to_string();
        assert_eq!(
            e,
            format!("--json {}: that is the scenario file; give the output a path of its own", scenario.display())
        );
        // Through `..` and through a link, it is still the scenario.
        let dotted = dir.join("sub/../mine.ron");
        std::fs::create_dir(dir.join("sub")).expect("mkdir");
        assert!(check(&[("--json", Some(&dotted))], &inputs).is_err());
        #[cfg(unix)]
        {
            let link = dir.join("link.ron");
            std::os::unix::fs::symlink(&scenario, &link).expect("symlink");
            assert!(check(&[("--json", Some(&link))], &inputs).is_err());
        }
        let e = check(&[("--json", Some(&json)), ("--trace", Some(&json))], &inputs).expect_err("twice").to_string();
        assert!(e.ends_with("--json names the same file; give each output a path of its own"), "{e}");
    }

    #[test]
    fn an_output_that_cannot_be_written_is_refused_before_any_run() {
        let dir = temp_dir("unwritable");
        let file = dir.join("afile");
        std::fs::write(&file, "x").expect("write");
        // As the CLI prints it: the flag, then the reason.
        let refused = |path: &Path| format!("{:#}", check(&[("--json", Some(path))], &[]).expect_err("refused"));
        assert!(refused(&file.join("x.json")).ends_with(&format!("{} is not a directory", file.display())));
        assert!(refused(&dir.join("missing/x.json")).contains("does not exist"));
        assert!(refused(&dir).ends_with("is a directory; give a file name"));
        assert!(refused(&dir.join("new/")).ends_with("ends with '/': give a file name"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).expect("chmod");
            assert!(refused(&file).ends_with("the file is read-only"));
            let (a, b) = (dir.join("loop-a"), dir.join("loop-b"));
            std::os::unix::fs::symlink(&b, &a).expect("symlink");
            std::os::unix::fs::symlink(&a, &b).expect("symlink");
            assert!(refused(&a).contains("too many levels of symbolic links"));
        }
    }

    #[test]
    fn the_models_a_run_reads_are_inputs_with_their_metadata() {
        let agents = Path::new("elsewhere/agents.safetensors");
        let listed = inputs(&[Path::new("s.ron")], Some(agents));
        let paths: Vec<&Path> = listed.iter().map(|i| i.path.as_path()).collect();
        assert!(paths.contains(&Path::new("s.ron")));
        assert!(paths.contains(&agents) && paths.contains(&Path::new("elsewhere/agents.json")));
        assert!(listed.iter().any(|i| i.what == "the forecaster's metadata"));
    }
}
