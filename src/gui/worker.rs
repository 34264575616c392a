//! The one place where the app's commands are carried out.
//!
//! The UI thread only sends [`Command`]s and reads [`Event`]s; this executor thread
//! owns the network, the library's index and database, and the query images. Indexing
//! runs on a thread of its own (with a stop flag) and reports back through the same
//! command channel, so every change of state happens here, in order.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError, channel, sync_channel};
use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::Context as _;
use eframe::egui;
use image::RgbImage;

use super::settings::{Ranking, WhiteningSource};
use lookalike_core::cleanup::{Destination, Indexed, Journal, Report, VerifiedMatch};
use lookalike_core::describe::describer::{Describer, DescriberOptions};
use lookalike_core::describe::engine::BackendChoice;
use lookalike_core::describe::model::{self, Network, NetworkWeights};
use lookalike_core::describe::pooling::Pooling;
use lookalike_core::describe::whiten::Whitening;
use lookalike_core::describe::whiten::finish_descriptor;
use lookalike_core::find::dupes::{self, Variant};
use lookalike_core::find::intent::Intent;
use lookalike_core::find::search::Database;
use lookalike_core::index::{
    self, Entry, Index, IndexOptions, IndexSummary, Partial, Progress, Provenance,
};
use lookalike_core::read::imaging::{self, CropBox};

/// Longer side of the query image as shown in the app (the network gets the original).
pub const QUERY_DISPLAY_SIDE: u32 = 1600;
/// Longer side of the large preview of a result.
pub const PREVIEW_SIDE: u32 = 1600;
/// Fewest photos whitening is learned from; below this the app uses L2 only.
pub const MIN_WHITENING_IMAGES: usize = 32;
/// Events waiting for the UI; progress beyond this is dropped, never waited for.
const EVENT_CAPACITY: usize = 256;

/// What the UI asks for.
#[derive(Debug, Clone)]
pub enum Command {
    /// Load a weights file (`None`: `network`'s, from the usual places; a named file is
    /// used whatever network it holds) on the chosen backend.
    LoadModel {
        path: Option<PathBuf>,
        network: Network,
        backend: BackendChoice,
    },
    /// Index `folder` (incrementally) and make it the library.
    OpenLibrary {
        folder: PathBuf,
        max_side: u32,
        whitening: WhiteningRequest,
        /// Drop the descriptions of photos that are gone, even most of the library (the
        /// user said so after [`Event::PhotosMissing`]).
        forget_missing: bool,
    },
    CancelIndexing,
    /// Stop the duplicate search in progress.
    CancelDuplicates,
    /// Fetch `network`'s official weights (only ever on the user's request), convert
    /// them and load them on `backend`.
    DownloadWeights {
        network: Network,
        backend: BackendChoice,
    },
    /// Learn (or drop) the whitening again for the open library.
    SetWhitening(WhiteningRequest),
    /// Decode a query photo; `id` identifies it in later searches.
    LoadQuery {
        id: u64,
        path: PathBuf,
    },
    /// Rank the library against query `query` (its `crop`, or all of it).
    Search {
        generation: u64,
        query: u64,
        crop: Option<CropBox>,
        ranking: Ranking,
    },
    /// Decode a photo for the large preview.
    LoadPreview {
        path: PathBuf,
    },
    /// Group the library's near-duplicates (the part described so far, while it is
    /// indexed); with `variants`, also quarter-turned and enlarged small copies (those
    /// indexing has described so far).
    FindDuplicates {
        threshold: f32,
        variants: bool,
    },
    /// Move these verified copies of the library to the trash (or the configured
    /// folder), journaled, each checked against its keeper right before moving.
    RemoveFiles {
        matches: Vec<VerifiedMatch>,
    },
    /// Bring back the newest clean-up batch.
    UndoCleanup,
}

/// Whitening as the executor needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct WhiteningRequest {
    pub source: WhiteningSource,
    pub dim: usize,
    pub power: f32,
    /// Search through the photos' turned and enlarged views too (those indexing's
    /// last stage describes), with the query turned as well: copies turned by 90 or
    /// 270 degrees and small downscaled copies rank with their originals.
    pub views: bool,
}

/// Which folder an indexing run is working on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Library,
    /// The folder the whitening is learned from.
    WhiteningFolder,
    /// Describing turned and enlarged photos for the duplicate finder.
    Variants,
    /// Comparing every photo with every other (blocks of rows).
    Grouping,
    /// Moving the chosen copies to the trash (or the clean-up folder).
    CleaningUp,
}

/// What the executor tells the UI.
#[derive(Debug)]
pub enum Event {
    /// The network is ready; the label names the backend and adapter.
    ModelReady {
        label: String,
        path: PathBuf,
        network: Network,
    },
    /// No weights were found, or the chosen file is not usable.
    ModelProblem {
        message: String,
        missing: bool,
    },
    /// Bytes of the weights downloaded so far, of `total`.
    Downloading {
        done: u64,
        total: u64,
    },
    /// The download ended without weights (failed or cancelled).
    DownloadFailed(String),
    Indexing {
        stage: Stage,
        progress: Progress,
    },
    /// The run ended (finished, cancelled, or stopped by an error).
    IndexingEnded {
        folder: PathBuf,
        outcome: JobEnd<IndexSummary>,
        /// Indexing's last stage, the duplicate finder's variants, starts next on its
        /// own job and ends with [`Event::VariantsEnded`].
        variants_follow: bool,
    },
    /// The library can be searched.
    LibraryReady(Arc<Library>),
    QueryLoaded {
        id: u64,
        path: PathBuf,
        /// Size of the EXIF-oriented original, the coordinates of crop boxes.
        width: u32,
        height: u32,
        display: egui::ColorImage,
    },
    QueryFailed {
        id: u64,
        message: String,
    },
    Results {
        generation: u64,
        hits: Vec<ResultItem>,
        seconds: f64,
        /// A first ranking, from the query as it is: the same search's final ranking
        /// follows once the query turned a quarter is described too.
        refining: bool,
    },
    SearchFailed {
        generation: u64,
        message: String,
    },
    Preview {
        path: PathBuf,
        image: egui::ColorImage,
    },
    /// Near-duplicate groups of the library at `threshold`, or why there are none
    /// (cancelled, threshold too loose, failed).
    Duplicates {
        outcome: JobEnd<Vec<DuplicateGroup>>,
        threshold: f32,
        seconds: f64,
    },
    /// The turned and enlarged photos were described after indexing (the number of
    /// photos that could not be), or why not.
    VariantsEnded {
        outcome: JobEnd<usize>,
    },
    /// A clean-up (or its undo) ran, or was stopped (`report.stopped`); the library is
    /// being refreshed.
    Cleanup {
        report: Report,
        undo: bool,
    },
    /// Most of the library's photos are gone since it was indexed (a drive not
    /// connected, a folder moved): their descriptions are kept until the user says to
    /// forget them.
    PhotosMissing {
        folder: PathBuf,
        missing: usize,
        entries: usize,
    },
    /// A clean-up could not start or go on (nothing more was moved); the message names
    /// the file or the journal.
    CleanupFailed(String),
    /// Something worth telling the user that is not tied to one request.
    Notice(String),
}

/// One group of near-duplicates: the finder's group (keeper, verified copies, similar
/// photos and the evidence between them) and its photos, lined up with its members.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateGroup {
    pub photos: Vec<Photo>,
    pub group: dupes::Group,
}

impl DuplicateGroup {
    /// Index into `photos` of the keeper.
    pub fn keeper(&self) -> usize {
        self.group.keeper()
    }
}

