//! Duplicate groups you can trust: every photo proposed for removal matched its group's
//! keeper directly, and the match was verified against the photos around it.
//!
//! 1. **Candidates**: every pair closer than the rule's threshold, as the photos are or
//!    through a turned or enlarged view (blocked SGEMM, [`super::pairs_by_block`]).
//! 2. **Verification** ([`super::verify`]): each candidate pair is a copy only if it
//!    stands out from the photos' own scale and, with thumbnails, their detail agrees.
//! 3. **Two exposures are never copies** ([`super::series`]): a pair whose EXIF proves
//!    two exposures is no copy, whatever its pixels; frames of one burst become a
//!    [`Series`], shown apart and never proposed.
//! 4. **Groups without chains**: photos are taken best keeper first (by the user's
//!    [`Keeping`] rules); each keeper's group is the photos not yet taken that passed
//!    verification *with the keeper itself*. A photo that passed only with one of its
//!    copies is shown beside the group as similar, never as a copy; a photo in a
//!    protected folder is never a copy.
//!
//! The evidence that a file may go is a [`VerifiedMatch`], which only [`Group`] (made
//! here) constructs; the clean-up accepts nothing else.

use std::cmp::Ordering as CmpOrdering;

use super::keeper::{self, Facts, KeepRule, Keeping, Reason};
use super::series::{Taking, taking};
use super::verify::{Check, Rule, Verifier};
use super::{GroupingError, Pair, Variant};
use crate::find::search::Database;
use crate::index::Control;
use crate::index::thumbnails::Thumbnail;
use crate::index::{Entry, Index, Indexed};
use crate::read::exif::Shot;

/// A photo of a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Its row in the index.
    pub row: usize,
    /// The file as it was indexed (what the clean-up checks on disk).
    pub file: Indexed,
    /// What its EXIF says (camera, capture time, software).
    pub shot: Shot,
    /// In a protected folder: never a copy that may go.
    pub protected: bool,
    /// Members with the same `bytes` have the same content byte for byte.
    pub bytes: usize,
}

/// What a group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Every copy has the keeper's bytes: the same file twice.
    IdenticalFiles,
    /// The same photo re-saved, resized, turned, cropped or recoloured.
    SamePhoto,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::IdenticalFiles => "identical files",
            Self::SamePhoto => "the same photo",
        }
    }
}

/// Frames of one burst (or a few tries of one shot): one camera body, seconds apart,
/// each its own exposure ([`super::series`]). Never proposed for removal.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// By capture time, then path.
    pub members: Vec<Member>,
}

impl Series {
    /// Seconds from the first frame to the last, where their capture times are known.
    pub fn seconds(&self) -> Option<f64> {
        let first = self.members.first()?.shot.taken?;
        let last = self.members.last()?.shot.taken?;
        Some(first.seconds_to(&last))
    }

    /// Each frame's seconds after the first, where both capture times are known.
    pub fn offsets(&self) -> Vec<Option<f64>> {
        let first = self.members.first().and_then(|m| m.shot.taken);
        self.members
            .iter()
            .map(|m| Some(first?.seconds_to(&m.shot.taken?)))
            .collect()
    }
}

/// What the duplicate finder found: groups of copies around keepers, and series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub groups: Vec<Group>,
    pub series: Vec<Series>,
}

/// A group of copies around a keeper, with the photos similar to them beside it.
///
/// `members[..star]` were taken for this group: the keeper first found and the photos
/// verified with it; only they can be its keeper. `members[star..]` are similar (verified
/// with a member, not with the keeper found): never copies, whoever is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    members: Vec<Member>,
    star: usize,
    keeper: usize,
    /// Why the keeper is kept.
    reason: Reason,
    /// `checks[i * n + j]`: the verification of members `i` and `j`.
    checks: Vec<Check>,
}

impl Group {
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Index into [`Self::members`] of the photo kept.
    pub fn keeper(&self) -> usize {
        self.keeper
    }

