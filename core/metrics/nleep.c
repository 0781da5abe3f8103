/* nleep.c — NLEEP, Gaussian-mixture LEEP (Li et al., "Ranking Neural Checkpoints", CVPR 2021),
 * as PED's NLEEP(X, y, component_ratio=5) in lixiaotong97/PED metrics.py.
 *
 * 1. PCA keeping the smallest k whose cumulative explained variance ratio is > 0.8 (pca.h).
 * 2. A Gaussian mixture with K = ratio·C full-covariance components fitted on the N×k scores,
 *    as scikit-learn 1.2.1's GaussianMixture(n_components=K) with its defaults, step by step:
 *    - init: KMeans(K, n_init=1) — k-means++ (first centre uniform, then 2 + ⌊ln K⌋ candidate
 *      centres drawn ∝ D² and the one lowering the potential most kept), then Lloyd iterations
 *      (max 300; stop when the labels repeat or Σ‖centre shift‖² <= 1e-4 · mean column
 *      variance; empty clusters take the points farthest from their centres, farthest first —
 *      scikit-learn's argpartition leaves that order unspecified); responsibilities = the
 *      one-hot k-means labels;
 *    - EM: at most 100 iterations, stop when the mean log-likelihood moves by < 1e-3,
 *      covariances + 1e-6·I (reg_covar), component counts + 10·eps; the one change: a
 *      responsibility < 1e-15 is left out of the covariance sums (see gmm_mstep);
 *    - posteriors p(z | x_i) from the final parameters (predict_proba).
 *    Randomness: core/rng (NumPy RandomState's MT19937), so seed s draws the k-means++ seeds of
 *    random_state=s — the fixtures pin random_state=0 (the official code passes none, so PED's
 *    own NLEEP differs run to run by up to ±0.03).
 * 3. With P(y, z) = Σ_{i: y_i = y} p(z | x_i) / N and P(y | z) = P(y, z) / Σ_y' P(y', z):
 *    score = (1/N) Σ_i Σ_z p(z | x_i) P(y_i | z)  (no log, as official; in [0, 1]);
 *    log=true gives (1/N) Σ_i log Σ_z p(z | x_i) P(y_i | z) (the LEEP form of the paper).
 *
 * Options: ratio=5 (components per class, >= 1), log=false; the seed is opts->seed.
 *
 * Agreement: fixture key nleep to ~4e-15 (same k-means++ draws; PCA basis and sign do not
 * matter, k-means and the GMM are rotation invariant). Rounding-level differences can still flip
 * a k-means label on other data and move the score by up to ~1e-2. Same seed → same bits (for a
 * fixed BLAS thread count).
 *
 * Cost: PCA (Gram O(N·D²) shared + O(D³)) and an O(N·D·k) pass to an N×k dense copy (EM needs
 * every sample at each iteration); k-means O(N·K·k) per iteration; EM per iteration: the E-step
 * is a product Z·L⁻ᵀ per component, ~N·k²·K flops through BLAS (for k >= 32 one gemm over a
 * group of components side by side, else a triangular product per component; see gmm_fit),
 * the M-step one syrk per component over the samples whose responsibility is >= 1e-15 (usually
 * a few per sample, <= N·k²·K flops); memory O(N·(k + K) + K·k²). Measured (N = 10000,
 * D = 2048, C = 10, power-law spectrum giving k = 107; one OpenBLAS thread): 5.3 s CPU against
 * 20.4 s for PED's NLEEP with scikit-learn 1.2.1 on the same OpenBLAS (k = 9: 3.2 s vs 12.8 s);
 * the PCA (Gram + top-k eigenvectors instead of a full SVD) and the blocked E-step make the
 * difference.
 *
 * Degenerate inputs: a one-sample class, constant columns, N < D, C = 2 are fine. N < K (fewer
 * samples than mixture components) is an error, as in scikit-learn. A component whose covariance
 * is numerically not positive definite despite reg_covar is an error (scikit-learn raises too).
 * A component with zero total responsibility would give 0/0 in the official P(y | z); it is
 * left out here (it contributes nothing to any sample). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../linalg.h"
#include "../pca.h"
#include "../rng.h"
#include "metric.h"

#define NLEEP_EPS 2.220446049250313e-16
#define NLEEP_REG 1e-6
#define NLEEP_TOL 1e-3
#define NLEEP_MAX_ITER 100
#define KM_MAX_ITER 300
#define KM_TOL 1e-4
#define NLEEP_LOG_2PI 1.8378770664093453
/* Responsibilities below this are left out of the covariance sums (see gmm_mstep). */
#define NLEEP_RESP_SKIP 1e-15

