#!/bin/sh
# bench/run.sh: what `make bench` runs (bench/README.md explains the figures).
#
# Each case trains one model with PyTorch, once per thread count in BENCH_TORCH_THREADS, and
# with this repository's code, once per count in BENCH_THREADS, in rounds (BENCH_REPEATS), then
# prints a table: time per epoch and in total, the final validation loss, the peak resident
# memory, and the time ratio of our best run to PyTorch's best (with its target in seconds against
# the arithmetic bound: PyTorch's speed depends on the kernels its OpenBLAS picks for the processor).
#
# Settings (environment):
#   FASHION_MNIST_DIR     the full Fashion-MNIST (default: data/fashion-mnist in the repository, else
#                         /usr/share/datasets/fashion-mnist from Debian's dataset-fashion-mnist)
#   BENCH_TRAIN           the bench program (bench/Makefile sets it)
#   AE_PROGRAM            bin/week05-task4-ae; when it is built, its runs are rows of the table too
#   VAE_ELBO              bin/vae-elbo, the VAE cases' program (bench/case-vae.sh runs it)
#   BIN_DIR               the programs' folder, for the FIGURES case (default: the folder of VAE_ELBO)
#   BENCH_EPOCHS_A        epochs of model A (default 10, the task's)
#   BENCH_EPOCHS_B        epochs of model B (default 5; its epochs are long in PyTorch)
#   BENCH_EPOCHS_VAE      epochs of the dense VAE (default 2)
#   BENCH_EPOCHS_CONV     epochs of the conv VAE (default 1)
#   BENCH_THREADS         thread counts for our runs (default "1 2")
#   BENCH_TORCH_THREADS   thread counts for PyTorch (default "1 2")
#   BENCH_MODELS          which cases to run (default "A B VAE CONV PORTABLE FIGURES"; PORTABLE is model A
#                         on the portable path, without AVX-512, as on a processor that lacks it; FIGURES
#                         times the whole `make figures FORCE=1` into BENCH_OUT/figures, leaving out/ and
#                         REPORT.md alone)
#   BENCH_REPEATS         runs of each timing, the fastest kept (default 2: the machine is shared),
#                         made in rounds: each round runs every command of a case once
#   BENCH_NEIGHBOUR       1 (default): our runs again, 1 and 2 threads, beside one CPU-bound process
#                         that the bench starts and stops itself (`yes > /dev/null`); 0: not
#   PYTHON                the Python to run PyTorch with (default: the first of python3, /usr/bin/python3
#                         that has torch)
#   BENCH_OUT             where the runs' outputs and logs go (default out/bench)
#
# A case's commands print "key<TAB>value" lines on stdout: implementation, threads, epochs,
# seconds_per_epoch, seconds_total, peak_rss_mib and the loss the case names (val_loss here).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_TRAIN=${BENCH_TRAIN:-}
AE_PROGRAM=${AE_PROGRAM:-}
# the data where the programs look for it: the variable, data/fashion-mnist, Debian's package
DATA=${FASHION_MNIST_DIR:-}
if [ -z "$DATA" ]; then
    DATA=$ROOT/data/fashion-mnist
    [ -d "$DATA" ] || [ ! -d /usr/share/datasets/fashion-mnist ] || DATA=/usr/share/datasets/fashion-mnist
fi
OUT=${BENCH_OUT:-$ROOT/out/bench}
EPOCHS_A=${BENCH_EPOCHS_A:-10}
EPOCHS_B=${BENCH_EPOCHS_B:-5}
EPOCHS_VAE=${BENCH_EPOCHS_VAE:-2}
EPOCHS_CONV=${BENCH_EPOCHS_CONV:-1}
OUR_THREADS=${BENCH_THREADS:-1 2}
TORCH_THREADS=${BENCH_TORCH_THREADS:-1 2}
MODELS=${BENCH_MODELS:-A B VAE CONV PORTABLE FIGURES}
for m in $MODELS; do
    case $m in A|B|VAE|CONV|PORTABLE|FIGURES) ;; *) echo "bench: BENCH_MODELS: unknown case '$m' (the cases are A, B, VAE, CONV, PORTABLE and FIGURES)" >&2; exit 1 ;; esac
