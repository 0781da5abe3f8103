/* csvfile.h — numeric CSV tables through libcsv.
 *
 * Reading: an optional header row (detected when any field of the first row is not a number),
 * then rows of numbers, all of the same length. A ragged row or a non-numeric field is an error
 * naming the file, the row and the column (1-based, counting the header as row 1). */
#ifndef PL_CSVFILE_H
#define PL_CSVFILE_H

#include "mat.h"

/* header: if not NULL, receives a malloc'd array of cols malloc'd names (NULL when the file has
 * no header row); free with pl_csv_free_header. */
int pl_csv_load(const char *path, pl_mat *out, char ***header, pl_err *err);
void pl_csv_free_header(char **header, size_t cols);
/* Write atomically; header may be NULL (no header row). Numbers as %.17g. */
int pl_csv_save(const char *path, const pl_mat *m, const char *const *header, pl_err *err);

#endif
