/* zip.c — a zip central-directory reader and a checked inflater (see zip.h).
 *
 * Layout (APPNOTE 6.3): local headers and data, then the central directory, then the end
 * record (EOCD, within the last 64 KiB + 22 bytes). When a count, size or offset does not fit
 * its 16- or 32-bit field, the field holds all ones and the value is in a zip64 record: the
 * zip64 end record (found through its locator just before the EOCD) and, per member, the
 * zip64 extra field (id 1) of its directory entry. */
#include "zip.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zlib.h>

#include "io.h"

static unsigned rd16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }
static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}
static uint64_t rd64(const unsigned char *p) {
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

int pl_zip_magic(const unsigned char *b, size_t len) {
    return len >= 4 && b[0] == 'P' && b[1] == 'K' &&
           ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6));
}

void pl_zip_close(pl_zip *z) {
    for (size_t i = 0; i < z->n; i++) free(z->m[i].name);
    free(z->m);
    z->m = NULL;
    z->n = 0;
}

/* The zip64 extra field (id 1) of a directory entry: the values whose 32-bit fields are all
 * ones, in the order usize, csize, local offset. */
static int zip64_extra(const unsigned char *x, size_t len, pl_zip_member *m, int need_u,
                       int need_c, int need_o) {
    while (len >= 4) {
        unsigned id = rd16(x), sz = rd16(x + 2);
        if ((size_t)sz > len - 4) return -1;
        if (id == 1) {
            const unsigned char *p = x + 4;
            size_t left = sz;
            if (need_u) { if (left < 8) return -1; m->usize = rd64(p); p += 8; left -= 8; }
            if (need_c) { if (left < 8) return -1; m->csize = rd64(p); p += 8; left -= 8; }
            if (need_o) { if (left < 8) return -1; m->local = rd64(p); }
            return 0;
        }
        x += 4 + sz;
        len -= 4 + (size_t)sz;
    }
    return need_u || need_c || need_o ? -1 : 0;
}

#define TRUNCATED "truncated zip archive (the directory at its end is missing: the file was " \
                  "cut short; copy it again)"

