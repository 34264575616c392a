//! The on-disk index of a photo folder: for every image, its path (relative to the
//! folder), size and modification time (to detect changes), size and raw SPoC.
//!
//! Raw descriptors are stored, not whitened ones, so whitening and metrics can change
//! without running the network again. The file is `MAGIC`, a little-endian `u32`
//! format version, then a postcard body; it is always written to a temporary file,
//! synced and renamed over the old one, so a crash leaves either the old or the new
//! index, never a torn one, and it never replaces a file that is not an index.
//!
//! Version 2 records each file's identity (device and inode): the index holds every
//! file once, and the clean-up checks identities before it moves anything. Version 3
//! records the network (VGG16 or GoogLeNet); a version 2 index is read as VGG16's.
//! Version 4 records how the network's last map was pooled (R-MAC by default for VGG16);
//! older indexes are read as SPoC, which they all are, and keep working: a query is
//! described the way its index was. Version 5 records what is wrong with a photo that
//! decoded all the same (a JPEG cut short or broken inside); older indexes are read
//! with nothing known wrong, and a photo is checked when it is next described.
//! Version 6 is written in checksummed segments that a checkpoint appends to
//! ([`store`]); the versions before it are read as they are and written as version 6
//! at the next save, nothing described again.

mod older;
mod plan;
mod scan;
mod store;
pub mod thumbnails;
mod update;
pub mod variants;

pub use scan::{SameFile, ScanOptions, ScanOutcome, Scanned, mtime_ns, scan_folder};
pub use store::{Checkpoints, OnDisk};
pub use update::{
    Control, Failure, FailureKind, IndexOptions, IndexSummary, MissingPhotos, Partial, Progress,
    SetAside, Unreadable, update_index, update_index_live,
};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::describe::describer::Provenance;
use crate::describe::model::Network;
use crate::describe::whiten::{Whitening, finish_descriptor};
use crate::read::Damage;
use crate::support::error::{Error, Result};
use crate::support::safefs::{self, FileId, Replace};

/// First bytes of every index file.
pub const MAGIC: &[u8; 8] = b"LKALIDX\n";
/// Version of the body's layout; another version is refused with a clear message.
pub const FORMAT_VERSION: u32 = store::SEGMENTED;
/// How much of an index [`Index::read_provenance`] reads: the header, the root (a path)
/// and the provenance fit with room to spare.
const HEAD_BYTES: u64 = 16 * 1024;

/// One described image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Relative to the index root, `/`-separated.
    pub path: String,
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
    /// Device and inode when indexed: the file itself, whatever its path.
    pub file: FileId,
    /// The path goes through a symbolic link (only with links followed): not a real
    /// copy in the library, so never a keeper when a real path exists.
    pub via_link: bool,
    /// EXIF-oriented size of the original.
    pub width: u32,
    pub height: u32,
    pub feature_map: [u32; 2],
    /// The raw descriptor (VGG16: 512 sums over conv5_3; GoogLeNet: 1,024-d pool5).
    pub raw: Vec<f32>,
    /// What is wrong with the photo, which decoded all the same (a JPEG cut short or
    /// broken inside): searchable, marked, never kept over a whole copy. `None` also
    /// for photos described before version 5, until they are described again.
    pub damage: Option<Damage>,
}

impl Entry {
    /// This entry without its descriptor (what a cache of the entries alone keeps).
    pub fn without_descriptor(&self) -> Self {
        Self {
            path: self.path.clone(),
            size: self.size,
            mtime_ns: self.mtime_ns,
            file: self.file,
            via_link: self.via_link,
            width: self.width,
            height: self.height,
            feature_map: self.feature_map,
            raw: Vec::new(),
            damage: self.damage,
        }
    }
}

/// A file as it was indexed; it is moved only if it still is this file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Indexed {
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ns: i128,
    /// Device and inode when indexed.
    pub file: FileId,
}

impl Indexed {
    /// An index entry as the clean-up needs it.
    pub fn from_entry(index: &Index, entry: &Entry) -> Self {
        Self {
            path: index.absolute(entry),
            size: entry.size,
            mtime_ns: entry.mtime_ns,
            file: entry.file,
        }
    }
}

/// An index: where it came from and its entries, sorted by path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub root: PathBuf,
    pub provenance: Provenance,
    pub entries: Vec<Entry>,
}

