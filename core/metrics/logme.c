/* logme.c — LogME (You et al., ICML'21 and JMLR'22), as thuml/LogME's LogME.py computes it.
 *
 * For each target column y (class indicator, or a real target) LogME maximises the evidence of
 * Bayesian linear regression y ~ N(X m, 1/beta), m ~ N(0, 1/alpha) over (alpha, beta) and
 * reports evidence / N, averaged over columns. Everything is written in the eigenbasis of XᵀX:
 * with XᵀX = V diag(sigma) Vᵀ and u = X v / sqrt(sigma), the per-column inputs are only
 * x = uᵀ y = Vᵀ (Xᵀ y) / sqrt(sigma) and ‖y‖².
 *
 * N > D (thuml's `truncated_svd`): sigma and V come from the D×D Gram of the cached statistics
 * and Xᵀ y is a class sum, so no N×D copy is made. N <= D: thuml takes the thin SVD of X itself
 * (k = N components, no cutoff); we do the same on a dense copy, which is at most D×D.
 *
 * Rank deficiency, matching what the official code does in floating point (checked against it
 * on rank-deficient inputs at several scales): its SVD of XᵀX never returns exact zeros for
 * null directions (not even for all-zero feature columns: ~eps·‖XᵀX‖), so they pass its cutoff
 * sqrt(s) > 1e-10 and each adds log(alpha) to the log-determinant with a negligible x. We treat
 * all-zero columns and eigenvalues below the solver's noise floor (D·eps·λmax) as such null
 * directions (sigma = 0, x = 0), and drop them, like the cutoff, only when even the noise floor
 * eps·λmax would be below 1e-20. Genuine eigenvalues <= 1e-20 are dropped. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../linalg.h"
#include "metric.h"

#define LOGME_2PI 6.283185307179586476925286766559

/* The spectrum shared by every target column: sigma (k kept values). */
typedef struct logme_spec {
    size_t N, D;     /* data shape; D enters the evidence as D/2·log(alpha) */
    size_t k;        /* kept components (normal + null) */
    size_t kn;       /* the first kn of them are normal (x computed); the rest are null */
    double *sigma;   /* k values; null ones are 0 */
    pl_mat u;        /* N <= D: the left singular vectors (N × N) */
} logme_spec;

static void spec_release(logme_spec *sp) {
    free(sp->sigma);
    pl_mat_release(&sp->u);
    memset(sp, 0, sizeof *sp);
}

/* The eigenvalues of the dataset's Gram restricted to its nonzero columns (an all-zero feature
 * column has a zero diagonal and vice versa), and m vectors Xᵀy (rows of a, m×D) in its
 * eigenbasis: cols/dn get those columns, w (dn) the eigenvalues ascending, p (m×dn) the rows
 * Vᵀ(Xᵀy restricted to cols) in w's order. The Gram is written straight into the matrix the
 * solver works in (for a moved dataset, derived there from the root's; only its upper triangle
 * is read) and its eigenvectors are never formed (pl_eigh_project). */
