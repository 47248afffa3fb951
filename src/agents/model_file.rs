//! A model on disk: its weights (safetensors) and, beside them with the extension `.json`, its metadata, read and
//! written as one pair.
//!
//! Contract: a load names the file and the place of every fault; a save writes both files in full to temporaries
//! before either replaces its old file, and the metadata records the digest of the weights it was written with
//! ([`PairedMetadata`]), so a pair that was never saved together (an interrupted save, or one file copied over) is
//! refused by name instead of failing later on a shape or, worse, running. Used by the forecaster and the HiRL agents.

use std::path::{Path, PathBuf};

use candle_core::Tensor;
use serde::Serialize;

use crate::agents::nn::ShapeError;

/// Why a model file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: no such file")]
    Missing { path: PathBuf },
    // Causes are in the messages, not `source`s: `{:#}` at the CLI edge would print them twice.
    #[error("{path}: cannot read: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{path}: not a valid safetensors file: {message}")]
    Tensors { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Metadata { path: PathBuf, message: String },
    #[error("{path}: schema `{found}`, but this build reads `{expected}`")]
    Schema { path: PathBuf, found: String, expected: &'static str },
    #[error("{path}: {error}")]
    Shape { path: PathBuf, error: ShapeError },
    #[error("{path}: cannot write: {message}")]
    Write { path: PathBuf, message: String },
    #[error(
        "{meta}: written with other weights than {weights} holds (weights digest {recorded}, the file's {found}): a \
         save stopped between its two files, or one of them was replaced; copy or save the two together"
    )]
    NotAPair { meta: PathBuf, weights: PathBuf, recorded: String, found: String },
    #[error("{path}: is a directory, not a model's weights file")]
    IsDir { path: PathBuf },
    /// The metadata goes beside the weights with the extension `.json`: weights named `.json` would be their own
    /// metadata file, the second write replacing the first.
    #[error("{path}: a model's weights cannot be a .json file (its metadata goes beside it as .json, the same path)")]
    SamePath { path: PathBuf },
}

/// The largest weights file read, bytes: far above any network the metadata checks admit in practice (the shipped
/// agents are under 1 MiB), far under the memory of a machine that trains them. A larger "model" is a mistake (a
/// device, a disk image) and would otherwise be read into memory whole.
const MAX_WEIGHTS_BYTES: u64 = 1 << 30;
/// The largest metadata file read, bytes (the shipped ones are under 100 KiB).
const MAX_METADATA_BYTES: u64 = 64 << 20;

/// Reads a model or metadata file of at most `max_bytes`; a missing file and an unreadable one are told apart.
fn read_model_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ModelError> {
    crate::text_file::read_bytes(path, max_bytes).map_err(|e| match e {
        crate::text_file::ReadTextError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ModelError::Missing { path: path.to_path_buf() }
        }
        crate::text_file::ReadTextError::Io(error) => ModelError::Io { path: path.to_path_buf(), error },
        other => ModelError::Io { path: path.to_path_buf(), error: std::io::Error::other(other.to_string()) },
    })
}

/// A digest of the pair's bytes, metadata and weights, as they are on disk now: two calls give the same digest only
/// when neither file changed between them (the metadata alone may change, e.g. an evaluation recorded in it). The
/// digest of a pair as loaded is [`LoadedPair::bytes_digest`].
pub(crate) fn pair_bytes_digest(weights: &Path) -> Result<String, ModelError> {
    let meta_path = load_paths(weights)?;
    let meta_bytes = read_model_file(&meta_path, MAX_METADATA_BYTES)?;
    let weights_bytes = read_model_file(weights, MAX_WEIGHTS_BYTES)?;
    Ok(bytes_digest(&meta_bytes, &weights_bytes))
}

fn bytes_digest(meta_bytes: &[u8], weights_bytes: &[u8]) -> String {
    let mut d = crate::digest::Digest::new();
    for bytes in [meta_bytes, weights_bytes] {
        // Length first, so that bytes moved from one file to the other change the digest.
        d.bytes(&(bytes.len() as u64).to_le_bytes()).bytes(bytes);
    }
    d.hex()
}

