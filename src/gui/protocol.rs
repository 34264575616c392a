//! What the UI and the executor say to each other: the UI sends [`Command`]s, the
//! executor answers with [`Event`]s; a background job ends with a typed [`JobEnd`].

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use eframe::egui;

use super::settings::{Ranking, WhiteningSource};
use lookalike_core::cleanup::{Destination, Report, VerifiedMatch};
use lookalike_core::describe::engine::BackendChoice;
use lookalike_core::describe::model::{self, Network};
use lookalike_core::find::dupes;
use lookalike_core::index::{IndexSummary, Progress};
use lookalike_core::read::imaging::CropBox;

/// Longer side of the query image as shown in the app (the network gets the original).
pub const QUERY_DISPLAY_SIDE: u32 = 1600;
/// Longer side of the large preview of a result.
pub const PREVIEW_SIDE: u32 = 1600;

/// What the UI asks for.
#[derive(Debug, Clone)]
pub enum Command {
    /// Load a weights file (`None`: `network`'s, from the usual places; a named file is
    /// used whatever network it holds) on the chosen backend.
    LoadModel {
        path: Option<PathBuf>,
        network: Network,
        backend: BackendChoice,
    },
    /// Index `folder` (incrementally) and make it the library.
    OpenLibrary {
        folder: PathBuf,
        max_side: u32,
        whitening: WhiteningRequest,
        /// Drop the descriptions of photos that are gone, even most of the library (the
        /// user said so after [`Event::PhotosMissing`]).
        forget_missing: bool,
    },
    CancelIndexing,
    /// Stop the duplicate search in progress.
    CancelDuplicates,
    /// Fetch `network`'s official weights (only ever on the user's request), convert
    /// them and load them on `backend`.
    DownloadWeights {
        network: Network,
        backend: BackendChoice,
    },
    /// Learn (or drop) the whitening again for the open library.
    SetWhitening(WhiteningRequest),
    /// Decode a query photo; `id` identifies it in later searches.
    LoadQuery {
        id: u64,
        path: PathBuf,
    },
    /// Rank the library against query `query` (its `crop`, or all of it).
    Search {
        generation: u64,
        query: u64,
        crop: Option<CropBox>,
        ranking: Ranking,
    },
    /// Decode a photo for the large preview.
    LoadPreview {
        path: PathBuf,
    },
    /// Group the library's near-duplicates (the part described so far, while it is
    /// indexed); with `variants`, also quarter-turned and enlarged small copies (those
    /// indexing has described so far).
    FindDuplicates {
        threshold: f32,
        variants: bool,
        /// The keeper rules and the protected and preferred folders.
        keeping: dupes::Keeping,
    },
    /// Move these verified copies of the library to the trash (or the configured
    /// folder), journaled, each checked against its keeper right before moving.
    RemoveFiles {
        matches: Vec<VerifiedMatch>,
    },
    /// Bring back the newest clean-up batch.
    UndoCleanup,
    /// Remember a decision on photos of the library (never proposed together again),
    /// then find the groups again.
    Decide {
        verdict: dupes::Verdict,
        photos: Vec<PathBuf>,
    },
    /// Forget the library's decision `n` (oldest first), then find the groups again.
    ForgetDecision(usize),
}

/// Whitening as the executor needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct WhiteningRequest {
    pub source: WhiteningSource,
    pub dim: usize,
    pub power: f32,
    /// Search through the photos' turned and enlarged views too (those indexing's
    /// last stage describes), with the query turned as well: copies turned by 90 or
    /// 270 degrees and small downscaled copies rank with their originals.
    pub views: bool,
}

/// Which folder an indexing run is working on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Library,
    /// The folder the whitening is learned from.
    WhiteningFolder,
    /// Describing turned and enlarged photos for the duplicate finder.
    Variants,
    /// Comparing every photo with every other (blocks of rows).
    Grouping,
    /// Moving the chosen copies to the trash (or the clean-up folder).
    CleaningUp,
}

