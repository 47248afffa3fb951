//! Small fully connected networks: trained with candle, run by a plain-Rust forward pass.
//!
//! Contract:
//! - Weights are initialised from our own seeded [`SimRng`] (candle's CPU RNG cannot be seeded), variable by variable
//!   in sorted name order, so the same seed gives the same initial network on every machine.
//! - [`TrainableMlp`] holds candle `Var`s for training; [`Mlp`] is its frozen copy for inference: a matrix–vector
//!   loop in f32 with the same arithmetic as candle's forward pass (checked to 1e-5 in the tests). Inference is
//!   single-threaded, allocation-free after construction and independent of `RAYON_NUM_THREADS`, which is what lets
//!   a decision take microseconds on the simulation thread (candle's per-op overhead and thread pool cost more than
//!   the arithmetic at batch 1-5).
//! - Layer `i` is stored as `{prefix}.l{i}.weight` (`[out, in]`, row-major) and `{prefix}.l{i}.bias` (`[out]`);
//!   hidden layers use ReLU, the last is linear.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor, Var};

use crate::sim::rng::SimRng;

/// Why a set of tensors is not the network it claims to be.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ShapeError {
    #[error("tensor `{0}` is missing")]
    Missing(String),
    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    Shape { name: String, found: Vec<usize>, expected: Vec<usize> },
    #[error("tensor `{0}` holds a NaN or infinite value")]
    NonFinite(String),
    #[error("tensor `{name}` cannot be read: {message}")]
    Read { name: String, message: String },
    /// Integers are not weights: converting them to f32 would run a network nobody trained.
    #[error("tensor `{name}` holds {dtype} values; network tensors are floating point (F32, F64, F16 or BF16)")]
    DType { name: String, dtype: String },
    /// Tensors the metadata does not describe (a layer more than its sizes, a stray name): the file is not the
    /// network the metadata says, and running the part that matches would hide it.
    #[error("{} not part of the networks the metadata describes", unexpected_list(.0))]
    Unexpected(Vec<String>),
}

fn unexpected_list(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut shown: Vec<String> = names.iter().take(SHOWN).map(|n| format!("`{n}`")).collect();
    if names.len() > SHOWN {
        shown.push(format!("and {} more", names.len() - SHOWN));
    }
    let noun = if names.len() == 1 { "tensor" } else { "tensors" };
    let verb = if names.len() == 1 { "is" } else { "are" };
    format!("{noun} {} {verb}", shown.join(", "))
}

/// Refuses any tensor of `tensors` whose name is not in `expected`, naming them all (sorted).
pub fn refuse_unexpected<'a>(
    tensors: &BTreeMap<String, Tensor>,
    expected: impl IntoIterator<Item = &'a str>,
) -> Result<(), ShapeError> {
    let expected: std::collections::BTreeSet<&str> = expected.into_iter().collect();
    let extra: Vec<String> = tensors.keys().filter(|k| !expected.contains(k.as_str())).cloned().collect();
    if extra.is_empty() { Ok(()) } else { Err(ShapeError::Unexpected(extra)) }
}

fn weight_name(prefix: &str, layer: usize) -> String {
    format!("{prefix}.l{layer}.weight")
}

fn bias_name(prefix: &str, layer: usize) -> String {
    format!("{prefix}.l{layer}.bias")
}

/// One dense layer for inference: `y = W x + b`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub in_dim: usize,
    pub out_dim: usize,
    /// `[out_dim × in_dim]`, row-major.
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// A frozen MLP: ReLU between layers, linear output.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub layers: Vec<Dense>,
}

impl Mlp {
    /// Feeds every weight and bias, layer by layer, into a digest.
    pub fn digest_into(&self, d: &mut crate::digest::Digest) {
        for l in &self.layers {
            d.bytes(&(l.in_dim as u64).to_le_bytes()).bytes(&(l.out_dim as u64).to_le_bytes());
            d.f32s(&l.weight).f32s(&l.bias);
        }
    }

    pub fn in_dim(&self) -> usize {
        self.layers.first().map_or(0, |l| l.in_dim)
    }

    pub fn out_dim(&self) -> usize {
        self.layers.last().map_or(0, |l| l.out_dim)
    }

    /// Forward pass of one input. `scratch` holds two buffers reused between calls.
    pub fn forward_into(&self, x: &[f32], scratch: &mut [Vec<f32>; 2], out: &mut Vec<f32>) {
        let [a, b] = scratch;
        a.clear();
        a.extend_from_slice(x);
        for (i, layer) in self.layers.iter().enumerate() {
            b.clear();
            b.resize(layer.out_dim, 0.0);
            for (o, y) in b.iter_mut().enumerate() {
                let row = &layer.weight[o * layer.in_dim..(o + 1) * layer.in_dim];
                *y = dot(row, a) + layer.bias[o];
            }
            if i + 1 < self.layers.len() {
                for y in b.iter_mut() {
                    *y = y.max(0.0);
                }
            }
            std::mem::swap(a, b);
        }
        out.clear();
        out.extend_from_slice(a);
    }

