#!/usr/bin/env bash
# Measures data-parallel training on this machine: mpirun -np 1, 2 and 4 of
# kiln-mpi on the embedded Fashion-MNIST subset (seed CNN, 2 epochs, 32
# images per rank), with DDP's default buckets and with 64 KiB buckets, and
# prints each run's speed and its all-reduce line. docs/DISTRIBUTED.md's
# "Measured here" table comes from it.
#
#   bench/ddpscale/measure.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-$(mktemp -d)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
go build -tags mpi -o "$out/kiln-mpi" ./cmd/kiln
lscpu | grep -E '^(Model name|CPU family|Model|CPU\(s\)):' | tr -s ' '
for np in 1 2 4; do
  for kb in 0 64; do
    [ "$np" = 1 ] && [ "$kb" != 0 ] && continue
    name="np$np-kb$kb"
    mpirun --oversubscribe -np "$np" "$out/kiln-mpi" train --epochs 2 --batch-size 32 --workers 1 \
      --dist-bucket-kb "$kb" --out "$out/runs" --name "$name" >"$out/$name.log" 2>&1
    echo "== np $np, buckets ${kb:-0} KiB"
    grep -a -o -E "Epoch \[[^K]*img/s|data-parallel: .*|Test accuracy[^(]*" "$out/$name.log"
  done
done
go build -tags mpi -o "$out/allreduce" ./bench/ddpscale/allreduce
for np in 2 4; do
  echo "== all-reduce alone, np $np"
  mpirun --oversubscribe -np "$np" "$out/allreduce"
done
