//! Reading photos: decode (format sniffed from the content), refuse decompression bombs
//! before decoding, apply the EXIF orientation, convert any colour type to RGB8, crop
//! to a query box, and shrink so the longer side fits `max_side`.

use std::fmt;
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::str::FromStr;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage, imageops::FilterType};

use crate::read::limits::check_pixels;
pub use crate::read::limits::{DEFAULT_MAX_PIXELS, MAX_PHOTO_BYTES, MIN_SIDE};
use crate::read::{Damage, jpeg_damage};
use crate::support::error::{Error, Result};

/// Default bound on the longer side before the network runs (see README, "max side").
pub const DEFAULT_MAX_SIDE: u32 = 1024;

/// A query box in pixel corners of the EXIF-oriented original: `(x1, y1)` is the
/// top-left corner, `(x2, y2)` the bottom-right one (exclusive), as in the Oxford
/// buildings ground truth (fractional values allowed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropBox {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}

impl CropBox {
    pub fn new(x1: f64, y1: f64, x2: f64, y2: f64) -> Result<Self> {
        let b = Self { x1, y1, x2, y2 };
        let finite = [x1, y1, x2, y2].iter().all(|v| v.is_finite());
        if !finite || x1 >= x2 || y1 >= y2 {
            return Err(Error::CropBoxSyntax(b.to_string()));
        }
        Ok(b)
    }

    /// Whole pixels covered by the box, clamped to a `width` x `height` image:
    /// `(left, top, crop_width, crop_height)`, or `None` if nothing is left.
    pub fn pixels(&self, width: u32, height: u32) -> Option<(u32, u32, u32, u32)> {
        let clamp = |v: f64, max: u32| v.clamp(0.0, f64::from(max)) as u32;
        let left = clamp(self.x1.floor(), width);
        let top = clamp(self.y1.floor(), height);
        let right = clamp(self.x2.ceil(), width);
        let bottom = clamp(self.y2.ceil(), height);
        (right > left && bottom > top).then(|| (left, top, right - left, bottom - top))
    }
}

impl fmt::Display for CropBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{},{},{}", self.x1, self.y1, self.x2, self.y2)
    }
}

impl FromStr for CropBox {
    type Err = Error;

    /// Parses `x1,y1,x2,y2` (commas and/or spaces).
    fn from_str(s: &str) -> Result<Self> {
        let values: Vec<f64> = s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(str::parse)
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| Error::CropBoxSyntax(s.to_string()))?;
        match values[..] {
            [x1, y1, x2, y2] => Self::new(x1, y1, x2, y2),
            _ => Err(Error::CropBoxSyntax(s.to_string())),
        }
    }
}

/// How a photo becomes the network's input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadOptions {
    pub max_pixels: u64,
    /// Shrink (never enlarge) so the longer side is at most this; `None` keeps the size.
    pub max_side: Option<u32>,
    pub crop: Option<CropBox>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            max_pixels: DEFAULT_MAX_PIXELS,
            max_side: Some(DEFAULT_MAX_SIDE),
            crop: None,
        }
    }
}

/// A photo ready for the network.
#[derive(Debug, Clone)]
pub struct LoadedImage {
    /// Size of the EXIF-oriented original, before crop and resize.
    pub width: u32,
    pub height: u32,
    /// The pixels the network sees (cropped, resized).
    pub rgb: RgbImage,
    /// What is wrong with a JPEG (or a RAW's JPEG preview) that decoded all the same:
    /// cut short or broken inside (see [`crate::read::damage`]).
    pub damage: Option<Damage>,
}

/// Reads, decodes, orients, crops and resizes `path`, and checks that a JPEG is whole.
/// Without a crop box, a large JPEG (a camera's, or a RAW's preview) is decoded
/// straight at the size needed (see [`decode_for_side`]).
pub fn load(path: &Path, options: &LoadOptions) -> Result<LoadedImage> {
    if options.crop.is_none()
        && let Some(side) = options.max_side.filter(|&side| side > 0)
    {
        let decoded = decode_checked(path, options.max_pixels, side)?;
        let (width, height) = (decoded.width, decoded.height);
        let rgb = match fitted_size(width, height, side) {
            Some((w, h)) if (w, h) != decoded.rgb.dimensions() => resize_rgb(&decoded.rgb, w, h),
            _ => decoded.rgb,
        };
        let damage = decoded.damage;
        return check_size(
            path,
            LoadedImage {
                width,
                height,
                rgb,
                damage,
            },
        );
    }
    crate::support::isolate::injected_fault(path);
    let bytes = read_photo(path)?;
    let original = decode_bytes(path, &bytes, options.max_pixels)?;
    let damage = if crate::read::raw::is_raw(path) {
        crate::read::raw::largest_preview(&bytes)
            .ok()
            .and_then(|p| bytes.get(p.range).and_then(jpeg_damage))
    } else {
        jpeg_damage(&bytes)
    };
    let loaded = prepare(path, &original, options.crop, options.max_side)?;
    Ok(LoadedImage { damage, ..loaded })
}

