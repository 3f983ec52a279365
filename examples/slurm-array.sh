#!/usr/bin/env bash
# Train configs/ensemble16.yaml's 64 tasks as a Slurm job array of 8 shards sharing one runs folder,
# then build the ensemble once they are all done.
#
#   sbatch examples/slurm-array.sh                 # the 8 shards (array tasks 1-8)
#   sbatch --dependency=afterok:<array job id> --wrap 'npx fer run configs/ensemble16.yaml --collect --runs "$FER_RUNS"'
#
# Each shard takes every 8th task (fer run --shard i/8): the split is deterministic, so a shard that
# fails can be resubmitted alone (sbatch --array=3 ...), and it resumes its tasks from their last
# epoch checkpoints. The runs folder must be on storage all nodes see.
#SBATCH --job-name=fer-ensemble16
#SBATCH --array=1-8
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --time=24:00:00
#SBATCH --output=fer-%A-%a.log
set -euo pipefail

: "${FER_RUNS:=$HOME/fer-runs}"          # shared by every shard
: "${FER_DATA:=$HOME/data/fer2013}"      # where fer2013-train-public.csv.gz is
export FER_DATA
cd "${FER_HOME:-$HOME/fer}"               # the fer checkout (npm install and npx fer setup native done once)

# One worker using all the cores Slurm gave this task.
npx fer run configs/ensemble16.yaml --shard "${SLURM_ARRAY_TASK_ID}/8" --workers 1 --runs "$FER_RUNS"
