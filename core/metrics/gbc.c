/* gbc.c — GBC, the Gaussian Bhattacharyya Coefficient (Pándy et al., "Transferability
 * Estimation using Bhattacharyya Class Separability", CVPR 2022).
 *
 * Each class c is a Gaussian with the class mean m_c and the per-dimension population variance
 * v_c (ddof = 0, clamped below at 1e-4 as the official code does for constant features);
 * type=spherical replaces v_c by its mean over dimensions (one number per class). For two
 * classes, with v̄ = (v_1 + v_2)/2, the Bhattacharyya distance is
 *     DB = Σ_j (m_1j − m_2j)² / v̄_j / 8 + ½ (Σ_j log v̄_j − ½ Σ_j log v_1j − ½ Σ_j log v_2j)
 * (spherical: the same with scalars, so the log terms are NOT multiplied by D — as official),
 * and the score is −Σ over ORDERED pairs c1 ≠ c2 of exp(−DB) (each unordered pair counts twice;
 * <= 0, higher is better).
 *
 * Options: type=diagonal|spherical (default diagonal), pca=K (default 0 = raw features; K > 0:
 * first project on the top min(K, N, D) principal components, as google-research's pipeline with
 * PCA(n_components=K, svd_solver='full') — see pca.h for the covariance route and its agreement).
 *
 * Reference: google-research stable_transfer/transferability/gbc.py (fixture keys gbc,
 * gbc_spherical, gbc_pca64_diagonal, gbc_pca64_spherical agree to ~3e-13 relative).
 *
 * Cost: raw features: from the cached class statistics (n, S, Q), O(C²·D) time, O(C·D + C²) memory
 * (sums about the statistics' origin, so the variance Q/n − (S/n)² loses ~1e-16·(m_c − o)²/var,
 * o near the data: features far from 0 cost nothing). With pca=K:
 * the PCA fit (Gram O(N·D²) + O(D³)) and one pass over the rows, O(N·D·k); the class moments of
 * the scores are accumulated around their known class means, so no cancellation.
 *
 * Degenerate inputs: a class with one sample or a constant column has variance 0 → clamped to
 * 1e-4, finite (as official). N < D and C = 2 are fine. Far-apart classes give exp(−DB) = 0,
 * a score of 0. pca=K needs N >= 2. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../linalg.h"
#include "../pca.h"
#include "metric.h"

#define GBC_VAR_FLOOR 1e-4

/* One block of PCA scores: Σ (t − m_c) into acc and Σ (t − m_c)² into var. */
typedef struct {
    const pl_pca *p;
    const int *y;
    const double *mean;
    double *acc, *var, *sc;
} gbc_ctx;

static int gbc_block(void *ud, size_t r0, size_t nr, double *x, pl_err *err) {
    gbc_ctx *cx = ud;
    size_t k = cx->p->k;
    int rc = pl_pca_project_rows(cx->p, x, nr, cx->sc, err);
    if (rc) return rc;
    for (size_t i = 0; i < nr; i++) {
        size_t c = (size_t)cx->y[r0 + i];
        for (size_t a = 0; a < k; a++) {
            double t = cx->sc[i * k + a] - cx->mean[c * k + a];
            cx->acc[c * k + a] += t;
            cx->var[c * k + a] += t * t;
        }
    }
    return PL_OK;
}

