/* leep.c — LEEP, the Log Expected Empirical Prediction (Nguyen et al., "LEEP: A New Measure to
 * Evaluate Transferability of Learned Representations", ICML 2020).
 *
 * Inputs: the source model's probabilities θ(x_i) over Cs source classes (N×Cs, the dataset's
 * source probabilities) and the target labels y_i. With the empirical joint
 *     P(y, z) = (1/N) Σ_{i: y_i = y} θ_z(x_i),   P(y | z) = P(y, z) / Σ_y' P(y', z),
 * the score is  (1/N) Σ_i log Σ_z θ_z(x_i) P(y_i | z)   (<= 0, higher is better).
 *
 * Reference: thuml/LogME LEEP.py (tllib's leep.py is the same code); agrees with it to ~1e-15.
 * Cost: O(N·Cs) time, O(C·Cs) memory. Features are not read.
 *
 * Degenerate inputs: rows must be probability vectors (entries >= 0, sum within 1e-6 of 1),
 * else an error naming the row (0-based). A source class with zero probability on every
 * sample has Σ_y P(y, z) = 0: the official code then produces 0/0 = NaN and a NaN score; here
 * that class contributes nothing (its θ_z(x_i) are all 0), giving the finite limit. Every
 * sample's expected prediction is > 0 (its own probability mass enters its own class's
 * joint), so the log is always finite. Features play no part, so constant columns, N < D or
 * duplicated rows do not matter; a class with one sample and C = 2 are fine. */
#include <math.h>
#include <stdlib.h>

#include "metric.h"

int pl_leep(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    (void)o;
    int rc = PL_OK;
    double *joint = NULL, *col = NULL;
    const pl_mat *p = pl_data_source_probs(d);
    size_t N = pl_data_rows(d), C = pl_data_classes(d);
    const int *y = pl_data_y(d);
    if (!p)
        return pl_err_set(err, PL_EINVAL,
                          "leep: needs the source model's probabilities (N × Cs), none were given");
    if (p->rows != N || p->cols == 0)
        return pl_err_set(err, PL_EINVAL,
                          "leep: source probabilities are %zu × %zu, expected %zu rows (one per "
                          "sample) and at least one column", p->rows, p->cols, N);
    size_t Cs = p->cols;
    for (size_t i = 0; i < N; i++) {
        double s = 0.0;
        for (size_t z = 0; z < Cs; z++) {
            double v = PL_AT(p, i, z);
            if (!(v >= 0.0) || !isfinite(v))
                return pl_err_set(err, PL_EINVAL,
                                  "leep: source probabilities row %zu, column %zu is %g; "
                                  "probabilities must be finite and >= 0", i + 1, z + 1, v);
            s += v;
        }
        if (fabs(s - 1.0) > 1e-6)
            return pl_err_set(err, PL_EINVAL,
                              "leep: source probabilities row %zu sums to %.17g; each row must "
                              "sum to 1 (within 1e-6)", i + 1, s);
    }

    if (!(joint = pl_alloc(C, Cs * sizeof *joint, err)) ||
        !(col = pl_alloc(Cs, sizeof *col, err))) {
        rc = pl_err_prefix(err, "leep");
        goto cleanup;
    }
    /* joint(y, z) = Σ θ_z / N, dividing first as the official code does */
    double invN = 1.0 / (double)N;
    for (size_t i = 0; i < N; i++) {
        double *row = joint + (size_t)y[i] * Cs;
        for (size_t z = 0; z < Cs; z++) row[z] += PL_AT(p, i, z) * invN;
    }
    for (size_t c = 0; c < C; c++)
        for (size_t z = 0; z < Cs; z++) col[z] += joint[c * Cs + z];
    /* joint becomes P(y | z); a source class no sample puts mass on is left out (see top) */
    for (size_t c = 0; c < C; c++)
        for (size_t z = 0; z < Cs; z++)
            joint[c * Cs + z] = col[z] > 0.0 ? joint[c * Cs + z] / col[z] : 0.0;

    double sum = 0.0;
    for (size_t i = 0; i < N; i++) {
        const double *pyz = joint + (size_t)y[i] * Cs;
        double e = 0.0;
        for (size_t z = 0; z < Cs; z++) e += PL_AT(p, i, z) * pyz[z];
        sum += log(e);
    }
    *out = sum / (double)N;
    if (!isfinite(*out))
        rc = pl_err_set(err, PL_ENUMERIC, "leep: the score is not finite (%g)", *out);

cleanup:
    free(joint);
    free(col);
    return rc;
}
