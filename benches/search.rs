//! Exact search latency over 1,000,000 random L2-normalised 512-d descriptors (2 GB),
//! top 100, one query at a time; divan's median is the p50. Also a library's load:
//! 100,000 rows whitened one by one or as blocks of one matrix product.
//!
//! Run: `cargo bench --profile dev --bench search`.

use std::sync::OnceLock;

use divan::Bencher;
use lookalike_core::describe::vectors::l2_normalize;
use lookalike_core::describe::whiten::{Whitening, finish_descriptor, finish_descriptors};
use lookalike_core::find::search::{Database, Metric};
use rayon::prelude::*;

const ROWS: usize = 1_000_000;
const DIM: usize = 512;

fn main() {
    divan::main();
}

fn random_unit(seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v: Vec<f32> = (0..DIM)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Non-negative like SPoC sums, so every metric is meaningful.
            (state >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect();
    l2_normalize(&mut v);
    v
}

fn database() -> &'static Database {
    static DB: OnceLock<Database> = OnceLock::new();
    DB.get_or_init(|| {
        let rows: Vec<Vec<f32>> = (0..ROWS as u64).into_par_iter().map(random_unit).collect();
        Database::new(DIM, rows.concat()).expect("database")
    })
}

fn bench(bencher: Bencher, metric: Metric) {
    let db = database();
    let queries: Vec<Vec<f32>> = (0..16).map(|i| random_unit(u64::MAX - i)).collect();
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % queries.len();
        db.search(&queries[i], metric, 100).expect("search")
    });
}

#[divan::bench(sample_count = 15, sample_size = 1)]
fn cosine_1m(bencher: Bencher) {
    bench(bencher, Metric::Cosine);
}

/// The same 1,000,000 photos each with one view (its turned copy, as the instance
/// intent searches them), searched with the query and the query turned: every photo
/// ranks by the nearest of its two descriptors to either of the query's.
fn database_with_views() -> &'static Database {
    static DB: OnceLock<Database> = OnceLock::new();
    DB.get_or_init(|| {
        let rows: Vec<Vec<f32>> = (0..ROWS as u64).into_par_iter().map(random_unit).collect();
        let views: Vec<Vec<f32>> = (0..ROWS as u64)
            .into_par_iter()
            .map(|i| random_unit(i + ROWS as u64))
            .collect();
        let mut db = Database::new(DIM, rows.concat()).expect("database");
        let owners: Vec<usize> = (0..ROWS).collect();
        db.add_views(&owners, &views.concat()).expect("views");
        db
    })
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn cosine_1m_with_views(bencher: Bencher) {
    let db = database_with_views();
    let queries: Vec<Vec<f32>> = (0..16).map(|i| random_unit(u64::MAX - i)).collect();
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 2) % queries.len();
        let views = [queries[i].as_slice(), queries[i + 1].as_slice()];
        db.search_views(&views, Metric::Cosine, 100)
            .expect("search")
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn manhattan_1m(bencher: Bencher) {
    bench(bencher, Metric::Manhattan);
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn euclidean_1m(bencher: Bencher) {
    bench(bencher, Metric::Euclidean);
}

/// 32-d "PCA-reduced" vectors: variance decaying with the dimension, the case most
/// favourable to a kd-tree (`kiddo`). Compared with our exact scan on the same data.
const PCA_DIM: usize = 32;

fn pca_like(seed: u64) -> [f32; PCA_DIM] {
    let v = random_unit(seed);
    std::array::from_fn(|i| (v[i] - 0.044) / (1.0 + i as f32))
}

fn pca_points() -> &'static Vec<[f32; PCA_DIM]> {
    static POINTS: OnceLock<Vec<[f32; PCA_DIM]>> = OnceLock::new();
    POINTS.get_or_init(|| (0..ROWS as u64).into_par_iter().map(pca_like).collect())
}

#[divan::bench(sample_count = 15, sample_size = 1)]
fn scan_euclidean_1m_32d(bencher: Bencher) {
    static DB: OnceLock<Database> = OnceLock::new();
    let db = DB.get_or_init(|| {
        Database::new(PCA_DIM, pca_points().iter().flatten().copied().collect()).expect("db")
    });
    let queries: Vec<[f32; PCA_DIM]> = (0..16).map(|i| pca_like(u64::MAX - i)).collect();
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % queries.len();
        db.search(&queries[i], Metric::Euclidean, 100)
            .expect("search")
    });
}

#[divan::bench(sample_count = 15, sample_size = 1)]
fn kiddo_euclidean_1m_32d(bencher: Bencher) {
    static TREE: OnceLock<kiddo::ImmutableKdTree<f32, PCA_DIM>> = OnceLock::new();
    let tree =
        TREE.get_or_init(|| kiddo::ImmutableKdTree::new_from_slice(pca_points()).expect("kd-tree"));
    let queries: Vec<[f32; PCA_DIM]> = (0..16).map(|i| pca_like(u64::MAX - i)).collect();
    let hundred = std::num::NonZeroUsize::new(100).expect("non-zero");
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % queries.len();
        tree.query(&queries[i])
            .nearest_n::<kiddo::SquaredEuclidean<f32>>(hundred)
            .execute()
    });
}

/// Duplicate grouping of 20,000 whitened-like descriptors (zero-mean, so unrelated
/// photos are far apart as after whitening; every 10th row has a near-copy) at the
/// default threshold, plain and with one variant set (as `--rotations` adds).
const DUPES_ROWS: usize = 20_000;

