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

/// Longer side of a thumbnail, in pixels.
pub const SIDE: u32 = 48;

/// The smallest part of one photo another may be a crop of (ratio of sides): 0.48, so
/// that a crop of a quarter of the area is found.
const SMALLEST_SCALE: f32 = 0.48;

/// Scales tried between the two thumbnails, 3% apart (a coarser step leaves half a
/// pixel of misalignment at the edges of a 48-pixel thumbnail, which the detail test
/// would then miss).
const SCALE_STEP: f32 = 0.97;

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

    fn plane(&self) -> Plane {
        Plane {
            width: usize::from(self.width),
            height: usize::from(self.height),
            data: self.pixels.iter().map(|&p| f32::from(p)).collect(),
        }
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

/// How well two thumbnails agree at their best alignment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PixelMatch {
    /// Normalised cross-correlation of the grey levels where they overlap best.
    pub alignment: f32,
    /// The same of their fine detail (each minus its 3 x 3 mean) there: about 1 for a
    /// copy, near 0 for two different pictures whose broad shapes happen to agree.
    pub detail: f32,
    /// The detail's correlation in each of 3 x 3 cells of the overlap, the third lowest:
    /// the detail must agree across the overlap, not in one strong line.
    pub cells: f32,
    /// Side of the smaller part over the larger (1: the whole of both; 0.5: one is a
    /// crop of a quarter of the other).
    pub scale: f32,
}

/// A grey image as floats, row-major.
#[derive(Clone)]
struct Plane {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Plane {
    fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    /// Turned a quarter turn clockwise.
    fn quarter_turn(&self) -> Self {
        let (w, h) = (self.height, self.width);
        let mut data = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                data.push(self.at(y, self.height - 1 - x));
            }
        }
        Self {
            width: w,
            height: h,
            data,
        }
    }

    /// Mirrored left to right.
    fn flipped(&self) -> Self {
        let mut data = Vec::with_capacity(self.data.len());
        for row in self.data.chunks(self.width) {
            data.extend(row.iter().rev());
        }
        Self {
            data,
            ..self.clone()
        }
    }

    /// Area-averaged to `width` x `height` (not larger than it is).
    fn resampled(&self, width: usize, height: usize) -> Self {
        if (width, height) == (self.width, self.height) {
            return self.clone();
        }
        let mut columns = Vec::with_capacity(2 * self.width + width);
        for_area(self.width, width, |o, i, w| columns.push((o, i, w)));
        let mut across = vec![0.0; width * self.height];
        for y in 0..self.height {
            let row = &self.data[y * self.width..(y + 1) * self.width];
            let out = &mut across[y * width..(y + 1) * width];
            for &(o, i, w) in &columns {
                out[o] += row[i] * w;
            }
        }
        let mut data = vec![0.0; width * height];
        for_area(self.height, height, |o, i, w| {
            let (out, row) = (&mut data[o * width..(o + 1) * width], &across[i * width..]);
            for (d, s) in out.iter_mut().zip(row) {
                *d += s * w;
            }
        });
        Self {
            width,
            height,
            data,
        }
    }

    fn window(&self, x0: usize, y0: usize, width: usize, height: usize) -> Self {
        let mut data = Vec::with_capacity(width * height);
        for y in y0..y0 + height {
            data.extend_from_slice(&self.data[y * self.width + x0..y * self.width + x0 + width]);
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// Its fine detail: each pixel minus the mean of its 3 x 3 neighbourhood (edges
    /// repeated).
    fn detail(&self) -> Self {
        let (w, h) = (self.width as isize, self.height as isize);
        let clamp = |v: isize, n: isize| v.clamp(0, n - 1) as usize;
        let mut data = Vec::with_capacity(self.data.len());
        for y in 0..h {
            for x in 0..w {
                let mut sum = 0.0;
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        sum += self.at(clamp(x + dx, w), clamp(y + dy, h));
                    }
                }
                data.push(self.at(x as usize, y as usize) - sum / 9.0);
            }
        }
        Self { data, ..*self }
    }
}

