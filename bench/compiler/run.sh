#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/compiler/run.sh: the full LLMCompiler run on the shipped questions, written to
# bench/compiler/result.json (samples.jsonl and questions.json beside it). Each sample is a
# resumable piece. Extra arguments go to `tern bench compiler` (e.g. --set modes=live,
# --set base_url=http://127.0.0.1:8080/v1 with OPENAI_API_KEY in the environment).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/install-deps.sh
swift build -c release --product tern >&2
.build/release/tern pull smollm2-135m --quiet >/dev/null
.build/release/tern bench compiler --out bench --set questions_file=bench/compiler/questions.json --threads "${THREADS:-2}" "$@"
