/* data.c — feature sources, labels, datasets, moved datasets and their statistics.
 *
 * A moved dataset never copies X: it points at its root dataset and holds the total per-class
 * shift Δ. Reading rows adds Δ[y_i]; statistics follow exactly from the root's (all about the
 * root's origin o):
 *   S' = S + diag(n) Δ,  Q'_c = Q_c + 2 Δ_c ∘ S_c + n_c Δ_c²,  G' = G + SᵀΔ + ΔᵀS + Δᵀ diag(n) Δ.
 * Why an origin: raw moments of features at 1e8 ± 1 hold the spread in their last bits, and
 * Q/n − (S/n)² or G − N m mᵀ return rounding noise; about o (the first block's column means)
 * the sums hold the spread itself. Subtracting o costs one O(D) pass per row. */
#include "data.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "linalg.h"
#include "npy.h"
#include "tensorfile.h"

/* ---------------- sources ---------------- */
struct pl_source {
    int refs;
    char *name;
    size_t rows, cols;
    pl_mat mem;      /* in-memory source when mem.data != NULL */
    pl_array a;      /* a streamed array otherwise (.npy, .npz member, safetensors tensor) */
    unsigned char *raw;
    size_t raw_cap;
    size_t rows_read;   /* rows handed out by pl_source_read, over the source's life */
};

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static pl_source *source_alloc(const char *name, pl_err *err) {
    pl_source *s = pl_alloc(1, sizeof *s, err);
    if (!s) return NULL;
    s->refs = 1;
    s->a.fd = -1;
    s->name = dup_str(name);
    if (!s->name) {
        free(s);
        pl_err_set(err, PL_ENOMEM, "out of memory copying the name of source %s", name);
        return NULL;
    }
    return s;
}

int pl_source_from_mat(const pl_mat *m, const char *name, pl_source **out, pl_err *err) {
    *out = NULL;
    pl_source *s = source_alloc(name ? name : "<matrix>", err);
    if (!s) return PL_ENOMEM;
    int rc = pl_mat_copy(&s->mem, m, err);
    if (rc) {
        pl_source_release(s);
        return rc;
    }
    s->rows = m->rows;
    s->cols = m->cols;
    *out = s;
    return PL_OK;
}

int pl_source_open_array(const char *path, pl_source **out, pl_err *err) {
    *out = NULL;
    pl_array a;
    int rc = pl_array_open(path, PL_ARRAY_FEATURES, &a, err);
    if (rc) return rc;
    const pl_npy *h = &a.h;
    if (h->ndim != 2 || pl_dtype_is_string(h->dtype)) {
        rc = h->ndim != 2
                 ? pl_err_set(err, PL_EFORMAT, "%s: features must be a 2-D array (N×D); got %d "
                              "dimensions", a.name, h->ndim)
                 : pl_err_set(err, PL_EFORMAT, "%s holds strings; features must be numbers",
                              a.name);
        pl_array_close(&a);
        return rc;
    }
    if (h->fortran && h->shape[0] > 1 && h->shape[1] > 1) {
        /* Fortran order has no contiguous rows: load it whole (documented in docs/formats.md). */
        pl_array_close(&a);
        pl_mat m;
        if ((rc = pl_array_load_mat(path, PL_ARRAY_FEATURES, &m, err))) return rc;
        rc = pl_source_from_mat(&m, path, out, err);
        pl_mat_release(&m);
        return rc;
    }
    pl_source *s = source_alloc(a.name, err);
    if (!s) {
        pl_array_close(&a);
        return PL_ENOMEM;
    }
    s->a = a;
    s->rows = h->shape[0];
    s->cols = h->shape[1];
    *out = s;
    return PL_OK;
}

void pl_source_retain(pl_source *s) {
    if (s) s->refs++;
}

void pl_source_release(pl_source *s) {
    if (!s || --s->refs > 0) return;
    pl_mat_release(&s->mem);
    pl_array_close(&s->a);
    free(s->raw);
    free(s->name);
    free(s);
}

size_t pl_source_rows(const pl_source *s) { return s->rows; }
size_t pl_source_cols(const pl_source *s) { return s->cols; }
const char *pl_source_name(const pl_source *s) { return s->name; }

static int check_finite(const pl_source *s, size_t r0, size_t nr, const double *v, pl_err *err) {
    size_t n = nr * s->cols;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return pl_err_set(err, PL_EFORMAT, "%s: row %zu, column %zu is %s; features must be "
                              "finite (rows and columns count from 1)", s->name,
                              r0 + i / s->cols + 1, i % s->cols + 1,
                              isnan(v[i]) ? "NaN" : "infinite");
    return PL_OK;
}

size_t pl_source_rows_read(const pl_source *s) { return s->rows_read; }

