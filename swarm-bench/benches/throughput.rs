//! Throughput: WebAssembly instructions per second (wasmtime's fuel model, counted by swarm)
//! for each workload and agent count, on swarm, wasmtime and wasmi in one process and run.
//!
//! `SWARM_BENCH_AGENTS` (default `1024,16384,131072,1048576`) sets the agent counts and
//! `SWARM_BENCH_GUEST_MAX` (default 131072) the largest count for the Rust guests. Every
//! engine's results are compared with swarm's before anything is timed.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use swarm_bench::{Scale, SwarmRunner, host_threads, parse_counts, workloads};

mod common;

fn throughput(c: &mut Criterion) {
    let counts = parse_counts(
        &std::env::var("SWARM_BENCH_AGENTS").unwrap_or("1024,16384,131072,1048576".into()),
    )
    .expect("agent counts");
    let guest_max: u32 = std::env::var("SWARM_BENCH_GUEST_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(131_072);
    let threads = host_threads();
    let mut runner = SwarmRunner::new(counts.iter().copied().max().unwrap_or(1)).expect("a swarm");
    for workload in workloads(Scale::Full) {
        let mut group = c.benchmark_group(format!("throughput/{}", workload.name));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for &agents in &counts {
            if workload.is_guest() && agents > guest_max {
                continue;
            }
            common::every_engine(&mut group, &mut runner, &workload, agents, threads, |r| {
                Throughput::Elements(r.instructions.unwrap_or(0))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
