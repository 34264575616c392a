//! Finding photos in an index: nearest neighbours under seven distances (`search`), what
//! "similar" means (`intent`), the turned and enlarged views added to a search
//! (`views`), which whitening a search applies (`whitening`), duplicates (`dupes`:
//! close pairs, verification, groups and keeper) and the evaluation protocols (`eval`).

pub mod dupes;
pub mod eval;
pub mod intent;
pub mod search;
pub mod views;
pub mod whitening;
