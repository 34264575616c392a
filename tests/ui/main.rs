//! The desktop app driven through egui_kittest, rendered with wgpu (lavapipe in CI):
//! open a folder, wait for indexing, query a photo, draw a box by dragging, switch on
//! query expansion and change the metric, and check the ranking; bad input shows a
//! message and the app keeps working. Snapshots of the main states are compared with
//! `tests/snapshots/*.png` (`UPDATE_SNAPSHOTS=1 cargo test --test ui` rewrites them).
#![cfg(feature = "gui")]

#[path = "../it/common/mod.rs"]
mod common;
mod review;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use lookalike::gui::protocol::WeightsConfig;
use lookalike::gui::settings::Settings;
use lookalike::gui::{AppConfig, LookalikeApp, ModelState};
use lookalike_core::cleanup::Destination;
use lookalike_core::describe::model::{Checksum, Network, Source};
use lookalike_core::{BackendChoice, find::search::Metric};

/// How long the app may take for one step of a test (indexing 20-odd photos on two
/// cores takes ~10 s).
const PATIENCE: Duration = Duration::from_secs(60);

fn app(tmp: &Path, model: Option<PathBuf>) -> Harness<'static, LookalikeApp> {
    app_with(tmp, model, nowhere(Network::Vgg16))
}

/// A source nothing listens at: a test that downloads brings its own server.
fn nowhere(network: Network) -> Source {
    Source {
        network,
        url: "http://127.0.0.1:9/weights".into(),
        checksum: Checksum::Md5(String::new()),
        size: 0,
    }
}

/// The app with `model` (or none), set to `source`'s network, whose official weights
/// are served by `source`.
fn app_with(tmp: &Path, model: Option<PathBuf>, source: Source) -> Harness<'static, LookalikeApp> {
    let settings = Settings {
        model,
        network: source.network,
        backend: BackendChoice::Cpu,
        ..Settings::default()
    };
    let mut weights = WeightsConfig {
        vgg16: nowhere(Network::Vgg16),
        googlenet: nowhere(Network::GoogLeNet),
        folder: tmp.join("models"),
    };
    match source.network {
        Network::Vgg16 => weights.vgg16 = source,
        Network::GoogLeNet => weights.googlenet = source,
    }
    let config = AppConfig {
        index_dir: tmp.join("indexes"),
        cache_dir: tmp.join("cache"),
        thumbnail_threads: 2,
        settings: Some(settings),
        journal: tmp.join("undo-journal.jsonl"),
        // A temporary trash: the real one is exercised by tests/it/dupes.rs.
        trash: Destination::Folder(tmp.join("trash")),
        weights,
    };
    std::fs::create_dir_all(tmp.join("trash")).unwrap();
    Harness::builder()
        .with_size(egui::Vec2::new(1280.0, 800.0))
        .wgpu()
        .build_eframe(move |cc| LookalikeApp::new(cc, config).expect("app starts"))
}

/// The app with the shared weights, `library` opened and indexed (`photos` of them).
fn indexed_library(
    tmp: &Path,
    shared: &Path,
    library: &Path,
    photos: usize,
) -> Harness<'static, LookalikeApp> {
    let mut harness = app(tmp, Some(common::shared_model(shared)));
    run_until(&mut harness, "the network", model_ready);
    harness.state_mut().open_folder(library.to_path_buf());
    harness.step();
    assert!(harness.state().is_indexing());
    run_until(&mut harness, "indexing", |app| {
        !app.is_indexing() && app.library_len() == Some(photos)
    });
    // Indexing is one run up to its last stage's end: the app is never seen idle while
    // the duplicate finder's variants are still to come (a snapshot once caught that).
    assert!(harness.state().variants_ready());
    harness
}

/// Steps the app until `done` holds, failing the test after [`PATIENCE`].
fn run_until(
    harness: &mut Harness<'static, LookalikeApp>,
    what: &str,
    done: impl Fn(&LookalikeApp) -> bool,
) {
    run_until_within(harness, what, PATIENCE, done);
}

