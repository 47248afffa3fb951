//! The shipped forecaster: network weights (safetensors) plus a metadata file (JSON) beside them, loaded with every
//! check a user-supplied file deserves.
//!
//! `models/forecaster.safetensors` holds `net.l{i}.weight`/`bias` and the input standardisation `norm.mean`,
//! `norm.std`; `models/forecaster.json` holds the schema (feature names, horizons, quantiles, layer sizes), how it
//! was trained, the per-domain conformal offsets and the held-out metrics. Any mismatch is refused with a message
//! naming the file and the place; callers then fall back to exponential smoothing.
//!
//! Network output for one input: per horizon, four raw numbers `(a, m, b, c)` give the quantiles of
//! `ln(future / level)` as `m − softplus(a)`, `m`, `m + softplus(b)`, `m + softplus(b) + softplus(c)`, so they never
//! cross. Conformal offsets are then added per domain, time-of-day bucket, horizon and quantile, and the four values
//! are sorted (a monotone rearrangement, which keeps each one's coverage).

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::features::feature_names;
use super::features::{HORIZONS_MINUTES, N_BUCKETS, N_FEATURES, N_HORIZONS, N_OUTPUTS, N_QUANTILES, QUANTILES};
use crate::agents::model_file::{ModelError, PairedMetadata, load_pair, save_pair};
use crate::agents::nn::{Mlp, ShapeError, read, refuse_unexpected};

/// Version of the model files; bump when the input vector or the output meaning changes.
pub const SCHEMA: &str = "hirl-scale-forecaster/1";
/// Where the window and the CLI look for the shipped model.
pub const DEFAULT_MODEL_PATH: &str = "models/forecaster.safetensors";

/// How the model was trained (recorded so the weights can be reproduced).
///
/// The metadata structs refuse unknown fields: a misspelt or hand-added field would otherwise be accepted on load and
/// silently dropped by the next save.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInfo {
    /// The command that produced the files.
    pub command: String,
    pub seed: u64,
    pub base_scenario: String,
    pub train_months: usize,
    #[serde(default)]
    pub calibration_months: usize,
    pub days_per_month: u64,
    pub train_samples: usize,
    pub epochs: usize,
    pub best_epoch: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub wall_secs: f64,
    /// Validation pinball loss (log space) after each epoch.
    pub validation_pinball: Vec<f64>,
    /// The source tree that trained it: `git <commit>`, with `+ uncommitted changes` when the checkout had any
    /// (absent when unknown, or in files written before this field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_tree: Option<String>,
}

/// Conformal offsets: `[bucket][horizon][quantile]`, flattened, in log space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainOffsets {
    pub domain: String,
    pub offsets: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub bucket_hours: u64,
    pub domains: Vec<DomainOffsets>,
    /// For domains the calibration did not see (pooled over all domains).
    pub pooled: Vec<f32>,
}

/// Everything in the metadata file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub schema: String,
    pub feature_names: Vec<String>,
    pub horizons_minutes: Vec<usize>,
    pub quantiles: Vec<f32>,
    /// Layer sizes, input to output.
    pub layer_sizes: Vec<usize>,
    pub training: TrainingInfo,
    pub calibration: Calibration,
    /// Held-out metrics (`hirl-scale eval forecaster`), when measured.
    #[serde(default)]
    pub metrics: Option<serde_json::Value>,
    /// The digest of the weights file written with this metadata ([`PairedMetadata`]): in the file only, never in
    /// loaded metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_digest: Option<String>,
}

impl PairedMetadata for Metadata {
    const SCHEMA: &'static str = SCHEMA;
    fn weights_digest_mut(&mut self) -> &mut Option<String> {
        &mut self.weights_digest
    }
}

/// A loaded forecaster.
#[derive(Clone, Debug)]
pub struct ForecastModel {
    pub mlp: Mlp,
    pub norm_mean: Vec<f32>,
    pub norm_std: Vec<f32>,
    pub meta: Metadata,
}

/// Reusable buffers for [`ForecastModel::quantiles`].
#[derive(Clone, Default)]
pub struct Scratch {
    input: Vec<f32>,
    layers: [Vec<f32>; 2],
    out: Vec<f32>,
}

fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

impl ForecastModel {
    /// Digest of what shapes a forecast: weights, standardisation and calibration.
    pub fn digest(&self) -> String {
        let mut d = crate::digest::Digest::new();
        self.mlp.digest_into(&mut d);
        d.f32s(&self.norm_mean).f32s(&self.norm_std);
        let _ = serde_json::to_writer(&mut d, &self.meta.calibration);
        d.hex()
    }

    /// Loads `weights` and its metadata file, checking schema, shapes and values.
    pub fn load(weights: &Path) -> Result<ForecastModel, ModelError> {
        let pair = load_pair::<Metadata>(weights)?;
        let (meta_path, meta, bytes) = (pair.meta_path, pair.meta, pair.weights_bytes);
        let bad = |message: String| ModelError::Metadata { path: meta_path.clone(), message };
        if meta.feature_names != feature_names() {
            return Err(bad(format!(
                "feature_names: the model reads {} inputs that differ from this build's {N_FEATURES} (first difference: {})",
                meta.feature_names.len(),
                meta.feature_names
                    .iter()
                    .zip(feature_names())
                    .position(|(a, b)| *a != b)
                    .map_or("length".to_string(), |i| format!("index {i}"))
            )));
        }
        if meta.horizons_minutes != HORIZONS_MINUTES || meta.quantiles != QUANTILES {
            return Err(bad(format!(
                "horizons_minutes {:?} / quantiles {:?}: this build forecasts {HORIZONS_MINUTES:?} / {QUANTILES:?}",
                meta.horizons_minutes, meta.quantiles
            )));
        }
        let sizes = &meta.layer_sizes;
        if sizes.len() < 2
            || sizes[0] != N_FEATURES
            || sizes[sizes.len() - 1] != N_OUTPUTS
            || sizes.iter().any(|&s| s == 0 || s > 4096)
        {
            return Err(bad(format!(
                "layer_sizes {sizes:?}: must start with {N_FEATURES} inputs and end with {N_OUTPUTS} outputs, each layer \
                 1–4096 wide"
            )));
        }
        let cells = N_BUCKETS * N_HORIZONS * N_QUANTILES;
        for (i, d) in meta.calibration.domains.iter().enumerate() {
            check_offsets(&d.offsets, cells).map_err(|m| bad(format!("calibration.domains[{i}].offsets: {m}")))?;
        }
        check_offsets(&meta.calibration.pooled, cells).map_err(|m| bad(format!("calibration.pooled: {m}")))?;

        let tensors: BTreeMap<String, Tensor> = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
            .map_err(|e| ModelError::Tensors { path: weights.to_path_buf(), message: e.to_string() })?
            .into_iter()
            .collect();
        let shape = |error| ModelError::Shape { path: weights.to_path_buf(), error };
        let mlp = Mlp::from_tensors(&tensors, "net", sizes).map_err(shape)?;
        let norm_mean = read(&tensors, "norm.mean", &[N_FEATURES]).map_err(shape)?;
        let norm_std = read(&tensors, "norm.std", &[N_FEATURES]).map_err(shape)?;
        let mut expected = Mlp::tensor_names("net", sizes);
        expected.extend(["norm.mean".to_string(), "norm.std".to_string()]);
        refuse_unexpected(&tensors, expected.iter().map(String::as_str)).map_err(shape)?;
        if let Some(i) = norm_std.iter().position(|&s| s <= 0.0) {
            return Err(shape(ShapeError::Read {
                name: "norm.std".into(),
                message: format!("entry {i} is not positive"),
            }));
        }
        Ok(ForecastModel { mlp, norm_mean, norm_std, meta })
    }

