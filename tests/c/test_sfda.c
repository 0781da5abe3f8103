/* test_sfda.c — SFDA (pl_sfda, pl_sfda_run, pl_sfda_iterative_a).
 *
 * What pl_sfda does on degenerate inputs (checked below):
 *  - a class with one sample: finite (its covariance is zero, weighted by its tiny prior);
 *  - a constant feature column: finite (the shrinkage puts s·trace(Sw)/D on its diagonal; the
 *    column's huge coefficients are the same for every class and cancel in the softmax);
 *  - duplicated rows: finite, nothing special;
 *  - C = 2: finite (the outer-class mean is the other class's mean);
 *  - every feature constant within its class (Sw = 0, e.g. all zero), or a within-class
 *    variance below 1e-10 × the mean squared row norm (Sw from the raw Gram would be rounding
 *    noise): PL_ENUMERIC "sfda: the within-class variance is too small" (the official code
 *    returns NaN for Sw = 0).
 * The caller's data is never modified (the official SFDA_Score overwrites X).
 * Set PL_TEST_VERBOSE=1 to print the relative error of every fixture value. */
#include <stdlib.h>

#include "../../core/data.h"
#include "../../core/metrics/metric.h"
#include "../../core/metrics/sfda.h"
#include "../../core/tensorfile.h"
#include "test.h"

TEST(sfda_fixtures) {
    pl_err err;
    for (int k = 0; tf_cases[k]; k++) {
        const char *c = tf_cases[k];
        pl_data *d = tf_load(c, 0, &err);
        ASSERT(d);
        double v, s, v2, want = tf_expected(c, "sfda"), wants = tf_expected(c, "sfda_shrinkage");
        ASSERT(isfinite(want) && isfinite(wants));
        ASSERT_OK(pl_sfda_run(d, &v, &s, &err), &err);
        ASSERT_OK(pl_sfda(d, NULL, &v2, &err), &err);
        ASSERT(v == v2);
        if (tf_verbose())
            printf("  %-12s sfda rel %.2e   sfda_shrinkage rel %.2e\n", c,
                   fabs(v - want) / fabs(want), fabs(s - wants) / fabs(wants));
        ASSERT_REL(v, want, strcmp(c, "wide") == 0 ? 1e-5 : 1e-7);
        ASSERT_REL(s, wants, 1e-9);
        pl_data_release(d);
    }
}

TEST(sfda_iterative_a) {
    pl_err err;
    double v;
    /* the row sums of [[2,1],[1,2]] are an eigenvector: exactly the eigenvalue 3 */
    double a1[4] = {2, 1, 1, 2};
    pl_mat m1 = pl_mat_wrap(a1, 2, 2);
    ASSERT_OK(pl_sfda_iterative_a(&m1, 3, &v, &err), &err);
    ASSERT_REL(v, 3.0, 1e-15);
    /* diag(10, 1, 0.1): start (10, 1, 0.1); after 3 rounds x ∝ (10^7, 1, 10^-7) and
     * y ∝ (10^6, 1, 10^-6), so xᵀAy = (10^14 + 1 + 10^-14) / (‖x‖‖y‖) */
    double a2[9] = {10, 0, 0, 0, 1, 0, 0, 0, 0.1};
    pl_mat m2 = pl_mat_wrap(a2, 3, 3);
    ASSERT_OK(pl_sfda_iterative_a(&m2, 3, &v, &err), &err);
    double want = (1e14 + 1 + 1e-14) / (sqrt(1e14 + 1 + 1e-14) * sqrt(1e12 + 1 + 1e-12));
    ASSERT_REL(v, want, 1e-13);
    double a3[4] = {0, 0, 0, 0};
    pl_mat m3 = pl_mat_wrap(a3, 2, 2);
    ASSERT_FAILS(pl_sfda_iterative_a(&m3, 3, &v, &err), &err, "vanished");
}

static int sf_score(const pl_mat *x, const int64_t *y, double *v, pl_err *err) {
    pl_data *d = tf_from_mat(x, y, err);
    if (!d) return err->code;
    int rc = pl_sfda(d, NULL, v, err);
    pl_data_release(d);
    return rc;
}

TEST(sfda_moved) {
    pl_err err;
    const char *cases[] = {"overlap", "wide", "digits"};
    for (int k = 0; k < 3; k++) {
        pl_data *d = tf_load(cases[k], 0, &err), *z = NULL, *m = NULL;
        ASSERT(d);
        size_t C = pl_data_classes(d), D = pl_data_dim(d);
        double *shift = calloc(C * D, sizeof *shift);
        ASSERT(shift != NULL);
        double base, zero, moved, fresh;
        ASSERT_OK(pl_data_moved(d, shift, &z, &err), &err);
        ASSERT_OK(pl_sfda(d, NULL, &base, &err), &err);
        ASSERT_OK(pl_sfda(z, NULL, &zero, &err), &err);
        ASSERT(base == zero);
        uint64_t st = 99;
        for (size_t i = 0; i < C * D; i++) shift[i] = 0.2 * (tf_rand(&st) - 0.5);
        ASSERT_OK(pl_data_moved(d, shift, &m, &err), &err);
        ASSERT_OK(pl_sfda(m, NULL, &moved, &err), &err);
        pl_mat x;
        int64_t *yy;
        ASSERT_OK(tf_moved_by_hand(d, shift, &x, &yy, &err), &err);
        ASSERT_OK(sf_score(&x, yy, &fresh, &err), &err);
        if (tf_verbose())
            printf("  %-12s moved vs fresh rel %.2e (moved %.6f, base %.6f)\n", cases[k],
                   fabs(moved - fresh) / fresh, moved, base);
        ASSERT_REL(moved, fresh, strcmp(cases[k], "wide") == 0 ? 1e-5 : 1e-7);
        ASSERT(moved != base);
        free(yy);
        free(shift);
        pl_mat_release(&x);
        pl_data_release(m);
        pl_data_release(z);
        pl_data_release(d);
    }
}

