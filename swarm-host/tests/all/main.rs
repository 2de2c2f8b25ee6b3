//! swarm-host integration tests, on the default adapter (lavapipe in CI).

mod api;
mod batch;
mod cli;
mod differential;
mod divergence;
mod fuel;
mod fuzz_cases;
mod host_memory;
mod memory;
mod multi;
mod pipeline_cache;
mod reference;
mod store;
mod tiers;
mod wasi;
