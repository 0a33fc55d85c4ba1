#!/usr/bin/env bash
# figures.sh: runs every exercise and gathers its numbers and figures into REPORT.md (`make figures`).
#
#   scripts/figures.sh [--bin DIR] [--out DIR] [--report FILE] [--only "DIR ..."]
#                      [--no-build] [--no-download]
#
# What it does, in order (`make figures` has installed the missing packages before):
#   1. builds the library and each exercise's program (an exercise without a program yet is
#      reported as "not built yet"; one that does not compile as "build failed");
#   2. finds the data: $FASHION_MNIST_DIR when set, else data/fashion-mnist, else Debian's
#      dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), else it tries
#      `make data` (a quick probe first, so that it fails within seconds without network),
#      else the bundled sample, with a loud warning here and in the report;
#   3. runs each program as scripts/exercises.conf lists it, with --seed $SEED (default 42), into
#      out/<dir>/. A run whose binary, arguments and data have not changed since its last
#      successful run, and whose outputs are all there, is skipped. A changed training run
#      continues from its checkpoint when the program supports it; FORCE=1 reruns everything
#      from scratch. The programs render their PNGs when gnuplot is installed;
#   4. writes REPORT.md and report.html (with pandoc when it is installed, else cmark-gfm; every
#      image it shows checked to exist): the date, seed, data, machine
#      and time of each exercise, then for each exercise its key numbers, tables and figures.
# It prints the time each exercise took, and exits 1 when a build or a run failed (the report
# says which), 2 for bad options or a data folder that lacks files, 3 when nothing failed but a
# run skipped parts whose functions are not written yet (the student edition).
#
#   --bin DIR      where the programs are (default: bin/ of the repository)
#   --out DIR      output root (default: out/ of the repository)
#   --report FILE  the report (default: REPORT.md in the repository); report.html goes beside it
#   --only LIST    just these exercise folders
#   --no-build     use the programs as they are in --bin
#   --no-download  never try to download the data
set -u
# Numbers in C notation for this script; the programs get the caller's locale back.
ORIG_LC_ALL=${LC_ALL-unset}
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/exercises-lib.sh"

CONF=$ROOT/scripts/exercises.conf
BIN=$ROOT/bin
OUT=$ROOT/out
REPORT=$ROOT/REPORT.md
ONLY=""
BUILD=1
DOWNLOAD=1
SEED=${SEED:-42}
FORCE=${FORCE:-0}
MAKE=${MAKE:-make}
DOWNLOAD_TIMEOUT=${DOWNLOAD_TIMEOUT:-600}

say() { printf 'figures: %s\n' "$*"; }
die() { printf 'figures: %s\n' "$*" >&2; exit "${2:-2}"; }
usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case $1 in
        --bin|--out|--report|--only|--conf)
            [ $# -ge 2 ] || die "$1 needs a value (try --help)"
            case $1 in
                --bin) BIN=$2 ;; --out) OUT=$2 ;; --report) REPORT=$2 ;;
                --only) ONLY=$2 ;; --conf) CONF=$2 ;;
            esac
            shift ;;
        --no-build) BUILD=0 ;;
        --no-download) DOWNLOAD=0 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option '$1' (try --help)" ;;
    esac
    shift
done
case $SEED in ''|*[!0-9]*) die "SEED must be a non-negative whole number, not '$SEED'" ;; esac
case $FORCE in 0|1|'') ;; *) die "FORCE must be 0 or 1, not '$FORCE'" ;; esac
FORCE=${FORCE:-0}
conf_load "$CONF" || exit 2
mkdir -p "$OUT" "$(dirname "$REPORT")" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
BIN=$(mkdir -p "$BIN" && cd "$BIN" && pwd)
STATE=$OUT/.figures            # stamps and logs
mkdir -p "$STATE"

