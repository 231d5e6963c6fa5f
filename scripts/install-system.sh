#!/usr/bin/env bash
# System packages the tests and tools need, from Debian/Ubuntu apt (README "Prerequisites"):
#   mariadb-server  MariaDB server (mariadbd): Aurora MySQL-compatible SQL for the reporting tests and
#                   `npm run local`; each test starts its own server on a loopback port and a temp dir
#   graphviz        `dot`: draws docs/architecture.{svg,png} (`npm run diagram`, the diagram test)
#   python3-venv    `python3 -m venv` for .venv (scripts/setup-python.sh); Debian ships it separately
# Installs only what is missing (apt-get, with sudo when not root) and says what it found and did.
set -euo pipefail
missing=()
check() { # <package> <why> <test command...>
  local pkg=$1 why=$2; shift 2
  if "$@" >/dev/null 2>&1; then echo "system package $pkg: present ($why)"; else missing+=("$pkg"); echo "system package $pkg: missing ($why)"; fi
}
check mariadb-server "MariaDB server for the reporting tests and the local run" sh -c 'command -v mariadbd || [ -x /usr/sbin/mariadbd ]'
check graphviz "dot, for the architecture diagram" command -v dot
check python3-venv "python3 -m venv, for .venv" python3 -c 'import ensurepip, venv'
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "installing with apt-get: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "installed: ${missing[*]}"
fi
