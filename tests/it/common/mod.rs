//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

pub mod dng;
pub mod exif;
pub mod raw;

use std::path::{Path, PathBuf};

/// The repository's root, as cargo says when it runs the test. Its compile-time value
/// is only the fallback: a test binary reused from a target folder shared with another
/// checkout (cargo does not rebuild it for a moved package) would name that checkout.
pub fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// `../shared` beside the repository, or `None` after printing why the test is skipped.
/// With `LOOKALIKE_REQUIRE_SHARED` set (CI sets it), a missing `../shared` fails the
/// test instead: CI must prove the product, not its absence.
pub fn shared() -> Option<PathBuf> {
    let dir = repo().join("../shared");
    if dir.join("models").is_dir() {
        Some(dir)
    } else {
        assert!(
            std::env::var_os("LOOKALIKE_REQUIRE_SHARED").is_none(),
            "LOOKALIKE_REQUIRE_SHARED is set but {} is missing",
            dir.display()
        );
        eprintln!(
            "SKIPPED: {} not found (the shared test data lives beside the repository)",
            dir.display()
        );
        None
    }
}

/// The duplicate finder's evidence that each of `copies` (files in `library`) is a copy
/// of `keeper`, found by the finder itself on descriptors made equal, so that clean-up
/// tests about files (not pictures) get the only thing the clean-up accepts.
pub fn verified_copies(
    library: &Path,
    keeper: &str,
    copies: &[&str],
) -> Vec<lookalike_core::find::dupes::VerifiedMatch> {
    use lookalike_core::index::{Entry, Index, Provenance};
    let mut index = Index::new(
        library.to_path_buf(),
        Provenance {
            model_sha256: "ab".repeat(32),
            max_side: 1024,
            network: lookalike_core::describe::model::Network::Vgg16,
            pooling: lookalike_core::describe::pooling::Pooling::Rmac,
        },
    );
    for (i, name) in std::iter::once(keeper)
        .chain(copies.iter().copied())
        .enumerate()
    {
        let (meta, file) = lookalike_core::support::safefs::stat(&library.join(name)).unwrap();
        index.entries.push(Entry {
            path: name.into(),
            size: meta.len(),
            mtime_ns: lookalike_core::index::mtime_ns(&meta),
            file,
            via_link: false,
            // The keeper is the largest photo, so the finder keeps it.
            width: if i == 0 { 2000 } else { 1000 },
            height: 1000,
            feature_map: [1, 1],
            raw: Vec::new(),
            damage: None,
        });
    }
    let dim = 4;
    let rows: Vec<f32> = index
        .entries
        .iter()
        .flat_map(|_| [1.0, 0.0, 0.0, 0.0])
        .collect();
    let rule = lookalike_core::find::dupes::Rule::calibrated(
        lookalike_core::describe::pooling::Pooling::Rmac,
        false,
    );
    let control = lookalike_core::index::Control::unattended();
    let described = lookalike_core::find::dupes::Described {
        rows: &rows,
        dim,
        views: &[],
        unwhitening: None,
    };
    let keeping = lookalike_core::find::dupes::Keeping::default();
    let found =
        lookalike_core::find::dupes::find(&index, described, &[], rule, &keeping, control).unwrap();
    found
        .groups
        .iter()
        .flat_map(|g| g.matches(|_| true))
        .collect()
}

/// The real VGG16 weights in `../shared`.
pub fn shared_model(shared: &std::path::Path) -> PathBuf {
    shared.join("models/vgg16_imagenet_features.safetensors")
}

/// Relative L2 error `|a - b| / |b|`.
pub fn relative_l2(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let diff: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum();
    let norm: f64 = b.iter().map(|y| f64::from(*y).powi(2)).sum();
    (diff / norm).sqrt()
}

/// Runs `command` to completion, but fails the test (killing the process) if it takes
/// longer than `limit`: a hung CLI must fail CI, not stall it.
pub fn output_within(
    command: &mut std::process::Command,
    limit: std::time::Duration,
) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Drain both pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{command:?} did not finish within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: out.join().expect("stdout thread"),
        stderr: err.join().expect("stderr thread"),
    }
}

/// Runs `lookalike` with `args` (within five minutes), checks it did not panic, and
/// parses its stdout as JSON: `(exit code, json, stderr)`.
pub fn lookalike_json<I, S>(args: I) -> (Option<i32>, serde_json::Value, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let (output, stderr) = lookalike_output(args);
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}); stderr: {stderr}"));
    (output.status.code(), json, stderr)
}

/// Runs `lookalike ARGS`, which must end with a fatal error (exit status 1, no panic):
/// its stderr.
pub fn lookalike_fails<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let (output, stderr) = lookalike_output(args);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    stderr
}

