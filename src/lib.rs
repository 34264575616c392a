//! lookalike: search a photo library by example. The two faces over
//! [`lookalike_core`], the engine: the command line ([`cli`]) and the desktop app
//! (`gui`, with the `gui` feature).

pub mod cli;

#[cfg(feature = "gui")]
pub mod gui;
