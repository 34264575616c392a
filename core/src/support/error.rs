//! The core's error type. Every variant that concerns a file names it.

use std::path::PathBuf;

/// Result alias for the core library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core. Per-file failures carry the path so that
/// a caller collecting them can show the user which file failed and why.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: empty file", path.display())]
    EmptyFile { path: PathBuf },

    #[error("{}: not a photo: not an image in a supported format (JPEG, PNG, WebP, TIFF, BMP, GIF, PNM, camera RAW)", path.display())]
    UnsupportedFormat { path: PathBuf },

    #[error("{}: {format} support is not built in: {why}", path.display())]
    NotBuiltIn {
        path: PathBuf,
        format: &'static str,
        why: &'static str,
    },

    #[error("{}: cannot decode image: {reason}", path.display())]
    Decode { path: PathBuf, reason: String },

    #[error(
        "{}: image is {width}x{height} ({} megapixels), above the limit of {} megapixels",
        path.display(),
        (*width as u64 * *height as u64) / 1_000_000,
        limit / 1_000_000
    )]
    TooManyPixels {
        path: PathBuf,
        width: u32,
        height: u32,
        limit: u64,
    },

    #[error("{}: image is {width}x{height}, smaller than the network's minimum of 16x16 pixels", path.display())]
    TooSmall {
        path: PathBuf,
        width: u32,
        height: u32,
    },

    #[error("{}: crop box {crop} does not fit the {width}x{height} image", path.display())]
    BadCropBox {
        path: PathBuf,
        crop: String,
        width: u32,
        height: u32,
    },

    #[error("invalid crop box {0:?}: expected x1,y1,x2,y2 with x1 < x2 and y1 < y2")]
    CropBoxSyntax(String),

    #[error("model {}: {reason}", path.display())]
    Model { path: PathBuf, reason: String },

    #[error("{0}")]
    ModelNotFound(String),

    #[error("whitening {}: {reason}", path.display())]
    Whitening { path: PathBuf, reason: String },

    #[error("index {}: {reason}", path.display())]
    Index { path: PathBuf, reason: String },

    #[error("import {}: {reason}", path.display())]
    Import { path: PathBuf, reason: String },

    #[error("backend: {0}")]
    Backend(String),

    #[error("download {url}: {reason}")]
    Download { url: String, reason: String },

    #[error("{}: {reason}", path.display())]
    Refused { path: PathBuf, reason: String },

    /// Most of a library's photos are gone since it was indexed; their descriptions are
    /// kept until the user says to forget them.
    #[error(
        "{}: {missing} of the {entries} photos indexed are not there now (is its drive \
         connected? was the folder moved?); their descriptions are kept. Connect the drive \
         and try again, or, if they are gone for good, run again with --forget-missing \
         (in the app: Forget missing photos)",
        root.display()
    )]
    PhotosMissing {
        root: PathBuf,
        missing: usize,
        entries: usize,
    },

    /// Another process holds the lock of this file (an index, the undo journal).
    #[error("{}: {reason}", path.display())]
    Busy { path: PathBuf, reason: String },

    #[error("{}: crashed while reading or describing it ({reason}); the run went on without it", path.display())]
    Crashed { path: PathBuf, reason: String },

    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn model(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Model {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
