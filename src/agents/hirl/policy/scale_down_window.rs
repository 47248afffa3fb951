//! The Soldiers' scale-down window: per app, the targets of the last `window` Soldier ticks and the highest of them.
//! A scale-down goes only as low as that highest target, as HPA's stabilisation window does.
//!
//! Contract: [`ScaleDownWindow::record`] returns the maximum of the app's ring after the write (every entry starts
//! at zero). It is O(1) except when the highest entry is overwritten by a lower target, which rescans that app's
//! ring; the Soldiers record every app at every tick, and scanning every ring took 4% of a simulated HiRL day.

/// Per app, a ring of the last `window` targets and its highest entry.
#[derive(Clone, Debug)]
pub struct ScaleDownWindow {
    window: usize,
    /// App `i`'s ring is `targets[i * window..(i + 1) * window]`.
    targets: Vec<u32>,
    /// Per app: the highest entry of its ring.
    highest: Vec<u32>,
}

impl ScaleDownWindow {
    /// `window` Soldier ticks per app (at least one).
    pub fn new(n_apps: usize, window: usize) -> Self {
        let window = window.max(1);
        Self { window, targets: vec![0; n_apps * window], highest: vec![0; n_apps] }
    }

    /// Records `target` as app `app`'s target at Soldier tick `tick` (its slot is `tick` modulo the window, so it
    /// replaces the target of `window` ticks ago) and returns the highest target of the window.
    pub fn record(&mut self, app: usize, tick: u64, target: u32) -> u32 {
        let ring = &mut self.targets[app * self.window..(app + 1) * self.window];
        let overwritten = std::mem::replace(&mut ring[(tick % self.window as u64) as usize], target);
        let highest = &mut self.highest[app];
        if target >= *highest {
            *highest = target;
        } else if overwritten == *highest {
            *highest = ring.iter().copied().max().unwrap_or(target);
        }
        *highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::SimRng;

    #[test]
    fn the_highest_is_the_maximum_of_the_last_window_targets() {
        let mut rng = SimRng::new(3, 0);
        for window in [1, 2, 5, 30] {
            let mut w = ScaleDownWindow::new(3, window);
            let mut history: Vec<Vec<u32>> = vec![Vec::new(); 3];
            for tick in 0..400u64 {
                for (app, seen) in history.iter_mut().enumerate() {
                    // Rising, falling and flat stretches, with repeats, so the highest entry is often overwritten.
                    let phase = (tick / 40) % 3;
                    let base = match phase {
                        0 => tick as u32,
                        1 => 400 - tick as u32,
                        _ => 100,
                    };
                    let target = base + (rng.uniform() * 4.0) as u32 + app as u32;
                    seen.push(target);
                    let expected = seen.iter().rev().take(window).copied().max().unwrap_or(0);
                    // Before the ring is full, its unwritten entries are zero, which never exceeds a target.
                    assert_eq!(w.record(app, tick, target), expected, "window {window}, app {app}, tick {tick}");
                }
            }
        }
    }
}
