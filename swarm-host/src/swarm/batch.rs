//! Batches: many agents of one export spawned with one upload, their arguments computed on
//! the GPU from each agent's index or uploaded as columns, and their outcomes, results and
//! instruction counts harvested as columns, with no allocation per agent.

use std::time::{Duration, Instant};

use swarm_core::{AgentId, AgentState, ArgRule, TrapCode};
use swarm_shader::program::ValType;

use crate::{AccessError, DispatchError, SpawnError, Value};

use super::spawn::SpawnArgs;
use super::{DispatchPhases, Swarm, fuel_extra, fuel_used};

/// How every agent of a batch gets one argument.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// Every agent gets this value.
    Same(Value),
    /// Agent `i` of the batch gets `start + i * step`, wrapping in the parameter's type: for
    /// `i32` and `i64` parameters. Computed on the GPU; nothing is uploaded per agent.
    Index {
        /// Agent 0's value.
        start: i64,
        /// What each further agent adds.
        step: i64,
    },
    /// Agent `i` gets `values[i]`, for an `i32` parameter.
    I32s(&'a [i32]),
    /// Agent `i` gets `values[i]`, for an `i64` parameter.
    I64s(&'a [i64]),
    /// Agent `i` gets `values[i]`, for an `f32` parameter.
    F32s(&'a [f32]),
    /// Agent `i` gets `values[i]`, for an `f64` parameter.
    F64s(&'a [f64]),
    /// Agent `i` gets `values[i]`, for a parameter of any type.
    Values(&'a [Value]),
}

impl<'a> Arg<'a> {
    /// Agent `i` gets `i`: `Index { start: 0, step: 1 }`.
    pub const INDEX: Arg<'static> = Arg::Index { start: 0, step: 1 };

    /// What agents `first..first + count` of a batch get, as a batch of their own: the same
    /// value, the index rule moved on by `first` agents, or their part of the column.
    pub(crate) fn part(&self, first: usize, count: usize) -> Arg<'a> {
        let within = first..first + count;
        match *self {
            Self::Same(v) => Self::Same(v),
            Self::Index { start, step } => Self::Index {
                start: start.wrapping_add((first as i64).wrapping_mul(step)),
                step,
            },
            Self::I32s(v) => Self::I32s(&v[within]),
            Self::I64s(v) => Self::I64s(&v[within]),
            Self::F32s(v) => Self::F32s(&v[within]),
            Self::F64s(v) => Self::F64s(&v[within]),
            Self::Values(v) => Self::Values(&v[within]),
        }
    }

    /// Values in the column; `None` for a computed argument.
    fn column_len(&self) -> Option<usize> {
        match self {
            Self::Same(_) | Self::Index { .. } => None,
            Self::I32s(v) => Some(v.len()),
            Self::I64s(v) => Some(v.len()),
            Self::F32s(v) => Some(v.len()),
            Self::F64s(v) => Some(v.len()),
            Self::Values(v) => Some(v.len()),
        }
    }

    /// Agent `index`'s bits, for a column.
    fn column_bits(&self, index: usize) -> u64 {
        match self {
            Self::Same(v) => v.to_bits(),
            Self::Index { .. } => unreachable!("not a column"),
            Self::I32s(v) => Value::I32(v[index]).to_bits(),
            Self::I64s(v) => Value::I64(v[index]).to_bits(),
            Self::F32s(v) => Value::F32(v[index].to_bits()).to_bits(),
            Self::F64s(v) => Value::F64(v[index].to_bits()).to_bits(),
            Self::Values(v) => v[index].to_bits(),
        }
    }

    /// Why this argument does not fit a parameter of type `ty`, if it does not.
    fn misfit(&self, ty: ValType, count: u32) -> Option<String> {
        let column = |name: &str, of: ValType| {
            (of != ty).then(|| format!("a column of {name} for a {ty:?} parameter"))
        };
        let wrong = match self {
            Self::Same(v) => {
                (v.ty() != ty).then(|| format!("a {:?} value for a {ty:?} parameter", v.ty()))
            }
            Self::Index { .. } => (!matches!(ty, ValType::I32 | ValType::I64)).then(|| {
                "`Arg::Index` is for i32 and i64 parameters; give a column instead".to_owned()
            }),
            Self::I32s(_) => column("i32", ValType::I32),
            Self::I64s(_) => column("i64", ValType::I64),
            Self::F32s(_) => column("f32", ValType::F32),
            Self::F64s(_) => column("f64", ValType::F64),
            Self::Values(values) => values
                .iter()
                .position(|v| v.ty() != ty)
                .map(|i| format!("value {i} is {:?}", values[i].ty())),
        };
        wrong.or_else(|| {
            let len = self.column_len()?;
            (len != count as usize).then(|| {
                format!("a column of {len} values for a batch of {count} agents; give one value per agent")
            })
        })
    }
}

/// Agents spawned together by [`Swarm::spawn_batch`]: agent `i` of the batch is `ids()[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    ids: Vec<AgentId>,
    /// The function the batch calls, for its result types.
    func: u32,
}

impl Batch {
    /// The agents, in batch order.
    pub fn ids(&self) -> &[AgentId] {
        &self.ids
    }

    /// Agents in the batch.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the batch has no agents.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Where one agent of a batch stands, without its results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BatchOutcome {
    /// The call returned; its results are in the report's result columns.
    Finished,
    /// The call trapped.
    Trapped(TrapCode),
    /// A host function ended the agent with this exit code (WASI's `proc_exit`).
    Exited(i32),
    /// Has work left: its call has not started, or ran out of fuel for the dispatch; it
    /// continues in the next.
    Suspended,
    /// Waiting on a host call, answered at the start of the next dispatch.
    HostCall,
}

/// What a batch's agents did, column by column: entry `i` of each column is agent `i` of the
/// batch.
#[derive(Clone, Debug, Default)]
pub struct BatchReport {
    /// Each agent's outcome.
    pub outcomes: Vec<BatchOutcome>,
    /// Instructions each agent executed in its call.
    pub instructions: Vec<u64>,
    /// Fuel each agent consumed in its call (wasmtime's fuel model).
    pub fuel: Vec<u64>,
    /// The part of each agent's instructions the compiled tier ran.
    pub compiled: Vec<u64>,
    /// The types of the export's results.
    result_types: Vec<ValType>,
    /// `result_types.len()` result bits per agent, agent after agent; zeros where the agent
    /// has not finished.
    results: Vec<u64>,
    /// GPU time of the dispatches, from timestamps, where the adapter has them.
    pub gpu_time: Option<Duration>,
    /// Time spent answering host calls.
    pub host_time: Duration,
    /// Wall time of the dispatches and the harvest.
    pub wall_time: Duration,
    /// Where the wall time went.
    pub phases: DispatchPhases,
    /// Dispatches run.
    pub dispatches: u32,
}

impl BatchReport {
    /// The reports of the parts of one batch, as one, in order: their columns one after
    /// another; the longest GPU and wall time, as the parts ran at once (on several devices);
    /// the host time and phases added up; the most dispatches.
    pub(crate) fn join(parts: Vec<BatchReport>) -> BatchReport {
        let mut whole = BatchReport::default();
        for part in parts {
            whole.outcomes.extend(part.outcomes);
            whole.instructions.extend(part.instructions);
            whole.fuel.extend(part.fuel);
            whole.compiled.extend(part.compiled);
            whole.results.extend(part.results);
            whole.result_types = part.result_types;
            whole.gpu_time = whole.gpu_time.max(part.gpu_time);
            whole.host_time += part.host_time;
            whole.wall_time = whole.wall_time.max(part.wall_time);
            whole.phases += part.phases;
            whole.dispatches = whole.dispatches.max(part.dispatches);
        }
        whole
    }

    /// Agents reported.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// Whether no agent is reported.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// The share of all the agents' instructions that the compiled tier ran (0 when none
    /// ran).
    pub fn compiled_share(&self) -> f64 {
        let all: u64 = self.instructions.iter().sum();
        let compiled: u64 = self.compiled.iter().sum();
        if all == 0 {
            0.0
        } else {
            compiled as f64 / all as f64
        }
    }

    /// The types of the export's results.
    pub fn result_types(&self) -> &[ValType] {
        &self.result_types
    }

    /// Agent `agent`'s result bits (zeros unless it finished).
    pub fn bits(&self, agent: usize) -> &[u64] {
        let n = self.result_types.len();
        &self.results[agent * n..(agent + 1) * n]
    }

    /// Agent `agent`'s results, if it finished.
    pub fn results(&self, agent: usize) -> Option<Vec<Value>> {
        (self.outcomes[agent] == BatchOutcome::Finished).then(|| {
            self.result_types
                .iter()
                .zip(self.bits(agent))
                .map(|(ty, bits)| Value::from_bits(*ty, *bits))
                .collect()
        })
    }

    /// Result `k` of every agent, in batch order (from zero bits where an agent has not
    /// finished).
    pub fn column(&self, k: usize) -> impl ExactSizeIterator<Item = Value> + '_ {
        let n = self.result_types.len();
        let ty = self.result_types[k];
        (0..self.len()).map(move |agent| Value::from_bits(ty, self.results[agent * n + k]))
    }

    /// Agents that finished.
    pub fn finished(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| **o == BatchOutcome::Finished)
            .count()
    }

    /// Whether any agent still has work: suspended, or waiting on a host call.
    pub fn is_running(&self) -> bool {
        self.outcomes
            .iter()
            .any(|o| matches!(o, BatchOutcome::Suspended | BatchOutcome::HostCall))
    }
}

