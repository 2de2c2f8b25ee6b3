#!/usr/bin/env bash
# Bounds checks at a block's start: build time and GPU time before (.dev/swarm-before, c8c772e)
# and after (.dev/swarm), the driver's cache off, keccak and CoreMark, runs interleaved; then
# CoreMark with every agent on one input against an input of its own (agents whose paths part).
set -u
R=$OUT/c
mkdir -p $R
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $R/gpu.txt 2>&1
run() { # binary program agents instructions blocks args [flags]
  echo "== $1 $2 $3 agents, budget $4 / $5, args $6 ${7:-}" >> $R/checks.log
  ( time timeout 120 .dev/$1 run swarm-bench/programs/$2/$2.wasm --invoke run --args "$6" --agents $3 --tier compiled --compile-instructions $4 --compile-blocks $5 --show 0 ${7:-} ) >> $R/checks.log 2>&1
}
export __GL_SHADER_DISK_CACHE=0
for rep in 1 2; do
  for b in swarm-before swarm; do
    run $b coremark 32768 1500 96 '{id}' --no-pipeline-cache
    run $b shootout-keccak 65536 1500 96 '{id}' --no-pipeline-cache
  done
done
unset __GL_SHADER_DISK_CACHE
for args in '{id}' 0 '{id}' 0; do
  run swarm coremark 32768 4500 300 "$args"
done
cd $R && tar czf ../checks.tgz . && cd .. && rm -rf $R
