//! The pipeline cache on disk: the driver's built pipelines kept in one file per adapter
//! between runs, so a kernel built once (by any process sharing the directory) is not compiled
//! again.
//!
//! The file is ours around the driver's bytes: a magic, the length of the bytes and their
//! FNV-1a hash, then the bytes that `wgpu::PipelineCache::get_data` returned. wgpu and the
//! driver check their own headers (adapter, driver version) and start empty on a mismatch; our
//! check makes sure that what reaches them is exactly what a driver gave us, whatever became of
//! the file since (a torn write, a truncation, another program's file of the same name).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::GpuError;

/// The first bytes of a cache file.
const MAGIC: &[u8; 8] = b"swarmpc1";
/// The magic, the length (u64, little-endian) and the hash (u64, little-endian).
const HEADER_BYTES: usize = 24;
/// The largest file read back. A cache only grows (the driver keeps every pipeline built
/// through it, and there is no way to drop one), so a file past this starts a fresh cache,
/// which the next write replaces it with: the disk a cache takes stays bounded.
pub(crate) const MAX_FILE_BYTES: u64 = 256 << 20;

/// What a swarm's pipeline cache has done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PipelineCacheReport {
    /// The cache file.
    pub file: PathBuf,
    /// Bytes of driver data read from the file when the cache opened; 0 when there was no
    /// usable file.
    pub loaded_bytes: u64,
    /// Why a file that was there was not used.
    pub ignored: Option<String>,
    /// Bytes of driver data last written to the file (0: none yet).
    pub saved_bytes: u64,
    /// The last failure to write the file; building goes on without it.
    pub save_error: Option<String>,
}

/// A device's pipeline cache and the file it is kept in.
pub(crate) struct DiskPipelineCache {
    pub(crate) cache: wgpu::PipelineCache,
    report: Mutex<PipelineCacheReport>,
    /// The hash of the bytes last written, to skip writing the same bytes again.
    saved_hash: Mutex<Option<u64>>,
}

impl DiskPipelineCache {
    /// Opens the cache of the adapter `info` describes in `dir`, creating `dir` if needed.
    /// `None` where the backend keeps no pipeline caches (wgpu has them on Vulkan only).
    #[allow(unsafe_code)]
    pub(crate) fn open(
        device: &wgpu::Device,
        info: &wgpu::AdapterInfo,
        dir: &Path,
    ) -> Result<Option<Self>, GpuError> {
        let Some(key) = wgpu::util::pipeline_cache_key(info) else {
            return Ok(None);
        };
        std::fs::create_dir_all(dir).map_err(|err| GpuError::PipelineCacheDir {
            dir: dir.to_owned(),
            reason: err.to_string(),
        })?;
        let file = dir.join(format!("{key}.bin"));
        let (bytes, ignored) = match std::fs::read(&file) {
            Ok(bytes) => (Some(bytes), None),
            Err(err) if err.kind() == ErrorKind::NotFound => (None, None),
            Err(err) => (None, Some(format!("reading it failed: {err}"))),
        };
        let (data, ignored) = match bytes.as_deref().map(usable) {
            Some(Ok(data)) => (Some(data), ignored),
            Some(Err(why)) => (None, Some(why)),
            None => (None, ignored),
        };
        // SAFETY: `data` passed `decode` (in `usable`), so it is byte for byte what `get_data` of a cache
        // returned when the file was written (its length and hash match the ones written with
        // it). `fallback` makes a cache from another adapter or driver version start empty.
        let cache = unsafe {
            device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                label: Some("swarm pipeline cache"),
                data,
                fallback: true,
            })
        };
        let report = PipelineCacheReport {
            file,
            loaded_bytes: data.map_or(0, |d| d.len() as u64),
            ignored,
            saved_bytes: 0,
            save_error: None,
        };
        Ok(Some(Self {
            cache,
            saved_hash: Mutex::new(data.map(fnv1a)),
            report: Mutex::new(report),
        }))
    }

    /// What the cache has done so far.
    pub(crate) fn report(&self) -> PipelineCacheReport {
        self.report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Writes the cache's data to its file if it changed since the last write: to a
    /// temporary file beside it first, renamed over it, so a reader never sees half a file.
    /// A failure is kept in the report, not returned: a run does not need its cache.
    pub(crate) fn save(&self) {
        let Some(data) = self.cache.get_data() else {
            return;
        };
        let hash = fnv1a(&data);
        let mut saved = self.saved_hash.lock().unwrap_or_else(|p| p.into_inner());
        if *saved == Some(hash) {
            return;
        }
        let mut report = self.report.lock().unwrap_or_else(|p| p.into_inner());
        // Named by process and by save, so that devices of one process saving the same file
        // at once (alike GPUs share a cache file) never write into one temporary file.
        static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let save = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = report
            .file
            .with_extension(format!("{}.{save}.tmp", std::process::id()));
        let written = std::fs::write(&temporary, encode(&data))
            .and_then(|()| std::fs::rename(&temporary, &report.file));
        match written {
            Ok(()) => {
                *saved = Some(hash);
                report.saved_bytes = data.len() as u64;
                report.save_error = None;
            }
            Err(err) => {
                let _ = std::fs::remove_file(&temporary);
                report.save_error = Some(format!("writing {}: {err}", report.file.display()));
            }
        }
    }
}

