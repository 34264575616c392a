//! Every hand-written reader of untrusted bytes (`lookalike_core::fuzz::TARGETS`) on the
//! inputs kept from coverage-guided fuzzing (`fuzz/corpus/<target>/`: real files of
//! each format and what libFuzzer found that reaches new branches) and on every input
//! that once crashed one (`fuzz/regressions/<target>/`), then a short seeded pass of
//! mutations of them: what CI can afford of fuzzing in the normal test build. The
//! coverage-guided run itself is `cargo fuzz` (README, "Fuzzing").

use crate::common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lookalike_core::fuzz::TARGETS;

/// The inputs kept for `target`: its corpus and its regressions, by name.
fn kept(target: &str) -> Vec<PathBuf> {
    let fuzz = common::repo().join("fuzz");
    let mut files: Vec<PathBuf> = ["corpus", "regressions"]
        .iter()
        .filter_map(|dir| std::fs::read_dir(fuzz.join(dir).join(target)).ok())
        .flatten()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Runs `read` on `bytes`; a panic, or a run longer than a second twice (these readers
/// do bounded work), fails the test with the input kept in a file to replay.
fn run_clean(target: &str, read: fn(&[u8]), bytes: &[u8], what: &str) {
    let run = || {
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| read(bytes)));
        (outcome, started.elapsed())
    };
    let limit = Duration::from_secs(1);
    let (mut outcome, mut took) = run();
    if outcome.is_ok() && took > limit {
        // Slow once may be the first panic a reader caught itself (rawloader does)
        // printed with RUST_BACKTRACE set: reading the binary's debug info takes
        // seconds, once per process. Slow twice is the reader's own.
        (outcome, took) = run();
    }
    if outcome.is_err() || took > limit {
        let kept =
            std::env::temp_dir().join(format!("lookalike-fuzz-{target}-{}", std::process::id()));
        std::fs::write(&kept, bytes).unwrap();
        panic!(
            "{target} on {what}: {} after {took:?}; the input is {} (add it to \
             fuzz/regressions/{target}/ once fixed)",
            if outcome.is_err() {
                "panicked"
            } else {
                "too slow"
            },
            kept.display()
        );
    }
}

#[test]
fn every_kept_input_reads_clean() {
    for (target, read) in TARGETS {
        let files = kept(target);
        assert!(
            files.len() >= 2,
            "fuzz/corpus/{target}/ holds {} inputs: seed it (tests/it/fuzz.rs write_seeds)",
            files.len()
        );
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            run_clean(target, read, &bytes, &file.display().to_string());
        }
    }
}

/// xorshift64*: the same mutations on every run, so a failure here replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `input` changed by one to four of libFuzzer's usual mutations: bits flipped, bytes
/// set to values that matter to parsers, ranges cut, repeated or spliced from `other`,
/// the end cut off.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    const INTERESTING: [u8; 8] = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF, 0xD8, 0xD9];
    let mut bytes = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = bytes.len();
        let at = rng.below(len);
        match rng.below(7) {
            0 if len > 0 => bytes[at] ^= 1 << rng.below(8),
            1 if len > 0 => bytes[at] = INTERESTING[rng.below(INTERESTING.len())],
            2 if len > 0 => {
                // A 16- or 32-bit field set to an extreme value.
                let width = [2, 4][rng.below(2)].min(len - at);
                let value = [0x00, 0xFF][rng.below(2)];
                bytes[at..at + width].fill(value);
            }
            3 => {
                let end = (at + 1 + rng.below(64)).min(len);
                bytes.drain(at..end);
            }
            4 if len > 0 => {
                let end = (at + 1 + rng.below(64)).min(len);
                let copy = bytes[at..end].to_vec();
                let to = rng.below(len);
                bytes.splice(to..to, copy);
            }
            5 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(256)).min(other.len());
                let to = rng.below(len);
                bytes.splice(to..to, other[from..end].iter().copied());
            }
            _ => bytes.truncate(at),
        }
    }
    bytes
}

