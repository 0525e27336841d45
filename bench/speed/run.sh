#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/speed/run.sh: Tern against llama.cpp on SmolLM2-135M Q4_1, same GGUF, same threads, same token
# ids, greedy. Prints the table and writes the reproduction report to bench/speed/result.json.
#
#   bench/speed/run.sh [--repetitions N] [--threads 1,2] [--keep-openblas-env] [tern bench speed arguments...]
#
# It installs llama-cpp-python 0.3.36 for the baseline if missing (a benchmark-only tool, never a
# dependency of Tern), builds tern in release mode, waits until the machine is quiet, then runs
# `tern bench speed --out bench`, which alternates Tern and llama.cpp per repetition, reports
# medians and writes bench/speed/result.json.
#
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset together for the benchmark command only (Tern's
# quantized kernels do not call OpenBLAS, and llama.cpp does not link it, so this changes nothing
# measured here; --keep-openblas-env keeps them). Tests and CI never change them.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCRATCH="${TERN_BENCH_SCRATCH:-.build-speed}"
PYTHON="${PYTHON:-python3}"
ARGS=()
KEEP_ENV=0
while [ $# -gt 0 ]; do
    case "$1" in
        --keep-openblas-env) KEEP_ENV=1 ;;
        --repetitions) ARGS+=(--set "repetitions=$2"); shift ;;
        *) ARGS+=("$1") ;;
    esac
    shift
done

if ! "$PYTHON" -c 'import llama_cpp, sys; sys.exit(0 if llama_cpp.__version__ == "0.3.36" else 1)' 2>/dev/null; then
    echo "bench/speed/run.sh: installing llama-cpp-python==0.3.36 (baseline only)" >&2
    "$PYTHON" -m pip install --quiet "llama-cpp-python==0.3.36" numpy
fi

swift build -c release --scratch-path "$SCRATCH" --product tern >&2
TERN="$SCRATCH/release/tern"

# Wait (up to 10 minutes) for the 1-minute load average to drop below 0.5.
for _ in $(seq 1 120); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    awk -v l="$load" 'BEGIN { exit !(l < 0.5) }' && break
    echo "bench/speed/run.sh: waiting for a quiet machine (load $load)" >&2
    sleep 5
done
echo "bench/speed/run.sh: load before the run: $(cat /proc/loadavg)" >&2

run() {
    if [ "$KEEP_ENV" = 1 ]; then "$@"; else env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; fi
}
run "$TERN" bench speed --set python="$PYTHON" --set baseline_script=bench/llama_cpp_baseline.py --out bench ${ARGS[@]+"${ARGS[@]}"} >/dev/null
"$PYTHON" - bench/speed/result.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"machine: {r['machine']}")
print(f"{'claim':34} {'tern':>9} {'llama.cpp':>10} {'ratio':>7} {'target':>7}")
for m in r["results"]["medians"]:
    f = lambda v: "-" if v is None else f"{v:.1f}"
    ratio = "-" if m["ratio"] is None else f"{m['ratio']:.2f}x"
    tgt = "" if m["target"] is None else f"{m['target']}x" + ("" if m["met"] is None else (" ok" if m["met"] else " MISS"))
    print(f"{m['id']:34} {f(m['ours']):>9} {f(m['llamacpp']):>10} {ratio:>7} {tgt:>7}")
print(f"other processes used at most {r['results']['max_other_cpu_cores']:.2f} cores during a measurement")
print("JSON report: bench/speed/result.json")
PY
