#!/usr/bin/env bash
# Installs the project's Python tools into .venv (moto server for tests, checkov for the security
# scan, parliament for IAM policy lint). Idempotent; versions pinned.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
want="moto[server]==5.2.5 checkov==3.3.30 parliament==1.6.4 duckdb==2.0.1"
stamp=".venv/.installed"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing python tools into .venv: $want"
  .venv/bin/pip install --quiet --disable-pip-version-check $want
  echo "$want" > "$stamp"
fi
