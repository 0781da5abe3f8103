/* ncti.c — NCTI's per-model parts (Wang et al., "How Far Pre-trained Models Are from Neural
 * Collapse on the Target Dataset Informs their Transferability", ICCV 2023), as the official
 * NCTI_Score (BUserName/NCTI metrics.py, commit b18d395) with scikit-learn 1.2.1 and the exact
 * PCA solver (PCA(n_components=64, svd_solver='full')).
 *
 * 1. Z = the N×k PCA scores, k = 64 (pca.h: sklearn's full solver up to rounding; signs do not
 *    matter, everything below is invariant to flipping a column of Z).
 * 2. s = max(exp(−Σ_{j<32} explained_variance_j), 1e-10): the official sums the explained
 *    VARIANCES (pca.explained_variance_[:32]), not their ratios, so s > 1e-10 only when the
 *    first 32 variances add up to less than ~23.
 * 3. s == 1e-10: LinearDiscriminantAnalysis(solver='svd'), else solver='eigen', shrinkage=s
 *    (lda_svd and lda_eigen below follow sklearn 1.2.1's _solve_svd and _solve_eigen step by
 *    step, tol = 1e-4, priors = class frequencies).
 * 4. low = lda.transform(Z) (its first min(C − 1, k) columns), centred:
 *        ncti_nuc = ‖low‖_* (sum of singular values);
 *    P = lda.predict_proba(Z) (softmax of Z·coef_ᵀ + intercept_; C = 2: expit of the difference):
 *        ncti_ncc = mean over samples of P[i, y_i];
 *        ncti_vc  = log Σ_c ‖P restricted to the rows of class c‖_*.
 * Labels: the official indexes with the raw labels (it needs them to be 0..C−1); pedlab uses
 * the encoded labels (sorted ids → 0..C−1), the same thing for such files.
 *
 * Memory: the N×k scores are kept (and, for the svd solver, an N×k within-class copy for its
 * SVD), the N×C probabilities and the N×min(C−1, k) projection: never an N×D copy. The PCA is
 * fitted from the dataset's cached statistics (Gram), and the scores come from one pass over
 * the rows (pl_pca_transform); the first part asked for computes all three and keeps them on
 * the dataset (pl_data_memo_put), so the other two cost nothing.
 *
 * Cost: PCA O(N·D² + D³) (the Gram shared with other metrics), O(N·D·k) for the scores, then
 * O(N·k² + k³) for the LDA, O(N·C·k) for the probabilities and O(N·C²) for the nuclear norms.
 *
 * Null-space components (pedlab's choice, the one departure from the official): when the data
 * span fewer than k dimensions (rank(X − mean) < 64: the `wide` fixture, rank 40; `digits`, three
 * all-zero pixels), the last PCA scores are rounding noise (~1e-15). The official's svd solver
 * divides each column by its within-class std, which scales that noise to unit variance, and the
 * LDA then fits it: its values depend on its LAPACK's rounding (noise of 1e-15 drawn three ways
 * moves ncti_nuc by ~5e-4 on digits and ~3 % on wide). Here a component whose variance is at
 * most D·eps of the largest (what the covariance route resolves, pca.h) has its scores set to
 * 0, so the LDA ignores it and the values are reproducible; on digits they are 5e-4 (nuc),
 * 4e-5 (ncc), 2e-5 (vc) from the official's, on wide 18 %, 11 %, 6 %. Full-rank data (fmnist,
 * overlap) agree to ~1e-15.
 *
 * Degenerate inputs: min(N, D) < 64 is an error (the official PCA raises) unless pca_clip=true
 * (PCA to min(64, N, D) components, pedlab's variant); N <= C is an error (sklearn's LDA raises);
 * a within-class scatter of rank 0 (svd solver) or not positive definite (eigen solver) is an
 * error. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../linalg.h"
#include "../pca.h"
#include "metric.h"

#define NCTI_DIMS 64
#define NCTI_TOL 1e-4 /* sklearn LinearDiscriminantAnalysis(tol=1e-4) */

