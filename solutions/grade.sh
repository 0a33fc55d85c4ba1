#!/usr/bin/env bash
# grade.sh: grades a checkout of this repository's layout against the reference solutions.
#
#   solutions/grade.sh [CHECKOUT]         (make grade [SUBMISSION=CHECKOUT]); default: this checkout
#
# The checkout is untrusted code: it is copied into a scratch folder, built and run there with a
# time limit per run and limits on CPU time, memory and file size, and nothing is written outside
# that folder and the report. For every exercise, in order: its files exist, it builds with its
# own Makefile, each of its program runs writes results.tsv, each result is right; and the
# submission's own functions are linked against the reference tests (a harness). Every value a run
# wrote is graded, also when the run then ended badly; an item it did not write is NOT RUN, with
# the cause (the part the program skipped and why, its last error line, or the signal and the line
# it died on). The report opens with a summary, ends with the prose questions to be graded by hand,
# and goes to the terminal and to grade-report.md at the top of the checkout; the exit status is 0
# only when every counted item passes.
#
# Environment:
#   GRADE_BUILD=DIR    the scratch folder: the copy, its build, the runs (default CHECKOUT/build/grade)
#   GRADE_REPORT=FILE  the report (default CHECKOUT/grade-report.md); its summary goes beside it as .tsv
#   GRADE_ONLY="a b"   grade only these exercises
#   GRADE_QUICK=1      the shortest training runs (the test suite's setting)
#   GRADE_TIMEOUT=N    at most N seconds for any one run (default: each run's own limit, 30 s to 15 min)
#   REQUIRE_ALL=1      an exercise a plan marks optional counts even when its files are missing (none is)
# Exit status: 0 all passed, 1 something failed, 3 the grader itself could not run.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUB_ARG=${1:-${SUBMISSION:-$ROOT}}
if ! SUB=$(cd "$SUB_ARG" 2>/dev/null && pwd); then
    echo "grade: $SUB_ARG is not a folder; give the top folder of a checkout (make grade SUBMISSION=DIR)" >&2
    exit 3
fi
if [ ! -f "$SUB/config.mk" ] || [ ! -d "$SUB/common" ]; then
    echo "grade: $SUB does not look like a checkout of this repository (no config.mk or common/)" >&2
    exit 3
fi
GB=${GRADE_BUILD:-$SUB/build/grade}
REPORT=${GRADE_REPORT:-$SUB/grade-report.md}
SUMMARY=${REPORT%.md}.tsv
SAMPLE=$ROOT/data/sample
export FASHION_MNIST_SYSTEM_DIR=   # the runs name their data (@SAMPLE@); never Debian's full copy by default
export GRADE_QUICK=${GRADE_QUICK:-0}
mkdir -p "$GB" || exit 3
GB=$(cd "$GB" && pwd)

