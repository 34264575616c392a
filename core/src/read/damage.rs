//! Whether a JPEG that decodes is whole. Decoders are forgiving: a file cut short (a
//! copy that failed, a card pulled too early, a download stopped) decodes with the
//! missing part filled in grey, and a scan whose restart markers are out of order or
//! broken by stray bytes decodes with blocks shifted or lost, and neither says so. The
//! photo stays searchable, but a photographer must be told, and the duplicate finder
//! must never keep it over a whole copy.
//!
//! [`jpeg_damage`] walks the file's markers (no decoding: a `memchr` over the scans),
//! so it costs about a millisecond for a camera JPEG. It reads untrusted bytes: every
//! index is checked, the walk only moves forward, and it is fuzzed (`tests/it/fuzz.rs`).

use serde::{Deserialize, Serialize};

/// What is wrong with a photo that still decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Damage {
    /// The file ends inside the picture, without the end marker: the decoder filled in
    /// the rest. `zeros` is how many bytes at its end are zeros when there are many
    /// (space written but never filled: a copy or card write that did not finish).
    CutShort { zeros: u64 },
    /// The picture's data is broken inside (restart markers out of order, bytes that
    /// are no marker): the decoder skipped what it could not read.
    Corrupt,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CutShort { zeros: 0 } => f.write_str(
                "cut short: the file ends inside the picture (a copy that failed, a card \
                 pulled too early); the rest is filled in grey",
            ),
            Self::CutShort { zeros } => write!(
                f,
                "cut short: the file ends inside the picture and its last {} are zeros \
                 (a copy or card write that never finished); the rest is filled in grey",
                format_size(*zeros)
            ),
            Self::Corrupt => f.write_str(
                "damaged data inside the picture: parts of it are shifted, repeated or grey",
            ),
        }
    }
}

fn format_size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{} KB", bytes / 1024),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

/// The damage in `bytes` if they are a JPEG (they start with its SOI marker) that is
/// not whole; `None` for a whole JPEG and for anything that is no JPEG (the decoder
/// reports those). What follows the end marker (a phone's motion video, a maker's
/// trailer) is not read.
pub fn jpeg_damage(bytes: &[u8]) -> Option<Damage> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let cut_short = || Some(cut_short(bytes));
    let mut at = 2;
    let mut in_scans = false;
    loop {
        // A marker: 0xFF, any number of fill 0xFF, then its code.
        if bytes.get(at) != Some(&0xFF) {
            return match at >= bytes.len() {
                true => cut_short(),
                false => Some(Damage::Corrupt),
            };
        }
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let Some(&code) = bytes.get(at) else {
            return cut_short();
        };
        at += 1;
        match code {
            0xD9 => return None,
            // A standalone marker with no length (TEM); a second SOI or a restart
            // marker between segments is broken data.
            0x01 => continue,
            0x00 | 0xD0..=0xD8 => return Some(Damage::Corrupt),
            // Between scans only tables, comments and application data may come.
            _ if in_scans && !may_follow_a_scan(code) => return Some(Damage::Corrupt),
            _ => {}
        }
        let Some(&[high, low]) = bytes.get(at..at + 2) else {
            return cut_short();
        };
        let length = usize::from(u16::from_be_bytes([high, low]));
        if length < 2 {
            return Some(Damage::Corrupt);
        }
        at += length;
        if at > bytes.len() {
            return cut_short();
        }
        if code == 0xDA {
            in_scans = true;
            match scan_end(bytes, at) {
                Ok(end) => at = end,
                Err(damage) => return Some(damage),
            }
        }
    }
}

/// `bytes` end before the picture does. Zeros at the end are counted from 512 on (a
/// few are ordinary in a JPEG's headers and data; hundreds in a row are not).
fn cut_short(bytes: &[u8]) -> Damage {
    let zeros = bytes.iter().rev().take_while(|&&b| b == 0).count() as u64;
    Damage::CutShort {
        zeros: if zeros >= 512 { zeros } else { 0 },
    }
}

/// Markers a JPEG may have after its first scan: tables (DHT, DQT, DAC, DRI), the
/// number of lines (DNL), the next scan (SOS), comments and application data.
fn may_follow_a_scan(code: u8) -> bool {
    matches!(code, 0xC4 | 0xCC | 0xDA..=0xDD | 0xE0..=0xEF | 0xFE)
}

