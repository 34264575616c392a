//! Nothing the product does may cost a user a photo, end to end through the CLI:
//! a library with a symbolic link to one of its own folders, a symbolic link to a file,
//! a hard link and one real byte-identical copy is indexed and cleaned up with
//! `dupes --trash`; every distinct photo keeps a real file in the library, only the
//! real copy may go, and `undo` brings back what moved. Also: one file that crashes the
//! decoder does not stop a run, in this run or the next.
#![cfg(unix)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Every photo still has a real file in the library, and at most the real copy moved.
fn assert_every_photo_kept(shared: &Path, dir: &Path, moved: &[PathBuf]) {
    let files = common::real_files(dir);
    for name in common::LINKED_PHOTOS {
        let bytes = std::fs::read(shared.join("data/neardup-dev/jpg").join(name)).unwrap();
        assert!(
            files.get(&bytes).is_some_and(|paths| !paths.is_empty()),
            "no real file of {name} is left in the library: {files:?}"
        );
    }
    let real_copy = [dir.join("copy-of-o021.jpg"), dir.join("real/o021.jpg")];
    assert!(moved.len() <= 1, "more than the real copy moved: {moved:?}");
    for path in moved {
        assert!(real_copy.contains(path), "{} was moved", path.display());
    }
    // The links are untouched.
    for link in ["linked", "alias.jpg"] {
        let meta = std::fs::symlink_metadata(dir.join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link}");
    }
}

fn moved_paths(json: &serde_json::Value) -> Vec<PathBuf> {
    json["actions"]["report"]["moved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| PathBuf::from(m["from"].as_str().unwrap()))
        .collect()
}

/// Indexes `dir` (with `extra` flags), then `dupes --trash` and `undo`, checking that no
/// photo loses its last real copy.
fn clean_up_and_undo(shared: &Path, tmp: &Path, dir: &Path, extra: &[&str]) {
    let model = common::shared_model(shared);
    let home = tmp.join("home");
    std::fs::create_dir_all(home.join(".local/share")).unwrap();
    let index = tmp.join("library.lkidx");
    let mut flags = vec!["--rebuild"];
    flags.extend(extra);
    let (code, summary, stderr) = common::index_json(&model, dir, &index, &flags);
    assert_eq!(code, Some(0), "{stderr}");
    // Each file once: the four photos and the real copy, whatever the links.
    assert_eq!(summary["entries"], 5, "{summary}");
    let same: Vec<&str> = summary["same_file"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert!(
        same.iter()
            .any(|p| p.ends_with("real/hard.jpg") || p.ends_with("real/o020.jpg")),
        "the hard link is not recognised: {summary}"
    );

    let journal = tmp.join("journal.jsonl");
    let args: Vec<&OsStr> = vec![
        "dupes".as_ref(),
        "--json".as_ref(),
        "--threshold".as_ref(),
        "0.05".as_ref(),
        "--index".as_ref(),
        index.as_os_str(),
        "--journal".as_ref(),
        journal.as_os_str(),
        "--trash".as_ref(),
    ];
    let (code, json, stderr) = common::lookalike_in_home(&home, &args);
    assert_eq!(code, Some(0), "{stderr}\n{json}");
    // One group: the photo and its real copy; never a file with itself.
    let groups = json["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{json}");
    let moved = moved_paths(&json);
    assert_eq!(moved.len(), 1, "{json}");
    assert_every_photo_kept(shared, dir, &moved);

    let undo: Vec<&OsStr> = vec![
        "undo".as_ref(),
        "--json".as_ref(),
        "--journal".as_ref(),
        journal.as_os_str(),
    ];
    let (code, _, stderr) = common::lookalike_in_home(&home, &undo);
    assert_eq!(code, Some(0), "{stderr}");
    assert_every_photo_kept(shared, dir, &[]);
    for path in &moved {
        assert!(path.exists(), "{} did not come back", path.display());
    }
    assert_eq!(
        common::real_files(dir)
            .values()
            .map(Vec::len)
            .sum::<usize>(),
        6
    );
}

#[test]
fn links_hard_links_and_copies_never_cost_a_photo() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::linked_library(&shared, tmp.path());
    // Links not followed (the default) ...
    clean_up_and_undo(&shared, tmp.path(), &dir, &[]);
    // ... and followed: the folder reached twice and the linked file are still one
    // photo each, listed under their real paths.
    clean_up_and_undo(&shared, tmp.path(), &dir, &["--follow-links"]);
}

#[test]
fn links_are_not_followed_unless_asked_and_are_counted() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::linked_library(&shared, tmp.path());
    let model = common::shared_model(&shared);
    let index = tmp.path().join("i.lkidx");
    let (code, summary, stderr) = common::index_json(&model, &dir, &index, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["links_not_followed"], 2, "{summary}");
    assert!(stderr.contains("--follow-links"), "{stderr}");
    let (code, summary, stderr) =
        common::index_json(&model, &dir, &index, &["--rebuild", "--follow-links"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["links_not_followed"], 0, "{summary}");
    // linked/o020..o023, linked/hard.jpg, alias.jpg and real/hard.jpg reach files
    // already listed under their real paths.
    assert_eq!(
        summary["same_file"].as_array().unwrap().len(),
        7,
        "{summary}"
    );
    let listed: Vec<String> = summary["same_file"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["same_as"].as_str().unwrap().to_string())
        .collect();
    assert!(listed.iter().all(|p| !p.contains("/linked/")), "{listed:?}");
}

#[test]
fn index_refuses_to_replace_a_file_that_is_not_an_index() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::linked_library(&shared, tmp.path());
    let photo = dir.join("real/o023.jpg");
    let before = std::fs::read(&photo).unwrap();
    let model = common::shared_model(&shared);
    let args: Vec<&OsStr> = vec![
        "index".as_ref(),
        "--rebuild".as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
        "--index".as_ref(),
        photo.as_os_str(),
        dir.as_os_str(),
    ];
    let (code, _, stderr) = common::lookalike_with_env(&args, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("did not write"), "{stderr}");
    assert_eq!(std::fs::read(&photo).unwrap(), before);
}

#[test]
fn a_file_that_crashes_the_decoder_is_reported_and_the_run_goes_on() {
    let Some(shared) = common::shared() else {
        return;
    };
    let model = common::shared_model(&shared);
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::linked_library(&shared, tmp.path());
    let index = tmp.path().join("i.lkidx");
    let args: Vec<&OsStr> = vec![
        "index".as_ref(),
        "--json".as_ref(),
        "--backend".as_ref(),
        "cpu".as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
        "--index".as_ref(),
        index.as_os_str(),
        dir.as_os_str(),
    ];
    // Twice: the second run meets the same file again and survives it again.
    for run in 0..2 {
        let (code, summary, stderr) =
            common::lookalike_with_env(&args, &[("LOOKALIKE_TEST_PANIC_ON", "o022.jpg".as_ref())]);
        assert_eq!(code, Some(2), "run {run}: {stderr}");
        let failed = summary["failed"].as_array().unwrap();
        assert_eq!(failed.len(), 1, "run {run}: {summary}");
        assert!(
            failed[0]["path"]
                .as_str()
                .unwrap()
                .ends_with("real/o022.jpg"),
            "{summary}"
        );
        let reason = failed[0]["reason"].as_str().unwrap();
        assert!(reason.contains("crashed"), "{reason}");
        assert!(reason.contains("injected test fault"), "{reason}");
        assert_eq!(summary["entries"], 4, "run {run}: {summary}");
        assert!(stderr.contains("o022.jpg"), "{stderr}");
    }
}
