//! A library of N photos at scale: a synthetic library whose descriptors follow real
//! ones, written through the real index API, then opened, searched and grouped for
//! duplicates as `lookalike` does. One figure a line, `name: value unit`.
//!
//! ```sh
//! # The real descriptors it follows (indexes with their turned views described):
//! lookalike index ../shared/data/imagenette/val --index target/scale/in.lkidx
//! lookalike dupes --index target/scale/in.lkidx > /dev/null
//! lookalike index ../shared/data/neardup-dev/jpg --index target/scale/nd.lkidx
//! lookalike dupes --index target/scale/nd.lkidx > /dev/null
//! cargo bench --profile dev --bench scale -- --photos 100000 \
//!     --real target/scale/in.lkidx --real target/scale/nd.lkidx [--exact-recall] [--skip-dupes]
//! ```
//!
//! **The library.** A distinct picture is an even mixture of four real pictures (its
//! deviation from the mean picture scaled back to one picture's), described as they are
//! and turned, with a thumbnail of its own (random shapes and fine detail): at the size
//! of imagenette's validation set (3,925) this is about as crowded as it, whitened as
//! `dupes` whitens (the median photo's nearest other at similarity 0.32 against 0.28;
//! 3.1e-5 of pairs within the loosest duplicate threshold against 5.9e-5), and the
//! crowd grows with the library (more pictures share a real one). Every tenth
//! picture has a planted copy: the picture plus the difference between a real original
//! of neardup-dev and one of its edits (blur, colour, crops, JPEG 15, mirrored, turned,
//! half size), as it is and turned, so the copies lie at the real distances, the hard
//! ones near the threshold included; its thumbnail is the original's with noise of its
//! own (turned for a turned edit). The pixels are idealised: a copy's agree with its
//! original's, two distinct pictures' never do.
//!
//! **The figures.** `checkpoint_mb` (the index and its turned cache as saved whole),
//! `first_run_written_mb` (the index's bytes written by the checkpoints of a first run
//! growing it a hundredth at a time), `checkpoint_append_kb` (one checkpoint of 30 s of
//! describing on the CPU appended to the whole library),
//! `open_seconds` (load and whiten, as `lookalike search` does; the page cache dropped
//! first when the bench may), `search_p50_ms` / `search_p99_ms` (200 queries, top 100),
//! `dupes_seconds` and `dupes_peak_rss_mb` (the whole grouping, memory above what was
//! resident before it), `planted_pairs_recall` (planted copies under the thresholds that
//! the candidate search finds), `planted_copies_grouped`, `wrong_proposals` (a photo
//! proposed that is not the planted copy of its keeper), and with `--exact-recall`
//! `exact_pairs_recall` (the candidate pairs of the library's search against the exact
//! search's) and `exact_verified_pairs_recall` (the same, of the exact pairs that the
//! descriptors verify: those that can become copies).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use lookalike_core::find::dupes::{self, Keeping, Rule, Search, Thumbnail, Variant, Verifier};
use lookalike_core::find::search::{Database, Metric};
use lookalike_core::find::views;
use lookalike_core::find::whitening::{self, Source};
use lookalike_core::index::{Checkpoints, Control, Entry, Index};
use lookalike_core::support::safefs::FileId;
use lookalike_core::{Intent, Whitening};

