//! The network on the `gpu` backend (Burn on wgpu) at 1,024 x 768: one image at a time,
//! and batches of images of one size, in images per second; the `cpu` engine on the
//! same machine in the same run gives the ratio. The whole path from files (decoding in
//! parallel) is `lookalike index --backend gpu`, timed by the CLI itself.
//!
//! Run: `cargo bench --profile dev --bench gpu`. Weights: `LOOKALIKE_MODEL`, else
//! `../shared/models/vgg16_imagenet_features.safetensors`; the time does not depend on
//! their values. Times nothing (and says why) without a wgpu adapter; on a software
//! adapter (lavapipe) set `LOOKALIKE_BENCH_ANY_ADAPTER=1` to time it anyway.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lookalike_core::describe::engine::gpu_adapter;
use lookalike_core::describe::net::{BurnVgg, ConvPath, NetInput};
use lookalike_core::{BackendChoice, Engine, Vgg16Weights};

const WIDTH: usize = 1024;
const HEIGHT: usize = 768;

fn main() {
    let model = std::env::var_os("LOOKALIKE_MODEL").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/models/vgg16_imagenet_features.safetensors")
        },
        PathBuf::from,
    );
    let Ok(weights) = Vgg16Weights::load(&model) else {
        eprintln!("SKIPPED: no weights at {}", model.display());
        return;
    };
    match gpu_adapter() {
        Ok(adapter) if adapter.is_hardware() => {}
        Ok(_) if std::env::var_os("LOOKALIKE_BENCH_ANY_ADAPTER").is_some() => {}
        Ok(adapter) => {
            eprintln!("SKIPPED: {} is a software adapter", adapter.name);
            return;
        }
        Err(error) => {
            eprintln!("SKIPPED: {error}");
            return;
        }
    }
    let gpu = Engine::new(&weights, BackendChoice::Gpu).expect("gpu engine");
    println!("{}", gpu.label());
    let inputs: Vec<NetInput> = (0..16).map(photo_like).collect();
    let device = gpu_adapter().expect("adapter").device;
    let direct = BurnVgg::with_conv(&weights, device.clone(), ConvPath::Direct).expect("direct");
    let gemm = BurnVgg::with_conv(&weights, device, ConvPath::Gemm).expect("gemm");
    let mut single = Duration::ZERO;
    for (name, net) in [("direct conv2d", &direct), ("im2col + matmul", &gemm)] {
        let one = time_per_image(net, &inputs[..1], 3, 10);
        single = one;
        println!(
            "gpu, {name}, one image at a time: {:7.2} ms per image, {:6.1} images/s",
            ms(one),
            per_second(one)
        );
        for batch in [2, 4, 8, 16] {
            // A batch too large for one GPU buffer fails (and says so): the bench goes on.
            if let Err(error) = net.spoc_batch(&inputs[..batch]) {
                println!("gpu, {name}, batches of {batch:2}: {error}");
                break;
            }
            let per_image = time_per_image(net, &inputs[..batch], 1, 4);
            println!(
                "gpu, {name}, batches of {batch:2}: {:7.2} ms per image, {:6.1} images/s ({:.2}x one at a time)",
                ms(per_image),
                per_second(per_image),
                ms(one) / ms(per_image)
            );
        }
    }
    let same: f64 = inputs[..2]
        .iter()
        .map(|input| {
            relative_l2(
                &gemm.spoc(input).expect("gemm").raw,
                &direct.spoc(input).expect("direct").raw,
            )
        })
        .fold(0.0, f64::max);
    println!("relative L2 difference, im2col + matmul vs direct: {same:.1e}");
    // The same vectors whichever way they are computed.
    let one_by_one: Vec<Vec<f32>> = inputs[..4]
        .iter()
        .map(|input| gpu.spoc(input).expect("spoc").raw)
        .collect();
    let batched = gpu.spoc_batch(&inputs[..4]).expect("spoc batch");
    let cpu = Engine::new(&weights, BackendChoice::Cpu).expect("cpu engine");
    let on_cpu = cpu.spoc(&inputs[0]).expect("spoc").raw;
    let started = Instant::now();
    for input in &inputs[..3] {
        cpu.spoc(input).expect("spoc");
    }
    let on_cpu_time = started.elapsed() / 3;
    let worst = one_by_one
        .iter()
        .zip(&batched)
        .map(|(a, b)| relative_l2(&b.raw, a))
        .fold(0.0, f64::max);
    println!(
        "relative L2 difference: batch vs one at a time {worst:.1e}; gpu vs cpu engine {:.1e}",
        relative_l2(&one_by_one[0], &on_cpu)
    );
    println!(
        "{}: {:7.1} ms per image; the last gpu path one at a time is {:.1}x faster",
        cpu.label(),
        ms(on_cpu_time),
        ms(on_cpu_time) / ms(single)
    );
}

/// Mean time per image of `runs` passes over `inputs` (one batch) after `warm_up`.
fn time_per_image(net: &BurnVgg, inputs: &[NetInput], warm_up: usize, runs: usize) -> Duration {
    let pass = || {
        net.spoc_batch(inputs).expect("spoc batch");
    };
    for _ in 0..warm_up {
        pass();
    }
    let started = Instant::now();
    for _ in 0..runs {
        pass();
    }
    started.elapsed() / (runs * inputs.len()) as u32
}

/// A normalised input with some structure (not all zeros: ReLU must have work to do).
fn photo_like(seed: usize) -> NetInput {
    let data = (0..HEIGHT * WIDTH * 3)
        .map(|i| {
            let (pixel, channel) = (i / 3, i % 3);
            let (y, x) = (pixel / WIDTH, pixel % WIDTH);
            let wave = ((x * (channel + 1) + y * (seed + 2)) % 97) as f32;
            wave * 2.5 - 120.0
        })
        .collect();
    NetInput {
        height: HEIGHT,
        width: WIDTH,
        data,
    }
}

fn relative_l2(a: &[f32], reference: &[f32]) -> f64 {
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (&x, &r) in a.iter().zip(reference) {
        diff += f64::from(x - r).powi(2);
        norm += f64::from(r).powi(2);
    }
    (diff / norm.max(f64::MIN_POSITIVE)).sqrt()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn per_second(d: Duration) -> f64 {
    1.0 / d.as_secs_f64()
}
