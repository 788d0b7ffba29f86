#!/bin/sh
# SPDX-License-Identifier: MIT
# The worked example of docs/lab.md#scale-out, end to end on this machine:
# three generated traces, six policies, a job list, the jobs run in parallel
# (GNU parallel if installed, else tools/parallel/run-jobs), the parts merged
# into one report.
#
#   tools/parallel/example.sh [PFLAB] [DIR]   (defaults: build/pflab, build/scale-out)
set -eu

PFLAB=${1:-build/pflab}
DIR=${2:-build/scale-out}
HERE=$(dirname "$0")
mkdir -p "$DIR"

# 1. Three traces of different shapes and formats.
"$PFLAB" trace gen zipf --pages 20000 --refs 400000 --alpha 0.9 --seed 1 -o "$DIR/zipf.pft"
"$PFLAB" trace gen loop --pages 3000 --refs 300000 --format txt -o "$DIR/loop.txt"
"$PFLAB" trace gen phases --seed 2 -o "$DIR/scans.pft" \
	--phases 'zipf:0.9:4000:100000,seq:10000:10000,zipf:0.9:4000:100000@0'

# 2. The matrix as a job list (and a Slurm script beside it): no job runs yet.
"$PFLAB" compare --trace "$DIR/zipf.pft" --trace "$DIR/loop.txt" --trace "$DIR/scans.pft" \
	--policy fifo,lru,clock,arc,lirs,2q --frames 256:16384:x2 \
	--out "$DIR/out" --emit-jobs "$DIR/jobs.txt"

# 3. Run them: here on every core; on a cluster, `sbatch $DIR/jobs.slurm`
#    or `parallel --sshlogin host1,host2 < $DIR/jobs.txt` instead.
if command -v parallel >/dev/null 2>&1; then
	parallel <"$DIR/jobs.txt"
else
	"$HERE/run-jobs" "$DIR/jobs.txt"
fi

# 4. Join the parts into one report.
"$PFLAB" compare --merge "$DIR"/out/parts/* --out "$DIR/out"
echo "example: open $DIR/out/report.md"
