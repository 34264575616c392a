//! GoogLeNet on the CPU: every convolution as an im2col band (or, for 1x1 ones, the map
//! itself) times a packed `[k k Cin, Cout]` weight matrix on the `gemm` crate's SGEMM,
//! in interleaved (HWC) layout, so that an inception block's branches are matrices
//! whose columns are concatenated.

use rayon::prelude::*;

use super::sgemm;
use super::{NetInput, Spoc};
use crate::describe::model::googlenet::{
    GOOGLENET_CLASSES, GOOGLENET_FEATURE_DIM, GoogLeNetConv, GoogLeNetWeights, INCEPTIONS, PLAN,
    Step, pool_output,
};
use crate::support::error::Result;

/// Upper bound on an im2col band, in floats (16 MiB).
const BAND_FLOATS: usize = 4 << 20;

/// An `h x w x c` activation map.
#[derive(Debug, Clone)]
struct Map {
    h: usize,
    w: usize,
    c: usize,
    data: Vec<f32>,
}

/// A convolution laid out for im2col: `[k k Cin, Cout]`, rows in `(ky, kx, cin)` order.
#[derive(Debug, Clone)]
struct PackedConv {
    spec: GoogLeNetConv,
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// GoogLeNet up to pool5, and its classifier.
#[derive(Debug, Clone)]
pub struct CpuGoogLeNet {
    /// Stem first, then six per inception block (`all_convs` order).
    convs: Vec<PackedConv>,
    fc_weight: Vec<f32>,
    fc_bias: Vec<f32>,
    threads: usize,
}

impl CpuGoogLeNet {
    pub fn new(weights: &GoogLeNetWeights) -> Result<Self> {
        let convs = weights
            .convs()?
            .into_iter()
            .map(|conv| {
                let (cout, cin, k) = (
                    conv.spec.out_channels,
                    conv.spec.in_channels,
                    conv.spec.kernel,
                );
                // OIHW -> [(ky, kx, cin), cout].
                let mut packed = vec![0.0; k * k * cin * cout];
                for o in 0..cout {
                    for c in 0..cin {
                        for ky in 0..k {
                            for kx in 0..k {
                                packed[((ky * k + kx) * cin + c) * cout + o] =
                                    conv.weight[((o * cin + c) * k + ky) * k + kx];
                            }
                        }
                    }
                }
                PackedConv {
                    spec: conv.spec,
                    weight: packed,
                    bias: conv.bias,
                }
            })
            .collect();
        let (fc_weight, fc_bias) = weights.classifier()?;
        Ok(Self {
            convs,
            fc_weight,
            fc_bias,
            threads: rayon::current_num_threads(),
        })
    }

    /// pool5 (the mean of `inception5b` over positions) and `inception5b`'s size.
    pub fn spoc(&self, input: &NetInput) -> Spoc {
        let map = self.inception5b(input);
        let positions = (map.h * map.w) as f32;
        let mut pool5 = vec![0.0f32; map.c];
        for pixel in map.data.chunks_exact(map.c) {
            pool5.iter_mut().zip(pixel).for_each(|(s, v)| *s += v);
        }
        pool5.iter_mut().for_each(|s| *s /= positions);
        Spoc {
            feature_map: [map.h, map.w],
            raw: pool5,
        }
    }

    /// The whole network's 1,000 ImageNet logits (dropout is off in inference).
    pub fn logits(&self, input: &NetInput) -> Vec<f32> {
        let pool5 = self.spoc(input).raw;
        (0..GOOGLENET_CLASSES)
            .map(|class| {
                let row = &self.fc_weight
                    [class * GOOGLENET_FEATURE_DIM..(class + 1) * GOOGLENET_FEATURE_DIM];
                self.fc_bias[class] + row.iter().zip(&pool5).map(|(w, x)| w * x).sum::<f32>()
            })
            .collect()
    }

    fn inception5b(&self, input: &NetInput) -> Map {
        let mut map = Map {
            h: input.height,
            w: input.width,
            c: 3,
            data: input.data.clone(),
        };
        for step in PLAN {
            map = match step {
                Step::Conv(i) => self.conv(&map, &self.convs[i]),
                Step::MaxPool { kernel, stride } => max_pool(&map, kernel, stride, 0),
                Step::Inception(i) => self.inception(&map, i),
            };
        }
        map
    }

