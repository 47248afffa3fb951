//! The scenario's wall clock: simulated seconds since the start, read as weekday and time of day.
//!
//! Contract: the start is a whole hour of a week (`Scenario::start`); the clock wraps weekly; pure functions.

use super::Scenario;

/// Seconds from Monday 00:00 to the scenario's start (a whole hour): simulated time 0 on the week's clock.
pub fn start_secs_of_week(scenario: &Scenario) -> u64 {
    u64::from(scenario.start.weekday) * 86_400 + u64::from(scenario.start.hour) * 3600
}

/// "Tue 12:40" for `t_secs` after the scenario's start.
pub fn clock_label(scenario: &Scenario, t_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let t = (start_secs_of_week(scenario) + t_secs) % (7 * 86_400);
    format!("{} {:02}:{:02}", DAYS[(t / 86_400) as usize], (t % 86_400) / 3600, (t % 3600) / 60)
}

/// "Tue 12:40:05": [`clock_label`] to the second.
pub fn clock_label_secs(scenario: &Scenario, t_secs: u64) -> String {
    format!("{}:{:02}", clock_label(scenario, t_secs), t_secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_labels_follow_the_scenario_start() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/flash-sale-early.ron");
        let s = crate::scenario::load_file(&path).expect("shipped scenario");
        assert_eq!(clock_label(&s, 0), "Tue 11:00");
        assert_eq!(clock_label(&s, 6_000), "Tue 12:40");
        assert_eq!(clock_label_secs(&s, 6_005), "Tue 12:40:05");
    }
}
