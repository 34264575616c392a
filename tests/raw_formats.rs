//! Camera RAW files are read from their largest embedded JPEG preview, turned by the
//! RAW's own orientation. No real camera file can be downloaded here, so each container
//! is built below following its real structure (TIFF IFDs with SubIFDs, preview
//! pointers, single-strip JPEG images and lossless-JPEG raw data; Panasonic's
//! `JpgFromRaw` tag; the Fujifilm RAF header; Canon CR3's ISO-BMFF boxes), around a
//! real photo. What is proven: the right preview is chosen (not the thumbnail, not the
//! lossless raw data), turned by the RAW's orientation, and described exactly as the
//! same JPEG; and a RAW without a big enough preview is reported, never skipped.

mod common;

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat, RgbImage};
use lookalike::imaging::{self, DEFAULT_MAX_PIXELS};

/// A real photo (neardup-dev `o020.jpg`, 224 px) enlarged to `width` px wide, as JPEG.
fn preview_jpeg(shared: &Path, width: u32) -> Vec<u8> {
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
fn lossless_jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8, 0xFF, 0xC3, 0, 11, 16];
    j.extend_from_slice(&height.to_be_bytes());
    j.extend_from_slice(&width.to_be_bytes());
    j.extend_from_slice(&[1, 1, 0x11, 0]);
    j.resize(4096, 0x55);
    j
}