/// Calls `add(output, input, weight)` for each of `to` output cells and each of the
/// `from` input cells it covers, weighted by the share of the cell covered (an average
/// over the covered span: the weights of one output add up to 1).
fn for_area(from: usize, to: usize, mut add: impl FnMut(usize, usize, f32)) {
    let ratio = from as f32 / to as f32;
    for o in 0..to {
        let (start, end) = (o as f32 * ratio, (o + 1) as f32 * ratio);
        let mut i = start.floor() as usize;
        while (i as f32) < end && i < from {
            let covered = end.min(i as f32 + 1.0) - start.max(i as f32);
            if covered > 0.0 {
                add(o, i, covered / ratio);
            }
            i += 1;
        }
    }
}

/// Normalised cross-correlation of two equally sized images (0 when one is flat).
fn ncc(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len() as f32;
    let (ma, mb) = (a.iter().sum::<f32>() / n, b.iter().sum::<f32>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x - ma, y - mb);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    let norm = (aa * bb).sqrt();
    if norm > 1e-6 { ab / norm } else { 0.0 }
}

/// The third lowest detail correlation of the 3 x 3 cells of two aligned images.
fn cells(a: &Plane, b: &Plane) -> f32 {
    let (w, h) = (a.width, a.height);
    let mut values = Vec::with_capacity(9);
    for i in 0..3 {
        for j in 0..3 {
            let (y0, y1, x0, x1) = (i * h / 3, (i + 1) * h / 3, j * w / 3, (j + 1) * w / 3);
            let part = |p: &Plane| p.window(x0, y0, x1 - x0, y1 - y0).data;
            values.push(ncc(&part(a), &part(b)));
        }
    }
    values.sort_by(f32::total_cmp);
    values[2]
}

/// The best place of `template` inside `image` by normalised cross-correlation, its
/// top-left corner within `around` pixels of `near` (anywhere with `None`): the
/// correlation and the corner.
fn best_place(
    image: &Plane,
    sums: &Integral,
    template: &Plane,
    near: Option<(usize, usize, usize)>,
) -> Option<(f32, usize, usize)> {
    let (tw, th) = (template.width, template.height);
    if tw > image.width || th > image.height {
        return None;
    }
    let n = (tw * th) as f32;
    let mean = template.data.iter().sum::<f32>() / n;
    let centred: Vec<f32> = template.data.iter().map(|v| v - mean).collect();
    let norm = centred.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm < 1e-3 {
        return None;
    }
    let (xs, ys) = match near {
        None => (0..=image.width - tw, 0..=image.height - th),
        Some((x, y, around)) => (
            x.saturating_sub(around)..=(x + around).min(image.width - tw),
            y.saturating_sub(around)..=(y + around).min(image.height - th),
        ),
    };
    let mut best: Option<(f32, usize, usize)> = None;
    for y in ys {
        for x in xs.clone() {
            let (sum, squares) = sums.window(x, y, tw, th);
            let variance = (squares - sum * sum / n).max(0.0);
            if variance < 1e-3 {
                continue;
            }
            let mut dot = 0.0;
            for ty in 0..th {
                let row = &image.data[(y + ty) * image.width + x..][..tw];
                dot += crate::describe::vectors::dot(row, &centred[ty * tw..(ty + 1) * tw]);
            }
            let score = dot / (variance.sqrt() * norm);
            if best.is_none_or(|(s, _, _)| score > s) {
                best = Some((score, x, y));
            }
        }
    }
    best
}

/// Sums and sums of squares of an image over any window, in constant time.
struct Integral {
    width: usize,
    sum: Vec<f64>,
    squares: Vec<f64>,
}

impl Integral {
    fn of(p: &Plane) -> Self {
        let width = p.width + 1;
        let mut sum = vec![0.0; width * (p.height + 1)];
        let mut squares = sum.clone();
        for y in 0..p.height {
            for x in 0..p.width {
                let v = f64::from(p.at(x, y));
                let (i, up, left, diag) = (
                    (y + 1) * width + x + 1,
                    y * width + x + 1,
                    (y + 1) * width + x,
                    y * width + x,
                );
                sum[i] = v + sum[up] + sum[left] - sum[diag];
                squares[i] = v * v + squares[up] + squares[left] - squares[diag];
            }
        }
        Self {
            width,
            sum,
            squares,
        }
    }

