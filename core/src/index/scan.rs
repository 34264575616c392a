//! Finding the images of a folder: recursive, hidden entries skipped unless asked for,
//! files with an unknown extension sniffed by content, and **every file found once**:
//! two paths that reach the same file (same device and inode: hard links, symbolic
//! links, a folder reached twice) are one photo, listed under one path.
//!
//! Symbolic links are not followed unless asked for (`--follow-links`), as ripgrep, fd
//! and czkawka do: a link often leads out of the folder the user chose (a card reader,
//! another disk, a synced folder), and a link back into the library would show every
//! photo twice. The links skipped are counted and reported. When links are followed,
//! loops are detected (walkdir compares device and inode with every ancestor) and a
//! file reached both through a link and directly keeps its real path.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::UNIX_EPOCH;

use std::collections::HashMap;

use serde::Serialize;

use super::Failure;
use crate::read::imaging::has_image_extension;
use crate::support::error::{Error, Result};
use crate::support::safefs::{FileId, file_id};

/// Extensions that are certainly not photos (video, sidecars, documents): skipped
/// without opening them.
const NOT_IMAGES: [&str; 13] = [
    "mov", "mp4", "m4v", "avi", "mts", "xmp", "thm", "txt", "json", "pdf", "db", "ini", "lkidx",
];

#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Also enter hidden folders and read hidden files (names starting with `.`).
    pub include_hidden: bool,
    /// Follow symbolic links to files and folders (off by default, see the module).
    pub follow_links: bool,
}

/// An image file found by the scan.
#[derive(Debug, Clone, PartialEq)]
pub struct Scanned {
    pub path: PathBuf,
    /// Relative to the root, `/`-separated.
    pub relative: String,
    pub size: u64,
    pub mtime_ns: i128,
    /// Device and inode: what makes this file itself.
    pub file: FileId,
    /// The path goes through a symbolic link (only when links are followed).
    pub via_link: bool,
}

/// A path that reaches a file already found under another path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SameFile {
    pub path: PathBuf,
    /// The path the file is listed under.
    pub same_as: PathBuf,
}

/// What a scan found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanOutcome {
    /// Each image file once, sorted by path.
    pub found: Vec<Scanned>,
    /// Entries that could not be read (permissions, broken links, loops, bad names).
    pub failures: Vec<Failure>,
    /// Second paths to files already in `found`.
    pub same_file: Vec<SameFile>,
    /// Symbolic links not followed (links are followed only when asked for).
    pub links_not_followed: usize,
}

/// Lists the image files under `root`, each file once, sorted by path. Entries that
/// cannot be read (permissions, broken links, link loops, non-UTF-8 names) come back as
/// failures.
pub fn scan_folder(root: &Path, options: &ScanOptions, stop: &AtomicBool) -> Result<ScanOutcome> {
    let meta = std::fs::metadata(root).map_err(|e| Error::io(root, e))?;
    if !meta.is_dir() {
        return Err(Error::Invalid(format!(
            "{} is not a folder",
            root.display()
        )));
    }
    let mut outcome = ScanOutcome::default();
    let mut seen: HashMap<FileId, usize> = HashMap::new();
    // Second paths and their file: the path it is listed under is known at the end.
    let mut second_paths: Vec<(PathBuf, FileId)> = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(options.follow_links)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            options.include_hidden
                || e.depth() == 0
                || !e.file_name().to_string_lossy().starts_with('.')
        });
    for item in walker {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let entry = match item {
            Ok(entry) => entry,
            Err(error) => {
                outcome.failures.push(walk_failure(root, &error));
                continue;
            }
        };
        if entry.file_type().is_symlink() {
            // Only seen when links are not followed.
            outcome.links_not_followed += 1;
            continue;
        }
        let scanned = match scanned(root, &entry, options) {
            Ok(Some(scanned)) => scanned,
            Ok(None) => continue,
            Err(failure) => {
                outcome.failures.push(failure);
                continue;
            }
        };
        let file = scanned.file;
        match seen.get(&file) {
            None => {
                seen.insert(file, outcome.found.len());
                outcome.found.push(scanned);
            }
            Some(&at) => {
                // One file, two paths: list it under its real path, else the first one.
                let listed = &mut outcome.found[at];
                let other = if listed.via_link && !scanned.via_link {
                    std::mem::replace(listed, scanned).path
                } else {
                    scanned.path
                };
                second_paths.push((other, file));
            }
        }
    }
    outcome.same_file = second_paths
        .into_iter()
        .map(|(path, file)| SameFile {
            path,
            same_as: outcome.found[seen[&file]].path.clone(),
        })
        .collect();
    outcome.found.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(outcome)
}

/// An entry the walk could not read, as a failure naming it.
fn walk_failure(root: &Path, error: &walkdir::Error) -> Failure {
    let path = error
        .path()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.to_path_buf());
    let reason = match error.loop_ancestor() {
        Some(ancestor) => format!("symbolic link loop (back to {})", ancestor.display()),
        None => error
            .io_error()
            .map(ToString::to_string)
            .unwrap_or_else(|| error.to_string()),
    };
    Failure::new(path, reason)
}

/// The entry as a photo to index: `None` when it is no file or no photo; a failure
/// when its name or metadata cannot be read.
fn scanned(
    root: &Path,
    entry: &walkdir::DirEntry,
    options: &ScanOptions,
) -> std::result::Result<Option<Scanned>, Failure> {
    let path = entry.path();
    if !entry.file_type().is_file() || !is_candidate(path) {
        return Ok(None);
    }
    let Some(relative) = path.strip_prefix(root).ok().and_then(Path::to_str) else {
        return Err(Failure::new(
            path,
            "file name is not valid UTF-8; rename it to index it",
        ));
    };
    let (meta, file) = entry
        .metadata()
        .map_err(std::io::Error::from)
        .and_then(|meta| file_id(path, &meta).map(|id| (meta, id)))
        .map_err(|error| Failure::new(path, error.to_string()))?;
    // With links followed, a path whose real location differs went through one.
    let via_link = options.follow_links
        && path
            .canonicalize()
            .map_or(true, |real| real.as_path() != path);
    Ok(Some(Scanned {
        path: path.to_path_buf(),
        relative: relative.replace(std::path::MAIN_SEPARATOR, "/"),
        size: meta.len(),
        mtime_ns: mtime_ns(&meta),
        file,
        via_link,
    }))
}

/// An image extension, or an unknown one whose first bytes look like an image.
fn is_candidate(path: &Path) -> bool {
    if has_image_extension(path) {
        return true;
    }
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if NOT_IMAGES.iter().any(|x| x.eq_ignore_ascii_case(extension)) {
        return false;
    }
    let mut head = [0u8; 16];
    let read = std::fs::File::open(path).and_then(|mut f| f.read(&mut head));
    matches!(read, Ok(n) if n > 0 && image::guess_format(&head[..n]).is_ok())
}

/// Modification time in nanoseconds from the epoch (negative before it; 0 if unknown):
/// with the size, what tells whether a file changed since it was indexed.
pub fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    meta.modified()
        .map_or(0, |t| match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        })
}
