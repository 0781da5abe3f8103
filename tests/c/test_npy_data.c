/* Tests of the .npy reader/writer, sources, labels, datasets and statistics. */
#include <stdlib.h>
#include <unistd.h>

#include "../../core/data.h"
#include "../../core/linalg.h"
#include "../../core/io.h"
#include "../../core/metrics/metric.h"
#include "../../core/tensorfile.h"
#include "test.h"

TEST(npy_load_fixture) {
    pl_err err;
    pl_mat m;
    ASSERT_OK(pl_npy_load_mat(tf_path("blobs_small", "features.npy"), &m, &err), &err);
    ASSERT(m.rows == 200 && m.cols == 16);
    pl_mat means;
    ASSERT_OK(pl_npy_load_mat(tf_path("blobs_small", "class_means.npy"), &means, &err), &err);
    int64_t *y;
    size_t n;
    ASSERT_OK(pl_npy_load_ints(tf_path("blobs_small", "labels.npy"), &y, &n, &err), &err);
    ASSERT(n == 200);
    double s0 = 0;
    size_t c0 = 0;
    for (size_t i = 0; i < n; i++)
        if (y[i] == 0) { s0 += PL_AT(&m, i, 3); c0++; }
    ASSERT_NEAR(s0 / (double)c0, PL_AT(&means, 0, 3), 1e-12);
    free(y);
    pl_mat_release(&m);
    pl_mat_release(&means);
    pl_mat_release(&m); /* idempotent */
}

static void write_bytes(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

static size_t make_npy(unsigned char *buf, const char *dict, const void *data, size_t dlen) {
    size_t len = strlen(dict), hlen = len + 1, total = 10 + hlen;
    size_t pad = (16 - total % 16) % 16;
    hlen += pad;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hlen & 0xff);
    buf[9] = (unsigned char)(hlen >> 8);
    memcpy(buf + 10, dict, len);
    memset(buf + 10 + len, ' ', pad);
    buf[10 + len + pad] = '\n';
    memcpy(buf + 10 + hlen, data, dlen);
    return 10 + hlen + dlen;
}

TEST(npy_dtypes_orders) {
    pl_err err;
    unsigned char buf[512];
    char path[] = "/tmp/pl_test_npyXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    /* big-endian int16 2x2 in Fortran order: [[1, 2], [3, 4]] stored column-major */
    unsigned char be[] = {0, 1, 0, 3, 0, 2, 0, 4};
    size_t n = make_npy(buf, "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 2), }", be, 8);
    write_bytes(path, buf, n);
    pl_mat m;
    ASSERT_OK(pl_npy_load_mat(path, &m, &err), &err);
    ASSERT(PL_AT(&m, 0, 0) == 1 && PL_AT(&m, 0, 1) == 2 && PL_AT(&m, 1, 0) == 3 && PL_AT(&m, 1, 1) == 4);
    pl_mat_release(&m);
    float f[3] = {1.5f, -2.0f, 3.25f};
    n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f, sizeof f);
    write_bytes(path, buf, n);
    ASSERT_OK(pl_npy_load_mat(path, &m, &err), &err);
    ASSERT(m.rows == 3 && m.cols == 1 && PL_AT(&m, 2, 0) == 3.25);
    pl_mat_release(&m);
    unsigned char b[4] = {1, 0, 1, 1};
    n = make_npy(buf, "{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", b, 4);
    write_bytes(path, buf, n);
    int64_t *y;
    size_t ny;
    ASSERT_OK(pl_npy_load_ints(path, &y, &ny, &err), &err);
    ASSERT(ny == 4 && y[0] == 1 && y[1] == 0);
    free(y);
    remove(path);
}

