/* rank.c — rank correlations (scipy 1.10.1 semantics) and the @k selection measures.
 *
 * Checked against tests/fixtures/rank/cases.json (scipy 1.10.1). The weighted tau follows
 * scipy's _weightedrankedtau (scipy/stats/_stats.pyx) operation by operation, including the
 * order in which floating-point sums are formed, so results agree to a few ulps.
 * Cost: weighted/kendall/spearman O(n log n), pearson O(n); memory O(n). */
#include "rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------- validation ---------- */

static int check_named(const char *fn, const char *xn, const double *x, const char *yn,
                       const double *y, size_t n, size_t min_n, pl_err *err) {
    if (n < min_n)
        return pl_err_set(err, PL_EINVAL, "%s: needs at least %zu values, got %zu", fn, min_n,
                          n);
    if (!x || !y) return pl_err_set(err, PL_EINVAL, "%s: missing input array", fn);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return pl_err_set(err, PL_EINVAL, "%s: %s[%zu] is not finite (%g)", fn, xn, i,
                              x[i]);
        if (!isfinite(y[i]))
            return pl_err_set(err, PL_EINVAL, "%s: %s[%zu] is not finite (%g)", fn, yn, i,
                              y[i]);
    }
    return PL_OK;
}

static int check_pair(const char *fn, const double *x, const double *y, size_t n, size_t min_n,
                      pl_err *err) {
    return check_named(fn, "x", x, "y", y, n, min_n, err);
}

static int is_constant(const double *x, size_t n) {
    for (size_t i = 1; i < n; i++)
        if (x[i] != x[0]) return 0;
    return 1;
}

/* ---------- a stable merge sort of indices ---------- */

typedef int (*idx_less)(size_t a, size_t b, const void *ctx);

/* Sorts idx[0..n) so that less() holds between neighbours; stable (equal keys keep their
 * order), which is what np.lexsort and argsort(kind='mergesort') give. tmp holds n. */
static void msort_idx(size_t *idx, size_t *tmp, size_t n, idx_less less, const void *ctx) {
    if (n < 2) return;
    size_t h = n / 2;
    msort_idx(idx, tmp, h, less, ctx);
    msort_idx(idx + h, tmp, n - h, less, ctx);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        if (less(idx[j], idx[i], ctx)) tmp[k++] = idx[j++];
        else tmp[k++] = idx[i++];
    }
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

typedef struct {
    const double *a, *b;   /* primary and secondary key (b may be NULL) */
} keys2;

static int less_ab(size_t p, size_t q, const void *ctx) {
    const keys2 *k = ctx;
    if (k->a[p] != k->a[q]) return k->a[p] < k->a[q];
    if (k->b && k->b[p] != k->b[q]) return k->b[p] < k->b[q];
    return 0;
}

/* ---------- numpy's pairwise summation (np.sum / np.mean of a float64 vector) ---------- */

static double np_pairwise_sum(const double *a, size_t n) {
    if (n < 8) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) s += a[i];
        return s;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) r[j] = a[j];
        size_t i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) s += a[i];
        return s;
    }
    size_t h = n / 2;
    h -= h % 8;
    return np_pairwise_sum(a, h) + np_pairwise_sum(a + h, n - h);
}

/* ---------- weighted tau ---------- */

typedef struct {
    const double *y;
    const size_t *rank;
    size_t *perm, *temp;
    double exchanges;
} wt_state;

static double wt_weigh1(size_t r) { return 1.0 / (double)(r + 1); }

/* scipy's weigh(offset, length): merge sort perm[offset..) by y, adding to exchanges the
 * weight of every exchange (additive weigher); returns the total weight of the section. */
static double wt_weigh(wt_state *st, size_t offset, size_t length) {
    size_t *perm = st->perm;
    if (length == 1) return wt_weigh1(st->rank[perm[offset]]);
    size_t length0 = length / 2, length1 = length - length0, middle = offset + length0;
    double residual = wt_weigh(st, offset, length0);
    double weight = wt_weigh(st, middle, length1) + residual;
    if (st->y[perm[middle - 1]] < st->y[perm[middle]]) return weight;

    size_t i = 0, j = 0, k = 0;
    while (j < length0 && k < length1) {
        if (st->y[perm[offset + j]] <= st->y[perm[middle + k]]) {
            st->temp[i] = perm[offset + j];
            residual -= wt_weigh1(st->rank[st->temp[i]]);
            j++;
        } else {
            st->temp[i] = perm[middle + k];
            st->exchanges += wt_weigh1(st->rank[st->temp[i]]) * (double)(length0 - j) + residual;
            k++;
        }
        i++;
    }
    memmove(perm + offset + i, perm + offset + j, (length0 - j) * sizeof *perm);
    memcpy(perm + offset, st->temp, i * sizeof *perm);
    return weight;
}

