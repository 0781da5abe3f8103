/* parc.c — PARC, Pairwise Annotation Representation Comparison (Bolya et al., "Scalable
 * Diverse Model Selection for Accessible Transfer Learning", NeurIPS 2021), as PED's PARC_Score.
 *
 * 1. Reduce the features to `dims` principal components (default 32, PED's ratio=2) with
 *    scikit-learn 1.2.1's sign convention (pca.h) — the score depends on the signs because step 3
 *    centres each SAMPLE's vector across components.
 * 2. Standardise each component (StandardScaler: ddof = 0; a std below 10·eps is taken as 1).
 * 3. Feature RDM: 1 − np.corrcoef(Z), the correlation between every two samples' standardised
 *    k-vectors. Label RDM: 1 − corrcoef of one-hot labels, i.e. 0 for a same-class pair and
 *    1 + 1/(C−1) otherwise.
 * 4. Score = 100 × Spearman correlation (average ranks) between the upper triangles.
 * Since the label RDM has two values, Spearman is the point-biserial correlation of the ranks of
 * the feature RDM with the indicator "different class": with M pairs, m₁ of them cross-class
 * whose ranks sum to R₁, and Σ(t³ − t) over tied groups of the feature RDM,
 *     ρ = (R₁ − m₁(M+1)/2) / sqrt([(M³ − M) − Σ(t³ − t)]/12 · m₀m₁/M).
 * We sort the same-class and cross-class values separately and merge them to get R₁ (exactly, in
 * integers) and the ties, one range of values at a time (parc_score).
 *
 * Differences from the official code, on purpose:
 *  - PCA is the full decomposition (fixture key parc_full), not PED's randomized SVD
 *    (svd_solver='randomized', random_state=1919, iterated_power=1: parc_randomized, up to ~8 %
 *    away).
 *  - The label RDM is taken as exactly two-valued. np.corrcoef on one-hot rows leaves BLAS
 *    rounding in it (e.g. same-class entries 0 or 1.1e-16 depending on the class, for C = 5, 7,
 *    20 with reference BLAS; other patterns with OpenBLAS), which Spearman then ranks as distinct
 *    values. That is why the fixture `wide` (C = 5) differs by 0.8 % here while the other cases
 *    agree to ~1e-11, and why PARC moved between BLAS builds (tests/fixtures/README.md).
 *  - N > 15000: like the official, a per-class subsample of int(15000/N · n_c) rows (chosen as
 *    np.random.RandomState(seed).choice per class), but scored against its own labels (the
 *    official passes features as targets there, a bug).
 *  - dims > min(N, D) is an error naming the dims that would work (the official raises for
 *    D < 32 and silently uses N components when N < 32 <= D, the last one pure rounding noise).
 *
 * Cost: PCA (Gram O(N·D²), shared; O(D³)) and an O(N·D·k) pass; then O(N²·k) for the
 * correlations per visit of the M = N(N−1)/2 pairs and O(M log M) to sort them. Memory: at
 * most M/3 pair values, between 4M and 16M (32-128 MB), and four counts per value bucket
 * (16 MB), whatever C; the pairs are visited about 4 times (twice below N ≈ 2900, more above
 * N ≈ 10000). Holding every value with a sort buffer took 16·M bytes (0.8 GB at N = 10000).
 *
 * Degenerate inputs: a one-sample class is fine; a constant column is fine (a zero-variance
 * component is not scaled, as StandardScaler). A sample whose standardised vector is constant has
 * no correlation (NaN in the official): error. All samples in one class: error. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../linalg.h"
#include "../pca.h"
#include "../rng.h"
#include "metric.h"

#define PARC_MAX_N 15000

/* ---- sorting doubles: introsort (quicksort, median of three, heapsort past a depth limit) ---- */
static void parc_heapsort(double *a, size_t n) {
    for (size_t s = n / 2; s-- > 0;) {
        size_t r = s;
        for (;;) {
            size_t c = 2 * r + 1;
            if (c >= n) break;
            if (c + 1 < n && a[c + 1] > a[c]) c++;
            if (a[r] >= a[c]) break;
            double t = a[r]; a[r] = a[c]; a[c] = t;
            r = c;
        }
    }
    for (size_t e = n; e-- > 1;) {
        double t = a[0]; a[0] = a[e]; a[e] = t;
        size_t r = 0;
        for (;;) {
            size_t c = 2 * r + 1;
            if (c >= e) break;
            if (c + 1 < e && a[c + 1] > a[c]) c++;
            if (a[r] >= a[c]) break;
            double u = a[r]; a[r] = a[c]; a[c] = u;
            r = c;
        }
    }
}

