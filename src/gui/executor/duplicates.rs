//! The duplicate search, as a job on the library's descriptors and their views.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::jobs::{JobKind, JobOutcome};
use super::library::{Searchable, photo};
use super::{EventSink, Executor};
use crate::gui::protocol::{Burst, DuplicateGroup, Event, FoundDuplicates, JobEnd, Stage};
use lookalike_core::describe::whiten::Whitening;
use lookalike_core::find::dupes::{self};
use lookalike_core::find::intent::Intent;
use lookalike_core::find::search::Database;
use lookalike_core::index::{Control, Index};

impl Executor {
    /// Starts the duplicate search as a job (Cancel stops it), on the photos described
    /// so far (the whole library once it is indexed), compared as "the same scene or
    /// object" whatever the search's intent: with `variants`, also the turned and
    /// enlarged photos that indexing has described so far.
    pub(super) fn find_duplicates(&mut self, threshold: f32, variants: bool) {
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
        let index_path = self.library_index_path(&library.index);
        let mut keeping = self.keeping.clone();
        match self.decisions() {
            Ok(decisions) => {
                keeping.decided = decisions.list().to_vec();
                self.sink.send(Event::Decisions(keeping.decided.clone()));
            }
            Err(error) => self.sink.send(Event::Notice(format!("{error:#}"))),
        }
        let job = DuplicatesJob {
            index: library.index.clone(),
            index_path,
            database,
            whitening,
            variants,
            sink: self.sink.clone(),
            threshold,
            keeping,
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
    pub(super) fn duplicate_whitening(&self, library: &Searchable) -> Option<Whitening> {
        Intent::Instance
            .shipped_whitening(
                library.index.provenance.pooling,
                &self.model_sha256,
                self.weights_sha256.as_deref(),
            )
            .or_else(|| library.whitening.clone())
    }

    /// Turns the rows the job grouped into photos with suggested keepers for the UI.
    pub(super) fn duplicates_found(
        &mut self,
        serial: u64,
        threshold: f32,
        variants: bool,
        outcome: JobEnd<dupes::Found>,
        seconds: f64,
    ) {
        if serial != self.library_serial {
            // The library changed while the job ran: its rows are another library's.
            return self.find_duplicates(threshold, variants);
        }
        let Some(library) = &self.library else {
            return;
        };
        let index = &library.index;
        let photos = |members: &[dupes::Member]| {
            members
                .iter()
                .map(|m| photo(index, &index.entries[m.row]))
                .collect()
        };
        let outcome = outcome.map(|found| FoundDuplicates {
            series: found
                .series
                .iter()
                .map(|series| Burst {
                    photos: photos(&series.members),
                    seconds: series.seconds(),
                    offsets: series.offsets(),
                })
                .collect(),
            groups: found
                .groups
                .into_iter()
                .map(|group| DuplicateGroup {
                    photos: photos(group.members()),
                    group,
                })
                .collect(),
        });
        self.sink.send(Event::Duplicates {
            outcome,
            threshold,
            seconds,
        });
    }
}

impl Executor {
    /// The decisions remembered for the open library (beside its indexes).
    fn decisions(&self) -> Result<dupes::Decisions, String> {
        let library = self.library.as_ref().ok_or("open a library folder first")?;
        let index_path = self.library_index_path(&library.index);
        let dir = index_path
            .parent()
            .ok_or("the library's index has no folder")?;
        dupes::Decisions::load(&dupes::Decisions::path_for(dir, &library.index.root))
            .map_err(|e| e.to_string())
    }

    /// Remembers `verdict` on `photos` (paths of the library), then groups again.
    pub(super) fn decide(&mut self, verdict: dupes::Verdict, photos: &[PathBuf]) {
        let Some(library) = &self.library else {
            return;
        };
        let relative: Vec<String> = photos
            .iter()
            .filter_map(|p| library.index.relative(p))
            .collect();
        let added = self
            .decisions()
            .and_then(|mut d| d.add(verdict, relative).map_err(|e| e.to_string()));
        self.after_decision(added);
    }

    /// Forgets decision `n`, then groups again.
    pub(super) fn forget_decision(&mut self, n: usize) {
        let forgotten = self
            .decisions()
            .and_then(|mut d| d.remove(n).map(drop).map_err(|e| e.to_string()));
        self.after_decision(forgotten);
    }

    fn after_decision(&mut self, done: Result<(), String>) {
        match done {
            Ok(()) => {
                if let Some((threshold, variants)) = self.last_duplicates {
                    self.find_duplicates(threshold, variants);
                }
            }
            Err(error) => self.sink.send(Event::Notice(error)),
        }
    }
}

/// The duplicate search: the variants indexing has described (if asked), then the
/// grouping.
pub(super) struct DuplicatesJob {
    pub(super) index: Index,
    pub(super) index_path: PathBuf,
    /// The library's database when it has the duplicates' whitening; else made here.
    pub(super) database: Option<Arc<Database>>,
    pub(super) whitening: Option<Whitening>,
    pub(super) variants: bool,
    pub(super) sink: EventSink,
    pub(super) threshold: f32,
    pub(super) keeping: dupes::Keeping,
}

impl DuplicatesJob {
    fn run(self, stop: &AtomicBool) -> JobEnd<dupes::Found> {
        match self.group(stop) {
            Ok(found) => JobEnd::Done(found),
            Err(_) if stop.load(Ordering::Relaxed) => JobEnd::Stopped,
            Err(why) => JobEnd::Failed(why),
        }
    }

    fn group(self, stop: &AtomicBool) -> Result<dupes::Found, String> {
        let finish = |index: &Index| {
            Database::from_index(index, self.whitening.as_ref()).map_err(|e| e.to_string())
        };
        let db = match &self.database {
            Some(db) => Arc::clone(db),
            None => Arc::new(finish(&self.index)?),
        };
        // Only what is cached: indexing describes the variants and makes the
        // thumbnails, never this job.
        let quiet = Control::stop_only(stop);
        let mut others = Vec::new();
        let thumbnails = if self.variants {
            let cached = dupes::update_variants(&self.index, &self.index_path, None, quiet)
                .map_err(|e| e.to_string())?;
            for (variant, aligned) in cached.aligned {
                others.push((variant, finish(&aligned)?));
            }
            cached.thumbnails
        } else {
            dupes::update_thumbnails(&self.index, &self.index_path, None, quiet)
                .map_err(|e| e.to_string())?
                .aligned
        };
        if stop.load(Ordering::Relaxed) {
            return Err(dupes::GroupingError::Stopped.to_string());
        }
        let rule = dupes::Rule::calibrated(self.index.provenance.pooling, self.variants)
            .with_threshold(self.threshold);
        self.sink
            .forward_progress(Stage::Grouping, stop, |control| {
                let keeping = &self.keeping;
                dupes::find_in(
                    &self.index,
                    &db,
                    &others,
                    &thumbnails,
                    rule,
                    keeping,
                    control,
                )
            })
            .map_err(|e| e.to_string())
    }
}
