/* test_logme.c — LogME: fixed point (pl_logme), ICML (pl_logme_icml), real targets
 * (pl_logme_targets).
 *
 * What pl_logme does on degenerate inputs (checked below):
 *  - a class with one sample: a finite score (that class's evidence is simply low);
 *  - a constant feature column: finite. An all-zero column is a null direction (sigma = 0),
 *    which is what the official code does in floating point; appending one leaves the score
 *    unchanged (its D/2·log α and its log α in the log-determinant cancel). A nonzero constant
 *    column is an ordinary direction;
 *  - duplicated rows: finite, nothing special;
 *  - C = 2: finite;
 *  - every feature zero: PL_ENUMERIC "evidence is not finite" (the official code returns -inf/NaN).
 * Set PL_TEST_VERBOSE=1 to print the relative error of every fixture value. */
#include <stdlib.h>

#include "../../core/data.h"
#include "../../core/linalg.h"
#include "../../core/metrics/metric.h"
#include "../../core/tensorfile.h"
#include "test.h"

#define LG_LOG2PI 1.8378770664093454836

TEST(logme_fixtures) {
    pl_err err;
    for (int k = 0; tf_cases[k]; k++) {
        const char *c = tf_cases[k];
        pl_data *d = tf_load(c, 0, &err);
        ASSERT(d);
        double v, vi, want = tf_expected(c, "logme"), wanti = tf_expected(c, "logme_icml");
        ASSERT(isfinite(want) && isfinite(wanti));
        ASSERT_OK(pl_logme(d, NULL, &v, &err), &err);
        ASSERT_OK(pl_logme_icml(d, NULL, &vi, &err), &err);
        if (tf_verbose())
            printf("  %-12s logme rel %.2e   logme_icml rel %.2e\n", c, fabs(v - want) / fabs(want),
                   fabs(vi - wanti) / fabs(wanti));
        ASSERT_REL(v, want, strcmp(c, "wide") == 0 ? 1e-7 : 1e-9);
        ASSERT_REL(vi, wanti, 1e-9);
        pl_data_release(d);
    }
}

/* One-hot targets are the classification case. */
TEST(logme_targets_onehot) {
    pl_err err;
    for (int k = 0; tf_cases[k]; k++) {
        pl_data *d = tf_load(tf_cases[k], 0, &err);
        ASSERT(d);
        size_t N = pl_data_rows(d), C = pl_data_classes(d);
        const int *y = pl_data_y(d);
        pl_mat t;
        ASSERT_OK(pl_mat_init(&t, N, C, &err), &err);
        for (size_t i = 0; i < N; i++) PL_AT(&t, i, (size_t)y[i]) = 1.0;
        double a, b;
        ASSERT_OK(pl_logme(d, NULL, &a, &err), &err);
        ASSERT_OK(pl_logme_targets(d, &t, &b, &err), &err);
        ASSERT_REL(b, a, 1e-11);
        pl_mat_release(&t);
        pl_data_release(d);
    }
}

/* Reference evidence for one target column by a different route: dense solves instead of an
 * eigenbasis. Primal (N > D): A = XᵀX + tI, m = A⁻¹Xᵀy, residual from X directly,
 * γ = D − t·tr(A⁻¹), log det(αI + βXᵀX). Dual (N <= D, thuml keeps k = N components):
 * K = XXᵀ, a = (K + tI)⁻¹y, ‖m‖² = aᵀKa, ‖y − Xm‖² = t²‖a‖², γ = N − t·tr((K + tI)⁻¹),
 * log det(αI_N + βK). Same fixed-point schedule as thuml's _fit_fixed_point. */
