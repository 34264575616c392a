//! The main window: toolbar, query with its crop box, results grid, settings, status.
//!
//! Everything here is drawing and bookkeeping: work goes to the executor
//! ([`super::worker`]) and the thumbnail pool ([`super::thumbs`]) as commands, and
//! their answers come back as events read at the start of each frame.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{self, Color32, RichText, Vec2};

use super::crop::CropEditor;
use super::dialogs::{self, Dialogs, Purpose};
use super::dupes_view::{DupesAction, DupesView};
use super::executor::Worker;
use super::protocol::{
    CleanupConfig, Command, Event, JobEnd, Library, Photo, ResultItem, Stage, WeightsConfig,
    WhiteningRequest,
};
use super::settings::{Ranking, STORAGE_KEY, Settings, WhiteningSource};
use super::thumbs::{Thumb, Thumbnails};
use lookalike_core::cleanup::Destination;
use lookalike_core::describe::engine::BackendChoice;
use lookalike_core::describe::model::Network;
use lookalike_core::find::intent::Intent;
use lookalike_core::find::search::Metric;
use lookalike_core::index::{Failure, FailureKind, IndexSummary, Progress};
use lookalike_core::read::imaging::{CropBox, has_image_extension};

/// Quiet time after the last change of box or settings before searching again.
const SEARCH_DEBOUNCE_S: f64 = 0.25;
/// Size of a thumbnail cell in the grid, in points.
const CELL: f32 = 168.0;
/// While indexing, the grid and the results take in newly described photos at most
/// this often (and never while the pointer is over them).
const LIVE_REFRESH: Duration = Duration::from_secs(3);

/// Where the app keeps its files; tests point these at temporary folders.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Library indexes.
    pub index_dir: PathBuf,
    /// Thumbnails.
    pub cache_dir: PathBuf,
    pub thumbnail_threads: usize,
    /// Settings to start with instead of the saved ones (tests).
    pub settings: Option<Settings>,
    /// The undo journal of duplicate clean-ups.
    pub journal: PathBuf,
    /// Where removed duplicates go: the system trash (a folder in tests).
    pub trash: Destination,
    /// The official weights' address and where they go (a local server in tests).
    pub weights: WeightsConfig,
}

impl AppConfig {
    /// The per-user data and cache folders.
    pub fn for_user() -> anyhow::Result<Self> {
        let dirs = directories::ProjectDirs::from("", "", "lookalike")
            .ok_or_else(|| anyhow::anyhow!("no home folder: cannot place the index and cache"))?;
        Ok(Self {
            index_dir: dirs.data_dir().join("indexes"),
            cache_dir: dirs.cache_dir().to_path_buf(),
            thumbnail_threads: std::thread::available_parallelism().map_or(2, |n| n.get().min(4)),
            settings: None,
            journal: dirs.data_dir().join("undo-journal.jsonl"),
            trash: Destination::Trash,
            weights: WeightsConfig::official(dirs.data_dir().join("models")),
        })
    }
}

/// Where the network stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelState {
    Loading,
    Ready {
        label: String,
        path: PathBuf,
    },
    /// The first-run dialog is shown with this message.
    Problem {
        message: String,
        missing: bool,
    },
}

/// An indexing run in progress.
#[derive(Debug, Clone)]
struct IndexingView {
    folder: PathBuf,
    stage: Stage,
    started: Instant,
    /// Images to describe in this run (after the scan).
    total: Option<usize>,
    done: usize,
    current: Option<PathBuf>,
    cancelling: bool,
}

struct QueryView {
    id: u64,
    path: PathBuf,
    /// The EXIF-oriented original's size.
    size: Vec2,
    texture: Option<egui::TextureHandle>,
    crop: CropEditor,
}

#[derive(Default)]
struct ResultsView {
    hits: Vec<ResultItem>,
    seconds: f64,
    error: Option<String>,
    /// Results of this search generation are current.
    generation: u64,
    /// A first ranking: the final one (with the query turned too) is on its way.
    refining: bool,
}

/// What a search depends on; a new one is sent when this changes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SearchKey {
    query: u64,
    crop: Option<CropBox>,
    ranking: Ranking,
    library: u64,
}

#[derive(Default)]
struct Scheduler {
    sent: Option<SearchKey>,
    waiting: Option<(SearchKey, f64)>,
    generation: u64,
}

impl IndexingView {
    fn new(folder: PathBuf, stage: Stage) -> Self {
        Self {
            folder,
            stage,
            started: Instant::now(),
            total: None,
            done: 0,
            current: None,
            cancelling: false,
        }
    }
}

struct PreviewView {
    item: ResultItem,
}

/// The app's state; `eframe` calls [`eframe::App::ui`] every frame.
pub struct LookalikeApp {
    settings: Settings,
    worker: Worker,
    thumbs: Thumbnails,
    dialogs: Dialogs,
    model: ModelState,
    weights_input: String,
    folder_input: String,
    library: Option<Arc<Library>>,
    library_generation: u64,
    /// A newer state of the library, waiting for its moment ([`LIVE_REFRESH`]).
    incoming_library: Option<Arc<Library>>,
    library_shown_at: Option<Instant>,
    /// Where the results grid was drawn last frame.
    results_rect: Option<egui::Rect>,
    /// A newer library waits only because the pointer is over the results.
    held_by_pointer: bool,
    /// The duplicate search in progress (it may run while indexing goes on).
    grouping: Option<IndexingView>,
    /// The library whose photos are mostly gone (a drive not connected): `(folder,
    /// missing, indexed)`, until the user forgets them or keeps them.
    missing_photos: Option<(PathBuf, usize, usize)>,
    /// Indexing's last stage (the turned and small photos) has ended for this library.
    variants_ready: bool,
    /// The whitening the executor was last asked for.
    applied_whitening: Option<WhiteningRequest>,
    /// A folder opened before the network was ready.
    pending_folder: Option<PathBuf>,
    indexing: Option<IndexingView>,
    last_run: Option<(PathBuf, IndexSummary)>,
    failures: Vec<Failure>,
    show_failures: bool,
    show_settings: bool,
    query: Option<QueryView>,
    next_query_id: u64,
    results: ResultsView,
    scheduler: Scheduler,
    preview: Option<PreviewView>,
    /// Messages for the user, newest last, each dismissible.
    notices: Vec<String>,
    /// The longest frame (time in `ui`) since the app started.
    slowest_frame: Duration,
    view: View,
    dupes: DupesView,
    /// Large decoded photos (preview, compare), most recent last.
    large: Vec<(PathBuf, egui::TextureHandle)>,
    /// Two photos shown side by side at one zoom.
    compare: Option<(PathBuf, PathBuf)>,
    compare_zoom: f32,
    /// The weights download in progress: bytes done and total.
    download: Option<(u64, u64)>,
    download_error: Option<String>,
}

/// What the central area shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Search,
    Duplicates,
}

/// Large photos kept as textures.
const LARGE_TEXTURES: usize = 6;

impl LookalikeApp {
    /// Starts the executor and the thumbnail pool, restores the settings and asks for
    /// the network.
    pub fn new(cc: &eframe::CreationContext<'_>, config: AppConfig) -> anyhow::Result<Self> {
        lookalike_core::support::guard::forbid_heavy_work_here();
        let settings: Settings = config
            .settings
            .or_else(|| {
                cc.storage
                    .and_then(|storage| eframe::get_value(storage, STORAGE_KEY))
            })
            .unwrap_or_default();
        let ctx = cc.egui_ctx.clone();
        let cleanup = CleanupConfig {
            journal: config.journal,
            destination: config.trash,
        };
        let worker = Worker::spawn(config.index_dir, cleanup, config.weights, ctx.clone())?;
        let thumbs = Thumbnails::spawn(config.cache_dir, config.thumbnail_threads, ctx)?;
        worker.send(Command::LoadModel {
            path: settings.model.clone(),
            network: settings.network,
            backend: settings.backend,
        });
        Ok(Self {
            weights_input: String::new(),
            folder_input: String::new(),
            settings,
            worker,
            thumbs,
            dialogs: Dialogs::default(),
            model: ModelState::Loading,
            library: None,
            library_generation: 0,
            incoming_library: None,
            library_shown_at: None,
            results_rect: None,
            held_by_pointer: false,
            grouping: None,
            missing_photos: None,
            variants_ready: false,
            applied_whitening: None,
            pending_folder: None,
            indexing: None,
            last_run: None,
            failures: Vec::new(),
            show_failures: false,
            show_settings: false,
            query: None,
            next_query_id: 1,
            results: ResultsView::default(),
            scheduler: Scheduler::default(),
            preview: None,
            notices: Vec::new(),
            slowest_frame: Duration::ZERO,
            view: View::Search,
            dupes: DupesView::new(),
            large: Vec::new(),
            compare: None,
            compare_zoom: 1.0,
            download: None,
            download_error: None,
        })
    }

