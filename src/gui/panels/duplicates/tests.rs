//! The review's state, without a window.

use super::*;
use crate::gui::protocol::Photo;

fn photo(name: &str) -> Photo {
    Photo {
        path: PathBuf::from(name),
        width: 10,
        height: 10,
        size: 1,
        mtime_ns: 0,
        sibling: None,
        damage: None,
    }
}

fn group(paths: &[&str], star: usize, verified: &[(usize, usize)]) -> DuplicateGroup {
    DuplicateGroup {
        photos: paths.iter().map(|p| photo(p)).collect(),
        group: lookalike_core::find::dupes::Group::for_test(paths, star, verified),
    }
}

fn found(groups: Vec<DuplicateGroup>) -> JobEnd<FoundDuplicates> {
    JobEnd::Done(FoundDuplicates {
        groups,
        series: Vec::new(),
    })
}

fn moved(view: &DupesView) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = view
        .removal()
        .iter()
        .map(|m| m.file().path.clone())
        .collect();
    paths.sort();
    paths
}

fn review() -> DupesView {
    let mut view = DupesView::new();
    view.threshold = 0.1;
    view.variants = false;
    view
}

#[test]
fn all_but_the_keeper_selects_only_verified_copies_of_the_keeper() {
    let mut view = review();
    // a, b, c all verified with each other; d verified with c only (similar).
    let all = [(0, 1), (0, 2), (1, 2), (2, 3)];
    view.set_outcome(
        found(vec![group(&["a", "b", "c", "d"], 3, &all)]),
        0.1,
        1,
        0.0,
    );
    view.set_keeper(1);
    view.select_all_but_keeper();
    let mut chosen: Vec<_> = view.selected().iter().cloned().collect();
    chosen.sort();
    assert_eq!(chosen, [PathBuf::from("a"), PathBuf::from("c")]);
    // A photo only similar to a copy can never be the keeper, nor be selected.
    view.set_keeper(3);
    assert_eq!(view.groups()[0].keeper(), 1);
    assert!(!view.groups()[0].group.is_copy(3));
    // Making a selected photo the keeper unselects it.
    view.set_keeper(0);
    assert!(!view.selected().contains(&PathBuf::from("a")));
    assert_eq!(moved(&view), [PathBuf::from("c")]);
    assert!(
        view.removal()
            .iter()
            .all(|m| m.keeper().path == std::path::Path::new("a"))
    );
}

#[test]
fn another_keeper_verifies_every_copy_again() {
    let mut view = review();
    // A chain: b is a copy of a, c of b only. Keeping a, c is similar, never moved.
    let chain = group(&["a", "b", "c"], 2, &[(0, 1), (1, 2)]);
    view.set_outcome(found(vec![chain]), 0.1, 1, 0.0);
    view.select_all_but_keeper();
    assert_eq!(moved(&view), [PathBuf::from("b")]);
    // Keeping b instead re-verifies: a is its copy; c, though verified with b, was
    // not taken for this group, so it stays similar.
    view.set_keeper(1);
    view.select_all_but_keeper();
    assert_eq!(moved(&view), [PathBuf::from("a")]);
    // A group whose members fail with a new keeper: they become similar, unselected.
    let star = group(&["a", "b", "c"], 3, &[(0, 1), (0, 2)]);
    view.set_outcome(found(vec![star]), 0.1, 1, 0.0);
    view.select_all_but_keeper();
    assert_eq!(moved(&view), [PathBuf::from("b"), PathBuf::from("c")]);
    view.set_keeper(1);
    assert!(moved(&view).is_empty(), "c failed with b: unselected");
    assert!(!view.selected().contains(&PathBuf::from("c")));
    view.select_all_but_keeper();
    assert_eq!(moved(&view), [PathBuf::from("a")]);
}

#[test]
fn new_groups_start_unselected_and_a_raw_keeps_its_jpeg_unless_asked() {
    let mut view = review();
    view.set_outcome(found(vec![group(&["a", "b"], 2, &[(0, 1)])]), 0.1, 1, 0.0);
    // New groups: nothing is selected.
    view.select_all_but_keeper();
    assert!(!view.selected().is_empty());
    view.set_outcome(found(vec![group(&["b", "c"], 2, &[(0, 1)])]), 0.1, 1, 0.0);
    assert!(view.selected().is_empty());
    assert!(view.removal().is_empty());

    // A RAW kept with its camera JPEG and an export: the JPEG stays unless asked.
    let pair = group(
        &["/p/IMG_1.CR3", "/p/IMG_1.JPG", "/e/IMG_1.jpg"],
        3,
        &[(0, 1), (0, 2), (1, 2)],
    );
    view.set_outcome(found(vec![pair]), 0.1, 1, 0.0);
    view.select_all_but_keeper();
    assert_eq!(moved(&view), [PathBuf::from("/e/IMG_1.jpg")]);
    view.keep_raw_remove_jpegs();
    assert_eq!(moved(&view).len(), 2);
    assert!(
        view.removal()
            .iter()
            .all(|m| m.keeper().path == std::path::Path::new("/p/IMG_1.CR3"))
    );
    assert_eq!(view.wanted_search(1), None);
    assert_eq!(
        view.wanted_search(2),
        Some(DupesAction::Find {
            threshold: 0.1,
            variants: false
        })
    );
}

