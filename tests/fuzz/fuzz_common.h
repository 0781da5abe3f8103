/* fuzz_common.h — helpers shared by the libFuzzer harnesses of tests/fuzz (issue 7).
 *
 * Inputs reach the file readers through a memfd: the readers take paths, and
 * /proc/self/fd/N of a memfd is a real file without touching the disk. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pl.h"

/* Write data to this process's scratch memfd; returns its path. */
static inline const char *fuzz_file(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz", 0);
        if (fd < 0) { perror("memfd_create"); abort(); }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n <= 0) abort();
        done += (size_t)n;
    }
    return path;
}

/* FUZZ_LAX=1 turns off the message-quality checks (one line; names the file), to fuzz past a
 * known, reported message bug; memory errors, crashes and bad status codes still abort. */
static inline int fuzz_lax(void) {
    static int lax = -1;
    if (lax < 0) lax = getenv("FUZZ_LAX") && strcmp(getenv("FUZZ_LAX"), "0") != 0;
    return lax;
}

/* A failing call must leave a status < 0 and a non-empty, NUL-terminated, one-line message. */
static inline void fuzz_check_err(int rc, const pl_err *err, const char *what) {
    if (rc == PL_OK) return;
    if (rc > 0 || err->code != rc || memchr(err->msg, 0, sizeof err->msg) == NULL || err->msg[0] == 0) {
        fprintf(stderr, "%s: bad error record (rc %d, code %d, msg '%.200s')\n", what, rc, err->code, err->msg);
        abort();
    }
    if (!fuzz_lax() && strchr(err->msg, '\n')) {
        fprintf(stderr, "%s: multi-line error message: %s\n", what, err->msg);
        abort();
    }
}

#endif
