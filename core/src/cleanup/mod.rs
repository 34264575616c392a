//! Safe clean-up of duplicates: a file goes to the system trash or into a folder the
//! user chose, never away for good, and **never the last copy**.
//!
//! [`Journal::remove`] is the one way the product moves a photo, for the command line
//! and the app alike. Right before each move it checks on disk (see [`may_move`]) that
//! the group's keeper is still there as a real file in the library, is still the file
//! that was indexed (same identity, size and modification time) and is another file
//! than the one about to move, and that the file about to move is still the one that was
//! indexed. Otherwise that file stays and the reason is reported.
//!
//! Every move is written to an undo journal (one JSON object per line, fsynced) *before*
//! it happens and again once it has, so a batch can be undone later, even after a crash
//! in between. Each record names the file's exact new place and its identity (size,
//! modification time, inode), so undo brings back that file and no other. The journal
//! is only ever appended to (never rewritten): a crash can cut its last line short,
//! which the reader skips and the next append closes, so it cannot lose another line.
//! One process at a time writes it (an advisory lock), so batch numbers are never
//! shared. A batch can be stopped between two files.
//!
//! A photo's sidecars and companions (`.xmp`, a Live Photo's `.MOV`: see [`sidecars`])
//! move with it, first, into the same place, each journaled, so undo brings them back
//! too; if one of them cannot move, those already moved come back and the photo stays.
//!
//! Moves are renames only and never replace a file ([`safefs::move_no_replace`]): into
//! a folder on the same file system, or into the trash of the file's own file system
//! ([`trash`]); a move that would have to copy is refused, so no file is ever copied
//! and then deleted. Nothing in this crate deletes a user's file:
//! `tests/it/no_permanent_delete.rs` checks the sources for it.

mod journal;
mod places;
pub mod sidecars;
mod trash;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use self::journal::Journal;
pub(crate) use self::journal::fuzz as fuzz_journal;
use self::journal::{Identity, Record, outstanding};
use self::places::{move_away, preview, release, reserve, reserve_companion, restore};
pub use self::trash::Trashed;
pub use crate::find::dupes::VerifiedMatch;
pub use crate::index::Indexed;
use crate::index::{Control, Failure, Progress, mtime_ns};
use crate::support::error::Result;
use crate::support::safefs::{self, FileId};

/// Where removed files go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Destination {
    /// The desktop's trash (freedesktop.org trash on Linux, Recycle Bin on Windows), on
    /// the file's own disk.
    Trash,
    /// Moved into this folder (same disk: a rename, never a copy-and-delete).
    Folder(PathBuf),
}

/// Where one file went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// The system trash, its place in it not known (Windows, macOS, and journals
    /// written before 2026-12).
    Trash,
    /// The freedesktop.org trash: the file and its record there.
    Trashed(Trashed),
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
    /// The stop flag ended the batch between two files (the rest stayed).
    pub stopped: bool,
}

impl Journal {
    /// Moves the copy of each verified match to `destination`, journaling each move.
    /// Right before each move, [`may_move`] checks the file and its keeper on disk; a
    /// file that fails the check, or cannot be moved, stays where it is and is reported.
    /// Each file is a [`Progress::Step`]; `stop` ends the batch between two files (the
    /// report says so). The journal is locked for the whole batch: another process gets
    /// [`crate::Error::Busy`].
    pub fn remove(
        &self,
        matches: &[VerifiedMatch],
        destination: &Destination,
        control: Control<'_>,
    ) -> Result<Report> {
        let _lock = self.lock()?;
        let batch = self.next_batch()?;
        let mut report = Report {
            batch,
            ..Report::default()
        };
        let keepers = keepers(matches);
        for (done, found) in matches.iter().enumerate() {
            if control.stopped() {
                report.stopped = true;
                break;
            }
            let file = found.file();
            control.report(Progress::Step {
                done,
                total: matches.len(),
                path: file.path.clone(),
            });
            crate::support::isolate::injected_move_delay();
            // `may_move` found the file on disk as it was indexed: that is its identity.
            let identity = Identity::indexed(file);
            let checked = may_move(found, &keepers).and_then(|()| reserve(file, destination));
            match checked {
                Ok(to) => self.move_photo(batch, (file, identity), to, destination, &mut report)?,
                Err(reason) => report.skipped.push(Failure::new(file.path.clone(), reason)),
            }
        }
        Ok(report)
    }

