//! How the domains of a scenario are coupled: inline calls (who calls whom) and the node pools they share.
//!
//! These are the two ways trouble in one domain reaches another (DESIGN §4): a callee's latency is part of its
//! caller's, a caller's load is its callee's, and domains on one pool compete for its nodes. The simulator's
//! scorecard counts a breach that starts while a *linked* domain is in breach as a cascade, and the cascade
//! explanations say which of these links carried it; both read the links from here.
//!
//! Contract: domains and pools are indexed in scenario order; a domain is never linked to itself; a call or pool
//! naming an unknown domain is ignored (validation reports it). Pure data, no randomness.

use super::Scenario;

/// The call graph and the shared pools of a scenario's domains, indexed in scenario order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainLinks {
    n: usize,
    /// `calls[a * n + b]`: domain a calls domain b inline.
    calls: Vec<bool>,
    /// `shared[a * n + b]`: the pools (scenario order) both a and b may use; empty on the diagonal.
    shared: Vec<Vec<usize>>,
}

impl DomainLinks {
    pub fn of(s: &Scenario) -> Self {
        let n = s.domains.len();
        let index = |id: &str| s.domains.iter().position(|d| d.id == id);
        let mut calls = vec![false; n * n];
        for (a, d) in s.domains.iter().enumerate() {
            for b in d.calls.iter().filter_map(|c| index(&c.to)) {
                if a != b {
                    calls[a * n + b] = true;
                }
            }
        }
        let pools_of: Vec<Vec<usize>> = s
            .domains
            .iter()
            .map(|d| s.pools.iter().enumerate().filter(|(_, p)| p.domains.contains(&d.id)).map(|(i, _)| i).collect())
            .collect();
        let mut shared = vec![Vec::new(); n * n];
        for a in 0..n {
            for b in (0..n).filter(|&b| b != a) {
                shared[a * n + b] = pools_of[a].iter().copied().filter(|p| pools_of[b].contains(p)).collect();
            }
        }
        Self { n, calls, shared }
    }

    /// Number of domains.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Whether domain `a` calls domain `b` inline (so `b`'s latency and errors add to `a`'s).
    pub fn calls(&self, a: usize, b: usize) -> bool {
        a < self.n && b < self.n && self.calls[a * self.n + b]
    }

    /// The pools (scenario indices, in order) that domains `a` and `b` may both use.
    pub fn shared_pools(&self, a: usize, b: usize) -> &[usize] {
        if a < self.n && b < self.n { &self.shared[a * self.n + b] } else { &[] }
    }

    /// Whether a breach in one of `a` and `b` can reach the other: an inline call either way or a shared pool.
    pub fn linked(&self, a: usize, b: usize) -> bool {
        a != b && (self.calls(a, b) || self.calls(b, a) || !self.shared_pools(a, b).is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_have_a_direction_and_shared_pools_do_not() {
        let s = crate::scenario::load_str(include_str!("../../scenarios/fraud-cascade.ron"), "fraud-cascade.ron")
            .expect("shipped scenario");
        let links = DomainLinks::of(&s);
        let id = |name: &str| s.domains.iter().position(|d| d.id == name).expect("domain");
        let (payment, fraud, merchant) = (id("payment"), id("fraud"), id("merchant"));
        assert!(links.calls(payment, fraud) && !links.calls(fraud, payment));
        assert!(links.calls(merchant, payment) && !links.calls(payment, merchant));
        assert!(!links.shared_pools(payment, fraud).is_empty(), "Payment and Fraud share a pool in this scenario");
        assert_eq!(links.shared_pools(payment, fraud), links.shared_pools(fraud, payment));
        for a in 0..links.len() {
            assert!(!links.linked(a, a), "a domain is not linked to itself");
            assert!(links.shared_pools(a, a).is_empty());
            for b in 0..links.len() {
                assert_eq!(links.linked(a, b), links.linked(b, a));
            }
        }
        // Out of range is simply unlinked.
        assert!(!links.linked(0, links.len()) && !links.calls(links.len(), 0));
    }
}
