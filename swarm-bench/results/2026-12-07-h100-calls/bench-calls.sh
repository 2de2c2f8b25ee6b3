#!/usr/bin/env bash
# Issue 13 figures without CoreMark at 262,144 agents: xorshift and fib at 131,072, the real programs at 65,536.
set -u
B=.dev/swarm-bench
R=$OUT/b
mkdir -p $R
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $R/gpu.txt 2>&1
nproc >> $R/gpu.txt
( time timeout 100 $B --sections throughput --agents 131072 --workloads xorshift,fib --tier compiled --out $R/loops ) > $R/loops.log 2>&1
( time timeout 60 $B --sections throughput --agents 131072 --workloads fib --tier interpreter --out $R/fib-interp ) > $R/fib-interp.log 2>&1
( time timeout 330 $B --sections programs --program-agents 65536 --tier compiled \
    --programs coremark,shootout-heapsort,polybench-floyd-warshall,shootout-keccak,shootout-ed25519,shootout-xchacha20,shootout-base64,shootout-gimli,polybench-gemm,polybench-seidel-2d,polybench-jacobi-2d \
    --out $R/programs ) > $R/programs.log 2>&1
cd $R && tar czf ../bench13.tgz . && cd .. && rm -rf $R
