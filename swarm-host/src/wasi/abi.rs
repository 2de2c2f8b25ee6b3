//! The `wasi_snapshot_preview1` interface as the guest sees it: every function's signature,
//! the errno codes, and the layouts of the records the host writes into guest memory.

use swarm_shader::program::ValType;

/// The import module every preview 1 function comes from.
pub const MODULE: &str = "wasi_snapshot_preview1";

const I: ValType = ValType::I32;
const L: ValType = ValType::I64;

/// One preview 1 function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Func {
    ArgsGet,
    ArgsSizesGet,
    EnvironGet,
    EnvironSizesGet,
    ClockResGet,
    ClockTimeGet,
    FdAdvise,
    FdAllocate,
    FdClose,
    FdDatasync,
    FdFdstatGet,
    FdFdstatSetFlags,
    FdFdstatSetRights,
    FdFilestatGet,
    FdFilestatSetSize,
    FdFilestatSetTimes,
    FdPread,
    FdPrestatGet,
    FdPrestatDirName,
    FdPwrite,
    FdRead,
    FdReaddir,
    FdRenumber,
    FdSeek,
    FdSync,
    FdTell,
    FdWrite,
    PathCreateDirectory,
    PathFilestatGet,
    PathFilestatSetTimes,
    PathLink,
    PathOpen,
    PathReadlink,
    PathRemoveDirectory,
    PathRename,
    PathSymlink,
    PathUnlinkFile,
    PollOneoff,
    ProcExit,
    ProcRaise,
    SchedYield,
    RandomGet,
    SockAccept,
    SockRecv,
    SockSend,
    SockShutdown,
}

/// Every preview 1 function: its name, parameters and results.
pub(crate) const FUNCS: [(Func, &str, &[ValType], &[ValType]); 46] = [
    (Func::ArgsGet, "args_get", &[I, I], &[I]),
    (Func::ArgsSizesGet, "args_sizes_get", &[I, I], &[I]),
    (Func::EnvironGet, "environ_get", &[I, I], &[I]),
    (Func::EnvironSizesGet, "environ_sizes_get", &[I, I], &[I]),
    (Func::ClockResGet, "clock_res_get", &[I, I], &[I]),
    (Func::ClockTimeGet, "clock_time_get", &[I, L, I], &[I]),
    (Func::FdAdvise, "fd_advise", &[I, L, L, I], &[I]),
    (Func::FdAllocate, "fd_allocate", &[I, L, L], &[I]),
    (Func::FdClose, "fd_close", &[I], &[I]),
    (Func::FdDatasync, "fd_datasync", &[I], &[I]),
    (Func::FdFdstatGet, "fd_fdstat_get", &[I, I], &[I]),
    (Func::FdFdstatSetFlags, "fd_fdstat_set_flags", &[I, I], &[I]),
    (
        Func::FdFdstatSetRights,
        "fd_fdstat_set_rights",
        &[I, L, L],
        &[I],
    ),
    (Func::FdFilestatGet, "fd_filestat_get", &[I, I], &[I]),
    (
        Func::FdFilestatSetSize,
        "fd_filestat_set_size",
        &[I, L],
        &[I],
    ),
    (
        Func::FdFilestatSetTimes,
        "fd_filestat_set_times",
        &[I, L, L, I],
        &[I],
    ),
    (Func::FdPread, "fd_pread", &[I, I, I, L, I], &[I]),
    (Func::FdPrestatGet, "fd_prestat_get", &[I, I], &[I]),
    (
        Func::FdPrestatDirName,
        "fd_prestat_dir_name",
        &[I, I, I],
        &[I],
    ),
    (Func::FdPwrite, "fd_pwrite", &[I, I, I, L, I], &[I]),
    (Func::FdRead, "fd_read", &[I, I, I, I], &[I]),
    (Func::FdReaddir, "fd_readdir", &[I, I, I, L, I], &[I]),
    (Func::FdRenumber, "fd_renumber", &[I, I], &[I]),
    (Func::FdSeek, "fd_seek", &[I, L, I, I], &[I]),
    (Func::FdSync, "fd_sync", &[I], &[I]),
    (Func::FdTell, "fd_tell", &[I, I], &[I]),
    (Func::FdWrite, "fd_write", &[I, I, I, I], &[I]),
    (
        Func::PathCreateDirectory,
        "path_create_directory",
        &[I, I, I],
        &[I],
    ),
    (
        Func::PathFilestatGet,
        "path_filestat_get",
        &[I, I, I, I, I],
        &[I],
    ),
    (
        Func::PathFilestatSetTimes,
        "path_filestat_set_times",
        &[I, I, I, I, L, L, I],
        &[I],
    ),
    (Func::PathLink, "path_link", &[I, I, I, I, I, I, I], &[I]),
    (
        Func::PathOpen,
        "path_open",
        &[I, I, I, I, I, L, L, I, I],
        &[I],
    ),
    (
        Func::PathReadlink,
        "path_readlink",
        &[I, I, I, I, I, I],
        &[I],
    ),
    (
        Func::PathRemoveDirectory,
        "path_remove_directory",
        &[I, I, I],
        &[I],
    ),
    (Func::PathRename, "path_rename", &[I, I, I, I, I, I], &[I]),
    (Func::PathSymlink, "path_symlink", &[I, I, I, I, I], &[I]),
    (Func::PathUnlinkFile, "path_unlink_file", &[I, I, I], &[I]),
    (Func::PollOneoff, "poll_oneoff", &[I, I, I, I], &[I]),
    (Func::ProcExit, "proc_exit", &[I], &[]),
    (Func::ProcRaise, "proc_raise", &[I], &[I]),
    (Func::SchedYield, "sched_yield", &[], &[I]),
    (Func::RandomGet, "random_get", &[I, I], &[I]),
    (Func::SockAccept, "sock_accept", &[I, I, I], &[I]),
    (Func::SockRecv, "sock_recv", &[I, I, I, I, I, I], &[I]),
    (Func::SockSend, "sock_send", &[I, I, I, I, I], &[I]),
    (Func::SockShutdown, "sock_shutdown", &[I, I], &[I]),
];

