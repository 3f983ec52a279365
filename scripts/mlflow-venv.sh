#!/usr/bin/env bash
# Installs the MLflow tracking server for the integration tests into a virtualenv outside the
# repository (default ~/.cache/fer/mlflow-venv, or $FER_MLFLOW_VENV), from PyPI. A second run with
# the same requirements takes a second: the venv records which requirements it was built from.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${FER_MLFLOW_VENV:-$HOME/.cache/fer/mlflow-venv}"
requirements="$here/mlflow-requirements.txt"
stamp="$venv/.fer-requirements"
if [[ -x "$venv/bin/mlflow" && -f "$stamp" ]] && cmp -s "$requirements" "$stamp"; then
  echo "mlflow: $("$venv/bin/mlflow" --version) in $venv (cached)"
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
echo "mlflow: $("$venv/bin/mlflow" --version) in $venv"
