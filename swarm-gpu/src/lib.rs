//! swarm's wgpu backend: the only crate that talks to wgpu.
//!
//! It opens an adapter and device with the limits and features swarm uses, turns wgpu's
//! validation errors and device loss into typed errors, and offers the handful of operations
//! the host needs: create and fill buffers, build compute kernels from validated WGSL, submit a
//! batch of dispatches as one submission, and read back byte ranges.
// Two audited `unsafe` blocks: one reads the Vulkan memory heaps (`context::device_memory`),
// which wgpu does not report, and one hands a cache file's checked bytes to the driver
// (`cache::DiskPipelineCache::open`); everything else is safe.
#![deny(unsafe_code)]

mod buffer;
mod cache;
mod context;
mod error;
mod kernel;

pub use buffer::{GpuBuffer, ReadRequest};
pub use cache::PipelineCacheReport;
pub use context::{
    AdapterReport, AdapterRequest, GpuContext, PipelineBuilder, every_adapter, list_adapters,
};
pub use error::{AdapterError, GpuError};
pub use kernel::{BindingKind, Dispatch, DispatchTiming, Kernel, KernelBindings};
