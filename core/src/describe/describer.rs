//! Descriptors of image files: load -> network -> pool (SPoC's sum, R-MAC, ...) -> L2 ->
//! optional PCA-whitening -> L2.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::describe::engine::{BackendChoice, Engine};
use crate::describe::model::{Network, Preprocessing, WeightsRef};
use crate::describe::net::{NetInput, Spoc};
use crate::describe::pooling::{FeatureMap, Pooling};
use crate::describe::whiten::{Whitening, finish_descriptor};
use crate::read::imaging::{self, CropBox, LoadOptions, LoadedImage};
use crate::support::error::Result;
use serde::{Deserialize, Serialize};

/// How descriptors are made.
#[derive(Debug, Clone, Default)]
pub struct DescriberOptions {
    /// Pixel limit and longer-side bound (the crop is given per image).
    pub load: LoadOptions,
    /// PCA / whitening applied after the first L2 normalisation.
    pub whitening: Option<Whitening>,
    /// How VGG16's conv5_3 is pooled (`Default`: SPoC, the method's; the product
    /// describes with [`Pooling::default_for`] its network).
    pub pooling: Pooling,
}

impl DescriberOptions {
    /// What describes photos the way `provenance` says an index's were (image size and
    /// pooling), so that they compare with its entries; no whitening.
    pub fn for_index(provenance: &Provenance) -> Self {
        Self {
            load: LoadOptions {
                max_side: Some(provenance.max_side).filter(|&side| side > 0),
                ..LoadOptions::default()
            },
            whitening: None,
            pooling: provenance.pooling,
        }
    }
}

/// A query's turned views: a quarter turn clockwise, then counter-clockwise. A search
/// ranks the library's photos as they are against them (and the query as it is), so a
/// copy turned either way meets its original at the library's own size: the photos'
/// own turned views are described smaller, for the duplicate finder
/// (`index::variants::TURNED_SIDE`), and are not searched.
pub fn turned_views(image: &LoadedImage) -> [LoadedImage; 2] {
    let turned = |rgb| LoadedImage {
        rgb,
        damage: None,
        ..*image
    };
    [
        turned(image::imageops::rotate90(&image.rgb)),
        turned(image::imageops::rotate270(&image.rgb)),
    ]
}

/// A box query as the library saw it. A box cut from a photo larger than the library's
/// size (`max_side`) is described at its own pixels, while the library described every
/// photo shrunk to `max_side`: in a copy, the same region is smaller (a sixteenth of a
/// 1,600-px photo is 400 px wide in the query, 256 in the library). This view is the
/// box shrunk by the library's factor, so it meets its copies at the scale they were
/// described at. `None` for a whole photo or a box already near that scale, and for a
/// box too small to describe that way ([`MIN_VIEW_SIDE`]).
pub fn at_library_scale(
    image: &LoadedImage,
    crop: Option<CropBox>,
    max_side: Option<u32>,
) -> Option<LoadedImage> {
    let (_, _, width, height) = crop?.pixels(image.width, image.height)?;
    let scale = f64::from(max_side?) / f64::from(image.width.max(image.height));
    let size = |pixels: u32| (f64::from(pixels) * scale).round() as u32;
    let (w, h) = (size(width), size(height));
    let described = image.rgb.width().max(image.rgb.height());
    let near = f64::from(w.max(h)) > NEAR_SCALE * f64::from(described);
    if near || w.max(h) < MIN_VIEW_SIDE || w.min(h) < imaging::MIN_SIDE {
        return None;
    }
    Some(LoadedImage {
        rgb: imaging::resize_rgb(&image.rgb, w, h),
        damage: None,
        ..*image
    })
}

/// [`at_library_scale`] adds no view within this factor of the box's own size.
const NEAR_SCALE: f64 = 0.8;

/// The longer side below which [`at_library_scale`] adds no view: a 4 x 4 map of
/// conv5_3 at least (smaller ones match anything a little).
pub const MIN_VIEW_SIDE: u32 = 64;

