//! Pieces the panels and windows are drawn with.
//!
//! | module | role |
//! |---|---|
//! | [`crop`] | the crop-box editor over the query photo |
//! | [`format`] | sizes, durations, dates, file names and fitted sizes as the app shows them |

pub mod crop;
pub mod format;
