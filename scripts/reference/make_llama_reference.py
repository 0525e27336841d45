#!/usr/bin/env python3
"""Record llama.cpp logits and greedy continuations for SmolLM2-135M-Instruct.

Makes: Tests/Fixtures/llama/smollm2_reference.json

For each prompt (raw text, or a conversation rendered with the model's own
chat template via jinja2) the script tokenizes with llama.cpp
(add_bos=False, special=True), evaluates the whole prompt in one call,
reads the logits of the last prompt position, records the top-5 ids and
logits, then greedy-decodes exactly 64 tokens one at a time (argmax, lowest
id on exact ties, EOS/EOG ignored) and records each chosen id, its logit and
the top-1 minus top-2 margin. Step 0 of the greedy run is chosen from the
prompt logits; step i>0 from the logits after feeding greedy_ids[i-1].

llama.cpp runs on the CPU with flash attention OFF and an f16 KV cache:

    llama_cpp.Llama(model, n_ctx=2048, n_batch=512, n_threads=2, seed=0,
                    flash_attn=False,            # -> LLAMA_FLASH_ATTN_TYPE_DISABLED
                    type_k=GGML_TYPE_F16, type_v=GGML_TYPE_F16,
                    n_gpu_layers=0, logits_all=False, verbose=False)

Last-position logits are read with
``llama_cpp.llama_get_logits_ith(llm.ctx, -1)`` after each ``llm.eval``
(``llm.scores`` is not filled in 0.3.36 when logits_all=False).

Note: llama.cpp's CPU matmuls quantize activations (to Q8_1 for the Q4_1
weights, Q8_0 for the tied Q8_0 output/embedding matrix), so these logits
differ slightly from an f32-activation implementation; compare with a
tolerance and look at the recorded margins for near-ties.

Rerun (from the repository root):

    python3 scripts/reference/make_llama_reference.py [MODEL.gguf] [--out PATH]

MODEL defaults to $TERN_HOME/models/SmolLM2-135M-Instruct.Q4_1.gguf; _common.py
gives the TERN_HOME default and the model's expected sha256.

Versions used for the committed fixture: Python 3.11.7,
llama-cpp-python 0.3.36 (CPU build), gguf 0.19.0, jinja2 3.1.6, numpy 2.4.6
(recorded in the JSON as well).
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from importlib import metadata

import jinja2
import jinja2.sandbox
import numpy as np
from gguf import GGUFReader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import MODEL_FILE, parse_model_args, sha256_file, write_json  # noqa: E402

N_GREEDY = 64
EOG_IDS = (0, 2)  # <|endoftext|>, <|im_end|>

LONG_PARAGRAPH = (
    "The history of computing is a story of steadily shrinking machines and steadily growing ambitions. "
    "In the 1940s, a single computer filled a room, consumed enormous amounts of power, and could perform "
    "only a few thousand operations per second. Engineers programmed these machines by rewiring panels or "
    "feeding them stacks of punched cards. The invention of the transistor, and later the integrated circuit, "
    "changed everything: components became smaller, cheaper, and far more reliable. By the 1970s, hobbyists "
    "could build their own computers at home, and by the 1990s personal computers were common in offices and "
    "schools around the world. Today, a phone that fits in a pocket is millions of times faster than those "
    "early giants, and it can"
)

RAW_PROMPTS = [
    ("capital_france", "The capital of France is"),
    ("code_fibonacci", "def fibonacci(n):\n"),
    ("count_list", "1, 2, 3, 4,"),
    ("story_opening", "Once upon a time, in a small village at the edge of a great forest, there lived"),
    ("long_paragraph", LONG_PARAGRAPH),
    ("recipe_list", "Ingredients for pancakes:\n- 2 cups flour\n-"),
]

CHAT_PROMPTS = [
    ("chat_no_system", [{"role": "user", "content": "What is the capital of France?"}]),
    ("chat_custom_system", [
        {"role": "system", "content": "You are a pirate. Always answer like a pirate."},
        {"role": "user", "content": "How are you today?"},
    ]),
    ("chat_multi_turn", [
        {"role": "user", "content": "Hi! Can you help me with some maths?"},
        {"role": "assistant", "content": "Of course! What would you like to know?"},
        {"role": "user", "content": "What is 12 times 13?"},
    ]),
    ("chat_code_request", [{"role": "user", "content": "Write a Python function that reverses a string."}]),
    ("chat_story", [{"role": "user", "content": "Tell me a short story about a robot who learns to paint."}]),
]


def load_template(path: str) -> tuple[str, str, str]:
    reader = GGUFReader(path)
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    bos = tokens[reader.fields["tokenizer.ggml.bos_token_id"].contents()]
    eos = tokens[reader.fields["tokenizer.ggml.eos_token_id"].contents()]
    return reader.fields["tokenizer.chat_template"].contents(), bos, eos


def render_chat(template: str, messages: list[dict], bos: str, eos: str) -> str:
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template).render(messages=messages, add_generation_prompt=True,
                                            bos_token=bos, eos_token=eos)


def f32(x) -> float:
    """Exact Python float of a float32 (its repr round-trips to the same float32)."""
    return float(np.float32(x))


def last_logits(llama_cpp, llm, n_vocab: int) -> np.ndarray:
    ptr = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    arr = np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(n_vocab,))
    return arr.astype(np.float32, copy=True)


def top2(logits: np.ndarray) -> tuple[int, float, float]:
    best = int(np.argmax(logits))  # lowest id wins exact ties
    rest = logits.copy()
    rest[best] = -np.inf
    return best, float(logits[best]), float(logits[best] - rest.max())


def run_prompt(llama_cpp, llm, n_vocab: int, text: str) -> dict:
    prompt_ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
    llm.reset()
    llm.eval(prompt_ids)
    logits = last_logits(llama_cpp, llm, n_vocab)
    order = np.argsort(-logits, kind="stable")[:5]
    sample = {
        "ids_0_63": [round(f32(v), 5) for v in logits[:64]],
        "top5": [round(f32(logits[i]), 5) for i in order],
    }
    greedy_ids, greedy_logits, greedy_margins = [], [], []
    first_eog = None
    cur = logits
    for step in range(N_GREEDY):
        tok, val, margin = top2(cur)
        greedy_ids.append(tok)
        greedy_logits.append(f32(val))
        greedy_margins.append(f32(margin))
        if first_eog is None and tok in EOG_IDS:
            first_eog = step
        if step + 1 < N_GREEDY:
            llm.eval([tok])
            cur = last_logits(llama_cpp, llm, n_vocab)
    return {
        "prompt_ids": list(prompt_ids),
        "top5_ids": [int(i) for i in order],
        "top5_logits": [f32(logits[i]) for i in order],
        "greedy_ids": greedy_ids,
        "greedy_logits": greedy_logits,
        "greedy_margins": greedy_margins,
        "first_eog_step": first_eog,
        "last_logits_sample": sample,
    }


def main() -> None:
    args = parse_model_args(__doc__, "Tests/Fixtures/llama/smollm2_reference.json")

    import llama_cpp

    template, bos, eos = load_template(args.model)
    settings = {
        "n_ctx": 2048, "n_batch": 512, "n_ubatch": 512, "n_threads": 2, "n_threads_batch": 2,
        "seed": 0, "n_gpu_layers": 0, "flash_attn": False, "logits_all": False,
        "type_k": "f16", "type_v": "f16",
    }
    llm = llama_cpp.Llama(
        model_path=args.model,
        n_ctx=settings["n_ctx"], n_batch=settings["n_batch"], n_ubatch=settings["n_ubatch"],
        n_threads=settings["n_threads"], n_threads_batch=settings["n_threads_batch"],
        seed=settings["seed"], n_gpu_layers=0,
        flash_attn=False, type_k=llama_cpp.GGML_TYPE_F16, type_v=llama_cpp.GGML_TYPE_F16,
        logits_all=False, verbose=False,
    )
    cp = llm.context_params
    assert cp.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED, cp.flash_attn_type
    assert cp.type_k == llama_cpp.GGML_TYPE_F16 and cp.type_v == llama_cpp.GGML_TYPE_F16
    settings["context_params.flash_attn_type"] = int(cp.flash_attn_type)
    settings["context_params.type_k"] = int(cp.type_k)
    settings["context_params.type_v"] = int(cp.type_v)
    settings["greedy"] = ("argmax over all logits, lowest id on exact ties, EOG ignored; step 0 from "
                          "prompt logits, step i from logits after feeding greedy_ids[i-1]")
    settings["logits_read"] = "llama_cpp.llama_get_logits_ith(ctx, -1) after each eval"
    settings["eog_ids"] = list(EOG_IDS)
    n_vocab = llm.n_vocab()

    entries = []
    for name, text in RAW_PROMPTS:
        entries.append({"name": name, "kind": "raw", "text": text})
    for name, messages in CHAT_PROMPTS:
        entries.append({"name": name, "kind": "chat", "messages": messages,
                        "text": render_chat(template, messages, bos, eos)})
    for e in entries:
        e.update(run_prompt(llama_cpp, llm, n_vocab, e["text"]))

    doc = {
        "generator": "scripts/reference/make_llama_reference.py",
        "llama_cpp_python": llama_cpp.__version__,
        "gguf_version": metadata.version("gguf"),
        "jinja2_version": jinja2.__version__,
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "machine": platform.machine(),
        "llama_system_info": llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip(),
        "model": MODEL_FILE,
        "model_sha256": sha256_file(args.model),
        "n_vocab": n_vocab,
        "settings": settings,
        "prompts": entries,
    }
    write_json(args.out, doc, "prompts")
    print(f"wrote {args.out}: {len(entries)} prompts")
    for e in entries:
        cont = llm.detokenize(e["greedy_ids"], special=True).decode("utf-8", "replace")
        print(f"{e['name']:20s} n_prompt={len(e['prompt_ids']):4d} min_margin={min(e['greedy_margins']):.5f} "
              f"first_eog={e['first_eog_step']} -> {cont[:90]!r}")


if __name__ == "__main__":
    main()