/// The searchable library, as the UI sees it.
#[derive(Debug)]
pub struct Library {
    pub folder: PathBuf,
    /// The photos described so far: what a search ranks.
    pub photos: Vec<Photo>,
    /// Photos found but not described yet (while indexing), in the order they will be.
    pub waiting: Vec<PathBuf>,
    /// Indexing has ended: `photos` is the whole library.
    pub complete: bool,
    /// How the descriptors are finished, in words ("L2 only", "PCA-whitened to 128-d ...").
    pub whitening: String,
}

/// One photo of the library.
#[derive(Debug, Clone, PartialEq)]
pub struct Photo {
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub size: u64,
    /// Modification time when indexed (ns since the epoch).
    pub mtime_ns: i128,
    /// The JPEG the camera wrote beside this RAW: the two are shown as one photo.
    pub sibling: Option<PathBuf>,
    /// What is wrong with it (it decoded all the same): marked in the grid.
    pub damage: Option<lookalike_core::read::Damage>,
}

impl Photo {
    /// A photo found but not described yet: only its path is known.
    pub fn waiting(path: PathBuf) -> Self {
        Self {
            path,
            width: 0,
            height: 0,
            size: 0,
            mtime_ns: 0,
            sibling: None,
            damage: None,
        }
    }

    /// Whether this is a [`Photo::waiting`].
    pub fn is_waiting(&self) -> bool {
        self.width == 0 && self.height == 0
    }
}

/// Where the official weights come from and go to.
#[derive(Debug, Clone)]
pub struct WeightsConfig {
    pub vgg16: model::Source,
    pub googlenet: model::Source,
    /// Downloads and the converted files go here.
    pub folder: PathBuf,
}

impl WeightsConfig {
    /// The official sources, files kept in `folder`.
    pub fn official(folder: PathBuf) -> Self {
        Self {
            vgg16: model::Source::official(Network::Vgg16),
            googlenet: model::Source::official(Network::GoogLeNet),
            folder,
        }
    }

    pub fn source(&self, network: Network) -> &model::Source {
        match network {
            Network::Vgg16 => &self.vgg16,
            Network::GoogLeNet => &self.googlenet,
        }
    }
}

/// Where the app keeps its undo journal and sends removed files.
#[derive(Debug, Clone)]
pub struct CleanupConfig {
    pub journal: PathBuf,
    pub destination: Destination,
}

/// One ranked result.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultItem {
    pub rank: usize,
    pub distance: f32,
    pub photo: Photo,
}

/// The UI's end of the executor.
pub struct Worker {
    commands: Sender<Internal>,
    events: Receiver<Event>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the executor; `index_dir` is where library indexes are kept, and
    /// `repaint` is called whenever an event is waiting.
    pub fn spawn(
        index_dir: PathBuf,
        cleanup: CleanupConfig,
        weights: WeightsConfig,
        repaint: egui::Context,
    ) -> anyhow::Result<Self> {
        let (commands, inbox) = channel();
        let (sink, events) = sync_channel(EVENT_CAPACITY);
        let sink = EventSink {
            events: sink,
            repaint,
        };
        let own = commands.clone();
        let thread = std::thread::Builder::new()
            .name("lookalike-executor".into())
            .spawn(move || Executor::new(index_dir, cleanup, weights, sink, own).run(inbox))
            .context("starting the executor thread")?;
        Ok(Self {
            commands,
            events,
            thread: Some(thread),
        })
    }

    pub fn send(&self, command: Command) {
        // The executor lives as long as the worker; a send can only fail after a crash
        // there, which the UI learns about from the missing events.
        let _ = self.commands.send(Internal::Ui(command));
    }

    /// The next waiting event, if any (never blocks).
    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.commands.send(Internal::Shutdown);
        // Keep draining so the executor never blocks on a full event channel.
        if let Some(thread) = self.thread.take() {
            while !thread.is_finished() {
                while self.events.try_recv().is_ok() {}
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            let _ = thread.join();
        }
    }
}

/// Commands from the UI, and the executor's own messages from its helper threads.
enum Internal {
    Ui(Command),
    /// What indexing job `id` has described so far.
    Live {
        id: u64,
        partial: Partial,
    },
    /// Job `id` ended with `outcome`.
    Job {
        id: u64,
        outcome: JobOutcome,
    },
    Shutdown,
}

#[derive(Clone)]
struct EventSink {
    events: SyncSender<Event>,
    repaint: egui::Context,
}

impl EventSink {
    /// Waits for room: for events the UI must not miss.
    fn send(&self, event: Event) {
        let _ = self.events.send(event);
        self.repaint.request_repaint();
    }

    /// Drops the event when the UI is behind: for progress.
    fn offer(&self, event: Event) {
        let _ = self.events.try_send(event);
        self.repaint.request_repaint();
    }

    /// Runs `work` with a progress sender whose updates reach the UI as `stage`.
    fn forward_progress<R>(
        &self,
        stage: Stage,
        work: impl FnOnce(&SyncSender<Progress>) -> R,
    ) -> R {
        let (progress, updates) = sync_channel(64);
        let sink = self.clone();
        let forward = std::thread::spawn(move || {
            for progress in updates {
                sink.offer(Event::Indexing { stage, progress });
            }
        });
        let result = work(&progress);
        drop(progress);
        let _ = forward.join();
        result
    }
}

struct QueryImage {
    id: u64,
    path: PathBuf,
    rgb: RgbImage,
    /// The raw SPoC of the last box described (and, when the library has turned views,
    /// of the box turned a quarter), to re-rank without the network.
    last_raw: Option<(Option<CropBox>, Vec<Vec<f32>>)>,
}

struct Searchable {
    index: Index,
    /// RAW + JPEG pairs: the JPEG's row -> its RAW's row (the JPEG is not shown).
    siblings: HashMap<usize, usize>,
    /// The same pairs the other way: the RAW's row -> its JPEG's row.
    jpeg_of: HashMap<usize, usize>,
    /// Shared with the duplicate search running on its job thread (which reads only
    /// the photos' own rows, not their views).
    database: Arc<Database>,
    /// Whether `database` holds turned views: the query is then turned too.
    turned: bool,
    whitening: Option<Whitening>,
    request: WhiteningRequest,
    /// Files still to describe while the library is being indexed (empty after).
    waiting: Vec<PathBuf>,
    complete: bool,
    /// How the descriptors are finished, in words.
    description: String,
}

/// A background job in progress: one indexing (or download) and one duplicate search
/// at a time, each with its own stop flag.
struct Job {
    id: u64,
    kind: JobKind,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// What a job is doing: how its end is told to the UI when it crashes or is replaced.
#[derive(Debug, Clone, PartialEq)]
enum JobKind {
    Indexing {
        folder: PathBuf,
    },
    /// Describing the turned and enlarged photos after indexing.
    Variants,
    Duplicates {
        threshold: f32,
    },
    /// Moving verified copies away (Cancel stops it between two files).
    Cleanup,
    Download,
}

/// What a job hands back to the executor.
enum JobOutcome {
    Indexed {
        folder: PathBuf,
        outcome: Box<anyhow::Result<(Index, Option<Index>, IndexSummary)>>,
        whitening: WhiteningRequest,
    },
    Duplicates {
        /// The library the rows were taken from ([`Executor::library_serial`]).
        library: u64,
        threshold: f32,
        variants: bool,
        outcome: JobEnd<Vec<dupes::Group>>,
        seconds: f64,
    },
    /// The variants were described: how many photos failed, or why not.
    Variants(JobEnd<usize>),
    /// A clean-up ran (or was stopped: see the report).
    Cleanup(lookalike_core::Result<Report>),
    /// It reported by other means.
    Finished,
    /// It panicked: the job ends with this message.
    Crashed(String),
}

/// How a background job ended: with its result, stopped on request (Cancel, or a newer
/// job of the same kind), or failed, with why.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEnd<T> {
    Done(T),
    Stopped,
    Failed(String),
}

