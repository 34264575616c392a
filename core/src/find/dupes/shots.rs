//! RAW + JPEG pairs: the files a camera writes for one shot (same folder, same name
//! but for the extension), shown and kept as one photo. Worked out for a whole index,
//! or kept up to date as a library grows while it is indexed.

use std::collections::HashMap;

use crate::index::Entry;

/// RAW + JPEG pairs of an index: for each JPEG (or other non-RAW file) that has a RAW
/// of the same name in the same folder, that RAW's row. The app shows such a pair as
/// one photo.
pub fn raw_jpeg_siblings(entries: &[Entry]) -> HashMap<usize, usize> {
    let mut shots = Shots::default();
    shots.add(entries, 0);
    shots.siblings
}

/// A file's shot: its folder and its name without the extension, in lower case.
fn shot(path: &str) -> String {
    let stem = std::path::Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    let folder = path.rsplit_once('/').map_or("", |(folder, _)| folder);
    let mut key = String::with_capacity(folder.len() + 1 + stem.len());
    key.push_str(folder);
    key.push('/');
    key.extend(stem.chars().flat_map(char::to_lowercase));
    key
}

/// The shots of a library that grows, and its RAW + JPEG pairs
/// ([`raw_jpeg_siblings`]), updated for each batch of photos added.
#[derive(Debug, Clone, Default)]
pub struct Shots {
    /// Each shot's rows, in row order, and whether each is a RAW.
    rows: HashMap<String, Vec<(usize, bool)>>,
    /// A JPEG's row -> its RAW's row.
    siblings: HashMap<usize, usize>,
    /// The same pairs the other way: a RAW's row -> its JPEG's.
    jpeg_of: HashMap<usize, usize>,
}

impl Shots {
    /// Adds `entries[first..]` (the rows added since the last call); returns whether
    /// a row before `first` changed its pairing (shown otherwise from now on).
    pub fn add(&mut self, entries: &[Entry], first: usize) -> bool {
        // Shots of two files or more: only they can pair.
        let mut touched = Vec::new();
        for (row, entry) in entries.iter().enumerate().skip(first) {
            let path = std::path::Path::new(&entry.path);
            let rows = self.rows.entry(shot(&entry.path)).or_default();
            rows.push((row, crate::read::raw::is_raw(path)));
            if rows.len() > 1 {
                touched.push(row);
            }
        }
        let mut changed_before = false;
        for row in touched {
            let rows = &self.rows[&shot(&entries[row].path)];
            let Some(&(raw, _)) = rows.iter().find(|(_, is_raw)| *is_raw) else {
                continue;
            };
            for &(row, _) in rows.iter().filter(|(_, is_raw)| !is_raw) {
                if self.siblings.insert(row, raw) != Some(raw) {
                    changed_before |= row < first || raw < first;
                }
                self.jpeg_of.insert(raw, row);
            }
        }
        changed_before
    }

    /// A JPEG's row -> its RAW's row.
    pub fn siblings(&self) -> &HashMap<usize, usize> {
        &self.siblings
    }

    /// A RAW's row -> its JPEG's row.
    pub fn jpeg_of(&self) -> &HashMap<usize, usize> {
        &self.jpeg_of
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::safefs::FileId;

    fn entry(path: &str) -> Entry {
        Entry {
            path: path.into(),
            size: 1,
            mtime_ns: 0,
            file: FileId {
                device: 0,
                inode: 0,
            },
            via_link: false,
            width: 1,
            height: 1,
            feature_map: [1, 1],
            raw: vec![1.0],
            damage: None,
        }
    }

    /// Added a batch at a time, the pairs are those of the whole list, and a batch says
    /// when it changed how an earlier row is shown: a RAW whose JPEG came before, a JPEG
    /// whose RAW came before; photos of other names or folders change nothing.
    #[test]
    fn pairs_grow_batch_by_batch_as_for_the_whole_list() {
        let paths = [
            "trip/IMG_1.CR3",
            "trip/IMG_2.jpg",
            "trip/IMG_1.JPG",
            "other/IMG_2.CR3",
            "trip/IMG_3.jpg",
            "trip/img_2.nef",
            "trip/IMG_4.jpg",
        ];
        let entries: Vec<Entry> = paths.iter().map(|p| entry(p)).collect();
        let mut shots = Shots::default();
        let changed: Vec<bool> = [(0, 2), (2, 3), (3, 5), (5, 6), (6, 7)]
            .iter()
            .map(|&(first, end)| shots.add(&entries[..end], first))
            .collect();
        assert_eq!(changed, [false, true, false, true, false]);
        let whole = raw_jpeg_siblings(&entries);
        assert_eq!(whole, HashMap::from([(2, 0), (1, 5)]));
        assert_eq!(shots.siblings(), &whole);
        assert_eq!(shots.jpeg_of(), &HashMap::from([(0, 2), (5, 1)]));
    }
}
