//! The preview 1 functions on files and directories, answered from each agent's view of the
//! preopened directories (`fs.rs`) as wasmtime-wasi answers them on a host directory: the
//! same checks in the same order, the same errno, the same traps.
//!
//! Where the host's file system decides, swarm's answers are those of a Linux file system,
//! with these differences, each an answer the interface allows:
//! - `fd_read`, `fd_pread`, `fd_write` and `fd_pwrite` use every buffer of their iovec array,
//!   not only the first that is not empty, and `fd_pread` has no 64 KiB limit.
//! - `fd_readdir` lists a directory's entries by name (after `.` and `..`), not in the host's
//!   order.
//! - `filestat`: `ino` numbers the agent's files from 1; a directory's size is its entries'
//!   names (16 bytes more each), not the host's block; `ctim` is the last status change, not
//!   the file's creation. Times an agent sets or changes come from the host clock, or under
//!   the deterministic clock are its first realtime reading.
//! - Symbolic links are followed when a directory is loaded, and `path_symlink` answers
//!   `ENOTSUP`: an agent's files have none.
//! - A file's budget ([`WasiConfig::file_bytes`](super::WasiConfig::file_bytes)) gives a short
//!   count, then `ENOSPC`.
//! - `poll_oneoff` finds a file readable at once (`nbytes` 1, `HANGUP` at its end).
//! - A directory's `nlink` is 2 whatever it holds; a host file's hard links load as separate
//!   files; reading a file does not change its `atim`.
//! - An agent holds at most 4,096 descriptors (`EMFILE` beyond).
//! - A removal or rename never fails for want of room, so the directories it copies into
//!   the agent's view may take it past its budget.

use super::abi::{errno, filetype, lookup, oflags, rights};
use super::calls::{Answer, Batch, Fail, aligned, arg, arg64, bad_argument, errno_of, fault};
use super::fs::{Fs, Ino, Kind};
use super::state::{AgentState, Desc, OpenFile, Stream};
use crate::{HostCall, HostMemoryError, HostResult, TrapCode};

/// The directory descriptor `fd` is: `EBADF` unless it is an open directory.
pub(super) fn dir_fd(state: &AgentState, fd: u32) -> Result<Ino, Fail> {
    match state.desc(fd) {
        Some(Desc::Dir { ino, .. }) => Ok(*ino),
        _ => Err(Fail::Errno(errno::BADF)),
    }
}

/// The open file `fd` is: `EBADF` unless it is an open file.
pub(super) fn file_fd(state: &mut AgentState, fd: u32) -> Result<&mut OpenFile, Fail> {
    match state.desc_mut(fd) {
        Some(Desc::File(file)) => Ok(file),
        _ => Err(Fail::Errno(errno::BADF)),
    }
}

/// The `fdstat` record of `desc`: filetype, flags and rights as wasmtime-wasi reports them.
pub(super) fn fdstat(desc: &Desc) -> [u8; 24] {
    let (kind, flags, base, inheriting) = match desc {
        Desc::Stream(Stream::Stdin) => (filetype::UNKNOWN, 0, rights::FD_READ, rights::FD_READ),
        Desc::Stream(_) => (filetype::UNKNOWN, 0, rights::FD_WRITE, rights::FD_WRITE),
        Desc::Dir {
            preopen: Some(_), ..
        } => (
            filetype::DIRECTORY,
            0,
            rights::PREOPEN_BASE,
            rights::PREOPEN_INHERITING,
        ),
        Desc::Dir { .. } => {
            let r = rights::ALL & !rights::DIR_EXCLUDED & !rights::FD_WRITE;
            (filetype::DIRECTORY, 0, r, r)
        }
        Desc::File(file) => {
            let mut r = rights::ALL;
            if !file.read {
                r &= !(rights::FD_READ | rights::FD_READDIR);
            }
            if !file.write {
                r &= !rights::FD_WRITE;
            }
            let flags = u16::from(file.append) | (u16::from(file.nonblock) << 2);
            (filetype::REGULAR_FILE, flags, r, r)
        }
    };
    let mut record = [0u8; 24];
    record[0] = kind;
    record[2..4].copy_from_slice(&flags.to_le_bytes());
    record[8..16].copy_from_slice(&base.to_le_bytes());
    record[16..24].copy_from_slice(&inheriting.to_le_bytes());
    record
}

