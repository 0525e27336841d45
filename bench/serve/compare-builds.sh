#!/usr/bin/env bash
# Serving throughput of two tern builds side by side (a refactor's before and after): both serve the
# same GGUF on loopback with the same threads; bench/serve/loadgen.py sends the same seeded Poisson
# load to one at a time, alternating which goes first per repetition.
#   bench/serve/compare-builds.sh BEFORE_BINARY AFTER_BINARY [REPETITIONS] [RATES]
# Prints one JSON line per run and a summary of median ratios (after / before).
set -euo pipefail
cd "$(dirname "$0")/../.."
before=$1; after=$2; reps=${3:-3}; rates=${4:-"4 16"}
threads=${THREADS:-2}
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$before" serve --port 18191 --threads "$threads" --log-level warning 2>/dev/null & p1=$!
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$after" serve --port 18192 --threads "$threads" --log-level warning 2>/dev/null & p2=$!
trap 'kill $p1 $p2 2>/dev/null || true' EXIT
for port in 18191 18192; do for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.2; done; done
out=$(mktemp)
for rep in $(seq 1 "$reps"); do
  for rate in $rates; do
    if [ $((rep % 2)) = 1 ]; then order="before after"; else order="after before"; fi
    for which in $order; do
      port=$([ "$which" = before ] && echo 18191 || echo 18192)
      r=$(python3 bench/serve/loadgen.py --base "http://127.0.0.1:$port" --rate "$rate" --requests 48 --max-tokens 64 --seed "$rep")
      echo "$rep $rate $which $r" | tee -a "$out"
    done
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    rep, rate, which, js = line.split(" ", 3)
    runs.setdefault((float(rate), which), []).append(json.loads(js))
for rate in sorted({k[0] for k in runs}):
    b, a = runs[(rate, "before")], runs[(rate, "after")]
    for key in ["throughput_tokens_per_s", "ttft_p50_s", "itl_p50_s", "e2e_p50_s"]:
        mb, ma = statistics.median(r[key] for r in b), statistics.median(r[key] for r in a)
        print(f"rate {rate:g}: {key} median before {mb:.3f}, after {ma:.3f}, after/before {ma / mb:.3f}")
    print(f"rate {rate:g}: errors before {sum(r['errors'] for r in b)}, after {sum(r['errors'] for r in a)}")
PY
