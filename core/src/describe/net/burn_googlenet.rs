//! GoogLeNet up to pool5 on a Burn device (wgpu or flex), with Burn's `conv2d` and
//! `max_pool2d` (ceil mode) on NCHW tensors.

use burn::tensor::activation::relu;
use burn::tensor::module::{conv2d, max_pool2d};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};

use super::{NetInput, Spoc};
use crate::describe::model::googlenet::{GoogLeNetConv, GoogLeNetWeights, PLAN, Step};
use crate::support::error::{Error, Result};

#[derive(Debug)]
struct BurnConv {
    spec: GoogLeNetConv,
    weight: Tensor<4>,
    bias: Tensor<1>,
}

/// GoogLeNet up to pool5 on a Burn device.
#[derive(Debug)]
pub struct BurnGoogLeNet {
    /// `all_convs` order: the stem, then six per inception block.
    convs: Vec<BurnConv>,
    device: Device,
}

impl BurnGoogLeNet {
    pub fn new(weights: &GoogLeNetWeights, device: Device) -> Result<Self> {
        let convs = weights
            .convs()?
            .into_iter()
            .map(|conv| BurnConv {
                weight: Tensor::from_data(
                    TensorData::new(conv.weight, conv.spec.weight_shape()),
                    &device,
                ),
                bias: Tensor::from_data(
                    TensorData::new(conv.bias, [conv.spec.out_channels]),
                    &device,
                ),
                spec: conv.spec,
            })
            .collect();
        Ok(Self { convs, device })
    }

    /// pool5 (the mean of `inception5b` over positions) and `inception5b`'s size;
    /// blocks until the result is read back.
    pub fn spoc(&self, input: &NetInput) -> Result<Spoc> {
        let data = TensorData::new(input.data.clone(), [1, input.height, input.width, 3]);
        let mut x = Tensor::<4>::from_data(data, &self.device).permute([0, 3, 1, 2]);
        for step in PLAN {
            x = match step {
                Step::Conv(i) => self.conv(x, i),
                Step::MaxPool { kernel, stride } => pool(x, kernel, stride, 0),
                Step::Inception(block) => {
                    let first = 3 + 6 * block;
                    let branches = vec![
                        self.conv(x.clone(), first),
                        self.conv(self.conv(x.clone(), first + 1), first + 2),
                        self.conv(self.conv(x.clone(), first + 3), first + 4),
                        self.conv(pool(x, 3, 1, 1), first + 5),
                    ];
                    Tensor::cat(branches, 1)
                }
            };
        }
        let [_, channels, fh, fw] = x.dims();
        let raw = x
            .mean_dims(&[2, 3])
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

    fn conv(&self, x: Tensor<4>, index: usize) -> Tensor<4> {
        let conv = &self.convs[index];
        let (s, p) = (conv.spec.stride, conv.spec.padding);
        relu(conv2d(
            x,
            conv.weight.clone(),
            Some(conv.bias.clone()),
            ConvOptions::new([s, s], [p, p], [1, 1], 1),
        ))
    }
}

fn pool(x: Tensor<4>, kernel: usize, stride: usize, padding: usize) -> Tensor<4> {
    max_pool2d(
        x,
        MaxPoolOptions::new([kernel, kernel])
            .with_stride([stride, stride])
            .with_padding([padding, padding])
            .with_ceil_mode(true),
    )
}
