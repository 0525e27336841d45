#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Learned best-effort serving (Jha et al., arXiv 2401.07886) reproduced in Tern's simulator over
# tiers measured on this machine.
#   bench/best-effort/run.sh [--quick] [--profile] [--json FILE]
# --profile re-measures the tiers first (`tern profile`, a few minutes on 2 cores) and overwrites
# bench/best-effort/tiers.json; without it the committed tier table is used.
# Prints the human table and writes the shared reproduction-report JSON.
set -euo pipefail
cd "$(dirname "$0")/../.."
quick=0; profile=0; out=.build/artifacts/bench-best-effort.json
while [ $# -gt 0 ]; do case "$1" in --quick) quick=1;; --profile) profile=1;; --json) out=$2; shift;; esac; shift; done
mkdir -p "$(dirname "$out")"
swift build -c release --product tern >/dev/null
tern=.build/release/tern
if [ $profile = 1 ]; then $tern pull smollm2-135m --quiet >/dev/null; $tern profile --output bench/best-effort/tiers.json; fi
flags=(); [ $quick = 1 ] && flags+=(--quick)
$tern bench best-effort "${flags[@]}" --json > "$out"
python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for c in r["claims"]:
    print(f'{c["id"]:45s} ours {c["ours"]:.2f}x  paper {c["paper"]}x')
PY
echo "report: $out"
