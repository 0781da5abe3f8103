/* zip.h — the central directory of a zip archive (an .npz file is one), read with pread.
 *
 * pedlab reads zip archives with this small reader and zlib rather than a zip library because
 * a stored member is a byte range of the archive: knowing its offset, the member is streamed
 * with pread exactly like a .npy file, with no copy (libzip, for one, does not give a member's
 * offset). Members stored (method 0) or deflated (method 8), with zip64 sizes and offsets.
 * Encrypted members, other methods and multi-disk archives are refused with a message naming
 * the archive and the member. Every size and offset is checked against the file's size. */
#ifndef PL_ZIP_H
#define PL_ZIP_H

#include <stdint.h>

#include "pl.h"

typedef struct pl_zip_member {
    char *name;          /* as stored (bytes, NUL-free) */
    unsigned method;     /* 0 stored, 8 deflate */
    unsigned flags;      /* general purpose flags (bit 0: encrypted) */
    uint32_t crc;        /* CRC-32 of the uncompressed bytes */
    uint64_t csize, usize;
    uint64_t local;      /* offset of the member's local header */
} pl_zip_member;

typedef struct pl_zip {
    int fd;              /* borrowed */
    const char *path;    /* borrowed, for messages */
    uint64_t size;       /* of the file */
    size_t n;
    pl_zip_member *m;
} pl_zip;

/* 1 when the first bytes (at least 4) start a zip archive. */
int pl_zip_magic(const unsigned char *b, size_t len);
/* Read the central directory of the archive open on fd. On failure z holds nothing. */
int pl_zip_open(int fd, const char *path, pl_zip *z, pl_err *err);
void pl_zip_close(pl_zip *z);
/* The offset of m's data (after its local header), after checking that m is readable
 * (not encrypted, stored or deflated) and that its data lies within the file. */
int pl_zip_data_offset(const pl_zip *z, const pl_zip_member *m, uint64_t *off, pl_err *err);
/* Inflate the deflated member m into the file out (written from its current position),
 * refusing sizes deflate cannot produce (a zip bomb or a corrupt directory), output beyond
 * the declared size, a short stream and a CRC-32 that does not match. */
int pl_zip_inflate(const pl_zip *z, const pl_zip_member *m, int out, pl_err *err);
/* CRC-32 of len bytes of fd at off, continuing crc (start with 0). */
int pl_zip_crc_range(int fd, uint64_t off, uint64_t len, uint32_t *crc, const char *name,
                     pl_err *err);

#endif