/// The times `fstflags` (argument `flags`) sets, from `atim` and `mtim`: `Ok(None)` for
/// neither. Checked before the descriptor, as wasmtime-wasi does.
pub(super) fn times(
    flags: u32,
    atim: u64,
    mtim: u64,
    now: u64,
) -> Result<(Option<u64>, Option<u64>), Fail> {
    super::calls::set_times_flags(flags)?;
    let pick = |set, set_now, value| {
        if flags & set != 0 {
            Some(value)
        } else if flags & set_now != 0 {
            Some(now)
        } else {
            None
        }
    };
    Ok((pick(1, 2, atim), pick(4, 8, mtim)))
}

/// Sets the times of `ino` (no change for neither).
pub(super) fn set_times(
    fs: &mut Fs,
    ino: Ino,
    times: (Option<u64>, Option<u64>),
    now: u64,
) -> Answer {
    if times == (None, None) {
        return Ok(());
    }
    fs.set_times(ino, times.0, times.1, now)
        .map_err(Fail::Errno)
}

/// A path read from guest memory: a trap outside memory, `EILSEQ` unless UTF-8 (a NUL in it
/// is `EINVAL` where [`Fs::walk`] reaches it).
fn path(read: Result<Vec<u8>, HostMemoryError>) -> Result<String, Fail> {
    let bytes = read.map_err(|e| fault(&e))?;
    String::from_utf8(bytes).map_err(|_| Fail::Errno(errno::ILSEQ))
}

/// The inode `path` names from directory `dir`: `ENOENT` if nothing.
fn existing(fs: &Fs, dir: Ino, path: &str) -> Result<Ino, Fail> {
    let walk = fs.walk(dir, path).map_err(Fail::Errno)?;
    fs.lookup(&walk)
        .map_err(Fail::Errno)?
        .ok_or(Fail::Errno(errno::NOENT))
}

/// A path with its trailing slashes taken off (keeping a lone `/`).
fn strip_slashes(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" if !path.is_empty() => "/",
        stripped => stripped,
    }
}

impl Batch<'_, '_> {
    /// Reads, for each call, the strings at (pointer, length) argument pairs `pairs`, in one
    /// readback.
    fn paths(&self, pairs: &[(usize, usize)]) -> Vec<Vec<Result<String, Fail>>> {
        let reads: Vec<_> = self
            .calls
            .iter()
            .flat_map(|call| {
                pairs.iter().map(|&(at, len)| {
                    (
                        call.agent,
                        u64::from(arg(call, at)),
                        u64::from(arg(call, len)),
                    )
                })
            })
            .collect();
        let mut read = self.memory.read_many(&reads).into_iter().map(path);
        self.calls
            .iter()
            .map(|_| read.by_ref().take(pairs.len()).collect())
            .collect()
    }

    /// Writes a `filestat` record at `offset`: `ino`'s of `fs`, or all zeros (a stream's).
    /// Bytes 17 to 23, padding, are left as they were, as wasmtime-wasi leaves them.
    pub(super) fn write_filestat(
        &mut self,
        call: &HostCall,
        offset: u32,
        stat: Option<(&Fs, Ino)>,
    ) -> Answer {
        aligned(offset, 8)?;
        let mut head = [0u8; 17];
        let mut tail = [0u8; 40];
        if let Some((fs, ino)) = stat {
            let inode = fs.node(ino);
            head[..8].copy_from_slice(&1u64.to_le_bytes());
            head[8..16].copy_from_slice(&(u64::from(ino) + 1).to_le_bytes());
            head[16] = if inode.is_dir() {
                filetype::DIRECTORY
            } else {
                filetype::REGULAR_FILE
            };
            for (i, value) in [
                inode.nlink,
                inode.size(),
                inode.atim,
                inode.mtim,
                inode.ctim,
            ]
            .into_iter()
            .enumerate()
            {
                tail[i * 8..i * 8 + 8].copy_from_slice(&value.to_le_bytes());
            }
        }
        // The bounds of the whole record are checked first.
        let size = self.memory.size(call.agent).map_err(|e| fault(&e))?;
        if u64::from(offset) + 64 > size {
            return Err(Fail::Stop(TrapCode::MemoryOutOfBounds.into()));
        }
        self.write(call, offset, &head)?;
        self.write(call, offset + 24, &tail)
    }

