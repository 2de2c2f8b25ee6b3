//! Instantiation on the host: the per-agent starting state (globals, tables, memory, segment
//! flags) of a module, computed once at load and copied into every spawned agent.

use std::collections::HashMap;

use swarm_core::TrapCode;
use swarm_shader::image::{GlobalsRegion, MemoryPlacement, REF_NULL, TablePlacement};
use swarm_shader::program::{ConstExpr, FuncKind, GlobalInit, Program, ValType};
use swarm_shader::{CodeImage, InstanceInfo, Store};

use crate::host::{HostCall, HostFunction, HostResult};
use crate::{HostMemory, LoadError, Value};

/// Values and functions a module may import, beyond the built-in `swarm` module.
#[derive(Clone, Debug, Default)]
pub struct Imports {
    globals: HashMap<(String, String), Value>,
    /// Functions answered by the host between dispatches.
    functions: HashMap<(String, String), HostFunction>,
    /// Whether imported functions nobody provides answer with zeros.
    zeros_for_unknown: bool,
}

impl Imports {
    /// No imports beyond the `swarm` module.
    pub fn new() -> Self {
        Self::default()
    }

    /// Provides an imported global's value.
    pub fn global(&mut self, module: &str, name: &str, value: Value) -> &mut Self {
        self.globals
            .insert((module.to_owned(), name.to_owned()), value);
        self
    }

    /// Provides an imported function, answered on the host. An agent that calls it stops at
    /// the call; before the next dispatch, `callback` receives the calls of every agent waiting
    /// on this import at once and returns one answer per call, in order. The agents resume with
    /// the results, or end as an `Err` says ([`HostStop`](crate::HostStop): a trap or an exit).
    pub fn func(
        &mut self,
        module: &str,
        name: &str,
        params: &[ValType],
        results: &[ValType],
        callback: impl Fn(&[HostCall]) -> Vec<HostResult> + Send + Sync + 'static,
    ) -> &mut Self {
        self.func_with_memory(module, name, params, results, move |calls, _| {
            callback(calls)
        })
    }

