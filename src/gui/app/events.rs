//! The executor's events, each to the state it changes.

use std::path::PathBuf;

use eframe::egui::{self, Vec2};

use super::{LookalikeApp, ModelState};
use crate::gui::panels::results::Results;
use crate::gui::panels::status::JobView;
use crate::gui::protocol::{Event, JobEnd, Stage, WhiteningRequest};
use lookalike_core::cleanup::Report;
use lookalike_core::describe::model::Network;
use lookalike_core::find::intent::Intent;
use lookalike_core::index::{IndexSummary, Progress};

impl LookalikeApp {
    pub(super) fn whitening_request(&self) -> WhiteningRequest {
        WhiteningRequest {
            source: self.settings.whitening.clone(),
            dim: self.settings.whiten_dim,
            power: self.settings.whiten_power,
            views: self.settings.intent == Intent::Instance,
        }
    }

    pub(super) fn receive_events(&mut self, ctx: &egui::Context) {
        while let Some(event) = self.worker.try_recv() {
            self.apply(event, ctx);
        }
    }

    /// Routes an event of the executor to the state it changes.
    pub(super) fn apply(&mut self, event: Event, ctx: &egui::Context) {
        match event {
            Event::ModelReady {
                label,
                path,
                network,
            } => self.model_ready(label, path, network),
            Event::ModelProblem { message, missing } => {
                self.weights.download = None;
                self.model = ModelState::Problem { message, missing };
            }
            Event::Downloading { done, total } => self.weights.download = Some((done, total)),
            Event::DownloadFailed(message) => {
                self.weights.download = None;
                self.weights.error = Some(message);
            }
            Event::Indexing { stage, progress } => self.progress(stage, progress),
            Event::IndexingEnded {
                folder,
                outcome,
                variants_follow,
            } => self.indexing_ended(folder, outcome, variants_follow),
            Event::LibraryReady(library) => self.shelf.incoming = Some(library),
            Event::VariantsEnded { outcome } => self.variants_ended(outcome),
            Event::QueryLoaded {
                id,
                path,
                width,
                height,
                display,
            } => self.query_loaded(ctx, id, path, [width, height], display),
            Event::QueryFailed { id, message } => self.query_failed(id, message),
            Event::Results {
                generation,
                hits,
                seconds,
                refining,
            } => {
                if generation == self.scheduler.generation {
                    self.results = Results::of(generation, hits, seconds, refining);
                }
            }
            Event::SearchFailed {
                generation,
                message,
            } => {
                if generation == self.scheduler.generation {
                    self.results = Results::failed(generation, message);
                }
            }
            Event::Preview { path, image } => self.large.insert(ctx, path, image),
            Event::Duplicates {
                outcome,
                threshold,
                seconds,
            } => {
                self.grouping = None;
                self.dupes
                    .set_outcome(outcome, threshold, self.shelf.generation, seconds);
            }
            Event::Decisions(decisions) => self.dupes.decisions = decisions,
            Event::Cleanup { report, undo } => self.cleaned_up(report, undo),
            Event::PhotosMissing {
                folder,
                missing,
                entries,
            } => self.notices.missing_photos = Some((folder, missing, entries)),
            Event::CleanupFailed(message) => {
                self.grouping = None;
                self.dupes.cleaning = false;
                self.notices.push(message);
            }
            Event::Notice(message) => self.notices.push(message),
        }
    }

    /// The query photo `id` (if still the query) is decoded: shown from now on.
    fn query_loaded(
        &mut self,
        ctx: &egui::Context,
        id: u64,
        path: PathBuf,
        [width, height]: [u32; 2],
        display: egui::ColorImage,
    ) {
        if let Some(query) = self.query.as_mut().filter(|q| q.id == id) {
            let name = format!("query:{}", path.display());
            query.texture = Some(ctx.load_texture(name, display, egui::TextureOptions::LINEAR));
            query.size = Vec2::new(width as f32, height as f32);
        }
    }

    fn query_failed(&mut self, id: u64, message: String) {
        if self.query.as_ref().is_some_and(|q| q.id == id) {
            self.query = None;
            self.notices
                .push(format!("Could not open the query: {message}"));
        }
    }

    pub(super) fn model_ready(&mut self, label: String, path: PathBuf, network: Network) {
        self.weights.download = None;
        // Another network's descriptors: the open library is indexed again.
        if network != self.settings.network && self.pending_folder.is_none() {
            self.pending_folder = self.shelf.library.as_ref().map(|l| l.folder.clone());
        }
        self.settings.network = network;
        self.weights.error = None;
        if self.settings.model.is_some() || matches!(self.model, ModelState::Problem { .. }) {
            self.settings.model = Some(path.clone());
        }
        self.model = ModelState::Ready { label, path };
        if let Some(folder) = self.pending_folder.take() {
            self.open_folder(folder);
        }
    }

    /// A job's progress: to its row in the status bar; failures to the list.
    pub(super) fn progress(&mut self, stage: Stage, progress: Progress) {
        let folder = self.shelf.library.as_ref().map(|l| l.folder.clone());
        let view = match stage {
            Stage::Grouping | Stage::CleaningUp => &mut self.grouping,
            _ => &mut self.indexing,
        };
        // The variants and the duplicate search are not started from a folder: show
        // them all the same.
        if view.is_none()
            && matches!(stage, Stage::Variants | Stage::Grouping | Stage::CleaningUp)
            && let Some(folder) = folder
        {
            *view = Some(JobView::new(folder, stage));
        }
        let Some(view) = view else {
            return;
        };
        view.advance(stage, &progress);
        if let Progress::Failed(failure) | Progress::Damaged(failure) = progress {
            self.failures.push(failure);
        }
    }

    pub(super) fn indexing_ended(
        &mut self,
        folder: PathBuf,
        outcome: JobEnd<IndexSummary>,
        variants_follow: bool,
    ) {
        // Shown as one run up to the variants' end, with no idle frame between.
        self.indexing = variants_follow.then(|| JobView::new(folder.clone(), Stage::Variants));
        match outcome {
            JobEnd::Done(summary) => {
                // The summary has every failure; progress may have missed some.
                self.failures = [&summary.failed[..], &summary.damaged].concat();
                if summary.entries == 0 && !summary.stopped {
                    self.notices.push(format!(
                        "No photos found in {} (looked for {} files)",
                        folder.display(),
                        lookalike_core::read::imaging::IMAGE_EXTENSIONS.join(", ")
                    ));
                }
                self.last_run = Some((folder, summary));
            }
            JobEnd::Failed(message) => self.notices.push(format!("Indexing stopped: {message}")),
            // A run stopped on request ends `Done`, its summary says so.
            JobEnd::Stopped => {}
        }
    }

    pub(super) fn variants_ended(&mut self, outcome: JobEnd<usize>) {
        self.shelf.variants_ready = matches!(outcome, JobEnd::Done(_));
        if self
            .indexing
            .as_ref()
            .is_some_and(|v| v.stage == Stage::Variants)
        {
            self.indexing = None;
        }
        if let JobEnd::Failed(message) = outcome {
            self.notices.push(format!(
                "Turned and small copies could not be described: {message}"
            ));
        }
    }

    pub(super) fn cleaned_up(&mut self, report: Report, undo: bool) {
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
        self.notices.push(format!(
            "{stopped}{verb} {} files{place}",
            report.moved.len()
        ));
        for skipped in report.skipped {
            self.notices.push(format!(
                "Left alone: {}: {}",
                skipped.path.display(),
                skipped.reason
            ));
        }
    }
}