    // ---- What a user (or a test) can do -------------------------------------------

    /// Opens a library folder: indexing starts in the background.
    pub fn open_folder(&mut self, folder: PathBuf) {
        self.open_folder_with(folder, false);
    }

    /// Opens a library folder; with `forget_missing`, the descriptions of photos that
    /// are gone are dropped even when most of the library is (the user said so).
    fn open_folder_with(&mut self, folder: PathBuf, forget_missing: bool) {
        if !folder.is_dir() {
            self.notice(format!("{} is not a folder", folder.display()));
            return;
        }
        self.settings.remember_folder(folder.clone());
        if !matches!(self.model, ModelState::Ready { .. }) {
            self.pending_folder = Some(folder);
            return;
        }
        self.failures.clear();
        self.variants_ready = false;
        self.indexing = Some(IndexingView::new(folder.clone(), Stage::Library));
        let whitening = self.whitening_request();
        self.applied_whitening = Some(whitening.clone());
        self.missing_photos = None;
        self.worker.send(Command::OpenLibrary {
            folder,
            max_side: self.settings.max_side,
            whitening,
            forget_missing,
        });
    }

    /// Makes `path` the query photo.
    pub fn open_query(&mut self, path: PathBuf) {
        let id = self.next_query_id;
        self.next_query_id += 1;
        self.query = Some(QueryView {
            id,
            path: path.clone(),
            size: Vec2::ZERO,
            texture: None,
            crop: CropEditor::default(),
        });
        self.results = ResultsView::default();
        self.worker.send(Command::LoadQuery { id, path });
    }

    /// Uses the weights file at `path` (first-run dialog), whatever network it holds.
    pub fn choose_weights(&mut self, path: PathBuf) {
        self.model = ModelState::Loading;
        self.worker.send(Command::LoadModel {
            path: Some(path),
            network: self.settings.network,
            backend: self.settings.backend,
        });
    }

    /// Describes photos with `network` from now on: its weights are loaded from the
    /// usual places (the first-run dialog offers them when missing), and the open
    /// library is indexed again with it (into its own index: switching back is instant).
    pub fn choose_network(&mut self, network: Network) {
        if network == self.settings.network && matches!(self.model, ModelState::Ready { .. }) {
            return;
        }
        self.settings.network = network;
        self.settings.model = None;
        self.model = ModelState::Loading;
        if let Some(library) = &self.library {
            self.pending_folder = Some(library.folder.clone());
        }
        self.worker.send(Command::LoadModel {
            path: None,
            network,
            backend: self.settings.backend,
        });
    }

