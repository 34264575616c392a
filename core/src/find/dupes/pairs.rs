//! The pair search: each photo's nearest photos, exactly, a block of rows against a
//! chunk of columns at a time (one SGEMM each), as they are and through a view (turned,
//! enlarged); the candidate pairs are those of them closer than a threshold.
//!
//! Bounded by photo, not by the library: a photo keeps its
//! [`NEIGHBOURS`](super::NEIGHBOURS) nearest, so the candidates are at most that many
//! per photo however crowded the library or loose the threshold (all pairs under the
//! threshold were kept, up to a global limit that stopped the search).

use std::sync::atomic::AtomicUsize;

use super::GroupingError;
use super::lists::Lists;
use super::nearest::{Keeper, Nearest, Neighbourhood, in_steps};
use crate::describe::net::sgemm_transposed;
use crate::index::Control;

/// Rows per similarity block.
pub(crate) const BLOCK_ROWS: usize = 512;

/// Columns of a block's similarities computed at a time: a block holds `BLOCK_ROWS x
/// COLUMNS` floats (32 MB) whatever the library's size (it held `BLOCK_ROWS x N`: 2 GB
/// for each thread at a million photos). Small in unit tests, so that they go through
/// several.
const COLUMNS: usize = if cfg!(test) { 96 } else { 16_384 };

/// A pair of rows and their cosine distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    pub a: usize,
    pub b: usize,
    pub distance: f32,
}

/// How the pair search compares the photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// Each photo with every other.
    Exact,
    /// Each photo with the photos of the `probes` inverted lists nearest to it
    /// ([`lists`](super::lists)): approximate, for a large library.
    Lists { probes: usize },
}

/// Up to this many photos the pair search is exact (two and a half minutes for the
/// plain and turned passes at this size on two cores, quadratic in the photos);
/// beyond, it goes through inverted lists, which find fewer of the pairs (docs/speed.md,
/// "A million photos").
pub const EXACT_UP_TO: usize = 100_000;

/// How many lists a photo of a large library is compared with (of one per 1,000
/// photos): a sixtieth of the work at a million photos.
const PROBES: usize = 16;

impl Search {
    /// The search for a library of `photos`: exact up to [`EXACT_UP_TO`].
    pub fn for_library(photos: usize) -> Self {
        match photos <= EXACT_UP_TO {
            true => Self::Exact,
            false => Self::Lists { probes: PROBES },
        }
    }

    /// What it compares `rows` (L2-normalised, `dim` wide) with: all of them, or their
    /// lists (built here, clustered with each dimension scaled by `unwhitening`).
    pub(crate) fn prepare(self, rows: &[f32], dim: usize, unwhitening: Option<&[f32]>) -> Compare {
        match self {
            Self::Exact => Compare::All,
            Self::Lists { probes } => Compare::Lists(Lists::build(rows, dim, unwhitening, probes)),
        }
    }
}

/// A [`Search`] ready for a library's rows.
pub(crate) enum Compare {
    All,
    Lists(Lists),
}

impl Compare {
    /// The steps (of progress) of a pass of `left` rows.
    pub(crate) fn steps(&self, left: usize) -> usize {
        match self {
            Self::All => left.div_ceil(BLOCK_ROWS),
            Self::Lists(lists) => lists.len(),
        }
    }

    /// Each of the `left` rows' [`Nearest`] among `rows`, by this search (see
    /// [`nearest_of`] for the arguments).
    fn nearest_of(
        &self,
        left: &[f32],
        photo: impl Fn(usize) -> usize + Sync,
        rows: &[f32],
        dim: usize,
        control: Control<'_>,
        progress: (&AtomicUsize, usize),
    ) -> Result<Neighbourhood, GroupingError> {
        match self {
            Self::All => nearest_of(left, photo, rows, dim, control, progress),
            Self::Lists(lists) => lists.nearest_of(left, photo, rows, control, progress),
        }
    }
}

/// The pairs `a < b` of L2-normalised rows (`n x dim`, row-major) whose cosine distance
/// `1 - a·b` is below `threshold` and where `b` is among `a`'s
/// [`NEIGHBOURS`](super::NEIGHBOURS) nearest or `a` among `b`'s, sorted by `(a, b)`.
pub fn close_pairs(rows: &[f32], dim: usize, threshold: f32) -> Vec<Pair> {
    let done = AtomicUsize::new(0);
    let unattended = Control::unattended();
    pairs_and_neighbourhood(rows, dim, threshold, &Compare::All, unattended, (&done, 0))
        .map(|(pairs, _)| pairs)
        .unwrap_or_default()
}

/// [`close_pairs`] as `compare` compares them, with `control`'s stop flag and progress
/// (steps done, of `progress.1`), and every row's [`Nearest`].
pub(crate) fn pairs_and_neighbourhood(
    rows: &[f32],
    dim: usize,
    threshold: f32,
    compare: &Compare,
    control: Control<'_>,
    progress: (&AtomicUsize, usize),
) -> Result<(Vec<Pair>, Neighbourhood), GroupingError> {
    let neighbourhood = compare.nearest_of(rows, |i| i, rows, dim, control, progress)?;
    let pairs = under(&neighbourhood, |i| i, threshold);
    Ok((pairs, neighbourhood))
}

