//! Near duplicates: candidate pairs of descriptors closer than a cosine-distance
//! threshold, found exactly without an N x N matrix in memory (similarities are
//! computed a block of rows against a chunk of columns at a time, each one SGEMM), then
//! verified and grouped around keepers without chains ([`groups`]); the turned and
//! enlarged variants that find rotated and downscaled copies, cached beside the index.

pub mod decisions;
mod groups;
pub mod keeper;
pub mod series;
mod verify;

pub use crate::find::views::{add_views, enlarged_views};
pub use crate::index::thumbnails::{
    PixelMatch, Thumbnail, Thumbnails, Turn, compare as compare_thumbnails, update_thumbnails,
};
pub use crate::index::variants::{
    Aligned, CACHE_EXTENSIONS, ENLARGE_BELOW, Variant, Variants, VariantsUpdate, describe_variants,
    update_variants, variant_cache_path,
};
pub use decisions::{Decision, Decisions, Verdict};
pub use groups::{
    Described, Found, Group, Kind, Member, Scores, Series, VerifiedMatch, find, find_in,
    keeper_order, scores,
};
pub use keeper::{KeepRule, Keeping, Reason};
pub use verify::{Check, PixelRule, Rule, Verifier, View};

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::index::{Control, Entry, Progress};
use crate::support::error::Result;

/// Rows per similarity block.
const BLOCK_ROWS: usize = 512;

/// Columns of a block's similarities computed at a time: a block holds `BLOCK_ROWS x
/// COLUMNS` floats (32 MB) whatever the library's size (it held `BLOCK_ROWS x N`: 2 GB
/// for each thread at a million photos). Small in unit tests, so that they go through
/// several.
const COLUMNS: usize = if cfg!(test) { 96 } else { 16_384 };

/// The most pairs one grouping keeps (24 bytes each): a threshold so loose that
/// everything matches everything (1.0 on unwhitened descriptors) ends the search with a
/// message instead of filling the memory with N^2 / 2 pairs.
pub const MAX_PAIRS: usize = 2_000_000;

