//! No code path deletes a file for good: the only removals in the sources are of the
//! program's own temporary files (`tmp`), user files go to the trash or a folder through
//! `cleanup`, and nothing empties the trash.

use std::path::Path;

/// Calls that destroy a file or the trash's contents.
const DESTRUCTIVE: [&str; 6] = [
    "remove_file(",
    "remove_dir(",
    "remove_dir_all(",
    "purge_all(",
    "TrashContext",
    "set_len(",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_sources_only_ever_remove_their_own_temporary_files() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found only {} source files", files.len());
    let mut offending = Vec::new();
    let mut temp_removals = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests may clean up after themselves; the shipped code may not.
        let shipped = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in shipped.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for call in DESTRUCTIVE {
                if !code.contains(call) {
                    continue;
                }
                if code.contains("remove_file(&tmp)") {
                    temp_removals += 1;
                } else {
                    offending.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offending.is_empty(),
        "destructive calls:\n{}",
        offending.join("\n")
    );
    // The check is alive: the atomic-save helpers' clean-up of their temp files is seen.
    assert!(
        temp_removals >= 2,
        "expected the temp-file clean-ups, saw {temp_removals}"
    );
}

#[test]
fn the_only_way_out_of_the_library_is_the_trash_or_a_rename() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cleanup.rs"))
            .unwrap();
    let shipped = text.split("#[cfg(test)]").next().unwrap();
    assert!(shipped.contains("trash::delete(from)"));
    assert!(shipped.contains("std::fs::rename(from, target)"));
    // No copy-then-delete fallback across disks.
    assert!(!shipped.contains("std::fs::copy("));
}
