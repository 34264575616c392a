//! `lookalike index` with the default settings on 24-megapixel camera JPEGs: photos per
//! second end to end, this build against an earlier build's binary when given (the
//! "before"), each run several times in turns and its fastest run kept, with and
//! without the one-time start (an empty folder indexed: weights loaded); then where a
//! photo's time goes, stage by stage: decoding, the network upright at 1,024 px, and
//! the turned view, with Winograd F(2x2, 3x3) at 1,024 px (the algorithm and turned
//! view before) and F(4x4, 3x3) at `TURNED_SIDE` (now), both with today's tiling; and
//! the network's arithmetic rate, executed and effective (the direct convolution's
//! operations divided by the time), against this CPU's fp32 peak.
//!
//! Photos: `bash benches/camera-jpegs.sh`, then `cargo bench --profile dev --bench
//! camera_jpeg` once (it makes `target/camera-jpegs/`, 6000 x 4000, quality 92). Run:
//! `[LOOKALIKE_BEFORE=path/to/older/lookalike] cargo bench --profile dev --bench
//! index_throughput` (`LOOKALIKE_ROUNDS`: runs of each binary, default 3;
//! `LOOKALIKE_PEAK_GFLOPS`: the CPU's fp32 peak, default 190, the 2-core development
//! machine's). The "before" of docs/speed.md is commit 4b8f075's `lookalike`.

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use lookalike_core::Vgg16Weights;
use lookalike_core::describe::model::VGG16_LAYERS;
use lookalike_core::describe::net::{CpuVgg, NetInput, WinogradTile};
use lookalike_core::describe::pooling::{Pooling, pool};
use lookalike_core::index::variants::TURNED_SIDE;
use lookalike_core::read::imaging::{self, DEFAULT_MAX_SIDE, LoadOptions};

/// Photos whose stages are timed one by one (the end-to-end run takes them all).
const STAGED: usize = 4;

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let folder = repo.join("target/camera-jpegs");
    let model = repo.join("../shared/models/vgg16_imagenet_features.safetensors");
    if !folder.is_dir() || !model.is_file() {
        eprintln!(
            "SKIPPED: needs {} (see the header) and {}",
            folder.display(),
            model.display()
        );
        return;
    }
    let mut photos: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    photos.sort();
    let n = photos.len() as f64;
    println!(
        "{} photos of 6000 x 4000 in {}",
        photos.len(),
        folder.display()
    );

    let mut binaries = vec![("now", PathBuf::from(env!("CARGO_BIN_EXE_lookalike")))];
    if let Some(before) = std::env::var_os("LOOKALIKE_BEFORE") {
        binaries.insert(0, ("before", PathBuf::from(before)));
    }
    // Each binary indexes the folder ROUNDS times, taking turns (the machine's speed
    // drifts by several per cent over minutes); the fastest run of each is compared.
    let rounds: usize = std::env::var("LOOKALIKE_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let empty = tempfile::tempdir().unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let mut best: Vec<Option<(f64, f64, f64)>> = vec![None; binaries.len()];
    for round in 1..=rounds {
        for ((label, binary), best) in binaries.iter().zip(&mut best) {
            let (start, _) = index_folder(binary, empty.path(), &model);
            let (time, cpu) = index_folder(binary, &folder, &model);
            let (time, start) = (time.as_secs_f64(), start.as_secs_f64());
            let busy = cpu.map_or(f64::NAN, |cpu| cpu / time);
            println!(
                "end to end, {label}, run {round}: {time:.1} s, {:.3} s a photo \
                 ({:.3} without the start, {start:.2} s), {busy:.2} of {cores} cores busy",
                time / n,
                (time - start) / n,
            );
            if best.is_none_or(|(t, _, _)| time < t) {
                *best = Some((time, (time - start) / n, busy));
            }
        }
    }
    for ((label, _), best) in binaries.iter().zip(&best) {
        if let Some((time, per_photo, busy)) = best {
            println!(
                "end to end, {label}, fastest of {rounds}: {:.3} s a photo, {:.3} photos/s; \
                 {per_photo:.3} s a photo without the start; {busy:.2} of {cores} cores busy",
                time / n,
                n / time,
            );
        }
    }
    if let [Some((before, before_photo, _)), Some((now, now_photo, _))] = best[..] {
        println!(
            "end to end: now / before = {:.3} ({:.2}x faster); a photo without the start: \
             now / before = {:.3} ({:.2}x faster)",
            now / before,
            before / now,
            now_photo / before_photo,
            before_photo / now_photo
        );
    }

    let weights = Vgg16Weights::load(&model).unwrap();
    stages(&weights, &photos[..STAGED.min(photos.len())]);
}

/// `lookalike index` of `folder` into a fresh index, default settings, `cpu` engine:
/// the wall time, and the CPU time it used (Linux: `None` elsewhere).
fn index_folder(binary: &Path, folder: &Path, model: &Path) -> (Duration, Option<f64>) {
    let scratch = tempfile::tempdir().unwrap();
    let cpu_before = children_cpu_seconds();
    let started = Instant::now();
    let status = Command::new(binary)
        .arg("index")
        .arg(folder)
        .arg("--index")
        .arg(scratch.path().join("camera.lkidx"))
        .args(["--backend", "cpu"])
        .env("LOOKALIKE_MODEL", model)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{} index failed", binary.display());
    let wall = started.elapsed();
    let cpu = children_cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    (wall, cpu)
}

