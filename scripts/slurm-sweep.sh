#!/usr/bin/env bash
# A sweep as a Slurm job array: task i of N runs every N-th point from i, all tasks' CSVs are then
# merged into the unsharded output (rows ordered by point, byte for byte what one process writes).
#
#   sbatch --array=0-31 scripts/slurm-sweep.sh base.toml grid.toml results/   # 32 tasks
#   # when every task is done (or: sbatch --dependency=afterok:JOBID --wrap "..."):
#   megacluster sweep --merge results/shard-*.csv --out results.csv
#
# The same runs as a Kubernetes Indexed Job (completionMode: Indexed, completions: N) with
# `--shard $JOB_COMPLETION_INDEX/N`. Each point's seed comes from (seed, point), so the figures do
# not depend on how the points are split. Check every point first, once, before submitting:
#   megacluster sweep base.toml --grid grid.toml --check
#SBATCH --job-name=megacluster-sweep
#SBATCH --cpus-per-task=4
#SBATCH --time=01:00:00
#SBATCH --output=megacluster-sweep-%A_%a.log
set -euo pipefail
base=${1:?base scenario}
grid=${2:?grid file}
out=${3:-results}
n=${SLURM_ARRAY_TASK_COUNT:?run with sbatch --array=0-N}
i=${SLURM_ARRAY_TASK_ID:?run with sbatch --array=0-N}
# arrays numbered from 1 (--array=1-N) shift to 0-based shards
i=$((i - ${SLURM_ARRAY_TASK_MIN:-0}))
mkdir -p "$out"
export RAYON_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
megacluster sweep "$base" --grid "$grid" --shard "$i/$n" --out "$out/shard-$(printf %05d "$i").csv"
