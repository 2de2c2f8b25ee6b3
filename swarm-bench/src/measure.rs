//! The measurements behind the report: throughput points (one workload at one agent count on
//! every engine), the 1,024-agent round trip, and the single-instance baseline. Every engine's
//! results are checked against swarm's before its times count.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use swarm_host::{Arg, BatchOutcome, DispatchPhases, Value};

use crate::{Phases, Run, SwarmRunner, Workload, peers};

/// How often to repeat a timed run: at least `min_runs`, then until `budget` is spent, at most
/// `max_runs`.
#[derive(Clone, Copy, Debug)]
pub struct Repeat {
    /// Fewest timed runs.
    pub min_runs: usize,
    /// Most timed runs.
    pub max_runs: usize,
    /// Keep repeating while the runs so far took less than this.
    pub budget: Duration,
}

impl Repeat {
    /// Full benchmark runs: medians of up to five runs, about two seconds per measurement.
    pub const FULL: Self = Self {
        min_runs: 1,
        max_runs: 5,
        budget: Duration::from_secs(2),
    };
    /// Smoke-test runs.
    pub const QUICK: Self = Self {
        min_runs: 1,
        max_runs: 3,
        budget: Duration::from_millis(200),
    };
}

/// Wall times of repeated runs.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Every run's time, sorted.
    pub runs: Vec<Duration>,
}

impl Stats {
    /// Collects `first` (a run already done), then repeats `run` as `repeat` says.
    pub fn collect(
        first: Option<Duration>,
        repeat: Repeat,
        mut run: impl FnMut() -> Result<Duration>,
    ) -> Result<Self> {
        let mut runs: Vec<Duration> = first.into_iter().collect();
        while runs.len() < repeat.max_runs
            && (runs.len() < repeat.min_runs || runs.iter().sum::<Duration>() < repeat.budget)
        {
            runs.push(run()?);
        }
        runs.sort_unstable();
        Ok(Self { runs })
    }

    /// The median run (the lower middle one for an even count).
    pub fn median(&self) -> Duration {
        self.runs
            .get(self.runs.len().saturating_sub(1) / 2)
            .copied()
            .unwrap_or_default()
    }
}

/// One engine at one point.
#[derive(Clone, Debug)]
pub struct EngineTime {
    /// Wall times.
    pub wall: Stats,
    /// Median GPU time (swarm, from timestamps).
    pub gpu: Option<Duration>,
    /// Median time of each phase of swarm's runs.
    pub phases: Option<Phases>,
}

/// The median of `times` (the lower middle one for an even count), `None` for none.
fn median(mut times: Vec<Duration>) -> Option<Duration> {
    times.sort_unstable();
    times.get(times.len().saturating_sub(1) / 2).copied()
}

/// The median of each phase over `runs`.
fn median_phases(runs: &[Phases]) -> Option<Phases> {
    let phase = |pick: fn(&Phases) -> Duration| median(runs.iter().map(pick).collect());
    Some(Phases {
        spawn: phase(|p| p.spawn)?,
        run: phase(|p| p.run)?,
        kill: phase(|p| p.kill)?,
    })
}

/// Times swarm's runs of `workload` at `agents` agents as `repeat` says, each checked against
/// `reference` (its untimed first run).
fn swarm_time(
    runner: &mut SwarmRunner,
    workload: &Workload,
    agents: u32,
    repeat: Repeat,
    reference: &Run,
) -> Result<EngineTime> {
    let mut gpu = Vec::new();
    let mut phases = Vec::new();
    let wall = Stats::collect(None, repeat, || {
        let run = runner.run(workload, agents)?;
        reference.check_same(workload, &run, "swarm (a second run)")?;
        gpu.extend(run.gpu);
        phases.extend(run.phases);
        Ok(run.elapsed)
    })?;
    Ok(EngineTime {
        wall,
        gpu: median(gpu),
        phases: median_phases(&phases),
    })
}

/// One workload at one agent count, on every engine.
#[derive(Clone, Debug)]
pub struct Point {
    /// Workload name.
    pub workload: &'static str,
    /// Agents.
    pub agents: u32,
    /// Instructions executed over all agents (wasmtime's fuel model, counted by swarm).
    pub instructions: u64,
    /// The part of them swarm's compiled tier ran.
    pub compiled: u64,
    /// swarm, then wasmtime, then wasmi; `None` where not run.
    pub engines: [Option<EngineTime>; 3],
}

