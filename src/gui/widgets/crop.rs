//! The query image with a crop box the user draws, moves and resizes.
//!
//! The box is kept in pixel coordinates of the EXIF-oriented original, whatever the
//! display scale; the geometry lives in plain functions so it is tested without a UI.

use eframe::egui::{self, Color32, CursorIcon, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2};

use lookalike_core::read::imaging::{CropBox, MIN_SIDE};

/// Grab distance around a corner handle, in points.
const HANDLE_REACH: f32 = 10.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Drag {
    /// Drawing a new box from this corner (image pixels).
    Create {
        anchor: Pos2,
    },
    /// Moving the box; the pointer's offset from its top-left corner.
    Move {
        grab: Vec2,
    },
    Resize {
        corner: Corner,
    },
}

/// The query's crop box and the gesture in progress.
#[derive(Debug, Default, Clone)]
pub struct CropEditor {
    /// In original-image pixels.
    rect: Option<Rect>,
    drag: Option<Drag>,
    /// The original's size, from the last [`CropEditor::show`].
    image: Vec2,
    /// Where the image was last drawn.
    shown: Option<Rect>,
}

/// What happened this frame.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CropChange {
    /// The box differs from last frame.
    pub changed: bool,
    /// A gesture is in progress (searches wait for it to end).
    pub dragging: bool,
}

/// Maps between the displayed image rectangle and original-image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mapping {
    pub shown: Rect,
    pub image: Vec2,
}

impl Mapping {
    fn scale(&self) -> f32 {
        self.shown.width() / self.image.x.max(1.0)
    }

    /// Screen point -> image pixel, clamped to the image.
    pub fn to_image(&self, p: Pos2) -> Pos2 {
        let v = (p - self.shown.min) / self.scale();
        Pos2::new(v.x.clamp(0.0, self.image.x), v.y.clamp(0.0, self.image.y))
    }

    /// Image pixel -> screen point.
    pub fn to_screen(&self, p: Pos2) -> Pos2 {
        self.shown.min + p.to_vec2() * self.scale()
    }

    pub fn rect_to_screen(&self, r: Rect) -> Rect {
        Rect::from_min_max(self.to_screen(r.min), self.to_screen(r.max))
    }
}

impl CropEditor {
    /// The box as the engine takes it, if one is drawn.
    pub fn crop_box(&self) -> Option<CropBox> {
        let r = self.rect?;
        CropBox::new(
            f64::from(r.min.x).round(),
            f64::from(r.min.y).round(),
            f64::from(r.max.x).round(),
            f64::from(r.max.y).round(),
        )
        .ok()
    }

    /// How the image was last drawn: converts image pixels to screen points.
    pub fn mapping(&self) -> Option<Mapping> {
        self.shown.map(|shown| Mapping {
            shown,
            image: self.image,
        })
    }

    pub fn set(&mut self, crop: Option<CropBox>) {
        self.rect = crop.map(|c| {
            Rect::from_min_max(
                Pos2::new(c.x1 as f32, c.y1 as f32),
                Pos2::new(c.x2 as f32, c.y2 as f32),
            )
        });
        self.drag = None;
    }

    pub fn clear(&mut self) {
        self.set(None);
    }

