//! 3x3 / pad 1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray,
//! 2016): each 2x2 output tile is `A^T [ (G g G^T) ⊙ (B^T d B) ] A` for its 4x4 input
//! tile `d`, so the multiply-adds become 16 independent GEMMs
//! `M[ξ] = V[ξ] (tiles x in) * U[ξ] (in x out)`, 2.25x fewer than direct convolution.
//!
//! Layouts are interleaved: the padded input map is HWC, `V` is `[tile][ξ][in]`,
//! `M` is `[tile][ξ][out]`, so every transform works on contiguous channel vectors.

use gemm::Parallelism;
use rayon::prelude::*;

/// Transformed weights `U[ξ] = (G g G^T)[ξ]`, stored `[ξ][in][out]`.
pub(super) fn transform_weights(oihw: &[f32], cin: usize, cout: usize) -> Vec<f32> {
    let mut u = vec![0.0; 16 * cin * cout];
    for o in 0..cout {
        for c in 0..cin {
            let g = &oihw[(o * cin + c) * 9..(o * cin + c + 1) * 9];
            // G g: 4x3, then (G g) G^T: 4x4. G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1].
            let gg = |a: f32, b: f32, c: f32| [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c];
            let cols = [0, 1, 2].map(|x| gg(g[x], g[3 + x], g[6 + x]));
            for i in 0..4 {
                let row = gg(cols[0][i], cols[1][i], cols[2][i]);
                for (j, value) in row.into_iter().enumerate() {
                    u[((i * 4 + j) * cin + c) * cout + o] = value;
                }
            }
        }
    }
    u
}

/// Scratch buffers for one convolution.
#[derive(Default)]
pub(super) struct Buffers {
    padded: Vec<f32>,
    v: Vec<f32>,
    m: Vec<f32>,
}

/// Upper bound on `V` or `M` for one band of tile rows, in floats (16 MiB).
const BAND_FLOATS: usize = 4 << 20;

/// `dst = conv3x3_pad1(act(src))` without bias, where `act(x) = max(0, x + pending)`
/// (identity for `None`); `u` comes from [`transform_weights`].
#[allow(clippy::too_many_arguments)]
pub(super) fn conv3x3(
    src: &[f32],
    pending: Option<&[f32]>,
    (h, w, cin): (usize, usize, usize),
    u: &[f32],
    cout: usize,
    dst: &mut [f32],
    buffers: &mut Buffers,
    threads: usize,
) {
    let (th, tw) = (h.div_ceil(2), w.div_ceil(2));
    let pw = 2 * tw + 2;
    let padded = grow(&mut buffers.padded, (2 * th + 2) * pw * cin);
    pad_and_activate(src, pending, (h, w, cin), pw, padded);
    let padded = &*padded;

    let band_rows = (BAND_FLOATS / (16 * tw * cin.max(cout))).clamp(1, th);
    for ty0 in (0..th).step_by(band_rows) {
        let rows = band_rows.min(th - ty0);
        let tiles = rows * tw;
        let v = grow(&mut buffers.v, tiles * 16 * cin);
        v.par_chunks_mut(16 * cin).enumerate().for_each(|(t, vt)| {
            let (ty, tx) = (ty0 + t / tw, t % tw);
            input_transform(padded, pw, cin, 2 * ty, 2 * tx, vt);
        });
        let m = grow(&mut buffers.m, tiles * 16 * cout);
        batched_gemm(v, u, m, tiles, cin, cout, threads);
        let (y0, y1) = (2 * ty0, (2 * (ty0 + rows)).min(h));
        let m = &*m;
        dst[y0 * w * cout..y1 * w * cout]
            .par_chunks_mut(2 * w * cout)
            .enumerate()
            .for_each(|(r, out)| output_transform(&m[r * tw * 16 * cout..], tw, w, cout, out));
    }
}

