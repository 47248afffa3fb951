//! The Soldiers' size floor: the least a Soldier may size a domain, as a multiple of its HPA-sized need (the pods its
//! HPAs' CPU targets call for at the observed load), per priority or per domain.
//!
//! Shipped: ×0.905 (e^−0.1) for every priority, so a Soldier may run a domain up to about 10% hotter than its HPAs
//! would and no more. A higher floor holds slack ahead of unannounced spikes in the domains that matter most, and pays
//! for it in node-hours every minute of the day: `--size-floor` prices that trade on the command line, as
//! `--warm-reserve` prices capacity held as placeholders. A floor on one domain prices slack where a spike lands
//! without paying for it in every domain of the same priority (Payment alone, not Payment and Fraud).
//!
//! Text form (the `--size-floor` argument, and how scorecards name it): `1.03` (every priority), `P0=1.03,P1=1.03`
//! (the priorities not named keep the shipped floor), `payment=1.03` (a domain by its scenario id), or a mix such as
//! `P0=1.0,payment=1.03`: a domain's own floor overrides its priority's. Names that are not P0–P3 are domain ids;
//! whether the scenario has them is checked where the floor meets a scenario ([`SizeFloor::check`]), since
//! the text alone cannot know. Multipliers lie in [`MIN_MULTIPLIER`, `MAX_MULTIPLIER`]: no lower than half the
//! need, no higher than the domain level's own ceiling. [`SizeFloor::spec`] writes that form back (priorities first,
//! then domains by id, so two orderings of one floor are equal and read the same; multipliers as given, so
//! `parse(spec)` is the same floor bit for bit); serde uses it, which is how recordings store a floor.

use std::fmt;

use crate::scenario::{Priority, Scenario};

/// The shipped floor, ln of the multiplier.
pub const SHIPPED_LN: f32 = -0.1;
/// Lowest floor accepted: half the HPA-sized need.
pub const MIN_MULTIPLIER: f64 = 0.5;
/// Highest floor accepted: just under the domain level's own ceiling, e^1.2 ≈ 3.32 (see
/// [`super::decode::level_multiplier`], whose clamp needs the floor below the ceiling).
pub const MAX_MULTIPLIER: f64 = 3.3;

/// The text form of the shipped floor.
const SHIPPED: &str = "shipped";

const PRIORITIES: [Priority; 4] = [Priority::P0, Priority::P1, Priority::P2, Priority::P3];

/// Per priority rank (P0 first), the floor's multiplier as given (`None`: the shipped floor); per domain id, a
/// multiplier that overrides its priority's.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SizeFloor {
    by_rank: [Option<f64>; 4],
    /// Domain ids as given (each once), sorted by id.
    by_domain: Vec<(String, f64)>,
}

impl SizeFloor {
    /// The floor for a domain (its priority rank, 0 = P0, and its scenario id), ln of the multiplier: the domain's
    /// own if it has one, else its priority's.
    pub fn min_level_ln(&self, rank: u8, domain_id: &str) -> f32 {
        let own = self.by_domain.iter().find(|(id, _)| id == domain_id).map(|(_, m)| *m);
        match own.or_else(|| self.by_rank.get(usize::from(rank)).copied().flatten()) {
            Some(m) => m.ln() as f32,
            None => SHIPPED_LN,
        }
    }

    /// The floor for a domain, as a multiple of its HPA-sized need (for display).
    pub fn multiplier(&self, rank: u8, domain_id: &str) -> f64 {
        f64::from(self.min_level_ln(rank, domain_id)).exp()
    }

    /// Refuses a floor naming a domain the scenario does not have, naming the scenario, the domain and the
    /// scenario's domains: the floor would otherwise hold nothing where the user meant it to.
    pub fn check(&self, scenario: &Scenario) -> Result<(), String> {
        let known = || scenario.domains.iter().map(|d| d.id.as_str());
        match self.by_domain.iter().find(|(id, _)| !known().any(|k| k == id)) {
            Some((id, m)) => Err(format!(
                "size floor \"{id}={m}\": scenario \"{}\" has no domain \"{id}\" (its domains: {})",
                scenario.name,
                known().collect::<Vec<_>>().join(", ")
            )),
            None => Ok(()),
        }
    }

