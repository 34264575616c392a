//! What the user chose, persisted between runs through eframe's storage.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use lookalike_core::describe::engine::BackendChoice;
use lookalike_core::describe::model::Network;
use lookalike_core::find::dupes::{KeepRule, Keeping};
use lookalike_core::find::intent::Intent;
use lookalike_core::find::search::Metric;
use lookalike_core::read::imaging::DEFAULT_MAX_SIDE;

/// The key under which [`Settings`] live in eframe's storage.
/// (v2: intents and the shipped whitening; settings of v1 are not carried over, so
/// every user starts from the calibrated defaults.)
pub const STORAGE_KEY: &str = "lookalike-settings-v2";

/// How many recent library folders are remembered.
pub const RECENT_FOLDERS: usize = 8;

/// Where whitening parameters come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WhiteningSource {
    /// L2-normalised SPoC only.
    Off,
    /// The PCA that ships with lookalike (learned on a public set of other photos).
    Shipped,
    /// PCA-whitening learned on the library's own descriptors.
    Library,
    /// Learned on another folder of photos (indexed once, cached).
    Folder(PathBuf),
}

/// Everything on the settings panel, plus the recent folders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// What "similar" means; choosing one sets the advanced settings below to its
    /// calibrated values.
    pub intent: Intent,
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
    /// The network that describes the photos.
    pub network: Network,
    /// The weights file chosen in the first-run dialog.
    pub model: Option<PathBuf>,
    /// Most recent first.
    pub recent_folders: Vec<PathBuf>,
    /// Duplicates: the keeper rules, first to last (by name; the rules left out follow
    /// in their default order).
    pub keep_rules: Vec<String>,
    /// Duplicates: folders whose files may be kept, never moved.
    pub protected_folders: Vec<PathBuf>,
    /// Duplicates: folders the keeper rule "preferred" keeps from.
    pub preferred_folders: Vec<PathBuf>,
    /// Duplicates: the user has read that moving photos can break a photo catalogue
    /// (said once, before the first clean-up).
    pub catalogue_warned: bool,
    /// The most the thumbnails cached on disk may take, in GB: beyond it the least
    /// recently shown are removed (made again from their photos when shown).
    pub thumbnail_cache_gb: f32,
}

impl Default for Settings {
    fn default() -> Self {
        let calibrated = Intent::default().calibrated();
        Self {
            intent: Intent::default(),
            use_box: true,
            query_expansion: false,
            qe_k: 3,
            metric: calibrated.metric,
            top: 60,
            whitening: WhiteningSource::Shipped,
            whiten_dim: calibrated.whiten_dim,
            whiten_power: calibrated.whiten_power,
            max_side: DEFAULT_MAX_SIDE,
            backend: BackendChoice::Auto,
            network: Network::default(),
            model: None,
            recent_folders: Vec::new(),
            keep_rules: KeepRule::DEFAULT
                .iter()
                .map(|r| r.name().to_string())
                .collect(),
            protected_folders: Vec::new(),
            preferred_folders: Vec::new(),
            catalogue_warned: false,
            thumbnail_cache_gb: DEFAULT_THUMBNAIL_CACHE_GB,
        }
    }
}

/// The thumbnails' disk cache by default: 3 GB, about 250,000 thumbnails (256 px, about
/// 12 KB each): every photo of most libraries, the recently seen of a million.
pub const DEFAULT_THUMBNAIL_CACHE_GB: f32 = 3.0;

impl Settings {
    /// The thumbnails' disk cache limit, in bytes.
    pub fn thumbnail_cache_bytes(&self) -> u64 {
        (f64::from(self.thumbnail_cache_gb.max(0.0)) * 1e9) as u64
    }

    /// Puts `folder` first in the recent list (once), keeping the list short.
    pub fn remember_folder(&mut self, folder: PathBuf) {
        self.recent_folders.retain(|f| f != &folder);
        self.recent_folders.insert(0, folder);
        self.recent_folders.truncate(RECENT_FOLDERS);
    }

    /// How the duplicate finder picks keepers (rule names it does not know, from a
    /// newer version, are left out); the library's decisions are the executor's to add.
    pub fn keeping(&self) -> Keeping {
        Keeping {
            rules: self
                .keep_rules
                .iter()
                .filter_map(|n| KeepRule::from_name(n))
                .collect(),
            protected: self.protected_folders.clone(),
            preferred: self.preferred_folders.clone(),
            decided: Vec::new(),
        }
    }

    /// Chooses what "similar" means: the whitening and distance become the intent's
    /// calibrated ones.
    pub fn set_intent(&mut self, intent: Intent) {
        let calibrated = intent.calibrated();
        self.intent = intent;
        self.whitening = WhiteningSource::Shipped;
        self.whiten_dim = calibrated.whiten_dim;
        self.whiten_power = calibrated.whiten_power;
        self.metric = calibrated.metric;
    }

    /// Whether the advanced settings are still the intent's own.
    pub fn is_calibrated(&self) -> bool {
        let calibrated = self.intent.calibrated();
        self.whitening == WhiteningSource::Shipped
            && self.whiten_dim == calibrated.whiten_dim
            && self.whiten_power == calibrated.whiten_power
            && self.metric == calibrated.metric
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
    fn an_intent_sets_its_calibrated_values() {
        let mut settings = Settings::default();
        assert!(settings.is_calibrated());
        assert_eq!((settings.whiten_dim, settings.whiten_power), (512, 1.0));
        settings.set_intent(Intent::Category);
        assert_eq!((settings.whiten_dim, settings.whiten_power), (32, 0.0));
        assert!(settings.is_calibrated());
        settings.whiten_dim = 64;
        assert!(!settings.is_calibrated());
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
