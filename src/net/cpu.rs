//! VGG16 on the CPU: every 3x3 convolution is an im2col band times a packed weight
//! matrix, multiplied by the `gemm` crate (runtime-dispatched AVX2/AVX-512 SGEMM,
//! threaded with rayon). Activations stay interleaved (HWC), so an im2col row is nine
//! contiguous copies and the GEMM output is already the next layer's input.

use gemm::Parallelism;
use rayon::prelude::*;

use super::{NetInput, Spoc};
use crate::error::Result;
use crate::model::{ConvSpec, Vgg16Weights};

/// Upper bound on an im2col band, in floats (16 MiB): bands are processed one after
/// the other, each by one threaded GEMM.
const BAND_FLOATS: usize = 4 << 20;

/// One convolution with its weights packed as a `[9 * in, out]` row-major matrix whose
/// row `(ky * 3 + kx) * in + c` holds the weights of tap `(ky, kx)`, input channel `c`.
#[derive(Debug, Clone)]
struct PackedConv {
    spec: ConvSpec,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// The VGG16 feature stack on the CPU.
#[derive(Debug, Clone)]
pub struct CpuVgg {
    layers: Vec<PackedConv>,
    threads: usize,
}

impl CpuVgg {
    pub fn new(weights: &Vgg16Weights) -> Result<Self> {
        let layers = weights
            .conv_layers()?
            .into_iter()
            .map(|layer| {
                let (cin, cout) = (layer.spec.in_channels, layer.spec.out_channels);
                let mut packed = vec![0.0; 9 * cin * cout];
                for o in 0..cout {
                    for c in 0..cin {
                        for tap in 0..9 {
                            packed[(tap * cin + c) * cout + o] =
                                layer.weight[(o * cin + c) * 9 + tap];
                        }
                    }
                }
                PackedConv {
                    spec: layer.spec,
                    weights: packed,
                    bias: layer.bias,
                }
            })
            .collect();
        Ok(Self {
            layers,
            threads: rayon::current_num_threads(),
        })
    }

    /// Runs the network and sum-pools conv5_3.
    pub fn spoc(&self, input: &NetInput) -> Spoc {
        let (mut h, mut w) = (input.height, input.width);
        let mut act = input.data.clone();
        for layer in &self.layers {
            act = self.conv3x3_relu(layer, &act, h, w);
            if layer.spec.pool_after {
                act = max_pool_2x2(&act, h, w, layer.spec.out_channels);
                (h, w) = (h / 2, w / 2);
            }
        }
        let channels = self.layers.last().map_or(0, |l| l.spec.out_channels);
        Spoc {
            feature_map: [h, w],
            raw: sum_pool(&act, channels),
        }
    }

