//! Series: shots of one scene that one camera body took seconds apart (a burst, a
//! bracket, a few tries). They look alike to the descriptor, and they are not copies:
//! each is its own exposure. The EXIF tells them apart ([`taking`]); a series is never
//! proposed for removal, it is shown apart for the user to pick the best frame.
//!
//! Two photos are **two exposures** only when their EXIF proves it: both name a camera
//! and (a) the bodies differ (make, model, or serial where both wrote one), or (b) their
//! capture times differ (with the sub-seconds where both have them), or (c) their image
//! numbers differ, or (d) their file names are a camera's (`IMG_1234`, `DSC01234`: four
//! characters and four digits) with different numbers and the same capture second. An
//! equal timestamp alone never proves one shot, nor does anything else: a photo without
//! EXIF, or with only one of the two sides, is never called an exposure of its own, so
//! libraries without EXIF group exactly as before.
//!
//! Two exposures of one body are a **series** when taken at most [`SERIES_SECONDS`]
//! apart, or with consecutive numbers at most a minute apart (or with no times).

use std::path::Path;

use crate::read::exif::Shot;
use crate::read::raw::is_raw;

/// The longest time between two frames of one series.
pub const SERIES_SECONDS: f64 = 5.0;

/// The longest time between two consecutively numbered frames of one series.
const CONSECUTIVE_SECONDS: f64 = 60.0;

/// How two photos that look alike were taken, as their EXIF tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taking {
    /// Nothing proves two exposures: they may be one photo (copies, if their pixels
    /// agree).
    Unknown,
    /// Two exposures of one body, moments apart: frames of one series.
    Series,
    /// Two exposures, not of one series (other bodies, or far apart in time).
    Apart,
}

/// How the photos `a` (at `path_a`) and `b` were taken.
pub fn taking(a: &Shot, path_a: &Path, b: &Shot, path_b: &Path) -> Taking {
    let (Some(body_a), Some(body_b)) = (&a.camera, &b.camera) else {
        return Taking::Unknown;
    };
    if !body_a.same_body(body_b) {
        return Taking::Apart;
    }
    let seconds = match (a.taken, b.taken) {
        (Some(x), Some(y)) => Some(x.seconds_to(&y).abs()),
        _ => None,
    };
    let numbers = match (a.image_number, b.image_number) {
        (Some(x), Some(y)) => Some(x.abs_diff(y)),
        _ => match (camera_number(path_a), camera_number(path_b)) {
            // A file number proves another exposure only within one capture second.
            (Some(x), Some(y)) if seconds.is_none_or(|s| s < 1.0) => Some(x.abs_diff(y)),
            _ => None,
        },
    };
    let two = seconds.is_some_and(|s| s > 0.0) || numbers.is_some_and(|n| n > 0);
    if !two {
        return Taking::Unknown;
    }
    let close = seconds.is_some_and(|s| s <= SERIES_SECONDS);
    let consecutive = numbers == Some(1) && seconds.is_none_or(|s| s <= CONSECUTIVE_SECONDS);
    if close || consecutive {
        Taking::Series
    } else {
        Taking::Apart
    }
}

/// Whether `a` and `b` are one shot that the camera wrote twice, a RAW and a JPEG (or
/// HEIC): one of them a RAW file, and either the same name in one folder, or, in other
/// folders (`RAW/` and `JPG/`, two card slots), the same body, the same capture time
/// (to the sub-second where both have one) and the same file number (the EXIF image
/// number, else the number in a camera's file name, else the same name).
pub fn camera_pair(a: (&Path, &Shot), b: (&Path, &Shot)) -> bool {
    let ((path_a, shot_a), (path_b, shot_b)) = (a, b);
    if is_raw(path_a) == is_raw(path_b) {
        return false;
    }
    let stem = |p: &Path| p.file_stem().map(|s| s.to_string_lossy().to_lowercase());
    let same_name = stem(path_a) == stem(path_b);
    if same_name && path_a.parent() == path_b.parent() {
        return true;
    }
    let (Some(body_a), Some(body_b)) = (&shot_a.camera, &shot_b.camera) else {
        return false;
    };
    let same_time = match (shot_a.taken, shot_b.taken) {
        (Some(x), Some(y)) => {
            x.seconds == y.seconds && (x.nanos.is_none() || y.nanos.is_none() || x.nanos == y.nanos)
        }
        _ => false,
    };
    let same_number = match (shot_a.image_number, shot_b.image_number) {
        (Some(x), Some(y)) => x == y,
        _ => match (camera_number(path_a), camera_number(path_b)) {
            (Some(x), Some(y)) => x == y,
            _ => same_name,
        },
    };
    body_a.same_body(body_b) && same_time && same_number
}

