//! The pair search: every pair of photos closer than a threshold, exactly, a block of
//! rows against a chunk of columns at a time (one SGEMM each), as they are and through
//! a view (turned, enlarged); and each photo's nearest neighbours.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::GroupingError;
use crate::describe::net::sgemm_transposed;
use crate::index::{Control, Progress};

/// Rows per similarity block.
pub(crate) const BLOCK_ROWS: usize = 512;

/// Columns of a block's similarities computed at a time: a block holds `BLOCK_ROWS x
/// COLUMNS` floats (32 MB) whatever the library's size (it held `BLOCK_ROWS x N`: 2 GB
/// for each thread at a million photos). Small in unit tests, so that they go through
/// several.
const COLUMNS: usize = if cfg!(test) { 96 } else { 16_384 };

/// How far a pair search goes: pairs closer than `threshold`, at most `max_pairs` of
/// them (beyond, the search ends with [`GroupingError::TooManyPairs`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bound {
    pub threshold: f32,
    pub max_pairs: usize,
}

/// Runs `block` for every block of `n` rows in parallel, collecting its pairs, with
/// `control`'s stop flag and progress (blocks done of `progress.1`) and `bound`'s pair
/// limit.
fn pairs_by_block(
    n: usize,
    control: Control<'_>,
    bound: Bound,
    progress: (&AtomicUsize, usize),
    block: impl Fn(usize, usize) -> Vec<Pair> + Sync,
) -> Result<Vec<Pair>, GroupingError> {
    let found = AtomicUsize::new(0);
    let (done, total) = progress;
    let pairs: Vec<Vec<Pair>> = (0..n.div_ceil(BLOCK_ROWS))
        .into_par_iter()
        .map(|b| {
            let too_many = GroupingError::TooManyPairs {
                limit: bound.max_pairs,
                threshold: bound.threshold,
            };
            if control.stopped() {
                return Err(GroupingError::Stopped);
            }
            if found.load(Ordering::Relaxed) > bound.max_pairs {
                return Err(too_many);
            }
            // A block stops collecting past the limit: its memory stays bounded too.
            let pairs = block(b, bound.max_pairs);
            if found.fetch_add(pairs.len(), Ordering::Relaxed) + pairs.len() > bound.max_pairs {
                return Err(too_many);
            }
            let done = done.fetch_add(1, Ordering::Relaxed) + 1;
            control.report(Progress::Step {
                done,
                total,
                path: std::path::PathBuf::new(),
            });
            Ok(pairs)
        })
        .collect::<Result<_, _>>()?;
    Ok(pairs.into_iter().flatten().collect())
}

/// A pair of rows and their cosine distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    pub a: usize,
    pub b: usize,
    pub distance: f32,
}

/// All pairs `a < b` of L2-normalised rows (`n x dim`, row-major) whose cosine distance
/// `1 - a·b` is below `threshold`, sorted by `(a, b)`.
pub fn close_pairs(rows: &[f32], dim: usize, threshold: f32) -> Vec<Pair> {
    without_limits(threshold, |control, bound, progress| {
        pairs_and_neighbourhood(rows, dim, bound, false, control, progress).map(|(p, _)| p)
    })
}