/// Each of the `left` rows' [`Nearest`] among `rows` (both L2-normalised, `dim` wide),
/// leaving out its own photo (`photo(i)` is the row of the `i`-th left row's photo); in
/// blocks of [`BLOCK_ROWS`] on all cores, with `control`'s stop flag and progress.
fn nearest_of(
    left: &[f32],
    photo: impl Fn(usize) -> usize + Sync,
    rows: &[f32],
    dim: usize,
    control: Control<'_>,
    progress: (&AtomicUsize, usize),
) -> Result<Neighbourhood, GroupingError> {
    let (m_all, n) = (left.len() / dim.max(1), rows.len() / dim.max(1));
    let steps = m_all.div_ceil(BLOCK_ROWS);
    let blocks: Vec<Vec<Nearest>> = in_steps(steps, control, progress, |block| {
        let start = block * BLOCK_ROWS;
        let m = BLOCK_ROWS.min(m_all - start);
        let lhs = &left[start * dim..(start + m) * dim];
        let mut near: Vec<Keeper> = (0..m).map(|_| Keeper::default()).collect();
        let mut sims = Vec::new();
        for c0 in (0..n).step_by(COLUMNS) {
            let cols = COLUMNS.min(n - c0);
            sims.resize(m * cols, 0.0);
            let rhs = &rows[c0 * dim..(c0 + cols) * dim];
            sgemm_transposed(&mut sims[..m * cols], lhs, rhs, m, dim, cols, 1);
            for (i, near) in near.iter_mut().enumerate() {
                let own = photo(start + i);
                let sims = &sims[i * cols..(i + 1) * cols];
                for (j, s) in sims.iter().enumerate() {
                    if c0 + j != own {
                        near.offer(1.0 - s, c0 + j);
                    }
                }
            }
        }
        near.into_iter().map(Keeper::nearest_first).collect()
    })?;
    Ok(blocks.into_iter().flatten().collect())
}

/// The pairs `(min, max)` of each left row's photo (`photo(i)`) and its nearest under
/// `threshold`, sorted by `(a, b)`, each once.
fn under(near: &[Nearest], photo: impl Fn(usize) -> usize, threshold: f32) -> Vec<Pair> {
    let mut pairs: Vec<Pair> = near
        .iter()
        .enumerate()
        .flat_map(|(i, nearest)| {
            let row = photo(i);
            nearest
                .iter()
                .take_while(move |&&(distance, _)| distance < threshold)
                .map(move |&(distance, other)| {
                    let other = other as usize;
                    Pair {
                        a: row.min(other),
                        b: row.max(other),
                        distance,
                    }
                })
        })
        .collect();
    pairs.sort_by(|p, q| {
        (p.a, p.b)
            .cmp(&(q.a, q.b))
            .then(p.distance.total_cmp(&q.distance))
    });
    pairs.dedup_by_key(|p| (p.a, p.b));
    pairs
}

/// Pairs between two sets of L2-normalised rows describing the same photos in another
/// way (`turned[i]` is photo `i` turned a quarter turn, `rows[j]` photo `j` as it is):
/// every `i != j` whose cosine distance is below `threshold` and `j` among the
/// [`NEIGHBOURS`](super::NEIGHBOURS) nearest of `turned[i]`, as `(min, max)` pairs
/// sorted by `(a, b)`.
/// With `close_pairs` this finds copies rotated by 90 or 270 degrees: if `j` is `i`
/// turned clockwise, `turned[i]` matches `rows[j]`; if counter-clockwise, `turned[j]`
/// matches `rows[i]`.
pub fn close_pairs_across(turned: &[f32], rows: &[f32], dim: usize, threshold: f32) -> Vec<Pair> {
    let done = AtomicUsize::new(0);
    let across = Across::Every(turned);
    let unattended = Control::unattended();
    close_pairs_across_within(
        &across,
        rows,
        dim,
        threshold,
        &Compare::All,
        unattended,
        (&done, 0),
    )
    .unwrap_or_default()
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

/// [`close_pairs_across`] for the photos `across` holds, with `control`'s stop flag and
/// progress.
pub(crate) fn close_pairs_across_within(
    across: &Across<'_>,
    rows: &[f32],
    dim: usize,
    threshold: f32,
    compare: &Compare,
    control: Control<'_>,
    progress: (&AtomicUsize, usize),
) -> Result<Vec<Pair>, GroupingError> {
    if let Across::Every(view) = across {
        assert_eq!(view.len(), rows.len(), "one row of the view per photo");
    }
    let photo = |i| across.photo(i);
    let near = compare.nearest_of(across.rows(), photo, rows, dim, control, progress)?;
    Ok(under(&near, photo, threshold))
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
        let done = AtomicUsize::new(0);
        let pairs = |across: &Across| {
            let found = close_pairs_across_within(
                across,
                &rows,
                dim,
                0.001,
                &Compare::All,
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
        let done = AtomicUsize::new(0);
        let unattended = Control::unattended();
        let (_, near) =
            pairs_and_neighbourhood(&rows, dim, 0.001, &Compare::All, unattended, (&done, 0))
                .unwrap();
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
