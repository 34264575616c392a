//! Native file dialogs (rfd) on a helper thread, so the window keeps drawing while
//! one is open, and opening files with the desktop's own programs.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};

use eframe::egui;

use lookalike_core::read::imaging::IMAGE_EXTENSIONS;

/// What a dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Library,
    Query,
    Weights,
    WhiteningFolder,
    /// A folder whose files the duplicate clean-up never moves.
    ProtectedFolder,
    /// A folder the keeper rule "preferred" keeps from.
    PreferredFolder,
}

/// At most one dialog at a time; its answer comes back through [`Dialogs::poll`].
pub struct Dialogs {
    answers: Receiver<(Purpose, Result<Option<PathBuf>, String>)>,
    sender: Sender<(Purpose, Result<Option<PathBuf>, String>)>,
    open: Option<Purpose>,
}

impl Default for Dialogs {
    fn default() -> Self {
        let (sender, answers) = channel();
        Self {
            answers,
            sender,
            open: None,
        }
    }
}

impl Dialogs {
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Opens the dialog for `purpose` unless one is already open.
    pub fn open(&mut self, purpose: Purpose, repaint: &egui::Context) {
        if self.open.is_some() {
            return;
        }
        let sender = self.sender.clone();
        let repaint = repaint.clone();
        let spawned = std::thread::Builder::new()
            .name("lookalike-dialog".into())
            .spawn(move || {
                let dialog = rfd::FileDialog::new();
                let picked = match purpose {
                    Purpose::Library => dialog.set_title("Open a photo folder").pick_folder(),
                    Purpose::WhiteningFolder => dialog
                        .set_title("Folder of other photos to learn the whitening from")
                        .pick_folder(),
                    Purpose::ProtectedFolder => dialog
                        .set_title("A folder whose photos are never moved")
                        .pick_folder(),
                    Purpose::PreferredFolder => dialog
                        .set_title("A folder whose photos are kept first")
                        .pick_folder(),
                    Purpose::Query => dialog
                        .set_title("Choose a query photo")
                        .add_filter("Images", &IMAGE_EXTENSIONS)
                        .pick_file(),
                    Purpose::Weights => dialog
                        .set_title("Choose the VGG16 weights (.safetensors or Keras .h5)")
                        .add_filter("Weights", &["safetensors", "h5"])
                        .pick_file(),
                };
                let _ = sender.send((purpose, Ok(picked)));
                repaint.request_repaint();
            });
        match spawned {
            Ok(_) => self.open = Some(purpose),
            Err(error) => {
                let _ = self.sender.send((
                    purpose,
                    Err(format!("could not open a file dialog: {error}")),
                ));
            }
        }
    }

    /// The answer of the open dialog, once the user closed it (`Ok(None)`: cancelled).
    pub fn poll(&mut self) -> Option<(Purpose, Result<Option<PathBuf>, String>)> {
        let answer = self.answers.try_recv().ok()?;
        self.open = None;
        Some(answer)
    }
}

/// Opens `path` with the desktop's default program.
pub fn open_with_system(path: &Path) -> std::io::Result<()> {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    std::process::Command::new(program)
        .arg(path)
        .spawn()
        .map(drop)
}

/// Shows `path` in the file manager (selected where the platform allows it).
pub fn reveal_in_file_manager(path: &Path) -> std::io::Result<()> {
    if cfg!(target_os = "macos") {
        std::process::Command::new("open")
            .arg("-R")
            .arg(path)
            .spawn()
            .map(drop)
    } else if cfg!(windows) {
        let mut select = std::ffi::OsString::from("/select,");
        select.push(path);
        std::process::Command::new("explorer")
            .arg(select)
            .spawn()
            .map(drop)
    } else {
        open_with_system(path.parent().unwrap_or(path))
    }
}
