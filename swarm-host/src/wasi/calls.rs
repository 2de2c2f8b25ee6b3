//! The preview 1 functions, each answering a batch of agents' calls at once (memory is read
//! for the whole batch in one readback where a function reads it), as wasmtime-wasi answers
//! them: the same errno for each descriptor, and a trap where it traps (a pointer outside
//! memory or misaligned, an enum value preview 1 does not define). The functions on files and
//! directories are in `files.rs`.
//!
//! Where wasmtime-wasi's choice is one of several the interface allows, swarm's may differ:
//! - `fd_write` writes every buffer of its iovec array, not only the first that is not empty,
//!   which saves the guest a host call per buffer; so an iovec array is read, and its
//!   buffers checked, as a whole.
//! - A stream's budget ([`WasiConfig::output_bytes`](super::WasiConfig::output_bytes)) gives
//!   a short count, then `ENOSPC` (a full wasmtime-wasi pipe gives `EIO`).
//! - `fd_read` fills every buffer of its iovec array that stdin's bytes reach.
//! - A clock subscription of the deterministic clock fires without waiting.
//! - There is no per-call byte limit (wasmtime-wasi's `ENOMEM`): a batch reads only what its
//!   calls name, within each agent's memory and each stream's budget.

use super::abi::{Func, clock, errno};
use super::files::{self, PathChange, fdstat, file_fd};
use super::state::{AgentState, Desc, Stream};
use super::{Shared, WasiClock};
use crate::{HostCall, HostMemory, HostMemoryError, HostResult, HostStop, TrapCode, Value};

/// Why a call does not succeed: an errno it returns, or how it ends the agent's call.
pub(super) enum Fail {
    Errno(i32),
    Stop(HostStop),
}

impl From<HostStop> for Fail {
    fn from(stop: HostStop) -> Self {
        Self::Stop(stop)
    }
}

/// A call's answer before it becomes the result: `Ok` is `SUCCESS`.
pub(super) type Answer = Result<(), Fail>;

pub(super) fn errno_of(e: i32) -> Answer {
    Err(Fail::Errno(e))
}

/// A memory access that failed: a trap outside the memory (as wasmtime-wasi's guest-pointer
/// checks trap), `EIO` when the GPU could not be read.
pub(super) fn fault(error: &HostMemoryError) -> Fail {
    match error {
        HostMemoryError::Gpu(_) => Fail::Errno(errno::IO),
        _ => Fail::Stop(TrapCode::MemoryOutOfBounds.into()),
    }
}

/// A value preview 1 does not define for an argument: wasmtime-wasi traps.
pub(super) fn bad_argument() -> Fail {
    Fail::Stop(TrapCode::BadHostCall.into())
}

/// Checks that `address` is a multiple of `align`, as wasmtime-wasi's guest pointers must be
/// (it traps otherwise).
pub(super) fn aligned(address: u32, align: u32) -> Answer {
    if address.is_multiple_of(align) {
        Ok(())
    } else {
        Err(bad_argument())
    }
}

/// Answers one batch of calls to `func`. A call that writes to or changes descriptors 1 and 2
/// first takes the stdout and stderr writes the GPU gathered for the callers
/// (`Imports::stream_write_func`), then answers, then gives the GPU each caller's room for
/// more.
pub(super) fn answer(
    func: Func,
    shared: &Shared,
    calls: &[HostCall],
    memory: &mut HostMemory<'_>,
) -> Vec<HostResult> {
    // Only calls that write to or change descriptors 1 and 2 need what the GPU gathered, and
    // change the room it has: the GPU keeps the room it was given up to date itself.
    if !matches!(
        func,
        Func::FdWrite | Func::FdPwrite | Func::FdClose | Func::FdRenumber
    ) {
        return answer_calls(func, shared, calls, memory);
    }
    // What the GPU gathered of stdout and stderr comes before anything this call does.
    let agents: Vec<_> = calls.iter().map(|c| c.agent).collect();
    let gathered = memory.take_streams(&agents);
    // Records the GPU could not give back stay there, to be taken later.
    let mut untaken = std::collections::HashSet::new();
    {
        let mut states = shared.agents();
        for (agent, records) in agents.iter().zip(gathered) {
            match records {
                Ok(records) => shared.state(&mut states, *agent).append_records(&records),
                Err(_) => {
                    untaken.insert(*agent);
                }
            }
        }
    }
    let answers = answer_calls(func, shared, calls, memory);
    // The room the GPU has for each stream that is still the agent's stdout or stderr (none
    // while records the host has not counted are still there).
    let mut states = shared.agents();
    for agent in agents {
        let rooms = if untaken.contains(&agent) {
            [0; 2]
        } else {
            shared
                .state(&mut states, agent)
                .gpu_rooms(shared.config.output_bytes)
        };
        let _ = memory.set_stream_rooms(agent, rooms);
    }
    answers
}

