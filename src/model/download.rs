//! Fetching the official weights, only when the user asks: the file is downloaded with
//! progress and a stop flag, checked against the hash its publisher gives (Keras' MD5
//! of the conv-only VGG16 file; the SHA-256 prefix torchvision puts in the GoogLeNet
//! file's name, which `torch.hub` checks the same way), converted by the network's
//! importer, and the result's SHA-256 reported.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use md5::Digest as _;

use super::googlenet::import_googlenet_pth;
use super::{GOOGLENET_URL, KERAS_NOTOP_FILE, Network, NetworkWeights, import_keras_h5};
use crate::error::{Error, Result};
use crate::safefs::{self, Replace};

/// The first bytes of every HDF5 file (the Keras weights format).
const HDF5_SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";
/// The first bytes of a zip file (`torch.save`'s format).
const ZIP_SIGNATURE: &[u8] = b"PK\x03\x04";

/// How a published file is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// Lowercase hex MD5 of the whole file.
    Md5(String),
    /// The first hex digits of the file's SHA-256.
    Sha256Prefix(String),
}

/// Where a weights file is published and how to recognise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The network the file holds: it chooses the importer.
    pub network: Network,
    pub url: String,
    pub checksum: Checksum,
    /// Size in bytes as published (for the progress bar before the server says).
    pub size: u64,
}

impl Source {
    /// The official Keras conv-only VGG16 weights (`models/README.md`).
    pub fn keras_notop() -> Self {
        Self {
            network: Network::Vgg16,
            url: format!(
                "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/{KERAS_NOTOP_FILE}"
            ),
            checksum: Checksum::Md5("6d6bbae143d832006294945121d1f1fc".into()),
            size: 58_889_256,
        }
    }

    /// torchvision's official GoogLeNet ImageNet weights, `googlenet-1378be20.pth`.
    pub fn torchvision_googlenet() -> Self {
        Self {
            network: Network::GoogLeNet,
            url: GOOGLENET_URL.into(),
            checksum: Checksum::Sha256Prefix("1378be20".into()),
            size: 52_147_035,
        }
    }

    /// The official file of `network`.
    pub fn official(network: Network) -> Self {
        match network {
            Network::Vgg16 => Self::keras_notop(),
            Network::GoogLeNet => Self::torchvision_googlenet(),
        }
    }
}

/// Downloads `source` into `folder` (a `.part` file renamed once complete and
/// verified), calling `progress(bytes so far, total)` as it goes, then converts it to
/// `output` with the network's importer. A stop request or a failure removes the
/// partial file.
pub fn download_weights(
    source: &Source,
    folder: &Path,
    output: &Path,
    mut progress: impl FnMut(u64, u64),
    stop: &AtomicBool,
) -> Result<NetworkWeights> {
    std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    let fallback = match source.network {
        Network::Vgg16 => KERAS_NOTOP_FILE,
        Network::GoogLeNet => "googlenet.pth",
    };
    let name = source
        .url
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(fallback);
    let file_path = folder.join(name);
    let tmp = folder.join(format!("{name}.part"));
    let fetched = fetch(source, &tmp, &mut progress, stop);
    if let Err(error) = fetched {
        safefs::remove_own_temp(&tmp);
        return Err(error);
    }
    // Only an earlier download (a file of the same format) is ever replaced.
    let signature = match source.network {
        Network::Vgg16 => HDF5_SIGNATURE,
        Network::GoogLeNet => ZIP_SIGNATURE,
    };
    safefs::place(&tmp, &file_path, Replace::IfStartsWith(signature))?;
    Ok(match source.network {
        Network::Vgg16 => import_keras_h5(&file_path, output)?.into(),
        Network::GoogLeNet => import_googlenet_pth(&file_path, output)?.into(),
    })
}

/// Streams `source` into `part`, checking its hash.
fn fetch(
    source: &Source,
    part: &Path,
    progress: &mut impl FnMut(u64, u64),
    stop: &AtomicBool,
) -> Result<()> {
    let fail = |reason: String| Error::Download {
        url: source.url.clone(),
        reason,
    };

    let mut response = ureq::get(&source.url)
        .call()
        .map_err(|e| fail(e.to_string()))?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(source.size);
    let mut body = response.body_mut().as_reader();
    let mut out = safefs::create_temp(part)?;
    let mut md5 = md5::Md5::new();
    let mut sha256 = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(fail("stopped".into()));
        }
        let n = body.read(&mut buffer).map_err(|e| fail(e.to_string()))?;
        if n == 0 {
            break;
        }
        match source.checksum {
            Checksum::Md5(_) => md5.update(&buffer[..n]),
            Checksum::Sha256Prefix(_) => sha256.update(&buffer[..n]),
        }
        out.write_all(&buffer[..n])
            .map_err(|e| Error::io(part, e))?;
        done += n as u64;
        progress(done, total.max(done));
    }
    out.sync_all().map_err(|e| Error::io(part, e))?;
    match &source.checksum {
        Checksum::Md5(published) => {
            let md5 = super::hex(&md5.finalize());
            if &md5 != published {
                return Err(fail(format!(
                    "the file's MD5 is {md5}, the published one {published}: not the official file"
                )));
            }
        }
        Checksum::Sha256Prefix(prefix) => {
            let sha256 = super::hex(&sha256.finalize());
            if prefix.is_empty() || !sha256.starts_with(prefix.as_str()) {
                return Err(fail(format!(
                    "the file's SHA-256 is {sha256}, the published one starts with {prefix}: \
                     not the official file"
                )));
            }
        }
    }
    Ok(())
}

/// `<data dir>/models/`, where downloads and converted weights go.
pub fn models_folder() -> Option<PathBuf> {
    super::default_model_path().and_then(|p| p.parent().map(Path::to_path_buf))
}