TEST(npy_bad_inputs) {
    pl_err err;
    unsigned char buf[512];
    char path[] = "/tmp/pl_test_npyXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    double d[2] = {1, 2};
    pl_mat m;
    size_t n = make_npy(buf, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", d, 16);
    write_bytes(path, buf, n);
    ASSERT_FAILS(pl_npy_load_mat(path, &m, &err), &err, "never unpickles");
    n = make_npy(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", d, 16);
    write_bytes(path, buf, n);
    ASSERT_FAILS(pl_npy_load_mat(path, &m, &err), &err, "truncated");
    n = make_npy(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }", d, 16);
    write_bytes(path, buf, n);
    ASSERT_FAILS(pl_npy_load_mat(path, &m, &err), &err, "overflows");
    n = make_npy(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", d, 16);
    write_bytes(path, buf, n);
    ASSERT_FAILS(pl_npy_load_mat(path, &m, &err), &err, "truncated");
    n = make_npy(buf, "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }", d, 16);
    write_bytes(path, buf, n);
    ASSERT_FAILS(pl_npy_load_mat(path, &m, &err), &err, "fortran_order");
    n = make_npy(buf, "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", d, 16);
    write_bytes(path, buf, n);
    ASSERT_FAILS(pl_npy_load_mat(path, &m, &err), &err, "unsupported dtype");
    write_bytes(path, "\x93NUMPY\x01\x00\xff", 9);
    ASSERT_FAILS(pl_npy_load_mat(path, &m, &err), &err, "not a .npy");
    ASSERT(pl_npy_load_mat("/nonexistent/x.npy", &m, &err) == PL_ENOENT);
    remove(path);
}

TEST(npy_roundtrip_atomic) {
    pl_err err;
    pl_mat m, back;
    ASSERT_OK(pl_mat_init(&m, 3, 2, &err), &err);
    for (int i = 0; i < 6; i++) m.data[i] = i * 0.5 - 1;
    const char *path = "/tmp/pl_test_roundtrip.npy";
    ASSERT_OK(pl_npy_save_mat(path, &m, &err), &err);
    ASSERT_OK(pl_npy_load_mat(path, &back, &err), &err);
    ASSERT(back.rows == 3 && back.cols == 2);
    for (int i = 0; i < 6; i++) ASSERT(back.data[i] == m.data[i]);
    pl_mat_release(&back);
    pl_mat_release(&m);
    remove(path);
    ASSERT_FAILS(pl_npy_save_mat("/nonexistent-dir/x.npy", &m, &err), &err, "nonexistent-dir");
}

TEST(data_stats_match_fixture) {
    pl_err err;
    for (int k = 0; tf_cases[k]; k++) {
        pl_data *d = tf_load(tf_cases[k], 0, &err);
        ASSERT(d);
        const pl_stats *st;
        ASSERT_OK(pl_data_stats(d, 1, &st, &err), &err);
        pl_mat means, vars;
        ASSERT_OK(pl_npy_load_mat(tf_path(tf_cases[k], "class_means.npy"), &means, &err), &err);
        ASSERT_OK(pl_npy_load_mat(tf_path(tf_cases[k], "class_vars.npy"), &vars, &err), &err);
        size_t C = st->C, D = st->D;
        double *mu = malloc(C * D * sizeof *mu), *v = malloc(C * D * sizeof *v);
        ASSERT(mu && v);
        pl_stats_class_means(st, mu);
        pl_stats_class_vars(st, v);
        int bad = 0;
        for (size_t c = 0; c < C; c++)
            for (size_t j = 0; j < D; j++) {
                double m = st->origin[j] + mu[c * D + j], raw = st->S[c * D + j] / st->n[c];
                bad += !(fabs(m - PL_AT(&means, c, j)) <= 1e-12 * fmax(1.0, fabs(m)));
                bad += !(fabs(raw - PL_AT(&means, c, j)) <= 1e-12 * fmax(1.0, fabs(m)));
                /* centred sums: the variance to ~1e-12 of itself or of (mean − origin)², not
                 * of the mean² */
                double w = PL_AT(&vars, c, j), r = mu[c * D + j];
                bad += !(fabs(v[c * D + j] - w) <= 1e-12 * fmax(w, r * r));
            }
        free(mu);
        free(v);
        pl_mat_release(&means);
        pl_mat_release(&vars);
        if (bad) TF_FAIL("%s: %d class means/variances off", tf_cases[k], bad);
        pl_data_release(d);
    }
}

TEST(data_moved_stats_exact) {
    pl_err err;
    pl_data *d = tf_load("overlap", 0, &err);
    ASSERT(d);
    size_t C = pl_data_classes(d), D = pl_data_dim(d), N = pl_data_rows(d);
    double *sh = calloc(C * D, sizeof *sh);
    ASSERT(sh != NULL);
    for (size_t i = 0; i < C * D; i++) sh[i] = 0.1 * sin((double)i);
    pl_data *m1, *m2;
    ASSERT_OK(pl_data_moved(d, sh, &m1, &err), &err);
    ASSERT_OK(pl_data_moved(m1, sh, &m2, &err), &err); /* shifts compose */
    pl_mat dense;
    ASSERT_OK(pl_data_dense(m2, &dense, &err), &err);
    pl_source *src;
    ASSERT_OK(pl_source_from_mat(&dense, "moved", &src, &err), &err);
    int64_t *y = malloc(N * sizeof *y);
    ASSERT(y != NULL);
    for (size_t i = 0; i < N; i++) y[i] = pl_data_y(d)[i];
    pl_data *direct;
    ASSERT_OK(pl_data_new(src, y, N, "y", &direct, &err), &err);
    const pl_stats *a, *b;
    ASSERT_OK(pl_data_stats(m2, 1, &a, &err), &err);
    ASSERT_OK(pl_data_stats(direct, 1, &b, &err), &err);
    /* sums that cancel: each is held to the scale of all of them */
    double smax = 0;
    for (size_t i = 0; i < C * D; i++) smax = fmax(smax, fabs(b->S[i]));
    for (size_t i = 0; i < C * D; i++) {
        ASSERT_ABS(a->S[i], b->S[i], 1e-12 * smax);
    }
    /* the two hold their sums about different origins: compare what does not depend on it */
    double *ma = malloc(C * D * sizeof *ma), *mb = malloc(C * D * sizeof *mb);
    ASSERT(ma && mb);
    pl_stats_class_vars(a, ma);
    pl_stats_class_vars(b, mb);
    for (size_t i = 0; i < C * D; i++) ASSERT_NEAR(ma[i], mb[i], 1e-12);
    pl_stats_class_means(a, ma);
    pl_stats_class_means(b, mb);
    /* means near 0 (a mean that cancels) are held to the scale of all the means */
    double mmax = 0;
    for (size_t i = 0; i < C * D; i++) mmax = fmax(mmax, fabs(b->origin[i % D] + mb[i]));
    for (size_t i = 0; i < C * D; i++)
        ASSERT_ABS(a->origin[i % D] + ma[i], b->origin[i % D] + mb[i], 1e-12 * mmax);
    free(ma);
    free(mb);
    pl_mat ga, gb, wa, wb;
    ASSERT_OK(pl_mat_init(&ga, D, D, &err), &err);
    ASSERT_OK(pl_mat_init(&gb, D, D, &err), &err);
    ASSERT_OK(pl_mat_init(&wa, D, D, &err), &err);
    ASSERT_OK(pl_mat_init(&wb, D, D, &err), &err);
    ASSERT_OK(pl_data_gram_upper(m2, &ga, &err), &err);
    ASSERT_OK(pl_data_gram_upper(direct, &gb, &err), &err);
    ASSERT_OK(pl_stats_scatter(a, PL_SCATTER_WITHIN, 1.0, &wa, &err), &err);
    ASSERT_OK(pl_stats_scatter(b, PL_SCATTER_WITHIN, 1.0, &wb, &err), &err);
    /* an entry is held to its Cauchy-Schwarz scale sqrt(G_ii G_jj) (entries of a Gram matrix
     * near 0 are cancellations) */
    for (size_t i = 0; i < D; i++)
        for (size_t j = i; j < D; j++) {
            double gs = sqrt(PL_AT(&gb, i, i) * PL_AT(&gb, j, j));
            double ws = sqrt(PL_AT(&wb, i, i) * PL_AT(&wb, j, j));
            ASSERT_ABS(PL_AT(&ga, i, j), PL_AT(&gb, i, j), 1e-12 * gs);
            ASSERT_ABS(PL_AT(&wa, i, j), PL_AT(&wb, i, j), 1e-12 * ws);
            ASSERT(PL_AT(&wa, i, j) == PL_AT(&wa, j, i));
        }
    pl_mat_release(&ga);
    pl_mat_release(&gb);
    pl_mat_release(&wa);
    pl_mat_release(&wb);
    free(sh);
    free(y);
    pl_mat_release(&dense);
    pl_source_release(src);
    pl_data_release(direct);
    pl_data_release(m2);
    pl_data_release(m1);
    pl_data_release(d);
}

/* pl_data_gram_upper: the raw XᵀX of a root and of a moved dataset, derived from the root's
 * centred Gram (equal to XᵀX of the dense rows to rounding); LogME gives the same bits before
 * and after the moved dataset caches its own statistics. */
TEST(data_gram_upper) {
    pl_err err;
    pl_data *d = tf_load("overlap", 0, &err), *m = NULL;
    ASSERT(d);
    size_t C = pl_data_classes(d), D = pl_data_dim(d);
    double *sh = calloc(C * D, sizeof *sh);
    ASSERT(sh != NULL);
    for (size_t i = 0; i < C * D; i++) sh[i] = 0.3 * cos(0.7 * (double)i);
    ASSERT_OK(pl_data_moved(d, sh, &m, &err), &err);
    /* adding the Gram to cached statistics keeps the arrays callers already hold */
    const pl_stats *s0, *s1;
    ASSERT_OK(pl_data_stats(d, 0, &s0, &err), &err);
    const double *S0 = s0->S, *Sc0 = s0->Sc, *Qc0 = s0->Qc, *o0 = s0->origin;
    double qc5 = s0->Qc[5];
    ASSERT(s0->G == NULL);
    ASSERT_OK(pl_data_stats(d, 1, &s1, &err), &err);
    ASSERT(s1->S == S0 && s1->G != NULL);
    ASSERT(s1->Sc == Sc0 && s1->Qc == Qc0 && s1->origin == o0 && s1->Qc[5] == qc5);
    ASSERT_OK(pl_data_stats(m, 0, &s0, &err), &err);
    S0 = s0->S;
    ASSERT_OK(pl_data_stats(m, 1, &s1, &err), &err);
    ASSERT(s1->S == S0 && s1->G != NULL);
    pl_data_release(m);
    ASSERT_OK(pl_data_moved(d, sh, &m, &err), &err);   /* a fresh one, nothing cached */
    pl_mat g, bad;
    ASSERT_OK(pl_mat_init(&g, D, D, &err), &err);
    ASSERT_OK(pl_mat_init(&bad, D, D + 1, &err), &err);
    ASSERT_FAILS(pl_data_gram_upper(d, &bad, &err), &err, "expected");
    double v_derived, v_cached;
    pl_opts none = {NULL, 0, 0};
    ASSERT_OK(pl_logme(m, &none, &v_derived, &err), &err);   /* m has no Gram cached yet */
    pl_data *both[2] = {m, d};
    for (int k = 0; k < 2; k++) {
        pl_mat x, want;
        ASSERT_OK(pl_data_gram_upper(both[k], &g, &err), &err);
        ASSERT_OK(pl_data_dense(both[k], &x, &err), &err);
        ASSERT_OK(pl_mat_init(&want, D, D, &err), &err);
        ASSERT_OK(pl_syrk_t(1.0, &x, 0.0, &want, &err), &err);
        for (size_t i = 0; i < D; i++)
            for (size_t j = i; j < D; j++) ASSERT_NEAR(PL_AT(&g, i, j), PL_AT(&want, i, j), 1e-12);
        pl_mat_release(&x);
        pl_mat_release(&want);
    }
    const pl_stats *st;
    ASSERT_OK(pl_data_stats(m, 1, &st, &err), &err);
    ASSERT_OK(pl_logme(m, &none, &v_cached, &err), &err);   /* now with m's statistics cached */
    ASSERT(v_derived == v_cached);
    free(sh);
    pl_mat_release(&g);
    pl_mat_release(&bad);
    pl_data_release(m);
    pl_data_release(d);
}

/* Issue 6's "one pass": LogME, PED + LogME and SFDA read every row of a cold dataset's file
 * once; a second metric on the same dataset (or on a moved one) reads nothing more, except
 * those that stream the rows themselves (SFDA) and read them once more each. */
TEST(data_one_pass) {
    pl_err err;
    pl_data *d = tf_load("overlap", 0, &err), *m = NULL;
    ASSERT(d);
    pl_source *src = pl_data_source(d);
    size_t N = pl_data_rows(d), C = pl_data_classes(d), D = pl_data_dim(d);
    pl_opts none = {NULL, 0, 0};
    double v;
    ASSERT(pl_source_rows_read(src) == 0);
    ASSERT_OK(pl_logme(d, &none, &v, &err), &err);
    ASSERT(pl_source_rows_read(src) == N);
    ASSERT_OK(pl_logme_icml(d, &none, &v, &err), &err);
    ASSERT(pl_source_rows_read(src) == N);
    double *sh = calloc(C * D, sizeof *sh);
    ASSERT(sh != NULL);
    for (size_t i = 0; i < C * D; i++) sh[i] = 0.01 * (double)(i % 7);
    ASSERT_OK(pl_data_moved(d, sh, &m, &err), &err);
    ASSERT_OK(pl_logme(m, &none, &v, &err), &err);
    ASSERT(pl_source_rows_read(src) == N);   /* from the root's statistics */
    ASSERT_OK(pl_sfda(m, &none, &v, &err), &err);
    size_t after_sfda = pl_source_rows_read(src);
    ASSERT(after_sfda > N && (after_sfda - N) % N == 0);
    free(sh);
    pl_data_release(m);
    pl_data_release(d);
    /* a moved dataset scored first: the root's one pass serves both */
    d = tf_load("overlap", 0, &err);
    ASSERT(d);
    src = pl_data_source(d);
    sh = calloc(C * D, sizeof *sh);
    ASSERT(sh != NULL);
    ASSERT_OK(pl_data_moved(d, sh, &m, &err), &err);
    ASSERT_OK(pl_logme(m, &none, &v, &err), &err);
    ASSERT(pl_source_rows_read(src) == N);
    ASSERT_OK(pl_logme(d, &none, &v, &err), &err);
    ASSERT(pl_source_rows_read(src) == N);
    free(sh);
    pl_data_release(m);
    pl_data_release(d);
}

TEST(data_label_checks) {
    pl_err err;
    pl_mat m;
    ASSERT_OK(pl_mat_init(&m, 4, 2, &err), &err);
    pl_source *s;
    ASSERT_OK(pl_source_from_mat(&m, "f.npy", &s, &err), &err);
    pl_data *d;
    int64_t one[4] = {7, 7, 7, 7}, sparse[4] = {-5, 100, 100, -5}, three[3] = {0, 1, 0};
    ASSERT_FAILS(pl_data_new(s, one, 4, "l.npy", &d, &err), &err, "at least 2 classes");
    ASSERT_FAILS(pl_data_new(s, three, 3, "l.npy", &d, &err), &err, "l.npy has 3 labels, f.npy has 4 rows");
    ASSERT_OK(pl_data_new(s, sparse, 4, "l.npy", &d, &err), &err);
    ASSERT(pl_data_classes(d) == 2 && pl_data_y(d)[0] == 0 && pl_data_y(d)[1] == 1);
    ASSERT(pl_data_class_ids(d)[1] == 100);
    pl_data_release(d);
    m.data[5] = (double)NAN;
    pl_source_release(s);
    ASSERT_OK(pl_source_from_mat(&m, "f.npy", &s, &err), &err);
    ASSERT_OK(pl_data_new(s, sparse, 4, "l.npy", &d, &err), &err);
    const pl_stats *st;
    ASSERT_FAILS(pl_data_stats(d, 0, &st, &err), &err, "f.npy: row 3, column 2 is NaN");
    pl_data_release(d);
    pl_source_release(s);
    pl_mat_release(&m);
}