int pl_zip_open(int fd, const char *path, pl_zip *z, pl_err *err) {
    memset(z, 0, sizeof *z);
    z->fd = fd;
    z->path = path;
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0) return pl_err_set(err, PL_EIO, "%s: cannot seek: %s", path, strerror(errno));
    z->size = (uint64_t)end;
    /* the end record: 22 bytes + a comment of up to 65535, found from the end */
    size_t tail = z->size < 22 + 65535 ? (size_t)z->size : 22 + 65535;
    unsigned char *t = malloc(tail ? tail : 1);
    if (!t) return pl_err_set(err, PL_ENOMEM, "out of memory reading %s", path);
    int rc = pl_pread_all(fd, t, tail, z->size - tail, path, err);
    if (rc) { free(t); return rc; }
    long e = -1;
    for (long i = (long)tail - 22; i >= 0; i--)
        if (t[i] == 'P' && t[i + 1] == 'K' && t[i + 2] == 5 && t[i + 3] == 6 &&
            (size_t)i + 22 + rd16(t + i + 20) <= tail) {
            e = i;
            break;
        }
    if (e < 0) {
        free(t);
        return pl_err_set(err, PL_EFORMAT, "%s: " TRUNCATED, path);
    }
    const unsigned char *r = t + e;
    uint64_t eocd = z->size - tail + (uint64_t)e;
    unsigned disk = rd16(r + 4), cd_disk = rd16(r + 6);
    uint64_t count = rd16(r + 10), cd_size = rd32(r + 12), cd_off = rd32(r + 16);
    if (count == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu) {
        /* zip64: the locator (20 bytes) just before the end record names the zip64 record */
        unsigned char loc[20], z64[56];
        if (eocd < 20 || (rc = pl_pread_all(fd, loc, 20, eocd - 20, path, err))) {
            free(t);
            return rc ? rc : pl_err_set(err, PL_EFORMAT, "%s: corrupt zip64 archive: no zip64 "
                                        "locator", path);
        }
        if (rd32(loc) != 0x07064b50u) {
            free(t);
            return pl_err_set(err, PL_EFORMAT, "%s: corrupt zip64 archive: no zip64 locator", path);
        }
        uint64_t z64off = rd64(loc + 8);
        if (z64off > eocd - 20 || eocd - 20 - z64off < 56 ||
            (rc = pl_pread_all(fd, z64, 56, z64off, path, err)) || rd32(z64) != 0x06064b50u) {
            free(t);
            return rc ? rc : pl_err_set(err, PL_EFORMAT, "%s: corrupt zip64 end record", path);
        }
        disk = (unsigned)rd32(z64 + 16);
        cd_disk = (unsigned)rd32(z64 + 20);
        count = rd64(z64 + 32);
        cd_size = rd64(z64 + 40);
        cd_off = rd64(z64 + 48);
        eocd = z64off;
    }
    free(t);
    if (disk != 0 || cd_disk != 0)
        return pl_err_set(err, PL_EFORMAT, "%s: a multi-part (split) zip archive; expected one "
                          "file", path);
    if (cd_off > eocd || cd_size > eocd - cd_off)
        return pl_err_set(err, PL_EFORMAT, "%s: " TRUNCATED, path);
    if (count > cd_size / 46)
        return pl_err_set(err, PL_EFORMAT, "%s: corrupt zip directory: %llu entries cannot fit "
                          "in %llu bytes", path, (unsigned long long)count,
                          (unsigned long long)cd_size);
    unsigned char *cd = malloc(cd_size ? (size_t)cd_size : 1);
    z->m = pl_alloc(count ? (size_t)count : 1, sizeof *z->m, err);
    if (!cd || !z->m) {
        free(cd);
        free(z->m);
        z->m = NULL;
        return pl_err_set(err, PL_ENOMEM, "out of memory reading the directory of %s", path);
    }
    if ((rc = pl_pread_all(fd, cd, (size_t)cd_size, cd_off, path, err))) goto fail;
    size_t at = 0;
    for (uint64_t i = 0; i < count; i++) {
        const unsigned char *h = cd + at;
        if (cd_size - at < 46 || rd32(h) != 0x02014b50u) {
            rc = pl_err_set(err, PL_EFORMAT, "%s: corrupt zip directory (entry %llu)", path,
                            (unsigned long long)i + 1);
            goto fail;
        }
        size_t nlen = rd16(h + 28), xlen = rd16(h + 30), clen = rd16(h + 32);
        if (cd_size - at - 46 < nlen + xlen + clen) {
            rc = pl_err_set(err, PL_EFORMAT, "%s: corrupt zip directory (entry %llu)", path,
                            (unsigned long long)i + 1);
            goto fail;
        }
        pl_zip_member *m = &z->m[z->n];
        m->flags = rd16(h + 8);
        m->method = rd16(h + 10);
        m->crc = rd32(h + 16);
        m->csize = rd32(h + 20);
        m->usize = rd32(h + 24);
        m->local = rd32(h + 42);
        if (zip64_extra(h + 46 + nlen, xlen, m, m->usize == 0xffffffffu,
                        m->csize == 0xffffffffu, m->local == 0xffffffffu)) {
            rc = pl_err_set(err, PL_EFORMAT, "%s: corrupt zip64 field in the directory entry "
                            "%llu", path, (unsigned long long)i + 1);
            goto fail;
        }
        if (memchr(h + 46, 0, nlen)) {
            rc = pl_err_set(err, PL_EFORMAT, "%s: corrupt zip directory: a member name holds a "
                            "NUL byte", path);
            goto fail;
        }
        if (!(m->name = malloc(nlen + 1))) {
            rc = pl_err_set(err, PL_ENOMEM, "out of memory reading the directory of %s", path);
            goto fail;
        }
        memcpy(m->name, h + 46, nlen);
        m->name[nlen] = 0;
        char *shown = pl_escaped_name(m->name);   /* feat\x01 and feat\x02 stay apart */
        if (!shown) {
            free(m->name);
            rc = pl_err_set(err, PL_ENOMEM, "out of memory reading the directory of %s", path);
            goto fail;
        }
        free(m->name);
        m->name = shown;
        z->n++;
        at += 46 + nlen + xlen + clen;
    }
    free(cd);
    return PL_OK;
fail:
    free(cd);
    pl_zip_close(z);
    return rc;
}

int pl_zip_data_offset(const pl_zip *z, const pl_zip_member *m, uint64_t *off, pl_err *err) {
    if (m->flags & 1)
        return pl_err_set(err, PL_EFORMAT, "%s: member %s is encrypted; pedlab reads "
                          "unencrypted archives only", z->path, m->name);
    if (m->method != 0 && m->method != 8)
        return pl_err_set(err, PL_EFORMAT, "%s: member %s uses compression method %u; pedlab "
                          "reads stored (0) and deflate (8) members, as np.savez and "
                          "np.savez_compressed write them", z->path, m->name, m->method);
    if (m->method == 0 && m->csize != m->usize)
        return pl_err_set(err, PL_EFORMAT, "%s: corrupt zip directory: stored member %s has "
                          "%llu bytes compressed but %llu uncompressed", z->path, m->name,
                          (unsigned long long)m->csize, (unsigned long long)m->usize);
    unsigned char h[30];
    int rc;
    if (m->local > z->size || z->size - m->local < 30)
        return pl_err_set(err, PL_EFORMAT, "%s: truncated zip archive: member %s starts "
                          "beyond the end of the file", z->path, m->name);
    if ((rc = pl_pread_all(z->fd, h, 30, m->local, z->path, err))) return rc;
    if (rd32(h) != 0x04034b50u)
        return pl_err_set(err, PL_EFORMAT, "%s: corrupt zip archive: no local header where "
                          "the directory places member %s", z->path, m->name);
    uint64_t data = m->local + 30 + rd16(h + 26) + rd16(h + 28);
    if (data > z->size || z->size - data < m->csize)
        return pl_err_set(err, PL_EFORMAT, "%s: truncated zip archive: member %s needs %llu "
                          "bytes from offset %llu, the file has %llu", z->path, m->name,
                          (unsigned long long)m->csize, (unsigned long long)data,
                          (unsigned long long)z->size);
    *off = data;
    return PL_OK;
}

