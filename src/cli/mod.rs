//! The command line: a thin layer over the library. Errors get their context here
//! (`anyhow`), and per-file failures are reported without stopping the others.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::json;

mod choices;
mod dupes;
mod eval;
mod search;

use lookalike_core::describe::describer::{Describer, DescriberOptions};
use lookalike_core::describe::engine::BackendChoice;
use lookalike_core::describe::model::{self, Network, NetworkWeights};
use lookalike_core::describe::pooling::Pooling;
use lookalike_core::describe::whiten::{self, Whitening};
use lookalike_core::find::intent::Intent;
use lookalike_core::find::views;
use lookalike_core::find::whitening::{self, Problem, Source};
use lookalike_core::index;
use lookalike_core::read::imaging::{CropBox, DEFAULT_MAX_SIDE, LoadOptions};

#[derive(Parser, Debug)]
#[command(
    name = "lookalike",
    version,
    about = "Search your photo library by example (VGG16 SPoC or GoogLeNet pool5 descriptors)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compute descriptors of images (SPoC of VGG16, or GoogLeNet's pool5).
    Describe(DescribeArgs),
    /// Index a photo folder (incremental: only new or changed files are described).
    Index(IndexArgs),
    /// Search an index with a query photo (or a box of one).
    Search(search::SearchArgs),
    /// Group near-duplicate photos of an index; optionally move the extra copies to the
    /// trash or a folder (never deleted; undoable).
    Dupes(dupes::DupesArgs),
    /// Bring back the files of a `dupes --trash / --move-to` batch.
    Undo(dupes::UndoArgs),
    /// Measure retrieval quality (Oxford buildings or category protocol).
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Learn PCA / whitening.
    #[command(subcommand)]
    Whiten(WhitenCommand),
    /// Manage the networks' weights (VGG16, GoogLeNet).
    #[command(subcommand)]
    Model(ModelCommand),
}

/// Where the network comes from and where it runs.
#[derive(Args, Debug, Clone)]
struct EngineArgs {
    /// Weights file (default: $LOOKALIKE_MODEL, or $LOOKALIKE_GOOGLENET_MODEL with
    /// --network googlenet, then the per-user data directory).
    #[arg(long, global = true)]
    model: Option<PathBuf>,
    /// vgg16 (SPoC of conv5_3, 512-d) or googlenet (pool5, 1,024-d; ~5x faster).
    /// Default: the --model file's network, else vgg16.
    #[arg(long, global = true)]
    network: Option<Network>,
    /// auto (GPU if present, else CPU), gpu, cpu, or flex (Burn's CPU backend).
    #[arg(long, default_value = "auto", global = true)]
    backend: BackendChoice,
    /// Shrink images so the longer side is at most this many pixels (0: full size).
    #[arg(long, default_value_t = DEFAULT_MAX_SIDE)]
    max_side: u32,
    /// How VGG16's conv5_3 becomes the descriptor: rmac (regional maximum over 3 scales,
    /// the default: finds more), spoc (the published method's sum; `eval`'s default),
    /// gem or crow. GoogLeNet has its own pool5 only (spoc). A search uses its index's.
    #[arg(long, global = true, value_parser = choices::pooling())]
    pooling: Option<Pooling>,
}

impl EngineArgs {
    fn load_options(&self) -> LoadOptions {
        LoadOptions {
            max_side: (self.max_side > 0).then_some(self.max_side),
            ..LoadOptions::default()
        }
    }

    /// The weights file of `--network` (or `--model`'s, whatever network it holds).
    fn weights(&self) -> anyhow::Result<NetworkWeights> {
        load_weights(self.model.as_deref(), self.network)
    }

    /// `--pooling`, else the product's for `network` (R-MAC for VGG16).
    fn pooling(&self, network: Network) -> Pooling {
        self.pooling.unwrap_or(Pooling::default_for(network))
    }

    /// What `weights` make of images as these arguments say.
    fn provenance(&self, weights: &NetworkWeights) -> index::Provenance {
        let pooling = self.pooling(weights.network());
        index::Provenance::new(weights, self.max_side, pooling)
    }

