//! Benchmarks of swarm against its CPU peers: the same module and calls on swarm (all agents in
//! one GPU dispatch), wasmtime and wasmi (one instance per agent, one thread per host core),
//! with results checked against each other before anything is timed.
//!
//! The criterion benches (`cargo bench -p swarm-bench`) and the report
//! (`cargo xtask bench`, the `swarm-bench` binary) share this crate's workloads and
//! measurements.

use anyhow::{Context, Result};

mod engine;
pub mod measure;
pub mod peers;
pub mod programs;
pub mod report;
mod workload;

pub use engine::{
    Interpreter, Phases, Run, SwarmRunner, compile_budget, reconverge, set_compile_budget,
    set_pipeline_cache, set_reconverge, set_tier, tier,
};
pub use workload::{GUESTS_WASM, Scale, Workload, XORSHIFT_WAT, workloads, xorshift};

/// Threads for the CPU peers: one per host core.
pub fn host_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
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
