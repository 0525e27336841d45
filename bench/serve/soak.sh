#!/usr/bin/env bash
# Soak test: N seconds (default 600) of mixed loopback traffic against `tern serve`: normal
# streams, clients that disconnect mid-stream, malformed requests. Afterwards the server must be
# alive, hold no KV pages, and its RSS must be flat (growth under 10% from warm-up to the end).
#   bench/serve/soak.sh [seconds]        (TERN_BIN=path: that tern binary instead of swift build)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
port=18183
if [ -n "${TERN_BIN:-}" ]; then tern=$TERN_BIN; else swift build -c release >/dev/null; tern=.build/release/tern; fi
"$tern" serve --port $port --threads 2 --log-level warning 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.2; done
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
# Warm up so allocator pools and caches reach steady state before the baseline.
python3 bench/serve/loadgen.py --base http://127.0.0.1:$port --rate 2 --requests 8 --max-tokens 32 >/dev/null
rss0=$(rss)
result=$(python3 bench/serve/loadgen.py --base http://127.0.0.1:$port --soak "$seconds" --rate "${RATE:-1.0}" --max-tokens 48 --time-limit 120)
sleep 2
status=$(curl -s "http://127.0.0.1:$port/status")
rss1=$(rss)
echo "soak: $result"
echo "status after: $status"
echo "rss: ${rss0} kB after warm-up, ${rss1} kB at the end"
kill -0 $pid
python3 - "$result" "$status" "$rss0" "$rss1" <<'PY'
import json, sys
r, s = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rss0, rss1 = int(sys.argv[3]), int(sys.argv[4])
problems = []
if r["errors"]: problems.append(f"{r['errors']} failed requests: {r['error_samples']}")
if s["running"] or s["waiting"]: problems.append(f"requests still running/waiting: {s}")
if s["kv_usage"] != 0: problems.append(f"KV pages leaked: usage {s['kv_usage']}")
if rss1 > rss0 * 1.10: problems.append(f"RSS grew {rss0} -> {rss1} kB")
print("soak: " + ("FAIL " + "; ".join(problems) if problems else f"ok ({r['requests']} requests: {r['by_kind']})"))
sys.exit(1 if problems else 0)
PY
