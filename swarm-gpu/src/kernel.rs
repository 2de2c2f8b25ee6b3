//! `Kernel`: a compute pipeline built from validated WGSL, its bind groups, and submitting a
//! batch of dispatches in stages (plus the readbacks that go with them) as one submission.

use std::time::{Duration, Instant};

use swarm_core::DispatchGrid;
use swarm_shader::ValidatedWgsl;

use crate::{GpuBuffer, GpuContext, GpuError, ReadRequest};

/// How a kernel uses one binding (binding `i` of group 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingKind {
    /// `var<storage, read>`.
    StorageRead,
    /// `var<storage, read_write>`.
    StorageReadWrite,
    /// `var<uniform>`.
    Uniform,
}

/// A compute pipeline and its bind group layout.
#[derive(Clone, Debug)]
pub struct Kernel {
    label: String,
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
    bindings: Vec<BindingKind>,
}

impl Kernel {
    /// The kernel's label.
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// Buffers bound to a kernel's bindings.
#[derive(Debug)]
pub struct KernelBindings {
    group: wgpu::BindGroup,
}

/// One dispatch of a batch.
#[derive(Clone, Copy, Debug)]
pub struct Dispatch<'a> {
    /// The kernel to run.
    pub kernel: &'a Kernel,
    /// Its buffers.
    pub bindings: &'a KernelBindings,
    /// The workgroup grid.
    pub grid: DispatchGrid,
}

/// How long a batch took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DispatchTiming {
    /// From submission to results on the host, readback included.
    pub wall: Duration,
    /// Between the first and last dispatch's timestamps, when the device has timestamp queries.
    pub gpu: Option<Duration>,
    /// Recording and submitting the work.
    pub submit: Duration,
    /// From the submission until the readback lay mapped: the GPU's work, the copy to the
    /// host and the wake-up.
    pub wait: Duration,
    /// In the visitor.
    pub visit: Duration,
}

/// Bytes the two pass timestamps take at the start of the staging buffer.
const TIMESTAMP_BYTES: u64 = 16;

impl GpuContext {
    /// Builds a compute pipeline for `entry` of `wgsl`, whose group 0 has `bindings`.
    pub fn create_kernel(
        &self,
        wgsl: &ValidatedWgsl,
        entry: &str,
        bindings: &[BindingKind],
    ) -> Result<Kernel, GpuError> {
        let mut kernels = self.create_kernels(wgsl, &[entry], bindings)?;
        Ok(kernels.remove(0))
    }

    /// Builds one compute pipeline per entry point of `wgsl`, all sharing one bind group
    /// layout with `bindings`, so one [`KernelBindings`] serves every one of them.
    pub fn create_kernels(
        &self,
        wgsl: &ValidatedWgsl,
        entries: &[&str],
        bindings: &[BindingKind],
    ) -> Result<Vec<Kernel>, GpuError> {
        self.pipeline_builder().build(wgsl, entries, None, bindings)
    }
}

impl crate::PipelineBuilder {
    /// Builds one compute pipeline per entry point of `wgsl` with the bind group layout of
    /// `like`: the bindings made for `like` serve them too, so a swarm can switch between the
    /// kernels from one dispatch to the next.
    pub fn create_kernels_like(
        &self,
        wgsl: &ValidatedWgsl,
        entries: &[&str],
        like: &Kernel,
    ) -> Result<Vec<Kernel>, GpuError> {
        self.build(wgsl, entries, Some(&like.layout), &like.bindings)
    }

    /// Builds the pipelines (with a new bind group layout unless `layout` is given) and
    /// writes the pipeline cache, if one is open, when they have added to it.
    fn build(
        &self,
        wgsl: &ValidatedWgsl,
        entries: &[&str],
        layout: Option<&wgpu::BindGroupLayout>,
        bindings: &[BindingKind],
    ) -> Result<Vec<Kernel>, GpuError> {
        let kernels = self.scoped("building compute pipelines", || {
            let made;
            let layout = match layout {
                Some(layout) => layout,
                None => {
                    made = bind_group_layout(&self.device, wgsl.label(), bindings);
                    &made
                }
            };
            let cache = self.cache.as_ref().map(|c| &c.cache);
            build_kernels(&self.device, wgsl, entries, layout, bindings, cache)
        })?;
        if let Some(cache) = &self.cache {
            cache.save();
        }
        Ok(kernels)
    }
}