/// One image's descriptor.
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    pub path: PathBuf,
    /// Size of the EXIF-oriented original.
    pub width: u32,
    pub height: u32,
    /// `[height, width]` of the pooled map (VGG16's conv5_3, GoogLeNet's inception5b).
    pub feature_map: [usize; 2],
    /// The raw descriptor: VGG16's SPoC (sum over conv5_3, 512-d) or GoogLeNet's pool5
    /// (1,024-d).
    pub raw: Vec<f32>,
    /// The final descriptor: L2(whiten(L2(raw))), or L2(raw) without whitening.
    pub descriptor: Vec<f32>,
}

/// Turns image files into descriptors with one loaded network (shared: describers
/// with other options can run on the same engine).
#[derive(Debug, Clone)]
pub struct Describer {
    engine: Arc<Engine>,
    preprocessing: Preprocessing,
    options: DescriberOptions,
}

impl Describer {
    /// Loads `weights` (either network) on `backend`.
    pub fn new<'a>(
        weights: impl Into<WeightsRef<'a>>,
        backend: BackendChoice,
        options: DescriberOptions,
    ) -> Result<Self> {
        let weights = weights.into();
        Ok(Self {
            engine: Arc::new(Engine::new(weights, backend)?),
            preprocessing: weights.preprocessing().clone(),
            options,
        })
    }

    /// The same network with other options.
    pub fn with_options(&self, options: DescriberOptions) -> Self {
        Self {
            engine: Arc::clone(&self.engine),
            preprocessing: self.preprocessing.clone(),
            options,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The network that makes the descriptors.
    pub fn network(&self) -> Network {
        self.engine.network()
    }

    pub fn options(&self) -> &DescriberOptions {
        &self.options
    }

    /// Loads `path` (cropped to `crop`, if given) and describes it.
    pub fn describe_path(&self, path: &Path, crop: Option<CropBox>) -> Result<Description> {
        let options = LoadOptions {
            crop,
            ..self.options.load
        };
        crate::support::isolate::per_file(path, || {
            let image = imaging::load(path, &options)?;
            self.describe_loaded(path, &image)
        })
    }

    /// `path` (or its `crop` box) described as it is, a box also at the library's scale
    /// ([`at_library_scale`]) and, with `turned`, turned a quarter each way
    /// ([`turned_views`]; decoded once): the query's views for
    /// [`crate::find::search::Database::search_views`], so that copies turned either way
    /// are found, and small regions at the size the library saw them.
    pub fn describe_views(
        &self,
        path: &Path,
        crop: Option<CropBox>,
        turned: bool,
    ) -> Result<Vec<Description>> {
        let options = LoadOptions {
            crop,
            ..self.options.load
        };
        crate::support::isolate::per_file(path, || {
            let image = imaging::load(path, &options)?;
            let mut views = vec![self.describe_loaded(path, &image)?];
            if let Some(scaled) = at_library_scale(&image, crop, options.max_side) {
                views.push(self.describe_loaded(path, &scaled)?);
            }
            if turned {
                for turned in turned_views(&image) {
                    views.push(self.describe_loaded(path, &turned)?);
                }
            }
            Ok(views)
        })
    }

    /// Describes an image that is already decoded, cropped and resized.
    pub fn describe_loaded(&self, path: &Path, image: &LoadedImage) -> Result<Description> {
        let spoc = self.spoc(image)?;
        let descriptor = self.finish(&spoc.raw);
        Ok(Description {
            path: path.to_path_buf(),
            width: image.width,
            height: image.height,
            feature_map: spoc.feature_map,
            raw: spoc.raw,
            descriptor,
        })
    }

    /// VGG16's conv5_3 map (after its ReLU) of a loaded image, for other poolings.
    pub fn conv5_3(&self, image: &LoadedImage) -> Result<FeatureMap> {
        self.engine.conv5_3(&self.net_input(image))
    }

    /// Raw SPoC of a loaded image (or its conv5_3 pooled as the options say).
    pub fn spoc(&self, image: &LoadedImage) -> Result<Spoc> {
        match self.options.pooling {
            Pooling::Spoc => self.engine.spoc(&self.net_input(image)),
            pooling => {
                let map = self.conv5_3(image)?;
                Ok(Spoc {
                    feature_map: [map.height, map.width],
                    raw: crate::describe::pooling::pool(pooling, &map),
                })
            }
        }
    }

    /// Raw SPoC of loaded images of one size, in one pass of the network where the
    /// backend gains from it (a GPU).
    pub fn spoc_batch(&self, images: &[&LoadedImage]) -> Result<Vec<Spoc>> {
        let inputs: Vec<NetInput> = images.iter().map(|image| self.net_input(image)).collect();
        match self.options.pooling {
            Pooling::Spoc => self.engine.spoc_batch(&inputs),
            pooling => Ok(self
                .engine
                .conv5_3_batch(&inputs)?
                .iter()
                .map(|map| Spoc {
                    feature_map: [map.height, map.width],
                    raw: crate::describe::pooling::pool(pooling, map),
                })
                .collect()),
        }
    }

    fn net_input(&self, image: &LoadedImage) -> NetInput {
        NetInput {
            height: image.rgb.height() as usize,
            width: image.rgb.width() as usize,
            data: self.preprocessing.apply(image.rgb.as_raw()),
        }
    }

    /// Raw SPoC -> final descriptor.
    pub fn finish(&self, raw: &[f32]) -> Vec<f32> {
        finish_descriptor(raw, self.options.whitening.as_ref())
    }
}

/// What the descriptors in an index depend on: a different network, model or image
/// pipeline makes them incomparable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// SHA-256 of the weights file.
    pub model_sha256: String,
    /// Longer-side bound the images were shrunk to (0: full size).
    pub max_side: u32,
    /// The network the weights are for.
    pub network: Network,
    /// How the network's last map became the raw descriptor.
    pub pooling: Pooling,
}

