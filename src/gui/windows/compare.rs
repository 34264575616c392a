//! Two photos side by side in one scroll area (one zoom, one scroll position: they pan
//! together), at any zoom or at 100 % (one pixel of the photo per pixel of the
//! screen), or flickered: one photo in one place, the other at a key press, so that
//! what differs jumps out. Escape closes it.

use std::path::{Path, PathBuf};

use eframe::egui::{self, Vec2};

use super::LargePhotos;
use crate::gui::widgets::format::{file_name, fit};

/// The pair compared, if any, and the zoom.
pub struct Compare {
    pub pair: Option<(PathBuf, PathBuf)>,
    zoom: f32,
    /// One photo at a time, in the same place: the second when `showing_second`.
    pub flicker: bool,
    pub showing_second: bool,
}

impl Default for Compare {
    fn default() -> Self {
        Self {
            pair: None,
            zoom: 1.0,
            flicker: false,
            showing_second: false,
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
                self.controls(ui, large, &a);
                let shown: Vec<&PathBuf> = match (self.flicker, self.showing_second) {
                    (false, _) => vec![&a, &b],
                    (true, false) => vec![&a],
                    (true, true) => vec![&b],
                };
                egui::ScrollArea::both().show(ui, |ui| {
                    ui.horizontal_top(|ui| {
                        for path in shown {
                            ui.vertical(|ui| {
                                ui.label(file_name(path));
                                match large.get(path) {
                                    Some(texture) => {
                                        let base = at_one(texture.size_vec2());
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
        if !open || ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape)) {
            self.pair = None;
        }
    }

    /// Zoom, 100 %, and the flicker (F shows the other photo).
    fn controls(&mut self, ui: &mut egui::Ui, large: &LargePhotos, first: &Path) {
        ui.horizontal(|ui| {
            let label = ui.label("Zoom");
            ui.add(egui::Slider::new(&mut self.zoom, 0.25..=8.0).logarithmic(true))
                .labelled_by(label.id);
            if let Some(texture) = large.get(first)
                && ui
                    .button("100 %")
                    .on_hover_text("One pixel of the photo per pixel of the screen")
                    .clicked()
            {
                let base = at_one(texture.size_vec2());
                let pixels = ui.ctx().pixels_per_point();
                self.zoom = texture.size_vec2().x / (base.x * pixels).max(1.0);
            }
            ui.checkbox(&mut self.flicker, "Flicker")
                .on_hover_text("One photo at a time in the same place: F shows the other");
            let swap = ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::F));
            if self.flicker && (swap || ui.button("Show the other").clicked()) {
                self.showing_second = !self.showing_second;
            }
        });
    }
}

/// A photo's size on screen at zoom 1: fitted in a 480-point square.
fn at_one(photo: Vec2) -> Vec2 {
    fit(photo, Vec2::splat(480.0))
}
