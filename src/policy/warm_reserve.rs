//! A warm reserve held under any policy: capacity bought ahead of demand nobody has seen yet, priced in node-hours.
//!
//! The reserve is placeholder pods ("balloons") at the lowest priority, so every real pod may take their room at
//! once, whatever the PriorityClass setting; the cluster autoscaler buys nodes for placeholders that find no room as
//! for any pending pod. `--warm-reserve` (on `run`, `compare`, `eval`, `record` and `gui`; the window's toolbar menu;
//! stored in recordings) wraps every policy — or those `--warm-reserve-for` names ([`reserve_of`]) — in [`WarmReserve`]
//! to measure what holding capacity ahead of unannounced spikes buys and what it costs: the price of the P0+P1
//! breach target that no controller reaches with the provisioner's boot rate alone. It takes one share for every pool
//! (`0.3`) or a share per named pool (`shared-general=0.4,merchant-general=0.1`; pools not named hold none of it).
//!
//! The rule, every [`WarmReserveConfig::period_secs`]: each pool's reserve target is its share × the CPU its pods
//! request now. While pods that may use a pool wait for nodes, its target is not raised: the nodes a bigger reserve
//! pulls in would queue at the provisioner ahead of those the waiting pods need (and with PriorityClasses the pods
//! take the placeholders' room anyway). A policy that keeps a reserve of its own (HiRL's Commander) keeps the larger
//! of its target and this one, pool by pool.
//!
//! Units: millicores. Deterministic: pools in order, no clocks; the wrapper keeps the inner policy's name, so
//! scorecards and tables compare like with like.

use std::fmt;

use crate::scenario::Scenario;
use crate::sim::{Actions, Layout, Observation, PoolId, UnschedulableView};

use super::Autoscaler;

/// What a warm reserve holds: a fraction of the CPU requested in a pool (0.15 = 15% above the current requests), for
/// every pool or for the named ones. Recordings store it as is (`warm_reserve: Some(Every(0.3))`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum WarmReserveSpec {
    /// The same share in every pool.
    Every(f64),
    /// A share per named pool, in the order given; pools not named hold no reserve of this wrapper's.
    Pools(Vec<(String, f64)>),
}

/// Why a `--warm-reserve` value is refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BadWarmReserve {
    #[error(
        "warm reserve must be a share between 0 and 1 of the CPU the pods request (0.15 = 15%), or POOL=SHARE pairs \
         separated by commas (shared-general=0.3,merchant-general=0.1); got {0:?}"
    )]
    Syntax(String),
    #[error("warm reserve names pool {0:?} twice")]
    Repeated(String),
    #[error("warm reserve share {0} is not a fraction between 0 and 1")]
    OutOfRange(f64),
    #[error("warm reserve names pool {pool:?}, which scenario {scenario:?} does not have (its pools: {known})")]
    UnknownPool { pool: String, scenario: String, known: String },
}

fn in_range(share: f64) -> Result<(), BadWarmReserve> {
    if share.is_finite() && (0.0..=1.0).contains(&share) { Ok(()) } else { Err(BadWarmReserve::OutOfRange(share)) }
}

fn parse_share(s: &str) -> Option<f64> {
    // `+ 0.0` turns `-0` into 0, so it prints as "0%", not "-0%".
    s.trim().parse::<f64>().ok().filter(|&v| in_range(v).is_ok()).map(|v| v + 0.0)
}

impl WarmReserveSpec {
    /// Parses the command-line form: `SHARE` or `POOL=SHARE[,POOL=SHARE…]`.
    pub fn parse(s: &str) -> Result<Self, BadWarmReserve> {
        let syntax = || BadWarmReserve::Syntax(s.to_string());
        if !s.contains('=') {
            return parse_share(s).map(Self::Every).ok_or_else(syntax);
        }
        let mut pools: Vec<(String, f64)> = Vec::new();
        for pair in s.split(',') {
            let (pool, share) = pair.split_once('=').ok_or_else(syntax)?;
            let pool = pool.trim();
            let share = parse_share(share).ok_or_else(syntax)?;
            if pool.is_empty() {
                return Err(syntax());
            }
            if pools.iter().any(|(p, _)| p == pool) {
                return Err(BadWarmReserve::Repeated(pool.to_string()));
            }
            pools.push((pool.to_string(), share));
        }
        Ok(Self::Pools(pools))
    }

