/* t-SNE: exact vs Barnes–Hut with θ = 0 (the oracle), quality against scikit-learn 1.2's TSNE
 * (KL within 5 %, trustworthiness within 0.01; tests/fixtures/tsne/expected.json, written by
 * make_reference.py there), determinism across thread counts, and option checks. */
#include <cblas.h>
#include <stdlib.h>

#include "data.h"
#include "npy.h"
#include "test.h"
#include "tsne.h"
#include "tensorfile.h"

/* n points in d dimensions: three Gaussian-ish clusters from the LCG (no duplicates). */
static int blobs(pl_mat *x, size_t n, size_t d, pl_err *err) {
    int rc = pl_mat_init(x, n, d, err);
    if (rc) return rc;
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            PL_AT(x, i, j) = 4.0 * (double)((i % 3 == j % 3)) + tf_rand(&s) + tf_rand(&s) - 1.0;
    return PL_OK;
}

static double max_abs_diff(const pl_mat *a, const pl_mat *b) {
    double m = 0.0;
    for (size_t i = 0; i < a->rows; i++)
        for (size_t j = 0; j < a->cols; j++) m = fmax(m, fabs(PL_AT(a, i, j) - PL_AT(b, i, j)));
    return m;
}

TEST(tsne_exact_vs_bh_theta0) {
    pl_err err;
    pl_mat x = {0}, ye = {0}, yb = {0};
    ASSERT_OK(blobs(&x, 60, 5, &err), &err);
    pl_tsne_opts o;
    pl_tsne_defaults(&o);
    o.perplexity = 20.0; /* k = min(N − 1, 61) = 59: both see every pair */
    /* a few steps each side of the exaggeration's end: later, the descent's sensitivity to the
     * order of sums (1e-16) grows to the size of the embedding */
    o.max_iter = 12;
    o.exaggeration_iter = 6;
    o.theta = 0.0;
    pl_tsne_info ie, ib;
    o.exact = 1;
    ASSERT_OK(pl_tsne_matrix(&x, &o, &ye, &ie, &err), &err);
    o.exact = 0;
    ASSERT_OK(pl_tsne_matrix(&x, &o, &yb, &ib, &err), &err);
    ASSERT(ie.neighbours == 59 && ib.neighbours == 59);
    ASSERT(ie.iterations == ib.iterations);
    /* the exact form floors P at machine epsilon; otherwise the same sums in another order */
    ASSERT_REL(ib.kl, ie.kl, 1e-10);
    double scale = 0.0;
    for (size_t i = 0; i < ye.rows; i++) scale = fmax(scale, fabs(PL_AT(&ye, i, 0)));
    ASSERT(max_abs_diff(&ye, &yb) <= 1e-10 * scale);
    /* and θ = 0.5 is an approximation, not the same thing */
    pl_mat yh = {0};
    o.theta = 0.5;
    pl_tsne_info ih;
    ASSERT_OK(pl_tsne_matrix(&x, &o, &yh, &ih, &err), &err);
    ASSERT(max_abs_diff(&ye, &yh) > 1e-6 * scale);
    ASSERT_REL(ih.kl, ie.kl, 0.01);
    pl_mat_release(&x);
    pl_mat_release(&ye);
    pl_mat_release(&yb);
    pl_mat_release(&yh);
}

