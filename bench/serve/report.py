#!/usr/bin/env python3
"""Folds bench/serve/run.sh's points (one JSON per line on stdin: key, server, mode, x, result) into the
shared reproduction-report shape. argv[1]: the run's settings as JSON.

Claims are ratios Tern / llama.cpp's C++ llama-server (the baseline) at named points, plus Tern /
llama-cpp-python's server as a second row. No paper gives these numbers: each claim's target is an
engineering target, stated in its note, and `reproduced` says whether ours meets it.
"""
import datetime
import json
import os
import platform
import subprocess
import sys

settings = json.loads(sys.argv[1])
runs = [json.loads(line) for line in sys.stdin if line.strip()]
order = {"poisson": 0, "closed": 1}
servers = ["tern", "llama-server", "llama-cpp-python"]
runs.sort(key=lambda r: (order[r["mode"]], r["x"], servers.index(r["server"]) if r["server"] in servers else 9))
at = {(r["mode"], r["x"], r["server"]): r["result"] for r in runs}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
memory = next((int(l.split()[1]) / 2**20 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)


def commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


s = settings
threads, n, kv, slot = s["threads"], s["running_limit"], s["kv_tokens"], s["llama_server_slot_ctx"]
llama_version = s["versions"].get("llama-server", "?")
LLAMA_SERVER = (f"llama.cpp's C++ llama-server ({llama_version}, llama-cpp-python {s['versions'].get('llama-cpp-python', '?')}'s "
                f"llama.cpp built by bench/llama-cpp/build): -np {n} -c {kv} ("
                + (f"unified KV, each slot up to {slot} tokens" if s["llama_server_kv_unified"] else f"split KV, {slot} tokens per slot")
                + f"), continuous "
                f"batching, -b/-ub {s['batch_tokens']}, f16 KV, --cache-ram 0; same GGUF, {threads} threads, loopback")
LLAMA_PY = (f"llama-cpp-python {s['versions'].get('llama-cpp-python', '?')} llama_cpp.server (one request at a time), "
            f"n_ctx {kv}, same GGUF, {threads} threads, loopback")


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def metric(mode, x, server, key):
    r = at.get((mode, x, server))
    return None if r is None else r.get(key)


def claim(id, setting, description, ours, better, target, baseline, extra=""):
    reproduced = None if ours is None else (ours >= target if better == "higher" else ours <= target)
    bound = ">=" if better == "higher" else "<="
    note = f"engineering target {bound} {target:g}x, no paper" + (f"; {extra}" if extra else "")
    return {"id": id, "setting": setting, "description": description, "unit": "x", "paper": None, "ours": ours,
            "better": better, "reproduced": reproduced, "baseline": baseline, "note": note}


claims = []
rates = sorted({r["x"] for r in runs if r["mode"] == "poisson"})
clients = sorted({r["x"] for r in runs if r["mode"] == "closed"})
tokens = s["max_tokens"]
if rates:
    top = rates[-1]
    where = f"Poisson {top:g} req/s, {s['poisson_requests']} requests of {tokens} tokens, {threads} threads"
    claims.append(claim("throughput_poisson_max_rate_vs_llama_server", where,
                        "generated tokens/s at the highest Poisson rate, Tern / llama-server",
                        ratio(metric("poisson", top, "tern", "throughput_tokens_per_s"),
                              metric("poisson", top, "llama-server", "throughput_tokens_per_s")), "higher", 1.0, LLAMA_SERVER))
    claims.append(claim("ttft_p50_poisson_max_rate_vs_llama_server", where,
                        "median time to first token at the highest Poisson rate, Tern / llama-server",
                        ratio(metric("poisson", top, "tern", "ttft_p50_s"), metric("poisson", top, "llama-server", "ttft_p50_s")),
                        "lower", 1.0, LLAMA_SERVER))
for c in sorted({x for x in clients if x in (16, clients[-1])}):
    where = f"closed loop, {c} clients, {tokens} tokens per request, {threads} threads"
    claims.append(claim(f"throughput_closed{c}_vs_llama_server", where,
                        f"generated tokens/s with {c} closed-loop clients, Tern / llama-server",
                        ratio(metric("closed", c, "tern", "throughput_tokens_per_s"),
                              metric("closed", c, "llama-server", "throughput_tokens_per_s")), "higher", 1.0, LLAMA_SERVER))
    if c == 16 or 16 not in clients:
        claims.append(claim(f"ttft_p50_closed{c}_vs_llama_server", where,
                            f"median time to first token with {c} closed-loop clients, Tern / llama-server",
                            ratio(metric("closed", c, "tern", "ttft_p50_s"), metric("closed", c, "llama-server", "ttft_p50_s")),
                            "lower", 1.0, LLAMA_SERVER))
        claims.append(claim(f"itl_p50_closed{c}_vs_llama_server", where,
                            f"median inter-token latency with {c} closed-loop clients, Tern / llama-server",
                            ratio(metric("closed", c, "tern", "itl_p50_s"), metric("closed", c, "llama-server", "itl_p50_s")),
                            "lower", 1.0, LLAMA_SERVER))
peak = {srv: max((r["result"]["throughput_tokens_per_s"] for r in runs if r["server"] == srv), default=None) for srv in servers}
claims.append(claim("throughput_peak_vs_llama_cpp_python", f"best point of both sweeps, {threads} threads",
                    "peak generated tokens/s over every point, Tern / llama-cpp-python's server",
                    ratio(peak["tern"], peak["llama-cpp-python"]), "higher", 1.5, LLAMA_PY, "the second peer row"))

# Truncation check: every llama-server slot must hold prompt + max_tokens.
longest = max((r["result"].get("prompt_tokens_max") or 0 for r in runs if r["server"] == "llama-server"), default=0)
settings = dict(settings, llama_server_longest_prompt_tokens=longest,
                llama_server_slot_fits=longest + tokens <= slot,
                baseline=LLAMA_SERVER, second_peer=LLAMA_PY, load_after=open("/proc/loadavg").read().split()[:3])
report = {
    "system": "serve",
    "machine": {"cpu": cpu, "cores": os.cpu_count() or 0, "memoryGiB": round(memory, 1), "os": platform.platform()},
    "commit": os.environ.get("TERN_COMMIT") or commit(),
    "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    "settings": settings,
    "claims": claims,
    "results": {"runs": runs, "peak_tokens_per_s": peak},
}
print(json.dumps(report, indent=1))
