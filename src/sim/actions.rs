//! What a controller may do to the cluster, as data. Every autoscaler — HPA, cluster autoscaler, the baselines and
//! HiRL — speaks through this one type, so they are interchangeable and every move can be recorded.

use serde::{Deserialize, Serialize};

use super::layout::{AppId, DomainId, PoolId};

/// Actions decided at one tick. Applied in field order; within a field, in list order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Actions {
    /// Set an app's `spec.replicas`.
    pub replicas: Vec<(AppId, u32)>,
    /// Ask the provisioner for nodes now: one cloud-API call per entry.
    pub node_requests: Vec<(PoolId, u32)>,
    /// Remove up to this many empty nodes from a pool (never below `min_nodes`, never a node holding pods).
    pub node_removals: Vec<(PoolId, u32)>,
    /// Cap a domain's total CPU requests (a ResourceQuota): pods beyond it are not created. `None` lifts the cap.
    pub domain_quotas: Vec<(DomainId, Option<u64>)>,
    /// Hold this much CPU (millicores) of warm reserve in a pool with lowest-priority placeholder pods, which any
    /// real pod preempts at once; unplaceable placeholders make the provisioner add nodes ahead of demand.
    pub reserves: Vec<(PoolId, u64)>,
    /// Turn PriorityClasses (priority scheduling order and preemption) on or off.
    pub priority_classes: Option<bool>,
    /// Declare how many pods beyond `spec.replicas` the controller sized an app at and holds back on purpose (a rate
    /// limit, a bound, a seating rule); 0 clears it. Kept until declared again. Changes nothing in the cluster: it
    /// tells the scorer that a breach at an app with no pod waiting or starting was a choice, not an unseen need
    /// (see [`super::breach_cause::BreachCause::HeldBack`]).
    pub held_back: Vec<(AppId, u32)>,
}

impl Actions {
    pub fn clear(&mut self) {
        self.replicas.clear();
        self.node_requests.clear();
        self.node_removals.clear();
        self.domain_quotas.clear();
        self.reserves.clear();
        self.priority_classes = None;
        self.held_back.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.replicas.is_empty()
            && self.node_requests.is_empty()
            && self.node_removals.is_empty()
            && self.domain_quotas.is_empty()
            && self.reserves.is_empty()
            && self.priority_classes.is_none()
            && self.held_back.is_empty()
    }
}
