//! Indexing a real folder from the command line: good images indexed, every bad file
//! reported with its path, symlink loops survived, incremental re-runs, deletions, and
//! an index that stays readable when the indexer is killed mid-run.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lookalike_core::index::{Control, Index};
use serde_json::Value;

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

#[test]
fn indexes_good_files_reports_bad_ones_and_updates_incrementally() {
    let Some(shared) = common::shared() else {
        return;
    };
    let model = common::shared_model(&shared);
    let golden = shared.join("golden");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    copy(&golden.join("church.png"), &dir.join("church.png"));
    copy(
        &golden.join("golf_ball.png"),
        &dir.join("trips/golf_ball.PNG"),
    );
    copy(
        &golden.join("parachute.png"),
        &dir.join("trips/parachute.dat"),
    ); // sniffed
    copy(&golden.join("grayscale.png"), &dir.join(".hidden/grey.png")); // skipped
    std::fs::write(dir.join("README"), b"not an image, no extension: skipped").unwrap();
    let bad = [
        ("empty.jpg", Vec::new()),
        ("notes.jpg", b"shopping list".to_vec()),
        (
            "corrupt.jpg",
            [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[7; 200][..]].concat(),
        ),
        (
            "trips/truncated.png",
            std::fs::read(golden.join("church.png")).unwrap()[..5000].to_vec(),
        ),
    ];
    for (name, bytes) in &bad {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(&dir, dir.join("trips/loop")).unwrap();
    let index_path = tmp.path().join("photos.lkidx");

    let (code, json, stderr) = common::index_json(&model, &dir, &index_path, &[]);
    assert_eq!(code, Some(2), "some files failed: {stderr}");
    assert_eq!(json["indexed"], 3, "{json}");
    assert_eq!(json["unchanged"], 0);
    let failed: Vec<(String, String)> = json["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (name, _) in &bad {
        assert!(
            failed
                .iter()
                .any(|(p, r)| p.ends_with(name) && r.contains(name)),
            "{name} not reported: {failed:?}"
        );
    }
    // "Not a photo" and "a photo that cannot be read" are told apart.
    let kind_of = |name: &str| {
        json["failed"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .map(|f| f["kind"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(kind_of("notes.jpg"), "not_a_photo");
    assert_eq!(kind_of("empty.jpg"), "not_a_photo");
    assert_eq!(kind_of("corrupt.jpg"), "unreadable");
    assert_eq!(kind_of("truncated.png"), "unreadable");
    // The link back to the library is not followed by default, only counted.
    #[cfg(unix)]
    assert_eq!(json["links_not_followed"], 1, "{json}");
    let index = Index::load(&index_path).unwrap();
    let paths: Vec<&str> = index.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["church.png", "trips/golf_ball.PNG", "trips/parachute.dat"]
    );
    assert!(
        index
            .entries
            .iter()
            .all(|e| e.raw.len() == 512 && e.feature_map == [14, 14])
    );

    // Nothing changed (the bad files fail again): the index and its caches are not
    // written again (a million-photo library's are gigabytes).
    let files = ["lkidx", "rot90", "x2", "px"].map(|ext| index_path.with_extension(ext));
    let written = || files.each_ref().map(|file| last_written(file));
    let before = written();
    let (_, json, _) = common::index_json(&model, &dir, &index_path, &[]);
    assert_eq!(
        (json["indexed"].as_u64(), json["unchanged"].as_u64()),
        (Some(0), Some(3)),
        "{json}"
    );
    assert_eq!(json["removed"], 0);
    assert_eq!(
        written(),
        before,
        "an unchanged library's files were rewritten"
    );

    // Followed, the loop is detected and reported; the files are still listed once.
    #[cfg(unix)]
    {
        let (_, json, _) = common::index_json(&model, &dir, &index_path, &["--follow-links"]);
        let failed = json["failed"].as_array().unwrap();
        assert!(
            failed.iter().any(|f| {
                f["path"].as_str().unwrap().ends_with("loop")
                    && f["reason"].as_str().unwrap().contains("loop")
            }),
            "{json}"
        );
        assert_eq!(json["unchanged"], 3, "{json}");
    }

    // A photo gone: the index and the turned views' cache drop it by appending to the
    // same files, not by writing them again.
    let rot90 = index_path.with_extension("rot90");
    let size = |file: &Path| std::fs::metadata(file).unwrap().len();
    let was = [&index_path, &rot90].map(|file| (last_written(file).0, size(file)));
    std::fs::remove_file(dir.join("church.png")).unwrap();
    let (_, json, _) = common::index_json(&model, &dir, &index_path, &[]);
    assert_eq!(
        (json["removed"].as_u64(), json["unchanged"].as_u64()),
        (Some(1), Some(2)),
        "{json}"
    );
    for (file, (inode, len)) in [&index_path, &rot90].into_iter().zip(was) {
        assert_eq!(last_written(file).0, inode, "{file:?} was written again");
        assert!(size(file) > len, "{file:?} was not appended to");
        assert_eq!(Index::load(file).unwrap().entries.len(), 2, "{file:?}");
    }

    // Another max side would make the descriptors incomparable: refused, not mixed.
    let output = common::output_within(
        Command::new(env!("CARGO_BIN_EXE_lookalike"))
            .args(["index", "--backend", "cpu", "--max-side", "512", "--model"])
            .arg(&model)
            .arg("--index")
            .arg(&index_path)
            .arg(&dir),
        Duration::from_secs(300),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--max-side 1024, not 512"));
}

/// When `file` was last replaced or written: its inode (a save writes a new file and
/// renames it into place) and modification time.
fn last_written(file: &Path) -> (u64, std::time::SystemTime) {
    let metadata = std::fs::metadata(file).unwrap();
    #[cfg(unix)]
    let id = std::os::unix::fs::MetadataExt::ino(&metadata);
    #[cfg(not(unix))]
    let id = 0;
    (id, metadata.modified().unwrap())
}

/// A temporary folder of 40 real photos (neardup-dev distractors) and where its
/// index goes; `None` (test skipped) without `../shared`.
struct Library {
    _tmp: tempfile::TempDir,
    model: PathBuf,
    dir: PathBuf,
    index_path: PathBuf,
    total: usize,
}

fn forty_photo_library() -> Option<Library> {
    let shared = common::shared()?;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    let total = common::neardup_library(&shared, &dir, |_| false, 40).len();
    Some(Library {
        model: common::shared_model(&shared),
        index_path: tmp.path().join("photos.lkidx"),
        dir,
        total,
        _tmp: tmp,
    })
}

/// Waits until the index at `path` holds at least `n` entries; returns how many.
fn wait_for_checkpoint(path: &Path, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(index) = Index::load(path)
            && index.entries.len() >= n
        {
            return index.entries.len();
        }
        assert!(Instant::now() < deadline, "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Starts `lookalike index` on `dir`, saving after every image.
fn spawn_index(model: &Path, dir: &Path, index: &Path, stdout: Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args([
            "index",
            "--json",
            "--backend",
            "cpu",
            "--checkpoint-secs",
            "0",
            "--model",
        ])
        .arg(model)
        .arg("--index")
        .arg(index)
        .arg(dir)
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `kill -9` in the middle of a run: the index on disk is the last checkpoint, intact,
/// and the next run resumes from it instead of starting over.
#[test]
fn index_survives_kill_and_resumes() {
    let Some(library) = forty_photo_library() else {
        return;
    };
    let Library {
        model,
        dir,
        index_path,
        total,
        ..
    } = &library;
    let total = *total;
    let mut child = spawn_index(model, dir, index_path, Stdio::null());
    let saved = wait_for_checkpoint(index_path, 5);
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let after_kill = Index::load(index_path).expect("index readable after kill -9");
    assert!(after_kill.entries.len() >= saved);
    assert!(
        after_kill.entries.len() < total,
        "the run finished before the kill: the test needs more images"
    );

    let (code, json, stderr) = common::index_json(model, dir, index_path, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(json["indexed"].as_u64().unwrap() > 0, "{json}");
    assert_eq!(
        json["unchanged"].as_u64().unwrap() as usize,
        after_kill.entries.len(),
        "{json}"
    );
    assert_eq!(
        (json["unchanged"].as_u64().unwrap() + json["indexed"].as_u64().unwrap()) as usize,
        total
    );
}

/// Ctrl-C (SIGINT) stops the run cleanly: exit status 130, the work done so far saved,
/// nothing counted as removed.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly_and_keeps_the_work() {
    let Some(library) = forty_photo_library() else {
        return;
    };
    let Library {
        model,
        dir,
        index_path,
        total,
        ..
    } = &library;
    let total = *total;
    let child = spawn_index(model, dir, index_path, Stdio::piped());
    wait_for_checkpoint(index_path, 3);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["stopped"], true, "{json}");
    assert_eq!(json["removed"], 0);
    let saved = Index::load(index_path).unwrap().entries.len();
    assert!(saved >= 3 && saved < total, "{saved} of {total}");
    assert_eq!(json["entries"].as_u64().unwrap() as usize, saved);
}

/// What a live caller of indexing sees: the kept entries and the files to describe
/// first, then every described entry exactly once, ending with the index as saved.
#[test]
fn a_live_caller_sees_every_entry_once_before_the_run_ends() {
    use lookalike_core::index::{IndexOptions, Partial, Provenance, update_index_live};
    use lookalike_core::{BackendChoice, Describer, DescriberOptions, Vgg16Weights};
    let Some(shared) = common::shared() else {
        return;
    };
    let weights = Vgg16Weights::load(&common::shared_model(&shared)).unwrap();
    let describer =
        Describer::new(&weights, BackendChoice::Cpu, DescriberOptions::default()).unwrap();
    let provenance = Provenance::new(
        &weights,
        lookalike_core::read::imaging::DEFAULT_MAX_SIDE,
        describer.options().pooling,
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("photos");
    let golden = shared.join("golden");
    for name in ["church.png", "golf_ball.png"] {
        copy(&golden.join(name), &dir.join(name));
    }
    let mut options = IndexOptions::new(dir.clone(), tmp.path().join("photos.lkidx"));
    // Every photo its own batch.
    options.publish_every = Duration::ZERO;
    let run = |options: &IndexOptions| {
        let (progress, _updates) = std::sync::mpsc::sync_channel(64);
        let stop = std::sync::atomic::AtomicBool::new(false);
        let mut seen = Vec::new();
        let (index, _) = update_index_live(
            &describer,
            &provenance,
            options,
            Control::new(&stop, &progress),
            &mut |partial| seen.push(partial),
        )
        .unwrap();
        (index, seen)
    };
    let entries = |partials: &[Partial]| -> (Vec<String>, Vec<PathBuf>) {
        let mut paths = Vec::new();
        let mut waiting = Vec::new();
        for partial in partials {
            match partial {
                Partial::Planned {
                    kept, waiting: w, ..
                } => {
                    paths.extend(kept.iter().map(|e| e.path.clone()));
                    waiting = w.clone();
                }
                Partial::Described { entries: new, .. } => {
                    paths.extend(new.iter().map(|e| e.path.clone()))
                }
            }
        }
        paths.sort();
        (paths, waiting)
    };

    let (index, seen) = run(&options);
    assert!(matches!(seen[0], Partial::Planned { .. }));
    assert_eq!(seen.len(), 3, "planned, then one batch per photo: {seen:?}");
    let (paths, waiting) = entries(&seen);
    assert_eq!(waiting.len(), 2);
    let saved: Vec<String> = index.entries.iter().map(|e| e.path.clone()).collect();
    assert_eq!(paths, saved);

    // Again with one photo more: the two described before come as kept, the new one
    // is the only one waiting and described.
    copy(&golden.join("parachute.png"), &dir.join("parachute.png"));
    let (index, seen) = run(&options);
    let Partial::Planned { kept, waiting, .. } = &seen[0] else {
        panic!("{seen:?}")
    };
    assert_eq!(
        (kept.len(), waiting.clone()),
        (2, vec![dir.canonicalize().unwrap().join("parachute.png")])
    );
    let (paths, _) = entries(&seen);
    let saved: Vec<String> = index.entries.iter().map(|e| e.path.clone()).collect();
    assert_eq!(paths, saved);

    // Issue 29: a checkpoint after every photo, one hand-over at the end, and new
    // photos named before and after the kept ones: checkpoints that sorted the entries
    // in place made the run hand some over twice and others never.
    copy(&golden.join("grayscale.png"), &dir.join("a-first.png"));
    copy(&golden.join("golf_ball.png"), &dir.join("zz-last.png"));
    options.publish_every = Duration::from_secs(3600);
    options.checkpoint_every = Duration::ZERO;
    let (index, seen) = run(&options);
    let (paths, _) = entries(&seen);
    let saved: Vec<String> = index.entries.iter().map(|e| e.path.clone()).collect();
    assert_eq!(paths, saved);
    assert_eq!(saved.len(), 5);
    assert_eq!(
        Index::load(&tmp.path().join("photos.lkidx")).unwrap(),
        index
    );

    // A file that fails is handed over too: the app no longer shows it waiting.
    std::fs::write(dir.join("broken.jpg"), b"not a photo").unwrap();
    let (_, seen) = run(&options);
    let failed: Vec<PathBuf> = seen
        .iter()
        .flat_map(|partial| match partial {
            Partial::Described { failed, .. } => failed.clone(),
            Partial::Planned { .. } => Vec::new(),
        })
        .collect();
    assert_eq!(failed, [dir.canonicalize().unwrap().join("broken.jpg")]);
}

/// Issue 25: a stop request does not wait for a photo that takes long to decode (a
/// huge or hostile file; here the test hook makes each decode take a minute): the run
/// ends within a second, saves what it has, and says it was stopped.
#[test]
fn a_stop_does_not_wait_for_a_long_decode() {
    use lookalike_core::index::{IndexOptions, Provenance, update_index};
    use lookalike_core::{BackendChoice, Describer, DescriberOptions, Vgg16Weights};
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(shared) = common::shared() else {
        return;
    };
    let weights = Vgg16Weights::load(&common::shared_model(&shared)).unwrap();
    let describer =
        Describer::new(&weights, BackendChoice::Cpu, DescriberOptions::default()).unwrap();
    let provenance = Provenance::new(
        &weights,
        lookalike_core::read::imaging::DEFAULT_MAX_SIDE,
        describer.options().pooling,
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("decoded-for-a-minute");
    for name in ["church.png", "golf_ball.png"] {
        copy(&shared.join("golden").join(name), &dir.join(name));
    }
    lookalike_core::support::isolate::inject_delay("decoded-for-a-minute", Duration::from_secs(60));
    let options = IndexOptions::new(dir, tmp.path().join("slow.lkidx"));
    let (progress, _updates) = std::sync::mpsc::sync_channel(64);
    let stop = AtomicBool::new(false);
    let (summary, stopped_after) = std::thread::scope(|scope| {
        let control = Control::new(&stop, &progress);
        let run = scope.spawn(move || update_index(&describer, &provenance, &options, control));
        std::thread::sleep(Duration::from_millis(500));
        let asked = Instant::now();
        stop.store(true, Ordering::Relaxed);
        let (_, summary) = run.join().unwrap().unwrap();
        (summary, asked.elapsed())
    });
    assert!(
        stopped_after < Duration::from_secs(1),
        "stopped after {stopped_after:?}"
    );
    assert!(summary.stopped && summary.indexed == 0, "{summary:?}");
    assert!(summary.failed.is_empty(), "{summary:?}");
}
