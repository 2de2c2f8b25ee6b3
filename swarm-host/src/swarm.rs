//! `Swarm`: one module, a pool of agents, and dispatches that run them all on the GPU.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use swarm_core::{
    AgentId, AgentState, AgentStatus, BufferKind, ChunkLayout, DispatchGrid, DispatchParams,
    GpuStruct, Layout, RegionKind, SlotPool, SpawnHeader, SpawnRecord, SwarmConfig, TrapCode,
};
use swarm_gpu::{
    AdapterReport, AdapterRequest, BindingKind, Dispatch, GpuBuffer, GpuContext, Kernel,
    KernelBindings, ReadRequest,
};
use swarm_shader::image::{MemoryPlacement, TablePlacement};
use swarm_shader::isa::OpGroups;
use swarm_shader::program::{FuncKind, Program, ValType};
use swarm_shader::{
    CodeImage, RUN_ENTRY, SPAWN_ENTRY, SPAWN_MEMORY_ENTRY, SPAWN_PIECE_WORDS, Store,
    interpreter_wgsl, validate_wgsl,
};

use crate::host::{HostCall, HostFunction, HostResult};
use crate::instance::{Imports, StoreState, Template, matches, memory_sizes};
use crate::stack::StackWindow;
use crate::{AccessError, CreateError, DispatchError, LoadError, SpawnError, Value};

mod memory;

/// What became of an agent's current call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returned these values.
    Finished(Vec<Value>),
    /// It trapped.
    Trapped(TrapCode),
    /// It ran out of this dispatch's fuel slice and resumes in the next dispatch.
    Suspended,
    /// It is waiting at a call to an imported function.
    HostCall,
}

/// One agent's part of a dispatch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentReport {
    /// The agent.
    pub id: AgentId,
    /// What became of its call.
    pub outcome: Outcome,
    /// WebAssembly instructions its current call has executed: those wasmtime's fuel model
    /// charges (every instruction but `nop`, `drop`, `block`, `loop`, `else`, `end`,
    /// `return` and `unreachable`).
    pub instructions: u64,
    /// Fuel its current call has consumed, as wasmtime counts it: the instructions, plus one per
    /// function entered, per byte or table element a bulk instruction moved, and per page or
    /// element grown. `SwarmConfig::fuel_total` limits this.
    pub fuel: u64,
    /// Bytes it wrote with `swarm.output` over its life.
    pub output_len: u32,
}

/// What a dispatch did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DispatchReport {
    /// Every agent that took part, in slot order.
    pub agents: Vec<AgentReport>,
    /// GPU time of the dispatches, when the adapter has timestamps.
    pub gpu_time: Option<Duration>,
    /// Time spent answering host calls before the dispatches.
    pub host_time: Duration,
    /// Wall time of the whole operation: host calls, submissions, readback and harvest.
    pub wall_time: Duration,
}

struct Chunk {
    layout: ChunkLayout,
    /// Parameters of the run dispatch.
    params: GpuBuffer,
    /// Parameters of the spawn dispatch, which may share a submission with the run.
    spawn_params: GpuBuffer,
    memory: GpuBuffer,
    state: GpuBuffer,
    status: GpuBuffer,
    output: GpuBuffer,
    /// Bind groups for the run and spawn dispatches, once a module is loaded.
    bindings: Option<(KernelBindings, KernelBindings)>,
}

struct Module {
    program: Program,
    /// Instances of the store it was loaded from.
    instances: usize,
    /// The start function a spawned agent runs first: the last instance's, if this load
    /// instantiated it.
    start: Option<u32>,
    /// Where each table and memory lies in an agent's regions.
    places: (Vec<TablePlacement>, Vec<MemoryPlacement>),
    /// The code image, then the template's memory, globals and tables words.
    code: GpuBuffer,
    template: Template,
    /// Where the template lies in `code`.
    header: SpawnHeader,
    /// Host functions by function index.
    host: HashMap<u32, (String, HostFunction)>,
    /// The instruction groups of its interpreter: its key in `Swarm::kernels`.
    op_groups: OpGroups,
}

/// Host-side bookkeeping per slot.
#[derive(Clone, Debug, Default)]
struct Slot {
    /// Function of the current call (for result types).
    func: u32,
    /// The call to make once the start function has finished.
    pending: Option<(u32, Vec<Value>)>,
    /// Lifetime fuel when the current call began.
    fuel_base: u64,
    /// Lifetime fuel beyond instructions when the current call began.
    extra_base: u64,
    /// The last status read back.
    status: AgentStatus,
    /// Result bits of the last finished call.
    results: Vec<u64>,
    /// Words of the slot's memory region that may not be zero: the most any tenant's
    /// [`AgentStatus::memory_touched`] or host write reached since the slot was last wiped. It
    /// outlives a kill, and the next spawn into the slot zeroes them.
    touched: u32,
}

impl Slot {
    /// Makes this slot `fresh`, keeping the allocation of its results so that a swarm reused
    /// for run after run does not allocate per agent.
    fn reset(&mut self, fresh: Slot) {
        let mut results = std::mem::take(&mut self.results);
        results.clear();
        *self = Slot { results, ..fresh };
    }
}

/// A spawn dispatch recorded but not yet submitted: it runs first in the next submission.
struct PendingSpawn {
    chunk: usize,
    count: u32,
    list_offset: u32,
    /// `spawn_memory` invocations per agent (0: no memory to write).
    pieces: u32,
}

/// A swarm: one loaded module and up to `max_agents` agents running it on one GPU.
pub struct Swarm {
    gpu: GpuContext,
    config: SwarmConfig,
    layout: Layout,
    pool: SlotPool,
    /// Interpreter pipelines by instruction groups, built the first time a loaded module needs
    /// them.
    kernels: HashMap<OpGroups, Kernels>,
    /// The work list: spawn records and dispatch selections (see `SpawnRecord`).
    list: GpuBuffer,
    /// Words of `list` holding data for the next submission.
    list_used: u64,
    pending_spawns: Vec<PendingSpawn>,
    chunks: Vec<Chunk>,
    module: Option<Module>,
    slots: Vec<Slot>,
}

impl std::fmt::Debug for Swarm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Swarm")
            .field("adapter", &self.gpu.report().name)
            .field("config", &self.config)
            .field("agents", &self.pool.len())
            .finish_non_exhaustive()
    }
}

/// The entry points of one generated interpreter.
struct Kernels {
    /// Runs agents.
    run: Kernel,
    /// Starts agents from the spawn records of the work list.
    spawn: Kernel,
    /// Writes the memories of the agents of the spawn records, before `spawn`.
    spawn_memory: Kernel,
}

