//! Bringing an index up to date with its folder: only new or changed files (by size
//! and modification time) go through the network, deleted ones are dropped, every
//! failure is collected with its path. Decoding runs on worker threads while the
//! network describes what they produce (a bounded channel between them), progress is
//! reported without ever blocking on the receiver, a stop flag ends the run cleanly,
//! and the index is checkpointed atomically so an interrupted run resumes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::plan::Plan;
use super::{
    Checkpoints, Entry, Index, OnDisk, Provenance, SameFile, ScanOptions, ScanOutcome, Scanned,
    scan_folder,
};
use crate::describe::describer::Describer;
use crate::read::Damage;
use crate::read::imaging;
use crate::support::error::{Error, Result};

/// A file that could not be indexed (or moved), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub path: PathBuf,
    pub reason: String,
    /// Whether the file is not a photo at all, or a photo that could not be read.
    pub kind: FailureKind,
}

/// What kind of failure: the failed-files list and `index --json` tell them apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A photo (or a file or folder) that could not be read: damaged, unreadable, a
    /// format this build cannot decode, a crash in a decoder.
    #[default]
    Unreadable,
    /// Not a photo: empty, or its content is no image format at all.
    NotAPhoto,
    /// A photo that decoded all the same but is not whole (a JPEG cut short or broken
    /// inside): indexed and searchable, marked damaged (see [`crate::read::Damage`]).
    Damaged,
}

impl FailureKind {
    /// In words, for the failed-files list.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Unreadable => "photo that cannot be read",
            Self::NotAPhoto => "not a photo",
            Self::Damaged => "damaged photo (searchable)",
        }
    }
}

impl Failure {
    /// The failure of the photo at `path`, sent as progress too (never waiting).
    pub fn sent(control: Control<'_>, path: &Path, error: Error) -> Self {
        let failure = Self::of_photo(path, error);
        control.report(Progress::Failed(failure.clone()));
        failure
    }

    /// The damaged photo at `path`, for the lists that name files with problems.
    pub fn damaged(path: impl Into<PathBuf>, damage: Damage) -> Self {
        Self {
            path: path.into(),
            reason: damage.to_string(),
            kind: FailureKind::Damaged,
        }
    }

    /// A file that could not be read or moved.
    pub fn new(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            reason: reason.into(),
            kind: FailureKind::Unreadable,
        }
    }

    /// What `error`, met while reading the photo at `file`, means for it: named by the
    /// file the error names, else by `file`.
    pub fn of_photo(file: &Path, error: Error) -> Self {
        let mut failure = Self::from(error);
        if failure.path.as_os_str().is_empty() {
            failure.path = file.to_path_buf();
        }
        failure
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let kind = match &error {
            Error::EmptyFile { .. } | Error::UnsupportedFormat { .. } => FailureKind::NotAPhoto,
            _ => FailureKind::Unreadable,
        };
        let path = match &error {
            Error::Io { path, .. }
            | Error::EmptyFile { path }
            | Error::UnsupportedFormat { path }
            | Error::NotBuiltIn { path, .. }
            | Error::Decode { path, .. }
            | Error::TooManyPixels { path, .. }
            | Error::TooSmall { path, .. }
            | Error::BadCropBox { path, .. }
            | Error::Crashed { path, .. } => path.clone(),
            _ => PathBuf::new(),
        };
        Self {
            path,
            reason: error.to_string(),
            kind,
        }
    }
}

/// What an indexing run does.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    pub root: PathBuf,
    pub index_path: PathBuf,
    pub scan: ScanOptions,
    /// Ignore an existing index and describe everything again.
    pub rebuild: bool,
    /// What to do when the file at `index_path` cannot be read as an index of these
    /// settings (corrupt, a newer format, another model or image size).
    pub unreadable: Unreadable,
    /// Drop the entries of photos that are gone even when most of the library is (see
    /// [`MissingPhotos`]): the user said so.
    pub forget_missing: bool,
    /// Save the index at least this often while describing.
    pub checkpoint_every: Duration,
    /// Threads decoding and resizing images while the network runs.
    pub decode_threads: usize,
    /// Hand described entries to the live caller at most this often.
    pub publish_every: Duration,
}

impl IndexOptions {
    pub fn new(root: PathBuf, index_path: PathBuf) -> Self {
        Self {
            root,
            index_path,
            scan: ScanOptions::default(),
            rebuild: false,
            unreadable: Unreadable::Refuse,
            forget_missing: false,
            checkpoint_every: Duration::from_secs(30),
            decode_threads: std::thread::available_parallelism()
                .map_or(1, |n| (n.get() / 2).max(1)),
            publish_every: Duration::from_secs(1),
        }
    }
}

