//! The cases `cargo xtask fuzz` found, kept in `tests/fuzz/*.wat`: every exported function with
//! numeric parameters and results is called by a few agents, and each agent's results or trap
//! and the exported globals it leaves (snapshot bits, 32-bit types by their low word) must be
//! wasmtime's.

use std::path::Path;

use swarm_host::{Imports, Swarm, SwarmConfig, ValType, Value};

use crate::reference::assert_agents_match;

/// Arguments for a few agents: zeros, ones, and extremes.
fn arguments(params: &[ValType]) -> Vec<Vec<Value>> {
    let pick = |ty: &ValType, k: usize| match ty {
        ValType::I32 => Value::I32([0, 1, i32::MIN][k]),
        ValType::I64 => Value::I64([0, 1, i64::MIN][k]),
        ValType::F32 => Value::F32([0.0_f32, 1.0, f32::MAX][k].to_bits()),
        ValType::F64 => Value::F64([0.0_f64, 1.0, f64::MAX][k].to_bits()),
        ValType::FuncRef => Value::FuncRef(None),
        ValType::ExternRef => Value::ExternRef(None),
    };
    (0..3)
        .map(|k| params.iter().map(|ty| pick(ty, k)).collect())
        .collect()
}

/// wasmtime's value of exported global `name` after `export` ran with `args` in a fresh
/// instance, as bits (a 32-bit type's low word).
fn wasmtime_global(wasm: &[u8], export: &str, args: &[Value], name: &str) -> Option<u64> {
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, wasm).unwrap();
    let mut store = wasmtime::Store::new(&engine, ());
    let instance = wasmtime::Instance::new(&mut store, &module, &[]).ok()?;
    let func = instance.get_func(&mut store, export).unwrap();
    let args: Vec<wasmtime::Val> = args
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
    let mut results = vec![wasmtime::Val::I32(0); func.ty(&store).results().len()];
    let _ = func.call(&mut store, &args, &mut results);
    match instance.get_global(&mut store, name)?.get(&mut store) {
        wasmtime::Val::I32(x) => Some(u64::from(x as u32)),
        wasmtime::Val::I64(x) => Some(x as u64),
        wasmtime::Val::F32(x) => Some(u64::from(x)),
        wasmtime::Val::F64(x) => Some(x),
        _ => None,
    }
}

#[test]
fn kept_fuzz_cases_match_wasmtime() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wat"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    let mut swarm = Swarm::new(SwarmConfig {
        max_agents: 64,
        max_memory_pages: 2,
        value_stack_slots: 4_096,
        call_frames: 512,
        max_results: 32,
        ..SwarmConfig::default()
    })
    .unwrap();
    for path in &cases {
        let wasm = wat::parse_file(path).unwrap();
        let program = exports(&wasm);
        swarm.load_module(&wasm, &Imports::new()).unwrap();
        for (export, params, results) in &program.0 {
            if !results
                .iter()
                .all(|t| !matches!(t, ValType::FuncRef | ValType::ExternRef))
            {
                continue;
            }
            let calls = arguments(params);
            let ids = swarm.spawn_many(export, &calls).unwrap();
            let report = swarm.run().unwrap();
            assert_agents_match(&wasm, export, &report.agents, &calls);
            for (id, args) in ids.iter().zip(&calls) {
                let state = swarm.snapshot(*id).unwrap();
                for (name, index) in &program.1 {
                    let want = wasmtime_global(&wasm, export, args, name);
                    if want.is_some() {
                        assert_eq!(
                            state.global_bits(*index),
                            want,
                            "{}: global {name:?} after {export}{args:?}",
                            path.display()
                        );
                    }
                }
            }
            swarm.kill_many(&ids).unwrap();
        }
    }
}

/// The module's exported functions (name, parameters, results) and exported globals (name,
/// index).
#[allow(clippy::type_complexity)]
fn exports(
    wasm: &[u8],
) -> (
    Vec<(String, Vec<ValType>, Vec<ValType>)>,
    Vec<(String, u32)>,
) {
    let info = swarm_host::ModuleInfo::parse(wasm).unwrap();
    let funcs = info
        .functions
        .iter()
        .map(|f| (f.name.clone(), f.params.clone(), f.results.clone()))
        .collect();
    let mut globals = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::ExportSection(section) = payload.unwrap() {
            for export in section {
                let export = export.unwrap();
                if export.kind == wasmparser::ExternalKind::Global {
                    globals.push((export.name.to_owned(), export.index));
                }
            }
        }
    }
    (funcs, globals)
}