/* The three parts, in this order in the values kept on the dataset. */
enum { NCTI_NUC, NCTI_NCC, NCTI_VC };

/* The fitted LDA as the parts need it: T (k×m) maps scores to low (up to an offset, which the
 * centring removes); coef (C×k) and icpt (C) give the decision function. */
typedef struct ncti_lda {
    pl_mat T, coef;
    double *icpt;
} ncti_lda;

static void lda_release(ncti_lda *l) {
    pl_mat_release(&l->T);
    pl_mat_release(&l->coef);
    free(l->icpt);
    l->icpt = NULL;
}

/* Sum of the singular values of a (destroyed). */
static int nuclear_norm(pl_mat *a, double *out, pl_err *err) {
    size_t k = a->rows < a->cols ? a->rows : a->cols;
    double *s = NULL;
    int rc;
    *out = 0.0;
    if (k == 0) return PL_OK;
    if (!(s = pl_alloc(k, sizeof(double), err))) return PL_ENOMEM;
    if (!(rc = pl_svd(a, NULL, s, NULL, err)))
        for (size_t j = 0; j < k; j++) *out += s[j];
    free(s);
    return rc;
}

/* Step 1 of _solve_svd: Z's rows less their class means (xs, N×k, allocated here), each column
 * divided by its std (ddof 0; 0 → 1, into std), times sqrt(1 / (N − C)). */
static int within_scaled(const pl_mat *Z, const int *y, const double *means, size_t C,
                         pl_mat *xs, double *std, pl_err *err) {
    size_t N = Z->rows, k = Z->cols;
    int rc;
    if ((rc = pl_mat_init(xs, N, k, err))) return rc;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < k; j++)
            PL_AT(xs, i, j) = PL_AT(Z, i, j) - means[(size_t)y[i] * k + j];
    for (size_t j = 0; j < k; j++) {
        pl_mat_col_moments(xs, j, NULL, &std[j]);
        if (std[j] == 0.0) std[j] = 1.0;
    }
    double sf = sqrt(1.0 / (double)(N - C));
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < k; j++) PL_AT(xs, i, j) = sf * (PL_AT(xs, i, j) / std[j]);
    return PL_OK;
}

/* coef = (means − xbar)·scalings_, intercept = −½‖coef‖² + log prior; coef_ = coef·scalings_ᵀ,
 * intercept_ −= xbar·coef_. dm (C×k) is scratch; sc is scalings_ (k×rank2). */
static int lda_coef(pl_mat *dm, const pl_mat *sc, const double *means, const double *xbar,
                    const double *pri, ncti_lda *l, pl_err *err) {
    size_t C = dm->rows, k = dm->cols, rank2 = sc->cols;
    int rc;
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < k; j++) PL_AT(dm, c, j) = means[c * k + j] - xbar[j];
    pl_mat cr = {0};
    if ((rc = pl_mat_init(&cr, C, rank2, err)) ||
        (rc = pl_gemm(0, 0, 1.0, dm, sc, 0.0, &cr, err)) ||
        (rc = pl_mat_init(&l->coef, C, k, err)) ||
        (rc = pl_gemm(0, 1, 1.0, &cr, sc, 0.0, &l->coef, err)) ||
        !(l->icpt = pl_alloc(C, sizeof(double), err))) {
        if (!rc) rc = PL_ENOMEM;
        pl_mat_release(&cr);
        return rc;
    }
    for (size_t c = 0; c < C; c++) {
        double q = 0.0, b = 0.0;
        for (size_t j = 0; j < rank2; j++) q += PL_AT(&cr, c, j) * PL_AT(&cr, c, j);
        for (size_t j = 0; j < k; j++) b += xbar[j] * PL_AT(&l->coef, c, j);
        l->icpt[c] = -0.5 * q + log(pri[c]) - b;
    }
    pl_mat_release(&cr);
    return PL_OK;
}

