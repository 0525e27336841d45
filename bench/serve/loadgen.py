#!/usr/bin/env python3
"""Loopback load generator for OpenAI-compatible servers (Tern, llama.cpp's llama-server, llama-cpp-python).

Each request is a streaming /v1/completions call with its own seeded prompt (request i gets the same
prompt and seed on every server). Two arrival modes:

  open loop (Poisson):  loadgen.py --base URL --rate 4 --requests 48
      requests arrive at exponential gaps of mean 1/rate s, whatever the server's state.
  closed loop:          loadgen.py --base URL --clients 16 --requests 64 [--duration 120]
      C clients; each sends its next request as soon as its previous one finished, until --requests
      have been started in all or --duration seconds have passed (then in-flight requests finish).

Reports one JSON object on stdout: generated tokens/s over the whole run (first send to last byte),
requests/s, TTFT and inter-token latency p50/p99, end-to-end latency p50, mean tokens per request,
errors. Generated tokens are the server's usage.completion_tokens where it sends usage
(stream_options.include_usage), else the streamed chunks that carried text.

  loadgen.py ... --soak 600   mixed traffic for N seconds: normal, disconnecting and malformed requests
Only loopback addresses are allowed as targets.
"""
import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

p = argparse.ArgumentParser()
p.add_argument("--base", required=True)
p.add_argument("--model", default="smollm2-135m")
p.add_argument("--rate", type=float, default=2.0, help="requests per second (Poisson, open loop)")
p.add_argument("--clients", type=int, default=0, help="closed loop with this many clients (0: Poisson)")
p.add_argument("--requests", type=int, default=32, help="requests in all")
p.add_argument("--duration", type=float, default=0, help="closed loop: start no request after this many seconds (0: none)")
p.add_argument("--max-tokens", type=int, default=64)
p.add_argument("--prompt-words", type=int, default=60)
p.add_argument("--time-limit", type=float, default=300, help="Poisson: start no request after this many seconds")
p.add_argument("--timeout", type=float, default=600, help="socket timeout of one request, seconds")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--soak", type=float, default=0, help="seconds of mixed traffic (soak mode)")
args = p.parse_args()

url = urllib.parse.urlparse(args.base)
if url.hostname not in ("127.0.0.1", "localhost", "::1"):
    sys.exit("loadgen only targets loopback servers")
rng = random.Random(args.seed)
WORDS = "the quick brown fox jumps over a lazy dog while seven wise owls debate quantum cooking in paris".split()


def prompt(i):
    r = random.Random(args.seed * 100003 + i)
    return " ".join(r.choice(WORDS) for _ in range(args.prompt_words))


lock = threading.Lock()
results = []