/// Answers one batch of calls to `func`, the GPU's gathered writes taken.
fn answer_calls(
    func: Func,
    shared: &Shared,
    calls: &[HostCall],
    memory: &mut HostMemory<'_>,
) -> Vec<HostResult> {
    let mut batch = Batch {
        shared,
        calls,
        memory,
    };
    match func {
        Func::ArgsSizesGet | Func::EnvironSizesGet | Func::ArgsGet | Func::EnvironGet => batch
            .each(|b, call, state| {
                let config = &b.shared.config;
                let strings = match func {
                    Func::ArgsSizesGet | Func::ArgsGet => state.args(call.agent, config),
                    _ => state.env(call.agent, config),
                };
                if matches!(func, Func::ArgsGet | Func::EnvironGet) {
                    let strings = strings.to_vec();
                    return b.write_strings(call, &strings);
                }
                let bytes = strings.iter().map(|s| s.len() as u32).sum();
                let count = strings.len() as u32;
                b.write_u32(call, arg(call, 0), count)?;
                b.write_u32(call, arg(call, 1), bytes)
            }),
        Func::ClockResGet => batch.each(|b, call, _| {
            clock_id(call)?;
            let resolution = match b.shared.config.clock {
                WasiClock::Host => 1,
                WasiClock::Deterministic { step, .. } => (step.as_nanos() as u64).max(1),
            };
            b.write_u64(call, arg(call, 1), resolution)
        }),
        Func::ClockTimeGet => batch.each(|b, call, state| {
            let id = clock_id(call)?;
            let now = state.read_clock(id, &b.shared.config.clock, b.shared.epoch);
            b.write_u64(call, arg(call, 2), now)
        }),
        Func::RandomGet => batch.each(|b, call, state| {
            let (buf, len) = (arg(call, 0), arg(call, 1));
            if len > RANDOM_MAX_BYTES {
                return Err(bad_argument());
            }
            // The stream advances before the bounds check, as wasmtime-wasi's does; bytes are
            // made only for a buffer that lies in memory.
            let size = b.memory.size(call.agent).map_err(|e| fault(&e))?;
            if len > 0 && u64::from(buf) + u64::from(len) > size {
                state.skip_random(len);
                return Err(Fail::Stop(TrapCode::MemoryOutOfBounds.into()));
            }
            let bytes = state.random(call.agent, b.shared.config.random_seed, len as usize);
            b.write(call, buf, &bytes)
        }),
        Func::FdWrite => batch.fd_write(false),
        Func::FdPwrite => batch.fd_write(true),
        Func::FdRead => batch.fd_read(),
        Func::FdPread => batch.fd_pread(),
        Func::FdClose => batch.each(|_, call, state| {
            let fd = arg(call, 0);
            state.desc(fd).ok_or(Fail::Errno(errno::BADF))?;
            state.close(fd);
            Ok(())
        }),
        Func::FdFdstatGet => batch.each(|b, call, state| {
            let desc = state.desc(arg(call, 0)).ok_or(Fail::Errno(errno::BADF))?;
            b.write_record(call, arg(call, 1), &fdstat(desc))
        }),
        Func::FdFilestatGet => batch.each(|b, call, state| {
            // A stream's status is all zeros.
            let ino = state
                .desc(arg(call, 0))
                .ok_or(Fail::Errno(errno::BADF))?
                .ino();
            b.write_filestat(call, arg(call, 1), ino.map(|ino| (&state.fs, ino)))
        }),
        Func::FdSeek | Func::FdTell => batch.each(|b, call, state| {
            let whence = if func == Func::FdSeek {
                arg(call, 2)
            } else {
                1
            };
            if whence > 2 {
                return Err(bad_argument());
            }
            let offset = if func == Func::FdSeek {
                arg64(call, 1) as i64
            } else {
                0
            };
            let out = arg(call, if func == Func::FdSeek { 3 } else { 1 });
            let ino = match state.desc(arg(call, 0)) {
                Some(Desc::Stream(_)) => return errno_of(errno::SPIPE),
                Some(Desc::File(file)) => file.ino,
                _ => return errno_of(errno::BADF),
            };
            let size = state.fs.node(ino).bytes().len() as u64;
            let file = file_fd(state, arg(call, 0))?;
            let position = files::seek(file.position, size, offset, whence)?;
            aligned(out, 8)?;
            file.position = position;
            b.write_u64(call, out, position)
        }),
        Func::FdAdvise | Func::FdAllocate | Func::FdDatasync | Func::FdSync => {
            batch.each(|_, call, state| {
                if func == Func::FdAdvise && arg(call, 3) > 5 {
                    return Err(bad_argument());
                }
                file_fd(state, arg(call, 0))?;
                if func == Func::FdAllocate {
                    return errno_of(errno::NOTSUP);
                }
                // An offset or length past i64 is negative to the host.
                if func == Func::FdAdvise && (arg64(call, 1) | arg64(call, 2)) > i64::MAX as u64 {
                    return errno_of(errno::INVAL);
                }
                Ok(())
            })
        }
        Func::FdFdstatSetFlags => batch.each(|_, call, state| {
            if arg(call, 1) >= 1 << 5 {
                return Err(bad_argument());
            }
            files::set_flags(file_fd(state, arg(call, 0))?, arg(call, 1))
        }),
        Func::FdFdstatSetRights => batch.each(|_, call, state| {
            if (arg64(call, 1) | arg64(call, 2)) >> 30 != 0 {
                return Err(bad_argument());
            }
            match state.desc(arg(call, 0)) {
                Some(Desc::File(_) | Desc::Dir { .. }) => errno_of(errno::NOTSUP),
                _ => errno_of(errno::BADF),
            }
        }),
        Func::FdFilestatSetSize => batch.each(|b, call, state| {
            let file = file_fd(state, arg(call, 0))?;
            if !file.write {
                return errno_of(errno::INVAL);
            }
            let ino = file.ino;
            state
                .fs
                .set_size(ino, arg64(call, 1), b.shared.now())
                .map_err(Fail::Errno)
        }),
        Func::FdFilestatSetTimes => batch.each(|b, call, state| {
            let now = b.shared.now();
            let times = files::times(arg(call, 3), arg64(call, 1), arg64(call, 2), now)?;
            let ino = match state.desc(arg(call, 0)).and_then(Desc::ino) {
                Some(ino) => ino,
                None => return errno_of(errno::BADF),
            };
            files::set_times(&mut state.fs, ino, times, now)
        }),
        Func::FdPrestatGet => batch.each(|b, call, state| {
            let Some(Desc::Dir {
                preopen: Some(name),
                ..
            }) = state.desc(arg(call, 0))
            else {
                return errno_of(errno::BADF);
            };
            // Tag 0, a directory; bytes 1 to 3 are left as they were.
            let len = name.len() as u32;
            let out = arg(call, 1);
            aligned(out, 4)?;
            let Some(len_at) = out.checked_add(4) else {
                return Err(Fail::Stop(TrapCode::MemoryOutOfBounds.into()));
            };
            b.write(call, out, &[0])?;
            b.write_u32(call, len_at, len)
        }),
        Func::FdPrestatDirName => batch.each(|b, call, state| {
            let name = match state.desc(arg(call, 0)) {
                Some(Desc::Dir {
                    preopen: Some(name),
                    ..
                }) => name.clone(),
                Some(_) => return errno_of(errno::NOTDIR),
                None => return errno_of(errno::BADF),
            };
            if name.len() > arg(call, 2) as usize {
                return errno_of(errno::NAMETOOLONG);
            }
            b.write(call, arg(call, 1), name.as_bytes())
        }),
        Func::FdReaddir => batch.fd_readdir(),
        Func::FdRenumber => batch.each(|_, call, state| {
            let (from, to) = (arg(call, 0), arg(call, 1));
            if state.desc(from).is_none() || state.desc(to).is_none() {
                return errno_of(errno::BADF);
            }
            state.renumber(from, to);
            Ok(())
        }),
        Func::PathOpen => batch.path_open(),
        Func::PathFilestatGet => batch.path_filestat_get(),
        Func::PathFilestatSetTimes => batch.path_filestat_set_times(),
        Func::PathCreateDirectory => batch.path_change(PathChange::CreateDirectory),
        Func::PathRemoveDirectory => batch.path_change(PathChange::RemoveDirectory),
        Func::PathUnlinkFile => batch.path_change(PathChange::UnlinkFile),
        Func::PathRename => batch.path_rename(),
        Func::PathLink => batch.path_link(),
        Func::PathSymlink => batch.path_symlink(),
        Func::PathReadlink => batch.path_readlink(),
        Func::SockAccept | Func::SockRecv | Func::SockSend | Func::SockShutdown => {
            batch.each(|_, call, state| {
                let flags_ok = match func {
                    // fdflags, riflags, siflags (a u16 with no flags defined), sdflags.
                    Func::SockAccept => arg(call, 1) < 1 << 5,
                    Func::SockRecv => arg(call, 3) < 1 << 2,
                    Func::SockSend => arg(call, 3) <= 0xffff,
                    _ => arg(call, 1) < 1 << 2,
                };
                if !flags_ok {
                    return Err(bad_argument());
                }
                match state.desc(arg(call, 0)) {
                    Some(_) => errno_of(errno::NOTSOCK),
                    None => errno_of(errno::BADF),
                }
            })
        }
        Func::PollOneoff => batch.poll_oneoff(),
        Func::ProcExit => calls
            .iter()
            .map(|call| match arg(call, 0) {
                code @ 0..EXIT_STATUS_LIMIT => Err(HostStop::Exit(code as i32)),
                _ => Err(TrapCode::BadHostCall.into()),
            })
            .collect(),
        Func::ProcRaise => batch.each(|_, call, _| {
            if arg(call, 0) > 30 {
                return Err(bad_argument());
            }
            errno_of(errno::NOTSUP)
        }),
        Func::SchedYield => batch.each(|_, _, _| Ok(())),
    }
}

