//! Throughput: WebAssembly instructions per second (wasmtime's fuel model, counted by swarm)
//! for each workload and agent count, on swarm, wasmtime and wasmi in one process and run.
//!
//! `SWARM_BENCH_AGENTS` (default `1024,16384,131072,1048576`) sets the agent counts and
//! `SWARM_BENCH_GUEST_MAX` (default 131072) the largest count for the Rust guests. Every
//! engine's results are compared with swarm's before anything is timed.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use swarm_bench::{check_same, host_threads, parse_counts, peers, run_swarm, swarm_for, workloads};

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
    for workload in workloads() {
        let mut group = c.benchmark_group(format!("throughput/{}", workload.name));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for &agents in &counts {
            if workload.name != "xorshift" && agents > guest_max {
                continue;
            }
            let mut swarm = swarm_for(&workload, agents).expect("a swarm");
            let (reference, instructions) =
                run_swarm(&mut swarm, &workload, agents).expect("swarm runs");
            let wasmtime = peers::wasmtime(&workload, agents, threads).expect("wasmtime runs");
            check_same(&workload, &reference, &wasmtime, "wasmtime").expect("same results");
            let wasmi = peers::wasmi(&workload, agents, threads).expect("wasmi runs");
            check_same(&workload, &reference, &wasmi, "wasmi").expect("same results");
            eprintln!(
                "{} x {agents}: {instructions} instructions; results agree on swarm ({}), \
                 wasmtime and wasmi ({threads} threads); first GPU time {:?}",
                workload.name,
                swarm.adapter().name,
                reference.gpu
            );
            group.throughput(Throughput::Elements(instructions));
            group.bench_function(BenchmarkId::new("swarm", agents), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            run_swarm(&mut swarm, &workload, agents)
                                .expect("runs")
                                .0
                                .elapsed
                        })
                        .sum()
                });
            });
            group.bench_function(BenchmarkId::new("wasmtime", agents), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            peers::wasmtime(&workload, agents, threads)
                                .expect("runs")
                                .elapsed
                        })
                        .sum()
                });
            });
            group.bench_function(BenchmarkId::new("wasmi", agents), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            peers::wasmi(&workload, agents, threads)
                                .expect("runs")
                                .elapsed
                        })
                        .sum()
                });
            });
        }
        group.finish();
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