fn main() {
    let args = Args::parse();
    if args.real.is_empty() {
        // `cargo bench` runs every bench: this one needs real indexes to follow.
        eprintln!("scale: nothing measured; pass --real INDEX (see benches/scale.rs)");
        return;
    }
    let pool = Pool::load(&args.real);
    println!("real_pictures: {} pictures", pool.pictures.len());
    println!("real_copies: {} edits", pool.edits.len());
    let started = Instant::now();
    let library = Library::generate(&pool, args.photos);
    println!("generate_seconds: {:.1} s", started.elapsed().as_secs_f64());
    println!("photos: {} photos", library.index.entries.len());
    println!("planted_copies: {} copies", library.planted.len());

    std::fs::create_dir_all(&args.out).expect("output folder");
    let path = args.out.join(format!("scale-{}.lkidx", args.photos));
    let started = Instant::now();
    library.index.save(&path).expect("index saved");
    let turned_path = dupes::variant_cache_path(&path, Variant::QuarterTurn);
    library
        .turned
        .save(&turned_path)
        .expect("turned cache saved");
    let bytes = file_size(&path) + file_size(&turned_path);
    println!("checkpoint_mb: {:.1} MB", bytes as f64 / 1e6);
    println!(
        "checkpoint_seconds: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    checkpoints(&args.out, &library.index, file_size(&path));
    version_5(&args.out, &library.index, &path);
    let whitening = pool.whitening.clone();
    drop(library.index);
    drop(library.turned);

    let (index, db) = open(&path, &whitening);
    search(&db, index.entries.len(), "search");
    if args.skip_dupes {
        drop((index, db));
        open_cached(&path, &whitening);
        return;
    }
    open_cached(&path, &whitening);
    let planted = (&library.planted[..], &library.thumbnails[..]);
    dupes(&path, &index, &db, &whitening, planted, args.exact_recall);
}

struct Args {
    photos: usize,
    real: Vec<PathBuf>,
    out: PathBuf,
    exact_recall: bool,
    skip_dupes: bool,
}

impl Args {
    fn parse() -> Self {
        let mut args = Self {
            photos: 100_000,
            real: Vec::new(),
            out: PathBuf::from("target/scale"),
            exact_recall: false,
            skip_dupes: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--photos" => args.photos = it.next().and_then(|n| n.parse().ok()).expect("N"),
                "--real" => args.real.push(it.next().expect("an index").into()),
                "--out" => args.out = it.next().expect("a folder").into(),
                "--exact-recall" => args.exact_recall = true,
                "--skip-dupes" => args.skip_dupes = true,
                _ => {} // cargo bench's own flags
            }
        }
        args
    }
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// A picture's unit raw descriptors, as it is and turned.
type Picture = (Vec<f32>, Vec<f32>);

/// One of a [`Picture`]'s two.
type Side = fn(&Picture) -> &Vec<f32>;

/// Real descriptors: distinct pictures as they are and turned (unit raw descriptors),
/// and the differences between real originals and their edits.
struct Pool {
    template: Index,
    whitening: Whitening,
    pictures: Vec<Picture>,
    /// Each edit's difference as it is and turned, and whether it turns the photo.
    edits: Vec<(Vec<f32>, Vec<f32>, bool)>,
    mean: Picture,
}

fn unit(v: &[f32]) -> Vec<f32> {
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::MIN_POSITIVE);
    v.iter().map(|x| x / norm).collect()
}

/// neardup-dev's names: `oNNN.jpg` an original, `oNNN_EDIT.jpg` one of its edits.
fn neardup_name(path: &str) -> Option<(&str, bool)> {
    let name = path.rsplit('/').next()?;
    let label = name
        .get(..4)
        .filter(|l| l.starts_with('o') && l[1..].bytes().all(|b| b.is_ascii_digit()))?;
    Some((label, name.as_bytes().get(4) == Some(&b'_')))
}

