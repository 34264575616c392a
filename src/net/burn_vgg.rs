//! VGG16 conv1_1 .. conv5_3 as a Burn module, loaded with burn-store.

use burn::module::{Initializer, Module};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::activation::relu;
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor, TensorData};

use super::{NetInput, Spoc};
use crate::error::{Error, Result};
use crate::model::{VGG16_LAYERS, Vgg16Weights};

/// The 13 convolutions; `features.{0..12}` after burn-store renumbers torchvision's
/// `features.{0,2,5,...,28}` contiguously.
#[derive(Module, Debug)]
struct Vgg16Features {
    features: Vec<Conv2d>,
}

/// VGG16 features on a Burn device (wgpu or flex).
#[derive(Debug)]
pub struct BurnVgg {
    model: Vgg16Features,
    device: Device,
}

impl BurnVgg {
    /// Builds the module on `device` and loads `weights` into it with burn-store.
    pub fn new(weights: &Vgg16Weights, device: Device) -> Result<Self> {
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
        Ok(Self { model, device })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Runs the network and sum-pools conv5_3; blocks until the result is read back.
    pub fn spoc(&self, input: &NetInput) -> Result<Spoc> {
        let data = TensorData::new(input.data.clone(), [1, input.height, input.width, 3]);
        let mut x = Tensor::<4>::from_data(data, &self.device).permute([0, 3, 1, 2]);
        for (conv, spec) in self.model.features.iter().zip(&VGG16_LAYERS) {
            x = relu(conv.forward(x));
            if spec.pool_after {
                x = max_pool2d(x, MaxPoolOptions::new([2, 2]));
            }
        }
        let [_, channels, fh, fw] = x.dims();
        let raw = x
            .sum_dims(&[2, 3])
            .reshape([channels])
            .try_into_data()
            .map_err(|e| Error::Backend(format!("reading the result back failed: {e:?}")))?
            .try_to_vec::<f32>()
            .map_err(|e| Error::Backend(format!("unexpected result type: {e:?}")))?;
        Ok(Spoc {
            feature_map: [fh, fw],
            raw,
        })
    }
}