/// [`run_until`], failing after `patience`.
fn run_until_within(
    harness: &mut Harness<'static, LookalikeApp>,
    what: &str,
    patience: Duration,
    done: impl Fn(&LookalikeApp) -> bool,
) {
    let started = Instant::now();
    while !done(harness.state()) {
        let app = harness.state();
        assert!(
            started.elapsed() < patience,
            "timed out waiting for {what}; notices: {:?}; indexing: {:?}; photos: {:?}; \
             failures: {:?}",
            app.notices(),
            app.indexing_progress(),
            app.library_len(),
            app.failures()
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the frame after the change settle (layout, textures).
    for _ in 0..3 {
        harness.step();
    }
}

fn model_ready(app: &LookalikeApp) -> bool {
    matches!(app.model_state(), ModelState::Ready { .. })
}

fn top_result(app: &LookalikeApp) -> String {
    let first = app.results().first().expect("at least one result");
    first
        .photo
        .path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Snapshots the window without the pointer, with the machine-specific engine label
/// (thread count) masked, and a fixed-size mask over each label containing one of
/// `hide` (temporary paths, whose length varies).
fn snapshot(harness: &mut Harness<'static, LookalikeApp>, name: &str, hide: &[&str]) {
    harness.remove_cursor();
    // Let windows find their size and place first.
    harness.run_steps(10);
    let mut rects: Vec<egui::Rect> = harness
        .query_all_by_label_contains("threads)")
        .map(|node| node.rect())
        .collect();
    for text in hide {
        rects.extend(
            harness
                .query_all_by_label_contains(text)
                .map(|node| egui::Rect::from_min_size(node.rect().min, egui::vec2(560.0, 64.0))),
        );
    }
    for rect in rects {
        harness.mask(rect);
    }
    harness.snapshot(name);
}

/// Dates every file of `names` in `library` alike, so that cards (which show dates)
/// look the same in every run.
fn fixed_dates(library: &Path, names: &[String]) {
    let date = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for name in names {
        let file = std::fs::File::options()
            .write(true)
            .open(library.join(name))
            .unwrap();
        file.set_modified(date).unwrap();
    }
}

/// Clicks "Move `n` to the trash" and says yes to the dialog of the first clean-up,
/// which says (once) that photo catalogues may lose track of the photos moved.
fn move_to_the_trash(harness: &mut Harness<'static, LookalikeApp>, n: usize) {
    harness
        .get_by_label(&format!("Move {n} to the trash"))
        .click();
    harness.run_steps(3);
    harness.get_by_label_contains("Lightroom or Capture One");
    assert_eq!(
        harness.state().duplicates().plan().unwrap().matches.len(),
        n
    );
    harness.get_by_label(&format!("Yes, move {n}")).click();
    harness.run_steps(5);
    assert!(harness.state().settings().catalogue_warned);
}

/// Drags with the primary button from `from` to `to` (screen points), in small steps.
fn drag(harness: &mut Harness<'static, LookalikeApp>, from: egui::Pos2, to: egui::Pos2) {
    harness.hover_at(from);
    harness.step();
    harness.drag_at(from);
    harness.step();
    for i in 1..=4 {
        harness.hover_at(from + (to - from) * (i as f32 / 4.0));
        harness.step();
    }
    harness.drop_at(to);
    harness.step();
}

#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn search_a_folder_by_box_with_query_expansion_and_another_metric() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("library");
    // Three originals among 20 distractors; the query is an edited copy of o021.
    common::neardup_library(
        &shared,
        &library,
        |n| ["o020.jpg", "o021.jpg", "o022.jpg"].contains(&n),
        20,
    );
    let query_dir = tmp.path().join("query");
    std::fs::create_dir_all(&query_dir).unwrap();
    let query = query_dir.join("o021_color.jpg");
    std::fs::copy(shared.join("data/neardup-dev/jpg/o021_color.jpg"), &query).unwrap();

    let mut harness = indexed_library(tmp.path(), &shared, &library, 23);
    assert!(harness.state().failures().is_empty());
    run_until(&mut harness, "thumbnails", |app| {
        app.pending_thumbnails() == 0
    });
    snapshot(&mut harness, "library_browse", &[]);
    // The grid fits its panel at any width: no column is cut at the window's edge.
    for width in [1280.0, 900.0] {
        harness.set_size(egui::Vec2::new(width, 800.0));
        harness.run_steps(5);
        let right = harness
            .query_all_by_label_contains(".jpg")
            .map(|node| node.rect().max.x)
            .fold(0.0f32, f32::max);
        assert!(right > width / 2.0, "the grid has more than one column");
        assert!(
            right <= width - 8.0,
            "the right-most cell ends at {right}, past the panel ({width} wide)"
        );
    }
    harness.set_size(egui::Vec2::new(1280.0, 800.0));
    harness.run_steps(5);

    // Drop the query photo on the window.
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(Dropped(query.clone())));
    harness.step();
    run_until(&mut harness, "full-image results", |app| {
        !app.is_searching() && !app.results().is_empty()
    });
    assert_eq!(top_result(harness.state()), "o021.jpg");
    assert_eq!(harness.state().crop_box(), None);

    // Draw the Oxford ground-truth box of o021 by dragging over the displayed photo.
    let gt = std::fs::read_to_string(shared.join("data/neardup-dev/gt/o021_query.txt")).unwrap();
    let b: Vec<f32> = gt
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    let mapping = harness.state().query_mapping().expect("query shown");
    let from = mapping.to_screen(egui::Pos2::new(b[0], b[1]));
    let to = mapping.to_screen(egui::Pos2::new(b[2], b[3]));
    drag(&mut harness, from, to);
    let drawn = harness.state().crop_box().expect("a box was drawn");
    // One screen point is image_width / shown_width pixels: allow that much rounding.
    let tolerance = f64::from(mapping.image.x / mapping.shown.width()) + 1.0;
    for (got, want) in [drawn.x1, drawn.y1, drawn.x2, drawn.y2].iter().zip(&b) {
        assert!(
            (got - f64::from(*want)).abs() <= tolerance,
            "{drawn} vs {b:?}"
        );
    }
    run_until(&mut harness, "box results", |app| {
        !app.is_searching() && !app.results().is_empty()
    });
    assert_eq!(top_result(harness.state()), "o021.jpg");

    // Settings panel: query expansion on, metric manhattan (under Advanced).
    for label in [
        "Settings",
        "Query expansion",
        "Advanced",
        "Distance",
        "manhattan",
    ] {
        harness.get_by_label(label).click();
        // A click is three events (move, press, release), taken one per step.
        harness.run_steps(5);
    }
    let settings = harness.state().settings().clone();
    assert!(settings.query_expansion);
    assert_eq!(settings.metric, Metric::Manhattan);
    // The intent's numbers were changed by hand: the toolbar says so.
    assert!(!settings.is_calibrated());
    let intent = harness.get_by_label("Similar means").value();
    assert_eq!(intent.as_deref(), Some("Same scene or object (adjusted)"));
    run_until(&mut harness, "results with QE and manhattan", |app| {
        !app.is_searching() && !app.results().is_empty()
    });
    assert_eq!(top_result(harness.state()), "o021.jpg");
    harness.remove_cursor();
    run_until(&mut harness, "thumbnails", |app| {
        app.pending_thumbnails() == 0
    });
    // The weights path depends on where the repository is checked out.
    snapshot(
        &mut harness,
        "query_box_results",
        &["vgg16_imagenet_features"],
    );

    // The other intent, from the toolbar: its calibrated numbers, and new results.
    let generation = harness.state().library_generation();
    for label in ["Similar means", "Same kind of picture"] {
        harness.get_by_label(label).click();
        harness.run_steps(5);
    }
    let settings = harness.state().settings().clone();
    assert_eq!(settings.intent, lookalike_core::Intent::Category);
    assert_eq!((settings.whiten_dim, settings.whiten_power), (32, 0.0));
    assert_eq!(settings.metric, Metric::Cosine);
    run_until(&mut harness, "results of the other intent", |app| {
        app.library_generation() > generation && !app.is_searching() && !app.results().is_empty()
    });

    // The UI thread never decoded a photo or ran the network ...
    assert_eq!(lookalike_core::support::guard::violations(), 0);
    // ... and no frame took long while indexing and searching ran beside it.
    let slowest = harness.state().slowest_frame();
    eprintln!("slowest frame: {:.1} ms", slowest.as_secs_f64() * 1e3);
    assert!(
        slowest < Duration::from_millis(100),
        "slowest frame {slowest:?}"
    );
    // The detector itself works: decoding here, on the UI thread, is caught.
    let bytes = std::fs::read(&query).unwrap();
    lookalike_core::read::imaging::decode_rgb(&query, &bytes, u64::MAX).unwrap();
    assert_eq!(lookalike_core::support::guard::violations(), 1);
}

/// `<tmp>/library`: two originals of neardup-dev and two distractors (4 photos).
fn two_photo_library(shared: &Path, tmp: &Path) -> PathBuf {
    let library = tmp.join("library");
    common::neardup_library(
        shared,
        &library,
        |n| ["o010.jpg", "o088.jpg"].contains(&n),
        2,
    );
    library
}

/// A library indexed before R-MAC became the default (SPoC) is described again when the
/// app opens it, the app says why, and the SPoC index is kept as it was (issue 24: the
/// app never replaces an index; each setting has its own file). An index of the app's
/// that cannot be read is moved aside, kept, and the app says so.
#[test]
fn a_library_indexed_with_spoc_is_described_again_with_r_mac() {
    use lookalike_core::describe::pooling::Pooling;
    use lookalike_core::index::{Index, index_file_name};
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let library = two_photo_library(&shared, tmp.path());
    // Where the app keeps the index of this folder (VGG16's name has no suffix).
    let index = tmp
        .path()
        .join("indexes")
        .join(index_file_name(&library, ""));
    std::fs::create_dir_all(index.parent().unwrap()).unwrap();
    let model = common::shared_model(&shared);
    let spoc = ["--no-variants", "--pooling", "spoc"];
    let (code, _, stderr) = common::index_json(&model, &library, &index, &spoc);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        Index::read_provenance(&index).unwrap().pooling,
        Pooling::Spoc
    );

    let spoc_bytes = std::fs::read(&index).unwrap();
    let harness = indexed_library(tmp.path(), &shared, &library, 4);
    let notices = harness.state().notices().join("\n");
    assert!(
        notices.contains("described with SPoC before; describing them again with R-MAC"),
        "{notices}"
    );
    assert_eq!(
        std::fs::read(&index).unwrap(),
        spoc_bytes,
        "the SPoC index changed"
    );
    let indexes = |what: &str| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(index.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains(what))
            .collect()
    };
    let rmac: Vec<_> = indexes("-rmac-")
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "lkidx"))
        .collect();
    assert_eq!(rmac.len(), 1, "{rmac:?}");
    assert_eq!(
        Index::read_provenance(&rmac[0]).unwrap().pooling,
        Pooling::Rmac
    );
    drop(harness);

    // A newer format (or a corrupt file) where the app's index is: kept aside, said.
    let mut newer = b"LKALIDX\n".to_vec();
    newer.extend_from_slice(&99u32.to_le_bytes());
    newer.extend_from_slice(b"a body this build cannot read");
    std::fs::write(&rmac[0], &newer).unwrap();
    let harness = indexed_library(tmp.path(), &shared, &library, 4);
    let notices = harness.state().notices().join("\n");
    assert!(notices.contains("could not be read"), "{notices}");
    let aside = indexes(".unreadable-");
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), newer);
    assert_eq!(std::fs::read(&index).unwrap(), spoc_bytes);
}

