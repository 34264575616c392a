//! Safe clean-up of duplicates: a file goes to the system trash or into a folder the
//! user chose, never away for good.
//!
//! Every move is written to an undo journal (one JSON object per line, flushed to disk)
//! *before* it happens and again once it has, so a batch can be undone later, even
//! after a crash in between. A file that changed since it was indexed (size or
//! modification time) is left where it is and reported. Nothing in this crate deletes
//! a user's file: `tests/no_permanent_delete.rs` checks the sources for it.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::index::{Failure, mtime_ns};

/// Where removed files go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Destination {
    /// The desktop's trash (freedesktop.org trash on Linux, Recycle Bin on Windows).
    Trash,
    /// Moved into this folder (same disk: a rename, never a copy-and-delete).
    Folder(PathBuf),
}

/// A file as it was indexed; it is moved only if it still looks like this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Indexed {
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ns: i128,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum Record {
    /// About to move `from`.
    Intent {
        batch: u64,
        from: PathBuf,
        to: Place,
    },
    /// `from` is now at `to`.
    Moved {
        batch: u64,
        from: PathBuf,
        to: Place,
    },
    /// `from` is back.
    Restored { batch: u64, from: PathBuf },
}

/// Where one file went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    Trash,
    /// The file's new full path.
    File(PathBuf),
}

/// A file that was moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    pub from: PathBuf,
    pub to: Place,
}

/// What a batch did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The journal's batch number, to undo it (0 in a dry run).
    pub batch: u64,
    pub moved: Vec<Moved>,
    /// Files left alone, and why.
    pub skipped: Vec<Failure>,
}

/// The undo journal: an append-only file of JSON lines.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// `<data dir>/undo-journal.jsonl`.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "lookalike")
            .map(|dirs| dirs.data_dir().join("undo-journal.jsonl"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn records(&self) -> Result<Vec<Record>> {
        let file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        let mut records = Vec::new();
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|e| Error::io(&self.path, e))?;
            // A line cut short by a crash is the last one; the rest is still good.
            if let Ok(record) = serde_json::from_str(&line) {
                records.push(record);
            }
        }
        Ok(records)
    }

    fn append(&self, record: &Record) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        let mut line = serde_json::to_string(record)
            .map_err(|e| Error::Invalid(format!("journal record: {e}")))?;
        line.push('\n');
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| Error::io(&self.path, e))
    }

    fn next_batch(&self) -> Result<u64> {
        Ok(self.records()?.iter().map(batch_of).max().unwrap_or(0) + 1)
    }

    /// The newest batch with files still moved away, if any.
    pub fn last_undoable(&self) -> Result<Option<u64>> {
        let records = self.records()?;
        Ok(outstanding(&records)
            .iter()
            .map(|(batch, _, _)| *batch)
            .max())
    }

    /// Moves `files` to `destination`, journaling each move; files that changed since
    /// they were indexed, or that cannot be moved, are skipped and reported.
    pub fn remove(&self, files: &[Indexed], destination: &Destination) -> Result<Report> {
        let batch = self.next_batch()?;
        let mut report = Report {
            batch,
            ..Report::default()
        };
        for file in files {
            let to = match place_for(file, destination) {
                Ok(to) => to,
                Err(reason) => {
                    report.skipped.push(Failure {
                        path: file.path.clone(),
                        reason,
                    });
                    continue;
                }
            };
            let from = file.path.clone();
            self.append(&Record::Intent {
                batch,
                from: from.clone(),
                to: to.clone(),
            })?;
            match move_away(&from, &to) {
                Ok(()) => {
                    self.append(&Record::Moved {
                        batch,
                        from: from.clone(),
                        to: to.clone(),
                    })?;
                    report.moved.push(Moved { from, to });
                }
                Err(reason) => report.skipped.push(Failure { path: from, reason }),
            }
        }
        Ok(report)
    }

    /// Undoes batch `batch`: every file it moved comes back to its place. Files whose
    /// place is taken again are left where they are and reported.
    pub fn undo(&self, batch: u64) -> Result<Report> {
        let records = self.records()?;
        let mut report = Report {
            batch,
            ..Report::default()
        };
        for (_, from, to) in outstanding(&records)
            .into_iter()
            .filter(|(b, _, _)| *b == batch)
        {
            match restore(&from, &to) {
                Ok(()) => {
                    self.append(&Record::Restored {
                        batch,
                        from: from.clone(),
                    })?;
                    report.moved.push(Moved { from, to });
                }
                Err(reason) => report.skipped.push(Failure { path: from, reason }),
            }
        }
        Ok(report)
    }
}

