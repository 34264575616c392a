//! VGG16 on the CPU, with the `gemm` crate's runtime-dispatched AVX2/AVX-512 SGEMM
//! doing the multiply-adds, threaded with rayon. Convolutions with 16 or more input
//! channels use Winograd F(4x4, 3x3) ([`super::winograd`], 4x fewer multiplies);
//! conv1_1 (3 channels) is an im2col band times a packed weight matrix. Activations
//! stay interleaved (HWC), so an im2col row is three contiguous copies and every GEMM
//! output is already the next layer's input.
//!
//! Bias and ReLU are not separate passes: a map is kept as the bare GEMM output with
//! its bias still *pending*, and whoever reads it next (the next im2col, the final
//! sum-pool) applies `max(0, x + bias)` on the fly. Max-pooling commutes with that
//! monotone function, so it pools the bare values and passes the bias along. Buffers
//! live in per-thread scratch space reused across layers and images, so the hot loop
//! neither allocates nor page-faults.

use std::cell::RefCell;

use rayon::prelude::*;

use super::winograd::{self, Tile};
use super::{NetInput, Spoc, sgemm};
use crate::describe::model::{ConvSpec, Vgg16Weights};
use crate::describe::pooling::FeatureMap;
use crate::support::error::Result;

/// Upper bound on an im2col band, in floats (16 MiB): bands are processed one after
/// the other, each by one threaded GEMM.
const BAND_FLOATS: usize = 4 << 20;

/// Convolutions with fewer input channels than this use im2col: Winograd's GEMMs
/// would have a tiny inner dimension.
const WINOGRAD_MIN_CHANNELS: usize = 16;

/// A convolution's weights, laid out for the algorithm that runs it.
#[derive(Debug, Clone)]
enum Kernel {
    /// `[9 * in, out]` row-major: row `(ky * 3 + kx) * in + c` holds tap `(ky, kx)`,
    /// input channel `c`.
    Im2col(Vec<f32>),
    /// Winograd-domain weights, `[α²][in][out]`.
    Winograd(Tile, Vec<f32>),
}

#[derive(Debug, Clone)]
struct PackedConv {
    spec: ConvSpec,
    kernel: Kernel,
    bias: Vec<f32>,
}

/// The VGG16 feature stack on the CPU.
#[derive(Debug, Clone)]
pub struct CpuVgg {
    layers: Vec<PackedConv>,
    threads: usize,
}

