//! A first pass over the rows kept in 8 bits, which provably keeps every row an exact
//! search ranks in its top N, for the distances made of one dot product (cosine,
//! correlation, Euclidean): a quarter of the bytes to read, and exact distances only
//! for the rows the first pass cannot rule out.
//!
//! Each row `v` is kept as `step × codes` (whole numbers in -127..=127, `step` the
//! row's largest magnitude over 127), and what that leaves out, `e = v - step × codes`,
//! is measured once as `‖e‖`. For any query `q`, `q · (step × codes)` is within
//! `‖q‖ ‖e‖` of `q · v` (Cauchy–Schwarz), so each row's dot product, and with it its
//! distance, lies between two bounds. A margin covers `f32` rounding here and in the
//! exact scan: a sum of `n` products in `f32` (16 lanes, then the lanes) is off by at
//! most `(n/16 + 17) × 2⁻²⁴` of `Σ|qᵢvᵢ| ≤ ‖q‖ ‖v‖`, under 5e-6 of it up to 1,024
//! dimensions; the margin is [`ROUNDING`] of it, twenty times that.

use rayon::prelude::*;

use super::LANES;
use super::saved::Stored;

/// The margin for rounding, as a fraction of `‖q‖ ‖v‖` (see the module's doc).
const ROUNDING: f32 = 1e-4;
/// The codes' largest magnitude.
const LEVELS: f32 = 127.0;
/// 1.5 x 2^23: a number this large has no fractional bits.
const ROUNDER: f32 = 12_582_912.0;

/// Rows kept in 8 bits, each with how far a dot product with it may be from the
/// row's own, per unit of the query's norm.
#[derive(Debug, Clone, Default)]
pub(super) struct Coarse {
    codes: Stored<i8>,
    steps: Vec<f32>,
    /// `‖e‖ + ROUNDING ‖v‖`; infinite for a row that is not finite (never ruled out).
    slack: Vec<f32>,
}

impl Coarse {
    /// `rows` (each `dim` numbers) in 8 bits.
    pub(super) fn of(dim: usize, rows: &[f32]) -> Self {
        let mut coarse = Self::default();
        coarse.extend(dim, rows);
        coarse
    }

    /// Adds `rows` (each `dim` numbers).
    pub(super) fn extend(&mut self, dim: usize, rows: &[f32]) {
        let dim = dim.max(1);
        let start = self.codes.len();
        let codes = self.codes.to_mut();
        codes.resize(start + rows.len() / dim * dim, 0);
        let (steps, slack): (Vec<f32>, Vec<f32>) = codes[start..]
            .par_chunks_mut(dim)
            .zip(rows.par_chunks_exact(dim))
            .map(|(codes, row)| quantise(row, codes))
            .unzip();
        self.steps.extend(steps);
        self.slack.extend(slack);
    }

    /// From its parts, as [`Coarse::codes`], [`Coarse::steps`] and [`Coarse::slack`]
    /// give them (a saved search reads them back).
    pub(super) fn from_parts(codes: Stored<i8>, steps: Vec<f32>, slack: Vec<f32>) -> Self {
        Self {
            codes,
            steps,
            slack,
        }
    }

    pub(super) fn codes(&self) -> &[i8] {
        &self.codes
    }

    pub(super) fn steps(&self) -> &[f32] {
        &self.steps
    }

    pub(super) fn slack(&self) -> &[f32] {
        &self.slack
    }

    /// `q · (step × codes)` of each row from `start` on, one per `out`, and how far
    /// each may be from `q · v` (`query_norm` is `‖q‖`).
    pub(super) fn dots(
        &self,
        query: &[f32],
        query_norm: f32,
        start: usize,
        out: &mut [(f32, f32)],
    ) {
        let dim = query.len().max(1);
        let codes = &self.codes[start * dim..(start + out.len()) * dim];
        code_dots(query, codes, out);
        let rows = start..start + out.len();
        for ((o, step), slack) in out
            .iter_mut()
            .zip(&self.steps[rows.clone()])
            .zip(&self.slack[rows])
        {
            *o = (o.0 * step, query_norm * slack);
        }
    }
}