    /// Why the keeper is kept.
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// Identical files when every copy has the keeper's bytes, else the same photo.
    pub fn kind(&self) -> Kind {
        let keeper = self.members[self.keeper].bytes;
        let mut copies = self.copies().peekable();
        if copies.peek().is_some() && copies.all(|i| self.members[i].bytes == keeper) {
            Kind::IdenticalFiles
        } else {
            Kind::SamePhoto
        }
    }

    pub fn check(&self, i: usize, j: usize) -> &Check {
        &self.checks[i * self.members.len() + j]
    }

    /// Whether member `i` is a verified copy of the keeper: it may be proposed for
    /// removal. Never a file in a protected folder.
    pub fn is_copy(&self, i: usize) -> bool {
        i < self.star
            && i != self.keeper
            && !self.members[i].protected
            && self.check(i, self.keeper).verified
    }

    /// Whether member `i` may become the keeper (one of the photos taken for this group).
    pub fn may_keep(&self, i: usize) -> bool {
        i < self.star
    }

    /// The verified copies of the keeper.
    pub fn copies(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.members.len()).filter(|&i| self.is_copy(i))
    }

    /// The members shown apart: similar to a copy, not verified with the photo kept.
    pub fn similar(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.members.len()).filter(|&i| i != self.keeper && !self.is_copy(i))
    }

    /// Keeps member `i` instead (one that [`Self::may_keep`]): every member is then a
    /// copy only if its own check with `i` verified it; the others become similar.
    pub fn set_keeper(&mut self, i: usize) -> bool {
        let allowed = self.may_keep(i);
        if allowed && i != self.keeper {
            self.keeper = i;
            self.reason = Reason::Chosen;
        }
        allowed
    }

    /// A group of files at `paths` (the first `star` taken for it, the first one kept)
    /// whose verified pairs are `verified`, for unit tests of the views that show groups
    /// (the app's duplicates review, in another crate). It makes evidence up, so it
    /// exists only in builds with debug assertions (tests, `cargo run`), never in a
    /// release build (`cargo install`), where only the finder makes groups.
    #[cfg(debug_assertions)]
    #[doc(hidden)]
    pub fn for_test(paths: &[&str], star: usize, verified: &[(usize, usize)]) -> Self {
        let n = paths.len();
        let members = paths
            .iter()
            .enumerate()
            .map(|(row, path)| Member {
                row,
                file: Indexed {
                    path: path.into(),
                    size: 1,
                    mtime_ns: 0,
                    file: crate::support::safefs::FileId {
                        device: 1,
                        inode: row as u64,
                    },
                },
                shot: Shot::default(),
                protected: false,
                bytes: row,
            })
            .collect();
        let checks = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                let ok = verified.contains(&(i, j)) || verified.contains(&(j, i));
                Check {
                    distance: if ok { 0.1 } else { 0.4 },
                    view: super::View::AsIs,
                    limit: 0.48,
                    spin: Some(0.6),
                    spin_limit: 1.0,
                    raw: None,
                    raw_limit: 0.7,
                    crowd: 0,
                    ratio: 0.6,
                    crowd_limit: 2,
                    pixels: None,
                    detail_limit: 0.0,
                    cells_limit: 0.0,
                    verified: ok,
                }
            })
            .collect();
        Self {
            members,
            star,
            keeper: 0,
            reason: Reason::Rule(KeepRule::Closest),
            checks,
        }
    }

    /// The evidence that lets the clean-up move the copies `wanted` picks (the others,
    /// the keeper and the similar photos are never in it).
    pub fn matches(&self, wanted: impl Fn(usize) -> bool) -> Vec<VerifiedMatch> {
        self.copies()
            .filter(|&i| wanted(i))
            .map(|i| VerifiedMatch {
                file: self.members[i].file.clone(),
                keeper: self.members[self.keeper].file.clone(),
                check: *self.check(i, self.keeper),
            })
            .collect()
    }

    /// "All but the keeper": the matches of every copy, but by default not the JPEG a
    /// camera wrote beside a RAW that is kept (the pair is one photo); with
    /// `remove_raw_jpegs` ("keep RAW, remove the JPEG copies") that JPEG too.
    pub fn all_but_the_keeper(&self, remove_raw_jpegs: bool) -> Vec<VerifiedMatch> {
        self.matches(|i| remove_raw_jpegs || !self.is_keepers_pair(i))
    }

    /// Whether member `i` and the keeper are one shot the camera wrote as a RAW and a
    /// JPEG ([`super::series::camera_pair`]: by name in one folder, by EXIF across
    /// folders).
    pub fn is_keepers_pair(&self, i: usize) -> bool {
        let (member, keeper) = (&self.members[i], &self.members[self.keeper]);
        i != self.keeper
            && super::series::camera_pair(
                (&member.file.path, &member.shot),
                (&keeper.file.path, &keeper.shot),
            )
    }
}

