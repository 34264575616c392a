//! `lookalike dupes`: near-duplicate groups of an index, exported as JSON or CSV, and
//! (only when asked) all but each group's keeper moved to the trash or a folder, with a
//! dry run and an undo journal. `lookalike undo` brings a batch back.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use serde_json::json;

use super::{intent_whitening, load_weights};
use lookalike_core::cleanup::{self, Destination, Journal, Place, Report};
use lookalike_core::describe::describer::{Describer, DescriberOptions};
use lookalike_core::describe::engine::BackendChoice;
use lookalike_core::describe::model::NetworkWeights;
use lookalike_core::describe::whiten::Whitening;
use lookalike_core::find::dupes::{
    self, Decisions, Found, Group, KeepRule, Keeping, Rule, Series, Thumbnail, Variant, Verdict,
    update_variants,
};
use lookalike_core::find::intent::Intent;
use lookalike_core::find::search::Database;
use lookalike_core::index::{Control, Index, Provenance};

#[derive(Args, Debug)]
pub(super) struct DupesArgs {
    /// Index file (from `lookalike index`).
    #[arg(long)]
    index: PathBuf,
    /// Pairs farther apart than this cosine distance are never duplicates (default,
    /// calibrated with the shipped 512-d full whitening: R-MAC 0.48 with the turned and
    /// enlarged copies, 0.52 without; an SPoC index 0.46 and 0.47).
    #[arg(long)]
    threshold: Option<f32>,
    /// Verification: a pair at distance d is a copy only if d <= S x each photo's
    /// distance to itself turned a quarter turn (default 1.1): pictures that look alike
    /// turned (textures, skies, backdrops, flat art) must be that much closer.
    #[arg(long, value_name = "S")]
    verify_spin: Option<f32>,
    /// Verification: a pair compared as it is must be at most F x as far apart in the
    /// unwhitened descriptors as in the whitened ones (default 0.75): copies differ in
    /// detail, different pictures in what they show.
    #[arg(long, value_name = "F")]
    verify_raw: Option<f32>,
    /// Verification of photos with no turned view (--no-variants): a pair at distance d
    /// is a copy only if, around either photo, at most --crowd other photos lie between
    /// d and d / R (default 0.6).
    #[arg(long, value_name = "R")]
    verify_ratio: Option<f32>,
    /// With --verify-ratio: how many other photos may lie that close (default 4).
    #[arg(long, value_name = "N")]
    crowd: Option<usize>,
    /// Verify with the descriptors alone, not with the photos' thumbnails (made once,
    /// cached beside the index in `<index>.px`; by default a pair whose thumbnails
    /// both exist must agree in fine detail at its best alignment, and may then be
    /// 0.16 farther apart than --threshold, 0.04 with --no-variants).
    #[arg(long)]
    no_pixels: bool,
    /// Whitening applied to the descriptors first (default: the one that ships with
    /// lookalike, 512-d, fully whitened, as the thresholds were calibrated).
    #[arg(long, conflicts_with = "no_whiten")]
    whiten: Option<PathBuf>,
    /// No whitening (pass a --threshold: the default ones assume whitening).
    #[arg(long)]
    no_whiten: bool,
    /// The keeper rules, first to last (comma-separated; the rules left out follow in
    /// this default order): protected, format (RAW > HEIC > TIFF > JPEG), original
    /// (camera original over an export), resolution, oldest (EXIF capture time),
    /// closest (the photo its copies are closest to), largest, preferred (--prefer).
    #[arg(long, value_name = "RULES", value_delimiter = ',', value_parser = keep_rule)]
    keep_rule: Vec<KeepRule>,
    /// A protected (reference) folder: its files may be kept, never moved. Repeat for
    /// more.
    #[arg(long, value_name = "DIR")]
    protect: Vec<PathBuf>,
    /// A preferred folder: the keeper rule `preferred` keeps its files. Repeat for more.
    #[arg(long, value_name = "DIR")]
    prefer: Vec<PathBuf>,
    /// Remember that these photos (two or more, of the library) are not duplicates of
    /// one another: they are never proposed together again. Nothing is grouped.
    #[arg(long, value_name = "FILE", num_args = 2.., conflicts_with_all = ["keep_all", "decisions", "forget_decision"])]
    not_duplicates: Vec<PathBuf>,
    /// Remember to keep all of these photos (two or more): they are never proposed
    /// together again. Nothing is grouped.
    #[arg(long, value_name = "FILE", num_args = 2.., conflicts_with_all = ["decisions", "forget_decision"])]
    keep_all: Vec<PathBuf>,
    /// List the decisions remembered for this library (numbered, oldest first).
    #[arg(long, conflicts_with = "forget_decision")]
    decisions: bool,
    /// Forget decision N (from --decisions): its photos may be proposed again.
    #[arg(long, value_name = "N")]
    forget_decision: Option<usize>,
    /// Print `{"groups": [{"kind", "keeper", "kept_because", "files": [...], "similar":
    /// [...]}], "series": [...], "rule", "seconds"}`: `kind` is "identical files" or "the
    /// same photo"; `files` are the keeper and its verified copies, each with its
    /// distance to the keeper and the verification's evidence; `similar` the photos
    /// verified with a copy, not with the keeper (never moved); `series` the bursts
    /// (frames of one camera seconds apart: never moved). With --trash / --move-to, also
    /// `"actions"`.
    #[arg(long)]
    json: bool,
    /// Also write the groups as CSV (group, path, keeper, width, height, size).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Move all but each group's keeper to the system trash.
    #[arg(long, conflicts_with = "move_to")]
    trash: bool,
    /// Move all but each group's keeper into this folder (same disk).
    #[arg(long, value_name = "DIR")]
    move_to: Option<PathBuf>,
    /// With --trash / --move-to: also remove the JPEG a camera wrote beside a RAW that is
    /// kept ("keep RAW, remove the JPEG copies"; by default such a pair is one photo and
    /// both stay).
    #[arg(long)]
    remove_raw_jpegs: bool,
    /// With --trash / --move-to: only list what would move.
    #[arg(long)]
    dry_run: bool,
    /// Undo journal (default: the per-user data directory).
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Match neither turned nor small enlarged copies (by default both are matched:
    /// each photo described turned, and small ones enlarged, by `index` or else here,
    /// cached beside the index).
    #[arg(long, conflicts_with_all = ["rotations", "enlarge"])]
    no_variants: bool,
    /// Of the two, only match copies turned by 90 or 270 degrees: each photo is
    /// described once more, turned (cached beside the index in `<index>.rot90`).
    #[arg(long)]
    rotations: bool,
    /// With --rotations: the (stricter) threshold for pairs found by turning a photo.
    #[arg(long, value_name = "T")]
    turned_threshold: Option<f32>,
    /// Of the two, only match small photos (under 224 px) enlarged 2x: downscaled
    /// exports of larger photos (cached beside the index in `<index>.x2`), at the main
    /// threshold.
    #[arg(long)]
    enlarge: bool,
    /// Weights file, to describe the turned and enlarged copies `index` did not (must
    /// be the one the index was made with).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Backend for the turned and enlarged copies.
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
}

#[derive(Args, Debug)]
pub(super) struct UndoArgs {
    /// The batch to undo (default: the newest one not undone yet).
    #[arg(long)]
    batch: Option<u64>,
    /// Undo journal (default: the per-user data directory).
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

/// A keeper rule by its name.
fn keep_rule(name: &str) -> Result<KeepRule, String> {
    KeepRule::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = KeepRule::DEFAULT.iter().map(|r| r.name()).collect();
        format!(
            "unknown keeper rule {name:?}: expected one of {}",
            names.join(", ")
        )
    })
}

