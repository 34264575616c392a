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
    let mut jpeg = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
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