int pl_zip_crc_range(int fd, uint64_t off, uint64_t len, uint32_t *crc, const char *name,
                     pl_err *err) {
    enum { CHUNK = 1 << 18 };
    unsigned char *b = malloc(CHUNK);
    if (!b) return pl_err_set(err, PL_ENOMEM, "out of memory checking %s", name);
    uLong c = *crc;
    int rc = PL_OK;
    while (len > 0 && !rc) {
        size_t n = len < CHUNK ? (size_t)len : CHUNK;
        if (!(rc = pl_pread_all(fd, b, n, off, name, err))) c = crc32(c, b, (uInt)n);
        off += n;
        len -= n;
    }
    free(b);
    *crc = (uint32_t)c;
    return rc;
}

static int write_all(int fd, const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int pl_zip_inflate(const pl_zip *z, const pl_zip_member *m, int out, pl_err *err) {
    enum { CHUNK = 1 << 18 };
    uint64_t off;
    int rc = pl_zip_data_offset(z, m, &off, err);
    if (rc) return rc;
    /* deflate cannot expand beyond 1032:1 (a run of 258 bytes in 2 bits): a directory that
     * claims more is corrupt or a zip bomb */
    if (m->usize / 1032 > m->csize + 1)
        return pl_err_set(err, PL_EFORMAT, "%s: member %s claims %llu bytes from %llu "
                          "compressed, more than deflate can produce (a zip bomb or a corrupt "
                          "archive)", z->path, m->name, (unsigned long long)m->usize,
                          (unsigned long long)m->csize);
    struct statvfs vs;
    if (fstatvfs(out, &vs) == 0 && vs.f_frsize > 0 &&
        m->usize / vs.f_frsize >= (uint64_t)vs.f_bavail)
        return pl_err_set(err, PL_EIO, "%s: member %s inflates to %llu bytes, more than the "
                          "%llu free in the temporary folder (TMPDIR names another one)",
                          z->path, m->name, (unsigned long long)m->usize,
                          (unsigned long long)vs.f_bavail * vs.f_frsize);
    unsigned char *in = malloc(CHUNK), *buf = malloc(CHUNK);
    z_stream s;
    memset(&s, 0, sizeof s);
    if (!in || !buf || inflateInit2(&s, -MAX_WBITS) != Z_OK) {
        free(in);
        free(buf);
        return pl_err_set(err, PL_ENOMEM, "out of memory inflating %s from %s", m->name,
                          z->path);
    }
    uint64_t left = m->csize, done = 0;
    uLong crc = crc32(0, NULL, 0);
    int zr = Z_OK;
    while (zr != Z_STREAM_END && !rc) {
        if (s.avail_in == 0) {
            if (left == 0) {
                rc = pl_err_set(err, PL_EFORMAT, "%s: member %s: the compressed data ends "
                                "early (corrupt or truncated archive)", z->path, m->name);
                break;
            }
            size_t n = left < CHUNK ? (size_t)left : CHUNK;
            if ((rc = pl_pread_all(z->fd, in, n, off, z->path, err))) break;
            off += n;
            left -= n;
            s.next_in = in;
            s.avail_in = (uInt)n;
            if ((rc = pl_check_interrupt(err))) break;
        }
        s.next_out = buf;
        s.avail_out = CHUNK;
        zr = inflate(&s, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
            rc = pl_err_set(err, PL_EFORMAT, "%s: member %s: corrupt compressed data (%s)",
                            z->path, m->name, s.msg ? s.msg : "inflate failed");
            break;
        }
        size_t got = CHUNK - s.avail_out;
        if (got > m->usize - done) {
            rc = pl_err_set(err, PL_EFORMAT, "%s: member %s inflates to more than the %llu "
                            "bytes its directory entry declares (a zip bomb or a corrupt "
                            "archive)", z->path, m->name, (unsigned long long)m->usize);
            break;
        }
        crc = crc32(crc, buf, (uInt)got);
        done += got;
        if (got && write_all(out, buf, got))
            rc = pl_err_set(err, PL_EIO, "%s: member %s: cannot write its inflated copy to the "
                            "temporary folder: %s", z->path, m->name, strerror(errno));
    }
    inflateEnd(&s);
    free(in);
    free(buf);
    if (rc) return rc;
    if (done != m->usize)
        return pl_err_set(err, PL_EFORMAT, "%s: member %s inflates to %llu bytes; its directory "
                          "entry declares %llu (corrupt archive)", z->path, m->name,
                          (unsigned long long)done, (unsigned long long)m->usize);
    if ((uint32_t)crc != m->crc)
        return pl_err_set(err, PL_EFORMAT, "%s: member %s: CRC-32 mismatch (%08x, the directory "
                          "says %08x): the archive is corrupt", z->path, m->name,
                          (unsigned)crc, (unsigned)m->crc);
    return PL_OK;
}
