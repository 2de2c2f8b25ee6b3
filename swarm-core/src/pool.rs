//! `SlotPool`: spawn and kill over a fixed number of slots, with generational ids; freed slots
//! are found through a bitset, so spawning a million agents into freed slots takes a scan of
//! their words, not a million heap operations.

use crate::AgentId;

/// Why the pool refused a spawn or did not recognise an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// Every slot is taken.
    #[error(
        "the swarm is full: all {capacity} agent slots are in use; kill agents or raise `max_agents`"
    )]
    Full {
        /// The pool's capacity (`max_agents`).
        capacity: u32,
    },
    /// Too many agents asked for at once.
    #[error(
        "cannot spawn {requested} agents: only {free} of {capacity} slots are free; kill agents or raise `max_agents`"
    )]
    NotEnoughSlots {
        /// How many were asked for.
        requested: u64,
        /// How many slots are free.
        free: u32,
        /// The pool's capacity.
        capacity: u32,
    },
    /// The id's agent was killed (or never belonged to this pool).
    #[error("{id} is stale: that agent was killed or belongs to another swarm")]
    Stale {
        /// The stale id.
        id: AgentId,
    },
}

/// Slot bookkeeping for a pool of `capacity` agents.
///
/// Slots are handed out lowest-first, freed ones included, so live agents stay packed at the
/// bottom of the pool and a dispatch covers few dead slots. Fresh slots are taken lazily, so
/// creating a pool of millions is O(1).
///
/// A pool may start at a base ([`with_base`](Self::with_base)): its ids then name slots
/// `base..base + capacity`, so the pools of several devices hand out ids that never collide,
/// while [`slot`](Self::slot), [`kill`](Self::kill), [`agent_in`](Self::agent_in) and
/// [`high_water`](Self::high_water) count slots from the pool's first, as the device's buffers
/// do.
#[derive(Clone, Debug)]
pub struct SlotPool {
    /// The slot number of the pool's first slot in the ids it hands out.
    base: u32,
    capacity: u32,
    /// Generation of each slot ever used; a slot is live when its entry in `live` is set.
    generations: Vec<u32>,
    live: Vec<bool>,
    /// Slots freed by kills, one bit each (set: free), reused lowest first before fresh ones.
    free: Vec<u64>,
    /// Set bits in `free`.
    free_count: u32,
    /// No word of `free` below this one has a set bit.
    first_free_word: usize,
    live_count: u32,
    /// One more than the highest live slot.
    top: u32,
}

impl SlotPool {
    /// An empty pool of `capacity` slots.
    pub fn new(capacity: u32) -> Self {
        Self::with_base(0, capacity)
    }

    /// An empty pool of `capacity` slots whose ids name slots `base..base + capacity`.
    ///
    /// # Panics
    ///
    /// If `base + capacity` does not fit a `u32`: the caller places pools within the id space.
    pub fn with_base(base: u32, capacity: u32) -> Self {
        assert!(
            base.checked_add(capacity).is_some(),
            "a pool's slots must fit u32 ids"
        );
        Self {
            base,
            capacity,
            generations: Vec::new(),
            live: Vec::new(),
            free: Vec::new(),
            free_count: 0,
            first_free_word: 0,
            live_count: 0,
            top: 0,
        }
    }

    /// The slot number of the pool's first slot in its ids.
    pub fn base(&self) -> u32 {
        self.base
    }

    /// The id of local slot `slot` at `generation`.
    fn id(&self, slot: u32, generation: u32) -> AgentId {
        AgentId::new(self.base + slot, generation)
    }

    /// Number of slots.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Number of live agents.
    pub fn len(&self) -> u32 {
        self.live_count
    }

    /// Whether no agent is live.
    pub fn is_empty(&self) -> bool {
        self.live_count == 0
    }

    /// Number of free slots.
    pub fn free_slots(&self) -> u32 {
        self.capacity - self.live_count
    }

    /// Takes a free slot.
    pub fn spawn(&mut self) -> Result<AgentId, PoolError> {
        if let Some(slot) = self.take_free() {
            let index = slot as usize;
            self.live[index] = true;
            self.live_count += 1;
            self.top = self.top.max(slot + 1);
            return Ok(self.id(slot, self.generations[index]));
        }
        let fresh = self.generations.len();
        if fresh as u64 >= u64::from(self.capacity) {
            return Err(PoolError::Full {
                capacity: self.capacity,
            });
        }
        let slot = u32::try_from(fresh).expect("capacity is a u32");
        self.generations.push(0);
        self.live.push(true);
        if self.free.len() * 64 < self.generations.len() {
            self.free.push(0);
        }
        self.live_count += 1;
        self.top = slot + 1;
        Ok(self.id(slot, 0))
    }

    /// Takes the lowest freed slot, if any.
    fn take_free(&mut self) -> Option<u32> {
        if self.free_count == 0 {
            return None;
        }
        let mut word = self.first_free_word;
        while self.free[word] == 0 {
            word += 1;
        }
        self.first_free_word = word;
        let bit = self.free[word].trailing_zeros() as usize;
        self.free[word] &= !(1 << bit);
        self.free_count -= 1;
        Some(u32::try_from(word * 64 + bit).expect("slots are u32s"))
    }