    fn describer_with(
        &self,
        weights: &NetworkWeights,
        whitening: Option<Whitening>,
    ) -> anyhow::Result<Describer> {
        let network = weights.network();
        let pooling = self.pooling(network);
        if network != Network::Vgg16 && pooling != Pooling::Spoc {
            bail!(
                "--pooling {pooling} pools VGG16's conv5_3; {} has its own pool5 only",
                network.title()
            );
        }
        let describer = Describer::new(
            weights,
            self.backend,
            DescriberOptions {
                load: self.load_options(),
                whitening,
                pooling,
            },
        )
        .with_context(|| format!("starting the {} backend", self.backend))?;
        eprintln!(
            "{} model {} on {}",
            weights.network().title(),
            weights.path().display(),
            describer.engine().label()
        );
        Ok(describer)
    }
}

/// `network`'s weights file from `--model` or where it is looked for by default; with
/// no network asked for, `--model`'s (or else VGG16's). A file of another network than
/// the one asked for is refused, naming the fix.
fn load_weights(model: Option<&Path>, network: Option<Network>) -> anyhow::Result<NetworkWeights> {
    let path = model::resolve_weights_path(model, network.unwrap_or_default())?;
    Ok(match network {
        Some(network) => NetworkWeights::load_as(&path, network)?,
        None => NetworkWeights::load(&path)?,
    })
}

#[derive(Args, Debug)]
struct DescribeArgs {
    /// Image files.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Crop box in original-image pixel corners: x1,y1,x2,y2.
    #[arg(long = "box", value_name = "x1,y1,x2,y2")]
    crop: Option<CropBox>,
    /// Print the raw SPoC sum instead of the normalised descriptor.
    #[arg(long)]
    raw: bool,
    /// Apply this whitening (from `lookalike whiten learn`).
    #[arg(long)]
    whiten: Option<PathBuf>,
    /// One JSON array on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args, Debug)]
struct IndexArgs {
    /// The photo folder (searched recursively).
    dir: PathBuf,
    /// Index file (default: one per folder in the per-user data directory).
    #[arg(long)]
    index: Option<PathBuf>,
    /// Also index hidden folders and files.
    #[arg(long)]
    hidden: bool,
    /// Follow symbolic links to files and folders (off by default: a file reached by
    /// two paths is still indexed once).
    #[arg(long, short = 'L')]
    follow_links: bool,
    /// Ignore an existing index and describe everything again.
    #[arg(long)]
    rebuild: bool,
    /// Drop the descriptions of photos that are gone even when most of the library is
    /// (by default they are kept and the run stops: a drive not connected, an empty
    /// mount point, a folder moved).
    #[arg(long)]
    forget_missing: bool,
    /// Save progress at least this often (seconds), so an interrupted run resumes.
    #[arg(long, default_value_t = 30.0)]
    checkpoint_secs: f64,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
    /// Skip the second pass that describes every photo turned a quarter turn (at 512 px)
    /// and small photos enlarged, which `dupes` needs to find turned and downscaled
    /// copies (about a third as long as the first pass; it is otherwise done by `dupes`).
    #[arg(long)]
    no_variants: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Subcommand, Debug)]
enum WhitenCommand {
    /// Learn mean + projection from a folder of images (searched recursively).
    Learn(WhitenLearnArgs),
}

#[derive(Args, Debug)]
struct WhitenLearnArgs {
    /// Folder of training images (use a different set from the one you search).
    dir: PathBuf,
    /// Output dimension (default and most: the network's, 512 or 1,024).
    #[arg(long)]
    dim: Option<usize>,
    /// 1 = full whitening, 0 = PCA rotation only, in between = partial.
    #[arg(long, default_value_t = 1.0)]
    power: f32,
    /// Output file.
    #[arg(short, long)]
    output: PathBuf,
    /// Folder for the folder's cached descriptors (default: `eval-cache` in the data
    /// directory): learning again with another dimension or power is then instant.
    #[arg(long)]
    cache: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Subcommand, Debug)]
enum ModelCommand {
    /// Convert official weights to our safetensors layout: the Keras conv-only VGG16
    /// `.h5`, or a torchvision GoogLeNet state dict `.pth` (batch norm folded in).
    Import {
        /// vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 or googlenet-1378be20.pth
        input: PathBuf,
        /// Output `.safetensors` (default: the per-user data directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Show which weights file would be used, its network, SHA-256 and preprocessing.
    Info {
        #[arg(long)]
        model: Option<PathBuf>,
        /// vgg16 or googlenet (default: the --model file's, else vgg16).
        #[arg(long)]
        network: Option<Network>,
    },
}

/// Entry point of the `lookalike` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Describe(args) => describe(args),
        Command::Index(args) => index(args),
        Command::Search(args) => search::run(args),
        Command::Dupes(args) => dupes::run(args),
        Command::Undo(args) => dupes::undo(args),
        Command::Eval(command) => eval::run(command),
        Command::Whiten(WhitenCommand::Learn(args)) => whiten_learn(args),
        Command::Model(ModelCommand::Import { input, output }) => model_import(&input, output),
        Command::Model(ModelCommand::Info { model, network }) => {
            model_info(model.as_deref(), network)
        }
    }
}

