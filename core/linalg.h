/* linalg.h — every BLAS/LAPACK call of pedlab goes through this file.
 *
 * Row-major doubles with a leading dimension (pl_mat). Sizes are checked against INT_MAX and
 * LAPACK's info != 0 becomes an error with the routine's name. */
#ifndef PL_LINALG_H
#define PL_LINALG_H

#include "mat.h"

/* C = alpha * op(A) op(B) + beta * C */
int pl_gemm(int transa, int transb, double alpha, const pl_mat *a, const pl_mat *b, double beta,
            pl_mat *c, pl_err *err);
/* C (n×n, full symmetric on return) = alpha * AᵀA + beta * C, A is k×n. */
int pl_syrk_t(double alpha, const pl_mat *a, double beta, pl_mat *c, pl_err *err);
/* The same, updating only the upper triangle of c (for accumulating over row blocks); call
 * pl_symmetrize_upper once at the end. */
int pl_syrk_t_upper(double alpha, const pl_mat *a, double beta, pl_mat *c, pl_err *err);
/* C (n×n, upper triangle only) = alpha·(AᵀB + BᵀA) + beta·C, A and B k×n (dsyr2k). */
int pl_syr2k_t_upper(double alpha, const pl_mat *a, const pl_mat *b, double beta, pl_mat *c,
                     pl_err *err);
/* Copy the upper triangle of a square matrix onto its lower triangle (tiled). */
void pl_symmetrize_upper(pl_mat *c);
/* Symmetric eigendecomposition (dsyevd): a (n×n) is overwritten by eigenvectors as COLUMNS
 * (a[i][k] = component i of eigenvector k); w gets eigenvalues ascending. */
int pl_eigh(pl_mat *a, double *w, pl_err *err);
/* The same, reading only the UPPER triangle of a (the lower one may hold anything) and
 * leaving the eigenvectors as ROWS (a[k][i] = component i of eigenvector k): no transpose,
 * for callers that can use Vᵀ directly (LogME on a D×D Gram). */
int pl_eigh_rows(pl_mat *a, double *w, pl_err *err);
/* Symmetric eigenproblem in two stages, for callers that need every eigenvalue but only the
 * top eigenvectors (PCA): pl_tridiag_init reduces a (its UPPER triangle is read; a is taken
 * over, release the struct) to tridiagonal form once (dsytrd); pl_tridiag_values gives all n
 * eigenvalues ascending (dsterf, O(n²)); pl_tridiag_top gives the k largest eigenpairs (dstemr
 * on the tridiagonal, or divide and conquer when k > n/4; dormtr back to a's basis: O(n²·k)):
 * w the k eigenvalues ascending, vt
 * (k×n) the eigenvectors as rows in the same order. At n = 2048, k = 100 this is half the time
 * of pl_eigh. */
typedef struct pl_tridiag {
    size_t n;
    pl_mat a;      /* the Householder reflectors (dsytrd's output) */
    double *tau;   /* n */
    double *d;     /* n: the diagonal */
    double *e;     /* n: the off-diagonal (n−1 used) */
} pl_tridiag;
int pl_tridiag_init(pl_tridiag *t, pl_mat *a, pl_err *err);
int pl_tridiag_values(const pl_tridiag *t, double *w, pl_err *err);
int pl_tridiag_top(const pl_tridiag *t, size_t k, double *w, pl_mat *vt, pl_err *err);
void pl_tridiag_release(pl_tridiag *t);
/* All eigenvalues of a symmetric a (n×n, UPPER triangle read; a is taken over and released)
 * ascending in w, and m vectors in its eigenbasis: each row b_r of b (m×n) is replaced by Vᵀb_r
 * (V the eigenvectors in w's order), without forming V: Qᵀb through dsytrd's reflectors, then
 * the tridiagonal's eigenvectors Z (divide and conquer) and Zᵀ(Qᵀb). At n = 2048, m = 100 this
 * is 0.6 × the time of pl_eigh, which also back-transforms all n vectors (LogME needs only
 * Vᵀ of the class sums). */
int pl_eigh_project(pl_mat *a, double *w, pl_mat *b, pl_err *err);
/* Generalised symmetric-definite eigenproblem A v = λ B v (dsygvd); same layout as pl_eigh;
 * b is overwritten by its Cholesky factor. */
int pl_eigh_gen(pl_mat *a, pl_mat *b, double *w, pl_err *err);
/* Thin SVD (dgesdd) of a (m×n), k = min(m, n): u m×k, s k (descending), vt k×n. a is destroyed.
 * u or vt may be NULL when not wanted; with both NULL only the values are computed. */
int pl_svd(pl_mat *a, pl_mat *u, double *s, pl_mat *vt, pl_err *err);
/* Cholesky factorisation in place (lower), then solves: returns PL_ENUMERIC if not PD. */
int pl_cholesky(pl_mat *a, pl_err *err);
/* Solve A X = B for symmetric positive definite A given its Cholesky factor; B overwritten. */
int pl_cholesky_solve(const pl_mat *l, pl_mat *b, pl_err *err);
/* log det of a symmetric positive definite matrix (a destroyed). */
int pl_logdet_spd(pl_mat *a, double *out, pl_err *err);
/* Moore-Penrose pseudo-inverse of a symmetric matrix with numpy's rule: singular values below
 * rcond * largest are dropped. out is n×n. */
int pl_pinv_sym(const pl_mat *a, double rcond, pl_mat *out, pl_err *err);

#endif
