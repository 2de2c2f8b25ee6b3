//! The public API's errors, one enum per operation.

use swarm_core::{AgentId, ConfigError, LayoutError, PlacementError, PoolError, TrapCode};
use swarm_gpu::{AdapterError, GpuError};
use swarm_shader::{FitError, LoadError as ShaderLoadError, WgslError};

use crate::{ValType, Value};

/// A host function's access to a caller's memory ([`HostMemory`](crate::HostMemory)) failed.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostMemoryError {
    /// The agent did not make one of the batch's calls.
    #[error(
        "agent {0} did not make one of this batch's calls: a host function reaches only the \
         memories of the agents it answers"
    )]
    NotCaller(AgentId),
    /// The range is outside the agent's memory.
    #[error("{len} bytes at offset {offset} are outside the agent's {size}-byte memory")]
    OutOfBounds {
        /// Offset.
        offset: u64,
        /// Bytes.
        len: u64,
        /// The memory's size in bytes.
        size: u64,
    },
    /// Reading the memory back from the GPU failed.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

/// Creating a swarm failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No adapter or device.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    /// The configuration does not fit the device.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// The adapter lacks 64-bit integers in shaders.
    #[error(
        "adapter {adapter:?} lacks SHADER_INT64, which swarm's interpreter needs for i64 and f64; \
         choose another adapter with WGPU_ADAPTER_NAME"
    )]
    NoInt64 {
        /// The adapter's name.
        adapter: String,
    },
    /// A GPU error.
    #[error(transparent)]
    Gpu(#[from] GpuError),
    /// The devices of a `MultiSwarm` cannot share one id space.
    #[error(transparent)]
    Placement(#[from] PlacementError),
    /// One device of a `MultiSwarm` could not be opened.
    #[error("device {device}: {error}")]
    Device {
        /// The device's index.
        device: usize,
        /// Why.
        error: Box<CreateError>,
    },
}

/// Loading a module failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The module is malformed, invalid, or uses an unsupported feature.
    #[error(transparent)]
    Module(#[from] ShaderLoadError),
    /// The module does not fit the swarm's per-agent budgets.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// WAT text that does not parse.
    #[error("the module is neither WebAssembly binary nor valid WAT text: {0}")]
    Text(String),
    /// WAT text, but swarm-host was built without the `wat` feature.
    #[error("the module is WAT text; enable swarm-host's `wat` feature or pass binary `.wasm`")]
    TextUnsupported,
    /// An import nobody provides.
    #[error("unresolved import {module}.{name}: {why}")]
    Link {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
        /// What is missing.
        why: String,
    },
    /// Agents of a previous module are still alive.
    #[error("the swarm still has {0} live agents; kill them before loading another module")]
    AgentsAlive(u32),
    /// A store instance with a start function that is not the last one a load instantiates.
    #[error(
        "instance {0} of the store has a start function but is not the last instance this load \
         instantiates; load the store each time such an instance is added"
    )]
    StartFunction(usize),
    /// The interpreter generated for the module's instructions failed naga validation (a bug
    /// in swarm).
    #[error(transparent)]
    Shader(#[from] WgslError),
    /// A GPU error.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

/// Spawning an agent or giving it a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// No module is loaded.
    #[error("no module is loaded; call `load_module` first")]
    NoModule,
    /// The pool is full, or the id is stale.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// No exported function of that name.
    #[error("the module exports no function named {0:?}")]
    UnknownExport(String),
    /// No function at that store index.
    #[error("the loaded store has no function {0}")]
    UnknownFunction(u32),
    /// Wrong arguments.
    #[error("{export} takes {expected} but was given {given:?}")]
    Arguments {
        /// The export.
        export: String,
        /// Its parameter types.
        expected: String,
        /// What was given.
        given: Vec<Value>,
    },
    /// A batch given more or fewer arguments than its export has parameters.
    #[error(
        "{export} takes {expected} arguments but the batch gives {given}; give one `Arg` per parameter"
    )]
    BatchArity {
        /// The export.
        export: String,
        /// Its parameter count.
        expected: usize,
        /// The arguments given.
        given: usize,
    },
    /// A batch argument that does not fit its parameter or the batch.
    #[error("argument {param} of {export} ({ty:?}): {why}")]
    BatchArgument {
        /// The export.
        export: String,
        /// The parameter's position.
        param: usize,
        /// The parameter's type.
        ty: ValType,
        /// What is wrong, and what to give instead.
        why: String,
    },
    /// Initial memory outside the agent's memory.
    #[error(
        "initial memory of {len} bytes at offset {offset} ends beyond the agent's {size}-byte memory"
    )]
    MemoryOutOfRange {
        /// Offset.
        offset: u64,
        /// Bytes.
        len: u64,
        /// The agent's memory size in bytes.
        size: u64,
    },
    /// The module's instantiation traps (an active segment out of bounds), so its agents have
    /// no instance to call; spawned agents start trapped with this code.
    #[error(
        "instantiation failed: {0}; the agent has no instance to call (load a module whose \
         active segments fit its memories and tables)"
    )]
    Instantiation(TrapCode),
    /// The agent is still running a call.
    #[error("{0} is still running a call; dispatch until it finishes")]
    Busy(AgentId),
    /// A GPU error.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

/// A dispatch failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// An id is stale.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// A host function answered a batch wrongly.
    #[error("host function {name} answered wrongly: {why}")]
    HostFunction {
        /// `module.name` of the import.
        name: String,
        /// What was wrong.
        why: String,
    },
    /// A GPU error.
    #[error(transparent)]
    Gpu(#[from] GpuError),
    /// Building the loaded module's compiled kernel failed (`SwarmConfig::tier` is
    /// `compiled`; `auto` or `interpreter` run the module on the interpreter).
    #[error(
        "compiling the module for the compiled tier failed (set SwarmConfig::tier, or `swarm run --tier`, to auto or interpreter to run it on the interpreter): {0}"
    )]
    Compile(Box<LoadError>),
}

impl From<LoadError> for DispatchError {
    fn from(error: LoadError) -> Self {
        Self::Compile(Box::new(error))
    }
}

/// Reading or writing agent state failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// The id is stale.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// The range is outside the agent's memory.
    #[error("{len} bytes at offset {offset} are outside the agent's {size}-byte memory")]
    OutOfBounds {
        /// Offset.
        offset: u64,
        /// Bytes.
        len: u64,
        /// The memory's size in bytes.
        size: u64,
    },
    /// No global of that name is exported.
    #[error("the module exports no global named {0:?}")]
    UnknownGlobal(String),
    /// No global at that store index.
    #[error("the loaded store has no global {0}")]
    NoGlobal(u32),
    /// No module is loaded.
    #[error("no module is loaded; call `load_module` first")]
    NoModule,
    /// A GPU error.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}
