//! No code path deletes or overwrites a file: every call that creates, writes, renames,
//! links or removes a file lives in `core/src/support/safefs.rs` (atomic writes that refuse to
//! replace a file that is not ours, moves that never replace, removal of our own
//! temporary files only), user files leave the library only through `cleanup` (the
//! trash or a no-replace move, after the keeper check), and nothing empties the trash.
//! The second half checks, on real files, that those functions behave as claimed.

use crate::common;

use std::path::{Path, PathBuf};

use common::repo;

/// Calls that create, write, rename, link or destroy a file, or empty the trash.
const FILE_CHANGING: [&str; 16] = [
    "remove_file(",
    "remove_dir(",
    "remove_dir_all(",
    "purge_all(",
    "TrashContext",
    "set_len(",
    "File::create(",
    "fs::write(",
    "rename(",
    "fs::copy(",
    "hard_link(",
    "OpenOptions",
    "create_new(",
    "save_with_format(",
    "persist(",
    "trash::delete",
];

/// The one module allowed to change files, and what else may, where.
const ALLOWED: [(&str, &str); 2] = [
    // The journal is appended to (never rewritten), and the system trash of Windows and
    // macOS is reached from here only (after the keeper check, see below).
    ("core/src/cleanup/journal.rs", "OpenOptions"),
    ("core/src/cleanup/trash.rs", "trash::delete"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(file relative to the crate, line number, code)` of every shipped line (unit tests
/// and comments left out).
fn shipped_lines() -> Vec<(String, usize, String)> {
    let root = &repo();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("core/src"), &mut files);
    assert!(files.len() > 20, "found only {} source files", files.len());
    let mut lines = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let relative = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        // Unit tests may write and clean up after themselves; the shipped code may not.
        let shipped = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in shipped.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("").to_string();
            lines.push((relative.clone(), n + 1, code));
        }
    }
    lines
}

#[test]
fn only_safefs_creates_writes_renames_or_removes_files() {
    let lines = shipped_lines();
    let mut offending = Vec::new();
    let mut in_safefs = 0;
    for (file, n, code) in &lines {
        for call in FILE_CHANGING {
            if !code.contains(call) {
                continue;
            }
            if file == "core/src/support/safefs.rs" {
                in_safefs += 1;
            } else if !ALLOWED.iter().any(|(f, c)| f == file && *c == call) {
                offending.push(format!("{file}:{n}: {}", code.trim()));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "file-changing calls outside core/src/support/safefs.rs:\n{}",
        offending.join("\n")
    );
    // The check is alive: it sees the calls safefs is made of.
    assert!(
        in_safefs >= 6,
        "expected safefs's own calls, saw {in_safefs}"
    );
}

#[test]
fn safefs_removes_only_its_own_temporary_files_and_the_name_a_hard_link_replaced() {
    let lines = shipped_lines();
    let removals: Vec<&String> = lines
        .iter()
        .filter(|(file, _, code)| {
            file == "core/src/support/safefs.rs" && code.contains("remove_file(")
        })
        .map(|(_, _, code)| code)
        .collect();
    assert_eq!(removals.len(), 4, "{removals:?}");
    // One removes our temporary file; one the trash's record of a photo that is back
    // (only a `.trashinfo` in an `info/` folder); one a file of our own cache folders
    // (only a file directly inside a folder of the cache's name: the app's thumbnails
    // beyond their size limit); the last drops a file's old name right after it got its
    // new one as a hard link (the no-replace move): the file stays.
    assert!(removals.iter().any(|c| c.contains("remove_file(tmp)")));
    assert!(removals.iter().any(|c| c.contains("remove_file(info)")));
    let text = std::fs::read_to_string(repo().join("core/src/support/safefs.rs")).unwrap();
    assert!(text.contains("let is_record = info.extension().is_some_and(|e| e == \"trashinfo\")"));
    assert!(text.contains("own_cache_file(path, folder)?;\n    std::fs::remove_file(path)"));
    assert!(text.contains("std::fs::hard_link(from, to)?;\n    std::fs::remove_file(from)"));
}

#[test]
fn the_only_way_out_of_the_library_is_the_checked_trash_or_a_no_replace_move() {
    let shipped = |file: &str| {
        let text = std::fs::read_to_string(repo().join(file)).unwrap();
        text.split("#[cfg(test)]").next().unwrap().to_string()
    };
    // The clean-up, where its files go (`places`) and what travels with a photo.
    let (shipped, trash, journal) = (
        ["mod.rs", "places.rs", "sidecars.rs"]
            .map(|f| shipped(&format!("core/src/cleanup/{f}")))
            .concat(),
        shipped("core/src/cleanup/trash.rs"),
        shipped("core/src/cleanup/journal.rs"),
    );
    // Into the trash by a no-replace rename only (the freedesktop.org trash of the file's
    // own file system); the `trash` crate only where the system keeps a trash per volume.
    assert!(trash.contains("safefs::move_no_replace(path, &trashed.file)"));
    assert_eq!(trash.matches("trash::delete(").count(), 1);
    assert!(
        trash.contains("#[cfg(not(all(unix, not(target_os = \"macos\"))))]\npub fn system_trash")
    );
    assert!(!trash.contains("std::fs::copy(") && !trash.contains("io::copy("));
    assert!(shipped.contains("safefs::move_no_replace(from, target)"));
    // Every move goes through the keeper check first, on a verified match.
    assert!(shipped.contains("may_move(found, &keepers).and_then"));
    assert!(shipped.contains("pub fn remove(\n        &self,\n        matches: &[VerifiedMatch],"));
    // The journal is appended to, never rewritten.
    assert!(journal.contains(".append(true)"));
    assert!(!journal.contains(".truncate(true)") && !journal.contains(".write(true)"));
    // No copy-then-delete fallback across disks.
    assert!(!shipped.contains("std::fs::copy("));
}

/// The functions behave as the test above trusts them to: no overwrite by a write, by
/// a move, or by a clean-up onto a name another program just took.
#[test]
fn writes_and_moves_never_replace_a_users_file() {
    use lookalike_core::support::safefs::{Replace, move_no_replace, write_atomically};
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo.jpg");
    std::fs::write(&photo, b"\xff\xd8 the only copy").unwrap();
    for replace in [
        Replace::Never,
        Replace::IfStartsWith(b"LKALIDX\n"),
        Replace::IfOurs(lookalike_core::describe::model::is_our_safetensors),
    ] {
        assert!(write_atomically(&photo, b"not a photo", replace).is_err());
    }
    let other = dir.path().join("other.jpg");
    std::fs::write(&other, b"another photo").unwrap();
    let error = move_no_replace(&other, &photo).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&photo).unwrap(), b"\xff\xd8 the only copy");
    assert_eq!(std::fs::read(&other).unwrap(), b"another photo");
    // Only the two files: no temporary file was left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// A file on another disk than the home trash goes into that disk's own trash folder
/// by a rename, never copied (`cleanup::trash`). Here:
/// a photo on another file system (`/dev/shm`, a tmpfs) goes to the trash on that file
/// system, as the same file (same inode: renamed, not copied), and comes back.
#[cfg(target_os = "linux")]
#[test]
fn the_trash_never_copies_a_photo_across_disks() {
    use lookalike_core::cleanup::{Destination, Journal};
    use std::os::unix::fs::MetadataExt;
    let home = tempfile::tempdir().unwrap();
    let Ok(disk) = tempfile::tempdir_in("/dev/shm") else {
        eprintln!("SKIPPED: no /dev/shm to act as a second disk");
        return;
    };
    let device = |p: &Path| std::fs::metadata(p).unwrap().dev();
    let home_data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| home.path().to_path_buf());
    let home_device = home_data.ancestors().find(|a| a.exists()).map_or(0, device);
    if device(disk.path()) == home_device {
        eprintln!("SKIPPED: /dev/shm is on the same device as the home trash");
        return;
    }
    let library = disk.path().canonicalize().unwrap();
    let keeper = library.join("keeper.jpg");
    let copy = library.join("copy.jpg");
    std::fs::write(&keeper, b"photo").unwrap();
    std::fs::write(&copy, b"photo").unwrap();
    let removal = common::verified_copies(&library, "keeper.jpg", &["copy.jpg"]);
    assert_eq!(removal.len(), 1);
    let inode = std::fs::metadata(&copy).unwrap().ino();
    // The user's home trash is on another disk than /dev/shm: the file must go to the
    // trash folder of its own disk, never be copied to the home trash.
    let journal = Journal::new(home.path().join("journal.jsonl"));
    let report = journal
        .remove(
            &removal,
            &Destination::Trash,
            lookalike_core::index::Control::unattended(),
        )
        .unwrap();
    assert_eq!(report.moved.len(), 1, "{report:?}");
    assert!(!copy.exists() && keeper.exists());
    // In the trash of the photo's own disk, as the same file; nothing in the home trash.
    let top_trash = Path::new("/dev/shm").join(format!(".Trash-{}", my_uid()));
    let trashed: Vec<PathBuf> = std::fs::read_dir(top_trash.join("files"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.ino() == inode))
        .collect();
    assert_eq!(trashed.len(), 1, "not in {}", top_trash.display());
    let undone = journal.undo(report.batch).unwrap();
    assert_eq!(undone.moved.len(), 1, "{undone:?}");
    assert_eq!(std::fs::read(&copy).unwrap(), b"photo");
    assert_eq!(std::fs::metadata(&copy).unwrap().ino(), inode);
}

#[cfg(target_os = "linux")]
fn my_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // The owner of a file this process just made is this process's user.
    let probe = tempfile::NamedTempFile::new().unwrap();
    std::fs::metadata(probe.path()).unwrap().uid()
}