/// The evidence that `file` is a copy of `keeper`: they passed verification together.
/// Only [`Group::matches`] makes one; [`crate::cleanup`] moves nothing without it. Code
/// outside the finder cannot forge one:
///
/// ```compile_fail,E0451
/// # fn forge(file: lookalike_core::index::Indexed, keeper: lookalike_core::index::Indexed,
/// #     check: lookalike_core::find::dupes::Check) -> lookalike_core::find::dupes::VerifiedMatch {
/// lookalike_core::find::dupes::VerifiedMatch { file, keeper, check } // private fields: no
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedMatch {
    file: Indexed,
    keeper: Indexed,
    check: Check,
}

impl VerifiedMatch {
    /// The copy that may go.
    pub fn file(&self) -> &Indexed {
        &self.file
    }

    /// The photo that stays.
    pub fn keeper(&self) -> &Indexed {
        &self.keeper
    }

    pub fn check(&self) -> &Check {
        &self.check
    }

    /// A match taken as verified, for the clean-up's own unit tests.
    #[cfg(test)]
    pub(crate) fn assumed(file: Indexed, keeper: Indexed) -> Self {
        let check = Check {
            distance: 0.0,
            view: super::View::AsIs,
            limit: 1.0,
            spin: None,
            spin_limit: 1.0,
            raw: None,
            raw_limit: 1.0,
            crowd: 0,
            ratio: 1.0,
            crowd_limit: 0,
            pixels: None,
            detail_limit: 0.0,
            cells_limit: 0.0,
            verified: true,
        };
        Self {
            file,
            keeper,
            check,
        }
    }
}

/// The most similar photos shown beside one group.
const MAX_SIMILAR: usize = 12;

/// The library's descriptors as the finder reads them: `rows` (L2-normalised, `dim`
/// wide, lined up with the index's entries), the `views` (turned or enlarged
/// descriptors, lined up too), and, when they were whitened, the whitening's
/// [`unwhitening`](crate::Whitening::unwhitening) (a large library's pair search
/// clusters them as they were before it).
#[derive(Debug, Clone, Copy)]
pub struct Described<'a> {
    pub rows: &'a [f32],
    pub dim: usize,
    pub views: &'a [(Variant, &'a [f32])],
    pub unwhitening: Option<&'a [f32]>,
}

/// The duplicate groups and series of `index`, whose descriptors are `described`:
/// candidates under `rule`'s thresholds, verified, told apart by their EXIF (two
/// exposures are never copies), grouped around keepers chosen by `keeping` without
/// chains, largest groups first. Stops early on `control.stop`. The candidates are
/// each photo's nearest under the thresholds ([`NEIGHBOURS`](super::NEIGHBOURS) of them
/// at most), so the memory they take grows with the library, not with its square.
pub fn find(
    index: &Index,
    described: Described<'_>,
    thumbnails: &[Option<Thumbnail>],
    rule: Rule,
    keeping: &Keeping,
    control: Control<'_>,
) -> Result<Found, GroupingError> {
    let n = described.rows.len().checked_div(described.dim).unwrap_or(0);
    assert_eq!(n, index.entries.len(), "one row per entry");
    let (verifier, pairs) = Verifier::new(described, rule, control)?;
    let verifier = verifier.with_photos(index, thumbnails);
    verifier.compare_all(&pairs, control.stop_flag());
    let photos = Photos::new(index, &pairs, keeping, control);
    if control.stopped() {
        return Err(GroupingError::Stopped);
    }
    Ok(group_verified(&photos, &verifier, &pairs))
}

