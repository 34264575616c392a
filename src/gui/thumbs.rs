//! Thumbnails: made off the UI thread, cached on disk, uploaded as textures on demand.
//!
//! Each frame the grid tells the pool which visible thumbnails it still lacks
//! ([`Thumbnails::want`]); the list replaces the previous one, so scrolling fast
//! through 10,000 photos never queues work for rows that went by. Pool threads take
//! from the front of that list, read the disk cache (or decode the photo and write the
//! cache), and send small images back. The UI keeps a bounded number of textures and
//! forgets the least recently drawn ones; the disk cache is bounded too ([`disk`]).

mod disk;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use anyhow::Context as _;
use eframe::egui;
use sha2::Digest;

use super::executor::decode_for_display;

/// Longer side of a cached thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 256;
/// Textures kept on the GPU; beyond this the least recently drawn are dropped.
const MAX_TEXTURES: usize = 1500;

pub use disk::DiskCache;

/// What the UI has for one photo.
pub enum Thumb<'a> {
    Ready(&'a egui::TextureHandle),
    Failed(&'a str),
    Loading,
}

#[derive(Default)]
struct Wanted {
    /// Most wanted first.
    queue: Vec<PathBuf>,
    in_flight: HashSet<PathBuf>,
    shutdown: bool,
}

type Shared = Arc<(Mutex<Wanted>, Condvar)>;

struct Texture {
    handle: egui::TextureHandle,
    last_drawn: u64,
}

/// The UI side of the thumbnail pool.
pub struct Thumbnails {
    shared: Shared,
    cache: Arc<DiskCache>,
    results: Receiver<(PathBuf, Result<egui::ColorImage, String>)>,
    threads: Vec<JoinHandle<()>>,
    textures: HashMap<PathBuf, Texture>,
    failed: HashMap<PathBuf, String>,
    frame: u64,
}

impl Thumbnails {
    /// Starts `threads` workers caching into `cache` (the first counts what it holds
    /// before it starts).
    pub fn spawn(cache: DiskCache, threads: usize, repaint: egui::Context) -> anyhow::Result<Self> {
        let shared: Shared = Arc::default();
        let (tx, results) = sync_channel(64);
        let cache = Arc::new(cache);
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let (shared, tx, cache, repaint) = (
                Arc::clone(&shared),
                tx.clone(),
                Arc::clone(&cache),
                repaint.clone(),
            );
            let handle = std::thread::Builder::new()
                .name(format!("lookalike-thumbs-{i}"))
                .spawn(move || {
                    if i == 0 {
                        cache.count();
                    }
                    work(&shared, &tx, &cache, &repaint)
                })
                .context("starting a thumbnail thread")?;
            handles.push(handle);
        }
        Ok(Self {
            shared,
            cache,
            results,
            threads: handles,
            textures: HashMap::new(),
            failed: HashMap::new(),
            frame: 0,
        })
    }

    /// Takes finished thumbnails in as textures; call once per frame.
    pub fn receive(&mut self, ctx: &egui::Context) {
        self.frame += 1;
        while let Ok((path, result)) = self.results.try_recv() {
            match result {
                Ok(image) => {
                    let name = format!("thumb:{}", path.display());
                    let handle = ctx.load_texture(name, image, egui::TextureOptions::LINEAR);
                    self.textures.insert(
                        path,
                        Texture {
                            handle,
                            last_drawn: self.frame,
                        },
                    );
                }
                Err(reason) => {
                    self.failed.insert(path, reason);
                }
            }
        }
        if self.textures.len() > MAX_TEXTURES {
            let mut ages: Vec<u64> = self.textures.values().map(|t| t.last_drawn).collect();
            ages.sort_unstable();
            let cutoff = ages[self.textures.len() - MAX_TEXTURES * 4 / 5];
            self.textures.retain(|_, t| t.last_drawn >= cutoff);
        }
    }

    /// The thumbnail of `path` as it stands, marking it as drawn this frame.
    pub fn get(&mut self, path: &Path) -> Thumb<'_> {
        if let Some(texture) = self.textures.get_mut(path) {
            texture.last_drawn = self.frame;
            return Thumb::Ready(&texture.handle);
        }
        match self.failed.get(path) {
            Some(reason) => Thumb::Failed(reason),
            None => Thumb::Loading,
        }
    }

    /// Asks for these missing thumbnails (most wanted first), replacing the last list.
    pub fn want(&self, mut paths: Vec<PathBuf>) {
        paths.retain(|p| !self.textures.contains_key(p) && !self.failed.contains_key(p));
        let (lock, ready) = &*self.shared;
        let mut wanted = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if wanted.queue != paths {
            wanted.queue = paths;
            ready.notify_all();
        }
    }

    /// Thumbnails asked for and not yet delivered.
    pub fn pending(&self) -> usize {
        let wanted = self.shared.0.lock().unwrap_or_else(PoisonError::into_inner);
        wanted.queue.len() + wanted.in_flight.len()
    }

    /// The disk cache's size limit, in bytes (a setting: applied at the next thumbnail
    /// written).
    pub fn set_cache_limit(&self, bytes: u64) {
        self.cache.set_limit(bytes);
    }

    /// Forgets everything about `path` (after it changed or moved).
    pub fn forget(&mut self, path: &Path) {
        self.textures.remove(path);
        self.failed.remove(path);
    }
}