/// Issue 24: a library on a drive that is not connected (an empty mount point where it
/// was) keeps its descriptions: the app asks, and drops them only when told to.
#[test]
fn a_library_whose_photos_are_gone_is_asked_about_not_dropped() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let library = two_photo_library(&shared, tmp.path());
    let harness = indexed_library(tmp.path(), &shared, &library, 4);
    drop(harness);
    let indexes = tmp.path().join("indexes");
    let saved = |dir: &Path| -> Vec<Vec<u8>> {
        let mut all: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "lkidx"))
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        all.sort();
        all
    };
    let before = saved(&indexes);
    std::fs::rename(&library, tmp.path().join("unplugged")).unwrap();
    std::fs::create_dir(&library).unwrap();

    let mut harness = app(tmp.path(), Some(common::shared_model(&shared)));
    run_until(&mut harness, "the network", model_ready);
    harness.state_mut().open_folder(library.clone());
    run_until(&mut harness, "the question", |app| {
        app.missing_photos().is_some()
    });
    assert_eq!(harness.state().missing_photos().unwrap().1, 4);
    assert_eq!(
        saved(&indexes),
        before,
        "an index changed before the user said"
    );
    harness.run_steps(2);
    harness.get_by_label("Forget missing photos").click();
    harness.run_steps(2);
    run_until(&mut harness, "an empty library", |app| {
        !app.is_indexing() && app.library_len() == Some(0) && app.missing_photos().is_none()
    });
}

/// The app searches through the photos' turned views with the query turned too (the
/// "same scene or object" intent): a copy turned a quarter ranks right after its
/// original, where without the views it ranks below unrelated photos (o088's turned
/// copy ranks 1,786th of neardup-dev's 2,479 without them).
#[test]
fn a_turned_copy_ranks_right_after_its_original() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("library");
    common::neardup_library(
        &shared,
        &library,
        |n| ["o088.jpg", "o088_rot90.jpg", "o010.jpg", "o010_rot90.jpg"].contains(&n),
        10,
    );
    let mut harness = indexed_library(tmp.path(), &shared, &library, 14);
    for original in ["o088", "o010"] {
        let query = library.join(format!("{original}.jpg"));
        harness
            .input_mut()
            .dropped_files
            .push(Arc::new(Dropped(query)));
        harness.step();
        run_until(&mut harness, "full-image results", |app| {
            !app.is_searching()
                && app.results().len() == 14
                && top_result(app) == format!("{original}.jpg")
        });
        let names: Vec<String> = harness
            .state()
            .results()
            .iter()
            .map(|r| r.photo.path.file_name().unwrap().to_string_lossy().into())
            .collect();
        assert_eq!(names[0], format!("{original}.jpg"), "{names:?}");
        assert_eq!(names[1], format!("{original}_rot90.jpg"), "{names:?}");
    }
}

