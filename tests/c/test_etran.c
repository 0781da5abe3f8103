/* test_etran.c — ETran's per-model parts (pl_etran_energy, pl_etran_lda).
 *
 * Fixture values are the official mgholamikn/ETran code's (tests/fixtures/README.md, "v2");
 * "nan" (an empty energy tail, N < 200) must be the error naming etran_energy and N >= 200.
 * Set PL_TEST_VERBOSE=1 to print the relative error of every fixture value. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/data.h"
#include "../../core/metrics/metric.h"
#include "../../core/tensorfile.h"
#include "test.h"

TEST(etran_fixtures) {
    pl_err err;
    for (int k = 0; tf_cases[k]; k++) {
        const char *c = tf_cases[k];
        pl_data *d = tf_load(c, 0, &err);
        ASSERT(d);
        double lda, en, want_lda = tf_expected(c, "v2.etran_lda");
        double want_en = tf_expected(c, "v2.etran_energy");
        ASSERT(isfinite(want_lda));
        ASSERT_OK(pl_etran_lda(d, NULL, &lda, &err), &err);
        ASSERT_REL(lda, want_lda, 1e-9);
        int rc = pl_etran_energy(d, NULL, &en, &err);
        if (tf_verbose())
            printf("  %-12s etran_lda rel %.2e   etran_energy %s %.2e\n", c,
                   fabs(lda - want_lda) / want_lda, isfinite(want_en) ? "rel" : "(error)",
                   isfinite(want_en) ? fabs(en - want_en) / fabs(want_en) : 0.0);
        if (isfinite(want_en)) {
            ASSERT(rc == PL_OK);
            ASSERT_REL(en, want_en, 1e-9);
        } else {
            ASSERT(rc != PL_OK && isnan(en));
            ASSERT(strstr(err.msg, "etran_energy") && strstr(err.msg, "N >= 200"));
        }
        /* through the registry too (its option check and finiteness check) */
        double v;
        ASSERT_OK(pl_metric_score("etran_lda", d, NULL, &v, &err), &err);
        ASSERT(v == lda);
        pl_data_release(d);
    }
}

/* Energies of every row by hand from the dense matrix, sorted ascending (caller frees). */
static double *row_energies(const pl_mat *x) {
    double *e = malloc(x->rows * sizeof *e);
    if (!e) return NULL;
    for (size_t i = 0; i < x->rows; i++) {
        double mx = PL_AT(x, i, 0), s = 0.0;
        for (size_t j = 1; j < x->cols; j++) mx = fmax(mx, PL_AT(x, i, j));
        for (size_t j = 0; j < x->cols; j++) s += exp(PL_AT(x, i, j) - mx);
        e[i] = mx + log(s);
    }
    for (size_t i = 1; i < x->rows; i++) /* insertion sort: small fixtures */
        for (size_t j = i; j > 0 && e[j - 1] > e[j]; j--) {
            double t = e[j];
            e[j] = e[j - 1];
            e[j - 1] = t;
        }
    return e;
}

static double mean_lowest(const double *e, size_t k) {
    double s = 0.0;
    for (size_t i = 0; i < k; i++) s += e[i];
    return s / (double)k;
}

/* The heap keeps exactly the k lowest rows (against a full sort), with the default tail and
 * with tail_min; the data are read once. */
