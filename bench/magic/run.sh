#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/magic/run.sh: the measured MAgIC run, written to bench/magic/result.json with every game in
# bench/magic/records/<agent>.jsonl: vanilla and PGM-aware SmolLM2 and the random floor on the same
# settings (0..N-1 of every scenario, N = 20 by default, probes on). Each agent x scenario is one
# resumable piece: run it again after an interruption and finished pieces are kept. Extra
# arguments go to `tern bench magic` (e.g. --set agents=pgm, --set quirks=corrected).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-20}
THREADS=${THREADS:-2}
swift build -c release --product tern >&2
.build/release/tern pull smollm2-135m --quiet >/dev/null
.build/release/tern bench magic --out bench --set settings="$N" --threads "$THREADS" "$@"
