#!/bin/sh
# install-deps.sh [--fuzz]: installs the Debian/Ubuntu packages this repository needs; with
# --fuzz also clang and its libFuzzer runtime (make fuzz). As root it runs apt-get itself;
# otherwise through sudo when sudo works without a password prompt; otherwise it prints the
# exact command to run, and stops.
set -e
PACKAGES="build-essential pkg-config libgsl-dev gnuplot-nox check libopenblas-dev zlib1g-dev cmark-gfm"
here=$(dirname "$0")
FUZZ=0
[ "${1:-}" = "--fuzz" ] && FUZZ=1

# libFuzzer is there when clang links a fuzz target
fuzzer_works() {
    command -v clang >/dev/null 2>&1 || return 1
    dir=$(mktemp -d)
    printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$dir/t.c"
    clang -fsanitize=fuzzer -o "$dir/t" "$dir/t.c" >/dev/null 2>&1
    ok=$?
    rm -rf "$dir"
    return $ok
}
if [ $FUZZ -eq 1 ] && ! fuzzer_works; then
    PACKAGES="$PACKAGES clang"
elif "$here/check-deps.sh" --quiet; then
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
# The full data, where the archive has it (Debian's dataset-fashion-mnist): the programs read it
# from /usr/share/datasets/fashion-mnist; without it they fall back to the bundled sample.
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
    $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 ||
        echo "install-deps: dataset-fashion-mnist is not in this archive; \`make data\` downloads the data instead"
fi
if [ $FUZZ -eq 1 ] && ! fuzzer_works; then   # the runtime is a Recommends of clang: name it
    version=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
    $SUDO apt-get install -y -qq "libclang-rt-$version-dev" >/dev/null || true
    fuzzer_works || { echo "install-deps: clang cannot link a libFuzzer target (libclang-rt-$version-dev?)" >&2; exit 1; }
fi
"$here/check-deps.sh"