/// The whitening file `path` (from `lookalike whiten learn`), checked to fit
/// descriptors of `provenance`.
fn load_whitening(
    path: Option<&Path>,
    provenance: &index::Provenance,
) -> anyhow::Result<Option<Whitening>> {
    let Some(path) = path else {
        return Ok(None);
    };
    match whitening::choose(Source::File(path), provenance, None) {
        Ok(chosen) => Ok(chosen.whitening),
        Err(problem @ Problem::OtherPooling { now, .. }) => {
            bail!("{problem}: learn one with `lookalike whiten learn DIR --pooling {now}`")
        }
        Err(problem) => Err(problem.into()),
    }
}

/// The whitening a search or duplicate search applies: `--whiten FILE`; none with
/// `--no-whiten`; otherwise the intent's shape of the shipped PCA, when it was learned
/// with the index's weights (`file_sha256`, or the same tensors in `weights`). Without
/// one, it says so on stderr and what to do.
fn intent_whitening(
    file: Option<&Path>,
    off: bool,
    intent: Intent,
    provenance: &index::Provenance,
    weights: Option<&NetworkWeights>,
) -> anyhow::Result<Option<Whitening>> {
    if off {
        return Ok(None);
    }
    if file.is_some() {
        return load_whitening(file, provenance);
    }
    let weights_sha256 = weights.map(NetworkWeights::weights_sha256).transpose()?;
    let shipped = Source::Shipped(intent.shape());
    match whitening::choose(shipped, provenance, weights_sha256.as_deref()) {
        Ok(chosen) => Ok(chosen.whitening),
        Err(Problem::NoneShipped { pooling }) => {
            eprintln!(
                "warning: no whitening ships for {} descriptors of these weights (sha256 \
                 {}…): using L2 only. Learn one with `lookalike whiten learn DIR --pooling \
                 {pooling}` and pass --whiten FILE",
                pooling.title(),
                provenance.model_sha256.get(..12).unwrap_or_default(),
            );
            Ok(None)
        }
        Err(problem) => Err(problem.into()),
    }
}

fn describe(args: DescribeArgs) -> anyhow::Result<ExitCode> {
    let weights = args.engine.weights()?;
    let whitening = load_whitening(args.whiten.as_deref(), &args.engine.provenance(&weights))?;
    let describer = args.engine.describer_with(&weights, whitening)?;
    let mut records = Vec::with_capacity(args.images.len());
    let mut failures = 0;
    for path in &args.images {
        match describer.describe_path(path, args.crop) {
            Ok(d) => {
                let vector = if args.raw { &d.raw } else { &d.descriptor };
                if !args.json {
                    println!(
                        "{}: {}x{}, {} {}x{}, {}-d {}",
                        path.display(),
                        d.width,
                        d.height,
                        pooled_layer(weights.network()),
                        d.feature_map[0],
                        d.feature_map[1],
                        vector.len(),
                        preview(vector)
                    );
                }
                records.push(json!({
                    "path": path,
                    "width": d.width,
                    "height": d.height,
                    "feature_map": d.feature_map,
                    "descriptor": vector,
                }));
            }
            Err(error) => {
                failures += 1;
                eprintln!("error: {error}");
                records.push(json!({ "path": path, "error": error.to_string() }));
            }
        }
    }
    if args.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, &records)?;
        writeln!(out)?;
    }
    Ok(if failures == args.images.len() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Exit status of `index` when it finished but some files failed.
const EXIT_SOME_FAILED: u8 = 2;
/// Exit status of `index` when it was interrupted (what was done is saved).
pub(super) const EXIT_INTERRUPTED: u8 = 130;

fn index(args: IndexArgs) -> anyhow::Result<ExitCode> {
    let weights = args.engine.weights()?;
    let provenance = args.engine.provenance(&weights);
    let index_path = match &args.index {
        Some(path) => path.clone(),
        None => default_index_path(&args.dir, &provenance)?,
    };
    let describer = args.engine.describer_with(&weights, None)?;
    let mut options = index::IndexOptions::new(args.dir.clone(), index_path.clone());
    options.scan.include_hidden = args.hidden;
    options.scan.follow_links = args.follow_links;
    options.rebuild = args.rebuild;
    options.forget_missing = args.forget_missing;
    options.checkpoint_every = std::time::Duration::try_from_secs_f64(args.checkpoint_secs)
        .context("--checkpoint-secs must be a non-negative number")?;

    let (library, mut summary) = run_indexing(&describer, &provenance, options)
        .with_context(|| format!("indexing {}", args.dir.display()))?;
    if !args.no_variants && !summary.stopped {
        describe_variants(&library, &index_path, &describer)
            .with_context(|| format!("describing the variants of {}", args.dir.display()))?;
        summary.stopped = interrupt_flag().load(Ordering::Relaxed);
    }
    if !summary.stopped {
        prepare_search(&library, &index_path, &weights);
    }
    report_indexing(&summary, &args.dir, &index_path);
    if args.json {
        let mut value = serde_json::to_value(&summary)?;
        value["index"] = json!(index_path);
        println!("{value}");
    }
    Ok(if summary.stopped {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if summary.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SOME_FAILED)
    })
}

