//! Keeps heavy work off threads that must stay responsive.
//!
//! The GUI marks its thread with [`forbid_heavy_work_here`]; the two expensive steps of
//! the pipeline (decoding a full image and running the network) call
//! [`note_heavy_work`], which counts and reports any call from a marked thread. Tests
//! drive the app and then assert that [`violations`] is still zero.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

thread_local! {
    static LIGHT_ONLY: Cell<bool> = const { Cell::new(false) };
}

static VIOLATIONS: AtomicUsize = AtomicUsize::new(0);

/// From now on, heavy work on the calling thread counts as a violation.
pub fn forbid_heavy_work_here() {
    LIGHT_ONLY.with(|flag| flag.set(true));
}

/// Called at the start of every heavy step; `what` names it in the report.
pub fn note_heavy_work(what: &str) {
    if LIGHT_ONLY.with(Cell::get) {
        VIOLATIONS.fetch_add(1, Ordering::Relaxed);
        eprintln!("lookalike: {what} ran on the UI thread");
    }
}

/// How many heavy steps ran on a marked thread since the process started.
pub fn violations() -> usize {
    VIOLATIONS.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_marked_threads_count() {
        let before = violations();
        note_heavy_work("test work on an unmarked thread");
        assert_eq!(violations(), before);
        std::thread::spawn(|| {
            forbid_heavy_work_here();
            note_heavy_work("test work on a marked thread");
        })
        .join()
        .expect("thread");
        assert_eq!(violations(), before + 1);
    }
}
