//! VGG16 weights: the layer table, the preprocessing recorded in a weights file's
//! metadata, loading and validating a `.safetensors` file, where to find one, and the
//! Keras `.h5` importer.

mod download;
pub mod googlenet;
mod keras;
mod locate;
mod network;
mod preprocessing;

pub use download::{Checksum, Source, download_weights, models_folder};
pub use googlenet::GoogLeNetWeights;
pub use keras::{KERAS_NOTOP_FILE, import_keras_h5};
pub use locate::{
    GOOGLENET_URL, MODEL_ENV, MODEL_FILE_NAME, default_model_path, resolve_model_path,
    resolve_weights_path, resolve_weights_path_in,
};
pub use network::{Network, NetworkWeights, WeightsRef};
pub use preprocessing::{ChannelOrder, Preprocessing};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

use crate::support::error::{Error, Result};

/// One 3x3 / stride 1 / pad 1 convolution of VGG16's feature stack, followed by ReLU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    /// Caffe-style layer name, e.g. `conv3_2`.
    pub name: &'static str,
    /// Keras layer name, e.g. `block3_conv2`.
    pub keras_name: &'static str,
    /// Index in torchvision's `vgg16().features`, the key layout of our weights files.
    pub torch_index: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    /// A 2x2 / stride 2 max-pool (floor) follows this layer. conv5_3's pool is left out:
    /// SPoC pools conv5_3 itself (stride 16).
    pub pool_after: bool,
}

impl ConvSpec {
    pub fn weight_key(&self) -> String {
        format!("features.{}.weight", self.torch_index)
    }
    pub fn bias_key(&self) -> String {
        format!("features.{}.bias", self.torch_index)
    }
    pub fn weight_shape(&self) -> [usize; 4] {
        [self.out_channels, self.in_channels, 3, 3]
    }
}

const fn conv(
    name: &'static str,
    keras_name: &'static str,
    torch_index: usize,
    in_channels: usize,
    out_channels: usize,
    pool_after: bool,
) -> ConvSpec {
    ConvSpec {
        name,
        keras_name,
        torch_index,
        in_channels,
        out_channels,
        pool_after,
    }
}

/// The 13 convolutions of VGG16 (configuration D), conv1_1 .. conv5_3.
pub const VGG16_LAYERS: [ConvSpec; 13] = [
    conv("conv1_1", "block1_conv1", 0, 3, 64, false),
    conv("conv1_2", "block1_conv2", 2, 64, 64, true),
    conv("conv2_1", "block2_conv1", 5, 64, 128, false),
    conv("conv2_2", "block2_conv2", 7, 128, 128, true),
    conv("conv3_1", "block3_conv1", 10, 128, 256, false),
    conv("conv3_2", "block3_conv2", 12, 256, 256, false),
    conv("conv3_3", "block3_conv3", 14, 256, 256, true),
    conv("conv4_1", "block4_conv1", 17, 256, 512, false),
    conv("conv4_2", "block4_conv2", 19, 512, 512, false),
    conv("conv4_3", "block4_conv3", 21, 512, 512, true),
    conv("conv5_1", "block5_conv1", 24, 512, 512, false),
    conv("conv5_2", "block5_conv2", 26, 512, 512, false),
    conv("conv5_3", "block5_conv3", 28, 512, 512, false),
];

/// Channels of the conv5_3 map, hence of a raw SPoC descriptor.
pub const FEATURE_DIM: usize = 512;
/// Total stride of conv5_3 (four 2x2 pools).
pub const FEATURE_STRIDE: usize = 16;

// The reader refuses photos smaller than one stride before they reach the network.
const _: () = assert!(crate::read::limits::MIN_SIDE as usize == FEATURE_STRIDE);

/// Size of the conv5_3 map for an input of `height` x `width` (floor at every pool).
pub fn feature_map_size(height: usize, width: usize) -> [usize; 2] {
    [height / FEATURE_STRIDE, width / FEATURE_STRIDE]
}

