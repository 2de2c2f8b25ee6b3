#!/usr/bin/env bash
# WASI figures on the device: CoreMark's posix build at 65,536 agents, and a printing
# program against the same program without printing.
set -u
S=.dev/swarm
R=$OUT/r
mkdir -p $R
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $R/gpu.txt 2>&1
nproc >> $R/gpu.txt
CM="swarm-bench/wasi/coremark-posix/coremark-posix.wasm --agents 65536 --arg 0x0 --arg 0x0 --arg 0x66 --arg 4"
echo "== coremark summary" >> $R/log.txt
( time $S run $CM --show 2 ) >> $R/log.txt 2>&1
echo "== coremark json" >> $R/log.txt
( time $S run $CM --json > $R/coremark.jsonl ) >> $R/log.txt 2>&1
echo "lines $(wc -l < $R/coremark.jsonl)" >> $R/log.txt
echo "validated $(grep -c 'Correct operation validated' $R/coremark.jsonl)" >> $R/log.txt
grep -o '"exit_code":[^,]*' $R/coremark.jsonl | sort | uniq -c >> $R/log.txt
grep -o '"trap":[^,]*' $R/coremark.jsonl | sort | uniq -c >> $R/log.txt
# Each agent's report without its timing lines: how many distinct reports.
sed -e 's/Total ticks *: [0-9]*//' -e 's/Total time (secs): [0-9.]*//' -e 's/Iterations\/Sec *: [0-9.]*//' \
    -e 's/"instructions":[0-9]*,"fuel":[0-9]*,//' -e 's/"agent":[0-9]*,//' $R/coremark.jsonl | sort | uniq -c | sort -rn | cut -c1-3000 > $R/coremark-distinct.txt
head -c 3000 $R/coremark.jsonl > $R/coremark-first.txt
gzip -9 $R/coremark.jsonl
for p in quiet printing quiet printing; do
  echo "== $p" >> $R/log.txt
  ( time $S run swarm-bench/wasi/printing/$p.wasm --agents 65536 --arg '{id}' --show 1 ) >> $R/log.txt 2>&1
done
for p in quiet printing; do
  echo "== $p interpreter" >> $R/log.txt
  ( time $S run swarm-bench/wasi/printing/$p.wasm --agents 65536 --arg '{id}' --show 0 --tier interpreter ) >> $R/log.txt 2>&1
done
ls -la $R >> $R/log.txt