    /// Provides an imported function, answered on the host as [`func`](Self::func) is, whose
    /// `callback` also reads and writes the callers' linear memories through [`HostMemory`]:
    /// a pointer argument names bytes of the calling agent's memory 0, as it does for a
    /// wasmtime host function given its caller's memory.
    pub fn func_with_memory(
        &mut self,
        module: &str,
        name: &str,
        params: &[ValType],
        results: &[ValType],
        callback: impl Fn(&[HostCall], &mut HostMemory<'_>) -> Vec<HostResult> + Send + Sync + 'static,
    ) -> &mut Self {
        self.functions.insert(
            (module.to_owned(), name.to_owned()),
            HostFunction::new(params, results, callback),
        );
        self
    }

    /// Provides a stream write, WASI's `fd_write(fd, iovs, iovs_len, nwritten) -> errno`,
    /// answered by `callback` as [`func_with_memory`](Self::func_with_memory) answers, except
    /// that the GPU answers a plain write to descriptor 1 or 2 itself while the host lets it:
    /// it gathers the bytes in the agent's output region, within the room
    /// [`HostMemory::set_stream_rooms`] gives, and `callback` takes them with
    /// [`HostMemory::take_streams`] (and the host after the run with
    /// [`Swarm::take_stream_records`](crate::Swarm::take_stream_records)). A module that also imports
    /// `swarm.output`, which writes the same region, gets every call on the host. Each stream
    /// of a new agent has `room` bytes.
    pub(crate) fn stream_write_func(
        &mut self,
        module: &str,
        name: &str,
        room: u32,
        callback: impl Fn(&[HostCall], &mut HostMemory<'_>) -> Vec<HostResult> + Send + Sync + 'static,
    ) -> &mut Self {
        let mut function = HostFunction::new(&[ValType::I32; 4], &[ValType::I32], callback);
        function.stream_room = Some(room);
        self.functions
            .insert((module.to_owned(), name.to_owned()), function);
        self
    }

    /// Makes every imported function that is neither provided nor built in answer each call
    /// with zeros, as wasmtime's `Linker::define_unknown_imports_as_default_values` does
    /// (`swarm run --default-values-unknown-imports`): benchmark harnesses import
    /// `bench.start` and `bench.end`, say. Such calls are answered on the GPU, without a host
    /// call. Functions that return references are still refused: their default is null.
    pub fn default_values_for_unknown(&mut self) -> &mut Self {
        self.zeros_for_unknown = true;
        self
    }

    /// Whether imported function `module.name` of type `results` answers with zeros: nobody
    /// provides it and [`default_values_for_unknown`](Self::default_values_for_unknown) is on.
    pub(crate) fn answers_with_zeros(&self, module: &str, name: &str, results: &[ValType]) -> bool {
        self.zeros_for_unknown
            && module != "swarm"
            && self.function(module, name).is_none()
            && results
                .iter()
                .all(|t| !matches!(t, ValType::FuncRef | ValType::ExternRef))
    }

    /// The host function `module.name`, if one is provided.
    pub(crate) fn function(&self, module: &str, name: &str) -> Option<&HostFunction> {
        self.functions.get(&(module.to_owned(), name.to_owned()))
    }

    fn link_error(module: &str, name: &str, why: &str) -> LoadError {
        LoadError::Link {
            module: module.to_owned(),
            name: name.to_owned(),
            why: why.to_owned(),
        }
    }

    /// Checks that every import of `program` is provided.
    pub(crate) fn check(&self, program: &Program) -> Result<(), LoadError> {
        for func in &program.funcs {
            if let FuncKind::Import { module, name } = &func.kind {
                if module == "swarm" {
                    let ok = matches!(
                        (name.as_str(), &func.ty.params[..], &func.ty.results[..]),
                        ("agent_id" | "agent_count", [], [ValType::I32])
                            | ("output", [ValType::I32, ValType::I32], [])
                    );
                    if !ok {
                        return Err(Self::link_error(
                            module,
                            name,
                            "the built-in module `swarm` provides agent_id() -> i32, \
                             agent_count() -> i32 and output(i32, i32)",
                        ));
                    }
                } else if let Some(host) = self.function(module, name) {
                    if host.params != func.ty.params || host.results != func.ty.results {
                        return Err(Self::link_error(
                            module,
                            name,
                            &format!(
                                "the module imports it as {:?} -> {:?} but the host function \
                                 is {:?} -> {:?}",
                                func.ty.params, func.ty.results, host.params, host.results
                            ),
                        ));
                    }
                } else if self.zeros_for_unknown {
                    // Answered on the GPU (`CodeImage::answer_with_zeros`), unless it returns
                    // a reference.
                    if !self.answers_with_zeros(module, name, &func.ty.results) {
                        return Err(Self::link_error(
                            module,
                            name,
                            "it returns a reference, whose default value (null) swarm cannot \
                             answer with; register it with `Imports::func`",
                        ));
                    }
                } else {
                    return Err(Self::link_error(
                        module,
                        name,
                        "no such function is provided; register it with `Imports::func`, or \
                         answer unknown imports with zeros (`Imports::default_values_for_unknown`, \
                         `swarm run --default-values-unknown-imports`); swarm itself provides \
                         swarm.agent_id, swarm.agent_count and swarm.output",
                    ));
                }
            }
        }
        for global in &program.globals {
            if let GlobalInit::Import { module, name } = &global.init {
                match self.globals.get(&(module.clone(), name.clone())) {
                    Some(value) if value.ty() == global.ty && !global.mutable => {}
                    Some(_) => {
                        return Err(Self::link_error(module, name, "incompatible import type"));
                    }
                    None => return Err(Self::link_error(module, name, "unknown import")),
                }
            }
        }
        // Memories and tables come only from other instances of a store.
        let instance_only = |import: &Option<(String, String)>| match import {
            None => Ok(()),
            Some((module, name)) => Err(Self::link_error(
                module,
                name,
                "the host provides no memories or tables; link the module that exports it \
                 into a `Store` before this one",
            )),
        };
        for memory in &program.memories {
            instance_only(&memory.import)?;
        }
        for table in &program.tables {
            instance_only(&table.import)?;
        }
        Ok(())
    }

    pub(crate) fn global_value(&self, module: &str, name: &str) -> Option<Value> {
        self.globals
            .get(&(module.to_owned(), name.to_owned()))
            .copied()
    }
}

/// The state of one agent's store between calls, instance by instance: what instantiation
/// computes on the host, and what [`Swarm::snapshot`](crate::Swarm::snapshot) reads back from
/// an agent. Loading a [`Store`] with a state makes it every new agent's starting state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreState {
    /// Instances instantiated so far.
    instances: usize,
    /// Every global's bits.
    globals: Vec<u64>,
    data_dropped: Vec<bool>,
    elem_dropped: Vec<bool>,
    /// Every table's elements (its length is its size).
    tables: Vec<Vec<u32>>,
    /// Every memory's size in pages and bytes from address 0 (the rest of its pages are zero).
    memories: Vec<(u32, Vec<u8>)>,
    /// The start function of the last instance instantiated, until an agent runs it.
    start: Option<u32>,
    /// Fuel the instantiations so far consumed, as wasmtime charges it: each instance's
    /// startup function (`swarm_shader::lower`), run at instantiation.
    startup_fuel: u32,
}

impl StoreState {
    /// A store with no instances yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many of the store's instances this state holds.
    pub fn instances(&self) -> usize {
        self.instances
    }

