//! Exact nearest-neighbour ranking of descriptors under the seven distances of
//! `scipy.spatial.distance` (Canberra's 0/0 terms count as 0), and average query
//! expansion.
//!
//! The scan is exact and brute force, split over threads; the per-vector quantities a
//! metric needs (norms, means) are computed once when the database is built, so cosine
//! and correlation cost one dot product per vector. For the distances made of one dot
//! product a first pass over the rows in 8 bits ([`coarse`]) rules out the rows that
//! provably cannot rank, and only the others are measured exactly: the same results,
//! a quarter of the bytes read.

mod coarse;
mod metric;
pub mod saved;

use std::sync::OnceLock;

use rayon::prelude::*;

use self::coarse::Coarse;
pub use self::metric::Metric;
use self::saved::Stored;
use crate::describe::whiten::Whitening;
use crate::describe::whiten::finish_descriptors;
use crate::index::Index;
use crate::support::error::{Error, Result};

/// One search result: the database row and its distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub row: usize,
    pub distance: f32,
}

/// Descriptors to search, `n x dim` row-major, with the per-row quantities the
/// metrics need precomputed (norm, mean, norm after centring).
#[derive(Debug, Clone, Default)]
pub struct Database {
    dim: usize,
    /// In memory, or read in place from the search's cache ([`saved`]).
    vectors: Stored<f32>,
    stats: Vec<RowStats>,
    /// The rows in 8 bits, made by the first search that ranks through them (the
    /// duplicate finder and `eval` never do) and kept up to date from then on.
    coarse: OnceLock<Coarse>,
    /// More views of some rows (see [`Database::add_views`]).
    views: Views,
    /// The whitening's [`Whitening::unwhitening`], when the rows were whitened.
    unwhitening: Option<Vec<f32>>,
}

/// Other descriptors of rows: the photo turned a quarter, or enlarged. A row's distance
/// is the least over itself and its views, so a turned or shrunk copy ranks where its
/// upright, full-size original would.
#[derive(Debug, Clone, Default)]
struct Views {
    vectors: Vec<f32>,
    stats: Vec<RowStats>,
    /// As [`Database`]'s.
    coarse: OnceLock<Coarse>,
    /// The row each view belongs to.
    owner: Vec<usize>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct RowStats {
    norm: f32,
    mean: f32,
    centred_norm: f32,
}

impl RowStats {
    fn of(v: &[f32]) -> Self {
        let n = v.len().max(1) as f64;
        let sum: f64 = v.iter().map(|x| f64::from(*x)).sum();
        let squares: f64 = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum();
        let mean = sum / n;
        Self {
            norm: squares.sqrt() as f32,
            mean: mean as f32,
            centred_norm: (squares - n * mean * mean).max(0.0).sqrt() as f32,
        }
    }
}

/// A query with its own statistics, ready to be compared with many rows.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    vector: &'a [f32],
    stats: RowStats,
    metric: Metric,
}

/// Rows scanned per parallel task; each task keeps its own top-N.
const SCAN_CHUNK_ROWS: usize = 8192;

/// The least and the greatest a row's distance can be, as [`coarse`] bounds it.
type Bounds = (f32, f32);

impl Database {
    /// From raw rows; every row must have `dim` entries.
    pub fn new(dim: usize, vectors: Vec<f32>) -> Result<Self> {
        if dim == 0 || !vectors.len().is_multiple_of(dim) {
            return Err(Error::Invalid(format!(
                "{} values do not make rows of {dim}",
                vectors.len()
            )));
        }
        let stats = vectors.par_chunks(dim).map(RowStats::of).collect();
        Ok(Self {
            dim,
            vectors: vectors.into(),
            stats,
            coarse: OnceLock::new(),
            views: Views::default(),
            unwhitening: None,
        })
    }

    /// Adds `vectors` (`owner.len() x dim`) as more views of the rows `owner` names:
    /// from then on a row is as near as the nearest of its views.
    pub fn add_views(&mut self, owner: &[usize], vectors: &[f32]) -> Result<()> {
        if vectors.len() != owner.len() * self.dim || owner.iter().any(|&o| o >= self.len()) {
            return Err(Error::Invalid(format!(
                "{} views of {} values for {} rows of {}",
                owner.len(),
                vectors.len(),
                self.len(),
                self.dim
            )));
        }
        self.views
            .stats
            .extend(vectors.chunks(self.dim).map(RowStats::of));
        self.views.vectors.extend_from_slice(vectors);
        if let Some(coarse) = self.views.coarse.get_mut() {
            coarse.extend(self.dim, vectors);
        }
        self.views.owner.extend_from_slice(owner);
        Ok(())
    }

