/* test_simple_metrics.c — LEEP, NCE, H-score, regularised H-score and TransRate against the
 * official implementations' outputs (tests/fixtures/<case>/expected.json), plus degenerate
 * inputs and error messages. */
#include <stdlib.h>

#include "../../core/data.h"
#include "../../core/metrics/metric.h"
#include "../../core/tensorfile.h"
#include "test.h"

/* A fixture case as a dataset with its source-model probabilities and labels attached. */
static int sm_load_case(const char *name, pl_data **out, pl_err *err) {
    *out = tf_load(name, 1, err);
    return *out ? PL_OK : err->code;
}

typedef struct {
    const char *key;      /* expected.json key */
    pl_metric_fn fn;
    double rtol;
} sm_metric;

static const sm_metric sm_metrics[] = {
    {"leep", pl_leep, 1e-9},
    {"nce", pl_nce, 1e-9},
    /* the fixtures README allows 1e-4 for pinv's cutoff on rank-deficient covariances (wide,
     * digits); achieved here: 1.2e-15 and 4.7e-14, so the closed-form level holds */
    {"hscore", pl_hscore, 1e-9},
    {"hscore_regularized", pl_hscore_reg, 1e-9},
    {"transrate", pl_transrate, 1e-9},
};
#define SM_NMETRICS (sizeof sm_metrics / sizeof sm_metrics[0])

TEST(simple_metrics_fixtures) {
    double maxrel[SM_NMETRICS] = {0};
    int bad = 0;
    for (int ci = 0; tf_cases[ci]; ci++) {
        const char *name = tf_cases[ci];
        pl_err err = {0};
        pl_data *d;
        ASSERT_OK(sm_load_case(name, &d, &err), &err);
        for (size_t k = 0; k < SM_NMETRICS; k++) {
            const sm_metric *m = &sm_metrics[k];
            double want = tf_expected(name, m->key), got = (double)NAN;
            double rtol = m->rtol;
            pl_opts o = {0};
            int rc = m->fn(d, &o, &got, &err);
            if (rc != PL_OK) {
                fprintf(stderr, "%s %s: %s\n", name, m->key, err.msg);
                bad++;
                continue;
            }
            double rel = fabs(got - want) / fabs(want);
            if (rel > maxrel[k]) maxrel[k] = rel;
            if (!(rel <= rtol)) {
                fprintf(stderr, "%s %s = %.17g, expected %.17g (rel %.2g > %g)\n", name, m->key,
                        got, want, rel, rtol);
                bad++;
            }
        }
        pl_data_release(d);
    }
    printf("simple_metrics_fixtures: max rel err");
    for (size_t k = 0; k < SM_NMETRICS; k++) printf(" %s %.2g", sm_metrics[k].key, maxrel[k]);
    printf("\n");
    ASSERT(bad == 0);
}

/* Small inputs built by formula; expected values from the official code (numpy 1.24.2, with
 * sklearn 1.2.1's Ledoit-Wolf re-typed from its source) on the same numbers. */
static double sm_probs(size_t i, size_t z) { return exp(sin((double)i * 0.77 + (double)z * 1.31) * 2); }

static int sm_make(const pl_mat *x, const int64_t *y, const int64_t *s, pl_data **out,
                   pl_err *err) {
    pl_source *src;
    size_t N = x->rows;
    int rc = pl_source_from_mat(x, "<test>", &src, err);
    if (rc) return rc;
    rc = pl_data_new(src, y, N, "<labels>", out, err);
    pl_source_release(src);
    if (rc) return rc;
    pl_mat p;
    if ((rc = pl_mat_init(&p, N, 5, err))) return rc;
    for (size_t i = 0; i < N; i++) {
        double t = 0;
        for (size_t z = 0; z < 5; z++) t += sm_probs(i, z);
        for (size_t z = 0; z < 5; z++) PL_AT(&p, i, z) = sm_probs(i, z) / t;
    }
    rc = pl_data_set_source_probs(*out, &p, "<probs>", err);
    pl_mat_release(&p);
    if (!rc) rc = pl_data_set_source_labels(*out, s, N, "<source labels>", err);
    return rc;
}

