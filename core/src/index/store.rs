//! The index file since version 6: segments that grow by appending.
//!
//! After [`MAGIC`] and the version come segments, each framed as its body's length
//! (`u64`, little-endian), the body, and the body's CRC32C (`u32`): a head segment (the
//! library's folder and the descriptors' provenance), the entries as they were when
//! the file was last written whole, then any number of appended segments, each what one
//! checkpoint changed (paths removed, entries added or described again). A checkpoint
//! appends what changed since the last one (a few hundred kilobytes, not the gigabytes
//! of a million-photo library) and writes the file whole, atomically, dropping what
//! was removed, only when the appended segments would outgrow the rest: over a whole
//! first run at most about three times the final size is written, and nothing when
//! nothing changed.
//!
//! An entries segment is its entries' metadata (postcard) followed by their raw
//! descriptors, one after another as little-endian `f32`s: read back as blocks of bytes,
//! not number by number. A crash during an append leaves a torn last segment whose
//! length or checksum does not match: it and anything after it are ignored (that work
//! is described again) and the next checkpoint writes the file whole. A damaged head or
//! first entries segment makes the index unreadable (set aside, never replaced).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Entry, Index, MAGIC, Provenance};
use crate::read::Damage;
use crate::support::error::{Error, Result};
use crate::support::safefs::{self, FileId, Replace};

/// The first format version written in segments.
pub(super) const SEGMENTED: u32 = 6;
/// A segment's frame: its body's length before it, the body's CRC32C after it.
const LEN_BYTES: usize = 8;
const CRC_BYTES: usize = 4;
/// `MAGIC` and the version.
const HEADER_BYTES: u64 = (MAGIC.len() + 4) as u64;

/// An entry without its descriptor, as a segment stores it (the path `P` borrowed when
/// written, owned when read).
#[derive(Serialize, Deserialize)]
struct Meta<P> {
    path: P,
    size: u64,
    mtime_ns: i128,
    file: FileId,
    via_link: bool,
    width: u32,
    height: u32,
    feature_map: [u32; 2],
    damage: Option<Damage>,
    /// How many numbers its raw descriptor has (they follow all the metadata).
    dims: u32,
}

/// What a segment holds: paths no longer in the index (gone, or changed and described
/// again), then entries added or described again; the descriptors follow.
#[derive(Serialize, Deserialize)]
struct Changes<P> {
    removed: Vec<P>,
    entries: Vec<Meta<P>>,
}

/// What of an index file this process has read or written: its length then, how much
/// of it is appended segments, and its last four bytes (the last segment's checksum:
/// a file replaced meanwhile by one of the same length is not mistaken for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnDisk {
    pub len: u64,
    pub appended: u64,
    pub tail: [u8; CRC_BYTES],
}

impl OnDisk {
    /// The header, the head and the entries as last written whole.
    fn base(self) -> u64 {
        self.len - self.appended
    }
}

/// Where a run's checkpoints go, and what of the file is already there.
#[derive(Debug)]
pub struct Checkpoints {
    path: PathBuf,
    on_disk: Option<OnDisk>,
}

impl Checkpoints {
    /// Checkpoints to the index at `path`, which holds `on_disk` as read at the start
    /// of the run (`None`: the first save writes it whole).
    pub fn new(path: PathBuf, on_disk: Option<OnDisk>) -> Self {
        Self { path, on_disk }
    }

    /// Saves `index`, whose entries from `new_from` on, and the paths `removed`, are
    /// what changed since the last save: appended when the file is as this left it and
    /// the appended segments stay no larger than the rest; otherwise the file is
    /// written whole. Returns the bytes written.
    pub fn save(&mut self, index: &Index, new_from: usize, removed: &[String]) -> Result<u64> {
        if let Some(on_disk) = self.on_disk.take() {
            let new: Vec<&Entry> = index
                .entries
                .get(new_from..)
                .unwrap_or(&[])
                .iter()
                .collect();
            let removed: Vec<&str> = removed.iter().map(String::as_str).collect();
            let mut segment = Vec::new();
            let (grown, crc) = write_changes(&mut segment, &removed, &new)
                .map_err(|e| Error::io(&self.path, e))?;
            let was = (on_disk.len, &on_disk.tail[..]);
            if on_disk.appended + grown <= on_disk.base() {
                match safefs::append_to_own(&self.path, MAGIC, was, &segment) {
                    Ok(()) => {
                        self.on_disk = Some(OnDisk {
                            len: on_disk.len + grown,
                            appended: on_disk.appended + grown,
                            tail: crc,
                        });
                        return Ok(grown);
                    }
                    // Changed behind our back or torn by a crash: written whole below.
                    Err(Error::Refused { .. }) => {}
                    Err(error) => return Err(error),
                }
            }
        }
        let on_disk = write_whole(&self.path, index)?;
        self.on_disk = Some(on_disk);
        Ok(on_disk.len)
    }
}

