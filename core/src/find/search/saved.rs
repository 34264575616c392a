//! The search's cache beside an index: the rows as a search ranks them (whitened,
//! their statistics, their 8-bit codes, the enlarged views) and the index's entries
//! without their descriptors, so that opening a library reads what a search needs and
//! neither reads nor whitens two gigabytes of descriptors at a million photos.
//!
//! The file is [`MAGIC`], a version, a head (postcard, with its CRC32C: what it was
//! made from, the sizes, the entries) and the numbers as they are in memory, each part
//! starting on a multiple of [`ALIGN`] bytes, then a CRC32C of every part but the rows.
//! The rows are read in place (mapped): a search's first pass reads the codes, a
//! quarter of their bytes, and the exact pass only the rows it cannot rule out.
//!
//! It is made for one index file, one enlarged-views cache and one whitening, named in
//! its head by their length, modification time and identity (the files) and checksum
//! (the whitening): anything else is not read, and the library is opened from its
//! index and the cache written again. It is only ever written whole, to a new file
//! renamed into place ([`safefs`]), so a mapped cache never changes under its reader.

use std::ops::{Deref, Range};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use memmap2::Mmap;
use serde::{Deserialize, Serialize};

use super::coarse::Coarse;
use super::{Database, RowStats, Views};
use crate::describe::whiten::Whitening;
use crate::index::{Entry, Index, mtime_ns};
use crate::support::error::{Error, Result};
use crate::support::safefs::{self, FileId, Replace};

/// The cache file's first bytes.
pub const MAGIC: &[u8; 8] = b"LKSRCH\n\0";
const VERSION: u32 = 1;
/// The most numbers a row may have (descriptors have 32 to 1,024).
const MAX_DIM: u64 = 1 << 16;
/// Every part starts on a multiple of this (the numbers read in place are aligned).
const ALIGN: usize = 64;

/// What a cache is read from: its file mapped (or, fuzzing, bytes in memory), aligned
/// at least as its numbers are.
pub trait Backing: AsRef<[u8]> + Send + Sync + std::fmt::Debug {}

impl<T: AsRef<[u8]> + Send + Sync + std::fmt::Debug> Backing for T {}

/// Numbers held in memory or read in place from a cache.
#[derive(Debug, Clone)]
pub(super) enum Stored<T> {
    Owned(Vec<T>),
    Mapped {
        map: Arc<dyn Backing>,
        bytes: Range<usize>,
    },
}

impl<T> Default for Stored<T> {
    fn default() -> Self {
        Self::Owned(Vec::new())
    }
}

impl<T> From<Vec<T>> for Stored<T> {
    fn from(numbers: Vec<T>) -> Self {
        Self::Owned(numbers)
    }
}

impl<T: bytemuck::Pod> Deref for Stored<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Self::Owned(numbers) => numbers,
            // Aligned and sized when read (`Layout`).
            Self::Mapped { map, bytes } => bytemuck::cast_slice(&(**map).as_ref()[bytes.clone()]),
        }
    }
}

impl<T: bytemuck::Pod> Stored<T> {
    /// The numbers to change: a mapped part is copied into memory first.
    pub(super) fn to_mut(&mut self) -> &mut Vec<T> {
        if let Self::Mapped { .. } = self {
            *self = Self::Owned(self.to_vec());
        }
        match self {
            Self::Owned(numbers) => numbers,
            Self::Mapped { .. } => unreachable!("copied into memory above"),
        }
    }
}

/// A file a cache was made from, as it was then: its last bytes too (an index's
/// last segment's checksum), where times are coarse and inode numbers reused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FileKey {
    len: u64,
    mtime_ns: i128,
    file: FileId,
    tail: Vec<u8>,
}

impl FileKey {
    fn of(path: &Path) -> Option<Self> {
        use std::io::{Read, Seek, SeekFrom};
        let (meta, file) = safefs::stat(path).ok()?;
        let mut tail = Vec::new();
        let mut opened = std::fs::File::open(path).ok()?;
        opened
            .seek(SeekFrom::Start(meta.len().saturating_sub(16)))
            .ok()?;
        opened.take(16).read_to_end(&mut tail).ok()?;
        Some(Self {
            len: meta.len(),
            mtime_ns: mtime_ns(&meta),
            file,
            tail,
        })
    }
}