/* Sum of weights within runs of equal keys, scipy's "weigh ties" loops (additive form):
 * adds s * (run length - 1) for every run. same(p, q) says perm entries p, q tie. */
static double wt_ties(const double *x, const double *y, const size_t *perm, const size_t *rank,
                      size_t n, int use_x, int use_y, size_t *first_out) {
    size_t first = 0;
    double acc = 0.0, s = wt_weigh1(rank[perm[0]]);
    for (size_t i = 1; i < n; i++) {
        int differ = (use_x && x[perm[first]] != x[perm[i]]) ||
                     (use_y && y[perm[first]] != y[perm[i]]);
        if (differ) {
            acc += s * (double)(i - first - 1);
            first = i;
            s = 0.0;
        }
        s += wt_weigh1(rank[perm[i]]);
    }
    acc += s * (double)(n - first - 1);
    *first_out = first;
    return acc;
}

/* One _weightedrankedtau(x, y, rank=None) call: ranks come from the lexicographic order by
 * (x, y), highest first. Returns NaN when x or y is constant. work holds 3n size_t. */
static double wt_ranked(const double *x, const double *y, size_t n, size_t *work) {
    size_t *perm = work, *temp = work + n, *rank = work + 2 * n;
    for (size_t i = 0; i < n; i++) perm[i] = i;
    keys2 k = {x, y};
    msort_idx(perm, temp, n, less_ab, &k);    /* np.lexsort((y, x)) */
    for (size_t i = 0; i < n; i++) rank[perm[i]] = n - 1 - i;

    size_t first;
    double t = wt_ties(x, y, perm, rank, n, 1, 1, &first);  /* joint ties */
    double u = wt_ties(x, y, perm, rank, n, 1, 0, &first);  /* ties in x */
    if (first == 0) return (double)NAN;                     /* x constant */

    wt_state st = {y, rank, perm, temp, 0.0};
    wt_weigh(&st, 0, n);                                    /* perm now sorted by y */

    double v = wt_ties(x, y, perm, rank, n, 0, 1, &first);  /* ties in y */
    if (first == 0) return (double)NAN;                     /* y constant */

    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += wt_weigh1(rank[perm[i]]);
    double tot = s * (double)(n - 1);
    double tau = ((tot - (v + u - t)) - 2.0 * st.exchanges) / sqrt(tot - u) / sqrt(tot - v);
    return fmin(1.0, fmax(-1.0, tau));
}

int pl_rank_weighted_tau(const double *x, const double *y, size_t n, double *out, pl_err *err) {
    int rc = check_pair("weighted_tau", x, y, n, 2, err);
    if (rc) return rc;
    size_t *work = pl_alloc(n, 3 * sizeof(size_t), err);
    if (!work) return pl_err_prefix(err, "weighted_tau");
    double a = wt_ranked(x, y, n, work);
    double b = wt_ranked(y, x, n, work);
    *out = (a + b) / 2;  /* NaN if either is */
    free(work);
    return PL_OK;
}

/* ---------- Kendall tau-b ---------- */

/* Number of pairs (i < j) with seq[i] > seq[j], by merge sort (seq is sorted on return). */
static int64_t count_inversions(double *seq, double *tmp, size_t n) {
    if (n < 2) return 0;
    size_t h = n / 2;
    int64_t inv = count_inversions(seq, tmp, h) + count_inversions(seq + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        if (seq[j] < seq[i]) {
            inv += (int64_t)(h - i);
            tmp[k++] = seq[j++];
        } else {
            tmp[k++] = seq[i++];
        }
    }
    while (i < h) tmp[k++] = seq[i++];
    while (j < n) tmp[k++] = seq[j++];
    memcpy(seq, tmp, n * sizeof *seq);
    return inv;
}

/* Σ over runs of equal values (along sorted idx) of cnt(cnt-1)/2. */
static int64_t tie_pairs(const size_t *idx, size_t n, const double *a, const double *b) {
    int64_t ties = 0;
    size_t first = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || a[idx[i]] != a[idx[first]] || (b && b[idx[i]] != b[idx[first]])) {
            int64_t c = (int64_t)(i - first);
            ties += c * (c - 1) / 2;
            first = i;
        }
    }
    return ties;
}

