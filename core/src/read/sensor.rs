//! RAW files with no usable embedded preview (many phone DNGs, some converters' DNGs)
//! developed from their sensor data, so that every RAW of a library is searchable.
//!
//! `rawloader` (feature `raw-sensor`, LGPL-2.1) decodes the sensor data; the
//! development is ours, plain and deterministic, as a preview needs it:
//! 1. **levels**: each sample less its black level, over its white level's range;
//! 2. **white balance**: as shot (the DNG's `AsShotNeutral`, the camera's own), else
//!    the one that makes D65 white neutral through the colour matrix;
//! 3. **demosaic**: each colour the mean of its samples in a 2 x 2 cell of the colour
//!    filter array (half size, no interpolation) when that leaves at least
//!    [`HALF_SIZE_FROM`] pixels on the longer side, else in the 3 x 3 neighbourhood of
//!    every pixel (bilinear, full size); a linear DNG's three samples as they are;
//! 4. **colour**: camera to linear sRGB by the inverse of the file's XYZ-to-camera
//!    matrix times sRGB's D65 primaries, each row normalised so that white stays white
//!    (dcraw's way), clipped;
//! 5. the **sRGB curve**, to 8 bits, turned by the file's orientation.
//!
//! No tone curve or exposure is added: a developed photo looks flatter than the
//! camera's JPEG, which the descriptor does not mind (copies recoloured by far more are
//! found: docs/duplicates.md).

use std::path::Path;

use image::RgbImage;

use crate::support::error::{Error, Result};

/// The longer side (pixels) a half-size development must keep; smaller sensors are
/// demosaiced at full size. The network reads 1,024 pixels.
pub const HALF_SIZE_FROM: usize = 1024;

/// Without the feature: the file is reported, with how to build a lookalike that reads it.
#[cfg(not(feature = "raw-sensor"))]
pub fn develop(path: &Path, _: &[u8], _: u64, why_no_preview: &str) -> Result<RgbImage> {
    Err(Error::Decode {
        path: path.to_path_buf(),
        reason: format!(
            "camera RAW file: {why_no_preview}, and this build of lookalike does not \
             develop RAW sensor data (it is built without the `raw-sensor` feature)"
        ),
    })
}

#[cfg(feature = "raw-sensor")]
pub use development::develop;

/// The development itself, built with the feature.
#[cfg(feature = "raw-sensor")]
mod development {
    use super::*;

    /// `bytes` (a RAW file at `path` with no usable preview, `why_no_preview`) developed
    /// into oriented sRGB pixels; at most `max_pixels` sensor pixels are decoded.
    pub fn develop(
        path: &Path,
        bytes: &[u8],
        max_pixels: u64,
        why_no_preview: &str,
    ) -> Result<RgbImage> {
        crate::support::guard::note_heavy_work("developing RAW sensor data");
        let failed = |reason: String| Error::Decode {
            path: path.to_path_buf(),
            reason: format!("camera RAW file: {why_no_preview}, and its sensor data {reason}"),
        };
        // The sizes first, from the file's tags alone (nothing decoded).
        let header = rawloader::decode_dummy(&mut &bytes[..])
            .map_err(|e| failed(format!("cannot be read ({})", plain(&e))))?;
        let (width, height) = (header.width as u64, header.height as u64);
        let pixels_of = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        crate::read::limits::check_pixels(path, pixels_of(width), pixels_of(height), max_pixels)?;
        // One sample a pixel (a colour filter array) or three (linear RGB): rawloader would
        // allocate `SamplesPerPixel` times the pixels, whatever the tag says.
        if !matches!(header.cpp, 1 | 3) {
            return Err(failed(format!("has {} samples a pixel", header.cpp)));
        }
        let dng = crate::read::raw::dng_sensor(bytes);
        if dng.is_some_and(|d| !d.within_file) {
            return Err(failed("lies past the end of the file (cut short?)".into()));
        }
        let mut raw = rawloader::decode(&mut &bytes[..])
            .map_err(|e| failed(format!("cannot be decoded ({})", plain(&e))))?;
        if dng.is_some_and(|d| d.big_endian_16_bit)
            && let rawloader::RawImageData::Integer(samples) = &mut raw.data
        {
            samples.iter_mut().for_each(|s| *s = s.swap_bytes());
        }
        let sensor = Sensor::new(&raw).map_err(|e| failed(e.to_string()))?;
        let developed = sensor.develop();
        Ok(oriented(developed, raw.orientation))
    }

    /// rawloader's message without its wrapper (`RawLoaderError: "…"`), and in words for
    /// the panics it caught (its own message asks the user to file a bug with rawloader).
    fn plain(error: &rawloader::RawLoaderError) -> String {
        let text = error.to_string();
        if text.contains("Caught a panic") {
            return "the RAW decoder failed on it: damaged, or a variant it cannot read".into();
        }
        let inner = text
            .strip_prefix("RawLoaderError: \"")
            .and_then(|t| t.strip_suffix('"'));
        inner.unwrap_or(&text).to_string()
    }

