// WASI test guest: reads the first lines of its stdin through stdio (at most 40 bytes a
// line), numbers and upper-cases them, then reads on to the end with direct calls.
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

int main(int argc, char **argv) {
    char line[40];
    int number = 0;
    size_t bytes = 0;
    // Only the first lines through stdio: the rest is read directly, below.
    while (number < 5 && fgets(line, sizeof line, stdin)) {
        number++;
        bytes += strlen(line);
        for (char *c = line; *c; c++) {
            *c = (char)toupper((unsigned char)*c);
        }
        printf("%3d %s%s", number, line, strchr(line, '\n') ? "" : "\n");
    }
    printf("%d line(s), %zu bytes, eof %d\n", number, bytes, feof(stdin));
    // stdio may have read ahead; what it holds is counted above or lost with its buffer.
    char chunk[64];
    __wasi_iovec_t iov = {(uint8_t *)chunk, sizeof chunk};
    for (int i = 0;; i++) {
        __wasi_size_t n = 99;
        int r = __wasi_fd_read(0, &iov, 1, &n);
        printf("read %d: errno %d, %lu byte(s) %.*s\n", i, r, n, (int)n < 8 ? (int)n : 8, chunk);
        if (r != 0 || n == 0) {
            break;
        }
    }
    return 0;
}
