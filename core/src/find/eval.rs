//! Retrieval quality under the two published protocols.
//!
//! * Oxford buildings (Philbin et al. 2007; also Paris 6k and `neardup-dev`): each
//!   `<q>_query.txt` names an image and a box; `<q>_good.txt` and `<q>_ok.txt` are the
//!   positives, `<q>_junk.txt` images are skipped in the ranking; AP is the trapezoid
//!   rule of the original `compute_ap.cpp`; mAP is the mean over queries.
//! * Categories: every image queries all the others; precision and recall at `k` are
//!   averaged per class, then over classes; mAP is over the full ranking.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::find::search::{Database, Metric};
use crate::read::imaging::CropBox;
use crate::support::error::{Error, Result};

/// One query of an Oxford-format ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct OxfordQuery {
    /// The query's name (`all_souls_1`).
    pub name: String,
    /// The query image, without extension (`all_souls_000013`).
    pub image: String,
    pub crop: CropBox,
    pub positives: HashSet<String>,
    pub junk: HashSet<String>,
}

/// Reads every `<q>_query.txt` of an Oxford-format ground-truth folder, sorted by name.
/// Image names lose the `oxc1_` prefix of the Oxford 5k query files.
pub fn load_oxford_ground_truth(dir: &Path) -> Result<Vec<OxfordQuery>> {
    let read = |path: &Path| std::fs::read_to_string(path).map_err(|e| Error::io(path, e));
    let list = |name: &str, kind: &str| -> Result<HashSet<String>> {
        let path = dir.join(format!("{name}_{kind}.txt"));
        Ok(read(&path)?
            .split_whitespace()
            .map(str::to_string)
            .collect())
    };
    let mut queries = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix("_query.txt"))
        else {
            continue;
        };
        let text = read(&path)?;
        let fields: Vec<&str> = text.split_whitespace().collect();
        let bad = || Error::Invalid(format!("{}: expected `image x1 y1 x2 y2`", path.display()));
        let [image, x1, y1, x2, y2] = fields[..] else {
            return Err(bad());
        };
        let coords: Vec<f64> = [x1, y1, x2, y2]
            .iter()
            .map(|v| v.parse().map_err(|_| bad()))
            .collect::<Result<_>>()?;
        let mut positives = list(name, "good")?;
        positives.extend(list(name, "ok")?);
        queries.push(OxfordQuery {
            name: name.to_string(),
            image: image.strip_prefix("oxc1_").unwrap_or(image).to_string(),
            crop: CropBox::new(coords[0], coords[1], coords[2], coords[3])?,
            positives,
            junk: list(name, "junk")?,
        });
    }
    if queries.is_empty() {
        return Err(Error::Invalid(format!(
            "no *_query.txt files in {}",
            dir.display()
        )));
    }
    queries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(queries)
}

/// Average precision of a ranking as `compute_ap.cpp` computes it: junk images are
/// skipped, precision is interpolated linearly between recall steps (trapezoids).
pub fn oxford_average_precision<'a>(
    ranked: impl IntoIterator<Item = &'a str>,
    positives: &HashSet<String>,
    junk: &HashSet<String>,
) -> f64 {
    if positives.is_empty() {
        return 0.0;
    }
    let (mut ap, mut old_recall, mut old_precision) = (0.0, 0.0, 1.0);
    let (mut hits, mut rank) = (0usize, 0usize);
    for name in ranked {
        if junk.contains(name) {
            continue;
        }
        if positives.contains(name) {
            hits += 1;
        }
        let recall = hits as f64 / positives.len() as f64;
        let precision = hits as f64 / (rank + 1) as f64;
        ap += (recall - old_recall) * (old_precision + precision) / 2.0;
        (old_recall, old_precision) = (recall, precision);
        rank += 1;
        if hits == positives.len() {
            break;
        }
    }
    ap
}

/// Oxford-protocol result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OxfordResult {
    pub map: f64,
    pub queries: usize,
    pub per_query: BTreeMap<String, f64>,
}

/// Ranks `db` (rows named by `names`, images without extension) for each query's
/// descriptors (the query as it is, and any other view of it: see
/// [`Database::search_views`]) and scores it.
pub fn evaluate_oxford(
    db: &Database,
    names: &[String],
    queries: &[(OxfordQuery, Vec<Vec<f32>>)],
    metric: Metric,
    expansion: usize,
) -> Result<OxfordResult> {
    let per_query = queries
        .par_iter()
        .map(|(query, views)| {
            let views: Vec<&[f32]> = views.iter().map(Vec::as_slice).collect();
            let hits = db.search_views_expanded(&views, metric, expansion, db.len())?;
            let ranked = hits.iter().map(|h| names[h.row].as_str());
            Ok((
                query.name.clone(),
                oxford_average_precision(ranked, &query.positives, &query.junk),
            ))
        })
        .collect::<Result<BTreeMap<_, _>>>()?;
    let map = per_query.values().sum::<f64>() / per_query.len().max(1) as f64;
    Ok(OxfordResult {
        map,
        queries: per_query.len(),
        per_query,
    })
}

