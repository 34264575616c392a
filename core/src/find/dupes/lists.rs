//! Inverted lists, for the pair search in a large library: the photos are clustered
//! around centroids (spherical k-means on a sample of them), each photo is kept in the
//! list of its nearest centroid, and a photo is compared only with the photos of the
//! lists whose centroids are nearest to it, instead of all of them.
//!
//! Clustered as the descriptors were before whitening (each whitened dimension scaled
//! back by the whitening's own factor, [`crate::Whitening::unwhitening`]): whitening
//! spreads the photos evenly over every direction, where lists hold no neighbourhoods
//! (on neardup-dev's held-out half and imagenette, looking in 8 lists of 64 finds 98.6 %
//! of the exact candidate pairs clustered as whitened, 99.9 % as before whitening).
//!
//! Approximate: a copy kept in a list that its original does not look in, and that does
//! not look in its original's, is missed. How many are is measured against the exact
//! search by `cargo bench --profile dev --bench scale` (docs/speed.md).

use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use rayon::prelude::*;

use super::GroupingError;
use super::nearest::{Keeper, Neighbourhood, in_steps};
use crate::describe::net::sgemm_transposed;
use crate::describe::vectors::l2_normalize;
use crate::index::Control;

/// Photos a list holds on average.
const LIST_SIZE: usize = 1_000;

/// Rounds of k-means.
const ROUNDS: usize = 8;

/// Photos of the sample k-means learns from, per list.
const SAMPLE_PER_LIST: usize = 40;

/// Query rows compared with a list at a time (one SGEMM).
const QUERIES: usize = 2_048;

/// The library's photos in lists around centroids.
pub(crate) struct Lists {
    dim: usize,
    /// Each dimension's factor into the space the lists cluster in (`None`: as it is).
    scales: Option<Vec<f32>>,
    /// `count x dim`, L2-normalised.
    centroids: Vec<f32>,
    /// The rows each list holds.
    members: Vec<Vec<u32>>,
    /// How many of its nearest lists a row looks in.
    probes: usize,
}

impl Lists {
    /// The lists of `rows` (L2-normalised, `dim` wide), clustered with each dimension
    /// scaled by `scales`, looked in `probes` at a time.
    pub(crate) fn build(rows: &[f32], dim: usize, scales: Option<&[f32]>, probes: usize) -> Self {
        let n = rows.len() / dim.max(1);
        let count = (n / LIST_SIZE).max(1);
        let scales = scales.filter(|s| s.len() == dim).map(<[f32]>::to_vec);
        let centroids = k_means(rows, dim, scales.as_deref(), count);
        let nearest = nearest_lists(rows, &centroids, dim, scales.as_deref(), 1);
        let mut members = vec![Vec::new(); count];
        for (row, &list) in nearest.iter().enumerate() {
            members[list as usize].push(row as u32);
        }
        Self {
            dim,
            scales,
            centroids,
            members,
            probes: probes.clamp(1, count),
        }
    }