/// The driver data of a cache file that is worth loading, or why it is not.
fn usable(file: &[u8]) -> Result<&[u8], String> {
    if file.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "it is larger than {} MiB, so the cache starts afresh",
            MAX_FILE_BYTES >> 20
        ));
    }
    decode(file).map_err(str::to_owned)
}

/// A cache file holding `data`.
fn encode(data: &[u8]) -> Vec<u8> {
    let mut file = Vec::with_capacity(HEADER_BYTES + data.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&(data.len() as u64).to_le_bytes());
    file.extend_from_slice(&fnv1a(data).to_le_bytes());
    file.extend_from_slice(data);
    file
}

/// The driver data a cache file holds, or why it holds none.
fn decode(file: &[u8]) -> Result<&[u8], &'static str> {
    if file.len() < HEADER_BYTES || &file[..8] != MAGIC {
        return Err("it is not a swarm pipeline cache file");
    }
    let word = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().expect("8 bytes"));
    let data = &file[HEADER_BYTES..];
    if word(8) != data.len() as u64 {
        return Err("it is truncated or extended");
    }
    if word(16) != fnv1a(data) {
        return Err("its contents do not match their checksum");
    }
    Ok(data)
}

/// The 64-bit FNV-1a hash.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_reads_back_its_data() {
        let data = b"driver bytes \x00\x01\xff".as_slice();
        assert_eq!(decode(&encode(data)), Ok(data));
        assert_eq!(decode(&encode(&[])), Ok([].as_slice()));
    }

    #[test]
    fn damaged_files_are_refused() {
        let file = encode(b"0123456789abcdef");
        let cases: [(&str, Vec<u8>); 5] = [
            ("empty", Vec::new()),
            ("short header", file[..HEADER_BYTES - 1].to_vec()),
            ("truncated", file[..file.len() - 1].to_vec()),
            ("extended", [file.as_slice(), b"x"].concat()),
            ("foreign", [b"SWARMPC1".as_slice(), &file[8..]].concat()),
        ];
        for (what, bytes) in cases {
            assert!(decode(&bytes).is_err(), "{what}");
        }
        let mut flipped = file.clone();
        *flipped.last_mut().expect("not empty") ^= 1;
        assert_eq!(
            decode(&flipped),
            Err("its contents do not match their checksum")
        );
    }

    #[test]
    fn a_file_past_the_limit_starts_a_fresh_cache() {
        let small = encode(b"pipelines");
        assert_eq!(usable(&small), Ok(b"pipelines".as_slice()));
        // The size is checked before anything is read.
        let large = vec![0; MAX_FILE_BYTES as usize + 1];
        let why = usable(&large).unwrap_err();
        assert!(why.contains("starts afresh"), "{why}");
    }

    #[test]
    fn fnv1a_matches_its_reference_values() {
        // The FNV reference vectors for the empty string and "a".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