/// What the executor tells the UI.
#[derive(Debug)]
pub enum Event {
    /// The network is ready; the label names the backend and adapter.
    ModelReady {
        label: String,
        path: PathBuf,
        network: Network,
    },
    /// No weights were found, or the chosen file is not usable.
    ModelProblem {
        message: String,
        missing: bool,
    },
    /// Bytes of the weights downloaded so far, of `total`.
    Downloading {
        done: u64,
        total: u64,
    },
    /// The download ended without weights (failed or cancelled).
    DownloadFailed(String),
    Indexing {
        stage: Stage,
        progress: Progress,
    },
    /// The run ended (finished, cancelled, or stopped by an error).
    IndexingEnded {
        folder: PathBuf,
        outcome: JobEnd<IndexSummary>,
        /// Indexing's last stage, the duplicate finder's variants, starts next on its
        /// own job and ends with [`Event::VariantsEnded`].
        variants_follow: bool,
    },
    /// The library can be searched.
    LibraryReady(Arc<Library>),
    QueryLoaded {
        id: u64,
        path: PathBuf,
        /// Size of the EXIF-oriented original, the coordinates of crop boxes.
        width: u32,
        height: u32,
        display: egui::ColorImage,
    },
    QueryFailed {
        id: u64,
        message: String,
    },
    Results {
        generation: u64,
        hits: Vec<ResultItem>,
        seconds: f64,
        /// A first ranking, from the query as it is: the same search's final ranking
        /// follows once the query turned a quarter is described too.
        refining: bool,
    },
    SearchFailed {
        generation: u64,
        message: String,
    },
    Preview {
        path: PathBuf,
        image: egui::ColorImage,
    },
    /// Near-duplicate groups of the library at `threshold`, or why there are none
    /// (cancelled, threshold too loose, failed).
    Duplicates {
        outcome: JobEnd<FoundDuplicates>,
        threshold: f32,
        seconds: f64,
    },
    /// The decisions remembered for the library, oldest first.
    Decisions(Vec<dupes::Decision>),
    /// The turned and enlarged photos were described after indexing (the number of
    /// photos that could not be), or why not.
    VariantsEnded {
        outcome: JobEnd<usize>,
    },
    /// A clean-up (or its undo) ran, or was stopped (`report.stopped`); the library is
    /// being refreshed.
    Cleanup {
        report: Report,
        undo: bool,
    },
    /// Most of the library's photos are gone since it was indexed (a drive not
    /// connected, a folder moved): their descriptions are kept until the user says to
    /// forget them.
    PhotosMissing {
        folder: PathBuf,
        missing: usize,
        entries: usize,
    },
    /// A clean-up could not start or go on (nothing more was moved); the message names
    /// the file or the journal.
    CleanupFailed(String),
    /// Something worth telling the user that is not tied to one request.
    Notice(String),
}

/// What the duplicate search found, as the review shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FoundDuplicates {
    pub groups: Vec<DuplicateGroup>,
    /// Shots of one scene moments apart: never copies, shown apart.
    pub series: Vec<Burst>,
}

/// A series: frames of one camera body seconds apart, by capture time (EXIF).
#[derive(Debug, Clone, PartialEq)]
pub struct Burst {
    pub photos: Vec<Photo>,
    /// From the first frame to the last, where both capture times are known.
    pub seconds: Option<f64>,
    /// Each frame's seconds after the first, where both capture times are known.
    pub offsets: Vec<Option<f64>>,
}

/// One group of near-duplicates: the finder's group (keeper, verified copies, similar
/// photos and the evidence between them) and its photos, lined up with its members.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateGroup {
    pub photos: Vec<Photo>,
    pub group: dupes::Group,
}

impl DuplicateGroup {
    /// Index into `photos` of the keeper.
    pub fn keeper(&self) -> usize {
        self.group.keeper()
    }

    /// The keeper, then its verified copies (indexes into `photos`).
    pub fn kept_and_copies(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.keeper()).chain(self.group.copies())
    }
}