done
NEIGHBOUR=${BENCH_NEIGHBOUR:-1}
REPEATS=${BENCH_REPEATS:-2}
case $REPEATS in ''|*[!0-9]*|0) echo "bench: BENCH_REPEATS must be a whole number of runs, at least 1, not '$REPEATS'" >&2; exit 1 ;; esac
case $NEIGHBOUR in 0|1) ;; *) echo "bench: BENCH_NEIGHBOUR must be 0 or 1, not '$NEIGHBOUR'" >&2; exit 1 ;; esac

fail() {
    echo "bench: $*" >&2
    exit 1
}

[ -n "$BENCH_TRAIN" ] && [ -x "$BENCH_TRAIN" ] ||
    fail "the bench program is missing; run 'make bench' from the repository's top folder"

# ------------------------------------------------------------------ data
# The four files, gzip-compressed or raw, and all 60,000 + 10,000 images: a time measured on
# the 1,000-image sample would say nothing about the real task.
idx_count() {    # the first dimension of an IDX file: bytes 4..7 of its header, big-endian
    if [ -f "$1.gz" ]; then gzip -dc "$1.gz" 2>/dev/null | head -c 8; else head -c 8 "$1"; fi |
        od -An -tu1 | awk '{ print (($5 * 256 + $6) * 256 + $7) * 256 + $8 }'
}
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -f "$DATA/$name.gz" ] || [ -f "$DATA/$name" ] ||
        fail "$DATA has no $name(.gz): run 'make data', or set FASHION_MNIST_DIR to the folder that holds Fashion-MNIST"
done
TRAIN_COUNT=$(idx_count "$DATA/train-images-idx3-ubyte")
TEST_COUNT=$(idx_count "$DATA/t10k-images-idx3-ubyte")
if [ "${TRAIN_COUNT:-0}" -lt 60000 ] || [ "${TEST_COUNT:-0}" -lt 10000 ]; then
    fail "$DATA holds ${TRAIN_COUNT:-?} training and ${TEST_COUNT:-?} test images, not the full Fashion-MNIST (60,000 and 10,000): the bench refuses to time the sample; run 'make data' or set FASHION_MNIST_DIR"
fi

# --------------------------------------------------------------- PyTorch
PY=""
TORCH_WHY=""
for candidate in ${PYTHON:-python3 /usr/bin/python3}; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c "import torch" >/dev/null 2>&1; then
        PY=$candidate
        break
    fi
    TORCH_WHY="$TORCH_WHY $candidate"
done
if [ -z "$PY" ]; then
    TORCH_WHY=${TORCH_WHY:+"no 'import torch' in:$TORCH_WHY"}
    echo "bench: PyTorch is not installed (${TORCH_WHY:-no python3 found}); only this repository's figures follow." >&2
    echo "bench: install Debian's python3-torch, or set PYTHON to a Python that has torch, for the comparison." >&2
fi

mkdir -p "$OUT" || fail "cannot create $OUT"

# ----------------------------------------------------------------- machine
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
# family and model tell apart processors one model name covers ("AMD EPYC": Zen 4 is family 25, Zen 5 26)
cpu_family=$(awk -F': ' '/^cpu family/ { f = $2 } /^model[ \t]*:/ { m = $2 } END { if (f != "") print "family " f ", model " m }' /proc/cpuinfo 2>/dev/null)
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")
load_now() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }
START_LOAD=$(load_now)
echo "machine: ${cpu_model:-unknown CPU}${cpu_family:+ ($cpu_family)}, $cores cores; load average $START_LOAD"
echo "data: $DATA"
# the core's FMA peak, for the bound of the cases whose runs do not measure it themselves
PEAK_INFO=$("$BENCH_TRAIN" --peak-only 2>/dev/null)
PEAK=$(printf '%s\n' "$PEAK_INFO" | awk -F'\t' '$1 == "core_peak_gflops" { print $2; exit }')
echo "core FMA peak: ${PEAK:-?} GFLOP/s (measured now)"
echo "BLAS: $(printf '%s\n' "$PEAK_INFO" | awk -F'\t' '$1 == "blas" { print $2; exit }')"
echo

