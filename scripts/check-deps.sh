#!/bin/sh
# check-deps.sh: says which of the system packages this repository needs are missing.
# Exit 0 when all are present; 1 (and the list) otherwise. --quiet prints nothing.
quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
missing=""
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
if command -v pkg-config >/dev/null 2>&1; then
    pkg-config --exists gsl || missing="$missing libgsl-dev"
    pkg-config --exists check || missing="$missing check"
    pkg-config --exists zlib || missing="$missing zlib1g-dev"
    pkg-config --exists openblas || missing="$missing libopenblas-dev"
fi
command -v gnuplot >/dev/null 2>&1 || missing="$missing gnuplot-nox"
command -v cmark-gfm >/dev/null 2>&1 || command -v pandoc >/dev/null 2>&1 || missing="$missing cmark-gfm"
# the full data: wanted where the archive has it (install-deps.sh tries it, and goes on without it)
if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-cache >/dev/null 2>&1 &&
    apt-cache show dataset-fashion-mnist >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; then
    missing="$missing dataset-fashion-mnist"
fi
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
command -v make >/dev/null 2>&1 || missing="$missing make"
if [ -n "$missing" ]; then
    [ $quiet -eq 1 ] || echo "missing:$missing"
    exit 1
fi
[ $quiet -eq 1 ] || echo "all dependencies present"
exit 0
