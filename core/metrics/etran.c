/* etran.c — ETran's per-model parts (Gholami et al., ICCV'23) as mgholamikn/ETran `metrics.py`
 * (commit d4551ed) computes them (tests/fixtures/README.md, section "v2"); the zoo-level `etran`
 * combines them across a task's models (0.15·minmax(energy) + 0.85·minmax(lda)).
 *
 * etran_energy (Energy_Score(X, 0.5, 'bot')): e_i = log Σ_j exp(x_ij), a logsumexp of each row
 *   over the FEATURE dimensions; score = mean of the k lowest e_i, k = int(0.5·10)·N // 1000
 *   = ⌊N/200⌋. One pass over the rows (shift applied, not centred: e is not translation
 *   invariant) keeping the k lowest in a max-heap: O(N·D) time (the exponentials only for rows
 *   that can still enter the tail, over the threads), k doubles + a block's energies of memory.
 *
 * etran_lda (LDA_Score): ETran's LDA computes priors π_c, Sw, the shrinkage s, St and Sw shrunk
 *   by s, Sb = St' − Sw', then V = eigh(inv(Sw')·Sb) — eigh reads only the lower triangle of
 *   that non-symmetric matrix, so V holds the orthonormal eigenvectors of SOME symmetric matrix,
 *   all D of them — and coef = means·V·Vᵀ. V orthogonal makes V·Vᵀ = I: coef = means, and s, St,
 *   Sb, the sort and the eigenproblem cancel (to the rounding of V·Vᵀ, ~1e-15). What is left:
 *   logits ℓ_ic = x_i·μ_c − ½|μ_c|² + log π_c, one softmax, score = mean p_i[y_i]. Moving
 *   every row by t adds x_i·t + ½|t|² to every logit of row i, so this is computed about the
 *   statistics' origin (rows x − o, means μ − o): class sums from pl_data_stats (no Gram),
 *   then one pass over the rows, O(N·D·C). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../linalg.h"
#include "metric.h"

/* ---------- energy ---------- */

typedef struct {
    double *heap;   /* max-heap of the k lowest energies seen so far */
    size_t k, n, D;
    double *e;      /* a block's energies (+inf: the row cannot enter the tail) */
    size_t ecap;
} energy_ctx;

static void heap_push(energy_ctx *h, double e) {
    double *a = h->heap;
    size_t i;
    if (h->n < h->k) {
        /* sift up */
        i = h->n++;
        while (i > 0 && a[(i - 1) / 2] < e) {
            a[i] = a[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        a[i] = e;
        return;
    }
    if (!(e < a[0])) return;
    /* replace the largest kept value, sift down */
    i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        double vm = e;
        if (l < h->n && a[l] > vm) m = l, vm = a[l];
        if (r < h->n && a[r] > vm) m = r;
        if (m == i) break;
        a[i] = a[m];
        i = m;
    }
    a[i] = e;
}

#define ENERGY_TILE 16 /* rows a thread takes at a time */

typedef struct {
    const double *x;
    size_t nr, D;
    double thr;     /* the largest kept energy when the block started (+inf: heap not full) */
    double *e;
} energy_job;

/* Four doubles as one value (GCC and clang vector extension), read from any address. */
typedef double v4d __attribute__((vector_size(32)));
typedef double v4d_u __attribute__((vector_size(32), aligned(8), may_alias));
typedef long long v4i __attribute__((vector_size(32)));

/* lanewise m ? a : b, m a comparison's mask */
#define PICK(m, a, b) ((v4d)(((m) & (v4i)(a)) | (~(m) & (v4i)(b))))

typedef struct {
    double mx, mn, sum, sabs;
} row_summary;

/* A row's max, min, sum and sum of |x| (rows are finite), in four lanes. */
PL_SIMD_CLONES
static row_summary summarise(const double *r, size_t D) {
    v4d mx = {r[0], r[0], r[0], r[0]}, mn = mx, sm = {0, 0, 0, 0}, sa = sm;
    const v4i nosign = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
    size_t j = 0;
    for (; j + 4 <= D; j += 4) {
        v4d v = *(const v4d_u *)(r + j);
        mx = PICK(v > mx, v, mx);
        mn = PICK(v < mn, v, mn);
        sm += v;
        sa += (v4d)((v4i)v & nosign);
    }
    row_summary o = {mx[0], mn[0], (sm[0] + sm[1]) + (sm[2] + sm[3]),
                     (sa[0] + sa[1]) + (sa[2] + sa[3])};
    for (int u = 1; u < 4; u++) {
        o.mx = mx[u] > o.mx ? mx[u] : o.mx;
        o.mn = mn[u] < o.mn ? mn[u] : o.mn;
    }
    for (; j < D; j++) {
        o.mx = r[j] > o.mx ? r[j] : o.mx;
        o.mn = r[j] < o.mn ? r[j] : o.mn;
        o.sum += r[j];
        o.sabs += fabs(r[j]);
    }
    return o;
}

/* p5(t) = 1 + t + t²/2 + t³/6 + t⁴/24 + t⁵/120 <= exp(t) for EVERY real t (Taylor's remainder
 * e^ξ·t⁶/720 is >= 0), so Σ_j exp(x_j − c) >= Σ_j p5(x_j − c) for any centre c. Returns that
 * sum over a row, in four lanes and a fixed order. */
PL_SIMD_CLONES
static double poly_sum(const double *r, size_t D, double c) {
    v4d acc = {0, 0, 0, 0}, cv = {c, c, c, c};
    size_t j = 0;
    for (; j + 4 <= D; j += 4) {
        v4d t = *(const v4d_u *)(r + j) - cv;
        acc += 1.0 + t * (1.0 + t * (1.0 / 2 + t * (1.0 / 6 + t * (1.0 / 24 + t * (1.0 / 120)))));
    }
    double s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; j < D; j++) {
        double t = r[j] - c;
        s += 1.0 + t * (1.0 + t * (1.0 / 2 + t * (1.0 / 6 + t * (1.0 / 24 + t * (1.0 / 120)))));
    }
    return s;
}

