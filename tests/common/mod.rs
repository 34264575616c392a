//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;

/// `../shared` beside the repository, or `None` after printing why the test is skipped.
pub fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if dir.join("models").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} not found (the shared test data lives beside the repository)",
            dir.display()
        );
        None
    }
}

/// The real VGG16 weights in `../shared`.
pub fn shared_model(shared: &std::path::Path) -> PathBuf {
    shared.join("models/vgg16_imagenet_features.safetensors")
}

/// Relative L2 error `|a - b| / |b|`.
pub fn relative_l2(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let diff: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum();
    let norm: f64 = b.iter().map(|y| f64::from(*y).powi(2)).sum();
    (diff / norm).sqrt()
}