static int lg_reference(const pl_mat *x, const double *y, double *out, pl_err *err) {
    size_t N = x->rows, D = x->cols, n = N > D ? D : N;
    int dual = N <= D, rc = PL_OK;
    pl_mat g = {0}, a = {0}, inv = {0}, rhs = {0}, tmp = {0};
    pl_mat yv = pl_mat_wrap((double *)y, N, 1);
    if ((rc = pl_mat_init(&g, n, n, err)) || (rc = pl_mat_init(&a, n, n, err)) ||
        (rc = pl_mat_init(&inv, n, n, err)) || (rc = pl_mat_init(&rhs, n, 1, err)) ||
        (rc = pl_mat_init(&tmp, dual ? n : N, 1, err)))
        goto done;
    if (dual) rc = pl_gemm(0, 1, 1.0, x, x, 0.0, &g, err);
    else rc = pl_gemm(1, 0, 1.0, x, x, 0.0, &g, err);
    if (rc) goto done;
    double alpha = 1.0, beta = 1.0, m2 = 0.0, res2 = 0.0;
    for (int it = 0; it < 11; it++) {
        double t = alpha / beta;
        memcpy(a.data, g.data, n * n * sizeof(double));
        for (size_t i = 0; i < n; i++) PL_AT(&a, i, i) += t;
        if ((rc = pl_cholesky(&a, err))) goto done;
        memset(inv.data, 0, n * n * sizeof(double));
        for (size_t i = 0; i < n; i++) PL_AT(&inv, i, i) = 1.0;
        if ((rc = pl_cholesky_solve(&a, &inv, err))) goto done;
        double tr = 0.0;
        for (size_t i = 0; i < n; i++) tr += PL_AT(&inv, i, i);
        double gamma = (double)n - t * tr;
        if (dual) {
            memcpy(rhs.data, y, N * sizeof(double));
            if ((rc = pl_cholesky_solve(&a, &rhs, err))) goto done;
            if ((rc = pl_gemm(0, 0, 1.0, &g, &rhs, 0.0, &tmp, err))) goto done;
            m2 = 0.0;
            res2 = 0.0;
            for (size_t i = 0; i < N; i++) {
                m2 += rhs.data[i] * tmp.data[i];
                res2 += t * t * rhs.data[i] * rhs.data[i];
            }
        } else {
            if ((rc = pl_gemm(1, 0, 1.0, x, &yv, 0.0, &rhs, err))) goto done;
            if ((rc = pl_cholesky_solve(&a, &rhs, err))) goto done;
            if ((rc = pl_gemm(0, 0, 1.0, x, &rhs, 0.0, &tmp, err))) goto done;
            m2 = 0.0;
            res2 = 0.0;
            for (size_t i = 0; i < D; i++) m2 += rhs.data[i] * rhs.data[i];
            for (size_t i = 0; i < N; i++) res2 += (y[i] - tmp.data[i]) * (y[i] - tmp.data[i]);
        }
        alpha = gamma / (m2 + 1e-5);
        beta = ((double)N - gamma) / (res2 + 1e-5);
        if (fabs(alpha / beta - t) / t <= 1e-3) break;
    }
    memcpy(a.data, g.data, n * n * sizeof(double));
    for (size_t i = 0; i < n * n; i++) a.data[i] *= beta;
    for (size_t i = 0; i < n; i++) PL_AT(&a, i, i) += alpha;
    double logdet;
    if ((rc = pl_logdet_spd(&a, &logdet, err))) goto done;
    *out = ((double)D / 2.0 * log(alpha) + (double)N / 2.0 * log(beta) - 0.5 * logdet -
            beta / 2.0 * res2 - alpha / 2.0 * m2 - (double)N / 2.0 * LG_LOG2PI) / (double)N;
done:
    pl_mat_release(&g);
    pl_mat_release(&a);
    pl_mat_release(&inv);
    pl_mat_release(&rhs);
    pl_mat_release(&tmp);
    return rc;
}

TEST(logme_targets_reference) {
    pl_err err;
    const char *cases[] = {"blobs_small", "imbalanced", "wide"};
    for (int k = 0; k < 3; k++) {
        pl_data *d = tf_load(cases[k], 0, &err);
        ASSERT(d);
        pl_mat x, t;
        ASSERT_OK(pl_data_dense(d, &x, &err), &err);
        size_t N = x.rows, K = 3;
        ASSERT_OK(pl_mat_init(&t, N, K, &err), &err);
        /* a linear signal in the features plus noise, a pure-noise column, a class-ish column */
        uint64_t st = 12345;
        const int *y = pl_data_y(d);
        for (size_t i = 0; i < N; i++) {
            PL_AT(&t, i, 0) = 0.3 * PL_AT(&x, i, 0) - 0.2 * PL_AT(&x, i, 1) + tf_rand(&st) - 0.5;
            PL_AT(&t, i, 1) = 2.0 * tf_rand(&st) - 1.0;
            PL_AT(&t, i, 2) = (double)y[i] + 0.1 * tf_rand(&st);
        }
        double got, sum = 0.0;
        double *col = malloc(N * sizeof *col);
        ASSERT(col != NULL);
        for (size_t j = 0; j < K; j++) {
            for (size_t i = 0; i < N; i++) col[i] = PL_AT(&t, i, j);
            double e;
            ASSERT_OK(lg_reference(&x, col, &e, &err), &err);
            sum += e;
        }
        free(col);
        ASSERT_OK(pl_logme_targets(d, &t, &got, &err), &err);
        if (tf_verbose()) printf("  %-12s targets vs dense reference rel %.2e\n", cases[k],
                                 fabs(got - sum / 3.0) / fabs(sum / 3.0));
        ASSERT_REL(got, sum / 3.0, 1e-9);
        /* and the classification case by the same route */
        double v, ref = 0.0;
        size_t C = pl_data_classes(d);
        double *ind = calloc(N, sizeof *ind);
        ASSERT(ind != NULL);
        for (size_t c = 0; c < C; c++) {
            for (size_t i = 0; i < N; i++) ind[i] = (size_t)y[i] == c;
            double e;
            ASSERT_OK(lg_reference(&x, ind, &e, &err), &err);
            ref += e / (double)C;
        }
        free(ind);
        ASSERT_OK(pl_logme(d, NULL, &v, &err), &err);
        ASSERT_REL(v, ref, 1e-9);
        pl_mat_release(&x);
        pl_mat_release(&t);
        pl_data_release(d);
    }
}