/// How long the seeded pass spends on each target (`LOOKALIKE_FUZZ_SECONDS`, else 3).
fn budget() -> Duration {
    let seconds = std::env::var("LOOKALIKE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    Duration::from_secs_f64(seconds)
}

#[test]
fn a_seeded_pass_of_mutations_reads_clean() {
    let mut report = Vec::new();
    for (target, read) in TARGETS {
        let inputs: Vec<Vec<u8>> = kept(target)
            .iter()
            .map(|file| std::fs::read(file).unwrap())
            .collect();
        assert!(!inputs.is_empty(), "fuzz/corpus/{target}/ is empty");
        let mut rng = Rng(0x5EED_0000 + target.len() as u64);
        let started = Instant::now();
        let mut runs = 0u64;
        while started.elapsed() < budget() {
            let input = &inputs[rng.below(inputs.len())];
            let other = &inputs[rng.below(inputs.len())];
            let mutated = mutate(&mut rng, input, other);
            run_clean(target, read, &mutated, &format!("seeded mutation {runs}"));
            runs += 1;
        }
        report.push(format!("{target}: {runs} runs"));
    }
    eprintln!("{}", report.join(", "));
}

/// Writes the seeds of every target into `fuzz/corpus/<target>/`: real files of each
/// format, small (libFuzzer mutates small inputs faster). Run once by hand:
/// `cargo test --test fuzz -- --ignored write_seeds`.
#[test]
#[ignore = "writes the fuzz seeds into the repository"]
fn write_seeds() {
    let shared = common::shared().expect("../shared");
    let corpus = common::repo().join("fuzz/corpus");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    };
    seeds::jpegs(&shared, &write);
    seeds::raws(&shared, &write);
    seeds::dngs(&shared, &write);
    seeds::indexes(&write);
    seeds::search_caches(&write);
    seeds::thumbnail_caches(&shared, &write);
    seeds::journals(&write);
}

mod seeds {
    use super::*;
    use common::raw::*;

    type Write<'a> = &'a dyn Fn(&str, &str, &[u8]);

    fn encode(image: &image::RgbImage, restart: u16, progressive: bool) -> Vec<u8> {
        use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
        let mut bytes = Vec::new();
        let mut encoder = Encoder::new(&mut bytes, 80);
        encoder.set_sampling_factor(SamplingFactor::R_4_2_0);
        encoder.set_restart_interval(restart);
        encoder.set_progressive(progressive);
        let (w, h) = image.dimensions();
        encoder
            .encode(image.as_raw(), w as u16, h as u16, ColorType::Rgb)
            .unwrap();
        bytes
    }

    /// A real photo, small: baseline, with restart markers, progressive, grey, cut.
    pub fn jpegs(shared: &Path, write: Write) {
        let photo = image::open(shared.join("data/neardup-dev/jpg/o020.jpg"))
            .unwrap()
            .to_rgb8();
        let small = image::imageops::thumbnail(&photo, 96, 64);
        let baseline = encode(&small, 0, false);
        let restart = encode(&small, 2, false);
        let progressive = encode(&small, 0, true);
        let mut grey = Vec::new();
        image::DynamicImage::ImageRgb8(small.clone())
            .into_luma8()
            .write_to(
                &mut std::io::Cursor::new(&mut grey),
                image::ImageFormat::Jpeg,
            )
            .unwrap();
        for target in ["jpeg_dc", "jpeg_damage"] {
            write(target, "baseline.jpg", &baseline);
            write(target, "restart.jpg", &restart);
            write(target, "progressive.jpg", &progressive);
            write(target, "grey.jpg", &grey);
            write(target, "cut.jpg", &baseline[..baseline.len() / 2]);
        }
    }

    /// Each RAW container around a small preview and thumbnail.
    pub fn raws(shared: &Path, write: Write) {
        let preview = preview_jpeg(shared, 128);
        let thumb = preview_jpeg(shared, 48);
        write("raw", "dng", &tiff_raw(b"II*\0", &preview, &thumb, 6));
        write("raw", "orf", &tiff_raw(b"IIRO", &preview, &thumb, 3));
        write("raw", "nef", &big_endian_nef(&preview, &thumb));
        write("raw", "rw2", &rw2(&preview, 8));
        write("raw", "raf", &raf(&preview));
        write("raw", "cr3", &cr3(&preview, &thumb, 3));
    }

    /// Sensor data only (no preview): each storage of `common::dng`, both byte orders.
    pub fn dngs(shared: &Path, write: Write) {
        use common::dng::{Layout, RGGB, Storage, dng};
        let photo = image::open(shared.join("data/neardup-dev/jpg/o020.jpg"))
            .unwrap()
            .to_rgb8();
        let phone = Layout::PHONE;
        let tiled = Layout {
            cfa: RGGB,
            bits: 14,
            storage: Storage::LosslessTiles(32),
            margin: 2,
            orientation: 1,
            thumbnail: true,
            ..phone
        };
        let packed = Layout {
            big_endian: true,
            storage: Storage::Packed12,
            ..phone
        };
        let small = image::imageops::thumbnail(&photo, 48, 32);
        let tiles = image::imageops::thumbnail(&photo, 60, 60);
        write("sensor", "phone.dng", &dng(&small, &phone));
        write("sensor", "tiled.dng", &dng(&tiles, &tiled));
        write("sensor", "packed.dng", &dng(&small, &packed));
        // Each develops: the fuzzing starts from files that reach the development.
        for name in ["phone.dng", "tiled.dng", "packed.dng"] {
            let path = common::repo().join(format!("fuzz/corpus/sensor/seed-{name}"));
            lookalike_core::read::imaging::decode_file(&path, 1 << 20).unwrap();
        }
    }