    /// Takes `count` free slots, or none if fewer are free; the ids come in ascending slot
    /// order (freed slots lowest first, then fresh ones).
    pub fn spawn_many(&mut self, count: u64) -> Result<Vec<AgentId>, PoolError> {
        if count > u64::from(self.free_slots()) {
            return Err(PoolError::NotEnoughSlots {
                requested: count,
                free: self.free_slots(),
                capacity: self.capacity,
            });
        }
        let count = count as usize;
        let mut ids = Vec::with_capacity(count);
        // Freed slots first, lowest first, a word of the bitset at a time.
        let mut word = self.first_free_word;
        while ids.len() < count && self.free_count > 0 {
            while self.free[word] == 0 {
                word += 1;
            }
            let mut bits = self.free[word];
            while bits != 0 && ids.len() < count {
                let index = word * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.live[index] = true;
                self.free_count -= 1;
                let slot = u32::try_from(index).expect("slots are u32s");
                ids.push(AgentId::new(self.base + slot, self.generations[index]));
                self.top = self.top.max(slot + 1);
            }
            self.free[word] = bits;
            self.first_free_word = word;
        }
        // Then fresh slots, above every slot ever used.
        let first = self.generations.len();
        let fresh = count - ids.len();
        if fresh > 0 {
            let end = first + fresh;
            self.generations.resize(end, 0);
            self.live.resize(end, true);
            self.free.resize(end.div_ceil(64).max(self.free.len()), 0);
            let base = self.base;
            ids.extend((first..end).map(|slot| AgentId::new(base + slot as u32, 0)));
            self.top = end as u32;
        }
        self.live_count += count as u32;
        Ok(ids)
    }

    /// Frees the slots of `ids`, or none if any is stale; an id given twice is freed once.
    pub fn kill_many(&mut self, ids: &[AgentId]) -> Result<(), PoolError> {
        for id in ids {
            self.slot(*id)?;
        }
        for id in ids {
            let index = (id.slot() - self.base) as usize;
            if self.live[index] {
                self.free_slot(index);
            }
        }
        self.lower_top();
        Ok(())
    }

    /// The slot of a live agent, counted from the pool's first (`id.slot() - base`).
    pub fn slot(&self, id: AgentId) -> Result<u32, PoolError> {
        let stale = PoolError::Stale { id };
        let Some(slot) = id.slot().checked_sub(self.base) else {
            return Err(stale);
        };
        let index = slot as usize;
        match (self.live.get(index), self.generations.get(index)) {
            (Some(true), Some(&generation)) if generation == id.generation() => Ok(slot),
            _ => Err(stale),
        }
    }

    /// Whether `id` names a live agent.
    pub fn contains(&self, id: AgentId) -> bool {
        self.slot(id).is_ok()
    }

    /// Frees the agent's slot; its id (and every copy of it) becomes stale.
    ///
    /// Returns the freed slot. A slot whose generation counter is exhausted is retired rather
    /// than reused, so an id can never repeat.
    pub fn kill(&mut self, id: AgentId) -> Result<u32, PoolError> {
        let slot = self.slot(id)?;
        self.free_slot(slot as usize);
        self.lower_top();
        Ok(slot)
    }

    /// Frees a live slot: its generation moves on, and it is free for reuse unless its
    /// generations are exhausted.
    fn free_slot(&mut self, index: usize) {
        self.live[index] = false;
        self.live_count -= 1;
        if let Some(next) = self.generations[index].checked_add(1) {
            self.generations[index] = next;
            self.free[index / 64] |= 1 << (index % 64);
            self.free_count += 1;
            self.first_free_word = self.first_free_word.min(index / 64);
        } else {
            // Retired: it stays dead, and capacity shrinks by one slot for good.
            self.capacity -= 1;
        }
    }

    /// Moves the high-water mark down past dead slots.
    fn lower_top(&mut self) {
        while self.top > 0 && !self.live[self.top as usize - 1] {
            self.top -= 1;
        }
    }