#[test]
fn the_keyboard_walks_groups_and_photos_keeps_marks_compares_and_decides() {
    use eframe::egui::Key;
    let mut view = review();
    let groups = vec![
        group(&["a", "b", "c"], 3, &[(0, 1), (0, 2), (1, 2)]),
        group(&["d", "e"], 2, &[(0, 1)]),
    ];
    view.set_outcome(found(groups), 0.1, 1, 0.0);
    assert_eq!((view.current(), view.focused()), (0, Some(0)));
    // Down to b; X marks it, X again unmarks it, X once more marks it.
    assert_eq!(view.key(Key::ArrowDown), None);
    assert_eq!(view.focused(), Some(1));
    for marked in [true, false, true] {
        view.key(Key::X);
        assert_eq!(view.selected().contains(&PathBuf::from("b")), marked);
    }
    // X on the keeper marks nothing; Space on it compares nothing.
    view.key(Key::ArrowUp);
    view.key(Key::X);
    assert!(!view.selected().contains(&PathBuf::from("a")));
    assert_eq!(view.key(Key::Space), None);
    // Space on c compares it with the keeper; K keeps c (b stays marked: it is c's
    // copy too) and the keyboard stays on the photo kept.
    view.key(Key::ArrowDown);
    view.key(Key::ArrowDown);
    view.key(Key::ArrowDown); // past the last photo: stays on it
    assert_eq!(
        view.key(Key::Space),
        Some(DupesAction::Compare(PathBuf::from("a"), PathBuf::from("c")))
    );
    view.key(Key::K);
    assert_eq!(view.groups()[0].keeper(), 2);
    assert_eq!(view.focused(), Some(2));
    assert_eq!(moved(&view), [PathBuf::from("b")]);
    // → to the next group (past the last: stays), ← back; N decides on the group shown.
    view.key(Key::ArrowRight);
    view.key(Key::ArrowRight);
    assert_eq!((view.current(), view.focused()), (1, Some(0)));
    assert_eq!(
        view.key(Key::N),
        Some(DupesAction::Decide(
            Verdict::NotDuplicates,
            vec![PathBuf::from("d"), PathBuf::from("e")]
        ))
    );
    view.key(Key::ArrowLeft);
    assert_eq!(view.current(), 0);
}

#[test]
fn apply_to_all_says_what_moves_from_where_and_warns_of_catalogues_once() {
    let mut view = review();
    let mut groups = vec![
        group(&["/a/1.jpg", "/b/1.jpg", "/b/2.jpg"], 3, &[(0, 1), (0, 2)]),
        group(
            &["/p/IMG_1.CR3", "/p/IMG_1.JPG", "/a/IMG_1.jpg"],
            3,
            &[(0, 1), (0, 2)],
        ),
    ];
    for (n, photo) in groups
        .iter_mut()
        .flat_map(|g| g.photos.iter_mut())
        .enumerate()
    {
        photo.size = 1000 * (n as u64 + 1);
    }
    view.set_outcome(found(groups), 0.1, 1, 0.0);
    view.apply_to_all();
    let plan = view.plan().unwrap().clone();
    let mut paths: Vec<PathBuf> = plan.matches.iter().map(|m| m.file().path.clone()).collect();
    paths.sort();
    // Every copy but the RAW's own JPEG; the keepers stay.
    assert_eq!(
        paths,
        ["/a/IMG_1.jpg", "/b/1.jpg", "/b/2.jpg"].map(PathBuf::from)
    );
    assert_eq!(plan.groups, 2);
    assert_eq!(plan.bytes, 2000 + 3000 + 6000);
    assert_eq!(
        plan.folders,
        [
            (PathBuf::from("/a"), 1, 6000),
            (PathBuf::from("/b"), 2, 5000)
        ]
    );
    assert!(plan.warn_catalogue);
    // Once confirmed (the dialog sets it), a selection moves without asking again.
    view.catalogue_warned = true;
    view.select_all_but_keeper();
    assert!(matches!(view.move_selection(), Some(DupesAction::Remove(m)) if m.len() == 2));
    view.apply_to_all();
    assert!(!view.plan().unwrap().warn_catalogue);
    // New groups: no plan left over.
    view.set_outcome(found(Vec::new()), 0.1, 2, 0.0);
    assert!(view.plan().is_none());
}

/// Thousands of bursts (a large library): only those in sight are drawn, and only
/// their thumbnails asked for.
#[test]
fn only_the_bursts_in_sight_are_drawn() {
    let mut view = review();
    let series = (0..2000)
        .map(|n| Burst {
            photos: vec![photo(&format!("b{n}-1.jpg")), photo(&format!("b{n}-2.jpg"))],
            seconds: Some(0.3),
            offsets: vec![Some(0.0), Some(0.3)],
        })
        .collect();
    let found = FoundDuplicates {
        groups: Vec::new(),
        series,
    };
    view.set_outcome(JobEnd::Done(found), 0.1, 1, 0.0);
    let dir = tempfile::tempdir().unwrap();
    let ctx = egui::Context::default();
    let cache = crate::gui::thumbs::DiskCache::new(dir.path(), 1 << 20);
    let mut thumbs = Thumbnails::spawn(cache, 1, ctx.clone()).unwrap();
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(800.0, 600.0));
    let mut wanted = Vec::new();
    // The second frame draws with the heights the first measured.
    for _ in 0..2 {
        let input = egui::RawInput {
            screen_rect: Some(screen),
            ..Default::default()
        };
        let _ = ctx.run_ui(input, |ui| {
            let mut drawing = Drawing {
                thumbs: &mut thumbs,
                wanted: Vec::new(),
                action: None,
            };
            egui::ScrollArea::vertical().show(ui, |ui| view.series_section(ui, &mut drawing));
            wanted = std::mem::take(&mut drawing.wanted);
        });
    }
    assert!(
        wanted.len() >= 2 && wanted.len() < 40,
        "{} thumbnails asked for: {:?}",
        wanted.len(),
        wanted.first()
    );
    assert!(wanted.contains(&PathBuf::from("b0-1.jpg")));
}
