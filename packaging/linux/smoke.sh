#!/usr/bin/env bash
# Prove an installed .deb works, as a user would use it; run as root (CI).
#
#     bash packaging/linux/smoke.sh NEW.deb [OLDER.deb]
#
# With OLDER.deb it is installed first and used (an account and a published post), then NEW.deb is
# installed over it: the upgrade must keep the user's outbox, accounts and posts. Then:
# `staffetta --version`, `staffetta --quit-after-startup` (offscreen), a CLI publish to the
# static-site channel from the installed binary, the pip-installed Staffetta (if any) seeing the
# same data, and removal leaving nothing in /opt or /usr/bin.
set -euo pipefail
NEW=$(realpath "$1")
OLD=${2:+$(realpath "$2")}
WANT_VERSION=$(dpkg-deb -f "$NEW" Version)
export QT_QPA_PLATFORM=offscreen DEBIAN_FRONTEND=noninteractive

USER_HOME=$(mktemp -d)
trap 'rm -rf "$USER_HOME"' EXIT
# A user's own home: platformdirs puts the outbox under ~/.local/share, like a pip install does.
run() { env -u STAFFETTA_HOME HOME="$USER_HOME" XDG_DATA_HOME= XDG_CONFIG_HOME= "$@"; }
SITE="$USER_HOME/site/content/posts"
mkdir -p "$SITE"
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
if dpkg -s staffetta >/dev/null 2>&1; then
    fail "staffetta is already installed; remove it first (apt-get remove staffetta)"
fi

publish() {  # publish a post through the installed binary and deliver it
    local title=$1
    printf -- '---\ntitle: %s\n---\nPublished by the installed package.\n' "$title" >"$USER_HOME/$title.md"
    run /usr/bin/staffetta publish "$USER_HOME/$title.md" --to static_site-1 >/dev/null
    run /usr/bin/staffetta flush --wait --quiet
    grep -rl "title: $title" "$SITE" >/dev/null || fail "the post '$title' is not in $SITE"
}

if [ -n "$OLD" ]; then
    echo "== install the older package $(dpkg-deb -f "$OLD" Version)"
    apt-get install -y -qq "$OLD" >/dev/null
    run /usr/bin/staffetta accounts add static_site --name Blog --set "folder=$SITE" >/dev/null
    publish before-upgrade
fi

echo "== install $WANT_VERSION"
apt-get install -y -qq "$NEW" >/dev/null
test -x /opt/staffetta/staffetta || fail "/opt/staffetta/staffetta missing"
for f in /usr/share/applications/io.github.staffetta.Staffetta.desktop \
         /usr/share/metainfo/io.github.staffetta.Staffetta.metainfo.xml \
         /usr/share/icons/hicolor/scalable/apps/io.github.staffetta.Staffetta.svg \
         /usr/share/icons/hicolor/256x256/apps/io.github.staffetta.Staffetta.png; do
    test -f "$f" || fail "$f missing"
done

echo "== staffetta --version"
GOT=$(run /usr/bin/staffetta --version)
[ "$GOT" = "staffetta ${WANT_VERSION%%~*}" ] || [ "$GOT" = "staffetta $WANT_VERSION" ] \
    || fail "--version said '$GOT', package is $WANT_VERSION"

echo "== staffetta --quit-after-startup (offscreen)"
run timeout 60 /usr/bin/staffetta --quit-after-startup || fail "the window did not start and quit"

if [ -n "$OLD" ]; then
    echo "== the upgrade kept the outbox and the account"
    STATUS=$(run /usr/bin/staffetta status --all --json)
    grep -q '"sent"' <<<"$STATUS" || fail "outbox lost on upgrade"
else
    run /usr/bin/staffetta accounts add static_site --name Blog --set "folder=$SITE" >/dev/null
fi
echo "== publish to the static site from the installed binary"
publish after-install

if command -v python3 >/dev/null && python3 -c "import staffetta" 2>/dev/null; then
    echo "== the pip-installed Staffetta sees the same data"
    STATUS=$(run python3 -m staffetta status --all --json)
    [ "$(grep -c '"static_site-1"' <<<"$STATUS")" -ge 2 ] \
        || fail "the pip-installed app does not see both posts of the installed app's outbox"
fi

echo "== remove"
apt-get remove -y -qq staffetta >/dev/null
[ ! -e /opt/staffetta ] || fail "/opt/staffetta left behind: $(find /opt/staffetta | head)"
[ ! -e /usr/bin/staffetta ] || fail "/usr/bin/staffetta left behind"
[ -f "$USER_HOME/.local/share/Staffetta/outbox.sqlite3" ] \
    || fail "removing the package must not touch the user's outbox"
echo "smoke: all passed"
