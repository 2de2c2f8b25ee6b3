//! `Layout`: where every per-agent region lives in which GPU buffer, and how a pool splits into
//! chunks that each fit one storage binding.
//!
//! This is the one source of truth for buffer offsets: the host reads and writes agent state
//! through it, and the WGSL generator takes its strides and region offsets as constants.

use crate::{AgentStatus, DeviceLimits, GpuStruct, SwarmConfig, WASM_PAGE_BYTES};

/// Bytes in one value-stack or global slot (a WebAssembly value, up to 64 bits).
pub const VALUE_SLOT_BYTES: u64 = 8;
/// Bytes in one table element (a function index, or a reference's handle).
pub const TABLE_ELEMENT_BYTES: u64 = 4;
/// Bytes in one call frame record: return pc, caller's frame pointer, caller's function, and
/// the caller's stack height to restore.
pub const CALL_FRAME_BYTES: u64 = 16;
/// Every region starts on this boundary, so 64-bit values never straddle words oddly.
const REGION_ALIGN: u64 = 8;
/// The smallest buffer swarm creates; bindings of zero bytes are not allowed.
pub const MIN_BUFFER_BYTES: u64 = 16;

/// The per-agent GPU buffers. Each chunk of the pool has one buffer of each kind, in which agent
/// `local` owns bytes `local * stride .. (local + 1) * stride`, except for the interleaved
/// regions: linear memory (the whole memory buffer, see [`Layout::memory_byte`]) and the value
/// stacks after the state buffer's strides (see [`Layout::stack_word`]), both laid out by tiles
/// of agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BufferKind {
    /// Linear memory.
    Memory,
    /// Globals, tables, the value stack and call frames: state the host rarely reads.
    State,
    /// The status record and results, read back after every dispatch.
    Status,
    /// Output bytes.
    Output,
}

impl BufferKind {
    /// Every buffer kind, in binding order.
    pub const ALL: [Self; 4] = [Self::Memory, Self::State, Self::Status, Self::Output];

    /// A lower-case name for labels and messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::State => "state",
            Self::Status => "status",
            Self::Output => "output",
        }
    }
}

/// The per-agent regions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegionKind {
    /// Linear memory, `max_memory_pages` pages. Interleaved: the memories of the agents of one
    /// tile share one range of the memory buffer, granule by granule
    /// ([`Layout::memory_byte`]).
    LinearMemory,
    /// Globals, one 64-bit slot each.
    Globals,
    /// Table elements of all tables, 32 bits each.
    Tables,
    /// Operand stack and locals, 64-bit slots of two words. Not part of the agent's stride:
    /// word `w` of the agents of one tile ([`Layout::tile`] agents) sit side by side
    /// ([`Layout::stack_word`]), so the agents of a GPU warp touching the same stack word touch
    /// neighbouring addresses, while each tile's stacks stay together.
    ValueStack,
    /// Call frame records.
    CallFrames,
    /// The [`AgentStatus`] record.
    Status,
    /// Results of the last finished call, 64-bit slots.
    Results,
    /// Output bytes.
    Output,
}

impl RegionKind {
    /// Every region.
    pub const ALL: [Self; 8] = [
        Self::LinearMemory,
        Self::Globals,
        Self::Tables,
        Self::ValueStack,
        Self::CallFrames,
        Self::Status,
        Self::Results,
        Self::Output,
    ];

    /// The buffer the region lives in.
    pub fn buffer(self) -> BufferKind {
        match self {
            Self::LinearMemory => BufferKind::Memory,
            Self::Globals | Self::Tables | Self::ValueStack | Self::CallFrames => BufferKind::State,
            Self::Status | Self::Results => BufferKind::Status,
            Self::Output => BufferKind::Output,
        }
    }
}

/// A region's place inside an agent's stride of its buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// The region.
    pub kind: RegionKind,
    /// Byte offset from the start of the agent's stride (0 for the interleaved value stack).
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
}

impl Region {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.offset + self.size
    }
}

