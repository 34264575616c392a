//! The results grid: a query's results, best first, or, without a query, the whole
//! library to pick one from. Cells are drawn only where visible.

use std::borrow::Cow;
use std::path::PathBuf;

use eframe::egui::{self, RichText, Vec2};

use super::Action;
use crate::gui::protocol::{Library, Photo, ResultItem};
use crate::gui::thumbs::{Thumb, Thumbnails};
use crate::gui::widgets::format::{file_name, fit, format_bytes};

/// Size of a thumbnail cell in the grid, in points.
const CELL: f32 = 168.0;

/// The results of the current search, and where the grid was drawn.
#[derive(Default)]
pub struct Results {
    pub hits: Vec<ResultItem>,
    pub seconds: f64,
    pub error: Option<String>,
    /// Results of this search generation are current.
    pub generation: u64,
    /// A first ranking: the final one (with the query turned too) is on its way.
    pub refining: bool,
    /// Where the grid was drawn this frame (`None` when it was not).
    pub rect: Option<egui::Rect>,
}

/// What the grid is drawn from.
pub struct GridState<'a> {
    pub library: Option<&'a Library>,
    /// Indexing has started (the library may not be known yet).
    pub indexing: bool,
    /// No query: the grid shows the whole library.
    pub browsing: bool,
    pub searching: bool,
    /// A newer library waits until the pointer leaves the grid.
    pub held_by_pointer: bool,
}

impl Results {
    /// The results of another search, replacing these.
    pub fn of(generation: u64, hits: Vec<ResultItem>, seconds: f64, refining: bool) -> Self {
        Self {
            hits,
            seconds,
            generation,
            refining,
            ..Self::default()
        }
    }

    /// A search that failed, with why.
    pub fn failed(generation: u64, message: String) -> Self {
        Self {
            error: Some(message),
            generation,
            ..Self::default()
        }
    }

    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        state: &GridState<'_>,
        thumbs: &mut Thumbnails,
    ) -> Option<Action> {
        let Some(library) = state.library else {
            ui.centered_and_justified(|ui| {
                ui.label(match state.indexing {
                    true => "Looking for photos in the folder…",
                    false => "No library open.",
                });
            });
            return None;
        };
        if !self.heading(ui, library, state) {
            return None;
        }
        let count = match state.browsing {
            true => library.photos.len() + library.waiting.len(),
            false => self.hits.len(),
        };
        self.rect = Some(ui.available_rect_before_wrap());
        let columns = grid_columns(ui);
        let rows = count.div_ceil(columns);
        let mut wanted = Vec::new();
        let mut action = None;
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, CELL + 22.0, rows, |ui, visible| {
                for row in visible {
                    ui.horizontal(|ui| {
                        for i in (row * columns..(row + 1) * columns).take_while(|&i| i < count) {
                            let (score, photo) = self.cell_photo(library, state.browsing, i);
                            if let Some(a) = cell(ui, thumbs, score, &photo, &mut wanted) {
                                action = Some(a);
                            }
                        }
                    });
                }
            });
        thumbs.want(wanted);
        action
    }

    /// The line above the grid; false when the search failed (the grid is not drawn).
    fn heading(&self, ui: &mut egui::Ui, library: &Library, state: &GridState<'_>) -> bool {
        let mut growing = if library.complete {
            String::new()
        } else {
            format!(
                " · indexing: {} of {} described so far",
                library.photos.len(),
                library.photos.len() + library.waiting.len()
            )
        };
        if state.held_by_pointer {
            growing.push_str(" · newer results wait until the pointer leaves the grid");
        }
        if state.browsing {
            ui.label(format!(
                "{} photos: right-click one to find similar ones{growing}",
                library.photos.len() + library.waiting.len()
            ));
            return true;
        }
        if let Some(error) = &self.error {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("Search failed: {error}"),
            );
            return false;
        }
        ui.horizontal(|ui| {
            ui.label(format!("{} results{growing}", self.hits.len()))
                .on_hover_text(format!("searched in {:.3} s", self.seconds));
            if state.searching {
                let spinner = ui.spinner();
                if self.refining {
                    spinner.on_hover_text(
                        "First results; the query turned a quarter is being described \
                         to find turned copies too",
                    );
                }
            }
        });
        true
    }

    /// Cell `i`'s photo (borrowed, but for one still waiting) and, for a result, its
    /// rank and distance.
    fn cell_photo<'a>(
        &'a self,
        library: &'a Library,
        browsing: bool,
        i: usize,
    ) -> (Option<(usize, f32)>, Cow<'a, Photo>) {
        if !browsing {
            let hit = &self.hits[i];
            (Some((hit.rank, hit.distance)), Cow::Borrowed(&hit.photo))
        } else if let Some(photo) = library.photos.get(i) {
            (None, Cow::Borrowed(photo))
        } else {
            let path = library.waiting.get(i - library.photos.len());
            let path = path.cloned().unwrap_or_default();
            (None, Cow::Owned(Photo::waiting(path)))
        }
    }
}

