//! Descriptor extraction time per image on the CPU: the GEMM engine (`cpu`) and Burn's
//! `flex` backend, at 224x224 and at a 1024x768 photo; the product's R-MAC against the
//! method's SPoC at 1024x768 (network + pooling), and R-MAC's pooling alone on the
//! conv5_3 map of that size; plus the whole file-to-descriptor
//! path (decode + preprocess + network) at 224; and GoogLeNet's pool5 on the `cpu`
//! engine at the same sizes (weights: `../shared`'s random-weight test file, imported;
//! the time does not depend on the values).
//!
//! Run: `cargo bench --profile dev --bench descriptor` (the dev profile is fully
//! optimised; see Cargo.toml). Needs ../shared; prints a message and times nothing
//! without it. `benches/onnxruntime_baseline.py` times the same network in onnxruntime
//! for the README's ratio.

use std::path::PathBuf;
use std::sync::OnceLock;

use divan::Bencher;
use lookalike_core::describe::model::googlenet::{GoogLeNetWeights, import_googlenet_pth};
use lookalike_core::describe::net::{CpuGoogLeNet, CpuVgg, NetInput, WinogradTile};
use lookalike_core::describe::pooling::{FeatureMap, Pooling, pool};
use lookalike_core::read::imaging::{self, LoadOptions};
use lookalike_core::{BackendChoice, Describer, DescriberOptions, Engine, Vgg16Weights};

fn main() {
    divan::main();
}

struct Fixture {
    weights: Vgg16Weights,
    googlenet: GoogLeNetWeights,
    photo: PathBuf,
    input_224: NetInput,
    input_1024: NetInput,
}

fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
            let model = shared.join("models/vgg16_imagenet_features.safetensors");
            if !model.is_file() {
                eprintln!("SKIPPED: {} not found", model.display());
                return None;
            }
            let weights = Vgg16Weights::load(&model).expect("weights");
            let photo = shared.join("golden/church.png");
            let image = imaging::load(&photo, &LoadOptions::default()).expect("photo");
            let big = image::imageops::resize(
                &image.rgb,
                1024,
                768,
                image::imageops::FilterType::CatmullRom,
            );
            let prep = weights.preprocessing().clone();
            let input = |rgb: &image::RgbImage| NetInput {
                height: rgb.height() as usize,
                width: rgb.width() as usize,
                data: prep.apply(rgb.as_raw()),
            };
            let dir = std::env::temp_dir().join("lookalike-bench-googlenet");
            std::fs::create_dir_all(&dir).expect("temp folder");
            let googlenet = import_googlenet_pth(
                &shared.join("models/googlenet_random_test.pth"),
                &dir.join("googlenet.safetensors"),
            )
            .expect("googlenet import");
            Some(Fixture {
                googlenet,
                input_224: input(&image.rgb),
                input_1024: input(&big),
                weights,
                photo,
            })
        })
        .as_ref()
}

fn bench_network(bencher: Bencher, backend: BackendChoice, big: bool) {
    let Some(f) = fixture() else { return };
    let engine = Engine::new(&f.weights, backend).expect("engine");
    let input = if big { &f.input_1024 } else { &f.input_224 };
    bencher.bench_local(|| engine.spoc(input).expect("spoc"));
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn cpu_gemm_224(bencher: Bencher) {
    bench_network(bencher, BackendChoice::Cpu, false);
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn cpu_gemm_1024x768(bencher: Bencher) {
    bench_network(bencher, BackendChoice::Cpu, true);
}

/// The `cpu` engine with Winograd F(2x2, 3x3), the algorithm before F(4x4, 3x3)
/// (compare with `cpu_gemm_1024x768`).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn cpu_winograd_f2_1024x768(bencher: Bencher) {
    let Some(f) = fixture() else { return };
    let net = CpuVgg::with_tile(&f.weights, WinogradTile::F2).expect("network");
    bencher.bench_local(|| net.spoc(&f.input_1024));
}

/// What R-MAC costs over SPoC: the map read out of the engine and pooled over its
/// regions instead of summed in place (compare with `cpu_gemm_1024x768`).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn cpu_rmac_1024x768(bencher: Bencher) {
    let Some(f) = fixture() else { return };
    let engine = Engine::new(&f.weights, BackendChoice::Cpu).expect("engine");
    bencher.bench_local(|| {
        let map = engine.conv5_3(&f.input_1024).expect("conv5_3");
        pool(Pooling::Rmac, &map)
    });
}

/// R-MAC's pooling alone, on a conv5_3 map of a 1024x768 photo (48 x 64 x 512).
#[divan::bench(sample_count = 20, sample_size = 1)]
fn rmac_pooling_only_48x64(bencher: Bencher) {
    let map = FeatureMap {
        height: 48,
        width: 64,
        channels: 512,
        data: (0..48 * 64 * 512)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
            .collect(),
    };
    bencher.bench_local(|| pool(Pooling::Rmac, &map));
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn flex_224(bencher: Bencher) {
    bench_network(bencher, BackendChoice::Flex, false);
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn flex_1024x768(bencher: Bencher) {
    bench_network(bencher, BackendChoice::Flex, true);
}

fn bench_googlenet(bencher: Bencher, big: bool) {
    let Some(f) = fixture() else { return };
    let net = CpuGoogLeNet::new(&f.googlenet).expect("googlenet");
    // Both networks read the same pixels; only the normalisation differs, which does
    // not change the work.
    let input = if big { &f.input_1024 } else { &f.input_224 };
    bencher.bench_local(|| net.spoc(input));
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn googlenet_cpu_224(bencher: Bencher) {
    bench_googlenet(bencher, false);
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn googlenet_cpu_1024x768(bencher: Bencher) {
    bench_googlenet(bencher, true);
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn cpu_file_to_descriptor_224(bencher: Bencher) {
    let Some(f) = fixture() else { return };
    let describer = Describer::new(&f.weights, BackendChoice::Cpu, DescriberOptions::default())
        .expect("describer");
    bencher.bench_local(|| describer.describe_path(&f.photo, None).expect("describe"));
}
