#!/usr/bin/env python3
"""Folds loadgen results (one JSON per line on stdin) into the shared reproduction-report shape."""
import json
import platform
import sys

threads, quick = sys.argv[1], sys.argv[2] == "1"
runs = [json.loads(line) for line in sys.stdin if line.strip()]
by = {}
for r in runs:
    by.setdefault(r["server"], []).append(r["result"])
peak = {s: max(x["throughput_tokens_per_s"] for x in v) for s, v in by.items()}
sat = {s: max(v, key=lambda x: x["throughput_tokens_per_s"]) for s, v in by.items()}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
report = {
    "system": "serve",
    "machine": f"{cpu}, {threads} threads",
    "settings": {"quick": quick, "threads": int(threads), "prompt_words": 60, "arrivals": "Poisson",
                 "peer": "llama-cpp-python 0.3.36 llama_cpp.server (serves one request at a time)"},
    "claims": [
        {"id": "throughput_at_saturation_vs_llamacpp", "description": "peak generated tokens/s over the rate sweep, Tern / llama.cpp server",
         "unit": "x", "paper": 1.5, "ours": peak.get("tern", 0) / max(peak.get("llama", 1e-9), 1e-9),
         "baseline": "llama.cpp server (llama-cpp-python) on the same GGUF and threads"},
        {"id": "ttft_p99_at_saturation_vs_llamacpp", "description": "p99 TTFT at each server's saturation point, Tern / llama.cpp (lower is better)",
         "unit": "x", "paper": 1.0, "ours": (sat["tern"]["ttft_p99_s"] or 0) / max(sat["llama"]["ttft_p99_s"] or 1e-9, 1e-9),
         "baseline": "llama.cpp server (llama-cpp-python)"},
    ],
    "results": {"runs": runs, "peak_tokens_per_s": peak},
}
print(json.dumps(report, indent=1))
