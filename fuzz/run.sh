#!/usr/bin/env bash
# Builds the GGUF reader with libFuzzer + AddressSanitizer and fuzzes it for a bounded time.
#   fuzz/run.sh [seconds]   (default 60)
# Crashing inputs land in fuzz/artifacts/; turn each into a test in Tests/GGUFTests before fixing.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
mkdir -p .out artifacts corpus-run
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name GGUFFuzz \
    ../Sources/GGUF/*.swift GGUFFuzzTarget.swift -o .out/gguf-fuzzer
cp -n seeds/* corpus-run/ 2>/dev/null || true
./.out/gguf-fuzzer corpus-run -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=artifacts/ -print_final_stats=1
echo "fuzz: no crash in ${seconds}s"
