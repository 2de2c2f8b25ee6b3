//! The float unit's fast path: `add`, `sub` and `mul` on the GPU's own float unit where its
//! answer is WebAssembly's, the soft-float library everywhere else.
//!
//! Vulkan requires `OpFAdd`, `OpFSub` and `OpFMul` to be correctly rounded, and lets a driver
//! flush subnormal inputs and results to zero, generate other NaNs and fuse a multiply with
//! the add that uses it. So the fast path takes only operands that are normal numbers (neither
//! zero, subnormal, infinite nor NaN) and keeps only a normal result; anything else (a zero, a
//! subnormal or flushed result, an overflow) goes to the `sf_*` routine, which the fast path
//! then calls from its one site. One operation is computed at a time, so nothing is left to
//! fuse. The rounding is assumed to be to nearest, ties to even, as on every Vulkan driver we
//! know (NVIDIA, AMD, Intel, Mesa's llvmpipe): `SwarmConfig::soft_float` turns the fast path
//! off for an adapter that rounds otherwise.

/// Which widths the fast path computes on the GPU's float unit.
use crate::isa::Op;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NativeFloats {
    /// None: every float instruction is integer code.
    None,
    /// f32 (every adapter has f32 arithmetic).
    F32,
    /// f32 and f64 (an adapter with 64-bit floats: [`crate::ShaderCapabilities::float64`]).
    F32AndF64,
}

impl NativeFloats {
    /// The most an adapter with `capabilities` allows, or none when `soft` asks for integer
    /// code only.
    pub fn for_adapter(capabilities: crate::ShaderCapabilities, soft: bool) -> Self {
        match (soft, capabilities.float64) {
            (true, _) => Self::None,
            (false, false) => Self::F32,
            (false, true) => Self::F32AndF64,
        }
    }

    /// Whether f32 arithmetic takes the fast path.
    pub fn f32(self) -> bool {
        self != Self::None
    }

    /// Whether f64 arithmetic takes the fast path.
    pub fn f64(self) -> bool {
        self == Self::F32AndF64
    }
}

/// The width (32 or 64) and WGSL operator of a row the fast path computes on the float unit:
/// f32 and f64 `add`, `sub` and `mul`.
pub(crate) fn native_row(op: Op) -> Option<(u32, &'static str)> {
    match op {
        Op::F32Add => Some((32, "+")),
        Op::F32Sub => Some((32, "-")),
        Op::F32Mul => Some((32, "*")),
        Op::F64Add => Some((64, "+")),
        Op::F64Sub => Some((64, "-")),
        Op::F64Mul => Some((64, "*")),
        _ => None,
    }
}

/// The WGSL of `a symbol b` on the float unit, over the bit patterns `a` and `b` (`u32` for
/// width 32, `u64` for 64), as bits.
pub(crate) fn native_expr(width: u32, symbol: &str, a: &str, b: &str) -> String {
    let (bits, float) = if width == 64 {
        ("u64", "f64")
    } else {
        ("u32", "f32")
    };
    format!("bitcast<{bits}>(bitcast<{float}>({a}) {symbol} bitcast<{float}>({b}))")
}

/// One width's fast-path routines, `nf_{ty}_{op}`.
struct Width {
    /// WGSL's name of the bits' type.
    bits: &'static str,
    /// The prefix of the soft-float routines and of ours.
    name: &'static str,
    /// Shift of the exponent field, and its all-ones value.
    shift: &'static str,
    ones: &'static str,
}

const F32: Width = Width {
    bits: "u32",
    name: "f32",
    shift: "23u",
    ones: "0xffu",
};

const F64: Width = Width {
    bits: "u64",
    name: "f64",
    shift: "52u",
    ones: "0x7ffu",
};

