//! Photos as cameras and phones write them: EXIF orientation applied before anything
//! else (crop boxes refer to the oriented image), 16-bit, grey and alpha images turned
//! into RGB8.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use lookalike_core::read::imaging::{self, CropBox, LoadOptions};

/// A 40 x 20 JPEG, left half red and right half blue, with an EXIF block saying
/// "rotate 90° clockwise to display" (orientation 6), as phones store portrait shots.
fn sideways_jpeg() -> Vec<u8> {
    let img = RgbImage::from_fn(40, 20, |x, _| {
        if x < 20 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    with_orientation_6(&img)
}

/// `img` as a JPEG with an EXIF block saying orientation 6.
fn with_orientation_6(img: &RgbImage) -> Vec<u8> {
    let mut jpeg = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img.clone())
        .write_to(&mut jpeg, ImageFormat::Jpeg)
        .unwrap();
    let jpeg = jpeg.into_inner();
    // TIFF header (little endian), one IFD entry: 0x0112 Orientation, SHORT, 1, value 6.
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&[6, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let payload = [b"Exif\0\0".as_slice(), &tiff].concat();
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn no_resize() -> LoadOptions {
    LoadOptions {
        max_side: None,
        ..LoadOptions::default()
    }
}

#[test]
fn exif_orientation_is_applied_before_cropping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portrait.jpg");
    std::fs::write(&path, sideways_jpeg()).unwrap();
    let loaded = imaging::load(&path, &no_resize()).unwrap();
    // Rotated 90° clockwise: 20 wide, 40 tall, red (the old left half) on top.
    assert_eq!((loaded.width, loaded.height), (20, 40));
    assert_eq!(loaded.rgb.dimensions(), (20, 40));
    let top = loaded.rgb.get_pixel(10, 5);
    let bottom = loaded.rgb.get_pixel(10, 35);
    assert!(top[0] > 200 && top[2] < 60, "top {top:?}");
    assert!(bottom[2] > 200 && bottom[0] < 60, "bottom {bottom:?}");
    // A box in displayed coordinates: the bottom half is blue.
    let options = LoadOptions {
        crop: Some(CropBox::new(0.0, 20.0, 20.0, 40.0).unwrap()),
        ..no_resize()
    };
    let crop = imaging::load(&path, &options).unwrap();
    assert_eq!(crop.rgb.dimensions(), (20, 20));
    assert!(crop.rgb.pixels().all(|p| p[2] > 150 && p[0] < 100));
}

#[test]
fn sixteen_bit_grey_and_alpha_become_rgb8() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, DynamicImage)> = vec![
        (
            "rgb16.png",
            DynamicImage::ImageRgb16(image::ImageBuffer::from_pixel(
                20,
                20,
                image::Rgb([65535u16, 32768, 0]),
            )),
        ),
        (
            "grey.png",
            DynamicImage::ImageLuma8(image::GrayImage::from_pixel(20, 20, image::Luma([77]))),
        ),
        (
            "alpha.png",
            DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
                20,
                20,
                image::Rgba([10, 20, 30, 128]),
            )),
        ),
    ];
    let expected = [[255, 128, 0], [77, 77, 77], [10, 20, 30]];
    for ((name, img), rgb) in cases.into_iter().zip(expected) {
        let path = dir.path().join(name);
        img.save(&path).unwrap();
        let loaded = imaging::load(&path, &no_resize()).unwrap();
        assert_eq!(loaded.rgb.get_pixel(3, 3).0, rgb, "{name}");
    }
}

