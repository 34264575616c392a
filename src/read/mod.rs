//! Reading photos: file to pixels, and what the bytes say about the file. (The
//! decoders in `imaging`, `raw`, `heif` and `jpeg_dc` move here with the redesign.)

pub mod damage;

pub use damage::{Damage, jpeg_damage};
