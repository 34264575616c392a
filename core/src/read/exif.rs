//! What a photo's EXIF says about the shot: which camera body took it, when (with the
//! sub-seconds where the camera wrote them), its image number and the software that
//! last wrote the file. The duplicate finder uses it to tell a burst from copies and
//! to prefer the camera's original as the keeper.
//!
//! Parsed by `kamadak-exif` (maintained, pure Rust, one small dependency): JPEG, HEIC /
//! AVIF, PNG, WebP, TIFF and the TIFF-based RAWs (DNG, CR2, NEF, ARW, PEF, SRW; ORF and
//! RW2 after their own magic number is read as TIFF's), and RAF through the JPEG the
//! camera embedded with its EXIF. Canon's CR3 keeps its EXIF in boxes the crate does not
//! read: a CR3 reads as a photo without EXIF. A missing or broken EXIF block is never an
//! error: it reads as "nothing known", and the rules that need it do not apply.

use std::io::{BufReader, Read, Seek};
use std::path::Path;

use exif::{Context, Exif, In, Reader, Tag, Value};

/// At most this much of a TIFF-based RAW is read: its IFDs lie at its start, the
/// sensor data (tens of megabytes) after them.
const TIFF_HEAD: u64 = 1 << 20;

/// The camera body that took a photo: EXIF `Make`, `Model` and the body's serial
/// number where the camera wrote one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Camera {
    pub make: String,
    pub model: String,
    pub serial: Option<String>,
}

impl Camera {
    /// Whether the two are one body: the same make and model (ignoring case and
    /// spaces around) and, where both wrote a serial number, the same serial.
    pub fn same_body(&self, other: &Camera) -> bool {
        let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
        same(&self.make, &other.make)
            && same(&self.model, &other.model)
            && match (&self.serial, &other.serial) {
                (Some(a), Some(b)) => same(a, b),
                _ => true,
            }
    }
}

/// When the shutter was released: `DateTimeOriginal` (the camera's local clock, no time
/// zone) and `SubSecTimeOriginal` where present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Taken {
    /// Seconds since 1970-01-01 00:00:00 of the camera's clock.
    pub seconds: i64,
    /// The fraction of the second in nanoseconds; `None` where the camera wrote none
    /// (many do not: frames of one burst then share a timestamp).
    pub nanos: Option<u32>,
}

impl Taken {
    /// Seconds from `self` to `other`, with the sub-seconds only where both have them.
    pub fn seconds_to(&self, other: &Taken) -> f64 {
        let whole = (other.seconds - self.seconds) as f64;
        match (self.nanos, other.nanos) {
            (Some(a), Some(b)) => whole + (f64::from(b) - f64::from(a)) * 1e-9,
            _ => whole,
        }
    }
}

/// What the EXIF of one photo says; every field `None` where it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shot {
    pub camera: Option<Camera>,
    pub taken: Option<Taken>,
    /// The camera's image number (EXIF / TIFF-EP `ImageNumber`, 0x9211).
    pub image_number: Option<u32>,
    /// The software that wrote the file (`Software`): a camera's firmware or an editor.
    pub software: Option<String>,
}

/// Editors and converters whose `Software` tag marks a file as an export, not the
/// camera's own (compared case-insensitively as parts of the tag). A camera's firmware
/// writes its model or version there; a phone its system version.
const EDITORS: &[&str] = &[
    "photoshop",
    "lightroom",
    "camera raw",
    "gimp",
    "darktable",
    "capture one",
    "rawtherapee",
    "affinity",
    "luminar",
    "dxo",
    "on1 photo",
    "snapseed",
    "pixelmator",
    "acdsee",
    "paint.net",
    "imagemagick",
    "graphicsmagick",
    "digikam",
    "shotwell",
    "picasa",
    "google photos",
    "apple photos",
    "lookalike",
];

impl Shot {
    /// A camera's own file: a camera body is named and no editor wrote the file last.
    pub fn camera_original(&self) -> bool {
        self.camera.is_some() && !self.edited()
    }

    /// Whether an editor or converter wrote the file last (its `Software` tag).
    pub fn edited(&self) -> bool {
        self.software.as_deref().is_some_and(|s| {
            let s = s.to_ascii_lowercase();
            EDITORS.iter().any(|e| s.contains(e))
        })
    }
}

/// What the EXIF of the file at `path` says: [`Shot::default`] when it has none, it
/// cannot be read or it is broken.
pub fn read(path: &Path) -> Shot {
    exif_of(path).map(|e| shot(&e)).unwrap_or_default()
}

fn exif_of(path: &Path) -> Option<Exif> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut head = [0u8; 16];
    let got = file.read(&mut head).ok()?;
    file.rewind().ok()?;
    let reader = {
        let mut r = Reader::new();
        r.continue_on_error(true);
        r
    };
    let partial = |r: Result<Exif, exif::Error>| r.or_else(|e| e.distill_partial_result(drop)).ok();
    if head[..got].starts_with(b"FUJIFILMCCD-RAW") {
        // RAF: the embedded JPEG carries the camera's EXIF.
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).ok()?;
        let preview = crate::read::raw::largest_preview(&bytes).ok()?;
        let jpeg = bytes.get(preview.range)?;
        return partial(reader.read_from_container(&mut std::io::Cursor::new(jpeg)));
    }
    if let Some(tiff) = tiff_magic(&head[..got]) {
        let mut bytes = Vec::new();
        file.take(TIFF_HEAD).read_to_end(&mut bytes).ok()?;
        bytes[2..4].copy_from_slice(&tiff);
        return partial(reader.read_raw(bytes));
    }
    partial(reader.read_from_container(&mut BufReader::new(file)))
}

