//! Duplicate groups you can trust: every photo proposed for removal matched its group's
//! keeper directly, and the match was verified against the photos around it.
//!
//! 1. **Candidates**: every pair closer than the rule's threshold, as the photos are or
//!    through a turned or enlarged view (blocked SGEMM, [`super::pairs_by_block`]).
//! 2. **Verification** ([`super::verify`]): each candidate pair is a copy only if it
//!    stands out from the photos' own scale and, with thumbnails, their detail agrees.
//! 3. **Groups without chains**: photos are taken best keeper first (the best file, then
//!    the one closest to the photos verified with it, then [`keeper_order`]); each
//!    keeper's group is the photos not yet taken that passed
//!    verification *with the keeper itself*. A photo that passed only with one of its
//!    copies is shown beside the group as similar, never as a copy.
//!
//! The evidence that a file may go is a [`VerifiedMatch`], which only [`Group`] (made
//! here) constructs; the clean-up accepts nothing else.

use std::cmp::Ordering as CmpOrdering;

use super::verify::{Check, Rule, Verifier};
use super::{GroupingError, Pair, Variant};
use crate::find::search::Database;
use crate::index::Control;
use crate::index::thumbnails::Thumbnail;
use crate::index::{Entry, Index, Indexed};

/// A photo of a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Its row in the index.
    pub row: usize,
    /// The file as it was indexed (what the clean-up checks on disk).
    pub file: Indexed,
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

    pub fn check(&self, i: usize, j: usize) -> &Check {
        &self.checks[i * self.members.len() + j]
    }

    /// Whether member `i` is a verified copy of the keeper: it may be proposed for removal.
    pub fn is_copy(&self, i: usize) -> bool {
        i < self.star && i != self.keeper && self.check(i, self.keeper).verified
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
        if allowed {
            self.keeper = i;
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
        let keeper = self.members[self.keeper].file.path.to_string_lossy();
        self.matches(|i| {
            let path = self.members[i].file.path.to_string_lossy();
            remove_raw_jpegs || !super::raw_jpeg_pair(&path, &keeper)
        })
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

/// The duplicate groups of `index`, whose descriptors are `rows` (L2-normalised, `dim`
/// wide, lined up with its entries) with the `views` (turned or enlarged descriptors,
/// lined up too): candidates under `rule`'s thresholds, verified, grouped around
/// keepers without chains, largest groups first. Stops early on `control.stop`, and
/// with [`GroupingError::TooManyPairs`] rather than keep more than `rule.max_pairs`
/// candidates.
pub fn find(
    index: &Index,
    rows: &[f32],
    dim: usize,
    views: &[(Variant, &[f32])],
    thumbnails: &[Option<Thumbnail>],
    rule: Rule,
    control: Control<'_>,
) -> Result<Vec<Group>, GroupingError> {
    let n = rows.len().checked_div(dim).unwrap_or(0);
    assert_eq!(n, index.entries.len(), "one row per entry");
    let (verifier, pairs) = Verifier::new(rows, dim, views, rule, control)?;
    let verifier = verifier.with_photos(index, thumbnails);
    verifier.compare_all(&pairs, control.stop_flag());
    if control.stopped() {
        return Err(GroupingError::Stopped);
    }
    Ok(group_verified(index, &verifier, &pairs))
}

/// [`find`] on finished descriptors: the library's `db` and the `views` lined up with
/// it (each a database of one variant of every photo).
pub fn find_in(
    index: &Index,
    db: &Database,
    views: &[(Variant, Database)],
    thumbnails: &[Option<Thumbnail>],
    rule: Rule,
    control: Control<'_>,
) -> Result<Vec<Group>, GroupingError> {
    let views: Vec<(Variant, &[f32])> = views.iter().map(|(v, d)| (*v, d.rows())).collect();
    find(
        index,
        db.rows(),
        db.dim(),
        &views,
        thumbnails,
        rule,
        control,
    )
}

/// Groups around keepers from the candidate `pairs` that `verifier` verifies.
fn group_verified(index: &Index, verifier: &Verifier, pairs: &[Pair]) -> Vec<Group> {
    let n = index.entries.len();
    let mut verified: Vec<Vec<usize>> = vec![Vec::new(); n];
    // How close each photo is to the photos verified with it: the sum of their
    // similarities (1 - distance).
    let mut closeness = vec![0.0f32; n];
    for p in pairs {
        let check = verifier.check(p.a, p.b);
        if check.verified {
            verified[p.a].push(p.b);
            verified[p.b].push(p.a);
            closeness[p.a] += 1.0 - check.distance;
            closeness[p.b] += 1.0 - check.distance;
        }
    }
    // Best keeper first: the best file, and among files of one quality (the same
    // resolution, both real files, neither a RAW) the one closest to the photos
    // verified with it: an original sits amid its edits, each of which moved away from
    // it its own way (a blurred copy may be verified with as many photos, by its
    // pixels, but from farther away).
    let mut order: Vec<usize> = (0..n).filter(|&r| !verified[r].is_empty()).collect();
    let quality = |r: usize| quality(&index.entries[r]);
    order.sort_by(|&a, &b| {
        quality(b)
            .cmp(&quality(a))
            .then(closeness[b].total_cmp(&closeness[a]))
            .then(keeper_order(b, a, &index.entries))
    });
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
        groups.push(group_of(index, verifier, &star, &similar));
    }
    groups.sort_by(|a, b| {
        b.star
            .cmp(&a.star)
            .then(a.members[0].row.cmp(&b.members[0].row))
    });
    groups
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
fn group_of(index: &Index, verifier: &Verifier, star: &[usize], similar: &[usize]) -> Group {
    let rows: Vec<usize> = star.iter().chain(similar).copied().collect();
    let checks = rows
        .iter()
        .flat_map(|&a| rows.iter().map(move |&b| verifier.check(a, b)))
        .collect();
    Group {
        members: rows
            .iter()
            .map(|&row| Member {
                row,
                file: Indexed::from_entry(index, &index.entries[row]),
            })
            .collect(),
        star: star.len(),
        keeper: 0,
        checks,
    }
}

/// How good a file is to keep, best greatest: a real file in the library (not reached
/// through a symbolic link), then a whole one (never a JPEG cut short kept over a whole
/// copy), then a camera RAW (never trashed in favour of a JPEG made from it), then the
/// highest resolution.
fn quality(e: &Entry) -> (bool, bool, bool, u64) {
    let raw = crate::read::raw::is_raw(std::path::Path::new(&e.path));
    let pixels = u64::from(e.width) * u64::from(e.height);
    (!e.via_link, e.damage.is_none(), raw, pixels)
}

/// Which of two photos is the better keeper (`Greater`: `a`): the better
/// [`quality`], then the largest file, then the oldest, then the first row.
pub fn keeper_order(a: usize, b: usize, entries: &[Entry]) -> CmpOrdering {
    let (ea, eb) = (&entries[a], &entries[b]);
    quality(ea)
        .cmp(&quality(eb))
        .then(ea.size.cmp(&eb.size))
        .then(eb.mtime_ns.cmp(&ea.mtime_ns))
        .then(b.cmp(&a))
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
