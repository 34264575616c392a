//! Which photo of a group is kept, by rules the user can read and change: an ordered
//! list of [`KeepRule`]s, the first that tells two photos apart decides, and the group
//! says which one did ("kept because …"). Two rules always come first, whatever the
//! list: a real file over one reached through a symbolic link, and a whole file over
//! one cut short or broken inside. Ties after every rule go to the file modified first,
//! then to the first path: never to chance.
//!
//! Protected (reference) folders are the first rule by default, and more than a rule:
//! a file in one is never a copy that may go ([`super::Group::is_copy`]), whoever is kept.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use crate::read::exif::{Shot, Taken};

/// One rule of the keeper order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeepRule {
    /// A file in a protected folder.
    Protected,
    /// The better format: camera RAW > HEIC / HEIF / AVIF > TIFF > JPEG > the rest.
    Format,
    /// The camera's original (camera EXIF, no editor wrote it) over an export.
    Original,
    /// The most pixels.
    Resolution,
    /// The earliest EXIF capture time (a photo with one over a photo without).
    Oldest,
    /// The photo its copies are closest to: an original sits amid its edits, each of
    /// which moved away from it its own way.
    Closest,
    /// The largest file.
    Largest,
    /// A file in a preferred folder.
    Preferred,
}

impl KeepRule {
    /// Every rule, in the default order.
    pub const DEFAULT: [KeepRule; 8] = [
        Self::Protected,
        Self::Format,
        Self::Original,
        Self::Resolution,
        Self::Oldest,
        Self::Closest,
        Self::Largest,
        Self::Preferred,
    ];

    /// The rule's name on the command line (`dupes --keep-rule`) and in settings.
    pub fn name(self) -> &'static str {
        match self {
            Self::Protected => "protected",
            Self::Format => "format",
            Self::Original => "original",
            Self::Resolution => "resolution",
            Self::Oldest => "oldest",
            Self::Closest => "closest",
            Self::Largest => "largest",
            Self::Preferred => "preferred",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::DEFAULT.into_iter().find(|r| r.name() == name)
    }

    /// The rule as a settings line.
    pub fn title(self) -> &'static str {
        match self {
            Self::Protected => "In a protected folder",
            Self::Format => "Better format: RAW > HEIC > TIFF > JPEG",
            Self::Original => "Camera original over an export",
            Self::Resolution => "Highest resolution",
            Self::Oldest => "Oldest capture time",
            Self::Closest => "Closest to its copies",
            Self::Largest => "Largest file",
            Self::Preferred => "In a preferred folder",
        }
    }

    /// What the rule says of the photo it keeps ("kept because …").
    pub fn because(self) -> &'static str {
        match self {
            Self::Protected => "it is in a protected folder",
            Self::Format => "its format is better (RAW > HEIC > TIFF > JPEG)",
            Self::Original => "it is the camera's original, not an export",
            Self::Resolution => "it has the most pixels",
            Self::Oldest => "it was taken first",
            Self::Closest => "its copies are closest to it",
            Self::Largest => "it is the largest file",
            Self::Preferred => "it is in a preferred folder",
        }
    }
}

/// Why a group's keeper is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The only photo of its group that may be kept.
    Alone,
    /// A real file, the other reached through a symbolic link.
    RealFile,
    /// A whole file, the other cut short or broken inside.
    Whole,
    /// The first rule of the list that told it from the runner-up.
    Rule(KeepRule),
    /// Every rule tied: the file modified first.
    ModifiedFirst,
    /// Every rule tied: the first path.
    FirstPath,
    /// The user chose it.
    Chosen,
}

impl Reason {
    pub fn because(self) -> &'static str {
        match self {
            Self::Alone => "it is the only photo that may be kept",
            Self::RealFile => "it is a real file (the other is reached through a link)",
            Self::Whole => "it is whole (the other is cut short or broken)",
            Self::Rule(rule) => rule.because(),
            Self::ModifiedFirst => "every rule tied and it was modified first",
            Self::FirstPath => "every rule tied and its path comes first",
            Self::Chosen => "you chose it",
        }
    }

    /// A short name for `dupes --json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Alone => "alone",
            Self::RealFile => "real-file",
            Self::Whole => "whole",
            Self::Rule(rule) => rule.name(),
            Self::ModifiedFirst => "modified-first",
            Self::FirstPath => "first-path",
            Self::Chosen => "chosen",
        }
    }
}