/// The engines, in [`Point::engines`] order.
pub const ENGINES: [&str; 3] = ["swarm", "wasmtime", "wasmi"];

impl Point {
    /// Instructions per second of engine `e`, from its median run.
    pub fn instructions_per_second(&self, e: usize) -> Option<f64> {
        let time = self.engines[e].as_ref()?.wall.median().as_secs_f64();
        (time > 0.0).then(|| self.instructions as f64 / time)
    }

    /// Agents per second of engine `e`, from its median run.
    pub fn agents_per_second(&self, e: usize) -> Option<f64> {
        let time = self.engines[e].as_ref()?.wall.median().as_secs_f64();
        (time > 0.0).then(|| f64::from(self.agents) / time)
    }

    /// swarm's throughput over engine `e`'s.
    pub fn ratio(&self, e: usize) -> Option<f64> {
        Some(self.instructions_per_second(0)? / self.instructions_per_second(e)?)
    }
}

/// Measures `workload` at `agents` agents on swarm and both peers (`threads` threads each).
/// Every engine's first run is a checked, untimed warm-up.
pub fn point(
    runner: &mut SwarmRunner,
    workload: &Workload,
    agents: u32,
    threads: usize,
    repeat: Repeat,
) -> Result<Point> {
    let reference = runner.run(workload, agents)?;
    runner.wait_for_background();
    let instructions = reference.instructions.unwrap_or_default();
    let compiled = expect_compiled(runner.tier(), workload, &reference)?;
    let swarm = swarm_time(runner, workload, agents, repeat, &reference)?;
    let peer = |name: &str, go: &dyn Fn() -> Result<Run>| -> Result<EngineTime> {
        reference.check_same(workload, &go()?, name)?;
        let wall = Stats::collect(None, repeat, || Ok(go()?.elapsed))?;
        Ok(EngineTime {
            wall,
            gpu: None,
            phases: None,
        })
    };
    let wasmtime = peer("wasmtime", &|| peers::wasmtime(workload, agents, threads))?;
    let wasmi = peer("wasmi", &|| peers::wasmi(workload, agents, threads))?;
    Ok(Point {
        workload: workload.name,
        agents,
        instructions,
        compiled,
        engines: [Some(swarm), Some(wasmtime), Some(wasmi)],
    })
}

/// Workloads whose every instruction the compiled tier handles at its default budget on any
/// adapter (integer arithmetic, memory, calls and returns; no floats, whose compiled share
/// depends on the adapter's 64-bit floats): on the compiled tier, a run of them that is not
/// above 99% compiled is an error, so a silent fall back to the interpreter, or a check that
/// sends compiled blocks back to it, cannot pass for a measurement.
const ALL_COMPILED: &[&str] = &[
    "xorshift",
    "fib",
    "shootout-xchacha20",
    "shootout-base64",
    "shootout-gimli",
    "polybench-floyd-warshall",
];

/// The instructions of `run` that ran compiled, checked against [`ALL_COMPILED`] where the
/// compile budget is the default.
fn expect_compiled(tier: swarm_host::Tier, workload: &Workload, run: &Run) -> Result<u64> {
    let compiled = run.compiled.unwrap_or_default();
    let all = run.instructions.unwrap_or_default();
    if tier == swarm_host::Tier::Compiled
        && crate::engine::compile_budget() == swarm_host::CompileBudget::default()
        && ALL_COMPILED.contains(&workload.name)
        && (compiled as f64) < 0.99 * all as f64
    {
        anyhow::bail!(
            "{}: only {compiled} of {all} instructions ran on the compiled tier",
            workload.name
        );
    }
    Ok(compiled)
}

/// Measures `workload` at `agents` agents on swarm alone (checked warm-up, then timed runs).
pub fn swarm_point(
    runner: &mut SwarmRunner,
    workload: &Workload,
    agents: u32,
    repeat: Repeat,
) -> Result<Point> {
    let reference = runner.run(workload, agents)?;
    runner.wait_for_background();
    let compiled = expect_compiled(runner.tier(), workload, &reference)?;
    let swarm = swarm_time(runner, workload, agents, repeat, &reference)?;
    Ok(Point {
        workload: workload.name,
        agents,
        instructions: reference.instructions.unwrap_or_default(),
        compiled,
        engines: [Some(swarm), None, None],
    })
}