int pl_source_read(pl_source *s, size_t r0, size_t nr, double *out, pl_err *err) {
    if (r0 > s->rows || nr > s->rows - r0)
        return pl_err_set(err, PL_EINVAL, "%s: rows %zu..%zu out of range (%zu rows)", s->name, r0,
                          r0 + nr, s->rows);
    s->rows_read += nr;
    if (s->mem.data) {
        for (size_t i = 0; i < nr; i++)
            memcpy(out + i * s->cols, s->mem.data + (r0 + i) * s->mem.ld, s->cols * sizeof(double));
        return check_finite(s, r0, nr, out, err);
    }
    size_t count = nr * s->cols, bytes = count * s->a.h.itemsize;
    int direct = s->a.h.dtype == PL_DT_F64 && !s->a.h.swap;
    unsigned char *dst = (unsigned char *)out;
    if (!direct) {
        if (s->raw_cap < bytes) {
            unsigned char *nb = realloc(s->raw, bytes ? bytes : 1);
            if (!nb) return pl_err_set(err, PL_ENOMEM, "out of memory reading %s", s->name);
            s->raw = nb;
            s->raw_cap = bytes;
        }
        dst = s->raw;
    }
    int rc = pl_array_read_raw(&s->a, r0 * s->cols, count, dst, err);
    if (rc) return rc;
    if (!direct) pl_npy_convert(&s->a.h, s->raw, count, out);
    return check_finite(s, r0, nr, out, err);
}

/* ---------------- datasets ---------------- */
typedef struct pl_memo {
    struct pl_memo *next;
    char *key;
    size_t n;
    double v[];
} pl_memo;

struct pl_data {
    int refs;
    pl_data *root;        /* NULL for a root dataset; else the root it moves */
    double *shift;        /* C×D total shift relative to root, or NULL */
    /* root-only fields (a moved dataset reads them through root) */
    pl_source *src;
    size_t N, D, C;
    int *y;
    size_t *counts;
    int64_t *ids;
    char **names;         /* C class names (string labels), or NULL */
    pl_mat probs;
    char *probs_name;
    int64_t *slabels;
    double *origin;       /* root only: D, set by the first statistics pass */
    /* statistics cache for this dataset */
    pl_stats st;
    int st_ready, st_gram;
    pl_memo *memo;        /* pl_data_memo_put's values, this dataset's own */
};

static const pl_data *root_of(const pl_data *d) { return d->root ? d->root : d; }

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void stats_free(pl_stats *st) {
    free(st->n);
    free(st->Sc);
    free(st->Qc);
    free(st->S);
    free(st->G);
    memset(st, 0, sizeof *st);
}

int pl_data_new(pl_source *src, const int64_t *labels, size_t n, const char *labels_name,
                pl_data **out, pl_err *err) {
    *out = NULL;
    size_t N = pl_source_rows(src), D = pl_source_cols(src);
    if (n != N)
        return pl_err_set(err, PL_EINVAL, "%s has %zu labels, %s has %zu rows; expected one label "
                          "per row",
                          labels_name, n, pl_source_name(src), N);
    if (N == 0) return pl_err_set(err, PL_EINVAL, "%s: no rows", pl_source_name(src));
    if (D == 0) return pl_err_set(err, PL_EINVAL, "%s: no columns", pl_source_name(src));
    pl_data *d = pl_alloc(1, sizeof *d, err);
    int64_t *sorted = pl_alloc(N, sizeof *sorted, err);
    int rc = PL_OK;
    if (!d || !sorted) { rc = PL_ENOMEM; goto fail; }
    d->refs = 1;
    memcpy(sorted, labels, N * sizeof *sorted);
    qsort(sorted, N, sizeof *sorted, cmp_i64);
    size_t C = 0;
    for (size_t i = 0; i < N; i++)
        if (i == 0 || sorted[i] != sorted[i - 1]) sorted[C++] = sorted[i];
    if (C < 2) {
        rc = pl_err_set(err, PL_EINVAL, "%s: all %zu labels are %lld; needs at least 2 classes",
                        labels_name, N, (long long)sorted[0]);
        goto fail;
    }
    d->ids = pl_alloc(C, sizeof *d->ids, err);
    d->counts = pl_alloc(C, sizeof *d->counts, err);
    d->y = pl_alloc(N, sizeof *d->y, err);
    if (!d->ids || !d->counts || !d->y) { rc = PL_ENOMEM; goto fail; }
    memcpy(d->ids, sorted, C * sizeof *d->ids);
    for (size_t i = 0; i < N; i++) {
        const int64_t *hit = bsearch(&labels[i], d->ids, C, sizeof *d->ids, cmp_i64);
        d->y[i] = (int)(hit - d->ids);
        d->counts[d->y[i]]++;
    }
    free(sorted);
    d->N = N;
    d->D = D;
    d->C = C;
    d->src = src;
    pl_source_retain(src);
    *out = d;
    return PL_OK;
fail:
    free(sorted);
    if (d) {
        free(d->ids);
        free(d->counts);
        free(d->y);
        free(d);
    }
    return rc;
}

