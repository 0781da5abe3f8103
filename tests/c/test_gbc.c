/* Tests of GBC (core/metrics/gbc.c) and of the PCA it uses (core/pca.c).
 *
 * GBC: per-class diagonal/spherical Gaussians, −Σ_{ordered pairs} exp(−Bhattacharyya distance).
 * Cost O(C²·D) from the class statistics; with pca=K, plus the PCA fit (O(N·D² + D³)) and one
 * O(N·D·k) pass. Degenerate inputs (one-sample class, constant column, N < D, C = 2) give
 * finite scores (variances are clamped at 1e-4 as in the official code). */
#include <stdlib.h>

#include "../../core/data.h"
#include "../../core/metrics/metric.h"
#include "../../core/tensorfile.h"
#include "../../core/pca.h"
#include "test.h"

/* an in-memory dataset from a row-major array */
static pl_data *gbc_arr(const double *x, const int64_t *y, size_t N, size_t D, pl_err *err) {
    pl_mat m = pl_mat_wrap((double *)x, N, D);
    return tf_from_mat(&m, y, err);
}

static double gbc_with(pl_data *d, const char *type, const char *pca, pl_err *err, int *rc) {
    pl_kv kv[2];
    size_t n = 0;
    if (type) kv[n++] = (pl_kv){"type", type};
    if (pca) kv[n++] = (pl_kv){"pca", pca};
    pl_opts o = {kv, n, 0};
    double s = (double)NAN;
    *rc = pl_gbc(d, &o, &s, err);
    return s;
}

TEST(gbc_fixtures) {
    static const struct {
        const char *type, *pca, *key;
    } runs[] = {{NULL, NULL, "gbc"},
                {"spherical", NULL, "gbc_spherical"},
                {"diagonal", "64", "gbc_pca64_diagonal"},
                {"spherical", "64", "gbc_pca64_spherical"}};
    pl_err err;
    for (int ci = 0; tf_cases[ci]; ci++) {
        const char *c = tf_cases[ci];
        pl_data *d = tf_load(c, 0, &err);
        if (!d) TF_FAIL("%s: %s", c, err.msg);
        for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
            int rc;
            double s = gbc_with(d, runs[r].type, runs[r].pca, &err, &rc);
            double want = tf_expected(c, runs[r].key);
            if (rc) {
                pl_data_release(d);
                TF_FAIL("%s %s: %s", c, runs[r].key, err.msg);
            }
            double rel = fabs(s - want) / fmax(fabs(want), 1e-300);
            if (tf_verbose())
                printf("  %-12s %-20s %.17g want %.17g rel %.2e\n", c, runs[r].key, s, want, rel);
            if (!(rel <= 1e-9)) {
                pl_data_release(d);
                TF_FAIL("%s %s = %.17g, expected %.17g (rel %.2e)", c, runs[r].key, s, want, rel);
            }
        }
        pl_data_release(d);
    }
}

TEST(gbc_options) {
    pl_err err;
    pl_data *d = tf_load("blobs_small", 0, &err);
    if (!d) TF_FAIL("%s", err.msg);
    int rc;
    gbc_with(d, "round", NULL, &err, &rc);
    ASSERT(rc == PL_EINVAL && strstr(err.msg, "diagonal, spherical"));
    gbc_with(d, NULL, "-3", &err, &rc);
    ASSERT(rc == PL_EINVAL && strstr(err.msg, "pca=-3"));
    /* pca larger than min(N, D) is clamped: same as pca=16 here (D = 16) */
    double a = gbc_with(d, NULL, "1000", &err, &rc);
    ASSERT(rc == PL_OK);
    double b = gbc_with(d, NULL, "16", &err, &rc);
    ASSERT(rc == PL_OK);
    ASSERT(a == b);
    ASSERT_NEAR(a, tf_expected("blobs_small", "gbc_pca64_diagonal"), 1e-9);
    /* deterministic: same bits twice */
    double c2 = gbc_with(d, "spherical", "8", &err, &rc);
    double c3 = gbc_with(d, "spherical", "8", &err, &rc);
    ASSERT(c2 == c3);
    pl_data_release(d);
}

