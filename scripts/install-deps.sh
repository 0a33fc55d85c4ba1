#!/bin/sh
# install-deps.sh: installs the Debian/Ubuntu packages this repository needs.
# As root it runs apt-get itself; otherwise through sudo when sudo works without
# a password prompt; otherwise it prints the exact command to run, and stops.
set -e
PACKAGES="build-essential pkg-config libgsl-dev gnuplot-nox check libopenblas-dev zlib1g-dev"
here=$(dirname "$0")

if "$here/check-deps.sh" --quiet; then
    exit 0
fi
echo "install-deps: $("$here/check-deps.sh" || true); installing with apt-get"

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: this is not a Debian or Ubuntu system (no apt-get)." >&2
    echo "Install these with your package manager: GSL, Check, OpenBLAS, zlib (development files), gnuplot, pkg-config." >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "install-deps: some packages are missing and installing them needs root. Run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y $PACKAGES" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq $PACKAGES >/dev/null
"$here/check-deps.sh"