impl<T> JobEnd<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> JobEnd<U> {
        match self {
            Self::Done(value) => JobEnd::Done(f(value)),
            Self::Stopped => JobEnd::Stopped,
            Self::Failed(why) => JobEnd::Failed(why),
        }
    }
}

impl JobEnd<Infallible> {
    /// An end without a result (stopped or failed) as the end of a job of any result.
    pub fn for_any<T>(self) -> JobEnd<T> {
        self.map(|never| match never {})
    }
}

/// Which of the executor's two job slots a job runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Indexing, its variants, or a download.
    Indexing,
    /// The duplicate search, or a clean-up of what it found.
    Grouping,
}

impl Slot {
    fn of(kind: &JobKind) -> Self {
        match kind {
            JobKind::Duplicates { .. } | JobKind::Cleanup => Self::Grouping,
            _ => Self::Indexing,
        }
    }
}

struct Executor {
    index_dir: PathBuf,
    cleanup: CleanupConfig,
    weights: WeightsConfig,
    sink: EventSink,
    own: Sender<Internal>,
    describer: Option<Describer>,
    model_sha256: String,
    /// The loaded weights' network.
    network: Network,
    /// Digest of the weights' tensors: the shipped whitening fits them or not.
    weights_sha256: Option<String>,
    library: Option<Searchable>,
    /// The index of the whitening folder, kept to re-learn with other parameters.
    whitening_index: Option<Index>,
    query: Option<QueryImage>,
    /// Indexing (then its variants) or a download.
    indexing: Option<Job>,
    /// The duplicate search, which may run while the library is being indexed.
    grouping: Option<Job>,
    /// The id of the last job started.
    next_job: u64,
    /// Counts the libraries installed, so a duplicate search on an older one is redone.
    library_serial: u64,
    /// The last duplicate search asked for: done again once the variants are ready.
    last_duplicates: Option<(f32, bool)>,
    /// The whitening and image size of the indexing run in progress.
    growing: Option<(WhiteningRequest, u32)>,
}

impl Executor {
    fn new(
        index_dir: PathBuf,
        cleanup: CleanupConfig,
        weights: WeightsConfig,
        sink: EventSink,
        own: Sender<Internal>,
    ) -> Self {
        Self {
            index_dir,
            cleanup,
            weights,
            sink,
            own,
            describer: None,
            model_sha256: String::new(),
            network: Network::default(),
            weights_sha256: None,
            library: None,
            whitening_index: None,
            query: None,
            indexing: None,
            grouping: None,
            next_job: 0,
            library_serial: 0,
            last_duplicates: None,
            growing: None,
        }
    }

    fn run(mut self, inbox: Receiver<Internal>) {
        let mut queue = VecDeque::new();
        loop {
            if queue.is_empty() {
                match inbox.recv() {
                    Ok(message) => queue.push_back(message),
                    Err(_) => break,
                }
            }
            loop {
                match inbox.try_recv() {
                    Ok(message) => queue.push_back(message),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return self.shutdown(),
                }
            }
            let Some(message) = queue.pop_front() else {
                continue;
            };
            match message {
                Internal::Shutdown => return self.shutdown(),
                Internal::Job { id, outcome } => self.job_ended(id, outcome),
                Internal::Live { id, partial } => {
                    if self.indexing.as_ref().is_some_and(|job| job.id == id) {
                        self.grow_library(partial);
                    }
                }
                Internal::Ui(command) => {
                    // Only the newest search matters: skip superseded ones.
                    let superseded = matches!(command, Command::Search { .. })
                        && queue
                            .iter()
                            .any(|later| matches!(later, Internal::Ui(Command::Search { .. })));
                    if !superseded {
                        // A bug in one command must not take the executor down with it.
                        let what = format!("{command:?}");
                        if let Err(message) =
                            lookalike_core::support::isolate::catch(|| self.execute(command))
                        {
                            let what: String = what.chars().take(80).collect();
                            self.sink.send(Event::Notice(format!(
                                "internal error while carrying out {what}: {message}"
                            )));
                        }
                    }
                }
            }
        }
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop_job(Slot::Indexing);
        self.stop_job(Slot::Grouping);
    }

    fn execute(&mut self, command: Command) {
        match command {
            Command::LoadModel {
                path,
                network,
                backend,
            } => self.load_model(path, network, backend),
            Command::OpenLibrary {
                folder,
                max_side,
                whitening,
                forget_missing,
            } => self.open_library(folder, max_side, whitening, forget_missing),
            Command::CancelIndexing => {
                if let Some(job) = &self.indexing {
                    job.stop.store(true, Ordering::Relaxed);
                }
            }
            Command::CancelDuplicates => {
                if let Some(job) = &self.grouping {
                    job.stop.store(true, Ordering::Relaxed);
                }
            }
            Command::SetWhitening(request) => self.set_whitening(request),
            Command::DownloadWeights { network, backend } => {
                self.download_weights(network, backend)
            }
            Command::LoadQuery { id, path } => self.load_query(id, path),
            Command::Search {
                generation,
                query,
                crop,
                ranking,
            } => {
                let started = Instant::now();
                let first = |sink: &EventSink, hits| {
                    sink.send(Event::Results {
                        generation,
                        hits,
                        seconds: started.elapsed().as_secs_f64(),
                        refining: true,
                    });
                };
                match self.search(query, crop, ranking, first) {
                    Ok(hits) => self.sink.send(Event::Results {
                        generation,
                        hits,
                        seconds: started.elapsed().as_secs_f64(),
                        refining: false,
                    }),
                    Err(error) => self.sink.send(Event::SearchFailed {
                        generation,
                        message: format!("{error:#}"),
                    }),
                }
            }
            Command::LoadPreview { path } => match decode_for_display(&path, PREVIEW_SIDE) {
                Ok(image) => self.sink.send(Event::Preview { path, image }),
                Err(error) => self.sink.send(Event::Notice(format!("{error:#}"))),
            },
            Command::FindDuplicates {
                threshold,
                variants,
            } => self.find_duplicates(threshold, variants),
            Command::RemoveFiles { matches } => self.remove_files(&matches),
            Command::UndoCleanup => self.undo_cleanup(),
        }
    }

    /// Downloads on a job thread (Cancel stops it); on success the executor is asked to
    /// load the converted file like any chosen one.
    fn download_weights(&mut self, network: Network, backend: BackendChoice) {
        if self.indexing.is_some() {
            self.sink.send(Event::DownloadFailed(
                "wait for the work in progress to end, or cancel it".into(),
            ));
            return;
        }
        let folder = self.weights.folder.clone();
        let source = self.weights.source(network).clone();
        let sink = self.sink.clone();
        let own = self.own.clone();
        self.start_job(JobKind::Download, move |flag, _| {
            let output = folder.join(network.file_name());
            let progress = |done, total| sink.offer(Event::Downloading { done, total });
            match model::download_weights(&source, &folder, &output, progress, flag) {
                Ok(_) => {
                    let load = Command::LoadModel {
                        path: Some(output),
                        network,
                        backend,
                    };
                    let _ = own.send(Internal::Ui(load));
                }
                Err(error) => sink.send(Event::DownloadFailed(error.to_string())),
            }
            JobOutcome::Finished
        });
    }