int pl_data_open(const char *features_path, const char *labels_path, pl_data **out,
                 pl_err *err) {
    pl_source *src = NULL;
    int64_t *y = NULL;
    char **names = NULL;
    size_t n = 0, nnames = 0;
    const char *lpath = labels_path ? labels_path : features_path;
    int role = labels_path ? PL_ARRAY_LABELS : PL_ARRAY_LABELS | PL_ARRAY_SIBLING;
    *out = NULL;
    int rc = pl_source_open_array(features_path, &src, err);
    if (rc == PL_OK) rc = pl_array_load_labels(lpath, role, &y, &n, &names, &nnames, err);
    if (rc == PL_OK && names && nnames < 2) /* one class named by its string, not its id 0 */
        rc = pl_err_set(err, PL_EINVAL, "%s: all %zu labels are '%s'; needs at least 2 classes",
                        lpath, n, nnames ? names[0] : "");
    if (rc == PL_OK) rc = pl_data_new(src, y, n, lpath, out, err);
    if (rc == PL_OK && names) rc = pl_data_set_class_names(*out, names, nnames, err);
    if (rc < 0) {
        pl_data_release(*out);
        *out = NULL;
    }
    pl_source_release(src);
    free(y);
    pl_array_free_names(names, nnames);
    return rc;
}

int pl_data_moved(pl_data *base, const double *shift, pl_data **out, pl_err *err) {
    *out = NULL;
    const pl_data *r = root_of(base);
    size_t CD = r->C * r->D;
    for (size_t i = 0; i < CD; i++)
        if (!isfinite(shift[i]))
            return pl_err_set(err, PL_EINVAL,
                              "moved: shift of class %zu, dimension %zu is not finite",
                              i / r->D, i % r->D);
    pl_data *d = pl_alloc(1, sizeof *d, err);
    if (!d) return PL_ENOMEM;
    d->shift = pl_alloc(CD, sizeof *d->shift, err);
    if (!d->shift) {
        free(d);
        return PL_ENOMEM;
    }
    for (size_t i = 0; i < CD; i++) d->shift[i] = shift[i] + (base->shift ? base->shift[i] : 0.0);
    d->refs = 1;
    d->root = (pl_data *)r;
    pl_data_retain(d->root);
    *out = d;
    return PL_OK;
}

void pl_data_retain(pl_data *d) {
    if (d) d->refs++;
}

void pl_data_release(pl_data *d) {
    if (!d || --d->refs > 0) return;
    stats_free(&d->st);
    while (d->memo) {
        pl_memo *m = d->memo;
        d->memo = m->next;
        free(m->key);
        free(m);
    }
    free(d->shift);
    if (d->root) {
        pl_data_release(d->root);
    } else {
        pl_source_release(d->src);
        free(d->origin);
        free(d->y);
        free(d->counts);
        free(d->ids);
        pl_array_free_names(d->names, d->C);
        pl_mat_release(&d->probs);
        free(d->probs_name);
        free(d->slabels);
    }
    free(d);
}

size_t pl_data_rows(const pl_data *d) { return root_of(d)->N; }
size_t pl_data_dim(const pl_data *d) { return root_of(d)->D; }
size_t pl_data_classes(const pl_data *d) { return root_of(d)->C; }
const int *pl_data_y(const pl_data *d) { return root_of(d)->y; }
const size_t *pl_data_counts(const pl_data *d) { return root_of(d)->counts; }
const int64_t *pl_data_class_ids(const pl_data *d) { return root_of(d)->ids; }
const double *pl_data_shift(const pl_data *d) { return d->shift; }

const char *const *pl_data_class_names(const pl_data *d) {
    return (const char *const *)root_of(d)->names;
}

int pl_data_set_class_names(pl_data *d, char *const *names, size_t C, pl_err *err) {
    pl_data *r = (pl_data *)root_of(d);
    if (C != r->C)
        return pl_err_set(err, PL_EINVAL, "%s: %zu class names for %zu classes",
                          pl_source_name(r->src), C, r->C);
    for (size_t c = 0; c < C; c++)
        if (r->ids[c] != (int64_t)c)
            return pl_err_set(err, PL_EINVAL, "%s: class names need ids 0..%zu",
                              pl_source_name(r->src), C - 1);
    char **nm = pl_alloc(C, sizeof *nm, err);
    if (!nm) return PL_ENOMEM;
    for (size_t c = 0; c < C; c++)
        if (!(nm[c] = dup_str(names[c]))) {
            pl_array_free_names(nm, c);
            return pl_err_set(err, PL_ENOMEM, "out of memory copying the class names of %s",
                              pl_source_name(r->src));
        }
    pl_array_free_names(r->names, r->C);
    r->names = nm;
    return PL_OK;
}
const char *pl_data_name(const pl_data *d) { return pl_source_name(root_of(d)->src); }
pl_source *pl_data_source(const pl_data *d) { return root_of(d)->src; }

size_t pl_data_block_rows(const pl_data *d) {
    size_t D = pl_data_dim(d);
    size_t b = ((size_t)8 << 20) / (D * sizeof(double));
    return b ? b : 1;
}

int pl_data_read(pl_data *d, size_t r0, size_t nr, double *out, pl_err *err) {
    const pl_data *r = root_of(d);
    int rc = pl_source_read(r->src, r0, nr, out, err);
    if (rc || !d->shift) return rc;
    for (size_t i = 0; i < nr; i++) {
        const double *sh = d->shift + (size_t)r->y[r0 + i] * r->D;
        double *row = out + i * r->D;
        for (size_t j = 0; j < r->D; j++) row[j] += sh[j];
    }
    return PL_OK;
}

