//! The reference the tests compare swarm with: wasmtime running the same call on the CPU, one
//! fresh instance per call.

use swarm_host::{AgentReport, Outcome, TrapCode, Value};

fn to_wasmtime(value: Value) -> wasmtime::Val {
    match value {
        Value::I32(v) => wasmtime::Val::I32(v),
        Value::I64(v) => wasmtime::Val::I64(v),
        Value::F32(bits) => wasmtime::Val::F32(bits),
        Value::F64(bits) => wasmtime::Val::F64(bits),
        other => panic!("no reference values here: {other:?}"),
    }
}

fn from_wasmtime(value: &wasmtime::Val) -> Value {
    match value {
        wasmtime::Val::I32(v) => Value::I32(*v),
        wasmtime::Val::I64(v) => Value::I64(*v),
        wasmtime::Val::F32(bits) => Value::F32(*bits),
        wasmtime::Val::F64(bits) => Value::F64(*bits),
        other => panic!("unexpected wasmtime value {other:?}"),
    }
}

/// What wasmtime computes for one call of `export` in a fresh instance: its results, or the
/// trap's message. swarm's built-in imports are defined for modules that use them (agent 0 of
/// a swarm of 1, and an output that goes nowhere).
pub(crate) fn reference(wasm: &[u8], export: &str, args: &[Value]) -> Result<Vec<Value>, String> {
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, wasm).expect("valid module");
    let mut store = wasmtime::Store::new(&engine, ());
    let mut linker = wasmtime::Linker::<()>::new(&engine);
    linker
        .func_wrap("swarm", "agent_id", || 0_i32)
        .and_then(|l| l.func_wrap("swarm", "agent_count", || 1_i32))
        .and_then(|l| l.func_wrap("swarm", "output", |_: i32, _: i32| {}))
        .expect("defines swarm's imports");
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|err| trap_message(&err))?;
    let func = instance
        .get_func(&mut store, export)
        .expect("export exists");
    let mut results = vec![wasmtime::Val::I32(0); func.ty(&store).results().len()];
    let args: Vec<_> = args.iter().copied().map(to_wasmtime).collect();
    match func.call(&mut store, &args, &mut results) {
        Ok(()) => Ok(results.iter().map(from_wasmtime).collect()),
        Err(err) => Err(trap_message(&err)),
    }
}

fn trap_message(err: &wasmtime::Error) -> String {
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{err:#}"),
    }
}

/// The swarm trap a wasmtime trap message stands for.
pub(crate) fn trap_of(message: &str) -> Option<TrapCode> {
    [
        ("unreachable", TrapCode::Unreachable),
        ("integer overflow", TrapCode::IntegerOverflow),
        ("divide by zero", TrapCode::IntegerDivideByZero),
        ("invalid conversion", TrapCode::InvalidConversionToInteger),
        ("out of bounds memory", TrapCode::MemoryOutOfBounds),
        ("undefined element", TrapCode::TableOutOfBounds),
        ("out of bounds table", TrapCode::TableOutOfBounds),
        ("uninitialized element", TrapCode::IndirectCallToNull),
        (
            "indirect call type mismatch",
            TrapCode::IndirectCallTypeMismatch,
        ),
        ("call stack exhausted", TrapCode::CallStackExhausted),
        ("all fuel consumed", TrapCode::OutOfFuel),
    ]
    .into_iter()
    .find(|(text, _)| message.contains(text))
    .map(|(_, trap)| trap)
}

/// NaNs compare by class: both NaN is a match (payloads may differ between engines).
pub(crate) fn same(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Value::F32(p), Value::F32(q)) => {
                p == q || (f32::from_bits(*p).is_nan() && f32::from_bits(*q).is_nan())
            }
            (Value::F64(p), Value::F64(q)) => {
                p == q || (f64::from_bits(*p).is_nan() && f64::from_bits(*q).is_nan())
            }
            _ => x == y,
        })
}

/// Asserts that every agent ended as wasmtime ends the same call in a fresh instance: with the
/// same results (NaNs by class) or the same trap.
pub(crate) fn assert_agents_match(
    wasm: &[u8],
    export: &str,
    agents: &[AgentReport],
    calls: &[impl AsRef<[Value]>],
) {
    assert_eq!(agents.len(), calls.len());
    for (agent, args) in agents.iter().zip(calls) {
        let args = args.as_ref();
        match (&agent.outcome, reference(wasm, export, args)) {
            (Outcome::Finished(got), Ok(want)) => assert!(
                same(got, &want),
                "{export}{args:?}: swarm {got:?}, wasmtime {want:?}"
            ),
            (Outcome::Trapped(trap), Err(message)) => assert_eq!(
                Some(*trap),
                trap_of(&message),
                "{export}{args:?}: wasmtime says {message}"
            ),
            (got, want) => panic!("{export}{args:?}: swarm {got:?}, wasmtime {want:?}"),
        }
    }
}
