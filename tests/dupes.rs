//! `lookalike dupes` on real photos: every group holds one photo's copies only, and the
//! suggested keeper is the original (same size, largest file).

mod common;

use std::collections::HashSet;

#[test]
fn groups_copies_of_the_same_photo_and_keeps_the_original() {
    let Some(shared) = common::shared() else {
        return;
    };
    let model = common::shared_model(&shared);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("library");
    let families = ["o020", "o021", "o022"];
    common::neardup_library(
        &shared,
        &dir,
        |n| families.iter().any(|f| n.starts_with(f)),
        30,
    );
    let index = tmp.path().join("library.lkidx");
    let (code, _, stderr) = common::index_json(&model, &dir, &index, &[]);
    assert_eq!(code, Some(0), "{stderr}");

    let (code, json, stderr) = common::lookalike_json([
        "dupes",
        "--json",
        "--threshold",
        "0.1",
        "--index",
        index.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json["threshold"].as_f64().unwrap(), 0.1f32 as f64);
    let groups = json["groups"].as_array().unwrap();
    let mut grouped_families = HashSet::new();
    for group in groups {
        let files: Vec<&str> = group["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        let family = |p: &str| p.rsplit('/').next().unwrap()[..4].to_string();
        let first = family(files[0]);
        assert!(files.len() >= 2, "{group}");
        assert!(
            files.iter().all(|f| family(f) == first),
            "mixed group: {files:?}"
        );
        assert!(first.starts_with('o'), "distractors grouped: {files:?}");
        grouped_families.insert(first.clone());
        // The JPEG-quality-15 copy has the same size as the original and a smaller file.
        let keeper = group["keeper"].as_str().unwrap();
        if files.iter().any(|f| f.ends_with(&format!("{first}.jpg"))) {
            assert!(
                keeper.ends_with(&format!("{first}.jpg")),
                "keeper {keeper} of {files:?}"
            );
        }
    }
    assert_eq!(grouped_families.len(), 3, "{json}");
}