impl Index {
    /// Learns a whitening from the raw descriptors of these entries, each L2-normalised
    /// first (as [`finish_descriptor`] does before whitening).
    pub fn learn_whitening(&self, dim: usize, power: f32) -> Result<Whitening> {
        let vectors: Vec<Vec<f32>> = self
            .entries
            .iter()
            .map(|e| finish_descriptor(&e.raw, None))
            .collect();
        Whitening::learn(&vectors, dim, power)
    }

    pub fn new(root: PathBuf, provenance: Provenance) -> Self {
        Self {
            root,
            provenance,
            entries: Vec::new(),
        }
    }

    /// Absolute path of an entry.
    pub fn absolute(&self, entry: &Entry) -> PathBuf {
        self.root.join(entry.path.as_str())
    }

    /// The path of the file at `path` in this library as its entries name it (relative,
    /// `/`-separated, as scanning writes them); `None` outside the library or not UTF-8.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let relative = path.strip_prefix(&self.root).ok()?.to_str()?;
        Some(relative.replace(std::path::MAIN_SEPARATOR, "/"))
    }

    /// Reads an index, refusing another format version with a message that says so.
    pub fn load(path: &Path) -> Result<Self> {
        Self::load_on_disk(path).map(|(index, _)| index)
    }

    /// [`Index::load`], with what of the file was read, for the checkpoints that
    /// append to it (`None`: an earlier version, written whole at the next save).
    pub fn load_on_disk(path: &Path) -> Result<(Self, Option<OnDisk>)> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes_on_disk(path, &bytes)
    }

    /// An index from the bytes of its file (`path` names it in messages).
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_on_disk(path, bytes).map(|(index, _)| index)
    }

    fn from_bytes_on_disk(path: &Path, bytes: &[u8]) -> Result<(Self, Option<OnDisk>)> {
        let (version, body) = split_header(path, bytes)?;
        let corrupt_here = |e: postcard::Error| corrupt(path, e.to_string());
        let (index, on_disk) = match version {
            FORMAT_VERSION => store::read(body)
                .map(|(index, on_disk)| (index, Some(on_disk)))
                .map_err(|e| corrupt(path, e)),
            older => match older::index(older, body) {
                Some(index) => index.map(|index| (index, None)).map_err(corrupt_here),
                None => Err(unknown_version(path, version)),
            },
        }?;
        index.check_paths(path)?;
        Ok((index, on_disk))
    }

    /// Refuses an index whose entries' paths could lead out of its folder: each must be
    /// relative, with no `..` (nor a root or drive), as scanning writes them. A crafted
    /// or damaged index cannot make lookalike read, move or show a file elsewhere.
    pub(crate) fn check_paths(&self, path: &Path) -> Result<()> {
        use std::path::Component;
        let escapes = |entry: &Entry| {
            entry.path.is_empty()
                || Path::new(&entry.path)
                    .components()
                    .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        };
        match self.entries.iter().find(|e| escapes(e)) {
            None => Ok(()),
            Some(entry) => Err(Error::Index {
                path: path.to_path_buf(),
                reason: format!(
                    "corrupt index: the entry {:?} is not a path inside the library",
                    entry.path
                ),
            }),
        }
    }

    /// The provenance of the index at `path`, read from its first bytes only (the root
    /// and provenance come before the entries): what an index was made with, without
    /// loading a large one.
    pub fn read_provenance(path: &Path) -> Result<Provenance> {
        Self::read_head(path).map(|(_, provenance)| provenance)
    }

    /// The folder and provenance of the index at `path`, read from its first bytes.
    pub fn read_head(path: &Path) -> Result<(PathBuf, Provenance)> {
        use std::io::Read;
        let mut head = Vec::new();
        std::fs::File::open(path)
            .and_then(|file| file.take(HEAD_BYTES).read_to_end(&mut head))
            .map_err(|e| Error::io(path, e))?;
        Self::head_from_bytes(path, &head)
    }

    /// [`Index::read_head`] from the first bytes of the file (`path` names it).
    pub fn head_from_bytes(path: &Path, head: &[u8]) -> Result<(PathBuf, Provenance)> {
        let (version, body) = split_header(path, head)?;
        let corrupt_here = |e: postcard::Error| corrupt(path, e.to_string());
        match version {
            FORMAT_VERSION => store::head(body).map_err(|e| corrupt(path, e)),
            5 | 4 => postcard::take_from_bytes::<(PathBuf, Provenance)>(body)
                .map(|(head, _)| head)
                .map_err(corrupt_here),
            older => match older::head(older, body) {
                Some(head) => head.map_err(corrupt_here),
                None => Err(unknown_version(path, version)),
            },
        }
    }

    /// Writes the index whole, atomically (temporary file, fsync, rename); refuses to
    /// replace a file that is not a lookalike index. A run's checkpoints append instead
    /// ([`Checkpoints`]).
    pub fn save(&self, path: &Path) -> Result<()> {
        store::write_whole(path, self).map(drop)
    }

    /// Checks that this index was made with `provenance`.
    pub fn check_provenance(&self, path: &Path, provenance: &Provenance) -> Result<()> {
        let fail = |reason: String| {
            Err(Error::Index {
                path: path.to_path_buf(),
                reason,
            })
        };
        if self.provenance.network != provenance.network {
            return fail(format!(
                "made with {}, not {}; choose --network {} (in the app: Settings > Network) \
                 or rebuild it with --rebuild",
                self.provenance.network.title(),
                provenance.network.title(),
                self.provenance.network
            ));
        }
        if self.provenance.model_sha256 != provenance.model_sha256 {
            return fail(format!(
                "made with another model (sha256 {}…, now {}…); rebuild it with --rebuild",
                self.provenance.model_sha256.get(..12).unwrap_or_default(),
                provenance.model_sha256.get(..12).unwrap_or_default()
            ));
        }
        if self.provenance.pooling != provenance.pooling {
            return fail(format!(
                "described with {} pooling, not {}; choose --pooling {} or rebuild it with \
                 --rebuild (R-MAC, the default, finds more)",
                self.provenance.pooling.title(),
                provenance.pooling.title(),
                self.provenance.pooling
            ));
        }
        if self.provenance.max_side != provenance.max_side {
            return fail(format!(
                "made with --max-side {}, not {}; use the same value or rebuild it with --rebuild",
                self.provenance.max_side, provenance.max_side
            ));
        }
        Ok(())
    }
}

