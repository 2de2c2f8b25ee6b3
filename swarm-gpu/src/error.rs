//! Typed errors for opening a device and for work on it.

/// No usable adapter or device.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// No adapter at all on the requested backends.
    #[error(
        "no GPU adapter found (backends: {backends}). On Linux without a GPU, install Mesa's \
         software Vulkan driver: `apt-get install -y mesa-vulkan-drivers`; or choose another \
         backend with WGPU_BACKEND"
    )]
    NoAdapter {
        /// The backends searched.
        backends: String,
    },
    /// `WGPU_ADAPTER_NAME` (or an explicit name) matched none of the adapters.
    #[error("no GPU adapter's name contains {name:?}; adapters found: {}", available_list(.available))]
    NoMatchingName {
        /// The name asked for.
        name: String,
        /// Names of the adapters that exist.
        available: Vec<String>,
    },
    /// `AdapterRequest::index` is past the adapters that match.
    #[error("no GPU adapter number {index}: only {matching} match the request")]
    NoAdapterAt {
        /// The index asked for.
        index: usize,
        /// How many adapters match the backends and name.
        matching: usize,
    },
    /// The adapter refused to open a device.
    #[error("adapter {adapter:?} could not open a device: {reason}")]
    RequestDevice {
        /// The adapter's name.
        adapter: String,
        /// wgpu's reason.
        reason: String,
    },
}

fn available_list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// An error from work on the device.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// wgpu rejected a call: a bug in swarm, reported rather than panicking.
    #[error("GPU validation error in {operation}: {description}")]
    Validation {
        /// What swarm was doing.
        operation: &'static str,
        /// wgpu's description.
        description: String,
    },
    /// The device ran out of memory.
    #[error("GPU out of memory in {operation}: lower `max_agents` or the per-agent sizes")]
    OutOfMemory {
        /// What swarm was doing.
        operation: &'static str,
    },
    /// The driver failed internally.
    #[error("GPU internal error in {operation}: {description}")]
    Internal {
        /// What swarm was doing.
        operation: &'static str,
        /// wgpu's description.
        description: String,
    },
    /// The device was lost (driver reset, GPU removed, or a hang the driver killed).
    #[error("the GPU device was lost: {reason}; create a new swarm to continue")]
    DeviceLost {
        /// The driver's reason.
        reason: String,
    },
    /// Mapping a buffer for readback failed.
    #[error("reading back from the GPU failed: {reason}")]
    Readback {
        /// wgpu's reason.
        reason: String,
    },
    /// A buffer larger than the device allows.
    #[error("buffer `{label}` needs {size} bytes but this device allows at most {limit}")]
    BufferTooLarge {
        /// The buffer's label.
        label: String,
        /// Bytes asked for.
        size: u64,
        /// The device's limit.
        limit: u64,
    },
    /// The pipeline cache's directory cannot be created.
    #[error(
        "cannot keep pipelines in {}: {reason}; choose another directory (`pipeline_cache` of \
         SwarmConfig, `--pipeline-cache` of `swarm run`) or none",
        .dir.display()
    )]
    PipelineCacheDir {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// A kernel's bindings do not match the buffers given.
    #[error("kernel `{kernel}` takes {expected} bindings but {given} were given")]
    BindingCount {
        /// The kernel's label.
        kernel: String,
        /// Bindings it declares.
        expected: usize,
        /// Buffers given.
        given: usize,
    },
}

impl GpuError {
    pub(crate) fn from_wgpu(operation: &'static str, error: wgpu::Error) -> Self {
        match error {
            wgpu::Error::OutOfMemory { .. } => Self::OutOfMemory { operation },
            wgpu::Error::Validation { description, .. } => Self::Validation {
                operation,
                description,
            },
            wgpu::Error::Internal { description, .. } => Self::Internal {
                operation,
                description,
            },
        }
    }
}
