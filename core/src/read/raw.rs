//! Camera RAW files, read the way digiKam and Lightroom make their fast previews: from
//! the largest JPEG preview the camera embedded in the file, turned by the RAW's own
//! orientation tag. A file without a preview of at least [`MIN_PREVIEW_SIDE`] pixels
//! is never described from a thumbnail: its sensor data is developed instead
//! ([`crate::read::sensor`]), or the file is reported where the build cannot.
//!
//! The containers, read by a small bounds-checked parser (no `unsafe`, every offset
//! checked against the file's length):
//! - **TIFF-based** (DNG, CR2, NEF, NRW, ARW, SR2, SRF, PEF, SRW, ORF, RW2): every IFD
//!   reachable from the header (the IFD chain, SubIFDs, the EXIF IFD) is visited; a
//!   preview is a `JPEGInterchangeFormat` pointer, a single-strip image with JPEG
//!   compression, or a tag whose bytes are a JPEG (Panasonic's `JpgFromRaw`). Each
//!   candidate must be a baseline or progressive JPEG (lossless-JPEG raw data is not a
//!   preview); its size is read from its frame header and the largest wins.
//!   Orientation: tag 0x0112 of IFD0.
//! - **RAF** (Fujifilm): the header points at a complete JPEG, which carries the
//!   camera's EXIF orientation itself.
//! - **CR3** (Canon, ISO-BMFF): the `PRVW` box of the preview `uuid` box holds a
//!   1620 x 1080 JPEG; orientation is tag 0x0112 of the `CMT1` TIFF block.

use std::ops::Range;

/// The RAW types read (compared case-insensitively).
pub const RAW_EXTENSIONS: [&str; 13] = [
    "dng", "cr2", "cr3", "nef", "nrw", "arw", "sr2", "srf", "raf", "orf", "rw2", "pef", "srw",
];

/// A preview smaller than this (longer side, pixels) is not used to describe a photo.
pub const MIN_PREVIEW_SIDE: u32 = 512;

/// Whether `path` has one of [`RAW_EXTENSIONS`].
pub fn is_raw(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| RAW_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// The JPEG preview to describe a RAW file from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Where the JPEG lies in the file.
    pub range: Range<usize>,
    pub width: u32,
    pub height: u32,
    /// The RAW's own EXIF orientation (1-8), to apply instead of the JPEG's; `None`
    /// when the JPEG's own EXIF is the camera's (RAF).
    pub orientation: Option<u16>,
}

/// The largest embedded JPEG preview of a RAW file of at least [`MIN_PREVIEW_SIDE`]
/// pixels, or why there is none.
pub fn largest_preview(bytes: &[u8]) -> Result<Preview, String> {
    let (candidates, orientation) = if bytes.starts_with(b"FUJIFILMCCD-RAW") {
        (raf_previews(bytes)?, None)
    } else if bytes.get(4..8) == Some(b"ftyp") {
        cr3_previews(bytes)?
    } else {
        let tiff = Tiff::new(bytes, 0).ok_or("not a TIFF-based RAW file (unknown header)")?;
        tiff_previews(&tiff)
    };
    let best = measured(candidates)
        .into_iter()
        .filter_map(|range| {
            let (width, height) = jpeg_size(bytes.get(range.clone())?)?;
            Some(Preview {
                range,
                width,
                height,
                orientation,
            })
        })
        .max_by_key(|p| u64::from(p.width) * u64::from(p.height));
    match best {
        Some(p) if p.width.max(p.height) >= MIN_PREVIEW_SIDE => Ok(p),
        Some(p) => Err(format!(
            "its largest embedded preview is {} x {} pixels, under the {MIN_PREVIEW_SIDE} \
             lookalike needs",
            p.width, p.height
        )),
        None => Err("it has no embedded JPEG preview".into()),
    }
}

