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
//!
//! | module | role |
//! |---|---|
//! | [`cards`] | the current group's photos, their facts and choices |
//! | [`review`] | the keyboard: group, photo, keep, mark, compare, not duplicates |
//! | [`moving`] | what a clean-up moves, said before it moves ("Apply to all groups") |
//! | [`series`] | bursts: frames moments apart, never copies |

mod cards;
mod moving;
mod review;
mod series;

pub use moving::{CATALOGUE_WARNING, MovePlan};

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use eframe::egui::{self, RichText};

use crate::gui::protocol::{Burst, DuplicateGroup, FoundDuplicates, JobEnd};
use crate::gui::thumbs::Thumbnails;
use crate::gui::widgets::format::plural;
use cards::Drawing;
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
    /// Bursts found with them, shown apart.
    series: Vec<Burst>,
    /// Each burst's height when last drawn (see [`DupesView::series_section`]).
    series_heights: Vec<f32>,
    current: usize,
    /// The photo the keyboard is on, in the order the group shows them.
    focus: usize,
    /// Scroll the focused photo into view on the next frame.
    scroll_to_focus: bool,
    /// Files marked to go (a keeper in it is never sent: see [`Self::removal`]).
    selected: HashSet<PathBuf>,
    /// The groups each photo is in (as a copy, or similar to one).
    group_of: HashMap<PathBuf, Vec<usize>>,
    /// Keepers and copies of every group, for the search bar.
    files: usize,
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
    /// A clean-up waiting for the user's yes.
    plan: Option<MovePlan>,
    /// The catalogue warning was shown and a clean-up confirmed (a setting).
    pub catalogue_warned: bool,
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
            series: Vec::new(),
            series_heights: Vec::new(),
            current: 0,
            focus: 0,
            scroll_to_focus: false,
            selected: HashSet::new(),
            group_of: HashMap::new(),
            files: 0,
            problem: None,
            found_for: None,
            seconds: 0.0,
            busy: false,
            cleaning: false,
            decisions: Vec::new(),
            plan: None,
            catalogue_warned: false,
        }
    }

    /// The library generation the groups on screen were found for.
    pub fn found_library(&self) -> Option<u64> {
        self.found_for.map(|(_, _, library)| library)
    }

    pub fn groups(&self) -> &[DuplicateGroup] {
        &self.groups
    }

    pub fn series(&self) -> &[Burst] {
        &self.series
    }

    /// The clean-up waiting for the user's yes, if any.
    pub fn plan(&self) -> Option<&MovePlan> {
        self.plan.as_ref()
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
        outcome: JobEnd<FoundDuplicates>,
        threshold: f32,
        library: u64,
        seconds: f64,
    ) {
        let found = match outcome {
            JobEnd::Done(found) => {
                self.problem = None;
                found
            }
            JobEnd::Stopped => {
                self.problem = Some("stopped".into());
                FoundDuplicates::default()
            }
            JobEnd::Failed(problem) => {
                self.problem = Some(problem);
                FoundDuplicates::default()
            }
        };
        (self.groups, self.series) = (found.groups, found.series);
        self.series_heights.clear();
        self.group_of.clear();
        for (n, group) in self.groups.iter().enumerate() {
            for photo in &group.photos {
                self.group_of.entry(photo.path.clone()).or_default().push(n);
            }
        }
        self.count_files();
        self.go_to_group(self.current);
        // Other groups: what was selected in the old ones (or planned) means nothing
        // here.
        self.selected.clear();
        self.plan = None;
        self.found_for = Some((threshold, self.variants, library));
        self.seconds = seconds;
        self.busy = false;
    }

    /// What "Move N to the trash" moves, rebuilt from the groups on screen: in each
    /// group, the selected photos that are verified copies of its keeper.
    /// Only the groups of the selected photos are looked at: this runs every frame, with
    /// any number of groups.
    pub fn removal(&self) -> Vec<VerifiedMatch> {
        let mut marked: Vec<usize> = self
            .selected
            .iter()
            .filter_map(|p| self.group_of.get(p))
            .flatten()
            .copied()
            .collect();
        marked.sort_unstable();
        marked.dedup();
        marked
            .into_iter()
            .filter_map(|n| self.groups.get(n))
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
            self.count_files();
        }
    }

    /// The photos of the groups (keepers and copies), counted again.
    fn count_files(&mut self) {
        self.files = self
            .groups
            .iter()
            .map(|g| 1 + g.group.copies().count())
            .sum();
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
            for (i, photo) in group.photos.iter().enumerate() {
                if group.group.is_copy(i) && (with_siblings || !group.group.is_keepers_pair(i)) {
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

    /// The bars, the current group's cards and the series (scrolled together), the
    /// review's keys and the clean-up waiting for a yes.
    pub fn show(&mut self, ui: &mut egui::Ui, thumbs: &mut Thumbnails) -> Option<DupesAction> {
        let mut asked = vec![self.search_bar(ui)];
        if self.groups.is_empty() {
            ui.label(match (&self.problem, self.busy) {
                (_, true) => "Looking for duplicates…".to_string(),
                (Some(problem), false) => format!("No groups: {problem}"),
                (None, false) => "No duplicates at this threshold.".to_string(),
            });
            if self.series.is_empty() {
                return asked.pop().flatten();
            }
        } else {
            asked.push(self.group_bar(ui));
            Self::key_help(ui);
            ui.separator();
        }
        let mut drawing = Drawing {
            thumbs,
            wanted: Vec::new(),
            action: None,
        };
        egui::ScrollArea::vertical().show(ui, |ui| {
            self.group_cards(ui, &mut drawing);
            self.series_section(ui, &mut drawing);
        });
        let Drawing {
            thumbs,
            wanted,
            action,
        } = drawing;
        thumbs.want(wanted);
        asked.push(action);
        asked.push(self.keys(ui.ctx()));
        asked.push(self.confirm(ui.ctx()));
        asked.into_iter().flatten().last()
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
            let files = self.files;
            let groups = self.groups.len();
            ui.label(format!("{groups} group{}, {files} photos", plural(groups)))
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
                self.go_to_group(self.current - 1);
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
                self.go_to_group(self.current + 1);
            }
            ui.separator();
            if ui.button("Select all but the keeper").clicked() {
                self.select_all_but_keeper();
            }
            let raw_pair = self.groups.get(self.current).is_some_and(|g| {
                lookalike_core::read::raw::is_raw(&g.photos[g.keeper()].path)
                    && (0..g.photos.len()).any(|i| g.group.is_keepers_pair(i))
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
            if let Some(moved) = self.clean_up_buttons(ui) {
                action = Some(moved);
            }
        });
        action
    }

    /// "Not duplicates" and "Keep all" for the current group (its keeper and copies),
    /// and the decisions remembered, each with Forget.
    fn decision_buttons(&mut self, ui: &mut egui::Ui) -> Option<DupesAction> {
        let mut action = None;
        let photos = self.current_photos();
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
}

#[cfg(test)]
mod tests;
