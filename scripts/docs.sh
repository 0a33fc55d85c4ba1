#!/usr/bin/env bash
# docs.sh: rewrites each exercise README's results block from its results.tsv (`make docs`).
#
#   scripts/docs.sh [--check] [--only "DIR ..."] [--out DIR] [--root DIR] [--conf FILE]
#
# In a README the block is everything between the lines
#     <!-- results:begin -->
#     <!-- results:end -->
# and becomes a ```text fence holding the results.tsv lines that the exercise's `docs` lines in
# scripts/exercises.conf ask for (`all`, or a list of keys, in that order), copied verbatim: full
# precision, exactly what the program computed. Nothing else in the README changes, a README
# whose text would not change is not written, so running it twice changes nothing.
# A README is left alone, with a message, when its results.tsv does not exist (run `make figures`
# first), when it has no block, or when a key it asks for is missing from results.tsv.
#
# A README may also hold any number of blocks that copy an output file whole:
#     <!-- file:begin PATH -->          the file, in a ```text fence
#     <!-- file:begin PATH table -->    only its Markdown tables (the lines that start with '|')
#     <!-- file:end -->
# PATH is relative to the exercise's output folder (out/<dir>/), e.g. denoising/comparison.md.
# When a file is missing, the README's file blocks are all left alone, with a message.
#
# Any README.md of the repository (common/'s, say) may hold blocks that count lines of code:
#     <!-- lines:begin DIR -->          a table of DIR's .h and .c files (not its sub-folders),
#     <!-- lines:end -->                one row per module with the lines of each, and the total
# DIR is relative to the repository. The numbers are `wc -l`'s, so a README says the truth.
#
#   --check     write nothing; exit 1 when some README's block differs from its results.tsv or file
#   --only      just these exercise folders
#   --out DIR   where the results are (default: out/ of the repository)
#   --root DIR  where the exercise folders and their READMEs are (default: the repository)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/exercises-lib.sh"

