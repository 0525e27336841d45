#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The learned router live over HTTP: four `tern serve` processes on the same model and tier table
# (--router policy, --router static:<best tier>, --router greedy-deadline, no router), each sent the same bursty trace by
# `tern best-effort replay --base-url`, runs alternated and repeated. Measure on a quiet machine.
#   bench/best-effort/live-server.sh [seconds per trace, default 60] [repetitions, default 2]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}; reps=${2:-2}
tiers=bench/best-effort/tiers-engine.json; policy=bench/best-effort/policy-engine.json
swift build -c release --product tern >/dev/null
tern=.build/release/tern
best=$(python3 -c "
import json; t = json.load(open('$tiers'))['tiers']
print(max(t, key=lambda x: (sum(x['quality']) / len(x['quality']), -x['seconds'][0]))['spec']['name'])")
declare -A args=([learned]="--router $policy --router-tiers $tiers" [static]="--router static:$best --router-tiers $tiers"
                 [greedy]="--router greedy-deadline --router-tiers $tiers" [none]="")
declare -A port=([learned]=8181 [static]=8182 [greedy]=8184 [none]=8183)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for s in learned static greedy none; do
    $tern serve --port ${port[$s]} --max-running 4 ${args[$s]} 2>/dev/null & pids+=($!)
done
for s in learned static greedy none; do
    for _ in $(seq 120); do curl -sf localhost:${port[$s]}/health >/dev/null && break; sleep 0.5; done
done
echo "static-best tier: $best; $reps repetitions of a ${seconds}s trace; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$reps"); do
    for s in learned static greedy none; do
        echo "== $s (repetition $r, load $(cut -d' ' -f1 /proc/loadavg))"
        $tern best-effort replay --tiers $tiers --policy $policy --seconds "$seconds" --base-url http://127.0.0.1:${port[$s]}/v1 | tail -4
    done
done
