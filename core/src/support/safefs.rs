//! The one place where the product writes, replaces or moves a file, and where a file's
//! identity is read.
//!
//! - **Identity is the file, not the path**: [`FileId`] is the device and inode (the
//!   volume serial number and file index on Windows), so two paths that reach one file
//!   (hard links, symbolic links, a folder reached twice) are recognised as one.
//! - **No overwrite, ever**: [`write_atomically`] writes a temporary file, fsyncs it and
//!   renames it into place, and replaces an existing file only when the caller's check
//!   says that file is one of ours (an index, a whitening, ...); [`move_no_replace`]
//!   moves a file with an atomic rename that fails rather than replace anything.
//!
//! `tests/it/no_permanent_delete.rs` checks that no other source file creates, writes,
//! renames or removes files.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::support::error::{Error, Result};

/// What makes a file itself: its device and inode. Two paths with the same `FileId`
/// are the same photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileId {
    pub device: u64,
    pub inode: u64,
}

impl std::fmt::Display for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "device {} inode {}", self.device, self.inode)
    }
}

/// The identity of the file `meta` describes (`path` is only read where the platform
/// needs a handle for it).
#[cfg(unix)]
pub fn file_id(_path: &Path, meta: &std::fs::Metadata) -> std::io::Result<FileId> {
    use std::os::unix::fs::MetadataExt;
    Ok(FileId {
        device: meta.dev(),
        inode: meta.ino(),
    })
}

/// The identity of the file `meta` describes (`path` is only read where the platform
/// needs a handle for it).
#[cfg(windows)]
pub fn file_id(path: &Path, _meta: &std::fs::Metadata) -> std::io::Result<FileId> {
    let handle = winapi_util::Handle::from_path_any(path)?;
    let info = winapi_util::file::information(&handle)?;
    Ok(FileId {
        device: info.volume_serial_number(),
        inode: info.file_index(),
    })
}

/// The identity of `path` (following symbolic links): size, modification time and
/// identity, as the index records them.
pub fn stat(path: &Path) -> std::io::Result<(std::fs::Metadata, FileId)> {
    let meta = std::fs::metadata(path)?;
    let id = file_id(path, &meta)?;
    Ok((meta, id))
}