    /// The start function the last instance's instantiation still owes: an agent spawned
    /// from this state runs it first.
    pub fn pending_start(&self) -> Option<u32> {
        self.start
    }

    /// The current size of table `index`.
    pub fn table_size(&self, index: u32) -> Option<u32> {
        self.tables.get(index as usize).map(|t| t.len() as u32)
    }

    /// The current size of memory `index` in pages.
    pub fn memory_pages(&self, index: u32) -> Option<u32> {
        self.memories.get(index as usize).map(|m| m.0)
    }

    /// The bits of global `index` (store index), as [`Value::to_bits`](crate::Value) writes
    /// them.
    pub fn global_bits(&self, index: u32) -> Option<u64> {
        self.globals.get(index as usize).copied()
    }

    /// The elements of table `index`: function indices, `u32::MAX` for null.
    pub fn table(&self, index: u32) -> Option<&[u32]> {
        self.tables.get(index as usize).map(Vec::as_slice)
    }

    /// Memory `index`: its size in pages, and its bytes from address 0 (every byte after them
    /// is zero).
    pub fn memory(&self, index: u32) -> Option<(u32, &[u8])> {
        self.memories
            .get(index as usize)
            .map(|(pages, bytes)| (*pages, bytes.as_slice()))
    }

    /// Instantiates the store's next instance on the host: evaluates its globals, creates its
    /// tables and memory, and runs its active element and data segments, in order. A segment
    /// out of bounds traps; what the segments before it wrote stays written, as the spec says.
    /// The instance's start function is not run here: a spawned agent runs it.
    pub fn instantiate(&mut self, store: &Store, imports: &Imports) -> Result<(), TrapCode> {
        let program = store.program();
        let Some(info) = store.instances().get(self.instances) else {
            return Ok(());
        };
        self.instances += 1;
        self.start = None;
        self.startup_fuel = self.startup_fuel.saturating_add(info.startup_fuel);
        for global in &program.globals[range(&info.globals)] {
            let bits = match &global.init {
                GlobalInit::Import { module, name } => {
                    imports.global_value(module, name).map_or(0, Value::to_bits)
                }
                GlobalInit::Expr(expr) => eval(*expr, &self.globals),
            };
            self.globals.push(bits);
        }
        for table in &program.tables[range(&info.tables)] {
            let init = eval(table.init, &self.globals) as u32;
            self.tables.push(vec![init; table.min as usize]);
        }
        for memory in &program.memories[range(&info.memories)] {
            self.memories.push((memory.min_pages as u32, Vec::new()));
        }
        self.data_dropped.resize(info.data.end as usize, false);
        self.elem_dropped.resize(info.elems.end as usize, false);

        for index in range(&info.elems) {
            let elem = &program.elems[index];
            if elem.declared {
                self.elem_dropped[index] = true;
            }
            let Some((table, offset)) = elem.active else {
                continue;
            };
            let offset = u64::from(eval(offset, &self.globals) as u32);
            let table = &mut self.tables[table as usize];
            if offset + elem.items.len() as u64 > table.len() as u64 {
                return Err(TrapCode::TableOutOfBounds);
            }
            for (i, item) in elem.items.iter().enumerate() {
                table[offset as usize + i] = eval(*item, &self.globals) as u32;
            }
            self.elem_dropped[index] = true;
        }
        for index in range(&info.data) {
            let data = &program.data[index];
            let Some(offset) = data.offset else {
                continue;
            };
            let offset = u64::from(eval(offset, &self.globals) as u32);
            let (pages, bytes) = &mut self.memories[data.memory as usize];
            let size = u64::from(*pages) * swarm_core::WASM_PAGE_BYTES;
            if offset + data.bytes.len() as u64 > size {
                return Err(TrapCode::MemoryOutOfBounds);
            }
            let end = (offset as usize + data.bytes.len()).next_multiple_of(4);
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            bytes[offset as usize..offset as usize + data.bytes.len()].copy_from_slice(&data.bytes);
            self.data_dropped[index] = true;
        }
        self.start = info.start;
        Ok(())
    }