impl Swarm {
    /// Spawns `count` agents that call `export`, agent `i` with the arguments `args` give it:
    /// one [`Arg`] per parameter. Computed arguments cost nothing per agent on the host;
    /// columns are uploaded with the spawn records, in one write. Either every agent is
    /// spawned or none is.
    ///
    /// ```no_run
    /// use swarm_host::{Arg, Imports, Swarm, SwarmConfig, Value};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let wasm: Vec<u8> = Vec::new();
    /// let mut swarm = Swarm::new(SwarmConfig { max_agents: 131_072, ..SwarmConfig::default() })?;
    /// swarm.load_module(&wasm, &Imports::new())?;
    /// // Agent i calls xorshift(i, 1000); the arguments are computed on the GPU.
    /// let batch = swarm.spawn_batch("xorshift", 131_072, &[Arg::INDEX, Arg::Same(Value::I32(1000))])?;
    /// let report = swarm.run_batch(&batch)?;
    /// let checksums: Vec<Value> = report.column(0).collect();
    /// swarm.kill_batch(batch)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn spawn_batch(
        &mut self,
        export: &str,
        count: u32,
        args: &[Arg<'_>],
    ) -> Result<Batch, SpawnError> {
        let func = self.check_batch(export, count, args)?;
        let params = &self.module()?.program.funcs[func as usize].ty.params;
        let mut rules = Vec::with_capacity(args.len());
        let mut columns: Vec<&Arg<'_>> = Vec::new();
        for (arg, ty) in args.iter().zip(params) {
            let kind = if matches!(ty, ValType::I64 | ValType::F64) {
                ArgRule::AFFINE64
            } else {
                ArgRule::AFFINE32
            };
            let (start, step) = match arg {
                Arg::Same(v) => (v.to_bits(), 0),
                Arg::Index { start, step } => (*start as u64, *step as u64),
                _ => {
                    columns.push(arg);
                    rules.push(ArgRule::column(columns.len() as u32 - 1));
                    continue;
                }
            };
            rules.push(ArgRule::affine(kind, start, step));
        }
        let mut words = Vec::with_capacity(2 * columns.len() * count as usize);
        for index in 0..count as usize {
            for column in &columns {
                let bits = column.column_bits(index);
                words.extend_from_slice(&[bits as u32, (bits >> 32) as u32]);
            }
        }
        let args = SpawnArgs {
            rules,
            columns: columns.len() as u32,
            words,
        };
        let ids = self.spawn_calls(func, count, &args)?;
        Ok(Batch { ids, func })
    }

