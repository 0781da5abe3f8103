/* pca.h — principal component analysis of a dataset, from its sufficient statistics.
 *
 * Fit: mean μ and covariance Σ = (total scatter) / (N − 1) from pl_data_stats' centred sums (the
 * Gram is computed once per dataset and cached; pl_stats_scatter), then Σ's eigenvalues, all
 * of them, and its eigenvectors for the components asked for only (pl_tridiag: one tridiagonal
 * reduction, then O(D²·k) per k axes; NLEEP and PARC keep ~100 of 2048, for which this is half
 * the time of a full eigendecomposition). Components are sorted by decreasing variance;
 * `variance` is the explained variance (ddof = 1, scikit-learn's explained_variance_) and
 * `ratio` its share of the total.
 *
 * Versus scikit-learn's PCA(svd_solver='full') — an SVD of the centred N×D X: the components and
 * variances agree up to rounding (the covariance route squares the condition number, so an axis
 * whose variance is ~1e-16 of the largest, i.e. in the numerical null space, is arbitrary in both,
 * and two components with nearly equal variance may mix differently in both). Measured on the
 * fixtures: the first 32 projected scores agree to ~1e-13 of each column's scale, GBC after PCA to
 * ~2e-13. Signs: an
 * eigensolver's signs are arbitrary; pl_pca_transform(..., flip = 1) applies scikit-learn
 * 1.2's svd_flip (u-based: in each component, the sample with the largest |score| — the first
 * such sample on ties — gets a positive score). scikit-learn >= 1.5 uses another rule.
 *
 * Cost: fit O(N·D²) for the Gram (shared with other metrics) + O(D³) for the tridiagonal
 * reduction + O(D²·k) for k axes, O(D²) memory; transform O(N·D·k) in row blocks. */
#ifndef PL_PCA_H
#define PL_PCA_H

#include "data.h"
#include "linalg.h"

typedef struct pl_pca {
    size_t N, D;          /* samples fitted, input dimension */
    size_t nall;          /* min(N, D): components available (scikit-learn's maximum) */
    size_t k;             /* components used by transform (<= nall); set by fit/pl_pca_keep */
    double *mean;         /* D, absolute (origin + centre) */
    double *origin;       /* D, the dataset statistics' origin (pl_data_origin) */
    double *centre;       /* D, mean − origin: rows are centred as (x − origin) − centre, which
                             keeps their spread however far from 0 the features are */
    double *components;   /* k×D, row j = j-th principal axis (scikit-learn's components_) */
    double *variance;     /* nall, decreasing, >= 0 */
    double *ratio;        /* nall, variance / total_variance */
    double total_variance;
    pl_tridiag tri;       /* the covariance's tridiagonal form, for more components later */
} pl_pca;

/* Fit on d (its rows with any shift applied): every variance, and the first k principal axes
 * (k = 0: all nall; else clamped to nall). Needs N >= 2. *p is overwritten (release it with
 * pl_pca_release). */
int pl_pca_fit(pl_data *d, size_t k, pl_pca *p, pl_err *err);
void pl_pca_release(pl_pca *p);

/* Smallest k whose cumulative explained variance ratio is > r (strictly), as scikit-learn's
 * PCA(n_components=r) for 0 < r < 1; nall if no prefix exceeds r. */
size_t pl_pca_count_for_ratio(const pl_pca *p, double r);
/* Use the first k components (1 <= k <= nall) from now on (computing the axes if more than
 * the fit did). */
int pl_pca_keep(pl_pca *p, size_t k, pl_err *err);

/* out (nr×k, contiguous) = (x − μ) · components[0..k)ᵀ for nr rows of x (nr×D contiguous),
 * x − μ formed as (x − origin) − centre.
 * x is centred IN PLACE (it is the caller's scratch block). */
int pl_pca_project_rows(const pl_pca *p, double *x, size_t nr, double *out, pl_err *err);
/* Scores of all N rows of d in a fresh N×k matrix (out is overwritten; caller releases). With
 * flip, scikit-learn 1.2's sign rule is applied to both p's first k components and the scores. */
int pl_pca_transform(pl_pca *p, pl_data *d, int flip, pl_mat *out, pl_err *err);
/* The sign rule alone, on scores (N×k) computed from p: flips columns and p's components. */
void pl_pca_flip_signs(pl_pca *p, pl_mat *scores);

#endif
