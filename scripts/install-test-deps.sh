#!/usr/bin/env bash
# What `make test` needs beyond `make run`: the official OpenAI Python client and websocket-client
# (live server tests), headless Chromium (web page test) and curl. Idempotent and fast when present.
set -euo pipefail
TERN_EXTRA_APT_PACKAGES="chromium curl" "$(dirname "$0")/install-deps.sh"
python3 - <<'PY' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check openai==2.8.1 websocket-client==1.8.0
import openai, websocket
PY
