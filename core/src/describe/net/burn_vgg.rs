//! VGG16 conv1_1 .. conv5_3 as a Burn module, loaded with burn-store.

use burn::module::{Initializer, Module};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::activation::relu;
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::{MaxPoolOptions, PadMode};
use burn::tensor::{Device, Tensor, TensorData};

use super::{NetInput, Spoc};
use crate::describe::model::{VGG16_LAYERS, Vgg16Weights};
use crate::describe::pooling::FeatureMap;
use crate::support::error::{Error, Result};

/// The 13 convolutions; `features.{0..12}` after burn-store renumbers torchvision's
/// `features.{0,2,5,...,28}` contiguously.
#[derive(Module, Debug)]
struct Vgg16Features {
    features: Vec<Conv2d>,
}

/// How the 3x3 convolutions run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvPath {
    /// Burn's `conv2d`. On wgpu with f32 weights its autotuner has only the direct
    /// kernel to choose from (the implicit-GEMM kernels want tensor-core types), which
    /// ran at about 0.7 TFLOP/s on an H100.
    Direct,
    /// Each convolution as matrix products: the 3x3 neighbourhoods of a band of rows
    /// side by side (im2col, at most [`BAND_BYTES`] at a time) times the `9 Cin x Cout`
    /// weight matrix, in channels-last layout; pooling by reshaping.
    Gemm,
}

/// The largest im2col band, in bytes: within any GPU's storage-buffer binding limit.
const BAND_BYTES: usize = 128 << 20;

/// One convolution as a matrix: `[9 Cin, Cout]` (rows in `(dy, dx, cin)` order) and its
/// bias as `[1, Cout]`.
#[derive(Debug)]
struct GemmLayer {
    weight: Tensor<2>,
    bias: Tensor<2>,
    pool_after: bool,
}

/// VGG16 features on a Burn device (wgpu or flex).
#[derive(Debug)]
pub struct BurnVgg {
    model: Vgg16Features,
    /// The same weights as matrices, for [`ConvPath::Gemm`].
    gemm: Option<Vec<GemmLayer>>,
    device: Device,
}

impl BurnVgg {
    /// Builds the module on `device` and loads `weights` into it with burn-store.
    pub fn new(weights: &Vgg16Weights, device: Device) -> Result<Self> {
        Self::with_conv(weights, device, ConvPath::Direct)
    }

    /// [`Self::new`], running the convolutions by `path`.
    pub fn with_conv(weights: &Vgg16Weights, device: Device, path: ConvPath) -> Result<Self> {
        let features = VGG16_LAYERS
            .iter()
            .map(|spec| {
                Conv2dConfig::new([spec.in_channels, spec.out_channels], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .with_initializer(Initializer::Zeros)
                    .init(&device)
            })
            .collect();
        let mut model = Vgg16Features { features };
        let mut store = SafetensorsStore::from_bytes(Some(weights.bytes().to_vec()))
            .map_indices_contiguous(true);
        let result = model
            .load_from(&mut store)
            .map_err(|e| Error::model(weights.path(), format!("burn-store: {e}")))?;
        if !result.errors.is_empty() || !result.missing.is_empty() {
            return Err(Error::model(
                weights.path(),
                format!(
                    "burn-store could not apply every tensor: errors {:?}, missing {:?}",
                    result
                        .errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>(),
                    result.missing
                ),
            ));
        }
        let gemm = (path == ConvPath::Gemm).then(|| {
            model
                .features
                .iter()
                .zip(&VGG16_LAYERS)
                .map(|(conv, spec)| GemmLayer {
                    // [Cout, Cin, 3, 3] -> [3, 3, Cin, Cout] -> [9 Cin, Cout].
                    weight: conv
                        .weight
                        .val()
                        .permute([2, 3, 1, 0])
                        .reshape([9 * spec.in_channels, spec.out_channels]),
                    bias: conv.bias.as_ref().map_or_else(
                        || Tensor::zeros([1, spec.out_channels], &device),
                        |b| b.val().reshape([1, spec.out_channels]),
                    ),
                    pool_after: spec.pool_after,
                })
                .collect()
        });
        Ok(Self {
            model,
            gemm,
            device,
        })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Runs the network and sum-pools conv5_3; blocks until the result is read back.
    pub fn spoc(&self, input: &NetInput) -> Result<Spoc> {
        let mut spocs = self.spoc_batch(std::slice::from_ref(input))?;
        spocs
            .pop()
            .ok_or_else(|| Error::Backend("the network returned nothing".into()))
    }

    /// [`Self::spoc`] of images of one size in one pass (one tensor of `inputs.len()`
    /// images), which keeps a GPU busier than one image at a time.
    pub fn spoc_batch(&self, inputs: &[NetInput]) -> Result<Vec<Spoc>> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let x = self.conv5_3_batch(inputs)?;
        let [batch, fh, fw, channels] = x.dims();
        let raw = read_back(x.sum_dims(&[1, 2]).reshape([batch * channels]))?;
        Ok(raw
            .chunks_exact(channels)
            .map(|raw| Spoc {
                feature_map: [fh, fw],
                raw: raw.to_vec(),
            })
            .collect())
    }

    /// Runs the network and reads conv5_3 (after its ReLU) back.
    pub fn conv5_3(&self, input: &NetInput) -> Result<FeatureMap> {
        let mut maps = self.conv5_3_maps(std::slice::from_ref(input))?;
        maps.pop()
            .ok_or_else(|| Error::Backend("the network returned nothing".into()))
    }

    /// [`Self::conv5_3`] of images of one size in one pass, read back in one transfer.
    pub fn conv5_3_maps(&self, inputs: &[NetInput]) -> Result<Vec<FeatureMap>> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let x = self.conv5_3_batch(inputs)?;
        let [batch, height, width, channels] = x.dims();
        let data = read_back(x.reshape([batch * height * width * channels]))?;
        Ok(data
            .chunks_exact(height * width * channels)
            .map(|map| FeatureMap {
                height,
                width,
                channels,
                data: map.to_vec(),
            })
            .collect())
    }