/// [`find`] on finished descriptors: the library's `db` and the `views` lined up with
/// it (each a database of one variant of every photo).
pub fn find_in(
    index: &Index,
    db: &Database,
    views: &[(Variant, Database)],
    thumbnails: &[Option<Thumbnail>],
    rule: Rule,
    keeping: &Keeping,
    control: Control<'_>,
) -> Result<Found, GroupingError> {
    let views: Vec<(Variant, &[f32])> = views.iter().map(|(v, d)| (*v, d.rows())).collect();
    let described = Described {
        rows: db.rows(),
        dim: db.dim(),
        views: &views,
        unwhitening: db.unwhitening(),
    };
    find(index, described, thumbnails, rule, keeping, control)
}

/// The EXIF of every photo in a candidate pair at `paths` (the others stay unknown),
/// read on all cores; what is left unread when `control` stops stays unknown too.
fn read_shots(paths: &[std::path::PathBuf], pairs: &[Pair], control: Control<'_>) -> Vec<Shot> {
    use rayon::prelude::*;
    let mut wanted = vec![false; paths.len()];
    for p in pairs {
        wanted[p.a] = true;
        wanted[p.b] = true;
    }
    paths
        .par_iter()
        .zip(wanted)
        .map(|(path, wanted)| match wanted && !control.stopped() {
            true => crate::read::exif::read(path),
            false => Shot::default(),
        })
        .collect()
}

/// The photos as the grouping sees them: their paths, EXIF and keeper facts.
struct Photos<'a> {
    index: &'a Index,
    paths: Vec<std::path::PathBuf>,
    shots: Vec<Shot>,
    facts: Vec<Facts>,
    order: Vec<KeepRule>,
    keeping: &'a Keeping,
}

impl<'a> Photos<'a> {
    /// The photos of `index`, the EXIF of those in `pairs` read.
    fn new(index: &'a Index, pairs: &[Pair], keeping: &'a Keeping, control: Control<'_>) -> Self {
        let paths: Vec<_> = index.entries.iter().map(|e| index.absolute(e)).collect();
        let shots = read_shots(&paths, pairs, control);
        let facts = index
            .entries
            .iter()
            .zip(&paths)
            .zip(&shots)
            .map(|((entry, path), shot)| keeping.facts(path, entry, shot))
            .collect();
        Self {
            index,
            paths,
            shots,
            facts,
            order: keeping.order(),
            keeping,
        }
    }

    /// How rows `a` and `b` were taken, as their EXIF tells.
    fn taking(&self, a: usize, b: usize) -> Taking {
        taking(
            &self.shots[a],
            &self.paths[a],
            &self.shots[b],
            &self.paths[b],
        )
    }

    /// Whether the user decided that rows `a` and `b` stay apart.
    fn decided_apart(&self, a: usize, b: usize) -> bool {
        let entries = &self.index.entries;
        self.keeping
            .decided_apart(&entries[a].path, &entries[b].path)
    }

    /// Which of rows `a` and `b` is the better keeper, and why.
    fn compare(&self, a: usize, b: usize, closeness: &[f32]) -> (CmpOrdering, Reason) {
        keeper::compare(
            &self.order,
            (&self.facts[a], closeness[a], a),
            (&self.facts[b], closeness[b], b),
        )
    }

    fn member(&self, row: usize) -> Member {
        Member {
            row,
            file: Indexed::from_entry(self.index, &self.index.entries[row]),
            shot: self.shots[row].clone(),
            protected: self.facts[row].protected,
            bytes: row,
        }
    }
}