    /// Runs `work` on a job thread with a fresh stop flag and its id; its outcome comes
    /// back as [`Internal::Job`], always, even when it panics. The job in progress in
    /// the same slot is stopped first.
    fn start_job(
        &mut self,
        kind: JobKind,
        work: impl FnOnce(&AtomicBool, u64) -> JobOutcome + Send + 'static,
    ) {
        let slot = Slot::of(&kind);
        self.stop_job(slot);
        self.next_job += 1;
        let id = self.next_job;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let own = self.own.clone();
        let name = match &kind {
            JobKind::Indexing { .. } => "indexer",
            JobKind::Variants => "variants",
            JobKind::Duplicates { .. } => "duplicates",
            JobKind::Cleanup => "cleanup",
            JobKind::Download => "download",
        };
        let spawned = std::thread::Builder::new()
            .name(format!("lookalike-{name}"))
            .spawn(move || {
                let outcome = lookalike_core::support::isolate::catch(|| work(&flag, id))
                    .unwrap_or_else(JobOutcome::Crashed);
                let _ = own.send(Internal::Job { id, outcome });
            });
        match spawned {
            Ok(thread) => {
                *self.slot(slot) = Some(Job {
                    id,
                    kind,
                    stop,
                    thread,
                })
            }
            Err(error) => self.job_unfinished(
                &kind,
                JobEnd::Failed(format!("could not start it: {error}")),
            ),
        }
    }

    fn slot(&mut self, slot: Slot) -> &mut Option<Job> {
        match slot {
            Slot::Indexing => &mut self.indexing,
            Slot::Grouping => &mut self.grouping,
        }
    }

    /// Stops the job in progress in `slot`, if any, and waits for its thread. A job
    /// stopped this way is reported as stopped, so the UI does not wait for it.
    fn stop_job(&mut self, slot: Slot) {
        if let Some(job) = self.slot(slot).take() {
            job.stop.store(true, Ordering::Relaxed);
            let _ = job.thread.join();
            if let JobKind::Duplicates { .. } | JobKind::Variants | JobKind::Cleanup = job.kind {
                self.job_unfinished(&job.kind, JobEnd::Stopped);
            }
        }
    }

    /// Tells the UI that a job of `kind` ended without its result: stopped or failed.
    fn job_unfinished(&mut self, kind: &JobKind, end: JobEnd<Infallible>) {
        let message = match &end {
            JobEnd::Failed(why) => why.clone(),
            _ => "stopped".to_string(),
        };
        match kind {
            JobKind::Indexing { folder } => self.sink.send(Event::IndexingEnded {
                folder: folder.clone(),
                outcome: end.for_any(),
                variants_follow: false,
            }),
            JobKind::Variants => self.sink.send(Event::VariantsEnded {
                outcome: end.for_any(),
            }),
            JobKind::Duplicates { threshold } => self.sink.send(Event::Duplicates {
                outcome: end.for_any(),
                threshold: *threshold,
                seconds: 0.0,
            }),
            JobKind::Cleanup => self.sink.send(Event::CleanupFailed(message)),
            JobKind::Download => self.sink.send(Event::DownloadFailed(message)),
        }
    }

    fn job_ended(&mut self, id: u64, outcome: JobOutcome) {
        // A job replaced by a newer one was stopped and joined then: its result is stale.
        let slot = [Slot::Indexing, Slot::Grouping]
            .into_iter()
            .find(|&slot| self.slot(slot).as_ref().is_some_and(|job| job.id == id));
        let Some(job) = slot.and_then(|slot| self.slot(slot).take()) else {
            return;
        };
        let _ = job.thread.join();
        match outcome {
            JobOutcome::Indexed {
                folder,
                outcome,
                whitening,
            } => self.indexing_done(folder, *outcome, whitening),
            JobOutcome::Variants(outcome) => {
                self.attach_views();
                self.sink.send(Event::VariantsEnded { outcome });
                // Groups found before the variants were ready may miss turned copies.
                if let Some((threshold, true)) = self.last_duplicates {
                    self.find_duplicates(threshold, true);
                }
            }
            JobOutcome::Duplicates {
                library,
                threshold,
                variants,
                outcome,
                seconds,
            } => self.duplicates_found(library, threshold, variants, outcome, seconds),
            JobOutcome::Cleanup(Ok(report)) => self.cleanup_done(report, false),
            JobOutcome::Cleanup(Err(error)) => self
                .sink
                .send(Event::CleanupFailed(format!("clean-up stopped: {error}"))),
            JobOutcome::Finished => {}
            JobOutcome::Crashed(message) => self.job_unfinished(
                &job.kind,
                JobEnd::Failed(format!("internal error: {message}")),
            ),
        }
    }

    /// Starts the duplicate search as a job (Cancel stops it), on the photos described
    /// so far (the whole library once it is indexed), compared as "the same scene or
    /// object" whatever the search's intent: with `variants`, also the turned and
    /// enlarged photos that indexing has described so far.
    fn find_duplicates(&mut self, threshold: f32, variants: bool) {
        self.last_duplicates = Some((threshold, variants));
        let Some(library) = &self.library else {
            self.sink
                .send(Event::Notice("open a library folder first".into()));
            self.job_unfinished(
                &JobKind::Duplicates { threshold },
                JobEnd::Failed("no library is open".into()),
            );
            return;
        };
        let whitening = self.duplicate_whitening(library);
        let database = (whitening.as_ref() == library.whitening.as_ref())
            .then(|| Arc::clone(&library.database));
        let job = DuplicatesJob {
            index: library.index.clone(),
            index_path: self.library_index_path(&library.index),
            database,
            whitening,
            variants,
            sink: self.sink.clone(),
            threshold,
        };
        let serial = self.library_serial;
        self.start_job(JobKind::Duplicates { threshold }, move |stop, _| {
            let started = Instant::now();
            let outcome = job.run(stop);
            JobOutcome::Duplicates {
                library: serial,
                threshold,
                variants,
                outcome,
                seconds: started.elapsed().as_secs_f64(),
            }
        });
    }

    /// The whitening duplicates are compared with: the shipped one as the thresholds
    /// were calibrated (512-d, power 1), or the library's when it does not fit the
    /// weights.
    fn duplicate_whitening(&self, library: &Searchable) -> Option<Whitening> {
        Intent::Instance
            .shipped_whitening(
                library.index.provenance.pooling,
                &self.model_sha256,
                self.weights_sha256.as_deref(),
            )
            .or_else(|| library.whitening.clone())
    }

    /// Where the app keeps the index of the library folder `root`.
    fn library_index_path(&self, index: &Index) -> PathBuf {
        index::library_index_path(&self.index_dir, &index.root, &index.provenance, "")
    }

    /// Turns the rows the job grouped into photos with suggested keepers for the UI.
    fn duplicates_found(
        &mut self,
        serial: u64,
        threshold: f32,
        variants: bool,
        outcome: JobEnd<Vec<dupes::Group>>,
        seconds: f64,
    ) {
        if serial != self.library_serial {
            // The library changed while the job ran: its rows are another library's.
            return self.find_duplicates(threshold, variants);
        }
        let Some(library) = &self.library else {
            return;
        };
        let entries = &library.index.entries;
        let outcome = outcome.map(|groups| {
            groups
                .into_iter()
                .map(|group| DuplicateGroup {
                    photos: group
                        .members()
                        .iter()
                        .map(|m| photo(&library.index, &entries[m.row]))
                        .collect(),
                    group,
                })
                .collect()
        });
        self.sink.send(Event::Duplicates {
            outcome,
            threshold,
            seconds,
        });
    }