impl Drop for Thumbnails {
    fn drop(&mut self) {
        {
            let (lock, ready) = &*self.shared;
            let mut wanted = lock.lock().unwrap_or_else(PoisonError::into_inner);
            wanted.shutdown = true;
            ready.notify_all();
        }
        // Unblock workers waiting to hand over a result.
        while self.results.try_recv().is_ok() {}
        for thread in self.threads.drain(..) {
            while !thread.is_finished() {
                while self.results.try_recv().is_ok() {}
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            let _ = thread.join();
        }
    }
}

fn work(
    shared: &Shared,
    results: &SyncSender<(PathBuf, Result<egui::ColorImage, String>)>,
    cache: &DiskCache,
    repaint: &egui::Context,
) {
    let (lock, ready) = &**shared;
    loop {
        let path = {
            let mut wanted = lock.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if wanted.shutdown {
                    return;
                }
                let next = wanted
                    .queue
                    .iter()
                    .position(|p| !wanted.in_flight.contains(p));
                if let Some(i) = next {
                    let path = wanted.queue.remove(i);
                    wanted.in_flight.insert(path.clone());
                    break path;
                }
                wanted = ready.wait(wanted).unwrap_or_else(PoisonError::into_inner);
            }
        };
        let result = thumbnail(&path, cache).map_err(|e| format!("{e:#}"));
        let sent = results.send((path.clone(), result));
        lock.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .in_flight
            .remove(&path);
        if sent.is_err() {
            return;
        }
        repaint.request_repaint();
    }
}

/// The thumbnail of `path`, from the disk cache when it is there and current.
pub fn thumbnail(path: &Path, cache: &DiskCache) -> anyhow::Result<egui::ColorImage> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("could not read {}", path.display()))?;
    let cached = cache.dir().join(cache_key(path, &meta));
    if let Some(thumb) = read_cached(&cached) {
        cache.used(&cached);
        return Ok(thumb);
    }
    let thumb = decode_for_display(path, THUMB_SIDE)?;
    // The cache is an optimisation: failing to write it is not the user's problem. When
    // it works, show what it holds, so a thumbnail looks the same the first time and
    // every time after.
    Ok(match store(&cached, &thumb) {
        Ok(len) => {
            cache.added(len);
            read_cached(&cached).unwrap_or(thumb)
        }
        Err(_) => thumb,
    })
}

fn read_cached(cached: &Path) -> Option<egui::ColorImage> {
    let rgb = image::open(cached).ok()?.to_rgb8();
    Some(egui::ColorImage::from_rgb(
        [rgb.width() as usize, rgb.height() as usize],
        rgb.as_raw(),
    ))
}

/// A file name that changes whenever the photo does (path, size, modification time).
fn cache_key(path: &Path, meta: &std::fs::Metadata) -> String {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let mut hasher = sha2::Sha256::new();
    hasher.update(path.to_string_lossy().as_bytes());
    hasher.update(meta.len().to_le_bytes());
    hasher.update(mtime.to_le_bytes());
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.jpg")
}

/// Writes `thumb` to the cache as `cached`; the bytes written.
fn store(cached: &Path, thumb: &egui::ColorImage) -> anyhow::Result<u64> {
    let [w, h] = thumb.size;
    let rgb: Vec<u8> = thumb
        .pixels
        .iter()
        .flat_map(|c| [c.r(), c.g(), c.b()])
        .collect();
    let image = image::RgbImage::from_raw(w as u32, h as u32, rgb).context("thumbnail size")?;
    let mut jpeg = Vec::new();
    image.write_to(
        &mut std::io::Cursor::new(&mut jpeg),
        image::ImageFormat::Jpeg,
    )?;
    lookalike_core::support::safefs::write_atomically(
        cached,
        &jpeg,
        lookalike_core::support::safefs::Replace::OwnCache,
    )?;
    Ok(jpeg.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_are_cached_and_follow_changes_to_the_photo() {
        let dir = tempfile::tempdir().expect("tempdir");
        let photo = dir.path().join("a.png");
        image::RgbImage::from_pixel(600, 300, image::Rgb([200, 10, 10]))
            .save(&photo)
            .expect("save");
        let cache = DiskCache::new(&dir.path().join("cache"), 1 << 30);
        let first = thumbnail(&photo, &cache).expect("thumbnail");
        assert_eq!(first.size, [256, 128]);
        assert_eq!(std::fs::read_dir(cache.dir()).expect("cache").count(), 1);
        let again = thumbnail(&photo, &cache).expect("cached thumbnail");
        assert_eq!(again.size, [256, 128]);
        // A changed photo gets a new cache entry, not the stale thumbnail.
        image::RgbImage::from_pixel(100, 400, image::Rgb([0, 0, 255]))
            .save(&photo)
            .expect("save");
        let changed = thumbnail(&photo, &cache).expect("thumbnail");
        assert_eq!(changed.size, [64, 256]);
    }

    #[test]
    fn a_corrupt_photo_gives_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let photo = dir.path().join("broken.jpg");
        std::fs::write(&photo, b"\xff\xd8\xff\xe0 not really a jpeg").expect("write");
        let error = thumbnail(&photo, &DiskCache::new(dir.path(), 1 << 30)).expect_err("must fail");
        assert!(format!("{error:#}").contains("broken.jpg"), "{error:#}");
    }
}
