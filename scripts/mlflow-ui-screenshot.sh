#!/usr/bin/env bash
# Shows what a fer run looks like in the MLflow UI, as a researcher would see it: starts an MLflow
# server (the tests' virtualenv, scripts/mlflow-venv.sh) on a free local port, runs configs/demo.yaml
# against it, and takes headless Chromium screenshots (Debian's chromium package) of
#   experiment.png   the experiment's runs table: the parent with its child runs folded under it
#   parent.png       the parent run: description, params, metrics
#   child-metrics.png  a child run's per-epoch metric charts
#   confusion.png    the parent's confusion-matrix artifact
#   child-system-metrics.png  a child run's System metrics tab (CPU, memory, ... while it trained)
#   logged-model.png the ensemble as a logged model: its signature and artifacts
#   registered-model.png  its version in the Model Registry (tracking.register), with its tags
# into the folder given (default runs/screenshots). Needs: apt-get install chromium.
# docs/mlflow/ holds the ones the docs show: scripts/mlflow-ui-screenshot.sh docs/mlflow
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(realpath -m "${1:-runs/screenshots}")"
mkdir -p "$out"
./scripts/mlflow-venv.sh >/dev/null
venv="${FER_MLFLOW_VENV:-$HOME/.cache/fer/mlflow-venv}"
chromium="$(command -v chromium || command -v chromium-browser || true)"
[[ -n "$chromium" ]] || { echo "chromium not found: apt-get install chromium" >&2; exit 1; }

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
uri="http://127.0.0.1:$port"
"$venv/bin/mlflow" server --host 127.0.0.1 --port "$port" --workers 1 \
  --backend-store-uri "sqlite:///$work/mlflow.db" --artifacts-destination "$work/artifacts" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 120); do curl -sf "$uri/health" >/dev/null && break; sleep 1; done

# System metrics every 2 s, so a demo task's short training shows a curve.
MLFLOW_TRACKING_URI="$uri" ./bin/fer.js run configs/demo.yaml --runs "$work/runs" --json \
  --set tracking.register=fer-demo --set tracking.system_metrics_seconds=2 >"$work/run.json"
read -r experiment parent child model < <(python3 - "$uri" "$work/run.json" <<'PY'
import json, sys, urllib.request
uri, run = sys.argv[1], json.load(open(sys.argv[2]))
parent = run["tracking"]["parentRunId"]
info = json.load(urllib.request.urlopen(f"{uri}/api/2.0/mlflow/runs/get?run_id={parent}"))["run"]["info"]
body = json.dumps({"experiment_ids": [info["experiment_id"]], "filter": f"tags.`mlflow.parentRunId` = '{parent}'"}).encode()
request = urllib.request.Request(f"{uri}/api/2.0/mlflow/runs/search", body, {"content-type": "application/json"})
children = sorted(json.load(urllib.request.urlopen(request))["runs"], key=lambda r: r["info"]["run_name"])
body = json.dumps({"experiment_ids": [info["experiment_id"]]}).encode()
request = urllib.request.Request(f"{uri}/api/2.0/mlflow/logged-models/search", body, {"content-type": "application/json"})
models = [m["info"]["model_id"] for m in json.load(urllib.request.urlopen(request))["models"] if m["info"]["name"] == "ensemble"]
print(info["experiment_id"], parent, children[0]["info"]["run_id"], models[0])
PY
)

shot() {
  # The flags keep Chromium off the network (this machine's is closed) and give the page time to render.
  "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$work/chromium" --hide-scrollbars \
    --window-size=1600,1000 --virtual-time-budget=25000 --screenshot="$out/$1" "$2" 2>/dev/null
  echo "$out/$1  <-  $2"
}
shot experiment.png "$uri/#/experiments/$experiment/runs"
shot parent.png "$uri/#/experiments/$experiment/runs/$parent"
shot child-metrics.png "$uri/#/experiments/$experiment/runs/$child/model-metrics"
shot confusion.png "$uri/#/experiments/$experiment/runs/$parent/artifacts/ensemble/confusion-matrix.png"
shot child-system-metrics.png "$uri/#/experiments/$experiment/runs/$child/system-metrics"
shot logged-model.png "$uri/#/experiments/$experiment/models/$model"
shot registered-model.png "$uri/#/models/fer-demo/versions/1"
