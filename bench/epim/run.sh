#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/epim/run.sh: the full EPIM run, written to bench/epim/result.json with the accuracy-vs-
# crossbars plot (bench/epim/pareto.svg) and ResNet-50's per-layer cost table
# (bench/epim/pim-report-resnet50.txt). Each variant is a resumable piece. Extra arguments go to
# `tern bench epim` (e.g. --set epochs=3). Data: scripts/fetch-data.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product tern >&2
mkdir -p bench/epim
.build/release/tern pim report --network resnet50 > bench/epim/pim-report-resnet50.txt
.build/release/tern bench epim --out bench "$@"
