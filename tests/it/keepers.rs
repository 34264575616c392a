//! The photographer's clean-up on a library with real EXIF: a burst is a series, never
//! copies; the camera's original is kept over its turned export; a protected folder's
//! files are kept first and never moved; byte-identical files are labelled so; every
//! keeper says why; a RAW and its JPEG in sibling folders are one shot.

use crate::common;
use crate::common::exif::{Exif, save_raw_with_exif, save_with_exif};

use std::path::{Path, PathBuf};

fn name(path: &str) -> String {
    let p = Path::new(path);
    let parent = p.parent().unwrap().file_name().unwrap().to_string_lossy();
    format!("{parent}/{}", p.file_name().unwrap().to_string_lossy())
}

#[test]
fn bursts_originals_protected_folders_and_identical_files() {
    let Some(shared) = common::shared() else {
        return;
    };
    let model = common::shared_model(&shared);
    let jpg = shared.join("data/neardup-dev/jpg");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("library");
    let open = |n: &str| image::open(jpg.join(n)).unwrap().to_rgb8();
    let z6 = |taken, subsec, software| Exif {
        model: "NIKON Z 6",
        serial: "6012345",
        taken,
        subsec,
        software,
    };

    // A burst: three frames of one body 0.3 s apart (no frame is a copy of another).
    let burst = open("o020.jpg");
    for (k, subsec) in ["10", "40", "70"].into_iter().enumerate() {
        let exif = z6("2024:06:01 10:00:00", Some(subsec), None);
        save_with_exif(
            &burst,
            92 - k as u8,
            &exif,
            &dir.join(format!("burst/DSC_010{k}.JPG")),
        );
    }
    // The camera's original and its export, turned a quarter turn by an editor.
    let shot = open("o021.jpg");
    let taken = "2024:06:01 11:00:00";
    save_with_exif(
        &shot,
        95,
        &z6(taken, Some("25"), None),
        &dir.join("camera/DSC_0200.JPG"),
    );
    let turned = image::imageops::rotate90(&shot);
    let export = z6(
        taken,
        None,
        Some("Adobe Photoshop Lightroom Classic 13.0 (Windows)"),
    );
    save_with_exif(
        &turned,
        97,
        &export,
        &dir.join("export/DSC_0200-turned.jpg"),
    );
    // A delivery (protected) and the same file in an incoming folder: the delivered
    // file is kept, its twin may go.
    let delivered = dir.join("delivery/client.jpg");
    std::fs::create_dir_all(delivered.parent().unwrap()).unwrap();
    std::fs::copy(jpg.join("o022.jpg"), &delivered).unwrap();
    std::fs::create_dir_all(dir.join("incoming")).unwrap();
    std::fs::copy(&delivered, dir.join("incoming/client.jpg")).unwrap();
    // Its edits in a sidecar, which must travel with it.
    let sidecar = dir.join("incoming/client.xmp");
    std::fs::write(&sidecar, "<x:xmpmeta/>").unwrap();
    // A RAW + JPEG pair in sibling folders (RAW/ and JPG/): one shot, by its EXIF.
    let pair = image::imageops::resize(
        &open("o023.jpg"),
        768,
        512,
        image::imageops::FilterType::Triangle,
    );
    let pair_exif = z6("2024:06:01 12:00:00", Some("50"), None);
    save_raw_with_exif(&pair, 95, &pair_exif, &dir.join("shoot/RAW/DSC_0300.NEF"));
    save_with_exif(&pair, 95, &pair_exif, &dir.join("shoot/JPG/DSC_0300.JPG"));
    // Distinct pictures around them.
    common::neardup_library(&shared, &dir.join("other"), |_| false, 12);

    let index = tmp.path().join("library.lkidx");
    let (code, _, stderr) = common::index_json(&model, &dir, &index, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let protect = dir.join("delivery");
    let dupes = |extra: &[&str]| {
        let mut args = vec!["dupes", "--json", "--index", index.to_str().unwrap()];
        args.extend(["--protect", protect.to_str().unwrap()]);
        args.extend(extra);
        let (code, json, stderr) = common::lookalike_json(args);
        assert_eq!(code, Some(0), "{stderr}");
        json
    };
    let json = dupes(&[]);
    let groups = json["groups"].as_array().unwrap();
    let find = |member: &str| {
        groups
            .iter()
            .find(|g| {
                g["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| name(f["path"].as_str().unwrap()) == member)
            })
            .unwrap_or_else(|| panic!("no group holds {member}: {json}"))
    };

    // The burst: one series of three frames by capture time, in no group.
    let series = json["series"].as_array().unwrap();
    assert_eq!(series.len(), 1, "{json}");
    let frames: Vec<String> = series[0]["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| name(f["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        frames,
        [
            "burst/DSC_0100.JPG",
            "burst/DSC_0101.JPG",
            "burst/DSC_0102.JPG"
        ]
    );
    assert!((series[0]["seconds"].as_f64().unwrap() - 0.6).abs() < 1e-6);
    for g in groups {
        for f in g["files"].as_array().unwrap() {
            assert!(
                !f["path"].as_str().unwrap().contains("/burst/"),
                "a frame as a copy: {g}"
            );
        }
    }

    // The original over its turned export, because it is the camera's.
    let original = find("camera/DSC_0200.JPG");
    assert_eq!(
        name(original["keeper"].as_str().unwrap()),
        "camera/DSC_0200.JPG"
    );
    assert_eq!(original["kind"], "the same photo");
    assert_eq!(original["kept_because"]["rule"], "original", "{original}");
    assert!(original["files"][1]["distance"].as_f64().is_some());

    // The pair across folders: the RAW kept for its format, its JPEG beside it.
    let shoot = find("RAW/DSC_0300.NEF");
    assert_eq!(name(shoot["keeper"].as_str().unwrap()), "RAW/DSC_0300.NEF");
    assert_eq!(shoot["kept_because"]["rule"], "format", "{shoot}");
    assert_eq!(
        name(shoot["files"][1]["path"].as_str().unwrap()),
        "JPG/DSC_0300.JPG"
    );

    // The delivered file is kept, first because it is protected; its twin in incoming
    // has the same bytes.
    let delivery = find("delivery/client.jpg");
    assert_eq!(
        name(delivery["keeper"].as_str().unwrap()),
        "delivery/client.jpg"
    );
    assert_eq!(delivery["kind"], "identical files", "{delivery}");
    assert_eq!(delivery["kept_because"]["rule"], "protected");

    // With other rules first, a protected file is still never a copy that may go:
    // nothing in the delivery folder is ever moved.
    let trash = tmp.path().join("moved");
    std::fs::create_dir_all(&trash).unwrap();
    let journal = tmp.path().join("journal.jsonl");
    let json = dupes(&[
        "--keep-rule",
        "largest,resolution",
        "--move-to",
        trash.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
    ]);
    assert!(delivered.exists(), "a protected file moved: {json}");
    for g in json["groups"].as_array().unwrap() {
        for f in g["files"].as_array().unwrap().iter().skip(1) {
            let path = PathBuf::from(f["path"].as_str().unwrap());
            assert!(
                !path.starts_with(&protect),
                "proposed from a protected folder: {g}"
            );
        }
    }
    assert!(
        !dir.join("incoming/client.jpg").exists(),
        "the unprotected twin moves"
    );
    assert!(
        dir.join("burst/DSC_0101.JPG").exists(),
        "a frame of a burst moved"
    );
    // The camera wrote the pair as one photo: its JPEG is not a copy to clean up
    // (only "keep RAW, remove the JPEG copies" moves it).
    for half in ["RAW/DSC_0300.NEF", "JPG/DSC_0300.JPG"] {
        assert!(
            dir.join("shoot").join(half).exists(),
            "{half} moved: {json}"
        );
    }
    // Its sidecar went with it, under its new name, and undo brings both back.
    assert!(!sidecar.exists(), "the sidecar stayed behind: {json}");
    assert!(trash.join("client.xmp").exists());
    let (code, _, stderr) =
        common::lookalike_json(["undo", "--json", "--journal", journal.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(dir.join("incoming/client.jpg").exists() && sidecar.exists());

    // Decisions: "not duplicates" on the original and its export, "keep all" on the
    // delivery and its twin: neither is proposed again, also after the index is made
    // anew; forgetting one brings its group back.
    let decide = |args: &[&str]| {
        let mut all = vec!["dupes", "--json", "--index", index.to_str().unwrap()];
        all.extend(args);
        let (code, _, stderr) = common::lookalike_json(all);
        assert_eq!(code, Some(0), "{stderr}");
    };
    let camera = dir.join("camera/DSC_0200.JPG");
    let turned = dir.join("export/DSC_0200-turned.jpg");
    let twin = dir.join("incoming/client.jpg");
    decide(&[
        "--not-duplicates",
        camera.to_str().unwrap(),
        turned.to_str().unwrap(),
    ]);
    decide(&[
        "--keep-all",
        delivered.to_str().unwrap(),
        twin.to_str().unwrap(),
    ]);
    let grouped = |json: &serde_json::Value, member: &str| {
        json["groups"].as_array().unwrap().iter().any(|g| {
            g["files"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| name(f["path"].as_str().unwrap()) == member)
        })
    };
    std::fs::remove_file(&index).unwrap();
    let (code, _, stderr) = common::index_json(&model, &dir, &index, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let json = dupes(&[]);
    assert!(!grouped(&json, "camera/DSC_0200.JPG"), "{json}");
    assert!(!grouped(&json, "delivery/client.jpg"), "{json}");
    decide(&["--forget-decision", "1"]);
    assert!(grouped(&dupes(&[]), "camera/DSC_0200.JPG"));
}
