//! The thumbnails' folder on disk, bounded in size: a thumbnail read from it is marked
//! used (its modification time set to now), and when the folder outgrows its limit (a
//! setting) the least recently used thumbnails are removed, down to nine tenths of it.
//! A million photos' thumbnails would take about 12 GB; the limit keeps the ones looked
//! at lately.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use lookalike_core::support::safefs;

/// The thumbnails' folder's name (bumped when the cached thumbnails' format changes).
pub const FOLDER: &str = "thumbs-v1";

/// The folder, its limit and about how many bytes it holds.
pub struct DiskCache {
    dir: PathBuf,
    limit: AtomicU64,
    /// Counted once ([`DiskCache::count`]), then kept up to date as thumbnails are added
    /// and removed (others written meanwhile by another copy of the app are counted at
    /// the next prune).
    bytes: AtomicU64,
    pruning: AtomicBool,
}

impl DiskCache {
    /// The cache in `FOLDER` under `parent`, holding at most `limit` bytes.
    pub fn new(parent: &Path, limit: u64) -> Self {
        Self {
            dir: parent.join(FOLDER),
            limit: AtomicU64::new(limit),
            bytes: AtomicU64::new(0),
            pruning: AtomicBool::new(false),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Another limit, applied at the next thumbnail added.
    pub fn set_limit(&self, limit: u64) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// About how many bytes the folder holds.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Counts what the folder holds (once, at the start: a walk of the folder), and
    /// removes the least recently used beyond the limit.
    pub fn count(&self) {
        self.prune();
    }

    /// A thumbnail was read from the cache: it is used again.
    pub fn used(&self, file: &Path) {
        // Failing to mark it only makes it older than it is.
        let _ = safefs::touch_own_cache_file(file, FOLDER);
    }

    /// A thumbnail of `len` bytes was written: beyond the limit, the least recently used
    /// are removed.
    pub fn added(&self, len: u64) {
        let bytes = self.bytes.fetch_add(len, Ordering::Relaxed) + len;
        if bytes > self.limit.load(Ordering::Relaxed) {
            self.prune();
        }
    }

    /// Removes the least recently used thumbnails until the folder holds at most nine
    /// tenths of the limit, and counts what is left; one prune at a time.
    fn prune(&self) {
        if self.pruning.swap(true, Ordering::Acquire) {
            return;
        }
        let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let meta = entry.metadata().ok()?;
                let used = meta.modified().ok()?;
                meta.is_file().then(|| (used, meta.len(), entry.path()))
            })
            .collect();
        let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
        let target = self.limit.load(Ordering::Relaxed) / 10 * 9;
        if total > self.limit.load(Ordering::Relaxed) {
            files.sort_by_key(|(used, _, _)| *used);
            for (_, len, path) in &files {
                if total <= target {
                    break;
                }
                if safefs::remove_own_cache_file(path, FOLDER).is_ok() {
                    total -= len;
                }
            }
        }
        self.bytes.store(total, Ordering::Relaxed);
        self.pruning.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_its_limit_the_least_recently_used_go_first() {
        let parent = tempfile::tempdir().expect("tempdir");
        let cache = DiskCache::new(parent.path(), 10_000);
        std::fs::create_dir_all(cache.dir()).expect("folder");
        let file = |i: usize| cache.dir().join(format!("{i}.jpg"));
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for i in 0..8 {
            std::fs::write(file(i), [0u8; 1000]).expect("write");
            // Oldest first: file 0 was used an hour ago, file 7 seven seconds later.
            let used = long_ago + std::time::Duration::from_secs(i as u64);
            std::fs::File::open(file(i))
                .and_then(|f| f.set_modified(used))
                .expect("set time");
        }
        cache.count();
        assert_eq!(cache.bytes(), 8_000, "under the limit: nothing removed");
        // File 0 is looked at again: now the most recently used.
        cache.used(&file(0));
        // A limit of 5,000 keeps 4,500 bytes: the four most recently used.
        cache.set_limit(5_000);
        std::fs::write(file(8), [0u8; 1000]).expect("write");
        cache.added(1000);
        let left: Vec<bool> = (0..9).map(|i| file(i).exists()).collect();
        assert_eq!(
            left,
            [true, false, false, false, false, false, true, true, true]
        );
        assert_eq!(cache.bytes(), 4_000);
        // Nothing outside its folder is ever removed.
        let outside = parent.path().join("photo.jpg");
        std::fs::write(&outside, b"a photo").expect("write");
        assert!(safefs::remove_own_cache_file(&outside, FOLDER).is_err());
        assert!(outside.exists());
    }
}
