/* hscore.c — H-score and its regularised (Ledoit-Wolf) form.
 *
 * H-score (Bao et al., "An Information-theoretic Approach to Transferability in Task Transfer
 * Learning", ICIP 2019):
 *     H = tr( pinv(cov(f)) cov(g) ),   g_i = E[f | y = y_i]  (each row replaced by its class mean)
 * with np.cov (ddof = 1) and pinv(rcond = 1e-15), as tllib's h_score computes it.
 *
 * Regularised H-score (Ibrahim et al., "Newer is not always better: Rethinking transferability
 * metrics, their peculiarities, stability and performance", ECML-PKDD 2022 / arXiv 2021):
 *     H_α = tr( pinv(cov_α(f)) (1 - α) cov(g) ),
 * cov_α the Ledoit-Wolf shrunk covariance of the centred features as scikit-learn 1.2.1 computes
 * it: S = XcᵀXc / N (ddof = 0), μ = tr(S)/D, cov_α = (1 - α) S + α μ I with
 *     b = Σ_i ‖x_i - m‖⁴,   β = (b/N - ‖S‖²_F) / (D·N),   δ = ‖S - μI‖²_F / D,
 *     α = min(β, δ) / δ   (0 when that minimum is 0, and for D = 1 where sklearn skips it).
 * sklearn's b is the sum of all entries of (Xc²)ᵀ(Xc²) (Xc² the elementwise square), which is
 * Σ_i (Σ_j x_ij²)² = Σ_i ‖x_i - m‖⁴: one O(N·D) streaming pass, not the D×D product.
 *
 * Reference: thuml/Transfer-Learning-Library tllib/ranking/hscore.py (h_score,
 * regularized_h_score), sklearn 1.2.1 sklearn/covariance/_shrunk_covariance.py.
 *
 * Both are computed from the cached statistics (class counts n_c, class sums S_c, Gram G, all
 * about the statistics' origin o, see data.h):
 *     cov(f) = (G - N m mᵀ)/(N - 1),   cov(g) = Σ_c n_c (μ_c - m)(μ_c - m)ᵀ/(N - 1)
 * (the mean of g is m), so tr(P cov(g)) = Σ_c n_c d_cᵀ P d_c / (N - 1), d_c = μ_c - m.
 * With m relative to o (near the data), G - N m mᵀ cancels nothing however far from 0 the
 * features are (agreement on the fixtures: ~1e-14).
 * Cost: the statistics pass O(N·D²) (shared with other metrics), then O(D³) for the pseudo-
 * inverse (an eigendecomposition) and O(C·D²); the regularised form adds one O(N·D) pass.
 * Memory O(D² + C·D) plus one read block.
 *
 * Degenerate inputs (all give finite scores; the official code needs no special case either):
 * a class with one sample is its own mean; a constant column has zero variance and is dropped
 * by the pseudo-inverse (its class means equal m, so it adds nothing), but whether near-zero
 * eigenvalues fall above or below the 1e-15·λmax cutoff is decided by rounding, so H-score on
 * rank-deficient covariances (constant columns, N <= D, duplicated columns) agrees with numpy
 * only to ~1e-4 relative; the regularised form has a full-rank covariance when α > 0. All
 * columns constant gives 0. N < D, duplicated rows and C = 2 need nothing special. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../linalg.h"
#include "metric.h"

/* m (relative to the statistics' origin) and the centred class means d (C×D). */
static void class_offsets(const pl_stats *st, double *m, pl_mat *dm) {
    size_t D = st->D, C = st->C;
    pl_stats_mean(st, m);
    pl_stats_class_means(st, dm->data);
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < D; j++) PL_AT(dm, c, j) -= m[j];
}

/* Σ_c n_c d_cᵀ pinv(cov) d_c / (N - 1) */
static int between_trace(const pl_stats *st, const pl_mat *cov, const pl_mat *dm, double *out,
                         const char *name, pl_err *err) {
    size_t D = st->D, C = st->C;
    pl_mat p = {0}, t = {0};
    int rc;
    if ((rc = pl_mat_init(&p, D, D, err))) goto cleanup;
    if ((rc = pl_mat_init(&t, C, D, err))) goto cleanup;
    if ((rc = pl_pinv_sym(cov, 1e-15, &p, err))) goto cleanup;
    if ((rc = pl_gemm(0, 0, 1.0, dm, &p, 0.0, &t, err))) goto cleanup;
    double s = 0.0;
    for (size_t c = 0; c < C; c++) {
        double q = 0.0;
        for (size_t j = 0; j < D; j++) q += PL_AT(&t, c, j) * PL_AT(dm, c, j);
        s += st->n[c] * q;
    }
    *out = s / ((double)st->N - 1.0);
cleanup:
    pl_mat_release(&p);
    pl_mat_release(&t);
    if (rc) pl_err_prefix(err, "%s", name);
    return rc;
}

static int check_samples(const char *name, const pl_stats *st, pl_err *err) {
    if (st->N < 2)
        return pl_err_set(err, PL_EINVAL, "%s: needs at least 2 samples for a covariance, got %zu",
                          name, st->N);
    return PL_OK;
}

/* What both scores start from: the statistics (with the Gram), the mean m (relative to the
 * origin), the centred class means dm and the total scatter / (N − ddof) in cov. */
