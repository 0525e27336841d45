#!/usr/bin/env python3
"""Folds loadgen results (one JSON per line on stdin) into the shared reproduction-report shape."""
import datetime
import json
import os
import platform
import subprocess
import sys

threads, quick = sys.argv[1], sys.argv[2] == "1"
runs = [json.loads(line) for line in sys.stdin if line.strip()]
by = {}
for r in runs:
    by.setdefault(r["server"], []).append(r["result"])
peak = {s: max(x["throughput_tokens_per_s"] for x in v) for s, v in by.items()}
sat = {s: max(v, key=lambda x: x["throughput_tokens_per_s"]) for s, v in by.items()}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
memory = next((int(l.split()[1]) / 2**20 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)


def commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def claim(id, description, target, ours, better, baseline, note=""):
    """An engineering target, not a paper number: `reproduced` says whether ours meets it."""
    reproduced = None if ours is None else (ours > target if better == "higher" else ours < target)
    return {"id": id, "setting": f"{threads} threads", "description": description, "unit": "x", "paper": None, "ours": ours,
            "better": better, "reproduced": reproduced, "baseline": baseline, "note": note}


tern_ttft = sat.get("tern", {}).get("ttft_p99_s")
llama_ttft = sat.get("llama", {}).get("ttft_p99_s")
report = {
    "system": "serve",
    "machine": {"cpu": cpu, "cores": os.cpu_count() or 0, "memoryGiB": round(memory, 1), "os": platform.platform()},
    "commit": os.environ.get("TERN_COMMIT") or commit(),
    "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    "settings": {"quick": quick, "threads": int(threads), "prompt_words": 60, "arrivals": "Poisson",
                 "peer": "llama-cpp-python 0.3.36 llama_cpp.server (serves one request at a time)"},
    "claims": [
        claim("throughput_at_saturation_vs_llamacpp", "peak generated tokens/s over the rate sweep, Tern / llama.cpp server",
              1.5, peak.get("tern", 0) / max(peak.get("llama", 1e-9), 1e-9), "higher",
              "llama.cpp server (llama-cpp-python) on the same GGUF and threads", "engineering target >= 1.5x; no paper"),
        claim("ttft_p99_at_saturation_vs_llamacpp", "p99 TTFT at each server's saturation point, Tern / llama.cpp",
              1.0, None if tern_ttft is None or not llama_ttft else tern_ttft / llama_ttft, "lower",
              "llama.cpp server (llama-cpp-python)", "engineering target <= 1x; no paper"),
    ],
    "results": {"runs": runs, "peak_tokens_per_s": peak},
}
print(json.dumps(report, indent=1))
