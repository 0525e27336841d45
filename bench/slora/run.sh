#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/slora/run.sh: S-LoRA multi-adapter serving against its baselines (PEFT-style static batches,
# merge-swap, single-adapter batching, vLLM-packed model copies) and ablations (no prefetch, no
# unified pool, padded bmm) on one engine, one synthetic trace (power-law adapter popularity, Gamma
# arrivals), one KV + adapter budget; or, with --cv-sweep, FCFS / LCFS / early abort across
# burstiness. Prints the table and writes the reproduction-report JSON to out/bench-slora.json.
#
#   bench/slora/run.sh [--adapters 5,100,2000] [--rate 8] [--cv 1] [--duration 20] [--ranks 8,16] [--quick]
#   bench/slora/run.sh --cv-sweep 1,2,4 [--rate 8]
set -euo pipefail
cd "$(dirname "$0")/../.."
SCRATCH="${TERN_BENCH_SCRATCH:-.build}"
swift build -c release --scratch-path "$SCRATCH" --product tern >&2
mkdir -p out
"$SCRATCH/release/tern" bench slora --json "$@" > out/bench-slora.json
python3 - out/bench-slora.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"machine: {r['machine']}")
for run in r["results"]["runs"]:
    print(f"{run['system']:18} {run['adapters']:6d} adapters cv {run['cv']:g}  {run['completed']}/{run['requests']}  "
          f"{run['throughput_req_s']:.2f} req/s  TTFT p50 {run['ttft_p50_s']:.2f}s p90 {run['ttft_p90_s']:.2f}s  "
          f"SLO {run['slo_attainment']:.2f}")
for c in r["claims"]:
    unit = "x" if c["unit"] == "x" else " " + c["unit"]
    paper = "-" if c["paper"] is None else f"{c['paper']:.2f}{unit}"
    print(f"{c['id']}: ours {c['ours']:.2f}{unit} (paper {paper})")
PY
echo "JSON report: out/bench-slora.json" >&2
