//! Where the weights file is found: `--model PATH`, then `$LOOKALIKE_MODEL`, then the
//! per-user data directory.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

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

/// Finds the weights file, in order: `explicit` (`--model`), `$LOOKALIKE_MODEL`, the
/// per-user data directory. A path that was named but does not exist is an error; when
/// nothing is found the message says how to get the weights.
pub fn resolve_model_path(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return existing(path, "--model");
    }
    if let Some(value) = std::env::var_os(MODEL_ENV).filter(|v| !v.is_empty()) {
        return existing(Path::new(&value), MODEL_ENV);
    }
    let default = default_model_path();
    if let Some(path) = default.as_ref().filter(|p| p.is_file()) {
        return Ok(path.clone());
    }
    let target = default
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<your data directory>/lookalike/models/".to_string());
    Err(Error::ModelNotFound(format!(
        "no VGG16 weights found (looked at --model, ${MODEL_ENV} and {target}).\n\
         To get them: download the official Keras conv-only file \
         `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5` (58.9 MB; sources and checksums in models/README.md), then run\n  \
         lookalike model import vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 -o {target}\n\
         or point ${MODEL_ENV} (or --model) at an existing vgg16_imagenet_features.safetensors."
    )))
}

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
