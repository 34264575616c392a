//! Reading photos: file to pixels (`imaging`: JPEG, PNG and the rest through `image`,
//! big JPEGs at the size needed, `jpeg_dc` for 1/8 thumbnails, `raw` previews, `sensor`
//! data where a RAW has none, `heif`
//! through the system's libheif), the limits every file is held to, and what the bytes
//! say about the file (`damage`) and what its EXIF says about the shot (`exif`).

pub mod damage;
pub mod exif;
pub mod heif;
pub mod imaging;
pub mod jpeg_dc;
pub mod limits;
pub mod raw;
pub mod sensor;

pub use damage::{Damage, jpeg_damage};
