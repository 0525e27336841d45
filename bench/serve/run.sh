#!/usr/bin/env bash
# Serving benchmark: Tern's `tern serve` against llama.cpp's own C++ `llama-server` (the baseline)
# and llama-cpp-python's `llama_cpp.server` (a second peer row), same GGUF, same threads, loopback.
#   bench/serve/run.sh [--quick] [--json FILE] [--fresh]
# Prints a table (stdout) and writes the shared reproduction-report JSON (default
# .build/artifacts/bench-serve.json, what `tern bench serve` reads).
#
# Two sweeps, each point run once per server, the servers' order rotating from point to point so
# they share the machine's drift: open-loop Poisson arrivals at several rates, and a closed loop of
# C clients (each sends its next request when its previous one finished), C = 1..64.
#
# Equal settings on both engines (see docs/serving.md for the reasoning):
#   running limit N = 64 (Tern's default --max-running)      llama-server -np 64 (64 slots)
#   KV capacity 16384 tokens, f16 K and V:  Tern --kv-memory 16384 x 23040 bytes (1024 pages of 16),
#                                           llama-server -c 16384 --no-kv-unified: 256 tokens per slot,
#                                           above the ~60-token prompt + 64 generated (no slot truncates)
#   step budget 512 tokens: Tern --max-batch-tokens 512     llama-server -b 512 -ub 512
#   continuous batching: Tern always; llama-server -cb (its default, passed explicitly)
#   threads: --threads T                                    -t T -tb T (T = $THREADS, default 2)
#   no host-RAM prompt cache beyond the KV: llama-server --cache-ram 0 (Tern's prefix cache lives in
#   its KV pages); --fit off so llama-server does not resize what is set here.
# llama-server comes from bench/llama-cpp/build (built once, cached). llama-cpp-python 0.3.36 (the
# same llama.cpp source) is pip-installed if missing; it serves one request at a time.
#
# Environment: TERN_BIN (a tern binary; default: swift build -c release), THREADS (2), TERN_HOME,
# QUIET_WAIT=0 (a full run starts without waiting for a quiet machine), KV_UNIFIED=1 (llama-server
# --kv-unified: one 16384-token cache all slots share, each slot up to all of it; a cross-check, not
# the default: split per-slot caches are llama-server's own default for an explicit -np),
# LLAMA_SERVER_ARGS (extra llama-server flags for a cross-check, e.g. "--poll 0"; recorded in the report).
# A full run keeps finished points in FILE's .partial.jsonl and resumes from them (--fresh: start over).
# The benchmark command unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for every server.
set -euo pipefail
cd "$(dirname "$0")/../.."
quick=0; out=.build/artifacts/bench-serve.json; fresh=0
while [ $# -gt 0 ]; do case "$1" in --quick) quick=1;; --json) out=$2; shift;; --fresh) fresh=1;; *) echo "unknown argument $1" >&2; exit 2;; esac; shift; done
mkdir -p "$(dirname "$out")"
TERN_HOME=${TERN_HOME:-$HOME/.cache/tern}
model="$TERN_HOME/models/SmolLM2-135M-Instruct.Q4_1.gguf"
threads=${THREADS:-2}
log() { echo "bench/serve: $*" >&2; }

# --- the settings both engines share ---
running=64                           # Tern's default running limit (EngineConfiguration.maxRunningSequences)
slot_ctx=256                         # llama-server tokens per slot: prompt (~60) + max_tokens (<= 64), with room
kv_tokens=$((running * slot_ctx))    # 16384 tokens on each side
kv_bytes_per_token=23040             # SmolLM2-135M f16 K+V: 2 x 30 layers x 192 (3 KV heads x 64) x 2 bytes
kv_bytes=$((kv_tokens * kv_bytes_per_token))   # 377487360 bytes = 360 MiB, the size llama-server reports
batch_tokens=512
kv_unified=${KV_UNIFIED:-0}
if [ "$kv_unified" = 1 ]; then kvu_flag=--kv-unified; else kvu_flag=--no-kv-unified; fi
if [ $quick = 1 ]; then
  rates="2 8"; poisson_requests=12; clients="1 4 16"; max_tokens=24; duration=60
else
  rates="1 2 4 8 16"; poisson_requests=48; clients="1 2 4 8 16 32 64"; max_tokens=64; duration=180
fi
closed_requests() { local c=$1 n; n=$((4 * c)); [ $quick = 1 ] && n=$((2 * c)); [ $n -lt 8 ] && n=8; echo $n; }

# --- binaries ---
if [ -n "${TERN_BIN:-}" ]; then tern=$TERN_BIN; else swift build -c release >/dev/null; tern=.build/release/tern; fi
"$tern" pull smollm2-135m --quiet >/dev/null
llama_bin=$(bench/llama-cpp/build)
python3 -c 'import llama_cpp, llama_cpp.server, uvicorn, fastapi, sse_starlette, sys; sys.exit(llama_cpp.__version__ != "0.3.36")' 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check "llama-cpp-python[server]==0.3.36" >&2

# A full run waits (up to 10 minutes) for the 1-minute load average to drop below 0.5, as
# bench/speed/run.sh does: llama.cpp's worker threads spin-wait between steps (OpenMP build), and in
# the noisy quick runs llama-server lost much more than Tern whenever another process held a core.
# QUIET_WAIT=0 skips the wait.
if [ $quick = 0 ] && [ "${QUIET_WAIT:-1}" != 0 ]; then
  for _ in $(seq 1 120); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    awk -v l="$load" 'BEGIN { exit !(l < 0.5) }' && break
    log "waiting for a quiet machine (load $load)"; sleep 5
  done
fi

tern_port=18181; llama_server_port=18182; llama_py_port=18184   # soak.sh uses 18183
logs=$(dirname "$out")
tern_cmd=("$tern" serve --port $tern_port --threads "$threads" --max-running $running --kv-memory $kv_bytes
          --max-batch-tokens $batch_tokens --log-level info)
llama_server_cmd=("$llama_bin/llama-server" -m "$model" --host 127.0.0.1 --port $llama_server_port -a smollm2-135m
                  -np $running -c $kv_tokens $kvu_flag -cb -t "$threads" -tb "$threads" -b $batch_tokens -ub $batch_tokens
                  --cache-ram 0 --fit off --no-webui ${LLAMA_SERVER_ARGS:-})
llama_py_cmd=(python3 -m llama_cpp.server --model "$model" --host 127.0.0.1 --port $llama_py_port --model_alias smollm2-135m
              --n_threads "$threads" --n_threads_batch "$threads" --n_ctx $kv_tokens --n_batch $batch_tokens --n_ubatch $batch_tokens
              --flash_attn True --interrupt_requests False --verbose False)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${tern_cmd[@]}" >"$logs/bench-serve-tern.log" 2>&1 & pids+=($!)
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${llama_server_cmd[@]}" >"$logs/bench-serve-llama-server.log" 2>&1 & pids+=($!)
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${llama_py_cmd[@]}" >"$logs/bench-serve-llama-cpp-python.log" 2>&1 & pids+=($!)
# Ready when each answers: Tern's and llama-server's /health (200 once the model is loaded),
# llama-cpp-python's /v1/models.
for url in http://127.0.0.1:$tern_port/health http://127.0.0.1:$llama_server_port/health http://127.0.0.1:$llama_py_port/v1/models; do
  ok=0
  for _ in $(seq 1 600); do curl -sf -o /dev/null "$url" && { ok=1; break; }; sleep 0.2; done
  [ $ok = 1 ] || { log "no answer from $url; see $logs/bench-serve-*.log"; exit 1; }
done

# Check that both engines got the KV capacity asked for.
tern_pages=$(curl -s "http://127.0.0.1:$tern_port/status" | python3 -c 'import json, sys; print(json.load(sys.stdin)["kv_pages"])')
[ $((tern_pages * 16)) = $kv_tokens ] || { log "tern has $tern_pages KV pages of 16, not $kv_tokens tokens"; exit 1; }
read -r llama_slots llama_slot_ctx < <(curl -s "http://127.0.0.1:$llama_server_port/props" \
  | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["total_slots"], d["default_generation_settings"]["n_ctx"])')
# Split KV: exactly kv_tokens / slots per slot. Unified: up to the whole cache (capped at the model's trained context).
[ "$llama_slots" = $running ] && { [ "$kv_unified" = 1 ] || [ "$llama_slot_ctx" = $slot_ctx ]; } && [ "$llama_slot_ctx" -ge $slot_ctx ] \
  || { log "llama-server has $llama_slots slots of $llama_slot_ctx tokens, not $running of $slot_ctx"; exit 1; }

versions=$(python3 - "$tern" "$llama_bin/llama-server" <<'PY'
import json, subprocess, sys
def first(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return next((l for l in (r.stdout + r.stderr).splitlines() if l.strip()), "?").strip()
import hashlib, llama_cpp
print(json.dumps({"tern": first([sys.argv[1], "--version"]), "tern_sha256": hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()[:16],
                  "llama-server": first([sys.argv[2], "--version"]), "llama-cpp-python": llama_cpp.__version__}))
PY
)
settings=$(QUICK=$quick THREADS_=$threads MAX_TOKENS=$max_tokens RUNNING=$running KV_TOKENS=$kv_tokens KV_BYTES=$kv_bytes \
  SLOT_CTX=$llama_slot_ctx KVU=$kv_unified BATCH=$batch_tokens RATES="$rates" POISSON_REQUESTS=$poisson_requests CLIENTS="$clients" DURATION=$duration \
  VERSIONS="$versions" TERN_CMD="${tern_cmd[*]}" LLAMA_SERVER_CMD="${llama_server_cmd[*]}" LLAMA_PY_CMD="${llama_py_cmd[*]}" python3 - <<'PY'
import json, os
e = os.environ
home = os.path.expanduser("~")
cmd = lambda k: e[k].replace(home, "~")
print(json.dumps({
    "quick": e["QUICK"] == "1", "threads": int(e["THREADS_"]), "prompt_words": 60, "max_tokens": int(e["MAX_TOKENS"]),
    "temperature": 0.8, "running_limit": int(e["RUNNING"]), "kv_tokens": int(e["KV_TOKENS"]), "kv_bytes": int(e["KV_BYTES"]),
    "kv_type": "f16 K and V on both", "llama_server_slot_ctx": int(e["SLOT_CTX"]), "llama_server_kv_unified": e["KVU"] == "1",
    "batch_tokens": int(e["BATCH"]), "poisson_rates": [float(x) for x in e["RATES"].split()],
    "poisson_requests": int(e["POISSON_REQUESTS"]), "closed_clients": [int(x) for x in e["CLIENTS"].split()],
    "closed_requests": "4 x clients, at least 8" if e["QUICK"] != "1" else "2 x clients, at least 8",
    "closed_duration_s": float(e["DURATION"]), "order": "each point runs every server once; the order rotates from point to point",
    "commands": {"tern": cmd("TERN_CMD"), "llama-server": cmd("LLAMA_SERVER_CMD"), "llama-cpp-python": cmd("LLAMA_PY_CMD")},
    "versions": json.loads(e["VERSIONS"]), "load_before": open("/proc/loadavg").read().split()[:3],
}))
PY
)

# Finished points of an interrupted full run are kept and reused when the settings match.
partial="${out%.json}.partial.jsonl"
[ $quick = 1 ] && partial=$(mktemp)   # a quick run never resumes, nor touches a full run's points
sig=$(printf '%s' "$settings" | python3 -c 'import json, sys; s = json.load(sys.stdin); s.pop("load_before"); print(json.dumps(s, sort_keys=True))' | sha256sum | cut -c1-16)
if [ $fresh = 1 ] || [ $quick = 1 ] || [ ! -s "$partial" ] || [ "$(head -1 "$partial")" != "{\"sig\": \"$sig\"}" ]; then
  echo "{\"sig\": \"$sig\"}" > "$partial"
else
  log "resuming: $(($(wc -l < "$partial") - 1)) points already measured in $partial"
fi
done_point() { grep -q "\"key\": \"$1\"" "$partial"; }

base_of() { case $1 in tern) echo http://127.0.0.1:$tern_port;; llama-server) echo http://127.0.0.1:$llama_server_port;; llama-cpp-python) echo http://127.0.0.1:$llama_py_port;; esac; }
servers=(tern llama-server llama-cpp-python)
for s in "${servers[@]}"; do  # warm-up, not measured
  python3 bench/serve/loadgen.py --base "$(base_of $s)" --clients 2 --requests 4 --max-tokens 8 --seed 99 >/dev/null
done

point=0
run_point() {  # mode x loadgen-arguments...
  local mode=$1 x=$2; shift 2
  local k order=()
  for k in 0 1 2; do order+=("${servers[$(((point + k) % 3))]}"); done
  point=$((point + 1))
  for s in "${order[@]}"; do
    local key="$mode $x $s"
    if done_point "$key"; then continue; fi
    r=$(python3 bench/serve/loadgen.py --base "$(base_of $s)" --max-tokens $max_tokens "$@")
    echo "{\"key\": \"$key\", \"server\": \"$s\", \"mode\": \"$mode\", \"x\": $x, \"result\": $r}" >> "$partial"
    log "$key: $(python3 -c 'import json, sys; m = json.loads(sys.argv[1]); print("%.1f tok/s, %d requests, %d errors, %.1f s" % (m["throughput_tokens_per_s"], m["requests"], m["errors"], m["wall_s"]))' "$r")"
  done
}
for rate in $rates; do run_point poisson "$rate" --rate "$rate" --requests $poisson_requests --seed 1; done
for c in $clients; do run_point closed "$c" --clients "$c" --requests "$(closed_requests "$c")" --duration $duration --seed 2; done

tail -n +2 "$partial" | python3 bench/serve/report.py "$settings" > "$out"
rm -f "$partial"
python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f = lambda x: "-" if x is None else f"{x:.3f}"
print(f"{'mode':>7} {'point':>6} {'server':>16} {'tok/s':>7} {'req/s':>6} {'TTFT p50':>9} {'TTFT p99':>9} {'ITL p50':>8} {'ITL p99':>8} {'tok/req':>7} {'errors':>6}")
for row in r["results"]["runs"]:
    m = row["result"]
    point = f"{row['x']:g}/s" if row["mode"] == "poisson" else f"{row['x']}c"
    tpr = "-" if m.get("mean_tokens_per_request") is None else f"{m['mean_tokens_per_request']:.1f}"
    print(f"{row['mode']:>7} {point:>6} {row['server']:>16} {m['throughput_tokens_per_s']:>7.1f} {m['requests_per_s']:>6.2f} {f(m['ttft_p50_s']):>9} "
          f"{f(m['ttft_p99_s']):>9} {f(m['itl_p50_s']):>8} {f(m['itl_p99_s']):>8} {tpr:>7} {m['errors']:>6}")
for c in r["claims"]:
    ours = "-" if c["ours"] is None else f"{c['ours']:.2f}{c['unit']}"
    print(f"{c['id']} ({c['setting']}): Tern / {c['baseline'].split(' (')[0]} = {ours}, {c['better']} is better; {c['note']}")
PY
