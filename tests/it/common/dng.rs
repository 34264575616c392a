//! DNG files laid out as phones and converters write them, with no preview to read:
//! a real photo is taken back to sensor data (sRGB to linear, to the camera's colours
//! through a real camera's colour matrix, divided by its white balance, scaled between
//! its black and white levels, one colour per pixel through the colour filter array)
//! and stored 12- or 14-bit, uncompressed, packed, or as Adobe's lossless-JPEG tiles.

use image::RgbImage;

/// How the sensor data is stored.
#[derive(Clone, Copy, Debug)]
pub enum Storage {
    /// 16-bit samples, one strip (phones: Android's DngCreator).
    Uncompressed16,
    /// 12-bit samples packed big-endian, one strip (`BitsPerSample` 12).
    Packed12,
    /// Lossless JPEG (ITU T.81 process 14, predictor 1), two components per row, in
    /// square tiles of this side (Adobe DNG Converter's layout).
    LosslessTiles(u32),
}

#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub big_endian: bool,
    /// CFA colours in reading order of its 2 x 2 cell: 0 red, 1 green, 2 blue.
    pub cfa: [u8; 4],
    /// Significant bits of a sample (the white level is `2^bits - 1`).
    pub bits: u32,
    pub storage: Storage,
    /// Masked pixels on every side (`ActiveArea`); even.
    pub margin: u32,
    pub black: u16,
    /// EXIF orientation: 1 (as stored) or 6 (shown turned a quarter clockwise).
    pub orientation: u16,
    /// A converter's layout: IFD0 an 8-bit RGB thumbnail (too small to describe, not a
    /// JPEG), the sensor data in a SubIFD. Otherwise IFD0 is the sensor data (phones).
    pub thumbnail: bool,
}

impl Layout {
    /// As Android's DngCreator writes: the sensor data in IFD0, 16-bit samples of 12
    /// bits, BGGR, no margins, shown turned a quarter (orientation 6), no preview.
    pub const PHONE: Self = Self {
        big_endian: false,
        cfa: BGGR,
        bits: 12,
        storage: Storage::Uncompressed16,
        margin: 0,
        black: 64,
        orientation: 6,
        thumbnail: false,
    };
}

pub const RGGB: [u8; 4] = [0, 1, 1, 2];
pub const BGGR: [u8; 4] = [2, 1, 1, 0];

/// Adobe's ColorMatrix1 (XYZ to camera, D65) of a Canon EOS 5D Mark II, in 1/10000.
const COLOR_MATRIX: [i32; 9] = [4716, 603, -830, -7798, 15474, 2480, -1496, 1937, 6651];
/// The camera's neutral (`AsShotNeutral`) under daylight: red and blue gains 2.0 and 1.5.
const NEUTRAL: [f32; 3] = [0.5, 1.0, 0.6667];

/// `photo` (as it is to be seen) as a DNG of this layout. The sensor is the photo plus
/// the margins; `Storage::LosslessTiles` needs a sensor of whole tiles.
pub fn dng(photo: &RgbImage, layout: &Layout) -> Vec<u8> {
    let stored = match layout.orientation {
        1 => photo.clone(),
        6 => image::imageops::rotate270(photo),
        o => panic!("orientation {o} not built here"),
    };
    let (w, h) = (
        stored.width() + 2 * layout.margin,
        stored.height() + 2 * layout.margin,
    );
    let samples = mosaic(&stored, layout, w, h);
    let (data, tiles): (Vec<Vec<u8>>, Option<u32>) = match layout.storage {
        Storage::Uncompressed16 => (vec![sixteen_bit(&samples, layout.big_endian)], None),
        Storage::Packed12 => (vec![packed12(&samples)], None),
        Storage::LosslessTiles(side) => {
            assert!(
                w % side == 0 && h % side == 0,
                "{w} x {h} is not whole tiles of {side}"
            );
            let mut tiles = Vec::new();
            for ty in 0..h / side {
                for tx in 0..w / side {
                    let tile: Vec<u16> = (0..side)
                        .flat_map(|y| {
                            let row = ((ty * side + y) * w + tx * side) as usize;
                            samples[row..row + side as usize].to_vec()
                        })
                        .collect();
                    tiles.push(lossless_jpeg(&tile, side, side, layout.bits));
                }
            }
            (tiles, Some(side))
        }
    };
    let raw = raw_ifd(layout, w, h, data, tiles);
    let mut ifd0 = camera_tags(layout);
    let ifds = if layout.thumbnail {
        ifd0.extend(thumbnail_tags(photo));
        ifd0.push((0x014A, V::Ifd(1)));
        vec![ifd0, raw]
    } else {
        ifd0.extend(raw);
        vec![ifd0]
    };
    tiff(layout.big_endian, ifds)
}

