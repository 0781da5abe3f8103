/* nce.c — NCE, the Negative Conditional Entropy -H(Y | Z) of the target labels Y given the
 * source model's hard predictions Z (Tran et al., "Transferability and Hardness of Supervised
 * Classification Tasks", ICCV 2019).
 *
 * With counts n(z) and n(y, z) over the N samples, P(z) = n(z)/N, P(y | z) = n(y, z)/n(z):
 *     NCE = - Σ_z P(z) Σ_y -(P(y|z) + 1e-20) log(P(y|z) + 1e-20)
 * where z runs over the source labels that occur and y over all C target classes. The 1e-20
 * is thuml's guard against log(0) (each absent (y, z) pair adds 1e-20·log(1e20) ≈ 4.6e-19).
 *
 * Reference: thuml/LogME NCE.py (fixed version with the mask; tllib's nce.py is the same);
 * agrees to ~1e-15. Source labels may be any integer ids (thuml needs 0..Cs-1 and sizes its
 * table by the largest id; ids that never occur are masked out there, so only the ones that
 * occur matter and the result is the same).
 * Cost: O(N log N) time (sorting the (z, y) pairs), O(N) memory, whatever the number of
 * source classes. Features are not read.
 *
 * Degenerate inputs: missing source labels are an error (their length is checked when they
 * are attached). Every occurring z has n(z) >= 1, so the score is finite and in [-log C, 0]
 * (up to the 1e-20 terms). Features play no part (constant columns, N < D, duplicated rows
 * are irrelevant); a class with one sample and C = 2 are fine. */
#include <math.h>
#include <stdlib.h>

#include "metric.h"

typedef struct {
    int64_t z;
    int y;
} zy_pair;

static int cmp_pair(const void *a, const void *b) {
    const zy_pair *p = a, *q = b;
    if (p->z != q->z) return p->z < q->z ? -1 : 1;
    return (p->y > q->y) - (p->y < q->y);
}

/* -(p + 1e-20) log(p + 1e-20), thuml's entropy term */
static double ent_term(double p) {
    double q = p + 1e-20;
    return -q * log(q);
}

int pl_nce(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    (void)o;
    const int64_t *s = pl_data_source_labels(d);
    size_t N = pl_data_rows(d), C = pl_data_classes(d);
    const int *y = pl_data_y(d);
    if (!s)
        return pl_err_set(err, PL_EINVAL,
                          "nce: needs the source model's predicted labels (one per sample), "
                          "none were given");
    zy_pair *pr = pl_alloc(N, sizeof *pr, err);
    if (!pr) return pl_err_prefix(err, "nce");
    for (size_t i = 0; i < N; i++) pr[i] = (zy_pair){s[i], y[i]};
    qsort(pr, N, sizeof *pr, cmp_pair);

    const double zero_term = ent_term(0.0);
    double cond = 0.0;
    for (size_t a = 0; a < N;) {
        size_t b = a;
        while (b < N && pr[b].z == pr[a].z) b++;
        double nz = (double)(b - a), h = 0.0;
        size_t present = 0;
        for (size_t i = a; i < b;) {  /* runs of equal y within this z */
            size_t j = i;
            while (j < b && pr[j].y == pr[i].y) j++;
            h += ent_term((double)(j - i) / nz);
            present++;
            i = j;
        }
        h += (double)(C - present) * zero_term;
        cond += h * (nz / (double)N);
        a = b;
    }
    free(pr);
    *out = -cond;
    if (!isfinite(*out))
        return pl_err_set(err, PL_ENUMERIC, "nce: the score is not finite (%g)", *out);
    return PL_OK;
}
