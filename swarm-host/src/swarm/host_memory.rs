//! `HostMemory`: what a host function reaches of its callers' linear memories, batched into
//! the row reads and writes of [`memory`](super::memory).

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use swarm_core::AgentId;

use super::Swarm;
use crate::{HostCall, HostMemoryError};

/// The linear memories of the agents in one batch of host calls, for a host function given
/// with [`Imports::func_with_memory`](crate::Imports::func_with_memory): memory 0 of each agent
/// the batch answers, and of no other.
///
/// Reads see each memory as its agent left it when it made the call, not the writes of this
/// batch. Writes are kept and land in the order made before the agents resume, also where the
/// call is answered with a trap (a wasmtime host function's writes stay too). Reads and writes
/// of many agents at once cost one readback of the rows they touch
/// ([`read_many`](Self::read_many)), so a batch should read through one call, not one per
/// agent.
pub struct HostMemory<'a> {
    swarm: &'a Swarm,
    callers: HashSet<AgentId>,
    writes: Vec<(u32, u64, Vec<u8>)>,
    effects: StreamEffects,
}

/// What a batch did to its callers' stream records and rooms, which the answers' status
/// records carry to the GPU.
#[derive(Debug, Default)]
pub(super) struct StreamEffects {
    /// Slots whose records were taken: their output regions start empty again.
    pub(super) taken: HashSet<u32>,
    /// Slots and the rooms their streams 1 and 2 get.
    pub(super) rooms: HashMap<u32, [u32; 2]>,
}

impl std::fmt::Debug for HostMemory<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostMemory")
            .field("callers", &self.callers.len())
            .field("writes", &self.writes.len())
            .finish_non_exhaustive()
    }
}

impl<'a> HostMemory<'a> {
    pub(super) fn new(swarm: &'a Swarm, calls: &[HostCall]) -> Self {
        Self {
            swarm,
            callers: calls.iter().map(|c| c.agent).collect(),
            writes: Vec::new(),
            effects: StreamEffects::default(),
        }
    }

    fn slot(&self, agent: AgentId) -> Result<u32, HostMemoryError> {
        if !self.callers.contains(&agent) {
            return Err(HostMemoryError::NotCaller(agent));
        }
        Ok(self.swarm.pool.slot(agent).expect("a caller is live"))
    }

    /// The agent's memory 0 size in bytes (0 for a module without memory).
    pub fn size(&self, agent: AgentId) -> Result<u64, HostMemoryError> {
        Ok(self.swarm.memory_size(self.slot(agent)?))
    }

    /// The slot and bytes of `len` bytes at `offset` of the agent's memory, if they lie in it.
    fn range(
        &self,
        agent: AgentId,
        offset: u64,
        len: u64,
    ) -> Result<(u32, Range<u64>), HostMemoryError> {
        let slot = self.slot(agent)?;
        let size = self.swarm.memory_size(slot);
        match offset.checked_add(len) {
            Some(end) if end <= size => Ok((slot, offset..end)),
            _ => Err(HostMemoryError::OutOfBounds { offset, len, size }),
        }
    }

    /// Reads `len` bytes of the agent's memory at `offset`.
    pub fn read(&self, agent: AgentId, offset: u64, len: u64) -> Result<Vec<u8>, HostMemoryError> {
        self.read_many(&[(agent, offset, len)])
            .pop()
            .expect("one read")
    }

    /// Reads each `(agent, offset, len)` of `reads`, in one readback; each read fails or
    /// succeeds on its own.
    pub fn read_many(
        &self,
        reads: &[(AgentId, u64, u64)],
    ) -> Vec<Result<Vec<u8>, HostMemoryError>> {
        let checked: Vec<_> = reads
            .iter()
            .map(|&(agent, offset, len)| self.range(agent, offset, len))
            .collect();
        let regions: Vec<(u32, Range<u64>)> = checked.iter().flatten().cloned().collect();
        match self.swarm.read_memory_regions(&regions) {
            Ok(data) => {
                let mut data = data.into_iter();
                checked
                    .into_iter()
                    .map(|c| c.map(|_| data.next().expect("one per region")))
                    .collect()
            }
            Err(error) => checked
                .into_iter()
                .map(|c| c.and_then(|_| Err(HostMemoryError::Gpu(error.clone()))))
                .collect(),
        }
    }

    /// Writes `bytes` into the agent's memory at `offset` before it resumes.
    pub fn write(
        &mut self,
        agent: AgentId,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), HostMemoryError> {
        let (slot, _) = self.range(agent, offset, bytes.len() as u64)?;
        self.writes.push((slot, offset, bytes.to_vec()));
        Ok(())
    }

    /// The stream records each agent's GPU gathered for a stream write
    /// ([`Imports::stream_write_func`](crate::Imports::stream_write_func)) since the host last
    /// took them, in one readback: `(len | stream << 31)` words, each followed by its bytes
    /// padded to a word. They are the host's now: the agent's output region starts empty
    /// again when it resumes.
    pub(crate) fn take_streams(
        &mut self,
        agents: &[AgentId],
    ) -> Vec<Result<Vec<u8>, HostMemoryError>> {
        let slots: Vec<Result<u32, HostMemoryError>> =
            agents.iter().map(|&agent| self.slot(agent)).collect();
        if !self.swarm.streams_on_gpu() {
            // Its output regions are `swarm.output`'s.
            return slots.into_iter().map(|s| s.map(|_| Vec::new())).collect();
        }
        let gathered: Vec<u32> = slots
            .iter()
            .flatten()
            .copied()
            .filter(|&slot| self.swarm.slots[slot as usize].status.output_len > 0)
            .collect();
        let mut data = match self.swarm.read_outputs(&gathered) {
            Ok(data) => data.into_iter(),
            Err(error) => {
                return slots
                    .into_iter()
                    .map(|s| s.and_then(|_| Err(HostMemoryError::Gpu(error.clone()))))
                    .collect();
            }
        };
        self.effects.taken.extend(&gathered);
        slots
            .into_iter()
            .map(|slot| {
                let slot = slot?;
                Ok(if self.swarm.slots[slot as usize].status.output_len > 0 {
                    data.next().expect("one read per gathering slot")
                } else {
                    Vec::new()
                })
            })
            .collect()
    }

    /// Lets the GPU gather up to `rooms` more bytes of streams 1 and 2 for `agent` once it
    /// resumes (0: every write goes to the host).
    pub(crate) fn set_stream_rooms(
        &mut self,
        agent: AgentId,
        rooms: [u32; 2],
    ) -> Result<(), HostMemoryError> {
        let slot = self.slot(agent)?;
        self.effects.rooms.insert(slot, rooms);
        Ok(())
    }

    /// The writes made, in order, and what the batch did to stream records and rooms.
    pub(super) fn into_effects(self) -> (Vec<(u32, u64, Vec<u8>)>, StreamEffects) {
        (self.writes, self.effects)
    }
}