static int gram_eigh_project(pl_data *d, const pl_mat *a, size_t **cols, size_t *dn, double **w,
                             pl_mat *p, pl_err *err) {
    size_t D = pl_data_dim(d), m = 0;
    pl_mat full = {0}, g = {0};
    int rc;
    if (!(*cols = pl_alloc(D ? D : 1, sizeof **cols, err))) return PL_ENOMEM;
    if ((rc = pl_mat_init(&full, D, D, err))) return rc;
    if ((rc = pl_data_gram_upper(d, &full, err))) goto cleanup;
    for (size_t j = 0; j < D; j++)
        if (PL_AT(&full, j, j) != 0.0) (*cols)[m++] = j;
    *dn = m;
    if (m == D) {
        g = full;
        full = (pl_mat){0};
    } else {
        if ((rc = pl_mat_init(&g, m, m, err))) goto cleanup;
        for (size_t i = 0; i < m; i++)   /* cols ascending: (i <= j) stays in the upper triangle */
            for (size_t j = i; j < m; j++) PL_AT(&g, i, j) = PL_AT(&full, (*cols)[i], (*cols)[j]);
    }
    pl_mat_release(&full);
    if (!(*w = pl_alloc(m ? m : 1, sizeof **w, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    if ((rc = pl_mat_init(p, a->rows, m ? m : 1, err))) goto cleanup;
    p->cols = m;
    for (size_t r = 0; r < a->rows; r++)
        for (size_t j = 0; j < m; j++) PL_AT(p, r, j) = PL_AT(a, r, (*cols)[j]);
    rc = pl_eigh_project(&g, *w, p, err);
cleanup:
    pl_mat_release(&full);
    pl_mat_release(&g);
    return rc;
}

/* N > D (thuml's truncated_svd): the spectrum from the Gram, and xs (m × k) = the projections
 * x = uᵀy = Vᵀ(Xᵀy) / sqrt(sigma) of the m vectors Xᵀy given as rows of a (m × D); the null
 * components' x are 0. */
static int spec_from_gram(pl_data *d, const pl_mat *a, logme_spec *sp, pl_mat *xs, pl_err *err) {
    double *w = NULL;
    size_t *cols = NULL, dn = 0;
    pl_mat p = {0};
    int rc;
    sp->N = pl_data_rows(d);
    sp->D = pl_data_dim(d);
    if ((rc = gram_eigh_project(d, a, &cols, &dn, &w, &p, err))) goto cleanup;
    double lmax = 0.0;
    for (size_t i = 0; i < dn; i++) lmax = fmax(lmax, w[i]);
    double noise = lmax * (double)sp->D * DBL_EPSILON;
    int keep_null = lmax * DBL_EPSILON > 1e-20;
    /* w ascends, so the normal components are the last kn: i0.. */
    size_t kn = 0, knull = 0, i0 = dn;
    for (size_t i = 0; i < dn; i++) {
        if (w[i] > noise && w[i] > 1e-20) {
            if (!kn) i0 = i;
            kn++;
        } else if (keep_null) {
            knull++;
        }
    }
    if (keep_null) knull += sp->D - dn;   /* the all-zero columns */
    sp->kn = kn;
    sp->k = kn + knull;
    if (!(sp->sigma = pl_alloc(sp->k ? sp->k : 1, sizeof *sp->sigma, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    if ((rc = pl_mat_init(xs, a->rows, sp->k ? sp->k : 1, err))) goto cleanup;
    for (size_t c = 0; c < kn; c++) {
        double s = sqrt(w[i0 + c]);
        sp->sigma[c] = s * s;   /* thuml squares the square root: same rounding */
        for (size_t r = 0; r < a->rows; r++) PL_AT(xs, r, c) = PL_AT(&p, r, i0 + c) / s;
    }
cleanup:
    free(w);
    free(cols);
    pl_mat_release(&p);
    return rc;
}

/* N <= D: thin SVD of X, k = N, no cutoff (thuml's np.linalg.svd branch). Needs every row at
 * once, but N <= D so the copy is at most D×D. */
static int spec_from_svd(pl_data *d, logme_spec *sp, pl_err *err) {
    pl_mat x = {0};
    int rc;
    size_t N = pl_data_rows(d);
    sp->N = N;
    sp->D = pl_data_dim(d);
    if ((rc = pl_data_dense(d, &x, err))) goto cleanup;
    if ((rc = pl_mat_init(&sp->u, N, N, err))) goto cleanup;
    if (!(sp->sigma = pl_alloc(N ? N : 1, sizeof *sp->sigma, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    if ((rc = pl_svd(&x, &sp->u, sp->sigma, NULL, err))) goto cleanup;
    for (size_t i = 0; i < N; i++) sp->sigma[i] *= sp->sigma[i];
    sp->k = sp->kn = N;
cleanup:
    pl_mat_release(&x);
    return rc;
}

/* thuml's _fit_fixed_point inner loop for one column: sigma (k), x (k), yy = ‖y‖². */
static double evidence_fixed_point(const logme_spec *sp, const double *x, double yy) {
    const double *sigma = sp->sigma;
    size_t k = sp->k;
    double N = (double)sp->N, D = (double)sp->D;
    double x2sum = 0.0;
    for (size_t i = 0; i < k; i++) x2sum += x[i] * x[i];
    double res_x2 = yy - x2sum;
    double alpha = 1.0, beta = 1.0, m2 = 0.0, res2 = 0.0;
    for (int it = 0; it < 11; it++) {
        double t = alpha / beta, gamma = 0.0;
        m2 = 0.0;
        res2 = 0.0;
        for (size_t i = 0; i < k; i++) {
            double x2 = x[i] * x[i], ts = t + sigma[i], q = 1.0 + sigma[i] / t;
            gamma += sigma[i] / (sigma[i] + t);
            m2 += sigma[i] * x2 / (ts * ts);
            res2 += x2 / (q * q);
        }
        res2 += res_x2;
        alpha = gamma / (m2 + 1e-5);
        beta = (N - gamma) / (res2 + 1e-5);
        double t_new = alpha / beta;
        if (fabs(t_new - t) / t <= 1e-3) break;
    }
    /* The final evidence: last alpha, beta; m2, res2 from the last in-loop t (as thuml). */
    double logdet = 0.0;
    for (size_t i = 0; i < k; i++) logdet += log(alpha + beta * sigma[i]);
    double ev = D / 2.0 * log(alpha) + N / 2.0 * log(beta) - 0.5 * logdet - beta / 2.0 * res2 -
                alpha / 2.0 * m2 - N / 2.0 * log(LOGME_2PI);
    return ev / N;
}

/* LogME reads XᵀX itself (it is not translation-invariant). Far from the origin XᵀX is
 * N·m mᵀ + the scatter W, and float64 keeps W only to ~eps·(N‖m‖² + tr W) per entry, so the
 * spectrum LogME needs is rounding noise: refuse when that noise exceeds 1e-6 of W's mean
 * eigenvalue tr W / D (e.g. with unit spread in D = 16, a mean beyond ~1e4; the fixtures and
 * ordinary features, mean/spread ~1–100, are orders of magnitude inside). */
static int check_far(pl_data *d, const char *who, pl_err *err) {
    const pl_stats *st;
    int rc = pl_data_stats(d, 0, &st, err);
    if (rc) return rc;
    size_t D = st->D, C = st->C;
    double N = (double)st->N, mm = 0.0, tw = 0.0;
    for (size_t j = 0; j < D; j++) {
        double s = 0.0, q = 0.0;
        for (size_t c = 0; c < C; c++) {
            s += st->Sc[c * D + j];
            q += st->Qc[c * D + j];
        }
        double mr = s / N, m = st->origin[j] + mr;
        mm += m * m;
        tw += q - N * mr * mr;
    }
    /* tw == 0: every row is the same point, so XᵀX = N·m·mᵀ is exact and nothing is lost */
    if (tw > 0 && DBL_EPSILON * (N * mm + tw) > 1e-6 * tw / (double)D)
        return pl_err_set(err, PL_ENUMERIC,
                          "%s: %s is too far from the origin relative to its spread (mean norm "
                          "%.3g, spread %.3g): XᵀX in double precision keeps too little of the "
                          "spread for LogME, which depends on the origin (not translation-"
                          "invariant); translate every model's features the same way (e.g. "
                          "centre them) if that is meant", who, pl_data_name(d), sqrt(mm),
                          sqrt(tw / N));
    return PL_OK;
}

static int finish(const char *who, double sum, size_t cols, double *out, pl_err *err) {
    double v = sum / (double)cols;
    if (!isfinite(v))
        return pl_err_set(err, PL_ENUMERIC,
                          "%s: the evidence is not finite (features all zero or degenerate?)", who);
    *out = v;
    return PL_OK;
}

int pl_logme(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    logme_spec sp;
    pl_mat xs = {0};
    int rc;
    (void)o;
    memset(&sp, 0, sizeof sp);
    size_t C = pl_data_classes(d);
    const size_t *cnt = pl_data_counts(d);
    if (pl_data_rows(d) > pl_data_dim(d)) {
        const pl_stats *st;
        /* the root's one pass computes the Gram too: check_far then reads the cache */
        if ((rc = pl_data_stats_gram_root(d, &st, err))) goto cleanup;
        if ((rc = check_far(d, "logme", err))) goto cleanup;
        pl_mat s = pl_mat_wrap(st->S, C, st->D);   /* Xᵀ y_c = class sum */
        if ((rc = spec_from_gram(d, &s, &sp, &xs, err))) goto cleanup;
    } else {
        if ((rc = check_far(d, "logme", err))) goto cleanup;
        if ((rc = spec_from_svd(d, &sp, err))) goto cleanup;
        if ((rc = pl_mat_init(&xs, C, sp.k ? sp.k : 1, err))) goto cleanup;
        /* x_c = uᵀ y_c = sum of the rows of u in class c */
        const int *y = pl_data_y(d);
        for (size_t i = 0; i < sp.N; i++)
            for (size_t j = 0; j < sp.k; j++) PL_AT(&xs, (size_t)y[i], j) += PL_AT(&sp.u, i, j);
    }
    double sum = 0.0;
    for (size_t c = 0; c < C; c++)
        sum += evidence_fixed_point(&sp, &PL_AT(&xs, c, 0), (double)cnt[c]);
    rc = finish("logme", sum, C, out, err);
cleanup:
    pl_mat_release(&xs);
    spec_release(&sp);
    return rc;
}

typedef struct {
    const pl_mat *targets;
    pl_mat *xty;
} xty_ctx;

static int xty_block(void *ud, size_t r0, size_t nr, double *x, pl_err *err) {
    xty_ctx *cx = ud;
    pl_mat xb = pl_mat_wrap(x, nr, cx->xty->cols);
    pl_mat yb = pl_mat_view(cx->targets, r0, 0, nr, cx->targets->cols);
    return pl_gemm(1, 0, 1.0, &yb, &xb, 1.0, cx->xty, err);
}

int pl_logme_targets(pl_data *d, const pl_mat *targets, double *out, pl_err *err) {
    logme_spec sp;
    pl_mat xs = {0}, xty = {0};
    int rc;
    memset(&sp, 0, sizeof sp);
    size_t N = pl_data_rows(d), D = pl_data_dim(d);
    if (!targets || targets->rows != N || targets->cols == 0)
        return pl_err_set(err, PL_EINVAL,
                          "logme: targets must be %zu × K with K >= 1, got %zu × %zu",
                          N, targets ? targets->rows : 0, targets ? targets->cols : 0);
    size_t K = targets->cols;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < K; j++)
            if (!isfinite(PL_AT(targets, i, j)))
                return pl_err_set(err, PL_EINVAL, "logme: target (%zu, %zu) is not finite", i, j);
    const pl_stats *st;
    if ((N > D && (rc = pl_data_stats_gram_root(d, &st, err))) ||
        (rc = check_far(d, "logme", err)))
        return rc;
    if (N > D) {
        /* Xᵀ Y (kept as K × D) in one streaming pass */
        if ((rc = pl_mat_init(&xty, K, D, err))) goto cleanup;
        xty_ctx cx = {targets, &xty};
        if ((rc = pl_data_foreach_block(d, 0, xty_block, &cx, err))) goto cleanup;
        if ((rc = spec_from_gram(d, &xty, &sp, &xs, err))) goto cleanup;
    } else {
        if ((rc = spec_from_svd(d, &sp, err))) goto cleanup;
        if ((rc = pl_mat_init(&xs, K, sp.k ? sp.k : 1, err))) goto cleanup;
        pl_mat xk = pl_mat_view(&xs, 0, 0, K, sp.k);
        if ((rc = pl_gemm(1, 0, 1.0, targets, &sp.u, 0.0, &xk, err))) goto cleanup;
    }
    double sum = 0.0;
    for (size_t j = 0; j < K; j++) {
        double yy = 0.0;
        for (size_t i = 0; i < N; i++) yy += PL_AT(targets, i, j) * PL_AT(targets, i, j);
        sum += evidence_fixed_point(&sp, &PL_AT(&xs, j, 0), yy);
    }
    rc = finish("logme", sum, K, out, err);
cleanup:
    pl_mat_release(&xty);
    pl_mat_release(&xs);
    spec_release(&sp);
    return rc;
}

/* thuml's each_evidence (the ICML'21 iteration, epsilon 1e-5) for one class, in the eigenbasis
 * of G = XᵀX: s (D values), tmp = Vᵀ Xᵀ y, yy = ‖y‖². With w = Vᵀ m,
 * ‖y − X m‖² = yy − 2 tmpᵀw + Σ s w². */
static double evidence_icml(const double *s, const double *tmp, size_t D, double N, double yy) {
    const double eps = 1e-5;
    double alpha = 1.0, beta = 1.0, lam = 1.0, alpha_de = 0.0, beta_de = 0.0;
    for (int it = 0; it < 11; it++) {
        double gamma = 0.0, cross = 0.0, quad = 0.0;
        alpha_de = 0.0;
        for (size_t i = 0; i < D; i++) {
            double w = tmp[i] * beta / (alpha + beta * s[i]);
            gamma += s[i] / (s[i] + lam);
            alpha_de += w * w;
            cross += tmp[i] * w;
            quad += s[i] * w * w;
        }
        alpha = gamma / (alpha_de + eps);
        beta_de = yy - 2.0 * cross + quad;
        beta = (N - gamma) / (beta_de + eps);
        double new_lam = alpha / beta;
        if (fabs(new_lam - lam) / lam < 0.01) break;
        lam = new_lam;
    }
    double logdet = 0.0;
    for (size_t i = 0; i < D; i++) logdet += log(alpha + beta * s[i]);
    double ev = (double)D / 2.0 * log(alpha) + N / 2.0 * log(beta) - 0.5 * logdet -
                beta / 2.0 * (beta_de + eps) - alpha / 2.0 * (alpha_de + eps) -
                N / 2.0 * log(LOGME_2PI);
    return ev / N;
}

/* ICML variant: thuml's _fit_icml takes the full SVD of XᵀX (all D singular values, no cutoff;
 * for a symmetric PSD matrix they are |eigenvalues|). All-zero columns are split off exactly
 * (s = 0, tmp = 0) instead of leaving them to the solver's rounding. */
int pl_logme_icml(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    const pl_stats *st;
    size_t *cols = NULL, dn = 0;
    pl_mat tmp = {0};
    double *w = NULL, *s = NULL;
    int rc;
    (void)o;
    if ((rc = pl_data_stats_gram_root(d, &st, err))) goto cleanup;
    if ((rc = check_far(d, "logme_icml", err))) goto cleanup;
    size_t D = st->D, C = st->C;
    pl_mat sm = pl_mat_wrap(st->S, C, D);
    /* tmp (C × dn) = Vᵀ S_c; the all-zero columns' s = 0 and tmp = 0 are appended */
    if ((rc = gram_eigh_project(d, &sm, &cols, &dn, &w, &tmp, err))) goto cleanup;
    if (!(s = pl_alloc(D ? D : 1, sizeof *s, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < dn; i++) s[i] = fabs(w[i]);
    double *x = pl_alloc(D ? D : 1, sizeof *x, err);
    if (!x) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    double sum = 0.0;
    for (size_t c = 0; c < C; c++) {
        memcpy(x, &PL_AT(&tmp, c, 0), dn * sizeof *x);
        sum += evidence_icml(s, x, D, (double)st->N, st->n[c]);
    }
    free(x);
    rc = finish("logme_icml", sum, C, out, err);
cleanup:
    pl_mat_release(&tmp);
    free(w);
    free(s);
    free(cols);
    return rc;
}
