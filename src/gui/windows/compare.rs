//! Two photos side by side in one scroll area: one zoom, one scroll position.

use std::path::PathBuf;

use eframe::egui::{self, Vec2};

use super::LargePhotos;
use crate::gui::widgets::format::{file_name, fit};

/// The pair compared, if any, and the zoom.
pub struct Compare {
    pub pair: Option<(PathBuf, PathBuf)>,
    zoom: f32,
}

impl Default for Compare {
    fn default() -> Self {
        Self {
            pair: None,
            zoom: 1.0,
        }
    }
}

impl Compare {
    pub fn show(&mut self, ctx: &egui::Context, large: &LargePhotos) {
        let Some((a, b)) = self.pair.clone() else {
            return;
        };
        let mut open = true;
        egui::Window::new("Compare")
            .open(&mut open)
            .default_size([1000.0, 600.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    let label = ui.label("Zoom");
                    ui.add(egui::Slider::new(&mut self.zoom, 0.25..=4.0).logarithmic(true))
                        .labelled_by(label.id);
                });
                egui::ScrollArea::both().show(ui, |ui| {
                    ui.horizontal_top(|ui| {
                        for path in [&a, &b] {
                            ui.vertical(|ui| {
                                ui.label(file_name(path));
                                match large.get(path) {
                                    Some(texture) => {
                                        let base = fit(texture.size_vec2(), Vec2::splat(480.0));
                                        ui.image((texture.id(), base * self.zoom));
                                    }
                                    None => {
                                        ui.spinner();
                                    }
                                }
                            });
                        }
                    });
                });
            });
        if !open {
            self.pair = None;
        }
    }
}
