/* rank.h — agreement between a metric's scores and measured accuracies.
 *
 * Plain functions on double arrays of length n. Each returns PL_OK and writes *out, or a
 * negative status with a message ("weighted_tau: y[3] is not finite (nan)", indices 0-based).
 * Inputs must be finite; the correlation functions need n >= 2 and are exactly scipy 1.10.1's
 * statistics:
 *
 *   pl_rank_weighted_tau  scipy.stats.weightedtau(x, y)[0] with its defaults (rank=True,
 *                         hyperbolic weigher 1/(r+1), additive=True): the mean of the weighted
 *                         taus ranked by x and ranked by y — the τ_w reported by PED and SFDA.
 *   pl_rank_kendall_tau   scipy.stats.kendalltau(x, y)[0] (tau-b, ties corrected)
 *   pl_rank_spearman      scipy.stats.spearmanr(x, y)[0] (Pearson on average ranks)
 *   pl_rank_pearson       scipy.stats.pearsonr(x, y)[0]
 *
 * Where scipy returns NaN (x or y constant) these return PL_OK with *out = NAN: the one place
 * a NaN result is legitimate in pedlab.
 *
 * The @k measures take score[i] (a metric's score of model i, higher = predicted better) and
 * acc[i] (its measured accuracy), n >= 1 and 1 <= k <= n. "The top-k by score" is the first k
 * models of a stable descending sort by score (ties keep input order).
 *
 *   pl_rank_rel_at_k     max acc among the top-k by score / max acc overall (needs max acc > 0)
 *   pl_rank_recall_at_k  1 if the top model by score (the first maximum, like np.argmax) is
 *                        among the top-k by accuracy, else 0; "among the top-k by accuracy"
 *                        means fewer than k models have a strictly higher accuracy (so a tie
 *                        with the k-th best counts as in).
 *   pl_rank_regret_at_k  max acc overall - max acc among the top-k by score (>= 0)
 */
#ifndef PL_RANK_H
#define PL_RANK_H

#include "pl.h"

int pl_rank_weighted_tau(const double *x, const double *y, size_t n, double *out, pl_err *err);
int pl_rank_kendall_tau(const double *x, const double *y, size_t n, double *out, pl_err *err);
int pl_rank_spearman(const double *x, const double *y, size_t n, double *out, pl_err *err);
int pl_rank_pearson(const double *x, const double *y, size_t n, double *out, pl_err *err);

int pl_rank_rel_at_k(const double *score, const double *acc, size_t n, size_t k, double *out,
                     pl_err *err);
int pl_rank_recall_at_k(const double *score, const double *acc, size_t n, size_t k,
                        double *out, pl_err *err);
int pl_rank_regret_at_k(const double *score, const double *acc, size_t n, size_t k,
                        double *out, pl_err *err);

#endif
