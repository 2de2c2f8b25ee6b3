//! The CPU peers: wasmtime (pooling allocator, cranelift) and wasmi, one thread per core, one
//! fresh instance per agent, as every swarm agent is its own instance; and wasmtime with one
//! instance per thread reused for every call, for workloads whose calls reset their state.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Result, anyhow};
use swarm_host::Value;

use crate::{Run, Workload};

fn to_wasmtime(value: &Value) -> wasmtime::Val {
    match *value {
        Value::I32(v) => wasmtime::Val::I32(v),
        Value::I64(v) => wasmtime::Val::I64(v),
        Value::F32(b) => wasmtime::Val::F32(b),
        Value::F64(b) => wasmtime::Val::F64(b),
        ref other => panic!("benchmarks pass numbers only, not {other:?}"),
    }
}

fn from_wasmtime(value: &wasmtime::Val) -> Value {
    match value {
        wasmtime::Val::I32(v) => Value::I32(*v),
        wasmtime::Val::I64(v) => Value::I64(*v),
        wasmtime::Val::F32(b) => Value::F32(*b),
        wasmtime::Val::F64(b) => Value::F64(*b),
        other => panic!("benchmarks return numbers only, not {other:?}"),
    }
}

/// wasmtime's errors as anyhow's.
fn wt<T>(result: wasmtime::Result<T>) -> Result<T> {
    result.map_err(|err| anyhow!("wasmtime: {err:?}"))
}

/// wasmtime with the pooling allocator, one instance per agent on `threads` threads.
pub fn wasmtime(workload: &Workload, agents: u32, threads: usize) -> Result<Run> {
    let mut config = wasmtime::Config::new();
    let mut pool = wasmtime::PoolingAllocationConfig::default();
    pool.total_core_instances(threads as u32 * 2)
        .total_memories(threads as u32 * 2)
        .total_tables(threads as u32 * 2)
        .max_memory_size(workload.memory_pages as usize * (1 << 16));
    config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    let engine = wt(wasmtime::Engine::new(&config))?;
    let module = wt(wasmtime::Module::new(&engine, &*workload.wasm))?;
    let linker = wasmtime::Linker::<()>::new(&engine);
    let pre = wt(linker.instantiate_pre(&module))?;
    let started = Instant::now();
    let results = parallel(
        agents,
        threads,
        || Ok(()),
        |(), i| {
            let mut store = wasmtime::Store::new(&engine, ());
            let instance = wt(pre.instantiate(&mut store))?;
            let func = instance
                .get_func(&mut store, workload.export)
                .ok_or_else(|| anyhow!("no export {}", workload.export))?;
            let args: Vec<_> = workload.args(i).iter().map(to_wasmtime).collect();
            let mut out = vec![wasmtime::Val::I32(0); func.ty(&store).results().len()];
            wt(func.call(&mut store, &args, &mut out))?;
            Ok(out.iter().map(from_wasmtime).collect())
        },
    )?;
    Ok(Run::wall_only(results, started))
}

/// wasmtime with one instance per thread, reused for every agent's call on that thread (only for
/// workloads whose calls do not depend on earlier calls, as the real programs' `run`).
pub fn wasmtime_reused(workload: &Workload, agents: u32, threads: usize) -> Result<Run> {
    let engine = wasmtime::Engine::default();
    let module = wt(wasmtime::Module::new(&engine, &*workload.wasm))?;
    let started = Instant::now();
    let results = parallel(
        agents,
        threads,
        || {
            let mut store = wasmtime::Store::new(&engine, ());
            let instance = wt(wasmtime::Instance::new(&mut store, &module, &[]))?;
            let func = instance
                .get_func(&mut store, workload.export)
                .ok_or_else(|| anyhow!("no export {}", workload.export))?;
            Ok((store, func))
        },
        |(store, func), i| {
            let args: Vec<_> = workload.args(i).iter().map(to_wasmtime).collect();
            let mut out = vec![wasmtime::Val::I32(0); func.ty(&*store).results().len()];
            wt(func.call(&mut *store, &args, &mut out))?;
            Ok(out.iter().map(from_wasmtime).collect())
        },
    )?;
    Ok(Run::wall_only(results, started))
}

fn to_wasmi(value: &Value) -> wasmi::Val {
    match *value {
        Value::I32(v) => wasmi::Val::I32(v),
        Value::I64(v) => wasmi::Val::I64(v),
        Value::F32(b) => wasmi::Val::F32(f32::from_bits(b).into()),
        Value::F64(b) => wasmi::Val::F64(f64::from_bits(b).into()),
        ref other => panic!("benchmarks pass numbers only, not {other:?}"),
    }
}

fn from_wasmi(value: &wasmi::Val) -> Value {
    match value {
        wasmi::Val::I32(v) => Value::I32(*v),
        wasmi::Val::I64(v) => Value::I64(*v),
        wasmi::Val::F32(v) => Value::F32(v.to_bits()),
        wasmi::Val::F64(v) => Value::F64(v.to_bits()),
        other => panic!("benchmarks return numbers only, not {other:?}"),
    }
}

/// wasmi, one instance per agent on `threads` threads.
pub fn wasmi(workload: &Workload, agents: u32, threads: usize) -> Result<Run> {
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, &*workload.wasm)?;
    let started = Instant::now();
    let results = parallel(
        agents,
        threads,
        || Ok(wasmi::Linker::<()>::new(&engine)),
        |linker, i| {
            let mut store = wasmi::Store::new(&engine, ());
            let instance = linker.instantiate_and_start(&mut store, &module)?;
            let func = instance
                .get_func(&store, workload.export)
                .ok_or_else(|| anyhow!("no export {}", workload.export))?;
            let args: Vec<_> = workload.args(i).iter().map(to_wasmi).collect();
            let mut out = vec![wasmi::Val::I32(0); func.ty(&store).results().len()];
            func.call(&mut store, &args, &mut out)?;
            Ok(out.iter().map(from_wasmi).collect())
        },
    )?;
    Ok(Run::wall_only(results, started))
}

/// An agent's index and results.
type Indexed = (usize, Vec<Value>);

/// Splits `0..agents` among `threads` workers that take agents in blocks, and collects each
/// agent's result in order.
fn parallel<S>(
    agents: u32,
    threads: usize,
    setup: impl Fn() -> Result<S> + Sync,
    call: impl Fn(&mut S, u32) -> Result<Vec<Value>> + Sync,
) -> Result<Vec<Vec<Value>>> {
    let agents = agents as usize;
    // Small blocks for small counts, so that every thread gets work.
    let block = agents.div_ceil(threads * 8).clamp(1, 256);
    let threads = threads.min(agents).max(1);
    let next = AtomicUsize::new(0);
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
                            let start = next.fetch_add(block, Ordering::Relaxed);
                            if start >= agents {
                                return Ok(out);
                            }
                            for i in start..(start + block).min(agents) {
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
