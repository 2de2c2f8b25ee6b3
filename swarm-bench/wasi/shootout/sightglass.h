/*
 * sightglass's benchmark interface, for the shootout programs built as WASI commands:
 * bench_start and bench_end are imports from the "bench" module, which a runner answers
 * (`swarm run --default-values-unknown-imports` and `wasmtime run` with the same flag
 * answer them with nothing), and BLACK_BOX keeps a value the compiler must assume is used.
 */
#ifndef sightglass_h
#define sightglass_h 1

__attribute__((import_module("bench"), import_name("start"))) void bench_start(void);
__attribute__((import_module("bench"), import_name("end"))) void bench_end(void);

#define BLACK_BOX(X) __asm__ volatile("" : : "r"(&(X)) : "memory")

#endif
