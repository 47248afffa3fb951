//! Why each cascade happened, read back from a run's timeline.
//!
//! The scorecard counts a cascade when a domain's breach starts while a domain linked to it was in breach at the
//! tick before (see [`super::scorecard`]). This module finds the same breaches in the timeline and says which links
//! carried each one, strongest first:
//! - [`CascadeLink::Latency`]: the domain calls the breaching one inline, so that one's p99 is part of its own (the
//!   same trouble, seen again one hop up the call graph);
//! - [`CascadeLink::Load`]: the breaching domain calls this one inline, so its surge is this one's load;
//! - [`CascadeLink::Pool`]: only a node pool is shared, so the two competed for capacity (DESIGN §4's cascade
//!   propagation: one domain's pods take the room another's need).
//!
//! Contract: the cascades are exactly the scorecard's, one per counted breach start, in timeline order (so the count
//! per domain equals `cascade_events`; a test holds this on real runs). Upstream domains in scenario order. Times in
//! simulated seconds since the run's start. Pure: the same timeline gives the same answer.

use serde::Serialize;

use super::breach_cause::BreachMinutesByCause;
use super::{TICK_SECS, TimelineEvent, TimelineKind};
use crate::scenario::describe::short_duration;
use crate::scenario::{DomainLinks, Scenario};

/// How a breach reached a linked domain, strongest first (the derived order is that ranking).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CascadeLink {
    /// This domain calls the breaching one inline: the callee's latency is part of its own.
    Latency,
    /// The breaching domain calls this one inline: the caller's load is this one's.
    Load,
    /// They share a node pool and nothing else.
    Pool,
}

impl CascadeLink {
    pub const ALL: [CascadeLink; 3] = [CascadeLink::Latency, CascadeLink::Load, CascadeLink::Pool];

    /// The strongest link from `domain` to `upstream`, if any.
    pub fn between(links: &DomainLinks, domain: usize, upstream: usize) -> Option<Self> {
        if links.calls(domain, upstream) {
            Some(Self::Latency)
        } else if links.calls(upstream, domain) {
            Some(Self::Load)
        } else if !links.shared_pools(domain, upstream).is_empty() {
            Some(Self::Pool)
        } else {
            None
        }
    }

    /// A few words for tables and timelines.
    pub fn label(self) -> &'static str {
        match self {
            Self::Latency => "callee's latency",
            Self::Load => "caller's load",
            Self::Pool => "shared pool",
        }
    }
}

/// A linked domain that was in breach when a cascade began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Upstream {
    pub domain: u8,
    pub link: CascadeLink,
    /// When its breach began.
    pub breaching_since_secs: u64,
}

/// One cascade: a breach of `domain` that began at `t_secs` while the `upstream` domains were in breach.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cascade {
    pub t_secs: u64,
    pub domain: u8,
    /// Never empty; strongest link first, then the earliest breach, then scenario order.
    pub upstream: Vec<Upstream>,
    /// How long this breach lasted, from its start to the tick it ended (a one-tick breach lasts one tick, 5 s);
    /// `None` while it has not ended by the timeline's last event.
    pub lasted_secs: Option<u64>,
    /// What held this breach's minutes (see [`super::breach_cause`]); `None` while it has not ended.
    pub held_by: Option<BreachMinutesByCause>,
}

impl Cascade {
    /// The strongest link that carried it.
    pub fn link(&self) -> CascadeLink {
        self.upstream.first().map_or(CascadeLink::Pool, |u| u.link)
    }

    /// "after payment (callee's latency, 5 s into its breach), internal (shared pool, 2 min 30 s into its breach);
    /// lasted 40 s", each domain named by its id in `scenario`.
    pub fn describe(&self, scenario: &Scenario) -> String {
        format!("{}; {}", self.after(scenario), self.lasted())
    }