static void parc_sort(double *a, size_t n, int depth) {
    while (n > 24) {
        if (depth-- == 0) {
            parc_heapsort(a, n);
            return;
        }
        double x = a[0], y = a[n / 2], z = a[n - 1];
        double p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i >= j) break;
            double t = a[i]; a[i] = a[j]; a[j] = t;
            i++;
            j--;
        }
        /* [0, j] <= p <= [j+1, n): recurse into the smaller part */
        size_t left = j + 1;
        if (left < n - left) {
            parc_sort(a, left, depth);
            a += left;
            n -= left;
        } else {
            parc_sort(a + left, n - left, depth);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        double v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* ---- the rank sum, range by range ----
 * The values of a range of buckets, a (same-class pairs) and b (cross-class pairs) both sorted
 * ascending, merged into the running rank sum of the cross-class pairs and the tie term: a
 * tied group never straddles two ranges (equal values fall in one bucket), and the ranges are
 * merged in ascending order, so the sums are those of one merge of all M values. */
typedef struct parc_ranks {
    uint64_t pos;    /* values merged so far */
    uint64_t r1x2;   /* twice the rank sum of the cross-class values (ranks are half-integers) */
    double ties;     /* Σ (t³ − t) over tied groups, in ascending order of value */
} parc_ranks;

static void parc_merge(parc_ranks *r, const double *a, size_t ma, const double *b, size_t mb) {
    size_t ia = 0, ib = 0;
    while (ia < ma || ib < mb) {
        double v = ia < ma && (ib >= mb || a[ia] <= b[ib]) ? a[ia] : b[ib];
        uint64_t ta = 0, tb = 0;
        while (ia < ma && a[ia] == v) { ia++; ta++; }
        while (ib < mb && b[ib] == v) { ib++; tb++; }
        uint64_t t = ta + tb;
        r->r1x2 += tb * (2 * r->pos + t + 1);
        if (t > 1) r->ties += ((double)t * (double)t - 1.0) * (double)t;
        r->pos += t;
    }
}

/* Spearman between the values and the indicator of the cross-class pairs (ma same-class, mb
 * cross-class values, all merged into r). */
static double parc_spearman(const parc_ranks *r, size_t ma, size_t mb) {
    double M = (double)(ma + mb);
    /* numerator ×2, exact: 2 R1 − m1 (M + 1) */
    int64_t num2 = (int64_t)r->r1x2 - (int64_t)(mb * (ma + mb + 1));
    double ssx = ((M * M - 1.0) * M - r->ties) / 12.0;
    double ssb = (double)ma * (double)mb / M;
    return 0.5 * (double)num2 / sqrt(ssx * ssb);
}

/* Buckets of pair values: 1 − c lies in [0, 2]; bucket k holds [k, k + 1)·2⁻¹⁹ (the last
 * one everything above, the first one everything below): a non-decreasing function of the
 * value, so a range of buckets is an interval of values and equal values share one. The
 * scaling by a power of two is exact, so the bounds of a range of buckets are exact too. */
#define PARC_BUCKETS ((size_t)1 << 20)
#define PARC_SCALE ((double)(PARC_BUCKETS / 2))

static size_t parc_bucket(double v) {
    if (!(v > 0.0)) return 0;
    double k = v * PARC_SCALE;
    return k < (double)(PARC_BUCKETS - 1) ? (size_t)k : PARC_BUCKETS - 1;
}

/* The values of buckets [k0, k1): lo <= v < hi. */
static double parc_lo(size_t k0) {
    return k0 == 0 ? -(double)INFINITY : (double)k0 / PARC_SCALE;
}
static double parc_hi(size_t k1) {
    return k1 >= PARC_BUCKETS ? (double)INFINITY : (double)k1 / PARC_SCALE;
}

/* Pair values held at once: the pairs are visited once to count the same-class and the
 * cross-class values per bucket, then once per range of buckets holding at most a third of
 * the pairs, within these bounds (more only when one bucket alone holds more), the range's
 * values placed bucket by bucket, each bucket sorted and merged. Each visit recomputes the
 * correlations: at N = 10000 ranges of 16M values took 4.7-5.0 s, of 8M 7-8 s, of 32M
 * 5.9-6.7 s (bench/README.md). */
#define PARC_RANGE_MIN ((size_t)1 << 22)
#define PARC_RANGE_MAX ((size_t)1 << 24)

/* One visit of every pair i < j: the correlations in row blocks (rows [i0, i1) against rows
 * [i0, N)). The first visit (count) counts the values per bucket, same-class in na and
 * cross-class in nb; the others place the values in [lo, hi) at the cursors (bucket b: its
 * same-class values from posa[b], its cross-class ones from posb[b]), counting na and nb down
 * to 0. Counts fit 32 bits: N <= PARC_MAX_N. */
typedef struct parc_visit {
    const pl_mat *t;
    const int *y;
    pl_mat *g;          /* bs × N scratch */
    size_t bs;
    int count;          /* 1: the first visit */
    uint32_t *na, *nb;  /* PARC_BUCKETS: values per bucket (left to place, after the first) */
    double lo, hi;      /* later visits: the values of the range of buckets, lo <= v < hi */
    uint32_t *posa, *posb;
    double *buf;
} parc_visit;

static int parc_changed(pl_err *err) {
    /* the same products as the first visit, unless BLAS is not deterministic */
    return pl_err_set(err, PL_ENUMERIC, "parc: the sample correlations changed between two "
                      "passes over the pairs");
}

static int parc_pairs(parc_visit *v, pl_err *err) {
    size_t N = v->t->rows, k = v->t->cols;
    const int *y = v->y;
    int rc;
    for (size_t i0 = 0; i0 < N; i0 += v->bs) {
        size_t i1 = N - i0 < v->bs ? N : i0 + v->bs, nr = i1 - i0, nc = N - i0;
        pl_progress_step("parc rows of a visit of the pairs", i0, N);
        if ((rc = pl_check_interrupt(err))) return rc;
        pl_mat ra = pl_mat_view(v->t, i0, 0, nr, k), rb = pl_mat_view(v->t, i0, 0, nc, k);
        pl_mat gv = pl_mat_wrap(v->g->data, nr, nc);
        if ((rc = pl_gemm(0, 1, 1.0, &ra, &rb, 0.0, &gv, err))) return rc;
        for (size_t i = i0; i < i1; i++) {
            const double *row = v->g->data + (i - i0) * nc; /* column j − i0 is row j */
            for (size_t j = i + 1; j < N; j++) {
                double c = row[j - i0];
                c = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
                double e = 1.0 - c;
                if (v->count) {
                    (y[i] == y[j] ? v->na : v->nb)[parc_bucket(e)]++;
                } else if (e >= v->lo && e < v->hi) {
                    size_t b = parc_bucket(e);
                    int same = y[i] == y[j];
                    uint32_t *left = same ? v->na : v->nb, *pos = same ? v->posa : v->posb;
                    if (left[b] == 0) return parc_changed(err);
                    left[b]--;
                    v->buf[pos[b]++] = e;
                }
            }
        }
    }
    return PL_OK;
}

static void parc_sort_small(double *a, size_t n) {
    int depth = 0;
    for (size_t m = n; m > 1; m >>= 1) depth += 2;
    parc_sort(a, n, depth);
}

/* Copies the kept rows (and their labels) of each block. */
typedef struct {
    const char *keep;
    const int *y;
    pl_mat *xs;
    int64_t *ys;
    size_t w;
} sub_ctx;

static int sub_block(void *ud, size_t r0, size_t nr, double *x, pl_err *err) {
    sub_ctx *cx = ud;
    size_t D = cx->xs->cols;
    (void)err;
    for (size_t i = 0; i < nr; i++)
        if (cx->keep[r0 + i]) {
            memcpy(cx->xs->data + cx->w * D, x + i * D, D * sizeof(double));
            cx->ys[cx->w++] = cx->y[r0 + i];
        }
    return PL_OK;
}

/* The per-class subsample of the official N > 15000 branch, into a fresh dataset. */
static int parc_subsample(pl_data *d, uint64_t seed, pl_data **out, pl_err *err) {
    int rc = PL_OK;
    size_t N = pl_data_rows(d), D = pl_data_dim(d), C = pl_data_classes(d);
    const int *y = pl_data_y(d);
    const size_t *cnt = pl_data_counts(d);
    size_t *members = NULL, *start = NULL, *fill = NULL, *tmp = NULL, *chosen = NULL;
    char *keep = NULL;
    int64_t *ys = NULL;
    pl_mat xs = {0};
    pl_source *src = NULL;
    pl_rng rng;
    *out = NULL;
    if (!(members = pl_alloc(N, sizeof(size_t), err)) ||
        !(start = pl_alloc(C + 1, sizeof(size_t), err)) ||
        !(fill = pl_alloc(C, sizeof(size_t), err)) || !(tmp = pl_alloc(N, sizeof(size_t), err)) ||
        !(chosen = pl_alloc(N, sizeof(size_t), err)) || !(keep = pl_alloc(N, 1, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    for (size_t c = 0; c < C; c++) start[c + 1] = start[c] + cnt[c];
    for (size_t i = 0; i < N; i++) members[start[y[i]] + fill[y[i]]++] = i;
    pl_rng_seed(&rng, seed);
    double p = (double)PARC_MAX_N / (double)N;
    size_t ns = 0;
    for (size_t c = 0; c < C; c++) {
        size_t m = (size_t)(p * (double)cnt[c]);
        pl_rng_choice(&rng, cnt[c], m, chosen, tmp);
        for (size_t i = 0; i < m; i++) keep[members[start[c] + chosen[i]]] = 1;
        ns += m;
    }
    if ((rc = pl_mat_init(&xs, ns, D, err))) goto cleanup;
    if (!(ys = pl_alloc(ns ? ns : 1, sizeof(int64_t), err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    sub_ctx cx = {keep, y, &xs, ys, 0};
    if ((rc = pl_data_foreach_block(d, 0, sub_block, &cx, err))) goto cleanup;
    if ((rc = pl_source_from_mat(&xs, "<parc subsample>", &src, err))) goto cleanup;
    pl_mat_release(&xs);
    rc = pl_data_new(src, ys, ns, "<parc subsample labels>", out, err);
cleanup:
    pl_source_release(src);
    pl_mat_release(&xs);
    free(members);
    free(start);
    free(fill);
    free(tmp);
    free(chosen);
    free(keep);
    free(ys);
    return rc;
}

/* StandardScaler on the N×k scores t, then every row centred and normalised, so that the
 * samples' correlations (np.corrcoef) are the rows' dot products. */
static int parc_rows(pl_mat *t, size_t N, size_t k, pl_err *err) {
    for (size_t j = 0; j < k; j++) {
        double m, sd;
        pl_mat_col_moments(t, j, &m, &sd);
        if (sd < 10.0 * 2.220446049250313e-16) sd = 1.0;
        for (size_t i = 0; i < N; i++) PL_AT(t, i, j) = (PL_AT(t, i, j) - m) / sd;
    }
    for (size_t i = 0; i < N; i++) {
        double *r = t->data + i * t->ld, m = 0.0, s = 0.0;
        for (size_t j = 0; j < k; j++) m += r[j];
        m /= (double)k;
        for (size_t j = 0; j < k; j++) {
            r[j] -= m;
            s += r[j] * r[j];
        }
        if (!(s > 0.0)) {
            return pl_err_set(err, PL_ENUMERIC,
                              "parc: sample %zu has the same value in all %zu standardised "
                              "components; its correlation with other samples is undefined", i,
                              k);
        }
        s = 1.0 / sqrt(s);
        for (size_t j = 0; j < k; j++) r[j] *= s;
    }
    return PL_OK;
}

/* The later visits: ranges of buckets of at most `most` values, each range's values collected
 * in v->buf, sorted per bucket and merged into r in ascending order. */
static int parc_rank_ranges(parc_visit *v, size_t most, parc_ranks *r, pl_err *err) {
    uint32_t *na = v->na, *nb = v->nb, *posa = v->posa, *posb = v->posb;
    double *buf = v->buf;
    int rc;
    for (size_t k0 = 0, k1; k0 < PARC_BUCKETS; k0 = k1) {
        /* the range's layout in buf: per bucket, its same-class then its cross-class values */
        size_t n = 0;
        for (k1 = k0; k1 < PARC_BUCKETS; k1++) {
            size_t m = (size_t)na[k1] + nb[k1];
            if (k1 > k0 && n + m > most) break;
            posa[k1] = (uint32_t)n;
            posb[k1] = (uint32_t)(n + na[k1]);
            n += m;
        }
        if (n == 0) continue;
        v->lo = parc_lo(k0);
        v->hi = parc_hi(k1);
        if ((rc = parc_pairs(v, err))) return rc;
        for (size_t b = k0, start = 0; b < k1; start = posb[b], b++) {
            if (na[b] || nb[b]) return parc_changed(err);
            /* now posa[b] ends the same-class values and posb[b] the cross-class ones */
            size_t ea = posa[b], eb = posb[b];
            parc_sort_small(buf + start, ea - start);
            parc_sort_small(buf + ea, eb - ea);
            parc_merge(r, buf + start, ea - start, buf + ea, eb - ea);
        }
    }
    return PL_OK;
}

static int parc_score(pl_data *d, size_t k, double *out, pl_err *err) {
    int rc;
    pl_pca p;
    pl_mat t = {0}, g = {0};
    double *buf = NULL;
    uint32_t *na = NULL, *nb = NULL, *posa = NULL, *posb = NULL;
    size_t N = pl_data_rows(d), C = pl_data_classes(d);
    const size_t *cnt = pl_data_counts(d);
    const int *y = pl_data_y(d);
    memset(&p, 0, sizeof p);
    if ((rc = pl_pca_fit(d, k, &p, err)) || (rc = pl_pca_transform(&p, d, 1, &t, err)))
        goto cleanup;

    if ((rc = parc_rows(&t, N, k, err))) goto cleanup;

    size_t ma = 0, M = N * (N - 1) / 2;
    for (size_t c = 0; c < C; c++) ma += cnt[c] * (cnt[c] ? cnt[c] - 1 : 0) / 2;
    size_t mb = M - ma;
    if (mb == 0) {
        rc = pl_err_set(err, PL_EINVAL, "parc: all %zu samples are in one class; needs two", N);
        goto cleanup;
    }
    size_t bs = (4u << 20) / (N ? N : 1);
    if (bs < 16) bs = 16;
    if (bs > N) bs = N;
    if (!(na = pl_alloc(PARC_BUCKETS, sizeof *na, err)) ||
        !(nb = pl_alloc(PARC_BUCKETS, sizeof *nb, err)) ||
        !(posa = pl_alloc(PARC_BUCKETS, sizeof *posa, err)) ||
        !(posb = pl_alloc(PARC_BUCKETS, sizeof *posb, err)) ||
        (rc = pl_mat_init(&g, bs, N, err))) {
        rc = pl_err_prefix(err, "parc: %zu sample pairs", M);
        goto cleanup;
    }
    parc_visit v = {&t, y, &g, bs, 1, na, nb, 0.0, 0.0, posa, posb, NULL};
    if ((rc = parc_pairs(&v, err))) goto cleanup;
    /* ranges of buckets of at most `most` values (or one bucket) */
    size_t most = M / 3, cap = 0;
    most = most < PARC_RANGE_MIN ? PARC_RANGE_MIN : most > PARC_RANGE_MAX ? PARC_RANGE_MAX : most;
    for (size_t k0 = 0, k1; k0 < PARC_BUCKETS; k0 = k1) {
        size_t n = (size_t)na[k0] + nb[k0];
        for (k1 = k0 + 1; k1 < PARC_BUCKETS && n + na[k1] + nb[k1] <= most; k1++)
            n += (size_t)na[k1] + nb[k1];
        if (n > cap) cap = n;
    }
    if (!(buf = pl_alloc(cap ? cap : 1, sizeof(double), err))) {
        rc = pl_err_prefix(err, "parc: %zu sample pairs", M);
        goto cleanup;
    }
    parc_ranks r = {0, 0, 0.0};
    v.count = 0;
    v.buf = buf;
    if ((rc = parc_rank_ranges(&v, most, &r, err))) goto cleanup;
    double rho = parc_spearman(&r, ma, mb);
    *out = 100.0 * rho;
    if (!isfinite(*out))
        rc = pl_err_set(err, PL_ENUMERIC, "parc: the rank correlation is not finite (%g); are all "
                        "sample correlations equal?", *out);
cleanup:
    pl_pca_release(&p);
    pl_mat_release(&t);
    pl_mat_release(&g);
    free(buf);
    free(na);
    free(nb);
    free(posa);
    free(posb);
    return rc;
}

int pl_parc(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    int rc;
    long dims;
    pl_data *sub = NULL;
    if ((rc = pl_opt_int(o, "parc", "dims", 32, &dims, err))) return rc;
    if (dims < 2)
        return pl_err_set(err, PL_EINVAL, "parc: option dims=%ld: expected at least 2 PCA "
                          "dimensions", dims);
    size_t N = pl_data_rows(d), D = pl_data_dim(d);
    if (N > PARC_MAX_N) {
        if ((rc = parc_subsample(d, o ? o->seed : 0, &sub, err))) {
            pl_err_prefix(err, "parc: subsampling %zu rows to about %d", N, PARC_MAX_N);
            return rc;
        }
        d = sub;
        N = pl_data_rows(d);
    }
    size_t lim = N < D ? N : D;
    if ((size_t)dims > lim) {
        rc = pl_err_set(err, PL_EINVAL,
                        "parc: needs min(N, D) >= %ld for %ld PCA dims; got N=%zu, D=%zu; pass "
                        "parc:dims=%zu", dims, dims, N, D, lim);
    } else {
        rc = parc_score(d, (size_t)dims, out, err);
    }
    pl_data_release(sub);
    return rc;
}