    /// conv5_3 of a non-empty batch of one size, `[batch, height, width, channels]`.
    fn conv5_3_batch(&self, inputs: &[NetInput]) -> Result<Tensor<4>> {
        let Some(first) = inputs.first() else {
            return Err(Error::Invalid("an empty batch of network inputs".into()));
        };
        let (height, width) = (first.height, first.width);
        if inputs
            .iter()
            .any(|i| i.height != height || i.width != width)
        {
            return Err(Error::Invalid(
                "a batch of network inputs must share one size".into(),
            ));
        }
        let mut data = Vec::with_capacity(inputs.len() * first.data.len());
        for input in inputs {
            data.extend_from_slice(&input.data);
        }
        let data = TensorData::new(data, [inputs.len(), height, width, 3]);
        let x = Tensor::<4>::from_data(data, &self.device);
        // conv5_3 as [batch, height, width, channels].
        Ok(match &self.gemm {
            Some(layers) => layers.iter().fold(x, gemm_layer),
            None => {
                let mut x = x.permute([0, 3, 1, 2]);
                for (conv, spec) in self.model.features.iter().zip(&VGG16_LAYERS) {
                    x = relu(conv.forward(x));
                    if spec.pool_after {
                        x = max_pool2d(x, MaxPoolOptions::new([2, 2]));
                    }
                }
                x.permute([0, 2, 3, 1])
            }
        })
    }
}

/// A tensor's values, read back to the host (blocks until the device is done).
fn read_back(x: Tensor<1>) -> Result<Vec<f32>> {
    x.try_into_data()
        .map_err(|e| Error::Backend(format!("reading the result back failed: {e:?}")))?
        .try_to_vec::<f32>()
        .map_err(|e| Error::Backend(format!("unexpected result type: {e:?}")))
}

/// One 3x3 convolution (padding 1) + ReLU (+ 2x2 max-pool) on `[n, h, w, c]`, as
/// matrix products over bands of rows.
fn gemm_layer(x: Tensor<4>, layer: &GemmLayer) -> Tensor<4> {
    let [n, h, w, c] = x.dims();
    let out = layer.weight.dims()[1];
    let padded = x.pad([(1, 1), (1, 1), (0, 0)], PadMode::Constant(0.0));
    let row_bytes = n * w * 9 * c * std::mem::size_of::<f32>();
    let band = (BAND_BYTES / row_bytes.max(1)).clamp(1, h);
    let mut bands: Vec<Tensor<4>> = (0..h)
        .step_by(band)
        .map(|top| {
            let rows = band.min(h - top);
            let taps: Vec<Tensor<4>> = (0..9)
                .map(|k| {
                    let (dy, dx) = (k / 3, k % 3);
                    padded
                        .clone()
                        .slice([0..n, top + dy..top + dy + rows, dx..dx + w, 0..c])
                })
                .collect();
            let columns = Tensor::cat(taps, 3).reshape([n * rows * w, 9 * c]);
            let y = columns.matmul(layer.weight.clone()) + layer.bias.clone();
            relu(y).reshape([n, rows, w, out])
        })
        .collect();
    let y = if bands.len() == 1 {
        bands.swap_remove(0)
    } else {
        Tensor::cat(bands, 1)
    };
    if !layer.pool_after {
        return y;
    }
    // 2x2 max-pool, stride 2, floor: drop an odd last row or column, then take the
    // maximum of each pair of rows and of columns.
    let (h2, w2) = (h / 2, w / 2);
    y.slice([0..n, 0..2 * h2, 0..2 * w2, 0..out])
        .reshape([n, h2, 2, w2, 2, out])
        .max_dim(4)
        .max_dim(2)
        .reshape([n, h2, w2, out])
}