    /// Whether instance `info` has the same state here and in `other`: its globals, tables,
    /// segment flags and memory.
    pub fn instance_eq(&self, other: &StoreState, info: &InstanceInfo) -> bool {
        fn part<'a, T>(v: &'a [T], r: &std::ops::Range<u32>) -> Option<&'a [T]> {
            v.get(range(r))
        }
        part(&self.globals, &info.globals) == part(&other.globals, &info.globals)
            && part(&self.tables, &info.tables) == part(&other.tables, &info.tables)
            && part(&self.data_dropped, &info.data) == part(&other.data_dropped, &info.data)
            && part(&self.elem_dropped, &info.elems) == part(&other.elem_dropped, &info.elems)
            && part(&self.memories, &info.memories) == part(&other.memories, &info.memories)
    }

    /// Reads a state back from an agent's globals and tables regions and its memories' bytes
    /// (memory 0's size comes from the status record, `memory0_pages`).
    pub(crate) fn from_regions(
        program: &Program,
        places: &(Vec<TablePlacement>, Vec<MemoryPlacement>),
        globals_words: &[u32],
        tables_words: &[u32],
        memory0_pages: u32,
        memory: &[u8],
        instances: usize,
    ) -> Self {
        let tables = &places.0;
        let region = GlobalsRegion::of(program);
        // A global of a 32-bit type is its slot's low word: the interpreter's 32-bit pushes
        // leave a stack slot's high word as it was, and `global.set` copies the whole slot.
        let globals = program
            .globals
            .iter()
            .enumerate()
            .map(|(i, global)| {
                let at = region.global_word(i as u32) as usize;
                let low = u64::from(globals_words[at]);
                match global.ty {
                    ValType::I64 | ValType::F64 => low | (u64::from(globals_words[at + 1]) << 32),
                    ValType::I32 | ValType::F32 | ValType::FuncRef | ValType::ExternRef => low,
                }
            })
            .collect();
        let flag = |i: usize| globals_words[region.segment_flag(i as u32) as usize] != 0;
        let data = program.data.len();
        let data_dropped = (0..data).map(flag).collect();
        let elem_dropped = (0..program.elems.len()).map(|i| flag(data + i)).collect();
        let tables = tables
            .iter()
            .enumerate()
            .map(|(t, place)| {
                let size = tables_words[t] as usize;
                tables_words[place.base as usize..place.base as usize + size].to_vec()
            })
            .collect();
        let page = swarm_core::WASM_PAGE_BYTES as usize;
        let sizes = memory_sizes(program, globals_words, memory0_pages);
        let memories = places
            .1
            .iter()
            .zip(sizes)
            .map(|(place, pages)| {
                let start = (place.base_page as usize * page).min(memory.len());
                let end = (start + pages as usize * page).min(memory.len());
                let bytes = &memory[start..end];
                let used = bytes
                    .iter()
                    .rposition(|&b| b != 0)
                    .map_or(0, |last| last + 1);
                (
                    pages,
                    bytes[..used.next_multiple_of(4).min(bytes.len())].to_vec(),
                )
            })
            .collect();
        Self {
            instances,
            globals,
            data_dropped,
            elem_dropped,
            tables,
            memories,
            start: None,
            startup_fuel: 0,
        }
    }

    /// The globals region of this state's store.
    pub(crate) fn globals_region(&self) -> GlobalsRegion {
        GlobalsRegion {
            globals: self.globals.len() as u32,
            segments: (self.data_dropped.len() + self.elem_dropped.len()) as u32,
            memories: self.memories.len() as u32,
        }
    }
}

