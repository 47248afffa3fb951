//! How long HiRL's seating rules held each domain: the time callees first kept its scale-ups back for a callee, and
//! the time survival first staged it. Counted at every tick whether or not decision records are kept, so a headless
//! run can say which rule its "held back" breach minutes came from (see [`crate::policy::held_back`]; `run` prints
//! it as its "seating:" line).
//!
//! Contract: integer seconds of simulated time, a tick counted when the rule stands at its end; domains in scenario
//! order.

/// One rule's time over a run: how long it stood, and how many times it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleTime {
    pub secs: u64,
    pub starts: u32,
}

impl RuleTime {
    fn tick(&mut self, tick_secs: u64, was: bool, now: bool) {
        if now {
            self.secs += tick_secs;
            self.starts += u32::from(!was);
        }
    }
}

/// One domain's time under each seating rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeatingTime {
    /// Its scale-ups held back while an inline callee's pods waited for room.
    pub callees_first: RuleTime,
    /// Its apps staged to survival sizes while its pods waited for room.
    pub survival_first: RuleTime,
    held: bool,
    staged: bool,
}

impl SeatingTime {
    /// Counts a tick of `tick_secs` with the rules as they stand at its end.
    pub fn tick(&mut self, tick_secs: u64, held_for_callee: bool, staged: bool) {
        self.callees_first.tick(tick_secs, self.held, held_for_callee);
        self.survival_first.tick(tick_secs, self.staged, staged);
        self.held = held_for_callee;
        self.staged = staged;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_counts_its_ticks_and_its_starts() {
        let mut t = SeatingTime::default();
        for (held, staged) in [(false, true), (true, true), (true, false), (false, false), (true, false)] {
            t.tick(5, held, staged);
        }
        assert_eq!(t.callees_first, RuleTime { secs: 15, starts: 2 });
        assert_eq!(t.survival_first, RuleTime { secs: 10, starts: 1 });
    }
}
