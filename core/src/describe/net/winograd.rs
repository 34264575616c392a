//! 3x3 / pad 1 convolution by Winograd's minimal filtering F(m x m, 3x3) (Lavin & Gray,
//! 2016): each m x m output tile is `A^T [ (G g G^T) ⊙ (B^T d B) ] A` for its
//! `α x α` input tile `d` (`α = m + 2`), so the multiply-adds become `α²` independent
//! GEMMs `M[ξ] = V[ξ] (tiles x in) * U[ξ] (in x out)`. [`Tile::F4`] (m = 4, α = 6) does
//! 4x fewer multiplies than direct convolution, [`Tile::F2`] (m = 2, α = 4) 2.25x with
//! smaller rounding errors.
//!
//! Layouts are interleaved: the input map is HWC, `V` is `[tile][ξ][in]`,
//! `M` is `[tile][ξ][out]`, so every transform works on contiguous channel vectors,
//! [`LANES`] channels at a time; the transforms are compiled for AVX-512 and for
//! AVX2 + FMA as well as for the baseline, and the CPU picks at run time. No pass of
//! its own touches a whole map: the input transform reads the previous layer's bare
//! output, applying its pending bias and ReLU and the zero padding as it loads, and a
//! layer followed by a 2 x 2 max-pool pools in the output transform.

use gemm::Parallelism;
use rayon::prelude::*;

/// The tile size: which of the two Winograd algorithms runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tile {
    /// F(2x2, 3x3): 4 x 4 input tiles, 16 GEMMs, 2.25x fewer multiplies.
    F2,
    /// F(4x4, 3x3): 6 x 6 input tiles, 36 GEMMs, 4x fewer multiplies (the default).
    F4,
}

impl Tile {
    /// Transformed weights `U[ξ] = (G g G^T)[ξ]`, stored `[ξ][in][out]`.
    pub(super) fn transform_weights(self, oihw: &[f32], cin: usize, cout: usize) -> Vec<f32> {
        match self {
            Self::F2 => transform_weights::<4, 2, F2>(oihw, cin, cout),
            Self::F4 => transform_weights::<6, 4, F4>(oihw, cin, cout),
        }
    }

    /// `dst = conv3x3_pad1(act(src))` without bias, where `act(x) = max(0, x + pending)`
    /// (identity for `None`), for `out = (channels, pool)`: with `pool`, `dst` is the
    /// convolution's 2 x 2 / stride 2 max-pool (floor); `u` comes from
    /// [`Self::transform_weights`].
    #[allow(clippy::too_many_arguments)]
    pub(super) fn conv3x3(
        self,
        src: &[f32],
        pending: Option<&[f32]>,
        shape: (usize, usize, usize),
        u: &[f32],
        out: (usize, bool),
        dst: &mut [f32],
        buffers: &mut Buffers,
        threads: usize,
    ) {
        let run = match self {
            Self::F2 => conv3x3::<4, 2, F2>,
            Self::F4 => conv3x3::<6, 4, F4>,
        };
        run(src, pending, shape, u, out, dst, buffers, threads);
    }
}

/// Channels handled together by the transforms: fixed-size lane arrays vectorise.
const LANES: usize = 16;
type Lanes = [f32; LANES];

/// `[f(0), f(1), ..]`. A plain loop, not `std::array::from_fn`: that one is not always
/// inlined, and then runs outside the transforms' AVX-512 code (9 % of the network's
/// time when it was used to gather the tiles' columns). Nothing is zeroed first: a
/// zeroed array of tiles is a call to `memset` (3 % of the network's time).
#[inline(always)]
fn array<T: Copy, const N: usize>(f: impl Fn(usize) -> T) -> [T; N] {
    let mut out = [std::mem::MaybeUninit::<T>::uninit(); N];
    for (i, o) in out.iter_mut().enumerate() {
        o.write(f(i));
    }
    // SAFETY: every element was written just above, and `[MaybeUninit<T>; N]` has the
    // layout of `[T; N]`.
    unsafe { std::mem::transmute_copy(&out) }
}

