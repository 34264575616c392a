//! What an indexing run has to do: the index's entries compared with the files found,
//! kept, described again or dropped.

use std::collections::HashMap;
use std::path::Path;

use super::{Control, Entry, Failure, Partial, Progress, Scanned};

/// What a run has to do.
pub(super) struct Plan {
    /// Entries whose file is unchanged (same path, size, modification time and inode).
    pub(super) kept: Vec<Entry>,
    /// Files to describe (new or changed).
    pub(super) work: Vec<Scanned>,
    /// Entries whose file is gone.
    pub(super) removed: usize,
    /// The paths of the entries not kept (gone, or changed and to be described again):
    /// what the index on disk no longer holds as it is.
    pub(super) dropped: Vec<String>,
    /// Kept entries whose path now goes through a link or no longer, or whose device
    /// number changed: the index on disk is out of date for them.
    pub(super) refreshed: usize,
    /// Entries the index had.
    pub(super) previous: usize,
}

impl Plan {
    /// Says what is planned: as progress, and to `live` (what is kept, what waits).
    pub(super) fn announce(
        &self,
        root: &Path,
        failed: &[Failure],
        control: Control<'_>,
        live: &mut dyn FnMut(Partial),
    ) {
        control.report(Progress::Planned {
            to_describe: self.work.len(),
            unchanged: self.kept.len(),
            removed: self.removed,
        });
        for failure in failed {
            control.report(Progress::Failed(failure.clone()));
        }
        live(Partial::Planned {
            root: root.to_path_buf(),
            kept: self.kept.clone(),
            waiting: self.work.iter().map(|file| file.path.clone()).collect(),
        });
    }

    pub(super) fn new(previous: Vec<Entry>, scanned: Vec<Scanned>) -> Self {
        let count = previous.len();
        let mut old: HashMap<String, Entry> =
            previous.into_iter().map(|e| (e.path.clone(), e)).collect();
        let mut kept = Vec::new();
        let mut work = Vec::new();
        let mut refreshed = 0;
        let mut dropped = Vec::new();
        for file in scanned {
            match old.remove(&file.relative) {
                // The device number is not part of a file's identity across runs: a
                // remount (USB disks, NFS, SMB, btrfs) gives the same files another.
                Some(entry)
                    if entry.size == file.size
                        && entry.mtime_ns == file.mtime_ns
                        && entry.file.inode == file.file.inode =>
                {
                    // The path may now go through a link, or no longer, and the device
                    // number may have changed: keep them current.
                    refreshed +=
                        usize::from(entry.via_link != file.via_link || entry.file != file.file);
                    kept.push(Entry {
                        via_link: file.via_link,
                        file: file.file,
                        ..entry
                    })
                }
                Some(changed) => {
                    dropped.push(changed.path);
                    work.push(file)
                }
                None => work.push(file),
            }
        }
        let removed = old.len();
        dropped.extend(old.into_keys());
        Self {
            kept,
            work,
            removed,
            dropped,
            refreshed,
            previous: count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::safefs::FileId;
    use std::path::PathBuf;

    const FILE: FileId = FileId {
        device: 1,
        inode: 1,
    };

    fn entry(path: &str, size: u64, mtime_ns: i128) -> Entry {
        Entry {
            path: path.into(),
            size,
            mtime_ns,
            file: FILE,
            via_link: false,
            width: 1,
            height: 1,
            feature_map: [1, 1],
            raw: vec![],
            damage: None,
        }
    }

    fn scanned(path: &str, size: u64, mtime_ns: i128) -> Scanned {
        Scanned {
            path: PathBuf::from("/r").join(path),
            relative: path.into(),
            size,
            mtime_ns,
            file: FILE,
            via_link: false,
        }
    }

    #[test]
    fn plan_keeps_unchanged_redoes_changed_drops_deleted() {
        let plan = Plan::new(
            vec![
                entry("a", 1, 1),
                entry("b", 1, 1),
                entry("c", 1, 1),
                entry("d", 1, 1),
                entry("gone", 1, 1),
            ],
            vec![
                scanned("a", 1, 1),
                scanned("b", 2, 1),
                scanned("c", 1, 9),
                // Same size and time, but another file (replaced by a copy).
                Scanned {
                    file: FileId {
                        device: 1,
                        inode: 2,
                    },
                    ..scanned("d", 1, 1)
                },
                scanned("new", 1, 1),
            ],
        );
        assert_eq!(plan.kept.len(), 1);
        let work: Vec<_> = plan.work.iter().map(|s| s.relative.as_str()).collect();
        assert_eq!(work, ["b", "c", "d", "new"]);
        assert_eq!((plan.removed, plan.refreshed), (1, 0));
        // What a checkpoint appends as removed: the changed and the gone.
        assert_eq!(plan.dropped, ["b", "c", "d", "gone"]);
    }

    #[test]
    fn a_remount_with_another_device_number_is_the_same_library() {
        let remounted = FileId {
            device: 77,
            inode: 1,
        };
        let plan = Plan::new(
            vec![entry("a", 1, 1), entry("b", 1, 1)],
            vec![
                Scanned {
                    file: remounted,
                    ..scanned("a", 1, 1)
                },
                // Another file under the same name and size and time: described again.
                Scanned {
                    file: FileId {
                        device: 77,
                        inode: 9,
                    },
                    ..scanned("b", 1, 1)
                },
            ],
        );
        assert_eq!(plan.kept.len(), 1);
        assert_eq!(
            plan.kept[0].file, remounted,
            "the device of this run is kept"
        );
        assert_eq!(plan.work.len(), 1);
        assert_eq!(plan.refreshed, 1, "the index on disk has the old device");
    }
}
