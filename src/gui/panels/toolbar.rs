//! The toolbar (open a folder or a query photo, the intent, the failed files, the
//! settings, the view) and the notices under it.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::Action;
use crate::gui::dialogs::Purpose;
use crate::gui::settings::Settings;
use crate::gui::windows::failures;
use lookalike_core::find::intent::Intent;
use lookalike_core::index::Failure;

/// What the central area shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Search,
    Duplicates,
}

/// Which panels and windows the toolbar's toggles show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub failures: bool,
    pub settings: bool,
    pub view: View,
}

/// The toolbar's own state: the folder path being typed.
#[derive(Debug, Default)]
pub struct Toolbar {
    folder_input: String,
}

impl Toolbar {
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        failures: &[Failure],
        shown: &mut Shown,
    ) -> Option<Action> {
        let mut action = None;
        ui.horizontal_wrapped(|ui| {
            if ui.button("Open folder…").clicked() {
                action = Some(Action::Ask(Purpose::Library));
            }
            let recent = settings.recent_folders.clone();
            ui.add_enabled_ui(!recent.is_empty(), |ui| {
                ui.menu_button("Recent", |ui| {
                    for folder in recent {
                        if ui.button(folder.display().to_string()).clicked() {
                            action = Some(Action::OpenFolder(folder));
                            ui.close();
                        }
                    }
                });
            });
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.folder_input)
                    .hint_text("…or type a folder path and press Enter")
                    .desired_width(260.0),
            );
            if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                action = Some(Action::OpenFolder(PathBuf::from(self.folder_input.trim())));
            }
            ui.separator();
            if ui.button("Open query photo…").clicked() {
                action = Some(Action::Ask(Purpose::Query));
            }
            intent_choice(ui, settings);
            ui.separator();
            toggles(ui, failures, shown);
        });
        action
    }
}

/// "Similar means": the intent, marked "(adjusted)" when its numbers were changed.
fn intent_choice(ui: &mut egui::Ui, settings: &mut Settings) {
    let label = ui.label("Similar means");
    let before = settings.intent;
    let mut chosen = before;
    let shown = if settings.is_calibrated() {
        chosen.label().to_string()
    } else {
        format!("{} (adjusted)", chosen.label())
    };
    egui::ComboBox::from_id_salt("intent")
        .selected_text(shown)
        .show_ui(ui, |ui| {
            for intent in Intent::ALL {
                ui.selectable_value(&mut chosen, intent, intent.label())
                    .on_hover_text(intent.explanation());
            }
        })
        .response
        .labelled_by(label.id);
    if chosen != before {
        settings.set_intent(chosen);
    }
}

/// The failed files, the settings panel, and the view.
fn toggles(ui: &mut egui::Ui, failures: &[Failure], shown: &mut Shown) {
    let failed = failures.len();
    let failures_label = format!("{} ({failed})", failures::title(failures));
    if ui
        .add_enabled(
            failed > 0,
            egui::Button::selectable(shown.failures, failures_label),
        )
        .clicked()
    {
        shown.failures = !shown.failures;
    }
    if ui
        .add(egui::Button::selectable(shown.settings, "Settings"))
        .clicked()
    {
        shown.settings = !shown.settings;
    }
    ui.separator();
    for (view, label) in [(View::Search, "Search"), (View::Duplicates, "Duplicates")] {
        if ui
            .add(egui::Button::selectable(shown.view == view, label))
            .clicked()
        {
            shown.view = view;
        }
    }
}

/// Messages for the user under the toolbar, each dismissible, and the question about a
/// library whose photos are mostly gone.
#[derive(Debug, Default)]
pub struct Notices {
    /// Newest last.
    messages: Vec<String>,
    /// The library whose photos are mostly gone (a drive not connected): `(folder,
    /// missing, indexed)`, until the user forgets them or keeps them.
    pub missing_photos: Option<(PathBuf, usize, usize)>,
}

impl Notices {
    /// Adds a message, unless it is the one shown last.
    pub fn push(&mut self, message: String) {
        if self.messages.last() != Some(&message) {
            self.messages.push(message);
        }
    }

    pub fn messages(&self) -> &[String] {
        &self.messages
    }

    pub fn show(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let mut action = None;
        if let Some((folder, missing, entries)) = &self.missing_photos {
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(format!(
                        "{missing} of the {entries} photos of {} are not there now: is its \
                         drive connected? Their descriptions are kept.",
                        folder.display()
                    ))
                    .color(ui.visuals().warn_fg_color),
                );
                if ui.button("Try again").clicked() {
                    action = Some(Action::OpenFolder(folder.clone()));
                }
                if ui
                    .button("Forget missing photos")
                    .on_hover_text("They are gone for good: drop their descriptions")
                    .clicked()
                {
                    action = Some(Action::ForgetMissingPhotos(folder.clone()));
                }
            });
        }
        let mut dismissed = None;
        for (i, message) in self.messages.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.label(RichText::new(message.as_str()).color(ui.visuals().warn_fg_color));
                if ui.small_button("Dismiss").clicked() {
                    dismissed = Some(i);
                }
            });
        }
        if let Some(i) = dismissed {
            self.messages.remove(i);
        }
        action
    }
}