static void sm_check_all(pl_data *d, const double want[5], double hs_rtol) {
    pl_err err = {0};
    pl_opts o = {0};
    double v;
    ASSERT_OK(pl_leep(d, &o, &v, &err), &err);
    ASSERT_NEAR(v, want[0], 1e-12);
    ASSERT_OK(pl_nce(d, &o, &v, &err), &err);
    ASSERT_NEAR(v, want[1], 1e-12);
    ASSERT_OK(pl_hscore(d, &o, &v, &err), &err);
    ASSERT_NEAR(v, want[2], hs_rtol);
    ASSERT_OK(pl_hscore_reg(d, &o, &v, &err), &err);
    ASSERT_NEAR(v, want[3], 1e-9);
    ASSERT_OK(pl_transrate(d, &o, &v, &err), &err);
    ASSERT_NEAR(v, want[4], 1e-9);
}

/* N = 7 < D = 10, a constant column, two identical rows, a class with a single sample, source
 * labels that are arbitrary ids (negative, gaps). */
TEST(simple_metrics_degenerate) {
    pl_err err = {0};
    pl_mat x;
    ASSERT_OK(pl_mat_init(&x, 7, 10, &err), &err);
    for (size_t i = 0; i < 7; i++)
        for (size_t j = 0; j < 10; j++)
            PL_AT(&x, i, j) = sin(1 + (double)i * 1.3 + (double)j * 0.7) * 3 + (double)(i % 3);
    for (size_t i = 0; i < 7; i++) PL_AT(&x, i, 3) = 2.5;
    for (size_t j = 0; j < 10; j++) PL_AT(&x, 1, j) = PL_AT(&x, 0, j);
    const int64_t y[] = {0, 0, 0, 1, 1, 1, 2};
    const int64_t s[] = {-3, 7, 37, 37, 7, -3, 7};
    pl_data *d;
    ASSERT_OK(sm_make(&x, y, s, &d, &err), &err);
    pl_mat_release(&x);
    const double want[5] = {-0.5074605995777811, -0.8669179411777299, 0.9206101043868927,
                            0.8074706970521166, 6.238700094780635};
    /* the covariance has rank 3; its null eigenvalues sit ~5x below the pinv cutoff */
    sm_check_all(d, want, 1e-6);
    pl_data_release(d);
}

/* C = 2, N = 12 > D = 4. */
TEST(simple_metrics_two_classes) {
    pl_err err = {0};
    pl_mat x;
    ASSERT_OK(pl_mat_init(&x, 12, 4, &err), &err);
    for (size_t i = 0; i < 12; i++)
        for (size_t j = 0; j < 4; j++) {
            double fi = (double)i, fj = (double)j;
            PL_AT(&x, i, j) = cos(0.5 + fi * 0.9 + fj * 1.7) * 2 + (double)(i % 2) * 0.8 +
                              0.3 * sin(fi * fi * 0.37 + fj);
        }
    int64_t y[12], s[12];
    for (int64_t i = 0; i < 12; i++) {
        y[i] = i % 2;
        s[i] = (i * i) % 5 * 10 - 3;
    }
    pl_data *d;
    ASSERT_OK(sm_make(&x, y, s, &d, &err), &err);
    pl_mat_release(&x);
    const double want[5] = {-0.6880907995674236, -0.670599130180875, 0.9362340661542863,
                            0.44655816059641845, 0.10154618862918952};
    sm_check_all(d, want, 1e-9);
    pl_data_release(d);
}