    /// Moves `file` (whose identity is known) to `to`, its sidecars first, beside it:
    /// if one of them cannot move, the sidecars moved come back and the photo stays.
    fn move_photo(
        &self,
        batch: u64,
        (file, identity): (&Indexed, Identity),
        to: Place,
        destination: &Destination,
        report: &mut Report,
    ) -> Result<()> {
        let mut moved = Vec::new();
        for companion in sidecars::companions(&file.path) {
            match self.move_one(batch, &companion, |_| {
                reserve_companion(&file.path, &companion, &to, destination)
            })? {
                Ok(done) => moved.push(done),
                Err(reason) => {
                    release(&to);
                    self.bring_back(batch, moved, report)?;
                    let reason = format!(
                        "its sidecar {} cannot go with it ({reason}): both stay",
                        companion.display()
                    );
                    report.skipped.push(Failure::new(file.path.clone(), reason));
                    return Ok(());
                }
            }
        }
        let from = file.path.clone();
        match self.move_one(batch, &from, |_| Ok((identity, to)))? {
            Ok(photo) => {
                for (from, to, _) in moved.into_iter().chain([photo]) {
                    report.moved.push(Moved { from, to });
                }
            }
            Err(reason) => {
                self.bring_back(batch, moved, report)?;
                report.skipped.push(Failure::new(from, reason));
            }
        }
        Ok(())
    }

    /// Moves the file at `from` where `place` says (its identity and place), journaled
    /// before and after; `Ok(Err(why))` when it stays. A journal that cannot be written
    /// is the only error.
    fn move_one(
        &self,
        batch: u64,
        from: &Path,
        place: impl FnOnce(&Path) -> std::result::Result<(Identity, Place), String>,
    ) -> Result<std::result::Result<(PathBuf, Place, Identity), String>> {
        let (identity, to) = match place(from) {
            Ok(found) => found,
            Err(reason) => return Ok(Err(reason)),
        };
        let from = from.to_path_buf();
        self.append(&Record::Intent {
            batch,
            from: from.clone(),
            to: to.clone(),
            file: Some(identity),
        })?;
        if let Err(reason) = move_away(&from, &to) {
            return Ok(Err(reason));
        }
        self.append(&Record::Moved {
            batch,
            from: from.clone(),
            to: to.clone(),
            file: Some(identity),
        })?;
        Ok(Ok((from, to, identity)))
    }

    /// Brings back the sidecars of a photo that stays (newest first).
    fn bring_back(
        &self,
        batch: u64,
        moved: Vec<(PathBuf, Place, Identity)>,
        report: &mut Report,
    ) -> Result<()> {
        for (from, to, identity) in moved.into_iter().rev() {
            match restore(&from, &to, Some(identity)) {
                Ok(()) => self.append(&Record::Restored { batch, from })?,
                Err(reason) => report.skipped.push(Failure::new(
                    from,
                    format!(
                        "a sidecar could not come back beside its photo ({reason}): undo the batch"
                    ),
                )),
            }
        }
        Ok(())
    }