/// Writes `row`'s codes; returns its step and its slack.
fn quantise(row: &[f32], codes: &mut [i8]) -> (f32, f32) {
    #[inline(always)]
    fn any(row: &[f32], codes: &mut [i8]) -> (f32, f32) {
        let (rows, row_tail) = row.as_chunks::<LANES>();
        let last = pad(row_tail);
        let mut largest = [0.0f32; LANES];
        for vs in rows.iter().chain([&last]) {
            for lane in 0..LANES {
                largest[lane] = largest[lane].max(vs[lane].abs());
            }
        }
        let step = largest.iter().fold(0.0f32, |m, &v| m.max(v)) / LEVELS;
        let per_step = if step > 0.0 { step.recip() } else { 0.0 };
        // Sums in lanes of `f32`: their rounding (a few millionths of `‖v‖`) is well
        // inside the margin for rounding.
        let (mut left_out, mut norm) = ([0.0f32; LANES], [0.0f32; LANES]);
        let (chunks, codes_tail) = codes.as_chunks_mut::<LANES>();
        let mut tail_codes = [0i8; LANES];
        let all_codes = chunks.iter_mut().chain([&mut tail_codes]);
        for (vs, cs) in rows.iter().chain([&last]).zip(all_codes) {
            // Any whole numbers would do (what they leave out is measured): the
            // nearest, within ±127 since no `|v|` is above the largest.
            for lane in 0..LANES {
                // Adding 1.5 x 2^23 rounds to a whole number, whose bits are then the
                // number's own plus those of 1.5 x 2^23 (no conversion to check).
                let shifted = (vs[lane] * per_step).clamp(-LEVELS, LEVELS) + ROUNDER;
                let whole = shifted - ROUNDER;
                cs[lane] = (shifted.to_bits().wrapping_sub(ROUNDER.to_bits())) as i8;
                let e = vs[lane] - step * whole;
                left_out[lane] += e * e;
                norm[lane] += vs[lane] * vs[lane];
            }
        }
        codes_tail.copy_from_slice(&tail_codes[..codes_tail.len()]);
        let total = |lanes: [f32; LANES]| lanes.iter().map(|&x| f64::from(x)).sum::<f64>().sqrt();
        let slack = total(left_out) + f64::from(ROUNDING) * total(norm);
        if !slack.is_finite() {
            // Not finite (or too large to square in `f32`): never ruled out.
            return (0.0, f32::INFINITY);
        }
        (step, slack as f32)
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn avx2(row: &[f32], codes: &mut [i8]) -> (f32, f32) {
        any(row, codes)
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2(row, codes) };
    }
    any(row, codes)
}

/// The last numbers of a row (fewer than [`LANES`]) padded with zeros.
#[inline(always)]
fn pad(tail: &[f32]) -> [f32; LANES] {
    let mut lanes = [0.0; LANES];
    lanes[..tail.len()].copy_from_slice(tail);
    lanes
}

/// `Σ qᵢ cᵢ` of each row of `codes` into the first of each `out`.
fn code_dots(query: &[f32], codes: &[i8], out: &mut [(f32, f32)]) {
    type Run<'a> = (&'a [f32], &'a [i8], &'a mut [(f32, f32)]);
    #[inline(always)]
    fn any((query, codes, out): Run<'_>) {
        let dim = query.len().max(1);
        let (whole, tail) = query.as_chunks::<LANES>();
        for (row, o) in codes.chunks_exact(dim).zip(out.iter_mut()) {
            let (row_whole, row_tail) = row.as_chunks::<LANES>();
            let mut acc = [0.0f32; LANES];
            for (q, c) in whole.iter().zip(row_whole) {
                for l in 0..LANES {
                    acc[l] += q[l] * f32::from(c[l]);
                }
            }
            let tail: f32 = tail
                .iter()
                .zip(row_tail)
                .map(|(q, &c)| q * f32::from(c))
                .sum();
            o.0 = acc.iter().sum::<f32>() + tail;
        }
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn avx2(run: Run<'_>) {
        any(run)
    }
    let run = (query, codes, out);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2(run) };
    }
    any(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row's dot product with a query lies within the bound of the coarse one,
    /// for rows of every scale, a zero row and one that is not finite.
    #[test]
    fn the_exact_dot_product_lies_within_the_bound() {
        let dim = 37;
        let mut next = super::super::tests::noise(12345);
        let mut rows: Vec<f32> = (0..dim * 200)
            .map(|i| next() * (1 + i % 7) as f32)
            .collect();
        rows[..dim].fill(0.0);
        rows[dim] = f32::NAN;
        let mut coarse = Coarse::default();
        coarse.extend(dim, &rows[..dim * 50]);
        coarse.extend(dim, &rows[dim * 50..]);
        for _ in 0..20 {
            let query: Vec<f32> = (0..dim).map(|_| next()).collect();
            let norm = query.iter().map(|v| v * v).sum::<f32>().sqrt();
            let mut out = vec![(0.0, 0.0); 190];
            coarse.dots(&query, norm, 10, &mut out);
            for (i, &(dot, bound)) in out.iter().enumerate() {
                let row = &rows[(10 + i) * dim..(11 + i) * dim];
                let exact: f64 = row
                    .iter()
                    .zip(&query)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum();
                assert!(
                    (exact - f64::from(dot)).abs() <= f64::from(bound),
                    "row {}: {exact} vs {dot} ± {bound}",
                    10 + i
                );
                assert!(
                    bound < 0.1 * norm * 7.0 * (dim as f32).sqrt(),
                    "a useful bound: {bound}"
                );
            }
        }
        let mut out = vec![(0.0, 0.0); 2];
        coarse.dots(&vec![1.0; dim], 1.0, 0, &mut out);
        assert_eq!(out[0], (0.0, 0.0), "a zero row is exact");
        assert_eq!(
            out[1].1,
            f32::INFINITY,
            "a row that is not finite is never ruled out"
        );
    }
}