impl Provenance {
    /// Descriptors made by `weights` from images shrunk to `max_side` (0: full size),
    /// pooled by `pooling`.
    pub fn new<'a>(weights: impl Into<WeightsRef<'a>>, max_side: u32, pooling: Pooling) -> Self {
        let weights = weights.into();
        Self {
            model_sha256: weights.sha256(),
            max_side,
            network: weights.network(),
            pooling,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `width x height` photo's `crop` prepared the way a query is (longer side at
    /// most 1,024), then its view at the library's scale, as `(width, height)`.
    fn scaled(width: u32, height: u32, crop: Option<(f64, f64, f64, f64)>) -> Option<(u32, u32)> {
        let photo = image::RgbImage::new(width, height);
        let crop = crop.map(|(x1, y1, x2, y2)| CropBox::new(x1, y1, x2, y2).unwrap());
        let image = imaging::prepare(Path::new("q.jpg"), &photo, crop, Some(1024)).unwrap();
        at_library_scale(&image, crop, Some(1024)).map(|view| view.rgb.dimensions())
    }

    #[test]
    fn a_box_of_a_large_photo_is_also_seen_at_the_librarys_scale() {
        // A sixteenth of a 1,600 x 900 photo: 400 x 225 px, the library saw it at 0.64.
        assert_eq!(
            scaled(1600, 900, Some((100.0, 100.0, 500.0, 325.0))),
            Some((256, 144))
        );
        // A box larger than the query's own bound (shrunk to 1,024 already) of a 6,000-px
        // photo: the library's factor is 1,024 / 6,000 of the box's own pixels.
        assert_eq!(
            scaled(6000, 4000, Some((0.0, 0.0, 3000.0, 1500.0))),
            Some((512, 256))
        );
        // A whole photo is already at the library's scale; a small photo's box too.
        assert_eq!(scaled(1600, 900, None), None);
        assert_eq!(scaled(1600, 900, Some((0.0, 0.0, 1600.0, 900.0))), None);
        assert_eq!(scaled(800, 600, Some((100.0, 100.0, 300.0, 250.0))), None);
        // Nearly the box's own size (within 0.8), or too small to describe: no view.
        assert_eq!(scaled(1100, 700, Some((0.0, 0.0, 400.0, 300.0))), None);
        assert_eq!(scaled(1600, 900, Some((0.0, 0.0, 90.0, 60.0))), None);
    }
}
