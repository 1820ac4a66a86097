#!/usr/bin/env bash
# Build the Linux bundle with PyInstaller and wrap it in a .deb.
#
#     bash packaging/linux/build_deb.sh [--version-suffix SUFFIX] [--skip-bundle]
#
# Output: build/staffetta_<version>_<arch>.deb, installing to /opt/staffetta with a
# /usr/bin/staffetta launcher, the .desktop file, AppStream metainfo and hicolor icons. The
# libraries the bundle needs from the system are found by dpkg-shlibdeps and declared in Depends.
# Needs: python with the gui extra and pyinstaller, dpkg-dev, desktop-file-utils, appstream.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD="$ROOT/build"
PYTHON=${PYTHON:-python3}
SUFFIX=""
SKIP_BUNDLE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --version-suffix) SUFFIX="$2"; shift 2 ;;
        --skip-bundle) SKIP_BUNDLE=1; shift ;;
        *) echo "build_deb.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

APP_ID=$("$PYTHON" -c "import staffetta; print(staffetta.APP_ID)")
VERSION=$("$PYTHON" -c "import staffetta; print(staffetta.__version__)")$SUFFIX
ARCH=$(dpkg --print-architecture)
PKG="$BUILD/deb/staffetta_${VERSION}_${ARCH}"
DEB="$BUILD/staffetta_${VERSION}_${ARCH}.deb"

echo "== icons"
"$PYTHON" "$ROOT/packaging/icons.py" "$BUILD/icons" >/dev/null

if [ "$SKIP_BUNDLE" = 0 ] || [ ! -x "$BUILD/dist/staffetta/staffetta" ]; then
    echo "== PyInstaller bundle"
    STAFFETTA_ICONS="$BUILD/icons" "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath "$BUILD/dist" --workpath "$BUILD/pyinstaller" "$ROOT/packaging/staffetta.spec"
fi
echo "bundle: $(du -sh "$BUILD/dist/staffetta" | cut -f1) in $BUILD/dist/staffetta"

echo "== package tree"
rm -rf "$PKG"
mkdir -p "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" \
    "$PKG/usr/share/metainfo" "$PKG/usr/share/icons" "$PKG/usr/share/doc/staffetta"
cp -a "$BUILD/dist/staffetta" "$PKG/opt/staffetta"
# A wrapper rather than a symlink: the bundle finds its libraries next to its real path either way,
# and the wrapper keeps `ps` and crash reports naming /opt/staffetta.
cat >"$PKG/usr/bin/staffetta" <<'SH'
#!/bin/sh
exec /opt/staffetta/staffetta "$@"
SH
chmod 0755 "$PKG/usr/bin/staffetta"
install -m 0644 "$ROOT/resources/$APP_ID.desktop" "$PKG/usr/share/applications/$APP_ID.desktop"
install -m 0644 "$ROOT/resources/$APP_ID.metainfo.xml" "$PKG/usr/share/metainfo/$APP_ID.metainfo.xml"
cp -r "$BUILD/icons/hicolor" "$PKG/usr/share/icons/hicolor"
install -m 0644 "$ROOT/packaging/linux/copyright" "$PKG/usr/share/doc/staffetta/copyright"
find "$PKG" -type d -exec chmod 0755 {} +

echo "== dependencies (dpkg-shlibdeps)"
SHLIB=$(mktemp -d)
mkdir -p "$SHLIB/debian"
printf 'Source: staffetta\n\nPackage: staffetta\nArchitecture: any\n' >"$SHLIB/debian/control"
mapfile -t ELVES < <(find "$PKG/opt/staffetta" -type f \( -name '*.so*' -o -perm -u+x \) \
    -exec sh -c 'head -c4 "$1" | grep -q "ELF" && echo "$1"' _ {} \;)
mapfile -t LIBDIRS < <(printf '%s\n' "${ELVES[@]}" | xargs -n1 dirname | sort -u)
LIBARGS=()
for dir in "${LIBDIRS[@]}"; do LIBARGS+=("-l$dir"); done
if ! DEPENDS=$(cd "$SHLIB" && dpkg-shlibdeps -O --ignore-missing-info "${LIBARGS[@]}" \
    -e"${ELVES[@]}" 2>"$SHLIB/log" | sed -n 's/^shlibs:Depends=//p'); then
    grep -v 'warning:' "$SHLIB/log" >&2
    echo "build_deb.sh: dpkg-shlibdeps failed (a library the bundle needs is not installed)" >&2
    exit 1
fi
rm -rf "$SHLIB"
# The keyring talks to the Secret Service over D-Bus from Python (no ELF link to see): make sure
# the D-Bus library is there even if no bundled binary links it.
case "$DEPENDS" in *libdbus-1-3*) ;; *) DEPENDS="$DEPENDS, libdbus-1-3" ;; esac
RECOMMENDS="gnome-keyring | kwalletmanager | keepassxc"
SIZE=$(du -sk "$PKG" | cut -f1)

cat >"$PKG/DEBIAN/control" <<CONTROL
Package: staffetta
Version: $VERSION
Architecture: $ARCH
Maintainer: Staffetta developers <staffetta@users.noreply.github.com>
Installed-Size: $SIZE
Depends: $DEPENDS
Recommends: $RECOMMENDS
Section: net
Priority: optional
Homepage: https://github.com/staffetta/staffetta
Description: compose once, publish everywhere, even through platform outages
 Staffetta is a desktop cross-posting client for solo creators. Write one post,
 preview it for every channel (blogs, newsletters, Mastodon, Bluesky and more)
 and queue it locally: each copy goes out as soon as its platform accepts it,
 including after an outage, without duplicates. Credentials stay in the
 system keyring.
CONTROL

echo "== build"
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null
echo "== validate"
desktop-file-validate "$PKG/usr/share/applications/$APP_ID.desktop"
appstreamcli validate --no-net --pedantic "$PKG/usr/share/metainfo/$APP_ID.metainfo.xml" \
    || appstreamcli validate --no-net "$PKG/usr/share/metainfo/$APP_ID.metainfo.xml"
echo "deb: $DEB ($(du -h "$DEB" | cut -f1))"
echo "Depends: $DEPENDS"
