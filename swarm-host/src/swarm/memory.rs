//! Host access to agents' linear memories, which the layout interleaves by tiles of agents
//! (`Layout::memory_byte`): a read or write moves the whole rows of the agent's tile that hold
//! its bytes, and picks or patches the agent's granules in them; many at once share one
//! readback of runs of rows, each row read once.

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
        if offset.checked_add(len).is_none_or(|end| end > size) {
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
        if offset
            .checked_add(bytes.len() as u64)
            .is_none_or(|end| end > size)
        {
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
        Ok(self
            .read_memory_regions(&[(slot, bytes)])?
            .pop()
            .expect("one region"))
    }

    /// Bytes of several slots' memory regions, in one readback: the rows of the tiles that
    /// hold them, each row read once however many of the regions lie in it.
    pub(super) fn read_memory_regions(
        &self,
        regions: &[(u32, Range<u64>)],
    ) -> Result<Vec<Vec<u8>>, swarm_gpu::GpuError> {
        let spans = self.row_spans(regions.iter().map(|(slot, bytes)| (*slot, bytes.clone())));
        let data = spans.read(self)?;
        Ok(regions
            .iter()
            .zip(&spans.places)
            .map(|((slot, bytes), place)| {
                let mut out = vec![0; (bytes.end - bytes.start) as usize];
                if let Some((span, base)) = place {
                    let local = self.layout.locate(*slot).local;
                    let rows = &data[*span];
                    self.layout
                        .memory_pieces(local, bytes.clone(), |at, addr, len| {
                            let to = (addr - bytes.start) as usize;
                            out[to..to + len].copy_from_slice(&rows[base + at..base + at + len]);
                        });
                }
                out
            })
            .collect())
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
        self.write_memory_regions(&[(slot, addr, bytes)])
    }

    /// Several writes of [`write_memory_region`](Self::write_memory_region), in order, with one
    /// readback of the rows they touch and one write of each run of rows.
    pub(super) fn write_memory_regions(
        &mut self,
        writes: &[(u32, u64, impl AsRef<[u8]>)],
    ) -> Result<(), swarm_gpu::GpuError> {
        let spans = self.row_spans(
            writes
                .iter()
                .map(|(slot, addr, bytes)| (*slot, *addr..*addr + bytes.as_ref().len() as u64)),
        );
        let mut data = spans.read(self)?;
        for ((slot, addr, bytes), place) in writes.iter().zip(&spans.places) {
            let Some((span, base)) = place else { continue };
            let bytes = bytes.as_ref();
            let local = self.layout.locate(*slot).local;
            let rows = &mut data[*span];
            let range = *addr..*addr + bytes.len() as u64;
            self.layout
                .memory_pieces(local, range.clone(), |at, piece, len| {
                    let from = (piece - addr) as usize;
                    rows[base + at..base + at + len].copy_from_slice(&bytes[from..from + len]);
                });
            let touched = &mut self.slots[*slot as usize].touched;
            *touched = (*touched).max(range.end.div_ceil(4) as u32);
        }
        for ((chunk, rows), data) in spans.spans.iter().zip(&data) {
            let buffer = &self.chunks[*chunk as usize].memory;
            self.gpu.write_buffer(buffer, rows.start, data)?;
        }
        Ok(())
    }

    /// The runs of memory rows that hold `regions` (slots and byte ranges of their memory
    /// regions): overlapping rows of one chunk join into one run, and each non-empty region
    /// gets its run and where its rows start in it.
    fn row_spans(&self, regions: impl Iterator<Item = (u32, Range<u64>)>) -> RowSpans {
        let rows: Vec<Option<(u32, Range<u64>)>> = regions
            .map(|(slot, bytes)| {
                (!bytes.is_empty()).then(|| {
                    let location = self.layout.locate(slot);
                    (
                        location.chunk,
                        self.layout.memory_rows(location.local, bytes),
                    )
                })
            })
            .collect();
        let mut order: Vec<&(u32, Range<u64>)> = rows.iter().flatten().collect();
        order.sort_by_key(|(chunk, rows)| (*chunk, rows.start));
        let mut spans: Vec<(u32, Range<u64>)> = Vec::new();
        for (chunk, rows) in order {
            match spans.last_mut() {
                Some((last, span)) if last == chunk && rows.start <= span.end => {
                    span.end = span.end.max(rows.end);
                }
                _ => spans.push((*chunk, rows.clone())),
            }
        }
        let places = rows
            .iter()
            .map(|region| {
                let (chunk, rows) = region.as_ref()?;
                // The last span of this chunk that starts at or before these rows holds them.
                let span =
                    spans.partition_point(|(c, s)| (*c, s.start) <= (*chunk, rows.start)) - 1;
                Some((span, (rows.start - spans[span].1.start) as usize))
            })
            .collect();
        RowSpans { spans, places }
    }
}

/// Most bytes of memory rows one readback moves: a batch touching more reads them in several,
/// so its staging buffer stays far below any device's buffer size limit (a single run larger
/// than this, one agent's rows, is read alone).
const READBACK_BYTES: u64 = 1 << 28;

/// Runs of memory rows to read or write together ([`Swarm::row_spans`]).
struct RowSpans {
    /// Each run: its chunk and its bytes in the chunk's memory buffer.
    spans: Vec<(u32, Range<u64>)>,
    /// Per region: its run, and the offset of its rows in the run (`None` for no bytes).
    places: Vec<Option<(usize, usize)>>,
}

impl RowSpans {
    /// Every run's bytes: one readback, or one per [`READBACK_BYTES`] of runs.
    fn read(&self, swarm: &Swarm) -> Result<Vec<Vec<u8>>, swarm_gpu::GpuError> {
        let mut out = Vec::with_capacity(self.spans.len());
        let mut reads: Vec<ReadRequest<'_>> = Vec::new();
        let mut bytes = 0;
        for (chunk, rows) in &self.spans {
            let size = rows.end - rows.start;
            if !reads.is_empty() && bytes + size > READBACK_BYTES {
                out.extend(swarm.gpu.read_buffers(&reads)?);
                reads.clear();
                bytes = 0;
            }
            reads.push(ReadRequest {
                buffer: &swarm.chunks[*chunk as usize].memory,
                offset: rows.start,
                size,
            });
            bytes += size;
        }
        if !reads.is_empty() {
            out.extend(swarm.gpu.read_buffers(&reads)?);
        }
        Ok(out)
    }
}
