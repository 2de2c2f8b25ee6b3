//! The engines the fuzzer compares, each running calls in fresh instances and reporting how
//! each ended and the exported state it left: swarm on the GPU, wasmtime (the reference) and
//! wasmi (a second opinion, for calls only).

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use swarm_host::{AgentId, Imports, Outcome, StoreState, Swarm, TrapCode, ValType, Value};
use swarm_shader::program::{Export, Program};

/// One call: an export and its arguments.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub(crate) export: String,
    pub(crate) args: Vec<Value>,
}

/// How a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum End {
    Returned(Vec<Value>),
    Trapped(TrapCode),
}

/// The exported state a call left, by export name: globals as bits (references as 0 for null,
/// 1 otherwise), memories as their size in pages and bytes without trailing zeros, tables as
/// which elements are non-null.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) globals: Vec<(String, u64)>,
    pub(crate) memories: Vec<(String, u32, Vec<u8>)>,
    pub(crate) tables: Vec<(String, Vec<bool>)>,
}

/// How a call ended, the state it left (`None` where instantiation itself trapped), and the
/// fuel it consumed when it returned (wasmtime does not keep an exact count across a trap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Observed {
    pub(crate) end: End,
    pub(crate) state: Option<State>,
    pub(crate) fuel: Option<u64>,
}

/// A module's exports, sorted by name, that the fuzzer calls or inspects.
#[derive(Clone, Debug, Default)]
pub(crate) struct Shape {
    /// Exported functions with numeric results (reference parameters get null): name and
    /// parameters.
    pub(crate) funcs: Vec<(String, Vec<ValType>)>,
    pub(crate) globals: Vec<(String, u32, bool)>,
    pub(crate) memories: Vec<(String, u32)>,
    pub(crate) tables: Vec<(String, u32)>,
}

fn numeric(ty: &ValType) -> bool {
    matches!(
        ty,
        ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64
    )
}

impl Shape {
    pub(crate) fn of(program: &Program, max_results: usize) -> Self {
        let mut exports: Vec<_> = program.exports.iter().collect();
        exports.sort_by(|a, b| a.0.cmp(b.0));
        let mut shape = Self::default();
        for (name, export) in exports {
            let name = name.clone();
            match *export {
                Export::Func(index) => {
                    let ty = &program.funcs[index as usize].ty;
                    if ty.results.iter().all(numeric) && ty.results.len() <= max_results {
                        shape.funcs.push((name, ty.params.clone()));
                    }
                }
                Export::Global(index) => {
                    let reference = !numeric(&program.globals[index as usize].ty);
                    shape.globals.push((name, index, reference));
                }
                Export::Memory(index) => shape.memories.push((name, index)),
                Export::Table(index) => shape.tables.push((name, index)),
            }
        }
        shape
    }
}

fn trimmed(bytes: &[u8]) -> Vec<u8> {
    let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    bytes[..end].to_vec()
}

/// Runs every call in its own agent of `swarm` (loaded with the module already), to the end.
pub(crate) fn run_swarm(swarm: &mut Swarm, shape: &Shape, calls: &[Call]) -> Result<Vec<Observed>> {
    let mut ids: Vec<AgentId> = Vec::with_capacity(calls.len());
    let mut start = 0;
    while start < calls.len() {
        let export = &calls[start].export;
        let end = calls[start..]
            .iter()
            .position(|c| &c.export != export)
            .map_or(calls.len(), |n| start + n);
        let args: Vec<&[Value]> = calls[start..end].iter().map(|c| &c.args[..]).collect();
        ids.extend(swarm.spawn_many(export, args)?);
        start = end;
    }
    let report = swarm.run()?;
    let outcomes: HashMap<u32, (Outcome, u64)> = report
        .agents
        .into_iter()
        .map(|a| (a.id.slot(), (a.outcome, a.fuel)))
        .collect();
    let mut observed = Vec::with_capacity(calls.len());
    for id in &ids {
        let (end, fuel) = match outcomes.get(&id.slot()) {
            Some((Outcome::Finished(values), fuel)) => (End::Returned(values.clone()), Some(*fuel)),
            Some((Outcome::Trapped(trap), _)) => (End::Trapped(*trap), None),
            other => bail!("agent {id} did not finish: {other:?}"),
        };
        let snapshot = swarm.snapshot(*id)?;
        observed.push(Observed {
            end,
            state: Some(swarm_state(&snapshot, shape)),
            fuel,
        });
    }
    swarm.kill_many(&ids)?;
    Ok(observed)
}

