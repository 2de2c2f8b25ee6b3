#!/usr/bin/env bash
# Not run yet (the device budget ran out): base64 at 65,536 agents under `swarm run`'s defaults
# and under swarm-bench's program settings, one at a time. See README.md.
# base64 at 65,536 agents: swarm run's defaults against swarm-bench's program settings.
set -u
R=$OUT/c
mkdir -p $R
run() {
  echo "== $*" >> $R/config.log
  timeout 60 .dev/swarm run swarm-bench/programs/shootout-base64/shootout-base64.wasm --invoke run --args '{id}' --agents 65536 --tier compiled --show 0 "$@" 2>&1 | grep -E "GPU time|tier |instructions " >> $R/config.log
}
B="--stack-slots 2048 --call-frames 256"
run
run
run --slice 1099511627776
run $B
run $B
run $B --slice 1099511627776 --output-bytes 4 --max-globals 16 --max-table-elements 64 --max-results 1
run $B --slice 1099511627776 --output-bytes 4 --max-globals 16 --max-table-elements 64 --max-results 1
run --slice 1099511627776
cd $R && tar czf ../config.tgz . && cd .. && rm -rf $R
