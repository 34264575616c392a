//! The turned and enlarged variants of a library's photos: described the index's way
//! (indexing's last pass, or `dupes` for what is missing), cached beside the index, lined
//! up with its entries for the duplicate finder, and handed to search as views.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::thumbnails::{Thumbnail, update_thumbnails};
use crate::describe::describer::{Describer, DescriberOptions};
use crate::index::{Checkpoints, Control, Entry, Failure, Index, Progress};
use crate::read::imaging;
use crate::support::error::Result;
use crate::support::isolate::{Lookahead, Pending};

/// Photos smaller than this (longer side, pixels) also get an [`Variant::Enlarged`]
/// descriptor: a 112-pixel export of a 224-pixel photo gives only a 7 x 7 conv5_3 map.
pub const ENLARGE_BELOW: u32 = 224;

/// The longer side a photo's turned view is described at, when the index's own is
/// larger. The turned view serves the duplicate finder, whose copies are whole photos:
/// 512 px (a 32 x 21 map of conv5_3 for a 3:2 photo) finds them as well as 1,024 px, at
/// a quarter of the network's work (docs/speed.md, "Indexing"). Search does not rank
/// these views: it turns the query both ways instead, at the library's own size
/// ([`crate::describe::describer::turned_views`]).
pub const TURNED_SIDE: u32 = 512;

/// Another way to look at a photo, to match copies the plain descriptor misses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Turned a quarter turn clockwise: matches copies turned by 90 or 270 degrees.
    QuarterTurn,
    /// Small photos enlarged 2x: matches downscaled exports at their original's scale.
    Enlarged,
}

impl Variant {
    pub const ALL: [Self; 2] = [Self::QuarterTurn, Self::Enlarged];

    /// Whether this photo has the variant (others keep their own descriptor).
    pub fn applies(self, entry: &Entry) -> bool {
        match self {
            Self::QuarterTurn => true,
            Self::Enlarged => entry.width.max(entry.height) < ENLARGE_BELOW,
        }
    }

    fn transform(self, rgb: &image::RgbImage) -> image::RgbImage {
        match self {
            Self::QuarterTurn => image::imageops::rotate90(rgb),
            Self::Enlarged => image::imageops::resize(
                rgb,
                rgb.width() * 2,
                rgb.height() * 2,
                image::imageops::FilterType::Triangle,
            ),
        }
    }

    /// How the variant is described for an index described with `options`: the same
    /// pooling, the turned view at most [`TURNED_SIDE`] pixels long.
    fn options(self, mut options: DescriberOptions) -> DescriberOptions {
        if self == Self::QuarterTurn {
            let side = options
                .load
                .max_side
                .map_or(TURNED_SIDE, |s| s.min(TURNED_SIDE));
            options.load.max_side = Some(side);
        }
        options
    }

    /// Extension of the cache file beside the index.
    pub const fn cache_extension(self) -> &'static str {
        match self {
            Self::QuarterTurn => "rot90",
            Self::Enlarged => "x2",
        }
    }
}

/// Descriptors of a [`Variant`] of every photo.
#[derive(Debug)]
pub struct Variants {
    /// Lines up with the index's entries: the variant's raw SPoC, or the photo's own
    /// where there is none (it then matches only as it is).
    pub aligned: Index,
    /// Only the photos really described: what to keep for next time.
    pub cache: Index,
    pub failures: Vec<Failure>,
    /// Photos the variant applies to that are still not in `cache` (not described:
    /// no describer, a stop request, or a failure).
    pub missing: usize,
}

