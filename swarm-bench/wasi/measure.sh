#!/usr/bin/env bash
# The WASI figures, on a machine with the GPU to measure: a printing program against the same
# program without printing, its writes gathered on the GPU (the default) and all answered on
# the host (--output-bytes 4: no record fits); CoreMark's posix build at 65,536 agents with
# each agent's report; and the real programs' WASI builds, many agents each, every agent's
# ending, stdout and stderr counted by distinct value (one value each, equal to wasmtime's,
# is the expected result).
#
#   S=target/release/swarm OUT=/tmp/wasi-figures swarm-bench/wasi/measure.sh
set -u
S=${S:-swarm}
R=${OUT:?set OUT to a directory for the results}/wasi
mkdir -p "$R"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > "$R/gpu.txt" 2>&1
nproc >> "$R/gpu.txt"
P=swarm-bench/wasi/printing
for p in quiet printing; do
  echo "== $p, gathered" >> "$R/log.txt"
  ( time $S run $P/$p.wasm --agents 65536 --arg '{id}' --show 0 ) >> "$R/log.txt" 2>&1
done
echo "== printing, on the host" >> "$R/log.txt"
( time $S run $P/printing.wasm --agents 65536 --arg '{id}' --show 0 --output-bytes 4 ) \
  >> "$R/log.txt" 2>&1
# The same stdout either way, agent by agent.
for mode in "" "--output-bytes 4"; do
  $S run $P/printing.wasm --agents 4096 --arg '{id}' --json $mode \
    | sed 's/"instructions":[0-9]*,"fuel":[0-9]*,//' | md5sum >> "$R/printing-md5.txt"
done
CM="swarm-bench/wasi/coremark-posix/coremark-posix.wasm --agents 65536 --arg 0x0 --arg 0x0 --arg 0x66 --arg 4"
echo "== coremark" >> "$R/log.txt"
( time $S run $CM --show 1 ) >> "$R/log.txt" 2>&1
$S run $CM --json > "$R/coremark.jsonl"
echo "coremark: $(wc -l < "$R/coremark.jsonl") agents, $(grep -c 'Correct operation validated' "$R/coremark.jsonl") validated" >> "$R/log.txt"
# Each agent's report without its timing lines, by distinct value.
sed -e 's/Total ticks *: [0-9]*//' -e 's/Total time (secs): [0-9.]*//' -e 's/Iterations\/Sec *: [0-9.]*//' \
    -e 's/"instructions":[0-9]*,"fuel":[0-9]*,//' -e 's/"agent":[0-9]*,//' "$R/coremark.jsonl" \
  | sort | uniq -c | sort -rn | cut -c1-3000 > "$R/coremark-distinct.txt"
rm "$R/coremark.jsonl"
for p in shootout/base64:4096 shootout/gimli:4096 shootout/keccak:4096 shootout/xchacha20:4096 \
         polybench/gemm:4096 polybench/jacobi-2d:4096 polybench/seidel-2d:4096 \
         polybench/floyd-warshall:4096 shootout/heapsort:256 shootout/ed25519:256; do
  name=${p%%:*}; n=${p##*:}; f=${name/\//-}
  echo "== $name, $n agents" >> "$R/log.txt"
  run="$S run swarm-bench/wasi/$name.wasm --agents $n --default-values-unknown-imports --max-memory-pages 16"
  ( time $run --show 0 ) >> "$R/log.txt" 2>&1
  $run --json | sed -e 's/^{"agent":[0-9]*,//' -e 's/"instructions":[0-9]*,"fuel":[0-9]*,//' \
    | sort | uniq -c > "$R/$f.distinct"
done
