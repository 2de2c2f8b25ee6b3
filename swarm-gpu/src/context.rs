//! `GpuContext`: the adapter, device and queue, opened with swarm's features and the adapter's
//! real limits, and the error plumbing that turns wgpu's complaints into `GpuError`s.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use swarm_core::DeviceLimits;
use swarm_shader::ShaderCapabilities;

use crate::buffer::Staging;
use crate::cache::DiskPipelineCache;
use crate::{AdapterError, GpuError, PipelineCacheReport};

/// How long a wait polls the device before it blocks: about what a short dispatch takes.
const SPIN_BEFORE_BLOCKING: std::time::Duration = std::time::Duration::from_micros(500);

/// Optional features swarm uses when the adapter has them.
const WANTED_FEATURES: wgpu::Features = wgpu::Features::SHADER_INT64
    .union(wgpu::Features::TIMESTAMP_QUERY)
    .union(wgpu::Features::PIPELINE_CACHE)
    .union(wgpu::Features::SUBGROUP)
    .union(wgpu::Features::SHADER_F64);

/// Which adapter to open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdapterRequest {
    /// Backends to search, as `WGPU_BACKEND` spells them (`vulkan`, `metal`, `dx12`, `gl`, or a
    /// comma-separated list); `None` for the platform's primary backends.
    pub backends: Option<String>,
    /// A substring of the adapter's name (case-insensitive); `None` for the high-performance
    /// adapter.
    pub name: Option<String>,
    /// Which of the adapters the backends list (and whose name matches `name`, if given) to
    /// open, counting from 0 in the backends' order: one GPU of several alike. `None` for the
    /// first match, or the high-performance adapter without a name.
    pub index: Option<usize>,
}

impl AdapterRequest {
    /// The request that `WGPU_BACKEND` and `WGPU_ADAPTER_NAME` describe.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Self {
            backends: var("WGPU_BACKEND"),
            name: var("WGPU_ADAPTER_NAME"),
            index: None,
        }
    }

    /// The error for no adapter matching the request, among the `available` ones.
    fn none_matching(&self, available: Vec<String>) -> AdapterError {
        match &self.name {
            Some(name) => AdapterError::NoMatchingName {
                name: name.clone(),
                available,
            },
            None => AdapterError::NoAdapter {
                backends: format!("{:?}", self.backends()),
            },
        }
    }

    /// Whether an adapter of this name is one the request's `name` picks.
    fn matches_name(&self, adapter: &str) -> bool {
        self.name
            .as_ref()
            .is_none_or(|name| adapter.to_lowercase().contains(&name.to_lowercase()))
    }

    fn backends(&self) -> wgpu::Backends {
        self.backends
            .as_deref()
            .map(wgpu::Backends::from_comma_list)
            .unwrap_or(wgpu::Backends::PRIMARY)
    }
}

/// What an adapter is and what swarm asked of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterReport {
    /// The adapter's name.
    pub name: String,
    /// The backend (Vulkan, Metal, ...).
    pub backend: String,
    /// Discrete, integrated, CPU, ...
    pub device_type: String,
    /// Driver name and version.
    pub driver: String,
    /// The limits swarm requested (the adapter's own).
    pub limits: DeviceLimits,
    /// Optional features swarm requested and got.
    pub features: Vec<String>,
    /// Optional features swarm would use but the adapter lacks.
    pub missing_features: Vec<String>,
}

impl AdapterReport {
    fn new(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        let features = adapter.features();
        let names = |set: wgpu::Features| set.iter_names().map(|(n, _)| n.to_owned()).collect();
        let limits = device_limits(&adapter.limits(), &info, device_memory(adapter));
        Self {
            name: info.name,
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_owned(),
            limits,
            features: names(features & WANTED_FEATURES),
            missing_features: names(WANTED_FEATURES - features),
        }
    }
}

impl fmt::Display for AdapterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.limits;
        writeln!(
            f,
            "{} ({}, {}, driver {})",
            self.name, self.backend, self.device_type, self.driver
        )?;
        writeln!(
            f,
            "  features requested: {}",
            if self.features.is_empty() {
                "none".to_owned()
            } else {
                self.features.join(", ")
            }
        )?;
        if !self.missing_features.is_empty() {
            writeln!(
                f,
                "  features missing: {}",
                self.missing_features.join(", ")
            )?;
        }
        writeln!(
            f,
            "  max_storage_buffer_binding_size {}",
            l.max_storage_buffer_binding_size
        )?;
        writeln!(f, "  max_buffer_size {}", l.max_buffer_size)?;
        writeln!(
            f,
            "  max_compute_workgroups_per_dimension {}",
            l.max_compute_workgroups_per_dimension
        )?;
        writeln!(
            f,
            "  max_compute_invocations_per_workgroup {}",
            l.max_compute_invocations_per_workgroup
        )?;
        writeln!(
            f,
            "  max_storage_buffers_per_shader_stage {}",
            l.max_storage_buffers_per_shader_stage
        )?;
        match l.device_memory {
            Some(bytes) => write!(f, "  device memory {bytes}"),
            None => write!(f, "  device memory unknown"),
        }
    }
}

