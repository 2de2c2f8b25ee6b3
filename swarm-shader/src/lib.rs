//! Everything about what runs on the GPU that needs no GPU: validation of the WGSL that swarm
//! generates (through naga) and the WGSL declarations of the records shared with the host.
#![forbid(unsafe_code)]

mod records;
mod softfloat;
mod wgsl;

pub use records::records_wgsl;
pub use softfloat::SOFTFLOAT_WGSL;
pub use wgsl::{ShaderCapabilities, ValidatedWgsl, WgslError, validate_wgsl};
