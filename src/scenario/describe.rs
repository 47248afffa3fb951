//! Events in words: what [`EventSpec::label`] leaves out, for the window's timeline and the CLI.
//!
//! The label ("flash sale payment ×2") is the simulator's, and recordings digest it, so it stays short and fixed;
//! the words here add what a reader asks next: whether a sale was announced and for when (and whether it came early
//! or late), how long the event lasts, and when an injected event was injected. Pure functions of the scenario's
//! clock; times to the minute for a calendar, to the second for an injection (as every timeline row).

use super::clock::{clock_label, clock_label_secs};
use super::{EventSpec, Scenario};

/// "5 s", "2 min 30 s", "1 h 05 min".
pub fn short_duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 if secs.is_multiple_of(60) => format!("{} min", secs / 60),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {:02} min", secs / 3600, (secs % 3600) / 60),
    }
}

/// How fast a surge reaches its multiple (the label gives the multiple): "ramps up in 2 min".
fn ramp(ramp_secs: u64) -> String {
    if ramp_secs == 0 { "all at once".to_string() } else { format!("ramps up in {}", short_duration(ramp_secs)) }
}

fn lasts(duration_secs: u64) -> String {
    format!("lasts {}", short_duration(duration_secs))
}

/// What the label leaves out, each part after "; " — "; announced for Tue 14:00 (it came 20 min early); ramps up
/// in 1 min; lasts 30 min; injected at Tue 13:10:00". An injection made at (or within a tick of) the event's start does not say when.
pub fn event_detail(scenario: &Scenario, event: &EventSpec, injected_at_secs: Option<u64>) -> String {
    let clock = |t: u64| clock_label(scenario, t);
    let mut parts = Vec::new();
    match event {
        EventSpec::FlashSale {
            announced_start_secs, announced_at_secs, start_secs, duration_secs, ramp_secs, ..
        } => {
            parts.push(match *announced_start_secs {
                None => "unannounced".to_string(),
                Some(a) if a == *start_secs => format!("announced for {} (on time)", clock(a)),
                Some(a) if a > *start_secs => {
                    format!("announced for {} (it came {} early)", clock(a), short_duration(a - start_secs))
                }
                Some(a) => format!("announced for {} (it came {} late)", clock(a), short_duration(start_secs - a)),
            });
            if let (Some(_), Some(at)) = (announced_start_secs, announced_at_secs) {
                parts.push(format!("on the calendar from {}", clock_label_secs(scenario, *at)));
            }
            parts.push(ramp(*ramp_secs));
            parts.push(lasts(*duration_secs));
        }
        EventSpec::Spike { duration_secs, ramp_secs, .. } => {
            parts.push(ramp(*ramp_secs));
            parts.push(lasts(*duration_secs));
        }
        EventSpec::BatchJob { duration_secs, .. } | EventSpec::ProvisionerSlowdown { duration_secs, .. } => {
            parts.push(lasts(*duration_secs));
        }
        EventSpec::NodePoolLoss { .. } => {}
    }
    if let Some(at) = injected_at_secs.filter(|&at| at + super::TICK_SECS < event.start_secs()) {
        parts.push(format!("injected at {}", clock_label_secs(scenario, at)));
    }
    parts.iter().map(|p| format!("; {p}")).collect()
}

/// The scenario's scripted events in start order, one line each after `indent`: "  Tue 12:40  flash sale payment
/// ×2; announced for Tue 13:00 (it came 20 min early); ramps up in 45 s; lasts 1 h 30 min". Empty for a scenario without events.
pub fn event_lines(scenario: &Scenario, indent: &str) -> String {
    let mut events: Vec<&EventSpec> = scenario.events.iter().collect();
    // Stable: events starting together keep the file's order.
    events.sort_by_key(|e| e.start_secs());
    events
        .iter()
        .map(|e| {
            let when = clock_label(scenario, e.start_secs());
            format!("{indent}{when}  {}{}\n", e.label(), event_detail(scenario, e, None))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> Scenario {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.ron"));
        crate::scenario::load_file(&path).expect("shipped scenario")
    }

    #[test]
    fn short_durations_read_as_a_person_says_them() {
        assert_eq!(
            [59, 60, 150, 3600, 3900].map(short_duration),
            ["59 s", "1 min", "2 min 30 s", "1 h 00 min", "1 h 05 min"]
        );
    }

    #[test]
    fn an_early_sale_says_for_when_it_was_announced_and_how_early_it_came() {
        let s = shipped("flash-sale-early");
        let lines = event_lines(&s, "  ");
        assert_eq!(lines.lines().count(), s.events.len());
        assert!(lines.starts_with("  Tue 12:40  flash sale payment ×"), "{lines}");
        assert!(lines.contains("announced for Tue 13:00 (it came 20 min early)"), "{lines}");
    }

    #[test]
    fn sales_on_time_late_and_unannounced_say_so() {
        let s = shipped("flash-sale-early");
        let sale = |announced: Option<u64>| EventSpec::FlashSale {
            domain: "payment".into(),
            start_secs: 3600,
            duration_secs: 1800,
            multiplier: 2.0,
            ramp_secs: 60,
            announced_start_secs: announced,
            announced_at_secs: None,
        };
        assert_eq!(
            event_detail(&s, &sale(Some(3600)), None),
            "; announced for Tue 12:00 (on time); ramps up in 1 min; lasts 30 min"
        );
        assert_eq!(
            event_detail(&s, &sale(Some(3000)), None),
            "; announced for Tue 11:50 (it came 10 min late); ramps up in 1 min; lasts 30 min"
        );
        assert_eq!(
            event_detail(&s, &sale(None), Some(600)),
            "; unannounced; ramps up in 1 min; lasts 30 min; injected at Tue 11:10:00"
        );
        // Injected on the tick it starts: nothing to add.
        assert_eq!(event_detail(&s, &sale(None), Some(3600)), "; unannounced; ramps up in 1 min; lasts 30 min");
        // Scripted from an injection: when it went on the calendar.
        let mut exported = sale(Some(3600));
        if let EventSpec::FlashSale { announced_at_secs, .. } = &mut exported {
            *announced_at_secs = Some(600);
        }
        assert_eq!(
            event_detail(&s, &exported, None),
            "; announced for Tue 12:00 (on time); on the calendar from Tue 11:10:00; ramps up in 1 min; lasts 30 min"
        );
    }
}
