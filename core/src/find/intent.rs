//! What "similar" means to the user, and the calibrated settings each meaning needs.
//!
//! The two published uses of the same descriptor pull in opposite directions: full
//! PCA-whitening makes instance search (the same scene or object, near-duplicates)
//! much better and category search much worse. Instead of asking for a whitening
//! dimension and power, the app and the command line ask for an [`Intent`]; both
//! take their whitening from the one [shipped](crate::describe::whiten::shipped) PCA of the
//! index's pooling.

use serde::{Deserialize, Serialize};

use crate::describe::pooling::Pooling;
use crate::describe::whiten::{self, Whitening};
use crate::find::search::Metric;

/// What the user is looking for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// The same scene or object: other shots of the same place or thing, copies and
    /// edits of a photo (full whitening; with R-MAC and the turned and enlarged views,
    /// neardup-dev mAP 0.9998 full, 0.9954 box).
    #[default]
    Instance,
    /// The same kind of picture: dogs, churches, parachutes (PCA to 32 dimensions, not
    /// whitened; imagenette P@100 0.903 with R-MAC, 0.871 with SPoC).
    Category,
}

/// The settings an intent was calibrated with (README, "Intents").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibrated {
    /// Dimensions kept of the shipped PCA.
    pub whiten_dim: usize,
    /// 1: fully whitened; 0: rotated only.
    pub whiten_power: f32,
    pub metric: Metric,
}

impl Intent {
    pub const ALL: [Self; 2] = [Self::Instance, Self::Category];

    /// As the toolbar says it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Instance => "Same scene or object",
            Self::Category => "Same kind of picture",
        }
    }

    /// One line on what it finds, for a tooltip.
    pub fn explanation(self) -> &'static str {
        match self {
            Self::Instance => {
                "Other photos of the same place, building or thing, and copies of a photo \
                 (cropped, resized, recompressed, turned)"
            }
            Self::Category => {
                "Photos of the same kind of subject: other dogs, other churches, other \
                 beaches, whatever the place"
            }
        }
    }

    pub fn calibrated(self) -> Calibrated {
        match self {
            Self::Instance => Calibrated {
                whiten_dim: 512,
                whiten_power: 1.0,
                metric: Metric::Cosine,
            },
            Self::Category => Calibrated {
                whiten_dim: 32,
                whiten_power: 0.0,
                metric: Metric::Cosine,
            },
        }
    }

    /// The intent's whitening, from the shipped PCA of `pooling`: `None` when there is
    /// none for it, or it was learned with other weights than `file_sha256` /
    /// `weights_sha256` (see [`whiten::shipped`]).
    pub fn shipped_whitening(
        self,
        pooling: Pooling,
        file_sha256: &str,
        weights_sha256: Option<&str>,
    ) -> Option<Whitening> {
        let c = self.calibrated();
        whiten::shipped(pooling, file_sha256, weights_sha256)?
            .with_shape(c.whiten_dim, c.whiten_power)
            .ok()
    }
}

impl std::fmt::Display for Intent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}