/// The preview candidates worth measuring: each distinct range once (hostile or corrupt
/// files repeat one pointer thousands of times), the [`MAX_CANDIDATES`] longest (real
/// RAW files hold two to five previews).
fn measured(mut candidates: Vec<Range<usize>>) -> Vec<Range<usize>> {
    candidates.sort_by_key(|r| (r.start, r.end));
    candidates.dedup();
    candidates.sort_by_key(|r| std::cmp::Reverse(r.len()));
    candidates.truncate(MAX_CANDIDATES);
    candidates
}

/// The most preview candidates measured in one file.
const MAX_CANDIDATES: usize = 32;

/// The most IFDs, and IFD entries in all, read from one file: real RAW files have a few
/// dozen IFDs of a few hundred entries; a crafted one may chain 65,535-entry IFDs.
const MAX_IFDS: usize = 256;
const MAX_FIELDS: usize = 65_536;

/// A TIFF structure inside `bytes` whose offsets count from `base`.
struct Tiff<'a> {
    bytes: &'a [u8],
    base: usize,
    little: bool,
    first_ifd: usize,
}

/// One IFD entry.
#[derive(Debug, Clone, Copy)]
struct Field {
    tag: u16,
    kind: u16,
    count: u32,
    /// The value itself (when it fits in 4 bytes) or the offset of the values.
    value: u32,
    /// Where the 4 value bytes are, to read short values that fit there.
    at: usize,
}

const ORIENTATION: u16 = 0x0112;
const COMPRESSION: u16 = 0x0103;
const STRIP_OFFSETS: u16 = 0x0111;
const STRIP_BYTE_COUNTS: u16 = 0x0117;
const SUB_IFDS: u16 = 0x014A;
const JPEG_OFFSET: u16 = 0x0201;
const JPEG_LENGTH: u16 = 0x0202;
const EXIF_IFD: u16 = 0x8769;
const NEW_SUBFILE_TYPE: u16 = 0x00FE;
const IMAGE_WIDTH: u16 = 0x0100;
const IMAGE_LENGTH: u16 = 0x0101;
const BITS_PER_SAMPLE: u16 = 0x0102;
const PHOTOMETRIC: u16 = 0x0106;
const SAMPLES_PER_PIXEL: u16 = 0x0115;
const TILE_OFFSETS: u16 = 0x0144;
const TILE_BYTE_COUNTS: u16 = 0x0145;
const DNG_VERSION: u16 = 0xC612;

