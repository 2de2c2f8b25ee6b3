//! Everything about what runs on the GPU that needs no GPU: validation and lowering of
//! WebAssembly to swarm's instruction stream, the code image, the generated WGSL interpreter,
//! and naga validation of every WGSL source.
#![forbid(unsafe_code)]

pub mod compile;
pub mod disasm;
pub mod effects;
pub mod image;
pub mod interp;
pub mod isa;
pub mod link;
mod lower;
mod nativefloat;
pub mod program;
mod records;
mod softfloat;
mod wgsl;

pub use compile::{CompileBudget, CompilePlan};
pub use image::{CodeImage, FitError};
pub use interp::{
    BindingAccess, InterpBinding, KernelOptions, RUN_ENTRY, SPAWN_ENTRY, SPAWN_MEMORY_ENTRY,
    SPAWN_PIECE_WORDS, Scheduling, compiled_wgsl, interpreter_wgsl,
};
pub use link::{ExternType, Import, InstanceInfo, Store};
pub use lower::{CODE_BASE, LoadError, RETURN_TARGET, lower, supported_features};
pub use nativefloat::{NativeFloats, native_float_wgsl};
pub use program::Program;
pub use records::records_wgsl;
pub use softfloat::SOFTFLOAT_WGSL;
pub use wgsl::{ShaderCapabilities, ValidatedWgsl, WgslError, validate_wgsl};
