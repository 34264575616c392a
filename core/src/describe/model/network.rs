//! The two networks a descriptor can come from, and a weights file of either kind,
//! recognised by the `architecture` tag its metadata carries.
//!
//! * VGG16: conv5_3 sum-pooled (SPoC), 512-d: the default, the best for "same scene or
//!   object";
//! * GoogLeNet: pool5 (the mean of `inception5b`), 1,024-d: about 5x cheaper to run.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use safetensors::SafeTensors;

use super::googlenet::{GOOGLENET_ARCHITECTURE, GOOGLENET_FEATURE_DIM, GOOGLENET_FILE_NAME};
use super::{FEATURE_DIM, GoogLeNetWeights, MODEL_FILE_NAME, Preprocessing, Vgg16Weights};
use crate::support::error::{Error, Result};

/// Which network describes the photos.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// VGG16's conv5_3, sum-pooled (SPoC).
    #[default]
    Vgg16,
    /// GoogLeNet's pool5.
    GoogLeNet,
}

impl Network {
    pub const ALL: [Network; 2] = [Self::Vgg16, Self::GoogLeNet];

    /// The command-line spelling: `vgg16`, `googlenet`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vgg16 => "vgg16",
            Self::GoogLeNet => "googlenet",
        }
    }

    /// The name people write: `VGG16`, `GoogLeNet`.
    pub fn title(self) -> &'static str {
        match self {
            Self::Vgg16 => "VGG16",
            Self::GoogLeNet => "GoogLeNet",
        }
    }

    /// Length of a raw descriptor.
    pub fn feature_dim(self) -> usize {
        match self {
            Self::Vgg16 => FEATURE_DIM,
            Self::GoogLeNet => GOOGLENET_FEATURE_DIM,
        }
    }

    /// The weights file's name in the per-user models folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Vgg16 => MODEL_FILE_NAME,
            Self::GoogLeNet => GOOGLENET_FILE_NAME,
        }
    }

    /// The environment variable that may name this network's weights file.
    pub fn env_var(self) -> &'static str {
        match self {
            Self::Vgg16 => super::MODEL_ENV,
            Self::GoogLeNet => "LOOKALIKE_GOOGLENET_MODEL",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Network {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|n| n.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown network {s:?}: expected vgg16 or googlenet"
                ))
            })
    }
}

/// A validated weights file of either network.
#[derive(Debug, Clone)]
pub enum NetworkWeights {
    Vgg16(Vgg16Weights),
    GoogLeNet(GoogLeNetWeights),
}

impl NetworkWeights {
    /// Reads `path` and validates it as the network its metadata names (files without
    /// the tag are VGG16 files from before GoogLeNet).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let architecture = SafeTensors::read_metadata(&bytes)
            .ok()
            .and_then(|(_, header)| header.metadata().as_ref()?.get("architecture").cloned());
        if architecture.as_deref() == Some(GOOGLENET_ARCHITECTURE) {
            Ok(Self::GoogLeNet(GoogLeNetWeights::from_bytes(path, bytes)?))
        } else {
            Ok(Self::Vgg16(Vgg16Weights::from_bytes(path, bytes)?))
        }
    }

    /// [`Self::load`], failing unless the file holds `network`'s weights; the message
    /// names the way out.
    pub fn load_as(path: &Path, network: Network) -> Result<Self> {
        let weights = Self::load(path)?;
        if weights.network() != network {
            return Err(Error::model(
                path,
                format!(
                    "holds {} weights, but {} was asked for: choose --network {} (or the \
                     {} weights file)",
                    weights.network().title(),
                    network.title(),
                    weights.network(),
                    network.title()
                ),
            ));
        }
        Ok(weights)
    }

    pub fn network(&self) -> Network {
        match self {
            Self::Vgg16(_) => Network::Vgg16,
            Self::GoogLeNet(_) => Network::GoogLeNet,
        }
    }

    pub fn view(&self) -> WeightsRef<'_> {
        match self {
            Self::Vgg16(w) => WeightsRef::Vgg16(w),
            Self::GoogLeNet(w) => WeightsRef::GoogLeNet(w),
        }
    }

    pub fn path(&self) -> &Path {
        self.view().path()
    }

    pub fn preprocessing(&self) -> &Preprocessing {
        self.view().preprocessing()
    }

    /// SHA-256 of the file, hex: the model's identity in an index.
    pub fn sha256(&self) -> String {
        self.view().sha256()
    }

    /// SHA-256 of the weights themselves where the file format can vary (VGG16: the
    /// shipped whitening is keyed by it); the file's SHA-256 for GoogLeNet.
    pub fn weights_sha256(&self) -> Result<String> {
        match self {
            Self::Vgg16(w) => w.weights_sha256(),
            Self::GoogLeNet(w) => Ok(w.sha256()),
        }
    }
}

impl From<Vgg16Weights> for NetworkWeights {
    fn from(weights: Vgg16Weights) -> Self {
        Self::Vgg16(weights)
    }
}

impl From<GoogLeNetWeights> for NetworkWeights {
    fn from(weights: GoogLeNetWeights) -> Self {
        Self::GoogLeNet(weights)
    }
}

/// A borrowed weights file of either network: what engines are built from.
#[derive(Debug, Clone, Copy)]
pub enum WeightsRef<'a> {
    Vgg16(&'a Vgg16Weights),
    GoogLeNet(&'a GoogLeNetWeights),
}

impl<'a> WeightsRef<'a> {
    pub fn network(self) -> Network {
        match self {
            Self::Vgg16(_) => Network::Vgg16,
            Self::GoogLeNet(_) => Network::GoogLeNet,
        }
    }

    pub fn path(self) -> &'a Path {
        match self {
            Self::Vgg16(w) => w.path(),
            Self::GoogLeNet(w) => w.path(),
        }
    }

    pub fn preprocessing(self) -> &'a Preprocessing {
        match self {
            Self::Vgg16(w) => w.preprocessing(),
            Self::GoogLeNet(w) => w.preprocessing(),
        }
    }

    pub fn sha256(self) -> String {
        match self {
            Self::Vgg16(w) => w.sha256(),
            Self::GoogLeNet(w) => w.sha256(),
        }
    }
}

impl<'a> From<&'a Vgg16Weights> for WeightsRef<'a> {
    fn from(weights: &'a Vgg16Weights) -> Self {
        Self::Vgg16(weights)
    }
}

impl<'a> From<&'a GoogLeNetWeights> for WeightsRef<'a> {
    fn from(weights: &'a GoogLeNetWeights) -> Self {
        Self::GoogLeNet(weights)
    }
}

impl<'a> From<&'a NetworkWeights> for WeightsRef<'a> {
    fn from(weights: &'a NetworkWeights) -> Self {
        weights.view()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_and_print_alike() {
        for network in Network::ALL {
            assert_eq!(network.as_str().parse::<Network>().unwrap(), network);
        }
        assert_eq!(
            " GoogLeNet ".parse::<Network>().unwrap(),
            Network::GoogLeNet
        );
        let message = "resnet".parse::<Network>().unwrap_err().to_string();
        assert!(message.contains("vgg16 or googlenet"), "{message}");
        assert_eq!(Network::GoogLeNet.feature_dim(), 1024);
        assert_eq!(Network::default(), Network::Vgg16);
    }
}
