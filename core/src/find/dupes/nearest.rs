//! Each photo's nearest photos, kept as they are offered: a bounded number of them, so
//! that the candidates of a duplicate search grow with the library, not with its square.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::GroupingError;
use crate::index::{Control, Progress};

/// How many nearest photos each photo keeps: its candidates are those of them under
/// the threshold, and the verification reads them as its neighbourhood. On neardup-dev's
/// held-out half every true copy under the loosest threshold is among either photo's 8
/// nearest: this leaves room for a photo with many copies and a crowded library.
pub const NEIGHBOURS: usize = 64;

/// A photo's [`NEIGHBOURS`] nearest other photos, nearest first: `(distance, row)`,
/// padded with `(infinity, u32::MAX)` in a library smaller than that.
pub(crate) type Nearest = [(f32, u32); NEIGHBOURS];

/// Every photo's [`Nearest`], lined up with the rows.
pub(crate) type Neighbourhood = Vec<Nearest>;

/// The [`NEIGHBOURS`] nearest of the rows offered: a max-heap on the farthest kept, so
/// that a row farther than it costs one comparison. Ties go to the lower row, so that
/// the result is the same whatever the order of offers.
pub(crate) struct Keeper {
    heap: Nearest,
    len: usize,
}

impl Default for Keeper {
    fn default() -> Self {
        Self {
            heap: [(f32::INFINITY, u32::MAX); NEIGHBOURS],
            len: 0,
        }
    }
}

/// Whether `x` is nearer than `y` (ties by row).
fn nearer(x: (f32, u32), y: (f32, u32)) -> bool {
    x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).is_lt()
}

impl Keeper {
    pub(crate) fn offer(&mut self, distance: f32, row: usize) {
        let item = (distance, row as u32);
        if self.len < NEIGHBOURS {
            // Up the heap from the end.
            let mut i = self.len;
            self.len += 1;
            while i > 0 && nearer(self.heap[(i - 1) / 2], item) {
                self.heap[i] = self.heap[(i - 1) / 2];
                i = (i - 1) / 2;
            }
            self.heap[i] = item;
        } else if nearer(item, self.heap[0]) {
            // Down the heap from the top, which it replaces.
            let mut i = 0;
            loop {
                let mut far = i;
                for child in [2 * i + 1, 2 * i + 2] {
                    if child < NEIGHBOURS
                        && nearer(
                            if far == i { item } else { self.heap[far] },
                            self.heap[child],
                        )
                    {
                        far = child;
                    }
                }
                if far == i {
                    break;
                }
                self.heap[i] = self.heap[far];
                i = far;
            }
            self.heap[i] = item;
        }
    }

    pub(crate) fn nearest_first(self) -> Nearest {
        let mut nearest = self.heap;
        nearest[..self.len].sort_unstable_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        nearest
    }
}

/// Runs `step` for each of `steps` units of a pass on all cores, checking `control`'s
/// stop flag before each and reporting each one done (of `progress.1`, counted in
/// `progress.0` across passes); their results in order.
pub(crate) fn in_steps<T: Send>(
    steps: usize,
    control: Control<'_>,
    progress: (&AtomicUsize, usize),
    step: impl Fn(usize) -> T + Sync,
) -> Result<Vec<T>, GroupingError> {
    let (done, total) = progress;
    (0..steps)
        .into_par_iter()
        .map(|unit| {
            if control.stopped() {
                return Err(GroupingError::Stopped);
            }
            let result = step(unit);
            let done = done.fetch_add(1, Ordering::Relaxed) + 1;
            control.report(Progress::Step {
                done,
                total,
                path: std::path::PathBuf::new(),
            });
            Ok(result)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keeper_keeps_the_nearest_whatever_the_order_ties_to_the_lower_row() {
        // 500 offers, many at equal distances, in a scrambled order.
        let offers: Vec<(f32, usize)> = (0..500)
            .map(|i| (((i * 7919) % 97) as f32 / 10.0, (i * 104_729) % 1000))
            .collect();
        let mut keeper = Keeper::default();
        for &(distance, row) in &offers {
            keeper.offer(distance, row);
        }
        let mut sorted = offers.clone();
        sorted.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let expected: Vec<(f32, u32)> = sorted[..NEIGHBOURS]
            .iter()
            .map(|&(d, r)| (d, r as u32))
            .collect();
        assert_eq!(keeper.nearest_first().to_vec(), expected);
        // Fewer offers than it keeps: padded.
        let mut few = Keeper::default();
        few.offer(0.5, 3);
        few.offer(0.25, 9);
        let nearest = few.nearest_first();
        assert_eq!(
            nearest[..3],
            [(0.25, 9), (0.5, 3), (f32::INFINITY, u32::MAX)]
        );
    }
}
