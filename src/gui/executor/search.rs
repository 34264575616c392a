//! The query photo, ranking the library for it, and photos decoded for display.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use eframe::egui;
use image::RgbImage;

use super::library::{Searchable, paired_photo};
use super::{EventSink, Executor};
use crate::gui::protocol::{Event, QUERY_DISPLAY_SIDE, ResultItem};
use crate::gui::settings::Ranking;
use lookalike_core::describe::describer::{DescriberOptions, at_library_scale, turned_views};
use lookalike_core::describe::whiten::finish_descriptor;
use lookalike_core::read::imaging::{self, CropBox};

pub(super) struct QueryImage {
    pub(super) id: u64,
    pub(super) path: PathBuf,
    pub(super) rgb: RgbImage,
    /// The raw SPoC of the last box described (the box, whether turned views were
    /// made) and its views (as it is, at the library's scale for a box of a large
    /// photo, turned a quarter each way when the library is searched so), to re-rank
    /// without the network.
    pub(super) last_raw: Option<(Described, Vec<Vec<f32>>)>,
}

/// What a query's views were made for: its box, and whether turned views were made.
pub(super) type Described = (Option<CropBox>, bool);

impl Executor {
    /// Ranks the library for search `generation` and sends the results (a first
    /// ranking, then the final one) or why it failed.
    pub(super) fn search_and_answer(
        &mut self,
        generation: u64,
        query: u64,
        crop: Option<CropBox>,
        ranking: Ranking,
    ) {
        let started = Instant::now();
        let first = |sink: &EventSink, hits| {
            sink.send(Event::Results {
                generation,
                hits,
                seconds: started.elapsed().as_secs_f64(),
                refining: true,
            });
        };
        match self.search(query, crop, ranking, first) {
            Ok(hits) => self.sink.send(Event::Results {
                generation,
                hits,
                seconds: started.elapsed().as_secs_f64(),
                refining: false,
            }),
            Err(error) => self.sink.send(Event::SearchFailed {
                generation,
                message: format!("{error:#}"),
            }),
        }
    }

    pub(super) fn load_query(&mut self, id: u64, path: PathBuf) {
        let decoded = lookalike_core::support::isolate::per_file(&path, || {
            imaging::decode_file(&path, imaging::DEFAULT_MAX_PIXELS)
        });
        match decoded {
            Ok(rgb) => {
                let display = display_image(&rgb, QUERY_DISPLAY_SIDE);
                let (width, height) = rgb.dimensions();
                self.query = Some(QueryImage {
                    id,
                    path: path.clone(),
                    rgb,
                    last_raw: None,
                });
                self.sink.send(Event::QueryLoaded {
                    id,
                    path,
                    width,
                    height,
                    display,
                });
            }
            Err(error) => self.sink.send(Event::QueryFailed {
                id,
                message: format!("{error:#}"),
            }),
        }
    }

    /// Ranks the library for the query (its box when `ranking.use_box`). When the
    /// library is searched with views, the query turned a quarter each way is described
    /// too: those two more passes of the network triple the time to the final ranking,
    /// so the ranking from the query as it is goes to `first` before them.
    pub(super) fn search(
        &mut self,
        query_id: u64,
        crop: Option<CropBox>,
        ranking: Ranking,
        first: impl FnOnce(&EventSink, Vec<ResultItem>),
    ) -> anyhow::Result<Vec<ResultItem>> {
        let library = self
            .library
            .as_ref()
            .context("open a library folder first")?;
        let query = self
            .query
            .as_mut()
            .filter(|q| q.id == query_id)
            .context("the query photo is no longer loaded")?;
        let crop = crop.filter(|_| ranking.use_box);
        let turned = library.turned;
        if let Some((described, raw)) = &query.last_raw
            && *described == (crop, turned)
        {
            return rank(library, raw, ranking);
        }
        let describer = self
            .describer
            .as_ref()
            .context("the network is not loaded")?
            .with_options(DescriberOptions::for_index(&library.index.provenance));
        let max_side = library.index.provenance.max_side;
        let image = imaging::prepare(&query.path, &query.rgb, crop, Some(max_side))?;
        let scaled = at_library_scale(&image, crop, Some(max_side));
        let describe = |image: &imaging::LoadedImage| {
            lookalike_core::support::isolate::per_file(&query.path, || describer.spoc(image))
                .map(|s| s.raw)
        };
        let mut raw = vec![describe(&image)?];
        if let Some(scaled) = &scaled {
            raw.push(describe(scaled)?);
        }
        if turned {
            first(&self.sink, rank(library, &raw, ranking)?);
            for turned in turned_views(&image) {
                raw.push(describe(&turned)?);
            }
        }
        let hits = rank(library, &raw, ranking)?;
        query.last_raw = Some(((crop, turned), raw));
        Ok(hits)
    }
}

/// The library ranked for the query's raw SPoC views (as it is, at the library's scale,
/// turned),
/// a RAW + JPEG pair shown once, as its RAW.
pub(super) fn rank(
    library: &Searchable,
    raw: &[Vec<f32>],
    ranking: Ranking,
) -> anyhow::Result<Vec<ResultItem>> {
    let descriptors: Vec<Vec<f32>> = raw
        .iter()
        .map(|raw| finish_descriptor(raw, library.whitening.as_ref()))
        .collect();
    let descriptors: Vec<&[f32]> = descriptors.iter().map(Vec::as_slice).collect();
    // Leave room for the JPEGs of pairs, which are dropped.
    let hits = library.database.search_views_expanded(
        &descriptors,
        ranking.metric,
        ranking.qe_k,
        ranking.top + library.shots.siblings().len().min(ranking.top),
    )?;
    Ok(hits
        .iter()
        .filter(|hit| !library.shots.siblings().contains_key(&hit.row))
        .take(ranking.top)
        .enumerate()
        .map(|(rank, hit)| ResultItem {
            rank: rank + 1,
            distance: hit.distance,
            photo: paired_photo(&library.index, library.shots.jpeg_of(), hit.row),
        })
        .collect())
}

/// Decodes (EXIF-oriented) and shrinks a photo for display: `(width, height, image)`
/// with the original's size.
/// A crash in the decoder is this photo's error (see [`lookalike_core::support::isolate`]).
pub fn decode_for_display(path: &Path, side: u32) -> lookalike_core::Result<egui::ColorImage> {
    lookalike_core::support::isolate::per_file(path, || {
        let (_, _, rgb) = imaging::decode_for_side(path, imaging::DEFAULT_MAX_PIXELS, side)?;
        Ok(display_image(&rgb, side))
    })
}

/// `rgb` shrunk to at most `side` pixels on its longer side, as egui wants it.
pub fn display_image(rgb: &RgbImage, side: u32) -> egui::ColorImage {
    let shrunk;
    let shown = match imaging::fitted_size(rgb.width(), rgb.height(), side) {
        Some((w, h)) => {
            shrunk = imaging::resize_rgb(rgb, w, h);
            &shrunk
        }
        None => rgb,
    };
    egui::ColorImage::from_rgb(
        [shown.width() as usize, shown.height() as usize],
        shown.as_raw(),
    )
}