/// One buffer kind's per-agent stride.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferLayout {
    /// The buffer.
    pub kind: BufferKind,
    /// Bytes per agent (a multiple of 8; 0 when the buffer holds nothing, e.g. no memory).
    pub stride: u64,
}

/// Where a slot lives: its chunk and its index inside the chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SlotLocation {
    /// The chunk.
    pub chunk: u32,
    /// Index inside the chunk's buffers.
    pub local: u32,
}

/// One chunk: a run of whole agents whose buffers each fit one binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkLayout {
    /// Chunk index.
    pub index: u32,
    /// Slot of its first agent.
    pub first_slot: u32,
    /// Agents in it.
    pub agents: u32,
}

/// Why a config cannot be laid out on a device.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// One agent's share of a buffer does not fit one binding.
    #[error(
        "one agent needs {stride} bytes of {buffer} buffer but this device binds at most {limit} bytes; {fix}",
        buffer = buffer.name()
    )]
    AgentTooLarge {
        /// The buffer.
        buffer: BufferKind,
        /// Bytes per agent.
        stride: u64,
        /// The device's binding limit.
        limit: u64,
        /// What to change.
        fix: &'static str,
    },
    /// The whole pool needs more memory than the device has.
    #[error(
        "{agents} agents of {per_agent} bytes need {bytes} bytes of GPU memory but this device has \
         {memory}; lower `max_agents`, or the per-agent sizes (`max_memory_pages`, \
         `value_stack_slots`, `call_frames`, `output_bytes`)"
    )]
    PoolTooLarge {
        /// Agents in the pool.
        agents: u32,
        /// Bytes of every buffer per agent.
        per_agent: u64,
        /// Bytes of all the pool's buffers.
        bytes: u64,
        /// The device's largest device-local memory heap.
        memory: u64,
    },
}

/// The complete placement of a swarm's per-agent state in GPU buffers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    max_agents: u32,
    workgroup_size: u32,
    /// Value-stack bytes per agent, interleaved after the state strides.
    stack_bytes: u64,
    /// Agents per tile of interleaved memory and value stacks: `SwarmConfig::tile_agents`, or
    /// fewer for chunks smaller than that.
    tile: u32,
    /// Bytes of one agent's memory that lie together inside a tile.
    granule: u64,
    /// Whether an invocation keeps its value stack in private memory while it runs.
    private_stack: bool,
    buffers: [BufferLayout; 4],
    regions: [Region; 8],
    agents_per_chunk: u32,
}