/// One real program at one agent count: swarm, wasmtime with a fresh instance per agent, and
/// wasmtime with one instance per thread reused across calls.
#[derive(Clone, Debug)]
pub struct ProgramPoint {
    /// Program name.
    pub program: &'static str,
    /// Agents.
    pub agents: u32,
    /// Linear-memory pages per agent.
    pub memory_pages: u32,
    /// Instructions executed over all agents (wasmtime's fuel model, counted by swarm).
    pub instructions: u64,
    /// The part of them swarm's compiled tier ran.
    pub compiled: u64,
    /// How long swarm's compiled kernel took to build (`None` on the interpreter).
    pub build: Option<Duration>,
    /// swarm.
    pub swarm: EngineTime,
    /// wasmtime, a fresh instance per agent.
    pub wasmtime: EngineTime,
    /// wasmtime, one instance per thread reused for every call.
    pub reused: EngineTime,
}

impl ProgramPoint {
    /// swarm's wall time over `peer`'s: how many times faster swarm is.
    pub fn ratio(&self, peer: &EngineTime) -> f64 {
        peer.wall.median().as_secs_f64() / self.swarm.wall.median().as_secs_f64().max(1e-9)
    }

    /// Instructions per second of swarm's wall time.
    pub fn wall_rate(&self) -> f64 {
        self.instructions as f64 / self.swarm.wall.median().as_secs_f64().max(1e-9)
    }

    /// Instructions per second of swarm's GPU time.
    pub fn gpu_rate(&self) -> Option<f64> {
        Some(self.instructions as f64 / self.swarm.gpu?.as_secs_f64().max(1e-9))
    }
}

/// Measures a real program at `agents` agents. wasmtime (a fresh instance per agent) runs first
/// and is the reference: every swarm run and the reused-instance peer must return its results,
/// agent by agent, before their times count.
pub fn program_point(
    runner: &mut SwarmRunner,
    workload: &Workload,
    agents: u32,
    threads: usize,
    repeat: Repeat,
) -> Result<ProgramPoint> {
    let reference = peers::wasmtime(workload, agents, threads)?;
    let wasmtime = Stats::collect(Some(reference.elapsed), repeat, || {
        Ok(peers::wasmtime(workload, agents, threads)?.elapsed)
    })?;
    let reused = Stats::collect(None, repeat, || {
        let run = peers::wasmtime_reused(workload, agents, threads)?;
        reference.check_same(workload, &run, "wasmtime (reused instances)")?;
        Ok(run.elapsed)
    })?;
    // An untimed, checked warm-up, as every engine's first run is: it builds the pipelines, the
    // compiled tier's included.
    let warm = runner.run(workload, agents)?;
    warm.check_same(workload, &reference, "wasmtime")?;
    runner.wait_for_background();
    expect_compiled(runner.tier(), workload, &warm)?;
    let build = runner.compile_time();
    let mut gpu = Vec::new();
    let mut phases = Vec::new();
    let mut instructions = 0;
    let mut compiled = 0;
    let swarm = Stats::collect(None, repeat, || {
        let run = runner.run(workload, agents)?;
        // `check_same` names its receiver swarm: the reference is wasmtime's here.
        run.check_same(workload, &reference, "wasmtime")?;
        gpu.extend(run.gpu);
        phases.extend(run.phases);
        instructions = run.instructions.unwrap_or_default();
        compiled = run.compiled.unwrap_or_default();
        Ok(run.elapsed)
    })?;
    let peer = |wall| EngineTime {
        wall,
        gpu: None,
        phases: None,
    };
    Ok(ProgramPoint {
        program: workload.name,
        agents,
        memory_pages: workload.memory_pages,
        instructions,
        compiled,
        build,
        swarm: EngineTime {
            wall: swarm,
            gpu: median(gpu),
            phases: median_phases(&phases),
        },
        wasmtime: peer(wasmtime),
        reused: peer(reused),
    })
}

/// A module with one trivial export, for the round trip.
pub const TRIVIAL_WAT: &str =
    r#"(module (func (export "echo") (param i32) (result i32) local.get 0))"#;