    /// Moves the verified copies away through [`Journal::remove`], which checks every
    /// file and its keeper on disk first, as a job (Cancel stops it between two files).
    /// Only photos of the library, as indexed.
    fn remove_files(&mut self, matches: &[VerifiedMatch]) {
        let Some(library) = &self.library else {
            self.job_unfinished(
                &JobKind::Cleanup,
                JobEnd::Failed("no library is open".into()),
            );
            return;
        };
        let index = &library.index;
        let indexed: HashSet<Indexed> = index
            .entries
            .iter()
            .map(|e| Indexed::from_entry(index, e))
            .collect();
        let (known, unknown): (Vec<VerifiedMatch>, Vec<VerifiedMatch>) = matches
            .iter()
            .cloned()
            .partition(|m| indexed.contains(m.file()) && indexed.contains(m.keeper()));
        let journal = Journal::new(self.cleanup.journal.clone());
        let destination = self.cleanup.destination.clone();
        let sink = self.sink.clone();
        self.start_job(JobKind::Cleanup, move |stop, _| {
            let removed = sink.forward_progress(Stage::CleaningUp, |progress| {
                journal.remove(&known, &destination, progress, stop)
            });
            JobOutcome::Cleanup(removed.map(|mut report| {
                report.skipped.extend(unknown.into_iter().map(|m| {
                    index::Failure::new(
                        m.file().path.clone(),
                        "it (or its keeper) is not in the library's index as it was verified: \
                         it stays",
                    )
                }));
                report
            }))
        });
    }

    fn undo_cleanup(&mut self) {
        let journal = Journal::new(self.cleanup.journal.clone());
        let undone = journal.last_undoable().and_then(|batch| match batch {
            Some(batch) => journal.undo(batch).map(Some),
            None => Ok(None),
        });
        match undone {
            Ok(Some(report)) => self.cleanup_done(report, true),
            Ok(None) => self.sink.send(Event::Notice("nothing to undo".into())),
            Err(error) => self
                .sink
                .send(Event::CleanupFailed(format!("undo stopped: {error}"))),
        }
    }

    /// Tells the UI and brings the library up to date with the moved files.
    fn cleanup_done(&mut self, report: Report, undo: bool) {
        self.sink.send(Event::Cleanup { report, undo });
        if let Some(library) = &self.library {
            let folder = library.index.root.clone();
            let max_side = library.index.provenance.max_side;
            let request = library.request.clone();
            self.open_library(folder, max_side, request, false);
        }
    }

    fn load_model(&mut self, path: Option<PathBuf>, network: Network, backend: BackendChoice) {
        let missing = path.is_none();
        let folder = Some(self.weights.folder.as_path());
        let loaded = model::resolve_weights_path_in(path.as_deref(), network, folder)
            .map_err(|e| (e.to_string(), missing))
            .and_then(|path| {
                let (path, weights) = self
                    .import_if_official(path)
                    .map_err(|e| (e.to_string(), false))?;
                let describer = Describer::new(&weights, backend, DescriberOptions::default())
                    .map_err(|e| (format!("starting the {backend} backend: {e}"), false))?;
                Ok((path, weights, describer))
            });
        match loaded {
            Ok((path, weights, describer)) => {
                let label = describer.engine().label();
                let sha256 = weights.sha256();
                if self.model_sha256 != sha256 {
                    // Descriptors of another network cannot be compared with these.
                    self.library = None;
                }
                self.model_sha256 = sha256;
                self.weights_sha256 = weights.weights_sha256().ok();
                self.network = weights.network();
                self.describer = Some(describer);
                if let Some(query) = &mut self.query {
                    query.last_raw = None;
                }
                self.sink.send(Event::ModelReady {
                    label,
                    path,
                    network: self.network,
                });
            }
            Err((message, missing)) => {
                self.sink.send(Event::ModelProblem { message, missing });
            }
        }
    }

    /// Loads a weights file of either network. An official file as published (Keras'
    /// `.h5`, torchvision's `.pth`) is converted once into the weights folder, and the
    /// converted file used.
    fn import_if_official(
        &self,
        path: PathBuf,
    ) -> lookalike_core::Result<(PathBuf, NetworkWeights)> {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        let convert_to = |network: Network| self.weights.folder.join(network.file_name());
        Ok(match extension.as_deref() {
            Some("h5") => {
                let output = convert_to(Network::Vgg16);
                let weights = model::import_keras_h5(&path, &output)?;
                (output, weights.into())
            }
            Some("pth" | "pt") => {
                let output = convert_to(Network::GoogLeNet);
                let weights = model::googlenet::import_googlenet_pth(&path, &output)?;
                (output, weights.into())
            }
            _ => {
                let weights = NetworkWeights::load(&path)?;
                (path, weights)
            }
        })
    }

    /// What the loaded network makes of images shrunk to `max_side`, pooled the
    /// product's way (R-MAC for VGG16). A library indexed otherwise (before R-MAC) is
    /// described again when opened.
    fn provenance(&self, max_side: u32) -> Provenance {
        Provenance {
            model_sha256: self.model_sha256.clone(),
            max_side,
            network: self.network,
            pooling: Pooling::default_for(self.network),
        }
    }

    fn open_library(
        &mut self,
        folder: PathBuf,
        max_side: u32,
        whitening: WhiteningRequest,
        forget_missing: bool,
    ) {
        self.stop_job(Slot::Indexing);
        let Some(describer) = &self.describer else {
            self.sink.send(Event::IndexingEnded {
                folder,
                outcome: JobEnd::Failed(
                    "the network is not loaded yet: choose the weights first".into(),
                ),
                variants_follow: false,
            });
            return;
        };
        let provenance = self.provenance(max_side);
        let describer = describer.with_options(DescriberOptions::for_index(&provenance));
        let job = IndexJob {
            describer,
            provenance,
            index_dir: self.index_dir.clone(),
            sink: self.sink.clone(),
            forget_missing,
        };
        let own = self.own.clone();
        self.growing = Some((whitening.clone(), max_side));
        self.start_job(
            JobKind::Indexing {
                folder: folder.clone(),
            },
            move |stop, id| {
                let mut live = |partial| {
                    let _ = own.send(Internal::Live { id, partial });
                };
                let outcome = job.run(&folder, &whitening.source, stop, &mut live);
                JobOutcome::Indexed {
                    folder,
                    outcome: Box::new(outcome),
                    whitening,
                }
            },
        );
    }

    fn indexing_done(
        &mut self,
        folder: PathBuf,
        outcome: anyhow::Result<(Index, Option<Index>, IndexSummary)>,
        whitening: WhiteningRequest,
    ) {
        match outcome {
            Ok((index, whitening_index, summary)) => {
                let stopped = summary.stopped;
                // The user may have chosen another whitening while it ran.
                let whitening = self
                    .growing
                    .take()
                    .map_or(whitening, |(request, _)| request);
                self.sink.send(Event::IndexingEnded {
                    folder,
                    outcome: JobEnd::Done(summary),
                    variants_follow: !stopped,
                });
                self.whitening_index = whitening_index;
                self.install_library(index, &whitening);
                if !stopped {
                    self.describe_variants();
                }
            }
            Err(error) => {
                if let Some(&lookalike_core::Error::PhotosMissing {
                    missing, entries, ..
                }) = error.downcast_ref::<lookalike_core::Error>()
                {
                    self.sink.send(Event::PhotosMissing {
                        folder: folder.clone(),
                        missing,
                        entries,
                    });
                }
                self.sink.send(Event::IndexingEnded {
                    folder,
                    outcome: JobEnd::Failed(format!("{error:#}")),
                    variants_follow: false,
                })
            }
        }
    }