impl Kernels {
    /// Generates the interpreter for `groups`, validates it with naga and builds its
    /// pipelines.
    fn build(gpu: &GpuContext, layout: &Layout, groups: OpGroups) -> Result<Self, LoadError> {
        let wgsl = validate_wgsl(
            &format!("swarm interpreter ({})", groups.name()),
            interpreter_wgsl(layout, groups),
            gpu.capabilities(),
        )?;
        let mut kernels = gpu.create_kernels(
            &wgsl,
            &[RUN_ENTRY, SPAWN_ENTRY, SPAWN_MEMORY_ENTRY],
            &[
                BindingKind::Uniform,
                BindingKind::StorageRead,
                BindingKind::StorageReadWrite,
                BindingKind::StorageReadWrite,
                BindingKind::StorageReadWrite,
                BindingKind::StorageReadWrite,
                BindingKind::StorageRead,
            ],
        )?;
        let spawn_memory = kernels.pop().expect("three kernels");
        let spawn = kernels.pop().expect("three kernels");
        let run = kernels.pop().expect("three kernels");
        Ok(Self {
            run,
            spawn,
            spawn_memory,
        })
    }
}

/// Words of the work list a new swarm starts with; it grows on demand.
const INITIAL_LIST_WORDS: u64 = 1 << 12;

/// Iterations of a driver's shader loop limit left unused by the dispatch loop, for the loops
/// of the entry point around it.
const LOOP_LIMIT_MARGIN: u32 = 64;

impl Swarm {
    /// A swarm on the adapter `WGPU_BACKEND` / `WGPU_ADAPTER_NAME` select (by default the
    /// high-performance one).
    pub fn new(config: SwarmConfig) -> Result<Self, CreateError> {
        Self::with_adapter(config, &AdapterRequest::from_env())
    }

    /// A swarm on the adapter `request` names.
    pub fn with_adapter(
        config: SwarmConfig,
        request: &AdapterRequest,
    ) -> Result<Self, CreateError> {
        config.validate()?;
        let gpu = GpuContext::new(request)?;
        if !gpu.capabilities().int64 {
            return Err(CreateError::NoInt64 {
                adapter: gpu.report().name.clone(),
            });
        }
        let layout = Layout::new(&config, &gpu.limits())?;
        let list = gpu.create_storage_buffer("swarm work list", INITIAL_LIST_WORDS * 4)?;
        Ok(Self {
            gpu,
            pool: SlotPool::new(config.max_agents),
            config,
            layout,
            kernels: HashMap::new(),
            list,
            list_used: 0,
            pending_spawns: Vec::new(),
            chunks: Vec::new(),
            module: None,
            slots: Vec::new(),
        })
    }

    /// The adapter and what swarm requested of it.
    pub fn adapter(&self) -> &AdapterReport {
        self.gpu.report()
    }

    /// The configuration.
    pub fn config(&self) -> &SwarmConfig {
        &self.config
    }

    /// Live agents.
    pub fn agent_count(&self) -> u32 {
        self.pool.len()
    }