fn dupes_rows() -> &'static Vec<f32> {
    static ROWS: OnceLock<Vec<f32>> = OnceLock::new();
    ROWS.get_or_init(|| {
        (0..DUPES_ROWS as u64)
            .into_par_iter()
            .flat_map_iter(|i| {
                // Rows 10k and 10k + 1 share a base: a near-copy pair.
                let base = random_unit(if i % 10 == 1 { i - 1 } else { i });
                let noise = random_unit(i + 1_000_000);
                let mut v: Vec<f32> = base
                    .iter()
                    .zip(&noise)
                    .map(|(b, n)| (b - 0.044) + 0.01 * (n - 0.044))
                    .collect();
                l2_normalize(&mut v);
                v
            })
            .collect()
    })
}

/// An index whose entries line up with `dupes_rows` (the finder reads their files and
/// sizes, not their descriptors).
fn dupes_index() -> &'static lookalike_core::index::Index {
    static INDEX: std::sync::OnceLock<lookalike_core::index::Index> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = lookalike_core::index::Index::new(
            "/photos".into(),
            lookalike_core::index::Provenance {
                model_sha256: "ab".repeat(32),
                max_side: 1024,
                network: lookalike_core::describe::model::Network::Vgg16,
                pooling: lookalike_core::describe::pooling::Pooling::Rmac,
            },
        );
        index.entries = (0..dupes_rows().len() / DIM)
            .map(|i| lookalike_core::index::Entry {
                path: format!("{i}.jpg"),
                size: i as u64,
                mtime_ns: 0,
                file: lookalike_core::support::safefs::FileId {
                    device: 1,
                    inode: i as u64,
                },
                via_link: false,
                width: 1000,
                height: 750,
                feature_map: [1, 1],
                raw: Vec::new(),
                damage: None,
            })
            .collect();
        index
    })
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn duplicate_groups_20k(bencher: Bencher) {
    let rows = dupes_rows();
    let rule = lookalike_core::find::dupes::Rule::calibrated(
        lookalike_core::describe::pooling::Pooling::Spoc,
        false,
    );
    bencher.bench_local(|| {
        lookalike_core::find::dupes::find(
            dupes_index(),
            lookalike_core::find::dupes::Described {
                rows,
                dim: DIM,
                views: &[],
                unwhitening: None,
            },
            &[],
            rule,
            &lookalike_core::find::dupes::Keeping::default(),
            lookalike_core::index::Control::unattended(),
        )
    });
}

/// Verifying one candidate pair (its distance as it is and through one view, and the
/// photos around either photo), on the 20,000 descriptors: 1,000 pairs per sample.
#[divan::bench(sample_count = 10)]
fn verify_1000_pairs(bencher: Bencher) {
    let rows = dupes_rows();
    let rule = lookalike_core::find::dupes::Rule::calibrated(
        lookalike_core::describe::pooling::Pooling::Spoc,
        true,
    );
    let views = [(
        lookalike_core::find::dupes::Variant::QuarterTurn,
        rows.as_slice(),
    )];
    let control = lookalike_core::index::Control::unattended();
    let (verifier, _) = lookalike_core::find::dupes::Verifier::new(
        lookalike_core::find::dupes::Described {
            rows,
            dim: DIM,
            views: &views,
            unwhitening: None,
        },
        rule,
        control,
    )
    .unwrap();
    let n = rows.len() / DIM;
    bencher.bench_local(|| {
        (0..1000usize)
            .map(|i| {
                verifier
                    .check((i * 7919) % n, (i * 104_729 + 1) % n)
                    .verified
            })
            .filter(|&v| v)
            .count()
    });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn duplicate_groups_20k_with_variants(bencher: Bencher) {
    let rows = dupes_rows();
    let rule = lookalike_core::find::dupes::Rule::calibrated(
        lookalike_core::describe::pooling::Pooling::Spoc,
        true,
    );
    bencher.bench_local(|| {
        lookalike_core::find::dupes::find(
            dupes_index(),
            lookalike_core::find::dupes::Described {
                rows,
                dim: DIM,
                views: &[(
                    lookalike_core::find::dupes::Variant::QuarterTurn,
                    rows.as_slice(),
                )],
                unwhitening: None,
            },
            &[],
            rule,
            &lookalike_core::find::dupes::Keeping::default(),
            lookalike_core::index::Control::unattended(),
        )
    });
}

/// Rows of the whitening benches: a 100,000-photo library's load.
const WHITEN_ROWS: usize = 100_000;

/// 100,000 raw descriptors and a full 512-d whitening learned from 2,000 others.
fn whitening_input() -> &'static (Vec<Vec<f32>>, Whitening) {
    static INPUT: OnceLock<(Vec<Vec<f32>>, Whitening)> = OnceLock::new();
    INPUT.get_or_init(|| {
        let rows = (0..WHITEN_ROWS as u64)
            .into_par_iter()
            .map(random_unit)
            .collect();
        let learn: Vec<Vec<f32>> = (0..2000).map(|i| random_unit(u64::MAX / 2 - i)).collect();
        let whitening = Whitening::learn(&learn, DIM, 1.0).expect("whitening");
        (rows, whitening)
    })
}

/// A library's rows finished (L2, whitening, L2) one matrix-vector product at a time,
/// on all cores: how `Database::from_index` did it before.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn whiten_100k_per_row(bencher: Bencher) {
    let (rows, whitening) = whitening_input();
    bencher.bench_local(|| {
        rows.par_iter()
            .flat_map_iter(|raw| finish_descriptor(raw, Some(whitening)))
            .collect::<Vec<f32>>()
    });
}

/// The same rows as one SGEMM per block of rows (`finish_descriptors`, what
/// `Database::from_index` does now).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn whiten_100k_sgemm(bencher: Bencher) {
    let (rows, whitening) = whitening_input();
    let raws: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
    bencher.bench_local(|| finish_descriptors(&raws, Some(whitening)));
}
