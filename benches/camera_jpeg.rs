//! 24-megapixel camera JPEGs: the time from file to the network's input (decode, orient,
//! resize to the default 1,024 px) and to a 256 px thumbnail, with today's path (DCT
//! scaling; at 1/8 the DC coefficients alone; SIMD resize) against the paths before it
//! (full decode by `image`, then a full-size `Triangle` resize; for thumbnails also
//! `jpeg-decoder`'s own 1/8 scale), all in this run; and the `cpu` engine's time for the
//! network on the same input, to give the share of the whole per-photo time.
//!
//! Photos: `bash benches/camera-jpegs.sh` fetches real photos (Debian's wallpaper
//! packages); this bench crops each to 3:2, resizes it to 6000 x 4000 and saves it at
//! quality 92 into `target/camera-jpegs/` once. Run:
//! `LOOKALIKE_WALLPAPERS=target/wallpapers/extracted cargo bench --profile dev --bench camera_jpeg`

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::imageops::FilterType;
use lookalike_core::read::imaging::{self, DEFAULT_MAX_PIXELS, LoadOptions};
use lookalike_core::{BackendChoice, Describer, DescriberOptions, Vgg16Weights};

const SIDE: u32 = 1024;
const THUMB: u32 = 256;

fn main() {
    let Some(wallpapers) = std::env::var_os("LOOKALIKE_WALLPAPERS") else {
        eprintln!("SKIPPED: set LOOKALIKE_WALLPAPERS (see benches/camera-jpegs.sh)");
        return;
    };
    let photos = camera_jpegs(Path::new(&wallpapers));
    assert!(!photos.is_empty(), "no large JPEGs under {wallpapers:?}");
    let options = LoadOptions {
        max_side: Some(SIDE),
        ..LoadOptions::default()
    };
    let before_input = |p: &Path| {
        let full = imaging::decode_file(p, DEFAULT_MAX_PIXELS).unwrap();
        let (w, h) = imaging::fitted_size(full.width(), full.height(), SIDE).unwrap();
        image::imageops::resize(&full, w, h, FilterType::Triangle)
    };
    let now_input = |p: &Path| imaging::load(p, &options).unwrap().rgb;
    let before_thumb = |p: &Path| {
        let full = imaging::decode_file(p, DEFAULT_MAX_PIXELS).unwrap();
        let (w, h) = imaging::fitted_size(full.width(), full.height(), THUMB).unwrap();
        image::imageops::resize(&full, w, h, FilterType::Triangle)
    };
    // The previous fast path: `jpeg-decoder` at 1/8 (every coefficient decoded).
    let dct_thumb = |p: &Path| {
        let bytes = std::fs::read(p).unwrap();
        let mut decoder = jpeg_decoder::Decoder::new(bytes.as_slice());
        decoder.read_info().unwrap();
        let info = decoder.info().unwrap();
        decoder
            .scale(info.width.div_ceil(8), info.height.div_ceil(8))
            .unwrap();
        let pixels = decoder.decode().unwrap();
        let info = decoder.info().unwrap();
        let rgb = image::RgbImage::from_raw(info.width.into(), info.height.into(), pixels).unwrap();
        let (w, h) = imaging::fitted_size(rgb.width(), rgb.height(), THUMB).unwrap();
        imaging::resize_rgb(&rgb, w, h)
    };
    let now_thumb = |p: &Path| {
        let (_, _, rgb) = imaging::decode_for_side(p, DEFAULT_MAX_PIXELS, THUMB).unwrap();
        let (w, h) = imaging::fitted_size(rgb.width(), rgb.height(), THUMB).unwrap();
        imaging::resize_rgb(&rgb, w, h)
    };
    let rows = [
        ("input, before", common::median(&photos, 3, before_input)),
        ("input, now", common::median(&photos, 3, now_input)),
        (
            "thumbnail, before",
            common::median(&photos, 3, before_thumb),
        ),
        ("thumbnail, now", common::median(&photos, 3, now_thumb)),
        ("thumbnail, 1/8 IDCT", common::median(&photos, 3, dct_thumb)),
    ];
    println!("{} photos of 6000 x 4000, median per photo:", photos.len());
    for (what, time) in &rows {
        println!("  {what:<18} {:>8.1} ms", ms(*time));
    }
    println!(
        "  input: now / before = {:.3}; thumbnail: now / before = {:.3}, now / 1/8 IDCT = {:.3}",
        ms(rows[1].1) / ms(rows[0].1),
        ms(rows[3].1) / ms(rows[2].1),
        ms(rows[3].1) / ms(rows[4].1)
    );
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/models/vgg16_imagenet_features.safetensors");
    if let Ok(weights) = Vgg16Weights::load(&model) {
        let describer =
            Describer::new(&weights, BackendChoice::Cpu, DescriberOptions::default()).unwrap();
        let inputs: Vec<_> = photos
            .iter()
            .take(3)
            .map(|p| imaging::load(p, &options).unwrap())
            .collect();
        let started = Instant::now();
        for input in &inputs {
            describer.spoc(input).unwrap();
        }
        let network = started.elapsed() / inputs.len() as u32;
        println!("  network (cpu engine, {SIDE} px) {:>8.1} ms", ms(network));
        let share = |input: Duration| ms(input) / (ms(input) + ms(network));
        println!(
            "  file-to-input share of the whole per-photo time: now {:.1} %, before {:.1} %",
            100.0 * share(rows[1].1),
            100.0 * share(rows[0].1)
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// 6000 x 4000 quality-92 JPEGs made once from every photo of at least 3000 px under
/// `wallpapers`, cropped to 3:2.
fn camera_jpegs(wallpapers: &Path) -> Vec<PathBuf> {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/camera-jpegs");
    std::fs::create_dir_all(&out).unwrap();
    let mut made = Vec::new();
    for entry in walkdir::WalkDir::new(wallpapers).sort_by_file_name() {
        let entry = entry.unwrap();
        let path = entry.path();
        let is_jpeg = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("jpg"));
        if !is_jpeg || entry.metadata().unwrap().len() < 1_000_000 {
            continue;
        }
        let name = path
            .to_string_lossy()
            .replace(['/', '\\'], "_")
            .trim_start_matches('_')
            .to_string();
        let target = out.join(name);
        if !target.exists() {
            let Ok(source) = image::open(path) else {
                continue;
            };
            let source = source.to_rgb8();
            let (w, h) = source.dimensions();
            if w.max(h) < 3000 || w < h {
                continue;
            }
            let (cw, ch) = if w * 2 > h * 3 {
                (h * 3 / 2, h)
            } else {
                (w, w * 2 / 3)
            };
            let cropped =
                image::imageops::crop_imm(&source, (w - cw) / 2, (h - ch) / 2, cw, ch).to_image();
            let camera = image::imageops::resize(&cropped, 6000, 4000, FilterType::Lanczos3);
            let file = std::fs::File::create(&target).unwrap();
            image::codecs::jpeg::JpegEncoder::new_with_quality(file, 92)
                .encode_image(&camera)
                .unwrap();
        }
        made.push(target);
    }
    made
}