/* A moved dataset scores like a dense copy of the moved rows. */
TEST(simple_metrics_moved) {
    pl_err err = {0};
    pl_data *d, *mv, *copy;
    ASSERT_OK(sm_load_case("imbalanced", &d, &err), &err);
    size_t N = pl_data_rows(d), D = pl_data_dim(d), C = pl_data_classes(d);
    double *shift = malloc(C * D * sizeof *shift);
    ASSERT(shift != NULL);
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < D; j++) shift[c * D + j] = 0.3 * sin((double)(c * 7 + j));
    ASSERT_OK(pl_data_moved(d, shift, &mv, &err), &err);
    free(shift);
    pl_mat dense;
    ASSERT_OK(pl_data_dense(mv, &dense, &err), &err);
    int64_t *y = malloc(N * sizeof *y);
    ASSERT(y != NULL);
    for (size_t i = 0; i < N; i++) y[i] = pl_data_y(d)[i];
    pl_source *src;
    ASSERT_OK(pl_source_from_mat(&dense, "<moved>", &src, &err), &err);
    ASSERT_OK(pl_data_new(src, y, N, "<labels>", &copy, &err), &err);
    pl_source_release(src);
    pl_mat_release(&dense);
    free(y);
    const pl_metric_fn fns[] = {pl_hscore, pl_hscore_reg, pl_transrate};
    pl_opts o = {0};
    for (int k = 0; k < 3; k++) {
        double a, b;
        ASSERT_OK(fns[k](mv, &o, &a, &err), &err);
        ASSERT_OK(fns[k](copy, &o, &b, &err), &err);
        ASSERT_NEAR(a, b, 1e-9);
    }
    /* LEEP and NCE see the base's source inputs */
    double a, b;
    ASSERT_OK(pl_leep(mv, &o, &a, &err), &err);
    ASSERT_OK(pl_leep(d, &o, &b, &err), &err);
    ASSERT(a == b);
    pl_data_release(copy);
    pl_data_release(mv);
    pl_data_release(d);
}

TEST(simple_metrics_errors) {
    pl_err err = {0};
    pl_mat x;
    ASSERT_OK(pl_mat_init(&x, 4, 2, &err), &err);
    for (size_t i = 0; i < 4; i++) {
        PL_AT(&x, i, 0) = (double)i;
        PL_AT(&x, i, 1) = (double)(i * i);
    }
    const int64_t y[] = {0, 1, 0, 1};
    pl_source *src;
    pl_data *d;
    ASSERT_OK(pl_source_from_mat(&x, "<x>", &src, &err), &err);
    ASSERT_OK(pl_data_new(src, y, 4, "<y>", &d, &err), &err);
    pl_source_release(src);
    pl_opts o = {0};
    double v;
    ASSERT_FAILS(pl_leep(d, &o, &v, &err), &err, "leep: needs the source model's probabilities");
    ASSERT_FAILS(pl_nce(d, &o, &v, &err), &err, "nce: needs the source model's predicted labels");

    pl_mat p;
    ASSERT_OK(pl_mat_init(&p, 4, 2, &err), &err);
    for (size_t i = 0; i < 4; i++) PL_AT(&p, i, 0) = PL_AT(&p, i, 1) = 0.5;
    PL_AT(&p, 2, 0) = 0.7;  /* row 2 sums to 1.2 */
    ASSERT_OK(pl_data_set_source_probs(d, &p, "<p>", &err), &err);
    ASSERT_FAILS(pl_leep(d, &o, &v, &err), &err, "leep: source probabilities row 3 sums to");
    PL_AT(&p, 2, 0) = 1.5;
    PL_AT(&p, 2, 1) = -0.5;  /* sums to 1 but negative */
    ASSERT_OK(pl_data_set_source_probs(d, &p, "<p>", &err), &err);
    ASSERT_FAILS(pl_leep(d, &o, &v, &err), &err, "row 3, column 2 is -0.5");
    PL_AT(&p, 2, 0) = 1.0;
    PL_AT(&p, 2, 1) = 0.0;  /* source class 1 still used by other rows: fine */
    ASSERT_OK(pl_data_set_source_probs(d, &p, "<p>", &err), &err);
    ASSERT_OK(pl_leep(d, &o, &v, &err), &err);
    ASSERT(isfinite(v) && v <= 0);
    /* a source class with no mass anywhere (official: NaN) contributes nothing */
    pl_mat p3;
    ASSERT_OK(pl_mat_init(&p3, 4, 3, &err), &err);
    for (size_t i = 0; i < 4; i++) {
        PL_AT(&p3, i, 0) = PL_AT(&p, i, 0);
        PL_AT(&p3, i, 1) = PL_AT(&p, i, 1);
    }
    double v3;
    ASSERT_OK(pl_data_set_source_probs(d, &p3, "<p3>", &err), &err);
    ASSERT_OK(pl_leep(d, &o, &v3, &err), &err);
    ASSERT_NEAR(v3, v, 1e-15);
    pl_mat_release(&p);
    pl_mat_release(&p3);

    pl_kv kv = {"eps", "0"};
    pl_opts bad = {&kv, 1, 0};
    ASSERT_FAILS(pl_transrate(d, &bad, &v, &err), &err, "transrate: option eps=0");
    pl_kv kv2 = {"eps", "1e-3"};
    pl_opts good = {&kv2, 1, 0};
    ASSERT_OK(pl_transrate(d, &good, &v, &err), &err);
    ASSERT(isfinite(v));

    /* all columns constant: nothing to explain, H-scores are 0 */
    for (size_t i = 0; i < 4; i++) PL_AT(&x, i, 0) = PL_AT(&x, i, 1) = 3.0;
    pl_data *k;
    ASSERT_OK(pl_source_from_mat(&x, "<const>", &src, &err), &err);
    ASSERT_OK(pl_data_new(src, y, 4, "<y>", &k, &err), &err);
    pl_source_release(src);
    ASSERT_OK(pl_hscore(k, &o, &v, &err), &err);
    ASSERT(v == 0.0);
    ASSERT_OK(pl_hscore_reg(k, &o, &v, &err), &err);
    ASSERT(v == 0.0);
    ASSERT_OK(pl_transrate(k, &o, &v, &err), &err);
    ASSERT(v == 0.0);
    pl_data_release(k);
    pl_data_release(d);
    pl_mat_release(&x);
}

