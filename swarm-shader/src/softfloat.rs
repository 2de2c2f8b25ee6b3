//! IEEE 754 arithmetic in integer WGSL, so float results are exact on every adapter.
//!
//! GPUs round divisions and square roots loosely and flush subnormals (the H100 does both);
//! WebAssembly demands correctly rounded results with subnormals, so these routines compute
//! floats on their bit patterns with integer instructions only. f32 values travel as `u32`
//! bits, f64 values as `u64` bits.
//! The float unit's fast path ([`crate::nativefloat`]) falls back to these routines.

/// The WGSL library: `sf_*` functions, no bindings. Needs `SHADER_INT64`.
pub const SOFTFLOAT_WGSL: &str = include_str!("softfloat.wgsl");

#[cfg(test)]
mod tests {
    use super::SOFTFLOAT_WGSL;
    use crate::{ShaderCapabilities, validate_wgsl};

    /// Every public function, with its parameter count.
    const FUNCTIONS: &[(&str, usize)] = &[
        ("sf_f32_add", 2),
        ("sf_f32_sub", 2),
        ("sf_f32_mul", 2),
        ("sf_f32_div", 2),
        ("sf_f32_sqrt", 1),
        ("sf_f32_min", 2),
        ("sf_f32_max", 2),
        ("sf_f32_nearest", 1),
        ("sf_f32_floor", 1),
        ("sf_f32_ceil", 1),
        ("sf_f32_trunc", 1),
        ("sf_f32_eq", 2),
        ("sf_f32_ne", 2),
        ("sf_f32_lt", 2),
        ("sf_f32_gt", 2),
        ("sf_f32_le", 2),
        ("sf_f32_ge", 2),
        ("sf_f64_add", 2),
        ("sf_f64_sub", 2),
        ("sf_f64_mul", 2),
        ("sf_f64_div", 2),
        ("sf_f64_sqrt", 1),
        ("sf_f64_min", 2),
        ("sf_f64_max", 2),
        ("sf_f64_nearest", 1),
        ("sf_f64_floor", 1),
        ("sf_f64_ceil", 1),
        ("sf_f64_trunc", 1),
        ("sf_f64_eq", 2),
        ("sf_f64_ne", 2),
        ("sf_f64_lt", 2),
        ("sf_f64_gt", 2),
        ("sf_f64_le", 2),
        ("sf_f64_ge", 2),
        ("sf_f32_convert_i32_s", 1),
        ("sf_f32_convert_i32_u", 1),
        ("sf_f32_convert_i64_s", 1),
        ("sf_f32_convert_i64_u", 1),
        ("sf_f64_convert_i32_s", 1),
        ("sf_f64_convert_i32_u", 1),
        ("sf_f64_convert_i64_s", 1),
        ("sf_f64_convert_i64_u", 1),
        ("sf_f32_demote_f64", 1),
        ("sf_f64_promote_f32", 1),
        ("sf_i32_trunc_f32_s", 1),
        ("sf_i32_trunc_f32_u", 1),
        ("sf_i32_trunc_f64_s", 1),
        ("sf_i32_trunc_f64_u", 1),
        ("sf_i64_trunc_f32_s", 1),
        ("sf_i64_trunc_f32_u", 1),
        ("sf_i64_trunc_f64_s", 1),
        ("sf_i64_trunc_f64_u", 1),
        ("sf_i32_trunc_sat_f32_s", 1),
        ("sf_i32_trunc_sat_f32_u", 1),
        ("sf_i32_trunc_sat_f64_s", 1),
        ("sf_i32_trunc_sat_f64_u", 1),
        ("sf_i64_trunc_sat_f32_s", 1),
        ("sf_i64_trunc_sat_f32_u", 1),
        ("sf_i64_trunc_sat_f64_s", 1),
        ("sf_i64_trunc_sat_f64_u", 1),
    ];

    fn module() -> naga::Module {
        validate_wgsl(
            "softfloat",
            SOFTFLOAT_WGSL.to_owned(),
            ShaderCapabilities {
                int64: true,
                subgroups: true,
                float64: true,
            },
        )
        .unwrap_or_else(|err| panic!("{err}"))
        .module()
        .clone()
    }

    #[test]
    fn softfloat_validates_with_int64() {
        let module = module();
        assert!(module.entry_points.is_empty());
        assert!(module.global_variables.is_empty());
    }

    #[test]
    fn softfloat_needs_int64() {
        let err = validate_wgsl(
            "softfloat",
            SOFTFLOAT_WGSL.to_owned(),
            ShaderCapabilities {
                int64: false,
                subgroups: false,
                float64: false,
            },
        );
        assert!(err.is_err());
    }

    #[test]
    fn softfloat_has_every_function() {
        let module = module();
        for &(name, arity) in FUNCTIONS {
            let function = module
                .functions
                .iter()
                .map(|(_, f)| f)
                .find(|f| f.name.as_deref() == Some(name))
                .unwrap_or_else(|| panic!("{name} is missing"));
            assert_eq!(function.arguments.len(), arity, "{name}");
            assert!(function.result.is_some(), "{name}");
        }
    }

    /// No float type appears anywhere: the float unit is never used.
    #[test]
    fn softfloat_uses_no_float_types() {
        let module = module();
        for (_, ty) in module.types.iter() {
            let float = match ty.inner {
                naga::TypeInner::Scalar(s) | naga::TypeInner::Vector { scalar: s, .. } => {
                    s.kind == naga::ScalarKind::Float
                }
                naga::TypeInner::Matrix { .. } => true,
                _ => false,
            };
            assert!(!float, "float type {:?}", ty.name);
        }
        for (_, function) in module.functions.iter() {
            for (_, expression) in function.expressions.iter() {
                let float = match *expression {
                    naga::Expression::Literal(literal) => matches!(
                        literal,
                        naga::Literal::F16(_)
                            | naga::Literal::F32(_)
                            | naga::Literal::F64(_)
                            | naga::Literal::AbstractFloat(_)
                    ),
                    naga::Expression::As { kind, .. } => kind == naga::ScalarKind::Float,
                    _ => false,
                };
                assert!(!float, "{:?}: {expression:?}", function.name);
            }
        }
    }
}