/// One Winograd algorithm's three matrices, applied to vectors: `B^T x` (input, `α`
/// values to `α`), `A^T x` (output, `α` to `m`) and `G g` (a 3-tap kernel to `α`).
trait Transforms<const ALPHA: usize, const M: usize> {
    fn input(x: &[Lanes; ALPHA]) -> [Lanes; ALPHA];
    fn output(x: &[Lanes; ALPHA]) -> [Lanes; M];
    fn kernel(g: [f32; 3]) -> [f32; ALPHA];
}

/// F(2x2, 3x3): `B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]`,
/// `A^T = [1 1 1 0; 0 1 -1 -1]`, `G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]`.
struct F2;

impl Transforms<4, 2> for F2 {
    #[inline(always)]
    fn input(x: &[Lanes; 4]) -> [Lanes; 4] {
        [
            array(|l| x[0][l] - x[2][l]),
            array(|l| x[1][l] + x[2][l]),
            array(|l| x[2][l] - x[1][l]),
            array(|l| x[1][l] - x[3][l]),
        ]
    }

    #[inline(always)]
    fn output(x: &[Lanes; 4]) -> [Lanes; 2] {
        [
            array(|l| x[0][l] + x[1][l] + x[2][l]),
            array(|l| x[1][l] - x[2][l] - x[3][l]),
        ]
    }

    fn kernel([a, b, c]: [f32; 3]) -> [f32; 4] {
        [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c]
    }
}

/// F(4x4, 3x3) with the points 0, ±1, ±2 and ∞ (Lavin & Gray's):
/// `B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0;
/// 0 4 0 -5 0 1]`, `A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]`,
/// `G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]`.
struct F4;

impl Transforms<6, 4> for F4 {
    #[inline(always)]
    fn input(x: &[Lanes; 6]) -> [Lanes; 6] {
        [
            array(|l| 4.0 * x[0][l] - 5.0 * x[2][l] + x[4][l]),
            array(|l| x[3][l] + x[4][l] - 4.0 * (x[1][l] + x[2][l])),
            array(|l| x[4][l] - x[3][l] + 4.0 * (x[1][l] - x[2][l])),
            array(|l| x[4][l] - x[2][l] + 2.0 * (x[3][l] - x[1][l])),
            array(|l| x[4][l] - x[2][l] + 2.0 * (x[1][l] - x[3][l])),
            array(|l| 4.0 * x[1][l] - 5.0 * x[3][l] + x[5][l]),
        ]
    }

    #[inline(always)]
    fn output(x: &[Lanes; 6]) -> [Lanes; 4] {
        let sum = |i: usize, j: usize, l: usize| x[i][l] + x[j][l];
        let diff = |i: usize, j: usize, l: usize| x[i][l] - x[j][l];
        [
            array(|l| x[0][l] + sum(1, 2, l) + sum(3, 4, l)),
            array(|l| diff(1, 2, l) + 2.0 * diff(3, 4, l)),
            array(|l| sum(1, 2, l) + 4.0 * sum(3, 4, l)),
            array(|l| diff(1, 2, l) + 8.0 * diff(3, 4, l) + x[5][l]),
        ]
    }

    fn kernel([a, b, c]: [f32; 3]) -> [f32; 6] {
        // Multiplications, not divisions: these run for every weight at each start.
        const SIXTH: f32 = 1.0 / 6.0;
        const TWELFTH: f32 = 1.0 / 12.0;
        const TWENTY_FOURTH: f32 = 1.0 / 24.0;
        [
            a * 0.25,
            -(a + b + c) * SIXTH,
            -(a - b + c) * SIXTH,
            a * TWENTY_FOURTH + b * TWELFTH + c * SIXTH,
            a * TWENTY_FOURTH - b * TWELFTH + c * SIXTH,
            c,
        ]
    }
}

