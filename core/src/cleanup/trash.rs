//! The trash, reached by a rename only: a photo goes into the trash of its own file
//! system or stays where it is, and is never copied and then deleted.
//!
//! On Linux and the BSDs this is the freedesktop.org trash, written here rather than
//! through the `trash` crate, which on a cross-device error (a btrfs subvolume, a bind
//! mount) copies the file and unlinks the original without an fsync. The trash is the
//! home trash (`$XDG_DATA_HOME/Trash`) when the photo is on its file system, otherwise
//! `$topdir/.Trash-$uid` at the top of the photo's own file system, made as file
//! managers make it. The `.trashinfo` record is written first (a new file, fsynced), so
//! the file manager can always put the photo back; then the photo is renamed into
//! `files/` with a rename that neither replaces nor crosses file systems. The journal
//! records both exact paths, so undo takes back that file and no other.
//!
//! Windows and macOS keep a trash on every volume themselves (the Recycle Bin, the
//! Finder's `.Trashes`), reached through the `trash` crate.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where one trashed photo lies: its file in the trash and the record the file manager
/// reads to put it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trashed {
    pub file: PathBuf,
    pub info: PathBuf,
}

/// Windows and macOS: the system trash of the file's own volume, through the `trash`
/// crate (the journal then records only that the file went to the trash).
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub fn system_trash(path: &Path) -> Result<(), String> {
    trash::delete(path).map_err(|e| format!("could not move it to the trash: {e}"))
}

#[cfg(all(unix, not(target_os = "macos")))]
pub use freedesktop::{find_by_origin, finish, reserve, take_back};

