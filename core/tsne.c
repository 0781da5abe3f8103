/* tsne.c — Barnes–Hut and exact t-SNE (see tsne.h for the contract and the algorithm). */
#include "tsne.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "linalg.h"
#include "rng.h"

/* Rows per block handed to a thread: fixed, so results do not depend on the thread count. */
#define ROW_BLOCK 256
/* Query rows held at once by the neighbour search (each costs D doubles and a tile row). */
#define KNN_QUERY 4096
#define KNN_REF 1024
#define EXACT_MAX 5000
/* Points of the embedding closer than this, relative to the tree's width, on both axes are one
 * (scikit-learn's tree uses 1e-6 absolute, which merges distinct points at the 1e-4 init). */
#define DUP_REL 1e-10

void pl_tsne_defaults(pl_tsne_opts *o) {
    memset(o, 0, sizeof *o);
    o->perplexity = 30.0;
    o->early_exaggeration = 12.0;
    o->learning_rate = 0.0;
    o->max_iter = 1000;
    o->exaggeration_iter = 250;
    o->theta = 0.5;
    o->exact = 0;
    o->init = PL_TSNE_INIT_PCA;
    o->seed = 0;
}

int pl_tsne_check(const pl_tsne_opts *o, size_t n, pl_err *err) {
    if (n < 2) return pl_err_set(err, PL_EINVAL, "tsne: needs at least 2 rows, got %zu", n);
    if (!(o->perplexity > 0.0) || !(o->perplexity < (double)n))
        return pl_err_set(err, PL_EINVAL,
                          "tsne: perplexity = %g: expected 0 < perplexity < N = %zu",
                          o->perplexity, n);
    if (!(o->early_exaggeration >= 1.0) || !isfinite(o->early_exaggeration))
        return pl_err_set(err, PL_EINVAL, "tsne: early_exaggeration = %g: expected >= 1",
                          o->early_exaggeration);
    if (!(o->learning_rate >= 0.0) || !isfinite(o->learning_rate))
        return pl_err_set(err, PL_EINVAL,
                          "tsne: learning_rate = %g: expected \"auto\" or a number > 0",
                          o->learning_rate);
    if (o->max_iter < 1)
        return pl_err_set(err, PL_EINVAL, "tsne: max_iter = %d: expected >= 1", o->max_iter);
    if (o->exaggeration_iter < 0 || o->exaggeration_iter > o->max_iter)
        return pl_err_set(err, PL_EINVAL,
                          "tsne: exaggeration_iter = %d: expected 0..max_iter (%d)",
                          o->exaggeration_iter, o->max_iter);
    if (!(o->theta >= 0.0 && o->theta <= 1.0))
        return pl_err_set(err, PL_EINVAL, "tsne: theta = %g: expected 0 <= theta <= 1",
                          o->theta);
    if (o->init != PL_TSNE_INIT_PCA && o->init != PL_TSNE_INIT_RANDOM)
        return pl_err_set(err, PL_EINVAL, "tsne: init: expected pca or random");
    if (o->exact && n > EXACT_MAX)
        return pl_err_set(err, PL_EINVAL,
                          "tsne: exact t-SNE needs O(N^2) memory; N = %zu is above %d (use "
                          "Barnes-Hut)", n, EXACT_MAX);
    return PL_OK;
}

/* ---------------------------------------------------------------- the input, in row blocks */
typedef struct {
    pl_data *d;
    const pl_mat *m;
    const size_t *rows; /* NULL: all */
    size_t N, D;
} src_t;

/* Rows r0..r0+nr-1 of the input (after the row selection) into out (nr×D). */
static int src_read(const src_t *s, size_t r0, size_t nr, double *out, pl_err *err) {
    if (s->d && !s->rows) return pl_data_read(s->d, r0, nr, out, err);
    if (s->d) {
        /* runs of consecutive selected rows are read at once */
        for (size_t i = 0; i < nr;) {
            size_t n = 1;
            while (i + n < nr && s->rows[r0 + i + n] == s->rows[r0 + i] + n) n++;
            int rc = pl_data_read(s->d, s->rows[r0 + i], n, out + i * s->D, err);
            if (rc) return rc;
            i += n;
        }
        return PL_OK;
    }
    for (size_t i = 0; i < nr; i++) {
        size_t src = s->rows ? s->rows[r0 + i] : r0 + i;
        const double *row = s->m->data + src * s->m->ld;
        for (size_t j = 0; j < s->D; j++) {
            if (!isfinite(row[j]))
                return pl_err_set(err, PL_EINVAL, "tsne: the matrix has %g at row %zu, column "
                                  "%zu; expected finite values", row[j], r0 + i + 1, j + 1);
            out[i * s->D + j] = row[j];
        }
    }
    return PL_OK;
}

