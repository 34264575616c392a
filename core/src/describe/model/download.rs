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
use crate::support::error::{Error, Result};
use crate::support::safefs::{self, Replace};

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
    let fetched = fetch(source, &Limits::default(), &tmp, &mut progress, stop);
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

/// How long a download may wait, and how far it may be sent.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// To connect (TCP and TLS), and then for the server's answer.
    connect: std::time::Duration,
    /// For each read of the body: a server that stops sending ends the download.
    read: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect: std::time::Duration::from_secs(30),
            read: std::time::Duration::from_secs(60),
        }
    }
}

/// The HTTP client for `source`: `limits`' timeouts, at most 5 redirects, and from an
/// `https` address never a redirect to plain `http` (a file we then check by its hash
/// all the same, but whose download nobody should be able to watch or stall).
fn agent(source: &Source, limits: &Limits) -> ureq::Agent {
    ureq::Agent::config_builder()
        .https_only(source.url.starts_with("https://"))
        .max_redirects(5)
        .timeout_connect(Some(limits.connect))
        .timeout_recv_response(Some(limits.connect))
        .timeout_per_read(Some(limits.read))
        .build()
        .new_agent()
}

/// The most bytes accepted for `source`: a tenth more than its published size (and
/// 1 MiB), so a server sending without end is cut off.
fn size_cap(source: &Source) -> u64 {
    source.size + source.size / 10 + (1 << 20)
}

/// Streams `source` into `part`, checking its hash.
fn fetch(
    source: &Source,
    limits: &Limits,
    part: &Path,
    progress: &mut impl FnMut(u64, u64),
    stop: &AtomicBool,
) -> Result<()> {
    let fail = |reason: String| Error::Download {
        url: source.url.clone(),
        reason,
    };

    let mut response = agent(source, limits)
        .get(&source.url)
        .call()
        .map_err(|e| fail(e.to_string()))?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(source.size);
    let cap = size_cap(source);
    if total > cap {
        return Err(fail(format!(
            "the server announces {total} bytes, the published file has {}",
            source.size
        )));
    }
    let mut body = response.body_mut().with_config().limit(cap).reader();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    fn source(url: String, size: u64) -> Source {
        Source {
            network: Network::Vgg16,
            url,
            checksum: Checksum::Md5(String::new()),
            size,
        }
    }

    /// A local server that answers each connection with `answer` (after reading the
    /// request), then keeps the connection open for `hold`.
    fn serve(answer: Vec<u8>, hold: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(8) {
                let Ok(mut stream) = stream else { return };
                let answer = answer.clone();
                std::thread::spawn(move || {
                    let mut request = [0u8; 4096];
                    let _ = stream.read(&mut request);
                    let _ = stream.write_all(&answer);
                    std::thread::sleep(hold);
                });
            }
        });
        format!("http://{address}/weights.h5")
    }

    fn fetch_from(url: String, size: u64) -> (Result<()>, Duration) {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            connect: Duration::from_secs(2),
            read: Duration::from_secs(1),
        };
        let started = Instant::now();
        let never = AtomicBool::new(false);
        let result = fetch(
            &source(url, size),
            &limits,
            &dir.path().join("w.part"),
            &mut |_, _| {},
            &never,
        );
        (result, started.elapsed())
    }

    /// Issue 25: a server that accepts and then says nothing, or stops in the middle of
    /// the body, is given up in bounded time.
    #[test]
    fn a_stalling_server_is_given_up() {
        let silent = serve(Vec::new(), Duration::from_secs(30));
        let (result, took) = fetch_from(silent, 100);
        assert!(
            result.is_err() && took < Duration::from_secs(10),
            "{result:?} {took:?}"
        );
        let halfway = serve(
            b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part".to_vec(),
            Duration::from_secs(30),
        );
        let (result, took) = fetch_from(halfway, 100);
        assert!(
            result.is_err() && took < Duration::from_secs(10),
            "{result:?} {took:?}"
        );
    }

    /// A server sending far more than the published size is cut off, before and while
    /// it sends.
    #[test]
    fn a_server_that_sends_too_much_is_cut_off() {
        let announced = serve(
            b"HTTP/1.1 200 OK\r\ncontent-length: 999999999\r\n\r\n".to_vec(),
            Duration::from_secs(5),
        );
        let (result, _) = fetch_from(announced, 100);
        let message = result.unwrap_err().to_string();
        assert!(message.contains("announces"), "{message}");
        let mut endless = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        endless.resize(endless.len() + 3 * (1 << 20), b'x');
        let (result, _) = fetch_from(serve(endless, Duration::ZERO), 100);
        assert!(result.is_err(), "{result:?}");
    }

    /// From an `https` address, no redirect may lead to plain `http`: the client is then
    /// https-only, which ureq applies to every request of a redirect chain ("limit
    /// requests (including redirects) to https only"); a local `http` source (tests) is
    /// not.
    #[test]
    fn https_downloads_never_follow_a_redirect_to_http() {
        let limits = Limits::default();
        let secure = agent(&source("https://example.org/w.h5".into(), 1), &limits);
        assert!(secure.config().https_only());
        assert_eq!(secure.config().max_redirects(), 5);
        let plain = serve(
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec(),
            Duration::ZERO,
        );
        assert!(secure.get(&plain).call().is_err());
        let local = agent(&source(plain.clone(), 1), &limits);
        assert!(!local.config().https_only());
        assert!(local.get(&plain).call().is_ok());
    }
}
