//! The review by keyboard, for thousands of groups: ←/→ the group, ↑/↓ the photo,
//! K keeps it, X marks it for removal (or unmarks it), Space compares it with the
//! keeper, N says the group is not duplicates. Keys are read unless a text field is
//! being typed in or a dialog is open.

use std::path::{Path, PathBuf};

use eframe::egui::{self, Key, Modifiers};

use super::{DupesAction, DupesView};
use lookalike_core::find::dupes::Verdict;

impl DupesView {
    /// The current group's photos in the order they are shown: the keeper and its
    /// copies, then the photos only similar to a copy.
    fn shown(&self) -> Vec<usize> {
        self.groups.get(self.current).map_or_else(Vec::new, |g| {
            g.kept_and_copies().chain(g.group.similar()).collect()
        })
    }

    /// The photo of the current group the keyboard is on (an index into its photos).
    pub fn focused(&self) -> Option<usize> {
        let shown = self.shown();
        shown
            .get(self.focus.min(shown.len().saturating_sub(1)))
            .copied()
    }

    /// Goes to group `n` (clamped), on its keeper.
    pub fn go_to_group(&mut self, n: usize) {
        self.current = n.min(self.groups.len().saturating_sub(1));
        self.focus = 0;
        self.scroll_to_focus = true;
    }

    /// Marks `path` for removal, or unmarks it.
    pub(super) fn toggle(&mut self, path: &Path) {
        if !self.selected.remove(path) {
            self.selected.insert(path.to_path_buf());
        }
    }

    /// The keeper and copies of the current group (what a verdict is on).
    pub(super) fn current_photos(&self) -> Vec<PathBuf> {
        self.groups.get(self.current).map_or_else(Vec::new, |g| {
            g.kept_and_copies()
                .map(|i| g.photos[i].path.clone())
                .collect()
        })
    }

    /// Acts on the review's keys pressed this frame.
    pub(super) fn keys(&mut self, ctx: &egui::Context) -> Option<DupesAction> {
        if self.groups.is_empty() || self.plan.is_some() || ctx.text_edit_focused() {
            return None;
        }
        let pressed = |key| ctx.input_mut(|i| i.consume_key(Modifiers::NONE, key));
        let keys = [
            Key::ArrowLeft,
            Key::ArrowRight,
            Key::ArrowUp,
            Key::ArrowDown,
            Key::K,
            Key::X,
            Key::Space,
            Key::N,
        ];
        let key = keys.into_iter().find(|&key| pressed(key))?;
        // The arrows also move egui's focus between widgets: the review keeps them.
        if let Some(id) = ctx.memory(|m| m.focused()) {
            ctx.memory_mut(|m| m.surrender_focus(id));
        }
        self.key(key)
    }

    /// What one of the review's keys does.
    pub fn key(&mut self, key: Key) -> Option<DupesAction> {
        let focused = self.focused()?;
        let group = self.groups.get(self.current)?;
        let path = group.photos[focused].path.clone();
        let keeper = group.photos[group.keeper()].path.clone();
        let (may_keep, is_copy) = (group.group.may_keep(focused), group.group.is_copy(focused));
        match key {
            Key::ArrowLeft => self.go_to_group(self.current.saturating_sub(1)),
            Key::ArrowRight => self.go_to_group(self.current + 1),
            Key::ArrowUp => {
                self.focus = self.focus.saturating_sub(1);
                self.scroll_to_focus = true;
            }
            Key::ArrowDown => {
                self.focus = (self.focus + 1).min(self.shown().len().saturating_sub(1));
                self.scroll_to_focus = true;
            }
            Key::K if may_keep => {
                self.set_keeper(focused);
                // The photo kept is shown first: the keyboard stays on it.
                self.focus = 0;
            }
            Key::X if is_copy => self.toggle(&path),
            Key::Space if path != keeper => return Some(DupesAction::Compare(keeper, path)),
            Key::N if !self.busy && !self.cleaning => {
                let photos = self.current_photos();
                self.selected.clear();
                return Some(DupesAction::Decide(Verdict::NotDuplicates, photos));
            }
            _ => {}
        }
        None
    }

    /// The keys, in words (egui's fonts have no arrows), under the group bar.
    pub(super) fn key_help(ui: &mut egui::Ui) {
        ui.label(
            egui::RichText::new(
                "Keys: Left / Right group · Up / Down photo · K keep · X mark for removal · \
                 Space compare with the keeper · N not duplicates",
            )
            .weak()
            .small(),
        );
    }
}