fn swarm_state(snapshot: &StoreState, shape: &Shape) -> State {
    State {
        globals: shape
            .globals
            .iter()
            .map(|(name, index, reference)| {
                let bits = snapshot.global_bits(*index).unwrap_or(0);
                let bits = if *reference {
                    u64::from(bits != u64::from(u32::MAX))
                } else {
                    bits
                };
                (name.clone(), bits)
            })
            .collect(),
        memories: shape
            .memories
            .iter()
            .map(|(name, index)| {
                let (pages, bytes) = snapshot.memory(*index).unwrap_or((0, &[]));
                (name.clone(), pages, trimmed(bytes))
            })
            .collect(),
        tables: shape
            .tables
            .iter()
            .map(|(name, index)| {
                let elements = snapshot.table(*index).unwrap_or(&[]);
                (
                    name.clone(),
                    elements.iter().map(|e| *e != u32::MAX).collect(),
                )
            })
            .collect(),
    }
}

/// wasmtime, the reference, counting fuel.
pub(crate) struct Wasmtime {
    engine: wasmtime::Engine,
}

/// Fuel for a run without a limit.
const UNLIMITED: u64 = i64::MAX as u64;

/// A lifetime fuel limit, as swarm applies it: its agents start with the instantiation's fuel
/// (wasmtime's startup function, as swarm models it), then run the start function, then the
/// call.
pub(crate) struct Limit {
    /// The agent's lifetime fuel.
    pub(crate) total: u64,
    /// swarm's instantiation fuel (`Program::startup_fuel`).
    pub(crate) startup: u64,
    /// Whether the module has a start function.
    pub(crate) start: bool,
}

impl Limit {
    /// The fuel a wasmtime store gets for the call once instantiated with `left` of `total`:
    /// what a swarm agent has left after swarm's instantiation fuel, or, where a start function
    /// ran, what wasmtime has left (the start function's own fuel is only known from there).
    fn call_fuel(&self, left: u64) -> u64 {
        if self.start {
            left
        } else {
            self.total.saturating_sub(self.startup)
        }
    }
}

impl Wasmtime {
    pub(crate) fn new() -> Result<Self> {
        let mut config = wasmtime::Config::new();
        config.consume_fuel(true);
        Ok(Self {
            engine: wasmtime::Engine::new(&config)
                .map_err(|e| anyhow::anyhow!("wasmtime: {e:#}"))?,
        })
    }

    /// Compiles `wasm` once for the runs of a case.
    pub(crate) fn compile(&self, wasm: &[u8]) -> Result<wasmtime::Module> {
        wasmtime::Module::new(&self.engine, wasm)
            .map_err(|e| anyhow::anyhow!("wasmtime refuses the module: {e:#}"))
    }

    /// Runs every call in a fresh instance, without a fuel limit or under `limit`.
    pub(crate) fn run(
        &self,
        module: &wasmtime::Module,
        shape: &Shape,
        calls: &[Call],
        limit: Option<&Limit>,
    ) -> Result<Vec<Observed>> {
        calls
            .iter()
            .map(|call| self.call(module, shape, call, limit))
            .collect()
    }

