//! The rewards of DESIGN §6, from ground truth: what training optimises and what the decision inspector shows as a
//! decision's outcome.
//!
//! - A [`TruthRecorder`] turns the simulation after each tick into a [`TickTruth`] (per domain: priority-weighted
//!   degradation, pending fraction, allocated CPU in millicores, pods that became ready, replica changes per app;
//!   the cluster's cost rate relative to the first tick's).
//! - A decision's reward sums the per-tick terms over its period, `(t, t + period]`: 60 s for the Commander, 10 s
//!   for a Soldier. Terms are per minute of simulated time, so both levels share one scale.
//! - [`DecisionOutcome`] is the one-step return the critic is trained towards, `r + γ·V(next)`: next to the value
//!   estimate it shows the surprise (the TD error).
//!
//! Pure functions of their inputs: same truth ⇒ same rewards, bit for bit.

use serde::{Deserialize, Serialize};

use crate::sim::{PoolId, Simulation, TICK_SECS};

/// Declares the reward terms once: [`RewardTerms`] (one level's terms, summed over an iteration's decisions and
/// divided by their count, logged per term) and [`RewardWeights`] (their weights, with defaults) get the same fields
/// in the same order, and [`RewardTerms::weighted`] names and signs each (penalties are logged as positive amounts
/// and subtracted). Serialised field names are the term names, so model metadata and checkpoints keep their form.
macro_rules! reward_terms {
    ($($(#[$doc:meta])* $term:ident: $name:literal, penalty $penalty:literal, default $default:literal;)*) => {
        /// Reward terms of one level, summed over an iteration's decisions and divided by their count (logged per
        /// term).
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct RewardTerms {
            $(pub $term: f64,)*
        }

        /// Weights of the reward terms (SLO > degradation ≫ cost > the rest), with their defaults. A model is
        /// trained under one set and stores it in its metadata (`training.config.reward`), so the decision
        /// inspector weighs a decision's outcome as its networks were taught to.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct RewardWeights {
            $($(#[$doc])* pub $term: f64,)*
        }

        impl Default for RewardWeights {
            fn default() -> Self {
                Self { $($term: $default,)* }
            }
        }

        /// How many reward terms there are.
        pub const N_REWARD_TERMS: usize = [$(stringify!($term)),*].len();

        impl RewardTerms {
            pub fn add(&mut self, o: &RewardTerms) {
                $(self.$term += o.$term;)*
            }

            pub fn scaled(&self, k: f64) -> RewardTerms {
                RewardTerms { $($term: self.$term * k,)* }
            }

            /// (name, weighted contribution to [`RewardTerms::total`]) of every term, in declaration order.
            /// Penalties (thrash and after) are logged as positive amounts and subtracted here.
            pub fn weighted(&self, w: &RewardWeights) -> [(&'static str, f64); N_REWARD_TERMS] {
                [$(($name, if $penalty { -(w.$term * self.$term) } else { w.$term * self.$term }),)*]
            }
        }
    };
}

reward_terms! {
    /// Default 1.
    slo_adherence: "SLO adherence", penalty false, default 1.0;
    /// Default 0.5.
    worst_domain: "worst domain", penalty false, default 0.5;
    /// Cost relative to the episode's first tick. Default 0.05.
    cost: "cost", penalty false, default 0.05;
    /// Pending fraction. Default 0.1.
    proactivity: "proactivity", penalty false, default 0.1;
    /// The Commander's L1 share change. Default 0.05.
    thrash: "thrash", penalty true, default 0.05;
    /// Domain shares under 7%. Default 1.
    floor_proximity: "floor proximity", penalty true, default 1.0;
    /// Allocation over 110% of the budget. Default 0.2.
    budget_deviation: "budget deviation", penalty true, default 0.2;
    /// Allocation over the budget, log scale. Default 0.02.
    alignment: "alignment", penalty true, default 0.02;
    /// The Soldiers' replica changes per app-hour. Default 0.05.
    oscillation: "oscillation", penalty true, default 0.05;
    /// Pods started per pod, ×10. Default 0.1.
    cold_starts: "cold starts", penalty true, default 0.1;
}

impl RewardTerms {
    /// The weighted reward: the sum of [`RewardTerms::weighted`].
    pub fn total(&self, w: &RewardWeights) -> f64 {
        self.weighted(w).iter().map(|(_, v)| v).sum()
    }
}

/// Per-tick ground truth the rewards are computed from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TickTruth {
    pub t_secs: u64,
    /// Per domain: priority-weighted degradation, pending fraction, allocated CPU (millicores), pods started, pods.
    pub weighted_deg: Vec<f64>,
    pub pending_frac: Vec<f64>,
    pub alloc_millicores: Vec<f64>,
    pub started_pods: Vec<f64>,
    pub pods: Vec<f64>,
    /// Per domain: replica changes this tick per app of the domain.
    pub actions_per_app: Vec<f64>,
    /// Cluster cost rate relative to the first tick's.
    pub cost_rel: f64,
}

/// Builds a [`TickTruth`] after each tick (it remembers the first tick's cost and the previous ready pods).
#[derive(Clone, Debug, Default)]
pub struct TruthRecorder {
    base_cost: f64,
    prev_ready: Vec<f64>,
    prev_actions: Vec<u64>,
}

impl TruthRecorder {
    pub fn record(&mut self, sim: &Simulation) -> TickTruth {
        let layout = sim.layout();
        let obs = sim.observe();
        let mut cost = 0.0;
        for p in 0..layout.pools.len() {
            let v = obs.pool(PoolId(p as u8));
            cost += f64::from(v.nodes + v.booting_nodes) * layout.pools[p].price_per_node_hour;
        }
        if self.base_cost == 0.0 {
            self.base_cost = cost.max(1e-9);
        }
        self.prev_ready.resize(layout.domains.len(), 0.0);
        self.prev_actions.resize(layout.domains.len(), 0);
        let mut tick = TickTruth { t_secs: sim.now_secs(), cost_rel: cost / self.base_cost, ..Default::default() };
        for (d, sample) in sim.domain_truth().iter().enumerate() {
            let info = &layout.domains[d];
            let deg = (f64::from(sample.p99_latency_ms) / info.slo_p99_latency_ms - 1.0)
                .max(f64::from(sample.error_ratio) / info.error_budget_ratio.max(1e-9) - 1.0)
                .clamp(0.0, 10.0);
            let pods = f64::from(sample.ready_pods + sample.starting_pods + sample.pending_pods);
            tick.weighted_deg.push(info.priority_weight * deg);
            tick.pending_frac.push(f64::from(sample.pending_pods) / pods.max(1.0));
            tick.alloc_millicores.push(sample.cpu_allocated_millicores as f64);
            let ready = f64::from(sample.ready_pods);
            tick.started_pods.push((ready - self.prev_ready[d]).max(0.0));
            self.prev_ready[d] = ready;
            tick.pods.push(pods);
            let actions = sim.scaling_actions(d);
            let changed = actions.saturating_sub(self.prev_actions[d]) as f64;
            tick.actions_per_app.push(changed / (info.apps.len() as f64).max(1.0));
            self.prev_actions[d] = actions;
        }
        tick
    }
}

/// Per-tick Commander terms, per minute of simulated time.
pub fn tick_commander_terms(t: &TickTruth) -> RewardTerms {
    let k = TICK_SECS as f64 / 60.0;
    RewardTerms {
        slo_adherence: -t.weighted_deg.iter().sum::<f64>() * k,
        worst_domain: -t.weighted_deg.iter().copied().fold(0.0, f64::max) * k,
        cost: -t.cost_rel * k,
        proactivity: -t.pending_frac.iter().sum::<f64>() * k,
        ..Default::default()
    }
}

/// Per-tick terms of domain `d`'s Soldier under a budget (millicores; `None`: no budget set yet).
pub fn tick_soldier_terms(t: &TickTruth, d: usize, budget: Option<f64>) -> RewardTerms {
    let k = TICK_SECS as f64 / 60.0;
    let alloc = t.alloc_millicores[d].max(1.0);
    let budget = budget.unwrap_or(alloc).max(1.0);
    RewardTerms {
        slo_adherence: -t.weighted_deg[d] * k,
        cost: -(alloc / t.alloc_millicores.iter().sum::<f64>().max(1.0)) * t.cost_rel * k,
        budget_deviation: (alloc / budget - 1.1).max(0.0) * k,
        // One-sided: a budget is a ceiling with slack by design (at least the domain's HPA-sized need, out of 120%
        // of the demand), so a symmetric pull towards it paid Soldiers to fill it (measured: +2% node-hours).
        alignment: (alloc / budget).ln().max(0.0) * k,
        cold_starts: t.started_pods[d] / t.pods[d].max(1.0) * 10.0 * k,
        // As the scorecard counts it: replica changes per app-hour, at this tick's rate.
        oscillation: t.actions_per_app.get(d).copied().unwrap_or(0.0) * (3600 / TICK_SECS) as f64 * k,
        ..Default::default()
    }
}

/// The ticks of a decision's period `(t_secs, t_secs + period_secs]`, from a time-ordered truth.
fn period(truth: &[TickTruth], t_secs: u64, period_secs: u64) -> impl Iterator<Item = &TickTruth> {
    let first = truth.partition_point(|t| t.t_secs <= t_secs);
    truth[first..].iter().take_while(move |t| t.t_secs <= t_secs + period_secs)
}

/// A Commander decision's terms: the per-tick terms over its minute, plus thrash (L1 change from the previous
/// executed shares) and floor proximity (domain shares under 7%).
pub fn commander_decision_terms(
    truth: &[TickTruth],
    t_secs: u64,
    shares: Option<&[f64]>,
    previous_shares: Option<&[f64]>,
) -> RewardTerms {
    let mut terms = RewardTerms::default();
    for t in period(truth, t_secs, 60) {
        terms.add(&tick_commander_terms(t));
    }
    if let Some(now) = shares {
        if let Some(prev) = previous_shares {
            terms.thrash = now.iter().zip(prev).map(|(a, b)| (a - b).abs()).sum();
        }
        let n = now.len().saturating_sub(1);
        terms.floor_proximity = now[..n].iter().map(|s| (0.07 - s).max(0.0) * 10.0).sum();
    }
    terms
}

/// A Soldier decision's terms over its 10 s under the domain's budget (millicores).
pub fn soldier_decision_terms(truth: &[TickTruth], t_secs: u64, domain: usize, budget: Option<f64>) -> RewardTerms {
    let mut terms = RewardTerms::default();
    for t in period(truth, t_secs, 10) {
        terms.add(&tick_soldier_terms(t, domain, budget));
    }
    terms
}

/// Discount per decision: the Commander's and the Soldiers' (as in training).
pub const COMMANDER_GAMMA: f64 = 0.995;
pub const SOLDIER_GAMMA: f64 = 0.99;

/// What followed a decision, against what its critic expected.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionOutcome {
    pub terms: RewardTerms,
    /// Weighted reward over the decision's period.
    pub reward: f64,
    /// The next decision's value estimate (same level and domain), when it has been made.
    pub next_value: Option<f64>,
    /// `reward + γ·next_value`: the value after the outcome.
    pub value_after: Option<f64>,
    /// `value_after − value`: positive when things went better than the critic expected.
    pub surprise: Option<f64>,
    /// Whether the whole period has been simulated (else the reward is partial).
    pub complete: bool,
}

impl DecisionOutcome {
    pub fn new(
        terms: RewardTerms,
        weights: &RewardWeights,
        value: Option<f32>,
        next_value: Option<f32>,
        gamma: f64,
        complete: bool,
    ) -> Self {
        let reward = terms.total(weights);
        let next_value = next_value.map(f64::from);
        let value_after = next_value.filter(|_| complete).map(|v| reward + gamma * v);
        let surprise = value_after.zip(value).map(|(a, v)| a - f64::from(v));
        DecisionOutcome { terms, reward, next_value, value_after, surprise, complete }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(t: u64, deg: f64) -> TickTruth {
        TickTruth {
            t_secs: t,
            weighted_deg: vec![deg, 0.0],
            pending_frac: vec![0.0, 0.0],
            alloc_millicores: vec![1000.0, 1000.0],
            started_pods: vec![0.0, 0.0],
            pods: vec![10.0, 10.0],
            actions_per_app: vec![0.0, 0.0],
            cost_rel: 1.0,
        }
    }

    #[test]
    fn a_decision_sums_the_ticks_of_its_own_period_only() {
        let truth: Vec<TickTruth> = (0..40).map(|i| tick(i * 5, if i * 5 > 60 { 1.0 } else { 0.0 })).collect();
        let calm = commander_decision_terms(&truth, 0, None, None);
        assert_eq!(calm.slo_adherence, 0.0, "ticks after t = 60 are not this decision's");
        let hot = commander_decision_terms(&truth, 60, None, None);
        assert!((hot.slo_adherence + 1.0).abs() < 1e-12, "12 degraded ticks × 5/60 min: {}", hot.slo_adherence);
        assert!(hot.total(&RewardWeights::default()) < calm.total(&RewardWeights::default()));
    }

    #[test]
    fn thrash_and_floors_come_from_the_shares() {
        let shares = [0.05, 0.45, 0.5];
        let terms = commander_decision_terms(&[], 0, Some(&shares), Some(&[0.1, 0.4, 0.5]));
        assert!((terms.thrash - 0.1).abs() < 1e-12);
        assert!((terms.floor_proximity - 0.2).abs() < 1e-12, "one domain 2 points under the 7% line");
    }

    #[test]
    fn a_soldier_pays_for_going_over_its_budget_not_for_leaving_it_unused() {
        let t = tick(5, 0.0);
        let under = tick_soldier_terms(&t, 0, Some(2000.0));
        assert_eq!(under.alignment, 0.0, "half the budget used: no pull to fill it");
        assert_eq!(under.budget_deviation, 0.0);
        let over = tick_soldier_terms(&t, 0, Some(800.0));
        assert!(over.alignment > 0.0 && over.budget_deviation > 0.0, "{over:?}");
        assert!(over.total(&RewardWeights::default()) < under.total(&RewardWeights::default()));
    }

    #[test]
    fn oscillation_is_the_scaling_action_rate_per_app_hour() {
        let mut t = tick(5, 0.0);
        assert_eq!(tick_soldier_terms(&t, 0, None).oscillation, 0.0);
        // One change per app in a 5 s tick is 720 changes per app-hour, over 1/12 of a minute.
        t.actions_per_app[0] = 1.0;
        let terms = tick_soldier_terms(&t, 0, None);
        assert!((terms.oscillation - 60.0).abs() < 1e-9, "{}", terms.oscillation);
        let w = RewardWeights::default();
        assert!(terms.total(&w) < tick_soldier_terms(&tick(5, 0.0), 0, None).total(&w));
    }

    #[test]
    fn the_weights_scale_their_own_term_only() {
        let terms = RewardTerms { slo_adherence: -2.0, cost: -1.0, oscillation: 4.0, ..Default::default() };
        let w = RewardWeights::default();
        assert!((terms.total(&w) - (-2.0 - 0.05 - 0.2)).abs() < 1e-12, "{}", terms.total(&w));
        let pricier = RewardWeights { cost: 0.15, ..w.clone() };
        assert!((terms.total(&w) - terms.total(&pricier) - 0.1).abs() < 1e-12);
        let weighted = terms.weighted(&pricier);
        assert_eq!(weighted[2], ("cost", -0.15));
        assert_eq!(weighted[0], ("SLO adherence", -2.0));
    }

    #[test]
    fn the_surprise_is_the_td_error_and_waits_for_the_period() {
        let terms = RewardTerms { slo_adherence: -1.0, ..Default::default() };
        let o = DecisionOutcome::new(terms.clone(), &RewardWeights::default(), Some(-3.0), Some(-2.0), 0.5, true);
        assert_eq!(o.value_after, Some(-2.0));
        assert_eq!(o.surprise, Some(1.0));
        let partial = DecisionOutcome::new(terms, &RewardWeights::default(), Some(-3.0), Some(-2.0), 0.5, false);
        assert_eq!(partial.surprise, None, "no surprise before the period is over");
    }
}
