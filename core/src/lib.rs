//! lookalike-core: search a photo library by example, the engine without its faces.
//!
//! The modules are the pipeline, in order, and each names only the ones before it
//! (checked by `layers.rs`, a test that reads every path in these sources):
//!
//! - [`support`]: errors, the only file writer (`safefs`), per-file isolation, guards;
//! - [`read`]: file → pixels (JPEG, RAW previews, HEIC), limits and damage;
//! - [`describe`]: weights, networks, engines, pooling, whitening: pixels → descriptor;
//! - [`index`]: a folder's descriptors on disk (scan, update, storage) and the turned and
//!   enlarged views and thumbnails made for it;
//! - [`find`]: search, intents, duplicates (pairs, verification, groups and keeper), eval;
//! - [`cleanup`]: moving verified copies to the trash or a folder, the undo journal.
//!
//! Nothing here depends on a command-line or GUI crate: the `lookalike` package holds
//! the two faces, `cli` and `gui`, over this crate.

pub mod support;

pub mod read;

pub mod describe;

pub mod index;

pub mod find;

pub mod cleanup;

#[doc(hidden)]
pub mod fuzz;

#[cfg(test)]
mod layers;
#[cfg(test)]
mod sizes;

pub use describe::describer::{Describer, DescriberOptions, Description};
pub use describe::engine::{BackendChoice, Engine};
pub use describe::model::{Preprocessing, Vgg16Weights};
pub use describe::whiten::Whitening;
pub use find::intent::Intent;
pub use read::imaging::CropBox;
pub use support::error::{Error, Result};