/// Runs `lookalike ARGS` (at most 300 s), which must not panic: its output and stderr.
fn lookalike_output<I, S>(args: I) -> (std::process::Output, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let output = output_within(
        std::process::Command::new(env!("CARGO_BIN_EXE_lookalike")).args(args),
        std::time::Duration::from_secs(300),
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (output, stderr)
}

/// Runs `lookalike` with a private home (its trash is `<home>/.local/share/Trash`).
pub fn lookalike_in_home(
    home: &std::path::Path,
    args: &[&std::ffi::OsStr],
) -> (Option<i32>, serde_json::Value, String) {
    let data = home.join(".local/share");
    lookalike_with_env(
        args,
        &[
            ("HOME", home.as_os_str()),
            ("XDG_DATA_HOME", data.as_os_str()),
        ],
    )
}

/// Runs `lookalike` with `args` and these environment variables (within five
/// minutes), checks that no panic reached the user, and parses stdout as JSON (`Null`
/// if it is not): `(exit code, json, stderr)`.
pub fn lookalike_with_env(
    args: &[&std::ffi::OsStr],
    env: &[(&str, &std::ffi::OsStr)],
) -> (Option<i32>, serde_json::Value, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_lookalike"));
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = output_within(&mut command, std::time::Duration::from_secs(300));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (output.status.code(), json, stderr)
}

/// Copies into `dir` the `neardup-dev` images whose file name satisfies `keep`, plus
/// the first `distractors` distractors (`d_*`, by name); returns the names copied.
pub fn neardup_library(
    shared: &Path,
    dir: &Path,
    keep: impl Fn(&str) -> bool,
    distractors: usize,
) -> Vec<String> {
    let jpg = shared.join("data/neardup-dev/jpg");
    let mut names: Vec<String> = std::fs::read_dir(&jpg)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let chosen: Vec<String> = names
        .iter()
        .filter(|n| keep(n))
        .chain(
            names
                .iter()
                .filter(|n| n.starts_with("d_"))
                .take(distractors),
        )
        .cloned()
        .collect();
    std::fs::create_dir_all(dir).unwrap();
    for name in &chosen {
        std::fs::copy(jpg.join(name), dir.join(name)).unwrap();
    }
    chosen
}

/// `lookalike index --json --backend cpu --model MODEL --index INDEX [extra] DIR`.
pub fn index_json(
    model: &Path,
    dir: &Path,
    index: &Path,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    with_index_json("index", model, index, extra, dir)
}

/// `lookalike search --json --backend cpu --model MODEL --index INDEX [extra] QUERY`.
pub fn search_json(
    model: &Path,
    index: &Path,
    query: &Path,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    with_index_json("search", model, index, extra, query)
}

/// `lookalike COMMAND --json --backend cpu --model MODEL --index INDEX [extra] LAST`.
fn with_index_json(
    command: &str,
    model: &Path,
    index: &Path,
    extra: &[&str],
    last: &Path,
) -> (Option<i32>, serde_json::Value, String) {
    let mut args: Vec<std::ffi::OsString> = [command, "--json", "--backend", "cpu", "--model"]
        .iter()
        .map(Into::into)
        .collect();
    args.extend([model.into(), "--index".into(), index.into()]);
    args.extend(extra.iter().map(Into::into));
    args.push(last.into());
    lookalike_json(args)
}

/// Writes a Keras notop-layout `.h5` (`<layer>/<layer>/kernel:0` HWIO and `bias:0`)
/// with the kernels and biases `kernel(layer, spec)` gives.
pub fn write_keras_h5(
    path: &Path,
    kernel: impl Fn(usize, &lookalike_core::describe::model::ConvSpec) -> (Vec<f32>, Vec<f32>),
) {
    let mut builder = hdf5_pure::FileBuilder::new();
    for (layer, spec) in lookalike_core::describe::model::VGG16_LAYERS
        .iter()
        .enumerate()
    {
        let (hwio, bias) = kernel(layer, spec);
        let mut outer = builder.create_group(spec.keras_name);
        let mut inner = outer.create_group(spec.keras_name);
        inner
            .create_dataset("kernel:0")
            .with_f32_data(&hwio)
            .with_shape(&[3, 3, spec.in_channels as u64, spec.out_channels as u64]);
        inner
            .create_dataset("bias:0")
            .with_f32_data(&bias)
            .with_shape(&[spec.out_channels as u64]);
        outer.add_group(inner.finish());
        builder.add_group(outer.finish());
    }
    builder.write(path).unwrap();
}

#[cfg(unix)]
/// The photos of the test library: name in `../shared/data/neardup-dev/jpg`.
pub const LINKED_PHOTOS: [&str; 4] = ["o020.jpg", "o021.jpg", "o022.jpg", "o023.jpg"];

/// Builds the library:
/// ```text
/// library/real/o020.jpg ... o023.jpg   four different photos
/// library/real/hard.jpg                a hard link to real/o020.jpg
/// library/copy-of-o021.jpg             a real byte-identical copy of real/o021.jpg
/// library/linked -> real               a symbolic link to a folder of the library
/// library/alias.jpg -> real/o022.jpg   a symbolic link to a file
/// ```
#[cfg(unix)]
pub fn linked_library(shared: &Path, root: &Path) -> PathBuf {
    let jpg = shared.join("data/neardup-dev/jpg");
    let dir = root.join("library");
    std::fs::create_dir_all(dir.join("real")).unwrap();
    for name in LINKED_PHOTOS {
        std::fs::copy(jpg.join(name), dir.join("real").join(name)).unwrap();
    }
    std::fs::hard_link(dir.join("real/o020.jpg"), dir.join("real/hard.jpg")).unwrap();
    std::fs::copy(dir.join("real/o021.jpg"), dir.join("copy-of-o021.jpg")).unwrap();
    std::os::unix::fs::symlink(dir.join("real"), dir.join("linked")).unwrap();
    std::os::unix::fs::symlink(dir.join("real/o022.jpg"), dir.join("alias.jpg")).unwrap();
    dir
}

/// For every real file under `dir` (links not followed): its bytes -> its paths.
#[cfg(unix)]
pub fn real_files(dir: &Path) -> std::collections::BTreeMap<Vec<u8>, Vec<PathBuf>> {
    let mut files: std::collections::BTreeMap<Vec<u8>, Vec<PathBuf>> =
        std::collections::BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(false) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            files.entry(bytes).or_default().push(entry.into_path());
        }
    }
    files
}
