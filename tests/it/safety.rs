//! Nothing the product does may cost a user a photo, end to end through the CLI:
//! a library with a symbolic link to one of its own folders, a symbolic link to a file,
//! a hard link and one real byte-identical copy is indexed and cleaned up with
//! `dupes --trash`; every distinct photo keeps a real file in the library, only the
//! real copy may go, and `undo` brings back what moved. Also: one file that crashes the
//! decoder does not stop a run, in this run or the next.
#![cfg(unix)]

use crate::common;

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

/// `lookalike index FLAGS --model MODEL --index INDEX DIR`, as arguments.
fn index_args<'a>(
    flags: &[&'a str],
    model: &'a Path,
    index: &'a Path,
    dir: &'a Path,
) -> Vec<&'a OsStr> {
    let mut args: Vec<&OsStr> = std::iter::once("index")
        .chain(flags.iter().copied())
        .map(OsStr::new)
        .collect();
    args.extend([
        OsStr::new("--model"),
        model.as_os_str(),
        OsStr::new("--index"),
        index.as_os_str(),
        dir.as_os_str(),
    ]);
    args
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
    let args = index_args(&["--rebuild"], &model, &photo, &dir);
    let (code, _, stderr) = common::lookalike_with_env(&args, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("did not write"), "{stderr}");
    assert_eq!(std::fs::read(&photo).unwrap(), before);
}

/// Issue 25: `whiten learn -o` and `model import -o` replace only one of our own files.
/// Someone else's safetensors file (its header parses, its ninth byte is `{`, its
/// metadata names none of our formats) survives both byte for byte, with a message
/// naming it; a file of ours at the same name is replaced, so the refusal is not the
/// command failing for another reason.
#[test]
fn a_foreign_safetensors_file_survives_both_output_commands() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for n in 0..6 {
        let name = format!("o00{n}.jpg");
        std::fs::copy(
            shared.join("data/neardup-dev/jpg").join(&name),
            photos.join(&name),
        )
        .unwrap();
    }
    let header = br#"{"__metadata__":{"name":"my own embeddings"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
    let mut foreign = (header.len() as u64).to_le_bytes().to_vec();
    foreign.extend_from_slice(header);
    foreign.extend_from_slice(&[0; 4]);
    assert_eq!(foreign[8], b'{');

    let model = common::shared_model(&shared);
    let learn = |output: &Path| -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = ["whiten", "learn", "--dim", "2", "--model"]
            .map(Into::into)
            .to_vec();
        args.extend([model.clone().into(), photos.clone().into(), "-o".into()]);
        args.push(output.into());
        args
    };
    let import = |output: &Path| -> Vec<std::ffi::OsString> {
        let input = shared.join("models/googlenet_random_test.pth");
        vec![
            "model".into(),
            "import".into(),
            input.into(),
            "-o".into(),
            output.into(),
        ]
    };
    type Command<'a> = &'a dyn Fn(&Path) -> Vec<std::ffi::OsString>;
    let commands: [(&str, Command); 2] = [("whiten learn", &learn), ("model import", &import)];
    for (what, command) in commands {
        let theirs = tmp.path().join(format!("{what}-theirs.safetensors"));
        std::fs::write(&theirs, &foreign).unwrap();
        let stderr = common::lookalike_fails(command(&theirs));
        assert!(stderr.contains("did not write"), "{what}: {stderr}");
        assert!(
            stderr.contains(&*theirs.to_string_lossy()),
            "{what}: {stderr}"
        );
        assert_eq!(std::fs::read(&theirs).unwrap(), foreign, "{what}");
        // Ours is written, then replaced.
        let ours = tmp.path().join(format!("{what}-ours.safetensors"));
        for _ in 0..2 {
            let args = command(&ours);
            let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
            let (code, _, stderr) = common::lookalike_with_env(&args, &[]);
            assert_eq!(code, Some(0), "{what}: {stderr}");
        }
    }
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
    let args = index_args(&["--json", "--backend", "cpu"], &model, &index, &dir);
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

