#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/slora/run.sh: the full S-LoRA run, written to bench/slora/result.json. S-LoRA against its
# baselines (PEFT-style static batches, merge-swap, single-adapter batching, vLLM-packed model
# copies) and ablations (no prefetch, no unified pool, padded bmm) on one engine, one synthetic
# trace, one KV + adapter budget. Run it again after an interruption: finished runs are kept in
# bench/slora/partial and not measured again. Extra arguments go to `tern bench slora`:
#
#   bench/slora/run.sh                               (the full run: 5 and 100 adapters, quantized and f32 bases)
#   bench/slora/run.sh --set adapters=5,100,2000 --set seed=2
#   bench/slora/run.sh --set cv_sweep=1,2,4 --set rate=8      (FCFS / LCFS / early abort across burstiness)
#   .build/release/tern bench slora --list-settings            (every setting)
set -euo pipefail
cd "$(dirname "$0")/../.."
SCRATCH="${TERN_BENCH_SCRATCH:-.build}"
swift build -c release --scratch-path "$SCRATCH" --product tern >&2
"$SCRATCH/release/tern" bench slora --out bench "$@"
