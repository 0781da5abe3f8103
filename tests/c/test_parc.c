/* Tests of PARC (core/metrics/parc.c).
 *
 * PARC: PCA to `dims` components (sklearn 1.2 signs), standardise, 1 − corrcoef between samples,
 * Spearman against the same/different-class label RDM, ×100. Cost O(N·D² + D³) for the PCA,
 * O(N²·k) for the correlations per visit of the pairs, O(N² log N) time and bounded memory for
 * the ranking (range by range); N > 15000 is subsampled per class. Degenerate: one-sample
 * class, constant column, N < D and C = 2 are finite; dims > min(N, D) and a single class are
 * errors. */
#include <stdlib.h>

#include "../../core/data.h"
#include "../../core/metrics/metric.h"
#include "../../core/pca.h"
#include "test.h"

/* an in-memory dataset from a row-major array */
static pl_data *parc_arr(const double *x, const int64_t *y, size_t N, size_t D, pl_err *err) {
    pl_mat m = pl_mat_wrap((double *)x, N, D);
    return tf_from_mat(&m, y, err);
}

/* deterministic values in [-1, 1), mirrored in the Python check behind parc_degenerate's value */
static double parc_noise(int i) {
    uint32_t h = (uint32_t)i * 2654435761u + 12345u;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    return (double)(h % 20000u) / 10000.0 - 1.0;
}

static int parc_run(pl_data *d, const char *dims, double *out, pl_err *err) {
    pl_kv kv[1] = {{"dims", dims}};
    pl_opts o = {kv, dims ? 1 : 0, 0};
    return pl_parc(d, &o, out, err);
}

/* parc_full (32 dims) and, for D < 32, parc_full_clamped (dims = D). The fixture `wide` (C = 5)
 * carries reference-BLAS rounding in its label RDM (see parc.c): 0.8 % away; the other cases
 * agree to ~1e-11. */
TEST(parc_fixtures) {
    pl_err err;
    for (int ci = 0; tf_cases[ci]; ci++) {
        const char *c = tf_cases[ci];
        pl_data *d = tf_load(c, 0, &err);
        if (!d) TF_FAIL("%s: %s", c, err.msg);
        size_t D = pl_data_dim(d);
        double s, want, tol = strcmp(c, "wide") == 0 ? 1e-2 : 1e-9;
        int rc;
        char dims[16];
        if (D < 32) {
            snprintf(dims, sizeof dims, "%zu", D);
            rc = parc_run(d, dims, &s, &err);
            want = tf_expected(c, "parc_full_clamped");
        } else {
            rc = parc_run(d, NULL, &s, &err);
            want = tf_expected(c, "parc_full");
        }
        pl_data_release(d);
        if (rc) TF_FAIL("%s: %s", c, err.msg);
        double rel = fabs(s - want) / fabs(want);
        if (tf_verbose())
            printf("  %-12s parc %.17g want %.17g rel %.2e\n", c, s, want, rel);
        if (!(rel <= tol)) TF_FAIL("%s: parc = %.17g, expected %.17g (rel %.2e)", c, s, want, rel);
    }
}

TEST(parc_errors) {
    pl_err err;
    double s;
    pl_data *d = tf_load("blobs_small", 0, &err);
    if (!d) TF_FAIL("%s", err.msg);
    ASSERT_FAILS(parc_run(d, NULL, &s, &err), &err,
                 "parc: needs min(N, D) >= 32 for 32 PCA dims; got N=200, D=16; pass parc:dims=16");
    ASSERT_FAILS(parc_run(d, "1", &s, &err), &err, "dims=1");
    ASSERT_FAILS(parc_run(d, "x", &s, &err), &err, "dims=x");
    ASSERT_OK(parc_run(d, "8", &s, &err), &err);
    double s2;
    ASSERT_OK(parc_run(d, "8", &s2, &err), &err);
    ASSERT(s == s2 && isfinite(s));
    pl_data_release(d);
}

/* one-sample class, constant column, N < D, C = 2 */
TEST(parc_degenerate) {
    pl_err err;
    enum { N = 9, D = 12 };
    double x[N * D], s;
    int64_t y[N] = {0, 0, 0, 1, 1, 1, 1, 1, 2};
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            x[i * D + j] = j == 5 ? 3.0 : parc_noise(i * D + j) + 0.5 * y[i];
    pl_data *d = parc_arr(x, y, N, D, &err);
    if (!d) TF_FAIL("%s", err.msg);
    ASSERT_OK(parc_run(d, "4", &s, &err), &err);
    /* scipy on PED's steps with the two-valued label RDM (PED's np.corrcoef label RDM carries
     * C = 3 rounding here and gives 32.964682880918915) */
    ASSERT_NEAR(s, 31.453472023997296, 1e-9);
    ASSERT_FAILS(parc_run(d, "10", &s, &err), &err, "pass parc:dims=9");
    pl_data_release(d);
    /* C = 2 with perfectly separated classes: positive score */
    double x2[8 * 3];
    int64_t y2[8] = {0, 1, 0, 1, 0, 1, 0, 1};
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 3; j++)
            x2[i * 3 + j] = (y2[i] ? 5.0 : -5.0) * (j == 0) + 0.1 * sin(i * 3.1 + j);
    d = parc_arr(x2, y2, 8, 3, &err);
    if (!d) TF_FAIL("%s", err.msg);
    ASSERT_OK(parc_run(d, "3", &s, &err), &err);
    ASSERT(s > 0.0 && s <= 100.0);
    pl_data_release(d);
}