/// Exit statuses `proc_exit` accepts (wasmtime-wasi traps on the rest).
const EXIT_STATUS_LIMIT: u32 = 126;

/// The most bytes one `random_get` gives (wasmtime-wasi's default limit; more traps).
const RANDOM_MAX_BYTES: u32 = 64 << 20;

/// Checks `fstflags`: 4 bits, and not both "set" and "now" of one time.
pub(super) fn set_times_flags(flags: u32) -> Answer {
    if flags >= 1 << 4 {
        return Err(bad_argument());
    }
    if flags & 0b11 == 0b11 || flags & 0b1100 == 0b1100 {
        return errno_of(errno::INVAL);
    }
    Ok(())
}

/// Checks `lookupflags`: 1 bit.
pub(super) fn lookup_flags(flags: u32) -> Answer {
    if flags >= 1 << 1 {
        return Err(bad_argument());
    }
    Ok(())
}

/// One batch of calls, with the state it answers them from.
pub(super) struct Batch<'a, 'm> {
    pub(super) shared: &'a Shared,
    pub(super) calls: &'a [HostCall],
    pub(super) memory: &'a mut HostMemory<'m>,
}

impl Batch<'_, '_> {
    /// Answers each call with what `f` makes of it, in order.
    pub(super) fn each(
        &mut self,
        mut f: impl FnMut(&mut Self, &HostCall, &mut AgentState) -> Answer,
    ) -> Vec<HostResult> {
        let (shared, calls) = (self.shared, self.calls);
        let mut agents = shared.agents();
        calls
            .iter()
            .map(|call| {
                let state = shared.state(&mut agents, call.agent);
                match f(self, call, state) {
                    Ok(()) => Ok(vec![Value::I32(errno::SUCCESS)]),
                    Err(Fail::Errno(e)) => Ok(vec![Value::I32(e)]),
                    Err(Fail::Stop(stop)) => Err(stop),
                }
            })
            .collect()
    }