/// What a run does with an existing file it cannot use as its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// Stop with an error that says why (the command line: the user decides).
    Refuse,
    /// Move it aside, keeping every byte (`<name>.unreadable-<time>.lkidx`), say so in
    /// the summary, and start a new index (the app).
    SetAside,
    /// Start afresh over it: only for caches the program can remake (evaluation).
    Replace,
}

/// A library whose photos are mostly gone since the last run: a drive not connected,
/// an empty mount point, a folder moved. Their descriptions are kept unless the run is
/// told to forget them ([`IndexOptions::forget_missing`]): all of them gone, or more
/// than half of them and at least [`MissingPhotos::MANY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingPhotos;

impl MissingPhotos {
    /// Below this many, describing them again costs little: they are dropped.
    pub const MANY: usize = 100;

    /// Whether `missing` of `entries` indexed photos gone needs the user's word.
    pub fn needs_asking(missing: usize, entries: usize) -> bool {
        missing > 0 && (missing == entries || (2 * missing > entries && missing >= Self::MANY))
    }
}

/// An index file that could not be read as this run's index, moved aside.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetAside {
    pub from: PathBuf,
    pub to: PathBuf,
    pub reason: String,
}

/// How an indexing run (or the variants, thumbnails and clean-up passes) is watched:
/// its stop flag and its [`Progress`].
pub type Control<'a> = crate::support::control::Control<'a, Progress>;

/// Typed progress of a run, sent with `try_send`: a slow receiver misses updates, it
/// never slows the run down.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// The folder was scanned: what will be done.
    Planned {
        to_describe: usize,
        unchanged: usize,
        removed: usize,
    },
    /// One more image went through (described or failed).
    Step {
        done: usize,
        total: usize,
        path: PathBuf,
    },
    Failed(Failure),
    /// A photo was described but is damaged (a [`FailureKind::Damaged`] failure).
    Damaged(Failure),
    /// A checkpoint was written.
    Saved {
        entries: usize,
    },
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IndexSummary {
    /// Images described in this run.
    pub indexed: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub failed: Vec<Failure>,
    /// Every damaged photo in the index after the run, described in it or before
    /// ([`FailureKind::Damaged`]): searchable, not failures.
    pub damaged: Vec<Failure>,
    /// Paths that reach a file already indexed under another path (hard links, links
    /// followed): described once, listed once.
    pub same_file: Vec<SameFile>,
    /// Symbolic links not followed (pass `--follow-links` to follow them).
    pub links_not_followed: usize,
    pub seconds: f64,
    /// The stop flag ended the run early; what was done is saved.
    pub stopped: bool,
    /// Images in the index now.
    pub entries: usize,
    /// The file that was at the index's path and could not be read, moved aside.
    pub set_aside: Option<SetAside>,
    /// The folder the index was made for, when the library was found under this new
    /// path (a drive mounted elsewhere, a folder moved): its descriptions were kept.
    pub moved_from: Option<PathBuf>,
}

/// What a run has so far, for a caller that shows and searches the library before the
/// run ends ([`update_index_live`]).
#[derive(Debug, Clone)]
pub enum Partial {
    /// The folder was scanned: the entries kept from the last run (relative to `root`),
    /// and the files still to describe, in the order they will be described.
    Planned {
        root: PathBuf,
        kept: Vec<Entry>,
        waiting: Vec<PathBuf>,
    },
    /// These files were described since the last `Described` (a batch at most every
    /// [`IndexOptions::publish_every`]), and these (absolute paths, as in `waiting`)
    /// failed.
    Described {
        entries: Vec<Entry>,
        failed: Vec<PathBuf>,
    },
}

/// Brings the index at `options.index_path` up to date with `options.root`; returns
/// the index as saved (or, when stopped during the scan, as it was) and the summary.
pub fn update_index(
    describer: &Describer,
    provenance: &Provenance,
    options: &IndexOptions,
    control: Control<'_>,
) -> Result<(Index, IndexSummary)> {
    update_index_live(describer, provenance, options, control, &mut |_| {})
}