/* one-sample class, constant column, N < D, C = 2: all finite */
TEST(gbc_degenerate) {
    pl_err err;
    enum { N = 7, D = 10 };
    double x[N * D];
    int64_t y[N] = {0, 0, 0, 1, 1, 1, 2}; /* class 2 has one sample */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            x[i * D + j] = j == 3 ? 5.0 : sin(1.0 + i * 1.7 + j * 0.31) * (1 + y[i]);
    pl_data *d = gbc_arr(x, y, N, D, &err);
    if (!d) TF_FAIL("%s", err.msg);
    const char *types[] = {"diagonal", "spherical"}, *pcas[] = {"0", "3", "64"};
    for (int t = 0; t < 2; t++)
        for (int p = 0; p < 3; p++) {
            int rc;
            double s = gbc_with(d, types[t], pcas[p], &err, &rc);
            if (rc) TF_FAIL("%s pca=%s: %s", types[t], pcas[p], err.msg);
            ASSERT(isfinite(s) && s <= 0.0);
        }
    pl_data_release(d);
    /* C = 2, identical classes: DB = 0 for each ordered pair → score −2 */
    double x2[4 * 2] = {1, 2, 3, 4, 1, 2, 3, 4};
    int64_t y2[4] = {0, 0, 1, 1};
    d = gbc_arr(x2, y2, 4, 2, &err);
    if (!d) TF_FAIL("%s", err.msg);
    int rc;
    ASSERT_NEAR(gbc_with(d, NULL, NULL, &err, &rc), -2.0, 1e-15);
    ASSERT(rc == PL_OK);
    pl_data_release(d);
}

/* PCA: explained variance ratios and the 0.8 rule against scikit-learn 1.2.1 on digits
 * (PCA(n_components=0.8) keeps 13 components there, 9 on blobs_small, 44 on overlap). */
TEST(gbc_pca_basics) {
    pl_err err;
    static const struct {
        const char *c;
        size_t k;
    } want[] = {{"blobs_small", 9}, {"overlap", 44}, {"wide", 21}, {"imbalanced", 21},
                {"digits", 13}, {"fmnist", 13}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        pl_data *d = tf_load(want[i].c, 0, &err);
        if (!d) TF_FAIL("%s", err.msg);
        pl_pca p;
        ASSERT_OK(pl_pca_fit(d, 0, &p, &err), &err);
        double sum = 0.0;
        for (size_t j = 0; j < p.nall; j++) {
            sum += p.ratio[j];
            if (j) ASSERT(p.variance[j] <= p.variance[j - 1]);
        }
        ASSERT(fabs(sum - 1.0) < 1e-12);
        size_t k = pl_pca_count_for_ratio(&p, 0.8);
        if (k != want[i].k)
            TF_FAIL("%s: kept %zu components, expected %zu", want[i].c, k, want[i].k);
        /* flipped scores: in each column the largest |score| is positive */
        ASSERT_OK(pl_pca_keep(&p, k, &err), &err);
        pl_mat t;
        ASSERT_OK(pl_pca_transform(&p, d, 1, &t, &err), &err);
        for (size_t a = 0; a < t.cols; a++) {
            double best = 0.0, v = 0.0;
            for (size_t r = 0; r < t.rows; r++)
                if (fabs(PL_AT(&t, r, a)) > best) {
                    best = fabs(PL_AT(&t, r, a));
                    v = PL_AT(&t, r, a);
                }
            ASSERT(v > 0.0);
        }
        ASSERT_FAILS(pl_pca_keep(&p, p.nall + 1, &err), &err, "available");
        pl_mat_release(&t);
        pl_pca_release(&p);
        pl_data_release(d);
    }
}

/* A moved dataset (PED) scores like the same features materialised. */
TEST(gbc_moved_dataset) {
    pl_err err;
    pl_mat x;
    int64_t *y;
    size_t n;
    ASSERT_OK(pl_npy_load_mat(tf_path("imbalanced", "features.npy"), &x, &err), &err);
    ASSERT_OK(pl_npy_load_ints(tf_path("imbalanced", "labels.npy"), &y, &n, &err), &err);
    pl_data *base = gbc_arr(x.data, y, x.rows, x.cols, &err);
    if (!base) TF_FAIL("%s", err.msg);
    size_t C = pl_data_classes(base), D = x.cols;
    double *shift = calloc(C * D, sizeof(double));
    ASSERT(shift != NULL);
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < D; j++) shift[c * D + j] = 0.3 * sin((double)(c * 7 + j));
    pl_data *moved = NULL;
    ASSERT_OK(pl_data_moved(base, shift, &moved, &err), &err);
    for (size_t i = 0; i < x.rows; i++)
        for (size_t j = 0; j < D; j++) PL_AT(&x, i, j) += shift[(size_t)y[i] * D + j];
    pl_data *direct = gbc_arr(x.data, y, x.rows, x.cols, &err);
    if (!direct) TF_FAIL("%s", err.msg);
    const char *pcas[] = {NULL, "8"};
    for (int p = 0; p < 2; p++) {
        int rc1, rc2;
        double a = gbc_with(moved, NULL, pcas[p], &err, &rc1);
        double b = gbc_with(direct, NULL, pcas[p], &err, &rc2);
        ASSERT(rc1 == PL_OK && rc2 == PL_OK);
        ASSERT_NEAR(a, b, 1e-10);
    }
    pl_data_release(moved);
    pl_data_release(direct);
    pl_data_release(base);
    free(shift);
    free(y);
    pl_mat_release(&x);
}
