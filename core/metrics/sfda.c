/* sfda.c — SFDA (Shao et al., ECCV'22), PED's / TencentARC's SFDA_Score as the official code
 * computes it (tests/fixtures/README.md, quirks 1-3):
 *
 *   fit:   priors n_c/N, class means μ_c, Sw = Σ_c prior_c·cov_c (ddof 0),
 *          shrinkage s = max(exp(-5·iterative_A(Sw, 3)), 1e-10) (first fit only),
 *          Sw' = (1-s)·Sw + s·trace(Sw)/D·I, coef = μ·Sw'⁻¹ (the generalised eigenproblem of the
 *          official code cancels out exactly), intercept_c = -½ μ_c·coef_c + log prior_c;
 *   prob:  softmax(X coefᵀ + intercept), then a second softmax over those probabilities;
 *   ConfMix: z_i = p_i·x_i + (1-p_i)·m̄_{y_i}, p_i = that probability of the true class and
 *          m̄_c the unweighted mean of the other classes' means (of the unmixed X);
 *   refit on Z with the same shrinkage; score = mean over i of softmax(Z coef₂ᵀ + b₂)[i, y_i]
 *          (no second softmax here).
 *
 * Streaming: Sw comes from the cached statistics, Sw = (G − Σ_c n_c μ_c μ_cᵀ)/N, all about the
 * statistics' origin o (SFDA is translation-invariant, so everything is done in x − o: features
 * far from 0 lose nothing). Pass 1 reads row blocks, predicts, mixes each block and accumulates
 * the mixed data's Gram and class sums; pass 2 re-mixes each block from the stored p_i and
 * scores it. Memory: one block, D×D, N doubles. Because Sw is a difference of second moments,
 * a within-class variance below 1e-10 × the total (zero, or rounding noise) is refused with an
 * error instead of scored.
 * The caller's data is never modified (the official code overwrites X in place). */
#include "sfda.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../linalg.h"
#include "metric.h"

int pl_sfda_iterative_a(const pl_mat *a, int iterations, double *out, pl_err *err) {
    size_t n = a->rows;
    pl_mat x = {0}, y = {0}, t = {0};
    int rc;
    if (a->cols != n || n == 0)
        return pl_err_set(err, PL_EINVAL,
                          "sfda: iterative_A needs a nonempty square matrix, got %zu × %zu",
                          a->rows, a->cols);
    if ((rc = pl_mat_init(&x, n, 1, err)) || (rc = pl_mat_init(&y, n, 1, err)) ||
        (rc = pl_mat_init(&t, n, 1, err)))
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t j = 0; j < n; j++) s += PL_AT(a, i, j);
        x.data[i] = s;
    }
    for (int it = 0; it < iterations; it++) {
        /* y = A x / ‖A x‖, then x = A y / ‖A y‖ */
        pl_mat *src[2] = {&x, &y}, *dst[2] = {&y, &x};
        for (int h = 0; h < 2; h++) {
            if ((rc = pl_gemm(0, 0, 1.0, a, src[h], 0.0, &t, err))) goto cleanup;
            double nrm = 0.0;
            for (size_t i = 0; i < n; i++) nrm += t.data[i] * t.data[i];
            nrm = sqrt(nrm);
            if (!(nrm > 0.0) || !isfinite(nrm)) {
                rc = pl_err_set(err, PL_ENUMERIC,
                                "sfda: the power iteration for the shrinkage vanished (the "
                                "within-class scatter maps its row sums to zero)");
                goto cleanup;
            }
            for (size_t i = 0; i < n; i++) dst[h]->data[i] = t.data[i] / nrm;
        }
    }
    if (iterations < 1) memcpy(y.data, x.data, n * sizeof(double));
    if ((rc = pl_gemm(0, 0, 1.0, a, &y, 0.0, &t, err))) goto cleanup;
    double v = 0.0;
    for (size_t i = 0; i < n; i++) v += x.data[i] * t.data[i];
    *out = v;
cleanup:
    pl_mat_release(&x);
    pl_mat_release(&y);
    pl_mat_release(&t);
    return rc;
}

/* One SFDA fit from sufficient statistics (n, class sums Sc and Gram G, about any origin the
 * rows are then given relative to). *shrink < 0 means "choose it" (first fit) and receives the
 * choice. Output: coef_t (D×C) = Sw'⁻¹ μᵀ, ic (C). */
