//! The undo journal: one JSON object per line, appended (never rewritten) and fsynced,
//! locked by one writer at a time. Each move is an intent line before it happens and a
//! "moved" line after, each naming the file's exact new place and its identity; undo
//! adds a "restored" line. A line cut short by a crash is skipped when read and closed
//! before the next append, so it costs no other line.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Indexed, Place};
use crate::index::mtime_ns;
use crate::support::error::{Error, Result};
use crate::support::safefs;

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub(super) enum Record {
    /// About to move `from`, the file `file` (absent in journals of before 2026-12).
    Intent {
        batch: u64,
        from: PathBuf,
        to: Place,
        #[serde(default)]
        file: Option<Identity>,
    },
    /// `from` is now at `to`.
    Moved {
        batch: u64,
        from: PathBuf,
        to: Place,
        #[serde(default)]
        file: Option<Identity>,
    },
    /// `from` is back.
    Restored { batch: u64, from: PathBuf },
}

/// What makes a moved file itself, recorded before it moves: undo brings it back only
/// if the file at its new place is still this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub size: u64,
    /// Nanoseconds since the Unix epoch (an `i64` holds them until 2262; the journal's
    /// tagged records cannot hold an `i128`).
    pub mtime_ns: i64,
    pub inode: u64,
}

impl Identity {
    fn new(size: u64, mtime_ns: i128, inode: u64) -> Self {
        Self {
            size,
            mtime_ns: i64::try_from(mtime_ns).unwrap_or(i64::MAX),
            inode,
        }
    }

    /// The identity of the file at `path` now.
    pub(super) fn of(path: &Path) -> std::result::Result<Self, String> {
        let (meta, id) = safefs::stat(path).map_err(|e| format!("cannot read it: {e}"))?;
        Ok(Self::new(meta.len(), mtime_ns(&meta), id.inode))
    }

    /// The identity of a file as indexed (what [`may_move`] has just found on disk).
    pub(super) fn indexed(file: &Indexed) -> Self {
        Self::new(file.size, file.mtime_ns, file.file.inode)
    }
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

    pub(super) fn records(&self) -> Result<Vec<Record>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(parse_records(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::io(&self.path, e)),
        }
    }

    pub(super) fn append(&self, record: &Record) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        let mut line = serde_json::to_string(record)
            .map_err(|e| Error::Invalid(format!("journal record: {e}")))?;
        line.push('\n');
        // A last line cut short by a crash is closed first, so this record starts a
        // line of its own (the reader skips the torn one).
        let mut last = [b'\n'];
        if file.metadata().map_err(|e| Error::io(&self.path, e))?.len() > 0 {
            file.seek(SeekFrom::End(-1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(|e| Error::io(&self.path, e))?;
        }
        if last[0] != b'\n' {
            line.insert(0, '\n');
        }
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| Error::io(&self.path, e))
    }

    /// The journal's lock, held for a whole batch or undo: one writer at a time.
    pub(super) fn lock(&self) -> Result<safefs::Lock> {
        safefs::lock(&self.path, "the undo journal")
    }

    pub(super) fn next_batch(&self) -> Result<u64> {
        Ok(next_batch(&self.records()?))
    }

    /// The newest batch with files still moved away, if any.
    pub fn last_undoable(&self) -> Result<Option<u64>> {
        let records = self.records()?;
        Ok(outstanding(&records).iter().map(|(batch, ..)| *batch).max())
    }
}

/// The records of a journal's bytes, one JSON object a line. A line cut short by a
/// crash (anywhere: inside a record, inside a path's multi-byte character) is skipped
/// and the rest are still read, byte by byte, not as text.
pub(super) fn parse_records(bytes: &[u8]) -> Vec<Record> {
    bytes
        .split(|&b| b == b'\n')
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect()
}

/// The number of the batch after every batch in `records`.
fn next_batch(records: &[Record]) -> u64 {
    records.iter().map(batch_of).max().unwrap_or(0) + 1
}

/// What the journal's fuzz target runs on any bytes (see [`crate::fuzz`]): the records
/// read, the batch numbers and moves undo would act on.
pub(crate) fn fuzz(bytes: &[u8]) {
    let records = parse_records(bytes);
    let _ = next_batch(&records);
    let _ = outstanding(&records);
}

pub(super) fn batch_of(record: &Record) -> u64 {
    match record {
        Record::Intent { batch, .. }
        | Record::Moved { batch, .. }
        | Record::Restored { batch, .. } => *batch,
    }
}

/// A move that happened and was not undone: batch, from, to, the file's identity.
pub(super) type Outstanding = (u64, PathBuf, Place, Option<Identity>);

/// Moves that happened and were not undone. An intent without its "moved" line (a
/// crash in between) counts when the file is gone from its place.
pub(super) fn outstanding(records: &[Record]) -> Vec<Outstanding> {
    let mut open: Vec<(Outstanding, bool)> = Vec::new();
    for record in records {
        match record {
            Record::Intent {
                batch,
                from,
                to,
                file,
            } => {
                open.push(((*batch, from.clone(), to.clone(), *file), false));
            }
            Record::Moved { batch, from, .. } => {
                if let Some(entry) = open
                    .iter_mut()
                    .rev()
                    .find(|(e, _)| e.0 == *batch && &e.1 == from)
                {
                    entry.1 = true;
                }
            }
            Record::Restored { batch, from } => {
                open.retain(|(e, _)| !(e.0 == *batch && &e.1 == from));
            }
        }
    }
    open.into_iter()
        .filter(|((_, from, ..), moved)| *moved || !from.exists())
        .map(|(entry, _)| entry)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journals_of_the_previous_format_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::new(dir.path().join("journal.jsonl"));
        std::fs::write(
            journal.path(),
            concat!(
                r#"{"event":"intent","batch":4,"from":"/gone/a.jpg","to":"trash"}"#,
                "\n",
                r#"{"event":"moved","batch":4,"from":"/gone/a.jpg","to":"trash"}"#,
                "\n",
                r#"{"event":"intent","batch":5,"from":"/gone/b.jpg","to":{"file":"/bin/b.jpg"}}"#,
                "\n",
            ),
        )
        .unwrap();
        assert_eq!(journal.records().unwrap().len(), 3);
        assert_eq!(journal.last_undoable().unwrap(), Some(5));
        assert_eq!(journal.next_batch().unwrap(), 6);
    }
}