fn grow(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

/// Writes `act(src)` into the middle of a zero-bordered `(2*th + 2) x pw` map.
fn pad_and_activate(
    src: &[f32],
    pending: Option<&[f32]>,
    (h, w, c): (usize, usize, usize),
    pw: usize,
    padded: &mut [f32],
) {
    padded
        .par_chunks_mut(pw * c)
        .enumerate()
        .for_each(|(py, row)| {
            if py == 0 || py > h {
                row.fill(0.0);
                return;
            }
            let line = &src[(py - 1) * w * c..py * w * c];
            row[..c].fill(0.0);
            let inner = &mut row[c..(w + 1) * c];
            match pending {
                None => inner.copy_from_slice(line),
                Some(bias) => {
                    for (d, s) in inner.chunks_exact_mut(c).zip(line.chunks_exact(c)) {
                        for ((d, s), b) in d.iter_mut().zip(s).zip(bias) {
                            *d = (s + b).max(0.0);
                        }
                    }
                }
            }
            row[(w + 1) * c..].fill(0.0);
        });
}

/// Channels handled together by the transforms: fixed-size lane arrays vectorise.
const LANES: usize = 16;
type Lanes = [f32; LANES];

/// `V = B^T d B` for the 4x4 tile whose top-left padded pixel is `(py, px)`;
/// `B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]`. Writes `vt = [ξ][c]`.
fn input_transform(padded: &[f32], pw: usize, c: usize, py: usize, px: usize, vt: &mut [f32]) {
    let rows: [&[f32]; 4] = std::array::from_fn(|i| {
        let at = ((py + i) * pw + px) * c;
        &padded[at..at + 4 * c]
    });
    for c0 in (0..c).step_by(LANES) {
        let n = LANES.min(c - c0);
        let mut d = [[0.0f32; LANES]; 16];
        for (k, dk) in d.iter_mut().enumerate() {
            let at = (k % 4) * c + c0;
            dk[..n].copy_from_slice(&rows[k / 4][at..at + n]);
        }
        // t = B^T d (row combinations), then v = t B (column combinations).
        let mut t = [[0.0f32; LANES]; 16];
        for j in 0..4 {
            lanes(&mut t[j], |l| d[j][l] - d[8 + j][l]);
            lanes(&mut t[4 + j], |l| d[4 + j][l] + d[8 + j][l]);
            lanes(&mut t[8 + j], |l| d[8 + j][l] - d[4 + j][l]);
            lanes(&mut t[12 + j], |l| d[4 + j][l] - d[12 + j][l]);
        }
        for i in 0..4 {
            let r = 4 * i;
            let mut v = [[0.0f32; LANES]; 4];
            lanes(&mut v[0], |l| t[r][l] - t[r + 2][l]);
            lanes(&mut v[1], |l| t[r + 1][l] + t[r + 2][l]);
            lanes(&mut v[2], |l| t[r + 2][l] - t[r + 1][l]);
            lanes(&mut v[3], |l| t[r + 1][l] - t[r + 3][l]);
            for (j, vj) in v.iter().enumerate() {
                let at = (r + j) * c + c0;
                vt[at..at + n].copy_from_slice(&vj[..n]);
            }
        }
    }
}

#[inline(always)]
fn lanes(out: &mut Lanes, f: impl Fn(usize) -> f32) {
    for (l, o) in out.iter_mut().enumerate() {
        *o = f(l);
    }
}

/// `Y = A^T m A` for one row of tiles (`m` = `[tile][ξ][c]`), written to the two output
/// rows in `out` (one when the height is odd); `A^T = [1 1 1 0; 0 1 -1 -1]`.
fn output_transform(m: &[f32], tw: usize, w: usize, c: usize, out: &mut [f32]) {
    let out_rows = out.len() / (w * c);
    for tx in 0..tw {
        let mt = &m[tx * 16 * c..(tx + 1) * 16 * c];
        for c0 in (0..c).step_by(LANES) {
            let n = LANES.min(c - c0);
            let mut v = [[0.0f32; LANES]; 16];
            for (k, vk) in v.iter_mut().enumerate() {
                vk[..n].copy_from_slice(&mt[k * c + c0..k * c + c0 + n]);
            }
            // s = A^T m (two rows of four), then y = s A (two columns).
            let mut s = [[0.0f32; LANES]; 8];
            for l in 0..4 {
                lanes(&mut s[l], |x| v[l][x] + v[4 + l][x] + v[8 + l][x]);
                lanes(&mut s[4 + l], |x| v[4 + l][x] - v[8 + l][x] - v[12 + l][x]);
            }
            for i in 0..out_rows {
                let r = 4 * i;
                let mut y = [[0.0f32; LANES]; 2];
                lanes(&mut y[0], |x| s[r][x] + s[r + 1][x] + s[r + 2][x]);
                lanes(&mut y[1], |x| s[r + 1][x] - s[r + 2][x] - s[r + 3][x]);
                for (j, yj) in y.iter().enumerate() {
                    let x = 2 * tx + j;
                    if x < w {
                        let at = (i * w + x) * c + c0;
                        out[at..at + n].copy_from_slice(&yj[..n]);
                    }
                }
            }
        }
    }
}

/// Raw pointer that may cross threads: the 16 GEMMs write disjoint columns of `m`.
#[derive(Clone, Copy)]
struct SharedMut(*mut f32);
// SAFETY: used only in `batched_gemm`, where every task writes a disjoint set of
// elements and the buffer outlives the parallel loop.
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

impl SharedMut {
    /// Through a method, so closures capture the `Send` wrapper, not the bare pointer.
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// `M[:, ξ, :] = V[:, ξ, :] * U[ξ]` for ξ in 0..16, the GEMMs spread over threads.
fn batched_gemm(
    v: &[f32],
    u: &[f32],
    m: &mut [f32],
    tiles: usize,
    cin: usize,
    cout: usize,
    threads: usize,
) {
    assert!(
        v.len() == tiles * 16 * cin && u.len() == 16 * cin * cout && m.len() == tiles * 16 * cout
    );
    let out = SharedMut(m.as_mut_ptr());
    // Few tiles: one GEMM per task. Many: each GEMM threaded on its own.
    let inner = if tiles >= 256 * threads && threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    let run = |xi: usize| {
        // SAFETY: lhs is V's ξ-th column block (rows of stride 16*cin inside `v`), rhs is
        // U[ξ] (dense cin x cout inside `u`), dst is M's ξ-th column block (rows of
        // stride 16*cout inside `m`): all in bounds by the assert above. Tasks with
        // different ξ write disjoint elements of `m`, which nothing else reads or writes
        // until the loop ends.
        unsafe {
            gemm::gemm(
                tiles,
                cout,
                cin,
                out.get().add(xi * cout),
                1,
                (16 * cout) as isize,
                false,
                v.as_ptr().add(xi * cin),
                1,
                (16 * cin) as isize,
                u.as_ptr().add(xi * cin * cout),
                1,
                cout as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                inner,
            );
        }
    };
    if matches!(inner, Parallelism::None) {
        (0..16).into_par_iter().for_each(run);
    } else {
        (0..16).for_each(run);
    }
}
