#!/usr/bin/env bash
# case-vae.sh: the bench cases "dense VAE" (vae-elbo's 784-400-20 VAE, batch 128, Adam 1e-3,
# BCE summed + KL) and "conv VAE" (vae-elbo's convolutional one) — our side of them, and a
# comparison of the dense one with PyTorch on its own.
#
#   bench/case-vae.sh ours [--model dense|conv] [--epochs N] [--threads N] [--latent L] [--seed N]
#                          [--data DIR] [--quiet]
#       trains the VAE with bin/vae-elbo (--threads N is its --threads for the dense VAE, its
#       --conv-threads for the conv one; --latent only the dense one's) and prints bench/run.sh's
#       "key<TAB>value" lines: implementation, model, params, threads, epochs, seconds_per_epoch
#       (training only, test pass left out), seconds_total (training and test passes), test_loss
#       (minus the test ELBO, nats per image), test_recon, test_kl, flops_per_epoch (the training
#       images times three times the program's forward multiply-adds, times 2), peak_rss_mib.
#       PyTorch's side is bench/case-vae.py, the dense VAE only, same options.
#   bench/case-vae.sh [--epochs N] [--threads N] [--latent L] [--seed N] [--data DIR]
#       runs PyTorch (bench/case-vae.py) and then ours, one after the other, and prints both
#       times per epoch, their ratio and both test losses.
#
# Environment: VAE_ELBO, the program (default: bin/vae-elbo, else build/release/bin/vae-elbo);
# PYTHON, an interpreter with torch (default: /usr/bin/python3, Debian's python3-torch);
# FASHION_MNIST_DIR, the full data (default: data/fashion-mnist), unless --data is given.
# Exit status: 0 when the runs succeeded, 1 when one failed, 2 for a bad option.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=compare
[ "${1:-}" = ours ] && { MODE=ours; shift; }
EPOCHS=2
MODEL=dense
THREADS=1
LATENT=20
SEED=42
DATA=${FASHION_MNIST_DIR:-$ROOT/data/fashion-mnist}
QUIET=0
while [ $# -gt 0 ]; do
    case $1 in
        --epochs|--threads|--latent|--seed)
            [ $# -ge 2 ] || { echo "case-vae: $1 needs a value" >&2; exit 2; }
            case $2 in ''|*[!0-9]*) echo "case-vae: $1 needs a whole number, not '$2'" >&2; exit 2 ;; esac
            case $1 in
                --epochs) EPOCHS=$2 ;; --threads) THREADS=$2 ;; --latent) LATENT=$2 ;; --seed) SEED=$2 ;;
            esac
            shift ;;
        --model) case ${2:-} in dense|conv) MODEL=$2 ;; *) echo "case-vae: --model is dense or conv, not '${2:-}'" >&2; exit 2 ;; esac
            shift ;;
        --data) [ $# -ge 2 ] && [ -n "$2" ] || { echo "case-vae: --data needs a folder" >&2; exit 2; }
            DATA=$2; shift ;;
        --quiet) QUIET=1 ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "case-vae: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
[ "$EPOCHS" -ge 1 ] && [ "$THREADS" -ge 1 ] && [ "$LATENT" -ge 1 ] ||
    { echo "case-vae: --epochs, --threads and --latent must be at least 1" >&2; exit 2; }
[ "$MODE" = ours ] || [ "$MODEL" = dense ] ||
    { echo "case-vae: PyTorch's side has the dense VAE only; use 'ours' for --model conv" >&2; exit 2; }
[ -f "$DATA/train-images-idx3-ubyte.gz" ] || [ -f "$DATA/train-images-idx3-ubyte" ] ||
    { echo "case-vae: no Fashion-MNIST in $DATA; run \`make data\` or set FASHION_MNIST_DIR" >&2; exit 1; }

PROG=${VAE_ELBO:-}
if [ -z "$PROG" ]; then
    for candidate in "$ROOT/bin/vae-elbo" "$ROOT/build/release/bin/vae-elbo"; do
        [ -x "$candidate" ] && { PROG=$candidate; break; }
    done
fi
[ -n "$PROG" ] && [ -x "$PROG" ] || { echo "case-vae: no vae-elbo program; run \`make\` first or set VAE_ELBO" >&2; exit 1; }
PYTHON=${PYTHON:-/usr/bin/python3}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/case-vae.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

# value KEY FILE: the value of KEY in a key<TAB>value file
value() { awk -F '\t' -v k="$1" '$1 == k { print $2; exit }' "$2"; }

