//! A result shown large, beside the query and the box drawn on it.

use eframe::egui::{self, Color32, RichText, Vec2};

use super::LargePhotos;
use crate::gui::panels::Action;
use crate::gui::panels::query::QueryView;
use crate::gui::protocol::ResultItem;
use crate::gui::widgets::format::{file_name, fit, format_bytes, full_uv};

/// The result previewed, if any.
#[derive(Default)]
pub struct Preview {
    pub item: Option<ResultItem>,
}

impl Preview {
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        query: Option<&QueryView>,
        large: &LargePhotos,
    ) -> Option<Action> {
        let item = self.item.as_ref()?;
        let mut open = true;
        let mut action = None;
        egui::Window::new(file_name(&item.photo.path))
            .open(&mut open)
            .default_size([960.0, 560.0])
            .show(ctx, |ui| {
                action = buttons(ui, item);
                ui.label(
                    RichText::new(item.photo.path.display().to_string())
                        .weak()
                        .small(),
                );
                let half = Vec2::new(
                    (ui.available_width() - 12.0) / 2.0,
                    ui.available_height().max(200.0),
                );
                ui.horizontal(|ui| {
                    if let Some(query) = query {
                        query_with_box(ui, query, half);
                    }
                    ui.vertical(|ui| {
                        ui.label(format!(
                            "{} × {} px, {}",
                            item.photo.width,
                            item.photo.height,
                            format_bytes(item.photo.size)
                        ));
                        match large.get(&item.photo.path) {
                            Some(texture) => {
                                let shown = fit(texture.size_vec2(), half);
                                ui.image((texture.id(), shown));
                            }
                            None => {
                                ui.spinner();
                            }
                        }
                    });
                });
            });
        if matches!(action, Some(Action::OpenQuery(_))) || !open {
            self.item = None;
        }
        action
    }
}

/// Open, show, find similar; the rank and distance of a result.
fn buttons(ui: &mut egui::Ui, item: &ResultItem) -> Option<Action> {
    let mut action = None;
    let path = &item.photo.path;
    ui.horizontal(|ui| {
        if ui.button("Open in viewer").clicked() {
            action = Some(Action::OpenInViewer(path.clone()));
        }
        if ui.button("Show in file manager").clicked() {
            action = Some(Action::ShowInFileManager(path.clone()));
        }
        if ui.button("Find similar").clicked() {
            action = Some(Action::OpenQuery(path.clone()));
        }
        if item.rank > 0 {
            ui.label(format!("#{} · distance {:.4}", item.rank, item.distance));
        }
    });
    action
}

/// The query photo in `room`, with its box drawn on it.
fn query_with_box(ui: &mut egui::Ui, query: &QueryView, room: Vec2) {
    let Some(texture) = &query.texture else {
        return;
    };
    let size = query.size;
    ui.vertical(|ui| {
        ui.label("Query");
        let shown = fit(size, room);
        let (rect, _) = ui.allocate_exact_size(shown, egui::Sense::hover());
        ui.painter()
            .image(texture.id(), rect, full_uv(), Color32::WHITE);
        if let Some(b) = query.crop.crop_box() {
            let s = shown.x / size.x;
            let r = egui::Rect::from_min_max(
                rect.min + Vec2::new(b.x1 as f32, b.y1 as f32) * s,
                rect.min + Vec2::new(b.x2 as f32, b.y2 as f32) * s,
            );
            ui.painter().rect_stroke(
                r,
                0.0,
                egui::Stroke::new(2.0, Color32::YELLOW),
                egui::StrokeKind::Middle,
            );
        }
    });
}
