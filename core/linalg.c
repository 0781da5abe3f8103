/* linalg.c — the one place pedlab calls BLAS and LAPACK.
 *
 * pedlab's matrices are row-major. A row-major symmetric matrix is the same bytes as its
 * column-major self, so symmetric LAPACK routines are called column-major with `uplo` flipped,
 * which avoids LAPACKE's transposing copy. Eigenvectors come back as rows and are transposed in
 * place to the documented column layout (O(n²), negligible against the O(n³) solve). */
#include "linalg.h"

#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int fits_int(size_t a, size_t b, size_t c, const char *what, pl_err *err) {
    if (a > INT_MAX || b > INT_MAX || c > INT_MAX)
        return pl_err_set(err, PL_EINVAL, "%s: dimension exceeds the BLAS limit %d", what, INT_MAX);
    return PL_OK;
}

int pl_gemm(int transa, int transb, double alpha, const pl_mat *a, const pl_mat *b, double beta,
            pl_mat *c, pl_err *err) {
    size_t m = transa ? a->cols : a->rows, k = transa ? a->rows : a->cols;
    size_t kb = transb ? b->cols : b->rows, n = transb ? b->rows : b->cols;
    if (k != kb || c->rows != m || c->cols != n)
        return pl_err_set(err, PL_EINVAL,
                          "gemm: shapes do not match (%zux%zu by %zux%zu into %zux%zu)",
                          m, k, kb, n, c->rows, c->cols);
    if (fits_int(m, n, k, "gemm", err)) return err->code;
    if (m == 0 || n == 0) return PL_OK;
    if (k == 0) {
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) PL_AT(c, i, j) *= beta;
        return PL_OK;
    }
    cblas_dgemm(CblasRowMajor, transa ? CblasTrans : CblasNoTrans,
                transb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, alpha, a->data, (int)a->ld, b->data, (int)b->ld, beta,
                c->data, (int)c->ld);
    return PL_OK;
}

/* Tiled: a plain column-strided copy of a 2048² triangle costs 20-35 ms. */
void pl_symmetrize_upper(pl_mat *c) {
    enum { T = 64 };
    size_t n = c->rows;
    for (size_t i0 = 0; i0 < n; i0 += T)
        for (size_t j0 = 0; j0 <= i0; j0 += T)
            for (size_t i = i0; i < i0 + T && i < n; i++)
                for (size_t j = j0; j < j0 + T && j < i; j++) PL_AT(c, i, j) = PL_AT(c, j, i);
}

int pl_syrk_t(double alpha, const pl_mat *a, double beta, pl_mat *c, pl_err *err) {
    int rc = pl_syrk_t_upper(alpha, a, beta, c, err);
    if (rc == PL_OK) pl_symmetrize_upper(c);
    return rc;
}

int pl_syrk_t_upper(double alpha, const pl_mat *a, double beta, pl_mat *c, pl_err *err) {
    size_t n = a->cols, k = a->rows;
    if (c->rows != n || c->cols != n)
        return pl_err_set(err, PL_EINVAL, "syrk: result is %zux%zu, expected %zux%zu", c->rows,
                          c->cols, n, n);
    if (fits_int(n, k, 0, "syrk", err)) return err->code;
    if (n == 0) return PL_OK;
    if (k > 0)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)k, alpha, a->data,
                    (int)a->ld, beta, c->data, (int)c->ld);
    else
        for (size_t i = 0; i < n; i++)
            for (size_t j = i; j < n; j++) PL_AT(c, i, j) *= beta;
    return PL_OK;
}

int pl_syr2k_t_upper(double alpha, const pl_mat *a, const pl_mat *b, double beta, pl_mat *c,
                     pl_err *err) {
    size_t n = a->cols, k = a->rows;
    if (b->rows != k || b->cols != n || c->rows != n || c->cols != n)
        return pl_err_set(err, PL_EINVAL, "syr2k: shapes do not match");
    if (fits_int(n, k, 0, "syr2k", err)) return err->code;
    if (n == 0 || k == 0) return PL_OK;
    cblas_dsyr2k(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)k, alpha, a->data,
                 (int)a->ld, b->data, (int)b->ld, beta, c->data, (int)c->ld);
    return PL_OK;
}

