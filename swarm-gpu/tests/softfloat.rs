//! Runs the integer soft-float library (`SOFTFLOAT_WGSL`), and the float unit's fast path over
//! it (`native_float_wgsl`), on the real adapter and checks every result bit for bit against
//! the CPU: x86-64's f32/f64 `+ - * /` and `sqrt` are correctly
//! rounded, and the rest (min/max, rounding, comparisons, conversions, truncations and the NaN
//! rules) follows WebAssembly as written out here.

use std::fmt::Write as _;

use swarm_core::DispatchGrid;
use swarm_gpu::{AdapterRequest, BindingKind, Dispatch, GpuContext, ReadRequest};
use swarm_shader::{NativeFloats, SOFTFLOAT_WGSL, ValidatedWgsl, native_float_wgsl, validate_wgsl};

const WORKGROUP_SIZE: u32 = 64;
/// Mismatch lines printed on failure.
const REPORT_LINES: usize = 20;

/// One result the kernel computes for every input pair.
struct Op {
    name: &'static str,
    /// A WGSL expression over `a32`, `b32` (the inputs' low words) and `a64`, `b64`.
    wgsl: &'static str,
    /// Two output words (a `u64`, low word first) instead of one.
    wide: bool,
    /// The expected bits, or `None` where any value is right (a trapping truncation's value
    /// when it traps).
    reference: fn(u64, u64) -> Option<u64>,
}

fn op(
    name: &'static str,
    wgsl: &'static str,
    wide: bool,
    reference: fn(u64, u64) -> Option<u64>,
) -> Op {
    Op {
        name,
        wgsl,
        wide,
        reference,
    }
}

/// A kernel entry point, the results it writes and the inputs it runs on.
struct Suite {
    entry: &'static str,
    ops: Vec<Op>,
    inputs: Vec<(u64, u64)>,
}

impl Suite {
    fn stride(&self) -> u32 {
        self.ops.iter().map(|op| if op.wide { 2 } else { 1 }).sum()
    }
}

// ---------------------------------------------------------------------------------------------
// References.

const F32_QUIET: u32 = 0x0040_0000;
const F64_QUIET: u64 = 0x0008_0000_0000_0000;

fn is_nan32(x: u32) -> bool {
    x & 0x7fff_ffff > 0x7f80_0000
}

fn is_nan64(x: u64) -> bool {
    x & 0x7fff_ffff_ffff_ffff > 0x7ff0_0000_0000_0000
}

/// The first NaN input, quietened, or the canonical NaN when no input is a NaN.
fn nan32(inputs: &[u32]) -> u32 {
    inputs
        .iter()
        .find(|&&x| is_nan32(x))
        .map_or(0x7fc0_0000, |&x| x | F32_QUIET)
}

fn nan64(inputs: &[u64]) -> u64 {
    inputs
        .iter()
        .find(|&&x| is_nan64(x))
        .map_or(0x7ff8_0000_0000_0000, |&x| x | F64_QUIET)
}

fn result32(inputs: &[u32], r: f32) -> Option<u64> {
    Some(u64::from(if r.is_nan() {
        nan32(inputs)
    } else {
        r.to_bits()
    }))
}

fn result64(inputs: &[u64], r: f64) -> Option<u64> {
    Some(if r.is_nan() {
        nan64(inputs)
    } else {
        r.to_bits()
    })
}

fn f32_of(x: u64) -> f32 {
    f32::from_bits(x as u32)
}

fn binary32(a: u64, b: u64, f: impl Fn(f32, f32) -> f32) -> Option<u64> {
    result32(&[a as u32, b as u32], f(f32_of(a), f32_of(b)))
}

fn unary32(a: u64, f: impl Fn(f32) -> f32) -> Option<u64> {
    result32(&[a as u32], f(f32_of(a)))
}

fn compare32(a: u64, b: u64, f: impl Fn(f32, f32) -> bool) -> Option<u64> {
    Some(u64::from(f(f32_of(a), f32_of(b))))
}

fn binary64(a: u64, b: u64, f: impl Fn(f64, f64) -> f64) -> Option<u64> {
    result64(&[a, b], f(f64::from_bits(a), f64::from_bits(b)))
}

fn unary64(a: u64, f: impl Fn(f64) -> f64) -> Option<u64> {
    result64(&[a], f(f64::from_bits(a)))
}

fn compare64(a: u64, b: u64, f: impl Fn(f64, f64) -> bool) -> Option<u64> {
    Some(u64::from(f(f64::from_bits(a), f64::from_bits(b))))
}

/// WebAssembly `min`: NaN wins, and -0 is below +0.
fn min32(a: u64, b: u64) -> Option<u64> {
    let (x, y) = (f32_of(a), f32_of(b));
    if x.is_nan() || y.is_nan() {
        return result32(&[a as u32, b as u32], f32::NAN);
    }
    Some(u64::from(if x == y {
        a as u32 | b as u32
    } else if x < y {
        a as u32
    } else {
        b as u32
    }))
}

fn max32(a: u64, b: u64) -> Option<u64> {
    let (x, y) = (f32_of(a), f32_of(b));
    if x.is_nan() || y.is_nan() {
        return result32(&[a as u32, b as u32], f32::NAN);
    }
    Some(u64::from(if x == y {
        a as u32 & b as u32
    } else if x > y {
        a as u32
    } else {
        b as u32
    }))
}

fn min64(a: u64, b: u64) -> Option<u64> {
    let (x, y) = (f64::from_bits(a), f64::from_bits(b));
    if x.is_nan() || y.is_nan() {
        return result64(&[a, b], f64::NAN);
    }
    Some(if x == y {
        a | b
    } else if x < y {
        a
    } else {
        b
    })
}