    /// Answers each call with what `f` makes of it and its item of `data`, in order.
    pub(super) fn each_with<T>(
        &mut self,
        data: Vec<T>,
        mut f: impl FnMut(&mut Self, &HostCall, &mut AgentState, T) -> Answer,
    ) -> Vec<HostResult> {
        let mut data = data.into_iter();
        self.each(|b, call, state| {
            let item = data.next().expect("one item per call");
            f(b, call, state, item)
        })
    }

    /// Writes `bytes` at `offset` of the caller's memory.
    pub(super) fn write(&mut self, call: &HostCall, offset: u32, bytes: &[u8]) -> Answer {
        if bytes.is_empty() {
            // Nothing to write: no bounds to check (as in wasmtime-wasi).
            return Ok(());
        }
        self.memory
            .write(call.agent, u64::from(offset), bytes)
            .map_err(|e| fault(&e))
    }

    pub(super) fn write_u32(&mut self, call: &HostCall, offset: u32, value: u32) -> Answer {
        aligned(offset, 4)?;
        self.write(call, offset, &value.to_le_bytes())
    }

    pub(super) fn write_u64(&mut self, call: &HostCall, offset: u32, value: u64) -> Answer {
        aligned(offset, 8)?;
        self.write(call, offset, &value.to_le_bytes())
    }