    /// How many lists there are (the steps of [`Self::nearest_of`]).
    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }

    /// Each of the `left` rows' nearest among the `rows` of the lists it looks in,
    /// leaving out its own photo (`photo(i)`); a list at a time on all cores, with
    /// `control`'s stop flag and progress.
    pub(crate) fn nearest_of(
        &self,
        left: &[f32],
        photo: impl Fn(usize) -> usize + Sync,
        rows: &[f32],
        control: Control<'_>,
        progress: (&AtomicUsize, usize),
    ) -> Result<Neighbourhood, GroupingError> {
        let dim = self.dim;
        let m = left.len() / dim.max(1);
        let probed = nearest_lists(
            left,
            &self.centroids,
            dim,
            self.scales.as_deref(),
            self.probes,
        );
        let mut queries = vec![Vec::new(); self.len()];
        for (i, lists) in probed.chunks(self.probes).enumerate() {
            for &list in lists {
                queries[list as usize].push(i as u32);
            }
        }
        drop(probed);
        let keepers: Vec<Mutex<Keeper>> = (0..m).map(|_| Mutex::default()).collect();
        in_steps(self.len(), control, progress, |list| {
            let members = &self.members[list];
            let rhs = gather(rows, members, dim);
            let mut sims = Vec::new();
            for chunk in queries[list].chunks(QUERIES) {
                let lhs = gather(left, chunk, dim);
                sims.resize(chunk.len() * members.len(), 0.0);
                let (q, c) = (chunk.len(), members.len());
                sgemm_transposed(&mut sims, &lhs, &rhs, q, dim, c, 1);
                for (&i, sims) in chunk.iter().zip(sims.chunks(c.max(1))) {
                    let own = photo(i as usize);
                    let Ok(mut keeper) = keepers[i as usize].lock() else {
                        continue;
                    };
                    for (&column, s) in members.iter().zip(sims) {
                        if column as usize != own {
                            keeper.offer(1.0 - s, column as usize);
                        }
                    }
                }
            }
        })?;
        Ok(keepers
            .into_iter()
            .map(|k| k.into_inner().unwrap_or_else(|e| e.into_inner()))
            .map(Keeper::nearest_first)
            .collect())
    }
}

/// The rows `which` of `rows` (`dim` wide), one after the other.
fn gather(rows: &[f32], which: &[u32], dim: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(which.len() * dim);
    for &row in which {
        let start = row as usize * dim;
        out.extend_from_slice(&rows[start..start + dim]);
    }
    out
}

/// `rows` with each dimension scaled by `scales`, L2-normalised again (as they are
/// without).
fn scaled<'a>(rows: &'a [f32], dim: usize, scales: Option<&[f32]>) -> std::borrow::Cow<'a, [f32]> {
    let Some(scales) = scales else {
        return rows.into();
    };
    let mut out: Vec<f32> = Vec::with_capacity(rows.len());
    for row in rows.chunks(dim.max(1)) {
        let start = out.len();
        out.extend(row.iter().zip(scales).map(|(x, s)| x * s));
        l2_normalize(&mut out[start..]);
    }
    out.into()
}

/// `count` centroids of `rows` (scaled by `scales`) by spherical k-means (cosine
/// similarity, centroids L2-normalised) on an evenly spread sample, started from rows
/// of it; a list left empty keeps its centroid.
fn k_means(rows: &[f32], dim: usize, scales: Option<&[f32]>, count: usize) -> Vec<f32> {
    let n = rows.len() / dim.max(1);
    let step = (n / (count * SAMPLE_PER_LIST).max(1)).max(1);
    let sample: Vec<u32> = (0..n).step_by(step).map(|r| r as u32).collect();
    let sample = scaled(&gather(rows, &sample, dim), dim, scales).into_owned();
    let in_sample = sample.len() / dim.max(1);
    let spread = (in_sample / count).max(1);
    let mut centroids: Vec<f32> = (0..count)
        .flat_map(|c| {
            let row = (c * spread) % in_sample.max(1);
            sample[row * dim..(row + 1) * dim].to_vec()
        })
        .collect();
    for _ in 0..ROUNDS {
        let nearest = nearest_lists(&sample, &centroids, dim, None, 1);
        let mut sums = vec![0.0f32; count * dim];
        for (row, &list) in nearest.iter().enumerate() {
            let sum = &mut sums[list as usize * dim..(list as usize + 1) * dim];
            for (s, x) in sum.iter_mut().zip(&sample[row * dim..(row + 1) * dim]) {
                *s += x;
            }
        }
        for (centroid, sum) in centroids.chunks_mut(dim).zip(sums.chunks_mut(dim)) {
            // A list left empty keeps its centroid.
            if sum.iter().any(|&x| x != 0.0) {
                l2_normalize(sum);
                centroid.copy_from_slice(sum);
            }
        }
    }
    centroids
}