fn max64(a: u64, b: u64) -> Option<u64> {
    let (x, y) = (f64::from_bits(a), f64::from_bits(b));
    if x.is_nan() || y.is_nan() {
        return result64(&[a, b], f64::NAN);
    }
    Some(if x == y {
        a & b
    } else if x > y {
        a
    } else {
        b
    })
}

/// f64 -> f32: correctly rounded by the CPU; a NaN keeps its sign and top payload bits.
fn demote(a: u64) -> Option<u64> {
    if is_nan64(a) {
        let sign = (a >> 32) as u32 & 0x8000_0000;
        let payload = (a >> 29) as u32 & 0x007f_ffff;
        return Some(u64::from(sign | 0x7f80_0000 | payload | F32_QUIET));
    }
    Some(u64::from((f64::from_bits(a) as f32).to_bits()))
}

/// f32 -> f64: exact; a NaN's payload moves up to the top of the f64 payload.
fn promote(a: u64) -> Option<u64> {
    let a = a as u32;
    if is_nan32(a) {
        let sign = u64::from(a & 0x8000_0000) << 32;
        let payload = u64::from(a & 0x007f_ffff) << 29;
        return Some(sign | 0x7ff0_0000_0000_0000 | payload | F64_QUIET);
    }
    Some(f64::from(f32::from_bits(a)).to_bits())
}

const TWO_31: f64 = 2_147_483_648.0;
const TWO_32: f64 = 4_294_967_296.0;
const TWO_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_64: f64 = 18_446_744_073_709_551_616.0;

/// WebAssembly's trapping truncation of `x` to an integer in `[low, high)`: the truncated
/// value, or the trap (8 for NaN, 7 out of range).
fn truncate(x: f64, low: f64, high: f64) -> Result<f64, u64> {
    if x.is_nan() {
        return Err(8);
    }
    let t = x.trunc();
    if t >= low && t < high { Ok(t) } else { Err(7) }
}

fn trap_code(r: Result<f64, u64>) -> Option<u64> {
    Some(r.err().unwrap_or(0))
}

fn f32_to_f64(a: u64) -> f64 {
    f64::from(f32_of(a))
}

fn f32_ops() -> Vec<Op> {
    vec![
        op("f32.add", "sf_f32_add(a32, b32)", false, |a, b| {
            binary32(a, b, |x, y| x + y)
        }),
        op("f32.sub", "sf_f32_sub(a32, b32)", false, |a, b| {
            binary32(a, b, |x, y| x - y)
        }),
        op("f32.mul", "sf_f32_mul(a32, b32)", false, |a, b| {
            binary32(a, b, |x, y| x * y)
        }),
        // The float unit's fast path (`nativefloat.rs`): the GPU's own arithmetic where it
        // is exact, the routines above elsewhere.
        op(
            "f32.add (fast path)",
            "nf_f32_add(a32, b32)",
            false,
            |a, b| binary32(a, b, |x, y| x + y),
        ),
        op(
            "f32.sub (fast path)",
            "nf_f32_sub(a32, b32)",
            false,
            |a, b| binary32(a, b, |x, y| x - y),
        ),
        op(
            "f32.mul (fast path)",
            "nf_f32_mul(a32, b32)",
            false,
            |a, b| binary32(a, b, |x, y| x * y),
        ),
        op("f32.div", "sf_f32_div(a32, b32)", false, |a, b| {
            binary32(a, b, |x, y| x / y)
        }),
        op("f32.min", "sf_f32_min(a32, b32)", false, min32),
        op("f32.max", "sf_f32_max(a32, b32)", false, max32),
        op("f32.sqrt", "sf_f32_sqrt(a32)", false, |a, _| {
            unary32(a, f32::sqrt)
        }),
        op("f32.nearest", "sf_f32_nearest(a32)", false, |a, _| {
            unary32(a, f32::round_ties_even)
        }),
        op("f32.floor", "sf_f32_floor(a32)", false, |a, _| {
            unary32(a, f32::floor)
        }),
        op("f32.ceil", "sf_f32_ceil(a32)", false, |a, _| {
            unary32(a, f32::ceil)
        }),
        op("f32.trunc", "sf_f32_trunc(a32)", false, |a, _| {
            unary32(a, f32::trunc)
        }),
        op("f32.eq", "sf_f32_eq(a32, b32)", false, |a, b| {
            compare32(a, b, |x, y| x == y)
        }),
        op("f32.ne", "sf_f32_ne(a32, b32)", false, |a, b| {
            compare32(a, b, |x, y| x != y)
        }),
        op("f32.lt", "sf_f32_lt(a32, b32)", false, |a, b| {
            compare32(a, b, |x, y| x < y)
        }),
        op("f32.gt", "sf_f32_gt(a32, b32)", false, |a, b| {
            compare32(a, b, |x, y| x > y)
        }),
        op("f32.le", "sf_f32_le(a32, b32)", false, |a, b| {
            compare32(a, b, |x, y| x <= y)
        }),
        op("f32.ge", "sf_f32_ge(a32, b32)", false, |a, b| {
            compare32(a, b, |x, y| x >= y)
        }),
        op(
            "f64.promote_f32",
            "sf_f64_promote_f32(a32)",
            true,
            |a, _| promote(a),
        ),
        op(
            "i32.trunc_f32_s.value",
            "sf_i32_trunc_f32_s(a32).value",
            false,
            |a, _| {
                truncate(f32_to_f64(a), -TWO_31, TWO_31)
                    .ok()
                    .map(|t| u64::from(t as i32 as u32))
            },
        ),
        op(
            "i32.trunc_f32_s.trap",
            "sf_i32_trunc_f32_s(a32).trap",
            false,
            |a, _| trap_code(truncate(f32_to_f64(a), -TWO_31, TWO_31)),
        ),
        op(
            "i32.trunc_f32_u.value",
            "sf_i32_trunc_f32_u(a32).value",
            false,
            |a, _| {
                truncate(f32_to_f64(a), 0.0, TWO_32)
                    .ok()
                    .map(|t| u64::from(t as u32))
            },
        ),
        op(
            "i32.trunc_f32_u.trap",
            "sf_i32_trunc_f32_u(a32).trap",
            false,
            |a, _| trap_code(truncate(f32_to_f64(a), 0.0, TWO_32)),
        ),
        op(
            "i64.trunc_f32_s.value",
            "sf_i64_trunc_f32_s(a32).value",
            true,
            |a, _| {
                truncate(f32_to_f64(a), -TWO_63, TWO_63)
                    .ok()
                    .map(|t| t as i64 as u64)
            },
        ),
        op(
            "i64.trunc_f32_s.trap",
            "sf_i64_trunc_f32_s(a32).trap",
            false,
            |a, _| trap_code(truncate(f32_to_f64(a), -TWO_63, TWO_63)),
        ),
        op(
            "i64.trunc_f32_u.value",
            "sf_i64_trunc_f32_u(a32).value",
            true,
            |a, _| truncate(f32_to_f64(a), 0.0, TWO_64).ok().map(|t| t as u64),
        ),
        op(
            "i64.trunc_f32_u.trap",
            "sf_i64_trunc_f32_u(a32).trap",
            false,
            |a, _| trap_code(truncate(f32_to_f64(a), 0.0, TWO_64)),
        ),
        op(
            "i32.trunc_sat_f32_s",
            "sf_i32_trunc_sat_f32_s(a32)",
            false,
            |a, _| Some(u64::from(f32_of(a) as i32 as u32)),
        ),
        op(
            "i32.trunc_sat_f32_u",
            "sf_i32_trunc_sat_f32_u(a32)",
            false,
            |a, _| Some(u64::from(f32_of(a) as u32)),
        ),
        op(
            "i64.trunc_sat_f32_s",
            "sf_i64_trunc_sat_f32_s(a32)",
            true,
            |a, _| Some(f32_of(a) as i64 as u64),
        ),
        op(
            "i64.trunc_sat_f32_u",
            "sf_i64_trunc_sat_f32_u(a32)",
            true,
            |a, _| Some(f32_of(a) as u64),
        ),
    ]
}

