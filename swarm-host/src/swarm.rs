//! `Swarm`: one module, a pool of agents, and dispatches that run them all on the GPU.

use std::time::Duration;

use swarm_core::{
    AgentId, AgentState, AgentStatus, BufferKind, ChunkLayout, DispatchGrid, DispatchParams,
    GpuStruct, Layout, RegionKind, SlotPool, SwarmConfig, TrapCode,
};
use swarm_gpu::{
    AdapterReport, AdapterRequest, BindingKind, Dispatch, GpuBuffer, GpuContext, Kernel,
    KernelBindings, ReadRequest,
};
use swarm_shader::program::Program;
use swarm_shader::{CodeImage, WORKGROUP_SIZE, interpreter_wgsl, validate_wgsl};

use crate::instance::{Imports, Template, matches};
use crate::{AccessError, CreateError, DispatchError, LoadError, SpawnError, Value};

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
    /// WebAssembly instructions its current call has executed (wasmtime's fuel model).
    pub instructions: u64,
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
    /// Wall time from submission to harvested results.
    pub wall_time: Duration,
}

struct Chunk {
    layout: ChunkLayout,
    params: GpuBuffer,
    memory: GpuBuffer,
    state: GpuBuffer,
    status: GpuBuffer,
    output: GpuBuffer,
    bindings: Option<KernelBindings>,
}

struct Module {
    program: Program,
    code: GpuBuffer,
    template: Template,
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
    /// The last status read back.
    status: AgentStatus,
}