/// Writes `index` whole (its entries sorted by path), atomically, replacing only an
/// index: a head segment and one entries segment.
pub(super) fn write_whole(path: &Path, index: &Index) -> Result<OnDisk> {
    let mut sorted: Vec<&Entry> = index.entries.iter().collect();
    if !sorted.is_sorted_by(|a, b| a.path <= b.path) {
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
    }
    let head =
        postcard::to_stdvec(&(&index.root, &index.provenance)).map_err(|e| Error::Index {
            path: path.to_path_buf(),
            reason: format!("cannot serialise: {e}"),
        })?;
    let mut on_disk = OnDisk {
        len: HEADER_BYTES,
        appended: 0,
        tail: [0; CRC_BYTES],
    };
    safefs::write_atomically_with(path, Replace::IfStartsWith(MAGIC), &mut |out| {
        out.write_all(MAGIC)?;
        out.write_all(&SEGMENTED.to_le_bytes())?;
        let (head_len, _) = write_segment(out, &head, &[])?;
        let (entries_len, crc) = write_changes(out, &[], &sorted)?;
        on_disk.len += head_len + entries_len;
        on_disk.tail = crc;
        Ok(())
    })?;
    Ok(on_disk)
}

/// Writes one framed segment whose body is `meta` then `rows` (each row's numbers as
/// little-endian `f32`s); returns the bytes written and the last four, its checksum.
fn write_segment(
    out: &mut dyn Write,
    meta: &[u8],
    rows: &[&[f32]],
) -> std::io::Result<(u64, [u8; CRC_BYTES])> {
    let floats: usize = rows.iter().map(|row| row.len()).sum();
    let len = (meta.len() + 4 * floats) as u64;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(meta)?;
    let mut crc = crc32c::crc32c(meta);
    let mut bytes = Vec::new();
    for row in rows {
        bytes.clear();
        bytes.extend(row.iter().flat_map(|v| v.to_le_bytes()));
        crc = crc32c::crc32c_append(crc, &bytes);
        out.write_all(&bytes)?;
    }
    let crc = crc.to_le_bytes();
    out.write_all(&crc)?;
    Ok(((LEN_BYTES + CRC_BYTES) as u64 + len, crc))
}

/// Writes a segment of changes: `removed` paths, then `entries`.
fn write_changes(
    out: &mut dyn Write,
    removed: &[&str],
    entries: &[&Entry],
) -> std::io::Result<(u64, [u8; CRC_BYTES])> {
    let changes = Changes {
        removed: removed.to_vec(),
        entries: entries.iter().map(|e| meta(e)).collect(),
    };
    let meta = postcard::to_stdvec(&changes).map_err(std::io::Error::other)?;
    let rows: Vec<&[f32]> = entries.iter().map(|e| e.raw.as_slice()).collect();
    write_segment(out, &meta, &rows)
}

fn meta(entry: &Entry) -> Meta<&str> {
    Meta {
        path: &entry.path,
        size: entry.size,
        mtime_ns: entry.mtime_ns,
        file: entry.file,
        via_link: entry.via_link,
        width: entry.width,
        height: entry.height,
        feature_map: entry.feature_map,
        damage: entry.damage,
        dims: u32::try_from(entry.raw.len()).unwrap_or(u32::MAX),
    }
}

/// Reads segments one after another from the bytes after the header.
struct Segments<'a> {
    rest: &'a [u8],
}

