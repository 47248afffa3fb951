//! What-if variants of a scenario: the same cluster, traffic and events with one real-world limit lifted, so a run
//! can measure how much of a policy's breach that limit causes ("would a faster provisioner have saved us?").
//!
//! Contract:
//! - A what-if is a pure edit of the scenario's plain data; the simulator needs no special case for it.
//! - Applying one appends `+name` to the scenario's name, so scorecards and tables never pass a what-if run off as a
//!   run of the shipped scenario. Applying the same what-if twice changes nothing more. Applying one lifts its limit
//!   whatever the name says, and a scenario whose name says a limit is lifted while its values keep it is refused by
//!   the validator ([`WhatIf::unlifted_values`]), so the name and the values never disagree.
//! - Nothing that shapes traffic, pools or events is touched: node boot times and pod cold starts stay as written.
//! - [`lifted`] reads back from the name which limits a scenario has lifted; [`Limits`] keeps what a scenario had
//!   before a lift, so the window can put the limits back (a what-if scenario alone does not say what they were).
//!   Recordings and exported what-if scenarios ([`Scenario::unlifted`]) store them; [`Limits::problems_with`] checks
//!   stored limits against the lifted scenario they belong to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{ProvisionerSpec, Scenario, TelemetrySpec};

/// Calls per minute and concurrent boots that no scenario at this scale reaches: a provisioner without limits.
const UNBOUNDED: u32 = 1_000_000;

/// One limit to lift.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhatIf {
    /// Every telemetry signal arrives at once (pod counts, CPU, latency, request rate: 0 s lag).
    NoTelemetryLag,
    /// The cloud API and boot concurrency never limit the provisioner and queued nodes add no boot latency; each node
    /// still takes its drawn boot time.
    UnboundedProvisioner,
}

impl WhatIf {
    pub const ALL: [WhatIf; 2] = [WhatIf::NoTelemetryLag, WhatIf::UnboundedProvisioner];

    pub fn name(self) -> &'static str {
        match self {
            WhatIf::NoTelemetryLag => "no-telemetry-lag",
            WhatIf::UnboundedProvisioner => "unbounded-provisioner",
        }
    }

    /// The scenario with this limit lifted. The limit is lifted whatever the name says (the validator refuses a name
    /// that says a limit is lifted when the values do not show it, [`WhatIf::unlifted_values`]); `+name` is appended
    /// once.
    pub fn apply(self, s: &mut Scenario) {
        match self {
            WhatIf::NoTelemetryLag => {
                let t = &mut s.telemetry;
                t.pods_lag_secs = 0;
                t.cpu_lag_secs = 0;
                t.latency_lag_secs = 0;
                t.rps_lag_secs = 0;
            }
            WhatIf::UnboundedProvisioner => {
                let p = &mut s.provisioner;
                p.api_calls_per_min = UNBOUNDED;
                p.max_concurrent_nodes = UNBOUNDED;
                p.backlog_latency_ms_per_node = 0;
            }
        }
        if !lifted_in_name(&s.name).contains(&self) {
            s.name.push_str(&format!("+{}", self.name()));
        }
    }

    /// The fields of `s` that do not hold what lifting this limit puts there, as (field path, value, lifted value);
    /// empty when `s` has it lifted. A scenario whose name says a limit is lifted must have none (the validator
    /// refuses it), or the name, the scorecard and the window's what-if menu would say a limit is lifted that the run
    /// has in place.
    pub fn unlifted_values(self, s: &Scenario) -> Vec<(&'static str, u32, u32)> {
        let fields = match self {
            WhatIf::NoTelemetryLag => {
                let t = &s.telemetry;
                vec![
                    ("telemetry.pods_lag_secs", t.pods_lag_secs, 0),
                    ("telemetry.cpu_lag_secs", t.cpu_lag_secs, 0),
                    ("telemetry.latency_lag_secs", t.latency_lag_secs, 0),
                    ("telemetry.rps_lag_secs", t.rps_lag_secs, 0),
                ]
            }
            WhatIf::UnboundedProvisioner => {
                let p = &s.provisioner;
                vec![
                    ("provisioner.api_calls_per_min", p.api_calls_per_min, UNBOUNDED),
                    ("provisioner.max_concurrent_nodes", p.max_concurrent_nodes, UNBOUNDED),
                    ("provisioner.backlog_latency_ms_per_node", p.backlog_latency_ms_per_node, 0),
                ]
            }
        };
        fields.into_iter().filter(|&(_, now, lifted)| now != lifted).collect()
    }
}

/// The limits lifted in `s`, in [`WhatIf::ALL`]'s order, as its name says (`fraud-cascade+unbounded-provisioner`).
pub fn lifted(s: &Scenario) -> Vec<WhatIf> {
    lifted_in_name(&s.name)
}

