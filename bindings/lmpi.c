/* lmpi.c — pl.mpi: the ranks of an MPI run and message passing of strings between them.
 *
 *   pl.mpi.enabled            true when pedlab was built with MPI
 *   pl.mpi.rank(), size()     this process's rank and the number of ranks (0 and 1 alone)
 *   pl.mpi.send(dest, tag, s) send string s to rank dest (tag 0..31999)
 *   pl.mpi.recv([src])        → src, tag, s: the next message (from any rank by default);
 *                             waits without spinning (polls, at most 1 ms apart)
 *   pl.mpi.probe()            → src, tag of a waiting message, or nil (never waits)
 *   pl.mpi.barrier()
 *   pl.mpi.sum_to_root(x)     x: a Matrix, the same shape on every rank: the copies are summed
 *                             on rank 0 by a fixed binary tree (tree_sum: log2 of the ranks
 *                             rounds, one order of additions for a given number of ranks); the
 *                             sum is then broadcast, so every rank holds the same bits (x is
 *                             replaced)
 *   pl.mpi.share_stats(ds)    collective: every rank reads its row range of dataset ds (a root
 *                             dataset without statistics, the same file on every rank) and the
 *                             sufficient statistics (class counts, sums, second moments, Gram)
 *                             about rank 0's origin are summed on rank 0 by the same tree,
 *                             then broadcast and installed on every rank: the same bits for
 *                             every run with the same number of ranks. → true, or false alone
 *   pl.mpi.rows_read(ds)      rows of ds's file read so far in this process
 *   pl.mpi.detach()           rank 0, once every other rank has ended: from now on rank() is 0
 *                             and size() 1 (later work runs alone; an error needs no abort)
 *   pl.mpi.finish([code])     end this process: MPI_Finalize, then exit(code)
 *   pl.mpi.abort(msg)         print msg and end every rank (MPI_Abort)
 *
 * MPI starts only in the host and only when the process was started by mpirun or srun (their
 * environment says so): a plain `pedlab` run, and the module in a stock lua5.4, are size 1
 * and never start MPI. Without MPI at build time every function but rank/size/barrier/
 * sum_to_root/detach raises. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "linit.h"
#include "lpedlab.h"

#ifdef PL_MPI
#include <mpi.h>
#endif

static int detached = 0; /* rank 0 after every other rank has ended */
enum { TAG_SUM = 32000, TAG_SHARE = 32001, TAG_END = 32002 };

#ifdef PL_MPI
static int started = 0; /* MPI_Init succeeded in this process */
#endif

static int launched_by_mpi(void) {
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE",
                                 "MPI_LOCALNRANKS", NULL};
    for (int i = 0; vars[i]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

/* srun -n K with K > 1 but no MPI interface (srun --mpi=none, a cluster whose MpiDefault is
 * none) starts K copies that each see one rank: each would run the whole job alone, write the
 * same outputs and print the same scores, K times. That is refused. */
static int lone_copy_of_many(void) {
    const char *n = getenv("SLURM_STEP_NUM_TASKS");
    if (!n || launched_by_mpi()) return 0;
    long k = strtol(n, NULL, 10);
    if (k <= 1) return 0;
#ifdef PL_MPI
    fprintf(stderr, "pedlab: srun started %ld tasks without an MPI interface (srun --mpi=none?): "
            "each would run the whole job alone; use srun --mpi=pmix (docs/cluster.md), or "
            "srun -n 1\n", k);
#else
    fprintf(stderr, "pedlab: srun started %ld tasks, and this pedlab was built without MPI: each "
            "would run the whole job alone; use srun -n 1, or --shard I/N in a job array "
            "(docs/cluster.md)\n", k);
#endif
    return 1;
}

int lpl_mpi_start(int *argc, char ***argv) {
    if (lone_copy_of_many()) return 1;
#ifdef PL_MPI
    if (!launched_by_mpi()) return 0;
    /* Open MPI: an idle rank yields its core (by default it polls when ranks <= cores, which
     * took a third more CPU time in a 2-rank sweep on 2 cores); a user's setting wins */
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "pedlab: MPI_Init failed\n");
        return 1;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    started = 1;
#else
    (void)argc;
    (void)argv;
#endif
    return 0;
}

