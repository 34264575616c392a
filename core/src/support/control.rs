//! How long work is watched: one value for czkawka's `search(stop_flag, progress_sender)`
//! contract. Every long job of the core (indexing, the variants and thumbnails passes,
//! the duplicate search, a clean-up) takes a [`Control`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;

/// A stop flag the caller may raise at any time (the work ends at its next check,
/// cleanly), and typed progress offered without ever waiting for the receiver: a slow
/// reader loses updates, never slows the work.
pub struct Control<'a, P> {
    stop: &'a AtomicBool,
    progress: Option<&'a SyncSender<P>>,
}

// Not derived: `P` need not be `Clone` for a pair of references to be.
impl<P> Clone for Control<'_, P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P> Copy for Control<'_, P> {}

impl<P> std::fmt::Debug for Control<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("stopped", &self.stopped())
            .field("reported", &self.progress.is_some())
            .finish()
    }
}

impl<'a, P> Control<'a, P> {
    /// Watched: stopped by `stop`, progress to `progress`.
    pub fn new(stop: &'a AtomicBool, progress: &'a SyncSender<P>) -> Self {
        Self {
            stop,
            progress: Some(progress),
        }
    }

    /// Stopped by `stop`; progress goes nowhere.
    pub fn stop_only(stop: &'a AtomicBool) -> Self {
        Self {
            stop,
            progress: None,
        }
    }

    /// Watched by nobody: never stopped, progress goes nowhere.
    pub fn unattended() -> Self {
        static NEVER: AtomicBool = AtomicBool::new(false);
        Self::stop_only(&NEVER)
    }

    /// Whether a stop was asked for.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The stop flag itself, for work that hands it on (see
    /// [`crate::support::isolate::abandonable`]).
    pub fn stop_flag(&self) -> &'a AtomicBool {
        self.stop
    }

    /// Offers `progress` to the receiver, if any, without waiting.
    pub fn report(&self, progress: P) {
        if let Some(sender) = self.progress {
            let _ = sender.try_send(progress);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_offered_never_waited_for_and_a_stop_is_seen() {
        let stop = AtomicBool::new(false);
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let control = Control::new(&stop, &sender);
        control.report(1);
        // The channel is full: the second update is dropped, the work goes on.
        control.report(2);
        assert_eq!(receiver.try_iter().collect::<Vec<_>>(), [1]);
        assert!(!control.stopped());
        stop.store(true, Ordering::Relaxed);
        assert!(control.stopped());
        Control::<u8>::unattended().report(3);
        assert!(!Control::<u8>::unattended().stopped());
    }
}
