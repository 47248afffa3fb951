//! The scheduler: places pending pods onto pools, highest priority first when PriorityClasses are on, oldest first
//! otherwise; preempts lower-priority pods when PriorityClasses are on; fills reserve placeholders last.
//!
//! Placement is per pool in aggregate (see `nodes`): a workload tries the pools it may use, least allocated first
//! (the default scheduler's LeastAllocated scoring), and takes what free CPU and memory allow. Reserve placeholders run at a negative priority, so every real pod may take their room
//! whatever the PriorityClass setting — that is what makes them warm reserve.
//! Preemption frees the victims' resources at once (the victims' graceful termination is not modelled) and victims
//! are recreated as Pending by their ReplicaSets. Victims are taken from the lowest priority upward; within a
//! priority, from every workload in proportion to what it holds in the pool (in workload order, so deterministic).

use super::nodes::reserve_memory_mib;
use super::{Simulation, hold, release};

impl Simulation {
    pub(super) fn schedule(&mut self) {
        let now = self.state.now_secs;
        let priority_on = self.state.priority_classes;
        let mut queue: Vec<usize> =
            (0..self.state.groups.len()).filter(|&i| self.state.groups[i].pending > 0).collect();
        if priority_on {
            queue.sort_by_key(|&i| {
                let rank = self.layout.domains[self.state.workloads[i].domain as usize].priority.rank();
                (rank, self.state.groups[i].pending_since_secs, i)
            });
        } else {
            queue.sort_by_key(|&i| (self.state.groups[i].pending_since_secs, i));
        }

        for &i in &queue {
            let domain = self.state.workloads[i].domain as usize;
            let mut pools: Vec<usize> = self.layout.domains[domain].pools.iter().map(|p| p.0 as usize).collect();
            // LeastAllocated scoring: the pool with the largest free share of its CPU first (stable, so ties keep the
            // scenario's order).
            pools.sort_by(|&a, &b| self.free_share(b).total_cmp(&self.free_share(a)));
            for &p in &pools {
                self.place_into(i, p, now);
                if self.state.groups[i].pending == 0 {
                    break;
                }
            }
            if priority_on && self.state.groups[i].pending > 0 {
                for &p in &pools {
                    self.preempt_for(i, p, now);
                    self.place_into(i, p, now);
                    if self.state.groups[i].pending == 0 {
                        break;
                    }
                }
            }
        }
        self.place_reserve();
    }

    /// Free fraction of a pool's CPU for real pods (0 for an empty pool).
    fn free_share(&self, pool: usize) -> f64 {
        let cap = u64::from(self.state.pools[pool].nodes) * self.layout.pools[pool].node_alloc_cpu_millicores;
        if cap == 0 {
            return 0.0;
        }
        self.room(pool).0 as f64 / cap as f64
    }

    /// Free room for real pods in a pool: capacity minus pods (reserve placeholders yield).
    fn room(&self, pool: usize) -> (u64, u64) {
        let info = &self.layout.pools[pool];
        let p = &self.state.pools[pool];
        let cap_cpu = u64::from(p.nodes) * info.node_alloc_cpu_millicores;
        let cap_mem = u64::from(p.nodes) * info.node_alloc_memory_mib;
        (cap_cpu.saturating_sub(p.cpu_alloc_millicores), cap_mem.saturating_sub(p.memory_alloc_mib))
    }

    fn place_into(&mut self, i: usize, pool: usize, now: u64) {
        let w = &self.state.workloads[i];
        let (free_cpu, free_mem) = self.room(pool);
        let fit = (free_cpu / u64::from(w.cpu_request_millicores.max(1)))
            .min(free_mem / u64::from(w.memory_request_mib.max(1)))
            .min(u64::from(self.state.groups[i].pending)) as u32;
        if fit == 0 {
            return;
        }
        let cold_start = u64::from(w.cold_start_secs);
        self.state.groups[i].place(fit, pool, now, cold_start);
        hold(&mut self.state.pools[pool], &self.state.workloads[i], fit);
        self.shrink_reserve(pool);
    }

    /// Reserve placeholders displaced by real pods are preempted (they go back to waiting for room).
    fn shrink_reserve(&mut self, pool: usize) {
        let info = &self.layout.pools[pool];
        let (free_cpu, free_mem) = self.room(pool);
        let p = &mut self.state.pools[pool];
        let mem_room_as_cpu = free_mem * info.node_alloc_cpu_millicores / info.node_alloc_memory_mib.max(1);
        p.reserve_placed_millicores = p.reserve_placed_millicores.min(free_cpu).min(mem_room_as_cpu);
    }

