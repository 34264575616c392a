//! Sidecars and companions: the files beside a photo that belong to it and travel with
//! it when it moves (and come back with it on undo). A photo whose sidecar cannot move
//! does not move either ([`super::Journal::remove`]).
//!
//! - By name: `IMG_1234.CR2.xmp` (and `.pp3`, `.dop`): it names its photo exactly.
//! - By stem: `IMG_1234.xmp`, `.pp3`, `.dop`, `.aae`, `.on1`, and a Live Photo's
//!   `IMG_1234.MOV`: it belongs to the photo only while no other photo beside it has
//!   that stem (a RAW + JPEG pair shares `IMG_1234.xmp`, which then stays with the photo
//!   that stays).
//!
//! Extensions and stems are compared ignoring case; only regular files count.

use std::path::{Path, PathBuf};

/// Sidecars named after the photo's whole file name (`name.ext.xmp`).
const BY_NAME: [&str; 3] = ["xmp", "pp3", "dop"];

/// Sidecars and companions named after the photo's stem (`name.xmp`).
const BY_STEM: [&str; 6] = ["xmp", "pp3", "dop", "aae", "on1", "mov"];

/// The sidecars and companions of the photo at `photo`, by name.
pub fn companions(photo: &Path) -> Vec<PathBuf> {
    let (Some(folder), Some(name)) = (photo.parent(), photo.file_name().and_then(|n| n.to_str()))
    else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let name = name.to_lowercase();
    let (stem, _) = split(&name);
    let mut by_name = Vec::new();
    let mut by_stem = Vec::new();
    let mut stem_shared = false;
    for entry in entries.flatten() {
        let Some(other) = entry.file_name().to_str().map(str::to_lowercase) else {
            continue;
        };
        if other == name || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let (other_stem, ext) = split(&other);
        if let Some(base) = other.strip_suffix(&format!(".{ext}"))
            && base == name
            && BY_NAME.contains(&ext)
        {
            by_name.push(entry.path());
        } else if other_stem == stem && BY_STEM.contains(&ext) {
            by_stem.push(entry.path());
        } else if other_stem == stem && crate::read::imaging::has_image_extension(Path::new(&other))
        {
            stem_shared = true;
        }
    }
    if !stem_shared {
        by_name.extend(by_stem);
    }
    by_name.sort();
    by_name
}

/// A lower-case file name's stem and extension (`""` without one).
fn split(name: &str) -> (&str, &str) {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, ext),
        _ => (name, ""),
    }
}

/// Where a companion goes beside its photo's new place `photo_to`: the photo's new
/// name with the companion's own ending (`IMG_1 (2).JPG` → `IMG_1 (2).xmp` or
/// `IMG_1 (2).JPG.xmp`).
pub fn beside(photo: &Path, companion: &Path, photo_to: &Path) -> Option<PathBuf> {
    let photo_name = photo.file_name()?.to_str()?;
    let companion_name = companion.file_name()?.to_str()?;
    let new_name = photo_to.file_name()?.to_str()?;
    let ending = if companion_name
        .to_lowercase()
        .starts_with(&format!("{}.", photo_name.to_lowercase()))
    {
        format!("{new_name}{}", &companion_name[photo_name.len()..])
    } else {
        let (_, ext) = companion_name.rsplit_once('.')?;
        let (new_stem, _) = new_name.rsplit_once('.').unwrap_or((new_name, ""));
        format!("{new_stem}.{ext}")
    };
    Some(photo_to.with_file_name(ending))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, names: &[&str]) {
        for name in names {
            std::fs::write(dir.join(name), name).unwrap();
        }
    }

    fn names(paths: Vec<PathBuf>) -> Vec<String> {
        paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn sidecars_by_name_and_by_stem_go_with_their_photo() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(
            d,
            &[
                "IMG_1.HEIC",
                "IMG_1.MOV",
                "IMG_1.AAE",
                "IMG_1.HEIC.xmp",
                "IMG_2.jpg",
                "IMG_2.XMP",
                "other.xmp",
            ],
        );
        assert_eq!(
            names(companions(&d.join("IMG_1.HEIC"))),
            ["IMG_1.AAE", "IMG_1.HEIC.xmp", "IMG_1.MOV"]
        );
        assert_eq!(names(companions(&d.join("IMG_2.jpg"))), ["IMG_2.XMP"]);
    }

    #[test]
    fn a_stem_shared_with_another_photo_keeps_its_sidecar_home() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(d, &["IMG_3.CR2", "IMG_3.JPG", "IMG_3.xmp", "IMG_3.JPG.xmp"]);
        // The JPEG goes, the RAW stays: IMG_3.xmp is the RAW's too.
        assert_eq!(names(companions(&d.join("IMG_3.JPG"))), ["IMG_3.JPG.xmp"]);
    }

    #[test]
    fn companions_are_renamed_as_their_photo() {
        let to = Path::new("/t/IMG_1 (2).JPG");
        let photo = Path::new("/a/IMG_1.JPG");
        assert_eq!(
            beside(photo, Path::new("/a/IMG_1.xmp"), to).unwrap(),
            Path::new("/t/IMG_1 (2).xmp")
        );
        assert_eq!(
            beside(photo, Path::new("/a/IMG_1.JPG.xmp"), to).unwrap(),
            Path::new("/t/IMG_1 (2).JPG.xmp")
        );
    }
}