/// Reusable buffers: two feature maps (ping-pong), the im2col band and Winograd's.
#[derive(Default)]
struct Scratch {
    src: Vec<f32>,
    dst: Vec<f32>,
    cols: Vec<f32>,
    winograd: winograd::Buffers,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Grows `buf` to at least `len` and returns its first `len` elements.
fn slice_of(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

impl CpuVgg {
    /// The network with Winograd F(4x4, 3x3), the fastest.
    pub fn new(weights: &Vgg16Weights) -> Result<Self> {
        Self::with_tile(weights, Tile::F4)
    }

    /// The network with the Winograd algorithm `tile` (F(2x2, 3x3) rounds less and
    /// was the only one before; `benches/` compare the two).
    pub fn with_tile(weights: &Vgg16Weights, tile: Tile) -> Result<Self> {
        // Layers in parallel: transforming the weights is most of the start.
        let layers = weights
            .conv_layers()?
            .into_par_iter()
            .map(|layer| {
                let (cin, cout) = (layer.spec.in_channels, layer.spec.out_channels);
                let kernel = if cin >= WINOGRAD_MIN_CHANNELS {
                    Kernel::Winograd(tile, tile.transform_weights(&layer.weight, cin, cout))
                } else {
                    Kernel::Im2col(pack_im2col(&layer.weight, cin, cout))
                };
                PackedConv {
                    spec: layer.spec,
                    kernel,
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
        self.with_conv5_3(input, |map, (h, w, channels), pending| Spoc {
            feature_map: [h, w],
            raw: sum_pool(map, pending, channels),
        })
    }

    /// Runs the network and returns conv5_3 after its ReLU.
    pub fn conv5_3(&self, input: &NetInput) -> FeatureMap {
        self.with_conv5_3(input, |map, (height, width, channels), pending| {
            let mut data = vec![0.0; map.len()];
            activate_into(&mut data, map, pending);
            FeatureMap {
                height,
                width,
                channels,
                data,
            }
        })
    }

    /// `then(map, (h, w, channels), pending bias)` on conv5_3 before its activation.
    fn with_conv5_3<R>(
        &self,
        input: &NetInput,
        then: impl FnOnce(&[f32], (usize, usize, usize), Option<&[f32]>) -> R,
    ) -> R {
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => self.run(input, &mut scratch, then),
            // Only reachable if a caller re-enters from inside a run: use fresh buffers.
            Err(_) => self.run(input, &mut Scratch::default(), then),
        })
    }

    fn run<R>(
        &self,
        input: &NetInput,
        scratch: &mut Scratch,
        then: impl FnOnce(&[f32], (usize, usize, usize), Option<&[f32]>) -> R,
    ) -> R {
        let (mut h, mut w) = (input.height, input.width);
        let mut channels = 3;
        slice_of(&mut scratch.src, input.data.len()).copy_from_slice(&input.data);
        // The image needs no activation; every later map has its layer's bias pending.
        let mut pending: Option<&[f32]> = None;
        for layer in &self.layers {
            let (cout, pool) = (layer.spec.out_channels, layer.spec.pool_after);
            let src = &scratch.src[..h * w * channels];
            match &layer.kernel {
                Kernel::Im2col(weights) => {
                    let dst = slice_of(&mut scratch.dst, h * w * cout);
                    let shape = (h, w, channels);
                    self.conv3x3_im2col(weights, src, pending, shape, cout, dst, &mut scratch.cols);
                    if pool {
                        std::mem::swap(&mut scratch.src, &mut scratch.dst);
                        let src = &scratch.src[..h * w * cout];
                        let dst = slice_of(&mut scratch.dst, (h / 2) * (w / 2) * cout);
                        max_pool_2x2(src, h, w, cout, dst);
                    }
                }
                // The Winograd convolution pools as it writes.
                Kernel::Winograd(tile, u) => {
                    let len = if pool { (h / 2) * (w / 2) } else { h * w } * cout;
                    tile.conv3x3(
                        src,
                        pending,
                        (h, w, channels),
                        u,
                        (cout, pool),
                        slice_of(&mut scratch.dst, len),
                        &mut scratch.winograd,
                        self.threads,
                    );
                }
            }
            std::mem::swap(&mut scratch.src, &mut scratch.dst);
            pending = Some(&layer.bias);
            channels = cout;
            if pool {
                (h, w) = (h / 2, w / 2);
            }
        }
        then(&scratch.src[..h * w * channels], (h, w, channels), pending)
    }

    /// `dst = conv3x3_pad1(act(src))` without bias, for an `h x w x in` map, where
    /// `act(x) = max(0, x + pending)` (identity when `pending` is `None`).
    #[allow(clippy::too_many_arguments)]
    fn conv3x3_im2col(
        &self,
        weights: &[f32],
        src: &[f32],
        pending: Option<&[f32]>,
        (h, w, cin): (usize, usize, usize),
        cout: usize,
        dst: &mut [f32],
        cols: &mut Vec<f32>,
    ) {
        let k = 9 * cin;
        let band_rows = (BAND_FLOATS / (k * w)).clamp(1, h);
        for (band, out_band) in dst.chunks_mut(band_rows * w * cout).enumerate() {
            let rows = out_band.len() / (w * cout);
            let cols = slice_of(cols, rows * w * k);
            im2col_rows(src, pending, h, w, cin, band * band_rows, cols);
            sgemm(out_band, cols, weights, rows * w, k, cout, self.threads);
        }
    }
}

/// OIHW weights as the `[9 * in, out]` im2col matrix.
fn pack_im2col(oihw: &[f32], cin: usize, cout: usize) -> Vec<f32> {
    let mut packed = vec![0.0; 9 * cin * cout];
    for o in 0..cout {
        for c in 0..cin {
            for tap in 0..9 {
                packed[(tap * cin + c) * cout + o] = oihw[(o * cin + c) * 9 + tap];
            }
        }
    }
    packed
}

/// `dst[i] = max(0, src[i] + bias[i % c])` over whole pixels, or a plain copy.
#[inline]
fn activate_into(dst: &mut [f32], src: &[f32], pending: Option<&[f32]>) {
    match pending {
        None => dst.copy_from_slice(src),
        Some(bias) => {
            for (d, s) in dst
                .chunks_exact_mut(bias.len())
                .zip(src.chunks_exact(bias.len()))
            {
                for ((d, s), b) in d.iter_mut().zip(s).zip(bias) {
                    *d = (s + b).max(0.0);
                }
            }
        }
    }
}

/// Fills `cols` (`rows * w` rows of `9 * cin`) with the activated 3x3 neighbourhoods
/// of output rows `y0 ..`, zero outside the image (padding 1).
fn im2col_rows(
    src: &[f32],
    pending: Option<&[f32]>,
    h: usize,
    w: usize,
    cin: usize,
    y0: usize,
    cols: &mut [f32],
) {
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
                    let row = &src[iy * w * cin..(iy + 1) * w * cin];
                    // Taps kx = 0, 1, 2 read pixels x-1, x, x+1: contiguous in HWC.
                    let (first, skip_left) = if x == 0 { (0, 1) } else { (x - 1, 0) };
                    let last = (x + 1).min(w - 1);
                    let n = (last + 1 - first) * cin;
                    dst[..skip_left * cin].fill(0.0);
                    activate_into(
                        &mut dst[skip_left * cin..skip_left * cin + n],
                        &row[first * cin..(last + 1) * cin],
                        pending,
                    );
                    dst[skip_left * cin + n..].fill(0.0);
                }
            }
        });
}