/// Reads `path` EXIF-oriented, with a longer side of at least `side` pixels where the
/// photo has them: a JPEG (or a RAW's JPEG preview) at least twice as large is decoded
/// straight at 1/2, 1/4 or 1/8 of its size by scaling its DCT, the rest at full size.
/// Returns the size of the oriented original and the image.
pub fn decode_for_side(path: &Path, max_pixels: u64, side: u32) -> Result<(u32, u32, RgbImage)> {
    decode_checked(path, max_pixels, side).map(|d| (d.width, d.height, d.rgb))
}

/// [`decode_for_side`], with the JPEG's damage (see [`LoadedImage::damage`]).
fn decode_checked(path: &Path, max_pixels: u64, side: u32) -> Result<LoadedImage> {
    crate::support::isolate::injected_fault(path);
    let bytes = read_photo(path)?;
    let (jpeg, orientation) = if crate::read::raw::is_raw(path) {
        match raw_source(path, &bytes, max_pixels)? {
            RawSource::Preview(preview) => (&bytes[preview.range.clone()], preview.orientation),
            RawSource::Developed(rgb) => {
                return Ok(LoadedImage {
                    width: rgb.width(),
                    height: rgb.height(),
                    rgb,
                    damage: None,
                });
            }
        }
    } else {
        (&bytes[..], None)
    };
    let damage = jpeg_damage(jpeg);
    let (width, height, rgb) = match jpeg.starts_with(&[0xFF, 0xD8]) {
        true => scaled_jpeg(path, jpeg, max_pixels, side, orientation),
        false => None,
    }
    .unwrap_or_else(|| {
        let full = decode_bytes(path, &bytes, max_pixels)?;
        Ok((full.width(), full.height(), full))
    })?;
    Ok(LoadedImage {
        width,
        height,
        rgb,
        damage,
    })
}

/// `jpeg` decoded at the smallest DCT scale that keeps its longer side at least `side`,
/// oriented (by `orientation`, else its EXIF); `None` when scaling would not help or
/// this decoder cannot (CMYK, 16-bit, a broken file: the full decoder then reports it).
fn scaled_jpeg(
    path: &Path,
    jpeg: &[u8],
    max_pixels: u64,
    side: u32,
    orientation: Option<u16>,
) -> Option<Result<(u32, u32, RgbImage)>> {
    use jpeg_decoder::PixelFormat;
    crate::support::guard::note_heavy_work("decoding an image");
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    decoder.read_info().ok()?;
    let info = decoder.info()?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    if !matches!(info.pixel_format, PixelFormat::RGB24 | PixelFormat::L8) {
        return None;
    }
    if let Err(error) = check_pixels(path, w, h, max_pixels) {
        return Some(Err(error));
    }
    let longer = w.max(h);
    if longer < 2 * side {
        return None;
    }
    let wanted = |n: u32| (u64::from(n) * u64::from(side)).div_ceil(u64::from(longer)) as u16;
    let eighth = |n: u32| u32::from(wanted(n)) <= n.div_ceil(8);
    // At 1/8 the DC coefficients are the image: read them alone when the file allows.
    let dc_only = (eighth(w) && eighth(h))
        .then(|| crate::read::jpeg_dc::decode_eighth(jpeg))
        .flatten()
        .and_then(|dc| RgbImage::from_raw(dc.width, dc.height, dc.rgb));
    let rgb = match dc_only {
        Some(rgb) => rgb,
        None => {
            decoder.scale(wanted(w), wanted(h)).ok()?;
            let pixels = decoder.decode().ok()?;
            let scaled = decoder.info()?;
            let (sw, sh) = (u32::from(scaled.width), u32::from(scaled.height));
            match scaled.pixel_format {
                PixelFormat::RGB24 => RgbImage::from_raw(sw, sh, pixels)?,
                PixelFormat::L8 => {
                    RgbImage::from_raw(sw, sh, pixels.iter().flat_map(|&v| [v; 3]).collect())?
                }
                _ => return None,
            }
        }
    };
    let sw = rgb.width();
    let orientation = orientation
        .or_else(|| {
            decoder
                .exif_data()
                .and_then(crate::read::raw::exif_orientation)
        })
        .and_then(|o| Orientation::from_exif(o as u8))
        .unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::ImageRgb8(rgb);
    image.apply_orientation(orientation);
    let turned = image.width() != sw;
    let (width, height) = if turned { (h, w) } else { (w, h) };
    Some(Ok((width, height, image.into_rgb8())))
}

