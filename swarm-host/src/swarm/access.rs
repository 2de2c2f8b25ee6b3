//! An agent's state from the host: snapshots, globals, output, and killing agents (wiping
//! their slots).

use swarm_core::{AgentId, AgentStatus, BufferKind, RegionKind};
use swarm_gpu::{GpuError, ReadRequest};

use crate::instance::{StoreState, memory_sizes};
use crate::{AccessError, Value};

use swarm_shader::image::GlobalsRegion;

use super::Swarm;

impl Swarm {
    /// Reads an idle agent's whole store back (globals, segment flags, tables, memory), to
    /// load a grown [`Store`](swarm_shader::Store) with it: [`load_store`](Self::load_store).
    pub fn snapshot(&mut self, id: AgentId) -> Result<StoreState, AccessError> {
        let slot = self.pool.slot(id)?;
        self.flush()?;
        let module = self.module.as_ref().ok_or(AccessError::NoModule)?;
        let pages = self.slots[slot as usize].status.memory_pages;
        let program = &module.program;
        let globals_words = GlobalsRegion::of(program).words() as usize;
        let (tables, memories) = &module.places;
        let tables_words = tables
            .iter()
            .map(|p| p.base + p.capacity)
            .max()
            .unwrap_or(0)
            .max(tables.len() as u32);
        let region = |kind, bytes: u64| {
            let (buffer, range) = self.buffer(slot, kind);
            ReadRequest {
                buffer,
                offset: range.start,
                size: bytes.max(4),
            }
        };
        let data = self.gpu.read_buffers(&[
            region(RegionKind::Globals, 4 * globals_words as u64),
            region(RegionKind::Tables, 4 * u64::from(tables_words)),
        ])?;
        let [globals, tables_data]: [Vec<u8>; 2] = data.try_into().expect("two regions were read");
        let globals: Vec<u32> = bytemuck::pod_collect_to_vec(&globals);
        // Then the memories, up to the end of the last one's current size.
        let end_page = memories
            .iter()
            .zip(memory_sizes(program, &globals, pages))
            .map(|(place, size)| u64::from(place.base_page) + u64::from(size))
            .max()
            .unwrap_or(0);
        let memory = self.read_memory_region(slot, 0..end_page * swarm_core::WASM_PAGE_BYTES)?;
        let state = StoreState::from_regions(
            program,
            &module.places,
            &globals,
            &bytemuck::pod_collect_to_vec(&tables_data),
            pages,
            &memory,
            module.instances,
        );
        debug_assert_eq!(state.globals_region().words() as usize, globals_words);
        Ok(state)
    }

    /// Kills an agent: its slot is wiped and its id goes stale.
    pub fn kill(&mut self, id: AgentId) -> Result<(), AccessError> {
        self.kill_many(&[id])
    }