    /// Writes a record with 64-bit fields (8-byte aligned).
    fn write_record(&mut self, call: &HostCall, offset: u32, record: &[u8]) -> Answer {
        aligned(offset, 8)?;
        self.write(call, offset, record)
    }

    /// `args_get` and `environ_get`: the strings one after another from the address in
    /// argument 1, and a pointer to each in the array at argument 0.
    fn write_strings(&mut self, call: &HostCall, strings: &[Vec<u8>]) -> Answer {
        let (array, buffer) = (arg(call, 0), arg(call, 1));
        if strings.is_empty() {
            // Nothing is written, so nothing is checked.
            return Ok(());
        }
        aligned(array, 4)?;
        let mut pointers = Vec::with_capacity(strings.len() * 4);
        let mut at = buffer;
        for string in strings {
            pointers.extend_from_slice(&at.to_le_bytes());
            at = at.wrapping_add(string.len() as u32);
        }
        self.write(call, buffer, &strings.concat())?;
        self.write(call, array, &pointers)
    }

    /// Reads each call's iovec array (arguments 1 and 2), in one readback: its
    /// `(address, length)` pairs, or why it could not be read. An empty array is not read.
    pub(super) fn iovecs(&self) -> Vec<Result<Vec<(u32, u32)>, Fail>> {
        let reads: Vec<_> = self
            .calls
            .iter()
            .map(|call| match u64::from(arg(call, 2)) * 8 {
                0 => (call.agent, 0, 0),
                len => (call.agent, u64::from(arg(call, 1)), len),
            })
            .collect();
        self.memory
            .read_many(&reads)
            .into_iter()
            .zip(self.calls)
            .map(|(read, call)| {
                if arg(call, 2) == 0 {
                    return Ok(Vec::new());
                }
                aligned(arg(call, 1), 4)?;
                match read {
                    Ok(bytes) => Ok(bytes
                        .chunks_exact(8)
                        .map(|e| (le32(&e[..4]), le32(&e[4..])))
                        .collect()),
                    Err(error) => Err(fault(&error)),
                }
            })
            .collect()
    }

