//! What the user chose, persisted between runs through eframe's storage.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::backend::BackendChoice;
use crate::imaging::DEFAULT_MAX_SIDE;
use crate::search::Metric;

/// The key under which [`Settings`] live in eframe's storage.
pub const STORAGE_KEY: &str = "lookalike-settings-v1";

/// How many recent library folders are remembered.
pub const RECENT_FOLDERS: usize = 8;

/// Where whitening parameters come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WhiteningSource {
    /// L2-normalised SPoC only.
    Off,
    /// PCA-whitening learned on the library's own descriptors.
    Library,
    /// Learned on another folder of photos (indexed once, cached).
    Folder(PathBuf),
}

/// Everything on the settings panel, plus the recent folders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Query the drawn box (when there is one) rather than the full image.
    pub use_box: bool,
    pub query_expansion: bool,
    /// Results averaged into the query when query expansion is on.
    pub qe_k: usize,
    pub metric: Metric,
    /// Number of results shown.
    pub top: usize,
    pub whitening: WhiteningSource,
    /// Output dimension of the whitening.
    pub whiten_dim: usize,
    /// 1 whitens fully (eigenvalues to the power -1/2), 0 is a plain PCA rotation.
    pub whiten_power: f32,
    /// Longer side of the images given to the network when indexing.
    pub max_side: u32,
    pub backend: BackendChoice,
    /// The weights file chosen in the first-run dialog.
    pub model: Option<PathBuf>,
    /// Most recent first.
    pub recent_folders: Vec<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            use_box: true,
            query_expansion: false,
            qe_k: 3,
            metric: Metric::Cosine,
            top: 60,
            whitening: WhiteningSource::Off,
            whiten_dim: 128,
            whiten_power: 1.0,
            max_side: DEFAULT_MAX_SIDE,
            backend: BackendChoice::Auto,
            model: None,
            recent_folders: Vec::new(),
        }
    }
}

impl Settings {
    /// Puts `folder` first in the recent list (once), keeping the list short.
    pub fn remember_folder(&mut self, folder: PathBuf) {
        self.recent_folders.retain(|f| f != &folder);
        self.recent_folders.insert(0, folder);
        self.recent_folders.truncate(RECENT_FOLDERS);
    }

    /// The settings that change the ranking (not the index), compared to decide
    /// whether results must be refreshed.
    pub fn ranking(&self) -> Ranking {
        Ranking {
            use_box: self.use_box,
            qe_k: if self.query_expansion { self.qe_k } else { 0 },
            metric: self.metric,
            top: self.top,
        }
    }
}

/// The part of the settings a search needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranking {
    pub use_box: bool,
    /// 0: no query expansion.
    pub qe_k: usize,
    pub metric: Metric,
    pub top: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_folders_are_unique_most_recent_first_and_bounded() {
        let mut settings = Settings::default();
        for i in 0..12 {
            settings.remember_folder(PathBuf::from(format!("/photos/{i}")));
        }
        settings.remember_folder(PathBuf::from("/photos/5"));
        assert_eq!(settings.recent_folders.len(), RECENT_FOLDERS);
        assert_eq!(settings.recent_folders[0], PathBuf::from("/photos/5"));
        assert_eq!(
            settings
                .recent_folders
                .iter()
                .filter(|f| f.ends_with("5"))
                .count(),
            1
        );
    }

    #[test]
    fn settings_survive_a_round_trip_and_old_files_get_defaults() {
        let settings = Settings {
            metric: Metric::Manhattan,
            whitening: WhiteningSource::Folder("/w".into()),
            ..Settings::default()
        };
        let text = serde_json::to_string(&settings).expect("serialise");
        let back: Settings = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, settings);
        let partial: Settings = serde_json::from_str(r#"{"top": 7}"#).expect("parse");
        assert_eq!(partial.top, 7);
        assert_eq!(partial.metric, Metric::Cosine);
    }
}