/* ---- features far from the origin ----
 * X + o (o_j = off·sd·w_j, w_j in {1, -0.5, 2}, rounded to float64) against Xr = (X + o) − o,
 * which is exactly representable (Sterbenz), so both hold the same points up to a
 * translation and a translation-invariant metric must give the same score on both. */
static int off_pair(const char *fcase, double off, pl_mat *xs, pl_mat *xr, int64_t **y,
                    pl_err *err) {
    pl_mat x = {0};
    size_t n = 0;
    int rc;
    *y = NULL;
    if ((rc = pl_npy_load_mat(tf_path(fcase, "features.npy"), &x, err)) ||
        (rc = pl_npy_load_ints(tf_path(fcase, "labels.npy"), y, &n, err)))
        goto cleanup;
    double m = 0.0, v = 0.0, N = (double)(x.rows * x.cols);
    for (size_t i = 0; i < x.rows * x.cols; i++) m += x.data[i];
    m /= N;
    for (size_t i = 0; i < x.rows * x.cols; i++) v += (x.data[i] - m) * (x.data[i] - m);
    double sd = sqrt(v / N);
    if ((rc = pl_mat_init(xs, x.rows, x.cols, err)) || (rc = pl_mat_init(xr, x.rows, x.cols, err)))
        goto cleanup;
    static const double w[3] = {1.0, -0.5, 2.0};
    for (size_t i = 0; i < x.rows; i++)
        for (size_t j = 0; j < x.cols; j++) {
            double o = off * sd * w[j % 3];
            PL_AT(xs, i, j) = PL_AT(&x, i, j) + o;
            PL_AT(xr, i, j) = PL_AT(xs, i, j) - o;
        }
cleanup:
    pl_mat_release(&x);
    return rc;
}

/* Scores metric (with opts "k=v" pairs) on case + off·sd and on the same points at the origin.
 * Returns the status of the far copy; *near gets the reference score. */
