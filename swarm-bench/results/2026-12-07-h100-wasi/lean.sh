#!/usr/bin/env bash
# The issue-14 figures in the least device time: swarm-bench/wasi/measure.sh's first parts.
S=.dev/swarm
R=$OUT/wasi; mkdir -p $R
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $R/gpu.txt 2>&1
P=swarm-bench/wasi/printing
for p in quiet printing; do
  echo "== $p, gathered" >> $R/log.txt
  ( time $S run $P/$p.wasm --agents 65536 --arg '{id}' --show 0 ) >> $R/log.txt 2>&1
done
echo "== printing, on the host" >> $R/log.txt
( time $S run $P/printing.wasm --agents 65536 --arg '{id}' --show 0 --output-bytes 4 ) >> $R/log.txt 2>&1
for mode in "" "--output-bytes 4"; do
  $S run $P/printing.wasm --agents 4096 --arg '{id}' --json $mode \
    | sed 's/"instructions":[0-9]*,"fuel":[0-9]*,//' | md5sum >> $R/printing-md5.txt
done
CM="swarm-bench/wasi/coremark-posix/coremark-posix.wasm --agents 65536 --arg 0x0 --arg 0x0 --arg 0x66 --arg 4"
echo "== coremark" >> $R/log.txt
( time $S run $CM --show 1 ) >> $R/log.txt 2>&1
$S run $CM --json > $R/coremark.jsonl
echo "coremark: $(wc -l < $R/coremark.jsonl) agents, $(grep -c 'Correct operation validated' $R/coremark.jsonl) validated" >> $R/log.txt
sed -e 's/Total ticks *: [0-9]*//' -e 's/Total time (secs): [0-9.]*//' -e 's/Iterations\/Sec *: [0-9.]*//' \
    -e 's/"instructions":[0-9]*,"fuel":[0-9]*,//' -e 's/"agent":[0-9]*,//' $R/coremark.jsonl \
  | sort | uniq -c | sort -rn | cut -c1-3000 > $R/coremark-distinct.txt
rm $R/coremark.jsonl
