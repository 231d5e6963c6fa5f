#!/usr/bin/env bash
# Installs the project's Python tools into .venv at the repository root (nothing system-wide), pinned:
#   moto[server]  local AWS APIs on 127.0.0.1 for the tests, `npm run verify` and `npm run local`
#   checkov       security scan of the synthesized Terraform (`npm run scan`)
#   parliament    IAM policy lint (`npm run verify`)
#   duckdb        the processor benchmark's peer (`npm run bench -- processor`)
# Idempotent: .venv/.installed records what was installed; nothing is fetched when it matches.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $(python3 --version 2>&1) (python3 -m venv)"
  python3 -m venv .venv
fi
want="moto[server]==5.2.5 checkov==3.3.30 parliament==1.6.4 duckdb==2.0.1"
stamp=".venv/.installed"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing python tools into $(pwd)/.venv with pip: $want (and their dependencies)"
  .venv/bin/pip install --quiet --disable-pip-version-check $want
  echo "$want" > "$stamp"
  echo "installed into .venv: $want"
else
  echo "python tools in .venv: present ($want)"
fi
