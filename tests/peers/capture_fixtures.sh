#!/usr/bin/env bash
# Captures the real payloads in tests/fixtures/ from real peers: the prometheus_client
# app (tests/peers/instrumented_app.py) and Prometheus itself (Debian's `prometheus`).
# Everything listens on 127.0.0.1 on free ports and is stopped by its PID on exit.
#
# Needs: .venv with prometheus_client (python3 -m venv .venv && .venv/bin/pip install
# prometheus_client) and `prometheus` on PATH (apt-get install -y prometheus).
# Usage: tests/peers/capture_fixtures.sh   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fixtures
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "timeout: $1" >&2; return 1; }

.venv/bin/python tests/peers/instrumented_app.py --port-file "$work/app.port" >"$work/app.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/app.port" ] && break; sleep 0.1; done
app="http://127.0.0.1:$(cat "$work/app.port")"
wait_for "$app/metrics"
drive() { curl -fsS -o /dev/null "$app/drive?handler=$1&latency=$2&status=$3&count=$4"; }
om='Accept: application/openmetrics-text; version=1.0.0; charset=utf-8'

# Traffic A, then the first scrape in both formats.
drive /api 0.03 200 10; drive /api 0.03 500 2; drive /slow 0.6 200 5
curl -fsS "$app/metrics" >"$out/prometheus_client_1.txt"
curl -fsS -H "$om" "$app/metrics" >"$out/prometheus_client_1.om.txt"
# Traffic B (the increases the tests expect), then the second scrape.
drive /api 0.02 200 100; drive /api 0.2 503 20; drive /slow 1.5 200 10; drive /new 0.004 200 4
curl -fsS "$app/metrics" >"$out/prometheus_client_2.txt"
curl -fsS -H "$om" "$app/metrics" >"$out/prometheus_client_2.om.txt"

# Prometheus scraping the app every second.
prom_port=$(free_port)
cat >"$work/prometheus.yml" <<YAML
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: app
    static_configs: [{ targets: ["127.0.0.1:$(cat "$work/app.port")"] }]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$prom_port" --web.cors.origin='.*' >"$work/prom.log" 2>&1 &
pids+=($!)
prom="http://127.0.0.1:$prom_port"
wait_for "$prom/-/ready"
for _ in $(seq 12); do
    drive /api 0.02 200 50; drive /api 0.3 500 5; drive /slow 0.8 200 10
    sleep 1
done
curl -fsS "$prom/metrics" >"$out/prometheus_self.txt"
# Prometheus 2.42 answers text 0.0.4 even when asked for OpenMetrics, so the format
# must come from the response's Content-Type, not from what was asked for.
q() { curl -sS -G "$prom/api/v1/$1" --data-urlencode "query=$2" "${@:3}"; }
end=$(date +%s)
q query 'sum by (handler) (rate(http_requests_total[5s]))' >"$out/query_vector.json"
q query 'histogram_quantile(0.95, sum by (handler, le) (rate(http_request_duration_seconds_bucket[5s])))' >"$out/query_p95.json"
q query 'scalar(sum(http_requests_total))' >"$out/query_scalar.json"
q query 'sum by (handler) (rate(http_requests_total[5s' >"$out/query_error.json" || true
q query_range 'sum by (handler) (rate(http_requests_total[5s]))' \
    --data-urlencode "start=$((end - 8))" --data-urlencode "end=$end" --data-urlencode step=1 \
    >"$out/query_range_matrix.json"
python3 tests/peers/spec_dashboard.py --print >"$out/dashboard_python.json"
echo "captured into $out"
