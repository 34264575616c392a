//! GoogLeNet against PyTorch: `../shared/models/googlenet_random_test.pth` (a seeded
//! random-weight torchvision GoogLeNet saved by PyTorch) goes through our `.pth`
//! importer, and every engine must give `../shared/golden/googlenet_golden.json`'s
//! pool5 for each golden PNG at its own size within 1e-4 relative L2 error (and the
//! CPU engine the 1,000 logits within 1e-3), with `inception5b`'s spatial size.

mod common;

use std::path::Path;

use lookalike::backend::gpu_adapter;
use lookalike::imaging::LoadOptions;
use lookalike::model::googlenet::{GoogLeNetWeights, import_googlenet_pth};
use lookalike::net::{BurnGoogLeNet, CpuGoogLeNet, NetInput};
use serde_json::Value;

struct Golden {
    name: String,
    input: NetInput,
    inception5b_hw: Vec<usize>,
    pool5: Vec<f32>,
    logits: Option<Vec<f32>>,
}

/// The imported weights and the golden inputs, or `None` (skipped) without ../shared.
fn fixture() -> Option<(tempfile::TempDir, GoogLeNetWeights, Vec<Golden>)> {
    let shared = common::shared()?;
    let tmp = tempfile::tempdir().unwrap();
    let weights = import_googlenet_pth(
        &shared.join("models/googlenet_random_test.pth"),
        &tmp.path().join("googlenet.safetensors"),
    )
    .unwrap();
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(shared.join("golden/googlenet_golden.json")).unwrap(),
    )
    .unwrap();
    let floats = |v: &Value| -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    };
    let images = golden["images"].as_object().unwrap();
    assert!(images.len() >= 5, "golden set shrank: {}", images.len());
    let own_size = LoadOptions {
        max_side: None,
        ..LoadOptions::default()
    };
    let entries = images
        .iter()
        .map(|(name, entry)| {
            let image =
                lookalike::imaging::load(&shared.join("golden").join(name), &own_size).unwrap();
            let size: Vec<u64> = entry["size"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            assert_eq!(
                size,
                [u64::from(image.rgb.width()), u64::from(image.rgb.height())],
                "{name}: size is [width, height]"
            );
            Golden {
                name: name.clone(),
                input: NetInput {
                    height: image.rgb.height() as usize,
                    width: image.rgb.width() as usize,
                    data: weights.preprocessing().apply(image.rgb.as_raw()),
                },
                inception5b_hw: entry["inception5b_hw"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap() as usize)
                    .collect(),
                pool5: floats(&entry["pool5"]),
                logits: entry.get("logits").map(floats),
            }
        })
        .collect();
    Some((tmp, weights, entries))
}

fn check_pool5(engine: &str, golden: &Golden, feature_map: [usize; 2], pool5: &[f32]) {
    let name = &golden.name;
    assert_eq!(
        feature_map.to_vec(),
        golden.inception5b_hw,
        "{engine} {name}"
    );
    let error = common::relative_l2(pool5, &golden.pool5);
    eprintln!("{engine} {name}: pool5 relative L2 error {error:.2e}");
    assert!(
        error < 1e-4,
        "{engine} {name}: pool5 relative L2 error {error}"
    );
}

#[test]
fn googlenet_cpu_matches_pytorch_pool5_and_logits() {
    let Some((_tmp, weights, golden)) = fixture() else {
        return;
    };
    let net = CpuGoogLeNet::new(&weights).unwrap();
    let mut with_logits = 0;
    for g in &golden {
        let spoc = net.spoc(&g.input);
        check_pool5("cpu", g, spoc.feature_map, &spoc.raw);
        if let Some(expected) = &g.logits {
            let error = common::relative_l2(&net.logits(&g.input), expected);
            eprintln!("cpu {}: logits relative L2 error {error:.2e}", g.name);
            assert!(error < 1e-3, "cpu {}: logits {error}", g.name);
            with_logits += 1;
        }
    }
    assert!(with_logits >= 4, "{with_logits} images with logits");
}

#[test]
fn googlenet_flex_matches_pytorch_pool5() {
    let Some((_tmp, weights, golden)) = fixture() else {
        return;
    };
    let net = BurnGoogLeNet::new(&weights, burn::tensor::Device::flex()).unwrap();
    for g in &golden {
        let spoc = net.spoc(&g.input).unwrap();
        check_pool5("flex", g, spoc.feature_map, &spoc.raw);
    }
}

/// wgpu on whatever adapter exists: lavapipe in CI (LOOKALIKE_REQUIRE_GPU=1 there).
#[test]
fn googlenet_wgpu_matches_pytorch_pool5() {
    let adapter = match gpu_adapter() {
        Ok(adapter) => adapter,
        Err(error) => {
            assert!(
                std::env::var_os("LOOKALIKE_REQUIRE_GPU").is_none(),
                "LOOKALIKE_REQUIRE_GPU is set but {error}"
            );
            eprintln!("SKIPPED: {error}");
            return;
        }
    };
    let Some((_tmp, weights, golden)) = fixture() else {
        return;
    };
    let net = BurnGoogLeNet::new(&weights, adapter.device).unwrap();
    for g in &golden {
        let spoc = net.spoc(&g.input).unwrap();
        check_pool5("wgpu", g, spoc.feature_map, &spoc.raw);
    }
}

/// The importer names the file and what is wrong, and writes nothing, for a file
/// that is not a GoogLeNet state dict.
#[test]
fn importing_something_else_is_a_clear_error() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let output = tmp.path().join("out.safetensors");
    let not_pth = shared.join("golden/church.png");
    let message = import_googlenet_pth(&not_pth, &output)
        .unwrap_err()
        .to_string();
    assert!(message.contains("church.png"), "{message}");
    assert!(!output.exists());
    // The VGG16 file is a safetensors file, not a GoogLeNet state dict either.
    let vgg = common::shared_model(&shared);
    let message = import_googlenet_pth(&vgg, &output).unwrap_err().to_string();
    assert!(message.contains("vgg16_imagenet_features"), "{message}");
    assert!(!output.exists());
    // And a VGG16 weights file is not GoogLeNet weights.
    let message = GoogLeNetWeights::load(&vgg).unwrap_err().to_string();
    assert!(
        message.contains("not a GoogLeNet weights file"),
        "{message}"
    );
    assert!(Path::new(&vgg).exists());
}
