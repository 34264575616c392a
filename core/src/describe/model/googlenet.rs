//! GoogLeNet in torchvision's layout (`torchvision.models.googlenet`, no auxiliary
//! classifiers): the layer table both engines follow, the validated weights file, and
//! the importer of a PyTorch `.pth` state dict (read with `pytorch-reader`, the reader
//! burn-store uses).
//!
//! Our file holds every convolution with its batch norm folded in (`{name}.weight`,
//! OIHW, and `{name}.bias`), the classifier (`fc.weight`, `fc.bias`), and the input
//! preprocessing in its metadata. torchvision's `transform_input=True` (what the
//! official ImageNet weights expect) turns the ImageNet-normalised input back into
//! `(x - 0.5) / 0.5` per channel, so that is the preprocessing we record.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

use super::{ChannelOrder, Preprocessing, f32_from_le_bytes, write_safetensors};
use crate::support::error::{Error, Result};

/// Our GoogLeNet weights file in the per-user models folder.
pub const GOOGLENET_FILE_NAME: &str = "googlenet_imagenet.safetensors";
/// The `architecture` metadata value of a GoogLeNet weights file.
pub const GOOGLENET_ARCHITECTURE: &str = "googlenet";
/// Length of pool5, the descriptor.
pub const GOOGLENET_FEATURE_DIM: usize = 1024;
/// ImageNet classes of the classifier.
pub const GOOGLENET_CLASSES: usize = 1000;
/// torchvision's `BasicConv2d` batch norm epsilon.
const BN_EPS: f32 = 0.001;

/// One convolution (no bias in torchvision; batch norm and ReLU follow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogLeNetConv {
    /// torchvision's module path, e.g. `inception3a.branch2.1`.
    pub name: String,
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

impl GoogLeNetConv {
    fn new(name: String, in_channels: usize, out_channels: usize, kernel: usize) -> Self {
        Self {
            name,
            in_channels,
            out_channels,
            kernel,
            stride: 1,
            padding: kernel / 2,
        }
    }

    pub fn weight_shape(&self) -> [usize; 4] {
        [
            self.out_channels,
            self.in_channels,
            self.kernel,
            self.kernel,
        ]
    }
}

/// One inception block: four branches concatenated along channels (1x1; 1x1 then 3x3;
/// 1x1 then 3x3, torchvision's stand-in for the paper's 5x5; 3x3 max-pool then 1x1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inception {
    pub name: &'static str,
    pub in_channels: usize,
    pub ch1x1: usize,
    pub ch3x3_reduce: usize,
    pub ch3x3: usize,
    pub ch5x5_reduce: usize,
    pub ch5x5: usize,
    pub pool_proj: usize,
}

impl Inception {
    pub const fn out_channels(&self) -> usize {
        self.ch1x1 + self.ch3x3 + self.ch5x5 + self.pool_proj
    }

    /// `branch1`, `branch2.0`, `branch2.1`, `branch3.0`, `branch3.1`, `branch4.1`.
    pub fn convs(&self) -> [GoogLeNetConv; 6] {
        let conv = |branch: &str, cin, cout, k| {
            GoogLeNetConv::new(format!("{}.{branch}", self.name), cin, cout, k)
        };
        [
            conv("branch1", self.in_channels, self.ch1x1, 1),
            conv("branch2.0", self.in_channels, self.ch3x3_reduce, 1),
            conv("branch2.1", self.ch3x3_reduce, self.ch3x3, 3),
            conv("branch3.0", self.in_channels, self.ch5x5_reduce, 1),
            conv("branch3.1", self.ch5x5_reduce, self.ch5x5, 3),
            conv("branch4.1", self.in_channels, self.pool_proj, 1),
        ]
    }
}

const fn inception(
    name: &'static str,
    in_channels: usize,
    [ch1x1, ch3x3_reduce, ch3x3, ch5x5_reduce, ch5x5, pool_proj]: [usize; 6],
) -> Inception {
    Inception {
        name,
        in_channels,
        ch1x1,
        ch3x3_reduce,
        ch3x3,
        ch5x5_reduce,
        ch5x5,
        pool_proj,
    }
}

