//! `Swarm`: one module, a pool of agents, and dispatches that run them all on the GPU. This
//! file holds the swarm's GPU resources (chunks, kernels, the work list) and loading; its
//! submodules the operations: `spawn` (starting calls), `dispatch` (running agents, host
//! calls), `access` (snapshots, globals, output, kills), `memory` (linear memory from the
//! host) and `report` (what a dispatch reports).

use std::collections::HashMap;

use swarm_core::{
    AgentId, AgentStatus, BufferKind, ChunkLayout, DispatchGrid, DispatchParams, GpuStruct, Layout,
    Reconverge, RegionKind, SlotPool, SpawnHeader, SwarmConfig, TrapCode,
};
use swarm_gpu::{
    AdapterReport, AdapterRequest, BindingKind, Dispatch, GpuBuffer, GpuContext, Kernel,
    KernelBindings, PipelineCacheReport,
};
use swarm_shader::image::{MemoryPlacement, TablePlacement};
use swarm_shader::isa::OpGroups;
use swarm_shader::program::{FuncKind, Program};
use swarm_shader::{
    BindingAccess, CodeImage, InterpBinding, KernelOptions, NativeFloats, RUN_ENTRY, SPAWN_ENTRY,
    SPAWN_MEMORY_ENTRY, Scheduling, Store, interpreter_wgsl, validate_wgsl,
};

use crate::host::HostFunction;
use crate::instance::{Imports, StoreState, Template};
use crate::{CreateError, DispatchError, LoadError, Value};

mod access;
mod batch;
mod dispatch;
mod host_memory;
mod memory;
mod parallel;
mod report;
mod spawn;
mod tier;

use tier::CompiledTier;
pub use tier::{AUTO_COMPILE_AFTER, Background, CompileReport, TierStatus};

pub use batch::{Arg, Batch, BatchOutcome, BatchReport};
pub use host_memory::HostMemory;
pub(crate) use report::add_gpu_times;
pub use report::{AgentReport, DispatchPhases, DispatchReport, Outcome};

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
    /// Whether it imports a function: only then can an agent wait on a host call.
    imports_funcs: bool,
    /// Whether the GPU gathers stream writes in its agents' output regions
    /// ([`CodeImage::write_streams_on_gpu`]).
    streams_on_gpu: bool,
    /// The instruction groups of its interpreter: its key in `Swarm::kernels`.
    op_groups: OpGroups,
    /// Its compiled tier (`tier`).
    tier: CompiledTier,
}

/// Host-side bookkeeping per slot. Results live beside it, in `Swarm::results`; a call waiting
/// for its start function in `Swarm::pending_calls`.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// Function of the current call (for result types).
    func: u32,
    /// Words of the slot's memory region that may not be zero: the most any tenant's
    /// [`AgentStatus::memory_touched`] or host write reached since the slot was last wiped. It
    /// outlives a kill, and the next spawn into the slot zeroes them.
    touched: u32,
    /// Lifetime fuel when the current call began.
    fuel_base: u64,
    /// Lifetime fuel beyond instructions when the current call began.
    extra_base: u64,
    /// Lifetime instructions of compiled blocks when the current call began.
    compiled_base: u64,
    /// The last status read back.
    status: AgentStatus,
}

