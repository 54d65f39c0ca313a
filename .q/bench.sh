#!/bin/bash
cd /work/main
B=build/release/benchmarks/des_benchmark
for f in 'Run/Ring/4096/' 'Run/TopK/4096/' 'Run/Hierarchical/4096/' 'Run/FatTree/4096/' \
         'Run/Ring/16384/' 'Run/TopK/16384/' 'Run/Hierarchical/16384/' 'Run/FatTree/16384/' \
         'Run/Ring/65536/' 'Run/TopK/65536/' 'Run/Hierarchical/65536/' 'Run/FatTree/65536/' 'SideBySide/.*/2048/' 'SideBySide/.*/(64|512)/'; do
  /usr/bin/time -f "wall %e s maxrss %M KB" timeout 900 $B --benchmark_filter="$f" 2>&1 | grep -E "^(Run|SideBySide)|wall"
done
