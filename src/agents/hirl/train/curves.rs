//! The training curves: one [`CurveRow`] per behaviour cloning and per PPO iteration (every reward term, KL, value
//! loss, breach rate, validation and full-scale figures), written as CSV beside the weights.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::super::reward::RewardTerms;
use super::Validation;
use crate::sim::SuiteTotals;

/// One row of the training curves.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CurveRow {
    pub stage: String,
    pub iteration: usize,
    pub commander_reward: f64,
    pub soldier_reward: f64,
    pub commander_terms: RewardTerms,
    pub soldier_terms: RewardTerms,
    pub commander_kl: f64,
    pub soldier_kl: f64,
    pub commander_value_loss: f64,
    pub soldier_value_loss: f64,
    pub breach_rate: f64,
    pub validation_score: f64,
    /// Mean node-hours of a validation episode.
    pub validation_node_hours: f64,
    /// Whether these networks became the best so far.
    pub selected: bool,
    pub wall_secs: f64,
    /// Behaviour-cloning error (mean squared, pre-activation action); 0 on PPO rows.
    pub commander_bc_mse: f64,
    pub soldier_bc_mse: f64,
    /// Minibatch steps that moved each actor in this iteration's update (the KL target stops the rest).
    pub commander_actor_steps: usize,
    pub soldier_actor_steps: usize,
    /// Totals over the full-scale validation runs (when configured).
    pub full_scale: Option<SuiteTotals>,
}

impl CurveRow {
    pub const HEADER: &'static str = "stage,iteration,commander_reward,soldier_reward,c_slo_adherence,c_worst_domain,c_cost,c_proactivity,c_thrash,c_floor_proximity,s_slo_adherence,s_cost,s_budget_deviation,s_alignment,s_cold_starts,s_oscillation,commander_kl,soldier_kl,commander_value_loss,soldier_value_loss,breach_rate,validation_score,wall_secs,commander_bc_mse,soldier_bc_mse,commander_actor_steps,soldier_actor_steps,validation_node_hours,selected,full_scale_p0_p1_breach_minutes,full_scale_breach_minutes,full_scale_cascades,full_scale_node_hours,full_scale_actions_per_app_hour";

    /// Records what [`super::Trainer::select`] measured.
    pub fn set_validation(&mut self, v: Validation) {
        self.validation_score = v.score;
        self.validation_node_hours = v.node_hours;
        self.selected = v.kept;
        self.full_scale = v.full_scale;
    }

    pub fn csv(&self) -> String {
        let c = &self.commander_terms;
        let s = &self.soldier_terms;
        // Empty cells when full-scale validation is off.
        let full_scale = self.full_scale.as_ref().map_or_else(
            || ",,,,".to_string(),
            |f| {
                format!(
                    "{:.1},{:.1},{},{:.0},{:.3}",
                    f.p0_p1_breach_minutes,
                    f.breach_minutes,
                    f.cascade_events,
                    f.node_hours,
                    f.scaling_actions_per_app_hour
                )
            },
        );
        format!(
            "{},{},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.6},{:.6},{:.5},{:.5},{:.5},{:.5},{:.1},{:.5},{:.5},{},{},{:.2},{},{}",
            self.stage.replace(',', ";"),
            self.iteration,
            self.commander_reward,
            self.soldier_reward,
            c.slo_adherence,
            c.worst_domain,
            c.cost,
            c.proactivity,
            c.thrash,
            c.floor_proximity,
            s.slo_adherence,
            s.cost,
            s.budget_deviation,
            s.alignment,
            s.cold_starts,
            s.oscillation,
            self.commander_kl,
            self.soldier_kl,
            self.commander_value_loss,
            self.soldier_value_loss,
            self.breach_rate,
            self.validation_score,
            self.wall_secs,
            self.commander_bc_mse,
            self.soldier_bc_mse,
            self.commander_actor_steps,
            self.soldier_actor_steps,
            self.validation_node_hours,
            u8::from(self.selected),
            full_scale
        )
    }
}

/// The curves file beside the weights.
pub fn curves_path(weights: &std::path::Path) -> PathBuf {
    weights.with_extension("curves.csv")
}
