//! The settings panel: how the query is ranked, the intent's numbers (distance,
//! whitening), and how photos are described (image size, network, backend).

use std::path::Path;

use eframe::egui::{self, RichText};

use super::Action;
use super::keeping;
use crate::gui::ModelState;
use crate::gui::dialogs::Purpose;
use crate::gui::settings::{Settings, WhiteningSource};
use crate::gui::windows::weights::network_choice_label;
use lookalike_core::describe::engine::BackendChoice;
use lookalike_core::describe::model::Network;
use lookalike_core::find::search::Metric;

/// Draws the panel; changes to `settings` take effect on the next frame. `library` is
/// the open library's folder (it can be indexed again at another size).
pub fn show(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    model: &ModelState,
    library: Option<&Path>,
) -> Option<Action> {
    let mut action = None;
    ui.heading("Settings");
    egui::ScrollArea::vertical().show(ui, |ui| {
        ranking(ui, settings);
        ui.separator();
        egui::CollapsingHeader::new("Advanced")
            .default_open(!settings.is_calibrated())
            .show(ui, |ui| {
                if let Some(asked) = advanced(ui, settings) {
                    action = Some(asked);
                }
            });
        ui.separator();
        if let Some(asked) = indexing(ui, settings, model, library) {
            action = Some(asked);
        }
        ui.separator();
        egui::CollapsingHeader::new("Duplicates: which copy is kept")
            .default_open(false)
            .show(ui, |ui| {
                if let Some(asked) = keeping::show(ui, settings) {
                    action = Some(asked);
                }
            });
    });
    action
}

/// The box, query expansion and the number of results.
fn ranking(ui: &mut egui::Ui, settings: &mut Settings) {
    ui.checkbox(
        &mut settings.use_box,
        "Query the drawn box (else the full photo)",
    );
    ui.horizontal(|ui| {
        ui.checkbox(&mut settings.query_expansion, "Query expansion");
        let label = ui.label("k =");
        ui.add_enabled(
            settings.query_expansion,
            egui::DragValue::new(&mut settings.qe_k).range(1..=50),
        )
        .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        let label = ui.label("Results shown");
        ui.add(egui::DragValue::new(&mut settings.top).range(1..=1000))
            .labelled_by(label.id);
    });
}

/// How photos are described: image size, network, backend, and the network in use.
fn indexing(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    model: &ModelState,
    library: Option<&Path>,
) -> Option<Action> {
    let mut action = None;
    ui.label(RichText::new("Indexing").strong());
    ui.horizontal(|ui| {
        let label = ui.label("Longest image side");
        ui.add(egui::DragValue::new(&mut settings.max_side).range(64..=4096))
            .labelled_by(label.id);
    });
    if let Some(folder) = library
        && ui
            .button("Re-index the library with this size")
            .on_hover_text("Bigger sides find smaller details but index more slowly")
            .clicked()
    {
        action = Some(Action::OpenFolder(folder.to_path_buf()));
    }
    let mut network = settings.network;
    egui::ComboBox::from_label("Network")
        .selected_text(network.title())
        .show_ui(ui, |ui| {
            for choice in Network::ALL {
                ui.selectable_value(&mut network, choice, network_choice_label(choice));
            }
        });
    if network != settings.network {
        action = Some(Action::ChooseNetwork(network));
    }
    let backend_before = settings.backend;
    egui::ComboBox::from_label("Backend")
        .selected_text(settings.backend.as_str())
        .show_ui(ui, |ui| {
            for choice in BackendChoice::ALL {
                ui.selectable_value(&mut settings.backend, choice, choice.as_str());
            }
        });
    if settings.backend != backend_before {
        action = Some(Action::ReloadNetwork);
    }
    ui.horizontal(|ui| {
        let label = ui.label("Thumbnail cache (GB)").on_hover_text(
            "The most the thumbnails kept on disk may take: beyond it, those shown least \
             recently are removed (and made again from their photos when shown)",
        );
        ui.add(
            egui::DragValue::new(&mut settings.thumbnail_cache_gb)
                .range(0.1..=1000.0)
                .speed(0.1),
        )
        .labelled_by(label.id);
    });
    match model {
        ModelState::Ready { label, path } => {
            ui.label(format!("In use: {label}"));
            ui.label(RichText::new(path.display().to_string()).weak().small());
        }
        ModelState::Loading => {
            ui.label("Loading the network…");
        }
        ModelState::Problem { message, .. } => {
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
    }
    action
}

/// The numbers an intent sets: distance and whitening.
fn advanced(ui: &mut egui::Ui, settings: &mut Settings) -> Option<Action> {
    let intent = settings.intent;
    ui.label(
        RichText::new(format!(
            "\"{}\" sets these to its calibrated values; change them to experiment.",
            intent.label()
        ))
        .weak()
        .small(),
    );
    if ui
        .add_enabled(
            !settings.is_calibrated(),
            egui::Button::new("Back to the calibrated values"),
        )
        .clicked()
    {
        settings.set_intent(intent);
    }
    egui::ComboBox::from_label("Distance")
        .selected_text(settings.metric.as_str())
        .show_ui(ui, |ui| {
            for metric in Metric::ALL {
                ui.selectable_value(&mut settings.metric, metric, metric.as_str());
            }
        });
    whitening(ui, settings)
}

/// Where the whitening comes from, its dimension and power.
fn whitening(ui: &mut egui::Ui, settings: &mut Settings) -> Option<Action> {
    let mut action = None;
    ui.label(RichText::new("Whitening").strong());
    let folder = match &settings.whitening {
        WhiteningSource::Folder(f) => Some(f.clone()),
        _ => None,
    };
    ui.radio_value(
        &mut settings.whitening,
        WhiteningSource::Off,
        "Off (L2 only)",
    );
    ui.radio_value(
        &mut settings.whitening,
        WhiteningSource::Shipped,
        "Shipped (learned on other photos; the default)",
    );
    ui.radio_value(
        &mut settings.whitening,
        WhiteningSource::Library,
        "Learned from this library",
    );
    ui.horizontal(|ui| {
        let label = match &folder {
            Some(f) => format!("Learned from {}", f.display()),
            None => "Learned from another folder…".into(),
        };
        if ui.radio(folder.is_some(), label).clicked() {
            action = Some(Action::Ask(Purpose::WhiteningFolder));
        }
    });
    ui.add_enabled_ui(settings.whitening != WhiteningSource::Off, |ui| {
        ui.horizontal(|ui| {
            let label = ui.label("Dimension");
            ui.add(egui::DragValue::new(&mut settings.whiten_dim).range(8..=512))
                .labelled_by(label.id);
            let label = ui
                .label("Power")
                .on_hover_text("1 whitens fully, 0 is a plain PCA");
            ui.add(
                egui::DragValue::new(&mut settings.whiten_power)
                    .range(0.0..=1.0)
                    .speed(0.05),
            )
            .labelled_by(label.id);
        });
    });
    action
}
