//! The code image: the read-only buffer every agent of a swarm shares (header, lowered code,
//! function table, table and segment metadata, segment contents), fitted to a swarm's config.

use swarm_core::SwarmConfig;

use crate::lower::CODE_BASE;
use crate::program::{ConstExpr, FuncKind, Program};

/// Header words of the code image, by index.
pub mod header {
    /// Word offset of the function table (8 words per function).
    pub const FUNCS: usize = 0;
    /// Number of functions.
    pub const FUNC_COUNT: usize = 1;
    /// Word offset of the table metadata (4 words per table).
    pub const TABLES: usize = 2;
    /// Number of tables.
    pub const TABLE_COUNT: usize = 3;
    /// Word offset of the segment metadata (2 words per segment: word offset, length).
    pub const SEGMENTS: usize = 4;
    /// Number of segments (data first, then element).
    pub const SEGMENT_COUNT: usize = 5;
    /// Number of data segments.
    pub const DATA_COUNT: usize = 6;
    /// Word offset, in the globals region, of the first segment drop flag
    /// ([`GlobalsRegion::segment_flag`](super::GlobalsRegion::segment_flag)).
    pub const SEGMENT_FLAGS: usize = 7;
    /// Word offset of the memory table (4 words per memory: first word in the agent's memory
    /// region, maximum pages, size word in the globals region).
    pub const MEMORIES: usize = 8;
    /// Number of memories.
    pub const MEMORY_COUNT: usize = 9;
}

/// The words of an agent's globals region, in order: two per global (its bits, low word
/// first), one drop flag per segment (data segments, then element segments), and one size
/// word per memory (memory 0's is unused: its size lives in the status record). The code
/// image, the interpreter (through [`header::SEGMENT_FLAGS`] and the memory table), the
/// instantiation template and snapshots all place these words through it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalsRegion {
    /// Globals.
    pub globals: u32,
    /// Data and element segments.
    pub segments: u32,
    /// Memories.
    pub memories: u32,
}

impl GlobalsRegion {
    /// The region of `program`'s store.
    pub fn of(program: &Program) -> Self {
        Self {
            globals: program.globals.len() as u32,
            segments: (program.data.len() + program.elems.len()) as u32,
            memories: program.memories.len() as u32,
        }
    }

    /// The low word of global `index` (its high word follows).
    pub fn global_word(self, index: u32) -> u32 {
        2 * index
    }

    /// The drop flag of segment `index` (data segments first, then element segments).
    pub fn segment_flag(self, index: u32) -> u32 {
        2 * self.globals + index
    }

    /// The size word of memory `index`.
    pub fn memory_size_word(self, index: u32) -> u32 {
        2 * self.globals + self.segments + index
    }

    /// Words of the whole region.
    pub fn words(self) -> u32 {
        2 * self.globals + self.segments + self.memories
    }
}

/// Words per function-table entry.
pub const FUNC_ENTRY_WORDS: u32 = 8;
/// Words per table-metadata entry.
pub const TABLE_ENTRY_WORDS: u32 = 4;
/// Words per memory-table entry.
pub const MEMORY_ENTRY_WORDS: u32 = 4;
/// The entry word of an imported function (run by the host).
pub const IMPORTED_ENTRY: u32 = u32::MAX;
/// The entry word of an imported function that nobody provides and that answers every call
/// with zeros, on the GPU ([`CodeImage::answer_with_zeros`]). The interpreter tells imports
/// from defined functions by their entry words being the two highest.
pub const ZEROS_ENTRY: u32 = u32::MAX - 1;
/// The entry word of an imported stream write, a WASI `fd_write(fd, iovs, iovs_len,
/// nwritten) -> errno` whose writes to descriptors 1 and 2 the GPU gathers itself while the
/// host lets it ([`CodeImage::write_streams_on_gpu`]); other calls go to the host.
pub const STREAM_WRITE_ENTRY: u32 = u32::MAX - 2;
const _: () = assert!(
    STREAM_WRITE_ENTRY < ZEROS_ENTRY && ZEROS_ENTRY < IMPORTED_ENTRY,
    "the interpreter tests `entry >= STREAM_WRITE` for imports"
);
/// The most bytes one stream write gathers on the GPU; a longer one goes to the host.
pub const STREAM_WRITE_MAX_BYTES: u32 = 4_096;
/// The bits of a null reference.
pub const REF_NULL: u32 = u32::MAX;

/// How one table is placed in each agent's tables region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TablePlacement {
    /// Word offset of the first element inside the region.
    pub base: u32,
    /// Elements it can grow to.
    pub capacity: u32,
}

/// How one memory is placed in each agent's memory region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryPlacement {
    /// Page of the region where it starts.
    pub base_page: u32,
    /// Pages it can grow to.
    pub capacity: u32,
}