/// TIFF's magic number in the byte order of a TIFF-based file's header (Olympus' and
/// Panasonic's own numbers included), or `None` for any other file.
fn tiff_magic(head: &[u8]) -> Option<[u8; 2]> {
    match head.get(..4)? {
        [b'I', b'I', 0x2a, 0] | [b'I', b'I', b'R', b'O'] | [b'I', b'I', b'R', b'S'] => {
            Some([0x2a, 0])
        }
        [b'I', b'I', b'U', 0] => Some([0x2a, 0]),
        [b'M', b'M', 0, 0x2a] | [b'M', b'M', b'O', b'R'] => Some([0, 0x2a]),
        _ => None,
    }
}

fn shot(exif: &Exif) -> Shot {
    let text = |tag: Tag| ascii(exif, tag);
    let camera = match (text(Tag::Make), text(Tag::Model)) {
        (None, None) => None,
        (make, model) => Some(Camera {
            make: make.unwrap_or_default(),
            model: model.unwrap_or_default(),
            serial: text(Tag::BodySerialNumber).or_else(|| ascii(exif, Tag(Context::Tiff, 0xc62f))),
        }),
    };
    let taken = text(Tag::DateTimeOriginal).and_then(|t| {
        let mut time = exif::DateTime::from_ascii(t.as_bytes()).ok()?;
        if let Some(sub) = text(Tag::SubSecTimeOriginal) {
            let _ = time.parse_subsec(sub.as_bytes());
        }
        taken(&time)
    });
    let image_number = [Tag(Context::Exif, 0x9211), Tag(Context::Tiff, 0x9211)]
        .into_iter()
        .find_map(|tag| exif.get_field(tag, In::PRIMARY)?.value.get_uint(0));
    Shot {
        camera,
        taken,
        image_number,
        software: text(Tag::Software),
    }
}

/// The first string of an ASCII field of the primary image, trimmed; `None` if empty.
fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(ref strings) = field.value else {
        return None;
    };
    let s = String::from_utf8_lossy(strings.first()?);
    let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!s.is_empty()).then(|| s.to_string())
}

/// Seconds since the epoch of a calendar date and time (proleptic Gregorian), or
/// `None` for a date out of range (a camera whose clock was never set writes zeros).
fn taken(t: &exif::DateTime) -> Option<Taken> {
    let valid = (1..=12).contains(&t.month)
        && (1..=31).contains(&t.day)
        && t.hour < 24
        && t.minute < 60
        && t.second < 61
        && t.year >= 1900;
    if !valid {
        return None;
    }
    let days = days_from_civil(i64::from(t.year), i64::from(t.month), i64::from(t.day));
    let seconds =
        days * 86_400 + i64::from(t.hour) * 3_600 + i64::from(t.minute) * 60 + i64::from(t.second);
    Some(Taken {
        seconds,
        nanos: t.nanosecond,
    })
}

/// Days from 1970-01-01 to the date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_the_epoch() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(
            days_from_civil(2024, 2, 29) + 1,
            days_from_civil(2024, 3, 1)
        );
    }

    #[test]
    fn sub_seconds_count_only_where_both_have_them() {
        let a = Taken {
            seconds: 10,
            nanos: Some(100_000_000),
        };
        let b = Taken {
            seconds: 10,
            nanos: Some(400_000_000),
        };
        assert!((a.seconds_to(&b) - 0.3).abs() < 1e-9);
        let c = Taken {
            seconds: 10,
            nanos: None,
        };
        assert_eq!(a.seconds_to(&c), 0.0);
    }

    #[test]
    fn an_editor_makes_an_export_and_firmware_does_not() {
        let camera = Some(Camera {
            make: "FUJIFILM".into(),
            model: "X-T4".into(),
            serial: None,
        });
        let firmware = Shot {
            camera: camera.clone(),
            software: Some("Digital Camera X-T4 Ver2.01".into()),
            ..Shot::default()
        };
        let export = Shot {
            camera,
            software: Some("Adobe Photoshop Lightroom Classic 13.0 (Windows)".into()),
            ..Shot::default()
        };
        assert!(firmware.camera_original());
        assert!(!export.camera_original());
        assert!(
            !Shot::default().camera_original(),
            "no camera named: not an original"
        );
    }

    #[test]
    fn one_body_needs_the_same_serial_where_both_have_one() {
        let body = |serial: Option<&str>| Camera {
            make: "Canon".into(),
            model: "EOS R5".into(),
            serial: serial.map(Into::into),
        };
        assert!(body(Some("123")).same_body(&body(None)));
        assert!(body(Some("123")).same_body(&body(Some("123"))));
        assert!(!body(Some("123")).same_body(&body(Some("456"))));
    }
}