    fn window(&self, x: usize, y: usize, w: usize, h: usize) -> (f32, f32) {
        let at = |t: &[f64]| {
            t[(y + h) * self.width + x + w]
                - t[y * self.width + x + w]
                - t[(y + h) * self.width + x]
                + t[y * self.width + x]
        };
        (at(&self.sum) as f32, at(&self.squares) as f32)
    }
}

/// How the two photos may be turned against each other: as they are (or mirrored), or a
/// quarter turn apart (either way, or mirrored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Turn {
    None,
    Quarter,
}

/// How `a` and `b` agree at an alignment `accept`s (either may be a crop of the other,
/// down to [`SMALLEST_SCALE`] of its side, mirrored, or turned when `turn` says so), the
/// likeliest tried first; when none is accepted, at their best alignment.
///
/// First the whole of both, as they are (most copies: re-saved, resized, recoloured);
/// then every scale and pose at half size, and the few best of those again at full
/// size around where they were found (a sixteenth of the work of a full search).
pub fn compare(
    a: &Thumbnail,
    b: &Thumbnail,
    turn: Turn,
    accept: &dyn Fn(&PixelMatch) -> bool,
) -> PixelMatch {
    let (a, b) = (a.plane(), b.plane());
    let posed = |other: &Plane| {
        let upright = match turn {
            Turn::None => other.clone(),
            Turn::Quarter => other.quarter_turn(),
        };
        let flipped = upright.flipped();
        let mut poses = vec![upright, flipped];
        if turn == Turn::Quarter {
            let back = poses[0].quarter_turn().quarter_turn();
            poses.extend([back.flipped(), back]);
        }
        poses
    };
    let sides: Vec<Side> = [(&a, &b), (&b, &a)]
        .into_iter()
        .map(|(image, other)| Side::new(image, posed(other)))
        .collect();
    let scales: Vec<f32> = std::iter::successors(Some(1.0f32), |s| Some(s * SCALE_STEP))
        .take_while(|&s| s >= SMALLEST_SCALE)
        .collect();
    let mut best = PixelMatch {
        alignment: f32::NEG_INFINITY,
        detail: 0.0,
        cells: 0.0,
        scale: 0.0,
    };
    let mut consider = |found: PixelMatch| {
        if found.alignment > best.alignment {
            best = found;
        }
        accept(&found)
    };
    // The whole of both.
    for side in &sides {
        for pose in &side.poses {
            if let Some(found) = side.evaluate(pose, 1.0, None)
                && consider(found)
            {
                return found;
            }
        }
    }
    // Every scale and pose at half size; the best again at full size.
    let mut coarse = Vec::new();
    for (s, side) in sides.iter().enumerate() {
        for (p, pose) in side.poses.iter().enumerate() {
            for (k, &scale) in scales.iter().enumerate().skip(1) {
                let (w, h) = side.fitted(pose, scale);
                let template = pose.resampled((w / 2).max(2), (h / 2).max(2));
                if let Some((score, x, y)) =
                    best_place(&side.half, &side.half_sums, &template, None)
                {
                    coarse.push((score, s, p, k, x * 2, y * 2));
                }
            }
        }
    }
    coarse.sort_by(|x, y| y.0.total_cmp(&x.0));
    for &(_, s, p, k, x, y) in coarse.iter().take(REFINED) {
        let (side, pose) = (&sides[s], &sides[s].poses[p]);
        for &scale in &scales[k.saturating_sub(1)..(k + 2).min(scales.len())] {
            if let Some(found) = side.evaluate(pose, scale, Some((x, y, 2)))
                && consider(found)
            {
                return found;
            }
        }
    }
    PixelMatch {
        alignment: best.alignment.max(0.0),
        ..best
    }
}