    /// The live agents, in slot order.
    pub fn live(&self) -> impl Iterator<Item = AgentId> + '_ {
        self.live
            .iter()
            .enumerate()
            .filter(|(_, live)| **live)
            .map(|(slot, _)| self.id(slot as u32, self.generations[slot]))
    }

    /// The id of the agent in `slot` (counted from the pool's first), if one is live there.
    pub fn agent_in(&self, slot: u32) -> Option<AgentId> {
        let index = slot as usize;
        (*self.live.get(index)?).then(|| self.id(slot, self.generations[index]))
    }

    /// One more than the highest live slot: dispatches need not look past it.
    pub fn high_water(&self) -> u32 {
        self.top
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_1025th_spawn_of_1024_fails_with_the_limit() {
        let mut pool = SlotPool::new(1_024);
        for _ in 0..1_024 {
            pool.spawn().unwrap();
        }
        let err = pool.spawn().unwrap_err();
        assert_eq!(err, PoolError::Full { capacity: 1_024 });
        assert!(err.to_string().contains("all 1024 agent slots are in use"));
    }

    #[test]
    fn a_pool_with_a_base_names_its_slots_from_there_and_rejects_other_pools_ids() {
        let mut low = SlotPool::new(4);
        let mut high = SlotPool::with_base(4, 4);
        let a = low.spawn().unwrap();
        let ids = high.spawn_many(3).unwrap();
        assert_eq!(
            ids.iter().map(|id| id.slot()).collect::<Vec<_>>(),
            [4, 5, 6]
        );
        assert_eq!(high.slot(ids[1]), Ok(1));
        assert_eq!(high.agent_in(2), Some(ids[2]));
        assert_eq!(high.live().collect::<Vec<_>>(), ids);
        assert_eq!(high.high_water(), 3);
        // Neither pool takes the other's ids.
        assert_eq!(high.slot(a), Err(PoolError::Stale { id: a }));
        assert_eq!(low.slot(ids[0]), Err(PoolError::Stale { id: ids[0] }));
        assert_eq!(high.kill(ids[0]), Ok(0));
        high.kill_many(&ids[1..]).unwrap();
        assert!(high.is_empty());
        let again = high.spawn().unwrap();
        assert_eq!(again.slot(), 4);
        assert_ne!(again, ids[0]);
    }

    #[test]
    fn killed_ids_go_stale_and_slots_are_reused() {
        let mut pool = SlotPool::new(2);
        let a = pool.spawn().unwrap();
        let _b = pool.spawn().unwrap();
        assert_eq!(pool.kill(a), Ok(a.slot()));
        assert_eq!(pool.kill(a), Err(PoolError::Stale { id: a }));
        let c = pool.spawn().unwrap();
        assert_eq!(c.slot(), a.slot());
        assert_ne!(c, a);
        assert_eq!(pool.slot(a), Err(PoolError::Stale { id: a }));
        assert_eq!(pool.slot(c), Ok(a.slot()));
    }

    #[test]
    fn freed_slots_are_reused_lowest_first_and_high_water_follows_the_live_top() {
        let mut pool = SlotPool::new(8);
        let ids = pool.spawn_many(6).unwrap();
        assert_eq!(pool.high_water(), 6);
        for &i in &[4, 1, 3] {
            pool.kill(ids[i]).unwrap();
        }
        assert_eq!(pool.high_water(), 6);
        pool.kill(ids[5]).unwrap();
        // Slots 3, 4 and 5 are dead: the top drops to the highest live slot, 2.
        assert_eq!(pool.high_water(), 3);
        let slots: Vec<u32> = (0..4).map(|_| pool.spawn().unwrap().slot()).collect();
        assert_eq!(slots, [1, 3, 4, 5]);
        assert_eq!(pool.high_water(), 6);
        let all: Vec<AgentId> = pool.live().collect();
        for id in all {
            pool.kill(id).unwrap();
        }
        assert_eq!(pool.high_water(), 0);
        assert_eq!(pool.spawn().unwrap().slot(), 0);
    }

    /// `spawn_many` and `kill_many` hand out and free exactly the slots that `spawn` and
    /// `kill`, one at a time, would: the same ids, counts and high-water mark.
    #[test]
    fn bulk_spawns_and_kills_match_one_at_a_time() {
        let mut bulk = SlotPool::new(300);
        let mut single = SlotPool::new(300);
        let mut rng = 0x2545_f491_u32;
        let mut next = move |n: u32| {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            rng % n
        };
        for round in 0..40 {
            let count = u64::from(next(80));
            let many = bulk.spawn_many(count);
            let ones: Result<Vec<_>, _> = if count <= u64::from(single.free_slots()) {
                (0..count).map(|_| single.spawn()).collect()
            } else {
                single.spawn_many(count)
            };
            assert_eq!(many.is_ok(), ones.is_ok(), "round {round}");
            if let Ok(ids) = &many {
                assert!(
                    ids.windows(2).all(|w| w[0].slot() < w[1].slot()),
                    "round {round}"
                );
            }
            let mut live: Vec<AgentId> = bulk.live().collect();
            assert_eq!(live, single.live().collect::<Vec<_>>(), "round {round}");
            // Kill a random subset, with a duplicate.
            live.retain(|_| next(3) == 0);
            if let Some(&first) = live.first() {
                live.push(first);
            }
            bulk.kill_many(&live).unwrap();
            for id in &live {
                let _ = single.kill(*id);
            }
            assert_eq!(bulk.len(), single.len(), "round {round}");
            assert_eq!(bulk.high_water(), single.high_water(), "round {round}");
            assert_eq!(bulk.free_slots(), single.free_slots(), "round {round}");
            if let Some(&id) = live.first() {
                assert_eq!(bulk.kill_many(&[id]), Err(PoolError::Stale { id }));
            }
        }
    }

    #[test]
    fn spawn_many_is_all_or_nothing() {
        let mut pool = SlotPool::new(10);
        pool.spawn_many(7).unwrap();
        assert!(matches!(
            pool.spawn_many(4),
            Err(PoolError::NotEnoughSlots {
                requested: 4,
                free: 3,
                ..
            })
        ));
        assert_eq!(pool.len(), 7);
    }
}