value() {    # value FILE KEY: the value of KEY in a key<TAB>value file
    awk -F'\t' -v key="$2" '$1 == key { print $2; exit }' "$1" 2>/dev/null
}

# A case's timings are made in rounds (BENCH_REPEATS of them): each round runs every command of
# the case once, in the same order, so that a slow spell of the shared machine falls on all of
# them alike rather than on one thread count or one implementation; each keeps its fastest run.
ROUND=1
# rounds FUNCTION ARGS...: FUNCTION ARGS... once per round, with ROUND set to 1, 2, ...
rounds() {
    ROUND=1
    while [ "$ROUND" -le "$REPEATS" ]; do
        "$@"
        ROUND=$((ROUND + 1))
    done
}

# run_one FILE COMMAND...: this round's run of a command; the results of its fastest run so far (the
# least seconds_per_epoch) into FILE, with runs = how many were made after the last round; its
# progress into FILE.log. A run that fails ends the command's timings (FILE removed, FILE.failed).
run_one() {
    file=$1
    shift
    [ "$ROUND" -gt 1 ] || rm -f "$file" "$file.failed"
    [ ! -f "$file.failed" ] || return 0
    printf '  %s (run %s of %s) ... ' "$(basename "$file" .tsv)" "$ROUND" "$REPEATS"
    if "$@" >"$file.try" 2>"$file.log" && [ -n "$(value "$file.try" seconds_total)" ]; then
        printf '%s' "$(awk -v s="$(value "$file.try" seconds_total)" 'BEGIN { printf "%.2f s", s }')"
        if [ ! -f "$file" ] || awk -v a="$(value "$file.try" seconds_per_epoch)" -v b="$(value "$file" seconds_per_epoch)" \
                'BEGIN { exit !(a < b) }'; then
            mv "$file.try" "$file"
            [ "$ROUND" -eq 1 ] && echo || echo " (the fastest so far)"
        else
            echo
        fi
    else
        echo "failed (see $file.log)"
        rm -f "$file"
        : >"$file.failed"
    fi
    rm -f "$file.try"
    [ "$ROUND" -lt "$REPEATS" ] || [ ! -f "$file" ] || printf 'runs\t%s\n' "$REPEATS" >>"$file"
}

# torch_runs CASE COMMAND...: the command with --threads T for every T of BENCH_TORCH_THREADS
torch_runs() {
    case_id=$1
    shift
    [ -n "$PY" ] || return 0
    for t in $TORCH_THREADS; do run_one "$OUT/$case_id-pytorch-t$t.tsv" "$PY" "$@" --threads "$t"; done
}

# ours_runs CASE COMMAND...: the command with --threads T for every T of BENCH_THREADS
ours_runs() {
    case_id=$1
    shift
    for t in $OUR_THREADS; do run_one "$OUT/$case_id-ours-t$t.tsv" "$@" --threads "$t"; done
}

# neighbour_runs CASE COMMAND...: ours_runs again, each run beside one CPU-bound process (another
# program on the machine) that is started just before and stopped just after it
NEIGHBOUR_PID=""
stop_neighbour() {
    [ -z "$NEIGHBOUR_PID" ] || { kill "$NEIGHBOUR_PID" 2>/dev/null; wait "$NEIGHBOUR_PID" 2>/dev/null; }
    NEIGHBOUR_PID=""
}
trap 'stop_neighbour' EXIT
trap 'stop_neighbour; exit 130' INT TERM
neighbour_runs() {
    case_id=$1
    shift
    [ "$NEIGHBOUR" = 1 ] || return 0
    for t in $OUR_THREADS; do
        yes >/dev/null &
        NEIGHBOUR_PID=$!
        run_one "$OUT/$case_id-neighbour-t$t.tsv" "$@" --threads "$t"
        stop_neighbour
    done
}