/* The energies of rows [16·t, 16·t + 16) of a block. A row's energy is e = mx + log s,
 * s = Σ_j exp(x_j − mx) >= 1 (the max's own term), computed by one thread in the plain order:
 * the same bits for any thread count. Lower bounds skip its D exponentials when it cannot
 * enter the tail (the largest kept energy only falls): e >= mx (s >= 1 in floating point too);
 * Jensen's e >= mean + log D; and e >= c + log Σ_j p5(x_j − c) with c the row's mean (above),
 * within ~1 % of e on real features, where it skips all but ~1 % of the rows of a large file.
 * The last two are trusted up to margins far above their rounding (the sums' D·eps of their
 * terms' magnitudes — D·q(T) for the polynomial, q its coefficients' absolute values at the
 * row's largest |x_j − c| — and e's own, for D up to 10^6). Skipped rows are rows the heap
 * would reject: the result is the plain loop's, bit for bit. */
static void energy_rows(const void *ud, size_t t) {
    const energy_job *j = ud;
    size_t D = j->D, i1 = (t + 1) * ENERGY_TILE < j->nr ? (t + 1) * ENERGY_TILE : j->nr;
    double logd = log((double)D);
    for (size_t i = t * ENERGY_TILE; i < i1; i++) {
        const double *r = j->x + i * D;
        row_summary rs = summarise(r, D);
        double mx = rs.mx, mn = rs.mn, mean = rs.sum / (double)D, mabs = rs.sabs / (double)D;
        double slack = 1e-9 * (1.0 + mabs + fabs(mx));
        int skip = !(mx < j->thr) || !(mean + logd - slack < j->thr);
        if (!skip) {
            double T = mx - mean > mean - mn ? mx - mean : mean - mn;
            double qT =
                1.0 + T * (1.0 + T * (1.0 / 2 + T * (1.0 / 6 + T * (1.0 / 24 + T * (1.0 / 120)))));
            double p = poly_sum(r, D, mean) - 1e-9 * (double)D * qT;
            skip = p > 0.0 && !(mean + log(p) - slack < j->thr);
        }
        if (skip) {
            j->e[i] = HUGE_VAL;
            continue;
        }
        double s = 0.0;
        for (size_t q = 0; q < D; q++) s += exp(r[q] - mx);
        j->e[i] = mx + log(s);
    }
}

static int energy_block(void *ud, size_t r0, size_t nr, double *x, pl_err *err) {
    energy_ctx *h = ud;
    (void)r0;
    if (nr > h->ecap) {
        free(h->e);
        h->ecap = 0;
        if (!(h->e = pl_alloc(nr, sizeof *h->e, err))) return PL_ENOMEM;
        h->ecap = nr;
    }
    energy_job j = {x, nr, h->D, h->n == h->k ? h->heap[0] : HUGE_VAL, h->e};
    pl_par_run(energy_rows, &j, (nr + ENERGY_TILE - 1) / ENERGY_TILE, nr * h->D * 8);
    int rc = pl_check_interrupt(err); /* an interruption leaves rows of the block undone */
    if (rc) return rc;
    /* pushed in row order: the heap, and the sum over it, are the plain loop's */
    for (size_t i = 0; i < nr; i++)
        if (h->e[i] != HUGE_VAL) heap_push(h, h->e[i]);
    return PL_OK;
}

