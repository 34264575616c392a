//! One file cannot stop a run: a panic while reading, decoding, orienting or describing
//! one photo becomes that photo's error ([`Error::Crashed`], with its path and where it
//! crashed), and the run goes on. Panics caught here are not printed as crashes: the
//! file is reported like any other failure.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ffi::OsString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Mutex, Once, OnceLock};
use std::time::Duration;

use crate::support::error::{Error, Result};

thread_local! {
    /// How many [`per_file`] / [`catch`] calls this thread is inside.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// Where the last panic caught on this thread happened.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs one file's work; a panic in it becomes that file's [`Error::Crashed`].
pub fn per_file<T>(path: &Path, work: impl FnOnce() -> Result<T>) -> Result<T> {
    catch(work).unwrap_or_else(|reason| {
        Err(Error::Crashed {
            path: path.to_path_buf(),
            reason,
        })
    })
}

/// Runs one file's `work` (a decode: no decoder can be interrupted) on a thread of its
/// own and waits for it, unless `stop` is raised first: then it returns `None` at once,
/// leaving the thread to finish alone and its result to be dropped, so Cancel never
/// waits for a photo that takes long to decode. A panic in `work` is the file's
/// [`Error::Crashed`], as in [`per_file`].
pub fn abandonable<T: Send + 'static>(
    path: &Path,
    stop: &AtomicBool,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Option<Result<T>> {
    if stop.load(Ordering::Relaxed) {
        return None;
    }
    Pending::start(path.to_path_buf(), |_| work()).wait(stop)
}

/// One file's work started on a thread of its own ([`Pending::start`]), to be waited
/// for later ([`Pending::wait`]), as [`abandonable`] does at once: so that the next
/// photo decodes while the network describes this one.
pub struct Pending<T> {
    path: std::path::PathBuf,
    result: std::result::Result<std::sync::mpsc::Receiver<Result<T>>, Error>,
}

impl<T: Send + 'static> Pending<T> {
    /// Starts `work` on the file at `path` (given to it); a panic in it is the file's
    /// [`Error::Crashed`].
    pub fn start(
        path: std::path::PathBuf,
        work: impl FnOnce(&Path) -> Result<T> + Send + 'static,
    ) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let file = path.clone();
        let spawned = std::thread::Builder::new()
            .name("lookalike-decode".into())
            .spawn(move || {
                let _ = tx.send(per_file(&file, || work(&file)));
            });
        let result = spawned.map(|_| rx).map_err(|error| Error::io(&path, error));
        Self { path, result }
    }

    /// The work's result, or `None` as soon as `stop` is raised (the thread then
    /// finishes alone and its result is dropped).
    pub fn wait(self, stop: &AtomicBool) -> Option<Result<T>> {
        /// How often the waiting thread looks at `stop`.
        const POLL: Duration = Duration::from_millis(20);
        let rx = match self.result {
            Ok(rx) => rx,
            Err(error) => return Some(Err(error)),
        };
        loop {
            match rx.recv_timeout(POLL) {
                Ok(result) => return Some(result),
                Err(RecvTimeoutError::Timeout) if stop.load(Ordering::Relaxed) => return None,
                Err(RecvTimeoutError::Timeout) => {}
                // `per_file` returns even when the work panics: never reached.
                Err(RecvTimeoutError::Disconnected) => {
                    return Some(Err(Error::Crashed {
                        path: self.path,
                        reason: "its decoding thread ended without a result".into(),
                    }));
                }
            }
        }
    }
}

/// The files of a run, each one's work ([`Pending`]) started while the one before it is
/// waited for: the next photo decodes while this one goes through the network, or two
/// decode at once. Files are taken in `order`; `start(i)` starts the work of file `i`.
pub struct Lookahead<T, F> {
    queue: std::iter::Peekable<std::vec::IntoIter<usize>>,
    next: Option<(usize, Pending<T>)>,
    start: F,
}

impl<T: Send + 'static, F: Fn(usize) -> Pending<T>> Lookahead<T, F> {
    pub fn new(order: Vec<usize>, start: F) -> Self {
        Self {
            queue: order.into_iter().peekable(),
            next: None,
            start,
        }
    }

    /// How many files are still to be taken.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// File `i`'s work when `i` is the next file in order (started now if it was not
    /// already), after starting the file after it; `None` for any other file.
    pub fn take(&mut self, i: usize) -> Option<Pending<T>> {
        self.queue.next_if_eq(&i)?;
        let this = match self.next.take() {
            Some((j, pending)) if j == i => pending,
            _ => (self.start)(i),
        };
        self.next = self.queue.peek().map(|&j| (j, (self.start)(j)));
        Some(this)
    }
}