TEST(logme_targets_errors) {
    pl_err err;
    pl_data *d = tf_load("blobs_small", 0, &err);
    ASSERT(d);
    pl_mat t;
    double v;
    ASSERT_OK(pl_mat_init(&t, 10, 1, &err), &err);
    ASSERT_FAILS(pl_logme_targets(d, &t, &v, &err), &err, "targets must be 200");
    pl_mat_release(&t);
    ASSERT_OK(pl_mat_init(&t, 200, 2, &err), &err);
    PL_AT(&t, 7, 1) = (double)NAN;
    ASSERT_FAILS(pl_logme_targets(d, &t, &v, &err), &err, "target (7, 1) is not finite");
    pl_mat_release(&t);
    pl_data_release(d);
}

static int lg_all(pl_data *d, double v[2], pl_err *err) {
    int rc = pl_logme(d, NULL, &v[0], err);
    return rc ? rc : pl_logme_icml(d, NULL, &v[1], err);
}

TEST(logme_moved) {
    pl_err err;
    const char *cases[] = {"overlap", "wide", "digits"};
    for (int k = 0; k < 3; k++) {
        pl_data *d = tf_load(cases[k], 0, &err), *z = NULL, *m = NULL, *f = NULL;
        ASSERT(d);
        size_t C = pl_data_classes(d), D = pl_data_dim(d);
        double *shift = calloc(C * D, sizeof *shift);
        ASSERT(shift != NULL);
        double base[2], zero[2], moved[2], fresh[2];
        ASSERT_OK(pl_data_moved(d, shift, &z, &err), &err);
        ASSERT_OK(lg_all(d, base, &err), &err);
        ASSERT_OK(lg_all(z, zero, &err), &err);
        ASSERT(base[0] == zero[0] && base[1] == zero[1]);
        uint64_t st = 99;
        for (size_t i = 0; i < C * D; i++) shift[i] = tf_rand(&st) - 0.5;
        ASSERT_OK(pl_data_moved(d, shift, &m, &err), &err);
        ASSERT_OK(lg_all(m, moved, &err), &err);
        pl_mat x;
        int64_t *yy;
        ASSERT_OK(tf_moved_by_hand(d, shift, &x, &yy, &err), &err);
        f = tf_from_mat(&x, yy, &err);
        ASSERT(f);
        ASSERT_OK(lg_all(f, fresh, &err), &err);
        ASSERT_REL(moved[0], fresh[0], 1e-9);
        ASSERT_REL(moved[1], fresh[1], 1e-9);
        ASSERT(fabs(moved[0] - base[0]) > 1e-6 * fabs(base[0]));
        free(yy);
        free(shift);
        pl_mat_release(&x);
        pl_data_release(f);
        pl_data_release(m);
        pl_data_release(z);
        pl_data_release(d);
    }
}

/* blobs_small as a matrix and labels, for building variants */
static int lg_blobs(pl_mat *x, int64_t **y, pl_err *err) {
    size_t n;
    int rc = pl_npy_load_mat(tf_path("blobs_small", "features.npy"), x, err);
    return rc ? rc : pl_npy_load_ints(tf_path("blobs_small", "labels.npy"), y, &n, err);
}

static int lg_score(const pl_mat *x, const int64_t *y, double v[2], pl_err *err) {
    pl_data *d = tf_from_mat(x, y, err);
    if (!d) return err->code;
    int rc = lg_all(d, v, err);
    pl_data_release(d);
    return rc;
}