/// Groups around keepers from the candidate `pairs` that `verifier` verifies, and the
/// series among them.
fn group_verified(photos: &Photos<'_>, verifier: &Verifier, pairs: &[Pair]) -> Found {
    let n = photos.index.entries.len();
    let mut verified: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut frames: Vec<(usize, usize)> = Vec::new();
    // How close each photo is to the photos verified with it: the sum of their
    // similarities (1 - distance).
    let mut closeness = vec![0.0f32; n];
    for p in pairs.iter().filter(|p| !photos.decided_apart(p.a, p.b)) {
        match photos.taking(p.a, p.b) {
            Taking::Series => frames.push((p.a, p.b)),
            Taking::Apart => {}
            Taking::Unknown => {
                let check = verifier.check(p.a, p.b);
                if check.verified {
                    verified[p.a].push(p.b);
                    verified[p.b].push(p.a);
                    closeness[p.a] += 1.0 - check.distance;
                    closeness[p.b] += 1.0 - check.distance;
                }
            }
        }
    }
    // Best keeper first, by the user's rules.
    let mut order: Vec<usize> = (0..n).filter(|&r| !verified[r].is_empty()).collect();
    order.sort_by(|&a, &b| photos.compare(b, a, &closeness).0);
    let mut taken = vec![false; n];
    let mut groups = Vec::new();
    for &keeper in &order {
        if taken[keeper] {
            continue;
        }
        let mut star: Vec<usize> = verified[keeper]
            .iter()
            .copied()
            .filter(|&r| !taken[r])
            .collect();
        if star.is_empty() {
            continue;
        }
        star.sort_unstable();
        star.insert(0, keeper);
        for &r in &star {
            taken[r] = true;
        }
        let similar = similar_to_members(verifier, &verified, &star);
        let mut group = group_of(photos, verifier, &star, &similar);
        group.reason = star[1..]
            .iter()
            .map(|&rival| (rival, photos.compare(keeper, rival, &closeness).1))
            .max_by(|x, y| photos.compare(x.0, y.0, &closeness).0)
            .map_or(Reason::Alone, |(_, reason)| reason);
        groups.push(group);
    }
    groups.sort_by(|a, b| {
        b.star
            .cmp(&a.star)
            .then(a.members[0].row.cmp(&b.members[0].row))
    });
    Found {
        groups,
        series: series_of(photos, &frames),
    }
}

/// The series that the frame pairs make (one burst: every frame linked to another),
/// each by capture time.
fn series_of(photos: &Photos<'_>, frames: &[(usize, usize)]) -> Vec<Series> {
    let mut parent: std::collections::HashMap<usize, usize> = Default::default();
    // Union-find with path halving (no recursion, however long a burst).
    fn root(parent: &mut std::collections::HashMap<usize, usize>, mut r: usize) -> usize {
        loop {
            let p = *parent.entry(r).or_insert(r);
            if p == r {
                return r;
            }
            let grand = *parent.entry(p).or_insert(p);
            parent.insert(r, grand);
            r = grand;
        }
    }
    for &(a, b) in frames {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent.insert(ra.max(rb), ra.min(rb));
    }
    let mut sets: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    let rows: Vec<usize> = parent.keys().copied().collect();
    for r in rows {
        let top = root(&mut parent, r);
        sets.entry(top).or_default().push(r);
    }
    sets.into_values()
        .map(|mut rows| {
            rows.sort_by_key(|&r| (photos.shots[r].taken, r));
            Series {
                members: rows.into_iter().map(|r| photos.member(r)).collect(),
            }
        })
        .collect()
}

/// The photos verified with a member of `star` (its keeper first) that are not
/// members, the closest to the keeper first, at most [`MAX_SIMILAR`].
fn similar_to_members(verifier: &Verifier, verified: &[Vec<usize>], star: &[usize]) -> Vec<usize> {
    let keeper = star[0];
    let mut similar: Vec<(f32, usize)> = Vec::new();
    for &member in star {
        for &other in &verified[member] {
            if !star.contains(&other) && !similar.iter().any(|&(_, s)| s == other) {
                similar.push((verifier.check(keeper, other).distance, other));
            }
        }
    }
    similar.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    similar.truncate(MAX_SIMILAR);
    similar.into_iter().map(|(_, r)| r).collect()
}

