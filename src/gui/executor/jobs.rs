//! Starting, stopping and ending the executor's background jobs.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use super::{Executor, Internal};
use crate::gui::protocol::{Event, JobEnd, WhiteningRequest};
use lookalike_core::cleanup::Report;
use lookalike_core::find::dupes;
use lookalike_core::index::{Index, IndexSummary};

/// A background job in progress: one indexing (or download) and one duplicate search
/// at a time, each with its own stop flag.
pub(super) struct Job {
    pub(super) id: u64,
    pub(super) kind: JobKind,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) thread: JoinHandle<()>,
}

/// What a job is doing: how its end is told to the UI when it crashes or is replaced.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum JobKind {
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
pub(super) enum JobOutcome {
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
        outcome: JobEnd<dupes::Found>,
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

/// Which of the executor's two job slots a job runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
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

impl Executor {
    /// Runs `work` on a job thread with a fresh stop flag and its id; its outcome comes
    /// back as [`Internal::Job`], always, even when it panics. The job in progress in
    /// the same slot is stopped first.
    pub(super) fn start_job(
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

    pub(super) fn slot(&mut self, slot: Slot) -> &mut Option<Job> {
        match slot {
            Slot::Indexing => &mut self.indexing,
            Slot::Grouping => &mut self.grouping,
        }
    }

    /// Stops the job in progress in `slot`, if any, and waits for its thread. A job
    /// stopped this way is reported as stopped, so the UI does not wait for it.
    pub(super) fn stop_job(&mut self, slot: Slot) {
        if let Some(job) = self.slot(slot).take() {
            job.stop.store(true, Ordering::Relaxed);
            let _ = job.thread.join();
            if let JobKind::Duplicates { .. } | JobKind::Variants | JobKind::Cleanup = job.kind {
                self.job_unfinished(&job.kind, JobEnd::Stopped);
            }
        }
    }

    /// Tells the UI that a job of `kind` ended without its result: stopped or failed.
    pub(super) fn job_unfinished(&mut self, kind: &JobKind, end: JobEnd<Infallible>) {
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

    pub(super) fn job_ended(&mut self, id: u64, outcome: JobOutcome) {
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
}