/* ---------------- k-means (scikit-learn 1.2.1 KMeans, n_init=1, lloyd) ---------------- */

/* dist[t*N + i] = max(|c_t|² − 2 c_t·x_i + |x_i|², 0) for the rows c_t = x[ids[t]] */
static int km_sqdist(const double *x, const double *xsq, size_t N, size_t d, const size_t *ids,
                     size_t nt, double *cbuf, double *dist, pl_err *err) {
    for (size_t t = 0; t < nt; t++) memcpy(cbuf + t * d, x + ids[t] * d, d * sizeof(double));
    pl_mat cm = pl_mat_wrap(cbuf, nt, d), xm = pl_mat_wrap((double *)x, N, d);
    pl_mat dm = pl_mat_wrap(dist, nt, N);
    int rc = pl_gemm(0, 1, -2.0, &cm, &xm, 0.0, &dm, err);
    if (rc) return rc;
    for (size_t t = 0; t < nt; t++) {
        double cn = xsq[ids[t]];
        for (size_t i = 0; i < N; i++) {
            double v = dist[t * N + i] + cn;
            v += xsq[i];
            dist[t * N + i] = v > 0.0 ? v : 0.0;
        }
    }
    return PL_OK;
}

/* k-means++ seeding: centre indices into ids[0..K). */
static int km_plusplus(const double *x, const double *xsq, size_t N, size_t d, size_t K,
                       pl_rng *rng, size_t *ids, pl_err *err) {
    int rc = PL_OK;
    size_t ntr = 2 + (size_t)log((double)K);
    double *closest = NULL, *dist = NULL, *cum = NULL, *cbuf = NULL;
    size_t *cand = NULL;
    if (!(closest = pl_alloc(N, sizeof(double), err)) ||
        !(dist = pl_alloc(ntr, N * sizeof(double), err)) ||
        !(cum = pl_alloc(N, sizeof(double), err)) ||
        !(cbuf = pl_alloc(ntr, d * sizeof(double), err)) ||
        !(cand = pl_alloc(ntr, sizeof(size_t), err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    ids[0] = (size_t)pl_rng_interval(rng, N - 1);
    if ((rc = km_sqdist(x, xsq, N, d, ids, 1, cbuf, closest, err))) goto cleanup;
    double pot = 0.0;
    for (size_t i = 0; i < N; i++) pot += closest[i];
    for (size_t c = 1; c < K; c++) {
        double s = 0.0;
        for (size_t i = 0; i < N; i++) cum[i] = (s += closest[i]);
        for (size_t t = 0; t < ntr; t++) {
            double v = pl_rng_uniform(rng) * pot;
            /* searchsorted(cum, v, side='left'): first i with cum[i] >= v, clipped to N-1 */
            size_t lo = 0, hi = N;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cum[mid] < v) lo = mid + 1;
                else hi = mid;
            }
            cand[t] = lo < N ? lo : N - 1;
        }
        if ((rc = km_sqdist(x, xsq, N, d, cand, ntr, cbuf, dist, err))) goto cleanup;
        size_t best = 0;
        double best_pot = 0.0;
        for (size_t t = 0; t < ntr; t++) {
            double p = 0.0;
            double *row = dist + t * N;
            for (size_t i = 0; i < N; i++) {
                if (closest[i] < row[i]) row[i] = closest[i];
                p += row[i];
            }
            if (t == 0 || p < best_pot) {
                best_pot = p;
                best = t;
            }
        }
        pot = best_pot;
        memcpy(closest, dist + best * N, N * sizeof(double));
        ids[c] = cand[best];
    }
cleanup:
    free(closest);
    free(dist);
    free(cum);
    free(cbuf);
    free(cand);
    return rc;
}

/* labels[i] = argmin_j |c_j|² − 2 x_i·c_j (first on ties); with update, also the new sums. */
static int km_assign(const double *x, size_t N, size_t d, size_t K, const double *centers,
                     int *labels, double *sums, double *wts, double *buf, size_t chunk,
                     pl_err *err) {
    double *cn = buf + chunk * K;
    for (size_t j = 0; j < K; j++) {
        double s = 0.0;
        for (size_t a = 0; a < d; a++) s += centers[j * d + a] * centers[j * d + a];
        cn[j] = s;
    }
    if (sums) {
        memset(sums, 0, K * d * sizeof(double));
        memset(wts, 0, K * sizeof(double));
    }
    pl_mat cm = pl_mat_wrap((double *)centers, K, d);
    for (size_t r0 = 0; r0 < N; r0 += chunk) {
        size_t nr = N - r0 < chunk ? N - r0 : chunk;
        for (size_t i = 0; i < nr; i++) memcpy(buf + i * K, cn, K * sizeof(double));
        pl_mat xm = pl_mat_wrap((double *)x + r0 * d, nr, d), pm = pl_mat_wrap(buf, nr, K);
        int rc = pl_gemm(0, 1, -2.0, &xm, &cm, 1.0, &pm, err);
        if (rc) return rc;
        for (size_t i = 0; i < nr; i++) {
            const double *p = buf + i * K;
            size_t lab = 0;
            double m = p[0];
            for (size_t j = 1; j < K; j++)
                if (p[j] < m) {
                    m = p[j];
                    lab = j;
                }
            labels[r0 + i] = (int)lab;
            if (sums) {
                wts[lab] += 1.0;
                const double *xi = x + (r0 + i) * d;
                double *s = sums + lab * d;
                for (size_t a = 0; a < d; a++) s[a] += xi[a];
            }
        }
    }
    return PL_OK;
}

/* Lloyd's algorithm from the k-means++ centres; x is centred (as scikit-learn does). */
static int km_fit(const double *x, size_t N, size_t d, size_t K, pl_rng *rng, int *labels,
                  pl_err *err) {
    int rc = PL_OK;
    double *xsq = NULL, *centers = NULL, *cnew = NULL, *wts = NULL, *buf = NULL, *far = NULL;
    size_t *ids = NULL, *order = NULL;
    int *old = NULL;
    size_t chunk = 4096 < N ? 4096 : N;
    if (!(xsq = pl_alloc(N, sizeof(double), err)) ||
        !(centers = pl_alloc(K, d * sizeof(double), err)) ||
        !(cnew = pl_alloc(K, d * sizeof(double), err)) ||
        !(wts = pl_alloc(K, sizeof(double), err)) ||
        !(buf = pl_alloc(chunk + 1, K * sizeof(double), err)) ||
        !(far = pl_alloc(N, sizeof(double), err)) || !(ids = pl_alloc(K, sizeof(size_t), err)) ||
        !(order = pl_alloc(N, sizeof(size_t), err)) || !(old = pl_alloc(N, sizeof(int), err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    /* tolerance: 1e-4 × mean column variance */
    double tol = 0.0;
    for (size_t a = 0; a < d; a++) {
        double m = 0.0, v = 0.0;
        for (size_t i = 0; i < N; i++) m += x[i * d + a];
        m /= (double)N;
        for (size_t i = 0; i < N; i++) v += (x[i * d + a] - m) * (x[i * d + a] - m);
        tol += v / (double)N;
    }
    tol = tol / (double)d * KM_TOL;
    for (size_t i = 0; i < N; i++) {
        double s = 0.0;
        for (size_t a = 0; a < d; a++) s += x[i * d + a] * x[i * d + a];
        xsq[i] = s;
    }
    if ((rc = km_plusplus(x, xsq, N, d, K, rng, ids, err))) goto cleanup;
    for (size_t j = 0; j < K; j++) memcpy(centers + j * d, x + ids[j] * d, d * sizeof(double));
    for (size_t i = 0; i < N; i++) old[i] = -1;

    int strict = 0;
    for (int it = 0; it < KM_MAX_ITER; it++) {
        pl_progress_step("nleep k-means iterations (at most)", (size_t)it, KM_MAX_ITER);
        if ((rc = pl_check_interrupt(err))) goto cleanup;
        if ((rc = km_assign(x, N, d, K, centers, labels, cnew, wts, buf, chunk, err)))
            goto cleanup;
        /* empty clusters take the points farthest from their (old) centres, farthest first */
        size_t nempty = 0;
        for (size_t j = 0; j < K; j++) nempty += wts[j] == 0.0;
        if (nempty) {
            for (size_t i = 0; i < N; i++) {
                const double *c = centers + (size_t)labels[i] * d;
                double s = 0.0;
                for (size_t a = 0; a < d; a++) s += (x[i * d + a] - c[a]) * (x[i * d + a] - c[a]);
                far[i] = s;
                order[i] = i;
            }
            /* partial selection of the nempty largest (nempty is small) */
            for (size_t e = 0; e < nempty; e++) {
                size_t b = e;
                for (size_t i = e + 1; i < N; i++)
                    if (far[order[i]] > far[order[b]]) b = i;
                size_t t = order[e];
                order[e] = order[b];
                order[b] = t;
            }
            size_t e = 0;
            for (size_t j = 0; j < K; j++) {
                if (wts[j] != 0.0) continue;
                size_t fi = order[e++], oc = (size_t)labels[fi];
                for (size_t a = 0; a < d; a++) {
                    cnew[oc * d + a] -= x[fi * d + a];
                    cnew[j * d + a] = x[fi * d + a];
                }
                wts[j] = 1.0;
                wts[oc] -= 1.0;
            }
        }
        double shift = 0.0;
        for (size_t j = 0; j < K; j++) {
            if (wts[j] > 0.0) {
                double al = 1.0 / wts[j];
                for (size_t a = 0; a < d; a++) cnew[j * d + a] *= al;
            }
            double s = 0.0;
            for (size_t a = 0; a < d; a++) {
                double e = centers[j * d + a] - cnew[j * d + a];
                s += e * e;
            }
            double cs = sqrt(s);
            shift += cs * cs;
        }
        double *t = centers;
        centers = cnew;
        cnew = t;
        if (memcmp(labels, old, N * sizeof(int)) == 0) {
            strict = 1;
            break;
        }
        if (shift <= tol) break;
        memcpy(old, labels, N * sizeof(int));
    }
    if (!strict)
        rc = km_assign(x, N, d, K, centers, labels, NULL, NULL, buf, chunk, err);
cleanup:
    free(xsq);
    free(centers);
    free(cnew);
    free(wts);
    free(buf);
    free(far);
    free(ids);
    free(order);
    free(old);
    return rc;
}

/* ---------------- Gaussian mixture (full covariances) ---------------- */

typedef struct {
    size_t N, d, K;
    const double *z;  /* N×d */
    double *w;        /* K */
    double *mu;       /* K×d */
    double *prec;     /* K×d×d: L⁻ᵀ (upper triangular), Σ = L Lᵀ */
    double *logdet;   /* K: Σ log diag(prec) */
    double *nk;       /* K */
    double *gather;   /* N×d scratch */
    double *y;        /* (E-step block rows)×(group·d) scratch */
    double *pcat;     /* d×(K·d): the precisions side by side, [P_1 … P_K] (group > 1) */
    size_t group;     /* components per E-step product */
} nleep_gmm;

/* Y = X · P with P (n×n) upper triangular: split recursively so the zero half of P is skipped
 * (about half the flops of one gemm). x, y, p are views with their own leading dimensions. */
static int trmm_upper(const pl_mat *x, const pl_mat *p, pl_mat *y, pl_err *err) {
    size_t n = p->rows;
    if (n <= 64) return pl_gemm(0, 0, 1.0, x, p, 0.0, y, err);
    size_t h = n / 2;
    pl_mat x1 = pl_mat_view(x, 0, 0, x->rows, h), x2 = pl_mat_view(x, 0, h, x->rows, n - h);
    pl_mat p11 = pl_mat_view(p, 0, 0, h, h), p12 = pl_mat_view(p, 0, h, h, n - h);
    pl_mat p22 = pl_mat_view(p, h, h, n - h, n - h);
    pl_mat y1 = pl_mat_view(y, 0, 0, y->rows, h), y2 = pl_mat_view(y, 0, h, y->rows, n - h);
    int rc;
    if ((rc = trmm_upper(&x1, &p11, &y1, err)) || (rc = trmm_upper(&x2, &p22, &y2, err)))
        return rc;
    return pl_gemm(0, 0, 1.0, &x1, &p12, 1.0, &y2, err);
}

/* From covariance in prec[k] (overwritten): Cholesky, L⁻ᵀ and its log-determinant. */
static int gmm_precision(nleep_gmm *g, size_t k, double *linv, pl_err *err) {
    size_t d = g->d;
    double *c = g->prec + k * d * d;
    pl_mat cm = pl_mat_wrap(c, d, d);
    int rc = pl_cholesky(&cm, err);
    if (rc)
        return pl_err_set(err, PL_ENUMERIC,
                          "nleep: Gaussian mixture component %zu has a covariance that is not "
                          "positive definite (collapsed samples); try a smaller ratio", k);
    /* L⁻¹ (lower) by forward substitution, column by column */
    memset(linv, 0, d * d * sizeof(double));
    for (size_t j = 0; j < d; j++) {
        linv[j * d + j] = 1.0 / c[j * d + j];
        for (size_t i = j + 1; i < d; i++) {
            double s = 0.0;
            for (size_t m = j; m < i; m++) s += c[i * d + m] * linv[m * d + j];
            linv[i * d + j] = -s / c[i * d + i];
        }
    }
    double ld = 0.0;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) c[i * d + j] = linv[j * d + i];
    for (size_t i = 0; i < d; i++) ld += log(c[i * d + i]);
    g->logdet[k] = ld;
    return PL_OK;
}

/* M-step from responsibilities r (N×K): counts, weights, means, covariances, precisions.
 * init: weights = nk / N (scikit-learn's _initialize), else nk / Σ nk. */
static int gmm_mstep(nleep_gmm *g, const double *r, int init, double *linv, pl_err *err) {
    size_t N = g->N, d = g->d, K = g->K;
    int rc;
    for (size_t k = 0; k < K; k++) g->nk[k] = 0.0;
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < K; k++) g->nk[k] += r[i * K + k];
    double tot = 0.0;
    for (size_t k = 0; k < K; k++) {
        g->nk[k] += 10.0 * NLEEP_EPS;
        tot += g->nk[k];
    }
    for (size_t k = 0; k < K; k++) g->w[k] = g->nk[k] / (init ? (double)N : tot);
    pl_mat rm = pl_mat_wrap((double *)r, N, K), zm = pl_mat_wrap((double *)g->z, N, d);
    pl_mat mm = pl_mat_wrap(g->mu, K, d);
    if ((rc = pl_gemm(1, 0, 1.0, &rm, &zm, 0.0, &mm, err))) return rc;
    for (size_t k = 0; k < K; k++)
        for (size_t a = 0; a < d; a++) g->mu[k * d + a] /= g->nk[k];
    for (size_t k = 0; k < K; k++) {
        /* Σ_k = Σ_i r_ik (z_i − μ_k)(z_i − μ_k)ᵀ / n_k + reg·I. Why skip r_ik < 1e-15: after a
         * few EM steps most responsibilities are tiny but not 0 (80 % nonzero, 2 % above 1e-10
         * on a 10000×107, K = 50 benchmark); leaving them out makes this step ~20× cheaper and
         * changes Σ_k by < 1e-15·Σ|z − μ|² (relative ~1e-12; the fixtures still agree to
         * ~1e-12). Means and counts use every responsibility. */
        const double *mu = g->mu + k * d;
        size_t m = 0;
        for (size_t i = 0; i < N; i++) {
            double ri = r[i * K + k];
            if (ri < NLEEP_RESP_SKIP) continue;
            double s = sqrt(ri);
            const double *zi = g->z + i * d;
            double *o = g->gather + m * d;
            for (size_t a = 0; a < d; a++) o[a] = s * (zi[a] - mu[a]);
            m++;
        }
        double *c = g->prec + k * d * d;
        pl_mat cm = pl_mat_wrap(c, d, d), gm = pl_mat_wrap(g->gather, m, d);
        if ((rc = pl_syrk_t(1.0, &gm, 0.0, &cm, err))) return rc;
        for (size_t a = 0; a < d * d; a++) c[a] /= g->nk[k];
        for (size_t a = 0; a < d; a++) c[a * d + a] += NLEEP_REG;
        if ((rc = gmm_precision(g, k, linv, err))) return rc;
    }
    return PL_OK;
}

/* E-step: lr (N×K) = responsibilities (the log-densities it computes first are normalised and
 * exponentiated in place); returns the mean log-likelihood in *lb.
 * log N(z | μ_k, Σ_k) = −½ (d log 2π + ‖z·P_k − μ_k·P_k‖²) + Σ log diag P_k with P_k = L_k⁻ᵀ, as
 * scikit-learn. Why row blocks of ~256 KB: each product re-packs its Z operand; a block that
 * stays in cache across the K components made this step ~1.5× faster on 10000×107, K = 50. */
#define NLEEP_BLOCK_BYTES 262144
/* exp(x) underflows to exactly 0 below about −745.13; most GMM log-responsibilities are far
 * below that and glibc takes a slow path for them. Same bits as exp. */
static inline double exp_or_zero(double x) { return x < -746.0 ? 0.0 : exp(x); }

static int gmm_estep(nleep_gmm *g, double *lr, double *lb, pl_err *err) {
    size_t N = g->N, d = g->d, K = g->K;
    int rc;
    double *mall = g->gather; /* K×d: μ_k·P_k (gather holds N×d >= K×d doubles) */
    for (size_t k = 0; k < K; k++) {
        const double *p = g->prec + k * d * d, *mu = g->mu + k * d;
        for (size_t b = 0; b < d; b++) {
            double s = 0.0;
            for (size_t a = 0; a <= b; a++) s += mu[a] * p[a * d + b];
            mall[k * d + b] = s;
        }
    }
    size_t G = g->group, Kd = K * d;
    if (G > 1)
        for (size_t k = 0; k < K; k++)
            for (size_t a = 0; a < d; a++)
                memcpy(g->pcat + a * Kd + k * d, g->prec + k * d * d + a * d, d * sizeof(double));
    size_t cb = NLEEP_BLOCK_BYTES / (d * sizeof(double));
    if (cb < 16) cb = 16;
    for (size_t r0 = 0; r0 < N; r0 += cb) {
        size_t nr = N - r0 < cb ? N - r0 : cb;
        pl_mat zm = pl_mat_wrap((double *)g->z + r0 * d, nr, d);
        for (size_t k0 = 0; k0 < K; k0 += G) {
            size_t gk = K - k0 < G ? K - k0 : G;
            pl_mat ym = pl_mat_wrap(g->y, nr, gk * d);
            if (G > 1) {
                pl_mat pall = pl_mat_wrap(g->pcat, d, Kd);
                pl_mat pm = pl_mat_view(&pall, 0, k0 * d, d, gk * d);
                rc = pl_gemm(0, 0, 1.0, &zm, &pm, 0.0, &ym, err);
            } else {
                pl_mat pm = pl_mat_wrap(g->prec + k0 * d * d, d, d);
                rc = trmm_upper(&zm, &pm, &ym, err);
            }
            if (rc) return rc;
            for (size_t k = k0; k < k0 + gk; k++) {
                const double *m = mall + k * d;
                double add = g->logdet[k] + log(g->w[k]);
                for (size_t i = 0; i < nr; i++)
                    lr[(r0 + i) * K + k] =
                        -0.5 * ((double)d * NLEEP_LOG_2PI +
                                pl_sqdist(&PL_AT(&ym, i, (k - k0) * d), m, d)) + add;
            }
        }
    }
    double tot = 0.0;
    for (size_t i = 0; i < N; i++) {
        double *row = lr + i * K, mx = row[0];
        for (size_t k = 1; k < K; k++)
            if (row[k] > mx) mx = row[k];
        if (!isfinite(mx)) mx = 0.0;
        /* responsibilities exp(row − lse) as exp(row − mx) / s: one exp per entry, not two */
        double s = 0.0;
        for (size_t k = 0; k < K; k++) s += (row[k] = exp_or_zero(row[k] - mx));
        double lse = log(s) + mx;
        for (size_t k = 0; k < K; k++) row[k] /= s;
        tot += lse;
    }
    *lb = tot / (double)N;
    if (!isfinite(*lb))
        return pl_err_set(err, PL_ENUMERIC, "nleep: the mixture log-likelihood is not finite");
    return PL_OK;
}

size_t pl_nleep_estep_group = 0;

/* Fit the mixture on z (N×d) and leave p(z | x_i) in resp (N×K). */
static int gmm_fit(const double *z, size_t N, size_t d, size_t K, uint64_t seed, double *resp,
                   pl_err *err) {
    int rc = PL_OK;
    nleep_gmm g = {N, d, K, z, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    /* E-step products: for d >= 32, one gemm for a group of components side by side (about
     * 2048 columns) beats K small triangular products (1.3-2× at d = 37 and 82, K = 500, two
     * OpenBLAS threads); below, the per-component product wins (2× at d = 8 and 20). */
    g.group = pl_nleep_estep_group ? pl_nleep_estep_group : d >= 32 && d <= 1024 ? 2048 / d : 1;
    if (g.group > K) g.group = K;
    double *xc = NULL, *linv = NULL, *zmean = NULL;
    int *labels = NULL;
    pl_rng *rng = NULL;
    size_t yrows = NLEEP_BLOCK_BYTES / (d * sizeof(double));
    if (yrows < 16) yrows = 16;
    if (yrows > N) yrows = N;
    if (!(g.w = pl_alloc(K, sizeof(double), err)) ||
        !(g.mu = pl_alloc(K, d * sizeof(double), err)) ||
        !(g.prec = pl_alloc(K, d * d * sizeof(double), err)) ||
        !(g.logdet = pl_alloc(K, sizeof(double), err)) ||
        !(g.nk = pl_alloc(K, sizeof(double), err)) ||
        !(g.gather = pl_alloc(N, d * sizeof(double), err)) ||
        !(g.y = pl_alloc(yrows, g.group * d * sizeof(double), err)) ||
        !(g.pcat = pl_alloc(g.group > 1 ? K * d : 1, d * sizeof(double), err)) ||
        !(xc = pl_alloc(N, d * sizeof(double), err)) ||
        !(linv = pl_alloc(d, d * sizeof(double), err)) ||
        !(zmean = pl_alloc(d, sizeof(double), err)) ||
        !(labels = pl_alloc(N, sizeof(int), err)) || !(rng = pl_alloc(1, sizeof *rng, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    /* k-means on a centred copy, as scikit-learn */
    for (size_t i = 0; i < N; i++)
        for (size_t a = 0; a < d; a++) zmean[a] += z[i * d + a];
    for (size_t a = 0; a < d; a++) zmean[a] /= (double)N;
    for (size_t i = 0; i < N; i++)
        for (size_t a = 0; a < d; a++) xc[i * d + a] = z[i * d + a] - zmean[a];
    pl_rng_seed(rng, seed);
    if ((rc = km_fit(xc, N, d, K, rng, labels, err))) goto cleanup;
    free(xc);
    xc = NULL;

    memset(resp, 0, N * K * sizeof(double));
    for (size_t i = 0; i < N; i++) resp[i * K + (size_t)labels[i]] = 1.0;
    if ((rc = gmm_mstep(&g, resp, 1, linv, err))) goto cleanup;
    double lb = -(double)INFINITY;
    for (int it = 1; it <= NLEEP_MAX_ITER; it++) {
        pl_progress_step("nleep EM iterations (at most)", (size_t)it - 1, NLEEP_MAX_ITER);
        if ((rc = pl_check_interrupt(err))) goto cleanup;
        double prev = lb;
        if ((rc = gmm_estep(&g, resp, &lb, err))) goto cleanup;
        if ((rc = gmm_mstep(&g, resp, 0, linv, err))) goto cleanup;
        if (fabs(lb - prev) < NLEEP_TOL) break;
    }
    if ((rc = gmm_estep(&g, resp, &lb, err))) goto cleanup;
cleanup:
    free(g.w);
    free(g.mu);
    free(g.prec);
    free(g.logdet);
    free(g.nk);
    free(g.gather);
    free(g.y);
    free(g.pcat);
    free(xc);
    free(linv);
    free(zmean);
    free(labels);
    free(rng);
    return rc;
}

int pl_nleep(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    int rc, uselog;
    long ratio;
    pl_pca p;
    pl_mat z = {0};
    double *resp = NULL, *pyz = NULL, *pz = NULL;
    memset(&p, 0, sizeof p);
    if ((rc = pl_opt_int(o, "nleep", "ratio", 5, &ratio, err)) ||
        (rc = pl_opt_bool(o, "nleep", "log", 0, &uselog, err)))
        return rc;
    size_t N = pl_data_rows(d), C = pl_data_classes(d);
    if (ratio < 1 || (unsigned long)ratio > (size_t)-1 / (C ? C : 1) / 64)
        return pl_err_set(err, PL_EINVAL, "nleep: option ratio=%ld: expected a positive number "
                          "of mixture components per class", ratio);
    size_t K = (size_t)ratio * C;
    if (N < K)
        return pl_err_set(err, PL_EINVAL, "nleep: the Gaussian mixture has ratio·C = %ld·%zu = "
                          "%zu components but there are only N = %zu samples; pass a smaller "
                          "nleep:ratio", ratio, C, K, N);
    const int *y = pl_data_y(d);
    if ((rc = pl_pca_fit(d, 1, &p, err))) goto fail;
    size_t k = pl_pca_count_for_ratio(&p, 0.8);
    if ((rc = pl_pca_keep(&p, k, err)) || (rc = pl_pca_transform(&p, d, 0, &z, err))) goto fail;
    pl_pca_release(&p);
    if (!(resp = pl_alloc(N, K * sizeof(double), err)) ||
        !(pyz = pl_alloc(C, K * sizeof(double), err)) || !(pz = pl_alloc(K, sizeof(double), err))) {
        rc = PL_ENOMEM;
        goto fail;
    }
    if ((rc = gmm_fit(z.data, N, k, K, o ? o->seed : 0, resp, err))) goto cleanup;
    pl_mat_release(&z);

    /* P(y, z) = Σ_{i in y} p(z|x_i) / N; P(y | z) = P(y, z) / Σ_y P(y, z) */
    for (size_t i = 0; i < N; i++) {
        double *row = pyz + (size_t)y[i] * K;
        for (size_t c = 0; c < K; c++) row[c] += resp[i * K + c];
    }
    for (size_t a = 0; a < C * K; a++) pyz[a] /= (double)N;
    for (size_t c = 0; c < C; c++)
        for (size_t m = 0; m < K; m++) pz[m] += pyz[c * K + m];
    for (size_t c = 0; c < C; c++)
        for (size_t m = 0; m < K; m++) pyz[c * K + m] = pz[m] > 0.0 ? pyz[c * K + m] / pz[m] : 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < N; i++) {
        const double *pc = pyz + (size_t)y[i] * K, *r = resp + i * K;
        double e = 0.0;
        for (size_t m = 0; m < K; m++) e += r[m] * pc[m];
        sum += uselog ? log(e) : e;
    }
    *out = sum / (double)N;
    if (!isfinite(*out))
        rc = pl_err_set(err, PL_ENUMERIC, "nleep: the score is not finite (%g)", *out);
    goto cleanup;
fail:
    pl_err_prefix(err, "nleep");
cleanup:
    pl_pca_release(&p);
    pl_mat_release(&z);
    free(resp);
    free(pyz);
    free(pz);
    return rc;
}