    /// "after payment (callee's latency, 5 s into its breach), internal (shared pool, 2 min 30 s into its breach)":
    /// the breaches it followed, strongest link first.
    pub fn after(&self, scenario: &Scenario) -> String {
        let each: Vec<String> = self
            .upstream
            .iter()
            .map(|u| {
                let into = short_duration(self.t_secs.saturating_sub(u.breaching_since_secs));
                format!("{} ({}, {into} into its breach)", scenario.domain_id(usize::from(u.domain)), u.link.label())
            })
            .collect();
        format!("after {}", each.join(", "))
    }

    /// [`lasted_label`] of this breach.
    pub fn lasted(&self) -> String {
        lasted_label(self.lasted_secs)
    }
}

/// How long cascades lasted, in four bins: one tick, up to a minute, up to ten minutes, longer (or not over when
/// the run ended). The same cascades as [`CascadeCounts`], binned by length instead of link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CascadeLengths {
    /// Over SLO for one 5 s tick only.
    pub one_tick: u32,
    /// Longer than a tick, at most a minute.
    pub up_to_1_min: u32,
    /// Longer than a minute, at most ten.
    pub up_to_10_min: u32,
    /// Longer than ten minutes, or still in breach when the run ended.
    pub longer: u32,
    /// How long the ended ones lasted together: the time domains spent in breaches a linked domain's breach had
    /// carried to them (one still open at the timeline's end adds nothing). Seconds, so sums are exact.
    pub total_secs: u64,
}

impl CascadeLengths {
    /// Column headings, in the order of [`Self::bins`].
    pub const LABELS: [&'static str; 4] = ["one tick", "≤ 1 min", "≤ 10 min", "longer"];

    pub fn of<'a>(cascades: impl IntoIterator<Item = &'a Cascade>) -> Self {
        let mut c = Self::default();
        for x in cascades {
            c.add(x);
        }
        c
    }

    /// Counts one cascade in the bin of its length.
    pub fn add(&mut self, cascade: &Cascade) {
        self.total_secs += cascade.lasted_secs.unwrap_or(0);
        match cascade.lasted_secs {
            Some(s) if s <= TICK_SECS => self.one_tick += 1,
            Some(s) if s <= 60 => self.up_to_1_min += 1,
            Some(s) if s <= 600 => self.up_to_10_min += 1,
            _ => self.longer += 1,
        }
    }

    /// [`Self::total_secs`] in minutes.
    pub fn minutes(&self) -> f64 {
        self.total_secs as f64 / 60.0
    }

    /// The four bins, in the order of [`Self::LABELS`].
    pub fn bins(&self) -> [u32; 4] {
        [self.one_tick, self.up_to_1_min, self.up_to_10_min, self.longer]
    }

    /// "2 one tick, 1 ≤ 1 min, 1 longer (25.3 min in all)" (empty bins left out; "none" when all are).
    pub fn describe(&self) -> String {
        let parts: Vec<String> =
            Self::LABELS.iter().zip(self.bins()).filter(|&(_, n)| n > 0).map(|(l, n)| format!("{n} {l}")).collect();
        if parts.is_empty() {
            "none".to_string()
        } else {
            format!("{} ({:.1} min in all)", parts.join(", "), self.minutes())
        }
    }
}

/// Cascades per link, as counted over one or more runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CascadeCounts {
    pub latency: u32,
    pub load: u32,
    pub pool: u32,
}