/// Each row's `probes` nearest centroids (most similar first), `probes` a row; the rows
/// scaled by `scales` first.
fn nearest_lists(
    rows: &[f32],
    centroids: &[f32],
    dim: usize,
    scales: Option<&[f32]>,
    probes: usize,
) -> Vec<u32> {
    const BLOCK: usize = 1_024;
    let count = centroids.len() / dim.max(1);
    let probes = probes.min(count);
    rows.par_chunks(BLOCK * dim.max(1))
        .flat_map_iter(|block| {
            let m = block.len() / dim.max(1);
            let block = scaled(block, dim, scales);
            let mut sims = vec![0.0f32; m * count];
            sgemm_transposed(&mut sims, &block, centroids, m, dim, count, 1);
            let mut order: Vec<u32> = Vec::with_capacity(count);
            let mut nearest = Vec::with_capacity(m * probes);
            for sims in sims.chunks(count.max(1)) {
                order.clear();
                order.extend(0..count as u32);
                let farther = |x: &u32, y: &u32| sims[*y as usize].total_cmp(&sims[*x as usize]);
                if probes < count {
                    order.select_nth_unstable_by(probes - 1, farther);
                }
                order[..probes].sort_unstable_by(farther);
                nearest.extend_from_slice(&order[..probes]);
            }
            nearest
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::find::dupes::pairs::Compare;

    /// Unit rows in `clusters` tight groups, `n` in all (a fixed generator).
    fn clustered(n: usize, dim: usize, clusters: usize) -> Vec<f32> {
        let mut state = 17u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let centres: Vec<Vec<f32>> = (0..clusters)
            .map(|_| (0..dim).map(|_| next()).collect())
            .collect();
        (0..n)
            .flat_map(|i| {
                let v: Vec<f32> = centres[i % clusters]
                    .iter()
                    .map(|c| c + 0.05 * next())
                    .collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.into_iter().map(move |x| x / norm)
            })
            .collect()
    }

    #[test]
    fn each_row_finds_its_nearest_in_the_lists_it_looks_in() {
        // 3,000 rows in 30 tight clusters, 3 lists: looking in every list is exact.
        let (n, dim) = (3_000, 16);
        let rows = clustered(n, dim, 30);
        let lists = Lists::build(&rows, dim, None, 3);
        assert_eq!(lists.len(), 3);
        assert_eq!(lists.members.iter().map(Vec::len).sum::<usize>(), n);
        let done = AtomicUsize::new(0);
        let unattended = Control::unattended();
        let near = lists
            .nearest_of(&rows, |i| i, &rows, unattended, (&done, 3))
            .unwrap();
        let exact = Compare::All;
        let exact =
            super::super::pairs_and_neighbourhood(&rows, dim, 2.0, &exact, unattended, (&done, 0))
                .unwrap()
                .1;
        for (found, expected) in near.iter().zip(&exact) {
            for (x, y) in found.iter().zip(expected) {
                assert!((x.0 - y.0).abs() < 1e-5, "{found:?} {expected:?}");
            }
        }
        // Looking in one list of three (its own) still finds a row of its cluster first.
        let one = Lists { probes: 1, ..lists };
        let near = one
            .nearest_of(&rows, |i| i, &rows, unattended, (&done, 3))
            .unwrap();
        for (i, nearest) in near.iter().enumerate() {
            assert_eq!(nearest[0].1 as usize % 30, i % 30, "row {i}");
        }
    }

    #[test]
    fn a_stop_request_ends_it() {
        let (n, dim) = (2_000, 8);
        let rows = clustered(n, dim, 4);
        let lists = Lists::build(&rows, dim, Some(&[2.0; 8]), 1);
        let stop = std::sync::atomic::AtomicBool::new(true);
        let done = AtomicUsize::new(0);
        let found = lists.nearest_of(&rows, |i| i, &rows, Control::stop_only(&stop), (&done, 2));
        assert_eq!(found.unwrap_err(), GroupingError::Stopped);
    }
}