/// The camera's samples, one colour per pixel, the margins at the black level.
fn mosaic(stored: &RgbImage, layout: &Layout, w: u32, h: u32) -> Vec<u16> {
    let to_camera = camera_from_srgb();
    let white = (1u32 << layout.bits) - 1;
    let range = (white - u32::from(layout.black)) as f32;
    let linear = |v: u8| {
        let v = f32::from(v) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let mut out = vec![layout.black; (w * h) as usize];
    for y in 0..stored.height() {
        for x in 0..stored.width() {
            let (sx, sy) = (x + layout.margin, y + layout.margin);
            let colour = layout.cfa[((sy % 2) * 2 + sx % 2) as usize] as usize;
            let rgb = stored.get_pixel(x, y).0.map(linear);
            let camera: f32 = (0..3).map(|k| to_camera[colour][k] * rgb[k]).sum();
            let level = (camera * NEUTRAL[colour]).clamp(0.0, 1.0) * range;
            out[(sy * w + sx) as usize] = layout.black + level.round() as u16;
        }
    }
    out
}

/// XYZ-to-camera times sRGB-to-XYZ, rows normalised: what the developer inverts.
fn camera_from_srgb() -> [[f32; 3]; 3] {
    const SRGB_TO_XYZ: [[f32; 3]; 3] = [
        [0.412_453, 0.357_580, 0.180_423],
        [0.212_671, 0.715_160, 0.072_169],
        [0.019_334, 0.119_193, 0.950_227],
    ];
    let mut m = [[0.0f32; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = (0..3)
                .map(|k| COLOR_MATRIX[i * 3 + k] as f32 / 10_000.0 * SRGB_TO_XYZ[k][j])
                .sum();
        }
        let sum: f32 = m[i].iter().sum();
        m[i].iter_mut().for_each(|v| *v /= sum);
    }
    m
}

fn sixteen_bit(samples: &[u16], big_endian: bool) -> Vec<u8> {
    let bytes = |s: &u16| {
        if big_endian {
            s.to_be_bytes()
        } else {
            s.to_le_bytes()
        }
    };
    samples.iter().flat_map(bytes).collect()
}

fn packed12(samples: &[u16]) -> Vec<u8> {
    samples
        .chunks(2)
        .flat_map(|p| {
            let (a, b) = (p[0], p.get(1).copied().unwrap_or(0));
            [(a >> 4) as u8, ((a & 15) << 4 | b >> 8) as u8, b as u8]
        })
        .collect()
}

/// One tile as lossless JPEG: `width` samples a row stored as `width / 2` pixels of two
/// components (as Adobe's converter does), predictor 1, one Huffman table of 5-bit codes.
fn lossless_jpeg(tile: &[u16], width: u32, height: u32, bits: u32) -> Vec<u8> {
    let columns = width / 2;
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xC3, 0, 14, bits as u8];
    out.extend_from_slice(&(height as u16).to_be_bytes());
    out.extend_from_slice(&(columns as u16).to_be_bytes());
    out.extend_from_slice(&[2, 1, 0x11, 0, 2, 0x11, 0]);
    // DHT: 17 categories (0 to 16), every code 5 bits long.
    out.extend_from_slice(&[0xFF, 0xC4, 0, 36, 0x00]);
    let mut counts = [0u8; 16];
    counts[4] = 17;
    out.extend_from_slice(&counts);
    out.extend(0..17u8);
    out.extend_from_slice(&[0xFF, 0xDA, 0, 10, 2, 1, 0x00, 2, 0x00, 1, 0, 0]);
    let mut bits_out = BitWriter::default();
    let at = |x: u32, y: u32| i32::from(tile[(y * width + x) as usize]);
    for y in 0..height {
        for x in 0..width {
            let predicted = match (x < 2, y) {
                (true, 0) => 1 << (bits - 1),
                (true, _) => at(x, y - 1),
                (false, _) => at(x - 2, y),
            };
            let diff = at(x, y) - predicted;
            let category = 32 - diff.unsigned_abs().leading_zeros();
            bits_out.put(category, 5);
            if category > 0 {
                let extra = if diff > 0 {
                    diff
                } else {
                    diff + (1 << category) - 1
                };
                bits_out.put(extra as u32, category);
            }
        }
    }
    out.extend(bits_out.finish());
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    current: u32,
    filled: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, bits: u32) {
        for i in (0..bits).rev() {
            self.current = self.current << 1 | (value >> i) & 1;
            self.filled += 1;
            if self.filled == 8 {
                self.byte();
            }
        }
    }

    fn byte(&mut self) {
        let byte = self.current as u8;
        self.bytes.push(byte);
        if byte == 0xFF {
            self.bytes.push(0);
        }
        self.current = 0;
        self.filled = 0;
    }

    fn finish(mut self) -> Vec<u8> {
        while self.filled != 0 {
            self.put(1, 1);
        }
        self.bytes
    }
}

