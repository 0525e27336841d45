#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# EPIM reproduction: the crossbar-area reduction of 3-bit epitome ResNet-50 under the MNSIM-2.0
# cost model, and accuracy against crossbar count on Fashion-MNIST for plain, quantized, pruned and
# epitome variants of one small CNN, all trained by Tern's autograd with the same data and epochs.
#
#   bench/epim/run.sh [--quick] [--out DIR] [extra `tern bench epim` options...]
#
# Writes DIR/epim.json (the shared reproduction-report shape), DIR/epim-pareto.svg and
# DIR/pim-report-resnet50.txt / .json (the per-layer table); DIR defaults to .build/artifacts.
# Data: scripts/fetch-data.sh (Fashion-MNIST under $TERN_HOME/data).
set -euo pipefail
cd "$(dirname "$0")/../.."

QUICK=(); OUT=.build/artifacts; EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=(--quick); shift ;;
        --out) OUT=$2; shift 2 ;;
        *) EXTRA+=("$1"); shift ;;
    esac
done
mkdir -p "$OUT"

TERN="${TERN_BIN:-}"
if [ -z "$TERN" ]; then
    swift build -c release --product tern >&2
    TERN=.build/release/tern
fi

"$TERN" pim report --network resnet50 > "$OUT/pim-report-resnet50.txt"
"$TERN" pim report --network resnet50 --json > "$OUT/pim-report-resnet50.json"
cat "$OUT/pim-report-resnet50.txt" >&2
"$TERN" bench epim --json "${QUICK[@]}" --svg "$OUT/epim-pareto.svg" "${EXTRA[@]}" > "$OUT/epim.json"
python3 - "$OUT/epim.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"machine: {r['machine']}")
print(f"{'variant':<22}{'accuracy':>9}{'crossbars':>10}{'weights':>9}")
for p in r["results"]["small_cnn"]:
    print(f"{p['id']:<22}{p['accuracy']*100:>8.2f}%{p['crossbars']:>10}{p['weights']:>9}")
for c in r["claims"]:
    paper = "n/a" if c["paper"] is None else c["paper"]
    print(f"{c['id']}: ours {c['ours']:.2f} {c['unit']} (paper {paper}) vs {c['baseline']}")
PY
echo "wrote $OUT/epim.json, $OUT/epim-pareto.svg, $OUT/pim-report-resnet50.{txt,json}" >&2
