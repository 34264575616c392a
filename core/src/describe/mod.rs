//! Pixels to descriptor: the weights (`model`), the networks and their engines (`net`,
//! `engine`), pooling of the last feature map, vector helpers, PCA-whitening, and the
//! `Describer` that runs them in order.

pub mod describer;
pub mod engine;
pub mod model;
pub mod net;
pub mod pooling;
pub mod vectors;
pub mod whiten;