# program_tsv MODEL EPOCHS THREADS DIR: Task 4's program itself trains MODEL into DIR; its
# results.tsv turned into the keys the table reads (peak memory from GNU time, when installed), on
# stdout, for run_one
program_tsv() {
    model=$1 epochs=$2 t=$3 dir=$4
    set -- "$AE_PROGRAM" --model "$model" --epochs "$epochs" --threads "$t" --data "$DATA" --out "$dir" --no-plot --quiet
    if [ -x /usr/bin/time ]; then set -- /usr/bin/time -f '%M' -o "$dir.rss" "$@"; fi
    "$@" >&2 && [ -f "$dir/results.tsv" ] || return 1
    per_epoch=$(value "$dir/results.tsv" "model_${model}_seconds_per_epoch")
    [ -n "$per_epoch" ] || return 1
    rss_kib=$(tail -n 1 "$dir.rss" 2>/dev/null)
    printf 'implementation\tweek05-task4-ae\n'
    printf 'threads\t%s\n' "$t"
    printf 'epochs\t%s\n' "$epochs"
    awk -v s="$per_epoch" -v e="$epochs" -v l="$(value "$dir/results.tsv" "model_${model}_val_loss")" \
        'BEGIN { printf "seconds_per_epoch\t%.4f\nseconds_total\t%.4f\nval_loss\t%.6f\n", s, s * e, l }'
    [ -z "$rss_kib" ] || awk -v k="$rss_kib" 'BEGIN { printf "peak_rss_mib\t%.1f\n", k / 1024 }'
}

# program_runs CASE MODEL EPOCHS: this round's runs of Task 4's program, when it is built, once per
# BENCH_THREADS, kept like the others (run_one: the fastest of the rounds)
program_runs() {
    case_id=$1 model=$2 epochs=$3
    [ -n "$AE_PROGRAM" ] && [ -x "$AE_PROGRAM" ] || return 0
    for t in $OUR_THREADS; do
        run_one "$OUT/$case_id-program-t$t.tsv" program_tsv "$model" "$epochs" "$t" "$OUT/$case_id-program-t$t"
    done
}

# fastest FILES...: the file with the smallest seconds_per_epoch
fastest() {
    best=""
    best_time=""
    for f in "$@"; do
        [ -f "$f" ] || continue
        s=$(value "$f" seconds_per_epoch)
        if [ -z "$best" ] || awk -v a="$s" -v b="$best_time" 'BEGIN { exit !(a < b) }'; then
            best=$f
            best_time=$s
        fi
    done
    echo "$best"
}

SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"