TEST(logme_degenerate) {
    pl_err err;
    pl_mat x, x2;
    int64_t *y;
    double v[2], base[2];
    ASSERT_OK(lg_blobs(&x, &y, &err), &err);
    size_t N = x.rows, D = x.cols;
    ASSERT_OK(lg_score(&x, y, base, &err), &err);
    /* a class with one sample */
    int64_t y0 = y[0];
    y[0] = 99;
    ASSERT_OK(lg_score(&x, y, v, &err), &err);
    ASSERT(isfinite(v[0]) && isfinite(v[1]));
    y[0] = y0;
    /* C = 2 */
    int64_t *y2 = malloc(N * sizeof *y2);
    ASSERT(y2 != NULL);
    for (size_t i = 0; i < N; i++) y2[i] = y[i] % 2;
    ASSERT_OK(lg_score(&x, y2, v, &err), &err);
    ASSERT(isfinite(v[0]) && isfinite(v[1]));
    free(y2);
    /* a nonzero constant column */
    ASSERT_OK(pl_mat_copy(&x2, &x, &err), &err);
    for (size_t i = 0; i < N; i++) PL_AT(&x2, i, 3) = 2.5;
    ASSERT_OK(lg_score(&x2, y, v, &err), &err);
    ASSERT(isfinite(v[0]) && isfinite(v[1]));
    pl_mat_release(&x2);
    /* an appended all-zero column leaves the score unchanged (see the top of the file) */
    ASSERT_OK(pl_mat_init(&x2, N, D + 1, &err), &err);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < D; j++) PL_AT(&x2, i, j + 1) = PL_AT(&x, i, j);
    ASSERT_OK(lg_score(&x2, y, v, &err), &err);
    ASSERT_REL(v[0], base[0], 1e-12);
    ASSERT_REL(v[1], base[1], 1e-9);
    pl_mat_release(&x2);
    /* duplicated rows */
    ASSERT_OK(pl_mat_init(&x2, 2 * N, D, &err), &err);
    int64_t *yd = malloc(2 * N * sizeof *yd);
    ASSERT(yd != NULL);
    for (size_t i = 0; i < 2 * N; i++) {
        memcpy(&PL_AT(&x2, i, 0), &PL_AT(&x, i % N, 0), D * sizeof(double));
        yd[i] = y[i % N];
    }
    ASSERT_OK(lg_score(&x2, yd, v, &err), &err);
    ASSERT(isfinite(v[0]) && isfinite(v[1]));
    free(yd);
    pl_mat_release(&x2);
    /* every feature zero */
    ASSERT_OK(pl_mat_init(&x2, N, D, &err), &err);
    pl_data *d = tf_from_mat(&x2, y, &err);
    ASSERT(d);
    ASSERT_FAILS(pl_logme(d, NULL, &v[0], &err), &err, "logme: the evidence is not finite");
    ASSERT_FAILS(pl_logme_icml(d, NULL, &v[1], &err), &err, "logme_icml: the evidence is not finite");
    pl_data_release(d);
    pl_mat_release(&x2);
    pl_mat_release(&x);
    free(y);
}

/* Permuting rows and renaming classes changes nothing but rounding. */
TEST(logme_invariance) {
    pl_err err;
    const char *cases[] = {"imbalanced", "wide"};
    for (int k = 0; k < 2; k++) {
        pl_mat x, xp;
        int64_t *y, *yp;
        ASSERT_OK(tf_load_permuted(cases[k], 7, &x, &y, &xp, &yp, &err), &err);
        double a[2], b[2];
        ASSERT_OK(lg_score(&x, y, a, &err), &err);
        ASSERT_OK(lg_score(&xp, yp, b, &err), &err);
        ASSERT_REL(b[0], a[0], 1e-10);
        ASSERT_REL(b[1], a[1], 1e-10);
        free(yp);
        free(y);
        pl_mat_release(&x);
        pl_mat_release(&xp);
    }
}

/* PED's final LogME is LogME of X moved by the stored per-class displacement: the moved-dataset
 * statistics path against the official numbers (the stored displacement is a class mean of
 * per-row moves that agree to ~1e-14, hence the looser tolerance). */
/* README: closed form 1e-9, `wide` 1e-7 (achieved: 1.7e-14) */
TEST(logme_ped_displacement) { tf_check_ped_displacement(pl_logme, "ped_logme", 1e-9, 1e-7); }

/* A renamed or missing key is a failure of the check, never a case skipped. */
TEST(logme_ped_displacement_missing_key_fails) {
    fprintf(stderr, "(expected: a failure naming ped.set1.ped_logme_renamed)\n");
    tf_check_ped_displacement(pl_logme, "ped_logme_renamed", 1e-9, 1e-7);
    ASSERT(tf_failed == 1);
    tf_failed = 0;
}