/// The group of `star` (keeper first) and the photos `similar` to its members, with
/// the evidence between every two of them.
fn group_of(photos: &Photos<'_>, verifier: &Verifier, star: &[usize], similar: &[usize]) -> Group {
    let rows: Vec<usize> = star.iter().chain(similar).copied().collect();
    let checks = rows
        .iter()
        .flat_map(|&a| rows.iter().map(move |&b| verifier.check(a, b)))
        .collect();
    let mut members: Vec<Member> = rows.iter().map(|&row| photos.member(row)).collect();
    same_bytes(&mut members);
    Group {
        members,
        star: star.len(),
        keeper: 0,
        reason: Reason::Alone,
        checks,
    }
}

/// Gives members with the same content the same [`Member::bytes`]: files of one size
/// compared byte for byte (a file that cannot be read is its own).
fn same_bytes(members: &mut [Member]) {
    for i in 0..members.len() {
        members[i].bytes = i;
        for j in 0..i {
            let (a, b) = (&members[j].file, &members[i].file);
            if members[j].bytes == j
                && a.size == b.size
                && same_content(&a.path, &b.path).unwrap_or(false)
            {
                members[i].bytes = j;
                break;
            }
        }
    }
}

/// Whether the files at `a` and `b` hold the same bytes (read 64 KiB at a time).
fn same_content(a: &std::path::Path, b: &std::path::Path) -> std::io::Result<bool> {
    let (mut fa, mut fb) = (std::fs::File::open(a)?, std::fs::File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let got = read_full(&mut fa, &mut ba)?;
        if got != read_full(&mut fb, &mut bb)? || ba[..got] != bb[..got] {
            return Ok(false);
        }
        if got == 0 {
            return Ok(true);
        }
    }
}

/// Fills `buf` from `r` as far as the file goes; the count read.
fn read_full(r: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..])? {
            0 => break,
            k => got += k,
        }
    }
    Ok(got)
}

/// Which of two photos is the better keeper (`Greater`: `a`) by the default rules,
/// from what the index knows alone (no EXIF, no folders, no closeness).
pub fn keeper_order(a: usize, b: usize, entries: &[Entry]) -> CmpOrdering {
    let keeping = Keeping::default();
    let facts = |e: &Entry| keeping.facts(std::path::Path::new(&e.path), e, &Shot::default());
    let (fa, fb) = (facts(&entries[a]), facts(&entries[b]));
    keeper::compare(&keeping.order(), (&fa, 0.0, a), (&fb, 0.0, b)).0
}

/// Pairwise precision and recall of `groups` (their copies and keepers: what would be
/// merged) against true groups, and move precision and recall: of the copies proposed
/// for removal, how many are true copies of their keeper, and of all true copies (every
/// member of a true group but one), how many are proposed. `truth[row]` is the row's
/// true group label, `None` for a photo with no copy.
pub fn scores(groups: &[Group], truth: &[Option<u32>]) -> Scores {
    let same = |a: usize, b: usize| truth[a].is_some() && truth[a] == truth[b];
    let clusters: Vec<Vec<usize>> = groups
        .iter()
        .map(|g| {
            std::iter::once(g.keeper)
                .chain(g.copies())
                .map(|i| g.members[i].row)
                .collect()
        })
        .collect();
    let (precision, recall) = super::pairwise_precision_recall(&clusters, truth);
    let mut sizes: std::collections::HashMap<u32, usize> = Default::default();
    for label in truth.iter().flatten() {
        *sizes.entry(*label).or_default() += 1;
    }
    let true_copies: usize = sizes.values().map(|s| s - 1).sum();
    let (mut proposed, mut correct) = (0, 0);
    for g in groups {
        let keeper = g.members[g.keeper].row;
        for i in g.copies() {
            proposed += 1;
            correct += usize::from(same(g.members[i].row, keeper));
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    Scores {
        pairwise_precision: precision,
        pairwise_recall: recall,
        proposed,
        wrong: proposed - correct,
        move_precision: ratio(correct, proposed),
        move_recall: ratio(correct, true_copies),
    }
}

/// How well groups match the truth ([`scores`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub pairwise_precision: f64,
    pub pairwise_recall: f64,
    /// Files proposed for removal, and how many of them are not copies of their keeper.
    pub proposed: usize,
    pub wrong: usize,
    pub move_precision: f64,
    pub move_recall: f64,
}