    fn call(
        &self,
        module: &wasmtime::Module,
        shape: &Shape,
        call: &Call,
        limit: Option<&Limit>,
    ) -> Result<Observed> {
        // The limit covers instantiation too (a start function runs in it).
        let mut store = wasmtime::Store::new(&self.engine, ());
        store
            .set_fuel(limit.map_or(UNLIMITED, |limit| limit.total))
            .map_err(|e| anyhow::anyhow!("setting wasmtime's fuel: {e:#}"))?;
        let instance = match wasmtime::Instance::new(&mut store, module, &[]) {
            Ok(instance) => instance,
            Err(err) => {
                return Ok(Observed {
                    end: End::Trapped(wasmtime_trap(&err)?),
                    state: None,
                    fuel: None,
                });
            }
        };
        let left = store
            .get_fuel()
            .map_err(|e| anyhow::anyhow!("reading wasmtime's fuel: {e:#}"))?;
        let fuel = limit.map_or(left, |limit| limit.call_fuel(left));
        store
            .set_fuel(fuel)
            .map_err(|e| anyhow::anyhow!("setting wasmtime's fuel: {e:#}"))?;
        let before = fuel;
        let func = instance
            .get_func(&mut store, &call.export)
            .context("the export exists")?;
        let mut results = vec![wasmtime::Val::I32(0); func.ty(&store).results().len()];
        let args: Vec<wasmtime::Val> = call
            .args
            .iter()
            .map(|v| match *v {
                Value::I32(x) => wasmtime::Val::I32(x),
                Value::I64(x) => wasmtime::Val::I64(x),
                Value::F32(x) => wasmtime::Val::F32(x),
                Value::F64(x) => wasmtime::Val::F64(x),
                Value::FuncRef(_) => wasmtime::Val::FuncRef(None),
                Value::ExternRef(_) => wasmtime::Val::ExternRef(None),
            })
            .collect();
        let outcome = func.call(&mut store, &args, &mut results);
        let after = store
            .get_fuel()
            .map_err(|e| anyhow::anyhow!("reading wasmtime's fuel: {e:#}"))?;
        let spent = before - after;
        let end = match outcome {
            Ok(()) => End::Returned(
                results
                    .iter()
                    .map(|v| match *v {
                        wasmtime::Val::I32(x) => Value::I32(x),
                        wasmtime::Val::I64(x) => Value::I64(x),
                        wasmtime::Val::F32(x) => Value::F32(x),
                        wasmtime::Val::F64(x) => Value::F64(x),
                        _ => unreachable!("numeric results only"),
                    })
                    .collect(),
            ),
            Err(err) => End::Trapped(wasmtime_trap(&err)?),
        };
        let mut state = State::default();
        for (name, _, _) in &shape.globals {
            let global = instance
                .get_global(&mut store, name)
                .context("an exported global")?;
            let bits = match global.get(&mut store) {
                wasmtime::Val::I32(x) => u64::from(x as u32),
                wasmtime::Val::I64(x) => x as u64,
                wasmtime::Val::F32(x) => u64::from(x),
                wasmtime::Val::F64(x) => x,
                wasmtime::Val::FuncRef(f) => u64::from(f.is_some()),
                wasmtime::Val::ExternRef(r) => u64::from(r.is_some()),
                other => bail!("unexpected global value {other:?}"),
            };
            state.globals.push((name.clone(), bits));
        }
        for (name, _) in &shape.memories {
            let memory = instance
                .get_memory(&mut store, name)
                .context("an exported memory")?;
            let pages = memory.size(&store) as u32;
            state
                .memories
                .push((name.clone(), pages, trimmed(memory.data(&store))));
        }
        for (name, _) in &shape.tables {
            let table = instance
                .get_table(&mut store, name)
                .context("an exported table")?;
            let size = table.size(&store);
            let elements = (0..size)
                .map(|i| match table.get(&mut store, i) {
                    Some(wasmtime::Ref::Func(f)) => f.is_some(),
                    Some(wasmtime::Ref::Extern(r)) => r.is_some(),
                    _ => false,
                })
                .collect();
            state.tables.push((name.clone(), elements));
        }
        // Past a limit, wasmtime's store reports no fuel left rather than how far past.
        let fuel = (fuel == UNLIMITED && matches!(end, End::Returned(_))).then_some(spent);
        Ok(Observed {
            end,
            state: Some(state),
            fuel,
        })
    }
}

