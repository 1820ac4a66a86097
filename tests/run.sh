#!/usr/bin/env bash
# The one test command (README, CONTRIBUTING and CI run exactly this), from anywhere:
#
#     bash tests/run.sh [extra pytest arguments for the main suite]
#
# Stages: ruff check, ruff format --check, mypy, lint-imports, pytest (everything but the real
# keyring), then the real-keyring tests against a throwaway gnome-keyring inside its own D-Bus
# session. Every stage runs even if an earlier one failed; the summary says which failed.
# Needs the test extra (`python3 -m pip install -e '.[test]'`) and, for the last stage, the Debian
# packages dbus and gnome-keyring (libsecret-tools for one more check); .ci/run installs them all.
set -euo pipefail

PYTHON=${PYTHON:-python3}

# The keyring stage re-enters this script inside dbus-run-session (see keyring_stage below).
if [[ "${1:-}" == "--inside-keyring-session" ]]; then
    # gnome-keyring creates the "login" collection (the Secret Service default) protected by the
    # password it reads on stdin, and leaves it unlocked. An empty password would make it ask
    # through a GUI prompt instead, which fails without a display.
    printf '%s' "$STAFFETTA_TEST_KEYRING_PASSWORD" \
        | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    # The daemon forks before it answers on the bus: wait (bounded) until the default collection
    # exists and is unlocked, so a slow start is not mistaken for a failing test.
    "$PYTHON" - <<'PY'
import sys, time
import secretstorage
deadline = time.monotonic() + 20
while True:
    try:
        with secretstorage.dbus_init() as bus:
            if not secretstorage.get_default_collection(bus).is_locked():
                break
            problem = "the login collection is locked"
    except Exception as exc:  # not on the bus yet, or no default collection yet
        problem = f"{type(exc).__name__}: {exc}"
    if time.monotonic() > deadline:
        sys.exit(f"gnome-keyring did not come up: {problem}")
    time.sleep(0.1)
PY
    echo "(gcr-prompter 'cannot open display' lines are expected: with no display, gnome-keyring's"
    echo " unlock prompt fails, which is how the locked-keyring test gets a locked keyring)"
    rc=0
    "$PYTHON" -m pytest -m keyring_real tests/keyring || rc=$?
    if [[ $rc -eq 5 ]]; then
        echo "(no real-keyring tests collected)"
        rc=0
    fi
    exit "$rc"
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."
# Use the tools installed next to this Python (pip's scripts folder), not whatever is on PATH:
# under pyenv, `python3 -m pip install` does not refresh the shims.
PATH="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
export PATH

keyring_stage() {
    local tool
    for tool in dbus-run-session gnome-keyring-daemon; do
        if ! command -v "$tool" >/dev/null; then
            echo "$tool not found: install the Debian packages dbus and gnome-keyring" >&2
            return 1
        fi
    done
    # Everything gnome-keyring and keyring read or write lives in a folder thrown away afterwards:
    # never the developer's own keyrings, keyring config or running daemon.
    local scratch rc=0
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/staffetta-keyring.XXXXXX")
    mkdir -m 700 "$scratch/runtime"
    env XDG_RUNTIME_DIR="$scratch/runtime" XDG_DATA_HOME="$scratch/data" \
        XDG_CONFIG_HOME="$scratch/config" XDG_CACHE_HOME="$scratch/cache" \
        STAFFETTA_TEST_KEYRING_PASSWORD="ci-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" \
        dbus-run-session -- bash "$here/run.sh" --inside-keyring-session || rc=$?
    rm -rf "$scratch"
    return "$rc"
}

names=()
results=()
failed=0
stage() {
    local name=$1 start=$SECONDS rc=0
    shift
    printf '\n===== %s =====\n' "$name"
    "$@" || rc=$?
    names+=("$name")
    if [[ $rc -eq 0 ]]; then
        results+=("ok      $((SECONDS - start))s")
    else
        results+=("FAILED  $((SECONDS - start))s (exit $rc)")
        failed=1
    fi
}

stage "ruff check" ruff check .
stage "ruff format" ruff format --check .
stage "mypy" mypy
stage "lint-imports" lint-imports --no-cache
stage "pytest" "$PYTHON" -m pytest -m "not keyring_real" tests "$@"
stage "pytest keyring (real Secret Service)" keyring_stage

printf '\n===== summary =====\n'
for i in "${!names[@]}"; do
    printf '%-40s %s\n' "${names[$i]}" "${results[$i]}"
done
if [[ $failed -ne 0 ]]; then
    echo "tests/run.sh: FAILED"
    exit 1
fi
echo "tests/run.sh: all passed (${SECONDS}s)"
