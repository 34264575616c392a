//! What several benchmarks share (each includes this file as a module).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The median over photos of the best of `runs` runs of `work` on each.
pub fn median<T>(photos: &[PathBuf], runs: usize, work: impl Fn(&Path) -> T) -> Duration {
    let mut times: Vec<Duration> = photos
        .iter()
        .map(|p| {
            (0..runs)
                .map(|_| {
                    let started = Instant::now();
                    std::hint::black_box(work(p));
                    started.elapsed()
                })
                .min()
                .unwrap_or_default()
        })
        .collect();
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