    /// `path_open(dirfd, lookupflags, path, path_len, oflags, rights_base, rights_inheriting,
    /// fdflags, fd_out)`.
    pub(super) fn path_open(&mut self) -> Vec<HostResult> {
        let paths = self.paths(&[(2, 3)]);
        let now = self.shared.now();
        self.each_with(paths, |b, call, state, mut paths| {
            super::calls::lookup_flags(arg(call, 1))?;
            let (oflags, fdflags) = (arg(call, 4), arg(call, 7));
            if oflags >= 1 << 4 || (arg64(call, 5) | arg64(call, 6)) >> 30 != 0 || fdflags >= 1 << 5
            {
                return Err(bad_argument());
            }
            let path = paths.remove(0)?;
            let dir = match state.desc(arg(call, 0)) {
                Some(Desc::Dir { ino, .. }) => *ino,
                Some(Desc::File(_)) => return errno_of(errno::NOTDIR),
                _ => return errno_of(errno::BADF),
            };
            if fdflags & (FDFLAG_DSYNC | FDFLAG_RSYNC | FDFLAG_SYNC) != 0 {
                return errno_of(errno::NOTSUP);
            }
            let (creat, directory, excl, trunc) = (
                oflags & oflags::CREAT != 0,
                oflags & oflags::DIRECTORY != 0,
                oflags & oflags::EXCL != 0,
                oflags & oflags::TRUNC != 0,
            );
            if directory && (creat || excl || trunc) {
                return errno_of(errno::INVAL);
            }
            if !state.can_open() {
                return errno_of(errno::MFILE);
            }
            let base = arg64(call, 5);
            let write = base & rights::FD_WRITE != 0 || creat || trunc;
            let read = base & rights::FD_READ != 0 || !write;
            let fs = &mut state.fs;
            let walk = fs.walk(dir, &path).map_err(Fail::Errno)?;
            // As open(2): a creation whose path ends in a slash is refused at once.
            if creat && walk.trailing_slash && walk.name.is_some() {
                return errno_of(errno::ISDIR);
            }
            let ino = match (fs.lookup(&walk).map_err(Fail::Errno)?, &walk.name) {
                (Some(_), _) if creat && excl => return errno_of(errno::EXIST),
                (Some(ino), _) => ino,
                (None, Some(name)) if creat => {
                    fs.create(walk.dir, name, false, now).map_err(Fail::Errno)?
                }
                (None, _) => return errno_of(errno::NOENT),
            };
            let desc = if fs.node(ino).is_dir() {
                if write {
                    return errno_of(errno::ISDIR);
                }
                Desc::Dir { ino, preopen: None }
            } else {
                if directory {
                    return errno_of(errno::NOTDIR);
                }
                if trunc {
                    fs.set_size(ino, 0, now).map_err(Fail::Errno)?;
                }
                Desc::File(OpenFile {
                    ino,
                    read,
                    write,
                    append: fdflags & FDFLAG_APPEND != 0,
                    nonblock: fdflags & FDFLAG_NONBLOCK != 0,
                    position: 0,
                })
            };
            let out = arg(call, 8);
            aligned(out, 4)?;
            let fd = state.open(desc);
            b.write_u32(call, out, fd)
        })
    }

    /// `path_filestat_get(dirfd, lookupflags, path, path_len, filestat_out)`.
    pub(super) fn path_filestat_get(&mut self) -> Vec<HostResult> {
        let paths = self.paths(&[(2, 3)]);
        self.each_with(paths, |b, call, state, mut paths| {
            super::calls::lookup_flags(arg(call, 1))?;
            let dir = dir_fd(state, arg(call, 0))?;
            let path = paths.remove(0)?;
            let ino = existing(&state.fs, dir, &path)?;
            b.write_filestat(call, arg(call, 4), Some((&state.fs, ino)))
        })
    }

