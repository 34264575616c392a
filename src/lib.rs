//! lookalike: search a photo library by example.
//!
//! The library core: VGG16 SPoC descriptors (Babenko & Lempitsky, ICCV 2015) computed
//! with Burn (GPU through wgpu, or the pure-Rust `flex` CPU backend) or with a
//! GEMM-based CPU engine, plus the image pipeline and PCA-whitening around them.
//! Nothing here depends on a GUI crate; the command line lives in [`cli`].

pub mod backend;
pub mod cleanup;
pub mod cli;
pub mod descriptor;
pub mod dupes;
pub mod error;
pub mod eval;
#[doc(hidden)]
pub mod fuzz;
pub mod guard;
pub mod heif;
pub mod imaging;
pub mod index;
pub mod intent;
pub mod isolate;
pub mod jpeg_dc;
pub mod model;
pub mod net;
pub mod pooling;
pub mod raw;
pub mod read;
pub mod safefs;
pub mod search;
pub mod whiten;

#[cfg(feature = "gui")]
pub mod gui;

pub use backend::{BackendChoice, Engine};
pub use descriptor::{Describer, DescriberOptions, Description};
pub use error::{Error, Result};
pub use imaging::CropBox;
pub use intent::Intent;
pub use model::{Preprocessing, Vgg16Weights};
pub use whiten::Whitening;
