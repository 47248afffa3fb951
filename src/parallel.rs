//! Independent simulation runs spread over a few threads, their results returned in job order.
//!
//! Determinism: each job is a pure function of its input (a run builds its own simulation and policy from the
//! scenario and seed), and results are placed by job index, never by finishing order, so the output — and any sum
//! taken over it in order — is the same for every thread count. A panic in a job propagates to the caller.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads for headless suites of full-scale runs: every core (the runs are CPU-bound and small: a full-scale day
/// peaks at a few MiB). At least one.
pub fn suite_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// `job(item)` for every item, on up to `threads` threads taking items in turn; the results in item order.
pub fn map_in_order<T: Sync, R: Send>(items: &[T], threads: usize, job: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(job).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = job(item);
                    // A poisoned lock means another job panicked; the scope re-raises that panic when it ends.
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(result);
                    }
                }
            });
        }
    });
    // Every slot is filled once the scope has ended without a panic.
    slots.into_inner().unwrap_or_default().into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_item_order_whatever_the_thread_count() {
        let items: Vec<u64> = (0..37).collect();
        // Uneven work, so later items often finish before earlier ones.
        let job = |&x: &u64| {
            let spins = (37 - x) * 2_000;
            (0..spins).fold(x, |acc, k| acc.wrapping_mul(6364136223846793005).wrapping_add(k)) % 1_000 + x * 1_000
        };
        let one = map_in_order(&items, 1, job);
        for threads in [2, 3, 8, 64] {
            assert_eq!(map_in_order(&items, threads, job), one, "{threads} threads");
        }
        assert!(one.iter().enumerate().all(|(i, r)| r / 1_000 == i as u64));
    }

    #[test]
    fn no_items_no_results() {
        assert!(map_in_order(&[] as &[u8], 4, |&x| x).is_empty());
    }
}
