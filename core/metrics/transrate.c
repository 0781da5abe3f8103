/* transrate.c — TransRate (Huang et al., "Frustratingly Easy Transferability Estimation",
 * ICML 2022), as tllib's transrate(features, labels, eps=1e-4) computes it.
 *
 * With Z = X - 1 mᵀ (centred by the GLOBAL mean m) and the coding rate
 *     R(Z) = ½ logdet(I + ZᵀZ / (n·eps)),   n = rows of Z,
 * the score is  R(Z) - (1/C) Σ_c R(Z_c),  Z_c the rows of class c (still centred by the global
 * mean, not by their class mean), an unweighted mean over classes. Option eps (default 1e-4).
 *
 * Reference: thuml/Transfer-Learning-Library tllib/ranking/transrate.py (slogdet of the D×D
 * matrices). Agrees to ~1e-13 on the fixtures.
 *
 * How it is computed, exactly and in bounded memory:
 *  - R(Z) from the cached Gram: ZᵀZ = G - N m mᵀ, both about the statistics' origin (near
 *    the data, so nothing cancels); the per-class matrices from explicitly centred rows.
 *  - Per class, the statistics hold no class Gram, and holding C of them (C×D×D doubles) is
 *    unaffordable for large C·D. A class with n_c >= D gets its D×D Gram Z_cᵀZ_c accumulated
 *    with syrk while streaming; a class with n_c < D keeps its n_c rows instead and uses the
 *    n_c×n_c matrix Z_c Z_cᵀ, since det(I + ZᵀZ s) = det(I + Z Zᵀ s) (same nonzero
 *    eigenvalues) — so a class costs D·min(n_c, D) doubles (+ n_c² for a small class).
 *    Classes are processed in groups whose total stays under TR_BUDGET doubles (at least one
 *    class per group), one streaming pass over the data per group: a single pass in the usual
 *    case, more only when the classes' total exceeds the budget (e.g. 1000 classes of 200
 *    samples in 2048 dimensions: ~15 passes).
 *  - logdet of I + A s (A positive semidefinite) by Cholesky; if rounding made it fail, by
 *    eigenvalues, Σ log|1 + λ s| (numpy's slogdet reports log|det| too).
 * Cost: O(N·D²) for the statistics (shared) + Σ_c n_c·D·min(n_c, D) for the class matrices
 * + D³/3 + Σ_c min(n_c, D)³/3 for the logdets; memory O(D² + min(N·D, budget)).
 *
 * Degenerate inputs: a class with one sample has R = ½ log(1 + ‖x - m‖²/eps), finite; a
 * constant column adds a zero row/column (log 1 = 0); N < D, duplicated rows and C = 2 need
 * nothing special; eps must be > 0 (an error otherwise). The score is always finite. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../linalg.h"
#include "metric.h"

/* Memory budget for the per-class matrices of one streaming pass: 2^25 doubles = 256 MiB.
 * (Overridable at compile time to exercise the multi-pass path.) */
#ifndef TR_BUDGET
#define TR_BUDGET ((size_t)1 << 25)
#endif

/* ½ logdet(I + a·scale); a (n×n, symmetric PSD) is destroyed. */
static int half_logdet_i_plus(pl_mat *a, double scale, double *out, pl_err *err) {
    size_t n = a->rows;
    pl_mat keep = {0};
    double *w = NULL;
    int rc;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) PL_AT(a, i, j) *= scale;
    for (size_t i = 0; i < n; i++) PL_AT(a, i, i) += 1.0;
    if ((rc = pl_mat_copy(&keep, a, err))) return rc;
    double ld;
    rc = pl_logdet_spd(a, &ld, err);
    if (rc == PL_ENUMERIC) {
        /* not numerically positive definite: fall back to the eigenvalues */
        if (!(w = pl_alloc(n, sizeof *w, err))) { rc = PL_ENOMEM; goto cleanup; }
        if ((rc = pl_eigh(&keep, w, err))) goto cleanup;
        ld = 0.0;
        for (size_t k = 0; k < n; k++) {
            if (w[k] == 0.0) {
                rc = pl_err_set(err, PL_ENUMERIC, "I + ZᵀZ/(n·eps) is singular");
                goto cleanup;
            }
            ld += log(fabs(w[k]));
        }
    }
    if (rc == PL_OK) *out = 0.5 * ld;
cleanup:
    pl_mat_release(&keep);
    free(w);
    return rc;
}

/* Per-class state of one group. */
typedef struct {
    size_t c;        /* class */
    int small;       /* 1: rows kept (n_c < D); 0: D×D Gram accumulated */
    pl_mat m;        /* small: n_c × D rows; big: D × D Gram */
    size_t filled;   /* small: rows copied so far */
} tr_class;

static size_t class_cost(size_t nc, size_t D) {
    /* rows + their n_c×n_c product, or the D×D Gram (saturating: only compared to budget) */
    if (nc < D) return nc > TR_BUDGET / (2 * D) ? TR_BUDGET + 1 : nc * D + nc * nc;
    return D > TR_BUDGET / D ? TR_BUDGET + 1 : D * D;
}

/* One streaming pass filling the classes of a group; gather is a block-sized scratch. Rows
 * arrive centred about the statistics' origin; mean is relative to it. */
typedef struct {
    const double *mean;
    tr_class *g;
    size_t ng, D;
    const int *slot, *y;
    double *gather;
} tr_ctx;

