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

    /// `path` (or its `crop` box) described as it is and, with `turned`, also turned a
    /// quarter each way ([`turned_views`]; decoded once): the query's views for
    /// [`crate::find::search::Database::search_views`], so that copies turned either way
    /// are found.
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