/// A swarm: one loaded module and up to `max_agents` agents running it on one GPU.
pub struct Swarm {
    gpu: GpuContext,
    config: SwarmConfig,
    layout: Layout,
    pool: SlotPool,
    kernel: Kernel,
    chunks: Vec<Chunk>,
    module: Option<Module>,
    slots: Vec<Slot>,
    /// Result bits of each slot's last finished call.
    results: Vec<Vec<u64>>,
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
        let wgsl = validate_wgsl(
            "swarm interpreter",
            interpreter_wgsl(&layout),
            gpu.capabilities(),
        )?;
        let kernel = gpu.create_kernel(
            &wgsl,
            "main",
            &[
                BindingKind::Uniform,
                BindingKind::StorageRead,
                BindingKind::StorageReadWrite,
                BindingKind::StorageReadWrite,
                BindingKind::StorageReadWrite,
                BindingKind::StorageReadWrite,
            ],
        )?;
        Ok(Self {
            gpu,
            pool: SlotPool::new(config.max_agents),
            config,
            layout,
            kernel,
            chunks: Vec::new(),
            module: None,
            slots: Vec::new(),
            results: Vec::new(),
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

    /// Loads a module (binary `.wasm`) that every agent will run, with `imports`.
    pub fn load_module(&mut self, wasm: &[u8], imports: &Imports) -> Result<(), LoadError> {
        if !self.pool.is_empty() {
            return Err(LoadError::AgentsAlive(self.pool.len()));
        }
        let program = swarm_shader::lower(wasm)?;
        imports.check(&program)?;
        let image = CodeImage::build(&program, &self.config)?;
        let template = Template::new(&program, &image, imports);
        let code = self
            .gpu
            .create_storage_buffer("swarm code", image.words.len() as u64 * 4)?;
        self.gpu
            .write_buffer(&code, 0, bytemuck::cast_slice(&image.words))?;
        for chunk in &mut self.chunks {
            chunk.bindings = None;
        }
        self.module = Some(Module {
            program,
            code,
            template,
        });
        for index in 0..self.chunks.len() {
            self.bind_chunk(index)?;
        }
        Ok(())
    }

    fn bind_chunk(&mut self, index: usize) -> Result<(), swarm_gpu::GpuError> {
        let Some(module) = &self.module else {
            return Ok(());
        };
        let chunk = &self.chunks[index];
        let bindings = self.gpu.bind(
            &self.kernel,
            &[
                &chunk.params,
                &module.code,
                &chunk.memory,
                &chunk.state,
                &chunk.status,
                &chunk.output,
            ],
        )?;
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
            let chunk = Chunk {
                layout,
                params: self
                    .gpu
                    .create_uniform_buffer("swarm params", DispatchParams::SIZE as u64)?,
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

    fn resolve_call(&self, export: &str, args: &[Value]) -> Result<u32, SpawnError> {
        let module = self.module.as_ref().ok_or(SpawnError::NoModule)?;
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

    /// Spawns an agent that will call `export` with `args` in the next dispatch.
    pub fn spawn(&mut self, export: &str, args: &[Value]) -> Result<AgentId, SpawnError> {
        self.spawn_with_memory(export, args, 0, &[])
    }

    /// Spawns an agent that only instantiates the module: it runs the start function, if there
    /// is one, in the next dispatch, then waits (finished) for a [`call`](Self::call).
    pub fn spawn_instance(&mut self) -> Result<AgentId, SpawnError> {
        let module = self.module.as_ref().ok_or(SpawnError::NoModule)?;
        if let Some(trap) = module.template.trap {
            return Err(SpawnError::Instantiation(trap));
        }
        let start = module.program.start;
        let memory_pages = module.template.memory_pages;
        let id = self.pool.spawn()?;
        let slot = id.slot();
        let result = self
            .ensure_chunk(slot)
            .map_err(SpawnError::from)
            .and_then(|()| {
                self.write_template(slot)?;
                let status = AgentStatus {
                    memory_pages,
                    ..Default::default()
                };
                match start {
                    Some(start) => self.begin_call(slot, start, &[], status)?,
                    None => {
                        let status = AgentStatus {
                            state: AgentState::Finished as u32,
                            ..status
                        };
                        self.write(slot, RegionKind::Status, 0, bytemuck::bytes_of(&status))?;
                        self.slots[slot as usize].status = status;
                    }
                }
                Ok(())
            });
        if let Err(err) = result {
            let _ = self.pool.kill(id);
            return Err(err);
        }
        Ok(id)
    }

    /// Copies the module's starting state into `slot` and resets its host-side record.
    fn write_template(&mut self, slot: u32) -> Result<(), swarm_gpu::GpuError> {
        let template = &self.module.as_ref().expect("a module is loaded").template;
        self.write(slot, RegionKind::LinearMemory, 0, &template.memory)?;
        self.write(
            slot,
            RegionKind::Globals,
            0,
            bytemuck::cast_slice(&template.globals),
        )?;
        self.write(
            slot,
            RegionKind::Tables,
            0,
            bytemuck::cast_slice(&template.tables),
        )?;
        if self.slots.len() <= slot as usize {
            self.slots.resize(slot as usize + 1, Slot::default());
            self.results.resize(slot as usize + 1, Vec::new());
        }
        self.slots[slot as usize] = Slot::default();
        Ok(())
    }

    /// Spawns an agent whose memory holds `memory` at `offset` before its call starts.
    pub fn spawn_with_memory(
        &mut self,
        export: &str,
        args: &[Value],
        offset: u64,
        memory: &[u8],
    ) -> Result<AgentId, SpawnError> {
        let func = self.resolve_call(export, args)?;
        let module = self.module.as_ref().ok_or(SpawnError::NoModule)?;
        if let Some(trap) = module.template.trap {
            return Err(SpawnError::Instantiation(trap));
        }
        let size = u64::from(module.template.memory_pages) * swarm_core::WASM_PAGE_BYTES;
        if offset + memory.len() as u64 > size {
            return Err(SpawnError::MemoryOutOfRange {
                offset,
                len: memory.len() as u64,
                size,
            });
        }
        let id = self.pool.spawn()?;
        let slot = id.slot();
        if let Err(err) = self.instantiate(slot, func, args, offset, memory) {
            let _ = self.pool.kill(id);
            return Err(err);
        }
        Ok(id)
    }

    fn instantiate(
        &mut self,
        slot: u32,
        func: u32,
        args: &[Value],
        offset: u64,
        memory: &[u8],
    ) -> Result<(), SpawnError> {
        self.ensure_chunk(slot)?;
        self.write_template(slot)?;
        if !memory.is_empty() {
            self.write_memory_bytes(slot, offset, memory)?;
        }
        let module = self.module.as_ref().expect("checked by the caller");
        let memory_pages = module.template.memory_pages;
        let start = module.program.start;
        let status = AgentStatus {
            memory_pages,
            ..Default::default()
        };
        match start {
            Some(start) => {
                self.slots[slot as usize].pending = Some((func, args.to_vec()));
                self.begin_call(slot, start, &[], status)?;
            }
            None => self.begin_call(slot, func, args, status)?,
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
            output_len: previous.output_len,
            ..Default::default()
        };
        let words: Vec<u64> = args.iter().map(|v| v.to_bits()).collect();
        self.write(
            slot,
            RegionKind::ValueStack,
            0,
            bytemuck::cast_slice(&words),
        )?;
        self.write(slot, RegionKind::Status, 0, bytemuck::bytes_of(&status))?;
        let entry = &mut self.slots[slot as usize];
        entry.func = func;
        entry.fuel_base = fuel_used(&status);
        entry.status = status;
        Ok(())
    }

    /// Gives a finished or trapped agent a new call; its memory, globals and tables persist.
    pub fn call(&mut self, id: AgentId, export: &str, args: &[Value]) -> Result<(), SpawnError> {
        let slot = self.pool.slot(id)?;
        let func = self.resolve_call(export, args)?;
        let previous = self.slots[slot as usize].status;
        match AgentState::from_code(previous.state) {
            Some(AgentState::Finished | AgentState::Trapped) => {}
            _ => return Err(SpawnError::Busy(id)),
        }
        self.begin_call(slot, func, args, previous)?;
        Ok(())
    }

    /// Kills an agent: its slot is wiped and its id goes stale.
    pub fn kill(&mut self, id: AgentId) -> Result<(), AccessError> {
        let slot = self.pool.kill(id)?;
        let ranges: Vec<_> = [
            RegionKind::LinearMemory,
            RegionKind::Globals,
            RegionKind::Tables,
            RegionKind::Status,
            RegionKind::Output,
        ]
        .into_iter()
        .map(|kind| self.buffer(slot, kind))
        .collect();
        self.gpu.clear_ranges(&ranges)?;
        self.slots[slot as usize] = Slot::default();
        Ok(())
    }

    /// Runs every runnable agent once (one GPU submission), then harvests every live agent.
    /// Agents whose start function just finished begin their call in a further submission.
    pub fn dispatch(&mut self) -> Result<DispatchReport, DispatchError> {
        let mut gpu_time: Option<Duration> = None;
        let mut wall_time = Duration::ZERO;
        loop {
            let (timing, restarted) = self.dispatch_once()?;
            wall_time += timing.wall;
            if let Some(t) = timing.gpu {
                gpu_time = Some(gpu_time.unwrap_or_default() + t);
            }
            if !restarted {
                break;
            }
        }
        Ok(DispatchReport {
            agents: self.harvest(),
            gpu_time,
            wall_time,
        })
    }

    /// Dispatches until no agent is runnable (every call finished, trapped or waits on the host).
    pub fn run(&mut self) -> Result<DispatchReport, DispatchError> {
        let mut report = self.dispatch()?;
        while report
            .agents
            .iter()
            .any(|a| a.outcome == Outcome::Suspended)
        {
            let next = self.dispatch()?;
            report.wall_time += next.wall_time;
            report.gpu_time = match (report.gpu_time, next.gpu_time) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            report.agents = next.agents;
        }
        Ok(report)
    }

    fn dispatch_once(&mut self) -> Result<(swarm_gpu::DispatchTiming, bool), DispatchError> {
        let high = self.pool.high_water();
        let fuel_total = self.config.fuel_total.unwrap_or(u64::MAX);
        let mut dispatches = Vec::new();
        let mut reads = Vec::new();
        for chunk in &self.chunks {
            let used = high
                .saturating_sub(chunk.layout.first_slot)
                .min(chunk.layout.agents);
            if used == 0 {
                continue;
            }
            let limits = self.gpu.limits();
            let grid = DispatchGrid::for_agents(
                used,
                WORKGROUP_SIZE,
                limits.max_compute_workgroups_per_dimension,
            )
            .expect("a chunk's agents fit a two-dimensional grid");
            let params = DispatchParams {
                agent_count: used,
                groups_x: grid.x,
                first_slot: chunk.layout.first_slot,
                swarm_agents: self.pool.len(),
                fuel_slice_lo: self.config.fuel_per_dispatch as u32,
                fuel_slice_hi: (self.config.fuel_per_dispatch >> 32) as u32,
                fuel_total_lo: fuel_total as u32,
                fuel_total_hi: (fuel_total >> 32) as u32,
            };
            self.gpu
                .write_buffer(&chunk.params, 0, bytemuck::bytes_of(&params))?;
            if let Some(bindings) = &chunk.bindings {
                dispatches.push(Dispatch {
                    kernel: &self.kernel,
                    bindings,
                    grid,
                });
            }
            reads.push(ReadRequest {
                buffer: &chunk.status,
                offset: 0,
                size: u64::from(used) * self.layout.buffer(BufferKind::Status).stride,
            });
        }
        let (timing, data) = self.gpu.dispatch(&dispatches, &reads)?;
        let stride = self.layout.buffer(BufferKind::Status).stride as usize;
        let mut restarted = false;
        let mut slot = 0_u32;
        for bytes in data {
            for record in bytes.chunks(stride) {
                let status: AgentStatus =
                    bytemuck::pod_read_unaligned(&record[..AgentStatus::SIZE]);
                if self.pool.agent_in(slot).is_some() {
                    let results_offset = self.layout.region(RegionKind::Results).offset as usize;
                    let count =
                        (status.result_count as usize).min(self.config.max_results as usize);
                    let entry = &mut self.slots[slot as usize];
                    entry.status = status;
                    let finished = status.state == AgentState::Finished as u32;
                    if finished && let Some((func, args)) = entry.pending.take() {
                        self.begin_call(slot, func, &args, status)?;
                        restarted = true;
                    } else {
                        self.results_cache_store(
                            slot,
                            &record[results_offset..results_offset + 8 * count],
                        );
                    }
                }
                slot += 1;
            }
        }
        Ok((timing, restarted))
    }

    fn results_cache_store(&mut self, slot: u32, bytes: &[u8]) {
        let entry = &mut self.results[slot as usize];
        entry.clear();
        entry.extend(
            bytes
                .chunks(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))),
        );
    }

    fn harvest(&self) -> Vec<AgentReport> {
        let module = self.module.as_ref();
        self.pool
            .live()
            .map(|id| {
                let entry = &self.slots[id.slot() as usize];
                let status = entry.status;
                let outcome = match AgentState::from_code(status.state) {
                    Some(AgentState::Finished) => {
                        // An instance-only agent has made no call and has no results.
                        let types = module
                            .and_then(|m| m.program.funcs.get(entry.func as usize))
                            .map(|f| f.ty.results.clone())
                            .unwrap_or_default();
                        Outcome::Finished(
                            types
                                .iter()
                                .zip(&self.results[id.slot() as usize])
                                .map(|(ty, bits)| Value::from_bits(*ty, *bits))
                                .collect(),
                        )
                    }
                    Some(AgentState::Trapped) => Outcome::Trapped(
                        TrapCode::from_code(status.trap).unwrap_or(TrapCode::Unreachable),
                    ),
                    Some(AgentState::HostCall) => Outcome::HostCall,
                    _ => Outcome::Suspended,
                };
                AgentReport {
                    id,
                    outcome,
                    instructions: fuel_used(&status) - entry.fuel_base,
                    output_len: status.output_len,
                }
            })
            .collect()
    }

    /// Reads `len` bytes of an agent's linear memory at `offset`.
    pub fn read_memory(&self, id: AgentId, offset: u64, len: u64) -> Result<Vec<u8>, AccessError> {
        let slot = self.pool.slot(id)?;
        let size = self.memory_size(slot);
        if offset + len > size {
            return Err(AccessError::OutOfBounds { offset, len, size });
        }
        let (buffer, range) = self.buffer(slot, RegionKind::LinearMemory);
        let start = (range.start + offset) & !3;
        let end = (range.start + offset + len).next_multiple_of(4);
        let data = self.gpu.read_buffers(&[ReadRequest {
            buffer,
            offset: start,
            size: end - start,
        }])?;
        let skip = (range.start + offset - start) as usize;
        Ok(data[0][skip..skip + len as usize].to_vec())
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
        self.write_memory_bytes(slot, offset, bytes)?;
        Ok(())
    }

    fn write_memory_bytes(
        &self,
        slot: u32,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), swarm_gpu::GpuError> {
        let (buffer, range) = self.buffer(slot, RegionKind::LinearMemory);
        if offset.is_multiple_of(4) && bytes.len().is_multiple_of(4) {
            return self.gpu.write_buffer(buffer, range.start + offset, bytes);
        }
        // Unaligned edges: read the covering words, patch them, write them back.
        let start = (range.start + offset) & !3;
        let end = (range.start + offset + bytes.len() as u64).next_multiple_of(4);
        let mut words = self.gpu.read_buffers(&[ReadRequest {
            buffer,
            offset: start,
            size: end - start,
        }])?;
        let skip = (range.start + offset - start) as usize;
        words[0][skip..skip + bytes.len()].copy_from_slice(bytes);
        self.gpu.write_buffer(buffer, start, &words[0])
    }

    fn memory_size(&self, slot: u32) -> u64 {
        u64::from(self.slots[slot as usize].status.memory_pages) * swarm_core::WASM_PAGE_BYTES
    }

    /// The current value of an exported global of an agent.
    pub fn global(&self, id: AgentId, name: &str) -> Result<Value, AccessError> {
        let slot = self.pool.slot(id)?;
        let module = self
            .module
            .as_ref()
            .ok_or_else(|| AccessError::UnknownGlobal(name.to_owned()))?;
        let Some(swarm_shader::program::Export::Global(index)) = module.program.exports.get(name)
        else {
            return Err(AccessError::UnknownGlobal(name.to_owned()));
        };
        let (buffer, range) = self.buffer(slot, RegionKind::Globals);
        let data = self.gpu.read_buffers(&[ReadRequest {
            buffer,
            offset: range.start + 8 * u64::from(*index),
            size: 8,
        }])?;
        let bits = u64::from_le_bytes(data[0][..8].try_into().expect("8 bytes"));
        Ok(Value::from_bits(
            module.program.globals[*index as usize].ty,
            bits,
        ))
    }

    /// Reads an agent's output bytes.
    pub fn output(&self, id: AgentId) -> Result<Vec<u8>, AccessError> {
        let slot = self.pool.slot(id)?;
        let len = u64::from(self.slots[slot as usize].status.output_len);
        if len == 0 {
            return Ok(Vec::new());
        }
        let (buffer, range) = self.buffer(slot, RegionKind::Output);
        let data = self.gpu.read_buffers(&[ReadRequest {
            buffer,
            offset: range.start,
            size: len.next_multiple_of(4),
        }])?;
        Ok(data[0][..len as usize].to_vec())
    }
}

fn fuel_used(status: &AgentStatus) -> u64 {
    u64::from(status.fuel_used_lo) | (u64::from(status.fuel_used_hi) << 32)
}
