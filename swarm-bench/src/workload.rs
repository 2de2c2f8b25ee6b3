//! The benchmark workloads: the calibration xorshift loop and the Rust guest programs, each with
//! the arguments agent `i` gets and a work size per scale.

use std::sync::Arc;

use swarm_host::Value;

/// How much work a benchmark run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// The full benchmark: about 30,000 instructions per agent.
    Full,
    /// A smoke test that finishes in minutes on a software adapter: about a tenth of the work.
    Quick,
}

/// One benchmark workload: a module, an export and each agent's arguments.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Short name for reports.
    pub name: &'static str,
    /// The module, binary. Workloads of one module share the bytes.
    pub wasm: Arc<[u8]>,
    /// The export every agent calls.
    pub export: &'static str,
    /// The work argument (iterations, rounds, samples, ...).
    pub work: i32,
    /// Linear-memory pages each agent gets (`SwarmConfig::max_memory_pages`).
    pub memory_pages: u32,
    /// Agent `i`'s arguments, given the work argument.
    pub(crate) make_args: fn(u32, i32) -> Vec<Value>,
}

impl Workload {
    /// Agent `agent`'s arguments.
    pub fn args(&self, agent: u32) -> Vec<Value> {
        (self.make_args)(agent, self.work)
    }

    /// Whether the workload is one of the compiled Rust guests.
    pub fn is_guest(&self) -> bool {
        self.name != "xorshift"
    }
}

/// The xorshift loop of the calibration runs: 29 instructions per iteration, i32 only.
pub const XORSHIFT_WAT: &str = include_str!("xorshift.wat");

/// The Rust guest programs (see `guests/README.md`), built for wasm32.
pub const GUESTS_WASM: &[u8] = include_bytes!("../guests/swarm_guests.wasm");

/// The xorshift workload alone.
pub fn xorshift(scale: Scale) -> Workload {
    Workload {
        name: "xorshift",
        wasm: wat::parse_str(XORSHIFT_WAT)
            .expect("the xorshift module is valid WAT")
            .into(),
        export: "xorshift",
        work: pick(scale, 1_000, 100),
        memory_pages: 1,
        make_args: |i, n| vec![Value::I32(i as i32), Value::I32(n)],
    }
}

/// Every workload: xorshift, then the seven Rust guests.
pub fn workloads(scale: Scale) -> Vec<Workload> {
    let guests: Arc<[u8]> = GUESTS_WASM.into();
    let guest = |name, export, full, quick, make_args| Workload {
        name,
        wasm: guests.clone(),
        export,
        work: pick(scale, full, quick),
        memory_pages: 1,
        make_args,
    };
    vec![
        xorshift(scale),
        // Every agent computes the same Fibonacci number: calls and returns only.
        guest("fib", "fib", 16, 11, |_, n| vec![Value::I32(n)]),
        // Data-dependent loop lengths: agents diverge.
        guest("collatz", "collatz", 16, 2, |i, n| {
            vec![Value::I32(i as i32), Value::I32(n)]
        }),
        guest("sha256", "sha256_chain", 2, 1, |i, n| {
            vec![Value::I32(i as i32), Value::I32(n)]
        }),
        guest("monte_carlo_pi", "monte_carlo_pi", 500, 50, |i, n| {
            vec![Value::I32(i as i32), Value::I32(n)]
        }),
        // 64 points along the real axis, most of them inside the set.
        guest("mandelbrot", "mandelbrot", 50, 5, |i, n| {
            vec![Value::I32(32_896 + (i % 64) as i32), Value::I32(n)]
        }),
        guest("insertion_sort", "insertion_sort", 64, 20, |i, n| {
            vec![Value::I32(i as i32), Value::I32(n)]
        }),
        guest("mix64", "mix64", 750, 75, |i, n| {
            vec![Value::I64(i64::from(i)), Value::I32(n)]
        }),
    ]
}

fn pick(scale: Scale, full: i32, quick: i32) -> i32 {
    match scale {
        Scale::Full => full,
        Scale::Quick => quick,
    }
}
