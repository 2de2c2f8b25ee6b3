//! The engines under test: swarm on the default adapter, and what every engine's run returns.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use swarm_host::{
    AdapterReport, Arg, CompileBudget, Imports, Outcome, Reconverge, Swarm, SwarmConfig, Tier,
    TierStatus, ValType, Value,
};

use crate::Workload;

/// What one engine did with one workload at one agent count.
#[derive(Clone, Debug)]
pub struct Run {
    /// Every agent's results, in agent order.
    pub results: Vec<Vec<Value>>,
    /// Wall time of the run: spawn or instantiate, execute, collect the results.
    pub elapsed: Duration,
    /// GPU time from timestamps (swarm, on adapters that have them).
    pub gpu: Option<Duration>,
    /// Executed instructions over all agents, wasmtime's fuel model (swarm counts them).
    pub instructions: Option<u64>,
    /// Where swarm's wall time went.
    pub phases: Option<Phases>,
    /// The part of `instructions` swarm's compiled tier ran.
    pub compiled: Option<u64>,
}

/// Where one swarm run's wall time went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Phases {
    /// `spawn_batch`: building and uploading the spawn records and argument columns (the
    /// spawn kernel itself runs in the next submission).
    pub spawn: Duration,
    /// `run_batch`: the submissions (spawn and run kernels), the readback of the status
    /// records and the batch's result columns.
    pub run: Duration,
    /// `kill_batch` and `sync`: wiping the agents' slots on the GPU.
    pub kill: Duration,
}

impl Run {
    /// A run timed from `started` to now, with no GPU figures (a CPU peer's, or swarm's
    /// one-agent-at-a-time baseline).
    pub fn wall_only(results: Vec<Vec<Value>>, started: Instant) -> Self {
        Self {
            results,
            elapsed: started.elapsed(),
            gpu: None,
            instructions: None,
            phases: None,
            compiled: None,
        }
    }

    /// Checks that `other` (from `engine`) returned what this run returned, agent by agent.
    pub fn check_same(&self, workload: &Workload, other: &Run, engine: &str) -> Result<()> {
        if self.results.len() != other.results.len() {
            bail!(
                "{}: {engine} returned {} results, swarm {}",
                workload.name,
                other.results.len(),
                self.results.len()
            );
        }
        for (agent, (x, y)) in self.results.iter().zip(&other.results).enumerate() {
            if x != y {
                bail!(
                    "{}: agent {agent}: swarm {x:?}, {engine} {y:?}",
                    workload.name
                );
            }
        }
        Ok(())
    }
}

/// The tier every [`SwarmRunner`] runs on (`swarm-bench --tier`).
static TIER: std::sync::OnceLock<Tier> = std::sync::OnceLock::new();

/// Sets the tier of every runner made from now on (once; compiled if never set).
pub fn set_tier(tier: Tier) {
    let _ = TIER.set(tier);
}

/// The tier runners run on.
pub fn tier() -> Tier {
    *TIER.get_or_init(|| Tier::Compiled)
}

/// The compiled tier's budget of every [`SwarmRunner`] (`swarm-bench --compile-instructions`,
/// `--compile-blocks` and `--compile-region-blocks`).
static COMPILE_BUDGET: std::sync::OnceLock<CompileBudget> = std::sync::OnceLock::new();

/// Sets the compile budget of every runner made from now on (once; the default if never set).
pub fn set_compile_budget(budget: CompileBudget) {
    let _ = COMPILE_BUDGET.set(budget);
}

/// The compile budget runners use.
pub fn compile_budget() -> CompileBudget {
    *COMPILE_BUDGET.get_or_init(CompileBudget::default)
}

/// Which kernels of every [`SwarmRunner`] keep a subgroup's agents together
/// (`swarm-bench --reconverge`).
static RECONVERGE: std::sync::OnceLock<Reconverge> = std::sync::OnceLock::new();

/// Sets the reconvergence of every runner made from now on (once; the default if never set).
pub fn set_reconverge(reconverge: Reconverge) {
    let _ = RECONVERGE.set(reconverge);
}

/// The reconvergence runners use.
pub fn reconverge() -> Reconverge {
    *RECONVERGE.get_or_init(Reconverge::default)
}

/// Where every [`SwarmRunner`] keeps built pipelines (`swarm-bench --pipeline-cache`); none
/// unless set.
static PIPELINE_CACHE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Keeps the pipelines of every runner made from now on in `dir` (once).
pub fn set_pipeline_cache(dir: PathBuf) {
    let _ = PIPELINE_CACHE.set(dir);
}

/// Which interpreter a [`SwarmRunner`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interpreter {
    /// Each module's own interpreter, with only its instruction groups, or the full one.
    pub specialize: bool,
    /// Value stacks in private memory during a dispatch, or in place in the state buffer.
    pub private_stack: bool,
}