    /// The decoded sensor data and what developing it takes, checked.
    struct Sensor<'a> {
        raw: &'a rawloader::RawImage,
        /// The visible area: `left`, `top`, `width`, `height` in sensor pixels.
        area: [usize; 4],
        /// Per colour index: black level, `1 / (white - black)` times the white balance.
        black: [f32; 4],
        gain: [f32; 4],
        /// Camera (white-balanced) to linear sRGB.
        to_srgb: [[f32; 4]; 3],
    }

    impl<'a> Sensor<'a> {
        fn new(raw: &'a rawloader::RawImage) -> std::result::Result<Self, &'static str> {
            let [top, right, bottom, left] = raw.crops;
            let width = raw
                .width
                .checked_sub(left + right)
                .ok_or("has a crop wider than it")?;
            let height = raw
                .height
                .checked_sub(top + bottom)
                .ok_or("has a crop taller than it")?;
            let samples = raw.width * raw.height * raw.cpp;
            let enough = match &raw.data {
                rawloader::RawImageData::Integer(v) => v.len() >= samples,
                rawloader::RawImageData::Float(v) => v.len() >= samples,
            };
            if !enough || width.min(height) < 2 * crate::read::limits::MIN_SIDE as usize {
                return Err("is too small or cut short");
            }
            match (raw.cpp, raw.cfa.width, raw.cfa.height) {
                (1, w, h) if w > 0 && h > 0 => {}
                (3, _, _) => {}
                _ => {
                    return Err(
                        "is in a layout lookalike does not develop (not a colour filter array or linear RGB)",
                    );
                }
            }
            let balance = white_balance(raw);
            let mut black = [0.0; 4];
            let mut gain = [0.0; 4];
            for c in 0..4 {
                black[c] = f32::from(raw.blacklevels[c]);
                let range = f32::from(raw.whitelevels[c]) - black[c];
                gain[c] = if range > 0.0 { balance[c] / range } else { 0.0 };
            }
            Ok(Self {
                raw,
                area: [left, top, width, height],
                black,
                gain,
                to_srgb: camera_to_srgb(&raw.xyz_to_cam, raw.cpp),
            })
        }

        /// The developed pixels, not yet oriented.
        fn develop(&self) -> RgbImage {
            let [_, _, width, height] = self.area;
            let half = self.raw.cpp == 1 && width.max(height) / 2 >= HALF_SIZE_FROM;
            let (out_w, out_h) = if half {
                (width / 2, height / 2)
            } else {
                (width, height)
            };
            let curve = SrgbCurve::new();
            let mut out = vec![0u8; out_w * out_h * 3];
            use rayon::prelude::*;
            out.par_chunks_mut(out_w * 3)
                .enumerate()
                .for_each(|(y, row)| {
                    for x in 0..out_w {
                        let camera = match (self.raw.cpp, half) {
                            (3, _) => self.linear(x, y),
                            (_, true) => self.mosaic(2 * x, 2 * y, 2 * x + 2, 2 * y + 2),
                            _ => {
                                self.mosaic(x.saturating_sub(1), y.saturating_sub(1), x + 2, y + 2)
                            }
                        };
                        for (channel, m) in self.to_srgb.iter().enumerate() {
                            let v: f32 = (0..4).map(|c| m[c] * camera[c]).sum();
                            row[3 * x + channel] = curve.encode(v);
                        }
                    }
                });
            let (w, h) = (out_w as u32, out_h as u32);
            // Sizes come from `out`'s own length: never fails.
            RgbImage::from_raw(w, h, out).unwrap_or_else(|| RgbImage::new(w, h))
        }

        /// The sample at visible `(x, y)`, channel `c`, as a level from 0 (black) up.
        fn level(&self, x: usize, y: usize, c: usize, colour: usize) -> f32 {
            let [left, top, ..] = self.area;
            let i = ((top + y) * self.raw.width + left + x) * self.raw.cpp + c;
            let value = match &self.raw.data {
                rawloader::RawImageData::Integer(v) => f32::from(v[i]),
                rawloader::RawImageData::Float(v) => v[i],
            };
            (value - self.black[colour]) * self.gain[colour]
        }

        /// A linear DNG's pixel: its three samples.
        fn linear(&self, x: usize, y: usize) -> [f32; 4] {
            [
                self.level(x, y, 0, 0),
                self.level(x, y, 1, 1),
                self.level(x, y, 2, 2),
                0.0,
            ]
        }

        /// Each colour the mean of its samples in the visible cells `[x0, x1) x [y0, y1)`.
        fn mosaic(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> [f32; 4] {
            let [left, top, width, height] = self.area;
            let mut sum = [0.0f32; 4];
            let mut count = [0u32; 4];
            for y in y0..y1.min(height) {
                for x in x0..x1.min(width) {
                    let colour = self.raw.cfa.color_at(top + y, left + x).min(3);
                    sum[colour] += self.level(x, y, 0, colour);
                    count[colour] += 1;
                }
            }
            // A colour with no sample in the window (a 3-colour filter has no fourth) is 0.
            std::array::from_fn(|c| {
                if count[c] > 0 {
                    sum[c] / count[c] as f32
                } else {
                    0.0
                }
            })
        }
    }

    /// The white balance per colour index, green = 1: as shot, else D65 made neutral.
    fn white_balance(raw: &rawloader::RawImage) -> [f32; 4] {
        let shot = raw.wb_coeffs;
        let usable = |w: [f32; 4]| w[..3].iter().all(|v| v.is_finite() && *v > 0.0);
        let balance = if usable(shot) { shot } else { raw.neutralwb() };
        if !usable(balance) {
            return [1.0; 4];
        }
        let green = balance[1];
        let fourth = if balance[3].is_finite() && balance[3] > 0.0 {
            balance[3]
        } else {
            green
        };
        [balance[0] / green, 1.0, balance[2] / green, fourth / green]
    }

    /// The matrix from white-balanced camera values to linear sRGB: the pseudo-inverse of
    /// XYZ-to-camera times sRGB-to-XYZ (D65), its rows normalised (white stays white).
    /// A file with no usable matrix is taken as sRGB already.
    fn camera_to_srgb(xyz_to_cam: &[[f32; 3]; 4], cpp: usize) -> [[f32; 4]; 3] {
        const SRGB_TO_XYZ: [[f32; 3]; 3] = [
            [0.412_453, 0.357_580, 0.180_423],
            [0.212_671, 0.715_160, 0.072_169],
            [0.019_334, 0.119_193, 0.950_227],
        ];
        let identity = [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
        ];
        let colours = if cpp == 3 { 3 } else { 4 };
        let mut cam_from_srgb = [[0.0f32; 3]; 4];
        for (i, row) in cam_from_srgb.iter_mut().enumerate().take(colours) {
            for (j, value) in row.iter_mut().enumerate() {
                *value = (0..3).map(|k| xyz_to_cam[i][k] * SRGB_TO_XYZ[k][j]).sum();
            }
            let sum: f32 = row.iter().sum();
            if sum.abs() > 1e-6 {
                row.iter_mut().for_each(|v| *v /= sum);
            }
        }
        let inverse = rawloader::RawImage::pseudoinverse(cam_from_srgb);
        let usable = inverse.iter().flatten().all(|v| v.is_finite())
            && cam_from_srgb[..3].iter().flatten().any(|v| *v != 0.0);
        if usable { inverse } else { identity }
    }

    /// Linear light (0 to 1, clipped) to 8-bit sRGB, by table.
    struct SrgbCurve {
        table: Vec<u8>,
    }

    impl SrgbCurve {
        const STEPS: usize = 4096;

        fn new() -> Self {
            let table = (0..=Self::STEPS)
                .map(|i| {
                    let v = i as f32 / Self::STEPS as f32;
                    let encoded = if v <= 0.003_130_8 {
                        12.92 * v
                    } else {
                        1.055 * v.powf(1.0 / 2.4) - 0.055
                    };
                    (encoded * 255.0).round().clamp(0.0, 255.0) as u8
                })
                .collect();
            Self { table }
        }

        fn encode(&self, linear: f32) -> u8 {
            let at = (linear.clamp(0.0, 1.0) * Self::STEPS as f32).round() as usize;
            self.table[at.min(Self::STEPS)]
        }
    }

    /// `image` turned as rawloader read the file's orientation tag.
    fn oriented(image: RgbImage, orientation: rawloader::Orientation) -> RgbImage {
        use rawloader::Orientation as O;
        let exif = match orientation {
            O::HorizontalFlip => 2,
            O::Rotate180 => 3,
            O::VerticalFlip => 4,
            O::Transpose => 5,
            O::Rotate90 => 6,
            O::Transverse => 7,
            O::Rotate270 => 8,
            O::Normal | O::Unknown => 1,
        };
        let mut turned = image::DynamicImage::ImageRgb8(image);
        if let Some(o) = image::metadata::Orientation::from_exif(exif) {
            turned.apply_orientation(o);
        }
        turned.into_rgb8()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_srgb_curve_is_the_standard_one() {
            let curve = SrgbCurve::new();
            assert_eq!(curve.encode(0.0), 0);
            assert_eq!(curve.encode(1.0), 255);
            assert_eq!(curve.encode(2.0), 255);
            assert_eq!(curve.encode(-1.0), 0);
            // 18% grey is 118 in sRGB.
            assert_eq!(curve.encode(0.18), 118);
        }

        #[test]
        fn srgb_primaries_as_the_camera_develop_to_the_identity() {
            // A "camera" whose XYZ-to-camera matrix is sRGB's own inverse sees sRGB.
            let xyz_to_srgb = [
                [3.240_479, -1.537_15, -0.498_535],
                [-0.969_256, 1.875_992, 0.041_556],
                [0.055_648, -0.204_043, 1.057_311],
                [0.0, 0.0, 0.0],
            ];
            let m = camera_to_srgb(&xyz_to_srgb, 1);
            for (i, row) in m.iter().enumerate() {
                for (j, v) in row.iter().take(3).enumerate() {
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!((v - want).abs() < 1e-3, "{m:?}");
                }
            }
        }
    }
}
