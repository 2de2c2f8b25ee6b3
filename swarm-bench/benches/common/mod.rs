//! What the throughput and scaling benches share: one workload at one agent count on swarm,
//! wasmtime and wasmi, each peer's results checked against swarm's before anything is timed.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Throughput};
use swarm_bench::{Run, SwarmRunner, Workload, peers};

/// Benchmarks `workload` at `agents` agents on every engine in `group`, with the throughput
/// `throughput` computes from swarm's checked reference run.
pub(crate) fn every_engine(
    group: &mut BenchmarkGroup<'_, WallTime>,
    runner: &mut SwarmRunner,
    workload: &Workload,
    agents: u32,
    threads: usize,
    throughput: impl Fn(&Run) -> Throughput,
) {
    let reference = runner.run(workload, agents).expect("swarm runs");
    let wasmtime = peers::wasmtime(workload, agents, threads).expect("wasmtime runs");
    reference
        .check_same(workload, &wasmtime, "wasmtime")
        .expect("same results");
    let wasmi = peers::wasmi(workload, agents, threads).expect("wasmi runs");
    reference
        .check_same(workload, &wasmi, "wasmi")
        .expect("same results");
    group.throughput(throughput(&reference));
    group.bench_function(BenchmarkId::new("swarm", agents), |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| runner.run(workload, agents).expect("runs").elapsed)
                .sum()
        });
    });
    type Peer = fn(&Workload, u32, usize) -> anyhow::Result<Run>;
    for (name, peer) in [
        ("wasmtime", peers::wasmtime as Peer),
        ("wasmi", peers::wasmi as Peer),
    ] {
        group.bench_function(BenchmarkId::new(name, agents), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| peer(workload, agents, threads).expect("runs").elapsed)
                    .sum()
            });
        });
    }
}