/// The searchable library, as the UI sees it. Each version the executor sends while
/// indexing shares the photos and the waiting list with the one before: a batch
/// described adds a piece, it does not copy a million photos.
#[derive(Debug)]
pub struct Library {
    pub folder: PathBuf,
    /// The photos described so far: what a search ranks.
    pub photos: Pieces<Photo>,
    /// Photos found but not described yet (while indexing), in the order they will be.
    pub waiting: Waiting,
    /// Indexing has ended: `photos` is the whole library.
    pub complete: bool,
    /// How the descriptors are finished, in words ("L2 only", "PCA-whitened to 128-d ...").
    pub whitening: String,
}

/// A list kept in shared pieces: a copy shares them, [`Pieces::push`] adds one.
#[derive(Debug, Clone)]
pub struct Pieces<T> {
    pieces: Vec<Arc<[T]>>,
    /// Where each piece ends in the whole list.
    ends: Vec<usize>,
}

impl<T> Default for Pieces<T> {
    fn default() -> Self {
        Self {
            pieces: Vec::new(),
            ends: Vec::new(),
        }
    }
}

impl<T> Pieces<T> {
    pub fn len(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        let piece = self.ends.partition_point(|&end| end <= i);
        let start = piece.checked_sub(1).map_or(0, |before| self.ends[before]);
        self.pieces.get(piece)?.get(i - start)
    }

    /// Adds `items` at the end as one more piece.
    pub fn push(&mut self, items: Vec<T>) {
        if !items.is_empty() {
            self.ends.push(self.len() + items.len());
            self.pieces.push(items.into());
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.pieces.iter().flat_map(|piece| piece.iter())
    }
}

/// The files still to describe while indexing, in the order they will be: the run's
/// whole list, shared, less those done (described or failed). The decoders finish a
/// few files out of order, so a few past the first one still waiting may be done.
#[derive(Debug, Clone, Default)]
pub struct Waiting {
    order: Arc<[PathBuf]>,
    /// Every file before this one is done.
    from: usize,
    /// Files done past `from` (their places in `order`), ascending.
    ahead: Vec<usize>,
}

impl Waiting {
    pub fn new(order: Vec<PathBuf>) -> Self {
        Self {
            order: order.into(),
            from: 0,
            ahead: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.order.len() - self.from - self.ahead.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th file still waiting.
    pub fn get(&self, i: usize) -> Option<&PathBuf> {
        let mut place = self.from + i;
        for &done in &self.ahead {
            if done > place {
                break;
            }
            place += 1;
        }
        self.order.get(place)
    }

    /// Marks these files done. Each is looked for from the first still waiting on: the
    /// files come nearly in order, so a run's whole list is gone through about once.
    pub fn done<'p>(&mut self, paths: impl IntoIterator<Item = &'p Path>) {
        for path in paths {
            let place = (self.from..self.order.len())
                .filter(|place| self.ahead.binary_search(place).is_err())
                .find(|&place| self.order[place] == path);
            if let Some(place) = place {
                let at = self.ahead.partition_point(|&done| done < place);
                self.ahead.insert(at, place);
            }
        }
        while self.ahead.first() == Some(&self.from) {
            self.ahead.remove(0);
            self.from += 1;
        }
    }
}

/// One photo of the library.
#[derive(Debug, Clone, PartialEq)]
pub struct Photo {
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub size: u64,
    /// Modification time when indexed (ns since the epoch).
    pub mtime_ns: i128,
    /// The JPEG the camera wrote beside this RAW: the two are shown as one photo.
    pub sibling: Option<PathBuf>,
    /// What is wrong with it (it decoded all the same): marked in the grid.
    pub damage: Option<lookalike_core::read::Damage>,
}

impl Photo {
    /// A photo found but not described yet: only its path is known.
    pub fn waiting(path: PathBuf) -> Self {
        Self {
            path,
            width: 0,
            height: 0,
            size: 0,
            mtime_ns: 0,
            sibling: None,
            damage: None,
        }
    }