static pl_progress_fn progress_fn;
static void *progress_ud;

void pl_set_progress(pl_progress_fn fn, void *ud) {
    progress_fn = fn;
    progress_ud = ud;
}

void pl_progress_step(const char *unit, size_t done, size_t total) {
    if (progress_fn) progress_fn(progress_ud, unit, done, total);
}

/* The block loop behind both foreach functions: rows from d (shift applied) or else src. */
static int block_loop(pl_data *d, pl_source *src, const double *o, pl_block_fn fn, void *ud,
                      pl_err *err) {
    size_t N = d ? pl_data_rows(d) : pl_source_rows(src);
    size_t D = d ? pl_data_dim(d) : pl_source_cols(src);
    size_t B = ((size_t)8 << 20) / (D * sizeof(double));
    int rc = PL_OK;
    if (B < 1) B = 1;
    if (B > N) B = N;
    double *buf = pl_alloc(B ? B : 1, D * sizeof(double), err);
    if (!buf) return PL_ENOMEM;
    for (size_t r0 = 0; r0 < N && !rc; r0 += B) {
        size_t nr = N - r0 < B ? N - r0 : B;
        if ((rc = pl_check_interrupt(err)) ||
            (rc = d ? pl_data_read(d, r0, nr, buf, err) : pl_source_read(src, r0, nr, buf, err)))
            break;
        if (o)
            for (size_t i = 0; i < nr; i++)
                for (size_t j = 0; j < D; j++) buf[i * D + j] -= o[j];
        rc = fn(ud, r0, nr, buf, err);
        if (!rc && progress_fn) progress_fn(progress_ud, "rows", r0 + nr, N);
    }
    free(buf);
    return rc;
}

int pl_data_foreach_block(pl_data *d, unsigned flags, pl_block_fn fn, void *ud, pl_err *err) {
    const double *o = NULL;
    int rc;
    if ((flags & PL_ROWS_CENTRED) && (rc = pl_data_origin(d, &o, err))) return rc;
    return block_loop(d, NULL, o, fn, ud, err);
}

int pl_source_foreach_block(pl_source *s, pl_block_fn fn, void *ud, pl_err *err) {
    return block_loop(NULL, s, NULL, fn, ud, err);
}

static int dense_block(void *ud, size_t r0, size_t nr, double *x, pl_err *err) {
    pl_mat *out = ud;
    (void)err;
    for (size_t i = 0; i < nr; i++)
        memcpy(&PL_AT(out, r0 + i, 0), x + i * out->cols, out->cols * sizeof *x);
    return PL_OK;
}

int pl_data_dense(pl_data *d, pl_mat *out, pl_err *err) {
    int rc = pl_mat_init(out, pl_data_rows(d), pl_data_dim(d), err);
    if (rc) return rc;
    if ((rc = pl_data_foreach_block(d, 0, dense_block, out, err))) pl_mat_release(out);
    return rc;
}

static int stats_alloc(pl_stats *st, size_t N, size_t D, size_t C, int gram, pl_err *err) {
    st->N = N;
    st->D = D;
    st->C = C;
    st->n = pl_alloc(C, sizeof(double), err);
    st->Sc = pl_alloc(C * D, sizeof(double), err);
    st->Qc = pl_alloc(C * D, sizeof(double), err);
    st->S = pl_alloc(C * D, sizeof(double), err);
    if (gram) st->G = pl_alloc(D * D, sizeof(double), err);
    if (!st->n || !st->Sc || !st->Qc || !st->S || (gram && !st->G)) {
        stats_free(st);
        return PL_ENOMEM;
    }
    return PL_OK;
}

/* Cache freshly computed statistics on d. When d already had them (without the Gram, which is
 * being added), the arrays callers may hold stay where they are: the new values (the same
 * numbers) are copied into them and only G is adopted. */
static void adopt_stats(pl_data *d, pl_stats *st, int gram) {
    if (d->st_ready) {
        size_t cd = st->C * st->D;
        memcpy(d->st.n, st->n, st->C * sizeof(double));
        memcpy(d->st.Sc, st->Sc, cd * sizeof(double));
        memcpy(d->st.Qc, st->Qc, cd * sizeof(double));
        memcpy(d->st.S, st->S, cd * sizeof(double));
        free(d->st.G);
        d->st.G = st->G;
        st->G = NULL;
        stats_free(st);
    } else {
        d->st = *st;
    }
    d->st_ready = 1;
    d->st_gram = gram;
}

/* The raw class sums Σ x = Sc + n·o (LogME's Xᵀy). */
static void stats_raw(pl_stats *st) {
    size_t D = st->D;
    for (size_t c = 0; c < st->C; c++)
        for (size_t j = 0; j < D; j++)
            st->S[c * D + j] = st->Sc[c * D + j] + st->n[c] * st->origin[j];
}

typedef struct {
    pl_data *d;
    pl_stats *st;
    pl_mat g;
    int gram;
} stats_ctx;