    /// `path_filestat_set_times(dirfd, lookupflags, path, path_len, atim, mtim, fstflags)`.
    pub(super) fn path_filestat_set_times(&mut self) -> Vec<HostResult> {
        let paths = self.paths(&[(2, 3)]);
        let now = self.shared.now();
        self.each_with(paths, |_, call, state, mut paths| {
            super::calls::lookup_flags(arg(call, 1))?;
            let times = times(arg(call, 6), arg64(call, 4), arg64(call, 5), now)?;
            let dir = dir_fd(state, arg(call, 0))?;
            let path = paths.remove(0)?;
            let ino = existing(&state.fs, dir, &path)?;
            set_times(&mut state.fs, ino, times, now)
        })
    }

    /// `path_create_directory`, `path_remove_directory` and `path_unlink_file`: `(dirfd,
    /// path, path_len)`.
    pub(super) fn path_change(&mut self, change: PathChange) -> Vec<HostResult> {
        let paths = self.paths(&[(1, 2)]);
        let now = self.shared.now();
        self.each_with(paths, |_, call, state, mut paths| {
            let dir = dir_fd(state, arg(call, 0))?;
            let path = paths.remove(0)?;
            let (fs, open) = state.fs_and_open();
            let path = match change {
                PathChange::CreateDirectory => strip_slashes(&path),
                _ => &path,
            };
            let walk = fs.walk(dir, path).map_err(Fail::Errno)?;
            let Some(name) = &walk.name else {
                return errno_of(match change {
                    PathChange::CreateDirectory => errno::EXIST,
                    PathChange::RemoveDirectory => errno::INVAL,
                    PathChange::UnlinkFile => errno::ISDIR,
                });
            };
            let found = fs.entry(walk.dir, name);
            let is_dir = found.map(|ino| fs.node(ino).is_dir());
            match (change, found, is_dir) {
                (PathChange::CreateDirectory, Some(_), _) => errno_of(errno::EXIST),
                (PathChange::CreateDirectory, None, _) => fs
                    .create(walk.dir, name, true, now)
                    .map(drop)
                    .map_err(Fail::Errno),
                (_, None, _) => errno_of(errno::NOENT),
                (PathChange::RemoveDirectory, _, Some(false)) => errno_of(errno::NOTDIR),
                (PathChange::RemoveDirectory, _, _) if walk.trailing_slash => {
                    errno_of(errno::INVAL)
                }
                (PathChange::RemoveDirectory, Some(ino), _) => {
                    if fs.node(ino).dir().is_some_and(|d| !d.entries().is_empty()) {
                        return errno_of(errno::NOTEMPTY);
                    }
                    fs.unlink(walk.dir, name, now, open).map_err(Fail::Errno)
                }
                (PathChange::UnlinkFile, _, Some(true)) => errno_of(errno::ISDIR),
                (PathChange::UnlinkFile, _, _) if walk.trailing_slash => errno_of(errno::NOTDIR),
                (PathChange::UnlinkFile, _, _) => {
                    fs.unlink(walk.dir, name, now, open).map_err(Fail::Errno)
                }
            }
        })
    }

    /// `path_rename(old_dirfd, old_path, old_len, new_dirfd, new_path, new_len)`.
    pub(super) fn path_rename(&mut self) -> Vec<HostResult> {
        let paths = self.paths(&[(1, 2), (4, 5)]);
        let now = self.shared.now();
        self.each_with(paths, |_, call, state, mut paths| {
            let from_dir = dir_fd(state, arg(call, 0))?;
            let to_dir = dir_fd(state, arg(call, 3))?;
            let from = paths.remove(0)?;
            let to = paths.remove(0)?;
            let (fs, open) = state.fs_and_open();
            let slash = from.ends_with('/') || to.ends_with('/');
            let source = fs
                .walk(from_dir, strip_slashes(&from))
                .map_err(Fail::Errno)?;
            let target = fs.walk(to_dir, strip_slashes(&to)).map_err(Fail::Errno)?;
            let (Some(from_name), Some(to_name)) = (&source.name, &target.name) else {
                return errno_of(errno::BUSY);
            };
            let ino = fs
                .entry(source.dir, from_name)
                .ok_or(Fail::Errno(errno::NOENT))?;
            if slash && !fs.node(ino).is_dir() {
                return errno_of(errno::NOTDIR);
            }
            fs.rename(source.dir, from_name, target.dir, to_name, now, open)
                .map_err(Fail::Errno)
        })
    }