    /// The last stage of indexing, on its own job (progress, Cancel): the library's
    /// photos turned a quarter turn and its small photos enlarged, described for the
    /// duplicate finder and cached beside the index (only new photos next time).
    fn describe_variants(&mut self) {
        let (Some(library), Some(describer)) = (&self.library, &self.describer) else {
            // The UI shows this stage from the end of indexing on: end it there too.
            self.sink.send(Event::VariantsEnded {
                outcome: JobEnd::Failed("no library or network is loaded".into()),
            });
            return;
        };
        // `update_variants` describes them the index's way (size, pooling) itself.
        let describer = describer.clone();
        let index = library.index.clone();
        let index_path = self.library_index_path(&index);
        let sink = self.sink.clone();
        self.start_job(JobKind::Variants, move |stop, _| {
            let described = sink.forward_progress(Stage::Variants, |progress| {
                dupes::update_variants(&index, &index_path, Some(&describer), progress, stop)
            });
            JobOutcome::Variants(match described {
                Err(error) => JobEnd::Failed(error.to_string()),
                Ok(_) if stop.load(Ordering::Relaxed) => JobEnd::Stopped,
                // Each failure reached the failed-files list as progress.
                Ok(described) => JobEnd::Done(described.failures.len()),
            })
        });
    }

    /// The library as indexing finds and describes it: searchable (and shown) from the
    /// first photo on. Whitening that must be learned from the photos waits for the end;
    /// meanwhile the shipped one (or none) is used.
    fn grow_library(&mut self, partial: Partial) {
        match partial {
            Partial::Planned {
                root,
                kept,
                waiting,
            } => {
                // Only the indexing job of the run in progress sends these (see `run`).
                let Some((request, max_side)) = self.growing.clone() else {
                    return;
                };
                let mut index = Index::new(root, self.provenance(max_side));
                index.entries = kept;
                self.library_serial += 1;
                self.library = Some(Searchable {
                    siblings: HashMap::new(),
                    jpeg_of: HashMap::new(),
                    database: Arc::default(),
                    turned: false,
                    whitening: None,
                    request: request.clone(),
                    waiting,
                    complete: false,
                    index,
                    description: String::new(),
                });
                self.rewhiten_growing(request);
            }
            Partial::Described(entries) => {
                let Some(library) = self.library.as_mut().filter(|l| !l.complete) else {
                    return;
                };
                Arc::make_mut(&mut library.database).extend(&entries, library.whitening.as_ref());
                let root = library.index.root.clone();
                let done: std::collections::HashSet<PathBuf> =
                    entries.iter().map(|e| root.join(&e.path)).collect();
                library.waiting.retain(|path| !done.contains(path));
                library.index.entries.extend(entries);
                self.publish_library();
            }
        }
    }

    /// Finishes the growing library's descriptors again for `request` (or, when that
    /// must be learned from photos, the shipped whitening until indexing ends).
    fn rewhiten_growing(&mut self, request: WhiteningRequest) {
        let Some(library) = &self.library else {
            return;
        };
        let interim = match &request.source {
            WhiteningSource::Off | WhiteningSource::Shipped => request.clone(),
            _ => WhiteningRequest {
                source: WhiteningSource::Shipped,
                ..request.clone()
            },
        };
        let (whitening, description) = self
            .learn_whitening(&library.index, &interim)
            .unwrap_or((None, "L2 only".into()));
        let Ok(database) = Database::from_index(&library.index, whitening.as_ref()) else {
            return;
        };
        if let Some(library) = &mut self.library {
            library.database = Arc::new(database);
            library.whitening = whitening;
            library.request = request;
            library.description = format!("{description} (while indexing)");
        }
        self.publish_library();
    }

    /// Tells the UI about the library as it is now.
    fn publish_library(&mut self) {
        let Some(library) = &mut self.library else {
            return;
        };
        library.siblings = dupes::raw_jpeg_siblings(&library.index.entries);
        library.jpeg_of = library
            .siblings
            .iter()
            .map(|(&jpeg, &raw)| (raw, jpeg))
            .collect();
        let index = &library.index;
        // A RAW + JPEG pair is one photo: the RAW, with its JPEG named.
        let photos = (0..index.entries.len())
            .filter(|row| !library.siblings.contains_key(row))
            .map(|row| paired_photo(index, &library.jpeg_of, row))
            .collect();
        let shown = Library {
            folder: index.root.clone(),
            photos,
            waiting: library.waiting.clone(),
            complete: library.complete,
            whitening: library.description.clone(),
        };
        self.sink.send(Event::LibraryReady(Arc::new(shown)));
    }

    fn set_whitening(&mut self, request: WhiteningRequest) {
        if let Some((growing, _)) = &mut self.growing
            && self.library.as_ref().is_some_and(|l| !l.complete)
        {
            // Indexing goes on: the new whitening applies now to what is described, and
            // fully when it ends.
            *growing = request.clone();
            return self.rewhiten_growing(request);
        }
        let Some(library) = self.library.take() else {
            return;
        };
        let folder_needed = matches!(request.source, WhiteningSource::Folder(_));
        let have_folder = self.whitening_index.as_ref().map(|i| i.root.as_path())
            == match &request.source {
                WhiteningSource::Folder(f) => f.canonicalize().ok(),
                _ => None,
            }
            .as_deref();
        if folder_needed && !have_folder {
            // The whitening folder must be indexed first: do it as a normal run.
            let folder = library.index.root.clone();
            let max_side = library.index.provenance.max_side;
            self.library = Some(library);
            self.open_library(folder, max_side, request, false);
            return;
        }
        self.install_library(library.index, &request);
    }

    /// Learns the whitening, builds the database and tells the UI.
    fn install_library(&mut self, index: Index, request: &WhiteningRequest) {
        let (whitening, description) = match self.learn_whitening(&index, request) {
            Ok(pair) => pair,
            Err(message) => {
                self.sink.send(Event::Notice(message));
                (None, "L2 only".to_string())
            }
        };
        let database = match self.database_with_views(&index, whitening.as_ref(), request) {
            Ok(database) => database,
            Err(error) => {
                self.sink.send(Event::Notice(format!(
                    "the library {} cannot be searched: {error}",
                    index.root.display()
                )));
                return;
            }
        };
        if let Some(query) = &mut self.query {
            // The query's box must be described again at the library's image size.
            query.last_raw = None;
        }
        self.library_serial += 1;
        let (database, turned) = database;
        self.library = Some(Searchable {
            index,
            siblings: HashMap::new(),
            jpeg_of: HashMap::new(),
            database: Arc::new(database),
            turned,
            whitening,
            request: request.clone(),
            waiting: Vec::new(),
            complete: true,
            description,
        });
        self.publish_library();
    }