static int stats_block(void *ud, size_t r0, size_t nr, double *buf, pl_err *err) {
    stats_ctx *cx = ud;
    pl_data *d = cx->d;
    pl_stats *st = cx->st;
    size_t D = d->D;
    double *restrict o = d->origin;
    if (r0 == 0) { /* the origin: this first block's column means (fixed once computed) */
        for (size_t j = 0; j < D; j++) o[j] = 0.0;
        for (size_t i = 0; i < nr; i++)
            for (size_t j = 0; j < D; j++) o[j] += buf[i * D + j];
        for (size_t j = 0; j < D; j++) o[j] /= (double)nr;
    }
    for (size_t i = 0; i < nr; i++) {
        size_t c = (size_t)d->y[r0 + i] * D;
        double *restrict s = st->Sc + c, *restrict q = st->Qc + c, *restrict x = buf + i * D;
        if (cx->gram) {   /* the Gram takes the centred block */
            for (size_t j = 0; j < D; j++) {
                double v = x[j] - o[j];
                x[j] = v;
                s[j] += v;
                q[j] += v * v;
            }
        } else {
            for (size_t j = 0; j < D; j++) {
                double v = x[j] - o[j];
                s[j] += v;
                q[j] += v * v;
            }
        }
    }
    if (!cx->gram) return PL_OK;
    pl_mat blk = pl_mat_wrap(buf, nr, D);
    return pl_syrk_t_upper(1.0, &blk, r0 == 0 ? 0.0 : 1.0, &cx->g, err);
}

/* One streaming pass over the root's source. */
static int stats_pass(pl_data *d, int gram, pl_err *err) {
    size_t N = d->N, D = d->D, C = d->C;
    pl_stats st = {0};
    int rc = stats_alloc(&st, N, D, C, gram, err);
    if (rc) return rc;
    if (!d->origin && !(d->origin = pl_alloc(D, sizeof(double), err))) {
        stats_free(&st);
        return PL_ENOMEM;
    }
    st.origin = d->origin;
    for (size_t c = 0; c < C; c++) st.n[c] = (double)d->counts[c];
    stats_ctx cx = {d, &st, pl_mat_wrap(st.G, D, D), gram};
    rc = pl_data_foreach_block(d, 0, stats_block, &cx, err);
    if (gram && !rc) pl_symmetrize_upper(&cx.g);
    /* finite features can still overflow when squared (|x − o| > 1e154): refuse, naming the
     * file */
    for (size_t i = 0; !rc && i < C * D; i++)
        if (!isfinite(st.Qc[i]) || !isfinite(st.Sc[i]))
            rc = pl_err_set(err, PL_ENUMERIC, "%s: the sums of squares of dimension %zu overflow "
                            "double precision (features up to about 1e154 are supported); rescale "
                            "the features",
                            pl_source_name(d->src), i % D + 1);
    for (size_t i = 0; !rc && gram && i < D * D; i++)
        if (!isfinite(st.G[i]))
            rc = pl_err_set(err, PL_ENUMERIC, "%s: the Gram matrix XᵀX overflows double precision; "
                            "rescale the features",
                            pl_source_name(d->src));
    if (rc) { stats_free(&st); return rc; }
    stats_raw(&st);
    adopt_stats(d, &st, gram);
    return PL_OK;
}

/* g (upper triangle) = b->G moved by the per-class shift dl (C×D):
 * G' = G + SᵀΔ + ΔᵀS + Δᵀ diag(n) Δ = G + AᵀΔ + ΔᵀA with A = S + ½·diag(n)·Δ (S the
 * centred sums), one symmetric rank-2k update (exactly symmetric). */
static int shift_gram_upper(const pl_stats *b, const double *dl, pl_mat *g, pl_err *err) {
    size_t D = b->D, C = b->C;
    if (g->rows != D || g->cols != D)
        return pl_err_set(err, PL_EINVAL, "gram: output is %zux%zu, expected %zux%zu", g->rows,
                          g->cols, D, D);
    for (size_t i = 0; i < D; i++)
        memcpy(&PL_AT(g, i, i), b->G + i * D + i, (D - i) * sizeof(double));
    double *a = pl_alloc(C * D, sizeof *a, err);
    if (!a) return PL_ENOMEM;
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < D; j++)
            a[c * D + j] = b->Sc[c * D + j] + 0.5 * b->n[c] * dl[c * D + j];
    pl_mat am = pl_mat_wrap(a, C, D), dm = pl_mat_wrap((double *)dl, C, D);
    int rc = pl_syr2k_t_upper(1.0, &am, &dm, 1.0, g, err);
    free(a);
    return rc;
}