    /// `path_link(old_dirfd, old_flags, old_path, old_len, new_dirfd, new_path, new_len)`.
    pub(super) fn path_link(&mut self) -> Vec<HostResult> {
        let paths = self.paths(&[(2, 3), (5, 6)]);
        let now = self.shared.now();
        self.each_with(paths, |_, call, state, mut paths| {
            super::calls::lookup_flags(arg(call, 1))?;
            let from_dir = dir_fd(state, arg(call, 0))?;
            let to_dir = dir_fd(state, arg(call, 4))?;
            let from = paths.remove(0)?;
            let to = paths.remove(0)?;
            if arg(call, 1) & lookup::SYMLINK_FOLLOW != 0 {
                return errno_of(errno::INVAL);
            }
            let fs = &mut state.fs;
            // As link(2): the new name's directory first, then the old name, then the new.
            let target = fs.walk(to_dir, &to).map_err(Fail::Errno)?;
            let ino = existing(fs, from_dir, &from)?;
            let Some(name) = &target.name else {
                return errno_of(errno::EXIST);
            };
            if fs.entry(target.dir, name).is_some() {
                return errno_of(errno::EXIST);
            }
            if target.trailing_slash {
                return errno_of(errno::NOENT);
            }
            if fs.node(ino).is_dir() {
                return errno_of(errno::PERM);
            }
            fs.link(target.dir, name, ino, now).map_err(Fail::Errno)
        })
    }

    /// `path_symlink(old_path, old_len, dirfd, new_path, new_len)`: an agent's files hold no
    /// symbolic links, so after wasmtime-wasi's checks, `ENOTSUP`.
    pub(super) fn path_symlink(&mut self) -> Vec<HostResult> {
        let paths = self.paths(&[(0, 1), (3, 4)]);
        self.each_with(paths, |_, call, state, mut paths| {
            let dir = dir_fd(state, arg(call, 2))?;
            let target = paths.remove(0)?;
            let link = paths.remove(0)?;
            let walk = state.fs.walk(dir, &link).map_err(Fail::Errno)?;
            let exists = state.fs.lookup(&walk).map_err(Fail::Errno)?.is_some();
            if target.starts_with('/') {
                return errno_of(errno::PERM);
            }
            if target.is_empty() {
                return errno_of(errno::NOENT);
            }
            if exists {
                return errno_of(errno::EXIST);
            }
            errno_of(errno::NOTSUP)
        })
    }

    /// `path_readlink(dirfd, path, path_len, buf, buf_len, bufused)`: nothing is a symbolic
    /// link, so `EINVAL` for what exists.
    pub(super) fn path_readlink(&mut self) -> Vec<HostResult> {
        let paths = self.paths(&[(1, 2)]);
        self.each_with(paths, |_, call, state, mut paths| {
            let dir = dir_fd(state, arg(call, 0))?;
            let path = paths.remove(0)?;
            existing(&state.fs, dir, &path)?;
            errno_of(errno::INVAL)
        })
    }

    /// `fd_readdir(fd, buf, buf_len, cookie, bufused)`: `.`, `..`, then the entries by name;
    /// the cookie counts the entries to pass over, and the last entry that does not fit is
    /// cut to fill the buffer.
    pub(super) fn fd_readdir(&mut self) -> Vec<HostResult> {
        self.each(|b, call, state| {
            let ino = dir_fd(state, arg(call, 0))?;
            state.fs.alive(ino).map_err(Fail::Errno)?;
            let (buf, len, cookie) = (arg(call, 1), arg(call, 2) as usize, arg64(call, 3));
            let fs = &state.fs;
            let dir = fs.node(ino).dir().expect("a directory descriptor");
            let dots = [(".", ino), ("..", ino)];
            let entries = dots
                .into_iter()
                .chain(dir.entries().iter().map(|(n, i)| (n.as_str(), *i)));
            let mut bytes = Vec::new();
            for (index, (name, entry)) in entries
                .enumerate()
                .skip(usize::try_from(cookie).unwrap_or(usize::MAX))
            {
                if bytes.len() >= len {
                    break;
                }
                let kind = match fs.node(entry).kind {
                    Kind::Dir(_) => filetype::DIRECTORY,
                    Kind::File(_) => filetype::REGULAR_FILE,
                };
                bytes.extend_from_slice(&(index as u64 + 1).to_le_bytes());
                bytes.extend_from_slice(&(u64::from(entry) + 1).to_le_bytes());
                bytes.extend_from_slice(&(name.len() as u32).to_le_bytes());
                bytes.extend_from_slice(&[kind, 0, 0, 0]);
                bytes.extend_from_slice(name.as_bytes());
            }
            bytes.truncate(len);
            b.write(call, buf, &bytes)?;
            b.write_u32(call, arg(call, 4), bytes.len() as u32)
        })
    }

