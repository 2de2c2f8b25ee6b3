// WASI test guest: calls preview 1 functions directly and prints what each returns, so every
// errno can be compared with wasmtime's. Without arguments (or with "0") it runs the table of
// calls on descriptors 0 to 4 and the other calls that return; with "K" it runs probe K alone,
// one with a bad pointer or a value preview 1 does not define, which may trap.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define SHOW(call) printf("%-64s -> %d\n", #call, (int)(call))

// An address past the end of memory.
#define BAD ((void *)0xfffffff0u)

static __wasi_fdstat_t st;
static __wasi_filestat_t fst;
static __wasi_prestat_t pst;
static __wasi_filesize_t pos;
static __wasi_size_t n, m;
static __wasi_fd_t opened;
static __wasi_timestamp_t t;
static _Alignas(8) char buf[32];
static const char text[] = "written by fd_write\n";
static __wasi_ciovec_t civ[2] = {{(const uint8_t *)text, 8}, {(const uint8_t *)text + 8, 12}};
static __wasi_iovec_t iv = {(uint8_t *)buf, sizeof buf};
static const char path[] = "file.txt";

static void table(void) {
    for (__wasi_fd_t fd = 0; fd < 5; fd++) {
        printf("fd %u\n", fd);
        memset(&st, 0, sizeof st);
        SHOW(__wasi_fd_fdstat_get(fd, &st));
        printf("  filetype %u flags %u rights %llx %llx\n", st.fs_filetype, st.fs_flags,
               (unsigned long long)st.fs_rights_base,
               (unsigned long long)st.fs_rights_inheriting);
        memset(&fst, 0xab, sizeof fst);
        SHOW(__wasi_fd_filestat_get(fd, &fst));
        printf("  filetype %u size %llu\n", fst.filetype, (unsigned long long)fst.size);
        SHOW(__wasi_fd_prestat_get(fd, &pst));
        SHOW(__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, sizeof buf));
        SHOW(__wasi_fd_seek(fd, 0, __WASI_WHENCE_CUR, &pos));
        SHOW(__wasi_fd_tell(fd, &pos));
        SHOW(__wasi_fd_read(fd, &iv, 1, &n));
        SHOW(__wasi_fd_pread(fd, &iv, 1, 0, &n));
        SHOW(__wasi_fd_pwrite(fd, civ, 1, 0, &n));
        SHOW(__wasi_fd_advise(fd, 0, 0, __WASI_ADVICE_NORMAL));
        SHOW(__wasi_fd_allocate(fd, 0, 1));
        SHOW(__wasi_fd_datasync(fd));
        SHOW(__wasi_fd_sync(fd));
        SHOW(__wasi_fd_fdstat_set_flags(fd, 0));
        SHOW(__wasi_fd_fdstat_set_rights(fd, 0, 0));
        SHOW(__wasi_fd_filestat_set_size(fd, 0));
        SHOW(__wasi_fd_filestat_set_times(fd, 0, 0, 0));
        SHOW(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
        SHOW(__wasi_fd_readdir(fd, (uint8_t *)buf, sizeof buf, 0, &n));
        SHOW(__wasi_path_open(fd, 0, path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &opened));
        SHOW(__wasi_path_create_directory(fd, "dir"));
        SHOW(__wasi_path_filestat_get(fd, 0, path, &fst));
        SHOW(__wasi_path_filestat_set_times(fd, 0, path, 0, 0, 0));
        SHOW(__wasi_path_link(fd, 0, path, fd, "other"));
        SHOW(__wasi_path_remove_directory(fd, "dir"));
        SHOW(__wasi_path_unlink_file(fd, path));
        SHOW(__wasi_path_readlink(fd, path, (uint8_t *)buf, sizeof buf, &n));
        SHOW(__wasi_path_rename(fd, path, fd, "other"));
        SHOW(__wasi_path_symlink(path, fd, "link"));
        SHOW(__wasi_sock_accept(fd, 0, &opened));
        SHOW(__wasi_sock_recv(fd, &iv, 1, 0, &n, (uint16_t *)&m));
        SHOW(__wasi_sock_send(fd, civ, 1, 0, &n));
        SHOW(__wasi_sock_shutdown(fd, __WASI_SDFLAGS_RD));
        fflush(stdout);
    }
    SHOW(__wasi_fd_write(1, civ, 1, &n));
    printf("  wrote %lu\n", n);
    SHOW(__wasi_fd_write(2, civ, 1, &n));
    SHOW(__wasi_fd_write(0, civ, 1, &n));
    SHOW(__wasi_fd_write(9, civ, 1, &n));
    SHOW(__wasi_fd_write(1, civ, 0, &n));
    printf("  wrote %lu\n", n);

    SHOW(__wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &t));
    SHOW(__wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &t));
    SHOW(__wasi_clock_res_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, &t));
    SHOW(__wasi_clock_res_get(__WASI_CLOCKID_THREAD_CPUTIME_ID, &t));
    SHOW(__wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 0, &t));
    SHOW(__wasi_clock_time_get(__WASI_CLOCKID_THREAD_CPUTIME_ID, 0, &t));
    SHOW(__wasi_sched_yield());
    SHOW(__wasi_random_get(BAD, 0));
    SHOW(__wasi_args_sizes_get(&n, &m));
    printf("  args %lu %lu\n", n, m);
    SHOW(__wasi_environ_sizes_get(&n, &m));
    printf("  environ %lu %lu\n", n, m);
    SHOW(__wasi_poll_oneoff(NULL, NULL, 0, &n));

    // Renumbering and closing standard streams, then using them.
    SHOW(__wasi_fd_renumber(1, 7));
    SHOW(__wasi_fd_renumber(2, 2));
    SHOW(__wasi_fd_close(0));
    SHOW(__wasi_fd_close(0));
    SHOW(__wasi_fd_read(0, &iv, 1, &n));
    SHOW(__wasi_fd_close(5));
    fflush(stdout);
    SHOW(__wasi_fd_renumber(2, 1));
    SHOW(__wasi_fd_fdstat_get(1, &st));
    printf("  rights %llx (stderr's, now at 1)\n", (unsigned long long)st.fs_rights_base);
    SHOW(__wasi_fd_write(2, civ, 1, &n));
    fflush(stdout);
}

