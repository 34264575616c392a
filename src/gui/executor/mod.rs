//! The one place where the app's commands are carried out.
//!
//! The UI thread only sends [`Command`]s and reads [`Event`]s; this executor thread
//! owns the network, the library's index and database, and the query images. Long work
//! runs as jobs on threads of their own (each with a stop flag) and reports back
//! through the same inbox, so every change of state happens here, in order. One file
//! per family of work: [`jobs`] (starting, stopping, ending), [`network`], [`library`]
//! (indexing), [`whitening`], [`search`], [`duplicates`], [`cleanup`].

mod cleanup;
mod duplicates;
mod jobs;
mod library;
mod network;
mod search;
mod whitening;

pub use search::{decode_for_display, display_image};

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError, channel, sync_channel};
use std::thread::JoinHandle;

use anyhow::Context as _;
use eframe::egui;

use crate::gui::protocol::{
    CleanupConfig, Command, Event, PREVIEW_SIDE, Stage, WeightsConfig, WhiteningRequest,
};
use jobs::{Job, JobOutcome, Slot};
use library::Searchable;
use lookalike_core::describe::describer::Describer;
use lookalike_core::describe::model::Network;
use lookalike_core::index::{Control, Index, Partial};
use search::QueryImage;

/// Events waiting for the UI; progress beyond this is dropped, never waited for.
const EVENT_CAPACITY: usize = 256;

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

    /// Runs `work` watched by `stop` and by progress that reaches the UI as `stage`.
    fn forward_progress<R>(
        &self,
        stage: Stage,
        stop: &AtomicBool,
        work: impl FnOnce(Control<'_>) -> R,
    ) -> R {
        let (progress, updates) = sync_channel(64);
        let sink = self.clone();
        let forward = std::thread::spawn(move || {
            for progress in updates {
                sink.offer(Event::Indexing { stage, progress });
            }
        });
        let result = work(Control::new(stop, &progress));
        drop(progress);
        let _ = forward.join();
        result
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
    /// The keeper rules and folders of the last duplicate search.
    keeping: lookalike_core::find::dupes::Keeping,
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
            keeping: Default::default(),
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
            } => self.search_and_answer(generation, query, crop, ranking),
            Command::LoadPreview { path } => match decode_for_display(&path, PREVIEW_SIDE) {
                Ok(image) => self.sink.send(Event::Preview { path, image }),
                Err(error) => self.sink.send(Event::Notice(format!("{error:#}"))),
            },
            Command::FindDuplicates {
                threshold,
                variants,
                keeping,
            } => {
                self.keeping = keeping;
                self.find_duplicates(threshold, variants)
            }
            Command::RemoveFiles { matches } => self.remove_files(&matches),
            Command::UndoCleanup => self.undo_cleanup(),
            Command::Decide { verdict, photos } => self.decide(verdict, &photos),
            Command::ForgetDecision(n) => self.forget_decision(n),
        }
    }
}