fn f64_ops() -> Vec<Op> {
    vec![
        op("f64.add", "sf_f64_add(a64, b64)", true, |a, b| {
            binary64(a, b, |x, y| x + y)
        }),
        op("f64.sub", "sf_f64_sub(a64, b64)", true, |a, b| {
            binary64(a, b, |x, y| x - y)
        }),
        op("f64.mul", "sf_f64_mul(a64, b64)", true, |a, b| {
            binary64(a, b, |x, y| x * y)
        }),
        // The float unit's fast path (`nativefloat.rs`): the GPU's own arithmetic where it
        // is exact, the routines above elsewhere.
        op(
            "f64.add (fast path)",
            "nf_f64_add(a64, b64)",
            true,
            |a, b| binary64(a, b, |x, y| x + y),
        ),
        op(
            "f64.sub (fast path)",
            "nf_f64_sub(a64, b64)",
            true,
            |a, b| binary64(a, b, |x, y| x - y),
        ),
        op(
            "f64.mul (fast path)",
            "nf_f64_mul(a64, b64)",
            true,
            |a, b| binary64(a, b, |x, y| x * y),
        ),
        op("f64.div", "sf_f64_div(a64, b64)", true, |a, b| {
            binary64(a, b, |x, y| x / y)
        }),
        op("f64.min", "sf_f64_min(a64, b64)", true, min64),
        op("f64.max", "sf_f64_max(a64, b64)", true, max64),
        op("f64.sqrt", "sf_f64_sqrt(a64)", true, |a, _| {
            unary64(a, f64::sqrt)
        }),
        op("f64.nearest", "sf_f64_nearest(a64)", true, |a, _| {
            unary64(a, f64::round_ties_even)
        }),
        op("f64.floor", "sf_f64_floor(a64)", true, |a, _| {
            unary64(a, f64::floor)
        }),
        op("f64.ceil", "sf_f64_ceil(a64)", true, |a, _| {
            unary64(a, f64::ceil)
        }),
        op("f64.trunc", "sf_f64_trunc(a64)", true, |a, _| {
            unary64(a, f64::trunc)
        }),
        op("f64.eq", "sf_f64_eq(a64, b64)", false, |a, b| {
            compare64(a, b, |x, y| x == y)
        }),
        op("f64.ne", "sf_f64_ne(a64, b64)", false, |a, b| {
            compare64(a, b, |x, y| x != y)
        }),
        op("f64.lt", "sf_f64_lt(a64, b64)", false, |a, b| {
            compare64(a, b, |x, y| x < y)
        }),
        op("f64.gt", "sf_f64_gt(a64, b64)", false, |a, b| {
            compare64(a, b, |x, y| x > y)
        }),
        op("f64.le", "sf_f64_le(a64, b64)", false, |a, b| {
            compare64(a, b, |x, y| x <= y)
        }),
        op("f64.ge", "sf_f64_ge(a64, b64)", false, |a, b| {
            compare64(a, b, |x, y| x >= y)
        }),
        op("f32.demote_f64", "sf_f32_demote_f64(a64)", false, |a, _| {
            demote(a)
        }),
        op(
            "i32.trunc_f64_s.value",
            "sf_i32_trunc_f64_s(a64).value",
            false,
            |a, _| {
                truncate(f64::from_bits(a), -TWO_31, TWO_31)
                    .ok()
                    .map(|t| u64::from(t as i32 as u32))
            },
        ),
        op(
            "i32.trunc_f64_s.trap",
            "sf_i32_trunc_f64_s(a64).trap",
            false,
            |a, _| trap_code(truncate(f64::from_bits(a), -TWO_31, TWO_31)),
        ),
        op(
            "i32.trunc_f64_u.value",
            "sf_i32_trunc_f64_u(a64).value",
            false,
            |a, _| {
                truncate(f64::from_bits(a), 0.0, TWO_32)
                    .ok()
                    .map(|t| u64::from(t as u32))
            },
        ),
        op(
            "i32.trunc_f64_u.trap",
            "sf_i32_trunc_f64_u(a64).trap",
            false,
            |a, _| trap_code(truncate(f64::from_bits(a), 0.0, TWO_32)),
        ),
        op(
            "i64.trunc_f64_s.value",
            "sf_i64_trunc_f64_s(a64).value",
            true,
            |a, _| {
                truncate(f64::from_bits(a), -TWO_63, TWO_63)
                    .ok()
                    .map(|t| t as i64 as u64)
            },
        ),
        op(
            "i64.trunc_f64_s.trap",
            "sf_i64_trunc_f64_s(a64).trap",
            false,
            |a, _| trap_code(truncate(f64::from_bits(a), -TWO_63, TWO_63)),
        ),
        op(
            "i64.trunc_f64_u.value",
            "sf_i64_trunc_f64_u(a64).value",
            true,
            |a, _| {
                truncate(f64::from_bits(a), 0.0, TWO_64)
                    .ok()
                    .map(|t| t as u64)
            },
        ),
        op(
            "i64.trunc_f64_u.trap",
            "sf_i64_trunc_f64_u(a64).trap",
            false,
            |a, _| trap_code(truncate(f64::from_bits(a), 0.0, TWO_64)),
        ),
        op(
            "i32.trunc_sat_f64_s",
            "sf_i32_trunc_sat_f64_s(a64)",
            false,
            |a, _| Some(u64::from(f64::from_bits(a) as i32 as u32)),
        ),
        op(
            "i32.trunc_sat_f64_u",
            "sf_i32_trunc_sat_f64_u(a64)",
            false,
            |a, _| Some(u64::from(f64::from_bits(a) as u32)),
        ),
        op(
            "i64.trunc_sat_f64_s",
            "sf_i64_trunc_sat_f64_s(a64)",
            true,
            |a, _| Some(f64::from_bits(a) as i64 as u64),
        ),
        op(
            "i64.trunc_sat_f64_u",
            "sf_i64_trunc_sat_f64_u(a64)",
            true,
            |a, _| Some(f64::from_bits(a) as u64),
        ),
    ]
}

