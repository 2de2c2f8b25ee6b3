//! Workloads and CPU peers for swarm's benchmarks: the same module and calls run on swarm (one
//! GPU dispatch per slice, all agents at once), wasmtime and wasmi (one thread per host core,
//! one instance per agent), with results checked against each other before anything is timed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use swarm_host::{Imports, Outcome, Swarm, SwarmConfig, Value};

pub mod peers;

/// One benchmark workload: a module, an export and each agent's arguments.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Short name for reports.
    pub name: &'static str,
    /// The module, binary.
    pub wasm: Vec<u8>,
    /// The export every agent calls.
    pub export: &'static str,
    /// Agent `i`'s arguments.
    pub args: fn(u32) -> Vec<Value>,
}

/// The xorshift loop of the calibration runs: 29 instructions per iteration, i32 only.
pub const XORSHIFT_WAT: &str = r#"(module
  (func (export "xorshift") (param $seed i32) (param $n i32) (result i32)
    (local $x i32) (local $acc i32)
    (local.set $x (i32.or (local.get $seed) (i32.const 1)))
    (loop $l
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
      (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
      (local.set $acc (i32.add (local.get $acc) (local.get $x)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.ne (local.get $n) (i32.const 0))))
    (local.get $acc)))"#;

/// Iterations of the xorshift loop per agent.
pub const XORSHIFT_ITERATIONS: i32 = 1_000;

/// The Rust guest programs (see `guests/README.md`), built for wasm32.
pub const GUESTS_WASM: &[u8] = include_bytes!("../guests/swarm_guests.wasm");

/// The benchmark workloads.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "xorshift",
            wasm: wat::parse_str(XORSHIFT_WAT).expect("valid WAT"),
            export: "xorshift",
            args: |i| vec![Value::I32(i as i32), Value::I32(XORSHIFT_ITERATIONS)],
        },
        Workload {
            name: "collatz (Rust)",
            wasm: GUESTS_WASM.to_vec(),
            export: "collatz",
            args: |i| vec![Value::I32(i as i32), Value::I32(16)],
        },
        Workload {
            name: "mix64 (Rust)",
            wasm: GUESTS_WASM.to_vec(),
            export: "mix64",
            args: |i| vec![Value::I64(i64::from(i)), Value::I32(500)],
        },
    ]
}

/// What one engine did with one workload at one agent count.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// Every agent's results, in agent order.
    pub results: Vec<Vec<Value>>,
    /// Wall time of the run (spawn or instantiate, execute, collect results).
    pub elapsed: Duration,
    /// GPU time, for swarm on adapters with timestamps.
    pub gpu: Option<Duration>,
}

/// A swarm sized for `agents` agents of `workload`, module loaded.
pub fn swarm_for(workload: &Workload, agents: u32) -> Result<Swarm> {
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: agents,
        max_memory_pages: 1,
        value_stack_slots: 256,
        call_frames: 64,
        output_bytes: 4,
        max_globals: 8,
        max_table_elements: 8,
        max_results: 1,
        fuel_per_dispatch: 1 << 40,
        fuel_total: None,
    })?;
    swarm.load_module(&workload.wasm, &Imports::new())?;
    Ok(swarm)
}

/// Runs `agents` agents of `workload` on `swarm` (which must have no live agents): spawn,
/// run to the end, harvest; then kills them. Returns the results and the executed instruction
/// count (wasmtime's fuel model).
pub fn run_swarm(
    swarm: &mut Swarm,
    workload: &Workload,
    agents: u32,
) -> Result<(Measurement, u64)> {
    let calls: Vec<Vec<Value>> = (0..agents).map(workload.args).collect();
    let started = Instant::now();
    let ids = swarm.spawn_many(workload.export, &calls)?;
    let report = swarm.run()?;
    let elapsed = started.elapsed();
    let mut results = Vec::with_capacity(report.agents.len());
    let mut instructions = 0;
    for agent in &report.agents {
        instructions += agent.instructions;
        match &agent.outcome {
            Outcome::Finished(values) => results.push(values.clone()),
            other => bail!("{}: agent {} ended {other:?}", workload.name, agent.id),
        }
    }
    for id in ids {
        swarm.kill(id)?;
    }
    Ok((
        Measurement {
            results,
            elapsed,
            gpu: report.gpu_time,
        },
        instructions,
    ))
}

/// An agent's index and results.
type Indexed = (usize, Vec<Value>);

/// Splits `0..agents` among `threads` workers that take agents in blocks, and collects each
/// agent's result in order.
pub(crate) fn parallel<S>(
    agents: u32,
    threads: usize,
    setup: impl Fn() -> Result<S> + Sync,
    call: impl Fn(&mut S, u32) -> Result<Vec<Value>> + Sync,
) -> Result<Vec<Vec<Value>>> {
    const BLOCK: usize = 256;
    let next = AtomicUsize::new(0);
    let agents = agents as usize;
    let mut results: Vec<Vec<Value>> = vec![Vec::new(); agents];
    let chunks: Vec<Result<Vec<Indexed>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                // Large stacks: wasmi's dispatch recurses when not fully optimized.
                std::thread::Builder::new()
                    .stack_size(256 << 20)
                    .spawn_scoped(scope, || {
                        let mut state = setup()?;
                        let mut out = Vec::new();
                        loop {
                            let start = next.fetch_add(BLOCK, Ordering::Relaxed);
                            if start >= agents {
                                return Ok(out);
                            }
                            for i in start..(start + BLOCK).min(agents) {
                                out.push((i, call(&mut state, i as u32)?));
                            }
                        }
                    })
                    .expect("spawns a worker")
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a worker panicked"))
            .collect()
    });
    for chunk in chunks {
        for (i, values) in chunk? {
            results[i] = values;
        }
    }
    Ok(results)
}

/// Threads for the CPU peers: one per host core.
pub fn host_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Checks that two engines agree on every agent.
pub fn check_same(workload: &Workload, a: &Measurement, b: &Measurement, name: &str) -> Result<()> {
    if a.results.len() != b.results.len() {
        bail!(
            "{}: {name} returned {} results, swarm {}",
            workload.name,
            b.results.len(),
            a.results.len()
        );
    }
    for (index, (x, y)) in a.results.iter().zip(&b.results).enumerate() {
        if x != y {
            bail!(
                "{}: agent {index}: swarm {x:?}, {name} {y:?}",
                workload.name
            );
        }
    }
    Ok(())
}

/// Parses an agent count list like "1024,16384".
pub fn parse_counts(text: &str) -> Result<Vec<u32>> {
    text.split(',')
        .map(|t| {
            t.trim()
                .parse::<u32>()
                .with_context(|| format!("bad agent count {t:?}"))
        })
        .collect()
}
