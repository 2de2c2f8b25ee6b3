// WASI test guest: files in two preopened directories, `data` (given files, which the agent
// changes only in its own view) and `out` (empty). Reads through stdio and directly, writes,
// appends, seeks past the end, truncates, makes and removes directories, renames, links and
// lists, then the errno of each refused operation, the descriptor numbers it is given, and a
// listing of everything under `out`. argv[1] is the agent's number; with argv[2] "fill" it
// instead writes 1000-byte pieces to one file until a write is refused.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static void result(const char *what, int r) {
    printf("%-28s %s\n", what, r < 0 ? strerror(errno) : "ok");
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Lists `path` and what lies under it, by name: each entry's type and, for files, size.
static void list(const char *path, int depth) {
    DIR *dir = opendir(path);
    if (!dir) {
        printf("opendir %s: %s\n", path, strerror(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) && n < 64) {
        names[n++] = strdup(entry->d_name);
    }
    closedir(dir);
    qsort(names, n, sizeof names[0], by_name);
    for (int i = 0; i < n; i++) {
        char child[256];
        snprintf(child, sizeof child, "%s/%s", path, names[i]);
        struct stat st;
        if (strcmp(names[i], ".") == 0 || strcmp(names[i], "..") == 0) {
            printf("%*s%s\n", depth * 2, "", names[i]);
        } else if (stat(child, &st) != 0) {
            printf("%*s%s: %s\n", depth * 2, "", names[i], strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            printf("%*s%s/\n", depth * 2, "", names[i]);
            list(child, depth + 1);
        } else {
            printf("%*s%s %lld bytes, %s\n", depth * 2, "", names[i], (long long)st.st_size,
                   S_ISREG(st.st_mode) ? "regular" : "other");
        }
        free(names[i]);
    }
}

static void fill(void) {
    int fd = open("out/fill.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char piece[1000];
    memset(piece, 'f', sizeof piece);
    long total = 0;
    for (;;) {
        ssize_t n = write(fd, piece, sizeof piece);
        if (n < 0) {
            printf("refused after %ld bytes: %s\n", total, strerror(errno));
            break;
        }
        total += n;
        if (n < (ssize_t)sizeof piece) {
            printf("short write of %zd after %ld bytes\n", n, total - n);
        }
    }
    close(fd);
}

int main(int argc, char **argv) {
    int id = argc > 1 ? atoi(argv[1]) : 0;
    if (argc > 2 && strcmp(argv[2], "fill") == 0) {
        fill();
        return 0;
    }

    // Lines of a given file, through stdio.
    FILE *in = fopen("data/lines.txt", "r");
    char line[64];
    int number = 0;
    while (in && fgets(line, sizeof line, in)) {
        printf("line %d: %s", ++number, line);
    }
    fclose(in);

    // Numbers, read directly in small pieces.
    int fd = open("data/sub/numbers.txt", O_RDONLY);
    char buf[7];
    long sum = 0, value = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                value = value * 10 + (buf[i] - '0');
            } else {
                sum += value;
                value = 0;
            }
        }
    }
    printf("sum %ld, last read %zd\n", sum + value, n);
    printf("seek end %lld\n", (long long)lseek(fd, 0, SEEK_END));
    printf("pread: %zd", pread(fd, buf, 4, 2));
    printf(" [%.4s]\n", buf);
    close(fd);

    // A given file changed in place: only this agent sees the change.
    fd = open("data/lines.txt", O_RDWR);
    char stamp[32];
    int len = snprintf(stamp, sizeof stamp, "AGENT%03d", id);
    printf("pwrite %zd\n", pwrite(fd, stamp, len, 5));
    memset(line, 0, sizeof line);
    printf("read back %zd [%s]\n", pread(fd, line, 20, 0), line);
    close(fd);

    // A new file: written through stdio, appended to, extended past its end, cut.
    char path[64];
    snprintf(path, sizeof path, "out/agent-%d.txt", id);
    FILE *out = fopen(path, "w");
    for (int i = 0; i <= id % 5; i++) {
        fprintf(out, "agent %d row %d: %d\n", id, i, id * 1000 + i * i);
    }
    fclose(out);
    out = fopen(path, "a");
    fputs("appended\n", out);
    fclose(out);
    fd = open(path, O_RDWR);
    off_t end = lseek(fd, 0, SEEK_END);
    printf("size %lld, tell %lld\n", (long long)end, (long long)lseek(fd, 0, SEEK_CUR));
    lseek(fd, 3, SEEK_END);
    printf("write past end %zd\n", write(fd, "Z\n", 2));
    struct stat st;
    fstat(fd, &st);
    printf("size %lld, %s\n", (long long)st.st_size, S_ISREG(st.st_mode) ? "regular" : "other");
    char back[4] = {1, 1, 1, 1};
    pread(fd, back, 4, end);
    printf("gap %d %d %d %c\n", back[0], back[1], back[2], back[3]);
    result("ftruncate", ftruncate(fd, end + 5));
    close(fd);

    // Descriptors: the highest closed number is given again first.
    int a = open("data/lines.txt", O_RDONLY);
    int b = open("data/lines.txt", O_RDONLY);
    int c = open("data/lines.txt", O_RDONLY);
    close(a);
    close(b);
    int d = open("data/lines.txt", O_RDONLY);
    int e = open("data/lines.txt", O_RDONLY);
    int f = open("data/lines.txt", O_RDONLY);
    printf("fds %d %d %d then %d %d %d\n", a, b, c, d, e, f);
    close(c);
    close(d);
    close(e);
    close(f);

    // Directories, renames and links.
    result("mkdir out/sub", mkdir("out/sub", 0755));
    result("mkdir out/sub again", mkdir("out/sub", 0755));
    result("mkdir out/sub/deeper", mkdir("out/sub/deeper", 0755));
    out = fopen("out/sub/deeper/note", "w");
    fprintf(out, "note of agent %d\n", id);
    fclose(out);
    result("rmdir out/sub (not empty)", rmdir("out/sub"));
    result("rename note up", rename("out/sub/deeper/note", "out/sub/note"));
    result("rmdir out/sub/deeper", rmdir("out/sub/deeper"));
    result("rename dir into itself", rename("out/sub", "out/sub/x"));
    result("link", link("out/sub/note", "out/hardlink"));
    result("rename over file", rename("out/hardlink", "out/sub/note"));
    result("unlink removed", unlink("out/hardlink"));
    if (id % 2) {
        result("unlink agent file", unlink(path));
    }

    // Refusals.
    result("open missing", open("data/missing", O_RDONLY));
    result("open excl existing", open("data/lines.txt", O_WRONLY | O_CREAT | O_EXCL, 0644));
    result("open dir for writing", open("data/sub", O_WRONLY));
    result("open file as dir", open("data/lines.txt", O_RDONLY | O_DIRECTORY));
    result("open trailing slash", open("data/lines.txt/", O_RDONLY));
    result("open through file", open("data/lines.txt/x", O_RDONLY));
    result("open escape", open("data/../../etc/passwd", O_RDONLY));
    result("unlink dir", unlink("data/sub"));
    result("rmdir file", rmdir("data/lines.txt"));
    result("mkdir missing parent", mkdir("out/none/x", 0755));
    fd = open("data/lines.txt", O_RDONLY);
    result("write read-only", (int)write(fd, "x", 1));
    result("ftruncate read-only", ftruncate(fd, 0));
    close(fd);
    result("read closed", (int)read(fd, buf, 1));
    fd = open("data/sub", O_RDONLY | O_DIRECTORY);
    result("read dir", (int)read(fd, buf, 1));
    close(fd);
    result("remove data/sub/numbers.txt", unlink("data/sub/numbers.txt"));
    result("rmdir data/sub", rmdir("data/sub"));

    // Everything under the two directories.
    list("data", 0);
    list("out", 0);

    // stdout renumbered onto a file: what follows goes there.
    fflush(stdout);
    fd = open("out/stdout.txt", O_WRONLY | O_CREAT, 0644);
    printf("renumber %d\n", __wasi_fd_renumber(fd, 1));
    fflush(stdout);
    printf("into the file, agent %d\n", id);
    fflush(stdout);
    fprintf(stderr, "stderr still, agent %d\n", id);
    return 0;
}
