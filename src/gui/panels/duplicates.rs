//! The duplicate review: one group at a time, side by side with resolution, file size,
//! date and format; the suggested keeper can be changed; "all but the keeper" selects
//! the rest; the selection goes to the trash (journaled, undoable), never away for good.
//!
//! Only a verified copy of the keeper can be selected for removal: what "Move N to the
//! trash" counts and sends is rebuilt, every time, from the groups on screen
//! ([`DupesView::removal`]) as the finder's [`VerifiedMatch`]es, which leave out each
//! group's keeper and the photos only similar to a copy; choosing another keeper
//! re-verifies every photo against it. New groups (another threshold, whitening,
//! variants, a changed library) start with nothing selected. The executor then checks
//! every file against its keeper on disk before it moves anything.

use std::collections::HashSet;
use std::path::PathBuf;

use eframe::egui::{self, RichText, Vec2};

use crate::gui::protocol::{DuplicateGroup, JobEnd, Photo};
use crate::gui::thumbs::{Thumb, Thumbnails};
use crate::gui::widgets::format::{format_bytes, format_date};
use lookalike_core::find::dupes::{Decision, Verdict, VerifiedMatch};

/// Side of a photo card, in points.
const CARD: f32 = 220.0;

/// What the user asked the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum DupesAction {
    Find {
        threshold: f32,
        variants: bool,
    },
    Remove(Vec<VerifiedMatch>),
    Undo,
    Compare(PathBuf, PathBuf),
    /// Remember a verdict on these photos: never proposed together again.
    Decide(Verdict, Vec<PathBuf>),
    /// Forget the library's decision `n` (oldest first).
    ForgetDecision(usize),
}

/// The library as the duplicates view needs it.
#[derive(Debug, Clone, Copy)]
pub struct PageState {
    pub open: bool,
    /// Indexing has ended.
    pub complete: bool,
    /// Counts the libraries shown so far.
    pub generation: u64,
    /// Indexing's last stage (the turned and small photos) is under way.
    pub variants_pending: bool,
}

/// State of the review.
#[derive(Debug)]
pub struct DupesView {
    pub threshold: f32,
    /// Also match quarter-turned copies and small downscaled exports.
    pub variants: bool,
    groups: Vec<DuplicateGroup>,
    current: usize,
    /// Files marked to go (a keeper in it is never sent: see [`Self::removal`]).
    selected: HashSet<PathBuf>,
    /// Why the last search gave no groups (cancelled, threshold too loose...).
    problem: Option<String>,
    /// The threshold, variants and library generation the groups were found for.
    found_for: Option<(f32, bool, u64)>,
    seconds: f64,
    pub busy: bool,
    /// A clean-up is under way: nothing more can be moved until it ends.
    pub cleaning: bool,
    /// The decisions remembered for the library ("not duplicates", "keep all").
    pub decisions: Vec<Decision>,
}

impl Default for DupesView {
    fn default() -> Self {
        Self::new()
    }
}

impl DupesView {
    /// The calibrated defaults: the turned and small copies matched, at the threshold
    /// calibrated on neardup-dev for the app's (VGG16 R-MAC) descriptors (README,
    /// "Duplicates").
    pub fn new() -> Self {
        let pooling = lookalike_core::describe::pooling::Pooling::default_for(
            lookalike_core::describe::model::Network::Vgg16,
        );
        Self {
            threshold: lookalike_core::find::dupes::Rule::calibrated(pooling, true).threshold,
            variants: true,
            groups: Vec::new(),
            current: 0,
            selected: HashSet::new(),
            problem: None,
            found_for: None,
            seconds: 0.0,
            busy: false,
            cleaning: false,
            decisions: Vec::new(),
        }
    }

    /// The library generation the groups on screen were found for.
    pub fn found_library(&self) -> Option<u64> {
        self.found_for.map(|(_, _, library)| library)
    }

    pub fn groups(&self) -> &[DuplicateGroup] {
        &self.groups
    }

    pub fn current(&self) -> usize {
        self.current
    }

