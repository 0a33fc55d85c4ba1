#!/usr/bin/env bash
# grade.sh: grades a checkout of this repository's layout against the reference solutions.
#
#   solutions/grade.sh [CHECKOUT]         (make grade [SUBMISSION=CHECKOUT]); default: this checkout
#
# For every exercise, in order: its files exist, it builds with its own Makefile, its program
# runs and writes results.tsv, each result is right; and the submission's own functions are
# linked against the reference tests (a harness). An earlier failure marks the later items
# NOT RUN, saying which item failed. The tables go to the terminal and to grade-report.md at
# the top of the graded checkout; the exit status is 0 only when every counted item passes.
#
# Environment:
#   GRADE_BUILD=DIR    where the checkout and the grader are built (default CHECKOUT/build/grade)
#   GRADE_REPORT=FILE  the report (default CHECKOUT/grade-report.md)
#   GRADE_ONLY="a b"   grade only these exercises
#   GRADE_QUICK=1      the shortest training runs (the test suite's setting)
#   REQUIRE_ALL=1      an exercise marked optional (week05-task1) counts even when it is missing
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
SAMPLE=$ROOT/data/sample
export GRADE_QUICK=${GRADE_QUICK:-0}
mkdir -p "$GB" || exit 3
GB=$(cd "$GB" && pwd)

echo "grade: grading $SUB, building in $GB" >&2

# The grader's own programs, from this repository (never from the submission).
if ! make -s --no-print-directory -C "$ROOT/solutions" O="$GB" tools > "$GB/grader-build.log" 2>&1; then
    echo "grade: the grader's own programs do not build; see $GB/grader-build.log" >&2
    exit 3
fi
BUILD=$(make -s --no-print-directory -C "$ROOT/solutions" O="$GB" print-build)
TOOL=$BUILD/solutions/bin/grade_tool
WORK=$GB/work
rm -rf "$WORK"
mkdir -p "$WORK" || exit 3

EXERCISES=$(make -s --no-print-directory -C "$ROOT/solutions" print-exercises)
[ -n "${GRADE_ONLY:-}" ] && EXERCISES=$GRADE_ONLY

# The submission's library, once for every exercise.
COMMON_LOG=$WORK/common-build.log
if make --no-print-directory -C "$SUB/common" O="$GB" > "$COMMON_LOG" 2>&1 && [ -f "$BUILD/common/libcommon.a" ]; then
    COMMON_OK=1
else
    COMMON_OK=0
fi

# The first line of a build log that names an error, for the table.
first_error() {
    local line
    line=$(grep -m1 -E 'error:|undefined reference|No rule to make|\*\*\*' "$1" 2>/dev/null | cut -c1-160)
    [ -n "$line" ] || line="see $1"
    printf '%s' "$line"
}

row() {   # STATUS POINTS NAME EXPECTED GOT
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5"
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
    for p in "${requires[@]}"; do [ -e "$SUB/$p" ] || missing+=("$p"); done
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
        elif make --no-print-directory -C "$SUB/$ex" O="$GB" > "$dir/build.log" 2>&1 && [ -x "$BUILD/bin/$ex" ]; then
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
                timeout_s=${f[4]}
                args=("${f[@]:6}")
            fi
        done < "$plan"
        local i
        for i in "${!args[@]}"; do args[$i]=${args[$i]//@SAMPLE@/$SAMPLE}; done
        local out=$dir/$run.out
        rm -rf "$out"
        # (the outer 2>/dev/null silences bash's own "Segmentation fault" line; the table says it)
        (cd "$dir" && timeout -k 5 "$timeout_s" "$BUILD/bin/$ex" --out "$out" --no-plot "${args[@]}" \
            > "$dir/$run.log" 2>&1) 2>/dev/null
        "$TOOL" run "$plan" "$run" "$?" "$out" >> "$rows"
    done

    # The submission's functions against the reference tests.
    if [ "$has_harness" = 1 ]; then
        if [ -n "$reason" ]; then
            "$TOOL" not-run "$plan" harness "$reason" >> "$rows"
        elif [ ! -f "$BUILD/$ex/libexercise.a" ]; then
            "$TOOL" fail "$plan" harness "no libexercise.a was built" >> "$rows"
        elif make --no-print-directory -C "$ROOT/solutions" O="$GB" harness EX="$ex" SUB="$SUB" \
                > "$dir/harness-build.log" 2>&1; then
            local timeout_h
            timeout_h=$(awk -F'\t' '$1 == "harness" { print $3 }' "$plan")
            (cd "$dir" && timeout -k 5 "$timeout_h" "$BUILD/solutions/harness/$ex/harness" \
                > "$dir/harness.out" 2> "$dir/harness.err") 2>/dev/null
            "$TOOL" harness "$plan" "$?" "$dir/harness.out" >> "$rows"
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
heading="Checkout: \`$SUB\`, graded by \`$ROOT/solutions/grade.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), with $mode.
Build, program output and logs: \`$WORK\`."
"$TOOL" report "$REPORT" "$heading" "${rowfiles[@]}"