    /// Whether this is a [`Photo::waiting`].
    pub fn is_waiting(&self) -> bool {
        self.width == 0 && self.height == 0
    }
}

/// Where the official weights come from and go to.
#[derive(Debug, Clone)]
pub struct WeightsConfig {
    pub vgg16: model::Source,
    pub googlenet: model::Source,
    /// Downloads and the converted files go here.
    pub folder: PathBuf,
}

impl WeightsConfig {
    /// The official sources, files kept in `folder`.
    pub fn official(folder: PathBuf) -> Self {
        Self {
            vgg16: model::Source::official(Network::Vgg16),
            googlenet: model::Source::official(Network::GoogLeNet),
            folder,
        }
    }

    pub fn source(&self, network: Network) -> &model::Source {
        match network {
            Network::Vgg16 => &self.vgg16,
            Network::GoogLeNet => &self.googlenet,
        }
    }
}

/// Where the app keeps its undo journal and sends removed files.
#[derive(Debug, Clone)]
pub struct CleanupConfig {
    pub journal: PathBuf,
    pub destination: Destination,
}

/// One ranked result.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultItem {
    pub rank: usize,
    pub distance: f32,
    pub photo: Photo,
}

/// How a background job ended: with its result, stopped on request (Cancel, or a newer
/// job of the same kind), or failed, with why.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEnd<T> {
    Done(T),
    Stopped,
    Failed(String),
}

impl<T> JobEnd<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> JobEnd<U> {
        match self {
            Self::Done(value) => JobEnd::Done(f(value)),
            Self::Stopped => JobEnd::Stopped,
            Self::Failed(why) => JobEnd::Failed(why),
        }
    }
}

impl JobEnd<Infallible> {
    /// An end without a result (stopped or failed) as the end of a job of any result.
    pub fn for_any<T>(self) -> JobEnd<T> {
        self.map(|never| match never {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_read_as_one_list_and_copies_share_them() {
        let mut pieces = Pieces::default();
        pieces.push(vec![0, 1, 2]);
        pieces.push(Vec::new());
        pieces.push(vec![3]);
        let before = pieces.clone();
        pieces.push(vec![4, 5]);
        assert_eq!(pieces.len(), 6);
        assert_eq!(
            pieces.iter().copied().collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5]
        );
        assert_eq!(
            (0..7).map(|i| pieces.get(i).copied()).collect::<Vec<_>>(),
            [Some(0), Some(1), Some(2), Some(3), Some(4), Some(5), None]
        );
        assert_eq!(before.len(), 4);
        assert!(Arc::ptr_eq(&before.pieces[0], &pieces.pieces[0]));
    }

    /// Files done a little out of order (the decoders' lead) leave the rest waiting in
    /// order; a file done twice or not in the list changes nothing.
    #[test]
    fn waiting_files_leave_as_they_are_done() {
        let paths: Vec<PathBuf> = (0..6)
            .map(|i| PathBuf::from(format!("/p/{i}.jpg")))
            .collect();
        let mut waiting = Waiting::new(paths.clone());
        let left = |w: &Waiting| {
            (0..w.len())
                .map(|i| w.get(i).unwrap().clone())
                .collect::<Vec<_>>()
        };
        waiting.done([paths[1].as_path(), paths[3].as_path()]);
        assert_eq!(
            left(&waiting),
            [&paths[0], &paths[2], &paths[4], &paths[5]].map(|p| p.clone())
        );
        waiting.done([
            paths[0].as_path(),
            paths[0].as_path(),
            Path::new("/elsewhere.jpg"),
        ]);
        assert_eq!(
            left(&waiting),
            [&paths[2], &paths[4], &paths[5]].map(|p| p.clone())
        );
        assert_eq!((waiting.from, waiting.ahead.clone()), (2, vec![3]));
        waiting.done(paths.iter().map(PathBuf::as_path));
        assert!(waiting.is_empty());
        assert_eq!(waiting.get(0), None);
    }
}
