//! Where a moved file goes and how it comes back: a free name in a folder, a place in
//! the trash of its own file system, its sidecars beside it; the move itself (a rename
//! that never replaces and never copies) and the way back.

use std::path::{Path, PathBuf};

use super::journal::Identity;
use super::trash;
use super::{Destination, Indexed, Place, sidecars};
use crate::support::safefs;

/// Where the file at `path` would go, touching nothing (the dry run).
pub(super) fn preview(
    path: &Path,
    destination: &Destination,
) -> std::result::Result<Place, String> {
    match destination {
        Destination::Trash => Ok(Place::Trash),
        Destination::Folder(folder) => free_name(folder, path).map(Place::File),
    }
}

/// Where `file` goes (after [`may_move`] said it may): a free name in the folder, or a
/// place in the trash of its own file system, whose record is written now.
pub(super) fn reserve(
    file: &Indexed,
    destination: &Destination,
) -> std::result::Result<Place, String> {
    reserve_path(&file.path, destination)
}

pub(super) fn reserve_path(
    path: &Path,
    destination: &Destination,
) -> std::result::Result<Place, String> {
    match destination {
        #[cfg(all(unix, not(target_os = "macos")))]
        Destination::Trash => trash::reserve(path).map(Place::Trashed),
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        Destination::Trash => Ok(Place::Trash),
        Destination::Folder(folder) => free_name(folder, path).map(Place::File),
    }
}

/// The identity of `photo`'s sidecar `companion` and its place beside the photo's
/// place `photo_to`: in a folder, named as the photo's new name (a free name if that is
/// taken); in the trash, its own place there.
pub(super) fn reserve_companion(
    photo: &Path,
    companion: &Path,
    photo_to: &Place,
    destination: &Destination,
) -> std::result::Result<(Identity, Place), String> {
    let identity = Identity::of(companion)?;
    let place = match (photo_to, destination) {
        (Place::File(target), Destination::Folder(folder)) => {
            match sidecars::beside(photo, companion, target) {
                Some(wanted) if !wanted.exists() => Place::File(wanted),
                _ => free_name(folder, companion).map(Place::File)?,
            }
        }
        _ => reserve_path(companion, destination)?,
    };
    Ok((identity, place))
}

/// Gives back a place reserved for a file that stays (its trash record).
pub(super) fn release(place: &Place) {
    #[cfg(all(unix, not(target_os = "macos")))]
    if let Place::Trashed(trashed) = place {
        safefs::remove_own_trash_record(&trashed.info);
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    let _ = place;
}

/// A path in `folder` for `file` that does not exist yet: its name, or `name (2).ext`...
pub(super) fn free_name(folder: &Path, file: &Path) -> std::result::Result<PathBuf, String> {
    if !folder.is_dir() {
        return Err(format!("{} is not a folder", folder.display()));
    }
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    let ext = file
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (1..10_000)
        .map(|i| match i {
            1 => folder.join(format!("{stem}{ext}")),
            i => folder.join(format!("{stem} ({i}){ext}")),
        })
        .find(|candidate| !candidate.exists())
        .ok_or_else(|| format!("no free name for it in {}", folder.display()))
}

pub(super) fn move_away(from: &Path, to: &Place) -> std::result::Result<(), String> {
    match to {
        #[cfg(all(unix, not(target_os = "macos")))]
        Place::Trashed(trashed) => trash::finish(from, trashed),
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        Place::Trash => trash::system_trash(from),
        // A rename never loses the file: it is here or there, and never replaces
        // another. Across file systems it fails, and the user is asked for a folder
        // on the same one instead.
        Place::File(target) => safefs::move_no_replace(from, target).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!(
                "a file appeared at {} meanwhile; nothing was replaced",
                target.display()
            ),
            std::io::ErrorKind::CrossesDevices => format!(
                "{} is on another file system: a move there would copy it, so it stays; \
                 choose a folder on the same disk",
                target.display()
            ),
            _ => format!("could not move it to {} ({e})", target.display()),
        }),
        #[allow(unreachable_patterns)]
        _ => Err("this system has no such trash".into()),
    }
}

/// Brings back the file moved from `from` to `to`, only if `from` is free and the file
/// at `to` is still the one that was moved (`identity`, when the journal has it).
pub(super) fn restore(
    from: &Path,
    to: &Place,
    identity: Option<Identity>,
) -> std::result::Result<(), String> {
    if from.exists() {
        return Err("its place is taken by another file; it was left where it is".into());
    }
    let same = |moved: &Path| match identity {
        Some(identity) if Identity::of(moved)? != identity => Err(format!(
            "the file at {} is not the one that was moved (replaced or changed since); \
             it was left where it is",
            moved.display()
        )),
        _ => Ok(()),
    };
    match to {
        Place::File(moved) => {
            same(moved)?;
            safefs::move_no_replace(moved, from)
                .map_err(|e| format!("could not move {} back: {e}", moved.display()))
        }
        #[cfg(all(unix, not(target_os = "macos")))]
        Place::Trashed(trashed) => {
            same(&trashed.file)?;
            trash::take_back(trashed, from)
        }
        Place::Trash => restore_from_trash(from),
        #[allow(unreachable_patterns)]
        _ => Err("this system has no such trash".into()),
    }
}

/// A file an older journal sent to the trash without recording where: brought back
/// only if exactly one trashed file came from its path.
#[cfg(all(unix, not(target_os = "macos")))]
pub(super) fn restore_from_trash(from: &Path) -> std::result::Result<(), String> {
    match trash::find_by_origin(from).as_slice() {
        [one] => trash::take_back(one, from),
        [] => Err("it is no longer in the trash (was the trash emptied?)".into()),
        _ => Err(
            "several files from this path are in the trash and the journal does not \
                  say which one it moved: restore it with your file manager"
                .into(),
        ),
    }
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
pub(super) fn restore_from_trash(_from: &Path) -> std::result::Result<(), String> {
    Err("restore it from the system trash (the Recycle Bin or the Finder's Put Back)".into())
}