static int world_size(void) {
#ifdef PL_MPI
    if (started && !detached) {
        int n = 1;
        MPI_Comm_size(MPI_COMM_WORLD, &n);
        return n;
    }
#endif
    return 1;
}

static int world_rank(void) {
#ifdef PL_MPI
    if (started && !detached) {
        int r = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
        return r;
    }
#endif
    return 0;
}

void lpl_mpi_end(int failed) {
#ifdef PL_MPI
    if (!started) return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    /* a failure while other ranks may wait for this one: end them all, never a hang */
    if (failed && world_size() > 1) MPI_Abort(MPI_COMM_WORLD, 1);
    /* ranks that finished early wait (politely) in pl.mpi.finish for this: MPI_Finalize
     * would spin until every rank is in it */
    if (detached) {
        int n = 1;
        MPI_Comm_size(MPI_COMM_WORLD, &n);
        for (int r = 1; r < n; r++) MPI_Send(NULL, 0, MPI_CHAR, r, TAG_END, MPI_COMM_WORLD);
    }
    started = 0;
    MPI_Finalize();
#else
    (void)failed;
#endif
}

static int l_rank(lua_State *L) {
    lua_pushinteger(L, world_rank());
    return 1;
}

static int l_size(lua_State *L) {
    lua_pushinteger(L, world_size());
    return 1;
}

#ifdef PL_MPI
static void reap(lua_State *L, int wait);
#endif

static int l_detach(lua_State *L) {
    if (world_rank() != 0) return luaL_error(L, "pl.mpi.detach: only rank 0 detaches");
#ifdef PL_MPI
    reap(L, 1);
#endif
    detached = 1;
    return 0;
}

#ifdef PL_MPI
static void need_peers(lua_State *L, const char *what) {
    if (world_size() < 2)
        luaL_error(L, "pl.mpi.%s: this run has one rank (start it with mpirun -n K)", what);
}

static int check_rank_arg(lua_State *L, int idx, const char *what) {
    lua_Integer r = luaL_checkinteger(L, idx);
    int n = world_size();
    if (r < 0 || r >= n)
        return luaL_error(L, "pl.mpi.%s: rank %d is not a rank of this run (0..%d)", what, (int)r,
                          n - 1);
    if (r == world_rank()) return luaL_error(L, "pl.mpi.%s: rank %d is this rank", what, (int)r);
    return (int)r;
}

static int mpi_fail(lua_State *L, const char *what, int rc) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
    msg[len] = '\0';
    return luaL_error(L, "pl.mpi.%s: %s", what, len ? msg : "MPI error");
}

/* Sends are non-blocking: a message larger than MPI's eager limit (a few KB in shared memory)
 * would otherwise block the sender until the receiver posts its receive, and rank 0 receives
 * between cells it computes. A pending send keeps its string alive (a registry reference) until
 * it completes; finish and detach wait for every pending send. */
#define MAX_PENDING 256
static struct {
    MPI_Request req;
    int ref;
} pending[MAX_PENDING];
static int npending = 0;

static void reap(lua_State *L, int wait) {
    int k = 0;
    for (int i = 0; i < npending; i++) {
        int done = 0;
        if (wait) done = MPI_Wait(&pending[i].req, MPI_STATUS_IGNORE) == MPI_SUCCESS;
        else if (MPI_Test(&pending[i].req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) done = 0;
        if (done) luaL_unref(L, LUA_REGISTRYINDEX, pending[i].ref);
        else pending[k++] = pending[i];
    }
    npending = k;
}

static int l_send(lua_State *L) {
    need_peers(L, "send");
    int dest = check_rank_arg(L, 1, "send");
    lua_Integer tag = luaL_checkinteger(L, 2);
    size_t len;
    const char *s = luaL_checklstring(L, 3, &len);
    if (tag < 0 || tag >= TAG_SUM)
        return luaL_error(L, "pl.mpi.send: tag %d is not in 0..31999", (int)tag);
    if (len > (size_t)0x7fffffff) return luaL_error(L, "pl.mpi.send: message longer than 2 GiB");
    reap(L, 0);
    if (npending == MAX_PENDING) reap(L, 1);
    lua_pushvalue(L, 3);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    MPI_Request req;
    int rc = MPI_Isend(s, (int)len, MPI_CHAR, dest, (int)tag, MPI_COMM_WORLD, &req);
    if (rc != MPI_SUCCESS) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        return mpi_fail(L, "send", rc);
    }
    pending[npending].req = req;
    pending[npending].ref = ref;
    npending++;
    return 0;
}