    pub fn selected(&self) -> &HashSet<PathBuf> {
        &self.selected
    }

    /// The executor's answer: new groups (nothing selected in them), or why there are
    /// none.
    pub fn set_outcome(
        &mut self,
        outcome: JobEnd<Vec<DuplicateGroup>>,
        threshold: f32,
        library: u64,
        seconds: f64,
    ) {
        match outcome {
            JobEnd::Done(groups) => {
                self.groups = groups;
                self.problem = None;
            }
            JobEnd::Stopped => {
                self.groups.clear();
                self.problem = Some("stopped".into());
            }
            JobEnd::Failed(problem) => {
                self.groups.clear();
                self.problem = Some(problem);
            }
        }
        self.current = self.current.min(self.groups.len().saturating_sub(1));
        // Other groups: what was selected in the old ones means nothing here.
        self.selected.clear();
        self.found_for = Some((threshold, self.variants, library));
        self.seconds = seconds;
        self.busy = false;
    }

    /// What "Move N to the trash" moves, rebuilt from the groups on screen: in each
    /// group, the selected photos that are verified copies of its keeper.
    pub fn removal(&self) -> Vec<VerifiedMatch> {
        self.groups
            .iter()
            .flat_map(|g| {
                g.group.matches(|i| {
                    g.photos
                        .get(i)
                        .is_some_and(|p| self.selected.contains(&p.path))
                })
            })
            .collect()
    }

    /// Asks for groups when the library or the threshold changed since the last time.
    pub fn wanted_search(&mut self, library: u64) -> Option<DupesAction> {
        if self.busy || self.found_for == Some((self.threshold, self.variants, library)) {
            return None;
        }
        self.busy = true;
        Some(DupesAction::Find {
            threshold: self.threshold,
            variants: self.variants,
        })
    }

    /// Makes photo `i` of the current group its keeper (one of the photos found for
    /// it, never one only similar): every other photo is a copy again only if it was
    /// verified with `i`. The keeper, and what is no longer a copy, is unselected.
    pub fn set_keeper(&mut self, i: usize) {
        if let Some(group) = self.groups.get_mut(self.current)
            && group.group.set_keeper(i)
        {
            for (j, photo) in group.photos.iter().enumerate() {
                if !group.group.is_copy(j) {
                    self.selected.remove(&photo.path);
                }
            }
        }
    }

    /// Selects every verified copy of the current group's keeper, but the keeper's
    /// RAW + JPEG sibling: the camera wrote them as one photo, so removing one of them is
    /// only ever the explicit [`Self::keep_raw_remove_jpegs`].
    pub fn select_all_but_keeper(&mut self) {
        self.select_in_current_group(false);
    }

    /// "Keep RAW, remove the JPEG copies": every verified copy of the current group's
    /// keeper, its JPEG sibling included.
    pub fn keep_raw_remove_jpegs(&mut self) {
        self.select_in_current_group(true);
    }

    fn select_in_current_group(&mut self, with_siblings: bool) {
        if let Some(group) = self.groups.get(self.current) {
            let keeper = &group.photos[group.keeper()].path;
            for (i, photo) in group.photos.iter().enumerate() {
                if group.group.is_copy(i) && (with_siblings || !is_sibling(&photo.path, keeper)) {
                    self.selected.insert(photo.path.clone());
                }
            }
        }
    }

    /// The duplicates view: a note on what is compared, then the review. Groups are
    /// asked for when the library (`generation`) or the threshold changed; while
    /// indexing, among the photos described so far (not again each time more is
    /// described), and found again at the end.
    pub fn page(
        &mut self,
        ui: &mut egui::Ui,
        library: &PageState,
        thumbs: &mut Thumbnails,
    ) -> Vec<DupesAction> {
        let mut actions = Vec::new();
        if !library.open {
            ui.label("Open a library folder to look for duplicates.");
            return actions;
        }
        let generation = match self.found_library() {
            Some(found) if !library.complete => found,
            _ => library.generation,
        };
        actions.extend(self.wanted_search(generation));
        let mut note = String::from(
            "Photos are compared as \"the same scene or object\", whatever the search's intent.",
        );
        if !library.complete {
            note.push_str(" Indexing goes on: these groups are among the photos described so far, and are found again when it ends.");
        } else if library.variants_pending {
            note.push_str(" Turned and small copies join their groups once they are described.");
        }
        ui.label(RichText::new(note).weak().small());
        actions.extend(self.show(ui, thumbs));
        actions
    }

