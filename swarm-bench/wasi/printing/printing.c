// A printing program: the Collatz step counts of 256 starting numbers derived from the
// agent's argument, one line each, then their total. Built with -DQUIET it prints only the
// total: the same work without the printing, to measure what printing costs.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    unsigned long long start = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    unsigned long long total = 0;
    for (int i = 0; i < 256; i++) {
        unsigned long long n = start * 1000 + (unsigned long long)i + 1;
        unsigned steps = 0;
        while (n != 1) {
            n = (n & 1) ? 3 * n + 1 : n / 2;
            steps++;
        }
        total += steps;
#ifndef QUIET
        printf("%llu: %u steps\n", start * 1000 + (unsigned long long)i + 1, steps);
#endif
    }
    printf("total %llu\n", total);
    return 0;
}