/// `lookalike index --json --backend cpu --no-variants --model MODEL [extra] DIR` with a
/// private home (its default index folder and trash).
fn index_in_home(
    home: &Path,
    model: &Path,
    dir: &Path,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let mut args: Vec<&OsStr> = ["index", "--json", "--backend", "cpu", "--no-variants"]
        .iter()
        .map(OsStr::new)
        .collect();
    args.extend(["--model".as_ref(), model.as_os_str()]);
    args.extend(extra.iter().map(OsStr::new));
    args.push(dir.as_os_str());
    common::lookalike_in_home(home, &args)
}

/// Issue 24: a drive that is not connected (the folder missing), an empty mount point,
/// then the same files mounted at another path: no description is lost, none is made
/// again, and the index follows the library to its new path.
#[test]
fn a_library_on_a_drive_that_comes_and_goes_keeps_its_descriptions() {
    let Some(shared) = common::shared() else {
        return;
    };
    let model = common::shared_model(&shared);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let mount = tmp.path().join("media/card");
    common::neardup_library(&shared, &mount, |n| n.starts_with("o02"), 0);
    let (code, first, stderr) = index_in_home(&home, &model, &mount, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let photos = first["entries"].as_u64().unwrap();
    assert!(photos >= 9, "{first}");
    let index = PathBuf::from(first["index"].as_str().unwrap());
    let before = std::fs::read(&index).unwrap();

    // The drive is not connected: its folder is gone.
    let unplugged = tmp.path().join("unplugged");
    std::fs::rename(&mount, &unplugged).unwrap();
    let (code, _, stderr) = index_in_home(&home, &model, &mount, &[]);
    assert_ne!(code, Some(0), "{stderr}");
    assert_eq!(std::fs::read(&index).unwrap(), before, "the index changed");
    // An empty mount point where it was: asked, not dropped.
    std::fs::create_dir_all(&mount).unwrap();
    let (code, _, stderr) = index_in_home(&home, &model, &mount, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("are not there now"), "{stderr}");
    assert!(stderr.contains("--forget-missing"), "{stderr}");
    assert_eq!(std::fs::read(&index).unwrap(), before, "the index changed");

    // The same files mounted elsewhere (another path, hence another default index
    // name): the index follows them and nothing is described again.
    let elsewhere = tmp.path().join("run/media/card");
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    std::fs::rename(&unplugged, &elsewhere).unwrap();
    let (code, moved, stderr) = index_in_home(&home, &model, &elsewhere, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(moved["indexed"], 0, "{moved}\n{stderr}");
    assert_eq!(moved["unchanged"].as_u64(), Some(photos), "{moved}");
    assert!(moved["moved_from"].is_string(), "{moved}");
    assert!(stderr.contains("was indexed at another path"), "{stderr}");
    assert_ne!(moved["index"], first["index"]);
    assert!(!index.exists(), "the old name was moved, not copied");

    // Told to forget them, it does: the empty mount point is a library of none.
    let (code, _, stderr) = index_in_home(&home, &model, &mount, &["--forget-missing"]);
    assert_eq!(code, Some(0), "{stderr}");
}

/// Issue 24: two writers on one index: the second is refused with a clear message
/// while the first holds it, and the index is not touched.
#[test]
fn a_second_writer_on_an_index_is_refused() {
    let Some(shared) = common::shared() else {
        return;
    };
    let model = common::shared_model(&shared);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("library");
    common::neardup_library(&shared, &dir, |n| n.starts_with("o03"), 0);
    let index = tmp.path().join("i.lkidx");
    let (code, _, stderr) = common::index_json(&model, &dir, &index, &["--no-variants"]);
    assert_eq!(code, Some(0), "{stderr}");
    let before = std::fs::read(&index).unwrap();
    std::fs::write(
        dir.join("new.jpg"),
        std::fs::read(dir.join("o030.jpg")).unwrap(),
    )
    .unwrap();
    {
        // Another process (the app, another `index`) is writing it.
        let _held = lookalike_core::support::safefs::lock(&index, "this index").unwrap();
        let args = index_args(&["--backend", "cpu", "--no-variants"], &model, &index, &dir);
        let stderr = common::lookalike_fails(&args);
        assert!(stderr.contains("another lookalike"), "{stderr}");
        assert_eq!(std::fs::read(&index).unwrap(), before);
    }
    let (code, summary, stderr) = common::index_json(&model, &dir, &index, &["--no-variants"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["indexed"], 1, "{summary}");
}

/// A library of one photo and three byte-identical copies of it, indexed.
fn photo_and_copies(shared: &Path, tmp: &Path) -> (PathBuf, PathBuf) {
    let model = common::shared_model(shared);
    let dir = tmp.join("library");
    common::neardup_library(shared, &dir, |n| n == "o040.jpg" || n == "o050.jpg", 3);
    for copy in ["copy1.jpg", "copy2.jpg", "copy3.jpg"] {
        std::fs::copy(dir.join("o040.jpg"), dir.join(copy)).unwrap();
    }
    let index = tmp.join("i.lkidx");
    let (code, _, stderr) = common::index_json(&model, &dir, &index, &["--no-variants"]);
    assert_eq!(code, Some(0), "{stderr}");
    (dir, index)
}

/// The files of `dir` now.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Issue 24: `--move-to` a folder on another file system (a tmpfs) refuses rather than
/// copy: every photo stays, each refusal names the file.
#[cfg(target_os = "linux")]
#[test]
fn a_move_to_another_file_system_is_refused_not_copied() {
    use std::os::unix::fs::MetadataExt;
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir_in("/dev/shm").expect("/dev/shm, a second file system");
    let device = |p: &Path| std::fs::metadata(p).unwrap().dev();
    assert_ne!(
        device(other.path()),
        device(tmp.path()),
        "/dev/shm is no other disk"
    );
    let (dir, index) = photo_and_copies(&shared, tmp.path());
    let before = names(&dir);
    let journal = tmp.path().join("journal.jsonl");
    let args: Vec<&OsStr> = vec![
        "dupes".as_ref(),
        "--json".as_ref(),
        "--no-variants".as_ref(),
        "--threshold".as_ref(),
        "0.05".as_ref(),
        "--index".as_ref(),
        index.as_os_str(),
        "--journal".as_ref(),
        journal.as_os_str(),
        "--move-to".as_ref(),
        other.path().as_os_str(),
    ];
    let (code, json, stderr) = common::lookalike_with_env(&args, &[]);
    assert_eq!(code, Some(2), "{stderr}\n{json}");
    let skipped = json["actions"]["report"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 3, "{json}");
    assert!(
        skipped
            .iter()
            .all(|s| s["reason"].as_str().unwrap().contains("would copy it")),
        "{json}"
    );
    assert_eq!(names(&dir), before);
    assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 0);
}

/// Issue 24: Ctrl-C (SIGINT) during `dupes --trash` stops it between two files: what
/// moved is in the journal and comes back with `undo`, the rest never moved.
#[test]
fn ctrl_c_stops_a_clean_up_between_two_files() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (dir, index) = photo_and_copies(&shared, tmp.path());
    let before = names(&dir);
    let home = tmp.path().join("home");
    let journal = tmp.path().join("journal.jsonl");
    let data = home.join(".local/share");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lookalike"))
        .args(["dupes", "--json", "--no-variants", "--trash"])
        .args(["--threshold", "0.05", "--index"])
        .arg(&index)
        .arg("--journal")
        .arg(&journal)
        .env("HOME", &home)
        .env("XDG_DATA_HOME", &data)
        .env("LOOKALIKE_TEST_MOVE_DELAY_MS", "1500")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first file has moved, Ctrl-C.
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(&journal).is_ok_and(|j| j.contains("\"moved\"")) {
        assert!(started.elapsed().as_secs() < 120, "no file moved");
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            panic!(
                "it ended ({status}) before a file moved: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let report = &json["actions"]["report"];
    assert_eq!(report["stopped"], true, "{json}");
    let moved = report["moved"].as_array().unwrap().len();
    assert!((1..3).contains(&moved), "{json}");
    assert_eq!(names(&dir).len(), before.len() - moved, "{json}");

    let undo: Vec<&OsStr> = vec![
        "undo".as_ref(),
        "--json".as_ref(),
        "--journal".as_ref(),
        journal.as_os_str(),
    ];
    let (code, _, stderr) = common::lookalike_in_home(&home, &undo);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(names(&dir), before);
}