def one(i, kind="normal"):
    start = time.perf_counter()
    rec = {"ok": False, "tokens": 0, "chunks": 0, "usage": None, "ttft": None, "itl": [], "e2e": None, "kind": kind}
    try:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=args.timeout)
        if kind == "malformed":
            conn.request("POST", "/v1/completions", body=b'{"model": "x", "prompt": ', headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            rec["ok"] = r.status == 400
            return
        body = json.dumps({"model": args.model, "prompt": prompt(i), "max_tokens": args.max_tokens, "temperature": 0.8,
                           "seed": args.seed * 100003 + i, "stream": True, "stream_options": {"include_usage": True}})
        conn.request("POST", "/v1/completions", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        if r.status != 200:
            rec["error"] = f"HTTP {r.status}: {r.read()[:200]!r}"
            return
        last = None
        buf = b""
        while True:
            chunk = r.read1(65536) if hasattr(r, "read1") else r.read(1)
            if not chunk:
                break
            buf = (buf + chunk).replace(b"\r\n", b"\n")  # sse-starlette ends lines with CRLF
            while b"\n\n" in buf:
                event, buf = buf.split(b"\n\n", 1)
                if not event.startswith(b"data: "):
                    continue
                data = event[6:]
                if data == b"[DONE]":
                    continue
                j = json.loads(data)
                if "error" in j:
                    rec["error"] = j["error"]
                    continue
                if j.get("usage"):
                    rec["usage"] = j["usage"].get("completion_tokens")
                    rec["prompt_tokens"] = j["usage"].get("prompt_tokens")
                if j.get("choices") and j["choices"][0].get("text"):
                    now = time.perf_counter()
                    rec["chunks"] += 1
                    if rec["ttft"] is None:
                        rec["ttft"] = now - start
                    elif last is not None:
                        rec["itl"].append(now - last)
                    last = now
                    if kind == "disconnect" and rec["chunks"] >= 3:
                        conn.close()  # walk away mid-stream
                        rec["ok"] = True
                        return
        rec["ok"] = "error" not in rec
    except Exception as e:  # noqa: BLE001 - every failure is a data point
        rec["error"] = repr(e)
    finally:
        rec["e2e"] = time.perf_counter() - start
        rec["tokens"] = rec["usage"] if rec["usage"] is not None else rec["chunks"]
        with lock:
            results.append(rec)


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


threads = []
t0 = time.perf_counter()
if args.soak:
    i = 0
    while time.perf_counter() - t0 < args.soak:
        kind = rng.choices(["normal", "disconnect", "malformed"], [0.7, 0.2, 0.1])[0]
        th = threading.Thread(target=one, args=(i, kind))
        th.start()
        threads.append(th)
        i += 1
        time.sleep(rng.expovariate(args.rate))
elif args.clients > 0:
    counter = iter(range(args.requests))

    def client():
        while True:
            if args.duration and time.perf_counter() - t0 > args.duration:
                return
            with lock:
                i = next(counter, None)
            if i is None:
                return
            one(i)

    for _ in range(args.clients):
        th = threading.Thread(target=client)
        th.start()
        threads.append(th)
else:
    for i in range(args.requests):
        if time.perf_counter() - t0 > args.time_limit:
            break
        th = threading.Thread(target=one, args=(i,))
        th.start()
        threads.append(th)
        time.sleep(rng.expovariate(args.rate))
for th in threads:
    th.join(timeout=max(1, args.time_limit) if args.soak else None)
wall = time.perf_counter() - t0
normal = [r for r in results if r["kind"] == "normal"]
tokens = sum(r["tokens"] for r in results)
ttfts = [r["ttft"] for r in normal if r["ttft"] is not None]
itls = [x for r in normal for x in r["itl"]]
done = [r for r in normal if r["ok"]]
out = {
    "mode": "closed" if args.clients > 0 and not args.soak else ("soak" if args.soak else "poisson"),
    "rate": None if args.clients > 0 and not args.soak else args.rate,
    "clients": args.clients if args.clients > 0 and not args.soak else None,
    "requests": len(results), "max_tokens": args.max_tokens, "wall_s": wall,
    "errors": sum(1 for r in results if not r["ok"]),
    "error_samples": [r.get("error") for r in results if not r["ok"]][:3],
    "tokens": tokens,
    "tokens_from_usage": sum(1 for r in normal if r["usage"] is not None),
    "prompt_tokens_max": max((r["prompt_tokens"] for r in normal if r.get("prompt_tokens") is not None), default=None),
    "mean_tokens_per_request": (sum(r["tokens"] for r in done) / len(done)) if done else None,
    "throughput_tokens_per_s": tokens / wall if wall > 0 else 0,
    "requests_per_s": len(done) / wall if wall > 0 else 0,
    "ttft_p50_s": pct(ttfts, 50), "ttft_p99_s": pct(ttfts, 99),
    "itl_p50_s": pct(itls, 50), "itl_p99_s": pct(itls, 99),
    "e2e_p50_s": pct([r["e2e"] for r in normal], 50),
    "by_kind": {k: sum(1 for r in results if r["kind"] == k) for k in ("normal", "disconnect", "malformed")},
}
print(json.dumps(out))
