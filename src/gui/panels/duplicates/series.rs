//! "Series: pick the best of a burst": frames of one camera body taken moments apart
//! (EXIF), which look alike but are different exposures. They are never copies: never
//! selected nor moved by the clean-up. Each frame can be compared with the first.

use eframe::egui::{self, RichText};

use super::cards::{Drawing, card_thumbnail};
use super::{CARD, DupesAction, DupesView};
use crate::gui::protocol::Burst;
use crate::gui::widgets::format::file_name;

impl DupesView {
    /// The series section, under the groups. A burst out of sight only takes its place
    /// (its height when last drawn): a large library has thousands, whose thumbnails
    /// are asked for only when they come into view.
    pub(super) fn series_section(&mut self, ui: &mut egui::Ui, drawing: &mut Drawing) {
        if self.series.is_empty() {
            return;
        }
        ui.separator();
        let title = format!("Series: pick the best of a burst ({})", self.series.len());
        egui::CollapsingHeader::new(RichText::new(title).strong())
            .id_salt("series")
            .default_open(true)
            .show(ui, |ui| {
                ui.label(
                    RichText::new(
                        "Frames taken moments apart by one camera: different exposures, \
                         never proposed as copies. Compare them and keep your best in \
                         your photo editor.",
                    )
                    .weak()
                    .small(),
                );
                self.series_heights.resize(self.series.len(), CARD + 60.0);
                let rows = self.series.iter().zip(&mut self.series_heights);
                for (n, (burst, height)) in rows.enumerate() {
                    let width = ui.available_width();
                    let place =
                        egui::Rect::from_min_size(ui.cursor().min, egui::vec2(width, *height));
                    if ui.is_rect_visible(place) {
                        let top = ui.cursor().min.y;
                        burst_row(ui, drawing, n, burst);
                        *height = ui.cursor().min.y - top - ui.spacing().item_spacing.y;
                    } else {
                        ui.allocate_space(egui::vec2(width, *height));
                    }
                }
            });
    }
}

/// One series: how many frames over how long, then the frames side by side.
fn burst_row(ui: &mut egui::Ui, drawing: &mut Drawing, n: usize, burst: &Burst) {
    let span = burst
        .seconds
        .map_or_else(String::new, |s| format!(" over {s:.1} s"));
    ui.label(format!("{} frames{span}", burst.photos.len()));
    egui::ScrollArea::horizontal()
        .id_salt(("burst", n))
        .show(ui, |ui| {
            ui.horizontal_top(|ui| {
                for (i, photo) in burst.photos.iter().enumerate() {
                    ui.vertical(|ui| {
                        ui.set_width(CARD);
                        card_thumbnail(ui, drawing, photo);
                        let name = file_name(&photo.path);
                        ui.add(egui::Label::new(RichText::new(&name).strong()).truncate());
                        if let Some(Some(offset)) = burst.offsets.get(i) {
                            ui.label(format!("+{offset:.2} s"));
                        }
                        if i > 0
                            && ui
                                .button(format!("Compare {name} with the first"))
                                .clicked()
                        {
                            let first = burst.photos[0].path.clone();
                            drawing.action = Some(DupesAction::Compare(first, photo.path.clone()));
                        }
                    });
                }
            });
        });
}
