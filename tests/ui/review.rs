//! Issue 27: the duplicate review a photographer does for thousands of groups, on a
//! real library: by keyboard, the compare view (side by side, flickered), "Apply to all
//! groups" that says what moves before anything moves, a burst shown apart as a series;
//! and 50,000 groups reviewed at frame rate.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui::{self, Key};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use lookalike::gui::panels::duplicates::DupesView;
use lookalike::gui::protocol::{DuplicateGroup, FoundDuplicates, JobEnd, Photo};
use lookalike::gui::thumbs::Thumbnails;
use lookalike_core::find::dupes::Group;

use super::{indexed_library, run_until, snapshot};
use crate::common;
use crate::common::exif::{Exif, save_with_exif};

/// Two groups of copies (neardup-dev's o021 and o022 with their edits), two other
/// photos, and a burst: three frames of one camera 0.3 s apart. Every file dated alike,
/// so that the cards look the same in every run.
fn library_with_a_burst(shared: &std::path::Path, library: &std::path::Path) -> Vec<String> {
    let mut names = common::neardup_library(
        shared,
        library,
        |n| n.starts_with("o021") || n.starts_with("o022"),
        2,
    );
    let frame = image::open(shared.join("data/neardup-dev/jpg/o020.jpg"))
        .unwrap()
        .to_rgb8();
    for (k, subsec) in ["10", "40", "70"].into_iter().enumerate() {
        let name = format!("burst/DSC_010{k}.JPG");
        let exif = Exif {
            model: "NIKON Z 6",
            serial: "6012345",
            taken: "2024:06:01 10:00:00",
            subsec: Some(subsec),
            software: None,
        };
        save_with_exif(&frame, 92 - k as u8, &exif, &library.join(&name));
        names.push(name);
    }
    super::fixed_dates(library, &names);
    names
}

fn press(harness: &mut Harness<'static, lookalike::gui::LookalikeApp>, key: Key) {
    harness.key_press(key);
    harness.run_steps(2);
}

#[test]
fn the_review_by_keyboard_compare_and_apply_to_all_with_a_burst_apart() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("library");
    let names = library_with_a_burst(&shared, &library);
    let mut harness = indexed_library(tmp.path(), &shared, &library, names.len());
    harness.get_by_label("Duplicates").click();
    harness.run_steps(5);
    run_until(&mut harness, "the groups", |app| {
        !app.duplicates().busy && app.duplicates().groups().len() >= 2
    });
    // The burst is a series, apart: never in a group.
    let review = harness.state().duplicates();
    assert_eq!(review.series().len(), 1, "{:?}", review.series());
    assert_eq!(review.series()[0].photos.len(), 3);
    let in_burst = |p: &PathBuf| p.to_string_lossy().contains("burst");
    assert!(
        review
            .groups()
            .iter()
            .all(|g| g.photos.iter().all(|p| !in_burst(&p.path)))
    );

    // The keyboard: → the next group, ← back, ↓ the first copy, X marks it, Space
    // compares it with the keeper.
    press(&mut harness, Key::ArrowRight);
    assert_eq!(harness.state().duplicates().current(), 1);
    press(&mut harness, Key::ArrowLeft);
    assert_eq!(harness.state().duplicates().current(), 0);
    press(&mut harness, Key::ArrowDown);
    let group = harness.state().duplicates().groups()[0].clone();
    let focused = harness.state().duplicates().focused().unwrap();
    assert!(group.group.is_copy(focused), "{group:?}");
    let copy = group.photos[focused].path.clone();
    let keeper = group.photos[group.keeper()].path.clone();
    press(&mut harness, Key::X);
    assert!(harness.state().duplicates().selected().contains(&copy));
    press(&mut harness, Key::Space);
    assert_eq!(
        harness.state().compare().pair,
        Some((keeper.clone(), copy.clone()))
    );
    run_until(&mut harness, "both photos decoded", |app| {
        app.large_loaded(&keeper) && app.large_loaded(&copy)
    });
    snapshot(&mut harness, "duplicates_compare", &[]);
    // Flickered: one photo at a time in one place, F shows the other; Escape closes.
    harness.get_by_label("Flicker").click();
    harness.run_steps(2);
    press(&mut harness, Key::F);
    let compare = harness.state().compare();
    assert!(compare.flicker && compare.showing_second);
    press(&mut harness, Key::Escape);
    assert_eq!(harness.state().compare().pair, None);

    // "Apply to all groups": what moves, from where, said before anything moves.
    let planned: Vec<PathBuf> = harness
        .state()
        .duplicates()
        .all_groups_removal()
        .iter()
        .map(|m| m.file().path.clone())
        .collect();
    let kept: Vec<PathBuf> = harness
        .state()
        .duplicates()
        .groups()
        .iter()
        .map(|g| g.photos[g.keeper()].path.clone())
        .collect();
    assert!(planned.len() >= 2, "{planned:?}");
    harness.get_by_label("Apply to all groups…").click();
    harness.run_steps(3);
    let plan = harness.state().duplicates().plan().unwrap().clone();
    let bytes: u64 = planned
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(plan.folders, [(library.clone(), planned.len(), bytes)]);
    assert_eq!(plan.groups, kept.len());
    harness.get_by_label_contains("Lightroom or Capture One");
    assert!(planned.iter().all(|p| p.exists()), "moved before the yes");
    let before = harness.state().library_generation();
    harness
        .get_by_label(&format!("Yes, move {}", planned.len()))
        .click();
    harness.run_steps(5);
    run_until(&mut harness, "the library after the move", |app| {
        app.library_generation() > before && app.library_len() == Some(names.len() - planned.len())
    });
    assert!(planned.iter().all(|p| !p.exists()));
    assert!(kept.iter().all(|p| p.exists()));
    assert!(
        names
            .iter()
            .filter(|n| n.starts_with("burst"))
            .all(|n| library.join(n).exists())
    );

    // Every group done: the series stays, apart.
    run_until(&mut harness, "the groups again", |app| {
        let review = app.duplicates();
        !review.busy && review.groups().is_empty() && review.series().len() == 1
    });
    run_until(&mut harness, "thumbnails", |app| {
        app.pending_thumbnails() == 0
    });
    snapshot(&mut harness, "duplicates_series", &[]);

    // Undo brings every photo back.
    let before = harness.state().library_generation();
    harness.get_by_label("Undo last clean-up").click();
    harness.run_steps(5);
    run_until(&mut harness, "the library after the undo", |app| {
        app.library_generation() > before && app.library_len() == Some(names.len())
    });
    assert!(planned.iter().all(|p| p.exists()));
}

