#!/bin/sh
# get-data.sh: puts the full Fashion-MNIST in data/fashion-mnist (`make data`).
#
#   scripts/get-data.sh [FOLDER]        FOLDER defaults to data/fashion-mnist
#
# - If $FASHION_MNIST_DIR already holds the four files, the programs read them from
#   there: nothing to do.
# - Files already in FOLDER with the official MD5 are kept.
# - Otherwise each missing file is downloaded (curl or wget) from the official location to
#   a temporary name, checked against the official MD5 and only then renamed into place,
#   so a failed or corrupt download leaves no partial file behind.
# FASHION_MNIST_URL overrides the download location (a mirror, or file:// for a local copy).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${1:-$ROOT/data/fashion-mnist}
BASE_URL=${FASHION_MNIST_URL:-http://fashion-mnist.s3-website.eu-central-1.amazonaws.com}

# name and official MD5 of the four files
FILES="train-images-idx3-ubyte.gz:8d4fb7e6c68d591d4c3dfef9ec88bf0d
train-labels-idx1-ubyte.gz:25c81989df183df01b3e8a0aad5dffbe
t10k-images-idx3-ubyte.gz:bef4ecab320f06d8554ea6380940ec79
t10k-labels-idx1-ubyte.gz:bb300cfdad3c16e7a12a480ee83cd310"

say() { printf 'get-data: %s\n' "$*"; }
fail() {
    printf 'get-data: %s\n' "$*" >&2
    printf 'get-data: without network, point FASHION_MNIST_DIR at a folder that already holds the four\n' >&2
    printf 'get-data: files (export FASHION_MNIST_DIR=/path/to/fashion-mnist); until then the programs use\n' >&2
    printf 'get-data: the small sample in data/sample and say so.\n' >&2
    exit 1
}

md5_of() {
    if command -v md5sum >/dev/null 2>&1; then md5sum "$1" | cut -d' ' -f1
    elif command -v md5 >/dev/null 2>&1; then md5 -q "$1"
    else echo "no-md5-tool"
    fi
}

# 1. The variable names a complete copy (any checksum: a recompressed copy is fine).
if [ -n "${FASHION_MNIST_DIR:-}" ]; then
    missing=""
    for entry in $FILES; do
        name=${entry%%:*}
        raw=${name%.gz}
        [ -f "$FASHION_MNIST_DIR/$name" ] || [ -f "$FASHION_MNIST_DIR/$raw" ] || missing="$missing $name"
    done
    if [ -z "$missing" ]; then
        say "FASHION_MNIST_DIR=$FASHION_MNIST_DIR already holds the four files; the programs read them from there. Nothing to download."
        exit 0
    fi
    printf 'get-data: FASHION_MNIST_DIR=%s lacks%s.\n' "$FASHION_MNIST_DIR" "$missing" >&2
    printf 'get-data: the programs look there first; point it at a folder with the four files,\n' >&2
    printf 'get-data: or unset it to download into %s.\n' "$DEST" >&2
    exit 1
fi

# 2. What is already in DEST with the right checksum stays.
todo=""
for entry in $FILES; do
    name=${entry%%:*}
    sum=${entry#*:}
    if [ -f "$DEST/$name" ]; then
        if [ "$(md5_of "$DEST/$name")" = "$sum" ]; then continue; fi
        say "$DEST/$name has the wrong MD5; fetching it again"
    fi
    todo="$todo $entry"
done
if [ -z "$todo" ]; then
    say "$DEST already holds the four files with the official MD5. Nothing to do."
    exit 0
fi

# 3. Download the rest, each to a temporary name first.
if command -v curl >/dev/null 2>&1; then
    fetch() { curl -fsSL --connect-timeout 20 --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
    fetch() { wget -q --timeout=20 --tries=3 -O "$2" "$1"; }
else
    fail "neither curl nor wget is installed, so nothing can be downloaded."
fi
[ "$(md5_of /dev/null)" != "no-md5-tool" ] || fail "neither md5sum nor md5 is installed, so downloads cannot be checked."

mkdir -p "$DEST" || fail "cannot create $DEST"
PART=""
trap 'rm -f "$PART"' EXIT
trap 'rm -f "$PART"; exit 1' INT TERM

for entry in $todo; do
    name=${entry%%:*}
    sum=${entry#*:}
    PART="$DEST/.$name.part.$$"
    say "downloading $BASE_URL/$name"
    if ! fetch "$BASE_URL/$name" "$PART"; then
        rm -f "$PART"
        fail "could not download $BASE_URL/$name (no network, or the server did not answer)."
    fi
    got=$(md5_of "$PART")
    if [ "$got" != "$sum" ]; then
        rm -f "$PART"
        fail "$name: MD5 $got, expected $sum: the download is corrupt or not the official file; nothing was kept."
    fi
    mv "$PART" "$DEST/$name" || fail "cannot move $name into $DEST"
    PART=""
    say "$name: MD5 ok"
done
say "Fashion-MNIST is in $DEST."