/// A module that does not fit a swarm's per-agent budgets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// Initial memory (of all a store's memories together) larger than the agent's memory.
    #[error(
        "module needs {needed} pages of initial memory but agents are configured with {configured}; \
         raise `max_memory_pages` or, for a Rust guest, link with a smaller stack \
         (`-C link-arg=-zstack-size=…`)"
    )]
    Memory {
        /// Pages the module starts with.
        needed: u64,
        /// `max_memory_pages`.
        configured: u32,
    },
    /// Tables larger than the table budget.
    #[error(
        "module's tables need {needed} elements (with one size word per table) but agents are \
         configured with {configured}; raise `max_table_elements`"
    )]
    Tables {
        /// Words needed.
        needed: u64,
        /// `max_table_elements`.
        configured: u32,
    },
    /// More globals (and segment flags) than the global budget.
    #[error(
        "module has {globals} globals and {segments} segments, needing {needed} global slots, but \
         agents are configured with {configured}; raise `max_globals`"
    )]
    Globals {
        /// Globals in the module.
        globals: usize,
        /// Segments in the module.
        segments: usize,
        /// Slots needed.
        needed: u64,
        /// `max_globals`.
        configured: u32,
    },
}

/// The code image and the placements it encodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeImage {
    /// The words to upload.
    pub words: Vec<u32>,
    /// Where each table lives in the tables region.
    pub tables: Vec<TablePlacement>,
    /// Where each memory lives in the memory region.
    pub memories: Vec<MemoryPlacement>,
}

impl CodeImage {
    /// Makes imported function `func` answer every call on the GPU, as wasmtime's
    /// `define_unknown_imports_as_default_values` does: its arguments are dropped and each
    /// result is zero, with the fuel and instruction count of a call to a host function. Its
    /// results must be numbers (a reference's default is null, which is not zero bits).
    pub fn answer_with_zeros(&mut self, func: u32) {
        let entry = (self.words[header::FUNCS] + func * FUNC_ENTRY_WORDS) as usize;
        assert_eq!(
            self.words[entry], IMPORTED_ENTRY,
            "function {func} is not an import"
        );
        self.words[entry] = ZEROS_ENTRY;
    }

    /// Makes imported function `func`, of type `(i32, i32, i32, i32) -> i32`, a stream write:
    /// a call to it with descriptor 1 or 2 whose iovec array (of at most 4 entries, all in
    /// memory, at most [`STREAM_WRITE_MAX_BYTES`] in all) fits the stream's room
    /// ([`AgentStatus::stream1_room`](swarm_core::AgentStatus::stream1_room)) and the output
    /// region is answered on the GPU: the bytes are appended to the output region as one
    /// record (a word `len | stream << 31`, stream 0 for descriptor 1 and 1 for 2, then the
    /// bytes, padded to a word), the count stored at `nwritten`, and errno 0 returned.
    /// Every other call is a host call, as for any import.
    pub fn write_streams_on_gpu(&mut self, func: u32) {
        let entry = (self.words[header::FUNCS] + func * FUNC_ENTRY_WORDS) as usize;
        assert_eq!(
            self.words[entry], IMPORTED_ENTRY,
            "function {func} is not an import"
        );
        self.words[entry] = STREAM_WRITE_ENTRY;
    }