/// The folder's index in the per-user data directory; a library found at another path
/// (a drive mounted elsewhere) keeps its descriptions: its index follows it.
fn default_index_path(dir: &Path, provenance: &index::Provenance) -> anyhow::Result<PathBuf> {
    let path = index::default_index_path(dir)
        .context("no per-user data directory on this system; pass --index")?;
    if let Some(folder) = path.parent()
        && let Some(old) = index::adopt_moved(
            folder,
            dir,
            provenance,
            &path,
            &lookalike_core::find::dupes::CACHE_EXTENSIONS,
        )?
    {
        eprintln!(
            "{} was indexed at another path: its index {} is now {}",
            dir.display(),
            old.display(),
            path.display()
        );
    }
    Ok(path)
}

/// Indexing's last stage: the turned and enlarged copies the duplicate finder needs,
/// described and cached beside the index (only new photos).
fn describe_variants(
    library: &index::Index,
    index_path: &Path,
    describer: &Describer,
) -> lookalike_core::Result<()> {
    let started = std::time::Instant::now();
    let described = with_progress(|control| {
        lookalike_core::find::dupes::update_variants(library, index_path, Some(describer), control)
    })
    .unwrap_or_else(|| {
        Err(lookalike_core::Error::Invalid(
            "the variants thread crashed".into(),
        ))
    })?;
    for failure in &described.failures {
        eprintln!(
            "no turned or enlarged copy: {}: {}",
            failure.path.display(),
            failure.reason
        );
    }
    eprintln!(
        "turned and enlarged copies for the duplicate finder: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Indexing's very last step: the search's cache beside the index for the default
/// search (the same scene or object: the shipped whitening, the views), so that the
/// first search after a run opens at once (`views::cached_database`: nothing is done
/// when the cache is already this library's). A cache that cannot be made is said and
/// the run goes on; the search will make it.
fn prepare_search(library: &index::Index, index_path: &Path, weights: &NetworkWeights) {
    let started = std::time::Instant::now();
    let shipped = Source::Shipped(Intent::Instance.shape());
    let sha256 = weights.weights_sha256().ok();
    let whitening = match whitening::choose(shipped, &library.provenance, sha256.as_deref()) {
        Ok(chosen) => chosen.whitening,
        Err(Problem::NoneShipped { .. }) => None,
        Err(_) => return,
    };
    let cached = views::cached_database;
    match cached(library, index_path, whitening.as_ref(), true) {
        Ok((_, views::Cache::Written)) => eprintln!(
            "the search's cache beside the index: {:.1} s",
            started.elapsed().as_secs_f64()
        ),
        Ok((_, views::Cache::Read)) => {}
        Ok((_, views::Cache::NotWritten(e))) | Err(e) => {
            eprintln!("warning: the search's cache was not written: {e}")
        }
    }
}

/// What an indexing run did, on stderr: each file that failed, is damaged, is the same
/// file as another; links not followed; the counts.
fn report_indexing(summary: &index::IndexSummary, dir: &Path, index_path: &Path) {
    if let Some(moved) = &summary.moved_from {
        eprintln!(
            "the library was at {}: its descriptions are kept for {}",
            moved.display(),
            dir.display()
        );
    }
    for failure in &summary.failed {
        eprintln!("failed: {}: {}", failure.path.display(), failure.reason);
    }
    for damaged in &summary.damaged {
        eprintln!(
            "damaged (indexed, searchable): {}: {}",
            damaged.path.display(),
            damaged.reason
        );
    }
    for same in &summary.same_file {
        eprintln!(
            "same file: {} is {} (indexed once)",
            same.path.display(),
            same.same_as.display()
        );
    }
    if summary.links_not_followed > 0 {
        eprintln!(
            "{} symbolic links not followed (pass --follow-links to follow them)",
            summary.links_not_followed
        );
    }
    let damaged = match summary.damaged.len() {
        0 => String::new(),
        n => format!(" ({n} damaged)"),
    };
    eprintln!(
        "{}: {} indexed, {} unchanged, {} removed, {} failed in {:.1} s; {} images{damaged} in {}",
        if summary.stopped {
            "interrupted"
        } else {
            "done"
        },
        summary.indexed,
        summary.unchanged,
        summary.removed,
        summary.failed.len(),
        summary.seconds,
        summary.entries,
        index_path.display()
    );
}

/// The process's Ctrl-C flag: the handler is installed once (a process can have only
/// one) and every run watches the same flag.
pub(super) fn interrupt_flag() -> &'static AtomicBool {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler = Arc::clone(&flag);
        if let Err(error) = ctrlc::set_handler(move || handler.store(true, Ordering::Relaxed)) {
            eprintln!("warning: Ctrl-C will not stop cleanly: {error}");
        }
        flag
    })
}