/// The size of the adapter's largest device-local memory heap, on Vulkan (wgpu does not
/// report it).
#[allow(unsafe_code)]
fn device_memory(adapter: &wgpu::Adapter) -> Option<u64> {
    // SAFETY: the Vulkan instance and physical device come from the adapter, which stays
    // borrowed (so alive) throughout; the query reads properties and changes nothing.
    let properties = unsafe {
        let hal = adapter.as_hal::<wgpu::hal::api::Vulkan>()?;
        hal.shared_instance()
            .raw_instance()
            .get_physical_device_memory_properties(hal.raw_physical_device())
    };
    properties
        .memory_heaps_as_slice()
        .iter()
        .filter(|heap| heap.flags.contains(ash::vk::MemoryHeapFlags::DEVICE_LOCAL))
        .map(|heap| heap.size)
        .max()
}

fn device_limits(
    limits: &wgpu::Limits,
    info: &wgpu::AdapterInfo,
    device_memory: Option<u64>,
) -> DeviceLimits {
    // Mesa's llvmpipe (lavapipe) ends every loop of an invocation after 65,535 iterations in
    // all (gallivm's loop limiter), silently.
    let llvmpipe = info.name.contains("llvmpipe") || info.driver.contains("llvmpipe");
    DeviceLimits {
        shader_loop_iterations: llvmpipe.then_some(65_535),
        max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
        max_buffer_size: limits.max_buffer_size,
        max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
        max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
        max_storage_buffers_per_shader_stage: limits.max_storage_buffers_per_shader_stage,
        device_memory,
    }
}

fn instance(request: &AdapterRequest) -> wgpu::Instance {
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
    descriptor.backends = request.backends();
    wgpu::Instance::new(descriptor)
}

/// Every adapter on the requested backends.
pub fn list_adapters(request: &AdapterRequest) -> Vec<AdapterReport> {
    let instance = instance(request);
    pollster::block_on(instance.enumerate_adapters(request.backends()))
        .iter()
        .map(AdapterReport::new)
        .collect()
}

/// A request for each GPU of the host that `request` allows (its backends and name): the
/// adapters of the best kind present (discrete GPUs, else integrated, virtual, other, and CPU
/// last) on one backend (the first that lists one of that kind), so that no GPU is opened
/// twice through two backends and a software driver joins no real GPU. Each request names its
/// adapter by index.
pub fn every_adapter(request: &AdapterRequest) -> Result<Vec<AdapterRequest>, AdapterError> {
    let instance = instance(request);
    let backends = request.backends();
    let adapters = pollster::block_on(instance.enumerate_adapters(backends));
    let available: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
    let infos: Vec<wgpu::AdapterInfo> = adapters
        .iter()
        .map(|a| a.get_info())
        .filter(|info| request.matches_name(&info.name))
        .collect();
    let rank = |kind: wgpu::DeviceType| match kind {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    let Some(best) = infos
        .iter()
        .min_by_key(|info| rank(info.device_type))
        .map(|info| (info.device_type, info.backend))
    else {
        return Err(request.none_matching(available));
    };
    let backend = infos
        .iter()
        .find(|info| info.device_type == best.0)
        .map_or(best.1, |info| info.backend);
    // Indices count the matching adapters of that one backend, as `GpuContext::new` counts.
    Ok(infos
        .iter()
        .filter(|info| info.backend == backend)
        .enumerate()
        .filter(|(_, info)| info.device_type == best.0)
        .map(|(index, _)| AdapterRequest {
            backends: Some(backend.to_str().to_owned()),
            name: request.name.clone(),
            index: Some(index),
        })
        .collect())
}

/// An open device and what swarm knows about it.
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    report: AdapterReport,
    info: wgpu::AdapterInfo,
    timestamps: bool,
    int64: bool,
    subgroups: bool,
    /// Whether shaders may use 64-bit floats.
    float64: bool,
    /// Whether the device can keep pipeline caches.
    caches: bool,
    /// Where built pipelines are kept between runs, once opened.
    pipeline_cache: Option<Arc<DiskPipelineCache>>,
    /// Set by the device-lost callback.
    lost: Arc<Mutex<Option<String>>>,
    /// Errors raised outside any error scope (on other threads, or by the driver later).
    uncaptured: Arc<Mutex<Vec<wgpu::Error>>>,
    pub(crate) staging: Staging,
    /// Timestamp query set and resolve buffer, made on first use.
    pub(crate) timer: Mutex<Option<(wgpu::QuerySet, wgpu::Buffer)>>,
}

