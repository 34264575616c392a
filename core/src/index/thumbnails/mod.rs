//! Pixel evidence for a pair of photos: each photo's tiny grey thumbnail (48 pixels on
//! its longer side, about 1.5 KB), kept beside the index, and the best alignment of two
//! thumbnails under a flip or quarter turn, a scale (a crop down to half the side) and a
//! shift. A copy agrees with its original in the fine detail of the part they share; two
//! pictures of one kind (two papers, two skies, two low-poly wallpapers) may share their
//! broad shapes, not their detail.
//!
//! The evidence reads only what indexing stored (no photo is decoded per pair), so it
//! scales with the candidate pairs, not with the photos.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::index::{Control, Entry, Failure, Index, Progress};
use crate::support::error::Result;
use crate::support::isolate::{Lookahead, Pending};

mod compare;

pub use compare::{PixelMatch, Turn, compare};

/// Longer side of a thumbnail, in pixels.
pub const SIDE: u32 = 48;

/// A photo as a tiny grey image: luma, area-averaged, longer side [`SIDE`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thumbnail {
    width: u16,
    height: u16,
    pixels: Vec<u8>,
}

impl Thumbnail {
    /// The thumbnail of a decoded photo (any size, EXIF-oriented).
    pub fn of(rgb: &image::RgbImage) -> Self {
        let grey = image::DynamicImage::ImageRgb8(rgb.clone()).into_luma8();
        let (w, h) = grey.dimensions();
        let scale = (SIDE as f32 / w.max(h).max(1) as f32).min(1.0);
        let (tw, th) = (
            ((w as f32 * scale).round() as u32).max(1),
            ((h as f32 * scale).round() as u32).max(1),
        );
        let small = image::imageops::thumbnail(&grey, tw, th);
        Self {
            width: tw as u16,
            height: th as u16,
            pixels: small.into_raw(),
        }
    }

    /// Decodes the photo at `path` just large enough (a JPEG at a reduced DCT scale).
    pub fn load(path: &Path, max_pixels: u64) -> Result<Self> {
        let (_, _, rgb) = crate::read::imaging::decode_for_side(path, max_pixels, SIDE * 4)?;
        Ok(Self::of(&rgb))
    }

    /// Whether its size and pixels agree, as [`Thumbnail::of`] makes them: a cache file
    /// (damaged, or crafted) is never trusted for the sizes the comparison indexes by.
    fn is_sound(&self) -> bool {
        let (w, h) = (usize::from(self.width), usize::from(self.height));
        (1..=SIDE as usize).contains(&w)
            && (1..=SIDE as usize).contains(&h)
            && w * h == self.pixels.len()
    }

    /// Bytes it takes in memory and, about, on disk.
    pub fn bytes(&self) -> usize {
        self.pixels.len() + 4
    }
}

/// The thumbnails cache beside an index: magic, version, then the entries (postcard).
const MAGIC: &[u8] = b"LKPX";
const VERSION: u32 = 1;

/// Extension of the thumbnails' cache beside the index.
pub const CACHE_EXTENSION: &str = "px";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    path: String,
    size: u64,
    mtime_ns: i128,
    thumbnail: Thumbnail,
}

/// Where the thumbnails of the index at `index_path` are kept: beside it.
pub fn cache_path(index_path: &Path) -> PathBuf {
    index_path.with_extension(CACHE_EXTENSION)
}

fn read_cache(path: &Path) -> Vec<Stored> {
    std::fs::read(path)
        .map(|bytes| parse_cache(&bytes))
        .unwrap_or_default()
}

