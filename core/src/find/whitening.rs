//! Which whitening a search applies, decided in one place for the app, `search`,
//! `dupes`, `eval` and `describe`: none, the shipped PCA shaped for an intent, one
//! learned from photos, or a file.

use std::path::{Path, PathBuf};

use crate::describe::describer::Provenance;
use crate::describe::pooling::Pooling;
use crate::describe::whiten::{self, Whitening, check_whitening_fits};
use crate::find::intent::Intent;
use crate::index::Index;
use crate::support::error::Error;

/// Fewest photos whitening is learned from.
pub const MIN_PHOTOS: usize = 32;

/// How many directions of the PCA are kept, and how far they are whitened (1 fully,
/// 0 a plain rotation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub dim: usize,
    pub power: f32,
}

impl Intent {
    /// The shape of the shipped PCA this intent was calibrated with.
    pub fn shape(self) -> Shape {
        let calibrated = self.calibrated();
        Shape {
            dim: calibrated.whiten_dim,
            power: calibrated.whiten_power,
        }
    }
}

/// Where the whitening comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// None: the descriptors are only L2-normalised.
    Off,
    /// The PCA that ships with lookalike for the descriptors' pooling (learned on
    /// another photo set), kept to `dim` (at most its own) and scaled to `power`.
    Shipped(Shape),
    /// Learned from the descriptors of these photos (at most `n - 1` directions).
    LearnedFrom(&'a Index, Shape),
    /// A file from `lookalike whiten learn`.
    File(&'a Path),
}

/// The whitening chosen, and what it is in words ("shipped whitening, 512-d ...").
#[derive(Debug, Clone)]
pub struct Chosen {
    pub whitening: Option<Whitening>,
    pub description: String,
}

/// Why the whitening asked for cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("no whitening ships for {} descriptors of these weights", .pooling.title())]
    NoneShipped { pooling: Pooling },
    #[error(
        "whitening needs at least {MIN_PHOTOS} photos to learn from, {} has {photos}",
        .root.display()
    )]
    TooFewPhotos { root: PathBuf, photos: usize },
    #[error("{} was learned on {} descriptors, these are {}", .path.display(), .learned.title(), .now.title())]
    OtherPooling {
        path: PathBuf,
        learned: Pooling,
        now: Pooling,
    },
    #[error(transparent)]
    Failed(#[from] Error),
}

/// The whitening `source` gives descriptors of `provenance`; `weights_sha256` is the
/// digest of the weights' tensors (the shipped PCA fits the same weights in another
/// file too).
pub fn choose(
    source: Source<'_>,
    provenance: &Provenance,
    weights_sha256: Option<&str>,
) -> Result<Chosen, Problem> {
    match source {
        Source::Off => Ok(Chosen {
            whitening: None,
            description: "L2 only".into(),
        }),
        Source::Shipped(shape) => shipped(shape, provenance, weights_sha256),
        Source::LearnedFrom(index, shape) => learned(index, shape, provenance),
        Source::File(path) => file(path, provenance),
    }
}

fn shipped(
    shape: Shape,
    provenance: &Provenance,
    weights_sha256: Option<&str>,
) -> Result<Chosen, Problem> {
    let pooling = provenance.pooling;
    let shipped = whiten::shipped(pooling, &provenance.model_sha256, weights_sha256)
        .ok_or(Problem::NoneShipped { pooling })?;
    let dim = shape.dim.clamp(1, shipped.dim());
    let whitening = shipped.with_shape(dim, shape.power)?;
    let origin = shipped
        .origin
        .get("learned_from")
        .map_or("another set", String::as_str);
    let description = format!(
        "shipped whitening, {dim}-d (power {}), learned on {} photos of {origin}",
        shape.power, shipped.samples
    );
    Ok(Chosen {
        whitening: Some(whitening),
        description,
    })
}

fn learned(index: &Index, shape: Shape, provenance: &Provenance) -> Result<Chosen, Problem> {
    let photos = index.entries.len();
    if photos < MIN_PHOTOS {
        return Err(Problem::TooFewPhotos {
            root: index.root.clone(),
            photos,
        });
    }
    // PCA can keep at most n - 1 directions.
    let dim = shape
        .dim
        .clamp(1, photos - 1)
        .min(provenance.network.feature_dim());
    let whitening = index.learn_whitening(dim, shape.power)?;
    let what = if shape.power == 0.0 {
        "PCA"
    } else {
        "PCA-whitened"
    };
    let description = format!(
        "{what} to {dim}-d (power {}), learned on {photos} photos of {}",
        shape.power,
        index.root.display()
    );
    Ok(Chosen {
        whitening: Some(whitening),
        description,
    })
}

fn file(path: &Path, provenance: &Provenance) -> Result<Chosen, Problem> {
    let whitening = Whitening::load(path)?;
    check_whitening_fits(&whitening, path, provenance.network.feature_dim())?;
    if whitening.pooling() != provenance.pooling {
        return Err(Problem::OtherPooling {
            path: path.to_path_buf(),
            learned: whitening.pooling(),
            now: provenance.pooling,
        });
    }
    let description = format!(
        "{}-d whitening (power {}) from {}",
        whitening.dim(),
        whitening.power(),
        path.display()
    );
    Ok(Chosen {
        whitening: Some(whitening),
        description,
    })
}
