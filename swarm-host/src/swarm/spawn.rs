//! Starting calls: spawning agents (the spawn records the `spawn_memory` and `spawn` kernels
//! read) and giving a finished agent a new call.

use swarm_core::{
    AgentId, AgentState, AgentStatus, ArgRule, DispatchParams, GpuStruct, RegionKind, SpawnHeader,
    SpawnRecord,
};
use swarm_shader::SPAWN_PIECE_WORDS;
use swarm_shader::program::ValType;

use crate::instance::matches;
use crate::{SpawnError, Value};

use super::{Module, PendingSpawn, Slot, Swarm, fuel_extra, fuel_used};

/// How each agent of one spawn gets its arguments: a rule per parameter (computed on the GPU
/// from the agent's index in the spawn, or uploaded), and the uploaded words, agent by agent.
pub(super) struct SpawnArgs {
    pub(super) rules: Vec<ArgRule>,
    /// Uploaded parameters per agent.
    pub(super) columns: u32,
    /// Two words per uploaded parameter and agent, agent after agent.
    pub(super) words: Vec<u32>,
}

impl SpawnArgs {
    /// No arguments.
    pub(super) fn none() -> Self {
        Self {
            rules: Vec::new(),
            columns: 0,
            words: Vec::new(),
        }
    }

    /// Every parameter uploaded: `bits` holds `argc` slots per agent, agent after agent.
    pub(super) fn uploaded(argc: usize, bits: &[u64]) -> Self {
        Self {
            rules: (0..argc as u32).map(ArgRule::column).collect(),
            columns: argc as u32,
            words: bits
                .iter()
                .flat_map(|b| [*b as u32, (*b >> 32) as u32])
                .collect(),
        }
    }

    /// Agent `index`'s argument bits, as the spawn kernel computes them.
    pub(super) fn bits(&self, index: u32) -> impl Iterator<Item = u64> + '_ {
        self.rules.iter().map(move |rule| {
            rule.bits(index, |column| {
                let at = 2 * (index as usize * self.columns as usize + column as usize);
                u64::from(self.words[at]) | (u64::from(self.words[at + 1]) << 32)
            })
        })
    }
}

impl Swarm {
    pub(super) fn module(&self) -> Result<&Module, SpawnError> {
        self.module.as_ref().ok_or(SpawnError::NoModule)
    }

    pub(super) fn resolve_call(&self, export: &str, args: &[Value]) -> Result<u32, SpawnError> {
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
        let mut bits: Vec<u64> = Vec::new();
        let mut count = 0_u32;
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
        self.spawn_calls(func, count, &SpawnArgs::uploaded(params.len(), &bits))
    }

    /// Spawns `count` agents that call `func` with `args`. With a start function, it runs
    /// first and each agent's call waits in `pending_calls` until it has finished.
    pub(super) fn spawn_calls(
        &mut self,
        func: u32,
        count: u32,
        args: &SpawnArgs,
    ) -> Result<Vec<AgentId>, SpawnError> {
        let module = self.module()?;
        let instantiates = module.template.trap.is_none();
        match module.start {
            // The start function runs first; the call follows once it has finished.
            Some(start) if instantiates => {
                let params = module.program.funcs[func as usize].ty.params.clone();
                let ids = self.launch(count, start, &SpawnArgs::none())?;
                for (index, id) in ids.iter().enumerate() {
                    let call = args
                        .bits(index as u32)
                        .zip(&params)
                        .map(|(b, t)| Value::from_bits(*t, b))
                        .collect();
                    self.pending_calls.insert(self.local(*id), (func, call));
                }
                Ok(ids)
            }
            // Without a start function, or when instantiation traps (the agents start trapped).
            _ => self.launch(count, func, args),
        }
    }

    /// Spawns an agent that only instantiates the module: it runs the start function, if there
    /// is one, in the next dispatch, then waits (finished) for a [`call`](Self::call).
    pub fn spawn_instance(&mut self) -> Result<AgentId, SpawnError> {
        let entry = self.module()?.start.unwrap_or(SpawnRecord::NO_ENTRY);
        let ids = self.launch(1, entry, &SpawnArgs::none())?;
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
        self.write_memory_region(self.local(id), offset, memory)?;
        Ok(id)
    }