/// User + system time of this process's waited-for children (`/proc/self/stat`'s
/// `cutime` and `cstime`, in clock ticks of 1/100 s).
fn children_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<f64>().ok();
    Some((ticks(16)? + ticks(17)?) / 100.0)
}

/// One photo's stages, before and now, median over `photos`.
fn stages(weights: &Vgg16Weights, photos: &[PathBuf]) {
    let f2 = CpuVgg::with_tile(weights, WinogradTile::F2).unwrap();
    let f4 = CpuVgg::with_tile(weights, WinogradTile::F4).unwrap();
    let load = |p: &Path, side: u32| {
        let options = LoadOptions {
            max_side: Some(side),
            ..LoadOptions::default()
        };
        imaging::load(p, &options).unwrap().rgb
    };
    let input = |rgb: &image::RgbImage| NetInput {
        height: rgb.height() as usize,
        width: rgb.width() as usize,
        data: weights.preprocessing().apply(rgb.as_raw()),
    };
    let describe =
        |net: &CpuVgg, rgb: &image::RgbImage| pool(Pooling::Rmac, &net.conv5_3(&input(rgb)));
    let turned = |rgb: &image::RgbImage| image::imageops::rotate90(rgb);
    let upright = load(&photos[0], DEFAULT_MAX_SIDE);
    let rows: Vec<(&str, Duration)> = vec![
        (
            "decode for the network (1,024 px)",
            common::median(photos, 2, |p| load(p, DEFAULT_MAX_SIDE)),
        ),
        (
            "decode for the turned view (now: 512 px)",
            common::median(photos, 2, |p| load(p, TURNED_SIDE)),
        ),
        (
            "network upright, F(2x2)",
            common::median(photos, 2, |p| describe(&f2, &load(p, DEFAULT_MAX_SIDE))),
        ),
        (
            "network upright, F(4x4) (now)",
            common::median(photos, 2, |p| describe(&f4, &load(p, DEFAULT_MAX_SIDE))),
        ),
        (
            "turned view, F(2x2), 1,024 px (before)",
            common::median(photos, 2, |p| {
                describe(&f2, &turned(&load(p, DEFAULT_MAX_SIDE)))
            }),
        ),
        (
            "turned view, F(4x4), 512 px (now)",
            common::median(photos, 2, |p| describe(&f4, &turned(&load(p, TURNED_SIDE)))),
        ),
    ];
    // The decodes ran inside the network rows too: take them out.
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (decode_big, decode_small) = (ms(rows[0].1), ms(rows[1].1));
    println!("stages, median of {} photos (ms a photo):", photos.len());
    for (i, (what, time)) in rows.iter().enumerate() {
        let net_only = match i {
            2..=4 => ms(*time) - decode_big,
            5 => ms(*time) - decode_small,
            _ => ms(*time),
        };
        println!("  {what:<48} {net_only:>8.1}");
    }
    // Before, the turned view decoded the photo again at 1,024 px.
    let before = ms(rows[2].1) + ms(rows[4].1);
    let now = ms(rows[3].1) + ms(rows[5].1);
    println!(
        "  decode + network, upright and turned: before {before:.0} ms, now {now:.0} ms: \
         now / before = {:.3}",
        now / before
    );

    let peak: f64 = std::env::var("LOOKALIKE_PEAK_GFLOPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(190.0);
    let (h, w) = (upright.height() as usize, upright.width() as usize);
    for (label, tile, row) in [("F(2x2)", 2, 2), ("F(4x4)", 4, 3)] {
        let seconds = (ms(rows[row].1) - decode_big) / 1000.0;
        let (direct, executed) = vgg16_flops(h, w, tile);
        println!(
            "  {label} at {w} x {h}: {:.1} GFLOP of direct convolution, {:.1} executed; \
             executed {:.0} GFLOP/s ({:.0} % of the {peak:.0} GFLOP/s fp32 peak), effective {:.0} GFLOP/s ({:.0} %)",
            direct / 1e9,
            executed / 1e9,
            executed / seconds / 1e9,
            100.0 * executed / seconds / 1e9 / peak,
            direct / seconds / 1e9,
            100.0 * direct / seconds / 1e9 / peak,
        );
    }
}

/// VGG16's 13 convolutions on an `h x w` image: the direct convolution's floating-point
/// operations, and those the `cpu` engine executes with Winograd F(`tile` x `tile`)
/// (conv1_1, 3 channels, runs as im2col, direct).
fn vgg16_flops(mut h: usize, mut w: usize, tile: usize) -> (f64, f64) {
    let (mut direct, mut executed) = (0.0, 0.0);
    for layer in VGG16_LAYERS {
        let (cin, cout) = (layer.in_channels, layer.out_channels);
        let macs = (h * w * cin * cout * 9) as f64;
        direct += 2.0 * macs;
        executed += if cin < 16 {
            2.0 * macs
        } else {
            let alpha = tile + 2;
            2.0 * (h.div_ceil(tile) * w.div_ceil(tile) * alpha * alpha * cin * cout) as f64
        };
        if layer.pool_after {
            (h, w) = (h / 2, w / 2);
        }
    }
    (direct, executed)
}
