// WASI test guest: prints its arguments and environment, does some work that depends on the
// SEED variable, writes to stderr, and ends three ways by seed: main returns 0, exit(n) calls
// proc_exit, or main returns non-zero (then _start calls proc_exit).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) {
        printf("argv[%d]=%s (%zu bytes)\n", i, argv[i], strlen(argv[i]));
    }
    for (char **e = environ; *e; e++) {
        printf("env %s\n", *e);
    }
    const char *seed = getenv("SEED");
    long n = seed ? strtol(seed, NULL, 10) : -1;
    unsigned long long x = 88172645463325252ull ^ (unsigned long long)n;
    for (int i = 0; i < 100; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    printf("x=%llu y=%.6f z=%e\n", x, 3.14159265358979 * (double)(n + 1), (double)x / 7.0);
    // Many small writes, a line at a time on agents whose stdout is a terminal.
    for (int i = 0; i < (int)(n % 5) * 40; i++) {
        printf("%d%c", i, i % 20 == 19 ? '\n' : ' ');
    }
    fprintf(stderr, "agent %ld says hello on stderr\n", n);
    fflush(stdout);
    if (n % 3 == 1) {
        exit((int)(n % 7));
    }
    if (n % 3 == 2) {
        return (int)(n % 5) + 1;
    }
    return 0;
}