    fn place_reserve(&mut self) {
        for pool in 0..self.state.pools.len() {
            let info = &self.layout.pools[pool];
            let (free_cpu, free_mem) = self.room(pool);
            let p = &mut self.state.pools[pool];
            let mem_room_as_cpu = free_mem * info.node_alloc_cpu_millicores / info.node_alloc_memory_mib.max(1);
            p.reserve_placed_millicores = p.reserve_target_millicores.min(free_cpu).min(mem_room_as_cpu);
            debug_assert!(
                reserve_memory_mib(
                    p.reserve_placed_millicores,
                    info.node_alloc_cpu_millicores,
                    info.node_alloc_memory_mib
                ) <= free_mem
            );
        }
    }

    /// Evicts up to `n` pods of workload `j` from `pool`, returns their resources and lowers what is still needed.
    fn evict_counted(
        &mut self,
        j: usize,
        pool: usize,
        n: u32,
        now: u64,
        need_cpu: &mut u64,
        need_mem: &mut u64,
    ) -> u32 {
        if n == 0 {
            return 0;
        }
        let evicted = self.state.groups[j].evict(n, pool, now);
        let w = &self.state.workloads[j];
        release(&mut self.state.pools[pool], w, evicted);
        *need_cpu = need_cpu.saturating_sub(u64::from(evicted) * u64::from(w.cpu_request_millicores));
        *need_mem = need_mem.saturating_sub(u64::from(evicted) * u64::from(w.memory_request_mib));
        evicted
    }

    /// Whether pods of a priority below rank `rank` hold any CPU in `pool` (starting, ready or terminating).
    pub(super) fn lower_priority_holds(&self, pool: usize, rank: u8) -> bool {
        self.state.pools[pool]
            .cpu_by_domain_millicores
            .iter()
            .enumerate()
            .any(|(d, &cpu)| cpu > 0 && self.layout.domains[d].priority.rank() > rank)
    }

    /// Evicts lower-priority pods from `pool` until workload `i`'s pending pods fit (or no victim is left).
    fn preempt_for(&mut self, i: usize, pool: usize, now: u64) {
        let rank_of = |s: &Self, j: usize| s.layout.domains[s.state.workloads[j].domain as usize].priority.rank();
        let my_rank = rank_of(self, i);
        let w = self.state.workloads[i].clone();
        let pending = u64::from(self.state.groups[i].pending);
        let (free_cpu, free_mem) = self.room(pool);
        let mut need_cpu = (pending * u64::from(w.cpu_request_millicores)).saturating_sub(free_cpu);
        let mut need_mem = (pending * u64::from(w.memory_request_mib)).saturating_sub(free_mem);
        if need_cpu == 0 && need_mem == 0 {
            return;
        }
        // Quick exit: nobody of lower priority holds anything here.
        if !self.lower_priority_holds(pool, my_rank) {
            return;
        }
        // Victims by priority, lowest first. Within one priority the room is taken from every workload in
        // proportion to what it holds here, as the scheduler's node-by-node choice spreads over many apps; taking
        // it all from one app would wipe that app out.
        let mut ranks: Vec<u8> =
            (0..self.state.groups.len()).map(|j| rank_of(self, j)).filter(|&r| r > my_rank).collect();
        ranks.sort_unstable_by(|a, b| b.cmp(a));
        ranks.dedup();
        for rank in ranks {
            if need_cpu == 0 && need_mem == 0 {
                break;
            }
            let members: Vec<(usize, u32)> = (0..self.state.groups.len())
                .filter(|&j| rank_of(self, j) == rank)
                .map(|j| (j, self.state.groups[j].running_in(pool)))
                .filter(|&(_, held)| held > 0)
                .collect();
            let held_cpu: u64 = members
                .iter()
                .map(|&(j, held)| u64::from(held) * u64::from(self.state.workloads[j].cpu_request_millicores))
                .sum();
            let held_mem: u64 = members
                .iter()
                .map(|&(j, held)| u64::from(held) * u64::from(self.state.workloads[j].memory_request_mib))
                .sum();
            let fraction =
                (need_cpu as f64 / held_cpu.max(1) as f64).max(need_mem as f64 / held_mem.max(1) as f64).min(1.0);
            // Whole shares first (rounded down, so a one-pod app is not wiped out by a small fraction), then single
            // pods from the largest holders until the room is there.
            let mut left: Vec<(usize, u32)> = Vec::with_capacity(members.len());
            for &(j, held) in &members {
                let n = (f64::from(held) * fraction).floor() as u32;
                let evicted = self.evict_counted(j, pool, n, now, &mut need_cpu, &mut need_mem);
                left.push((j, held - evicted));
            }
            left.sort_by_key(|&(j, held)| (std::cmp::Reverse(held), j));
            while need_cpu > 0 || need_mem > 0 {
                let mut progress = false;
                for (j, held) in left.iter_mut() {
                    if need_cpu == 0 && need_mem == 0 {
                        break;
                    }
                    if *held > 0 {
                        let evicted = self.evict_counted(*j, pool, 1, now, &mut need_cpu, &mut need_mem);
                        *held -= evicted;
                        progress |= evicted > 0;
                    }
                }
                if !progress {
                    break;
                }
            }
        }
    }
}
