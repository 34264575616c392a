//! The main window: it owns the panels and windows, routes the executor's events to
//! them, and carries out what they ask for ([`Action`]) as commands.
//!
//! Everything here is bookkeeping: drawing is the panels' ([`super::panels`],
//! [`super::windows`]); work goes to the executor ([`super::executor`]) and the
//! thumbnail pool ([`super::thumbs`]) as commands, and their answers come back as
//! events read at the start of each frame.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{self};

use super::dialogs::{self, Dialogs};
use super::executor::Worker;
use super::panels::duplicates::{DupesAction, DupesView, PageState};
use super::panels::query::QueryView;
use super::panels::results::{GridState, Results};
use super::panels::status::{JobView, LibraryState};
use super::panels::toolbar::{Notices, Shown, Toolbar};
use super::panels::{self, Action};
use super::protocol::{
    CleanupConfig, Command, Library, Photo, ResultItem, Stage, WeightsConfig, WhiteningRequest,
};
use super::settings::{Ranking, STORAGE_KEY, Settings};
use super::thumbs::{DiskCache, Thumbnails};
use super::windows::compare::Compare;
use super::windows::preview::Preview;
use super::windows::weights::WeightsDialog;
use super::windows::{LargePhotos, failures};
use lookalike_core::cleanup::Destination;
use lookalike_core::describe::model::Network;
use lookalike_core::index::{Failure, IndexSummary};
use lookalike_core::read::imaging::CropBox;

pub use super::panels::toolbar::View;

mod events;
mod inputs;

/// Quiet time after the last change of box or settings before searching again.
const SEARCH_DEBOUNCE_S: f64 = 0.25;
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

/// The library shown, and the newer state waiting for its moment.
#[derive(Default)]
struct Shelf {
    library: Option<Arc<Library>>,
    /// Counts the libraries made searchable so far (each refresh adds one).
    generation: u64,
    /// A newer state of the library, waiting for its moment ([`LIVE_REFRESH`]).
    incoming: Option<Arc<Library>>,
    shown_at: Option<Instant>,
    /// A newer library waits only because the pointer is over the results.
    held_by_pointer: bool,
    /// Indexing's last stage (the turned and small photos) has ended for this library.
    variants_ready: bool,
}

