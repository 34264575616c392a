//! The integration tests, one binary (as ripgrep does): a module per subject. The UI
//! tests are apart (`tests/ui/`): they own the process-wide test hooks of the app.

mod common;

mod bad_input;
mod dupes;
mod eval;
mod fuzz;
mod golden;
mod googlenet;
mod heif;
mod image_formats;
mod index;
mod keepers;
mod model_file;
mod no_permanent_delete;
mod raw_formats;
mod raw_sensor;
mod safety;
mod search;
mod whiten;
