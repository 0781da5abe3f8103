/* mat.c — dense row-major float64 matrices. */
#include "mat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pl_mat_init(pl_mat *m, size_t rows, size_t cols, pl_err *err) {
    size_t n;
    m->data = NULL;
    m->rows = m->cols = m->ld = 0;
    m->owned = 0;
    if (pl_mul_overflows(rows, cols, &n))
        return pl_err_set(err, PL_ENOMEM, "matrix of %zu × %zu overflows", rows, cols);
    m->data = pl_alloc(n ? n : 1, sizeof(double), err);
    if (!m->data) return PL_ENOMEM;
    m->rows = rows;
    m->cols = cols;
    m->ld = cols;
    m->owned = 1;
    return PL_OK;
}

void pl_mat_release(pl_mat *m) {
    if (!m) return;
    if (m->owned) free(m->data);
    m->data = NULL;
    m->rows = m->cols = m->ld = 0;
    m->owned = 0;
}

pl_mat pl_mat_view(const pl_mat *m, size_t r0, size_t c0, size_t nr, size_t nc) {
    pl_mat v = {m->data + r0 * m->ld + c0, nr, nc, m->ld, 0};
    return v;
}

pl_mat pl_mat_wrap(double *data, size_t rows, size_t cols) {
    pl_mat v = {data, rows, cols, cols, 0};
    return v;
}

int pl_mat_copy(pl_mat *dst, const pl_mat *src, pl_err *err) {
    int rc = pl_mat_init(dst, src->rows, src->cols, err);
    if (rc) return rc;
    for (size_t i = 0; i < src->rows; i++)
        memcpy(dst->data + i * dst->ld, src->data + i * src->ld, src->cols * sizeof(double));
    return PL_OK;
}

PL_SIMD_CLONES
double pl_sqdist(const double *a, const double *b, size_t n) {
    double s[8] = {0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int u = 0; u < 8; u++) {
            double t = a[j + u] - b[j + u];
            s[u] += t * t;
        }
    for (; j < n; j++) {
        double t = a[j] - b[j];
        s[0] += t * t;
    }
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

void pl_mat_softmax_rows(pl_mat *m) {
    for (size_t i = 0; i < m->rows; i++) {
        double *r = &PL_AT(m, i, 0), mx = r[0], sum = 0.0;
        for (size_t c = 1; c < m->cols; c++) mx = fmax(mx, r[c]);
        for (size_t c = 0; c < m->cols; c++) sum += (r[c] = exp(r[c] - mx));
        for (size_t c = 0; c < m->cols; c++) r[c] /= sum;
    }
}

void pl_mat_col_moments(const pl_mat *m, size_t j, double *mean, double *std) {
    size_t N = m->rows;
    double mu = 0.0, v = 0.0;
    for (size_t i = 0; i < N; i++) mu += PL_AT(m, i, j);
    mu /= (double)N;
    for (size_t i = 0; i < N; i++) {
        double e = PL_AT(m, i, j) - mu;
        v += e * e;
    }
    if (mean) *mean = mu;
    if (std) *std = sqrt(v / (double)N);
}