    /// This floor without the domains `scenario` lacks, and what was left out (`"payment=1.03"`, in id order): what a
    /// floor set for one scenario still means on another (the window opening a new scenario keeps that much).
    pub fn kept_for(&self, scenario: &Scenario) -> (SizeFloor, Vec<String>) {
        let (kept, dropped): (Vec<_>, Vec<_>) =
            self.by_domain.iter().cloned().partition(|(id, _)| scenario.domains.iter().any(|d| &d.id == id));
        let dropped = dropped.into_iter().map(|(id, m)| format!("{id}={m}")).collect();
        (SizeFloor { by_rank: self.by_rank, by_domain: kept }, dropped)
    }

    /// The text form `parse` reads back to this floor: `1.08`, `P0=1.08,P1=1.03`, `payment=1.03`, or `shipped`.
    pub fn spec(&self) -> String {
        if let Some(m) = self.uniform() {
            return m.to_string();
        }
        if self.is_shipped() {
            return SHIPPED.into();
        }
        let ranks = PRIORITIES.iter().zip(&self.by_rank).filter_map(|(p, m)| m.map(|m| format!("{p:?}={m}")));
        let domains = self.by_domain.iter().map(|(id, m)| format!("{id}={m}"));
        ranks.chain(domains).collect::<Vec<_>>().join(",")
    }

    /// The one multiplier of a floor given as a bare number (every priority alike, no domain named).
    fn uniform(&self) -> Option<f64> {
        self.by_rank[0].filter(|_| self.by_rank.iter().all(|r| *r == self.by_rank[0]) && self.by_domain.is_empty())
    }

    /// Whether this is the shipped floor.
    pub fn is_shipped(&self) -> bool {
        self.by_rank.iter().all(Option::is_none) && self.by_domain.is_empty()
    }

    /// Parses `1.03`, `P0=1.03,P1=1.0`, `payment=1.03` (see the module docs) or `shipped`; the error names the part
    /// at fault.
    pub fn parse(text: &str) -> Result<SizeFloor, String> {
        let multiplier = |part: &str, value: &str| -> Result<f64, String> {
            let m: f64 = value.trim().parse().map_err(|_| format!("\"{part}\": \"{value}\" is not a number"))?;
            if !(MIN_MULTIPLIER..=MAX_MULTIPLIER).contains(&m) {
                return Err(format!(
                    "\"{part}\": the floor must be between ×{MIN_MULTIPLIER} and ×{MAX_MULTIPLIER} of the HPA-sized need"
                ));
            }
            Ok(m)
        };
        let text = text.trim();
        if text.is_empty() {
            return Err("empty size floor: give a multiplier (1.0), priorities (P0=1.03,P1=1.03) or domains \
                        (payment=1.03)"
                .into());
        }
        if text.eq_ignore_ascii_case(SHIPPED) {
            return Ok(SizeFloor::default());
        }
        if !text.contains('=') {
            return Ok(SizeFloor { by_rank: [Some(multiplier(text, text)?); 4], by_domain: Vec::new() });
        }
        let mut floor = SizeFloor::default();
        for part in text.split(',').map(str::trim) {
            let Some((name, value)) = part.split_once('=') else {
                return Err(format!("\"{part}\": expected NAME=MULTIPLIER, e.g. P0=1.03 or payment=1.03"));
            };
            let name = name.trim();
            if name.is_empty() || name.chars().any(char::is_whitespace) {
                return Err(format!("\"{part}\": name a priority (P0–P3) or a domain id before the \"=\""));
            }
            let m = multiplier(part, value)?;
            match PRIORITIES.iter().position(|p| format!("{p:?}").eq_ignore_ascii_case(name)) {
                Some(rank) if floor.by_rank[rank].is_some() => {
                    return Err(format!("\"{part}\": {name} is given twice"));
                }
                Some(rank) => floor.by_rank[rank] = Some(m),
                None if floor.by_domain.iter().any(|(id, _)| id == name) => {
                    return Err(format!("\"{part}\": {name} is given twice"));
                }
                // `P4`, `P9`: a priority misspelt, not a domain id (the scenario's ids are words).
                None if name.len() > 1
                    && name.starts_with(['P', 'p'])
                    && name[1..].chars().all(|c| c.is_ascii_digit()) =>
                {
                    return Err(format!("\"{part}\": {name} is not a priority (P0, P1, P2 or P3)"));
                }
                None => floor.by_domain.push((name.to_string(), m)),
            }
        }
        floor.by_domain.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(floor)
    }
}