    /// Takes `count` slots and records the spawn dispatches that start each with a call of
    /// `entry` (or none, for `NO_ENTRY`) with `args`. The ids come in slot order: the `index`
    /// of `args` is the position in it.
    pub(super) fn launch(
        &mut self,
        count: u32,
        entry: u32,
        args: &SpawnArgs,
    ) -> Result<Vec<AgentId>, SpawnError> {
        // `spawn_many` hands out slots in ascending order.
        let ids = if count == 1 {
            // One agent into a full pool is "full", not "not enough slots".
            vec![self.pool.spawn()?]
        } else {
            self.pool.spawn_many(u64::from(count))?
        };
        let result = self.record_spawns(&ids, entry, args);
        if let Err(err) = result {
            for id in &ids {
                let _ = self.pool.kill(*id);
            }
            return Err(err.into());
        }
        Ok(ids)
    }

    pub(super) fn record_spawns(
        &mut self,
        ids: &[AgentId],
        entry: u32,
        args: &SpawnArgs,
    ) -> Result<(), swarm_gpu::GpuError> {
        let Some(last) = ids.last() else {
            return Ok(());
        };
        let (first, last) = (self.local(ids[0]), self.local(*last));
        self.ensure_chunk(last)?;
        self.ensure_slot(last);
        // A chunk's spawn parameters describe one dispatch per submission: submit an earlier
        // spawn into the same chunks first.
        let chunks = self.layout.locate(first).chunk..=self.layout.locate(last).chunk;
        if self
            .pending_spawns
            .iter()
            .any(|p| chunks.contains(&(p.chunk as u32)))
        {
            self.flush()?;
        }
        // The work list: the header, the argument rules, the records, the uploaded arguments.
        let header_words = SpawnHeader::SIZE / 4;
        let rules_words = args.rules.len() * ArgRule::SIZE / 4;
        let record_words = SpawnRecord::SIZE / 4;
        let total = header_words + rules_words + ids.len() * record_words + args.words.len();
        let base = self.reserve_list(total as u64)?;
        let module = self.module.as_ref().expect("checked by the caller");
        let mut header = SpawnHeader {
            entry,
            argc: args.rules.len() as u32,
            rules_offset: base + header_words as u32,
            columns: args.columns,
            args_offset: base + (header_words + rules_words + ids.len() * record_words) as u32,
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
                    self.local(*id),
                    RegionKind::Globals,
                    0,
                    bytemuck::cast_slice(&template.globals),
                )?;
                self.write(
                    self.local(*id),
                    RegionKind::Tables,
                    0,
                    bytemuck::cast_slice(&template.tables),
                )?;
            }
        }
        let memory_words = header.memory_words;
        // The host's copy of what the spawn kernel writes: the same for every agent.
        let started = AgentStatus {
            memory_pages: header.memory_pages,
            memory_touched: memory_words,
            fuel_used_lo: header.fuel,
            fuel_extra_lo: header.fuel,
            stream1_room: header.stream_room,
            stream2_room: header.stream_room,
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
                sp: header.argc,
                ..started
            }
        };
        // A call's fuel does not count the instantiation's.
        let fresh = Slot {
            func: entry,
            fuel_base: u64::from(header.fuel),
            extra_base: u64::from(header.fuel),
            compiled_base: 0,
            status,
            touched: memory_words,
        };

        let mut words: Vec<u32> = Vec::with_capacity(total);
        words.extend_from_slice(bytemuck::cast_slice(bytemuck::bytes_of(&header)));
        for rule in &args.rules {
            words.extend_from_slice(bytemuck::cast_slice(bytemuck::bytes_of(rule)));
        }
        // The records, and the host's copies of the new agents, on several threads when there
        // are many: each piece fills its own run of records and slots, and says what the
        // spawn dispatch of each chunk it touches needs.
        let records_at = words.len();
        words.resize(records_at + ids.len() * record_words, 0);
        let threads = super::parallel::parts(ids.len());
        let per = ids.len().div_ceil(threads).max(1);
        let layout = &self.layout;
        let slot_base = self.pool.base();
        let mut slots_rest: &mut [Slot] = &mut self.slots;
        let mut at = 0;
        let mut pieces = Vec::new();
        for (n, (ids, words)) in ids
            .chunks(per)
            .zip(words[records_at..].chunks_mut(per * record_words))
            .enumerate()
        {
            let lo = (ids[0].slot() - slot_base) as usize;
            let hi = (ids[ids.len() - 1].slot() - slot_base) as usize + 1;
            let (_, tail) = std::mem::take(&mut slots_rest).split_at_mut(lo - at);
            let (slots, tail) = tail.split_at_mut(hi - lo);
            slots_rest = tail;
            at = hi;
            pieces.push((n * per, ids, words, slots, lo));
        }
        let fill = |(first, ids, words, slots, lo): (
            usize,
            &[AgentId],
            &mut [u32],
            &mut [Slot],
            usize,
        )| {
            let mut spawns: Vec<PendingSpawn> = Vec::new();
            for (k, (id, record)) in ids
                .iter()
                .zip(words.chunks_exact_mut(record_words))
                .enumerate()
            {
                let index = first + k;
                let slot = id.slot() - slot_base;
                let location = layout.locate(slot);
                let entry = &mut slots[slot as usize - lo];
                // The words of the slot the previous tenant left, beyond the starting memory.
                let wipe = entry.touched;
                let pieces = memory_words.max(wipe).div_ceil(SPAWN_PIECE_WORDS);
                match spawns.last_mut() {
                    Some(spawn) if spawn.chunk == location.chunk as usize => {
                        spawn.count += 1;
                        spawn.pieces = spawn.pieces.max(pieces);
                    }
                    _ => spawns.push(PendingSpawn {
                        chunk: location.chunk as usize,
                        count: 1,
                        list_offset: base + (records_at + index * record_words) as u32,
                        pieces,
                    }),
                }
                let words = SpawnRecord {
                    local: location.local,
                    index: index as u32,
                    wipe,
                };
                record.copy_from_slice(bytemuck::cast_slice(bytemuck::bytes_of(&words)));
                *entry = fresh;
            }
            spawns
        };
        let filled = super::parallel::map(pieces, fill);
        // A chunk's agents may span pieces: their records are contiguous, one dispatch.
        let mut spawns: Vec<PendingSpawn> = Vec::new();
        for spawn in filled.into_iter().flatten() {
            match spawns.last_mut() {
                Some(last) if last.chunk == spawn.chunk => {
                    last.count += spawn.count;
                    last.pieces = last.pieces.max(spawn.pieces);
                }
                _ => spawns.push(spawn),
            }
        }
        words.extend_from_slice(&args.words);
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
                first_slot: self.pool.base() + self.chunks[spawn.chunk].layout.first_slot,
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
    pub(super) fn begin_call(
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
            stream1_room: previous.stream1_room,
            stream2_room: previous.stream2_room,
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
        entry.compiled_base = super::compiled(&status);
        entry.status = status;
        Ok(())
    }

    /// Gives a finished, trapped or exited agent a new call; its memory, globals and tables
    /// persist.
    pub fn call(&mut self, id: AgentId, export: &str, args: &[Value]) -> Result<(), SpawnError> {
        self.pool.slot(id)?;
        let func = self.resolve_call(export, args)?;
        self.call_func(id, func, args)
    }

    /// Like [`call`](Self::call), for the function at store index `func`: in a
    /// [`Store`](swarm_shader::Store), the functions of every instance.
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
        if !AgentState::from_code(previous.state).is_some_and(AgentState::is_done) {
            return Err(SpawnError::Busy(id));
        }
        self.flush()?;
        self.begin_call(slot, func, args, previous)?;
        Ok(())
    }
}
