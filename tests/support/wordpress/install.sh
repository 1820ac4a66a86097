#!/usr/bin/env bash
# Install what the real-WordPress tests need, from Debian packages: WordPress itself, PHP's CLI
# (its built-in web server runs the site) with the extensions WordPress uses, and MariaDB (run
# privately by the tests, never as the system service).
#
#     bash tests/support/wordpress/install.sh
#
# Quick when everything is there already; otherwise needs root (or sudo) for apt-get.
set -euo pipefail

have_all() {
    local modules
    command -v php >/dev/null &&
        command -v mariadbd >/dev/null &&
        command -v mariadb-install-db >/dev/null &&
        [[ -f /usr/share/wordpress/wp-load.php ]] || return 1
    # Read the whole list first: `grep -q` closing a pipe early fails the pipeline (pipefail).
    modules=$(php -m)
    grep -qx mysqli <<<"$modules" && grep -qx xml <<<"$modules" && grep -qx mbstring <<<"$modules"
}

if have_all; then
    exit 0
fi

sudo=""
[[ $(id -u) -eq 0 ]] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends \
    wordpress php-cli php-mysql php-xml php-mbstring php-curl mariadb-server
# The package may start the system's MariaDB; the tests never use it, and it may stay as it is.

if ! have_all; then
    echo "install.sh: WordPress, PHP or MariaDB is still missing after apt-get" >&2
    exit 3
fi