fn wasmtime_trap(err: &wasmtime::Error) -> Result<TrapCode> {
    use wasmtime::Trap;
    let Some(trap) = err.downcast_ref::<Trap>() else {
        bail!("wasmtime failed without a trap: {err:#}");
    };
    Ok(match trap {
        Trap::StackOverflow => TrapCode::CallStackExhausted,
        Trap::MemoryOutOfBounds | Trap::HeapMisaligned => TrapCode::MemoryOutOfBounds,
        Trap::TableOutOfBounds => TrapCode::TableOutOfBounds,
        Trap::IndirectCallToNull => TrapCode::IndirectCallToNull,
        Trap::BadSignature => TrapCode::IndirectCallTypeMismatch,
        Trap::IntegerOverflow => TrapCode::IntegerOverflow,
        Trap::IntegerDivisionByZero => TrapCode::IntegerDivideByZero,
        Trap::BadConversionToInteger => TrapCode::InvalidConversionToInteger,
        Trap::UnreachableCodeReached => TrapCode::Unreachable,
        Trap::OutOfFuel => TrapCode::OutOfFuel,
        other => bail!("wasmtime trapped with {other}, which WebAssembly 2.0 has not"),
    })
}

/// How wasmi ends `call` in a fresh instance: a second opinion where wasmtime and swarm agree.
pub(crate) fn run_wasmi(wasm: &[u8], call: &Call) -> Result<End> {
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, wasm).context("wasmi compiles")?;
    let mut store = wasmi::Store::new(&engine, ());
    let linker = wasmi::Linker::<()>::new(&engine);
    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(instance) => instance,
        Err(err) => return wasmi_trap(&err).map(End::Trapped),
    };
    let func = instance
        .get_func(&store, &call.export)
        .context("the export exists")?;
    let mut results = vec![wasmi::Val::I32(0); func.ty(&store).results().len()];
    let args: Vec<wasmi::Val> = call
        .args
        .iter()
        .map(|v| match *v {
            Value::I32(x) => wasmi::Val::I32(x),
            Value::I64(x) => wasmi::Val::I64(x),
            Value::F32(x) => wasmi::Val::F32(wasmi::F32::from_bits(x)),
            Value::F64(x) => wasmi::Val::F64(wasmi::F64::from_bits(x)),
            Value::FuncRef(_) => wasmi::Val::FuncRef(wasmi::Nullable::Null),
            Value::ExternRef(_) => wasmi::Val::ExternRef(wasmi::Nullable::Null),
        })
        .collect();
    match func.call(&mut store, &args, &mut results) {
        Ok(()) => Ok(End::Returned(
            results
                .iter()
                .map(|v| match v {
                    wasmi::Val::I32(x) => Value::I32(*x),
                    wasmi::Val::I64(x) => Value::I64(*x),
                    wasmi::Val::F32(x) => Value::F32(x.to_bits()),
                    wasmi::Val::F64(x) => Value::F64(x.to_bits()),
                    _ => unreachable!("numeric results only"),
                })
                .collect(),
        )),
        Err(err) => wasmi_trap(&err).map(End::Trapped),
    }
}

fn wasmi_trap(err: &wasmi::Error) -> Result<TrapCode> {
    use wasmi::TrapCode as T;
    let Some(trap) = err.as_trap_code() else {
        bail!("wasmi failed without a trap: {err}");
    };
    Ok(match trap {
        T::UnreachableCodeReached => TrapCode::Unreachable,
        T::MemoryOutOfBounds => TrapCode::MemoryOutOfBounds,
        T::TableOutOfBounds => TrapCode::TableOutOfBounds,
        T::IndirectCallToNull => TrapCode::IndirectCallToNull,
        T::IntegerDivisionByZero => TrapCode::IntegerDivideByZero,
        T::IntegerOverflow => TrapCode::IntegerOverflow,
        T::BadConversionToInteger => TrapCode::InvalidConversionToInteger,
        T::StackOverflow => TrapCode::CallStackExhausted,
        T::BadSignature => TrapCode::IndirectCallTypeMismatch,
        T::OutOfFuel => TrapCode::OutOfFuel,
        other => bail!("wasmi trapped with {other:?}"),
    })
}

/// Loads `wasm` into `swarm`, or says why swarm refuses it.
pub(crate) fn load(swarm: &mut Swarm, wasm: &[u8]) -> Result<()> {
    swarm
        .load_module(wasm, &Imports::new())
        .map_err(anyhow::Error::from)
}