/* KL and trustworthiness (k = 10) of a fixture against scikit-learn's (mean of its runs). */
static void against_sklearn(const char *name, const char *path) {
    pl_err err;
    pl_mat x = {0}, y = {0};
    char kkl[128], ktw[128];
    snprintf(kkl, sizeof kkl, "cases.%s.kl", name);
    snprintf(ktw, sizeof ktw, "cases.%s.trustworthiness", name);
    double want_kl = tf_expected("tsne", kkl), want_tw = tf_expected("tsne", ktw);
    ASSERT(isfinite(want_kl) && isfinite(want_tw));
    ASSERT_OK(pl_npy_load_mat(path, &x, &err), &err);
    pl_tsne_opts o;
    pl_tsne_defaults(&o);
    pl_tsne_info info;
    ASSERT_OK(pl_tsne_matrix(&x, &o, &y, &info, &err), &err);
    double tw;
    ASSERT_OK(pl_tsne_trustworthiness(&x, &y, 10, &tw, &err), &err);
    if (tf_verbose())
        fprintf(stderr, "%s: KL %.5f (sklearn %.5f, %+.2f%%), trustworthiness %.5f (%.5f), "
                "%d steps\n", name, info.kl, want_kl, 100 * (info.kl / want_kl - 1), tw, want_tw,
                info.iterations);
    pl_mat_release(&x);
    pl_mat_release(&y);
    ASSERT_REL(info.kl, want_kl, 0.05);
    ASSERT(fabs(tw - want_tw) <= 0.01);
}

TEST(tsne_sklearn_blobs) { against_sklearn("blobs_small", tf_path("blobs_small", "features.npy")); }
TEST(tsne_sklearn_digits) { against_sklearn("digits", tf_path("digits", "features.npy")); }
TEST(tsne_sklearn_devzoo) {
    against_sklearn("byol_fmnist-rot90", tf_path("tsne", "byol_fmnist-rot90_feature.npy"));
}

/* A dataset (streamed from the .npy) gives what its dense matrix gives. */
TEST(tsne_dataset_equals_matrix) {
    pl_err err;
    pl_data *d = tf_load("blobs_small", 0, &err);
    ASSERT(d != NULL);
    pl_mat x = {0}, a = {0}, b = {0};
    pl_tsne_opts o;
    pl_tsne_defaults(&o);
    o.max_iter = 300;
    int rc = pl_data_dense(d, &x, &err);
    if (!rc) rc = pl_tsne_data(d, &o, &a, NULL, &err);
    if (!rc) rc = pl_tsne_matrix(&x, &o, &b, NULL, &err);
    pl_data_release(d);
    ASSERT_OK(rc, &err);
    ASSERT(memcmp(a.data, b.data, a.rows * 2 * sizeof(double)) == 0);
    pl_mat_release(&x);
    pl_mat_release(&a);
    pl_mat_release(&b);
}

/* Same input and seed: the same bits with 1 and 2 threads (rows split in fixed blocks). */
TEST(tsne_threads_same_bits) {
    pl_err err;
    pl_mat x = {0}, a = {0}, b = {0}, c = {0};
    ASSERT_OK(pl_npy_load_mat(tf_path("digits", "features.npy"), &x, &err), &err);
    pl_tsne_opts o;
    pl_tsne_defaults(&o);
    o.max_iter = 300;
    int threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    int rc = pl_tsne_matrix(&x, &o, &a, NULL, &err);
    openblas_set_num_threads(2);
    if (!rc) rc = pl_tsne_matrix(&x, &o, &b, NULL, &err);
    o.init = PL_TSNE_INIT_RANDOM;
    o.seed = 7;
    if (!rc) rc = pl_tsne_matrix(&x, &o, &c, NULL, &err);
    openblas_set_num_threads(threads);
    ASSERT_OK(rc, &err);
    ASSERT(memcmp(a.data, b.data, a.rows * 2 * sizeof(double)) == 0);
    ASSERT(memcmp(a.data, c.data, a.rows * 2 * sizeof(double)) != 0);
    pl_mat_release(&x);
    pl_mat_release(&a);
    pl_mat_release(&b);
    pl_mat_release(&c);
}