/// [`update_index`], handing what it has to `live` as it goes: every entry it ends
/// with reaches `live` once, in a `Planned` or a `Described`, before it returns.
pub fn update_index_live(
    describer: &Describer,
    provenance: &Provenance,
    options: &IndexOptions,
    control: Control<'_>,
    live: &mut dyn FnMut(Partial),
) -> Result<(Index, IndexSummary)> {
    let started = Instant::now();
    check_pooling(describer, provenance)?;
    let root = options
        .root
        .canonicalize()
        .map_err(|e| Error::io(&options.root, e))?;
    // One writer at a time: the app and the command line on one index.
    let _lock = crate::support::safefs::lock(&options.index_path, "this index")?;
    let previous = load_previous(options, &root, provenance)?;
    let as_on_disk = previous.is_on_disk(options, (&root, provenance));
    let scan = scan_folder(&root, &options.scan, control.stop_flag())?;
    if control.stopped() {
        // An unfinished scan must not be mistaken for deletions: change nothing.
        return Ok(stopped_in_scan(previous.index, scan, started));
    }
    let mut failed = scan.failures;
    let plan = Plan::new(previous.index.entries, scan.found);
    if !options.forget_missing && MissingPhotos::needs_asking(plan.removed, plan.previous) {
        return Err(Error::PhotosMissing {
            root,
            missing: plan.removed,
            entries: plan.previous,
        });
    }
    plan.announce(&root, &failed, control, live);
    let changed = !as_on_disk || plan.removed > 0 || plan.refreshed > 0;
    // What a checkpoint may append to: the file as read, when it holds the kept
    // entries as they are.
    let on_disk = previous
        .on_disk
        .filter(|_| as_on_disk && plan.refreshed == 0);
    let mut index = Index::new(root, provenance.clone());
    index.entries = plan.kept;
    let unchanged = index.entries.len();
    let mut run = Describing {
        changed,
        checkpoints: Checkpoints::new(options.index_path.clone(), on_disk),
        saved: unchanged,
        removed: plan.dropped,
        describer,
        options,
        control,
        live,
        index,
        failures_published: failed.len(),
        failed: &mut failed,
        indexed: 0,
        published: unchanged,
        last_publish: Instant::now(),
        last_save: Instant::now(),
    };
    run.describe(&plan.work)?;
    let indexed = run.indexed;
    let index = run.finish()?;
    let summary = IndexSummary {
        indexed,
        unchanged,
        damaged: damaged_in(&index),
        removed: plan.removed,
        failed,
        same_file: scan.same_file,
        links_not_followed: scan.links_not_followed,
        seconds: started.elapsed().as_secs_f64(),
        stopped: control.stopped(),
        entries: index.entries.len(),
        set_aside: previous.set_aside,
        moved_from: previous.moved_from,
    };
    Ok((index, summary))
}

/// What a run stopped during its scan returns: the index as it was, nothing changed.
fn stopped_in_scan(previous: Index, scan: ScanOutcome, started: Instant) -> (Index, IndexSummary) {
    let summary = IndexSummary {
        stopped: true,
        damaged: damaged_in(&previous),
        entries: previous.entries.len(),
        failed: scan.failures,
        links_not_followed: scan.links_not_followed,
        seconds: started.elapsed().as_secs_f64(),
        ..IndexSummary::default()
    };
    (previous, summary)
}

/// Refuses to add descriptors pooled otherwise than the index's.
fn check_pooling(describer: &Describer, provenance: &Provenance) -> Result<()> {
    if describer.options().pooling != provenance.pooling {
        return Err(Error::Invalid(format!(
            "an index of {} descriptors cannot take {} ones",
            provenance.pooling.title(),
            describer.options().pooling.title()
        )));
    }
    Ok(())
}

/// Describing the files of a plan: decoders on their own threads, the network here,
/// the index growing, published to `live` and checkpointed as it goes.
struct Describing<'a, 'l> {
    describer: &'a Describer,
    options: &'a IndexOptions,
    control: Control<'a>,
    live: &'l mut dyn FnMut(Partial),
    index: Index,
    failed: &'a mut Vec<Failure>,
    /// Photos described in this run.
    indexed: usize,
    /// Entries handed to `live` so far.
    published: usize,
    /// Failures handed to `live` so far (those of the scan are not waiting).
    failures_published: usize,
    last_publish: Instant,
    last_save: Instant,
    /// Whether the index differs from the file on disk (cleared by each save).
    changed: bool,
    checkpoints: Checkpoints,
    /// Entries in the file as of the last save (the first ones: entries are only
    /// added during a run, sorted at its end).
    saved: usize,
    /// Paths the file still holds that the index no longer does (until the next save).
    removed: Vec<String>,
}