#[test]
fn bad_input_shows_a_message_and_the_app_keeps_working() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();

    // Weights of the wrong shape: the first-run dialog names the problem.
    let bad_weights = tmp.path().join("wrong.safetensors");
    let real = std::fs::read(common::shared_model(&shared)).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&real).unwrap();
    let data = vec![0u8; 4 * 8];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![8], &data).unwrap();
    safetensors::serialize_to_file(
        [("features.0.weight", view)],
        header.metadata().clone(),
        &bad_weights,
    )
    .unwrap();
    let mut harness = app(tmp.path(), Some(bad_weights));
    run_until(&mut harness, "the weights problem", |app| {
        matches!(app.model_state(), ModelState::Problem { .. })
    });
    let ModelState::Problem { message, .. } = harness.state().model_state().clone() else {
        unreachable!()
    };
    assert!(message.contains("wrong.safetensors"), "{message}");
    assert!(message.contains("features.0.weight"), "{message}");
    harness.get_by_label("The VGG16 weights are needed");
    // The message names a temporary (so ever-changing) path: keep it out of the image.
    snapshot(&mut harness, "weights_dialog", &["wrong.safetensors"]);

    // Typing the right file's path into the dialog fixes it.
    let model = common::shared_model(&shared);
    harness.get_by_label("Weights file").click();
    harness.run_steps(5);
    harness
        .get_by_label("Weights file")
        .type_text(model.to_str().unwrap());
    harness.run_steps(2);
    harness.get_by_label("Use").click();
    harness.run_steps(5);
    run_until(&mut harness, "the network", model_ready);
    assert!(
        harness
            .query_by_label("The VGG16 weights are needed")
            .is_none()
    );

    // A corrupt query photo.
    let corrupt = tmp.path().join("corrupt.jpg");
    std::fs::write(&corrupt, b"\xff\xd8\xff\xe0 truncated").unwrap();
    harness.state_mut().open_query(corrupt);
    run_until(&mut harness, "the query error", |app| {
        app.notices().iter().any(|n| n.contains("corrupt.jpg"))
    });

    // A folder with no images.
    let empty = tmp.path().join("no-photos");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "not a photo").unwrap();
    // The results never move under a pointer left over the grid: keep it away.
    harness.remove_cursor();
    harness.state_mut().open_folder(empty);
    run_until(&mut harness, "the empty-folder message", |app| {
        !app.is_indexing() && app.notices().iter().any(|n| n.contains("No photos found"))
    });

    // A folder deleted while it is being indexed.
    let doomed = tmp.path().join("doomed");
    common::neardup_library(&shared, &doomed, |_| false, 60);
    harness.remove_cursor();
    harness.state_mut().open_folder(doomed.clone());
    run_until(&mut harness, "indexing to start", |app| {
        app.indexing_progress().is_some_and(|(done, _)| done >= 1)
    });
    std::fs::remove_dir_all(&doomed).unwrap();
    run_until(&mut harness, "indexing to end", |app| !app.is_indexing());
    let reported = harness.state().failures().len()
        + harness
            .state()
            .notices()
            .iter()
            .filter(|n| n.contains("doomed"))
            .count();
    assert!(reported > 0, "the vanished files must be reported");

    // And the app still works: a good folder indexes and searches.
    let good = tmp.path().join("good");
    common::neardup_library(
        &shared,
        &good,
        |n| n == "o030.jpg" || n == "o030_hflip.jpg",
        0,
    );
    // Opened while a big folder is still indexing: the big one is dropped, and its
    // (stopped) run must not come back as the library afterwards.
    let big = tmp.path().join("big");
    common::neardup_library(&shared, &big, |_| false, 60);
    harness.remove_cursor();
    harness.state_mut().open_folder(big);
    run_until(&mut harness, "the big folder to start", |app| {
        app.indexing_progress().is_some_and(|(done, _)| done >= 1)
    });
    harness.remove_cursor();
    harness.state_mut().open_folder(good.clone());
    run_until(&mut harness, "indexing", |app| {
        !app.is_indexing() && app.library_len() == Some(2)
    });
    harness.run_steps(20);
    assert_eq!(harness.state().library_len(), Some(2));
    let (last, _) = harness.state().last_run().unwrap();
    assert!(last.ends_with("good"), "{}", last.display());
    harness.state_mut().open_query(good.join("o030_hflip.jpg"));
    run_until(&mut harness, "results", |app| {
        !app.is_searching() && app.results().len() == 2
    });
    assert_eq!(top_result(harness.state()), "o030_hflip.jpg");
    harness.get_by_label("Failed files (0)");
}

/// Issue 25: a JPEG cut short is indexed and searchable, and marked: "DAMAGED" in the
/// grid (why on hover) and listed, with why, beside the files that failed.
#[test]
fn a_cut_short_photo_is_marked_damaged_in_the_grid_and_the_list() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let library = two_photo_library(&shared, tmp.path());
    let whole = std::fs::read(shared.join("data/neardup-dev/jpg/o030.jpg")).unwrap();
    std::fs::write(library.join("cut.jpg"), &whole[..whole.len() / 2]).unwrap();
    let mut harness = indexed_library(tmp.path(), &shared, &library, 5);
    let failures = harness.state().failures().to_vec();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(
        failures[0].kind,
        lookalike_core::index::FailureKind::Damaged
    );
    assert!(failures[0].path.ends_with("cut.jpg"), "{failures:?}");
    harness.get_by_label_contains("DAMAGED · cut.jpg");
    harness.get_by_label("Failed or damaged files (1)").click();
    harness.run_steps(3);
    harness.get_by_label("Files that could not be indexed or are damaged (1)");
    harness.get_by_label("damaged photo (searchable)");
    let why = "cut short: the file ends inside the picture";
    assert!(harness.query_all_by_label_contains(why).next().is_some());
}