/// The weights and bias of one convolution, as plain `f32` (weight in OIHW order).
#[derive(Debug, Clone)]
pub struct ConvWeights {
    pub spec: ConvSpec,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// A validated VGG16 weights file: every key present with the right shape and dtype,
/// and the preprocessing read from its metadata.
#[derive(Debug, Clone)]
pub struct Vgg16Weights {
    path: PathBuf,
    bytes: Vec<u8>,
    preprocessing: Preprocessing,
}

impl Vgg16Weights {
    /// Reads and validates `path`. Fails with a message naming the missing key, the
    /// wrong shape or the missing metadata.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(path, bytes)
    }

    /// Validates an in-memory weights file; `path` is only used in messages.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self> {
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| Error::model(path, format!("not a safetensors file: {e}")))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let preprocessing =
            Preprocessing::from_metadata(&metadata).map_err(|reason| Error::model(path, reason))?;
        let tensors = SafeTensors::deserialize(&bytes)
            .map_err(|e| Error::model(path, format!("not a safetensors file: {e}")))?;
        for spec in &VGG16_LAYERS {
            check_tensor(path, &tensors, &spec.weight_key(), &spec.weight_shape())?;
            check_tensor(path, &tensors, &spec.bias_key(), &[spec.out_channels])?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            bytes,
            preprocessing,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The raw file, for loaders (burn-store) that parse it themselves.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn preprocessing(&self) -> &Preprocessing {
        &self.preprocessing
    }

    /// SHA-256 of the file, hex: the model's identity in an index.
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        hex(&sha2::Sha256::digest(&self.bytes))
    }

    /// SHA-256 of the tensors alone (each key, shape and little-endian data, in layer
    /// order), hex: the same weights give the same digest whatever file holds them.
    pub fn weights_sha256(&self) -> Result<String> {
        use sha2::Digest;
        let tensors = SafeTensors::deserialize(&self.bytes)
            .map_err(|e| Error::model(&self.path, e.to_string()))?;
        let mut hasher = sha2::Sha256::new();
        for spec in &VGG16_LAYERS {
            for key in [spec.weight_key(), spec.bias_key()] {
                let view = tensors
                    .tensor(&key)
                    .map_err(|e| Error::model(&self.path, format!("{key}: {e}")))?;
                hasher.update(key.as_bytes());
                for &d in view.shape() {
                    hasher.update((d as u64).to_le_bytes());
                }
                hasher.update(view.data());
            }
        }
        Ok(hex(&hasher.finalize()))
    }

    /// All 13 layers as plain `f32` vectors.
    pub fn conv_layers(&self) -> Result<Vec<ConvWeights>> {
        let tensors = SafeTensors::deserialize(&self.bytes)
            .map_err(|e| Error::model(&self.path, e.to_string()))?;
        let read = |key: &str| -> Result<Vec<f32>> {
            let view = tensors
                .tensor(key)
                .map_err(|e| Error::model(&self.path, format!("{key}: {e}")))?;
            Ok(f32_from_le_bytes(view.data()))
        };
        VGG16_LAYERS
            .iter()
            .map(|spec| {
                Ok(ConvWeights {
                    spec: *spec,
                    weight: read(&spec.weight_key())?,
                    bias: read(&spec.bias_key())?,
                })
            })
            .collect()
    }
}

fn check_tensor(path: &Path, tensors: &SafeTensors, key: &str, shape: &[usize]) -> Result<()> {
    let view = tensors.tensor(key).map_err(|_| {
        Error::model(
            path,
            format!("missing tensor `{key}` (expected shape {shape:?}); is this a VGG16 `features` file in torchvision key layout?"),
        )
    })?;
    if view.dtype() != Dtype::F32 {
        return Err(Error::model(
            path,
            format!("tensor `{key}` has dtype {:?}, expected F32", view.dtype()),
        ));
    }
    if view.shape() != shape {
        return Err(Error::model(
            path,
            format!(
                "tensor `{key}` has shape {:?}, expected {shape:?}",
                view.shape()
            ),
        ));
    }
    Ok(())
}

