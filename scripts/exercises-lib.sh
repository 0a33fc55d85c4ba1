# exercises-lib.sh: reads scripts/exercises.conf for figures.sh and docs.sh (sourced, bash).
# shellcheck shell=bash disable=SC2034  # the arrays are read by the scripts that source this file
#
# conf_load FILE fills these arrays (one entry per line of that kind, in file order):
#   EX_DIR[i] EX_TITLE[i] EX_DATA[i] EX_RESUME[i]         one per exercise
#   RUN_EX[j] RUN_NAME[j] RUN_ARGS[j]                      RUN_EX is the exercise's index i
#   SHOW_EX[k] SHOW_RUN[k] SHOW_KEY[k] SHOW_LABEL[k]
#   TABLE_EX[k] TABLE_RUN[k] TABLE_SPEC[k]                 SPEC: "TITLE | ROW HEADING | ROWS | COLS | PATTERN"
#   FIG_EX[k] FIG_FILE[k] FIG_CAPTION[k]
#   INC_EX[k] INC_FILE[k]
#   DOCS_EX[k] DOCS_RUN[k] DOCS_KEYS[k]                    one per exercise that has docs lines
# and returns non-zero (after a message naming the line) on a line it does not understand.

# trim VAR TEXT: VAR = TEXT without leading and trailing white space (no subshell).
trim() { local s=$2; s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}; printf -v "$1" "%s" "$s"; }

# "RUN:REST" → CONF_RUN=RUN CONF_REST=REST when RUN names a run of exercise $1; else the first run.
conf_split_run() {
    local ex=$1 text=$2 j first=""
    CONF_RUN="" CONF_REST=$text
    for j in "${!RUN_EX[@]}"; do
        [ "${RUN_EX[$j]}" = "$ex" ] || continue
        [ -n "$first" ] || first=${RUN_NAME[$j]}
        case $text in
            "${RUN_NAME[$j]}:"*) CONF_RUN=${RUN_NAME[$j]}; CONF_REST=${text#"${RUN_NAME[$j]}:"} ;;
        esac
    done
    [ -n "$CONF_RUN" ] || CONF_RUN=${first:-main}
}

