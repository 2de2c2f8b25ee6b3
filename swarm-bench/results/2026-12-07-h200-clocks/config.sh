#!/usr/bin/env bash
# Not run yet (no device time since): base64 and gimli at 65,536 agents under `swarm run`'s defaults
# and under swarm-bench's program settings, one setting at a time, then swarm-bench itself. See README.md.
# On the device: `source .dev/on-device.sh && bash <this file>` with stripped `swarm` and `swarm-bench` in .dev/.
set -u
R=$OUT
P=swarm-bench/programs
run() {
  local prog=$1; shift
  echo "== $prog $*" >> $R/config.log
  timeout 90 .dev/swarm run $P/$prog/$prog.wasm --invoke run --args '{id}' --agents 65536 --tier compiled --show 0 "$@" 2>&1 | grep -E "GPU time|tier |instructions |wall" >> $R/config.log
}
S=1099511627776
ALL="--stack-slots 2048 --call-frames 256 --slice $S --output-bytes 4 --max-globals 16 --max-table-elements 64 --max-results 1"
prog=shootout-base64
run $prog
run $prog
run $prog --stack-slots 2048
run $prog --call-frames 256
run $prog --slice $S
run $prog --output-bytes 4 --max-globals 16 --max-table-elements 64 --max-results 1
run $prog $ALL
run $prog
prog=shootout-gimli
run $prog
run $prog $ALL
echo "bench $(date +%T)" >> $R/config.log
timeout 200 .dev/swarm-bench --sections programs --program-agents 65536 --tier compiled --programs shootout-gimli,shootout-base64 --pipeline-cache /tmp/pc --out $R/bench > $R/bench.log 2>&1
echo "end $(date +%T)" >> $R/config.log
