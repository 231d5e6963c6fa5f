#!/usr/bin/env bash
# The test command of the README: makes sure the local servers the tests use are installed
# (MariaDB from Debian, moto server in .venv), then runs the whole jest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system.sh
bash scripts/setup-python.sh
# DEP0044 is util.isArray in cdktf 0.21.0 (its last release), printed once per jest worker on Node.js 22;
# npm run synth silences the same code (scripts/synth.mjs). Any other deprecation still prints.
NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--disable-warning=DEP0044" exec npx jest "$@"
