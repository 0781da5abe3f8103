/* Tests of the two-stage symmetric eigensolver (core/linalg.c: pl_tridiag_*) against the
 * one-call one (pl_eigh_rows): all eigenvalues, and the top k eigenvectors by both of its
 * routes (dstemr for k <= n/4, divide and conquer above), up to sign. */
#include <stdlib.h>

#include "../../core/linalg.h"
#include "test.h"

static int random_symmetric(pl_mat *a, size_t n, uint64_t seed, pl_err *err) {
    uint64_t st = seed;
    int rc = pl_mat_init(a, n, n, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++)
            PL_AT(a, i, j) = PL_AT(a, j, i) = 2.0 * tf_rand(&st) - 1.0 + (i == j ? 0.1 * (double)i : 0.0);
    return PL_OK;
}

TEST(linalg_tridiag_top) {
    pl_err err;
    enum { N = 40 };
    pl_mat a, ref, tri_in;
    ASSERT_OK(random_symmetric(&a, N, 11, &err), &err);
    ASSERT_OK(pl_mat_copy(&ref, &a, &err), &err);
    ASSERT_OK(pl_mat_copy(&tri_in, &a, &err), &err);
    for (size_t i = 0; i < N; i++)   /* the lower triangles are never read */
        for (size_t j = 0; j < i; j++) PL_AT(&ref, i, j) = PL_AT(&tri_in, i, j) = (double)NAN;
    double wref[N], wall[N];
    ASSERT_OK(pl_eigh_rows(&ref, wref, &err), &err);
    pl_tridiag t;
    ASSERT_OK(pl_tridiag_init(&t, &tri_in, &err), &err);
    ASSERT(tri_in.data == NULL);   /* taken over */
    ASSERT_OK(pl_tridiag_values(&t, wall, &err), &err);
    double scale = fmax(fabs(wref[0]), fabs(wref[N - 1]));
    for (size_t i = 0; i < N; i++) ASSERT_NEAR(wall[i], wref[i], 1e-12 * scale);
    const size_t ks[] = {1, 5, 10, 11, 30, N};   /* 10 = n/4: dstemr; 11 and up: dstedc */
    for (size_t q = 0; q < sizeof ks / sizeof *ks; q++) {
        size_t k = ks[q];
        pl_mat vt;
        double w[N];
        ASSERT_OK(pl_mat_init(&vt, k, N, &err), &err);
        ASSERT_OK(pl_tridiag_top(&t, k, w, &vt, &err), &err);
        for (size_t j = 0; j < k; j++) {
            size_t r = N - k + j;   /* ascending, like pl_eigh_rows */
            ASSERT_NEAR(w[j], wref[r], 1e-12 * scale);
            double dot = 0.0, norm = 0.0;
            for (size_t i = 0; i < N; i++) {
                dot += PL_AT(&vt, j, i) * PL_AT(&ref, r, i);
                norm += PL_AT(&vt, j, i) * PL_AT(&vt, j, i);
            }
            ASSERT_NEAR(fabs(dot), 1.0, 1e-10);
            ASSERT_NEAR(norm, 1.0, 1e-12);
        }
        pl_mat_release(&vt);
    }
    pl_mat bad;
    ASSERT_OK(pl_mat_init(&bad, 3, N + 1, &err), &err);
    ASSERT_FAILS(pl_tridiag_top(&t, 3, wall, &bad, &err), &err, "top eigenvectors");
    pl_mat_release(&bad);
    pl_tridiag_release(&t);
    pl_tridiag_release(&t);   /* idempotent */
    pl_mat_release(&a);
    pl_mat_release(&ref);
}

/* pl_eigh_project: the eigenvalues, and Vᵀb for every row b, as pl_eigh_rows's V gives them
 * (up to each eigenvector's sign). */
