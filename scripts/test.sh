#!/usr/bin/env bash
# The test command of the README: makes sure the local servers the tests use are installed
# (MariaDB from Debian, moto server in .venv), then runs the whole jest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system.sh
bash scripts/setup-python.sh
exec npx jest "$@"