/// Resizes with `fast_image_resize` (SIMD convolution; its bilinear filter is the tent
/// filter `image` calls Triangle, widened when shrinking, so every source pixel counts).
pub fn resize_rgb(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    use fast_image_resize::{FilterType as Filter, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let resized = || -> Option<RgbImage> {
        let src = fast_image_resize::images::ImageRef::new(
            image.width(),
            image.height(),
            image.as_raw(),
            PixelType::U8x3,
        )
        .ok()?;
        let mut dst = fast_image_resize::images::Image::new(width, height, PixelType::U8x3);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(Filter::Bilinear));
        Resizer::new().resize(&src, &mut dst, &options).ok()?;
        RgbImage::from_raw(width, height, dst.into_vec())
    };
    resized().unwrap_or_else(|| image::imageops::resize(image, width, height, FilterType::Triangle))
}

/// Reads and decodes `path` to RGB8 with the EXIF orientation applied, at full size.
/// A camera RAW file is read from its largest embedded JPEG preview, turned by the
/// RAW's own orientation (see [`crate::read::raw`]).
pub fn decode_file(path: &Path, max_pixels: u64) -> Result<RgbImage> {
    crate::support::isolate::injected_fault(path);
    let bytes = read_photo(path)?;
    decode_bytes(path, &bytes, max_pixels)
}

