/* pl.h — pedlab core: status codes, the error record, version, interruption.
 *
 * Every fallible function in core/ returns an int status (PL_OK = 0, negative on failure) and
 * fills a caller-provided pl_err with a message that names the file, the field and what was
 * expected. The core never prints and never exits. */
#ifndef PL_H
#define PL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define PL_VERSION "0.1.0"

/* Hot element-wise loops compiled three times, plain x86-64 (SSE2), AVX2 and AVX-512, the copy
 * picked at load time for the CPU (GCC function multi-versioning). No FMA in any: every copy
 * does the same operations lane by lane, so results are bit-identical whichever runs. GCC only:
 * clang 14 names the dispatcher `f.ifunc`, so a clone called from another unit does not link
 * (the fuzz build). */
#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute) && !defined(__clang__)
#if __has_attribute(target_clones)
#define PL_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define PL_HAVE_SIMD_CLONES 1
#endif
#endif
#ifndef PL_SIMD_CLONES
#define PL_SIMD_CLONES
#endif

/* 1 where the AVX-512 copy of the clones runs (32 registers of eight doubles), else 0: a
 * kernel that keeps sixteen such vectors in registers is chosen by it (elsewhere they spill,
 * and a narrower kernel is faster). Both kernels of a pair give the same bits.
 * pl_simd_set_wide(0) makes it 0 (tests run the narrow kernels on any CPU); 1 restores the
 * CPU's answer. */
int pl_simd_wide(void);
void pl_simd_set_wide(int allow);

/* Status codes, one table: name, value and what each means. */
#define PL_ERRORS(X)                                        \
    X(PL_OK, 0, "ok")                                       \
    X(PL_ENOMEM, -1, "out of memory")                       \
    X(PL_EIO, -2, "input/output error")                     \
    X(PL_EFORMAT, -3, "malformed file")                     \
    X(PL_EINVAL, -4, "invalid argument")                    \
    X(PL_ENUMERIC, -5, "numerical failure")                 \
    X(PL_ECALLBACK, -6, "error in a callback")              \
    X(PL_EINTR, -7, "interrupted")                          \
    X(PL_ENOENT, -8, "no such file")

enum {
#define PL_ENUM_(name, val, text) name = val,
    PL_ERRORS(PL_ENUM_)
#undef PL_ENUM_
};

#define PL_ERR_MSG 1024

typedef struct pl_err {
    int code;
    char msg[PL_ERR_MSG];
} pl_err;

/* Fill err (may be NULL) with code and a printf-style message; returns code. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int pl_err_set(pl_err *err, int code, const char *fmt, ...);

/* Prefix an existing message: "ctx: old message". Returns err->code. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int pl_err_prefix(pl_err *err, const char *fmt, ...);

/* Set asynchronously (SIGINT in the REPL); long loops poll pl_check_interrupt. */
extern volatile sig_atomic_t pl_interrupted;
int pl_check_interrupt(pl_err *err);

/* Zeroed allocation that refuses sizes whose product overflows; returns NULL and fills err.
 * Blocks of 4 MB or more are advised to 2 MB pages where the kernel takes them (transparent
 * huge pages in "madvise" mode): a fresh 4 KB page costs a fault on first touch. */
void *pl_alloc(size_t count, size_t size, pl_err *err);
int pl_mul_overflows(size_t a, size_t b, size_t *out);       /* 1 when a*b overflows */
/* This machine's physical memory in bytes (0 when unknown). */
double pl_physical_bytes(void);
/* A metric's table of rows × C doubles (rows = 0: C × C) checked against physical memory
 * before it is allocated: PL_ENOMEM naming who, the classes, the gigabytes and how many
 * classes would fit. */
int pl_check_class_table(const char *who, size_t C, size_t rows, pl_err *err);

/* The NULL-terminated list names into buf (cap bytes), each between two quotes, separated by
 * sep: ("a, b" with ", " and ""; "'unit' or 'count'" with " or " and "'"). A list longer than
 * buf is cut; buf is always NUL-terminated. Returns buf: how every message lists choices. */
char *pl_join(char *buf, size_t cap, const char *const *names, const char *sep,
              const char *quote);

/* fn(ctx, k) for k = 0 .. nblocks−1 over pedlab's threads (OpenBLAS's thread count); work, in
 * element operations, decides whether threads are worth starting. Each block is run by one
 * thread: a caller whose blocks write disjoint results, summed in a fixed order afterwards, gets
 * the same bits for any thread count. A thread that cannot be started leaves its share to the
 * others; an interruption stops handing out blocks (poll pl_check_interrupt after). */
void pl_par_run(void (*fn)(const void *ctx, size_t block), const void *ctx, size_t nblocks,
                size_t work);

#endif