/// What a batch would do, touching nothing: the dry run.
pub fn plan(files: &[Indexed], destination: &Destination) -> Report {
    let mut report = Report::default();
    for file in files {
        match place_for(file, destination) {
            Ok(to) => report.moved.push(Moved {
                from: file.path.clone(),
                to,
            }),
            Err(reason) => report.skipped.push(Failure {
                path: file.path.clone(),
                reason,
            }),
        }
    }
    report
}

fn batch_of(record: &Record) -> u64 {
    match record {
        Record::Intent { batch, .. }
        | Record::Moved { batch, .. }
        | Record::Restored { batch, .. } => *batch,
    }
}

/// Moves that happened and were not undone: `(batch, from, to)`. An intent without its
/// "moved" line (a crash in between) counts when the file is gone from its place.
fn outstanding(records: &[Record]) -> Vec<(u64, PathBuf, Place)> {
    let mut open: Vec<(u64, PathBuf, Place, bool)> = Vec::new();
    for record in records {
        match record {
            Record::Intent { batch, from, to } => {
                open.push((*batch, from.clone(), to.clone(), false));
            }
            Record::Moved { batch, from, .. } => {
                if let Some(entry) = open
                    .iter_mut()
                    .rev()
                    .find(|e| e.0 == *batch && &e.1 == from)
                {
                    entry.3 = true;
                }
            }
            Record::Restored { batch, from } => {
                open.retain(|e| !(e.0 == *batch && &e.1 == from));
            }
        }
    }
    open.into_iter()
        .filter(|(_, from, _, moved)| *moved || !from.exists())
        .map(|(batch, from, to, _)| (batch, from, to))
        .collect()
}

/// Where `file` would go, if it may go: it must still be the file that was indexed.
fn place_for(file: &Indexed, destination: &Destination) -> std::result::Result<Place, String> {
    unchanged(file)?;
    match destination {
        Destination::Trash => Ok(Place::Trash),
        Destination::Folder(folder) => free_name(folder, &file.path).map(Place::File),
    }
}

/// `Ok` when the file is still the one that was indexed.
fn unchanged(file: &Indexed) -> std::result::Result<(), String> {
    let meta = std::fs::metadata(&file.path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file any more".into());
    }
    if meta.len() != file.size || mtime_ns(&meta) != file.mtime_ns {
        return Err("changed since it was indexed: index the folder again first".into());
    }
    Ok(())
}

/// A path in `folder` for `file` that does not exist yet: its name, or `name (2).ext`...
fn free_name(folder: &Path, file: &Path) -> std::result::Result<PathBuf, String> {
    if !folder.is_dir() {
        return Err(format!("{} is not a folder", folder.display()));
    }
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    let ext = file
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (1..10_000)
        .map(|i| match i {
            1 => folder.join(format!("{stem}{ext}")),
            i => folder.join(format!("{stem} ({i}){ext}")),
        })
        .find(|candidate| !candidate.exists())
        .ok_or_else(|| format!("no free name for it in {}", folder.display()))
}

fn move_away(from: &Path, to: &Place) -> std::result::Result<(), String> {
    match to {
        Place::Trash => {
            trash::delete(from).map_err(|e| format!("could not move it to the trash: {e}"))
        }
        // A rename never loses the file: it is here or there. Across disks it fails,
        // and the user is asked for a folder on the same disk instead.
        Place::File(target) => std::fs::rename(from, target).map_err(|e| {
            format!(
                "could not move it to {} ({e}); choose a folder on the same disk",
                target.display()
            )
        }),
    }
}

fn restore(from: &Path, to: &Place) -> std::result::Result<(), String> {
    if from.exists() {
        return Err("its place is taken by another file; it was left where it is".into());
    }
    match to {
        Place::File(moved) => std::fs::rename(moved, from)
            .map_err(|e| format!("could not move {} back: {e}", moved.display())),
        Place::Trash => restore_from_trash(from),
    }
}

