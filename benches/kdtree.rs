//! `kiddo`'s kd-tree against the exact scan for the *Same kind of picture* intent's
//! case: 32-d PCA-like descriptors (variance decaying with the dimension, as PCA leaves
//! it: the most favourable case for a kd-tree; on whitened 512-d descriptors it prunes
//! nothing). At 100,000 and 1,000,000 rows, 300 queries each, top 100, Euclidean: p50
//! and p99 of each, and whether the two return the same rows (required before kiddo
//! could replace the scan anywhere). One figure a line, `name: value unit`.
//!
//! Run: `cargo bench --profile dev --bench kdtree`.

use std::num::NonZeroUsize;
use std::time::Instant;

use lookalike_core::find::search::{Database, Metric};
use rayon::prelude::*;

const DIM: usize = 32;
const QUERIES: u64 = 300;
const TOP: usize = 100;

fn main() {
    for rows in [100_000, 1_000_000] {
        run(rows);
    }
}

/// A PCA-like point: uniform noise scaled down by `1 + i` along direction `i`.
fn point(seed: u64) -> [f32; DIM] {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    std::array::from_fn(|i| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) / (1.0 + i as f32)
    })
}

/// p50 and p99 of `times` (milliseconds).
fn percentiles(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    (at(0.50), at(0.99))
}

fn run(rows: usize) {
    let name = format!("{}k", rows / 1000);
    let points: Vec<[f32; DIM]> = (0..rows as u64).into_par_iter().map(point).collect();
    let db = Database::new(DIM, points.iter().flatten().copied().collect()).expect("database");
    let started = Instant::now();
    let tree = kiddo::ImmutableKdTree::<f32, DIM>::new_from_slice(&points).expect("kd-tree");
    println!(
        "kdtree_{name}_build_ms: {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let top = NonZeroUsize::new(TOP).expect("non-zero");
    let (mut scan, mut kd, mut same) = (Vec::new(), Vec::new(), 0);
    for q in 0..QUERIES {
        let query = point(u64::MAX - q);
        let started = Instant::now();
        let hits = db.search(&query, Metric::Euclidean, TOP).expect("search");
        scan.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        let nearest = tree
            .query(&query)
            .nearest_n::<kiddo::SquaredEuclidean<f32>>(top)
            .execute();
        kd.push(started.elapsed().as_secs_f64() * 1e3);
        let mut a: Vec<u64> = hits.iter().map(|h| h.row as u64).collect();
        let mut b: Vec<u64> = nearest.iter().map(|n| u64::from(n.item)).collect();
        a.sort_unstable();
        b.sort_unstable();
        same += usize::from(a == b);
    }
    let ((scan50, scan99), (kd50, kd99)) = (percentiles(scan), percentiles(kd));
    println!("scan_{name}_p50_ms: {scan50:.2} ms");
    println!("scan_{name}_p99_ms: {scan99:.2} ms");
    println!("kdtree_{name}_p50_ms: {kd50:.2} ms");
    println!("kdtree_{name}_p99_ms: {kd99:.2} ms");
    println!("kdtree_{name}_same_rows: {same} of {QUERIES} queries");
}