/// Why a grouping ended without groups.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GroupingError {
    #[error(
        "more than {limit} pairs of photos are closer than the threshold {threshold}: \
         it is too loose for this library; lower it"
    )]
    TooManyPairs { limit: usize, threshold: f32 },
    #[error("stopped")]
    Stopped,
}

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
            similarity_block(&mut sims[..m * cols], lhs, rhs, m, cols, dim);
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
    fn len(&self, dim: usize) -> usize {
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
            similarity_block(&mut sims[..m * cols], lhs, rhs, m, cols, dim);
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

/// `sims[m x cols] = lhs[m x dim] * rhs[cols x dim]^T`.
fn similarity_block(sims: &mut [f32], lhs: &[f32], rhs: &[f32], m: usize, cols: usize, dim: usize) {
    assert!(sims.len() == m * cols && lhs.len() == m * dim && rhs.len() == cols * dim);
    // SAFETY: the slices hold exactly the elements the strides address (checked
    // above): lhs is m x dim row-major, rhs read as its transpose (dim x cols, column
    // stride dim), sims m x cols row-major and not aliased by the inputs.
    unsafe {
        gemm::gemm(
            m,
            cols,
            dim,
            sims.as_mut_ptr(),
            1,
            cols as isize,
            false,
            lhs.as_ptr(),
            1,
            dim as isize,
            rhs.as_ptr(),
            dim as isize,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// RAW + JPEG pairs of an index: for each JPEG (or other non-RAW file) that has a RAW
/// of the same name in the same folder, that RAW's row. The app shows such a pair as
/// one photo.
pub fn raw_jpeg_siblings(entries: &[Entry]) -> HashMap<usize, usize> {
    let mut shots: HashMap<(&str, String), Vec<usize>> = HashMap::new();
    for (row, entry) in entries.iter().enumerate() {
        let path = std::path::Path::new(&entry.path);
        let folder = entry.path.rsplit_once('/').map_or("", |(folder, _)| folder);
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        shots.entry((folder, stem)).or_default().push(row);
    }
    let mut siblings = HashMap::new();
    for rows in shots.values() {
        let is_raw =
            |&row: &usize| crate::read::raw::is_raw(std::path::Path::new(&entries[row].path));
        if let Some(&raw) = rows.iter().find(|r| is_raw(r)) {
            for &row in rows.iter().filter(|r| !is_raw(r)) {
                siblings.insert(row, raw);
            }
        }
    }
    siblings
}

/// Pairwise precision and recall of `groups` against true groups (`truth[row]` is the
/// row's true group label, `None` for a singleton).
pub fn pairwise_precision_recall(groups: &[Vec<usize>], truth: &[Option<u32>]) -> (f64, f64) {
    let same = |a: usize, b: usize| truth[a].is_some() && truth[a] == truth[b];
    let (mut predicted, mut correct) = (0u64, 0u64);
    for g in groups {
        for (i, &a) in g.iter().enumerate() {
            for &b in &g[i + 1..] {
                predicted += 1;
                correct += u64::from(same(a, b));
            }
        }
    }
    let mut sizes: std::collections::HashMap<u32, u64> = Default::default();
    for label in truth.iter().flatten() {
        *sizes.entry(*label).or_default() += 1;
    }
    let actual: u64 = sizes.values().map(|s| s * (s - 1) / 2).sum();
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    (ratio(correct, predicted), ratio(correct, actual))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe::pooling::Pooling;
    use crate::index::Index;
    use crate::support::safefs::FileId;
    use std::path::PathBuf;

    /// Descriptors with no views.
    fn described(rows: &[f32], dim: usize) -> Described<'_> {
        Described {
            rows,
            dim,
            views: &[],
        }
    }

    /// A square photo of `w` pixels and `size` bytes (its own file: inode `size`).
    fn photo(path: &str, w: u32, size: u64) -> Entry {
        Entry {
            path: path.into(),
            size,
            mtime_ns: 0,
            file: FileId {
                device: 1,
                inode: size,
            },
            via_link: false,
            width: w,
            height: w,
            feature_map: [1, 1],
            raw: vec![],
            damage: None,
        }
    }

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

    /// An index of `rows.len()` photos, the first the largest (the best keeper).
    fn library(n: usize) -> Index {
        let mut index = Index::new(
            PathBuf::from("/photos"),
            crate::index::Provenance {
                model_sha256: "ab".repeat(32),
                max_side: 1024,
                network: crate::describe::model::Network::Vgg16,
                pooling: Pooling::Rmac,
            },
        );
        index.entries = (0..n)
            .map(|i| {
                photo(
                    &format!("p{i:04}.jpg"),
                    1000 - i as u32 % 1000,
                    10 + i as u64,
                )
            })
            .collect();
        index
    }

    /// `n` random unit rows in `dim` dimensions (a fixed generator): unrelated photos.
    fn unrelated(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                let v: Vec<f32> = (0..dim)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
                    })
                    .collect();
                unit(&v)
            })
            .collect()
    }

    /// `v` moved towards `w` by `t` (then normalised).
    fn towards(v: &[f32], w: &[f32], t: f32) -> Vec<f32> {
        unit(
            &v.iter()
                .zip(w)
                .map(|(a, b)| a * (1.0 - t) + b * t)
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn a_chain_never_reaches_the_keeper() {
        let dim = 256;
        let mut rows = unrelated(40, dim, 7);
        // 0 <- 1 <- 2: 1 is close to 0, 2 close to 1, 2 far from 0.
        rows[1] = towards(&rows[0], &rows[30], 0.6);
        rows[2] = towards(&rows[1], &rows[31], 0.6);
        let index = library(rows.len());
        let flat = rows.concat();
        let rule = Rule {
            threshold: 0.5,
            turned: 0.2,
            spin: 1.0,
            raw: f32::INFINITY,
            ratio: 0.6,
            crowd: 1,
            pixels: None,
            max_pairs: MAX_PAIRS,
        };
        let distance = |a: usize, b: usize| {
            1.0 - rows[a]
                .iter()
                .zip(&rows[b])
                .map(|(x, y)| x * y)
                .sum::<f32>()
        };
        assert!(distance(0, 1) < 0.47 && distance(1, 2) < 0.47, "a chain");
        assert!(distance(0, 2) > rule.threshold, "the far end");
        let groups = find(
            &index,
            described(&flat, dim),
            &[],
            rule,
            &Keeping::default(),
            Control::unattended(),
        )
        .unwrap()
        .groups;
        let rows_of = |g: &Group| -> Vec<usize> {
            std::iter::once(g.keeper())
                .chain(g.copies())
                .map(|i| g.members()[i].row)
                .collect()
        };
        // Every proposed copy was verified with its keeper directly.
        for g in &groups {
            for i in g.copies() {
                assert!(g.check(i, g.keeper()).verified);
            }
            let keeper = &g.members()[g.keeper()].file;
            assert!(
                g.matches(|_| true)
                    .iter()
                    .all(|m| m.keeper() == keeper && m.file() != keeper)
            );
        }
        let all: Vec<Vec<usize>> = groups.iter().map(rows_of).collect();
        // 2 is never a copy of keeper 0: it is only similar (verified with 1).
        let first = &groups[0];
        assert_eq!(first.members()[first.keeper()].row, 0);
        assert_eq!(rows_of(first), [0, 1], "{all:?}");
        let similar: Vec<usize> = first.similar().map(|i| first.members()[i].row).collect();
        assert!(similar.contains(&2), "{similar:?}");
        // Keeping 1 instead: 0 is its copy; 2 was not taken for this group, so it stays
        // similar, never a copy, whoever is kept.

        let mut rekeyed = first.clone();
        assert!(rekeyed.set_keeper(1));
        assert_eq!(
            rekeyed
                .copies()
                .map(|i| rekeyed.members()[i].row)
                .collect::<Vec<_>>(),
            [0]
        );
        assert!(
            !rekeyed.set_keeper(2),
            "a similar photo cannot be the keeper"
        );
    }

    #[test]
    fn scores_what_would_move() {
        // Keeper 0 with copies 1 and 2 (2 is no true copy), 3 only similar; truth:
        // {0, 1, 3} and {2, 4}.
        let group = Group::for_test(&["a", "b", "c", "d"], 3, &[(0, 1), (0, 2), (1, 3)]);
        let truth = [Some(0), Some(0), Some(1), Some(0), Some(1)];
        let s = scores(&[group], &truth);
        assert_eq!((s.proposed, s.wrong), (2, 1));
        assert_eq!(s.move_precision, 0.5);
        // True copies: 2 of {0, 1, 3}, 1 of {2, 4}; 1 moved right.
        assert!((s.move_recall - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn scores_pairs() {
        let groups = [vec![0, 1, 2], vec![4, 5]];
        // Truth: {0,1,2,3} and {4,5}; 6 alone. Predicted pairs: 3 + 1, all correct;
        // true pairs: 6 + 1.
        let truth = [Some(0), Some(0), Some(0), Some(0), Some(1), Some(1), None];
        let (p, r) = pairwise_precision_recall(&groups, &truth);
        assert_eq!(p, 1.0);
        assert!((r - 4.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn keeper_prefers_resolution_then_size_then_age() {
        let entry = |w: u32, size: u64, mtime_ns: i128| Entry {
            mtime_ns,
            ..photo("", w, size)
        };
        let entries = [
            entry(100, 5, 0),
            entry(200, 1, 0),
            entry(200, 3, 9),
            entry(200, 3, 2),
        ];
        // The best keeper of `rows`.
        let suggest_keeper = |rows: &[usize], entries: &[Entry]| {
            rows.iter()
                .copied()
                .max_by(|&a, &b| keeper_order(a, b, entries))
                .unwrap()
        };
        assert_eq!(suggest_keeper(&[0, 1, 2, 3], &entries), 3);
        assert_eq!(suggest_keeper(&[0, 1], &entries), 1);
        // A path through a symbolic link is never preferred to a real file.
        let mut linked = entries.to_vec();
        linked[3].via_link = true;
        assert_eq!(suggest_keeper(&[0, 1, 2, 3], &linked), 2);
        linked.iter_mut().for_each(|e| e.via_link = true);
        linked[0].via_link = false;
        assert_eq!(suggest_keeper(&[0, 1, 2, 3], &linked), 0);
        // Issue 25: a JPEG cut short is never kept over a whole copy, whatever its
        // resolution or size (the cut file is the larger: its tail is zeros).
        let mut cut = entries.to_vec();
        cut[3].damage = Some(crate::read::Damage::CutShort { zeros: 4096 });
        cut[3].size = 99;
        assert_eq!(suggest_keeper(&[0, 1, 2, 3], &cut), 2);
        assert_eq!(suggest_keeper(&[0, 3], &cut), 0);
    }

    #[test]
    fn a_raw_is_kept_over_its_jpeg_and_the_pair_stays_unless_asked() {
        let entry = photo;
        // The camera's JPEG is as large as its RAW preview; an edited export is larger.
        let entries = [
            entry("trip/IMG_1.JPG", 1620, 9),
            entry("trip/IMG_1.CR3", 1620, 2),
            entry("export/IMG_1.jpg", 4000, 7),
        ];
        let keeper = (0..3)
            .max_by(|&a, &b| keeper_order(a, b, &entries))
            .unwrap();
        assert_eq!(keeper, 1, "the RAW is kept");
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        let mut group = Group::for_test(&paths, 3, &[(0, 1), (0, 2), (1, 2)]);
        assert!(group.set_keeper(keeper));
        let moved = |remove_raw_jpegs| -> Vec<String> {
            group
                .all_but_the_keeper(remove_raw_jpegs)
                .iter()
                .map(|m| m.file().path.display().to_string())
                .collect()
        };
        assert_eq!(moved(false), ["export/IMG_1.jpg"]);
        assert_eq!(moved(true), ["trip/IMG_1.JPG", "export/IMG_1.jpg"]);
        // The app shows the camera's pair as one photo: the JPEG's row points at its RAW.
        assert_eq!(raw_jpeg_siblings(&entries), HashMap::from([(0, 1)]));
    }

    #[test]
    fn a_threshold_that_matches_everything_stops_at_the_pair_limit() {
        // 2,000 identical rows: 1,999,000 pairs under any threshold.
        let dim = 8;
        let rows: Vec<f32> = (0..2000).flat_map(|_| unit(&[1.0; 8])).collect();
        let control = Control::unattended();
        let rule = |threshold| Rule {
            threshold,
            turned: 0.2,
            spin: 1.0,
            raw: f32::INFINITY,
            ratio: 1.0,
            crowd: 0,
            pixels: None,
            max_pairs: 10_000,
        };
        let index = library(2000);
        let keeping = Keeping::default();
        let error = find(
            &index,
            described(&rows, dim),
            &[],
            rule(1.0),
            &keeping,
            control,
        )
        .unwrap_err();
        assert_eq!(
            error,
            GroupingError::TooManyPairs {
                limit: 10_000,
                threshold: 1.0
            }
        );
        assert!(error.to_string().contains("lower it"));
        // Under the limit the same call groups them all around the best keeper.
        let small = library(100);
        let groups = find(
            &small,
            described(&rows[..100 * dim], dim),
            &[],
            rule(1.0),
            &keeping,
            control,
        )
        .unwrap()
        .groups;
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].copies().count(), 99);
        // A stop request ends it.
        let stop = std::sync::atomic::AtomicBool::new(true);
        let control = Control::stop_only(&stop);
        let error = find(
            &index,
            described(&rows, dim),
            &[],
            rule(0.5),
            &keeping,
            control,
        )
        .unwrap_err();
        assert_eq!(error, GroupingError::Stopped);
    }
}
