/* test_plot.c: figures as .dat + .gp, rendered by gnuplot when it is installed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "io/fileio.h"
#include "io/plot.h"
#include "testutil.h"

static int count_lines(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    int lines = 0, c;
    while ((c = fgetc(fp)) != EOF) lines += c == '\n';
    fclose(fp);
    return lines;
}

static int file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return strstr(buf, needle) != NULL;
}

START_TEST(line_plot_writes_data_and_script)
{
    const char *dir = test_tmpdir();
    double x[3] = {1, 2, 3}, train[3] = {0.03, 0.02, 0.0151}, val[3] = {0.031, 0.021, 0.0167};
    const double *ys[2] = {train, val};
    const char *labels[2] = {"train", "validation's"};
    plot_axes axes = {"Loss per epoch", "epoch", "MSE", 0, 1, 0, 0};
    ck_assert_int_eq(plot_lines(dir, "loss", &axes, x, 3, ys, labels, 2), AE_OK);

    char dat[4096], gp[4096];
    snprintf(dat, sizeof dat, "%s/loss.dat", dir);
    snprintf(gp, sizeof gp, "%s/loss.gp", dir);
    ck_assert_int_eq(count_lines(dat), 4);   /* header + 3 rows */
    ck_assert(file_contains(dat, "3\t0.0151\t0.0167"));
    ck_assert(file_contains(gp, "set logscale y"));
    ck_assert(file_contains(gp, "'validation''s'"));   /* quote doubled inside a gnuplot string */
    ck_assert(file_contains(gp, "set xlabel 'epoch'"));
    ck_assert(file_contains(gp, "outfile = 'loss.png'"));

    int rendered;
    ck_assert_int_eq(plot_render(dir, "loss", &rendered), AE_OK);
    if (gnuplot_available()) {
        char png[4096];
        snprintf(png, sizeof png, "%s/loss.png", dir);
        ck_assert_int_eq(rendered, 1);
        ck_assert(file_exists(png));
    } else {
        ck_assert_int_eq(rendered, 0);
    }
}
END_TEST

START_TEST(image_grid_and_scatter_render)
{
    const char *dir = test_tmpdir();
    float images[6 * 4 * 4];
    for (int i = 0; i < 6 * 16; i++) images[i] = (float)((i * 37) % 100) / 100.0f;
    const char *rows[2] = {"original", "reconstructed"};
    ck_assert_int_eq(plot_image_grid(dir, "grid", "Six images", images, 6, 4, 4, 3, rows), AE_OK);
    char dat[4096];
    snprintf(dat, sizeof dat, "%s/grid.dat", dir);
    ck_assert_int_eq(count_lines(dat), 1 + 2 * 4 + 2);   /* header + 2 rows of 4 + one gap of 2 */

    float x[4] = {0.1f, -0.2f, 1.5f, 0.7f}, y[4] = {2.0f, 1.0f, -1.0f, 0.5f};
    int labels[4] = {0, 1, 9, 1};
    const char *names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    plot_axes axes = {"Codes", "z1", "z2", 0, 0, 0, 0};
    ck_assert_int_eq(plot_scatter_classes(dir, "codes", &axes, x, y, labels, 4, names, 10), AE_OK);
    char gp[4096];
    snprintf(gp, sizeof gp, "%s/codes.gp", dir);
    ck_assert(file_contains(gp, "title 'Ankle boot'"));

    int rendered;
    ck_assert_int_eq(plot_render(dir, "grid", &rendered), AE_OK);
    ck_assert_int_eq(plot_render(dir, "codes", &rendered), AE_OK);
}
END_TEST

/* Headers above the columns, and colour images from their three planes (the CIFAR-10 layout). */
START_TEST(a_labelled_colour_grid_renders)
{
    const char *dir = test_tmpdir();
    float images[2 * 3 * 2 * 2];                 /* 2 images (3, 2, 2) */
    for (int i = 0; i < 24; i++) images[i] = 0.0f;
    images[0] = 1.0f;                            /* image 0, red plane, pixel (0, 0) */
    images[12 + 4 + 3] = 0.5f;                   /* image 1, green plane, pixel (1, 1) */
    const char *cols[2] = {"input", "decoded"};
    plot_grid g = { images, 2, 3, 2, 2, 2, NULL, cols };
    ck_assert_int_eq(plot_image_grid_labelled(dir, "colour", "Two colour images", &g), AE_OK);
    char dat[4096], gp[4096];
    snprintf(dat, sizeof dat, "%s/colour.dat", dir);
    snprintf(gp, sizeof gp, "%s/colour.gp", dir);
    ck_assert(file_contains(dat, "\n0 0 255 0 0\n"));         /* column 0, row 0: pure red */
    ck_assert(file_contains(dat, "\n5 1 0 128 0\n"));         /* image 1 starts at column 2 + 2 of gap */
    ck_assert(file_contains(dat, "\n2 0 255 255 255\n"));     /* the gap is white */
    ck_assert(file_contains(gp, "with rgbimage"));
    ck_assert(file_contains(gp, "'decoded' at first 4.5"));
    int rendered;
    ck_assert_int_eq(plot_render(dir, "colour", &rendered), AE_OK);

    /* grey with column headers keeps the matrix form */
    plot_grid grey = { images, 4, 1, 2, 3, 2, NULL, cols };   /* 2 rows of 2 */
    cols[1] = NULL;                              /* a column may go without a header */
    ck_assert_int_eq(plot_image_grid_labelled(dir, "grey", NULL, &grey), AE_OK);
    snprintf(gp, sizeof gp, "%s/grey.gp", dir);
    ck_assert(file_contains(gp, "matrix with image") && file_contains(gp, "'input' at first"));

    plot_grid two = { images, 2, 2, 2, 2, 2, NULL, NULL };
    ck_assert_int_eq(plot_image_grid_labelled(dir, "two", NULL, &two), AE_EINVAL);
    ck_assert_ptr_nonnull(strstr(error_message(), "2 channels"));
}
END_TEST