    /// `fd_write` and (`positioned`) `fd_pwrite`: every buffer of the iovec array goes to the
    /// descriptor in one write, kept within the stream's or the files' budget. Only what fits
    /// the budget is read back.
    fn fd_write(&mut self, positioned: bool) -> Vec<HostResult> {
        // The iovec arrays are read before the descriptor is looked at.
        let mut iovecs = self.iovecs();
        // Per call: where it writes and the bytes its buffers hold, or why it fails; and
        // every piece to read, in one readback.
        let mut plans: Vec<Result<(Target, u64), Fail>> = Vec::with_capacity(self.calls.len());
        let mut reads = Vec::new();
        let mut pieces = Vec::with_capacity(self.calls.len());
        {
            let mut agents = self.shared.agents();
            for (call, iovecs) in self.calls.iter().zip(&mut iovecs) {
                let before = reads.len();
                let plan = (|| {
                    let iovecs = std::mem::replace(iovecs, Ok(Vec::new()))?;
                    // Every buffer is checked before the descriptor.
                    self.check_buffers(call, &iovecs)?;
                    let state = self.shared.state(&mut agents, call.agent);
                    let target = match state.desc(arg(call, 0)) {
                        Some(Desc::Stream(stream @ (Stream::Stdout | Stream::Stderr))) => {
                            if positioned {
                                return Err(Fail::Errno(errno::SPIPE));
                            }
                            Target::Stream(*stream)
                        }
                        Some(Desc::File(file)) if file.write => {
                            let size = state.fs.node(file.ino).bytes().len() as u64;
                            let offset = match (file.append, positioned) {
                                (true, _) => size,
                                (false, true) => arg64(call, 3),
                                (false, false) => file.position,
                            };
                            Target::File {
                                ino: file.ino,
                                offset,
                            }
                        }
                        _ => return Err(Fail::Errno(errno::BADF)),
                    };
                    let mut room = match target {
                        Target::Stream(stream) => {
                            state.room(stream, self.shared.config.output_bytes)
                        }
                        Target::File { ino, offset } => state.fs.writable(ino, offset),
                    };
                    let mut total = 0;
                    for (address, len) in iovecs {
                        let (address, len) = (u64::from(address), u64::from(len));
                        total += len;
                        let take = len.min(room);
                        if take > 0 {
                            reads.push((call.agent, address, take));
                            room -= take;
                        }
                    }
                    Ok((target, total))
                })();
                if plan.is_err() {
                    reads.truncate(before);
                }
                pieces.push(reads.len() - before);
                plans.push(plan);
            }
        }
        let mut data = self.memory.read_many(&reads).into_iter();
        let now = self.shared.now();
        let pieces = pieces
            .into_iter()
            .map(|n| data.by_ref().take(n).collect::<Vec<_>>());
        let work: Vec<_> = plans.into_iter().zip(pieces.collect::<Vec<_>>()).collect();
        self.each_with(work, |b, call, state, (plan, pieces)| {
            let (target, total) = plan?;
            let mut bytes = Vec::new();
            for piece in pieces {
                bytes.extend_from_slice(&piece.map_err(|e| fault(&e))?);
            }
            let written = match target {
                Target::Stream(stream) => {
                    state.write(stream, &bytes, total);
                    if bytes.is_empty() && total > 0 {
                        return errno_of(errno::NOSPC);
                    }
                    bytes.len()
                }
                Target::File { ino, offset } => {
                    if bytes.is_empty() && total > 0 {
                        state.fs.full = true;
                        return errno_of(errno::NOSPC);
                    }
                    let written = state
                        .fs
                        .write(ino, offset, &bytes, now)
                        .map_err(Fail::Errno)?;
                    if !positioned {
                        let size = state.fs.node(ino).bytes().len() as u64;
                        let file = file_fd(state, arg(call, 0))?;
                        file.position = if file.append {
                            size
                        } else {
                            offset + written as u64
                        };
                    }
                    written
                }
            };
            b.write_u32(
                call,
                arg(call, if positioned { 4 } else { 3 }),
                written as u32,
            )
        })
    }

    /// `fd_read`: stdin's next bytes, or an open file's from its position, fill the iovecs'
    /// buffers in order; at the end a read reads nothing.
    fn fd_read(&mut self) -> Vec<HostResult> {
        let iovecs = self.iovecs();
        let shared = std::sync::Arc::clone(&self.shared.config.stdin);
        self.each_with(iovecs, |b, call, state, iovecs| {
            let iovecs = iovecs?;
            b.check_buffers(call, &iovecs)?;
            let read = match state.desc(arg(call, 0)) {
                Some(Desc::Stream(Stream::Stdin)) => {
                    let input = state.stdin().unwrap_or(&shared).clone();
                    let read = b.read_into(call, &iovecs, state.unread(&input), 0)?;
                    state.consume_stdin(read);
                    read
                }
                Some(Desc::File(file)) if file.read => {
                    let (ino, position) = (file.ino, file.position);
                    let read = b.read_into(call, &iovecs, state.fs.node(ino).bytes(), position)?;
                    file_fd(state, arg(call, 0))?.position = position + read as u64;
                    read
                }
                _ => return errno_of(errno::BADF),
            };
            b.write_u32(call, arg(call, 3), read as u32)
        })
    }
}

/// Where `fd_write` writes.
#[derive(Clone, Copy)]
enum Target {
    Stream(Stream),
    File { ino: super::fs::Ino, offset: u64 },
}

/// The clock id of argument 0: `EBADF` for the CPU-time clocks, which are not offered; a
/// trap for an id preview 1 does not define.
fn clock_id(call: &HostCall) -> Result<u32, Fail> {
    match arg(call, 0) {
        id @ (clock::REALTIME | clock::MONOTONIC) => Ok(id),
        clock::PROCESS_CPUTIME | clock::THREAD_CPUTIME => Err(Fail::Errno(errno::BADF)),
        _ => Err(bad_argument()),
    }
}

/// Argument `index`, an `i32`, as the `u32` preview 1 means.
pub(super) fn arg(call: &HostCall, index: usize) -> u32 {
    call.args[index].to_bits() as u32
}

/// Argument `index`, an `i64`.
pub(super) fn arg64(call: &HostCall, index: usize) -> u64 {
    call.args[index].to_bits()
}

pub(super) fn le32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes.try_into().expect("4 bytes"))
}

pub(super) fn le64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
}