impl Layout {
    /// Lays out `config` for a device with `limits`.
    ///
    /// The config should be valid ([`SwarmConfig::validate`]); sizes are computed in `u64` and
    /// cannot overflow for any valid config.
    pub fn new(config: &SwarmConfig, limits: &DeviceLimits) -> Result<Self, LayoutError> {
        let mut regions = Vec::with_capacity(RegionKind::ALL.len());
        let mut strides = [0_u64; 4];
        let sizes = [
            (
                RegionKind::LinearMemory,
                u64::from(config.max_memory_pages) * WASM_PAGE_BYTES,
            ),
            (
                RegionKind::Globals,
                u64::from(config.max_globals) * VALUE_SLOT_BYTES,
            ),
            (
                RegionKind::Tables,
                u64::from(config.max_table_elements) * TABLE_ELEMENT_BYTES,
            ),
            (
                RegionKind::ValueStack,
                u64::from(config.value_stack_slots) * VALUE_SLOT_BYTES,
            ),
            (
                RegionKind::CallFrames,
                u64::from(config.call_frames) * CALL_FRAME_BYTES,
            ),
            (RegionKind::Status, AgentStatus::SIZE as u64),
            (
                RegionKind::Results,
                u64::from(config.max_results) * VALUE_SLOT_BYTES,
            ),
            (RegionKind::Output, u64::from(config.output_bytes)),
        ];
        let stack_bytes = u64::from(config.value_stack_slots) * VALUE_SLOT_BYTES;
        for (kind, size) in sizes {
            if kind == RegionKind::ValueStack {
                regions.push(Region {
                    kind,
                    offset: 0,
                    size,
                });
                continue;
            }
            let stride = &mut strides[buffer_index(kind.buffer())];
            let offset = *stride;
            *stride = (offset + size).next_multiple_of(REGION_ALIGN);
            regions.push(Region { kind, offset, size });
        }
        let buffers = BufferKind::ALL.map(|kind| BufferLayout {
            kind,
            stride: strides[buffer_index(kind)],
        });

        let limit = limits.max_bound_buffer();
        let mut agents_per_chunk = config.max_agents;
        for buffer in buffers {
            // Bytes one agent needs in this buffer, its share of the value stacks included.
            let per_agent = buffer.stride
                + match buffer.kind {
                    BufferKind::State => stack_bytes,
                    _ => 0,
                };
            if per_agent == 0 {
                continue;
            }
            if per_agent > limit {
                return Err(LayoutError::AgentTooLarge {
                    buffer: buffer.kind,
                    stride: per_agent,
                    limit,
                    fix: match buffer.kind {
                        BufferKind::Memory => "lower `max_memory_pages`",
                        BufferKind::State => {
                            "lower `value_stack_slots`, `call_frames`, `max_globals` or `max_table_elements`"
                        }
                        BufferKind::Status => "lower `max_results`",
                        BufferKind::Output => "lower `output_bytes`",
                    },
                });
            }
            let fit = u32::try_from(limit / per_agent).unwrap_or(u32::MAX);
            agents_per_chunk = agents_per_chunk.min(fit);
        }
        // Interleaved regions take whole tiles: where padding the last tile would overflow a
        // binding, the chunk drops to whole tiles.
        let tile = config.tile_agents.min(agents_per_chunk).max(1);
        let padded = |agents: u32| u64::from(agents.div_ceil(tile) * tile);
        let state_bytes = |agents: u32| {
            u64::from(agents) * buffers[buffer_index(BufferKind::State)].stride
                + padded(agents) * stack_bytes
        };
        let memory_bytes =
            |agents: u32| padded(agents) * buffers[buffer_index(BufferKind::Memory)].stride;
        if state_bytes(agents_per_chunk) > limit || memory_bytes(agents_per_chunk) > limit {
            agents_per_chunk = agents_per_chunk / tile * tile;
        }

        let layout = Self {
            max_agents: config.max_agents,
            workgroup_size: config.workgroup_size,
            stack_bytes,
            tile,
            granule: u64::from(config.memory_granule_bytes),
            // A private stack is copied in and out by loops outside the dispatch loop, which a
            // driver's loop limit could cut; where there is one, the stack stays in place.
            private_stack: limits.shader_loop_iterations.is_none()
                && config.value_stack_slots <= config.private_stack_slots,
            buffers,
            regions: regions.try_into().expect("one region per kind"),
            agents_per_chunk,
        };
        if let Some(memory) = limits.device_memory {
            let bytes = layout.pool_bytes();
            if bytes > memory {
                return Err(LayoutError::PoolTooLarge {
                    agents: config.max_agents,
                    per_agent: BufferKind::ALL
                        .iter()
                        .map(|kind| layout.agent_bytes(*kind))
                        .sum(),
                    bytes,
                    memory,
                });
            }
        }
        Ok(layout)
    }

    /// Bytes of every buffer of every chunk: the GPU memory the whole pool takes.
    pub fn pool_bytes(&self) -> u64 {
        self.chunks()
            .map(|chunk| {
                BufferKind::ALL
                    .iter()
                    .map(|kind| self.buffer_size(chunk, *kind))
                    .sum::<u64>()
            })
            .sum()
    }

    /// Agents in the whole pool.
    pub fn max_agents(&self) -> u32 {
        self.max_agents
    }

    /// Agents (invocations) per workgroup.
    pub fn workgroup_size(&self) -> u32 {
        self.workgroup_size
    }

    /// Agents in every chunk but possibly the last.
    pub fn agents_per_chunk(&self) -> u32 {
        self.agents_per_chunk
    }