/// Builds compute pipelines on a context's device from another thread, so a large kernel can
/// compile while the device runs others. Errors are caught as the context's are (error scopes
/// belong to the thread that opens them).
#[derive(Clone)]
pub struct PipelineBuilder {
    pub(crate) device: wgpu::Device,
    pub(crate) cache: Option<Arc<DiskPipelineCache>>,
    lost: Arc<Mutex<Option<String>>>,
    uncaptured: Arc<Mutex<Vec<wgpu::Error>>>,
}

impl fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineBuilder").finish_non_exhaustive()
    }
}

impl PipelineBuilder {
    pub(crate) fn scoped<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce() -> T,
    ) -> Result<T, GpuError> {
        scoped(&self.device, &self.lost, &self.uncaptured, operation, work)
    }
}

fn check_alive(lost: &Mutex<Option<String>>) -> Result<(), GpuError> {
    match &*lost.lock().unwrap_or_else(|p| p.into_inner()) {
        Some(reason) => Err(GpuError::DeviceLost {
            reason: reason.clone(),
        }),
        None => Ok(()),
    }
}

/// Runs `work` inside error scopes of `device` and returns the first error wgpu raised in it.
fn scoped<T>(
    device: &wgpu::Device,
    lost: &Mutex<Option<String>>,
    uncaptured: &Mutex<Vec<wgpu::Error>>,
    operation: &'static str,
    work: impl FnOnce() -> T,
) -> Result<T, GpuError> {
    check_alive(lost)?;
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let value = work();
    let errors = [
        pollster::block_on(validation.pop()),
        pollster::block_on(memory.pop()),
        pollster::block_on(internal.pop()),
    ];
    if let Some(error) = errors.into_iter().flatten().next() {
        return Err(GpuError::from_wgpu(operation, error));
    }
    if let Some(error) = uncaptured
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .drain(..)
        .next()
    {
        return Err(GpuError::from_wgpu(operation, error));
    }
    check_alive(lost)?;
    Ok(value)
}

impl fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.report.name)
            .finish_non_exhaustive()
    }
}