selected() { [ -z "$ONLY" ] && return 0; case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
for word in $ONLY; do
    found=0
    for ex in "${!EX_DIR[@]}"; do [ "${EX_DIR[$ex]}" = "$word" ] && found=1; done
    [ $found -eq 1 ] || die "--only: '$word' is not an exercise of $CONF"
done

now_ns() { date +%s%N; }
seconds_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
checksum() { md5sum "$@" 2>/dev/null | awk '{ printf "%s ", $1 }'; }
# A path as the reader of the report should see it: relative to the report's folder.
report_path() { realpath -m --relative-to="$(dirname "$REPORT")" "$1"; }
# A path relative to the repository when it lies inside it.
short_path() { case $1 in "$ROOT"/*) printf '%s' "${1#"$ROOT"/}" ;; *) printf '%s' "$1" ;; esac; }

T_START=$(now_ns)
declare -A EX_STATUS EX_SECONDS EX_RESULT_SECONDS EX_NOTE
FAILED=0
PARTIAL=0   # a run exited 3: it skipped parts whose functions are not written yet

# 1. Build ---------------------------------------------------------------------------------
for ex in "${!EX_DIR[@]}"; do
    dir=${EX_DIR[$ex]}
    selected "$dir" || continue
    EX_SECONDS[$dir]=0 EX_RESULT_SECONDS[$dir]=0 EX_NOTE[$dir]=""
    if [ ! -f "$ROOT/$dir/main.c" ]; then
        EX_STATUS[$dir]="not built yet"
        EX_NOTE[$dir]="$dir/ has no program yet (no main.c)."
    else
        EX_STATUS[$dir]=ok
    fi
done
if [ $BUILD -eq 1 ]; then
    say "building (log: $(short_path "$STATE/build.log"))"
    : > "$STATE/build.log"
    if ! $MAKE --no-print-directory -C "$ROOT/common" >> "$STATE/build.log" 2>&1; then
        tail -n 20 "$STATE/build.log" >&2
        die "the library in common/ does not build; see $STATE/build.log" 1
    fi
    for ex in "${!EX_DIR[@]}"; do
        dir=${EX_DIR[$ex]}
        selected "$dir" && [ "${EX_STATUS[$dir]}" = ok ] || continue
        before=$(stat -c %Y "$BIN/$dir" 2>/dev/null || echo none)
        if $MAKE --no-print-directory -C "$ROOT/$dir" >> "$STATE/build.log" 2>&1 && [ -x "$BIN/$dir" ]; then
            after=$(stat -c %Y "$BIN/$dir")
            if [ "$before" = "$after" ]; then say "  $dir: up to date"; else say "  $dir: built"; fi
        else
            EX_STATUS[$dir]="build failed"
            EX_NOTE[$dir]="\`make -C $dir\` failed; its messages are in $(short_path "$STATE/build.log")."
            FAILED=1
            say "  $dir: BUILD FAILED (see $(short_path "$STATE/build.log"))"
        fi
    done
fi
for ex in "${!EX_DIR[@]}"; do
    dir=${EX_DIR[$ex]}
    selected "$dir" && [ "${EX_STATUS[$dir]}" = ok ] || continue
    if [ ! -x "$BIN/$dir" ]; then
        EX_STATUS[$dir]="not built yet"
        EX_NOTE[$dir]="there is no program $BIN/$dir (build with \`make\`)."
    fi
done

# 2. Data ----------------------------------------------------------------------------------
NEEDS_DATA=0
for j in "${!RUN_EX[@]}"; do
    ex=${RUN_EX[$j]}
    selected "${EX_DIR[$ex]}" && [ -n "${EX_DATA[$ex]}" ] && [ "${EX_STATUS[${EX_DIR[$ex]}]}" = ok ] && NEEDS_DATA=1
done
DATA_FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"
# The path of the file $2 (gzip-compressed or raw) in folder $1, or nothing.
data_file() { if [ -f "$1/$2.gz" ]; then printf '%s' "$1/$2.gz"; elif [ -f "$1/$2" ]; then printf '%s' "$1/$2"; fi; }
has_data() { local f; for f in $DATA_FILES; do [ -n "$(data_file "$1" "$f")" ] || return 1; done; }
# The item count in the header of IDX file $1 (bytes 4..7, big-endian).
idx_count() {
    local f=$1
    { case $f in *.gz) gzip -dc "$f" 2>/dev/null ;; *) cat "$f" ;; esac; } | head -c 8 |
        od -An -tu1 | awk '{ print ((($5 * 256 + $6) * 256 + $7) * 256 + $8) }'
}
probe_download() {
    local url=${FASHION_MNIST_URL:-http://fashion-mnist.s3-website.eu-central-1.amazonaws.com}/t10k-labels-idx1-ubyte.gz
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null -r 0-0 --connect-timeout 5 --max-time 10 "$url" 2>/dev/null
    elif command -v wget >/dev/null 2>&1; then
        wget -q --spider --timeout=5 --tries=1 "$url" 2>/dev/null
    else
        return 1
    fi
}

DATA_DIR="" DATA_FROM="" DATA_KIND="" DATA_ID=none
SYSTEM_DATA=${FASHION_MNIST_SYSTEM_DIR-/usr/share/datasets/fashion-mnist}   # as the programs look (io/data.h)
if [ -n "${FASHION_MNIST_DIR:-}" ]; then
    has_data "$FASHION_MNIST_DIR" ||
        die "FASHION_MNIST_DIR=$FASHION_MNIST_DIR does not hold the four Fashion-MNIST files ($DATA_FILES, .gz or not). Point it at a complete copy, or unset it to download into data/fashion-mnist."
    DATA_DIR=$FASHION_MNIST_DIR DATA_FROM="\$FASHION_MNIST_DIR"
elif has_data "$ROOT/data/fashion-mnist"; then
    DATA_DIR=$ROOT/data/fashion-mnist DATA_FROM="data/fashion-mnist (make data)"
elif [ -n "$SYSTEM_DATA" ] && has_data "$SYSTEM_DATA"; then
    DATA_DIR=$SYSTEM_DATA DATA_FROM="Debian's dataset-fashion-mnist"
elif [ $NEEDS_DATA -eq 1 ] && [ $DOWNLOAD -eq 1 ]; then
    say "no Fashion-MNIST copy here; trying to download it (make data)"
    if ! probe_download; then
        say "  the download location does not answer (no network?): not downloading"
    elif timeout "$DOWNLOAD_TIMEOUT" "$ROOT/scripts/get-data.sh" && has_data "$ROOT/data/fashion-mnist"; then
        DATA_DIR=$ROOT/data/fashion-mnist DATA_FROM="data/fashion-mnist, downloaded now (make data)"
    else
        say "  the download failed"
    fi
fi
if [ -z "$DATA_DIR" ]; then
    DATA_DIR=$ROOT/data/sample DATA_FROM="the bundled sample (data/sample)" DATA_KIND=sample
fi
DATA_DIR=$(cd "$DATA_DIR" && pwd)
N_TRAIN=$(idx_count "$(data_file "$DATA_DIR" train-labels-idx1-ubyte)")
N_TEST=$(idx_count "$(data_file "$DATA_DIR" t10k-labels-idx1-ubyte)")
if [ -z "$DATA_KIND" ] && [ "$DATA_DIR" = "$(cd "$ROOT/data/sample" && pwd)" ]; then
    DATA_KIND=sample
fi
if [ -z "$DATA_KIND" ]; then
    if [ "$N_TRAIN" = 60000 ] && [ "$N_TEST" = 10000 ]; then DATA_KIND=full; else DATA_KIND=partial; fi
fi
case $DATA_KIND in
    full) DATA_TEXT="the full Fashion-MNIST ($N_TRAIN training and $N_TEST test images) in $DATA_DIR, from $DATA_FROM" ;;
    sample) DATA_TEXT="the SAMPLE of Fashion-MNIST ($N_TRAIN training and $N_TEST test images) in $DATA_DIR, bundled with the repository" ;;
    *) DATA_TEXT="a PARTIAL copy of Fashion-MNIST ($N_TRAIN training and $N_TEST test images) in $DATA_DIR, from $DATA_FROM" ;;
esac
SAMPLE_WARNING=""
if [ "$DATA_KIND" != full ]; then
    SAMPLE_WARNING="These results come from the small sample of Fashion-MNIST ($N_TRAIN training and $N_TEST test images), not from the full data: the trained models and every number computed on images are NOT the exercises' results. Get the full data with \`make data\`, or \`export FASHION_MNIST_DIR=/path/to/fashion-mnist\`, and run \`make figures\` again."
fi
if [ $NEEDS_DATA -eq 1 ]; then
    say "data: $DATA_TEXT"
    [ -z "$SAMPLE_WARNING" ] || {
        printf '\nfigures: ************************************************************************\n' >&2
        printf '%s\n' "$SAMPLE_WARNING" | fold -s -w 90 | sed 's/^/figures: * /' >&2
        printf 'figures: ************************************************************************\n\n' >&2
    }
    files=""
    for f in $DATA_FILES; do files="$files $(data_file "$DATA_DIR" "$f")"; done
    # shellcheck disable=SC2086
    DATA_ID=$(checksum $files)
fi

# 3. Runs ----------------------------------------------------------------------------------
HAVE_GNUPLOT=0
command -v gnuplot >/dev/null 2>&1 && HAVE_GNUPLOT=1

# The figures of exercise $1 that run $2 makes (those under its folder), relative to out/DIR.
run_figures() {
    local ex=$1 name=$2 k f first owner
    for k in "${!FIG_EX[@]}"; do
        [ "${FIG_EX[$k]}" = "$ex" ] || continue
        f=${FIG_FILE[$k]}
        owner=main
        first=${f%%/*}
        if [ "$first" != "$f" ]; then
            local j
            for j in "${!RUN_EX[@]}"; do
                [ "${RUN_EX[$j]}" = "$ex" ] && [ "${RUN_NAME[$j]}" = "$first" ] && owner=$first
            done
        fi
        [ "$owner" = main ] && [ "$name" != main ] && ! has_run "$ex" main && owner=$(first_run "$ex")
        [ "$owner" = "$name" ] && printf '%s\n' "$f"
    done
}
has_run() { local j; for j in "${!RUN_EX[@]}"; do [ "${RUN_EX[$j]}" = "$1" ] && [ "${RUN_NAME[$j]}" = "$2" ] && return 0; done; return 1; }
first_run() { local j; for j in "${!RUN_EX[@]}"; do [ "${RUN_EX[$j]}" = "$1" ] && { printf '%s' "${RUN_NAME[$j]}"; return; }; done; }
stamp_field() { awk -v k="$1" '$1 == k { sub(/^[^ ]* /, ""); print; exit }' "$2" 2>/dev/null; }
# Checksums of the checkpoint files (the `resume` line's pattern) in folder $2, or nothing.
checkpoint_sums() {
    local pattern=${EX_RESUME[$1]#* } f files=()
    [ "$pattern" != "${EX_RESUME[$1]}" ] || return 0
    for f in "$2"/$pattern; do [ -f "$f" ] && files+=("$f"); done
    [ ${#files[@]} -eq 0 ] || checksum "${files[@]}"
}

# Runs bin/$dir with $args and then "$@", output to $log, in the caller's locale. On a
# terminal it shows the log's last line every 30 s, so a long training run is seen to progress.
run_program() {
    (if [ "$ORIG_LC_ALL" = unset ]; then unset LC_ALL; else LC_ALL=$ORIG_LC_ALL; fi
     cd "$ROOT" && exec "$BIN/$dir" "${args[@]}" "$@") > "$log" 2>&1 &
    local pid=$! ticks=0 last="" line status
    # A program started with & ignores Ctrl-C, so pass an interrupt on to it.
    trap 'kill "$pid" 2>/dev/null; wait "$pid"; exit 130' INT TERM
    if [ -t 1 ]; then
        while kill -0 "$pid" 2>/dev/null; do
            sleep 1
            ticks=$((ticks + 1))
            [ $((ticks % 30)) -eq 0 ] || continue
            line=$(tail -n 1 "$log" 2>/dev/null | tr -d '\r' | cut -c 1-100)
            [ -z "$line" ] || [ "$line" = "$last" ] || printf 'figures:   ... %s\n' "$line"
            last=$line
        done
    fi
    wait "$pid"
    status=$?
    trap - INT TERM
    return $status
}
declare -A RUN_STATUS
for j in "${!RUN_EX[@]}"; do
    ex=${RUN_EX[$j]}
    dir=${EX_DIR[$ex]}
    name=${RUN_NAME[$j]}
    selected "$dir" && [ "${EX_STATUS[$dir]}" = ok ] || continue
    outdir=$(run_outdir "$OUT" "$j")
    # shellcheck disable=SC2206
    args=(${RUN_ARGS[$j]} --seed "$SEED" --out "$outdir")
    [ -z "${EX_DATA[$ex]}" ] || args+=(--data "$DATA_DIR")
    mkdir -p "$STATE/$dir"
    stamp=$STATE/$dir/$name.stamp
    log=$STATE/$dir/$name.log
    bin_sum=$(checksum "$BIN/$dir")
    data_id=none
    [ -z "${EX_DATA[$ex]}" ] || data_id=$DATA_ID
    label="$dir${name:+ ($name)}"
    [ "$name" = main ] && label=$dir

    outputs_ok=1
    [ -f "$outdir/results.tsv" ] || outputs_ok=0
    if [ $HAVE_GNUPLOT -eq 1 ]; then
        while IFS= read -r f; do
            [ -z "$f" ] || [ -f "$OUT/$dir/$f" ] || outputs_ok=0
        done < <(run_figures "$ex" "$name")
    fi
    # A results.tsv that is not the one our last run wrote (someone ran the program by hand into
    # the same folder) means the folder no longer holds this setting's results.
    [ ! -f "$stamp" ] || [ "$(stamp_field results "$stamp")" = "$(checksum "$outdir/results.tsv")" ] || outputs_ok=0
    same_setting=0
    if [ -f "$stamp" ] && [ "$(stamp_field args "$stamp")" = "${args[*]}" ] &&
       [ "$(stamp_field data "$stamp")" = "$data_id" ]; then
        same_setting=1
    fi
    if [ "$FORCE" != 1 ] && [ $same_setting -eq 1 ] && [ $outputs_ok -eq 1 ] &&
       [ "$(stamp_field binary "$stamp")" = "$bin_sum" ]; then
        RUN_STATUS[$j]=unchanged
        took=$(stamp_field seconds "$stamp")
        EX_RESULT_SECONDS[$dir]=$(awk -v a="${EX_RESULT_SECONDS[$dir]}" -v b="${took:-0}" 'BEGIN { print a + b }')
        say "$label: unchanged since its last run ($(stamp_field date "$stamp"), ${took:-?} s): skipped"
        continue
    fi
    # Resume only from checkpoints that our last run of this very setting wrote.
    resume=()
    if [ -n "${EX_RESUME[$ex]}" ] && [ "$FORCE" != 1 ] && [ $same_setting -eq 1 ]; then
        ckpt_sum=$(checkpoint_sums "$ex" "$outdir")
        if [ -n "$ckpt_sum" ] && [ "$(stamp_field checkpoints "$stamp")" = "$ckpt_sum" ]; then
            resume=("${EX_RESUME[$ex]%% *}")
        fi
    fi
    # the training time the checkpoints cost: the run that trained them (an older stamp has only seconds)
    previous_seconds=$(stamp_field trained "$stamp")
    [ -n "$previous_seconds" ] || previous_seconds=$(stamp_field seconds "$stamp")
    rm -f "$stamp"
    say "$label: running $(short_path "$BIN/$dir") ${args[*]}${resume[*]:+ ${resume[*]}}"
    t0=$(now_ns)
    run_program "${resume[@]}"
    rc=$?
    if [ $rc -ne 0 ] && [ ${#resume[@]} -gt 0 ]; then
        say "$label: could not continue from its checkpoint (exit status $rc); training from scratch"
        resume=()
        run_program
        rc=$?
    fi
    took=$(seconds_since "$t0")
    EX_SECONDS[$dir]=$(awk -v a="${EX_SECONDS[$dir]}" -v b="$took" 'BEGIN { print a + b }')
    EX_RESULT_SECONDS[$dir]=$(awk -v a="${EX_RESULT_SECONDS[$dir]}" -v b="$took" 'BEGIN { print a + b }')
    if [ $rc -eq 3 ]; then   # the student edition: parts that need a function not written yet were skipped
        RUN_STATUS[$j]="ran in part (parts skipped: functions not written yet)"
        PARTIAL=1
        say "$label: ran in part after $took s; it skipped (results.tsv):"
        grep '^skipped_' "$outdir/results.tsv" 2>/dev/null | sed 's/^/    /'
        continue   # no stamp: the next make figures runs it again
    fi
    if [ $rc -ne 0 ]; then
        RUN_STATUS[$j]="failed (exit status $rc)"
        EX_STATUS[$dir]="run failed"
        EX_NOTE[$dir]="${EX_NOTE[$dir]}\`${BIN##*/}/$dir ${RUN_ARGS[$j]}\` exited with status $rc after $took s; its output is in $(short_path "$log"). "
        FAILED=1
        say "$label: FAILED with exit status $rc after $took s; the last lines of $(short_path "$log"):"
        tail -n 15 "$log" | sed 's/^/    /'
        continue
    fi
    RUN_STATUS[$j]="ran${resume[*]:+ (${resume[*]})}"
    total=$took trained=$took
    if [ ${#resume[@]} -gt 0 ]; then   # the results also owe the training time of the run that saved the checkpoints
        trained=${previous_seconds:-0}
        total=$(awk -v a="$took" -v b="$trained" 'BEGIN { print a + b }')
        EX_RESULT_SECONDS[$dir]=$(awk -v a="${EX_RESULT_SECONDS[$dir]}" -v b="$trained" 'BEGIN { print a + b }')
    fi
    {
        printf 'binary %s\nargs %s\ndata %s\nseconds %s\ntrained %s\ndate %s\nresults %s\ncheckpoints %s\n' \
            "$bin_sum" "${args[*]}" "$data_id" "$total" "$trained" "$(date '+%Y-%m-%d %H:%M')" \
            "$(checksum "$outdir/results.tsv")" "$(checkpoint_sums "$ex" "$outdir")"
    } > "$stamp.tmp" && mv "$stamp.tmp" "$stamp"
    say "$label: done in $took s"
done

# 4. The report ----------------------------------------------------------------------------
# These helpers return their answer in REPLY: no subshell, since a report makes hundreds of calls.
cell() { REPLY=${1//|/\\|}; }   # Markdown-safe text for a table cell
# A value for people: whole numbers and words as they are, other numbers to 6 significant digits.
pretty() {
    if [[ $1 =~ ^-?[0-9]+$ ]]; then REPLY=$1
    elif [[ $1 =~ ^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]]; then printf -v REPLY '%.6g' "$1"
    else REPLY=$1
    fi
}
declare -A RES RES_READ
# lookup EXERCISE RUN KEY: REPLY = the pretty value from that run's results.tsv, or "—".
lookup() {
    local file k v
    file=$(named_run_outdir "$OUT" "$1" "$2")/results.tsv
    if [ -z "${RES_READ[$file]:-}" ]; then
        RES_READ[$file]=1
        if [ -f "$file" ]; then
            while IFS=$'\t' read -r k v; do RES["$file"$'\t'"$k"]=$v; done < "$file"
        fi
    fi
    if [[ -v RES["$file"$'\t'"$3"] ]]; then pretty "${RES["$file"$'\t'"$3"]}"; else REPLY="—"; fi
}
# GitHub's and pandoc's heading anchors: lower case, punctuation dropped, spaces to hyphens.
anchor() { local s=${1,,}; s=${s//[^[:alnum:] _-]/}; REPLY=${s// /-}; }

# table_items "a:A,b" VALUES LABELS: the comma-separated `value:label` items into two arrays.
table_items() {
    local -n values=$2 labels=$3
    local item items
    IFS=',' read -r -a items <<< "$1"
    for item in "${items[@]}"; do
        trim item "$item"
        values+=("${item%%:*}")
        if [ "${item#*:}" != "$item" ]; then labels+=("${item#*:}"); else labels+=("$item"); fi
    done
}
write_table() {   # exercise, run, spec
    local ex=$1 run=$2 title rowhead rows cols pattern line sep key r c
    local -a rv=() rl=() cv=() cl=()
    IFS='|' read -r title rowhead rows cols pattern <<< "$3"
    trim title "$title"; trim rowhead "$rowhead"; trim pattern "$pattern"
    table_items "$rows" rv rl
    table_items "$cols" cv cl
    printf '**%s**\n\n' "$title"
    cell "$rowhead"; line="| $REPLY |" sep="| --- |"
    for c in "${!cv[@]}"; do cell "${cl[$c]}"; line="$line $REPLY |"; sep="$sep ---: |"; done
    printf '%s\n%s\n' "$line" "$sep"
    for r in "${!rv[@]}"; do
        cell "${rl[$r]}"; line="| $REPLY |"
        for c in "${!cv[@]}"; do
            key=${pattern//\{row\}/${rv[$r]}}
            key=${key//\{col\}/${cv[$c]}}
            lookup "$ex" "$run" "$key"; cell "$REPLY"
            line="$line $REPLY |"
        done
        printf '%s\n' "$line"
    done
    printf '\n'
}

machine() {
    local cpu mem
    cpu=$(awk -F ': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
    mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
    printf '%s, %s, %s cores, %s' "$(uname -srm)" "${cpu:-unknown CPU}" "$(nproc 2>/dev/null || echo '?')" "${mem:-? GiB}"
}
# What happened to exercise $1 in this run, in a few words.
ex_status() {
    local ex=$1 dir=${EX_DIR[$1]} j
    REPLY=${EX_STATUS[$dir]}
    [ "$REPLY" = ok ] || return 0
    REPLY=""
    for j in "${!RUN_EX[@]}"; do
        [ "${RUN_EX[$j]}" = "$ex" ] || continue
        REPLY="$REPLY${REPLY:+, }${RUN_STATUS[$j]:-?}"
        [ "${RUN_NAME[$j]}" = main ] || REPLY="$REPLY (${RUN_NAME[$j]})"
    done
    [ -n "$REPLY" ] || REPLY="built; no run listed in scripts/exercises.conf yet"
}

TOTAL=$(seconds_since "$T_START")
write_report() {
    local ex dir j k f png rel shown runs listed
    printf '# Autoencoders and variational autoencoders: the course report\n\n'
    printf 'Every number and figure below comes from the programs of this repository, run by `make figures`\n'
    printf 'with their default settings. Each exercise'"'"'s chapter (its README) explains what they mean.\n\n'
    printf '| | |\n| --- | --- |\n'
    printf '| date | %s |\n' "$(date '+%Y-%m-%d %H:%M %Z')"
    printf '| seed | %s (every program was run with `--seed %s`) |\n' "$SEED" "$SEED"
    cell "$DATA_TEXT"
    if [ $NEEDS_DATA -eq 1 ]; then printf '| data | %s |\n' "$REPLY"
    else printf '| data | %s (no program run here reads it) |\n' "$REPLY"; fi
    cell "$(machine)"; printf '| machine | %s |\n' "$REPLY"
    cell "$(${CC:-cc} --version 2>/dev/null | head -n 1)"; printf '| compiler | %s |\n' "$REPLY"
    if git -C "$ROOT" rev-parse --short HEAD >/dev/null 2>&1; then
        local rev dirty=""
        rev=$(git -C "$ROOT" rev-parse --short HEAD)
        [ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] || dirty=" with local changes"
        printf '| code | commit %s%s |\n' "$rev" "$dirty"
    fi
    if [ $HAVE_GNUPLOT -eq 1 ]; then f="figures rendered with $(gnuplot --version 2>/dev/null)"
    else f="gnuplot is not installed, so no figure was rendered"; fi
    printf '| time | %s s for this `make figures`; %s |\n\n' "$TOTAL" "$f"
    if [ -n "$SAMPLE_WARNING" ] && [ $NEEDS_DATA -eq 1 ]; then
        printf '> **WARNING: sample data.** %s\n\n' "$SAMPLE_WARNING"
    fi

    printf '## Exercises\n\n'
    printf 'A run is skipped when its program, arguments and data are those of its last successful run;\n'
    printf 'the last column is then the time that earlier run took.\n\n'
    printf '| exercise | status | time now (s) | time of the results shown (s) |\n| --- | --- | ---: | ---: |\n'
    for ex in "${!EX_DIR[@]}"; do
        dir=${EX_DIR[$ex]}
        selected "$dir" || continue
        ex_status "$ex"; cell "$REPLY"; local status=$REPLY
        anchor "${EX_TITLE[$ex]}"
        printf '| [%s](#%s) | %s | %s | %s |\n' "$dir" "$REPLY" "$status" "${EX_SECONDS[$dir]}" "${EX_RESULT_SECONDS[$dir]}"
    done
    printf '\n'

    for ex in "${!EX_DIR[@]}"; do
        dir=${EX_DIR[$ex]}
        selected "$dir" || continue
        printf '## %s\n\n' "${EX_TITLE[$ex]}"
        printf 'Folder [`%s/`](%s), chapter [`%s/README.md`](%s).\n\n' "$dir" "$(report_path "$ROOT/$dir")" \
            "$dir" "$(report_path "$ROOT/$dir/README.md")"
        case ${EX_STATUS[$dir]} in
            "not built yet") printf '**Not built yet:** %s\n\n' "${EX_NOTE[$dir]}"; continue ;;
            "build failed") printf '**Build failed:** %s\n\n' "${EX_NOTE[$dir]}"; continue ;;
            "run failed") printf '**Run failed:** %s\n\n' "${EX_NOTE[$dir]}" ;;
        esac
        runs=0
        for j in "${!RUN_EX[@]}"; do
            [ "${RUN_EX[$j]}" = "$ex" ] || continue
            runs=$((runs + 1))
            f=$(run_outdir "$OUT" "$j")/results.tsv
            printf -- '- run `%s`: `bin/%s%s --seed %s`, results in [`%s`](%s)\n' "${RUN_NAME[$j]}" "$dir" \
                "${RUN_ARGS[$j]:+ ${RUN_ARGS[$j]}}" "$SEED" "$(short_path "$f")" "$(report_path "$f")"
        done
        if [ $runs -eq 0 ]; then
            printf '**Not run:** the program exists, but scripts/exercises.conf lists no run for it yet.\n\n'
            continue
        fi
        printf '\n'
        shown=0
        for k in "${!SHOW_EX[@]}"; do
            [ "${SHOW_EX[$k]}" = "$ex" ] || continue
            [ $shown -eq 1 ] || printf '**Key numbers**\n\n| quantity | value | key in results.tsv |\n| --- | ---: | --- |\n'
            shown=1
            cell "${SHOW_LABEL[$k]}"; local label=$REPLY key=${SHOW_KEY[$k]}
            [ $runs -eq 1 ] || key="${SHOW_RUN[$k]}: $key"
            if run_failed "$ex" "${SHOW_RUN[$k]}"; then REPLY="(run failed)"
            else lookup "$ex" "${SHOW_RUN[$k]}" "${SHOW_KEY[$k]}"; cell "$REPLY"; fi
            printf '| %s | %s | `%s` |\n' "$label" "$REPLY" "$key"
        done
        [ $shown -eq 0 ] || printf '\n'
        for j in "${!RUN_EX[@]}"; do
            [ "${RUN_EX[$j]}" = "$ex" ] || continue
            run_section "$ex" "${RUN_NAME[$j]}" "$runs" "${RUN_ARGS[$j]}"
        done
    done
}

# True when run $2 of exercise $1 failed in this invocation.
run_failed() {
    local j
    for j in "${!RUN_EX[@]}"; do
        [ "${RUN_EX[$j]}" = "$1" ] && [ "${RUN_NAME[$j]}" = "$2" ] && [[ ${RUN_STATUS[$j]:-} == failed* ]] && return 0
    done
    return 1
}
# REPLY = the run of exercise $1 that makes the file $2 (relative to out/DIR): the run named by its
# first folder, else `main`, else the first run.
path_run() {
    local ex=$1 first=${2%%/*} j
    if [ "$first" != "$2" ] && has_run "$ex" "$first"; then REPLY=$first; return; fi
    if has_run "$ex" main; then REPLY=main; else REPLY=$(first_run "$ex"); fi
}
# The tables, included files and figures of run $2 of exercise $1 ($3 runs in all).
run_section() {
    local ex=$1 name=$2 runs=$3 run_args=$4 dir=${EX_DIR[$1]} k f png rel listed=" " level="###"
    if [ "$runs" -gt 1 ]; then
        printf "### %s\n\n" "$name${run_args:+ (\`$run_args\`)}"
        level='####'
    fi
    if run_failed "$ex" "$name"; then printf '*This run failed; see above.*\n\n'; return; fi
    for k in "${!INC_EX[@]}"; do
        [ "${INC_EX[$k]}" = "$ex" ] || continue
        path_run "$ex" "${INC_FILE[$k]}"; [ "$REPLY" = "$name" ] || continue
        f=$OUT/$dir/${INC_FILE[$k]}
        if [ -f "$f" ]; then
            sed "s/^#/$level/" "$f"
            printf '\n(from `%s`)\n\n' "$(short_path "$f")"
        else
            printf '*`%s` is missing: the program did not write it.*\n\n' "$(short_path "$f")"
        fi
    done
    for k in "${!TABLE_EX[@]}"; do
        [ "${TABLE_EX[$k]}" = "$ex" ] && [ "${TABLE_RUN[$k]}" = "$name" ] || continue
        write_table "$ex" "$name" "${TABLE_SPEC[$k]}"
    done
    for k in "${!FIG_EX[@]}"; do
        [ "${FIG_EX[$k]}" = "$ex" ] || continue
        path_run "$ex" "${FIG_FILE[$k]}"; [ "$REPLY" = "$name" ] || continue
        f=$OUT/$dir/${FIG_FILE[$k]}
        listed="$listed${FIG_FILE[$k]} "
        if [ -f "$f" ]; then
            printf '![%s](%s)\n\n*%s* (`%s`)\n\n' "${FIG_CAPTION[$k]}" "$(report_path "$f")" \
                "${FIG_CAPTION[$k]}" "$(short_path "$f")"
        elif [ ! -f "${f%.png}.dat" ]; then   # a part of the program that did not run (no data for it, say)
            printf '*%s*: not made by this run (no `%s`; the key numbers above say why).\n\n' \
                "${FIG_CAPTION[$k]}" "$(short_path "${f%.png}.dat")"
        else
            printf '*%s*: not rendered (%s); its data and gnuplot script are `%s` and `%s`.\n\n' \
                "${FIG_CAPTION[$k]}" "$([ $HAVE_GNUPLOT -eq 1 ] && echo 'the program did not make it' || echo 'gnuplot is not installed')" \
                "$(short_path "${f%.png}.dat")" "$(short_path "${f%.png}.gp")"
        fi
    done
    # every other PNG the run made, under its file name
    local others=0
    while IFS= read -r png; do
        [ -n "$png" ] || continue
        rel=${png#"$OUT/$dir/"}
        case $listed in *" $rel "*) continue ;; esac
        path_run "$ex" "$rel"; [ "$REPLY" = "$name" ] || continue
        [ $others -eq 1 ] || printf '%s Further figures of this run\n\n' "$level"
        others=1
        printf '![%s](%s)\n\n*`%s`*\n\n' "${rel##*/}" "$(report_path "$png")" "$(short_path "$png")"
    done < <(find "$OUT/$dir" -name '*.png' -not -name '.*' 2>/dev/null | sort)
}

write_report > "$REPORT.tmp" || die "cannot write $REPORT" 1
mv "$REPORT.tmp" "$REPORT"
HTML=$(dirname "$REPORT")/report.html
# cmark-gfm's HTML body in a page of its own, each heading with the anchor REPORT.md's links use
cmark_page() {
    printf '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    printf '<title>Autoencoders and VAEs: course report</title>\n<style>\n'
    printf 'body { max-width: 60em; margin: 2em auto; padding: 0 1em; font-family: sans-serif; line-height: 1.4; }\n'
    printf 'table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; }\n'
    printf 'img { max-width: 100%%; } pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; }\n'
    printf '</style>\n</head>\n<body>\n'
    local line text
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ $line =~ ^\<h([1-6])\>(.*)\</h[1-6]\>$ ]]; then
            text=$(sed 's/<[^>]*>//g; s/&amp;/\&/g; s/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g' <<< "${BASH_REMATCH[2]}")
            anchor "$text"
            printf '<h%s id="%s">%s</h%s>\n' "${BASH_REMATCH[1]}" "$REPLY" "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]}"
        else
            printf '%s\n' "$line"
        fi
    done
    printf '</body>\n</html>\n'
}
# Every image report.html shows is there (relative to the report's folder).
html_images_exist() {
    local src missing=0
    while IFS= read -r src; do
        [ -f "$(dirname "$REPORT")/$src" ] || { say "report.html shows $src, which does not exist"; missing=1; }
    done < <(grep -o '<img src="[^"]*"' "$1" | sed 's/^<img src="//; s/"$//')
    return $missing
}
rm -f "$HTML"
if command -v pandoc >/dev/null 2>&1; then
    (cd "$(dirname "$REPORT")" && pandoc -f gfm -t html5 -s --metadata pagetitle="Autoencoders and VAEs: course report" \
        -o "$HTML.tmp" "$(basename "$REPORT")") || { rm -f "$HTML.tmp"; say "pandoc could not convert the report"; }
elif command -v cmark-gfm >/dev/null 2>&1; then
    cmark-gfm -e table -e autolink --unsafe "$REPORT" | cmark_page > "$HTML.tmp" ||
        { rm -f "$HTML.tmp"; say "cmark-gfm could not convert the report"; }
else
    say "neither pandoc nor cmark-gfm is installed (make deps installs cmark-gfm): no report.html; REPORT.md is complete"
fi
if [ -f "$HTML.tmp" ]; then
    if html_images_exist "$HTML.tmp"; then mv "$HTML.tmp" "$HTML"
    else rm -f "$HTML.tmp"; FAILED=1; fi
fi

# The time table, printed ---------------------------------------------------------------
printf '\n%-24s %9s %12s  %s\n' exercise "time (s)" "results (s)" status
for ex in "${!EX_DIR[@]}"; do
    selected "${EX_DIR[$ex]}" || continue
    ex_status "$ex"
    printf '%-24s %9s %12s  %s\n' "${EX_DIR[$ex]}" "${EX_SECONDS[${EX_DIR[$ex]}]}" "${EX_RESULT_SECONDS[${EX_DIR[$ex]}]}" "$REPLY"
done
printf '%-24s %9s\n' total "$TOTAL"
say "wrote $(short_path "$REPORT")$([ -f "$HTML" ] && printf ' and %s' "$(short_path "$HTML")")"
[ -z "$SAMPLE_WARNING" ] || [ $NEEDS_DATA -eq 0 ] || say "WARNING: the numbers on images come from the SAMPLE, not the full data (see the top of the report)"
[ $FAILED -eq 0 ] && [ $PARTIAL -eq 1 ] && exit 3
exit $FAILED
