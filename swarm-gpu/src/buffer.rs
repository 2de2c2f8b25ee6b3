//! `GpuBuffer`: a device buffer swarm owns, and reading byte ranges of buffers back.

use std::sync::Mutex;

use crate::{GpuContext, GpuError};

/// A buffer on the device.
#[derive(Debug)]
pub struct GpuBuffer {
    pub(crate) buffer: wgpu::Buffer,
    label: String,
    size: u64,
}

impl Drop for GpuBuffer {
    /// Frees the buffer's memory as soon as the GPU work that uses it has finished, rather than
    /// whenever wgpu next cleans up, so that a swarm dropped and another created in its place
    /// (as the benchmark does, one pool per program) do not hold both pools' memory at once.
    fn drop(&mut self) {
        self.buffer.destroy();
    }
}

impl GpuBuffer {
    /// The buffer's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// A byte range of a buffer to read back. Offsets and sizes are multiples of 4.
#[derive(Clone, Copy, Debug)]
pub struct ReadRequest<'a> {
    /// The buffer.
    pub buffer: &'a GpuBuffer,
    /// First byte.
    pub offset: u64,
    /// Bytes.
    pub size: u64,
}

/// A reusable staging buffer for readbacks, grown on demand.
#[derive(Debug, Default)]
pub(crate) struct Staging {
    buffer: Mutex<Option<wgpu::Buffer>>,
}

impl Staging {
    /// A mappable buffer of at least `size` bytes.
    pub(crate) fn get(&self, device: &wgpu::Device, size: u64) -> wgpu::Buffer {
        let mut slot = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
        match &*slot {
            Some(buffer) if buffer.size() >= size => buffer.clone(),
            _ => {
                let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("swarm readback"),
                    size: size.next_power_of_two().max(256),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                *slot = Some(buffer.clone());
                buffer
            }
        }
    }
}

impl GpuContext {
    /// A zero-filled storage buffer that can be copied to and from.
    pub fn create_storage_buffer(&self, label: &str, size: u64) -> Result<GpuBuffer, GpuError> {
        self.create_buffer(
            label,
            size,
            wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
        )
    }

    /// A zero-filled uniform buffer.
    pub fn create_uniform_buffer(&self, label: &str, size: u64) -> Result<GpuBuffer, GpuError> {
        self.create_buffer(
            label,
            size,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        )
    }

