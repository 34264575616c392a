//! `lookalike eval oxford|category`: retrieval quality under the published protocols.
//! Descriptors come from an index per folder kept in the data directory, so a second
//! evaluation of the same folder does not run the network again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::{EngineArgs, cache_path, cached_index, load_whitening, with_progress};
use lookalike_core::describe::describer::Describer;
use lookalike_core::describe::pooling::Pooling;
use lookalike_core::describe::whiten::Whitening;
use lookalike_core::describe::whiten::finish_descriptor;
use lookalike_core::find::dupes;
use lookalike_core::find::eval::{self, OxfordQuery};
use lookalike_core::find::intent::Intent;
use lookalike_core::find::search::{Database, Metric};
use lookalike_core::find::whitening::{self, Problem, Shape, Source};
use lookalike_core::index::{Index, Provenance};

#[derive(Subcommand, Debug)]
pub(super) enum EvalCommand {
    /// Oxford 5k / Paris 6k format: `<q>_query.txt` (image x1 y1 x2 y2) and
    /// `<q>_good|ok|junk.txt` lists; trapezoid AP, mean over queries.
    Oxford(OxfordArgs),
    /// One sub-folder per class; every image queries all the others.
    Category(CategoryArgs),
}

#[derive(Args, Debug)]
pub(super) struct OxfordArgs {
    /// Folder of the database images.
    #[arg(long)]
    images: PathBuf,
    /// Folder of the ground-truth files.
    #[arg(long)]
    gt: PathBuf,
    /// Query with the box of each query file, or with the whole query image.
    #[arg(long, value_enum, default_value_t = QueryKind::Box)]
    query: QueryKind,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
pub(super) struct CategoryArgs {
    /// Folder with one sub-folder of images per class.
    dir: PathBuf,
    /// Precision and recall are measured at this rank.
    #[arg(long, default_value_t = 100)]
    k: usize,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum QueryKind {
    Box,
    Full,
}

#[derive(Args, Debug)]
struct CommonArgs {
    #[arg(long, default_value = "cosine")]
    metric: Metric,
    /// Average query expansion with the K best results (0: off).
    #[arg(long, default_value_t = 0)]
    qe: usize,
    /// Apply this whitening (from `lookalike whiten learn`).
    #[arg(long, conflicts_with = "whiten_from")]
    whiten: Option<PathBuf>,
    /// Apply the shipped whitening as this intent shapes it (`instance`: 512-d, power 1;
    /// `category`: 32-d, power 0), as `search` does by default.
    #[arg(long, value_parser = super::choices::intent(), conflicts_with_all = ["whiten", "whiten_from"])]
    intent: Option<Intent>,
    /// Learn the whitening from this folder (use a different set from the evaluated one).
    #[arg(long)]
    whiten_from: Option<PathBuf>,
    /// Dimension of a whitening learned with --whiten-from (default: the network's,
    /// 512 or 1,024).
    #[arg(long)]
    whiten_dim: Option<usize>,
    /// Power of a whitening learned with --whiten-from (1 full, 0 PCA only).
    #[arg(long, default_value_t = 1.0)]
    whiten_power: f32,
    /// Search for turned copies too: the query is also described turned a quarter each
    /// way, so copies turned by 90 or 270 degrees rank as if upright (as `search` does).
    #[arg(long)]
    rotations: bool,
    /// Search small photos (under 224 px) enlarged 2x too, so downscaled copies meet
    /// their originals at their scale.
    #[arg(long)]
    enlarge: bool,
    /// Evaluate all seven metrics and print one row each.
    #[arg(long)]
    all_metrics: bool,
    /// Folder for the cached descriptors (default: `eval-cache` in the data directory).
    #[arg(long)]
    cache: Option<PathBuf>,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

impl CommonArgs {
    /// `--pooling`, else the published method's SPoC (not the product's R-MAC): an
    /// evaluation reproduces the paper unless asked otherwise.
    fn pooling(&self) -> Pooling {
        self.engine.pooling.unwrap_or(Pooling::Spoc)
    }
}

/// What every evaluation needs: the network, and cached indexes of folders.
struct Session {
    describer: Describer,
    provenance: Provenance,
    weights_sha256: String,
    cache: Option<PathBuf>,
}

impl Session {
    fn new(common: &CommonArgs) -> anyhow::Result<Self> {
        let weights = common.engine.weights()?;
        // The published method's SPoC unless `--pooling` asks for another; each pooling
        // is described and cached apart.
        let engine = EngineArgs {
            pooling: Some(common.pooling()),
            ..common.engine.clone()
        };
        let describer = engine.describer_with(&weights, None)?;
        let provenance = engine.provenance(&weights);
        Ok(Self {
            describer,
            provenance,
            weights_sha256: weights.weights_sha256()?,
            cache: common.cache.clone(),
        })
    }

