//! The price of the P0+P1 target: HiRL under each setting of capacity held ahead of unannounced spikes, judged
//! against HPA. `hirl-scale eval frontier` measures the rows (and may store them in the agents' metadata,
//! [`super::nets::AgentsMetadata::frontier`]); the window's "About the agents" reads them back. One data model and
//! one set of judgments for both, so the table, the SVG and the window can never disagree on which setting meets
//! what.

use serde::{Deserialize, Serialize};

use crate::sim::SuiteTotals;

/// The P0+P1 target, as a change of breach minutes against HPA's, in percent.
pub const P0_P1_TARGET_PCT: f64 = -75.0;

/// How a setting holds capacity ahead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lever {
    /// HiRL as shipped.
    Shipped,
    /// `--size-floor`: slack in the apps themselves (the floor's command-line form).
    SizeFloor(String),
    /// `--warm-reserve`: lowest-priority placeholder pods, under HiRL only (the reserve's command-line form).
    WarmReserve(String),
}

impl Lever {
    /// The command-line words that give this setting to `eval`.
    pub fn label(&self) -> String {
        match self {
            Self::Shipped => "shipped".to_string(),
            Self::SizeFloor(spec) => format!("--size-floor {spec}"),
            Self::WarmReserve(spec) => format!("--warm-reserve {spec}"),
        }
    }

    /// The label beside a chart's point: "shipped", or the floor's or reserve's value alone.
    pub fn point_label(&self) -> &str {
        match self {
            Self::Shipped => "shipped",
            Self::SizeFloor(spec) | Self::WarmReserve(spec) => spec,
        }
    }

    /// What a chart's legend calls this kind of setting.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Shipped => "HiRL as shipped",
            Self::SizeFloor(_) => "--size-floor (slack in the apps)",
            Self::WarmReserve(_) => "--warm-reserve (placeholder pods)",
        }
    }

    /// Whether `other` is the same kind of setting (whatever its value).
    pub fn same_kind(&self, other: &Lever) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// One setting's suite totals and what they come to against HPA.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrontierRow {
    /// `lever` in the words that give it to `eval` ("shipped", "--size-floor P0=1.03").
    pub setting: String,
    pub lever: Lever,
    pub totals: SuiteTotals,
    /// (this − HPA) / HPA: −0.75 is the P0+P1 target, 0 the cost target.
    pub p0_p1_change: f64,
    pub node_hours_change: f64,
    /// No other row has both fewer P0+P1 breach minutes and fewer node-hours (and one of them strictly).
    pub on_frontier: bool,
    /// The targets against HPA this setting misses, by short name ("P0+P1", "cost", …).
    pub missed: Vec<String>,
    /// (this − HPA) / HPA of P0+P1 breach minutes on each seed alone, over every scenario, in the order of the
    /// command's seeds: how many seeds a setting meets the target on, not just whether their sum does. `None` where
    /// HPA had no P0+P1 breach on the seed and this setting had some (no finite change; JSON has no infinity). Empty
    /// in rows stored before it was measured.
    #[serde(default)]
    pub p0_p1_change_by_seed: Vec<Option<f64>>,
}

impl FrontierRow {
    /// Whether this setting meets the P0+P1 target.
    pub fn reaches_p0_p1(&self) -> bool {
        !self.missed.iter().any(|m| m == "P0+P1")
    }

    /// On how many seeds alone the setting meets the P0+P1 target (`None` when the row has no per-seed figures).
    pub fn seeds_reaching_p0_p1(&self) -> Option<usize> {
        (!self.p0_p1_change_by_seed.is_empty())
            .then(|| self.p0_p1_change_by_seed.iter().flatten().filter(|&&c| c * 100.0 <= P0_P1_TARGET_PCT).count())
    }

    /// Whether this setting meets both the P0+P1 target and the cost target.
    pub fn in_target_box(&self) -> bool {
        self.reaches_p0_p1() && !self.missed.iter().any(|m| m == "cost")
    }
}

/// The setting with the fewest node-hours among those that meet the P0+P1 target.
pub fn cheapest_reaching_p0_p1(rows: &[FrontierRow]) -> Option<&FrontierRow> {
    rows.iter().filter(|r| r.reaches_p0_p1()).min_by(|a, b| a.node_hours_change.total_cmp(&b.node_hours_change))
}

/// Per point (both coordinates lower is better): whether no other point is at least as good in both and better in
/// one.
pub fn on_frontier(points: &[(f64, f64)]) -> Vec<bool> {
    points.iter().map(|&(a, b)| !points.iter().any(|&(x, y)| x <= a && y <= b && (x < a || y < b))).collect()
}

/// A frontier as stored in the agents' metadata: the command that measured it and its rows.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredFrontier {
    pub command: String,
    pub rows: Vec<FrontierRow>,
}

impl StoredFrontier {
    /// Reads the metadata's `frontier` row by row, so one malformed row does not hide the others; `None` without a
    /// command or any usable row.
    pub fn from_metadata(frontier: &serde_json::Value) -> Option<Self> {
        let command = frontier.get("command")?.as_str()?.to_string();
        let rows: Vec<FrontierRow> =
            frontier.get("rows")?.as_array()?.iter().filter_map(|r| FrontierRow::deserialize(r).ok()).collect();
        (!rows.is_empty()).then_some(Self { command, rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_is_on_the_frontier_unless_another_is_no_worse_in_both_and_better_in_one() {
        let points = [(100.0, 10.0), (80.0, 12.0), (90.0, 12.0), (80.0, 12.0), (120.0, 9.0), (100.0, 11.0)];
        assert_eq!(on_frontier(&points), vec![true, true, false, true, true, false]);
        assert!(on_frontier(&[]).is_empty());
    }

    #[test]
    fn rows_read_back_as_written_and_a_malformed_one_is_left_out() {
        let row = FrontierRow {
            setting: "--size-floor P0=1.03".into(),
            lever: Lever::SizeFloor("P0=1.03".into()),
            totals: SuiteTotals::default(),
            p0_p1_change: -0.763,
            node_hours_change: 0.039,
            on_frontier: true,
            missed: vec!["cost".into()],
            p0_p1_change_by_seed: vec![Some(-0.758), Some(-0.749), Some(-0.77), None],
        };
        let json = serde_json::json!({"command": "c", "rows": [row, {"setting": "broken", "lever": "shipped"}]});
        assert_eq!(json["rows"][0]["lever"], serde_json::json!({"size-floor": "P0=1.03"}));
        let stored = StoredFrontier::from_metadata(&json).expect("one usable row");
        assert_eq!(stored.rows, vec![row.clone()]);
        assert!(row.reaches_p0_p1() && !row.in_target_box());
        assert_eq!(row.seeds_reaching_p0_p1(), Some(2), "-74.9% misses, and so does a breach where HPA had none");
        let mut older = serde_json::to_value(&row).expect("serialises");
        older.as_object_mut().expect("an object").remove("p0_p1_change_by_seed");
        let older = FrontierRow::deserialize(&older).expect("a row stored before the per-seed figures reads back");
        assert_eq!(older.seeds_reaching_p0_p1(), None);
        assert_eq!(cheapest_reaching_p0_p1(&stored.rows), Some(&row));
        assert!(StoredFrontier::from_metadata(&serde_json::json!({"rows": [row]})).is_none(), "no command");
    }
}