    fn learn_whitening(
        &self,
        library: &Index,
        request: &WhiteningRequest,
    ) -> Result<(Option<Whitening>, String), String> {
        let source = match &request.source {
            WhiteningSource::Off => return Ok((None, "L2 only".into())),
            WhiteningSource::Shipped => {
                let shipped = lookalike_core::describe::whiten::shipped(
                    library.provenance.pooling,
                    &self.model_sha256,
                    self.weights_sha256.as_deref(),
                )
                .ok_or(
                    "the shipped whitening was learned with other weights: choose \
                     \"learned from this library\" in Settings (using L2 only)",
                )?;
                let dim = request.dim.clamp(1, shipped.dim());
                let whitening = shipped
                    .with_shape(dim, request.power)
                    .map_err(|e| format!("{e}: using L2 only"))?;
                return Ok((
                    Some(whitening),
                    format!(
                        "shipped whitening, {dim}-d (power {}), learned on {} photos of {}",
                        request.power,
                        shipped.samples,
                        shipped
                            .origin
                            .get("learned_from")
                            .map_or("another set", String::as_str)
                    ),
                ));
            }
            WhiteningSource::Library => library,
            WhiteningSource::Folder(_) => self
                .whitening_index
                .as_ref()
                .ok_or("the whitening folder has not been indexed")?,
        };
        let n = source.entries.len();
        if n < MIN_WHITENING_IMAGES {
            return Err(format!(
                "whitening needs at least {MIN_WHITENING_IMAGES} photos to learn from, {} has {n}: using L2 only",
                source.root.display()
            ));
        }
        // PCA can keep at most n - 1 directions.
        let dim = request.dim.clamp(1, n - 1).min(self.network.feature_dim());
        let whitening = source
            .learn_whitening(dim, request.power)
            .map_err(|e| format!("learning the whitening failed: {e}: using L2 only"))?;
        let what = if request.power == 0.0 {
            "PCA"
        } else {
            "PCA-whitened"
        };
        Ok((
            Some(whitening),
            format!(
                "{what} to {dim}-d (power {}), learned on {n} photos of {}",
                request.power,
                source.root.display()
            ),
        ))
    }

    /// The final descriptors of `index`, with the turned and enlarged views cached
    /// beside its index file when `request` asks for them; whether turned views are in.
    fn database_with_views(
        &self,
        index: &Index,
        whitening: Option<&Whitening>,
        request: &WhiteningRequest,
    ) -> lookalike_core::Result<(Database, bool)> {
        let mut database = Database::from_index(index, whitening)?;
        if !request.views {
            return Ok((database, false));
        }
        let index_path = self.library_index_path(index);
        let turned = dupes::add_cached_views(&mut database, index, &index_path, whitening)?;
        Ok((database, turned))
    }

    /// Once indexing's last stage has described the views, search uses them.
    fn attach_views(&mut self) {
        let Some(library) = self
            .library
            .as_ref()
            .filter(|l| l.complete && l.request.views)
        else {
            return;
        };
        match self.database_with_views(&library.index, library.whitening.as_ref(), &library.request)
        {
            Ok((database, turned)) => {
                if let Some(library) = &mut self.library {
                    library.database = Arc::new(database);
                    library.turned = turned;
                }
            }
            Err(error) => self.sink.send(Event::Notice(format!(
                "turned and small copies are not searched: {error}"
            ))),
        }
    }

    fn load_query(&mut self, id: u64, path: PathBuf) {
        let decoded = lookalike_core::support::isolate::per_file(&path, || {
            imaging::decode_file(&path, imaging::DEFAULT_MAX_PIXELS)
        });
        match decoded {
            Ok(rgb) => {
                let display = display_image(&rgb, QUERY_DISPLAY_SIDE);
                let (width, height) = rgb.dimensions();
                self.query = Some(QueryImage {
                    id,
                    path: path.clone(),
                    rgb,
                    last_raw: None,
                });
                self.sink.send(Event::QueryLoaded {
                    id,
                    path,
                    width,
                    height,
                    display,
                });
            }
            Err(error) => self.sink.send(Event::QueryFailed {
                id,
                message: format!("{error:#}"),
            }),
        }
    }

    /// Ranks the library for the query (its box when `ranking.use_box`). When the
    /// library has turned views, the query turned a quarter is described too: that
    /// second pass of the network doubles the time to the final ranking, so the ranking
    /// from the query as it is goes to `first` before it.
    fn search(
        &mut self,
        query_id: u64,
        crop: Option<CropBox>,
        ranking: Ranking,
        first: impl FnOnce(&EventSink, Vec<ResultItem>),
    ) -> anyhow::Result<Vec<ResultItem>> {
        let library = self
            .library
            .as_ref()
            .context("open a library folder first")?;
        let query = self
            .query
            .as_mut()
            .filter(|q| q.id == query_id)
            .context("the query photo is no longer loaded")?;
        let crop = crop.filter(|_| ranking.use_box);
        let views = usize::from(library.turned) + 1;
        if let Some((described, raw)) = &query.last_raw
            && *described == crop
            && raw.len() == views
        {
            return rank(library, raw, ranking);
        }
        let describer = self
            .describer
            .as_ref()
            .context("the network is not loaded")?
            .with_options(DescriberOptions::for_index(&library.index.provenance));
        let max_side = library.index.provenance.max_side;
        let image = imaging::prepare(&query.path, &query.rgb, crop, Some(max_side))?;
        let describe = |image: &imaging::LoadedImage| {
            lookalike_core::support::isolate::per_file(&query.path, || describer.spoc(image))
                .map(|s| s.raw)
        };
        let mut raw = vec![describe(&image)?];
        if library.turned {
            first(&self.sink, rank(library, &raw, ranking)?);
            let rgb = image::imageops::rotate90(&image.rgb);
            raw.push(describe(&imaging::LoadedImage { rgb, ..image })?);
        }
        let hits = rank(library, &raw, ranking)?;
        query.last_raw = Some((crop, raw));
        Ok(hits)
    }
}

/// The library ranked for the query's raw SPoC views (the query as it is, then turned),
/// a RAW + JPEG pair shown once, as its RAW.
fn rank(
    library: &Searchable,
    raw: &[Vec<f32>],
    ranking: Ranking,
) -> anyhow::Result<Vec<ResultItem>> {
    let descriptors: Vec<Vec<f32>> = raw
        .iter()
        .map(|raw| finish_descriptor(raw, library.whitening.as_ref()))
        .collect();
    let descriptors: Vec<&[f32]> = descriptors.iter().map(Vec::as_slice).collect();
    // Leave room for the JPEGs of pairs, which are dropped.
    let hits = library.database.search_views_expanded(
        &descriptors,
        ranking.metric,
        ranking.qe_k,
        ranking.top + library.siblings.len().min(ranking.top),
    )?;
    Ok(hits
        .iter()
        .filter(|hit| !library.siblings.contains_key(&hit.row))
        .take(ranking.top)
        .enumerate()
        .map(|(rank, hit)| ResultItem {
            rank: rank + 1,
            distance: hit.distance,
            photo: paired_photo(&library.index, &library.jpeg_of, hit.row),
        })
        .collect())
}

/// The duplicate search: the variants indexing has described (if asked), then the
/// grouping.
struct DuplicatesJob {
    index: Index,
    index_path: PathBuf,
    /// The library's database when it has the duplicates' whitening; else made here.
    database: Option<Arc<Database>>,
    whitening: Option<Whitening>,
    variants: bool,
    sink: EventSink,
    threshold: f32,
}

impl DuplicatesJob {
    fn run(self, stop: &AtomicBool) -> JobEnd<Vec<dupes::Group>> {
        match self.group(stop) {
            Ok(groups) => JobEnd::Done(groups),
            Err(_) if stop.load(Ordering::Relaxed) => JobEnd::Stopped,
            Err(why) => JobEnd::Failed(why),
        }
    }

