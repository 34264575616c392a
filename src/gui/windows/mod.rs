//! Windows over the main one.
//!
//! | module | role |
//! |---|---|
//! | [`failures`] | the files that could not be indexed or are damaged |
//! | [`preview`] | a result large, beside the query and its box |
//! | [`compare`] | two photos side by side at one zoom |
//! | [`weights`] | the first-run dialog: download or choose the network's weights |

pub mod compare;
pub mod failures;
pub mod preview;
pub mod weights;

use std::path::{Path, PathBuf};

use eframe::egui;

/// Large photos kept as textures.
const LARGE_TEXTURES: usize = 6;

/// Large decoded photos (preview, compare), most recent last.
#[derive(Default)]
pub struct LargePhotos {
    textures: Vec<(PathBuf, egui::TextureHandle)>,
}

impl LargePhotos {
    /// Keeps `image` as `path`'s large photo, forgetting the oldest beyond a few.
    pub fn insert(&mut self, ctx: &egui::Context, path: PathBuf, image: egui::ColorImage) {
        let name = format!("large:{}", path.display());
        let texture = ctx.load_texture(name, image, egui::TextureOptions::LINEAR);
        self.textures.retain(|(p, _)| *p != path);
        self.textures.push((path, texture));
        if self.textures.len() > LARGE_TEXTURES {
            drop(self.textures.remove(0));
        }
    }

    pub fn get(&self, path: &Path) -> Option<&egui::TextureHandle> {
        self.textures
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t)
    }
}
