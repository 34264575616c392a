//! Where a network's weights file is found: `--model PATH`, then the network's
//! environment variable (`$LOOKALIKE_MODEL` for VGG16, `$LOOKALIKE_GOOGLENET_MODEL`),
//! then the per-user data directory.

use std::path::{Path, PathBuf};

use super::Network;
use crate::support::error::{Error, Result};

/// Environment variable naming a weights file.
pub const MODEL_ENV: &str = "LOOKALIKE_MODEL";
/// File name of the weights in the per-user data directory.
pub const MODEL_FILE_NAME: &str = "vgg16_imagenet_features.safetensors";

/// `<data dir>/models/vgg16_imagenet_features.safetensors`, e.g.
/// `~/.local/share/lookalike/models/...` on Linux.
pub fn default_model_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "lookalike")
        .map(|dirs| dirs.data_dir().join("models").join(MODEL_FILE_NAME))
}

/// Finds the VGG16 weights file ([`resolve_weights_path`]).
pub fn resolve_model_path(explicit: Option<&Path>) -> Result<PathBuf> {
    resolve_weights_path(explicit, Network::Vgg16)
}

/// Finds `network`'s weights file, in order: `explicit` (`--model`), the network's
/// environment variable, the per-user data directory. A path that was named but does
/// not exist is an error; when nothing is found the message says how to get the weights.
pub fn resolve_weights_path(explicit: Option<&Path>, network: Network) -> Result<PathBuf> {
    resolve_weights_path_in(explicit, network, super::models_folder().as_deref())
}

/// [`resolve_weights_path`] with the weights folder `folder` (the app's, in tests a
/// temporary one) in place of the per-user one.
pub fn resolve_weights_path_in(
    explicit: Option<&Path>,
    network: Network,
    folder: Option<&Path>,
) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return existing(path, "--model");
    }
    let env = network.env_var();
    if let Some(value) = std::env::var_os(env).filter(|v| !v.is_empty()) {
        return existing(Path::new(&value), env);
    }
    let default = folder.map(|folder| folder.join(network.file_name()));
    if let Some(path) = default.as_ref().filter(|p| p.is_file()) {
        return Ok(path.clone());
    }
    let target = default
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<your data directory>/lookalike/models/".to_string());
    let how = match network {
        Network::Vgg16 => format!(
            "download the official Keras conv-only file \
             `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5` (58.9 MB; sources and checksums in models/README.md), then run\n  \
             lookalike model import vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 -o {target}"
        ),
        Network::GoogLeNet => format!(
            "download torchvision's official `googlenet-1378be20.pth` (49.7 MiB, \
             {GOOGLENET_URL}; its SHA-256 starts with 1378be20), then run\n  \
             lookalike model import googlenet-1378be20.pth -o {target}"
        ),
    };
    Err(Error::ModelNotFound(format!(
        "no {} weights found (looked at --model, ${env} and {target}).\n\
         To get them: {how}\n\
         or point ${env} (or --model) at an existing {}.",
        network.title(),
        network.file_name()
    )))
}

/// Where torchvision publishes the official GoogLeNet ImageNet weights.
pub const GOOGLENET_URL: &str = "https://download.pytorch.org/models/googlenet-1378be20.pth";

fn existing(path: &Path, source: &str) -> Result<PathBuf> {
    if path.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(Error::ModelNotFound(format!(
            "weights file {} (from {source}) does not exist",
            path.display()
        )))
    }
}