/// The format version and body of an index file's bytes (`MAGIC`, version, body).
fn split_header<'a>(path: &Path, bytes: &'a [u8]) -> Result<(u32, &'a [u8])> {
    let fail = |reason: &str| Error::Index {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    let (magic, rest) = bytes.split_at_checked(MAGIC.len()).unwrap_or((&[], &[]));
    if magic != MAGIC {
        return Err(fail("not a lookalike index"));
    }
    let (version, body) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| fail("truncated header"))?;
    Ok((u32::from_le_bytes(*version), body))
}

fn corrupt(path: &Path, error: String) -> Error {
    Error::Index {
        path: path.to_path_buf(),
        reason: format!("corrupt index: {error}"),
    }
}

fn unknown_version(path: &Path, version: u32) -> Error {
    Error::Index {
        path: path.to_path_buf(),
        reason: format!(
            "index format version {version}, this build reads versions 2 to \
             {FORMAT_VERSION}; rebuild it with `lookalike index DIR --rebuild`"
        ),
    }
}

/// Whether the library `index` was made for is now at `root` (a drive mounted at
/// another path, a folder moved): nearly all of a sample of its photos are under
/// `root` with the same size and modification time, and most are no longer where
/// they were.
pub fn moved_here(index: &Index, root: &Path) -> bool {
    let step = index.entries.len().div_ceil(64).max(1);
    let sample: Vec<&Entry> = index.entries.iter().step_by(step).collect();
    let same = |dir: &Path, e: &Entry| {
        std::fs::metadata(dir.join(e.path.as_str()))
            .is_ok_and(|m| m.len() == e.size && scan::mtime_ns(&m) == e.mtime_ns)
    };
    let here = sample.iter().filter(|e| same(root, e)).count();
    let there = sample.iter().filter(|e| same(&index.root, e)).count();
    !sample.is_empty() && 10 * here >= 9 * sample.len() && 2 * there < sample.len()
}

