//! Pool and slot bookkeeping, per-agent buffer layouts, limits, ids and errors for swarm.
//!
//! This crate is pure: it knows nothing of wgpu, naga or wasmparser, so tools that only need to
//! reason about a swarm's shape (how many agents fit, where an agent's memory lives in which GPU
//! buffer) can embed it alone. Everything GPU-facing that must agree between Rust and WGSL
//! (struct layouts, region offsets) is defined here once and generated for both sides.
#![forbid(unsafe_code)]

mod config;
mod dispatch;
mod gpu_struct;
mod id;
mod layout;
mod limits;
mod placement;
mod plan;
mod pool;
mod records;

pub use config::{
    CompileBudget, ConfigError, DEFAULT_MEMORY_GRANULE_BYTES, DEFAULT_PRIVATE_STACK_SLOTS,
    DEFAULT_TILE_AGENTS, DEFAULT_WORKGROUP_SIZE, Reconverge, SwarmConfig, Tier,
};
pub use dispatch::{DispatchGrid, GridError};
pub use gpu_struct::{GpuStruct, WgslField, WgslType};
pub use id::AgentId;
pub use layout::{
    BufferKind, BufferLayout, CALL_FRAME_BYTES, ChunkLayout, Layout, LayoutError, MIN_BUFFER_BYTES,
    Region, RegionKind, SlotLocation, TABLE_ELEMENT_BYTES, VALUE_SLOT_BYTES,
};
pub use limits::DeviceLimits;
pub use placement::{Placement, PlacementError};
pub use plan::{ChunkRun, plan_all, plan_selection};
pub use pool::{PoolError, SlotPool};
pub use records::{
    AgentState, AgentStatus, ArgRule, DispatchParams, SpawnHeader, SpawnRecord, TrapCode,
};

/// Size of one WebAssembly linear-memory page in bytes.
pub const WASM_PAGE_BYTES: u64 = 65_536;
