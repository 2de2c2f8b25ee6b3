//! `Placement`: how one swarm's agents spread over several devices. Each device owns a range
//! of the id space (its pool's base and capacity), so an id names its device without a table,
//! and a spawn of many agents splits among the devices in proportion to their free slots.

use crate::{AgentId, PoolError};

/// Why a set of devices cannot share one id space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlacementError {
    /// No device was given.
    #[error("a swarm needs at least one device")]
    NoDevices,
    /// The capacities add up to more slots than ids can name.
    #[error(
        "the devices' `max_agents`, from the first `first_slot`, add up to more than {} \
         agents; lower `max_agents`",
        u32::MAX
    )]
    TooManySlots,
    /// A device after the first sets `first_slot`.
    #[error(
        "device {device} sets `first_slot`: a swarm over several devices numbers its agents \
         from its first device's `first_slot`; leave the others' at 0"
    )]
    LaterFirstSlot {
        /// The device.
        device: usize,
    },
}

/// The devices' shares of the id space: device `d` owns slots `base(d)..base(d) + capacity(d)`,
/// from the first device's base on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The first slot of each device, ascending, then the end of the last.
    bounds: Vec<u32>,
}

impl Placement {
    /// Devices of these capacities (`max_agents` each), in order, from slot 0.
    pub fn new(capacities: &[u32]) -> Result<Self, PlacementError> {
        Self::starting_at(0, capacities)
    }

    /// Devices of these capacities, in order, the first one's slots from `first` on.
    pub fn starting_at(first: u32, capacities: &[u32]) -> Result<Self, PlacementError> {
        if capacities.is_empty() {
            return Err(PlacementError::NoDevices);
        }
        let mut bounds = Vec::with_capacity(capacities.len() + 1);
        let mut next = first;
        bounds.push(first);
        for &capacity in capacities {
            next = next
                .checked_add(capacity)
                .ok_or(PlacementError::TooManySlots)?;
            bounds.push(next);
        }
        Ok(Self { bounds })
    }

    /// The number of devices.
    pub fn devices(&self) -> usize {
        self.bounds.len() - 1
    }

    /// The first slot of device `device`: its pool's base.
    pub fn base(&self, device: usize) -> u32 {
        self.bounds[device]
    }

    /// The slots device `device` owns.
    pub fn capacity(&self, device: usize) -> u32 {
        self.bounds[device + 1] - self.bounds[device]
    }

    /// The device whose slots hold `id`, or `None` for an id outside every device's.
    pub fn device_of(&self, id: AgentId) -> Option<usize> {
        let slot = id.slot();
        if slot < self.bounds[0] || slot >= *self.bounds.last().expect("at least one bound") {
            return None;
        }
        // The last bound at or below the slot; empty devices share a bound with the next.
        Some(self.bounds.partition_point(|&bound| bound <= slot) - 1)
    }