/// Every memory's size in pages, from an agent's globals region (where memories after the
/// first keep theirs, after the segment flags) and its status record (memory 0's).
pub(crate) fn memory_sizes(
    program: &Program,
    globals_words: &[u32],
    memory0_pages: u32,
) -> impl Iterator<Item = u32> {
    let region = GlobalsRegion::of(program);
    (0..region.memories).map(move |m| {
        if m == 0 {
            memory0_pages
        } else {
            globals_words[region.memory_size_word(m) as usize]
        }
    })
}

fn range(r: &std::ops::Range<u32>) -> std::ops::Range<usize> {
    r.start as usize..r.end as usize
}

/// The state every agent of a module starts from, laid out in its regions' words.
#[derive(Clone, Debug)]
pub(crate) struct Template {
    /// Words of the globals region: globals, segment drop flags, memory sizes.
    pub globals: Vec<u32>,
    /// Words of the tables region: sizes, then elements.
    pub tables: Vec<u32>,
    /// Initial bytes of the memory region, every memory at its place (trailing zeros trimmed
    /// to a word).
    pub memory: Vec<u8>,
    /// Initial size of memory 0 in pages.
    pub memory_pages: u32,
    /// Set when instantiation itself traps (an active segment out of bounds).
    pub trap: Option<TrapCode>,
    /// Fuel the instantiation consumes, as wasmtime charges it.
    pub startup_fuel: u32,
}

impl Template {
    /// Lays `state` out in the regions `image` places.
    pub(crate) fn new(state: &StoreState, image: &CodeImage, trap: Option<TrapCode>) -> Self {
        let region = state.globals_region();
        let mut globals = vec![0_u32; region.words() as usize];
        for (i, &bits) in state.globals.iter().enumerate() {
            let at = region.global_word(i as u32) as usize;
            globals[at..at + 2].copy_from_slice(&[bits as u32, (bits >> 32) as u32]);
        }
        for (i, &dropped) in state
            .data_dropped
            .iter()
            .chain(&state.elem_dropped)
            .enumerate()
        {
            globals[region.segment_flag(i as u32) as usize] = u32::from(dropped);
        }
        for (m, memory) in state.memories.iter().enumerate() {
            globals[region.memory_size_word(m as u32) as usize] = memory.0;
        }
        let mut memory = Vec::new();
        for ((_, bytes), place) in state.memories.iter().zip(&image.memories) {
            if bytes.is_empty() {
                continue;
            }
            let start = place.base_page as usize * swarm_core::WASM_PAGE_BYTES as usize;
            memory.resize(memory.len().max(start + bytes.len()), 0);
            memory[start..start + bytes.len()].copy_from_slice(bytes);
        }
        // Up to the last element in use: a free slot is zeros, and `table.grow` writes the
        // elements it adds.
        let tables_words = state
            .tables
            .iter()
            .zip(&image.tables)
            .map(|(table, place)| place.base as usize + table.len())
            .max()
            .unwrap_or(0)
            .max(state.tables.len());
        let mut tables = vec![REF_NULL; tables_words];
        for (index, (table, place)) in state.tables.iter().zip(&image.tables).enumerate() {
            tables[index] = table.len() as u32;
            let base = place.base as usize;
            tables[base..base + table.len()].copy_from_slice(table);
        }
        Self {
            globals,
            tables,
            memory,
            memory_pages: state.memories.first().map_or(0, |m| m.0),
            trap,
            startup_fuel: state.startup_fuel,
        }
    }
}

fn eval(expr: ConstExpr, globals: &[u64]) -> u64 {
    match expr {
        ConstExpr::Bits(bits) => bits,
        ConstExpr::Global(index) => globals.get(index as usize).copied().unwrap_or(0),
        ConstExpr::Func(index) => u64::from(index),
        ConstExpr::Null => u64::from(REF_NULL),
    }
}

/// Whether values match parameter types.
pub(crate) fn matches(types: &[ValType], values: &[Value]) -> bool {
    types.len() == values.len() && types.iter().zip(values).all(|(t, v)| *t == v.ty())
}