    /// This reserve without the pools `scenario` lacks (`None` when none is left), and what was left out
    /// (`"gpu=0.1"`): what a reserve set for one scenario still means on another.
    pub fn kept_for(&self, scenario: &Scenario) -> (Option<WarmReserveSpec>, Vec<String>) {
        let Self::Pools(pools) = self else {
            return (Some(self.clone()), Vec::new());
        };
        let (kept, dropped): (Vec<_>, Vec<_>) =
            pools.iter().cloned().partition(|(pool, _)| scenario.pools.iter().any(|p| &p.name == pool));
        let dropped = dropped.into_iter().map(|(pool, share)| format!("{pool}={share}")).collect();
        ((!kept.is_empty()).then_some(Self::Pools(kept)), dropped)
    }

    /// Every share is a fraction and every pool the spec names exists in `scenario`, once (a spec from the command
    /// line is already checked for the first; one read from a recording is not).
    pub fn check(&self, scenario: &Scenario) -> Result<(), BadWarmReserve> {
        let pools = match self {
            Self::Every(share) => return in_range(*share),
            Self::Pools(pools) => pools,
        };
        for (i, (pool, share)) in pools.iter().enumerate() {
            in_range(*share)?;
            if pools[..i].iter().any(|(p, _)| p == pool) {
                return Err(BadWarmReserve::Repeated(pool.clone()));
            }
            if !scenario.pools.iter().any(|p| &p.name == pool) {
                let known: Vec<&str> = scenario.pools.iter().map(|p| p.name.as_str()).collect();
                return Err(BadWarmReserve::UnknownPool {
                    pool: pool.clone(),
                    scenario: scenario.name.clone(),
                    known: known.join(", "),
                });
            }
        }
        Ok(())
    }

    /// The command-line form [`WarmReserveSpec::parse`] reads back to this spec: `0.3` or
    /// `shared-general=0.4,merchant-general=0.1`.
    pub fn spec(&self) -> String {
        match self {
            Self::Every(share) => share.to_string(),
            Self::Pools(pools) => pools.iter().map(|(p, s)| format!("{p}={s}")).collect::<Vec<_>>().join(","),
        }
    }

    /// The share of each of `layout`'s pools, in pool order (0 for a pool not named).
    pub fn shares(&self, layout: &Layout) -> Vec<f64> {
        match self {
            Self::Every(share) => vec![*share; layout.pools.len()],
            Self::Pools(named) => layout
                .pools
                .iter()
                .map(|p| named.iter().find(|(n, _)| *n == p.name).map_or(0.0, |&(_, share)| share))
                .collect(),
        }
    }
}

/// Readable form for headers: "30% in every pool", "40% in shared-general, 10% in merchant-general".
impl fmt::Display for WarmReserveSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Every(share) => write!(f, "{}% in every pool", percent(*share)),
            Self::Pools(pools) => {
                let parts: Vec<String> = pools.iter().map(|(p, s)| format!("{}% in {p}", percent(*s))).collect();
                f.write_str(&parts.join(", "))
            }
        }
    }
}

/// The reserve `policy` (a command-line name) runs under: `spec` when `held_by` names it or is empty (every policy).
pub fn reserve_of<'a>(
    spec: Option<&'a WarmReserveSpec>,
    held_by: &[String],
    policy: &str,
) -> Option<&'a WarmReserveSpec> {
    spec.filter(|_| held_by.is_empty() || held_by.iter().any(|p| p == policy))
}

/// A reserve and who holds it, as headers and the window say it: "40% in shared-general", or, when only some
/// policies (command-line names) hold it, "40% in shared-general, under hirl only".
pub fn describe_held(spec: &WarmReserveSpec, held_by: &[String]) -> String {
    if held_by.is_empty() { spec.to_string() } else { format!("{spec}, under {} only", held_by.join(", ")) }
}

/// A share as a percentage to two decimals, without float noise (0.3 → "30", 0.125 → "12.5").
/// The share in percent to four decimals: enough that a share short of 1 never prints as "100%" (0.999999 did).
fn percent(share: f64) -> f64 {
    (share * 1e6).round() / 1e4
}

