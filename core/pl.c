/* pl.c — status codes, error messages, checked allocation, interruption. */
#include "pl.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

const char *pl_strerror(int code) {
    switch (code) {
#define PL_CASE_(name, val, text) case name: return text;
        PL_ERRORS(PL_CASE_)
#undef PL_CASE_
    default: return "unknown error";
    }
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

void *pl_alloc(size_t count, size_t size, pl_err *err) {
    size_t bytes;
    if (pl_mul_overflows(count, size, &bytes)) {
        pl_err_set(err, PL_ENOMEM, "allocation of %zu × %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p) pl_err_set(err, PL_ENOMEM, "out of memory allocating %zu bytes", bytes);
    return p;
}

/* Large zeroed blocks come fresh from mmap, untouched, so the advice covers their aligned
 * interior (at C = 1000, D = 2048 a C×D array spans 4096 small pages). */
void *pl_alloc_big(size_t count, size_t size, pl_err *err) {
    void *p = pl_alloc(count, size, err);
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (p && count * size >= 2 * huge) {
        uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
        uintptr_t hi = ((uintptr_t)p + count * size) & ~(huge - 1);
        if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#endif
    return p;
}