/// A TIFF value.
enum V {
    Short(Vec<u16>),
    Long(Vec<u32>),
    Byte(Vec<u8>),
    Ascii(&'static str),
    Rational(Vec<(u32, u32)>),
    SRational(Vec<(i32, i32)>),
    /// Bytes stored elsewhere; the entry holds their offsets (LONG), one per blob.
    Offsets(Vec<Vec<u8>>),
    /// Another IFD (by index), as a SubIFD pointer.
    Ifd(usize),
}

fn camera_tags(layout: &Layout) -> Vec<(u16, V)> {
    vec![
        (0x010F, V::Ascii("Canon")),
        (0x0110, V::Ascii("Canon EOS 5D Mark II")),
        (0x0112, V::Short(vec![layout.orientation])),
        (0xC612, V::Byte(vec![1, 4, 0, 0])),
        (0xC613, V::Byte(vec![1, 1, 0, 0])),
        (0xC614, V::Ascii("Canon EOS 5D Mark II")),
        (
            0xC621,
            V::SRational(COLOR_MATRIX.iter().map(|&v| (v, 10_000)).collect()),
        ),
        (
            0xC628,
            V::Rational(
                NEUTRAL
                    .iter()
                    .map(|&v| ((v * 10_000.0) as u32, 10_000))
                    .collect(),
            ),
        ),
        (0xC65A, V::Short(vec![21])),
    ]
}

fn thumbnail_tags(photo: &RgbImage) -> Vec<(u16, V)> {
    let width = photo.width().min(256);
    let thumb = image::imageops::thumbnail(photo, width, width * photo.height() / photo.width());
    let bytes = thumb.as_raw().clone();
    let length = bytes.len() as u32;
    vec![
        (0x00FE, V::Long(vec![1])),
        (0x0100, V::Long(vec![thumb.width()])),
        (0x0101, V::Long(vec![thumb.height()])),
        (0x0102, V::Short(vec![8, 8, 8])),
        (0x0103, V::Short(vec![1])),
        (0x0106, V::Short(vec![2])),
        (0x0111, V::Offsets(vec![bytes])),
        (0x0115, V::Short(vec![3])),
        (0x0116, V::Long(vec![thumb.height()])),
        (0x0117, V::Long(vec![length])),
    ]
}

fn raw_ifd(
    layout: &Layout,
    w: u32,
    h: u32,
    data: Vec<Vec<u8>>,
    tiles: Option<u32>,
) -> Vec<(u16, V)> {
    let (bits, compression) = match layout.storage {
        Storage::Uncompressed16 => (16, 1),
        Storage::Packed12 => (12, 1),
        Storage::LosslessTiles(_) => (layout.bits as u16, 7),
    };
    let lengths: Vec<u32> = data.iter().map(|d| d.len() as u32).collect();
    let m = layout.margin;
    let mut tags = vec![
        (0x00FE, V::Long(vec![0])),
        (0x0100, V::Long(vec![w])),
        (0x0101, V::Long(vec![h])),
        (0x0102, V::Short(vec![bits])),
        (0x0103, V::Short(vec![compression])),
        (0x0106, V::Short(vec![32803])),
        (0x0115, V::Short(vec![1])),
        (0x011C, V::Short(vec![1])),
        (0x828D, V::Short(vec![2, 2])),
        (0x828E, V::Byte(layout.cfa.to_vec())),
        (0xC61A, V::Long(vec![u32::from(layout.black)])),
        (0xC61D, V::Long(vec![(1 << layout.bits) - 1])),
        (0xC68D, V::Long(vec![m, m, h - m, w - m])),
    ];
    match tiles {
        Some(side) => tags.extend([
            (0x0142, V::Long(vec![side])),
            (0x0143, V::Long(vec![side])),
            (0x0144, V::Offsets(data)),
            (0x0145, V::Long(lengths)),
        ]),
        None => tags.extend([
            (0x0111, V::Offsets(data)),
            (0x0116, V::Long(vec![h])),
            (0x0117, V::Long(lengths)),
        ]),
    }
    tags
}

/// A TIFF file of these IFDs (IFD0 first; others reached as SubIFDs), entries sorted,
/// then the values that do not fit in an entry, then the strips and tiles (last, as
/// cameras and converters write them: a file cut short loses its sensor data).
fn tiff(big_endian: bool, mut ifds: Vec<Vec<(u16, V)>>) -> Vec<u8> {
    ifds.iter_mut()
        .for_each(|ifd| ifd.sort_by_key(|(tag, _)| *tag));
    // The first pass finds where the values end, the second puts the blobs after them.
    let (first, _) = write_tiff(big_endian, &ifds, 0);
    let (out, blobs) = write_tiff(big_endian, &ifds, first.len().next_multiple_of(2) as u32);
    [out.as_slice(), &vec![0; out.len() % 2], &blobs].concat()
}

/// The header, IFDs and values of a TIFF whose blobs start at `blobs_at`; the blobs.
fn write_tiff(big_endian: bool, ifds: &[Vec<(u16, V)>], blobs_at: u32) -> (Vec<u8>, Vec<u8>) {
    let u16b = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut ifd_at = Vec::new();
    let mut at = 8u32;
    for ifd in ifds {
        ifd_at.push(at);
        at += 2 + 12 * ifd.len() as u32 + 4;
    }
    let mut out: Vec<u8> = if big_endian {
        b"MM\0*".to_vec()
    } else {
        b"II*\0".to_vec()
    };
    out.extend_from_slice(&u32b(8));
    let mut blob_bytes: Vec<u8> = Vec::new();
    let mut extra: Vec<u8> = Vec::new();
    let place = |bytes: &[u8], extra: &mut Vec<u8>| -> u32 {
        if extra.len() % 2 == 1 {
            extra.push(0);
        }
        let offset = at + extra.len() as u32;
        extra.extend_from_slice(bytes);
        offset
    };
    for ifd in ifds {
        out.extend_from_slice(&u16b(ifd.len() as u16));
        for (tag, value) in ifd {
            let (kind, count, payload): (u16, usize, Vec<u8>) = match value {
                V::Short(v) => (3, v.len(), v.iter().flat_map(|&x| u16b(x)).collect()),
                V::Long(v) => (4, v.len(), v.iter().flat_map(|&x| u32b(x)).collect()),
                V::Byte(v) => (1, v.len(), v.clone()),
                V::Ascii(s) => (2, s.len() + 1, [s.as_bytes(), &[0]].concat()),
                V::Rational(v) => (
                    5,
                    v.len(),
                    v.iter()
                        .flat_map(|&(a, b)| [u32b(a), u32b(b)].concat())
                        .collect(),
                ),
                V::SRational(v) => (
                    10,
                    v.len(),
                    v.iter()
                        .flat_map(|&(a, b)| [u32b(a as u32), u32b(b as u32)].concat())
                        .collect(),
                ),
                V::Offsets(blobs) => {
                    let offsets: Vec<u32> = blobs
                        .iter()
                        .map(|b| {
                            let offset = blobs_at + blob_bytes.len() as u32;
                            blob_bytes.extend_from_slice(b);
                            blob_bytes.resize(blob_bytes.len().next_multiple_of(2), 0);
                            offset
                        })
                        .collect();
                    (
                        4,
                        offsets.len(),
                        offsets.iter().flat_map(|&x| u32b(x)).collect(),
                    )
                }
                V::Ifd(i) => (4, 1, u32b(ifd_at[*i]).to_vec()),
            };
            out.extend_from_slice(&u16b(*tag));
            out.extend_from_slice(&u16b(kind));
            out.extend_from_slice(&u32b(count as u32));
            if payload.len() <= 4 {
                let mut word = payload;
                word.resize(4, 0);
                out.extend_from_slice(&word);
            } else {
                out.extend_from_slice(&u32b(place(&payload, &mut extra)));
            }
        }
        out.extend_from_slice(&u32b(0));
    }
    out.extend_from_slice(&extra);
    (out, blob_bytes)
}