/// How many of the best alignments found at half size are looked at again at full size.
const REFINED: usize = 4;

/// One thumbnail as the place to look in, at full and half size, and the other's poses.
struct Side {
    image: Plane,
    sums: Integral,
    half: Plane,
    half_sums: Integral,
    poses: Vec<Plane>,
}

impl Side {
    fn new(image: &Plane, poses: Vec<Plane>) -> Self {
        let half = image.resampled(image.width.div_ceil(2), image.height.div_ceil(2));
        Self {
            sums: Integral::of(image),
            image: image.clone(),
            half_sums: Integral::of(&half),
            half,
            poses,
        }
    }

    /// The size of `pose` fitted inside the image at `scale` (never enlarged: a pose
    /// smaller than its place is compared at its own size).
    fn fitted(&self, pose: &Plane, scale: f32) -> (usize, usize) {
        let fit = (self.image.width as f32 / pose.width as f32)
            .min(self.image.height as f32 / pose.height as f32);
        let side = |n: usize| (((n as f32 * fit * scale).round() as usize).max(2)).min(n);
        (side(pose.width), side(pose.height))
    }

    /// `pose` at `scale`, at its best place (near a corner, when given), and how the
    /// two agree there.
    fn evaluate(
        &self,
        pose: &Plane,
        scale: f32,
        near: Option<(usize, usize, usize)>,
    ) -> Option<PixelMatch> {
        let (w, h) = self.fitted(pose, scale);
        let template = pose.resampled(w, h);
        let (alignment, x, y) = best_place(&self.image, &self.sums, &template, near)?;
        let part = self.image.window(x, y, w, h);
        let (p, t) = (part.detail(), template.detail());
        Some(PixelMatch {
            alignment,
            detail: ncc(&p.data, &t.data),
            cells: cells(&p, &t),
            scale: (w as f32 / self.image.width as f32).max(h as f32 / self.image.height as f32),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Smooth random shapes: noise (splitmix64) at a tenth of the size, enlarged.
    fn textured(w: u32, h: u32, seed: u64) -> image::RgbImage {
        let noise = image::RgbImage::from_fn(w / 10, h / 10, |x, y| {
            let mut z = seed ^ (u64::from(y) << 32 | u64::from(x));
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
            let v = ((z ^ (z >> 31)) >> 56) as u8;
            image::Rgb([v, v / 2, 255 - v])
        });
        image::imageops::resize(&noise, w, h, image::imageops::FilterType::CatmullRom)
    }

    #[test]
    fn a_crop_a_mirror_and_a_turn_agree_in_detail_another_picture_does_not() {
        let photo = textured(480, 320, 1);
        let original = Thumbnail::of(&photo);
        assert_eq!((original.width, original.height), (48, 32));
        let crop = image::imageops::crop_imm(&photo, 100, 60, 300, 200).to_image();
        let m = compare(&original, &Thumbnail::of(&crop), Turn::None, &|_| false);
        assert!(m.detail > 0.8 && (0.55..0.7).contains(&m.scale), "{m:?}");
        let mirrored = image::imageops::flip_horizontal(&photo);
        let m = compare(&original, &Thumbnail::of(&mirrored), Turn::None, &|_| false);
        assert!(m.detail > 0.95 && m.scale > 0.99, "{m:?}");
        let turned = image::imageops::rotate90(&photo);
        let m = compare(&original, &Thumbnail::of(&turned), Turn::Quarter, &|_| {
            false
        });
        assert!(m.detail > 0.95, "{m:?}");
        let other = textured(480, 320, 7);
        let m = compare(&original, &Thumbnail::of(&other), Turn::None, &|_| false);
        assert!(m.detail < 0.5, "{m:?}");
    }

    #[test]
    fn area_weights_cover_each_output_once() {
        for (from, to) in [(48, 23), (10, 10), (7, 3)] {
            let mut totals = vec![0.0f32; to];
            for_area(from, to, |o, _, w| totals[o] += w);
            for total in totals {
                assert!((total - 1.0).abs() < 1e-4, "{from}->{to}: {total}");
            }
        }
    }
}