int pl_etran_energy(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    size_t N = pl_data_rows(d), D = pl_data_dim(d);
    long tail_min;
    double *buf = NULL;
    int rc;
    *out = (double)NAN;
    if ((rc = pl_opt_int(o, "etran_energy", "tail_min", 0, &tail_min, err))) return rc;
    if (tail_min < 0)
        return pl_err_set(err, PL_EINVAL,
                          "etran_energy: option tail_min=%ld: expected a whole number >= 0",
                          tail_min);
    if ((unsigned long)tail_min > N)
        return pl_err_set(err, PL_EINVAL,
                          "etran_energy: option tail_min=%ld is more than the %zu rows of %s",
                          tail_min, N, pl_data_name(d));
    /* the official int(percent*10) * N // 1000 with percent = 0.5 */
    size_t k = 5 * N / 1000;
    if (k < (size_t)tail_min) k = (size_t)tail_min;
    if (k == 0)
        return pl_err_set(err, PL_EINVAL,
                          "etran_energy: the tail of the lowest 0.5 %% of rows (5*N // 1000) is "
                          "empty with N = %zu rows: it needs N >= 200 (the official value is "
                          "NaN); option tail_min=1 takes at least one row", N);
    if (!(buf = pl_alloc(k, sizeof *buf, err))) return PL_ENOMEM;
    energy_ctx h = {buf, k, 0, D, NULL, 0};
    rc = pl_data_foreach_block(d, 0, energy_block, &h, err);
    free(h.e);
    if (rc) goto cleanup;
    double s = 0.0;
    for (size_t i = 0; i < h.n; i++) s += h.heap[i];
    *out = s / (double)h.n;
    if (!isfinite(*out))
        rc = pl_err_set(err, PL_ENUMERIC, "etran_energy: the score is not finite");
cleanup:
    free(buf);
    return rc;
}

/* ---------- LDA ---------- */

typedef struct {
    const pl_mat *means;  /* C×D, about the origin */
    const double *bias;   /* C: −½|μ_c|² + log π_c */
    const int *y;
    pl_mat *sc;           /* block rows × C */
    double total;         /* Σ p_i[y_i] */
} lda_ctx;

static int lda_block(void *ud, size_t r0, size_t nr, double *x, pl_err *err) {
    lda_ctx *cx = ud;
    size_t D = cx->means->cols, C = cx->means->rows;
    pl_mat xb = pl_mat_wrap(x, nr, D), sb = pl_mat_view(cx->sc, 0, 0, nr, C);
    int rc = pl_gemm(0, 1, 1.0, &xb, cx->means, 0.0, &sb, err);
    if (rc) return rc;
    for (size_t i = 0; i < nr; i++) {
        double *r = &PL_AT(&sb, i, 0), mx = -(double)INFINITY, sum = 0.0;
        for (size_t c = 0; c < C; c++) mx = fmax(mx, r[c] += cx->bias[c]);
        for (size_t c = 0; c < C; c++) sum += exp(r[c] - mx);
        cx->total += exp(r[cx->y[r0 + i]] - mx) / sum;
    }
    return PL_OK;
}

int pl_etran_lda(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    const pl_stats *st;
    pl_mat means = {0}, sc = {0};
    double *bias = NULL, *var = NULL;
    int rc;
    (void)o;
    *out = (double)NAN;
    if ((rc = pl_data_stats(d, 0, &st, err))) return rc;
    size_t N = st->N, D = st->D, C = st->C, br = pl_data_block_rows(d);
    if (br > N) br = N;
    if ((rc = pl_mat_init(&means, C, D, err)) || (rc = pl_mat_init(&sc, br, C, err))) goto cleanup;
    if (!(bias = pl_alloc(C, sizeof *bias, err)) || !(var = pl_alloc(C * D, sizeof *var, err))) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    /* The official shrinkage max(exp(−5·λ_max(Sw)), 1e-10) is 0/0 when Sw = 0 (every feature
     * constant within its class): refuse that, and a within-class variance at the rounding level
     * of the sums about the origin, as sfda does. */
    pl_stats_class_vars(st, var);
    double tr_w = 0.0, sq = 0.0;
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < D; j++) {
            tr_w += st->n[c] * var[c * D + j];
            sq += st->Qc[c * D + j];
        }
    tr_w /= (double)N;
    sq /= (double)N;
    if (!(tr_w > 1e-10 * sq)) {
        rc = pl_err_set(err, PL_ENUMERIC,
                        "etran_lda: the within-class variance is too small to measure (trace of "
                        "the within-class covariance %g against a mean squared norm %g): the "
                        "features are constant within classes and ETran's shrinkage is undefined",
                        tr_w, sq);
        goto cleanup;
    }
    pl_stats_class_means(st, means.data);
    for (size_t c = 0; c < C; c++) {
        double q = 0.0;
        for (size_t j = 0; j < D; j++) q += PL_AT(&means, c, j) * PL_AT(&means, c, j);
        bias[c] = -0.5 * q + log(st->n[c] / (double)N);
    }
    lda_ctx cx = {&means, bias, pl_data_y(d), &sc, 0.0};
    if ((rc = pl_data_foreach_block(d, PL_ROWS_CENTRED, lda_block, &cx, err))) goto cleanup;
    *out = cx.total / (double)N;
    if (!isfinite(*out))
        rc = pl_err_set(err, PL_ENUMERIC, "etran_lda: the score is not finite");
cleanup:
    pl_mat_release(&means);
    pl_mat_release(&sc);
    free(bias);
    free(var);
    return rc;
}
