//! `Value`: a WebAssembly value crossing the host boundary.

use std::fmt;

use swarm_shader::program::ValType;

/// A WebAssembly value. Floats are kept as their bits so NaN payloads survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// `i32`.
    I32(i32),
    /// `i64`.
    I64(i64),
    /// `f32`, as bits.
    F32(u32),
    /// `f64`, as bits.
    F64(u64),
    /// `funcref`: a function index, or null.
    FuncRef(Option<u32>),
    /// `externref`: a host handle, or null.
    ExternRef(Option<u32>),
}

const NULL: u32 = swarm_shader::image::REF_NULL;

impl Value {
    /// The value's bits as stored in a 64-bit slot.
    pub fn to_bits(self) -> u64 {
        match self {
            Self::I32(v) => u64::from(v as u32),
            Self::I64(v) => v as u64,
            Self::F32(v) => u64::from(v),
            Self::F64(v) => v,
            Self::FuncRef(r) | Self::ExternRef(r) => u64::from(r.unwrap_or(NULL)),
        }
    }

    /// The value of type `ty` stored as `bits`.
    pub fn from_bits(ty: ValType, bits: u64) -> Self {
        let reference = |b: u64| (b as u32 != NULL).then_some(b as u32);
        match ty {
            ValType::I32 => Self::I32(bits as u32 as i32),
            ValType::I64 => Self::I64(bits as i64),
            ValType::F32 => Self::F32(bits as u32),
            ValType::F64 => Self::F64(bits),
            ValType::FuncRef => Self::FuncRef(reference(bits)),
            ValType::ExternRef => Self::ExternRef(reference(bits)),
        }
    }

    /// The value's type.
    pub fn ty(self) -> ValType {
        match self {
            Self::I32(_) => ValType::I32,
            Self::I64(_) => ValType::I64,
            Self::F32(_) => ValType::F32,
            Self::F64(_) => ValType::F64,
            Self::FuncRef(_) => ValType::FuncRef,
            Self::ExternRef(_) => ValType::ExternRef,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::I32(v) => write!(f, "{v}"),
            Self::I64(v) => write!(f, "{v}"),
            Self::F32(v) => write!(f, "{}", f32::from_bits(*v)),
            Self::F64(v) => write!(f, "{}", f64::from_bits(*v)),
            Self::FuncRef(Some(i)) => write!(f, "funcref {i}"),
            Self::ExternRef(Some(i)) => write!(f, "externref {i}"),
            Self::FuncRef(None) | Self::ExternRef(None) => write!(f, "null"),
        }
    }
}
