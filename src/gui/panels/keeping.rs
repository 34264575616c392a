//! Settings > Duplicates: the keeper rules in order (first to last, moved up and down),
//! the protected folders (their files may be kept, never moved) and the preferred ones.
//! (Up and Down in words: egui's fonts have no arrows.)

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::Action;
use crate::gui::dialogs::Purpose;
use crate::gui::settings::Settings;
use lookalike_core::find::dupes::KeepRule;

/// Draws the section; changes to `settings` apply to the next duplicate search.
pub fn show(ui: &mut egui::Ui, settings: &mut Settings) -> Option<Action> {
    let mut action = None;
    ui.label("Kept first: the photo the first rule prefers; ties go to the next rule.");
    let mut order = settings.keeping().order();
    let mut swap = None;
    for (i, rule) in order.iter().enumerate() {
        ui.horizontal(|ui| {
            if ui
                .add_enabled(i > 0, egui::Button::new("Up").small())
                .clicked()
            {
                swap = Some(i - 1);
            }
            if ui
                .add_enabled(
                    i + 1 < KeepRule::DEFAULT.len(),
                    egui::Button::new("Down").small(),
                )
                .clicked()
            {
                swap = Some(i);
            }
            ui.label(format!("{}. {}", i + 1, rule.title()));
        });
    }
    if let Some(i) = swap {
        order.swap(i, i + 1);
        settings.keep_rules = order.iter().map(|r| r.name().to_string()).collect();
    }
    if ui.button("Default order").clicked() {
        settings.keep_rules = KeepRule::DEFAULT
            .iter()
            .map(|r| r.name().to_string())
            .collect();
    }
    ui.add_space(6.0);
    ui.label(RichText::new("Protected folders (never moved)").strong());
    if folders(ui, &mut settings.protected_folders) {
        action = Some(Action::Ask(Purpose::ProtectedFolder));
    }
    ui.label(RichText::new("Preferred folders").strong());
    if folders(ui, &mut settings.preferred_folders) {
        action = Some(Action::Ask(Purpose::PreferredFolder));
    }
    action
}

/// A list of folders, each with Remove; whether "Add a folder…" was clicked.
fn folders(ui: &mut egui::Ui, folders: &mut Vec<PathBuf>) -> bool {
    let mut gone = None;
    for (i, folder) in folders.iter().enumerate() {
        ui.horizontal(|ui| {
            if ui.small_button("Remove").clicked() {
                gone = Some(i);
            }
            ui.label(folder.display().to_string());
        });
    }
    if let Some(i) = gone {
        folders.remove(i);
    }
    ui.button("Add a folder…").clicked()
}
