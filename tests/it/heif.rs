//! HEIC photos (as phones write them) are read through the system's libheif: made here
//! from real photos with `heif-enc` (Debian's `libheif-examples`), they are indexed and
//! found by the JPEG they were made from.

use crate::common;

use std::path::Path;

/// Encodes `jpeg` as HEIC at `out` with heif-enc; `false` (after saying why) when the
/// tools are missing, which `.ci/run` does not allow (`LOOKALIKE_REQUIRE_HEIF`).
fn heif_enc(jpeg: &Path, out: &Path) -> bool {
    let encoded = std::process::Command::new("heif-enc")
        .args(["-q", "90", "-o"])
        .arg(out)
        .arg(jpeg)
        .output();
    match encoded {
        Ok(output) if output.status.success() && lookalike_core::read::heif::available() => true,
        other => {
            assert!(
                std::env::var_os("LOOKALIKE_REQUIRE_HEIF").is_none(),
                "LOOKALIKE_REQUIRE_HEIF is set but heif-enc or libheif is missing: {other:?}"
            );
            eprintln!("SKIPPED: heif-enc or libheif missing (apt install libheif-examples)");
            false
        }
    }
}

#[test]
fn heic_photos_are_decoded_indexed_and_found() {
    let Some(shared) = common::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("library");
    let names = common::neardup_library(&shared, &dir, |n| n.starts_with("o021"), 10);
    let jpg = shared.join("data/neardup-dev/jpg");
    for name in ["o020", "o022"] {
        if !heif_enc(
            &jpg.join(format!("{name}.jpg")),
            &dir.join(format!("{name}.HEIC")),
        ) {
            return;
        }
    }
    let decoded = lookalike_core::read::imaging::decode_file(&dir.join("o020.HEIC"), u64::MAX)
        .expect("decodes");
    assert_eq!(decoded.dimensions(), (224, 224));

    let model = common::shared_model(&shared);
    let index = tmp.path().join("i.lkidx");
    let (code, summary, stderr) = common::index_json(&model, &dir, &index, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(summary["indexed"], names.len() + 2, "{summary}");
    for name in ["o020", "o022"] {
        let query = jpg.join(format!("{name}.jpg"));
        let (code, json, stderr) = common::search_json(&model, &index, &query, &[]);
        assert_eq!(code, Some(0), "{stderr}");
        let first = &json["results"][0];
        assert!(
            first["path"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{name}.HEIC")),
            "{json}"
        );
        assert!(first["distance"].as_f64().unwrap() < 0.05, "{first}");
    }
}
