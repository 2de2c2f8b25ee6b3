#!/usr/bin/env bash
# swarm and swarm-bench at a575475 (before) against swarm2 and swarm-bench2 at 94bfddb (after: every chunk's run in a stage of its own), in one command on the device: `source .dev/on-device.sh && bash stages.sh`, with the stripped binaries xz-compressed in .dev/.
set -u
for f in .dev/*.xz; do xz -dc $f > ${f%.xz}; chmod +x ${f%.xz}; done
L=$OUT/runs.log
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/gpu.txt 2>&1
x() { # binary args...
  local b=$1; shift
  echo "== $b xorshift $*" >> $L
  timeout 60 .dev/$b run swarm-bench/src/xorshift.wat --invoke xorshift --args '{id},1000' --tier compiled --show 0 "$@" 2>&1 | grep -E "GPU time|wall" >> $L
}
p() { # binary program args...
  local b=$1 prog=$2; shift 2
  echo "== $b $prog $*" >> $L
  timeout 90 .dev/$b run swarm-bench/programs/$prog/$prog.wasm --invoke run --args '{id}' --agents 65536 --tier compiled --show 0 "$@" 2>&1 | grep -E "GPU time|wall" >> $L
}
S=1099511627776
for b in swarm swarm2 swarm swarm2; do
  x $b --agents 131072 --max-memory-pages 0
  x $b --agents 131072 --max-memory-pages 1
  x $b --agents 32767 --max-memory-pages 1
done
for b in swarm swarm2 swarm swarm2; do
  p $b shootout-base64
  p $b shootout-base64 --slice $S
  p $b shootout-gimli --slice $S
done
for b in swarm-bench swarm-bench2; do
  echo "bench $b $(date +%T)" >> $L
  timeout 150 .dev/$b --sections programs --program-agents 65536 --tier compiled --programs shootout-gimli,shootout-base64 --pipeline-cache /tmp/pc --out $OUT/programs-$b > $OUT/programs-$b.log 2>&1
  timeout 120 .dev/$b --sections throughput --agents 131072 --workloads xorshift,fib --tier compiled --out $OUT/loops-$b > $OUT/loops-$b.log 2>&1
done
echo "done $(date +%T)" >> $L
