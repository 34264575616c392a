//! RAW files with no usable preview (phone DNGs, some converters' DNGs) are developed
//! from their sensor data, so every RAW of a library is searchable (issue 27). The DNGs
//! are built as phones and Adobe's converter lay them out (`common::dng`), 12- and
//! 14-bit, RGGB and BGGR, uncompressed, packed and lossless-JPEG tiled, little- and
//! big-endian, around a real photo: developed, each must show that photo (size,
//! orientation, colours), and a search with the photo must find every one.

use crate::common;

use common::dng::{Layout, RGGB, Storage, dng};
use image::RgbImage;
use lookalike_core::read::imaging::{self, DEFAULT_MAX_PIXELS};

/// A real photo (distinct-dev's `Kleiber`, a bird on a branch) at this size.
fn photo(shared: &std::path::Path, width: u32, height: u32) -> RgbImage {
    let path = shared.join("data/distinct-dev/Kleiber_by_Lukas_Baubkus.jpg");
    let photo = image::open(path).unwrap().to_rgb8();
    image::imageops::resize(&photo, width, height, image::imageops::FilterType::Triangle)
}

/// The DNGs of the test: name, layout, and the photo's size in it.
fn layouts() -> Vec<(&'static str, Layout, (u32, u32))> {
    let phone = Layout::PHONE;
    vec![
        ("phone.dng", phone, (960, 640)),
        (
            // Adobe's converter: thumbnail in IFD0, 14-bit lossless-JPEG tiles, masked
            // margins; big enough to be developed at half size.
            "converter.dng",
            Layout {
                cfa: RGGB,
                bits: 14,
                storage: Storage::LosslessTiles(256),
                margin: 8,
                black: 512,
                orientation: 1,
                thumbnail: true,
                ..phone
            },
            (2544, 1776),
        ),
        (
            "packed.DNG",
            Layout {
                big_endian: true,
                cfa: RGGB,
                storage: Storage::Packed12,
                black: 128,
                orientation: 1,
                ..phone
            },
            (960, 640),
        ),
        (
            "bigendian.dng",
            Layout {
                big_endian: true,
                bits: 14,
                margin: 2,
                orientation: 1,
                ..phone
            },
            (960, 640),
        ),
    ]
}

/// Mean absolute difference per channel (0 to 255) between two images of one size.
fn mean_difference(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

#[cfg(feature = "raw-sensor")]
#[test]
fn raw_files_without_a_preview_are_developed_from_their_sensor_data() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("library");
    common::neardup_library(&shared, &library, |_| false, 3);
    for (name, layout, (width, height)) in layouts() {
        let original = photo(&shared, width, height);
        let path = library.join(name);
        std::fs::write(&path, dng(&original, &layout)).unwrap();
        let developed = imaging::decode_file(&path, DEFAULT_MAX_PIXELS)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let half = width.max(height) / 2 >= 1024;
        let want = if half {
            (width / 2, height / 2)
        } else {
            (width, height)
        };
        assert_eq!(developed.dimensions(), want, "{name}: {layout:?}");
        let seen = image::imageops::resize(
            &original,
            want.0,
            want.1,
            image::imageops::FilterType::Triangle,
        );
        let difference = mean_difference(&developed, &seen);
        eprintln!("{name}: mean difference {difference:.2} of 255");
        assert!(
            difference < 6.0,
            "{name}: {difference} from the photo ({layout:?})"
        );
    }
    // End to end: indexed with nothing failed, and the photo (as a camera JPEG) finds
    // every DNG before any other photo.
    let query = tmp.path().join("IMG_0001.JPG");
    photo(&shared, 960, 640).save(&query).unwrap();
    let model = common::shared_model(&shared);
    let index = tmp.path().join("library.lkidx");
    // Upright only: reading the DNGs is what is tested, not the turned views.
    let (code, summary, stderr) = common::index_json(&model, &library, &index, &["--no-variants"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["failed"].as_array().unwrap().len(), 0, "{summary}");
    let (code, json, stderr) = common::search_json(&model, &index, &query, &["--top", "4"]);
    assert_eq!(code, Some(0), "{stderr}");
    for result in json["results"].as_array().unwrap() {
        let path = result["path"].as_str().unwrap().to_ascii_lowercase();
        assert!(path.ends_with(".dng"), "{json}");
        assert!(result["distance"].as_f64().unwrap() < 0.3, "{result}");
    }

    // A DNG cut short is reported as such, by name, never read past its end.
    let bytes = std::fs::read(library.join("phone.dng")).unwrap();
    let cut = tmp.path().join("cut.dng");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let message = imaging::decode_file(&cut, DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("cut.dng") && message.contains("past the end"),
        "{message}"
    );
    // Cut inside its tags' values: rawloader panics, and the message says so in words.
    std::fs::write(&cut, &bytes[..400]).unwrap();
    let message = imaging::decode_file(&cut, DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("cut.dng") && message.contains("damaged"),
        "{message}"
    );

    // A DNG bigger than the pixel limit is refused from its tags, before any decoding.
    let (_, layout, (width, height)) = layouts().remove(0);
    let path = tmp.path().join("big.dng");
    std::fs::write(&path, dng(&photo(&shared, width, height), &layout)).unwrap();
    let message = imaging::decode_file(&path, 500_000)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("big.dng") && message.contains("pixels"),
        "{message}"
    );
}

/// Without the feature (an LGPL-free build), such a RAW is reported with why and what
/// build reads it, never skipped.
#[cfg(not(feature = "raw-sensor"))]
#[test]
fn raw_files_without_a_preview_name_the_build_that_reads_them() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (name, layout, (width, height)) = layouts().remove(0);
    let path = tmp.path().join(name);
    std::fs::write(&path, dng(&photo(&shared, width, height), &layout)).unwrap();
    let message = imaging::decode_file(&path, DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains(name) && message.contains("raw-sensor"),
        "{message}"
    );
}