impl<'a> Segments<'a> {
    /// The next segment, `None` at the end, an error for a segment cut short or whose
    /// checksum does not match.
    fn next(&mut self) -> Option<std::result::Result<Segment<'a>, &'static str>> {
        if self.rest.is_empty() {
            return None;
        }
        Some(self.take())
    }

    fn take(&mut self) -> std::result::Result<Segment<'a>, &'static str> {
        let cut = "a segment is cut short";
        let (len, rest) = self.rest.split_first_chunk::<LEN_BYTES>().ok_or(cut)?;
        let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| cut)?;
        let (body, rest) = rest.split_at_checked(len).ok_or(cut)?;
        let (crc, rest) = rest.split_first_chunk::<CRC_BYTES>().ok_or(cut)?;
        if crc32c::crc32c(body) != u32::from_le_bytes(*crc) {
            return Err("a segment's checksum does not match");
        }
        self.rest = rest;
        Ok(Segment {
            body,
            len: (LEN_BYTES + len + CRC_BYTES) as u64,
            crc: *crc,
        })
    }
}

/// A segment as read: its body, its length with its frame, its checksum's bytes.
struct Segment<'a> {
    body: &'a [u8],
    len: u64,
    crc: [u8; CRC_BYTES],
}

/// The folder and provenance in the head segment at the start of `body` (the bytes
/// after the header; the rest of the file need not be there).
pub(super) fn head(body: &[u8]) -> std::result::Result<(PathBuf, Provenance), String> {
    let head = Segments { rest: body }
        .next()
        .ok_or("no head")?
        .map_err(String::from)?;
    postcard::from_bytes(head.body).map_err(|e| e.to_string())
}

/// The index in `body` (the bytes after the header), with what of the file it was read
/// from: its head, its entries, and its appended segments up to the first torn one.
pub(super) fn read(body: &[u8]) -> std::result::Result<(Index, OnDisk), String> {
    let mut segments = Segments { rest: body };
    let mut whole = || {
        segments
            .next()
            .ok_or("the file is cut short")
            .map(|s| s.map_err(String::from))
    };
    let head = whole()??;
    let (root, provenance) = postcard::from_bytes(head.body).map_err(|e| e.to_string())?;
    let base = whole()??;
    let (_, mut entries) = changes(base.body)?;
    let mut on_disk = OnDisk {
        len: HEADER_BYTES + head.len + base.len,
        appended: 0,
        tail: base.crc,
    };
    // Each path as the last segment that names it left it (removed: `None`).
    let mut later: HashMap<String, Option<Entry>> = HashMap::new();
    while let Some(Ok(segment)) = segments.next() {
        let Ok((removed, added)) = changes(segment.body) else {
            break;
        };
        later.extend(removed.into_iter().map(|path| (path, None)));
        later.extend(added.into_iter().map(|e| (e.path.clone(), Some(e))));
        on_disk.len += segment.len;
        on_disk.appended += segment.len;
        on_disk.tail = segment.crc;
    }
    if !later.is_empty() {
        entries.retain(|e| !later.contains_key(&e.path));
        if !entries.is_sorted_by(|a, b| a.path <= b.path) {
            // Written sorted; a file that is not is read all the same.
            entries.sort_by(|a, b| a.path.cmp(&b.path));
        }
        let mut added: Vec<Entry> = later.into_values().flatten().collect();
        added.sort_by(|a, b| a.path.cmp(&b.path));
        entries = merged(entries, added);
    }
    let index = Index {
        root,
        provenance,
        entries,
    };
    Ok((index, on_disk))
}

/// Two lists of entries sorted by path, as one (the base written sorted, the appended
/// sorted apart: no sort of the whole).
fn merged(base: Vec<Entry>, added: Vec<Entry>) -> Vec<Entry> {
    let mut all = Vec::with_capacity(base.len() + added.len());
    let (mut base, mut added) = (base.into_iter().peekable(), added.into_iter().peekable());
    loop {
        let next = match (base.peek(), added.peek()) {
            (Some(a), Some(b)) if a.path <= b.path => base.next(),
            (_, Some(_)) => added.next(),
            (Some(_), None) => base.next(),
            (None, None) => break,
        };
        all.extend(next);
    }
    all
}

