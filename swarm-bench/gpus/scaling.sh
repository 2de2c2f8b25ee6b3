#!/usr/bin/env bash
# Throughput against the number of GPUs: xorshift and the real programs of ../programs/, with
# the same agents on every GPU (so the ideal is a flat run time and linear throughput), on 1,
# 2, 4 and 8 GPUs, as many as the host has. Each run is `swarm run --devices N`; the table
# gives the instructions, the longest device's GPU time, the run's wall time (spawn excluded)
# and the throughput over each, against one GPU's.
#
#   S=target/release/swarm OUT=/tmp/gpus swarm-bench/gpus/scaling.sh
#
# Every workload runs on the compiled tier, its kernel built before the timed run.
# GPUS="1 2 4 8" picks the counts (by default those up to the host's NVIDIA GPUs, as
# `nvidia-smi -L` lists them; all of them without nvidia-smi, where --devices beyond the host's
# GPUs opens several logical devices of each, which tests the script but measures nothing);
# PER_GPU=65536 the agents on each GPU; PROGRAMS the real programs (default: all of them).
set -u
S=${S:-swarm}
R=${OUT:?set OUT to a directory for the results}/gpus
PER=${PER_GPU:-65536}
mkdir -p "$R"
here=$(cd "$(dirname "$0")/.." && pwd)
counts=${GPUS:-1 2 4 8}
if command -v nvidia-smi > /dev/null; then
  have=$(nvidia-smi -L | grep -c '^GPU')
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > "$R/gpus.txt" 2>&1
  counts=$(for n in $counts; do [ "$n" -le "$have" ] && echo "$n"; done)
fi
nproc >> "$R/gpus.txt"
programs=${PROGRAMS:-$(cd "$here/programs" && ls -d */ | tr -d / | while read -r p; do
  [ -f "$p/$p.wasm" ] && echo "$p"; done)}

table="$R/scaling.md"
echo "| workload | GPUs | agents | instructions | GPU time | run wall | instr/s (GPU) | instr/s (wall) | wall scaling |" > "$table"
echo "|---|---|---|---|---|---|---|---|---|" >> "$table"

# One run: workload name, then the `swarm run` arguments without --agents and --devices.
measure() {
  local name=$1 one=""
  shift
  # A run first so that no measured run pays for building the kernels (drivers keep built
  # shaders in their disk caches, and swarm in its pipeline cache).
  $S run "$@" --agents 1 --show 0 > /dev/null 2>&1
  for n in $counts; do
    local agents=$((n * PER)) log="$R/$name-$n.txt"
    $S run "$@" --agents "$agents" --devices "$n" --show 0 > "$log" 2>&1
    awk -v name="$name" -v n="$n" -v agents="$agents" -v one="$one" '
      function ms(text) { gsub(/,/, "", text); return text / 1e3 }
      /^  instructions/ { gsub(/,/, "", $2); instr = $2 }
      /^  GPU time/ { gpu = ms($3) }
      /^  wall time/ { sub(/.*run /, ""); sub(/ ms.*/, ""); wall = ms($0) }
      /^  trapped/ { trapped = $2 }
      END {
        if (instr == "" || wall == 0) { printf "| %s | %d | %d | run failed: see %s-%d.txt | | | | | |\n", name, n, agents, name, n; exit }
        rate = instr / wall
        printf "| %s | %d | %d | %.3e | %.3f s | %.3f s | %.3e | %.3e | %s |\n", name, n, agents,
          instr, gpu, wall, (gpu > 0 ? instr / gpu : 0), rate,
          (one == "" ? "1.00x" : sprintf("%.2fx", rate / one))
        if (trapped != "0") printf "| %s | %d | | %s agents trapped | | | | | |\n", name, n, trapped
      }' "$log" >> "$table"
    # The first count's wall rate is the base of the scaling column.
    if [ -z "$one" ]; then
      one=$(awk '/^  instructions/ { gsub(/,/, "", $2); i = $2 }
                 /^  wall time/ { sub(/.*run /, ""); sub(/ ms.*/, ""); gsub(/,/, ""); w = $0 / 1e3 }
                 END { if (w > 0) printf "%.6e", i / w }' "$log")
    fi
  done
}

measure xorshift "$here/src/xorshift.wat" --invoke xorshift --args '{id},10000' --tier compiled
for p in $programs; do
  measure "$p" "$here/programs/$p/$p.wasm" --invoke run --args '{id}' --tier compiled
done
cat "$table"