/// The bytes of the photo at `path`, at most [`MAX_PHOTO_BYTES`] (checked before
/// reading, and while reading, for a file that grows meanwhile).
pub fn read_photo(path: &Path) -> Result<Vec<u8>> {
    read_capped(path, MAX_PHOTO_BYTES)
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let too_large = |size: u64| Error::Decode {
        path: path.to_path_buf(),
        reason: format!(
            "{} MB, over the {} MB lookalike reads of one photo",
            size >> 20,
            cap >> 20
        ),
    };
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if size > cap {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > cap {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// As [`decode_file`], for the file's bytes already read.
fn decode_bytes(path: &Path, bytes: &[u8], max_pixels: u64) -> Result<RgbImage> {
    if crate::read::raw::is_raw(path) {
        return decode_raw(path, bytes, max_pixels);
    }
    match heif_or_unreadable(path) {
        Some(format @ ("HEIC" | "AVIF")) => {
            crate::read::heif::decode(path, bytes, max_pixels, format)
        }
        Some(format) => Err(Error::NotBuiltIn {
            path: path.to_path_buf(),
            format,
            why: "lookalike has no reader for it",
        }),
        None => decode_rgb(path, bytes, max_pixels),
    }
}

/// What a RAW file is read from: its largest embedded preview, or, with none usable,
/// its sensor data developed.
enum RawSource {
    Preview(crate::read::raw::Preview),
    Developed(RgbImage),
}

fn raw_source(path: &Path, bytes: &[u8], max_pixels: u64) -> Result<RawSource> {
    match crate::read::raw::largest_preview(bytes) {
        Ok(preview) => Ok(RawSource::Preview(preview)),
        Err(why) => {
            crate::read::sensor::develop(path, bytes, max_pixels, &why).map(RawSource::Developed)
        }
    }
}

/// A RAW file's largest embedded preview, decoded and oriented as the RAW says (or its
/// sensor data developed, without one).
fn decode_raw(path: &Path, bytes: &[u8], max_pixels: u64) -> Result<RgbImage> {
    let preview = match raw_source(path, bytes, max_pixels)? {
        RawSource::Preview(preview) => preview,
        RawSource::Developed(rgb) => return Ok(rgb),
    };
    let jpeg = &bytes[preview.range.clone()];
    let orientation = preview
        .orientation
        .map(|o| Orientation::from_exif(o as u8).unwrap_or(Orientation::NoTransforms));
    decode_oriented(path, jpeg, max_pixels, orientation)
}

/// Photo formats read by libheif ("HEIC", "AVIF"), or recognised by extension but not
/// read at all.
fn heif_or_unreadable(path: &Path) -> Option<&'static str> {
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    match extension.as_str() {
        "heic" | "heif" => Some("HEIC"),
        "avif" => Some("AVIF"),
        "x3f" => Some("Sigma X3F RAW"),
        _ => None,
    }
}

/// As [`load`], for bytes already in memory (`path` names them in messages).
pub fn load_from_bytes(path: &Path, bytes: &[u8], options: &LoadOptions) -> Result<LoadedImage> {
    let original = decode_rgb(path, bytes, options.max_pixels)?;
    prepare(path, &original, options.crop, options.max_side)
}

/// Crops and resizes an image that is already decoded and oriented (`path` names it in
/// messages): the second half of [`load`], for callers that keep the original in memory.
pub fn prepare(
    path: &Path,
    original: &RgbImage,
    crop: Option<CropBox>,
    max_side: Option<u32>,
) -> Result<LoadedImage> {
    let (width, height) = original.dimensions();
    let (left, top, w, h) = match crop {
        None => (0, 0, width, height),
        Some(crop) => crop
            .pixels(width, height)
            .ok_or_else(|| Error::BadCropBox {
                path: path.to_path_buf(),
                crop: crop.to_string(),
                width,
                height,
            })?,
    };
    let view = image::imageops::crop_imm(original, left, top, w, h);
    let rgb = match max_side.and_then(|max_side| fitted_size(w, h, max_side)) {
        Some((nw, nh)) if (left, top, w, h) == (0, 0, width, height) => {
            resize_rgb(original, nw, nh)
        }
        Some((nw, nh)) => resize_rgb(&view.to_image(), nw, nh),
        None => view.to_image(),
    };
    let damage = None;
    check_size(
        path,
        LoadedImage {
            width,
            height,
            rgb,
            damage,
        },
    )
}

/// Refuses an image too small for the network.
fn check_size(path: &Path, image: LoadedImage) -> Result<LoadedImage> {
    let (w, h) = image.rgb.dimensions();
    if w < MIN_SIDE || h < MIN_SIDE {
        return Err(Error::TooSmall {
            path: path.to_path_buf(),
            width: w,
            height: h,
        });
    }
    Ok(image)
}

/// Decodes any supported format to RGB8 with the EXIF orientation applied. The pixel
/// limit is checked from the header, before any pixel is decoded.
pub fn decode_rgb(path: &Path, bytes: &[u8], max_pixels: u64) -> Result<RgbImage> {
    decode_oriented(path, bytes, max_pixels, None)
}

/// As [`decode_rgb`], turned by `orientation` instead of the file's own EXIF when given.
fn decode_oriented(
    path: &Path,
    bytes: &[u8],
    max_pixels: u64,
    orientation: Option<Orientation>,
) -> Result<RgbImage> {
    crate::support::guard::note_heavy_work("decoding an image");
    if bytes.is_empty() {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let decode_error = |e: image::ImageError| match e {
        image::ImageError::Unsupported(_) => Error::UnsupportedFormat {
            path: path.to_path_buf(),
        },
        image::ImageError::Limits(_) => Error::Decode {
            path: path.to_path_buf(),
            reason: format!("needs more memory than allowed ({e})"),
        },
        other => Error::Decode {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    };
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::io(path, e))?;
    if reader.format().is_none() {
        return Err(Error::UnsupportedFormat {
            path: path.to_path_buf(),
        });
    }
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    check_pixels(path, width, height, max_pixels)?;
    let mut limits = Limits::default();
    // Room for the decoded image at 16 bits x 4 channels plus the decoder's own buffers.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).max(512 << 20));
    decoder.set_limits(limits).map_err(decode_error)?;
    // A missing or unreadable EXIF block means "no rotation", never a failure.
    let orientation =
        orientation.unwrap_or_else(|| decoder.orientation().unwrap_or(Orientation::NoTransforms));
    // Third-party decoders are fuzzed but not proven panic-free: a panic on one hostile
    // file must become that file's error, not the end of an indexing run.
    let decoded = catch_unwind(AssertUnwindSafe(|| DynamicImage::from_decoder(decoder)))
        .map_err(|_| Error::Decode {
            path: path.to_path_buf(),
            reason: "the decoder crashed on this file".into(),
        })?
        .map_err(decode_error)?;
    let mut image = decoded;
    image.apply_orientation(orientation);
    Ok(match image {
        DynamicImage::ImageRgb8(rgb) => rgb,
        other => other.to_rgb8(),
    })
}

/// Shrinks so that the longer side is at most `max_side`, keeping the aspect ratio.
pub fn shrink_to_fit(image: RgbImage, max_side: u32) -> RgbImage {
    match fitted_size(image.width(), image.height(), max_side) {
        Some((nw, nh)) => resize_rgb(&image, nw, nh),
        None => image,
    }
}

/// The size that brings the longer side down to `max_side`, or `None` when it already
/// fits (or `max_side` is 0, meaning "no bound").
pub fn fitted_size(width: u32, height: u32, max_side: u32) -> Option<(u32, u32)> {
    let longer = width.max(height);
    if longer <= max_side || max_side == 0 {
        return None;
    }
    let scale = f64::from(max_side) / f64::from(longer);
    let nw = ((f64::from(width) * scale).round() as u32).clamp(1, max_side);
    let nh = ((f64::from(height) * scale).round() as u32).clamp(1, max_side);
    Some((nw, nh))
}

/// File extensions read as images (compared case-insensitively), camera RAW types
/// included (see [`crate::read::raw::RAW_EXTENSIONS`]).
pub const IMAGE_EXTENSIONS: [&str; 24] = [
    "jpg", "jpeg", "png", "webp", "tif", "tiff", "bmp", "gif", "pbm", "pgm", "ppm", "dng", "cr2",
    "cr3", "nef", "nrw", "arw", "sr2", "srf", "raf", "orf", "rw2", "pef", "srw",
];

/// Photo types read through the system's libheif (HEIC, HEIF, AVIF; see
/// [`crate::read::heif`]) or not read at all (Sigma X3F): without a reader each one is
/// reported as "not built in", never skipped in silence.
pub const NOT_BUILT_IN_EXTENSIONS: [&str; 4] = ["heic", "heif", "avif", "x3f"];

/// Whether `path` has one of [`IMAGE_EXTENSIONS`] or [`NOT_BUILT_IN_EXTENSIONS`].
pub fn has_image_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        IMAGE_EXTENSIONS
            .iter()
            .chain(&NOT_BUILT_IN_EXTENSIONS)
            .any(|x| x.eq_ignore_ascii_case(e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 25: a photo larger than the cap is that photo's failure, named, before it
    /// is read.
    #[test]
    fn a_photo_over_the_size_cap_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.jpg");
        std::fs::write(&path, vec![0u8; 3 << 20]).unwrap();
        let message = read_capped(&path, 2 << 20).unwrap_err().to_string();
        assert!(message.contains("over the 2 MB"), "{message}");
        assert!(message.contains("huge.jpg"), "{message}");
        assert_eq!(read_capped(&path, 4 << 20).unwrap().len(), 3 << 20);
    }

    #[test]
    fn parses_boxes() {
        let b: CropBox = "10,20.5, 30 40".parse().unwrap();
        assert_eq!(b, CropBox::new(10.0, 20.5, 30.0, 40.0).unwrap());
        assert!("1,2,3".parse::<CropBox>().is_err());
        assert!("5,5,1,9".parse::<CropBox>().is_err());
        assert!("a,b,c,d".parse::<CropBox>().is_err());
        assert!("nan,0,1,1".parse::<CropBox>().is_err());
    }

    #[test]
    fn box_pixels_cover_fractional_corners_and_clamp() {
        let b = CropBox::new(1.5, 2.0, 10.2, 5.0).unwrap();
        assert_eq!(b.pixels(100, 100), Some((1, 2, 10, 3)));
        let outside = CropBox::new(-5.0, -5.0, 500.0, 8.0).unwrap();
        assert_eq!(outside.pixels(100, 50), Some((0, 0, 100, 8)));
        let beyond = CropBox::new(200.0, 0.0, 300.0, 10.0).unwrap();
        assert_eq!(beyond.pixels(100, 50), None);
    }

    #[test]
    fn shrinks_longer_side_only() {
        let img = RgbImage::new(400, 100);
        let out = shrink_to_fit(img.clone(), 200);
        assert_eq!(out.dimensions(), (200, 50));
        assert_eq!(shrink_to_fit(img, 1000).dimensions(), (400, 100));
    }
}
