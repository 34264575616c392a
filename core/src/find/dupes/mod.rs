//! Near duplicates: candidate pairs of descriptors closer than a cosine-distance
//! threshold, found exactly without an N x N matrix in memory (similarities are
//! computed a block of rows against a chunk of columns at a time, each one SGEMM), then
//! verified and grouped around keepers without chains ([`groups`]); the turned and
//! enlarged variants that find rotated and downscaled copies, cached beside the index.

pub mod decisions;
mod groups;
pub mod keeper;
mod lists;
mod nearest;
mod pairs;
pub mod series;
mod shots;
mod verify;

pub use crate::find::views::{add_views, enlarged_views};
pub use crate::index::thumbnails::{
    PixelMatch, Thumbnail, Thumbnails, Turn, compare as compare_thumbnails, update_thumbnails,
};
pub use crate::index::variants::{
    Aligned, CACHE_EXTENSIONS, ENLARGE_BELOW, Variant, Variants, VariantsUpdate, update_variants,
    variant_cache_path,
};
pub use decisions::{Decision, Decisions, Verdict};
pub use groups::{
    Described, Found, Group, Kind, Member, Scores, Series, VerifiedMatch, find, find_in,
    keeper_order, scores,
};
pub use keeper::{KeepRule, Keeping, Reason};
pub use nearest::NEIGHBOURS;
pub(crate) use nearest::Neighbourhood;
pub(crate) use pairs::{Across, close_pairs_across_within, pairs_and_neighbourhood};
pub use pairs::{EXACT_UP_TO, Pair, Search, close_pairs, close_pairs_across};
pub use shots::{Shots, raw_jpeg_siblings};
pub use verify::{Check, PixelRule, Rule, Verifier, View};

/// Why a grouping ended without groups.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GroupingError {
    #[error("stopped")]
    Stopped,
}