    /// The final descriptors of `variant`'s raw SPoC (lined up with the index's entries,
    /// as [`crate::find::dupes::describe_variants`] gives them) added as views of the rows
    /// they differ from.
    pub fn add_index_views(
        &mut self,
        index: &Index,
        variant: &Index,
        whitening: Option<&Whitening>,
    ) -> Result<()> {
        let (owner, raws): (Vec<usize>, Vec<&[f32]>) = index
            .entries
            .iter()
            .zip(&variant.entries)
            .enumerate()
            .filter(|(_, (own, other))| own.raw != other.raw)
            .map(|(i, (_, other))| (i, other.raw.as_slice()))
            .unzip();
        self.add_views(&owner, &finish_descriptors(&raws, whitening))
    }

    /// How many views were added with [`Database::add_views`].
    pub fn view_count(&self) -> usize {
        self.views.owner.len()
    }

    /// The final descriptors (L2, optional whitening, L2) of an index's raw SPoC.
    pub fn from_index(index: &Index, whitening: Option<&Whitening>) -> Result<Self> {
        let raw_dim = index.provenance.network.feature_dim();
        if let Some(w) = whitening
            && w.input_dim() != raw_dim
        {
            return Err(Error::Invalid(format!(
                "a whitening of {}-d descriptors cannot apply to {}'s {raw_dim}-d ones",
                w.input_dim(),
                index.provenance.network.title()
            )));
        }
        let dim = whitening.map_or(raw_dim, Whitening::dim);
        let raws: Vec<&[f32]> = index.entries.iter().map(|e| e.raw.as_slice()).collect();
        let mut db = Self::new(dim, finish_descriptors(&raws, whitening))?;
        db.unwhitening = whitening.map(Whitening::unwhitening);
        Ok(db)
    }

    /// The whitening's factors back to the scale PCA left each dimension at, when the
    /// rows were whitened ([`Whitening::unwhitening`]).
    pub fn unwhitening(&self) -> Option<&[f32]> {
        self.unwhitening.as_deref()
    }

    /// Appends the final descriptors of more entries (a library growing while it is
    /// indexed): rows keep their numbers.
    pub fn extend(&mut self, entries: &[crate::index::Entry], whitening: Option<&Whitening>) {
        let raws: Vec<&[f32]> = entries.iter().map(|e| e.raw.as_slice()).collect();
        let rows = finish_descriptors(&raws, whitening);
        for row in rows.chunks_exact(self.dim.max(1)) {
            self.stats.push(RowStats::of(row));
            self.vectors.to_mut().extend_from_slice(row);
        }
        if let Some(coarse) = self.coarse.get_mut() {
            coarse.extend(self.dim, &rows);
        }
    }