    pub fn show(&mut self, ui: &mut egui::Ui, thumbs: &mut Thumbnails) -> Option<DupesAction> {
        let mut action = self.search_bar(ui);
        if self.groups.is_empty() {
            ui.label(match (&self.problem, self.busy) {
                (_, true) => "Looking for duplicates…".to_string(),
                (Some(problem), false) => format!("No groups: {problem}"),
                (None, false) => "No duplicates at this threshold.".to_string(),
            });
            return action;
        }
        if let Some(asked) = self.group_bar(ui) {
            action = Some(asked);
        }
        ui.separator();
        if let Some(asked) = self.group_cards(ui, thumbs) {
            action = Some(asked);
        }
        action
    }

    /// The threshold, the variants, how many groups were found, and Undo.
    fn search_bar(&mut self, ui: &mut egui::Ui) -> Option<DupesAction> {
        let mut action = None;
        ui.horizontal(|ui| {
            let label = ui.label("Threshold");
            ui.add(
                egui::DragValue::new(&mut self.threshold)
                    .range(0.01..=1.0)
                    .speed(0.005)
                    .fixed_decimals(3),
            )
            .labelled_by(label.id)
            .on_hover_text(
                "Cosine distance under which two photos are duplicates. Calibrated on \
                 neardup-dev with the shipped whitening: 0.48 with the turned and small \
                 copies, 0.52 without. Each pair under it is verified too: a copy must be \
                 closer to the photo kept than either photo is to itself turned.",
            );
            ui.checkbox(&mut self.variants, "Also turned and small copies")
                .on_hover_text(
                    "Describes every photo once more, turned a quarter turn, and small ones \
                     enlarged (once; kept for next time), which finds turned and downscaled \
                     copies and verifies every pair: on neardup-dev it takes the copies \
                     proposed from 63% to 87%, 99.4% of them true copies.",
                );
            if self.busy {
                ui.spinner();
            } else if self.problem.is_some() && ui.button("Look again").clicked() {
                self.found_for = None;
            }
            let files: usize = self
                .groups
                .iter()
                .map(|g| 1 + g.group.copies().count())
                .sum();
            let groups = self.groups.len();
            let plural = if groups == 1 { "" } else { "s" };
            ui.label(format!("{groups} group{plural}, {files} photos"))
                .on_hover_text(format!("found in {:.2} s", self.seconds));
            ui.separator();
            if ui
                .add_enabled(!self.cleaning, egui::Button::new("Undo last clean-up"))
                .clicked()
            {
                action = Some(DupesAction::Undo);
            }
        });
        action
    }

