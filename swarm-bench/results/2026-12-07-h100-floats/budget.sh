#!/usr/bin/env bash
# Compile budget against build time and GPU time (driver cache off): keccak and CoreMark.
set -u
S=.dev/swarm
R=$OUT/g
mkdir -p $R
export __GL_SHADER_DISK_CACHE=0
run() { # program agents instructions blocks
  echo "== $1 $2 agents, budget $3 / $4" >> $R/budget.log
  ( time timeout 150 $S run swarm-bench/programs/$1/$1.wasm --invoke run --args '{id}' --agents $2 --tier compiled --compile-instructions $3 --compile-blocks $4 --no-pipeline-cache --show 0 ) >> $R/budget.log 2>&1
}
run shootout-keccak 65536 1500 96
run shootout-keccak 65536 6000 250
run shootout-keccak 65536 12000 500
run coremark 32768 1500 96
run coremark 32768 4500 300
cd $R && tar czf ../budget.tgz . && cd .. && rm -rf $R