# report CASE LABEL LOSS_KEY TARGET [BOUND_TARGET]: the case's table rows, then the ratio against the
# target, and against the arithmetic bound when the runs print their work (flops_per_epoch) and the
# case has a BOUND_TARGET
report() {
    case_id=$1 label=$2 loss_key=$3 target=$4 target_bound=${5:-}
    for f in "$OUT/$case_id"-pytorch-t*.tsv "$OUT/$case_id"-ours-t*.tsv "$OUT/$case_id"-neighbour-t*.tsv \
             "$OUT/$case_id"-program-t*.tsv; do
        [ -f "$f" ] || continue
        impl=$(value "$f" implementation)
        case $f in *-neighbour-t*) impl="$impl + neighbour" ;; esac
        awk -v label="$label" -v impl="$impl" -v threads="$(value "$f" threads)" \
            -v epochs="$(value "$f" epochs)" -v per="$(value "$f" seconds_per_epoch)" \
            -v total="$(value "$f" seconds_total)" -v loss="$(value "$f" "$loss_key")" \
            -v rss="$(value "$f" peak_rss_mib)" 'BEGIN {
                printf "%-8s %-32s %7s %6s %10.4f %9.3f %10.6g %9s\n", label, impl, threads, epochs, per, total, loss,
                       rss == "" ? "-" : sprintf("%.1f", rss)
            }' >>"$SUMMARY"
    done
    ours=$(fastest "$OUT/$case_id"-ours-t*.tsv)
    torch=""
    [ -n "$PY" ] && torch=$(fastest "$OUT/$case_id"-pytorch-t*.tsv)
    peak=""
    [ -n "$ours" ] && peak=$(value "$ours" core_peak_gflops)
    peak=${peak:-$PEAK}
    if [ -n "$ours" ] && [ -n "$torch" ]; then
        # the target in seconds, and against the bound on all the machine's cores: PyTorch's time depends
        # on which kernels its OpenBLAS runs on this processor, and a target below that bound cannot be met
        awk -v label="$label" -v o="$(value "$ours" seconds_per_epoch)" -v t="$(value "$torch" seconds_per_epoch)" \
            -v ot="$(value "$ours" threads)" -v tt="$(value "$torch" threads)" -v target="$target" \
            -v ol="$(value "$ours" "$loss_key")" -v tl="$(value "$torch" "$loss_key")" \
            -v blas="$(value "$torch" blas)" -v f="$(value "$ours" flops_per_epoch)" -v p="$peak" -v cores="$cores" 'BEGIN {
                ratio = o / t
                printf "model %s: ours (%s thread%s) takes %.3f of the time per epoch of PyTorch (%s thread%s, its best); " \
                       "target <= %s: %s; final loss %s (ours) vs %s (PyTorch)\n",
                       label, ot, ot == 1 ? "" : "s", ratio, tt, tt == 1 ? "" : "s", target,
                       ratio <= target ? "met" : "NOT met", sprintf("%.6g", ol), sprintf("%.6g", tl)
                if (f != "" && p != "" && p > 0 && cores + 0 > 0) {
                    bound = f / (p * 1e9 * cores)
                    printf "model %s: that target is %.3f s per epoch, %.2f times the bound on all %d core%s (PyTorch multiplies in %s)%s\n",
                           label, target * t, target * t / bound, cores, cores == 1 ? "" : "s", blas == "" ? "an unnamed BLAS" : blas,
                           target * t < bound ? ": below the bound, out of reach of any code on this machine" : ""
                }
            }' >>"$SUMMARY.ratios"
    elif [ -n "$ours" ]; then
        echo "model $label: no PyTorch run to compare with" >>"$SUMMARY.ratios"
    fi
    # the bound: the epoch's floating-point work at the core's measured peak, on as many cores as
    # threads, for each of our idle runs (the issue's targets name one thread for some cases)
    for f in "$OUT/$case_id"-ours-t*.tsv; do
        [ -n "$target_bound" ] && [ -f "$f" ] && [ -n "$(value "$f" flops_per_epoch)" ] || continue
        run_peak=$(value "$f" core_peak_gflops)
        run_peak=${run_peak:-$PEAK}
        [ -n "$run_peak" ] || continue
        awk -v label="$label" -v f="$(value "$f" flops_per_epoch)" -v p="$run_peak" \
            -v t="$(value "$f" threads)" -v o="$(value "$f" seconds_per_epoch)" -v target="$target_bound" 'BEGIN {
            bound = f / (p * 1e9 * t)
            printf "model %s: bound %.3f s per epoch (%.3g GFLOP at the measured core peak of %.0f GFLOP/s, %d core%s); ours on %d thread%s takes %.2f times it (target <= %s: %s)\n",
                   label, bound, f / 1e9, p, t, (t == 1 ? "" : "s"), t, (t == 1 ? "" : "s"), o / bound, target,
                   (o / bound <= target ? "met" : "NOT met")
        }' >>"$SUMMARY.ratios"
    done
    # threads: 2 against 1 when idle, and beside the neighbour against 1 thread idle
    one="$OUT/$case_id-ours-t1.tsv" two="$OUT/$case_id-ours-t2.tsv"
    if [ -f "$one" ] && [ -f "$two" ]; then
        awk -v label="$label" -v a="$(value "$one" seconds_per_epoch)" -v b="$(value "$two" seconds_per_epoch)" 'BEGIN {
            printf "model %s: 2 threads are %.2f times as fast as 1 (target >= 1.6: %s)\n", label, a / b,
                   (a / b >= 1.6 ? "met" : "NOT met") }' >>"$SUMMARY.ratios"
    fi
    # elastic steps (all-dense models): how many of the 2-thread runs' steps ran on both threads
    for f in "$two" "$OUT/$case_id-neighbour-t2.tsv"; do
        share=$( [ -f "$f" ] && value "$f" steps_on_threads)
        [ -n "$share" ] || continue
        case $f in *neighbour*) where="beside the neighbour" ;; *) where="idle" ;; esac
        awk -v label="$label" -v s="$share" -v w="$where" 'BEGIN {
            printf "model %s, 2 threads %s: %.0f%% of the steps ran on both threads, the rest on one (elastic steps)\n",
                   label, w, 100 * s }' >>"$SUMMARY.ratios"
    done
    for t in 1 2; do
        near="$OUT/$case_id-neighbour-t$t.tsv"
        [ -f "$one" ] && [ -f "$near" ] || continue
        awk -v label="$label" -v t="$t" -v a="$(value "$one" seconds_per_epoch)" -v n="$(value "$near" seconds_per_epoch)" 'BEGIN {
            printf "model %s beside a CPU-bound process: %d thread%s %.2f times the idle 1-thread time per epoch%s\n",
                   label, t, (t == 1 ? " takes" : "s take"), n / a,
                   (t == 2 ? sprintf(" (target <= 1.1: %s)", (n / a <= 1.1 ? "met" : "NOT met")) : "")
        }' >>"$SUMMARY.ratios"
    done
}
: >"$SUMMARY.ratios"