CONF=$ROOT/scripts/exercises.conf
OUT=$ROOT/out
README_ROOT=$ROOT
ONLY=""
CHECK=0
usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
        --check) CHECK=1 ;;
        --only) [ $# -ge 2 ] || { echo "docs: --only needs a list of folders" >&2; exit 2; }; ONLY=$2; shift ;;
        --out) [ $# -ge 2 ] || { echo "docs: --out needs a folder" >&2; exit 2; }; OUT=$2; shift ;;
        --root) [ $# -ge 2 ] || { echo "docs: --root needs a folder" >&2; exit 2; }; README_ROOT=$2; shift ;;
        --conf) [ $# -ge 2 ] || { echo "docs: --conf needs a file" >&2; exit 2; }; CONF=$2; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "docs: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
conf_load "$CONF" || exit 2

say() { printf 'docs: %s\n' "$*"; }
short_path() { case $1 in "$ROOT"/*) printf '%s' "${1#"$ROOT"/}" ;; *) printf '%s' "$1" ;; esac; }
selected() { [ -z "$ONLY" ] && return 0; case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

# put_in_place TMP README SAME DIFFERS REWRITTEN: the README's new text TMP replaces it when it
# differs (or, with --check, only says so and sets the status); each case says its message, the
# first none when empty.
put_in_place() {
    local tmp=$1 readme=$2 name
    name=${readme#"$README_ROOT"/}
    if cmp -s "$tmp" "$readme"; then
        rm -f "$tmp"
        [ -z "$3" ] || say "$name: $3"
    elif [ $CHECK -eq 1 ]; then
        rm -f "$tmp"
        say "$name: $4"
        status=1
    else
        chmod --reference="$readme" "$tmp" 2>/dev/null
        mv "$tmp" "$readme"
        changed=$((changed + 1))
        say "$name: $5"
    fi
}

# The block's new text for docs entry $1 from results file $2, on stdout; exit 1 (message on
# stderr) when a key is missing.
block_text() {
    local d=$1 results=$2
    printf '%s\n' '```text'
    if [ "${DOCS_KEYS[$d]}" = all ]; then
        cat "$results"
    else
        # shellcheck disable=SC2086
        awk -F '\t' -v keys="${DOCS_KEYS[$d]}" '
            { if (!($1 in value)) value[$1] = $0 }
            END {
                n = split(keys, want, /[ \t]+/)
                for (i = 1; i <= n; i++) {
                    if (want[i] == "") continue
                    if (!(want[i] in value)) { missing = missing " " want[i]; continue }
                    print value[want[i]]
                }
                if (missing != "") { print "missing from results.tsv:" missing > "/dev/stderr"; exit 1 }
            }' "$results" || return 1
    fi
    printf '%s\n' '```'
}

status=0
changed=0
for d in "${!DOCS_EX[@]}"; do
    ex=${DOCS_EX[$d]}
    dir=${EX_DIR[$ex]}
    selected "$dir" || continue
    readme=$README_ROOT/$dir/README.md
    results=$(named_run_outdir "$OUT" "$ex" "${DOCS_RUN[$d]}")/results.tsv
    if [ ! -f "$readme" ]; then say "$dir: no README.md; skipped"; continue; fi
    if [ ! -f "$results" ]; then
        say "$dir/README.md not touched: $results does not exist (run \`make figures\` first)"
        continue
    fi
    begins=$(grep -c -x '<!-- results:begin -->' "$readme")
    ends=$(grep -c -x '<!-- results:end -->' "$readme")
    if [ "$begins" -ne 1 ] || [ "$ends" -ne 1 ]; then
        say "$dir/README.md not touched: it needs exactly one '<!-- results:begin -->' and one '<!-- results:end -->' line (has $begins and $ends)"
        status=1; continue
    fi
    if ! block=$(block_text "$d" "$results" 2>&1 >/dev/null); then
        say "$dir/README.md not touched: $block"
        status=1; continue
    fi
    tmp=$(mktemp --suffix=.tmp "$readme.XXXXXX") || { say "cannot write beside $readme"; status=1; continue; }
    block_text "$d" "$results" > "$tmp.block"
    awk -v blockfile="$tmp.block" '
        $0 == "<!-- results:begin -->" { print; while ((getline l < blockfile) > 0) print l; skipping = 1; next }
        $0 == "<!-- results:end -->" { skipping = 0 }
        !skipping { print }' "$readme" > "$tmp"
    rm -f "$tmp.block"
    put_in_place "$tmp" "$readme" "results block already matches $(short_path "$results")" \
        "results block differs from $(short_path "$results")" "results block rewritten from $(short_path "$results")"
done
# The file blocks: every README of a selected exercise that has some.
file_blocks() {    # file_blocks README: the PATH and the mode of each block, one "PATH MODE" a line
    sed -n 's/^<!-- file:begin \([^ ]*\)\( table\)\{0,1\} -->$/\1\2/p' "$1"
}
for ex in "${!EX_DIR[@]}"; do
    dir=${EX_DIR[$ex]}
    selected "$dir" || continue
    readme=$README_ROOT/$dir/README.md
    [ -f "$readme" ] || continue
    begins=$(grep -c '^<!-- file:begin ' "$readme")
    [ "$begins" -gt 0 ] || continue
    ends=$(grep -c -x '<!-- file:end -->' "$readme")
    wellformed=$(file_blocks "$readme" | wc -l)
    if [ "$begins" -ne "$ends" ] || [ "$wellformed" -ne "$begins" ]; then
        say "$dir/README.md: file blocks not touched: each '<!-- file:begin PATH [table] -->' needs its '<!-- file:end -->' ($begins begin lines, $wellformed of them well-formed, $ends end lines)"
        status=1; continue
    fi
    missing=""
    while read -r path _; do
        [ -f "$OUT/$dir/$path" ] || missing="$missing $(short_path "$OUT/$dir/$path")"
    done < <(file_blocks "$readme")
    if [ -n "$missing" ]; then
        say "$dir/README.md: file blocks not touched: missing$missing (run \`make figures\` first)"
        continue
    fi
    tmp=$(mktemp --suffix=.tmp "$readme.XXXXXX") || { say "cannot write beside $readme"; status=1; continue; }
    awk -v base="$OUT/$dir" '
        /^<!-- file:begin [^ ]+( table)? -->$/ {
            print
            path = $3; table = ($4 == "table")
            file = base "/" path
            if (!table) print "```text"
            printed = 0; gap = 0
            while ((getline l < file) > 0) {
                if (!table) { print l; continue }
                if (l !~ /^\|/) { gap = 1; continue }
                if (printed && gap) print ""         # two tables stay two tables
                print l; printed = 1; gap = 0
            }
            close(file)
            if (!table) print "```"
            skipping = 1; next
        }
        $0 == "<!-- file:end -->" { skipping = 0 }
        !skipping { print }' "$readme" > "$tmp"
    put_in_place "$tmp" "$readme" "$begins file block(s) already match their files" \
        "file blocks differ from their files" "$begins file block(s) rewritten"
done

# The lines blocks: every README.md of the repository with one (not under out/, build/ or .git).
lines_table() {    # lines_table DIR: the Markdown table of DIR's modules and their lines
    local dir=$README_ROOT/$1
    printf '| module | .h | .c | lines |\n| --- | ---: | ---: | ---: |\n'
    local total=0 base h c
    for base in $(find "$dir" -maxdepth 1 \( -name '*.c' -o -name '*.h' \) -printf '%f\n' | sed 's/\.[ch]$//' | sort -u); do
        h=0; c=0
        [ -f "$dir/$base.h" ] && h=$(wc -l < "$dir/$base.h")
        [ -f "$dir/$base.c" ] && c=$(wc -l < "$dir/$base.c")
        printf '| `%s` | %s | %s | %s |\n' "$base" "$([ -f "$dir/$base.h" ] && echo "$h" || echo –)" \
            "$([ -f "$dir/$base.c" ] && echo "$c" || echo –)" $((h + c))
        total=$((total + h + c))
    done
    printf '| **%s** | | | **%s** |\n' "$1/" "$total"
}
while IFS= read -r readme; do
    case $readme in "$README_ROOT"/out/*|"$README_ROOT"/build/*|"$README_ROOT"/.git/*) continue ;; esac
    grep -q '^<!-- lines:begin [^ ]* -->$' "$readme" || continue
    bad=""
    for d in $(sed -n 's/^<!-- lines:begin \([^ ]*\) -->$/\1/p' "$readme"); do
        [ -d "$README_ROOT/$d" ] || bad="$bad $d"
    done
    if [ -n "$bad" ] || [ "$(grep -c '^<!-- lines:begin ' "$readme")" -ne "$(grep -c -x '<!-- lines:end -->' "$readme")" ]; then
        say "$(short_path "$readme"): lines blocks not touched: each '<!-- lines:begin DIR -->' needs an existing DIR and its '<!-- lines:end -->'${bad:+ (no folder:$bad)}"
        status=1; continue
    fi
    tmp=$(mktemp --suffix=.tmp "$readme.XXXXXX") || { say "cannot write beside $readme"; status=1; continue; }
    : > "$tmp"
    skipping=0
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ $line =~ ^'<!-- lines:begin '([^ ]+)' -->'$ ]]; then
            printf '%s\n' "$line" >> "$tmp"
            lines_table "${BASH_REMATCH[1]}" >> "$tmp"
            skipping=1; continue
        fi
        [ "$line" = '<!-- lines:end -->' ] && skipping=0
        [ $skipping -eq 1 ] || printf '%s\n' "$line" >> "$tmp"
    done < "$readme"
    put_in_place "$tmp" "$readme" "" "lines blocks differ from the code" "lines blocks rewritten"
done < <(find "$README_ROOT" -name README.md -not -path '*/.git/*' | sort)

for ex in "${!EX_DIR[@]}"; do
    selected "${EX_DIR[$ex]}" || continue
    has=0
    for d in "${!DOCS_EX[@]}"; do [ "${DOCS_EX[$d]}" = "$ex" ] && has=1; done
    [ $has -eq 1 ] || say "${EX_DIR[$ex]}: no results block configured (no 'docs' line in scripts/exercises.conf)"
done
[ $CHECK -eq 1 ] || [ $changed -eq 0 ] || say "$changed README(s) rewritten"
exit $status