fn int_ops() -> Vec<Op> {
    vec![
        op(
            "f32.convert_i32_s",
            "sf_f32_convert_i32_s(a32)",
            false,
            |a, _| Some(u64::from((a as u32 as i32 as f32).to_bits())),
        ),
        op(
            "f32.convert_i32_u",
            "sf_f32_convert_i32_u(a32)",
            false,
            |a, _| Some(u64::from((a as u32 as f32).to_bits())),
        ),
        op(
            "f32.convert_i64_s",
            "sf_f32_convert_i64_s(a64)",
            false,
            |a, _| Some(u64::from((a as i64 as f32).to_bits())),
        ),
        op(
            "f32.convert_i64_u",
            "sf_f32_convert_i64_u(a64)",
            false,
            |a, _| Some(u64::from((a as f32).to_bits())),
        ),
        op(
            "f64.convert_i32_s",
            "sf_f64_convert_i32_s(a32)",
            true,
            |a, _| Some(f64::from(a as u32 as i32).to_bits()),
        ),
        op(
            "f64.convert_i32_u",
            "sf_f64_convert_i32_u(a32)",
            true,
            |a, _| Some(f64::from(a as u32).to_bits()),
        ),
        op(
            "f64.convert_i64_s",
            "sf_f64_convert_i64_s(a64)",
            true,
            |a, _| Some((a as i64 as f64).to_bits()),
        ),
        op(
            "f64.convert_i64_u",
            "sf_f64_convert_i64_u(a64)",
            true,
            |a, _| Some((a as f64).to_bits()),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Inputs.

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn next32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }

    /// Uniform in `low..=high`.
    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

const F32_SPECIALS: &[u32] = &[
    0x0000_0000, // +0
    0x8000_0000, // -0
    0x7f80_0000, // +inf
    0xff80_0000, // -inf
    0x7fc0_0000, // canonical NaN
    0xffc0_0000,
    0x7f80_0001, // signalling NaNs with payloads
    0xff80_0001,
    0x7fa0_1234,
    0x7fbf_ffff,
    0xffff_ffff,
    0x7fd5_5555,
    0x0000_0001, // subnormals
    0x8000_0001,
    0x0000_0002,
    0x0000_0003,
    0x0040_0000,
    0x007f_ffff,
    0x807f_ffff,
    0x0080_0000, // smallest normals
    0x8080_0000,
    0x0080_0001,
    0x0100_0000,
    0x7f7f_ffff, // largest normals
    0xff7f_ffff,
    0x7f00_0000,
    0x7e80_0000,
];

const F32_VALUES: &[f32] = &[
    1.0,
    -1.0,
    2.0,
    3.0,
    -3.0,
    0.5,
    -0.5,
    1.5,
    -1.5,
    2.5,
    -2.5,
    3.5,
    0.1,
    -0.1,
    0.3,
    1.0 / 3.0,
    std::f32::consts::PI,
    -123.456,
    1.0e-20,
    1.0e27,
    -1.0e30,
    8_388_608.0,  // 2^23
    8_388_607.5,  // 2^23 - 0.5
    8_388_609.0,  // 2^23 + 1
    -8_388_609.0, //
    4_194_304.5,  // 2^22 + 0.5
    4_194_305.5,  // 2^22 + 1.5
    16_777_216.0, // 2^24
    16_777_215.0, //
    2_147_483_648.0,
    2_147_483_520.0, // the f32 below 2^31
    -2_147_483_648.0,
    -2_147_483_904.0, // the f32 below -2^31
    4_294_967_296.0,
    4_294_967_040.0, // the f32 below 2^32
    9_223_372_036_854_775_808.0,
    9_223_371_487_098_961_920.0, // the f32 below 2^63
    -9_223_372_036_854_775_808.0,
    -9_223_373_136_366_403_584.0, // the f32 below -2^63
    18_446_744_073_709_551_616.0,
    18_446_742_974_197_923_840.0, // the f32 below 2^64
];

const F64_SPECIALS: &[u64] = &[
    0x0000_0000_0000_0000, // +0
    0x8000_0000_0000_0000, // -0
    0x7ff0_0000_0000_0000, // +inf
    0xfff0_0000_0000_0000, // -inf
    0x7ff8_0000_0000_0000, // canonical NaN
    0xfff8_0000_0000_0000,
    0x7ff0_0000_0000_0001, // signalling NaNs with payloads
    0xfff0_0000_dead_beef,
    0x7ff4_0000_0000_0000,
    0x7ff7_ffff_ffff_ffff,
    0xffff_ffff_ffff_ffff,
    0x7ffa_aaaa_5555_1234,
    0x0000_0000_0000_0001, // subnormals
    0x8000_0000_0000_0001,
    0x0000_0000_0000_0002,
    0x0000_0000_0000_0003,
    0x0008_0000_0000_0000,
    0x000f_ffff_ffff_ffff,
    0x800f_ffff_ffff_ffff,
    0x0010_0000_0000_0000, // smallest normals
    0x8010_0000_0000_0000,
    0x0010_0000_0000_0001,
    0x0020_0000_0000_0000,
    0x7fef_ffff_ffff_ffff, // largest normals
    0xffef_ffff_ffff_ffff,
    0x7fe0_0000_0000_0000,
    0x7fd0_0000_0000_0000,
    0x3ff0_0000_0000_0001, // 1 + ulp
    0x3fef_ffff_ffff_ffff, // 1 - ulp/2
    0xbfef_ffff_ffff_ffff,
    0x3fdf_ffff_ffff_ffff, // below 0.5
    0x3fe0_0000_0000_0001, // above 0.5
];

const F64_VALUES: &[f64] = &[
    1.0,
    -1.0,
    2.0,
    3.0,
    -3.0,
    0.5,
    -0.5,
    1.5,
    -1.5,
    2.5,
    -2.5,
    3.5,
    0.1,
    -0.1,
    0.3,
    1.0 / 3.0,
    std::f64::consts::PI,
    -123.456,
    1.0e-300,
    1.0e300,
    -1.0e200,
    4_503_599_627_370_496.0,  // 2^52
    4_503_599_627_370_495.5,  // 2^52 - 0.5
    4_503_599_627_370_497.0,  // 2^52 + 1
    -4_503_599_627_370_497.0, //
    2_251_799_813_685_248.5,  // 2^51 + 0.5
    2_251_799_813_685_249.5,  // 2^51 + 1.5
    9_007_199_254_740_992.0,  // 2^53
    2_147_483_648.0,
    2_147_483_647.0,
    2_147_483_647.5,
    -2_147_483_648.0,
    -2_147_483_648.5,
    -2_147_483_649.0,
    4_294_967_296.0,
    4_294_967_295.0,
    4_294_967_295.5,
    -0.999_999,
    9_223_372_036_854_775_808.0,
    9_223_372_036_854_774_784.0, // the f64 below 2^63
    -9_223_372_036_854_775_808.0,
    -9_223_372_036_854_777_856.0, // the f64 below -2^63
    18_446_744_073_709_551_616.0,
    18_446_744_073_709_549_568.0, // the f64 below 2^64
    3.402_823_466_385_288_6e38,   // f32::MAX
    3.402_823_567_797_336_6e38,   // f32::MAX + half an ulp: a tie that overflows
    3.402_823_567_797_336e38,     // just below that tie
    1.401_298_464_324_817e-45,    // the smallest f32 subnormal
    7.006_492_321_624_085e-46,    // half of it: a tie to zero
    2.101_947_696_487_225_5e-45,  // 1.5 times it: a tie to 2^-148
    1.175_494_350_822_287_5e-38,  // the smallest f32 normal
];

/// Inputs on which the library's reciprocal and reciprocal-square-root estimates land one
/// above or one below the exact quotient or root, so that each correction step is exercised
/// (found by simulating its integer arithmetic on the CPU; rare among random inputs).
const F64_SQRT_CORRECTED: &[u64] = &[
    0x49e8_2bf1_43c7_4759,
    0x3830_03c1_0312_53fb,
    0x3b96_e182_706f_b920,
    0x4aef_ef07_215e_b331,
    0x37d9_f093_94cd_3391,
    0x4655_11a2_2e03_1a9b,
    0x3da9_b086_3740_fa07,
    0x3cba_e263_4a25_7874,
    0x4bda_c8e2_cac9_14af,
    0x3b2e_d78d_78ae_6c82,
    0x38d6_e62c_d5aa_6efb,
    0x3591_48f8_2522_9266,
    0x412a_f3ac_07a3_afa4,
    0x3487_e8e9_a7d0_2459,
    0x350a_3a84_9b33_dcd0,
    0x34d7_b0b0_0b3c_50a7,
];

const F64_DIV_CORRECTED: &[(u64, u64)] = &[
    (0x3ff2_ed65_037a_4f3e, 0x3ff6_e4d3_ffd1_cf79),
    (0x3ff9_395b_45c8_dcf4, 0x3ff4_8b0f_4b7b_cc3a),
    (0x3ff2_4085_3b9b_d1c3, 0x3ffd_0f5e_f3f1_2dff),
    (0x3ff0_9f1c_4710_db5b, 0x3ffe_2dc6_3a4c_97f0),
    (0x3ff4_dff6_4d37_a9f7, 0x3ff3_5f1c_1274_edac),
    (0x3ff2_0f14_0a5f_f0cc, 0x3ffe_50ab_ea8f_f170),
    (0x3ff8_1728_5cc0_efde, 0x3ff0_eb32_8429_1201),
    (0x3ffe_56d0_90c9_5473, 0x3ff1_1e33_63ff_0d7d),
    (0x3ffd_e768_899a_0d6e, 0x3ff0_d616_190f_aed7),
    (0x3ff6_7702_15c3_d2be, 0x3ffd_158c_8ab3_1ba0),
    (0x3fff_0a64_bf17_db42, 0x3ff2_f8b1_5447_938d),
    (0x3ffc_dc50_8edc_0f1c, 0x3ff1_cbb9_5512_7f35),
    (0x3ffd_e615_95a7_ef91, 0x3ff3_080b_724f_2276),
    (0x3ffc_7079_8abd_45f4, 0x3ff8_eda0_0f41_a829),
    (0x3ffb_c671_a0fd_94ce, 0x3ff0_21ad_eae0_5a52),
    (0x3ff5_6c29_ff19_a9da, 0x3ff0_8ad4_bb33_7bf3),
];

const F32_SQRT_CORRECTED: &[u32] = &[
    0x4480_00df,
    0x44b2_8d5c,
    0x44d7_c130,
    0x44f6_1ac0,
    0x450f_98cd,
    0x4524_7e62,
    0x4480_0000,
    0x44a7_d6a7,
    0x44c8_a0bf,
    0x44e2_9249,
    0x44fc_7673,
    0x4512_ed06,
];

fn f32_pool() -> Vec<u32> {
    let mut pool = F32_SPECIALS.to_vec();
    pool.extend(F32_VALUES.iter().map(|v| v.to_bits()));
    pool
}

fn f64_pool() -> Vec<u64> {
    let mut pool = F64_SPECIALS.to_vec();
    pool.extend(F64_VALUES.iter().map(|v| v.to_bits()));
    pool
}

/// A float with the given biased exponent, a random fraction and a random sign.
fn f32_with_exponent(rng: &mut Rng, exponent: i64) -> u32 {
    let sign = if rng.coin() { 0x8000_0000 } else { 0 };
    sign | ((exponent.clamp(0, 254) as u32) << 23) | (rng.next32() & 0x007f_ffff)
}

fn f64_with_exponent(rng: &mut Rng, exponent: i64) -> u64 {
    let sign = if rng.coin() { 1 << 63 } else { 0 };
    sign | ((exponent.clamp(0, 2046) as u64) << 52) | (rng.next() & 0x000f_ffff_ffff_ffff)
}

fn f32_inputs() -> Vec<(u64, u64)> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let pool = f32_pool();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    // Every special against every special.
    for &a in &pool {
        for &b in &pool {
            pairs.push((a, b));
        }
    }
    // Random bit patterns, and specials against random patterns.
    for _ in 0..1500 {
        pairs.push((rng.next32(), rng.next32()));
    }
    for _ in 0..300 {
        let special = pool[(rng.next() % pool.len() as u64) as usize];
        pairs.push((special, rng.next32()));
        pairs.push((rng.next32(), special));
    }
    // Close exponents: cancellation and rounding in add/sub.
    for _ in 0..1500 {
        let a = {
            let exponent = rng.range(0, 254);
            f32_with_exponent(&mut rng, exponent)
        };
        let e = i64::from((a >> 23) & 0xff);
        let b = if rng.coin() {
            {
                let exponent = e + rng.range(-3, 3);
                f32_with_exponent(&mut rng, exponent)
            }
        } else {
            // Nearly -a: a few low bits differ.
            let bits = rng.range(1, 24) as u32;
            (a ^ 0x8000_0000) ^ (rng.next32() & ((1 << bits) - 1))
        };
        let b = if rng.range(0, 7) == 0 {
            {
                let exponent = e + rng.range(-30, 30);
                f32_with_exponent(&mut rng, exponent)
            }
        } else {
            b
        };
        pairs.push((a, b));
    }
    // Products and quotients near underflow and overflow.
    for _ in 0..1000 {
        let target = if rng.coin() {
            rng.range(-30, 3)
        } else {
            rng.range(250, 258)
        };
        let ea = rng.range(1, 254);
        let eb = if rng.coin() {
            target - ea + 127
        } else {
            ea - target + 127
        };
        if (0..=254).contains(&eb) {
            pairs.push((
                f32_with_exponent(&mut rng, ea),
                f32_with_exponent(&mut rng, eb),
            ));
        }
    }
    // Values around integers and halves (rounding, truncation), and perfect squares (sqrt).
    for _ in 0..1000 {
        let e = rng.range(120, 192);
        let mut a = f32_with_exponent(&mut rng, e);
        let fraction_bits = 150 - e;
        if (1..=23).contains(&fraction_bits) && rng.coin() {
            // Exactly halfway between two integers.
            let mask = (1u32 << fraction_bits) - 1;
            a = (a & !mask) | (1 << (fraction_bits - 1));
        }
        pairs.push((a, rng.next32()));
    }
    for &a in F32_SQRT_CORRECTED {
        pairs.push((a, rng.next32()));
    }
    for k in 1..300u32 {
        let root = (rng.next32() >> (8 + k % 20)) as f32;
        pairs.push(((root * root).to_bits(), rng.next32()));
    }
    pairs
        .into_iter()
        .map(|(a, b)| (u64::from(a), u64::from(b)))
        .collect()
}

fn f64_inputs() -> Vec<(u64, u64)> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let pool = f64_pool();
    let mut pairs: Vec<(u64, u64)> = Vec::new();
    for &a in &pool {
        for &b in &pool {
            pairs.push((a, b));
        }
    }
    for _ in 0..1500 {
        pairs.push((rng.next(), rng.next()));
    }
    for _ in 0..300 {
        let special = pool[(rng.next() % pool.len() as u64) as usize];
        pairs.push((special, rng.next()));
        pairs.push((rng.next(), special));
    }
    for _ in 0..1500 {
        let a = {
            let exponent = rng.range(0, 2046);
            f64_with_exponent(&mut rng, exponent)
        };
        let e = ((a >> 52) & 0x7ff) as i64;
        let b = if rng.coin() {
            {
                let exponent = e + rng.range(-3, 3);
                f64_with_exponent(&mut rng, exponent)
            }
        } else {
            let bits = rng.range(1, 53) as u32;
            (a ^ (1 << 63)) ^ (rng.next() & ((1 << bits) - 1))
        };
        let b = if rng.range(0, 7) == 0 {
            {
                let exponent = e + rng.range(-60, 60);
                f64_with_exponent(&mut rng, exponent)
            }
        } else {
            b
        };
        pairs.push((a, b));
    }
    for _ in 0..1000 {
        let target = if rng.coin() {
            rng.range(-60, 3)
        } else {
            rng.range(2040, 2050)
        };
        let ea = rng.range(1, 2046);
        let eb = if rng.coin() {
            target - ea + 1023
        } else {
            ea - target + 1023
        };
        if (0..=2046).contains(&eb) {
            pairs.push((
                f64_with_exponent(&mut rng, ea),
                f64_with_exponent(&mut rng, eb),
            ));
        }
    }
    for _ in 0..1000 {
        let e = rng.range(1016, 1090);
        let mut a = f64_with_exponent(&mut rng, e);
        let fraction_bits = 1075 - e;
        if (1..=52).contains(&fraction_bits) && rng.coin() {
            let mask = (1u64 << fraction_bits) - 1;
            a = (a & !mask) | (1 << (fraction_bits - 1));
        }
        pairs.push((a, rng.next()));
    }
    for &a in F64_SQRT_CORRECTED {
        pairs.push((a, rng.next()));
        // The same significand with another exponent of the same parity.
        pairs.push((a.wrapping_add(0x0200_0000_0000_0000), rng.next()));
    }
    for &(a, b) in F64_DIV_CORRECTED {
        pairs.push((a, b));
        pairs.push((a ^ 0x8220_0000_0000_0000, b ^ 0x0150_0000_0000_0000));
    }
    for k in 1..300u32 {
        let root = (rng.next() >> (11 + k % 40)) as f64;
        pairs.push(((root * root).to_bits(), rng.next()));
    }
    // Demotion: f64s in and around the f32 range with the bits below f32 precision at,
    // around and away from the halfway point, for normal and subnormal f32 results.
    for _ in 0..800 {
        let e = rng.range(1023 - 155, 1023 + 129);
        let mut a = f64_with_exponent(&mut rng, e);
        // Bits of the f64 fraction below the f32 result's last place.
        let dropped = (29 + (1023 - 126 - e).max(0)).min(52) as u32;
        let half = 1u64 << (dropped - 1);
        let low = match rng.range(0, 4) {
            0 => half,
            1 => half - 1,
            2 => half + 1,
            3 => 0,
            _ => rng.next() & ((half << 1) - 1),
        };
        a = (a & !((half << 1) - 1)) | low;
        pairs.push((a, rng.next()));
    }
    pairs
}