/// The nine inception blocks.
pub const INCEPTIONS: [Inception; 9] = [
    inception("inception3a", 192, [64, 96, 128, 16, 32, 32]),
    inception("inception3b", 256, [128, 128, 192, 32, 96, 64]),
    inception("inception4a", 480, [192, 96, 208, 16, 48, 64]),
    inception("inception4b", 512, [160, 112, 224, 24, 64, 64]),
    inception("inception4c", 512, [128, 128, 256, 24, 64, 64]),
    inception("inception4d", 512, [112, 144, 288, 32, 64, 64]),
    inception("inception4e", 528, [256, 160, 320, 32, 128, 128]),
    inception("inception5a", 832, [256, 160, 320, 32, 128, 128]),
    inception("inception5b", 832, [384, 192, 384, 48, 128, 128]),
];

/// `conv1` (7x7, stride 2, padding 3), `conv2` (1x1), `conv3` (3x3).
pub fn stem() -> [GoogLeNetConv; 3] {
    [
        GoogLeNetConv {
            stride: 2,
            padding: 3,
            ..GoogLeNetConv::new("conv1".into(), 3, 64, 7)
        },
        GoogLeNetConv::new("conv2".into(), 64, 64, 1),
        GoogLeNetConv::new("conv3".into(), 64, 192, 3),
    ]
}

/// Every convolution, stem first, then each inception block's six.
pub fn all_convs() -> Vec<GoogLeNetConv> {
    stem()
        .into_iter()
        .chain(INCEPTIONS.iter().flat_map(Inception::convs))
        .collect()
}

/// One step of the network up to `inception5b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Stem convolution `stem()[i]` + ReLU.
    Conv(usize),
    /// Max-pool, ceil mode, no padding.
    MaxPool { kernel: usize, stride: usize },
    /// `INCEPTIONS[i]`.
    Inception(usize),
}

/// torchvision's `GoogLeNet._forward` up to `inception5b`; pool5 is the mean of its
/// output over positions.
pub const PLAN: [Step; 16] = [
    Step::Conv(0),
    Step::MaxPool {
        kernel: 3,
        stride: 2,
    },
    Step::Conv(1),
    Step::Conv(2),
    Step::MaxPool {
        kernel: 3,
        stride: 2,
    },
    Step::Inception(0),
    Step::Inception(1),
    Step::MaxPool {
        kernel: 3,
        stride: 2,
    },
    Step::Inception(2),
    Step::Inception(3),
    Step::Inception(4),
    Step::Inception(5),
    Step::Inception(6),
    Step::MaxPool {
        kernel: 2,
        stride: 2,
    },
    Step::Inception(7),
    Step::Inception(8),
];

/// Output length of a max-pool over `size` positions, as PyTorch computes it: in ceil
/// mode a last window must still start inside the input (or its left padding).
pub fn pool_output(size: usize, kernel: usize, stride: usize, padding: usize, ceil: bool) -> usize {
    let span = (size + 2 * padding).saturating_sub(kernel);
    let mut out = if ceil {
        span.div_ceil(stride) + 1
    } else {
        span / stride + 1
    };
    if ceil && (out - 1) * stride >= size + padding {
        out -= 1;
    }
    out
}

/// The preprocessing the official weights expect, with `transform_input` folded in.
pub fn googlenet_preprocessing() -> Preprocessing {
    Preprocessing {
        channel_order: ChannelOrder::Rgb,
        range_max: 1.0,
        mean_rgb: [0.5; 3],
        std_rgb: [0.5; 3],
    }
}

/// A validated GoogLeNet weights file.
#[derive(Debug, Clone)]
pub struct GoogLeNetWeights {
    path: PathBuf,
    bytes: Vec<u8>,
    preprocessing: Preprocessing,
}

/// A convolution's folded weights (OIHW) and bias.
#[derive(Debug, Clone)]
pub struct FoldedConv {
    pub spec: GoogLeNetConv,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl GoogLeNetWeights {
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(path, bytes)
    }