/// The raw descriptor of `variant` of every photo of `index` it applies to. Entries of
/// `cached` (an earlier [`Variants::cache`]) are reused when path, size and
/// modification time match, so only new photos go through the network (none without a
/// `describer`: the cache alone). A photo that cannot be read is reported; a stop
/// request ends early. With `saves`, what is described is saved as it goes.
fn describe_variants(
    index: &Index,
    variant: Variant,
    cached: Option<&Index>,
    describer: Option<&Describer>,
    control: Control<'_>,
    saves: Option<&mut CacheSaves>,
) -> Result<Variants> {
    // Described the index's way (pooling; size, at most TURNED_SIDE turned) whatever
    // the caller's options: the variants are compared with the index's descriptors.
    let options = variant.options(DescriberOptions::for_index(&index.provenance));
    let (load, describer) = (options.load, describer.map(|d| d.with_options(options)));
    let describer = describer.as_ref();
    let known = Known::new(cached);
    // Each photo decodes while the one before it goes through the network.
    let order = describer.map_or_else(Vec::new, |_| known.missing(index, variant));
    let ahead = Lookahead::new(order, |i| {
        Pending::start(index.absolute(&index.entries[i]), move |path| {
            imaging::load(path, &load)
        })
    });
    control.report(Progress::Planned {
        to_describe: ahead.len(),
        unchanged: index.entries.len() - ahead.len(),
        removed: 0,
    });
    describe_in_order(index, variant, &known, describer, ahead, control, saves)
}

/// [`describe_variants`]'s pass over the photos, `ahead` decoding those to describe.
fn describe_in_order<F: Fn(usize) -> Pending<imaging::LoadedImage>>(
    index: &Index,
    variant: Variant,
    known: &Known<'_>,
    describer: Option<&Describer>,
    mut ahead: Lookahead<imaging::LoadedImage, F>,
    control: Control<'_>,
    mut saves: Option<&mut CacheSaves>,
) -> Result<Variants> {
    let earlier = |e: &Entry| known.get(e);
    let to_describe = ahead.len();
    let (mut failures, mut done, mut missing) = (Vec::new(), 0, 0);
    let mut aligned = Index::new(index.root.clone(), index.provenance.clone());
    // The cache: the photos reused, then those described, in the order described.
    let mut cache = Index::new(index.root.clone(), index.provenance.clone());
    cache.entries = (index.entries.iter())
        .filter_map(|e| earlier(e).cloned())
        .collect();
    if let Some(saves) = saves.as_deref_mut() {
        saves.saved = cache.entries.len();
    }
    for (i, entry) in index.entries.iter().enumerate() {
        if let Some(hit) = earlier(entry) {
            aligned.entries.push(hit.clone());
            continue;
        }
        let mut turned = None;
        if let Some(describer) = describer
            && !control.stopped()
            && let Some(decoding) = ahead.take(i)
        {
            let file = index.absolute(entry);
            let loaded = decoding.wait(control.stop_flag());
            match loaded.map(|loaded| describe_variant(describer, variant, entry, &file, loaded)) {
                Some(Ok(described)) => turned = Some(described),
                Some(Err(error)) => failures.push(Failure::sent(control, &file, error)),
                None => {}
            }
            done += 1;
            control.report(Progress::Step {
                done,
                total: to_describe,
                path: file,
            });
        }
        match turned {
            Some(turned) => {
                cache.entries.push(turned.clone());
                aligned.entries.push(turned);
                if let Some(saves) = saves.as_deref_mut() {
                    saves.checkpoint(&cache)?;
                }
            }
            None => {
                missing += usize::from(variant.applies(entry));
                aligned.entries.push(entry.clone());
            }
        }
    }
    if let Some(saves) = saves {
        saves.save(&cache)?;
    }
    Ok(Variants {
        aligned,
        cache,
        failures,
        missing,
    })
}

/// How often a pass that describes variants saves what it has described, as indexing's
/// checkpoints: a crash loses at most this much of the network's work.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(30);

/// A variant cache's saves during a pass: what was described since the last save is
/// appended (with the photos gone from the library, at the first save), every
/// [`CHECKPOINT_EVERY`] and at the end, never when nothing changed; the file is written
/// whole when there is none of this version (even with no photo in it: the library was
/// looked at) or the appends outgrow it ([`Checkpoints`]).
struct CacheSaves {
    checkpoints: Checkpoints,
    /// Cached photos no longer in the library (or changed), not saved yet.
    removed: Vec<String>,
    /// How many of the cache's entries are saved, and whether there is a file of this
    /// version to append to (without one, the first save writes one, even empty).
    saved: usize,
    on_file: bool,
    last: Instant,
}