impl Pool {
    fn load(paths: &[PathBuf]) -> Self {
        let (mut pictures, mut edits) = (Vec::new(), Vec::new());
        let mut template = None;
        for path in paths {
            let index = Index::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let views = dupes::update_variants(&index, path, None, Control::unattended())
                .expect("variant caches")
                .aligned;
            let Some((_, turned)) = views.into_iter().find(|(v, _)| *v == Variant::QuarterTurn)
            else {
                panic!(
                    "{}: no turned views (run `lookalike dupes` on it)",
                    path.display()
                );
            };
            let mut originals = std::collections::HashMap::new();
            let mut pending = Vec::new();
            let described: Vec<(&Entry, Vec<f32>, Vec<f32>)> = index
                .entries
                .iter()
                .zip(&turned.entries)
                .filter(|(e, t)| e.raw != t.raw)
                .map(|(e, t)| (e, unit(&e.raw), unit(&t.raw)))
                .collect();
            for (entry, raw, turned) in &described {
                match neardup_name(&entry.path) {
                    Some((label, true)) => {
                        let turns = entry.path.contains("rot");
                        pending.push((label, raw, turned, turns))
                    }
                    Some((label, false)) => {
                        originals.insert(label, (raw.clone(), turned.clone()));
                        pictures.push((raw.clone(), turned.clone()));
                    }
                    None => pictures.push((raw.clone(), turned.clone())),
                }
            }
            for (label, raw, turned, turns) in pending {
                let Some((o_raw, o_turned)) = originals.get(label) else {
                    continue;
                };
                let minus = |x: &[f32], y: &[f32]| -> Vec<f32> {
                    x.iter().zip(y).map(|(a, b)| a - b).collect()
                };
                edits.push((minus(raw, o_raw), minus(turned, o_turned), turns));
            }
            template.get_or_insert(index);
        }
        let template = template.expect("a real index");
        let p = &template.provenance;
        // The whitening `lookalike dupes` uses (the shape its rule was calibrated with).
        let shipped = Source::Shipped(Intent::Instance.shape());
        let whitening = whitening::choose(shipped, p, None)
            .ok()
            .and_then(|chosen| chosen.whitening)
            .expect("the shipped whitening fits the real indexes");
        assert!(
            !edits.is_empty(),
            "no neardup-dev originals and edits among the real indexes"
        );
        let mean = |which: Side| {
            let dim = which(&pictures[0]).len();
            let mut mean = vec![0.0f32; dim];
            for p in &pictures {
                for (m, x) in mean.iter_mut().zip(which(p)) {
                    *m += x / pictures.len() as f32;
                }
            }
            mean
        };
        let mean = (mean(|p| &p.0), mean(|p| &p.1));
        Self {
            template,
            whitening,
            pictures,
            edits,
            mean,
        }
    }
}

/// A seeded generator (splitmix64).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// In (0, 1].
    fn unit(&mut self) -> f32 {
        ((self.next() >> 40) as f32 + 1.0) / (1u64 << 24) as f32
    }
}

/// The synthetic library: its index, its turned cache, and each planted copy as
/// `(original row, copy row)`.
struct Library {
    index: Index,
    turned: Index,
    thumbnails: Vec<Option<Thumbnail>>,
    planted: Vec<(usize, usize)>,
}

impl Library {
    fn generate(pool: &Pool, photos: usize) -> Self {
        let mut random = Random(42);
        let mut index = Index::new(PathBuf::from("/scale"), pool.template.provenance.clone());
        let mut turned = index.clone();
        let mut planted = Vec::new();
        let mut thumbnails = Vec::new();
        let add = |index: &mut Index, turned: &mut Index, raw: Vec<f32>, turned_raw: Vec<f32>| {
            let row = index.entries.len();
            let entry = Entry {
                path: format!("{:03}/{row:07}.jpg", row / 1000),
                size: 1_000_000 + row as u64,
                mtime_ns: 0,
                file: FileId {
                    device: 1,
                    inode: 1 + row as u64,
                },
                via_link: false,
                width: 1024,
                height: 768,
                feature_map: [64, 48],
                raw,
                damage: None,
            };
            turned.entries.push(Entry {
                raw: turned_raw,
                ..entry.clone()
            });
            index.entries.push(entry);
            row
        };
        while index.entries.len() < photos {
            let (raw, turned_raw) = mixture(pool, &mut random);
            let original = add(&mut index, &mut turned, raw.clone(), turned_raw.clone());
            let picture = picture(&mut random);
            thumbnails.push(Some(Thumbnail::of(&picture)));
            if original % 10 == 0 && index.entries.len() < photos {
                let (d_raw, d_turned, turns) = &pool.edits[random.below(pool.edits.len())];
                let copy = match turns {
                    true => image::imageops::rotate90(&picture),
                    false => picture,
                };
                thumbnails.push(Some(Thumbnail::of(&noisy(copy, &mut random))));
                let plus = |x: &[f32], d: &[f32]| x.iter().zip(d).map(|(a, b)| a + b).collect();
                let copy = add(
                    &mut index,
                    &mut turned,
                    plus(&raw, d_raw),
                    plus(&turned_raw, d_turned),
                );
                planted.push((original, copy));
            }
        }
        Self {
            index,
            turned,
            thumbnails,
            planted,
        }
    }
}