static void transpose_square(pl_mat *a) {
    for (size_t i = 0; i < a->rows; i++)
        for (size_t j = i + 1; j < a->cols; j++) {
            double t = PL_AT(a, i, j);
            PL_AT(a, i, j) = PL_AT(a, j, i);
            PL_AT(a, j, i) = t;
        }
}

static int lapack_status(int info, const char *routine, pl_err *err) {
    if (info == 0) return PL_OK;
    if (info < 0)
        return pl_err_set(err, PL_EINVAL, "%s: argument %d is invalid", routine, -info);
    return pl_err_set(err, PL_ENUMERIC, "%s failed to converge (info %d)", routine, info);
}

/* LAPACK misbehaves on NaN/Inf input (dsyevd reports an "invalid argument"): name the real
 * cause, which in pedlab is features whose scale overflows double precision. */
static int check_square_from(const pl_mat *a, int upper_only, const char *what, pl_err *err) {
    if (a->rows != a->cols)
        return pl_err_set(err, PL_EINVAL, "%s: matrix is %zux%zu, not square", what, a->rows,
                          a->cols);
    for (size_t i = 0; i < a->rows; i++)
        for (size_t j = upper_only ? i : 0; j < a->cols; j++)
            if (!isfinite(PL_AT(a, i, j)))
                return pl_err_set(err, PL_ENUMERIC,
                                  "%s: a %zux%zu matrix has non-finite entries (the features' "
                                  "scale overflows double precision; rescale them)",
                                  what, a->rows, a->cols);
    return fits_int(a->rows, a->ld, 0, what, err);
}

static int check_square(const pl_mat *a, const char *what, pl_err *err) {
    return check_square_from(a, 0, what, err);
}

int pl_eigh(pl_mat *a, double *w, pl_err *err) {
    if (check_square(a, "eigh", err)) return err->code;
    size_t n = a->rows;
    if (n == 0) return PL_OK;
    int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', (int)n, a->data, (int)a->ld, w);
    if (lapack_status(info, "dsyevd", err)) return err->code;
    transpose_square(a);
    return PL_OK;
}

int pl_eigh_rows(pl_mat *a, double *w, pl_err *err) {
    if (check_square_from(a, 1, "eigh", err)) return err->code;
    size_t n = a->rows;
    if (n == 0) return PL_OK;
    /* row-major upper = column-major lower; the column-major eigenvectors are our rows */
    int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', (int)n, a->data, (int)a->ld, w);
    return lapack_status(info, "dsyevd", err);
}

void pl_tridiag_release(pl_tridiag *t) {
    if (!t) return;
    pl_mat_release(&t->a);
    free(t->tau);
    free(t->d);
    free(t->e);
    memset(t, 0, sizeof *t);
}

int pl_tridiag_init(pl_tridiag *t, pl_mat *a, pl_err *err) {
    memset(t, 0, sizeof *t);
    if (check_square_from(a, 1, "eigh", err)) return err->code;
    size_t n = a->rows;
    t->n = n;
    t->a = *a;
    *a = (pl_mat){0};
    size_t m = n ? n : 1;
    if (!(t->tau = pl_alloc(m, sizeof(double), err)) ||
        !(t->d = pl_alloc(m, sizeof(double), err)) ||
        !(t->e = pl_alloc(m, sizeof(double), err))) {
        pl_tridiag_release(t);
        return PL_ENOMEM;
    }
    if (n == 0) return PL_OK;
    /* row-major upper = column-major lower */
    int info = LAPACKE_dsytrd(LAPACK_COL_MAJOR, 'L', (int)n, t->a.data, (int)t->a.ld, t->d, t->e,
                              t->tau);
    if (lapack_status(info, "dsytrd", err)) {
        pl_tridiag_release(t);
        return err->code;
    }
    return PL_OK;
}

/* Copies of the diagonal and off-diagonal (the solvers overwrite them). */
static int tridiag_copy(const pl_tridiag *t, double **d, double **e, pl_err *err) {
    size_t m = t->n ? t->n : 1;
    *d = pl_alloc(m, sizeof(double), err);
    *e = pl_alloc(m, sizeof(double), err);
    if (!*d || !*e) {
        free(*d);
        free(*e);
        return PL_ENOMEM;
    }
    memcpy(*d, t->d, t->n * sizeof(double));
    if (t->n > 1) memcpy(*e, t->e, (t->n - 1) * sizeof(double));
    return PL_OK;
}

