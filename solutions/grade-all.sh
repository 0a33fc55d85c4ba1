#!/usr/bin/env bash
# grade-all.sh: grades a class, one submission after the other, into one table.
#
#   solutions/grade-all.sh DIR...       (make grade-all SUBMISSIONS="DIR ...")
#
# Each DIR is graded by solutions/grade.sh as `make grade SUBMISSION=DIR` would (its report in
# DIR/grade-report.md, its scratch folder in DIR/build/grade); then one table of the class, a row
# per submission (the folder's name), a column per exercise, the points by hand and the total,
# goes to class-grades.tsv and class-grades.md in CLASS_OUT (default out/grade-all). The
# environment of grade.sh (GRADE_QUICK, GRADE_ONLY, GRADE_TIMEOUT, ...) applies to every one.
# Exit status: 0 when every submission could be graded, 1 when one could not (its row says why),
# 2 for bad usage.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -eq 0 ]; then
    echo "grade-all: give the submissions, as in make grade-all SUBMISSIONS=\"alice/ bob/\"" >&2
    exit 2
fi
OUT=${CLASS_OUT:-$ROOT/out/grade-all}
mkdir -p "$OUT" || exit 2
rows=$OUT/rows.tmp
: > "$rows"
status=0
n=0
for dir in "$@"; do
    n=$((n + 1))
    name=$(basename "$dir")
    log=$OUT/$n-$name.log
    if [ ! -d "$dir" ]; then
        printf '%s\terror\tnot a folder\n' "$name" >> "$rows"
        status=1
        continue
    fi
    echo "grade-all: $name ($n of $#) ..." >&2
    rm -f "$dir/grade-report.tsv"
    GRADE_REPORT="$dir/grade-report.md" "$ROOT/solutions/grade.sh" "$dir" > "$log" 2>&1
    code=$?
    if [ "$code" -ge 2 ] || [ ! -f "$dir/grade-report.tsv" ]; then
        printf '%s\terror\tnot graded (exit %s); see %s\n' "$name" "$code" "$log" >> "$rows"
        status=1
        continue
    fi
    # part, earned, possible lines of the summary, after its header
    tail -n +2 "$dir/grade-report.tsv" | while IFS=$'\t' read -r part earned possible; do
        printf '%s\t%s\t%s\t%s\n' "$name" "$part" "$earned" "$possible"
    done >> "$rows"
done

# One row per submission, one column per part in the order first met.
awk -F'\t' -v tsv="$OUT/class-grades.tsv" -v md="$OUT/class-grades.md" '
    $2 == "error" { err[$1] = $3; if (!($1 in seen)) { seen[$1] = 1; who[++n] = $1 } next }
    {
        if (!($1 in seen)) { seen[$1] = 1; who[++n] = $1 }
        if ($2 == "pending") { pending[$1] = $4; next }
        if (!($2 in col)) { col[$2] = ++m; part[m] = $2 }
        got[$1, $2] = $3; max[$2] = $4
    }
    END {
        printf "student" > tsv; printf "| student |" > md; sep = "| --- |"
        for (j = 1; j <= m; j++) { printf "\t%s", part[j] > tsv; printf " %s (of %s) |", part[j], max[part[j]] > md; sep = sep " ---: |" }
        printf "\tstill to grade by hand\tnote\n" > tsv; printf " still to grade by hand | note |\n%s --- | --- |\n", sep > md
        for (i = 1; i <= n; i++) {
            s = who[i]; printf "%s", s > tsv; printf "| %s |", s > md
            for (j = 1; j <= m; j++) {
                v = ((s, part[j]) in got) ? got[s, part[j]] : ""
                printf "\t%s", v > tsv; printf " %s |", v > md
            }
            p = (s in pending) ? pending[s] : 0
            printf "\t%s\t%s\n", p, err[s] > tsv; printf " %s | %s |\n", p, err[s] > md
        }
    }' "$rows"
rm -f "$rows"
echo "grade-all: $n submissions; the class table is in $OUT/class-grades.tsv and $OUT/class-grades.md" >&2
exit $status
