//! Fetching the official weights, only when the user asks: the Keras conv-only VGG16
//! file is downloaded with progress and a stop flag, its MD5 checked against the hash
//! Keras publishes (and checks itself), converted by the importer, and the result's
//! SHA-256 reported.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use md5::Digest as _;

use super::{KERAS_NOTOP_FILE, Vgg16Weights, import_keras_h5};
use crate::error::{Error, Result};
use crate::safefs::{self, Replace};

/// The first bytes of every HDF5 file (the Keras weights format).
const HDF5_SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";

/// Where a weights file is published and how to recognise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub url: String,
    /// Lowercase hex MD5 of the file as published.
    pub md5: String,
    /// Size in bytes as published (for the progress bar before the server says).
    pub size: u64,
}

impl Source {
    /// The official Keras conv-only VGG16 weights (`models/README.md`).
    pub fn keras_notop() -> Self {
        Self {
            url: format!(
                "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/{KERAS_NOTOP_FILE}"
            ),
            md5: "6d6bbae143d832006294945121d1f1fc".into(),
            size: 58_889_256,
        }
    }
}

/// Downloads `source` into `folder` (a `.part` file renamed once complete and
/// verified), calling `progress(bytes so far, total)` as it goes, then converts it to
/// `output` with the Keras importer. A stop request or a failure removes the partial
/// file.
pub fn download_weights(
    source: &Source,
    folder: &Path,
    output: &Path,
    mut progress: impl FnMut(u64, u64),
    stop: &AtomicBool,
) -> Result<Vgg16Weights> {
    std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    let name = source.url.rsplit('/').next().unwrap_or(KERAS_NOTOP_FILE);
    let file_path = folder.join(name);
    let tmp = folder.join(format!("{name}.part"));
    let fetched = fetch(source, &tmp, &mut progress, stop);
    if let Err(error) = fetched {
        safefs::remove_own_temp(&tmp);
        return Err(error);
    }
    // Only an earlier download (an HDF5 file) is ever replaced.
    safefs::place(&tmp, &file_path, Replace::IfStartsWith(HDF5_SIGNATURE))?;
    import_keras_h5(&file_path, output)
}

/// Streams `source` into `part`, checking its MD5.
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
    let mut hasher = md5::Md5::new();
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
        hasher.update(&buffer[..n]);
        out.write_all(&buffer[..n])
            .map_err(|e| Error::io(part, e))?;
        done += n as u64;
        progress(done, total.max(done));
    }
    out.sync_all().map_err(|e| Error::io(part, e))?;
    let md5: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if md5 != source.md5 {
        return Err(fail(format!(
            "the file's MD5 is {md5}, the published one {}: not the official file",
            source.md5
        )));
    }
    Ok(())
}

/// `<data dir>/models/`, where downloads and converted weights go.
pub fn models_folder() -> Option<PathBuf> {
    super::default_model_path().and_then(|p| p.parent().map(Path::to_path_buf))
}
