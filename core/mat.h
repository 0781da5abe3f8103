/* mat.h — dense row-major float64 matrix with a leading dimension.
 *
 * A pl_mat is a plain caller-owned struct. pl_mat_init allocates (zeroed) and sets owned = 1;
 * pl_mat_view borrows another matrix's memory (owned = 0). pl_mat_release frees owned memory
 * and resets the struct; it is idempotent. Element (i, j) is data[i * ld + j]. */
#ifndef PL_MAT_H
#define PL_MAT_H

#include "pl.h"

typedef struct pl_mat {
    double *data;
    size_t rows, cols, ld;
    int owned;
} pl_mat;

#define PL_AT(m, i, j) ((m)->data[(size_t)(i) * (m)->ld + (size_t)(j)])

int pl_mat_init(pl_mat *m, size_t rows, size_t cols, pl_err *err);
void pl_mat_release(pl_mat *m);
pl_mat pl_mat_view(const pl_mat *m, size_t r0, size_t c0, size_t nr, size_t nc);
/* Deep copy into a fresh contiguous (ld = cols) matrix. */
int pl_mat_copy(pl_mat *dst, const pl_mat *src, pl_err *err);
/* Wrap existing memory without owning it. */
pl_mat pl_mat_wrap(double *data, size_t rows, size_t cols);

/* Row-wise softmax of m in place, the largest entry of each row subtracted first (scipy's and
 * scikit-learn's order: exp, sum from the first column, divide). */
void pl_mat_softmax_rows(pl_mat *m);
/* Mean and standard deviation (ddof 0) of column j over the rows of m, in two passes (the sum of
 * the values, then of the squared deviations from their mean); either output may be NULL. */
void pl_mat_col_moments(const pl_mat *m, size_t j, double *mean, double *std);

/* ‖a − b‖² over n components, with eight partial sums (numpy's pairwise sum keeps eight too):
 * independent chains, so the loop is bound by its loads rather than by the adder's latency;
 * AVX2 and SSE2 copies give the same bits (PL_SIMD_CLONES). PED's pair distances and NLEEP's
 * E-step (N·K·d long) run on it. */
double pl_sqdist(const double *a, const double *b, size_t n);

#endif