/// 2x2 / stride 2 max-pool (floor) of an `h x w x c` map into `dst`.
fn max_pool_2x2(src: &[f32], h: usize, w: usize, c: usize, dst: &mut [f32]) {
    let ow = w / 2;
    debug_assert_eq!(dst.len(), (h / 2) * ow * c);
    if dst.is_empty() {
        return;
    }
    dst.par_chunks_mut(ow * c)
        .enumerate()
        .for_each(|(oy, out_row)| {
            let top = &src[2 * oy * w * c..(2 * oy + 1) * w * c];
            let bottom = &src[(2 * oy + 1) * w * c..(2 * oy + 2) * w * c];
            for (ox, out) in out_row.chunks_exact_mut(c).enumerate() {
                let (a, b) = (2 * ox * c, (2 * ox + 1) * c);
                for (ch, o) in out.iter_mut().enumerate() {
                    *o = top[a + ch]
                        .max(top[b + ch])
                        .max(bottom[a + ch])
                        .max(bottom[b + ch]);
                }
            }
        });
}

/// Sum over all positions of an interleaved `positions x c` map, activated.
fn sum_pool(map: &[f32], pending: Option<&[f32]>, c: usize) -> Vec<f32> {
    let mut sums = vec![0.0f64; c];
    let mut px = vec![0.0f32; c];
    for raw in map.chunks_exact(c) {
        activate_into(&mut px, raw, pending);
        for (s, v) in sums.iter_mut().zip(&px) {
            *s += f64::from(*v);
        }
    }
    sums.into_iter().map(|s| s as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct 3x3 / pad 1 convolution of `max(0, x + bias)` (of `x` without a bias),
    /// the definition the fused im2col and Winograd paths must match.
    fn conv_reference(
        input: &[f32],
        bias: Option<&[f32]>,
        (h, w, cin): (usize, usize, usize),
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
                            let (iy, ix) = (y + ky, x + kx);
                            if iy < 1 || ix < 1 || iy > h || ix > w {
                                continue;
                            }
                            for c in 0..cin {
                                let v = input[((iy - 1) * w + ix - 1) * cin + c];
                                let a = bias.map_or(v, |bias| (v + bias[c]).max(0.0));
                                acc += a * packed[((ky * 3 + kx) * cin + c) * cout + o];
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
    fn fused_im2col_gemm_matches_direct_convolution() {
        let (h, w, cin, cout) = (7, 5, 3, 4);
        let input: Vec<f32> = (0..h * w * cin)
            .map(|i| ((i * 37 % 11) as f32) - 5.0)
            .collect();
        let bias = [0.5, -1.0, 2.0];
        let packed: Vec<f32> = (0..9 * cin * cout)
            .map(|i| ((i * 13 % 7) as f32) * 0.25 - 0.5)
            .collect();
        let mut cols = vec![0.0; h * w * 9 * cin];
        im2col_rows(&input, Some(&bias), h, w, cin, 0, &mut cols);
        let mut out = vec![f32::NAN; h * w * cout];
        sgemm(&mut out, &cols, &packed, h * w, 9 * cin, cout, 2);
        let expected = conv_reference(&input, Some(&bias), (h, w, cin), &packed, cout);
        for (a, b) in out.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }

    #[test]
    fn winograd_matches_direct_convolution_at_odd_sizes_pooled_or_not() {
        // The last two are tall enough for each thread to take whole rows of tiles; odd
        // sizes leave tiles half outside the map and rows and columns the pool drops.
        let shapes = [
            (7, 5, 16, 5),
            (4, 9, 20, 3),
            (1, 1, 16, 2),
            (9, 6, 32, 17),
            (21, 9, 16, 24),
            (35, 6, 32, 8),
            (17, 13, 16, 16),
        ];
        for ((((h, w, cin, cout), tile), pool), activated) in shapes
            .into_iter()
            .flat_map(|shape| [Tile::F2, Tile::F4].map(|tile| (shape, tile)))
            .flat_map(|case| [false, true].map(|pool| (case, pool)))
            .flat_map(|case| [true, false].map(|activated| (case, activated)))
        {
            let input: Vec<f32> = (0..h * w * cin)
                .map(|i| ((i * 37 % 11) as f32) - 5.0)
                .collect();
            let bias: Vec<f32> = (0..cin).map(|c| (c % 3) as f32 - 1.0).collect();
            // Without a pending bias the input is taken as it is, negative values too.
            let pending = activated.then_some(bias.as_slice());
            let oihw: Vec<f32> = (0..9 * cin * cout)
                .map(|i| ((i * 13 % 7) as f32) * 0.25 - 0.5)
                .collect();
            let u = tile.transform_weights(&oihw, cin, cout);
            let (oh, ow) = if pool { (h / 2, w / 2) } else { (h, w) };
            let mut out = vec![f32::NAN; oh * ow * cout];
            let mut buffers = winograd::Buffers::default();
            let shape = (h, w, cin);
            let dst = &mut out;
            tile.conv3x3(
                &input,
                pending,
                shape,
                &u,
                (cout, pool),
                dst,
                &mut buffers,
                2,
            );
            let packed = pack_im2col(&oihw, cin, cout);
            let mut expected = conv_reference(&input, pending, (h, w, cin), &packed, cout);
            if pool {
                let mut pooled = vec![0.0; oh * ow * cout];
                max_pool_2x2(&expected, h, w, cout, &mut pooled);
                expected = pooled;
            }
            assert_eq!(out.len(), expected.len());
            for (a, b) in out.iter().zip(&expected) {
                assert!(
                    (a - b).abs() < 1e-3 * (1.0 + b.abs()),
                    "{tile:?} {h}x{w}x{cin} pool {pool} activated {activated}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn max_pool_floors_odd_sizes() {
        // 3x3 map, one channel: the last row and column are dropped.
        let input = [1.0, 5.0, 9.0, 2.0, 3.0, 9.0, 9.0, 9.0, 9.0];
        let mut out = [0.0];
        max_pool_2x2(&input, 3, 3, 1, &mut out);
        assert_eq!(out, [5.0]);
    }

    #[test]
    fn sum_pool_applies_the_pending_activation() {
        let map = [1.0, -3.0, -2.0, 4.0];
        assert_eq!(sum_pool(&map, Some(&[1.0, 0.0]), 2), vec![2.0, 4.0]);
        assert_eq!(sum_pool(&map, None, 2), vec![-1.0, 1.0]);
    }
}
