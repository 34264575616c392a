//! Corrupt, truncated, empty, non-image and oversized files: each fails with an error
//! that names the file, nothing panics, and the CLI describes the good files anyway.

use crate::common;

use std::path::{Path, PathBuf};

use image::{ImageFormat, Rgb, RgbImage};
use lookalike_core::Error;
use lookalike_core::read::imaging::{self, LoadOptions};

/// A small valid photo-like PNG.
fn good_png() -> Vec<u8> {
    let img = RgbImage::from_fn(64, 48, |x, y| Rgb([(x * 4) as u8, (y * 5) as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// CRC-32 (IEEE), for patching a PNG chunk.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid PNG whose header claims 60000 x 60000 pixels (a decompression bomb).
fn bomb_png() -> Vec<u8> {
    let mut png = good_png();
    // Signature (8) + length (4) + "IHDR" (4): width and height follow.
    png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// Writes the bad files (and one good one) into `dir`.
fn bad_files(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let good = good_png();
    let files: Vec<(&str, Vec<u8>, &'static str)> = vec![
        ("empty.jpg", Vec::new(), "empty file"),
        (
            "notes.jpg",
            b"shopping list: milk, eggs".to_vec(),
            "not an image",
        ),
        (
            "corrupt.jpg",
            [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[0x42; 300][..]].concat(),
            "cannot decode",
        ),
        (
            "truncated.png",
            good[..good.len() / 2].to_vec(),
            "cannot decode",
        ),
        ("bomb.png", bomb_png(), "megapixels"),
        (
            "tiny.png",
            {
                let mut out = std::io::Cursor::new(Vec::new());
                RgbImage::new(8, 8)
                    .write_to(&mut out, ImageFormat::Png)
                    .unwrap();
                out.into_inner()
            },
            "smaller than",
        ),
    ];
    files
        .into_iter()
        .map(|(name, bytes, why)| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            (path, why)
        })
        .collect()
}

#[test]
fn every_bad_file_fails_with_its_path_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (path, why) in bad_files(dir.path()) {
        let error = imaging::load(&path, &LoadOptions::default()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains(why), "{}: {message}", path.display());
    }
    let missing = dir.path().join("missing.png");
    let error = imaging::load(&missing, &LoadOptions::default()).unwrap_err();
    assert!(matches!(error, Error::Io { .. }) && error.to_string().contains("missing.png"));
}

#[test]
fn pixel_limit_is_checked_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.png");
    std::fs::write(&path, good_png()).unwrap();
    let strict = LoadOptions {
        max_pixels: 1000,
        ..LoadOptions::default()
    };
    let error = imaging::load(&path, &strict).unwrap_err();
    assert!(
        matches!(
            error,
            Error::TooManyPixels {
                width: 64,
                height: 48,
                ..
            }
        ),
        "{error}"
    );
    assert!(imaging::load(&path, &LoadOptions::default()).is_ok());
}

#[test]
fn wrong_extension_is_sniffed_from_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("really_a_png.jpg");
    std::fs::write(&path, good_png()).unwrap();
    let loaded = imaging::load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(loaded.rgb.dimensions(), (64, 48));
}

fn describe_json(model: &Path, files: &[PathBuf]) -> (Option<i32>, serde_json::Value, String) {
    let mut args: Vec<std::ffi::OsString> = ["describe", "--json", "--backend", "cpu", "--model"]
        .iter()
        .map(Into::into)
        .collect();
    args.push(model.into());
    args.extend(files.iter().map(Into::into));
    common::lookalike_json(args)
}

#[test]
fn cli_reports_each_bad_file_and_exits_by_outcome() {
    let Some(shared) = common::shared() else {
        return;
    };
    let model = common::shared_model(&shared);
    let dir = tempfile::tempdir().unwrap();
    let bad: Vec<PathBuf> = bad_files(dir.path()).into_iter().map(|(p, _)| p).collect();
    let good = dir.path().join("good.png");
    std::fs::write(&good, good_png()).unwrap();

    let mut files = bad.clone();
    files.insert(2, good.clone());
    let (code, json, stderr) = describe_json(&model, &files);
    assert_eq!(code, Some(0), "one image succeeded; stderr: {stderr}");
    let records = json.as_array().unwrap();
    assert_eq!(records.len(), files.len());
    for (record, path) in records.iter().zip(&files) {
        assert_eq!(record["path"].as_str().unwrap(), path.to_str().unwrap());
        if path == &good {
            assert_eq!(record["descriptor"].as_array().unwrap().len(), 512);
            assert_eq!(record["feature_map"], serde_json::json!([3, 4]));
        } else {
            let error = record["error"].as_str().unwrap();
            assert!(error.contains(path.to_str().unwrap()), "{error}");
        }
    }

    let (code, json, stderr) = describe_json(&model, &bad);
    assert_eq!(code, Some(1), "every image failed; stderr: {stderr}");
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .all(|r| r["error"].is_string())
    );
}

