//! A search's views: the small photos' enlarged views (described and cached by the
//! index's variants pass) added to the library, so that search finds downscaled copies
//! too; turned copies are met by turning the query both ways instead
//! ([`crate::Describer::describe_views`]), since the photos' own turned views are
//! described smaller, for the duplicate finder.

use std::path::{Path, PathBuf};

use crate::describe::describer::Describer;
use crate::describe::whiten::Whitening;
use crate::find::search::{Database, saved};
use crate::index::variants::{
    SEARCH_CACHE_EXTENSION, Variant, Variants, update_variant, variant_cache_path,
};
use crate::index::{Control, Index};
use crate::support::error::{Error, Result};

/// The enlarged views of `index`'s small photos, lined up with its entries: those cached
/// beside the index at `index_path` reused, the missing ones described with `describer`
/// and the cache saved when it changed (with `None`, the cache alone: photos not
/// described yet are searched as they are).
pub fn enlarged_views(
    index: &Index,
    index_path: &Path,
    describer: Option<&Describer>,
    control: Control<'_>,
) -> Result<Variants> {
    update_variant(index, index_path, Variant::Enlarged, describer, control)
}

/// Adds `enlarged` (lined up with `index`, as [`enlarged_views`] gives them) to `db` as
/// views of their photos.
pub fn add_views(
    db: &mut Database,
    index: &Index,
    enlarged: &Variants,
    whitening: Option<&Whitening>,
) -> Result<()> {
    db.add_index_views(index, &enlarged.aligned, whitening)
}

/// What a search ranks: `index`'s descriptors finished with `whitening` and, with
/// `views`, the enlarged views cached beside the index at `index_path` (nothing is
/// described here). With `views`, the query is to be turned both ways too
/// ([`crate::Describer::describe_views`]).
pub fn database(
    index: &Index,
    index_path: &Path,
    whitening: Option<&Whitening>,
    views: bool,
) -> Result<Database> {
    let mut database = Database::from_index(index, whitening)?;
    if views {
        let enlarged = enlarged_views(index, index_path, None, Control::unattended())?;
        add_views(&mut database, index, &enlarged, whitening)?;
    }
    Ok(database)
}

/// A library opened for search by [`open`].
#[derive(Debug)]
pub struct Opened {
    /// The index; its entries without their descriptors when read from the cache.
    pub index: Index,
    pub database: Database,
    pub cache: Cache,
}

/// What became of the search's cache beside the index.
#[derive(Debug)]
pub enum Cache {
    /// It was made from this index, views and whitening, and read.
    Read,
    /// It was not, and was written for the next search.
    Written,
    /// It was not, and could not be written (the search goes on without it).
    NotWritten(Error),
}

/// The index at `index_path` and the [`database`] a search ranks, from the search's
/// cache beside the index when it was made from this index, its enlarged views (with
/// `views`) and `whitening`: then neither the descriptors are read nor whitened, and
/// the rows are read in place as the search needs them. Otherwise the index is loaded,
/// whitened, and the cache written again, unless the index or views changed meanwhile.
pub fn open(index_path: &Path, whitening: Option<&Whitening>, views: bool) -> Result<Opened> {
    let cached = Cached::new(index_path, whitening, views);
    if let Some((index, database)) = cached.read() {
        let cache = Cache::Read;
        return Ok(Opened {
            index,
            database,
            cache,
        });
    }
    let index = Index::load(index_path)?;
    let (database, cache) = cached.build(&index)?;
    Ok(Opened {
        index,
        database,
        cache,
    })
}

/// [`database`] of `index` (loaded from `index_path` and unchanged since) through the
/// search's cache, as [`open`] does: read when it was made from this index file, its
/// views and `whitening`, and holds exactly `index`'s photos; written otherwise.
pub fn cached_database(
    index: &Index,
    index_path: &Path,
    whitening: Option<&Whitening>,
    views: bool,
) -> Result<(Database, Cache)> {
    let cached = Cached::new(index_path, whitening, views);
    match cached.read() {
        Some((read, database)) if same_photos(&read, index) => Ok((database, Cache::Read)),
        _ => cached.build(index),
    }
}

/// The search's cache of one index, views and whitening, and the files as they were
/// before anything was read.
struct Cached<'a> {
    index_path: &'a Path,
    path: PathBuf,
    enlarged: Option<PathBuf>,
    whitening: Option<&'a Whitening>,
    views: bool,
    before: saved::Key,
}

impl<'a> Cached<'a> {
    fn new(index_path: &'a Path, whitening: Option<&'a Whitening>, views: bool) -> Self {
        let enlarged = views.then(|| variant_cache_path(index_path, Variant::Enlarged));
        Self {
            index_path,
            path: index_path.with_extension(SEARCH_CACHE_EXTENSION),
            before: saved::Key::of(index_path, enlarged.as_deref(), whitening),
            enlarged,
            whitening,
            views,
        }
    }

