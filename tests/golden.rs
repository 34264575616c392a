//! The network and SPoC against `../shared/golden/spoc_golden.json`, computed by an
//! independent implementation (onnxruntime): every engine must match each raw vector
//! within 1e-3 relative L2 error and reproduce the conv5_3 shape.

mod common;

use lookalike::backend::gpu_adapter;
use lookalike::imaging::LoadOptions;
use lookalike::{BackendChoice, Describer, DescriberOptions, Vgg16Weights};
use serde_json::Value;

fn check(backend: BackendChoice) {
    let Some(shared) = common::shared() else {
        return;
    };
    let weights = Vgg16Weights::load(&common::shared_model(&shared)).unwrap();
    let options = DescriberOptions {
        // The reference ran each image at its own size.
        load: LoadOptions {
            max_side: None,
            ..LoadOptions::default()
        },
        whitening: None,
    };
    let describer = Describer::new(&weights, backend, options).unwrap();
    let golden_dir = shared.join("golden");
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(golden_dir.join("spoc_golden.json")).unwrap(),
    )
    .unwrap();
    let images = golden["images"].as_object().unwrap();
    assert!(images.len() >= 5, "golden set shrank: {}", images.len());
    for (name, entry) in images {
        let path = golden_dir.join(entry["file"].as_str().unwrap());
        let expected: Vec<f32> = entry["spoc_raw"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let shape: Vec<usize> = entry["conv5_3_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let d = describer.describe_path(&path, None).unwrap();
        assert_eq!(d.width as u64, entry["width"].as_u64().unwrap(), "{name}");
        assert_eq!(d.height as u64, entry["height"].as_u64().unwrap(), "{name}");
        assert_eq!(
            d.feature_map.to_vec(),
            shape[1..].to_vec(),
            "{name} conv5_3 shape"
        );
        let error = common::relative_l2(&d.raw, &expected);
        eprintln!("{backend} {name}: relative L2 error {error:.2e}");
        assert!(error < 1e-3, "{backend} {name}: relative L2 error {error}");
    }
}

#[test]
fn golden_cpu_gemm() {
    check(BackendChoice::Cpu);
}

#[test]
fn golden_flex() {
    check(BackendChoice::Flex);
}

/// wgpu on whatever adapter exists: lavapipe in CI (which sets LOOKALIKE_REQUIRE_GPU=1
/// so that a missing Vulkan driver fails instead of skipping).
#[test]
fn golden_wgpu() {
    match gpu_adapter() {
        Ok(adapter) => eprintln!("wgpu adapter: {} ({:?})", adapter.name, adapter.kind),
        Err(error) => {
            assert!(
                std::env::var_os("LOOKALIKE_REQUIRE_GPU").is_none(),
                "LOOKALIKE_REQUIRE_GPU is set but {error}"
            );
            eprintln!("SKIPPED: {error} (install mesa-vulkan-drivers for lavapipe)");
            return;
        }
    }
    check(BackendChoice::Gpu);
}

/// `auto` never panics: with no hardware GPU it falls back to the CPU engine.
#[test]
fn auto_falls_back_to_cpu_without_hardware_gpu() {
    let Some(shared) = common::shared() else {
        return;
    };
    let weights = Vgg16Weights::load(&common::shared_model(&shared)).unwrap();
    let engine = lookalike::Engine::new(&weights, BackendChoice::Auto).unwrap();
    let hardware = gpu_adapter().is_ok_and(|a| a.is_hardware());
    assert_eq!(
        engine.label().starts_with("gpu"),
        hardware,
        "{}",
        engine.label()
    );
}

/// An input below the network's minimum size is an error on every engine, not a panic.
#[test]
fn too_small_input_is_an_error() {
    let Some(shared) = common::shared() else {
        return;
    };
    let weights = Vgg16Weights::load(&common::shared_model(&shared)).unwrap();
    for backend in [BackendChoice::Cpu, BackendChoice::Flex] {
        let engine = lookalike::Engine::new(&weights, backend).unwrap();
        let input = lookalike::net::NetInput {
            height: 15,
            width: 40,
            data: vec![0.0; 15 * 40 * 3],
        };
        let message = engine.spoc(&input).unwrap_err().to_string();
        assert!(message.contains("at least 16x16"), "{backend}: {message}");
    }
}
