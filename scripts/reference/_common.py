"""Helpers shared by the reference-fixture generators in this folder.

Used by make_chat_templates.py, make_llama_reference.py and
make_tokenizer_corpus.py: the default model path, the model's sha256, the
command line they all share (``[MODEL.gguf] [--out PATH]``) and the JSON
layout of the fixtures they write. Not a script; needs only the standard
library.

MODEL (the scripts' optional first argument) defaults to
$TERN_HOME/models/SmolLM2-135M-Instruct.Q4_1.gguf (TERN_HOME defaults to
~/.cache/tern). Expected model sha256:
b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def default_model_path() -> str:
    home = os.environ.get("TERN_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "tern")
    return os.path.join(home, "models", MODEL_FILE)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_model_args(doc: str, default_out: str) -> argparse.Namespace:
    """Parse ``[MODEL.gguf] [--out PATH]``; exit if the model file is missing.

    doc is the script's docstring (its first line is the --help description);
    default_out is the default output path relative to the repository root.
    """
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("model", nargs="?", default=default_model_path())
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, *default_out.split("/")))
    args = ap.parse_args()
    if not os.path.exists(args.model):
        sys.exit(f"model not found: {args.model} (pass the path as the first argument)")
    return args


def write_json(path: str, doc: dict, list_key: str) -> None:
    """Top-level keys one per line; entries of doc[list_key] one per line.

    Creates the parent folder of path if needed.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
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