    fn inception(&self, x: &Map, block: usize) -> Map {
        let convs = &self.convs[3 + 6 * block..3 + 6 * (block + 1)];
        let branches = [
            self.conv(x, &convs[0]),
            self.conv(&self.conv(x, &convs[1]), &convs[2]),
            self.conv(&self.conv(x, &convs[3]), &convs[4]),
            self.conv(&max_pool(x, 3, 1, 1), &convs[5]),
        ];
        let c = INCEPTIONS[block].out_channels();
        let mut data = vec![0.0f32; x.h * x.w * c];
        data.par_chunks_mut(c).enumerate().for_each(|(p, out)| {
            let mut at = 0;
            for branch in &branches {
                out[at..at + branch.c].copy_from_slice(&branch.data[p * branch.c..][..branch.c]);
                at += branch.c;
            }
        });
        Map {
            h: x.h,
            w: x.w,
            c,
            data,
        }
    }

    /// Convolution + bias + ReLU.
    fn conv(&self, x: &Map, layer: &PackedConv) -> Map {
        let spec = &layer.spec;
        let (k, s, p) = (spec.kernel, spec.stride, spec.padding);
        let (cin, cout) = (spec.in_channels, spec.out_channels);
        debug_assert_eq!(x.c, cin);
        let oh = (x.h + 2 * p - k) / s + 1;
        let ow = (x.w + 2 * p - k) / s + 1;
        let mut data = vec![0.0f32; oh * ow * cout];
        if k == 1 && s == 1 {
            sgemm(
                &mut data,
                &x.data,
                &layer.weight,
                oh * ow,
                cin,
                cout,
                self.threads,
            );
        } else {
            let row = ow * k * k * cin;
            let band = (BAND_FLOATS / row).clamp(1, oh);
            let mut cols = vec![0.0f32; band * row];
            for top in (0..oh).step_by(band) {
                let rows = band.min(oh - top);
                let cols = &mut cols[..rows * row];
                cols.par_chunks_mut(k * k * cin)
                    .enumerate()
                    .for_each(|(i, patch)| {
                        let (oy, ox) = (top + i / ow, i % ow);
                        for ky in 0..k {
                            for kx in 0..k {
                                let dst = &mut patch[(ky * k + kx) * cin..][..cin];
                                let iy = (oy * s + ky).checked_sub(p).filter(|&y| y < x.h);
                                let ix = (ox * s + kx).checked_sub(p).filter(|&v| v < x.w);
                                match iy.zip(ix) {
                                    Some((iy, ix)) => {
                                        dst.copy_from_slice(&x.data[(iy * x.w + ix) * cin..][..cin])
                                    }
                                    None => dst.fill(0.0),
                                }
                            }
                        }
                    });
                sgemm(
                    &mut data[top * ow * cout..(top + rows) * ow * cout],
                    cols,
                    &layer.weight,
                    rows * ow,
                    k * k * cin,
                    cout,
                    self.threads,
                );
            }
        }
        data.par_chunks_mut(cout).for_each(|pixel| {
            pixel
                .iter_mut()
                .zip(&layer.bias)
                .for_each(|(v, b)| *v = (*v + b).max(0.0));
        });
        Map {
            h: oh,
            w: ow,
            c: cout,
            data,
        }
    }
}

/// Max-pool in PyTorch's ceil mode; padding and the part of a last window past the
/// input are left out of the maximum.
fn max_pool(x: &Map, kernel: usize, stride: usize, padding: usize) -> Map {
    let oh = pool_output(x.h, kernel, stride, padding, true);
    let ow = pool_output(x.w, kernel, stride, padding, true);
    let c = x.c;
    let mut data = vec![f32::NEG_INFINITY; oh * ow * c];
    data.par_chunks_mut(ow * c)
        .enumerate()
        .for_each(|(oy, out_row)| {
            let y0 = (oy * stride).saturating_sub(padding);
            let y1 = (oy * stride + kernel).saturating_sub(padding).min(x.h);
            for ox in 0..ow {
                let x0 = (ox * stride).saturating_sub(padding);
                let x1 = (ox * stride + kernel).saturating_sub(padding).min(x.w);
                let out = &mut out_row[ox * c..(ox + 1) * c];
                for iy in y0..y1 {
                    for ix in x0..x1 {
                        let pixel = &x.data[(iy * x.w + ix) * c..][..c];
                        out.iter_mut().zip(pixel).for_each(|(o, v)| *o = o.max(*v));
                    }
                }
            }
        });
    Map {
        h: oh,
        w: ow,
        c,
        data,
    }
}
