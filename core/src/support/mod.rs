//! What every stage leans on: the error type, the only code that writes files
//! (`safefs`), one photo's work isolated from the others (`isolate`), how long work is
//! watched (`control`: stop flag and typed progress), and the guard that keeps decoding
//! off the UI thread.

pub mod control;
pub mod error;
pub mod guard;
pub mod isolate;
pub mod safefs;
