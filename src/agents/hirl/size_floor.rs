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
//! lower than half the need, no higher than the domain level's own ceiling.

use std::fmt;

use crate::scenario::Priority;

/// The shipped floor, ln of the multiplier.
pub const SHIPPED_LN: f32 = -0.1;
/// Lowest floor accepted: half the HPA-sized need.
pub const MIN_MULTIPLIER: f64 = 0.5;
/// Highest floor accepted: just under the domain level's own ceiling, e^1.2 ≈ 3.32 (see
/// [`super::decode::level_multiplier`], whose clamp needs the floor below the ceiling).
pub const MAX_MULTIPLIER: f64 = 3.3;

const PRIORITIES: [Priority; 4] = [Priority::P0, Priority::P1, Priority::P2, Priority::P3];

/// Per priority rank (P0 first), the floor's ln; `None`: the shipped floor.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SizeFloor {
    by_rank: [Option<f32>; 4],
}

impl SizeFloor {
    /// The floor for a domain of this priority rank (0 = P0), ln of the multiplier.
    pub fn min_level_ln(&self, rank: u8) -> f32 {
        self.by_rank.get(usize::from(rank)).copied().flatten().unwrap_or(SHIPPED_LN)
    }

    /// Whether this is the shipped floor.
    pub fn is_shipped(&self) -> bool {
        self.by_rank.iter().all(Option::is_none)
    }

    /// Parses `1.03` or `P0=1.03,P1=1.0` (see the module docs); the error names the part at fault.
    pub fn parse(text: &str) -> Result<SizeFloor, String> {
        let multiplier = |part: &str, value: &str| -> Result<f32, String> {
            let m: f64 = value.trim().parse().map_err(|_| format!("\"{part}\": \"{value}\" is not a number"))?;
            if !(MIN_MULTIPLIER..=MAX_MULTIPLIER).contains(&m) {
                return Err(format!(
                    "\"{part}\": the floor must be between ×{MIN_MULTIPLIER} and ×{MAX_MULTIPLIER} of the HPA-sized need"
                ));
            }
            Ok(m.ln() as f32)
        };
        let text = text.trim();
        if text.is_empty() {
            return Err("empty size floor: give a multiplier (1.0) or priorities (P0=1.03,P1=1.03)".into());
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
        if self.is_shipped() {
            return write!(f, "shipped ({})", shown(SHIPPED_LN));
        }
        if self.by_rank.iter().all(|r| *r == self.by_rank[0]) {
            return write!(f, "{} for every priority", shown(self.min_level_ln(0)));
        }
        let mut parts: Vec<(String, Vec<String>)> = Vec::new();
        for (rank, p) in PRIORITIES.iter().enumerate() {
            if let Some(ln) = self.by_rank[rank] {
                let value = shown(ln);
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