# ------------------------------------------------------------------- cases
# model_round MODEL EPOCHS: one round of model A or B, trained by PyTorch and by the bench program
# (alone and beside a neighbour), then by week05-task4-ae itself
model_round() {
    torch_runs "$1" "$ROOT/bench/torch_ae.py" --model "$1" --epochs "$2" --data "$DATA" --quiet
    ours_runs "$1" "$BENCH_TRAIN" --model "$1" --epochs "$2" --data "$DATA" --quiet
    neighbour_runs "$1" "$BENCH_TRAIN" --model "$1" --epochs "$2" --data "$DATA" --quiet
    program_runs "$1" "$1" "$2"
}
# model_case MODEL EPOCHS TARGET BOUND_TARGET: the rounds, then the model's rows and ratios
model_case() {
    rounds model_round "$1" "$2"
    report "$1" "$1" val_loss "$3" "$4"
}

# one round of the dense VAE (PyTorch and ours) and of the conv VAE (ours only)
vae_round() {
    torch_runs VAE "$ROOT/bench/case-vae.py" --epochs "$EPOCHS_VAE" --data "$DATA" --quiet
    ours_runs VAE "$ROOT/bench/case-vae.sh" ours --epochs "$EPOCHS_VAE" --data "$DATA" --quiet
    neighbour_runs VAE "$ROOT/bench/case-vae.sh" ours --epochs "$EPOCHS_VAE" --data "$DATA" --quiet
}
# one round of model A on the portable path (ours only: what a processor without AVX-512 runs)
portable_round() {
    ours_runs PORTABLE "$BENCH_TRAIN" --model A --portable --epochs "$EPOCHS_A" --data "$DATA" --quiet
    neighbour_runs PORTABLE "$BENCH_TRAIN" --model A --portable --epochs "$EPOCHS_A" --data "$DATA" --quiet
}
conv_round() {
    ours_runs CONV "$ROOT/bench/case-vae.sh" ours --model conv --epochs "$EPOCHS_CONV" --data "$DATA" --quiet
    neighbour_runs CONV "$ROOT/bench/case-vae.sh" ours --model conv --epochs "$EPOCHS_CONV" --data "$DATA" --quiet
}

