#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/compiler: LLMCompiler against ReAct and JSON parallel function calling on SmolLM2-135M,
# same engine, tools (FOLDOC search with injected latency, math/calc), questions and decoding.
#   bench/compiler/run.sh [--quick] [--questions N] [--json FILE] [extra `tern bench compiler` options]
# Prints the table (stdout) and writes the shared reproduction-report JSON (default
# .build/artifacts/bench-compiler.json). Questions come from bench/compiler/questions.json, which
# `tern bench compiler --write-questions` regenerates deterministically from FOLDOC.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build/artifacts/bench-compiler.json
args=()
while [ $# -gt 0 ]; do case "$1" in --json) out=$2; shift;; *) args+=("$1");; esac; shift; done
mkdir -p "$(dirname "$out")"
scripts/install-deps.sh
swift build -c release >/dev/null
.build/release/tern pull smollm2-135m --quiet >/dev/null
while [ -e /tmp/tern-quiet ]; do sleep 15; done
.build/release/tern bench compiler --questions-file bench/compiler/questions.json --threads "${THREADS:-2}" \
  ${args[@]+"${args[@]}"} --json > "$out"
python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{'claim':48} {'paper':>7} {'ours':>7}")
for c in r["claims"]:
    p = "-" if c["paper"] is None else f"{c['paper']:.2f}"
    print(f"{c['id']:48} {p:>7} {c['ours']:7.2f}")
PY
echo "report: $out" >&2
