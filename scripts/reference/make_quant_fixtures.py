#!/usr/bin/env python3
"""Generate dequantization reference fixtures for Tern's ggml block decoders.

Makes: Tests/Fixtures/quant/dequant.json

For each supported ggml tensor type this script builds raw bytes for two
blocks' worth of elements (32-element blocks for Q4_0..Q8_0, 256-element
super-blocks for the K-quants, 64 elements for F32/F16/BF16) from a
fixed-seed numpy RNG, and dequantizes them with the reference implementation
in gguf-py: ``gguf.quants.dequantize(uint8_array, GGMLQuantizationType.X)``.

Bytes are random except that every fp16 scale / min field is overwritten with
a finite, normal fp16 whose magnitude is uniform in [0.001, 2] (random sign),
so no NaN/Inf can appear in the output. F16/BF16/F32 payloads are random bit
patterns restricted to finite values (zeros and subnormals are allowed).

Q8_1 is skipped: gguf-py has no dequantizer for it.

Rerun (from the repository root):

    python3 scripts/reference/make_quant_fixtures.py [output.json]

Versions used to produce the committed fixture: Python 3.11.7, gguf 0.19.0,
numpy 2.4.6 (recorded in the JSON as well). No model file is needed.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import metadata

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

SEED = 20240607
QK_K = 256

# type -> (elements per block, bytes per block, byte offsets of fp16 scale/min fields)
LAYOUTS: dict[str, tuple[int, int, tuple[int, ...]]] = {
    "Q4_0": (32, 18, (0,)),            # d, qs[16]
    "Q4_1": (32, 20, (0, 2)),          # d, m, qs[16]
    "Q5_0": (32, 22, (0,)),            # d, qh[4], qs[16]
    "Q5_1": (32, 24, (0, 2)),          # d, m, qh[4], qs[16]
    "Q8_0": (32, 34, (0,)),            # d, qs[32] (int8)
    "Q2_K": (QK_K, 84, (80, 82)),      # scales[16], qs[64], d, dmin
    "Q3_K": (QK_K, 110, (108,)),       # hmask[32], qs[64], scales[12], d
    "Q4_K": (QK_K, 144, (0, 2)),       # d, dmin, scales[12], qs[128]
    "Q5_K": (QK_K, 176, (0, 2)),       # d, dmin, scales[12], qh[32], qs[128]
    "Q6_K": (QK_K, 210, (208,)),       # ql[128], qh[64], scales[16] (int8), d
}

ORDER = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
         "Q4_K", "Q5_K", "Q6_K", "Q2_K", "Q3_K", "Q8_1"]


def random_scale_fp16(rng: np.random.Generator) -> bytes:
    mag = rng.uniform(0.001, 2.0)
    sign = -1.0 if rng.integers(0, 2) else 1.0
    h = np.array([sign * mag], dtype=np.float16)
    assert np.isfinite(h[0]) and abs(float(h[0])) >= np.finfo(np.float16).tiny
    return h.tobytes()


def make_float_payload(name: str, rng: np.random.Generator, n: int) -> np.ndarray:
    if name == "F32":
        bits = rng.integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32)
        # Half of the values: random finite bit patterns; half: moderate values.
        moderate = rng.uniform(-4.0, 4.0, size=n).astype(np.float32).view(np.uint32)
        bits = np.where(np.arange(n) % 2 == 0, bits, moderate).astype(np.uint32)
        exp_all_ones = (bits & 0x7F800000) == 0x7F800000
        bits = np.where(exp_all_ones, bits & ~np.uint32(0x40000000), bits).astype(np.uint32)
        return bits.astype("<u4").view(np.uint8)
    if name == "F16":
        bits = rng.integers(0, 2**16, size=n, dtype=np.uint32).astype(np.uint16)
        exp_all_ones = (bits & 0x7C00) == 0x7C00
        bits = np.where(exp_all_ones, bits & ~np.uint16(0x4000), bits).astype(np.uint16)
        return bits.astype("<u2").view(np.uint8)
    if name == "BF16":
        bits = rng.integers(0, 2**16, size=n, dtype=np.uint32).astype(np.uint16)
        exp_all_ones = (bits & 0x7F80) == 0x7F80
        bits = np.where(exp_all_ones, bits & ~np.uint16(0x4000), bits).astype(np.uint16)
        return bits.astype("<u2").view(np.uint8)
    raise ValueError(name)


def make_quant_payload(name: str, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    block_elems, block_bytes, scale_offsets = LAYOUTS[name]
    size_check = quants.GGML_QUANT_SIZES[getattr(T, name)]
    assert size_check == (block_elems, block_bytes), (name, size_check)
    data = bytearray()
    for _ in range(2):
        block = bytearray(rng.integers(0, 256, size=block_bytes, dtype=np.uint16).astype(np.uint8).tobytes())
        for off in scale_offsets:
            block[off:off + 2] = random_scale_fp16(rng)
        data += block
    return np.frombuffer(bytes(data), dtype=np.uint8).copy(), 2 * block_elems


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "Tests", "Fixtures", "quant", "dequant.json")

    rng = np.random.default_rng(SEED)
    fixtures = []
    skipped = []
    for name in ORDER:
        qtype = getattr(T, name)
        if name in ("F32", "F16", "BF16"):
            n = 64
            raw = make_float_payload(name, rng, n)
        elif name in LAYOUTS:
            raw, n = make_quant_payload(name, rng)
        else:
            # Try anyway (e.g. Q8_1); record as skipped if gguf-py can't do it.
            try:
                quants.dequantize(np.zeros(quants.GGML_QUANT_SIZES[qtype][1], dtype=np.uint8), qtype)
            except NotImplementedError:
                skipped.append(name)
                continue
            raise RuntimeError(f"{name}: gguf-py can dequantize it now; add a layout entry")
        values = quants.dequantize(raw, qtype).astype(np.float32).reshape(-1)
        assert values.size == n, (name, values.size, n)
        assert np.all(np.isfinite(values)), name
        fixtures.append({
            "type": name,
            "ggml_type": int(qtype),
            "n_elements": n,
            "data_hex": raw.tobytes().hex(),
            # float(np.float32) is exact; its repr round-trips to the same float32.
            "values": [float(v) for v in values],
        })

    doc = {
        "generator": "scripts/reference/make_quant_fixtures.py",
        "gguf_version": metadata.version("gguf"),
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "seed": SEED,
        "skipped_types": skipped,
        "fixtures": fixtures,
    }
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("{\n")
        keys = [k for k in doc if k != "fixtures"]
        for k in keys:
            f.write(f"  {json.dumps(k)}: {json.dumps(doc[k])},\n")
        f.write('  "fixtures": [\n')
        for i, fx in enumerate(fixtures):
            sep = "," if i + 1 < len(fixtures) else ""
            f.write("    " + json.dumps(fx, separators=(",", ":")) + sep + "\n")
        f.write("  ]\n}\n")

    # Self-check: values round-trip exactly through JSON as float32.
    with open(out_path, encoding="utf-8") as f:
        back = json.load(f)
    for fx in back["fixtures"]:
        raw = np.frombuffer(bytes.fromhex(fx["data_hex"]), dtype=np.uint8).copy()
        ref = quants.dequantize(raw, getattr(T, fx["type"])).astype(np.float32).reshape(-1)
        got = np.array(fx["values"], dtype=np.float32)
        assert np.array_equal(ref.view(np.uint32), got.view(np.uint32)), fx["type"]
    print(f"wrote {out_path}: {[fx['type'] for fx in fixtures]} (skipped {skipped})")


if __name__ == "__main__":
    main()
