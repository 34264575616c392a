//! The bounds every photo is held to, whatever its format: how many pixels it may
//! declare (decompression bombs), how many bytes are read of it, and the smallest side
//! the network can describe.

use std::path::Path;

use crate::support::error::{Error, Result};

/// Images above this many pixels are refused (decompression-bomb guard). 150 MP is
/// above every current camera sensor (the largest medium-format backs are ~102 MP).
pub const DEFAULT_MAX_PIXELS: u64 = 150_000_000;

/// Smallest side the network accepts: conv5_3 has stride 16
/// (`describe::model::FEATURE_STRIDE`, which checks that the two agree), so anything
/// smaller has an empty feature map.
pub const MIN_SIDE: u32 = 16;

/// The most bytes of one photo lookalike reads (a 100-megapixel 16-bit TIFF is about
/// 600 MB; a RAW file under 200 MB): a larger file is that photo's failure, never a
/// read that fills the memory.
pub const MAX_PHOTO_BYTES: u64 = 1 << 30;

/// Refuses, from its header, an image with more than `max_pixels` pixels (a
/// decompression bomb), before any pixel is decoded.
pub(crate) fn check_pixels(path: &Path, width: u32, height: u32, max_pixels: u64) -> Result<()> {
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(Error::TooManyPixels {
            path: path.to_path_buf(),
            width,
            height,
            limit: max_pixels,
        });
    }
    Ok(())
}