    /// Reads the layers `{prefix}.l0 ..` with the given dimensions from named tensors, checking every shape and
    /// value.
    pub fn from_tensors(tensors: &BTreeMap<String, Tensor>, prefix: &str, dims: &[usize]) -> Result<Mlp, ShapeError> {
        let mut layers = Vec::new();
        for (i, w) in dims.windows(2).enumerate() {
            let (in_dim, out_dim) = (w[0], w[1]);
            let weight = read(tensors, &weight_name(prefix, i), &[out_dim, in_dim])?;
            let bias = read(tensors, &bias_name(prefix, i), &[out_dim])?;
            layers.push(Dense { in_dim, out_dim, weight, bias });
        }
        Ok(Mlp { layers })
    }

    /// The tensor names [`Mlp::from_tensors`] reads for these layer sizes.
    pub fn tensor_names(prefix: &str, dims: &[usize]) -> Vec<String> {
        (0..dims.len().saturating_sub(1)).flat_map(|i| [weight_name(prefix, i), bias_name(prefix, i)]).collect()
    }
}

/// Dot product with eight independent partial sums: the compiler can keep them in one SIMD register, where a
/// single running sum (strict f32 order) would serialise every addition. Differs from candle's order only in rounding.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8.remainder().iter().zip(b8.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a8.zip(b8) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// A named tensor of an exact shape and a floating-point type, flattened to f32, every value finite.
pub fn read(tensors: &BTreeMap<String, Tensor>, name: &str, shape: &[usize]) -> Result<Vec<f32>, ShapeError> {
    let t = tensors.get(name).ok_or_else(|| ShapeError::Missing(name.to_string()))?;
    // Another float width converts faithfully enough (F64 rounds, F16/BF16 widen); an integer does not.
    if !matches!(t.dtype(), DType::F32 | DType::F64 | DType::F16 | DType::BF16) {
        return Err(ShapeError::DType { name: name.to_string(), dtype: format!("{:?}", t.dtype()) });
    }
    if t.dims() != shape {
        return Err(ShapeError::Shape { name: name.to_string(), found: t.dims().to_vec(), expected: shape.to_vec() });
    }
    let values = t
        .to_dtype(DType::F32)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(|e| ShapeError::Read { name: name.to_string(), message: e.to_string() })?;
    if values.iter().any(|v| !v.is_finite()) {
        return Err(ShapeError::NonFinite(name.to_string()));
    }
    Ok(values)
}

/// An MLP whose parameters are candle variables, for training.
pub struct TrainableMlp {
    prefix: String,
    dims: Vec<usize>,
    /// (weight, bias) per layer.
    params: Vec<(Var, Var)>,
}

impl TrainableMlp {
    /// He-uniform weights (bound √(6 / fan_in)) and zero biases, drawn from `rng` layer by layer. The last layer is
    /// scaled by `last_layer_scale` (small values start the output near zero, which suits residual-style targets).
    pub fn new(prefix: &str, dims: &[usize], rng: &mut SimRng, last_layer_scale: f64) -> candle_core::Result<Self> {
        let mut params = Vec::new();
        let n_layers = dims.len().saturating_sub(1);
        for (i, w) in dims.windows(2).enumerate() {
            let (in_dim, out_dim) = (w[0], w[1]);
            let scale = if i + 1 == n_layers { last_layer_scale } else { 1.0 };
            let bound = (6.0 / in_dim.max(1) as f64).sqrt() * scale;
            let weight: Vec<f32> =
                (0..in_dim * out_dim).map(|_| ((rng.uniform() * 2.0 - 1.0) * bound) as f32).collect();
            let weight = Var::from_tensor(&Tensor::from_vec(weight, (out_dim, in_dim), &Device::Cpu)?)?;
            let bias = Var::zeros(out_dim, DType::F32, &Device::Cpu)?;
            params.push((weight, bias));
        }
        Ok(Self { prefix: prefix.to_string(), dims: dims.to_vec(), params })
    }