/// Settings of [`WarmReserve`], with their defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct WarmReserveConfig {
    /// The reserve asked for. No default: the reserve is off unless asked for.
    pub spec: WarmReserveSpec,
    /// Seconds between re-sizings. Default 60 (HiRL's Commander period, at which it sets its own reserve).
    pub period_secs: u64,
}

impl WarmReserveConfig {
    pub fn new(spec: WarmReserveSpec) -> Self {
        Self { spec, period_secs: 60 }
    }
}

/// Any policy with a warm reserve under it (see the module docs).
#[derive(Clone)]
pub struct WarmReserve {
    inner: Box<dyn Autoscaler>,
    period_secs: u64,
    /// Per pool: the share asked for, this wrapper's target and the inner policy's last one (millicores).
    shares: Vec<f64>,
    own_millicores: Vec<u64>,
    inner_millicores: Vec<u64>,
    domain_pools: Vec<Vec<PoolId>>,
    scratch: Vec<UnschedulableView>,
}

impl WarmReserve {
    pub fn new(inner: Box<dyn Autoscaler>, layout: &Layout, cfg: &WarmReserveConfig) -> Self {
        Self {
            inner,
            period_secs: cfg.period_secs,
            shares: cfg.spec.shares(layout),
            own_millicores: vec![0; layout.pools.len()],
            inner_millicores: vec![0; layout.pools.len()],
            domain_pools: layout.domains.iter().map(|d| d.pools.clone()).collect(),
            scratch: Vec::new(),
        }
    }

    fn resize(&mut self, obs: &Observation<'_>) {
        obs.unschedulable(&mut self.scratch);
        for (p, own) in self.own_millicores.iter_mut().enumerate() {
            let pool = PoolId(p as u8);
            let wanted = (obs.pool(pool).cpu_requested_millicores as f64 * self.shares[p]) as u64;
            let starved = self.scratch.iter().any(|u| self.domain_pools[u.domain.0 as usize].contains(&pool));
            *own = if starved { wanted.min(*own) } else { wanted };
        }
    }
}

impl Autoscaler for WarmReserve {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn decide(&mut self, obs: &Observation<'_>, out: &mut Actions) {
        let first = out.reserves.len();
        self.inner.decide(obs, out);
        // The inner policy's targets of this tick, if it set any, replace its standing ones.
        for &(pool, mc) in &out.reserves[first..] {
            self.inner_millicores[pool.0 as usize] = mc;
        }
        let inner_set = out.reserves.len() > first;
        let period = obs.now_secs().is_multiple_of(self.period_secs);
        if period {
            self.resize(obs);
        }
        if period || inner_set {
            out.reserves.truncate(first);
            for (p, (&own, &inner)) in self.own_millicores.iter().zip(&self.inner_millicores).enumerate() {
                out.reserves.push((PoolId(p as u8), own.max(inner)));
            }
        }
    }

    fn clone_box(&self) -> Box<dyn Autoscaler> {
        Box::new(self.clone())
    }

    fn announce(&mut self, event: &crate::scenario::EventSpec, layout: &Layout, now_secs: u64) {
        self.inner.announce(event, layout, now_secs);
    }

    fn inspect(&self) -> Option<&dyn std::any::Any> {
        self.inner.inspect()
    }

    fn inspect_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        self.inner.inspect_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Simulation;

    fn small() -> crate::scenario::Scenario {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/small.ron");
        crate::scenario::load_file(&path).expect("small.ron loads")
    }

    fn every(share: f64) -> WarmReserveConfig {
        WarmReserveConfig::new(WarmReserveSpec::Every(share))
    }