    fn read(&self) -> Option<(Index, Database)> {
        saved::read(&self.path, &self.before)
    }

    /// The database of `index` made, and the cache written for it, only when the
    /// index and its views are still what they were before `index` was read.
    fn build(&self, index: &Index) -> Result<(Database, Cache)> {
        let database = database(index, self.index_path, self.whitening, self.views)?;
        let now = saved::Key::of(self.index_path, self.enlarged.as_deref(), self.whitening);
        let cache = if now != self.before {
            Cache::NotWritten(Error::Invalid(format!(
                "{} or its views changed while they were read",
                self.index_path.display()
            )))
        } else {
            match saved::write(&self.path, &self.before, index, &database) {
                Ok(()) => Cache::Written,
                Err(e) => Cache::NotWritten(e),
            }
        };
        Ok((database, cache))
    }
}

/// Whether `a` and `b` hold the same files in the same order (as rows of a search).
fn same_photos(a: &Index, b: &Index) -> bool {
    let same = |(a, b): (&crate::index::Entry, &crate::index::Entry)| {
        (&a.path, a.size, a.mtime_ns, a.file) == (&b.path, b.size, b.mtime_ns, b.file)
    };
    a.root == b.root
        && a.entries.len() == b.entries.len()
        && a.entries.iter().zip(&b.entries).all(same)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::find::search::Metric;

    /// An index of `n` photos whose raw descriptors are `512` numbers made from `seed`.
    fn index(n: usize, seed: usize) -> Index {
        crate::index::test_library((0..n).map(|i| {
            (0..512)
                .map(|j| ((i * 31 + j * 17 + seed) as f32).sin())
                .collect()
        }))
    }

    fn nearest(opened: &Opened, query: &[f32]) -> Vec<usize> {
        let hits = opened.database.search(query, Metric::Cosine, 5).unwrap();
        hits.iter().map(|hit| hit.row).collect()
    }

    /// The cache is written by the first opening, read by the next, and read only for
    /// the index and whitening it was made from; a file of ours never replaces another.
    #[test]
    fn the_search_cache_is_read_only_for_what_it_was_made_from() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.lkidx");
        let library = index(200, 0);
        library.save(&path).unwrap();
        let whitening = library.learn_whitening(16, 0.5).unwrap();
        let fresh = Database::from_index(&library, Some(&whitening)).unwrap();
        let query = fresh.row(77).to_vec();
        let expected = fresh.search(&query, Metric::Cosine, 5).unwrap();
        let first = open(&path, Some(&whitening), true).unwrap();
        assert!(matches!(first.cache, Cache::Written), "{:?}", first.cache);
        let again = open(&path, Some(&whitening), true).unwrap();
        assert!(matches!(again.cache, Cache::Read), "{:?}", again.cache);
        assert_eq!(
            again.database.search(&query, Metric::Cosine, 5).unwrap(),
            expected
        );
        assert_eq!(again.index.entries[77].path, "0077.jpg");
        // An index in memory is given the cache's rows only if it holds the same photos.
        let (database, cache) = cached_database(&library, &path, Some(&whitening), true).unwrap();
        assert!(matches!(cache, Cache::Read), "{cache:?}");
        assert_eq!(
            database.search(&query, Metric::Cosine, 5).unwrap(),
            expected
        );
        let mut renamed = library.clone();
        renamed.entries[3].path = "0003-renamed.jpg".into();
        let (_, cache) = cached_database(&renamed, &path, Some(&whitening), true).unwrap();
        assert!(!matches!(cache, Cache::Read), "{cache:?}");
        // Another whitening: the index is read and whitened, and the cache made again.
        let plain = open(&path, None, true).unwrap();
        assert!(matches!(plain.cache, Cache::Written), "{:?}", plain.cache);
        assert_eq!(plain.database.dim(), 512);
        // Another index at the same path: row 77 is another photo now.
        let changed = index(200, 5);
        changed.save(&path).unwrap();
        let reopened = open(&path, None, true).unwrap();
        assert!(
            matches!(reopened.cache, Cache::Written),
            "{:?}",
            reopened.cache
        );
        let row = Database::from_index(&changed, None)
            .unwrap()
            .row(77)
            .to_vec();
        assert_eq!(nearest(&reopened, &row)[0], 77);
        assert_ne!(nearest(&plain, &row)[0], 77);
        // A file that is not a cache where the cache goes is never replaced.
        let cache_path = path.with_extension(SEARCH_CACHE_EXTENSION);
        std::fs::write(&cache_path, b"my notes").unwrap();
        changed.save(&path).unwrap();
        let refused = open(&path, None, true).unwrap();
        assert!(
            matches!(refused.cache, Cache::NotWritten(_)),
            "{:?}",
            refused.cache
        );
        assert_eq!(nearest(&refused, &row)[0], 77);
        assert_eq!(std::fs::read(&cache_path).unwrap(), b"my notes");
    }
}