impl CacheSaves {
    /// Saves `cache` when the last save is [`CHECKPOINT_EVERY`] old.
    fn checkpoint(&mut self, cache: &Index) -> Result<()> {
        match self.last.elapsed() >= CHECKPOINT_EVERY {
            true => self.save(cache),
            false => Ok(()),
        }
    }

    /// Saves `cache`, whose entries from `self.saved` on are new, when it changed.
    fn save(&mut self, cache: &Index) -> Result<()> {
        if cache.entries.len() > self.saved || !self.removed.is_empty() || !self.on_file {
            self.checkpoints.save(cache, self.saved, &self.removed)?;
            self.removed.clear();
            self.saved = cache.entries.len();
            self.on_file = true;
        }
        self.last = Instant::now();
        Ok(())
    }
}

/// The entries of an earlier cache (of the same provenance) by path, size and
/// modification time: what need not be described again.
struct Known<'a>(HashMap<(&'a str, u64, i128), &'a Entry>);

/// What identifies a photo's description: its path, size and modification time.
fn identity(e: &Entry) -> (&str, u64, i128) {
    (e.path.as_str(), e.size, e.mtime_ns)
}

impl<'a> Known<'a> {
    /// The entries of `cached` (of the index's provenance: [`update_variant`] checks).
    fn new(cached: Option<&'a Index>) -> Self {
        Self(
            cached
                .iter()
                .flat_map(|c| &c.entries)
                .map(|e| (identity(e), e))
                .collect(),
        )
    }

    fn get(&self, e: &Entry) -> Option<&'a Entry> {
        self.0.get(&identity(e)).copied()
    }

    /// The rows of `index` that `variant` applies to and that are not known, in order.
    fn missing(&self, index: &Index, variant: Variant) -> Vec<usize> {
        let entries = &index.entries;
        (0..entries.len())
            .filter(|&i| variant.applies(&entries[i]) && self.get(&entries[i]).is_none())
            .collect()
    }
}

/// The raw SPoC of `variant` of the photo at `file`, `loaded` the describer's way.
fn describe_variant(
    describer: &Describer,
    variant: Variant,
    entry: &Entry,
    file: &Path,
    loaded: Result<imaging::LoadedImage>,
) -> Result<Entry> {
    loaded.and_then(|image| {
        crate::support::isolate::per_file(file, || {
            let rgb = variant.transform(&image.rgb);
            describer.spoc(&imaging::LoadedImage { rgb, ..image })
        })
        .map(|spoc| Entry {
            raw: spoc.raw,
            ..entry.clone()
        })
    })
}

/// The extensions of the variants' caches beside an index (what follows an index when
/// it is moved, see [`crate::index::adopt_moved`]).
pub const CACHE_EXTENSIONS: [&str; 4] = [
    Variant::QuarterTurn.cache_extension(),
    Variant::Enlarged.cache_extension(),
    super::thumbnails::CACHE_EXTENSION,
    SEARCH_CACHE_EXTENSION,
];

/// The extension of the search's cache beside an index (`find::search::saved`: the
/// rows as a search ranks them, and the entries without their descriptors).
pub const SEARCH_CACHE_EXTENSION: &str = "search";

/// Where the cache of `variant` lives for the index at `index_path`: beside it.
pub fn variant_cache_path(index_path: &Path, variant: Variant) -> PathBuf {
    index_path.with_extension(variant.cache_extension())
}

/// A variant and its descriptors, lined up with the index's entries.
pub type Aligned = (Variant, Index);

/// What [`update_variants`] leaves: both variants lined up with the index, the photos'
/// thumbnails (lined up too), the photos that could not be described, and how many
/// photos still lack a variant.
#[derive(Debug)]
pub struct VariantsUpdate {
    pub aligned: Vec<Aligned>,
    pub thumbnails: Vec<Option<Thumbnail>>,
    pub failures: Vec<Failure>,
    pub missing: usize,
}