/// What a cache was made from: it is read only for exactly these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    index: Option<FileKey>,
    enlarged: Option<FileKey>,
    whitening: Option<u32>,
}

impl Key {
    /// The index at `index_path` as it is now, the enlarged views' cache at `enlarged`
    /// (when the search adds them) and the whitening.
    pub fn of(index_path: &Path, enlarged: Option<&Path>, whitening: Option<&Whitening>) -> Self {
        Self {
            index: FileKey::of(index_path),
            enlarged: enlarged.and_then(FileKey::of),
            whitening: whitening.map(Whitening::fingerprint),
        }
    }
}

/// The head: what the cache was made from, its sizes, the index without descriptors.
#[derive(Serialize, Deserialize)]
struct Head {
    key: Key,
    dim: u64,
    rows: u64,
    views: u64,
    unwhitening: Option<Vec<f32>>,
    index: Index,
}

/// Where each part lies in the file (byte ranges), after the head.
struct Layout {
    parts: Vec<Range<usize>>,
    crc: usize,
}

/// The parts, in order: rows, their statistics, codes, steps, slack, then the same
/// five of the views and the views' owners.
const ROWS: usize = 0;
const VIEWS: usize = 5;
const OWNERS: usize = 10;

impl Layout {
    fn new(start: usize, dim: usize, rows: usize, views: usize) -> Self {
        let of = |n: usize| [n * dim * 4, n * 3 * 4, n * dim, n * 4, n * 4];
        let sizes = of(rows).into_iter().chain(of(views)).chain([views * 8]);
        let mut at = start;
        let parts = sizes
            .map(|size| {
                at = at.next_multiple_of(ALIGN);
                at += size;
                at - size..at
            })
            .collect();
        Self { parts, crc: at }
    }
}

/// The library's index (its entries without descriptors) and its database, from the
/// cache at `path` when it was made from exactly `key`; `None` otherwise (no cache,
/// another key, damaged or of another version: the caller opens the index).
pub fn read(path: &Path, key: &Key) -> Option<(Index, Database)> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: the map is read only and the file is ours: written whole to a new file
    // renamed into place, never changed in place (see the module's doc), so its bytes
    // do not change while mapped. Another program truncating it would be a bus error,
    // as for any mapped file.
    let map = Arc::new(unsafe { Mmap::map(&file) }.ok()?);
    let (index, database) = from_bytes(map.clone(), path, key)?;
    if let Stored::Mapped { bytes, .. } = &database.vectors {
        // The exact pass reads a few rows here and there: no reading ahead around them.
        let _ = map.advise_range(memmap2::Advice::Random, bytes.start, bytes.len());
    }
    Some((index, database))
}

/// [`read`] from the cache's bytes (`path` names it).
pub fn from_bytes(map: Arc<dyn Backing>, path: &Path, key: &Key) -> Option<(Index, Database)> {
    parse(map, path, key, Checksums::Checked)
}

/// Whether [`parse`] checks the checksums (the fuzzer also reads past them).
#[derive(Clone, Copy, PartialEq)]
enum Checksums {
    Checked,
    Ignored,
}

