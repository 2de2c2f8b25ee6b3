#!/usr/bin/env bash
# Float fast path on NVIDIA: the softfloat test (nf_* bit for bit), then the PolyBench float
# programs at 65,536 agents per tier, with and without --soft-float; JSON of 1,024 agents must
# give the same MD5 both ways.
set -u
S=.dev/swarm
R=$OUT/f
mkdir -p $R
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $R/gpu.txt 2>&1
( time timeout 120 .dev/softfloat-test --test-threads 1 ) > $R/softfloat.log 2>&1
for p in polybench-gemm polybench-jacobi-2d polybench-seidel-2d; do
  W=swarm-bench/programs/$p/$p.wasm
  for t in compiled interpreter; do
    for f in "" --soft-float; do
      echo "== $p $t $f" >> $R/runs.log
      timeout 60 $S run $W --invoke run --args '{id}' --agents 65536 --tier $t $f --no-pipeline-cache --show 0 >> $R/runs.log 2>&1
      timeout 30 $S run $W --invoke run --args '{id}' --agents 1024 --tier $t $f --no-pipeline-cache --json 2>/dev/null | md5sum | sed "s/-/$p $t $f/" >> $R/md5.txt
    done
  done
done
cd $R && tar czf ../floats.tgz . && cd .. && rm -rf $R
