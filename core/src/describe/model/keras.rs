//! Converts the official Keras conv-only VGG16 file
//! (`vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`) into our safetensors layout.
//!
//! Keras stores `<layer>/<layer>/kernel:0` as HWIO `[3, 3, in, out]` and `bias:0`, and
//! expects BGR input with the caffe mean subtracted. We write torchvision's OIHW
//! `features.N.weight|bias`, flip conv1_1's input channels so the network takes RGB,
//! and record the caffe preprocessing (RGB, 0-255, mean (123.68, 116.779, 103.939))
//! in the metadata.

use std::collections::HashMap;
use std::path::Path;

use super::{Preprocessing, VGG16_LAYERS, Vgg16Weights, write_safetensors};
use crate::support::error::{Error, Result};

/// The official file name of the Keras conv-only weights.
pub const KERAS_NOTOP_FILE: &str = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5";

/// Reads a Keras notop `.h5`, writes `output` (atomically) and validates it by loading
/// it back. Returns the validated weights.
pub fn import_keras_h5(input: &Path, output: &Path) -> Result<Vgg16Weights> {
    let fail = |reason: String| Error::Import {
        path: input.to_path_buf(),
        reason,
    };
    let file = hdf5_pure::File::open(input).map_err(|e| fail(format!("not an HDF5 file: {e}")))?;

    let mut tensors = Vec::with_capacity(2 * VGG16_LAYERS.len());
    for (index, spec) in VGG16_LAYERS.iter().enumerate() {
        let layer = spec.keras_name;
        let read = |name: &str, shape: &[u64]| -> Result<Vec<f32>> {
            let candidates = [
                format!("{layer}/{layer}/{name}:0"),
                format!("{layer}/{layer}/{name}"),
                format!("{layer}/{name}:0"),
                format!("{layer}/{name}"),
            ];
            let dataset = candidates
                .iter()
                .find_map(|p| file.dataset(p).ok())
                .ok_or_else(|| {
                    fail(format!(
                        "missing dataset for {layer} {name} (looked for {})",
                        candidates.join(", ")
                    ))
                })?;
            let found = dataset
                .shape()
                .map_err(|e| fail(format!("{layer}/{name}: {e}")))?;
            if found != shape {
                return Err(fail(format!(
                    "{layer}/{name} has shape {found:?}, expected {shape:?}"
                )));
            }
            dataset
                .read::<f32>()
                .map_err(|e| fail(format!("{layer}/{name}: {e}")))
        };
        let (cin, cout) = (spec.in_channels, spec.out_channels);
        let hwio = read("kernel", &[3, 3, cin as u64, cout as u64])?;
        let bias = read("bias", &[cout as u64])?;
        // conv1_1 reads BGR in Keras; reversing its input channels makes it read RGB.
        let flip_input = index == 0;
        let oihw = hwio_to_oihw(&hwio, cin, cout, flip_input);
        tensors.push((spec.weight_key(), spec.weight_shape().to_vec(), oihw));
        tensors.push((spec.bias_key(), vec![cout], bias));
    }

    let mut metadata: HashMap<String, String> = Preprocessing::caffe_rgb()
        .to_metadata()
        .into_iter()
        .collect();
    metadata.insert("architecture".into(), super::VGG16_ARCHITECTURE.into());
    metadata.insert(
        "key_layout".into(),
        "torchvision vgg16 'features.N.weight' (OIHW) / 'features.N.bias'".into(),
    );
    metadata.insert(
        "origin".into(),
        format!(
            "imported by lookalike from Keras {} (HWIO, BGR input; conv1_1 flipped to RGB)",
            input
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
    );
    write_safetensors(output, &tensors, metadata)?;
    Vgg16Weights::load(output)
}

/// `[kh, kw, in, out]` to `[out, in, kh, kw]`, optionally reversing the input channels.
fn hwio_to_oihw(hwio: &[f32], cin: usize, cout: usize, flip_input: bool) -> Vec<f32> {
    let mut oihw = vec![0.0; hwio.len()];
    for ky in 0..3 {
        for kx in 0..3 {
            for i in 0..cin {
                let src_i = if flip_input { cin - 1 - i } else { i };
                for o in 0..cout {
                    oihw[((o * cin + i) * 3 + ky) * 3 + kx] =
                        hwio[((ky * 3 + kx) * cin + src_i) * cout + o];
                }
            }
        }
    }
    oihw
}

#[cfg(test)]
mod tests {
    use super::hwio_to_oihw;

    #[test]
    fn transposes_and_flips() {
        // cin = 3, cout = 2: value encodes (ky, kx, i, o).
        let hwio: Vec<f32> = (0..3 * 3 * 3 * 2).map(|v| v as f32).collect();
        let at = |ky: usize, kx: usize, i: usize, o: usize| hwio[((ky * 3 + kx) * 3 + i) * 2 + o];
        let plain = hwio_to_oihw(&hwio, 3, 2, false);
        let flipped = hwio_to_oihw(&hwio, 3, 2, true);
        for o in 0..2 {
            for i in 0..3 {
                for ky in 0..3 {
                    for kx in 0..3 {
                        let idx = ((o * 3 + i) * 3 + ky) * 3 + kx;
                        assert_eq!(plain[idx], at(ky, kx, i, o));
                        assert_eq!(flipped[idx], at(ky, kx, 2 - i, o));
                    }
                }
            }
        }
    }
}
