//! Photos with the EXIF a camera writes (kamadak-exif's writer).

use std::path::Path;

use exif::experimental::Writer;
use exif::{Field, In, Tag, Value};

/// The EXIF a camera (or an editor, with `software`) writes: body, capture time with
/// its sub-seconds, software.
pub struct Exif<'a> {
    pub model: &'a str,
    pub serial: &'a str,
    pub taken: &'a str,
    pub subsec: Option<&'a str>,
    pub software: Option<&'a str>,
}

fn ascii(tag: Tag, text: &str) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![text.as_bytes().to_vec()]),
    }
}

/// `photo` saved as a JPEG at `quality` with `exif` in its APP1 segment.
pub fn save_with_exif(photo: &image::RgbImage, quality: u8, exif: &Exif<'_>, path: &Path) {
    let jpeg = jpeg(photo, quality);
    let tiff = exif_tiff(exif, None);
    let length = u16::try_from(2 + 6 + tiff.len()).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend([0xff, 0xe1]);
    out.extend(length.to_be_bytes());
    out.extend(b"Exif\0\0");
    out.extend(&tiff);
    out.extend(&jpeg[2..]);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, out).unwrap();
}

/// A TIFF-based camera RAW (as a `.NEF` or `.DNG` is) with `exif` in its first IFD and
/// `photo` as its JPEG preview (the next IFD's `JPEGInterchangeFormat`), at `quality`.
pub fn save_raw_with_exif(photo: &image::RgbImage, quality: u8, exif: &Exif<'_>, path: &Path) {
    let preview = jpeg(photo, quality);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, exif_tiff(exif, Some(&preview))).unwrap();
}

fn jpeg(photo: &image::RgbImage, quality: u8) -> Vec<u8> {
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality)
        .encode_image(photo)
        .unwrap();
    jpeg
}

/// `exif` as a TIFF, with `preview` in IFD1 where given (then little-endian, as
/// Nikon's RAWs are; big-endian in a JPEG's APP1, as before).
fn exif_tiff(exif: &Exif<'_>, preview: Option<&[u8]>) -> Vec<u8> {
    let mut fields = vec![
        ascii(Tag::Make, "NIKON CORPORATION"),
        ascii(Tag::Model, exif.model),
        ascii(Tag::BodySerialNumber, exif.serial),
        ascii(Tag::DateTimeOriginal, exif.taken),
    ];
    fields.extend(exif.subsec.map(|s| ascii(Tag::SubSecTimeOriginal, s)));
    fields.extend(exif.software.map(|s| ascii(Tag::Software, s)));
    let mut writer = Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    if let Some(preview) = preview {
        writer.set_jpeg(preview, In::THUMBNAIL);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, preview.is_some()).unwrap();
    tiff.into_inner()
}
