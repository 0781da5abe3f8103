/* ncti.c — placeholder until the metric is written: every part refuses. */
#include "metric.h"

int pl_ncti_nuc(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    (void)d;
    (void)o;
    *out = 0;
    return pl_err_set(err, PL_EINVAL, "ncti_nuc: not implemented");
}

int pl_ncti_ncc(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    (void)d;
    (void)o;
    *out = 0;
    return pl_err_set(err, PL_EINVAL, "ncti_ncc: not implemented");
}

int pl_ncti_vc(pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    (void)d;
    (void)o;
    *out = 0;
    return pl_err_set(err, PL_EINVAL, "ncti_vc: not implemented");
}

