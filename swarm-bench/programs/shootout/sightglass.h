/*
 * Stand-in for sightglass's include/sightglass.h, used when the shootout
 * sources are built as swarm-bench kernels. The upstream header declares
 * bench_start/bench_end as WebAssembly imports from the "bench" module;
 * swarm-bench kernels import nothing, so here they are empty, and the
 * upstream main() they are used in is compiled out (kernel.c makes it
 * static and unused, and exports run() instead).
 */
#ifndef sightglass_h
#define sightglass_h 1

static inline void bench_start(void) {}
static inline void bench_end(void) {}

#define BLACK_BOX(X) ((void)(X))

#endif