    /// How many of `count` new agents each device takes, given each one's free slots: shares
    /// in proportion to the free slots, the largest remainders rounding up (the device with
    /// more free slots first among equals, then the lower), so that spawns fill the devices
    /// evenly and a single agent goes to the device with the most room. A device with no free
    /// slot (full, or lost: the caller gives it none) takes nothing. The agents go to the
    /// devices in order, so agent `i` of the spawn lands on the device whose running total of
    /// shares first exceeds `i`.
    pub fn split(&self, free: &[u32], count: u64) -> Result<Vec<u32>, PoolError> {
        assert_eq!(free.len(), self.devices(), "one free count per device");
        let capacity = self.bounds.last().expect("at least one bound") - self.bounds[0];
        let total: u64 = free.iter().map(|&f| u64::from(f)).sum();
        if count > total {
            return Err(if count == 1 {
                PoolError::Full { capacity }
            } else {
                PoolError::NotEnoughSlots {
                    requested: count,
                    free: u32::try_from(total).unwrap_or(u32::MAX),
                    capacity,
                }
            });
        }
        if count == 0 {
            return Ok(vec![0; free.len()]);
        }
        // count <= total, so no share exceeds its device's free slots: a whole part equal to
        // `free[d]` needs count == total, which leaves no remainder to round up.
        let exact: Vec<(u64, u64)> = free
            .iter()
            .map(|&f| {
                let product = u128::from(count) * u128::from(f);
                let total = u128::from(total);
                ((product / total) as u64, (product % total) as u64)
            })
            .collect();
        let mut shares: Vec<u32> = exact.iter().map(|&(whole, _)| whole as u32).collect();
        let spare = count - exact.iter().map(|&(whole, _)| whole).sum::<u64>();
        let mut order: Vec<usize> = (0..free.len()).collect();
        order.sort_by_key(|&d| (std::cmp::Reverse(exact[d].1), std::cmp::Reverse(free[d]), d));
        for &d in order.iter().take(spare as usize) {
            shares[d] += 1;
        }
        Ok(shares)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SlotPool;

    fn id(slot: u32) -> AgentId {
        let mut pool = SlotPool::with_base(slot, 1);
        pool.spawn().unwrap()
    }

    #[test]
    fn ids_route_to_the_device_that_owns_their_slot() {
        let placement = Placement::new(&[4, 0, 2, 3]).unwrap();
        assert_eq!(placement.devices(), 4);
        assert_eq!(
            (0..4).map(|d| placement.base(d)).collect::<Vec<_>>(),
            [0, 4, 4, 6]
        );
        let devices: Vec<Option<usize>> = (0..10).map(|s| placement.device_of(id(s))).collect();
        assert_eq!(
            devices,
            [
                Some(0),
                Some(0),
                Some(0),
                Some(0),
                Some(2),
                Some(2),
                Some(3),
                Some(3),
                Some(3),
                None
            ]
        );
    }

    #[test]
    fn a_placement_may_start_past_slot_0() {
        let placement = Placement::starting_at(100, &[4, 4]).unwrap();
        assert_eq!((placement.base(0), placement.base(1)), (100, 104));
        assert_eq!(placement.device_of(id(99)), None);
        assert_eq!(placement.device_of(id(100)), Some(0));
        assert_eq!(placement.device_of(id(107)), Some(1));
        assert_eq!(placement.device_of(id(108)), None);
        assert_eq!(
            placement.split(&[0, 0], 1),
            Err(PoolError::Full { capacity: 8 })
        );
        assert_eq!(
            Placement::starting_at(u32::MAX - 4, &[4, 1]),
            Err(PlacementError::TooManySlots)
        );
    }

    #[test]
    fn no_devices_or_too_many_slots_are_refused() {
        assert_eq!(Placement::new(&[]), Err(PlacementError::NoDevices));
        assert_eq!(
            Placement::new(&[u32::MAX, 1]),
            Err(PlacementError::TooManySlots)
        );
        assert!(
            PlacementError::TooManySlots
                .to_string()
                .contains("max_agents")
        );
    }

    /// Capacities, free slots, agents to place, and the shares expected.
    type Split = (&'static [u32], &'static [u32], u64, &'static [u32]);

    const SPLITS: &[Split] = &[
        // Even devices share evenly; the remainder goes to the lowest first.
        (&[100, 100], &[100, 100], 10, &[5, 5]),
        (&[100, 100, 100], &[100, 100, 100], 10, &[4, 3, 3]),
        // In proportion to the free slots.
        (&[300, 100], &[300, 100], 8, &[6, 2]),
        (&[100, 100], &[20, 60], 8, &[2, 6]),
        (&[100, 100], &[1, 100], 10, &[0, 10]),
        (&[100, 100, 100], &[0, 2, 100], 12, &[0, 0, 12]),
        // A single agent goes where there is most room, the lower device among equals.
        (&[10, 10], &[3, 7], 1, &[0, 1]),
        (&[10, 10, 10], &[5, 9, 9], 1, &[0, 1, 0]),
        // Everything fits exactly.
        (&[3, 5], &[3, 5], 8, &[3, 5]),
        (&[4, 4], &[4, 4], 0, &[0, 0]),
        // A device with no room (no capacity, or lost) takes nothing.
        (&[0, 10], &[0, 10], 7, &[0, 7]),
        (&[10, 10], &[0, 10], 10, &[0, 10]),
    ];

    #[test]
    fn spawns_split_in_proportion_to_the_free_slots() {
        for &(capacities, free, count, expected) in SPLITS {
            let placement = Placement::new(capacities).unwrap();
            let shares = placement.split(free, count).unwrap();
            assert_eq!(
                shares, expected,
                "capacities {capacities:?}, free {free:?}, {count} agents"
            );
        }
    }

    #[test]
    fn a_spawn_beyond_every_free_slot_is_refused_whole() {
        let placement = Placement::new(&[4, 4]).unwrap();
        assert_eq!(
            placement.split(&[0, 0], 1),
            Err(PoolError::Full { capacity: 8 })
        );
        assert_eq!(
            placement.split(&[1, 2], 4),
            Err(PoolError::NotEnoughSlots {
                requested: 4,
                free: 3,
                capacity: 8
            })
        );
    }

    #[test]
    fn every_split_places_exactly_the_count_within_each_devices_room() {
        let mut state = 0x9e37_79b9_u64;
        let mut next = |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        for _ in 0..2_000 {
            let devices = 1 + next(8) as usize;
            let capacities: Vec<u32> = (0..devices).map(|_| next(1_000) as u32).collect();
            let free: Vec<u32> = capacities
                .iter()
                .map(|&c| next(u64::from(c) + 1) as u32)
                .collect();
            let total: u64 = free.iter().map(|&f| u64::from(f)).sum();
            let count = next(total + 1);
            let placement = Placement::new(&capacities).unwrap();
            let shares = placement.split(&free, count).unwrap();
            assert_eq!(shares.iter().map(|&s| u64::from(s)).sum::<u64>(), count);
            assert!(shares.iter().zip(&free).all(|(s, f)| s <= f));
        }
    }
}