fn bind_group_layout(
    device: &wgpu::Device,
    label: &str,
    bindings: &[BindingKind],
) -> wgpu::BindGroupLayout {
    let entries: Vec<_> = bindings
        .iter()
        .enumerate()
        .map(|(index, kind)| wgpu::BindGroupLayoutEntry {
            binding: index as u32,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: match kind {
                    BindingKind::StorageRead => {
                        wgpu::BufferBindingType::Storage { read_only: true }
                    }
                    BindingKind::StorageReadWrite => {
                        wgpu::BufferBindingType::Storage { read_only: false }
                    }
                    BindingKind::Uniform => wgpu::BufferBindingType::Uniform,
                },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        })
        .collect();
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(label),
        entries: &entries,
    })
}

fn build_kernels(
    device: &wgpu::Device,
    wgsl: &ValidatedWgsl,
    entries: &[&str],
    layout: &wgpu::BindGroupLayout,
    bindings: &[BindingKind],
    cache: Option<&wgpu::PipelineCache>,
) -> Vec<Kernel> {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(wgsl.label()),
        source: wgpu::ShaderSource::Wgsl(wgsl.source().into()),
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(wgsl.label()),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    entries
        .iter()
        .map(|entry| Kernel {
            label: format!("{} ({entry})", wgsl.label()),
            pipeline: device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(wgsl.label()),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache,
            }),
            layout: layout.clone(),
            bindings: bindings.to_vec(),
        })
        .collect()
}

