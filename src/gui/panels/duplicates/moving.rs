//! What a clean-up will move, said before anything moves: "Apply to all groups" (every
//! group's verified copies but the keeper's own RAW + JPEG pair) always asks, with the
//! count, the bytes and the folders they leave; the first clean-up of all says once
//! that moving photos can break a Lightroom or Capture One catalogue that points at
//! them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText};

use super::{DupesAction, DupesView};
use crate::gui::protocol::DuplicateGroup;
use crate::gui::widgets::format::{format_bytes, plural};
use lookalike_core::find::dupes::VerifiedMatch;

/// The catalogue warning, shown before the first clean-up.
pub const CATALOGUE_WARNING: &str = "Moving photos can break a Lightroom or Capture One \
     catalogue that points at them: the catalogue shows them as missing until you bring them \
     back (Undo) or point it at the copy kept.";

/// A clean-up waiting for the user's yes.
#[derive(Debug, Clone, PartialEq)]
pub struct MovePlan {
    pub matches: Vec<VerifiedMatch>,
    /// Bytes of the photos that go.
    pub bytes: u64,
    /// The folders they leave: photos and bytes per folder, by path.
    pub folders: Vec<(PathBuf, usize, u64)>,
    /// The groups they come from.
    pub groups: usize,
    /// Say that a photo catalogue may lose them (once, before the first clean-up).
    pub warn_catalogue: bool,
}

impl MovePlan {
    /// What moving `matches` (copies in `groups`) takes away, folder by folder.
    pub fn new(groups: &[DuplicateGroup], matches: Vec<VerifiedMatch>, warn: bool) -> Self {
        let sizes: HashMap<&Path, u64> = groups
            .iter()
            .flat_map(|g| g.photos.iter().map(|p| (p.path.as_path(), p.size)))
            .collect();
        let mut folders: BTreeMap<PathBuf, (usize, u64)> = BTreeMap::new();
        let mut keepers = std::collections::HashSet::new();
        for m in &matches {
            let path = &m.file().path;
            let size = sizes.get(path.as_path()).copied().unwrap_or(0);
            let folder = folders
                .entry(path.parent().map(Path::to_path_buf).unwrap_or_default())
                .or_default();
            folder.0 += 1;
            folder.1 += size;
            keepers.insert(m.keeper().path.clone());
        }
        Self {
            bytes: folders.values().map(|(_, b)| b).sum(),
            folders: folders.into_iter().map(|(f, (n, b))| (f, n, b)).collect(),
            groups: keepers.len(),
            warn_catalogue: warn,
            matches,
        }
    }
}

impl DupesView {
    /// "Apply to all groups": in every group, every verified copy of its keeper but the
    /// keeper's RAW + JPEG pair (as "Select all but the keeper" does in one group).
    pub fn all_groups_removal(&self) -> Vec<VerifiedMatch> {
        self.groups
            .iter()
            .flat_map(|g| g.group.all_but_the_keeper(false))
            .collect()
    }

    /// Asks before moving every group's copies.
    pub fn apply_to_all(&mut self) {
        let matches = self.all_groups_removal();
        if !matches.is_empty() {
            let warn = !self.catalogue_warned;
            self.plan = Some(MovePlan::new(&self.groups, matches, warn));
        }
    }

    /// Moves the selection: straight away, but the first time (the catalogue warning).
    pub(super) fn move_selection(&mut self) -> Option<DupesAction> {
        let removal = self.removal();
        if self.catalogue_warned {
            self.selected.clear();
            return Some(DupesAction::Remove(removal));
        }
        self.plan = Some(MovePlan::new(&self.groups, removal, true));
        None
    }

    /// "Move N to the trash" (the selection) and "Apply to all groups…".
    pub(super) fn clean_up_buttons(&mut self, ui: &mut egui::Ui) -> Option<DupesAction> {
        let mut action = None;
        let count = self.removal().len();
        // Not while the groups are found again (what is on screen may be stale) or
        // a clean-up runs.
        if ui
            .add_enabled(
                count > 0 && !self.busy && !self.cleaning,
                egui::Button::new(format!("Move {count} to the trash")),
            )
            .on_hover_text("Nothing is deleted: Undo brings the files back")
            .on_disabled_hover_text(
                "Wait until the duplicates are found again (or the clean-up ends)",
            )
            .clicked()
        {
            action = self.move_selection();
        }
        if ui
            .add_enabled(
                !self.busy && !self.cleaning,
                egui::Button::new("Apply to all groups…"),
            )
            .on_hover_text(
                "Every group's copies but the photo kept (and its RAW + JPEG pair): \
                 says exactly what will move, from which folders, before anything moves",
            )
            .clicked()
        {
            self.apply_to_all();
        }
        action
    }

    /// The plan waiting for a yes, as a dialog over the app: Move or Cancel.
    pub(super) fn confirm(&mut self, ctx: &egui::Context) -> Option<DupesAction> {
        let plan = self.plan.as_ref()?;
        let mut answer = None;
        let modal = egui::Modal::new(egui::Id::unique("confirm-move")).show(ctx, |ui| {
            ui.set_max_width(520.0);
            let count = plan.matches.len();
            let groups = plan.groups;
            ui.heading(format!(
                "Move {count} photo{} ({}) from {groups} group{} to the trash?",
                plural(count),
                format_bytes(plan.bytes),
                plural(groups)
            ));
            ui.label("Each one is a verified copy of the photo kept in its group; Undo brings them back.");
            for (folder, n, bytes) in &plan.folders {
                ui.label(format!(
                    "{}: {n} photo{}, {}",
                    folder.display(),
                    plural(*n),
                    format_bytes(*bytes)
                ));
            }
            if plan.warn_catalogue {
                ui.label(RichText::new(CATALOGUE_WARNING).color(ui.visuals().warn_fg_color));
            }
            ui.horizontal(|ui| {
                if ui.button(format!("Yes, move {count}")).clicked() {
                    answer = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(false);
                }
            });
        });
        if modal.should_close() && answer.is_none() {
            answer = Some(false);
        }
        let plan = match answer? {
            true => self.plan.take()?,
            false => {
                self.plan = None;
                return None;
            }
        };
        self.catalogue_warned = true;
        self.selected.clear();
        Some(DupesAction::Remove(plan.matches))
    }
}