#[test]
fn duplicates_are_reviewed_moved_to_the_trash_and_restored_byte_for_byte() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("library");
    let names = common::neardup_library(&shared, &library, |n| n.starts_with("o020"), 6);
    fixed_dates(&library, &names);
    let mut harness = indexed_library(tmp.path(), &shared, &library, names.len());
    run_until(&mut harness, "the turned and small photos", |app| {
        app.variants_ready() && !app.is_indexing()
    });

    // By default the turned and small copies are matched: the turned copy is in.
    harness.get_by_label("Duplicates").click();
    harness.run_steps(5);
    run_until(&mut harness, "the groups", |app| {
        !app.duplicates().busy && !app.duplicates().groups().is_empty()
    });
    // A group "has" its keeper and its verified copies (not the photos only similar).
    let members = |group: &lookalike::gui::protocol::DuplicateGroup| {
        std::iter::once(group.keeper())
            .chain(group.group.copies())
            .count()
    };
    let has = |group: &lookalike::gui::protocol::DuplicateGroup, name: &str| {
        std::iter::once(group.keeper())
            .chain(group.group.copies())
            .any(|i| group.photos[i].path.ends_with(name))
    };
    let with_variants = members(&harness.state().duplicates().groups()[0]);
    assert!(has(
        &harness.state().duplicates().groups()[0],
        "o020_rot90.jpg"
    ));

    // Without them, the turned copy leaves its group; with them again, it is back.
    for (tick, turned_in) in [(false, false), (true, true)] {
        harness.get_by_label("Also turned and small copies").click();
        harness.run_steps(5);
        assert_eq!(harness.state().duplicates().variants, tick);
        run_until(&mut harness, "the groups again", |app| {
            !app.duplicates().busy
                && app
                    .duplicates()
                    .groups()
                    .first()
                    .is_some_and(|g| (members(g) == with_variants) == turned_in)
        });
        let first = &harness.state().duplicates().groups()[0];
        assert_eq!(has(first, "o020_rot90.jpg"), turned_in, "{first:?}");
    }
    let group = harness.state().duplicates().groups()[0].clone();
    assert!(has(&group, "o020_rot90.jpg"), "{group:?}");
    let name = |i: usize| {
        group.photos[i]
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    assert!(
        (0..group.photos.len()).all(|i| name(i).starts_with("o020")),
        "{group:?}"
    );

    // Change the keeper, then select all the others.
    // (One of the first two cards: the others may be scrolled out of view.)
    let keeper = if group.keeper() == 0 { 1 } else { 0 };
    harness
        .get_by_label(&format!("Keep {}", name(keeper)))
        .click();
    harness.run_steps(5);
    let rekeyed = harness.state().duplicates().groups()[0].clone();
    assert_eq!(rekeyed.keeper(), keeper);
    harness.get_by_label("Select all but the keeper").click();
    harness.run_steps(5);
    // Exactly the photos verified with the new keeper, which is not one of them.
    let chosen = harness.state().duplicates().selected().clone();
    let copies: std::collections::HashSet<_> = rekeyed
        .group
        .copies()
        .map(|i| rekeyed.photos[i].path.clone())
        .collect();
    assert_eq!(chosen, copies);
    assert!(!chosen.is_empty());
    assert!(!chosen.contains(&group.photos[keeper].path));
    run_until(&mut harness, "thumbnails", |app| {
        app.pending_thumbnails() == 0
    });
    snapshot(&mut harness, "duplicates_review", &[]);

    // Move them to the (temporary) trash: gone from the library, nothing deleted.
    let before = harness.state().library_generation();
    move_to_the_trash(&mut harness, chosen.len());
    run_until(&mut harness, "the library after the move", |app| {
        app.library_generation() > before && app.library_len() == Some(names.len() - chosen.len())
    });
    for path in &chosen {
        assert!(!path.exists(), "{} still in the library", path.display());
    }
    assert_eq!(
        std::fs::read_dir(tmp.path().join("trash")).unwrap().count(),
        chosen.len()
    );

    // Undo: every file is back where it was, byte for byte.
    let before = harness.state().library_generation();
    harness.get_by_label("Undo last clean-up").click();
    harness.run_steps(5);
    run_until(&mut harness, "the library after the undo", |app| {
        app.library_generation() > before && app.library_len() == Some(names.len())
    });
    for name in &names {
        let original = std::fs::read(shared.join("data/neardup-dev/jpg").join(name)).unwrap();
        assert_eq!(
            std::fs::read(library.join(name)).unwrap(),
            original,
            "{name}"
        );
    }
    assert_eq!(
        std::fs::read_dir(tmp.path().join("trash")).unwrap().count(),
        0
    );
}

/// Issue 9: whatever the user selected before, the keeper is never moved. A library
/// with a symbolic link to one of its folders, a symbolic link to a file, a hard link and
/// one real byte-identical copy: the links and the hard link are one photo each, so the
/// only group is the photo and its real copy; a selection made before the keeper changed,
/// or before the groups were found again, is never sent; only the real copy goes, and
/// Undo brings it back.
#[cfg(unix)]
#[test]
fn the_keeper_is_never_moved_whatever_was_selected_before() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let library = common::linked_library(&shared, tmp.path());
    let before = common::real_files(&library);
    // o020 (and its hard link), o021, o022, o023 and the copy of o021.
    let mut harness = indexed_library(tmp.path(), &shared, &library, 5);
    harness.get_by_label("Duplicates").click();
    harness.run_steps(5);
    run_until(&mut harness, "the groups", |app| {
        !app.duplicates().busy && !app.duplicates().groups().is_empty()
    });
    let groups = harness.state().duplicates().groups().to_vec();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].photos.len(), 2, "{groups:?}");
    let name = |g: &lookalike::gui::protocol::DuplicateGroup, i: usize| {
        g.photos[i]
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    let keeper = groups[0].keeper();
    let other = 1 - keeper;

    // Select the copy, then make it the keeper: it is unselected, nothing can move.
    harness.get_by_label("Select all but the keeper").click();
    harness.run_steps(3);
    harness
        .get_by_label(&format!("Keep {}", name(&groups[0], other)))
        .click();
    harness.run_steps(3);
    assert!(harness.state().duplicates().selected().is_empty());
    assert!(harness.state().duplicates().removal().is_empty());
    harness.get_by_label("Move 0 to the trash");

    // Select all but the new keeper, then find the groups again (variants off): the
    // new groups start with nothing selected, whatever was selected before.
    harness.get_by_label("Select all but the keeper").click();
    harness.run_steps(3);
    assert_eq!(harness.state().duplicates().removal().len(), 1);
    harness.get_by_label("Also turned and small copies").click();
    harness.run_steps(5);
    run_until(&mut harness, "the groups again", |app| {
        !app.duplicates().busy && !app.duplicates().groups().is_empty() && !app.is_indexing()
    });
    assert!(harness.state().duplicates().selected().is_empty());
    harness.get_by_label("Move 0 to the trash");

    // Now all but the keeper, and move: only the real copy goes.
    let group = harness.state().duplicates().groups()[0].clone();
    assert_eq!(group.photos.len(), 2, "{group:?}");
    let kept = group.photos[group.keeper()].path.clone();
    harness.get_by_label("Select all but the keeper").click();
    harness.run_steps(3);
    let removal = harness.state().duplicates().removal();
    assert_eq!(removal.len(), 1);
    assert_eq!(removal[0].keeper().path, kept);
    assert_ne!(removal[0].file().path, kept);
    let generation = harness.state().library_generation();
    move_to_the_trash(&mut harness, 1);
    run_until(&mut harness, "the library after the move", |app| {
        app.library_generation() > generation && app.library_len() == Some(4)
    });
    assert!(kept.exists());
    let after = common::real_files(&library);
    for (bytes, paths) in &before {
        assert!(
            after.get(bytes).is_some_and(|p| !p.is_empty()),
            "no real file left of {paths:?}"
        );
    }
    let moved: Vec<_> = before
        .values()
        .flatten()
        .filter(|p| !p.exists())
        .cloned()
        .collect();
    assert_eq!(
        moved,
        [removal[0].file().path.clone()],
        "only the real copy may go"
    );
    for link in ["linked", "alias.jpg"] {
        assert!(
            std::fs::symlink_metadata(library.join(link))
                .unwrap()
                .is_symlink()
        );
    }

    // Undo: everything that moved is back.
    let generation = harness.state().library_generation();
    harness.get_by_label("Undo last clean-up").click();
    harness.run_steps(5);
    run_until(&mut harness, "the library after the undo", |app| {
        app.library_generation() > generation && app.library_len() == Some(5)
    });
    assert_eq!(common::real_files(&library), before);
}

