#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The measured MAgIC run: vanilla and PGM-aware SmolLM2 and the random floor on the same settings
# (0..N-1 of every scenario, N = 20 by default, probes on), played in pieces (one per game family,
# each under TIMEOUT seconds), then merged into one report (AGENTS="pgm" replays only that agent's part): bench/magic/results/{random,vanilla,pgm}.jsonl,
# report.json (the shared reproduction-report shape) and report.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
TERN=${TERN:-.build/release/tern}
N=${N:-20}
OUT=${OUT:-bench/magic/results}
THREADS=${THREADS:-2}
TIMEOUT=${TIMEOUT:-3600}   # seconds per piece
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$TERN" bench magic --agents random --settings "$N" --records-dir "$tmp/random" >/dev/null
cp "$tmp/random/random.jsonl" "$OUT/random.jsonl"
for agent in ${AGENTS:-vanilla pgm}; do
    : > "$OUT/$agent.jsonl"
    for games in chameleon undercover_as_undercover undercover_as_non_undercover cost_sharing,prisoner,public_good; do
        d="$tmp/$agent-${games//,/_}"
        echo "$agent $games ..." >&2
        timeout "$TIMEOUT" "$TERN" bench magic --agents "$agent" --settings "$N" --games "$games" --threads "$THREADS" --records-dir "$d" >/dev/null
        cat "$d/$agent.jsonl" >> "$OUT/$agent.jsonl"
    done
done
"$TERN" bench magic --from-records "$OUT" --json > "$OUT/report.json"
"$TERN" bench magic --from-records "$OUT" | tee "$OUT/report.txt"
