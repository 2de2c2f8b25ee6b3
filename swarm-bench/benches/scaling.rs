//! Scaling: the xorshift loop at 1 to 1,000,000 agents on swarm, wasmtime and wasmi, as
//! agents per second. `SWARM_BENCH_SCALING` overrides the agent counts.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use swarm_bench::{Scale, SwarmRunner, host_threads, parse_counts, xorshift};

mod common;

fn scaling(c: &mut Criterion) {
    let counts = parse_counts(
        &std::env::var("SWARM_BENCH_SCALING")
            .unwrap_or("1,10,100,1000,10000,100000,1000000".into()),
    )
    .expect("agent counts");
    let threads = host_threads();
    let workload = xorshift(Scale::Full);
    let mut runner = SwarmRunner::new(counts.iter().copied().max().unwrap_or(1)).expect("a swarm");
    let mut group = c.benchmark_group("scaling/xorshift");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for &agents in &counts {
        common::every_engine(&mut group, &mut runner, &workload, agents, threads, |_| {
            Throughput::Elements(u64::from(agents))
        });
    }
    group.finish();
}

criterion_group!(benches, scaling);
criterion_main!(benches);
