//! The scheduler: places pending pods onto pools, highest priority first when PriorityClasses are on, oldest first
//! otherwise; preempts lower-priority pods when PriorityClasses are on; fills reserve placeholders last.
//!
//! Placement is per pool in aggregate (see `nodes`): a workload tries its pools in preference order and takes what
//! free CPU and memory allow. Reserve placeholders run at a negative priority, so every real pod may take their room
//! whatever the PriorityClass setting — that is what makes them warm reserve.
//! Preemption frees the victims' resources at once (the victims' graceful termination is not modelled) and victims
//! are recreated as Pending by their ReplicaSets. Victims are taken from the lowest priority upward, and within a
//! priority from the newest workload index downward, so the choice is deterministic.

use super::nodes::reserve_memory_mib;
use super::{Simulation, hold, release};

impl Simulation {
    pub(super) fn schedule(&mut self) {
        let now = self.state.now_secs;
        let priority_on = self.state.priority_classes;
        let mut queue: Vec<usize> = (0..self.state.groups.len())
            .filter(|&i| self.state.groups[i].pending > 0)
            .collect();
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
            let pools: Vec<usize> = self.layout.domains[domain].pools.iter().map(|p| p.0 as usize).collect();
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

    /// Free room for real pods in a pool: capacity minus pods (reserve placeholders yield).
    fn room(&self, pool: usize) -> (u64, u64) {
        let info = &self.layout.pools[pool];
        let p = &self.state.pools[pool];
        let cap_cpu = u64::from(p.nodes) * info.node_alloc_cpu_millicores;
        let cap_mem = u64::from(p.nodes) * info.node_alloc_memory_mib;
        (
            cap_cpu.saturating_sub(p.cpu_alloc_millicores),
            cap_mem.saturating_sub(p.memory_alloc_mib),
        )
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
                reserve_memory_mib(p.reserve_placed_millicores, info.node_alloc_cpu_millicores, info.node_alloc_memory_mib)
                    <= free_mem
            );
        }
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
        let lower_holds = self.state.pools[pool]
            .cpu_by_domain_millicores
            .iter()
            .enumerate()
            .any(|(d, &cpu)| cpu > 0 && self.layout.domains[d].priority.rank() > my_rank);
        if !lower_holds {
            return;
        }
        let mut victims: Vec<usize> = (0..self.state.groups.len())
            .filter(|&j| rank_of(self, j) > my_rank)
            .collect();
        victims.sort_by_key(|&j| (std::cmp::Reverse(rank_of(self, j)), std::cmp::Reverse(j)));
        for j in victims {
            if need_cpu == 0 && need_mem == 0 {
                break;
            }
            let vw = self.state.workloads[j].clone();
            let held = self.state.groups[j].ready_by_pool[pool]
                + self.state.groups[j]
                    .starting
                    .iter()
                    .filter(|c| c.pool as usize == pool)
                    .map(|c| c.count)
                    .sum::<u32>();
            if held == 0 {
                continue;
            }
            let by_cpu = need_cpu.div_ceil(u64::from(vw.cpu_request_millicores.max(1)));
            let by_mem = need_mem.div_ceil(u64::from(vw.memory_request_mib.max(1)));
            let n = by_cpu.max(by_mem).min(u64::from(held)) as u32;
            let evicted = self.state.groups[j].evict(n, pool, now);
            release(&mut self.state.pools[pool], &vw, evicted);
            need_cpu = need_cpu.saturating_sub(u64::from(evicted) * u64::from(vw.cpu_request_millicores));
            need_mem = need_mem.saturating_sub(u64::from(evicted) * u64::from(vw.memory_request_mib));
        }
    }
}
