/* test_stats_parts.c — statistics in parts (core/data.c, the hook of a distributed pass): the
 * parts of three row ranges about the first block's origin, summed in order and adopted, equal
 * one pass's statistics (origin bit for bit, counts exactly, sums and Gram to 1e-12); adopting
 * onto a dataset that has statistics, parts that miss rows and a moved dataset are errors. */
#include <stdlib.h>

#include "../../core/data.h"
#include "test.h"

pl_data *tf_load(const char *fixture_case, int with_sources, pl_err *err);

static void add(double *to, const double *from, size_t n) {
    for (size_t i = 0; i < n; i++) to[i] += from[i];
}

static int sum_parts(pl_data *d, const size_t *cuts, size_t ncuts, const double *o, pl_stats *sum,
                     pl_err *err) {
    for (size_t k = 0; k + 1 < ncuts; k++) {
        pl_stats part;
        int rc = pl_data_stats_part(d, cuts[k], cuts[k + 1], o, 1, &part, err);
        if (rc) return rc;
        size_t C = part.C, D = part.D;
        add(sum->n, part.n, C);
        add(sum->Sc, part.Sc, C * D);
        add(sum->Qc, part.Qc, C * D);
        add(sum->G, part.G, D * D);
        pl_stats_part_free(&part);
    }
    return PL_OK;
}

TEST(data_stats_in_parts) {
    pl_err err;
    pl_data *full = tf_load("digits", 0, &err), *d = NULL, *moved = NULL;
    double *o = NULL, *buf = NULL;
    if (!full) TF_FAIL("load: %s", err.msg);
    d = tf_load("digits", 0, &err);
    size_t N = pl_data_rows(full), D = pl_data_dim(full), C = pl_data_classes(full);
    o = calloc(D, sizeof *o);
    buf = calloc(C + 2 * C * D + D * D, sizeof *buf);
    int ok = d && o && buf;
    const pl_stats *st = NULL, *ps = NULL;
    if (ok) ok = !pl_data_stats(full, 1, &st, &err) && !pl_data_first_origin(d, o, &err);
    pl_stats sum = {.N = N, .D = D, .C = C, .n = buf, .Sc = buf + C, .Qc = buf + C + C * D,
                    .G = buf + C + 2 * C * D, .origin = o};
    size_t cuts[] = {0, N / 3, N / 3 + 1, N};
    if (ok) ok = !sum_parts(d, cuts, 4, o, &sum, &err);
    /* parts that miss a row do not hold the labels' counts */
    size_t few[] = {0, N - 1};
    pl_stats short_sum = sum;
    double *buf2 = ok ? calloc(C + 2 * C * D + D * D, sizeof *buf2) : NULL;
    if (buf2) {
        short_sum.n = buf2, short_sum.Sc = buf2 + C, short_sum.Qc = buf2 + C + C * D;
        short_sum.G = buf2 + C + 2 * C * D;
        if (!sum_parts(d, few, 2, o, &short_sum, &err)) {
            int rc = pl_data_stats_adopt(d, o, &short_sum, &err);
            if (rc == PL_OK || !strstr(err.msg, "rows of class")) ok = 0, fprintf(stderr, "short parts: %s\n", err.msg);
        }
    }
    free(buf2);
    if (ok) ok = !pl_data_stats_adopt(d, o, &sum, &err) && !pl_data_stats(d, 1, &ps, &err);
    int again = ok ? pl_data_stats_adopt(d, o, &sum, &err) : PL_OK;
    int moved_rc = PL_OK;
    if (ok) {
        double *shift = calloc(C * D, sizeof *shift);
        if (shift && !pl_data_moved(full, shift, &moved, &err)) moved_rc = pl_data_first_origin(moved, o, &err);
        free(shift);
    }
    if (ok && ps) {
        for (size_t j = 0; j < D; j++) ok = ok && ps->origin[j] == st->origin[j];
        for (size_t c = 0; c < C; c++) ok = ok && ps->n[c] == st->n[c];
        for (size_t i = 0; ok && i < C * D; i++)
            ok = fabs(ps->Sc[i] - st->Sc[i]) <= 1e-12 * fmax(1.0, fabs(st->Sc[i])) &&
                 fabs(ps->Qc[i] - st->Qc[i]) <= 1e-12 * fmax(1.0, fabs(st->Qc[i])) &&
                 /* S = Sc + n·o cancels: its error is relative to the terms */
                 fabs(ps->S[i] - st->S[i]) <= 1e-12 * fmax(1.0, fabs(st->Sc[i]) + fabs(st->S[i] - st->Sc[i]));
        for (size_t i = 0; ok && i < D * D; i++)
            ok = fabs(ps->G[i] - st->G[i]) <= 1e-12 * fmax(1.0, fabs(st->G[i]));
    }
    pl_data_release(moved);
    pl_data_release(d);
    pl_data_release(full);
    free(o);
    free(buf);
    if (!ok) TF_FAIL("parts differ from one pass or failed: %s", err.msg);
    ASSERT(again != PL_OK);
    ASSERT(moved_rc != PL_OK);
}