static void free_ptr(void *p) {
    free(p);
}

/* Wait without spinning for a message (src, tag); naps grow to at most max_ns. */
static int wait_for(int src, int tag, long max_ns, MPI_Status *st) {
    int flag = 0, rc;
    long nap = 20000;
    while ((rc = MPI_Iprobe(src, tag, MPI_COMM_WORLD, &flag, st)) == MPI_SUCCESS && !flag) {
        struct timespec ts = {0, nap};
        nanosleep(&ts, NULL);
        if (nap < max_ns) nap *= 2;
    }
    return rc;
}

static int l_recv(lua_State *L) {
    need_peers(L, "recv");
    int src = lua_isnoneornil(L, 1) ? MPI_ANY_SOURCE : check_rank_arg(L, 1, "recv");
    MPI_Status st;
    /* wait by polling with short sleeps: MPI_Probe would spin, taking a core from the ranks
     * that compute on a machine with as many ranks as cores */
    int rc = wait_for(src, MPI_ANY_TAG, 1000000, &st);
    if (rc != MPI_SUCCESS) return mpi_fail(L, "recv", rc);
    int len = 0;
    MPI_Get_count(&st, MPI_CHAR, &len);
    char *buf = malloc(len > 0 ? (size_t)len : 1);
    if (!buf) return luaL_error(L, "pl.mpi.recv: out of memory for a message of %d bytes", len);
    void **slot = lpl_guard(L, buf, free_ptr);
    rc = MPI_Recv(buf, len, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return mpi_fail(L, "recv", rc);
    lua_pushinteger(L, st.MPI_SOURCE);
    lua_pushinteger(L, st.MPI_TAG);
    lua_pushlstring(L, buf, (size_t)len);
    *slot = NULL;
    free(buf);
    return 3;
}

static int l_probe(lua_State *L) {
    need_peers(L, "probe");
    int flag = 0, rc = MPI_SUCCESS;
    MPI_Status st;
    /* one MPI_Iprobe may not turn Open MPI's progress engine far enough to see a message that
     * has arrived (measured: a worker's result seen one cell late on rank 0, the worker idle
     * meanwhile, a 2-rank sweep 1.73x instead of 1.95x faster than one process); a few
     * rounds do, and cost microseconds */
    for (int k = 0; k < 64 && !flag && rc == MPI_SUCCESS; k++)
        rc = MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (rc != MPI_SUCCESS) return mpi_fail(L, "probe", rc);
    if (!flag) return 0;
    lua_pushinteger(L, st.MPI_SOURCE);
    lua_pushinteger(L, st.MPI_TAG);
    return 2;
}

static int l_barrier(lua_State *L) {
    if (world_size() < 2) return 0;
    int rc = MPI_Barrier(MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail(L, "barrier", rc);
    return 0;
}

/* Every rank's p (len doubles) summed into rank 0's p by a fixed binary tree: in round
 * s = 1, 2, 4, ... rank r with r % 2s == 0 adds the partial sum of rank r + s (when there is
 * one), which sends it and is done. Rank 0 receives log2(n) parts instead of n − 1, and for a
 * given n the additions always come in the same order: the same bits every run (2 and 3 ranks
 * add in rank order). buf: len doubles of scratch, used by ranks that receive. */
static int tree_sum(double *p, double *buf, size_t len, int tag) {
    int n = world_size(), me = world_rank();
    for (int s = 1; s < n; s *= 2) {
        if (me % (2 * s)) return MPI_Send(p, (int)len, MPI_DOUBLE, me - s, tag, MPI_COMM_WORLD);
        if (me + s >= n) continue;
        int rc = MPI_Recv(buf, (int)len, MPI_DOUBLE, me + s, tag, MPI_COMM_WORLD,
                          MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) return rc;
        for (size_t i = 0; i < len; i++) p[i] += buf[i];
    }
    return MPI_SUCCESS;
}

static int l_sum_to_root(lua_State *L) {
    pl_mat *x = lpl_checkmatrix(L, 1);
    int n = world_size();
    if (n < 2) return 0;
    size_t count = x->rows * x->cols;
    if (count > (size_t)0x7fffffff) return luaL_error(L, "pl.mpi.sum_to_root: matrix too large");
    /* same shape everywhere: every rank sends its shape first */
    unsigned long long shape[2] = {x->rows, x->cols}, all[2];
    int rc = MPI_Allreduce(shape, all, 2, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail(L, "sum_to_root", rc);
    if (all[0] != shape[0] || all[1] != shape[1])
        return luaL_error(L, "pl.mpi.sum_to_root: the ranks hold matrices of different shapes");
    /* x's rows are contiguous only when its stride is its width: packed row by row */
    size_t bytes = (count ? count : 1) * sizeof(double);
    double *buf = malloc(2 * bytes);
    if (!buf) return luaL_error(L, "pl.mpi.sum_to_root: out of memory");
    void **slot = lpl_guard(L, buf, free_ptr);
    for (size_t i = 0; i < x->rows; i++)
        for (size_t j = 0; j < x->cols; j++) buf[i * x->cols + j] = PL_AT(x, i, j);
    rc = tree_sum(buf, buf + (count ? count : 1), count, TAG_SUM);
    if (rc != MPI_SUCCESS) return mpi_fail(L, "sum_to_root", rc);
    rc = MPI_Bcast(buf, (int)count, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail(L, "sum_to_root", rc);
    for (size_t i = 0; i < x->rows; i++)
        for (size_t j = 0; j < x->cols; j++) PL_AT(x, i, j) = buf[i * x->cols + j];
    *slot = NULL;
    free(buf);
    return 0;
}

typedef struct {
    double *pack; /* C + 2·C·D + D·D: n, Sc, Qc, G */
    double *buf;  /* the same length, on the ranks that receive a partial sum */
    pl_stats part;
} share_ctx;

static void share_free(void *p) {
    share_ctx *cx = p;
    free(cx->pack);
    free(cx->buf);
    pl_stats_part_free(&cx->part);
    free(cx);
}

/* Every rank learns whether any rank failed (then each raises: its own message, or which rank
 * failed): no rank is left waiting in a collective. */
static int stats_no_memory(pl_err *err, size_t C, size_t D) {
    return pl_err_set(err, PL_ENOMEM, "pl.mpi.share_stats: out of memory for %zu × %zu "
                      "statistics", C, D);
}

static void share_check(lua_State *L, int rc, const pl_err *err) {
    int me = world_rank(), bad = rc ? me + 1 : 0, worst = 0;
    if (MPI_Allreduce(&bad, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        luaL_error(L, "pl.mpi.share_stats: MPI_Allreduce failed");
    if (rc) lpl_raise(L, err);
    if (worst) luaL_error(L, "pl.mpi.share_stats: rank %d failed reading its rows", worst - 1);
}

static int l_share_stats(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    int n = world_size(), me = world_rank();
    if (n < 2) {
        lua_pushboolean(L, 0);
        return 1;
    }
    size_t N = pl_data_rows(d), D = pl_data_dim(d), C = pl_data_classes(d);
    size_t len = C + 2 * C * D + D * D;
    if (len > (size_t)0x7fffffff)
        return luaL_error(L, "pl.mpi.share_stats: %I × %I statistics are too large",
                          (lua_Integer)C, (lua_Integer)D);
    share_ctx *cx = calloc(1, sizeof *cx);
    if (!cx) return luaL_error(L, "pl.mpi.share_stats: out of memory");
    lpl_guard(L, cx, share_free);
    pl_err err;
    int rc = PL_OK;
    if (!(cx->pack = malloc(len * sizeof(double))))
        rc = stats_no_memory(&err, C, D);
    else if (pl_data_shift(d))
        rc = pl_err_set(&err, PL_EINVAL, "pl.mpi.share_stats: a dataset read from files is "
                        "expected, not a moved one");
    double *origin = cx->pack; /* the origin travels in the pack's first D values */
    if (!rc && me == 0 && len >= D) rc = pl_data_first_origin(d, origin, &err);
    share_check(L, rc, &err);
    if (MPI_Bcast(origin, (int)D, MPI_DOUBLE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        return luaL_error(L, "pl.mpi.share_stats: MPI_Bcast failed");
    double *o = malloc((D ? D : 1) * sizeof *o);
    if (!o) rc = pl_err_set(&err, PL_ENOMEM, "pl.mpi.share_stats: out of memory");
    else memcpy(o, origin, D * sizeof *o);
    void **oslot = lpl_guard(L, o, free_ptr);
    size_t r0 = (size_t)((unsigned long long)N * (unsigned)me / (unsigned)n);
    size_t r1 = (size_t)((unsigned long long)N * (unsigned)(me + 1) / (unsigned)n);
    if (!rc) rc = pl_data_stats_part(d, r0, r1, o, 1, &cx->part, &err);
    if (!rc && me % 2 == 0 && !(cx->buf = malloc(len * sizeof(double))))
        rc = stats_no_memory(&err, C, D);
    share_check(L, rc, &err);
    double *p = cx->pack;
    memcpy(p, cx->part.n, C * sizeof *p);
    memcpy(p + C, cx->part.Sc, C * D * sizeof *p);
    memcpy(p + C + C * D, cx->part.Qc, C * D * sizeof *p);
    memcpy(p + C + 2 * C * D, cx->part.G, D * D * sizeof *p);
    if (tree_sum(p, cx->buf, len, TAG_SHARE) != MPI_SUCCESS)
        return luaL_error(L, "pl.mpi.share_stats: summing the ranks' statistics failed");
    free(cx->buf);
    cx->buf = NULL;
    if (MPI_Bcast(p, (int)len, MPI_DOUBLE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        return luaL_error(L, "pl.mpi.share_stats: MPI_Bcast failed");
    pl_stats sum = {.N = N, .D = D, .C = C, .n = p, .Sc = p + C, .Qc = p + C + C * D,
                    .G = p + C + 2 * C * D, .origin = o};
    rc = pl_data_stats_adopt(d, o, &sum, &err);
    *oslot = NULL;
    free(o);
    if (rc) return lpl_raise(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_rows_read(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    lua_pushinteger(L, (lua_Integer)pl_source_rows_read(pl_data_source(d)));
    return 1;
}

static int l_finish(lua_State *L) {
    int code = (int)luaL_optinteger(L, 1, 0);
    fflush(stdout);
    fflush(stderr);
    reap(L, 1);
    if (started && world_rank() > 0) { /* rank 0 says when it ends (see lpl_mpi_end) */
        MPI_Status st;
        if (wait_for(0, TAG_END, 20000000, &st) == MPI_SUCCESS)
            MPI_Recv(NULL, 0, MPI_CHAR, 0, TAG_END, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    lpl_mpi_end(0);
    exit(code);
}

static int l_abort(lua_State *L) {
    const char *msg = luaL_checkstring(L, 1);
    fprintf(stderr, "pedlab: rank %d: %s\n", world_rank(), msg);
    fflush(stderr);
    if (started) MPI_Abort(MPI_COMM_WORLD, 1);
    exit(EXIT_FAILURE);
}
#else
static int no_mpi(lua_State *L) {
    return luaL_error(L, "pl.mpi: pedlab was built without MPI (install libopenmpi-dev and "
                      "rebuild)");
}

static int l_barrier(lua_State *L) {
    (void)L;
    return 0;
}

static int share_alone(lua_State *L) {
    lpl_checkdata(L, 1);
    lua_pushboolean(L, 0);
    return 1;
}

static int l_sum_to_root(lua_State *L) {
    lpl_checkmatrix(L, 1);
    return 0;
}
#endif

void lpl_open_mpi(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"rank", l_rank},
        {"size", l_size},
        {"barrier", l_barrier},
        {"sum_to_root", l_sum_to_root},
        {"detach", l_detach},
#ifdef PL_MPI
        {"send", l_send},
        {"share_stats", l_share_stats},
        {"rows_read", l_rows_read},
        {"recv", l_recv},
        {"probe", l_probe},
        {"finish", l_finish},
        {"abort", l_abort},
#else
        {"send", no_mpi},
        {"share_stats", share_alone},
        {"rows_read", no_mpi},
        {"recv", no_mpi},
        {"probe", no_mpi},
        {"finish", no_mpi},
        {"abort", no_mpi},
#endif
        {NULL, NULL}};
    luaL_newlib(L, fns);
#ifdef PL_MPI
    lua_pushboolean(L, 1);
#else
    lua_pushboolean(L, 0);
#endif
    lua_setfield(L, -2, "enabled");
    lua_setfield(L, -2, "mpi");
}