    /// Writes the weights and the metadata file as a pair: both in full to temporaries, then renamed (a failed write
    /// leaves the old pair as it was).
    pub fn save(&self, weights: &Path) -> Result<(), ModelError> {
        let write_err = |message: String| ModelError::Write { path: weights.to_path_buf(), message };
        let mut tensors = std::collections::HashMap::new();
        let dev = &Device::Cpu;
        for (i, l) in self.mlp.layers.iter().enumerate() {
            let w = Tensor::from_vec(l.weight.clone(), (l.out_dim, l.in_dim), dev);
            let b = Tensor::from_vec(l.bias.clone(), l.out_dim, dev);
            tensors.insert(format!("net.l{i}.weight"), w.map_err(|e| write_err(e.to_string()))?);
            tensors.insert(format!("net.l{i}.bias"), b.map_err(|e| write_err(e.to_string()))?);
        }
        for (name, v) in [("norm.mean", &self.norm_mean), ("norm.std", &self.norm_std)] {
            let t = Tensor::from_vec(v.clone(), v.len(), dev).map_err(|e| write_err(e.to_string()))?;
            tensors.insert(name.to_string(), t);
        }
        save_pair(weights, &tensors, &self.meta)
    }

    /// The calibration row of a domain id (`None`: pooled offsets).
    pub fn calibration_index(&self, domain_id: &str) -> Option<usize> {
        self.meta.calibration.domains.iter().position(|d| d.domain == domain_id)
    }

    /// Raw quantiles of `ln(future / level)`, `[horizon][quantile]`, before calibration.
    pub fn raw_quantiles(&self, features: &[f32], scratch: &mut Scratch) -> [[f32; N_QUANTILES]; N_HORIZONS] {
        scratch.input.clear();
        scratch
            .input
            .extend(features.iter().zip(self.norm_mean.iter().zip(&self.norm_std)).map(|(x, (m, s))| (x - m) / s));
        self.mlp.forward_into(&scratch.input, &mut scratch.layers, &mut scratch.out);
        let mut q = [[0.0; N_QUANTILES]; N_HORIZONS];
        for (h, row) in q.iter_mut().enumerate() {
            let o = &scratch.out[h * N_QUANTILES..(h + 1) * N_QUANTILES];
            let (mid, upper) = (o[1], o[1] + softplus(o[2]));
            *row = [mid - softplus(o[0]), mid, upper, upper + softplus(o[3])];
        }
        q
    }

    /// Calibrated quantiles of `ln(future / level)`, `[horizon][quantile]`, ordered.
    pub fn quantiles(
        &self,
        features: &[f32],
        calibration_row: Option<usize>,
        bucket: usize,
        scratch: &mut Scratch,
    ) -> [[f32; N_QUANTILES]; N_HORIZONS] {
        let mut q = self.raw_quantiles(features, scratch);
        let cal = &self.meta.calibration;
        let offsets = calibration_row.and_then(|r| cal.domains.get(r)).map_or(&cal.pooled, |d| &d.offsets);
        for (h, row) in q.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v += offsets[(bucket.min(N_BUCKETS - 1) * N_HORIZONS + h) * N_QUANTILES + j];
            }
            row.sort_by(f32::total_cmp);
        }
        q
    }
}