START_TEST(a_broken_script_is_reported_and_leaves_no_png)
{
    if (!gnuplot_available()) return;
    const char *dir = test_tmpdir();
    char gp[4096], png[4096];
    snprintf(gp, sizeof gp, "%s/broken.gp", dir);
    snprintf(png, sizeof png, "%s/broken.png", dir);
    FILE *fp = fopen(gp, "w");
    fputs("set terminal pngcairo\nset output outfile\nplot 'no-such-file.dat' using 1:2\n", fp);
    fclose(fp);
    int rendered = 1;
    ck_assert_int_eq(plot_render(dir, "broken", &rendered), AE_EIO);
    ck_assert_int_eq(rendered, 0);
    ck_assert_ptr_nonnull(strstr(error_message(), "broken.gp"));
    ck_assert(!file_exists(png));
}
END_TEST

/* gnuplot writes into a new file of ours: a link planted at the temporary's name stays untouched. */
START_TEST(a_planted_link_is_not_followed_by_gnuplot)
{
    if (!gnuplot_available()) return;
    const char *dir = test_tmpdir();
    double x[3] = {0, 1, 2}, y[3] = {1, 0, 1};
    const double *ys[1] = {y};
    const char *labels[1] = {"y"};
    plot_axes axes = {"t", "x", "y", 0, 0, 0, 0};
    ck_assert_int_eq(plot_lines(dir, "curve", &axes, x, 3, ys, labels, 1), AE_OK);
    char victim[4096], link[4200], png[4096];
    snprintf(victim, sizeof victim, "%s/victim.txt", dir);
    test_write_text(victim, "precious\n");
    snprintf(link, sizeof link, "%s/curve.png.%ld.0.tmp", dir, (long)getpid());
    ck_assert_int_eq(symlink(victim, link), 0);
    int rendered = 0;
    ck_assert_int_eq(plot_render(dir, "curve", &rendered), AE_OK);
    ck_assert_int_eq(rendered, 1);
    snprintf(png, sizeof png, "%s/curve.png", dir);
    ck_assert(file_exists(png));
    char *kept = test_read_text(victim);
    ck_assert_str_eq(kept, "precious\n");
    free(kept);
}
END_TEST

START_TEST(an_unwritable_folder_is_refused)
{
    double x[1] = {0}, y[1] = {0};
    const double *ys[1] = {y};
    const char *labels[1] = {"y"};
    plot_axes axes = {"t", "x", "y", 0, 0, 0, 0};
    ck_assert_int_eq(plot_lines("/nonexistent-folder", "p", &axes, x, 1, ys, labels, 1), AE_EIO);
    ck_assert_int_eq(plot_image_grid("/tmp", "g", "t", NULL, 0, 4, 4, 1, NULL), AE_EINVAL);
}
END_TEST

/* A figure of one's own: both files appear on commit, neither on abort, and a pair that
 * cannot be opened leaves nothing behind. */
START_TEST(an_own_pair_is_written_whole_or_not_at_all)
{
    const char *dir = test_tmpdir();
    char dat_path[1024], gp_path[1024];
    snprintf(dat_path, sizeof dat_path, "%s/own.dat", dir);
    snprintf(gp_path, sizeof gp_path, "%s/own.gp", dir);

    atomic_file dat, gp;
    ck_assert_int_eq(plot_open_pair(&dat, &gp, dir, "own"), AE_OK);
    fprintf(dat.fp, "1 2\n");
    fprintf(gp.fp, "plot 'own.dat'\n");
    ck_assert(!file_exists(dat_path) && !file_exists(gp_path));   /* nothing visible before the commit */
    ck_assert_int_eq(plot_commit_pair(&dat, &gp), AE_OK);
    ck_assert_int_eq(count_lines(dat_path), 1);
    ck_assert(file_contains(gp_path, "plot 'own.dat'"));

    snprintf(dat_path, sizeof dat_path, "%s/dropped.dat", dir);
    snprintf(gp_path, sizeof gp_path, "%s/dropped.gp", dir);
    ck_assert_int_eq(plot_open_pair(&dat, &gp, dir, "dropped"), AE_OK);
    fprintf(dat.fp, "3 4\n");
    atomic_abort(&dat);
    atomic_abort(&gp);
    ck_assert(!file_exists(dat_path) && !file_exists(gp_path));

    ck_assert_int_eq(plot_open_pair(&dat, &gp, "/nonexistent-folder", "p"), AE_EIO);
    ck_assert(!file_exists("/nonexistent-folder/p.dat"));
}
END_TEST

Suite *plot_suite(void)
{
    Suite *s = suite_create("plot");
    test_add(test_case(s, "Core", 20), line_plot_writes_data_and_script, image_grid_and_scatter_render,
             a_labelled_colour_grid_renders, an_own_pair_is_written_whole_or_not_at_all);
    test_add(test_case(s, "Limits", 20), a_broken_script_is_reported_and_leaves_no_png,
             an_unwritable_folder_is_refused, a_planted_link_is_not_followed_by_gnuplot);
    return s;
}
