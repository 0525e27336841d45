#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/best-effort/run.sh [--profile] [tern bench best-effort arguments...]: the full learned
# best-effort run, written to bench/best-effort/result.json. --profile first re-measures the tier
# table (bench/best-effort/tiers.json) on the real model; the trained router is a resumable piece.
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=0; args=()
for a in "$@"; do case "$a" in --profile) profile=1 ;; *) args+=("$a") ;; esac; done
swift build -c release --product tern >&2
tern=.build/release/tern
if [ $profile = 1 ]; then $tern pull smollm2-135m --quiet >/dev/null; $tern profile --output bench/best-effort/tiers.json; fi
$tern bench best-effort --out bench ${args[@]+"${args[@]}"}