#[cfg(all(unix, not(target_os = "macos")))]
mod freedesktop {
    use super::*;
    use crate::support::safefs;
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};

    /// The trash folder for a file in `folder` on device `device`, made if needed.
    fn trash_for(folder: &Path, device: u64) -> Result<PathBuf, String> {
        let device_of = |p: &Path| {
            p.ancestors()
                .find_map(|a| std::fs::metadata(a).ok())
                .map(|m| m.dev())
        };
        let home = directories::BaseDirs::new().map(|dirs| dirs.data_dir().join("Trash"));
        let trash = match home {
            Some(home) if device_of(&home) == Some(device) => home,
            _ => {
                // The top of this file's file system: the highest of its folders on the
                // device (the folder itself when it is the top).
                let real = folder
                    .canonicalize()
                    .map_err(|e| format!("cannot read its folder: {e}"))?;
                let topdir = real
                    .ancestors()
                    .take_while(|a| device_of(a) == Some(device))
                    .last()
                    .unwrap_or(Path::new("/"));
                let uid = rustix::process::getuid().as_raw();
                topdir.join(format!(".Trash-{uid}"))
            }
        };
        let made = ["files", "info"].iter().try_for_each(|sub| {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(trash.join(sub))
        });
        match made {
            Ok(()) if device_of(&trash.join("files")) == Some(device) => Ok(trash),
            _ => Err(format!(
                "lookalike cannot make a trash folder on its disk ({}); the trash would \
                 have to copy it and delete the original, so it stays: use --move-to a \
                 folder on the same disk",
                trash.display()
            )),
        }
    }

    /// Reserves a place for `path` in the trash of its own file system: writes the
    /// record the file manager reads (a new file, fsynced) and returns both paths. The
    /// photo itself is moved by [`finish`], after the journal has the intent.
    pub fn reserve(path: &Path) -> Result<Trashed, String> {
        let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
        let trash = trash_for(folder_of(path), meta.dev())?;
        let name = path
            .file_name()
            .ok_or("it has no file name")?
            .to_string_lossy()
            .into_owned();
        let record = format!(
            "[Trash Info]\nPath={}\nDeletionDate={}\n",
            url_path(path),
            chrono::Local::now().format("%Y-%m-%dT%H:%M:%S")
        );
        // A name free in both folders: the record is created new, so two programs
        // never take the same one.
        (1..10_000)
            .map(|i| match i {
                1 => name.clone(),
                i => format!("{name}.{i}"),
            })
            .filter(|candidate| !trash.join("files").join(candidate).exists())
            .find_map(|candidate| {
                let info = trash.join("info").join(format!("{candidate}.trashinfo"));
                safefs::create_new_file(&info, record.as_bytes())
                    .ok()
                    .map(|()| Trashed {
                        file: trash.join("files").join(&candidate),
                        info,
                    })
            })
            .ok_or_else(|| format!("no free name for it in {}", trash.display()))
    }

    /// Moves `path` to its reserved place by a rename that neither replaces nor crosses
    /// file systems; on failure the record is dropped and the photo stays.
    pub fn finish(path: &Path, trashed: &Trashed) -> Result<(), String> {
        safefs::move_no_replace(path, &trashed.file).map_err(|e| {
            safefs::remove_own_trash_record(&trashed.info);
            if e.kind() == std::io::ErrorKind::CrossesDevices {
                format!(
                    "the trash ({}) is on another file system than it (a bind mount or a \
                     subvolume): a move there would copy it, so it stays; use --move-to a \
                     folder on the same file system",
                    trashed.file.display()
                )
            } else {
                format!(
                    "could not move it to the trash ({}): {e}",
                    trashed.file.display()
                )
            }
        })
    }

    /// Puts a trashed file back at `to` (which must be free) and drops its record.
    pub fn take_back(trashed: &Trashed, to: &Path) -> Result<(), String> {
        safefs::move_no_replace(&trashed.file, to)
            .map_err(|e| format!("could not move {} back: {e}", trashed.file.display()))?;
        safefs::remove_own_trash_record(&trashed.info);
        Ok(())
    }

    /// The trashed files whose record says they came from `from`, in the trashes it
    /// could be in (for journals written before the exact place was recorded).
    pub fn find_by_origin(from: &Path) -> Vec<Trashed> {
        let folder = folder_of(from);
        let Ok(meta) = std::fs::metadata(folder) else {
            return Vec::new();
        };
        let Ok(trash) = trash_for(folder, meta.dev()) else {
            return Vec::new();
        };
        let wanted = format!("Path={}", url_path(from));
        let Ok(records) = std::fs::read_dir(trash.join("info")) else {
            return Vec::new();
        };
        records
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|info| {
                std::fs::read_to_string(info).is_ok_and(|text| text.lines().any(|l| l == wanted))
            })
            .filter_map(|info| {
                let name = info.file_stem()?.to_os_string();
                let file = trash.join("files").join(name);
                file.exists().then_some(Trashed { file, info })
            })
            .collect()
    }

    /// The folder `path` is in.
    fn folder_of(path: &Path) -> &Path {
        match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    /// The absolute path as the trash spec wants it: percent-encoded bytes.
    fn url_path(path: &Path) -> String {
        use std::os::unix::ffi::OsStrExt;
        let mut out = String::new();
        for &b in path.as_os_str().as_bytes() {
            if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// A photo right at the top of its file system (here `/dev/shm`, a tmpfs) is in
        /// that file system's trash, and a journal that did not record where finds it
        /// there (its folder is the top, not an ancestor of it).
        #[test]
        fn a_photo_at_the_top_of_its_file_system_is_found_in_its_trash() {
            let photo = Path::new("/dev/shm")
                .join(format!("lookalike-trash-test-{}.jpg", std::process::id()));
            std::fs::write(&photo, b"photo").expect("/dev/shm, a file system of its own");
            let trashed = reserve(&photo).unwrap();
            finish(&photo, &trashed).unwrap();
            assert!(trashed.file.starts_with("/dev/shm/"), "{trashed:?}");
            assert_eq!(find_by_origin(&photo), vec![trashed.clone()]);
            take_back(&trashed, &photo).unwrap();
            assert_eq!(std::fs::read(&photo).unwrap(), b"photo");
            std::fs::remove_file(&photo).unwrap();
        }

        #[test]
        fn paths_are_percent_encoded() {
            assert_eq!(
                url_path(Path::new("/home/a b/été.jpg")),
                "/home/a%20b/%C3%A9t%C3%A9.jpg"
            );
        }
    }
}