fn parse(
    map: Arc<dyn Backing>,
    path: &Path,
    key: &Key,
    checksums: Checksums,
) -> Option<(Index, Database)> {
    if cfg!(target_endian = "big") {
        return None;
    }
    let bytes = (*map).as_ref();
    // The numbers read in place must be aligned (a mapped file starts on a page).
    if bytes.as_ptr().align_offset(ALIGN) != 0 {
        return None;
    }
    let (head, head_end) = read_head(bytes, checksums)?;
    if head.key != *key || head.index.check_paths(path).is_err() {
        return None;
    }
    let [dim, rows, views] = [head.dim, head.rows, head.views].map(|n| n as usize);
    let layout = Layout::new(head_end, dim, rows, views);
    let crc = bytes.get(layout.crc..)?;
    let checked = &bytes[layout.parts[ROWS + 1].start..layout.crc];
    if crc.len() != 4
        || checksums == Checksums::Checked && crc != crc32c::crc32c(checked).to_le_bytes()
    {
        return None;
    }
    let part = |i: usize| &bytes[layout.parts[i].clone()];
    let floats = |i: usize| -> Vec<f32> { bytemuck::pod_collect_to_vec(part(i)) };
    let stats = |i: usize| {
        floats(i)
            .chunks_exact(3)
            .map(RowStats::from_triple)
            .collect()
    };
    let coarse =
        |i: usize, codes: Stored<i8>| Coarse::from_parts(codes, floats(i + 3), floats(i + 4));
    let views = Views {
        vectors: floats(VIEWS),
        stats: stats(VIEWS + 1),
        coarse: OnceLock::from(coarse(
            VIEWS,
            bytemuck::cast_slice(part(VIEWS + 2)).to_vec().into(),
        )),
        owner: bytemuck::pod_collect_to_vec::<u8, u64>(part(OWNERS))
            .into_iter()
            .map(|o| usize::try_from(o).ok().filter(|&o| o < rows))
            .collect::<Option<_>>()?,
    };
    let mapped = |i: usize| (map.clone(), layout.parts[i].clone());
    let (codes_map, codes) = mapped(ROWS + 2);
    let (rows_map, rows_bytes) = mapped(ROWS);
    let database = Database {
        dim,
        vectors: Stored::Mapped {
            map: rows_map,
            bytes: rows_bytes,
        },
        stats: stats(ROWS + 1),
        coarse: OnceLock::from(coarse(
            ROWS,
            Stored::Mapped {
                map: codes_map,
                bytes: codes,
            },
        )),
        views,
        unwhitening: head.unwhitening,
    };
    Some((head.index, database))
}

/// The head and where it ends, when the file is a cache of this version whose head is
/// whole.
fn read_head(map: &[u8], checksums: Checksums) -> Option<(Head, usize)> {
    let rest = map.strip_prefix(MAGIC)?;
    let (version, rest) = rest.split_first_chunk::<4>()?;
    let (len, rest) = rest.split_first_chunk::<8>()?;
    if u32::from_le_bytes(*version) != VERSION {
        return None;
    }
    let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
    let (head, rest) = rest.split_at_checked(len)?;
    let (crc, _) = rest.split_first_chunk::<4>()?;
    if checksums == Checksums::Checked && crc32c::crc32c(head) != u32::from_le_bytes(*crc) {
        return None;
    }
    let head: Head = postcard::from_bytes(head).ok()?;
    // Sizes that the file could hold, so that the layout's arithmetic cannot overflow.
    let numbers = head.rows.checked_add(head.views)?.checked_mul(head.dim)?;
    let unwhitening = head
        .unwhitening
        .as_ref()
        .map_or(head.dim, |u| u.len() as u64);
    if head.index.entries.len() as u64 != head.rows
        || !(1..=MAX_DIM).contains(&head.dim)
        || unwhitening != head.dim
        || numbers > map.len() as u64
    {
        return None;
    }
    let end = MAGIC.len() + 4 + 8 + len + 4;
    Some((head, end))
}

