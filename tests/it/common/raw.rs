//! Camera RAW files built to each container's real structure around a real photo
//! (no real camera file can be downloaded here): TIFF IFDs with SubIFDs, preview
//! pointers, single-strip JPEG images and lossless-JPEG raw data; Panasonic's
//! `JpgFromRaw` tag; the Fujifilm RAF header; Canon CR3's ISO-BMFF boxes.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat};

/// A real photo (neardup-dev `o020.jpg`, 224 px) enlarged to `width` px wide, as JPEG.
pub fn preview_jpeg(shared: &Path, width: u32) -> Vec<u8> {
    let photo = image::open(shared.join("data/neardup-dev/jpg/o020.jpg"))
        .unwrap()
        .to_rgb8();
    let height = width * 2 / 3;
    let big = image::imageops::resize(&photo, width, height, image::imageops::FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(big)
        .write_to(&mut out, ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

/// A frame header of a lossless JPEG (SOF3), as DNG and CR2 store sensor data.
pub fn lossless_jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8, 0xFF, 0xC3, 0, 11, 16];
    j.extend_from_slice(&height.to_be_bytes());
    j.extend_from_slice(&width.to_be_bytes());
    j.extend_from_slice(&[1, 1, 0x11, 0]);
    j.resize(4096, 0x55);
    j
}

/// One IFD entry: a number, bytes stored elsewhere, or a pointer to another IFD.
pub enum Value {
    Short(u16),
    Long(u32),
    /// Bytes stored after the IFDs (type UNDEFINED), pointed at by the entry.
    Bytes(Vec<u8>),
    /// The offset of these bytes (stored after the IFDs), as a LONG.
    OffsetOf(Vec<u8>),
    /// The length of the `OffsetOf` bytes of the same IFD, as a LONG.
    LengthOfPrevious,
    /// Offsets of other IFDs (by index), as LONGs.
    Ifds(Vec<usize>),
}

/// A little-endian TIFF file with header `magic` (`II*\0`, ORF's `IIRO`, RW2's
/// `IIU\0`) and these IFDs; IFD0 is the first.
pub fn tiff(magic: &[u8; 4], ifds: Vec<Vec<(u16, Value)>>) -> Vec<u8> {
    let ifd_size = |n: usize| 2 + 12 * n + 4;
    let mut ifd_at = Vec::new();
    let mut at = 8;
    for ifd in &ifds {
        ifd_at.push(at);
        at += ifd_size(ifd.len());
    }
    let mut blobs: Vec<u8> = Vec::new();
    let blobs_at = at;
    let mut out = magic.to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    for ifd in &ifds {
        out.extend_from_slice(&(ifd.len() as u16).to_le_bytes());
        let mut last_len = 0u32;
        for (tag, value) in ifd {
            let (kind, count, word) = match value {
                Value::Short(v) => (3u16, 1u32, u32::from(*v)),
                Value::Long(v) => (4, 1, *v),
                Value::Bytes(b) | Value::OffsetOf(b) => {
                    let offset = (blobs_at + blobs.len()) as u32;
                    blobs.extend_from_slice(b);
                    last_len = b.len() as u32;
                    match value {
                        Value::Bytes(_) => (7, b.len() as u32, offset),
                        _ => (4, 1, offset),
                    }
                }
                Value::LengthOfPrevious => (4, 1, last_len),
                Value::Ifds(list) => {
                    assert_eq!(list.len(), 1, "one SubIFD is enough here");
                    (13, 1, ifd_at[list[0]] as u32)
                }
            };
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    out.extend_from_slice(&blobs);
    out
}

pub const ORIENTATION: u16 = 0x0112;
pub const NEW_SUBFILE_TYPE: u16 = 0x00FE;
pub const COMPRESSION: u16 = 0x0103;
pub const STRIP_OFFSETS: u16 = 0x0111;
pub const STRIP_BYTE_COUNTS: u16 = 0x0117;
pub const SUB_IFDS: u16 = 0x014A;
pub const JPEG_OFFSET: u16 = 0x0201;
pub const JPEG_LENGTH: u16 = 0x0202;

/// DNG / CR2 / NEF / NRW / ARW / SR2 / SRF / PEF / SRW layout: IFD0 holds a small
/// thumbnail (JPEG pointer), a SubIFD the big preview as a single JPEG strip, another
/// SubIFD-like IFD the sensor data as lossless JPEG; orientation in IFD0.
pub fn tiff_raw(magic: &[u8; 4], preview: &[u8], thumb: &[u8], orientation: u16) -> Vec<u8> {
    tiff(
        magic,
        vec![
            vec![
                (NEW_SUBFILE_TYPE, Value::Long(1)),
                (ORIENTATION, Value::Short(orientation)),
                (SUB_IFDS, Value::Ifds(vec![1])),
                (JPEG_OFFSET, Value::OffsetOf(thumb.to_vec())),
                (JPEG_LENGTH, Value::LengthOfPrevious),
            ],
            vec![
                (NEW_SUBFILE_TYPE, Value::Long(1)),
                (COMPRESSION, Value::Short(7)),
                (STRIP_OFFSETS, Value::OffsetOf(preview.to_vec())),
                (STRIP_BYTE_COUNTS, Value::LengthOfPrevious),
                (SUB_IFDS, Value::Ifds(vec![2])),
            ],
            vec![
                (NEW_SUBFILE_TYPE, Value::Long(0)),
                (COMPRESSION, Value::Short(7)),
                (STRIP_OFFSETS, Value::OffsetOf(lossless_jpeg(6000, 4000))),
                (STRIP_BYTE_COUNTS, Value::LengthOfPrevious),
            ],
        ],
    )
}

/// Panasonic RW2: magic 0x55, the preview as the bytes of tag 0x002E (`JpgFromRaw`).
pub fn rw2(preview: &[u8], orientation: u16) -> Vec<u8> {
    tiff(
        b"IIU\0",
        vec![vec![
            (0x002E, Value::Bytes(preview.to_vec())),
            (ORIENTATION, Value::Short(orientation)),
        ]],
    )
}

/// Fujifilm RAF: a 160-byte header whose big-endian words at 84 and 88 give the
/// offset and length of a complete JPEG (which carries its own EXIF).
pub fn raf(preview: &[u8]) -> Vec<u8> {
    let mut out = b"FUJIFILMCCD-RAW 0201FF383501".to_vec();
    out.resize(84, 0);
    out.extend_from_slice(&160u32.to_be_bytes());
    out.extend_from_slice(&(preview.len() as u32).to_be_bytes());
    out.resize(160, 0);
    out.extend_from_slice(preview);
    out.extend_from_slice(&[0u8; 64]);
    out
}

/// An ISO-BMFF box.
pub fn bmff(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// Canon CR3: `ftyp crx `, `moov` with Canon's `uuid` box holding `CMT1` (a TIFF IFD0
/// with the orientation) and `THMB`, then the preview `uuid` box holding `PRVW`.
pub fn cr3(preview: &[u8], thumb: &[u8], orientation: u16) -> Vec<u8> {
    let canon_uuid = [
        0x85, 0xc0, 0xb6, 0x87, 0x82, 0x0f, 0x11, 0xe0, 0x81, 0x11, 0xf4, 0xce, 0x46, 0x2b, 0x6a,
        0x48,
    ];
    let preview_uuid = [
        0xea, 0xf4, 0x2b, 0x5e, 0x1c, 0x98, 0x4b, 0x88, 0xb9, 0xfb, 0xb7, 0xdc, 0x40, 0x6e, 0x4d,
        0x16,
    ];
    let cmt1 = tiff(
        b"II*\0",
        vec![vec![(ORIENTATION, Value::Short(orientation))]],
    );
    let mut thmb = vec![0u8; 4];
    thmb.extend_from_slice(&160u16.to_be_bytes());
    thmb.extend_from_slice(&120u16.to_be_bytes());
    thmb.extend_from_slice(&(thumb.len() as u32).to_be_bytes());
    thmb.extend_from_slice(&[0u8; 4]);
    thmb.extend_from_slice(thumb);
    let canon = [
        canon_uuid.as_slice(),
        &bmff(b"CMT1", &cmt1),
        &bmff(b"THMB", &thmb),
    ]
    .concat();
    let mut prvw = vec![0u8; 4];
    prvw.extend_from_slice(&1620u16.to_be_bytes());
    prvw.extend_from_slice(&1080u16.to_be_bytes());
    prvw.extend_from_slice(&[0u8; 2]);
    prvw.extend_from_slice(&(preview.len() as u32).to_be_bytes());
    prvw.extend_from_slice(preview);
    let preview_box = [preview_uuid.as_slice(), &[0u8; 8], &bmff(b"PRVW", &prvw)].concat();
    [
        bmff(b"ftyp", b"crx \0\0\0\x01crx isom"),
        bmff(b"moov", &bmff(b"uuid", &canon)),
        bmff(b"uuid", &preview_box),
        bmff(b"mdat", &lossless_jpeg(6000, 4000)),
    ]
    .concat()
}

/// A NEF-like big-endian TIFF: IFD0 points at the preview with the JPEG pointer tags,
/// orientation 6.
pub fn big_endian_nef(preview: &[u8], thumb: &[u8]) -> Vec<u8> {
    // Header (8) + IFD0 with 4 entries (2 + 48 + 4) = 62; the thumbnail, then the preview.
    let thumb_at = 62u32;
    let preview_at = thumb_at + thumb.len() as u32;
    let entry = |tag: u16, kind: u16, value: u32| {
        let mut e = tag.to_be_bytes().to_vec();
        e.extend_from_slice(&kind.to_be_bytes());
        e.extend_from_slice(&1u32.to_be_bytes());
        if kind == 3 {
            e.extend_from_slice(&(value as u16).to_be_bytes());
            e.extend_from_slice(&[0, 0]);
        } else {
            e.extend_from_slice(&value.to_be_bytes());
        }
        e
    };
    let mut out = b"MM\0*".to_vec();
    out.extend_from_slice(&8u32.to_be_bytes());
    out.extend_from_slice(&4u16.to_be_bytes());
    out.extend(entry(ORIENTATION, 3, 6));
    out.extend(entry(JPEG_OFFSET, 4, preview_at));
    out.extend(entry(JPEG_LENGTH, 4, preview.len() as u32));
    out.extend(entry(0x0103, 3, 6));
    out.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(out.len() as u32, thumb_at);
    out.extend_from_slice(thumb);
    out.extend_from_slice(preview);
    out
}