    /// Builds the image of `program` for agents shaped by `config`.
    pub fn build(program: &Program, config: &SwarmConfig) -> Result<Self, FitError> {
        let memories = place_memories(program, config.max_memory_pages)?;
        let tables = place_tables(program, config.max_table_elements)?;

        let segments = program.data.len() + program.elems.len();
        let region = GlobalsRegion::of(program);
        let global_words = u64::from(region.words());
        if global_words > 2 * u64::from(config.max_globals) {
            return Err(FitError::Globals {
                globals: program.globals.len(),
                segments,
                needed: global_words.div_ceil(2),
                configured: config.max_globals,
            });
        }

        let mut words = vec![0_u32; CODE_BASE as usize];
        words.extend_from_slice(&program.code);

        words[header::FUNCS] = words.len() as u32;
        words[header::FUNC_COUNT] = program.funcs.len() as u32;
        for func in &program.funcs {
            let (entry, locals, max_height) = match func.kind {
                FuncKind::Defined {
                    entry,
                    locals,
                    max_height,
                } => (entry, locals, max_height),
                FuncKind::Import { .. } => (
                    IMPORTED_ENTRY,
                    0,
                    func.ty.params.len().max(func.ty.results.len()) as u32,
                ),
            };
            words.extend([
                entry,
                func.ty.params.len() as u32,
                locals,
                func.ty.results.len() as u32,
                max_height,
                func.type_id,
                func.memory,
                0,
            ]);
        }

        words[header::TABLES] = words.len() as u32;
        words[header::TABLE_COUNT] = tables.len() as u32;
        for placement in &tables {
            words.extend([placement.base, placement.capacity, 0, 0]);
        }

        words[header::SEGMENTS] = words.len() as u32;
        words[header::SEGMENT_COUNT] = segments as u32;
        words[header::DATA_COUNT] = program.data.len() as u32;
        let meta = words.len();
        words.resize(meta + 2 * segments, 0);
        for (index, data) in program.data.iter().enumerate() {
            words[meta + 2 * index] = words.len() as u32;
            words[meta + 2 * index + 1] = data.bytes.len() as u32;
            words.extend(data.bytes.chunks(4).map(|c| {
                c.iter()
                    .rev()
                    .fold(0_u32, |acc, &b| (acc << 8) | u32::from(b))
            }));
        }
        for (index, elem) in program.elems.iter().enumerate() {
            let at = meta + 2 * (program.data.len() + index);
            words[at] = words.len() as u32;
            words[at + 1] = elem.items.len() as u32;
            words.extend(elem.items.iter().map(|item| match item {
                ConstExpr::Func(f) => *f,
                // Globals in element expressions are resolved by the host at instantiation;
                // `table.init` of a passive segment with them reads null.
                ConstExpr::Null | ConstExpr::Global(_) | ConstExpr::Bits(_) => REF_NULL,
            }));
        }
        words[header::SEGMENT_FLAGS] = region.segment_flag(0);
        words[header::MEMORIES] = words.len() as u32;
        words[header::MEMORY_COUNT] = memories.len() as u32;
        for (index, place) in memories.iter().enumerate() {
            words.extend([
                place.base_page * (swarm_core::WASM_PAGE_BYTES as u32 / 4),
                place.capacity,
                region.memory_size_word(index as u32),
                0,
            ]);
        }

        Ok(Self {
            words,
            tables,
            memories,
        })
    }
}

/// Places items of `(min, max)` sizes one after another from `start`, within `budget` units
/// from 0: each gets its minimum, then an equal share of what is left (up to its maximum), so
/// `memory.grow` and `table.grow` can succeed within the budget. `None` if the minimums do not
/// fit. Returns `(base, capacity)` per item.
fn place(items: &[(u64, Option<u64>)], start: u64, budget: u32) -> Option<Vec<(u32, u32)>> {
    let needed = start + items.iter().map(|(min, _)| min).sum::<u64>();
    let mut leftover = u64::from(budget).checked_sub(needed)?;
    let mut base = start;
    let mut placements = Vec::with_capacity(items.len());
    for (index, &(min, max)) in items.iter().enumerate() {
        let share = leftover / (items.len() - index) as u64;
        let room = max.unwrap_or(u64::from(u32::MAX)).saturating_sub(min);
        let extra = share.min(room);
        leftover -= extra;
        let capacity = min + extra;
        placements.push((base as u32, capacity as u32));
        base += capacity;
    }
    Some(placements)
}

/// Memories from page 0 of the memory region.
fn place_memories(program: &Program, budget: u32) -> Result<Vec<MemoryPlacement>, FitError> {
    let items: Vec<_> = program
        .memories
        .iter()
        .map(|m| (m.min_pages, m.max_pages))
        .collect();
    let placed = place(&items, 0, budget).ok_or_else(|| FitError::Memory {
        needed: items.iter().map(|(min, _)| min).sum(),
        configured: budget,
    })?;
    Ok(placed
        .into_iter()
        .map(|(base_page, capacity)| MemoryPlacement {
            base_page,
            capacity,
        })
        .collect())
}

/// Tables after the size words, one per table, at the start of the tables region.
fn place_tables(program: &Program, budget: u32) -> Result<Vec<TablePlacement>, FitError> {
    let items: Vec<_> = program.tables.iter().map(|t| (t.min, t.max)).collect();
    let count = items.len() as u64;
    let placed = place(&items, count, budget).ok_or_else(|| FitError::Tables {
        needed: count + items.iter().map(|(min, _)| min).sum::<u64>(),
        configured: budget,
    })?;
    Ok(placed
        .into_iter()
        .map(|(base, capacity)| TablePlacement { base, capacity })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_globals_region_is_globals_then_flags_then_sizes_without_overlap() {
        let region = GlobalsRegion {
            globals: 3,
            segments: 2,
            memories: 2,
        };
        let mut words: Vec<u32> = (0..region.globals)
            .flat_map(|g| [region.global_word(g), region.global_word(g) + 1])
            .chain((0..region.segments).map(|s| region.segment_flag(s)))
            .chain((0..region.memories).map(|m| region.memory_size_word(m)))
            .collect();
        // Globals first, flags after them, sizes last: the words in order, each once.
        assert_eq!(words, (0..region.words()).collect::<Vec<_>>());
        words.dedup();
        assert_eq!(words.len(), region.words() as usize);
        assert_eq!(region.segment_flag(0), 6);
        assert_eq!(region.memory_size_word(1), 9);
    }
}