    #[test]
    fn specs_parse_and_bad_ones_are_refused_with_the_value() {
        assert_eq!(WarmReserveSpec::parse("0.15"), Ok(WarmReserveSpec::Every(0.15)));
        assert_eq!(WarmReserveSpec::parse("0"), Ok(WarmReserveSpec::Every(0.0)));
        assert_eq!(
            WarmReserveSpec::parse("shared-general=0.4, merchant-general=0.1"),
            Ok(WarmReserveSpec::Pools(vec![("shared-general".into(), 0.4), ("merchant-general".into(), 0.1)]))
        );
        for bad in ["-0.1", "1.5", "NaN", "15%", "", "a=2", "=0.1", "a=0.1,b", "a=0.1,,b=0.2"] {
            let err = WarmReserveSpec::parse(bad).expect_err(bad);
            assert!(err.to_string().contains(&format!("got {bad:?}")), "{err}");
        }
        assert_eq!(WarmReserveSpec::parse("a=0.1,a=0.2"), Err(BadWarmReserve::Repeated("a".into())));
        // Printed as given: no "-0%", and a share short of the whole never as "100%".
        let shown = |text: &str| WarmReserveSpec::parse(text).expect(text).to_string();
        assert_eq!(shown("-0"), "0% in every pool");
        assert_eq!(shown("0.999999"), "99.9999% in every pool");
        assert_eq!(shown("a=0.15"), "15% in a");
    }

    #[test]
    fn the_command_line_form_reads_back_to_the_same_spec() {
        for text in ["0.15", "0", "shared-general=0.4,merchant-general=0.1", " a = 0.25 "] {
            let spec = WarmReserveSpec::parse(text).expect(text);
            assert_eq!(WarmReserveSpec::parse(&spec.spec()), Ok(spec.clone()), "{text} -> {}", spec.spec());
        }
        assert_eq!(WarmReserveSpec::Pools(vec![("a".into(), 0.3), ("b".into(), 0.05)]).spec(), "a=0.3,b=0.05");
    }

    #[test]
    fn a_reserve_held_by_some_policies_says_so_and_holds_for_them_only() {
        let spec = WarmReserveSpec::Pools(vec![("shared-general".into(), 0.4)]);
        assert_eq!(describe_held(&spec, &[]), "40% in shared-general");
        assert_eq!(describe_held(&spec, &["hirl".into()]), "40% in shared-general, under hirl only");
        let held = |held_by: &[String], policy: &str| reserve_of(Some(&spec), held_by, policy).is_some();
        assert!(held(&[], "hpa"), "no names: every policy holds it");
        assert!(held(&["hirl".into()], "hirl") && !held(&["hirl".into()], "hpa"));
        // Names are command-line names: the fallback's run name is not one.
        assert!(!held(&["hirl".into()], "hirl (HPA fallback)"));
        assert_eq!(reserve_of(None, &[], "hpa"), None, "no reserve: nobody holds one");
    }

    #[test]
    fn named_pools_are_checked_against_the_scenario_and_the_rest_hold_none() {
        let s = small();
        let layout = Simulation::new(&s, s.seed).layout().clone();
        let first = layout.pools[0].name.clone();
        let spec = WarmReserveSpec::parse(&format!("{first}=0.25")).expect("parses");
        assert_eq!(spec.check(&s), Ok(()));
        let shares = spec.shares(&layout);
        assert_eq!(shares[0], 0.25);
        assert!(shares[1..].iter().all(|&x| x == 0.0), "{shares:?}");
        let err = WarmReserveSpec::parse("no-such-pool=0.1").expect("parses").check(&s).expect_err("unknown pool");
        let msg = err.to_string();
        assert!(msg.contains("no-such-pool") && msg.contains(&s.name) && msg.contains(&first), "{msg}");
        assert_eq!(spec.to_string(), format!("25% in {first}"));
        // A spec read from a file was never parsed: its shares and repeats are checked here too.
        assert_eq!(WarmReserveSpec::Every(1.5).check(&s), Err(BadWarmReserve::OutOfRange(1.5)));
        let twice = WarmReserveSpec::Pools(vec![(first.clone(), 0.1), (first.clone(), 0.2)]);
        assert_eq!(twice.check(&s), Err(BadWarmReserve::Repeated(first.clone())));
        assert_eq!(WarmReserveSpec::Every(0.3).to_string(), "30% in every pool");
        // On a scenario without some of its pools, a reserve keeps the pools it has.
        let mixed = WarmReserveSpec::parse(&format!("gpu=0.1,{first}=0.25")).expect("parses");
        assert_eq!(mixed.kept_for(&s), (Some(spec.clone()), vec!["gpu=0.1".to_string()]));
        let none = WarmReserveSpec::parse("gpu=0.1").expect("parses");
        assert_eq!(none.kept_for(&s), (None, vec!["gpu=0.1".to_string()]));
        let every = WarmReserveSpec::Every(0.3);
        assert_eq!(every.kept_for(&s), (Some(every.clone()), Vec::new()));
    }

