/* pl.c — status codes, error messages, checked allocation, interruption, threads. */
#include "pl.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

volatile sig_atomic_t pl_interrupted = 0;

int pl_err_set(pl_err *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int pl_err_prefix(pl_err *err, const char *fmt, ...) {
    if (!err) return PL_EINVAL;
    char head[PL_ERR_MSG], old[PL_ERR_MSG];
    size_t hl;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    hl = strlen(head);
    if (hl > sizeof err->msg - 3) hl = sizeof err->msg - 3;
    memcpy(err->msg, head, hl);
    memcpy(err->msg + hl, ": ", 2);
    size_t rest = sizeof err->msg - hl - 3, ol = strlen(old);
    if (ol > rest) ol = rest;
    memcpy(err->msg + hl + 2, old, ol);
    err->msg[hl + 2 + ol] = 0;
    return err->code;
}

int pl_check_interrupt(pl_err *err) {
    if (!pl_interrupted) return PL_OK;
    pl_interrupted = 0;
    return pl_err_set(err, PL_EINTR, "interrupted");
}

int pl_mul_overflows(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 1;
    if (out) *out = a * b;
    return 0;
}

static atomic_int simd_allow = 1;

int pl_simd_wide(void) {
#ifdef PL_HAVE_SIMD_CLONES
    return atomic_load(&simd_allow) && __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

void pl_simd_set_wide(int allow) { atomic_store(&simd_allow, allow != 0); }

/* Freed blocks stay with the process for the next cell to reuse. glibc returns a block of
 * 128 KB or more to the kernel when it is freed (an mmap of its own, or the top of the heap
 * trimmed past a threshold), and a block taken again from the kernel costs a fault and a
 * zeroed page for every page touched (some 10 µs per 4 KB page on a virtual machine): PED at
 * C = 1000 touches some 150 MB of fresh blocks per run. Blocks under 32 MB come from the heap
 * and up to 256 MB of free heap is kept; the peak is unchanged. */
static void heap_policy(void) {
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    (void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
    (void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

void *pl_alloc(size_t count, size_t size, pl_err *err) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, heap_policy);
    size_t bytes;
    if (pl_mul_overflows(count, size, &bytes)) {
        pl_err_set(err, PL_ENOMEM, "allocation of %zu × %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p) {
        pl_err_set(err, PL_ENOMEM, "out of memory allocating %zu bytes", bytes);
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    /* Large zeroed blocks come fresh from mmap, untouched, so the advice covers their aligned
     * interior: a 32 MB Gram spans 8192 small pages, each a fault on first touch */
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (bytes >= 2 * huge) {
        uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
        uintptr_t hi = ((uintptr_t)p + bytes) & ~(huge - 1);
        if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#endif
    return p;
}

/* ---------- threads ----------
 * pedlab's one thread setting is OpenBLAS's (--threads, PEDLAB_THREADS, pl.set_threads). The
 * threads are started per pass (a pass is long when it is worth splitting) and joined before it
 * returns. */
#define PAR_MAX_THREADS 64
/* Element operations below which a pass stays on the calling thread (about 1 ms of work):
 * starting and joining a thread takes some 30 µs on an idle machine, but a thread started on
 * a busy one may wait a time slice (milliseconds) before it runs. */
#define PAR_MIN_WORK ((size_t)1 << 22)

typedef struct par_job {
    void (*fn)(const void *ctx, size_t block);
    const void *ctx;
    size_t nblocks;
    atomic_size_t next;
} par_job;

static void *par_worker(void *arg) {
    par_job *p = arg;
    size_t k;
    /* an interruption stops handing out blocks; the caller polls pl_check_interrupt after */
    while (!pl_interrupted && (k = atomic_fetch_add(&p->next, 1)) < p->nblocks)
        p->fn(p->ctx, k);
    return NULL;
}

static size_t par_threads(void) {
    int n = openblas_get_num_threads();
    return n < 1 ? 1 : n > PAR_MAX_THREADS ? PAR_MAX_THREADS : (size_t)n;
}

void pl_par_run(void (*fn)(const void *, size_t), const void *ctx, size_t nblocks, size_t work) {
    par_job p;
    p.fn = fn;
    p.ctx = ctx;
    p.nblocks = nblocks;
    atomic_init(&p.next, 0);
    size_t nt = work < PAR_MIN_WORK ? 1 : par_threads();
    if (nt > nblocks) nt = nblocks;
    pthread_t tid[PAR_MAX_THREADS];
    size_t started = 0;
    for (size_t t = 1; t < nt; t++) {
        if (pthread_create(&tid[started], NULL, par_worker, &p) != 0) break;
        started++;
    }
    par_worker(&p);
    for (size_t t = 0; t < started; t++) pthread_join(tid[t], NULL);
}

/* s appended to buf[0 .. *len) as far as it fits in cap bytes. */
static void append(char *buf, size_t cap, size_t *len, const char *s) {
    size_t l = strlen(s);
    if (*len + 1 >= cap) return;
    if (l > cap - 1 - *len) l = cap - 1 - *len;
    memcpy(buf + *len, s, l);
    *len += l;
    buf[*len] = 0;
}

char *pl_join(char *buf, size_t cap, const char *const *names, const char *sep,
              const char *quote) {
    size_t len = 0;
    if (!cap) return buf;
    buf[0] = 0;
    for (size_t i = 0; names[i]; i++) {
        if (i) append(buf, cap, &len, sep);
        append(buf, cap, &len, quote);
        append(buf, cap, &len, names[i]);
        append(buf, cap, &len, quote);
    }
    return buf;
}

double pl_physical_bytes(void) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 0;
}

int pl_check_class_table(const char *who, size_t C, size_t rows, pl_err *err) {
    double have = pl_physical_bytes(), r = rows ? (double)rows : (double)C;
    double need = 8.0 * r * (double)C;
    if (have == 0 || need <= have) return PL_OK;
    double fit = rows ? floor(have / (8.0 * r)) : floor(sqrt(have / 8.0));
    return pl_err_set(err, PL_ENOMEM, "%s: %zu classes need a %.0f×%zu table of %.3g GB, more "
                      "than this machine's %.3g GB of memory; at most about %.0f classes fit",
                      who, C, r, C, need / 1e9, have / 1e9, fit);
}
