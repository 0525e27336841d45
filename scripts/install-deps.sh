#!/usr/bin/env bash
# Installs the system packages Tern needs, idempotently: fast when everything is present.
# Debian/Ubuntu: OpenBLAS (GEMM), libpng and libjpeg (ImageIO), pkg-config (SwiftPM finds OpenBLAS through it), python3 + pip
# (model and data files come from PyPI wheels), dict-foldoc (the offline encyclopedia the agents search).
set -euo pipefail

need=()
dpkg -s libopenblas-dev >/dev/null 2>&1 || need+=(libopenblas-dev)
dpkg -s libpng-dev >/dev/null 2>&1 || need+=(libpng-dev)
dpkg -s libjpeg-dev >/dev/null 2>&1 || need+=(libjpeg-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
[ -f /usr/share/dictd/foldoc.dict.dz ] || need+=(dict-foldoc)
for pkg in ${TERN_EXTRA_APT_PACKAGES:-}; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done

if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
echo "tern: installing ${need[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "tern: need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${need[@]}" >/dev/null