/// Real pictures a distinct picture mixes.
const MIXED: usize = 4;

/// A distinct picture: [`MIXED`] real ones mixed evenly, its deviation from the mean
/// picture scaled back to one picture's; as it is and turned.
fn mixture(pool: &Pool, random: &mut Random) -> Picture {
    let picks: Vec<usize> = (0..MIXED)
        .map(|_| random.below(pool.pictures.len()))
        .collect();
    let weight = 1.0 / (MIXED as f32).sqrt();
    let mix = |which: Side, mean: &[f32]| -> Vec<f32> {
        let mut out = mean.to_vec();
        for &p in &picks {
            for ((o, x), m) in out.iter_mut().zip(which(&pool.pictures[p])).zip(mean) {
                *o += weight * (x - m);
            }
        }
        out
    };
    (mix(|p| &p.0, &pool.mean.0), mix(|p| &p.1, &pool.mean.1))
}

/// A distinct picture's pixels, as its thumbnail sees them: smooth random shapes (a
/// coarse random grid, enlarged) and fine detail of its own.
fn picture(random: &mut Random) -> image::RgbImage {
    let (w, h, grid) = (48u32, 36u32, 6u32);
    let coarse: Vec<f32> = (0..(grid + 1) * (grid + 1) * 3)
        .map(|_| random.unit() * 255.0)
        .collect();
    image::RgbImage::from_fn(w, h, |x, y| {
        let (gx, gy) = (
            x as f32 * grid as f32 / w as f32,
            y as f32 * grid as f32 / h as f32,
        );
        let (x0, y0) = (gx as u32, gy as u32);
        let (fx, fy) = (gx - x0 as f32, gy - y0 as f32);
        let at = |x: u32, y: u32, c: u32| coarse[((y * (grid + 1) + x) * 3 + c) as usize];
        image::Rgb(std::array::from_fn(|c| {
            let c = c as u32;
            let top = at(x0, y0, c) * (1.0 - fx) + at(x0 + 1, y0, c) * fx;
            let bottom = at(x0, y0 + 1, c) * (1.0 - fx) + at(x0 + 1, y0 + 1, c) * fx;
            let detail = (random.unit() - 0.5) * 60.0;
            (top * (1.0 - fy) + bottom * fy + detail).clamp(0.0, 255.0) as u8
        }))
    })
}

/// `picture` with a little noise of its own (a copy's re-encoding).
fn noisy(mut picture: image::RgbImage, random: &mut Random) -> image::RgbImage {
    for p in picture.pixels_mut() {
        for c in &mut p.0 {
            *c = (*c as f32 + (random.unit() - 0.5) * 12.0).clamp(0.0, 255.0) as u8;
        }
    }
    picture
}

/// Peak and current resident memory (VmHWM, VmRSS), in bytes.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Photos the CPU engine describes between two checkpoints (30 s at 0.885 a second).
const CHECKPOINT_PHOTOS: usize = 27;