conf_load() {
    local file=$1 line kw rest n=0 ex=-1 d
    EX_DIR=() EX_TITLE=() EX_DATA=() EX_RESUME=()
    RUN_EX=() RUN_NAME=() RUN_ARGS=()
    SHOW_EX=() SHOW_RUN=() SHOW_KEY=() SHOW_LABEL=()
    TABLE_EX=() TABLE_RUN=() TABLE_SPEC=()
    FIG_EX=() FIG_FILE=() FIG_CAPTION=()
    INC_EX=() INC_FILE=()
    DOCS_EX=() DOCS_RUN=() DOCS_KEYS=()
    [ -r "$file" ] || { echo "cannot read $file" >&2; return 1; }
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        trim line "$line"
        case $line in ''|'#'*) continue ;; esac
        kw=${line%%[[:space:]]*}
        trim rest "${line#"$kw"}"
        if [ "$kw" != exercise ] && [ $ex -lt 0 ]; then
            echo "$file:$n: '$kw' before the first 'exercise' line" >&2; return 1
        fi
        case $kw in
            exercise)
                [ -n "$rest" ] && [ "${rest#* }" = "$rest" ] || { echo "$file:$n: 'exercise' takes one folder name" >&2; return 1; }
                ex=${#EX_DIR[@]}
                EX_DIR[$ex]=$rest EX_TITLE[$ex]=$rest EX_DATA[$ex]="" EX_RESUME[$ex]="" ;;
            title)  EX_TITLE[$ex]=$rest ;;
            data)
                [ "$rest" = fashion-mnist ] || { echo "$file:$n: 'data' knows only fashion-mnist" >&2; return 1; }
                EX_DATA[$ex]=$rest ;;
            resume) EX_RESUME[$ex]=$rest ;;
            run)
                local name=${rest%%[[:space:]]*}
                [ -n "$name" ] || { echo "$file:$n: 'run' needs a name" >&2; return 1; }
                case $name in *[!A-Za-z0-9_.-]*) echo "$file:$n: run name '$name': use letters, digits, _ . -" >&2; return 1 ;; esac
                for d in "${!RUN_EX[@]}"; do
                    if [ "${RUN_EX[$d]}" = "$ex" ] && [ "${RUN_NAME[$d]}" = "$name" ]; then
                        echo "$file:$n: a second run named '$name'" >&2; return 1
                    fi
                done
                d=${#RUN_EX[@]}
                RUN_EX[$d]=$ex RUN_NAME[$d]=$name; trim "RUN_ARGS[$d]" "${rest#"$name"}" ;;
            show)
                local key=${rest%%[[:space:]]*}
                conf_split_run "$ex" "$key"
                d=${#SHOW_EX[@]}
                SHOW_EX[$d]=$ex SHOW_RUN[$d]=$CONF_RUN SHOW_KEY[$d]=$CONF_REST
                trim "SHOW_LABEL[$d]" "${rest#"$key"}"
                [ -n "${SHOW_LABEL[$d]}" ] || SHOW_LABEL[$d]=$CONF_REST ;;
            table)
                conf_split_run "$ex" "$rest"
                local bars=${CONF_REST//[!|]/}
                [ ${#bars} -eq 4 ] || { echo "$file:$n: 'table' needs TITLE | ROW HEADING | ROWS | COLUMNS | PATTERN" >&2; return 1; }
                d=${#TABLE_EX[@]}
                TABLE_EX[$d]=$ex TABLE_RUN[$d]=$CONF_RUN TABLE_SPEC[$d]=$CONF_REST ;;
            include)
                [ -n "$rest" ] || { echo "$file:$n: 'include' needs a file name" >&2; return 1; }
                d=${#INC_EX[@]}
                INC_EX[$d]=$ex INC_FILE[$d]=$rest ;;
            figure)
                local fig=${rest%%[[:space:]]*}
                d=${#FIG_EX[@]}
                FIG_EX[$d]=$ex FIG_FILE[$d]=$fig; trim "FIG_CAPTION[$d]" "${rest#"$fig"}"
                [ -n "${FIG_CAPTION[$d]}" ] || FIG_CAPTION[$d]=$fig ;;
            docs)
                local first=${rest%%[[:space:]]*} tail="" keys
                [ "$first" = "$rest" ] || trim tail "${rest#"$first"}"
                conf_split_run "$ex" "$first"
                trim keys "$CONF_REST $tail"
                [ -n "$keys" ] || { echo "$file:$n: 'docs' needs 'all' or keys" >&2; return 1; }
                for d in "${!DOCS_EX[@]}"; do
                    if [ "${DOCS_EX[$d]}" = "$ex" ]; then
                        DOCS_KEYS[$d]="${DOCS_KEYS[$d]} $keys"; keys=""; break
                    fi
                done
                if [ -n "$keys" ]; then
                    d=${#DOCS_EX[@]}
                    DOCS_EX[$d]=$ex DOCS_RUN[$d]=$CONF_RUN DOCS_KEYS[$d]=$keys
                fi ;;
            *) echo "$file:$n: unknown keyword '$kw'" >&2; return 1 ;;
        esac
    done < "$file"
    return 0
}

# The output folder of run j under the output root $1.
run_outdir() {
    local root=$1 j=$2
    if [ "${RUN_NAME[$j]}" = main ]; then printf '%s/%s' "$root" "${EX_DIR[${RUN_EX[$j]}]}"
    else printf '%s/%s/%s' "$root" "${EX_DIR[${RUN_EX[$j]}]}" "${RUN_NAME[$j]}"; fi
}

# The output folder of the run named $3 of exercise $2.
named_run_outdir() {
    local root=$1 ex=$2 name=$3
    if [ "$name" = main ]; then printf '%s/%s' "$root" "${EX_DIR[$ex]}"
    else printf '%s/%s/%s' "$root" "${EX_DIR[$ex]}" "$name"; fi
}

# Value of key $2 in results.tsv $1 (exit 1 when absent).
results_value() {
    awk -F '\t' -v key="$2" '$1 == key { sub(/^[^\t]*\t/, ""); print; found = 1; exit } END { exit !found }' "$1"
}