    /// Number of chunks.
    pub fn chunk_count(&self) -> u32 {
        self.max_agents.div_ceil(self.agents_per_chunk)
    }

    /// Every chunk, in slot order.
    pub fn chunks(&self) -> impl Iterator<Item = ChunkLayout> + '_ {
        (0..self.chunk_count()).map(|index| self.chunk(index))
    }

    /// Chunk `index` (which must be below [`chunk_count`](Self::chunk_count)).
    pub fn chunk(&self, index: u32) -> ChunkLayout {
        let first_slot = index * self.agents_per_chunk;
        ChunkLayout {
            index,
            first_slot,
            agents: self.agents_per_chunk.min(self.max_agents - first_slot),
        }
    }

    /// The stride of a buffer kind.
    pub fn buffer(&self, kind: BufferKind) -> BufferLayout {
        self.buffers[buffer_index(kind)]
    }

    /// A region's offset and size inside its buffer's per-agent stride.
    pub fn region(&self, kind: RegionKind) -> Region {
        self.regions[RegionKind::ALL
            .iter()
            .position(|k| *k == kind)
            .expect("every kind has a region")]
    }

    /// Bytes of a chunk's buffer of `kind`. A state buffer always has room for a whole chunk
    /// of value stacks, since their rows are laid out for
    /// [`agents_per_chunk`](Self::agents_per_chunk) agents.
    pub fn buffer_size(&self, chunk: ChunkLayout, kind: BufferKind) -> u64 {
        let bytes = match kind {
            BufferKind::State => {
                let tiles = self.agents_per_chunk.div_ceil(self.tile);
                self.stack_base() + self.stack_bytes * u64::from(tiles * self.tile)
            }
            BufferKind::Memory => {
                let tiles = chunk.agents.div_ceil(self.tile);
                u64::from(tiles * self.tile) * self.buffer(kind).stride
            }
            _ => u64::from(chunk.agents) * self.buffer(kind).stride,
        };
        bytes.max(MIN_BUFFER_BYTES)
    }

    /// Bytes one agent takes in a buffer of `kind`: its stride, and for the state buffer its
    /// value stack too.
    pub fn agent_bytes(&self, kind: BufferKind) -> u64 {
        self.buffer(kind).stride
            + match kind {
                BufferKind::State => self.stack_bytes,
                _ => 0,
            }
    }

    /// Where the value stacks start in a chunk's state buffer, in bytes: after every agent's
    /// stride.
    pub fn stack_base(&self) -> u64 {
        u64::from(self.agents_per_chunk) * self.buffer(BufferKind::State).stride
    }

    /// Agents per tile: the agents whose linear memories and value stacks are interleaved.
    pub fn tile(&self) -> u32 {
        self.tile
    }

    /// Bytes of one agent's linear memory that lie together inside a tile.
    pub fn memory_granule(&self) -> u64 {
        self.granule
    }

    /// Whether an invocation copies its value stack into private memory when a dispatch starts
    /// and back when it ends (`SwarmConfig::private_stack_slots`), instead of using it in place.
    /// Never on a device whose driver limits shader loops (`DeviceLimits::shader_loop_iterations`):
    /// the copies are loops outside the dispatch loop, and a cut one would lose the stack.
    /// The state buffer holds the stacks between dispatches either way.
    pub fn private_stack(&self) -> bool {
        self.private_stack
    }

    /// Words in one agent's value stack.
    pub fn stack_words(&self) -> u32 {
        (self.stack_bytes / 4) as u32
    }

    /// Where word `word` of local agent `local`'s value stack lives in its chunk's state
    /// buffer, in bytes. Slot `i` is words `2i` (low half) and `2i + 1` (high half). Tile `t`
    /// holds agents `t * tile ..`: first word 0 of each of them, then word 1, and so on.
    pub fn stack_word(&self, local: u32, word: u32) -> u64 {
        let tile = u64::from(self.tile);
        let local = u64::from(local);
        self.stack_base()
            + 4 * ((local / tile) * u64::from(self.stack_words()) * tile
                + u64::from(word) * tile
                + local % tile)
    }

    /// The bytes of words `words` of every agent of value-stack tile `tile` (agents
    /// `tile * self.tile() ..`), one contiguous range of its chunk's state buffer.
    pub fn stack_tile_words(&self, tile: u32, words: std::ops::Range<u32>) -> std::ops::Range<u64> {
        let start = self.stack_word(tile * self.tile, words.start);
        start..start + 4 * u64::from(words.end - words.start) * u64::from(self.tile)
    }

    /// Where byte `addr` of local agent `local`'s linear memory lives in its chunk's memory
    /// buffer. The memories of a tile's agents are interleaved granule by granule: tile `t`
    /// holds granule 0 of each of its agents, then granule 1 of each, and so on, so the agents
    /// of a warp reading the same address read neighbouring granules.
    pub fn memory_byte(&self, local: u32, addr: u64) -> u64 {
        let tile = u64::from(self.tile);
        let local = u64::from(local);
        (local / tile) * tile * self.buffer(BufferKind::Memory).stride
            + (addr / self.granule) * tile * self.granule
            + (local % tile) * self.granule
            + addr % self.granule
    }

    /// The whole rows of `local`'s tile that hold bytes `bytes` (non-empty) of its memory: one
    /// contiguous range of the chunk's memory buffer, which also holds the same bytes of the
    /// tile's other agents.
    pub fn memory_rows(&self, local: u32, bytes: std::ops::Range<u64>) -> std::ops::Range<u64> {
        debug_assert!(bytes.start < bytes.end);
        let row = u64::from(self.tile) * self.granule;
        let first = self.memory_byte(
            local - local % self.tile,
            bytes.start / self.granule * self.granule,
        );
        first..first + ((bytes.end - 1) / self.granule + 1 - bytes.start / self.granule) * row
    }

    /// Calls `piece(rows_offset, addr, len)` for each run of `local`'s memory bytes
    /// `addr..addr + len` that lies contiguous in `memory_rows(local, bytes)`, `rows_offset`
    /// counted from the start of those rows; the runs cover `bytes` in order.
    pub fn memory_pieces(
        &self,
        local: u32,
        bytes: std::ops::Range<u64>,
        mut piece: impl FnMut(usize, u64, usize),
    ) {
        if bytes.is_empty() {
            return;
        }
        let start = self.memory_rows(local, bytes.clone()).start;
        let mut addr = bytes.start;
        while addr < bytes.end {
            let len = (self.granule - addr % self.granule).min(bytes.end - addr);
            piece(
                (self.memory_byte(local, addr) - start) as usize,
                addr,
                len as usize,
            );
            addr += len;
        }
    }

    /// Where `slot` lives.
    pub fn locate(&self, slot: u32) -> SlotLocation {
        SlotLocation {
            chunk: slot / self.agents_per_chunk,
            local: slot % self.agents_per_chunk,
        }
    }

    /// The bytes of consecutive local slots `locals` in a chunk's buffer of `kind`: whole
    /// strides, every region of those agents.
    pub fn strides(&self, kind: BufferKind, locals: std::ops::Range<u32>) -> std::ops::Range<u64> {
        let stride = self.buffer(kind).stride;
        u64::from(locals.start) * stride..u64::from(locals.end) * stride
    }

    /// The byte range of `slot`'s region `kind` inside its chunk's buffer. Linear memory and
    /// the value stack are not one range: see [`memory_byte`](Self::memory_byte) and
    /// [`stack_word`](Self::stack_word).
    pub fn slot_range(&self, slot: u32, kind: RegionKind) -> (SlotLocation, std::ops::Range<u64>) {
        debug_assert!(
            !matches!(kind, RegionKind::ValueStack | RegionKind::LinearMemory),
            "interleaved regions have no range"
        );
        let location = self.locate(slot);
        let region = self.region(kind);
        let base = u64::from(location.local) * self.buffer(kind.buffer()).stride;
        (location, base + region.offset..base + region.end())
    }
}