    /// Moving between groups, selecting, and moving the selection to the trash.
    fn group_bar(&mut self, ui: &mut egui::Ui) -> Option<DupesAction> {
        let mut action = None;
        ui.horizontal(|ui| {
            if ui
                .add_enabled(self.current > 0, egui::Button::new("< Previous"))
                .clicked()
            {
                self.current -= 1;
            }
            let kind = self
                .groups
                .get(self.current)
                .map_or("", |g| g.group.kind().name());
            ui.label(format!(
                "Group {} of {}: {kind}",
                self.current + 1,
                self.groups.len()
            ));
            if ui
                .add_enabled(
                    self.current + 1 < self.groups.len(),
                    egui::Button::new("Next >"),
                )
                .clicked()
            {
                self.current += 1;
            }
            ui.separator();
            if ui.button("Select all but the keeper").clicked() {
                self.select_all_but_keeper();
            }
            let raw_pair = self.groups.get(self.current).is_some_and(|g| {
                let keeper = &g.photos[g.keeper()].path;
                lookalike_core::read::raw::is_raw(keeper)
                    && g.photos.iter().any(|p| is_sibling(&p.path, keeper))
            });
            if raw_pair
                && ui
                    .button("Keep RAW, remove the JPEG copies")
                    .on_hover_text(
                        "Also selects the JPEG the camera wrote beside the RAW that is kept",
                    )
                    .clicked()
            {
                self.keep_raw_remove_jpegs();
            }
            if ui.button("Select none").clicked() {
                self.selected.clear();
            }
            if let Some(decided) = self.decision_buttons(ui) {
                action = Some(decided);
            }
            let removal = self.removal();
            let count = removal.len();
            // Not while the groups are found again (what is on screen may be stale) or
            // a clean-up runs.
            if ui
                .add_enabled(
                    count > 0 && !self.busy && !self.cleaning,
                    egui::Button::new(format!("Move {count} to the trash")),
                )
                .on_hover_text("Nothing is deleted: Undo brings the files back")
                .on_disabled_hover_text(
                    "Wait until the duplicates are found again (or the clean-up ends)",
                )
                .clicked()
            {
                self.selected.clear();
                action = Some(DupesAction::Remove(removal));
            }
        });
        action
    }

    /// "Not duplicates" and "Keep all" for the current group (its keeper and copies),
    /// and the decisions remembered, each with Forget.
    fn decision_buttons(&mut self, ui: &mut egui::Ui) -> Option<DupesAction> {
        let mut action = None;
        let photos: Vec<PathBuf> = self.groups.get(self.current).map_or_else(Vec::new, |g| {
            std::iter::once(g.keeper())
                .chain(g.group.copies())
                .map(|i| g.photos[i].path.clone())
                .collect()
        });
        let enabled = photos.len() > 1 && !self.busy && !self.cleaning;
        let verdicts = [
            (
                Verdict::NotDuplicates,
                "Not duplicates",
                "Never propose these photos together again",
            ),
            (
                Verdict::KeepAll,
                "Keep all",
                "Keep every photo of this group; never propose it again",
            ),
        ];
        for (verdict, label, hover) in verdicts {
            if ui
                .add_enabled(enabled, egui::Button::new(label))
                .on_hover_text(hover)
                .clicked()
            {
                self.selected.clear();
                action = Some(DupesAction::Decide(verdict, photos.clone()));
            }
        }
        if !self.decisions.is_empty() {
            ui.menu_button(format!("Decisions ({})", self.decisions.len()), |ui| {
                for (n, d) in self.decisions.iter().enumerate() {
                    ui.horizontal(|ui| {
                        if ui.small_button("Forget").clicked() {
                            action = Some(DupesAction::ForgetDecision(n));
                        }
                        ui.label(format!("{}: {}", d.verdict.name(), d.photos.join(", ")));
                    });
                }
            });
        }
        action
    }

    /// The current group's cards: the keeper and its copies, then the photos only
    /// similar to a copy.
    fn group_cards(&mut self, ui: &mut egui::Ui, thumbs: &mut Thumbnails) -> Option<DupesAction> {
        let mut action = None;
        let group = self.groups.get(self.current).cloned()?;
        let mut wanted = Vec::new();
        let copies: Vec<usize> = std::iter::once(group.keeper())
            .chain(group.group.copies())
            .collect();
        let similar: Vec<usize> = group.group.similar().collect();
        egui::ScrollArea::vertical().show(ui, |ui| {
            self.card_row(
                ui,
                thumbs,
                &group,
                &copies,
                "copies",
                &mut wanted,
                &mut action,
            );
            if !similar.is_empty() {
                ui.separator();
                ui.label(RichText::new("Similar to a copy, not to the photo kept").strong())
                    .on_hover_text(
                        "These photos matched one of the copies but not the photo kept: \
                         they are never selected or moved with this group.",
                    );
                self.card_row(
                    ui,
                    thumbs,
                    &group,
                    &similar,
                    "similar",
                    &mut wanted,
                    &mut action,
                );
            }
        });
        thumbs.want(wanted);
        action
    }

