//! Running agents: dispatches over the chunks, the status readback and per-agent reports, and
//! the answers to host calls.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use swarm_core::{
    AgentId, AgentState, AgentStatus, BufferKind, DispatchParams, GpuStruct, RegionKind, SlotPool,
    TrapCode, plan_all, plan_selection,
};
use swarm_gpu::{Dispatch, ReadRequest};

use crate::HostMemory;
use crate::host::{HostCall, HostResult, HostStop};
use crate::stack::StackWindow;
use crate::swarm::host_memory::StreamEffects;
use crate::{DispatchError, Value};

use super::{
    AgentReport, Call, DispatchPhases, DispatchReport, Outcome, Slot, Swarm, fuel_extra, fuel_used,
};

impl Swarm {
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

    /// Dispatches until no agent is runnable: every call finished, trapped or exited.
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
    pub(super) fn dispatch_selection(
        &mut self,
        slots: Option<Vec<u32>>,
    ) -> Result<DispatchReport, DispatchError> {
        let wall = Instant::now();
        let step = self.step(slots.as_deref())?;
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
            gpu_time: step.gpu_time,
            host_time: step.host_time,
            wall_time: wall.elapsed(),
        })
    }

    /// One dispatch of `slots` (sorted, distinct, live; `None` for every live agent): the
    /// host calls they wait on are answered, then they run, and their records are read back
    /// into the host's copies. Agents whose start function finished begin their call in a
    /// further submission.
    pub(super) fn step(&mut self, slots: Option<&[u32]>) -> Result<Step, DispatchError> {
        let waits =
            |slot: &u32| self.slots[*slot as usize].status.state == AgentState::HostCall as u32;
        // Only a module that imports functions has agents waiting on host calls.
        let imports = self.module.as_ref().is_some_and(|m| m.imports_funcs);
        let waiting: Vec<u32> = match slots {
            _ if !imports => Vec::new(),
            Some(slots) => slots.iter().copied().filter(waits).collect(),
            None => self
                .pool
                .live()
                .map(|id| self.local(id))
                .filter(waits)
                .collect(),
        };
        let host_time = if waiting.is_empty() {
            Duration::ZERO
        } else {
            let started = Instant::now();
            self.answer_host_calls(&waiting)?;
            started.elapsed()
        };
        let mut gpu_time: Option<Duration> = None;
        let mut phases = DispatchPhases::default();
        loop {
            let once = self.dispatch_once(slots)?;
            if let Some(t) = once.gpu {
                gpu_time = Some(gpu_time.unwrap_or_default() + t);
            }
            phases += once.phases;
            if !once.restarted {
                return Ok(Step {
                    gpu_time,
                    host_time,
                    running: once.running,
                    phases,
                });
            }
        }
    }

    /// One submission: pending spawns, then the run over each chunk (every agent below the
    /// high-water mark, or the selection), then the readback of the status records run,
    /// decoded into the host's copies as they lie mapped.
    pub(super) fn dispatch_once(&mut self, slots: Option<&[u32]>) -> Result<Once, DispatchError> {
        let started = Instant::now();
        self.poll_tier()?;
        // Per chunk: how many invocations, the work-list offset of a selection, and the range
        // of local indices to read back (`swarm_core::plan`).
        let runs = match slots {
            None => plan_all(
                &self.layout,
                self.chunks.len() as u32,
                self.pool.high_water(),
            ),
            Some(slots) => plan_selection(&self.layout, slots),
        };
        let mut plans: Vec<(usize, u32, Option<u32>, std::ops::Range<u32>)> = Vec::new();
        for run in runs {
            let list = match &run.list {
                Some(locals) => {
                    let offset = self.reserve_list(locals.len() as u64)?;
                    self.gpu.write_buffer(
                        &self.list,
                        u64::from(offset) * 4,
                        bytemuck::cast_slice(locals),
                    )?;
                    Some(offset)
                }
                None => None,
            };
            plans.push((run.chunk as usize, run.invocations, list, run.readback));
        }
        let fuel_total = self.config.fuel_total.unwrap_or(u64::MAX);
        let stride = self.layout.buffer(BufferKind::Status).stride;
        for (index, count, list, _) in &plans {
            let chunk = &self.chunks[*index];
            let params = DispatchParams {
                agent_count: *count,
                groups_x: self.grid(*count).x,
                // Ids, and `swarm.agent_id`, count from the pool's base.
                first_slot: self.pool.base() + chunk.layout.first_slot,
                swarm_agents: self.pool.len() + self.agents_elsewhere,
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
        // The records are decoded while mapped, into the host's copies, moved out of `self`
        // meanwhile (the dispatches borrow it).
        let mut decode = Decode {
            slots: std::mem::take(&mut self.slots),
            results: std::mem::take(&mut self.results),
            pending: std::mem::take(&mut self.pending_calls),
            max_results: self.config.max_results as usize,
            results_offset: self.layout.region(RegionKind::Results).offset as usize,
            stride: stride as usize,
            restarts: Vec::new(),
            tally: Tally::default(),
        };
        let [pieces, spawns] = self.spawn_dispatches();
        let mut runs = Vec::new();
        let mut reads = Vec::new();
        for (index, count, _, range) in &plans {
            let chunk = &self.chunks[*index];
            if let Some((bindings, _)) = &chunk.bindings {
                runs.push(Dispatch {
                    kernel: self.run_kernel(),
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
        let pool = &self.pool;
        let firsts: Vec<u32> = plans
            .iter()
            .map(|(index, ..)| self.chunks[*index].layout.first_slot)
            .collect();
        let prepare = started.elapsed();
        // The runs are a stage of their own: the chunks' runs may overlap on the GPU.
        let timing = self
            .gpu
            .dispatch(&[&pieces, &spawns, &runs], &reads, |bytes| {
                let runs: Vec<(u32, &[u8])> = bytes
                    .iter()
                    .enumerate()
                    .map(|(read, bytes)| (firsts[read] + plans[read].3.start, *bytes))
                    .collect();
                decode.records(pool, slots, &runs);
            });
        drop((pieces, spawns, runs));
        drop(reads);
        let Decode {
            slots: decoded,
            results,
            pending,
            restarts,
            tally,
            ..
        } = decode;
        self.slots = decoded;
        self.results = results;
        self.pending_calls = pending;
        let timing = timing?;
        self.note_busy(timing.gpu.unwrap_or(timing.wait), tally.fuel);
        self.pending_spawns.clear();
        self.list_used = 0;
        let restarted = !restarts.is_empty();
        for (slot, (func, args)) in restarts {
            let status = self.slots[slot as usize].status;
            self.begin_call(slot, func, &args, status)?;
        }
        Ok(Once {
            gpu: timing.gpu,
            restarted,
            running: tally.running,
            phases: DispatchPhases {
                prepare,
                submit: timing.submit,
                wait: timing.wait,
                decode: timing.visit,
                harvest: Duration::ZERO,
            },
        })
    }

    /// Answers the host calls `slots` wait on: one batched call per import, then the results
    /// go onto each agent's stack (or into its results, for an entry call) and it resumes.
    pub(super) fn answer_host_calls(&mut self, slots: &[u32]) -> Result<(), DispatchError> {
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
        // What host functions wrote into their callers' memories, in order, and did to their
        // stream records and rooms.
        let mut writes = Vec::new();
        let mut streams = StreamEffects::default();
        for (func, (slots, requests)) in by_func {
            let results = match module.host.get(&func) {
                Some((name, host)) => {
                    let mut memory = HostMemory::new(self, &requests);
                    let results = host.call(&requests, &mut memory).map_err(|why| {
                        DispatchError::HostFunction {
                            name: name.clone(),
                            why,
                        }
                    })?;
                    let (written, effects) = memory.into_effects();
                    writes.extend(written);
                    streams.taken.extend(effects.taken);
                    streams.rooms.extend(effects.rooms);
                    results
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
        self.write_memory_regions(&writes)?;
        for (slot, func, answer) in answers {
            let params = self.module.as_ref().expect("loaded").program.funcs[func as usize]
                .ty
                .params
                .len() as u32;
            let mut status = self.slots[slot as usize].status;
            if streams.taken.contains(&slot) {
                status.output_len = 0;
            }
            if let Some([one, two]) = streams.rooms.get(&slot) {
                (status.stream1_room, status.stream2_room) = (*one, *two);
            }
            let mut results = Vec::new();
            match answer {
                Err(HostStop::Trap(trap)) => {
                    status.state = AgentState::Trapped as u32;
                    status.trap = trap.code();
                }
                Err(HostStop::Exit(code)) => {
                    status.state = AgentState::Exited as u32;
                    status.trap = code as u32;
                    status.result_count = 0;
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
            if matches!(
                AgentState::from_code(status.state),
                Some(AgentState::Trapped | AgentState::Exited)
            ) {
                // A start function that ended here: its agent's call never runs.
                self.pending_calls.remove(&slot);
            }
            status.host_call = 0;
            let max = self.config.max_results as usize;
            results.truncate(max);
            status.result_count = status.result_count.min(max as u32);
            let mut record = bytemuck::bytes_of(&status).to_vec();
            if !results.is_empty() {
                let offset = self.layout.region(RegionKind::Results).offset as usize;
                record.resize(offset, 0);
                record.extend_from_slice(bytemuck::cast_slice(&results));
            }
            self.write(slot, RegionKind::Status, 0, &record)?;
            self.slots[slot as usize].status = status;
            let first = slot as usize * max;
            self.results[first..first + results.len()].copy_from_slice(&results);
        }
        for window in &windows {
            let state = &self.chunks[window.chunk].state;
            for (offset, row) in window.changed(&self.layout) {
                self.gpu.write_buffer(state, offset, row)?;
            }
        }
        Ok(())
    }

    pub(super) fn report(&self, id: AgentId) -> AgentReport {
        let slot = self.local(id);
        let entry = &self.slots[slot as usize];
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
                        .zip(self.results_of(slot))
                        .map(|(ty, bits)| Value::from_bits(*ty, *bits))
                        .collect(),
                )
            }
            Some(AgentState::Trapped) => {
                Outcome::Trapped(TrapCode::from_code(status.trap).unwrap_or(TrapCode::Unreachable))
            }
            Some(AgentState::Exited) => Outcome::Exited(status.trap as i32),
            Some(AgentState::HostCall) => Outcome::HostCall,
            _ => Outcome::Suspended,
        };
        AgentReport {
            id,
            outcome,
            instructions: (fuel_used(&status) - entry.fuel_base)
                - (fuel_extra(&status) - entry.extra_base),
            fuel: fuel_used(&status) - entry.fuel_base,
            compiled: super::compiled(&status) - entry.compiled_base,
            output_len: status.output_len,
        }
    }
}

/// What one dispatch of a selection did.
pub(super) struct Step {
    pub(super) gpu_time: Option<Duration>,
    pub(super) host_time: Duration,
    /// Agents of the selection with work left: suspended, or waiting on a host call.
    pub(super) running: usize,
    pub(super) phases: DispatchPhases,
}

/// What one submission did.
pub(super) struct Once {
    gpu: Option<Duration>,
    /// Whether agents whose start function finished have begun their call.
    restarted: bool,
    running: usize,
    phases: DispatchPhases,
}

/// Decodes read-back status records into the host's per-slot copies.
struct Decode {
    slots: Vec<Slot>,
    results: Vec<u64>,
    pending: HashMap<u32, Call>,
    max_results: usize,
    results_offset: usize,
    stride: usize,
    /// Agents whose start function finished, with the call they make next.
    restarts: Vec<(u32, Call)>,
    tally: Tally,
}

/// What the decoded records add up to.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    /// Agents with work left: suspended, or waiting on a host call.
    running: usize,
    /// Fuel the agents consumed in the dispatch.
    fuel: u64,
}

impl std::ops::Add for Tally {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            running: self.running + other.running,
            fuel: self.fuel + other.fuel,
        }
    }
}

impl Decode {
    /// The records of `runs`, each the slots from its first on with one stride of bytes each,
    /// in ascending slot order; those of dead slots, and of slots outside `selection` (sorted)
    /// when there is one, are skipped. Many records are decoded on several threads, each into
    /// its own run of slots.
    fn records(&mut self, pool: &SlotPool, selection: Option<&[u32]>, runs: &[(u32, &[u8])]) {
        let part = RecordPart {
            pool,
            selection,
            stride: self.stride,
            max_results: self.max_results,
            results_offset: self.results_offset,
        };
        // Slots past the host's copies were never spawned.
        let known = self.slots.len();
        let runs: Vec<(usize, &[u8])> = runs
            .iter()
            .map(|&(first, bytes)| {
                let first = first as usize;
                let count = (bytes.len() / self.stride).min(known.saturating_sub(first));
                (first, &bytes[..count * self.stride])
            })
            .collect();
        let total: usize = runs.iter().map(|(_, b)| b.len() / self.stride).sum();
        let threads = super::parallel::parts(total);
        let sorted = runs
            .windows(2)
            .all(|w| w[0].0 + w[0].1.len() / self.stride <= w[1].0);
        if threads <= 1 || !self.pending.is_empty() || !sorted {
            for (first, bytes) in runs {
                let count = bytes.len() / self.stride;
                let slots = &mut self.slots[first..first + count];
                let results =
                    &mut self.results[first * self.max_results..(first + count) * self.max_results];
                let pending =
                    (!self.pending.is_empty()).then_some((&mut self.pending, &mut self.restarts));
                self.tally = self.tally + part.decode(first as u32, bytes, slots, results, pending);
            }
            return;
        }
        // Disjoint pieces of at most `per` records, with the slots and results they fill.
        let per = total.div_ceil(threads);
        let mut pieces = Vec::new();
        let mut slots_rest: &mut [Slot] = &mut self.slots;
        let mut results_rest: &mut [u64] = &mut self.results;
        let mut at = 0;
        for (first, bytes) in runs {
            let count = bytes.len() / self.stride;
            let (_, slots) = std::mem::take(&mut slots_rest).split_at_mut(first - at);
            let (mut slots, tail) = slots.split_at_mut(count);
            slots_rest = tail;
            let (_, results) =
                std::mem::take(&mut results_rest).split_at_mut((first - at) * self.max_results);
            let (mut results, tail) = results.split_at_mut(count * self.max_results);
            results_rest = tail;
            at = first + count;
            let mut bytes = bytes;
            let mut first = first;
            while !slots.is_empty() {
                let n = per.min(slots.len());
                let (these, rest) = std::mem::take(&mut slots).split_at_mut(n);
                slots = rest;
                let (these_results, rest) =
                    std::mem::take(&mut results).split_at_mut(n * self.max_results);
                results = rest;
                let (these_bytes, rest) = bytes.split_at(n * self.stride);
                bytes = rest;
                pieces.push((first as u32, these_bytes, these, these_results));
                first += n;
            }
        }
        let tallies = super::parallel::map(pieces, |(first, bytes, slots, results)| {
            part.decode(first, bytes, slots, results, None)
        });
        self.tally = tallies.into_iter().fold(self.tally, |a, b| a + b);
    }
}

/// The calls waiting for a start function by slot, and the agents whose start function
/// finished with the call they make next.
type Pending<'a> = (&'a mut HashMap<u32, Call>, &'a mut Vec<(u32, Call)>);

/// What decoding a run of records needs besides the run itself.
struct RecordPart<'a> {
    pool: &'a SlotPool,
    selection: Option<&'a [u32]>,
    stride: usize,
    max_results: usize,
    results_offset: usize,
}

impl RecordPart<'_> {
    /// Decodes the records in `bytes` of the slots from `first` on into `slots` and `results`
    /// (theirs, from `first` on), returning how many agents have work left and the fuel they
    /// consumed. `pending` (the
    /// calls waiting for a start function, and where their agents go) is given when any is.
    fn decode(
        &self,
        first: u32,
        bytes: &[u8],
        slots: &mut [Slot],
        results: &mut [u64],
        mut pending: Option<Pending<'_>>,
    ) -> Tally {
        // The selection's slots from `first` on, walked beside the records.
        let mut chosen = self
            .selection
            .map(|s| s[s.partition_point(|&x| x < first)..].iter().peekable());
        let mut tally = Tally::default();
        for (index, record) in bytes.chunks_exact(self.stride).enumerate() {
            let slot = first + index as u32;
            if let Some(chosen) = &mut chosen {
                if chosen.next_if_eq(&&slot).is_none() {
                    continue;
                }
            } else if self.pool.agent_in(slot).is_none() {
                continue;
            }
            let status: AgentStatus = bytemuck::pod_read_unaligned(&record[..AgentStatus::SIZE]);
            let entry = &mut slots[index];
            tally.fuel += u64::from(status.fuel_last);
            entry.status = status;
            entry.touched = entry.touched.max(status.memory_touched);
            match AgentState::from_code(status.state) {
                Some(AgentState::Finished) => {
                    let call = pending
                        .as_mut()
                        .and_then(|(pending, _)| pending.remove(&slot));
                    if let Some(call) = call {
                        if let Some((_, restarts)) = pending.as_mut() {
                            restarts.push((slot, call));
                        }
                    } else {
                        let count = (status.result_count as usize).min(self.max_results);
                        let at = index * self.max_results;
                        let bits = &record[self.results_offset..self.results_offset + 8 * count];
                        for (out, bits) in
                            results[at..at + count].iter_mut().zip(bits.chunks_exact(8))
                        {
                            *out = u64::from_le_bytes(bits.try_into().expect("8 bytes"));
                        }
                    }
                }
                Some(AgentState::Suspended | AgentState::HostCall | AgentState::Ready) => {
                    tally.running += 1;
                }
                Some(AgentState::Trapped | AgentState::Exited) => {
                    // A start function that trapped or exited: its agent's call never runs.
                    if let Some((pending, _)) = pending.as_mut() {
                        pending.remove(&slot);
                    }
                }
                _ => {}
            }
        }
        tally
    }
}
