/* elbo_resume.c: a trained VAE saved beside its results and read back with --from-checkpoint
 * (see elbo_training.h), so that a rerun redraws every figure without training again.
 *
 * Three files per model in --out, for PREFIX "dense" or "conv":
 *   PREFIX_encoder.ckpt, PREFIX_decoder.ckpt   the two models' parameters (checkpoint.h)
 *   PREFIX_history.tsv                         what made them, and their curves:
 *       # vae-elbo: the training history of the convolutional VAE (L = 2, β = 1)
 *       # seed 42                                one line per setting (history_meta_get reads them)
 *       ...
 *       # part	epoch	segment	elbo	recon	kl	seconds
 *       test	0	0	-543.1...	...           the untrained model on the test set
 *       train	1	0	...	12.3                   epoch 1's mean over its batches, and its seconds
 *       test	1	0	...                           the test set after epoch 1
 *       segment	1	1	...                       the mean over the first tenth of epoch 1, ...
 * Every number has 17 significant digits, so what is read back is what was trained, bit for bit.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fast/cpu.h"
#include "elbo_training.h"
#include "error.h"
#include "io/fileio.h"

#define PROGRAM "vae-elbo"

#define META_VALUE 1100          /* a setting's text, as history_meta's value holds it */
enum { META_SEED, META_DATA, META_KIND, META_LATENT, META_BETA, META_LR, META_BATCH, META_THREADS, META_EPOCHS,
       META_ENCODER_CRC, META_DECODER_CRC, N_META };
static const char *const meta_keys[N_META] = { "seed", "data", "model", "latent", "beta", "lr", "batch", "threads",
                                               "epochs", "encoder_crc32", "decoder_crc32" };
/* how each setting is named on the command line, for the message that refuses a history */
static const char *const meta_options[N_META] = { "--seed", "--data", "--model", "--latent", "--beta", "--lr", "--batch",
                                                  "--threads or --conv-threads", "--epochs or --conv-epochs", NULL, NULL };

static int file_path(char *path, size_t len, const elbo_context *ctx, const training_run *r, const char *suffix)
{
    char name[96];
    snprintf(name, sizeof name, "%s_%s", r->prefix, suffix);
    return path_join(path, len, ctx->run->out_dir, name);
}

/* The settings of this run, as the history records them. */
static void settings_of(char values[N_META][META_VALUE], const elbo_context *ctx, const vae_config *cfg, int threads,
                        int epochs, const char *data_dir)
{
    char resolved[PATH_MAX];   /* the folder itself, however it was named */
    snprintf(values[META_SEED], META_VALUE, "%lu", (unsigned long)ctx->common->seed);
    snprintf(values[META_DATA], META_VALUE, "%.*s", META_VALUE - 1, realpath(data_dir, resolved) ? resolved : data_dir);
    snprintf(values[META_KIND], META_VALUE, "%s", vae_kind_name(cfg->kind));
    snprintf(values[META_LATENT], META_VALUE, "%d", cfg->latent);
    snprintf(values[META_BETA], META_VALUE, "%.17g", cfg->beta);
    snprintf(values[META_LR], META_VALUE, "%.17g", cfg->lr);
    snprintf(values[META_BATCH], META_VALUE, "%d", cfg->max_batch);
    snprintf(values[META_THREADS], META_VALUE, "%d", threads);
    snprintf(values[META_EPOCHS], META_VALUE, "%d", epochs);
    values[META_ENCODER_CRC][0] = values[META_DECODER_CRC][0] = '\0';
}

/* The CRC-32 a checkpoint ends with, as 8 hex digits. */
static int crc_text(char *text, size_t len, const char *path)
{
    uint32_t crc;
    int rc = checkpoint_crc32(path, &crc);
    if (rc == AE_OK) snprintf(text, len, "%08lx", (unsigned long)crc);
    return rc;
}

static void print_terms(FILE *fp, const char *part, int epoch, int segment, const elbo_terms *t, double seconds)
{
    fprintf(fp, "%s\t%d\t%d\t%.17g\t%.17g\t%.17g\t%.17g\n", part, epoch, segment, t->elbo, t->recon, t->kl, seconds);
}

