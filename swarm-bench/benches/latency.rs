//! Dispatch latency and the single-instance baseline: the round trip of 1,024 trivial agents
//! (spawn, one dispatch, harvest), and 1,024 xorshift agents in one swarm run against the same
//! agents submitted one per dispatch.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use swarm_bench::measure::TRIVIAL_WAT;
use swarm_bench::{Scale, SwarmRunner, xorshift};
use swarm_host::{Outcome, Value};

const AGENTS: u32 = 1_024;

fn latency(c: &mut Criterion) {
    let mut runner = SwarmRunner::new(AGENTS).expect("a swarm");
    let wasm: std::sync::Arc<[u8]> = wat::parse_str(TRIVIAL_WAT).expect("valid WAT").into();
    let calls: Vec<[Value; 1]> = (0..AGENTS as i32).map(|i| [Value::I32(i)]).collect();
    c.bench_function("latency/round trip, 1024 trivial agents", |b| {
        let swarm = runner.swarm_with(&wasm).expect("loads");
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                let ids = swarm.spawn_many("echo", &calls).expect("spawns");
                let report = swarm.dispatch().expect("dispatches");
                total += started.elapsed();
                assert_eq!(
                    report.agents[7].outcome,
                    Outcome::Finished(vec![Value::I32(7)])
                );
                swarm.kill_many(&ids).expect("kills");
                swarm.sync().expect("wipes");
            }
            total
        });
    });

    let workload = xorshift(Scale::Full);
    let mut group = c.benchmark_group("single-instance baseline, 1024 xorshift agents");
    group.sample_size(10);
    group.bench_function("one swarm run", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| runner.run(&workload, AGENTS).expect("runs").elapsed)
                .sum()
        });
    });
    group.bench_function("one agent per dispatch", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    runner
                        .run_one_by_one(&workload, AGENTS)
                        .expect("runs")
                        .elapsed
                })
                .sum()
        });
    });
    group.finish();
}

criterion_group!(benches, latency);
criterion_main!(benches);