/// A first run's checkpoints as `lookalike index` writes them (through
/// `Checkpoints`): the library grown a hundredth at a time, then one checkpoint of
/// [`CHECKPOINT_PHOTOS`] appended to the whole.
fn checkpoints(out: &Path, index: &Index, whole: u64) {
    let path = out.join("first-run.lkidx");
    let _ = std::fs::remove_file(&path);
    let mut growing = Index::new(index.root.clone(), index.provenance.clone());
    let mut checkpoints = Checkpoints::new(path.clone(), None);
    let (first, last) = index
        .entries
        .split_at(index.entries.len() - CHECKPOINT_PHOTOS);
    let step = first.len().div_ceil(100);
    let started = Instant::now();
    let (mut written, mut rewritten) = (0, 0.0);
    for chunk in first.chunks(step) {
        let from = growing.entries.len();
        growing.entries.extend_from_slice(chunk);
        written += checkpoints.save(&growing, from, &[]).expect("checkpoint");
        // Before version 6 every checkpoint wrote the whole index.
        rewritten += whole as f64 * growing.entries.len() as f64 / index.entries.len() as f64;
    }
    println!(
        "first_run_written_mb: {:.1} MB ({} checkpoints of {step} photos in {:.1} s; \
         the index then {:.1} MB)",
        written as f64 / 1e6,
        first.len().div_ceil(step),
        started.elapsed().as_secs_f64(),
        file_size(&path) as f64 / 1e6
    );
    println!(
        "first_run_rewritten_mb: {:.1} MB (the same checkpoints each writing the whole index)",
        rewritten / 1e6
    );
    let from = growing.entries.len();
    growing.entries.extend_from_slice(last);
    let started = Instant::now();
    let appended = checkpoints.save(&growing, from, &[]).expect("checkpoint");
    println!(
        "checkpoint_append_kb: {:.1} kB ({CHECKPOINT_PHOTOS} photos appended in {:.1} ms; \
         {:.1} MB whole)",
        appended as f64 / 1e3,
        started.elapsed().as_secs_f64() * 1e3,
        whole as f64 / 1e6
    );
    drop(growing);
    let started = Instant::now();
    let read = Index::load(&path).expect("index loads");
    assert_eq!(read.entries.len(), index.entries.len());
    println!(
        "open_appended_seconds: {:.2} s (warm, the index as checkpointed)",
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_file(&path);
}

/// The index as version 5 wrote it (one postcard body, saved whole at every
/// checkpoint) against today's, saved and read in the same run: the before and after.
fn version_5(out: &Path, index: &Index, today: &Path) {
    use std::io::Write;
    let path = out.join("version-5.lkidx");
    let started = Instant::now();
    let mut bytes = lookalike_core::index::MAGIC.to_vec();
    bytes.extend_from_slice(&5u32.to_le_bytes());
    bytes.extend_from_slice(&postcard::to_stdvec(index).expect("serialised"));
    let mut file = std::fs::File::create(&path).expect("version 5 file");
    file.write_all(&bytes).expect("written");
    file.sync_all().expect("synced");
    println!(
        "v5_save_seconds: {:.2} s ({:.1} MB)",
        started.elapsed().as_secs_f64(),
        bytes.len() as f64 / 1e6
    );
    drop(bytes);
    for (name, path) in [("v5", &path), ("v6", &today.to_path_buf())] {
        let started = Instant::now();
        let read = Index::load(path).expect("index loads");
        assert_eq!(read.entries.len(), index.entries.len());
        println!(
            "{name}_load_seconds: {:.2} s (warm)",
            started.elapsed().as_secs_f64()
        );
    }
    let _ = std::fs::remove_file(&path);
}

/// Restarts the peak of resident memory at what is resident now.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Loads and whitens the index at `path`, as `lookalike search` does (the page cache
/// dropped first, when this process may).
fn open(path: &Path, whitening: &Whitening) -> (Index, Database) {
    let cold = std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok();
    let started = Instant::now();
    let index = Index::load(path).expect("index loads");
    let loaded = started.elapsed().as_secs_f64();
    let db = Database::from_index(&index, Some(whitening)).expect("whitened");
    println!("open_load_seconds: {loaded:.2} s");
    println!(
        "open_seconds: {:.2} s ({})",
        started.elapsed().as_secs_f64(),
        if cold {
            "cold"
        } else {
            "warm: page cache not dropped"
        }
    );
    let descriptors = db.rows().len() * 4;
    println!("descriptors_mb: {:.1} MB", descriptors as f64 / 1e6);
    (index, db)
}

fn percentile(times: &mut [f64], q: f64) -> f64 {
    times.sort_by(f64::total_cmp);
    times[((times.len() - 1) as f64 * q).round() as usize]
}

/// Opens the library through the search's cache beside the index, as `lookalike
/// search` does: once to write it, then cold (the page cache dropped, when this
/// process may) to read it; a first search then, and more searches.
fn open_cached(path: &Path, whitening: &Whitening) {
    let started = Instant::now();
    let written = views::open(path, Some(whitening), false).expect("opened");
    assert!(
        matches!(written.cache, views::Cache::Written),
        "{:?}",
        written.cache
    );
    drop(written);
    println!(
        "search_cache_write_seconds: {:.2} s ({:.0} MB)",
        started.elapsed().as_secs_f64(),
        file_size(&path.with_extension("search")) as f64 / 1e6
    );
    let cold = std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok();
    let started = Instant::now();
    let opened = views::open(path, Some(whitening), false).expect("opened");
    assert!(
        matches!(opened.cache, views::Cache::Read),
        "{:?}",
        opened.cache
    );
    let open = started.elapsed().as_secs_f64();
    let db = &opened.database;
    let query = db.row(db.len() / 3).to_vec();
    let hits = db.search(&query, Metric::Cosine, 100).expect("search");
    assert_eq!(hits.len(), 100);
    let warmth = if cold {
        "cold"
    } else {
        "warm: page cache not dropped"
    };
    println!("open_cached_seconds: {open:.2} s ({warmth})");
    println!(
        "search_cold_seconds: {:.2} s (open through the cache + a first search, {warmth})",
        started.elapsed().as_secs_f64()
    );
    // The rows read in place come from the disk as searches need them: 200 searches
    // just after the cold open, then as many with the whole cache in the page cache.
    search(db, db.len(), "search_cached_cold");
    let _ = std::fs::read(path.with_extension("search"));
    search(db, db.len(), "search_cached");
}

fn search(db: &Database, photos: usize, name: &str) {
    let mut random = Random(7);
    let dim = db.dim();
    let mut times: Vec<f64> = (0..200)
        .map(|_| {
            let row = random.below(photos);
            let query = db.rows()[row * dim..(row + 1) * dim].to_vec();
            let started = Instant::now();
            let hits = db.search(&query, Metric::Cosine, 100).expect("search");
            // The query's own row first, or a row tied with it (a picture drawn twice
            // from a small pool of real ones).
            let own = hits
                .iter()
                .find(|hit| hit.row == row)
                .expect("own row found");
            assert!(own.distance <= hits[0].distance + 1e-6);
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    println!("{name}_p50_ms: {:.2} ms", percentile(&mut times, 0.5));
    println!("{name}_p99_ms: {:.2} ms", percentile(&mut times, 0.99));
}

/// Groups the library's duplicates as `lookalike dupes` does, and scores them against
/// the planted copies.
fn dupes(
    path: &Path,
    index: &Index,
    db: &Database,
    whitening: &Whitening,
    (planted, thumbnails): (&[(usize, usize)], &[Option<Thumbnail>]),
    exact_recall: bool,
) {
    let views = dupes::update_variants(index, path, None, Control::unattended())
        .expect("turned cache")
        .aligned;
    let views: Vec<(Variant, Database)> = views
        .iter()
        .map(|(v, i)| {
            (
                *v,
                Database::from_index(i, Some(whitening)).expect("whitened"),
            )
        })
        .collect();
    let rows: Vec<(Variant, &[f32])> = views.iter().map(|(v, d)| (*v, d.rows())).collect();
    let rule = Rule::calibrated(index.provenance.pooling, true);
    let control = Control::unattended();
    reset_peak();
    let before = memory().1;
    let started = Instant::now();
    let keeping = Keeping::default();
    let found =
        dupes::find_in(index, db, &views, thumbnails, rule, &keeping, control).expect("grouped");
    println!("dupes_seconds: {:.1} s", started.elapsed().as_secs_f64());
    let peak = memory().0.saturating_sub(before);
    println!("dupes_peak_rss_mb: {:.0} MB", peak as f64 / 1e6);
    println!("search: {:?}", Search::for_library(index.entries.len()));

    let copy_of: std::collections::HashMap<usize, usize> = planted
        .iter()
        .flat_map(|&(o, c)| [(o, c), (c, o)])
        .collect();
    let (mut grouped, mut wrong, mut proposed) = (0, 0, 0);
    for group in &found.groups {
        let keeper = group.members()[group.keeper()].row;
        for copy in group.copies() {
            proposed += 1;
            match copy_of.get(&group.members()[copy].row) == Some(&keeper) {
                true => grouped += 1,
                false => {
                    wrong += 1;
                    if wrong <= 8 && std::env::var_os("SCALE_WHY").is_some() {
                        println!("  wrong: {}", group.check(copy, group.keeper()).why());
                    }
                }
            }
        }
    }
    println!("groups: {} groups, {proposed} proposed", found.groups.len());
    println!(
        "planted_copies_grouped: {:.4} ({grouped} of {})",
        grouped as f64 / planted.len().max(1) as f64,
        planted.len()
    );
    println!("wrong_proposals: {wrong} photos");

    // The candidate search alone: which planted copies under the thresholds it finds.
    let dim = db.dim();
    let started = Instant::now();
    let described = dupes::Described {
        rows: db.rows(),
        dim,
        views: &rows,
        unwhitening: db.unwhitening(),
    };
    let (verifier, pairs) = Verifier::new(described, rule, control).expect("candidates");
    println!(
        "candidates_seconds: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("candidate_pairs: {} pairs", pairs.len());
    let by_descriptors = pairs
        .iter()
        .filter(|p| verifier.check(p.a, p.b).verified)
        .count();
    println!("pairs_for_the_pixels: {by_descriptors} pairs");
    let found: HashSet<(usize, usize)> = pairs.iter().map(|p| (p.a, p.b)).collect();
    let row = |m: &[f32], i: usize| m[i * dim..(i + 1) * dim].to_vec();
    let distance =
        |x: Vec<f32>, y: Vec<f32>| 1.0 - x.iter().zip(&y).map(|(a, b)| a * b).sum::<f32>();
    let turned = rows
        .iter()
        .find(|(v, _)| *v == Variant::QuarterTurn)
        .map(|r| r.1);
    let under: Vec<(usize, usize)> = planted
        .iter()
        .copied()
        .filter(|&(o, c)| {
            let plain = distance(row(db.rows(), o), row(db.rows(), c)) < rule.candidates();
            let turned = turned.is_some_and(|t| {
                distance(row(t, o), row(db.rows(), c)).min(distance(row(t, c), row(db.rows(), o)))
                    < rule.turned
            });
            plain || turned
        })
        .collect();
    let hit = under
        .iter()
        .filter(|&&(o, c)| found.contains(&(o.min(c), o.max(c))))
        .count();
    println!(
        "planted_pairs_recall: {:.4} ({hit} of {} planted under the thresholds)",
        hit as f64 / under.len().max(1) as f64,
        under.len()
    );
    if exact_recall {
        let started = Instant::now();
        let exact = Verifier::with_search(described, rule, Search::Exact, control)
            .expect("exact candidates")
            .1;
        println!(
            "exact_candidates_seconds: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let kept = exact.iter().filter(|p| found.contains(&(p.a, p.b))).count();
        println!(
            "exact_pairs_recall: {:.4} ({kept} of {} exact candidate pairs)",
            kept as f64 / exact.len().max(1) as f64,
            exact.len()
        );
        // The exact candidates that can become copies: those the descriptors verify.
        let verified: Vec<_> = exact
            .iter()
            .filter(|p| verifier.check(p.a, p.b).verified)
            .collect();
        let kept = verified
            .iter()
            .filter(|p| found.contains(&(p.a, p.b)))
            .count();
        println!(
            "exact_verified_pairs_recall: {:.4} ({kept} of {} exact pairs the descriptors verify)",
            kept as f64 / verified.len().max(1) as f64,
            verified.len()
        );
    }
}