TEST(linalg_eigh_project) {
    pl_err err;
    enum { N = 30, M = 4 };
    pl_mat a, ref, b, b0;
    ASSERT_OK(random_symmetric(&a, N, 5, &err), &err);
    ASSERT_OK(pl_mat_copy(&ref, &a, &err), &err);
    ASSERT_OK(pl_mat_init(&b, M, N, &err), &err);
    uint64_t st = 3;
    for (size_t i = 0; i < M * N; i++) b.data[i] = 2.0 * tf_rand(&st) - 1.0;
    ASSERT_OK(pl_mat_copy(&b0, &b, &err), &err);
    double wref[N], w[N];
    ASSERT_OK(pl_eigh_rows(&ref, wref, &err), &err);
    ASSERT_OK(pl_eigh_project(&a, w, &b, &err), &err);
    ASSERT(a.data == NULL);   /* taken over and released */
    double scale = fmax(fabs(wref[0]), fabs(wref[N - 1]));
    for (size_t i = 0; i < N; i++) ASSERT_NEAR(w[i], wref[i], 1e-12 * scale);
    for (size_t i = 0; i < N; i++) {
        /* sign of eigenvector i in the projection: from the row with the largest |Vᵀb| */
        for (size_t r = 0; r < M; r++) {
            double want = 0.0;
            for (size_t j = 0; j < N; j++) want += PL_AT(&ref, i, j) * PL_AT(&b0, r, j);
            ASSERT_NEAR(fabs(PL_AT(&b, r, i)), fabs(want), 1e-10);
        }
    }
    pl_mat_release(&ref);
    pl_mat_release(&b);
    pl_mat_release(&b0);
}

/* pl_svd of a tall matrix: with U (dgesdd), without U (from its QR) and values only give the
 * same singular values, and the same right vectors up to sign; a wrong vt shape is refused. */
TEST(linalg_svd_tall) {
    pl_err err;
    enum { M = 300, N = 20 };
    pl_mat a, b, c, u, vt, vt2;
    ASSERT_OK(pl_mat_init(&a, M, N, &err), &err);
    uint64_t st = 11;
    for (size_t i = 0; i < M * N; i++) a.data[i] = 2.0 * tf_rand(&st) - 1.0;
    for (size_t i = 0; i < M; i++) PL_AT(&a, i, 3) = 1e-9 * PL_AT(&a, i, 3); /* a small value */
    ASSERT_OK(pl_mat_copy(&b, &a, &err), &err);
    ASSERT_OK(pl_mat_copy(&c, &a, &err), &err);
    ASSERT_OK(pl_mat_init(&u, M, N, &err), &err);
    ASSERT_OK(pl_mat_init(&vt, N, N, &err), &err);
    ASSERT_OK(pl_mat_init(&vt2, N, N, &err), &err);
    double s[N], s2[N], s3[N];
    ASSERT_OK(pl_svd(&a, &u, s, &vt, &err), &err);
    ASSERT_OK(pl_svd(&b, NULL, s2, &vt2, &err), &err);
    ASSERT_OK(pl_svd(&c, NULL, s3, NULL, &err), &err);
    for (size_t j = 0; j < N; j++) {
        ASSERT_ABS(s2[j], s[j], 1e-13 * s[0]); /* a small value is held to the largest's scale */
        ASSERT_ABS(s3[j], s[j], 1e-13 * s[0]);
        if (j + 1 < N) ASSERT(s[j] >= s[j + 1]);
        double dot = 0.0;
        for (size_t i = 0; i < N; i++) dot += PL_AT(&vt, j, i) * PL_AT(&vt2, j, i);
        ASSERT_NEAR(fabs(dot), 1.0, 1e-10);
    }
    ASSERT(s[N - 1] < 1e-7 && s[N - 1] > 1e-10);
    pl_mat_release(&vt2);
    ASSERT_OK(pl_mat_init(&vt2, N - 1, N, &err), &err);
    ASSERT_FAILS(pl_svd(&b, NULL, s2, &vt2, &err), &err, "output shapes do not match");
    pl_mat_release(&a);
    pl_mat_release(&b);
    pl_mat_release(&c);
    pl_mat_release(&u);
    pl_mat_release(&vt);
    pl_mat_release(&vt2);
}
