#!/usr/bin/env bash
# CI stage for the Linux package (run by .ci/run as root on a fresh Debian 12 machine):
# install the build tools and the libraries the bundle links, build the .deb (and the same
# payload as an older version, for the upgrade test), validate, install, smoke-test, remove.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-python3}
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

# dpkg-shlibdeps must find every system library the bundle links to compute Depends: the xcb and
# wayland platform plugins' libraries are not needed by the offscreen tests, so install them here.
apt-get install -y -qq --no-install-recommends \
    dpkg-dev desktop-file-utils appstream \
    libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libxcb-render-util0 \
    libxcb-image0 libxcb-shape0 libxcb-randr0 libxcb-xkb1 libxcb-sync1 libxcb-xfixes0 \
    libxcb-glx0 libxcb-shm0 libxcb-util1 libx11-xcb1 libxrender1 libxext6 \
    libwayland-client0 libwayland-cursor0 libwayland-egl1 >/dev/null
"$PYTHON" -m pip install -q -e "$ROOT[packaging]"

bash "$ROOT/packaging/linux/build_deb.sh"
bash "$ROOT/packaging/linux/build_deb.sh" --version-suffix "~prev" --skip-bundle >/dev/null
VERSION=$("$PYTHON" -c "import staffetta; print(staffetta.__version__)")
ARCH=$(dpkg --print-architecture)
if dpkg -s staffetta >/dev/null 2>&1; then apt-get remove -y -qq staffetta >/dev/null; fi
bash "$ROOT/packaging/linux/smoke.sh" "$ROOT/build/staffetta_${VERSION}_${ARCH}.deb" \
    "$ROOT/build/staffetta_${VERSION}~prev_${ARCH}.deb"
