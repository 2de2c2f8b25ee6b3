//! The checked-in real programs still compute the checksums recorded when they were built
//! (`programs/checksums.tsv`, from a native build of the same sources), on wasmtime, with a
//! fresh instance and with one instance reused across seeds; and every program the benchmark
//! knows is recorded there.

use swarm_bench::programs::PROGRAMS;

#[test]
fn programs_return_their_recorded_checksums_on_wasmtime() {
    let table = include_str!("../programs/checksums.tsv");
    let expected: Vec<(&str, i32, i64)> = table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut fields = l.split('\t');
            let mut next = || fields.next().expect("three fields");
            (next(), next().parse().unwrap(), next().parse().unwrap())
        })
        .collect();
    let engine = wasmtime::Engine::default();
    for (name, wasm) in PROGRAMS {
        let module = wasmtime::Module::new(&engine, wasm).unwrap();
        let mut reused = wasmtime::Store::new(&engine, ());
        let instance = wasmtime::Instance::new(&mut reused, &module, &[]).unwrap();
        let run_reused = instance
            .get_typed_func::<i32, i64>(&mut reused, "run")
            .unwrap();
        let rows: Vec<_> = expected.iter().filter(|(n, _, _)| *n == name).collect();
        assert!(rows.len() >= 2, "{name}: no recorded checksums");
        for (_, seed, checksum) in rows.into_iter().rev() {
            let mut store = wasmtime::Store::new(&engine, ());
            let fresh = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
            let run = fresh.get_typed_func::<i32, i64>(&mut store, "run").unwrap();
            assert_eq!(
                run.call(&mut store, *seed).unwrap(),
                *checksum,
                "{name}({seed})"
            );
            assert_eq!(
                run_reused.call(&mut reused, *seed).unwrap(),
                *checksum,
                "{name}({seed}) after other seeds"
            );
        }
    }
}