fn int_inputs() -> Vec<(u64, u64)> {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut values: Vec<u64> = vec![
        0,
        1,
        2,
        3,
        u64::MAX,
        u64::MAX - 1,
        0x7fff_ffff,
        0x8000_0000,
        0x8000_0001,
        0xffff_ffff,
        0x1_0000_0000,
        i64::MAX as u64,
        i64::MIN as u64,
        i64::MIN as u64 + 1,
        (1 << 24) + 1,
        (1 << 24) + 3,
        (1 << 53) + 1,
        (1 << 53) + 3,
        0xffff_ff80,
        0xffff_ff7f,
        0xffff_ffff_ffff_fc00,
        0xffff_ffff_ffff_fbff,
        0xffff_ff80_0000_0000,
        0xffff_ff7f_ffff_ffff,
    ];
    // Ties and near-ties for both formats at every magnitude.
    for top in 1..64u32 {
        for precision in [24u32, 53] {
            if top < precision {
                continue;
            }
            let lead = 1u64 << top;
            let half = 1u64 << (top - precision);
            let last = half << 1;
            for v in [
                lead | half,
                lead | last | half,
                lead | half | (half >> 1),
                lead | half.wrapping_sub(1),
                lead | last | half.wrapping_sub(1),
                lead | (rng.next() & (lead - 1)),
            ] {
                values.push(v);
            }
        }
    }
    for _ in 0..1500 {
        values.push(rng.next() >> rng.range(0, 63));
    }
    let negated: Vec<u64> = values.iter().map(|v| v.wrapping_neg()).collect();
    values.extend(negated);
    // The same values as 32-bit integers, in the low word.
    let low: Vec<u64> = values
        .iter()
        .map(|&v| (v >> (v % 33)) & 0xffff_ffff)
        .collect();
    values.extend(low);
    values.into_iter().map(|v| (v, 0)).collect()
}

