//! The VGG16 feature network (conv1_1 .. conv5_3) and SPoC sum-pooling, in two engines
//! that compute the same function:
//!
//! * [`BurnVgg`]: a Burn module, on the wgpu backend (any GPU, or lavapipe) or on
//!   Burn's pure-Rust `flex` CPU backend;
//! * [`CpuVgg`]: Winograd F(4x4, 3x3) convolutions on the `gemm` crate's SGEMM on the
//!   CPU, the fastest CPU path we measured (see README);
//!
//! and GoogLeNet up to pool5 likewise ([`BurnGoogLeNet`], [`CpuGoogLeNet`]).
//! [`crate::Engine`] hides which of the four runs.

mod burn_googlenet;
mod burn_vgg;
mod cpu;
mod googlenet_cpu;
mod winograd;

pub use burn_googlenet::BurnGoogLeNet;
pub use burn_vgg::{BurnVgg, ConvPath};
pub use cpu::CpuVgg;
pub use googlenet_cpu::CpuGoogLeNet;
pub use winograd::Tile as WinogradTile;

/// A normalised image in the network's layout: `height x width x 3`, interleaved, in
/// the network's channel order.
#[derive(Debug, Clone)]
pub struct NetInput {
    pub height: usize,
    pub width: usize,
    pub data: Vec<f32>,
}

/// A raw descriptor before any normalisation: VGG16's conv5_3 post-ReLU map summed
/// over all positions (SPoC), or GoogLeNet's pool5 (the mean of `inception5b`).
#[derive(Debug, Clone, PartialEq)]
pub struct Spoc {
    /// `[height, width]` of the pooled map.
    pub feature_map: [usize; 2],
    /// One value per channel (512 for VGG16, 1,024 for GoogLeNet).
    pub raw: Vec<f32>,
}

/// `dst = lhs * rhs` by the `gemm` crate, for row-major `lhs` (`m x k`) and `dst`
/// (`m x n`) whose rows lie `stride` floats apart, each given as `(first element, row
/// stride)`, and `rhs` (`k x n`) as `(first element, row stride, column stride)` (a
/// column stride other than 1 reads a row-major matrix as its transpose); `dst` is only
/// written.
///
/// # Safety
/// Every element of the three matrices lies inside its allocation; `dst`'s elements
/// overlap neither input, and nothing else reads or writes them until the call ends.
unsafe fn gemm_rows(
    dst: (*mut f32, usize),
    lhs: (*const f32, usize),
    rhs: (*const f32, usize, usize),
    (m, k, n): (usize, usize, usize),
    parallelism: gemm::Parallelism,
) {
    // SAFETY: the caller's contract; `dst` and `lhs` have column stride 1 (row-major).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.0,
            1,
            dst.1 as isize,
            false,
            lhs.0,
            1,
            lhs.1 as isize,
            rhs.0,
            rhs.2 as isize,
            rhs.1 as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `dst[m x n] = lhs[m x k] * rhs[k x n]`, all row-major.
pub(crate) fn sgemm(
    dst: &mut [f32],
    lhs: &[f32],
    rhs: &[f32],
    m: usize,
    k: usize,
    n: usize,
    threads: usize,
) {
    dense_gemm(dst, lhs, rhs, (m, k, n), (n, 1), threads);
}

/// `dst[m x n] = lhs[m x k] * rhs[n x k]^T`, all row-major: every row of `lhs` against
/// every row of `rhs` (dot products of descriptors; a projection stored row by row),
/// without transposing `rhs`.
pub(crate) fn sgemm_transposed(
    dst: &mut [f32],
    lhs: &[f32],
    rhs: &[f32],
    m: usize,
    k: usize,
    n: usize,
    threads: usize,
) {
    dense_gemm(dst, lhs, rhs, (m, k, n), (1, k), threads);
}

/// [`gemm_rows`] on dense slices: `rhs` holds `k x n` elements read with `rhs_strides`
/// (row, column): `(n, 1)` row-major, `(1, k)` an `n x k` matrix read transposed.
fn dense_gemm(
    dst: &mut [f32],
    lhs: &[f32],
    rhs: &[f32],
    (m, k, n): (usize, usize, usize),
    (row, column): (usize, usize),
    threads: usize,
) {
    assert!(dst.len() == m * n && lhs.len() == m * k && rhs.len() == k * n);
    assert!((row, column) == (n, 1) || (row, column) == (1, k));
    // SAFETY: the three slices hold exactly m*n, m*k and k*n elements (checked above);
    // `dst` and `lhs` are dense row-major, and `rhs`'s two stride pairs (checked above)
    // each address exactly its k*n elements; `dst` is a unique borrow that aliases
    // neither input and, with read_dst = false, is only written.
    unsafe {
        gemm_rows(
            (dst.as_mut_ptr(), n),
            (lhs.as_ptr(), k),
            (rhs.as_ptr(), row, column),
            (m, k, n),
            parallelism(threads),
        );
    }
}

fn parallelism(threads: usize) -> gemm::Parallelism {
    if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    }
}
