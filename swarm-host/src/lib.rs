//! Run thousands to millions of WebAssembly agents of one module on a GPU.
//!
//! This crate is swarm's public API. It re-exports the configuration and id types from the
//! lower layers and opens GPU adapters; the lower crates are implementation details.
#![forbid(unsafe_code)]

pub use swarm_core::{AgentId, ConfigError, PoolError, SwarmConfig, TrapCode};
pub use swarm_gpu::{AdapterError, AdapterReport, AdapterRequest, list_adapters};
