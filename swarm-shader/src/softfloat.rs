//! IEEE 754 arithmetic in integer WGSL, so float results are exact on every adapter.
//!
//! GPUs round divisions and square roots loosely and flush subnormals (the H100 does both);
//! WebAssembly demands correctly rounded results with subnormals, so the interpreter computes
//! floats on their bit patterns with integer instructions only. f32 values travel as `u32`
//! bits, f64 values as `u64` bits.

/// The WGSL library: `sf_*` functions, no bindings. Needs `SHADER_INT64`.
pub const SOFTFLOAT_WGSL: &str = include_str!("softfloat.wgsl");
