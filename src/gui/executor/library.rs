//! The library: indexing it (live, searchable from the first photo), its turned and
//! small views, and what the UI is shown of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;

use super::jobs::{JobKind, JobOutcome, Slot};
use super::{EventSink, Executor, Internal};
use crate::gui::protocol::{
    Event, JobEnd, Library, Photo, Pieces, Stage, Waiting, WhiteningRequest,
};
use crate::gui::settings::WhiteningSource;
use lookalike_core::describe::describer::{Describer, DescriberOptions};
use lookalike_core::describe::whiten::Whitening;
use lookalike_core::find::dupes::{self, Shots};
use lookalike_core::find::search::Database;
use lookalike_core::index::{self, Entry, Index, IndexOptions, IndexSummary, Partial, Provenance};

pub(super) struct Searchable {
    pub(super) index: Index,
    /// RAW + JPEG pairs (the JPEG is not shown), kept up to date as the library grows.
    pub(super) shots: Shots,
    /// The photos as the grid shows them (a RAW + JPEG pair once), as last sent.
    pub(super) photos: Pieces<Photo>,
    /// Shared with the duplicate search running on its job thread (which reads only
    /// the photos' own rows, not their views).
    pub(super) database: Arc<Database>,
    /// Whether the query is turned too (both ways): once the views are attached.
    pub(super) turned: bool,
    pub(super) whitening: Option<Whitening>,
    pub(super) request: WhiteningRequest,
    /// Files still to describe while the library is being indexed (empty after).
    pub(super) waiting: Waiting,
    pub(super) complete: bool,
    /// How the descriptors are finished, in words.
    pub(super) description: String,
}

impl Executor {
    pub(super) fn open_library(
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

    pub(super) fn indexing_done(
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
    pub(super) fn describe_variants(&mut self) {
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
            let described = sink.forward_progress(Stage::Variants, stop, |control| {
                dupes::update_variants(&index, &index_path, Some(&describer), control)
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
    pub(super) fn grow_library(&mut self, partial: Partial) {
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
                    shots: Shots::default(),
                    photos: Pieces::default(),
                    database: Arc::default(),
                    turned: false,
                    whitening: None,
                    request: request.clone(),
                    waiting: Waiting::new(waiting),
                    complete: false,
                    index,
                    description: String::new(),
                });
                self.rewhiten_growing(request);
            }
            Partial::Described { entries, failed } => {
                let Some(library) = self.library.as_mut().filter(|l| !l.complete) else {
                    return;
                };
                Arc::make_mut(&mut library.database).extend(&entries, library.whitening.as_ref());
                let root = library.index.root.clone();
                let described: Vec<PathBuf> = entries.iter().map(|e| root.join(&e.path)).collect();
                library
                    .waiting
                    .done(described.iter().chain(&failed).map(PathBuf::as_path));
                let first = library.index.entries.len();
                library.index.entries.extend(entries);
                self.publish_from(first);
            }
        }
    }

    /// Tells the UI about the library as it is now.
    pub(super) fn publish_library(&mut self) {
        if let Some(library) = &mut self.library {
            library.shots = Shots::default();
            library.photos = Pieces::default();
        }
        self.publish_from(0);
    }

    /// Tells the UI about the library as it is now, whose rows from `first` on are new
    /// since the last time: they are a piece added to the photos sent before, unless
    /// they pair with a photo shown before (then the list is made again).
    fn publish_from(&mut self, first: usize) {
        let Some(library) = &mut self.library else {
            return;
        };
        let index = &library.index;
        let first = if library.shots.add(&index.entries, first) {
            library.photos = Pieces::default();
            0
        } else {
            first
        };
        // A RAW + JPEG pair is one photo: the RAW, with its JPEG named.
        let siblings = library.shots.siblings();
        let photos = (first..index.entries.len())
            .filter(|row| !siblings.contains_key(row))
            .map(|row| paired_photo(index, library.shots.jpeg_of(), row))
            .collect();
        library.photos.push(photos);
        let shown = Library {
            folder: index.root.clone(),
            photos: library.photos.clone(),
            waiting: library.waiting.clone(),
            complete: library.complete,
            whitening: library.description.clone(),
        };
        self.sink.send(Event::LibraryReady(Arc::new(shown)));
    }

    /// Where the app keeps the index of the library folder `root`.
    pub(super) fn library_index_path(&self, index: &Index) -> PathBuf {
        index::library_index_path(&self.index_dir, &index.root, &index.provenance, "")
    }
}

/// One indexing run: the library, then the whitening folder if one is chosen.
pub(super) struct IndexJob {
    pub(super) describer: Describer,
    pub(super) provenance: Provenance,
    pub(super) index_dir: PathBuf,
    pub(super) sink: EventSink,
    pub(super) forget_missing: bool,
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
        let updated = self.sink.forward_progress(stage, stop, |control| {
            index::update_index_live(&self.describer, &self.provenance, &options, control, live)
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

pub(super) fn photo(index: &Index, entry: &Entry) -> Photo {
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
pub(super) fn paired_photo(index: &Index, jpeg_of: &HashMap<usize, usize>, row: usize) -> Photo {
    Photo {
        sibling: jpeg_of
            .get(&row)
            .map(|&jpeg| index.absolute(&index.entries[jpeg])),
        ..photo(index, &index.entries[row])
    }
}