typedef struct {
    const pl_stats *st;
    double *m;   /* D */
    pl_mat cov;  /* D×D */
    pl_mat dm;   /* C×D */
} hscore_setup;

static void setup_release(hscore_setup *s) {
    free(s->m);
    pl_mat_release(&s->cov);
    pl_mat_release(&s->dm);
}

/* On failure s holds nothing. */
static int setup_init(pl_data *d, const char *name, double ddof, hscore_setup *s, pl_err *err) {
    int rc;
    memset(s, 0, sizeof *s);
    if ((rc = pl_data_stats(d, 1, &s->st, err))) return rc;
    if ((rc = check_samples(name, s->st, err))) return rc;
    size_t D = s->st->D, C = s->st->C;
    if (!(s->m = pl_alloc(D, sizeof *s->m, err))) return pl_err_prefix(err, "%s", name);
    if ((rc = pl_mat_init(&s->cov, D, D, err)) || (rc = pl_mat_init(&s->dm, C, D, err)))
        goto fail;
    class_offsets(s->st, s->m, &s->dm);
    rc = pl_stats_scatter(s->st, PL_SCATTER_TOTAL, 1.0 / ((double)s->st->N - ddof), &s->cov, err);
    if (rc == PL_OK) return PL_OK;
fail:
    setup_release(s);
    return rc;
}

int pl_hscore(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    (void)o;
    hscore_setup s;
    int rc;
    if ((rc = setup_init(d, "hscore", 1.0, &s, err))) return rc;
    if ((rc = between_trace(s.st, &s.cov, &s.dm, out, "hscore", err))) goto cleanup;
    if (!isfinite(*out))
        rc = pl_err_set(err, PL_ENUMERIC, "hscore: the score is not finite (%g)", *out);
cleanup:
    setup_release(&s);
    return rc;
}

/* Σ_i ‖x_i - m‖⁴ in one streaming pass (sklearn's beta_); rows arrive centred about the
 * statistics' origin, m is relative to it. */
typedef struct {
    const double *m;
    size_t D;
    double s;
} norm4_ctx;

static int norm4_block(void *ud, size_t r0, size_t nr, double *x, pl_err *err) {
    norm4_ctx *cx = ud;
    size_t D = cx->D;
    (void)r0;
    (void)err;
    for (size_t i = 0; i < nr; i++) {
        const double *r = x + i * D;
        double q = 0.0;
        for (size_t j = 0; j < D; j++) q += (r[j] - cx->m[j]) * (r[j] - cx->m[j]);
        cx->s += q * q;
    }
    return PL_OK;
}

static int sum_norm4(pl_data *d, const double *m, double *out, pl_err *err) {
    norm4_ctx cx = {m, pl_data_dim(d), 0.0};
    int rc = pl_data_foreach_block(d, PL_ROWS_CENTRED, norm4_block, &cx, err);
    *out = cx.s;
    return rc;
}

/* sklearn 1.2.1 ledoit_wolf_shrinkage on centred data, from S = XcᵀXc/N and Σ‖x_i - m‖⁴. */
static double ledoit_wolf_alpha(const pl_mat *s, size_t N, double norm4) {
    size_t D = s->rows;
    if (D == 1) return 0.0;  /* sklearn: "only one feature, the result is the same" */
    double n = (double)N, p = (double)D;
    double trace = 0.0, frob = 0.0;
    for (size_t i = 0; i < D; i++) {
        trace += PL_AT(s, i, i);
        for (size_t j = 0; j < D; j++) frob += PL_AT(s, i, j) * PL_AT(s, i, j);
    }
    double mu = trace / p;
    /* sklearn: beta_ = Σ (X2ᵀX2) = Σ‖x‖⁴, delta_ = Σ (XᵀX)² / n² = ‖S‖²_F */
    double beta = 1.0 / (p * n) * (norm4 / n - frob);
    double delta = (frob - 2.0 * mu * trace + p * mu * mu) / p;
    beta = fmin(beta, delta);
    if (beta == 0.0 || delta == 0.0) return 0.0;  /* delta == 0 only when S = μI already */
    return beta / delta;
}

int pl_hscore_reg(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    (void)o;
    hscore_setup s;
    int rc;
    if ((rc = setup_init(d, "hscore_reg", 0.0, &s, err))) return rc;  /* ddof 0 */
    size_t D = s.st->D, N = s.st->N;
    pl_mat *cov = &s.cov;
    double norm4;
    if ((rc = sum_norm4(d, s.m, &norm4, err))) {
        pl_err_prefix(err, "hscore_reg");
        goto cleanup;
    }
    double alpha = ledoit_wolf_alpha(cov, N, norm4);
    double mu = 0.0;
    for (size_t i = 0; i < D; i++) mu += PL_AT(cov, i, i);
    mu /= (double)D;
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++) PL_AT(cov, i, j) *= 1.0 - alpha;
    for (size_t i = 0; i < D; i++) PL_AT(cov, i, i) += alpha * mu;
    double h;
    if ((rc = between_trace(s.st, cov, &s.dm, &h, "hscore_reg", err))) goto cleanup;
    *out = (1.0 - alpha) * h;
    if (!isfinite(*out))
        rc = pl_err_set(err, PL_ENUMERIC, "hscore_reg: the score is not finite (%g)", *out);
cleanup:
    setup_release(&s);
    return rc;
}
