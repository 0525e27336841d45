#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Split-Ensemble reproduction: Fashion-MNIST (8 ID classes) with offline OOD sets, Split-Ensemble
# against a single model (MSP, energy), a deep ensemble and MC dropout trained by Tern's autograd
# with the same data and epochs, at the single model's FLOPs, over seeds; plus ablations.
#
#   bench/split-ensemble/run.sh [--out DIR] [extra `tern bench split-ensemble` arguments, e.g. --set seeds=5]
#   bench/split-ensemble/run.sh --render FILE.json    # only re-render the table of a saved report
#
# Writes DIR/split-ensemble/result.json (the shared reproduction-report shape; DIR defaults to
# bench) and DIR/split-ensemble/result.txt (the human table, re-rendered from the same JSON).
# Each seed is a resumable piece: run it again after an interruption.
# Single-run rows (the ablations) print no spread, and the first seed's own single-msp and
# split-ensemble-combined rows are printed beside them: the ablations must be read against those.
# Data: scripts/fetch-data.sh (Fashion-MNIST and the scikit-learn digits under $TERN_HOME/data).
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=bench; EXTRA=(); RENDER=
while [ $# -gt 0 ]; do
    case "$1" in
        --render) RENDER=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        *) EXTRA+=("$1"); shift ;;
    esac
done
render() {
python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"machine: {r['machine']}")
sets = [o["name"] for o in r["settings"]["ood_sets"]]
methods = r["results"]["methods"]
main = [m for m in methods if not m["method"].startswith("ablation-")]
ablations = [m for m in methods if m["method"].startswith("ablation-")]
runs = r["results"]["runs"]
reference = []
if ablations and len(runs) > 1:
    # The first seed's own numbers, in the per-method shape (one run: no spread).
    first = runs[0]
    for m in first["methods"]:
        if m["method"] in ("single-msp", "split-ensemble-" + r["settings"]["score"]):
            one = lambda x: {"mean": x, "std": 0}
            reference.append({"method": f"{m['method']} (seed {first['seed']})", "seeds": 1, "flops": m["flops"],
                              "accuracy": one(m["accuracy"]), "mean_auroc": one(m["mean_auroc"]),
                              "mean_fpr95": one(sum(o["fpr95"] for o in m["ood"]) / len(m["ood"])),
                              "mean_aupr": one(sum(o["aupr"] for o in m["ood"]) / len(m["ood"])),
                              "ood": [{"auroc": one(o["auroc"])} for o in m["ood"]]})
rows = main + reference + ablations
if ablations:
    print(f"ablations ran on seed {runs[0]['seed']} only: read them against the seed-{runs[0]['seed']} rows, not the means over seeds")
def f(m, x):
    return f"{x['mean']*100:6.2f}±{x['std']*100:4.2f}" if m["seeds"] > 1 else f"{x['mean']*100:6.2f}     "
print(f"{'method':<34}{'acc':>12}{'AUROC':>12}{'FPR95':>12}{'AUPR':>12}{'MFLOPs':>8}")
for m in rows:
    print(f"{m['method']:<34}" + "".join(f"{f(m, m[k]):>12}" for k in ("accuracy", "mean_auroc", "mean_fpr95", "mean_aupr")) + f"{m['flops']/1e6:>8.2f}")
print("AUROC per OOD set: " + ", ".join(sets))
for m in rows:
    print(f"{m['method']:<34}" + "".join(f"{o['auroc']['mean']*100:>10.2f}" for o in m["ood"]))
for c in r["claims"]:
    paper = "n/a" if c["paper"] is None else c["paper"]
    print(f"{c['id']}: ours {c['ours']:+.2f} {c['unit']} (paper {paper}) vs {c['baseline']}")
PY
}

if [ -n "$RENDER" ]; then render "$RENDER"; exit 0; fi

TERN="${TERN_BIN:-}"
if [ -z "$TERN" ]; then
    swift build -c release --product tern >&2
    TERN=.build/release/tern
fi

"$TERN" bench split-ensemble --out "$OUT" ${EXTRA[@]+"${EXTRA[@]}"} >/dev/null
render "$OUT/split-ensemble/result.json" | tee "$OUT/split-ensemble/result.txt"
echo "wrote $OUT/split-ensemble/result.json and result.txt" >&2