    /// `fd_pread(fd, iovs, iovs_len, offset, nread)`: a file's bytes from `offset` fill the
    /// buffers in order; its position stays.
    pub(super) fn fd_pread(&mut self) -> Vec<HostResult> {
        let iovecs = self.iovecs();
        self.each_with(iovecs, |b, call, state, iovecs| {
            let iovecs = iovecs?;
            b.check_buffers(call, &iovecs)?;
            let file = match state.desc(arg(call, 0)) {
                Some(Desc::Stream(Stream::Stdin)) => return errno_of(errno::SPIPE),
                Some(Desc::File(file)) if file.read => file.ino,
                _ => return errno_of(errno::BADF),
            };
            if arg64(call, 3) > i64::MAX as u64 {
                return errno_of(errno::INVAL);
            }
            let read = b.read_into(call, &iovecs, state.fs.node(file).bytes(), arg64(call, 3))?;
            b.write_u32(call, arg(call, 4), read as u32)
        })
    }

    /// Traps unless every buffer of `iovecs` that is not empty lies in the caller's memory.
    pub(super) fn check_buffers(&self, call: &HostCall, iovecs: &[(u32, u32)]) -> Answer {
        let size = self.memory.size(call.agent).map_err(|e| fault(&e))?;
        if iovecs
            .iter()
            .any(|&(address, len)| len > 0 && u64::from(address) + u64::from(len) > size)
        {
            return Err(Fail::Stop(TrapCode::MemoryOutOfBounds.into()));
        }
        Ok(())
    }

    /// Copies `bytes[from..]` into the buffers of `iovecs` in order, answering how many it
    /// copied; the caller has checked the buffers ([`check_buffers`](Self::check_buffers)).
    pub(super) fn read_into(
        &mut self,
        call: &HostCall,
        iovecs: &[(u32, u32)],
        bytes: &[u8],
        from: u64,
    ) -> Result<usize, Fail> {
        let mut unread = bytes
            .get(from.min(usize::MAX as u64) as usize..)
            .unwrap_or(&[]);
        let mut read = 0;
        for &(address, len) in iovecs {
            if unread.is_empty() {
                break;
            }
            let take = (len as usize).min(unread.len());
            self.write(call, address, &unread[..take])?;
            unread = &unread[take..];
            read += take;
        }
        Ok(read)
    }
}

/// The path functions that make or take one name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PathChange {
    CreateDirectory,
    RemoveDirectory,
    UnlinkFile,
}

/// `fdflags` bits.
const FDFLAG_APPEND: u32 = 1;
const FDFLAG_DSYNC: u32 = 2;
const FDFLAG_NONBLOCK: u32 = 4;
const FDFLAG_RSYNC: u32 = 8;
const FDFLAG_SYNC: u32 = 16;

/// Sets `fd_fdstat_set_flags`' flags on an open file: `EINVAL` for the synchronous ones.
pub(super) fn set_flags(file: &mut OpenFile, flags: u32) -> Answer {
    if flags & (FDFLAG_DSYNC | FDFLAG_RSYNC | FDFLAG_SYNC) != 0 {
        return errno_of(errno::INVAL);
    }
    file.append = flags & FDFLAG_APPEND != 0;
    file.nonblock = flags & FDFLAG_NONBLOCK != 0;
    Ok(())
}

/// `fd_seek`'s new position from `whence` (0 the start, 1 `position`, 2 the end, `size`):
/// `EINVAL` for a negative offset from the start, or a position below 0 or past `u64`.
pub(super) fn seek(position: u64, size: u64, offset: i64, whence: u32) -> Result<u64, Fail> {
    let base = match whence {
        0 if offset < 0 => return Err(Fail::Errno(errno::INVAL)),
        0 => 0,
        1 => position,
        _ => size,
    };
    base.checked_add_signed(offset)
        .ok_or(Fail::Errno(errno::INVAL))
}
