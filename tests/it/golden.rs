//! The network and SPoC against `../shared/golden/spoc_golden.json`, computed by an
//! independent implementation (onnxruntime): every engine must match each raw vector
//! within 1e-3 relative L2 error and reproduce the conv5_3 shape.

use crate::common;

use lookalike_core::describe::engine::gpu_adapter;
use lookalike_core::describe::pooling::{Pooling, pool};
use lookalike_core::read::imaging::LoadOptions;
use lookalike_core::{BackendChoice, Describer, DescriberOptions, Vgg16Weights};
use serde_json::Value;

/// One image of `spoc_golden.json`.
struct Golden {
    name: String,
    path: std::path::PathBuf,
    width: u64,
    height: u64,
    /// `[height, width]` of conv5_3.
    feature_map: Vec<usize>,
    raw: Vec<f32>,
}

fn golden(shared: &std::path::Path) -> Vec<Golden> {
    let golden_dir = shared.join("golden");
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(golden_dir.join("spoc_golden.json")).unwrap(),
    )
    .unwrap();
    let images = golden["images"].as_object().unwrap();
    assert!(images.len() >= 5, "golden set shrank: {}", images.len());
    let numbers = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    images
        .iter()
        .map(|(name, entry)| Golden {
            name: name.clone(),
            path: golden_dir.join(entry["file"].as_str().unwrap()),
            width: entry["width"].as_u64().unwrap(),
            height: entry["height"].as_u64().unwrap(),
            feature_map: numbers(&entry["conv5_3_shape"])[1..]
                .iter()
                .map(|&v| v as usize)
                .collect(),
            raw: numbers(&entry["spoc_raw"])
                .iter()
                .map(|&v| v as f32)
                .collect(),
        })
        .collect()
}

/// The reference ran each image at its own size.
fn own_size() -> DescriberOptions {
    DescriberOptions {
        load: LoadOptions {
            max_side: None,
            ..LoadOptions::default()
        },
        ..DescriberOptions::default()
    }
}

/// `../shared` and the shared VGG16 on `backend` at each image's own size.
fn shared_describer(backend: BackendChoice) -> Option<(std::path::PathBuf, Describer)> {
    let shared = common::shared()?;
    let weights = Vgg16Weights::load(&common::shared_model(&shared)).unwrap();
    let describer = Describer::new(&weights, backend, own_size()).unwrap();
    Some((shared, describer))
}

fn check(backend: BackendChoice) {
    check_some(backend, |_| true);
}

/// [`check`] on the golden images `wanted` picks.
fn check_some(backend: BackendChoice, wanted: impl Fn(&Golden) -> bool) {
    let Some((shared, describer)) = shared_describer(backend) else {
        return;
    };
    for golden in golden(&shared).into_iter().filter(|g| wanted(g)) {
        let name = &golden.name;
        let d = describer.describe_path(&golden.path, None).unwrap();
        assert_eq!(d.width as u64, golden.width, "{name}");
        assert_eq!(d.height as u64, golden.height, "{name}");
        assert_eq!(
            d.feature_map.to_vec(),
            golden.feature_map,
            "{name} conv5_3 shape"
        );
        let error = common::relative_l2(&d.raw, &golden.raw);
        eprintln!("{backend} {name}: relative L2 error {error:.2e}");
        assert!(error < 1e-3, "{backend} {name}: relative L2 error {error}");
    }
}

/// The golden images of one size, described in one batch, give each its own vector;
/// with `rmac`, R-MAC pooled batched and alone agree too.
fn check_batch(backend: BackendChoice, rmac: bool) {
    let Some((shared, describer)) = shared_describer(backend) else {
        return;
    };
    let square: Vec<Golden> = golden(&shared)
        .into_iter()
        .filter(|g| (g.width, g.height) == (224, 224))
        .collect();
    assert!(square.len() >= 4, "{} images of 224 x 224", square.len());
    let loaded: Vec<_> = square
        .iter()
        .map(|g| lookalike_core::read::imaging::load(&g.path, &own_size().load).unwrap())
        .collect();
    let spocs = describer
        .spoc_batch(&loaded.iter().collect::<Vec<_>>())
        .unwrap();
    assert_eq!(spocs.len(), square.len());
    for (spoc, golden) in spocs.iter().zip(&square) {
        assert_eq!(spoc.feature_map.to_vec(), golden.feature_map);
        let error = common::relative_l2(&spoc.raw, &golden.raw);
        eprintln!(
            "{backend} batch {}: relative L2 error {error:.2e}",
            golden.name
        );
        assert!(error < 1e-3, "{backend} batch {}: {error}", golden.name);
    }
    // R-MAC, the product's pooling, batched too: each image's own map pooled.
    if rmac {
        check_rmac_batch(&describer, &loaded, backend);
    }
    // Mixed sizes are refused, not padded.
    let odd = golden(&shared)
        .into_iter()
        .find(|g| (g.width, g.height) != (224, 224))
        .unwrap();
    let odd = lookalike_core::read::imaging::load(&odd.path, &own_size().load).unwrap();
    assert!(describer.spoc_batch(&[&loaded[0], &odd]).is_err());
}

