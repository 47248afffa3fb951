//! The Soldier's budget projection (DESIGN §6): scale-ups are shrunk by one common factor so the domain's CPU stays
//! within `cap_ratio` (110%) of the budget the Commander gave it; scale-downs are never limited.
//!
//! The factor `α = clamp((cap · budget − (current + downs)) / ups, 0, 1)` is piecewise smooth in the deltas, so the
//! same formula can sit inside a training graph; what it clipped is reported for the decision record.
//! Units: CPU millicores; deltas are replica changes (continuous before rounding).

/// The projected action and what the projection did.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// Replica changes after projection (downs untouched, ups × `up_scale`).
    pub deltas: Vec<f64>,
    /// The factor applied to every scale-up, in [0, 1]; 1 when nothing was clipped.
    pub up_scale: f64,
    /// CPU the projection removed from the scale-ups, millicores.
    pub clipped_millicores: f64,
}

/// Caps scale-ups. `cost_millicores[i]` is the CPU request of one replica of app `i`; `current_millicores` is what the
/// domain's pods request now; the cap is `cap_ratio × budget_millicores`.
pub fn project(
    deltas: &[f64],
    cost_millicores: &[f64],
    current_millicores: f64,
    budget_millicores: f64,
    cap_ratio: f64,
) -> Projection {
    let (mut ups, mut downs) = (0.0, 0.0);
    for (&d, &c) in deltas.iter().zip(cost_millicores) {
        if d > 0.0 {
            ups += d * c;
        } else {
            downs += d * c;
        }
    }
    let room = cap_ratio * budget_millicores - (current_millicores + downs);
    let up_scale = if ups > 0.0 { (room / ups).clamp(0.0, 1.0) } else { 1.0 };
    Projection {
        deltas: deltas.iter().map(|&d| if d > 0.0 { d * up_scale } else { d }).collect(),
        up_scale,
        clipped_millicores: ups * (1.0 - up_scale),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn within_budget_nothing_changes_over_it_ups_shrink() {
        let p = project(&[2.0, -1.0], &[500.0, 500.0], 10_000.0, 20_000.0, 1.1);
        assert_eq!(p.deltas, vec![2.0, -1.0]);
        assert_eq!(p.up_scale, 1.0);
        // Room to 11,000 m after the 500 m scale-down: 1,500 m of the 4,000 m asked.
        let p = project(&[8.0, -1.0], &[500.0, 500.0], 10_000.0, 10_000.0, 1.1);
        assert!((p.up_scale - 1_500.0 / 4_000.0).abs() < 1e-12);
        assert_eq!(p.deltas[1], -1.0);
        assert!((p.clipped_millicores - 2_500.0).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn never_over_110_percent_and_downs_untouched(
            deltas in prop::collection::vec(-50.0f64..50.0, 1..30),
            cost in 50.0f64..4_000.0,
            current in 0.0f64..1e7,
            budget in 0.0f64..1e7,
        ) {
            let costs = vec![cost; deltas.len()];
            let p = project(&deltas, &costs, current, budget, 1.1);
            prop_assert!((0.0..=1.0).contains(&p.up_scale));
            let downs: f64 = deltas.iter().filter(|d| **d < 0.0).map(|d| d * cost).sum();
            let after: f64 = current + p.deltas.iter().map(|d| d * cost).sum::<f64>();
            // Over the cap only when the scale-downs alone could not bring it there (then no scale-up at all).
            prop_assert!(after <= (1.1 * budget).max(current + downs) + 1e-6 * (1.0 + current + budget));
            for (a, b) in deltas.iter().zip(&p.deltas) {
                if *a <= 0.0 { prop_assert_eq!(a, b); } else { prop_assert!(*b >= 0.0 && b <= a); }
            }
        }
    }
}
