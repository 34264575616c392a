//! The desktop app (eframe/egui): open a folder, draw a box on a photo, see ranked
//! thumbnails.
//!
//! | module | role |
//! |---|---|
//! | [`app`] | the window: routes events to the panels and their actions to commands |
//! | [`panels`] | toolbar, status, settings, query, results, duplicates: each owns its state |
//! | [`windows`] | failed files, preview, compare, the first-run weights dialog |
//! | [`widgets`] | the crop box, formatting |
//! | [`protocol`] | the commands and events between the UI and the executor |
//! | [`executor`] | the one place commands are carried out, one file per family of jobs |
//! | [`thumbs`] | thumbnail pool, disk cache and texture cache |
//! | [`dialogs`] | native file dialogs off the UI thread, open/reveal in the desktop |
//! | [`settings`] | persisted settings |

pub mod app;
pub mod dialogs;
pub mod executor;
pub mod panels;
pub mod protocol;
pub mod settings;
pub mod thumbs;
pub mod widgets;
pub mod windows;

pub use app::{AppConfig, LookalikeApp, ModelState, View};

use anyhow::Context as _;
use eframe::egui;

/// The app's icon (also installed by `packaging/`).
pub const ICON_PNG: &[u8] = include_bytes!("../../assets/icon.png");

/// Opens the main window and runs until it is closed.
pub fn run() -> anyhow::Result<()> {
    let config = AppConfig::for_user()?;
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("lookalike")
        .with_app_id("lookalike")
        .with_inner_size([1280.0, 820.0])
        .with_min_inner_size([640.0, 400.0])
        .with_drag_and_drop(true);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(ICON_PNG) {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    eframe::run_native(
        "lookalike",
        options,
        Box::new(move |cc| {
            let app = LookalikeApp::new(cc, config)?;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
    .context(
        "running the window (is a display available? the CLI works without one: lookalike --help)",
    )
}