impl CascadeCounts {
    pub fn of<'a>(cascades: impl IntoIterator<Item = &'a Cascade>) -> Self {
        let mut c = Self::default();
        for x in cascades {
            c.add(x.link());
        }
        c
    }

    /// Counts one cascade carried by `link`.
    pub fn add(&mut self, link: CascadeLink) {
        match link {
            CascadeLink::Latency => self.latency += 1,
            CascadeLink::Load => self.load += 1,
            CascadeLink::Pool => self.pool += 1,
        }
    }

    pub fn get(&self, link: CascadeLink) -> u32 {
        match link {
            CascadeLink::Latency => self.latency,
            CascadeLink::Load => self.load,
            CascadeLink::Pool => self.pool,
        }
    }

    pub fn total(&self) -> u32 {
        self.latency + self.load + self.pool
    }

    /// "2 through a callee's latency, 1 through a shared pool" (links with none left out; "none" when empty).
    pub fn describe(&self) -> String {
        let parts: Vec<String> = CascadeLink::ALL
            .iter()
            .filter(|&&l| self.get(l) > 0)
            .map(|&l| format!("{} through a {}", self.get(l), l.label()))
            .collect();
        if parts.is_empty() { "none".to_string() } else { parts.join(", ") }
    }
}

/// "lasted 40 s", "lasted 12 min 30 s", or "not over yet" (`None`: still in breach at the timeline's end), for any
/// breach's [`breach_lasted_secs`].
pub fn lasted_label(lasted_secs: Option<u64>) -> String {
    lasted_secs.map_or_else(|| "not over yet".to_string(), |s| format!("lasted {}", short_duration(s)))
}

/// How long `domain`'s breach that began at `start_secs` lasted: to its first end after the start (`None` while it
/// has not ended by the timeline's last event). `timeline` in time order, as a run writes it.
pub fn breach_lasted_secs(timeline: &[TimelineEvent], domain: u8, start_secs: u64) -> Option<u64> {
    breach_end(timeline, domain, start_secs).map(|(lasted_secs, _)| lasted_secs)
}

/// How long `domain`'s breach that began at `start_secs` lasted, and what held its minutes: its first end after the
/// start (`None` while it has not ended by the timeline's last event). `timeline` in time order.
pub fn breach_end(timeline: &[TimelineEvent], domain: u8, start_secs: u64) -> Option<(u64, BreachMinutesByCause)> {
    let from = timeline.partition_point(|e| e.t_secs <= start_secs);
    timeline[from..].iter().find_map(|e| match &e.kind {
        TimelineKind::BreachEnd { domain: d, held_by } if *d == domain => Some((e.t_secs - start_secs, *held_by)),
        _ => None,
    })
}

/// When `domain`'s breach that ended at `end_secs` began: its last start before the end. `timeline` in time order.
pub fn breach_began_secs(timeline: &[TimelineEvent], domain: u8, end_secs: u64) -> Option<u64> {
    let to = timeline.partition_point(|e| e.t_secs < end_secs);
    timeline[..to]
        .iter()
        .rev()
        .find(|e| matches!(e.kind, TimelineKind::BreachStart { domain: d } if d == domain))
        .map(|e| e.t_secs)
}

/// One domain's breach: from its start to the tick it ended (`None` while open).
#[derive(Clone, Copy)]
struct Episode {
    start_secs: u64,
    end_secs: Option<u64>,
}

