/* rng.c — MT19937 (Matsumoto & Nishimura 1998) with NumPy RandomState's seeding and draws.
 * Checked against np.random.RandomState in tests/c/test_nleep.c (nleep_rng_numpy). */
#include "rng.h"

#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UPPER 0x80000000u
#define MT_LOWER 0x7fffffffu

static void mt_init(pl_rng *r, uint32_t s) {
    r->key[0] = s;
    for (int i = 1; i < PL_RNG_STATE; i++)
        r->key[i] = 1812433253u * (r->key[i - 1] ^ (r->key[i - 1] >> 30)) + (uint32_t)i;
    r->pos = PL_RNG_STATE;
}

/* The reference init_by_array, as NumPy's mt19937_init_by_array. */
static void mt_init_array(pl_rng *r, const uint32_t *a, int n) {
    mt_init(r, 19650218u);
    int i = 1, j = 0;
    for (int k = PL_RNG_STATE > n ? PL_RNG_STATE : n; k > 0; k--) {
        r->key[i] = (r->key[i] ^ ((r->key[i - 1] ^ (r->key[i - 1] >> 30)) * 1664525u)) + a[j] +
                    (uint32_t)j;
        i++;
        j++;
        if (i >= PL_RNG_STATE) {
            r->key[0] = r->key[PL_RNG_STATE - 1];
            i = 1;
        }
        if (j >= n) j = 0;
    }
    for (int k = PL_RNG_STATE - 1; k > 0; k--) {
        r->key[i] = (r->key[i] ^ ((r->key[i - 1] ^ (r->key[i - 1] >> 30)) * 1566083941u)) -
                    (uint32_t)i;
        i++;
        if (i >= PL_RNG_STATE) {
            r->key[0] = r->key[PL_RNG_STATE - 1];
            i = 1;
        }
    }
    r->key[0] = 0x80000000u;
    r->pos = PL_RNG_STATE;
}

void pl_rng_seed(pl_rng *r, uint64_t seed) {
    if (seed <= 0xffffffffu) {
        mt_init(r, (uint32_t)seed);
    } else {
        uint32_t a[2] = {(uint32_t)(seed & 0xffffffffu), (uint32_t)(seed >> 32)};
        mt_init_array(r, a, 2);
    }
}

static void mt_twist(pl_rng *r) {
    uint32_t *k = r->key;
    int i;
    for (i = 0; i < PL_RNG_STATE - MT_M; i++) {
        uint32_t y = (k[i] & MT_UPPER) | (k[i + 1] & MT_LOWER);
        k[i] = k[i + MT_M] ^ (y >> 1) ^ ((y & 1u) ? MT_MATRIX_A : 0u);
    }
    for (; i < PL_RNG_STATE - 1; i++) {
        uint32_t y = (k[i] & MT_UPPER) | (k[i + 1] & MT_LOWER);
        k[i] = k[i + MT_M - PL_RNG_STATE] ^ (y >> 1) ^ ((y & 1u) ? MT_MATRIX_A : 0u);
    }
    uint32_t y = (k[PL_RNG_STATE - 1] & MT_UPPER) | (k[0] & MT_LOWER);
    k[PL_RNG_STATE - 1] = k[MT_M - 1] ^ (y >> 1) ^ ((y & 1u) ? MT_MATRIX_A : 0u);
    r->pos = 0;
}

uint32_t pl_rng_u32(pl_rng *r) {
    if (r->pos >= PL_RNG_STATE) mt_twist(r);
    uint32_t y = r->key[r->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

uint64_t pl_rng_u64(pl_rng *r) {
    uint64_t hi = pl_rng_u32(r);
    uint64_t lo = pl_rng_u32(r);
    return hi << 32 | lo;
}

double pl_rng_uniform(pl_rng *r) {
    uint32_t a = pl_rng_u32(r) >> 5, b = pl_rng_u32(r) >> 6;
    return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

uint64_t pl_rng_interval(pl_rng *r, uint64_t max) {
    if (max == 0) return 0;
    uint64_t mask = max, v;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    if (max <= 0xffffffffu) {
        while ((v = (pl_rng_u32(r) & mask)) > max) {
        }
    } else {
        while ((v = (pl_rng_u64(r) & mask)) > max) {
        }
    }
    return v;
}

void pl_rng_choice(pl_rng *r, size_t n, size_t m, size_t *idx, size_t *tmp) {
    for (size_t i = 0; i < n; i++) tmp[i] = i;
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)pl_rng_interval(r, i);
        size_t t = tmp[i];
        tmp[i] = tmp[j];
        tmp[j] = t;
    }
    if (idx != tmp)
        for (size_t i = 0; i < m; i++) idx[i] = tmp[i];
}