/// Runs a pair search under `threshold` with no stop request, no progress and no pair
/// limit.
fn without_limits(
    threshold: f32,
    search: impl FnOnce(Control<'_>, Bound, (&AtomicUsize, usize)) -> Result<Vec<Pair>, GroupingError>,
) -> Vec<Pair> {
    let done = AtomicUsize::new(0);
    let bound = Bound {
        threshold,
        max_pairs: usize::MAX,
    };
    search(Control::unattended(), bound, (&done, 0)).unwrap_or_default()
}

/// How many nearest neighbours of each photo the verification looks at.
pub const NEIGHBOURS: usize = 32;

/// Each photo's [`NEIGHBOURS`] nearest other photos, nearest first: `(distance, row)`,
/// padded with `(infinity, usize::MAX)` in a library smaller than that.
pub(crate) type Neighbourhood = Vec<[(f32, usize); NEIGHBOURS]>;

/// [`close_pairs`], and with `neighbours` every row's [`Neighbourhood`] (which takes the
/// whole square of similarities instead of its upper half; empty without).
pub(crate) fn pairs_and_neighbourhood(
    rows: &[f32],
    dim: usize,
    bound: Bound,
    neighbours: bool,
    control: Control<'_>,
    progress: (&AtomicUsize, usize),
) -> Result<(Vec<Pair>, Neighbourhood), GroupingError> {
    let n = rows.len().checked_div(dim).unwrap_or(0);
    let threshold = bound.threshold;
    let blocks = std::sync::Mutex::new(Vec::new());
    let mut pairs = pairs_by_block(n, control, bound, progress, |block, limit| {
        let start = block * BLOCK_ROWS;
        let m = BLOCK_ROWS.min(n - start);
        let lhs = &rows[start * dim..(start + m) * dim];
        // Without neighbours, only columns from the block's first row on can pair with it
        // (a < b).
        let first = if neighbours { 0 } else { start };
        let mut found = Vec::new();
        // With neighbours, each row's nearest so far, over the chunks of columns.
        let mut near = vec![Vec::new(); if neighbours { m } else { 0 }];
        let mut sims = Vec::new();
        for c0 in (first..n).step_by(COLUMNS) {
            let cols = COLUMNS.min(n - c0);
            sims.resize(m * cols, 0.0);
            let rhs = &rows[c0 * dim..(c0 + cols) * dim];
            sgemm_transposed(&mut sims[..m * cols], lhs, rhs, m, dim, cols, 1);
            for i in 0..m {
                let row = start + i;
                let sims = &sims[i * cols..(i + 1) * cols];
                if neighbours {
                    let distances = sims.iter().enumerate().map(|(j, s)| (1.0 - s, c0 + j));
                    near[i].extend(distances.filter(|&(_, column)| column != row));
                    keep_nearest(&mut near[i]);
                }
                if found.len() <= limit {
                    let after = (row + 1).saturating_sub(c0);
                    for (j, s) in sims.iter().enumerate().skip(after) {
                        let distance = 1.0 - s;
                        if distance < threshold {
                            found.push(Pair {
                                a: row,
                                b: c0 + j,
                                distance,
                            });
                        }
                    }
                }
            }
        }
        let near: Vec<_> = near.into_iter().map(nearest_first).collect();
        if let Ok(mut blocks) = blocks.lock() {
            blocks.push((block, near));
        }
        found
    })?;
    pairs.sort_by_key(|p| (p.a, p.b));
    let mut blocks = blocks.into_inner().unwrap_or_else(|e| e.into_inner());
    blocks.sort_by_key(|(block, _)| *block);
    let neighbourhood = blocks.into_iter().flat_map(|(_, near)| near).collect();
    Ok((pairs, neighbourhood))
}

/// Keeps the [`NEIGHBOURS`] nearest of `others` (in no order).
fn keep_nearest(others: &mut Vec<(f32, usize)>) {
    if others.len() > NEIGHBOURS {
        others.select_nth_unstable_by(NEIGHBOURS, |x, y| x.0.total_cmp(&y.0));
        others.truncate(NEIGHBOURS);
    }
}

/// A row's [`NEIGHBOURS`] nearest (at most that many, from [`keep_nearest`]), nearest
/// first, padded with `(infinity, usize::MAX)`.
fn nearest_first(mut others: Vec<(f32, usize)>) -> [(f32, usize); NEIGHBOURS] {
    others.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
    let mut nearest = [(f32::INFINITY, usize::MAX); NEIGHBOURS];
    nearest[..others.len()].copy_from_slice(&others);
    nearest
}

/// Pairs between two sets of L2-normalised rows describing the same photos in another
/// way (`turned[i]` is photo `i` turned a quarter turn, `rows[j]` photo `j` as it is):
/// every `i != j` whose cosine distance is below `threshold`, as `(min, max)` pairs
/// sorted by `(a, b)`. With `close_pairs` this finds copies rotated by 90 or 270 degrees:
/// if `j` is `i` turned clockwise, `turned[i]` matches `rows[j]`; if counter-clockwise,
/// `turned[j]` matches `rows[i]`.
pub fn close_pairs_across(turned: &[f32], rows: &[f32], dim: usize, threshold: f32) -> Vec<Pair> {
    without_limits(threshold, |control, bound, progress| {
        let across = Across::Every(turned);
        close_pairs_across_within(&across, rows, dim, bound, control, progress)
    })
}

/// The other way of seeing the photos that [`close_pairs_across_within`] compares with
/// them as they are.
pub(crate) enum Across<'a> {
    /// A row for every photo, lined up with them.
    Every(&'a [f32]),
    /// Only the photos whose view differs from them (`(photos, their rows)`): the others
    /// pair as they are, which the plain pass finds.
    Some(Vec<usize>, Vec<f32>),
}

impl<'a> Across<'a> {
    /// `view` (lined up with `rows`) where it differs from the photos as they are: all of
    /// it when every row differs (a turned view; no copy is made), else the few photos
    /// that do and their rows (an enlarged view exists only for small photos).
    pub(crate) fn differing(view: &'a [f32], rows: &[f32], dim: usize) -> Self {
        fn row(m: &[f32], i: usize, dim: usize) -> &[f32] {
            &m[i * dim..(i + 1) * dim]
        }
        let n = rows.len().checked_div(dim).unwrap_or(0);
        let photos: Vec<usize> = (0..n)
            .filter(|&i| row(view, i, dim) != row(rows, i, dim))
            .collect();
        if photos.len() == n {
            return Self::Every(view);
        }
        let vectors = photos
            .iter()
            .flat_map(|&i| row(view, i, dim))
            .copied()
            .collect();
        Self::Some(photos, vectors)
    }

    /// Photos on the left of the comparison.
    pub(crate) fn len(&self, dim: usize) -> usize {
        match self {
            Self::Every(view) => view.len() / dim.max(1),
            Self::Some(photos, _) => photos.len(),
        }
    }

    /// Their rows.
    fn rows(&self) -> &[f32] {
        match self {
            Self::Every(view) => view,
            Self::Some(_, vectors) => vectors,
        }
    }

    /// The photo of the `i`-th row.
    fn photo(&self, i: usize) -> usize {
        match self {
            Self::Every(_) => i,
            Self::Some(photos, _) => photos[i],
        }
    }
}

pub(crate) fn close_pairs_across_within(
    across: &Across<'_>,
    rows: &[f32],
    dim: usize,
    bound: Bound,
    control: Control<'_>,
    progress: (&AtomicUsize, usize),
) -> Result<Vec<Pair>, GroupingError> {
    let n = rows.len().checked_div(dim).unwrap_or(0);
    let threshold = bound.threshold;
    if let Across::Every(view) = across {
        assert_eq!(view.len(), rows.len(), "one row of the view per photo");
    }
    let mut pairs = pairs_by_block(across.len(dim), control, bound, progress, |block, limit| {
        let start = block * BLOCK_ROWS;
        let m = BLOCK_ROWS.min(across.len(dim) - start);
        let lhs = &across.rows()[start * dim..(start + m) * dim];
        let mut sims = Vec::new();
        let mut found = Vec::new();
        for c0 in (0..n).step_by(COLUMNS) {
            let cols = COLUMNS.min(n - c0);
            sims.resize(m * cols, 0.0);
            let rhs = &rows[c0 * dim..(c0 + cols) * dim];
            sgemm_transposed(&mut sims[..m * cols], lhs, rhs, m, dim, cols, 1);
            for i in 0..m {
                let row = across.photo(start + i);
                for (j, s) in sims[i * cols..(i + 1) * cols].iter().enumerate() {
                    let (column, distance) = (c0 + j, 1.0 - s);
                    if distance < threshold && row != column {
                        let (a, b) = (row.min(column), row.max(column));
                        found.push(Pair { a, b, distance });
                    }
                }
                if found.len() > limit {
                    return found;
                }
            }
        }
        found
    })?;
    pairs.sort_by(|p, q| {
        (p.a, p.b)
            .cmp(&(q.a, q.b))
            .then(p.distance.total_cmp(&q.distance))
    });
    pairs.dedup_by_key(|p| (p.a, p.b));
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn turned_rows_pair_with_the_photos_they_match() {
        let dim = 4;
        // Photo 1 is photo 0 turned: turned[0] equals rows[1]; photo 2 matches nothing.
        let rows = [
            unit(&[1.0, 0.0, 0.0, 0.0]),
            unit(&[0.0, 1.0, 0.0, 0.0]),
            unit(&[0.0, 0.0, 1.0, 1.0]),
        ]
        .concat();
        let turned = [
            unit(&[0.0, 1.0, 0.0, 0.0]),
            unit(&[0.0, 0.0, 0.0, 1.0]),
            unit(&[0.0, 0.0, 1.0, 1.0]),
        ]
        .concat();
        let pairs = close_pairs_across(&turned, &rows, dim, 0.01);
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        assert_eq!((pairs[0].a, pairs[0].b), (0, 1));
        // A photo never pairs with itself, however close its turned self is.
        assert!(pairs.iter().all(|p| p.a != p.b));
    }

    #[test]
    fn finds_exactly_the_pairs_under_the_threshold() {
        // 1300 rows (three blocks): rows i and i + 650 are near-copies, all others far.
        let dim = 16;
        let n = 1300;
        let mut rows = Vec::new();
        for i in 0..n {
            let mut v = vec![0.0f32; dim];
            let k = i % 650;
            v[k % dim] = 1.0;
            v[(k / dim) % dim] += 2.0 + (k / (dim * dim)) as f32;
            v[(k * 7 + 3) % dim] += 0.5 * (k % 5) as f32;
            if i >= 650 {
                v[(k + 1) % dim] += 0.01;
            }
            rows.extend(unit(&v));
        }
        let threshold = 0.01;
        let pairs = close_pairs(&rows, dim, threshold);
        let mut expected = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                let dot: f32 = (0..dim)
                    .map(|d| rows[a * dim + d] * rows[b * dim + d])
                    .sum();
                if 1.0 - dot < threshold {
                    expected.push((a, b));
                }
            }
        }
        let found: Vec<(usize, usize)> = pairs.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(found, expected);
        assert!(found.contains(&(0, 650)) && found.contains(&(649, 1299)));
    }

    #[test]
    fn a_view_is_compared_only_where_it_differs_from_the_photos() {
        let dim = 4;
        let photo = |i: usize| unit(&[1.0 + i as f32, (i % 7) as f32, (i % 3) as f32, 1.0]);
        let rows: Vec<f32> = (0..300).flat_map(photo).collect();
        // An enlarged-like view: the photos themselves but for 5 and 200, which look
        // like photo 100.
        let mut view = rows.clone();
        for i in [5, 200] {
            view[i * dim..(i + 1) * dim].copy_from_slice(&photo(100));
        }
        let across = Across::differing(&view, &rows, dim);
        assert!(matches!(&across, Across::Some(photos, _) if photos == &[5, 200]));
        let bound = Bound {
            threshold: 0.001,
            max_pairs: usize::MAX,
        };
        let done = AtomicUsize::new(0);
        let pairs = |across: &Across| {
            let found = close_pairs_across_within(
                across,
                &rows,
                dim,
                bound,
                Control::unattended(),
                (&done, 0),
            );
            found
                .unwrap()
                .iter()
                .map(|p| (p.a, p.b))
                .collect::<Vec<_>>()
        };
        let few = pairs(&across);
        assert!(
            few.contains(&(5, 100)) && few.contains(&(100, 200)),
            "{few:?}"
        );
        // What the whole view finds beyond that, the photos as they are find too.
        let plain: Vec<(usize, usize)> = close_pairs(&rows, dim, 0.001)
            .iter()
            .map(|p| (p.a, p.b))
            .collect();
        for pair in pairs(&Across::Every(&view)) {
            assert!(
                few.contains(&pair) || plain.contains(&pair),
                "{pair:?} lost"
            );
        }
        // A turned view differs everywhere: it is used as it is.
        let turned: Vec<f32> = rows.iter().map(|x| x * 0.5 + 0.1).collect();
        assert!(matches!(
            Across::differing(&turned, &rows, dim),
            Across::Every(_)
        ));
    }

    #[test]
    fn every_rows_nearest_neighbours_are_found_across_chunks_of_columns() {
        // 700 rows: two blocks of rows, eight chunks of columns each (in tests).
        let (dim, n) = (8, 700);
        let rows: Vec<f32> = (0..n)
            .flat_map(|i| {
                let v: Vec<f32> = (0..dim)
                    .map(|d| ((i * 7919 + d * 104_729) % 1009) as f32 + 1.0)
                    .collect();
                unit(&v)
            })
            .collect();
        let bound = Bound {
            threshold: 0.001,
            max_pairs: usize::MAX,
        };
        let done = AtomicUsize::new(0);
        let unattended = Control::unattended();
        let (_, near) =
            pairs_and_neighbourhood(&rows, dim, bound, true, unattended, (&done, 0)).unwrap();
        assert_eq!(near.len(), n);
        for (a, nearest) in near.iter().enumerate() {
            let mut all: Vec<(f32, usize)> = (0..n)
                .filter(|&b| b != a)
                .map(|b| {
                    let dot: f32 = (0..dim)
                        .map(|d| rows[a * dim + d] * rows[b * dim + d])
                        .sum();
                    (1.0 - dot, b)
                })
                .collect();
            all.sort_by(|x, y| x.0.total_cmp(&y.0));
            for ((d, _), (expected, _)) in nearest.iter().zip(&all) {
                assert!((d - expected).abs() < 1e-5, "row {a}: {d} vs {expected}");
            }
        }
    }
}
