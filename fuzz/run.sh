#!/usr/bin/env bash
# Builds Tern's file parsers with libFuzzer + AddressSanitizer and fuzzes each for a bounded time:
# the GGUF reader (models, llama.cpp LoRA adapters) and the safetensors reader (PEFT LoRA adapters).
#   fuzz/run.sh [seconds per target] [gguf|safetensors|all]   (default 60, all)
#   FUZZ_SEED=N fixes libFuzzer's seed (make test uses one, so a CI run repeats a run checked here;
#   `make fuzz` explores with a fresh seed each time).
# Crashing inputs land in fuzz/artifacts/<target>/; turn each into a test (and a seed under seeds/)
# before fixing.
set -euo pipefail
# A trap inside the fuzzer is reported by libFuzzer itself; Swift's backtracer would only add minutes.
export SWIFT_BACKTRACE=enable=no
cd "$(dirname "$0")"
seconds=${1:-60}
which=${2:-all}
mkdir -p .out

fuzz() {  # name, module, sources..., then seed glob via $seeds
    local name=$1 module=$2; shift 2
    mkdir -p "artifacts/$name" "corpus-run/$name"
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name "$module" "$@" -o ".out/$name-fuzzer"
    cp -n $seeds "corpus-run/$name/" 2>/dev/null || true
    "./.out/$name-fuzzer" "corpus-run/$name" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="artifacts/$name/" -print_final_stats=1 ${FUZZ_SEED:+-seed=$FUZZ_SEED}
    echo "fuzz: $name: no crash in ${seconds}s"
}

if [[ $which == all || $which == gguf ]]; then
    seeds="seeds/*.gguf" fuzz gguf GGUFFuzz ../Sources/Core/GGUF/*.swift GGUFFuzzTarget.swift
fi
if [[ $which == all || $which == safetensors ]]; then
    seeds="seeds/*.safetensors" fuzz safetensors SafeTensorsFuzz ../Sources/Core/Support/SafeTensors.swift SafeTensorsFuzzTarget.swift
fi