impl Describing<'_, '_> {
    /// Describes `work` in order of decoding, until done or stopped.
    fn describe(&mut self, work: &[Scanned]) -> Result<()> {
        let threads = self.options.decode_threads.max(1);
        let load_options = self.describer.options().load;
        let next = AtomicUsize::new(0);
        let control = self.control;
        let (tx, rx) = sync_channel(2 * threads);
        std::thread::scope(|scope| -> Result<()> {
            for _ in 0..threads {
                let (tx, next) = (tx.clone(), &next);
                scope.spawn(move || {
                    while !control.stopped() {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = work.get(i) else { break };
                        // A panic on one file is that file's failure, never the run's
                        // end; a stop request does not wait for a long decode to end.
                        let path = file.path.clone();
                        let loaded = crate::support::isolate::abandonable(
                            &file.path,
                            control.stop_flag(),
                            move || {
                                crate::support::isolate::injected_delay(&path);
                                imaging::load(&path, &load_options)
                            },
                        );
                        let Some(loaded) = loaded else { break };
                        if tx.send((i, loaded)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for (done, (i, loaded)) in rx.iter().enumerate() {
                self.take(&work[i], loaded);
                self.control.report(Progress::Step {
                    done: done + 1,
                    total: work.len(),
                    path: work[i].path.clone(),
                });
                if self.last_publish.elapsed() >= self.options.publish_every {
                    self.publish();
                }
                if self.control.stopped() {
                    break;
                }
                self.checkpoint()?;
            }
            // Dropping the receiver (end of scope) unblocks decoders waiting to send.
            drop(rx);
            Ok(())
        })
    }

    /// Describes one decoded file into the index, or records why it could not be.
    fn take(&mut self, file: &Scanned, loaded: Result<imaging::LoadedImage>) {
        let described = loaded.and_then(|image| {
            crate::support::isolate::per_file(&file.path, || self.describer.spoc(&image))
                .map(|spoc| (image, spoc))
        });
        match described {
            Ok((image, spoc)) => {
                self.indexed += 1;
                if let Some(damage) = image.damage {
                    let damaged = Failure::damaged(&file.path, damage);
                    self.control.report(Progress::Damaged(damaged));
                }
                self.changed = true;
                self.index.entries.push(Entry {
                    path: file.relative.clone(),
                    size: file.size,
                    mtime_ns: file.mtime_ns,
                    file: file.file,
                    via_link: file.via_link,
                    width: image.width,
                    height: image.height,
                    feature_map: spoc.feature_map.map(|v| v as u32),
                    raw: spoc.raw,
                    damage: image.damage,
                });
            }
            Err(error) => self
                .failed
                .push(Failure::sent(self.control, &file.path, error)),
        }
    }

    /// Hands the entries described since the last time to `live`, and the files that
    /// failed.
    fn publish(&mut self) {
        (self.live)(Partial::Described {
            entries: self.index.entries[self.published..].to_vec(),
            failed: self.failed[self.failures_published..]
                .iter()
                .map(|f| f.path.clone())
                .collect(),
        });
        self.published = self.index.entries.len();
        self.failures_published = self.failed.len();
        self.last_publish = Instant::now();
    }

    /// Saves the index when it changed and the last save is old enough.
    fn checkpoint(&mut self) -> Result<()> {
        if self.changed && self.last_save.elapsed() >= self.options.checkpoint_every {
            self.save()?;
            self.last_save = Instant::now();
        }
        Ok(())
    }

    fn save(&mut self) -> Result<()> {
        self.checkpoints
            .save(&self.index, self.saved, &self.removed)?;
        self.saved = self.index.entries.len();
        self.removed.clear();
        self.changed = false;
        self.control.report(Progress::Saved {
            entries: self.index.entries.len(),
        });
        Ok(())
    }

    /// Publishes and saves what is left (nothing when nothing changed); the index,
    /// sorted as saved.
    fn finish(mut self) -> Result<Index> {
        if self.published < self.index.entries.len() || self.failures_published < self.failed.len()
        {
            self.publish();
        }
        if self.changed {
            self.save()?;
        }
        // Sorted only now: a checkpoint that reordered them would publish some twice.
        self.index.entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(self.index)
    }
}

/// The damaged photos of `index`, as the lists of files with problems show them.
pub fn damaged_in(index: &Index) -> Vec<Failure> {
    let damaged = |entry: &Entry| Some(Failure::damaged(index.absolute(entry), entry.damage?));
    index.entries.iter().filter_map(damaged).collect()
}

/// The existing index for this folder, or an empty one; the file set aside, if one
/// could not be read (see [`Unreadable`]); the folder it was made for, if the library
/// was found moved here.
/// The index a run starts from.
struct Previous {
    index: Index,
    /// What of the file was read (`None`: none, or one of an earlier version).
    on_disk: Option<OnDisk>,
    /// The file that could not be read, set aside.
    set_aside: Option<SetAside>,
    /// The folder the library was indexed in, when it was found moved here.
    moved_from: Option<PathBuf>,
}

impl Previous {
    fn new(index: Index) -> Self {
        Self {
            index,
            on_disk: None,
            set_aside: None,
            moved_from: None,
        }
    }

    /// Whether the file holds this index as read, for this folder and these settings.
    fn is_on_disk(&self, options: &IndexOptions, made: (&Path, &Provenance)) -> bool {
        self.set_aside.is_none()
            && self.moved_from.is_none()
            && is_on_disk(options, &self.index, made)
    }
}

fn load_previous(options: &IndexOptions, root: &Path, provenance: &Provenance) -> Result<Previous> {
    let previous = load_previous_index(options, root, provenance)?;
    // Refuse at once, not after hours of work, to write over a file that is no index.
    crate::support::safefs::check_replaceable(
        &options.index_path,
        crate::support::safefs::Replace::IfStartsWith(super::MAGIC),
    )?;
    Ok(previous)
}

/// Whether the file at `options.index_path` is `previous` as it was read, for this
/// folder and these settings (not a fresh index): then a run that changes nothing
/// writes nothing (a library of a million photos is 2 GB to rewrite).
fn is_on_disk(
    options: &IndexOptions,
    previous: &Index,
    (root, provenance): (&Path, &Provenance),
) -> bool {
    !options.rebuild
        && options.index_path.is_file()
        && previous.root == root
        && previous.provenance == *provenance
}

/// The index at `options.index_path` (or one of the folder's moved here, or a new one
/// when it cannot be read and may be set aside), what was set aside, and where the
/// folder was indexed before.
fn load_previous_index(
    options: &IndexOptions,
    root: &Path,
    provenance: &Provenance,
) -> Result<Previous> {
    let path = &options.index_path;
    let fresh = || Previous::new(Index::new(root.to_path_buf(), provenance.clone()));
    if options.rebuild || !path.exists() {
        return Ok(fresh());
    }
    let (mut index, on_disk) = match Index::load_on_disk(path).and_then(|read| {
        read.0.check_provenance(path, provenance)?;
        Ok(read)
    }) {
        Ok(read) => read,
        // A file that could not be read now (permissions, a drive gone) may read next
        // time: never set aside or replaced.
        Err(error @ Error::Io { .. }) => return Err(error),
        Err(error) => match options.unreadable {
            Unreadable::Refuse => return Err(error),
            Unreadable::Replace => return Ok(fresh()),
            Unreadable::SetAside => {
                let to = set_aside(path)?;
                let reason = match error {
                    Error::Index { reason, .. } => reason,
                    other => other.to_string(),
                };
                let kept = SetAside {
                    from: path.clone(),
                    to,
                    reason,
                };
                return Ok(Previous {
                    set_aside: Some(kept),
                    ..fresh()
                });
            }
        },
    };
    if index.root == root {
        return Ok(Previous {
            on_disk,
            ..Previous::new(index)
        });
    }
    if super::moved_here(&index, root) {
        let from = std::mem::replace(&mut index.root, root.to_path_buf());
        return Ok(Previous {
            moved_from: Some(from),
            ..Previous::new(index)
        });
    }
    Err(Error::Index {
        path: path.clone(),
        reason: format!(
            "belongs to the folder {}, not {}; choose another --index",
            index.root.display(),
            root.display()
        ),
    })
}

/// Moves the index file at `path` aside, keeping it: `<stem>.unreadable-<time>.lkidx`.
fn set_aside(path: &Path) -> Result<PathBuf> {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let to = path.with_file_name(format!("{stem}.unreadable-{time}.lkidx"));
    crate::support::safefs::move_no_replace(path, &to).map_err(|e| Error::io(path, e))?;
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_of_a_library_gone_is_asked_a_few_photos_are_not() {
        assert!(MissingPhotos::needs_asking(3, 3), "all gone");
        assert!(MissingPhotos::needs_asking(600, 1000));
        assert!(!MissingPhotos::needs_asking(400, 1000));
        assert!(
            !MissingPhotos::needs_asking(60, 100),
            "cheap to describe again"
        );
        assert!(!MissingPhotos::needs_asking(0, 0));
    }
}