/// [`lifted`] from a scenario's name alone (a scorecard keeps only the name).
pub fn lifted_in_name(name: &str) -> Vec<WhatIf> {
    let parts: Vec<&str> = name.split('+').skip(1).collect();
    WhatIf::ALL.into_iter().filter(|w| parts.contains(&w.name())).collect()
}

/// What a what-if changes in a scenario, as it was before: put back with [`Limits::restore`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    name: String,
    telemetry: TelemetrySpec,
    provisioner: ProvisionerSpec,
}

impl Limits {
    pub fn of(s: &Scenario) -> Self {
        Self { name: s.name.clone(), telemetry: s.telemetry.clone(), provisioner: s.provisioner.clone() }
    }

    /// `s` with these limits (and the name that went with them) back; everything else, events included, as it is.
    pub fn restore(&self, s: &mut Scenario) {
        s.name.clone_from(&self.name);
        s.telemetry = self.telemetry.clone();
        s.provisioner = self.provisioner.clone();
    }

    /// Why these limits do not belong to `lifted_scenario`, as (field path under the limits, message); empty when
    /// [`Limits::restore`] on it gives back a valid scenario that differs from it only in what its name says was
    /// lifted. Limits read from a file are checked with this before anything is put back.
    pub fn problems_with(&self, lifted_scenario: &Scenario) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let now = lifted(lifted_scenario);
        if now.is_empty() {
            out.push((
                String::new(),
                format!("the scenario \"{}\" has no limit lifted, so there are none to put back", lifted_scenario.name),
            ));
            return out;
        }
        if !lifted_in_name(&self.name).is_empty() || !lifted_scenario.name.starts_with(&format!("{}+", self.name)) {
            out.push((
                "name".into(),
                format!(
                    "\"{}\" is not the name of the scenario \"{}\" before its lifts",
                    self.name, lifted_scenario.name
                ),
            ));
        }
        // A limit the scenario did not lift must come back as it is, or "putting back" would change something else.
        if !now.contains(&WhatIf::NoTelemetryLag) && self.telemetry != lifted_scenario.telemetry {
            out.push(("telemetry".into(), "differs from the scenario's, whose telemetry lag was not lifted".into()));
        }
        if !now.contains(&WhatIf::UnboundedProvisioner) && self.provisioner != lifted_scenario.provisioner {
            out.push(("provisioner".into(), "differs from the scenario's, whose provisioner was not lifted".into()));
        }
        let mut restored = lifted_scenario.clone();
        self.restore(&mut restored);
        // The limits put back are checked here, not limits the scenario may carry (that would check these again).
        restored.unlifted = None;
        for p in super::validate(&restored) {
            if ["name", "telemetry", "provisioner"].iter().any(|f| p.path.starts_with(f)) {
                out.push((p.path, p.message));
            }
        }
        out
    }
}