int elbo_run_save(elbo_context *ctx, const training_run *r, const char *data_dir)
{
    char enc[AE_PATH_MAX], dec[AE_PATH_MAX], hist[AE_PATH_MAX], values[N_META][1100];
    int rc = file_path(enc, sizeof enc, ctx, r, "encoder.ckpt");
    if (rc == AE_OK) rc = file_path(dec, sizeof dec, ctx, r, "decoder.ckpt");
    if (rc == AE_OK) rc = file_path(hist, sizeof hist, ctx, r, "history.tsv");
    if (rc == AE_OK) rc = checkpoint_save(r->v->encoder, enc);
    if (rc == AE_OK) rc = checkpoint_save(r->v->decoder, dec);
    settings_of(values, ctx, &r->v->cfg, r->threads, r->epochs, data_dir);
    if (rc == AE_OK) rc = crc_text(values[META_ENCODER_CRC], sizeof values[0], enc);
    if (rc == AE_OK) rc = crc_text(values[META_DECODER_CRC], sizeof values[0], dec);
    atomic_file f;
    if (rc == AE_OK) rc = atomic_open(&f, hist);
    if (rc != AE_OK) return rc;
    fprintf(f.fp, "# %s: the training history of the %s\n", PROGRAM, r->title);
    for (int k = 0; k < N_META; k++) fprintf(f.fp, "# %s %s\n", meta_keys[k], values[k]);
    fprintf(f.fp, "# total_seconds %.17g\n", r->total_seconds);
    if (r->steps_on_threads >= 0.0) fprintf(f.fp, "# steps_on_threads %.17g\n", r->steps_on_threads);
    fprintf(f.fp, "# segments %d\n# part\tepoch\tsegment\telbo\trecon\tkl\tseconds\n", r->n_segments);
    print_terms(f.fp, "test", 0, 0, &r->test_start, 0.0);
    for (int e = 0; e < r->epochs; e++) {
        print_terms(f.fp, "train", e + 1, 0, &r->train[e], r->seconds[e]);
        print_terms(f.fp, "test", e + 1, 0, &r->test[e], 0.0);
        for (int k = 0; k < r->n_segments; k++)
            print_terms(f.fp, "segment", e + 1, k + 1, &r->segments[(size_t)e * r->n_segments + k], 0.0);
    }
    return atomic_commit(&f);
}

/* One number of a history line; AE_EFORMAT naming the file and line when it is not one. */
static int parse_number(double *out, char **cursor, const char *path, int line)
{
    char *end;
    errno = 0;
    *out = strtod(*cursor, &end);
    if (end == *cursor || errno == ERANGE || (*end != '\t' && *end != '\n' && *end != '\0'))
        return AE_ERROR(AE_EFORMAT, "%s, line %d: expected a number, found \"%.20s\"; train again without "
                        "--from-checkpoint", path, line, *cursor);
    *cursor = *end == '\t' ? end + 1 : end;
    return AE_OK;
}

/* The curves of a history file into r (allocated for the epochs its settings say). */
static int read_curves(training_run *r, const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return AE_ERROR(AE_EIO, "%s: %s", path, strerror(errno));
    char text[512];
    int line = 0, rc = AE_OK, seen_train = 0, seen_test = 0, seen_segments = 0;
    while (rc == AE_OK && fgets(text, sizeof text, fp)) {
        line++;
        if (text[0] == '#') {
            if (strncmp(text, "# total_seconds ", 16) == 0) r->total_seconds = strtod(text + 16, NULL);
            if (strncmp(text, "# steps_on_threads ", 19) == 0) r->steps_on_threads = strtod(text + 19, NULL);
            continue;
        }
        char part[16];
        int epoch, segment, used = 0;
        if (sscanf(text, "%15[a-z]\t%d\t%d\t%n", part, &epoch, &segment, &used) != 3 || used == 0) {
            rc = AE_ERROR(AE_EFORMAT, "%s, line %d is not \"part epoch segment elbo recon kl seconds\"; train again "
                          "without --from-checkpoint", path, line);
            break;
        }
        double v[4];
        char *cursor = text + used;
        for (int k = 0; k < 4 && rc == AE_OK; k++) rc = parse_number(&v[k], &cursor, path, line);
        if (rc != AE_OK) break;
        elbo_terms t = { v[1], v[2], v[0] };
        int bad_epoch = epoch < 0 || epoch > r->epochs || (epoch == 0 && strcmp(part, "test") != 0);
        if (!bad_epoch && strcmp(part, "test") == 0 && segment == 0) {
            if (epoch == 0) r->test_start = t;
            else r->test[epoch - 1] = t;
            seen_test++;
        } else if (!bad_epoch && strcmp(part, "train") == 0 && segment == 0) {
            r->train[epoch - 1] = t;
            r->seconds[epoch - 1] = v[3];
            seen_train++;
        } else if (!bad_epoch && strcmp(part, "segment") == 0 && segment >= 1 && segment <= r->n_segments) {
            r->segments[(size_t)(epoch - 1) * r->n_segments + segment - 1] = t;
            seen_segments++;
        } else {
            rc = AE_ERROR(AE_EFORMAT, "%s, line %d: no place for \"%s\" of epoch %d, segment %d in a history of %d "
                          "epochs of %d segments; train again without --from-checkpoint", path, line, part, epoch,
                          segment, r->epochs, r->n_segments);
        }
    }
    fclose(fp);
    if (rc == AE_OK && (seen_train != r->epochs || seen_test != r->epochs + 1 ||
                        seen_segments != r->epochs * r->n_segments))
        rc = AE_ERROR(AE_EFORMAT, "%s holds %d training, %d test and %d segment lines where %d epochs need %d, %d and "
                      "%d: it is cut short; train again without --from-checkpoint", path, seen_train, seen_test,
                      seen_segments, r->epochs, r->epochs, r->epochs + 1, r->epochs * r->n_segments);
    return rc;
}

