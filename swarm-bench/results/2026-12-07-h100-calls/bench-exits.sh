#!/usr/bin/env bash
# Calls through one shared exit: fib at 131,072 agents, call-heavy programs at 65,536.
set -u
B=.dev/swarm-bench
R=$OUT/b
mkdir -p $R
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $R/gpu.txt 2>&1
( time timeout 100 $B --sections throughput --agents 131072 --workloads xorshift,fib --tier compiled --out $R/loops ) > $R/loops.log 2>&1
( time timeout 200 $B --sections programs --program-agents 65536 --tier compiled \
    --programs coremark,shootout-ed25519,shootout-xchacha20,shootout-base64,shootout-heapsort,shootout-gimli \
    --out $R/programs ) > $R/programs.log 2>&1
cd $R && tar czf ../exits.tgz . && cd .. && rm -rf $R