    pub fn len(&self) -> usize {
        self.stats.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stats.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// All rows, `len() x dim()` row-major.
    pub fn rows(&self) -> &[f32] {
        &self.vectors
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.vectors[i * self.dim..(i + 1) * self.dim]
    }

    /// Prepares `vector` for comparisons under `metric`.
    pub fn query<'a>(&self, vector: &'a [f32], metric: Metric) -> Result<Query<'a>> {
        if vector.len() != self.dim {
            return Err(Error::Invalid(format!(
                "query has {} dimensions, the database {}",
                vector.len(),
                self.dim
            )));
        }
        Ok(Query {
            vector,
            stats: RowStats::of(vector),
            metric,
        })
    }

    /// The distance from `query` to row `row`: the metric's definition (see
    /// [`Metric::distance`]) computed in `f32` from precomputed norms and means.
    pub fn distance(&self, query: &Query, row: usize) -> f32 {
        self.distance_to(query, self.row(row), self.stats[row])
    }

    fn distance_to(&self, query: &Query, v: &[f32], vs: RowStats) -> f32 {
        let q = query.vector;
        match query.metric {
            Metric::Cosine | Metric::Correlation | Metric::Euclidean => {
                self.of_dot(query, dot(q, v), vs)
            }
            Metric::Manhattan => lanes_sum(q, v, |x, y| (x - y).abs()),
            Metric::BrayCurtis => {
                let den = lanes_sum(q, v, |x, y| (x + y).abs());
                if den == 0.0 {
                    0.0
                } else {
                    lanes_sum(q, v, |x, y| (x - y).abs()) / den
                }
            }
            Metric::Canberra => lanes_sum(q, v, |x, y| {
                let den = x.abs() + y.abs();
                if den == 0.0 { 0.0 } else { (x - y).abs() / den }
            }),
            Metric::Chebyshev => q
                .iter()
                .zip(v)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max),
        }
    }

    /// A distance made of one dot product, from the dot product: it never grows as
    /// `dot` does (each step rounds monotonically), which [`coarse`]'s bounds rely on.
    fn of_dot(&self, query: &Query, dot: f32, vs: RowStats) -> f32 {
        let qs = query.stats;
        match query.metric {
            Metric::Correlation => one_minus_ratio_f32(
                dot - self.dim as f32 * qs.mean * vs.mean,
                qs.centred_norm * vs.centred_norm,
            ),
            Metric::Euclidean => (qs.norm * qs.norm + vs.norm * vs.norm - 2.0 * dot)
                .max(0.0)
                .sqrt(),
            _ => one_minus_ratio_f32(dot, qs.norm * vs.norm),
        }
    }

    /// Row `row` and its views (see [`Database::add_views`]), the row first.
    pub fn views_of(&self, row: usize) -> impl Iterator<Item = &[f32]> {
        std::iter::once(self.row(row)).chain(
            self.views
                .owner
                .iter()
                .enumerate()
                .filter(move |&(_, &owner)| owner == row)
                .map(|(view, _)| self.view(view).0),
        )
    }

    fn view(&self, view: usize) -> (&[f32], RowStats) {
        let v = &self.views.vectors[view * self.dim..(view + 1) * self.dim];
        (v, self.views.stats[view])
    }

    /// The `top` nearest rows to `query` under `metric`, nearest first (ties by row).
    /// With views, a row's distance is its nearest view's.
    pub fn search(&self, query: &[f32], metric: Metric, top: usize) -> Result<Vec<Hit>> {
        self.search_views(&[query], metric, top)
    }

    /// The `top` nearest rows to the nearest of `queries` (one query seen several ways:
    /// as it is, at the library's scale, turned a quarter), each row as near as its
    /// nearest view.
    pub fn search_views(&self, queries: &[&[f32]], metric: Metric, top: usize) -> Result<Vec<Hit>> {
        let [query] = queries else {
            return self.search_nearest_view(queries, metric, top);
        };
        if self.view_count() > 0 || metric.by_dot() {
            return self.search_nearest_view(queries, metric, top);
        }
        let query = self.query(query, metric)?;
        let top = top.min(self.len());
        if top == 0 {
            return Ok(Vec::new());
        }
        let mut hits: Vec<Hit> = (0..self.len().div_ceil(SCAN_CHUNK_ROWS))
            .into_par_iter()
            .flat_map_iter(|chunk| {
                let rows = chunk * SCAN_CHUNK_ROWS..((chunk + 1) * SCAN_CHUNK_ROWS).min(self.len());
                let mut local: Vec<Hit> = rows
                    .map(|row| Hit {
                        row,
                        distance: self.distance(&query, row),
                    })
                    .collect();
                keep_best(&mut local, top);
                local
            })
            .collect();
        keep_best(&mut hits, top);
        hits.sort_by(hit_order);
        Ok(hits)
    }

    /// [`Database::search_views`] for several queries, rows with views, or the
    /// distances made of a dot product: every distance into one per-row minimum, of
    /// the rows [`Database::candidates`] leaves when the metric allows.
    fn search_nearest_view(
        &self,
        queries: &[&[f32]],
        metric: Metric,
        top: usize,
    ) -> Result<Vec<Hit>> {
        let queries: Vec<Query> = queries
            .iter()
            .map(|q| self.query(q, metric))
            .collect::<Result<_>>()?;
        let top = top.min(self.len());
        if top == 0 {
            return Ok(Vec::new());
        }
        let nearest = |v: &[f32], vs: RowStats| {
            queries
                .iter()
                .map(|q| self.distance_to(q, v, vs))
                .fold(f32::INFINITY, f32::min)
        };
        let rows: Vec<usize> = if metric.by_dot() && top < self.len() {
            self.candidates(&queries, top)
        } else {
            (0..self.len()).collect()
        };
        let mut distances: Vec<f32> = rows
            .par_iter()
            .map(|&row| nearest(self.row(row), self.stats[row]))
            .collect();
        if self.view_count() > 0 {
            // Where each row measured is in `rows`.
            let mut place = vec![usize::MAX; self.len()];
            for (at, &row) in rows.iter().enumerate() {
                place[row] = at;
            }
            let of_views: Vec<(usize, f32)> = (0..self.view_count())
                .into_par_iter()
                .filter_map(|view| {
                    let at = place[self.views.owner[view]];
                    let (v, vs) = self.view(view);
                    (at != usize::MAX).then(|| (at, nearest(v, vs)))
                })
                .collect();
            for (at, d) in of_views {
                distances[at] = distances[at].min(d);
            }
        }
        let mut hits: Vec<Hit> = rows
            .into_iter()
            .zip(distances)
            .map(|(row, distance)| Hit { row, distance })
            .collect();
        keep_best(&mut hits, top);
        hits.sort_by(hit_order);
        Ok(hits)
    }

    /// The rows that may be among the `top` nearest to the nearest of `queries` (a
    /// metric made of a dot product): bounded through [`coarse`], every row whose
    /// least possible distance is within the `top`-th least of the greatest possible.
    fn candidates(&self, queries: &[Query], top: usize) -> Vec<usize> {
        let bounds_of = |coarse: &Coarse, stats: &[RowStats], start: usize, out: &mut [Bounds]| {
            let mut dots = vec![(0.0, 0.0); out.len()];
            out.fill((f32::INFINITY, f32::INFINITY));
            for query in queries {
                coarse.dots(query.vector, query.stats.norm, start, &mut dots);
                for ((o, &(dot, slack)), &vs) in out.iter_mut().zip(&dots).zip(&stats[start..]) {
                    let (near, far) = if dot.is_finite() && slack.is_finite() {
                        (
                            self.of_dot(query, dot + slack, vs),
                            self.of_dot(query, dot - slack, vs),
                        )
                    } else {
                        (f32::NEG_INFINITY, f32::INFINITY)
                    };
                    *o = (o.0.min(near), o.1.min(far));
                }
            }
        };
        let bounds = |coarse: &OnceLock<Coarse>, vectors: &[f32], stats: &[RowStats]| {
            let coarse = coarse.get_or_init(|| Coarse::of(self.dim, vectors));
            let mut all = vec![(0.0, 0.0); stats.len()];
            all.par_chunks_mut(SCAN_CHUNK_ROWS)
                .enumerate()
                .for_each(|(chunk, out)| bounds_of(coarse, stats, chunk * SCAN_CHUNK_ROWS, out));
            all
        };
        let mut rows = bounds(&self.coarse, &self.vectors, &self.stats);
        if self.view_count() > 0 {
            let views = bounds(&self.views.coarse, &self.views.vectors, &self.views.stats);
            for (&owner, (near, far)) in self.views.owner.iter().zip(views) {
                let row = &mut rows[owner];
                *row = (row.0.min(near), row.1.min(far));
            }
        }
        let mut farthest: Vec<f32> = rows.par_iter().map(|b| b.1).collect();
        let (_, &mut limit, _) = farthest.select_nth_unstable_by(top - 1, f32::total_cmp);
        (0..self.len())
            .into_par_iter()
            .filter(|&row| rows[row].0 <= limit)
            .collect()
    }

    /// Average query expansion: search, add the `k` best rows to the query,
    /// L2-normalise, search again. `k = 0` is a plain search.
    pub fn search_expanded(
        &self,
        query: &[f32],
        metric: Metric,
        k: usize,
        top: usize,
    ) -> Result<Vec<Hit>> {
        self.search_views_expanded(&[query], metric, k, top)
    }

    /// [`Database::search_views`] with average query expansion: each of the query's
    /// views is expanded with the view of each of the `k` best rows nearest to it (so a
    /// turned copy adds itself the way up the query is), L2-normalised, and the
    /// expanded views searched again.
    pub fn search_views_expanded(
        &self,
        queries: &[&[f32]],
        metric: Metric,
        k: usize,
        top: usize,
    ) -> Result<Vec<Hit>> {
        if k == 0 {
            return self.search_views(queries, metric, top);
        }
        let first = self.search_views(queries, metric, k)?;
        let expanded: Vec<Vec<f32>> = queries
            .iter()
            .map(|&query| {
                let prepared = self.query(query, metric)?;
                let mut expanded = query.to_vec();
                for hit in &first {
                    let nearest = self
                        .views_of(hit.row)
                        .map(|v| (self.distance_to(&prepared, v, RowStats::of(v)), v))
                        .min_by(|a, b| a.0.total_cmp(&b.0))
                        .map(|(_, v)| v);
                    for (q, v) in expanded.iter_mut().zip(nearest.unwrap_or_default()) {
                        *q += v;
                    }
                }
                crate::describe::vectors::l2_normalize(&mut expanded);
                Ok(expanded)
            })
            .collect::<Result<_>>()?;
        let expanded: Vec<&[f32]> = expanded.iter().map(Vec::as_slice).collect();
        self.search_views(&expanded, metric, top)
    }
}