/// Issue 25: a JPEG cut short (a failed copy) or whose tail was never written (zeros,
/// a card pulled too early) still decodes, so it is indexed and searchable, but
/// `index --json` names it damaged (not failed: the run succeeds), the index records
/// it, and a whole JPEG, with or without data after its end, is not marked.
#[test]
fn a_cut_short_jpeg_is_indexed_and_named_damaged() {
    let Some(shared) = common::shared() else {
        return;
    };
    let model = common::shared_model(&shared);
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("card");
    let names = common::neardup_library(&shared, &library, |n| n.len() == 8 && n < "o003", 0);
    let [first, second, third, ..] = &names[..] else {
        panic!("three originals in neardup-dev: {names:?}");
    };
    let whole = std::fs::read(library.join(first)).unwrap();
    std::fs::write(library.join("cut.jpg"), &whole[..whole.len() * 3 / 5]).unwrap();
    let mut never_written = std::fs::read(library.join(second)).unwrap();
    let half = never_written.len() / 2;
    never_written[half..].fill(0);
    std::fs::write(library.join("zeros.jpg"), never_written).unwrap();
    let mut trailer = std::fs::read(library.join(third)).unwrap();
    trailer.extend_from_slice(b"\0\0\0\x18ftypmp42: a motion photo's video");
    std::fs::write(library.join(third), trailer).unwrap();

    let index = dir.path().join("card.lkidx");
    let (code, json, stderr) = common::index_json(
        &model,
        &library,
        &index,
        &["--max-side", "224", "--no-variants"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json["failed"], serde_json::json!([]), "{json}");
    let damaged: Vec<(String, String)> = json["damaged"]
        .as_array()
        .unwrap_or_else(|| panic!("no damaged list: {json}"))
        .iter()
        .map(|d| {
            assert_eq!(d["kind"], "damaged", "{d}");
            let path = d["path"].as_str().unwrap();
            let name = Path::new(path).file_name().unwrap().to_string_lossy();
            (name.into_owned(), d["reason"].as_str().unwrap().to_owned())
        })
        .collect();
    let damaged_names: Vec<&str> = damaged.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(damaged_names, ["cut.jpg", "zeros.jpg"], "{json}");
    assert!(damaged[0].1.starts_with("cut short"), "{damaged:?}");
    assert!(damaged[1].1.contains("are zeros"), "{damaged:?}");
    assert!(
        stderr.contains("damaged (indexed, searchable):"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{} images (2 damaged)", names.len() + 2)),
        "{stderr}"
    );

    let index = lookalike_core::index::Index::load(&index).unwrap();
    let entry = |name: &str| index.entries.iter().find(|e| e.path == name).unwrap();
    assert!(matches!(
        entry("cut.jpg").damage,
        Some(lookalike_core::read::Damage::CutShort { zeros: 0 })
    ));
    assert!(matches!(
        entry("zeros.jpg").damage,
        Some(lookalike_core::read::Damage::CutShort { zeros }) if zeros > 1000
    ));
    assert_eq!(entry(first).damage, None);
    assert_eq!(entry(third).damage, None);
}
