#!/usr/bin/env bash
# Scheduling: lowest pc first against earliest first (call-aware), same kernels otherwise.
# Part a or b.
set -u
R=$OUT/s-$1
mkdir -p $R
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $R/gpu.txt 2>&1
run() { # scheduling program agents args [flags]
  echo "== $1 $2 $3 agents, args $4 ${5:-}" >> $R/sched.log
  ( time SWARM_SCHEDULING=$1 timeout 100 .dev/swarm run swarm-bench/programs/$2/$2.wasm --invoke run --args "$4" --agents $3 --tier compiled --show 0 ${5:-} ) >> $R/sched.log 2>&1
}
if [ $1 = a ]; then
for rep in 1 2; do
  for s in lowest earliest; do
    run $s coremark 32768 '{id}'
  done
done
for p in shootout-heapsort polybench-floyd-warshall shootout-base64 shootout-gimli; do
  for s in lowest earliest lowest earliest; do
    run $s $p 65536 '{id}'
  done
done
else
for p in shootout-ed25519 shootout-keccak; do
  for s in lowest earliest; do
    run $s $p 65536 '{id}'
  done
done
for s in lowest earliest; do
  run $s coremark 32768 '{id}' "--compile-instructions 4500 --compile-blocks 300"
done
run earliest coremark 32768 0 "--compile-instructions 4500 --compile-blocks 300"
for s in lowest earliest; do
  SWARM_SCHEDULING=$s timeout 120 .dev/swarm-bench --sections throughput --agents 131072 --workloads xorshift,fib --tier compiled --out $R/loops-$s > $R/loops-$s.log 2>&1
done
fi
cd $R && tar czf ../sched-$1.tgz . && cd .. && rm -rf $R