/// Nearest first; equal distances by row, so rankings are deterministic.
fn hit_order(a: &Hit, b: &Hit) -> std::cmp::Ordering {
    a.distance.total_cmp(&b.distance).then(a.row.cmp(&b.row))
}

/// Keeps the `top` best hits (unordered).
fn keep_best(hits: &mut Vec<Hit>, top: usize) {
    if top < hits.len() {
        hits.select_nth_unstable_by(top - 1, hit_order);
        hits.truncate(top);
    }
}

fn one_minus_ratio_f32(num: f32, den: f32) -> f32 {
    if den == 0.0 { 1.0 } else { 1.0 - num / den }
}

/// Lanes of independent accumulators: lets the compiler vectorise the reductions.
const LANES: usize = 16;

#[inline]
fn lanes_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| f(*x, *y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += f(x[l], y[l]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    lanes_sum(a, b, |x, y| x * y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_scipy() {
        // scipy.spatial.distance's definitions (evaluated in NumPy) for u = [1, 0, -2, 3], v = [0.5, 0, 1, 2].
        let (u, v) = ([1.0, 0.0, -2.0, 3.0], [0.5, 0.0, 1.0, 2.0]);
        let expect = [
            (Metric::Euclidean, 3.201_562_1),
            (Metric::Cosine, 0.475_109_3),
            (Metric::Manhattan, 4.5),
            (Metric::BrayCurtis, 0.6),
            (Metric::Canberra, 1.533_333_3),
            (Metric::Chebyshev, 3.0),
            (Metric::Correlation, 0.484_312),
        ];
        for (metric, expected) in expect {
            let d = metric.distance(&u, &v);
            assert!((d - expected).abs() < 1e-5, "{metric}: {d} vs {expected}");
        }
        // Canberra's 0/0 terms count as 0 (the shared zero in position 1).
        assert_eq!(Metric::Canberra.distance(&[0.0, 1.0], &[0.0, 1.0]), 0.0);
    }

    #[test]
    fn parses_names_and_aliases() {
        assert_eq!("Cosine".parse::<Metric>().unwrap(), Metric::Cosine);
        assert_eq!("cityblock".parse::<Metric>().unwrap(), Metric::Manhattan);
        assert!("hamming".parse::<Metric>().is_err());
    }

    #[test]
    fn ranks_nearest_first_with_ties_by_row() {
        let db = Database::new(2, vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.7, 0.7]).unwrap();
        let hits = db.search(&[1.0, 0.0], Metric::Euclidean, 3).unwrap();
        let rows: Vec<usize> = hits.iter().map(|h| h.row).collect();
        assert_eq!(rows, [0, 2, 3]);
        assert!(db.search(&[1.0], Metric::Cosine, 1).is_err());
    }

    /// A row is as near as its nearest view, and a query as near as its nearest view:
    /// a turned copy (far as it is, identical once turned) ranks first.
    #[test]
    fn a_row_is_as_near_as_its_nearest_view() {
        let mut db = Database::new(2, vec![0.8, 0.6, 0.0, 1.0, 0.6, 0.8]).unwrap();
        let rows = |hits: Vec<Hit>| hits.iter().map(|h| h.row).collect::<Vec<_>>();
        assert_eq!(
            rows(db.search(&[1.0, 0.0], Metric::Cosine, 3).unwrap()),
            [0, 2, 1]
        );
        db.add_views(&[1], &[1.0, 0.0]).unwrap();
        let hits = db.search(&[1.0, 0.0], Metric::Cosine, 3).unwrap();
        assert_eq!(rows(hits.clone()), [1, 0, 2]);
        assert!(hits[0].distance.abs() < 1e-6);
        assert_eq!(db.views_of(1).count(), 2);
        assert!(db.add_views(&[3], &[1.0, 0.0]).is_err(), "no row 3");
        assert!(
            db.add_views(&[0], &[1.0]).is_err(),
            "a view has the rows' dimension"
        );
        // The query's own views: the nearest of them counts.
        let plain = Database::new(2, vec![0.0, 1.0, 0.6, 0.8]).unwrap();
        let hits = plain
            .search_views(&[&[1.0, 0.0], &[0.0, 1.0]], Metric::Euclidean, 2)
            .unwrap();
        assert_eq!(rows(hits.clone()), [0, 1]);
        assert!(hits[0].distance.abs() < 1e-6);
        assert!(
            plain
                .search_views(&[], Metric::Cosine, 0)
                .unwrap()
                .is_empty()
        );
    }

    /// Numbers in [-1, 1) from `seed` (xorshift).
    pub(super) fn noise(seed: u64) -> impl FnMut() -> f32 {
        let mut state = seed;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        }
    }

    /// The first pass in 8 bits changes nothing: with views, several queries, near
    /// ties and rows of every length, each dot-product metric gives exactly what
    /// measuring every row gives, and it does rule most rows out.
    #[test]
    fn the_coarse_pass_keeps_exactly_the_exact_ranking() {
        let dim = 40;
        let mut next = noise(99);
        let bases: Vec<Vec<f32>> = (0..300)
            .map(|_| (0..dim).map(|_| next()).collect())
            .collect();
        // Ten near copies of each base, at scales from 0.1 to 10.
        let mut rows = Vec::new();
        for (i, base) in bases.iter().enumerate() {
            for copy in 0..10 {
                let scale = [0.1, 1.0, 10.0][(i + copy) % 3];
                rows.extend(
                    base.iter()
                        .map(|v| (v + 0.002 * copy as f32 * next()) * scale),
                );
            }
        }
        // Two thirds of the rows and half the views first; the rest added after a
        // search made the first pass (a library growing while it is indexed).
        let later = rows.split_off(2000 * dim);
        let mut db = Database::new(dim, rows).unwrap();
        let owners: Vec<usize> = (0..3000).step_by(7).collect();
        let views: Vec<f32> = (0..owners.len() * dim).map(|_| next()).collect();
        let half = owners.len() / 2;
        db.add_views(&owners[..half], &views[..half * dim]).unwrap();
        db.search(&views[..dim], Metric::Cosine, 5).unwrap();
        let entries = crate::index::test_library(later.chunks(dim).map(<[f32]>::to_vec)).entries;
        db.extend(&entries, None);
        db.add_views(&owners[half..], &views[half * dim..]).unwrap();
        let query: Vec<f32> = bases[17].iter().map(|v| v + 0.001).collect();
        let other = db.view(3).0.to_vec();
        for metric in [Metric::Cosine, Metric::Correlation, Metric::Euclidean] {
            for queries in [vec![&query[..]], vec![&query[..], &other[..]]] {
                let prepared: Vec<Query> = queries
                    .iter()
                    .map(|q| db.query(q, metric).unwrap())
                    .collect();
                let mut every: Vec<Hit> = (0..db.len())
                    .map(|row| Hit {
                        row,
                        distance: db
                            .views_of(row)
                            .flat_map(|v| prepared.iter().map(move |q| (q, v)))
                            .map(|(q, v)| db.distance_to(q, v, RowStats::of(v)))
                            .fold(f32::INFINITY, f32::min),
                    })
                    .collect();
                every.sort_by(hit_order);
                for top in [1, 10, 64, 500] {
                    let hits = db.search_views(&queries, metric, top).unwrap();
                    assert_eq!(
                        hits,
                        every[..top],
                        "{metric}, {} queries, top {top}",
                        queries.len()
                    );
                }
                let kept = db.candidates(&prepared, 10).len();
                assert!(
                    kept < db.len() / 4,
                    "{metric}: {kept} of {} rows measured",
                    db.len()
                );
            }
        }
    }

    /// Query expansion adds each hit's view nearest to the query: the turned copy
    /// found through its view adds that view, not its turned self.
    #[test]
    fn expansion_adds_the_view_nearest_to_the_query() {
        let mut db = Database::new(2, vec![0.0, 1.0, 0.6, -0.8]).unwrap();
        db.add_views(&[0], &[1.0, 0.0]).unwrap();
        // Expanded with row 0's view [1, 0], the query stays [1, 0]: row 1 (0.6, -0.8)
        // stays second. Expanded with row 0 itself it would be [0.71, 0.71].
        let hits = db
            .search_expanded(&[1.0, 0.0], Metric::Cosine, 1, 2)
            .unwrap();
        assert_eq!(hits[0].row, 0);
        assert!((hits[1].distance - 0.4).abs() < 1e-6, "{hits:?}");
    }
}
