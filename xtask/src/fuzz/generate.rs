//! The fuzzer's inputs: modules from wasm-smith, and call arguments that mix the agent's index
//! with edge values.

use anyhow::{Context, Result};
use swarm_host::{ValType, Value};

/// SplitMix64: a seeded stream of well-mixed words.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// WebAssembly 2.0 without SIMD, no imports, every item exported, memories and tables with
/// maximums, small enough for lavapipe.
fn config() -> wasm_smith::Config {
    wasm_smith::Config {
        max_imports: 0,
        min_funcs: 1,
        max_funcs: 8,
        max_instructions: 80,
        max_memories: 1,
        max_tables: 2,
        max_memory32_bytes: 2 * 65_536,
        memory_max_size_required: true,
        table_max_size_required: true,
        max_table_elements: 200,
        max_globals: 12,
        max_data_segments: 4,
        max_element_segments: 4,
        max_elements: 20,
        max_exports: 40,
        max_tags: 0,
        max_nesting_depth: 6,
        export_everything: true,
        allow_start_export: true,
        // NaN results canonical, so every engine's floats compare bit for bit.
        canonicalize_nans: true,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        tail_call_enabled: false,
        memory64_enabled: false,
        extended_const_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        compact_imports_enabled: false,
        ..wasm_smith::Config::default()
    }
}

/// Loop iterations and calls each call may make before the module traps on its own
/// (wasm-smith's `ensure_termination`).
const MODULE_FUEL: u32 = 200;

/// The module of case `seed`.
pub(crate) fn module(seed: u64) -> Result<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let bytes: Vec<u8> = (0..16_384).map(|_| rng.next() as u8).collect();
    let mut u = arbitrary::Unstructured::new(&bytes);
    let mut module = wasm_smith::Module::new(config(), &mut u)
        .with_context(|| format!("wasm-smith failed on case {seed}"))?;
    module.ensure_termination(MODULE_FUEL)?;
    Ok(module.to_bytes())
}

const I32_EDGES: [i32; 9] = [0, 1, -1, i32::MIN, i32::MAX, 0x7f, 0x80, 0xffff, 0x1_0000];
const I64_EDGES: [i64; 8] = [
    0,
    1,
    -1,
    i64::MIN,
    i64::MAX,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff,
];
/// Zeros of both signs, ones, the extremes, a subnormal, infinities, NaNs quiet and signalling
/// with payloads and both signs, and values at the edges of integer conversion.
const F32_EDGES: [u32; 14] = [
    0x0000_0000,
    0x8000_0000,
    0x3f80_0000,
    0xbf80_0000,
    0x7f7f_ffff,
    0x0000_0001,
    0x7f80_0000,
    0xff80_0000,
    0x7fc0_0000,
    0xffc0_0123,
    0x7fa0_0001,
    0x4f00_0000,
    0xcf00_0001,
    0x3f00_0000,
];
const F64_EDGES: [u64; 14] = [
    0x0000_0000_0000_0000,
    0x8000_0000_0000_0000,
    0x3ff0_0000_0000_0000,
    0xbff0_0000_0000_0000,
    0x7fef_ffff_ffff_ffff,
    0x0000_0000_0000_0001,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7ff8_0000_0000_0000,
    0xfff8_0000_0000_0123,
    0x7ff4_0000_0000_0001,
    0x43e0_0000_0000_0000,
    0xc1e0_0000_0020_0000,
    0x3fe0_0000_0000_0000,
];

/// The arguments of agent `agent` for parameters `params`: edge values, the agent's index and
/// random bits, in a mix that differs by agent, parameter and case.
pub(crate) fn args(params: &[ValType], agent: u32, case: u64) -> Vec<Value> {
    let mut rng = Rng::new(case ^ (u64::from(agent) << 32));
    params
        .iter()
        .enumerate()
        .map(|(index, ty)| {
            let pick = (u64::from(agent) * 7 + index as u64 * 13 + case) % 4;
            let random = rng.next();
            let edge = random as usize;
            match (ty, pick) {
                (ValType::I32, 0) => Value::I32(I32_EDGES[edge % I32_EDGES.len()]),
                (ValType::I32, 1) => Value::I32(agent as i32),
                (ValType::I32, _) => Value::I32(random as i32 >> (random >> 59)),
                (ValType::I64, 0) => Value::I64(I64_EDGES[edge % I64_EDGES.len()]),
                (ValType::I64, 1) => Value::I64(i64::from(agent)),
                (ValType::I64, _) => Value::I64(random as i64 >> (random >> 58)),
                (ValType::F32, 0 | 1) => Value::F32(F32_EDGES[edge % F32_EDGES.len()]),
                (ValType::F32, 2) => Value::F32((agent as f32 * 0.75 - 3.0).to_bits()),
                (ValType::F32, _) => Value::F32(random as u32),
                (ValType::F64, 0 | 1) => Value::F64(F64_EDGES[edge % F64_EDGES.len()]),
                (ValType::F64, 2) => Value::F64((f64::from(agent) * 0.75 - 3.0).to_bits()),
                (ValType::F64, _) => Value::F64(random),
                (ValType::FuncRef, _) => Value::FuncRef(None),
                (ValType::ExternRef, _) => Value::ExternRef(None),
            }
        })
        .collect()
}
