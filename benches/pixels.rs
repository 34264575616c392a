//! The thumbnails' comparison (`index::thumbnails::compare`), the duplicate finder's
//! pixel evidence, on real thumbnails: every pair of the photos of the given indexes
//! (their `.px` caches, made by `lookalike dupes`), each compared as they are and a
//! quarter turn apart, with the verification's acceptance (detail 0.45, cells 0.4).
//! Most pairs of a library are not copies, and a pair that is not searches every scale
//! and pose: that search is what this measures. Prints one figure a line
//! (`name: value unit`) and, with `--out FILE`, every pair's result, to check that a
//! faster comparison decides every pair as before (`diff` two runs' files).
//!
//! Run: `cargo bench --profile dev --bench pixels -- INDEX... [--pairs N] [--out FILE]
//! [--only PREFIX]...` (`--only`: the photos whose paths start so).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use lookalike_core::index::Index;
use lookalike_core::index::thumbnails::{Thumbnail, Turn, compare, update_thumbnails};
use lookalike_core::support::control::Control;

fn main() {
    let mut indexes = Vec::new();
    let (mut limit, mut out, mut only) = (usize::MAX, None, Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--pairs" => limit = args.next().and_then(|n| n.parse().ok()).expect("--pairs N"),
            "--out" => out = args.next().map(PathBuf::from),
            "--only" => only.extend(args.next()),
            "--bench" => {}
            _ => indexes.push(PathBuf::from(arg)),
        }
    }
    let mut thumbnails: Vec<(String, Thumbnail)> = Vec::new();
    for path in &indexes {
        let index = Index::load(path).expect("index");
        let made = update_thumbnails(&index, path, None, Control::unattended()).expect("cache");
        for (entry, thumbnail) in index.entries.iter().zip(made.aligned) {
            let wanted = only.is_empty() || only.iter().any(|o| entry.path.starts_with(o.as_str()));
            if let Some(t) = thumbnail.filter(|_| wanted) {
                thumbnails.push((entry.path.clone(), t));
            }
        }
    }
    assert!(
        thumbnails.len() > 1,
        "no thumbnails: run `lookalike dupes` on the indexes first"
    );
    // Every pair, spread evenly when there are more than `limit`.
    let n = thumbnails.len();
    let all = n * (n - 1) / 2;
    let every = all.div_ceil(limit.min(all));
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .step_by(every)
        .collect();
    let accept =
        |m: &lookalike_core::index::thumbnails::PixelMatch| m.detail >= 0.45 && m.cells >= 0.4;
    let mut lines = Vec::new();
    let (mut accepted, mut rejected_time, mut rejected) = (0, 0.0, 0);
    let started = Instant::now();
    for &(a, b) in &pairs {
        for turn in [Turn::None, Turn::Quarter] {
            let one = Instant::now();
            let found = compare(&thumbnails[a].1, &thumbnails[b].1, turn, &accept);
            let took = one.elapsed().as_secs_f64();
            if accept(&found) {
                accepted += 1;
            } else {
                rejected += 1;
                rejected_time += took;
            }
            lines.push(format!(
                "{}\t{}\t{turn:?}\t{}\t{:.4}\t{:.4}\t{:.4}\t{:.4}",
                thumbnails[a].0,
                thumbnails[b].0,
                accept(&found),
                found.alignment,
                found.detail,
                found.cells,
                found.scale
            ));
        }
    }
    let total = started.elapsed().as_secs_f64();
    let comparisons = pairs.len() * 2;
    println!("pixels_thumbnails: {n} photos");
    println!("pixels_comparisons: {comparisons} comparisons");
    println!("pixels_accepted: {accepted} comparisons");
    println!(
        "pixels_per_comparison_us: {:.1} us",
        total / comparisons as f64 * 1e6
    );
    println!(
        "pixels_per_rejected_us: {:.1} us",
        rejected_time / rejected.max(1) as f64 * 1e6
    );
    if let Some(out) = out {
        let mut file = std::fs::File::create(out).expect("--out file");
        for line in lines {
            writeln!(file, "{line}").expect("write");
        }
    }
}