impl Default for Interpreter {
    fn default() -> Self {
        Self {
            specialize: true,
            private_stack: true,
        }
    }
}

impl Interpreter {
    /// Every combination, the default first.
    pub const ALL: [Self; 4] = [
        Self {
            specialize: true,
            private_stack: true,
        },
        Self {
            specialize: false,
            private_stack: true,
        },
        Self {
            specialize: true,
            private_stack: false,
        },
        Self {
            specialize: false,
            private_stack: false,
        },
    ];

    /// How the report names the stack placement.
    pub fn stack(self) -> &'static str {
        if self.private_stack {
            "private"
        } else {
            "state buffer"
        }
    }
}

/// A swarm on the default adapter, reused across workloads and agent counts: the module is
/// reloaded only when it changes, and every run kills its agents.
#[derive(Debug)]
pub struct SwarmRunner {
    swarm: Swarm,
    loaded: Option<std::sync::Arc<[u8]>>,
}

impl SwarmRunner {
    /// A swarm with room for `max_agents` agents of one page of memory each.
    pub fn new(max_agents: u32) -> Result<Self> {
        Self::with_workgroup_size(max_agents, SwarmConfig::default().workgroup_size)
    }

    /// Like [`new`](Self::new), with `workgroup_size` agents per GPU workgroup.
    pub fn with_workgroup_size(max_agents: u32, workgroup_size: u32) -> Result<Self> {
        Self::with_settings(max_agents, workgroup_size, Interpreter::default(), tier())
    }

    /// Like [`new`](Self::new), with `workgroup_size` agents per GPU workgroup and the
    /// interpreter `interpreter`, on `tier`.
    pub fn with_settings(
        max_agents: u32,
        workgroup_size: u32,
        interpreter: Interpreter,
        tier: Tier,
    ) -> Result<Self> {
        let swarm = Swarm::new(SwarmConfig {
            max_agents,
            max_memory_pages: 1,
            value_stack_slots: 256,
            private_stack_slots: if interpreter.private_stack { 256 } else { 0 },
            call_frames: 64,
            output_bytes: 4,
            max_globals: 8,
            max_table_elements: 8,
            max_results: 1,
            fuel_per_dispatch: 1 << 40,
            fuel_total: None,
            workgroup_size,
            specialize: interpreter.specialize,
            tier,
            reconverge: reconverge(),
            compile_budget: compile_budget(),
            pipeline_cache: PIPELINE_CACHE.get().cloned(),
            ..SwarmConfig::default()
        })?;
        Ok(Self {
            swarm,
            loaded: None,
        })
    }

    /// A swarm for the real programs: `max_agents` agents of `memory_pages` pages, with room
    /// for a C program's locals and calls.
    pub fn for_programs(max_agents: u32, memory_pages: u32) -> Result<Self> {
        let swarm = Swarm::new(SwarmConfig {
            max_agents,
            max_memory_pages: memory_pages,
            value_stack_slots: 2_048,
            call_frames: 256,
            output_bytes: 4,
            max_globals: 16,
            max_table_elements: 64,
            max_results: 1,
            fuel_per_dispatch: 1 << 40,
            tier: tier(),
            reconverge: reconverge(),
            compile_budget: compile_budget(),
            pipeline_cache: PIPELINE_CACHE.get().cloned(),
            ..SwarmConfig::default()
        })?;
        Ok(Self {
            swarm,
            loaded: None,
        })
    }

    /// The instruction groups of the loaded module's interpreter (`None` before a run).
    pub fn interpreter_groups(&self) -> Option<swarm_host::OpGroups> {
        self.swarm.interpreter_groups()
    }

    /// How long the loaded module's compiled kernel took to build, once it is built: with a
    /// background budget, the first kernel's build and then the larger one's.
    pub fn compile_time(&self) -> Option<Duration> {
        match self.swarm.tier_status()? {
            TierStatus::Compiled(report) => Some(match report.background {
                swarm_host::Background::Ran { first } => first + report.time,
                _ => report.time,
            }),
            _ => None,
        }
    }

    /// With a background budget ([`CompileBudget::background`]), waits for the loaded
    /// module's larger kernel, so that the runs after it use it.
    pub fn wait_for_background(&mut self) {
        if compile_budget().background().is_some() {
            self.swarm.wait_for_tier();
        }
    }

    /// The adapter the swarm runs on.
    pub fn adapter(&self) -> &AdapterReport {
        self.swarm.adapter()
    }

    /// The tier the swarm runs on.
    pub fn tier(&self) -> Tier {
        self.swarm.config().tier
    }

    /// Most agents one run may have.
    pub fn capacity(&self) -> u32 {
        self.swarm.config().max_agents
    }