/// What the user decided about keeping: the rules in order, the protected and preferred
/// folders (absolute paths; a file is in one if its path starts with it), and the
/// remembered decisions ("not duplicates", "keep all": never proposed together again).
#[derive(Debug, Clone, PartialEq)]
pub struct Keeping {
    pub rules: Vec<KeepRule>,
    pub protected: Vec<PathBuf>,
    pub preferred: Vec<PathBuf>,
    pub decided: Vec<super::decisions::Decision>,
}

impl Default for Keeping {
    fn default() -> Self {
        Self {
            rules: KeepRule::DEFAULT.to_vec(),
            protected: Vec::new(),
            preferred: Vec::new(),
            decided: Vec::new(),
        }
    }
}

impl Keeping {
    /// Whether the file at `path` lies in a protected folder: it is never moved.
    pub fn is_protected(&self, path: &Path) -> bool {
        self.protected.iter().any(|dir| path.starts_with(dir))
    }

    /// Whether a remembered decision puts the two photos (paths relative to the
    /// library) apart: they are never copies of each other.
    pub fn decided_apart(&self, a: &str, b: &str) -> bool {
        self.decided.iter().any(|d| d.covers(a, b))
    }

    fn is_preferred(&self, path: &Path) -> bool {
        self.preferred.iter().any(|dir| path.starts_with(dir))
    }

    /// The rules as given, then the rules left out in their default order: every
    /// rule takes part, so that ties fall to the one left out rather than to the path.
    pub fn order(&self) -> Vec<KeepRule> {
        let mut order = Vec::with_capacity(KeepRule::DEFAULT.len());
        for rule in self.rules.iter().chain(&KeepRule::DEFAULT) {
            if !order.contains(rule) {
                order.push(*rule);
            }
        }
        order
    }

    /// What the rules look at in one photo.
    pub(super) fn facts(&self, path: &Path, entry: &crate::index::Entry, shot: &Shot) -> Facts {
        Facts {
            via_link: entry.via_link,
            damaged: entry.damage.is_some(),
            protected: self.is_protected(path),
            format: format_rank(path),
            original: shot.camera_original(),
            pixels: u64::from(entry.width) * u64::from(entry.height),
            taken: shot.taken,
            size: entry.size,
            preferred: self.is_preferred(path),
            mtime_ns: entry.mtime_ns,
        }
    }
}

/// What the rules look at in one photo (with its closeness, which depends on the
/// group: passed apart).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Facts {
    via_link: bool,
    damaged: bool,
    pub protected: bool,
    format: u8,
    original: bool,
    pixels: u64,
    taken: Option<Taken>,
    size: u64,
    preferred: bool,
    mtime_ns: i128,
}

/// Which of two photos is the better keeper (`Greater`: `a`) and the reason that
/// decided; `closeness` is each one's closeness to the photos verified with it, the
/// rows break the last tie (rows follow the paths' order).
pub(super) fn compare(
    order: &[KeepRule],
    (a, closeness_a, row_a): (&Facts, f32, usize),
    (b, closeness_b, row_b): (&Facts, f32, usize),
) -> (Ordering, Reason) {
    let fixed = [
        (b.via_link.cmp(&a.via_link), Reason::RealFile),
        (b.damaged.cmp(&a.damaged), Reason::Whole),
    ];
    let rules = order.iter().map(|&rule| {
        let o = match rule {
            KeepRule::Protected => a.protected.cmp(&b.protected),
            KeepRule::Format => a.format.cmp(&b.format),
            KeepRule::Original => a.original.cmp(&b.original),
            KeepRule::Resolution => a.pixels.cmp(&b.pixels),
            // Earlier is better; a known time over none.
            KeepRule::Oldest => match (a.taken, b.taken) {
                (Some(x), Some(y)) => y
                    .seconds
                    .cmp(&x.seconds)
                    .then(y.nanos.unwrap_or(0).cmp(&x.nanos.unwrap_or(0))),
                (x, y) => x.is_some().cmp(&y.is_some()),
            },
            KeepRule::Closest => closeness_a.total_cmp(&closeness_b),
            KeepRule::Largest => a.size.cmp(&b.size),
            KeepRule::Preferred => a.preferred.cmp(&b.preferred),
        };
        (o, Reason::Rule(rule))
    });
    let ties = [
        (b.mtime_ns.cmp(&a.mtime_ns), Reason::ModifiedFirst),
        (row_b.cmp(&row_a), Reason::FirstPath),
    ];
    fixed
        .into_iter()
        .chain(rules)
        .chain(ties)
        .find(|(o, _)| o.is_ne())
        .unwrap_or((Ordering::Equal, Reason::FirstPath))
}

