//! Run thousands to millions of WebAssembly agents of one module on a GPU.
//!
//! A [`Swarm`] holds one module and a pool of agents. Each agent has its own linear memory,
//! globals, tables and stacks; [`Swarm::dispatch`] runs every runnable agent in one GPU
//! submission, one agent per GPU invocation, and reports each agent's results, trap and
//! instruction count.
//!
//! ```no_run
//! use swarm_host::{Imports, Swarm, SwarmConfig, Value};
//!
//! let wasm = wat::parse_str(r#"(module (func (export "sq") (param i32) (result i32)
//!     local.get 0 local.get 0 i32.mul))"#).unwrap();
//! let mut swarm = Swarm::new(SwarmConfig::default())?;
//! swarm.load_module(&wasm, &Imports::new())?;
//! for i in 0..1_000 {
//!     swarm.spawn("sq", &[Value::I32(i)])?;
//! }
//! let report = swarm.run()?;
//! assert_eq!(report.agents.len(), 1_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod error;
mod host;
mod info;
mod instance;
mod multi;
mod stack;
mod swarm;
mod text;
mod value;
pub mod wasi;

pub use error::{AccessError, CreateError, DispatchError, HostMemoryError, LoadError, SpawnError};
pub use host::{HostCall, HostResult, HostStop};
pub use info::{ExportedFunction, ModuleInfo};
pub use instance::{Imports, StoreState};
pub use multi::{
    DeviceDispatch, DeviceFailure, MultiBatch, MultiBatchReport, MultiDispatchReport, MultiSwarm,
};
pub use swarm::{
    AUTO_COMPILE_AFTER, AgentReport, Arg, Background, Batch, BatchOutcome, BatchReport,
    CompileReport, DispatchPhases, DispatchReport, HostMemory, Outcome, Swarm, TierStatus,
};
pub use swarm_core::{
    AgentId, CompileBudget, ConfigError, DeviceLimits, LayoutError, Placement, PlacementError,
    PoolError, Reconverge, SwarmConfig, Tier, TrapCode,
};
pub use swarm_gpu::{
    AdapterError, AdapterReport, AdapterRequest, GpuError, PipelineCacheReport, every_adapter,
    list_adapters,
};
pub use swarm_shader::isa::OpGroups;
pub use swarm_shader::program::{Export, ValType};
pub use swarm_shader::{ExternType, Import, InstanceInfo, NativeFloats, Store};
pub use value::Value;