    pub fn cancel_indexing(&mut self) {
        if let Some(indexing) = &mut self.indexing {
            indexing.cancelling = true;
            self.worker.send(Command::CancelIndexing);
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Settings changes take effect on the next frame, as from the settings panel.
    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    pub fn model_state(&self) -> &ModelState {
        &self.model
    }

    pub fn is_indexing(&self) -> bool {
        self.indexing.is_some()
    }

    /// `(done, total)` of the indexing run in progress (`total` is known after the scan).
    pub fn indexing_progress(&self) -> Option<(usize, Option<usize>)> {
        self.indexing.as_ref().map(|view| (view.done, view.total))
    }

    /// Stops the duplicate search in progress.
    pub fn cancel_duplicates(&mut self) {
        if let Some(grouping) = &mut self.grouping {
            grouping.cancelling = true;
            self.worker.send(Command::CancelDuplicates);
        }
    }

    /// Photos found but not described yet, shown marked in the grid while indexing.
    pub fn library_waiting(&self) -> usize {
        self.library.as_ref().map_or(0, |l| l.waiting.len())
    }

    /// Whether indexing's last stage, describing the turned and small photos for the
    /// duplicate finder, has ended for this library.
    pub fn variants_ready(&self) -> bool {
        self.variants_ready
    }

    /// Whether the library shown is the whole folder, described (indexing has ended).
    pub fn library_complete(&self) -> bool {
        self.library.as_ref().is_some_and(|l| l.complete)
    }

    /// Photos in the searchable library.
    pub fn library_len(&self) -> Option<usize> {
        self.library.as_ref().map(|l| l.photos.len())
    }

    /// The photos of the library as the grid shows them (a RAW + JPEG pair once).
    pub fn library_photos(&self) -> &[super::protocol::Photo] {
        self.library.as_ref().map_or(&[], |l| &l.photos)
    }

    /// The last run's outcome: folder and summary.
    pub fn last_run(&self) -> Option<&(PathBuf, IndexSummary)> {
        self.last_run.as_ref()
    }

    /// Files that could not be indexed in the last run.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// The current results, best first.
    pub fn results(&self) -> &[ResultItem] {
        &self.results.hits
    }

    /// A search or query is still on its way.
    pub fn is_searching(&self) -> bool {
        self.scheduler.waiting.is_some()
            || (self.scheduler.sent.is_some()
                && (self.results.generation != self.scheduler.generation || self.results.refining))
            || self.query.as_ref().is_some_and(|q| q.texture.is_none())
    }

    /// The query's crop box in original-image pixels.
    pub fn crop_box(&self) -> Option<CropBox> {
        self.query.as_ref().and_then(|q| q.crop.crop_box())
    }

    /// How the query photo was last drawn (image pixels to screen points).
    pub fn query_mapping(&self) -> Option<super::crop::Mapping> {
        self.query.as_ref().and_then(|q| q.crop.mapping())
    }

    /// Why the last weights download failed, if it did.
    pub fn download_error(&self) -> Option<&str> {
        self.download_error.as_deref()
    }

    /// Messages shown to the user.
    /// The library whose photos are mostly gone, as the app asks about it: `(folder,
    /// missing, indexed)`.
    pub fn missing_photos(&self) -> Option<&(PathBuf, usize, usize)> {
        self.missing_photos.as_ref()
    }

    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Thumbnails asked for and not yet made.
    pub fn pending_thumbnails(&self) -> usize {
        self.thumbs.pending()
    }

    /// The longest time one frame spent in [`eframe::App::ui`].
    pub fn slowest_frame(&self) -> Duration {
        self.slowest_frame
    }

    // ---- Events ---------------------------------------------------------------------

    fn notice(&mut self, message: String) {
        if self.notices.last() != Some(&message) {
            self.notices.push(message);
        }
    }

    fn whitening_request(&self) -> WhiteningRequest {
        WhiteningRequest {
            source: self.settings.whitening.clone(),
            dim: self.settings.whiten_dim,
            power: self.settings.whiten_power,
            views: self.settings.intent == Intent::Instance,
        }
    }

    fn receive_events(&mut self, ctx: &egui::Context) {
        while let Some(event) = self.worker.try_recv() {
            self.apply(event, ctx);
        }
    }

    fn apply(&mut self, event: Event, ctx: &egui::Context) {
        match event {
            Event::ModelReady {
                label,
                path,
                network,
            } => {
                self.download = None;
                // Another network's descriptors: the open library is indexed again.
                if network != self.settings.network && self.pending_folder.is_none() {
                    self.pending_folder = self.library.as_ref().map(|l| l.folder.clone());
                }
                self.settings.network = network;
                self.download_error = None;
                if self.settings.model.is_some() || matches!(self.model, ModelState::Problem { .. })
                {
                    self.settings.model = Some(path.clone());
                }
                self.model = ModelState::Ready { label, path };
                if let Some(folder) = self.pending_folder.take() {
                    self.open_folder(folder);
                }
            }
            Event::ModelProblem { message, missing } => {
                self.download = None;
                self.model = ModelState::Problem { message, missing };
            }
            Event::Downloading { done, total } => self.download = Some((done, total)),
            Event::DownloadFailed(message) => {
                self.download = None;
                self.download_error = Some(message);
            }
            Event::Indexing { stage, progress } => {
                let folder = self.library.as_ref().map(|l| l.folder.clone());
                let view = match stage {
                    Stage::Grouping | Stage::CleaningUp => &mut self.grouping,
                    _ => &mut self.indexing,
                };
                // The variants and the duplicate search are not started from a folder:
                // show them all the same.
                if view.is_none()
                    && matches!(stage, Stage::Variants | Stage::Grouping | Stage::CleaningUp)
                    && let Some(folder) = folder
                {
                    *view = Some(IndexingView::new(folder, stage));
                }
                let Some(view) = view else {
                    return;
                };
                view.stage = stage;
                match progress {
                    Progress::Planned { to_describe, .. } => {
                        view.total = Some(to_describe);
                        view.done = 0;
                        view.started = Instant::now();
                    }
                    Progress::Step { done, total, path } => {
                        view.done = done;
                        view.total = Some(total);
                        view.current = (!path.as_os_str().is_empty()).then_some(path);
                    }
                    Progress::Failed(failure) | Progress::Damaged(failure) => {
                        self.failures.push(failure)
                    }
                    Progress::Saved { .. } => {}
                }
            }
            Event::IndexingEnded {
                folder,
                outcome,
                variants_follow,
            } => {
                // Shown as one run up to the variants' end, with no idle frame between.
                self.indexing =
                    variants_follow.then(|| IndexingView::new(folder.clone(), Stage::Variants));
                match outcome {
                    JobEnd::Done(summary) => {
                        // The summary has every failure; progress may have missed some.
                        self.failures = [&summary.failed[..], &summary.damaged].concat();
                        if summary.entries == 0 && !summary.stopped {
                            self.notice(format!(
                                "No photos found in {} (looked for {} files)",
                                folder.display(),
                                lookalike_core::read::imaging::IMAGE_EXTENSIONS.join(", ")
                            ));
                        }
                        self.last_run = Some((folder, summary));
                    }
                    JobEnd::Failed(message) => self.notice(format!("Indexing stopped: {message}")),
                    // A run stopped on request ends `Done`, its summary says so.
                    JobEnd::Stopped => {}
                }
            }
            Event::LibraryReady(library) => self.incoming_library = Some(library),
            Event::VariantsEnded { outcome } => {
                self.variants_ready = matches!(outcome, JobEnd::Done(_));
                if self
                    .indexing
                    .as_ref()
                    .is_some_and(|v| v.stage == Stage::Variants)
                {
                    self.indexing = None;
                }
                if let JobEnd::Failed(message) = outcome {
                    self.notice(format!(
                        "Turned and small copies could not be described: {message}"
                    ));
                }
            }
            Event::QueryLoaded {
                id,
                path,
                width,
                height,
                display,
            } => {
                if let Some(query) = self.query.as_mut().filter(|q| q.id == id) {
                    let name = format!("query:{}", path.display());
                    query.texture =
                        Some(ctx.load_texture(name, display, egui::TextureOptions::LINEAR));
                    query.size = Vec2::new(width as f32, height as f32);
                }
            }
            Event::QueryFailed { id, message } => {
                if self.query.as_ref().is_some_and(|q| q.id == id) {
                    self.query = None;
                    self.notice(format!("Could not open the query: {message}"));
                }
            }
            Event::Results {
                generation,
                hits,
                seconds,
                refining,
            } => {
                if generation == self.scheduler.generation {
                    self.results = ResultsView {
                        hits,
                        seconds,
                        error: None,
                        generation,
                        refining,
                    };
                }
            }
            Event::SearchFailed {
                generation,
                message,
            } => {
                if generation == self.scheduler.generation {
                    self.results = ResultsView {
                        error: Some(message),
                        generation,
                        ..ResultsView::default()
                    };
                }
            }
            Event::Preview { path, image } => {
                let name = format!("large:{}", path.display());
                let texture = ctx.load_texture(name, image, egui::TextureOptions::LINEAR);
                self.large.retain(|(p, _)| *p != path);
                self.large.push((path, texture));
                if self.large.len() > LARGE_TEXTURES {
                    drop(self.large.remove(0));
                }
            }
            Event::Duplicates {
                outcome,
                threshold,
                seconds,
            } => {
                self.grouping = None;
                self.dupes
                    .set_outcome(outcome, threshold, self.library_generation, seconds);
            }
            Event::Cleanup { report, undo } => {
                self.grouping = None;
                self.dupes.cleaning = false;
                let (verb, place) = if undo {
                    ("Restored", "")
                } else {
                    (
                        "Moved",
                        " to the trash (Undo last clean-up brings them back)",
                    )
                };
                let stopped = if report.stopped {
                    "Stopped: the rest stayed where they are. "
                } else {
                    ""
                };
                self.notice(format!(
                    "{stopped}{verb} {} files{place}",
                    report.moved.len()
                ));
                for skipped in report.skipped {
                    self.notice(format!(
                        "Left alone: {}: {}",
                        skipped.path.display(),
                        skipped.reason
                    ));
                }
            }
            Event::PhotosMissing {
                folder,
                missing,
                entries,
            } => self.missing_photos = Some((folder, missing, entries)),
            Event::CleanupFailed(message) => {
                self.grouping = None;
                self.dupes.cleaning = false;
                self.notice(message);
            }
            Event::Notice(message) => self.notice(message),
        }
    }

    /// Shows the newest state of the library: at once when it is another folder, else
    /// at most every [`LIVE_REFRESH`] while it grows, and never while the pointer is over
    /// the results, which would move under it (then as soon as it leaves; the grid says
    /// that newer results wait).
    fn take_library(&mut self, ctx: &egui::Context) {
        self.held_by_pointer = false;
        let Some(incoming) = &self.incoming_library else {
            return;
        };
        let another = self
            .library
            .as_ref()
            .is_none_or(|l| l.folder != incoming.folder);
        let due = incoming.complete
            || self
                .library_shown_at
                .is_none_or(|at| at.elapsed() >= LIVE_REFRESH);
        let pointer_on_results = ctx
            .pointer_hover_pos()
            .zip(self.results_rect)
            .is_some_and(|(pointer, rect)| rect.contains(pointer));
        // Only indexing moves the results by itself; a change the user asked for (an
        // intent, a whitening) is shown at once.
        let indexing = self.library.as_ref().is_some_and(|l| !l.complete);
        let held = indexing && pointer_on_results;
        self.held_by_pointer = due && held && !another;
        if another || (due && !held) {
            self.library = self.incoming_library.take();
            self.library_generation += 1;
            self.library_shown_at = Some(Instant::now());
        } else {
            ctx.request_repaint_after(Duration::from_millis(250));
        }
    }

    fn handle_dropped_and_pasted(&mut self, ctx: &egui::Context) {
        let (dropped, pasted) = ctx.input(|i| {
            let dropped: Vec<PathBuf> = i
                .raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect();
            let pasted: Vec<String> = i
                .events
                .iter()
                .filter_map(|e| match e {
                    egui::Event::Paste(text) => Some(text.clone()),
                    _ => None,
                })
                .collect();
            (dropped, pasted)
        });
        // A pasted file path (or file:// URI) works like a dropped file.
        let pasted = pasted.iter().filter_map(|text| {
            let text = text.trim();
            let path = PathBuf::from(text.strip_prefix("file://").unwrap_or(text));
            path.exists().then_some(path)
        });
        let focused_text = ctx.memory(|m| m.focused().is_some());
        let pasted: Vec<PathBuf> = if focused_text {
            Vec::new()
        } else {
            pasted.collect()
        };
        for path in dropped.into_iter().chain(pasted) {
            if path.is_dir() {
                self.open_folder(path);
            } else if has_image_extension(&path) || path.is_file() {
                self.open_query(path);
            }
        }
    }

    fn handle_dialog_answers(&mut self) {
        while let Some((purpose, answer)) = self.dialogs.poll() {
            match answer {
                Ok(Some(path)) => match purpose {
                    Purpose::Library => self.open_folder(path),
                    Purpose::Query => self.open_query(path),
                    Purpose::Weights => self.choose_weights(path),
                    Purpose::WhiteningFolder => {
                        self.settings.whitening = WhiteningSource::Folder(path)
                    }
                },
                Ok(None) => {}
                Err(message) => self.notice(message),
            }
        }
    }

    /// Asks for the whitening in the settings once they stop changing (not while a value
    /// is being dragged).
    fn apply_whitening(&mut self, ctx: &egui::Context) {
        let wanted = self.whitening_request();
        let Some(applied) = &self.applied_whitening else {
            return;
        };
        let folder_indexing = self
            .indexing
            .as_ref()
            .is_some_and(|v| v.stage == Stage::WhiteningFolder);
        if *applied != wanted && !ctx.egui_is_using_pointer() && !folder_indexing {
            self.applied_whitening = Some(wanted.clone());
            self.worker.send(Command::SetWhitening(wanted));
        }
    }

    /// Sends a search when the query, its box or a ranking setting changed and has
    /// been still for [`SEARCH_DEBOUNCE_S`].
    fn schedule_search(&mut self, ctx: &egui::Context, dragging: bool) {
        let Some(query) = self.query.as_ref().filter(|q| q.texture.is_some()) else {
            return;
        };
        if self.library.is_none() {
            return;
        }
        let key = SearchKey {
            query: query.id,
            crop: query.crop.crop_box(),
            ranking: self.settings.ranking(),
            library: self.library_generation,
        };
        if self.scheduler.sent == Some(key) {
            self.scheduler.waiting = None;
            return;
        }
        let now = ctx.input(|i| i.time);
        let since = match self.scheduler.waiting {
            Some((waiting, since)) if waiting == key => since,
            _ => {
                self.scheduler.waiting = Some((key, now));
                now
            }
        };
        if dragging {
            return;
        }
        let quiet = now - since;
        if quiet < SEARCH_DEBOUNCE_S {
            ctx.request_repaint_after(Duration::from_secs_f64(SEARCH_DEBOUNCE_S - quiet));
            return;
        }
        self.scheduler.generation += 1;
        self.scheduler.sent = Some(key);
        self.scheduler.waiting = None;
        self.worker.send(Command::Search {
            generation: self.scheduler.generation,
            query: key.query,
            crop: key.crop,
            ranking: key.ranking,
        });
    }

    // ---- Drawing --------------------------------------------------------------------

    fn toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let ctx = ui.ctx().clone();
            if ui.button("Open folder…").clicked() {
                self.dialogs.open(Purpose::Library, &ctx);
            }
            let recent = self.settings.recent_folders.clone();
            ui.add_enabled_ui(!recent.is_empty(), |ui| {
                ui.menu_button("Recent", |ui| {
                    for folder in recent {
                        if ui.button(folder.display().to_string()).clicked() {
                            self.open_folder(folder);
                            ui.close();
                        }
                    }
                });
            });
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.folder_input)
                    .hint_text("…or type a folder path and press Enter")
                    .desired_width(260.0),
            );
            if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                let folder = PathBuf::from(self.folder_input.trim());
                self.open_folder(folder);
            }
            ui.separator();
            if ui.button("Open query photo…").clicked() {
                self.dialogs.open(Purpose::Query, &ctx);
            }
            let label = ui.label("Similar means");
            let before = self.settings.intent;
            let mut chosen = before;
            let shown = if self.settings.is_calibrated() {
                chosen.label().to_string()
            } else {
                format!("{} (adjusted)", chosen.label())
            };
            egui::ComboBox::from_id_salt("intent")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for intent in Intent::ALL {
                        ui.selectable_value(&mut chosen, intent, intent.label())
                            .on_hover_text(intent.explanation());
                    }
                })
                .response
                .labelled_by(label.id);
            if chosen != before {
                self.settings.set_intent(chosen);
            }
            ui.separator();
            let failed = self.failures.len();
            let failures_label = format!("{} ({failed})", self.failures_title());
            if ui
                .add_enabled(
                    failed > 0,
                    egui::Button::selectable(self.show_failures, failures_label),
                )
                .clicked()
            {
                self.show_failures = !self.show_failures;
            }
            if ui
                .add(egui::Button::selectable(self.show_settings, "Settings"))
                .clicked()
            {
                self.show_settings = !self.show_settings;
            }
            ui.separator();
            for (view, label) in [(View::Search, "Search"), (View::Duplicates, "Duplicates")] {
                if ui
                    .add(egui::Button::selectable(self.view == view, label))
                    .clicked()
                {
                    self.view = view;
                }
            }
        });
    }

    /// The backend's name, at the right of the status bar; the details (adapter,
    /// threads) on hover.
    fn network_label(&self, ui: &mut egui::Ui) {
        if let ModelState::Ready { label, .. } = &self.model {
            let short = label.split(" (").next().unwrap_or(label);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let network = self.settings.network.title();
                ui.label(RichText::new(format!("{network} on {short}")).weak())
                    .on_hover_text(label.as_str());
            });
        }
    }

    fn notices_bar(&mut self, ui: &mut egui::Ui) {
        if let Some((folder, missing, entries)) = self.missing_photos.clone() {
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(format!(
                        "{missing} of the {entries} photos of {} are not there now: is its \
                         drive connected? Their descriptions are kept.",
                        folder.display()
                    ))
                    .color(ui.visuals().warn_fg_color),
                );
                if ui.button("Try again").clicked() {
                    self.open_folder(folder.clone());
                }
                if ui
                    .button("Forget missing photos")
                    .on_hover_text("They are gone for good: drop their descriptions")
                    .clicked()
                {
                    self.open_folder_with(folder.clone(), true);
                }
            });
        }
        let mut dismissed = None;
        for (i, message) in self.notices.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.label(RichText::new(message.as_str()).color(ui.visuals().warn_fg_color));
                if ui.small_button("Dismiss").clicked() {
                    dismissed = Some(i);
                }
            });
        }
        if let Some(i) = dismissed {
            self.notices.remove(i);
        }
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        let jobs = [self.indexing.clone(), self.grouping.clone()];
        let mut cancel = [false, false];
        for (view, cancel) in jobs.iter().zip(&mut cancel) {
            if let Some(view) = view {
                ui.horizontal(|ui| *cancel = progress_row(ui, view));
                // Keep the rate and ETA ticking between progress events.
                ui.ctx().request_repaint_after(Duration::from_millis(250));
            }
        }
        if cancel[0] {
            self.cancel_indexing();
        }
        if cancel[1] {
            self.cancel_duplicates();
        }
        if jobs.iter().any(Option::is_some) {
            return;
        }
        ui.horizontal(|ui| {
            if let Some(library) = &self.library {
                let mut text = format!(
                    "{} photos in {} · {}",
                    library.photos.len(),
                    file_name(&library.folder),
                    library.whitening
                );
                if let Some((_, summary)) = &self.last_run {
                    let damaged = match summary.damaged.len() {
                        0 => String::new(),
                        n => format!(", {n} damaged"),
                    };
                    text.push_str(&format!(
                        " · last run: {} new, {} unchanged, {} removed, {} failed{damaged}{}",
                        summary.indexed,
                        summary.unchanged,
                        summary.removed,
                        summary.failed.len(),
                        if summary.stopped { " (cancelled)" } else { "" }
                    ));
                }
                ui.label(text)
                    .on_hover_text(library.folder.display().to_string());
            } else {
                ui.label(
                    "Open a folder of photos to begin: button above, or drop it on the window.",
                );
            }
            self.network_label(ui);
        });
    }

    fn settings_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Settings");
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.checkbox(
                &mut self.settings.use_box,
                "Query the drawn box (else the full photo)",
            );
            ui.horizontal(|ui| {
                ui.checkbox(&mut self.settings.query_expansion, "Query expansion");
                let label = ui.label("k =");
                ui.add_enabled(
                    self.settings.query_expansion,
                    egui::DragValue::new(&mut self.settings.qe_k).range(1..=50),
                )
                .labelled_by(label.id);
            });
            ui.horizontal(|ui| {
                let label = ui.label("Results shown");
                ui.add(egui::DragValue::new(&mut self.settings.top).range(1..=1000))
                    .labelled_by(label.id);
            });

            ui.separator();
            egui::CollapsingHeader::new("Advanced")
                .default_open(!self.settings.is_calibrated())
                .show(ui, |ui| self.advanced_settings(ui));

            ui.separator();
            ui.label(RichText::new("Indexing").strong());
            ui.horizontal(|ui| {
                let label = ui.label("Longest image side");
                ui.add(egui::DragValue::new(&mut self.settings.max_side).range(64..=4096))
                    .labelled_by(label.id);
            });
            let folder = self.library.as_ref().map(|library| library.folder.clone());
            if let Some(folder) = folder
                && ui
                    .button("Re-index the library with this size")
                    .on_hover_text("Bigger sides find smaller details but index more slowly")
                    .clicked()
            {
                self.open_folder(folder);
            }
            let mut network = self.settings.network;
            egui::ComboBox::from_label("Network")
                .selected_text(network.title())
                .show_ui(ui, |ui| {
                    for choice in Network::ALL {
                        ui.selectable_value(&mut network, choice, network_choice_label(choice));
                    }
                });
            if network != self.settings.network {
                self.choose_network(network);
            }
            let backend_before = self.settings.backend;
            egui::ComboBox::from_label("Backend")
                .selected_text(self.settings.backend.as_str())
                .show_ui(ui, |ui| {
                    for choice in BackendChoice::ALL {
                        ui.selectable_value(&mut self.settings.backend, choice, choice.as_str());
                    }
                });
            if self.settings.backend != backend_before {
                self.model = ModelState::Loading;
                self.worker.send(Command::LoadModel {
                    path: self.settings.model.clone(),
                    network: self.settings.network,
                    backend: self.settings.backend,
                });
            }
            match &self.model {
                ModelState::Ready { label, path } => {
                    ui.label(format!("In use: {label}"));
                    ui.label(RichText::new(path.display().to_string()).weak().small());
                }
                ModelState::Loading => {
                    ui.label("Loading the network…");
                }
                ModelState::Problem { message, .. } => {
                    ui.colored_label(ui.visuals().error_fg_color, message);
                }
            }
        });
    }

    /// The numbers an intent sets: distance and whitening.
    fn advanced_settings(&mut self, ui: &mut egui::Ui) {
        let intent = self.settings.intent;
        ui.label(
            RichText::new(format!(
                "\"{}\" sets these to its calibrated values; change them to experiment.",
                intent.label()
            ))
            .weak()
            .small(),
        );
        if ui
            .add_enabled(
                !self.settings.is_calibrated(),
                egui::Button::new("Back to the calibrated values"),
            )
            .clicked()
        {
            self.settings.set_intent(intent);
        }
        egui::ComboBox::from_label("Distance")
            .selected_text(self.settings.metric.as_str())
            .show_ui(ui, |ui| {
                for metric in Metric::ALL {
                    ui.selectable_value(&mut self.settings.metric, metric, metric.as_str());
                }
            });
        ui.label(RichText::new("Whitening").strong());
        let folder = match &self.settings.whitening {
            WhiteningSource::Folder(f) => Some(f.clone()),
            _ => None,
        };
        ui.radio_value(
            &mut self.settings.whitening,
            WhiteningSource::Off,
            "Off (L2 only)",
        );
        ui.radio_value(
            &mut self.settings.whitening,
            WhiteningSource::Shipped,
            "Shipped (learned on other photos; the default)",
        );
        ui.radio_value(
            &mut self.settings.whitening,
            WhiteningSource::Library,
            "Learned from this library",
        );
        ui.horizontal(|ui| {
            let label = match &folder {
                Some(f) => format!("Learned from {}", f.display()),
                None => "Learned from another folder…".into(),
            };
            if ui.radio(folder.is_some(), label).clicked() {
                let ctx = ui.ctx().clone();
                self.dialogs.open(Purpose::WhiteningFolder, &ctx);
            }
        });
        ui.add_enabled_ui(self.settings.whitening != WhiteningSource::Off, |ui| {
            ui.horizontal(|ui| {
                let label = ui.label("Dimension");
                ui.add(egui::DragValue::new(&mut self.settings.whiten_dim).range(8..=512))
                    .labelled_by(label.id);
                let label = ui
                    .label("Power")
                    .on_hover_text("1 whitens fully, 0 is a plain PCA");
                ui.add(
                    egui::DragValue::new(&mut self.settings.whiten_power)
                        .range(0.0..=1.0)
                        .speed(0.05),
                )
                .labelled_by(label.id);
            });
        });
    }

    fn query_panel(&mut self, ui: &mut egui::Ui) -> bool {
        // Use the panel's whole width, so it keeps the size the user gave it.
        ui.set_min_width(ui.available_width());
        let Some(query) = &mut self.query else {
            ui.vertical_centered(|ui| {
                ui.add_space(40.0);
                ui.label("No query yet.");
                ui.label(
                    "Open or drop a photo, or right-click a photo of the library > Find similar.",
                );
            });
            return false;
        };
        ui.label(RichText::new(file_name(&query.path)).strong())
            .on_hover_text(query.path.display().to_string());
        let Some(texture) = query.texture.clone() else {
            ui.spinner();
            return false;
        };
        ui.horizontal(|ui| {
            ui.label(format!("{} × {} px", query.size.x, query.size.y));
            if ui
                .add_enabled(
                    query.crop.crop_box().is_some(),
                    egui::Button::new("Clear box"),
                )
                .clicked()
            {
                query.crop.clear();
            }
        });
        let hint = if query.crop.crop_box().is_some() {
            "Drag the box to move it, its corners to resize it."
        } else {
            "Drag on the photo to draw a box around what matters."
        };
        ui.label(RichText::new(hint).weak().small());
        let extent = match query.crop.crop_box() {
            Some(b) => format!("Box: {b}"),
            None => "Box: none (the full photo is the query)".into(),
        };
        ui.label(RichText::new(extent).small());
        let change = query.crop.show(ui, &texture, query.size);
        change.dragging
    }

    fn results_grid(&mut self, ui: &mut egui::Ui) {
        let Some(library) = self.library.clone() else {
            ui.centered_and_justified(|ui| {
                ui.label(match &self.indexing {
                    Some(_) => "Looking for photos in the folder…",
                    None => "No library open.",
                });
            });
            return;
        };
        // With a query: its results. Without: the whole library, to pick a query from.
        let browsing = self.query.is_none();
        let mut growing = if library.complete {
            String::new()
        } else {
            format!(
                " · indexing: {} of {} described so far",
                library.photos.len(),
                library.photos.len() + library.waiting.len()
            )
        };
        if self.held_by_pointer {
            growing.push_str(" · newer results wait until the pointer leaves the grid");
        }
        if browsing {
            ui.label(format!(
                "{} photos: right-click one to find similar ones{growing}",
                library.photos.len() + library.waiting.len()
            ));
        } else {
            if let Some(error) = &self.results.error {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("Search failed: {error}"),
                );
                return;
            }
            ui.horizontal(|ui| {
                ui.label(format!("{} results{growing}", self.results.hits.len()))
                    .on_hover_text(format!("searched in {:.3} s", self.results.seconds));
                if self.is_searching() {
                    let spinner = ui.spinner();
                    if self.results.refining {
                        spinner.on_hover_text(
                            "First results; the query turned a quarter is being described \
                             to find turned copies too",
                        );
                    }
                }
            });
        }
        let hits = std::mem::take(&mut self.results.hits);
        let count = if browsing {
            library.photos.len() + library.waiting.len()
        } else {
            hits.len()
        };
        self.results_rect = Some(ui.available_rect_before_wrap());
        let columns = grid_columns(ui);
        let rows = count.div_ceil(columns);
        let mut wanted = Vec::new();
        let mut action = None;
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, CELL + 22.0, rows, |ui, visible| {
                for row in visible {
                    ui.horizontal(|ui| {
                        for i in (row * columns..(row + 1) * columns).take_while(|&i| i < count) {
                            let waiting;
                            let (score, photo) = if !browsing {
                                (Some((hits[i].rank, hits[i].distance)), &hits[i].photo)
                            } else if let Some(photo) = library.photos.get(i) {
                                (None, photo)
                            } else {
                                let path = &library.waiting[i - library.photos.len()];
                                waiting = Photo::waiting(path.clone());
                                (None, &waiting)
                            };
                            if let Some(a) = self.cell(ui, score, photo, &mut wanted) {
                                action = Some(a);
                            }
                        }
                    });
                }
            });
        self.results.hits = hits;
        if let Some(action) = action {
            self.cell_action(action);
        }
        self.thumbs.want(wanted);
    }

    fn cell(
        &mut self,
        ui: &mut egui::Ui,
        score: Option<(usize, f32)>,
        photo: &Photo,
        wanted: &mut Vec<PathBuf>,
    ) -> Option<CellAction> {
        let mut action = None;
        ui.vertical(|ui| {
            ui.set_width(CELL);
            let size = Vec2::splat(CELL - 8.0);
            let response = match self.thumbs.get(&photo.path) {
                Thumb::Ready(texture) => {
                    let fitted = fit(texture.size_vec2(), size);
                    ui.add(egui::Image::new((texture.id(), fitted)).sense(egui::Sense::click()))
                }
                Thumb::Failed(reason) => {
                    let text = format!("Cannot show: {reason}");
                    ui.add_sized(
                        size,
                        egui::Label::new(RichText::new(text).small()).sense(egui::Sense::click()),
                    )
                }
                Thumb::Loading => {
                    wanted.push(photo.path.clone());
                    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click());
                    ui.painter()
                        .rect_filled(rect, 4.0, ui.visuals().faint_bg_color);
                    response
                }
            };
            let name = match &photo.sibling {
                Some(_) => format!("RAW+JPEG · {}", file_name(&photo.path)),
                None => file_name(&photo.path),
            };
            let name = match photo.damage {
                Some(_) => format!("DAMAGED · {name}"),
                None => name,
            };
            let caption = match score {
                Some((rank, distance)) => format!("#{rank} · {distance:.3} · {name}"),
                None if photo.is_waiting() => format!("(waiting) {name}"),
                None => name,
            };
            let damage = photo
                .damage
                .map(|damage| format!("\ndamaged: {damage}"))
                .unwrap_or_default();
            let pair = photo
                .sibling
                .as_ref()
                .map(|jpeg| format!("\nwith the camera's JPEG {}", jpeg.display()))
                .unwrap_or_default();
            let response = if photo.is_waiting() {
                response.on_hover_text(format!(
                    "{}\nnot described yet: searches find it once indexing reaches it",
                    photo.path.display()
                ))
            } else {
                response.on_hover_text(format!(
                    "{}{pair}\n{} × {} px, {}{damage}",
                    photo.path.display(),
                    photo.width,
                    photo.height,
                    format_bytes(photo.size)
                ))
            };
            if response.clicked() {
                let (rank, distance) = score.unwrap_or((0, 0.0));
                action = Some(CellAction::Preview(ResultItem {
                    rank,
                    distance,
                    photo: photo.clone(),
                }));
            }
            response.context_menu(|ui| {
                if ui.button("Find similar").clicked() {
                    action = Some(CellAction::FindSimilar(photo.path.clone()));
                }
                if ui.button("Open in viewer").clicked() {
                    action = Some(CellAction::Open(photo.path.clone()));
                }
                if ui.button("Show in file manager").clicked() {
                    action = Some(CellAction::Reveal(photo.path.clone()));
                }
            });
            let mut caption = RichText::new(caption).small();
            if photo.damage.is_some() {
                caption = caption.color(ui.visuals().warn_fg_color);
            }
            ui.add(egui::Label::new(caption).truncate());
        });
        action
    }

    /// The failed-files button's words: damaged photos (indexed, searchable) are
    /// listed with the files that failed.
    fn failures_title(&self) -> &'static str {
        match self.failures.iter().any(|f| f.kind == FailureKind::Damaged) {
            true => "Failed or damaged files",
            false => "Failed files",
        }
    }

    fn failures_window(&mut self, ctx: &egui::Context) {
        if self.failures.is_empty() {
            self.show_failures = false;
            return;
        }
        let mut open = self.show_failures;
        let title = match self.failures_title() {
            "Failed files" => "Files that could not be indexed",
            _ => "Files that could not be indexed or are damaged",
        };
        egui::Window::new(format!("{title} ({})", self.failures.len()))
            .open(&mut open)
            .default_size([720.0, 360.0])
            .show(ctx, |ui| {
                use egui_extras::{Column, TableBuilder};
                TableBuilder::new(ui)
                    .striped(true)
                    .column(Column::auto().at_least(240.0).resizable(true))
                    .column(Column::auto().at_least(120.0))
                    .column(Column::remainder())
                    .header(20.0, |mut header| {
                        header.col(|ui| {
                            ui.strong("File");
                        });
                        header.col(|ui| {
                            ui.strong("What");
                        });
                        header.col(|ui| {
                            ui.strong("Reason");
                        });
                    })
                    .body(|body| {
                        body.rows(20.0, self.failures.len(), |mut row| {
                            let failure = &self.failures[row.index()];
                            row.col(|ui| {
                                ui.label(failure.path.display().to_string());
                            });
                            row.col(|ui| {
                                ui.label(failure.kind.describe());
                            });
                            row.col(|ui| {
                                ui.label(&failure.reason);
                            });
                        });
                    });
            });
        self.show_failures = open;
    }

    fn preview_window(&mut self, ctx: &egui::Context) {
        let Some(preview) = &self.preview else { return };
        let mut open = true;
        let mut action = None;
        let query = self
            .query
            .as_ref()
            .and_then(|q| q.texture.clone().map(|t| (t, q.crop.crop_box(), q.size)));
        egui::Window::new(file_name(&preview.item.photo.path))
            .open(&mut open)
            .default_size([960.0, 560.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    if ui.button("Open in viewer").clicked() {
                        action = Some(CellAction::Open(preview.item.photo.path.clone()));
                    }
                    if ui.button("Show in file manager").clicked() {
                        action = Some(CellAction::Reveal(preview.item.photo.path.clone()));
                    }
                    if ui.button("Find similar").clicked() {
                        action = Some(CellAction::FindSimilar(preview.item.photo.path.clone()));
                    }
                    if preview.item.rank > 0 {
                        ui.label(format!(
                            "#{} · distance {:.4}",
                            preview.item.rank, preview.item.distance
                        ));
                    }
                });
                ui.label(
                    RichText::new(preview.item.photo.path.display().to_string())
                        .weak()
                        .small(),
                );
                let half = Vec2::new(
                    (ui.available_width() - 12.0) / 2.0,
                    ui.available_height().max(200.0),
                );
                ui.horizontal(|ui| {
                    if let Some((texture, crop, size)) = &query {
                        ui.vertical(|ui| {
                            ui.label("Query");
                            let shown = fit(*size, half);
                            let (rect, _) = ui.allocate_exact_size(shown, egui::Sense::hover());
                            ui.painter()
                                .image(texture.id(), rect, full_uv(), Color32::WHITE);
                            if let Some(b) = crop {
                                let s = shown.x / size.x;
                                let r = egui::Rect::from_min_max(
                                    rect.min + Vec2::new(b.x1 as f32, b.y1 as f32) * s,
                                    rect.min + Vec2::new(b.x2 as f32, b.y2 as f32) * s,
                                );
                                ui.painter().rect_stroke(
                                    r,
                                    0.0,
                                    egui::Stroke::new(2.0, Color32::YELLOW),
                                    egui::StrokeKind::Middle,
                                );
                            }
                        });
                    }
                    ui.vertical(|ui| {
                        ui.label(format!(
                            "{} × {} px, {}",
                            preview.item.photo.width,
                            preview.item.photo.height,
                            format_bytes(preview.item.photo.size)
                        ));
                        match self.large_texture(&preview.item.photo.path) {
                            Some(texture) => {
                                let shown = fit(texture.size_vec2(), half);
                                ui.image((texture.id(), shown));
                            }
                            None => {
                                ui.spinner();
                            }
                        }
                    });
                });
            });
        if let Some(action) = action {
            if matches!(action, CellAction::FindSimilar(_)) {
                open = false;
            }
            self.cell_action(action);
        }
        if !open {
            self.preview = None;
        }
    }

    /// Carries out what the user asked of a photo (grid cell or preview).
    fn cell_action(&mut self, action: CellAction) {
        match action {
            CellAction::FindSimilar(path) => self.open_query(path),
            CellAction::Preview(item) => {
                self.worker.send(Command::LoadPreview {
                    path: item.photo.path.clone(),
                });
                self.preview = Some(PreviewView { item });
            }
            CellAction::Open(path) => {
                if let Err(e) = dialogs::open_with_system(&path) {
                    self.notice(format!("Could not open {}: {e}", path.display()));
                }
            }
            CellAction::Reveal(path) => {
                if let Err(e) = dialogs::reveal_in_file_manager(&path) {
                    self.notice(format!("Could not show {}: {e}", path.display()));
                }
            }
        }
    }

    fn large_texture(&self, path: &Path) -> Option<&egui::TextureHandle> {
        self.large.iter().find(|(p, _)| p == path).map(|(_, t)| t)
    }

    fn duplicates_view(&mut self, ui: &mut egui::Ui) {
        if self.library.is_none() {
            ui.label("Open a library folder to look for duplicates.");
            return;
        }
        let complete = self.library_complete();
        // While indexing, the groups of the part described so far (not again each time
        // more is described); found again at the end.
        let generation = match self.dupes.found_library() {
            Some(found) if !complete => found,
            _ => self.library_generation,
        };
        if let Some(action) = self.dupes.wanted_search(generation) {
            self.dupes_action(action);
        }
        let mut note = String::from(
            "Photos are compared as \"the same scene or object\", whatever the search's intent.",
        );
        if !complete {
            note.push_str(" Indexing goes on: these groups are among the photos described so far, and are found again when it ends.");
        } else if self
            .indexing
            .as_ref()
            .is_some_and(|v| v.stage == Stage::Variants)
        {
            note.push_str(" Turned and small copies join their groups once they are described.");
        }
        ui.label(RichText::new(note).weak().small());
        if let Some(action) = self.dupes.show(ui, &mut self.thumbs) {
            self.dupes_action(action);
        }
    }

    fn dupes_action(&mut self, action: DupesAction) {
        match action {
            DupesAction::Find {
                threshold,
                variants,
            } => {
                self.worker.send(Command::FindDuplicates {
                    threshold,
                    variants,
                });
            }
            DupesAction::Remove(matches) => {
                if let Some(library) = &self.library {
                    self.grouping =
                        Some(IndexingView::new(library.folder.clone(), Stage::CleaningUp));
                }
                self.dupes.cleaning = true;
                self.worker.send(Command::RemoveFiles { matches });
            }
            DupesAction::Undo => self.worker.send(Command::UndoCleanup),
            DupesAction::Compare(a, b) => {
                for path in [&a, &b] {
                    if self.large_texture(path).is_none() {
                        self.worker
                            .send(Command::LoadPreview { path: path.clone() });
                    }
                }
                self.compare = Some((a, b));
            }
        }
    }

    /// Two photos side by side in one scroll area: one zoom, one scroll position.
    fn compare_window(&mut self, ctx: &egui::Context) {
        let Some((a, b)) = self.compare.clone() else {
            return;
        };
        let mut open = true;
        egui::Window::new("Compare")
            .open(&mut open)
            .default_size([1000.0, 600.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    let label = ui.label("Zoom");
                    ui.add(egui::Slider::new(&mut self.compare_zoom, 0.25..=4.0).logarithmic(true))
                        .labelled_by(label.id);
                });
                egui::ScrollArea::both().show(ui, |ui| {
                    ui.horizontal_top(|ui| {
                        for path in [&a, &b] {
                            ui.vertical(|ui| {
                                ui.label(file_name(path));
                                match self.large_texture(path) {
                                    Some(texture) => {
                                        let base = fit(texture.size_vec2(), Vec2::splat(480.0));
                                        ui.image((texture.id(), base * self.compare_zoom));
                                    }
                                    None => {
                                        ui.spinner();
                                    }
                                }
                            });
                        }
                    });
                });
            });
        if !open {
            self.compare = None;
        }
    }

    /// Shows the duplicate review (or the search).
    pub fn set_view(&mut self, view: View) {
        self.view = view;
    }

    /// The duplicate review's state.
    pub fn duplicates(&self) -> &DupesView {
        &self.dupes
    }

    /// Counts the libraries made searchable so far (each refresh adds one).
    pub fn library_generation(&self) -> u64 {
        self.library_generation
    }

    /// The first-run dialog: shown while no usable weights are loaded.
    fn weights_dialog(&mut self, ctx: &egui::Context) {
        let ModelState::Problem { message, missing } = self.model.clone() else {
            return;
        };
        let mut chosen = None;
        let mut network = self.settings.network;
        let official = WeightsText::of(network);
        egui::Modal::new(egui::Id::unique("weights-dialog")).show(ctx, |ui| {
            ui.set_width(560.0);
            ui.heading(format!("The {} weights are needed", network.title()));
            ui.label(official.about);
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                egui::ComboBox::from_label("Network")
                    .selected_text(network.title())
                    .show_ui(ui, |ui| {
                        for choice in Network::ALL {
                            ui.selectable_value(&mut network, choice, network_choice_label(choice));
                        }
                    });
            });
            ui.add_space(6.0);
            let colour = if missing {
                ui.visuals().weak_text_color()
            } else {
                ui.visuals().error_fg_color
            };
            // A fixed height: the dialog does not jump as messages of other lengths come.
            ui.allocate_ui(Vec2::new(ui.available_width(), 64.0), |ui| {
                ui.set_min_height(64.0);
                egui::ScrollArea::vertical()
                    .max_height(64.0)
                    .show(ui, |ui| {
                        ui.colored_label(colour, &message);
                    });
            });
            ui.add_space(6.0);
            match self.download {
                Some((done, total)) => {
                    ui.horizontal(|ui| {
                        let fraction = done as f32 / total.max(1) as f32;
                        ui.add(egui::ProgressBar::new(fraction).desired_width(360.0).text(
                            format!(
                                "Downloading: {} of {}",
                                format_bytes(done),
                                format_bytes(total)
                            ),
                        ));
                        if ui.button("Cancel download").clicked() {
                            self.worker.send(Command::CancelIndexing);
                        }
                    });
                }
                None => {
                    ui.horizontal(|ui| {
                        if ui
                            .button(official.button)
                            .on_hover_text(official.hover)
                            .clicked()
                        {
                            self.download_error = None;
                            self.download = Some((0, 1));
                            self.worker.send(Command::DownloadWeights {
                                network,
                                backend: self.settings.backend,
                            });
                        }
                        if ui.button("Choose a weights file…").clicked() {
                            self.dialogs.open(Purpose::Weights, ui.ctx());
                        }
                    });
                }
            }
            if let Some(error) = &self.download_error {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("Download failed: {error}"),
                );
            }
            ui.horizontal(|ui| {
                let label = ui.label("Weights file");
                ui.add(
                    egui::TextEdit::singleline(&mut self.weights_input)
                        .hint_text("…or type its path")
                        .desired_width(340.0),
                )
                .labelled_by(label.id);
                if ui.button("Use").clicked() && !self.weights_input.trim().is_empty() {
                    chosen = Some(PathBuf::from(self.weights_input.trim()));
                }
            });
            ui.label(
                RichText::new(format!(
                    "Tip: set {} to the file's path to skip this dialog.",
                    network.env_var()
                ))
                .weak()
                .small(),
            );
        });
        if let Some(path) = chosen {
            self.choose_weights(path);
        } else if network != self.settings.network && self.download.is_none() {
            self.choose_network(network);
        }
    }
}