int pl_tridiag_values(const pl_tridiag *t, double *w, pl_err *err) {
    double *d, *e;
    if (t->n == 0) return PL_OK;
    if (tridiag_copy(t, &d, &e, err)) return err->code;
    int info = LAPACKE_dsterf((int)t->n, d, e);
    int rc = lapack_status(info, "dsterf", err);
    if (!rc) memcpy(w, d, t->n * sizeof(double));
    free(d);
    free(e);
    return rc;
}

int pl_tridiag_top(const pl_tridiag *t, size_t k, double *w, pl_mat *vt, pl_err *err) {
    size_t n = t->n;
    if (k > n || vt->rows != k || vt->cols != n || vt->ld != n)
        return pl_err_set(err, PL_EINVAL, "eigh: %zu top eigenvectors of %zu into a contiguous "
                          "%zux%zu matrix", k, n, vt->rows, vt->cols);
    if (k == 0) return PL_OK;
    double *d, *e, *wall = NULL;
    int *isuppz = NULL, m = 0, rc;
    lapack_logical tryrac = 1;
    if (tridiag_copy(t, &d, &e, err)) return err->code;
    /* dstemr writes up to n eigenvalues, whatever the range */
    if (!(isuppz = pl_alloc(2 * k, sizeof *isuppz, err)) ||
        !(wall = pl_alloc(n, sizeof *wall, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    int info;
    if (k > n / 4) {
        /* many vectors: all of them by divide and conquer (dsyevd's own path) is faster */
        pl_mat z = {0};
        if ((rc = pl_mat_init(&z, n, n, err))) goto cleanup;
        info = LAPACKE_dstedc(LAPACK_COL_MAJOR, 'I', (int)n, d, e, z.data, (int)n);
        if (!(rc = lapack_status(info, "dstedc", err))) {
            memcpy(vt->data, z.data + (n - k) * n, k * n * sizeof(double));
            memcpy(w, d + (n - k), k * sizeof *w);
        }
        pl_mat_release(&z);
        if (rc) goto cleanup;
    } else {
        /* column-major n×k eigenvectors of the tridiagonal = row-major k×n, one row each */
        info = LAPACKE_dstemr(LAPACK_COL_MAJOR, 'V', 'I', (int)n, d, e, 0.0, 0.0, (int)(n - k + 1),
                              (int)n, &m, wall, vt->data, (int)n, (int)k, isuppz, &tryrac);
        if ((rc = lapack_status(info, "dstemr", err))) goto cleanup;
        if ((size_t)m != k) {
            rc = pl_err_set(err, PL_ENUMERIC, "dstemr returned %d of %zu eigenvectors", m, k);
            goto cleanup;
        }
        memcpy(w, wall, k * sizeof *w);
    }
    info = LAPACKE_dormtr(LAPACK_COL_MAJOR, 'L', 'L', 'N', (int)n, (int)k, t->a.data, (int)t->a.ld,
                          t->tau, vt->data, (int)n);
    rc = lapack_status(info, "dormtr", err);
cleanup:
    free(d);
    free(e);
    free(isuppz);
    free(wall);
    return rc;
}

int pl_eigh_project(pl_mat *a, double *w, pl_mat *b, pl_err *err) {
    pl_tridiag t;
    pl_mat z = {0}, out = {0};
    size_t n = a->rows, m = b->rows;
    int rc;
    if (b->cols != n) {
        pl_mat_release(a);
        return pl_err_set(err, PL_EINVAL, "eigh: %zu-vectors to project on a %zux%zu matrix",
                          b->cols, n, n);
    }
    if ((rc = pl_tridiag_init(&t, a, err))) {
        pl_mat_release(a);
        return rc;
    }
    if (n == 0) goto cleanup;
    if (fits_int(m, b->ld, 0, "eigh", err)) {
        rc = err->code;
        goto cleanup;
    }
    /* row-major m×n with leading dimension ld = column-major n×m with the same ld */
    int info = m ? LAPACKE_dormtr(LAPACK_COL_MAJOR, 'L', 'L', 'T', (int)n, (int)m, t.a.data,
                                  (int)t.a.ld, t.tau, b->data, (int)b->ld)
                 : 0;
    if ((rc = lapack_status(info, "dormtr", err))) goto cleanup;
    pl_mat_release(&t.a);   /* the reflectors are done with: free them before Z */
    if ((rc = pl_mat_init(&z, n, n, err))) goto cleanup;
    memcpy(w, t.d, n * sizeof *w);
    info = LAPACKE_dstedc(LAPACK_COL_MAJOR, 'I', (int)n, w, t.e, z.data, (int)n);
    if ((rc = lapack_status(info, "dstedc", err)) || m == 0) goto cleanup;
    /* out (column-major n×m) = Zᵀ · (Qᵀb) */
    if ((rc = pl_mat_init(&out, m, n, err))) goto cleanup;
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)n, (int)m, (int)n, 1.0, z.data,
                (int)n, b->data, (int)b->ld, 0.0, out.data, (int)n);
    for (size_t r = 0; r < m; r++) memcpy(&PL_AT(b, r, 0), &PL_AT(&out, r, 0), n * sizeof(double));
cleanup:
    pl_tridiag_release(&t);
    pl_mat_release(&z);
    pl_mat_release(&out);
    return rc;
}

int pl_eigh_gen(pl_mat *a, pl_mat *b, double *w, pl_err *err) {
    if (check_square(a, "eigh_gen", err) || check_square(b, "eigh_gen", err)) return err->code;
    size_t n = a->rows;
    if (b->rows != n) return pl_err_set(err, PL_EINVAL, "eigh_gen: A and B differ in size");
    if (n == 0) return PL_OK;
    int info = LAPACKE_dsygvd(LAPACK_COL_MAJOR, 1, 'V', 'L', (int)n, a->data, (int)a->ld,
                              b->data, (int)b->ld, w);
    if (info > (int)n)
        return pl_err_set(err, PL_ENUMERIC, "dsygvd: B is not positive definite");
    if (lapack_status(info, "dsygvd", err)) return err->code;
    transpose_square(a);
    return PL_OK;
}

/* Values and right vectors of a tall a (m ≥ 2n) from its QR: a = QR gives R's singular values
 * and right vectors. Row-major a is a wide column-major matrix, whose LQ (what dgesdd does
 * first) LAPACK runs some 6× slower than the QR of its transposed copy. */
static int svd_tall(const pl_mat *a, double *s, pl_mat *vt, pl_err *err) {
    size_t m = a->rows, n = a->cols;
    pl_mat r = {0};
    double *t = NULL, *tau = NULL;
    int rc;
    if (!(t = pl_alloc(m, n * sizeof(double), err)) || !(tau = pl_alloc(n, sizeof(double), err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) t[i + j * m] = PL_AT(a, i, j);
    int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (int)m, (int)n, t, (int)m, tau);
    if ((rc = lapack_status(info, "dgeqrf", err)) || (rc = pl_mat_init(&r, n, n, err)))
        goto cleanup;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) PL_AT(&r, i, j) = t[i + j * m];
    rc = pl_svd(&r, NULL, s, vt, err);
cleanup:
    pl_mat_release(&r);
    free(t);
    free(tau);
    return rc;
}

int pl_svd(pl_mat *a, pl_mat *u, double *s, pl_mat *vt, pl_err *err) {
    size_t m = a->rows, n = a->cols, k = m < n ? m : n;
    pl_mat tu = {0}, tvt = {0};
    int rc = PL_OK;
    if (fits_int(m, n, a->ld, "svd", err)) return err->code;
    if (k == 0) return PL_OK;
    if (!u && m >= 2 * n) {
        if (vt && (vt->rows != n || vt->cols != n))
            return pl_err_set(err, PL_EINVAL, "svd: output shapes do not match %zux%zu", m, n);
        return svd_tall(a, s, vt, err);
    }
    if (!u && !vt) {
        double du = 0.0, dv = 0.0;
        int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', (int)n, (int)m, a->data, (int)a->ld, s,
                                  &dv, 1, &du, 1);
        return lapack_status(info, "dgesdd", err);
    }
    if (!u) {
        if ((rc = pl_mat_init(&tu, m, k, err))) goto cleanup;
        u = &tu;
    }
    if (!vt) {
        if ((rc = pl_mat_init(&tvt, k, n, err))) goto cleanup;
        vt = &tvt;
    }
    if (u->rows != m || u->cols != k || vt->rows != k || vt->cols != n) {
        rc = pl_err_set(err, PL_EINVAL, "svd: output shapes do not match %zux%zu", m, n);
        goto cleanup;
    }
    /* Row-major A (m×n) is column-major Aᵀ (n×m) = V S Uᵀ: LAPACK's "U" is our V (written as
     * vt's rows) and its "VT" is our Uᵀ (written as u's rows). */
    int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', (int)n, (int)m, a->data, (int)a->ld, s,
                              vt->data, (int)vt->ld, u->data, (int)u->ld);
    rc = lapack_status(info, "dgesdd", err);
