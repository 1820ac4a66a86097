#!/usr/bin/env bash
# Build Staffetta.app (PyInstaller BUNDLE: Info.plist with the app id, version and icon) and a .dmg.
#
#     bash packaging/macos/build_dmg.sh
#
# Output: build/dist/Staffetta.app and build/Staffetta-<version>.dmg. Runs on macOS only.
#
# Signing and notarisation (needs an Apple Developer ID; not done by this script):
#   codesign --deep --force --options runtime --timestamp \
#       --entitlements packaging/macos/entitlements.plist \
#       --sign "Developer ID Application: NAME (TEAMID)" build/dist/Staffetta.app
#   hdiutil create ... (as below), then
#   codesign --sign "Developer ID Application: NAME (TEAMID)" --timestamp build/Staffetta-X.dmg
#   xcrun notarytool submit build/Staffetta-X.dmg --keychain-profile staffetta --wait
#   xcrun stapler staple build/Staffetta-X.dmg
# The hardened runtime needs no extra entitlements for Qt apps built by PyInstaller except
# com.apple.security.cs.disable-library-validation when the bundle is not signed as a whole.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD="$ROOT/build"
PYTHON=${PYTHON:-python3}
VERSION=$("$PYTHON" -c "import staffetta; print(staffetta.__version__)")

"$PYTHON" "$ROOT/packaging/icons.py" "$BUILD/icons" >/dev/null
STAFFETTA_ICONS="$BUILD/icons" "$PYTHON" -m PyInstaller --noconfirm --clean \
    --distpath "$BUILD/dist" --workpath "$BUILD/pyinstaller" "$ROOT/packaging/staffetta.spec"

APP="$BUILD/dist/Staffetta.app"
/usr/libexec/PlistBuddy -c "Print :CFBundleIdentifier" "$APP/Contents/Info.plist"
"$APP/Contents/MacOS/staffetta" --version

STAGE=$(mktemp -d)
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "Staffetta $VERSION" -srcfolder "$STAGE" -ov -format UDZO \
    "$BUILD/Staffetta-$VERSION.dmg"
rm -rf "$STAGE"
echo "dmg: $BUILD/Staffetta-$VERSION.dmg"