    /// An index of each format version (6 as saved, and with a checkpoint appended;
    /// 5, 4, 3 and 2 as they were written).
    pub fn indexes(write: Write) {
        use lookalike_core::describe::model::Network;
        use lookalike_core::describe::pooling::Pooling;
        use lookalike_core::index::{Checkpoints, Entry, Index, MAGIC, Provenance};
        use lookalike_core::read::Damage;
        use lookalike_core::support::safefs::FileId;
        let provenance = Provenance {
            model_sha256: "ab".repeat(32),
            max_side: 1024,
            network: Network::Vgg16,
            pooling: Pooling::Rmac,
        };
        let mut index = Index::new(PathBuf::from("/photos"), provenance.clone());
        for (i, name) in ["2024/a.jpg", "2024/b.dng", "c.heic"].iter().enumerate() {
            index.entries.push(Entry {
                path: name.to_string(),
                size: 1000 + i as u64,
                mtime_ns: 1_700_000_000_000_000_000,
                file: FileId {
                    device: 1,
                    inode: 10 + i as u64,
                },
                via_link: i == 2,
                width: 640,
                height: 480,
                feature_map: [40, 30],
                raw: vec![0.25; 8],
                damage: (i == 1).then_some(Damage::CutShort { zeros: 0 }),
            });
        }
        let dir = tempfile::tempdir().unwrap();
        let saved = dir.path().join("i.lkidx");
        index.save(&saved).unwrap();
        write("index", "v6.lkidx", &std::fs::read(&saved).unwrap());
        // A checkpoint appended: one photo gone, another added.
        let (_, on_disk) = Index::load_on_disk(&saved).unwrap();
        let mut grown = index.clone();
        grown.entries.remove(0);
        grown.entries.push(Entry {
            path: "d.png".into(),
            ..index.entries[0].clone()
        });
        let gone = [index.entries[0].path.clone()];
        Checkpoints::new(saved.clone(), on_disk)
            .save(&grown, 2, &gone)
            .unwrap();
        write(
            "index",
            "v6-appended.lkidx",
            &std::fs::read(&saved).unwrap(),
        );
        let old: Vec<_> = index
            .entries
            .iter()
            .map(|e| {
                let raw: &[f32] = &e.raw;
                let fm = e.feature_map;
                (
                    &e.path, e.size, e.mtime_ns, e.file, e.via_link, e.width, e.height, fm, raw,
                )
            })
            .collect();
        let framed = |version: u32, body: Vec<u8>| {
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&version.to_le_bytes());
            bytes.extend_from_slice(&body);
            bytes
        };
        let root = &index.root;
        let damage = index.entries.iter().map(|e| e.damage);
        let v5: Vec<_> = old.iter().zip(damage).collect();
        let v5 = postcard::to_stdvec(&(root, &provenance, &v5)).unwrap();
        write("index", "v5.lkidx", &framed(5, v5));
        let v4 = postcard::to_stdvec(&(root, &provenance, &old)).unwrap();
        write("index", "v4.lkidx", &framed(4, v4));
        let v3_head = (&provenance.model_sha256, 1024u32, Network::Vgg16);
        let v3 = postcard::to_stdvec(&(root, v3_head, &old)).unwrap();
        write("index", "v3.lkidx", &framed(3, v3));
        let v2 = postcard::to_stdvec(&(root, (&provenance.model_sha256, 1024u32), &old)).unwrap();
        write("index", "v2.lkidx", &framed(2, v2));
    }

    /// The search's caches as `lookalike search` writes them (made from nothing, as
    /// the fuzz target reads them), of three rows with and without views.
    pub fn search_caches(write: Write) {
        use lookalike_core::describe::model::Network;
        use lookalike_core::describe::pooling::Pooling;
        use lookalike_core::find::search::{Database, saved};
        use lookalike_core::index::{Entry, Index, Provenance};
        use lookalike_core::support::safefs::FileId;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.search");
        let key = saved::Key::of(Path::new(""), None, None);
        let provenance = Provenance {
            model_sha256: "ab".repeat(32),
            max_side: 1024,
            network: Network::Vgg16,
            pooling: Pooling::Rmac,
        };
        let mut index = Index::new(PathBuf::from("/photos"), provenance);
        index.entries = (0..3)
            .map(|i| Entry {
                path: format!("{i}.jpg"),
                size: 1000,
                mtime_ns: 1_700_000_000_000_000_000,
                file: FileId {
                    device: 1,
                    inode: i,
                },
                via_link: false,
                width: 640,
                height: 480,
                feature_map: [40, 30],
                raw: Vec::new(),
                damage: None,
            })
            .collect();
        let rows: Vec<f32> = (0..24).map(|i| (i as f32).sin()).collect();
        let mut database = Database::new(8, rows).unwrap();
        saved::write(&path, &key, &index, &database).unwrap();
        write(
            "search_cache",
            "plain.search",
            &std::fs::read(&path).unwrap(),
        );
        database.add_views(&[0, 2], &[0.5; 16]).unwrap();
        saved::write(&path, &key, &index, &database).unwrap();
        write(
            "search_cache",
            "views.search",
            &std::fs::read(&path).unwrap(),
        );
    }

    /// Thumbnail caches as the duplicate finder writes them, of two and three photos.
    pub fn thumbnail_caches(shared: &Path, write: Write) {
        use lookalike_core::index::{Entry, Index, Provenance};
        let jpg = shared.join("data/neardup-dev/jpg");
        let provenance = Provenance {
            model_sha256: "ab".repeat(32),
            max_side: 1024,
            network: lookalike_core::describe::model::Network::Vgg16,
            pooling: lookalike_core::describe::pooling::Pooling::Rmac,
        };
        for names in [
            &["o020.jpg", "o020_rot90.jpg", "o021.jpg"][..],
            &["o030.jpg", "o030_crop50.jpg"],
        ] {
            let mut index = Index::new(jpg.clone(), provenance.clone());
            for name in names {
                let (meta, file) = lookalike_core::support::safefs::stat(&jpg.join(name)).unwrap();
                index.entries.push(Entry {
                    path: name.to_string(),
                    size: meta.len(),
                    mtime_ns: lookalike_core::index::mtime_ns(&meta),
                    file,
                    via_link: false,
                    width: 224,
                    height: 224,
                    feature_map: [14, 14],
                    raw: Vec::new(),
                    damage: None,
                });
            }
            let dir = tempfile::tempdir().unwrap();
            let index_path = dir.path().join("i.lkidx");
            let made = lookalike_core::find::dupes::update_thumbnails(
                &index,
                &index_path,
                Some(lookalike_core::read::imaging::DEFAULT_MAX_PIXELS),
                lookalike_core::index::Control::unattended(),
            )
            .unwrap();
            assert!(made.failures.is_empty());
            let cache = std::fs::read(index_path.with_extension("px")).unwrap();
            write("thumbnail_cache", &format!("{}.px", names.len()), &cache);
        }
    }

    /// Undo journals: a batch moved, one undone, a torn last line, the old format.
    pub fn journals(write: Write) {
        let file = r#""file":{"size":10,"mtime_ns":5,"inode":7}"#;
        let to = r#""to":{"trashed":{"file":"/home/me/.local/share/Trash/files/a copy.jpg","info":"/home/me/.local/share/Trash/info/a copy.jpg.trashinfo"}}"#;
        let intent =
            format!(r#"{{"event":"intent","batch":1,"from":"/photos/a copy.jpg",{to},{file}}}"#);
        let moved =
            format!(r#"{{"event":"moved","batch":1,"from":"/photos/a copy.jpg",{to},{file}}}"#);
        let restored = r#"{"event":"restored","batch":1,"from":"/photos/a copy.jpg"}"#;
        let old = r#"{"event":"moved","batch":2,"from":"/photos/b.jpg","to":"trash"}"#;
        let folder =
            r#"{"event":"moved","batch":3,"from":"/photos/c.jpg","to":{"file":"/bin/c.jpg"}}"#;
        write(
            "journal",
            "moved.jsonl",
            format!("{intent}\n{moved}\n").as_bytes(),
        );
        write(
            "journal",
            "undone.jsonl",
            format!("{intent}\n{moved}\n{restored}\n{old}\n{folder}\n").as_bytes(),
        );
        write(
            "journal",
            "torn.jsonl",
            format!("{intent}\n{}\n{moved}\n", &moved[..40]).as_bytes(),
        );
    }
}