/// The round trip of `agents` trivial agents: spawn, one dispatch, harvest.
#[derive(Clone, Debug)]
pub struct Latency {
    /// Agents per round trip.
    pub agents: u32,
    /// Wall time of each round trip.
    pub round_trip: Stats,
    /// Median host time in `spawn_batch` (writing the spawn records).
    pub spawn: Duration,
    /// Median wall time of the dispatch: submission, GPU work, readback, results.
    pub dispatch: Duration,
    /// Median GPU time of the submission, spawn kernel and run kernel (timestamps).
    pub gpu: Option<Duration>,
    /// Median of each part of the dispatch.
    pub phases: DispatchPhases,
}

/// Measures the round trip of `agents` trivial agents, `runs` times after a warm-up.
pub fn latency(runner: &mut SwarmRunner, agents: u32, runs: usize) -> Result<Latency> {
    let wasm: std::sync::Arc<[u8]> = wat::parse_str(TRIVIAL_WAT)?.into();
    let swarm = runner.swarm_with(&wasm)?;
    let mut round_trips = Vec::new();
    let mut spawns = Vec::new();
    let mut dispatches = Vec::new();
    let mut gpus = Vec::new();
    let mut phases = Vec::new();
    for run in 0..=runs {
        let started = Instant::now();
        let batch = swarm.spawn_batch("echo", agents, &[Arg::INDEX])?;
        let spawned = started.elapsed();
        let report = swarm.dispatch_batch(&batch)?;
        let round_trip = started.elapsed();
        for (i, value) in report.column(0).enumerate() {
            if report.outcomes[i] != BatchOutcome::Finished || value != Value::I32(i as i32) {
                bail!("round trip: agent {i} ended {:?}", report.outcomes[i]);
            }
        }
        // Wiping the slots is not part of the round trip: finish it before the next one.
        swarm.kill_batch(batch)?;
        swarm.sync()?;
        // Run 0 warms up.
        if run > 0 {
            round_trips.push(round_trip);
            spawns.push(spawned);
            dispatches.push(round_trip - spawned);
            gpus.extend(report.gpu_time);
            phases.push(report.phases);
        }
    }
    round_trips.sort_unstable();
    let part = |f: fn(&DispatchPhases) -> Duration| median(phases.iter().map(f).collect());
    let phases = DispatchPhases {
        prepare: part(|p| p.prepare).unwrap_or_default(),
        submit: part(|p| p.submit).unwrap_or_default(),
        wait: part(|p| p.wait).unwrap_or_default(),
        decode: part(|p| p.decode).unwrap_or_default(),
        harvest: part(|p| p.harvest).unwrap_or_default(),
    };
    Ok(Latency {
        agents,
        spawn: median(spawns).unwrap_or_default(),
        dispatch: median(dispatches).unwrap_or_default(),
        gpu: median(gpus),
        phases,
        round_trip: Stats { runs: round_trips },
    })
}

/// One swarm dispatch against the same agents submitted one per dispatch.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// Workload name.
    pub workload: &'static str,
    /// Agents.
    pub agents: u32,
    /// All agents in one swarm run.
    pub swarm: Stats,
    /// One agent per dispatch, one after the other.
    pub single: Stats,
}

impl Baseline {
    /// How many times faster one swarm run is than the agents one by one.
    pub fn ratio(&self) -> f64 {
        self.single.median().as_secs_f64() / self.swarm.median().as_secs_f64().max(1e-9)
    }
}

/// Measures the single-instance baseline for `workload` at `agents` agents.
pub fn baseline(
    runner: &mut SwarmRunner,
    workload: &Workload,
    agents: u32,
    repeat: Repeat,
) -> Result<Baseline> {
    let reference = runner.run(workload, agents)?;
    let swarm = Stats::collect(None, repeat, || Ok(runner.run(workload, agents)?.elapsed))?;
    let first = runner.run_one_by_one(workload, agents)?;
    reference.check_same(workload, &first, "swarm, one agent per dispatch")?;
    let single = Stats::collect(None, repeat, || {
        Ok(runner.run_one_by_one(workload, agents)?.elapsed)
    })?;
    Ok(Baseline {
        workload: workload.name,
        agents,
        swarm,
        single,
    })
}