/// Camera RAW 4, HEIC / HEIF / AVIF 3, TIFF 2, JPEG 1, anything else 0.
fn format_rank(path: &Path) -> u8 {
    if crate::read::raw::is_raw(path) {
        return 4;
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "heic" | "heif" | "hif" | "avif" => 3,
        "tif" | "tiff" => 2,
        "jpg" | "jpeg" | "jpe" => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(format: u8, pixels: u64, size: u64) -> Facts {
        Facts {
            via_link: false,
            damaged: false,
            protected: false,
            format,
            original: false,
            pixels,
            taken: None,
            size,
            preferred: false,
            mtime_ns: 0,
        }
    }

    #[test]
    fn the_first_rule_that_tells_them_apart_decides_and_says_so() {
        let order = Keeping::default().order();
        let raw = facts(4, 100, 10);
        let jpeg = facts(1, 400, 99);
        assert_eq!(
            compare(&order, (&raw, 0.0, 1), (&jpeg, 0.0, 0)),
            (Ordering::Greater, Reason::Rule(KeepRule::Format))
        );
        // With resolution first, the bigger JPEG wins.
        let keeping = Keeping {
            rules: vec![KeepRule::Resolution],
            ..Keeping::default()
        };
        assert_eq!(
            compare(&keeping.order(), (&raw, 0.0, 1), (&jpeg, 0.0, 0)),
            (Ordering::Less, Reason::Rule(KeepRule::Resolution))
        );
    }

    #[test]
    fn ties_go_to_the_first_path_never_to_chance() {
        let order = Keeping::default().order();
        let a = facts(1, 100, 10);
        assert_eq!(
            compare(&order, (&a, 0.5, 3), (&a, 0.5, 7)),
            (Ordering::Greater, Reason::FirstPath)
        );
        assert_eq!(
            compare(&order, (&a, 0.5, 7), (&a, 0.5, 3)).0,
            Ordering::Less
        );
    }

    #[test]
    fn a_whole_file_comes_before_every_rule() {
        let order = Keeping::default().order();
        let mut cut = facts(4, 999, 999);
        cut.damaged = true;
        cut.protected = true;
        let whole = facts(1, 1, 1);
        assert_eq!(
            compare(&order, (&whole, 0.0, 1), (&cut, 0.0, 0)),
            (Ordering::Greater, Reason::Whole)
        );
    }

    #[test]
    fn rule_names_read_back_and_every_rule_takes_part() {
        for rule in KeepRule::DEFAULT {
            assert_eq!(KeepRule::from_name(rule.name()), Some(rule));
        }
        let keeping = Keeping {
            rules: vec![KeepRule::Largest, KeepRule::Format],
            ..Keeping::default()
        };
        let order = keeping.order();
        assert_eq!(
            &order[..3],
            &[KeepRule::Largest, KeepRule::Format, KeepRule::Protected]
        );
        assert_eq!(order.len(), KeepRule::DEFAULT.len());
    }

    #[test]
    fn formats_rank_raw_heic_tiff_jpeg() {
        let rank = |p: &str| format_rank(Path::new(p));
        assert!(rank("a.NEF") > rank("a.heic"));
        assert!(rank("a.heic") > rank("a.tif"));
        assert!(rank("a.tif") > rank("a.JPG"));
        assert!(rank("a.jpg") > rank("a.png"));
    }
}
