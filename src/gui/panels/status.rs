//! The status bar: each job in progress (progress, rate, ETA, Cancel, current file), or
//! else the library's state and the network in use.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui::{self, RichText};

use super::Action;
use crate::gui::protocol::{Library, Stage};
use crate::gui::widgets::format::{file_name, format_duration};
use lookalike_core::describe::model::Network;
use lookalike_core::index::{IndexSummary, Progress};

/// A job in progress as the status bar shows it: indexing (and its last stage), or the
/// duplicate search (and the clean-up).
#[derive(Debug, Clone)]
pub struct JobView {
    pub folder: PathBuf,
    pub stage: Stage,
    pub started: Instant,
    /// Images to describe in this run (after the scan).
    pub total: Option<usize>,
    pub done: usize,
    pub current: Option<PathBuf>,
    pub cancelling: bool,
}

impl JobView {
    pub fn new(folder: PathBuf, stage: Stage) -> Self {
        Self {
            folder,
            stage,
            started: Instant::now(),
            total: None,
            done: 0,
            current: None,
            cancelling: false,
        }
    }

    /// Takes in a progress report (failures are the caller's to keep).
    pub fn advance(&mut self, stage: Stage, progress: &Progress) {
        self.stage = stage;
        match progress {
            Progress::Planned { to_describe, .. } => {
                self.total = Some(*to_describe);
                self.done = 0;
                self.started = Instant::now();
            }
            Progress::Step { done, total, path } => {
                self.done = *done;
                self.total = Some(*total);
                self.current = (!path.as_os_str().is_empty()).then(|| path.clone());
            }
            Progress::Failed(_) | Progress::Damaged(_) | Progress::Saved { .. } => {}
        }
    }
}

/// What the status bar tells about the library when no job runs.
pub struct LibraryState<'a> {
    pub library: Option<&'a Library>,
    pub last_run: Option<&'a IndexSummary>,
    /// The network's backend label, once it is loaded.
    pub backend: Option<&'a str>,
    pub network: Network,
}

/// The jobs `[indexing, grouping]` in progress, each with a Cancel button, or the
/// library's state.
pub fn show(
    ui: &mut egui::Ui,
    jobs: [Option<&JobView>; 2],
    state: &LibraryState<'_>,
) -> Option<Action> {
    let mut action = None;
    for (view, cancel) in jobs
        .iter()
        .zip([Action::CancelIndexing, Action::CancelDuplicates])
    {
        if let Some(view) = view {
            ui.horizontal(|ui| {
                if progress_row(ui, view) {
                    action = Some(cancel);
                }
            });
            // Keep the rate and ETA ticking between progress events.
            ui.ctx().request_repaint_after(Duration::from_millis(250));
        }
    }
    if jobs.iter().any(Option::is_some) {
        return action;
    }
    ui.horizontal(|ui| {
        match state.library {
            Some(library) => {
                ui.label(library_line(library, state.last_run))
                    .on_hover_text(library.folder.display().to_string());
            }
            None => {
                ui.label(
                    "Open a folder of photos to begin: button above, or drop it on the window.",
                );
            }
        }
        network_label(ui, state);
    });
    action
}

/// "N photos in FOLDER · whitening · last run: ...".
fn library_line(library: &Library, last_run: Option<&IndexSummary>) -> String {
    let mut text = format!(
        "{} photos in {} · {}",
        library.photos.len(),
        file_name(&library.folder),
        library.whitening
    );
    if let Some(summary) = last_run {
        let damaged = match summary.damaged.len() {
            0 => String::new(),
            n => format!(", {n} damaged"),
        };
        text.push_str(&format!(
            " · last run: {} new, {} unchanged, {} removed, {} failed{damaged}{}",
            summary.indexed,
            summary.unchanged,
            summary.removed,
            summary.failed.len(),
            if summary.stopped { " (cancelled)" } else { "" }
        ));
    }
    text
}

/// The backend's name, at the right of the status bar; the details (adapter,
/// threads) on hover.
fn network_label(ui: &mut egui::Ui, state: &LibraryState<'_>) {
    if let Some(label) = state.backend {
        let short = label.split(" (").next().unwrap_or(label);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let network = state.network.title();
            ui.label(RichText::new(format!("{network} on {short}")).weak())
                .on_hover_text(label);
        });
    }
}

/// One job's progress bar, rate, ETA, Cancel button and current file; true when Cancel
/// was clicked.
fn progress_row(ui: &mut egui::Ui, view: &JobView) -> bool {
    let what = match view.stage {
        Stage::Library => "Indexing",
        Stage::WhiteningFolder => "Indexing the whitening folder",
        Stage::Variants => "Describing turned and small photos (for duplicates)",
        Stage::Grouping => "Looking for duplicates",
        Stage::CleaningUp => "Moving copies to the trash",
    };
    let (fraction, counts) = match view.total {
        Some(total) if total > 0 => (
            view.done as f32 / total as f32,
            format!("{} / {total}", view.done),
        ),
        Some(_) => (1.0, "nothing new".to_string()),
        None => (0.0, "scanning…".to_string()),
    };
    let elapsed = view.started.elapsed().as_secs_f64();
    let rate = if elapsed > 0.0 {
        view.done as f64 / elapsed
    } else {
        0.0
    };
    let eta = match view.total {
        Some(total) if rate > 0.0 => format!(
            ", {} left",
            format_duration((total - view.done.min(total)) as f64 / rate)
        ),
        _ => String::new(),
    };
    ui.add(
        egui::ProgressBar::new(fraction)
            .desired_width(320.0)
            .text(format!("{what} {}: {counts}", file_name(&view.folder))),
    );
    if matches!(view.stage, Stage::Grouping | Stage::CleaningUp) {
        ui.label(eta.trim_start_matches(", "));
    } else {
        ui.label(format!("{rate:.1} images/s{eta}"));
    }
    let label = if view.cancelling {
        "Cancelling…"
    } else {
        "Cancel"
    };
    let cancel = ui
        .add_enabled(!view.cancelling, egui::Button::new(label))
        .clicked();
    if let Some(current) = &view.current {
        ui.label(RichText::new(current.display().to_string()).weak().small());
    }
    cancel
}
