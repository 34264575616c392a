//! `lookalike dupes`: near-duplicate groups of an index (read-only: nothing is moved).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::load_whitening;
use crate::dupes::{close_pairs, group_pairs, suggest_keeper};
use crate::index::Index;
use crate::search::Database;

/// Cosine-distance threshold calibrated on `neardup-dev` with full 512-d whitening
/// learned on `imagenette/train-whiten`: the highest recall (0.627) at pairwise
/// precision >= 0.95 (0.962). See README, "Duplicates".
pub(super) const DEFAULT_THRESHOLD: f32 = 0.47;

#[derive(Args, Debug)]
pub(super) struct DupesArgs {
    /// Index file (from `lookalike index`).
    #[arg(long)]
    index: PathBuf,
    /// Pairs closer than this cosine distance are duplicates (default: 0.47, calibrated
    /// for 512-d full whitening).
    #[arg(long)]
    threshold: Option<f32>,
    /// Whitening applied to the descriptors first (the threshold was calibrated with one).
    #[arg(long)]
    whiten: Option<PathBuf>,
    /// Print `{"groups": [{"files": [...], "keeper": path}], "threshold", "seconds"}`.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: DupesArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let index = Index::load(&args.index)?;
    let whitening = load_whitening(args.whiten.as_deref())?;
    let threshold = args.threshold.unwrap_or(DEFAULT_THRESHOLD);
    if args.threshold.is_none() && whitening.is_none() {
        eprintln!(
            "warning: the default threshold {DEFAULT_THRESHOLD} was calibrated on whitened \
             descriptors; pass --whiten FILE (from `lookalike whiten learn`) or --threshold"
        );
    }
    let db = Database::from_index(&index, whitening.as_ref())?;
    let pairs = close_pairs(db.rows(), db.dim(), threshold);
    let groups = group_pairs(db.len(), &pairs);
    let seconds = started.elapsed().as_secs_f64();
    let path_of = |row: usize| index.absolute(&index.entries[row]);
    if args.json {
        let groups: Vec<_> = groups
            .iter()
            .map(|group| {
                let files: Vec<_> = group
                    .iter()
                    .map(|&row| {
                        let e = &index.entries[row];
                        json!({
                            "path": path_of(row),
                            "width": e.width,
                            "height": e.height,
                            "size": e.size,
                        })
                    })
                    .collect();
                json!({ "files": files, "keeper": path_of(suggest_keeper(group, &index.entries)) })
            })
            .collect();
        println!(
            "{}",
            json!({ "groups": groups, "threshold": threshold, "seconds": seconds })
        );
    } else {
        for (i, group) in groups.iter().enumerate() {
            let keeper = suggest_keeper(group, &index.entries);
            println!("group {} ({} files)", i + 1, group.len());
            for &row in group {
                let mark = if row == keeper { "keep" } else { "    " };
                println!("  {mark}  {}", path_of(row).display());
            }
        }
        eprintln!(
            "{} groups, {} files in groups, {} images compared in {seconds:.2} s",
            groups.len(),
            groups.iter().map(Vec::len).sum::<usize>(),
            db.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