/// Lower-case hex of a digest.
pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes little-endian `f32`s (safetensors' byte order).
pub(crate) fn f32_from_le_bytes(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Encodes `f32`s little-endian, for writing safetensors files.
pub(crate) fn f32_to_le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Writes named `f32` tensors plus string metadata as a safetensors file, atomically
/// (temporary file in the same folder, then rename).
pub(crate) fn write_safetensors(
    path: &Path,
    tensors: &[(String, Vec<usize>, Vec<f32>)],
    metadata: HashMap<String, String>,
) -> Result<()> {
    let encoded: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, shape, data)| (name.clone(), shape.clone(), f32_to_le_bytes(data)))
        .collect();
    let views = encoded
        .iter()
        .map(|(name, shape, data)| {
            safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), data)
                .map(|view| (name.clone(), view))
                .map_err(|e| Error::Invalid(format!("tensor {name}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::Invalid(format!("cannot serialise {}: {e}", path.display())))?;
    // Only ever replaces one of our files (an earlier conversion or whitening).
    crate::support::safefs::write_atomically(
        path,
        &bytes,
        crate::support::safefs::Replace::IfOurs(is_our_safetensors),
    )
}

/// The `architecture` metadata value of a VGG16 weights file (its conv layers).
pub const VGG16_ARCHITECTURE: &str = "vgg16-features";

/// Whether `head` (the first bytes of a file) is one of our safetensors files: its whole
/// JSON header is there and its metadata names one of our formats (weights: an
/// `architecture` this build reads; a whitening, and any later format: a `format` named
/// `lookalike-...`). Someone else's safetensors file (another model, a dataset) is not.
pub fn is_our_safetensors(head: &[u8]) -> bool {
    let Some((length, rest)) = head.split_first_chunk::<8>() else {
        return false;
    };
    let Some(header) = usize::try_from(u64::from_le_bytes(*length))
        .ok()
        .and_then(|n| rest.get(..n))
    else {
        return false;
    };
    let Ok(header) = serde_json::from_slice::<serde_json::Value>(header) else {
        return false;
    };
    let metadata = &header["__metadata__"];
    let architecture = metadata["architecture"].as_str();
    matches!(
        architecture,
        Some(VGG16_ARCHITECTURE | googlenet::GOOGLENET_ARCHITECTURE)
    ) || metadata["format"]
        .as_str()
        .is_some_and(|format| format.starts_with("lookalike-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_safetensors_files_may_be_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, key: &str, value: &str| {
            let path = dir.path().join(name);
            let metadata = HashMap::from([(key.to_string(), value.to_string())]);
            write_safetensors(&path, &[("x".into(), vec![1], vec![1.0])], metadata).unwrap();
            std::fs::read(&path).unwrap()
        };
        let vgg16 = file("vgg16.safetensors", "architecture", VGG16_ARCHITECTURE);
        assert!(is_our_safetensors(&vgg16));
        assert!(is_our_safetensors(&file(
            "whitening.safetensors",
            "format",
            "lookalike-whitening"
        )));
        // Someone else's: a safetensors file all the same (its ninth byte is `{`).
        let theirs = file("theirs.safetensors", "architecture", "bert");
        assert_eq!(theirs[8], b'{');
        assert!(!is_our_safetensors(&theirs));
        assert!(!is_our_safetensors(&file("t2.safetensors", "format", "pt")));
        // A header cut short, a length pointing past the end, no header at all.
        assert!(!is_our_safetensors(&vgg16[..30]));
        let mut long = vgg16.clone();
        long[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(!is_our_safetensors(&long));
        assert!(!is_our_safetensors(b"{}"));
    }
}
