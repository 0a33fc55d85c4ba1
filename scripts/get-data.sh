#!/bin/sh
# get-data.sh: makes sure the full Fashion-MNIST is where the programs look (`make data`).
#
#   scripts/get-data.sh [FOLDER]        FOLDER defaults to data/fashion-mnist
#
# Every file is checked by the SHA-256 of its DECOMPRESSED content, so the official .gz files and
# Debian's recompressed ones both pass, and a corrupt copy is refused, naming the file.
# 1. If $FASHION_MNIST_DIR is set, it must hold the four files: the programs read them there.
# 2. Files already in FOLDER with the official content are kept.
# 3. Debian's package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist, the programs'
#    next place to look) is used when it is installed, and installed with apt-get when it can be
#    (as root, or through sudo without a password).
# 4. Otherwise each missing file is downloaded (curl or wget) from the official location to a
#    temporary name, checked, and only then renamed into place.
# FASHION_MNIST_URL overrides the download location (a mirror, or file:// for a local copy);
# FASHION_MNIST_SYSTEM_DIR the package's folder.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${1:-$ROOT/data/fashion-mnist}
BASE_URL=${FASHION_MNIST_URL:-http://fashion-mnist.s3-website.eu-central-1.amazonaws.com}
SYSTEM_DIR=${FASHION_MNIST_SYSTEM_DIR-/usr/share/datasets/fashion-mnist}

# name and the official SHA-256 of its decompressed content
FILES="train-images-idx3-ubyte:c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
train-labels-idx1-ubyte:bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
t10k-images-idx3-ubyte:5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
t10k-labels-idx1-ubyte:0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"

say() { printf 'get-data: %s\n' "$*"; }
fail() {
    printf 'get-data: %s\n' "$*" >&2
    printf 'get-data: without network, install Debian'"'"'s dataset-fashion-mnist, or point FASHION_MNIST_DIR at a\n' >&2
    printf 'get-data: folder that already holds the four files; until then the programs use the small\n' >&2
    printf 'get-data: sample in data/sample and say so.\n' >&2
    exit 1
}
command -v sha256sum >/dev/null 2>&1 || fail "sha256sum is not installed, so the files cannot be checked."

# The file of NAME in folder $1: NAME.gz or NAME; empty when neither is there.
file_in() { if [ -f "$1/$2.gz" ]; then printf '%s' "$1/$2.gz"; elif [ -f "$1/$2" ]; then printf '%s' "$1/$2"; fi; }
# The SHA-256 of a file's decompressed content (a raw file as it is).
content_sum() {
    case $1 in
        *.gz) gzip -dc "$1" 2>/dev/null | sha256sum | cut -d' ' -f1 ;;
        *) sha256sum < "$1" | cut -d' ' -f1 ;;
    esac
}
# Prints the names whose file in folder $1 is missing or has other content ("NAME (missing)",
# "NAME (wrong content)"); nothing when all four are right.
check_folder() {
    for entry in $FILES; do
        name=${entry%%:*}
        f=$(file_in "$1" "$name")
        if [ -z "$f" ]; then printf ' %s (missing)' "$name"
        elif [ "$(content_sum "$f")" != "${entry#*:}" ]; then printf ' %s (wrong content: %s)' "$name" "$f"
        fi
    done
}

# 1. The variable names a complete copy.
if [ -n "${FASHION_MNIST_DIR:-}" ]; then
    bad=$(check_folder "$FASHION_MNIST_DIR")
    if [ -z "$bad" ]; then
        say "FASHION_MNIST_DIR=$FASHION_MNIST_DIR holds the four files, checked; the programs read them from there."
        exit 0
    fi
    printf 'get-data: FASHION_MNIST_DIR=%s:%s.\n' "$FASHION_MNIST_DIR" "$bad" >&2
    printf 'get-data: the programs look there first; point it at a complete copy, or unset it.\n' >&2
    exit 1
fi

# 2. A complete, checked copy in DEST stays.
bad=$(check_folder "$DEST")
if [ -z "$bad" ]; then
    say "$DEST holds the four files, checked. Nothing to do."
    exit 0
fi

# 3. Debian's package.
if [ -n "$SYSTEM_DIR" ]; then
    if [ ! -d "$SYSTEM_DIR" ] && command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || { sudo -n true 2>/dev/null && SUDO=sudo; }
        if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
            say "installing Debian's dataset-fashion-mnist"
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 ||
                say "  apt-get could not install it"
        fi
    fi
    if [ -d "$SYSTEM_DIR" ]; then
        sys_bad=$(check_folder "$SYSTEM_DIR")
        if [ -z "$sys_bad" ]; then
            say "$SYSTEM_DIR (Debian's dataset-fashion-mnist) holds the four files, checked; the programs read them from there."
            exit 0
        fi
        say "$SYSTEM_DIR:$sys_bad; not using it"
    fi
fi

# 4. Download what is missing or wrong, each to a temporary name first.
if command -v curl >/dev/null 2>&1; then
    fetch() { curl -fsSL --connect-timeout 20 --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
    fetch() { wget -q --timeout=20 --tries=3 -O "$2" "$1"; }
else
    fail "neither curl nor wget is installed, so nothing can be downloaded."
fi
mkdir -p "$DEST" || fail "cannot create $DEST"
PART=""
trap 'rm -f "$PART"' EXIT
trap 'rm -f "$PART"; exit 1' INT TERM
for entry in $FILES; do
    name=${entry%%:*}
    f=$(file_in "$DEST" "$name")
    [ -n "$f" ] && [ "$(content_sum "$f")" = "${entry#*:}" ] && continue
    PART=$(mktemp "$DEST/.$name.gz.XXXXXX") || fail "cannot write into $DEST"
    say "downloading $BASE_URL/$name.gz"
    if ! fetch "$BASE_URL/$name.gz" "$PART"; then
        fail "could not download $BASE_URL/$name.gz (no network, or the server did not answer)."
    fi
    got=$(content_sum "$PART")
    [ "$got" = "${entry#*:}" ] ||
        fail "$name.gz: the SHA-256 of its content is $got, not the official ${entry#*:}: the download is corrupt or not the official file; nothing was kept."
    [ -z "$f" ] || [ "$f" = "$DEST/$name.gz" ] || rm -f "$f"
    mv "$PART" "$DEST/$name.gz" || fail "cannot move $name.gz into $DEST"
    PART=""
    say "$name.gz: content checked"
done
say "Fashion-MNIST is in $DEST."