/// Writes the cache of `database` (the rows of `index`, made from `key`) to `path`,
/// replacing only a cache.
pub fn write(path: &Path, key: &Key, index: &Index, database: &Database) -> Result<()> {
    let dim = database.dim;
    let coarse = database
        .coarse
        .get_or_init(|| Coarse::of(dim, &database.vectors));
    let views = &database.views;
    let view_coarse = views.coarse.get_or_init(|| Coarse::of(dim, &views.vectors));
    let head = Head {
        key: key.clone(),
        dim: dim as u64,
        rows: database.len() as u64,
        views: views.owner.len() as u64,
        unwhitening: database.unwhitening.clone(),
        index: Index {
            root: index.root.clone(),
            provenance: index.provenance.clone(),
            entries: index
                .entries
                .iter()
                .map(Entry::without_descriptor)
                .collect(),
        },
    };
    let head = postcard::to_stdvec(&head).map_err(|e| Error::Invalid(e.to_string()))?;
    let stats =
        |stats: &[RowStats]| -> Vec<f32> { stats.iter().flat_map(RowStats::triple).collect() };
    let owners: Vec<u64> = views.owner.iter().map(|&o| o as u64).collect();
    let (row_stats, view_stats) = (stats(&database.stats), stats(&views.stats));
    let parts: [&[u8]; 11] = [
        bytemuck::cast_slice(&database.vectors),
        bytemuck::cast_slice(&row_stats),
        bytemuck::cast_slice(coarse.codes()),
        bytemuck::cast_slice(coarse.steps()),
        bytemuck::cast_slice(coarse.slack()),
        bytemuck::cast_slice(&views.vectors),
        bytemuck::cast_slice(&view_stats),
        bytemuck::cast_slice(view_coarse.codes()),
        bytemuck::cast_slice(view_coarse.steps()),
        bytemuck::cast_slice(view_coarse.slack()),
        bytemuck::cast_slice(&owners),
    ];
    let start = MAGIC.len() + 4 + 8 + head.len() + 4;
    let layout = Layout::new(start, dim, database.len(), views.owner.len());
    safefs::write_atomically_with(path, Replace::IfStartsWith(MAGIC), &mut |out| {
        out.write_all(MAGIC)?;
        out.write_all(&VERSION.to_le_bytes())?;
        out.write_all(&(head.len() as u64).to_le_bytes())?;
        out.write_all(&head)?;
        out.write_all(&crc32c::crc32c(&head).to_le_bytes())?;
        let (mut at, mut crc) = (start, 0);
        for (i, (part, place)) in parts.iter().zip(&layout.parts).enumerate() {
            let padding = vec![0; place.start - at];
            out.write_all(&padding)?;
            out.write_all(part)?;
            // Every byte after the rows is checked (the rows are read in place).
            if i > ROWS + 1 {
                crc = crc32c::crc32c_append(crc, &padding);
            }
            if i > ROWS {
                crc = crc32c::crc32c_append(crc, part);
            }
            at = place.end;
        }
        out.write_all(&crc.to_le_bytes())
    })
}

/// The fuzz target's reading (`crate::fuzz::search_cache`): a cache read from any
/// bytes (aligned as a mapped file's) has a row for each entry and ranks its rows.
#[doc(hidden)]
pub fn fuzz_cache(bytes: &[u8]) {
    /// Bytes starting on a multiple of [`ALIGN`].
    #[derive(Debug)]
    struct Aligned(Vec<[u8; ALIGN]>, usize);
    impl AsRef<[u8]> for Aligned {
        fn as_ref(&self) -> &[u8] {
            &self.0.as_flattened()[..self.1]
        }
    }
    let mut blocks = vec![[0; ALIGN]; bytes.len().div_ceil(ALIGN)];
    blocks.as_flattened_mut()[..bytes.len()].copy_from_slice(bytes);
    let key = Key::of(Path::new(""), None, None);
    let map: Arc<dyn Backing> = Arc::new(Aligned(blocks, bytes.len()));
    let path = Path::new("fuzzed.search");
    let checked = parse(map.clone(), path, &key, Checksums::Checked).is_some();
    // Past the checksums too, where a mutation rarely gets otherwise.
    if let Some((index, database)) = parse(map, path, &key, Checksums::Ignored) {
        assert_eq!(index.entries.len(), database.len());
        let query = vec![0.5; database.dim()];
        for metric in [super::Metric::Cosine, super::Metric::Manhattan] {
            let hits = database.search(&query, metric, 3).unwrap_or_default();
            assert!(hits.iter().all(|hit| hit.row < database.len()));
        }
    } else {
        assert!(!checked, "read only with its checksums checked");
    }
}