// ---------------------------------------------------------------------------------------------
// The kernel and the comparison.

fn kernel_source(suites: &[Suite], native: NativeFloats) -> String {
    let mut source = format!(
        "{SOFTFLOAT_WGSL}
{}
@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;

fn put64(at: u32, v: u64) {{
    output[at] = u32(v & 0xfffffffflu);
    output[at + 1u] = u32(v >> 32u);
}}
",
        native_float_wgsl(native)
    );
    for suite in suites {
        write!(
            source,
            "
@compute @workgroup_size({WORKGROUP_SIZE})
fn {entry}(@builtin(global_invocation_id) id: vec3<u32>) {{
    let i = id.x;
    if i >= arrayLength(&input) / 4u {{
        return;
    }}
    let a32 = input[4u * i];
    let a64 = (u64(input[4u * i + 1u]) << 32u) | u64(a32);
    let b32 = input[4u * i + 2u];
    let b64 = (u64(input[4u * i + 3u]) << 32u) | u64(b32);
    let o = i * {stride}u;
",
            entry = suite.entry,
            stride = suite.stride(),
        )
        .unwrap();
        let mut at = 0;
        for op in &suite.ops {
            if op.wide {
                writeln!(source, "    put64(o + {at}u, {});", op.wgsl).unwrap();
                at += 2;
            } else {
                writeln!(source, "    output[o + {at}u] = {};", op.wgsl).unwrap();
                at += 1;
            }
        }
        source.push_str("}\n");
    }
    source
}

/// Runs `suite` and returns its mismatches: the operation and a line describing it.
fn run_suite(gpu: &GpuContext, wgsl: &ValidatedWgsl, suite: &Suite) -> Vec<(&'static str, String)> {
    let kernel = gpu
        .create_kernel(
            wgsl,
            suite.entry,
            &[BindingKind::StorageRead, BindingKind::StorageReadWrite],
        )
        .unwrap_or_else(|err| panic!("{}: {err}", suite.entry));
    let count = suite.inputs.len() as u32;
    let stride = suite.stride();
    let words: Vec<u32> = suite
        .inputs
        .iter()
        .flat_map(|&(a, b)| [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32])
        .collect();
    let input = gpu
        .create_storage_buffer("softfloat input", u64::from(count) * 16)
        .unwrap();
    let output_size = u64::from(count * stride) * 4;
    let output = gpu
        .create_storage_buffer("softfloat output", output_size)
        .unwrap();
    gpu.write_buffer(&input, 0, bytemuck::cast_slice(&words))
        .unwrap();
    // Poison, so an unwritten result cannot pass as a zero.
    let poison = vec![0xdead_beef_u32; (count * stride) as usize];
    gpu.write_buffer(&output, 0, bytemuck::cast_slice(&poison))
        .unwrap();
    let bindings = gpu.bind(&kernel, &[&input, &output]).unwrap();
    let grid = DispatchGrid {
        x: count.div_ceil(WORKGROUP_SIZE),
        y: 1,
    };
    let mut data: Vec<Vec<u8>> = Vec::new();
    let _ = gpu
        .dispatch(
            &[&[Dispatch {
                kernel: &kernel,
                bindings: &bindings,
                grid,
            }]],
            &[ReadRequest {
                buffer: &output,
                offset: 0,
                size: output_size,
            }],
            |reads| data.extend(reads.iter().map(|bytes| bytes.to_vec())),
        )
        .unwrap();
    let results: &[u32] = bytemuck::cast_slice(&data[0]);

    let mut mismatches = Vec::new();
    for (index, &(a, b)) in suite.inputs.iter().enumerate() {
        let mut at = index * stride as usize;
        for op in &suite.ops {
            let got = if op.wide {
                u64::from(results[at]) | (u64::from(results[at + 1]) << 32)
            } else {
                u64::from(results[at])
            };
            at += if op.wide { 2 } else { 1 };
            if let Some(want) = (op.reference)(a, b)
                && got != want
            {
                mismatches.push((
                    op.name,
                    format!(
                        "{}({a:#x}, {b:#x}): got {got:#x}, expected {want:#x}",
                        op.name
                    ),
                ));
            }
        }
    }
    mismatches
}

/// Every soft-float function, on specials and pseudo-random inputs, matches the CPU bit for
/// bit (NaNs included, under WebAssembly's deterministic NaN rules as this library defines
/// them).
#[test]
fn softfloat_matches_the_cpu_bit_for_bit() {
    let gpu = GpuContext::new(&AdapterRequest::from_env())
        .unwrap_or_else(|err| panic!("GPU tests need an adapter: {err}"));
    assert!(
        gpu.capabilities().int64,
        "the soft-float library needs SHADER_INT64"
    );
    let suites = [
        Suite {
            entry: "f32_ops",
            ops: f32_ops(),
            inputs: f32_inputs(),
        },
        Suite {
            entry: "f64_ops",
            ops: f64_ops(),
            inputs: f64_inputs(),
        },
        Suite {
            entry: "int_ops",
            ops: int_ops(),
            inputs: int_inputs(),
        },
    ];
    // The fast path's f64 half needs 64-bit floats: the test adapter must have them, so that
    // it is tested.
    assert!(
        gpu.capabilities().float64,
        "the float unit's f64 fast path needs SHADER_F64"
    );
    let native = NativeFloats::for_adapter(gpu.capabilities(), false);
    assert_eq!(native, NativeFloats::F32AndF64);
    let wgsl = validate_wgsl(
        "softfloat test",
        kernel_source(&suites, native),
        gpu.capabilities(),
    )
    .unwrap_or_else(|err| panic!("{err}"));

    let mut report = String::new();
    let mut total = 0;
    let mut by_op: Vec<(&str, usize)> = Vec::new();
    for suite in &suites {
        let mismatches = run_suite(&gpu, &wgsl, suite);
        println!(
            "{}: {} inputs x {} results, {} mismatches",
            suite.entry,
            suite.inputs.len(),
            suite.ops.len(),
            mismatches.len()
        );
        assert!(suite.inputs.len() > 2000, "{}", suite.entry);
        for (_, line) in mismatches.iter().take(REPORT_LINES.saturating_sub(total)) {
            writeln!(report, "  {line}").unwrap();
        }
        for &(name, _) in &mismatches {
            match by_op.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => *count += 1,
                None => by_op.push((name, 1)),
            }
        }
        total += mismatches.len();
    }
    let by_op: Vec<String> = by_op
        .iter()
        .map(|(name, count)| format!("{name} {count}"))
        .collect();
    assert!(
        total == 0,
        "{total} soft-float results differ from the CPU ({}); the first {REPORT_LINES}:\n{report}",
        by_op.join(", ")
    );
}