/// `U[ξ] = (G g G^T)[ξ]` of every kernel `g`, stored `[ξ][in][out]`.
fn transform_weights<const ALPHA: usize, const M: usize, T: Transforms<ALPHA, M>>(
    oihw: &[f32],
    cin: usize,
    cout: usize,
) -> Vec<f32> {
    let mut u = vec![0.0; ALPHA * ALPHA * cin * cout];
    // Output channels innermost: each of `U`'s rows `(ξ, c)` is then written in order
    // (the other way round, every value was a cache line of its own: 1 % of indexing).
    for c in 0..cin {
        for o in 0..cout {
            let g = &oihw[(o * cin + c) * 9..(o * cin + c + 1) * 9];
            // G g: α x 3 (one column per kernel column), then (G g) G^T: α x α.
            let cols: [[f32; ALPHA]; 3] = array(|x| T::kernel([g[x], g[3 + x], g[6 + x]]));
            for i in 0..ALPHA {
                let row = T::kernel([cols[0][i], cols[1][i], cols[2][i]]);
                for (j, value) in row.into_iter().enumerate() {
                    u[((i * ALPHA + j) * cin + c) * cout + o] = value;
                }
            }
        }
    }
    u
}

/// Scratch buffers for one convolution.
#[derive(Default)]
pub(super) struct Buffers {
    v: Vec<f32>,
    m: Vec<f32>,
}

/// Upper bound on `V` or `M` for one band of tile rows, in floats (16 MiB).
const BAND_FLOATS: usize = 4 << 20;

#[allow(clippy::too_many_arguments)]
fn conv3x3<const ALPHA: usize, const M: usize, T: Transforms<ALPHA, M>>(
    src: &[f32],
    pending: Option<&[f32]>,
    (h, w, cin): (usize, usize, usize),
    u: &[f32],
    (cout, pool): (usize, bool),
    dst: &mut [f32],
    buffers: &mut Buffers,
    threads: usize,
) {
    let points = ALPHA * ALPHA;
    let (th, tw) = (h.div_ceil(M), w.div_ceil(M));
    let map = Map {
        src,
        pending,
        shape: (h, w, cin),
    };
    let out = Out::new((h, w, cout), pool);
    debug_assert_eq!(dst.len(), out.rows * out.width * cout);
    if dst.is_empty() {
        return;
    }
    if u.len() <= PER_THREAD_WEIGHTS && th >= 2 * threads {
        return per_thread::<ALPHA, M, T>(&map, &out, u, dst, tw);
    }
    let band_rows = (BAND_FLOATS / (points * tw * cin.max(cout))).clamp(1, th);
    let per_tile = out.rows_per_tile(M);
    for ty0 in (0..th).step_by(band_rows) {
        let rows = band_rows.min(th - ty0);
        // Rows of `dst` the band writes (none when pooling drops its only row).
        let (y0, y1) = (per_tile * ty0, (per_tile * (ty0 + rows)).min(out.rows));
        if y0 >= y1 {
            continue;
        }
        let tiles = rows * tw;
        let v = grow(&mut buffers.v, tiles * points * cin);
        v.par_chunks_mut(tw * points * cin)
            .enumerate()
            .for_each(|(r, row)| input_tiles::<ALPHA, M, T>(&map, (M * (ty0 + r), 0), row));
        let m = grow(&mut buffers.m, tiles * points * cout);
        batched_gemm(v, u, m, (tiles, points), cin, cout, threads);
        let m = &*m;
        dst[y0 * out.width * cout..y1 * out.width * cout]
            .par_chunks_mut(per_tile * out.width * cout)
            .enumerate()
            .for_each(|(r, dst)| {
                let m = &m[r * tw * points * cout..(r + 1) * tw * points * cout];
                output_tiles::<ALPHA, M, T>(m, &out, 0, dst);
            });
    }
}

/// A convolution's input map as read by the input transform: `act(src)` with a border
/// of zeros (the padding), `act(x) = max(0, x + pending)` (identity for `None`). No
/// padded copy is made: the transform reads the bare map.
struct Map<'a> {
    src: &'a [f32],
    pending: Option<&'a [f32]>,
    /// Height, width, channels.
    shape: (usize, usize, usize),
}