static int sfda_fit(const pl_stats *st, double *shrink, pl_mat *coef_t, double *ic, pl_err *err) {
    size_t N = st->N, D = st->D, C = st->C;
    const double *n = st->n, *S = st->Sc;
    pl_mat sw = {0};
    int rc;
    if ((rc = pl_mat_init(&sw, D, D, err))) goto cleanup;
    if ((rc = pl_stats_scatter(st, PL_SCATTER_WITHIN, 1.0 / (double)N, &sw, err))) goto cleanup;
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < D; j++) PL_AT(coef_t, j, c) = S[c * D + j] / n[c];
    double tr = 0.0;
    for (size_t i = 0; i < D; i++) tr += PL_AT(&sw, i, i);
    /* Sw = G − Σ n_c μ_c μ_cᵀ about an origin near the data: when the within-class variance is at
     * the rounding level of those second moments, what is left is noise (or exactly zero). */
    double g_tr = 0.0;
    for (size_t i = 0; i < D; i++) g_tr += st->G[i * D + i];
    if (!(tr > 1e-10 * g_tr / (double)N)) {
        rc = pl_err_set(err, PL_ENUMERIC,
                        "sfda: the within-class variance is too small to measure (trace of the "
                        "within-class covariance %g against the total %g): the features are "
                        "constant within classes", tr, g_tr / (double)N);
        goto cleanup;
    }
    if (*shrink < 0.0) {
        double lam;
        if ((rc = pl_sfda_iterative_a(&sw, 3, &lam, err))) goto cleanup;
        *shrink = fmax(exp(-5.0 * lam), 1e-10);
        if (!isfinite(*shrink)) {
            rc = pl_err_set(err, PL_ENUMERIC, "sfda: the shrinkage is not finite");
            goto cleanup;
        }
    }
    double s = *shrink, mu = tr / (double)D;
    for (size_t i = 0; i < D * D; i++) sw.data[i] *= 1.0 - s;
    for (size_t i = 0; i < D; i++) PL_AT(&sw, i, i) += s * mu;
    rc = pl_cholesky(&sw, err);
    if (rc == PL_ENUMERIC) {
        rc = pl_err_set(err, PL_ENUMERIC,
                        "sfda: the shrunk within-class covariance is not positive definite "
                        "(every feature constant within its class?)");
        goto cleanup;
    }
    if (rc) goto cleanup;
    /* coef_t holds μᵀ on entry: solve Sw' coefᵀ = μᵀ (rather than forming an inverse) */
    if ((rc = pl_cholesky_solve(&sw, coef_t, err))) goto cleanup;
    for (size_t c = 0; c < C; c++) {
        double q = 0.0;
        for (size_t j = 0; j < D; j++) q += S[c * D + j] / n[c] * PL_AT(coef_t, j, c);
        ic[c] = -0.5 * q + log(n[c] / (double)N);
    }
cleanup:
    pl_mat_release(&sw);
    return rc;
}


/* Mix rows r0.. of blk in place: z = p·x + (1-p)·m̄_y. */
static void confmix(pl_mat *blk, size_t r0, const int *y, const double *p, const pl_mat *outer) {
    for (size_t i = 0; i < blk->rows; i++) {
        double pi = p[r0 + i], qi = 1.0 - pi;
        const double *m = &PL_AT(outer, (size_t)y[r0 + i], 0);
        double *r = &PL_AT(blk, i, 0);
        for (size_t j = 0; j < blk->cols; j++) r[j] = pi * r[j] + qi * m[j];
    }
}

/* scores (nr×C) = blk coefᵀ + ic */
static int predict(const pl_mat *blk, const pl_mat *coef_t, const double *ic, pl_mat *sc,
                   pl_err *err) {
    int rc = pl_gemm(0, 0, 1.0, blk, coef_t, 0.0, sc, err);
    if (rc) return rc;
    for (size_t i = 0; i < sc->rows; i++)
        for (size_t c = 0; c < sc->cols; c++) PL_AT(sc, i, c) += ic[c];
    pl_mat_softmax_rows(sc);
    return PL_OK;
}

/* The two streaming passes; rows arrive centred about the statistics' origin. */
typedef struct {
    const pl_mat *coef_t, *outer;
    const double *ic;
    const int *y;
    pl_mat *sc;
    double *p;
    pl_mat *g2;      /* pass 1: the mixed rows' Gram (upper) ... */
    double *s2;      /* ... and class sums */
    double total;    /* pass 2: Σ of the true class's probability */
} sfda_ctx;