    /// Batch forward: `x` is `[batch, in]`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        for (i, (w, b)) in self.params.iter().enumerate() {
            h = h.matmul(&w.as_tensor().t()?)?.broadcast_add(b.as_tensor())?;
            if i + 1 < self.params.len() {
                h = h.relu()?;
            }
        }
        Ok(h)
    }

    pub fn vars(&self) -> Vec<Var> {
        self.params.iter().flat_map(|(w, b)| [w.clone(), b.clone()]).collect()
    }

    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// Every parameter by name (for safetensors).
    pub fn named_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for (i, (w, b)) in self.params.iter().enumerate() {
            out.push((weight_name(&self.prefix, i), w.as_tensor().clone()));
            out.push((bias_name(&self.prefix, i), b.as_tensor().clone()));
        }
        out
    }

    /// Overwrites the parameters from named tensors (a checkpoint), checking shapes.
    pub fn load(&self, tensors: &BTreeMap<String, Tensor>) -> Result<(), ShapeError> {
        for (i, (w, b)) in self.params.iter().enumerate() {
            for (var, name) in [(w, weight_name(&self.prefix, i)), (b, bias_name(&self.prefix, i))] {
                let values = read(tensors, &name, var.dims())?;
                let t = Tensor::from_vec(values, var.dims(), &Device::Cpu)
                    .map_err(|e| ShapeError::Read { name: name.clone(), message: e.to_string() })?;
                var.set(&t).map_err(|e| ShapeError::Read { name: name.clone(), message: e.to_string() })?;
            }
        }
        Ok(())
    }

    /// The frozen inference copy.
    pub fn to_mlp(&self) -> Result<Mlp, ShapeError> {
        let map: BTreeMap<String, Tensor> = self.named_tensors().into_iter().collect();
        Mlp::from_tensors(&map, &self.prefix, &self.dims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(seed: u64) -> TrainableMlp {
        TrainableMlp::new("net", &[7, 16, 16, 3], &mut SimRng::new(seed, 99), 1.0).expect("builds")
    }

    #[test]
    fn same_seed_same_weights_other_seed_other_weights() {
        let a = net(1).to_mlp().expect("valid");
        let b = net(1).to_mlp().expect("valid");
        let c = net(2).to_mlp().expect("valid");
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn plain_forward_matches_candle() {
        let n = net(3);
        let mlp = n.to_mlp().expect("valid");
        let mut rng = SimRng::new(4, 4);
        let xs: Vec<f32> = (0..5 * 7).map(|_| rng.normal() as f32).collect();
        let batch = Tensor::from_vec(xs.clone(), (5, 7), &Device::Cpu).expect("tensor");
        let candle_out: Vec<Vec<f32>> = n.forward(&batch).and_then(|t| t.to_vec2()).expect("forward");
        let mut scratch = [Vec::new(), Vec::new()];
        let mut out = Vec::new();
        for (row, expected) in xs.chunks(7).zip(&candle_out) {
            mlp.forward_into(row, &mut scratch, &mut out);
            for (a, b) in out.iter().zip(expected) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn wrong_shapes_and_non_finite_values_are_named() {
        let n = net(5);
        let mut map: BTreeMap<String, Tensor> = n.named_tensors().into_iter().collect();
        assert!(Mlp::from_tensors(&map, "net", &[7, 16, 16, 3]).is_ok());
        assert_eq!(
            Mlp::from_tensors(&map, "net", &[8, 16, 16, 3]),
            Err(ShapeError::Shape { name: "net.l0.weight".into(), found: vec![16, 7], expected: vec![16, 8] })
        );
        map.insert("net.l1.bias".into(), Tensor::from_vec(vec![f32::NAN; 16], 16, &Device::Cpu).expect("tensor"));
        assert_eq!(Mlp::from_tensors(&map, "net", &[7, 16, 16, 3]), Err(ShapeError::NonFinite("net.l1.bias".into())));
        map.remove("net.l2.weight");
        assert!(matches!(n.load(&map), Err(ShapeError::NonFinite(_) | ShapeError::Missing(_))));
    }

    #[test]
    fn integer_tensors_are_refused_and_other_float_widths_converted() {
        let n = net(6);
        let mut map: BTreeMap<String, Tensor> = n.named_tensors().into_iter().collect();
        let ints = Tensor::from_vec(vec![1u32; 16], 16, &Device::Cpu).expect("tensor");
        map.insert("net.l1.bias".into(), ints);
        assert_eq!(
            Mlp::from_tensors(&map, "net", &[7, 16, 16, 3]),
            Err(ShapeError::DType { name: "net.l1.bias".into(), dtype: "U32".into() })
        );
        let err = ShapeError::DType { name: "net.l1.bias".into(), dtype: "U32".into() }.to_string();
        assert!(err.contains("`net.l1.bias` holds U32"), "{err}");
        let wide = Tensor::from_vec(vec![0.5f64; 16], 16, &Device::Cpu).expect("tensor");
        map.insert("net.l1.bias".into(), wide);
        let mlp = Mlp::from_tensors(&map, "net", &[7, 16, 16, 3]).expect("F64 converts");
        assert_eq!(mlp.layers[1].bias, vec![0.5f32; 16]);
    }

    #[test]
    fn tensors_beyond_the_described_layers_are_refused_by_name() {
        let n = net(7);
        let mut map: BTreeMap<String, Tensor> = n.named_tensors().into_iter().collect();
        let names = Mlp::tensor_names("net", &[7, 16, 16, 3]);
        assert_eq!(names.len(), 6);
        assert_eq!(refuse_unexpected(&map, names.iter().map(String::as_str)), Ok(()));
        // The network with one layer fewer than the file holds: its last layer is unexplained.
        let fewer = Mlp::tensor_names("net", &[7, 16, 3]);
        assert_eq!(
            refuse_unexpected(&map, fewer.iter().map(String::as_str)),
            Err(ShapeError::Unexpected(vec!["net.l2.bias".into(), "net.l2.weight".into()]))
        );
        map.insert("junk".into(), Tensor::zeros(1, DType::F32, &Device::Cpu).expect("tensor"));
        let err = refuse_unexpected(&map, names.iter().map(String::as_str)).expect_err("junk").to_string();
        assert_eq!(err, "tensor `junk` is not part of the networks the metadata describes");
    }
}