impl fmt::Display for SizeFloor {
    /// `×1.03 for P0, P1 (others ×0.905)`, `×1.030 for payment (others ×0.905)`, `×1.000 for every priority`, or
    /// `shipped (×0.905)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |ln: f32| format!("×{:.3}", f64::from(ln).exp());
        let given = |m: f64| format!("×{m:.3}");
        if self.is_shipped() {
            return write!(f, "shipped ({})", shown(SHIPPED_LN));
        }
        if let Some(m) = self.uniform() {
            return write!(f, "{} for every priority", given(m));
        }
        let mut parts: Vec<(String, Vec<String>)> = Vec::new();
        let ranks = PRIORITIES.iter().zip(&self.by_rank).filter_map(|(p, m)| m.map(|m| (format!("{p:?}"), m)));
        for (name, m) in ranks.chain(self.by_domain.iter().cloned()) {
            let value = given(m);
            match parts.iter_mut().find(|(v, _)| *v == value) {
                Some((_, names)) => names.push(name),
                None => parts.push((value, vec![name])),
            }
        }
        let named: Vec<String> = parts.iter().map(|(v, names)| format!("{v} for {}", names.join(", "))).collect();
        // A bare number with domains on top sets every priority: no "others" left at the shipped floor.
        if self.by_rank.iter().all(Option::is_some) {
            return write!(f, "{}", named.join("; "));
        }
        write!(f, "{} (others {})", named.join("; "), shown(SHIPPED_LN))
    }
}

impl TryFrom<String> for SizeFloor {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        SizeFloor::parse(&text)
    }
}

impl From<SizeFloor> for String {
    fn from(floor: SizeFloor) -> String {
        floor.spec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_multiplier_sets_every_priority_and_named_ones_leave_the_rest_shipped() {
        let all = SizeFloor::parse("1.0").expect("parses");
        assert!((0..4).all(|r| all.min_level_ln(r, "payment").abs() < 1e-7));
        assert_eq!(all.to_string(), "×1.000 for every priority");
        let some = SizeFloor::parse("P0=1.03, p1=1.03").expect("parses");
        assert!((some.min_level_ln(0, "fraud") - 1.03f32.ln()).abs() < 1e-6);
        assert!((some.min_level_ln(1, "merchant") - 1.03f32.ln()).abs() < 1e-6);
        assert_eq!(some.min_level_ln(2, "data"), SHIPPED_LN);
        assert_eq!(some.min_level_ln(3, "internal"), SHIPPED_LN);
        assert_eq!(some.to_string(), "×1.030 for P0, P1 (others ×0.905)");
        assert!(SizeFloor::default().is_shipped());
        assert_eq!(SizeFloor::default().min_level_ln(0, "payment"), SHIPPED_LN);
    }

    #[test]
    fn a_domain_s_own_floor_overrides_its_priority_s_and_leaves_the_rest_of_that_priority_alone() {
        let one = SizeFloor::parse("payment=1.03").expect("parses");
        assert!((one.min_level_ln(0, "payment") - 1.03f32.ln()).abs() < 1e-6);
        assert_eq!(one.min_level_ln(0, "fraud"), SHIPPED_LN, "Fraud shares P0 but is not named");
        assert_eq!(one.to_string(), "×1.030 for payment (others ×0.905)");
        assert!(!one.is_shipped());
        let mixed = SizeFloor::parse("P0=1.0, payment=1.03, internal=0.8").expect("parses");
        assert!((mixed.min_level_ln(0, "payment") - 1.03f32.ln()).abs() < 1e-6);
        assert!(mixed.min_level_ln(0, "fraud").abs() < 1e-7, "Fraud keeps P0's ×1.0");
        assert!((mixed.min_level_ln(3, "internal") - 0.8f32.ln()).abs() < 1e-6);
        let ids: Vec<&str> = mixed.by_domain.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["internal", "payment"], "by id");
        assert_eq!(mixed.spec(), "P0=1,internal=0.8,payment=1.03");
        assert_eq!(mixed.to_string(), "×1.000 for P0; ×0.800 for internal; ×1.030 for payment (others ×0.905)");
        let reordered = SizeFloor::parse("internal=0.8,payment=1.03,P0=1.0").expect("parses");
        assert_eq!(reordered, mixed, "the order given does not make another floor");
        let all = SizeFloor::parse("P0=1.1,P1=1.1,P2=1.1,P3=1.1,data=1.2").expect("parses");
        assert_eq!(all.to_string(), "×1.100 for P0, P1, P2, P3; ×1.200 for data", "no priority is left shipped");
    }