/// The app's state; `eframe` calls [`eframe::App::ui`] every frame.
pub struct LookalikeApp {
    settings: Settings,
    worker: Worker,
    thumbs: Thumbnails,
    dialogs: Dialogs,
    model: ModelState,
    shelf: Shelf,
    /// Indexing in progress (then its last stage), or a download.
    indexing: Option<JobView>,
    /// The duplicate search in progress (it may run while indexing goes on).
    grouping: Option<JobView>,
    /// The whitening the executor was last asked for.
    applied_whitening: Option<WhiteningRequest>,
    /// A folder opened before the network was ready.
    pending_folder: Option<PathBuf>,
    last_run: Option<(PathBuf, IndexSummary)>,
    failures: Vec<Failure>,
    query: Option<QueryView>,
    next_query_id: u64,
    scheduler: Scheduler,
    /// The longest frame (time in `ui`) since the app started.
    slowest_frame: Duration,
    // Panels and windows.
    toolbar: Toolbar,
    notices: Notices,
    shown: Shown,
    results: Results,
    dupes: DupesView,
    preview: Preview,
    compare: Compare,
    large: LargePhotos,
    weights: WeightsDialog,
}

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
        let mut dupes = DupesView::new();
        dupes.catalogue_warned = settings.catalogue_warned;
        let ctx = cc.egui_ctx.clone();
        let cleanup = CleanupConfig {
            journal: config.journal,
            destination: config.trash,
        };
        let worker = Worker::spawn(config.index_dir, cleanup, config.weights, ctx.clone())?;
        let cache = DiskCache::new(&config.cache_dir, settings.thumbnail_cache_bytes());
        let thumbs = Thumbnails::spawn(cache, config.thumbnail_threads, ctx)?;
        worker.send(Command::LoadModel {
            path: settings.model.clone(),
            network: settings.network,
            backend: settings.backend,
        });
        Ok(Self {
            settings,
            worker,
            thumbs,
            dialogs: Dialogs::default(),
            model: ModelState::Loading,
            shelf: Shelf::default(),
            indexing: None,
            grouping: None,
            applied_whitening: None,
            pending_folder: None,
            last_run: None,
            failures: Vec::new(),
            query: None,
            next_query_id: 1,
            scheduler: Scheduler::default(),
            slowest_frame: Duration::ZERO,
            toolbar: Toolbar::default(),
            notices: Notices::default(),
            shown: Shown {
                failures: false,
                settings: false,
                view: View::Search,
            },
            results: Results::default(),
            dupes,
            preview: Preview::default(),
            compare: Compare::default(),
            large: LargePhotos::default(),
            weights: WeightsDialog::default(),
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
            self.notices
                .push(format!("{} is not a folder", folder.display()));
            return;
        }
        self.settings.remember_folder(folder.clone());
        if !matches!(self.model, ModelState::Ready { .. }) {
            self.pending_folder = Some(folder);
            return;
        }
        self.failures.clear();
        self.shelf.variants_ready = false;
        self.indexing = Some(JobView::new(folder.clone(), Stage::Library));
        let whitening = self.whitening_request();
        self.applied_whitening = Some(whitening.clone());
        self.notices.missing_photos = None;
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
        self.query = Some(QueryView::new(id, path.clone()));
        self.results = Results::default();
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
        if let Some(library) = &self.shelf.library {
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

    /// Stops the duplicate search in progress.
    pub fn cancel_duplicates(&mut self) {
        if let Some(grouping) = &mut self.grouping {
            grouping.cancelling = true;
            self.worker.send(Command::CancelDuplicates);
        }
    }

    /// Shows the duplicate review (or the search).
    pub fn set_view(&mut self, view: View) {
        self.shown.view = view;
    }

    /// Settings changes take effect on the next frame, as from the settings panel.
    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    // ---- What a test can see ------------------------------------------------------

    pub fn settings(&self) -> &Settings {
        &self.settings
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

    /// Photos found but not described yet, shown marked in the grid while indexing.
    pub fn library_waiting(&self) -> usize {
        self.shelf.library.as_ref().map_or(0, |l| l.waiting.len())
    }

    /// Whether indexing's last stage, describing the turned and small photos for the
    /// duplicate finder, has ended for this library.
    pub fn variants_ready(&self) -> bool {
        self.shelf.variants_ready
    }

    /// Whether the library shown is the whole folder, described (indexing has ended).
    pub fn library_complete(&self) -> bool {
        self.shelf.library.as_ref().is_some_and(|l| l.complete)
    }

    /// Photos in the searchable library.
    pub fn library_len(&self) -> Option<usize> {
        self.shelf.library.as_ref().map(|l| l.photos.len())
    }

    /// The photos of the library as the grid shows them (a RAW + JPEG pair once).
    pub fn library_photos(&self) -> Vec<Photo> {
        self.shelf
            .library
            .as_ref()
            .map_or_else(Vec::new, |l| l.photos.iter().cloned().collect())
    }

    /// Counts the libraries made searchable so far (each refresh adds one).
    pub fn library_generation(&self) -> u64 {
        self.shelf.generation
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
    pub fn query_mapping(&self) -> Option<super::widgets::crop::Mapping> {
        self.query.as_ref().and_then(|q| q.crop.mapping())
    }

    /// Why the last weights download failed, if it did.
    pub fn download_error(&self) -> Option<&str> {
        self.weights.error.as_deref()
    }

    /// The library whose photos are mostly gone, as the app asks about it: `(folder,
    /// missing, indexed)`.
    pub fn missing_photos(&self) -> Option<&(PathBuf, usize, usize)> {
        self.notices.missing_photos.as_ref()
    }

    /// Messages shown to the user.
    pub fn notices(&self) -> &[String] {
        self.notices.messages()
    }

    /// Thumbnails asked for and not yet made.
    pub fn pending_thumbnails(&self) -> usize {
        self.thumbs.pending()
    }

    /// The longest time one frame spent in [`eframe::App::ui`].
    pub fn slowest_frame(&self) -> Duration {
        self.slowest_frame
    }

    /// The compare window (its pair is `None` while it is closed).
    pub fn compare(&self) -> &Compare {
        &self.compare
    }

    /// Whether `path` is decoded for the large views (compare, preview).
    pub fn large_loaded(&self, path: &std::path::Path) -> bool {
        self.large.get(path).is_some()
    }

    /// The duplicate review's state.
    pub fn duplicates(&self) -> &DupesView {
        &self.dupes
    }

    // ---- Actions --------------------------------------------------------------------

    /// Carries out what the user asked for in a panel or window.
    fn act(&mut self, action: Action, ctx: &egui::Context) {
        match action {
            Action::OpenFolder(folder) => self.open_folder(folder),
            Action::ForgetMissingPhotos(folder) => self.open_folder_with(folder, true),
            Action::OpenQuery(path) => self.open_query(path),
            Action::Ask(purpose) => self.dialogs.open(purpose, ctx),
            Action::ChooseNetwork(network) => self.choose_network(network),
            Action::ChooseWeights(path) => self.choose_weights(path),
            Action::ReloadNetwork => {
                self.model = ModelState::Loading;
                self.worker.send(Command::LoadModel {
                    path: self.settings.model.clone(),
                    network: self.settings.network,
                    backend: self.settings.backend,
                });
            }
            Action::DownloadWeights(network) => self.worker.send(Command::DownloadWeights {
                network,
                backend: self.settings.backend,
            }),
            // A download runs in the indexing slot.
            Action::CancelDownload => self.worker.send(Command::CancelIndexing),
            Action::CancelIndexing => self.cancel_indexing(),
            Action::CancelDuplicates => self.cancel_duplicates(),
            Action::Preview(item) => {
                self.worker.send(Command::LoadPreview {
                    path: item.photo.path.clone(),
                });
                self.preview.item = Some(item);
            }
            Action::OpenInViewer(path) => {
                if let Err(e) = dialogs::open_with_system(&path) {
                    self.notices
                        .push(format!("Could not open {}: {e}", path.display()));
                }
            }
            Action::ShowInFileManager(path) => {
                if let Err(e) = dialogs::reveal_in_file_manager(&path) {
                    self.notices
                        .push(format!("Could not show {}: {e}", path.display()));
                }
            }
            Action::Duplicates(action) => self.dupes_action(action),
        }
    }

    fn act_on(&mut self, action: Option<Action>, ctx: &egui::Context) {
        if let Some(action) = action {
            self.act(action, ctx);
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
                    keeping: self.settings.keeping(),
                });
            }
            DupesAction::Remove(matches) => {
                if let Some(library) = &self.shelf.library {
                    self.grouping = Some(JobView::new(library.folder.clone(), Stage::CleaningUp));
                }
                self.dupes.cleaning = true;
                self.settings.catalogue_warned = true;
                self.worker.send(Command::RemoveFiles { matches });
            }
            DupesAction::Undo => self.worker.send(Command::UndoCleanup),
            DupesAction::Decide(verdict, photos) => {
                self.worker.send(Command::Decide { verdict, photos })
            }
            DupesAction::ForgetDecision(n) => self.worker.send(Command::ForgetDecision(n)),
            DupesAction::Compare(a, b) => {
                for path in [&a, &b] {
                    if self.large.get(path).is_none() {
                        self.worker
                            .send(Command::LoadPreview { path: path.clone() });
                    }
                }
                self.compare.pair = Some((a, b));
            }
        }
    }

    // ---- Drawing --------------------------------------------------------------------

    /// The search view: the query panel at the left, the results grid, the preview.
    /// Whether the crop box is being dragged.
    fn search_view(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) -> bool {
        let dragging = egui::Panel::left("query")
            .resizable(true)
            .default_size(420.0)
            .min_size(240.0)
            .show(ui, |ui| panels::query::show(ui, self.query.as_mut()))
            .inner;
        let state = GridState {
            library: self.shelf.library.as_deref(),
            indexing: self.indexing.is_some(),
            browsing: self.query.is_none(),
            searching: self.is_searching(),
            held_by_pointer: self.shelf.held_by_pointer,
        };
        let action = egui::CentralPanel::default()
            .show(ui, |ui| self.results.show(ui, &state, &mut self.thumbs))
            .inner;
        self.act_on(action, ctx);
        let action = self.preview.show(ctx, self.query.as_ref(), &self.large);
        self.act_on(action, ctx);
        dragging
    }

    /// The duplicate review, and the comparison of two of its photos.
    fn duplicates_view(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let state = PageState {
            open: self.shelf.library.is_some(),
            complete: self.library_complete(),
            generation: self.shelf.generation,
            variants_pending: self
                .indexing
                .as_ref()
                .is_some_and(|v| v.stage == Stage::Variants),
        };
        let actions = egui::CentralPanel::default()
            .show(ui, |ui| self.dupes.page(ui, &state, &mut self.thumbs))
            .inner;
        for action in actions {
            self.dupes_action(action);
        }
        self.compare.show(ctx, &self.large);
    }

    /// The toolbar and notices at the top, the status bar, the settings at the right.
    fn frame_panels(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let (toolbar, notices) = egui::Panel::top("toolbar")
            .show(ui, |ui| {
                let toolbar =
                    self.toolbar
                        .show(ui, &mut self.settings, &self.failures, &mut self.shown);
                (toolbar, self.notices.show(ui))
            })
            .inner;
        self.act_on(toolbar, ctx);
        self.act_on(notices, ctx);
        let backend = match &self.model {
            ModelState::Ready { label, .. } => Some(label.as_str()),
            _ => None,
        };
        let state = LibraryState {
            library: self.shelf.library.as_deref(),
            last_run: self.last_run.as_ref().map(|(_, summary)| summary),
            backend,
            network: self.settings.network,
        };
        let jobs = [self.indexing.as_ref(), self.grouping.as_ref()];
        let action = egui::Panel::bottom("status")
            .show(ui, |ui| panels::status::show(ui, jobs, &state))
            .inner;
        self.act_on(action, ctx);
        if self.shown.settings {
            let library = self.shelf.library.as_ref().map(|l| l.folder.clone());
            let action = egui::Panel::right("settings")
                .resizable(true)
                .default_size(300.0)
                .show(ui, |ui| {
                    panels::settings::show(ui, &mut self.settings, &self.model, library.as_deref())
                })
                .inner;
            self.act_on(action, ctx);
        }
    }

    /// The first-run dialog, while no usable weights are loaded.
    fn weights_dialog(&mut self, ctx: &egui::Context) {
        if let ModelState::Problem { message, missing } = &self.model {
            let (message, missing) = (message.clone(), *missing);
            let action = self
                .weights
                .show(ctx, self.settings.network, &message, missing);
            self.act_on(action, ctx);
        }
    }
}

impl eframe::App for LookalikeApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let started = Instant::now();
        let ctx = ui.ctx().clone();
        self.receive_events(&ctx);
        self.take_library(&ctx);
        // Set again below if the results grid is drawn this frame.
        self.results.rect = None;
        self.thumbs.receive(&ctx);
        self.thumbs
            .set_cache_limit(self.settings.thumbnail_cache_bytes());
        self.handle_dialog_answers();
        self.handle_dropped_and_pasted(&ctx);
        self.frame_panels(ui, &ctx);
        // Whether the crop box is being dragged, in the search view.
        let dragging = match self.shown.view {
            View::Duplicates => {
                self.duplicates_view(ui, &ctx);
                None
            }
            View::Search => Some(self.search_view(ui, &ctx)),
        };
        failures::show(&ctx, &self.failures, &mut self.shown.failures);
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
