/* pca.c — PCA from the Gram matrix and class sums (see pca.h for the contract). */
#include "pca.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"

void pl_pca_release(pl_pca *p) {
    if (!p) return;
    free(p->mean);
    free(p->origin);
    free(p->centre);
    free(p->components);
    free(p->variance);
    free(p->ratio);
    pl_tridiag_release(&p->tri);
    memset(p, 0, sizeof *p);
}

/* components (k×D) = the top k eigenvectors, largest first. */
static int pca_axes(pl_pca *p, size_t k, pl_err *err) {
    size_t D = p->D;
    pl_mat vt = {0};
    double *w = NULL;
    int rc;
    if (!(w = pl_alloc(k, sizeof *w, err))) return PL_ENOMEM;
    if ((rc = pl_mat_init(&vt, k, D, err))) goto cleanup;
    if ((rc = pl_tridiag_top(&p->tri, k, w, &vt, err))) {
        pl_err_prefix(err, "pca");
        goto cleanup;
    }
    double *c = pl_alloc(k, D * sizeof(double), err);
    if (!c) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    for (size_t j = 0; j < k; j++) memcpy(c + j * D, &PL_AT(&vt, k - 1 - j, 0), D * sizeof(double));
    free(p->components);
    p->components = c;
cleanup:
    pl_mat_release(&vt);
    free(w);
    return rc;
}

int pl_pca_fit(pl_data *d, size_t k, pl_pca *p, pl_err *err) {
    int rc = PL_OK;
    const pl_stats *st;
    pl_mat cov = {0};
    double *w = NULL;
    memset(p, 0, sizeof *p);
    size_t N = pl_data_rows(d), D = pl_data_dim(d);
    if (N < 2)
        return pl_err_set(err, PL_EINVAL, "pca: needs at least 2 samples, got %zu", N);
    if ((rc = pl_data_stats(d, 1, &st, err))) return rc;
    size_t nall = N < D ? N : D;
    p->N = N;
    p->D = D;
    p->nall = nall;
    p->k = (k == 0 || k > nall) ? nall : k;
    if (!(p->mean = pl_alloc(D, sizeof(double), err)) ||
        !(p->origin = pl_alloc(D, sizeof(double), err)) ||
        !(p->centre = pl_alloc(D, sizeof(double), err)) ||
        !(p->variance = pl_alloc(nall, sizeof(double), err)) ||
        !(p->ratio = pl_alloc(nall, sizeof(double), err)) ||
        !(w = pl_alloc(D, sizeof(double), err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    if ((rc = pl_mat_init(&cov, D, D, err))) goto cleanup;

    /* μ = o + Σ_c Sc_c / N, Σ = the total scatter / (N − 1) */
    memcpy(p->origin, st->origin, D * sizeof(double));
    pl_stats_mean(st, p->centre);
    for (size_t j = 0; j < D; j++) p->mean[j] = p->origin[j] + p->centre[j];
    if ((rc = pl_stats_scatter(st, PL_SCATTER_TOTAL, 1.0 / (double)(N - 1), &cov, err)))
        goto cleanup;
    if ((rc = pl_check_interrupt(err))) goto cleanup;
    if ((rc = pl_tridiag_init(&p->tri, &cov, err)) || (rc = pl_tridiag_values(&p->tri, w, err))) {
        pl_err_prefix(err, "pca");
        goto cleanup;
    }
    /* eigenvalues come ascending: component j has eigenvalue D-1-j. Negative rounding noise
     * (an exactly singular covariance) is reported as 0 variance. */
    double total = 0.0;
    for (size_t j = 0; j < D; j++) total += w[j] > 0.0 ? w[j] : 0.0;
    p->total_variance = total;
    for (size_t j = 0; j < nall; j++) {
        double v = w[D - 1 - j] > 0.0 ? w[D - 1 - j] : 0.0;
        p->variance[j] = v;
        p->ratio[j] = total > 0.0 ? v / total : 0.0;
    }
    if ((rc = pl_check_interrupt(err))) goto cleanup;
    rc = pca_axes(p, p->k, err);

cleanup:
    pl_mat_release(&cov);
    free(w);
    if (rc) pl_pca_release(p);
    return rc;
}

size_t pl_pca_count_for_ratio(const pl_pca *p, double r) {
    /* scikit-learn: searchsorted(cumsum(ratio), r, side='right') + 1 */
    double cum = 0.0;
    for (size_t j = 0; j < p->nall; j++) {
        cum += p->ratio[j];
        if (cum > r) return j + 1;
    }
    return p->nall;
}

int pl_pca_keep(pl_pca *p, size_t k, pl_err *err) {
    if (k < 1 || k > p->nall)
        return pl_err_set(err, PL_EINVAL, "pca: cannot keep %zu components; 1..%zu are available",
                          k, p->nall);
    if (k > p->k) {
        int rc = pca_axes(p, k, err);
        if (rc) return rc;
    }
    p->k = k;
    return PL_OK;
}

int pl_pca_project_rows(const pl_pca *p, double *x, size_t nr, double *out, pl_err *err) {
    size_t D = p->D;
    for (size_t i = 0; i < nr; i++)
        for (size_t j = 0; j < D; j++) x[i * D + j] = (x[i * D + j] - p->origin[j]) - p->centre[j];
    pl_mat xm = pl_mat_wrap(x, nr, D), vm = pl_mat_wrap(p->components, p->k, D);
    pl_mat om = pl_mat_wrap(out, nr, p->k);
    return pl_gemm(0, 1, 1.0, &xm, &vm, 0.0, &om, err);
}

void pl_pca_flip_signs(pl_pca *p, pl_mat *scores) {
    for (size_t j = 0; j < scores->cols; j++) {
        double best = -1.0, val = 0.0;
        for (size_t i = 0; i < scores->rows; i++) {
            double a = fabs(PL_AT(scores, i, j));
            if (a > best) {
                best = a;
                val = PL_AT(scores, i, j);
            }
        }
        if (val < 0.0) {
            for (size_t i = 0; i < scores->rows; i++) PL_AT(scores, i, j) = -PL_AT(scores, i, j);
            if (j < p->k)
                for (size_t i = 0; i < p->D; i++)
                    p->components[j * p->D + i] = -p->components[j * p->D + i];
        }
    }
}

typedef struct {
    const pl_pca *p;
    pl_mat *out;
} pca_ctx;

static int transform_block(void *ud, size_t r0, size_t nr, double *x, pl_err *err) {
    pca_ctx *cx = ud;
    return pl_pca_project_rows(cx->p, x, nr, cx->out->data + r0 * cx->out->ld, err);
}

int pl_pca_transform(pl_pca *p, pl_data *d, int flip, pl_mat *out, pl_err *err) {
    int rc;
    size_t N = pl_data_rows(d), D = pl_data_dim(d);
    out->data = NULL;
    if (D != p->D)
        return pl_err_set(err, PL_EINVAL, "pca: data has %zu columns, the PCA was fitted on %zu",
                          D, p->D);
    if ((rc = pl_mat_init(out, N, p->k, err))) return rc;
    pca_ctx cx = {p, out};
    if ((rc = pl_data_foreach_block(d, 0, transform_block, &cx, err))) {
        pl_mat_release(out);
        return rc;
    }
    if (flip) pl_pca_flip_signs(p, out);
    return PL_OK;
}