impl fmt::Display for WhatIf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for WhatIf {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        WhatIf::ALL.into_iter().find(|w| w.name() == text).ok_or_else(|| {
            let known: Vec<&str> = WhatIf::ALL.iter().map(|w| w.name()).collect();
            format!("unknown what-if \"{text}\" (known: {})", known.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> Scenario {
        let path = format!("{}/scenarios/{name}.ron", env!("CARGO_MANIFEST_DIR"));
        crate::scenario::load_file(std::path::Path::new(&path)).expect("shipped scenario loads")
    }

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for w in WhatIf::ALL {
            assert_eq!(w.name().parse::<WhatIf>(), Ok(w));
        }
        let err = "faster-nodes".parse::<WhatIf>().unwrap_err();
        assert!(err.contains("no-telemetry-lag") && err.contains("unbounded-provisioner"), "{err}");
    }

    #[test]
    fn a_what_if_lifts_only_its_limit_renames_the_scenario_and_still_validates() {
        let original = shipped("small");
        for w in WhatIf::ALL {
            let mut s = original.clone();
            w.apply(&mut s);
            assert_eq!(s.name, format!("{}+{}", original.name, w.name()));
            assert!(crate::scenario::validate(&s).is_empty(), "{w}: {:?}", crate::scenario::validate(&s));
            assert_eq!((&s.domains, &s.pools, &s.events), (&original.domains, &original.pools, &original.events));
            assert_eq!(s.provisioner.node_boot_secs, original.provisioner.node_boot_secs, "boot times stay");
            let once = s.clone();
            w.apply(&mut s);
            assert_eq!(s, once, "{w} applied twice");
        }
        let mut s = original.clone();
        WhatIf::NoTelemetryLag.apply(&mut s);
        assert_eq!(s.provisioner, original.provisioner);
        assert_eq!(s.telemetry.latency_lag_secs, 0);
        let mut s = original.clone();
        WhatIf::UnboundedProvisioner.apply(&mut s);
        assert_eq!(s.telemetry, original.telemetry);
        assert_eq!(s.provisioner.backlog_latency_ms_per_node, 0);
    }

    #[test]
    fn the_name_says_what_is_lifted_and_the_kept_limits_put_the_scenario_back() {
        let original = shipped("small");
        assert!(lifted(&original).is_empty());
        let kept = Limits::of(&original);
        let mut s = original.clone();
        WhatIf::UnboundedProvisioner.apply(&mut s);
        WhatIf::NoTelemetryLag.apply(&mut s);
        assert_eq!(lifted(&s), WhatIf::ALL, "both, in ALL's order whatever the order applied");
        s.events.clear(); // what the lift did not touch stays as it is now
        kept.restore(&mut s);
        assert!(lifted(&s).is_empty());
        assert_eq!(
            (&s.name, &s.telemetry, &s.provisioner),
            (&original.name, &original.telemetry, &original.provisioner)
        );
        assert!(s.events.is_empty());
    }

    #[test]
    fn stored_limits_are_checked_against_the_lifted_scenario_they_would_put_back() {
        let original = shipped("small");
        let kept = Limits::of(&original);
        let mut lifted_lag = original.clone();
        WhatIf::NoTelemetryLag.apply(&mut lifted_lag);
        assert!(kept.problems_with(&lifted_lag).is_empty(), "{:?}", kept.problems_with(&lifted_lag));
        let text = ron::to_string(&kept).expect("serialises");
        assert_eq!(ron::from_str::<Limits>(&text).expect("parses"), kept, "round trip");

        let paths = |limits: &Limits, s: &Scenario| -> Vec<String> {
            limits.problems_with(s).into_iter().map(|(path, _)| path).collect()
        };
        assert_eq!(paths(&kept, &original), [""], "nothing lifted, nothing to put back");
        // The provisioner was not lifted, so limits that would change it are refused, as is another scenario's name.
        let mut tampered = kept.clone();
        tampered.provisioner.max_concurrent_nodes += 1;
        tampered.name = "other".into();
        assert_eq!(paths(&tampered, &lifted_lag), ["name", "provisioner"]);
        // A lifted limit may differ, but what it puts back must validate.
        let mut broken = kept.clone();
        broken.provisioner.api_calls_per_min = 0;
        let mut lifted_both = lifted_lag.clone();
        WhatIf::UnboundedProvisioner.apply(&mut lifted_both);
        assert!(paths(&kept, &lifted_both).is_empty());
        assert_eq!(paths(&broken, &lifted_both), ["provisioner.api_calls_per_min"]);
    }

    #[test]
    fn a_scenario_file_keeps_its_limits_to_put_back_and_wrong_ones_are_refused_in_place() {
        let original = shipped("small");
        let mut exported = original.clone();
        WhatIf::UnboundedProvisioner.apply(&mut exported);
        exported.unlifted = Some(Limits::of(&original));
        let text = crate::scenario::to_ron_string(&exported).expect("serialises");
        assert_eq!(crate::scenario::load_str(&text, "exported.ron").expect("loads"), exported, "round trip");
        assert!(
            !crate::scenario::to_ron_string(&original).expect("serialises").contains("unlifted"),
            "absent: unwritten"
        );

        // Limits that would change what was not lifted, and limits on a scenario with nothing lifted, are refused
        // with the place named.
        let mut tampered = exported.clone();
        if let Some(limits) = &mut tampered.unlifted {
            limits.telemetry.cpu_lag_secs += 5;
        }
        let text = crate::scenario::to_ron_string(&tampered).expect("serialises");
        let err = crate::scenario::load_str(&text, "exported.ron").expect_err("refused").to_string();
        assert!(err.contains("unlifted.telemetry: differs from the scenario's"), "{err}");
        // The line of the carried limits' telemetry, the first `telemetry:` after `unlifted:`.
        let lines: Vec<&str> = text.lines().collect();
        let unlifted_at = lines.iter().position(|l| l.contains("unlifted:")).expect("written");
        let telemetry_at = (unlifted_at..lines.len()).find(|&i| lines[i].contains("telemetry:")).expect("written");
        assert!(err.contains(&format!("exported.ron:{}:", telemetry_at + 1)), "located at the field: {err}");
        let unlifted_but_carrying = Scenario { unlifted: Some(Limits::of(&original)), ..original.clone() };
        let text = crate::scenario::to_ron_string(&unlifted_but_carrying).expect("serialises");
        let err = crate::scenario::load_str(&text, "plain.ron").expect_err("refused").to_string();
        assert!(err.contains("has no limit lifted, so there are none to put back"), "{err}");
    }
}
