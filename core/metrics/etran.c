/* etran.c — placeholder until the metric is written: every part refuses. */
#include "metric.h"

int pl_etran_energy(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    (void)d;
    (void)o;
    *out = 0;
    return pl_err_set(err, PL_EINVAL, "etran_energy: not implemented");
}

int pl_etran_lda(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    (void)d;
    (void)o;
    *out = 0;
    return pl_err_set(err, PL_EINVAL, "etran_lda: not implemented");
}

