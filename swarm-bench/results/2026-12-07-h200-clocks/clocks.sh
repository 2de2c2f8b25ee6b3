#!/usr/bin/env bash
# 1. GPU clocks during swarm-bench's timed runs, without (swarm-bench) and with
#    (swarm-bench-warm) a second of untimed runs before them: nvidia-smi samples every 20 ms.
# 2. A larger kernel built in the background: keccak and CoreMark, timed runs on it.
set -u
R=$OUT/k
mkdir -p $R
nvidia-smi -q -d PERFORMANCE,CLOCK > $R/smi-before.txt 2>&1
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,utilization.gpu,pstate,power.draw --format=csv,noheader -lms 20 > $R/clocks.csv 2>&1 &
K=$!
for b in swarm-bench swarm-bench-warm; do
  echo "$b loops $(date +%H:%M:%S.%N)" >> $R/marks.txt
  timeout 150 .dev/$b --sections throughput --agents 131072 --workloads xorshift,fib --tier compiled --out $R/loops-$b > $R/loops-$b.log 2>&1
  echo "$b programs $(date +%H:%M:%S.%N)" >> $R/marks.txt
  timeout 150 .dev/$b --sections programs --program-agents 65536 --tier compiled --programs shootout-gimli,shootout-base64 --out $R/programs-$b > $R/programs-$b.log 2>&1
done
echo "background $(date +%H:%M:%S.%N)" >> $R/marks.txt
export __GL_SHADER_DISK_CACHE=0
timeout 200 .dev/swarm-bench-warm --sections programs --program-agents 65536 --tier compiled --programs shootout-keccak,coremark --compile-background-instructions 12000 --compile-background-blocks 500 --out $R/background > $R/background.log 2>&1
echo "end $(date +%H:%M:%S.%N)" >> $R/marks.txt
kill $K
cd $R && tar czf ../clocks.tgz . && cd .. && rm -rf $R