int pl_data_gram_upper(pl_data *d, pl_mat *out, pl_err *err) {
    const pl_stats *st;
    int rc;
    size_t D = pl_data_dim(d), C = pl_data_classes(d);
    if (out->rows != D || out->cols != D)
        return pl_err_set(err, PL_EINVAL, "gram: output is %zux%zu, expected %zux%zu", out->rows,
                          out->cols, D, D);
    pl_data *r = (pl_data *)root_of(d);
    if ((rc = pl_data_stats(r, 1, &st, err))) return rc;
    /* Δ'_c = o + Δ_c: the raw rows are the centred ones moved by it */
    double *dl = pl_alloc(C * D, sizeof *dl, err);
    if (!dl) return PL_ENOMEM;
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < D; j++)
            dl[c * D + j] = r->origin[j] + (d->shift ? d->shift[c * D + j] : 0.0);
    rc = shift_gram_upper(st, dl, out, err);
    free(dl);
    return rc;
}

int pl_data_stats_gram_root(pl_data *d, const pl_stats **out, pl_err *err) {
    const pl_stats *rs;
    int rc = pl_data_stats(d->root ? d->root : d, 1, &rs, err);
    return rc ? rc : pl_data_stats(d, 0, out, err);
}

int pl_data_origin(pl_data *d, const double **out, pl_err *err) {
    pl_data *r = (pl_data *)root_of(d);
    const pl_stats *st;
    int rc;
    *out = NULL;
    if (!r->origin && (rc = pl_data_stats(r, 0, &st, err))) return rc;
    *out = r->origin;
    return PL_OK;
}

/* Derive a moved dataset's statistics from its root's. */
static int stats_shift(pl_data *d, const pl_stats *b, int gram, pl_err *err) {
    size_t D = b->D, C = b->C;
    pl_stats st = {0};
    int rc = stats_alloc(&st, b->N, D, C, gram, err);
    if (rc) return rc;
    st.origin = b->origin;
    const double *dl = d->shift;
    for (size_t c = 0; c < C; c++) {
        st.n[c] = b->n[c];
        for (size_t j = 0; j < D; j++) {
            size_t k = c * D + j;
            st.Sc[k] = b->Sc[k] + b->n[c] * dl[k];
            st.Qc[k] = b->Qc[k] + 2.0 * dl[k] * b->Sc[k] + b->n[c] * dl[k] * dl[k];
            st.S[k] = b->S[k] + b->n[c] * dl[k];
        }
    }
    if (gram) {
        pl_mat g = pl_mat_wrap(st.G, D, D);
        if ((rc = shift_gram_upper(b, dl, &g, err))) {
            stats_free(&st);
            return rc;
        }
        pl_symmetrize_upper(&g);
    }
    adopt_stats(d, &st, gram);
    return PL_OK;
}

int pl_data_stats(pl_data *d, int want_gram, const pl_stats **out, pl_err *err) {
    *out = NULL;
    if (!d->st_ready || (want_gram && !d->st_gram)) {
        int rc;
        if (!d->root) {
            rc = stats_pass(d, want_gram || d->st_gram, err);
            if (rc == PL_ENOMEM)
                pl_err_prefix(err, "%s: statistics of %zu classes × %zu dimensions%s",
                              pl_source_name(d->src),
                              d->C, d->D, want_gram ? " with the D×D Gram matrix" : "");
        } else {
            const pl_stats *b;
            if ((rc = pl_data_stats(d->root, want_gram, &b, err))) return rc;
            rc = stats_shift(d, b, want_gram, err);
        }
        if (rc) return rc;
    }
    *out = &d->st;
    return PL_OK;
}

void pl_stats_class_means(const pl_stats *st, double *out) {
    size_t D = st->D;
    for (size_t c = 0; c < st->C; c++)
        for (size_t j = 0; j < D; j++) out[c * D + j] = st->Sc[c * D + j] / st->n[c];
}

void pl_stats_mean(const pl_stats *st, double *out) {
    size_t D = st->D;
    for (size_t j = 0; j < D; j++) out[j] = 0.0;
    for (size_t c = 0; c < st->C; c++)
        for (size_t j = 0; j < D; j++) out[j] += st->Sc[c * D + j];
    for (size_t j = 0; j < D; j++) out[j] /= (double)st->N;
}

void pl_stats_class_vars(const pl_stats *st, double *out) {
    size_t D = st->D;
    for (size_t c = 0; c < st->C; c++)
        for (size_t j = 0; j < D; j++) {
            double n = st->n[c], m = st->Sc[c * D + j] / n;
            double v = st->Qc[c * D + j] / n - m * m;
            out[c * D + j] = v > 0.0 ? v : 0.0;
        }
}