TEST(etran_energy_tail) {
    pl_err err;
    const char *cases[] = {"wide", "blobs_small", "digits", "fmnist"};
    for (int c = 0; c < 4; c++) {
        pl_data *d = tf_load(cases[c], 0, &err);
        ASSERT(d);
        pl_mat x;
        ASSERT_OK(pl_data_dense(d, &x, &err), &err);
        double *e = row_energies(&x);
        ASSERT(e != NULL);
        size_t N = x.rows, kdef = 5 * N / 1000;
        static const char *const mins[] = {"0", "1", "3", "17"};
        for (int m = 0; m < 4; m++) {
            pl_kv kv[] = {{"tail_min", mins[m]}};
            pl_opts o = {kv, 1, 0};
            size_t k = kdef > (size_t)atoi(mins[m]) ? kdef : (size_t)atoi(mins[m]);
            double v;
            size_t before = pl_source_rows_read(pl_data_source(d));
            int rc = pl_etran_energy(d, &o, &v, &err);
            if (k == 0) {
                ASSERT_FAILS(rc, &err, "N >= 200");
                continue;
            }
            ASSERT_OK(rc, &err);
            ASSERT(pl_source_rows_read(pl_data_source(d)) - before == N);
            ASSERT_REL(v, mean_lowest(e, k), 1e-13);
        }
        /* tail_min = N: the mean of every row */
        char all[32];
        snprintf(all, sizeof all, "%zu", N);
        pl_kv kv[] = {{"tail_min", all}};
        pl_opts o = {kv, 1, 0};
        double v;
        ASSERT_OK(pl_metric_score("etran_energy", d, &o, &v, &err), &err);
        ASSERT_REL(v, mean_lowest(e, N), 1e-12);
        free(e);
        pl_mat_release(&x);
        pl_data_release(d);
    }
}

/* The exponentials skipped by the two bounds (the row's max; Jensen's mean + log D) never
 * change the result: on rows built so that the Jensen bound decides (rows at the bound, rows
 * just above it, ties), the score equals the k lowest of
 * every row's energy by hand, and has the same bits at 1 and 2 threads (rows split over threads
 * in blocks large enough to start them). */
TEST(etran_energy_bounds) {
    const size_t N = 4000, D = 512;
    double *x = malloc(N * D * sizeof *x);
    int64_t *y = malloc(N * sizeof *y);
    ASSERT(x && y);
    uint64_t s = 42;
    for (size_t i = 0; i < N; i++) {
        y[i] = (int64_t)(i % 3);
        if (i % 2) {
            /* constant rows: energy = Jensen's bound = c + log D exactly, c on a grid of 1e-6
             * (ties across rows): the tail is made of them, and a bound trusted 1e-6 too far
             * would drop some of its rows */
            double c = 1e-6 * (double)((i * 37) % 101);
            for (size_t j = 0; j < D; j++) x[i * D + j] = c;
            continue;
        }
        /* spread rows: mean on a grid, energy above Jensen's bound by about spread²/6 */
        double mean = 0.0005 * (double)((i * 31) % 17), spread = 0.05 * (double)(1 + (i * 7919) % 13);
        for (size_t j = 0; j < D; j += 2) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            double u = (double)(s >> 11) * 0x1p-53 * spread;
            x[i * D + j] = mean + u;
            if (j + 1 < D) x[i * D + j + 1] = mean - u;
        }
        if (i % 4 == 0) memcpy(x + i * D, x + (i / 2) * D, D * sizeof *x); /* repeated rows */
    }
    pl_mat m = pl_mat_wrap(x, N, D);
    double *e = row_energies(&m);
    ASSERT(e != NULL);
    pl_source *src = NULL;
    pl_data *d = NULL;
    pl_err err;
    ASSERT_OK(pl_source_from_mat(&m, "<bounds>", &src, &err), &err);
    ASSERT_OK(pl_data_new(src, y, N, "<labels>", &d, &err), &err);
    pl_source_release(src);
    int before = openblas_get_num_threads();
    double v[2];
    for (int t = 1; t <= 2; t++) {
        openblas_set_num_threads(t);
        ASSERT_OK(pl_etran_energy(d, NULL, &v[t - 1], &err), &err);
    }
    openblas_set_num_threads(before);
    ASSERT(memcmp(&v[0], &v[1], sizeof v[0]) == 0);
    ASSERT_REL(v[0], mean_lowest(e, 5 * N / 1000), 1e-13);
    free(e);
    pl_data_release(d);
    free(x);
    free(y);
}