/* sklearn's _solve_svd on Z (N×k, rows in any order for the SVDs), then coef_/intercept_ and
 * the transform's columns. means: C×k class means; pri: C priors. */
static int lda_svd(const pl_mat *Z, const int *y, const double *means,
                   const double *pri, size_t C, ncti_lda *l, pl_err *err) {
    int rc;
    size_t N = Z->rows, k = Z->cols;
    pl_mat xs = {0}, vt = {0}, scal = {0}, x2 = {0}, vt2 = {0}, sc = {0};
    double *std = NULL, *s = NULL, *s2 = NULL, *xbar = NULL;
    if (!(std = pl_alloc(k, sizeof(double), err)) || !(s = pl_alloc(k, sizeof(double), err)) ||
        !(s2 = pl_alloc(C < k ? C : k, sizeof(double), err)) ||
        !(xbar = pl_alloc(k, sizeof(double), err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < k; j++) xbar[j] += pri[c] * means[c * k + j];
    /* 1) within-class centred rows, scaled per column by their std (ddof 0; 0 → 1) */
    if ((rc = within_scaled(Z, y, means, C, &xs, std, err))) goto cleanup;
    /* 2) its SVD: scalings = (Vt[:rank] / std)ᵀ / S[:rank] */
    if ((rc = pl_mat_init(&vt, k, k, err)) || (rc = pl_svd(&xs, NULL, s, &vt, err)))
        goto cleanup;
    pl_mat_release(&xs);
    size_t rank = 0;
    while (rank < k && s[rank] > NCTI_TOL) rank++;
    if (rank == 0) {
        rc = pl_err_set(err, PL_ENUMERIC, "the within-class scatter of the PCA scores is zero "
                        "(every sample equals its class mean)");
        goto cleanup;
    }
    if ((rc = pl_mat_init(&scal, k, rank, err))) goto cleanup;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < rank; j++) PL_AT(&scal, i, j) = PL_AT(&vt, j, i) / std[i] / s[j];
    /* 3) between-class: rows sqrt(n_c / (C − 1)) · (mean_c − xbar) · scalings, their SVD */
    double fac = C == 1 ? 1.0 : 1.0 / (double)(C - 1);
    pl_mat dm = {0};
    if ((rc = pl_mat_init(&dm, C, k, err))) goto cleanup;
    for (size_t c = 0; c < C; c++) {
        double w = sqrt((double)N * pri[c] * fac);
        for (size_t j = 0; j < k; j++) PL_AT(&dm, c, j) = w * (means[c * k + j] - xbar[j]);
    }
    if ((rc = pl_mat_init(&x2, C, rank, err)) || (rc = pl_gemm(0, 0, 1.0, &dm, &scal, 0.0, &x2,
                                                             err))) {
        pl_mat_release(&dm);
        goto cleanup;
    }
    size_t r2 = C < rank ? C : rank;
    if ((rc = pl_mat_init(&vt2, r2, rank, err)) || (rc = pl_svd(&x2, NULL, s2, &vt2, err))) {
        pl_mat_release(&dm);
        goto cleanup;
    }
    size_t rank2 = 0;
    while (rank2 < r2 && s2[rank2] > NCTI_TOL * s2[0]) rank2++;
    if (rank2 == 0) {
        pl_mat_release(&dm);
        rc = pl_err_set(err, PL_ENUMERIC, "the class means of the PCA scores are all equal");
        goto cleanup;
    }
    /* scalings_ = scalings · Vt2[:rank2]ᵀ (k×rank2) */
    pl_mat v2 = pl_mat_view(&vt2, 0, 0, rank2, rank);
    if ((rc = pl_mat_init(&sc, k, rank2, err)) ||
        (rc = pl_gemm(0, 1, 1.0, &scal, &v2, 0.0, &sc, err))) {
        pl_mat_release(&dm);
        goto cleanup;
    }
    rc = lda_coef(&dm, &sc, means, xbar, pri, l, err);
    pl_mat_release(&dm);
    if (rc) goto cleanup;
    /* transform: (Z − xbar)·scalings_[:, :min(C − 1, k)] */
    size_t m = C - 1 < k ? C - 1 : k;
    if (m > rank2) m = rank2;
    if ((rc = pl_mat_init(&l->T, k, m, err))) goto cleanup;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < m; j++) PL_AT(&l->T, i, j) = PL_AT(&sc, i, j);
cleanup:
    pl_mat_release(&xs);
    pl_mat_release(&vt);
    pl_mat_release(&scal);
    pl_mat_release(&x2);
    pl_mat_release(&vt2);
    pl_mat_release(&sc);
    free(std);
    free(s);
    free(s2);
    free(xbar);
    return rc;
}