/// Pairwise precision and recall of `groups` against true groups (`truth[row]` is the
/// row's true group label, `None` for a singleton).
pub fn pairwise_precision_recall(groups: &[Vec<usize>], truth: &[Option<u32>]) -> (f64, f64) {
    let same = |a: usize, b: usize| truth[a].is_some() && truth[a] == truth[b];
    let (mut predicted, mut correct) = (0u64, 0u64);
    for g in groups {
        for (i, &a) in g.iter().enumerate() {
            for &b in &g[i + 1..] {
                predicted += 1;
                correct += u64::from(same(a, b));
            }
        }
    }
    let mut sizes: std::collections::HashMap<u32, u64> = Default::default();
    for label in truth.iter().flatten() {
        *sizes.entry(*label).or_default() += 1;
    }
    let actual: u64 = sizes.values().map(|s| s * (s - 1) / 2).sum();
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    (ratio(correct, predicted), ratio(correct, actual))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe::pooling::Pooling;
    use crate::index::Control;
    use crate::index::{Entry, Index};
    use crate::support::safefs::FileId;
    use std::collections::HashMap;
    use std::path::PathBuf;

    /// Descriptors with no views.
    fn described(rows: &[f32], dim: usize) -> Described<'_> {
        Described {
            rows,
            dim,
            views: &[],
            unwhitening: None,
        }
    }

    /// A square photo of `w` pixels and `size` bytes (its own file: inode `size`).
    fn photo(path: &str, w: u32, size: u64) -> Entry {
        Entry {
            path: path.into(),
            size,
            mtime_ns: 0,
            file: FileId {
                device: 1,
                inode: size,
            },
            via_link: false,
            width: w,
            height: w,
            feature_map: [1, 1],
            raw: vec![],
            damage: None,
        }
    }

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    /// An index of `rows.len()` photos, the first the largest (the best keeper).
    fn library(n: usize) -> Index {
        let mut index = Index::new(
            PathBuf::from("/photos"),
            crate::index::Provenance {
                model_sha256: "ab".repeat(32),
                max_side: 1024,
                network: crate::describe::model::Network::Vgg16,
                pooling: Pooling::Rmac,
            },
        );
        index.entries = (0..n)
            .map(|i| {
                photo(
                    &format!("p{i:04}.jpg"),
                    1000 - i as u32 % 1000,
                    10 + i as u64,
                )
            })
            .collect();
        index
    }

    /// `n` random unit rows in `dim` dimensions (a fixed generator): unrelated photos.
    fn unrelated(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                let v: Vec<f32> = (0..dim)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
                    })
                    .collect();
                unit(&v)
            })
            .collect()
    }

    /// `v` moved towards `w` by `t` (then normalised).
    fn towards(v: &[f32], w: &[f32], t: f32) -> Vec<f32> {
        unit(
            &v.iter()
                .zip(w)
                .map(|(a, b)| a * (1.0 - t) + b * t)
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn a_chain_never_reaches_the_keeper() {
        let dim = 256;
        let mut rows = unrelated(40, dim, 7);
        // 0 <- 1 <- 2: 1 is close to 0, 2 close to 1, 2 far from 0.
        rows[1] = towards(&rows[0], &rows[30], 0.6);
        rows[2] = towards(&rows[1], &rows[31], 0.6);
        let index = library(rows.len());
        let flat = rows.concat();
        let rule = Rule {
            threshold: 0.5,
            turned: 0.2,
            spin: 1.0,
            raw: f32::INFINITY,
            ratio: 0.6,
            crowd: 1,
            pixels: None,
        };
        let distance = |a: usize, b: usize| {
            1.0 - rows[a]
                .iter()
                .zip(&rows[b])
                .map(|(x, y)| x * y)
                .sum::<f32>()
        };
        assert!(distance(0, 1) < 0.47 && distance(1, 2) < 0.47, "a chain");
        assert!(distance(0, 2) > rule.threshold, "the far end");
        let groups = find(
            &index,
            described(&flat, dim),
            &[],
            rule,
            &Keeping::default(),
            Control::unattended(),
        )
        .unwrap()
        .groups;
        let rows_of = |g: &Group| -> Vec<usize> {
            std::iter::once(g.keeper())
                .chain(g.copies())
                .map(|i| g.members()[i].row)
                .collect()
        };
        // Every proposed copy was verified with its keeper directly.
        for g in &groups {
            for i in g.copies() {
                assert!(g.check(i, g.keeper()).verified);
            }
            let keeper = &g.members()[g.keeper()].file;
            assert!(
                g.matches(|_| true)
                    .iter()
                    .all(|m| m.keeper() == keeper && m.file() != keeper)
            );
        }
        let all: Vec<Vec<usize>> = groups.iter().map(rows_of).collect();
        // 2 is never a copy of keeper 0: it is only similar (verified with 1).
        let first = &groups[0];
        assert_eq!(first.members()[first.keeper()].row, 0);
        assert_eq!(rows_of(first), [0, 1], "{all:?}");
        let similar: Vec<usize> = first.similar().map(|i| first.members()[i].row).collect();
        assert!(similar.contains(&2), "{similar:?}");
        // Keeping 1 instead: 0 is its copy; 2 was not taken for this group, so it stays
        // similar, never a copy, whoever is kept.

        let mut rekeyed = first.clone();
        assert!(rekeyed.set_keeper(1));
        assert_eq!(
            rekeyed
                .copies()
                .map(|i| rekeyed.members()[i].row)
                .collect::<Vec<_>>(),
            [0]
        );
        assert!(
            !rekeyed.set_keeper(2),
            "a similar photo cannot be the keeper"
        );
    }

    #[test]
    fn scores_what_would_move() {
        // Keeper 0 with copies 1 and 2 (2 is no true copy), 3 only similar; truth:
        // {0, 1, 3} and {2, 4}.
        let group = Group::for_test(&["a", "b", "c", "d"], 3, &[(0, 1), (0, 2), (1, 3)]);
        let truth = [Some(0), Some(0), Some(1), Some(0), Some(1)];
        let s = scores(&[group], &truth);
        assert_eq!((s.proposed, s.wrong), (2, 1));
        assert_eq!(s.move_precision, 0.5);
        // True copies: 2 of {0, 1, 3}, 1 of {2, 4}; 1 moved right.
        assert!((s.move_recall - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn scores_pairs() {
        let groups = [vec![0, 1, 2], vec![4, 5]];
        // Truth: {0,1,2,3} and {4,5}; 6 alone. Predicted pairs: 3 + 1, all correct;
        // true pairs: 6 + 1.
        let truth = [Some(0), Some(0), Some(0), Some(0), Some(1), Some(1), None];
        let (p, r) = pairwise_precision_recall(&groups, &truth);
        assert_eq!(p, 1.0);
        assert!((r - 4.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn keeper_prefers_resolution_then_size_then_age() {
        let entry = |w: u32, size: u64, mtime_ns: i128| Entry {
            mtime_ns,
            ..photo("", w, size)
        };
        let entries = [
            entry(100, 5, 0),
            entry(200, 1, 0),
            entry(200, 3, 9),
            entry(200, 3, 2),
        ];
        // The best keeper of `rows`.
        let suggest_keeper = |rows: &[usize], entries: &[Entry]| {
            rows.iter()
                .copied()
                .max_by(|&a, &b| keeper_order(a, b, entries))
                .unwrap()
        };
        assert_eq!(suggest_keeper(&[0, 1, 2, 3], &entries), 3);
        assert_eq!(suggest_keeper(&[0, 1], &entries), 1);
        // A path through a symbolic link is never preferred to a real file.
        let mut linked = entries.to_vec();
        linked[3].via_link = true;
        assert_eq!(suggest_keeper(&[0, 1, 2, 3], &linked), 2);
        linked.iter_mut().for_each(|e| e.via_link = true);
        linked[0].via_link = false;
        assert_eq!(suggest_keeper(&[0, 1, 2, 3], &linked), 0);
        // Issue 25: a JPEG cut short is never kept over a whole copy, whatever its
        // resolution or size (the cut file is the larger: its tail is zeros).
        let mut cut = entries.to_vec();
        cut[3].damage = Some(crate::read::Damage::CutShort { zeros: 4096 });
        cut[3].size = 99;
        assert_eq!(suggest_keeper(&[0, 1, 2, 3], &cut), 2);
        assert_eq!(suggest_keeper(&[0, 3], &cut), 0);
    }

    #[test]
    fn a_raw_is_kept_over_its_jpeg_and_the_pair_stays_unless_asked() {
        let entry = photo;
        // The camera's JPEG is as large as its RAW preview; an edited export is larger.
        let entries = [
            entry("trip/IMG_1.JPG", 1620, 9),
            entry("trip/IMG_1.CR3", 1620, 2),
            entry("export/IMG_1.jpg", 4000, 7),
        ];
        let keeper = (0..3)
            .max_by(|&a, &b| keeper_order(a, b, &entries))
            .unwrap();
        assert_eq!(keeper, 1, "the RAW is kept");
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        let mut group = Group::for_test(&paths, 3, &[(0, 1), (0, 2), (1, 2)]);
        assert!(group.set_keeper(keeper));
        let moved = |remove_raw_jpegs| -> Vec<String> {
            group
                .all_but_the_keeper(remove_raw_jpegs)
                .iter()
                .map(|m| m.file().path.display().to_string())
                .collect()
        };
        assert_eq!(moved(false), ["export/IMG_1.jpg"]);
        assert_eq!(moved(true), ["trip/IMG_1.JPG", "export/IMG_1.jpg"]);
        // The app shows the camera's pair as one photo: the JPEG's row points at its RAW.
        assert_eq!(raw_jpeg_siblings(&entries), HashMap::from([(0, 1)]));
    }

    #[test]
    fn a_threshold_that_matches_everything_keeps_each_photos_nearest() {
        // 2,000 identical rows: 1,999,000 pairs under any threshold (it was an error past
        // two million: a library of one kind of picture reaches that at a few tens of
        // thousands of photos under the loosest threshold).
        let dim = 8;
        let rows: Vec<f32> = (0..2000).flat_map(|_| unit(&[1.0; 8])).collect();
        let control = Control::unattended();
        let rule = |threshold| Rule {
            threshold,
            turned: 0.2,
            spin: 1.0,
            raw: f32::INFINITY,
            ratio: 1.0,
            crowd: 0,
            pixels: None,
        };
        let (_, pairs) = Verifier::new(described(&rows, dim), rule(1.0), control).unwrap();
        assert!(pairs.len() <= 2000 * NEIGHBOURS, "{} pairs", pairs.len());
        assert!(
            pairs.len() >= 2000 * NEIGHBOURS / 2,
            "{} pairs",
            pairs.len()
        );
        let index = library(2000);
        let keeping = Keeping::default();
        let found = find(
            &index,
            described(&rows, dim),
            &[],
            rule(1.0),
            &keeping,
            control,
        );
        let groups = found.unwrap().groups;
        // Every removable photo matched its keeper; none is in two groups.
        let mut seen = std::collections::HashSet::new();
        for group in &groups {
            for copy in group.copies() {
                assert!(group.check(copy, group.keeper()).verified);
                assert!(seen.insert(group.members()[copy].row));
            }
        }
        // As many identical photos as a photo keeps neighbours: one group around the best.
        let small = library(NEIGHBOURS + 1);
        let groups = find(
            &small,
            described(&rows[..(NEIGHBOURS + 1) * dim], dim),
            &[],
            rule(1.0),
            &keeping,
            control,
        )
        .unwrap()
        .groups;
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].copies().count(), NEIGHBOURS);
        // A stop request ends it.
        let stop = std::sync::atomic::AtomicBool::new(true);
        let control = Control::stop_only(&stop);
        let error = find(
            &index,
            described(&rows, dim),
            &[],
            rule(0.5),
            &keeping,
            control,
        )
        .unwrap_err();
        assert_eq!(error, GroupingError::Stopped);
    }
}
