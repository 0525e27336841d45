#!/usr/bin/env python3
"""Render SmolLM2's own chat template with jinja2 as a reference for Tern.

Makes: Tests/Fixtures/chat/smollm2_template.json

The template string is read from the GGUF metadata key
``tokenizer.chat_template`` with gguf-py and rendered with jinja2 the same
way Hugging Face transformers does (ImmutableSandboxedEnvironment with
trim_blocks=True, lstrip_blocks=True) for six conversations: no system
message, a custom system message, multi-turn user/assistant/user, a message
with newlines and unicode, each with add_generation_prompt true or false.

Rerun (from the repository root):

    python3 scripts/reference/make_chat_templates.py [MODEL.gguf] [--out PATH]

MODEL defaults to $TERN_HOME/models/SmolLM2-135M-Instruct.Q4_1.gguf
(TERN_HOME defaults to ~/.cache/tern). Expected model sha256:
b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53.

Versions used for the committed fixture: Python 3.11.7, gguf 0.19.0,
jinja2 3.1.6 (recorded in the JSON as well).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from importlib import metadata

import jinja2
import jinja2.sandbox
from gguf import GGUFReader

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> str:
    home = os.environ.get("TERN_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "tern")
    return os.path.join(home, "models", MODEL_FILE)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_gguf_strings(path: str) -> dict:
    reader = GGUFReader(path)
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    bos_id = reader.fields["tokenizer.ggml.bos_token_id"].contents()
    eos_id = reader.fields["tokenizer.ggml.eos_token_id"].contents()
    return {
        "template": reader.fields["tokenizer.chat_template"].contents(),
        "bos_token": tokens[bos_id],
        "eos_token": tokens[eos_id],
    }


def make_env() -> jinja2.Environment:
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    env.filters["tojson"] = lambda x, **kw: json.dumps(x, ensure_ascii=False, **kw)
    return env


CONVERSATIONS = [
    ([{"role": "user", "content": "What is the capital of France?"}], True),
    ([{"role": "system", "content": "You are a terse assistant. Answer in one word."},
      {"role": "user", "content": "Name a primary colour."}], True),
    ([{"role": "user", "content": "Hi! Can you help me with maths?"},
      {"role": "assistant", "content": "Of course. What do you need?"},
      {"role": "user", "content": "What is 12 * 13?"}], True),
    ([{"role": "user", "content": "Translate:\n\n  \"café\" → 咖啡馆\n\tand 😀 (emoji)\nThanks!"}], True),
    ([{"role": "user", "content": "Say hello."},
      {"role": "assistant", "content": "Hello!"}], False),
    ([{"role": "system", "content": "Line one.\nLine two with <tags> & \"quotes\"."},
      {"role": "user", "content": "Ünïcödé ✓ — ok?"},
      {"role": "assistant", "content": "Yes.\n"}], False),
]


def write_json(path: str, doc: dict, list_key: str) -> None:
    """Top-level keys one per line; entries of doc[list_key] one per line."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n")
        for k, v in doc.items():
            if k == list_key:
                continue
            f.write(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},\n")
        f.write(f"  {json.dumps(list_key)}: [\n")
        items = doc[list_key]
        for i, item in enumerate(items):
            sep = "," if i + 1 < len(items) else ""
            f.write("    " + json.dumps(item, ensure_ascii=False, separators=(",", ":")) + sep + "\n")
        f.write("  ]\n}\n")


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", default=default_model_path())
    ap.add_argument("--out", default=os.path.join(repo, "Tests", "Fixtures", "chat", "smollm2_template.json"))
    args = ap.parse_args()
    if not os.path.exists(args.model):
        sys.exit(f"model not found: {args.model} (pass the path as the first argument)")

    meta = read_gguf_strings(args.model)
    template = meta["template"]
    compiled = make_env().from_string(template)
    cases = []
    for messages, add_gen in CONVERSATIONS:
        rendered = compiled.render(messages=messages, add_generation_prompt=add_gen,
                                   bos_token=meta["bos_token"], eos_token=meta["eos_token"])
        cases.append({"messages": messages, "add_generation_prompt": add_gen, "rendered": rendered})

    doc = {
        "generator": "scripts/reference/make_chat_templates.py",
        "gguf_version": metadata.version("gguf"),
        "jinja2_version": jinja2.__version__,
        "python_version": sys.version.split()[0],
        "jinja_env": "jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)",
        "model_sha256": sha256_file(args.model),
        "bos_token": meta["bos_token"],
        "eos_token": meta["eos_token"],
        "template": template,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    write_json(args.out, doc, "cases")
    print(f"wrote {args.out}: {len(cases)} cases")
    for c in cases[:2]:
        print(repr(c["rendered"]))


if __name__ == "__main__":
    main()