    /// `relu(conv3x3_pad1(input) + bias)` for an `h x w x in` input.
    fn conv3x3_relu(&self, layer: &PackedConv, input: &[f32], h: usize, w: usize) -> Vec<f32> {
        let (cin, cout) = (layer.spec.in_channels, layer.spec.out_channels);
        let k = 9 * cin;
        let mut output = vec![0.0f32; h * w * cout];
        let band_rows = (BAND_FLOATS / (k * w)).clamp(1, h);
        let mut cols = vec![0.0f32; band_rows * w * k];
        for (band, out_band) in output.chunks_mut(band_rows * w * cout).enumerate() {
            let y0 = band * band_rows;
            let rows = out_band.len() / (w * cout);
            let cols = &mut cols[..rows * w * k];
            im2col_rows(input, h, w, cin, y0, cols);
            for px in out_band.chunks_exact_mut(cout) {
                px.copy_from_slice(&layer.bias);
            }
            sgemm_accumulate(
                out_band,
                cols,
                &layer.weights,
                rows * w,
                k,
                cout,
                self.threads,
            );
            out_band.par_chunks_mut(1 << 14).for_each(|chunk| {
                for v in chunk {
                    *v = v.max(0.0);
                }
            });
        }
        output
    }
}

/// Fills `cols` (`rows * w` rows of `9 * cin`) with the 3x3 neighbourhoods of output
/// rows `y0 ..`, zero outside the image (padding 1).
fn im2col_rows(input: &[f32], h: usize, w: usize, cin: usize, y0: usize, cols: &mut [f32]) {
    let k = 9 * cin;
    cols.par_chunks_mut(w * k)
        .enumerate()
        .for_each(|(r, row_cols)| {
            let y = y0 + r;
            for (x, col) in row_cols.chunks_exact_mut(k).enumerate() {
                for ky in 0..3 {
                    let dst = &mut col[ky * 3 * cin..(ky + 1) * 3 * cin];
                    let iy = (y + ky).wrapping_sub(1);
                    if iy >= h {
                        dst.fill(0.0);
                        continue;
                    }
                    let row = &input[iy * w * cin..(iy + 1) * w * cin];
                    // Taps kx = 0, 1, 2 read pixels x-1, x, x+1: contiguous in HWC.
                    let (first, skip_left) = if x == 0 { (0, 1) } else { (x - 1, 0) };
                    let last = (x + 1).min(w - 1);
                    dst[..skip_left * cin].fill(0.0);
                    let n = (last + 1 - first) * cin;
                    dst[skip_left * cin..skip_left * cin + n]
                        .copy_from_slice(&row[first * cin..(last + 1) * cin]);
                    dst[skip_left * cin + n..].fill(0.0);
                }
            }
        });
}

/// `dst[m x n] += lhs[m x k] * rhs[k x n]`, all row-major.
fn sgemm_accumulate(
    dst: &mut [f32],
    lhs: &[f32],
    rhs: &[f32],
    m: usize,
    k: usize,
    n: usize,
    threads: usize,
) {
    assert!(dst.len() == m * n && lhs.len() == m * k && rhs.len() == k * n);
    let parallelism = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the three slices hold exactly m*n, m*k and k*n elements (checked above),
    // the strides describe dense row-major matrices inside them, and `dst` is a unique
    // borrow that aliases neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            true,
            lhs.as_ptr(),
            1,
            k as isize,
            rhs.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// 2x2 / stride 2 max-pool (floor) of an `h x w x c` map.
fn max_pool_2x2(input: &[f32], h: usize, w: usize, c: usize) -> Vec<f32> {
    let (oh, ow) = (h / 2, w / 2);
    let mut out = vec![0.0f32; oh * ow * c];
    out.par_chunks_mut(ow * c)
        .enumerate()
        .for_each(|(oy, out_row)| {
            let top = &input[2 * oy * w * c..(2 * oy + 1) * w * c];
            let bottom = &input[(2 * oy + 1) * w * c..(2 * oy + 2) * w * c];
            for ox in 0..ow {
                let a = 2 * ox * c;
                let b = a + c;
                for ch in 0..c {
                    out_row[ox * c + ch] = top[a + ch]
                        .max(top[b + ch])
                        .max(bottom[a + ch])
                        .max(bottom[b + ch]);
                }
            }
        });
    out
}

/// Sum over all positions of an interleaved `positions x c` map.
fn sum_pool(map: &[f32], c: usize) -> Vec<f32> {
    let mut sums = vec![0.0f64; c];
    for px in map.chunks_exact(c) {
        for (s, v) in sums.iter_mut().zip(px) {
            *s += f64::from(*v);
        }
    }
    sums.into_iter().map(|s| s as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct 3x3 / pad 1 convolution, the definition the im2col path must match.
    fn conv_reference(
        input: &[f32],
        h: usize,
        w: usize,
        cin: usize,
        packed: &[f32],
        cout: usize,
    ) -> Vec<f32> {
        let mut out = vec![0.0; h * w * cout];
        for y in 0..h {
            for x in 0..w {
                for o in 0..cout {
                    let mut acc = 0.0;
                    for ky in 0..3 {
                        for kx in 0..3 {
                            let (iy, ix) =
                                (y as isize + ky as isize - 1, x as isize + kx as isize - 1);
                            if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                continue;
                            }
                            for c in 0..cin {
                                let v = input[((iy as usize) * w + ix as usize) * cin + c];
                                acc += v * packed[((ky * 3 + kx) * cin + c) * cout + o];
                            }
                        }
                    }
                    out[(y * w + x) * cout + o] = acc;
                }
            }
        }
        out
    }

    #[test]
    fn im2col_gemm_matches_direct_convolution() {
        let (h, w, cin, cout) = (7, 5, 3, 4);
        let input: Vec<f32> = (0..h * w * cin)
            .map(|i| ((i * 37 % 11) as f32) - 5.0)
            .collect();
        let packed: Vec<f32> = (0..9 * cin * cout)
            .map(|i| ((i * 13 % 7) as f32) * 0.25 - 0.5)
            .collect();
        let mut cols = vec![0.0; h * w * 9 * cin];
        im2col_rows(&input, h, w, cin, 0, &mut cols);
        let mut out = vec![0.0; h * w * cout];
        sgemm_accumulate(&mut out, &cols, &packed, h * w, 9 * cin, cout, 2);
        let expected = conv_reference(&input, h, w, cin, &packed, cout);
        for (a, b) in out.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }

    #[test]
    fn max_pool_floors_odd_sizes() {
        // 3x3 map, one channel: the last row and column are dropped.
        let input = [1.0, 5.0, 9.0, 2.0, 3.0, 9.0, 9.0, 9.0, 9.0];
        assert_eq!(max_pool_2x2(&input, 3, 3, 1), vec![5.0]);
    }
}
