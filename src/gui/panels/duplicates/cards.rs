//! The current group's cards: each photo with its facts (what differs from the photo
//! kept stands out), why it is a copy, and its choices. The photo the keyboard is on
//! ([`DupesView::focused`]) is framed.

use std::path::PathBuf;

use eframe::egui::{self, RichText, Vec2};

use super::{CARD, DupesAction, DupesView};
use crate::gui::protocol::{DuplicateGroup, Photo};
use crate::gui::thumbs::{Thumb, Thumbnails};
use crate::gui::widgets::format::{file_name, format_bytes, format_date, format_taken};
use lookalike_core::find::dupes::Member;

/// What drawing cards collects: the thumbnails to make, the action asked for.
pub(super) struct Drawing<'a> {
    pub thumbs: &'a mut Thumbnails,
    pub wanted: Vec<PathBuf>,
    pub action: Option<DupesAction>,
}

impl DupesView {
    /// The current group's cards: the keeper and its copies, then the photos only
    /// similar to a copy.
    pub(super) fn group_cards(&mut self, ui: &mut egui::Ui, drawing: &mut Drawing) {
        let Some(group) = self.groups.get(self.current).cloned() else {
            return;
        };
        let copies: Vec<usize> = group.kept_and_copies().collect();
        let similar: Vec<usize> = group.group.similar().collect();
        self.card_row(ui, drawing, &group, &copies, "copies");
        if !similar.is_empty() {
            ui.separator();
            ui.label(RichText::new("Similar to a copy, not to the photo kept").strong())
                .on_hover_text(
                    "These photos matched one of the copies but not the photo kept: \
                     they are never selected or moved with this group.",
                );
            self.card_row(ui, drawing, &group, &similar, "similar");
        }
    }

    /// One row of cards (scrolled sideways): the photos `members` of `group`.
    fn card_row(
        &mut self,
        ui: &mut egui::Ui,
        drawing: &mut Drawing,
        group: &DuplicateGroup,
        members: &[usize],
        id: &str,
    ) {
        let focused = self.focused();
        egui::ScrollArea::horizontal().id_salt(id).show(ui, |ui| {
            ui.horizontal_top(|ui| {
                for &i in members {
                    let stroke = match focused == Some(i) {
                        true => ui.visuals().selection.stroke,
                        false => egui::Stroke::NONE,
                    };
                    let frame = egui::Frame::new()
                        .stroke(stroke)
                        .inner_margin(2.0)
                        .corner_radius(4.0);
                    let card = frame.show(ui, |ui| {
                        ui.vertical(|ui| {
                            ui.set_width(CARD);
                            self.card(ui, drawing, group, i);
                        });
                    });
                    if focused == Some(i) && self.scroll_to_focus {
                        card.response.scroll_to_me(None);
                        self.scroll_to_focus = false;
                    }
                }
            });
        });
    }

    fn card(&mut self, ui: &mut egui::Ui, drawing: &mut Drawing, group: &DuplicateGroup, i: usize) {
        let photo = &group.photos[i];
        card_thumbnail(ui, drawing, photo);
        let keeper = group.keeper();
        let name = card_facts(
            ui,
            (photo, &group.group.members()[i]),
            (&group.photos[keeper], &group.group.members()[keeper]),
        );
        self.card_choices(ui, group, i, &name, &mut drawing.action);
    }

    /// Keep this photo, remove it, compare it with the keeper (and why it is a copy).
    fn card_choices(
        &mut self,
        ui: &mut egui::Ui,
        group: &DuplicateGroup,
        i: usize,
        name: &str,
        action: &mut Option<DupesAction>,
    ) {
        let photo = &group.photos[i];
        let keeper = group.keeper();
        let is_keeper = keeper == i;
        if group.group.is_keepers_pair(i) {
            ui.label(RichText::new("RAW+JPEG: the keeper's own pair").strong());
        }
        if !is_keeper {
            let check = group.group.check(i, keeper);
            let why = if check.verified && !group.group.is_copy(i) {
                format!("{}; grouped with a better keeper of its own", check.why())
            } else {
                check.why()
            };
            ui.label(format!("distance {:.3} · why?", check.distance))
                .on_hover_text(why);
        }
        if is_keeper {
            ui.label(format!("kept because {}", group.group.reason().because()));
        }
        if group.group.may_keep(i) && ui.radio(is_keeper, format!("Keep {name}")).clicked() {
            self.set_keeper(i);
        }
        let mut chosen = self.selected.contains(&photo.path);
        if group.group.is_copy(i) && ui.checkbox(&mut chosen, format!("Remove {name}")).changed() {
            self.toggle(&photo.path);
        }
        if !is_keeper
            && ui
                .button(format!("Compare {name} with the keeper"))
                .clicked()
        {
            let keeper = group.photos[keeper].path.clone();
            *action = Some(DupesAction::Compare(keeper, photo.path.clone()));
        }
    }
}

/// The photo's thumbnail, why it cannot be shown, or a placeholder while it is made.
pub(super) fn card_thumbnail(ui: &mut egui::Ui, drawing: &mut Drawing, photo: &Photo) {
    let size = Vec2::splat(CARD - 8.0);
    match drawing.thumbs.get(&photo.path) {
        Thumb::Ready(texture) => {
            let scale = (size.x / texture.size_vec2().x).min(size.y / texture.size_vec2().y);
            ui.image((texture.id(), texture.size_vec2() * scale));
        }
        Thumb::Failed(reason) => {
            ui.add_sized(
                size,
                egui::Label::new(RichText::new(reason.to_string()).small()),
            );
        }
        Thumb::Loading => {
            drawing.wanted.push(photo.path.clone());
            let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
            ui.painter()
                .rect_filled(rect, 4.0, ui.visuals().faint_bg_color);
        }
    }
}

/// Name, resolution and format, size and date, folder, camera and capture time, and
/// damage, each in bold where it differs from the keeper's; the name.
fn card_facts(ui: &mut egui::Ui, this: (&Photo, &Member), keeper: (&Photo, &Member)) -> String {
    let facts = |(photo, member): (&Photo, &Member)| {
        let format = photo
            .path
            .extension()
            .map_or_else(|| "?".into(), |e| e.to_string_lossy().to_uppercase());
        // The folder's own name (the card's name shows the whole path on hover).
        let folder = photo
            .path
            .parent()
            .and_then(|f| f.file_name())
            .map_or_else(String::new, |f| format!("in {}", f.to_string_lossy()));
        let camera = member.shot.camera.as_ref().map_or_else(
            || "no camera in EXIF".to_string(),
            |c| format!("{} {}", c.make, c.model),
        );
        let taken = member
            .shot
            .taken
            .map_or_else(|| "no capture time".to_string(), |t| format_taken(&t));
        [
            format!("{} × {} px · {format}", photo.width, photo.height),
            format!(
                "{} · {}",
                format_bytes(photo.size),
                format_date(photo.mtime_ns)
            ),
            folder,
            format!("{camera} · {taken}"),
        ]
    };
    let photo = this.0;
    let name = file_name(&photo.path);
    ui.add(egui::Label::new(RichText::new(&name).strong()).truncate())
        .on_hover_text(photo.path.display().to_string());
    for (fact, kept) in facts(this).into_iter().zip(facts(keeper)) {
        let text = RichText::new(&fact);
        let text = if fact == kept { text } else { text.strong() };
        ui.add(egui::Label::new(text).truncate());
    }
    if let Some(damage) = photo.damage {
        ui.label(RichText::new("DAMAGED").color(ui.visuals().warn_fg_color))
            .on_hover_text(damage.to_string());
    }
    name
}