/// The number in a camera's file name (DCF: four letters, digits or underscores, then
/// four digits, as `IMG_1234`, `DSC01234`, `_MG_1234`, `P1010123`), or `None`.
pub fn camera_number(path: &Path) -> Option<u32> {
    let stem = path.file_stem()?.to_str()?;
    let bytes = stem.as_bytes();
    let ok = bytes.len() == 8
        && bytes[..4]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && bytes[4..].iter().all(u8::is_ascii_digit);
    ok.then(|| stem[4..].parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::exif::{Camera, Taken};

    fn shot(seconds: i64, nanos: Option<u32>, number: Option<u32>) -> Shot {
        Shot {
            camera: Some(Camera {
                make: "NIKON CORPORATION".into(),
                model: "NIKON Z 6".into(),
                serial: None,
            }),
            taken: Some(Taken { seconds, nanos }),
            image_number: number,
            software: None,
        }
    }

    #[test]
    fn frames_a_third_of_a_second_apart_are_a_series() {
        let (a, b) = (shot(100, Some(0), None), shot(100, Some(300_000_000), None));
        let p = Path::new("x.jpg");
        assert_eq!(taking(&a, p, &b, p), Taking::Series);
    }

    #[test]
    fn an_equal_timestamp_alone_proves_nothing_and_a_number_does() {
        let p = Path::new("photo.jpg");
        let (a, b) = (shot(100, None, None), shot(100, None, None));
        assert_eq!(
            taking(&a, p, &b, p),
            Taking::Unknown,
            "a copy keeps its timestamp"
        );
        // Same second, no sub-seconds, consecutive camera file numbers: a burst.
        let (pa, pb) = (Path::new("DSC_0041.JPG"), Path::new("DSC_0042.JPG"));
        assert_eq!(taking(&a, pa, &b, pb), Taking::Series);
        // Different image numbers: two exposures.
        let (a, b) = (shot(100, None, Some(7)), shot(100, None, Some(8)));
        assert_eq!(taking(&a, p, &b, p), Taking::Series);
    }

    #[test]
    fn without_exif_on_both_sides_nothing_is_known() {
        let p = Path::new("IMG_0001.JPG");
        let q = Path::new("IMG_0002.JPG");
        assert_eq!(
            taking(&Shot::default(), p, &shot(1, None, None), q),
            Taking::Unknown
        );
        assert_eq!(
            taking(&Shot::default(), p, &Shot::default(), q),
            Taking::Unknown
        );
    }

    #[test]
    fn far_apart_or_other_bodies_are_apart_not_a_series() {
        let p = Path::new("a.jpg");
        assert_eq!(
            taking(&shot(0, None, None), p, &shot(600, None, None), p),
            Taking::Apart
        );
        let with_serial = |serial: &str| {
            let mut s = shot(0, None, None);
            if let Some(c) = s.camera.as_mut() {
                c.serial = Some(serial.into());
            }
            s
        };
        let (one, other) = (with_serial("1"), with_serial("2"));
        assert_eq!(taking(&one, p, &other, p), Taking::Apart);
    }

    #[test]
    fn camera_file_names_give_their_number() {
        assert_eq!(camera_number(Path::new("/a/IMG_1234.JPG")), Some(1234));
        assert_eq!(camera_number(Path::new("_MG_0007.CR2")), Some(7));
        assert_eq!(camera_number(Path::new("IMG_1234-edit.jpg")), None);
        assert_eq!(camera_number(Path::new("PXL_20231010_123456.jpg")), None);
    }

    #[test]
    fn a_raw_and_its_jpeg_are_one_shot_in_one_folder_by_name_elsewhere_by_exif() {
        let at = |p: &str| Path::new(p).to_path_buf();
        let none = Shot::default();
        let z6 = shot(1_000, Some(250_000_000), None);
        // One folder: by name, with or without EXIF.
        assert!(camera_pair(
            (&at("trip/DSC_0001.NEF"), &none),
            (&at("trip/DSC_0001.JPG"), &none)
        ));
        // Sibling folders (RAW/ + JPG/): the same body, time and number.
        let (raw, jpg) = (at("trip/RAW/DSC_0001.NEF"), at("trip/JPG/DSC_0001.JPG"));
        assert!(camera_pair((&raw, &z6), (&jpg, &z6)));
        // Two card slots, another name scheme: the EXIF image number decides.
        let numbered = |n| Shot {
            image_number: Some(n),
            ..z6.clone()
        };
        let (slot1, slot2) = (at("card1/A001.NEF"), at("card2/B001.JPG"));
        assert!(camera_pair((&slot1, &numbered(7)), (&slot2, &numbered(7))));
        assert!(!camera_pair((&slot1, &numbered(7)), (&slot2, &numbered(8))));
        // Not a pair: no EXIF across folders, two JPEGs, another time or sub-second,
        // another number, another body.
        assert!(!camera_pair((&raw, &none), (&jpg, &none)));
        assert!(!camera_pair((&at("a/DSC_0001.JPG"), &z6), (&jpg, &z6)));
        let later = shot(1_001, Some(250_000_000), None);
        assert!(!camera_pair((&raw, &z6), (&jpg, &later)));
        let other_frame = shot(1_000, Some(500_000_000), None);
        assert!(!camera_pair((&raw, &z6), (&jpg, &other_frame)));
        let next = at("trip/JPG/DSC_0002.JPG");
        assert!(!camera_pair((&raw, &z6), (&next, &z6)));
        let mut other_body = z6.clone();
        other_body.camera.as_mut().unwrap().model = "NIKON Z 7".into();
        assert!(!camera_pair((&raw, &z6), (&jpg, &other_body)));
    }
}