fn check_offsets(offsets: &[f32], cells: usize) -> Result<(), String> {
    if offsets.len() != cells {
        return Err(format!("{} values, expected {cells} (buckets × horizons × quantiles)", offsets.len()));
    }
    if let Some(i) = offsets.iter().position(|v| !v.is_finite() || v.abs() > 5.0) {
        return Err(format!("value {i} ({}) is not a finite offset within ±5", offsets[i]));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::agents::nn::TrainableMlp;
    use crate::sim::rng::SimRng;

    /// An untrained but well-formed model.
    pub(crate) fn tiny_model() -> ForecastModel {
        let sizes = vec![N_FEATURES, 8, N_OUTPUTS];
        let net = TrainableMlp::new("net", &sizes, &mut SimRng::new(1, 1), 0.1).expect("builds");
        let cells = N_BUCKETS * N_HORIZONS * N_QUANTILES;
        ForecastModel {
            mlp: net.to_mlp().expect("valid"),
            norm_mean: vec![0.0; N_FEATURES],
            norm_std: vec![1.0; N_FEATURES],
            meta: Metadata {
                schema: SCHEMA.into(),
                feature_names: feature_names(),
                horizons_minutes: HORIZONS_MINUTES.to_vec(),
                quantiles: QUANTILES.to_vec(),
                layer_sizes: sizes,
                training: TrainingInfo {
                    command: "test".into(),
                    seed: 1,
                    base_scenario: "none".into(),
                    train_months: 0,
                    calibration_months: 0,
                    days_per_month: 0,
                    train_samples: 0,
                    epochs: 0,
                    best_epoch: 0,
                    batch_size: 0,
                    learning_rate: 0.0,
                    wall_secs: 0.0,
                    validation_pinball: vec![],
                    source_tree: None,
                },
                calibration: Calibration {
                    bucket_hours: 4,
                    domains: vec![DomainOffsets { domain: "payment".into(), offsets: vec![0.01; cells] }],
                    pooled: vec![0.0; cells],
                },
                metrics: None,
                weights_digest: None,
            },
        }
    }

    use crate::agents::model_file::{check_output, metadata_path};
    use crate::test_dirs::entries;
    pub(crate) use crate::test_dirs::temp_dir;

    #[test]
    fn save_then_load_round_trips_exactly() {
        let dir = temp_dir("roundtrip");
        let path = dir.join("f.safetensors");
        let m = tiny_model();
        m.save(&path).expect("saves");
        let back = ForecastModel::load(&path).expect("loads");
        assert_eq!(back.mlp, m.mlp);
        assert_eq!(back.meta, m.meta);
        let x = vec![0.3; N_FEATURES];
        let mut s = Scratch::default();
        assert_eq!(back.quantiles(&x, Some(0), 2, &mut s), m.quantiles(&x, Some(0), 2, &mut s));
    }

    #[test]
    fn quantiles_are_ordered_and_calibrated_per_domain() {
        let m = tiny_model();
        let mut s = Scratch::default();
        let x: Vec<f32> = (0..N_FEATURES).map(|i| (i as f32 * 0.37).sin()).collect();
        let raw = m.raw_quantiles(&x, &mut s);
        let cal = m.quantiles(&x, m.calibration_index("payment"), 0, &mut s);
        let pooled = m.quantiles(&x, m.calibration_index("nobody"), 0, &mut s);
        for h in 0..N_HORIZONS {
            assert!(raw[h].windows(2).all(|w| w[0] <= w[1]));
            assert!((cal[h][1] - raw[h][1] - 0.01).abs() < 1e-6);
            assert_eq!(pooled[h], raw[h]);
        }
    }

    #[test]
    fn damaged_files_are_refused_with_the_place() {
        let dir = temp_dir("damaged");
        let path = dir.join("f.safetensors");
        // The file given is the one named missing; the metadata beside existing weights is named by its own path.
        let err = ForecastModel::load(&path).expect_err("missing").to_string();
        assert!(err.contains("f.safetensors: no such file"), "{err}");
        std::fs::write(&path, b"weights without metadata").expect("write");
        let err = ForecastModel::load(&path).expect_err("no metadata").to_string();
        assert!(err.contains("f.json: no such file"), "{err}");

        let m = tiny_model();
        m.save(&path).expect("saves");
        // Truncated weights.
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
        // Named as damaged, though its digest is not the one the metadata recorded either.
        let err = ForecastModel::load(&path).expect_err("truncated").to_string();
        assert!(err.contains("f.safetensors: not a valid safetensors file"), "{err}");

        // Garbage metadata: the JSON error has a line and column.
        m.save(&path).expect("saves");
        std::fs::write(metadata_path(&path), "{\"schema\": \"hirl-scale-forecaster/1\",").expect("write");
        let err = ForecastModel::load(&path).expect_err("bad json").to_string();
        assert!(err.contains("f.json") && err.contains("line"), "{err}");

        // Another schema.
        let mut other = m.clone();
        other.meta.schema = "hirl-scale-forecaster/0".into();
        other.save(&path).expect("saves");
        let err = ForecastModel::load(&path).expect_err("schema").to_string();
        assert!(err.contains("schema `hirl-scale-forecaster/0`"), "{err}");

        // Layer sizes that disagree with the weights.
        let mut other = m.clone();
        other.save(&path).expect("saves");
        other.meta.layer_sizes = vec![N_FEATURES, 9, N_OUTPUTS];
        crate::scenario::write_atomic(
            &metadata_path(&path),
            serde_json::to_string(&other.meta).expect("json").as_bytes(),
        )
        .expect("write");
        let err = ForecastModel::load(&path).expect_err("shape").to_string();
        assert!(err.contains("net.l0.weight") && err.contains("[9, "), "{err}");

        // A calibration table of the wrong size.
        let mut other = m.clone();
        other.meta.calibration.pooled.pop();
        other.save(&path).expect("saves");
        let err = ForecastModel::load(&path).expect_err("offsets").to_string();
        assert!(err.contains("calibration.pooled"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_pair_is_replaced_whole_or_not_at_all_and_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("pair");
        let path = dir.join("f.safetensors");
        let old = tiny_model();
        old.save(&path).expect("saves");
        let old_weights = std::fs::read(&path).expect("weights");
        let mut new = old.clone();
        new.mlp.layers[0].bias[0] += 1.0;
        new.meta.training.seed = 2;

        // The metadata cannot be written (read-only): the new weights must not replace the old ones either.
        let meta = metadata_path(&path);
        std::fs::set_permissions(&meta, std::fs::Permissions::from_mode(0o444)).expect("chmod");
        let err = new.save(&path).expect_err("read-only metadata").to_string();
        assert!(err.contains("f.json: cannot write"), "{err}");
        assert_eq!(std::fs::read(&path).expect("weights"), old_weights, "the old weights are in place");
        assert_eq!(entries(&dir), ["f.json", "f.safetensors"], "no temporary left");
        assert_eq!(ForecastModel::load(&path).expect("the old pair loads").meta, old.meta);

        // A replaced pair keeps its permissions (candle's own save made the weights 0600).
        std::fs::set_permissions(&meta, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        new.save(&path).expect("saves");
        let mode = |p: &Path| std::fs::metadata(p).expect("file").permissions().mode() & 0o777;
        assert_eq!((mode(&path), mode(&meta)), (0o640, 0o640));
        assert_eq!(ForecastModel::load(&path).expect("the new pair loads").meta, new.meta);
        // A new pair gets the process's defaults, as any file it creates.
        let fresh = dir.join("g.safetensors");
        new.save(&fresh).expect("saves");
        std::fs::File::create(dir.join("plain")).expect("create");
        assert_eq!(mode(&fresh), mode(&dir.join("plain")));

        // Weights named like a directory: refused, nothing left beside it (candle's temporary was).
        std::fs::create_dir(dir.join("isdir.safetensors")).expect("mkdir");
        let err = new.save(&dir.join("isdir.safetensors")).expect_err("a directory").to_string();
        assert!(err.contains("isdir.safetensors: cannot write: is a directory"), "{err}");
        assert_eq!(entries(&dir), ["f.json", "f.safetensors", "g.json", "g.safetensors", "isdir.safetensors", "plain"]);
    }

    #[test]
    fn weights_from_another_save_are_refused_as_not_the_pair_of_the_metadata() {
        let dir = temp_dir("not-a-pair");
        let (a, b) = (dir.join("a.safetensors"), dir.join("b.safetensors"));
        let m = tiny_model();
        m.save(&a).expect("saves");
        let mut other = m.clone();
        other.norm_mean[0] = 0.5;
        other.save(&b).expect("saves");
        // The metadata records the digest of its weights; a load checks it and drops it.
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(metadata_path(&a)).expect("read")).expect("json");
        let recorded = written["weights_digest"].as_str().expect("a digest").to_string();
        assert_eq!(recorded, crate::digest::Digest::of_bytes(&std::fs::read(&a).expect("read")));
        assert_eq!(ForecastModel::load(&a).expect("loads").meta.weights_digest, None);
        // b's weights beside a's metadata (a save stopped between its renames, or one file copied over): the shapes
        // and names agree, so only the digest tells.
        std::fs::copy(&b, &a).expect("copy");
        let err = ForecastModel::load(&a).expect_err("mixed pair").to_string();
        assert!(err.contains("a.json: written with other weights than") && err.contains("a.safetensors"), "{err}");
        assert!(err.contains(&recorded), "{err}");
        // Metadata written before the digest existed loads unchecked.
        let mut old = written.clone();
        old.as_object_mut().expect("object").remove("weights_digest");
        std::fs::write(metadata_path(&a), old.to_string()).expect("write");
        assert_eq!(ForecastModel::load(&a).expect("loads").norm_mean[0], 0.5);
    }

    #[test]
    fn weights_named_json_and_directories_are_refused_by_what_they_are() {
        let dir = temp_dir("paths");
        for name in ["f.json", "f.JSON"] {
            let err = tiny_model().save(&dir.join(name)).expect_err("its own metadata").to_string();
            assert!(err.contains("cannot be a .json file"), "{err}");
            let err = ForecastModel::load(&dir.join(name)).expect_err("its own metadata").to_string();
            assert!(err.contains("cannot be a .json file"), "{err}");
            assert!(check_output(&dir.join(name)).is_err());
        }
        assert_eq!(entries(&dir), Vec::<String>::new(), "nothing written");
        // `c/` once read `c.json` and said that was missing.
        std::fs::create_dir(dir.join("c")).expect("mkdir");
        let err = ForecastModel::load(&dir.join("c/")).expect_err("a directory").to_string();
        assert!(err.contains("is a directory"), "{err}");
        assert!(matches!(check_output(&dir.join("c")), Err(ModelError::IsDir { .. })));
        // A metadata path that is a directory, and a parent that is a file, are refused up front.
        std::fs::create_dir(dir.join("m.json")).expect("mkdir");
        assert!(matches!(check_output(&dir.join("m.safetensors")), Err(ModelError::IsDir { .. })));
        std::fs::write(dir.join("file"), "").expect("write");
        let err = check_output(&dir.join("file").join("sub").join("f.safetensors")).expect_err("file parent");
        assert!(err.to_string().contains("file is not a directory"), "{err}");
        // A directory still to be made is fine (the save makes it), and the check makes nothing.
        assert!(check_output(&dir.join("new").join("f.safetensors")).is_ok());
        assert!(!dir.join("new").exists());
    }

    #[test]
    fn the_schema_is_checked_before_the_fields_and_unknown_fields_are_refused() {
        let dir = temp_dir("schema-first");
        let path = dir.join("f.safetensors");
        tiny_model().save(&path).expect("saves");
        // The agents' metadata where the forecaster's belongs: named by its schema, not by a missing field.
        std::fs::write(metadata_path(&path), r#"{"schema": "hirl-scale-agents/1", "commander_features": []}"#)
            .expect("write");
        let err = ForecastModel::load(&path).expect_err("agents").to_string();
        assert!(err.contains("schema `hirl-scale-agents/1`, but this build reads `hirl-scale-forecaster/1`"), "{err}");
        std::fs::write(metadata_path(&path), r#"{"format": "hirl-scale-train-state/1"}"#).expect("write");
        let err = ForecastModel::load(&path).expect_err("no schema").to_string();
        assert!(err.contains("no `schema` field"), "{err}");
        // A field this build does not know is refused (a save would drop it).
        let mut meta = serde_json::to_value(&tiny_model().meta).expect("json");
        meta["training"]["comment"] = serde_json::json!("hand-added");
        std::fs::write(metadata_path(&path), meta.to_string()).expect("write");
        let err = ForecastModel::load(&path).expect_err("unknown field").to_string();
        assert!(err.contains("f.json") && err.contains("unknown field `comment`"), "{err}");
    }

    #[test]
    fn a_layer_or_tensor_the_metadata_does_not_describe_is_refused() {
        let dir = temp_dir("extra-tensors");
        let path = dir.join("f.safetensors");
        tiny_model().save(&path).expect("saves");
        let mut tensors = candle_core::safetensors::load(&path, &Device::Cpu).expect("loads");
        let extra = Tensor::zeros((N_OUTPUTS, N_OUTPUTS), candle_core::DType::F32, &Device::Cpu).expect("tensor");
        tensors.insert("net.l3.weight".into(), extra);
        candle_core::safetensors::save(&tensors, &path).expect("writes");
        crate::agents::model_file::rebind_for_test(&path);
        let err = ForecastModel::load(&path).expect_err("extra layer").to_string();
        assert!(err.contains("f.safetensors") && err.contains("`net.l3.weight` is not part of"), "{err}");
    }
}