/* A PED-moved dataset (rows read as x + Δ[y]) scores as the same features moved by hand. */
TEST(etran_moved) {
    pl_err err;
    const char *cases[] = {"overlap", "wide", "digits"};
    for (int k = 0; k < 3; k++) {
        pl_data *d = tf_load(cases[k], 0, &err), *m = NULL, *fresh = NULL;
        ASSERT(d);
        size_t C = pl_data_classes(d), D = pl_data_dim(d);
        double *shift = calloc(C * D, sizeof *shift);
        ASSERT(shift != NULL);
        uint64_t st = 7 + (uint64_t)k;
        for (size_t i = 0; i < C * D; i++) shift[i] = 0.2 * (tf_rand(&st) - 0.5);
        ASSERT_OK(pl_data_moved(d, shift, &m, &err), &err);
        pl_mat x;
        int64_t *yy;
        ASSERT_OK(tf_moved_by_hand(d, shift, &x, &yy, &err), &err);
        fresh = tf_from_mat(&x, yy, &err);
        ASSERT(fresh);
        pl_kv kv[] = {{"tail_min", "1"}};
        pl_opts o = {kv, 1, 0};
        double a, b, base;
        ASSERT_OK(pl_etran_lda(m, NULL, &a, &err), &err);
        ASSERT_OK(pl_etran_lda(fresh, NULL, &b, &err), &err);
        ASSERT_OK(pl_etran_lda(d, NULL, &base, &err), &err);
        if (tf_verbose())
            printf("  %-10s moved lda %.12f fresh %.12f base %.12f\n", cases[k], a, b, base);
        ASSERT_REL(a, b, 1e-12);
        ASSERT(a != base);
        ASSERT_OK(pl_etran_energy(m, &o, &a, &err), &err);
        ASSERT_OK(pl_etran_energy(fresh, &o, &b, &err), &err);
        ASSERT(a == b); /* both read x + Δ rounded once */
        free(yy);
        free(shift);
        pl_mat_release(&x);
        pl_data_release(fresh);
        pl_data_release(m);
        pl_data_release(d);
    }
}

/* Far from the origin: xs = x + t (t = off·sd per column, w in {1, −0.5, 2}) and xr = xs − t,
 * exact by Sterbenz, hold the same points moved: etran_lda is translation-invariant; with one
 * t for every column the energy moves by exactly t. */
TEST(etran_far) {
    pl_err err;
    pl_mat x;
    int64_t *y;
    size_t n;
    ASSERT_OK(pl_npy_load_mat(tf_path("overlap", "features.npy"), &x, &err), &err);
    ASSERT_OK(pl_npy_load_ints(tf_path("overlap", "labels.npy"), &y, &n, &err), &err);
    size_t N = x.rows, D = x.cols;
    double m = 0.0, v = 0.0;
    for (size_t i = 0; i < N * D; i++) m += x.data[i];
    m /= (double)(N * D);
    for (size_t i = 0; i < N * D; i++) v += (x.data[i] - m) * (x.data[i] - m);
    double sd = sqrt(v / (double)(N * D));
    static const double offs[] = {1e6, 1e8, 1e12}, w[3] = {1.0, -0.5, 2.0};
    for (int u = 0; u < 2; u++)
        for (size_t k = 0; k < 3; k++) {
            pl_mat xs, xr;
            ASSERT_OK(pl_mat_init(&xs, N, D, &err), &err);
            ASSERT_OK(pl_mat_init(&xr, N, D, &err), &err);
            for (size_t i = 0; i < N; i++)
                for (size_t j = 0; j < D; j++) {
                    double t = offs[k] * sd * (u ? 1.0 : w[j % 3]);
                    PL_AT(&xs, i, j) = PL_AT(&x, i, j) + t;
                    PL_AT(&xr, i, j) = PL_AT(&xs, i, j) - t;
                }
            pl_data *ds = tf_from_mat(&xs, y, &err), *dr = tf_from_mat(&xr, y, &err);
            ASSERT(ds && dr);
            double far, near;
            if (u == 0) {
                ASSERT_OK(pl_etran_lda(ds, NULL, &far, &err), &err);
                ASSERT_OK(pl_etran_lda(dr, NULL, &near, &err), &err);
                if (tf_verbose())
                    printf("  etran_lda offset %g·sd rel %.2e\n", offs[k],
                           fabs(far - near) / near);
                ASSERT_REL(far, near, 1e-9);
            } else {
                double t = offs[k] * sd;
                ASSERT_OK(pl_etran_energy(ds, NULL, &far, &err), &err);
                ASSERT_OK(pl_etran_energy(dr, NULL, &near, &err), &err);
                if (tf_verbose())
                    printf("  etran_energy offset %g·sd: far − t − near = %.3g\n", offs[k],
                           far - t - near);
                ASSERT(fabs(far - t - near) <= 1e-14 * t);
            }
            pl_data_release(ds);
            pl_data_release(dr);
            pl_mat_release(&xs);
            pl_mat_release(&xr);
        }
    pl_mat_release(&x);
    free(y);
}