    /// Draws `texture` fitted into the available space with the box on top, and handles
    /// the pointer. `image` is the original's size in pixels.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        texture: &egui::TextureHandle,
        image: Vec2,
    ) -> CropChange {
        let available = ui.available_size();
        let scale = (available.x / image.x).min(available.y / image.y).max(0.01);
        let size = image * scale;
        let (shown, _) = ui.allocate_exact_size(size, Sense::hover());
        // A fixed id: the drag survives layout changes around the image.
        let response = ui.interact(shown, ui.scope_id().with("crop-editor"), Sense::drag());
        let mapping = Mapping { shown, image };
        self.image = image;
        self.shown = Some(shown);
        ui.painter().image(
            texture.id(),
            shown,
            Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
            Color32::WHITE,
        );

        let before = self.rect;
        if let Some(pointer) = response.interact_pointer_pos() {
            if response.drag_started() {
                // The gesture began where the button went down, not where the pointer
                // is by the time it counts as a drag.
                let origin = ui.input(|i| i.pointer.press_origin()).unwrap_or(pointer);
                self.drag = Some(self.start_drag(&mapping, origin, mapping.to_image(origin)));
            }
            if response.dragged() {
                self.apply_drag(mapping.to_image(pointer));
            }
        }
        if response.drag_stopped() {
            self.drag = None;
            // A click or a tiny box clears rather than keeping an unusable box.
            if self
                .rect
                .is_some_and(|r| r.width() < MIN_SIDE as f32 || r.height() < MIN_SIDE as f32)
            {
                self.rect = None;
            }
        }
        if let Some(hover) = response.hover_pos() {
            ui.ctx().set_cursor_icon(self.cursor_at(&mapping, hover));
        }
        self.paint(ui, &mapping);
        CropChange {
            changed: before != self.rect,
            dragging: self.drag.is_some(),
        }
    }

    fn start_drag(&self, mapping: &Mapping, pointer: Pos2, at: Pos2) -> Drag {
        if let Some(rect) = self.rect {
            if let Some(corner) = corner_near(mapping.rect_to_screen(rect), pointer) {
                return Drag::Resize { corner };
            }
            if rect.contains(at) {
                return Drag::Move {
                    grab: at - rect.min,
                };
            }
        }
        Drag::Create { anchor: at }
    }

    fn apply_drag(&mut self, at: Pos2) {
        let Some(drag) = self.drag else { return };
        self.rect = match (drag, self.rect) {
            (Drag::Create { anchor }, _) => Some(Rect::from_two_pos(anchor, at)),
            (Drag::Move { grab }, Some(rect)) => {
                // Keep the whole box inside the image: clamp the top-left corner.
                let limit = (self.image - rect.size()).max(Vec2::ZERO).to_pos2();
                let min = (at - grab).clamp(Pos2::ZERO, limit);
                Some(Rect::from_min_size(min, rect.size()))
            }
            (Drag::Resize { corner }, Some(rect)) => {
                let fixed = match corner {
                    Corner::TopLeft => rect.right_bottom(),
                    Corner::TopRight => rect.left_bottom(),
                    Corner::BottomLeft => rect.right_top(),
                    Corner::BottomRight => rect.left_top(),
                };
                Some(Rect::from_two_pos(fixed, at))
            }
            (_, None) => None,
        };
    }

    fn cursor_at(&self, mapping: &Mapping, hover: Pos2) -> CursorIcon {
        let Some(rect) = self.rect else {
            return CursorIcon::Crosshair;
        };
        match corner_near(mapping.rect_to_screen(rect), hover) {
            Some(Corner::TopLeft | Corner::BottomRight) => CursorIcon::ResizeNwSe,
            Some(Corner::TopRight | Corner::BottomLeft) => CursorIcon::ResizeNeSw,
            None if rect.contains(mapping.to_image(hover)) => CursorIcon::Move,
            None => CursorIcon::Crosshair,
        }
    }

    fn paint(&self, ui: &egui::Ui, mapping: &Mapping) {
        let Some(rect) = self.rect else { return };
        let painter = ui.painter_at(mapping.shown);
        let screen = mapping.rect_to_screen(rect);
        // Dim what is outside the box.
        let shade = Color32::from_black_alpha(120);
        let outer = mapping.shown;
        for part in [
            Rect::from_min_max(outer.min, Pos2::new(outer.max.x, screen.min.y)),
            Rect::from_min_max(Pos2::new(outer.min.x, screen.max.y), outer.max),
            Rect::from_min_max(
                Pos2::new(outer.min.x, screen.min.y),
                Pos2::new(screen.min.x, screen.max.y),
            ),
            Rect::from_min_max(
                Pos2::new(screen.max.x, screen.min.y),
                Pos2::new(outer.max.x, screen.max.y),
            ),
        ] {
            painter.rect_filled(part, 0.0, shade);
        }
        painter.rect_stroke(
            screen,
            0.0,
            Stroke::new(2.0, Color32::YELLOW),
            StrokeKind::Middle,
        );
        for corner in [
            screen.left_top(),
            screen.right_top(),
            screen.left_bottom(),
            screen.right_bottom(),
        ] {
            painter.rect_filled(
                Rect::from_center_size(corner, Vec2::splat(9.0)),
                1.0,
                Color32::YELLOW,
            );
        }
    }
}

