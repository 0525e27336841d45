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

MODEL defaults to $TERN_HOME/models/SmolLM2-135M-Instruct.Q4_1.gguf; _common.py
gives the TERN_HOME default and the model's expected sha256.

Versions used for the committed fixture: Python 3.11.7, gguf 0.19.0,
jinja2 3.1.6 (recorded in the JSON as well).
"""

from __future__ import annotations

import json
import os
import sys
from importlib import metadata

import jinja2
import jinja2.sandbox
from gguf import GGUFReader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import parse_model_args, sha256_file, write_json  # noqa: E402


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


# (add_generation_prompt, turns); each turn is (role, content).
CONVERSATION_TABLE = [
    (True, [("user", "What is the capital of France?")]),
    (True, [("system", "You are a terse assistant. Answer in one word."), ("user", "Name a primary colour.")]),
    (True, [("user", "Hi! Can you help me with maths?"), ("assistant", "Of course. What do you need?"),
            ("user", "What is 12 * 13?")]),
    (True, [("user", "Translate:\n\n  \"café\" → 咖啡馆\n\tand 😀 (emoji)\nThanks!")]),
    (False, [("user", "Say hello."), ("assistant", "Hello!")]),
    (False, [("system", "Line one.\nLine two with <tags> & \"quotes\"."), ("user", "Ünïcödé ✓ — ok?"),
             ("assistant", "Yes.\n")]),
]

CONVERSATIONS = [([{"role": role, "content": content} for role, content in turns], add_gen)
                 for add_gen, turns in CONVERSATION_TABLE]


def main() -> None:
    args = parse_model_args(__doc__, "Tests/Fixtures/chat/smollm2_template.json")

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
    write_json(args.out, doc, "cases")
    print(f"wrote {args.out}: {len(cases)} cases")
    for c in cases[:2]:
        print(repr(c["rendered"]))


if __name__ == "__main__":
    main()