    /// One row of cards (scrolled sideways): the photos `members` of `group`.
    #[allow(clippy::too_many_arguments)]
    fn card_row(
        &mut self,
        ui: &mut egui::Ui,
        thumbs: &mut Thumbnails,
        group: &DuplicateGroup,
        members: &[usize],
        id: &str,
        wanted: &mut Vec<PathBuf>,
        action: &mut Option<DupesAction>,
    ) {
        egui::ScrollArea::horizontal().id_salt(id).show(ui, |ui| {
            ui.horizontal_top(|ui| {
                for &i in members {
                    ui.vertical(|ui| {
                        ui.set_width(CARD);
                        self.card(ui, thumbs, group, i, &group.photos[i], wanted, action);
                    });
                }
            });
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn card(
        &mut self,
        ui: &mut egui::Ui,
        thumbs: &mut Thumbnails,
        group: &DuplicateGroup,
        i: usize,
        photo: &Photo,
        wanted: &mut Vec<PathBuf>,
        action: &mut Option<DupesAction>,
    ) {
        card_thumbnail(ui, thumbs, photo, wanted);
        let name = card_facts(ui, photo);
        self.card_choices(ui, group, i, &name, action);
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
        if !is_keeper && is_sibling(&photo.path, &group.photos[keeper].path) {
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
            if chosen {
                self.selected.insert(photo.path.clone());
            } else {
                self.selected.remove(&photo.path);
            }
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
fn card_thumbnail(
    ui: &mut egui::Ui,
    thumbs: &mut Thumbnails,
    photo: &Photo,
    wanted: &mut Vec<PathBuf>,
) {
    let size = Vec2::splat(CARD - 8.0);
    match thumbs.get(&photo.path) {
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
            wanted.push(photo.path.clone());
            let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
            ui.painter()
                .rect_filled(rect, 4.0, ui.visuals().faint_bg_color);
        }
    }
}

/// Name, resolution, format, size, date and damage; the name.
fn card_facts(ui: &mut egui::Ui, photo: &Photo) -> String {
    let name = photo
        .path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    ui.add(egui::Label::new(RichText::new(&name).strong()).truncate())
        .on_hover_text(photo.path.display().to_string());
    let format = photo
        .path
        .extension()
        .map_or_else(|| "?".into(), |e| e.to_string_lossy().to_uppercase());
    ui.label(format!("{} × {} px · {format}", photo.width, photo.height));
    ui.label(format!(
        "{} · {}",
        format_bytes(photo.size),
        format_date(photo.mtime_ns)
    ));
    if let Some(damage) = photo.damage {
        ui.label(RichText::new("DAMAGED").color(ui.visuals().warn_fg_color))
            .on_hover_text(damage.to_string());
    }
    name
}

/// Whether two photos are a RAW + JPEG pair written by the camera.
fn is_sibling(a: &std::path::Path, b: &std::path::Path) -> bool {
    lookalike_core::find::dupes::raw_jpeg_pair(&a.to_string_lossy(), &b.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(name: &str) -> Photo {
        Photo {
            path: PathBuf::from(name),
            width: 10,
            height: 10,
            size: 1,
            mtime_ns: 0,
            sibling: None,
            damage: None,
        }
    }

    fn group(paths: &[&str], star: usize, verified: &[(usize, usize)]) -> DuplicateGroup {
        DuplicateGroup {
            photos: paths.iter().map(|p| photo(p)).collect(),
            group: lookalike_core::find::dupes::Group::for_test(paths, star, verified),
        }
    }

    fn moved(view: &DupesView) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = view
            .removal()
            .iter()
            .map(|m| m.file().path.clone())
            .collect();
        paths.sort();
        paths
    }

    fn review() -> DupesView {
        let mut view = DupesView::new();
        view.threshold = 0.1;
        view.variants = false;
        view
    }

    #[test]
    fn all_but_the_keeper_selects_only_verified_copies_of_the_keeper() {
        let mut view = review();
        // a, b, c all verified with each other; d verified with c only (similar).
        let all = [(0, 1), (0, 2), (1, 2), (2, 3)];
        view.set_outcome(
            JobEnd::Done(vec![group(&["a", "b", "c", "d"], 3, &all)]),
            0.1,
            1,
            0.0,
        );
        view.set_keeper(1);
        view.select_all_but_keeper();
        let mut chosen: Vec<_> = view.selected().iter().cloned().collect();
        chosen.sort();
        assert_eq!(chosen, [PathBuf::from("a"), PathBuf::from("c")]);
        // A photo only similar to a copy can never be the keeper, nor be selected.
        view.set_keeper(3);
        assert_eq!(view.groups()[0].keeper(), 1);
        assert!(!view.groups()[0].group.is_copy(3));
        // Making a selected photo the keeper unselects it.
        view.set_keeper(0);
        assert!(!view.selected().contains(&PathBuf::from("a")));
        assert_eq!(moved(&view), [PathBuf::from("c")]);
        assert!(
            view.removal()
                .iter()
                .all(|m| m.keeper().path == std::path::Path::new("a"))
        );
    }

    #[test]
    fn another_keeper_verifies_every_copy_again() {
        let mut view = review();
        // A chain: b is a copy of a, c of b only. Keeping a, c is similar, never moved.
        let chain = group(&["a", "b", "c"], 2, &[(0, 1), (1, 2)]);
        view.set_outcome(JobEnd::Done(vec![chain]), 0.1, 1, 0.0);
        view.select_all_but_keeper();
        assert_eq!(moved(&view), [PathBuf::from("b")]);
        // Keeping b instead re-verifies: a is its copy; c, though verified with b, was
        // not taken for this group, so it stays similar.
        view.set_keeper(1);
        view.select_all_but_keeper();
        assert_eq!(moved(&view), [PathBuf::from("a")]);
        // A group whose members fail with a new keeper: they become similar, unselected.
        let star = group(&["a", "b", "c"], 3, &[(0, 1), (0, 2)]);
        view.set_outcome(JobEnd::Done(vec![star]), 0.1, 1, 0.0);
        view.select_all_but_keeper();
        assert_eq!(moved(&view), [PathBuf::from("b"), PathBuf::from("c")]);
        view.set_keeper(1);
        assert!(moved(&view).is_empty(), "c failed with b: unselected");
        assert!(!view.selected().contains(&PathBuf::from("c")));
        view.select_all_but_keeper();
        assert_eq!(moved(&view), [PathBuf::from("a")]);
    }

    #[test]
    fn new_groups_start_unselected_and_a_raw_keeps_its_jpeg_unless_asked() {
        let mut view = review();
        view.set_outcome(
            JobEnd::Done(vec![group(&["a", "b"], 2, &[(0, 1)])]),
            0.1,
            1,
            0.0,
        );
        // New groups: nothing is selected.
        view.select_all_but_keeper();
        assert!(!view.selected().is_empty());
        view.set_outcome(
            JobEnd::Done(vec![group(&["b", "c"], 2, &[(0, 1)])]),
            0.1,
            1,
            0.0,
        );
        assert!(view.selected().is_empty());
        assert!(view.removal().is_empty());

        // A RAW kept with its camera JPEG and an export: the JPEG stays unless asked.
        let pair = group(
            &["/p/IMG_1.CR3", "/p/IMG_1.JPG", "/e/IMG_1.jpg"],
            3,
            &[(0, 1), (0, 2), (1, 2)],
        );
        view.set_outcome(JobEnd::Done(vec![pair]), 0.1, 1, 0.0);
        view.select_all_but_keeper();
        assert_eq!(moved(&view), [PathBuf::from("/e/IMG_1.jpg")]);
        view.keep_raw_remove_jpegs();
        assert_eq!(moved(&view).len(), 2);
        assert!(
            view.removal()
                .iter()
                .all(|m| m.keeper().path == std::path::Path::new("/p/IMG_1.CR3"))
        );
        assert_eq!(view.wanted_search(1), None);
        assert_eq!(
            view.wanted_search(2),
            Some(DupesAction::Find {
                threshold: 0.1,
                variants: false
            })
        );
    }
}