/// Runs `work`; a panic in it comes back as `Err` with its message and location.
pub fn catch<T>(work: impl FnOnce() -> T) -> std::result::Result<T, String> {
    install_quiet_hook();
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(work));
    DEPTH.with(|d| d.set(d.get() - 1));
    result.map_err(|payload| {
        let location = LOCATION.with(|l| l.borrow_mut().take());
        match location {
            Some(at) => format!("{} at {at}", panic_message(payload.as_ref())),
            None => panic_message(payload.as_ref()),
        }
    })
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Panics inside [`catch`] are recorded, not printed; others go to the usual hook.
fn install_quiet_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) > 0 {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                LOCATION.with(|l| *l.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

/// Test hook: reading a file or folder of this name panics, as a broken decoder would,
/// so tests can prove that one such file does not stop a run (and a crashing job does
/// not hang the app). Set from `LOOKALIKE_TEST_PANIC_ON` or [`inject_fault`].
fn fault_target() -> &'static Mutex<Option<OsString>> {
    static TARGET: OnceLock<Mutex<Option<OsString>>> = OnceLock::new();
    TARGET.get_or_init(|| Mutex::new(std::env::var_os("LOOKALIKE_TEST_PANIC_ON")))
}

/// Makes [`injected_fault`] panic for files and folders named `name` (tests only).
pub fn inject_fault(name: &str) {
    if let Ok(mut target) = fault_target().lock() {
        *target = Some(name.into());
    }
}

/// Panics if `path` is named as the test hook says (see [`inject_fault`]).
pub fn injected_fault(path: &Path) {
    let hit = fault_target().lock().is_ok_and(|target| {
        target
            .as_deref()
            .is_some_and(|n| path.file_name() == Some(n))
    });
    if hit {
        panic!("injected test fault (LOOKALIKE_TEST_PANIC_ON)");
    }
}

/// Test hook: indexing takes at least this long for each photo in a folder of this
/// name, so a test can watch the app while indexing is under way. Set by
/// [`inject_delay`] only.
fn delay_target() -> &'static Mutex<Option<(OsString, std::time::Duration)>> {
    static TARGET: OnceLock<Mutex<Option<(OsString, std::time::Duration)>>> = OnceLock::new();
    TARGET.get_or_init(|| Mutex::new(None))
}

/// Makes indexing wait `delay` before each photo in folders named `folder` (tests only).
pub fn inject_delay(folder: &str, delay: std::time::Duration) {
    if let Ok(mut target) = delay_target().lock() {
        *target = Some((folder.into(), delay));
    }
}

/// Test hook for a clean-up that a test interrupts half-way: each move waits this many
/// milliseconds (`LOOKALIKE_TEST_MOVE_DELAY_MS`; unset in normal use).
pub fn injected_move_delay() {
    static DELAY: OnceLock<Option<std::time::Duration>> = OnceLock::new();
    let delay = DELAY.get_or_init(|| {
        std::env::var("LOOKALIKE_TEST_MOVE_DELAY_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map(std::time::Duration::from_millis)
    });
    if let Some(delay) = delay {
        std::thread::sleep(*delay);
    }
}

/// Waits as the test hook says for `path` (see [`inject_delay`]).
pub fn injected_delay(path: &Path) {
    let delay = delay_target().lock().ok().and_then(|target| {
        target.as_ref().and_then(|(folder, delay)| {
            let parent = path.parent().and_then(Path::file_name);
            (parent == Some(folder.as_os_str())).then_some(*delay)
        })
    });
    if let Some(delay) = delay {
        std::thread::sleep(delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_files_error_and_the_next_call_works() {
        let path = Path::new("/photos/bad.jpg");
        let error = per_file(path, || -> Result<()> { panic!("decoder bug") }).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("/photos/bad.jpg"), "{message}");
        assert!(message.contains("decoder bug"), "{message}");
        assert!(message.contains("isolate.rs"), "{message}");
        assert_eq!(per_file(path, || Ok(3)).unwrap(), 3);
        assert_eq!(catch(|| 5), Ok(5));
    }

    #[test]
    fn lookahead_starts_the_next_file_before_this_one_is_waited_for() {
        use std::sync::{Arc, Mutex};
        let started = Arc::new(Mutex::new(Vec::new()));
        let go = AtomicBool::new(false);
        let log = Arc::clone(&started);
        let mut ahead = Lookahead::new(vec![1, 3, 4], move |i| {
            log.lock().unwrap().push(i);
            Pending::start("x.jpg".into(), move |_| Ok(10 * i))
        });
        assert_eq!(ahead.len(), 3);
        assert!(ahead.take(0).is_none(), "0 is not in the order");
        let first = ahead.take(1).unwrap();
        assert_eq!(
            *started.lock().unwrap(),
            [1, 3],
            "3 starts before 1 is waited for"
        );
        assert_eq!(first.wait(&go).unwrap().unwrap(), 10);
        assert!(ahead.take(4).is_none(), "3 comes first");
        assert_eq!(ahead.take(3).unwrap().wait(&go).unwrap().unwrap(), 30);
        assert_eq!(ahead.take(4).unwrap().wait(&go).unwrap().unwrap(), 40);
        assert_eq!(
            *started.lock().unwrap(),
            [1, 3, 4],
            "each file started once"
        );
        assert!(ahead.is_empty());
    }

    #[test]
    fn an_abandoned_decode_returns_at_once_and_a_finished_one_or_a_panic_comes_back() {
        let path = Path::new("/photos/huge.jpg");
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                std::thread::sleep(Duration::from_millis(100));
                stop.store(true, Ordering::Relaxed);
            });
            let started = std::time::Instant::now();
            let slow = abandonable(path, &stop, || {
                std::thread::sleep(Duration::from_secs(30));
                Ok(1)
            });
            assert!(slow.is_none());
            assert!(started.elapsed() < Duration::from_secs(2));
        });
        let go = AtomicBool::new(false);
        assert_eq!(abandonable(path, &go, || Ok(2)).unwrap().unwrap(), 2);
        let crashed = abandonable(path, &go, || -> Result<()> { panic!("decoder bug") });
        let message = crashed.unwrap().unwrap_err().to_string();
        assert!(message.contains("huge.jpg") && message.contains("decoder bug"));
        assert!(
            abandonable(path, &stop, || Ok(3)).is_none(),
            "stopped before"
        );
    }
}