/// A RAW and the JPEG the camera wrote beside it are one photo in the grid, marked
/// "RAW+JPEG", and a search shows the pair once.
#[test]
fn a_raw_and_its_jpeg_are_one_photo_with_a_badge() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("library");
    let names = common::neardup_library(&shared, &library, |n| n.starts_with("o030"), 0);
    let preview = common::raw::preview_jpeg(&shared, 1024);
    let thumb = common::raw::preview_jpeg(&shared, 160);
    std::fs::write(library.join("IMG_1.JPG"), &preview).unwrap();
    let raw = common::raw::tiff_raw(b"II*\0", &preview, &thumb, 1);
    std::fs::write(library.join("IMG_1.DNG"), raw).unwrap();
    // Both files are indexed; the grid shows the pair once.
    let mut harness = indexed_library(tmp.path(), &shared, &library, names.len() + 1);
    let photos = harness.state().library_photos();
    assert!(
        photos.iter().all(|p| !p.path.ends_with("IMG_1.JPG")),
        "{photos:?}"
    );
    let pair = photos
        .iter()
        .find(|p| p.path.ends_with("IMG_1.DNG"))
        .expect("the RAW is shown");
    assert!(pair.sibling.as_ref().unwrap().ends_with("IMG_1.JPG"));
    run_until(&mut harness, "thumbnails", |app| {
        app.pending_thumbnails() == 0
    });
    harness.get_by_label_contains("RAW+JPEG · IMG_1.DNG");
    // Searching with the JPEG: the pair comes first, once.
    harness.state_mut().open_query(library.join("IMG_1.JPG"));
    run_until(&mut harness, "results", |app| {
        !app.is_searching() && !app.results().is_empty()
    });
    let results = harness.state().results();
    assert!(results[0].photo.path.ends_with("IMG_1.DNG"), "{results:?}");
    assert!(results.iter().all(|r| !r.photo.path.ends_with("IMG_1.JPG")));
}

/// A job that crashes ends with a message; the app never shows "Indexing…" forever and
/// keeps working.
#[test]
fn a_crashing_job_ends_with_a_message_and_the_app_goes_on() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let crashing = tmp.path().join("crashing-library-for-the-ui-test");
    common::neardup_library(&shared, &crashing, |n| n.starts_with("o030"), 0);
    lookalike_core::support::isolate::inject_fault("crashing-library-for-the-ui-test");
    let mut harness = app(tmp.path(), Some(common::shared_model(&shared)));
    run_until(&mut harness, "the network", model_ready);
    harness.state_mut().open_folder(crashing);
    harness.step();
    run_until(&mut harness, "the end of the crashed job", |app| {
        !app.is_indexing()
    });
    let notices = harness.state().notices().join("\n");
    assert!(notices.contains("Indexing stopped"), "{notices}");
    assert!(notices.contains("injected test fault"), "{notices}");
    // The app still works: another folder indexes.
    let good = tmp.path().join("good");
    common::neardup_library(&shared, &good, |n| n.starts_with("o030"), 0);
    harness.state_mut().open_folder(good);
    harness.step();
    run_until(&mut harness, "indexing the good folder", |app| {
        !app.is_indexing() && app.library_len().is_some_and(|n| n > 0)
    });
}

/// Serves `body` once over HTTP on a free local port; returns the URL of `name`.
fn serve_once(body: Vec<u8>, name: &str) -> String {
    use std::io::{BufRead, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/{name}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = std::io::BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 2 {
            line.clear();
        }
        let mut stream = reader.into_inner();
        let header = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(header.as_bytes()).unwrap();
        let _ = stream.write_all(&body);
    });
    url
}

#[test]
fn first_run_download_checks_and_converts_the_weights() {
    use md5::Digest as _;
    let tmp = tempfile::tempdir().unwrap();
    // A Keras-layout file with the right shapes stands in for the official one.
    let h5 = tmp.path().join("served.h5");
    common::write_keras_h5(&h5, |_, spec| {
        let n = 9 * spec.in_channels * spec.out_channels;
        (vec![0.01; n], vec![0.0; spec.out_channels])
    });
    let body = std::fs::read(&h5).unwrap();
    let md5: String = md5::Md5::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let name = lookalike_core::describe::model::KERAS_NOTOP_FILE;

    // Starts the app without weights and presses Download, served `body` with `md5`.
    let download = |md5: String| {
        let source = Source {
            network: Network::Vgg16,
            url: serve_once(body.clone(), name),
            checksum: Checksum::Md5(md5),
            size: body.len() as u64,
        };
        let mut harness = app_with(
            tmp.path(),
            Some(tmp.path().join("none.safetensors")),
            source,
        );
        run_until(&mut harness, "the first-run dialog", |app| {
            matches!(app.model_state(), ModelState::Problem { .. })
        });
        harness
            .get_by_label("Download the official weights (59 MB)")
            .click();
        harness.run_steps(5);
        harness
    };

    // A file whose MD5 is not the published one is refused, and nothing is left behind.
    let mut harness = download("0".repeat(32));
    run_until(&mut harness, "the refusal", |app| {
        app.download_error().is_some()
    });
    let error = harness.state().download_error().unwrap().to_string();
    assert!(error.contains("MD5"), "{error}");
    assert!(
        !tmp.path()
            .join("models")
            .join(format!("{name}.part"))
            .exists()
    );
    assert!(matches!(
        harness.state().model_state(),
        ModelState::Problem { .. }
    ));
    drop(harness);

    // The right file: downloaded with progress, checked, converted and loaded.
    let mut harness = download(md5);
    run_until(&mut harness, "the downloaded network", model_ready);
    let ModelState::Ready { path, .. } = harness.state().model_state().clone() else {
        unreachable!()
    };
    assert_eq!(
        path,
        tmp.path()
            .join("models")
            .join(lookalike_core::describe::model::MODEL_FILE_NAME)
    );
    assert_eq!(
        std::fs::read(tmp.path().join("models").join(name)).unwrap(),
        body
    );
    assert!(
        harness
            .query_by_label("The VGG16 weights are needed")
            .is_none()
    );
    drop(harness);

    // Choosing a Keras file (instead of downloading it) converts it the same way.
    let other = tempfile::tempdir().unwrap();
    let mut harness = app(other.path(), Some(h5.clone()));
    run_until(&mut harness, "the converted network", model_ready);
    let ModelState::Ready { path, .. } = harness.state().model_state().clone() else {
        unreachable!()
    };
    assert_eq!(
        path,
        other
            .path()
            .join("models")
            .join(lookalike_core::describe::model::MODEL_FILE_NAME)
    );
}

