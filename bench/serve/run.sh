#!/usr/bin/env bash
# Serving benchmark: Tern's `tern serve` against llama.cpp's server (llama-cpp-python's
# `llama_cpp.server`) on the same GGUF, same threads, loopback only, Poisson arrivals.
#   bench/serve/run.sh [--quick] [--json FILE]
# Prints a table (stdout) and writes the shared reproduction-report JSON.
# Installs llama-cpp-python[server] itself (bench-only dependency). The benchmark command unsets
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for both servers (llama.cpp does not use OpenBLAS).
set -euo pipefail
cd "$(dirname "$0")/../.."
quick=0; out=.build/artifacts/bench-serve.json
while [ $# -gt 0 ]; do case "$1" in --quick) quick=1;; --json) out=$2; shift;; esac; shift; done
mkdir -p "$(dirname "$out")"
TERN_HOME=${TERN_HOME:-$HOME/.cache/tern}
model="$TERN_HOME/models/SmolLM2-135M-Instruct.Q4_1.gguf"
threads=${THREADS:-2}
swift build -c release >/dev/null
.build/release/tern pull smollm2-135m --quiet >/dev/null
python3 -c "import llama_cpp.server, uvicorn, fastapi, sse_starlette" 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check "llama-cpp-python[server]==0.3.36" >&2

if [ $quick = 1 ]; then rates="2 8"; requests=12; max_tokens=24; else rates="1 2 4 8 16"; requests=48; max_tokens=64; fi
tern_port=18181; llama_port=18182
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/tern serve --port $tern_port --threads $threads --log-level warning 2>/dev/null &
tern_pid=$!
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 -m llama_cpp.server --model "$model" --port $llama_port --n_threads $threads \
  --n_threads_batch $threads --n_ctx 4096 --model_alias smollm2-135m --interrupt_requests False >/dev/null 2>&1 &
llama_pid=$!
trap 'kill $tern_pid $llama_pid 2>/dev/null || true' EXIT
for port in $tern_port $llama_port; do
  for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/v1/models" && break; sleep 0.2; done
done
results=()
for rate in $rates; do
  # Alternate which server goes first; each run is separate, nothing else is sent meanwhile.
  for server in tern llama; do
    port=$([ $server = tern ] && echo $tern_port || echo $llama_port)
    r=$(python3 bench/serve/loadgen.py --base http://127.0.0.1:$port --rate "$rate" --requests $requests --max-tokens $max_tokens --seed 1)
    results+=("{\"server\": \"$server\", \"result\": $r}")
    echo "rate $rate $server: $r" >&2
  done
done
printf '%s\n' "${results[@]}" | python3 bench/serve/report.py "$threads" "$quick" > "$out"
python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{'rate':>5} {'server':>6} {'tok/s':>8} {'TTFT p50':>9} {'TTFT p99':>9} {'ITL p50':>8} {'ITL p99':>8} {'errors':>6}")
for row in r["results"]["runs"]:
    m = row["result"]
    f = lambda x: "-" if x is None else f"{x:.3f}"
    print(f"{m['rate']:>5} {row['server']:>6} {m['throughput_tokens_per_s']:>8.1f} {f(m['ttft_p50_s']):>9} {f(m['ttft_p99_s']):>9} {f(m['itl_p50_s']):>8} {f(m['itl_p99_s']):>8} {m['errors']:>6}")
for c in r["claims"]:
    print(f"{c['id']}: ours {c['ours']:.2f}{c['unit']} (target {c['paper']}) vs {c['baseline']}")
PY