impl Map<'_> {
    /// Whether the `α x α` tile with its top-left at padded pixel `(py, px)` lies
    /// inside the map (no padding to read).
    #[inline(always)]
    fn inside(&self, (py, px): (usize, usize), alpha: usize) -> bool {
        let (h, w, _) = self.shape;
        py >= 1 && px >= 1 && py + alpha <= h + 1 && px + alpha <= w + 1
    }

    /// Channels `c0 .. c0 + n` of padded pixel `(py, px)`, activated: the map's pixel
    /// `(py - 1, px - 1)`, zero outside the map.
    #[inline(always)]
    fn padded(&self, (py, px): (usize, usize), c0: usize, n: usize, act: &Activation) -> Lanes {
        let (h, w, _) = self.shape;
        let (y, x) = (py.wrapping_sub(1), px.wrapping_sub(1));
        if y >= h || x >= w {
            return [0.0; LANES];
        }
        self.pixel((y, x), c0, n, act)
    }

    /// Channels `c0 .. c0 + n` of the map's pixel `(y, x)`, activated.
    #[inline(always)]
    fn pixel(&self, (y, x): (usize, usize), c0: usize, n: usize, act: &Activation) -> Lanes {
        let (_, w, c) = self.shape;
        let value = load(self.src, (y * w + x) * c + c0, n);
        array(|l| (value[l] + act.bias[l]).max(act.floor))
    }

    /// The activation of channels `c0 .. c0 + n`.
    #[inline(always)]
    fn activation(&self, c0: usize, n: usize) -> Activation {
        match self.pending {
            Some(bias) => Activation {
                bias: load(bias, c0, n),
                floor: 0.0,
            },
            None => Activation {
                bias: [0.0; LANES],
                floor: f32::NEG_INFINITY,
            },
        }
    }
}

/// `max(floor, x + bias)` on some channels: the pending bias and ReLU (floor 0) or
/// nothing (bias 0, floor -∞), with no branch for each pixel.
struct Activation {
    bias: Lanes,
    floor: f32,
}

/// A convolution's output map: the bare convolution, or its 2 x 2 / stride 2
/// max-pool (floor) when the layer pools (pooling commutes with the pending
/// activation, which is monotone), made in the output transform: the full map is never
/// written.
struct Out {
    /// The convolution's width and channels.
    conv: (usize, usize),
    pool: bool,
    /// Rows and width of what is written.
    rows: usize,
    width: usize,
}

impl Out {
    fn new((h, w, c): (usize, usize, usize), pool: bool) -> Self {
        let (rows, width) = if pool { (h / 2, w / 2) } else { (h, w) };
        Self {
            conv: (w, c),
            pool,
            rows,
            width,
        }
    }

    /// Rows written for each row of tiles.
    fn rows_per_tile(&self, m: usize) -> usize {
        if self.pool { m / 2 } else { m }
    }
}

/// Layers whose Winograd weights are at most this many floats (conv1_2 to conv3_3 with
/// F(4x4): 36 x 256 x 256 at most) run [`per_thread`]: their maps are large and their
/// weights small enough to be read again for each group of tiles, so keeping each
/// thread's tiles in its own cache beats sharing bands (conv1_2 to conv3_3 at 1,024 x
/// 768: 1,021 ms for the network against 1,102 with conv1_2 to conv2_2 alone, 1,386
/// with conv4_1 too; `benches/descriptor.rs`).
const PER_THREAD_WEIGHTS: usize = 1 << 22;

/// Floats of `V` and `M` together for one thread's group of tiles: about its L2 cache.
const PER_THREAD_FLOATS: usize = 256 << 10;

thread_local! {
    /// One thread's `V` and `M` for [`per_thread`].
    static TILES: std::cell::RefCell<(Vec<f32>, Vec<f32>)> = Default::default();
}