/// R-MAC pooled from a batch is each image's own map pooled.
fn check_rmac_batch(
    describer: &Describer,
    loaded: &[lookalike_core::read::imaging::LoadedImage],
    backend: BackendChoice,
) {
    let rmac = describer.with_options(DescriberOptions {
        pooling: Pooling::Rmac,
        ..own_size()
    });
    let batched = rmac.spoc_batch(&loaded.iter().collect::<Vec<_>>()).unwrap();
    for (one, image) in batched.iter().zip(loaded) {
        let alone = pool(Pooling::Rmac, &describer.conv5_3(image).unwrap());
        let error = common::relative_l2(&one.raw, &alone);
        assert!(error < 1e-4, "{backend} R-MAC batch: {error}");
    }
}

/// The conv5_3 map other poolings start from: post-ReLU, of the golden shape, and
/// summed it is the golden SPoC.
fn check_conv5_3(backend: BackendChoice) {
    let Some((shared, describer)) = shared_describer(backend) else {
        return;
    };
    for golden in golden(&shared) {
        let name = &golden.name;
        let image = lookalike_core::read::imaging::load(&golden.path, &own_size().load).unwrap();
        let map = describer.conv5_3(&image).unwrap();
        assert_eq!(vec![map.height, map.width], golden.feature_map, "{name}");
        assert_eq!(map.channels, 512);
        assert!(
            map.data.iter().all(|&v| v >= 0.0),
            "{name}: not after the ReLU"
        );
        let summed = pool(Pooling::Spoc, &map);
        let error = common::relative_l2(&summed, &golden.raw);
        assert!(error < 1e-3, "{backend} {name}: relative L2 error {error}");
        // Another pooling through the describer pools that map.
        let gem = describer.with_options(DescriberOptions {
            pooling: Pooling::Gem,
            ..own_size()
        });
        let raw = gem.spoc(&image).unwrap().raw;
        let error = common::relative_l2(&raw, &pool(Pooling::Gem, &map));
        assert!(error < 1e-5, "{backend} {name}: GeM {error}");
    }
}

#[test]
fn conv5_3_map_cpu_gemm() {
    check_conv5_3(BackendChoice::Cpu);
}

#[test]
fn conv5_3_map_flex() {
    check_conv5_3(BackendChoice::Flex);
}

#[test]
fn golden_cpu_gemm() {
    check(BackendChoice::Cpu);
}

#[test]
fn golden_flex() {
    check(BackendChoice::Flex);
}

#[test]
fn golden_batch_flex() {
    check_batch(BackendChoice::Flex, true);
}

#[test]
fn golden_batch_cpu_gemm() {
    check_batch(BackendChoice::Cpu, true);
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
    // Every golden image once, a third of the work on lavapipe's slow shader cores:
    // the square ones in the batch, the other alone; the R-MAC of a batch is the
    // pooling's (checked on the CPU engines), not the GPU's.
    check_some(BackendChoice::Gpu, |g| (g.width, g.height) != (224, 224));
    check_batch(BackendChoice::Gpu, false);
}

/// `auto` never panics: with no hardware GPU it falls back to the CPU engine.
#[test]
fn auto_falls_back_to_cpu_without_hardware_gpu() {
    let Some(shared) = common::shared() else {
        return;
    };
    let weights = Vgg16Weights::load(&common::shared_model(&shared)).unwrap();
    let engine = lookalike_core::Engine::new(&weights, BackendChoice::Auto).unwrap();
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
        let engine = lookalike_core::Engine::new(&weights, backend).unwrap();
        let input = lookalike_core::describe::net::NetInput {
            height: 15,
            width: 40,
            data: vec![0.0; 15 * 40 * 3],
        };
        let message = engine.spoc(&input).unwrap_err().to_string();
        assert!(message.contains("at least 16x16"), "{backend}: {message}");
    }
}

/// The matrix-product path of the Burn network against the golden vectors on `flex`
/// (`golden_wgpu` checks it on wgpu, where the `gpu` backend runs it; `flex` runs
/// Burn's `conv2d`).
#[test]
fn golden_gemm_path_on_flex() {
    use lookalike_core::describe::net::{BurnVgg, ConvPath, NetInput};
    let Some(shared) = common::shared() else {
        return;
    };
    let weights = Vgg16Weights::load(&common::shared_model(&shared)).unwrap();
    {
        let backend = "flex";
        let device = burn::tensor::Device::flex();
        let net = BurnVgg::with_conv(&weights, device, ConvPath::Gemm).unwrap();
        for golden in golden(&shared) {
            let image =
                lookalike_core::read::imaging::load(&golden.path, &own_size().load).unwrap();
            let input = NetInput {
                height: image.rgb.height() as usize,
                width: image.rgb.width() as usize,
                data: weights.preprocessing().apply(image.rgb.as_raw()),
            };
            let spoc = net.spoc(&input).unwrap();
            assert_eq!(spoc.feature_map.to_vec(), golden.feature_map);
            let error = common::relative_l2(&spoc.raw, &golden.raw);
            eprintln!(
                "{backend} gemm {}: relative L2 error {error:.2e}",
                golden.name
            );
            assert!(error < 1e-3, "{backend} gemm {}: {error}", golden.name);
        }
    }
}