static int off_scores(const char *metric, const pl_kv *kv, size_t nkv, const char *fcase,
                      double off, double *far, double *near, pl_err *err) {
    pl_mat xs = {0}, xr = {0};
    int64_t *y = NULL;
    pl_data *ds = NULL, *dr = NULL;
    pl_opts o = {kv, nkv, 0};
    int rc;
    *far = *near = (double)NAN;
    if ((rc = off_pair(fcase, off, &xs, &xr, &y, err))) goto cleanup;
    if (!(ds = tf_from_mat(&xs, y, err)) || !(dr = tf_from_mat(&xr, y, err))) {
        rc = err->code ? err->code : PL_EINVAL;
        goto cleanup;
    }
    if ((rc = pl_metric_score(metric, dr, &o, near, err))) {
        pl_err_prefix(err, "at the origin");
        goto cleanup;
    }
    rc = pl_metric_score(metric, ds, &o, far, err);
cleanup:
    pl_data_release(ds);
    pl_data_release(dr);
    pl_mat_release(&xs);
    pl_mat_release(&xr);
    free(y);
    return rc;
}

static const double off_levels[] = {1e6, 1e8, 1e12};

/* A translation-invariant metric: the same score within rtol at every offset. */
static void off_check_invariant(const char *metric, const pl_kv *kv, size_t nkv,
                                const char *fcase, double rtol) {
    int bad = 0;
    for (size_t k = 0; k < sizeof off_levels / sizeof off_levels[0]; k++) {
        pl_err err = {0};
        double far, near;
        int rc = off_scores(metric, kv, nkv, fcase, off_levels[k], &far, &near, &err);
        double rel = fabs(far - near) / fmax(fabs(near), 1e-300);
        if (tf_verbose())
            printf("  %-10s %-10s offset %g·sd: %.17g vs %.17g rel %.2e%s%s\n", metric, fcase,
                   off_levels[k], far, near, rel, rc ? " error: " : "", rc ? err.msg : "");
        if (rc) {
            fprintf(stderr, "%s on %s + %g·sd: %s\n", metric, fcase, off_levels[k], err.msg);
            bad++;
        } else if (!(rel <= rtol)) {
            fprintf(stderr, "%s on %s + %g·sd = %.17g, at the origin %.17g (rel %.2e > %g)\n",
                    metric, fcase, off_levels[k], far, near, rel, rtol);
            bad++;
        }
    }
    ASSERT(bad == 0);
}

TEST(offset_gbc) {
    static const pl_kv sph[] = {{"type", "spherical"}}, pca[] = {{"pca", "8"}};
    off_check_invariant("gbc", NULL, 0, "blobs_small", 1e-9);
    off_check_invariant("gbc", sph, 1, "blobs_small", 1e-9);
    off_check_invariant("gbc", pca, 1, "overlap", 1e-9);
}
TEST(offset_hscore) {
    off_check_invariant("hscore", NULL, 0, "blobs_small", 1e-9);
    off_check_invariant("hscore_reg", NULL, 0, "overlap", 1e-9);
}
TEST(offset_transrate) { off_check_invariant("transrate", NULL, 0, "imbalanced", 1e-9); }
TEST(offset_sfda) { off_check_invariant("sfda", NULL, 0, "blobs_small", 1e-8); }
TEST(offset_parc) { off_check_invariant("parc", NULL, 0, "overlap", 1e-8); }
TEST(offset_nleep) { off_check_invariant("nleep", NULL, 0, "blobs_small", 1e-8); }

/* LogME reads the raw Gram XᵀX: not translation-invariant. Far from the origin float64 cannot
 * resolve the spread against the mean in XᵀX: a clear refusal, never a silently wrong score. */
TEST(offset_logme) {
    for (size_t k = 0; k < sizeof off_levels / sizeof off_levels[0]; k++) {
        pl_err err = {0};
        double far, near;
        int rc = off_scores("logme", NULL, 0, "blobs_small", off_levels[k], &far, &near, &err);
        if (tf_verbose())
            printf("  logme offset %g·sd: %.17g vs %.17g at the origin%s%s\n", off_levels[k], far,
                   near, rc ? " error: " : "", rc ? err.msg : "");
        if (off_levels[k] >= 1e8) ASSERT(rc != PL_OK && strstr(err.msg, "far from the origin"));
    }
}
