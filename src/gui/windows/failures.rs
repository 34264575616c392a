//! The files that could not be indexed, and the damaged ones (indexed all the same).

use eframe::egui;

use lookalike_core::index::{Failure, FailureKind};

/// The failed-files button's words: damaged photos (indexed, searchable) are listed
/// with the files that failed.
pub fn title(failures: &[Failure]) -> &'static str {
    match failures.iter().any(|f| f.kind == FailureKind::Damaged) {
        true => "Failed or damaged files",
        false => "Failed files",
    }
}

/// The list as a table, while `open`; closed for good when there is nothing to list.
pub fn show(ctx: &egui::Context, failures: &[Failure], open: &mut bool) {
    if failures.is_empty() {
        *open = false;
        return;
    }
    let title = match title(failures) {
        "Failed files" => "Files that could not be indexed",
        _ => "Files that could not be indexed or are damaged",
    };
    egui::Window::new(format!("{title} ({})", failures.len()))
        .open(open)
        .default_size([720.0, 360.0])
        .show(ctx, |ui| table(ui, failures));
}

fn table(ui: &mut egui::Ui, failures: &[Failure]) {
    use egui_extras::{Column, TableBuilder};
    TableBuilder::new(ui)
        .striped(true)
        .column(Column::auto().at_least(240.0).resizable(true))
        .column(Column::auto().at_least(120.0))
        .column(Column::remainder())
        .header(20.0, |mut header| {
            header.col(|ui| {
                ui.strong("File");
            });
            header.col(|ui| {
                ui.strong("What");
            });
            header.col(|ui| {
                ui.strong("Reason");
            });
        })
        .body(|body| {
            body.rows(20.0, failures.len(), |mut row| {
                let failure = &failures[row.index()];
                row.col(|ui| {
                    ui.label(failure.path.display().to_string());
                });
                row.col(|ui| {
                    ui.label(failure.kind.describe());
                });
                row.col(|ui| {
                    ui.label(&failure.reason);
                });
            });
        });
}