/// Where the app keeps the index of `root` made with `provenance` in `dir`: a file of
/// its own for every setting that changes the descriptors (network, pooling, image
/// size, weights), so that no setting ever replaces another's index. An index at the
/// name of before 2026-12 (`<name>-<hash>[-network].lkidx`, also the command line's
/// default) is used as it is when it was made with these settings.
pub fn library_index_path(
    dir: &Path,
    root: &Path,
    provenance: &Provenance,
    suffix: &str,
) -> PathBuf {
    let legacy = dir.join(legacy_index_name(root, provenance.network, suffix));
    let current = Index::read_head(&legacy).ok();
    if current.is_some_and(|(_, made)| &made == provenance) {
        return legacy;
    }
    let settings = format!(
        "{}-{}-{}-{}{suffix}",
        network_tag(provenance.network),
        provenance.pooling,
        provenance.max_side,
        provenance.model_sha256.get(..8).unwrap_or_default()
    );
    dir.join(index_file_name(root, &settings))
}

/// The app's index name of before 2026-12 (`<name>-<hash>[-network].lkidx`): one per
/// network, VGG16's without a tag (the command line's default name too).
pub fn legacy_index_name(root: &Path, network: Network, suffix: &str) -> String {
    index_file_name(root, &format!("{}{suffix}", network_tag(network)))
}

/// `-<network>` in an index's name; none for VGG16, whose names came first.
fn network_tag(network: Network) -> String {
    match network {
        Network::Vgg16 => String::new(),
        other => format!("-{other}"),
    }
}

/// An index in `dir` made with `provenance` for a library now found at `root` (see
/// [`moved_here`]), whose own folder is gone: the descriptions to keep when a drive
/// comes back at another path.
pub fn find_moved(dir: &Path, root: &Path, provenance: &Provenance) -> Option<PathBuf> {
    let root = root.canonicalize().ok()?;
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "lkidx"))
        .filter(|path| {
            Index::read_head(path).is_ok_and(|(was, made)| &made == provenance && was != root)
        })
        .find(|path| Index::load(path).is_ok_and(|index| moved_here(&index, &root)))
}

/// When there is no index at `to` yet and [`find_moved`] finds the library's index in
/// `dir` under its old folder's name, moves it to `to` (with its cache files beside it,
/// of the extensions `sidecars`), renamed, never copied or replaced; the next update
/// takes the new folder as its root. Returns the index's old path.
pub fn adopt_moved(
    dir: &Path,
    root: &Path,
    provenance: &Provenance,
    to: &Path,
    sidecars: &[&str],
) -> Result<Option<PathBuf>> {
    if to.exists() {
        return Ok(None);
    }
    let Some(found) = find_moved(dir, root, provenance) else {
        return Ok(None);
    };
    safefs::move_no_replace(&found, to).map_err(|e| Error::io(&found, e))?;
    for ext in sidecars {
        let (from, to) = (found.with_extension(ext), to.with_extension(ext));
        if from.exists() {
            // A cache: if it cannot follow, it is made again.
            let _ = safefs::move_no_replace(&from, &to);
        }
    }
    Ok(Some(found))
}

/// Default index file for a folder: `<data dir>/indexes/<name>-<hash>.lkidx`.
pub fn default_index_path(root: &Path) -> Option<PathBuf> {
    data_dir_index_path(root, "indexes", "")
}

/// An index file for `root` in `<data dir>/<folder>/`, named by [`index_file_name`].
pub fn data_dir_index_path(root: &Path, folder: &str, suffix: &str) -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "lookalike").map(|dirs| {
        dirs.data_dir()
            .join(folder)
            .join(index_file_name(root, suffix))
    })
}

/// `<name>-<hash><suffix>.lkidx`: the folder's name (made file-name safe) and a hash of
/// its canonical path, so two folders of the same name never share an index.
pub fn index_file_name(root: &Path, suffix: &str) -> String {
    use sha2::Digest;
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let digest = sha2::Sha256::digest(canonical.to_string_lossy().as_bytes());
    let tag: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let name: String = canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into())
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}-{tag}{suffix}.lkidx")
}

/// Writes `value` to `path` as our files are framed: `magic`, a little-endian `u32`
/// `version`, then the value (postcard), atomically; a file there is replaced only if it
/// starts with `magic` (one of ours).
pub(crate) fn save_framed<T: serde::Serialize + ?Sized>(
    path: &Path,
    magic: &'static [u8],
    version: u32,
    value: &T,
) -> Result<()> {
    let body = postcard::to_stdvec(value).map_err(|e| Error::Index {
        path: path.to_path_buf(),
        reason: format!("cannot serialise: {e}"),
    })?;
    let mut bytes = Vec::with_capacity(magic.len() + 4 + body.len());
    bytes.extend_from_slice(magic);
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend_from_slice(&body);
    safefs::write_atomically(path, &bytes, Replace::IfStartsWith(magic))
}