    /// The folder's index, brought up to date (only new or changed files are described).
    fn index(&self, dir: &Path) -> anyhow::Result<Index> {
        cached_index(
            &self.describer,
            &self.provenance,
            dir,
            self.cache.as_deref(),
        )
        .map(|(index, _)| index)
    }

    /// The database of the folder's index: its photos and, with `--enlarge`, the small
    /// ones' enlarged views (described once, cached beside the index). Turned copies are
    /// found by turning the query (`--rotations`), not by views of the photos.
    fn database(
        &self,
        dir: &Path,
        index: &Index,
        whitening: Option<&Whitening>,
        common: &CommonArgs,
    ) -> anyhow::Result<Database> {
        let mut db = Database::from_index(index, whitening)?;
        if !common.enlarge {
            return Ok(db);
        }
        let pooling = self.describer.options().pooling;
        let path = cache_path(&self.provenance, pooling, dir, self.cache.as_deref())?;
        let enlarged = with_progress(|control| {
            dupes::enlarged_views(index, &path, Some(&self.describer), control)
        })
        .context("the thread describing enlarged photos crashed")?
        .with_context(|| format!("describing the enlarged photos of {}", dir.display()))?;
        for failure in &enlarged.failures {
            eprintln!(
                "no enlarged copy: {}: {}",
                failure.path.display(),
                failure.reason
            );
        }
        if enlarged.missing > 0 {
            bail!("{} photos still lack an enlarged copy", enlarged.missing);
        }
        dupes::add_views(&mut db, index, &enlarged, whitening)?;
        Ok(db)
    }

