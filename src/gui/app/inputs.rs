//! What comes in besides events: the newest library, dropped and pasted files, the
//! file dialogs' answers; and what goes out once the user stops changing things: the
//! whitening and the search.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui;

use super::{LIVE_REFRESH, LookalikeApp, SEARCH_DEBOUNCE_S, SearchKey};
use crate::gui::dialogs::Purpose;
use crate::gui::protocol::{Command, Stage};
use crate::gui::settings::WhiteningSource;
use lookalike_core::read::imaging::has_image_extension;

impl LookalikeApp {
    /// Shows the newest state of the library: at once when it is another folder, else
    /// at most every [`LIVE_REFRESH`] while it grows, and never while the pointer is over
    /// the results, which would move under it (then as soon as it leaves; the grid says
    /// that newer results wait).
    pub(super) fn take_library(&mut self, ctx: &egui::Context) {
        self.shelf.held_by_pointer = false;
        let Some(incoming) = &self.shelf.incoming else {
            return;
        };
        let another = self
            .shelf
            .library
            .as_ref()
            .is_none_or(|l| l.folder != incoming.folder);
        let due = incoming.complete
            || self
                .shelf
                .shown_at
                .is_none_or(|at| at.elapsed() >= LIVE_REFRESH);
        let pointer_on_results = ctx
            .pointer_hover_pos()
            .zip(self.results.rect)
            .is_some_and(|(pointer, rect)| rect.contains(pointer));
        // Only indexing moves the results by itself; a change the user asked for (an
        // intent, a whitening) is shown at once.
        let indexing = self.shelf.library.as_ref().is_some_and(|l| !l.complete);
        let held = indexing && pointer_on_results;
        self.shelf.held_by_pointer = due && held && !another;
        if another || (due && !held) {
            self.shelf.library = self.shelf.incoming.take();
            self.shelf.generation += 1;
            self.shelf.shown_at = Some(Instant::now());
        } else {
            ctx.request_repaint_after(Duration::from_millis(250));
        }
    }

    pub(super) fn handle_dropped_and_pasted(&mut self, ctx: &egui::Context) {
        let (dropped, pasted) = ctx.input(|i| {
            let dropped: Vec<PathBuf> = i
                .raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect();
            let pasted: Vec<String> = i
                .events
                .iter()
                .filter_map(|e| match e {
                    egui::Event::Paste(text) => Some(text.clone()),
                    _ => None,
                })
                .collect();
            (dropped, pasted)
        });
        // A pasted file path (or file:// URI) works like a dropped file.
        let pasted = pasted.iter().filter_map(|text| {
            let text = text.trim();
            let path = PathBuf::from(text.strip_prefix("file://").unwrap_or(text));
            path.exists().then_some(path)
        });
        let focused_text = ctx.memory(|m| m.focused().is_some());
        let pasted: Vec<PathBuf> = if focused_text {
            Vec::new()
        } else {
            pasted.collect()
        };
        for path in dropped.into_iter().chain(pasted) {
            if path.is_dir() {
                self.open_folder(path);
            } else if has_image_extension(&path) || path.is_file() {
                self.open_query(path);
            }
        }
    }

    pub(super) fn handle_dialog_answers(&mut self) {
        while let Some((purpose, answer)) = self.dialogs.poll() {
            match answer {
                Ok(Some(path)) => match purpose {
                    Purpose::Library => self.open_folder(path),
                    Purpose::Query => self.open_query(path),
                    Purpose::Weights => self.choose_weights(path),
                    Purpose::WhiteningFolder => {
                        self.settings.whitening = WhiteningSource::Folder(path)
                    }
                    Purpose::ProtectedFolder => {
                        add_folder(&mut self.settings.protected_folders, path)
                    }
                    Purpose::PreferredFolder => {
                        add_folder(&mut self.settings.preferred_folders, path)
                    }
                },
                Ok(None) => {}
                Err(message) => self.notices.push(message),
            }
        }
    }

    /// Asks for the whitening in the settings once they stop changing (not while a value
    /// is being dragged).
    pub(super) fn apply_whitening(&mut self, ctx: &egui::Context) {
        let wanted = self.whitening_request();
        let Some(applied) = &self.applied_whitening else {
            return;
        };
        let folder_indexing = self
            .indexing
            .as_ref()
            .is_some_and(|v| v.stage == Stage::WhiteningFolder);
        if *applied != wanted && !ctx.egui_is_using_pointer() && !folder_indexing {
            self.applied_whitening = Some(wanted.clone());
            self.worker.send(Command::SetWhitening(wanted));
        }
    }

    /// Sends a search when the query, its box or a ranking setting changed and has
    /// been still for [`SEARCH_DEBOUNCE_S`].
    pub(super) fn schedule_search(&mut self, ctx: &egui::Context, dragging: bool) {
        let Some(query) = self.query.as_ref().filter(|q| q.texture.is_some()) else {
            return;
        };
        if self.shelf.library.is_none() {
            return;
        }
        let key = SearchKey {
            query: query.id,
            crop: query.crop.crop_box(),
            ranking: self.settings.ranking(),
            library: self.shelf.generation,
        };
        if self.scheduler.sent == Some(key) {
            self.scheduler.waiting = None;
            return;
        }
        let now = ctx.input(|i| i.time);
        let since = match self.scheduler.waiting {
            Some((waiting, since)) if waiting == key => since,
            _ => {
                self.scheduler.waiting = Some((key, now));
                now
            }
        };
        if dragging {
            return;
        }
        let quiet = now - since;
        if quiet < SEARCH_DEBOUNCE_S {
            ctx.request_repaint_after(Duration::from_secs_f64(SEARCH_DEBOUNCE_S - quiet));
            return;
        }
        self.scheduler.generation += 1;
        self.scheduler.sent = Some(key);
        self.scheduler.waiting = None;
        self.worker.send(Command::Search {
            generation: self.scheduler.generation,
            query: key.query,
            crop: key.crop,
            ranking: key.ranking,
        });
    }
}

/// Adds `folder` to a list of folders once.
fn add_folder(folders: &mut Vec<std::path::PathBuf>, folder: std::path::PathBuf) {
    if !folders.contains(&folder) {
        folders.push(folder);
    }
}