/// A library of photos `0000.jpg`, `0001.jpg`, ... (one file each) with these raw
/// descriptors, described by VGG16 with R-MAC (tests).
#[cfg(test)]
pub(crate) fn test_library(raws: impl IntoIterator<Item = Vec<f32>>) -> Index {
    let mut index = Index::new(
        "/photos".into(),
        Provenance {
            model_sha256: "ab".repeat(32),
            max_side: 1024,
            network: crate::describe::model::Network::Vgg16,
            pooling: crate::describe::pooling::Pooling::Rmac,
        },
    );
    index.entries = (0..)
        .zip(raws)
        .map(|(i, raw)| Entry {
            path: format!("{i:04}.jpg"),
            size: 1,
            mtime_ns: 0,
            file: FileId {
                device: 1,
                inode: i,
            },
            via_link: false,
            width: 640,
            height: 480,
            feature_map: [40, 30],
            raw,
            damage: None,
        })
        .collect();
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe::pooling::Pooling;

    fn sample() -> Index {
        let mut index = Index::new(
            PathBuf::from("/photos"),
            Provenance {
                model_sha256: "ab".repeat(32),
                max_side: 1024,
                network: Network::Vgg16,
                pooling: Pooling::Rmac,
            },
        );
        index.entries.push(Entry {
            path: "a/b.jpg".into(),
            size: 10,
            mtime_ns: -5,
            file: FileId {
                device: 1,
                inode: 2,
            },
            via_link: false,
            width: 3,
            height: 4,
            feature_map: [0, 0],
            raw: vec![1.0, 2.5],
            damage: None,
        });
        index
    }

    /// An entry as versions 2 to 4 wrote it (no `damage`).
    type OldEntry<'a> = (
        &'a str,
        u64,
        i128,
        FileId,
        bool,
        u32,
        u32,
        [u32; 2],
        &'a [f32],
    );

    fn old_entries(index: &Index) -> Vec<OldEntry<'_>> {
        fn old(e: &Entry) -> OldEntry<'_> {
            let Entry {
                path,
                size,
                mtime_ns,
                file,
                via_link,
                width,
                height,
                feature_map,
                raw,
                damage: _,
            } = e;
            (
                path,
                *size,
                *mtime_ns,
                *file,
                *via_link,
                *width,
                *height,
                *feature_map,
                raw,
            )
        }
        index.entries.iter().map(old).collect()
    }

    fn write_old(path: &Path, version: u32, body: &impl Serialize) {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&version.to_le_bytes());
        bytes.extend_from_slice(&postcard::to_stdvec(body).unwrap());
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.lkidx");
        let mut index = sample();
        index.entries.push(Entry {
            path: "a/cut.jpg".into(),
            damage: Some(Damage::CutShort { zeros: 4096 }),
            ..index.entries[0].clone()
        });
        index.save(&path).unwrap();
        assert_eq!(Index::load(&path).unwrap(), index);
        assert_eq!(Index::read_provenance(&path).unwrap(), index.provenance);
    }

    /// Issue 25: an index of the previous version (no damage recorded) is read whole,
    /// its photos with nothing known wrong, and described again only when they change.
    #[test]
    fn reads_a_version_4_index_with_nothing_known_damaged() {
        let index = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v4.lkidx");
        write_old(
            &path,
            4,
            &(&index.root, &index.provenance, old_entries(&index)),
        );
        assert_eq!(Index::load(&path).unwrap(), index);
        assert_eq!(Index::read_provenance(&path).unwrap(), index.provenance);
    }

    /// Issue 29: an index of version 5 (one postcard body, rewritten whole at every
    /// checkpoint) is read whole, damage included; its next save is version 6.
    #[test]
    fn reads_a_version_5_index_and_saves_it_in_segments() {
        let mut index = sample();
        index.entries[0].damage = Some(Damage::CutShort { zeros: 4096 });
        let entries: Vec<_> = old_entries(&index)
            .into_iter()
            .zip(&index.entries)
            .map(|(old, e)| (old, e.damage))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.lkidx");
        write_old(&path, 5, &(&index.root, &index.provenance, entries));
        let (read, on_disk) = Index::load_on_disk(&path).unwrap();
        assert_eq!((&read, on_disk), (&index, None));
        assert_eq!(Index::read_provenance(&path).unwrap(), index.provenance);
        read.save(&path).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap()[8..12],
            FORMAT_VERSION.to_le_bytes()
        );
        assert_eq!(Index::load(&path).unwrap(), index);
    }

    #[test]
    fn refuses_other_versions_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.lkidx");
        sample().save(&path).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let message = Index::load(&path).unwrap_err().to_string();
        assert!(message.contains("format version 7"), "{message}");
        std::fs::write(&path, b"hello").unwrap();
        let message = Index::load(&path).unwrap_err().to_string();
        assert!(message.contains("not a lookalike index"), "{message}");
    }

    /// Issue 25: an entry whose path leads out of the library (absolute, `..`, empty)
    /// makes the index unreadable, never a file elsewhere to read, show or move.
    #[test]
    fn refuses_entry_paths_outside_the_library() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.lkidx");
        for bad in ["/etc/passwd", "../elsewhere.jpg", "a/../../b.jpg", ""] {
            let mut index = sample();
            index.entries[0].path = bad.into();
            index.save(&path).unwrap();
            let message = Index::load(&path).unwrap_err().to_string();
            assert!(
                message.contains("not a path inside the library"),
                "{bad}: {message}"
            );
        }
        let mut index = sample();
        index.entries[0].path = "2024/./holiday..jpg".into();
        index.save(&path).unwrap();
        assert!(Index::load(&path).is_ok());
    }

    #[test]
    fn never_replaces_a_file_that_is_not_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("holiday.jpg");
        std::fs::write(&photo, b"\xff\xd8\xff\xe0 pixels").unwrap();
        let message = sample().save(&photo).unwrap_err().to_string();
        assert!(message.contains("did not write"), "{message}");
        assert_eq!(std::fs::read(&photo).unwrap(), b"\xff\xd8\xff\xe0 pixels");
    }

    #[test]
    fn refuses_another_model_or_max_side() {
        let index = sample();
        let path = Path::new("i.lkidx");
        let mut other = index.provenance.clone();
        assert!(index.check_provenance(path, &other).is_ok());
        other.model_sha256 = "cd".repeat(32);
        let message = index
            .check_provenance(path, &other)
            .unwrap_err()
            .to_string();
        assert!(message.contains("another model"), "{message}");
        other = index.provenance.clone();
        other.max_side = 512;
        assert!(index.check_provenance(path, &other).is_err());
        other = index.provenance.clone();
        other.network = Network::GoogLeNet;
        other.model_sha256 = "cd".repeat(32);
        let message = index
            .check_provenance(path, &other)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("made with VGG16, not GoogLeNet; choose --network vgg16"),
            "{message}"
        );
    }

    /// An index written before the network was recorded is read as VGG16's.
    #[test]
    fn reads_a_version_2_index_as_vgg16() {
        let index = sample();
        let provenance = (&index.provenance.model_sha256, index.provenance.max_side);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.lkidx");
        write_old(&path, 2, &(&index.root, provenance, old_entries(&index)));
        let mut expected = index;
        expected.provenance.pooling = Pooling::Spoc;
        assert_eq!(Index::load(&path).unwrap(), expected);
        assert_eq!(Index::read_provenance(&path).unwrap(), expected.provenance);
    }

    /// An index written before the pooling was recorded is read as SPoC, and a search
    /// or update that wants R-MAC is told how to rebuild it.
    #[test]
    fn reads_a_version_3_index_as_spoc() {
        let index = sample();
        let provenance = (
            &index.provenance.model_sha256,
            index.provenance.max_side,
            Network::Vgg16,
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.lkidx");
        write_old(&path, 3, &(&index.root, provenance, old_entries(&index)));
        let loaded = Index::load(&path).unwrap();
        assert_eq!(loaded.provenance.pooling, Pooling::Spoc);
        assert_eq!(Index::read_provenance(&path).unwrap(), loaded.provenance);
        assert_eq!(loaded.entries, index.entries);
        let message = loaded
            .check_provenance(&path, &index.provenance)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("described with SPoC pooling, not R-MAC; choose --pooling spoc"),
            "{message}"
        );
    }
}