/// The metadata file beside a weights file.
pub fn metadata_path(weights: &Path) -> PathBuf {
    weights.with_extension("json")
}

/// The metadata path of `weights`, refusing a weights path that would be its own metadata file (any `.json`).
pub(crate) fn pair_paths(weights: &Path) -> Result<PathBuf, ModelError> {
    // Any case: `F.JSON` and `F.json` are one file where the file system ignores case.
    if weights.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        return Err(ModelError::SamePath { path: weights.to_path_buf() });
    }
    Ok(metadata_path(weights))
}

/// Where a model is loaded from: refuses a directory (which would otherwise be reported as its metadata file
/// missing: `c/` reads `c.json`) and a `.json` weights path.
pub(crate) fn load_paths(weights: &Path) -> Result<PathBuf, ModelError> {
    if weights.is_dir() {
        return Err(ModelError::IsDir { path: weights.to_path_buf() });
    }
    let meta_path = pair_paths(weights)?;
    // The file given is named when it is missing: the metadata is read first, and "nope.json: no such file" for
    // `--agents nope.safetensors` named a file the user never mentioned.
    if !weights.exists() {
        return Err(ModelError::Missing { path: weights.to_path_buf() });
    }
    Ok(meta_path)
}

/// The cheap checks of an output path, made before the minutes of work that end in writing it (`train forecaster`,
/// `train hirl`): not a `.json`, neither file of the pair a directory or read-only, and its directory either there or
/// creatable (the save creates it), that is, the nearest part of the path that exists is a directory. Nothing is
/// created here: a refusal after this check still leaves nothing behind.
pub fn check_output(weights: &Path) -> Result<(), ModelError> {
    let meta_path = pair_paths(weights)?;
    for path in [weights, meta_path.as_path()] {
        crate::scenario::replaceable(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::IsADirectory => ModelError::IsDir { path: path.to_path_buf() },
            _ => ModelError::Write { path: path.to_path_buf(), message: e.to_string() },
        })?;
    }
    let dir = weights.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Some((existing, meta)) = dir.ancestors().find_map(|a| std::fs::metadata(a).ok().map(|m| (a, m)))
        && !meta.is_dir()
    {
        let message = format!("{} is not a directory", existing.display());
        return Err(ModelError::Write { path: weights.to_path_buf(), message });
    }
    Ok(())
}

/// What a model's metadata must do to be saved and loaded as a pair: carry the digest of the weights it was written
/// with. Loaded metadata never holds it (the load checks it, then drops it), so metadata compares equal whatever file
/// it came from, and a save always writes the digest of the weights it writes.
pub trait PairedMetadata: Serialize + serde::de::DeserializeOwned + Clone {
    /// The metadata's `schema` value this build reads.
    const SCHEMA: &'static str;
    /// The `weights_digest` field: FNV-1a of the weights file's bytes ([`crate::digest::Digest::of_bytes`]).
    fn weights_digest_mut(&mut self) -> &mut Option<String>;
}

/// A pair as read from disk, before its contents are checked: the metadata (its schema right, its weights digest
/// checked against the weights and dropped) and the bytes of both files.
pub(crate) struct LoadedPair<M> {
    pub meta_path: PathBuf,
    pub meta: M,
    pub meta_bytes: Vec<u8>,
    pub weights_bytes: Vec<u8>,
}

impl<M> LoadedPair<M> {
    /// [`pair_bytes_digest`] of the very bytes loaded (a reading of the files again could find them replaced).
    pub fn bytes_digest(&self) -> String {
        bytes_digest(&self.meta_bytes, &self.weights_bytes)
    }
}

