//! Finding the images of a folder: recursive, symbolic links followed but loops
//! detected (walkdir compares device and inode with every ancestor), hidden entries
//! skipped unless asked for, and files with an unknown extension sniffed by content.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::UNIX_EPOCH;

use super::Failure;
use crate::error::{Error, Result};
use crate::imaging::has_image_extension;

/// Extensions that are certainly not images we decode (camera raw, video, sidecars,
/// documents): skipped without opening them.
const NOT_IMAGES: [&str; 30] = [
    "cr2", "cr3", "nef", "nrw", "arw", "srf", "sr2", "dng", "raf", "orf", "rw2", "pef", "srw",
    "x3f", "heic", "heif", "avif", "mov", "mp4", "m4v", "avi", "mts", "xmp", "thm", "txt", "json",
    "pdf", "db", "ini", "lkidx",
];

#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Also enter hidden folders and read hidden files (names starting with `.`).
    pub include_hidden: bool,
}

/// An image file found by the scan.
#[derive(Debug, Clone, PartialEq)]
pub struct Scanned {
    pub path: PathBuf,
    /// Relative to the root, `/`-separated.
    pub relative: String,
    pub size: u64,
    pub mtime_ns: i128,
}

/// Lists the image files under `root`, sorted by path. Entries that cannot be read
/// (permissions, broken links, link loops, non-UTF-8 names) come back as failures.
pub fn scan_folder(
    root: &Path,
    options: &ScanOptions,
    stop: &AtomicBool,
) -> Result<(Vec<Scanned>, Vec<Failure>)> {
    let meta = std::fs::metadata(root).map_err(|e| Error::io(root, e))?;
    if !meta.is_dir() {
        return Err(Error::Invalid(format!(
            "{} is not a folder",
            root.display()
        )));
    }
    let mut found = Vec::new();
    let mut failures = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
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
                let path = error
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                let reason = match error.loop_ancestor() {
                    Some(ancestor) => {
                        format!("symbolic link loop (back to {})", ancestor.display())
                    }
                    None => error
                        .io_error()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| error.to_string()),
                };
                failures.push(Failure { path, reason });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        if !is_candidate(path) {
            continue;
        }
        let Some(relative) = path.strip_prefix(root).ok().and_then(Path::to_str) else {
            failures.push(Failure {
                path: path.to_path_buf(),
                reason: "file name is not valid UTF-8; rename it to index it".into(),
            });
            continue;
        };
        match entry.metadata() {
            Ok(meta) => found.push(Scanned {
                path: path.to_path_buf(),
                relative: relative.replace(std::path::MAIN_SEPARATOR, "/"),
                size: meta.len(),
                mtime_ns: mtime_ns(&meta),
            }),
            Err(error) => failures.push(Failure {
                path: path.to_path_buf(),
                reason: error.to_string(),
            }),
        }
    }
    Ok((found, failures))
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