/// 50,000 groups of three: walking them by keyboard (groups, photos, marks) never takes
/// a frame over 16 ms. Only the group shown is laid out, whatever the number of groups.
#[test]
fn fifty_thousand_groups_are_reviewed_at_frame_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let photo = |path: String| Photo {
        path: PathBuf::from(path),
        width: 6000,
        height: 4000,
        size: 12 << 20,
        mtime_ns: 1_700_000_000_000_000_000,
        sibling: None,
        damage: None,
    };
    let groups: Vec<DuplicateGroup> = (0..50_000)
        .map(|n| {
            let paths: Vec<String> = ["a", "b", "c"]
                .iter()
                .map(|x| format!("/library/{n:05}/{x}.jpg"))
                .collect();
            let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
            DuplicateGroup {
                group: Group::for_test(&refs, 3, &[(0, 1), (0, 2), (1, 2)]),
                photos: paths.into_iter().map(photo).collect(),
            }
        })
        .collect();
    let mut view = DupesView::new();
    let found = FoundDuplicates {
        groups,
        series: Vec::new(),
    };
    view.set_outcome(JobEnd::Done(found), view.threshold, 1, 0.0);
    let ctx = egui::Context::default();
    let cache = lookalike::gui::thumbs::DiskCache::new(tmp.path(), 1 << 30);
    let thumbs = Thumbnails::spawn(cache, 1, ctx).unwrap();
    let mut harness = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_ui_state(
            |ui, (view, thumbs): &mut (DupesView, Thumbnails)| {
                thumbs.receive(ui.ctx());
                view.show(ui, thumbs);
            },
            (view, thumbs),
        );
    // The first frames lay out fonts and cache glyphs.
    harness.run_steps(5);
    let mut slowest = Duration::ZERO;
    let keys = [
        Key::ArrowDown,
        Key::X,
        Key::ArrowDown,
        Key::X,
        Key::ArrowRight,
    ];
    for step in 0..250 {
        harness.key_press(keys[step % keys.len()]);
        let started = Instant::now();
        harness.step();
        slowest = slowest.max(started.elapsed());
    }
    let (view, _) = harness.state();
    assert_eq!(view.current(), 50);
    assert_eq!(view.selected().len(), 100);
    assert!(
        slowest < Duration::from_millis(16),
        "slowest frame {slowest:?}"
    );
}

/// Settings > Duplicates: the keeper rules move down and up (words, not arrows: egui's
/// fonts have none), "Default order" puts them back, a protected folder is removed.
#[test]
fn settings_order_the_keeper_rules_and_list_the_protected_folders() {
    use lookalike_core::find::dupes::KeepRule;
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut harness = super::app(tmp.path(), Some(common::shared_model(&shared)));
    run_until(&mut harness, "the network", super::model_ready);
    let protected = tmp.path().join("delivery");
    harness
        .state_mut()
        .settings_mut()
        .protected_folders
        .push(protected.clone());
    for label in ["Settings", "Duplicates: which copy is kept"] {
        harness.get_by_label(label).click();
        harness.run_steps(5);
    }
    let names = |rules: &[KeepRule]| -> Vec<String> {
        rules.iter().map(|r| r.name().to_string()).collect()
    };
    let default = names(&KeepRule::DEFAULT);
    harness.get_all_by_label("Down").next().unwrap().click();
    harness.run_steps(5);
    let mut swapped = default.clone();
    swapped.swap(0, 1);
    assert_eq!(harness.state().settings().keep_rules, swapped);
    assert_eq!(
        harness.state().settings().keeping().order()[0],
        KeepRule::DEFAULT[1]
    );
    harness.get_by_label("Default order").click();
    harness.run_steps(5);
    assert_eq!(harness.state().settings().keep_rules, default);
    harness.get_by_label(&protected.display().to_string());
    harness.get_by_label("Remove").click();
    harness.run_steps(5);
    assert!(harness.state().settings().protected_folders.is_empty());
}