/// May [`write_atomically`] replace the file that is already at the path?
#[derive(Debug, Clone, Copy)]
pub enum Replace {
    /// Never: an existing file is an error.
    Never,
    /// Only a file whose first bytes are these (one of our own formats).
    IfStartsWith(&'static [u8]),
    /// Only a file this check accepts (given its first bytes, up to 256 KiB).
    IfOurs(fn(&[u8]) -> bool),
    /// Anything: only for files in the program's own cache folders.
    OwnCache,
}

impl Replace {
    fn allows(self, head: &[u8]) -> bool {
        match self {
            Self::Never => false,
            Self::IfStartsWith(magic) => head.starts_with(magic),
            Self::IfOurs(check) => check(head),
            Self::OwnCache => true,
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder: created new,
/// written, fsynced, then renamed into place, and the folder fsynced, so a crash leaves
/// the old file or the new one, never a torn one. An existing file at `path` is replaced
/// only if `replace` accepts it; anything else (a photo, a document) is refused with a
/// message naming it.
pub fn write_atomically(path: &Path, bytes: &[u8], replace: Replace) -> Result<()> {
    write_atomically_with(path, replace, &mut |out| out.write_all(bytes))
}

/// [`write_atomically`], the bytes written by `write` as it makes them (through a
/// buffer): a file of gigabytes is never held whole in memory to be saved.
pub fn write_atomically_with(
    path: &Path,
    replace: Replace,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = temp_path(path)?;
    // Refuse before writing anything when the name is taken by a foreign file.
    check_replaceable(path, replace)?;
    let mut written = || -> std::io::Result<()> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()
    };
    if let Err(e) = written() {
        remove_own_temp(&tmp);
        return Err(Error::io(&tmp, e));
    }
    place(&tmp, path, replace)
}

/// Appends `bytes` to our file at `path` and fsyncs it, only if the file is still as
/// we left it: it starts with `magic`, is `expected_len` bytes long and ends with
/// `expected_tail` (anything else, another writer or a torn append, is
/// [`Error::Refused`]: the caller writes the file whole instead). A crash during the
/// append leaves the file as it was followed by a torn tail, which the file's reader
/// must recognise and ignore.
pub fn append_to_own(
    path: &Path,
    magic: &[u8],
    (expected_len, expected_tail): (u64, &[u8]),
    bytes: &[u8],
) -> Result<()> {
    use std::io::{Read, Seek};
    let refused = |reason: &str| Error::Refused {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() || meta.len() != expected_len {
        return Err(refused(
            "changed since it was read; it is written whole instead",
        ));
    }
    let mut head = vec![0; magic.len()];
    file.read_exact(&mut head).map_err(|e| Error::io(path, e))?;
    if head != magic {
        return Err(refused("not a file lookalike wrote; it is left as it is"));
    }
    let mut tail = vec![0; expected_tail.len()];
    let back = expected_len
        .checked_sub(tail.len() as u64)
        .ok_or_else(|| refused("shorter than what was written"))?;
    file.seek(std::io::SeekFrom::Start(back))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(|e| Error::io(path, e))?;
    if tail != expected_tail {
        return Err(refused(
            "changed since it was read; it is written whole instead",
        ));
    }
    let mut appended = || -> std::io::Result<()> {
        file.seek(std::io::SeekFrom::Start(expected_len))?;
        file.write_all(bytes)?;
        file.sync_data()
    };
    appended().map_err(|e| Error::io(path, e))
}

/// `.<name>.tmp<pid>` beside `path`, its folder created: where a file is written before
/// it is placed.
pub fn temp_path(path: &Path) -> Result<PathBuf> {
    hidden_beside(path, &format!(".tmp{}", std::process::id()))
}

/// `.<name><suffix>` beside `path`, its folder created: a file of ours that goes with
/// `path` (its temporary file, its lock).
fn hidden_beside(path: &Path, suffix: &str) -> Result<PathBuf> {
    let dir = folder_of(path);
    let name = path
        .file_name()
        .ok_or_else(|| Error::Invalid(format!("{} is not a file path", path.display())))?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir.join(format!(".{}{suffix}", name.to_string_lossy())))
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Renames our finished temporary file `tmp` (already fsynced) to `path`, replacing a
/// file there only if `replace` accepts it, then fsyncs the folder. On failure `tmp` is
/// removed.
pub fn place(tmp: &Path, path: &Path, replace: Replace) -> Result<()> {
    let placed = check_replaceable(path, replace).and_then(|existing| {
        // Nothing was there: a file that appears meanwhile is not replaced either.
        let renamed = if existing {
            std::fs::rename(tmp, path)
        } else {
            move_no_replace(tmp, path)
        };
        renamed.map_err(|e| Error::io(path, e))
    });
    if placed.is_err() {
        remove_own_temp(tmp);
    }
    placed?;
    // Make the rename itself durable (best effort: not every OS can open a folder).
    if let Ok(d) = std::fs::File::open(folder_of(path)) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// `Ok(true)` if a file at `path` may be replaced, `Ok(false)` if there is none, an
/// error naming it if it may not: lets a long job refuse before it starts.
pub fn check_replaceable(path: &Path, replace: Replace) -> Result<bool> {
    match existing_head(path)? {
        None => Ok(false),
        Some(head) if replace.allows(&head) => Ok(true),
        Some(_) => Err(Error::Refused {
            path: path.to_path_buf(),
            reason: "a file that lookalike did not write is already there; \
                     it is left as it is: choose another name"
                .into(),
        }),
    }
}

/// How much of an existing file [`Replace::IfOurs`] is shown: enough for the header of
/// any of our files (a GoogLeNet weights file's JSON header is about 20 KB).
const HEAD_BYTES: u64 = 256 * 1024;

/// The first [`HEAD_BYTES`] of the file at `path`, or `None` if there is none.
fn existing_head(path: &Path) -> Result<Option<Vec<u8>>> {
    use std::io::Read;
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
        Ok(meta) if !meta.is_file() => {
            return Err(Error::Refused {
                path: path.to_path_buf(),
                reason: "not a regular file (a folder or a link); it is left as it is".into(),
            });
        }
        Ok(_) => {}
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(HEAD_BYTES).read_to_end(&mut head))
        .map_err(|e| Error::io(path, e))?;
    Ok(Some(head))
}

/// Creates our temporary file `tmp` for writing in pieces (a download), replacing a
/// stale one left by an earlier run; [`place`] puts it where it belongs.
pub fn create_temp(tmp: &Path) -> Result<std::fs::File> {
    remove_own_temp(tmp);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .map_err(|e| Error::io(tmp, e))
}

/// Removes one of the program's own temporary files (never a user's file).
pub fn remove_own_temp(tmp: &Path) {
    let _ = std::fs::remove_file(tmp);
}

/// Creates `path` as a new file holding `bytes`, fsynced; fails if anything is there
/// (a record of ours, such as the trash's `.trashinfo`, that must not take another's name).
pub fn create_new_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Removes a file directly inside one of the program's own cache folders, `folder`
/// being that folder's name (the app's thumbnails': `thumbs-v1`): a file anywhere else
/// is refused, so no mistake can remove a user's file.
pub fn remove_own_cache_file(path: &Path, folder: &str) -> std::io::Result<()> {
    own_cache_file(path, folder)?;
    std::fs::remove_file(path)
}

/// Marks a file of one of the program's own cache folders (as for
/// [`remove_own_cache_file`]) as just used: its modification time set to now, so that a
/// cache bounded in size removes the least recently used first.
pub fn touch_own_cache_file(path: &Path, folder: &str) -> std::io::Result<()> {
    own_cache_file(path, folder)?;
    std::fs::File::open(path)?.set_modified(std::time::SystemTime::now())
}

fn own_cache_file(path: &Path, folder: &str) -> std::io::Result<()> {
    let inside = path.parent().and_then(Path::file_name);
    match inside.is_some_and(|name| name == folder) {
        true => Ok(()),
        false => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not in a {folder} cache folder", path.display()),
        )),
    }
}

/// Removes a `.trashinfo` record in a trash's `info/` folder, written by
/// [`create_new_file`] for a photo that is back in the library (or never left): the
/// trash's record of it, never a photo.
pub fn remove_own_trash_record(info: &Path) {
    let is_record = info.extension().is_some_and(|e| e == "trashinfo")
        && info
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "info");
    if is_record {
        let _ = std::fs::remove_file(info);
    }
}

/// An advisory lock on a file, held while this value lives (and by the system until
/// the process ends, whatever way it ends): one writer at a time.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

/// Takes the lock of `path` (`.<name>.lock` beside it, our own file, created if
/// needed) without waiting: another process holding it is [`Error::Busy`], naming
/// `what` is locked.
pub fn lock(path: &Path, what: &str) -> Result<Lock> {
    let lock_path = hidden_beside(path, ".lock")?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Busy {
            path: path.to_path_buf(),
            reason: format!(
                "another lookalike (the app or a command) is writing {what} now; \
                 wait for it to finish, then try again"
            ),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&lock_path, e)),
    }
}