impl GpuContext {
    /// Opens the adapter the request names, with the adapter's full limits and every optional
    /// feature swarm uses that it has.
    pub fn new(request: &AdapterRequest) -> Result<Self, AdapterError> {
        let instance = instance(request);
        let backends = request.backends();
        let adapter = if request.name.is_some() || request.index.is_some() {
            let adapters = pollster::block_on(instance.enumerate_adapters(backends));
            let available: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
            let mut matching: Vec<wgpu::Adapter> = adapters
                .into_iter()
                .filter(|a| request.matches_name(&a.get_info().name))
                .collect();
            if matching.is_empty() {
                return Err(request.none_matching(available));
            }
            let index = request.index.unwrap_or(0);
            if index >= matching.len() {
                return Err(AdapterError::NoAdapterAt {
                    index,
                    matching: matching.len(),
                });
            }
            matching.swap_remove(index)
        } else {
            pollster::block_on(
                instance.request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::from_env()
                        .unwrap_or(wgpu::PowerPreference::HighPerformance),
                    ..Default::default()
                }),
            )
            .map_err(|_| AdapterError::NoAdapter {
                backends: format!("{backends:?}"),
            })?
        };

        let report = AdapterReport::new(&adapter);
        let info = adapter.get_info();
        let features = adapter.features() & WANTED_FEATURES;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("swarm"),
            required_features: features,
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|err| AdapterError::RequestDevice {
            adapter: report.name.clone(),
            reason: err.to_string(),
        })?;

        let lost = Arc::new(Mutex::new(None));
        let lost_flag = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            *lost_flag.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(format!("{reason:?}: {message}"));
        });
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&uncaptured);
        device.on_uncaptured_error(Arc::new(move |error| {
            sink.lock().unwrap_or_else(|p| p.into_inner()).push(error);
        }));

        Ok(Self {
            device,
            queue,
            report,
            info,
            timestamps: features.contains(wgpu::Features::TIMESTAMP_QUERY),
            int64: features.contains(wgpu::Features::SHADER_INT64),
            subgroups: features.contains(wgpu::Features::SUBGROUP),
            float64: features.contains(wgpu::Features::SHADER_F64),
            caches: features.contains(wgpu::Features::PIPELINE_CACHE),
            pipeline_cache: None,
            lost,
            uncaptured,
            staging: Staging::default(),
            timer: Mutex::new(None),
        })
    }

    /// The adapter and what swarm requested of it.
    pub fn report(&self) -> &AdapterReport {
        &self.report
    }

    /// The device's limits.
    pub fn limits(&self) -> DeviceLimits {
        self.report.limits
    }

    /// What generated shaders may use on this device.
    pub fn capabilities(&self) -> ShaderCapabilities {
        ShaderCapabilities {
            int64: self.int64,
            subgroups: self.subgroups,
            float64: self.float64,
        }
    }

    /// Keeps the pipelines this device builds from now on in `dir` (created if needed), and
    /// builds from what an earlier run kept there: see [`PipelineCacheReport`]. Does nothing
    /// where the backend keeps no pipeline caches (wgpu has them on Vulkan only).
    pub fn open_pipeline_cache(&mut self, dir: &Path) -> Result<(), GpuError> {
        if !self.caches {
            return Ok(());
        }
        let cache = self.scoped("opening the pipeline cache", || {
            DiskPipelineCache::open(&self.device, &self.info, dir)
        })??;
        self.pipeline_cache = cache.map(Arc::new);
        Ok(())
    }

    /// What the pipeline cache has done; `None` when none is open.
    pub fn pipeline_cache(&self) -> Option<PipelineCacheReport> {
        self.pipeline_cache.as_ref().map(|cache| cache.report())
    }

    /// Whether dispatches can be timed on the GPU.
    pub fn has_timestamps(&self) -> bool {
        self.timestamps
    }

    /// Destroys the device as a driver losing it would: every later operation fails with
    /// [`GpuError::DeviceLost`]. For tests of what becomes of a lost device's work.
    #[doc(hidden)]
    pub fn destroy(&self) {
        self.device.destroy();
        let mut lost = self.lost.lock().unwrap_or_else(|p| p.into_inner());
        lost.get_or_insert_with(|| "Destroyed: the device was destroyed".to_owned());
    }

    /// Whether the device was lost: every operation on it fails from then on.
    pub fn is_lost(&self) -> bool {
        self.check_alive().is_err()
    }

    /// Fails if the device was lost.
    pub(crate) fn check_alive(&self) -> Result<(), GpuError> {
        check_alive(&self.lost)
    }

    /// Runs `work` inside error scopes and returns the first error wgpu raised in it.
    pub(crate) fn scoped<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce() -> T,
    ) -> Result<T, GpuError> {
        self.pipeline_builder().scoped(operation, work)
    }

    /// A handle that builds pipelines on this device from any thread (see
    /// [`PipelineBuilder`]).
    pub fn pipeline_builder(&self) -> PipelineBuilder {
        PipelineBuilder {
            device: self.device.clone(),
            cache: self.pipeline_cache.clone(),
            lost: self.lost.clone(),
            uncaptured: self.uncaptured.clone(),
        }
    }

    /// Waits for `callback`'s answer, which a poll of the device delivers: polling without
    /// blocking for a short while, as a short dispatch finishes sooner than a blocked thread
    /// wakes, then blocking until the GPU is idle.
    pub(crate) fn wait_for<T>(
        &self,
        callback: &std::sync::mpsc::Receiver<T>,
        operation: &'static str,
    ) -> Result<T, GpuError> {
        let spin_until = std::time::Instant::now() + SPIN_BEFORE_BLOCKING;
        loop {
            match callback.try_recv() {
                Ok(value) => return Ok(value),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => break,
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
            }
            if std::time::Instant::now() >= spin_until {
                break;
            }
            self.device
                .poll(wgpu::PollType::Poll)
                .map_err(|err| self.poll_error(operation, err))?;
            std::hint::spin_loop();
        }
        self.wait(operation)?;
        callback.try_recv().map_err(|_| GpuError::Readback {
            reason: format!("{operation}: the GPU went idle without answering"),
        })
    }

    fn poll_error(&self, operation: &'static str, err: wgpu::PollError) -> GpuError {
        match self.check_alive() {
            Err(lost) => lost,
            Ok(()) => GpuError::Internal {
                operation,
                description: err.to_string(),
            },
        }
    }

    /// Waits for all submitted work.
    pub(crate) fn wait(&self, operation: &'static str) -> Result<(), GpuError> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|err| self.poll_error(operation, err))?;
        self.check_alive()
    }
}
