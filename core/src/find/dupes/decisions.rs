//! What the user decided about groups, remembered with the library: "Not duplicates"
//! (on a group or a pair) and "Keep all". The finder never proposes two photos of one
//! decision together again ([`Keeping::decided`](super::Keeping)), in the app and on
//! the command line alike; every decision is listed and can be undone.
//!
//! Stored beside the library's indexes, apart from them (`<library>-<hash>.decisions.json`,
//! the name every index of that folder shares), so that describing the library again,
//! with any network, keeps them. Photos are named by their path in the library.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::support::error::{Error, Result};
use crate::support::safefs::{self, Replace};

/// What the user said of a set of photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// They are not copies of one another.
    NotDuplicates,
    /// They may be copies, and all of them stay.
    KeepAll,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Self::NotDuplicates => "not duplicates",
            Self::KeepAll => "keep all",
        }
    }
}

/// One decision: a verdict on photos of the library (paths relative to its folder,
/// `/`-separated, as the index has them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub verdict: Verdict,
    pub photos: Vec<String>,
    /// When it was made, seconds since the Unix epoch.
    pub made: u64,
}

impl Decision {
    /// Whether the decision covers both photos (paths relative to the library).
    pub fn covers(&self, a: &str, b: &str) -> bool {
        self.photos.iter().any(|p| p == a) && self.photos.iter().any(|p| p == b)
    }
}

/// The file's first bytes: what lets [`Decisions::save`] replace it and nothing else.
const MAGIC: &[u8] = b"{\"lookalike-decisions\":";

#[derive(Serialize, Deserialize)]
struct File {
    #[serde(rename = "lookalike-decisions")]
    version: u32,
    decisions: Vec<Decision>,
}

/// The decisions of one library, as stored at [`Self::path`].
#[derive(Debug, Clone, PartialEq)]
pub struct Decisions {
    path: PathBuf,
    list: Vec<Decision>,
}

impl Decisions {
    /// Where the decisions of the library at `root` live, beside its indexes in
    /// `index_dir`.
    pub fn path_for(index_dir: &Path, root: &Path) -> PathBuf {
        let name = crate::index::index_file_name(root, "");
        index_dir.join(Path::new(&name).with_extension("decisions.json"))
    }

    /// The decisions stored at `path` (none when there is no file yet).
    pub fn load(path: &Path) -> Result<Self> {
        let list = match std::fs::read(path) {
            Ok(bytes) => {
                let file: File = serde_json::from_slice(&bytes).map_err(|e| Error::Refused {
                    path: path.to_path_buf(),
                    reason: format!("not a decisions file ({e}); it was left as it is"),
                })?;
                file.decisions
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(path, e)),
        };
        Ok(Self {
            path: path.to_path_buf(),
            list,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every decision, oldest first.
    pub fn list(&self) -> &[Decision] {
        &self.list
    }

    /// Remembers `verdict` on `photos` (at least two) and saves.
    pub fn add(&mut self, verdict: Verdict, mut photos: Vec<String>) -> Result<()> {
        photos.sort();
        photos.dedup();
        if photos.len() < 2 {
            return Err(Error::Invalid(
                "a decision needs at least two photos of the library".into(),
            ));
        }
        let made = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.list.push(Decision {
            verdict,
            photos,
            made,
        });
        self.save()
    }

    /// Forgets decision `i` (undo) and saves; the decision forgotten.
    pub fn remove(&mut self, i: usize) -> Result<Decision> {
        if i >= self.list.len() {
            return Err(Error::Invalid(format!(
                "there is no decision {} (there are {})",
                i + 1,
                self.list.len()
            )));
        }
        let gone = self.list.remove(i);
        self.save()?;
        Ok(gone)
    }

    fn save(&self) -> Result<()> {
        let file = File {
            version: 1,
            decisions: self.list.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::Invalid(format!("decisions: {e}")))?;
        safefs::write_atomically(&self.path, &bytes, Replace::IfOurs(is_decisions))
    }
}

/// Whether a file's first bytes are a decisions file's (pretty-printed or not).
fn is_decisions(head: &[u8]) -> bool {
    let squeezed: Vec<u8> = head
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .take(MAGIC.len())
        .collect();
    squeezed == MAGIC
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_saved_read_back_and_undone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lib.decisions.json");
        let mut decisions = Decisions::load(&path).unwrap();
        assert!(decisions.list().is_empty());
        decisions
            .add(Verdict::NotDuplicates, vec!["b.jpg".into(), "a.jpg".into()])
            .unwrap();
        decisions
            .add(
                Verdict::KeepAll,
                vec!["c.jpg".into(), "d.jpg".into(), "e.jpg".into()],
            )
            .unwrap();
        let read = Decisions::load(&path).unwrap();
        assert_eq!(read, decisions);
        assert!(read.list()[0].covers("a.jpg", "b.jpg"));
        assert!(!read.list()[1].covers("a.jpg", "c.jpg"));
        let mut read = read;
        assert_eq!(read.remove(0).unwrap().verdict, Verdict::NotDuplicates);
        assert_eq!(Decisions::load(&path).unwrap().list().len(), 1);
        assert!(read.remove(5).is_err());
        assert!(
            read.add(Verdict::KeepAll, vec!["x".into(), "x".into()])
                .is_err()
        );
    }

    #[test]
    fn only_a_decisions_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photo.jpg");
        std::fs::write(&path, b"\xff\xd8 not ours").unwrap();
        let mut decisions = Decisions {
            path: path.clone(),
            list: Vec::new(),
        };
        assert!(
            decisions
                .add(Verdict::KeepAll, vec!["a".into(), "b".into()])
                .is_err()
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"\xff\xd8 not ours");
    }
}