    /// Validates an in-memory file: the architecture tag, the preprocessing, and every
    /// tensor's presence, type and shape. `path` is only used in messages.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self> {
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| Error::model(path, format!("not a safetensors file: {e}")))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        if metadata.get("architecture").map(String::as_str) != Some(GOOGLENET_ARCHITECTURE) {
            return Err(Error::model(
                path,
                format!(
                    "not a GoogLeNet weights file (architecture {:?}); `lookalike model import \
                     googlenet.pth` makes one",
                    metadata.get("architecture")
                ),
            ));
        }
        let preprocessing =
            Preprocessing::from_metadata(&metadata).map_err(|reason| Error::model(path, reason))?;
        let tensors = SafeTensors::deserialize(&bytes)
            .map_err(|e| Error::model(path, format!("not a safetensors file: {e}")))?;
        for conv in all_convs() {
            check_f32(
                path,
                &tensors,
                &format!("{}.weight", conv.name),
                &conv.weight_shape(),
            )?;
            check_f32(
                path,
                &tensors,
                &format!("{}.bias", conv.name),
                &[conv.out_channels],
            )?;
        }
        check_f32(
            path,
            &tensors,
            "fc.weight",
            &[GOOGLENET_CLASSES, GOOGLENET_FEATURE_DIM],
        )?;
        check_f32(path, &tensors, "fc.bias", &[GOOGLENET_CLASSES])?;
        Ok(Self {
            path: path.to_path_buf(),
            bytes,
            preprocessing,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn preprocessing(&self) -> &Preprocessing {
        &self.preprocessing
    }

    /// SHA-256 of the file, hex.
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        super::hex(&sha2::Sha256::digest(&self.bytes))
    }

    /// Every convolution, in [`all_convs`] order.
    pub fn convs(&self) -> Result<Vec<FoldedConv>> {
        all_convs()
            .into_iter()
            .map(|spec| {
                Ok(FoldedConv {
                    weight: self.tensor(&format!("{}.weight", spec.name))?,
                    bias: self.tensor(&format!("{}.bias", spec.name))?,
                    spec,
                })
            })
            .collect()
    }

    /// The classifier: `[1000, 1024]` row-major and its bias.
    pub fn classifier(&self) -> Result<(Vec<f32>, Vec<f32>)> {
        Ok((self.tensor("fc.weight")?, self.tensor("fc.bias")?))
    }

    fn tensor(&self, key: &str) -> Result<Vec<f32>> {
        let tensors = SafeTensors::deserialize(&self.bytes)
            .map_err(|e| Error::model(&self.path, e.to_string()))?;
        let view = tensors
            .tensor(key)
            .map_err(|e| Error::model(&self.path, format!("{key}: {e}")))?;
        Ok(f32_from_le_bytes(view.data()))
    }
}

fn check_f32(path: &Path, tensors: &SafeTensors, key: &str, shape: &[usize]) -> Result<()> {
    let view = tensors.tensor(key).map_err(|_| {
        Error::model(
            path,
            format!("missing tensor `{key}` (expected shape {shape:?})"),
        )
    })?;
    if view.dtype() != Dtype::F32 || view.shape() != shape {
        return Err(Error::model(
            path,
            format!(
                "tensor `{key}` is {:?} {:?}, expected F32 {shape:?}",
                view.dtype(),
                view.shape()
            ),
        ));
    }
    Ok(())
}

/// Reads a torchvision GoogLeNet state dict (`torch.save` zip format, e.g. the official
/// `googlenet-1378be20.pth`), folds each batch norm into its convolution, and writes
/// `output` (atomically), validated by loading it back. The auxiliary classifiers'
/// tensors, if present, are not needed and are left out.
pub fn import_googlenet_pth(input: &Path, output: &Path) -> Result<GoogLeNetWeights> {
    let fail = |reason: String| Error::Import {
        path: input.to_path_buf(),
        reason,
    };
    let reader = pytorch_reader::PytorchReader::new(input)
        .map_err(|e| fail(format!("not a PyTorch state dict: {e}")))?;
    let read = |key: &str, shape: &[usize]| -> Result<Vec<f32>> {
        let tensor = reader.get(key).ok_or_else(|| {
            fail(format!(
                "missing tensor `{key}`; is this a torchvision GoogLeNet state dict?"
            ))
        })?;
        if tensor.dtype() != pytorch_reader::DType::F32 || tensor.shape() != shape {
            return Err(fail(format!(
                "tensor `{key}` is {:?} {:?}, expected F32 {shape:?}",
                tensor.dtype(),
                tensor.shape()
            )));
        }
        let bytes = tensor.read().map_err(|e| fail(e.to_string()))?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    };
    let mut tensors = Vec::new();
    for conv in all_convs() {
        tensors.extend(folded_conv(&conv, &read)?);
    }
    let fc_shape = [GOOGLENET_CLASSES, GOOGLENET_FEATURE_DIM];
    tensors.push((
        "fc.weight".into(),
        fc_shape.to_vec(),
        read("fc.weight", &fc_shape)?,
    ));
    tensors.push((
        "fc.bias".into(),
        vec![GOOGLENET_CLASSES],
        read("fc.bias", &[GOOGLENET_CLASSES])?,
    ));
    write_safetensors(output, &tensors, imported_metadata(input))?;
    GoogLeNetWeights::load(output)
}

