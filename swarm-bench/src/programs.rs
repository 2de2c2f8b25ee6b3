//! The real-program workloads: C programs built from their upstream sources into import-free
//! modules (`swarm-bench/programs/`, rebuilt by `cargo xtask programs`). Each exports
//! `run(seed: i32) -> i64`, which runs the program on inputs derived from the seed and returns a
//! checksum; agent `i` calls `run(i)`.

use std::sync::Arc;

use swarm_host::{ModuleInfo, Value};

use crate::Workload;

/// A program's name and its module, checked in beside its sources.
macro_rules! program {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../programs/", $name, "/", $name, ".wasm")),
        )
    };
}

/// Each program's name (its directory under `swarm-bench/programs/`) and module.
pub const PROGRAMS: [(&str, &[u8]); 13] = [
    program!("coremark"),
    program!("shootout-keccak"),
    program!("shootout-ed25519"),
    program!("shootout-heapsort"),
    program!("shootout-xchacha20"),
    program!("shootout-base64"),
    program!("shootout-gimli"),
    program!("polybench-gemm"),
    program!("polybench-seidel-2d"),
    program!("polybench-jacobi-2d"),
    program!("polybench-floyd-warshall"),
    program!("zlib"),
    program!("jsmn"),
];

/// CoreMark iterations one `run` performs (`-DITERATIONS` in `coremark/build.args`).
pub const COREMARK_ITERATIONS: u32 = 4;

/// Whether `name` is one of the real programs.
pub fn is_program(name: &str) -> bool {
    PROGRAMS.iter().any(|(n, _)| *n == name)
}

/// Every real program as a workload: agent `i` calls `run(i)`, with the memory its module
/// declares.
pub fn programs() -> Vec<Workload> {
    PROGRAMS
        .iter()
        .map(|(name, wasm)| {
            let info = ModuleInfo::parse(wasm).expect("the checked-in programs are valid");
            Workload {
                name,
                wasm: Arc::from(*wasm),
                export: "run",
                work: 0,
                memory_pages: info.memory_pages as u32,
                make_args: |i, _| vec![Value::I32(i as i32)],
            }
        })
        .collect()
}