/// The first-run dialog's words for a network's official weights.
struct WeightsText {
    about: &'static str,
    button: &'static str,
    hover: &'static str,
}

impl WeightsText {
    fn of(network: Network) -> Self {
        match network {
            Network::Vgg16 => Self {
                about: "lookalike describes photos with VGG16's convolutional layers, trained \
                    on ImageNet. The weights (about 59 MB) are not bundled. Download the \
                    official conv-only file (Keras' \
                    vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5: its published MD5 is \
                    checked, then it is converted), or choose a file you have (.safetensors, \
                    or the Keras .h5). Nothing is downloaded unless you ask.",
                button: "Download the official weights (59 MB)",
                hover: "From the Keras applications store (storage.googleapis.com); the MD5 \
                    Keras publishes is checked, then the file is converted",
            },
            Network::GoogLeNet => Self {
                about: "GoogLeNet describes photos about five times faster than VGG16, from \
                    its pool5 layer, trained on ImageNet. The weights (about 50 MB) are not \
                    bundled. Download torchvision's official googlenet-1378be20.pth (the \
                    file's SHA-256 must start with the 1378be20 its name carries, as PyTorch \
                    checks it; then it is converted), or choose a file you have \
                    (.safetensors, or the .pth). Nothing is downloaded unless you ask.",
                button: "Download the official GoogLeNet weights (50 MB)",
                hover: "From download.pytorch.org; the SHA-256 prefix in the file's name is \
                    checked, then the file is converted",
            },
        }
    }
}

