/* sfda.h — SFDA internals exposed for tests (the metric itself is pl_sfda in metric.h). */
#ifndef PL_SFDA_H
#define PL_SFDA_H

#include "../data.h"

/* PED/SFDA utils.iterative_A: power iteration on a symmetric a (n×n) from the row sums,
 * `iterations` rounds of two normalised products; returns xᵀ A y with the last two iterates.
 * Fails (PL_ENUMERIC) when an iterate vanishes (the official code would produce NaN). */
int pl_sfda_iterative_a(const pl_mat *a, int iterations, double *out, pl_err *err);

/* The whole SFDA_Score: the score and the shrinkage the first SFDA fit chose
 * (max(exp(-5·iterative_A(Sw, 3)), 1e-10)). Either output may be NULL. */
int pl_sfda_run(pl_data *d, double *score, double *shrinkage, pl_err *err);

#endif
