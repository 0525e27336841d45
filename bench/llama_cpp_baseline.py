#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""llama.cpp side of `tern bench speed` (llama-cpp-python 0.3.36, low-level API).

Measures, on the same GGUF, thread count and token ids as Tern: prefill tok/s for prompts of the
given lengths, greedy token-by-token decode tok/s, batched decode (one token per sequence per
llama_decode, each sequence with its own KV cells, as llama-batched-bench), and peak RSS of a
fresh process doing a 512-token prefill plus a 128-token decode. Prints one JSON object.
Never a dependency of Tern: only the benchmark runs it.
"""
import argparse, ctypes, json, resource, sys, time

import llama_cpp as L
import numpy as np


def token_ids(n, offset=0):
    # Same deterministic ids as Tern's bench (BenchSpeed.tokenIDs).
    return [1000 + ((i + offset) * 37) % 20000 for i in range(n)]


def peak_rss_mb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork + exec, so a child of a large
    # parent (tern bench speed) would report the parent's peak.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Ctx:
    def __init__(self, model, threads, n_ctx, n_seq=1):
        p = L.llama_context_default_params()
        p.n_ctx = n_ctx
        p.n_batch = 512
        p.n_ubatch = 512
        p.n_seq_max = n_seq
        p.n_threads = threads
        p.n_threads_batch = threads
        p.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
        p.no_perf = True
        self.ctx = L.llama_init_from_model(model, p)
        if not self.ctx:
            raise SystemExit("llama_init_from_model failed")
        self.vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
        self.batch = L.llama_batch_init(max(512, n_seq), 0, max(1, n_seq))

    def clear(self):
        L.llama_memory_clear(L.llama_get_memory(self.ctx), True)

    def decode(self, items):
        """items: (token, pos, seq, wants_logits)."""
        b = self.batch
        b.n_tokens = len(items)
        for i, (tok, pos, seq, lg) in enumerate(items):
            b.token[i] = tok
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = 1 if lg else 0
        rc = L.llama_decode(self.ctx, b)
        if rc != 0:
            raise SystemExit(f"llama_decode failed: {rc}")

    def argmax(self, i):
        ptr = L.llama_get_logits_ith(self.ctx, i)
        return int(np.ctypeslib.as_array(ptr, shape=(self.vocab,)).argmax())

    def prefill(self, ids, seq=0, start=0):
        for off in range(0, len(ids), 512):
            chunk = ids[off:off + 512]
            last = off + len(chunk) == len(ids)
            self.decode([(t, start + off + i, seq, last and i == len(chunk) - 1) for i, t in enumerate(chunk)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--prompt-lengths", default="128,512")
    ap.add_argument("--decode-tokens", type=int, default=128)
    ap.add_argument("--batch-sizes", default="8,32")
    ap.add_argument("--batch-prompt", type=int, default=128)
    ap.add_argument("--batch-steps", type=int, default=128)
    ap.add_argument("--rss-only", action="store_true")
    a = ap.parse_args()

    L.llama_backend_init()
    L.llama_log_set(ctypes.cast(None, L.llama_log_callback), None) if hasattr(L, "llama_log_callback") else None
    mp = L.llama_model_default_params()
    model = L.llama_model_load_from_file(a.model.encode(), mp)
    out = {"threads": a.threads}

    if a.rss_only:
        c = Ctx(model, a.threads, 1024)
        c.prefill(token_ids(512))
        nxt = c.argmax(-1)
        for s in range(128):
            c.decode([(nxt, 512 + s, 0, True)])
            nxt = c.argmax(-1)
        out["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(out))
        return

    c = Ctx(model, a.threads, 1024)
    c.prefill(token_ids(16))  # warm-up
    for n in [int(x) for x in a.prompt_lengths.split(",") if x]:
        c.clear()
        ids = token_ids(n)
        t0 = time.perf_counter()
        c.prefill(ids)
        out[f"prefill_{n}"] = n / (time.perf_counter() - t0)
    if a.decode_tokens > 0:
        c.clear()
        prompt = token_ids(8)
        c.prefill(prompt)
        nxt = c.argmax(-1)
        t0 = time.perf_counter()
        for s in range(a.decode_tokens):
            c.decode([(nxt, len(prompt) + s, 0, True)])
            nxt = c.argmax(-1)
        out["decode"] = a.decode_tokens / (time.perf_counter() - t0)
    for bsz in [int(x) for x in a.batch_sizes.split(",") if x]:
        bc = Ctx(model, a.threads, bsz * (a.batch_prompt + a.batch_steps + 16), n_seq=bsz)
        nxt = []
        for s in range(bsz):
            bc.prefill(token_ids(a.batch_prompt, offset=s), seq=s)
            nxt.append(bc.argmax(-1))
        t0 = time.perf_counter()
        for step in range(a.batch_steps):
            bc.decode([(nxt[s], a.batch_prompt + step, s, True) for s in range(bsz)])
            nxt = [bc.argmax(s) for s in range(bsz)]
        out[f"batched_{bsz}"] = bsz * a.batch_steps / (time.perf_counter() - t0)
        L.llama_batch_free(bc.batch)
        L.llama_free(bc.ctx)
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