fn buffer_index(kind: BufferKind) -> usize {
    kind as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_fits_one_lavapipe_chunk() {
        let layout = Layout::new(&SwarmConfig::default(), &DeviceLimits::LAVAPIPE).unwrap();
        assert_eq!(layout.chunk_count(), 1);
        assert_eq!(layout.buffer(BufferKind::Memory).stride, 65_536);
        assert_eq!(layout.region(RegionKind::Results).offset, 112);
    }

    #[test]
    fn private_stacks_only_where_loops_are_unlimited() {
        let small = SwarmConfig {
            value_stack_slots: 256,
            ..SwarmConfig::default()
        };
        assert!(
            Layout::new(&small, &DeviceLimits::H100)
                .unwrap()
                .private_stack()
        );
        assert!(
            !Layout::new(&small, &DeviceLimits::LAVAPIPE)
                .unwrap()
                .private_stack()
        );
    }

    #[test]
    fn value_stacks_are_interleaved_in_whole_tiles() {
        let config = SwarmConfig {
            max_agents: 100,
            value_stack_slots: 16,
            tile_agents: 32,
            ..SwarmConfig::default()
        };
        let layout = Layout::new(&config, &DeviceLimits::LAVAPIPE).unwrap();
        let base = layout.stack_base();
        assert_eq!(base, 100 * layout.buffer(BufferKind::State).stride);
        assert_eq!(layout.tile(), 32);
        // Neighbouring agents' word 0 side by side, then word 1 of the tile.
        assert_eq!(layout.stack_word(1, 0), base + 4);
        assert_eq!(layout.stack_word(0, 1), base + 4 * 32);
        // The second tile starts after all 32 words of the first tile's 32 agents.
        assert_eq!(layout.stack_word(32, 0), base + 4 * 32 * 32);
        assert_eq!(
            layout.stack_tile_words(1, 2..4),
            base + 4 * (32 * 32 + 2 * 32)..base + 4 * (32 * 32 + 4 * 32)
        );
        // Four tiles, the last padded.
        let chunk = layout.chunk(0);
        assert_eq!(
            layout.buffer_size(chunk, BufferKind::State),
            base + 4 * 128 * 32
        );
        assert_eq!(
            layout.stack_word(99, 31) + 4,
            base + 4 * (3 * 32 * 32 + 31 * 32 + 4)
        );

        // A binding that fits 50 agents exactly holds 32 once the last tile is padded.
        let per_agent = layout.agent_bytes(BufferKind::State);
        let limits = DeviceLimits {
            max_storage_buffer_binding_size: 50 * per_agent,
            ..DeviceLimits::H100
        };
        let small = SwarmConfig {
            max_memory_pages: 0,
            ..config
        };
        let layout = Layout::new(&small, &limits).unwrap();
        assert_eq!(layout.agents_per_chunk(), 32);
        for chunk in layout.chunks() {
            assert!(layout.buffer_size(chunk, BufferKind::State) <= 50 * per_agent);
        }
    }

    #[test]
    fn memories_are_interleaved_granule_by_granule() {
        for (tile_agents, granule) in [(32, 4), (32, 16), (8, 64), (1, 4)] {
            let config = SwarmConfig {
                max_agents: 70,
                max_memory_pages: 1,
                tile_agents,
                memory_granule_bytes: granule,
                ..SwarmConfig::default()
            };
            let layout = Layout::new(&config, &DeviceLimits::LAVAPIPE).unwrap();
            let (tile, granule) = (u64::from(tile_agents), u64::from(granule));
            let second = if tile > 1 { granule } else { 65_536 };
            assert_eq!(layout.memory_byte(1, 0), second);
            assert_eq!(layout.memory_byte(0, granule), tile * granule);
            assert_eq!(layout.memory_byte(0, 3), 3);
            assert_eq!(layout.memory_byte(tile_agents, 0), tile * 65_536);
            // Every byte of every agent has its own place inside the (padded) buffer.
            let size = layout.buffer_size(layout.chunk(0), BufferKind::Memory);
            assert_eq!(size, 70_u64.div_ceil(tile) * tile * 65_536);
            let mut seen = vec![false; size as usize];
            for local in 0..70 {
                for addr in (0..65_536).step_by(997).chain([65_535]) {
                    let at = layout.memory_byte(local, addr) as usize;
                    assert!(!seen[at], "{tile_agents}/{granule}: {local} {addr}");
                    seen[at] = true;
                }
            }
            // The pieces of a byte range, read from its rows, are the agent's bytes in order.
            let mut buffer = vec![0_u8; size as usize];
            for local in 0..70_u32 {
                for addr in 0..65_536 {
                    buffer[layout.memory_byte(local, addr) as usize] = (addr as u8) ^ (local as u8);
                }
            }
            for (local, bytes) in [(3, 0..1), (33, 5..4_099), (69, 65_000..65_536)] {
                let rows = layout.memory_rows(local, bytes.clone());
                let rows = &buffer[rows.start as usize..rows.end as usize];
                let mut read = Vec::new();
                layout.memory_pieces(local, bytes.clone(), |offset, addr, len| {
                    assert_eq!(addr, bytes.start + read.len() as u64);
                    read.extend_from_slice(&rows[offset..offset + len]);
                });
                let expected: Vec<u8> = bytes.map(|a| (a as u8) ^ (local as u8)).collect();
                assert_eq!(read, expected, "{tile_agents}/{granule}: {local}");
            }
        }
    }

    #[test]
    fn a_million_one_page_agents_split_into_binding_sized_chunks() {
        let config = SwarmConfig {
            max_agents: 1 << 20,
            value_stack_slots: 64,
            call_frames: 16,
            max_globals: 8,
            max_table_elements: 0,
            output_bytes: 0,
            ..SwarmConfig::default()
        };
        let h100 = Layout::new(&config, &DeviceLimits::H100).unwrap();
        // 2 GiB - 4 bytes holds 32,767 pages of 64 KiB: 511 whole tiles of 64.
        assert_eq!(h100.agents_per_chunk(), 32_704);
        assert_eq!(h100.chunk_count(), 33);
        let lavapipe = Layout::new(&config, &DeviceLimits::LAVAPIPE).unwrap();
        assert_eq!(lavapipe.agents_per_chunk(), 2_048);
        assert_eq!(
            lavapipe.locate(5_000),
            SlotLocation {
                chunk: 2,
                local: 904
            }
        );
    }

    #[test]
    fn an_agent_larger_than_a_binding_is_refused_with_the_field_to_change() {
        let config = SwarmConfig {
            max_memory_pages: 4_096,
            ..SwarmConfig::default()
        };
        let err = Layout::new(&config, &DeviceLimits::LAVAPIPE).unwrap_err();
        assert!(
            err.to_string().ends_with("lower `max_memory_pages`"),
            "{err}"
        );
    }

    #[test]
    fn a_pool_larger_than_device_memory_is_refused_with_the_fields_to_change() {
        // 65,536 agents of 1 MiB memory fit an 80 GB device; a million do not.
        let config = |max_agents| SwarmConfig {
            max_agents,
            max_memory_pages: 16,
            ..SwarmConfig::default()
        };
        let fits = Layout::new(&config(65_536), &DeviceLimits::H100).unwrap();
        assert!(fits.pool_bytes() > 65_536 << 20);
        let err = Layout::new(&config(1_000_000), &DeviceLimits::H100).unwrap_err();
        let LayoutError::PoolTooLarge { bytes, memory, .. } = err else {
            panic!("{err}");
        };
        assert!(bytes > 1_000_000 << 20 && memory == 85_520_809_984);
        assert!(err.to_string().contains("lower `max_agents`"), "{err}");
        // Unknown device memory refuses nothing.
        let unknown = DeviceLimits {
            device_memory: None,
            ..DeviceLimits::H100
        };
        assert!(Layout::new(&config(1_000_000), &unknown).is_ok());
    }
}