cleanup:
    pl_mat_release(&tu);
    pl_mat_release(&tvt);
    return rc;
}

int pl_cholesky(pl_mat *a, pl_err *err) {
    if (check_square(a, "cholesky", err)) return err->code;
    size_t n = a->rows;
    if (n == 0) return PL_OK;
    /* column-major 'U' on row-major bytes = row-major lower factor */
    int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (int)n, a->data, (int)a->ld);
    if (info > 0)
        return pl_err_set(err, PL_ENUMERIC, "cholesky: matrix is not positive definite (leading "
                          "minor %d)", info);
    if (lapack_status(info, "dpotrf", err)) return err->code;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) PL_AT(a, i, j) = 0.0;
    return PL_OK;
}

int pl_cholesky_solve(const pl_mat *l, pl_mat *b, pl_err *err) {
    size_t n = l->rows;
    if (l->cols != n || b->rows != n)
        return pl_err_set(err, PL_EINVAL, "cholesky_solve: shapes do not match");
    if (fits_int(n, b->cols, b->ld, "cholesky_solve", err)) return err->code;
    if (n == 0 || b->cols == 0) return PL_OK;
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int)n,
                (int)b->cols, 1.0, l->data, (int)l->ld, b->data, (int)b->ld);
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, (int)n,
                (int)b->cols, 1.0, l->data, (int)l->ld, b->data, (int)b->ld);
    return PL_OK;
}