# A path for the report: relative to the checkout when it lies inside it.
shown() {
    case $1 in
        "$SUB"/*) printf '%s' "${1#"$SUB"/}" ;;
        *) printf '%s' "$1" ;;
    esac
}

echo "grade: grading $SUB in $(shown "$GB")" >&2

# The grader's own programs, from this repository (never from the submission).
if ! make -s --no-print-directory -C "$ROOT/solutions" O="$GB" tools > "$GB/grader-build.log" 2>&1; then
    echo "grade: the grader's own programs do not build; see $GB/grader-build.log" >&2
    exit 3
fi
BUILD=$(make -s --no-print-directory -C "$ROOT/solutions" O="$GB" print-build)
TOOL=$BUILD/solutions/bin/grade_tool

# The submission, copied into the scratch folder: what is built and run is the copy.
SRC=$GB/src
WORK=$GB/work
# a fresh build every time: objects of an earlier grading may be newer than a file restored since
for d in "$BUILD"/*; do [ "$d" = "$BUILD/solutions" ] || rm -rf "$d"; done
rm -rf "$SRC" "$WORK"
mkdir -p "$SRC" "$WORK" || exit 3
if ! (cd "$SUB" && tar --exclude=./build --exclude=./bin --exclude=./out --exclude=./.git \
        --exclude=./grade-report.md --exclude=./grade-report.tsv -cf - .) | tar -C "$SRC" -xf -; then
    echo "grade: cannot copy $SUB into $GB/src" >&2
    exit 3
fi

EXERCISES=$(make -s --no-print-directory -C "$ROOT/solutions" print-exercises)
[ -n "${GRADE_ONLY:-}" ] && EXERCISES=$GRADE_ONLY

# Limits of everything the submission runs: CPU seconds, memory (KiB of address space), the size
# of any file it writes (KiB); HOME and TMPDIR inside the scratch folder.
CPU_LIMIT=${GRADE_CPU_LIMIT:-1800}
MEM_LIMIT=${GRADE_MEM_LIMIT:-8388608}
FILE_LIMIT=${GRADE_FILE_LIMIT:-1048576}
confined() {   # DIR TIMEOUT COMMAND...: the command in DIR, limited
    local dir=$1 t=$2
    shift 2
    mkdir -p "$dir/tmp"
    (cd "$dir" && ulimit -t "$CPU_LIMIT" -v "$MEM_LIMIT" -f "$FILE_LIMIT" &&
        HOME=$dir TMPDIR=$dir/tmp timeout -k 5 "$t" "$@")
}

# The submission's library, once for every exercise.
COMMON_LOG=$WORK/common-build.log
if confined "$WORK" 900 make --no-print-directory -C "$SRC/common" O="$GB" > "$COMMON_LOG" 2>&1 &&
    [ -f "$BUILD/common/libcommon.a" ]; then
    COMMON_OK=1
else
    COMMON_OK=0
fi

# The first line of a build log that names an error, for the table.
first_error() {
    local line
    line=$(grep -m1 -E 'error:|undefined reference|No rule to make|\*\*\*' "$1" 2>/dev/null | cut -c1-160)
    [ -n "$line" ] || line="see $(shown "$1")"
    printf '%s' "$line"
}

# Why a run ended badly: the signal and the line it died on (a second run under gdb, when gdb is
# there), or the last line the program said on stderr; and where the whole story is.
run_cause() {   # STATUS ERRFILE DIR TIMEOUT COMMAND...
    local status=$1 err=$2 dir=$3 t=$4
    shift 4
    local cause="" where
    if [ "$status" -gt 128 ] && [ "$status" -ne 124 ] && [ "$status" -ne 137 ] && command -v gdb > /dev/null; then
        where=$(cd "$dir" && ulimit -t "$CPU_LIMIT" -v "$MEM_LIMIT" -f "$FILE_LIMIT" &&
            HOME=$dir TMPDIR=$dir/tmp timeout -k 5 "$t" gdb -q -batch -ex run -ex bt --args "$@" 2>/dev/null |
            grep -m1 -oE "at $SRC/[^ ]+:[0-9]+" | sed "s|^at $SRC/||")
        [ -n "$where" ] && cause="crashed at $where"
    fi
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then cause="stopped by the time limit of ${t} s"; fi
    if [ -z "$cause" ] && [ -s "$err" ]; then
        cause=$(grep -v -E "^Try '.*--help'|^  .* (skipped|failed): |did not complete:$" "$err" | grep . | tail -n 1 |
            cut -c1-240)
    fi
    printf '%s%s(log: %s)' "$cause" "${cause:+ }" "$(shown "$err")"
}

row() {   # STATUS POINTS NAME EXPECTED GOT
    printf '%s\t%s\t%s\t%s\t%s\t-\t\n' "$1" "$2" "$3" "$4" "$5"
}

limit() {   # a run's own time limit, at most GRADE_TIMEOUT
    if [ -n "${GRADE_TIMEOUT:-}" ] && [ "$1" -gt "$GRADE_TIMEOUT" ]; then echo "$GRADE_TIMEOUT"; else echo "$1"; fi
}

grade_exercise() {
    local ex=$1 dir=$WORK/$1
    local plan=$dir/plan.tsv rows=$dir/rows.tsv
    mkdir -p "$dir"
    local planprog=$BUILD/solutions/bin/$ex-plan
    if [ ! -x "$planprog" ]; then
        printf '#\t%s\t%s\t0\t%s\n' "$ex" "(no reference solution)" "solutions/ has no plan for $ex; nothing graded" > "$rows"
        return
    fi
    # The plan holds the reference's results; it is deterministic, so it is kept until the
    # reference program is rebuilt (training references take seconds).
    local cache=$GB/plans/$ex.quick$GRADE_QUICK.tsv
    if [ -s "$cache" ] && [ "$cache" -nt "$planprog" ]; then
        cp "$cache" "$plan"
    elif "$planprog" "$SAMPLE" > "$plan" 2> "$dir/plan.err"; then
        mkdir -p "$GB/plans" && cp "$plan" "$cache"
    else
        echo "grade: the reference of $ex failed; see $dir/plan.err" >&2
        exit 3
    fi

    local title="" optional=0 requires=() runs=() has_harness=0
    local -a f
    while IFS=$'\t' read -r -a f; do
        case ${f[0]} in
            exercise) title=${f[2]} ;;
            optional) optional=1 ;;
            requires) requires=("${f[@]:1}") ;;
            run) runs+=("${f[1]}") ;;
            harness) has_harness=1 ;;
        esac
    done < "$plan"

    local counted=1 note=""
    local missing=()
    for p in "${requires[@]}"; do [ -e "$SRC/$p" ] || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ] && [ "$optional" = 1 ] && [ "${REQUIRE_ALL:-0}" != 1 ]; then
        counted=0
        note="Not present: ${missing[*]} missing, so its items are not counted (REQUIRE_ALL=1 counts them)."
    fi
    printf '#\t%s\t%s\t%s\t%s\n' "$ex" "$title" "$counted" "$note" > "$rows"

    # 1. exists
    local reason=""
    if [ ${#missing[@]} -eq 0 ]; then
        row PASS 1 "the exercise's files are there" "${requires[*]}" "all there" >> "$rows"
    else
        row FAIL 1 "the exercise's files are there" "${requires[*]}" "missing: ${missing[*]}" >> "$rows"
        reason="not run: its files are missing (${missing[*]})"
    fi

    # 2. builds, with the checkout's own Makefile
    local built=0
    if [ -z "$reason" ]; then
        if [ "$COMMON_OK" != 1 ]; then
            row FAIL 1 "builds with its own Makefile (make -C $ex)" "bin/$ex" \
                "common/ does not build: $(first_error "$COMMON_LOG")" >> "$rows"
            reason="not run: the program does not build"
        elif confined "$dir" 900 make --no-print-directory -C "$SRC/$ex" O="$GB" > "$dir/build.log" 2>&1 &&
            [ -x "$BUILD/bin/$ex" ]; then
            row PASS 1 "builds with its own Makefile (make -C $ex)" "bin/$ex" "built" >> "$rows"
            built=1
        else
            row FAIL 1 "builds with its own Makefile (make -C $ex)" "bin/$ex" \
                "does not build: $(first_error "$dir/build.log")" >> "$rows"
            reason="not run: the program does not build"
        fi
    fi

    # 3. runs, and 4. its results
    local run
    for run in "${runs[@]}"; do
        if [ "$built" != 1 ]; then
            "$TOOL" not-run "$plan" "$run" "$reason" >> "$rows"
            continue
        fi
        local timeout_s args=()
        while IFS=$'\t' read -r -a f; do
            if [ "${f[0]}" = run ] && [ "${f[1]}" = "$run" ]; then
                timeout_s=$(limit "${f[4]}")
                args=("${f[@]:6}")
            fi
        done < "$plan"
        local i
        for i in "${!args[@]}"; do args[$i]=${args[$i]//@SAMPLE@/$SAMPLE}; done
        local out=$dir/$run.out status
        rm -rf "$out"
        # (the outer 2>/dev/null silences bash's own "Segmentation fault" line; the table says it)
        (confined "$dir" "$timeout_s" "$BUILD/bin/$ex" --out "$out" --no-plot "${args[@]}" \
            > "$dir/$run.log" 2> "$dir/$run.err") 2>/dev/null
        status=$?
        local cause=""
        [ "$status" -ne 0 ] && cause=$(run_cause "$status" "$dir/$run.err" "$dir" "$timeout_s" \
            "$BUILD/bin/$ex" --out "$dir/$run.again" --no-plot "${args[@]}")
        "$TOOL" run "$plan" "$run" "$status" "$out" "$cause" >> "$rows"
    done

    # The submission's functions against the reference tests.
    if [ "$has_harness" = 1 ]; then
        if [ -n "$reason" ]; then
            "$TOOL" not-run "$plan" harness "$reason" >> "$rows"
        elif [ ! -f "$BUILD/$ex/libexercise.a" ]; then
            "$TOOL" fail "$plan" harness "no libexercise.a was built" >> "$rows"
        elif make --no-print-directory -C "$ROOT/solutions" O="$GB" harness EX="$ex" SUB="$SRC" \
                > "$dir/harness-build.log" 2>&1; then
            local timeout_h status cause=""
            timeout_h=$(limit "$(awk -F'\t' '$1 == "harness" { print $3 }' "$plan")")
            (confined "$dir" "$timeout_h" "$BUILD/solutions/harness/$ex/harness" \
                > "$dir/harness.out" 2> "$dir/harness.err") 2>/dev/null
            status=$?
            [ "$status" -ne 0 ] && cause=$(run_cause "$status" "$dir/harness.err" "$dir" "$timeout_h" \
                "$BUILD/solutions/harness/$ex/harness")
            "$TOOL" harness "$plan" "$status" "$dir/harness.out" "$cause" >> "$rows"
        else
            "$TOOL" fail "$plan" harness "does not compile or link: $(first_error "$dir/harness-build.log")" >> "$rows"
        fi
    fi
}

rowfiles=()
for ex in $EXERCISES; do
    echo "grade: $ex ..." >&2
    grade_exercise "$ex"
    rowfiles+=("$WORK/$ex/rows.tsv")
done

mode="short seeded training runs"
[ "$GRADE_QUICK" = 1 ] && mode="the shortest training runs (GRADE_QUICK=1)"
heading="Checkout: \`$(basename "$SUB")\`, graded on $(date -u '+%Y-%m-%d %H:%M UTC') with $mode.
The copy that was built and run, with every program's output and logs: \`$(shown "$GB")\`."
"$TOOL" report "$REPORT" "$SUMMARY" "$heading" "$ROOT/solutions/manual-questions.tsv" "$ROOT" "$SUB" "${rowfiles[@]}"