int elbo_run_load(elbo_context *ctx, training_run *r, const vae_config *cfg, int epochs, const char *data_dir)
{
    char enc[AE_PATH_MAX], dec[AE_PATH_MAX], hist[AE_PATH_MAX], values[N_META][1100], saved[META_VALUE];
    int rc = file_path(enc, sizeof enc, ctx, r, "encoder.ckpt");
    if (rc == AE_OK) rc = file_path(dec, sizeof dec, ctx, r, "decoder.ckpt");
    if (rc == AE_OK) rc = file_path(hist, sizeof hist, ctx, r, "history.tsv");
    if (rc != AE_OK) return rc;
    const char *const files[3] = { enc, dec, hist };
    for (int k = 0; k < 3; k++)
        if (access(files[k], F_OK) != 0)
            return AE_ERROR(AE_ENOENT, "--from-checkpoint: %s is missing: run vae-elbo --train without it first, "
                            "with this --out", files[k]);
    settings_of(values, ctx, cfg, r->threads, epochs, data_dir);
    if ((rc = crc_text(values[META_ENCODER_CRC], sizeof values[0], enc)) != AE_OK ||
        (rc = crc_text(values[META_DECODER_CRC], sizeof values[0], dec)) != AE_OK)
        return rc;
    for (int k = 0; k < N_META && rc == AE_OK; k++) {
        rc = history_meta_get(hist, meta_keys[k], saved, sizeof saved);
        if (rc == AE_EFORMAT)
            return AE_ERROR(AE_EFORMAT, "%s has no \"# %s\" line: it is not a history of vae-elbo; train again "
                            "without --from-checkpoint", hist, meta_keys[k]);
        if (rc != AE_OK) return rc;
        if (strcmp(saved, values[k]) == 0) continue;
        /* with the AVX-512 kernels a dense VAE gives the same bits on any number of threads: its
         * checkpoints serve any --threads (a CBLAS sgemm blocks a thread's share differently) */
        if (k == META_THREADS && cfg->kind == VAE_DENSE && cpu_has_avx512()) continue;
        if (!meta_options[k])   /* a checkpoint replaced since the history was written */
            return AE_ERROR(AE_EFORMAT, "%s: it belongs to other checkpoints (%s %s) than the one beside it (%s): a run "
                            "was cut between writing them; train again without --from-checkpoint", hist,
                            meta_keys[k], saved, values[k]);
        return AE_ERROR(AE_EINVAL, "--from-checkpoint: the %s in %s was trained with %s %s, and this run asks for %s "
                        "(%s): give the same settings, or train again without --from-checkpoint", r->title, ctx->run->out_dir,
                        meta_keys[k], saved, values[k], meta_options[k]);
    }
    gsl_rng *rng = elbo_stream_rng(ctx->common->seed, 0);   /* only to build the models: the checkpoints overwrite */
    if (!rng) return AE_ERROR(AE_ENOMEM, "out of memory for a random generator");
    r->v = vae_alloc(cfg, rng);
    gsl_rng_free(rng);
    if (!r->v) return error_code();
    rc = vae_set_threads(r->v, r->threads);
    /* the curves hold as many segments as the training run had: SEGMENTS, or fewer for a short epoch */
    long segments = 0;
    if (rc == AE_OK && history_meta_get(hist, "segments", saved, sizeof saved) != AE_OK) strcpy(saved, "(missing)");
    if (rc == AE_OK) segments = strtol(saved, NULL, 10);
    if (rc == AE_OK && (segments < 1 || segments > SEGMENTS))
        rc = AE_ERROR(AE_EFORMAT, "%s: \"# segments %s\" is not a number of segments from 1 to %d; train again "
                      "without --from-checkpoint", hist, saved, SEGMENTS);
    if (rc == AE_OK) rc = elbo_run_alloc(r, epochs, segments);
    if (rc == AE_OK) rc = checkpoint_load(r->v->encoder, enc);
    if (rc == AE_OK) rc = checkpoint_load(r->v->decoder, dec);
    if (rc == AE_OK) rc = read_curves(r, hist);
    r->from_checkpoint = 1;
    return rc;
}

int elbo_train_or_load(elbo_context *ctx, training_run *r, const idx_array *train, const idx_array *test,
                       const vae_config *cfg, int epochs, unsigned long stream, const char *data_dir)
{
    int rc;
    if (ctx->opt->from_checkpoint) {
        rc = elbo_run_load(ctx, r, cfg, epochs, data_dir);
        if (rc == AE_OK)
            printf("  read back (--from-checkpoint) from %s_encoder.ckpt, %s_decoder.ckpt and %s_history.tsv\n",
                   r->prefix, r->prefix, r->prefix);
    } else {
        rc = elbo_train_run(ctx, r, train, test, cfg, epochs, stream, 1);
        if (rc == AE_OK) rc = elbo_run_save(ctx, r, data_dir);
    }
    if (rc == AE_OK)
        printf("  %d epoch%s in %.1f s (%.2f s of training per epoch, test pass not counted)\n", epochs,
               epochs == 1 ? "" : "s", r->total_seconds, elbo_mean_seconds(r));
    return rc;
}
