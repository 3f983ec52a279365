#!/usr/bin/env bash
# A config's tasks as a Slurm job array of shards sharing one runs folder, then one job that builds
# the ensemble once every shard has succeeded. Submit both from the fer checkout (npm install and
# npx fer setup native done once), e.g. for configs/ensemble16.yaml's 64 tasks in 8 shards:
#
#   array=$(sbatch --parsable --array=1-8 examples/slurm-array.sh configs/ensemble16.yaml)
#   sbatch --dependency=afterok:${array%;*} --kill-on-invalid-dep=yes examples/slurm-array.sh configs/ensemble16.yaml --collect
#
# Array task i runs `fer run <config> --shard i/n --workers 1` (n: the array's size), the second job
# `fer run <config> --collect`; both write to $FER_RUNS (default ~/fer-runs), which must be on
# storage every node sees, and take the further `fer run` options given after the config. Give both
# jobs the same ones: `--set`s are part of the run's identity. sbatch passes the environment on,
# so FER_DATA and MLFLOW_TRACKING_URI set where you submit reach the jobs.
#
# The split is deterministic: a shard that failed can be resubmitted alone, with the number of
# shards, and it resumes its tasks from their last epoch checkpoints:
#
#   sbatch --array=3 --export=ALL,FER_SHARDS=8 examples/slurm-array.sh configs/ensemble16.yaml
#
# A task's numbers depend on its TensorFlow threads: engine.threads, else the cores the node shows.
# Where nodes differ, set engine.threads in the config (or --set it for both jobs).
# The resources below suit ensemble16's shards; options given to sbatch take precedence.
#SBATCH --job-name=fer
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --time=24:00:00
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: sbatch --array=1-N examples/slurm-array.sh <config> [fer run options]   (or <config> --collect [...])" >&2
  exit 2
fi
config=$1
shift
runs=${FER_RUNS:-$HOME/fer-runs}
# sbatch starts the job where it was submitted, but runs a copy of this script kept by Slurm.
cd "${FER_HOME:-${SLURM_SUBMIT_DIR:-.}}"
fer=./bin/fer.js

for option in "$@"; do
  if [[ $option == --collect ]]; then
    exec "$fer" run "$config" --runs "$runs" "$@"
  fi
done

if [[ -z ${SLURM_ARRAY_TASK_ID:-} ]]; then
  echo "slurm-array.sh: not a job array task: submit it with sbatch --array=1-N (or give --collect)" >&2
  exit 2
fi
shards=${FER_SHARDS:-}
if [[ -z $shards ]]; then
  # The array's size is the number of shards only when the array is 1..N: a part of one (a shard
  # resubmitted alone) must say how many there are.
  if [[ $SLURM_ARRAY_TASK_MIN != 1 || $SLURM_ARRAY_TASK_MAX != "$SLURM_ARRAY_TASK_COUNT" ]]; then
    echo "slurm-array.sh: array $SLURM_ARRAY_TASK_MIN-$SLURM_ARRAY_TASK_MAX is not 1-N: set the number of shards, e.g. sbatch --export=ALL,FER_SHARDS=8 ..." >&2
    exit 2
  fi
  shards=$SLURM_ARRAY_TASK_COUNT
fi
# One worker using the cores Slurm gave this task.
exec "$fer" run "$config" --shard "$SLURM_ARRAY_TASK_ID/$shards" --workers 1 --runs "$runs" "$@"