/* Random init draws NumPy's legacy RandomState(seed).standard_normal, times 1e-4. */
TEST(tsne_random_init_numpy) {
    pl_err err;
    pl_mat x = {0}, y = {0};
    ASSERT_OK(blobs(&x, 30, 3, &err), &err);
    pl_tsne_opts o;
    pl_tsne_defaults(&o);
    o.init = PL_TSNE_INIT_RANDOM;
    o.seed = 0;
    o.max_iter = 1;
    o.exaggeration_iter = 0;
    o.perplexity = 5;
    o.learning_rate = 1e-300; /* one step that moves nothing visible */
    ASSERT_OK(pl_tsne_matrix(&x, &o, &y, NULL, &err), &err);
    /* np.random.RandomState(0).standard_normal(2) = 1.764052345967664, 0.4001572083672233 */
    ASSERT_REL(PL_AT(&y, 0, 0), 1.764052345967664e-4, 1e-12);
    ASSERT_REL(PL_AT(&y, 0, 1), 0.4001572083672233e-4, 1e-12);
    pl_mat_release(&x);
    pl_mat_release(&y);
}

TEST(tsne_options_checked) {
    pl_err err;
    pl_mat x = {0}, y = {0};
    ASSERT_OK(blobs(&x, 20, 3, &err), &err);
    pl_tsne_opts o;
    pl_tsne_defaults(&o);
    ASSERT_FAILS(pl_tsne_matrix(&x, &o, &y, NULL, &err), &err, "perplexity = 30");
    o.perplexity = 5;
    o.theta = 1.5;
    ASSERT_FAILS(pl_tsne_matrix(&x, &o, &y, NULL, &err), &err, "theta");
    o.theta = 0.5;
    o.exaggeration_iter = 2000;
    ASSERT_FAILS(pl_tsne_matrix(&x, &o, &y, NULL, &err), &err, "exaggeration_iter");
    o.exaggeration_iter = 250;
    o.early_exaggeration = 0.5;
    ASSERT_FAILS(pl_tsne_matrix(&x, &o, &y, NULL, &err), &err, "early_exaggeration");
    o.early_exaggeration = 12;
    o.learning_rate = -1;
    ASSERT_FAILS(pl_tsne_matrix(&x, &o, &y, NULL, &err), &err, "learning_rate");
    ASSERT(y.data == NULL);
    /* rows that are all equal have no principal axis */
    pl_mat z = {0};
    ASSERT_OK(pl_mat_init(&z, 10, 3, &err), &err);
    o.learning_rate = 0;
    ASSERT_FAILS(pl_tsne_matrix(&z, &o, &y, NULL, &err), &err, "no variance");
    PL_AT(&x, 3, 1) = (double)NAN;
    ASSERT_FAILS(pl_tsne_matrix(&x, &o, &y, NULL, &err), &err, "row 4, column 2");
    pl_mat_release(&x);
    pl_mat_release(&z);
}

/* Trustworthiness on a case small enough to follow by hand, against scikit-learn's. */
TEST(tsne_trustworthiness_small) {
    pl_err err;
    pl_mat x = {0}, y = {0};
    ASSERT_OK(pl_mat_init(&x, 12, 1, &err), &err);
    ASSERT_OK(pl_mat_init(&y, 12, 1, &err), &err);
    for (size_t i = 0; i < 12; i++) PL_AT(&x, i, 0) = (double)(i * i), PL_AT(&y, i, 0) = (double)i;
    double t;
    ASSERT_OK(pl_tsne_trustworthiness(&x, &y, 2, &t, &err), &err);
    ASSERT_NEAR(t, tf_expected("tsne", "trustworthiness_small.identity"), 1e-12);
    for (size_t i = 0; i < 12; i++) PL_AT(&y, i, 0) = (double)((i * 5) % 12);
    double t2;
    ASSERT_OK(pl_tsne_trustworthiness(&x, &y, 2, &t2, &err), &err);
    ASSERT_NEAR(t2, tf_expected("tsne", "trustworthiness_small.shuffled"), 1e-12);
    ASSERT(t2 < t);
    ASSERT_FAILS(pl_tsne_trustworthiness(&x, &y, 6, &t, &err), &err, "k = 6");
    pl_mat_release(&x);
    pl_mat_release(&y);
}
