#!/usr/bin/env bash
# Not run yet (the session's device time ran out): xorshift and fib under swarm-bench's loop settings with private and in-place stacks, then each real program alone at 65,536 agents (issue 13's table after 94bfddb).
# On the device: `source .dev/on-device.sh && bash <this file> [seconds]`, with swarm2.xz and swarm-bench2.xz (stripped, xz) in .dev/
set -u
for f in .dev/*.xz; do xz -dc $f > ${f%.xz}; chmod +x ${f%.xz}; done
R=$OUT/r
mkdir -p $R
L=$R/runs.log
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $R/gpu.txt 2>&1
x() {
  echo "== xorshift $*" >> $L
  timeout 60 .dev/swarm2 run swarm-bench/src/xorshift.wat --invoke xorshift --args '{id},1000' --agents 131072 --tier compiled --show 0 "$@" 2>&1 | grep -E "GPU time|wall" >> $L
}
inner() {
  BS="--max-memory-pages 1 --stack-slots 256 --call-frames 64 --output-bytes 4 --max-globals 8 --max-table-elements 8 --max-results 1 --slice 1099511627776"
  x
  x $BS --private-stack-slots 256
  x $BS --private-stack-slots 0
  x $BS --private-stack-slots 256
  x $BS --private-stack-slots 0
  for ps in 256 0; do
    echo "== fib private $ps" >> $L
    timeout 60 .dev/swarm2 run swarm-bench/guests/swarm_guests.wasm --invoke fib --args 16 --agents 131072 --tier compiled --show 0 $BS --private-stack-slots $ps 2>&1 | grep -E "GPU time|wall" >> $L
  done
  for p in coremark shootout-keccak shootout-ed25519 polybench-gemm shootout-heapsort polybench-seidel-2d polybench-jacobi-2d shootout-xchacha20 polybench-floyd-warshall shootout-base64 shootout-gimli; do
    echo "$p $(date +%T)" >> $L
    .dev/swarm-bench2 --sections programs --program-agents 65536 --tier compiled --programs $p --out $R/$p > $R/$p.log 2>&1
  done
  echo "done $(date +%T)" >> $L
}
export -f x inner; export L R
timeout ${1:-280} bash -c inner
cd $OUT && tar czf r.tgz r && rm -rf r