impl<'a> Tiff<'a> {
    /// Reads the header at `base`: `II` or `MM`, any magic (42, ORF's `RO`/`RS`, RW2's
    /// 0x55), the offset of IFD0.
    fn new(bytes: &'a [u8], base: usize) -> Option<Self> {
        let little = match bytes.get(base..base + 2)? {
            b"II" => true,
            b"MM" => false,
            _ => return None,
        };
        let mut tiff = Self {
            bytes,
            base,
            little,
            first_ifd: 0,
        };
        tiff.first_ifd = tiff.u32_at(base + 4)? as usize;
        Some(tiff)
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    /// The entries of the IFD at `offset` and the offset of the next IFD (0: none).
    fn ifd(&self, offset: usize) -> Option<(Vec<Field>, usize)> {
        let start = self.base.checked_add(offset)?;
        let n = usize::from(self.u16_at(start)?);
        let mut fields = Vec::with_capacity(n);
        for i in 0..n {
            let at = start + 2 + 12 * i;
            fields.push(Field {
                tag: self.u16_at(at)?,
                kind: self.u16_at(at + 2)?,
                count: self.u32_at(at + 4)?,
                value: self.u32_at(at + 8)?,
                at: at + 8,
            });
        }
        let next = self.u32_at(start + 2 + 12 * n).unwrap_or(0) as usize;
        Some((fields, next))
    }

    /// The first numeric value of a field (SHORT or LONG).
    fn number(&self, field: &Field) -> Option<u32> {
        match field.kind {
            3 => self.u16_at(field.at).map(u32::from),
            4 | 13 => Some(field.value),
            _ => None,
        }
    }

    /// The values of a SHORT or LONG field (strip and tile offsets), at most
    /// [`MAX_FIELDS`]; none if they do not all lie inside the file.
    fn numbers(&self, field: &Field) -> Vec<u32> {
        let count = field.count as usize;
        let size = match field.kind {
            3 => 2,
            4 | 13 => 4,
            _ => return Vec::new(),
        };
        if count > MAX_FIELDS {
            return Vec::new();
        }
        let at = if count * size <= 4 {
            field.at
        } else {
            self.base + field.value as usize
        };
        let value = |i: usize| match size {
            2 => self.u16_at(at + 2 * i).map(u32::from),
            _ => self.u32_at(at + 4 * i),
        };
        (0..count)
            .map(value)
            .collect::<Option<_>>()
            .unwrap_or_default()
    }

    /// All values of a LONG / IFD field (for SubIFDs).
    fn longs(&self, field: &Field) -> Vec<u32> {
        if field.count <= 1 {
            return vec![field.value];
        }
        let at = self.base + field.value as usize;
        (0..field.count.min(64) as usize)
            .filter_map(|i| self.u32_at(at + 4 * i))
            .collect()
    }

    /// Where a field's byte values lie, if they hold a JPEG (starting with SOI).
    fn jpeg_bytes(&self, field: &Field) -> Option<Range<usize>> {
        if !matches!(field.kind, 1 | 7) || field.count < 1024 {
            return None;
        }
        let start = self.base + field.value as usize;
        let range = start..start.checked_add(field.count as usize)?;
        self.bytes
            .get(range.clone())
            .filter(|b| b.starts_with(&[0xFF, 0xD8]))
            .map(|_| range)
    }

    /// IFD0's orientation tag.
    fn orientation(&self) -> Option<u16> {
        let (fields, _) = self.ifd(self.first_ifd)?;
        let field = fields.iter().find(|f| f.tag == ORIENTATION)?;
        self.number(field).map(|v| v as u16)
    }
}

/// The orientation (1-8) in a JPEG's EXIF block (with or without its `Exif\0\0`
/// prefix).
pub fn exif_orientation(exif: &[u8]) -> Option<u16> {
    let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    Tiff::new(tiff, 0)?.orientation()
}

/// Calls `visit` with the entries of every IFD reachable from the header (the chain,
/// SubIFDs, the EXIF IFD), each once, at most [`MAX_IFDS`] and [`MAX_FIELDS`] in all.
fn visit_ifds(tiff: &Tiff, mut visit: impl FnMut(&[Field])) {
    let mut queue = vec![tiff.first_ifd];
    let mut seen = std::collections::HashSet::new();
    let mut fields_read = 0;
    while let Some(offset) = queue.pop() {
        // Offsets repeat in corrupt or hostile files: visit each IFD once, and at most
        // MAX_IFDS of them and MAX_FIELDS entries in all.
        if offset == 0 || !seen.insert(offset) || seen.len() > MAX_IFDS {
            continue;
        }
        let Some((fields, next)) = tiff.ifd(offset) else {
            continue;
        };
        fields_read += fields.len();
        if fields_read > MAX_FIELDS {
            break;
        }
        queue.push(next);
        for field in &fields {
            match field.tag {
                SUB_IFDS => queue.extend(tiff.longs(field).into_iter().map(|o| o as usize)),
                EXIF_IFD => queue.push(field.value as usize),
                _ => {}
            }
        }
        visit(&fields);
    }
}

/// JPEG candidates of every IFD reachable from the header, and IFD0's orientation.
fn tiff_previews(tiff: &Tiff) -> (Vec<Range<usize>>, Option<u16>) {
    let mut candidates = Vec::new();
    visit_ifds(tiff, |fields| {
        let get = |tag| fields.iter().find(|f| f.tag == tag);
        candidates.extend(fields.iter().filter_map(|f| tiff.jpeg_bytes(f)));
        let pointed = |offset_tag, length_tag| {
            let start = tiff.base + tiff.number(get(offset_tag)?)? as usize;
            let length = tiff.number(get(length_tag)?)? as usize;
            Some(start..start.checked_add(length)?)
        };
        candidates.extend(pointed(JPEG_OFFSET, JPEG_LENGTH));
        let jpeg_compressed = get(COMPRESSION)
            .and_then(|f| tiff.number(f))
            .is_some_and(|c| c == 6 || c == 7);
        let single_strip = get(STRIP_OFFSETS).is_some_and(|f| f.count == 1);
        if jpeg_compressed && single_strip {
            candidates.extend(pointed(STRIP_OFFSETS, STRIP_BYTE_COUNTS));
        }
    });
    (candidates, tiff.orientation())
}

/// What a DNG's sensor data IFD says, for the developer ([`crate::read::sensor`]): the
/// full-size CFA or linear image (not a reduced one), the largest if several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DngSensor {
    /// Uncompressed 16-bit samples in a big-endian file: big-endian, as the file is;
    /// rawloader reads them little-endian, so they are swapped back.
    pub big_endian_16_bit: bool,
    /// Whether every strip or tile lies inside the file, and uncompressed data is as
    /// long as its size says (a file cut short is reported, never read past its end).
    pub within_file: bool,
}

