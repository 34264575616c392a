//! Weights files: validation errors name the key / shape / metadata at fault, and the
//! Keras `.h5` importer produces exactly the torchvision layout.

use crate::common;

use std::collections::HashMap;
use std::path::Path;

use lookalike_core::describe::model::{self, ConvSpec, Preprocessing, VGG16_LAYERS, Vgg16Weights};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

/// Deterministic value of element `i` of a layer's tensor.
fn fill(layer: usize, i: usize) -> f32 {
    ((i * 31 + layer * 7) % 97) as f32 * 0.01 - 0.3
}

fn caffe_metadata() -> HashMap<String, String> {
    Preprocessing::caffe_rgb()
        .to_metadata()
        .into_iter()
        .collect()
}

/// Writes a VGG16-shaped safetensors file; `edit` may drop or reshape tensors.
fn write_weights(
    path: &Path,
    metadata: Option<HashMap<String, String>>,
    edit: impl Fn(&ConvSpec, &str, Vec<usize>) -> Option<Vec<usize>>,
) {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (layer, spec) in VGG16_LAYERS.iter().enumerate() {
        for (key, shape) in [
            (spec.weight_key(), spec.weight_shape().to_vec()),
            (spec.bias_key(), vec![spec.out_channels]),
        ] {
            if let Some(shape) = edit(spec, &key, shape) {
                let n: usize = shape.iter().product();
                let bytes = (0..n).flat_map(|i| fill(layer, i).to_le_bytes()).collect();
                tensors.push((key, shape, bytes));
            }
        }
    }
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(k, s, b)| {
            (
                k.clone(),
                TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
            )
        })
        .collect();
    std::fs::write(path, safetensors::serialize(views, metadata).unwrap()).unwrap();
}

#[test]
fn accepts_a_complete_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.safetensors");
    write_weights(&path, Some(caffe_metadata()), |_, _, s| Some(s));
    let weights = Vgg16Weights::load(&path).unwrap();
    assert_eq!(weights.preprocessing(), &Preprocessing::caffe_rgb());
    assert_eq!(weights.conv_layers().unwrap()[4].weight[10], fill(4, 10));
}

#[test]
fn names_a_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.safetensors");
    write_weights(&path, Some(caffe_metadata()), |_, key, s| {
        (key != "features.21.bias").then_some(s)
    });
    let message = Vgg16Weights::load(&path).unwrap_err().to_string();
    assert!(
        message.contains("missing tensor `features.21.bias`"),
        "{message}"
    );
    assert!(message.contains("missing.safetensors"), "{message}");
}

#[test]
fn names_a_wrong_shape() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shape.safetensors");
    write_weights(&path, Some(caffe_metadata()), |spec, key, s| {
        Some(if spec.name == "conv3_1" && key.ends_with("weight") {
            vec![256, 64, 3, 3]
        } else {
            s
        })
    });
    let message = Vgg16Weights::load(&path).unwrap_err().to_string();
    assert!(
        message
            .contains("`features.10.weight` has shape [256, 64, 3, 3], expected [256, 128, 3, 3]"),
        "{message}"
    );
}

#[test]
fn refuses_a_file_without_preprocessing_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bare.safetensors");
    write_weights(&path, None, |_, _, s| Some(s));
    let message = Vgg16Weights::load(&path).unwrap_err().to_string();
    assert!(message.contains("no preprocessing metadata"), "{message}");
}

#[test]
fn refuses_a_non_safetensors_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.safetensors");
    std::fs::write(&path, b"definitely not a model").unwrap();
    let message = Vgg16Weights::load(&path).unwrap_err().to_string();
    assert!(
        message.contains("junk.safetensors") && message.contains("not a safetensors file"),
        "{message}"
    );
}

#[test]
fn resolution_prefers_explicit_path_and_names_missing_ones() {
    let message = model::resolve_model_path(Some(Path::new("/nonexistent/w.safetensors")))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("/nonexistent/w.safetensors") && message.contains("--model"),
        "{message}"
    );
}

/// Writes a Keras-notop-layout `.h5`: `<layer>/<layer>/kernel:0` HWIO and `bias:0`.
#[test]
fn keras_import_transposes_flips_conv1_1_and_records_preprocessing() {
    let dir = tempfile::tempdir().unwrap();
    let h5 = dir.path().join(model::KERAS_NOTOP_FILE);
    common::write_keras_h5(&h5, |layer, spec| {
        let n = 9 * spec.in_channels * spec.out_channels;
        (
            (0..n).map(|i| fill(layer, i)).collect(),
            (0..spec.out_channels).map(|i| i as f32).collect(),
        )
    });
    let out = dir.path().join("out.safetensors");
    let weights = model::import_keras_h5(&h5, &out).unwrap();
    assert_eq!(weights.preprocessing(), &Preprocessing::caffe_rgb());
    let layers = weights.conv_layers().unwrap();
    for (layer, flip) in [(0usize, true), (2, false)] {
        let spec = &VGG16_LAYERS[layer];
        let (cin, cout) = (spec.in_channels, spec.out_channels);
        for (o, i, ky, kx) in [(0, 0, 0, 0), (5, 1, 2, 1), (cout - 1, cin - 1, 1, 2)] {
            let src_i = if flip { cin - 1 - i } else { i };
            let expected = fill(layer, ((ky * 3 + kx) * cin + src_i) * cout + o);
            assert_eq!(
                layers[layer].weight[((o * cin + i) * 3 + ky) * 3 + kx],
                expected
            );
        }
        assert_eq!(layers[layer].bias[7], 7.0);
    }
}

#[test]
fn keras_import_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let h5 = dir.path().join("partial.h5");
    let mut builder = hdf5_pure::FileBuilder::new();
    builder.create_dataset("unrelated").with_f32_data(&[1.0]);
    builder.write(&h5).unwrap();
    let message = model::import_keras_h5(&h5, &dir.path().join("o.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("partial.h5") && message.contains("block1_conv1"),
        "{message}"
    );
}

/// The real weights written back in Keras form (HWIO, BGR conv1_1) and imported again
/// come out bit-identical.
#[test]
fn keras_round_trip_of_the_real_weights_is_exact() {
    let Some(shared) = common::shared() else {
        return;
    };
    let original = Vgg16Weights::load(&common::shared_model(&shared)).unwrap();
    let layers = original.conv_layers().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let h5 = dir.path().join(model::KERAS_NOTOP_FILE);
    common::write_keras_h5(&h5, |layer, spec| {
        let (cin, cout) = (spec.in_channels, spec.out_channels);
        let oihw = &layers[layer].weight;
        let mut hwio = vec![0.0; oihw.len()];
        for o in 0..cout {
            for i in 0..cin {
                let bgr_i = if layer == 0 { cin - 1 - i } else { i };
                for tap in 0..9 {
                    hwio[(tap * cin + bgr_i) * cout + o] = oihw[(o * cin + i) * 9 + tap];
                }
            }
        }
        (hwio, layers[layer].bias.clone())
    });
    let out = dir.path().join("round.safetensors");
    let imported = model::import_keras_h5(&h5, &out).unwrap();
    let a = SafeTensors::deserialize(imported.bytes()).unwrap();
    let b = SafeTensors::deserialize(original.bytes()).unwrap();
    for spec in &VGG16_LAYERS {
        for key in [spec.weight_key(), spec.bias_key()] {
            assert_eq!(
                a.tensor(&key).unwrap().data(),
                b.tensor(&key).unwrap().data(),
                "{key}"
            );
        }
    }
}