/// `variant` of every photo of the index at `index_path` ([`describe_variants`]), with
/// its cache beside the index: reused, and with a `describer`, what is described
/// appended to it as it goes, and photos gone from the library dropped ([`CacheSaves`]).
pub fn update_variant(
    index: &Index,
    index_path: &Path,
    variant: Variant,
    describer: Option<&Describer>,
    control: Control<'_>,
) -> Result<Variants> {
    let cache_path = variant_cache_path(index_path, variant);
    // A cache of other descriptors (another network, pooling or size) is replaced whole.
    let (cached, on_disk) = match Index::load_on_disk(&cache_path) {
        Ok((cached, on_disk)) if cached.provenance == index.provenance => (Some(cached), on_disk),
        _ => (None, None),
    };
    let live: HashSet<_> = index.entries.iter().map(identity).collect();
    let removed = (cached.iter().flat_map(|c| &c.entries))
        .filter(|e| !live.contains(&identity(e)))
        .map(|e| e.path.clone())
        .collect();
    let mut saves = describer.map(|_| CacheSaves {
        checkpoints: Checkpoints::new(cache_path, on_disk),
        removed,
        saved: 0,
        on_file: on_disk.is_some(),
        last: Instant::now(),
    });
    describe_variants(
        index,
        variant,
        cached.as_ref(),
        describer,
        control,
        saves.as_mut(),
    )
}

/// Both variants of the index at `index_path`, lined up with its entries: the cached
/// ones reused, the missing ones described with `describer` (with `None`, the cache
/// alone: photos not described yet match only as they are), the caches saved; and the
/// photos' thumbnails the same way (made from the photos when there is a `describer`).
/// This is the last stage of indexing, so that the duplicate finder has them ready.
pub fn update_variants(
    index: &Index,
    index_path: &Path,
    describer: Option<&Describer>,
    control: Control<'_>,
) -> Result<VariantsUpdate> {
    let mut update = VariantsUpdate {
        aligned: Vec::new(),
        thumbnails: Vec::new(),
        failures: Vec::new(),
        missing: 0,
    };
    for variant in Variant::ALL {
        let result = update_variant(index, index_path, variant, describer, control)?;
        update.failures.extend(result.failures);
        update.missing += result.missing;
        update.aligned.push((variant, result.aligned));
    }
    let make = describer.map(|d| d.options().load.max_pixels);
    let thumbnails = update_thumbnails(index, index_path, make, control)?;
    // A photo that cannot be read is reported once.
    for failure in thumbnails.failures {
        if !update.failures.iter().any(|f| f.path == failure.path) {
            update.failures.push(failure);
        }
    }
    update.thumbnails = thumbnails.aligned;
    Ok(update)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::safefs::FileId;

    #[test]
    fn only_small_photos_are_enlarged_and_every_photo_is_turned() {
        let entry = |width, height| Entry {
            path: "p.jpg".into(),
            size: 1,
            mtime_ns: 0,
            file: FileId {
                device: 1,
                inode: 1,
            },
            via_link: false,
            width,
            height,
            feature_map: [1, 1],
            raw: Vec::new(),
            damage: None,
        };
        assert!(Variant::Enlarged.applies(&entry(112, 80)));
        assert!(!Variant::Enlarged.applies(&entry(224, 100)));
        assert!(Variant::QuarterTurn.applies(&entry(4000, 3000)));
        let rgb = image::RgbImage::new(112, 80);
        assert_eq!(Variant::Enlarged.transform(&rgb).dimensions(), (224, 160));
        assert_eq!(Variant::QuarterTurn.transform(&rgb).dimensions(), (80, 112));
    }

    #[test]
    fn the_turned_view_is_described_at_most_turned_side_long() {
        let side = |index_side: Option<u32>, variant: Variant| {
            let mut options = DescriberOptions::default();
            options.load.max_side = index_side;
            variant.options(options).load.max_side
        };
        assert_eq!(side(Some(1024), Variant::QuarterTurn), Some(TURNED_SIDE));
        assert_eq!(side(None, Variant::QuarterTurn), Some(TURNED_SIDE));
        assert_eq!(side(Some(300), Variant::QuarterTurn), Some(300));
        assert_eq!(side(Some(1024), Variant::Enlarged), Some(1024));
    }
}