    /// Kills several agents in one GPU submission: their slots are wiped and their ids go
    /// stale. Either every id is live and all of them are killed, or nothing changes. An id
    /// given twice is killed once. On a lost device ([`is_lost`](Self::is_lost)) the kill
    /// only frees their slots.
    pub fn kill_many(&mut self, ids: &[AgentId]) -> Result<(), AccessError> {
        let slots = self.sorted_slots(ids)?;
        if self.is_lost() {
            // Nothing on the device to wipe or keep: the agents only leave the pool.
            self.pool.kill_many(ids)?;
            for slot in &slots {
                self.pending_calls.remove(slot);
            }
            return Ok(());
        }
        self.flush()?;
        // What the GPU gathered of their streams outlives them, until taken.
        if self.streams_on_gpu() {
            let gathered: Vec<u32> = slots
                .iter()
                .copied()
                .filter(|&slot| self.slots[slot as usize].status.output_len > 0)
                .collect();
            let records = self.read_outputs(&gathered)?;
            for (slot, records) in gathered.into_iter().zip(records) {
                let id = self.pool.agent_in(slot).expect("a live agent");
                self.killed_streams.insert(id, records);
            }
        }
        // Runs of consecutive slots inside one chunk: one clear per buffer and run, covering
        // whole strides, so every region but the interleaved ones is all zeros again. Memory
        // is zeroed by the slot's next spawn, as far as this tenant touched it (`Slot::touched`),
        // and a call writes each stack slot before it reads one.
        let mut runs: Vec<(usize, std::ops::Range<u32>)> = Vec::new();
        // The slot after the last run's last one, if it lies in the same chunk.
        let mut next = None;
        for &slot in &slots {
            match runs.last_mut() {
                Some((_, run)) if next == Some(slot) => run.end += 1,
                _ => {
                    let location = self.layout.locate(slot);
                    runs.push((location.chunk as usize, location.local..location.local + 1));
                }
            }
            let (chunk, run) = runs.last().expect("pushed above");
            next = (run.end < self.chunks[*chunk].layout.agents).then_some(slot + 1);
        }
        let mut ranges: Vec<_> = runs
            .iter()
            .flat_map(|(chunk, run)| {
                let chunk = &self.chunks[*chunk];
                [
                    (&chunk.state, BufferKind::State),
                    (&chunk.status, BufferKind::Status),
                    (&chunk.output, BufferKind::Output),
                ]
                .map(|(buffer, kind)| (buffer, self.layout.strides(kind, run.clone())))
            })
            .collect();
        // A tile left without a live agent is cleared here, as far as its tenants touched it:
        // one clear of its rows instead of a wipe in each later spawn.
        let emptied = self.emptied_tiles(&slots);
        for (slots_of_tile, words) in &emptied {
            let location = self.layout.locate(slots_of_tile.start);
            let rows = self
                .layout
                .memory_rows(location.local, 0..4 * u64::from(*words));
            ranges.push((&self.chunks[location.chunk as usize].memory, rows));
        }
        self.gpu.clear_ranges(&ranges)?;
        // A dead slot's host copy is not read again (only its `touched`) until a spawn
        // overwrites it.
        self.pool.kill_many(ids)?;
        if !self.pending_calls.is_empty() {
            for slot in &slots {
                self.pending_calls.remove(slot);
            }
        }
        for (slots_of_tile, _) in emptied {
            for slot in slots_of_tile {
                if let Some(entry) = self.slots.get_mut(slot as usize) {
                    entry.touched = 0;
                }
            }
        }
        Ok(())
    }

    /// The tiles that killing `killed` (sorted, distinct, live) leaves without a live agent
    /// and with memory to zero: each tile's slots and the most words any of its tenants
    /// touched.
    pub(super) fn emptied_tiles(&self, killed: &[u32]) -> Vec<(std::ops::Range<u32>, u32)> {
        let tile = self.layout.tile();
        let mut emptied: Vec<(std::ops::Range<u32>, u32)> = Vec::new();
        let mut rest = killed;
        while let Some(&slot) = rest.first() {
            let location = self.layout.locate(slot);
            let chunk = self.layout.chunk(location.chunk);
            let first = chunk.first_slot + location.local / tile * tile;
            let slots = first..(first + tile).min(chunk.first_slot + chunk.agents);
            // `killed` is sorted: the tile's killed slots come together. The tile is left
            // empty when they are all its live agents.
            let here = rest.partition_point(|&s| s < slots.end);
            rest = &rest[here..];
            // A tile whose tenants touched no memory needs no clear, empty or not.
            let words = slots
                .clone()
                .filter_map(|s| self.slots.get(s as usize))
                .map(|entry| entry.touched)
                .max()
                .unwrap_or(0);
            if words == 0 {
                continue;
            }
            let live = slots
                .clone()
                .filter(|&s| self.pool.agent_in(s).is_some())
                .count();
            if live == here {
                emptied.push((slots, words));
            }
        }
        emptied
    }

    /// The current value of an exported global of an agent.
    pub fn global(&mut self, id: AgentId, name: &str) -> Result<Value, AccessError> {
        let module = self
            .module
            .as_ref()
            .ok_or_else(|| AccessError::UnknownGlobal(name.to_owned()))?;
        let Some(swarm_shader::program::Export::Global(index)) = module.program.exports.get(name)
        else {
            return Err(AccessError::UnknownGlobal(name.to_owned()));
        };
        self.global_at(id, *index)
    }