/// A tensor to write: name, shape, values.
type Named = (String, Vec<usize>, Vec<f32>);

/// Reads the tensor of a name, checking its shape.
type ReadTensor<'a> = dyn Fn(&str, &[usize]) -> Result<Vec<f32>> + 'a;

/// Convolution `conv` with its batch norm folded in: its weight and bias tensors.
fn folded_conv(conv: &GoogLeNetConv, read: &ReadTensor<'_>) -> Result<[Named; 2]> {
    let cout = conv.out_channels;
    let name = &conv.name;
    let mut weight = read(&format!("{name}.conv.weight"), &conv.weight_shape())?;
    let gamma = read(&format!("{name}.bn.weight"), &[cout])?;
    let beta = read(&format!("{name}.bn.bias"), &[cout])?;
    let mean = read(&format!("{name}.bn.running_mean"), &[cout])?;
    let var = read(&format!("{name}.bn.running_var"), &[cout])?;
    let per_filter = weight.len() / cout;
    let mut bias = vec![0.0f32; cout];
    for o in 0..cout {
        let scale = gamma[o] / (var[o] + BN_EPS).sqrt();
        weight[o * per_filter..(o + 1) * per_filter]
            .iter_mut()
            .for_each(|w| *w *= scale);
        bias[o] = beta[o] - mean[o] * scale;
    }
    Ok([
        (
            format!("{name}.weight"),
            conv.weight_shape().to_vec(),
            weight,
        ),
        (format!("{name}.bias"), vec![cout], bias),
    ])
}

/// What the imported file says about itself: preprocessing, architecture, origin.
fn imported_metadata(input: &Path) -> HashMap<String, String> {
    let source = input.file_name().map_or_else(
        || input.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut metadata: HashMap<String, String> = googlenet_preprocessing()
        .to_metadata()
        .into_iter()
        .collect();
    metadata.insert("architecture".into(), GOOGLENET_ARCHITECTURE.into());
    metadata.insert(
        "layers".into(),
        "torchvision GoogLeNet without auxiliary classifiers: conv1..conv3, inception3a..5b \
         (each convolution with its batch norm folded in, eps 0.001), fc; pool5 = mean of \
         inception5b"
            .into(),
    );
    metadata.insert(
        "origin".into(),
        format!(
            "imported from {source} by `lookalike model import`; torchvision's \
             transform_input is part of the preprocessing"
        ),
    );
    metadata
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_torchvisions_57_convolutions_and_1024_channels_out() {
        let convs = all_convs();
        assert_eq!(convs.len(), 57);
        assert_eq!(INCEPTIONS[8].out_channels(), GOOGLENET_FEATURE_DIM);
        // Each block's input is the previous block's output.
        for pair in INCEPTIONS.windows(2) {
            assert_eq!(
                pair[0].out_channels(),
                pair[1].in_channels,
                "{}",
                pair[1].name
            );
        }
        assert_eq!(stem()[2].out_channels, INCEPTIONS[0].in_channels);
    }

    #[test]
    fn pool_sizes_follow_pytorchs_ceil_mode() {
        // 224: conv1 -> 112, pools -> 56, 28, 14, 7.
        assert_eq!(pool_output(112, 3, 2, 0, true), 56);
        assert_eq!(pool_output(56, 3, 2, 0, true), 28);
        assert_eq!(pool_output(14, 2, 2, 0, true), 7);
        // Odd sizes round up, but a window never starts past the input.
        assert_eq!(pool_output(7, 2, 2, 0, true), 4);
        assert_eq!(pool_output(5, 3, 2, 0, true), 2);
        assert_eq!(pool_output(68, 3, 1, 1, true), 68);
        assert_eq!(pool_output(9, 3, 2, 0, false), 4);
    }
}