    #[test]
    fn the_reserve_is_a_share_of_each_pools_requests_and_keeps_a_larger_inner_one() {
        let s = small();
        let sim = Simulation::new(&s, s.seed);
        let layout = sim.layout().clone();
        let hpa = super::super::baseline("hpa", &layout).expect("hpa");
        let mut w = WarmReserve::new(hpa, &layout, &every(0.2));
        let mut out = Actions::default();
        w.decide(&sim.observe(), &mut out);
        assert_eq!(w.name(), "hpa", "scorecards keep the inner policy's name");
        assert_eq!(out.reserves.len(), layout.pools.len());
        for &(pool, mc) in &out.reserves {
            let requested = sim.observe().pool(pool).cpu_requested_millicores;
            assert_eq!(mc, (requested as f64 * 0.2) as u64, "pool {pool:?}");
            assert!(requested > 0);
        }
        // An inner policy's larger target stands; a smaller one is raised to the share.
        let mut w = WarmReserve::new(Box::new(FixedReserve(u64::MAX / 4)), &layout, &every(0.2));
        let mut out = Actions::default();
        w.decide(&sim.observe(), &mut out);
        assert!(out.reserves.iter().all(|&(_, mc)| mc == u64::MAX / 4), "{:?}", out.reserves);
        let mut w = WarmReserve::new(Box::new(FixedReserve(1)), &layout, &every(0.2));
        let mut out = Actions::default();
        w.decide(&sim.observe(), &mut out);
        assert!(out.reserves.iter().all(|&(_, mc)| mc > 1), "{:?}", out.reserves);
    }

    #[test]
    fn a_starved_pool_keeps_its_target_from_growing() {
        let s = small();
        let mut sim = Simulation::new(&s, s.seed);
        let layout = sim.layout().clone();
        let mut w = WarmReserve::new(Box::new(FixedReserve(0)), &layout, &every(0.2));
        let mut out = Actions::default();
        w.decide(&sim.observe(), &mut out);
        let before: Vec<u64> = out.reserves.iter().map(|r| r.1).collect();
        // Every app asks for twice its pods: far more than the pools hold, so pods wait in every pool.
        let mut grow = Actions::default();
        for (i, _) in layout.apps.iter().enumerate() {
            let app = crate::sim::AppId(i as u32);
            grow.replicas.push((app, sim.observe().app_desired_replicas(app) * 2));
        }
        sim.apply(&grow);
        while !sim.now_secs().is_multiple_of(60) || sim.now_secs() == 0 {
            sim.step();
        }
        let mut pending = Vec::new();
        sim.observe().unschedulable(&mut pending);
        assert!(!pending.is_empty(), "the surge leaves pods waiting");
        let mut out = Actions::default();
        w.decide(&sim.observe(), &mut out);
        let after: Vec<u64> = out.reserves.iter().map(|r| r.1).collect();
        let mut held_back = 0;
        for (p, (a, b)) in after.iter().zip(&before).enumerate() {
            let pool = PoolId(p as u8);
            let waits = pending.iter().any(|u| layout.domains[u.domain.0 as usize].pools.contains(&pool));
            if waits {
                assert!(a <= b, "pool {p}: {a} > {b} while pods wait");
                let wanted = (sim.observe().pool(pool).cpu_requested_millicores as f64 * 0.2) as u64;
                held_back += usize::from(wanted > *b);
            }
        }
        assert!(held_back > 0, "some pool's requests grew, so the rule had something to hold back");
    }

    /// A policy that only ever asks for the same reserve in every pool.
    #[derive(Clone)]
    struct FixedReserve(u64);

    impl Autoscaler for FixedReserve {
        fn name(&self) -> &str {
            "fixed"
        }
        fn decide(&mut self, obs: &Observation<'_>, out: &mut Actions) {
            if obs.now_secs().is_multiple_of(60) {
                for p in 0..obs.layout().pools.len() {
                    out.reserves.push((PoolId(p as u8), self.0));
                }
            }
        }
        fn clone_box(&self) -> Box<dyn Autoscaler> {
            Box::new(self.clone())
        }
    }
}