static int tr_block(void *ud, size_t r0, size_t nr, double *blk, pl_err *err) {
    tr_ctx *cx = ud;
    size_t D = cx->D;
    const int *y = cx->y;
    int rc;
    for (size_t i = 0; i < nr; i++)  /* centre by the global mean */
        for (size_t j = 0; j < D; j++) blk[i * D + j] -= cx->mean[j];
    for (size_t k = 0; k < cx->ng; k++) {
        tr_class *tc = &cx->g[k];
        if (tc->small) {
            for (size_t i = 0; i < nr; i++)
                if (cx->slot[y[r0 + i]] == (int)k)
                    memcpy(&PL_AT(&tc->m, tc->filled++, 0), blk + i * D, D * sizeof *blk);
        } else {
            size_t cnt = 0;
            for (size_t i = 0; i < nr; i++)
                if (cx->slot[y[r0 + i]] == (int)k)
                    memcpy(cx->gather + cnt++ * D, blk + i * D, D * sizeof *blk);
            if (cnt) {
                pl_mat gv = pl_mat_wrap(cx->gather, cnt, D);
                if ((rc = pl_syrk_t(1.0, &gv, 1.0, &tc->m, err))) return rc;
            }
        }
    }
    return PL_OK;
}

int pl_transrate(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    const pl_stats *st;
    pl_mat gc = {0}, small = {0};
    double *mean = NULL, *gather = NULL;
    tr_class *g = NULL;
    int *slot = NULL;
    size_t ng = 0;
    double eps;
    int rc;
    if ((rc = pl_opt_double(o, "transrate", "eps", 1e-4, &eps, err))) return rc;
    if (!(eps > 0.0))
        return pl_err_set(err, PL_EINVAL, "transrate: option eps=%g: expected a number > 0", eps);
    if ((rc = pl_data_stats(d, 1, &st, err))) return rc;
    size_t N = st->N, D = st->D, C = st->C;
    const size_t *counts = pl_data_counts(d);

    if (!(mean = pl_alloc(D, sizeof *mean, err))) goto nomem;
    pl_stats_mean(st, mean);   /* relative to the statistics' origin */

    /* R(Z) from the Gram of the centred data */
    if ((rc = pl_mat_init(&gc, D, D, err))) goto cleanup;
    if ((rc = pl_stats_scatter(st, PL_SCATTER_TOTAL, 1.0, &gc, err))) goto fail;
    double rf;
    if ((rc = half_logdet_i_plus(&gc, 1.0 / ((double)N * eps), &rf, err))) goto fail;
    pl_mat_release(&gc);

    size_t br = pl_data_block_rows(d);
    if (br > N) br = N;
    if (!(gather = pl_alloc(br, D * sizeof *gather, err))) goto nomem;
    if (!(g = pl_alloc(C, sizeof *g, err))) goto nomem;
    if (!(slot = pl_alloc(C, sizeof *slot, err))) goto nomem;

    double rfy = 0.0;
    for (size_t c0 = 0; c0 < C;) {
        /* the next group: classes c0.. while their cost fits the budget */
        size_t used = 0, c1 = c0;
        for (size_t c = 0; c < C; c++) slot[c] = -1;
        while (c1 < C) {
            size_t cost = class_cost(counts[c1], D);
            if (c1 > c0 && (cost > TR_BUDGET || used + cost > TR_BUDGET)) break;
            used += cost;
            c1++;
        }
        ng = c1 - c0;
        for (size_t k = 0; k < ng; k++) {
            tr_class *tc = &g[k];
            tc->c = c0 + k;
            tc->small = counts[tc->c] < D;
            tc->filled = 0;
            slot[tc->c] = (int)k;
            rc = tc->small ? pl_mat_init(&tc->m, counts[tc->c], D, err)
                           : pl_mat_init(&tc->m, D, D, err);
            if (rc) goto fail;
        }
        tr_ctx cx = {mean, g, ng, D, slot, pl_data_y(d), gather};
        if ((rc = pl_data_foreach_block(d, PL_ROWS_CENTRED, tr_block, &cx, err))) goto fail;
        /* logdets in class order, so the sum is formed as tllib forms it */
        for (size_t k = 0; k < ng; k++) {
            tr_class *tc = &g[k];
            size_t nc = counts[tc->c];
            double r;
            if (tc->small) {
                if ((rc = pl_mat_init(&small, nc, nc, err))) goto fail;
                if ((rc = pl_gemm(0, 1, 1.0, &tc->m, &tc->m, 0.0, &small, err))) goto fail;
                rc = half_logdet_i_plus(&small, 1.0 / ((double)nc * eps), &r, err);
                pl_mat_release(&small);
            } else {
                rc = half_logdet_i_plus(&tc->m, 1.0 / ((double)nc * eps), &r, err);
            }
            if (rc) goto fail;
            rfy += r;
            pl_mat_release(&tc->m);
        }
        ng = 0;
        c0 = c1;
    }
    *out = rf - rfy / (double)C;
    if (!isfinite(*out))
        rc = pl_err_set(err, PL_ENUMERIC, "transrate: the score is not finite (%g)", *out);
    goto cleanup;

nomem:
    rc = PL_ENOMEM;
fail:
    pl_err_prefix(err, "transrate");
cleanup:
    for (size_t k = 0; k < ng; k++) pl_mat_release(&g[k].m);
    pl_mat_release(&gc);
    pl_mat_release(&small);
    free(mean);
    free(gather);
    free(g);
    free(slot);
    return rc;
}