/// The convolution as whole rows of tiles on each thread, each row in groups small
/// enough for the thread's cache: transform in, the `α²` GEMMs (single-threaded),
/// transform out, while `V` and `M` are still in cache.
fn per_thread<const ALPHA: usize, const M: usize, T: Transforms<ALPHA, M>>(
    map: &Map,
    out: &Out,
    u: &[f32],
    dst: &mut [f32],
    tw: usize,
) {
    let (points, (_, _, cin), (_, cout)) = (ALPHA * ALPHA, map.shape, out.conv);
    let group = (PER_THREAD_FLOATS / (points * (cin + cout))).clamp(1, tw);
    dst.par_chunks_mut(out.rows_per_tile(M) * out.width * cout)
        .enumerate()
        .for_each(|(ty, dst)| {
            TILES.with(|tiles| {
                let mut tiles = tiles.borrow_mut();
                let (v, m) = &mut *tiles;
                for tx0 in (0..tw).step_by(group) {
                    let n = group.min(tw - tx0);
                    let v = grow(v, n * points * cin);
                    input_tiles::<ALPHA, M, T>(map, (M * ty, tx0), v);
                    let m = grow(m, n * points * cout);
                    for xi in 0..points {
                        gemm_point(
                            v,
                            u,
                            SharedMut(m.as_mut_ptr()),
                            (n, points, xi),
                            cin,
                            cout,
                            Parallelism::None,
                        );
                    }
                    output_tiles::<ALPHA, M, T>(m, out, tx0, dst);
                }
            })
        });
}