/* Relabelling and shuffling the rows change nothing. */
TEST(etran_invariance) {
    pl_err err;
    pl_mat x, xp;
    int64_t *y, *yp;
    ASSERT_OK(tf_load_permuted("imbalanced", 11, &x, &y, &xp, &yp, &err), &err);
    pl_data *a = tf_from_mat(&x, y, &err), *b = tf_from_mat(&xp, yp, &err);
    ASSERT(a && b);
    double va, vb;
    ASSERT_OK(pl_etran_lda(a, NULL, &va, &err), &err);
    ASSERT_OK(pl_etran_lda(b, NULL, &vb, &err), &err);
    ASSERT_REL(vb, va, 1e-12);
    ASSERT_OK(pl_etran_energy(a, NULL, &va, &err), &err);
    ASSERT_OK(pl_etran_energy(b, NULL, &vb, &err), &err);
    ASSERT(va == vb);
    pl_data_release(a);
    pl_data_release(b);
    pl_mat_release(&x);
    pl_mat_release(&xp);
    free(y);
    free(yp);
}

TEST(etran_bad_input) {
    pl_err err;
    pl_data *d = tf_load("blobs_small", 0, &err);
    ASSERT(d);
    double v;
    static const pl_kv neg[] = {{"tail_min", "-1"}}, txt[] = {{"tail_min", "two"}},
                       big[] = {{"tail_min", "201"}}, frac[] = {{"tail_min", "1.5"}},
                       unk[] = {{"tail", "1"}};
    pl_opts o = {neg, 1, 0};
    ASSERT_FAILS(pl_metric_score("etran_energy", d, &o, &v, &err), &err, "tail_min=-1");
    o.kv = txt;
    ASSERT_FAILS(pl_metric_score("etran_energy", d, &o, &v, &err), &err, "expected an integer");
    o.kv = frac;
    ASSERT_FAILS(pl_metric_score("etran_energy", d, &o, &v, &err), &err, "expected an integer");
    o.kv = big;
    ASSERT_FAILS(pl_metric_score("etran_energy", d, &o, &v, &err), &err, "more than the 200 rows");
    o.kv = unk;
    ASSERT_FAILS(pl_metric_score("etran_energy", d, &o, &v, &err), &err, "unknown option 'tail'");
    o.kv = neg;
    ASSERT_FAILS(pl_metric_score("etran_lda", d, &o, &v, &err), &err, "unknown option");
    ASSERT_FAILS(pl_metric_score("etran", d, NULL, &v, &err), &err, "zoo-level");
    pl_data_release(d);

    /* no within-class spread: ETran's shrinkage is 0/0 (the official code gives NaN) */
    pl_mat x;
    int64_t *y;
    size_t n;
    ASSERT_OK(pl_npy_load_ints(tf_path("blobs_small", "labels.npy"), &y, &n, &err), &err);
    ASSERT_OK(pl_mat_init(&x, n, 8, &err), &err);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < 8; j++) PL_AT(&x, i, j) = 0.1 * (double)y[i] + (double)(j % 3);
    d = tf_from_mat(&x, y, &err);
    ASSERT(d);
    ASSERT_FAILS(pl_etran_lda(d, NULL, &v, &err), &err, "etran_lda: the within-class variance");
    /* the energy is still defined there */
    ASSERT_OK(pl_etran_energy(d, NULL, &v, &err), &err);
    pl_data_release(d);
    /* a constant column and a one-sample class are fine */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < 8; j++) PL_AT(&x, i, j) = j == 2 ? 5.0 : sin((double)(i * 8 + j));
    y[0] = 77;
    d = tf_from_mat(&x, y, &err);
    ASSERT(d);
    ASSERT_OK(pl_etran_lda(d, NULL, &v, &err), &err);
    ASSERT(v > 0 && v <= 1);
    pl_data_release(d);
    pl_mat_release(&x);
    free(y);
}