// path_open as imported, with the path as a pointer and a length.
int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len,
                      int32_t oflags, int64_t base, int64_t inheriting, int32_t fdflags,
                      int32_t opened)
    __attribute__((__import_module__("wasi_snapshot_preview1"), __import_name__("path_open")));

// One call with a bad pointer or argument; wasmtime-wasi traps on most.
static int probe(int k) {
    __wasi_ciovec_t wild = {BAD, 64};
    char bad_utf8[] = {'a', (char)0xff, 'b'};
    switch (k) {
    case 1: return __wasi_fd_fdstat_get(1, BAD);
    case 2: return __wasi_fd_write(1, BAD, 1, &n);
    case 3: return __wasi_fd_write(1, civ, 1, BAD);
    case 4: return __wasi_fd_write(1, &wild, 1, &n);
    case 5: return __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, BAD);
    case 6: return __wasi_random_get(BAD, 32);
    case 7: return __wasi_args_sizes_get(BAD, &m);
    case 8: return __wasi_environ_get(BAD, BAD);
    case 9: return __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, (__wasi_timestamp_t *)(buf + 4));
    case 10: return __wasi_clock_time_get(9, 0, &t);
    case 11: __wasi_proc_exit(200);
    case 12: return __wasi_fd_seek(1, 0, 7, &pos);
    case 13: return __wasi_fd_write(9, BAD, 1, &n);
    case 14: return raw_path_open(3, 0, (int32_t)bad_utf8, sizeof bad_utf8, 0, 0, 0, 0, (int32_t)&opened);
    case 15: return raw_path_open(3, 0, (int32_t)BAD, 64, 0, 0, 0, 0, (int32_t)&opened);
    case 16: return __wasi_fd_fdstat_set_flags(1, 1 << 7);
    case 17: return __wasi_fd_write(1, civ, 1, (__wasi_size_t *)(buf + 2));
    case 18: __wasi_proc_exit(5);
    case 19: return __wasi_clock_res_get(4, &t);
    case 20: return __wasi_fd_read(0, BAD, 1, &n);
    case 22: return raw_path_open(3, 2, (int32_t)path, 8, 0, 0, 0, 0, (int32_t)&opened);
    case 23: return __wasi_fd_write(1, BAD, 0, &n);
    case 24: return __wasi_fd_read(0, BAD, 0, &n);
    case 21: {
        // An empty buffer is not read: its address does not matter.
        __wasi_ciovec_t empty_first[2] = {{BAD, 0}, {(const uint8_t *)text, 8}};
        return __wasi_fd_write(1, empty_first, 2, &n);
    }
    default: return -1;
    }
}

int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 0;
    if (k == 0) {
        table();
        return 0;
    }
    printf("probe %d\n", k);
    fflush(stdout);
    printf("probe %d -> %d\n", k, probe(k));
    return 0;
}