/// A network as the settings' menus offer it.
fn network_choice_label(network: Network) -> &'static str {
    match network {
        Network::Vgg16 => "VGG16 (best matches)",
        Network::GoogLeNet => "GoogLeNet (about 5x faster)",
    }
}

enum CellAction {
    FindSimilar(PathBuf),
    Preview(ResultItem),
    Open(PathBuf),
    Reveal(PathBuf),
}

impl eframe::App for LookalikeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let started = Instant::now();
        let ctx = ui.ctx().clone();
        self.receive_events(&ctx);
        self.take_library(&ctx);
        // Set again below if the results grid is drawn this frame.
        self.results_rect = None;
        self.thumbs.receive(&ctx);
        self.handle_dialog_answers();
        self.handle_dropped_and_pasted(&ctx);

        egui::Panel::top("toolbar").show(ui, |ui| {
            self.toolbar(ui);
            self.notices_bar(ui);
        });
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        if self.show_settings {
            egui::Panel::right("settings")
                .resizable(true)
                .default_size(300.0)
                .show(ui, |ui| self.settings_panel(ui));
        }
        // Whether the crop box is being dragged, in the search view.
        let dragging = match self.view {
            View::Duplicates => {
                egui::CentralPanel::default().show(ui, |ui| self.duplicates_view(ui));
                self.compare_window(&ctx);
                None
            }
            View::Search => {
                let dragging = egui::Panel::left("query")
                    .resizable(true)
                    .default_size(420.0)
                    .min_size(240.0)
                    .show(ui, |ui| self.query_panel(ui))
                    .inner;
                egui::CentralPanel::default().show(ui, |ui| self.results_grid(ui));
                self.preview_window(&ctx);
                Some(dragging)
            }
        };
        self.failures_window(&ctx);
        self.weights_dialog(&ctx);
        self.apply_whitening(&ctx);
        if let Some(dragging) = dragging {
            self.schedule_search(&ctx, dragging);
        }
        self.slowest_frame = self.slowest_frame.max(started.elapsed());
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.settings);
    }
}