    fn create_buffer(
        &self,
        label: &str,
        size: u64,
        usage: wgpu::BufferUsages,
    ) -> Result<GpuBuffer, GpuError> {
        let limit = self.limits().max_buffer_size;
        if size > limit {
            return Err(GpuError::BufferTooLarge {
                label: label.to_owned(),
                size,
                limit,
            });
        }
        let size = size.next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT).max(16);
        let buffer = self.scoped("creating a buffer", || {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: false,
            })
        })?;
        Ok(GpuBuffer {
            buffer,
            label: label.to_owned(),
            size,
        })
    }

    /// Queues a write of `bytes` at `offset` (a multiple of 4; `bytes.len()` too). It lands
    /// before the next submission.
    pub fn write_buffer(
        &self,
        buffer: &GpuBuffer,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), GpuError> {
        self.scoped("writing a buffer", || {
            self.queue.write_buffer(&buffer.buffer, offset, bytes);
        })
    }

    /// Zeroes byte ranges of buffers (offsets and sizes multiples of 4) in one submission.
    pub fn clear_ranges(
        &self,
        ranges: &[(&GpuBuffer, std::ops::Range<u64>)],
    ) -> Result<(), GpuError> {
        self.scoped("clearing buffers", || {
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("swarm clear"),
                });
            for (buffer, range) in ranges {
                if !range.is_empty() {
                    encoder.clear_buffer(
                        &buffer.buffer,
                        range.start,
                        Some(range.end - range.start),
                    );
                }
            }
            self.queue.submit([encoder.finish()]);
        })
    }

    /// Reads the requested ranges back, in order, after all submitted work.
    pub fn read_buffers(&self, reads: &[ReadRequest<'_>]) -> Result<Vec<Vec<u8>>, GpuError> {
        let mut out = Vec::with_capacity(reads.len());
        self.visit_buffers(reads, |bytes| {
            out.extend(bytes.iter().map(|b| b.to_vec()));
        })?;
        Ok(out)
    }

    /// Reads the requested ranges back after all submitted work, handing `visit` every read's
    /// bytes, in order, while they are mapped: nothing is copied.
    pub fn visit_buffers(
        &self,
        reads: &[ReadRequest<'_>],
        visit: impl FnOnce(&[&[u8]]),
    ) -> Result<(), GpuError> {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("swarm readback"),
            });
        let staging = self.scoped("submitting a readback", || {
            let staging = self.encode_reads(&mut encoder, reads, 0);
            self.queue.submit([encoder.finish()]);
            staging
        })?;
        self.finish_reads(staging, reads, 0, visit).map(|_| ())
    }

    /// Records copies of `reads` into the staging buffer after `extra` leading bytes (inside
    /// the caller's error scope).
    pub(crate) fn encode_reads(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        reads: &[ReadRequest<'_>],
        extra: u64,
    ) -> Option<wgpu::Buffer> {
        let total: u64 = extra + reads.iter().map(|r| r.size).sum::<u64>();
        if total == 0 {
            return None;
        }
        let staging = self.staging.get(&self.device, total);
        let mut at = extra;
        for read in reads {
            if read.size > 0 {
                encoder.copy_buffer_to_buffer(
                    &read.buffer.buffer,
                    read.offset,
                    &staging,
                    at,
                    read.size,
                );
            }
            at += read.size;
        }
        Some(staging)
    }

    /// Maps the staging buffer once the queue is idle and hands `visit` every read's bytes,
    /// returning the `extra` leading bytes and where the time went.
    pub(crate) fn finish_reads(
        &self,
        staging: Option<wgpu::Buffer>,
        reads: &[ReadRequest<'_>],
        extra: u64,
        visit: impl FnOnce(&[&[u8]]),
    ) -> Result<Readback, GpuError> {
        let started = std::time::Instant::now();
        let Some(staging) = staging else {
            self.wait("waiting for the GPU")?;
            let wait = started.elapsed();
            visit(&vec![&[][..]; reads.len()]);
            return Ok(Readback {
                head: Vec::new(),
                wait,
                visit: started.elapsed() - wait,
            });
        };
        let total: u64 = extra + reads.iter().map(|r| r.size).sum::<u64>();
        let slice = staging.slice(..total);
        let (sender, receiver) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
        self.wait_for(&receiver, "reading back")?
            .map_err(|err| GpuError::Readback {
                reason: err.to_string(),
            })?;
        let wait = started.elapsed();
        let view = slice.get_mapped_range().map_err(|err| GpuError::Readback {
            reason: err.to_string(),
        })?;
        let head = view[..extra as usize].to_vec();
        let mut at = extra as usize;
        let slices: Vec<&[u8]> = reads
            .iter()
            .map(|read| {
                let bytes = &view[at..at + read.size as usize];
                at += read.size as usize;
                bytes
            })
            .collect();
        let visiting = std::time::Instant::now();
        visit(&slices);
        let visit = visiting.elapsed();
        drop(slices);
        drop(view);
        staging.unmap();
        Ok(Readback { head, wait, visit })
    }
}

/// What a readback gave besides what the visitor saw.
pub(crate) struct Readback {
    /// The leading bytes before the reads.
    pub(crate) head: Vec<u8>,
    /// Until the staging buffer lay mapped.
    pub(crate) wait: std::time::Duration,
    /// In the visitor.
    pub(crate) visit: std::time::Duration,
}