/* The caller's rows read the same before and after scoring. */
TEST(sfda_no_mutation) {
    pl_err err;
    pl_mat x;
    int64_t *y;
    size_t n;
    ASSERT_OK(pl_npy_load_mat(tf_path("blobs_small", "features.npy"), &x, &err), &err);
    ASSERT_OK(pl_npy_load_ints(tf_path("blobs_small", "labels.npy"), &y, &n, &err), &err);
    pl_data *d = tf_from_mat(&x, y, &err);
    ASSERT(d);
    double v, *row = malloc(x.rows * x.cols * sizeof *row);
    ASSERT_OK(pl_sfda(d, NULL, &v, &err), &err);
    ASSERT_OK(pl_data_read(d, 0, x.rows, row, &err), &err);
    ASSERT(memcmp(row, x.data, x.rows * x.cols * sizeof *row) == 0);
    free(row);
    pl_data_release(d);
    pl_mat_release(&x);
    free(y);
}

TEST(sfda_degenerate) {
    pl_err err;
    pl_mat x, x2;
    int64_t *y;
    size_t n;
    double v;
    ASSERT_OK(pl_npy_load_mat(tf_path("blobs_small", "features.npy"), &x, &err), &err);
    ASSERT_OK(pl_npy_load_ints(tf_path("blobs_small", "labels.npy"), &y, &n, &err), &err);
    size_t N = x.rows, D = x.cols;
    /* a class with one sample */
    int64_t y0 = y[0];
    y[0] = 99;
    ASSERT_OK(sf_score(&x, y, &v, &err), &err);
    ASSERT(isfinite(v) && v > 0 && v <= 1);
    y[0] = y0;
    /* C = 2 */
    int64_t *y2 = malloc(N * sizeof *y2);
    ASSERT(y2 != NULL);
    for (size_t i = 0; i < N; i++) y2[i] = y[i] % 2;
    ASSERT_OK(sf_score(&x, y2, &v, &err), &err);
    ASSERT(isfinite(v) && v > 0 && v <= 1);
    free(y2);
    /* a constant column (zero and nonzero) */
    ASSERT_OK(pl_mat_copy(&x2, &x, &err), &err);
    for (size_t i = 0; i < N; i++) PL_AT(&x2, i, 3) = 2.5;
    ASSERT_OK(sf_score(&x2, y, &v, &err), &err);
    ASSERT(isfinite(v) && v > 0 && v <= 1);
    for (size_t i = 0; i < N; i++) PL_AT(&x2, i, 3) = 0.0;
    ASSERT_OK(sf_score(&x2, y, &v, &err), &err);
    ASSERT(isfinite(v) && v > 0 && v <= 1);
    pl_mat_release(&x2);
    /* duplicated rows */
    ASSERT_OK(pl_mat_init(&x2, 2 * N, D, &err), &err);
    int64_t *yd = malloc(2 * N * sizeof *yd);
    ASSERT(yd != NULL);
    for (size_t i = 0; i < 2 * N; i++) {
        memcpy(&PL_AT(&x2, i, 0), &PL_AT(&x, i % N, 0), D * sizeof(double));
        yd[i] = y[i % N];
    }
    ASSERT_OK(sf_score(&x2, yd, &v, &err), &err);
    ASSERT(isfinite(v) && v > 0 && v <= 1);
    free(yd);
    pl_mat_release(&x2);
    /* no within-class scatter at all */
    ASSERT_OK(pl_mat_init(&x2, N, D, &err), &err);
    ASSERT_FAILS(sf_score(&x2, y, &v, &err), &err, "sfda: the within-class variance is too small");
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < D; j++) PL_AT(&x2, i, j) = (double)(y[i] * 3 + (int64_t)j % 5);
    ASSERT_FAILS(sf_score(&x2, y, &v, &err), &err, "within-class variance is too small");
    pl_mat_release(&x2);
    pl_mat_release(&x);
    free(y);
}

TEST(sfda_invariance) {
    pl_err err;
    const char *cases[] = {"imbalanced", "wide"};
    for (int k = 0; k < 2; k++) {
        pl_mat x, xp;
        int64_t *y, *yp;
        ASSERT_OK(tf_load_permuted(cases[k], 7, &x, &y, &xp, &yp, &err), &err);
        double a, b;
        ASSERT_OK(sf_score(&x, y, &a, &err), &err);
        ASSERT_OK(sf_score(&xp, yp, &b, &err), &err);
        ASSERT_REL(b, a, strcmp(cases[k], "wide") == 0 ? 1e-6 : 1e-10);
        free(yp);
        free(y);
        pl_mat_release(&x);
        pl_mat_release(&xp);
    }
}

/* PED's final SFDA is SFDA of X moved by the stored per-class displacement (see
 * logme_ped_displacement). */
/* README: 1e-7, `wide` ~1e-5 (achieved: 1.5e-15 everywhere, wide 3.4e-16) */
TEST(sfda_ped_displacement) { tf_check_ped_displacement(pl_sfda, "ped_sfda", 1e-7, 1e-7); }