    /// The current value of the global at store index `index` of an agent.
    pub fn global_at(&mut self, id: AgentId, index: u32) -> Result<Value, AccessError> {
        let slot = self.pool.slot(id)?;
        self.flush()?;
        let module = self.module.as_ref().ok_or(AccessError::NoModule)?;
        let Some(global) = module.program.globals.get(index as usize) else {
            return Err(AccessError::NoGlobal(index));
        };
        let (buffer, range) = self.buffer(slot, RegionKind::Globals);
        let data = self.gpu.read_buffers(&[ReadRequest {
            buffer,
            offset: range.start + 8 * u64::from(index),
            size: 8,
        }])?;
        let bits = u64::from_le_bytes(data[0][..8].try_into().expect("8 bytes"));
        Ok(Value::from_bits(global.ty, bits))
    }

    /// Reads an agent's output bytes (for a module whose WASI writes gather on the GPU, its
    /// stream records not yet taken: read them through `Wasi::take_outputs`).
    pub fn output(&mut self, id: AgentId) -> Result<Vec<u8>, AccessError> {
        Ok(self.outputs(&[id])?.remove(0))
    }

    /// Reads the output bytes of several agents in one readback.
    pub fn outputs(&mut self, ids: &[AgentId]) -> Result<Vec<Vec<u8>>, AccessError> {
        let slots = ids
            .iter()
            .map(|id| self.pool.slot(*id))
            .collect::<Result<Vec<u32>, _>>()?;
        self.flush()?;
        Ok(self.read_outputs(&slots)?)
    }

    /// Whether the loaded module's stream writes gather in the output regions
    /// ([`Imports::stream_write_func`](crate::Imports::stream_write_func)).
    pub(crate) fn streams_on_gpu(&self) -> bool {
        self.module.as_ref().is_some_and(|m| m.streams_on_gpu)
    }

    /// The stream records the GPU gathered for each of `ids` (none when the module gathers
    /// none), taken: the live agents' output regions are empty again, and a killed agent's
    /// records, kept since its kill, are handed over once. An id given twice gets its records
    /// once.
    pub(crate) fn take_stream_records(
        &mut self,
        ids: &[AgentId],
    ) -> Result<Vec<Vec<u8>>, AccessError> {
        if !self.streams_on_gpu() {
            return Ok(vec![Vec::new(); ids.len()]);
        }
        self.flush()?;
        let mut seen = std::collections::HashSet::new();
        // Live agents with records, read in one readback.
        let live: Vec<(usize, u32)> = ids
            .iter()
            .enumerate()
            .filter(|(_, id)| seen.insert(**id))
            .filter_map(|(i, id)| Some((i, self.pool.slot(*id).ok()?)))
            .filter(|&(_, slot)| self.slots[slot as usize].status.output_len > 0)
            .collect();
        let slots: Vec<u32> = live.iter().map(|&(_, slot)| slot).collect();
        let read = self.read_outputs(&slots)?;
        let mut records = vec![Vec::new(); ids.len()];
        for (&(i, slot), bytes) in live.iter().zip(read) {
            records[i] = bytes;
            self.slots[slot as usize].status.output_len = 0;
            let offset = std::mem::offset_of!(AgentStatus, output_len) as u64;
            self.write(slot, RegionKind::Status, offset, &0u32.to_le_bytes())?;
        }
        for (i, id) in ids.iter().enumerate() {
            if let Some(kept) = self.killed_streams.remove(id) {
                records[i] = kept;
            }
        }
        Ok(records)
    }

    /// The output bytes of the agents in `slots`, in one readback (the host's writes are
    /// flushed).
    pub(super) fn read_outputs(&self, slots: &[u32]) -> Result<Vec<Vec<u8>>, GpuError> {
        let lens: Vec<u64> = slots
            .iter()
            .map(|&slot| u64::from(self.slots[slot as usize].status.output_len))
            .collect();
        let reads: Vec<ReadRequest<'_>> = slots
            .iter()
            .zip(&lens)
            .map(|(&slot, &len)| {
                let (buffer, range) = self.buffer(slot, RegionKind::Output);
                ReadRequest {
                    buffer,
                    offset: range.start,
                    size: len.next_multiple_of(4),
                }
            })
            .collect();
        let data = self.gpu.read_buffers(&reads)?;
        Ok(data
            .into_iter()
            .zip(lens)
            .map(|(mut bytes, len)| {
                bytes.truncate(len as usize);
                bytes
            })
            .collect())
    }
}