/// The paths removed and the entries in a segment of changes.
fn changes(body: &[u8]) -> std::result::Result<(Vec<String>, Vec<Entry>), String> {
    let (changes, mut floats) =
        postcard::take_from_bytes::<Changes<String>>(body).map_err(|e| e.to_string())?;
    let numbers: u64 = changes.entries.iter().map(|m| u64::from(m.dims)).sum();
    if numbers.checked_mul(4) != Some(floats.len() as u64) {
        return Err("the descriptors do not fill their segment".into());
    }
    let mut entries = Vec::with_capacity(changes.entries.len());
    for m in changes.entries {
        let (row, rest) = floats.split_at(4 * m.dims as usize);
        floats = rest;
        entries.push(Entry {
            path: m.path,
            size: m.size,
            mtime_ns: m.mtime_ns,
            file: m.file,
            via_link: m.via_link,
            width: m.width,
            height: m.height,
            feature_map: m.feature_map,
            raw: row
                .as_chunks::<4>()
                .0
                .iter()
                .map(|b| f32::from_le_bytes(*b))
                .collect(),
            damage: m.damage,
        });
    }
    Ok((changes.removed, entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe::model::Network;
    use crate::describe::pooling::Pooling;

    fn entry(path: &str, value: f32) -> Entry {
        Entry {
            path: path.into(),
            size: 10,
            mtime_ns: -5,
            file: FileId {
                device: 1,
                inode: 2,
            },
            via_link: false,
            width: 3,
            height: 4,
            feature_map: [2, 1],
            raw: vec![value, -value, 0.5],
            damage: None,
        }
    }

    fn library(paths: &[&str]) -> Index {
        let mut index = Index::new(
            PathBuf::from("/photos"),
            Provenance {
                model_sha256: "ab".repeat(32),
                max_side: 1024,
                network: Network::Vgg16,
                pooling: Pooling::Rmac,
            },
        );
        for (i, path) in paths.iter().enumerate() {
            index.entries.push(entry(path, i as f32));
        }
        index
    }

    fn sorted(mut index: Index) -> Index {
        index.entries.sort_by(|a, b| a.path.cmp(&b.path));
        index
    }

    fn len(path: &Path) -> u64 {
        std::fs::metadata(path).unwrap().len()
    }

    /// A run's checkpoints append only what changed: photos added, a photo gone, one
    /// described again; the file reads back as the index, and it grows by the
    /// changes, not by the whole index again.
    #[test]
    fn checkpoints_append_what_changed_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.lkidx");
        let names: Vec<String> = (0..50).map(|i| format!("p{i:03}.jpg")).collect();
        let mut index = library(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let on_disk = write_whole(&path, &index).unwrap();
        assert_eq!(on_disk.len, len(&path));
        let base = len(&path);

        let mut checkpoints = Checkpoints::new(path.clone(), Some(on_disk));
        // p003 gone, p007 changed (removed, then described again), two new photos.
        index
            .entries
            .retain(|e| e.path != "p003.jpg" && e.path != "p007.jpg");
        let kept = index.entries.len();
        index.entries.push(entry("a-new.jpg", 100.0));
        index.entries.push(entry("p007.jpg", 7.5));
        let removed = ["p003.jpg".to_string(), "p007.jpg".to_string()];
        let written = checkpoints.save(&index, kept, &removed).unwrap();
        assert_eq!(len(&path), base + written);
        assert!(written < base / 10, "{written} bytes appended to {base}");
        index.entries.push(entry("zz.jpg", 200.0));
        let more = checkpoints.save(&index, kept + 2, &[]).unwrap();
        assert_eq!(len(&path), base + written + more);

        let (read, read_on_disk) = Index::load_on_disk(&path).unwrap();
        assert_eq!(read, sorted(index.clone()));
        assert_eq!(read_on_disk, checkpoints.on_disk);
        assert_eq!(
            read.entries
                .iter()
                .find(|e| e.path == "p007.jpg")
                .unwrap()
                .raw[0],
            7.5
        );
    }

    /// A crash in the middle of an append (here: the last segment cut short, or a byte
    /// of it changed) loses that checkpoint's work only; the next save writes the file
    /// whole, and a damaged first segment is a corrupt index, never half of one.
    #[test]
    fn a_torn_append_is_ignored_and_the_next_save_writes_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.lkidx");
        let mut index = library(&["a.jpg", "b.jpg"]);
        let on_disk = write_whole(&path, &index).unwrap();
        let before = sorted(index.clone());
        let mut checkpoints = Checkpoints::new(path.clone(), Some(on_disk));
        index.entries.push(entry("c.jpg", 3.0));
        checkpoints.save(&index, 2, &[]).unwrap();
        let whole = std::fs::read(&path).unwrap();

        for damage in [0, 1] {
            let mut bytes = whole.clone();
            if damage == 0 {
                bytes.truncate(bytes.len() - 3);
            } else {
                let last = bytes.len() - 10;
                bytes[last] ^= 1;
            }
            std::fs::write(&path, &bytes).unwrap();
            let (read, read_on_disk) = Index::load_on_disk(&path).unwrap();
            assert_eq!(read, before, "damage {damage}");
            assert_eq!(read_on_disk, Some(on_disk));

            // The next checkpoint of a new run (which read the file up to the tear)
            // writes whole; so does this run's (which believes the append landed) when
            // the append was cut short.
            let believed = match damage {
                0 => vec![read_on_disk, checkpoints.on_disk],
                _ => vec![read_on_disk],
            };
            for believed in believed {
                std::fs::write(&path, &bytes).unwrap();
                let mut next = Checkpoints::new(path.clone(), believed);
                index.entries.push(entry("d.jpg", 4.0));
                let n = index.entries.len();
                next.save(&index, n - 1, &[]).unwrap();
                assert_eq!(Index::load(&path).unwrap(), sorted(index.clone()));
                index.entries.pop();
            }
        }

        let mut bytes = whole.clone();
        bytes[40] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let message = Index::load(&path).unwrap_err().to_string();
        assert!(message.contains("corrupt index"), "{message}");
    }

    /// Appends stop when they would outgrow the rest of the file: it is then written
    /// whole, without the photos removed, and over many checkpoints the bytes written
    /// stay within a few times the index's size.
    #[test]
    fn the_file_is_written_whole_when_appends_outgrow_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.lkidx");
        let mut index = library(&["a.jpg"]);
        let mut checkpoints = Checkpoints::new(path.clone(), None);
        let mut written = checkpoints.save(&index, 0, &[]).unwrap();
        for i in 0..2000 {
            let from = index.entries.len();
            index.entries.push(entry(&format!("n{i:05}.jpg"), i as f32));
            written += checkpoints.save(&index, from, &[]).unwrap();
            assert!(len(&path) <= 2 * checkpoints.on_disk.unwrap().base() + 200);
        }
        let size = len(&path);
        assert!(written < 4 * size, "{written} bytes written for {size}");
        assert_eq!(Index::load(&path).unwrap(), sorted(index.clone()));

        let from = index.entries.len();
        index.entries.retain(|e| e.path != "a.jpg");
        checkpoints.save(&index, from, &["a.jpg".into()]).unwrap();
        assert_eq!(Index::load(&path).unwrap(), sorted(index.clone()));
        // Written whole now: nothing appended, the removed photo's bytes gone.
        let grown = checkpoints.save(&index, from - 1, &[]).unwrap();
        assert!(grown > 0);
        assert_eq!(Index::load(&path).unwrap(), sorted(index));
    }

    /// A file replaced behind a run's back (another program's save) is never appended
    /// to: the run writes it whole.
    #[test]
    fn a_file_changed_meanwhile_is_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.lkidx");
        let mut index = library(&["a.jpg", "b.jpg"]);
        let on_disk = write_whole(&path, &index).unwrap();
        library(&["other.jpg"]).save(&path).unwrap();
        let mut checkpoints = Checkpoints::new(path.clone(), Some(on_disk));
        index.entries.push(entry("c.jpg", 3.0));
        checkpoints.save(&index, 2, &[]).unwrap();
        assert_eq!(Index::load(&path).unwrap(), sorted(index));
    }
}