/// One IFD entry: a number, bytes stored elsewhere, or a pointer to another IFD.
enum Value {
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
fn tiff(magic: &[u8; 4], ifds: Vec<Vec<(u16, Value)>>) -> Vec<u8> {
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

const ORIENTATION: u16 = 0x0112;
const NEW_SUBFILE_TYPE: u16 = 0x00FE;
const COMPRESSION: u16 = 0x0103;
const STRIP_OFFSETS: u16 = 0x0111;
const STRIP_BYTE_COUNTS: u16 = 0x0117;
const SUB_IFDS: u16 = 0x014A;
const JPEG_OFFSET: u16 = 0x0201;
const JPEG_LENGTH: u16 = 0x0202;

/// DNG / CR2 / NEF / NRW / ARW / SR2 / SRF / PEF / SRW layout: IFD0 holds a small
/// thumbnail (JPEG pointer), a SubIFD the big preview as a single JPEG strip, another
/// SubIFD-like IFD the sensor data as lossless JPEG; orientation in IFD0.
fn tiff_raw(magic: &[u8; 4], preview: &[u8], thumb: &[u8], orientation: u16) -> Vec<u8> {
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
fn rw2(preview: &[u8], orientation: u16) -> Vec<u8> {
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
fn raf(preview: &[u8]) -> Vec<u8> {
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
fn bmff(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// Canon CR3: `ftyp crx `, `moov` with Canon's `uuid` box holding `CMT1` (a TIFF IFD0
/// with the orientation) and `THMB`, then the preview `uuid` box holding `PRVW`.
fn cr3(preview: &[u8], thumb: &[u8], orientation: u16) -> Vec<u8> {
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

/// The preview as the RAW must show it: decoded and turned by `orientation`.
fn expected(preview: &[u8], orientation: u16) -> RgbImage {
    let mut image = image::load_from_memory(preview).unwrap();
    image.apply_orientation(image::metadata::Orientation::from_exif(orientation as u8).unwrap());
    image.to_rgb8()
}

#[test]
fn every_raw_type_is_read_from_its_largest_preview_turned_by_its_orientation() {
    let Some(shared) = common::shared() else {
        return;
    };
    let preview = preview_jpeg(&shared, 1024);
    let thumb = preview_jpeg(&shared, 160);
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (ext, magic) in [
        ("dng", b"II*\0"),
        ("cr2", b"II*\0"),
        ("nef", b"MM\0*"),
        ("nrw", b"II*\0"),
        ("arw", b"II*\0"),
        ("sr2", b"II*\0"),
        ("srf", b"II*\0"),
        ("pef", b"II*\0"),
        ("srw", b"II*\0"),
        ("orf", b"IIRO"),
    ] {
        // The builder writes little-endian; a big-endian NEF is written as such below.
        let bytes = if magic == b"MM\0*" {
            big_endian_nef(&preview, &thumb)
        } else {
            tiff_raw(magic, &preview, &thumb, 6)
        };
        files.push((format!("photo.{ext}"), bytes, 6));
    }
    files.push(("photo.rw2".into(), rw2(&preview, 8), 8));
    files.push(("photo.raf".into(), raf(&preview), 1));
    files.push(("photo.cr3".into(), cr3(&preview, &thumb, 3), 3));
    for (name, bytes, orientation) in files {
        let path = tmp.path().join(&name);
        std::fs::write(&path, bytes).unwrap();
        let decoded = imaging::decode_file(&path, DEFAULT_MAX_PIXELS)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = expected(&preview, orientation);
        assert_eq!(decoded.dimensions(), want.dimensions(), "{name}");
        assert!(decoded == want, "{name}: not the preview, turned");
    }
}

/// A NEF-like big-endian TIFF: IFD0 points at the preview with the JPEG pointer tags,
/// orientation 6.
fn big_endian_nef(preview: &[u8], thumb: &[u8]) -> Vec<u8> {
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

#[test]
fn a_raw_without_a_big_enough_preview_is_reported_with_its_reason() {
    let Some(shared) = common::shared() else {
        return;
    };
    let thumb = preview_jpeg(&shared, 160);
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small.dng");
    std::fs::write(&small, tiff_raw(b"II*\0", &thumb, &thumb, 1)).unwrap();
    let message = imaging::decode_file(&small, DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(message.contains("small.dng"), "{message}");
    assert!(message.contains("160 x 106"), "{message}");
    let none = tmp.path().join("none.nef");
    std::fs::write(
        &none,
        tiff(b"II*\0", vec![vec![(ORIENTATION, Value::Short(1))]]),
    )
    .unwrap();
    let message = imaging::decode_file(&none, DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(message.contains("no embedded JPEG preview"), "{message}");
    // A Sigma X3F is listed and reported, never skipped in silence.
    let x3f = tmp.path().join("sigma.X3F");
    std::fs::write(&x3f, b"FOVb").unwrap();
    let message = imaging::decode_file(&x3f, DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(message.contains("sigma.X3F"), "{message}");
    assert!(message.contains("not built in"), "{message}");
}

/// End to end: a folder of every RAW type and the JPEG they were made from is indexed
/// (nothing fails), and a search with the JPEG finds every RAW as the same photo.
#[test]
fn raw_files_are_indexed_and_found_by_their_jpeg() {
    let Some(shared) = common::shared() else {
        return;
    };
    let model = common::shared_model(&shared);
    let preview = preview_jpeg(&shared, 1024);
    let thumb = preview_jpeg(&shared, 160);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("library");
    common::neardup_library(&shared, &dir, |n| n.starts_with("o021"), 10);
    std::fs::write(dir.join("IMG_0001.JPG"), &preview).unwrap();
    for ext in ["dng", "cr2", "nef", "arw", "pef", "srw", "orf"] {
        std::fs::write(
            dir.join(format!("IMG_0001.{ext}")),
            tiff_raw(b"II*\0", &preview, &thumb, 1),
        )
        .unwrap();
    }
    std::fs::write(dir.join("IMG_0001.RW2"), rw2(&preview, 1)).unwrap();
    std::fs::write(dir.join("IMG_0001.RAF"), raf(&preview)).unwrap();
    std::fs::write(dir.join("IMG_0001.CR3"), cr3(&preview, &thumb, 1)).unwrap();
    let index = tmp.path().join("i.lkidx");
    let (code, summary, stderr) = common::index_json(&model, &dir, &index, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["failed"].as_array().unwrap().len(), 0, "{summary}");
    let query = dir.join("IMG_0001.JPG");
    let (code, json, stderr) = common::search_json(&model, &index, &query, &["--top", "11"]);
    assert_eq!(code, Some(0), "{stderr}");
    let results = json["results"].as_array().unwrap();
    for result in results {
        let path = result["path"].as_str().unwrap();
        assert!(path.contains("IMG_0001."), "{json}");
        // The same pixels: the same descriptor, far inside any duplicate threshold.
        assert!(result["distance"].as_f64().unwrap() < 1e-4, "{result}");
    }

    // Duplicates: a RAW is the keeper, and the camera's JPEG beside it is never
    // proposed for removal unless asked ("keep RAW, remove the JPEG copies").
    for (flag, jpeg_goes) in [(None, false), (Some("--remove-raw-jpegs"), true)] {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "dupes".as_ref(),
            "--json".as_ref(),
            "--threshold".as_ref(),
            "0.05".as_ref(),
            "--index".as_ref(),
            index.as_os_str(),
            "--trash".as_ref(),
            "--dry-run".as_ref(),
        ];
        args.extend(flag.map(std::ffi::OsStr::new));
        let (code, json, stderr) = common::lookalike_with_env(&args, &[]);
        assert_eq!(code, Some(0), "{stderr}");
        let group = json["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["files"].as_array().unwrap().len() == 11)
            .unwrap_or_else(|| panic!("no group of the 11 copies: {json}"));
        let keeper = group["keeper"].as_str().unwrap();
        assert!(lookalike::raw::is_raw(Path::new(keeper)), "{keeper}");
        let moved: Vec<&str> = json["actions"]["report"]["moved"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["from"].as_str().unwrap())
            .collect();
        let jpeg_moved = moved.iter().any(|p| p.ends_with("IMG_0001.JPG"));
        assert_eq!(jpeg_moved, jpeg_goes, "{flag:?}: {moved:?}");
        assert!(!moved.contains(&keeper));
    }
}
