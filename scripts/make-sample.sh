#!/bin/sh
# make-sample.sh: rebuilds data/sample, the small Fashion-MNIST sample the programs fall
# back to, from a full copy of the four files.
#
#   scripts/make-sample.sh [SOURCE_DIR]     (or: make sample)
#
# SOURCE_DIR defaults to $FASHION_MNIST_DIR, else data/fashion-mnist. The sample keeps the
# first 60 training and 20 test images of each class, in file order (scripts/make_sample.c,
# built against the course library: idx_load and idx_save_gz). `make sample` passes
# LIBCOMMON and LDLIBS; run alone, the script builds the library in build/release.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SOURCE=${1:-${FASHION_MNIST_DIR:-$ROOT/data/fashion-mnist}}
OUTPUT=$ROOT/data/sample

if [ -z "${LIBCOMMON:-}" ]; then
    make --no-print-directory -C "$ROOT/common" >/dev/null
    LIBCOMMON=$ROOT/build/release/common/libcommon.a
fi
LDLIBS=${LDLIBS:-"-lgsl -lz -lm"}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/make-sample.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

# shellcheck disable=SC2086  # LDLIBS is a list of flags
${CC:-cc} -std=c11 -Wall -Wextra -O2 -D_DEFAULT_SOURCE -I"$ROOT/common" \
    -o "$WORK/make_sample" "$ROOT/scripts/make_sample.c" "$LIBCOMMON" $LDLIBS

"$WORK/make_sample" "$SOURCE" "$OUTPUT"
if [ -f "$SOURCE/LICENSE" ]; then
    cat "$SOURCE/LICENSE" >"$WORK/LICENSE" && mv "$WORK/LICENSE" "$OUTPUT/LICENSE"
fi
( cd "$OUTPUT" && ls -l ./*.gz )