/// Copies `count` photos of imagenette `val` (the same number from each class) into
/// `dir`, named `<class>_<name>`.
fn imagenette_library(shared: &Path, dir: &Path, count: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let val = shared.join("data/imagenette/val");
    let mut classes: Vec<PathBuf> = std::fs::read_dir(&val)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    classes.sort();
    let per_class = count.div_ceil(classes.len());
    let mut copied = Vec::new();
    for class in &classes {
        let mut files: Vec<PathBuf> = std::fs::read_dir(class)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files.into_iter().take(per_class) {
            let name = format!(
                "{}_{}",
                class.file_name().unwrap().to_string_lossy(),
                file.file_name().unwrap().to_string_lossy()
            );
            std::fs::copy(&file, dir.join(&name)).unwrap();
            copied.push(dir.join(name));
        }
    }
    copied.truncate(count);
    copied
}

#[test]
fn a_large_folder_is_browsed_and_searched_while_it_is_indexed() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // Indexing waits 100 ms per photo in this folder (test hook), so that "before half
    // of it is described" lasts long enough on any machine.
    let library = tmp.path().join("slowly-indexed");
    let photos = imagenette_library(&shared, &library, 200);
    lookalike_core::support::isolate::inject_delay("slowly-indexed", Duration::from_millis(100));
    // The query: a photo of the same kind that is not in the library.
    let query = shared.join("data/imagenette/train-whiten/n03394916");
    let query = std::fs::read_dir(&query)
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();

    let mut harness = app(tmp.path(), Some(common::shared_model(&shared)));
    run_until(&mut harness, "the network", model_ready);
    // Small images keep the test short; the CLI below uses the same size.
    harness.state_mut().settings_mut().max_side = 128;
    harness.state_mut().open_folder(library.clone());
    let before_half = |app: &LookalikeApp| {
        app.indexing_progress()
            .is_some_and(|(done, total)| total.is_some_and(|t| t == 200 && done * 2 < t))
    };
    // The grid shows the photos found, with their thumbnails, before they are described.
    run_until(&mut harness, "the photos found", |app| {
        app.library_waiting() > 0 && app.pending_thumbnails() == 0
    });
    assert!(
        before_half(harness.state()),
        "{:?}",
        harness.state().indexing_progress()
    );
    let shown = harness.query_all_by_label_contains(".JPEG").count();
    assert!(shown >= 8, "{shown} photos on screen");
    assert!(harness.state().failures().is_empty());

    // A query runs against the photos described so far.
    harness.state_mut().open_query(query.clone());
    run_until(&mut harness, "results while indexing", |app| {
        !app.is_searching() && !app.results().is_empty()
    });
    let app = harness.state();
    assert!(before_half(app), "{:?}", app.indexing_progress());
    assert!(!app.library_complete());
    let shown = app.library_photos().len();
    assert!(shown < 100, "{shown} described");
    // The search ranked the photos described when it ran, which may be newer than the
    // grid's last refresh: the next refresh shows all of them as described.
    let hits: Vec<PathBuf> = app.results().iter().map(|h| h.photo.path.clone()).collect();
    let generation = app.library_generation();
    run_until(&mut harness, "the next refresh", |app| {
        app.library_generation() > generation
    });
    let described: std::collections::HashSet<PathBuf> = harness
        .state()
        .library_photos()
        .into_iter()
        .map(|p| p.path)
        .collect();
    for hit in &hits {
        assert!(described.contains(hit), "{hit:?} is not described");
    }

    // Newly described photos never move the results under the pointer: they wait,
    // and say so, until it leaves the grid.
    let first = harness.state().results()[0].photo.path.clone();
    let name = first.file_name().unwrap().to_string_lossy().into_owned();
    let cell = harness
        .query_all_by_label_contains(&name)
        .next()
        .expect("the best result on screen")
        .rect()
        .center();
    harness.hover_at(egui::pos2(cell.x as f32, cell.y as f32));
    harness.run_steps(3);
    let generation = harness.state().library_generation();
    let held = Instant::now();
    while held.elapsed() < Duration::from_secs(5) {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!harness.state().library_complete());
    assert_eq!(harness.state().library_generation(), generation);
    harness.get_by_label_contains("newer results wait until the pointer leaves the grid");
    harness.remove_cursor();
    run_until(&mut harness, "the results to refresh", |app| {
        app.library_generation() > generation
    });

    // When indexing ends, the same query ranks the whole library, as the CLI does.
    // 200 photos: half a minute on two cores.
    let patience = Duration::from_secs(300);
    run_until_within(&mut harness, "the whole library", patience, |app| {
        app.library_complete() && app.library_len() == Some(200)
    });
    run_until(&mut harness, "the final results", |app| {
        !app.is_searching() && app.results().len() == 60
    });
    let app_ranking: Vec<PathBuf> = harness
        .state()
        .results()
        .iter()
        .map(|hit| hit.photo.path.clone())
        .collect();
    let model = common::shared_model(&shared);
    let index = tmp.path().join("cli.lkidx");
    let (code, _, stderr) = common::index_json(
        &model,
        &library,
        &index,
        &["--no-variants", "--max-side", "128"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (code, json, stderr) = common::search_json(&model, &index, &query, &["--top", "60"]);
    assert_eq!(code, Some(0), "{stderr}");
    let cli_ranking: Vec<PathBuf> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| PathBuf::from(r["path"].as_str().unwrap()))
        .collect();
    assert_eq!(app_ranking, cli_ranking);
    assert!(photos.iter().all(|p| p.exists()));
}

