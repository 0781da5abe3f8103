/* safetensors.h — the header of a Hugging Face .safetensors file.
 *
 * Layout: an 8-byte little-endian header length n, n bytes of JSON
 * {NAME: {"dtype": "F32", "shape": [N, D], "data_offsets": [begin, end]}, "__metadata__": {...}},
 * then the tensors' raw little-endian bytes (offsets relative to the end of the header).
 * Dtypes F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL. Every tensor's offsets are
 * checked against its shape and the file's size, so a tensor is then streamed with pread like
 * a .npy file. */
#ifndef PL_SAFETENSORS_H
#define PL_SAFETENSORS_H

#include <stdint.h>

#include "npy.h"

typedef struct pl_safetensors {
    size_t n;
    char **names;    /* n names, in the header's order */
    pl_npy *h;       /* n descriptors; data_offset absolute in the file */
} pl_safetensors;

/* 1 when the first bytes (at least 9) look like a safetensors header. */
int pl_safetensors_magic(const unsigned char *b, size_t len);
/* Read and check the header of the file open on fd (size bytes). */
int pl_safetensors_open(int fd, uint64_t size, const char *path, pl_safetensors *st,
                        pl_err *err);
void pl_safetensors_close(pl_safetensors *st);

#endif