/* Class means and clamped variances (C×k each) of the PCA scores, in one pass over the rows. */
static int gbc_pca_moments(pl_data *d, long K, double *mean, double *var, size_t *kout,
                           pl_err *err) {
    int rc;
    pl_pca p;
    const pl_stats *st;
    double *sc = NULL, *acc = NULL, *ctr = NULL;
    size_t D = pl_data_dim(d), C = pl_data_classes(d);
    size_t B = pl_data_block_rows(d);
    if ((rc = pl_pca_fit(d, (size_t)K, &p, err))) return rc;
    size_t k = p.k;
    *kout = k;
    if ((rc = pl_data_stats(d, 1, &st, err))) goto cleanup;
    if (!(sc = pl_alloc(B, k * sizeof(double), err)) ||
        !(acc = pl_alloc(C, k * sizeof(double), err)) ||
        !(ctr = pl_alloc(C, D * sizeof(double), err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    /* known class means in PCA coordinates: m_c = (Sc_c / n_c − centre) · Vᵀ */
    pl_stats_class_means(st, ctr);
    for (size_t c = 0; c < C; c++) {
        for (size_t j = 0; j < D; j++) ctr[c * D + j] -= p.centre[j];
        for (size_t a = 0; a < k; a++) {
            double s = 0.0;
            for (size_t j = 0; j < D; j++) s += ctr[c * D + j] * p.components[a * D + j];
            mean[c * k + a] = s;
        }
    }
    memset(var, 0, C * k * sizeof(double));
    gbc_ctx cx = {&p, pl_data_y(d), mean, acc, var, sc};
    if ((rc = pl_data_foreach_block(d, 0, gbc_block, &cx, err))) goto cleanup;
    for (size_t c = 0; c < C; c++)
        for (size_t a = 0; a < k; a++) {
            double n = st->n[c], da = acc[c * k + a] / n;
            double v = var[c * k + a] / n - da * da;
            mean[c * k + a] += da;
            var[c * k + a] = v > GBC_VAR_FLOOR ? v : GBC_VAR_FLOOR;
        }
cleanup:
    pl_pca_release(&p);
    free(sc);
    free(acc);
    free(ctr);
    return rc;
}

int pl_gbc(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    static const char *const types[] = {"diagonal", "spherical", NULL};
    int rc, spherical;
    long K;
    double *mean = NULL, *var = NULL, *slog = NULL, *sph = NULL, *bc = NULL;
    int *order = NULL;
    size_t N = pl_data_rows(d), D = pl_data_dim(d), C = pl_data_classes(d), k = D;
    if ((rc = pl_opt_choice(o, "gbc", "type", types, 0, &spherical, err)) ||
        (rc = pl_opt_int(o, "gbc", "pca", 0, &K, err)))
        return rc;
    if (K < 0)
        return pl_err_set(err, PL_EINVAL, "gbc: option pca=%ld: expected 0 (no PCA) or a positive "
                          "number of components", K);
    if (!(mean = pl_alloc(C, D * sizeof(double), err)) ||
        !(var = pl_alloc(C, D * sizeof(double), err)) ||
        !(slog = pl_alloc(C, sizeof(double), err)) || !(sph = pl_alloc(C, sizeof(double), err)) ||
        !(order = pl_alloc(C, sizeof(int), err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    if (K > 0) {
        if ((rc = gbc_pca_moments(d, K, mean, var, &k, err))) {
            pl_err_prefix(err, "gbc");
            goto cleanup;
        }
    } else {
        /* means relative to the statistics' origin: only their differences enter */
        const pl_stats *st;
        if ((rc = pl_data_stats(d, 0, &st, err))) goto cleanup;
        pl_stats_class_means(st, mean);
        pl_stats_class_vars(st, var);
        for (size_t i = 0; i < C * D; i++)
            if (!(var[i] > GBC_VAR_FLOOR)) var[i] = GBC_VAR_FLOOR;
    }
    /* per-class Σ log v (diagonal) or the spherical variance */
    for (size_t c = 0; c < C; c++) {
        double s = 0.0, l = 0.0;
        for (size_t j = 0; j < k; j++) {
            s += var[c * k + j];
            l += log(var[c * k + j]);
        }
        sph[c] = s / (double)k;
        slog[c] = spherical ? log(sph[c]) : l;
    }
    /* classes in order of first appearance, as the official loop (only rounding depends on it) */
    {
        const int *y = pl_data_y(d);
        size_t seen = 0;
        char *mark = pl_alloc(C, 1, err);
        if (!mark) {
            rc = PL_ENOMEM;
            goto cleanup;
        }
        for (size_t i = 0; i < N && seen < C; i++)
            if (!mark[y[i]]) {
                mark[y[i]] = 1;
                order[seen++] = y[i];
            }
        free(mark);
    }
    /* DB is symmetric: one evaluation per unordered pair (the official evaluates both orders,
     * which differ only in rounding), then the sum over ordered pairs in the official order */
    if ((rc = pl_check_class_table("gbc", C, 0, err))) goto cleanup;
    if (!(bc = pl_alloc(C, C * sizeof(double), err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    for (size_t c1 = 0; c1 < C; c1++) {
        if ((rc = pl_check_interrupt(err))) goto cleanup;
        const double *m1 = mean + c1 * k, *v1 = var + c1 * k;
        for (size_t c2 = c1 + 1; c2 < C; c2++) {
            const double *m2 = mean + c2 * k, *v2 = var + c2 * k;
            double first = 0.0, second;
            if (spherical) {
                double avg = 0.5 * (sph[c1] + sph[c2]);
                for (size_t j = 0; j < k; j++) {
                    double dm = m1[j] - m2[j];
                    first += dm * dm / avg;
                }
                second = log(avg) - 0.5 * slog[c1] - 0.5 * slog[c2];
            } else {
                double la = 0.0;
                for (size_t j = 0; j < k; j++) {
                    double avg = 0.5 * (v1[j] + v2[j]), dm = m1[j] - m2[j];
                    first += dm * dm / avg;
                    la += log(avg);
                }
                second = la - 0.5 * slog[c1] - 0.5 * slog[c2];
            }
            bc[c1 * C + c2] = bc[c2 * C + c1] = exp(-(first / 8.0 + 0.5 * second));
        }
    }
    double total = 0.0;
    for (size_t a = 0; a < C; a++) {
        double row = 0.0;
        for (size_t b = 0; b < C; b++)
            if (b != a) row += bc[(size_t)order[a] * C + (size_t)order[b]];
        total += row;
    }
    *out = -total;
    if (!isfinite(*out))
        rc = pl_err_set(err, PL_ENUMERIC, "gbc: the score is not finite (%g)", *out);
cleanup:
    free(mean);
    free(var);
    free(slog);
    free(sph);
    free(order);
    free(bc);
    return rc;
}