/// The sensor data of `bytes` if it is a DNG (`None`: not a DNG, or no sensor data).
pub fn dng_sensor(bytes: &[u8]) -> Option<DngSensor> {
    let tiff = Tiff::new(bytes, 0)?;
    let (mut dng, mut best) = (false, None::<(u64, DngSensor)>);
    visit_ifds(&tiff, |fields| {
        let field = |tag| fields.iter().find(|f| f.tag == tag);
        let number = |tag| field(tag).and_then(|f| tiff.number(f)).map(u64::from);
        dng |= field(DNG_VERSION).is_some();
        let full_size = number(NEW_SUBFILE_TYPE).is_none_or(|t| t & 1 == 0);
        let sensor = matches!(number(PHOTOMETRIC), Some(32803 | 34892));
        let (Some(width), Some(height)) = (number(IMAGE_WIDTH), number(IMAGE_LENGTH)) else {
            return;
        };
        if !full_size || !sensor || best.is_some_and(|(pixels, _)| pixels >= width * height) {
            return;
        }
        let compression = number(COMPRESSION).unwrap_or(1);
        let bits = number(BITS_PER_SAMPLE).unwrap_or(16);
        // Saturating: the tags are the file's, and 2^32 x 2^32 x 2^32 overflows.
        let samples = (width * height).saturating_mul(number(SAMPLES_PER_PIXEL).unwrap_or(1));
        let (offsets, counts) = match field(TILE_OFFSETS) {
            Some(tiles) => (Some(tiles), field(TILE_BYTE_COUNTS)),
            None => (field(STRIP_OFFSETS), field(STRIP_BYTE_COUNTS)),
        };
        let offsets = offsets.map(|f| tiff.numbers(f)).unwrap_or_default();
        let counts = counts.map(|f| tiff.numbers(f)).unwrap_or_default();
        let parts_fit = !offsets.is_empty()
            && offsets.len() == counts.len()
            && offsets.iter().zip(&counts).all(|(&o, &c)| {
                (o as usize)
                    .checked_add(c as usize)
                    .is_some_and(|end| end <= bytes.len())
            });
        let data_fits = compression != 1
            || offsets.len() != 1
            || (offsets[0] as u64).saturating_add(samples.saturating_mul(bits) / 8)
                <= bytes.len() as u64;
        let found = DngSensor {
            big_endian_16_bit: !tiff.little && compression == 1 && bits == 16,
            within_file: parts_fit && data_fits,
        };
        best = Some((width * height, found));
    });
    best.filter(|_| dng).map(|(_, sensor)| sensor)
}

