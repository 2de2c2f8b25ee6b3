//! `DeviceLimits`: the adapter limits that shape a pool, as plain numbers.

/// What a GPU allows, as far as the pool layout and dispatch grid care.
///
/// `swarm-gpu` fills this from the adapter; CPU-side tools can use the presets to ask how a
/// swarm would be split on a given device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceLimits {
    /// Largest range of one storage-buffer binding, in bytes.
    pub max_storage_buffer_binding_size: u64,
    /// Largest buffer, in bytes.
    pub max_buffer_size: u64,
    /// Most workgroups in one dimension of a dispatch.
    pub max_compute_workgroups_per_dimension: u32,
    /// Most invocations in one workgroup.
    pub max_compute_invocations_per_workgroup: u32,
    /// Most storage buffers bound in one compute shader.
    pub max_storage_buffers_per_shader_stage: u32,
    /// Most loop iterations one shader invocation may run before the driver ends every loop
    /// (Mesa's llvmpipe counts all loops together and stops at 65,535); `None` when the driver
    /// sets no such limit. The interpreter ends each dispatch well before it.
    pub shader_loop_iterations: Option<u32>,
    /// Bytes of the adapter's largest device-local memory heap, where the driver tells; a pool
    /// whose buffers need more is refused when the swarm is created.
    pub device_memory: Option<u64>,
}

impl DeviceLimits {
    /// Mesa's lavapipe (software Vulkan) as wgpu 30 reports it: the CI device.
    pub const LAVAPIPE: Self = Self {
        max_storage_buffer_binding_size: 134_217_728,
        max_buffer_size: 2_147_483_647,
        max_compute_workgroups_per_dimension: 65_535,
        max_compute_invocations_per_workgroup: 1_024,
        max_storage_buffers_per_shader_stage: 32,
        shader_loop_iterations: Some(65_535),
        // lavapipe's heap is the machine's memory, which varies.
        device_memory: None,
    };

    /// An NVIDIA H100 on Vulkan as wgpu 30 reports it.
    pub const H100: Self = Self {
        max_storage_buffer_binding_size: 2_147_483_644,
        max_buffer_size: 4_292_870_144,
        max_compute_workgroups_per_dimension: 65_535,
        max_compute_invocations_per_workgroup: 1_024,
        max_storage_buffers_per_shader_stage: 524_288,
        shader_loop_iterations: None,
        device_memory: Some(85_520_809_984),
    };

    /// The largest buffer that can also be bound whole, in bytes, kept below 4 GiB so that
    /// byte offsets inside it fit a `u32`.
    pub fn max_bound_buffer(&self) -> u64 {
        self.max_storage_buffer_binding_size
            .min(self.max_buffer_size)
            .min(u64::from(u32::MAX))
    }
}
