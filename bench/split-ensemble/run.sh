#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Split-Ensemble reproduction: Fashion-MNIST (8 ID classes) with offline OOD sets, Split-Ensemble
# against a single model (MSP, energy), a deep ensemble and MC dropout trained by Tern's autograd
# with the same data and epochs, at the single model's FLOPs, over seeds; plus ablations.
#
#   bench/split-ensemble/run.sh [--quick] [--out DIR] [extra `tern bench split-ensemble` options...]
#
# Writes DIR/split-ensemble.json (the shared reproduction-report shape) and DIR/split-ensemble.txt
# (the human table, re-rendered from the same JSON); DIR defaults to .build/artifacts.
# Data: scripts/fetch-data.sh (Fashion-MNIST and the scikit-learn digits under $TERN_HOME/data).
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

"$TERN" bench split-ensemble --json "${QUICK[@]}" "${EXTRA[@]}" > "$OUT/split-ensemble.json"
python3 - "$OUT/split-ensemble.json" <<'PY' | tee "$OUT/split-ensemble.txt"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"machine: {r['machine']}")
sets = [o["name"] for o in r["settings"]["ood_sets"]]
print(f"{'method':<34}{'acc':>12}{'AUROC':>12}{'FPR95':>12}{'AUPR':>12}{'MFLOPs':>8}")
for m in r["results"]["methods"]:
    f = lambda k: f"{m[k]['mean']*100:6.2f}±{m[k]['std']*100:4.2f}"
    print(f"{m['method']:<34}{f('accuracy'):>12}{f('mean_auroc'):>12}{f('mean_fpr95'):>12}{f('mean_aupr'):>12}{m['flops']/1e6:>8.2f}")
print("AUROC per OOD set: " + ", ".join(sets))
for m in r["results"]["methods"]:
    print(f"{m['method']:<34}" + "".join(f"{o['auroc']['mean']*100:>10.2f}" for o in m["ood"]))
for c in r["claims"]:
    paper = "n/a" if c["paper"] is None else c["paper"]
    print(f"{c['id']}: ours {c['ours']:+.2f} {c['unit']} (paper {paper}) vs {c['baseline']}")
PY
echo "wrote $OUT/split-ensemble.json and $OUT/split-ensemble.txt" >&2