/// The JPEG a Fujifilm RAF header points at (big-endian offset and length at 84).
fn raf_previews(bytes: &[u8]) -> Result<Vec<Range<usize>>, String> {
    let be = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    let (offset, length) = be(84).zip(be(88)).ok_or("truncated RAF header")?;
    let start = offset as usize;
    let preview = start..start.saturating_add(length as usize);
    Ok(Vec::from([preview]))
}

/// The JPEG in a Canon CR3's `PRVW` box, and the orientation of its `CMT1` block.
fn cr3_previews(bytes: &[u8]) -> Result<(Vec<Range<usize>>, Option<u16>), String> {
    const PREVIEW_UUID: [u8; 16] = [
        0xea, 0xf4, 0x2b, 0x5e, 0x1c, 0x98, 0x4b, 0x88, 0xb9, 0xfb, 0xb7, 0xdc, 0x40, 0x6e, 0x4d,
        0x16,
    ];
    let mut previews = Vec::new();
    let mut orientation = None;
    let mut stack = vec![(0usize, bytes.len())];
    while let Some((start, end)) = stack.pop() {
        for (kind, body) in boxes(bytes, start, end) {
            match &kind {
                b"moov" => stack.push((body.start, body.end)),
                b"uuid" => {
                    // 16 bytes of UUID, then (for the preview box) 8 more, then boxes.
                    let uuid = bytes.get(body.start..body.start + 16);
                    let skip = if uuid == Some(&PREVIEW_UUID[..]) {
                        24
                    } else {
                        16
                    };
                    stack.push((body.start + skip, body.end));
                }
                b"PRVW" => {
                    // 4 unknown, width, height (u16 BE), 2 unknown, JPEG length (u32 BE).
                    let jpeg = body.start + 14;
                    if let Some(b) = bytes.get(jpeg - 4..jpeg)
                        && let Ok(b) = <[u8; 4]>::try_from(b)
                    {
                        let length = u32::from_be_bytes(b) as usize;
                        previews.push(jpeg..jpeg.saturating_add(length).min(body.end));
                    }
                }
                b"CMT1" => orientation = Tiff::new(bytes, body.start).and_then(|t| t.orientation()),
                _ => {}
            }
        }
    }
    if previews.is_empty() && orientation.is_none() {
        return Err("an ISO-BMFF file without Canon CR3 boxes".into());
    }
    Ok((previews, orientation))
}

/// The boxes `(type, body)` of an ISO-BMFF region.
fn boxes(bytes: &[u8], start: usize, end: usize) -> Vec<([u8; 4], Range<usize>)> {
    let mut out = Vec::new();
    let mut at = start;
    let be32 = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    while at + 8 <= end.min(bytes.len()) {
        let Some(size) = be32(at) else { break };
        let Some(kind) = bytes.get(at + 4..at + 8).and_then(|b| b.try_into().ok()) else {
            break;
        };
        let (header, size) = match size {
            0 => (8, end - at),
            1 => {
                let Some(large) = bytes
                    .get(at + 8..at + 16)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_be_bytes)
                else {
                    break;
                };
                (16, usize::try_from(large).unwrap_or(usize::MAX))
            }
            n => (8, n as usize),
        };
        if size < header || at.saturating_add(size) > end {
            break;
        }
        out.push((kind, at + header..at + size));
        at += size;
    }
    out
}