int pl_rank_kendall_tau(const double *x, const double *y, size_t n, double *out, pl_err *err) {
    int rc = check_pair("kendall_tau", x, y, n, 2, err);
    if (rc) return rc;
    size_t *idx = pl_alloc(n, 2 * sizeof(size_t), err);
    double *seq = pl_alloc(n, 2 * sizeof(double), err);
    if (!idx || !seq) {
        free(idx);
        free(seq);
        return pl_err_prefix(err, "kendall_tau");
    }
    size_t *tmp = idx + n;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    keys2 ky = {y, NULL};
    msort_idx(idx, tmp, n, less_ab, &ky);
    int64_t ytie = tie_pairs(idx, n, y, NULL);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    keys2 kxy = {x, y};
    msort_idx(idx, tmp, n, less_ab, &kxy);
    int64_t xtie = tie_pairs(idx, n, x, NULL);
    int64_t ntie = tie_pairs(idx, n, x, y);
    /* In (x, y) order a strict decrease of y between two rows means x increased strictly:
     * the inversions of y are exactly the discordant pairs. */
    for (size_t i = 0; i < n; i++) seq[i] = y[idx[i]];
    int64_t dis = count_inversions(seq, seq + n, n);
    free(idx);
    free(seq);

    int64_t tot = (int64_t)n * ((int64_t)n - 1) / 2;
    if (xtie == tot || ytie == tot) {
        *out = (double)NAN;
        return PL_OK;
    }
    int64_t con_minus_dis = tot - xtie - ytie + ntie - 2 * dis;
    double tau = (double)con_minus_dis / sqrt((double)(tot - xtie)) / sqrt((double)(tot - ytie));
    *out = fmin(1.0, fmax(-1.0, tau));
    return PL_OK;
}

/* ---------- Pearson / Spearman ---------- */

/* np.corrcoef of two rows: c = X Xᵀ / (n-1) after centring, c01 / sd0 / sd1. */
static double corrcoef2(const double *a, const double *b, size_t n, double *work) {
    double ma = np_pairwise_sum(a, n) / (double)n, mb = np_pairwise_sum(b, n) / (double)n;
    double *ca = work, *cb = work + n;
    for (size_t i = 0; i < n; i++) {
        ca[i] = a[i] - ma;
        cb[i] = b[i] - mb;
    }
    double saa = 0, sbb = 0, sab = 0;
    for (size_t i = 0; i < n; i++) {
        saa += ca[i] * ca[i];
        sbb += cb[i] * cb[i];
        sab += ca[i] * cb[i];
    }
    double f = 1.0 / (double)(n - 1);
    double caa = saa * f, cbb = sbb * f, cab = sab * f;
    double r = cab / sqrt(caa) / sqrt(cbb);
    return fmin(1.0, fmax(-1.0, r));
}

/* scipy.stats.rankdata(method='average'): 1-based, ties get the mean of their positions. */
static void average_ranks(const double *a, size_t n, size_t *idx, size_t *tmp, double *r) {
    for (size_t i = 0; i < n; i++) idx[i] = i;
    keys2 k = {a, NULL};
    msort_idx(idx, tmp, n, less_ab, &k);
    size_t first = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || a[idx[i]] != a[idx[first]]) {
            double avg = 0.5 * ((double)first + (double)i + 1.0);
            for (size_t j = first; j < i; j++) r[idx[j]] = avg;
            first = i;
        }
    }
}

int pl_rank_spearman(const double *x, const double *y, size_t n, double *out, pl_err *err) {
    int rc = check_pair("spearman", x, y, n, 2, err);
    if (rc) return rc;
    if (is_constant(x, n) || is_constant(y, n)) {
        *out = (double)NAN;
        return PL_OK;
    }
    size_t *idx = pl_alloc(n, 2 * sizeof(size_t), err);
    double *buf = pl_alloc(n, 4 * sizeof(double), err);
    if (!idx || !buf) {
        free(idx);
        free(buf);
        return pl_err_prefix(err, "spearman");
    }
    average_ranks(x, n, idx, idx + n, buf);
    average_ranks(y, n, idx, idx + n, buf + n);
    *out = corrcoef2(buf, buf + n, n, buf + 2 * n);
    free(idx);
    free(buf);
    return PL_OK;
}