fn grow(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

/// Reads up to [`LANES`] channels at `at` (zeros past `n`). Whole lanes (every
/// VGG16 layer) are one vector load straight into registers: not `copy_from_slice`
/// into a zeroed array, which in this build (debug assertions on) checks its ranges at
/// run time and passes every value through one stack slot (a third of the transforms'
/// time went there).
#[inline(always)]
fn load(from: &[f32], at: usize, n: usize) -> Lanes {
    if n == LANES
        && let Some(x) = from.get(at..).and_then(|rest| rest.first_chunk::<LANES>())
    {
        return *x;
    }
    let mut x = [0.0; LANES];
    x[..n].copy_from_slice(&from[at..at + n]);
    x
}

/// Writes the first `n` of `x` at `at`, the way [`load`] reads.
#[inline(always)]
fn store(to: &mut [f32], at: usize, x: &Lanes, n: usize) {
    if n == LANES
        && let Some(to) = to
            .get_mut(at..)
            .and_then(|rest| rest.first_chunk_mut::<LANES>())
    {
        *to = *x;
        return;
    }
    to[at..at + n].copy_from_slice(&x[..n]);
}

/// Compiles a transform for AVX-512 and for AVX2 + FMA as well as for the baseline
/// (the crate is built for baseline x86-64), and runs the best the CPU has.
macro_rules! vectorised {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$doc])*
        fn $name<const ALPHA: usize, const M: usize, T: Transforms<ALPHA, M>>($($arg: $ty),*) {
            #[inline(always)]
            fn any<const ALPHA: usize, const M: usize, T: Transforms<ALPHA, M>>($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            fn avx512<const ALPHA: usize, const M: usize, T: Transforms<ALPHA, M>>($($arg: $ty),*) {
                any::<ALPHA, M, T>($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn avx2<const ALPHA: usize, const M: usize, T: Transforms<ALPHA, M>>($($arg: $ty),*) {
                any::<ALPHA, M, T>($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F, checked just above.
                    return unsafe { avx512::<ALPHA, M, T>($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has AVX2 and FMA, checked just above.
                    return unsafe { avx2::<ALPHA, M, T>($($arg),*) };
                }
            }
            any::<ALPHA, M, T>($($arg),*)
        }
    };
}

vectorised! {
    /// `V = B^T d B` for tiles of one row, the first with its top-left padded pixel at
    /// `(py, M * tx0)`, into `v` (`[tile][ξ][c]`, as many tiles as it holds).
    fn input_tiles(map: &Map, at: (usize, usize), v: &mut [f32]) {
        let ((py, tx0), points, (_, _, c)) = (at, ALPHA * ALPHA, map.shape);
        for (tx, vt) in v.chunks_exact_mut(points * c).enumerate() {
            let corner = (py, M * (tx0 + tx));
            // Inner tiles (almost all) read the map without looking for its border.
            let inside = map.inside(corner, ALPHA);
            for c0 in (0..c).step_by(LANES) {
                // Whole lanes (every VGG16 layer) with `n` a constant: vector loads.
                match (LANES.min(c - c0), inside) {
                    (LANES, true) => input_tile::<ALPHA, M, T>(map, corner, true, (c0, LANES), vt),
                    (LANES, false) => input_tile::<ALPHA, M, T>(map, corner, false, (c0, LANES), vt),
                    (n, inside) => input_tile::<ALPHA, M, T>(map, corner, inside, (c0, n), vt),
                }
            }
        }
    }
}

/// [`input_tiles`] for one tile's channels `c0 .. c0 + n`, its top-left padded pixel at
/// `(py, px)` (`inside`: [`Map::inside`]).
#[inline(always)]
fn input_tile<const ALPHA: usize, const M: usize, T: Transforms<ALPHA, M>>(
    map: &Map,
    (py, px): (usize, usize),
    inside: bool,
    (c0, n): (usize, usize),
    vt: &mut [f32],
) {
    let act = map.activation(c0, n);
    // (Big closures and functions are inlined by request: one that is not runs outside
    // the AVX-512 code.)
    #[inline(always)]
    fn d(
        map: &Map,
        inside: bool,
        (y, x): (usize, usize),
        (c0, n): (usize, usize),
        act: &Activation,
    ) -> Lanes {
        match inside {
            true => map.pixel((y - 1, x - 1), c0, n, act),
            false => map.padded((y, x), c0, n, act),
        }
    }
    // B^T d, column by column (`columns[j]` is column `j`); then (B^T d) B, row by row.
    let columns: [[Lanes; ALPHA]; ALPHA] = array(
        #[inline(always)]
        |j| {
            T::input(&array(
                #[inline(always)]
                |i| d(map, inside, (py + i, px + j), (c0, n), &act),
            ))
        },
    );
    let c = map.shape.2;
    for i in 0..ALPHA {
        for (j, v) in T::input(&transposed(&columns, i)).iter().enumerate() {
            store(vt, (i * ALPHA + j) * c + c0, v, n);
        }
    }
}

/// Row `i` of the matrix whose columns are `columns`.
#[inline(always)]
fn transposed<const ROWS: usize, const COLUMNS: usize>(
    columns: &[[Lanes; ROWS]; COLUMNS],
    i: usize,
) -> [Lanes; COLUMNS] {
    array(|j| columns[j][i])
}

vectorised! {
    /// `Y = A^T m A` for tiles of one row (`m` = `[tile][ξ][c]`, the first tile's
    /// left column `M * tx0`), written (or max-pooled, [`Out`]) to the rows in `dst`
    /// (fewer than a tile's at the bottom edge).
    fn output_tiles(m: &[f32], out: &Out, tx0: usize, dst: &mut [f32]) {
        let ((w, c), points) = (out.conv, ALPHA * ALPHA);
        let rows = dst.len() / (out.width * c);
        for (tx, mt) in m.chunks_exact(points * c).enumerate() {
            let x0 = M * (tx0 + tx);
            let columns = (w - x0).min(M);
            for c0 in (0..c).step_by(LANES) {
                // Whole lanes (every VGG16 layer) with `n` a constant: vector stores.
                let tile = (x0, rows, columns);
                match LANES.min(c - c0) {
                    LANES => output_tile::<ALPHA, M, T>(mt, out, tile, (c0, LANES), dst),
                    n => output_tile::<ALPHA, M, T>(mt, out, tile, (c0, n), dst),
                }
            }
        }
    }
}

/// [`output_tiles`] for one tile's channels `c0 .. c0 + n`: the tile's left column
/// `x0`, its first `rows` rows of `dst` written (pooled rows when the layer pools) and
/// the first `columns` of its convolution's columns.
#[inline(always)]
fn output_tile<const ALPHA: usize, const M: usize, T: Transforms<ALPHA, M>>(
    mt: &[f32],
    out: &Out,
    (x0, rows, columns): (usize, usize, usize),
    (c0, n): (usize, usize),
    dst: &mut [f32],
) {
    let c = out.conv.1;
    // A^T m, column by column (`s[j]` is column `j`); then (A^T m) A, row by row.
    let s: [[Lanes; M]; ALPHA] = array(
        #[inline(always)]
        |j| T::output(&array(|k| load(mt, (k * ALPHA + j) * c + c0, n))),
    );
    let at = |i: usize, x: usize| (i * out.width + x) * c + c0;
    if out.pool {
        // Pooled columns of this tile: those whose two source columns both exist.
        for i in 0..rows.min(M / 2) {
            let top = T::output(&transposed(&s, 2 * i));
            let bottom = T::output(&transposed(&s, 2 * i + 1));
            for j in 0..columns / 2 {
                let (a, b) = (2 * j, 2 * j + 1);
                let y = array(|l| top[a][l].max(top[b][l]).max(bottom[a][l]).max(bottom[b][l]));
                store(dst, at(i, x0 / 2 + j), &y, n);
            }
        }
    } else {
        for i in 0..rows.min(M) {
            for (j, y) in T::output(&transposed(&s, i))
                .iter()
                .enumerate()
                .take(columns)
            {
                store(dst, at(i, x0 + j), y, n);
            }
        }
    }
}

/// Raw pointer that may cross threads: the GEMMs write disjoint columns of `m`.
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

/// `M[:, ξ, :] = V[:, ξ, :] * U[ξ]` for each of the `points` ξ, the GEMMs spread over
/// threads.
fn batched_gemm(
    v: &[f32],
    u: &[f32],
    m: &mut [f32],
    (tiles, points): (usize, usize),
    cin: usize,
    cout: usize,
    threads: usize,
) {
    let out = SharedMut(m.as_mut_ptr());
    assert_eq!(m.len(), tiles * points * cout);
    // Few tiles: one GEMM per task. Many: each GEMM threaded on its own.
    let inner = if tiles >= 256 * threads && threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    let run = |xi| gemm_point(v, u, out, (tiles, points, xi), cin, cout, inner);
    if matches!(inner, Parallelism::None) {
        (0..points).into_par_iter().for_each(run);
    } else {
        (0..points).for_each(run);
    }
}

/// `M[:, ξ, :] = V[:, ξ, :] * U[ξ]` for one ξ; `m` holds `tiles * points * cout` floats.
fn gemm_point(
    v: &[f32],
    u: &[f32],
    m: SharedMut,
    (tiles, points, xi): (usize, usize, usize),
    cin: usize,
    cout: usize,
    parallelism: Parallelism,
) {
    assert!(v.len() >= tiles * points * cin && u.len() == points * cin * cout && xi < points);
    // SAFETY: lhs is V's ξ-th column block (rows of stride points*cin inside `v`), rhs
    // is U[ξ] (dense cin x cout inside `u`), dst is M's ξ-th column block (rows of stride
    // points*cout inside `m`, which holds tiles*points*cout floats: the callers' length
    // check): all in bounds by the assert above. Calls with different ξ write disjoint
    // elements of `m`, which nothing else reads or writes until they end.
    unsafe {
        super::gemm_rows(
            (m.get().add(xi * cout), points * cout),
            (v.as_ptr().add(xi * cin), points * cin),
            (u.as_ptr().add(xi * cin * cout), cout, 1),
            (tiles, cin, cout),
            parallelism,
        );
    }
}