    /// The swarm, with `wasm` loaded and no live agents.
    pub fn swarm_with(&mut self, wasm: &std::sync::Arc<[u8]>) -> Result<&mut Swarm> {
        if self.swarm.agent_count() > 0 {
            let live: Vec<_> = self.swarm.live_agents().collect();
            self.swarm.kill_many(&live)?;
        }
        if self.loaded.as_ref() != Some(wasm) {
            self.swarm.load_module(wasm, &Imports::new())?;
            self.loaded = Some(wasm.clone());
        }
        Ok(&mut self.swarm)
    }

    /// Runs `agents` agents of `workload` as one batch: spawn, run until every agent has
    /// finished, harvest the result columns, kill them and wait for their slots to be wiped
    /// (the peers' time includes dropping their instances too).
    pub fn run(&mut self, workload: &Workload, agents: u32) -> Result<Run> {
        let columns = argument_columns(workload, agents);
        let args: Vec<Arg<'_>> = columns.iter().map(|c| c.arg()).collect();
        let swarm = self.swarm_with(&workload.wasm)?;
        let started = Instant::now();
        let batch = swarm.spawn_batch(workload.export, agents, &args)?;
        let spawned = Instant::now();
        let report = swarm.run_batch(&batch)?;
        let ran = Instant::now();
        swarm.kill_batch(batch)?;
        swarm.sync()?;
        let done = Instant::now();
        let elapsed = done - started;
        let phases = Phases {
            spawn: spawned - started,
            run: ran - spawned,
            kill: done - ran,
        };
        let mut results = Vec::with_capacity(report.len());
        for (agent, outcome) in report.outcomes.iter().enumerate() {
            match report.results(agent) {
                Some(values) => results.push(values),
                None => bail!("{}: agent {agent} ended {outcome:?}", workload.name),
            }
        }
        Ok(Run {
            results,
            elapsed,
            gpu: report.gpu_time,
            instructions: Some(report.instructions.iter().sum()),
            phases: Some(phases),
            compiled: Some(report.compiled.iter().sum()),
        })
    }

    /// The single-instance baseline: the same agents, one agent per dispatch, one after the
    /// other (spawn, run, harvest, kill each; the wipe is waited for with the next dispatch,
    /// and for the last agent at the end).
    pub fn run_one_by_one(&mut self, workload: &Workload, agents: u32) -> Result<Run> {
        let swarm = self.swarm_with(&workload.wasm)?;
        let started = Instant::now();
        let mut results = Vec::with_capacity(agents as usize);
        for i in 0..agents {
            let id = swarm.spawn(workload.export, &workload.args(i))?;
            let report = swarm.run()?;
            swarm.kill(id)?;
            match &report.agents[0].outcome {
                Outcome::Finished(values) => results.push(values.clone()),
                other => bail!("{}: agent {i} ended {other:?}", workload.name),
            }
        }
        swarm.sync()?;
        Ok(Run::wall_only(results, started))
    }
}

/// One parameter's arguments over a batch, in the cheapest form that gives every agent its
/// value: what a user who knows the shape of their arguments passes to `spawn_batch`.
enum Column {
    /// Every agent's value is the same.
    Same(Value),
    /// Agent `i`'s value is `start + i * step`, wrapping (integers only).
    Index { start: i64, step: i64 },
    /// Uploaded agent by agent.
    Values(Vec<Value>),
}

impl Column {
    fn arg(&self) -> Arg<'_> {
        match self {
            Self::Same(v) => Arg::Same(*v),
            Self::Index { start, step } => Arg::Index {
                start: *start,
                step: *step,
            },
            Self::Values(values) => Arg::Values(values),
        }
    }
}

/// The workload's arguments for `agents` agents, parameter by parameter.
fn argument_columns(workload: &Workload, agents: u32) -> Vec<Column> {
    let calls: Vec<Vec<Value>> = (0..agents).map(|i| workload.args(i)).collect();
    let params = calls.first().map_or(0, Vec::len);
    (0..params)
        .map(|k| {
            let values: Vec<Value> = calls.iter().map(|call| call[k]).collect();
            if values.iter().all(|v| *v == values[0]) {
                return Column::Same(values[0]);
            }
            let int = |v: &Value| match v {
                Value::I32(x) => Some(i64::from(*x)),
                Value::I64(x) => Some(*x),
                _ => None,
            };
            if let (Some(start), Some(next)) = (int(&values[0]), int(&values[1])) {
                let step = next.wrapping_sub(start);
                let affine = values.iter().enumerate().all(|(i, v)| {
                    let want = start.wrapping_add(step.wrapping_mul(i as i64));
                    match v.ty() {
                        ValType::I32 => int(v) == Some(i64::from(want as i32)),
                        _ => int(v) == Some(want),
                    }
                });
                if affine {
                    return Column::Index { start, step };
                }
            }
            Column::Values(values)
        })
        .collect()
}