/// The thumbnails stored in a cache file's bytes; none when they are not a cache of
/// this version.
fn parse_cache(bytes: &[u8]) -> Vec<Stored> {
    let Some(body) = bytes
        .strip_prefix(MAGIC)
        .and_then(|rest| rest.split_first_chunk::<4>())
        .filter(|(version, _)| u32::from_le_bytes(**version) == VERSION)
        .map(|(_, body)| body)
    else {
        // Another version or not ours: a cache, made again from the photos.
        return Vec::new();
    };
    let stored: Vec<Stored> = postcard::from_bytes(body).unwrap_or_default();
    // One that is not sound is not cached: it is made again from its photo.
    stored
        .into_iter()
        .filter(|s| s.thumbnail.is_sound())
        .collect()
}

/// What the thumbnail cache's fuzz target runs on any bytes (see [`crate::fuzz`]): the
/// cache read, and its first thumbnails compared as the verification would.
pub(crate) fn fuzz_cache(bytes: &[u8]) {
    let stored = parse_cache(bytes);
    if let [a, b, ..] = &stored[..] {
        for turn in [Turn::None, Turn::Quarter] {
            let _ = compare(&a.thumbnail, &b.thumbnail, turn, &|_| true);
        }
    }
}

fn write_cache(path: &Path, stored: &[Stored]) -> Result<()> {
    crate::index::save_framed(path, MAGIC, VERSION, stored)
}

/// Every photo's thumbnail, lined up with the index's entries (`None`: not made yet).
#[derive(Debug, Default)]
pub struct Thumbnails {
    pub aligned: Vec<Option<Thumbnail>>,
    pub failures: Vec<Failure>,
}

/// The thumbnails of the index at `index_path`: those cached beside it reused (same
/// path, size and modification time), the others made from the photos when `make` (the
/// cache then saved), else left out. A stop request ends early.
pub fn update_thumbnails(
    index: &Index,
    index_path: &Path,
    make: Option<u64>,
    control: Control<'_>,
) -> Result<Thumbnails> {
    let cache = cache_path(index_path);
    let stored = read_cache(&cache);
    let known: HashMap<(&str, u64, i128), &Thumbnail> = stored
        .iter()
        .map(|s| ((s.path.as_str(), s.size, s.mtime_ns), &s.thumbnail))
        .collect();
    let earlier = |e: &Entry| known.get(&(e.path.as_str(), e.size, e.mtime_ns)).copied();
    // The photos to read, in order: two decode at once.
    let order = match make {
        Some(_) => (0..index.entries.len())
            .filter(|&i| earlier(&index.entries[i]).is_none())
            .collect(),
        None => Vec::new(),
    };
    let max_pixels = make.unwrap_or_default();
    let mut ahead = Lookahead::new(order, |i| {
        Pending::start(index.absolute(&index.entries[i]), move |path| {
            Thumbnail::load(path, max_pixels)
        })
    });
    let to_make = ahead.len();
    if to_make > 0 {
        control.report(Progress::Planned {
            to_describe: to_make,
            unchanged: index.entries.len() - to_make,
            removed: 0,
        });
    }
    let mut result = Thumbnails::default();
    let mut done = 0;
    for (i, entry) in index.entries.iter().enumerate() {
        let mut thumbnail = earlier(entry).cloned();
        if thumbnail.is_none()
            && !control.stopped()
            && let Some(reading) = ahead.take(i)
        {
            let file = index.absolute(entry);
            // A stop request does not wait for a long decode to end.
            match reading.wait(control.stop_flag()) {
                Some(Ok(made)) => thumbnail = Some(made),
                Some(Err(error)) => result.failures.push(Failure::of_photo(&file, error)),
                None => {}
            }
            done += 1;
            control.report(Progress::Step {
                done,
                total: to_make,
                path: file,
            });
        }
        result.aligned.push(thumbnail);
    }
    if to_make > 0 {
        let stored: Vec<Stored> = index
            .entries
            .iter()
            .zip(&result.aligned)
            .filter_map(|(e, t)| {
                Some(Stored {
                    path: e.path.clone(),
                    size: e.size,
                    mtime_ns: e.mtime_ns,
                    thumbnail: t.clone()?,
                })
            })
            .collect();
        write_cache(&cache, &stored)?;
    }
    Ok(result)
}