/// One job's progress bar, rate, ETA, Cancel button and current file; true when Cancel
/// was clicked.
fn progress_row(ui: &mut egui::Ui, view: &IndexingView) -> bool {
    let what = match view.stage {
        Stage::Library => "Indexing",
        Stage::WhiteningFolder => "Indexing the whitening folder",
        Stage::Variants => "Describing turned and small photos (for duplicates)",
        Stage::Grouping => "Looking for duplicates",
        Stage::CleaningUp => "Moving copies to the trash",
    };
    let (fraction, counts) = match view.total {
        Some(total) if total > 0 => (
            view.done as f32 / total as f32,
            format!("{} / {total}", view.done),
        ),
        Some(_) => (1.0, "nothing new".to_string()),
        None => (0.0, "scanning…".to_string()),
    };
    let elapsed = view.started.elapsed().as_secs_f64();
    let rate = if elapsed > 0.0 {
        view.done as f64 / elapsed
    } else {
        0.0
    };
    let eta = match view.total {
        Some(total) if rate > 0.0 => format!(
            ", {} left",
            format_duration((total - view.done.min(total)) as f64 / rate)
        ),
        _ => String::new(),
    };
    ui.add(
        egui::ProgressBar::new(fraction)
            .desired_width(320.0)
            .text(format!("{what} {}: {counts}", file_name(&view.folder))),
    );
    if matches!(view.stage, Stage::Grouping | Stage::CleaningUp) {
        ui.label(eta.trim_start_matches(", "));
    } else {
        ui.label(format!("{rate:.1} images/s{eta}"));
    }
    let label = if view.cancelling {
        "Cancelling…"
    } else {
        "Cancel"
    };
    let cancel = ui
        .add_enabled(!view.cancelling, egui::Button::new(label))
        .clicked();
    if let Some(current) = &view.current {
        ui.label(RichText::new(current.display().to_string()).weak().small());
    }
    cancel
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `size` scaled to fit in `bounds`, keeping its aspect ratio.
/// How many cells fit side by side: each takes `CELL` plus the spacing between
/// neighbours, and the vertical scroll bar takes its share, so the right-most column is
/// never cut at the panel's edge.
fn grid_columns(ui: &egui::Ui) -> usize {
    let spacing = ui.spacing().item_spacing.x;
    let bar = ui.spacing().scroll.allocated_width();
    let room = ui.available_width() - bar + spacing;
    ((room / (CELL + spacing)).floor() as usize).max(1)
}

fn fit(size: Vec2, bounds: Vec2) -> Vec2 {
    let scale = (bounds.x / size.x.max(1.0)).min(bounds.y / size.y.max(1.0));
    size * scale
}

fn full_uv() -> egui::Rect {
    egui::Rect::from_min_max(egui::Pos2::ZERO, egui::Pos2::new(1.0, 1.0))
}

pub(super) fn format_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.0} KB", b as f64 / f64::from(1 << 10)),
        b => format!("{b} B"),
    }
}

fn format_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(3 << 20), "3.0 MB");
        assert_eq!(format_duration(59.4), "59s");
        assert_eq!(format_duration(61.0), "1m01s");
        assert_eq!(format_duration(7322.0), "2h02m");
        assert_eq!(
            fit(Vec2::new(400.0, 200.0), Vec2::new(100.0, 100.0)),
            Vec2::new(100.0, 50.0)
        );
    }
}