/* (1 − s)·a + s·trace(a)/k·I in place (sklearn's shrunk_covariance). */
static void shrink(pl_mat *a, double s) {
    size_t k = a->rows;
    double tr = 0.0;
    for (size_t j = 0; j < k; j++) tr += PL_AT(a, j, j);
    double mu = tr / (double)k;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) PL_AT(a, i, j) *= 1.0 - s;
    for (size_t j = 0; j < k; j++) PL_AT(a, j, j) += s * mu;
}

/* sklearn's _solve_eigen with shrinkage s: Sw = Σ_c prior_c · shrunk(cov_c), St = shrunk(cov),
 * Sb = St − Sw, eigh(Sb, Sw) sorted by decreasing eigenvalue; coef_ = means·V·Vᵀ,
 * intercept_ = −½ diag(means·coef_ᵀ) + log priors. start/members: the rows of each class. */
static int lda_eigen(const pl_mat *Z, const size_t *start, const size_t *members,
                     const double *means, const double *pri, size_t C, double s, ncti_lda *l,
                     pl_err *err) {
    int rc;
    size_t N = Z->rows, k = Z->cols;
    pl_mat blk = {0}, cov = {0}, sw = {0}, st = {0}, v = {0}, vvt = {0}, mm = {0};
    double *w = NULL, *mu = NULL;
    if ((rc = pl_mat_init(&blk, N, k, err)) || (rc = pl_mat_init(&cov, k, k, err)) ||
        (rc = pl_mat_init(&sw, k, k, err)) || (rc = pl_mat_init(&st, k, k, err)) ||
        (rc = pl_mat_init(&v, k, k, err)) || (rc = pl_mat_init(&vvt, k, k, err)) ||
        (rc = pl_mat_init(&mm, C, k, err)))
        goto cleanup;
    if (!(w = pl_alloc(k, sizeof(double), err)) || !(mu = pl_alloc(k, sizeof(double), err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    for (size_t c = 0; c < C; c++) {
        size_t nc = start[c + 1] - start[c];
        pl_mat b = pl_mat_view(&blk, 0, 0, nc, k);
        for (size_t r = 0; r < nc; r++)
            for (size_t j = 0; j < k; j++)
                PL_AT(&b, r, j) = PL_AT(Z, members[start[c] + r], j) - means[c * k + j];
        if ((rc = pl_syrk_t(1.0 / (double)nc, &b, 0.0, &cov, err))) goto cleanup;
        shrink(&cov, s);
        for (size_t a = 0; a < k * k; a++) sw.data[a] += pri[c] * cov.data[a];
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < k; j++) mu[j] += PL_AT(Z, i, j);
    for (size_t j = 0; j < k; j++) mu[j] /= (double)N;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < k; j++) PL_AT(&blk, i, j) = PL_AT(Z, i, j) - mu[j];
    if ((rc = pl_syrk_t(1.0 / (double)N, &blk, 0.0, &st, err))) goto cleanup;
    shrink(&st, s);
    for (size_t a = 0; a < k * k; a++) st.data[a] -= sw.data[a];
    /* st now holds Sb; pl_eigh_gen leaves the eigenvectors as its columns, ascending */
    if ((rc = pl_eigh_gen(&st, &sw, w, err))) {
        pl_err_prefix(err, "the shrunk within-class covariance of the PCA scores");
        goto cleanup;
    }
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) PL_AT(&v, i, j) = PL_AT(&st, i, k - 1 - j);
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < k; j++) PL_AT(&mm, c, j) = means[c * k + j];
    if ((rc = pl_gemm(0, 1, 1.0, &v, &v, 0.0, &vvt, err)) ||
        (rc = pl_mat_init(&l->coef, C, k, err)) ||
        (rc = pl_gemm(0, 0, 1.0, &mm, &vvt, 0.0, &l->coef, err)))
        goto cleanup;
    if (!(l->icpt = pl_alloc(C, sizeof(double), err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    for (size_t c = 0; c < C; c++) {
        double q = 0.0;
        for (size_t j = 0; j < k; j++) q += means[c * k + j] * PL_AT(&l->coef, c, j);
        l->icpt[c] = -0.5 * q + log(pri[c]);
    }
    size_t m = C - 1 < k ? C - 1 : k;
    if ((rc = pl_mat_init(&l->T, k, m, err))) goto cleanup;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < m; j++) PL_AT(&l->T, i, j) = PL_AT(&v, i, j);
cleanup:
    pl_mat_release(&blk);
    pl_mat_release(&cov);
    pl_mat_release(&sw);
    pl_mat_release(&st);
    pl_mat_release(&v);
    pl_mat_release(&vvt);
    pl_mat_release(&mm);
    free(w);
    free(mu);
    return rc;
}

/* Steps 1-2: the PCA scores Z (N×k) of d and the shrinkage s = max(exp(−Σ_{j<32} λ_j), 1e-10).
 * Components in the covariance's numerical null space (variance below D·eps of the largest:
 * what the covariance route resolves) carry only rounding noise, which the svd solver's
 * per-column scaling would blow up to unit variance: their scores are set to 0 (see the
 * header: the official's values then depend on its own rounding noise). */
static int pca_scores(pl_data *d, size_t k, pl_mat *Z, double *s, pl_err *err) {
    pl_pca p;
    int rc;
    size_t N = pl_data_rows(d), D = pl_data_dim(d);
    memset(&p, 0, sizeof p);
    if ((rc = pl_pca_fit(d, k, &p, err)) || (rc = pl_pca_transform(&p, d, 0, Z, err)))
        goto cleanup;
    for (size_t j = 0; j < k; j++)
        if (!(p.variance[j] > (double)D * DBL_EPSILON * p.variance[0]))
            for (size_t i = 0; i < N; i++) PL_AT(Z, i, j) = 0.0;
    double sum32 = 0.0;
    for (size_t j = 0; j < k && j < 32; j++) sum32 += p.variance[j];
    *s = fmax(exp(-sum32), 1e-10);
cleanup:
    pl_pca_release(&p);
    return rc;
}

/* Step 4: the nuclear norm of Z·T with its columns centred. */
static int projection_nuclear(const pl_mat *Z, const pl_mat *T, double *out, pl_err *err) {
    size_t N = Z->rows, m = T->cols;
    pl_mat low = {0};
    int rc;
    if ((rc = pl_mat_init(&low, N, m, err)) || (rc = pl_gemm(0, 0, 1.0, Z, T, 0.0, &low, err)))
        goto cleanup;
    for (size_t j = 0; j < m; j++) {
        double mj = 0.0;
        for (size_t i = 0; i < N; i++) mj += PL_AT(&low, i, j);
        mj /= (double)N;
        for (size_t i = 0; i < N; i++) PL_AT(&low, i, j) -= mj;
    }
    rc = nuclear_norm(&low, out, err);
cleanup:
    pl_mat_release(&low);
    return rc;
}

/* The log of the sum over classes of the nuclear norm of the class's rows of P (N×C); class c's
 * rows are members[start[c] .. start[c + 1]). */
static int class_nuclear(const pl_mat *P, const size_t *cnt, const size_t *start,
                         const size_t *members, size_t C, double *out, pl_err *err) {
    pl_mat blk = {0};
    int rc;
    size_t nmax = 0;
    for (size_t c = 0; c < C; c++)
        if (cnt[c] > nmax) nmax = cnt[c];
    if ((rc = pl_mat_init(&blk, nmax, C, err))) return rc;
    double tot = 0.0;
    for (size_t c = 0; c < C; c++) {
        pl_mat b = pl_mat_wrap(blk.data, cnt[c], C);
        for (size_t r = 0; r < cnt[c]; r++)
            memcpy(b.data + r * C, P->data + members[start[c] + r] * P->ld, C * sizeof(double));
        double nn;
        if ((rc = nuclear_norm(&b, &nn, err))) goto cleanup;
        tot += nn;
    }
    *out = log(tot);
cleanup:
    pl_mat_release(&blk);
    return rc;
}

/* lda.predict_proba(Z) into P (N×C, allocated here): the softmax of the decision function
 * Z·coef_ᵀ + intercept_; for C = 2 sklearn's expit of the difference, [1 − p, p]. */
static int lda_proba(const pl_mat *Z, const ncti_lda *l, size_t C, pl_mat *P, pl_err *err) {
    size_t N = Z->rows, k = Z->cols;
    int rc;
    if ((rc = pl_mat_init(P, N, C, err))) return rc;
    if (C == 2) {
        for (size_t i = 0; i < N; i++) {
            /* coef_[1] − coef_[0] applied to z: the same decision up to rounding */
            double dd = 0.0;
            for (size_t j = 0; j < k; j++)
                dd += PL_AT(Z, i, j) * (PL_AT(&l->coef, 1, j) - PL_AT(&l->coef, 0, j));
            dd += l->icpt[1] - l->icpt[0];
            double p1 = 1.0 / (1.0 + exp(-dd));
            PL_AT(P, i, 0) = 1.0 - p1;
            PL_AT(P, i, 1) = p1;
        }
        return PL_OK;
    }
    if ((rc = pl_gemm(0, 1, 1.0, Z, &l->coef, 0.0, P, err))) return rc;
    for (size_t i = 0; i < N; i++)
        for (size_t c = 0; c < C; c++) PL_AT(P, i, c) += l->icpt[c];
    pl_mat_softmax_rows(P);
    return PL_OK;
}

/* All three parts; name is the part asked for (messages, options). */
static int ncti_compute(pl_data *d, int clip, const char *name, double out[3], pl_err *err) {
    int rc;
    pl_mat Z = {0}, P = {0};
    ncti_lda l = {{0}, {0}, NULL};
    size_t *start = NULL, *members = NULL, *fill = NULL;
    double *means = NULL, *pri = NULL;
    size_t N = pl_data_rows(d), D = pl_data_dim(d), C = pl_data_classes(d);
    const int *y = pl_data_y(d);
    const size_t *cnt = pl_data_counts(d);
    size_t lim = N < D ? N : D;
    if (lim < NCTI_DIMS && !clip)
        return pl_err_set(err, PL_EINVAL, "%s: PCA to %d components needs min(N, D) >= %d; got "
                          "N=%zu, D=%zu (pass %s:pca_clip=true for PCA to min(64, N, D) = %zu)",
                          name, NCTI_DIMS, NCTI_DIMS, N, D, name, lim);
    if (N <= C)
        return pl_err_set(err, PL_EINVAL, "%s: the LDA needs more samples than classes; got "
                          "N=%zu, C=%zu", name, N, C);
    if (lim < 2)
        return pl_err_set(err, PL_EINVAL, "%s: PCA needs min(N, D) >= 2; got N=%zu, D=%zu",
                          name, N, D);
    size_t k = lim < NCTI_DIMS ? lim : NCTI_DIMS;

    /* 1-2. PCA scores and the shrinkage */
    double s;
    if ((rc = pca_scores(d, k, &Z, &s, err))) goto fail;

    /* class rows, means, priors */
    if (!(start = pl_alloc(C + 1, sizeof(size_t), err)) ||
        !(members = pl_alloc(N, sizeof(size_t), err)) ||
        !(fill = pl_alloc(C, sizeof(size_t), err)) ||
        !(means = pl_alloc(C, k * sizeof(double), err)) ||
        !(pri = pl_alloc(C, sizeof(double), err))) {
        rc = PL_ENOMEM;
        goto fail;
    }
    for (size_t c = 0; c < C; c++) start[c + 1] = start[c] + cnt[c];
    for (size_t i = 0; i < N; i++) members[start[y[i]] + fill[y[i]]++] = i;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < k; j++) means[(size_t)y[i] * k + j] += PL_AT(&Z, i, j);
    for (size_t c = 0; c < C; c++) {
        for (size_t j = 0; j < k; j++) means[c * k + j] /= (double)cnt[c];
        pri[c] = (double)cnt[c] / (double)N;
    }

    /* 3. the LDA */
    if (s == 1e-10) rc = lda_svd(&Z, y, means, pri, C, &l, err);
    else rc = lda_eigen(&Z, start, members, means, pri, C, s, &l, err);
    if (rc) goto fail;
    if ((rc = pl_check_interrupt(err))) goto fail;

    /* 4. nuclear norm of the centred projection */
    if ((rc = projection_nuclear(&Z, &l.T, &out[NCTI_NUC], err))) goto fail;

    if ((rc = lda_proba(&Z, &l, C, &P, err))) goto fail;
    pl_mat_release(&Z);
    double acc = 0.0;
    for (size_t i = 0; i < N; i++) acc += PL_AT(&P, i, (size_t)y[i]);
    out[NCTI_NCC] = acc / (double)N;

    if ((rc = class_nuclear(&P, cnt, start, members, C, &out[NCTI_VC], err))) goto fail;
    goto cleanup;
fail:
    pl_err_prefix(err, "%s", name);
cleanup:
    pl_mat_release(&Z);
    pl_mat_release(&P);
    lda_release(&l);
    free(start);
    free(members);
    free(fill);
    free(means);
    free(pri);
    return rc;
}

/* One part; the three come from one fit, kept on the dataset for the other two. */
static int ncti_part(pl_data *d, const pl_opts *o, const char *name, int which, double *out,
                     pl_err *err) {
    double v[3];
    int rc, clip;
    char key[32];
    if ((rc = pl_opt_bool(o, name, "pca_clip", 0, &clip, err))) return rc;
    /* the key holds every option NCTI has (registry.c's ncti_keys) */
    snprintf(key, sizeof key, "ncti pca_clip=%d", clip);
    if (!pl_data_memo_get(d, key, v, 3) &&
        ((rc = ncti_compute(d, clip, name, v, err)) || (rc = pl_data_memo_put(d, key, v, 3, err))))
        return rc;
    *out = v[which];
    if (!rc && !isfinite(*out))
        rc = pl_err_set(err, PL_ENUMERIC, "%s: the score is not finite (%g)", name, *out);
    return rc;
}

int pl_ncti_nuc(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    return ncti_part(d, o, "ncti_nuc", NCTI_NUC, out, err);
}

int pl_ncti_ncc(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    return ncti_part(d, o, "ncti_ncc", NCTI_NCC, out, err);
}

int pl_ncti_vc(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    return ncti_part(d, o, "ncti_vc", NCTI_VC, out, err);
}
