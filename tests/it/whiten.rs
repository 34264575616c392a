//! `whiten learn` from a folder, then `describe --whiten`: the descriptors have the
//! learned dimension and unit length; descriptors of another pooling are refused.

use crate::common;

use lookalike_core::Whitening;

#[test]
fn learns_from_a_folder_and_applies_it() {
    let Some(shared) = common::shared() else {
        return;
    };
    let model = common::shared_model(&shared);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("train");
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    let class = shared.join("data/imagenette/train-whiten");
    let mut files: Vec<_> = walk(&class);
    files.sort();
    for (i, file) in files.iter().take(20).enumerate() {
        let target = if i % 2 == 0 {
            dir.join("nested")
        } else {
            dir.clone()
        };
        std::fs::copy(file, target.join(file.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.join("broken.jpg"), b"not a photo").unwrap();
    let output_file = tmp.path().join("w.safetensors");
    let output = common::output_within(
        std::process::Command::new(env!("CARGO_BIN_EXE_lookalike"))
            .args([
                "whiten",
                "learn",
                "--dim",
                "8",
                "--power",
                "1",
                "--backend",
                "cpu",
                "--model",
            ])
            .arg(&model)
            .arg("-o")
            .arg(&output_file)
            .arg("--cache")
            .arg(tmp.path())
            .arg(&dir),
        std::time::Duration::from_secs(300),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("from 20 images (1 failed)"), "{stderr}");
    let whitening = Whitening::load(&output_file).unwrap();
    assert_eq!(
        (whitening.dim(), whitening.input_dim(), whitening.samples),
        (8, 512, 20)
    );
    // Learned on the product's pooling, and says so.
    assert_eq!(
        whitening.pooling(),
        lookalike_core::describe::pooling::Pooling::Rmac
    );

    let mut args: Vec<std::ffi::OsString> = ["describe", "--json", "--backend", "cpu", "--model"]
        .iter()
        .map(Into::into)
        .collect();
    args.extend([
        model.into_os_string(),
        "--whiten".into(),
        output_file.into_os_string(),
    ]);
    args.push(files[0].clone().into_os_string());
    // Descriptors of another pooling cannot take it.
    let mut spoc = args.clone();
    spoc.extend(["--pooling".into(), "spoc".into()]);
    let stderr = common::lookalike_fails(spoc);
    assert!(
        stderr.contains("was learned on R-MAC descriptors, these are SPoC"),
        "{stderr}"
    );
    let (code, json, stderr) = common::lookalike_json(args);
    assert_eq!(code, Some(0), "{stderr}");
    let descriptor: Vec<f64> = json[0]["descriptor"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(descriptor.len(), 8);
    let norm = descriptor.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5, "{norm}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
