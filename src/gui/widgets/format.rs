//! How the app writes sizes, durations, dates and file names, and fits images.

use std::path::Path;

use eframe::egui::{self, Vec2};

use lookalike_core::read::exif::Taken;

/// The file's name, or the whole path when it has none.
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `"s"` after a count other than one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `size` scaled to fit in `bounds`, keeping its aspect ratio.
pub fn fit(size: Vec2, bounds: Vec2) -> Vec2 {
    let scale = (bounds.x / size.x.max(1.0)).min(bounds.y / size.y.max(1.0));
    size * scale
}

/// The whole of a texture, in texture coordinates.
pub fn full_uv() -> egui::Rect {
    egui::Rect::from_min_max(egui::Pos2::ZERO, egui::Pos2::new(1.0, 1.0))
}

pub fn format_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.0} KB", b as f64 / f64::from(1 << 10)),
        b => format!("{b} B"),
    }
}

pub fn format_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// `YYYY-MM-DD HH:MM` (UTC) of a modification time in ns since the epoch.
pub fn format_date(mtime_ns: i128) -> String {
    let seconds = (mtime_ns / 1_000_000_000) as i64;
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rest / 3600,
        (rest % 3600) / 60
    )
}

/// `YYYY-MM-DD HH:MM:SS` of a capture time (the camera's clock), with hundredths of a
/// second where the camera wrote them.
pub fn format_taken(taken: &Taken) -> String {
    let fraction = taken
        .nanos
        .map_or_else(String::new, |n| format!(".{:02}", n / 10_000_000));
    format!(
        "{}:{:02}{fraction}",
        format_date(i128::from(taken.seconds) * 1_000_000_000),
        taken.seconds.rem_euclid(60)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(3 << 20), "3.0 MB");
        assert_eq!(format_duration(59.4), "59s");
        assert_eq!(format_duration(61.0), "1m01s");
        assert_eq!(format_duration(7322.0), "2h02m");
        let taken = Taken {
            seconds: 1_700_000_003,
            nanos: Some(300_000_000),
        };
        assert_eq!(format_taken(&taken), "2023-11-14 22:13:23.30");
        assert_eq!(
            fit(Vec2::new(400.0, 200.0), Vec2::new(100.0, 100.0)),
            Vec2::new(100.0, 50.0)
        );
    }

    #[test]
    fn dates_read_as_calendar_days() {
        assert_eq!(format_date(0), "1970-01-01 00:00");
        assert_eq!(format_date(951_782_400 * 1_000_000_000), "2000-02-29 00:00");
        assert_eq!(
            format_date(1_795_000_060 * 1_000_000_000),
            "2026-11-18 11:07"
        );
    }
}