/// How many cells fit side by side: each takes `CELL` plus the spacing between
/// neighbours, and the vertical scroll bar takes its share, so the right-most column is
/// never cut at the panel's edge.
fn grid_columns(ui: &egui::Ui) -> usize {
    let spacing = ui.spacing().item_spacing.x;
    let bar = ui.spacing().scroll.allocated_width();
    let room = ui.available_width() - bar + spacing;
    ((room / (CELL + spacing)).floor() as usize).max(1)
}

/// One cell: the thumbnail (asked for when missing), its caption, what hovering tells,
/// and what a click or the context menu asks for.
fn cell(
    ui: &mut egui::Ui,
    thumbs: &mut Thumbnails,
    score: Option<(usize, f32)>,
    photo: &Photo,
    wanted: &mut Vec<PathBuf>,
) -> Option<Action> {
    let mut action = None;
    ui.vertical(|ui| {
        ui.set_width(CELL);
        let response = thumbnail(ui, thumbs, photo, wanted).on_hover_text(hover_text(photo));
        if response.clicked() {
            let (rank, distance) = score.unwrap_or((0, 0.0));
            action = Some(Action::Preview(ResultItem {
                rank,
                distance,
                photo: photo.clone(),
            }));
        }
        response.context_menu(|ui| {
            if ui.button("Find similar").clicked() {
                action = Some(Action::OpenQuery(photo.path.clone()));
            }
            if ui.button("Open in viewer").clicked() {
                action = Some(Action::OpenInViewer(photo.path.clone()));
            }
            if ui.button("Show in file manager").clicked() {
                action = Some(Action::ShowInFileManager(photo.path.clone()));
            }
        });
        let mut caption = RichText::new(caption(photo, score)).small();
        if photo.damage.is_some() {
            caption = caption.color(ui.visuals().warn_fg_color);
        }
        ui.add(egui::Label::new(caption).truncate());
    });
    action
}

/// The photo's thumbnail, why it cannot be shown, or a placeholder while it is made.
fn thumbnail(
    ui: &mut egui::Ui,
    thumbs: &mut Thumbnails,
    photo: &Photo,
    wanted: &mut Vec<PathBuf>,
) -> egui::Response {
    let size = Vec2::splat(CELL - 8.0);
    match thumbs.get(&photo.path) {
        Thumb::Ready(texture) => {
            let fitted = fit(texture.size_vec2(), size);
            ui.add(egui::Image::new((texture.id(), fitted)).sense(egui::Sense::click()))
        }
        Thumb::Failed(reason) => {
            let text = format!("Cannot show: {reason}");
            ui.add_sized(
                size,
                egui::Label::new(RichText::new(text).small()).sense(egui::Sense::click()),
            )
        }
        Thumb::Loading => {
            wanted.push(photo.path.clone());
            let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click());
            ui.painter()
                .rect_filled(rect, 4.0, ui.visuals().faint_bg_color);
            response
        }
    }
}

/// "#rank · distance · name", marked as a RAW + JPEG pair, damaged or waiting.
fn caption(photo: &Photo, score: Option<(usize, f32)>) -> String {
    let name = match &photo.sibling {
        Some(_) => format!("RAW+JPEG · {}", file_name(&photo.path)),
        None => file_name(&photo.path),
    };
    let name = match photo.damage {
        Some(_) => format!("DAMAGED · {name}"),
        None => name,
    };
    match score {
        Some((rank, distance)) => format!("#{rank} · {distance:.3} · {name}"),
        None if photo.is_waiting() => format!("(waiting) {name}"),
        None => name,
    }
}

/// The path, the camera's JPEG of a RAW, size and damage.
fn hover_text(photo: &Photo) -> String {
    if photo.is_waiting() {
        return format!(
            "{}\nnot described yet: searches find it once indexing reaches it",
            photo.path.display()
        );
    }
    let damage = photo
        .damage
        .map(|damage| format!("\ndamaged: {damage}"))
        .unwrap_or_default();
    let pair = photo
        .sibling
        .as_ref()
        .map(|jpeg| format!("\nwith the camera's JPEG {}", jpeg.display()))
        .unwrap_or_default();
    format!(
        "{}{pair}\n{} × {} px, {}{damage}",
        photo.path.display(),
        photo.width,
        photo.height,
        format_bytes(photo.size)
    )
}
