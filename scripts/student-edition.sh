#!/bin/sh
# scripts/student-edition.sh DEST: writes the student edition of this checkout into DEST
# (make student DEST=DIR). The same layout, every solution region (solutions/README.md lists
# them) replaced by a stub that says what is not written yet, the READMEs' answers replaced by
# a place for the student's own, the blocks `make docs` fills from a run left empty, and the
# grader with its reference solutions and bench/ left out.
#
#   scripts/student-edition.sh DEST            the student edition
#   scripts/student-edition.sh --restore DEST  the way back: the regions of this checkout put
#                                              into DEST again, and what it left out copied back
# Exit status: 0, 1 when the edition could not be made (the message says why), 2 for bad usage.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=student
if [ "${1:-}" = --restore ]; then
    MODE=restore
    shift
fi
DEST=${1:-}
if [ -z "$DEST" ] || [ $# -ne 1 ]; then
    echo "student: give the folder to write, as in make student DEST=../ae-student" >&2
    exit 2
fi
if [ "$MODE" = student ] && [ -e "$DEST" ] && [ -n "$(ls -A "$DEST" 2>/dev/null)" ]; then
    echo "student: $DEST exists and is not empty; give a new folder (nothing was written)" >&2
    exit 2
fi
if [ "$MODE" = restore ] && [ ! -d "$DEST" ]; then
    echo "student: $DEST is not a folder" >&2
    exit 2
fi

# What the student edition leaves out: the grader and everything it knows (references, plans,
# harnesses, the list of items with their expected values), the grader's own tests, this tool,
# and bench/ (its PyTorch peers write model B, z = μ + σε and the Gaussian KL out in full).
LEFT_OUT='^solutions/|^bench/|^tests/test_grader\.c$|^tests/test_edition\.c$|^scripts/edition\.c$|^scripts/student-edition\.sh$'

WORK=$(mktemp -d "${TMPDIR:-/tmp}/student-edition.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if git -C "$ROOT" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    git -C "$ROOT" ls-files > "$WORK/all"
else
    (cd "$ROOT" && find . -type f ! -path './build/*' ! -path './bin/*' ! -path './out/*' ! -path './.git/*' |
        sed 's|^\./||' | sort) > "$WORK/all"
fi
${CC:-cc} -std=c11 -O1 -Wall -Wextra -D_DEFAULT_SOURCE -o "$WORK/edition" "$ROOT/scripts/edition.c" ||
    { echo "student: the edition tool does not compile" >&2; exit 1; }

if [ "$MODE" = restore ]; then
    "$WORK/edition" restore "$ROOT" "$DEST" "$WORK/all"
    exit 0
fi
grep -v -E "$LEFT_OUT" "$WORK/all" > "$WORK/files"
mkdir -p "$DEST"
if ! "$WORK/edition" student "$ROOT" "$DEST" "$WORK/files"; then
    echo "student: the edition could not be made; $DEST is incomplete, remove it" >&2
    exit 1
fi
echo "student: wrote the student edition to $DEST ($(wc -l < "$WORK/files" | tr -d ' ') files; the grader," \
     "solutions/ and bench/ left out). Its README.md says where to start."