int pl_logdet_spd(pl_mat *a, double *out, pl_err *err) {
    int rc = pl_cholesky(a, err);
    if (rc) return rc;
    double s = 0.0;
    for (size_t i = 0; i < a->rows; i++) s += log(PL_AT(a, i, i));
    *out = 2.0 * s;
    return PL_OK;
}

int pl_pinv_sym(const pl_mat *a, double rcond, pl_mat *out, pl_err *err) {
    size_t n = a->rows;
    pl_mat v = {0}, vs = {0};
    double *w = NULL;
    int rc;
    if (out->rows != n || out->cols != n)
        return pl_err_set(err, PL_EINVAL, "pinv: output is not %zux%zu", n, n);
    if ((rc = pl_mat_copy(&v, a, err))) goto cleanup;
    if ((rc = pl_mat_init(&vs, n, n, err))) goto cleanup;
    if (!(w = pl_alloc(n ? n : 1, sizeof *w, err))) { rc = PL_ENOMEM; goto cleanup; }
    if ((rc = pl_eigh(&v, w, err))) goto cleanup;
    double big = 0.0;
    for (size_t k = 0; k < n; k++) big = fmax(big, fabs(w[k]));
    /* numpy: singular values (|eigenvalues|) <= rcond * largest are treated as zero */
    for (size_t k = 0; k < n; k++) {
        double inv = fabs(w[k]) > rcond * big ? 1.0 / w[k] : 0.0;
        for (size_t i = 0; i < n; i++) PL_AT(&vs, i, k) = PL_AT(&v, i, k) * inv;
    }
    rc = pl_gemm(0, 1, 1.0, &vs, &v, 0.0, out, err);
cleanup:
    pl_mat_release(&v);
    pl_mat_release(&vs);
    free(w);
    return rc;
}
