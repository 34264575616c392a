//! `lookalike search`: rank an index against a query photo or a box of it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::{EngineArgs, intent_whitening, load_weights};
use lookalike_core::describe::engine::BackendChoice;
use lookalike_core::find::intent::Intent;
use lookalike_core::find::search::Metric;
use lookalike_core::find::views;
use lookalike_core::index::{Index, Provenance};
use lookalike_core::read::imaging::CropBox;

#[derive(Args, Debug)]
pub(super) struct SearchArgs {
    /// Index file (from `lookalike index`).
    #[arg(long)]
    index: PathBuf,
    /// The query photo.
    image: PathBuf,
    /// Query only this box of it: x1,y1,x2,y2 in original-image pixel corners.
    #[arg(long = "box", value_name = "x1,y1,x2,y2")]
    crop: Option<CropBox>,
    /// What "similar" means: `instance` (the same scene or object) or `category` (the
    /// same kind of picture); it chooses the whitening and metric.
    #[arg(long, value_parser = super::choices::intent(), default_value = "instance")]
    intent: Intent,
    /// euclidean, cosine, manhattan, braycurtis, canberra, chebyshev or correlation
    /// (default: the intent's).
    #[arg(long)]
    metric: Option<Metric>,
    /// Average query expansion with the K best results (0: off).
    #[arg(long, default_value_t = 0)]
    qe: usize,
    /// Number of results.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Apply this whitening to the query and the index (default: the intent's, from the
    /// whitening that ships with lookalike).
    #[arg(long, conflicts_with = "no_whiten")]
    whiten: Option<PathBuf>,
    /// L2-normalised SPoC only, no whitening.
    #[arg(long)]
    no_whiten: bool,
    /// Rank photos only as they are: not through their turned and enlarged views (which
    /// `lookalike index` describes beside the index), nor the query turned a quarter.
    /// Those views find copies turned by 90 or 270 degrees and small downscaled copies;
    /// they are used by default with the `instance` intent.
    #[arg(long)]
    no_views: bool,
    /// Print `{"results": [{"rank", "path", "distance"}], "seconds"}`.
    #[arg(long)]
    json: bool,
    /// Weights file (must be the one the index was made with; default: where the
    /// index's network's weights are looked for).
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
}

pub(super) fn run(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    // The query must go through the same network, model and image size as the index.
    let provenance = Index::read_provenance(&args.index)?;
    let network = provenance.network;
    let weights = load_weights(args.model.as_deref(), Some(network))?;
    let (max_side, pooling) = (provenance.max_side, provenance.pooling);
    let whitening = intent_whitening(
        args.whiten.as_deref(),
        args.no_whiten,
        args.intent,
        &provenance,
        Some(&weights),
    )?;
    let views = !args.no_views && args.intent == Intent::Instance;
    let views::Opened {
        index,
        database: db,
        cache,
    } = views::open(&args.index, whitening.as_ref(), views)?;
    index.check_provenance(&args.index, &Provenance::new(&weights, max_side, pooling))?;
    if let views::Cache::NotWritten(e) = cache {
        eprintln!(
            "the search's cache beside the index was not written ({e}): searches stay slower to start"
        );
    }
    let metric = args.metric.unwrap_or(args.intent.calibrated().metric);
    let engine = EngineArgs {
        model: args.model.clone(),
        network: Some(network),
        backend: args.backend,
        max_side,
        pooling: Some(pooling),
    };
    let describer = engine.describer_with(&weights, whitening.clone())?;
    let query = describer.describe_views(&args.image, args.crop, views)?;
    let query: Vec<&[f32]> = query.iter().map(|q| q.descriptor.as_slice()).collect();
    let hits = db.search_views_expanded(&query, metric, args.qe, args.top)?;
    let seconds = started.elapsed().as_secs_f64();
    let results: Vec<_> = hits
        .iter()
        .enumerate()
        .map(|(rank, hit)| {
            json!({
                "rank": rank + 1,
                "path": index.absolute(&index.entries[hit.row]),
                "distance": hit.distance,
            })
        })
        .collect();
    if args.json {
        println!("{}", json!({ "results": results, "seconds": seconds }));
    } else {
        for (rank, hit) in hits.iter().enumerate() {
            println!(
                "{:>4}  {:.4}  {}",
                rank + 1,
                hit.distance,
                index.absolute(&index.entries[hit.row]).display()
            );
        }
        eprintln!("{} of {} images in {seconds:.2} s", hits.len(), db.len());
    }
    Ok(ExitCode::SUCCESS)
}