static double sgn(double v) { return (v > 0) - (v < 0); }

int pl_rank_pearson(const double *x, const double *y, size_t n, double *out, pl_err *err) {
    int rc = check_pair("pearson", x, y, n, 2, err);
    if (rc) return rc;
    if (is_constant(x, n) || is_constant(y, n)) {
        *out = (double)NAN;
        return PL_OK;
    }
    if (n == 2) {  /* scipy's special case */
        *out = sgn(x[1] - x[0]) * sgn(y[1] - y[0]);
        return PL_OK;
    }
    double *c = pl_alloc(n, 2 * sizeof(double), err);
    if (!c) return pl_err_prefix(err, "pearson");
    double mx = np_pairwise_sum(x, n) / (double)n, my = np_pairwise_sum(y, n) / (double)n;
    double nx = 0, ny = 0;
    for (size_t i = 0; i < n; i++) {
        c[i] = x[i] - mx;
        c[n + i] = y[i] - my;
        nx += c[i] * c[i];
        ny += c[n + i] * c[n + i];
    }
    nx = sqrt(nx);
    ny = sqrt(ny);
    double r = 0;
    for (size_t i = 0; i < n; i++) r += (c[i] / nx) * (c[n + i] / ny);
    free(c);
    *out = fmin(1.0, fmax(-1.0, r));
    return PL_OK;
}

/* ---------- @k measures ---------- */

static int check_at_k(const char *fn, const double *score, const double *acc, size_t n,
                      size_t k, pl_err *err) {
    int rc = check_named(fn, "score", score, "acc", acc, n, 1, err);
    if (rc) return rc;
    if (k < 1 || k > n)
        return pl_err_set(err, PL_EINVAL, "%s: k must be in 1..%zu (the number of models), got %zu",
                          fn, n, k);
    return PL_OK;
}

/* Max accuracy over the first k models of a stable descending sort by score, and overall. */
static int best_in_top_k(const char *fn, const double *score, const double *acc, size_t n,
                         size_t k, double *best_k, double *best_all, pl_err *err) {
    int rc = check_at_k(fn, score, acc, n, k, err);
    if (rc) return rc;
    size_t *idx = pl_alloc(n, 2 * sizeof(size_t), err);
    double *neg = pl_alloc(n, sizeof(double), err);
    if (!idx || !neg) {
        free(idx);
        free(neg);
        return pl_err_prefix(err, "%s", fn);
    }
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        neg[i] = -score[i];
    }
    keys2 kk = {neg, NULL};
    msort_idx(idx, idx + n, n, less_ab, &kk);
    double bk = acc[idx[0]], ba = acc[0];
    for (size_t i = 1; i < k; i++) bk = fmax(bk, acc[idx[i]]);
    for (size_t i = 1; i < n; i++) ba = fmax(ba, acc[i]);
    free(idx);
    free(neg);
    *best_k = bk;
    *best_all = ba;
    return PL_OK;
}

int pl_rank_rel_at_k(const double *score, const double *acc, size_t n, size_t k, double *out,
                     pl_err *err) {
    double bk, ba;
    int rc = best_in_top_k("rel_at_k", score, acc, n, k, &bk, &ba, err);
    if (rc) return rc;
    if (!(ba > 0))
        return pl_err_set(err, PL_EINVAL,
                          "rel_at_k: the best accuracy must be positive to form a ratio, got %g",
                          ba);
    *out = bk / ba;
    return PL_OK;
}

int pl_rank_regret_at_k(const double *score, const double *acc, size_t n, size_t k,
                        double *out, pl_err *err) {
    double bk, ba;
    int rc = best_in_top_k("regret_at_k", score, acc, n, k, &bk, &ba, err);
    if (rc) return rc;
    *out = ba - bk;
    return PL_OK;
}

int pl_rank_recall_at_k(const double *score, const double *acc, size_t n, size_t k,
                        double *out, pl_err *err) {
    int rc = check_at_k("recall_at_k", score, acc, n, k, err);
    if (rc) return rc;
    size_t top = 0;
    for (size_t i = 1; i < n; i++)
        if (score[i] > score[top]) top = i;
    size_t better = 0;
    for (size_t i = 0; i < n; i++)
        if (acc[i] > acc[top]) better++;
    *out = better < k ? 1.0 : 0.0;
    return PL_OK;
}
