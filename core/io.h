/* io.h — atomic output files: every file pedlab writes goes through here.
 *
 * pl_atomic_begin opens a temporary file in the destination's folder; pl_atomic_commit flushes,
 * fsyncs and renames it over the destination, so a reader sees either the old file or the
 * complete new one, never a partial write. pl_atomic_abort removes the temporary file. */
#ifndef PL_IO_H
#define PL_IO_H

#include <stdio.h>

#include "pl.h"

typedef struct pl_atomic {
    FILE *f;
    char *path;
    char *tmp;
} pl_atomic;

int pl_atomic_begin(pl_atomic *a, const char *path, pl_err *err);
int pl_atomic_commit(pl_atomic *a, pl_err *err);
void pl_atomic_abort(pl_atomic *a);
/* Write a whole buffer atomically. */
int pl_write_file_atomic(const char *path, const void *data, size_t len, pl_err *err);
/* Read a whole file into a NUL-terminated malloc'd buffer. PL_ENOENT when it does not exist. */
int pl_read_file(const char *path, char **out, size_t *len, pl_err *err);

#endif