    /// The function `export` names, if a batch of `count` agents can call it with `args`: one
    /// argument per parameter, each of the parameter's type, each column of `count` values.
    pub(crate) fn check_batch(
        &self,
        export: &str,
        count: u32,
        args: &[Arg<'_>],
    ) -> Result<u32, SpawnError> {
        let module = self.module()?;
        let func = module
            .program
            .exported_func(export)
            .ok_or_else(|| SpawnError::UnknownExport(export.to_owned()))?;
        let params = &module.program.funcs[func as usize].ty.params;
        if params.len() != args.len() {
            return Err(SpawnError::BatchArity {
                export: export.to_owned(),
                expected: params.len(),
                given: args.len(),
            });
        }
        for (param, (arg, ty)) in args.iter().zip(params).enumerate() {
            if let Some(why) = arg.misfit(*ty, count) {
                return Err(SpawnError::BatchArgument {
                    export: export.to_owned(),
                    param,
                    ty: *ty,
                    why,
                });
            }
        }
        Ok(func)
    }

    /// Runs the batch's agents, and no others, until none has work left (every call finished
    /// or trapped), then harvests them.
    pub fn run_batch(&mut self, batch: &Batch) -> Result<BatchReport, DispatchError> {
        self.advance_batch(batch, true)
    }

    /// Runs the batch's agents, and no others, in one dispatch, then harvests them.
    pub fn dispatch_batch(&mut self, batch: &Batch) -> Result<BatchReport, DispatchError> {
        self.advance_batch(batch, false)
    }

    fn advance_batch(&mut self, batch: &Batch, to_end: bool) -> Result<BatchReport, DispatchError> {
        let wall = Instant::now();
        let slots = self.batch_slots(batch)?;
        // The whole swarm needs no list of agents to run.
        let whole = slots.len() == self.pool.len() as usize;
        let selection = (!whole).then_some(slots.as_slice());
        let mut gpu_time: Option<Duration> = None;
        let mut host_time = Duration::ZERO;
        let mut phases = DispatchPhases::default();
        let mut dispatches = 0;
        loop {
            let step = self.step(selection)?;
            dispatches += 1;
            phases += step.phases;
            if let Some(t) = step.gpu_time {
                gpu_time = Some(gpu_time.unwrap_or_default() + t);
            }
            host_time += step.host_time;
            if !to_end || step.running == 0 {
                break;
            }
        }
        let harvesting = Instant::now();
        let mut report = self.harvest_slots(batch.func, &slots);
        phases.harvest = harvesting.elapsed();
        report.phases = phases;
        report.gpu_time = gpu_time;
        report.host_time = host_time;
        report.dispatches = dispatches;
        report.wall_time = wall.elapsed();
        Ok(report)
    }

    /// The batch's outcomes, results and counts as of the last dispatch, without GPU work.
    pub fn harvest(&self, batch: &Batch) -> Result<BatchReport, AccessError> {
        let wall = Instant::now();
        let slots = self.batch_slots(batch)?;
        let mut report = self.harvest_slots(batch.func, &slots);
        report.wall_time = wall.elapsed();
        Ok(report)
    }

    /// The slots of the batch's agents, in batch order; an error for the first stale id.
    fn batch_slots(&self, batch: &Batch) -> Result<Vec<u32>, swarm_core::PoolError> {
        batch.ids.iter().map(|id| self.pool.slot(*id)).collect()
    }

    /// Kills the batch's agents in one GPU submission.
    pub fn kill_batch(&mut self, batch: Batch) -> Result<(), AccessError> {
        self.kill_many(&batch.ids)
    }

    /// Columns from the host's copies of the records of `slots`, live agents that call
    /// `func`; many agents are harvested on several threads.
    fn harvest_slots(&self, func: u32, slots: &[u32]) -> BatchReport {
        let result_types = self
            .module
            .as_ref()
            .and_then(|m| m.program.funcs.get(func as usize))
            .map(|f| f.ty.results.clone())
            .unwrap_or_default();
        let n = result_types.len();
        let mut report = BatchReport {
            outcomes: vec![BatchOutcome::Suspended; slots.len()],
            instructions: vec![0; slots.len()],
            fuel: vec![0; slots.len()],
            compiled: vec![0; slots.len()],
            results: vec![0; slots.len() * n],
            result_types,
            ..BatchReport::default()
        };
        let threads = super::parallel::parts(slots.len());
        let per = slots.len().div_ceil(threads).max(1);
        // Without results the result column has no chunks: every part gets an empty one.
        let result_chunks = report
            .results
            .chunks_mut((per * n).max(1))
            .chain(std::iter::repeat_with(|| &mut [][..]));
        let parts = slots
            .chunks(per)
            .zip(report.outcomes.chunks_mut(per))
            .zip(report.instructions.chunks_mut(per))
            .zip(report.fuel.chunks_mut(per))
            .zip(report.compiled.chunks_mut(per))
            .zip(result_chunks);
        super::parallel::map(
            parts.collect(),
            |(((((slots, outcomes), instructions), fuel), compiled), results)| {
                let columns = Columns {
                    outcomes,
                    instructions,
                    fuel,
                    compiled,
                    results,
                };
                self.harvest_part(slots, n, columns);
            },
        );
        report
    }

    /// Fills one run of a batch report's columns from the records of `slots`.
    fn harvest_part(&self, slots: &[u32], n: usize, columns: Columns<'_>) {
        let Columns {
            outcomes,
            instructions,
            fuel,
            compiled,
            results,
        } = columns;
        for (agent, &slot) in slots.iter().enumerate() {
            let entry = &self.slots[slot as usize];
            let status = &entry.status;
            outcomes[agent] = match AgentState::from_code(status.state) {
                Some(AgentState::Finished) => {
                    let bits = self.results_of(slot);
                    let k = bits.len().min(n);
                    results[agent * n..agent * n + k].copy_from_slice(&bits[..k]);
                    BatchOutcome::Finished
                }
                Some(AgentState::Trapped) => BatchOutcome::Trapped(
                    TrapCode::from_code(status.trap).unwrap_or(TrapCode::Unreachable),
                ),
                Some(AgentState::Exited) => BatchOutcome::Exited(status.trap as i32),
                Some(AgentState::HostCall) => BatchOutcome::HostCall,
                _ => BatchOutcome::Suspended,
            };
            let used = fuel_used(status) - entry.fuel_base;
            fuel[agent] = used;
            instructions[agent] = used - (fuel_extra(status) - entry.extra_base);
            compiled[agent] = super::compiled(status) - entry.compiled_base;
        }
    }
}

/// One run of a batch report's columns, filled by one thread.
struct Columns<'a> {
    outcomes: &'a mut [BatchOutcome],
    instructions: &'a mut [u64],
    fuel: &'a mut [u64],
    compiled: &'a mut [u64],
    results: &'a mut [u64],
}