# ours: trains with vae-elbo (the checks of its sections 1-4 run first, cut short, and are not
# timed), then prints the keys from its results.tsv
ours() {
    timer=""
    [ -x /usr/bin/time ] && timer="/usr/bin/time -f %M -o $WORK/rss"    # GNU time: peak RSS in KiB
    if [ "$MODEL" = conv ]; then
        set -- --conv-epochs "$EPOCHS" --conv-threads "$THREADS"
    else
        set -- --latent "$LATENT" --epochs "$EPOCHS" --threads "$THREADS"
    fi
    if ! $timer "$PROG" --train --model "$MODEL" "$@" \
            --seed "$SEED" --data "$DATA" --no-sweep --no-plot --mc-samples 1000 --elbo-draws 100 \
            --out "$WORK/c" > "$WORK/c.log" 2>&1; then
        cat "$WORK/c.log" >&2
        echo "case-vae: the vae-elbo run failed" >&2
        return 1
    fi
    [ "$QUIET" = 1 ] || grep "^  $MODEL .*epoch" "$WORK/c.log" >&2
    r=$WORK/c/results.tsv
    m=$MODEL
    printf 'implementation\tC (this repository)\n'
    if [ "$m" = conv ]; then printf 'model\tconv VAE of vae-elbo\n'; else printf 'model\tdense VAE 784-400-%s\n' "$LATENT"; fi
    printf 'params\t%s\n' "$(value ${m}_parameters "$r")"
    printf 'threads\t%s\n' "$THREADS"
    printf 'backend\t%s\n' "$(sed -n 's/^Matrix products: \([^;]*\);.*/\1/p' "$WORK/c.log")"
    for key in epochs seconds_per_epoch seconds_total test_loss test_recon test_kl; do
        printf '%s\t%s\n' "$key" "$(value "${m}_$key" "$r")"
    done
    share=$(value "${m}_steps_on_threads" "$r")      # elastic steps: the share run on the threads
    [ -z "$share" ] || printf 'steps_on_threads\t%s\n' "$share"
    # an epoch's work: each training image a forward and two backward products of the forward's size
    awk -v macs="$(value "${m}_forward_macs" "$r")" -v n="$TRAIN_IMAGES" \
        'BEGIN { if (macs > 0 && n > 0) printf "flops_per_epoch\t%.6g\n", 2 * macs * 3 * n }'
    [ -s "$WORK/rss" ] && awk '{ printf "peak_rss_mib\t%.1f\n", $1 / 1024 }' "$WORK/rss"
    return 0
}

# the training images: the first count of the IDX file's header (bytes 4..7, big-endian)
TRAIN_IMAGES=$(if [ -f "$DATA/train-images-idx3-ubyte.gz" ]; then gzip -dc "$DATA/train-images-idx3-ubyte.gz" 2>/dev/null | head -c 8
               else head -c 8 "$DATA/train-images-idx3-ubyte"; fi | od -An -tu1 | awk '{ print (($5 * 256 + $6) * 256 + $7) * 256 + $8 }')

if [ "$MODE" = ours ]; then
    ours
    exit $?
fi

echo "Dense VAE 784-400-$LATENT on Fashion-MNIST: $EPOCHS epoch(s), batch 128, $THREADS thread(s), seed $SEED"
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
echo "PyTorch ($PYTHON bench/case-vae.py) ..."
if ! OMP_NUM_THREADS=$THREADS "$PYTHON" "$ROOT/bench/case-vae.py" --epochs "$EPOCHS" --latent "$LATENT" \
        --threads "$THREADS" --seed "$SEED" --data "$DATA" > "$WORK/torch.tsv" 2> "$WORK/torch.log"; then
    cat "$WORK/torch.log" >&2
    echo "case-vae: the PyTorch run failed" >&2
    exit 1
fi
sed 's/^/  /' "$WORK/torch.log"
echo "this repository ($PROG) ..."
ours > "$WORK/ours.tsv" 2> "$WORK/ours.log" || { cat "$WORK/ours.log" >&2; exit 1; }
cat "$WORK/ours.log"

T_TORCH=$(value seconds_per_epoch "$WORK/torch.tsv")
L_TORCH=$(value test_loss "$WORK/torch.tsv")
T_C=$(value seconds_per_epoch "$WORK/ours.tsv")
L_C=$(value test_loss "$WORK/ours.tsv")
echo
printf '  %-44s %18s %24s\n' "implementation" "seconds per epoch" "test loss (nats/image)"
printf '  %-44s %18.3f %24.3f\n' "$(value implementation "$WORK/torch.tsv")" "$T_TORCH" "$L_TORCH"
printf '  %-44s %18.3f %24.3f\n' "vae-elbo ($(value backend "$WORK/ours.tsv"))" "$T_C" "$L_C"
awk -v c="$T_C" -v t="$T_TORCH" -v lc="$L_C" -v lt="$L_TORCH" 'BEGIN {
    ratio = c / t
    printf "  time ratio vae-elbo / PyTorch: %.3f (target: at most 0.25): %s\n", ratio,
           ratio <= 0.25 ? "met" : "NOT met"
    printf "  test loss, vae-elbo minus PyTorch: %+.3f nats per image (%s)\n", lc - lt,
           lc <= lt + 0.5 ? "as good" : "worse"
}'
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
