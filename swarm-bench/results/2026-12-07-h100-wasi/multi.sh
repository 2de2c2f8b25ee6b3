#!/usr/bin/env bash
# On the GPU machine: the same JSON from one device and from two logical devices of the GPU.
S=.dev/swarm
R=$OUT/multi; mkdir -p $R
for d in 1 2 3; do
  ( time $S run swarm-bench/src/xorshift.wat --invoke xorshift --args '{id},1000' --agents 131072 --tier compiled --devices $d --json ) 2> $R/time-$d.txt | md5sum > $R/md5-$d.txt
done
$S run swarm-bench/programs/shootout-gimli/shootout-gimli.wasm --invoke run --args '{id}' --agents 65536 --devices 2 --show 2 > $R/gimli-2.txt 2>&1
$S run swarm-bench/programs/shootout-gimli/shootout-gimli.wasm --invoke run --args '{id}' --agents 65536 --json | md5sum > $R/gimli-md5-1.txt
$S run swarm-bench/programs/shootout-gimli/shootout-gimli.wasm --invoke run --args '{id}' --agents 65536 --json --devices 2 | md5sum > $R/gimli-md5-2.txt
head -50 $R/*.txt