#[test]
fn the_default_duplicates_view_finds_the_groups_the_cli_finds() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("library");
    let names = common::neardup_library(
        &shared,
        &library,
        |n| n.starts_with("o030") || n.starts_with("o031"),
        12,
    );
    let mut harness = indexed_library(tmp.path(), &shared, &library, names.len());
    // Indexing also describes the turned and small photos: the defaults use them.
    run_until(&mut harness, "the turned and small photos", |app| {
        app.variants_ready() && !app.is_indexing()
    });
    harness.get_by_label("Duplicates").click();
    harness.run_steps(5);
    run_until(&mut harness, "the groups", |app| {
        !app.duplicates().busy && !app.duplicates().groups().is_empty()
    });
    let sorted = |mut groups: Vec<Vec<String>>| {
        groups.iter_mut().for_each(|g| g.sort());
        groups.sort();
        groups
    };
    let app_groups = sorted(
        harness
            .state()
            .duplicates()
            .groups()
            .iter()
            .map(|g| {
                std::iter::once(g.keeper())
                    .chain(g.group.copies())
                    .map(|i| g.photos[i].path.to_string_lossy().into_owned())
                    .collect()
            })
            .collect(),
    );

    let model = common::shared_model(&shared);
    let index = tmp.path().join("cli.lkidx");
    let (code, _, stderr) = common::index_json(&model, &library, &index, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, json, stderr) = common::lookalike_json([
        "dupes".as_ref(),
        "--json".as_ref(),
        "--index".as_ref(),
        index.as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let cli_groups = sorted(
        json["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                g["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["path"].as_str().unwrap().to_string())
                    .collect()
            })
            .collect(),
    );
    assert_eq!(app_groups, cli_groups);
    // The defaults find the turned copies too.
    assert!(
        app_groups
            .iter()
            .any(|g| g.iter().any(|p| p.ends_with("o030_rot90.jpg"))
                && g.iter().any(|p| p.ends_with("o030.jpg")))
    );
}

/// GoogLeNet from the first-run dialog: downloaded only on request, refused when its
/// SHA-256 does not start with the prefix torchvision publishes, converted when it
/// does; a library is then indexed and searched with it, and switching to VGG16 in the
/// settings re-indexes the library with VGG16 into its own index.
#[test]
fn googlenet_is_downloaded_checked_and_searches_a_library() {
    use sha2::Digest as _;
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let body = std::fs::read(shared.join("models/googlenet_random_test.pth")).unwrap();
    let sha256: String = sha2::Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let name = "googlenet-1378be20.pth";
    let download = |prefix: &str| {
        let source = Source {
            network: Network::GoogLeNet,
            url: serve_once(body.clone(), name),
            checksum: Checksum::Sha256Prefix(prefix.into()),
            size: body.len() as u64,
        };
        let mut harness = app_with(tmp.path(), None, source);
        run_until(&mut harness, "the first-run dialog", |app| {
            matches!(app.model_state(), ModelState::Problem { .. })
        });
        assert!(
            harness
                .query_by_label("The GoogLeNet weights are needed")
                .is_some()
        );
        harness
            .get_by_label("Download the official GoogLeNet weights (50 MB)")
            .click();
        harness.run_steps(5);
        harness
    };

    // torchvision's prefix is not this file's: refused, nothing left behind.
    let mut harness = download("1378be20");
    run_until(&mut harness, "the refusal", |app| {
        app.download_error().is_some()
    });
    let error = harness.state().download_error().unwrap().to_string();
    assert!(error.contains("SHA-256"), "{error}");
    assert!(
        !tmp.path()
            .join("models")
            .join(format!("{name}.part"))
            .exists()
    );
    drop(harness);

    // The file's own prefix: downloaded, converted and loaded as GoogLeNet.
    let mut harness = download(&sha256[..8]);
    run_until(&mut harness, "the downloaded network", model_ready);
    let ModelState::Ready { path, .. } = harness.state().model_state().clone() else {
        unreachable!()
    };
    let models = tmp.path().join("models");
    assert_eq!(path, models.join("googlenet_imagenet.safetensors"));
    assert_eq!(harness.state().settings().network, Network::GoogLeNet);

    // A library indexed and searched with it: a photo of the library finds itself first.
    // (The pointer left on the dialog's button would hold the grid back.)
    harness.remove_cursor();
    let library = tmp.path().join("library");
    let photos = imagenette_library(&shared, &library, 10);
    harness.state_mut().settings_mut().max_side = 256;
    harness.state_mut().open_folder(library.clone());
    run_until(&mut harness, "indexing with GoogLeNet", |app| {
        !app.is_indexing() && app.library_len() == Some(photos.len())
    });
    assert!(harness.state().failures().is_empty());
    harness.state_mut().open_query(photos[3].clone());
    run_until(&mut harness, "the results", |app| {
        !app.is_searching() && !app.results().is_empty()
    });
    assert_eq!(
        top_result(harness.state()),
        photos[3].file_name().unwrap().to_string_lossy()
    );
    let indexes = || {
        std::fs::read_dir(tmp.path().join("indexes"))
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                name.ends_with(".lkidx").then_some(name)
            })
            .collect::<Vec<_>>()
    };
    let made = indexes();
    // GoogLeNet's own file (one per setting: network, pooling, size, weights).
    assert!(
        made.len() == 1 && made[0].contains("-googlenet-"),
        "{made:?}"
    );

    // Back to VGG16 (its weights chosen as a file): the library is indexed again, into
    // VGG16's own index, and GoogLeNet's is kept.
    harness
        .state_mut()
        .choose_weights(common::shared_model(&shared));
    run_until(&mut harness, "VGG16", |app| {
        model_ready(app) && app.settings().network == Network::Vgg16
    });
    run_until(&mut harness, "indexing with VGG16", |app| {
        !app.is_indexing() && app.library_len() == Some(photos.len())
    });
    assert_eq!(indexes().len(), 2, "{:?}", indexes());
}