/// The WGSL of `nf_f32_add`, `nf_f32_sub`, `nf_f32_mul` and their f64 twins, plus
/// `nf_normal32`/`nf_normal64`. Routines of a width `native` leaves out call the soft-float
/// routine only. Needs [`SOFTFLOAT_WGSL`](crate::SOFTFLOAT_WGSL), and 64-bit floats where
/// `native` computes f64.
pub fn native_float_wgsl(native: NativeFloats) -> String {
    let mut out = String::from(
        "// The float unit's fast path (`nativefloat.rs`): the GPU's add, sub and mul on normal\n\
         // operands with a normal result, the soft-float routine otherwise.\n",
    );
    for (width, on) in [(F32, native.f32()), (F64, native.f64())] {
        let Width {
            bits,
            name,
            shift,
            ones,
        } = width;
        let word = if name == "f32" { "32" } else { "64" };
        // The exponent field less one, wrapping: below `ones - 1` exactly for normal numbers.
        out.push_str(&format!(
            "fn nf_normal{word}(x: {bits}) -> bool {{\n\
             \x20   return (u32(x >> {shift}) & {ones}) - 1u < {ones} - 1u;\n\
             }}\n"
        ));
        for (op, symbol) in [("add", "+"), ("sub", "-"), ("mul", "*")] {
            out.push_str(&format!(
                "fn nf_{name}_{op}(a: {bits}, b: {bits}) -> {bits} {{\n"
            ));
            if on {
                let expr = native_expr(if name == "f32" { 32 } else { 64 }, symbol, "a", "b");
                out.push_str(&format!(
                    "    if nf_normal{word}(a) && nf_normal{word}(b) {{\n\
                     \x20       let r = {expr};\n\
                     \x20       if nf_normal{word}(r) {{\n\
                     \x20           return r;\n\
                     \x20       }}\n\
                     \x20   }}\n"
                ));
            }
            out.push_str(&format!("    return sf_{name}_{op}(a, b);\n}}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SOFTFLOAT_WGSL, ShaderCapabilities, validate_wgsl};

    fn capabilities(float64: bool) -> ShaderCapabilities {
        ShaderCapabilities {
            int64: true,
            subgroups: false,
            float64,
        }
    }

    #[test]
    fn every_choice_validates_where_the_adapter_allows_it() {
        for (native, float64) in [
            (NativeFloats::None, false),
            (NativeFloats::F32, false),
            (NativeFloats::F32AndF64, true),
        ] {
            let source = format!("{SOFTFLOAT_WGSL}\n{}", native_float_wgsl(native));
            validate_wgsl("native floats", source, capabilities(float64))
                .unwrap_or_else(|err| panic!("{native:?}: {err}"));
        }
        let f64_source = format!(
            "{SOFTFLOAT_WGSL}\n{}",
            native_float_wgsl(NativeFloats::F32AndF64)
        );
        assert!(validate_wgsl("native floats", f64_source, capabilities(false)).is_err());
    }

    #[test]
    fn only_the_chosen_widths_use_the_float_unit() {
        let none = native_float_wgsl(NativeFloats::None);
        assert!(!none.contains("bitcast<f32>") && !none.contains("bitcast<f64>"));
        let f32 = native_float_wgsl(NativeFloats::F32);
        assert_eq!(f32.matches("bitcast<f32>(a)").count(), 3);
        assert!(!f32.contains("bitcast<f64>"));
        let both = native_float_wgsl(NativeFloats::F32AndF64);
        assert_eq!(both.matches("bitcast<f64>(a)").count(), 3);
        assert_eq!(
            NativeFloats::for_adapter(capabilities(true), false),
            NativeFloats::F32AndF64
        );
        assert_eq!(
            NativeFloats::for_adapter(capabilities(false), false),
            NativeFloats::F32
        );
        assert_eq!(
            NativeFloats::for_adapter(capabilities(true), true),
            NativeFloats::None
        );
    }

    /// The normal test on the bits, against Rust's classification.
    #[test]
    fn normal_means_neither_zero_subnormal_infinite_nor_nan() {
        let normal32 = |x: u32| ((x >> 23) & 0xff).wrapping_sub(1) < 0xff - 1;
        let normal64 = |x: u64| (((x >> 52) as u32) & 0x7ff).wrapping_sub(1) < 0x7ff - 1;
        for x in [
            0.0_f32,
            -0.0,
            1.0,
            -3.5,
            f32::MIN_POSITIVE,
            f32::MIN_POSITIVE / 2.0,
            f32::MAX,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ] {
            assert_eq!(normal32(x.to_bits()), x.is_normal(), "{x}");
        }
        for x in [
            0.0_f64,
            -0.0,
            1.0,
            -3.5,
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE / 2.0,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ] {
            assert_eq!(normal64(x.to_bits()), x.is_normal(), "{x}");
        }
        let source = native_float_wgsl(NativeFloats::F32AndF64);
        assert!(source.contains("(u32(x >> 23u) & 0xffu) - 1u < 0xffu - 1u"));
        assert!(source.contains("(u32(x >> 52u) & 0x7ffu) - 1u < 0x7ffu - 1u"));
    }
}
