// WASI test guest: reads the clocks, sleeps, and draws random bytes in pieces of several
// sizes; with deterministic clocks and a seeded random stream on both sides, every agent's
// output is reproducible.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

int main(void) {
    struct timespec ts;
    for (int i = 0; i < 3; i++) {
        clock_gettime(CLOCK_REALTIME, &ts);
        printf("realtime %lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        printf("monotonic %lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
    }
    clock_getres(CLOCK_MONOTONIC, &ts);
    printf("resolution %lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
    printf("time %lld\n", (long long)time(NULL));
    struct timespec nap = {0, 1000};
    printf("nanosleep %d\n", nanosleep(&nap, NULL));
    printf("usleep %d\n", usleep(1));

    // poll_oneoff: two clocks (the earlier fires), then the same with a write subscription
    // on stdout (it alone fires, at once).
    __wasi_subscription_t subs[3] = {0};
    subs[0].userdata = 11;
    subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[0].u.u.clock.timeout = 50000000;
    subs[1].userdata = 22;
    subs[1].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[1].u.u.clock.timeout = 1000000;
    subs[2].userdata = 33;
    subs[2].u.tag = __WASI_EVENTTYPE_FD_WRITE;
    subs[2].u.u.fd_write.file_descriptor = 1;
    for (__wasi_size_t count = 2; count <= 3; count++) {
        __wasi_event_t events[3] = {0};
        __wasi_size_t n = 0;
        int r = __wasi_poll_oneoff(subs, events, count, &n);
        printf("poll %lu: %d, %lu event(s)", count, r, n);
        for (__wasi_size_t i = 0; i < n; i++) {
            printf(" [%llu %u %u %llu]", (unsigned long long)events[i].userdata,
                   events[i].error, events[i].type,
                   (unsigned long long)events[i].fd_readwrite.nbytes);
        }
        printf("\n");
    }

    unsigned char bytes[100];
    int sizes[] = {1, 7, 8, 3, 16, 33, 32};
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        if (getentropy(bytes, sizes[s]) != 0) {
            printf("getentropy failed\n");
            return 1;
        }
        printf("random %2d:", sizes[s]);
        for (int i = 0; i < sizes[s]; i++) {
            printf(" %02x", bytes[i]);
        }
        printf("\n");
    }
    srand(bytes[0]);
    printf("rand %d\n", rand());
    return 0;
}
