#!/usr/bin/env bash
# run.sh TARGET...: runs each fuzz target (built by `make -C fuzz build`) for FUZZ_SECONDS seconds,
# starting from its seeds in fuzz/corpus/TARGET/ (replayed first: an input that once crashed stays
# there as a test). New inputs go to FUZZ_BUILD/corpus/TARGET/, a crash to FUZZ_BUILD/crash-TARGET-*.
# Exit status: 0 when no target found anything, 1 when one did (the command to replay it is printed).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${FUZZ_BUILD:?give FUZZ_BUILD, the folder of the built targets}" "${FUZZ_SECONDS:=60}"
case $FUZZ_SECONDS in ''|*[!0-9]*|0) echo "fuzz: FUZZ_SECONDS must be a whole number of seconds, not '$FUZZ_SECONDS'" >&2; exit 2 ;; esac
status=0
for t in "$@"; do
    bin=$FUZZ_BUILD/fuzz_$t
    [ -x "$bin" ] || { echo "fuzz: no target '$t' (the targets: idx cifar10 checkpoint layers results history numbers matrix)" >&2; exit 2; }
    [ -d "$here/corpus/$t" ] || { echo "fuzz: no seeds in fuzz/corpus/$t" >&2; exit 2; }
    work=$FUZZ_BUILD/corpus/$t
    mkdir -p "$work"
    log=$FUZZ_BUILD/$t.log
    printf 'fuzz: %-10s %s s ... ' "$t" "$FUZZ_SECONDS"
    # -timeout: one input may take 10 s; -rss_limit_mb: a reader that allocates what a header
    # promises before checking it is a finding; new inputs go to $work, the seeds stay as they are
    if TMPDIR=$FUZZ_BUILD "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$FUZZ_BUILD/crash-$t-" "$work" "$here/corpus/$t" > "$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "no finding (${runs:-?} inputs; log: $log)"
    else
        status=1
        echo "FOUND A PROBLEM"
        grep -m 3 -E '^==[0-9]+==ERROR|runtime error|SUMMARY' "$log" | sed 's/^/    /'
        crash=$(ls -t "$FUZZ_BUILD"/crash-"$t"-* 2>/dev/null | head -1)
        echo "    replay it: $bin ${crash:-(see $log)}"
        echo "    once fixed, keep it as a test: cp ${crash:-THE_INPUT} fuzz/corpus/$t/"
    fi
done
exit $status
