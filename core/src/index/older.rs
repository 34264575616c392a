//! The index's earlier layouts (versions 2 to 5), read and upgraded to today's: a
//! library indexed by an earlier version is never described again for our sake.

use std::path::PathBuf;

use serde::Deserialize;

use super::{Entry, Index, Provenance};
use crate::describe::model::Network;
use crate::describe::pooling::Pooling;
use crate::support::safefs::FileId;

/// The index in the body of a file of an earlier `version`; `None` for a version that
/// never was.
pub(super) fn index(version: u32, body: &[u8]) -> Option<Result<Index, postcard::Error>> {
    Some(match version {
        5 => postcard::from_bytes::<IndexV5>(body).map(Index::from),
        4 => postcard::from_bytes::<IndexV4>(body).map(Index::from),
        3 => postcard::from_bytes::<IndexV3>(body).map(Index::from),
        2 => postcard::from_bytes::<IndexV2>(body).map(Index::from),
        _ => return None,
    })
}

/// The root and provenance at the start of the body of a file of an earlier `version`
/// (4 and 5 have today's); `None` for a version that never was.
pub(super) fn head(
    version: u32,
    body: &[u8],
) -> Option<Result<(PathBuf, Provenance), postcard::Error>> {
    Some(match version {
        3 => postcard::take_from_bytes::<(PathBuf, ProvenanceV3)>(body)
            .map(|((root, old), _)| (root, old.into())),
        2 => postcard::take_from_bytes::<(PathBuf, ProvenanceV2)>(body)
            .map(|((root, old), _)| (root, old.into())),
        _ => return None,
    })
}

/// Version 5's layout: the whole index in one postcard body, every descriptor a
/// sequence of numbers (written whole at every checkpoint).
#[derive(Deserialize)]
struct IndexV5 {
    root: PathBuf,
    provenance: Provenance,
    entries: Vec<EntryV5>,
}

/// An entry of version 5: an [`EntryV4`] and what is wrong with the photo (postcard
/// writes a struct's fields one after another, so the two read as one entry).
#[derive(Deserialize)]
struct EntryV5(EntryV4, Option<crate::read::Damage>);

impl From<EntryV5> for Entry {
    fn from(EntryV5(entry, damage): EntryV5) -> Self {
        Self {
            damage,
            ..entry.into()
        }
    }
}

impl From<IndexV5> for Index {
    fn from(old: IndexV5) -> Self {
        Self {
            root: old.root,
            provenance: old.provenance,
            entries: old.entries.into_iter().map(Entry::from).collect(),
        }
    }
}

/// Version 4's layout, read and upgraded: its entries say nothing of damage.
#[derive(Deserialize)]
struct IndexV4 {
    root: PathBuf,
    provenance: Provenance,
    entries: Vec<EntryV4>,
}

/// An entry of versions 2 to 4: an [`Entry`] without `damage`.
#[derive(Deserialize)]
struct EntryV4 {
    path: String,
    size: u64,
    mtime_ns: i128,
    file: FileId,
    via_link: bool,
    width: u32,
    height: u32,
    feature_map: [u32; 2],
    raw: Vec<f32>,
}

impl From<EntryV4> for Entry {
    fn from(old: EntryV4) -> Self {
        Self {
            path: old.path,
            size: old.size,
            mtime_ns: old.mtime_ns,
            file: old.file,
            via_link: old.via_link,
            width: old.width,
            height: old.height,
            feature_map: old.feature_map,
            raw: old.raw,
            damage: None,
        }
    }
}

impl From<IndexV4> for Index {
    fn from(old: IndexV4) -> Self {
        Self {
            root: old.root,
            provenance: old.provenance,
            entries: old.entries.into_iter().map(Entry::from).collect(),
        }
    }
}

/// Version 3's layout, read and upgraded: every index before version 4 is SPoC.
#[derive(Deserialize)]
struct IndexV3 {
    root: PathBuf,
    provenance: ProvenanceV3,
    entries: Vec<EntryV4>,
}

#[derive(Deserialize)]
struct ProvenanceV3 {
    model_sha256: String,
    max_side: u32,
    network: Network,
}

impl From<ProvenanceV3> for Provenance {
    fn from(old: ProvenanceV3) -> Self {
        Self {
            model_sha256: old.model_sha256,
            max_side: old.max_side,
            network: old.network,
            pooling: Pooling::Spoc,
        }
    }
}

impl From<IndexV3> for Index {
    fn from(old: IndexV3) -> Self {
        IndexV4 {
            root: old.root,
            provenance: old.provenance.into(),
            entries: old.entries,
        }
        .into()
    }
}

/// Version 2's layout, read and upgraded: every version 2 index was made by VGG16.
#[derive(Deserialize)]
struct IndexV2 {
    root: PathBuf,
    provenance: ProvenanceV2,
    entries: Vec<EntryV4>,
}

#[derive(Deserialize)]
struct ProvenanceV2 {
    model_sha256: String,
    max_side: u32,
}

impl From<ProvenanceV2> for Provenance {
    fn from(old: ProvenanceV2) -> Self {
        ProvenanceV3 {
            model_sha256: old.model_sha256,
            max_side: old.max_side,
            network: Network::Vgg16,
        }
        .into()
    }
}

impl From<IndexV2> for Index {
    fn from(old: IndexV2) -> Self {
        IndexV4 {
            root: old.root,
            provenance: old.provenance.into(),
            entries: old.entries,
        }
        .into()
    }
}