impl RowStats {
    fn triple(&self) -> [f32; 3] {
        [self.norm, self.mean, self.centred_norm]
    }

    fn from_triple(numbers: &[f32]) -> Self {
        Self {
            norm: numbers[0],
            mean: numbers[1],
            centred_norm: numbers[2],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::noise;
    use super::super::{Hit, Metric};
    use super::*;

    const DIM: usize = 24;

    /// A library of `rows` rows of noise with views of every fifth row, and its index.
    fn library(rows: usize) -> (Index, Database) {
        let mut next = noise(5);
        let raws: Vec<f32> = (0..rows * DIM).map(|_| next()).collect();
        let index = crate::index::test_library(raws.chunks(DIM).map(<[f32]>::to_vec));
        let mut database = Database::new(DIM, raws).unwrap();
        let owners: Vec<usize> = (0..rows).step_by(5).collect();
        let views: Vec<f32> = (0..owners.len() * DIM).map(|_| next()).collect();
        database.add_views(&owners, &views).unwrap();
        (index, database)
    }

    fn key(whitening: u32) -> Key {
        Key {
            index: None,
            enlarged: None,
            whitening: Some(whitening),
        }
    }

    fn hits(database: &Database, queries: &[&[f32]]) -> Vec<Vec<Hit>> {
        [Metric::Cosine, Metric::Euclidean, Metric::Manhattan]
            .into_iter()
            .map(|metric| database.search_views(queries, metric, 10).unwrap())
            .collect()
    }

    /// The rows read back in place rank exactly as those saved, with their views, and
    /// still do after the library grows; the entries come back without descriptors.
    #[test]
    fn saved_rows_rank_as_the_rows_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.search");
        let (index, mut database) = library(700);
        write(&path, &key(1), &index, &database).unwrap();
        let (read_index, mut read) = read(&path, &key(1)).unwrap();
        assert!(matches!(read.vectors, Stored::Mapped { .. }));
        assert_eq!(read_index.entries.len(), 700);
        assert_eq!(read_index.entries[9].path, "0009.jpg");
        assert!(read_index.entries.iter().all(|e| e.raw.is_empty()));
        let query: Vec<f32> = database.row(42).iter().map(|x| x + 0.01).collect();
        let other = database.view(7).0.to_vec();
        for queries in [vec![&query[..]], vec![&query[..], &other[..]]] {
            assert_eq!(hits(&read, &queries), hits(&database, &queries));
        }
        let shifted = |i: usize| query.iter().map(|x| x + 0.001 * i as f32).collect();
        let more = crate::index::test_library((0..50).map(shifted)).entries;
        database.extend(&more, None);
        read.extend(&more, None);
        assert!(matches!(read.vectors, Stored::Owned(_)));
        assert_eq!(hits(&read, &[&query]), hits(&database, &[&query]));
        assert_eq!(read.search(&query, Metric::Cosine, 1).unwrap()[0].row, 700);
    }

    /// A cache made for another whitening, or damaged anywhere it is checked, or cut
    /// short, is not read.
    #[test]
    fn a_cache_for_something_else_or_damaged_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.search");
        let (index, database) = library(300);
        write(&path, &key(1), &index, &database).unwrap();
        assert!(read(&path, &key(2)).is_none());
        let bytes = std::fs::read(&path).unwrap();
        let (_, head_end) = read_head(&bytes, Checksums::Checked).unwrap();
        let parts = Layout::new(head_end, DIM, 300, 60).parts;
        let places = [
            20,
            parts[1].start + 5,
            parts[2].start + 3,
            parts[OWNERS].start,
        ];
        for at in places.into_iter().chain([bytes.len() - 1]) {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            std::fs::write(&path, &damaged).unwrap();
            assert!(read(&path, &key(1)).is_none(), "byte {at} damaged");
        }
        std::fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
        assert!(read(&path, &key(1)).is_none());
        std::fs::write(&path, &bytes).unwrap();
        assert!(read(&path, &key(1)).is_some());
    }
}