/* Rows r0..r0+nr-1 into out (nr x D) and their squared norms into norms. */
static int read_norms(const src_t *s, size_t r0, size_t nr, size_t D, double *out,
                      double *norms, pl_err *err) {
    int rc = src_read(s, r0, nr, out, err);
    if (rc) return rc;
    for (size_t a = 0; a < nr; a++) {
        double v = 0.0;
        for (size_t j = 0; j < D; j++) v += out[a * D + j] * out[a * D + j];
        norms[a] = v;
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- PCA initialisation */
/* The first two principal scores (centred, scikit-learn 1.2's sign rule), scaled so that the
 * first column's standard deviation (ddof 0) is 1e-4. y: N×2 contiguous. */
static int init_pca(const src_t *s, double *y, int scale, pl_err *err) {
    size_t N = s->N, D = s->D, B = KNN_REF;
    int rc = PL_OK;
    double *mean = NULL, *x = NULL, *w = NULL;
    pl_mat cov = {0}, vt = {0};
    pl_tridiag tri = {0};
    if (D < 2)
        return pl_err_set(err, PL_EINVAL, "tsne: init = pca needs at least 2 columns, got %zu "
                          "(use init = random)", D);
    if (!(mean = pl_alloc(D, sizeof *mean, err)) || !(x = pl_alloc(B, D * sizeof *x, err)) ||
        !(w = pl_alloc(2, sizeof *w, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    for (size_t r0 = 0; r0 < N; r0 += B) {
        size_t nr = N - r0 < B ? N - r0 : B;
        if ((rc = src_read(s, r0, nr, x, err))) goto cleanup;
        for (size_t i = 0; i < nr; i++)
            for (size_t j = 0; j < D; j++) mean[j] += x[i * D + j];
    }
    for (size_t j = 0; j < D; j++) mean[j] /= (double)N;
    if ((rc = pl_mat_init(&cov, D, D, err))) goto cleanup;
    for (size_t r0 = 0; r0 < N; r0 += B) {
        size_t nr = N - r0 < B ? N - r0 : B;
        if ((rc = src_read(s, r0, nr, x, err))) goto cleanup;
        for (size_t i = 0; i < nr; i++)
            for (size_t j = 0; j < D; j++) x[i * D + j] -= mean[j];
        pl_mat xm = pl_mat_wrap(x, nr, D);
        if ((rc = pl_syrk_t_upper(1.0, &xm, 1.0, &cov, err))) goto cleanup;
    }
    if ((rc = pl_tridiag_init(&tri, &cov, err))) goto cleanup;
    if ((rc = pl_mat_init(&vt, 2, D, err))) goto cleanup;
    if ((rc = pl_tridiag_top(&tri, 2, w, &vt, err))) goto cleanup;
    for (size_t r0 = 0; r0 < N; r0 += B) {
        size_t nr = N - r0 < B ? N - r0 : B;
        if ((rc = src_read(s, r0, nr, x, err))) goto cleanup;
        for (size_t i = 0; i < nr; i++) {
            double a = 0.0, b = 0.0;
            for (size_t j = 0; j < D; j++) {
                double c = x[i * D + j] - mean[j];
                a += c * PL_AT(&vt, 1, j); /* ascending: row 1 is the largest */
                b += c * PL_AT(&vt, 0, j);
            }
            y[2 * (r0 + i)] = a;
            y[2 * (r0 + i) + 1] = b;
        }
    }
    /* sign rule: in each column the entry of largest magnitude (first on ties) is positive */
    for (int c = 0; c < 2; c++) {
        double best = -1.0, val = 0.0;
        for (size_t i = 0; i < N; i++)
            if (fabs(y[2 * i + c]) > best) best = fabs(y[2 * i + c]), val = y[2 * i + c];
        if (val < 0.0)
            for (size_t i = 0; i < N; i++) y[2 * i + c] = -y[2 * i + c];
    }
    if (!scale) goto cleanup;
    double m0 = 0.0, v0 = 0.0;
    for (size_t i = 0; i < N; i++) m0 += y[2 * i];
    m0 /= (double)N;
    for (size_t i = 0; i < N; i++) v0 += (y[2 * i] - m0) * (y[2 * i] - m0);
    double sd = sqrt(v0 / (double)N);
    if (!(sd > 0.0) || !isfinite(sd)) {
        rc = pl_err_set(err, PL_EINVAL, "tsne: init = pca: the rows have no variance along "
                        "their first principal axis (all rows equal?)");
        goto cleanup;
    }
    for (size_t i = 0; i < 2 * N; i++) y[i] = y[i] / sd * 1e-4;
cleanup:
    pl_tridiag_release(&tri);
    pl_mat_release(&cov);
    pl_mat_release(&vt);
    free(mean);
    free(x);
    free(w);
    return rc;
}

/* NumPy's legacy RandomState.standard_normal (polar Box–Muller, the second value cached). */
static double legacy_gauss(pl_rng *r, int *has, double *cached) {
    if (*has) {
        *has = 0;
        return *cached;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * pl_rng_uniform(r) - 1.0;
        x2 = 2.0 * pl_rng_uniform(r) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    double f = sqrt(-2.0 * log(r2) / r2);
    *cached = f * x1;
    *has = 1;
    return f * x2;
}

static void init_random(size_t N, uint64_t seed, double *y) {
    pl_rng r;
    int has = 0;
    double cached = 0.0;
    pl_rng_seed(&r, seed);
    for (size_t i = 0; i < 2 * N; i++) y[i] = 1e-4 * legacy_gauss(&r, &has, &cached);
}

/* ---------------------------------------------------------------- nearest neighbours */
/* Per query row a max-heap of its k best (distance, index), ordered lexicographically so that
 * ties are broken by index whatever the order the candidates come in. */
typedef struct {
    size_t k, D, q0, nq, r0, nr;
    const double *tile;   /* nq×nr squared distances */
    double *hd;           /* N×k heap distances */
    size_t *hi;           /* N×k heap indices */
    size_t *hn;           /* N: heap fill */
} knn_ctx;

static int worse(double da, size_t ia, double db, size_t ib) {
    return da > db || (da == db && ia > ib);
}

static void heap_push(double *hd, size_t *hi, size_t *n, size_t k, double d, size_t j) {
    size_t c;
    if (*n < k) {
        c = (*n)++;
        while (c > 0) {
            size_t p = (c - 1) / 2;
            if (!worse(d, j, hd[p], hi[p])) break;
            hd[c] = hd[p], hi[c] = hi[p];
            c = p;
        }
        hd[c] = d, hi[c] = j;
        return;
    }
    if (!worse(hd[0], hi[0], d, j)) return;
    c = 0;
    for (;;) {
        size_t l = 2 * c + 1, r = l + 1, m = c;
        double md = d;
        size_t mi = j;
        if (l < k && worse(hd[l], hi[l], md, mi)) m = l, md = hd[l], mi = hi[l];
        if (r < k && worse(hd[r], hi[r], md, mi)) m = r;
        if (m == c) break;
        hd[c] = hd[m], hi[c] = hi[m];
        c = m;
    }
    hd[c] = d, hi[c] = j;
}

static void knn_block(const void *vctx, size_t b) {
    const knn_ctx *c = vctx;
    size_t a0 = b * ROW_BLOCK, a1 = a0 + ROW_BLOCK < c->nq ? a0 + ROW_BLOCK : c->nq;
    for (size_t a = a0; a < a1; a++) {
        size_t i = c->q0 + a;
        double *hd = c->hd + i * c->k;
        size_t *hi = c->hi + i * c->k;
        const double *t = c->tile + a * c->nr;
        for (size_t r = 0; r < c->nr; r++) {
            size_t j = c->r0 + r;
            if (j == i) continue;
            double d = t[r] > 0.0 ? t[r] : 0.0;
            heap_push(hd, hi, &c->hn[i], c->k, d, j);
        }
    }
}

static int cmp_pair(const void *a, const void *b) {
    const double *x = a, *y = b; /* (distance, index as double) */
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* The k nearest neighbours of every row (self excluded), ascending: dist (N×k squared
 * euclidean, as ‖a‖² + ‖b‖² − 2a·b like scikit-learn's brute search) and idx (N×k). */
static int knn(const src_t *s, size_t k, double *dist, size_t *idx, pl_err *err) {
    size_t N = s->N, D = s->D;
    size_t BQ = N < KNN_QUERY ? N : KNN_QUERY, BR = N < KNN_REF ? N : KNN_REF;
    int rc = PL_OK;
    double *q = NULL, *r = NULL, *qn = NULL, *rn = NULL, *pairs = NULL;
    size_t *hn = NULL;
    pl_mat tile = {0};
    if (!(q = pl_alloc(BQ, D * sizeof *q, err)) || !(r = pl_alloc(BR, D * sizeof *r, err)) ||
        !(qn = pl_alloc(BQ, sizeof *qn, err)) || !(rn = pl_alloc(BR, sizeof *rn, err)) ||
        !(hn = pl_alloc(N, sizeof *hn, err)) || !(pairs = pl_alloc(k, 2 * sizeof *pairs, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    if ((rc = pl_mat_init(&tile, BQ, BR, err))) goto cleanup;
    for (size_t q0 = 0; q0 < N; q0 += BQ) {
        size_t nq = N - q0 < BQ ? N - q0 : BQ;
        if ((rc = read_norms(s, q0, nq, D, q, qn, err))) goto cleanup;
        for (size_t r0 = 0; r0 < N; r0 += BR) {
            size_t nr = N - r0 < BR ? N - r0 : BR;
            if ((rc = read_norms(s, r0, nr, D, r, rn, err))) goto cleanup;
            pl_mat qm = pl_mat_wrap(q, nq, D), rm = pl_mat_wrap(r, nr, D);
            pl_mat tm = pl_mat_wrap(tile.data, nq, nr);
            if ((rc = pl_gemm(0, 1, -2.0, &qm, &rm, 0.0, &tm, err))) goto cleanup;
            for (size_t a = 0; a < nq; a++)
                for (size_t b = 0; b < nr; b++) tm.data[a * nr + b] += qn[a] + rn[b];
            knn_ctx c = {k, D, q0, nq, r0, nr, tm.data, dist, idx, hn};
            pl_par_run(knn_block, &c, (nq + ROW_BLOCK - 1) / ROW_BLOCK, nq * nr * 4);
            if ((rc = pl_check_interrupt(err))) goto cleanup;
        }
    }
    for (size_t i = 0; i < N; i++) {
        for (size_t t = 0; t < k; t++) {
            pairs[2 * t] = dist[i * k + t];
            pairs[2 * t + 1] = (double)idx[i * k + t];
        }
        qsort(pairs, k, 2 * sizeof *pairs, cmp_pair);
        for (size_t t = 0; t < k; t++) {
            dist[i * k + t] = pairs[2 * t];
            idx[i * k + t] = (size_t)pairs[2 * t + 1];
        }
    }
cleanup:
    pl_mat_release(&tile);
    free(q);
    free(r);
    free(qn);
    free(rn);
    free(hn);
    free(pairs);
    return rc;
}

/* ---------------------------------------------------------------- affinities */
typedef struct {
    size_t N, k;
    double perplexity;
    const double *dist;
    double *p; /* N×k conditional probabilities */
} bsearch_ctx;

/* scikit-learn's _binary_search_perplexity for one row: the precision beta whose conditional
 * distribution has entropy log(perplexity) (to 1e-5, at most 100 halvings/doublings). */
static void bsearch_block(const void *vctx, size_t b) {
    const bsearch_ctx *c = vctx;
    size_t k = c->k;
    double want = log(c->perplexity);
    size_t i1 = (b + 1) * ROW_BLOCK < c->N ? (b + 1) * ROW_BLOCK : c->N;
    for (size_t i = b * ROW_BLOCK; i < i1; i++) {
        const double *d = c->dist + i * k;
        double *p = c->p + i * k;
        double beta = 1.0, lo = -HUGE_VAL, hi = HUGE_VAL;
        for (int step = 0; step < 100; step++) {
            double sum = 0.0, sdp = 0.0;
            for (size_t j = 0; j < k; j++) sum += (p[j] = exp(-d[j] * beta));
            if (sum == 0.0) sum = 1e-8;
            for (size_t j = 0; j < k; j++) {
                p[j] /= sum;
                sdp += d[j] * p[j];
            }
            double diff = log(sum) + beta * sdp - want;
            if (fabs(diff) <= 1e-5) break;
            if (diff > 0.0) {
                lo = beta;
                beta = hi == HUGE_VAL ? beta * 2.0 : (beta + hi) / 2.0;
            } else {
                hi = beta;
                beta = lo == -HUGE_VAL ? beta / 2.0 : (beta + lo) / 2.0;
            }
        }
    }
}

/* Joint P in CSR (rows sorted by column): P = (C + Cᵀ) / Σ, C the conditional matrix from the
 * k neighbours of each row. */
typedef struct {
    size_t *ptr;   /* N + 1 */
    size_t *col;   /* nnz */
    double *val;   /* nnz */
} csr_t;

static void csr_release(csr_t *P) {
    free(P->ptr);
    free(P->col);
    free(P->val);
    memset(P, 0, sizeof *P);
}

typedef struct {
    size_t col;
    double v;
} entry_t;

static int cmp_entry(const void *a, const void *b) {
    const entry_t *x = a, *y = b;
    return (x->col > y->col) - (x->col < y->col);
}

static int affinities(const src_t *s, size_t k, double perplexity, csr_t *P, pl_err *err) {
    size_t N = s->N, nb = (N + ROW_BLOCK - 1) / ROW_BLOCK;
    int rc = PL_OK;
    double *dist = NULL, *cond = NULL;
    size_t *idx = NULL, *cnt = NULL, *fill = NULL;
    entry_t *e = NULL;
    memset(P, 0, sizeof *P);
    if (!(dist = pl_alloc(N, k * sizeof *dist, err)) ||
        !(idx = pl_alloc(N, k * sizeof *idx, err)) ||
        !(cond = pl_alloc(N, k * sizeof *cond, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    if ((rc = knn(s, k, dist, idx, err))) goto cleanup;
    bsearch_ctx bc = {N, k, perplexity, dist, cond};
    pl_par_run(bsearch_block, &bc, nb, N * k * 50);
    if ((rc = pl_check_interrupt(err))) goto cleanup;
    /* each (i, j, c_ij) goes to row i and row j; rows sorted by column, duplicates summed */
    if (!(cnt = pl_alloc(N + 1, sizeof *cnt, err)) || !(fill = pl_alloc(N, sizeof *fill, err)) ||
        !(e = pl_alloc(2 * N, k * sizeof *e, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < N; i++)
        for (size_t t = 0; t < k; t++) cnt[i + 1]++, cnt[idx[i * k + t] + 1]++;
    for (size_t i = 0; i < N; i++) cnt[i + 1] += cnt[i];
    for (size_t i = 0; i < N; i++)
        for (size_t t = 0; t < k; t++) {
            size_t j = idx[i * k + t];
            double v = cond[i * k + t];
            e[cnt[i] + fill[i]++] = (entry_t){j, v};
            e[cnt[j] + fill[j]++] = (entry_t){i, v};
        }
    size_t nnz = 0;
    if (!(P->ptr = pl_alloc(N + 1, sizeof *P->ptr, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < N; i++) {
        entry_t *row = e + cnt[i];
        size_t n = cnt[i + 1] - cnt[i], w = 0;
        /* stable order of equal columns does not matter: their sum is of two terms */
        qsort(row, n, sizeof *row, cmp_entry);
        for (size_t a = 0; a < n; a++) {
            if (w > 0 && row[w - 1].col == row[a].col) row[w - 1].v += row[a].v;
            else row[w++] = row[a];
        }
        P->ptr[i + 1] = P->ptr[i] + w;
        fill[i] = w;
        nnz += w;
    }
    if (!(P->col = pl_alloc(nnz ? nnz : 1, sizeof *P->col, err)) ||
        !(P->val = pl_alloc(nnz ? nnz : 1, sizeof *P->val, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    double total = 0.0;
    for (size_t i = 0; i < N; i++)
        for (size_t a = 0; a < fill[i]; a++) {
            P->col[P->ptr[i] + a] = e[cnt[i] + a].col;
            P->val[P->ptr[i] + a] = e[cnt[i] + a].v;
            total += e[cnt[i] + a].v;
        }
    if (total < DBL_EPSILON) total = DBL_EPSILON;
    for (size_t a = 0; a < nnz; a++) P->val[a] /= total;
cleanup:
    if (rc) csr_release(P);
    free(dist);
    free(idx);
    free(cond);
    free(cnt);
    free(fill);
    free(e);
    return rc;
}

/* ---------------------------------------------------------------- the quadtree */
/* What the repulsion reads of a cell (one 64-byte line); its bounds are apart (qgeo). */
typedef struct {
    double bx, by;   /* barycentre of the points below */
    double sqw;      /* (widest side)² */
    size_t size;     /* points below (duplicates counted) */
    int child[4];    /* -1: none */
    int leaf;
    int pad[3];
} qcell;

typedef struct {
    double minx, miny, maxx, maxy, cx, cy; /* bounds and centre */
} qgeo;

typedef struct {
    qcell *c;
    qgeo *g;
    size_t n, cap, depth; /* cells, capacity, deepest level (root = 0) */
    double eps;           /* duplicates: closer than this on both axes */
} qtree;

static int qt_new_cell(qtree *t, double minx, double miny, double maxx, double maxy,
                       pl_err *err) {
    if (t->n == t->cap) {
        size_t cap = t->cap * 2;
        qcell *c = pl_alloc(cap, sizeof *c, err);
        qgeo *g = c ? pl_alloc(cap, sizeof *g, err) : NULL;
        if (!g) {
            free(c);
            return -1;
        }
        memcpy(c, t->c, t->n * sizeof *c);
        memcpy(g, t->g, t->n * sizeof *g);
        free(t->c);
        free(t->g);
        t->c = c;
        t->g = g;
        t->cap = cap;
    }
    qcell *q = &t->c[t->n];
    qgeo *e = &t->g[t->n];
    e->minx = minx, e->miny = miny, e->maxx = maxx, e->maxy = maxy;
    e->cx = (minx + maxx) / 2.0, e->cy = (miny + maxy) / 2.0;
    double wx = maxx - minx, wy = maxy - miny;
    q->sqw = wx * wx > wy * wy ? wx * wx : wy * wy;
    q->bx = q->by = 0.0;
    q->size = 0;
    q->child[0] = q->child[1] = q->child[2] = q->child[3] = -1;
    q->leaf = 1;
    return (int)t->n++;
}

static int qt_quadrant(const qtree *t, int at, double x, double y) {
    return (x >= t->g[at].cx ? 2 : 0) + (y >= t->g[at].cy ? 1 : 0);
}

/* A new leaf child of cell `at` in quadrant c holding size points at (x, y). */
static int qt_child(qtree *t, int at, int c, double x, double y, size_t size, pl_err *err) {
    qgeo p = t->g[at];
    double minx = c & 2 ? p.cx : p.minx, maxx = c & 2 ? p.maxx : p.cx;
    double miny = c & 1 ? p.cy : p.miny, maxy = c & 1 ? p.maxy : p.cy;
    int id = qt_new_cell(t, minx, miny, maxx, maxy, err);
    if (id < 0) return -1;
    t->c[id].bx = x, t->c[id].by = y, t->c[id].size = size;
    t->c[at].child[c] = id;
    t->c[at].leaf = 0;
    return id;
}

/* Insert one point (scikit-learn's _QuadTree.insert_point, iteratively). */
static int qt_insert(qtree *t, double x, double y, pl_err *err) {
    int at = 0;
    for (size_t level = 0;; level++) {
        if (level + 1 > t->depth) t->depth = level + 1;
        qcell *q = &t->c[at];
        if (q->size == 0) {
            q->size = 1, q->bx = x, q->by = y;
            return 0;
        }
        if (!q->leaf) {
            double n = (double)q->size;
            q->bx = (n * q->bx + x) / (n + 1.0);
            q->by = (n * q->by + y) / (n + 1.0);
            q->size++;
            int c = qt_quadrant(t, at, x, y);
            if (q->child[c] < 0) return qt_child(t, at, c, x, y, 1, err) < 0 ? -1 : 0;
            at = q->child[c];
            continue;
        }
        if (fabs(x - q->bx) <= t->eps && fabs(y - q->by) <= t->eps) {
            q->size++;
            return 0;
        }
        /* split: the leaf's points move into a child, then the point is inserted again */
        double bx = q->bx, by = q->by;
        size_t sz = q->size;
        if (qt_child(t, at, qt_quadrant(t, at, bx, by), bx, by, sz, err) < 0) return -1;
        level--; /* now an inner node holding the old points: the inner case, same level */
    }
}

static int qt_build(qtree *t, const double *y, size_t N, pl_err *err) {
    double minx = (double)INFINITY, miny = (double)INFINITY;
    double maxx = -(double)INFINITY, maxy = -(double)INFINITY;
    for (size_t i = 0; i < 2 * N; i++)
        if (!isfinite(y[i]))
            return pl_err_set(err, PL_ENUMERIC, "tsne: the embedding diverged (non-finite at "
                              "row %zu); lower learning_rate", i / 2 + 1);
    for (size_t i = 0; i < N; i++) {
        minx = fmin(minx, y[2 * i]), maxx = fmax(maxx, y[2 * i]);
        miny = fmin(miny, y[2 * i + 1]), maxy = fmax(maxy, y[2 * i + 1]);
    }
    /* scikit-learn's widening: the upper bounds move out so every point is strictly inside */
    maxx = fmax(maxx * (1.0 + 1e-3 * (maxx > 0 ? 1.0 : maxx < 0 ? -1.0 : 0.0)), maxx + 1e-3);
    maxy = fmax(maxy * (1.0 + 1e-3 * (maxy > 0 ? 1.0 : maxy < 0 ? -1.0 : 0.0)), maxy + 1e-3);
    t->n = 0;
    t->depth = 0;
    t->eps = DUP_REL * fmax(maxx - minx, maxy - miny);
    if (qt_new_cell(t, minx, miny, maxx, maxy, err) < 0) return PL_ENOMEM;
    for (size_t i = 0; i < N; i++)
        if (qt_insert(t, y[2 * i], y[2 * i + 1], err)) return PL_ENOMEM;
    return PL_OK;
}

/* ---------------------------------------------------------------- gradients */
typedef struct {
    uint64_t key;
    size_t i;
} morton_t;

static int cmp_morton(const void *a, const void *b) {
    const morton_t *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* 32 bits of v, spread to the even bits of 64. */
static uint64_t spread(uint64_t v) {
    v &= 0xffffffffu;
    v = (v | (v << 16)) & 0x0000ffff0000ffffull;
    v = (v | (v << 8)) & 0x00ff00ff00ff00ffull;
    v = (v | (v << 4)) & 0x0f0f0f0f0f0f0f0full;
    v = (v | (v << 2)) & 0x3333333333333333ull;
    v = (v | (v << 1)) & 0x5555555555555555ull;
    return v;
}

/* The points sorted along a Z curve over the root's box (ties by index): consecutive points
 * are near, so the cells one visits are in cache for the next. Only the order in which points
 * are processed changes, never a point's own sums. */
static void z_order(const qtree *t, const double *y, size_t N, morton_t *o) {
    const qgeo *r = &t->g[0];
    double sx = 4294967295.0 / (r->maxx - r->minx), sy = 4294967295.0 / (r->maxy - r->miny);
    for (size_t i = 0; i < N; i++) {
        double fx = (y[2 * i] - r->minx) * sx, fy = (y[2 * i + 1] - r->miny) * sy;
        uint64_t qx = fx <= 0 ? 0 : fx >= 4294967295.0 ? 4294967295u : (uint64_t)fx;
        uint64_t qy = fy <= 0 ? 0 : fy >= 4294967295.0 ? 4294967295u : (uint64_t)fy;
        o[i].key = spread(qx) << 1 | spread(qy);
        o[i].i = i;
    }
    qsort(o, N, sizeof *o, cmp_morton);
}

typedef struct {
    size_t N;
    const double *y;
    const qtree *t;
    const morton_t *order;
    double theta2;
    double *neg;    /* N×2: Σ_j q_ij² Z² (y_i − y_j), unnormalised */
    double *zi;     /* N: Σ_j (1 + d²)⁻¹ */
    int *stacks;    /* per block: a DFS stack (depth ≤ 3·cells) */
    size_t stack_cap;
} neg_ctx;

static void neg_block(const void *vctx, size_t b) {
    const neg_ctx *c = vctx;
    size_t i0 = b * ROW_BLOCK, i1 = i0 + ROW_BLOCK < c->N ? i0 + ROW_BLOCK : c->N;
    int *stack = c->stacks + b * c->stack_cap;
    const qcell *cells = c->t->c;
    for (size_t a = i0; a < i1; a++) {
        size_t i = c->order[a].i;
        double px = c->y[2 * i], py = c->y[2 * i + 1], fx = 0.0, fy = 0.0, z = 0.0;
        size_t top = 0;
        stack[top++] = 0;
        while (top > 0) {
            const qcell *q = &cells[stack[--top]];
            double dx = px - q->bx, dy = py - q->by, d2 = dx * dx + dy * dy;
            double size = (double)q->size;
            if (q->leaf) {
                /* the point's own leaf: its duplicates (not itself) at distance ~0 */
                if (fabs(dx) <= c->t->eps && fabs(dy) <= c->t->eps) size -= 1.0;
            } else if (!(q->sqw < c->theta2 * d2)) {
                /* open the cell: children pushed in reverse so they are visited 0..3 */
                for (int k = 3; k >= 0; k--)
                    if (q->child[k] >= 0) stack[top++] = q->child[k];
                continue;
            }
            if (size <= 0.0) continue;
            double qz = 1.0 / (1.0 + d2), m = size * qz * qz;
            z += size * qz;
            fx += m * dx, fy += m * dy;
        }
        c->neg[2 * i] = fx, c->neg[2 * i + 1] = fy;
        c->zi[i] = z;
    }
}

typedef struct {
    size_t N;
    const double *y;
    const csr_t *P;
    double exag;
    double *pos;    /* N×2 */
    double *cpart;  /* per block: Σ p log p (if wanted) and Σ p log(1 + d²) */
    int error;
} pos_ctx;

static void pos_block(const void *vctx, size_t b) {
    const pos_ctx *c = vctx;
    size_t i0 = b * ROW_BLOCK, i1 = i0 + ROW_BLOCK < c->N ? i0 + ROW_BLOCK : c->N;
    double plogp = 0.0, plogd = 0.0;
    for (size_t i = i0; i < i1; i++) {
        double px = c->y[2 * i], py = c->y[2 * i + 1], fx = 0.0, fy = 0.0;
        for (size_t a = c->P->ptr[i]; a < c->P->ptr[i + 1]; a++) {
            size_t j = c->P->col[a];
            double p = c->P->val[a] * c->exag;
            double dx = px - c->y[2 * j], dy = py - c->y[2 * j + 1], d2 = dx * dx + dy * dy;
            double q = 1.0 / (1.0 + d2), m = p * q;
            fx += m * dx, fy += m * dy;
            if (c->error && p > 0.0) {
                plogp += p * log(p);
                plogd += p * log1p(d2);
            }
        }
        c->pos[2 * i] = fx, c->pos[2 * i + 1] = fy;
    }
    c->cpart[2 * b] = plogp;
    c->cpart[2 * b + 1] = plogd;
}

typedef struct {
    size_t N, nb;
    int exact;
    double theta;
    const csr_t *P;      /* Barnes–Hut */
    const double *Pd;    /* exact: N×N joint P */
    qtree tree;
    morton_t *order;     /* the points in Z order (neighbours visit the same cells) */
    double *zi;          /* N: each point's Σ_j (1 + d²)⁻¹ */
    double *neg, *pos, *cpart;
    int *stacks;
    size_t stack_cap;
} grad_ws;

static void ws_release(grad_ws *w) {
    free(w->tree.c);
    free(w->tree.g);
    free(w->order);
    free(w->zi);
    free(w->neg);
    free(w->pos);
    free(w->cpart);
    free(w->stacks);
}

/* grad (N×2) = ∂KL/∂y at y with P·exag; *kl the divergence when error is set. */
static int gradient(grad_ws *w, const double *y, double exag, int error, double *grad,
                    double *kl, pl_err *err) {
    size_t N = w->N;
    if (w->exact) {
        /* scikit-learn's _kl_divergence: Q = max(q / Σq, ε), KL = Σ P log(max(P, ε)/Q) */
        double z = 0.0;
        for (size_t i = 0; i < N; i++)
            for (size_t j = i + 1; j < N; j++) {
                double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
                z += 1.0 / (1.0 + dx * dx + dy * dy);
            }
        z *= 2.0;
        double c = 0.0;
        for (size_t i = 0; i < N; i++) {
            double gx = 0.0, gy = 0.0;
            for (size_t j = 0; j < N; j++) {
                if (j == i) continue;
                double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
                double qu = 1.0 / (1.0 + dx * dx + dy * dy);
                double q = fmax(qu / z, DBL_EPSILON), p = w->Pd[i * N + j] * exag;
                double m = (p - q) * qu;
                gx += m * dx, gy += m * dy;
                if (error) c += p * log(fmax(p, DBL_EPSILON) / q);
            }
            grad[2 * i] = 4.0 * gx, grad[2 * i + 1] = 4.0 * gy;
        }
        if (kl) *kl = c;
        return PL_OK;
    }
    int rc = qt_build(&w->tree, y, N, err);
    if (rc) return rc;
    /* the DFS stack holds at most 3 pending siblings per level, plus the 4 of the last */
    size_t cap = 3 * w->tree.depth + 8;
    if (cap > w->stack_cap) {
        free(w->stacks);
        w->stack_cap = cap * 2;
        if (!(w->stacks = pl_alloc(w->nb, w->stack_cap * sizeof *w->stacks, err))) {
            w->stack_cap = 0;
            return PL_ENOMEM;
        }
    }
    z_order(&w->tree, y, N, w->order);
    neg_ctx nc = {N, y, &w->tree, w->order, w->theta * w->theta, w->neg, w->zi, w->stacks,
                  w->stack_cap};
    /* a point opens some hundred cells at θ = 0.5, ~20 operations each */
    pl_par_run(neg_block, &nc, w->nb, N * 4096);
    pos_ctx pc = {N, y, w->P, exag, w->pos, w->cpart, error};
    pl_par_run(pos_block, &pc, w->nb, w->P->ptr[N] * 32);
    if ((rc = pl_check_interrupt(err))) return rc;
    double z = 0.0, plogp = 0.0, plogd = 0.0;
    for (size_t i = 0; i < N; i++) z += w->zi[i];
    for (size_t b = 0; b < w->nb; b++) {
        plogp += w->cpart[2 * b];
        plogd += w->cpart[2 * b + 1];
    }
    for (size_t i = 0; i < 2 * N; i++) grad[i] = 4.0 * (w->pos[i] - w->neg[i] / z);
    /* KL = Σ p log(p / q), q = (1 + d²)⁻¹ / Z: Σ p log p + Σ p log(1 + d²) + (Σ p) log Z */
    if (kl) {
        double psum = 0.0;
        for (size_t a = 0; a < w->P->ptr[N]; a++) psum += w->P->val[a];
        *kl = plogp + plogd + psum * exag * log(z);
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- the descent */
typedef struct {
    int it0, n_iter, without_progress;
    double momentum, exag;
} stage_t;

/* scikit-learn's _gradient_descent: returns the last step index in *last, KL in *kl. */
static int descend(grad_ws *w, double *y, const stage_t *s, double lr, double *grad,
                   double *update, double *gains, int *last, double *kl, pl_err *err) {
    size_t n2 = 2 * w->N;
    double best = DBL_MAX, error = DBL_MAX;
    int best_it = s->it0, i;
    for (size_t a = 0; a < n2; a++) update[a] = 0.0, gains[a] = 1.0;
    *last = s->it0;
    for (i = s->it0; i < s->n_iter; i++) {
        int check = (i + 1) % 50 == 0, want = check || i == s->n_iter - 1;
        int rc = gradient(w, y, s->exag, want, grad, want ? &error : NULL, err);
        if (rc) return rc;
        double gnorm = 0.0;
        for (size_t a = 0; a < n2; a++) {
            if (update[a] * grad[a] < 0.0) gains[a] += 0.2;
            else gains[a] *= 0.8;
            if (gains[a] < 0.01) gains[a] = 0.01;
            grad[a] *= gains[a];
            update[a] = s->momentum * update[a] - lr * grad[a];
            y[a] += update[a];
            gnorm += grad[a] * grad[a];
        }
        *last = i;
        if (check) {
            if (error < best) best = error, best_it = i;
            else if (i - best_it > s->without_progress) break;
            if (sqrt(gnorm) <= 1e-7) break;
        }
    }
    *kl = error;
    return PL_OK;
}

static int run(const src_t *s, const pl_tsne_opts *o, pl_mat *out, pl_tsne_info *info,
               pl_err *err) {
    size_t N = s->N;
    int rc;
    if ((rc = pl_tsne_check(o, N, err))) return rc;
    if (s->D < 1) return pl_err_set(err, PL_EINVAL, "tsne: the input has no columns");
    size_t k = (size_t)floor(3.0 * o->perplexity + 1.0);
    if (o->exact || k > N - 1) k = N - 1;
    double lr = o->learning_rate > 0.0 ? o->learning_rate
                                       : fmax((double)N / o->early_exaggeration / 4.0, 50.0);
    grad_ws w = {0};
    csr_t P = {0};
    double *Pd = NULL, *y = NULL, *grad = NULL, *update = NULL, *gains = NULL;
    pl_mat res = {0};
    w.N = N;
    w.nb = (N + ROW_BLOCK - 1) / ROW_BLOCK;
    w.exact = o->exact;
    w.theta = o->theta;
    if ((rc = affinities(s, k, o->perplexity, &P, err))) goto cleanup;
    if (o->exact) {
        if (!(Pd = pl_alloc(N, N * sizeof *Pd, err))) {
            rc = PL_ENOMEM;
            goto cleanup;
        }
        for (size_t i = 0; i < N; i++)
            for (size_t a = P.ptr[i]; a < P.ptr[i + 1]; a++) Pd[i * N + P.col[a]] = P.val[a];
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++)
                if (j != i && Pd[i * N + j] < DBL_EPSILON) Pd[i * N + j] = DBL_EPSILON;
        w.Pd = Pd;
    } else {
        w.P = &P;
        w.tree.cap = 4 * N + 16;
        if (!(w.tree.c = pl_alloc(w.tree.cap, sizeof *w.tree.c, err)) ||
            !(w.tree.g = pl_alloc(w.tree.cap, sizeof *w.tree.g, err)) ||
            !(w.order = pl_alloc(N, sizeof *w.order, err)) ||
            !(w.zi = pl_alloc(N, sizeof *w.zi, err)) ||
            !(w.neg = pl_alloc(N, 2 * sizeof *w.neg, err)) ||
            !(w.pos = pl_alloc(N, 2 * sizeof *w.pos, err)) ||
            !(w.cpart = pl_alloc(w.nb, 2 * sizeof *w.cpart, err))) {
            rc = PL_ENOMEM;
            goto cleanup;
        }
    }
    if (!(y = pl_alloc(N, 2 * sizeof *y, err)) || !(grad = pl_alloc(N, 2 * sizeof *grad, err)) ||
        !(update = pl_alloc(N, 2 * sizeof *update, err)) ||
        !(gains = pl_alloc(N, 2 * sizeof *gains, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    if (o->init == PL_TSNE_INIT_PCA) {
        /* OpenBLAS's dsyrk/dsytrd round differently with another thread count, and the descent
         * magnifies a last-bit change of the start: the PCA runs on one thread (O(N·D²)) */
        int threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
        rc = init_pca(s, y, 1, err);
        openblas_set_num_threads(threads);
        if (rc) goto cleanup;
    } else {
        init_random(N, o->seed, y);
    }
    int last = 0, E = o->exaggeration_iter;
    double kl = 0.0;
    if (E > 0) {
        stage_t s1 = {0, E, E, 0.5, o->early_exaggeration};
        if ((rc = descend(&w, y, &s1, lr, grad, update, gains, &last, &kl, err))) goto cleanup;
    }
    int it2 = E > 0 ? last + 1 : 0;
    if (it2 < o->max_iter) {
        stage_t s2 = {it2, o->max_iter, 300, 0.8, 1.0};
        if ((rc = descend(&w, y, &s2, lr, grad, update, gains, &last, &kl, err))) goto cleanup;
    }
    for (size_t a = 0; a < 2 * N; a++)
        if (!isfinite(y[a])) {
            rc = pl_err_set(err, PL_ENUMERIC, "tsne: the embedding diverged (non-finite at row "
                            "%zu); lower learning_rate", a / 2 + 1);
            goto cleanup;
        }
    if ((rc = pl_mat_init(&res, N, 2, err))) goto cleanup;
    memcpy(res.data, y, 2 * N * sizeof *y);
    *out = res;
    if (info) {
        info->kl = kl;
        info->iterations = last + 1;
        info->neighbours = k;
        info->learning_rate = lr;
    }
cleanup:
    ws_release(&w);
    csr_release(&P);
    free(Pd);
    free(y);
    free(grad);
    free(update);
    free(gains);
    return rc;
}

static int src_of(const pl_tsne_input *in, src_t *s, pl_err *err) {
    memset(s, 0, sizeof *s);
    if (!in->data == !in->matrix)
        return pl_err_set(err, PL_EINVAL, "tsne: give a dataset or a matrix");
    s->d = in->data;
    s->m = in->matrix;
    size_t all = s->d ? pl_data_rows(s->d) : s->m->rows;
    s->D = s->d ? pl_data_dim(s->d) : s->m->cols;
    s->N = all;
    if (in->rows) {
        for (size_t i = 0; i < in->nrows; i++)
            if (in->rows[i] >= all)
                return pl_err_set(err, PL_EINVAL, "tsne: rows[%zu] = %zu: the input has %zu rows",
                                  i + 1, in->rows[i] + 1, all);
        s->rows = in->rows;
        s->N = in->nrows;
    }
    return PL_OK;
}

int pl_tsne(const pl_tsne_input *in, const pl_tsne_opts *o, pl_mat *out, pl_tsne_info *info,
            pl_err *err) {
    src_t s;
    int rc = src_of(in, &s, err);
    return rc ? rc : run(&s, o, out, info, err);
}

int pl_tsne_data(pl_data *d, const pl_tsne_opts *o, pl_mat *out, pl_tsne_info *info,
                 pl_err *err) {
    pl_tsne_input in = {d, NULL, NULL, 0};
    return pl_tsne(&in, o, out, info, err);
}

int pl_tsne_matrix(const pl_mat *x, const pl_tsne_opts *o, pl_mat *out, pl_tsne_info *info,
                   pl_err *err) {
    pl_tsne_input in = {NULL, x, NULL, 0};
    return pl_tsne(&in, o, out, info, err);
}

int pl_tsne_pca(const pl_tsne_input *in, pl_mat *out, pl_err *err) {
    src_t s;
    pl_mat res = {0};
    int rc = src_of(in, &s, err);
    if (rc) return rc;
    if (s.N < 2) return pl_err_set(err, PL_EINVAL, "pca: needs at least 2 rows, got %zu", s.N);
    if ((rc = pl_mat_init(&res, s.N, 2, err))) return rc;
    int threads = openblas_get_num_threads(); /* one thread: see run() */
    openblas_set_num_threads(1);
    rc = init_pca(&s, res.data, 0, err);
    openblas_set_num_threads(threads);
    if (rc) {
        pl_mat_release(&res);
        return rc;
    }
    *out = res;
    return PL_OK;
}

/* ---------------------------------------------------------------- trustworthiness */
typedef struct {
    const pl_mat *x, *y;
    size_t k;
    double *part; /* per block: Σ of positive rank excesses */
    double *scratch; /* per block: N distances in x, N in y */
} trust_ctx;

static void trust_block(const void *vctx, size_t b) {
    const trust_ctx *c = vctx;
    size_t N = c->x->rows, k = c->k;
    size_t i0 = b * ROW_BLOCK, i1 = i0 + ROW_BLOCK < N ? i0 + ROW_BLOCK : N;
    double *dx = c->scratch + b * 2 * N, *dy = dx + N, sum = 0.0;
    for (size_t i = i0; i < i1; i++) {
        for (size_t j = 0; j < N; j++) {
            dx[j] = pl_sqdist(c->x->data + i * c->x->ld, c->x->data + j * c->x->ld, c->x->cols);
            dy[j] = pl_sqdist(c->y->data + i * c->y->ld, c->y->data + j * c->y->ld, c->y->cols);
        }
        /* the k nearest in y (self excluded, ties by index), by k selection passes */
        size_t prev = SIZE_MAX;
        double pd = -1.0;
        for (size_t t = 0; t < k; t++) {
            size_t bj = SIZE_MAX;
            double bd = (double)INFINITY;
            for (size_t j = 0; j < N; j++) {
                if (j == i) continue;
                int after = dy[j] > pd || (dy[j] == pd && (prev == SIZE_MAX || j > prev));
                if (after && (dy[j] < bd || (dy[j] == bd && j < bj))) bd = dy[j], bj = j;
            }
            prev = bj, pd = bd;
            /* its rank among i's neighbours in x (1-based, ties by index) */
            size_t r = 1;
            for (size_t l = 0; l < N; l++)
                if (l != i && (dx[l] < dx[bj] || (dx[l] == dx[bj] && l < bj))) r++;
            if (r > k) sum += (double)(r - k);
        }
    }
    c->part[b] = sum;
}

int pl_tsne_trustworthiness(const pl_mat *x, const pl_mat *y, size_t k, double *out,
                            pl_err *err) {
    size_t N = x->rows, nb = (N + ROW_BLOCK - 1) / ROW_BLOCK;
    if (y->rows != N)
        return pl_err_set(err, PL_EINVAL, "trustworthiness: x has %zu rows, the embedding %zu",
                          N, y->rows);
    if (k < 1 || 2 * k >= N)
        return pl_err_set(err, PL_EINVAL, "trustworthiness: k = %zu: expected 1 <= k < N/2 "
                          "(N = %zu)", k, N);
    double *part = pl_alloc(nb, sizeof *part, err), *scratch = NULL;
    if (!part) return PL_ENOMEM;
    if (!(scratch = pl_alloc(nb, 2 * N * sizeof *scratch, err))) {
        free(part);
        return PL_ENOMEM;
    }
    trust_ctx c = {x, y, k, part, scratch};
    pl_par_run(trust_block, &c, nb, N * N * (x->cols + k));
    int rc = pl_check_interrupt(err);
    double t = 0.0;
    for (size_t b = 0; b < nb; b++) t += part[b];
    double Nd = (double)N, kd = (double)k;
    *out = 1.0 - t * (2.0 / (Nd * kd * (2.0 * Nd - 3.0 * kd - 1.0)));
    free(part);
    free(scratch);
    return rc;
}
