//! The query photo, with the box the user draws around what matters.

use std::path::PathBuf;

use eframe::egui::{self, RichText, Vec2};

use crate::gui::widgets::crop::CropEditor;
use crate::gui::widgets::format::file_name;

/// The query photo: shown once the executor has decoded it.
pub struct QueryView {
    /// Identifies the photo in the executor's searches.
    pub id: u64,
    pub path: PathBuf,
    /// The EXIF-oriented original's size.
    pub size: Vec2,
    pub texture: Option<egui::TextureHandle>,
    pub crop: CropEditor,
}

impl QueryView {
    pub fn new(id: u64, path: PathBuf) -> Self {
        Self {
            id,
            path,
            size: Vec2::ZERO,
            texture: None,
            crop: CropEditor::default(),
        }
    }
}

/// Draws the query panel; true while the crop box is being dragged.
pub fn show(ui: &mut egui::Ui, query: Option<&mut QueryView>) -> bool {
    // Use the panel's whole width, so it keeps the size the user gave it.
    ui.set_min_width(ui.available_width());
    let Some(query) = query else {
        ui.vertical_centered(|ui| {
            ui.add_space(40.0);
            ui.label("No query yet.");
            ui.label("Open or drop a photo, or right-click a photo of the library > Find similar.");
        });
        return false;
    };
    ui.label(RichText::new(file_name(&query.path)).strong())
        .on_hover_text(query.path.display().to_string());
    let Some(texture) = query.texture.clone() else {
        ui.spinner();
        return false;
    };
    ui.horizontal(|ui| {
        ui.label(format!("{} × {} px", query.size.x, query.size.y));
        if ui
            .add_enabled(
                query.crop.crop_box().is_some(),
                egui::Button::new("Clear box"),
            )
            .clicked()
        {
            query.crop.clear();
        }
    });
    let hint = if query.crop.crop_box().is_some() {
        "Drag the box to move it, its corners to resize it."
    } else {
        "Drag on the photo to draw a box around what matters."
    };
    ui.label(RichText::new(hint).weak().small());
    let extent = match query.crop.crop_box() {
        Some(b) => format!("Box: {b}"),
        None => "Box: none (the full photo is the query)".into(),
    };
    ui.label(RichText::new(extent).small());
    let change = query.crop.show(ui, &texture, query.size);
    change.dragging
}