for m in $MODELS; do
    rm -rf "$OUT/$m"-pytorch-t* "$OUT/$m"-ours-t* "$OUT/$m"-program-t* "$OUT/$m"-neighbour-t*
    case $m in
    A)
        echo "model A: Dense(64, relu) -> Dense(784, sigmoid), $EPOCHS_A epochs"
        model_case A "$EPOCHS_A" 0.15 1.3
        ;;
    B)
        echo "model B: Conv2D x2 -> Conv2DTranspose x2 -> Conv2D, $EPOCHS_B epochs"
        model_case B "$EPOCHS_B" 0.08 2.5
        ;;
    VAE)
        echo "dense VAE of vae-elbo: 784-400-20, batch 128, $EPOCHS_VAE epochs (time per epoch: training only)"
        if [ -n "${VAE_ELBO:-}" ] && [ -x "$VAE_ELBO" ]; then
            rounds vae_round
            report VAE "VAE" test_loss 0.25 1.3
        else
            echo "  skipped: vae-elbo is not built (run 'make' first)"
        fi
        ;;
    CONV)
        echo "conv VAE of vae-elbo: 32x32, 32/64/128 filters, $EPOCHS_CONV epoch(s) (time per epoch: training only)"
        if [ -n "${VAE_ELBO:-}" ] && [ -x "$VAE_ELBO" ]; then
            rounds conv_round
            report CONV "conv VAE" test_loss - 2.5
            best=$(fastest "$OUT"/CONV-ours-t*.tsv)
            conv_peak=$(value "$best" core_peak_gflops)      # empty when there is no run
            [ -z "$best" ] || awk -v s="$(value "$best" seconds_per_epoch)" -v t="$(value "$best" threads)" \
                    -v f="$(value "$best" flops_per_epoch)" -v p="${conv_peak:-$PEAK}" -v cores="$cores" 'BEGIN {
                printf "model conv VAE: %.1f s per epoch on %d thread%s (target <= 28: %s)\n", s, t, (t == 1 ? "" : "s"),
                       (s <= 28 ? "met" : "NOT met")
                # the target in seconds against the bound, as for the targets against PyTorch: it was set
                # on a processor whose peak may differ from this one
                if (f != "" && p != "" && p > 0 && cores + 0 > 0)
                    printf "model conv VAE: that target is %.2f times the bound on all %d core%s (%.1f s)\n",
                           28 / (f / (p * 1e9 * cores)), cores, cores == 1 ? "" : "s", f / (p * 1e9 * cores)
            }' >>"$SUMMARY.ratios"
        else
            echo "  skipped: vae-elbo is not built (run 'make' first)"
        fi
        ;;
    PORTABLE)
        echo "model A on the portable path (CBLAS and plain loops, no AVX-512), $EPOCHS_A epochs"
        rounds portable_round
        report PORTABLE "A (port)" val_loss -
        ;;
    FIGURES)
        bin=${BIN_DIR:-$(dirname "${VAE_ELBO:-$ROOT/bin/vae-elbo}")}
        echo "make figures FORCE=1: every exercise from scratch, on $DATA, into $OUT/figures"
        rm -rf "$OUT/figures"
        mkdir -p "$OUT/figures" || fail "cannot create $OUT/figures"
        printf '  figures ... '
        start=$(date +%s.%N)
        if FORCE=1 FASHION_MNIST_DIR=$DATA "$ROOT/scripts/figures.sh" --no-build --no-download --bin "$bin" \
                --out "$OUT/figures" --report "$OUT/figures/REPORT.md" >"$OUT/figures.log" 2>&1; then
            seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
            echo "$seconds s"
            awk -v s="$seconds" -v e="$(value "$OUT/figures/vae-elbo/results.tsv" conv_epochs)" 'BEGIN {
                printf "make figures FORCE=1: %d min %02d s on the full data, the conv VAE at %s epochs " \
                       "(target <= 10 min with it at 10 epochs: %s)\n", s / 60, s % 60, (e == "" ? "?" : e),
                       (s <= 600 && e >= 10 ? "met" : "NOT met") }' >>"$SUMMARY.ratios"
        else
            echo "failed (see $OUT/figures.log)"
            echo "make figures FORCE=1: failed (see $OUT/figures.log)" >>"$SUMMARY.ratios"
        fi
        ;;
    *)
        fail "BENCH_MODELS: unknown case '$m' (the cases are A, B, VAE, CONV, PORTABLE and FIGURES)"
        ;;
    esac
done

{
    printf '%-8s %-32s %7s %6s %10s %9s %10s %9s\n' model implementation threads epochs s/epoch "total s" "loss" "peak MiB"
    cat "$SUMMARY"
    echo
    cat "$SUMMARY.ratios"
    echo "each time: the fastest of $REPEATS run(s) (BENCH_REPEATS), made in rounds: every command of a case once per round"
    echo "load average $START_LOAD before the runs (above about 0.5 other programs were running, and shared the cores: the times are then unreliable)"
} >"$SUMMARY.table"
mv "$SUMMARY.table" "$SUMMARY"
rm -f "$SUMMARY.ratios"
echo
cat "$SUMMARY"