/// Width and height from a JPEG's frame header, if it is a baseline, extended or
/// progressive JPEG (not lossless: DNG and CR2 keep their sensor data as lossless JPEG).
pub fn jpeg_size(jpeg: &[u8]) -> Option<(u32, u32)> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    while at + 4 <= jpeg.len() {
        if jpeg[at] != 0xFF {
            return None;
        }
        let marker = jpeg[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        match marker {
            0xC0..=0xC2 => {
                let frame = jpeg.get(at + 4..at + 9)?;
                let height = u32::from(u16::from_be_bytes([frame[1], frame[2]]));
                let width = u32::from(u16::from_be_bytes([frame[3], frame[4]]));
                return (width > 0 && height > 0).then_some((width, height));
            }
            // Lossless, hierarchical or arithmetic-coded: not a preview we decode.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            // Start of scan before any frame header: not a JPEG we understand.
            0xDA => return None,
            _ => at += 2 + length,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal JPEG frame header of `width` x `height` (enough for `jpeg_size`).
    fn jpeg_header(width: u16, height: u16, sof: u8) -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, sof, 0, 11, 8];
        j.extend_from_slice(&height.to_be_bytes());
        j.extend_from_slice(&width.to_be_bytes());
        j.extend_from_slice(&[1, 1, 0x11, 0]);
        j.resize(2048, 0);
        j
    }

    #[test]
    fn reads_frame_sizes_and_refuses_lossless() {
        assert_eq!(jpeg_size(&jpeg_header(640, 480, 0xC0)), Some((640, 480)));
        assert_eq!(jpeg_size(&jpeg_header(640, 480, 0xC2)), Some((640, 480)));
        assert_eq!(jpeg_size(&jpeg_header(640, 480, 0xC3)), None);
        assert_eq!(jpeg_size(b"not a jpeg"), None);
    }

    #[test]
    fn hostile_files_are_errors_not_crashes() {
        for bytes in [
            &b""[..],
            b"II*\0\xff\xff\xff\xff",
            b"MM\0*\0\0\0\x08\xff\xff",
            b"FUJIFILMCCD-RAW 0201",
            b"\0\0\0\x08ftypcrx \0\0\0\x01ftyp",
        ] {
            assert!(largest_preview(bytes).is_err());
        }
        // Issue 25: thousands of pointers to one preview, behind which a frame header
        // comes only after 200,000 segments, and IFDs chained with 65,535 entries each:
        // bounded work (each preview measured once, the walk capped).
        let mut jpeg = vec![0xFF, 0xD8];
        for _ in 0..200_000 {
            jpeg.extend_from_slice(&[0xFF, 0xFE, 0, 2]);
        }
        jpeg.extend_from_slice(&jpeg_header(1024, 768, 0xC0)[2..]);
        let entries = 65_535u16;
        let ifd_bytes = 2 + 12 * usize::from(entries) + 4;
        let ifds = 8;
        let jpeg_at = 8 + ifds * ifd_bytes;
        let mut crafted = b"II*\0\x08\0\0\0".to_vec();
        for i in 0..ifds {
            crafted.extend_from_slice(&entries.to_le_bytes());
            for _ in 0..entries {
                crafted.extend_from_slice(&0x9999u16.to_le_bytes());
                crafted.extend_from_slice(&7u16.to_le_bytes());
                crafted.extend_from_slice(&(jpeg.len() as u32).to_le_bytes());
                crafted.extend_from_slice(&(jpeg_at as u32).to_le_bytes());
            }
            let next = if i + 1 < ifds {
                8 + (i + 1) * ifd_bytes
            } else {
                0
            };
            crafted.extend_from_slice(&(next as u32).to_le_bytes());
        }
        crafted.extend_from_slice(&jpeg);
        let started = std::time::Instant::now();
        let preview = largest_preview(&crafted).unwrap();
        assert_eq!((preview.width, preview.height), (1024, 768));
        assert!(
            started.elapsed().as_secs_f64() < 1.0,
            "{:?}",
            started.elapsed()
        );

        // An IFD that points at itself is visited once.
        let mut looped = b"II*\0\x08\0\0\0\x01\0".to_vec();
        looped.extend_from_slice(&SUB_IFDS.to_le_bytes());
        looped.extend_from_slice(&4u16.to_le_bytes());
        looped.extend_from_slice(&1u32.to_le_bytes());
        looped.extend_from_slice(&8u32.to_le_bytes());
        looped.extend_from_slice(&8u32.to_le_bytes());
        assert!(largest_preview(&looped).is_err());
    }
}