/// Reads the pair at `weights`: the metadata first (its schema before its fields, so a file of another kind is named
/// by its schema, not by the first field it happens to lack), then the weights, refusing weights other than those
/// the metadata was written with. Metadata without a digest (written before 2026-12-07) is taken as it is.
pub(crate) fn load_pair<M: PairedMetadata>(weights: &Path) -> Result<LoadedPair<M>, ModelError> {
    let meta_path = load_paths(weights)?;
    let meta_bytes = read_model_file(&meta_path, MAX_METADATA_BYTES)?;
    let tag = crate::tagged_json::Tag { field: "schema", expected: M::SCHEMA, kind: "a model metadata file" };
    let mut meta: M = crate::tagged_json::parse(&meta_bytes, tag).map_err(|e| match e {
        crate::tagged_json::TaggedJsonError::OtherKind { found, .. } => {
            ModelError::Schema { path: meta_path.clone(), found, expected: M::SCHEMA }
        }
        other => ModelError::Metadata { path: meta_path.clone(), message: other.to_string() },
    })?;
    let weights_bytes = read_model_file(weights, MAX_WEIGHTS_BYTES)?;
    if let Some(recorded) = meta.weights_digest_mut().take() {
        let found = crate::digest::Digest::of_bytes(&weights_bytes);
        if recorded != found {
            // A damaged file is named as such: only weights that are whole but other than those written with this
            // metadata make a mixed pair.
            safetensors::SafeTensors::deserialize(&weights_bytes)
                .map_err(|e| ModelError::Tensors { path: weights.to_path_buf(), message: e.to_string() })?;
            return Err(ModelError::NotAPair { meta: meta_path, weights: weights.to_path_buf(), recorded, found });
        }
    }
    Ok(LoadedPair { meta_path, meta, meta_bytes, weights_bytes })
}

/// Writes a model's weights and its metadata file as a pair: both are written in full to temporaries first, and only
/// then renamed into place, so a failed write (a full disk, a file-size limit) leaves the old pair as it was and no
/// temporary behind. The weights are renamed first and the metadata last: the metadata names what the weights must
/// be (schema, layer sizes, evaluation), so a reader that finds the new metadata always finds the weights it
/// describes. The metadata records the digest of the weights written with it, so the one window in which new weights
/// sit beside old metadata (between the two renames, or for good if the second rename fails or the machine stops
/// there) leaves a pair that [`load_pair`] refuses by name, not one that loads.
pub(crate) fn save_pair<M: PairedMetadata>(
    weights: &Path,
    tensors: &std::collections::HashMap<String, Tensor>,
    meta: &M,
) -> Result<(), ModelError> {
    let write_err = |path: &Path, message: String| ModelError::Write { path: path.to_path_buf(), message };
    let meta_path = pair_paths(weights)?;
    let bytes = safetensors::tensor::serialize(tensors, None).map_err(|e| write_err(weights, e.to_string()))?;
    let mut meta = meta.clone();
    *meta.weights_digest_mut() = Some(crate::digest::Digest::of_bytes(&bytes));
    let json = serde_json::to_string_pretty(&meta).map_err(|e| write_err(&meta_path, e.to_string()))?;
    if let Some(dir) = weights.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e.to_string()))?;
    }
    let staged_weights =
        crate::scenario::stage_atomic(weights, &bytes).map_err(|e| write_err(weights, e.to_string()))?;
    // A failure here drops `staged_weights`, which removes its temporary.
    let staged_meta = crate::scenario::stage_atomic(&meta_path, format!("{json}\n").as_bytes())
        .map_err(|e| write_err(&meta_path, e.to_string()))?;
    staged_weights.commit().map_err(|e| write_err(weights, e.to_string()))?;
    staged_meta.commit().map_err(|e| write_err(&meta_path, e.to_string()))
}

/// For tests that edit a saved model's weights file to exercise the load's checks of its contents: records the
/// weights' digest now on disk in the metadata beside them, as a save would have.
#[cfg(test)]
pub(crate) fn rebind_for_test(weights: &Path) {
    let meta_path = metadata_path(weights);
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).expect("metadata")).expect("metadata JSON");
    meta["weights_digest"] = crate::digest::Digest::of_bytes(&std::fs::read(weights).expect("weights")).into();
    std::fs::write(&meta_path, meta.to_string()).expect("write metadata");
}