fn corner_near(screen: Rect, pointer: Pos2) -> Option<Corner> {
    [
        (Corner::TopLeft, screen.left_top()),
        (Corner::TopRight, screen.right_top()),
        (Corner::BottomLeft, screen.left_bottom()),
        (Corner::BottomRight, screen.right_bottom()),
    ]
    .into_iter()
    .find(|(_, p)| p.distance(pointer) <= HANDLE_REACH)
    .map(|(corner, _)| corner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> Mapping {
        // A 2000 x 1000 photo shown at 400 x 200 points, offset by (10, 20).
        Mapping {
            shown: Rect::from_min_size(Pos2::new(10.0, 20.0), Vec2::new(400.0, 200.0)),
            image: Vec2::new(2000.0, 1000.0),
        }
    }

    #[test]
    fn screen_and_image_coordinates_round_trip_and_clamp() {
        let m = mapping();
        assert_eq!(m.to_image(Pos2::new(110.0, 70.0)), Pos2::new(500.0, 250.0));
        assert_eq!(m.to_screen(Pos2::new(500.0, 250.0)), Pos2::new(110.0, 70.0));
        assert_eq!(m.to_image(Pos2::new(-50.0, 900.0)), Pos2::new(0.0, 1000.0));
    }

    #[test]
    fn drawing_moving_and_resizing_keep_the_box_in_image_pixels() {
        let m = mapping();
        let mut editor = CropEditor {
            image: m.image,
            ..CropEditor::default()
        };
        // Draw from bottom-right to top-left: the box is normalised.
        let pointer = m.to_screen(Pos2::new(900.0, 600.0));
        editor.drag = Some(editor.start_drag(&m, pointer, m.to_image(pointer)));
        editor.apply_drag(Pos2::new(500.0, 200.0));
        let drawn = editor.crop_box().expect("box");
        assert_eq!(
            (drawn.x1, drawn.y1, drawn.x2, drawn.y2),
            (500.0, 200.0, 900.0, 600.0)
        );

        // Grab inside and move far right: clamped at the image edge.
        let inside = m.to_screen(Pos2::new(700.0, 400.0));
        editor.drag = Some(editor.start_drag(&m, inside, m.to_image(inside)));
        assert!(matches!(editor.drag, Some(Drag::Move { .. })));
        editor.apply_drag(Pos2::new(5000.0, 400.0));
        let moved = editor.crop_box().expect("box");
        assert_eq!((moved.x1, moved.x2), (1600.0, 2000.0));
        assert_eq!((moved.y1, moved.y2), (200.0, 600.0));

        // Grab the top-left handle and pull it: the opposite corner stays.
        let handle = m.to_screen(Pos2::new(1600.0, 200.0)) + Vec2::new(3.0, 3.0);
        editor.drag = Some(editor.start_drag(&m, handle, m.to_image(handle)));
        assert_eq!(
            editor.drag,
            Some(Drag::Resize {
                corner: Corner::TopLeft
            })
        );
        editor.apply_drag(Pos2::new(1000.0, 100.0));
        let resized = editor.crop_box().expect("box");
        assert_eq!(
            (resized.x1, resized.y1, resized.x2, resized.y2),
            (1000.0, 100.0, 2000.0, 600.0)
        );

        editor.clear();
        assert_eq!(editor.crop_box(), None);
    }
}