/// A big JPEG is decoded at a reduced DCT scale and resized with the SIMD resizer: same
/// size, same orientation and (within JPEG noise) the same pixels as decoding it whole
/// and shrinking it; a thumbnail likewise.
#[test]
fn big_jpegs_are_decoded_at_the_size_needed() {
    let img = RgbImage::from_fn(3000, 2000, |x, y| {
        let v = |a: u32, p: u32| (128.0 + 100.0 * ((a as f32) / p as f32).sin()) as u8;
        Rgb([v(x, 97), v(y, 61), v(x + y, 153)])
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("camera.jpg");
    std::fs::write(&path, with_orientation_6(&img)).unwrap();
    let options = LoadOptions {
        max_side: Some(1024),
        ..LoadOptions::default()
    };
    let fast = imaging::load(&path, &options).unwrap();
    assert_eq!(
        (fast.width, fast.height),
        (2000, 3000),
        "oriented original size"
    );
    assert_eq!(fast.rgb.dimensions(), (683, 1024));
    let full = imaging::decode_file(&path, imaging::DEFAULT_MAX_PIXELS).unwrap();
    let slow = imaging::prepare(&path, &full, None, Some(1024)).unwrap();
    assert_eq!(slow.rgb.dimensions(), fast.rgb.dimensions());
    let diff: f64 = fast
        .rgb
        .as_raw()
        .iter()
        .zip(slow.rgb.as_raw())
        .map(|(a, b)| f64::from((i16::from(*a) - i16::from(*b)).abs()))
        .sum::<f64>()
        / fast.rgb.as_raw().len() as f64;
    assert!(diff < 2.0, "mean absolute difference {diff}");
    let (w, h, thumb) = imaging::decode_for_side(&path, imaging::DEFAULT_MAX_PIXELS, 256).unwrap();
    assert_eq!((w, h), (2000, 3000));
    // Decoded at 1/8 (250 x 375), oriented: at least 256 px, 1/64 of the pixels.
    assert_eq!(thumb.dimensions(), (250, 375));
}

/// A real photo (from `../shared`) enlarged to 1,600 px, or `None` where `../shared` is
/// absent.
fn real_photo_1600() -> Option<RgbImage> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/neardup-dev/jpg/d_ILSVRC2012_val_00002294.jpg");
    let Ok(photo) = image::open(&path) else {
        assert!(
            std::env::var_os("LOOKALIKE_REQUIRE_SHARED").is_none(),
            "{} is missing",
            path.display()
        );
        eprintln!("SKIPPED: {} is missing", path.display());
        return None;
    };
    Some(
        photo
            .resize_exact(1600, 1066, image::imageops::FilterType::Triangle)
            .to_rgb8(),
    )
}

/// Thumbnails of big JPEGs come from the DC coefficients alone (`core/src/read/jpeg_dc.rs`): in
/// every layout a camera or an editor writes, the result is what `jpeg-decoder` gives at
/// 1/8 (the same arithmetic, so within one level where chroma is not subsampled; where
/// it is, chroma is repeated instead of interpolated), and the layouts it does not read
/// (progressive) still decode through the full decoder.
#[test]
fn thumbnails_of_every_jpeg_layout_match_the_full_decoder_at_one_eighth() {
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
    let Some(photo) = real_photo_1600() else {
        return;
    };
    let grey = DynamicImage::ImageRgb8(photo.clone()).to_luma8();
    let dir = tempfile::tempdir().unwrap();
    let layouts: [(&str, SamplingFactor, u16, bool, bool); 8] = [
        ("4:4:4", SamplingFactor::R_4_4_4, 0, false, false),
        ("4:2:2", SamplingFactor::R_4_2_2, 0, false, false),
        ("4:2:0", SamplingFactor::R_4_2_0, 0, false, false),
        ("4:1:1", SamplingFactor::R_4_1_1, 0, false, false),
        (
            "4:2:0, restart every MCU",
            SamplingFactor::R_4_2_0,
            1,
            false,
            false,
        ),
        (
            "4:2:2, restart every 7 MCUs",
            SamplingFactor::R_4_2_2,
            7,
            false,
            false,
        ),
        (
            "grey, restart every 5 blocks",
            SamplingFactor::R_4_4_4,
            5,
            false,
            true,
        ),
        (
            "4:2:0, progressive",
            SamplingFactor::R_4_2_0,
            0,
            true,
            false,
        ),
    ];
    for (name, sampling, restart, progressive, is_grey) in layouts {
        let mut bytes = Vec::new();
        let mut encoder = Encoder::new(&mut bytes, 92);
        encoder.set_sampling_factor(sampling);
        encoder.set_restart_interval(restart);
        encoder.set_progressive(progressive);
        encoder.set_optimized_huffman_tables(restart == 7);
        if is_grey {
            encoder
                .encode(grey.as_raw(), 1600, 1066, ColorType::Luma)
                .unwrap();
        } else {
            encoder
                .encode(photo.as_raw(), 1600, 1066, ColorType::Rgb)
                .unwrap();
        }
        let path = dir
            .path()
            .join(format!("{}.jpg", name.replace([' ', ':', ','], "_")));
        std::fs::write(&path, &bytes).unwrap();

        let (w, h, thumb) = imaging::decode_for_side(&path, imaging::DEFAULT_MAX_PIXELS, 200)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((w, h), (1600, 1066), "{name}");
        assert_eq!(thumb.dimensions(), (200, 134), "{name}: 1/8, rounded up");

        let mut reference = jpeg_decoder::Decoder::new(bytes.as_slice());
        reference.scale(200, 134).unwrap();
        let pixels = reference.decode().unwrap();
        let reference: Vec<u8> = if is_grey {
            pixels.iter().flat_map(|&v| [v; 3]).collect()
        } else {
            pixels
        };
        assert_eq!(reference.len(), thumb.as_raw().len(), "{name}");
        let diffs: Vec<u8> = thumb
            .as_raw()
            .iter()
            .zip(&reference)
            .map(|(a, b)| a.abs_diff(*b))
            .collect();
        let max = *diffs.iter().max().unwrap();
        let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
        let subsampled = !is_grey && !matches!(sampling, SamplingFactor::R_4_4_4);
        if subsampled && !progressive {
            assert!(mean < 1.5, "{name}: mean difference {mean}");
        } else {
            assert!(max <= 1, "{name}: a level differs by {max}");
        }
    }
}

/// A big JPEG cut short or damaged in its scan never crashes the thumbnail path: it is
/// either read (by the full decoder, as before) or reported with the file's name.
#[test]
fn a_damaged_big_jpeg_is_read_or_reported_never_a_crash() {
    let Some(photo) = real_photo_1600() else {
        return;
    };
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(photo)
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut damaged = Vec::new();
    damaged.push(("truncated", bytes[..bytes.len() / 2].to_vec()));
    for (i, at) in [0.3, 0.6, 0.9].into_iter().enumerate() {
        let mut flipped = bytes.clone();
        let at = (flipped.len() as f64 * at) as usize;
        flipped[at..at + 64].iter_mut().for_each(|b| *b ^= 0x5A);
        damaged.push((["flipped-a", "flipped-b", "flipped-c"][i], flipped));
    }
    for (name, bytes) in damaged {
        let path = dir.path().join(format!("{name}.jpg"));
        std::fs::write(&path, &bytes).unwrap();
        match imaging::decode_for_side(&path, imaging::DEFAULT_MAX_PIXELS, 200) {
            Ok((w, h, thumb)) => {
                assert_eq!((w, h), (1600, 1066), "{name}");
                assert!(thumb.width() >= 200, "{name}");
            }
            Err(e) => assert!(
                e.to_string().contains(&format!("{name}.jpg")),
                "{name}: {e}"
            ),
        }
    }
}
