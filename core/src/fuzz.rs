//! The entry points of the fuzzing: every hand-written reader of untrusted bytes, each
//! called the way lookalike calls it and checked against what its callers rely on (a
//! range inside the file, an image of the size it says). None may panic, loop or
//! allocate without bound on any input; the checks here panic on purpose, as the
//! fuzzer's oracle (nothing else calls this module). `fuzz/` runs them coverage-guided
//! (`cargo fuzz`, libFuzzer); `tests/it/fuzz.rs` replays the kept corpus and every
//! input that ever crashed, and runs a short seeded pass of mutations in CI.

use std::path::Path;

/// A fuzz target: reads any bytes, panics only when what it read breaks a promise.
pub type Target = fn(&[u8]);

/// What each target reads, by name (`fuzz/fuzz_targets/<name>.rs`, `tests/it/fuzz.rs`).
pub const TARGETS: [(&str, Target); 8] = [
    ("raw", raw),
    ("sensor", sensor),
    ("jpeg_dc", jpeg_dc),
    ("jpeg_damage", jpeg_damage),
    ("index", index),
    ("search_cache", search_cache),
    ("thumbnail_cache", thumbnail_cache),
    ("journal", journal),
];

/// A camera RAW file (`raw.rs`: TIFF IFDs, the RAF header, CR3 boxes, EXIF): the
/// preview found lies inside the file and is a JPEG whose size was measured.
pub fn raw(bytes: &[u8]) {
    if let Ok(preview) = crate::read::raw::largest_preview(bytes) {
        let jpeg = bytes
            .get(preview.range.clone())
            .expect("a preview inside the file");
        assert!(jpeg.starts_with(&[0xFF, 0xD8]), "a preview that is a JPEG");
    }
    let _ = crate::read::raw::exif_orientation(bytes);
    let _ = crate::read::raw::jpeg_size(bytes);
    let _ = crate::read::raw::dng_sensor(bytes);
}

/// A RAW file's sensor data developed (`sensor.rs` over rawloader, which is not ours but
/// reads the same untrusted bytes): an image no larger than the pixels allowed, or an
/// error; never a panic, a hang or an allocation the limit did not allow.
pub fn sensor(bytes: &[u8]) {
    const MAX_PIXELS: u64 = 1 << 20;
    let path = Path::new("fuzz.dng");
    if let Ok(image) = crate::read::sensor::develop(path, bytes, MAX_PIXELS, "fuzzing") {
        let pixels = u64::from(image.width()) * u64::from(image.height());
        assert!(
            pixels <= MAX_PIXELS,
            "{} x {}",
            image.width(),
            image.height()
        );
    }
}

/// A JPEG at 1/8 from its DC coefficients (`jpeg_dc.rs`, fed by any file on disk):
/// the image has the size it says.
pub fn jpeg_dc(bytes: &[u8]) {
    if let Some(image) = crate::read::jpeg_dc::decode_eighth(bytes) {
        let pixels = image.width as usize * image.height as usize;
        assert_eq!(image.rgb.len(), 3 * pixels, "an image of its own size");
    }
}

/// The damage check's marker walk (`read/damage.rs`).
pub fn jpeg_damage(bytes: &[u8]) {
    let _ = crate::read::jpeg_damage(bytes);
}

/// An index file (every format version; also the variants caches, which are indexes):
/// a loaded one has only paths inside its library, and its head reads the same; one in
/// segments (version 6) comes sorted by path, its appended segments merged in.
pub fn index(bytes: &[u8]) {
    let path = Path::new("fuzzed.lkidx");
    if let Ok(index) = crate::index::Index::from_bytes(path, bytes) {
        for entry in &index.entries {
            assert!(!Path::new(&entry.path).is_absolute(), "{}", entry.path);
        }
        if bytes.get(8..12) == Some(&crate::index::FORMAT_VERSION.to_le_bytes()) {
            assert!(index.entries.is_sorted_by(|a, b| a.path <= b.path));
        }
        let head = crate::index::Index::head_from_bytes(path, bytes);
        if let Ok((root, provenance)) = head {
            assert_eq!((root, provenance), (index.root, index.provenance));
        }
    }
}

/// The search's cache beside an index (`find/search/saved.rs`): one read has a row
/// for each of its entries, and a search of it names only its rows.
pub fn search_cache(bytes: &[u8]) {
    crate::find::search::saved::fuzz_cache(bytes);
}

/// The thumbnails cache (`dupes/pixels.rs`): any two thumbnails it holds can be
/// compared, turned or not.
pub fn thumbnail_cache(bytes: &[u8]) {
    crate::index::thumbnails::fuzz_cache(bytes);
}

/// The undo journal (`cleanup/journal.rs`): any bytes, torn lines included, read as
/// the records they hold, and what undo would do with them.
pub fn journal(bytes: &[u8]) {
    crate::cleanup::fuzz_journal(bytes);
}
