//! Photos as cameras and phones write them: EXIF orientation applied before anything
//! else (crop boxes refer to the oriented image), 16-bit, grey and alpha images turned
//! into RGB8.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use lookalike::imaging::{self, CropBox, LoadOptions};

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
