//! Camera RAW files are read from their largest embedded JPEG preview, turned by the
//! RAW's own orientation. No real camera file can be downloaded here, so each container
//! is built below following its real structure (TIFF IFDs with SubIFDs, preview
//! pointers, single-strip JPEG images and lossless-JPEG raw data; Panasonic's
//! `JpgFromRaw` tag; the Fujifilm RAF header; Canon CR3's ISO-BMFF boxes), around a
//! real photo. What is proven: the right preview is chosen (not the thumbnail, not the
//! lossless raw data), turned by the RAW's orientation, and described exactly as the
//! same JPEG; and a RAW without a big enough preview is reported, never skipped.

use crate::common;

use std::path::Path;

use common::raw::*;
use image::RgbImage;
use lookalike_core::read::imaging::{self, DEFAULT_MAX_PIXELS};

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
    // Previews of 640 pixels (the smallest that is described is 512): eleven photos
    // described, at 40 % of the work of camera-sized 1,024-pixel previews.
    let preview = preview_jpeg(&shared, 640);
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
    // Upright only (here and in `dupes`): reading the RAWs and keeping one is what is
    // tested, not the turned views (half the indexing).
    let (code, summary, stderr) = common::index_json(&model, &dir, &index, &["--no-variants"]);
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
            "--no-variants".as_ref(),
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
        assert!(
            lookalike_core::read::raw::is_raw(Path::new(keeper)),
            "{keeper}"
        );
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