    fn whitening(&self, common: &CommonArgs) -> anyhow::Result<Option<Whitening>> {
        let index;
        let source = if let Some(intent) = common.intent {
            Source::Shipped(intent.shape())
        } else if let Some(dir) = &common.whiten_from {
            index = self.index(dir)?;
            let dim = common
                .whiten_dim
                .unwrap_or(self.provenance.network.feature_dim());
            let power = common.whiten_power;
            Source::LearnedFrom(&index, Shape { dim, power })
        } else if let Some(file) = &common.whiten {
            return load_whitening(Some(file), &self.provenance);
        } else {
            Source::Off
        };
        match whitening::choose(source, &self.provenance, Some(&self.weights_sha256)) {
            Ok(chosen) => Ok(chosen.whitening),
            Err(problem @ Problem::NoneShipped { .. }) => {
                bail!("{problem}: learn one with --whiten-from DIR")
            }
            Err(problem) => Err(problem.into()),
        }
    }
}

pub(super) fn run(command: EvalCommand) -> anyhow::Result<ExitCode> {
    match command {
        EvalCommand::Oxford(args) => oxford(args),
        EvalCommand::Category(args) => category(args),
    }
}

fn metrics(common: &CommonArgs) -> Vec<Metric> {
    if common.all_metrics {
        Metric::ALL.to_vec()
    } else {
        vec![common.metric]
    }
}

/// Image name without extension, as the Oxford lists use it.
fn stem(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.').map_or(name, |(s, _)| s).to_string()
}

fn oxford(args: OxfordArgs) -> anyhow::Result<ExitCode> {
    let common = &args.common;
    let session = Session::new(common)?;
    let queries = eval::load_oxford_ground_truth(&args.gt)?;
    // The whitening first: a refused one costs no description of the folder.
    let whitening = session.whitening(common)?;
    let index = session.index(&args.images)?;
    let names: Vec<String> = index.entries.iter().map(|e| stem(&e.path)).collect();
    let by_name: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let db = session.database(&args.images, &index, whitening.as_ref(), common)?;
    let described: Vec<(OxfordQuery, Vec<Vec<f32>>)> = queries
        .into_iter()
        .map(|query| {
            let &row = by_name.get(query.image.as_str()).with_context(|| {
                format!(
                    "query image {} is not in {}",
                    query.image,
                    args.images.display()
                )
            })?;
            let raw: Vec<Vec<f32>> = match (args.query, common.rotations) {
                (QueryKind::Full, false) => vec![index.entries[row].raw.clone()],
                (kind, rotations) => {
                    let path = index.absolute(&index.entries[row]);
                    let crop = (kind == QueryKind::Box).then_some(query.crop);
                    session
                        .describer
                        .describe_views(&path, crop, rotations)?
                        .into_iter()
                        .map(|view| view.raw)
                        .collect()
                }
            };
            let views = raw
                .iter()
                .map(|raw| finish_descriptor(raw, whitening.as_ref()))
                .collect();
            Ok((query, views))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut results = BTreeMap::new();
    for metric in metrics(common) {
        let result = eval::evaluate_oxford(&db, &names, &described, metric, common.qe)?;
        if !common.json {
            println!(
                "{:<12} mAP {:.4}  ({} queries, {:?} query, qe {}, {} pooling)",
                metric.as_str(),
                result.map,
                result.queries,
                args.query,
                common.qe,
                common.pooling()
            );
        }
        results.insert(metric.as_str(), result);
    }
    if common.json {
        print_json(results)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn category(args: CategoryArgs) -> anyhow::Result<ExitCode> {
    let common = &args.common;
    let session = Session::new(common)?;
    let whitening = session.whitening(common)?;
    let index = session.index(&args.dir)?;
    let (rows, classes): (Vec<usize>, Vec<String>) = index
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            e.path
                .split_once('/')
                .map(|(class, _)| (i, class.to_string()))
        })
        .unzip();
    if rows.len() < 2 {
        bail!(
            "{} needs one sub-folder of images per class",
            args.dir.display()
        );
    }
    let all = session.database(&args.dir, &index, whitening.as_ref(), common)?;
    let vectors: Vec<f32> = rows.iter().flat_map(|&r| all.row(r).to_vec()).collect();
    let mut db = Database::new(all.dim(), vectors)?;
    for (new_row, &row) in rows.iter().enumerate() {
        for view in all.views_of(row).skip(1) {
            db.add_views(&[new_row], view)?;
        }
    }
    let mut results = BTreeMap::new();
    for metric in metrics(common) {
        let result = eval::evaluate_category(&db, &classes, metric, common.qe, args.k)?;
        if !common.json {
            println!(
                "{:<12} P@{k} {:.4}  R@{k} {:.4}  mAP {:.4}",
                metric.as_str(),
                result.precision_at_k,
                result.recall_at_k,
                result.map,
                k = args.k
            );
        }
        results.insert(metric.as_str(), result);
    }
    if common.json {
        print_json(results)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One metric: its result object; several: `{"metrics": {name: result}}`.
fn print_json<T: serde::Serialize>(results: BTreeMap<&str, T>) -> anyhow::Result<()> {
    let value = if results.len() == 1 {
        serde_json::to_value(results.into_values().next())?
    } else {
        json!({ "metrics": results })
    };
    println!("{value}");
    Ok(())
}