/// Errno codes, as preview 1 numbers them.
pub(crate) mod errno {
    pub(crate) const SUCCESS: i32 = 0;
    pub(crate) const BADF: i32 = 8;
    pub(crate) const BUSY: i32 = 10;
    pub(crate) const EXIST: i32 = 20;
    pub(crate) const FBIG: i32 = 22;
    pub(crate) const ILSEQ: i32 = 25;
    pub(crate) const INVAL: i32 = 28;
    pub(crate) const IO: i32 = 29;
    pub(crate) const ISDIR: i32 = 31;
    pub(crate) const MFILE: i32 = 33;
    pub(crate) const NAMETOOLONG: i32 = 37;
    pub(crate) const NOENT: i32 = 44;
    pub(crate) const NOSPC: i32 = 51;
    pub(crate) const NOTDIR: i32 = 54;
    pub(crate) const NOTEMPTY: i32 = 55;
    pub(crate) const NOTSOCK: i32 = 57;
    pub(crate) const NOTSUP: i32 = 58;
    pub(crate) const PERM: i32 = 63;
    pub(crate) const SPIPE: i32 = 70;
}

/// Clock ids.
pub(crate) mod clock {
    pub(crate) const REALTIME: u32 = 0;
    pub(crate) const MONOTONIC: u32 = 1;
    pub(crate) const PROCESS_CPUTIME: u32 = 2;
    pub(crate) const THREAD_CPUTIME: u32 = 3;
}

/// `rights` bits, and the sets wasmtime-wasi reports.
pub(crate) mod rights {
    pub(crate) const FD_READ: u64 = 1 << 1;
    pub(crate) const FD_SEEK: u64 = 1 << 2;
    pub(crate) const FD_WRITE: u64 = 1 << 6;
    pub(crate) const FD_READDIR: u64 = 1 << 14;
    pub(crate) const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub(crate) const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    /// Every right preview 1 defines.
    pub(crate) const ALL: u64 = (1 << 30) - 1;
    /// What a directory descriptor lacks of [`ALL`].
    pub(crate) const DIR_EXCLUDED: u64 = FD_SEEK | FD_FILESTAT_SET_SIZE | PATH_FILESTAT_SET_SIZE;
    /// A preopened directory's rights: the path functions, with the file status ones.
    pub(crate) const PREOPEN_BASE: u64 = 0x07b7_fe00;
    pub(crate) const PREOPEN_INHERITING: u64 = 0x0ff7_ffff;
}

/// `filetype` values.
pub(crate) mod filetype {
    pub(crate) const UNKNOWN: u8 = 0;
    pub(crate) const DIRECTORY: u8 = 3;
    pub(crate) const REGULAR_FILE: u8 = 4;
}

/// `oflags` bits of `path_open`.
pub(crate) mod oflags {
    pub(crate) const CREAT: u32 = 1;
    pub(crate) const DIRECTORY: u32 = 2;
    pub(crate) const EXCL: u32 = 4;
    pub(crate) const TRUNC: u32 = 8;
}

/// `lookupflags` bits.
pub(crate) mod lookup {
    pub(crate) const SYMLINK_FOLLOW: u32 = 1;
}

/// `poll_oneoff` records: a 48-byte subscription, a 32-byte event.
pub(crate) mod poll {
    pub(crate) const SUBSCRIPTION_BYTES: u64 = 48;
    pub(crate) const CLOCK: u8 = 0;
    pub(crate) const FD_READ: u8 = 1;
    pub(crate) const FD_WRITE: u8 = 2;
    /// `eventrwflags`: the descriptor is at its end.
    pub(crate) const HANGUP: u16 = 1;
    /// `subclockflags`: the timeout is an absolute time of the clock.
    pub(crate) const ABSTIME: u16 = 1;
}