// The trash crate can list and restore items on Windows and freedesktop.org desktops
// (Linux, the BSDs); macOS keeps that to the Finder.
#[cfg(not(target_os = "macos"))]
fn restore_from_trash(from: &Path) -> std::result::Result<(), String> {
    let items = trash::os_limited::list().map_err(|e| format!("could not read the trash: {e}"))?;
    // The newest trashed file that came from this path.
    let item = items
        .into_iter()
        .filter(|item| item.original_path() == from)
        .max_by_key(|item| item.time_deleted)
        .ok_or("it is no longer in the trash (was the trash emptied?)")?;
    trash::os_limited::restore_all([item])
        .map_err(|e| format!("could not restore it from the trash: {e}"))
}

#[cfg(target_os = "macos")]
fn restore_from_trash(_from: &Path) -> std::result::Result<(), String> {
    Err("macOS does not let programs restore from the trash: use the Finder's Put Back".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indexed(path: &Path) -> Indexed {
        let meta = std::fs::metadata(path).unwrap();
        Indexed {
            path: path.to_path_buf(),
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
        }
    }

    #[test]
    fn moving_to_a_folder_and_undoing_restores_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let library = dir.path().join("library");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&library).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        let a = library.join("a.jpg");
        let b = library.join("b.jpg");
        std::fs::write(&a, b"photo a").unwrap();
        std::fs::write(&b, b"photo b").unwrap();
        // A file of the same name already waits in the bin: no overwrite.
        std::fs::write(bin.join("a.jpg"), b"older").unwrap();
        let journal = Journal::new(dir.path().join("journal.jsonl"));

        let dry = plan(
            &[indexed(&a), indexed(&b)],
            &Destination::Folder(bin.clone()),
        );
        assert_eq!(dry.moved.len(), 2);
        assert!(a.exists() && b.exists(), "a dry run moves nothing");

        let report = journal
            .remove(
                &[indexed(&a), indexed(&b)],
                &Destination::Folder(bin.clone()),
            )
            .unwrap();
        assert_eq!(report.moved.len(), 2, "{report:?}");
        assert!(!a.exists() && !b.exists());
        assert_eq!(std::fs::read(bin.join("a (2).jpg")).unwrap(), b"photo a");
        assert_eq!(std::fs::read(bin.join("a.jpg")).unwrap(), b"older");
        assert_eq!(journal.last_undoable().unwrap(), Some(report.batch));

        let undone = journal.undo(report.batch).unwrap();
        assert_eq!(undone.moved.len(), 2);
        assert_eq!(std::fs::read(&a).unwrap(), b"photo a");
        assert_eq!(std::fs::read(&b).unwrap(), b"photo b");
        assert_eq!(journal.last_undoable().unwrap(), None);
    }

    #[test]
    fn a_file_changed_since_indexing_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("p.jpg");
        std::fs::write(&photo, b"before").unwrap();
        let mut stale = indexed(&photo);
        stale.size += 1;
        let journal = Journal::new(dir.path().join("journal.jsonl"));
        let report = journal
            .remove(&[stale], &Destination::Folder(dir.path().to_path_buf()))
            .unwrap();
        assert!(report.moved.is_empty());
        assert!(
            report.skipped[0]
                .reason
                .contains("changed since it was indexed")
        );
        assert!(photo.exists());
    }

    #[test]
    fn an_interrupted_move_is_still_undoable() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("p.jpg");
        let moved = dir.path().join("bin-p.jpg");
        std::fs::write(&moved, b"pixels").unwrap();
        let journal = Journal::new(dir.path().join("journal.jsonl"));
        // The process died after the rename, before writing "moved".
        journal
            .append(&Record::Intent {
                batch: 7,
                from: photo.clone(),
                to: Place::File(moved.clone()),
            })
            .unwrap();
        assert_eq!(journal.last_undoable().unwrap(), Some(7));
        journal.undo(7).unwrap();
        assert_eq!(std::fs::read(&photo).unwrap(), b"pixels");
    }
}