/// A call an agent makes once its start function has finished: the function and its
/// arguments.
type Call = (u32, Vec<Value>);

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
    /// The compiled kernels built last, for later loads of the same code.
    built_kernels: tier::BuiltKernels,
    /// The work list: spawn records and dispatch selections (see `SpawnRecord`).
    list: GpuBuffer,
    /// Words of `list` holding data for the next submission.
    list_used: u64,
    pending_spawns: Vec<PendingSpawn>,
    chunks: Vec<Chunk>,
    module: Option<Module>,
    slots: Vec<Slot>,
    /// Result bits of each slot's last finished call: `max_results` per slot.
    results: Vec<u64>,
    /// By slot: the call an agent makes once its start function has finished.
    pending_calls: HashMap<u32, Call>,
    /// The stream records killed agents had gathered, until taken
    /// ([`take_stream_records`](Self::take_stream_records)).
    killed_streams: HashMap<AgentId, Vec<u8>>,
    /// Live agents on the other devices of a `MultiSwarm`, which `swarm.agent_count` counts.
    agents_elsewhere: u32,
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
    fn build(
        gpu: &GpuContext,
        layout: &Layout,
        groups: OpGroups,
        options: KernelOptions,
    ) -> Result<Self, LoadError> {
        let wgsl = validate_wgsl(
            &format!("swarm interpreter ({})", groups.name()),
            interpreter_wgsl(layout, groups, options),
            gpu.capabilities(),
        )?;
        let mut kernels = gpu.create_kernels(
            &wgsl,
            &[RUN_ENTRY, SPAWN_ENTRY, SPAWN_MEMORY_ENTRY],
            &InterpBinding::ALL.map(|binding| match binding.access() {
                BindingAccess::Uniform => BindingKind::Uniform,
                BindingAccess::Read => BindingKind::StorageRead,
                BindingAccess::ReadWrite => BindingKind::StorageReadWrite,
            }),
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
        let first_slot = config.first_slot;
        Self::on_device(config, request, first_slot)
    }

    /// A swarm on the adapter `request` names whose agents' ids name slots from `slot_base`
    /// on: one device of a [`MultiSwarm`](crate::MultiSwarm).
    pub(crate) fn on_device(
        config: SwarmConfig,
        request: &AdapterRequest,
        slot_base: u32,
    ) -> Result<Self, CreateError> {
        config.validate()?;
        let mut gpu = GpuContext::new(request)?;
        if let Some(dir) = &config.pipeline_cache {
            gpu.open_pipeline_cache(dir)?;
        }
        if !gpu.capabilities().int64 {
            return Err(CreateError::NoInt64 {
                adapter: gpu.report().name.clone(),
            });
        }
        let layout = Layout::new(&config, &gpu.limits())?;
        let list = gpu.create_storage_buffer("swarm work list", INITIAL_LIST_WORDS * 4)?;
        Ok(Self {
            gpu,
            pool: SlotPool::with_base(slot_base, config.max_agents),
            config,
            layout,
            kernels: HashMap::new(),
            built_kernels: tier::BuiltKernels::default(),
            list,
            list_used: 0,
            pending_spawns: Vec::new(),
            chunks: Vec::new(),
            module: None,
            slots: Vec::new(),
            results: Vec::new(),
            pending_calls: HashMap::new(),
            killed_streams: HashMap::new(),
            agents_elsewhere: 0,
        })
    }

    /// The adapter and what swarm requested of it.
    pub fn adapter(&self) -> &AdapterReport {
        self.gpu.report()
    }

    /// What the pipeline cache ([`SwarmConfig::pipeline_cache`]) has done: the file, the
    /// bytes it gave the driver when the swarm was made and the bytes last written to it.
    /// `None` without one, or where the backend keeps no pipeline caches (wgpu has them on
    /// Vulkan only).
    pub fn pipeline_cache(&self) -> Option<PipelineCacheReport> {
        self.gpu.pipeline_cache()
    }

    /// What [`SwarmConfig::reconverge`] does on this adapter: the setting, or
    /// [`Reconverge::Off`] where the adapter has no subgroup operations.
    pub fn reconverge(&self) -> Reconverge {
        if self.gpu.capabilities().subgroups {
            self.config.reconverge
        } else {
            Reconverge::Off
        }
    }

    /// How the interpreter's kernel (`compiled == false`) or a compiled kernel orders the
    /// agents of a subgroup.
    /// Which float widths add, subtract and multiply on the GPU's float unit where that is
    /// exact: both on an adapter with 64-bit floats, none with [`SwarmConfig::soft_float`].
    pub fn native_floats(&self) -> NativeFloats {
        NativeFloats::for_adapter(self.gpu.capabilities(), self.config.soft_float)
    }

    /// What the interpreter's kernel (`compiled == false`) or a compiled kernel is generated
    /// with: how it orders the agents of a subgroup, and which floats take the fast path.
    fn kernel_options(&self, compiled: bool) -> KernelOptions {
        let scheduling = if self.reconverge().applies_to(compiled) {
            Scheduling::LowestPcFirst
        } else {
            Scheduling::Free
        };
        KernelOptions {
            scheduling,
            floats: self.native_floats(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SwarmConfig {
        &self.config
    }

    /// Live agents.
    pub fn agent_count(&self) -> u32 {
        self.pool.len()
    }

    /// Whether the swarm's device was lost (a driver reset, a GPU removed or a hang the driver
    /// killed): every GPU operation fails from then on with
    /// [`GpuError::DeviceLost`](swarm_gpu::GpuError::DeviceLost), and a kill only frees the
    /// agents' slots.
    pub fn is_lost(&self) -> bool {
        self.gpu.is_lost()
    }

    /// Destroys the swarm's device as a driver losing it would: every later operation on the
    /// GPU fails with [`GpuError::DeviceLost`](swarm_gpu::GpuError::DeviceLost). For tests.
    #[doc(hidden)]
    pub fn lose_device(&mut self) {
        self.gpu.destroy();
    }

    /// Sets the live agents of the other devices of a `MultiSwarm`, for `swarm.agent_count`.
    pub(crate) fn set_agents_elsewhere(&mut self, agents: u32) {
        self.agents_elsewhere = agents;
    }

    /// Slots a spawn may take now: none on a lost device.
    pub(crate) fn free_slots(&self) -> u32 {
        if self.is_lost() {
            0
        } else {
            self.pool.free_slots()
        }
    }

    /// Whether `id` names a live agent of this swarm.
    pub(crate) fn contains(&self, id: AgentId) -> bool {
        self.pool.contains(id)
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
        let mut image = CodeImage::build(&program, &self.config)?;
        // `swarm.output` and stream writes would share the output region.
        let mut stream_room = None;
        let uses_output = program.funcs.iter().any(|f| {
            matches!(&f.kind, FuncKind::Import { module, name } if module == "swarm" && name == "output")
        });
        for (index, func) in program.funcs.iter().enumerate() {
            let FuncKind::Import { module, name } = &func.kind else {
                continue;
            };
            if imports.answers_with_zeros(module, name, &func.ty.results) {
                image.answer_with_zeros(index as u32);
            } else if let Some(room) = imports.function(module, name).and_then(|f| f.stream_room)
                && !uses_output
            {
                image.write_streams_on_gpu(index as u32);
                stream_room = Some(room);
            }
        }
        let tier = CompiledTier::plan(
            &program,
            self.config.tier,
            &self.config.compile_budget,
            self.native_floats(),
        );
        let op_groups = if self.config.specialize {
            program.op_groups
        } else {
            OpGroups::ALL
        };
        if !self.kernels.contains_key(&op_groups) {
            let options = self.kernel_options(false);
            let kernels = Kernels::build(&self.gpu, &self.layout, op_groups, options)?;
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
        tier.mark(&mut words);
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
            trap: template.trap.map_or(0, TrapCode::code),
            fuel: template.startup_fuel,
            stream_room: stream_room.unwrap_or(0),
            // Each spawn fills in its call and where its arguments lie.
            ..SpawnHeader::default()
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
        let imports_funcs = program
            .funcs
            .iter()
            .any(|f| matches!(f.kind, FuncKind::Import { .. }));
        self.module = Some(Module {
            program,
            instances: state.instances(),
            start,
            places: (image.tables.clone(), image.memories.clone()),
            code,
            template,
            header,
            host,
            imports_funcs,
            streams_on_gpu: stream_room.is_some(),
            op_groups,
            tier,
        });
        for index in 0..self.chunks.len() {
            self.bind_chunk(index)?;
        }
        Ok(())
    }

    /// Makes room in the host's per-slot records for `slot`.
    fn ensure_slot(&mut self, slot: u32) {
        let slot = slot as usize;
        if self.slots.len() <= slot {
            let len = (slot + 1)
                .max(2 * self.slots.len())
                .min(self.config.max_agents as usize);
            let len = len.max(slot + 1);
            self.slots.resize(len, Slot::default());
            self.results
                .resize(len * self.config.max_results as usize, 0);
        }
    }

    /// The slot of the agent `id` names in this swarm's buffers: its id's slot less the
    /// pool's base. For ids the pool has checked, or handed out.
    fn local(&self, id: AgentId) -> u32 {
        id.slot() - self.pool.base()
    }

    /// The result bits of `slot`'s last finished call.
    fn results_of(&self, slot: u32) -> &[u64] {
        let max = self.config.max_results as usize;
        let count = (self.slots[slot as usize].status.result_count as usize).min(max);
        let first = slot as usize * max;
        &self.results[first..first + count]
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
        self.kernels_of(module.op_groups)
    }

    /// The interpreter of `groups`, built when a module needing it was loaded.
    fn kernels_of(&self, groups: OpGroups) -> &Kernels {
        &self.kernels[&groups]
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
            let buffers = InterpBinding::ALL.map(|binding| match binding {
                InterpBinding::Params => params,
                InterpBinding::Code => &module.code,
                InterpBinding::Memory => &chunk.memory,
                InterpBinding::State => &chunk.state,
                InterpBinding::Status => &chunk.status,
                InterpBinding::Output => &chunk.output,
                InterpBinding::List => &self.list,
            });
            self.gpu.bind(&self.kernels().run, &buffers)
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

    /// The spawn dispatches recorded since the last submission, in two stages (see
    /// [`GpuContext::dispatch`](swarm_gpu::GpuContext::dispatch)): every chunk's memory
    /// pieces, then every chunk's spawns, so that the chunks' dispatches of one stage may run
    /// at the same time.
    fn spawn_dispatches(&self) -> [Vec<Dispatch<'_>>; 2] {
        let (mut pieces, mut spawns) = (Vec::new(), Vec::new());
        for spawn in &self.pending_spawns {
            let Some((_, bindings)) = self.chunks[spawn.chunk].bindings.as_ref() else {
                continue;
            };
            if spawn.pieces > 0 {
                pieces.push(Dispatch {
                    kernel: &self.kernels().spawn_memory,
                    bindings,
                    grid: self.grid(spawn.count * spawn.pieces),
                });
            }
            spawns.push(Dispatch {
                kernel: &self.kernels().spawn,
                bindings,
                grid: self.grid(spawn.count),
            });
        }
        [pieces, spawns]
    }

    /// Submits pending spawns, so that later queued writes and reads see the new agents.
    fn flush(&mut self) -> Result<(), swarm_gpu::GpuError> {
        if !self.pending_spawns.is_empty() {
            let [pieces, spawns] = self.spawn_dispatches();
            self.gpu.submit(&[&pieces, &spawns])?;
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
}

fn fuel_used(status: &AgentStatus) -> u64 {
    u64::from(status.fuel_used_lo) | (u64::from(status.fuel_used_hi) << 32)
}

fn compiled(status: &AgentStatus) -> u64 {
    u64::from(status.compiled_lo) | (u64::from(status.compiled_hi) << 32)
}

fn fuel_extra(status: &AgentStatus) -> u64 {
    u64::from(status.fuel_extra_lo) | (u64::from(status.fuel_extra_hi) << 32)
}