int pl_stats_scatter(const pl_stats *st, int which, double scale, pl_mat *out, pl_err *err) {
    size_t D = st->D, C = st->C, k = which == PL_SCATTER_WITHIN ? C : 1;
    pl_mat b = {0};
    int rc;
    if (!st->G)
        return pl_err_set(err, PL_EINVAL, "scatter: the statistics were computed without the Gram");
    if (out->rows != D || out->cols != D)
        return pl_err_set(err, PL_EINVAL, "scatter: output is %zux%zu, expected %zux%zu",
                          out->rows, out->cols, D, D);
    if ((rc = pl_mat_init(&b, k, D, err))) return rc;
    if (which == PL_SCATTER_TOTAL) {
        /* one pass: scale·(G − b bᵀ), b = sqrt(N)·m̄, exactly symmetric as G is */
        pl_stats_mean(st, b.data);
        double r = sqrt((double)st->N);
        for (size_t j = 0; j < D; j++) b.data[j] *= r;
        for (size_t i = 0; i < D; i++) {
            const double *g = st->G + i * D, bi = b.data[i];
            double *o = &PL_AT(out, i, 0);
            for (size_t j = 0; j < D; j++) o[j] = (g[j] - bi * b.data[j]) * scale;
        }
        pl_mat_release(&b);
        return PL_OK;
    }
    for (size_t i = 0; i < D; i++) memcpy(&PL_AT(out, i, 0), st->G + i * D, D * sizeof(double));
    /* b_c = sqrt(n_c)·m̄_c, so bᵀb = Σ n_c m̄_c m̄_cᵀ is exactly symmetric */
    for (size_t c = 0; c < C; c++) {
        double r = sqrt(st->n[c]);
        for (size_t j = 0; j < D; j++) PL_AT(&b, c, j) = st->Sc[c * D + j] / st->n[c] * r;
    }
    rc = pl_syrk_t(-1.0, &b, 1.0, out, err);
    pl_mat_release(&b);
    if (rc) return rc;
    if (scale != 1.0)
        for (size_t i = 0; i < D; i++)
            for (size_t j = 0; j < D; j++) PL_AT(out, i, j) *= scale;
    return PL_OK;
}

int pl_data_set_source_probs(pl_data *d, const pl_mat *p, const char *name, pl_err *err) {
    pl_data *r = (pl_data *)root_of(d);
    if (p->rows != r->N)
        return pl_err_set(err, PL_EINVAL,
                          "%s has %zu rows, %s has %zu; expected one row per sample",
                          name, p->rows, pl_source_name(r->src), r->N);
    for (size_t i = 0; i < p->rows; i++)
        for (size_t j = 0; j < p->cols; j++)
            if (!isfinite(PL_AT(p, i, j)))
                return pl_err_set(err, PL_EINVAL, "%s: row %zu, column %zu is not finite", name,
                                  i + 1, j + 1);
    pl_mat copy;
    int rc = pl_mat_copy(&copy, p, err);
    if (rc) return rc;
    char *nm = dup_str(name);
    if (!nm) {
        pl_mat_release(&copy);
        return pl_err_set(err, PL_ENOMEM, "out of memory copying the name of %s", name);
    }
    pl_mat_release(&r->probs);
    free(r->probs_name);
    r->probs = copy;
    r->probs_name = nm;
    return PL_OK;
}

int pl_data_set_source_labels(pl_data *d, const int64_t *s, size_t n, const char *name,
                              pl_err *err) {
    pl_data *r = (pl_data *)root_of(d);
    if (n != r->N)
        return pl_err_set(err, PL_EINVAL,
                          "%s has %zu labels, %s has %zu rows; expected one per row",
                          name, n, pl_source_name(r->src), r->N);
    int64_t *c = pl_alloc(n, sizeof *c, err);
    if (!c) return PL_ENOMEM;
    memcpy(c, s, n * sizeof *c);
    free(r->slabels);
    r->slabels = c;
    return PL_OK;
}

const pl_mat *pl_data_source_probs(const pl_data *d) {
    const pl_data *r = root_of(d);
    return r->probs.data ? &r->probs : NULL;
}

const int64_t *pl_data_source_labels(const pl_data *d) { return root_of(d)->slabels; }

/* ---------------- statistics in parts (a distributed pass) ----------------
 * Several processes can each read a row range and sum its statistics about one origin (the
 * one a single pass takes: the column means of the first block); the parts, summed in a fixed
 * order, are the statistics of the whole, installed with pl_data_stats_adopt. */
int pl_data_first_origin(pl_data *d, double *out, pl_err *err) {
    if (d->root) return pl_err_set(err, PL_EINVAL,
                                   "statistics in parts: a root dataset is expected");
    size_t D = d->D, nr = pl_data_block_rows(d);
    if (nr > d->N) nr = d->N;
    double *buf = pl_alloc(nr * D, sizeof *buf, err);
    if (!buf) return PL_ENOMEM;
    int rc = pl_data_read(d, 0, nr, buf, err);
    if (!rc) { /* as stats_block: the same sums in the same order */
        for (size_t j = 0; j < D; j++) out[j] = 0.0;
        for (size_t i = 0; i < nr; i++)
            for (size_t j = 0; j < D; j++) out[j] += buf[i * D + j];
        for (size_t j = 0; j < D; j++) out[j] /= (double)nr;
    }
    free(buf);
    return rc;
}

void pl_stats_part_free(pl_stats *st) {
    stats_free(st);
}