    /// The ids of the live agents, in slot order.
    pub fn live_agents(&self) -> impl Iterator<Item = AgentId> + '_ {
        self.pool.live()
    }

    /// Loads a module that every agent will run, with `imports`: binary `.wasm`, or WAT text
    /// with the `wat` feature.
    pub fn load_module(&mut self, wasm: &[u8], imports: &Imports) -> Result<(), LoadError> {
        if !self.pool.is_empty() {
            return Err(LoadError::AgentsAlive(self.pool.len()));
        }
        let wasm = crate::text::to_binary(wasm)?;
        let mut store = Store::new();
        store.add(&wasm, Vec::new())?;
        self.load_store(&store, &StoreState::new(), imports)
    }

    /// Loads a store of linked modules: every agent holds one instance of each. New agents
    /// start from `state` with the instances it does not hold yet instantiated on top of it,
    /// in order; their exported functions are the last instance's, and
    /// [`spawn_instance`](Self::spawn_instance) runs its start function. Other instances'
    /// functions are called by store index ([`call_func`](Self::call_func)).
    pub fn load_store(
        &mut self,
        store: &Store,
        state: &StoreState,
        imports: &Imports,
    ) -> Result<(), LoadError> {
        if !self.pool.is_empty() {
            return Err(LoadError::AgentsAlive(self.pool.len()));
        }
        let mut state = state.clone();
        let mut trap = None;
        while state.instances() < store.instances().len() {
            // Start functions run in spawned agents, so only the last instance instantiated
            // may owe one.
            if state.pending_start().is_some() {
                return Err(LoadError::StartFunction(state.instances() - 1));
            }
            if let Err(code) = state.instantiate(store, imports) {
                trap = Some(code);
                break;
            }
        }
        // Tables and memory are placed for the sizes they have grown to, not only their
        // declared minimums.
        let mut program = store.program().clone();
        for (index, table) in program.tables.iter_mut().enumerate() {
            let size = state.table_size(index as u32).unwrap_or(0);
            table.min = table.min.max(u64::from(size));
        }
        for (index, memory) in program.memories.iter_mut().enumerate() {
            let pages = state.memory_pages(index as u32).unwrap_or(0);
            memory.min_pages = memory.min_pages.max(u64::from(pages));
        }
        imports.check(&program)?;
        let image = CodeImage::build(&program, &self.config)?;
        let op_groups = if self.config.specialize {
            program.op_groups
        } else {
            OpGroups::ALL
        };
        if !self.kernels.contains_key(&op_groups) {
            let kernels = Kernels::build(&self.gpu, &self.layout, op_groups)?;
            self.kernels.insert(op_groups, kernels);
        }
        let template = Template::new(&state, &image, trap);
        let host = program
            .funcs
            .iter()
            .enumerate()
            .filter_map(|(index, func)| match &func.kind {
                FuncKind::Import { module, name } => imports
                    .function(module, name)
                    .map(|f| (index as u32, (format!("{module}.{name}"), f.clone()))),
                FuncKind::Defined { .. } => None,
            })
            .collect();

        // The template follows the code image, so spawning copies it on the GPU.
        let mut words = image.words.clone();
        let mut place = |data: &[u32]| {
            let offset = words.len() as u32;
            words.extend_from_slice(data);
            (offset, data.len() as u32)
        };
        let memory_words: Vec<u32> = bytemuck::pod_collect_to_vec(&template.memory);
        let (memory_offset, memory_words) = place(&memory_words);
        let (globals_offset, globals_words) = place(&template.globals);
        let (tables_offset, tables_words) = place(&template.tables);
        let header = SpawnHeader {
            memory_offset,
            memory_words,
            globals_offset,
            globals_words,
            tables_offset,
            tables_words,
            memory_pages: template.memory_pages,
            args_offset: 0,
            trap: template.trap.map_or(0, TrapCode::code),
            fuel: template.startup_fuel,
        };
        let code = self
            .gpu
            .create_storage_buffer("swarm code", words.len() as u64 * 4)?;
        self.gpu
            .write_buffer(&code, 0, bytemuck::cast_slice(&words))?;
        for chunk in &mut self.chunks {
            chunk.bindings = None;
        }
        let start = state.pending_start();
        self.module = Some(Module {
            program,
            instances: state.instances(),
            start,
            places: (image.tables.clone(), image.memories.clone()),
            code,
            template,
            header,
            host,
            op_groups,
        });
        for index in 0..self.chunks.len() {
            self.bind_chunk(index)?;
        }
        Ok(())
    }

    /// The slots of `ids`, ascending, each once; an error for the first stale id.
    fn sorted_slots(&self, ids: &[AgentId]) -> Result<Vec<u32>, swarm_core::PoolError> {
        let mut slots = ids
            .iter()
            .map(|id| self.pool.slot(*id))
            .collect::<Result<Vec<u32>, _>>()?;
        slots.sort_unstable();
        slots.dedup();
        Ok(slots)
    }

    /// The loaded module's interpreter. Kernels run only once a module is loaded (spawns and
    /// dispatches need its bindings).
    fn kernels(&self) -> &Kernels {
        let module = self
            .module
            .as_ref()
            .expect("kernels run with a module loaded");
        &self.kernels[&module.op_groups]
    }

    /// The instruction groups the loaded module's interpreter was generated with
    /// ([`OpGroups::ALL`] when the config does not specialize); `None` before a module is
    /// loaded.
    pub fn interpreter_groups(&self) -> Option<OpGroups> {
        self.module.as_ref().map(|m| m.op_groups)
    }

    fn bind_chunk(&mut self, index: usize) -> Result<(), swarm_gpu::GpuError> {
        let Some(module) = &self.module else {
            return Ok(());
        };
        let chunk = &self.chunks[index];
        let bind = |params: &GpuBuffer| {
            self.gpu.bind(
                &self.kernels().run,
                &[
                    params,
                    &module.code,
                    &chunk.memory,
                    &chunk.state,
                    &chunk.status,
                    &chunk.output,
                    &self.list,
                ],
            )
        };
        let bindings = (bind(&chunk.params)?, bind(&chunk.spawn_params)?);
        self.chunks[index].bindings = Some(bindings);
        Ok(())
    }

    fn ensure_chunk(&mut self, slot: u32) -> Result<(), swarm_gpu::GpuError> {
        let wanted = self.layout.locate(slot).chunk;
        while self.chunks.len() as u32 <= wanted {
            let layout = self.layout.chunk(self.chunks.len() as u32);
            let buffer = |kind: BufferKind| {
                self.gpu.create_storage_buffer(
                    &format!("swarm {} {}", kind.name(), layout.index),
                    self.layout.buffer_size(layout, kind),
                )
            };
            let params = || {
                self.gpu
                    .create_uniform_buffer("swarm params", DispatchParams::SIZE as u64)
            };
            let chunk = Chunk {
                layout,
                params: params()?,
                spawn_params: params()?,
                memory: buffer(BufferKind::Memory)?,
                state: buffer(BufferKind::State)?,
                status: buffer(BufferKind::Status)?,
                output: buffer(BufferKind::Output)?,
                bindings: None,
            };
            self.chunks.push(chunk);
            self.bind_chunk(self.chunks.len() - 1)?;
        }
        Ok(())
    }

    /// Reserves `words` words of the work list for the next submission and returns their
    /// offset. Growing the list submits what is pending first, then rebinds every chunk.
    fn reserve_list(&mut self, words: u64) -> Result<u32, swarm_gpu::GpuError> {
        if (self.list_used + words) * 4 > self.list.size() {
            self.flush()?;
            let needed = (words * 4).max(self.list.size() * 2);
            self.list = self.gpu.create_storage_buffer("swarm work list", needed)?;
            for index in 0..self.chunks.len() {
                self.bind_chunk(index)?;
            }
        }
        let offset = self.list_used;
        self.list_used += words;
        Ok(offset as u32)
    }

    /// Iterations of the dispatch loop after which an agent stops for this dispatch, where the
    /// driver limits shader loops (llvmpipe: 65,535 iterations of all loops of a SIMD group of
    /// invocations). The dispatch loop is the only loop an agent runs and its agents run it in
    /// step, so the group's count is the largest agent's: stopping a little short of the
    /// limit is a planned suspension. Should the limiter cut the loop anyway, the agent stops
    /// between two steps, which is as exact (see the interpreter's `jobs.wgsl`).
    fn work_limit(&self) -> u32 {
        self.gpu
            .limits()
            .shader_loop_iterations
            .map_or(u32::MAX, |limit| limit.saturating_sub(LOOP_LIMIT_MARGIN))
    }

    fn grid(&self, agents: u32) -> DispatchGrid {
        DispatchGrid::for_agents(
            agents,
            self.layout.workgroup_size(),
            self.gpu.limits().max_compute_workgroups_per_dimension,
        )
        .expect("a chunk's agents fit a two-dimensional grid")
    }

    /// The spawn dispatches recorded since the last submission: per chunk, the memory pieces,
    /// then the spawns.
    fn spawn_dispatches(&self) -> Vec<Dispatch<'_>> {
        let mut dispatches = Vec::new();
        for spawn in &self.pending_spawns {
            let Some((_, bindings)) = self.chunks[spawn.chunk].bindings.as_ref() else {
                continue;
            };
            if spawn.pieces > 0 {
                dispatches.push(Dispatch {
                    kernel: &self.kernels().spawn_memory,
                    bindings,
                    grid: self.grid(spawn.count * spawn.pieces),
                });
            }
            dispatches.push(Dispatch {
                kernel: &self.kernels().spawn,
                bindings,
                grid: self.grid(spawn.count),
            });
        }
        dispatches
    }

    /// Submits pending spawns, so that later queued writes and reads see the new agents.
    fn flush(&mut self) -> Result<(), swarm_gpu::GpuError> {
        if !self.pending_spawns.is_empty() {
            self.gpu.submit(&self.spawn_dispatches())?;
            self.pending_spawns.clear();
        }
        self.list_used = 0;
        Ok(())
    }

    /// Waits until every spawn and write so far has reached the GPU.
    pub fn sync(&mut self) -> Result<(), DispatchError> {
        self.flush()?;
        self.gpu.read_buffers(&[])?;
        Ok(())
    }

    fn buffer(&self, slot: u32, kind: RegionKind) -> (&GpuBuffer, std::ops::Range<u64>) {
        let (location, range) = self.layout.slot_range(slot, kind);
        let chunk = &self.chunks[location.chunk as usize];
        let buffer = match kind.buffer() {
            BufferKind::Memory => &chunk.memory,
            BufferKind::State => &chunk.state,
            BufferKind::Status => &chunk.status,
            BufferKind::Output => &chunk.output,
        };
        (buffer, range)
    }

    fn write(
        &self,
        slot: u32,
        kind: RegionKind,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), swarm_gpu::GpuError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let (buffer, range) = self.buffer(slot, kind);
        self.gpu.write_buffer(buffer, range.start + offset, bytes)
    }

    fn module(&self) -> Result<&Module, SpawnError> {
        self.module.as_ref().ok_or(SpawnError::NoModule)
    }

    fn resolve_call(&self, export: &str, args: &[Value]) -> Result<u32, SpawnError> {
        let module = self.module()?;
        let func = module
            .program
            .exported_func(export)
            .ok_or_else(|| SpawnError::UnknownExport(export.to_owned()))?;
        let ty = &module.program.funcs[func as usize].ty;
        if !matches(&ty.params, args) {
            return Err(SpawnError::Arguments {
                export: export.to_owned(),
                expected: format!("{:?}", ty.params),
                given: args.to_vec(),
            });
        }
        Ok(func)
    }

    /// The parameter types of the exported function `export`.
    pub fn export_params(&self, export: &str) -> Option<&[ValType]> {
        let module = self.module.as_ref()?;
        let func = module.program.exported_func(export)?;
        Some(&module.program.funcs[func as usize].ty.params)
    }

    /// The result types of the exported function `export`.
    pub fn export_results(&self, export: &str) -> Option<&[ValType]> {
        let module = self.module.as_ref()?;
        let func = module.program.exported_func(export)?;
        Some(&module.program.funcs[func as usize].ty.results)
    }

    /// Spawns an agent that will call `export` with `args` in the next dispatch.
    pub fn spawn(&mut self, export: &str, args: &[Value]) -> Result<AgentId, SpawnError> {
        let ids = self.spawn_many(export, [args])?;
        Ok(ids[0])
    }

    /// Spawns one agent per item of `args`, each calling `export` with its arguments, with one
    /// upload of their records; the GPU copies the module's starting state into each slot.
    /// Either every agent is spawned or none is.
    pub fn spawn_many<I>(&mut self, export: &str, args: I) -> Result<Vec<AgentId>, SpawnError>
    where
        I: IntoIterator,
        I::Item: AsRef<[Value]>,
    {
        let module = self.module()?;
        let func = module
            .program
            .exported_func(export)
            .ok_or_else(|| SpawnError::UnknownExport(export.to_owned()))?;
        let params = module.program.funcs[func as usize].ty.params.clone();
        let start = module.start;
        let mut bits: Vec<u64> = Vec::new();
        let mut count = 0_usize;
        for call in args {
            let call = call.as_ref();
            if !matches(&params, call) {
                return Err(SpawnError::Arguments {
                    export: export.to_owned(),
                    expected: format!("{params:?}"),
                    given: call.to_vec(),
                });
            }
            bits.extend(call.iter().map(|v| v.to_bits()));
            count += 1;
        }
        let argc = params.len();
        let calls = (0..count).map(|i| &bits[i * argc..(i + 1) * argc]);
        let instantiates = module.template.trap.is_none();
        match start {
            // The start function runs first; the call follows once it has finished.
            Some(start) if instantiates => {
                let ids = self.launch(count, start, calls.clone().map(|_| &[][..]))?;
                for (id, call) in ids.iter().zip(calls) {
                    let slot = &mut self.slots[id.slot() as usize];
                    slot.pending = Some((
                        func,
                        call.iter()
                            .zip(&params)
                            .map(|(b, t)| Value::from_bits(*t, *b))
                            .collect(),
                    ));
                }
                Ok(ids)
            }
            // Without a start function, or when instantiation traps (the agents start trapped).
            _ => self.launch(count, func, calls),
        }
    }

    /// Spawns an agent that only instantiates the module: it runs the start function, if there
    /// is one, in the next dispatch, then waits (finished) for a [`call`](Self::call).
    pub fn spawn_instance(&mut self) -> Result<AgentId, SpawnError> {
        let entry = self.module()?.start.unwrap_or(SpawnRecord::NO_ENTRY);
        let ids = self.launch(1, entry, std::iter::once(&[][..]))?;
        Ok(ids[0])
    }

    /// Spawns an agent whose memory holds `memory` at `offset` before its call starts.
    pub fn spawn_with_memory(
        &mut self,
        export: &str,
        args: &[Value],
        offset: u64,
        memory: &[u8],
    ) -> Result<AgentId, SpawnError> {
        self.resolve_call(export, args)?;
        let size = u64::from(self.module()?.template.memory_pages) * swarm_core::WASM_PAGE_BYTES;
        if offset + memory.len() as u64 > size {
            return Err(SpawnError::MemoryOutOfRange {
                offset,
                len: memory.len() as u64,
                size,
            });
        }
        let id = self.spawn(export, args)?;
        self.flush()?;
        self.write_memory_region(id.slot(), offset, memory)?;
        Ok(id)
    }

    /// Takes `count` slots and records the spawn dispatches that start each with a call of
    /// `entry` (or none, for `NO_ENTRY`) and the argument bits `calls` yields.
    fn launch<'a>(
        &mut self,
        count: usize,
        entry: u32,
        calls: impl Iterator<Item = &'a [u64]> + Clone,
    ) -> Result<Vec<AgentId>, SpawnError> {
        let mut ids = if count == 1 {
            // One agent into a full pool is "full", not "not enough slots".
            vec![self.pool.spawn()?]
        } else {
            self.pool.spawn_many(count as u64)?
        };
        ids.sort_by_key(|id| id.slot());
        let result = self.record_spawns(&ids, entry, calls);
        if let Err(err) = result {
            for id in &ids {
                let _ = self.pool.kill(*id);
            }
            return Err(err.into());
        }
        Ok(ids)
    }

    fn record_spawns<'a>(
        &mut self,
        ids: &[AgentId],
        entry: u32,
        calls: impl Iterator<Item = &'a [u64]> + Clone,
    ) -> Result<(), swarm_gpu::GpuError> {
        let Some(last) = ids.last() else {
            return Ok(());
        };
        self.ensure_chunk(last.slot())?;
        // A chunk's spawn parameters describe one dispatch per submission: submit an earlier
        // spawn into the same chunks first.
        let chunks =
            self.layout.locate(ids[0].slot()).chunk..=self.layout.locate(last.slot()).chunk;
        if self
            .pending_spawns
            .iter()
            .any(|p| chunks.contains(&(p.chunk as u32)))
        {
            self.flush()?;
        }
        let arg_words: usize = calls.clone().map(|c| 2 * c.len()).sum();
        let header_words = SpawnHeader::SIZE / 4;
        let record_words = SpawnRecord::SIZE / 4;
        let total = header_words + ids.len() * record_words + arg_words;
        let base = self.reserve_list(total as u64)?;
        let module = self.module.as_ref().expect("checked by the caller");
        let mut header = SpawnHeader {
            args_offset: base + (header_words + ids.len() * record_words) as u32,
            ..module.header
        };
        // Where a driver limits shader loops, large starting globals and tables are written
        // from the host instead of copied by the spawn kernel's loops. Memory is written in
        // pieces by `spawn_memory`, whatever its size.
        let copy_words = header.globals_words + header.tables_words;
        let from_host = self.work_limit() != u32::MAX && copy_words > self.work_limit() / 2;
        if from_host {
            header.globals_words = 0;
            header.tables_words = 0;
            let template = &module.template;
            for id in ids {
                self.write(
                    id.slot(),
                    RegionKind::Globals,
                    0,
                    bytemuck::cast_slice(&template.globals),
                )?;
                self.write(
                    id.slot(),
                    RegionKind::Tables,
                    0,
                    bytemuck::cast_slice(&template.tables),
                )?;
            }
        }
        let memory_pages = header.memory_pages;
        let memory_words = header.memory_words;

        let mut words: Vec<u32> = Vec::with_capacity(total);
        words.extend_from_slice(bytemuck::cast_slice(bytemuck::bytes_of(&header)));
        let mut args: Vec<u32> = Vec::with_capacity(arg_words);
        let mut spawns: Vec<PendingSpawn> = Vec::new();
        for (id, call) in ids.iter().zip(calls) {
            let location = self.layout.locate(id.slot());
            let offset = base + words.len() as u32;
            let slot = id.slot() as usize;
            if self.slots.len() <= slot {
                self.slots.resize(slot + 1, Slot::default());
            }
            // The words of the slot the previous tenant left, beyond the starting memory.
            let wipe = self.slots[slot].touched;
            let pieces = memory_words.max(wipe).div_ceil(SPAWN_PIECE_WORDS);
            match spawns.last_mut() {
                Some(spawn) if spawn.chunk == location.chunk as usize => {
                    spawn.count += 1;
                    spawn.pieces = spawn.pieces.max(pieces);
                }
                _ => spawns.push(PendingSpawn {
                    chunk: location.chunk as usize,
                    count: 1,
                    list_offset: offset,
                    pieces,
                }),
            }
            let record = SpawnRecord {
                local: location.local,
                entry,
                argc: call.len() as u32,
                args: header.args_offset + args.len() as u32,
                wipe,
            };
            words.extend_from_slice(bytemuck::cast_slice(bytemuck::bytes_of(&record)));
            args.extend(call.iter().flat_map(|b| [*b as u32, (*b >> 32) as u32]));
            // The host's copy of what the spawn kernel writes.
            let started = AgentStatus {
                memory_pages,
                memory_touched: memory_words,
                fuel_used_lo: header.fuel,
                fuel_extra_lo: header.fuel,
                ..Default::default()
            };
            let status = if header.trap != 0 {
                AgentStatus {
                    state: AgentState::Trapped as u32,
                    trap: header.trap,
                    ..started
                }
            } else if entry == SpawnRecord::NO_ENTRY {
                AgentStatus {
                    state: AgentState::Finished as u32,
                    ..started
                }
            } else {
                AgentStatus {
                    state: AgentState::Ready as u32,
                    entry,
                    sp: call.len() as u32,
                    ..started
                }
            };
            // A call's fuel does not count the instantiation's.
            self.slots[slot].reset(Slot {
                func: entry,
                fuel_base: u64::from(header.fuel),
                extra_base: u64::from(header.fuel),
                status,
                touched: memory_words,
                ..Slot::default()
            });
        }
        words.extend_from_slice(&args);
        self.gpu.write_buffer(
            &self.list,
            u64::from(base) * 4,
            bytemuck::cast_slice(&words),
        )?;
        for spawn in spawns {
            let grid = self.grid(spawn.count);
            let params = DispatchParams {
                agent_count: spawn.count,
                groups_x: grid.x,
                first_slot: self.chunks[spawn.chunk].layout.first_slot,
                list_offset: spawn.list_offset,
                spawn_pieces: spawn.pieces,
                ..Default::default()
            };
            self.gpu.write_buffer(
                &self.chunks[spawn.chunk].spawn_params,
                0,
                bytemuck::bytes_of(&params),
            )?;
            self.pending_spawns.push(spawn);
        }
        Ok(())
    }

    /// Writes the status record and arguments that make the agent call `func` next dispatch.
    fn begin_call(
        &mut self,
        slot: u32,
        func: u32,
        args: &[Value],
        previous: AgentStatus,
    ) -> Result<(), swarm_gpu::GpuError> {
        let status = AgentStatus {
            state: AgentState::Ready as u32,
            entry: func,
            sp: args.len() as u32,
            memory_pages: previous.memory_pages,
            fuel_used_lo: previous.fuel_used_lo,
            fuel_used_hi: previous.fuel_used_hi,
            fuel_extra_lo: previous.fuel_extra_lo,
            fuel_extra_hi: previous.fuel_extra_hi,
            output_len: previous.output_len,
            memory_touched: previous.memory_touched,
            ..Default::default()
        };
        // The arguments: stack slots 0.., a word at a time in the interleaved stacks.
        let location = self.layout.locate(slot);
        let state = &self.chunks[location.chunk as usize].state;
        for (i, value) in args.iter().enumerate() {
            let bits = value.to_bits();
            for (half, word) in [
                (bits as u32, 2 * i as u32),
                ((bits >> 32) as u32, 2 * i as u32 + 1),
            ] {
                self.gpu.write_buffer(
                    state,
                    self.layout.stack_word(location.local, word),
                    &half.to_le_bytes(),
                )?;
            }
        }
        self.write(slot, RegionKind::Status, 0, bytemuck::bytes_of(&status))?;
        let entry = &mut self.slots[slot as usize];
        entry.func = func;
        entry.fuel_base = fuel_used(&status);
        entry.extra_base = fuel_extra(&status);
        entry.status = status;
        Ok(())
    }

    /// Gives a finished or trapped agent a new call; its memory, globals and tables persist.
    pub fn call(&mut self, id: AgentId, export: &str, args: &[Value]) -> Result<(), SpawnError> {
        self.pool.slot(id)?;
        let func = self.resolve_call(export, args)?;
        self.call_func(id, func, args)
    }

    /// Like [`call`](Self::call), for the function at store index `func`: in a
    /// [`Store`], the functions of every instance.
    pub fn call_func(&mut self, id: AgentId, func: u32, args: &[Value]) -> Result<(), SpawnError> {
        let slot = self.pool.slot(id)?;
        let module = self.module()?;
        if let Some(trap) = module.template.trap {
            // The agent trapped at instantiation: it has no instance to call.
            return Err(SpawnError::Instantiation(trap));
        }
        let Some(info) = module.program.funcs.get(func as usize) else {
            return Err(SpawnError::UnknownFunction(func));
        };
        if !matches(&info.ty.params, args) {
            return Err(SpawnError::Arguments {
                export: format!("function {func}"),
                expected: format!("{:?}", info.ty.params),
                given: args.to_vec(),
            });
        }
        let previous = self.slots[slot as usize].status;
        match AgentState::from_code(previous.state) {
            Some(AgentState::Finished | AgentState::Trapped) => {}
            _ => return Err(SpawnError::Busy(id)),
        }
        self.flush()?;
        self.begin_call(slot, func, args, previous)?;
        Ok(())
    }

    /// Reads an idle agent's whole store back (globals, segment flags, tables, memory), to
    /// load a grown [`Store`] with it: [`load_store`](Self::load_store).
    pub fn snapshot(&mut self, id: AgentId) -> Result<StoreState, AccessError> {
        let slot = self.pool.slot(id)?;
        self.flush()?;
        let module = self.module.as_ref().ok_or(AccessError::NoModule)?;
        let pages = self.slots[slot as usize].status.memory_pages;
        let program = &module.program;
        let segments = program.data.len() + program.elems.len();
        let globals_words = 2 * program.globals.len() + segments + program.memories.len();
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
        debug_assert_eq!(state.globals_words(), globals_words);
        Ok(state)
    }

    /// Kills an agent: its slot is wiped and its id goes stale.
    pub fn kill(&mut self, id: AgentId) -> Result<(), AccessError> {
        self.kill_many(&[id])
    }

    /// Kills several agents in one GPU submission: their slots are wiped and their ids go
    /// stale. Either every id is live and all of them are killed, or nothing changes. An id
    /// given twice is killed once.
    pub fn kill_many(&mut self, ids: &[AgentId]) -> Result<(), AccessError> {
        let slots = self.sorted_slots(ids)?;
        self.flush()?;
        // Runs of consecutive slots inside one chunk: one clear per buffer and run, covering
        // whole strides, so every region but the interleaved ones is all zeros again. Memory
        // is zeroed by the slot's next spawn, as far as this tenant touched it (`Slot::touched`),
        // and a call writes each stack slot before it reads one.
        let mut runs: Vec<(usize, std::ops::Range<u32>)> = Vec::new();
        for &slot in &slots {
            let location = self.layout.locate(slot);
            let chunk = location.chunk as usize;
            match runs.last_mut() {
                Some((c, run)) if *c == chunk && run.end == location.local => run.end += 1,
                _ => runs.push((chunk, location.local..location.local + 1)),
            }
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
        for &slot in &slots {
            let id = self.pool.agent_in(slot).expect("checked live above");
            self.pool.kill(id)?;
            let touched = self.slots[slot as usize].touched;
            self.slots[slot as usize].reset(Slot {
                touched,
                ..Slot::default()
            });
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

    /// The tiles that killing `killed` (sorted) leaves without a live agent and with memory
    /// to zero: each tile's slots and the most words any of its tenants touched.
    fn emptied_tiles(&self, killed: &[u32]) -> Vec<(std::ops::Range<u32>, u32)> {
        let tile = self.layout.tile();
        let mut emptied: Vec<(std::ops::Range<u32>, u32)> = Vec::new();
        for &slot in killed {
            let location = self.layout.locate(slot);
            let chunk = self.layout.chunk(location.chunk);
            let first = chunk.first_slot + location.local / tile * tile;
            if emptied.last().is_some_and(|(r, _)| r.start == first) {
                continue;
            }
            let slots = first..(first + tile).min(chunk.first_slot + chunk.agents);
            let dead = slots
                .clone()
                .all(|s| self.pool.agent_in(s).is_none() || killed.binary_search(&s).is_ok());
            let words = slots
                .clone()
                .filter_map(|s| self.slots.get(s as usize))
                .map(|entry| entry.touched)
                .max()
                .unwrap_or(0);
            if dead && words > 0 {
                emptied.push((slots, words));
            }
        }
        emptied
    }

    /// Runs every live agent that has work (a new call, a suspended call, or a host call just
    /// answered) once, in one GPU submission, then reports every live agent.
    /// Agents whose start function just finished begin their call in a further submission.
    pub fn dispatch(&mut self) -> Result<DispatchReport, DispatchError> {
        self.dispatch_selection(None)
    }

    /// Like [`dispatch`](Self::dispatch), for the chosen agents only: the others do not run,
    /// and only the chosen agents' records are read back and reported, in the order given.
    pub fn dispatch_agents(&mut self, ids: &[AgentId]) -> Result<DispatchReport, DispatchError> {
        let slots = self.sorted_slots(ids)?;
        let mut report = self.dispatch_selection(Some(slots))?;
        // Report in the order asked for.
        let position: HashMap<AgentId, usize> = ids
            .iter()
            .enumerate()
            .map(|(index, id)| (*id, index))
            .collect();
        report.agents.sort_by_key(|a| position[&a.id]);
        Ok(report)
    }

    /// Dispatches until no agent is runnable: every call finished or trapped.
    pub fn run(&mut self) -> Result<DispatchReport, DispatchError> {
        let mut report = self.dispatch()?;
        while report.agents.iter().any(|a| a.outcome.is_running()) {
            let next = self.dispatch()?;
            report.absorb(next);
        }
        Ok(report)
    }

    /// Like [`run`](Self::run), for the chosen agents only.
    pub fn run_agents(&mut self, ids: &[AgentId]) -> Result<DispatchReport, DispatchError> {
        let mut report = self.dispatch_agents(ids)?;
        while report.agents.iter().any(|a| a.outcome.is_running()) {
            let next = self.dispatch_agents(ids)?;
            report.absorb(next);
        }
        Ok(report)
    }

    /// `slots`: sorted, distinct, live; `None` for every live agent.
    fn dispatch_selection(
        &mut self,
        slots: Option<Vec<u32>>,
    ) -> Result<DispatchReport, DispatchError> {
        let wall = Instant::now();
        let waits =
            |slot: &u32| self.slots[*slot as usize].status.state == AgentState::HostCall as u32;
        let waiting: Vec<u32> = match &slots {
            Some(slots) => slots.iter().copied().filter(waits).collect(),
            None => self.pool.live().map(|id| id.slot()).filter(waits).collect(),
        };
        let host_time = if waiting.is_empty() {
            Duration::ZERO
        } else {
            let started = Instant::now();
            self.answer_host_calls(&waiting)?;
            started.elapsed()
        };
        let mut gpu_time: Option<Duration> = None;
        loop {
            let (timing, restarted) = self.dispatch_once(slots.as_deref())?;
            if let Some(t) = timing.gpu {
                gpu_time = Some(gpu_time.unwrap_or_default() + t);
            }
            if !restarted {
                break;
            }
        }
        let agents = match &slots {
            Some(slots) => slots
                .iter()
                .filter_map(|&slot| self.pool.agent_in(slot))
                .map(|id| self.report(id))
                .collect(),
            None => self.pool.live().map(|id| self.report(id)).collect(),
        };
        Ok(DispatchReport {
            agents,
            gpu_time,
            host_time,
            wall_time: wall.elapsed(),
        })
    }

    /// One submission: pending spawns, then the run over each chunk (every agent below the
    /// high-water mark, or the selection), then the readback of the status records run.
    fn dispatch_once(
        &mut self,
        slots: Option<&[u32]>,
    ) -> Result<(swarm_gpu::DispatchTiming, bool), DispatchError> {
        // Per chunk: how many invocations, the work-list offset of a selection, and the range
        // of local indices to read back.
        let mut plans: Vec<(usize, u32, Option<u32>, std::ops::Range<u32>)> = Vec::new();
        match slots {
            None => {
                let high = self.pool.high_water();
                for (index, chunk) in self.chunks.iter().enumerate() {
                    let used = high
                        .saturating_sub(chunk.layout.first_slot)
                        .min(chunk.layout.agents);
                    if used > 0 {
                        plans.push((index, used, None, 0..used));
                    }
                }
            }
            Some(slots) => {
                let mut start = 0;
                while start < slots.len() {
                    let chunk = self.layout.locate(slots[start]).chunk as usize;
                    let first = self.chunks[chunk].layout.first_slot;
                    let end = start
                        + slots[start..]
                            .iter()
                            .take_while(|&&s| self.layout.locate(s).chunk as usize == chunk)
                            .count();
                    let locals: Vec<u32> = slots[start..end].iter().map(|s| s - first).collect();
                    let offset = self.reserve_list(locals.len() as u64)?;
                    self.gpu.write_buffer(
                        &self.list,
                        u64::from(offset) * 4,
                        bytemuck::cast_slice(&locals),
                    )?;
                    let range = locals[0]..locals[locals.len() - 1] + 1;
                    plans.push((chunk, locals.len() as u32, Some(offset), range));
                    start = end;
                }
            }
        }
        let fuel_total = self.config.fuel_total.unwrap_or(u64::MAX);
        let stride = self.layout.buffer(BufferKind::Status).stride;
        for (index, count, list, _) in &plans {
            let chunk = &self.chunks[*index];
            let params = DispatchParams {
                agent_count: *count,
                groups_x: self.grid(*count).x,
                first_slot: chunk.layout.first_slot,
                swarm_agents: self.pool.len(),
                fuel_slice_lo: self.config.fuel_per_dispatch as u32,
                fuel_slice_hi: (self.config.fuel_per_dispatch >> 32) as u32,
                fuel_total_lo: fuel_total as u32,
                fuel_total_hi: (fuel_total >> 32) as u32,
                list_offset: list.unwrap_or(0),
                use_list: u32::from(list.is_some()),
                work_limit: self.work_limit(),
                ..Default::default()
            };
            self.gpu
                .write_buffer(&chunk.params, 0, bytemuck::bytes_of(&params))?;
        }
        let mut dispatches = self.spawn_dispatches();
        let mut reads = Vec::new();
        for (index, count, _, range) in &plans {
            let chunk = &self.chunks[*index];
            if let Some((bindings, _)) = &chunk.bindings {
                dispatches.push(Dispatch {
                    kernel: &self.kernels().run,
                    bindings,
                    grid: self.grid(*count),
                });
            }
            reads.push(ReadRequest {
                buffer: &chunk.status,
                offset: u64::from(range.start) * stride,
                size: u64::from(range.end - range.start) * stride,
            });
        }
        let (timing, data) = self.gpu.dispatch(&dispatches, &reads)?;
        self.pending_spawns.clear();
        self.list_used = 0;

        let results_offset = self.layout.region(RegionKind::Results).offset as usize;
        let mut restarted = false;
        for ((index, _, _, range), bytes) in plans.iter().zip(data) {
            let first = self.chunks[*index].layout.first_slot;
            for (local, record) in (range.start..range.end).zip(bytes.chunks(stride as usize)) {
                let slot = first + local;
                if self.pool.agent_in(slot).is_none()
                    || slots.is_some_and(|s| s.binary_search(&slot).is_err())
                {
                    continue;
                }
                let status: AgentStatus =
                    bytemuck::pod_read_unaligned(&record[..AgentStatus::SIZE]);
                let entry = &mut self.slots[slot as usize];
                entry.status = status;
                entry.touched = entry.touched.max(status.memory_touched);
                if status.state == AgentState::Finished as u32 {
                    if let Some((func, args)) = entry.pending.take() {
                        self.begin_call(slot, func, &args, status)?;
                        restarted = true;
                    } else {
                        let count =
                            (status.result_count as usize).min(self.config.max_results as usize);
                        entry.results.clear();
                        entry.results.extend(
                            record[results_offset..results_offset + 8 * count]
                                .chunks(8)
                                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))),
                        );
                    }
                }
            }
        }
        Ok((timing, restarted))
    }

    /// Answers the host calls `slots` wait on: one batched call per import, then the results
    /// go onto each agent's stack (or into its results, for an entry call) and it resumes.
    fn answer_host_calls(&mut self, slots: &[u32]) -> Result<(), DispatchError> {
        self.flush()?;
        let module = self.module.as_ref().expect("agents imply a module");
        let calls: Vec<(u32, u32, u32)> = slots
            .iter()
            .map(|&slot| {
                let status = &self.slots[slot as usize].status;
                let func = status.host_call;
                let params = module.program.funcs[func as usize].ty.params.len() as u32;
                (slot, func, params)
            })
            .collect();
        // Every caller's arguments, and the stack slots its results will take, in one readback
        // of whole tiles of the interleaved stacks.
        let stack_slots = self.config.value_stack_slots;
        let mut windows = StackWindow::covering(
            &self.layout,
            calls.iter().map(|&(slot, func, params)| {
                let sp = self.slots[slot as usize].status.sp;
                let results = module.program.funcs[func as usize].ty.results.len() as u32;
                (
                    slot,
                    sp - params..(sp - params + params.max(results)).min(stack_slots),
                )
            }),
        );
        let rows: Vec<Vec<std::ops::Range<u64>>> =
            windows.iter().map(|w| w.ranges(&self.layout)).collect();
        let reads: Vec<ReadRequest<'_>> = windows
            .iter()
            .zip(&rows)
            .flat_map(|(window, rows)| {
                let buffer = &self.chunks[window.chunk].state;
                rows.iter().map(move |r| ReadRequest {
                    buffer,
                    offset: r.start,
                    size: r.end - r.start,
                })
            })
            .collect();
        let bytes = self.gpu.read_buffers(&reads)?;
        let mut next = bytes.iter();
        for (window, rows) in windows.iter_mut().zip(&rows) {
            window.fill(next.by_ref().take(rows.len()).map(Vec::as_slice));
        }
        let window_of: HashMap<usize, usize> = windows
            .iter()
            .enumerate()
            .map(|(index, w)| (w.chunk, index))
            .collect();
        // Per import: the callers' slots and their calls, in the same order.
        let mut by_func: HashMap<u32, (Vec<u32>, Vec<HostCall>)> = HashMap::new();
        for &(slot, func, params) in &calls {
            let ty = &module.program.funcs[func as usize].ty;
            let location = self.layout.locate(slot);
            let base = self.slots[slot as usize].status.sp - params;
            let window = window_of
                .get(&(location.chunk as usize))
                .map(|&i| &windows[i]);
            let args = ty
                .params
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let bits = window.map_or(0, |w| w.get(location.local, base + i as u32));
                    Value::from_bits(*t, bits)
                })
                .collect();
            let agent = self.pool.agent_in(slot).expect("a live agent");
            let (slots, calls) = by_func.entry(func).or_default();
            slots.push(slot);
            calls.push(HostCall { agent, args });
        }
        let mut answers: Vec<(u32, u32, HostResult)> = Vec::new();
        for (func, (slots, requests)) in by_func {
            let results = match module.host.get(&func) {
                Some((name, host)) => {
                    host.call(&requests)
                        .map_err(|why| DispatchError::HostFunction {
                            name: name.clone(),
                            why,
                        })?
                }
                // The spec suite's print functions do nothing.
                None => requests.iter().map(|_| Ok(Vec::new())).collect(),
            };
            answers.extend(
                slots
                    .into_iter()
                    .zip(results)
                    .map(|(slot, result)| (slot, func, result)),
            );
        }
        for (slot, func, answer) in answers {
            let params = self.module.as_ref().expect("loaded").program.funcs[func as usize]
                .ty
                .params
                .len() as u32;
            let mut status = self.slots[slot as usize].status;
            let mut results = Vec::new();
            match answer {
                Err(trap) => {
                    status.state = AgentState::Trapped as u32;
                    status.trap = trap.code();
                }
                Ok(values) if status.depth == 0 => {
                    // The entry call was the import itself: it has returned.
                    results = values.iter().map(|v| v.to_bits()).collect();
                    status.state = AgentState::Finished as u32;
                    status.result_count = values.len() as u32;
                    status.sp = values.len() as u32;
                }
                Ok(values) if status.sp - params + values.len() as u32 > stack_slots => {
                    // No room on the stack for the results.
                    status.state = AgentState::Trapped as u32;
                    status.trap = TrapCode::CallStackExhausted.code();
                }
                Ok(values) => {
                    let base = status.sp - params;
                    let location = self.layout.locate(slot);
                    let window = &mut windows[window_of[&(location.chunk as usize)]];
                    for (i, value) in values.iter().enumerate() {
                        window.set(location.local, base + i as u32, value.to_bits());
                    }
                    status.sp = base + values.len() as u32;
                    status.state = AgentState::Suspended as u32;
                }
            }
            status.host_call = 0;
            let mut record = bytemuck::bytes_of(&status).to_vec();
            if !results.is_empty() {
                let offset = self.layout.region(RegionKind::Results).offset as usize;
                record.resize(offset, 0);
                record.extend_from_slice(bytemuck::cast_slice(&results));
            }
            self.write(slot, RegionKind::Status, 0, &record)?;
            let entry = &mut self.slots[slot as usize];
            entry.status = status;
            entry.results = results;
        }
        for window in &windows {
            let state = &self.chunks[window.chunk].state;
            for (offset, row) in window.changed(&self.layout) {
                self.gpu.write_buffer(state, offset, row)?;
            }
        }
        Ok(())
    }

    fn report(&self, id: AgentId) -> AgentReport {
        let entry = &self.slots[id.slot() as usize];
        let status = entry.status;
        let outcome = match AgentState::from_code(status.state) {
            Some(AgentState::Finished) => {
                // An instance-only agent has made no call and has no results.
                let types = self
                    .module
                    .as_ref()
                    .and_then(|m| m.program.funcs.get(entry.func as usize))
                    .map(|f| f.ty.results.as_slice())
                    .unwrap_or_default();
                Outcome::Finished(
                    types
                        .iter()
                        .zip(&entry.results)
                        .map(|(ty, bits)| Value::from_bits(*ty, *bits))
                        .collect(),
                )
            }
            Some(AgentState::Trapped) => {
                Outcome::Trapped(TrapCode::from_code(status.trap).unwrap_or(TrapCode::Unreachable))
            }
            Some(AgentState::HostCall) => Outcome::HostCall,
            _ => Outcome::Suspended,
        };
        AgentReport {
            id,
            outcome,
            instructions: (fuel_used(&status) - entry.fuel_base)
                - (fuel_extra(&status) - entry.extra_base),
            fuel: fuel_used(&status) - entry.fuel_base,
            output_len: status.output_len,
        }
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

    /// Reads an agent's output bytes.
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

impl Outcome {
    /// Whether the call still has work: suspended for fuel, or waiting on the host.
    pub fn is_running(&self) -> bool {
        matches!(self, Self::Suspended | Self::HostCall)
    }
}

impl DispatchReport {
    /// Folds a later dispatch into this report: its agents replace these, times add up.
    pub fn absorb(&mut self, next: DispatchReport) {
        self.wall_time += next.wall_time;
        self.host_time += next.host_time;
        self.gpu_time = match (self.gpu_time, next.gpu_time) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.agents = next.agents;
    }
}

fn fuel_used(status: &AgentStatus) -> u64 {
    u64::from(status.fuel_used_lo) | (u64::from(status.fuel_used_hi) << 32)
}

fn fuel_extra(status: &AgentStatus) -> u64 {
    u64::from(status.fuel_extra_lo) | (u64::from(status.fuel_extra_hi) << 32)
}
