//! How long HiRL's seating rules held each domain: the time callees first kept its scale-ups back for a callee, and
//! the time survival first staged it. Counted at every tick whether or not decision records are kept, so a headless
//! run can say which rule its "held back" breach minutes came from (see [`crate::policy::held_back`]).
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

/// "seating: callees first held back payment 7.0 min (once); survival first staged payment 21.3 min (2 times), …":
/// per rule, the domains it held and for how long (`domain_ids` in scenario order, as `times`).
pub fn seating_line(domain_ids: &[&str], times: &[SeatingTime]) -> String {
    let rule = |pick: fn(&SeatingTime) -> RuleTime| -> String {
        let each: Vec<String> = domain_ids
            .iter()
            .zip(times)
            .map(|(id, t)| (id, pick(t)))
            .filter(|(_, r)| r.starts > 0)
            .map(|(id, r)| {
                let starts = if r.starts == 1 { "once".to_string() } else { format!("{} times", r.starts) };
                format!("{id} {:.1} min ({starts})", r.secs as f64 / 60.0)
            })
            .collect();
        if each.is_empty() { "no domain".to_string() } else { each.join(", ") }
    };
    format!(
        "seating: callees first held back {}; survival first staged {}",
        rule(|t| t.callees_first),
        rule(|t| t.survival_first)
    )
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

    #[test]
    fn the_line_names_each_domain_a_rule_held() {
        let mut payment = SeatingTime::default();
        for _ in 0..84 {
            payment.tick(5, true, false);
        }
        let line = seating_line(&["payment", "fraud"], &[payment, SeatingTime::default()]);
        assert_eq!(line, "seating: callees first held back payment 7.0 min (once); survival first staged no domain");
    }
}