    /// Undoes batch `batch`: every file it moved comes back to its place. Files whose
    /// place is taken again are left where they are and reported.
    pub fn undo(&self, batch: u64) -> Result<Report> {
        let _lock = self.lock()?;
        let records = self.records()?;
        let mut report = Report {
            batch,
            ..Report::default()
        };
        for (_, from, to, identity) in outstanding(&records)
            .into_iter()
            .filter(|(b, ..)| *b == batch)
        {
            match restore(&from, &to, identity) {
                Ok(()) => {
                    self.append(&Record::Restored {
                        batch,
                        from: from.clone(),
                    })?;
                    report.moved.push(Moved { from, to });
                }
                Err(reason) => report.skipped.push(Failure::new(from, reason)),
            }
        }
        Ok(report)
    }
}

/// What a batch would do, touching nothing: the dry run (the same checks).
pub fn plan(matches: &[VerifiedMatch], destination: &Destination) -> Report {
    let mut report = Report::default();
    let keepers = keepers(matches);
    for found in matches {
        let file = found.file();
        match may_move(found, &keepers).and_then(|()| preview(&file.path, destination)) {
            Ok(to) => {
                for companion in sidecars::companions(&file.path) {
                    if let Ok((_, place)) =
                        reserve_companion(&file.path, &companion, &to, destination)
                    {
                        report.moved.push(Moved {
                            from: companion,
                            to: place,
                        });
                    }
                }
                report.moved.push(Moved {
                    from: file.path.clone(),
                    to,
                });
            }
            Err(reason) => report.skipped.push(Failure::new(file.path.clone(), reason)),
        }
    }
    report
}

/// The files a batch keeps: none of them moves in it, whatever else says so.
fn keepers(matches: &[VerifiedMatch]) -> std::collections::HashSet<FileId> {
    matches.iter().map(|m| m.keeper().file).collect()
}

/// The one check every move goes through: `Ok` when `found.file()` may leave the
/// library because `found.keeper()`, a real copy of the same photo, stays. Only a
/// [`VerifiedMatch`] is accepted: the duplicate finder's evidence that the file passed
/// verification *with this keeper* (never through a chain of other photos). On disk, now:
/// - the file is still the file that was verified (identity, size, modification time),
///   and is not the keeper of another match of the batch (`keepers`);
/// - the keeper is a regular file reached without a symbolic link (a real copy in the
///   library, not a link to one elsewhere), still the file that was verified, and another
///   file (device + inode) than the file.
pub fn may_move(
    found: &VerifiedMatch,
    keepers: &std::collections::HashSet<FileId>,
) -> std::result::Result<(), String> {
    let (file, keeper) = (found.file(), found.keeper());
    if !found.check().verified {
        return Err("it was not verified as a copy of its keeper: it stays".into());
    }
    if file.file == keeper.file {
        return Err(format!(
            "it is the same file as its keeper {} (another path to it): it stays",
            keeper.path.display()
        ));
    }
    if keepers.contains(&file.file) {
        return Err("it is kept as the keeper of another group: it stays".into());
    }
    unchanged(file)?;
    let keeper_problem = |problem: String| {
        format!(
            "its keeper {} {problem}: nothing of its group is moved",
            keeper.path.display()
        )
    };
    let link = std::fs::symlink_metadata(&keeper.path)
        .map_err(|e| keeper_problem(format!("cannot be read ({e})")))?;
    if !link.is_file() {
        return Err(keeper_problem(
            "is not a regular file (a link or a folder), so not a real copy".into(),
        ));
    }
    match keeper.path.canonicalize() {
        Ok(real) if real == keeper.path => {}
        Ok(real) => {
            return Err(keeper_problem(format!(
                "is reached through a symbolic link (the file is {})",
                real.display()
            )));
        }
        Err(e) => return Err(keeper_problem(format!("cannot be read ({e})"))),
    }
    let (meta, now) =
        safefs::stat(&keeper.path).map_err(|e| keeper_problem(format!("cannot be read ({e})")))?;
    if now != keeper.file {
        return Err(keeper_problem("was replaced by another file".into()));
    }
    if meta.len() != keeper.size || mtime_ns(&meta) != keeper.mtime_ns {
        return Err(keeper_problem("changed since it was indexed".into()));
    }
    if now == file.file {
        return Err(keeper_problem("is now the same file as this one".into()));
    }
    Ok(())
}