impl DupesArgs {
    /// The keeper rules and folders, the folders made absolute as the index's paths are.
    fn keeping(&self) -> anyhow::Result<Keeping> {
        let absolute = |dirs: &[PathBuf]| -> anyhow::Result<Vec<PathBuf>> {
            dirs.iter()
                .map(|d| {
                    std::fs::canonicalize(d).with_context(|| format!("folder {}", d.display()))
                })
                .collect()
        };
        let mut keeping = Keeping {
            protected: absolute(&self.protect)?,
            preferred: absolute(&self.prefer)?,
            ..Keeping::default()
        };
        if !self.keep_rule.is_empty() {
            keeping.rules = self.keep_rule.clone();
        }
        Ok(keeping)
    }

    /// Whether the turned and the enlarged copies are compared too: both by default.
    fn variants(&self) -> (bool, bool) {
        match (self.no_variants, self.rotations, self.enlarge) {
            (true, _, _) => (false, false),
            (false, false, false) => (true, true),
            (false, rotations, enlarge) => (rotations, enlarge),
        }
    }
}

pub(super) fn run(args: DupesArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let index = Index::load(&args.index)?;
    let Some(keeping) = keeping_of(&args, &index)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let (rotations, enlarge) = args.variants();
    // The weights are needed to describe missing variants, and tell whether the
    // shipped whitening fits the index when the file differs.
    let weights = load_weights(args.model.as_deref(), Some(index.provenance.network)).ok();
    let whitening = intent_whitening(
        args.whiten.as_deref(),
        args.no_whiten,
        Intent::Instance,
        &index.provenance,
        weights.as_ref(),
    )?;
    let rule = rule_of(&args, &index, rotations || enlarge);
    if args.threshold.is_none() && whitening.is_none() {
        eprintln!(
            "warning: the default threshold {} was calibrated on whitened descriptors; pass \
             --whiten FILE (from `lookalike whiten learn`) or --threshold",
            rule.threshold
        );
    }
    let db = Database::from_index(&index, whitening.as_ref())?;
    // The variants' update reads the thumbnails too: kept, not read again below.
    let (described, cached_thumbnails) = match rotations || enlarge {
        true => {
            let wanted = |variant| match variant {
                Variant::QuarterTurn => rotations,
                Variant::Enlarged => enlarge,
            };
            let update = variants_of(&args, &index, weights.as_ref())?;
            let views = views_of(update.aligned, wanted, whitening.as_ref())?;
            (views, Some(update.thumbnails))
        }
        false => (Vec::new(), None),
    };
    // Ctrl-C stops it; a threshold that pairs everything ends it with a message.
    let control = Control::stop_only(super::interrupt_flag());
    let thumbnails = match rule.pixels {
        Some(_) => thumbnails_of(&args.index, &index, cached_thumbnails)?,
        None => Vec::new(),
    };
    let found = dupes::find_in(
        &index,
        &db,
        &described,
        &thumbnails,
        rule,
        &keeping,
        control,
    )
    .with_context(|| format!("grouping the photos of {}", args.index.display()))?;
    let groups = &found.groups;
    let seconds = started.elapsed().as_secs_f64();

    if let Some(csv) = &args.csv {
        write_csv(csv, &index, groups)?;
    }
    let report = clean_up(&args, groups)?;
    print_found(
        &args,
        &index,
        &found,
        (&rule, db.len(), seconds),
        report.as_ref(),
    );
    let failed = report.as_ref().is_some_and(|r| !r.skipped.is_empty());
    Ok(if report.as_ref().is_some_and(|r| r.stopped) {
        ExitCode::from(super::EXIT_INTERRUPTED)
    } else if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The keeper rules, folders and the library's remembered decisions; `None` when the
/// arguments asked for a decision to be made, listed or forgotten (done, and nothing
/// to group).
fn keeping_of(args: &DupesArgs, index: &Index) -> anyhow::Result<Option<Keeping>> {
    let mut keeping = args.keeping()?;
    let folder = args.index.parent().unwrap_or(Path::new("."));
    let mut decisions = Decisions::load(&Decisions::path_for(folder, &index.root))?;
    if decide(args, index, &mut decisions)? {
        return Ok(None);
    }
    keeping.decided = decisions.list().to_vec();
    Ok(Some(keeping))
}

/// What was found (and moved): `--json`, or the groups and series and a summary.
fn print_found(
    args: &DupesArgs,
    index: &Index,
    found: &Found,
    (rule, compared, seconds): (&Rule, usize, f64),
    report: Option<&Report>,
) {
    if args.json {
        println!("{}", groups_json(index, found, rule, seconds, args, report));
        return;
    }
    let groups = &found.groups;
    print_groups(groups);
    print_series(&found.series);
    let copies: usize = groups.iter().map(|g| g.copies().count()).sum();
    eprintln!(
        "{} groups, {copies} verified copies of their keeper, {} series, {compared} images \
         compared in {seconds:.2} s",
        groups.len(),
        found.series.len(),
    );
    if let Some(report) = report {
        print_clean_up(report, args.dry_run);
    }
}

/// The databases of the variants `wanted` picks, finished with `whitening`.
fn views_of(
    aligned: Vec<(Variant, Index)>,
    wanted: impl Fn(Variant) -> bool,
    whitening: Option<&Whitening>,
) -> anyhow::Result<Vec<(Variant, Database)>> {
    let mut views = Vec::new();
    for (variant, other) in aligned.into_iter().filter(|(v, _)| wanted(*v)) {
        views.push((variant, Database::from_index(&other, whitening)?));
    }
    Ok(views)
}

/// The calibrated rule of the index's pooling (with or without the turned and enlarged
/// views), with what the arguments change.
fn rule_of(args: &DupesArgs, index: &Index, variants: bool) -> Rule {
    let calibrated = Rule::calibrated(index.provenance.pooling, variants);
    let calibrated = match args.threshold {
        Some(threshold) => calibrated.with_threshold(threshold),
        None => calibrated,
    };
    Rule {
        threshold: calibrated.threshold,
        turned: args.turned_threshold.unwrap_or(calibrated.turned),
        spin: args.verify_spin.unwrap_or(calibrated.spin),
        raw: args.verify_raw.unwrap_or(calibrated.raw),
        ratio: args.verify_ratio.unwrap_or(calibrated.ratio),
        crowd: args.crowd.unwrap_or(calibrated.crowd),
        pixels: calibrated.pixels.filter(|_| !args.no_pixels),
    }
}

/// `--trash` or `--move-to`: every verified copy of its keeper moved away (or, with
/// `--dry-run`, what would be); `None` without either.
fn clean_up(args: &DupesArgs, groups: &[Group]) -> anyhow::Result<Option<Report>> {
    let destination = match (&args.move_to, args.trash) {
        (Some(folder), _) => Destination::Folder(folder.clone()),
        (None, true) => Destination::Trash,
        (None, false) => return Ok(None),
    };
    let matches: Vec<_> = groups
        .iter()
        .flat_map(|group| group.all_but_the_keeper(args.remove_raw_jpegs))
        .collect();
    if args.dry_run {
        return Ok(Some(cleanup::plan(&matches, &destination)));
    }
    // A progress bar; Ctrl-C stops it between two files, the journal consistent.
    let journal = journal(args.journal.as_deref())?;
    let report = super::with_progress(|control| journal.remove(&matches, &destination, control))
        .context("the clean-up thread crashed")??;
    Ok(Some(report))
}

/// `--not-duplicates`, `--keep-all`, `--decisions`, `--forget-decision`: a decision
/// remembered, listed or forgotten (and nothing grouped); `false` without any.
fn decide(args: &DupesArgs, index: &Index, decisions: &mut Decisions) -> anyhow::Result<bool> {
    let (verdict, files) = if !args.not_duplicates.is_empty() {
        (Verdict::NotDuplicates, &args.not_duplicates)
    } else if !args.keep_all.is_empty() {
        (Verdict::KeepAll, &args.keep_all)
    } else if let Some(n) = args.forget_decision {
        let gone = decisions.remove(n.wrapping_sub(1))?;
        let text = format!(
            "forgot: {}: {}",
            gone.verdict.name(),
            gone.photos.join(", ")
        );
        say(args.json, json!({ "forgot": gone }), text);
        return Ok(true);
    } else if args.decisions {
        let text: Vec<String> = decisions
            .list()
            .iter()
            .enumerate()
            .map(|(n, d)| format!("{}. {}: {}", n + 1, d.verdict.name(), d.photos.join(", ")))
            .collect();
        say(
            args.json,
            json!({ "decisions": decisions.list() }),
            text.join("\n"),
        );
        return Ok(true);
    } else {
        return Ok(false);
    };
    let photos = files
        .iter()
        .map(|f| library_path(index, f))
        .collect::<anyhow::Result<Vec<_>>>()?;
    decisions.add(verdict, photos.clone())?;
    let file = decisions.path().display().to_string();
    let text = format!(
        "remembered in {file}: {}: {}",
        verdict.name(),
        photos.join(", ")
    );
    let remembered = json!({ "remembered": decisions.list().last(), "file": file });
    say(args.json, remembered, text);
    Ok(true)
}

/// Prints `json` with `--json`, else `text`.
fn say(json: bool, value: serde_json::Value, text: String) {
    match json {
        true => println!("{value}"),
        false => println!("{text}"),
    }
}

/// The path of `file` in the index's library, as the index names it.
fn library_path(index: &Index, file: &Path) -> anyhow::Result<String> {
    let real = std::fs::canonicalize(file).with_context(|| format!("{}", file.display()))?;
    let name = index.relative(&real).with_context(|| {
        format!(
            "{} is not in the library {}",
            file.display(),
            index.root.display()
        )
    })?;
    anyhow::ensure!(
        index.entries.iter().any(|e| e.path == name),
        "{} is not a photo of the index",
        file.display()
    );
    Ok(name)
}

/// `--json`: the groups, the rule they were found with, the time, and what was moved.
fn groups_json(
    index: &Index,
    found: &Found,
    rule: &Rule,
    seconds: f64,
    args: &DupesArgs,
    report: Option<&Report>,
) -> serde_json::Value {
    let groups: Vec<_> = found.groups.iter().map(|g| group_json(index, g)).collect();
    let series: Vec<_> = found.series.iter().map(series_json).collect();
    let mut out = json!({
        "groups": groups,
        "series": series,
        "threshold": rule.threshold,
        "rule": {
            "threshold": rule.threshold,
            "turned": rule.turned,
            "spin": rule.spin,
            "raw": rule.raw,
            "ratio": rule.ratio,
            "crowd": rule.crowd,
            "pixels": rule.pixels.map(|p| json!({
                "threshold": p.threshold,
                "spin": p.spin,
                "detail": p.detail,
                "cells": p.cells,
            })),
        },
        "seconds": seconds,
    });
    if let Some(report) = report {
        out["actions"] = json!({ "dry_run": args.dry_run, "report": report });
    }
    out
}

/// What a clean-up moved (or would), and how to undo it.
fn print_clean_up(report: &Report, dry_run: bool) {
    print_report(report, if dry_run { "would move" } else { "moved" });
    if !dry_run && !report.moved.is_empty() {
        eprintln!("undo with: lookalike undo --batch {}", report.batch);
    }
}

/// Each group: what it is, the photo kept (and why), its verified copies (and why), the
/// photos only similar.
fn print_groups(groups: &[Group]) {
    let path = |g: &Group, i: usize| g.members()[i].file.path.display().to_string();
    for (n, group) in groups.iter().enumerate() {
        let copies: Vec<usize> = group.copies().collect();
        println!(
            "group {} ({} files, {})",
            n + 1,
            copies.len() + 1,
            group.kind().name()
        );
        println!(
            "  keep  {}  (kept because {})",
            path(group, group.keeper()),
            group.reason().because()
        );
        for &i in &copies {
            let check = group.check(i, group.keeper());
            println!("        {}  ({})", path(group, i), check.why());
        }
        for i in group.similar() {
            println!(
                "  similar to a copy, not to the photo kept: {}",
                path(group, i)
            );
        }
    }
}

/// Each series: its frames by capture time (never moved).
fn print_series(series: &[Series]) {
    for (n, s) in series.iter().enumerate() {
        let span = s.seconds().map_or(String::new(), |t| format!(", {t:.1} s"));
        println!(
            "series {} ({} frames{span}; a burst, not copies: pick the best yourself)",
            n + 1,
            s.members.len()
        );
        for m in &s.members {
            println!("        {}", m.file.path.display());
        }
    }
}

pub(super) fn undo(args: UndoArgs) -> anyhow::Result<ExitCode> {
    let journal = journal(args.journal.as_deref())?;
    let batch = match args.batch {
        Some(batch) => batch,
        None => match journal.last_undoable()? {
            Some(batch) => batch,
            None => {
                eprintln!("nothing to undo in {}", journal.path().display());
                return Ok(ExitCode::SUCCESS);
            }
        },
    };
    let report = journal.undo(batch)?;
    if args.json {
        println!("{}", json!({ "report": report }));
    } else {
        print_report(&report, "restored");
    }
    Ok(if report.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// The turned and enlarged variants of the index's photos, lined up with its entries:
/// from the caches beside the index (which `index` fills), the missing ones described
/// now and cached.
/// The thumbnails of the photos of the index at `index_path`: cached beside it (by
/// `index`; `cached`, when they were read already), the missing ones made now (a small
/// decode per photo) and cached.
fn thumbnails_of(
    index_path: &Path,
    index: &Index,
    cached: Option<Vec<Option<Thumbnail>>>,
) -> anyhow::Result<Vec<Option<Thumbnail>>> {
    if let Some(cached) = cached
        && cached.iter().all(Option::is_some)
    {
        return Ok(cached);
    }
    let made = super::with_progress(|control| {
        dupes::update_thumbnails(
            index,
            index_path,
            Some(lookalike_core::read::imaging::DEFAULT_MAX_PIXELS),
            control,
        )
    })
    .ok_or_else(|| anyhow::anyhow!("the thread making the photos' thumbnails crashed"))?
    .context("making the photos' thumbnails")?;
    for failure in &made.failures {
        eprintln!(
            "no thumbnail: {}: {}",
            failure.path.display(),
            failure.reason
        );
    }
    Ok(made.aligned)
}

fn variants_of(
    args: &DupesArgs,
    index: &Index,
    weights: Option<&NetworkWeights>,
) -> anyhow::Result<dupes::VariantsUpdate> {
    let cached = update_variants(index, &args.index, None, Control::unattended())?;
    let missing = cached.missing;
    if missing == 0 {
        return Ok(cached);
    }
    let weights = weights.with_context(|| {
        format!(
            "{missing} photos still need their turned or enlarged copy described: pass --model \
             (or --no-variants)"
        )
    })?;
    let provenance = &index.provenance;
    index.check_provenance(
        &args.index,
        &Provenance::new(weights, provenance.max_side, provenance.pooling),
    )?;
    let describer = Describer::new(
        weights,
        args.backend,
        DescriberOptions::for_index(provenance),
    )
    .with_context(|| format!("starting the {} backend", args.backend))?;
    let described = super::with_progress(|control| {
        update_variants(index, &args.index, Some(&describer), control)
    })
    .ok_or_else(|| anyhow::anyhow!("the thread describing turned and enlarged photos crashed"))?
    .context("describing the turned and enlarged photos")?;
    for failure in &described.failures {
        eprintln!(
            "no turned or enlarged copy: {}: {}",
            failure.path.display(),
            failure.reason
        );
    }
    if super::interrupt_flag().load(std::sync::atomic::Ordering::Relaxed) {
        anyhow::bail!("interrupted; what was described is kept for next time");
    }
    Ok(described)
}

fn journal(path: Option<&Path>) -> anyhow::Result<Journal> {
    let path = match path {
        Some(path) => path.to_path_buf(),
        None => Journal::default_path()
            .context("no home folder for the undo journal: pass --journal")?,
    };
    Ok(Journal::new(path))
}

fn print_report(report: &Report, verb: &str) {
    for moved in &report.moved {
        let to = match &moved.to {
            Place::Trash => "the trash".to_string(),
            Place::Trashed(trashed) => trashed.file.display().to_string(),
            Place::File(path) => path.display().to_string(),
        };
        eprintln!("{verb}: {} -> {to}", moved.from.display());
    }
    for skipped in &report.skipped {
        eprintln!("left alone: {}: {}", skipped.path.display(), skipped.reason);
    }
    if report.stopped {
        eprintln!(
            "interrupted: stopped after {} files; the rest stayed where they are",
            report.moved.len()
        );
    }
}

const CSV_HEADER: &str = "group,path,keeper,width,height,size,distance\n";

/// One group as `--json` prints it: the keeper, its verified copies and the similar
/// photos, each with its distance to the keeper and the verification's evidence.
fn group_json(index: &Index, group: &Group) -> serde_json::Value {
    let file = |i: usize| {
        let member = &group.members()[i];
        let e = &index.entries[member.row];
        let mut file = json!({
            "path": member.file.path,
            "width": e.width,
            "height": e.height,
            "size": e.size,
        });
        if let Some(damage) = e.damage {
            file["damaged"] = json!(damage.to_string());
        }
        if member.protected {
            file["protected"] = json!(true);
        }
        if i != group.keeper() {
            let check = group.check(i, group.keeper());
            file["distance"] = json!(check.distance);
            file["evidence"] = json!({
                "view": check.view.name(),
                "distance": check.distance,
                "spin": check.spin,
                "raw": check.raw,
                "crowd": check.crowd,
                "pixels": check.pixels,
                "verified": check.verified,
                "why": check.why(),
            });
        }
        file
    };
    let files: Vec<_> = std::iter::once(group.keeper())
        .chain(group.copies())
        .map(file)
        .collect();
    let similar: Vec<_> = group.similar().map(file).collect();
    json!({
        "kind": group.kind().name(),
        "keeper": group.members()[group.keeper()].file.path,
        "kept_because": {
            "rule": group.reason().name(),
            "why": group.reason().because(),
        },
        "files": files,
        "similar": similar,
    })
}

/// One series as `--json` prints it: its frames by capture time.
fn series_json(series: &Series) -> serde_json::Value {
    let frames: Vec<_> = series
        .members
        .iter()
        .map(|m| {
            json!({
                "path": m.file.path,
                "camera": m.shot.camera.as_ref().map(|c| format!("{} {}", c.make, c.model)),
                "taken": m.shot.taken.map(|t| t.seconds),
                "image_number": m.shot.image_number,
            })
        })
        .collect();
    json!({ "frames": frames, "seconds": series.seconds() })
}

fn write_csv(path: &Path, index: &Index, groups: &[Group]) -> anyhow::Result<()> {
    let mut out = String::from(CSV_HEADER);
    for (n, group) in groups.iter().enumerate() {
        let members = std::iter::once(group.keeper()).chain(group.copies());
        for i in members {
            let member = &group.members()[i];
            let e = &index.entries[member.row];
            let check = group.check(i, group.keeper());
            let distance = if i == group.keeper() {
                String::new()
            } else {
                format!("{:.4}", check.distance)
            };
            out.push_str(&format!(
                "{},{},{},{},{},{},{distance}\n",
                n + 1,
                csv_field(&member.file.path.display().to_string()),
                i == group.keeper(),
                e.width,
                e.height,
                e.size
            ));
        }
    }
    // Only an earlier export is ever replaced, never a photo named by mistake.
    lookalike_core::support::safefs::write_atomically(
        path,
        out.as_bytes(),
        lookalike_core::support::safefs::Replace::IfStartsWith(CSV_HEADER.as_bytes()),
    )
    .with_context(|| format!("writing {}", path.display()))
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}