/// Every cascade in `timeline` (a run's events in time order), with what carried it.
pub fn cascades(timeline: &[TimelineEvent], links: &DomainLinks) -> Vec<Cascade> {
    let n = links.len();
    let mut episodes: Vec<Vec<Episode>> = vec![Vec::new(); n];
    for e in timeline {
        match e.kind {
            TimelineKind::BreachStart { domain } if usize::from(domain) < n => {
                episodes[usize::from(domain)].push(Episode { start_secs: e.t_secs, end_secs: None });
            }
            TimelineKind::BreachEnd { domain, .. } if usize::from(domain) < n => {
                if let Some(last) = episodes[usize::from(domain)].last_mut() {
                    last.end_secs.get_or_insert(e.t_secs);
                }
            }
            _ => {}
        }
    }
    // Whether domain `o` was in breach at the tick before `t`: an episode began before `t` and had not ended by
    // then (an end stamped `t` means it was still in breach the tick before).
    let breaching_before = |o: usize, t: u64| -> Option<u64> {
        let eps = &episodes[o];
        let k = eps.partition_point(|ep| ep.start_secs < t);
        let ep = eps.get(k.checked_sub(1)?)?;
        ep.end_secs.is_none_or(|end| end >= t).then_some(ep.start_secs)
    };
    let mut out = Vec::new();
    for e in timeline {
        let TimelineKind::BreachStart { domain } = e.kind else { continue };
        let d = usize::from(domain);
        if d >= n {
            continue;
        }
        let mut upstream: Vec<Upstream> = (0..n)
            .filter(|&o| o != d)
            .filter_map(|o| {
                let link = CascadeLink::between(links, d, o)?;
                let since = breaching_before(o, e.t_secs)?;
                Some(Upstream { domain: o as u8, link, breaching_since_secs: since })
            })
            .collect();
        if upstream.is_empty() {
            continue;
        }
        upstream.sort_by_key(|u| (u.link, u.breaching_since_secs, u.domain));
        let (lasted_secs, held_by) = breach_end(timeline, domain, e.t_secs).unzip();
        out.push(Cascade { t_secs: e.t_secs, domain, upstream, lasted_secs, held_by });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn fraud_cascade() -> Scenario {
        crate::scenario::load_str(include_str!("../../scenarios/fraud-cascade.ron"), "fraud-cascade.ron")
            .expect("shipped scenario")
    }

    fn id(s: &Scenario, name: &str) -> u8 {
        s.domains.iter().position(|d| d.id == name).expect("domain") as u8
    }

    fn start(t_secs: u64, domain: u8) -> TimelineEvent {
        TimelineEvent { t_secs, kind: TimelineKind::BreachStart { domain } }
    }

    fn end(t_secs: u64, domain: u8) -> TimelineEvent {
        TimelineEvent { t_secs, kind: TimelineKind::BreachEnd { domain, held_by: Default::default() } }
    }

    #[test]
    fn each_cascade_names_the_strongest_link_first() {
        let s = fraud_cascade();
        let links = DomainLinks::of(&s);
        let (payment, fraud, merchant, internal) =
            (id(&s, "payment"), id(&s, "fraud"), id(&s, "merchant"), id(&s, "internal"));
        let timeline = [start(100, payment), start(105, merchant), start(115, fraud), start(120, internal)];
        let found = cascades(&timeline, &links);
        assert_eq!(found.len(), 3, "{found:?}");
        // Merchant calls Payment: Payment's latency is part of Merchant's.
        assert_eq!((found[0].domain, found[0].link()), (merchant, CascadeLink::Latency));
        // Payment calls Fraud: Payment's surge is Fraud's load (they share a pool too, but the call is stronger).
        assert_eq!((found[1].domain, found[1].link()), (fraud, CascadeLink::Load));
        assert_eq!(found[1].upstream[0].domain, payment);
        // Internal calls no one and no one calls it: it shares pools with all three.
        assert_eq!((found[2].domain, found[2].link()), (internal, CascadeLink::Pool));
        assert_eq!(found[2].upstream.len(), 3);
        assert_eq!(found[2].upstream[0].breaching_since_secs, 100, "earliest breach first: {:?}", found[2]);
        assert_eq!(found[0].describe(&s), "after payment (callee's latency, 5 s into its breach); not over yet");
        assert_eq!(
            found[2].describe(&s),
            "after payment (shared pool, 20 s into its breach), merchant (shared pool, 15 s into its breach), \
             fraud (shared pool, 5 s into its breach); not over yet"
        );
        let counts = CascadeCounts::of(&found);
        assert_eq!((counts.latency, counts.load, counts.pool, counts.total()), (1, 1, 1, 3));
        assert_eq!(
            counts.describe(),
            "1 through a callee's latency, 1 through a caller's load, 1 through a shared pool"
        );
        assert_eq!(CascadeCounts::default().describe(), "none");
        // No breach has ended: each is still open when the timeline stops.
        assert!(found.iter().all(|c| c.lasted_secs.is_none()), "{found:?}");
        assert_eq!(found[0].lasted(), "not over yet");
        assert_eq!(CascadeLengths::of(&found).bins(), [0, 0, 0, 3]);
    }

    #[test]
    fn each_cascade_knows_how_long_it_lasted() {
        let s = fraud_cascade();
        let links = DomainLinks::of(&s);
        let (payment, fraud, merchant, internal) =
            (id(&s, "payment"), id(&s, "fraud"), id(&s, "merchant"), id(&s, "internal"));
        let timeline = [
            start(100, payment),
            start(105, merchant),
            start(110, fraud),
            end(115, fraud),
            start(120, internal),
            start(130, fraud),
            end(170, internal),
            end(190, fraud),
            end(705, merchant),
            end(800, payment),
        ];
        let found = cascades(&timeline, &links);
        let lasted: Vec<(u8, Option<u64>)> = found.iter().map(|c| (c.domain, c.lasted_secs)).collect();
        // The same lengths, breach by breach, for breaches that are no cascade too (Payment's own, 700 s).
        for c in &found {
            assert_eq!(breach_lasted_secs(&timeline, c.domain, c.t_secs), c.lasted_secs, "{c:?}");
            let end = c.t_secs + c.lasted_secs.unwrap_or(0);
            assert_eq!(breach_began_secs(&timeline, c.domain, end), Some(c.t_secs), "{c:?}");
        }
        assert_eq!(breach_lasted_secs(&timeline, payment, 100), Some(700));
        assert_eq!(breach_lasted_secs(&timeline[..9], payment, 100), None, "not over by the last event");
        assert_eq!(
            lasted,
            vec![(merchant, Some(600)), (fraud, Some(5)), (internal, Some(50)), (fraud, Some(60))],
            "each cascade is measured to the end of its own breach, not of a later one"
        );
        assert_eq!((found[0].lasted(), found[1].lasted()), ("lasted 10 min".to_string(), "lasted 5 s".to_string()));
        assert_eq!(found[1].describe(&s), "after payment (caller's load, 10 s into its breach); lasted 5 s");
        let lengths = CascadeLengths::of(&found);
        assert_eq!(lengths.bins(), [1, 2, 1, 0], "bins are inclusive upward: 5 s, 50 s and 60 s, 600 s");
        assert_eq!(lengths.bins().iter().sum::<u32>(), CascadeCounts::of(&found).total());
        assert_eq!(lengths.describe(), "1 one tick, 2 ≤ 1 min, 1 ≤ 10 min (11.9 min in all)");
        assert_eq!(lengths.total_secs, 600 + 5 + 50 + 60);
        assert_eq!(CascadeLengths::default().describe(), "none");
    }

    #[test]
    fn only_a_breach_open_at_the_tick_before_counts_as_upstream() {
        let s = fraud_cascade();
        let links = DomainLinks::of(&s);
        let (payment, merchant, data) = (id(&s, "payment"), id(&s, "merchant"), id(&s, "data"));
        let timeline = [
            // Same tick: a coincidence, not a cascade.
            start(100, payment),
            start(100, merchant),
            end(150, merchant),
            // Payment's breach ends at 200: it was still in breach at 195, so a start at 200 is a cascade...
            start(200, merchant),
            end(200, payment),
            end(205, merchant),
            // ...but a start after the tick it ended is not.
            start(210, merchant),
            end(250, merchant),
            // Data shares no pool and no call with Payment.
            start(300, payment),
            start(310, data),
        ];
        let found = cascades(&timeline, &links);
        assert_eq!(found.iter().map(|c| (c.t_secs, c.domain)).collect::<Vec<_>>(), vec![(200, merchant)]);
        assert_eq!(found[0].lasted_secs, Some(5), "ended at the next tick: one tick over SLO");
    }
}
