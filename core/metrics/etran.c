/* etran.c — ETran's per-model parts (Gholami et al., ICCV'23) as mgholamikn/ETran `metrics.py`
 * (commit d4551ed) computes them (tests/fixtures/README.md, section "v2"); the zoo-level `etran`
 * combines them across a task's models (0.15·minmax(energy) + 0.85·minmax(lda)).
 *
 * etran_energy (Energy_Score(X, 0.5, 'bot')): e_i = log Σ_j exp(x_ij), a logsumexp of each row
 *   over the FEATURE dimensions; score = mean of the k lowest e_i, k = int(0.5·10)·N // 1000
 *   = ⌊N/200⌋. One pass over the rows (shift applied, not centred: e is not translation
 *   invariant) keeping the k lowest in a max-heap: O(N log k) time, k doubles of memory.
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
#include <stdlib.h>
#include <string.h>

#include "../linalg.h"
#include "metric.h"

/* ---------- energy ---------- */

typedef struct {
    double *heap;   /* max-heap of the k lowest energies seen so far */
    size_t k, n, D;
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

static int energy_block(void *ud, size_t r0, size_t nr, double *x, pl_err *err) {
    energy_ctx *h = ud;
    size_t D = h->D;
    (void)r0;
    (void)err;
    for (size_t i = 0; i < nr; i++) {
        const double *r = x + i * D;
        double mx = r[0], s = 0.0;
        for (size_t j = 1; j < D; j++) mx = r[j] > mx ? r[j] : mx; /* rows are finite */
        /* e = mx + log(s) with s >= 1 (the max's own term), so e >= mx: once the heap is full,
         * a row whose max is not below its largest kept energy cannot enter the tail; skipping
         * its D exponentials leaves the result bit for bit unchanged */
        if (h->n == h->k && !(mx < h->heap[0])) continue;
        for (size_t j = 0; j < D; j++) s += exp(r[j] - mx);
        heap_push(h, mx + log(s));
    }
    return PL_OK;
}

int pl_etran_energy(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    size_t N = pl_data_rows(d), D = pl_data_dim(d);
    long tail_min;
    double *buf = NULL;
    int rc;
    *out = NAN;
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
    energy_ctx h = {buf, k, 0, D};
    if ((rc = pl_data_foreach_block(d, 0, energy_block, &h, err))) goto cleanup;
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
        double *r = &PL_AT(&sb, i, 0), mx = -INFINITY, sum = 0.0;
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
    *out = NAN;
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