/// Runs an index update on a worker thread with a progress bar on stderr; Ctrl-C
/// stops it cleanly.
fn run_indexing(
    describer: &Describer,
    provenance: &index::Provenance,
    options: index::IndexOptions,
) -> lookalike_core::Result<(index::Index, index::IndexSummary)> {
    with_progress(|control| index::update_index(describer, provenance, &options, control))
        .unwrap_or_else(|| {
            Err(lookalike_core::Error::Invalid(
                "the indexing thread crashed".into(),
            ))
        })
}

/// Runs `work` on a worker thread with a progress bar on stderr; Ctrl-C raises the stop
/// flag of the [`index::Control`] it is given. `None` if the worker thread crashed.
pub(super) fn with_progress<R: Send>(
    work: impl FnOnce(index::Control<'_>) -> R + Send,
) -> Option<R> {
    let stop = interrupt_flag();
    stop.store(false, Ordering::Relaxed);
    let (tx, rx) = std::sync::mpsc::sync_channel(256);
    std::thread::scope(|scope| {
        // The worker owns the sender: when it returns, the channel closes and
        // `show_progress` ends.
        let worker = scope.spawn(move || work(index::Control::new(stop, &tx)));
        show_progress(&rx);
        worker.join().ok()
    })
}

/// Draws a progress bar (count, images/s, ETA, current file) until the sender is gone.
fn show_progress(rx: &std::sync::mpsc::Receiver<index::Progress>) {
    use index::Progress;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} {per_sec} ETA {eta} {wide_msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    for event in rx.iter() {
        match event {
            Progress::Planned {
                to_describe,
                unchanged,
                removed,
            } => {
                bar.set_length(to_describe as u64);
                bar.println(format!(
                    "{to_describe} to describe, {unchanged} unchanged, {removed} removed"
                ));
            }
            Progress::Step { done, total, path } => {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                bar.set_message(
                    path.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
            Progress::Failed(_) | Progress::Damaged(_) | Progress::Saved { .. } => {}
        }
    }
    bar.finish_and_clear();
}

/// The map a network's descriptor pools, as `describe` names it.
fn pooled_layer(network: Network) -> &'static str {
    match network {
        Network::Vgg16 => "conv5_3",
        Network::GoogLeNet => "inception5b",
    }
}

fn preview(v: &[f32]) -> String {
    let head: Vec<String> = v.iter().take(4).map(|x| format!("{x:.4}")).collect();
    format!("[{}, ...]", head.join(", "))
}

fn whiten_learn(args: WhitenLearnArgs) -> anyhow::Result<ExitCode> {
    let weights = args.engine.weights()?;
    let describer = args.engine.describer_with(&weights, None)?;
    let provenance = args.engine.provenance(&weights);
    let (folder, summary) =
        cached_index(&describer, &provenance, &args.dir, args.cache.as_deref())?;
    if folder.entries.is_empty() {
        bail!("no images found under {}", args.dir.display());
    }
    let dim = args.dim.unwrap_or(weights.network().feature_dim());
    let mut whitening = folder.learn_whitening(dim, args.power)?;
    whitening.origin.extend([
        (whiten::ORIGIN_MODEL.to_string(), weights.sha256()),
        (
            whiten::ORIGIN_WEIGHTS.to_string(),
            weights.weights_sha256()?,
        ),
        ("max_side".to_string(), args.engine.max_side.to_string()),
        ("network".to_string(), weights.network().to_string()),
        (
            whiten::ORIGIN_POOLING.to_string(),
            provenance.pooling.to_string(),
        ),
        (
            "learned_from".to_string(),
            args.dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    ]);
    whitening
        .save(&args.output)
        .with_context(|| format!("saving {}", args.output.display()))?;
    eprintln!(
        "learned {}-d whitening (power {}) from {} images ({} failed) -> {}",
        whitening.dim(),
        whitening.power(),
        whitening.samples,
        summary.failed.len(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Where [`cached_index`] keeps the descriptors of `dir` pooled by `pooling`: in
/// `cache`, else in the data directory's `eval-cache`.
fn cache_path(
    provenance: &index::Provenance,
    pooling: Pooling,
    dir: &Path,
    cache: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    let suffix = match pooling {
        Pooling::Spoc => format!("-s{}", provenance.max_side),
        other => format!("-s{}-{other}", provenance.max_side),
    };
    match cache {
        Some(folder) => Ok(folder.join(index::index_file_name(dir, &suffix))),
        None => index::data_dir_index_path(dir, "eval-cache", &suffix)
            .context("no per-user data directory on this system; pass --cache"),
    }
}

/// `dir`'s descriptors from an index kept in `cache` (default: `eval-cache` in the data
/// directory), brought up to date first: a second run does not run the network again.
/// Failures are printed, and kept in the summary.
fn cached_index(
    describer: &Describer,
    provenance: &index::Provenance,
    dir: &Path,
    cache: Option<&Path>,
) -> anyhow::Result<(index::Index, index::IndexSummary)> {
    let path = cache_path(provenance, describer.options().pooling, dir, cache)?;
    let mut options = index::IndexOptions::new(dir.to_path_buf(), path);
    // The cache belongs to us: start it afresh if the model changed rather than refuse.
    options.unreadable = index::Unreadable::Replace;
    let (index, summary) = run_indexing(describer, provenance, options)
        .with_context(|| format!("describing {}", dir.display()))?;
    for failure in &summary.failed {
        eprintln!("skipped: {}: {}", failure.path.display(), failure.reason);
    }
    if summary.stopped {
        bail!("interrupted");
    }
    eprintln!(
        "{}: {} images ({} described now)",
        dir.display(),
        summary.entries,
        summary.indexed
    );
    Ok((index, summary))
}

fn model_import(input: &Path, output: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let pytorch = input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pth") || e.eq_ignore_ascii_case("pt"));
    let default_name = if pytorch {
        model::googlenet::GOOGLENET_FILE_NAME
    } else {
        model::MODEL_FILE_NAME
    };
    let output = match output {
        Some(path) => path,
        None => model::models_folder()
            .context("no per-user data directory on this system; pass -o")?
            .join(default_name),
    };
    let (path, sha256) = if pytorch {
        let weights = model::googlenet::import_googlenet_pth(input, &output)?;
        (weights.path().to_path_buf(), weights.sha256())
    } else {
        let weights = model::import_keras_h5(input, &output)?;
        (weights.path().to_path_buf(), weights.sha256())
    };
    println!("wrote {} (sha256 {sha256})", path.display());
    Ok(ExitCode::SUCCESS)
}

fn model_info(explicit: Option<&Path>, network: Option<Network>) -> anyhow::Result<ExitCode> {
    let weights = load_weights(explicit, network)?;
    println!("network: {}", weights.network().title());
    println!("path: {}", weights.path().display());
    println!("sha256: {}", weights.sha256());
    println!("preprocessing: {:?}", weights.preprocessing());
    Ok(ExitCode::SUCCESS)
}