/// Where the entropy-coded data that starts at `at` ends (at the 0xFF of the marker
/// after it), checking that its restart markers count 0 to 7 in turn; else the damage.
fn scan_end(bytes: &[u8], mut at: usize) -> Result<usize, Damage> {
    let mut restart = 0u8;
    loop {
        let rest = bytes.get(at..).unwrap_or_default();
        let found = memchr::memchr(0xFF, rest).ok_or_else(|| cut_short(bytes))?;
        let marker = at + found;
        let mut code_at = marker + 1;
        while bytes.get(code_at) == Some(&0xFF) {
            code_at += 1;
        }
        match bytes.get(code_at) {
            None => return Err(cut_short(bytes)),
            // A stuffed 0xFF data byte.
            Some(0x00) => at = code_at + 1,
            Some(&code @ 0xD0..=0xD7) => {
                if code - 0xD0 != restart {
                    return Err(Damage::Corrupt);
                }
                restart = (restart + 1) % 8;
                at = code_at + 1;
            }
            Some(_) => return Ok(marker),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real baseline JPEG (no restart markers), with an EXIF-like APP1 segment.
    fn photo() -> Vec<u8> {
        let image = image::RgbImage::from_fn(96, 64, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 3) as u8, ((x * y) % 251) as u8])
        });
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&image)
            .unwrap();
        jpeg
    }

    /// A hand-made JPEG skeleton: SOI, an SOS header, `scan`, then EOI.
    fn with_scan(scan: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 63, 0];
        bytes.extend_from_slice(scan);
        bytes.extend_from_slice(&[0xFF, 0xD9]);
        bytes
    }

    #[test]
    fn a_whole_jpeg_is_whole_with_or_without_a_trailer() {
        let mut jpeg = photo();
        assert_eq!(jpeg_damage(&jpeg), None);
        // A phone's motion photo: a video after the end marker.
        jpeg.extend_from_slice(b"\x00\x00\x00\x18ftypmp42 and more");
        assert_eq!(jpeg_damage(&jpeg), None);
        assert_eq!(jpeg_damage(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(jpeg_damage(b""), None);
    }

    #[test]
    fn a_jpeg_cut_anywhere_is_cut_short() {
        let jpeg = photo();
        for end in [3, 20, jpeg.len() / 2, jpeg.len() - 2, jpeg.len() - 1] {
            assert_eq!(
                jpeg_damage(&jpeg[..end]),
                Some(Damage::CutShort { zeros: 0 }),
                "cut at {end} of {}",
                jpeg.len()
            );
        }
        // Space written but never filled: the tail is zeros.
        let mut filled = jpeg[..jpeg.len() / 2].to_vec();
        filled.resize(jpeg.len(), 0);
        let zeros = (jpeg.len() - jpeg.len() / 2) as u64;
        assert!(matches!(
            jpeg_damage(&filled),
            Some(Damage::CutShort { zeros: z }) if z >= zeros
        ));
        let said = jpeg_damage(&filled).unwrap().to_string();
        assert!(said.contains("are zeros"), "{said}");
    }

    /// Real restart markers (an encoder's, progressive files too) are whole; one
    /// restart interval lost (a damaged sector) is found, though it still decodes.
    #[test]
    fn a_lost_restart_interval_is_damage_inside() {
        use jpeg_encoder::{ColorType, Encoder};
        let image = image::RgbImage::from_fn(128, 96, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 3) as u8, ((x * y) % 251) as u8])
        });
        for progressive in [false, true] {
            let mut jpeg = Vec::new();
            let mut encoder = Encoder::new(&mut jpeg, 90);
            encoder.set_restart_interval(2);
            encoder.set_progressive(progressive);
            encoder
                .encode(image.as_raw(), 128, 96, ColorType::Rgb)
                .unwrap();
            assert_eq!(jpeg_damage(&jpeg), None, "progressive: {progressive}");
        }
        let mut jpeg = Vec::new();
        let mut encoder = Encoder::new(&mut jpeg, 90);
        encoder.set_restart_interval(2);
        encoder
            .encode(image.as_raw(), 128, 96, ColorType::Rgb)
            .unwrap();
        let at = |code: u8| jpeg.windows(2).position(|w| w == [0xFF, code]).unwrap();
        let (d1, d2) = (at(0xD1), at(0xD2));
        let mut lost = jpeg[..d1].to_vec();
        lost.extend_from_slice(&jpeg[d2..]);
        assert!(image::load_from_memory(&lost).is_ok(), "it still decodes");
        assert_eq!(jpeg_damage(&lost), Some(Damage::Corrupt));
    }

    #[test]
    fn restart_markers_must_count_in_turn() {
        let mut good = Vec::new();
        for n in 0..10u8 {
            good.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0 + n % 8]);
        }
        assert_eq!(jpeg_damage(&with_scan(&good)), None);
        // One restart interval lost (D2 after D0).
        let skipped = [0x12, 0xFF, 0xD0, 0x34, 0xFF, 0xD2, 0x56];
        assert_eq!(jpeg_damage(&with_scan(&skipped)), Some(Damage::Corrupt));
        // A marker that may not follow a scan (a second frame header).
        let stray = [0x12, 0xFF, 0xC0, 0x00, 0x02, 0x34];
        assert_eq!(jpeg_damage(&with_scan(&stray)), Some(Damage::Corrupt));
        // A segment whose length is shorter than its own length field.
        assert_eq!(
            jpeg_damage(&[0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01]),
            Some(Damage::Corrupt)
        );
    }
}