int pl_data_stats_part(pl_data *d, size_t r0, size_t r1, const double *origin, int gram,
                       pl_stats *part, pl_err *err) {
    if (d->root) return pl_err_set(err, PL_EINVAL,
                                   "statistics in parts: a root dataset is expected");
    if (r0 > r1 || r1 > d->N)
        return pl_err_set(err, PL_EINVAL, "statistics in parts: rows %zu..%zu of %zu", r0, r1,
                          d->N);
    size_t D = d->D, C = d->C, B = pl_data_block_rows(d);
    *part = (pl_stats){0};
    int rc = stats_alloc(part, r1 - r0, D, C, gram, err);
    if (rc) return rc;
    part->origin = origin;
    double *buf = pl_alloc((B < r1 - r0 ? B : r1 - r0) * D + 1, sizeof *buf, err);
    if (!buf) {
        stats_free(part);
        return PL_ENOMEM;
    }
    pl_mat g = pl_mat_wrap(part->G, D, D);
    for (size_t r = r0; !rc && r < r1; r += B) {
        size_t nr = r1 - r < B ? r1 - r : B;
        if ((rc = pl_data_read(d, r, nr, buf, err))) break;
        for (size_t i = 0; i < nr; i++) {
            size_t c = (size_t)d->y[r + i];
            double *restrict s = part->Sc + c * D, *restrict q = part->Qc + c * D;
            double *restrict x = buf + i * D;
            part->n[c] += 1.0;
            for (size_t j = 0; j < D; j++) {
                double v = x[j] - origin[j];
                x[j] = v;
                s[j] += v;
                q[j] += v * v;
            }
        }
        if (gram) {
            pl_mat blk = pl_mat_wrap(buf, nr, D);
            rc = pl_syrk_t_upper(1.0, &blk, r == r0 ? 0.0 : 1.0, &g, err);
        }
    }
    free(buf);
    if (!rc && gram) {
        if (r1 == r0) memset(part->G, 0, D * D * sizeof(double));
        else pl_symmetrize_upper(&g);
    }
    if (rc) stats_free(part);
    return rc;
}

int pl_data_stats_adopt(pl_data *d, const double *origin, const pl_stats *sum, pl_err *err) {
    if (d->root || d->st_ready)
        return pl_err_set(err, PL_EINVAL, "statistics in parts: a root dataset without statistics "
                          "is expected");
    size_t D = d->D, C = d->C;
    if (sum->D != D || sum->C != C)
        return pl_err_set(err, PL_EINVAL, "statistics in parts: %zu classes × %zu dimensions, "
                          "expected %zu × %zu",
                          sum->C, sum->D, C, D);
    for (size_t c = 0; c < C; c++)
        if (sum->n[c] != (double)d->counts[c])
            return pl_err_set(err, PL_EINVAL, "statistics in parts: the parts hold %.0f rows of "
                              "class %zu, the labels %zu",
                              sum->n[c], c, d->counts[c]);
    for (size_t i = 0; i < C * D; i++)
        if (!isfinite(sum->Qc[i]) || !isfinite(sum->Sc[i]))
            return pl_err_set(err, PL_ENUMERIC, "%s: the sums of squares of dimension %zu overflow "
                              "double precision (features up to about 1e154 are supported); "
                              "rescale the features",
                              pl_source_name(d->src), i % D + 1);
    for (size_t i = 0; sum->G && i < D * D; i++)
        if (!isfinite(sum->G[i]))
            return pl_err_set(err, PL_ENUMERIC, "%s: the Gram matrix XᵀX overflows double "
                              "precision; rescale the features",
                              pl_source_name(d->src));
    int gram = sum->G != NULL;
    pl_stats st = {0};
    int rc = stats_alloc(&st, d->N, D, C, gram, err);
    if (rc) return rc;
    if (!d->origin && !(d->origin = pl_alloc(D, sizeof(double), err))) {
        stats_free(&st);
        return PL_ENOMEM;
    }
    memcpy(d->origin, origin, D * sizeof(double));
    st.origin = d->origin;
    memcpy(st.n, sum->n, C * sizeof(double));
    memcpy(st.Sc, sum->Sc, C * D * sizeof(double));
    memcpy(st.Qc, sum->Qc, C * D * sizeof(double));
    if (gram) memcpy(st.G, sum->G, D * D * sizeof(double));
    stats_raw(&st);
    adopt_stats(d, &st, gram);
    return PL_OK;
}

int pl_data_memo_get(const pl_data *d, const char *key, double *out, size_t n) {
    for (const pl_memo *m = d->memo; m; m = m->next)
        if (!strcmp(m->key, key)) {
            if (m->n != n) return 0;
            memcpy(out, m->v, n * sizeof(double));
            return 1;
        }
    return 0;
}

int pl_data_memo_put(pl_data *d, const char *key, const double *v, size_t n, pl_err *err) {
    pl_memo *m = pl_alloc(1, sizeof *m + n * sizeof(double), err);
    if (!m) return PL_ENOMEM;
    if (!(m->key = dup_str(key))) {
        free(m);
        return pl_err_set(err, PL_ENOMEM, "out of memory keeping the values of %s", key);
    }
    m->n = n;
    memcpy(m->v, v, n * sizeof(double));
    for (pl_memo **p = &d->memo; *p; p = &(*p)->next)
        if (!strcmp((*p)->key, key)) {
            pl_memo *old = *p;
            *p = old->next;
            free(old->key);
            free(old);
            break;
        }
    m->next = d->memo;
    d->memo = m;
    return PL_OK;
}