    #[test]
    fn a_floor_naming_a_domain_the_scenario_lacks_is_refused_naming_both() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        let s = crate::scenario::load_file(&path).expect("small.ron loads");
        assert_eq!(SizeFloor::parse("P0=1.1,fraud=1.2").expect("parses").check(&s), Ok(()));
        assert_eq!(SizeFloor::parse("P7x=1.1").map(|f| f.check(&s).is_err()), Ok(true), "not a priority: a domain");
        let err = SizeFloor::parse("fraud=1.2,paymnt=1.03").expect("parses").check(&s).expect_err("unknown");
        assert_eq!(
            err,
            "size floor \"paymnt=1.03\": scenario \"small\" has no domain \"paymnt\" (its domains: payment, fraud, \
             merchant, data, internal)"
        );
    }

    #[test]
    fn on_another_scenario_a_floor_keeps_its_priorities_and_the_domains_it_has() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        let s = crate::scenario::load_file(&path).expect("small.ron loads");
        let floor = SizeFloor::parse("P0=1.1,fraud=1.2,paymnt=1.03,gpu=2").expect("parses");
        let (kept, dropped) = floor.kept_for(&s);
        assert_eq!(kept, SizeFloor::parse("P0=1.1,fraud=1.2").expect("parses"));
        assert_eq!(dropped, ["gpu=2", "paymnt=1.03"], "in id order");
        assert_eq!(kept.check(&s), Ok(()));
        let fits = SizeFloor::parse("payment=1.03").expect("parses");
        assert_eq!(fits.kept_for(&s), (fits.clone(), Vec::<String>::new()));
    }

    #[test]
    fn the_spec_reads_back_as_the_same_floor_and_serde_goes_through_it() {
        for text in [
            "1.0",
            "1.08",
            "P0=1.08",
            "P0=1.08,P1=1.08",
            "P1=0.95,P3=0.7",
            "shipped",
            "0.123456789e1",
            "payment=1.03",
            "fraud=1.1,P0=1.0,payment=1.03",
        ] {
            let floor = SizeFloor::parse(text).expect(text);
            assert_eq!(SizeFloor::parse(&floor.spec()).as_ref(), Ok(&floor), "{text} → {}", floor.spec());
            let ron = ron::to_string(&floor).expect("serialises");
            assert_eq!(ron::from_str::<SizeFloor>(&ron), Ok(floor), "{ron}");
        }
        assert_eq!(SizeFloor::parse("P0=1.08, P1=1.03").expect("parses").spec(), "P0=1.08,P1=1.03");
        assert_eq!(SizeFloor::default().spec(), "shipped");
        let err = ron::from_str::<SizeFloor>("\"P0=9\"").expect_err("out of range");
        assert!(err.to_string().contains("between"), "{err}");
    }

    #[test]
    fn bad_floors_are_refused_naming_the_part() {
        for (text, says) in [
            ("", "empty"),
            ("fast", "not a number"),
            ("9", "between"),
            ("0.1", "between"),
            ("P0=1.0,P5=1.0", "P5 is not a priority"),
            ("P0=1.0,P0=1.1", "given twice"),
            ("payment=1.0,payment=1.1", "payment is given twice"),
            ("P0=1.0,P1", "expected NAME=MULTIPLIER"),
            ("=1.0", "name a priority"),
            ("pay ment=1.0", "name a priority"),
            ("payment=9", "between"),
            ("P2=x", "\"P2=x\""),
        ] {
            let err = SizeFloor::parse(text).expect_err(text);
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