/// `Ok` when the file is still the one that was indexed.
fn unchanged(file: &Indexed) -> std::result::Result<(), String> {
    let (meta, now) = safefs::stat(&file.path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file any more".into());
    }
    if now != file.file {
        return Err("it is another file now (replaced since it was indexed)".into());
    }
    if meta.len() != file.size || mtime_ns(&meta) != file.mtime_ns {
        return Err("changed since it was indexed: index the folder again first".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::journal::batch_of;
    use super::*;
    use crate::support::error::Error;

    /// Watched by nobody: progress goes nowhere, no stop.
    fn quiet() -> Control<'static> {
        Control::unattended()
    }

    fn indexed(path: &Path) -> Indexed {
        let (meta, file) = safefs::stat(path).unwrap();
        Indexed {
            path: path.canonicalize().unwrap(),
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
            file,
        }
    }

    fn group(keeper: &Path, extras: &[&Path]) -> Vec<VerifiedMatch> {
        extras
            .iter()
            .map(|p| VerifiedMatch::assumed(indexed(p), indexed(keeper)))
            .collect()
    }

    /// A folder with a keeper and a real copy of it, a bin beside it, and a journal.
    fn library() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let library = dir.path().canonicalize().unwrap().join("library");
        let bin = dir.path().canonicalize().unwrap().join("bin");
        std::fs::create_dir_all(&library).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        let keeper = library.join("keeper.jpg");
        let copy = library.join("copy.jpg");
        std::fs::write(&keeper, b"photo").unwrap();
        std::fs::write(&copy, b"photo").unwrap();
        let journal = Journal::new(dir.path().join("journal.jsonl"));
        (dir, keeper, copy, bin, journal)
    }

    #[test]
    fn moving_to_a_folder_and_undoing_restores_every_byte() {
        let (_dir, keeper, copy, bin, journal) = library();
        let other = copy.with_file_name("other.jpg");
        std::fs::write(&other, b"photo b").unwrap();
        // A file of the same name already waits in the bin: no overwrite.
        std::fs::write(bin.join("copy.jpg"), b"older").unwrap();
        let removals = group(&keeper, &[&copy, &other]);
        let destination = Destination::Folder(bin.clone());

        let dry = plan(&removals, &destination);
        assert_eq!(dry.moved.len(), 2);
        assert!(copy.exists() && other.exists(), "a dry run moves nothing");

        let report = journal.remove(&removals, &destination, quiet()).unwrap();
        assert_eq!(report.moved.len(), 2, "{report:?}");
        assert!(!copy.exists() && !other.exists() && keeper.exists());
        assert_eq!(std::fs::read(bin.join("copy (2).jpg")).unwrap(), b"photo");
        assert_eq!(std::fs::read(bin.join("copy.jpg")).unwrap(), b"older");
        assert_eq!(journal.last_undoable().unwrap(), Some(report.batch));

        let undone = journal.undo(report.batch).unwrap();
        assert_eq!(undone.moved.len(), 2);
        assert_eq!(std::fs::read(&copy).unwrap(), b"photo");
        assert_eq!(std::fs::read(&other).unwrap(), b"photo b");
        assert_eq!(journal.last_undoable().unwrap(), None);
    }

    #[test]
    fn a_file_changed_since_indexing_is_left_alone() {
        let (_dir, keeper, copy, bin, journal) = library();
        let mut changed = indexed(&copy);
        changed.size += 1;
        let removal = VerifiedMatch::assumed(changed, indexed(&keeper));
        let report = journal
            .remove(&[removal], &Destination::Folder(bin), quiet())
            .unwrap();
        assert!(report.moved.is_empty());
        assert!(
            report.skipped[0]
                .reason
                .contains("changed since it was indexed")
        );
        assert!(copy.exists());
    }

    /// Every way the keeper can stop being a real, unchanged, different copy between
    /// grouping and clean-up: its copy then stays.
    #[test]
    fn nothing_moves_when_the_keeper_is_not_what_was_indexed() {
        type Spoil = fn(&Path, &Path);
        let spoilers: [(&str, Spoil); 6] = [
            ("deleted", |keeper, _| {
                std::fs::rename(keeper, keeper.with_extension("gone")).unwrap()
            }),
            ("modified", |keeper, _| {
                std::fs::write(keeper, b"photo, edited").unwrap()
            }),
            ("replaced", |keeper, _| {
                let new = keeper.with_extension("new");
                std::fs::write(&new, b"photo").unwrap();
                std::fs::rename(&new, keeper).unwrap();
            }),
            ("a link to the copy", |keeper, copy| {
                std::fs::rename(keeper, keeper.with_extension("gone")).unwrap();
                std::os::unix::fs::symlink(copy, keeper).unwrap();
            }),
            ("a hard link to the copy", |keeper, copy| {
                std::fs::rename(keeper, keeper.with_extension("gone")).unwrap();
                std::fs::hard_link(copy, keeper).unwrap();
            }),
            ("reached through a link", |_, _| {}),
        ];
        for (what, spoil) in spoilers {
            let (_dir, keeper, copy, bin, journal) = library();
            let mut kept = indexed(&keeper);
            if what == "reached through a link" {
                let linked = keeper.parent().unwrap().with_file_name("linked");
                std::os::unix::fs::symlink(keeper.parent().unwrap(), &linked).unwrap();
                kept.path = linked.join("keeper.jpg");
            }
            let removal = VerifiedMatch::assumed(indexed(&copy), kept);
            spoil(&keeper, &copy);
            for destination in [Destination::Folder(bin.clone()), Destination::Trash] {
                let dry = plan(std::slice::from_ref(&removal), &destination);
                assert!(dry.moved.is_empty(), "{what}: {dry:?}");
                let report = journal
                    .remove(std::slice::from_ref(&removal), &destination, quiet())
                    .unwrap();
                assert!(report.moved.is_empty(), "{what}: {report:?}");
                assert!(
                    report.skipped[0].reason.contains("keeper"),
                    "{what}: {report:?}"
                );
                assert_eq!(std::fs::read(&copy).unwrap(), b"photo", "{what}");
            }
        }
    }

    #[test]
    fn the_keeper_under_another_path_is_never_moved() {
        let (_dir, keeper, _copy, bin, journal) = library();
        let alias = keeper.with_file_name("alias.jpg");
        std::fs::hard_link(&keeper, &alias).unwrap();
        let report = journal
            .remove(
                &group(&keeper, &[&alias]),
                &Destination::Folder(bin),
                quiet(),
            )
            .unwrap();
        assert!(report.moved.is_empty(), "{report:?}");
        assert!(report.skipped[0].reason.contains("same file"), "{report:?}");
        assert!(alias.exists() && keeper.exists());
    }

    #[test]
    fn a_file_that_appears_at_the_destination_is_not_replaced() {
        let (_dir, _keeper, copy, bin, _journal) = library();
        let target = bin.join("copy.jpg");
        let to = Place::File(target.clone());
        // The name was free when chosen; another program takes it before the move.
        std::fs::write(&target, b"someone else's").unwrap();
        let error = move_away(&copy, &to).unwrap_err();
        assert!(error.contains("nothing was replaced"), "{error}");
        assert_eq!(std::fs::read(&target).unwrap(), b"someone else's");
        assert_eq!(std::fs::read(&copy).unwrap(), b"photo");
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
                file: None,
            })
            .unwrap();
        assert_eq!(journal.last_undoable().unwrap(), Some(7));
        journal.undo(7).unwrap();
        assert_eq!(std::fs::read(&photo).unwrap(), b"pixels");
    }

    #[test]
    fn a_torn_last_line_loses_no_record_of_the_next_batch() {
        let (_dir, keeper, copy, bin, journal) = library();
        let other = copy.with_file_name("other.jpg");
        std::fs::write(&other, b"photo b").unwrap();
        // A batch that was killed while writing its first record, inside the second
        // byte of an "é" (found while writing the journal's fuzz target: a torn multi-byte
        // character made the journal unreadable as text, so nothing could be undone).
        std::fs::write(
            journal.path(),
            b"{\"event\":\"intent\",\"batch\":1,\"from\":\"/x/Caf\xC3",
        )
        .unwrap();
        let removals = group(&keeper, &[&copy, &other]);
        let destination = Destination::Folder(bin);
        let report = journal.remove(&removals, &destination, quiet()).unwrap();
        assert_eq!(report.moved.len(), 2, "{report:?}");
        // Both intents and both moves read back: the torn line took nothing with it.
        let records = journal.records().unwrap();
        assert_eq!(records.len(), 4, "{records:?}");
        assert!(records.iter().all(|r| batch_of(r) == report.batch));
        assert_eq!(journal.undo(report.batch).unwrap().moved.len(), 2);
        assert!(copy.exists() && other.exists());
    }

    #[test]
    fn undo_brings_back_only_the_file_it_moved() {
        // The place is taken again: nothing is replaced.
        let (_dir, keeper, copy, bin, journal) = library();
        let destination = Destination::Folder(bin.clone());
        let report = journal
            .remove(&group(&keeper, &[&copy]), &destination, quiet())
            .unwrap();
        std::fs::write(&copy, b"a new photo under the old name").unwrap();
        let undone = journal.undo(report.batch).unwrap();
        assert!(undone.moved.is_empty(), "{undone:?}");
        assert!(undone.skipped[0].reason.contains("taken"), "{undone:?}");
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            b"a new photo under the old name"
        );
        assert_eq!(std::fs::read(bin.join("copy.jpg")).unwrap(), b"photo");

        // The moved file was replaced at its new place: that other file stays there.
        let (_dir, keeper, copy, bin, journal) = library();
        let report = journal
            .remove(
                &group(&keeper, &[&copy]),
                &Destination::Folder(bin.clone()),
                quiet(),
            )
            .unwrap();
        let moved = bin.join("copy.jpg");
        std::fs::rename(&moved, bin.join("elsewhere.jpg")).unwrap();
        std::fs::write(&moved, b"someone else's file").unwrap();
        let undone = journal.undo(report.batch).unwrap();
        assert!(undone.moved.is_empty(), "{undone:?}");
        assert!(
            undone.skipped[0]
                .reason
                .contains("not the one that was moved"),
            "{undone:?}"
        );
        assert!(!copy.exists());
        assert_eq!(std::fs::read(&moved).unwrap(), b"someone else's file");
    }

    #[test]
    fn one_batch_at_a_time_and_a_stopped_batch_moves_nothing_more() {
        let (_dir, keeper, copy, bin, journal) = library();
        let removals = group(&keeper, &[&copy]);
        let destination = Destination::Folder(bin);
        // Another process is writing the journal: refused, nothing moved.
        let held = journal.lock().unwrap();
        let other = std::thread::scope(|scope| {
            scope
                .spawn(|| journal.remove(&removals, &destination, quiet()))
                .join()
                .unwrap()
        });
        // Locks of one process are per open file: a second open file of this process
        // conflicts like another process would.
        assert!(matches!(other, Err(Error::Busy { .. })), "{other:?}");
        drop(held);
        assert!(copy.exists());
        // Stopped before the first file: the report says so, the file stays.
        let stop = std::sync::atomic::AtomicBool::new(true);
        let report = journal
            .remove(&removals, &destination, Control::stop_only(&stop))
            .unwrap();
        assert!(report.stopped && report.moved.is_empty(), "{report:?}");
        assert!(copy.exists());
    }
}
