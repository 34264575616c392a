//! `lookalike eval` end to end on small real folders: an Oxford-format ground truth
//! built from neardup-dev, and a two-class category folder; the second run reads the
//! descriptor cache instead of running the network.

use crate::common;

use std::path::Path;

/// Runs `lookalike eval ...` on the CPU with the shared model and a private cache.
fn eval(args: &[&str], model: &Path, cache: &Path) -> (Option<i32>, serde_json::Value, String) {
    let mut all: Vec<std::ffi::OsString> = vec!["eval".into()];
    all.extend(args.iter().map(Into::into));
    all.extend([
        "--json".into(),
        "--backend".into(),
        "cpu".into(),
        "--model".into(),
        model.into(),
    ]);
    all.extend(["--cache".into(), cache.into()]);
    common::lookalike_json(all)
}

#[test]
fn oxford_protocol_on_a_small_neardup_set() {
    let Some(shared) = common::shared() else {
        return;
    };
    let model = common::shared_model(&shared);
    let source = shared.join("data/neardup-dev");
    let tmp = tempfile::tempdir().unwrap();
    let (images, gt, cache) = (
        tmp.path().join("jpg"),
        tmp.path().join("gt"),
        tmp.path().join("cache"),
    );
    std::fs::create_dir_all(&images).unwrap();
    std::fs::create_dir_all(&gt).unwrap();
    let queries = ["o010", "o011", "o012"];
    let kept = common::neardup_library(
        &shared,
        &images,
        |n| queries.iter().any(|q| n.starts_with(q)),
        40,
    );
    assert_eq!(kept.len(), 3 * 9 + 40);
    for q in queries {
        for kind in ["query", "good", "ok", "junk"] {
            let file = format!("{q}_{kind}.txt");
            std::fs::copy(source.join("gt").join(&file), gt.join(&file)).unwrap();
        }
    }
    let args = [
        "oxford",
        "--images",
        images.to_str().unwrap(),
        "--gt",
        gt.to_str().unwrap(),
        "--query",
        "full",
    ];
    let (code, json, stderr) = eval(&args, &model, &cache);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json["queries"], 3, "{json}");
    let map = json["map"].as_f64().unwrap();
    let per_query = json["per_query"].as_object().unwrap();
    assert_eq!(per_query.len(), 3);
    let mean = per_query.values().map(|v| v.as_f64().unwrap()).sum::<f64>() / 3.0;
    assert!((map - mean).abs() < 1e-12);
    // Eight edits of each original among 40 distractors: most are found first.
    assert!(map > 0.6 && map <= 1.0, "{json}");
    assert!(stderr.contains("described now"), "{stderr}");

    // Box queries, all metrics, from the cache: the network only runs for the 3 boxes.
    let mut boxed = args.to_vec();
    boxed[6] = "box";
    boxed.push("--all-metrics");
    let (code, json, stderr) = eval(&boxed, &model, &cache);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("(0 described now)"), "{stderr}");
    let metrics = json["metrics"].as_object().unwrap();
    assert_eq!(metrics.len(), 7);
    for (name, result) in metrics {
        let map = result["map"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&map), "{name}: {map}");
    }

    // Another pooling is described and cached apart, and finds the copies as well.
    let mut gem = args.to_vec();
    gem.extend(["--pooling", "gem"]);
    let (code, json, stderr) = eval(&gem, &model, &cache);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("(67 described now)"), "{stderr}");
    assert!(json["map"].as_f64().unwrap() > 0.6, "{json}");
    let cached: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        cached.iter().any(|n| n.ends_with("-gem.lkidx")),
        "{cached:?}"
    );
    // The shipped whitening belongs to SPoC: refused for GeM, with the fix named.
    let private = tmp.path().join("refused");
    gem.extend(["--intent", "instance", "--backend", "cpu", "--cache"]);
    gem.push(private.to_str().unwrap());
    gem.push("--model");
    gem.push(model.to_str().unwrap());
    let output = common::output_within(
        std::process::Command::new(env!("CARGO_BIN_EXE_lookalike"))
            .arg("eval")
            .args(&gem),
        std::time::Duration::from_secs(300),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--whiten-from"), "{stderr}");
    assert!(!private.exists(), "described before refusing");
}

#[test]
fn category_protocol_on_two_classes() {
    let Some(shared) = common::shared() else {
        return;
    };
    let model = common::shared_model(&shared);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("classes");
    let val = shared.join("data/imagenette/val");
    let mut classes: Vec<_> = std::fs::read_dir(&val)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    classes.sort();
    for class in &classes[..2] {
        let target = dir.join(class.file_name().unwrap());
        std::fs::create_dir_all(&target).unwrap();
        let mut files: Vec<_> = std::fs::read_dir(class)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in &files[..12] {
            std::fs::copy(file, target.join(file.file_name().unwrap())).unwrap();
        }
    }
    let cache = tmp.path().join("cache");
    let (code, json, stderr) = eval(
        &["category", dir.to_str().unwrap(), "--k", "5"],
        &model,
        &cache,
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json["k"], 5);
    assert_eq!(json["per_class"].as_object().unwrap().len(), 2, "{json}");
    let p = json["precision_at_k"].as_f64().unwrap();
    // Two ImageNet classes, 12 images each: same-class neighbours dominate.
    assert!(p > 0.7 && p <= 1.0, "{json}");
    assert!(json["map"].as_f64().unwrap() > 0.5, "{json}");
}