/* A small generic case against PED's own steps: x (6×3) below, y = [0,0,1,1,1,0], dims = 3:
 * PED's PARC(n_dims=3) with full-SVD PCA (scikit-learn 1.2.1, scipy 1.10.1) gives
 * 69.29348671835831 (15 distinct pair values; C = 2 has an exact label RDM). */
TEST(parc_small_exact) {
    pl_err err;
    double x[] = {0, 1, 2, 1, 0, -1, 1, 1.5, 0.3, 3, -1, 0.5, 2, 2, -2, 0.5, -0.7, 1.1}, s;
    int64_t y[] = {0, 0, 1, 1, 1, 0};
    pl_data *d = parc_arr(x, y, 6, 3, &err);
    if (!d) TF_FAIL("%s", err.msg);
    ASSERT_OK(parc_run(d, "3", &s, &err), &err);
    pl_data_release(d);
    ASSERT_NEAR(s, 69.29348671835831, 1e-12);
}

/* ---- more pairs than one range holds ---- */

typedef struct {
    double v;
    int cross;
} parc_pair;

static int parc_pair_cmp(const void *a, const void *b) {
    double x = ((const parc_pair *)a)->v, z = ((const parc_pair *)b)->v;
    return (x > z) - (x < z);
}

/* The textbook computation: PCA scores standardised as PARC does, every pair value kept,
 * sorted, average ranks of tied groups, Pearson correlation of the ranks with "cross-class". */
static double parc_textbook(pl_data *d, size_t k, pl_err *err) {
    pl_pca p;
    pl_mat t = {0};
    memset(&p, 0, sizeof p);
    size_t N = pl_data_rows(d);
    const int *y = pl_data_y(d);
    if (pl_pca_fit(d, k, &p, err) || pl_pca_transform(&p, d, 1, &t, err)) return (double)NAN;
    for (size_t j = 0; j < k; j++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < N; i++) m += PL_AT(&t, i, j);
        m /= (double)N;
        for (size_t i = 0; i < N; i++) v += (PL_AT(&t, i, j) - m) * (PL_AT(&t, i, j) - m);
        double sd = sqrt(v / (double)N);
        for (size_t i = 0; i < N; i++) PL_AT(&t, i, j) = (PL_AT(&t, i, j) - m) / sd;
    }
    for (size_t i = 0; i < N; i++) {
        double m = 0, s = 0;
        for (size_t j = 0; j < k; j++) m += PL_AT(&t, i, j);
        m /= (double)k;
        for (size_t j = 0; j < k; j++) s += (PL_AT(&t, i, j) - m) * (PL_AT(&t, i, j) - m);
        for (size_t j = 0; j < k; j++) PL_AT(&t, i, j) = (PL_AT(&t, i, j) - m) / sqrt(s);
    }
    size_t M = N * (N - 1) / 2, w = 0;
    parc_pair *v = malloc(M * sizeof *v);
    if (!v) return (double)NAN;
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++) {
            double c = 0;
            for (size_t q = 0; q < k; q++) c += PL_AT(&t, i, q) * PL_AT(&t, j, q);
            v[w].v = 1.0 - (c > 1 ? 1 : c < -1 ? -1 : c);
            v[w++].cross = y[i] != y[j];
        }
    qsort(v, M, sizeof *v, parc_pair_cmp);
    double sr = 0, sx = 0, srr = 0, srx = 0;
    for (size_t a = 0; a < M;) {
        size_t b = a;
        while (b < M && v[b].v == v[a].v) b++;
        double rank = 0.5 * ((double)a + 1 + (double)b);   /* average of a+1 .. b */
        for (size_t i = a; i < b; i++) {
            sr += rank;
            srr += rank * rank;
            sx += v[i].cross;
            srx += rank * v[i].cross;
        }
        a = b;
    }
    double n = (double)M;
    double cov = srx - sr * sx / n, vr = srr - sr * sr / n, vx = sx - sx * sx / n;
    free(v);
    pl_mat_release(&t);
    pl_pca_release(&p);
    return 100.0 * cov / sqrt(vr * vx);
}

/* 4300 samples: 9.2M pair values, more than one range holds (8M), so the pairs are visited
 * three times; a quarter of the samples repeat others (exact ties). */
TEST(parc_ranges_textbook) {
    pl_err err;
    enum { N = 4300, D = 40, C = 20 };
    double *x = malloc((size_t)N * D * sizeof *x), s;
    int64_t *y = malloc(N * sizeof *y);
    ASSERT(x && y);
    uint64_t st = 7;
    for (int i = 0; i < N; i++) {
        y[i] = i % C;
        for (int j = 0; j < D; j++)
            x[i * D + j] = i % 4 == 3 ? x[(i - 3) * D + j]
                                      : tf_rand(&st) + 0.3 * (double)(y[i] == j % C);
    }
    pl_data *d = parc_arr(x, y, N, D, &err);
    if (!d) TF_FAIL("%s", err.msg);
    ASSERT_OK(parc_run(d, "16", &s, &err), &err);
    double want = parc_textbook(d, 16, &err);
    if (tf_verbose()) printf("  parc %.17g textbook %.17g\n", s, want);
    ASSERT(isfinite(want));
    ASSERT_NEAR(s, want, 1e-9);
    pl_data_release(d);
    free(x);
    free(y);
}
