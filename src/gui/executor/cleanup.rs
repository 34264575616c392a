//! Moving verified copies away (journaled) and undoing it.

use std::collections::HashSet;

use super::Executor;
use super::jobs::{JobKind, JobOutcome};
use crate::gui::protocol::{Event, JobEnd, Stage};
use lookalike_core::cleanup::{Indexed, Journal, Report, VerifiedMatch};
use lookalike_core::index;

impl Executor {
    /// Moves the verified copies away through [`Journal::remove`], which checks every
    /// file and its keeper on disk first, as a job (Cancel stops it between two files).
    /// Only photos of the library, as indexed.
    pub(super) fn remove_files(&mut self, matches: &[VerifiedMatch]) {
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
            let removed = sink.forward_progress(Stage::CleaningUp, stop, |control| {
                journal.remove(&known, &destination, control)
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

    pub(super) fn undo_cleanup(&mut self) {
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
    pub(super) fn cleanup_done(&mut self, report: Report, undo: bool) {
        self.sink.send(Event::Cleanup { report, undo });
        if let Some(library) = &self.library {
            let folder = library.index.root.clone();
            let max_side = library.index.provenance.max_side;
            let request = library.request.clone();
            self.open_library(folder, max_side, request, false);
        }
    }
}
