//! The Soldiers' size floor: the least a Soldier may size a domain, as a multiple of its HPA-sized need (the pods its
//! HPAs' CPU targets call for at the observed load), per priority.
//!
//! Shipped: ×0.905 (e^−0.1) for every priority, so a Soldier may run a domain up to about 10% hotter than its HPAs
//! would and no more. A higher floor holds slack ahead of unannounced spikes in the domains that matter most, and pays
//! for it in node-hours every minute of the day: `--size-floor` prices that trade on the command line, as
//! `--warm-reserve` prices capacity held as placeholders.
//!
//! Text form (the `--size-floor` argument, and how scorecards name it): `1.03` (every priority), or `P0=1.03,P1=1.03`
//! (the priorities not named keep the shipped floor). Multipliers lie in [`MIN_MULTIPLIER`, `MAX_MULTIPLIER`]: no
//! lower than half the need, no higher than the domain level's own ceiling. [`SizeFloor::spec`] writes that form back
//! (multipliers as given, so `parse(spec)` is the same floor bit for bit); serde uses it, which is how recordings
//! store a floor.

use std::fmt;

use crate::scenario::Priority;

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

/// Per priority rank (P0 first), the floor's multiplier as given; `None`: the shipped floor.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SizeFloor {
    by_rank: [Option<f64>; 4],
}

impl SizeFloor {
    /// The floor for a domain of this priority rank (0 = P0), ln of the multiplier.
    pub fn min_level_ln(&self, rank: u8) -> f32 {
        match self.by_rank.get(usize::from(rank)).copied().flatten() {
            Some(m) => m.ln() as f32,
            None => SHIPPED_LN,
        }
    }

    /// The floor for a domain of this priority rank, as a multiple of its HPA-sized need (for display).
    pub fn multiplier(&self, rank: u8) -> f64 {
        f64::from(self.min_level_ln(rank)).exp()
    }

    /// The text form `parse` reads back to this floor: `1.08`, `P0=1.08,P1=1.03`, or `shipped`.
    pub fn spec(&self) -> String {
        if let Some(m) = self.by_rank[0].filter(|_| self.by_rank.iter().all(|r| *r == self.by_rank[0])) {
            return m.to_string();
        }
        if self.is_shipped() {
            return SHIPPED.into();
        }
        let named: Vec<String> =
            PRIORITIES.iter().zip(&self.by_rank).filter_map(|(p, m)| m.map(|m| format!("{p:?}={m}"))).collect();
        named.join(",")
    }

    /// Whether this is the shipped floor.
    pub fn is_shipped(&self) -> bool {
        self.by_rank.iter().all(Option::is_none)
    }

    /// Parses `1.03`, `P0=1.03,P1=1.0` (see the module docs) or `shipped`; the error names the part at fault.
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
            return Err("empty size floor: give a multiplier (1.0) or priorities (P0=1.03,P1=1.03)".into());
        }
        if text.eq_ignore_ascii_case(SHIPPED) {
            return Ok(SizeFloor::default());
        }
        if !text.contains('=') {
            return Ok(SizeFloor { by_rank: [Some(multiplier(text, text)?); 4] });
        }
        let mut floor = SizeFloor::default();
        for part in text.split(',').map(str::trim) {
            let Some((name, value)) = part.split_once('=') else {
                return Err(format!("\"{part}\": expected PRIORITY=MULTIPLIER, e.g. P0=1.03"));
            };
            let name = name.trim();
            let Some(rank) = PRIORITIES.iter().position(|p| format!("{p:?}").eq_ignore_ascii_case(name)) else {
                return Err(format!("\"{part}\": {name} is not a priority (P0, P1, P2 or P3)"));
            };
            if floor.by_rank[rank].is_some() {
                return Err(format!("\"{part}\": {name} is given twice"));
            }
            floor.by_rank[rank] = Some(multiplier(part, value)?);
        }
        Ok(floor)
    }
}

impl fmt::Display for SizeFloor {
    /// `×1.03 for P0, P1 (others ×0.905)`, `×1.000 for every priority`, or `shipped (×0.905)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |ln: f32| format!("×{:.3}", f64::from(ln).exp());
        let given = |m: f64| format!("×{m:.3}");
        if self.is_shipped() {
            return write!(f, "shipped ({})", shown(SHIPPED_LN));
        }
        if let Some(m) = self.by_rank[0].filter(|_| self.by_rank.iter().all(|r| *r == self.by_rank[0])) {
            return write!(f, "{} for every priority", given(m));
        }
        let mut parts: Vec<(String, Vec<String>)> = Vec::new();
        for (rank, p) in PRIORITIES.iter().enumerate() {
            if let Some(m) = self.by_rank[rank] {
                let value = given(m);
                match parts.iter_mut().find(|(v, _)| *v == value) {
                    Some((_, names)) => names.push(format!("{p:?}")),
                    None => parts.push((value, vec![format!("{p:?}")])),
                }
            }
        }
        let named: Vec<String> = parts.iter().map(|(v, names)| format!("{v} for {}", names.join(", "))).collect();
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
        assert!((0..4).all(|r| all.min_level_ln(r).abs() < 1e-7));
        assert_eq!(all.to_string(), "×1.000 for every priority");
        let some = SizeFloor::parse("P0=1.03, p1=1.03").expect("parses");
        assert!((some.min_level_ln(0) - 1.03f32.ln()).abs() < 1e-6);
        assert!((some.min_level_ln(1) - 1.03f32.ln()).abs() < 1e-6);
        assert_eq!(some.min_level_ln(2), SHIPPED_LN);
        assert_eq!(some.min_level_ln(3), SHIPPED_LN);
        assert_eq!(some.to_string(), "×1.030 for P0, P1 (others ×0.905)");
        assert!(SizeFloor::default().is_shipped());
        assert_eq!(SizeFloor::default().min_level_ln(0), SHIPPED_LN);
    }

    #[test]
    fn the_spec_reads_back_as_the_same_floor_and_serde_goes_through_it() {
        for text in ["1.0", "1.08", "P0=1.08", "P0=1.08,P1=1.08", "P1=0.95,P3=0.7", "shipped", "0.123456789e1"] {
            let floor = SizeFloor::parse(text).expect(text);
            assert_eq!(SizeFloor::parse(&floor.spec()), Ok(floor), "{text} → {}", floor.spec());
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
            ("P0=1.0,P1", "expected PRIORITY=MULTIPLIER"),
            ("P2=x", "\"P2=x\""),
        ] {
            let err = SizeFloor::parse(text).expect_err(text);
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
