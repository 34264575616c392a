//! GoogLeNet against PyTorch: `../shared/models/googlenet_random_test.pth` (a seeded
//! random-weight torchvision GoogLeNet saved by PyTorch) goes through our `.pth`
//! importer, and every engine must give `../shared/golden/googlenet_golden.json`'s
//! pool5 for each golden PNG at its own size within 1e-4 relative L2 error (and the
//! CPU engine the 1,000 logits within 1e-3), with `inception5b`'s spatial size.

use crate::common;

use std::path::Path;

use lookalike_core::describe::engine::gpu_adapter;
use lookalike_core::describe::model::googlenet::{GoogLeNetWeights, import_googlenet_pth};
use lookalike_core::describe::net::{BurnGoogLeNet, CpuGoogLeNet, NetInput};
use lookalike_core::read::imaging::LoadOptions;
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
                lookalike_core::read::imaging::load(&shared.join("golden").join(name), &own_size)
                    .unwrap();
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
    // The square images: every kernel is built (and compiled by lavapipe) once per
    // shape; the other shape is checked on the CPU engines, and VGG16's on wgpu.
    for g in golden.iter().filter(|g| g.inception5b_hw == [7, 7]) {
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

/// Copies the first `per_class` photos of the first `classes` imagenette val classes.
fn two_small_classes(shared: &Path, dir: &Path, classes: usize, per_class: usize) {
    let val = shared.join("data/imagenette/val");
    let mut folders: Vec<_> = std::fs::read_dir(&val)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folders.sort();
    for class in &folders[..classes] {
        let target = dir.join(class.file_name().unwrap());
        std::fs::create_dir_all(&target).unwrap();
        let mut files: Vec<_> = std::fs::read_dir(class)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in &files[..per_class] {
            std::fs::copy(file, target.join(file.file_name().unwrap())).unwrap();
        }
    }
}

/// `--network googlenet` through the command line: import, describe, evaluate with all
/// seven metrics, index, search; an index refuses the other network with the fix.
#[test]
fn the_cli_runs_every_step_with_googlenet() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = |name: &str| tmp.path().join(name);
    let os = |p: &Path| p.as_os_str().to_owned();
    let run = |args: &[&std::ffi::OsStr]| common::lookalike_with_env(args, &[]);

    // Import the PyTorch file with the CLI.
    let weights = path("googlenet.safetensors");
    let pth = shared.join("models/googlenet_random_test.pth");
    let (code, _, stderr) = run(&[
        "model".as_ref(),
        "import".as_ref(),
        pth.as_os_str(),
        "-o".as_ref(),
        weights.as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let model_args = [
        "--model".into(),
        os(&weights),
        "--backend".into(),
        "cpu".into(),
    ];

    // describe: a 1,024-d pool5, 7x7 for a 224x224 input.
    let church = shared.join("golden/church.png");
    let mut args: Vec<std::ffi::OsString> = vec!["describe".into(), os(&church), "--json".into()];
    args.extend(model_args.iter().cloned());
    let argv: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (code, json, stderr) = run(&argv);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        json[0]["descriptor"].as_array().unwrap().len(),
        1024,
        "{json}"
    );
    assert!(stderr.contains("GoogLeNet model"), "{stderr}");

    // eval category --network googlenet --all-metrics: seven rows on 1,024-d vectors.
    let classes = path("classes");
    two_small_classes(&shared, &classes, 2, 6);
    let mut args: Vec<std::ffi::OsString> = vec![
        "eval".into(),
        "category".into(),
        os(&classes),
        "--network".into(),
        "googlenet".into(),
        "--all-metrics".into(),
        "--k".into(),
        "5".into(),
        "--json".into(),
        "--cache".into(),
        os(&path("cache")),
    ];
    args.extend(model_args.iter().cloned());
    let argv: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (code, json, stderr) = run(&argv);
    assert_eq!(code, Some(0), "{stderr}");
    let metrics = json["metrics"].as_object().unwrap();
    assert_eq!(metrics.len(), 7, "{json}");
    for (metric, row) in metrics {
        let p = row["precision_at_k"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{metric}: {row}");
    }

    // index + search: the search takes the index's network without being told.
    let index = path("photos.lkidx");
    let mut args: Vec<std::ffi::OsString> = vec![
        "index".into(),
        os(&classes),
        "--network".into(),
        "googlenet".into(),
        "--index".into(),
        os(&index),
        "--json".into(),
    ];
    args.extend(model_args.iter().cloned());
    let argv: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (code, _, stderr) = run(&argv);
    assert_eq!(code, Some(0), "{stderr}");
    let query = std::fs::read_dir(
        classes.join(
            std::fs::read_dir(&classes)
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .file_name(),
        ),
    )
    .unwrap()
    .next()
    .unwrap()
    .unwrap()
    .path();
    let mut args: Vec<std::ffi::OsString> = vec![
        "search".into(),
        "--index".into(),
        os(&index),
        os(&query),
        "--no-whiten".into(),
        "--json".into(),
    ];
    args.extend(model_args.iter().cloned());
    let argv: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (code, json, stderr) = run(&argv);
    assert_eq!(code, Some(0), "{stderr}");
    let top = &json["results"][0];
    assert_eq!(
        top["path"].as_str().unwrap(),
        query.to_str().unwrap(),
        "{json}"
    );
    assert!(top["distance"].as_f64().unwrap() < 1e-4, "{json}");

    // The VGG16 file for this index, or this index for VGG16: refused, with the fix.
    let vgg = common::shared_model(&shared);
    let argv: Vec<&std::ffi::OsStr> = vec![
        "search".as_ref(),
        "--index".as_ref(),
        index.as_os_str(),
        query.as_os_str(),
        "--model".as_ref(),
        vgg.as_os_str(),
    ];
    let (code, _, stderr) = run(&argv);
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("holds VGG16 weights, but GoogLeNet was asked for"),
        "{stderr}"
    );
    let argv: Vec<&std::ffi::OsStr> = vec![
        "index".as_ref(),
        classes.as_os_str(),
        "--index".as_ref(),
        index.as_os_str(),
        "--model".as_ref(),
        vgg.as_os_str(),
        "--backend".as_ref(),
        "cpu".as_ref(),
    ];
    let (code, _, stderr) = run(&argv);
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("made with GoogLeNet, not VGG16; choose --network googlenet"),
        "{stderr}"
    );
}
