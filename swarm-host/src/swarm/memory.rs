//! Host access to agents' linear memories, which the layout interleaves by tiles of agents
//! (`Layout::memory_byte`): a read or write moves the whole rows of the agent's tile that hold
//! its bytes, and picks or patches the agent's granules in them.

use std::ops::Range;

use swarm_core::AgentId;
use swarm_gpu::ReadRequest;

use super::Swarm;
use crate::AccessError;

impl Swarm {
    /// Reads `len` bytes of an agent's linear memory at `offset`.
    pub fn read_memory(
        &mut self,
        id: AgentId,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, AccessError> {
        let slot = self.pool.slot(id)?;
        let size = self.memory_size(slot);
        if offset + len > size {
            return Err(AccessError::OutOfBounds { offset, len, size });
        }
        self.flush()?;
        Ok(self.read_memory_region(slot, offset..offset + len)?)
    }

    /// Writes bytes into an agent's linear memory at `offset`.
    pub fn write_memory(
        &mut self,
        id: AgentId,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), AccessError> {
        let slot = self.pool.slot(id)?;
        let size = self.memory_size(slot);
        if offset + bytes.len() as u64 > size {
            return Err(AccessError::OutOfBounds {
                offset,
                len: bytes.len() as u64,
                size,
            });
        }
        self.flush()?;
        self.write_memory_region(slot, offset, bytes)?;
        Ok(())
    }

    /// Memory 0's current size in bytes.
    pub(super) fn memory_size(&self, slot: u32) -> u64 {
        u64::from(self.slots[slot as usize].status.memory_pages) * swarm_core::WASM_PAGE_BYTES
    }

    /// Bytes `bytes` of `slot`'s memory region (every memory of the store, at its place).
    pub(super) fn read_memory_region(
        &self,
        slot: u32,
        bytes: Range<u64>,
    ) -> Result<Vec<u8>, swarm_gpu::GpuError> {
        let mut out = vec![0; (bytes.end - bytes.start) as usize];
        if bytes.is_empty() {
            return Ok(out);
        }
        let local = self.layout.locate(slot).local;
        let (_, data) = self.read_rows(slot, bytes.clone())?;
        self.layout
            .memory_pieces(local, bytes.clone(), |at, addr, len| {
                let to = (addr - bytes.start) as usize;
                out[to..to + len].copy_from_slice(&data[at..at + len]);
            });
        Ok(out)
    }

    /// Writes `bytes` at `addr` of `slot`'s memory region: reads the rows of its tile that
    /// hold them, patches the agent's granules and writes the rows back. Pending spawns must
    /// have been submitted (`flush`), so that no queued GPU work writes the same rows.
    pub(super) fn write_memory_region(
        &mut self,
        slot: u32,
        addr: u64,
        bytes: &[u8],
    ) -> Result<(), swarm_gpu::GpuError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let location = self.layout.locate(slot);
        let range = addr..addr + bytes.len() as u64;
        let (rows, mut data) = self.read_rows(slot, range.clone())?;
        self.layout
            .memory_pieces(location.local, range.clone(), |at, piece, len| {
                let from = (piece - addr) as usize;
                data[at..at + len].copy_from_slice(&bytes[from..from + len]);
            });
        let buffer = &self.chunks[location.chunk as usize].memory;
        self.gpu.write_buffer(buffer, rows.start, &data)?;
        let touched = &mut self.slots[slot as usize].touched;
        *touched = (*touched).max(range.end.div_ceil(4) as u32);
        Ok(())
    }

    /// The rows of `slot`'s tile that hold bytes `bytes` (non-empty) of its memory region:
    /// where they lie in the chunk's memory buffer, and their contents.
    fn read_rows(
        &self,
        slot: u32,
        bytes: Range<u64>,
    ) -> Result<(Range<u64>, Vec<u8>), swarm_gpu::GpuError> {
        let location = self.layout.locate(slot);
        let rows = self.layout.memory_rows(location.local, bytes);
        let data = self
            .gpu
            .read_buffers(&[ReadRequest {
                buffer: &self.chunks[location.chunk as usize].memory,
                offset: rows.start,
                size: rows.end - rows.start,
            }])?
            .remove(0);
        Ok((rows, data))
    }
}