    fn group(self, stop: &AtomicBool) -> Result<Vec<dupes::Group>, String> {
        let finish = |index: &Index| {
            Database::from_index(index, self.whitening.as_ref()).map_err(|e| e.to_string())
        };
        let db = match &self.database {
            Some(db) => Arc::clone(db),
            None => Arc::new(finish(&self.index)?),
        };
        // Only what is cached: indexing describes the variants and makes the
        // thumbnails, never this job.
        let (unused, _) = sync_channel(1);
        let mut others = Vec::new();
        let thumbnails = if self.variants {
            let cached = dupes::update_variants(&self.index, &self.index_path, None, &unused, stop)
                .map_err(|e| e.to_string())?;
            for (variant, aligned) in cached.aligned {
                others.push((variant, finish(&aligned)?));
            }
            cached.thumbnails
        } else {
            dupes::update_thumbnails(&self.index, &self.index_path, None, &unused, stop)
                .map_err(|e| e.to_string())?
                .aligned
        };
        if stop.load(Ordering::Relaxed) {
            return Err(dupes::GroupingError::Stopped.to_string());
        }
        let views: Vec<(Variant, &[f32])> = others.iter().map(|(v, o)| (*v, o.rows())).collect();
        let rule = dupes::Rule::calibrated(self.index.provenance.pooling, self.variants)
            .with_threshold(self.threshold);
        self.sink
            .forward_progress(Stage::Grouping, |progress| {
                let control = dupes::Control {
                    stop,
                    progress: Some(progress),
                    ..dupes::Control::unattended()
                };
                dupes::find(
                    &self.index,
                    db.rows(),
                    db.dim(),
                    &views,
                    &thumbnails,
                    rule,
                    &control,
                )
            })
            .map_err(|e| e.to_string())
    }
}

/// One indexing run: the library, then the whitening folder if one is chosen.
struct IndexJob {
    describer: Describer,
    provenance: Provenance,
    index_dir: PathBuf,
    sink: EventSink,
    forget_missing: bool,
}

impl IndexJob {
    fn run(
        &self,
        folder: &Path,
        whitening: &WhiteningSource,
        stop: &AtomicBool,
        live: &mut dyn FnMut(Partial),
    ) -> anyhow::Result<(Index, Option<Index>, IndexSummary)> {
        let (library, summary) = self.index_folder(folder, Stage::Library, "", stop, live)?;
        if summary.stopped {
            return Ok((library, None, summary));
        }
        let whitening_index = match whitening {
            WhiteningSource::Folder(other) => {
                let (index, _) =
                    self.index_folder(other, Stage::WhiteningFolder, "-whiten", stop, &mut |_| {})?;
                Some(index)
            }
            _ => None,
        };
        Ok((library, whitening_index, summary))
    }

    fn index_folder(
        &self,
        folder: &Path,
        stage: Stage,
        suffix: &str,
        stop: &AtomicBool,
        live: &mut dyn FnMut(Partial),
    ) -> anyhow::Result<(Index, IndexSummary)> {
        if !folder.is_dir() {
            anyhow::bail!(
                "{} is not a folder (was it moved or deleted?)",
                folder.display()
            );
        }
        lookalike_core::support::isolate::injected_fault(folder);
        std::fs::create_dir_all(&self.index_dir)
            .with_context(|| format!("creating {}", self.index_dir.display()))?;
        let index_path =
            index::library_index_path(&self.index_dir, folder, &self.provenance, suffix);
        // A library found at another path (a drive mounted elsewhere) keeps its index.
        let adopted = index::adopt_moved(
            &self.index_dir,
            folder,
            &self.provenance,
            &index_path,
            &dupes::CACHE_EXTENSIONS,
        )
        .with_context(|| format!("keeping the index of {}", folder.display()))?;
        if adopted.is_none() && !index_path.exists() {
            self.tell_if_described_again(folder, suffix);
        }
        let mut options = IndexOptions::new(folder.to_path_buf(), index_path);
        // Never replaced: an index the app cannot read is moved aside, and said so.
        options.unreadable = index::Unreadable::SetAside;
        options.forget_missing = self.forget_missing;
        let updated = self.sink.forward_progress(stage, |progress| {
            index::update_index_live(
                &self.describer,
                &self.provenance,
                &options,
                progress,
                stop,
                live,
            )
        });
        let (index, summary) = updated.with_context(|| format!("indexing {}", folder.display()))?;
        if let Some(aside) = &summary.set_aside {
            self.sink.send(Event::Notice(format!(
                "{} could not be read ({}); it is kept as {} and the folder is described \
                 again",
                aside.from.display(),
                aside.reason,
                aside.to.display()
            )));
        }
        if let Some(was) = &summary.moved_from {
            self.sink.send(Event::Notice(format!(
                "{} was indexed at {}: its descriptions are kept",
                folder.display(),
                was.display()
            )));
        }
        Ok((index, summary))
    }

    /// Says why every photo is to be described when the folder's index was made with
    /// other settings (a library indexed before R-MAC became the default): that index
    /// is kept as it is, and a new one made beside it.
    fn tell_if_described_again(&self, folder: &Path, suffix: &str) {
        let legacy = self.index_dir.join(index::legacy_index_name(
            folder,
            self.provenance.network,
            suffix,
        ));
        let Ok(before) = Index::read_provenance(&legacy) else {
            return;
        };
        let now = self.provenance.pooling;
        if before.pooling != now && before.network == self.provenance.network {
            self.sink.send(Event::Notice(format!(
                "{}: its photos were described with {} before; describing them again \
                 with {}, which finds more (you can search while it runs; the {} index \
                 is kept)",
                folder.display(),
                before.pooling.title(),
                now.title(),
                before.pooling.title()
            )));
        }
    }
}

fn photo(index: &Index, entry: &Entry) -> Photo {
    Photo {
        path: index.absolute(entry),
        width: entry.width,
        height: entry.height,
        size: entry.size,
        mtime_ns: entry.mtime_ns,
        sibling: None,
        damage: entry.damage,
    }
}

/// Row `row` as the grid shows it: a RAW names the JPEG the camera wrote beside it.
fn paired_photo(index: &Index, jpeg_of: &HashMap<usize, usize>, row: usize) -> Photo {
    Photo {
        sibling: jpeg_of
            .get(&row)
            .map(|&jpeg| index.absolute(&index.entries[jpeg])),
        ..photo(index, &index.entries[row])
    }
}

/// Decodes (EXIF-oriented) and shrinks a photo for display: `(width, height, image)`
/// with the original's size.
/// A crash in the decoder is this photo's error (see [`lookalike_core::support::isolate`]).
pub fn decode_for_display(path: &Path, side: u32) -> lookalike_core::Result<egui::ColorImage> {
    lookalike_core::support::isolate::per_file(path, || {
        let (_, _, rgb) = imaging::decode_for_side(path, imaging::DEFAULT_MAX_PIXELS, side)?;
        Ok(display_image(&rgb, side))
    })
}

/// `rgb` shrunk to at most `side` pixels on its longer side, as egui wants it.
pub fn display_image(rgb: &RgbImage, side: u32) -> egui::ColorImage {
    let shrunk;
    let shown = match imaging::fitted_size(rgb.width(), rgb.height(), side) {
        Some((w, h)) => {
            shrunk = imaging::resize_rgb(rgb, w, h);
            &shrunk
        }
        None => rgb,
    };
    egui::ColorImage::from_rgb(
        [shown.width() as usize, shown.height() as usize],
        shown.as_raw(),
    )
}