static int sfda_pass1(void *ud, size_t r0, size_t nr, double *x, pl_err *err) {
    sfda_ctx *cx = ud;
    size_t D = cx->coef_t->rows, C = cx->coef_t->cols;
    pl_mat xb = pl_mat_wrap(x, nr, D), sb = pl_mat_view(cx->sc, 0, 0, nr, C);
    int rc = predict(&xb, cx->coef_t, cx->ic, &sb, err);
    if (rc) return rc;
    for (size_t i = 0; i < nr; i++) {
        /* the official second softmax, exp(prob)/Σ exp(prob): prob in [0, 1], no overflow */
        double sum = 0.0;
        for (size_t c = 0; c < C; c++) sum += exp(PL_AT(&sb, i, c));
        cx->p[r0 + i] = exp(PL_AT(&sb, i, (size_t)cx->y[r0 + i])) / sum;
    }
    confmix(&xb, r0, cx->y, cx->p, cx->outer);
    if ((rc = pl_syrk_t_upper(1.0, &xb, 1.0, cx->g2, err))) return rc;
    for (size_t i = 0; i < nr; i++) {
        double *dst = cx->s2 + (size_t)cx->y[r0 + i] * D;
        const double *r = x + i * D;
        for (size_t j = 0; j < D; j++) dst[j] += r[j];
    }
    return PL_OK;
}

static int sfda_pass2(void *ud, size_t r0, size_t nr, double *x, pl_err *err) {
    sfda_ctx *cx = ud;
    size_t D = cx->coef_t->rows, C = cx->coef_t->cols;
    pl_mat xb = pl_mat_wrap(x, nr, D), sb = pl_mat_view(cx->sc, 0, 0, nr, C);
    confmix(&xb, r0, cx->y, cx->p, cx->outer);
    int rc = predict(&xb, cx->coef_t, cx->ic, &sb, err);
    if (rc) return rc;
    for (size_t i = 0; i < nr; i++) cx->total += PL_AT(&sb, i, (size_t)cx->y[r0 + i]);
    return PL_OK;
}

int pl_sfda_run(pl_data *d, double *score, double *shrinkage, pl_err *err) {
    const pl_stats *st;
    pl_mat coef_t = {0}, sc = {0}, outer = {0}, g2 = {0};
    double *ic = NULL, *p = NULL, *s2 = NULL;
    int rc;
    if ((rc = pl_data_stats(d, 1, &st, err))) return rc;
    size_t N = st->N, D = st->D, C = st->C, br = pl_data_block_rows(d);
    if (br > N) br = N;
    if ((rc = pl_check_class_table("sfda", C, br, err))) return rc;
    if ((rc = pl_mat_init(&coef_t, D, C, err)) || (rc = pl_mat_init(&sc, br, C, err)) ||
        (rc = pl_mat_init(&outer, C, D, err)) || (rc = pl_mat_init(&g2, D, D, err)))
        goto cleanup;
    if (!(ic = pl_alloc(C, sizeof *ic, err)) || !(p = pl_alloc(N, sizeof *p, err)) ||
        !(s2 = pl_alloc(C * D, sizeof *s2, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    double shrink = -1.0;
    if ((rc = sfda_fit(st, &shrink, &coef_t, ic, err))) goto cleanup;

    /* outer-class means: (Σ_k μ_k − μ_c)/(C−1), from the unmixed class means */
    pl_stats_class_means(st, outer.data);
    for (size_t j = 0; j < D; j++) {
        double tot = 0.0;
        for (size_t c = 0; c < C; c++) tot += PL_AT(&outer, c, j);
        for (size_t c = 0; c < C; c++)
            PL_AT(&outer, c, j) = (tot - PL_AT(&outer, c, j)) / (double)(C - 1);
    }

    /* pass 1: first prediction, ConfMix, statistics of the mixed rows */
    sfda_ctx cx = {&coef_t, &outer, ic, pl_data_y(d), &sc, p, &g2, s2, 0.0};
    if ((rc = pl_data_foreach_block(d, PL_ROWS_CENTRED, sfda_pass1, &cx, err))) goto cleanup;
    pl_symmetrize_upper(&g2);
    /* second fit on the mixed data, same shrinkage */
    pl_stats mixed = {.N = N, .D = D, .C = C, .n = st->n, .Sc = s2, .G = g2.data};
    if ((rc = sfda_fit(&mixed, &shrink, &coef_t, ic, err))) goto cleanup;

    /* pass 2: re-mix each block and score it */
    if ((rc = pl_data_foreach_block(d, PL_ROWS_CENTRED, sfda_pass2, &cx, err))) goto cleanup;
    double v = cx.total / (double)N;
    if (!isfinite(v)) {
        rc = pl_err_set(err, PL_ENUMERIC, "sfda: the score is not finite");
        goto cleanup;
    }
    if (score) *score = v;
    if (shrinkage) *shrinkage = shrink;
cleanup:
    pl_mat_release(&coef_t);
    pl_mat_release(&sc);
    pl_mat_release(&outer);
    pl_mat_release(&g2);
    free(ic);
    free(p);
    free(s2);
    return rc;
}

int pl_sfda(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    (void)o;
    return pl_sfda_run(d, out, NULL, err);
}