/// Moves `from` to `to` atomically, failing with `AlreadyExists` rather than replace a
/// file that is at `to`, even one that appeared a moment before. Linux and macOS have an
/// atomic no-replace rename (`renameat2(RENAME_NOREPLACE)`, `renameatx_np(RENAME_EXCL)`);
/// elsewhere, and on file systems without it, the file gets its new name as a hard
/// link (which never replaces) before the old name is dropped, so the file has a name
/// at every moment.
pub fn move_no_replace(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            // The file system (or kernel) cannot do it: take the hard-link way.
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(e.into()),
        }
    }
    link_then_unlink(from, to)
}

/// The portable no-replace move: `to` is created as a second name of the file (a hard
/// link fails if `to` exists), then the name `from` is dropped. The file's content is
/// never touched and it always has at least one name.
fn link_then_unlink(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::hard_link(from, to)?;
    std::fs::remove_file(from) // the second name `to` keeps the file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_file_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("photo.jpg");
        std::fs::write(&photo, b"\xff\xd8 my holiday").unwrap();
        for replace in [
            Replace::Never,
            Replace::IfStartsWith(b"LKALIDX\n"),
            Replace::IfOurs(|head| head.starts_with(b"ours")),
        ] {
            let error = write_atomically(&photo, b"index", replace).unwrap_err();
            assert!(matches!(error, Error::Refused { .. }), "{error}");
        }
        assert_eq!(std::fs::read(&photo).unwrap(), b"\xff\xd8 my holiday");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn our_own_file_is_replaced_and_a_new_one_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/i.lkidx");
        write_atomically(&path, b"LKALIDX\none", Replace::Never).unwrap();
        write_atomically(&path, b"LKALIDX\ntwo", Replace::IfStartsWith(b"LKALIDX\n")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"LKALIDX\ntwo");
        let error = write_atomically(&path, b"x", Replace::Never).unwrap_err();
        assert!(error.to_string().contains("did not write"), "{error}");
    }

    #[test]
    fn moves_never_replace_and_keep_the_file_itself() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        std::fs::write(&a, b"photo a").unwrap();
        std::fs::write(&b, b"photo b").unwrap();
        let error = move_no_replace(&a, &b).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&b).unwrap(), b"photo b");
        let (_, before) = stat(&a).unwrap();
        move_no_replace(&a, &c).unwrap();
        let (_, after) = stat(&c).unwrap();
        assert_eq!(before, after, "a rename keeps the inode");
        assert!(!a.exists());
        // The portable way behaves the same.
        let error = link_then_unlink(&c, &b).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
        link_then_unlink(&c, &a).unwrap();
        assert_eq!(stat(&a).unwrap().1, before);
        assert!(!c.exists());
    }

    #[test]
    fn hard_links_share_an_identity_and_copies_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, b"pixels").unwrap();
        std::fs::hard_link(&a, dir.path().join("link")).unwrap();
        std::fs::copy(&a, dir.path().join("copy")).unwrap();
        let id = |n: &str| stat(&dir.path().join(n)).unwrap().1;
        assert_eq!(id("a"), id("link"));
        assert_ne!(id("a"), id("copy"));
    }
}