/// Category-protocol scores of one class (means over its images).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScores {
    pub precision_at_k: f64,
    pub recall_at_k: f64,
    pub map: f64,
}

/// Category-protocol result: means over classes of the per-class means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryResult {
    pub precision_at_k: f64,
    pub recall_at_k: f64,
    pub map: f64,
    pub k: usize,
    pub per_class: BTreeMap<String, ClassScores>,
}

/// Every row of `db` queries all the others; `classes[i]` is row `i`'s class.
pub fn evaluate_category(
    db: &Database,
    classes: &[String],
    metric: Metric,
    expansion: usize,
    k: usize,
) -> Result<CategoryResult> {
    let mut size: BTreeMap<&str, usize> = BTreeMap::new();
    for c in classes {
        *size.entry(c).or_default() += 1;
    }
    let scores = (0..db.len())
        .into_par_iter()
        .map(|query| {
            let views: Vec<&[f32]> = db.views_of(query).collect();
            let hits = db.search_views_expanded(&views, metric, expansion, db.len())?;
            let class = classes[query].as_str();
            let positives = size[class] - 1;
            let relevant = hits
                .iter()
                .filter(|h| h.row != query)
                .map(|h| classes[h.row] == class);
            let (mut found, mut at_k, mut precision_sum) = (0usize, 0usize, 0.0);
            for (rank, is_relevant) in relevant.enumerate() {
                if is_relevant {
                    found += 1;
                    precision_sum += found as f64 / (rank + 1) as f64;
                }
                if rank + 1 == k {
                    at_k = found;
                }
            }
            if k >= db.len() - 1 {
                at_k = found;
            }
            let ratio = |n: f64, d: usize| if d == 0 { 0.0 } else { n / d as f64 };
            Ok((
                class,
                [
                    ratio(at_k as f64, k),
                    ratio(at_k as f64, positives),
                    ratio(precision_sum, positives),
                ],
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut per_class: BTreeMap<String, ClassScores> = BTreeMap::new();
    for (class, n) in &size {
        let mine: Vec<&[f64; 3]> = scores
            .iter()
            .filter(|(c, _)| c == class)
            .map(|(_, s)| s)
            .collect();
        let mean = |i: usize| mine.iter().map(|s| s[i]).sum::<f64>() / *n as f64;
        per_class.insert(
            class.to_string(),
            ClassScores {
                precision_at_k: mean(0),
                recall_at_k: mean(1),
                map: mean(2),
            },
        );
    }
    let over_classes = |f: fn(&ClassScores) -> f64| {
        per_class.values().map(f).sum::<f64>() / per_class.len().max(1) as f64
    };
    Ok(CategoryResult {
        precision_at_k: over_classes(|c| c.precision_at_k),
        recall_at_k: over_classes(|c| c.recall_at_k),
        map: over_classes(|c| c.map),
        k,
        per_class,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> HashSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn oxford_ap_is_the_trapezoid_of_compute_ap() {
        let positives = set(&["a", "b"]);
        // a at rank 1, then a miss, then b: (0.5 * (1 + 1) / 2) + (0.5 * (0.5 + 2/3) / 2).
        let ap = oxford_average_precision(["a", "x", "b"], &positives, &HashSet::new());
        assert!(
            (ap - (0.5 + 0.5 * (0.5 + 2.0 / 3.0) / 2.0)).abs() < 1e-12,
            "{ap}"
        );
        // Junk is skipped as if it were not there.
        let with_junk = oxford_average_precision(["j", "a", "b"], &positives, &set(&["j"]));
        assert!((with_junk - 1.0).abs() < 1e-12);
        assert_eq!(
            oxford_average_precision(["x"], &HashSet::new(), &HashSet::new()),
            0.0
        );
    }

    #[test]
    fn category_scores_on_a_toy_database() {
        // Two tight clusters of two: every query's nearest other image is its twin.
        let db = Database::new(2, vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9]).unwrap();
        let classes: Vec<String> = ["a", "a", "b", "b"].iter().map(|s| s.to_string()).collect();
        let r = evaluate_category(&db, &classes, Metric::Cosine, 0, 1).unwrap();
        assert_eq!((r.precision_at_k, r.recall_at_k, r.map), (1.0, 1.0, 1.0));
        let r = evaluate_category(&db, &classes, Metric::Cosine, 0, 2).unwrap();
        assert_eq!(r.precision_at_k, 0.5);
    }
}