impl GpuContext {
    /// Binds `buffers`, whole, to the kernel's bindings in order.
    pub fn bind(
        &self,
        kernel: &Kernel,
        buffers: &[&GpuBuffer],
    ) -> Result<KernelBindings, GpuError> {
        if buffers.len() != kernel.bindings.len() {
            return Err(GpuError::BindingCount {
                kernel: kernel.label.clone(),
                expected: kernel.bindings.len(),
                given: buffers.len(),
            });
        }
        let entries: Vec<_> = buffers
            .iter()
            .enumerate()
            .map(|(index, buffer)| wgpu::BindGroupEntry {
                binding: index as u32,
                resource: buffer.buffer.as_entire_binding(),
            })
            .collect();
        let group = self.scoped("binding buffers", || {
            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(&kernel.label),
                layout: &kernel.layout,
                entries: &entries,
            })
        })?;
        Ok(KernelBindings { group })
    }

    /// Runs `stages` in order in one submission, then reads `reads` back, and waits for
    /// both; `visit` gets every read's bytes, in order, while they are mapped.
    ///
    /// Each stage is one command buffer whose dispatches wgpu orders only where they touch
    /// the same writable buffer: dispatches over disjoint buffers (the chunks of a pool) may
    /// run at the same time. A stage starts once the stages before it are done with the
    /// buffers it uses. Putting work that must follow a whole stage (the runs after the
    /// spawns) into a stage of its own keeps its ordering barriers between the stages, rather
    /// than before each of its dispatches, where one barrier waits for every dispatch before it.
    pub fn dispatch(
        &self,
        stages: &[&[Dispatch<'_>]],
        reads: &[ReadRequest<'_>],
        visit: impl FnOnce(&[&[u8]]),
    ) -> Result<DispatchTiming, GpuError> {
        let start = Instant::now();
        let timing = self.timer();
        let extra = if timing.is_some() { TIMESTAMP_BYTES } else { 0 };
        let stages = nonempty(stages);
        let last = stages.len() - 1;
        // One error scope for the recording and the submission.
        let staging = self.scoped("submitting dispatches", || {
            let mut buffers = Vec::with_capacity(stages.len());
            let mut staging = None;
            for (index, stage) in stages.iter().enumerate() {
                let writes = timing.as_ref().and_then(|(set, _)| {
                    let (first, end) = (index == 0, index == last);
                    (first || end).then_some(wgpu::ComputePassTimestampWrites {
                        query_set: set,
                        beginning_of_pass_write_index: first.then_some(0),
                        end_of_pass_write_index: end.then_some(1),
                    })
                });
                let mut encoder = self.encode_stage("swarm dispatch", stage, writes);
                if index == last {
                    staging = self.encode_reads(&mut encoder, reads, extra);
                    if let (Some((set, resolve)), Some(staging)) = (&timing, &staging) {
                        encoder.resolve_query_set(set, 0..2, resolve, 0);
                        encoder.copy_buffer_to_buffer(resolve, 0, staging, 0, TIMESTAMP_BYTES);
                    }
                }
                buffers.push(encoder.finish());
            }
            self.queue.submit(buffers);
            staging
        })?;
        let submit = start.elapsed();
        let readback = self.finish_reads(staging, reads, extra, visit)?;
        let head = readback.head;
        let gpu = (head.len() == TIMESTAMP_BYTES as usize).then(|| {
            let begin = u64::from_le_bytes(head[0..8].try_into().expect("8 bytes"));
            let end = u64::from_le_bytes(head[8..16].try_into().expect("8 bytes"));
            let period = f64::from(self.queue.get_timestamp_period());
            Duration::from_nanos((end.saturating_sub(begin) as f64 * period) as u64)
        });
        Ok(DispatchTiming {
            wall: start.elapsed(),
            gpu,
            submit,
            wait: readback.wait,
            visit: readback.visit,
        })
    }

    /// Records `stages` as [`dispatch`](Self::dispatch) does and submits them without
    /// waiting; later submissions and queued writes happen after them.
    pub fn submit(&self, stages: &[&[Dispatch<'_>]]) -> Result<(), GpuError> {
        let stages = nonempty(stages);
        let buffers = self.scoped("recording dispatches", || {
            stages
                .iter()
                .map(|stage| self.encode_stage("swarm submit", stage, None).finish())
                .collect::<Vec<_>>()
        })?;
        self.scoped("submitting dispatches", || {
            self.queue.submit(buffers);
        })
    }

    /// A command encoder holding one compute pass of `stage`'s dispatches, with `writes`.
    fn encode_stage(
        &self,
        label: &str,
        stage: &[Dispatch<'_>],
        writes: Option<wgpu::ComputePassTimestampWrites<'_>>,
    ) -> wgpu::CommandEncoder {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("swarm"),
            timestamp_writes: writes,
        });
        record(&mut pass, stage);
        drop(pass);
        encoder
    }

    /// The timestamp query set and its resolve buffer, when the device has timestamps.
    fn timer(&self) -> Option<(wgpu::QuerySet, wgpu::Buffer)> {
        if !self.has_timestamps() {
            return None;
        }
        let mut slot = self.timer.lock().unwrap_or_else(|p| p.into_inner());
        Some(
            slot.get_or_insert_with(|| {
                let set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("swarm timestamps"),
                    ty: wgpu::QueryType::Timestamp,
                    count: 2,
                });
                let resolve = self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("swarm timestamps"),
                    size: TIMESTAMP_BYTES,
                    usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                });
                (set, resolve)
            })
            .clone(),
        )
    }
}

/// The stages that dispatch something, or one empty stage (whose pass still takes the
/// timestamps) where none does.
fn nonempty<'s, 'a>(stages: &[&'s [Dispatch<'a>]]) -> Vec<&'s [Dispatch<'a>]> {
    let busy: Vec<_> = stages
        .iter()
        .copied()
        .filter(|stage| stage.iter().any(|d| d.grid.x > 0 && d.grid.y > 0))
        .collect();
    if busy.is_empty() { vec![&[]] } else { busy }
}

/// Records `dispatches` into `pass`, in order; wgpu orders their storage accesses.
fn record(pass: &mut wgpu::ComputePass<'_>, dispatches: &[Dispatch<'_>]) {
    for dispatch in dispatches {
        if dispatch.grid.x == 0 || dispatch.grid.y == 0 {
            continue;
        }
        pass.set_pipeline(&dispatch.kernel.pipeline);
        pass.set_bind_group(0, &dispatch.bindings.group, &[]);
        pass.dispatch_workgroups(dispatch.grid.x, dispatch.grid.y, 1);
    }
}
